"""Numba kernels shared by every K-Means iteration: blocks, nearest center, inertia.

Every parallel kernel here splits the samples into *blocks*: contiguous ranges of rows,
processed by ``prange`` and each owning its own accumulator row.  The accumulators are
merged afterwards in block order, so a result never depends on how many threads ran or
how the scheduler interleaved them: the same input gives the same bits on 1 core or 64.
The number of blocks depends only on the problem size (``n_samples``, and the size of one
accumulator row), never on the thread count.

Squared distances are computed directly, ``sum_f (x_f - c_f)**2``, not by the expansion
``||x||² - 2 x·c + ||c||²`` that a BLAS-based implementation uses; the direct form has no
cancellation, so a point close to a center gets an accurate distance even in float32.
"""

import numpy as np
from numba import njit, prange

#: Smallest number of rows worth a block of its own.
MIN_BLOCK_ROWS = 2048
#: Upper bound on the number of blocks (enough to keep any common core count busy).
MAX_BLOCKS = 256
#: Memory budget for all per-block accumulators of one kernel call, in bytes.
ACCUMULATOR_BUDGET_BYTES = 16 * 2**20


@njit(cache=True)
def n_blocks_for(n_samples, accumulator_row_bytes):
    """Number of blocks for ``n_samples`` rows, each with an accumulator row of the given bytes.

    ``min(MAX_BLOCKS, n_samples // MIN_BLOCK_ROWS, budget // accumulator_row_bytes)``,
    and at least 1: a pure function of the problem size, so results are reproducible.
    """
    n_blocks = min(MAX_BLOCKS, n_samples // MIN_BLOCK_ROWS)
    n_blocks = min(n_blocks, ACCUMULATOR_BUDGET_BYTES // max(accumulator_row_bytes, 1))
    return max(n_blocks, 1)


@njit(cache=True)
def ordered_sum(values):
    """``values[0] + values[1] + ...`` strictly left to right.

    Inside a ``parallel=True`` kernel, ``values.sum()`` would itself become a parallel
    reduction whose rounding depends on the thread count; this separately compiled,
    serial loop keeps the block order.
    """
    total = 0.0
    for value in values:
        total += value
    return total


@njit(cache=True)
def block_bounds(n_samples, n_blocks, block):
    """Rows ``[start, end)`` of ``block`` when ``n_samples`` rows are split into ``n_blocks``."""
    start = (n_samples * block) // n_blocks
    end = (n_samples * (block + 1)) // n_blocks
    return start, end


#: Rows handled together by :func:`nearest_centers_tile`; its buffers stay in L1 cache.
TILE_ROWS = 256
#: Centers compared in one pass over a tile (register blocking).
CENTER_GROUP = 4


@njit(cache=True)
def transpose_tile(X, start, end, x_t):
    """Copy rows ``start..end`` of ``X`` into the columns of ``x_t`` (n_features, TILE_ROWS)."""
    for p in range(end - start):
        for f in range(X.shape[1]):
            x_t[f, p] = X[start + p, f]


@njit(cache=True)
def padded_centers(centers):
    """The centers, plus rows of +inf up to a multiple of ``CENTER_GROUP``.

    A row of +inf is at infinite distance from every finite point, so it never wins a
    comparison and the tile kernel needs no separate loop for a last, partial group.
    """
    n_clusters, n_features = centers.shape
    n_padded = -(-n_clusters // CENTER_GROUP) * CENTER_GROUP
    padded = np.full((n_padded, n_features), np.inf, dtype=centers.dtype)
    padded[:n_clusters] = centers
    return padded


@njit(cache=True)
def gather_tile(X, rows, x_t):
    """Copy the rows ``rows`` of ``X`` into the columns of ``x_t`` (n_features, TILE_ROWS)."""
    for p in range(rows.shape[0]):
        for f in range(X.shape[1]):
            x_t[f, p] = X[rows[p], f]


@njit(cache=True)
def nearest_centers_tile(x_t, n_rows, centers, buffers):
    """The two nearest centers of each of the first ``n_rows`` points of a transposed tile.

    ``x_t`` holds one point per column (see :func:`transpose_tile`); ``centers`` comes from
    :func:`padded_centers`.  Returns ``(nearest_sq, nearest, second_sq)``, views into
    ``buffers``: for each point p, ``nearest[p] = argmin_j ||x_p - c_j||²`` (ties to the
    lowest j, as in scikit-learn), its squared distance, and the second smallest squared
    distance (which Hamerly's bounds need).

    Every inner loop runs over points, so LLVM turns it into SIMD code (8 float32 points
    per AVX2 instruction).  Centers are taken four at a time: a pass over feature f adds
    ``(x_t[f, p] - c_jf)²`` to the four partial sums of every point p, and the pass over
    the last feature completes the four distances and folds them, in order j..j+3, into
    the running best and second best with vector selects, never a branch.  The running
    values are read from one set of buffers and written to the other, swapped after every
    group, because a select that writes back to the address it read from is compiled into
    a masked store, which is slow on many x86 cores.
    """
    partial, best_sq, best_label, second_sq, next_sq, next_label, next_second = buffers
    n_centers, n_features = centers.shape
    last = n_features - 1
    best_sq[:n_rows] = np.inf
    second_sq[:n_rows] = np.inf
    best_label[:n_rows] = 0
    partial_0, partial_1, partial_2, partial_3 = partial[0], partial[1], partial[2], partial[3]
    for j in range(0, n_centers, CENTER_GROUP):
        partial[:, :n_rows] = 0.0
        for f in range(last):
            c_0, c_1, c_2, c_3 = (
                centers[j, f],
                centers[j + 1, f],
                centers[j + 2, f],
                centers[j + 3, f],
            )
            x_row = x_t[f]
            for p in range(n_rows):
                x = x_row[p]
                partial_0[p] += (x - c_0) * (x - c_0)
                partial_1[p] += (x - c_1) * (x - c_1)
                partial_2[p] += (x - c_2) * (x - c_2)
                partial_3[p] += (x - c_3) * (x - c_3)
        c_0, c_1, c_2, c_3 = (
            centers[j, last],
            centers[j + 1, last],
            centers[j + 2, last],
            centers[j + 3, last],
        )
        x_row = x_t[last]
        for p in range(n_rows):
            x = x_row[p]
            sq = best_sq[p]
            second = second_sq[p]
            label = best_label[p]
            sq_j = partial_0[p] + (x - c_0) * (x - c_0)
            label = j if sq_j < sq else label
            second = min(second, max(sq, sq_j))
            sq = min(sq_j, sq)
            sq_j = partial_1[p] + (x - c_1) * (x - c_1)
            label = j + 1 if sq_j < sq else label
            second = min(second, max(sq, sq_j))
            sq = min(sq_j, sq)
            sq_j = partial_2[p] + (x - c_2) * (x - c_2)
            label = j + 2 if sq_j < sq else label
            second = min(second, max(sq, sq_j))
            sq = min(sq_j, sq)
            sq_j = partial_3[p] + (x - c_3) * (x - c_3)
            next_label[p] = j + 3 if sq_j < sq else label
            next_second[p] = min(second, max(sq, sq_j))
            next_sq[p] = min(sq_j, sq)
        best_sq, next_sq = next_sq, best_sq
        best_label, next_label = next_label, best_label
        second_sq, next_second = next_second, second_sq
    return best_sq[:n_rows], best_label[:n_rows], second_sq[:n_rows]


@njit(cache=True)
def tile_buffers(n_features, dtype_source):
    """``(x_t, buffers)``: a transposed tile and the scratch of :func:`nearest_centers_tile`."""
    dtype = dtype_source.dtype
    x_t = np.empty((n_features, TILE_ROWS), dtype=dtype)
    buffers = (
        np.empty((CENTER_GROUP, TILE_ROWS), dtype=dtype),
        np.empty(TILE_ROWS, dtype=dtype),
        np.empty(TILE_ROWS, dtype=np.int32),
        np.empty(TILE_ROWS, dtype=dtype),
        np.empty(TILE_ROWS, dtype=dtype),
        np.empty(TILE_ROWS, dtype=np.int32),
        np.empty(TILE_ROWS, dtype=dtype),
    )
    return x_t, buffers


# Inlined into its callers: Hamerly's local search calls it per point, where a call costs
# 5–10 % of a whole fit.
@njit(cache=True, inline="always")
def sq_distances_to_all(x, centers_t, out):
    """``out[j] = ||x - c_j||²`` for every center, from the (n_features, n_clusters) transpose.

    The loop over centers is innermost and contiguous, so it runs as SIMD code.  The sums
    are formed in the dtype of ``out`` in the order f = 0, 1, ..., exactly as in
    :func:`nearest_centers_tile`, so both give the same bits for the same point and center.
    """
    n_features, n_clusters = centers_t.shape
    x_f = x[0]
    for j in range(n_clusters):
        diff = x_f - centers_t[0, j]
        out[j] = diff * diff
    for f in range(1, n_features):
        x_f = x[f]
        for j in range(n_clusters):
            diff = x_f - centers_t[f, j]
            out[j] += diff * diff


@njit(cache=True)
def sq_distance_exact_order(x, c):
    """``||x - c||²`` summed in the dtype of ``x`` in the order of :func:`nearest_centers_tile`.

    Hamerly's and Elkan's iterations compare these values where Lloyd's would compare the
    tile kernel's, so equal inputs must give equal bits.
    """
    total = x.dtype.type(0)
    for f in range(x.shape[0]):
        diff = x[f] - c[f]
        total += diff * diff
    return total


@njit(cache=True)
def sq_distance(a, b):
    """``||a - b||² = sum_f (a_f - b_f)²`` for two 1-D vectors of equal length, in float64."""
    total = 0.0
    for f in range(a.shape[0]):
        diff = a[f] - b[f]
        total += diff * diff
    return total


def block_sums_for(n_samples, n_clusters, n_features):
    """Per-block cluster sums ``(sums (B, k, d), weights (B, k))`` for an assignment step.

    They are kept from one iteration to the next: a block in which no label changed has
    the same sums as before (same rows, same labels, same order), so only blocks with a
    change are summed again.  The result is the same bits as summing everything anew.
    """
    # Called from Python: the plain function behind the kernel, not a compiled one to load.
    n_blocks = n_blocks_for.py_func(n_samples, 4 * n_clusters * (n_features + 1) * 8)
    return np.zeros((n_blocks, n_clusters, n_features)), np.zeros((n_blocks, n_clusters))


@njit(cache=True)
def sum_rows(X, sample_weight, labels, start, end, sums, weights):
    """Write the sums of rows ``start..end``: ``sums[j] = Σ w_i x_i``, ``weights[j] = Σ w_i``
    over l_i = j, in float64.

    Rows are dealt in turn to four partial accumulators, added up at the end in a fixed
    order: consecutive rows usually share a label (neighboring pixels), and with a single
    accumulator every addition would wait for the one before.
    """
    n_clusters, n_features = sums.shape
    lanes = np.zeros((4, n_clusters, n_features + 1))
    for i in range(start, end):
        lane = (i - start) & 3
        label = labels[i]
        weight = np.float64(sample_weight[i])
        lanes[lane, label, n_features] += weight
        for f in range(n_features):
            lanes[lane, label, f] += X[i, f] * weight
    for j in range(n_clusters):
        weights[j] = (
            (lanes[0, j, n_features] + lanes[1, j, n_features]) + lanes[2, j, n_features]
        ) + lanes[3, j, n_features]
        for f in range(n_features):
            sums[j, f] = ((lanes[0, j, f] + lanes[1, j, f]) + lanes[2, j, f]) + lanes[3, j, f]


@njit(cache=True)
def merge_blocks(block_sums, block_weights, block_changed, center_sums, cluster_weights):
    """Sum the block accumulators in block order into the outputs; return the labels changed."""
    center_sums[:] = 0.0
    cluster_weights[:] = 0.0
    changed = 0
    for block in range(block_sums.shape[0]):
        center_sums += block_sums[block]
        cluster_weights += block_weights[block]
        changed += block_changed[block]
    return changed


@njit(cache=True)
def column_sums(rows):
    """Σ_t rows[t, c] for every column c, adding the rows in order (float64)."""
    totals = np.zeros(rows.shape[1])
    for t in range(rows.shape[0]):
        totals += rows[t]
    return totals


@njit(parallel=True, cache=True)
def column_moments(X, sample_weight):
    """Weighted mean and variance of every column, in float64: with W = Σ_i w_i,
    ``mean_f = Σ_i w_i x_if / W`` and ``var_f = Σ_i w_i (x_if − mean_f)² / W``.

    Two passes over the rows, so the variance has no cancellation; each pass sums per block
    and adds the blocks in order (the same bits on any number of threads).  NumPy's
    reductions along axis 0 of a tall (n, 3) array are many times slower.
    """
    n_samples, n_features = X.shape
    n_blocks = n_blocks_for(n_samples, 8 * (n_features + 1))
    partial = np.zeros((n_blocks, n_features + 1))
    for block in prange(n_blocks):
        start, end = block_bounds(n_samples, n_blocks, block)
        for i in range(start, end):
            weight = np.float64(sample_weight[i])
            partial[block, n_features] += weight
            for f in range(n_features):
                partial[block, f] += weight * X[i, f]
    totals = column_sums(partial)
    total_weight = totals[n_features]
    mean = totals[:n_features] / total_weight
    squares = np.zeros((n_blocks, n_features))
    for block in prange(n_blocks):
        start, end = block_bounds(n_samples, n_blocks, block)
        for i in range(start, end):
            weight = np.float64(sample_weight[i])
            for f in range(n_features):
                diff = X[i, f] - mean[f]
                squares[block, f] += weight * diff * diff
    return mean, column_sums(squares) / total_weight


@njit(parallel=True, cache=True)
def assign_labels(X, sample_weight, centers, labels):
    """E-step: ``labels[i] = argmin_j ||x_i - c_j||²``; returns ``sum_i w_i min_j ||x_i - c_j||²``.

    The inertia is accumulated in float64 per block, then summed in block order.
    """
    n_samples, n_features = X.shape
    centers = padded_centers(centers)
    n_blocks = n_blocks_for(n_samples, 8)
    block_inertia = np.zeros(n_blocks)
    for block in prange(n_blocks):
        start, end = block_bounds(n_samples, n_blocks, block)
        x_t, buffers = tile_buffers(n_features, X)
        inertia = 0.0
        for tile_start in range(start, end, TILE_ROWS):
            n_rows = min(TILE_ROWS, end - tile_start)
            transpose_tile(X, tile_start, tile_start + n_rows, x_t)
            nearest_sq, nearest, _ = nearest_centers_tile(x_t, n_rows, centers, buffers)
            for p in range(n_rows):
                labels[tile_start + p] = nearest[p]
                inertia += nearest_sq[p] * np.float64(sample_weight[tile_start + p])
        block_inertia[block] = inertia
    return ordered_sum(block_inertia)


@njit(parallel=True, cache=True)
def inertia_of_labels(X, sample_weight, centers, labels):
    """Inertia of a given assignment: ``sum_i w_i ||x_i - c_{labels[i]}||²``, in float64."""
    n_samples = X.shape[0]
    n_blocks = n_blocks_for(n_samples, 8)
    block_inertia = np.zeros(n_blocks)
    for block in prange(n_blocks):
        start, end = block_bounds(n_samples, n_blocks, block)
        inertia = 0.0
        for i in range(start, end):
            inertia += sq_distance(X[i], centers[labels[i]]) * sample_weight[i]
        block_inertia[block] = inertia
    return ordered_sum(block_inertia)


@njit(parallel=True, cache=True)
def sq_distances_to_assigned(X, centers, labels, out):
    """``out[i] = ||x_i - c_{labels[i]}||²`` for every sample (used to relocate empty clusters)."""
    for i in prange(X.shape[0]):
        out[i] = sq_distance(X[i], centers[labels[i]])


@njit(parallel=True, cache=True)
def euclidean_distances_to_centers(X, centers, out):
    """``out[i, j] = ||x_i - c_j||``: the (n_samples, n_clusters) output of ``transform``."""
    for i in prange(X.shape[0]):
        for j in range(centers.shape[0]):
            out[i, j] = np.sqrt(sq_distance(X[i], centers[j]))


@njit(cache=True)
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
