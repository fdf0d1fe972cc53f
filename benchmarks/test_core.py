"""The core against scikit-learn, same work: Lloyd iterations from the same init, k-means++
seeding with the same seed, and the cost of compiling the kernels."""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.cluster import kmeans_plusplus as sklearn_kmeans_plusplus

from kmeans_scratch import KMeans, kmeans_plusplus
from kmeans_scratch._elkan import BOUNDS_BUDGET_BYTES
from kmeans_scratch.compression._histogram import color_histogram

from .contenders import alternate, every_row_kept, fit_seconds
from .datasets import blobs, tfidf_like, tiled_china

LIBRARIES = {"kmeans_scratch": KMeans, "scikit-learn": SklearnKMeans}


@pytest.fixture(scope="module")
def pixels(smoke):
    """``china.jpg`` tiled to 1.1 million pixels (20,000 in the smoke run)."""
    return tiled_china(20_000 if smoke else 1_100_000)


def side_by_side(benchmark, recorder, table, estimators, X, rounds, **fields):
    """Time each library's estimator (``{library: estimator}``) fitting ``X``, ``rounds``
    times each, the libraries alternating round by round (the order reversed every other
    round: a busy phase of the machine hits both), and record each one's median with its
    ``n_iter`` and ``inertia`` (the estimators keep their last fit)."""
    runs = {
        library: partial(fit_seconds, estimator, X) for library, estimator in estimators.items()
    }
    times = benchmark.pedantic(alternate, args=(runs, rounds), rounds=1, iterations=1)
    for library, estimator in estimators.items():
        recorder.add_seconds(
            table,
            benchmark,
            statistics.median(times[library]),
            library=library,
            n_iter=estimator.n_iter_,
            inertia=estimator.inertia_,
            **fields,
        )


@pytest.mark.parametrize("k", [16, 64, 256])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lloyd_iterations(benchmark, recorder, smoke, timed_rounds, pixels, dtype, k):
    X = pixels.astype(dtype)
    init = X[np.random.RandomState(k).choice(X.shape[0], k, replace=False)]
    estimators = {
        library: make(k, init=init, n_init=1, tol=0, max_iter=20)
        for library, make in LIBRARIES.items()
    }
    with warnings.catch_warnings():  # the first 5,000 rows hold fewer than k colors
        warnings.simplefilter("ignore")
        for make in LIBRARIES.values():
            make(8, init=init[:8], n_init=1, max_iter=1).fit(X[:5000])  # warm up
    with every_row_kept():  # same work: ours does not collapse the repeated rows here
        side_by_side(
            benchmark, recorder, "lloyd-iterations", estimators, X, timed_rounds(5),
            dtype=dtype, k=k, n_rows=X.shape[0],
        )  # fmt: skip
    for estimator in estimators.values():  # the 20,000 smoke pixels may converge sooner
        assert estimator.n_iter_ == 20 or smoke


#: The widths of the dense grid (issue 24): pixels to embeddings and MNIST's 784.
WIDTHS = [2, 3, 8, 16, 32, 64, 128, 300, 784]


def wide_blobs(n_features, n_clusters, dtype, smoke):
    """Gaussian blobs with n·d ≈ 10⁷ values (10⁵ in the smoke run, and at least 4 rows per
    cluster): ``n_clusters`` centers of spread 3, unit noise."""
    n_samples = max((10**5 if smoke else 10**7) // n_features, 4 * n_clusters)
    rng = np.random.default_rng(n_features * 1000 + n_clusters)
    centers = rng.normal(0, 3, (n_clusters, n_features))
    noise = rng.normal(0, 1, (n_samples, n_features))
    return (centers[rng.integers(0, n_clusters, n_samples)] + noise).astype(dtype)


@pytest.mark.grid
@pytest.mark.parametrize("k", [8, 64, 256])
@pytest.mark.parametrize("n_features", WIDTHS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
def test_at_every_width(benchmark, recorder, smoke, timed_rounds, algorithm, dtype, n_features, k):
    """20 iterations (``tol=0``) of ``algorithm`` from the same init, ours and
    scikit-learn's alternating, on dense data of every width: for Lloyd the tile kernel
    for narrow rows, BLAS for wide ones; Elkan's bounds skip what they can (ours where they
    pay: by the shape, ``kmeans_scratch._fit.elkan_pays``, then by the rows after the first
    step, ``kmeans_scratch._bounds.BoundedAssignment``; else Lloyd's step: the same fit).
    Our "lloyd" on wide rows with 64 centers or more runs Hamerly's step as it runs
    (``kmeans_scratch._fit.lloyd_runs_hamerly``): Lloyd's fit, bit for bit."""
    X = wide_blobs(n_features, k, dtype, smoke)
    if algorithm == "elkan" and X.shape[0] * k * 8 > BOUNDS_BUDGET_BYTES:
        pytest.skip(
            f"Elkan's bounds would take n·k·8 = {X.shape[0] * k * 8 / 2**30:.1f} GiB: "
            "scikit-learn's would hold them; ours, over its 2 GiB budget, refuses where it "
            "runs Elkan's bounds (and names hamerly)"
        )
    init = X[np.random.RandomState(k).choice(X.shape[0], k, replace=False)] + X.dtype.type(0.01)
    estimators = {}
    for library, make in LIBRARIES.items():
        make(k, init=init, n_init=1, max_iter=1, algorithm=algorithm).fit(X[: 4 * k])  # warm up
        estimators[library] = make(k, init=init, n_init=1, tol=0, max_iter=20, algorithm=algorithm)
    # the whole fit as a user runs it: our search for repeated rows gives up on blobs
    table = "lloyd-widths" if algorithm == "lloyd" else "elkan-widths"
    side_by_side(
        benchmark, recorder, table, estimators, X, timed_rounds(5),
        dtype=dtype, n_features=n_features, k=k, n_rows=X.shape[0],
    )  # fmt: skip


@pytest.fixture(scope="module")
def text_rows(smoke):
    """TF-IDF-like rows: 20,000 × 20,000 with 0.3 % of the entries drawn (about 47 nonzeros
    a row once repeats are summed); 2,000 × 2,000 in the smoke run."""
    n = 2_000 if smoke else 20_000
    return tfidf_like(n, n, 0.003, seed=0)


@pytest.mark.grid
@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sparse_text(benchmark, recorder, timed_rounds, text_rows, dtype, algorithm):
    """At most 20 iterations (``tol=0``) of each library's ``algorithm`` from the same init
    (20 rows), alternating, on CSR rows like TF-IDF, k = 20 (issue 24)."""
    X = text_rows.astype(dtype)
    init = X[np.random.RandomState(20).choice(X.shape[0], 20, replace=False)].toarray()
    estimators = {}
    for library, make in LIBRARIES.items():
        make(20, init=init, n_init=1, max_iter=1, algorithm=algorithm).fit(X[:100])  # warm up
        estimators[library] = make(20, init=init, n_init=1, tol=0, max_iter=20, algorithm=algorithm)
    side_by_side(
        benchmark, recorder, "sparse-text", estimators, X, timed_rounds(5),
        dtype=dtype, algorithm=algorithm, n_rows=X.shape[0], n_features=X.shape[1], nnz=X.nnz,
    )  # fmt: skip


SEEDERS = {"kmeans_scratch": kmeans_plusplus, "scikit-learn": sklearn_kmeans_plusplus}


def seeding_data(name, pixels):
    """(X, sample_weight): the tiled pixels as rows, their distinct colors with counts, or
    blobs of 64 features (wide rows: the distances through BLAS)."""
    if name == "pixels":
        return pixels.astype(np.float64), None
    if name == "blobs, d = 64":
        return blobs(64), None
    histogram = color_histogram(pixels[None])  # distinct colors, in Morton order
    return histogram.colors.astype(np.float64), histogram.counts.astype(np.float64)


@pytest.mark.parametrize("library", list(SEEDERS))
@pytest.mark.parametrize("k", [16, 64, 256])
@pytest.mark.parametrize("data", ["pixels", "distinct colors", "blobs, d = 64"])
def test_kmeans_plusplus(benchmark, recorder, pixels, data, k, library):
    X, weights = seeding_data(data, pixels)
    seed = SEEDERS[library]
    _, indices = benchmark.pedantic(
        seed, args=(X, k), kwargs={"sample_weight": weights, "random_state": 0}, rounds=3
    )
    other = "scikit-learn" if library == "kmeans_scratch" else "kmeans_scratch"
    _, other_indices = SEEDERS[other](X, k, sample_weight=weights, random_state=0)
    same_seeds = bool(np.array_equal(indices, other_indices))
    assert same_seeds, "the README promises scikit-learn's seeds for the same random_state"
    recorder.add(
        "seeding",
        benchmark,
        library=library,
        data=f"{data} ({X.shape[0]:,} rows)",
        k=k,
        same_seeds=same_seeds,
    )


FIRST_FIT = """
import time
import numpy as np
from kmeans_scratch import KMeans
X = np.random.RandomState(0).normal(size=(1000, 3))
start = time.perf_counter()
KMeans(8, random_state=0).fit(X)
print(time.perf_counter() - start)
"""


@pytest.mark.parametrize("cache", ["empty (cold compile)", "warm (left by the first process)"])
def test_first_fit_in_a_new_process(benchmark, recorder, numba_cache_dir, cache):
    """The first ``fit`` of a new process, timed inside that process (imports excluded).

    The warm case leaves the kernels compiled by an untimed process first when the cache
    has none (run alone, or before the cold case), so it never times a compile.
    """
    env = {**os.environ, "NUMBA_CACHE_DIR": numba_cache_dir}
    if cache.startswith("empty"):
        shutil.rmtree(numba_cache_dir)
        os.mkdir(numba_cache_dir)

    def first_fit():
        result = subprocess.run(
            [sys.executable, "-c", FIRST_FIT], env=env, capture_output=True, text=True, check=True
        )
        return float(result.stdout)

    if cache.startswith("warm") and not any(Path(numba_cache_dir).rglob("*.nbi")):
        first_fit()
    seconds = benchmark.pedantic(first_fit, rounds=1, iterations=1)
    recorder.add_seconds("compile", benchmark, seconds, cache=cache)


@pytest.fixture(scope="module")
def numba_cache_dir():
    with tempfile.TemporaryDirectory() as directory:
        yield directory
