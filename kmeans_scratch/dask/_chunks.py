"""The work on one chunk of rows, done where the chunk is: on a Dask worker, or in a thread.

Every function here takes one chunk of ``X`` (rows i..j, every column), the chunk of
``sample_weight`` beside it (or None for weights of 1) and returns something of size
O(k·d): sums, counts, a few rows.  What must survive from one iteration to the next (the
labels, Hamerly's or Elkan's bounds) is a :class:`ChunkRun` object that stays on the
worker that made it; the client only ever holds a reference to it.

The functions of the fit work on a chunk's *prepared* rows (:func:`prepared`): centered
by the data's mean exactly as the in-memory fit centers the whole array, so their
distances, labels and sums are those of the in-memory fit, with the weights in the same
dtype.  Where the rows are prepared is the caller's choice (``_chunked`` prepares them at
each call, from the chunk where it is read; ``_pinned`` once per fit, kept on the worker).
"""

import contextlib
import threading

import numpy as np

from .._engine import (
    ALGORITHMS,
    assign_labels,
    check_finite,
    check_weight_values,
    column_moments,
    each_row,
    euclidean_distances_to_centers,
    inertia_of_labels,
    sq_distances_to_assigned,
    threads_for,
    worker_threads,
)

# Registers the calls of the chunks' tasks compiled ahead of time: here, in the module of
# every chunk task, since the package's __init__ stays light (see its docstring).
from . import _compiled  # noqa: F401


class PerChunk(list):
    """An argument of a call on every chunk with one value per chunk (a seed, say)."""


def args_of_chunk(args, index):
    """The arguments of the call on chunk ``index``: each :class:`PerChunk` one's value
    for that chunk, the others as they are."""
    return [arg[index] if isinstance(arg, PerChunk) else arg for arg in args]


@contextlib.contextmanager
def chunk_threads(n_rows):
    """Numba's threads for one chunk's kernels: the worker's threads (see
    :func:`kmeans_scratch._threads.worker_threads`), and one for a small chunk (see
    :func:`kmeans_scratch._threads.threads_for`)."""
    with worker_threads(), threads_for(n_rows):
        yield


def weights_of(weights, n_rows, dtype):
    """The chunk's weights as an array of ``dtype`` the kernels take (:func:`rows_of`);
    None means all ones."""
    if weights is None:
        return np.ones(n_rows, dtype=dtype)
    return rows_of(weights, dtype)


def rows_of(chunk, dtype):
    """The chunk (or the centers) in ``dtype``, C-contiguous, aligned and writeable, as
    the kernels' ahead-of-time code takes them (:func:`usable`; copied only if not)."""
    return usable(np.asarray(chunk, dtype=dtype))


def prepared(chunk, weights, mean, reuse=False):
    """``(rows, weights)``: a C-contiguous copy of the chunk minus the data's mean, in the
    mean's dtype (the same bits as the rows of the in-memory fit's centered ``X``), and
    the chunk's weights in that dtype.  With ``reuse``, both live in this thread's
    buffers (:func:`thread_buffer`), valid until its next call: for a task that keeps
    neither."""
    chunk = np.asarray(chunk)
    shape, dtype = chunk.shape, mean.dtype
    out = thread_buffer("rows", shape, dtype) if reuse else np.empty(shape, dtype=dtype)
    rows = each_row(np.subtract, chunk, mean, out=out)
    if reuse and weights is None:
        return rows, thread_buffer("ones", (shape[0],), dtype, fill=1)
    return rows, weights_of(weights, rows.shape[0], rows.dtype)


_buffers = threading.local()


def thread_buffer(purpose, shape, dtype, fill=None):
    """This thread's array for ``purpose``, of ``shape`` and ``dtype`` (made again, and
    filled with ``fill`` if given, when they change).  On a Dask worker a new large
    array is mapped afresh at every task, its pages faulted in one by one: Dask starts
    its workers with ``MALLOC_TRIM_THRESHOLD_`` set, which also keeps glibc from reusing
    freed blocks of that size (see docs/dask.md)."""
    kept = getattr(_buffers, "by_purpose", None)
    if kept is None:
        kept = _buffers.by_purpose = {}
    array = kept.get(purpose)
    if array is None or array.shape != shape or array.dtype != dtype:
        array = kept[purpose] = np.empty(shape, dtype=dtype)
        if fill is not None:
            array[...] = fill
    return array


def chunk_moments(chunk, weights, dtype):
    """``(W, mean, variance)`` of the chunk's rows, weighted, in float64 (W = Σ w_i);
    checks that every value is finite and every weight non-negative on the way."""
    rows = rows_of(chunk, dtype)
    weights = weights_of(weights, rows.shape[0], dtype)
    check_finite(rows, "X")
    check_weight_values(weights)
    total = float(weights.sum(dtype=np.float64))
    if total == 0:
        return 0.0, np.zeros(rows.shape[1]), np.zeros(rows.shape[1])
    with chunk_threads(rows.shape[0]):
        mean, variance = column_moments(rows, weights)
    return total, mean, variance


def kept_bytes_per_row(n_features, dtype, algorithm, n_clusters):
    """The bytes per row a worker keeps through a fit on persisted data (``_pinned``): the
    rows' centered copy and weights in ``dtype``, and the larger of the two per-row states,
    k-means||'s (D² and the nearest candidate's index, counted as int32: at most) and the
    run's (the packed label, and Hamerly's two bounds or Elkan's k + 1, in float64)."""
    itemsize = np.dtype(dtype).itemsize
    label = packed_dtype(n_clusters - 1).itemsize
    bounds = {"lloyd": 0, "hamerly": 2, "elkan": n_clusters + 1}[algorithm]
    return (n_features + 1) * itemsize + max(itemsize + 4, label + 8 * bounds)


def packed_dtype(largest):
    """The smallest unsigned integer dtype that holds ``largest`` (one byte up to 255): how
    a chunk keeps per-row indices between two passes."""
    return np.min_scalar_type(largest)


def packed(indices, largest):
    """Non-negative ``indices`` up to ``largest``, in :func:`packed_dtype`."""
    return indices.astype(packed_dtype(largest))


class ChunkRun:
    """One chunk's share of a run, kept on its worker between iterations: the labels, and
    the algorithm's assignment step with its bounds and per-block sums (without the data).

    Between two steps the labels are kept packed, in the smallest unsigned integers that
    hold k − 1 (one byte a row up to 256 clusters, a quarter of int32's): a worker that
    runs out of core holds one such state per chunk, and what does not fit in its memory
    goes to disk and back at every iteration.  The kernels get them as int32.
    """

    def __init__(self, algorithm, n_rows, n_clusters):
        self.algorithm = algorithm
        self.assignment = None
        self.n_rows, self.n_clusters = n_rows, n_clusters
        self.packed_labels = None  # before the first step: every label −1

    def labels(self, out=None):
        """The labels as int32, in ``out`` if given, else in a new array."""
        if out is None:
            out = np.empty(self.n_rows, dtype=np.int32)
        if self.packed_labels is None:
            out[...] = -1
        else:
            out[...] = self.packed_labels
        return out

    def keep(self, labels):
        """Keep ``labels`` (int32), packed."""
        self.packed_labels = packed(labels, self.n_clusters - 1)

    def __sizeof__(self):
        return held_bytes(self) + held_bytes(self.assignment)

    def __setstate__(self, state):
        self.__dict__.update(state)
        usable_arrays(self)
        if self.assignment is not None:
            usable_arrays(self.assignment)


def usable(value):
    """An array argument or state made C-contiguous, aligned and writeable (copied if it was
    not); anything else as it is.  What Dask sends to a worker or spills to disk comes back
    from bytes, where an array may start at an address that the kernels' ahead-of-time
    code does not accept (it takes aligned arrays only)."""
    if isinstance(value, np.ndarray):
        return np.require(value, requirements="CAW")
    return value


def usable_arrays(state):
    """:func:`usable` on every attribute of ``state``."""
    for name, value in vars(state).items():
        setattr(state, name, usable(value))


def held_bytes(state):
    """The bytes of the arrays an object holds as attributes: its ``__sizeof__`` for the
    per-row states kept on a worker, which Dask counts to decide when to spill results
    to disk (by default it would count a few dozen bytes, and never spill them)."""
    arrays = [value for value in vars(state).values() if isinstance(value, np.ndarray)]
    return 100 + sum(array.nbytes for array in arrays)


def assign_step(run, rows, weights, algorithm, centers_before, centers):
    """One assignment step on the chunk's prepared rows: returns ``(run, (changed, sums,
    weights))``, the labels changed and the chunk's Σ w x and Σ w of each cluster (float64).

    ``run`` None starts a :class:`ChunkRun` of ``algorithm``.  ``centers_before`` are the
    centers of the previous step (None at the first): Hamerly's and Elkan's bounds are
    moved by how far each center went.
    """
    if run is None:
        run = ChunkRun(algorithm, rows.shape[0], centers.shape[0])
    return run, assign_rows(run, rows, weights, centers_before, centers)


def assign_rows(run, rows, weights, centers_before, centers):
    """:func:`assign_step` on the chunk's centered rows: ``(changed, sums, weights)``."""
    n_clusters, n_features = centers.shape
    sums, totals = np.zeros((n_clusters, n_features)), np.zeros(n_clusters)
    if rows.shape[0] == 0:
        return 0, sums, totals
    with chunk_threads(rows.shape[0]):
        if run.assignment is None:
            run.assignment = ALGORITHMS[run.algorithm](rows, weights, n_clusters)
        else:
            run.assignment.X, run.assignment.sample_weight = rows, weights
        if centers_before is not None:
            run.assignment.centers_moved(centers_before, centers)
        labels = run.labels(out=thread_buffer("labels", (rows.shape[0],), np.int32))
        changed = run.assignment.assign_and_accumulate(centers, labels, sums, totals)
    run.keep(labels)
    run.assignment.X = run.assignment.sample_weight = None  # the data is read, not kept
    return int(changed), sums, totals


def farthest_rows(run, rows, weights, centers, n_rows):
    """The chunk's ``n_rows`` rows farthest from their own centers, farthest first (ties to
    the lowest row): ``(squared distances, rows, weights, labels)``, for re-seeding empty
    clusters."""
    distances = np.empty(rows.shape[0], dtype=rows.dtype)
    labels = run.labels()
    with chunk_threads(rows.shape[0]):
        sq_distances_to_assigned(rows, centers, labels, distances)
    far = np.argsort(-distances, kind="stable")[:n_rows]
    return distances[far], rows[far], weights[far], labels[far]


def finish_run(run, rows, weights, centers_before, centers, reassign):
    """The chunk's final labels (after one more assignment step if ``reassign``), then its
    inertia Σ w ‖x − c_l‖² in float64 and its rows per cluster:
    ``(labels, (inertia, sizes))``."""
    if reassign:
        assign_rows(run, rows, weights, centers_before, centers)
    labels = run.labels()
    sizes = np.bincount(labels, minlength=centers.shape[0])
    if rows.shape[0] == 0:
        return labels, (0.0, sizes)
    with chunk_threads(rows.shape[0]):
        inertia = float(inertia_of_labels(rows, weights, centers, labels))
    return labels, (inertia, sizes)


def checked_rows_of(chunk, dtype):
    """The rows of a chunk given to ``predict``, ``transform`` or ``score``
    (:func:`rows_of`), refused, as ``fit`` refuses them, if any is NaN or infinite."""
    rows = rows_of(chunk, dtype)
    check_finite(rows, "X")
    return rows


def nearest_rows(rows, centers):
    """``(labels, squared distances)`` of each row's nearest center (ties to the lowest);
    with no centers (a k-means|| round that drew no row), every row is infinitely far,
    labelled 0."""
    if rows.shape[0] == 0 or centers.shape[0] == 0:
        return np.zeros(rows.shape[0], np.int32), np.full(rows.shape[0], np.inf, rows.dtype)
    labels = np.empty(rows.shape[0], dtype=np.int32)
    distances = np.empty(rows.shape[0], dtype=rows.dtype)
    centers = rows_of(centers, rows.dtype)
    with chunk_threads(rows.shape[0]):
        assign_labels(rows, np.ones(rows.shape[0], dtype=rows.dtype), centers, labels)
        sq_distances_to_assigned(rows, centers, labels, distances)
    return labels, distances


def predict_chunk(chunk, centers):
    """Labels of the chunk's rows: the index of their nearest center."""
    return nearest_rows(checked_rows_of(chunk, centers.dtype), centers)[0]


def transform_chunk(chunk, centers):
    """``out[i, j] = ‖x_i − c_j‖`` for the chunk's rows."""
    rows, centers = checked_rows_of(chunk, centers.dtype), rows_of(centers, centers.dtype)
    distances = np.empty((rows.shape[0], centers.shape[0]), dtype=centers.dtype)
    with chunk_threads(rows.shape[0]):
        euclidean_distances_to_centers(rows, centers, distances)
    return distances


def chunk_inertia(chunk, weights, centers):
    """Σ w_i min_j ‖x_i − c_j‖² over the chunk's rows, in float64."""
    rows, centers = checked_rows_of(chunk, centers.dtype), rows_of(centers, centers.dtype)
    weights = weights_of(weights, rows.shape[0], rows.dtype)
    if rows.shape[0] == 0:
        return 0.0
    labels = np.empty(rows.shape[0], dtype=np.int32)
    with chunk_threads(rows.shape[0]):
        return float(assign_labels(rows, weights, centers, labels))
