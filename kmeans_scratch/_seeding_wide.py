"""Greedy k-means++ on wide rows: the candidates' distances through BLAS.

:mod:`._seeding` measures every distance directly, Σ_f (x_f − y_f)², and leaves out the
tiles of rows that a candidate cannot reach (by their bounding boxes): on colors, once a
few dozen centers are chosen, most tiles.  On wide rows the boxes leave out almost
nothing, and each direct distance costs d subtractions, multiplications and additions.
The same distances are a matrix product,

    ‖x − y‖² = ‖x‖² − 2 x·y + ‖y‖²,     x·y for a chunk of rows and every candidate = X Yᵀ,

as scikit-learn computes them.  Here the rows go in chunks of whole tiles, spread over
the threads; each chunk is multiplied by the candidates (``np.dot``, one BLAS thread per
chunk) and its tiles' scores are summed while the products are in cache.

Everything else is :mod:`._seeding`'s (its ``choose_centers_wide`` calls these kernels):
the draws (the same NumPy calls as scikit-learn's), the tiles' potentials Σ w_i D(x_i)²
summed in row order, the scores per tile added in tile order, the lowest score kept.
Only the distances are computed another way, in float64, as scikit-learn computes them
for float64 data: the same ``random_state`` gives scikit-learn's seeds up to draws that
rounding decides (a distance by the expansion is off by about (d + 2) ε (‖x‖² + ‖y‖²),
clamped at 0).  The candidates' distances to every row are kept for the one chosen, as
scikit-learn keeps them: one pass over the rows per center.
"""

import numpy as np

from ._blocks import SEEDING_TILE_ROWS, tile_bounds
from ._kernels import kernel, prange
from ._wide import BLAS_MIN_FEATURES, center_sq_norms

#: Tiles per chunk of rows multiplied at once: 1,024 rows, whose products with the
#: candidates (8 bytes × trials each) stay in the core's cache until they are summed.
CHUNK_TILES = 8


def seeds_through_blas(n_features):
    """Whether k-means++ on rows of ``n_features`` measures its distances through BLAS:
    from ``BLAS_MIN_FEATURES`` (16) on, as Lloyd's step does.  Measured on blobs (this
    project's 2-core machine, the same seeds all three ways), BLAS ÷ the tiles' direct
    distances: 0.75–0.9 at 16 features (k = 64, 100,000 rows), 0.85 at 32 (k = 256),
    0.45–0.5 at 64 (k = 64) and 0.55 at 300 (k = 100); and 0.7–0.95 × scikit-learn's."""
    return n_features >= BLAS_MIN_FEATURES


@kernel(inline="always")
def expanded_sq(x_sq, y_sq, product):
    """‖x − y‖² from ‖x‖², ‖y‖² and x·y, clamped at 0 (rounding can take it below)."""
    return max(x_sq + y_sq - 2.0 * product, 0.0)


@kernel(parallel=True)
def score_candidates_wide(X, x_sq, sample_weight, candidates, closest_sq, distances):
    """``scores[t, c] = Σ_{i in tile t} w_i min(D(x_i)², ‖x_i − y_c‖²)``: the potential
    each candidate y_c would leave, per tile (:func:`._seeding.score_candidates`'s), and
    ``distances[c, i] = ‖x_i − y_c‖²``, which :func:`add_distances` takes for the one
    kept: one pass over the rows per center, as scikit-learn's."""
    n_samples = X.shape[0]
    n_candidates = candidates.shape[0]
    n_tiles = -(-n_samples // SEEDING_TILE_ROWS)
    scores = np.empty((n_tiles, n_candidates))
    candidates_t = np.ascontiguousarray(candidates.T)
    y_sq = center_sq_norms(candidates)
    for chunk in prange(-(-n_tiles // CHUNK_TILES)):
        first_tile = chunk * CHUNK_TILES
        end_tile = min(first_tile + CHUNK_TILES, n_tiles)
        start = tile_bounds(n_samples, first_tile)[0]
        products = np.dot(X[start : tile_bounds(n_samples, end_tile - 1)[1]], candidates_t)
        for tile in range(first_tile, end_tile):
            tile_start, tile_end = tile_bounds(n_samples, tile)
            for c in range(n_candidates):
                total = 0.0
                for i in range(tile_start, tile_end):
                    sq = expanded_sq(x_sq[i], y_sq[c], products[i - start, c])
                    distances[c, i] = sq
                    total += np.float64(sample_weight[i]) * min(closest_sq[i], sq)
                scores[tile, c] = total
    return scores


@kernel(parallel=True)
def add_distances(sample_weight, distances, closest_sq, tile_potential):
    """``D(x_i)² ← min(D(x_i)², distances[i])`` for every row, and each tile's potential
    anew, summed in row order (:func:`._seeding.add_center`'s)."""
    for tile in prange(tile_potential.shape[0]):
        start, end = tile_bounds(closest_sq.shape[0], tile)
        potential = 0.0
        for i in range(start, end):
            closest_sq[i] = min(closest_sq[i], distances[i])
            potential += np.float64(sample_weight[i]) * closest_sq[i]
        tile_potential[tile] = potential
