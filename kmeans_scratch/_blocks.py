"""Rows split into blocks: parallel sums that give the same bits on any number of threads.

Every parallel kernel of the package splits the samples into *blocks*: contiguous ranges
of rows, processed by ``prange``, each owning its own accumulator row.  The accumulators
are merged afterwards in block order, so a result never depends on how many threads ran
or how the scheduler interleaved them: the same input gives the same bits on 1 core or 64.
The number of blocks depends only on the problem size (``n_samples``, and the size of one
accumulator row), never on the thread count.

Here: how many blocks (:func:`n_blocks_for`) and which rows each holds
(:func:`block_bounds`; k-means++'s tiles: :func:`tile_bounds`), sums in a fixed order
(:func:`ordered_sum`, :func:`column_sums`), the per-block cluster sums of an assignment
step (:func:`block_sums_for`, :func:`sum_rows`, :func:`add_rows`, :func:`merge_blocks`),
the weighted mean and variance of the columns (:func:`column_means`,
:func:`column_moments`) and the centering of rows by the mean (:func:`each_row`).
"""

import numpy as np

from ._kernels import kernel, prange

#: Smallest number of rows worth a block of its own.
MIN_BLOCK_ROWS = 2048

#: Upper bound on the number of blocks (enough to keep any common core count busy).
MAX_BLOCKS = 256

#: Memory budget for all per-block accumulators of one kernel call, in bytes.
ACCUMULATOR_BUDGET_BYTES = 16 * 2**20

#: Rows per tile of k-means++'s potentials (:mod:`._seeding`): small tiles are small
#: boxes, which candidates reach less often.
SEEDING_TILE_ROWS = 128


@kernel
def n_blocks_for(n_samples, accumulator_row_bytes):
    """Number of blocks for ``n_samples`` rows, each with an accumulator row of the given bytes.

    ``min(MAX_BLOCKS, n_samples // MIN_BLOCK_ROWS, budget // accumulator_row_bytes)``,
    and at least 1: a pure function of the problem size, so results are reproducible.
    """
    n_blocks = min(MAX_BLOCKS, n_samples // MIN_BLOCK_ROWS)
    n_blocks = min(n_blocks, ACCUMULATOR_BUDGET_BYTES // max(accumulator_row_bytes, 1))
    return max(n_blocks, 1)


@kernel
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


@kernel
def block_bounds(n_samples, n_blocks, block):
    """Rows ``[start, end)`` of ``block`` when ``n_samples`` rows are split into ``n_blocks``."""
    start = (n_samples * block) // n_blocks
    end = (n_samples * (block + 1)) // n_blocks
    return start, end


@kernel
def tile_bounds(n_samples, tile):
    """Rows ``[start, end)`` of a tile of ``SEEDING_TILE_ROWS`` (k-means++'s potentials)."""
    return tile * SEEDING_TILE_ROWS, min((tile + 1) * SEEDING_TILE_ROWS, n_samples)


@kernel
def blocks_in(blocks):
    """How many blocks the run ``blocks`` = (first, stop, step) holds: first, first + step,
    … below stop.  A kernel that takes one loops ``for run in prange(blocks_in(blocks))``
    over ``block_of(blocks, run)``: (0, B, 1) is every block, and T threads that each take
    (t, B, T) share the blocks in turn (see :func:`kmeans_scratch._kernels.run_blocks`)."""
    first, stop, step = blocks
    return max(0, (stop - first + step - 1) // step)


@kernel
def block_of(blocks, run):
    """The ``run``-th block of the run ``blocks`` = (first, stop, step) (see :func:`blocks_in`)."""
    return blocks[0] + run * blocks[2]


def block_sums_for(n_samples, n_clusters, n_features):
    """Per-block cluster sums ``(sums (B, k, d), weights (B, k))`` for an assignment step.

    They are kept from one iteration to the next: a block in which no label changed has
    the same sums as before (same rows, same labels, same order), so only blocks with a
    change are summed again.  The result is the same bits as summing everything anew.
    """
    # Called from Python: the plain function behind the kernel, not a compiled one to load.
    n_blocks = n_blocks_for.py_func(n_samples, 4 * n_clusters * (n_features + 1) * 8)
    return np.zeros((n_blocks, n_clusters, n_features)), np.zeros((n_blocks, n_clusters))


@kernel
def sum_rows(X, sample_weight, labels, start, end, sums, weights):
    """Write the sums of rows ``start..end``: ``sums[j] = Σ w_i x_i``, ``weights[j] = Σ w_i``
    over l_i = j, in float64 (:func:`add_rows` into fresh lanes, then :func:`lanes_into`)."""
    lanes = np.zeros((4, sums.shape[0], sums.shape[1] + 1))
    add_rows(X, sample_weight, labels, start, end, start, lanes)
    lanes_into(lanes, sums, weights)


@kernel
def add_rows(X, sample_weight, labels, start, end, origin, lanes):
    """Add rows ``start..end`` to the partial sums ``lanes`` (4, k, d + 1) of a block that
    begins at row ``origin``: w_i x_i and w_i go to lane (i − origin) mod 4 of cluster l_i.

    Rows are dealt in turn to four lanes, added up at the end in a fixed order
    (:func:`lanes_into`): consecutive rows usually share a label (neighboring pixels), and
    with a single accumulator every addition would wait for the one before.  A block added
    in several pieces gives the same bits as in one.
    """
    n_features = lanes.shape[2] - 1
    for i in range(start, end):
        row = lanes[(i - origin) & 3, labels[i]]
        weight = np.float64(sample_weight[i])
        row[n_features] += weight
        for f in range(n_features):
            row[f] += X[i, f] * weight


@kernel
def lanes_into(lanes, sums, weights):
    """``sums[j] = ((lane 0 + lane 1) + lane 2) + lane 3`` of cluster j, ``weights`` the same."""
    n_clusters, n_features = sums.shape
    for j in range(n_clusters):
        weights[j] = (
            (lanes[0, j, n_features] + lanes[1, j, n_features]) + lanes[2, j, n_features]
        ) + lanes[3, j, n_features]
        for f in range(n_features):
            sums[j, f] = ((lanes[0, j, f] + lanes[1, j, f]) + lanes[2, j, f]) + lanes[3, j, f]


@kernel
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


@kernel
def column_sums(rows):
    """Σ_t rows[t, c] for every column c, adding the rows in order (float64)."""
    totals = np.zeros(rows.shape[1])
    for t in range(rows.shape[0]):
        totals += rows[t]
    return totals


@kernel(parallel=True)
def column_means(X, sample_weight):
    """Weighted mean of every column, in float64: with W = Σ_i w_i,
    ``mean_f = Σ_i w_i x_if / W``; summed per block, the blocks added in order (the same
    bits on any number of threads).  Returns ``(mean, W)``."""
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
    return totals[:n_features] / totals[n_features], totals[n_features]


@kernel(parallel=True)
def column_moments(X, sample_weight):
    """Weighted mean and variance of every column, in float64: with W = Σ_i w_i,
    ``mean_f = Σ_i w_i x_if / W`` (:func:`column_means`) and
    ``var_f = Σ_i w_i (x_if − mean_f)² / W``.

    Two passes over the rows, so the variance has no cancellation; each pass sums per block
    and adds the blocks in order (the same bits on any number of threads).  NumPy's
    reductions along axis 0 of a tall (n, 3) array are many times slower.
    """
    n_samples, n_features = X.shape
    mean, total_weight = column_means(X, sample_weight)
    n_blocks = n_blocks_for(n_samples, 8 * (n_features + 1))
    squares = np.zeros((n_blocks, n_features))
    for block in prange(n_blocks):
        start, end = block_bounds(n_samples, n_blocks, block)
        for i in range(start, end):
            weight = np.float64(sample_weight[i])
            for f in range(n_features):
                diff = X[i, f] - mean[f]
                squares[block, f] += weight * diff * diff
    return mean, column_sums(squares) / total_weight


def each_row(ufunc, X, row, out):
    """``ufunc(X, row, out=out)`` for an (n, d) ``X`` and a (d,) ``row`` (``numpy.subtract``
    centers the rows by their mean, ``numpy.add`` undoes it), in ``out``'s dtype; the same
    bits, element by element.

    Where ``X``, ``row`` and ``out`` share a dtype and the matrices are C-contiguous and
    aligned (a fit's rows), :func:`add_row` does it (x − m = x + (−m) exactly): NumPy
    broadcasts a short row over narrow rows three times slower than it streams a long
    one, and into a new (n, d) array it spends about as long again as a copy.  (A Dask
    chunk from bytes may start at an address that the ahead-of-time code refuses.)
    """
    same_dtype = X.dtype == out.dtype == row.dtype and ufunc in (np.add, np.subtract)
    contiguous = X.flags.c_contiguous and out.flags.c_contiguous and out.flags.writeable
    if same_dtype and contiguous and X.flags.aligned and out.flags.aligned:
        add_row(X, row if ufunc is np.add else -row, out)
    else:
        ufunc(X, row, out=out, dtype=out.dtype)
    return out


@kernel
def add_row(X, row, out):
    """``out[i, f] = X[i, f] + row[f]`` for every row i, on one thread.

    ``out`` is most often a new array, whose pages the system maps as they are first
    written.  Two threads writing it at once made that take 20–90 ms instead of 3–6, in
    about half the runs, on this project's virtual machine (new (n, d) arrays of 10⁷
    values, medians of 10 calls per process, 8 processes: one thread never over 15 ms;
    its median 5.4–6.5 ms on float32 rows of 128 and 784, 10 ms on 3.3 M float32 rows of
    3, against NumPy's 6.8–7.8 and 19–20 ms).
    """
    for i in range(X.shape[0]):
        for f in range(X.shape[1]):
            out[i, f] = X[i, f] + row[f]
