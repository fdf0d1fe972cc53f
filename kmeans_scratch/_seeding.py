"""Initial centers: greedy k-means++ and uniform random choice.

k-means++ (Arthur & Vassilvitskii 2007) picks the first center with probability
proportional to the sample weight, then every next center with probability proportional
to w_i · D(x_i)², where D(x)² = min_{c ∈ C} ‖x − c‖² is the squared distance to the
nearest center chosen so far.  This "D² weighting" gives an expected inertia within
O(log k) of the optimum before Lloyd's iteration even starts.

The greedy variant (used by scikit-learn, and here) draws ``n_local_trials`` candidates
per step, 2 + ⌊ln k⌋ by default, and keeps the one that lowers the potential
φ = Σ_i w_i D(x_i)² the most.

Each step costs ``n_samples * n_local_trials`` distances.  The Numba kernel below does
that work in one parallel pass over ``X`` per step, without storing the
(n_local_trials, n_samples) distance matrix: it folds the previous winner into
D² and scores the new candidates, keeping for each candidate its potential per
block of samples.  The winner's block sums are what the next draw needs: it walks them,
then scans one block, instead of building a cumulative sum over all samples.  (Passes
over ``X`` are what costs: at a million pixels ``X`` no longer fits in cache.)

The random draws are the same NumPy calls in the same order as scikit-learn's, so the
same ``random_state`` gives the same seeds up to floating-point ties.

References
----------
D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful seeding",
Proceedings of the 18th ACM-SIAM Symposium on Discrete Algorithms (SODA), 2007.
"""

import numpy as np
from numba import njit, prange

from ._common import (
    TILE_ROWS,
    block_bounds,
    n_blocks_for,
    ordered_sum,
    sq_distance,
    tile_sq_distances_to_point,
    transpose_tile,
)


@njit(parallel=True, cache=True)
def score_candidates(X, sample_weight, closest_sq, newest_center, candidates, block_potentials):
    """Fold the newest center into ``D²``, then score every candidate, in one pass over ``X``.

    First ``closest_sq[i] = min(D(x_i)², ||x_i - newest_center||²)``; then, for every block
    b and candidate c, ``block_potentials[b, c] = sum_{i in b} w_i min(D(x_i)², ||x_i - c||²)``:
    the potential the candidate would leave, split by block.  Distances are float64, on
    transposed tiles (SIMD over points); each lane accumulates its own points and the
    lanes are summed per block.
    """
    n_samples, n_features = X.shape
    n_candidates = candidates.shape[0]
    n_blocks = block_potentials.shape[0]
    for block in prange(n_blocks):
        start, end = block_bounds(n_samples, n_blocks, block)
        x_t = np.empty((n_features, TILE_ROWS))
        sq = np.empty(TILE_ROWS)
        lane_potentials = np.zeros((n_candidates, TILE_ROWS))
        for tile_start in range(start, end, TILE_ROWS):
            n_rows = min(TILE_ROWS, end - tile_start)
            transpose_tile(X, tile_start, tile_start + n_rows, x_t)
            closest = closest_sq[tile_start : tile_start + n_rows]
            weights = sample_weight[tile_start : tile_start + n_rows]
            tile_sq_distances_to_point(x_t, n_rows, newest_center, sq)
            for p in range(n_rows):
                closest[p] = min(closest[p], sq[p])
            for c in range(n_candidates):
                tile_sq_distances_to_point(x_t, n_rows, candidates[c], sq)
                lanes = lane_potentials[c]
                for p in range(n_rows):
                    lanes[p] += weights[p] * min(closest[p], sq[p])
        for c in range(n_candidates):
            block_potentials[block, c] = ordered_sum(lane_potentials[c])


@njit(cache=True)
def sample_by_potential(X, sample_weight, closest_sq, newest_center, block_potential, target):
    """Index of the first sample whose running sum of ``w_i D(x_i)²`` reaches ``target``.

    ``D²`` is ``closest_sq`` with ``newest_center`` folded in (computed on the fly: the
    arrays catch up in the next :func:`score_candidates` pass), and ``block_potential``
    holds its sum per block.  Same index as ``np.searchsorted(np.cumsum(w * D²), target)``
    clipped to the last sample, found by skipping whole blocks first.
    """
    n_samples = X.shape[0]
    n_blocks = block_potential.shape[0]
    running = 0.0
    for block in range(n_blocks):
        if running + block_potential[block] < target:
            running += block_potential[block]
            continue
        start, end = block_bounds(n_samples, n_blocks, block)
        for i in range(start, end):
            sq = min(closest_sq[i], sq_distance(X[i], newest_center))
            running += sample_weight[i] * sq
            if running >= target:
                return i
    return n_samples - 1


def greedy_kmeans_plusplus(X, n_clusters, sample_weight, random_state, n_local_trials=None):
    """Greedy k-means++ on validated input; returns ``(centers, indices)``.

    ``X`` is a C-contiguous float array, ``sample_weight`` a non-negative array of the
    same dtype and ``random_state`` a ``numpy.random.RandomState``.
    """
    n_samples, n_features = X.shape
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    centers = np.empty((n_clusters, n_features), dtype=X.dtype)
    indices = np.full(n_clusters, -1, dtype=int)

    first = random_state.choice(n_samples, p=sample_weight / sample_weight.sum())
    centers[0] = X[first]
    indices[0] = first
    closest_sq = np.full(n_samples, np.inf)
    n_blocks = n_blocks_for(n_samples, n_local_trials * 8)
    # Scoring the first center as the only candidate leaves D² and its block sums.
    newest = centers[0].astype(np.float64)
    first_potentials = np.empty((n_blocks, 1))
    score_candidates(X, sample_weight, closest_sq, newest, newest[None, :], first_potentials)
    block_potential = first_potentials[:, 0].copy()
    block_potentials = np.empty((n_blocks, n_local_trials))
    current_potential = block_potential.sum()

    for c in range(1, n_clusters):
        targets = random_state.uniform(size=n_local_trials) * current_potential
        candidate_ids = np.array(
            [
                sample_by_potential(X, sample_weight, closest_sq, newest, block_potential, target)
                for target in targets
            ]
        )
        candidates = X[candidate_ids].astype(np.float64)
        score_candidates(X, sample_weight, closest_sq, newest, candidates, block_potentials)
        potentials = block_potentials.sum(axis=0)
        best = np.argmin(potentials)
        current_potential = potentials[best]
        block_potential = block_potentials[:, best].copy()
        newest = candidates[best]
        centers[c] = X[candidate_ids[best]]
        indices[c] = candidate_ids[best]
    return centers, indices


def random_choice_init(X, n_clusters, sample_weight, random_state):
    """``n_clusters`` distinct samples drawn with probability proportional to their weight."""
    seeds = random_state.choice(
        X.shape[0], size=n_clusters, replace=False, p=sample_weight / sample_weight.sum()
    )
    return X[seeds]
