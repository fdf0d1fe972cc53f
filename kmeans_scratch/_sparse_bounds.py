"""Hamerly's and Elkan's exact steps on sparse rows (CSR): bounds that allow for rounding.

The bounds are those of the dense steps (``_hamerly``, ``_elkan``, ``_bounds``): an upper
bound U ≥ ‖x − c_a‖ on the distance to the label's center and lower bounds L on the
others, moved by how far the centers move, and the triangle inequality
‖x − c_j‖ ≥ ‖c_a − c_j‖ − ‖x − c_a‖.  Here a distance δ = √D̃ is computed from the
expansion (see :mod:`._sparse`), off the true distance Δ by at most the row's slack
s = √E (:func:`distance_slack`), so the bounds hold the *true* distances:

- a computed δ gives U = δ + s and L = δ − s;
- center j can be skipped when κ_j > κ_a for sure, the comparison Lloyd's step makes.
  ``U + 2s < L_j`` gives Δ_j − Δ_a > 2s (Δ the true distances), hence
  Δ_j² − Δ_a² > 4s² = 4E, more than the two keys' rounding; by the triangle inequality
  ``U + 2s < ½ ‖c_a − c_j‖`` is enough too;
- each such test also needs ``shrink`` (``_bounds.shrink_factor``) for the rounding of
  the center distances and movements, computed directly in float64.

A center that is not skipped is compared by the same κ as Lloyd's step on CSR rows
(ties to the lowest index), so the labels are Lloyd's, and so are the centers and the
iteration count.  The bounds are updated row by row, O(k) per row for Elkan's: small
beside the O(nnz · k) distances they save.
"""

import numpy as np

from ._blocks import block_bounds
from ._bounds import center_distances, movements, shrink_factor, smallest
from ._elkan import check_bounds_fit
from ._kernels import kernel, prange
from ._sparse import (
    LABEL_CHUNKS,
    SparseRows,
    center_arrays,
    nearest_of_keys,
    pair_key,
    row_keys,
    sq_distance,
)

#: Unit roundoff of float64, in which every D̃ is computed.
UNIT_ROUNDOFF = float(np.finfo(np.float64).eps) / 2


@kernel(inline="always")
def distance_slack(n_nonzero, n_features, x_sq, largest_center_sq):
    """s = √E with E = 2 (nnz + d + 4) u (‖x‖² + max_j ‖c_j‖²): how far a computed
    distance √D̃ can be from the true one (|√a − √b| ≤ √|a − b|)."""
    scale = x_sq + largest_center_sq
    return np.sqrt(2.0 * (n_nonzero + n_features + 4) * UNIT_ROUNDOFF * scale)


@kernel(inline="always")
def distance(x_sq, key):
    """δ = √D̃: the computed distance of a row (‖x‖²) to a center (κ)."""
    return np.sqrt(sq_distance(x_sq, key))


@kernel(parallel=True)
def hamerly_step(
    data,
    indices,
    indptr,
    x_sq,  # IN: ‖x_i‖²
    centers_t,  # IN: the centers by column (d, k) float64, ‖c_j‖², s(a) = ½ min_j ‖c_a − c_j‖
    center_sq,
    half_separation,
    movement,  # IN: how far each center moved since the last step
    shrink,
    labels,  # IN/OUT
    upper,  # IN/OUT: U_i ≥ ‖x_i − c_{l_i}‖
    lower,  # IN/OUT: L_i ≤ min_{j ≠ l_i} ‖x_i − c_j‖
    changed,  # OUT: 1 where the label changed
):
    """Hamerly's assignment on CSR rows: one lower bound per row, on its second nearest."""
    n_samples, n_features = x_sq.shape[0], centers_t.shape[0]
    n_chunks = min(n_samples, LABEL_CHUNKS)
    largest_center_sq = center_sq.max()
    largest_movement = movement.max()
    for chunk in prange(n_chunks):
        keys = np.empty(center_sq.shape[0])
        start, end = block_bounds(n_samples, n_chunks, chunk)
        for i in range(start, end):
            row_start, row_end = indptr[i], indptr[i + 1]
            slack = distance_slack(row_end - row_start, n_features, x_sq[i], largest_center_sq)
            label = labels[i]
            best = label
            every_center = label < 0
            if not every_center:
                upper[i] += movement[label]
                lower[i] -= largest_movement
                bound = max(lower[i], half_separation[label]) * shrink
                if upper[i] + 2.0 * slack >= bound:
                    key = pair_key(data, indices, row_start, row_end, centers_t, label, center_sq)
                    upper[i] = distance(x_sq[i], key) + slack
                    every_center = upper[i] + 2.0 * slack >= bound
            if every_center:
                row_keys(data, indices, row_start, row_end, centers_t, center_sq, keys)
                best, best_key, second_key = nearest_of_keys(keys)
                upper[i] = distance(x_sq[i], best_key) + slack
                lower[i] = distance(x_sq[i], second_key) - slack
            changed[i] = best != label
            labels[i] = best


#: Elkan's step computes one row's κ for every center at once (:func:`row_keys`, reading each
#: nonzero's cache line of the centers once) rather than center by center when more than
#: this many centers may be closer than the label's.
ALL_KEYS_FROM_CANDIDATES = 4


@kernel
def nearest_of_candidates(
    data, indices, row_start, row_end, x_sq, centers_t, center_sq, half_distances, label,
    upper, lower, slack, shrink,
):  # fmt: skip
    """Elkan's search for one row labelled ``label``, center by center: the tests of the
    module's docstring skip what they can, U is tightened once before the first center
    that fails them, ``lower`` (the row's bounds) is updated for every center computed.
    Returns the nearest center and the new U."""
    best, best_key = label, np.inf  # κ of the label's center, once computed
    for j in range(center_sq.shape[0]):
        if j == best:
            continue
        bound = max(lower[j], half_distances[best, j]) * shrink
        if upper + 2.0 * slack < bound:
            continue
        if best_key == np.inf:
            best_key = pair_key(data, indices, row_start, row_end, centers_t, best, center_sq)
            upper = distance(x_sq, best_key) + slack
            lower[best] = distance(x_sq, best_key) - slack
            if upper + 2.0 * slack < bound:
                continue
        key = pair_key(data, indices, row_start, row_end, centers_t, j, center_sq)
        lower[j] = distance(x_sq, key) - slack
        if key < best_key or (key == best_key and j < best):
            best, best_key = j, key
            upper = distance(x_sq, key) + slack
    return best, upper


@kernel(parallel=True)
def elkan_step(
    data,
    indices,
    indptr,
    x_sq,  # IN: ‖x_i‖²
    centers_t,  # IN: the centers by column (d, k) float64, ‖c_j‖², ½ ‖c_a − c_j‖ (+inf
    center_sq,  # on the diagonal)
    half_distances,
    movement,  # IN: how far each center moved since the last step
    shrink,
    labels,  # IN/OUT
    upper,  # IN/OUT: U_i ≥ ‖x_i − c_{l_i}‖
    lower,  # IN/OUT: L_ij ≤ ‖x_i − c_j‖
    changed,  # OUT: 1 where the label changed
):
    """Elkan's assignment on CSR rows: a lower bound per row and center."""
    n_samples, n_features = x_sq.shape[0], centers_t.shape[0]
    n_clusters = center_sq.shape[0]
    n_chunks = min(n_samples, LABEL_CHUNKS)
    largest_center_sq = center_sq.max()
    half_separation = np.empty(n_clusters)
    for a in range(n_clusters):
        half_separation[a] = smallest(half_distances[a])
    for chunk in prange(n_chunks):
        keys = np.empty(n_clusters)
        start, end = block_bounds(n_samples, n_chunks, chunk)
        for i in range(start, end):
            row_start, row_end = indptr[i], indptr[i + 1]
            slack = distance_slack(row_end - row_start, n_features, x_sq[i], largest_center_sq)
            label = labels[i]
            best = label
            every_center = label < 0  # no bounds yet: every distance
            if not every_center:
                upper[i] += movement[label]
                for j in range(n_clusters):
                    lower[i, j] -= movement[j]
                if upper[i] + 2.0 * slack >= half_separation[label] * shrink:
                    n_candidates = 0
                    for j in range(n_clusters):
                        bound = max(lower[i, j], half_distances[label, j]) * shrink
                        n_candidates += j != label and upper[i] + 2.0 * slack >= bound
                    every_center = n_candidates > ALL_KEYS_FROM_CANDIDATES
                    if not every_center:
                        best, upper[i] = nearest_of_candidates(
                            data, indices, row_start, row_end, x_sq[i], centers_t, center_sq,
                            half_distances, label, upper[i], lower[i], slack, shrink,
                        )  # fmt: skip
            if every_center:
                row_keys(data, indices, row_start, row_end, centers_t, center_sq, keys)
                best, best_key, _ = nearest_of_keys(keys)
                for j in range(n_clusters):
                    lower[i, j] = distance(x_sq[i], keys[j]) - slack
                upper[i] = distance(x_sq[i], best_key) + slack
            changed[i] = best != label
            labels[i] = best


class SparseBoundedAssignment(SparseRows):
    """What the two steps share: the rows, U, the last movement."""

    def __init__(self, X, sample_weight, n_clusters):
        super().__init__(X, sample_weight)
        self.upper = np.empty(X.shape[0])
        self.movement = np.zeros(n_clusters)
        self.shrink = shrink_factor(np.float64, X.shape[1])

    def centers_moved(self, centers_old, centers_new):
        self.movement = movements(centers_old, centers_new)


class SparseHamerlyAssignment(SparseBoundedAssignment):
    """Hamerly's step on CSR rows, for :func:`~._iterations.run_iterations`."""

    def __init__(self, X, sample_weight, n_clusters):
        super().__init__(X, sample_weight, n_clusters)
        self.lower = np.empty(X.shape[0])

    def assign_and_accumulate(self, centers, labels, center_sums, cluster_weights):
        centers_64, centers_t, center_sq = center_arrays(centers)
        half_separation = 0.5 * center_distances(centers_64).min(axis=1)
        hamerly_step(
            *self.parts, self.x_sq, centers_t, center_sq, half_separation,
            self.movement, self.shrink, labels, self.upper, self.lower, self.changed,
        )  # fmt: skip
        return self.accumulate(labels, center_sums, cluster_weights)


class SparseElkanAssignment(SparseBoundedAssignment):
    """Elkan's step on CSR rows, for :func:`~._iterations.run_iterations`."""

    def __init__(self, X, sample_weight, n_clusters):
        check_bounds_fit(X.shape[0], n_clusters)
        super().__init__(X, sample_weight, n_clusters)
        self.lower = np.empty((X.shape[0], n_clusters))

    def assign_and_accumulate(self, centers, labels, center_sums, cluster_weights):
        centers_64, centers_t, center_sq = center_arrays(centers)
        half_distances = 0.5 * center_distances(centers_64)
        elkan_step(
            *self.parts, self.x_sq, centers_t, center_sq, half_distances, self.movement,
            self.shrink, labels, self.upper, self.lower, self.changed,
        )  # fmt: skip
        return self.accumulate(labels, center_sums, cluster_weights)
