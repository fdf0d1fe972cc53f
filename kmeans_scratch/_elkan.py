"""Elkan's exact accelerated K-Means: a lower bound for every (sample, center) pair.

The same algorithm in plain NumPy, on one page: :func:`kmeans_scratch.reference.elkan` (read it
first; ``tests/test_reference.py`` holds this module to it).

For each sample x with label a, Elkan (2003) keeps u ≥ ‖x − c_a‖ and, for every center j,
l(j) ≤ ‖x − c_j‖.  Each iteration, with D(a, j) = ‖c_a − c_j‖ and s(a) = ½ min_{j≠a} D(a, j):

1. if u < s(a), no center can be closer than c_a: the sample is done;
2. otherwise, for every other center j: if u < max(l(j), ½ D(a, j)), center j cannot be
   closer.  If it might be, u is first tightened to ‖x − c_a‖ (once per sample) and the test
   repeated; if it still fails, ‖x − c_j‖ is computed, stored as l(j), and j becomes the
   label if it is closer (ties to the lower index, as in Lloyd's iteration).

When the centers move by p(j), u += p(a) and every l(j) −= p(j).  That last update would be
an O(n·k) pass over the bounds each iteration; instead each bound is stored plus the
total movement of its center so far (``drift``), so the true bound is
``stored − drift[j]`` and moving the centers touches only the k entries of ``drift``.

Elkan skips more distance computations than Hamerly, and wins when a distance is
expensive (high dimension, many clusters), but it costs **n_samples × n_clusters × 8
bytes** of memory for the bounds (1 GiB for a million samples and 128 clusters).  Above
``BOUNDS_BUDGET_BYTES`` it refuses before allocating, with a message that points to
``algorithm="hamerly"`` (O(n) bounds) or ``"lloyd"`` (none).

The per-cluster sums are recomputed in every pass by Lloyd's code in Lloyd's order, so with Lloyd's
labels the centers are Lloyd's bit for bit (see ``_bounds`` for why the labels are the same).

References
----------
C. Elkan, "Using the triangle inequality to accelerate k-means", Proceedings of the 20th
International Conference on Machine Learning (ICML), 2003, pp. 147-153.
"""

import numpy as np

from ._blocks import block_bounds, merge_blocks, sum_rows
from ._bounds import BoundedAssignment, center_distances, movements, smallest
from ._kernels import kernel, prange
from ._tiles import sq_distance_tile_order, sq_distances_to_all
from ._wide import assign_and_accumulate_blas, row_sq_norms, uses_blas

#: Largest memory Elkan's lower bounds may take (n_samples × n_clusters × 8 bytes): 2 GiB.
BOUNDS_BUDGET_BYTES = 2 * 2**30


def check_bounds_fit(n_samples, n_clusters):
    """Raise a ValueError, before allocating, if Elkan's bounds would exceed the budget."""
    needed = n_samples * n_clusters * 8
    if needed > BOUNDS_BUDGET_BYTES:
        raise ValueError(
            f"algorithm='elkan' needs n_samples × n_clusters × 8 bytes = {n_samples:,} × "
            f"{n_clusters:,} × 8 = {needed / 2**30:.2f} GiB for its lower bounds, over its "
            f"budget of {BOUNDS_BUDGET_BYTES / 2**30:.2f} GiB "
            "(kmeans_scratch._elkan.BOUNDS_BUDGET_BYTES). Use algorithm='hamerly', which "
            "keeps two bounds per sample and gives the same result."
        )


@kernel(parallel=True)
def elkan_assign_and_accumulate(
    X,
    sample_weight,
    centers,
    half_center_distances,
    movement,
    drift,
    labels,
    upper,
    lower,
    shrink,
    block_sums,
    block_weights,
    center_sums,
    cluster_weights,
):
    """Elkan's assignment step fused with the per-cluster sums; returns the labels changed.

    ``lower[i, j] - drift[j]`` is the lower bound of sample i for center j; ``movement[j]``
    is how far center j moved since the last call.  A sample with ``labels[i] < 0`` has no
    bounds yet: all its distances are computed.
    """
    n_samples = X.shape[0]
    n_clusters = centers.shape[0]
    centers_t = np.ascontiguousarray(centers.T)
    half_separation = np.empty(n_clusters)
    for a in range(n_clusters):
        half_separation[a] = smallest(half_center_distances[a])
    n_blocks = block_sums.shape[0]
    block_changed = np.zeros(n_blocks, dtype=np.int64)
    for block in prange(n_blocks):
        start, end = block_bounds(n_samples, n_blocks, block)
        distances = np.empty(n_clusters, dtype=X.dtype)
        changed = 0
        for i in range(start, end):
            x = X[i]
            label = labels[i]
            if label < 0:
                sq_distances_to_all(x, centers_t, distances)
                best, best_sq = 0, distances[0]
                for j in range(n_clusters):
                    lower[i, j] = np.sqrt(distances[j]) + drift[j]
                    if distances[j] < best_sq:
                        best, best_sq = j, distances[j]
                upper[i] = np.sqrt(best_sq)
            else:
                upper[i] += movement[label]
                best = label
                if upper[i] >= half_separation[label] * shrink:
                    u = upper[i]
                    best_sq = x.dtype.type(0)
                    tight = False
                    for j in range(n_clusters):
                        if j == best or j == label:
                            continue
                        bound = max(lower[i, j] - drift[j], half_center_distances[best, j])
                        if u < bound * shrink:
                            continue
                        if not tight:
                            best_sq = sq_distance_tile_order(x, centers[best])
                            u = np.sqrt(best_sq)
                            lower[i, best] = u + drift[best]
                            tight = True
                            if u < bound * shrink:
                                continue
                        sq = sq_distance_tile_order(x, centers[j])
                        lower[i, j] = np.sqrt(sq) + drift[j]
                        if sq < best_sq or (sq == best_sq and j < best):
                            best, best_sq, u = j, sq, np.sqrt(sq)
                    upper[i] = u
            if best != label:
                changed += 1
                labels[i] = best
        if changed:
            sum_rows(X, sample_weight, labels, start, end, block_sums[block], block_weights[block])
        block_changed[block] = changed
    return merge_blocks(block_sums, block_weights, block_changed, center_sums, cluster_weights)


class ElkanAssignment(BoundedAssignment):
    """Elkan's assignment step for :func:`kmeans_scratch._iterations.run_iterations`.

    On wide rows (:func:`~._wide.uses_blas`) the first step, which has no bounds yet and
    would measure every distance directly, is Lloyd's step through BLAS, which also
    writes the first bounds from the products (:func:`~._wide.bounds_of_products`).
    """

    def __init__(self, X, sample_weight, n_clusters):
        check_bounds_fit(X.shape[0], n_clusters)
        super().__init__(X, sample_weight, n_clusters)
        self.lower = np.empty((X.shape[0], n_clusters))
        self.movement = np.zeros(n_clusters)  # how far each center moved last
        self.drift = np.zeros(n_clusters)
        self.first_through_blas = uses_blas(*X.shape, n_clusters)

    def assign_and_accumulate(self, centers, labels, center_sums, cluster_weights):
        if self.first_through_blas:
            self.first_through_blas = False
            return assign_and_accumulate_blas(
                self.X,
                self.sample_weight,
                row_sq_norms(self.X),
                centers,
                labels,
                np.zeros(self.X.shape[0], dtype=np.uint8),
                self.block_sums,
                self.block_weights,
                center_sums,
                cluster_weights,
                bounds=(self.lower, self.upper, self.drift),
            )
        return elkan_assign_and_accumulate(
            self.X,
            self.sample_weight,
            centers,
            0.5 * center_distances(centers),
            self.movement,
            self.drift,
            labels,
            self.upper,
            self.lower,
            self.shrink,
            self.block_sums,
            self.block_weights,
            center_sums,
            cluster_weights,
        )

    def centers_moved(self, centers_old, centers_new):
        self.movement = movements(centers_old, centers_new)
        self.drift += self.movement
