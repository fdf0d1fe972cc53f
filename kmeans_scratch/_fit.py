"""K-Means as a plain function, the whole algorithm without scikit-learn.

:func:`k_means` is to :class:`kmeans_scratch.KMeans` what ``sklearn.cluster.k_means`` is
to ``sklearn.cluster.KMeans``: the same fit, called as a function.  Here the estimator is
the wrapper: it validates the data the scikit-learn way (feature names, tags), then
calls :func:`fit_arrays`, which the function also calls.  The image layer calls
:func:`k_means`, so compressing an image never imports scikit-learn (about 1 s of
start-up that the command's users would pay on every call).

K-Means looks for centers c_1..c_k minimizing the inertia

    inertia = Σ_i w_i · min_j ‖x_i − c_j‖²

by ``n_init`` runs of an iteration (Lloyd's, Hamerly's or Elkan's: all three exact, with
the same path from the same start) from k-means++ or random seeds, the run of lowest
inertia kept.
"""

import warnings

import numpy as np

from . import _sparse
from ._blocks import column_means, column_moments, each_row
from ._distinct import collapse_duplicates
from ._elkan import ElkanAssignment
from ._hamerly import MIN_CLUSTERS_ON_WIDE_ROWS, HamerlyAssignment
from ._iterations import run_iterations
from ._kernels import kernel
from ._lloyd import LloydAssignment
from ._seed_stream import SeedStream
from ._seeding import greedy_kmeans_plusplus, random_choice_init
from ._sparse_bounds import SparseElkanAssignment, SparseHamerlyAssignment
from ._threads import parallel_entry, threads_for
from ._validation import (
    InvalidParameterError,
    check_choice,
    check_float_rows,
    check_int,
    check_n_samples,
    check_non_negative_number,
    check_random_state,
    check_sample_weight,
)
from ._wide import uses_blas

#: The assignment step of each algorithm, keyed by the ``algorithm`` parameter.  All three
#: are exact: from the same init they give the same labels, centers and iterations.
ALGORITHMS = {"lloyd": LloydAssignment, "hamerly": HamerlyAssignment, "elkan": ElkanAssignment}
#: The same steps on CSR rows (``_sparse``, ``_sparse_bounds``).
SPARSE_ALGORITHMS = {
    "lloyd": _sparse.SparseLloydAssignment,
    "hamerly": SparseHamerlyAssignment,
    "elkan": SparseElkanAssignment,
}
INIT_METHODS = ("k-means++", "random")


class ConvergenceWarning(UserWarning):
    """:func:`k_means` found fewer distinct clusters than asked for (duplicate samples).

    The estimator warns with scikit-learn's class of the same name instead."""


def tolerance(variances, tol):
    """Absolute tolerance: ``tol`` times the mean per-feature variance of the data.

    With weights the variance is the weighted one, Σ_i w_i (x_i − x̄_w)² / Σ_i w_i, so that
    a weight means exactly "this many copies" (scikit-learn uses the unweighted variance
    even with weights; without weights the two are the same).
    """
    return float(np.mean(variances) * tol)


def check_parameters(
    n_clusters, init, n_init, max_iter, tol, verbose, copy_x, algorithm, init_methods=INIT_METHODS
):
    """The parameters of a fit, each refused with a message naming it."""
    check_int(n_clusters, "n_clusters", 1)
    if isinstance(init, str):
        check_choice(init, "init", init_methods)
    if not (isinstance(n_init, str) and n_init == "auto"):
        if isinstance(n_init, str):
            raise InvalidParameterError(f"n_init must be 'auto' or an integer >= 1, got {n_init!r}")
        check_int(n_init, "n_init", 1)
    check_int(max_iter, "max_iter", 1)
    check_non_negative_number(tol, "tol")
    if not isinstance(verbose, bool):
        check_int(verbose, "verbose", 0)
    if not isinstance(copy_x, (bool, np.bool_)):
        raise InvalidParameterError(f"copy_x must be True or False, got {copy_x!r}")
    check_choice(algorithm, "algorithm", tuple(ALGORITHMS))


def check_prune_starts(prune_starts, snap):
    """``k_means``' ``prune_starts``: a pair of integers >= 1, without ``snap`` (which
    ends every run, and so would end the runs stopped for the ranking too)."""
    if not isinstance(prune_starts, (tuple, list)) or len(prune_starts) != 2:
        raise InvalidParameterError(
            "prune_starts must be None or a pair (rank_after_iter, kept_starts), "
            f"got {prune_starts!r}"
        )
    check_int(prune_starts[0], "prune_starts' rank_after_iter", 1)
    check_int(prune_starts[1], "prune_starts' kept_starts", 1)
    if snap is not None:
        raise InvalidParameterError("prune_starts cannot be combined with snap")


def is_array_init(init):
    return not isinstance(init, str) and not callable(init)


def resolve_n_init(n_init, init, owner="KMeans"):
    """``n_init`` as a number, with scikit-learn's ``"auto"`` rule and array-init warning:
    "auto" is 10 runs for a random init (``"random"`` or a callable), else 1."""
    if isinstance(n_init, str):
        random_init = callable(init) or (isinstance(init, str) and init == "random")
        n_init = 10 if random_init else 1
    if is_array_init(init) and n_init != 1:
        warnings.warn(
            "Explicit initial center position passed: performing only one init in "
            f"{owner} instead of n_init={n_init}.",
            RuntimeWarning,
            stacklevel=5,  # the caller of KMeans.fit or k_means
        )
        n_init = 1
    return n_init


#: Lloyd's step runs as Hamerly's (see :func:`lloyd_runs_hamerly`) on rows of at most this
#: many features.  On the fits of Gaussian blobs that converge in 4 iterations at 784
#: features (20 at most, ``tol=0``; 7 alternating rounds on 2026-12-07), Hamerly's step as
#: it runs took 0.90–0.91 × Lloyd's time at k = 64 but 1.09 × (float32) and 1.30 ×
#: (float64) at k = 256, where its bounds start and do not pay back in two steps; at 512
#: features 0.91–1.01 × at k = 256 and 0.73 × at 64, at 300 0.62–0.66 ×.
LLOYD_AS_HAMERLY_MAX_FEATURES = 512


def lloyd_runs_hamerly(n_samples, n_features, n_clusters):
    """Whether "lloyd" runs Hamerly's step as it runs (see :func:`resolve_algorithm`):
    on rows where Lloyd's step goes through BLAS (:func:`~._wide.uses_blas`: from 16
    features and n·k·d = 2²⁰), up to ``LLOYD_AS_HAMERLY_MAX_FEATURES`` features, with
    enough clusters for its bounds to pay there (``MIN_CLUSTERS_ON_WIDE_ROWS``, 64)."""
    return (
        n_features <= LLOYD_AS_HAMERLY_MAX_FEATURES
        and n_clusters >= MIN_CLUSTERS_ON_WIDE_ROWS
        and uses_blas(n_samples, n_features, n_clusters)
    )


def resolve_algorithm(algorithm, n_clusters, X):
    """The algorithm to run on ``X``: "elkan" with one cluster is "lloyd", with
    scikit-learn's warning (one center has no center-to-center distances to skip work
    with); on dense rows whose shape says Elkan's bounds do not pay (:func:`elkan_pays`)
    it is Lloyd's step, which gives the same labels, centers and iterations, bit for bit
    (``tests/test_accelerated.py``), in less time and without the bounds' memory.  Where
    the shape allows them, the rows decide (:class:`~._elkan.ElkanAssignment`).

    Lloyd's step on wide dense rows with many clusters (:func:`lloyd_runs_hamerly`, decided
    on every row of ``X``) is Hamerly's as it runs there: Lloyd's first step, then
    Hamerly's bounds if the rows show that they pay, else Lloyd's step at every
    iteration; the same fit, bit for bit (its bounds, when they run, take 16 bytes a
    row).  Measured on 2026-12-07 (this project's 2-core machine, Hamerly ÷ Lloyd,
    medians of 5–7 alternating rounds): 0.30–0.72 × on long fits of Gaussian blobs (d =
    16–300, k = 64 and 256), 0.87–1.05 × on default fits of 3–5 iterations at k = 64,
    0.60 × at k = 256, 0.96–1.02 × on embedding-like rows and ``make_classification``,
    where the rows keep Lloyd's step (``benchmarks/hamerly_on_wide_rows.py``)."""
    if algorithm == "elkan" and n_clusters == 1:
        warnings.warn(
            "algorithm='elkan' doesn't make sense for a single cluster. Using 'lloyd' instead.",
            RuntimeWarning,
            stacklevel=5,  # the caller of KMeans.fit or k_means
        )
        return "lloyd"
    if _sparse.is_sparse(X):
        return algorithm
    algorithm = algorithm_for_dense_rows(algorithm, X.dtype, X.shape[1], n_clusters)
    if algorithm == "lloyd" and lloyd_runs_hamerly(*X.shape, n_clusters):
        return "hamerly"
    return algorithm


def algorithm_for_dense_rows(algorithm, dtype, n_features, n_clusters):
    """``algorithm`` for dense rows of ``dtype`` and ``n_features``: "elkan" is "lloyd"
    where Elkan's bounds do not pay (:func:`elkan_pays`); the others as they are.  The
    Dask estimator chooses by this rule (its "lloyd" stays Lloyd's step on every chunk:
    the same fit; :func:`lloyd_runs_hamerly` is the in-memory fit's)."""
    if algorithm == "elkan" and not elkan_pays(dtype, n_features, n_clusters):
        return "lloyd"
    return algorithm


def elkan_pays(dtype, n_features, n_clusters):
    """Whether Elkan's bounds save more than they cost on dense rows: in float64 with at
    least 64 features and 64 centers.  Measured on the grid of issue 24 (``make
    bench-widths`` of 2026-12-05: Gaussian blobs, d = 2 … 784, k = 8, 64, 256, 20
    iterations from the same init): there our Elkan took 0.52–0.98 × our Lloyd's time in
    7 of 8 cells (1.16 × in the other); everywhere else 1.01–3.93 × in 36 of 38 cells
    (0.92 and 0.97 × in the other 2).  A distance costs Lloyd's step one product through
    BLAS (or a few operations in the tile kernel, for narrow rows); Elkan's bounds skip it
    at the price of updating k bounds a row, which pays only where a distance costs the
    most: many features, in float64."""
    return np.dtype(dtype) == np.float64 and n_features >= 64 and n_clusters >= 64


def check_init_shape(centers, n_clusters, n_features):
    """The (2-D) initial centers must be (n_clusters, n_features); the message ends with
    scikit-learn's reason (clusters first, then features)."""
    if centers.shape == (n_clusters, n_features):
        return
    if centers.shape[0] != n_clusters:
        reason = (
            f"init has {centers.shape[0]} rows, which does not match "
            f"the number of clusters {n_clusters}."
        )
    else:
        reason = (
            f"init has {centers.shape[1]} columns, which does not match "
            f"the number of features of the data {n_features}."
        )
    raise ValueError(
        f"The shape of the initial centers {centers.shape} does not match "
        f"(n_clusters, n_features) = ({n_clusters}, {n_features}): {reason}"
    )


def is_own(function):
    """Whether ``function`` is this package's (the palette's seeding, say), which takes
    an integer seed's :class:`~._seed_stream.SeedStream` as it is; a user's callable
    ``init`` gets a ``numpy.random.RandomState`` (in the same state), as from
    scikit-learn, whose checks refuse anything else."""
    return (getattr(function, "__module__", None) or "").partition(".")[0] == __package__


def initial_centers(X, n_clusters, init, sample_weight, random_state, check_init):
    """Initial centers in the (mean-centered) frame of ``X``; ``check_init`` validates the
    array a callable ``init`` returns."""
    if isinstance(init, str) and init == "k-means++":
        seeding = _sparse.kmeans_plusplus if _sparse.is_sparse(X) else greedy_kmeans_plusplus
        centers, _ = seeding(X, n_clusters, sample_weight, random_state)
    elif isinstance(init, str) and init == "random":
        centers = random_choice_init(X, n_clusters, sample_weight, random_state)
        centers = centers.toarray() if _sparse.is_sparse(centers) else centers
    elif callable(init):
        if isinstance(random_state, SeedStream) and not is_own(init):
            random_state = random_state.as_random_state()  # a user's: as scikit-learn's
        centers = check_init(init(X, n_clusters, random_state=random_state), X.dtype)
        check_init_shape(centers, n_clusters, X.shape[1])
    else:
        centers = init
    return centers


def fit_arrays(
    X,
    sample_weight,
    n_clusters,
    *,
    init,
    n_init,
    max_iter,
    tol,
    verbose,
    random_state,
    copy_x,
    algorithm,
    check_init,
    owner="KMeans",
    snap=None,
    prune_starts=None,
):
    """The fit on validated input: ``(centers, labels, inertia, n_iter)``.

    ``X`` is a C-contiguous float32/float64 array, centered into a copy made in the same
    pass if ``copy_x``, else in place and restored afterwards, or CSR rows
    of such a dtype (:func:`~._sparse.check_sparse_rows`), which are never centered,
    ``sample_weight`` a valid weight array of its dtype, ``random_state`` what
    :func:`~._validation.check_random_state` gives (a ``numpy.random.RandomState`` or an
    integer's :class:`~._seed_stream.SeedStream`), ``init`` a method name, a callable,
    or an array of the dtype of ``X`` and shape (n_clusters, n_features), which is not
    modified.  ``snap`` and ``prune_starts``: see :func:`k_means`.
    """
    check_n_samples(X.shape[0], n_clusters)
    # On one thread for a small X (see threads_for); run() narrows it to the distinct rows.
    sparse = _sparse.is_sparse(X)
    with threads_for(*X.shape):
        # Centering X makes every distance and sum better conditioned; it is undone below.
        # Sparse rows are not centered: it would fill them.  The variance only scales a
        # tolerance: none is needed at tol = 0 (scikit-learn skips it too).
        if sparse:
            X_mean = np.zeros(X.shape[1], dtype=X.dtype)
            abs_tol = tolerance(_sparse.column_moments(X, sample_weight)[1], tol) if tol else 0.0
        elif tol:
            X_mean, variances = column_moments(X, sample_weight)
            abs_tol = tolerance(variances, tol)
        else:
            X_mean, abs_tol = column_means(X, sample_weight)[0], 0.0
        n_init = resolve_n_init(n_init, init, owner)
        algorithm = resolve_algorithm(algorithm, n_clusters, X)
        if is_array_init(init):
            init = np.array(init, dtype=X.dtype, order="C")
            check_init_shape(init, n_clusters, X.shape[1])

        X_mean = X_mean.astype(X.dtype)
        if not sparse:  # with copy_x one pass, where a copy then centered in place took two
            X = each_row(np.subtract, X, X_mean, out=np.empty_like(X) if copy_x else X)
        if is_array_init(init):
            init -= X_mean
        snap_in_frame = None if snap is None else (lambda c: snap(c + X_mean) - X_mean)

        # The seeds are drawn from every row (the same draws as scikit-learn's); the
        # iterations run on the distinct rows, weighted, when rows repeat enough.
        distinct = None if sparse else collapse_duplicates(X, sample_weight)

        def run_from(centers_init, iterations):
            return run(
                X, sample_weight, distinct, centers_init, n_clusters, iterations, verbose,
                abs_tol, algorithm, snap_in_frame,
            )  # fmt: skip

        def start():
            centers_init = initial_centers(
                X, n_clusters, init, sample_weight, random_state, check_init
            )
            if verbose:
                print("Initialization complete")
            return centers_init

        try:
            if prune_starts is None:
                runs = (run_from(start(), max_iter) for _ in range(n_init))
            else:
                runs = pruned_runs(start, run_from, n_init, max_iter, *prune_starts, verbose)
            labels, inertia, centers, n_iter = best_run(runs, n_clusters)
        finally:
            if not copy_x and not sparse:
                each_row(np.add, X, X_mean, out=X)
        return centers + X_mean, labels, float(inertia), n_iter


def best_run(runs, n_clusters):
    """The run ``(labels, inertia, centers, n_iter)`` of least inertia, read one at a time.

    A lower inertia that is the same partition as the best so far is only rounding: the
    first run is kept (scikit-learn's rule)."""
    best = None
    for labels, inertia, centers, n_iter in runs:
        if best is None or (
            inertia < best[1] and not is_same_clustering(labels, best[0], n_clusters)
        ):
            best = labels, inertia, centers, n_iter
    return best


def pruned_runs(start, run_from, n_init, max_iter, rank_after_iter, kept_starts, verbose=False):
    """The runs of ``n_init`` starts, each stopped after ``rank_after_iter`` iterations,
    of which only the ``kept_starts`` of least inertia (the first on a tie) go on, from
    their centers, to ``max_iter`` iterations in all or a fixed point; in start order.

    A run's step reads only its centers, so a run that goes on is the run it would have
    been without the stop, except one that met the tolerance at its
    ``rank_after_iter``-th iteration exactly (it cannot be told from one stopped there):
    it makes one iteration more.  ``start()`` gives a start's centers, ``run_from(centers,
    iterations)`` a run.  Only the labels of runs that end at the ranking are kept (a
    run that goes on labels the rows again): one label array a start at most.
    """
    first_iter = min(rank_after_iter, max_iter)
    runs = []  # (labels, inertia, centers, n_iter) of each start; labels None: it goes on
    for _ in range(n_init):
        labels, inertia, centers, n_iter = run_from(start(), first_iter)
        goes_on = n_iter == first_iter < max_iter
        runs.append((None if goes_on else labels, inertia, centers, n_iter))
    least = sorted(sorted(range(n_init), key=lambda index: runs[index][1])[:kept_starts])
    if verbose:
        print(f"Starts {least} of least inertia after {first_iter} iterations go on.")
    for index in least:
        labels, inertia, centers, n_iter = runs[index]
        if labels is None:
            labels, inertia, centers, more = run_from(centers, max_iter - first_iter)
            n_iter += more
        yield labels, inertia, centers, n_iter


def run(
    X, sample_weight, distinct, centers_init, n_clusters, max_iter, verbose, tol, algorithm,
    snap=None,
):  # fmt: skip
    """One run from ``centers_init``: on the distinct rows if given, else on every row.

    A run on distinct rows that meets an empty cluster is done again on every row,
    where re-seeding moves one copy of a row as scikit-learn does (never on photos
    seeded by k-means++, whose seeds are distinct rows).
    """
    make_assignment = (SPARSE_ALGORITHMS if _sparse.is_sparse(X) else ALGORITHMS)[algorithm]
    if distinct is not None:
        rows, row_weight, inverse = distinct
        assignment = make_assignment(rows, row_weight, n_clusters)
        with threads_for(*rows.shape):
            result = run_iterations(
                rows, row_weight, centers_init, max_iter, verbose, tol, assignment,
                rows_merged=True, snap=snap,
            )  # fmt: skip
        if result is not None:
            labels, inertia, centers, n_iter = result
            return labels[inverse], inertia, centers, n_iter
        if verbose:
            print("A cluster emptied on the distinct rows: running again on every row.")
    assignment = make_assignment(X, sample_weight, n_clusters)
    return run_iterations(
        X, sample_weight, centers_init, max_iter, verbose, tol, assignment, snap=snap
    )


def fewer_clusters_message(labels, n_clusters):
    """The warning to give when fewer than ``n_clusters`` clusters have samples, else None."""
    n_distinct = np.count_nonzero(np.bincount(labels, minlength=n_clusters))
    if n_distinct < n_clusters:
        return (
            f"Number of distinct clusters ({n_distinct}) found smaller than "
            f"n_clusters ({n_clusters}). Possibly due to duplicate points in X."
        )
    return None


def check_init_array(init, dtype):
    return check_float_rows(init, "init", dtype=dtype, copy=True)


@parallel_entry
def k_means(
    X,
    n_clusters,
    *,
    sample_weight=None,
    init="k-means++",
    n_init="auto",
    max_iter=300,
    verbose=False,
    tol=1e-4,
    random_state=None,
    copy_x=True,
    algorithm="lloyd",
    return_n_iter=False,
    snap=None,
    prune_starts=None,
):
    """K-Means clustering as a function, like ``sklearn.cluster.k_means``.

    The parameters mean what they mean for :class:`kmeans_scratch.KMeans`, and the
    result is the one its ``fit`` gives: ``KMeans(n_clusters, **params).fit(X,
    sample_weight=sample_weight)`` has ``cluster_centers_``, ``labels_``, ``inertia_``
    and ``n_iter_`` equal to what this returns.  Nothing of scikit-learn is imported.

    One parameter more than scikit-learn's: ``snap``, a function that maps an
    (n_clusters, n_features) array of centers to the centers a run ends on, such as
    rounding them to a grid (the image layer rounds them to 8-bit colors).  Each run's
    last assignment is then to the snapped centers, and the labels, inertia (which picks
    the best of ``n_init`` runs) and centers returned are theirs.

    And ``prune_starts``, a pair ``(rank_after_iter, kept_starts)``: every start runs
    ``rank_after_iter`` iterations, and only the ``kept_starts`` of least inertia then run
    on to ``max_iter`` (the image layer's ten starts on a coarse histogram).  The winner
    is the one full runs would give whenever its start ranks among those kept (not
    always: a start may overtake after the ranking; and of two runs of the same partition,
    the first kept one).  Not with ``snap``.  The default, None, runs every start to the
    end, as scikit-learn does.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    labels : ndarray of shape (n_samples,), int32
    inertia : float
    n_iter : int
        Only with ``return_n_iter=True``: the iterations of the kept run.
    """
    check_parameters(n_clusters, init, n_init, max_iter, tol, verbose, copy_x, algorithm)
    if prune_starts is not None:
        check_prune_starts(prune_starts, snap)
    X = (
        _sparse.check_sparse_rows(X)
        if _sparse.is_sparse(X)
        else check_float_rows(X, "X")  # fit_arrays copies it as it centers it
    )
    sample_weight = check_sample_weight(sample_weight, X.shape[0], X.dtype)
    if is_array_init(init):
        init = check_init_array(init, X.dtype)
    centers, labels, inertia, n_iter = fit_arrays(
        X,
        sample_weight,
        n_clusters,
        init=init,
        n_init=n_init,
        max_iter=max_iter,
        tol=tol,
        verbose=verbose,
        random_state=check_random_state(random_state),
        copy_x=copy_x,
        algorithm=algorithm,
        check_init=check_init_array,
        owner="k_means",
        snap=snap,
        prune_starts=prune_starts,
    )
    if (message := fewer_clusters_message(labels, n_clusters)) is not None:
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    if return_n_iter:
        return centers, labels, inertia, n_iter
    return centers, labels, inertia


@kernel
def is_same_clustering(labels_a, labels_b, n_clusters):
    """True when two labelings are the same partition up to a permutation of the labels."""
    mapping = np.full(n_clusters, -1, dtype=np.int64)
    for i in range(labels_a.shape[0]):
        a = labels_a[i]
        if mapping[a] == -1:
            mapping[a] = labels_b[i]
        elif mapping[a] != labels_b[i]:
            return False
    return True
