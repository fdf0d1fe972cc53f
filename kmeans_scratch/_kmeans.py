"""The ``KMeans`` estimator and the public ``kmeans_plusplus`` function.

This module is the scikit-learn facing edge of the library, and the only one that imports
scikit-learn: it validates parameters and data the way scikit-learn's estimators do
(feature names, tags, ``check_array``), then hands plain C-contiguous arrays to
:func:`kmeans_scratch._fit.fit_arrays`, the fit that :func:`kmeans_scratch.k_means` also
calls.  It follows ``sklearn.cluster.KMeans`` in everything a user can observe (parameter
names, defaults, ``n_init="auto"``, ``tol`` scaling, the best-of-``n_init`` rule, the
warnings), and shares none of its clustering code.  Where it differs on purpose,
``docs/limits.md`` says so.
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

from . import _sparse
from ._distances import assign_labels, euclidean_distances_to_centers
from ._fit import (
    ALGORITHMS,
    check_parameters,
    fewer_clusters_message,
    fit_arrays,
    is_array_init,
)
from ._seeding import greedy_kmeans_plusplus
from ._threads import parallel_entry, threads_for
from ._validation import check_int, check_n_samples, check_sample_weight, check_squared_norms

FLOAT_DTYPES = (np.float64, np.float32)

__all__ = ["ALGORITHMS", "KMeans", "kmeans_plusplus"]


@parallel_entry
def kmeans_plusplus(
    X,
    n_clusters,
    *,
    sample_weight=None,
    x_squared_norms=None,
    random_state=None,
    n_local_trials=None,
):
    """Choose ``n_clusters`` initial centers from ``X`` by greedy k-means++.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data to pick seeds from.
    n_clusters : int
        The number of centers.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples; ``None`` gives every sample weight 1.
    x_squared_norms : array-like of shape (n_samples,), default=None
        The squared Euclidean norm ‖x_i‖² of each row of ``X``, as scikit-learn takes it
        (which uses it to compute ‖x‖² − 2 x·y + ‖y‖²).  It is checked (one finite value
        per sample; a column of shape (n_samples, 1) is taken too) and otherwise not
        needed: the distances here are Σ (x − y)², from ``X`` alone, so the centers are
        the same with or without it (and with wrong values, where scikit-learn's change).
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

    Notes
    -----
    The same ``random_state`` picks the same rows as ``sklearn.cluster.kmeans_plusplus``.
    In float64, scikit-learn's sums and ours differ by roundings of about 1e-16 of the
    potential φ = Σ w D², far below what separates two draws or two candidates.  In
    float32, scikit-learn keeps D² in float32 and sums in float32 (``np.cumsum`` for the
    draws, BLAS products for φ and the candidates' scores); these roundings, 1e-6 to 1e-4
    of φ, decide where draws land, so they are repeated here: the running sum step by step
    and the products by the same NumPy calls (``_seeding.choose_centers_float32``).  The
    rows are then scikit-learn's whenever both compute the same float32 distances: always
    on integer data such as pixels.  On other float32 data, scikit-learn's
    ``||x||² − 2 x·y + ||y||²`` and our ``Σ (x − y)²`` can round to neighbouring float32
    values, and a draw that hinges on that last bit can differ.  Repeating the float32
    products reads and writes ``n_local_trials · n_samples`` values per center, where
    float64, and the fit in both dtypes, touch only the tiles a candidate can improve.
    """
    with np.errstate(invalid="ignore", over="ignore"):  # see KMeans._validate_X
        X = check_array(X, accept_sparse="csr", dtype=list(FLOAT_DTYPES), order="C")
    n_clusters = check_int(n_clusters, "n_clusters", 1)
    if n_local_trials is not None:
        n_local_trials = check_int(n_local_trials, "n_local_trials", 1)
    check_n_samples(X.shape[0], n_clusters)
    sample_weight = check_sample_weight(sample_weight, X.shape[0], X.dtype)
    check_squared_norms(x_squared_norms, X.shape[0], X.dtype)  # not needed: see Parameters
    random_state = check_random_state(random_state)
    with threads_for(*X.shape):
        if _sparse.is_sparse(X):
            X = _sparse.check_sparse_rows(X)
            return _sparse.kmeans_plusplus(
                X, n_clusters, sample_weight, random_state, n_local_trials
            )
        return greedy_kmeans_plusplus(
            X, n_clusters, sample_weight, random_state, n_local_trials, sklearn_rounding=True
        )


def labelled_inertia(X, sample_weight, centers, labels):
    """``labels[i]`` ← the nearest center of each row, dense or CSR; returns the inertia."""
    if _sparse.is_sparse(X):
        return _sparse.assign_labels(X, sample_weight, centers, labels)
    return assign_labels(X, sample_weight, centers, labels)


def _check_init(init, dtype):
    """An init array (given, or returned by a callable) validated the scikit-learn way."""
    return check_array(init, dtype=dtype, copy=True, order="C", input_name="init")


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
        "lloyd" computes every distance in every iteration (on wide dense rows, 16 to 512
        features, with 64 clusters or more and rows enough for BLAS, it runs as "hamerly"
        does there, the same result: ``docs/algorithms.md``); "hamerly" keeps two bounds per
        sample and skips most distances once the centers settle (fastest in low
        dimensions, such as colors; on rows of 16 features and more it runs them only
        where the clusters stand apart, measured after the first step, else Lloyd's
        step); "elkan" keeps one bound per sample and center
        (n_samples × n_clusters × 8 bytes) and skips even more (see ``docs/algorithms.md``),
        where that pays: on dense rows, in float64 with at least 64 features and 64
        clusters, where after the first step the centers alone rule out at least a
        quarter of the pairs (clusters that stand apart); elsewhere it runs Lloyd's step
        (as "lloyd" runs it), the same result in less time.
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
        check_parameters(
            self.n_clusters,
            self.init,
            self.n_init,
            self.max_iter,
            self.tol,
            self.verbose,
            self.copy_x,
            self.algorithm,
        )
        X = self._validate_X(X, reset=True)  # fit_arrays copies it as it centers it
        sample_weight = check_sample_weight(sample_weight, X.shape[0], X.dtype)
        random_state = check_random_state(self.random_state)
        init = self.init
        if is_array_init(init):
            init = _check_init(init, X.dtype)
        centers, labels, inertia, n_iter = fit_arrays(
            X,
            sample_weight,
            self.n_clusters,
            init=init,
            n_init=self.n_init,
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
            random_state=random_state,
            copy_x=self.copy_x,
            algorithm=self.algorithm,
            check_init=_check_init,
            owner=type(self).__name__,
        )
        if (message := fewer_clusters_message(labels, self.n_clusters)) is not None:
            warnings.warn(message, ConvergenceWarning, stacklevel=3)
        self.cluster_centers_ = centers
        self._n_features_out = self.n_clusters
        self.labels_ = labels
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        return self

    def _validate_X(self, X, reset):
        """X as a C-contiguous float32/float64 array or CSR rows of one (any SciPy sparse
        format is converted); names NaN, inf and shape errors."""
        # The finiteness check adds +inf and -inf; the NaN it makes is reported, not warned.
        with np.errstate(invalid="ignore", over="ignore"):
            X = validate_data(
                self,
                X,
                accept_sparse="csr",
                dtype=list(FLOAT_DTYPES),
                order="C",
                reset=reset,
            )
        return _sparse.check_sparse_rows(X) if _sparse.is_sparse(X) else X

    def _check_test_data(self, X):
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return X, np.ascontiguousarray(self.cluster_centers_, dtype=X.dtype)

    @parallel_entry
    def predict(self, X):
        """Index of the closest center for each sample of ``X``."""
        X, centers = self._check_test_data(X)
        labels = np.empty(X.shape[0], dtype=np.int32)
        with threads_for(*X.shape):
            labelled_inertia(X, np.ones(X.shape[0], dtype=X.dtype), centers, labels)
        return labels

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return ``labels_``."""
        return self.fit(X, sample_weight=sample_weight).labels_

    @parallel_entry
    def transform(self, X):
        """Euclidean distance of each sample to each center: shape (n_samples, n_clusters)."""
        X, centers = self._check_test_data(X)
        with threads_for(*X.shape):
            if _sparse.is_sparse(X):
                return _sparse.transform(X, centers)
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
        with threads_for(*X.shape):
            return -labelled_inertia(X, sample_weight, centers, labels)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
