"""The nearest-center tile kernel: the two nearest centers of 256 points at a time, in SIMD.

Every algorithm's assignment goes through :func:`nearest_centers_tile` (or, for one point,
:func:`sq_distances_to_all`): rows are copied transposed into a tile
(:func:`transpose_tile`, :func:`gather_tile`), centers padded to groups of four
(:func:`padded_centers`).  :func:`label_tile` labels a run of rows this way (Lloyd's step
and the labels of every row); Hamerly's search gathers the rows whose bounds fail.
Squared distances are computed directly,
``Σ_f (x_f − c_f)²`` in the data's dtype and in the order f = 0, 1, …; Hamerly's and
Elkan's single distances (:func:`sq_distance_tile_order`) follow the same order, so equal
inputs give equal bits whichever path computed them.

The same step in plain NumPy: ``kmeans_scratch.reference.squared_distances`` and an
``argmin``.
"""

import numpy as np

from ._kernels import kernel

#: Rows handled together by :func:`nearest_centers_tile`; its buffers stay in L1 cache.
TILE_ROWS = 256

#: Centers compared in one pass over a tile (register blocking).
CENTER_GROUP = 4


@kernel
def transpose_tile(X, start, end, x_t):
    """Copy rows ``start..end`` of ``X`` into the columns of ``x_t`` (n_features, TILE_ROWS)."""
    for p in range(end - start):
        for f in range(X.shape[1]):
            x_t[f, p] = X[start + p, f]


@kernel
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


@kernel
def gather_tile(X, rows, x_t):
    """Copy the rows ``rows`` of ``X`` into the columns of ``x_t`` (n_features, TILE_ROWS)."""
    for p in range(rows.shape[0]):
        for f in range(X.shape[1]):
            x_t[f, p] = X[rows[p], f]


@kernel
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


# Inlined into its callers, the block loops of Lloyd's step and of the labels.
@kernel(inline="always")
def label_tile(X, tile_start, n_rows, centers, x_t, buffers, labels):
    """Label rows ``tile_start … tile_start + n_rows − 1`` of ``X`` (at most ``TILE_ROWS``)
    with their nearest centers (padded, see :func:`padded_centers`).

    Returns the rows' squared distances to those centers (a view into ``buffers``) and how
    many of the rows' labels changed.
    """
    transpose_tile(X, tile_start, tile_start + n_rows, x_t)
    nearest_sq, nearest, _ = nearest_centers_tile(x_t, n_rows, centers, buffers)
    changed = 0
    for p in range(n_rows):
        if nearest[p] != labels[tile_start + p]:
            changed += 1
            labels[tile_start + p] = nearest[p]
    return nearest_sq, changed


@kernel
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
@kernel(inline="always")
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


@kernel
def sq_distance_tile_order(x, c):
    """``||x - c||²`` summed in the dtype of ``x`` in the order of :func:`nearest_centers_tile`.

    Hamerly's and Elkan's iterations compare these values where Lloyd's would compare the
    tile kernel's, so equal inputs must give equal bits.
    """
    total = x.dtype.type(0)
    for f in range(x.shape[0]):
        diff = x[f] - c[f]
        total += diff * diff
    return total


@kernel(inline="always")
def sq_distances_tile_order_four_pairs(rows, firsts, others):
    """``‖x_q − a_q‖²`` and ``‖x_q − b_q‖²`` for four rows ``rows = (x_0, …, x_3)`` and
    their centers ``firsts = (a_0, …)`` and ``others = (b_0, …)``, as the tuple (‖x_0 −
    a_0‖², ‖x_0 − b_0‖², ‖x_1 − a_1‖², …), each summed exactly as by
    :func:`sq_distance_tile_order` (the same bits): eight sums side by side in one pass,
    where each alone is a chain of additions that waits for the one before."""
    x_0, x_1, x_2, x_3 = rows
    a_0, a_1, a_2, a_3 = firsts
    b_0, b_1, b_2, b_3 = others
    s_0 = s_1 = s_2 = s_3 = s_4 = s_5 = s_6 = s_7 = x_0.dtype.type(0)
    for f in range(x_0.shape[0]):
        d_0, d_1 = x_0[f] - a_0[f], x_0[f] - b_0[f]
        d_2, d_3 = x_1[f] - a_1[f], x_1[f] - b_1[f]
        d_4, d_5 = x_2[f] - a_2[f], x_2[f] - b_2[f]
        d_6, d_7 = x_3[f] - a_3[f], x_3[f] - b_3[f]
        s_0 += d_0 * d_0
        s_1 += d_1 * d_1
        s_2 += d_2 * d_2
        s_3 += d_3 * d_3
        s_4 += d_4 * d_4
        s_5 += d_5 * d_5
        s_6 += d_6 * d_6
        s_7 += d_7 * d_7
    return s_0, s_1, s_2, s_3, s_4, s_5, s_6, s_7


@kernel(inline="always")
def sq_distances_tile_order_two(x, c_0, c_1):
    """``(||x - c_0||², ||x - c_1||²)``, each summed exactly as by
    :func:`sq_distance_tile_order` (the same bits), in one pass over ``x``: the two sums
    do not wait for each other."""
    total_0 = total_1 = x.dtype.type(0)
    for f in range(x.shape[0]):
        diff_0 = x[f] - c_0[f]
        diff_1 = x[f] - c_1[f]
        total_0 += diff_0 * diff_0
        total_1 += diff_1 * diff_1
    return total_0, total_1
