"""Hamerly's exact accelerated K-Means: one upper and one lower bound per sample.

For each sample x with label a, Hamerly (2010) keeps

- u ≥ ‖x − c_a‖, an upper bound on the distance to its own center, and
- l ≤ min_{j≠a} ‖x − c_j‖, one lower bound on the distance to every other center,

so the extra memory is O(n), which suits low dimensions such as colors (d = 3) where a
distance is cheap and Elkan's O(n·k) bounds cost more to maintain than they save.

Each iteration, for each sample: let m = max(s(a), l) with s(a) = ½ min_{j≠a} ‖c_a − c_j‖.
If u < m, the label cannot change: nothing is computed.  Otherwise u is tightened to
‖x − c_a‖ and tested again; only if it still fails are all k distances computed, giving the
new label, u = the smallest distance and l = the second smallest.  When the centers move by
p(j), u += p(a) and l must drop by what any other center could have gained.

Hamerly's update is l −= max_{j≠a} p(j): one far-away center that jumps makes every bound
in the data fall.  Here the update is local, and still a valid bound.  Let N(a) be the
``NEIGHBORS`` centers nearest to c_a and R(a) = min_{j∉N(a), j≠a} ‖c_a − c_j‖ (distances
before the move).  A neighbor j is still at least l − p(j) away; any other center j was
at least ‖c_a − c_j‖ − ‖x − c_a‖ ≥ R(a) − u away, by the triangle inequality, so

    l ← min( l − max_{j∈N(a)} p(j),  R(a) − u − max_j p(j) ).

With NEIGHBORS ≥ k − 1 this is exactly Hamerly's update.  On image colors it halves the
number of full searches at k = 256.

The samples that need a full search are gathered into tiles and searched by Lloyd's SIMD
kernel.  The per-cluster sums are recomputed in every pass by the same code, in the same
order, as in Lloyd's kernel, so with the same labels the centers are bit-for-bit Lloyd's (see
``_bounds`` for why the labels are the same).

References
----------
G. Hamerly, "Making k-means even faster", Proceedings of the 2010 SIAM International
Conference on Data Mining, pp. 130-140.
"""

import numpy as np
from numba import njit, prange

from ._bounds import (
    BoundedAssignment,
    center_neighborhoods,
    largest_neighbor_moves,
    movements,
)
from ._common import (
    TILE_ROWS,
    block_bounds,
    gather_tile,
    merge_blocks,
    nearest_centers_tile,
    padded_centers,
    sq_distance_exact_order,
    sum_rows,
    tile_buffers,
)

#: How many nearest centers of c_a share the local movement bound (see the module docstring).
NEIGHBORS = 12


@njit(parallel=True, cache=True)
def hamerly_assign_and_accumulate(
    X,
    sample_weight,
    centers,
    half_separation,
    movement,
    neighbor_move,
    far_bound,
    labels,
    upper,
    lower,
    shrink,
    block_sums,
    block_weights,
    center_sums,
    cluster_weights,
):
    """Hamerly's assignment step fused with the per-cluster sums; returns the labels changed.

    ``movement[j]`` is how far center j moved since the bounds were last valid, and for
    each center a, ``neighbor_move[a]`` = max_{j∈N(a)} p(j) and ``far_bound[a]`` = R(a)
    (see the module docstring).  A sample with ``labels[i] < 0`` has no bounds yet and gets
    a full search.  Within a block, the
    bounds are checked first and the samples that need a full search are collected; they
    are then searched a tile at a time by Lloyd's SIMD kernel, which also gives the second
    nearest distance for the new lower bound.
    """
    n_samples, n_features = X.shape
    largest_move = movement.max()
    n_blocks = block_sums.shape[0]
    block_changed = np.zeros(n_blocks, dtype=np.int64)
    padded = padded_centers(centers)
    for block in prange(n_blocks):
        start, end = block_bounds(n_samples, n_blocks, block)
        to_search = np.empty(end - start, dtype=np.int64)
        n_search = 0
        for i in range(start, end):
            label = labels[i]
            if label >= 0:
                lower[i] = min(
                    lower[i] - neighbor_move[label], far_bound[label] - upper[i] - largest_move
                )
                upper[i] += movement[label]
                bound = max(half_separation[label], lower[i]) * shrink
                if upper[i] < bound:
                    continue
                upper[i] = np.sqrt(sq_distance_exact_order(X[i], centers[label]))
                if upper[i] < bound:
                    continue
            to_search[n_search] = i
            n_search += 1
        x_t, buffers = tile_buffers(n_features, X)
        changed = 0
        for tile_start in range(0, n_search, TILE_ROWS):
            rows = to_search[tile_start : min(tile_start + TILE_ROWS, n_search)]
            gather_tile(X, rows, x_t)
            best_sq, best, second_sq = nearest_centers_tile(x_t, rows.shape[0], padded, buffers)
            for p in range(rows.shape[0]):
                i = rows[p]
                if best[p] != labels[i]:
                    changed += 1
                    labels[i] = best[p]
                upper[i] = np.sqrt(best_sq[p])
                lower[i] = np.sqrt(second_sq[p])
        if changed:
            sum_rows(X, sample_weight, labels, start, end, block_sums[block], block_weights[block])
        block_changed[block] = changed
    return merge_blocks(block_sums, block_weights, block_changed, center_sums, cluster_weights)


class HamerlyAssignment(BoundedAssignment):
    """Hamerly's assignment step for :func:`kmeans_scratch._lloyd.run_iterations`."""

    def __init__(self, X, sample_weight, n_clusters):
        super().__init__(X, sample_weight, n_clusters)
        self.lower = np.empty(X.shape[0])
        self.neighbor_move = np.zeros(n_clusters)
        self.far_bound = np.full(n_clusters, np.inf)
        self.neighbors = None

    def assign_and_accumulate(self, centers, labels, center_sums, cluster_weights):
        half_separation, self.neighbors, far_bound = center_neighborhoods(centers, NEIGHBORS)
        n_changed = hamerly_assign_and_accumulate(
            self.X,
            self.sample_weight,
            centers,
            half_separation,
            self.movement,
            self.neighbor_move,
            self.far_bound,
            labels,
            self.upper,
            self.lower,
            self.shrink,
            self.block_sums,
            self.block_weights,
            center_sums,
            cluster_weights,
        )
        self.far_bound = far_bound  # R(a) of these centers, for the bounds after their move
        return n_changed

    def centers_moved(self, centers_old, centers_new):
        """Movements p(j), and per center the largest move among its neighbors N(a)."""
        self.movement = movements(centers_old, centers_new)
        self.neighbor_move = largest_neighbor_moves(self.neighbors, self.movement)
