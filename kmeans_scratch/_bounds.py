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

from ._blocks import block_sums_for
from ._distances import sq_distance_f64
from ._kernels import kernel, prange


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


class BoundedAssignment:
    """The state Hamerly's and Elkan's assignment steps keep from one iteration to the next:
    the data, the per-block cluster sums, an upper bound per sample and the skip margin."""

    def __init__(self, X, sample_weight, n_clusters):
        self.X = X
        self.sample_weight = sample_weight
        self.block_sums, self.block_weights = block_sums_for(X.shape[0], n_clusters, X.shape[1])
        self.upper = np.empty(X.shape[0])
        self.shrink = shrink_factor(X.dtype, X.shape[1])
