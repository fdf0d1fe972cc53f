"""Lloyd's iteration: the classic batch K-Means algorithm.

The same algorithm in plain NumPy, on one page: :func:`kmeans_scratch.reference.lloyd` (read it
first; ``tests/test_reference.py`` holds this module to it).

Given centers c_1..c_k and weighted samples (x_i, w_i), one iteration is

1. assignment (E-step):  l_i = argmin_j ‖x_i − c_j‖²   (ties go to the lowest j);
2. update (M-step):      c_j = Σ_{i: l_i = j} w_i x_i / Σ_{i: l_i = j} w_i.

Neither step can raise the inertia Σ_i w_i ‖x_i − c_{l_i}‖², and there are finitely many
labelings, so the iteration comes to a fixed point, where neither step lowers it further
(a local minimum over the labelings, not the global one).  It stops when no label changes
(strict convergence) or when the total squared center shift Σ_j ‖c_j(new) − c_j(old)‖²
falls to ``tol`` or below (or after ``max_iter`` iterations); in these cases one more
assignment makes ``labels`` agree with the returned centers, and the inertia is that of
these labels, summed in float64.  A cluster that ends an assignment step empty is
re-seeded with the sample farthest from its own center, exactly as scikit-learn does.

The assignment and the sums of the update are one fused Numba kernel,
:func:`assign_and_accumulate`: one pass over the data per iteration, no
(n_samples, n_clusters) temporary.  This module is the assignment step; the loop, the
update and the empty clusters, which Hamerly's and Elkan's steps share, are
:func:`kmeans_scratch._iterations.run_iterations`.

References
----------
S. P. Lloyd, "Least squares quantization in PCM", IEEE Transactions on Information
Theory 28(2), 1982 (written 1957).
"""

import numpy as np

from ._blocks import block_bounds, block_of, block_sums_for, blocks_in, merge_blocks, sum_rows
from ._kernels import kernel, prange, run_blocks
from ._tiles import TILE_ROWS, label_tile, padded_centers, tile_buffers
from ._wide import assign_and_accumulate_blas, row_sq_norms, uses_blas


@kernel(parallel=True)
def assign_and_accumulate(blocks, rows, centers, labels, block_outs):
    """Assign every sample of the row blocks ``blocks`` (see
    :func:`~kmeans_scratch._blocks.blocks_in`) to its nearest center and sum the samples
    of each cluster, block by block.

    - In: ``rows = (X, sample_weight)``, ``centers``.
    - In and out: ``labels``, the last step's, replaced by ``labels[i] = argmin_j
      ||x_i - c_j||²``.
    - In and out: ``block_outs = (block_sums, block_weights, block_changed)``: each
      block's sums of w_i x_i and w_i per cluster, kept from the last call where no label
      of the block changed (see :func:`~kmeans_scratch._blocks.block_sums_for`), and how
      many of its labels changed; written by these blocks only.  Merged in block order
      (:func:`~kmeans_scratch._blocks.merge_blocks`), the sums do not depend on how the
      blocks were shared among threads.
    """
    X, sample_weight = rows
    block_sums, block_weights, block_changed = block_outs
    n_samples, n_features = X.shape
    n_blocks = block_sums.shape[0]
    centers = padded_centers(centers)
    for run in prange(blocks_in(blocks)):
        block = block_of(blocks, run)
        start, end = block_bounds(n_samples, n_blocks, block)
        x_t, buffers = tile_buffers(n_features, X)
        changed = 0
        for tile_start in range(start, end, TILE_ROWS):
            n_rows = min(TILE_ROWS, end - tile_start)
            changed += label_tile(X, tile_start, n_rows, centers, x_t, buffers, labels)[1]
        if changed:
            sum_rows(X, sample_weight, labels, start, end, block_sums[block], block_weights[block])
        block_changed[block] = changed


class LloydAssignment:
    """Lloyd's assignment step: every sample against every center, in every iteration.

    Hamerly's and Elkan's algorithms replace only this step, with the same interface:
    ``assign_and_accumulate`` labels the samples and sums each cluster, and
    ``centers_moved`` is told how far the centers went, which is what their bounds need.
    """

    def __init__(self, X, sample_weight, n_clusters):
        self.X = X
        self.sample_weight = sample_weight
        self.block_sums, self.block_weights = block_sums_for(X.shape[0], n_clusters, X.shape[1])
        self.block_changed = np.zeros(self.block_sums.shape[0], dtype=np.int64)
        self.blas = uses_blas(*X.shape, n_clusters)
        if self.blas:  # wide rows: the same labels, found through BLAS (see _wide)
            self.x_sq = row_sq_norms(X)
            self.changed = np.zeros(X.shape[0], dtype=np.uint8)

    def assign_and_accumulate(self, centers, labels, center_sums, cluster_weights):
        if self.blas:
            return self.blas_step(centers, labels, center_sums, cluster_weights)
        return self.block_step(
            assign_and_accumulate, centers, (labels,), center_sums, cluster_weights
        )

    def block_step(self, block_kernel, centers, arguments, center_sums, cluster_weights):
        """``block_kernel(blocks, rows, centers, *arguments, block_outs)`` over the row
        blocks (:func:`~._kernels.run_blocks`: Numba's threads, or the ahead-of-time
        module's on several Python threads), its block sums merged in block order into
        ``center_sums`` and ``cluster_weights``; returns how many labels changed.  Lloyd's
        step and Hamerly's are such kernels."""
        block_outs = (self.block_sums, self.block_weights, self.block_changed)
        run_blocks(
            block_kernel,
            self.block_changed.shape[0],
            (self.X, self.sample_weight),
            centers,
            *arguments,
            block_outs,
        )
        return merge_blocks(*block_outs, center_sums, cluster_weights)

    def blas_step(self, centers, labels, center_sums, cluster_weights, bounds=None):
        """The step on wide rows, through BLAS; with ``bounds``, it writes Hamerly's or
        Elkan's first bounds too (see :func:`~._wide.bounds_of_products`)."""
        return assign_and_accumulate_blas(
            (self.X, self.sample_weight),
            self.x_sq,
            centers,
            (labels, self.changed),
            (self.block_sums, self.block_weights, center_sums, cluster_weights),
            bounds,
        )

    def centers_moved(self, centers_old, centers_new):
        pass
