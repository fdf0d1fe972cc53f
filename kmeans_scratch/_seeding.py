"""Initial centers: greedy k-means++ and uniform random choice.

The same algorithm in plain NumPy, on one page:
:func:`kmeans_scratch.reference.kmeans_plusplus` (read it first; ``tests/test_reference.py``
holds this module to it).

k-means++ (Arthur & Vassilvitskii 2007) picks the first center with probability
proportional to the sample weight, then every next center with probability proportional
to w_i · D(x_i)², where D(x)² = min_{c ∈ C} ‖x − c‖² is the squared distance to the
nearest center chosen so far.  This "D² weighting" gives an expected inertia within
O(log k) of the optimum before Lloyd's iteration even starts.

The greedy variant (used by scikit-learn, and here) draws ``n_local_trials`` candidates
per step, 2 + ⌊ln k⌋ by default, and keeps the one that lowers the potential
φ = Σ_i w_i D(x_i)² the most.

Done directly, each step costs ``n_samples · (n_local_trials + 1)`` distances.  Here the
samples are cut into tiles of ``SEEDING_TILE_ROWS`` consecutive rows, and each tile keeps its
bounding box, its largest D² and its potential Σ w_i D(x_i)².  A point y (candidate or new
center) can only come closer to a sample x than its center if ‖x − y‖² < D(x)², and
‖x − y‖ is at least y's distance to the box, so a tile whose box is at least
√(max D²) away from y is left as it is: its potential counts unchanged.  The test is
exact in floating point (see :func:`tiles_reached`), so the scores are those of the
full computation.  Tiles are small boxes when consecutive rows are close points, as in
the color histogram of the image layer (Morton order): once a few dozen centers are
chosen, most tiles are skipped.  The tiles that are reached are computed four
candidates at a time over consecutive points (SIMD), one tile per thread.

The draw walks the tiles' potentials, then scans one tile: the same index as
``np.searchsorted(np.cumsum(w * D²), u · φ)``.  The random draws are the same NumPy calls
in the same order as scikit-learn's.  In float64, the sums here (per tile) and
scikit-learn's (one running sum, BLAS products) differ by roundings of about 1e-16 of φ,
far below the gaps that decide a draw or a comparison, so the same ``random_state`` gives
the same seeds up to such ties.  In float32 they do not: scikit-learn keeps D², the
running sum and the potentials in float32, and their rounding, 1e-6 to 1e-4 of φ, is
as large as one sample's share of φ (1/n on average), so it decides where draws land.
:func:`choose_centers_float32` repeats that arithmetic for the public ``kmeans_plusplus``;
the fit keeps the float64 sums, closer to exact and cheaper.

References
----------
D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful seeding",
Proceedings of the 18th ACM-SIAM Symposium on Discrete Algorithms (SODA), 2007.
"""

import time

import numpy as np

from . import _kernels
from ._blocks import SEEDING_TILE_ROWS, block_bounds, column_sums, ordered_sum, tile_bounds
from ._kernels import kernel, prange
from ._seeding_wide import add_distances, score_candidates_wide, seeds_through_blas
from ._threads import numba_threads
from ._wide import one_blas_thread, row_sq_norms


@kernel
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


@kernel
def rows_sq_distances_4(X_t, start, n_rows, points, out):
    """:func:`rows_sq_distances` for the four rows of ``points`` in one pass per feature
    (each sample is loaded once for four points), into ``out[0..3]``."""
    out_0, out_1, out_2, out_3 = out[0], out[1], out[2], out[3]
    for f in range(X_t.shape[0]):
        x_row = X_t[f, start : start + n_rows]
        c_0, c_1, c_2, c_3 = points[0, f], points[1, f], points[2, f], points[3, f]
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


#: The tiles are shared among at most ``TILE_CHUNKS`` parallel tasks, and at least
#: ``MIN_TASKS`` (the threads of most machines), of ``CHUNK_MIN_TILES`` tiles each between:
#: a task allocates its scratch once per center, and a histogram of 25,000 colors (196
#: tiles) split 64 ways spent a third of its seeding on that (35 ms a Kodak photo at
#: k = 256, 24 ms in 16 tasks).  Which task a tile falls in changes no result.
TILE_CHUNKS = 64
MIN_TASKS = 16
CHUNK_MIN_TILES = 32


@kernel
def n_tile_chunks(n_tiles):
    """How many tasks share ``n_tiles`` tiles (see ``TILE_CHUNKS``); task ``c`` of ``n``
    takes the tiles of ``block_bounds(n_tiles, n, c)``."""
    return min(n_tiles, TILE_CHUNKS, max(MIN_TASKS, n_tiles // CHUNK_MIN_TILES))


@kernel(parallel=True)
def tile_boxes(X_t):
    """``(low, high)``, each (n_features, n_tiles): the bounding box of each tile's points."""
    n_features, n_samples = X_t.shape
    n_tiles = -(-n_samples // SEEDING_TILE_ROWS)
    low, high = np.empty((n_features, n_tiles)), np.empty((n_features, n_tiles))
    for tile in prange(n_tiles):
        start, end = tile_bounds(n_samples, tile)
        for f in range(n_features):
            low[f, tile] = X_t[f, start:end].min()
            high[f, tile] = X_t[f, start:end].max()
    return low, high


@kernel
def tiles_reached(points, low, high, tile_max_sq, first, end):
    """(n_points, end − first) bool: whether each point can come closer than its center to
    some sample of tile ``first + t``, i.e. whether its squared distance to the tile's
    box is below the tile's largest D².

    Each term of the box distance is taken from a face no farther than the sample's own
    coordinate and rounding is monotone, so the box distance is at most the computed
    ``||x − y||²`` of every sample x in the box (terms added in the same order): an
    unreached tile is unchanged by the point, exactly.  The loops run over tiles (SIMD).
    """
    n_features, n_tiles = low.shape[0], end - first
    reached = np.empty((points.shape[0], n_tiles), dtype=np.bool_)
    box_sq = np.empty(n_tiles)
    largest = tile_max_sq[first:end]
    for c in range(points.shape[0]):
        box_sq[:] = 0.0
        for f in range(n_features):
            y = points[c, f]
            low_f, high_f = low[f, first:end], high[f, first:end]
            for t in range(n_tiles):
                below, above = low_f[t] - y, y - high_f[t]
                gap = below if below > above else above
                gap = gap if gap > 0.0 else 0.0
                box_sq[t] += gap * gap
        for t in range(n_tiles):
            reached[c, t] = box_sq[t] < largest[t]
    return reached


@kernel(parallel=True)
def add_center(X_t, sample_weight, center, boxes, closest_sq, tile_max_sq, tile_potential):
    """``D(x)² ← min(D(x)², ||x − center||²)`` in every tile the center reaches, and each
    such tile's largest D² and potential anew (summed in row order).

    The distances are float64; a float32 ``closest_sq`` stores each minimum rounded to
    float32, which is ``min(D², fl32(||x − center||²))`` since rounding is monotone.
    """
    n_samples, n_tiles = X_t.shape[1], tile_max_sq.shape[0]
    n_chunks = n_tile_chunks(n_tiles)
    for chunk in prange(n_chunks):
        distances = np.empty(SEEDING_TILE_ROWS)
        first_tile, end_tile = block_bounds(n_tiles, n_chunks, chunk)
        reached = tiles_reached(center[None, :], *boxes, tile_max_sq, first_tile, end_tile)
        for tile in range(first_tile, end_tile):
            if not reached[0, tile - first_tile]:
                continue
            start, end = tile_bounds(n_samples, tile)
            rows_sq_distances(X_t, start, end - start, center, distances)
            largest, potential = 0.0, 0.0
            for p in range(end - start):
                closest_sq[start + p] = min(closest_sq[start + p], distances[p])
                sq = closest_sq[start + p]  # rounded to closest_sq's dtype
                largest = max(largest, sq)
                potential += np.float64(sample_weight[start + p]) * sq
            tile_max_sq[tile], tile_potential[tile] = largest, potential


@kernel(parallel=True)
def score_candidates(
    X_t, sample_weight, candidates, boxes, closest_sq, tile_max_sq, tile_potential
):
    """``scores[t, c] = Σ_{i in tile t} w_i min(D(x_i)², ||x_i − c||²)``: the potential each
    candidate would leave, per tile.

    A candidate that does not reach a tile leaves its potential as it is; those that do
    are computed four at a time over the tile's consecutive rows.
    """
    n_samples = X_t.shape[1]
    n_candidates, n_features = candidates.shape
    n_tiles = tile_max_sq.shape[0]
    scores = np.empty((n_tiles, n_candidates))
    n_chunks = n_tile_chunks(n_tiles)
    for chunk in prange(n_chunks):
        distances = np.empty((4, SEEDING_TILE_ROWS))
        group = np.empty((4, n_features))
        members = np.empty(4, dtype=np.int64)
        first_tile, end_tile = block_bounds(n_tiles, n_chunks, chunk)
        reached = tiles_reached(candidates, *boxes, tile_max_sq, first_tile, end_tile)
        for tile in range(first_tile, end_tile):
            start, end = tile_bounds(n_samples, tile)
            n_members = 0
            for c in range(n_candidates + 1):
                if c < n_candidates:
                    if not reached[c, tile - first_tile]:
                        scores[tile, c] = tile_potential[tile]
                        continue
                    group[n_members] = candidates[c]
                    members[n_members] = c
                    n_members += 1
                if n_members == 4 or (c == n_candidates and n_members > 0):
                    group[n_members:] = np.inf
                    totals = sum_closer(
                        X_t, sample_weight, closest_sq, start, end, group, distances
                    )
                    for m in range(n_members):
                        scores[tile, members[m]] = totals[m]
                    n_members = 0
    return scores


@kernel
def sum_closer(X_t, sample_weight, closest_sq, start, end, group, distances):
    """``Σ_{i=start}^{end-1} w_i min(D(x_i)², ||x_i − y||²)`` for each of the four rows y of
    ``group``, four independent sums over consecutive rows."""
    rows_sq_distances_4(X_t, start, end - start, group, distances)
    total_0, total_1, total_2, total_3 = 0.0, 0.0, 0.0, 0.0
    for p in range(end - start):
        weight = np.float64(sample_weight[start + p])
        closest = closest_sq[start + p]
        total_0 += weight * min(closest, distances[0, p])
        total_1 += weight * min(closest, distances[1, p])
        total_2 += weight * min(closest, distances[2, p])
        total_3 += weight * min(closest, distances[3, p])
    return total_0, total_1, total_2, total_3


@kernel
def sample_by_potential(sample_weight, closest_sq, tile_potential, target):
    """Index of the first sample whose running sum of ``w_i D(x_i)²`` reaches ``target``.

    Same index as ``np.searchsorted(np.cumsum(w * D²), target)`` clipped to the last
    sample, found by skipping whole tiles first.
    """
    n_samples = closest_sq.shape[0]
    running = 0.0
    for tile in range(tile_potential.shape[0]):
        if running + tile_potential[tile] < target:
            running += tile_potential[tile]
            continue
        start, end = tile_bounds(n_samples, tile)
        for i in range(start, end):
            running += sample_weight[i] * closest_sq[i]
            if running >= target:
                return i
    return n_samples - 1


@kernel
def draw_candidates(sample_weight, closest_sq, tile_potential, targets):
    """:func:`sample_by_potential` for every target."""
    ids = np.empty(targets.shape[0], dtype=np.int64)
    for t in range(targets.shape[0]):
        ids[t] = sample_by_potential(sample_weight, closest_sq, tile_potential, targets[t])
    return ids


def default_local_trials(n_clusters):
    """Candidates per center of greedy k-means++ by default, scikit-learn's 2 + ⌊ln k⌋."""
    return 2 + int(np.log(n_clusters))


def greedy_kmeans_plusplus(
    X, n_clusters, sample_weight, random_state, n_local_trials=None, sklearn_rounding=False
):
    """Greedy k-means++ on validated input; returns ``(centers, indices)``.

    ``X`` is a C-contiguous float array, ``sample_weight`` a non-negative array of the
    same dtype and ``random_state`` a ``numpy.random.RandomState``.  With
    ``sklearn_rounding`` and float32 ``X``, the centers are chosen by
    :func:`choose_centers_float32`, which rounds as scikit-learn does on float32 data;
    otherwise by :func:`choose_centers`, which sums in float64, or on rows of 16 features
    and more by :func:`seed_wide_rows`, its distances through BLAS.
    """
    draws = seeding_draws(X.shape[0], n_clusters, sample_weight, random_state, n_local_trials)
    return drawn_centers(X, sample_weight, *draws, sklearn_rounding)


def seeding_draws(n_samples, n_clusters, sample_weight, random_state, n_local_trials=None):
    """The random draws of one greedy k-means++, in scikit-learn's order: the first
    center's index (by weight), then ``n_local_trials`` uniforms for each other center
    (the same draws as one uniform(size=n_local_trials) call per center: MT19937 is a
    stream)."""
    if n_local_trials is None:
        n_local_trials = default_local_trials(n_clusters)
    first = random_state.choice(n_samples, p=sample_weight / sample_weight.sum())
    return first, random_state.uniform(size=(n_clusters - 1, n_local_trials))


def drawn_centers(X, sample_weight, first, uniforms, sklearn_rounding=False):
    """``(centers, indices)`` of greedy k-means++ from its draws (:func:`seeding_draws`)."""
    n_samples = X.shape[0]
    indices = np.full(uniforms.shape[0] + 1, -1, dtype=int)
    indices[0] = first
    float32_like_sklearn = sklearn_rounding and X.dtype == np.float32
    if not float32_like_sklearn and seeds_through_blas(X.shape[1]):
        seed_wide_rows(X, sample_weight, uniforms, indices)
        return X[indices], indices

    X_t = np.ascontiguousarray(X.T, dtype=np.float64)
    boxes = tile_boxes(X_t)
    closest_sq = np.full(n_samples, np.inf, dtype=np.float32 if float32_like_sklearn else None)
    tile_max_sq = np.full(boxes[0].shape[1], np.inf)  # the largest D² in each tile
    tile_potential = np.zeros(boxes[0].shape[1])  # Σ w D² over each tile
    tiles = (boxes, closest_sq, tile_max_sq, tile_potential)
    add_center(X_t, sample_weight, X_t[:, indices[0]].copy(), *tiles)
    if float32_like_sklearn:
        choose_centers_float32(X_t, sample_weight, uniforms, indices, tiles)
    else:
        choose_centers_on_threads_that_pay(X_t, sample_weight, uniforms, indices, tiles)
    return X[indices], indices


def greedy_kmeans_plusplus_starts(
    X, n_clusters, sample_weight, random_state, n_starts, n_local_trials=None
):
    """The centers of ``n_starts`` greedy k-means++ seedings: the draws one seeding after
    another from ``random_state`` (those of ``n_starts`` calls of
    :func:`greedy_kmeans_plusplus`), then the centers.  The first start's are chosen on
    this thread; if that ran every kernel from the ahead-of-time module (Numba not
    started: they release the GIL) on rows of fewer than 16 features (no BLAS), the other
    starts are shared among :func:`~._kernels.get_threads` threads (one where
    :func:`~._threads.threads_for` gives the rows one), one start at a time.  The same
    centers either way."""
    draws = [
        seeding_draws(X.shape[0], n_clusters, sample_weight, random_state, n_local_trials)
        for _ in range(n_starts)
    ]
    centers = [drawn_centers(X, sample_weight, *draws[0])[0], *[None] * (n_starts - 1)]

    def choose(thread, threads):
        with _kernels.ahead_of_time_in_this_thread():  # as on this thread
            for start in range(1 + thread, n_starts, threads):
                centers[start] = drawn_centers(X, sample_weight, *draws[start])[0]

    on_threads = not _kernels.numba_started() and not seeds_through_blas(X.shape[1])
    _kernels.run_on_threads(choose, min(_kernels.get_threads(), n_starts - 1) if on_threads else 1)
    return centers


#: Centers chosen on one thread, timed, before the others go to all of Numba's threads
#: (see :func:`choose_centers_on_threads_that_pay`).
PROBE_CENTERS = 4

#: A center's time on one thread from which the seeding's parallel loops pay on this
#: project's 2-core machine.  Each center runs two of them (scoring the candidates,
#: adding the chosen one), and waking the threads costs tens of microseconds each time.
#: Measured, greedy k-means++ with 4 candidates, 2 threads ÷ 1 against the time a center
#: took on one: photo colors (Kodak, Wikipedia: 25,000–440,000 colors, k = 16 and 256)
#: 2.87–1.04 × from 33 to 260 µs a center, 0.88–0.97 × from 290 to 690 µs; random rows
#: of 3 features (250,000 to 3 million) 0.58–0.65 × from 780 µs.  The probe's centers
#: cost more than the later ones, whose candidates reach fewer tiles.
PARALLEL_FROM_SECONDS_PER_CENTER = 400e-6


def choose_centers_on_threads_that_pay(X_t, sample_weight, uniforms, indices, tiles):
    """:func:`choose_centers`, the first ``PROBE_CENTERS`` on one thread and the rest on
    Numba's threads only if those took ``PARALLEL_FROM_SECONDS_PER_CENTER`` or more each
    (the tile search can make a center cheap whatever the rows' count: on photo colors a
    seeding took up to 2.9 × longer on 2 threads than on 1).  The same centers either
    way: a kernel gives the same bits on any number of threads, and the second call goes
    on from the first's tiles, with the views ``indices[m:]`` and ``uniforms[m:]`` (its
    center c is center m + c, drawn by ``uniforms[m + c − 1]``)."""
    threads = _kernels.get_threads()
    n_probed = PROBE_CENTERS + 1  # center 0 was drawn before
    if threads == 1 or not _kernels.numba_started() or indices.shape[0] <= n_probed:
        choose_centers(X_t, sample_weight, uniforms, indices, tiles)
        return
    with numba_threads(1):
        start = time.perf_counter()
        choose_centers(X_t, sample_weight, uniforms[:PROBE_CENTERS], indices[:n_probed], tiles)
        per_center = (time.perf_counter() - start) / PROBE_CENTERS
    with numba_threads(threads if per_center >= PARALLEL_FROM_SECONDS_PER_CENTER else 1):
        choose_centers(X_t, sample_weight, uniforms[PROBE_CENTERS:], indices[PROBE_CENTERS:], tiles)


@kernel
def choose_centers(X_t, sample_weight, uniforms, indices, tiles):
    """Centers 1, 2, … (``indices[c]``, center 0 already added): for each, the candidates
    drawn by ``uniforms[c − 1]`` · φ, and the one of lowest score kept and added."""
    _, closest_sq, _, tile_potential = tiles
    for c in range(1, indices.shape[0]):
        targets = uniforms[c - 1] * ordered_sum(tile_potential)
        candidate_ids = draw_candidates(sample_weight, closest_sq, tile_potential, targets)
        candidates = np.ascontiguousarray(X_t[:, candidate_ids].T)
        scores = score_candidates(X_t, sample_weight, candidates, *tiles)
        best = np.argmin(column_sums(scores))
        indices[c] = candidate_ids[best]
        add_center(X_t, sample_weight, candidates[best], *tiles)


def seed_wide_rows(X, sample_weight, uniforms, indices):
    """Centers 1, 2, … of ``X`` (``indices[0]`` drawn already) by the ``uniforms``
    (n_clusters − 1, n_local_trials), written into ``indices``: :func:`choose_centers`
    with the distances through BLAS (:mod:`._seeding_wide`), in float64.  Besides the
    rows in float64, it holds each candidate's distance to every row (as scikit-learn
    does): n_local_trials × n × 8 bytes, less than the rows from 16 features on."""
    rows = np.ascontiguousarray(X, dtype=np.float64)
    x_sq = row_sq_norms(rows)
    closest_sq = np.full(rows.shape[0], np.inf)
    tile_potential = np.zeros(-(-rows.shape[0] // SEEDING_TILE_ROWS))
    distances = np.empty((uniforms.shape[1], rows.shape[0]))
    with one_blas_thread():
        # The first center's distances, as a candidate's (against D² = ∞: its score unused).
        score_candidates_wide(rows, x_sq, sample_weight, rows[indices[:1]], closest_sq, distances)
        add_distances(sample_weight, distances[0], closest_sq, tile_potential)
        choose_centers_wide(
            rows, x_sq, sample_weight, uniforms, indices, distances, closest_sq, tile_potential
        )


@kernel
def choose_centers_wide(
    X, x_sq, sample_weight, uniforms, indices, distances, closest_sq, tile_potential
):
    """:func:`choose_centers` on wide rows ``X`` (float64, ``x_sq`` their squared norms),
    each candidate's distances through BLAS into a row of ``distances``."""
    for c in range(1, indices.shape[0]):
        targets = uniforms[c - 1] * ordered_sum(tile_potential)
        candidate_ids = draw_candidates(sample_weight, closest_sq, tile_potential, targets)
        candidates = np.ascontiguousarray(X[candidate_ids])
        scores = score_candidates_wide(X, x_sq, sample_weight, candidates, closest_sq, distances)
        best = np.argmin(column_sums(scores))
        indices[c] = candidate_ids[best]
        add_distances(sample_weight, distances[best], closest_sq, tile_potential)


def choose_centers_float32(X_t, sample_weight, uniforms, indices, tiles):
    """:func:`choose_centers` with scikit-learn's float32 arithmetic (float32 ``X``).

    scikit-learn's ``_kmeans_plusplus`` on float32 data, with its names:

    - ``closest_dist_sq``: D² in float32, each distance rounded from float64;
    - ``current_pot = closest_dist_sq @ sample_weight``, a float32 BLAS product;
    - ``np.searchsorted(np.cumsum(sample_weight * closest_dist_sq), rand_vals)``, a
      running sum rounded to float32 at every sample, off the exact one by up to n·2⁻²⁴ φ;
    - ``candidates_pot = np.minimum(closest_dist_sq, distance_to_candidates) @
      sample_weight.reshape(-1, 1)``, float32 BLAS products, and the first lowest wins.

    Here D² is float32 (``closest_sq``), :func:`draw_by_running_sum` repeats the running
    sum, and φ and the scores are the very same NumPy products on arrays of the same
    shapes: the BLAS rounds them as it does for scikit-learn, which depends on its kernel,
    on the shape, and on a row's place in the product, so nothing else would reproduce it.
    The rows themselves are computed by tile (:func:`candidate_rows`), but the product
    reads all of them: ``n_local_trials · n_samples`` values per center, where
    :func:`choose_centers` touches only the tiles the candidates reach.

    The distances are the same as scikit-learn's whenever both round the same float64
    value: scikit-learn's is ``||x||² − 2 x·y + ||y||²``, ours ``Σ_f (x_f − y_f)²``, equal
    and exact for integer data such as pixels.  On other data they can differ in the last
    bit of a float32 distance, and a draw that depends on it can then differ.
    """
    _, closest_sq, _, _ = tiles
    weight_column = sample_weight.reshape(-1, 1)
    potential = (closest_sq[None, :] @ sample_weight)[0]
    rows = np.empty((uniforms.shape[1], closest_sq.shape[0]), dtype=np.float32)
    for c in range(1, indices.shape[0]):
        targets = uniforms[c - 1] * np.float64(potential)
        candidate_ids = draw_by_running_sum(sample_weight, closest_sq, targets)
        candidates = np.ascontiguousarray(X_t[:, candidate_ids].T)
        candidate_rows(X_t, candidates, *tiles[:3], rows)
        scores = rows @ weight_column
        best = np.argmin(scores)
        potential = scores[best, 0]
        indices[c] = candidate_ids[best]
        add_center(X_t, sample_weight, candidates[best], *tiles)


@kernel
def draw_by_running_sum(sample_weight, closest_sq, targets):
    """``np.searchsorted(np.cumsum(w * D²), targets)`` clipped to the last sample, in one
    pass for all targets.

    Every product and every partial sum is rounded to the arrays' dtype, as NumPy's
    ``cumsum`` rounds them; the comparison with a (float64) target is exact.
    """
    n_samples = closest_sq.shape[0]
    ids = np.full(targets.shape[0], n_samples - 1, dtype=np.int64)
    order = np.argsort(targets)
    running = np.zeros(1, dtype=closest_sq.dtype)[0]
    found = 0
    for i in range(n_samples):
        running += sample_weight[i] * closest_sq[i]
        while found < order.shape[0] and running >= targets[order[found]]:
            ids[order[found]] = i
            found += 1
        if found == order.shape[0]:
            break
    return ids


@kernel(parallel=True)
def candidate_rows(X_t, candidates, boxes, closest_sq, tile_max_sq, out):
    """``out[c, i] = min(D(x_i)², ||x_i − y_c||²)`` for every candidate y_c, rounded to
    ``out``'s dtype: scikit-learn's ``np.minimum(closest_dist_sq, distance_to_candidates)``.

    Where a candidate does not reach a tile (:func:`tiles_reached`), its row is D².
    """
    n_samples, n_tiles = X_t.shape[1], tile_max_sq.shape[0]
    n_chunks = n_tile_chunks(n_tiles)
    for chunk in prange(n_chunks):
        distances = np.empty(SEEDING_TILE_ROWS)
        first_tile, end_tile = block_bounds(n_tiles, n_chunks, chunk)
        reached = tiles_reached(candidates, *boxes, tile_max_sq, first_tile, end_tile)
        for tile in range(first_tile, end_tile):
            start, end = tile_bounds(n_samples, tile)
            for c in range(candidates.shape[0]):
                row = out[c, start:end]
                if not reached[c, tile - first_tile]:
                    row[:] = closest_sq[start:end]
                    continue
                rows_sq_distances(X_t, start, end - start, candidates[c], distances)
                for p in range(end - start):
                    row[p] = min(closest_sq[start + p], distances[p])


def random_choice_init(X, n_clusters, sample_weight, random_state):
    """``n_clusters`` distinct samples drawn with probability proportional to their weight."""
    seeds = random_state.choice(
        X.shape[0], size=n_clusters, replace=False, p=sample_weight / sample_weight.sum()
    )
    return X[seeds]
