"""``kmeans_scratch.dask.KMeans``: the estimator of :class:`kmeans_scratch.KMeans` for Dask arrays.

The fit is the in-memory one, distributed (see ``_run``): the data's weighted mean and
variance in one pass (each chunk's moments, merged on the client), seeds by k-means||
(``_seeding``) or random weighted rows, then Lloyd's, Hamerly's or Elkan's iteration with
the data and the per-row state on the workers: through Dask's graphs (``_chunked``), or,
for data persisted on a cluster, one pinned task per worker (``_pinned``).  From the
same ``init`` array it gives the
in-memory fit's labels and ``n_iter_``, and its centers to about 1e-16, whatever the
chunking and the workers.
"""

import warnings

import dask.array as da
import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from .._engine import (
    algorithm_for_dense_rows,
    check_float_rows,
    check_init_shape,
    check_int,
    check_non_negative_number,
    check_parameters,
    check_random_state,
    check_sample_weight,
    resolve_n_init,
    tolerance,
)
from ._chunked import merged_moments
from ._chunks import (
    chunk_inertia,
    chunk_moments,
    kept_bytes_per_row,
    predict_chunk,
    transform_chunk,
)
from ._pinned import row_chunks
from ._run import run_chunks
from ._seeding import N_ROUNDS, OVERSAMPLING_FACTOR, kmeans_parallel, weighted_rows

INIT_METHODS = ("k-means||", "random")
KMEANS_PLUSPLUS_ON_CHUNKS = (
    "k-means++ would take a pass over the data for each center; 'k-means||', the default, "
    "is its form for chunked data (Bahmani et al. 2012), in a few passes"
)


def check_rows(X, name="X"):
    """``X`` as a Dask array of whole rows, and the float dtype the fit computes in.

    A NumPy array (or anything array-like) is validated as in memory and made a Dask
    array of row chunks; a Dask DataFrame becomes the Dask array of its partitions.  A
    Dask array must have known chunk sizes and whole rows in each chunk; its values are
    checked for NaN and infinity chunk by chunk, in the fit's first pass over the data.
    """
    if hasattr(X, "to_dask_array") and hasattr(X, "npartitions"):  # a Dask DataFrame
        X = X.to_dask_array(lengths=True)  # one pass over its partitions counts their rows
    if not isinstance(X, da.Array):
        return da.from_array(check_float_rows(X, name), chunks=("auto", -1))
    if X.ndim != 2:
        raise ValueError(
            f"Expected 2D array (n_samples, n_features) for {name}, got an array with "
            f"dim {X.ndim} and shape {X.shape}"
        )
    if any(np.isnan(size) for size in X.chunks[0]):
        raise ValueError(
            f"{name} has row chunks of unknown size: call {name}.compute_chunk_sizes() first"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} has 0 samples (shape {X.shape}); at least 1 is required")
    if X.shape[1] == 0:
        raise ValueError(f"{name} has 0 features (shape {X.shape}); at least 1 is required")
    if len(X.chunks[1]) > 1:
        raise ValueError(
            f"{name} is split into {len(X.chunks[1])} chunks along its columns; each chunk "
            f"must hold whole rows: use {name}.rechunk({{1: -1}})"
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be an array of real numbers, got dtype {X.dtype}")
    return X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)


def labels_not_pickled(chunks):
    """A lazy int32 array of ``chunks`` whose every chunk raises what the labels of a
    pickled model have become (see :meth:`KMeans.__getstate__`)."""
    return da.zeros(sum(chunks[0]), chunks=chunks, dtype=np.int32).map_blocks(
        refuse_labels_not_pickled, dtype=np.int32
    )


def refuse_labels_not_pickled(block):
    raise ValueError(
        "labels_ of a kmeans_scratch.dask.KMeans stay where it was fitted and are not "
        "pickled: compute them before pickling (np.asarray(model.labels_)), or call "
        "model.predict(X)"
    )


def string_columns(X):
    """The column names of a (pandas or Dask) DataFrame ``X`` as an object array, where
    they are all strings (scikit-learn's ``feature_names_in_``), else None."""
    columns = getattr(X, "columns", None)
    if columns is None or not all(isinstance(name, str) for name in columns):
        return None
    return np.asarray(columns, dtype=object)


def check_weights(sample_weight, X):
    """``sample_weight`` as a Dask array chunked like the rows of ``X``, or None for 1s.

    A NumPy array is validated whole, as in memory; a Dask array's values are checked
    chunk by chunk in the first pass."""
    n_samples = X.shape[0]
    if sample_weight is None:
        return None
    if not isinstance(sample_weight, da.Array):
        weights = check_sample_weight(sample_weight, n_samples, X.dtype)
        return da.from_array(weights, chunks=(X.chunks[0],))
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape (n_samples,) = ({n_samples},), "
            f"got shape {sample_weight.shape}"
        )
    return sample_weight.rechunk((X.chunks[0],))


class KMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """Exact K-Means on a Dask array: :class:`kmeans_scratch.KMeans` for data split in chunks.

    ``X`` is a ``dask.array`` of shape (n_samples, n_features) chunked by rows (a NumPy
    array is accepted and split into chunks); each worker runs the Numba kernels of the
    in-memory fit on its chunks and sends back O(k·d) sums per chunk and iteration, so the
    data never moves.  Persist ``X`` (``X.persist()``) when it fits in the workers'
    memory; otherwise its chunks are read again at every iteration.

    Parameters
    ----------
    n_clusters, n_init, max_iter, tol, verbose, random_state, algorithm
        As for :class:`kmeans_scratch.KMeans` (``"elkan"`` runs Elkan's bounds where
        they pay, else Lloyd's step); ``verbose`` prints the labels changed and
        the center shift of every iteration.  Between iterations the workers keep, per
        row, the label (one byte up to 256 clusters, two up to 65,536) and, with
        ``algorithm="hamerly"``, two bounds (16 bytes), with Elkan's 8 (k + 1).
    init : {"k-means||", "random"}, callable or array-like, default="k-means||"
        k-means|| seeding (Bahmani et al. 2012: ``init_rounds`` passes over the data, each
        drawing about ``oversampling_factor · n_clusters`` candidates, reduced to
        ``n_clusters`` by greedy k-means++), ``n_clusters`` distinct rows drawn with
        probability ∝ weight, ``init(X, n_clusters, random_state=rs)`` returning an
        array, or an (n_clusters, n_features) array: then the labels, ``n_iter_`` and
        centers are those of the in-memory ``KMeans`` from the same array.
    init_rounds : int, default=5
    oversampling_factor : float, default=2.0

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : dask array of shape (n_samples,), int32, chunked like ``X``
        Kept on the workers until computed.
    inertia_ : float
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` was a (pandas or Dask) DataFrame with string column names.
    """

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means||",
        n_init="auto",
        max_iter=300,
        tol=1e-4,
        verbose=0,
        random_state=None,
        algorithm="lloyd",
        init_rounds=N_ROUNDS,
        oversampling_factor=OVERSAMPLING_FACTOR,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.algorithm = algorithm
        self.init_rounds = init_rounds
        self.oversampling_factor = oversampling_factor

    def fit(self, X, y=None, sample_weight=None):
        """Compute K-Means clustering of the Dask array ``X`` (weights: a Dask or NumPy
        array of shape (n_samples,), or None)."""
        try:
            check_parameters(
                self.n_clusters, self.init, self.n_init, self.max_iter, self.tol,
                self.verbose, True, self.algorithm, init_methods=INIT_METHODS,
            )  # fmt: skip
        except ValueError as error:
            if isinstance(self.init, str) and self.init == "k-means++":
                raise type(error)(f"{error}: {KMEANS_PLUSPLUS_ON_CHUNKS}") from None
            raise
        check_int(self.init_rounds, "init_rounds", 0)
        check_non_negative_number(self.oversampling_factor, "oversampling_factor")
        names = string_columns(X)
        X = check_rows(X)
        if names is None:
            vars(self).pop("feature_names_in_", None)
        else:
            self.feature_names_in_ = names
        algorithm = algorithm_for_dense_rows(self.algorithm, X.dtype, X.shape[1], self.n_clusters)
        kept = kept_bytes_per_row(X.shape[1], X.dtype, algorithm, self.n_clusters)
        with row_chunks(X, check_weights(sample_weight, X), X.dtype, kept) as chunks:
            return self._fit_chunks(X, chunks, algorithm)

    def _fit_chunks(self, X, chunks, algorithm):
        """:meth:`fit` on the chunks of ``X``."""
        chunks.check_n_clusters(self.n_clusters)
        random_state = check_random_state(self.random_state)
        init = self._check_init_array(self.init, X)

        # One pass: NaN, infinity and bad weights are found here, before any iteration.
        moments = chunks.map(chunk_moments, chunks.dtype)
        mean, variance = merged_moments(moments)
        chunk_totals = [total for total, _, _ in moments]
        abs_tol = tolerance(variance, self.tol)
        mean = mean.astype(chunks.dtype)  # the in-memory fit centers by the same value
        chunks.center(mean)
        best = None
        for _ in range(resolve_n_init(self.n_init, init, type(self).__name__)):
            centers_init = self._initial_centers(X, chunks, chunk_totals, mean, init, random_state)
            labels, inertia, centers, n_iter, sizes = run_chunks(
                chunks, centers_init, algorithm, self.max_iter, abs_tol,
                self.verbose,
            )  # fmt: skip
            if best is None or inertia < best[1]:
                if best is not None:
                    chunks.release(best[0])
                best = labels, inertia, centers, n_iter, sizes
            else:
                chunks.release(labels)
        labels, inertia, centers, n_iter, sizes = best

        self.cluster_centers_ = centers + mean
        self.labels_ = da.concatenate(
            [
                da.from_delayed(part, shape=(size,), dtype=np.int32)
                for part, size in zip(chunks.values(labels), chunks.sizes, strict=True)
            ]
        )
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        self.n_features_in_ = chunks.n_features
        self._warn_if_fewer_clusters(sizes)
        return self

    def _check_init_array(self, init, X):
        if isinstance(init, str) or callable(init):
            return init
        dtype = np.float32 if X.dtype == np.float32 else np.float64
        init = check_float_rows(init, "init", dtype=dtype, copy=True)
        check_init_shape(init, self.n_clusters, X.shape[1])
        return init

    def _initial_centers(self, X, chunks, chunk_totals, mean, init, random_state):
        """Initial centers in the frame centered by ``mean``."""
        if isinstance(init, str) and init == "k-means||":
            return kmeans_parallel(
                chunks, chunk_totals, self.n_clusters, random_state, self.init_rounds,
                self.oversampling_factor,
            )  # fmt: skip
        if isinstance(init, str):  # "random"
            return weighted_rows(chunks, self.n_clusters, random_state)
        if callable(init):
            init = self._check_init_array(init(X, self.n_clusters, random_state=random_state), X)
        return init.astype(chunks.dtype) - mean

    def _warn_if_fewer_clusters(self, cluster_sizes):
        n_distinct = np.count_nonzero(cluster_sizes)
        if n_distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({n_distinct}) found smaller than "
                f"n_clusters ({self.n_clusters}). Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _check_test_data(self, X):
        check_is_fitted(self)
        X = check_rows(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        dtype = np.float32 if X.dtype == np.float32 else np.float64
        return X, np.ascontiguousarray(self.cluster_centers_, dtype=dtype)

    def predict(self, X):
        """Index of the closest center of each row: a lazy Dask array chunked like ``X``."""
        X, centers = self._check_test_data(X)
        return X.map_blocks(predict_chunk, centers, dtype=np.int32, drop_axis=1)

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return ``labels_``."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def transform(self, X):
        """Euclidean distance of each row to each center: a lazy Dask array (n, k)."""
        X, centers = self._check_test_data(X)
        return X.map_blocks(
            transform_chunk, centers, dtype=centers.dtype,
            chunks=(X.chunks[0], (centers.shape[0],)),
        )  # fmt: skip

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the inertia of ``X`` with respect to the fitted centers (computed)."""
        X, centers = self._check_test_data(X)
        with row_chunks(X, check_weights(sample_weight, X), centers.dtype) as chunks:
            return -float(sum(chunks.map(chunk_inertia, centers)))

    def __getstate__(self):
        """The fitted model without its labels, which live where the fit ran (the
        workers' memory, or this process's): ``labels_`` of an unpickled model is a lazy
        array of the same chunks that says so when computed."""
        state = super().__getstate__()
        if "labels_" in state:
            state = {**state, "labels_": labels_not_pickled(self.labels_.chunks)}
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
