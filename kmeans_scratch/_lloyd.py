"""Lloyd's iteration: the classic batch K-Means algorithm.

The same algorithm in plain NumPy, on one page: :func:`kmeans_scratch.reference.lloyd` (read it
first; ``tests/test_reference.py`` holds this module to it).

Given centers c_1..c_k and weighted samples (x_i, w_i), one iteration is

1. assignment (E-step):  l_i = argmin_j ‖x_i − c_j‖²   (ties go to the lowest j);
2. update (M-step):      c_j = Σ_{i: l_i = j} w_i x_i / Σ_{i: l_i = j} w_i.

Each step can only lower the inertia Σ_i w_i ‖x_i − c_{l_i}‖², so the iteration converges
to a local minimum.  It stops when no label changes (strict convergence) or when the
total squared center shift Σ_j ‖c_j(new) − c_j(old)‖² falls to ``tol`` or below (or after
``max_iter`` iterations); in these cases one more assignment makes ``labels`` agree with the
returned centers, and the inertia is that of these labels, summed in float64.  A
cluster that ends an assignment step empty is re-seeded with the sample farthest from its
own center, exactly as scikit-learn does.

The assignment and the sums of the update are one fused Numba kernel,
:func:`assign_and_accumulate`: one pass over the data per iteration, no
(n_samples, n_clusters) temporary.

References
----------
S. P. Lloyd, "Least squares quantization in PCM", IEEE Transactions on Information
Theory 28(2), 1982 (written 1957).
"""

import numpy as np
from numba import njit, prange

from ._common import (
    TILE_ROWS,
    block_bounds,
    block_sums_for,
    inertia_of_labels,
    merge_blocks,
    nearest_centers_tile,
    padded_centers,
    sq_distances_to_assigned,
    sum_rows,
    tile_buffers,
    transpose_tile,
)


@njit(parallel=True, cache=True)
def assign_and_accumulate(
    X, sample_weight, centers, labels, block_sums, block_weights, center_sums, cluster_weights
):
    """Assign every sample to its nearest center and sum the samples of each cluster.

    Writes ``labels[i] = argmin_j ||x_i - c_j||²``, ``center_sums[j] = sum_{l_i=j} w_i x_i``
    and ``cluster_weights[j] = sum_{l_i=j} w_i`` (both float64), and returns how many
    labels changed.  Each block of rows has its own sums (``block_sums``, kept from the last
    call, see :func:`~kmeans_scratch._common.block_sums_for`); they are merged in block
    order, so the result does not depend on the number of threads.
    """
    n_samples, n_features = X.shape
    n_blocks = block_sums.shape[0]
    block_changed = np.zeros(n_blocks, dtype=np.int64)
    centers = padded_centers(centers)
    for block in prange(n_blocks):
        start, end = block_bounds(n_samples, n_blocks, block)
        x_t, buffers = tile_buffers(n_features, X)
        changed = 0
        for tile_start in range(start, end, TILE_ROWS):
            n_rows = min(TILE_ROWS, end - tile_start)
            transpose_tile(X, tile_start, tile_start + n_rows, x_t)
            _, nearest, _ = nearest_centers_tile(x_t, n_rows, centers, buffers)
            for p in range(n_rows):
                if nearest[p] != labels[tile_start + p]:
                    changed += 1
                    labels[tile_start + p] = nearest[p]
        if changed:
            sum_rows(X, sample_weight, labels, start, end, block_sums[block], block_weights[block])
        block_changed[block] = changed
    return merge_blocks(block_sums, block_weights, block_changed, center_sums, cluster_weights)


def relocate_empty_clusters(X, sample_weight, centers_old, labels, center_sums, cluster_weights):
    """Give every empty cluster one of the samples farthest from their own centers.

    The ``n_empty`` samples with the largest ‖x_i − c_{l_i}‖² are
    moved, the farthest to the first empty cluster, and the sums and weights are
    corrected in place.  Nothing happens when every sample sits on its center (more
    clusters than distinct samples).  Same choice and order as scikit-learn.
    """
    empty = np.flatnonzero(cluster_weights == 0)
    if empty.size == 0:
        return
    distances = np.empty(X.shape[0], dtype=X.dtype)
    sq_distances_to_assigned(X, centers_old, labels, distances)
    if distances.max() == 0:
        return
    farthest = np.argpartition(distances, -empty.size)[: -empty.size - 1 : -1]
    for new_cluster, far in zip(empty, farthest, strict=True):
        move_to_empty_cluster(
            center_sums, cluster_weights, X[far], sample_weight[far], labels[far], new_cluster
        )


def move_to_empty_cluster(center_sums, cluster_weights, row, weight, old_cluster, new_cluster):
    """Move one ``row`` of ``weight`` from ``old_cluster`` into the empty ``new_cluster``:
    its w·x and w leave the old cluster's sums and become the new one's (float64)."""
    weight = np.float64(weight)
    center_sums[old_cluster] -= row * weight
    center_sums[new_cluster] = row * weight
    cluster_weights[new_cluster] = weight
    cluster_weights[old_cluster] -= weight


def centers_from_sums(center_sums, cluster_weights, dtype):
    """The M-step: c_j = s_j · (1 / W_j) for every cluster of positive weight W_j.

    A cluster still empty after relocation (only possible with fewer distinct samples
    than clusters) is put on the center of the heaviest cluster.
    """
    centers = np.empty(center_sums.shape, dtype=dtype)
    filled = cluster_weights > 0
    centers[filled] = center_sums[filled] * (1.0 / cluster_weights[filled])[:, None]
    if not filled.all():
        centers[~filled] = centers[np.argmax(cluster_weights)]
    return centers


def update_centers(X, sample_weight, centers_old, labels, center_sums, cluster_weights):
    """Relocate empty clusters, then average: the new centers of one Lloyd iteration."""
    relocate_empty_clusters(X, sample_weight, centers_old, labels, center_sums, cluster_weights)
    return centers_from_sums(center_sums, cluster_weights, X.dtype)


def squared_center_shift(centers_old, centers_new):
    """Total squared shift Σ_j ‖c_j(new) − c_j(old)‖²."""
    return float(((centers_new.astype(np.float64) - centers_old) ** 2).sum())


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

    def assign_and_accumulate(self, centers, labels, center_sums, cluster_weights):
        return assign_and_accumulate(
            self.X,
            self.sample_weight,
            centers,
            labels,
            self.block_sums,
            self.block_weights,
            center_sums,
            cluster_weights,
        )

    def centers_moved(self, centers_old, centers_new):
        pass


def run_iterations(
    X, sample_weight, centers_init, max_iter, verbose, tol, assignment, rows_merged=False
):
    """One run of batch K-Means from ``centers_init`` with the given assignment step.

    Returns ``(labels, inertia, centers, n_iter)`` with the same meaning as scikit-learn's
    private ``_kmeans_single_lloyd``.  Every assignment step gives the same labels, so
    every algorithm goes through the same centers and stops at the same iteration.

    With ``rows_merged`` each row of ``X`` stands for all the copies of a repeated row.
    Re-seeding an empty cluster moves *one* copy, which a merged row cannot do, so the
    run stops and returns None as soon as a cluster ends an assignment step empty: the
    caller runs again on every row.
    """
    n_clusters, n_features = centers_init.shape
    centers = np.array(centers_init, dtype=X.dtype, order="C")
    labels = np.full(X.shape[0], -1, dtype=np.int32)
    center_sums = np.empty((n_clusters, n_features))
    cluster_weights = np.empty(n_clusters)
    strict_convergence = False
    for iteration in range(max_iter):
        n_changed = assignment.assign_and_accumulate(centers, labels, center_sums, cluster_weights)
        reseeded = not cluster_weights.all()
        if rows_merged and reseeded:
            return None
        if verbose:
            inertia = inertia_of_labels(X, sample_weight, centers, labels)
            print(f"Iteration {iteration}, inertia {inertia}.")
        centers_new = update_centers(
            X, sample_weight, centers, labels, center_sums, cluster_weights
        )
        shift = squared_center_shift(centers, centers_new)
        assignment.centers_moved(centers, centers_new)
        centers = centers_new
        if n_changed == 0:
            if verbose:
                print(f"Converged at iteration {iteration}: strict convergence.")
            strict_convergence = True
            break
        if shift <= tol:
            if verbose:
                print(
                    f"Converged at iteration {iteration}: center shift {shift} "
                    f"within tolerance {tol}."
                )
            break
    # The labels of the final centers: one more E-step.  Re-seeding moves centers after
    # the labels were taken, so strict convergence then needs it too (scikit-learn skips
    # it, and its labels can disagree with its centers).
    if not strict_convergence or reseeded:
        assignment.assign_and_accumulate(centers, labels, center_sums, cluster_weights)
    inertia = inertia_of_labels(X, sample_weight, centers, labels)
    return labels, inertia, centers, iteration + 1
