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

from ._common import TILE_ROWS, block_bounds, n_blocks_for, ordered_sum, sq_distance


@njit(cache=True)
def rows_sq_distances(X_t, start, n_rows, center, out):
    """``out[p] = ||x_{start+p} - center||²`` for ``n_rows`` points of the transposed ``X_t``."""
    for f in range(X_t.shape[0]):
        x_row = X_t[f, start : start + n_rows]
        c = center[f]
        if f == 0:
            for p in range(n_rows):
                out[p] = (x_row[p] - c) * (x_row[p] - c)
        else:
            for p in range(n_rows):
                out[p] += (x_row[p] - c) * (x_row[p] - c)


@njit(cache=True)
def rows_sq_distances_4(X_t, start, n_rows, candidates, first, out):
    """:func:`rows_sq_distances` for the four candidates ``first..first+3`` in one pass per
    feature (each point is loaded once for four candidates), into ``out[0..3]``."""
    out_0, out_1, out_2, out_3 = out[0], out[1], out[2], out[3]
    for f in range(X_t.shape[0]):
        x_row = X_t[f, start : start + n_rows]
        c_0, c_1 = candidates[first, f], candidates[first + 1, f]
        c_2, c_3 = candidates[first + 2, f], candidates[first + 3, f]
        if f == 0:
            for p in range(n_rows):
                x = x_row[p]
                out_0[p] = (x - c_0) * (x - c_0)
                out_1[p] = (x - c_1) * (x - c_1)
                out_2[p] = (x - c_2) * (x - c_2)
                out_3[p] = (x - c_3) * (x - c_3)
        else:
            for p in range(n_rows):
                x = x_row[p]
                out_0[p] += (x - c_0) * (x - c_0)
                out_1[p] += (x - c_1) * (x - c_1)
                out_2[p] += (x - c_2) * (x - c_2)
                out_3[p] += (x - c_3) * (x - c_3)


@njit(parallel=True, cache=True)
def score_candidates(X_t, sample_weight, closest_sq, newest_center, candidates, block_potentials):
    """Fold the newest center into ``D²``, then score every candidate, in one pass over ``X``.

    First ``closest_sq[i] = min(D(x_i)², ||x_i - newest_center||²)``; then, for every block
    b and candidate c, ``block_potentials[b, c] = sum_{i in b} w_i min(D(x_i)², ||x_i - c||²)``:
    the potential the candidate would leave, split by block.

    ``X_t`` is the (n_features, n_samples) float64 transpose of the data, made once per
    seeding, so every loop runs over consecutive points (SIMD).  ``candidates`` has a
    multiple of four rows (padded with +inf, which scores like no candidate at all) and is
    processed four at a time; each lane of ``lanes`` accumulates its own points, and the
    lanes are summed per block in a fixed order.
    """
    n_samples = X_t.shape[1]
    n_padded = candidates.shape[0]
    n_blocks, n_candidates = block_potentials.shape
    for block in prange(n_blocks):
        start, end = block_bounds(n_samples, n_blocks, block)
        distances = np.empty((4, TILE_ROWS))
        lanes = np.zeros((n_padded, TILE_ROWS))
        for tile_start in range(start, end, TILE_ROWS):
            n_rows = min(TILE_ROWS, end - tile_start)
            closest = closest_sq[tile_start : tile_start + n_rows]
            weights = sample_weight[tile_start : tile_start + n_rows]
            newest = distances[0]
            rows_sq_distances(X_t, tile_start, n_rows, newest_center, newest)
            for p in range(n_rows):
                closest[p] = min(closest[p], newest[p])
            for first in range(0, n_padded, 4):
                rows_sq_distances_4(X_t, tile_start, n_rows, candidates, first, distances)
                lane_0, lane_1 = lanes[first], lanes[first + 1]
                lane_2, lane_3 = lanes[first + 2], lanes[first + 3]
                d_0, d_1, d_2, d_3 = distances[0], distances[1], distances[2], distances[3]
                for p in range(n_rows):
                    weight = np.float64(weights[p])
                    lane_0[p] += weight * min(closest[p], d_0[p])
                    lane_1[p] += weight * min(closest[p], d_1[p])
                    lane_2[p] += weight * min(closest[p], d_2[p])
                    lane_3[p] += weight * min(closest[p], d_3[p])
        for c in range(n_candidates):
            block_potentials[block, c] = ordered_sum(lanes[c])


def padded_to_four(candidates):
    """The candidates (float64) plus rows of +inf up to a multiple of four."""
    padded = np.full((-(-candidates.shape[0] // 4) * 4, candidates.shape[1]), np.inf)
    padded[: candidates.shape[0]] = candidates
    return padded


@njit(cache=True)
def draw_candidates(X, sample_weight, closest_sq, newest_center, block_potential, targets, out):
    """``out[t] = X[sample_by_potential(..., targets[t])]`` for every target; returns the ids."""
    ids = np.empty(targets.shape[0], dtype=np.int64)
    for t in range(targets.shape[0]):
        ids[t] = sample_by_potential(
            X, sample_weight, closest_sq, newest_center, block_potential, targets[t]
        )
        out[t] = X[ids[t]]
    return ids


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
    X_t = np.ascontiguousarray(X.T, dtype=np.float64)
    n_blocks = n_blocks_for(n_samples, n_local_trials * 8)
    # Scoring the first center as the only candidate leaves D² and its block sums.
    newest = centers[0].astype(np.float64)
    first_potentials = np.empty((n_blocks, 1))
    score_candidates(
        X_t, sample_weight, closest_sq, newest, padded_to_four(newest[None, :]), first_potentials
    )
    block_potential = first_potentials[:, 0].copy()
    block_potentials = np.empty((n_blocks, n_local_trials))
    current_potential = block_potential.sum()

    # The same draws as one uniform(size=n_local_trials) call per center (MT19937 is a stream).
    uniforms = random_state.uniform(size=(n_clusters - 1, n_local_trials))
    candidates = padded_to_four(np.empty((n_local_trials, n_features)))
    for c in range(1, n_clusters):
        candidate_ids = draw_candidates(
            X,
            sample_weight,
            closest_sq,
            newest,
            block_potential,
            uniforms[c - 1] * current_potential,
            candidates,
        )
        score_candidates(X_t, sample_weight, closest_sq, newest, candidates, block_potentials)
        potentials = block_potentials.sum(axis=0)
        best = np.argmin(potentials)
        current_potential = potentials[best]
        block_potential = block_potentials[:, best].copy()
        newest = candidates[best].copy()
        centers[c] = X[candidate_ids[best]]
        indices[c] = candidate_ids[best]
    return centers, indices


def random_choice_init(X, n_clusters, sample_weight, random_state):
    """``n_clusters`` distinct samples drawn with probability proportional to their weight."""
    seeds = random_state.choice(
        X.shape[0], size=n_clusters, replace=False, p=sample_weight / sample_weight.sum()
    )
    return X[seeds]
