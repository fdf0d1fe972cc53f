"""Hamerly's exact accelerated K-Means: one upper and one lower bound per sample.

The same algorithm in plain NumPy, on one page: :func:`kmeans_scratch.reference.hamerly` (read it
first; ``tests/test_reference.py`` holds this module to it).

For each sample x with label a, Hamerly (2010) keeps

- u ≥ ‖x − c_a‖, an upper bound on the distance to its own center, and
- l ≤ min_{j≠a} ‖x − c_j‖, one lower bound on the distance to every other center,

so the extra memory is O(n), which suits low dimensions such as colors (d = 3) where a
distance is cheap and Elkan's O(n·k) bounds cost more to maintain than they save.

Each iteration, for each sample: let m = max(s(a), l) with s(a) = ½ min_{j≠a} ‖c_a − c_j‖.
If u < m, the label cannot change: nothing is computed.  Otherwise u is tightened to
‖x − c_a‖ and tested again; only if it still fails is the sample searched, giving the new
label, u = the smallest distance and l = the second smallest.  When the centers move by
p(j), u += p(a) and l must drop by what any other center could have gained.

**Neighborhoods.**  Hamerly's update is l −= max_{j≠a} p(j): one far-away center that
jumps makes every bound in the data fall.  Here each center a has a neighborhood N(a), its
``NEIGHBORS`` nearest centers (chosen anew every ``NEIGHBORS_REFRESH`` iterations: any
set gives valid bounds), and R(a) = min_{j∉N(a), j≠a} ‖c_a − c_j‖.  Before the move, a
center j outside N(a) was at least l away and, by the triangle inequality, at least
‖c_a − c_j‖ − ‖x − c_a‖ ≥ R(a) − u away; a neighbor j was at least l away; so after it

    l ← min( l − max_{j∈N(a)} p(j),  max(l, R(a) − u) − max_j p(j) ),

which is never below Hamerly's l − max_j p(j), and equals it when N(a) holds every other
center.

**Local search.**  A center j outside N(a) is at least R(a) − u from x, so when
u < ½ R(a) none of them can be closer than c_a (with a rounding margin, see ``_bounds``):
the nearest center is c_a or a neighbor.  Then x is compared with c_a and every neighbor,
all at once (the neighbors' coordinates are kept contiguous per center, so the distances
are SIMD code), which gives the new label, u, and a lower bound l = min(the second
smallest of these distances, R(a) − u).  Computing every neighbor, rather than only
those within 2u of c_a (Exponion), makes l the exact second distance whenever that center
is a neighbor, so the bound fails again much later: on image colors at k = 64 it halves
the samples that need any distance in the next iterations.  The samples that fail with
u ≥ ½ R(a) (and every sample in the first iteration) are gathered into tiles and searched
against all centers by Lloyd's SIMD kernel.

The per-cluster sums are recomputed in every pass by the same code, in the same order, as
in Lloyd's kernel, so with the same labels the centers are bit-for-bit Lloyd's (see
``_bounds`` for why the labels are the same).

References
----------
G. Hamerly, "Making k-means even faster", Proceedings of the 2010 SIAM International
Conference on Data Mining, pp. 130-140.
J. Newling and F. Fleuret, "Fast k-means with accurate bounds", Proceedings of the 33rd
International Conference on Machine Learning (ICML), 2016 (Exponion: searching only the
centers within 2u of c_a).
"""

import numpy as np

from ._blocks import block_bounds, block_of, blocks_in, sum_rows
from ._bounds import (
    BoundedAssignment,
    center_distances,
    center_geometry,
    largest_neighbor_moves,
    movements,
    sampled_own_distances,
)
from ._kernels import kernel, prange
from ._tiles import (
    TILE_ROWS,
    gather_tile,
    nearest_centers_tile,
    padded_centers,
    sq_distance_tile_order,
    sq_distances_to_all,
    tile_buffers,
)
from ._wide import bounds_to_write

#: On wide rows the bounds run when at least this share of the rows lies within half its
#: center's separation after Lloyd's first step (:meth:`HamerlyAssignment.skip_share`).
#: Measured (``python -m benchmarks.hamerly_on_wide_rows``; d = 16, 64, 300, k = 16, 64,
#: 256, float32 and float64, 20 iterations): on embedding-like rows and
#: ``make_classification`` 0.000–0.001, where the bounds took 0.95–3.25 × our Lloyd's
#: time; on Gaussian blobs 0.06–0.12 at k = 256 (0.29–0.65 ×), 0.40–0.57 at k = 64
#: (0.73–1.65 ×: short fits of 3–6 iterations, before the first bounds came through BLAS;
#: 0.97–1.25 × after, see ``first_bounds``), 0.00–0.02 at k = 16 (0.92–2.00 ×).
MIN_SKIP_SHARE = 0.05
#: ... and only with at least this many clusters (see :meth:`HamerlyAssignment.may_pay`).
MIN_CLUSTERS_ON_WIDE_ROWS = 64
#: How many nearest centers of c_a make its neighborhood N(a) (see the module docstring).
NEIGHBORS = 12
#: The neighborhoods are chosen anew every this many iterations (any set of centers gives
#: valid bounds; the nearest give the best, and they change slowly).
NEIGHBORS_REFRESH = 4


@kernel
def neighbor_coordinates(centers, neighbors):
    """``out[a, f, m]``: coordinate f of the m-th neighbor of center a, shape (k, d, |N|),
    so that the distances from one point to every neighbor of its center are computed by
    loops over contiguous memory."""
    n_clusters, n_features = centers.shape
    n_neighbors = neighbors.shape[1]
    out = np.empty((n_clusters, n_features, n_neighbors), dtype=centers.dtype)
    for a in range(n_clusters):
        for f in range(n_features):
            for m in range(n_neighbors):
                out[a, f, m] = centers[neighbors[a, m], f]
    return out


@kernel
def local_search(x, label, sq_label, neighbors, coordinates, sq):
    """Nearest center of x among c_a (a = ``label``, at squared distance ``sq_label``) and
    its neighbors, whose ids are ``neighbors`` and coordinates ``coordinates`` (d, |N|);
    returns (nearest, its squared distance, the second smallest squared distance).

    The squared distances come from :func:`~kmeans_scratch._tiles.sq_distances_to_all`,
    summed in the order of Lloyd's kernel, so equal inputs give equal bits, and ties go to
    the lowest index: when no other center can be closer (the caller checks), the result
    is Lloyd's argmin over all centers.  ``sq`` is scratch of length |N|.
    """
    sq_distances_to_all(x, coordinates, sq)
    best, best_sq, second_sq = label, sq_label, np.inf
    for m in range(neighbors.shape[0]):
        j = neighbors[m]
        if sq[m] < best_sq or (sq[m] == best_sq and j < best):
            second_sq = best_sq
            best, best_sq = j, sq[m]
        else:
            second_sq = min(second_sq, sq[m])
    return best, best_sq, second_sq


@kernel(parallel=True)
def hamerly_assign_and_accumulate(blocks, rows, centers, geometry, moves, bounds, block_outs):
    """Hamerly's assignment step fused with the per-cluster sums, on the row blocks
    ``blocks`` (see :func:`~kmeans_scratch._blocks.blocks_in`).

    - In: ``rows = (X, sample_weight)``, ``centers``; ``geometry = (half_separation,
      neighbors, coordinates, far_bound, shrink)`` of the current centers: s(a), the ids
      of N(a), their :func:`neighbor_coordinates`, R(a) (see
      :func:`kmeans_scratch._bounds.center_geometry`) and the rounding margin of the
      tests (see :mod:`._bounds`); ``moves = (movement, neighbor_move, far_bound)`` of the
      last move: how far each center j moved since the bounds were last valid, and for
      each center a, max_{j∈N(a)} p(j) and R(a) before the move (see the module docstring).
    - In and out: ``bounds = (labels, upper, lower)`` of every sample (a label −1: no
      bounds yet).
    - Out: ``block_outs = (block_sums, block_weights, block_changed)``, each block's sums
      and how many of its labels changed, written by these blocks only.

    A sample whose bounds fail after tightening u is searched among its center's
    neighborhood when every center outside it is out of reach (u < ½ R(a) · shrink), else
    collected, with the samples that have no bounds yet (``labels[i] < 0``), for a full
    search by Lloyd's SIMD kernel a tile at a time, which also gives the second nearest
    distance for the new lower bound.
    """
    X, sample_weight = rows
    half_separation, neighbors, coordinates, far_bound, shrink = geometry
    movement, neighbor_move, far_bound_before = moves
    labels, upper, lower = bounds
    block_sums, block_weights, block_changed = block_outs
    n_samples, n_features = X.shape
    largest_move = movement.max()
    n_blocks = block_sums.shape[0]
    padded = padded_centers(centers)
    for run in prange(blocks_in(blocks)):
        block = block_of(blocks, run)
        start, end = block_bounds(n_samples, n_blocks, block)
        to_search = np.empty(end - start, dtype=np.int64)
        sq = np.empty(neighbors.shape[1], dtype=X.dtype)
        n_search = 0
        changed = 0
        for i in range(start, end):
            label = labels[i]
            if label >= 0:
                lower[i] = min(
                    lower[i] - neighbor_move[label],
                    max(lower[i], far_bound_before[label] - upper[i]) - largest_move,
                )
                upper[i] += movement[label]
                bound = max(half_separation[label], lower[i]) * shrink
                if upper[i] < bound:
                    continue
                sq_label = sq_distance_tile_order(X[i], centers[label])
                upper[i] = np.sqrt(sq_label)
                if upper[i] < bound:
                    continue
                if upper[i] < 0.5 * far_bound[label] * shrink:
                    nearest, nearest_sq, second_sq = local_search(
                        X[i], label, sq_label, neighbors[label], coordinates[label], sq
                    )
                    # Outside N(a): at least R(a) − ‖x − c_a‖ away, with a the old label.
                    lower[i] = min(np.sqrt(second_sq), far_bound[label] - upper[i])
                    upper[i] = np.sqrt(nearest_sq)
                    if nearest != label:
                        changed += 1
                        labels[i] = nearest
                    continue
            to_search[n_search] = i
            n_search += 1
        x_t, buffers = tile_buffers(n_features, X)
        for tile_start in range(0, n_search, TILE_ROWS):
            tile_rows = to_search[tile_start : min(tile_start + TILE_ROWS, n_search)]
            gather_tile(X, tile_rows, x_t)
            best_sq, best, second_best_sq = nearest_centers_tile(
                x_t, tile_rows.shape[0], padded, buffers
            )
            for p in range(tile_rows.shape[0]):
                i = tile_rows[p]
                if best[p] != labels[i]:
                    changed += 1
                    labels[i] = best[p]
                upper[i] = np.sqrt(best_sq[p])
                lower[i] = np.sqrt(second_best_sq[p])
        if changed:
            sum_rows(X, sample_weight, labels, start, end, block_sums[block], block_weights[block])
        block_changed[block] = changed


class HamerlyAssignment(BoundedAssignment):
    """Hamerly's assignment step for :func:`kmeans_scratch._iterations.run_iterations`.

    On narrow rows (colors) the bounds run from the first step, whose samples, unlabelled,
    are all searched.  On wide rows (:func:`~._wide.uses_blas`), where Lloyd's step goes
    through BLAS and a distance measured directly costs several times as much, they run
    only where they pay (see :class:`~._bounds.BoundedAssignment`): the share measured
    after Lloyd's first step is that of the rows within half their center's separation,
    ‖x − c_a‖ < s(a), which no other center can take (:meth:`skip_share`), and the bounds
    start at ``MIN_SKIP_SHARE`` from bounds that rule nothing out (u = ∞, l = 0).
    """

    min_skip_share = MIN_SKIP_SHARE

    def __init__(self, X, sample_weight, n_clusters):
        super().__init__(X, sample_weight, n_clusters)
        if not self.blas:
            self.runs_bounds = True
        self.upper = np.empty(X.shape[0])
        self.lower = np.empty(X.shape[0])
        self.n_assignments = 0
        self.neighbors = np.zeros((n_clusters, min(NEIGHBORS, n_clusters - 1)), dtype=np.int64)
        self.geometry = None
        # (p(j), max_{N(a)} p, R(a)) of the last move; not read before the first move,
        # since until then every sample has label -1 and gets a full search, or bounds
        # that rule nothing out.
        self.moves = (np.zeros(n_clusters), np.zeros(n_clusters), np.full(n_clusters, np.inf))

    def may_pay(self, n_clusters):
        """On wide rows, from ``MIN_CLUSTERS_ON_WIDE_ROWS`` clusters on: with fewer, Lloyd's
        step through BLAS costs little more than the one distance a bounded step measures
        for each row whose bounds fail."""
        return n_clusters >= MIN_CLUSTERS_ON_WIDE_ROWS

    def skip_share(self, centers, labels):
        """The share of the rows x with ‖x − c_a‖ < s(a) = ½ min_{j≠a} ‖c_a − c_j‖ (a the
        label of x), on a sample of rows: those whose label Hamerly's first test keeps
        without a distance.  0.06–0.57 on Gaussian blobs at k = 64 and 256, 0.00 on
        embedding-like rows and ``make_classification``."""
        own_labels, own = sampled_own_distances(self.X, centers, labels)
        half_separation = 0.5 * center_distances(centers).min(axis=1)
        return float(np.mean(own < half_separation[own_labels]))

    def first_bounds(self, centers, labels, center_sums, cluster_weights):
        """A step that writes every sample's bounds: on wide rows (:func:`~._wide.uses_blas`)
        Lloyd's step through BLAS, which writes them from the products
        (:func:`~._wide.bounds_of_products`); on narrow rows Hamerly's step from bounds
        that rule nothing out (u = ∞, l = 0), which searches every sample.  (On wide rows
        that search, by direct distances, took several Lloyd steps' time: at 784
        features and 8 clusters 30 ms against 6.)"""
        if self.blas:
            self.geometry = self.geometry_of(centers)
            bounds = bounds_to_write(self.upper, second=self.lower)
            return self.blas_step(centers, labels, center_sums, cluster_weights, bounds)
        self.upper[:] = np.inf
        self.lower[:] = 0.0
        return self.bounded_step(centers, labels, center_sums, cluster_weights)

    def geometry_of(self, centers):
        """``geometry`` of :func:`hamerly_assign_and_accumulate` for these centers, their
        neighborhoods chosen anew every ``NEIGHBORS_REFRESH`` steps."""
        choose_neighbors = self.n_assignments % NEIGHBORS_REFRESH == 0
        self.n_assignments += 1
        half_separation, far_bound = center_geometry(centers, self.neighbors, choose_neighbors)
        coordinates = neighbor_coordinates(centers, self.neighbors)
        return (half_separation, self.neighbors, coordinates, far_bound, self.shrink)

    def bounded_step(self, centers, labels, center_sums, cluster_weights):
        self.geometry = self.geometry_of(centers)
        arguments = (self.geometry, self.moves, (labels, self.upper, self.lower))
        return self.block_step(
            hamerly_assign_and_accumulate, centers, arguments, center_sums, cluster_weights
        )

    def centers_moved(self, centers_old, centers_new):
        """Movements p(j), and per center the largest move among its neighbors N(a) and R(a),
        both for the centers before the move (none before the first bounded step)."""
        if self.geometry is None:
            return
        _, neighbors, _, far_bound, _ = self.geometry
        movement = movements(centers_old, centers_new)
        self.moves = (movement, largest_neighbor_moves(neighbors, movement), far_bound)
