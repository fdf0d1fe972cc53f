"""Nearest centers of wide data through BLAS, with the labels of the direct distances.

For rows of d features the tile kernel (:mod:`._tiles`) computes Σ_f (x_f − c_f)² for every
row and center: n·k·d subtractions and multiply-adds.  For d in the tens and more, the same
work is a matrix product, which BLAS does several times faster:

    ‖x − c‖² = ‖x‖² − 2 x·c + ‖c‖²,     x·c for a chunk of rows and every center = X Cᵀ.

The expansion rounds differently from the direct sum (it cancels when x is near c), so here
it only *finds* the nearest center.  With unit roundoff u of the data's dtype, the expanded
value D̃ of a true squared distance D is off by at most E = 2γ(‖x‖² + ‖c‖²), γ = (d + 2) u
(to first order), and the direct sum D̂ (the tile kernel's) by at most γ' D, γ' = (d + 3) u.
If center j has the smallest direct distance and center m the smallest expanded one,

    D̃_j − D̃_m ≤ 2E + 3γ' (D̃_m + E),

so every center whose expanded distance is within that margin of the smallest is measured
again directly, in the tile kernel's order (:func:`~._tiles.sq_distance_tile_order`), and
the smallest direct distance wins, ties to the lowest index.  A row with one such
candidate (nearly every row) takes it as it is.  The labels are therefore the tile
kernel's, bit for bit, at any width; only the time differs.

Chosen by :func:`uses_blas` from the shape of the problem (measured in ``benchmarks/``).
"""

import numpy as np

from ._blocks import block_bounds, merge_blocks, sum_rows
from ._cores import usable_cores
from ._kernels import get_threads, kernel, prange
from ._tiles import sq_distance_tile_order

#: From this many features on, the assignment may run through BLAS (see :func:`uses_blas`).
BLAS_MIN_FEATURES = 16

#: Memory for the products of one chunk of rows with every center, in bytes: they stay
#: in the cache of the core that computed them until they are read.
CHUNK_BYTES = 256 * 2**10


def uses_blas(n_features, n_clusters):
    """Whether the nearest centers of rows of ``n_features`` among ``n_clusters`` are found
    through BLAS: where it was faster than the tile kernel in float32 and float64 on this
    project's 2-core machine (20 Lloyd iterations, n·d = 10⁷; ``tests/test_wide.py`` holds
    the two to the same labels): from 64 features, from 32 with 32 clusters or more, from
    16 with 128 or more.  The tile kernel's direct form needs a subtraction more per term
    than a product, which matters as d grows; BLAS pays for the products' round trip
    through memory, which matters when d is small beside k."""
    if n_clusters < 2 or n_features < BLAS_MIN_FEATURES:
        return False
    if n_features >= 4 * BLAS_MIN_FEATURES:
        return True
    return n_clusters >= (32 if n_features >= 2 * BLAS_MIN_FEATURES else 128)


def row_sq_norms(X):
    """‖x_i‖² of every row, in float64 (the margins' scale)."""
    return np.einsum("ij,ij->i", X, X, dtype=np.float64)


@kernel(nogil=True)
def nearest_of_products(
    X, start, products_t, centers, center_sq, x_sq, margin_unit, labels, changed
):
    """Label rows ``start … start + m − 1`` of ``X`` from their products with the centers.

    Inputs: ``products_t[j, p] = c_j · x_{start+p}`` (in the data's dtype; one row per
    center, so that every inner loop runs over the rows, as SIMD code), ``center_sq[j] =
    ‖c_j‖²`` and ``x_sq[i] = ‖x_i‖²`` (float64), ``margin_unit = (d + 4) u``.
    Outputs: ``labels[i]`` the nearest center by the direct distance (see the module's
    docstring), ``changed[i]`` 1 where the label changed, else 0.  Runs without the GIL:
    the chunks of :func:`label_rows` run on several threads at once.

    The expanded values ‖c_j‖² − 2 c_j·x (‖x‖² left out: the same for every center) are
    folded center by center into each row's smallest, its center and the second smallest;
    a row whose second smallest is beyond the margin has one candidate, the others are
    measured again directly.
    """
    n_clusters, n_rows = products_t.shape
    largest_center_sq = center_sq.max()
    best = np.full(n_rows, np.inf)
    second = np.full(n_rows, np.inf)
    nearest = np.zeros(n_rows, dtype=np.int32)
    for j in range(n_clusters):
        c_sq = center_sq[j]
        products = products_t[j]
        for p in range(n_rows):
            expanded = c_sq - 2.0 * products[p]
            smallest = best[p]
            nearest[p] = j if expanded < smallest else nearest[p]
            second[p] = min(second[p], max(smallest, expanded))
            best[p] = min(expanded, smallest)
    for p in range(n_rows):
        i = start + p
        scale = x_sq[i] + largest_center_sq
        nearest_sq = max(best[p] + x_sq[i], 0.0)
        limit = best[p] + margin_unit * (5.0 * scale + 4.0 * nearest_sq)
        label = nearest[p]
        if second[p] <= limit:  # several candidates: the direct distances decide
            best_direct = np.inf
            for j in range(n_clusters):
                if center_sq[j] - 2.0 * products_t[j, p] <= limit:
                    direct = sq_distance_tile_order(X[i], centers[j])
                    if direct < best_direct:
                        best_direct, label = direct, j
        changed[i] = labels[i] != label
        labels[i] = label


_pool = None
_blas_controller = None


def thread_pool():
    """The threads that label chunks at once, one per usable core (created once; a call
    uses as many as Numba's threads for it, see :func:`label_rows`)."""
    global _pool
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor

        _pool = ThreadPoolExecutor(max_workers=usable_cores(), thread_name_prefix="kmeans-blas")
    return _pool


def one_blas_thread():
    """A context in which BLAS runs on one thread: each of our threads multiplies its own
    chunk, as scikit-learn's chunks do (a chunk's products stay in its core's cache)."""
    global _blas_controller
    if _blas_controller is None:
        from threadpoolctl import ThreadpoolController

        _blas_controller = ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")


def label_rows(X, x_sq, centers, labels, changed, start=0, end=None):
    """Label rows ``start … end − 1`` of ``X`` with their nearest centers through BLAS,
    in chunks spread over the threads (see :func:`nearest_of_products` for the outputs)."""
    end = X.shape[0] if end is None else end
    n_clusters, n_features = centers.shape
    center_sq = row_sq_norms(centers)
    margin_unit = (n_features + 4) * float(np.finfo(X.dtype).eps)
    chunk_rows = max(64, CHUNK_BYTES // (X.dtype.itemsize * n_clusters))
    n_threads = max(1, min(get_threads(), -(-(end - start) // chunk_rows)))

    def label_part(part):
        first, last = block_bounds.py_func(end - start, n_threads, part)
        for chunk_start in range(start + first, start + last, chunk_rows):
            chunk_end = min(start + last, chunk_start + chunk_rows)
            products_t = centers @ X[chunk_start:chunk_end].T
            nearest_of_products(
                X, chunk_start, products_t, centers, center_sq, x_sq, margin_unit, labels, changed
            )

    with one_blas_thread():
        if n_threads == 1:
            label_part(0)
        else:
            list(thread_pool().map(label_part, range(n_threads)))


@kernel(parallel=True)
def sum_changed_blocks(X, sample_weight, labels, changed, block_sums, block_weights):
    """Lloyd's sums after a labelling: each block of rows in which a label ``changed`` is
    summed again (:func:`~._blocks.sum_rows`); returns how many labels changed per block."""
    n_samples = X.shape[0]
    n_blocks = block_sums.shape[0]
    block_changed = np.zeros(n_blocks, dtype=np.int64)
    for block in prange(n_blocks):
        start, end = block_bounds(n_samples, n_blocks, block)
        count = 0
        for i in range(start, end):
            count += changed[i]
        if count:
            sum_rows(X, sample_weight, labels, start, end, block_sums[block], block_weights[block])
        block_changed[block] = count
    return block_changed


def assign_and_accumulate_blas(
    X,
    sample_weight,
    x_sq,
    centers,
    labels,
    changed,
    block_sums,
    block_weights,
    center_sums,
    cluster_weights,
):
    """Lloyd's step for wide data: labels through BLAS, then the per-block sums of the
    blocks that changed, merged in block order; returns how many labels changed (as
    :func:`kmeans_scratch._lloyd.assign_and_accumulate`, the same results)."""
    label_rows(X, x_sq, centers, labels, changed)
    block_changed = sum_changed_blocks(X, sample_weight, labels, changed, block_sums, block_weights)
    return merge_blocks(block_sums, block_weights, block_changed, center_sums, cluster_weights)
