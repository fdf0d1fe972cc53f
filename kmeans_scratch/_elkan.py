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
expensive (high dimension, many clusters) and the clusters stand apart, so that most
centers are ruled out by their distance from the sample's own; where they do not, the
step runs Lloyd's instead (:class:`ElkanAssignment`).  The bounds take **n_samples ×
n_clusters × 8 bytes** of memory (1 GiB for a million samples and 128 clusters).  Above
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
from ._bounds import (
    BoundedAssignment,
    center_distances,
    movements,
    sampled_own_distances,
    smallest,
)
from ._kernels import kernel, prange
from ._tiles import sq_distance_tile_order, sq_distances_tile_order_two
from ._wide import bounds_to_write

#: Largest memory Elkan's lower bounds may take (n_samples × n_clusters × 8 bytes): 2 GiB.
BOUNDS_BUDGET_BYTES = 2 * 2**30
#: Elkan's bounds run when the centers alone rule out at least this share of the pairs
#: (:meth:`ElkanAssignment.skip_share`, after the first step).  Measured (``python -m
#: benchmarks.elkan_beyond_blobs --quick``, float64, d = 64 and 300, k = 64 and 256):
#: 0.45–0.99 on Gaussian blobs, where the bounds took 0.42–1.00 × the time of Lloyd's
#: steps; 0.00 on embedding-like rows and ``make_classification``, where they took
#: 1.03–1.96 ×.
MIN_SKIP_SHARE = 0.25


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
def elkan_assign_and_accumulate(rows, centers, geometry, moves, bounds, sums):
    """Elkan's assignment step fused with the per-cluster sums; returns the labels changed.

    - In: ``rows = (X, sample_weight)``, ``centers``; ``geometry = (half_center_distances,
      shrink)``: ½ ‖c_a − c_j‖ of the centers and the rounding margin of the tests (see
      :mod:`._bounds`); ``moves = (movement, drift)``: how far center j moved since the
      last call, and since the bounds began.
    - In and out: ``bounds = (labels, upper, lower)``: ``upper[i]`` bounds the distance
      to the center of ``labels[i]`` before the last move, ``lower[i, j] − drift[j]`` is
      the lower bound of sample i for center j; and ``sums = (block_sums,
      block_weights, center_sums, cluster_weights)``: the sums of
      :func:`kmeans_scratch._lloyd.assign_and_accumulate`, merged.
    """
    X, sample_weight = rows
    half_center_distances, shrink = geometry
    movement, drift = moves
    labels, upper, lower = bounds
    block_sums, block_weights, center_sums, cluster_weights = sums
    n_samples = X.shape[0]
    n_clusters = centers.shape[0]
    half_separation = np.empty(n_clusters)
    for a in range(n_clusters):
        half_separation[a] = smallest(half_center_distances[a])
    n_blocks = block_sums.shape[0]
    block_changed = np.zeros(n_blocks, dtype=np.int64)
    for block in prange(n_blocks):
        start, end = block_bounds(n_samples, n_blocks, block)
        changed = 0
        for i in range(start, end):
            x = X[i]
            label = labels[i]
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
                    if tight:
                        sq = sq_distance_tile_order(x, centers[j])
                    else:  # both chains of additions at once, where one waited for the other
                        best_sq, sq = sq_distances_tile_order_two(x, centers[best], centers[j])
                        u = np.sqrt(best_sq)
                        lower[i, best] = u + drift[best]
                        tight = True
                        if u < bound * shrink:
                            continue
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
    """Elkan's assignment step for :func:`kmeans_scratch._iterations.run_iterations`:
    Lloyd's step, with Elkan's bounds where they pay (see
    :class:`~._bounds.BoundedAssignment`).

    The share measured after the first step is that of the pairs (x, c_j), j ≠ a, that
    the centers' separation alone rules out, ½ ‖c_a − c_j‖ > ‖x − c_a‖ (:meth:`skip_share`).
    Below ``MIN_SKIP_SHARE`` the bounds would cost more than they save: reading and
    updating k bounds a row costs about as much as BLAS's product of the row with every
    center.
    """

    min_skip_share = MIN_SKIP_SHARE

    def __init__(self, X, sample_weight, n_clusters):
        check_bounds_fit(X.shape[0], n_clusters)
        super().__init__(X, sample_weight, n_clusters)
        self.upper = self.lower = None  # (n_samples,), (n_samples, n_clusters): first_bounds
        self.movement = np.zeros(n_clusters)  # how far each center moved last
        self.drift = np.zeros(n_clusters)

    def skip_share(self, centers, labels):
        """The share of the pairs (x, c_j), j ≠ a, with ½ ‖c_a − c_j‖ > ‖x − c_a‖ (a the
        label of x), on a sample of rows: the distances that Elkan's test with center j
        skips even before its lower bound for j is known.  Near 1 where the clusters stand
        apart (Gaussian blobs at k = 256: 0.99), near 0 where every center is about as far
        as any other (embedding-like rows: 0.00)."""
        n_clusters = centers.shape[0]
        if n_clusters < 2:
            return 0.0
        own_labels, own = sampled_own_distances(self.X, centers, labels)
        half_distances = 0.5 * center_distances(centers)  # +inf on the diagonal: not counted
        ruled_out = (half_distances[own_labels] > own[:, None]).sum() - own.shape[0]
        return float(ruled_out / (own.shape[0] * (n_clusters - 1)))

    def first_bounds(self, centers, labels, center_sums, cluster_weights):
        """A step that writes every sample's bounds: on wide rows (:func:`~._wide.uses_blas`)
        Lloyd's step through BLAS, which writes them from the products
        (:func:`~._wide.bounds_of_products`); on narrow rows Elkan's step from bounds that
        rule nothing out (upper ∞, every lower 0), which measures the distances it needs."""
        self.upper = np.empty(self.X.shape[0])
        self.lower = np.empty((self.X.shape[0], centers.shape[0]))
        if self.blas:
            bounds = bounds_to_write(self.upper, lower=self.lower, drift=self.drift)
            return self.blas_step(centers, labels, center_sums, cluster_weights, bounds)
        self.upper[:] = np.inf
        self.lower[:] = self.drift  # stored bound − drift = 0
        return self.bounded_step(centers, labels, center_sums, cluster_weights)

    def bounded_step(self, centers, labels, center_sums, cluster_weights):
        return elkan_assign_and_accumulate(
            (self.X, self.sample_weight),
            centers,
            (0.5 * center_distances(centers), self.shrink),
            (self.movement, self.drift),
            (labels, self.upper, self.lower),
            (self.block_sums, self.block_weights, center_sums, cluster_weights),
        )

    def centers_moved(self, centers_old, centers_new):
        self.movement = movements(centers_old, centers_new)
        self.drift += self.movement
