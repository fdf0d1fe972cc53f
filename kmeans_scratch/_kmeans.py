"""The ``KMeans`` estimator and the public ``kmeans_plusplus`` function.

This module is the edge of the library: it validates parameters and data, then hands
plain C-contiguous arrays to the iteration modules.  It follows scikit-learn's
``sklearn.cluster.KMeans`` in everything a user can observe (parameter names, defaults,
``n_init="auto"``, ``tol`` scaling, the best-of-``n_init`` rule, the warnings), and
shares none of its clustering code.  Where it differs on purpose, the README says so.

K-Means looks for centers c_1..c_k minimizing the inertia

    inertia = Σ_i w_i · min_j ‖x_i − c_j‖²
"""

import warnings

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._common import (
    assign_labels,
    column_moments,
    euclidean_distances_to_centers,
    is_same_clustering,
)
from ._distinct import collapse_duplicates
from ._elkan import ElkanAssignment
from ._hamerly import HamerlyAssignment
from ._lloyd import LloydAssignment, run_iterations
from ._seeding import greedy_kmeans_plusplus, random_choice_init
from ._threads import parallel_entry
from ._validation import (
    check_choice,
    check_int,
    check_n_samples,
    check_non_negative_number,
    check_sample_weight,
)

#: The assignment step of each algorithm, keyed by the ``algorithm`` parameter.  All three
#: are exact: from the same init they give the same labels, centers and iterations.
ALGORITHMS = {"lloyd": LloydAssignment, "hamerly": HamerlyAssignment, "elkan": ElkanAssignment}
INIT_METHODS = ("k-means++", "random")
FLOAT_DTYPES = (np.float64, np.float32)


def tolerance(variances, tol):
    """Absolute tolerance: ``tol`` times the mean per-feature variance of the data.

    With weights the variance is the weighted one, Σ_i w_i (x_i − x̄_w)² / Σ_i w_i, so that
    a weight means exactly "this many copies" (scikit-learn uses the unweighted variance
    even with weights; without weights the two are the same).
    """
    return float(np.mean(variances) * tol)


@parallel_entry
def kmeans_plusplus(X, n_clusters, *, sample_weight=None, random_state=None, n_local_trials=None):
    """Choose ``n_clusters`` initial centers from ``X`` by greedy k-means++.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data to pick seeds from.
    n_clusters : int
        The number of centers.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples; ``None`` gives every sample weight 1.
    random_state : int, RandomState instance or None, default=None
        Seed of the random draws.
    n_local_trials : int, default=None
        Candidates drawn per center, of which the best is kept;
        ``None`` means ``2 + int(log(n_clusters))``.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
        The chosen centers, rows of ``X``.
    indices : ndarray of shape (n_clusters,)
        Their row numbers: ``X[indices] == centers``.
    """
    with np.errstate(invalid="ignore", over="ignore"):  # see KMeans._validate_X
        X = check_array(X, dtype=list(FLOAT_DTYPES), order="C")
    n_clusters = check_int(n_clusters, "n_clusters", 1)
    if n_local_trials is not None:
        n_local_trials = check_int(n_local_trials, "n_local_trials", 1)
    check_n_samples(X.shape[0], n_clusters)
    sample_weight = check_sample_weight(sample_weight, X.shape[0], X.dtype)
    random_state = check_random_state(random_state)
    return greedy_kmeans_plusplus(X, n_clusters, sample_weight, random_state, n_local_trials)


class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """K-Means clustering, a drop-in for ``sklearn.cluster.KMeans``.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters and centers.
    init : {"k-means++", "random"}, callable or array-like, default="k-means++"
        How to choose the initial centers: greedy k-means++, ``n_clusters`` samples drawn
        at random (weighted), the given (n_clusters, n_features) array, or
        ``init(X, n_clusters, random_state=rs)`` which returns such an array.
    n_init : "auto" or int, default="auto"
        Runs from different initial centers; the one of lowest inertia is kept.
        ``"auto"`` is 1 for k-means++ and an array, 10 for "random" and a callable.
    max_iter : int, default=300
        Maximum iterations of one run.
    tol : float, default=1e-4
        Convergence tolerance on the total squared center shift, relative to the mean
        per-feature variance of ``X``.
    verbose : int, default=0
        Print the inertia of every iteration.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialization.
    copy_x : bool, default=True
        If False, ``X`` is centered in place during ``fit`` and restored afterwards.
    algorithm : {"lloyd", "hamerly", "elkan"}, default="lloyd"
        The iteration.  All three are exact and give the same result from the same init:
        "lloyd" computes every distance in every iteration; "hamerly" keeps two bounds per
        sample and skips most distances once the centers settle (fastest in low
        dimensions, such as colors); "elkan" keeps one bound per sample and center
        (n_samples × n_clusters × 8 bytes) and skips even more (see the README).
        When at most 3/4 of the rows of ``X`` are distinct (the pixels of a photo), each
        algorithm iterates on the distinct rows, weighted by the total weight of their
        copies: the same labels, less work.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
    inertia_ : float
        Sum of weighted squared distances of the samples to their closest center.
    n_iter_ : int
        Iterations of the kept run.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` had string column names.
    """

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        n_init="auto",
        max_iter=300,
        tol=1e-4,
        verbose=0,
        random_state=None,
        copy_x=True,
        algorithm="lloyd",
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm

    def _validate_parameters(self):
        check_int(self.n_clusters, "n_clusters", 1)
        if isinstance(self.init, str):
            check_choice(self.init, "init", INIT_METHODS)
        if not (isinstance(self.n_init, str) and self.n_init == "auto"):
            if isinstance(self.n_init, str):
                raise ValueError(f"n_init must be 'auto' or an integer >= 1, got {self.n_init!r}")
            check_int(self.n_init, "n_init", 1)
        check_int(self.max_iter, "max_iter", 1)
        check_non_negative_number(self.tol, "tol")
        if not isinstance(self.verbose, bool):
            check_int(self.verbose, "verbose", 0)
        if not isinstance(self.copy_x, (bool, np.bool_)):
            raise TypeError(f"copy_x must be True or False, got {self.copy_x!r}")
        check_choice(self.algorithm, "algorithm", tuple(ALGORITHMS))

    def _resolve_n_init(self):
        """``n_init`` as a number, with scikit-learn's ``"auto"`` rule and array-init warning."""
        init_is_array = not isinstance(self.init, str) and not callable(self.init)
        if isinstance(self.n_init, str):  # "auto": ten runs of a random init, else one
            random_init = callable(self.init) or (
                isinstance(self.init, str) and self.init == "random"
            )
            n_init = 10 if random_init else 1
        else:
            n_init = self.n_init
        if init_is_array and n_init != 1:
            warnings.warn(
                "Explicit initial center position passed: performing only one init in "
                f"{type(self).__name__} instead of n_init={n_init}.",
                RuntimeWarning,
                stacklevel=3,
            )
            n_init = 1
        return n_init

    def _check_init_shape(self, X, centers):
        if centers.shape != (self.n_clusters, X.shape[1]):
            raise ValueError(
                f"The shape of the initial centers {centers.shape} does not match "
                f"(n_clusters, n_features) = ({self.n_clusters}, {X.shape[1]})."
            )

    def _initial_centers(self, X, init, sample_weight, random_state):
        """Initial centers in the (mean-centered) frame of ``X``."""
        if isinstance(init, str) and init == "k-means++":
            centers, _ = greedy_kmeans_plusplus(X, self.n_clusters, sample_weight, random_state)
        elif isinstance(init, str) and init == "random":
            centers = random_choice_init(X, self.n_clusters, sample_weight, random_state)
        elif callable(init):
            centers = init(X, self.n_clusters, random_state=random_state)
            centers = check_array(centers, dtype=X.dtype, order="C", input_name="init")
            self._check_init_shape(X, centers)
        else:
            centers = init
        return centers

    @parallel_entry
    def fit(self, X, y=None, sample_weight=None):
        """Compute K-Means clustering.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples; float32 stays float32, anything else becomes float64.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight acts as that many copies of the sample.

        Returns
        -------
        self : KMeans
            The fitted estimator.
        """
        self._validate_parameters()
        X = self._validate_X(X, reset=True, copy=self.copy_x)
        check_n_samples(X.shape[0], self.n_clusters)
        sample_weight = check_sample_weight(sample_weight, X.shape[0], X.dtype)
        X_mean, variances = column_moments(X, sample_weight)
        abs_tol = tolerance(variances, self.tol)
        random_state = check_random_state(self.random_state)
        n_init = self._resolve_n_init()

        init = self.init
        if not isinstance(init, str) and not callable(init):
            init = check_array(init, dtype=X.dtype, copy=True, order="C", input_name="init")
            self._check_init_shape(X, init)

        # Centering X makes every distance and sum better conditioned; it is undone below.
        X_mean = X_mean.astype(X.dtype)
        X -= X_mean
        if not isinstance(init, str) and not callable(init):
            init -= X_mean

        # The seeds are drawn from every row (the same draws as scikit-learn's); the
        # iterations run on the distinct rows, weighted, when rows repeat enough.
        distinct = collapse_duplicates(X, sample_weight)
        best_inertia = best_labels = best_centers = best_n_iter = None
        try:
            for _ in range(n_init):
                centers_init = self._initial_centers(X, init, sample_weight, random_state)
                if self.verbose:
                    print("Initialization complete")
                labels, inertia, centers, n_iter = self._run(
                    X, sample_weight, distinct, centers_init, abs_tol
                )
                # A lower inertia that is the same partition is only rounding: keep the first.
                if best_inertia is None or (
                    inertia < best_inertia
                    and not is_same_clustering(labels, best_labels, self.n_clusters)
                ):
                    best_inertia, best_labels = inertia, labels
                    best_centers, best_n_iter = centers, n_iter
        finally:
            if not self.copy_x:
                X += X_mean
        best_centers += X_mean

        n_distinct = np.count_nonzero(np.bincount(best_labels, minlength=self.n_clusters))
        if n_distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({n_distinct}) found smaller than "
                f"n_clusters ({self.n_clusters}). Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.cluster_centers_ = best_centers
        self._n_features_out = self.n_clusters
        self.labels_ = best_labels
        self.inertia_ = float(best_inertia)
        self.n_iter_ = best_n_iter
        return self

    def _run(self, X, sample_weight, distinct, centers_init, abs_tol):
        """One run from ``centers_init``: on the distinct rows if given, else on every row.

        A run on distinct rows that meets an empty cluster is done again on every row,
        where re-seeding moves one copy of a row as scikit-learn does (never on photos
        seeded by k-means++, whose seeds are distinct rows).
        """
        make_assignment = ALGORITHMS[self.algorithm]
        if distinct is not None:
            rows, row_weight, inverse = distinct
            assignment = make_assignment(rows, row_weight, self.n_clusters)
            result = run_iterations(
                rows,
                row_weight,
                centers_init,
                self.max_iter,
                self.verbose,
                abs_tol,
                assignment,
                rows_merged=True,
            )
            if result is not None:
                labels, inertia, centers, n_iter = result
                return labels[inverse], inertia, centers, n_iter
            if self.verbose:
                print("A cluster emptied on the distinct rows: running again on every row.")
        assignment = make_assignment(X, sample_weight, self.n_clusters)
        return run_iterations(
            X, sample_weight, centers_init, self.max_iter, self.verbose, abs_tol, assignment
        )

    def _validate_X(self, X, reset, copy=False):
        """X as a C-contiguous float32/float64 array; names NaN, inf, shape and sparsity errors."""
        # The finiteness check adds +inf and -inf; the NaN it makes is reported, not warned.
        with np.errstate(invalid="ignore", over="ignore"):
            return validate_data(
                self, X, dtype=list(FLOAT_DTYPES), order="C", copy=copy, reset=reset
            )

    def _check_test_data(self, X):
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return X, np.ascontiguousarray(self.cluster_centers_, dtype=X.dtype)

    @parallel_entry
    def predict(self, X):
        """Index of the closest center for each sample of ``X``."""
        X, centers = self._check_test_data(X)
        labels = np.empty(X.shape[0], dtype=np.int32)
        assign_labels(X, np.ones(X.shape[0], dtype=X.dtype), centers, labels)
        return labels

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return ``labels_``."""
        return self.fit(X, sample_weight=sample_weight).labels_

    @parallel_entry
    def transform(self, X):
        """Euclidean distance of each sample to each center: shape (n_samples, n_clusters)."""
        X, centers = self._check_test_data(X)
        distances = np.empty((X.shape[0], centers.shape[0]), dtype=X.dtype)
        euclidean_distances_to_centers(X, centers, distances)
        return distances

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit, then return ``transform(X)``."""
        return self.fit(X, sample_weight=sample_weight).transform(X)

    @parallel_entry
    def score(self, X, y=None, sample_weight=None):
        """Opposite of the inertia of ``X`` with respect to the fitted centers."""
        X, centers = self._check_test_data(X)
        sample_weight = check_sample_weight(sample_weight, X.shape[0], X.dtype)
        labels = np.empty(X.shape[0], dtype=np.int32)
        return -assign_labels(X, sample_weight, centers, labels)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
