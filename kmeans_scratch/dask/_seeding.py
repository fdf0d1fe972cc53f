"""Seeding on chunked data: weighted draws of rows, and k-means|| (Bahmani et al. 2012).

Greedy k-means++ picks one center per pass over the data: k passes, k round trips to the
workers.  k-means|| ("k-means parallel") samples many candidates per pass instead:

1. C ← one row, drawn with probability ∝ its weight;
2. for each of ``n_rounds`` rounds, with D(x) = min_{c∈C} ‖x − c‖ and φ = Σ_x w_x D(x)²,
   add to C every row x independently with probability min(1, ℓ · w_x D(x)² / φ), where
   ℓ = ``oversampling_factor`` · k (about ℓ candidates a round);
3. weight each candidate by the total weight of the rows nearest to it, and reduce the
   (about 1 + n_rounds · ℓ) weighted candidates to k centers by greedy k-means++ in memory.

Bahmani et al. show that a constant number of rounds (5 in their experiments, ℓ = 2k)
gives seeds as good as k-means++'s.  Each chunk keeps D(x)² between rounds (8 bytes a
row) and draws its own random numbers from a seed the client draws for it, so the seeds
depend on ``random_state`` and on the chunking, never on the workers.

Reference: B. Bahmani, B. Moseley, A. Vattani, R. Kumar and S. Vassilvitskii, "Scalable
K-Means++", Proceedings of the VLDB Endowment 5(7), 2012.
"""

import numpy as np

from .._seeding import greedy_kmeans_plusplus
from ._chunked import PerChunk
from ._chunks import nearest_rows

#: Rounds of k-means|| sampling, and candidates drawn per round per cluster (ℓ / k).
N_ROUNDS = 5
OVERSAMPLING_FACTOR = 2.0


def chunk_seeds(chunks, random_state):
    """One 32-bit seed per chunk, drawn from ``random_state``."""
    return PerChunk(random_state.randint(0, 2**31 - 1, size=len(chunks)).tolist())


def draw_keys(rows, weights, n_rows, seed):
    """The chunk's part of a weighted draw without replacement (Efraimidis and Spirakis
    2006): each row gets the key log(u) / w, u uniform in (0, 1); the rows of the
    ``n_rows`` largest keys are a draw of ``n_rows`` distinct rows, each next one chosen
    with probability ∝ its weight.  Returns the chunk's ``n_rows`` best ``(keys, rows)``;
    rows of weight 0 are left out."""
    weights = weights.astype(np.float64)
    uniform = 1.0 - np.random.default_rng(seed).random(rows.shape[0])  # in (0, 1]
    with np.errstate(divide="ignore"):
        keys = np.where(weights > 0, np.log(uniform) / weights, -np.inf)
    best = np.argsort(-keys, kind="stable")[:n_rows]
    best = best[keys[best] > -np.inf]
    return keys[best], rows[best]


def weighted_rows(chunks, n_rows, random_state):
    """``n_rows`` distinct rows of the data (centered), drawn with probability ∝ weight."""
    drawn = chunks.map(draw_keys, n_rows, chunk_seeds(chunks, random_state))
    keys = np.concatenate([keys for keys, _ in drawn])
    rows = np.concatenate([rows for _, rows in drawn])
    if keys.shape[0] < n_rows:
        raise ValueError(
            f"only {keys.shape[0]} samples have a positive weight; {n_rows} are needed"
        )
    return rows[np.argsort(-keys, kind="stable")[:n_rows]]


def update_closest(closest, rows, weights, new_centers):
    """D(x)² ← min(D(x)², min_{c ∈ new} ‖x − c‖²) for the chunk's rows (``closest`` None: +∞);
    returns ``(closest, Σ w D²)``, the chunk's part of φ."""
    weights = weights.astype(np.float64)
    if closest is None:
        closest = np.full(rows.shape[0], np.inf)
    if rows.shape[0] == 0:
        return closest, 0.0
    _, distances = nearest_rows(rows, new_centers)
    np.minimum(closest, distances, out=closest)
    return closest, float(weights @ closest)


def sample_candidates(closest, rows, weights, potential, expected, seed):
    """The chunk's rows drawn independently, each with probability
    min(1, ``expected`` · w D² / φ)."""
    weights = weights.astype(np.float64)
    uniform = np.random.default_rng(seed).random(rows.shape[0])
    return rows[uniform * potential < expected * weights * closest]


def nearest_weights(rows, weights, candidates):
    """Σ w of the chunk's rows nearest to each candidate (float64, one per candidate)."""
    weights = weights.astype(np.float64)
    if rows.shape[0] == 0:
        return np.zeros(candidates.shape[0])
    labels, _ = nearest_rows(rows, candidates)
    return np.bincount(labels, weights=weights, minlength=candidates.shape[0])


def kmeans_parallel(
    chunks, n_clusters, random_state, n_rounds=N_ROUNDS, oversampling=OVERSAMPLING_FACTOR
):
    """k seeds for the chunked data (centered) by k-means|| (module docstring)."""
    candidates = weighted_rows(chunks, 1, random_state)
    closest, potentials = chunks.map_kept(update_closest, candidates)
    for round_ in range(n_rounds):
        potential = sum(potentials)
        if not potential > 0:  # every row sits on a candidate
            break
        drawn = chunks.map(
            sample_candidates, potential, oversampling * n_clusters,
            chunk_seeds(chunks, random_state), states=closest,
        )  # fmt: skip
        new = np.concatenate(drawn)
        candidates = np.concatenate([candidates, new])
        if round_ < n_rounds - 1 and new.shape[0]:
            closest, potentials = chunks.map_kept(update_closest, new, states=closest)
    chunks.release(closest)
    if candidates.shape[0] < n_clusters:
        candidates = np.concatenate([candidates, weighted_rows(chunks, n_clusters, random_state)])
    weights = np.sum(chunks.map(nearest_weights, candidates), axis=0)
    candidates = np.ascontiguousarray(candidates, dtype=chunks.dtype)
    centers, _ = greedy_kmeans_plusplus(
        candidates, n_clusters, weights.astype(chunks.dtype), random_state
    )
    return centers
