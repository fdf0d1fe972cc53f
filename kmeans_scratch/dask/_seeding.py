"""Seeding on chunked data: weighted draws of rows, and k-means|| (Bahmani et al. 2012).

Greedy k-means++ picks one center per pass over the data: k passes, k round trips to the
workers.  k-means|| ("k-means parallel") samples many candidates per pass instead:

1. C ← one row, drawn with probability ∝ its weight (a chunk drawn ∝ its total weight,
   then a row of it: one task);
2. for each of ``n_rounds`` rounds, with D(x) = min_{c∈C} ‖x − c‖ and φ = Σ_x w_x D(x)²,
   add to C every row x independently with probability min(1, ℓ · w_x D(x)² / φ), where
   ℓ = ``oversampling_factor`` · k (about ℓ candidates a round);
3. weight each candidate by the total weight of the rows nearest to it, and reduce the
   (about 1 + n_rounds · ℓ) weighted candidates to k centers by greedy k-means++ in memory.

Bahmani et al. show that a constant number of rounds (5 in their experiments, ℓ = 2k)
gives seeds as good as k-means++'s.  Each chunk keeps D(x)² and the index of its nearest
candidate between rounds (5 bytes a row in float32, 9 in float64, up to 256 candidates:
k ≤ 25 with the defaults) and draws its own random numbers from a seed the client draws
for it, so the seeds depend on ``random_state`` and on the chunking, never on the
workers.

One pass over the data per round.  Step 2's draw needs φ, a sum over every chunk, which
is known only after each chunk has updated its D² with the previous round's candidates;
but a chunk's own share φ_c ≤ φ bounds it, so a row can be drawn only if
u · φ_c < ℓ w D² (u its uniform number).  Each chunk therefore updates its D², then sends
φ_c and those rows (about ℓ, with their threshold t = ℓ w D² / u) in the same pass, and
the client keeps the rows with φ < t: the draw of step 2, exactly.  Step 3's weights come
from the nearest-candidate indices with the last round's update: 1 + ``n_rounds`` passes
in all, and the one task of step 1.

Reference: B. Bahmani, B. Moseley, A. Vattani, R. Kumar and S. Vassilvitskii, "Scalable
K-Means++", Proceedings of the VLDB Endowment 5(7), 2012.
"""

import numpy as np

from .._engine import greedy_kmeans_plusplus, kernel
from ._chunks import PerChunk, held_bytes, nearest_rows, packed, usable_arrays

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
    if n_rows < keys.shape[0]:  # the n_rows largest, in O(n), then sorted as argsort would
        best = np.argpartition(-keys, n_rows - 1)[:n_rows]
        best = best[np.lexsort((best, -keys[best]))]
    else:
        best = np.argsort(-keys, kind="stable")
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


class Closest:
    """A chunk's distance to the candidates so far: D(x)² (in the rows' dtype, that of the
    distances it is the minimum of) and the index of the nearest candidate (the first of
    equals), per row, kept packed between rounds (one byte a row up to 256 candidates,
    see :func:`~._chunks.packed`)."""

    def __init__(self, n_rows, dtype):
        self.squared = np.full(n_rows, np.inf, dtype=dtype)
        self.packed_nearest = np.zeros(n_rows, dtype=np.uint8)

    def nearest(self):
        """The nearest candidates' indices as int32 (a new array)."""
        return self.packed_nearest.astype(np.int32)

    def __sizeof__(self):
        return held_bytes(self)

    def __setstate__(self, state):
        self.__dict__.update(state)
        usable_arrays(self)


def update_closest(closest, rows, weights, new_candidates, first_index):
    """D(x)² ← min(D(x)², min_{c ∈ new} ‖x − c‖²) for the chunk's rows, and the nearest
    candidate's index (the new ones are numbered from ``first_index``; ``closest`` None:
    none yet).  Returns the updated :class:`Closest` and φ_c = Σ w D² over the chunk."""
    if closest is None:
        closest = Closest(rows.shape[0], rows.dtype)
    if rows.shape[0] == 0:
        return closest, 0.0
    labels, distances = nearest_rows(rows, new_candidates)  # none nearer if none drawn
    nearest = closest.nearest()
    potential = nearer_candidates(closest.squared, nearest, distances, labels, first_index, weights)
    closest.packed_nearest = packed(nearest, first_index + new_candidates.shape[0] - 1)
    return closest, potential


@kernel
def nearer_candidates(squared, nearest, distances, labels, first_index, weights):
    """Each row's D² and nearest candidate, where a new candidate (``labels``, numbered
    from ``first_index``, at ``distances``) is strictly nearer; returns Σ w D² (float64)."""
    potential = 0.0
    for i in range(squared.shape[0]):
        if distances[i] < squared[i]:
            squared[i] = distances[i]
            nearest[i] = labels[i] + first_index
        potential += np.float64(weights[i]) * squared[i]
    return potential


@kernel
def rows_that_may_be_drawn(squared, weights, uniform, potential, expected):
    """The rows with u · φ_c < ``expected`` · w D², in order (see :func:`sampling_round`)."""
    maybe = np.empty(squared.shape[0], dtype=np.int64)
    count = 0
    for i in range(squared.shape[0]):
        if uniform[i] * potential < expected * np.float64(weights[i]) * squared[i]:
            maybe[count] = i
            count += 1
    return maybe[:count]


def sampling_round(closest, rows, weights, new_candidates, first_index, expected, seed):
    """One k-means|| round on the chunk: D² updated with the previous round's candidates
    (see :func:`update_closest`), then the rows that this round may draw.

    Returns ``(closest, (φ_c, rows, thresholds))``: φ_c = Σ w D² over the chunk, and the
    rows with u · φ_c < ``expected`` · w D² (u uniform in [0, 1)) with their threshold
    t = ``expected`` · w D² / u; a row is drawn when the total φ < t (module docstring).
    """
    closest, potential = update_closest(closest, rows, weights, new_candidates, first_index)
    uniform = np.random.default_rng(seed).random(rows.shape[0])
    maybe = rows_that_may_be_drawn(closest.squared, weights, uniform, potential, expected)
    with np.errstate(divide="ignore"):
        scores = expected * weights[maybe].astype(np.float64) * closest.squared[maybe]
        thresholds = scores / uniform[maybe]
    return closest, (potential, rows[maybe], thresholds)


def nearest_weights(closest, rows, weights, new_candidates, first_index, n_candidates):
    """The last round's update (see :func:`update_closest`), then Σ w of the chunk's rows
    nearest to each of the ``n_candidates`` candidates (float64): ``(closest, sums)``."""
    closest, _ = update_closest(closest, rows, weights, new_candidates, first_index)
    weights = weights.astype(np.float64)
    return closest, np.bincount(closest.packed_nearest, weights=weights, minlength=n_candidates)


def picked_row(rows, weights, seed):
    """One of the chunk's rows, drawn with probability ∝ its weight: (1, d)."""
    cumulative = np.cumsum(weights, dtype=np.float64)
    target = np.random.default_rng(seed).random() * cumulative[-1]
    row = min(int(np.searchsorted(cumulative, target, side="right")), rows.shape[0] - 1)
    return rows[row : row + 1].copy()  # not a view: the rows may be a reused buffer


def first_candidate(chunks, chunk_totals, random_state):
    """One row of the data drawn with probability ∝ its weight, in one task: a chunk drawn
    with probability ∝ its total weight (the moments pass gave them), then a row of it."""
    cumulative = np.cumsum(chunk_totals)
    target = random_state.uniform(0.0, cumulative[-1])
    chunk = min(int(np.searchsorted(cumulative, target, side="right")), len(chunks) - 1)
    seed = int(random_state.randint(0, 2**31 - 1))
    (row,) = chunks.map(picked_row, seed, only=[chunk])
    return row


def kmeans_parallel(
    chunks,
    chunk_totals,
    n_clusters,
    random_state,
    n_rounds=N_ROUNDS,
    oversampling=OVERSAMPLING_FACTOR,
):
    """k seeds for the chunked data (centered) by k-means|| (module docstring);
    ``chunk_totals`` are the chunks' total weights."""
    candidates = first_candidate(chunks, chunk_totals, random_state)
    new, n_before = candidates, 0
    closest = None
    for _ in range(n_rounds):
        closest, drawn = chunks.map_kept(
            sampling_round, new, n_before, oversampling * n_clusters,
            chunk_seeds(chunks, random_state), states=closest,
        )  # fmt: skip
        n_before = candidates.shape[0]
        potential = sum(part[0] for part in drawn)
        new = np.concatenate([rows[potential < thresholds] for _, rows, thresholds in drawn])
        candidates = np.concatenate([candidates, new])
        if not potential > 0:  # every row sits on a candidate
            break
    closest, sums = chunks.map_kept(
        nearest_weights, new, n_before, candidates.shape[0], states=closest
    )
    chunks.release(closest)
    weights = np.sum(sums, axis=0)
    if candidates.shape[0] < n_clusters:
        extra = weighted_rows(chunks, n_clusters, random_state)
        candidates = np.concatenate([candidates, extra])
        weights = np.concatenate([weights, np.zeros(extra.shape[0])])
    candidates = np.ascontiguousarray(candidates, dtype=chunks.dtype)
    centers, _ = greedy_kmeans_plusplus(
        candidates, n_clusters, weights.astype(chunks.dtype), random_state
    )
    return centers
