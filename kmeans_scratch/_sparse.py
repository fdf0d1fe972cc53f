"""K-Means on sparse rows (SciPy's CSR): distances, Lloyd's step, k-means++, moments.

Text as TF-IDF, one-hot features and other sparse data have thousands of columns and a
few nonzeros per row.  A row x is kept as its nonzeros (CSR: ``data``, ``indices``,
``indptr``); a center c is dense.  The squared distance costs one pass over x's nonzeros:

    ‖x − c‖² = ‖x‖² + κ(x, c),     κ(x, c) = ‖c‖² − 2 x·c,   x·c = Σ_{f: x_f ≠ 0} x_f c_f,

with ‖x‖² computed once per row and ‖c‖² once per center and iteration (NumPy's einsum,
as scikit-learn's ``row_norms``).  The nearest center is argmin_j κ(x, c_j), ties to the
lowest j, the comparison scikit-learn's sparse Lloyd step makes, in float64; the squared
distance is D̃ = max(‖x‖² + κ, 0).  One pair gives one κ wherever it is computed
(:func:`row_keys` and :func:`pair_key` add the products in the same order), so Lloyd's,
Hamerly's and Elkan's steps on sparse rows (:mod:`._sparse_bounds`) pick the same labels.

Why κ and not D̃: TF-IDF rows have length 1 and k-means++ seeds are rows, so a row sharing
no column with several seeds is at D = 2 from each; only ‖c‖² orders them, and adding
‖x‖² would round those differences away.

The expansion rounds: with unit roundoff u (float64), |D̃ − ‖x − c‖²| ≤ E(x) =
2 (nnz(x) + d + 4) u (‖x‖² + max_j ‖c_j‖²), a bound that
:func:`~._sparse_bounds.distance_slack` turns into one on distances, √E.

As in scikit-learn, sparse rows are never centered (it would fill them), and a fit on
CSR input gives the labels and centers of the fit on the same rows dense, up to
rounding ties.  Nothing here imports SciPy: a sparse matrix is recognized by its methods,
so that the image layer, which never meets one, never pays SciPy's import.
"""

import numpy as np

from ._blocks import block_bounds, n_blocks_for, ordered_sum
from ._kernels import kernel, prange
from ._seeding import default_local_trials
from ._validation import check_finite

#: The rows are labelled in this many chunks at most (spread over the threads).
LABEL_CHUNKS = 256


def is_sparse(X):
    """Whether ``X`` is a SciPy sparse matrix or array (without importing SciPy)."""
    return not isinstance(X, np.ndarray) and hasattr(X, "tocsr") and hasattr(X, "nnz")


def check_sparse_rows(X, name="X", copy=False):
    """``X`` as CSR rows of float32 or float64 (anything else becomes float64), with each
    row's columns sorted and summed once, finite, at least one row and one column."""
    if X.ndim != 2:
        raise ValueError(f"Expected 2D sparse matrix for {name}, got dim {X.ndim}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} has 0 samples (shape {X.shape}); at least 1 is required")
    if X.shape[1] == 0:
        raise ValueError(f"{name} has 0 features (shape {X.shape}); at least 1 is required")
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {X.dtype}")
    csr = X.tocsr(copy=copy).astype(dtype, copy=False)
    if not csr.has_canonical_format:  # duplicate entries would count twice in ‖x‖²
        csr = csr.copy() if csr is X else csr
        csr.sum_duplicates()
    check_finite(csr.data, name)
    return csr


def csr_parts(X):
    """The arrays of a CSR matrix, as the kernels take them."""
    return X.data, X.indices, X.indptr


@kernel(parallel=True)
def row_sq_norms(data, indptr):
    """‖x_i‖² = Σ_p data[p]² over row i's nonzeros, in float64."""
    n_samples = indptr.shape[0] - 1
    out = np.empty(n_samples)
    for i in prange(n_samples):
        total = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            value = np.float64(data[p])
            total += value * value
        out[i] = total
    return out


def center_arrays(centers):
    """``(centers, centers_t, center_sq)`` in float64: the centers by rows and by
    columns (d, k), and ‖c_j‖² (NumPy's einsum, as scikit-learn's ``row_norms``)."""
    centers = np.ascontiguousarray(centers, dtype=np.float64)
    return centers, np.ascontiguousarray(centers.T), np.einsum("ij,ij->i", centers, centers)


@kernel(inline="always")
def sq_distance(x_sq, key):
    """D̃ = max(‖x‖² + κ, 0), from the row's ‖x‖² and κ = ‖c‖² − 2 x·c."""
    return max(x_sq + key, 0.0)


@kernel
def row_keys(data, indices, start, end, centers_t, center_sq, keys):
    """``keys[j]`` = κ_j = ‖c_j‖² − 2 Σ_p data[p] c_j[indices[p]] for every center, p from
    start to end (one row's nonzeros): each nonzero reads one contiguous row of
    ``centers_t``."""
    keys[:] = 0.0
    for p in range(start, end):
        value = np.float64(data[p])
        column = centers_t[indices[p]]
        for j in range(keys.shape[0]):
            keys[j] += value * column[j]
    for j in range(keys.shape[0]):
        keys[j] = center_sq[j] - 2.0 * keys[j]


@kernel
def pair_key(data, indices, start, end, centers_t, j, center_sq):
    """κ between one row (nonzeros ``start … end − 1``) and center ``j``: the value
    :func:`row_keys` gives for it (products added in the same order).  The centers are
    read by column, as there: the cache lines a row brings in serve its other centers."""
    dot = 0.0
    for p in range(start, end):
        dot += np.float64(data[p]) * centers_t[indices[p], j]
    return center_sq[j] - 2.0 * dot


@kernel
def nearest_of_keys(keys):
    """``(j, κ_j)`` of the smallest κ (ties to the lowest index), and the second smallest."""
    best, best_key, second_key = 0, np.inf, np.inf
    for j in range(keys.shape[0]):
        key = keys[j]
        if key < best_key:
            best, second_key, best_key = j, best_key, key
        elif key < second_key:
            second_key = key
    return best, best_key, second_key


@kernel(parallel=True)
def label_rows(data, indices, indptr, x_sq, centers_t, center_sq, labels, changed, nearest_sq):
    """Lloyd's assignment: ``labels[i] = argmin_j κ(x_i, c_j)`` (ties to the lowest j),
    ``changed[i]`` 1 where the label changed, ``nearest_sq[i]`` its D̃."""
    n_samples = x_sq.shape[0]
    n_chunks = min(n_samples, LABEL_CHUNKS)
    for chunk in prange(n_chunks):
        keys = np.empty(center_sq.shape[0])
        start, end = block_bounds(n_samples, n_chunks, chunk)
        for i in range(start, end):
            row_keys(data, indices, indptr[i], indptr[i + 1], centers_t, center_sq, keys)
            best, best_key, _ = nearest_of_keys(keys)
            changed[i] = labels[i] != best
            labels[i] = best
            nearest_sq[i] = sq_distance(x_sq[i], best_key)


@kernel
def rows_by_cluster(labels, n_clusters):
    """``(order, starts)``: the rows of cluster j are ``order[starts[j]:starts[j + 1]]``, in
    increasing order (a counting sort of the labels)."""
    starts = np.zeros(n_clusters + 1, dtype=np.int64)
    for i in range(labels.shape[0]):
        starts[labels[i] + 1] += 1
    for j in range(n_clusters):
        starts[j + 1] += starts[j]
    order = np.empty(labels.shape[0], dtype=np.int64)
    filled = starts[:-1].copy()
    for i in range(labels.shape[0]):
        order[filled[labels[i]]] = i
        filled[labels[i]] += 1
    return order, starts


@kernel(parallel=True)
def cluster_sums(data, indices, indptr, sample_weight, labels, center_sums, cluster_weights):
    """The M-step's sums, ``center_sums[j] = Σ w_i x_i`` and ``cluster_weights[j] = Σ w_i``
    over the rows with l_i = j (float64), each cluster on one thread, its rows added in
    increasing order: the same bits on any number of threads, and no per-block copies of
    the (k, d) sums, which are large for wide sparse rows."""
    n_clusters = center_sums.shape[0]
    order, starts = rows_by_cluster(labels, n_clusters)
    for j in prange(n_clusters):
        sums = center_sums[j]
        sums[:] = 0.0
        total = 0.0
        for t in range(starts[j], starts[j + 1]):
            i = order[t]
            weight = np.float64(sample_weight[i])
            total += weight
            for p in range(indptr[i], indptr[i + 1]):
                sums[indices[p]] += weight * data[p]
        cluster_weights[j] = total


class SparseRows:
    """CSR rows with what every step needs of them: their parts, ‖x_i‖², and the labels'
    inertia, distances and dense rows for the loop of ``_iterations``."""

    def __init__(self, X, sample_weight):
        self.X = X
        self.parts = csr_parts(X)
        self.sample_weight = sample_weight
        self.x_sq = row_sq_norms(X.data, X.indptr)
        self.changed = np.zeros(X.shape[0], dtype=np.uint8)  # 1 where a step changed a label

    def sq_distances_to_assigned(self, centers, labels, out):
        """``out[i] = D̃(x_i, c_{l_i})``."""
        _, centers_t, center_sq = center_arrays(centers)
        sq_distances_to_assigned(*self.parts, self.x_sq, centers_t, center_sq, labels, out)

    def inertia_of_labels(self, centers, labels):
        """Σ_i w_i D̃(x_i, c_{l_i}), in float64."""
        out = np.empty(self.x_sq.shape[0])
        self.sq_distances_to_assigned(centers, labels, out)
        return weighted_sum(self.sample_weight, out)

    def dense_row(self, i):
        return self.X[[i]].toarray()[0]

    def accumulate(self, labels, center_sums, cluster_weights):
        """The clusters' sums for the labels of a step; returns how many labels changed."""
        cluster_sums(*self.parts, self.sample_weight, labels, center_sums, cluster_weights)
        return int(self.changed.sum(dtype=np.int64))


class SparseLloydAssignment(SparseRows):
    """Lloyd's assignment step on CSR rows, for :func:`~._iterations.run_iterations`."""

    def __init__(self, X, sample_weight, n_clusters):
        super().__init__(X, sample_weight)
        self.nearest_sq = np.empty(X.shape[0])

    def assign_and_accumulate(self, centers, labels, center_sums, cluster_weights):
        _, centers_t, center_sq = center_arrays(centers)
        label_rows(
            *self.parts, self.x_sq, centers_t, center_sq, labels, self.changed, self.nearest_sq
        )
        return self.accumulate(labels, center_sums, cluster_weights)

    def centers_moved(self, centers_old, centers_new):
        pass


@kernel(parallel=True)
def sq_distances_to_assigned(data, indices, indptr, x_sq, centers_t, center_sq, labels, out):
    """``out[i] = D̃(x_i, c_{labels[i]})``."""
    for i in prange(x_sq.shape[0]):
        label = labels[i]
        key = pair_key(data, indices, indptr[i], indptr[i + 1], centers_t, label, center_sq)
        out[i] = sq_distance(x_sq[i], key)


@kernel(parallel=True)
def weighted_sum(sample_weight, values):
    """Σ_i w_i v_i in float64, per block, then the blocks in order."""
    n_samples = values.shape[0]
    n_blocks = n_blocks_for(n_samples, 8)
    partial = np.zeros(n_blocks)
    for block in prange(n_blocks):
        start, end = block_bounds(n_samples, n_blocks, block)
        for i in range(start, end):
            partial[block] += np.float64(sample_weight[i]) * values[i]
    return ordered_sum(partial)


def assign_labels(X, sample_weight, centers, labels):
    """``labels[i] = argmin_j D̃(x_i, c_j)``; returns Σ_i w_i min_j D̃(x_i, c_j) (``predict``
    and ``score`` on CSR rows)."""
    rows = SparseRows(X, sample_weight)
    _, centers_t, center_sq = center_arrays(centers)
    nearest_sq = np.empty(X.shape[0])
    label_rows(*rows.parts, rows.x_sq, centers_t, center_sq, labels, rows.changed, nearest_sq)
    return weighted_sum(sample_weight, nearest_sq)


@kernel(parallel=True)
def distances_to_centers(data, indices, indptr, x_sq, centers_t, center_sq, squared, out):
    """``out[i, j] = √D̃(x_i, c_j)`` (``transform`` on CSR rows), or D̃ if ``squared``."""
    n_samples = x_sq.shape[0]
    n_chunks = min(n_samples, LABEL_CHUNKS)
    for chunk in prange(n_chunks):
        keys = np.empty(center_sq.shape[0])
        start, end = block_bounds(n_samples, n_chunks, chunk)
        for i in range(start, end):
            row_keys(data, indices, indptr[i], indptr[i + 1], centers_t, center_sq, keys)
            for j in range(keys.shape[0]):
                sq = sq_distance(x_sq[i], keys[j])
                out[i, j] = sq if squared else np.sqrt(sq)


def transform(X, centers):
    """Euclidean distance of every CSR row to every center, in the rows' dtype."""
    _, centers_t, center_sq = center_arrays(centers)
    out = np.empty((X.shape[0], centers.shape[0]), dtype=X.dtype)
    x_sq = row_sq_norms(X.data, X.indptr)
    distances_to_centers(*csr_parts(X), x_sq, centers_t, center_sq, False, out)
    return out


def column_moments(X, sample_weight):
    """Weighted mean and variance of every column (float64), the zeros included:
    mean_f = Σ_i w_i x_if / W and var_f = Σ_i w_i x_if² / W − mean_f² (the tolerance's
    scale; ``_blocks.column_moments`` for dense rows)."""
    weights = sample_weight.astype(np.float64)
    total = weights.sum()
    mean = (X.T @ weights) / total
    squares = X.multiply(X).T @ weights / total
    return mean, np.maximum(squares - mean * mean, 0.0)


def kmeans_plusplus(X, n_clusters, sample_weight, random_state, n_local_trials=None):
    """Greedy k-means++ on CSR rows; returns ``(centers, indices)``, centers dense.

    D² of a row is its D̃ to the nearest seed, as scikit-learn's is ‖x‖² − 2 x·c + ‖c‖².

    The draws are those of ``_seeding.greedy_kmeans_plusplus``, which picks the same rows
    of the same data dense: the first row with probability w_i / W, then, per center,
    ``n_local_trials`` rows drawn with probability w_i D(x_i)² / φ, where D(x)² is the
    squared distance to the nearest center so far and φ = Σ_i w_i D(x_i)², and the one
    that leaves the lowest φ kept.  Each step costs one pass over the nonzeros per
    candidate (:func:`label_rows`'s products); D² and φ are float64.
    """
    n_samples = X.shape[0]
    if n_local_trials is None:
        n_local_trials = default_local_trials(n_clusters)
    weights = sample_weight.astype(np.float64)
    indices = np.full(n_clusters, -1, dtype=int)
    indices[0] = random_state.choice(n_samples, p=sample_weight / sample_weight.sum())
    rows = SparseRows(X, sample_weight)
    closest_sq = sq_distances_to_points(rows, X[indices[:1]].toarray())[:, 0]
    uniforms = random_state.uniform(size=(n_clusters - 1, n_local_trials))
    for c in range(1, n_clusters):
        running = np.cumsum(weights * closest_sq)
        candidate_ids = np.searchsorted(running, uniforms[c - 1] * running[-1])
        np.minimum(candidate_ids, n_samples - 1, out=candidate_ids)
        candidates = X[candidate_ids].toarray()
        candidate_sq = np.minimum(closest_sq[:, None], sq_distances_to_points(rows, candidates))
        best = np.argmin(weights @ candidate_sq)
        indices[c] = candidate_ids[best]
        closest_sq = candidate_sq[:, best].copy()
    return X[indices].toarray(), indices


def sq_distances_to_points(rows, points):
    """(n_samples, m) D̃ from every row to every one of the m dense ``points``."""
    _, points_t, point_sq = center_arrays(points)
    out = np.empty((rows.x_sq.shape[0], points.shape[0]))
    distances_to_centers(*rows.parts, rows.x_sq, points_t, point_sq, True, out)
    return out
