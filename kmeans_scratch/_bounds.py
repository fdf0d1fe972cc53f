"""What Hamerly's and Elkan's iterations share: center geometry and a safety margin.

Both algorithms keep, for each sample x with label a, an upper bound u ≥ ‖x − c_a‖ and lower
bounds on the distance to the other centers, and skip the distance computations that the
triangle inequality shows to be useless:

- if a center moves by p, every distance to it changes by at most p, so after an update
  u grows by p(a) and a lower bound for center j shrinks by p(j);
- ‖x − c_j‖ ≥ ‖c_a − c_j‖ − ‖x − c_a‖, so if u ≤ ½ ‖c_a − c_j‖ center j cannot be closer
  than c_a; and if u ≤ s(a) = ½ min_{j≠a} ‖c_a − c_j‖, no center can.

**Exactness.** The skipped comparisons are those Lloyd's iteration would also decide for
the current label, provided the decision is not within rounding.  A skip therefore needs
``u < bound · SHRINK`` with ``SHRINK = 1 − 4 (d + 2) ε`` (ε the machine epsilon of the
data's dtype): a strict inequality with a margin wider than the rounding of a squared
distance in that dtype.  Samples that fail it are compared with every candidate center by
the same floating-point arithmetic as Lloyd's kernel (ties to the lowest index), so the
labels, hence the centers and the iteration count, are Lloyd's.
"""

import numpy as np

from ._distances import sq_distance_f64
from ._kernels import kernel, prange
from ._lloyd import LloydAssignment

#: Rows :func:`sampled_own_distances` takes (evenly spaced): enough for a share to within
#: about 1 %, in well under a Lloyd step.
SAMPLE_ROWS = 4096


def shrink_factor(dtype, n_features):
    """``1 − 4 (d + 2) ε``: how much a bound must win by before a comparison is skipped."""
    return 1.0 - 4.0 * (n_features + 2) * float(np.finfo(dtype).eps)


@kernel
def smallest(values):
    """``min(values)`` (+inf when empty; a NaN is skipped, and the distances it serves
    never hold one), kept in four running minima: one minimum is a chain of dependent
    comparisons that LLVM leaves scalar, four independent ones it vectorizes (three times
    faster over the 256 distances of a center to the others)."""
    lane_0 = lane_1 = lane_2 = lane_3 = np.inf
    n_values = values.shape[0]
    full = n_values - n_values % 4
    for j in range(0, full, 4):
        lane_0 = min(lane_0, values[j])
        lane_1 = min(lane_1, values[j + 1])
        lane_2 = min(lane_2, values[j + 2])
        lane_3 = min(lane_3, values[j + 3])
    for j in range(full, n_values):
        lane_0 = min(lane_0, values[j])
    return min(min(lane_0, lane_1), min(lane_2, lane_3))


@kernel(parallel=True)
def center_distances(centers):
    """(k, k) Euclidean distances between centers, in float64 (+inf on the diagonal).

    Each pair is computed once, a < j, and mirrored: (c_a − c_j)² and (c_j − c_a)² are the
    same bits."""
    n_clusters = centers.shape[0]
    distances = np.empty((n_clusters, n_clusters))
    for a in prange(n_clusters):
        distances[a, a] = np.inf
        for j in range(a + 1, n_clusters):
            distances[a, j] = np.sqrt(sq_distance_f64(centers[a], centers[j]))
            distances[j, a] = distances[a, j]
    return distances


@kernel
def nearest_in_row(row, out):
    """``out`` ← the indices of the ``len(out)`` smallest values of ``row``, smallest first
    (ties to the lowest index), by insertion into a sorted list."""
    n_kept = out.shape[0]
    if n_kept == 0:
        return
    kept = np.full(n_kept, np.inf)
    for j in range(row.shape[0]):
        value = row[j]
        if value < kept[n_kept - 1]:
            slot = n_kept - 1
            while slot > 0 and kept[slot - 1] > value:
                kept[slot] = kept[slot - 1]
                out[slot] = out[slot - 1]
                slot -= 1
            kept[slot] = value
            out[slot] = j


@kernel(parallel=True)
def center_geometry(centers, neighbors, choose_neighbors):
    """The distances between centers that Hamerly's bounds use, without a (k, k) matrix.

    For each center a, with N(a) the centers listed in ``neighbors[a]`` (any set of other
    centers; the nearest make the best bounds): ``half_separation[a]`` = s(a) =
    ½ min_{j≠a} ‖c_a − c_j‖ and ``far_bound[a]`` = R(a) = min_{j∉N(a), j≠a} ‖c_a − c_j‖
    (+inf if there is none).
    With ``choose_neighbors``, ``neighbors[a]`` is first set to the ids of the
    ``neighbors.shape[1]`` (at most k − 1) nearest other centers, nearest first.
    """
    n_clusters, n_features = centers.shape
    centers_t = np.ascontiguousarray(centers.T).astype(np.float64)
    half_separation = np.empty(n_clusters)
    far_bound = np.empty(n_clusters)
    for a in prange(n_clusters):
        row = np.zeros(n_clusters)  # squared distances from c_a
        for f in range(n_features):
            c_f = centers_t[f]
            c_af = centers_t[f, a]
            for j in range(n_clusters):
                row[j] += (c_f[j] - c_af) * (c_f[j] - c_af)
        row[a] = np.inf
        if choose_neighbors:
            nearest_in_row(row, neighbors[a])
        half_separation[a] = 0.5 * np.sqrt(smallest(row))
        for m in range(neighbors.shape[1]):
            row[neighbors[a, m]] = np.inf
        far_bound[a] = np.sqrt(smallest(row))
    return half_separation, far_bound


def largest_neighbor_moves(neighbors, movement):
    """For each center a, max_{j ∈ N(a)} p(j) (0 when N(a) is empty)."""
    return movement[neighbors].max(axis=1, initial=0.0)


def movements(centers_old, centers_new):
    """``p(j) = ‖c_j(new) − c_j(old)‖`` in float64."""
    diff = centers_new.astype(np.float64) - centers_old.astype(np.float64)
    return np.sqrt((diff**2).sum(axis=1))


def sampled_own_distances(X, centers, labels, n_rows=SAMPLE_ROWS):
    """``(labels, ‖x − c_label‖)`` of at most ``n_rows`` evenly spaced rows of ``X`` (every
    ``step``-th), the distances in float64: what :meth:`BoundedAssignment.skip_share`
    measures on."""
    step = max(1, X.shape[0] // n_rows)
    return labels[::step], own_distances_of_every(X, centers, labels, step)


@kernel(parallel=True)
def own_distances_of_every(X, centers, labels, step):
    """‖x_i − c_{l_i}‖ in float64 for rows i = 0, step, 2·step, …, without copying them
    (NumPy's float64 copy of the sampled rows took 11 ms of a 75 ms fit at 784 features)."""
    n_sampled = -(-X.shape[0] // step)
    own = np.empty(n_sampled)
    for s in prange(n_sampled):
        i = s * step
        c = centers[labels[i]]
        total = 0.0
        for f in range(X.shape[1]):
            diff = np.float64(X[i, f]) - np.float64(c[f])
            total += diff * diff
        own[s] = np.sqrt(total)
    return own


class BoundedAssignment(LloydAssignment):
    """Lloyd's step, with bounds where they pay: what Hamerly's and Elkan's steps share.

    A bound skips a distance; keeping it costs memory traffic every step, and the first
    bounds cost a step of their own.  On rows where Lloyd's step goes through BLAS a
    distance is cheap, and the bounds pay only where the clusters stand apart.  So the
    first step is Lloyd's, and on its labels the step measures the share of the work its
    bounds would skip (:meth:`skip_share`, on a sample of rows): at ``min_skip_share`` or
    more the bounds start (:meth:`first_bounds`) and every later step is the bounded one
    (:meth:`bounded_step`), else every step is Lloyd's and the bounds are never written.
    A subclass may start its bounds at the first step instead (``runs_bounds`` True).
    Either way the labels, centers and iterations are Lloyd's, bit for bit.
    """

    #: Whether the step measures if its bounds pay (the tests of the bounds' own code,
    #: through the ``bounds_everywhere`` fixture, make them run always).
    bounds_only_where_they_pay = True
    min_skip_share = 0.0

    def __init__(self, X, sample_weight, n_clusters):
        super().__init__(X, sample_weight, n_clusters)
        self.shrink = shrink_factor(X.dtype, X.shape[1])
        self.runs_bounds = None  # decided after the first step

    def may_pay(self, n_clusters):
        """Whether the bounds may pay on these rows with ``n_clusters`` clusters, before
        their share is measured (here always)."""
        return True

    def assign_and_accumulate(self, centers, labels, center_sums, cluster_weights):
        sums = (center_sums, cluster_weights)
        if self.runs_bounds is None:
            if labels[0] < 0:  # the first step: no labels yet to measure with
                return super().assign_and_accumulate(centers, labels, *sums)
            self.runs_bounds = not self.bounds_only_where_they_pay or (
                self.may_pay(centers.shape[0])
                and self.skip_share(centers, labels) >= self.min_skip_share
            )
            if self.runs_bounds:
                return self.first_bounds(centers, labels, *sums)
        if self.runs_bounds:
            return self.bounded_step(centers, labels, *sums)
        return super().assign_and_accumulate(centers, labels, *sums)
