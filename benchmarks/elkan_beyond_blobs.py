"""Whether Elkan's bounds pay beyond Gaussian blobs, where ``_fit.elkan_pays`` was measured,
and whether ``ElkanAssignment.skip_share`` tells the rows where they pay from the others.

    .venv/bin/python -m benchmarks.elkan_beyond_blobs [--quick]

Three kinds of data, n·d = 10⁷ rows by features:

- *blobs*: Gaussian blobs, 100 centers (``benchmarks.datasets.blobs``), where the bounds
  paid on the grid of ``make bench-widths``;
- *embeddings*: a rank-24 signal plus noise, every row scaled to unit length (as sentence
  or image embeddings are);
- *classification*: scikit-learn's ``make_classification`` (8 classes of 8 clusters, 32
  informative features at most).

For d = 32, 64, 128, 300, k = 16, 64, 256, float64 and float32, from the same k-means++
centers, 20 iterations (``tol=0``), one init, medians of 3 alternating rounds after a
warm-up:

1. our ``algorithm="elkan"`` with its bounds in every cell (both rules off) over our
   Lloyd: what the bounds cost or save; the rule of the rows' shape (``elkan_pays``), the
   share of pairs the centers rule out after the first step (``skip_share``) and
   whether the bounds then run;
2. in the cells where the shape rule lets the rows decide (float64, d ≥ 64, k ≥ 64): our
   ``algorithm="elkan"`` as it is over scikit-learn's, and both libraries' Lloyd.

A run of about 25 minutes (``--quick``: d = 64 and 300 only, about 10).
"""

import argparse
import contextlib

import numpy as np
from sklearn.cluster import KMeans as ScikitLearnKMeans
from sklearn.cluster import kmeans_plusplus
from sklearn.datasets import make_classification

from kmeans_scratch import KMeans, _bounds, _fit

from .contenders import fit_seconds
from .datasets import blobs

N_TIMES_D = 10_000_000
ROUNDS = 3


def embeddings(n_samples, n_features, rng):
    """Rows of a rank-24 signal plus noise, scaled to unit length."""
    signal = rng.standard_normal((n_samples, 24)) @ rng.standard_normal((24, n_features))
    rows = signal + 0.5 * np.abs(signal).mean() * rng.standard_normal(signal.shape)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def classification(n_samples, n_features, rng):
    """``make_classification``: 8 classes of 8 clusters each."""
    rows, _ = make_classification(
        n_samples, n_features, n_informative=min(n_features, 32), n_redundant=0,
        n_classes=8, n_clusters_per_class=8, random_state=0,
    )  # fmt: skip
    return rows


def gaussian_blobs(n_samples, n_features, rng):
    """Gaussian blobs around 100 centers (``benchmarks.datasets.blobs``)."""
    return blobs(n_features, n_samples)


DATASETS = {"blobs": gaussian_blobs, "embeddings": embeddings, "classification": classification}


LIBRARIES = {"ours": KMeans, "sklearn": ScikitLearnKMeans}


def twenty_iterations(library, algorithm, init):
    """An estimator of ``library`` running 20 iterations of ``algorithm`` from ``init``."""
    return LIBRARIES[library](
        init.shape[0], init=init, n_init=1, max_iter=20, tol=0, algorithm=algorithm
    )


def medians(contenders, X, init):
    """{(library, algorithm): median seconds} of :func:`twenty_iterations` for each of
    ``contenders``, alternated.  Our "lloyd" is Lloyd's step at every iteration here
    (:func:`plain_lloyd`), the denominator of the bounds' ratios."""
    for contender in contenders:
        timed_fit(contender, X, init)  # warm-up: compiles, caches
    times = {contender: [] for contender in contenders}
    for _ in range(ROUNDS):
        for contender in contenders:
            times[contender].append(timed_fit(contender, X, init))
    return {contender: float(np.median(seconds)) for contender, seconds in times.items()}


def timed_fit(contender, X, init):
    """Seconds of one fit of ``contender`` = (library, algorithm) on ``X``."""
    plain = plain_lloyd() if contender == ("ours", "lloyd") else contextlib.nullcontext()
    with plain:
        return fit_seconds(twenty_iterations(*contender, init), X)


@contextlib.contextmanager
def plain_lloyd():
    """Our "lloyd" runs Lloyd's step at every iteration, also where it would run
    Hamerly's as it runs (wide rows, many clusters: ``_fit.lloyd_runs_hamerly``)."""
    rule = _fit.lloyd_runs_hamerly
    _fit.lloyd_runs_hamerly = lambda n_samples, n_features, n_clusters: False
    try:
        yield
    finally:
        _fit.lloyd_runs_hamerly = rule


@contextlib.contextmanager
def bounds_everywhere():
    """Our ``algorithm="elkan"`` and ``"hamerly"`` run their bounds on any rows:
    ``_fit.elkan_pays`` true, and the steps do not measure the rows."""
    rule = _fit.elkan_pays
    _fit.elkan_pays = lambda dtype, n_features, n_clusters: True
    _bounds.BoundedAssignment.bounds_only_where_they_pay = False
    try:
        yield
    finally:
        _fit.elkan_pays = rule
        _bounds.BoundedAssignment.bounds_only_where_they_pay = True


def bounds_over_lloyd(X, init, algorithm):
    """Our ``algorithm`` with its bounds on any rows over our Lloyd (medians)."""
    with bounds_everywhere():
        m = medians([("ours", algorithm), ("ours", "lloyd")], X, init)
    return m["ours", algorithm] / m["ours", "lloyd"]


def measured_share(X, init, algorithm):
    """``(share, whether the bounds then ran)``: what our ``algorithm``'s step measured
    after its first step (``skip_share``; for Elkan whatever the shape of the rows; for
    Hamerly measured even where the number of clusters rules the bounds out,
    ``may_pay``)."""
    step_class = _fit.ALGORITHMS[algorithm]
    measure, may_pay = step_class.skip_share, step_class.may_pay
    made, allowed = [], []

    def spied(step, *args):
        made.append((step, measure(step, *args)))
        return made[-1][1]

    def recorded(step, n_clusters):
        allowed.append(may_pay(step, n_clusters))
        return True

    rule = _fit.elkan_pays
    _fit.elkan_pays = lambda dtype, n_features, n_clusters: True
    step_class.skip_share, step_class.may_pay = spied, recorded
    try:
        twenty_iterations("ours", algorithm, init).set_params(max_iter=2).fit(X)
    finally:
        step_class.skip_share, step_class.may_pay = measure, may_pay
        _fit.elkan_pays = rule
    step, share = made[0]
    return share, step.runs_bounds and allowed[0]


def table_row(name, X, k):
    """The row of the table for ``k`` clusters on the rows ``X`` of dataset ``name``."""
    init, _ = kmeans_plusplus(X, k, random_state=0)
    forced = bounds_over_lloyd(X, init, "elkan")
    shape_allows = _fit.elkan_pays(X.dtype, X.shape[1], k)
    share, rows_allow = measured_share(X, init, "elkan")
    peers = "– | –"
    if shape_allows:
        m = medians([(library, a) for a in ("elkan", "lloyd") for library in LIBRARIES], X, init)
        peers = " | ".join(f"{m['ours', a] / m['sklearn', a]:.2f}" for a in ("elkan", "lloyd"))
    runs = "bounds" if shape_allows and rows_allow else "Lloyd"
    shape = "yes" if shape_allows else "no"
    return markdown_row(name, X, k, f"{forced:.2f}", shape, f"{share:.2f}", runs, peers)


def markdown_row(name, X, k, *cells):
    """``| name | dtype | d | k | cells… |``."""
    return "| " + " | ".join([name, X.dtype.name, str(X.shape[1]), str(k), *cells]) + " |"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="d = 64 and 300 only")
    args = parser.parse_args(argv)
    print_table(
        ["bounds ÷ our Lloyd", "shape allows", "skip share", "runs", "ours ÷ sklearn, elkan",
         "ours ÷ sklearn, lloyd"],
        table_row,
        (64, 300) if args.quick else (32, 64, 128, 300),
    )  # fmt: skip


def print_table(columns, table_row, widths):
    """A Markdown table: data, dtype, d, k and ``columns``, a row (``table_row(name, rows,
    k)``) for each dataset, width in ``widths``, dtype and k = 16, 64, 256."""
    print("| data | dtype | d | k | " + " | ".join(columns) + " |")
    print("|---|---|---:|---:|" + "---:|" * len(columns))
    rng = np.random.default_rng(0)
    for name, make_data in DATASETS.items():
        for n_features in widths:
            rows = make_data(N_TIMES_D // n_features, n_features, rng)
            for dtype in (np.float64, np.float32):
                for k in (16, 64, 256):
                    print(table_row(name, rows.astype(dtype), k), flush=True)


if __name__ == "__main__":
    main()
