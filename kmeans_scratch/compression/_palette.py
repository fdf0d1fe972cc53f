"""From the distinct colors to a palette and the palette entry of each color.

The fast path of a compression:

1. **histogram** (:mod:`._histogram`): the distinct colors, how often each occurs, and
   for each pixel which distinct color it is.
2. **working space** (:mod:`._working_space`): the distinct colors converted to the space
   the distances are measured in (sRGB, CIELAB or Oklab); with alpha, to where a
   squared distance is the error seen over black and over white.
3. **fit** (here): ``k_means`` on the distinct colors weighted by their counts.  A weight is
   a count, so this is exactly K-Means on every pixel (see the core's test 4), on a much
   smaller problem; coarse histograms of octree cells start it (:func:`coarse_levels`).
   Grayscale has a better answer: the optimal k-level quantizer of the 1-D histogram,
   found by dynamic programming.  Transparency follows the rules of :mod:`._alpha`.
4. **palette** (here): the centers converted back to 8-bit sRGB (entries that round alike
   are merged); each distinct color keeps the entry of its K-Means cluster.  Each pixel
   then takes its distinct color's entry by lookup, or by dithering (:mod:`._remap`).
"""

import functools
import warnings

import numpy as np

from kmeans_scratch import ConvergenceWarning, k_means

from .._engine import default_local_trials, greedy_kmeans_plusplus_starts, kernel
from ._alpha import TRANSPARENT, alpha_classes, has_alpha
from ._histogram import pack_keys
from ._working_space import alpha_frame, from_working_space, to_working_space


@kernel
def optimal_1d_levels(values, weights, n_levels):
    """Optimal weighted k-level quantizer of sorted distinct ``values`` by dynamic programming.

    Minimizes Σ_i w_i (v_i − q(v_i))² over quantizers with ``n_levels`` levels.  In 1-D an
    optimal cluster is a run of consecutive values, so with cost(a, b) the weighted SSE of
    values a..b around their weighted mean (O(1) from prefix sums),

        E[c][b] = min_{a ≤ b} E[c−1][a−1] + cost(a, b),

    and backtracking the argmins gives the runs.  O(k·m²) for m ≤ 256 distinct values.
    Returns the label of every value (0..n_levels−1, in increasing order of level).
    """
    m = values.shape[0]
    prefix_w = np.zeros(m + 1)
    prefix_wv = np.zeros(m + 1)
    prefix_wvv = np.zeros(m + 1)
    for i in range(m):
        prefix_w[i + 1] = prefix_w[i] + weights[i]
        prefix_wv[i + 1] = prefix_wv[i] + weights[i] * values[i]
        prefix_wvv[i + 1] = prefix_wvv[i] + weights[i] * values[i] * values[i]

    def cost(a, b):  # values a..b inclusive
        w = prefix_w[b + 1] - prefix_w[a]
        wv = prefix_wv[b + 1] - prefix_wv[a]
        return max(prefix_wvv[b + 1] - prefix_wvv[a] - wv * wv / w, 0.0)

    energy = np.full((n_levels, m), np.inf)
    split = np.zeros((n_levels, m), dtype=np.int64)
    for b in range(m):
        energy[0, b] = cost(0, b)
    for c in range(1, n_levels):
        for b in range(c, m):
            for a in range(c, b + 1):
                candidate = energy[c - 1, a - 1] + cost(a, b)
                if candidate < energy[c, b]:
                    energy[c, b] = candidate
                    split[c, b] = a
    labels = np.empty(m, dtype=np.int64)
    b = m - 1
    for c in range(n_levels - 1, -1, -1):
        a = split[c, b] if c > 0 else 0
        labels[a : b + 1] = c
        b = a - 1
    return labels


def weighted_means(coords, weights, labels, n_clusters):
    """Weighted mean of the rows of each label (0 for a label no row has)."""
    totals = np.zeros((n_clusters, coords.shape[1]))
    np.add.at(totals, labels, coords * weights[:, None])
    mass = np.bincount(labels, weights=weights, minlength=n_clusters)
    return np.divide(totals, mass[:, None], out=np.zeros_like(totals), where=mass[:, None] > 0)


#: K-Means' tolerance, scikit-learn's: the run stops when the centers moved, in all, less
#: than this times the mean variance of the coordinates.
TOL = 1e-4


def fit_palette(
    histogram, n_colors, color_space, random_state, n_init=1, max_iter=300, coarse_starts=True
):
    """The palette (k', C) uint8 and the palette index of every distinct color.

    K-Means starts ``n_init`` times from different k-means++ seeds, on a coarse histogram
    when the colors are many and ``coarse_starts`` (see :func:`coarse_levels`), else on
    every color; the start of lowest inertia (of those run to the end: see
    ``STARTS_PRUNING``) goes on over every color, to scikit-learn's tolerance or
    ``max_iter`` iterations.
    Colors with alpha follow the rules of :mod:`._alpha` (see :func:`fit_with_alpha`).

    ``k' ≤ n_colors``: entries that round to the same 8-bit color are merged and unused
    entries dropped.  With no more distinct colors than ``n_colors``, the palette is the
    distinct colors themselves (lossless).
    """
    colors, counts = histogram.colors, histogram.counts
    if colors.shape[0] <= n_colors:
        return colors.copy(), np.arange(colors.shape[0])
    fit = functools.partial(
        fit_centers,
        color_space=color_space,
        random_state=random_state,
        n_init=n_init,
        max_iter=max_iter,
        coarse_starts=coarse_starts,
    )
    if has_alpha(colors.shape[1]) and n_colors >= 2:
        centers, labels = fit_with_alpha(colors, counts, n_colors, color_space, fit)
    else:
        centers, labels = fit(colors, to_working_space(colors, color_space), counts, n_colors)
    return rounded_palette(centers, labels, colors.shape[1], color_space)


def fit_centers(
    colors, coords, counts, n_colors, color_space, random_state, n_init, max_iter, tol=TOL,
    coarse_starts=True,
):  # fmt: skip
    """The K-Means centers (k, d) of the ``coords`` (in ``color_space``) of the distinct
    ``colors`` weighted by their ``counts``, and each color's label.

    One coordinate (gray) has a better answer: the optimal k-level quantizer of the 1-D
    histogram.  Otherwise K-Means through the levels of :func:`coarse_levels`, each from
    the centers of the one before.  Its ``n_init`` starts run on the first level (ranked
    after a few iterations, the best few then run on to at most ``STARTS_MAX_ITER``:
    ``STARTS_PRUNING``), or on every color without ``coarse_starts``.  The fit on every
    color ends on 8-bit colors (:func:`palette_snap`).
    """
    weights = counts.astype(np.float64)
    if coords.shape[1] == 1:
        # Distinct grays come sorted, and lightness is monotone in gray: values are sorted.
        labels = optimal_1d_levels(np.ascontiguousarray(coords[:, 0]), weights, n_colors)
        return weighted_means(coords, weights, labels, n_colors), labels
    init, n_init, max_iter = coarse_start(
        colors, coords, weights, n_colors, random_state, n_init, max_iter, tol, coarse_starts
    )
    snap = palette_snap(colors.shape[1], color_space)
    centers, labels, _ = fit_colors(
        coords, weights, n_colors, init, n_init, random_state, max_iter, tol, snap
    )
    return centers, np.asarray(labels)


def palette_snap(n_channels, color_space):
    """The ``snap`` of the fit on every color (see :func:`~kmeans_scratch.k_means`): each
    center moved to the working-space point of its 8-bit color, the entry the file will
    hold.  The last assignment of the fit is then to the entries themselves, so that each
    color takes the entry nearest to it *after* rounding, and the run of least error
    among the starts is that of the entries.  Before, each color kept its unrounded
    center's entry: on the 24 Kodak and 16 Wikipedia photos 1.1–5.4 % of the pixels had a
    nearer entry at k = 256 (0.4–3.5 % at 64, 0.2–1.5 % at 16); now none has.  The mean
    PSNR rose by 0.017 dB on Kodak and 0.029 dB on Wikipedia at k = 256 (0.006–0.007 at
    64, every photo gaining), by 0.19 dB on Wikipedia photo 007, whose 6,358 colors give
    dense entries."""

    def snap(centers):
        entries = from_working_space(centers, n_channels, color_space)
        return to_working_space(entries, color_space)

    return snap


def coarse_start(
    colors, coords, weights, n_colors, random_state, n_init, max_iter, tol, coarse_starts
):
    """Where the fit on every color starts, how many times, and for at most how many
    iterations: K-Means through the levels of :func:`coarse_levels`, each from the centers
    of the one before, ``n_init`` starts on the first; ``("k-means++", n_init,
    max_iter)`` when there are no levels.  A function of its own so that the levels' cell
    sums (20 MiB at 1.9 million colors) are freed before the fit on every color begins."""
    init = "k-means++"
    level_iter = min(max_iter, STARTS_MAX_ITER) if n_init > 1 else max_iter
    refine_iter = max_iter  # without coarse_starts (speed 1), every level to a fixed point
    if has_many_colors(colors) and coarse_starts:
        refine_iter = min(max_iter, REFINE_MAX_ITER)
    for cell_starts in coarse_levels(colors, n_colors, n_init if coarse_starts else 1):
        cells, cell_weights = weighted_cell_means(coords, weights, cell_starts)
        # Several starts: ranked and pruned on coarse_starts' level, else (speed 1) each
        # run to the end.  Lloyd's step for the starts, Hamerly's for one long run.
        init, _, _ = fit_colors(
            cells, cell_weights, n_colors, init, n_init, random_state, level_iter, tol,
            algorithm=STARTS_ALGORITHM if n_init > 1 else FIT_ALGORITHM,
            prune_starts=STARTS_PRUNING if n_init > 1 and coarse_starts else None,
        )  # fmt: skip
        n_init, level_iter = 1, refine_iter
    return init, n_init, max_iter if isinstance(init, str) else refine_iter


#: ``k_means``' ``prune_starts`` for the starts on the coarse level: each runs 4
#: iterations, and only the 4 of least inertia then run on to ``STARTS_MAX_ITER``: 64
#: iterations of the 100 that ten full starts would run at most.  Over the 24 Kodak, 16
#: Wikipedia and 15 translucent photos at k = 16 and 64 (110 fits), the start that led
#: after 10 iterations ranked first after 4 in 78, among the 4 first in 107 (after 3: 73
#: and 103; after 3 the translucent Wikipedia 043 at k = 64 lost its winner, and its
#: PSNR over white fell by 0.17 dB for 0.01 dB less in all).
STARTS_PRUNING = (4, 4)


def weighted_cell_means(coords, weights, cell_starts):
    """Each cell's (run of rows from each of ``cell_starts``) weighted mean
    Σ w_i x_i / Σ w_i, (cells, d), and its weight Σ w_i, (cells,): the rows of a level.

    One call of :func:`cell_sums` (the sums of ``np.add.reduceat``, to the bit), without
    the (m, d) product w_i x_i that NumPy would make (44 MiB at 1.9 million colors).
    ``cell_starts`` must rise strictly from 0 below m: the kernel reads without bounds
    checks.
    """
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    cell_starts = np.ascontiguousarray(cell_starts, dtype=np.int64)
    if not (
        cell_starts.shape[0] > 0
        and cell_starts[0] == 0
        and cell_starts[-1] < coords.shape[0]
        and (cell_starts[1:] > cell_starts[:-1]).all()
    ):
        raise ValueError("cell_starts must rise strictly from 0 below the number of rows")
    sums = np.empty((cell_starts.shape[0], coords.shape[1]))
    cell_weights = np.empty(cell_starts.shape[0])
    cell_sums(
        coords, np.ascontiguousarray(weights, dtype=np.float64), cell_starts, sums, cell_weights
    )
    return sums / cell_weights[:, None], cell_weights


@kernel
def cell_sums(coords, weights, cell_starts, sums, cell_weights):
    """Per cell (rows ``cell_starts[c]`` to the next start), Σ w_i x_i into ``sums[c]``
    and Σ w_i into ``cell_weights[c]``, summed as ``np.add.reduceat`` sums each run:
    its first value plus the :func:`pairwise_sum` of the others."""
    n_rows, n_columns = coords.shape
    for c in range(cell_starts.shape[0]):
        start = cell_starts[c]
        stop = cell_starts[c + 1] if c + 1 < cell_starts.shape[0] else n_rows
        cell_weights[c] = weights[start] + pairwise_sum(coords, weights, -1, start + 1, stop)
        for column in range(n_columns):
            first = coords[start, column] * weights[start]
            sums[c, column] = first + pairwise_sum(coords, weights, column, start + 1, stop)


#: NumPy's pairwise summation sums blocks of at most this many values with 8 running sums.
PAIRWISE_BLOCK = 128


@kernel
def pairwise_sum(coords, weights, column, start, stop):
    """Σ over rows ``start`` ≤ i < ``stop`` of :func:`weighted_value`, in NumPy's order of
    pairwise summation: under 8 values one running sum; up to ``PAIRWISE_BLOCK`` eight,
    one per residue mod 8, added as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)),
    then the rest one by one; more than that, the sum of the halves (the first a
    multiple of 8).  Its rounding error grows as log n, not n."""
    n = stop - start
    if n < 8:
        total = 0.0
        for i in range(start, stop):
            total += weighted_value(coords, weights, column, i)
        return total
    if n <= PAIRWISE_BLOCK:
        r0 = weighted_value(coords, weights, column, start)
        r1 = weighted_value(coords, weights, column, start + 1)
        r2 = weighted_value(coords, weights, column, start + 2)
        r3 = weighted_value(coords, weights, column, start + 3)
        r4 = weighted_value(coords, weights, column, start + 4)
        r5 = weighted_value(coords, weights, column, start + 5)
        r6 = weighted_value(coords, weights, column, start + 6)
        r7 = weighted_value(coords, weights, column, start + 7)
        i = start + 8
        while i < stop - n % 8:
            r0 += weighted_value(coords, weights, column, i)
            r1 += weighted_value(coords, weights, column, i + 1)
            r2 += weighted_value(coords, weights, column, i + 2)
            r3 += weighted_value(coords, weights, column, i + 3)
            r4 += weighted_value(coords, weights, column, i + 4)
            r5 += weighted_value(coords, weights, column, i + 5)
            r6 += weighted_value(coords, weights, column, i + 6)
            r7 += weighted_value(coords, weights, column, i + 7)
            i += 8
        total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        for j in range(i, stop):
            total += weighted_value(coords, weights, column, j)
        return total
    half = n // 2
    half -= half % 8
    left = pairwise_sum(coords, weights, column, start, start + half)
    return left + pairwise_sum(coords, weights, column, start + half, stop)


@kernel
def weighted_value(coords, weights, column, i):
    """w_i x_i, x_i = ``coords[i, column]``; w_i alone when ``column`` is −1."""
    return weights[i] if column < 0 else coords[i, column] * weights[i]


def fit_with_alpha(colors, counts, n_colors, color_space, fit):
    """Centers (in the working space) and labels of ``n_colors ≥ 2`` entries for colors
    with alpha, by the rules of :mod:`._alpha`.

    The transparent color, if the image has it, gets entry 0 to itself; the visible colors
    share the others (:func:`fit_visible`).
    """
    transparent = alpha_classes(colors) == TRANSPARENT
    n_transparent = int(transparent.any())
    visible_centers, visible_labels = fit_visible(
        colors[~transparent], counts[~transparent], n_colors - n_transparent, color_space, fit
    )
    labels = np.zeros(colors.shape[0], dtype=np.int64)
    labels[~transparent] = visible_labels + n_transparent
    transparent_center = np.zeros((n_transparent, visible_centers.shape[1]))
    return np.vstack([transparent_center, visible_centers]), labels


def fit_visible(colors, counts, n_entries, color_space, fit):
    """Centers and labels of ``n_entries`` entries for visible colors with alpha.

    All opaque: the color channels alone are clustered (gray then gets its optimal 1-D
    quantizer), and the entries are opaque.  With translucent colors, K-Means on the
    coordinates of :func:`to_working_space`, where it minimizes the error seen over black
    and over white: the entries go where the eye sees.  An entry is opaque when its
    alpha rounds to 255, so an opaque color may share a nearly opaque entry with
    translucent ones when that is what a viewer would see least (as in libimagequant).
    """
    coords = to_working_space(colors, color_space)
    if colors.shape[0] <= n_entries:
        return coords, np.arange(colors.shape[0])
    if (colors[:, -1] < 255).any():
        return fit(colors, coords, counts, n_entries)
    color_only = np.ascontiguousarray(colors[:, :-1])
    centers, labels = fit(color_only, np.ascontiguousarray(coords[:, :-1]), counts, n_entries)
    scale = alpha_frame(color_space, coords.shape[1] - 1)[1]
    return np.hstack([centers, np.full((centers.shape[0], 1), scale)]), labels


#: Above this many distinct colors (a photo of a megapixel or more may have hundreds of
#: thousands, of many megapixels millions), K-Means starts on a coarse histogram of at
#: most ``MANY_COLORS_START_CELLS`` cells and refines level by level, each finer level
#: and the fit on every color for at most ``REFINE_MAX_ITER`` iterations.
COARSE_START_ABOVE = 1 << 17
MANY_COLORS_START_CELLS = 1 << 15
REFINE_MAX_ITER = 10


def has_many_colors(colors):
    """Whether the fit of these distinct colors goes coarse to fine with bounded
    refinements (more than ``COARSE_START_ABOVE`` of them)."""
    return colors.shape[0] > COARSE_START_ABOVE


#: A finer level of the chain is run only if it has at most this share of the rows of the
#: next one run after it (the colors, for the finest): a level of nearly as many cells costs
#: nearly a whole fit and starts it little closer.  Four channels drop 4 bits a level, and
#: a photo under an alpha mask had levels of 0.82 × its colors (128,543 cells of 157,111);
#: on the 15 images of ``benchmarks/translucency.py`` at k = 256, ``compress()`` then took
#: 0.79 × its time (median; 0.66-1.07) for 0.008 dB less PSNR (0.019 at most).  No level
#: of the Kodak and Wikipedia photos is left out (3 channels: their levels shrink faster).
LEVEL_SHRINK = 0.6

#: Several starts run on a coarse histogram of at most this many cells per palette entry
#: and ``STARTS_CELLS`` in all, unless that leaves more than ``COLORS_PER_START_CELL``
#: distinct colors per cell; for at most ``STARTS_MAX_ITER`` iterations each (see
#: ``STARTS_PRUNING``).
STARTS_CELLS_PER_COLOR = 128
STARTS_CELLS = 4096
COLORS_PER_START_CELL = 8
STARTS_MAX_ITER = 10
#: The iteration of those starts: Lloyd's.  Hamerly's bounds pay back their setup over a
#: long run; ten steps from k-means++ seeds are too short.  From the same seeds both give
#: the same starts (exact), so the same palette: on 2026-12-06, ``compress()`` in the
#: command's setting (the ahead-of-time kernels) took 0.79–0.92 × its time with Hamerly's
#: starts on Kodak 09 and 23 and Wikipedia 001 at k = 16 and 64, 0.88–0.90 × on two
#: translucent photos at k = 16 and 0.99–1.00 × at k = 64 (medians of 6, alternating).
STARTS_ALGORITHM = "lloyd"
#: The iteration of every other fit: the levels after the starts and the fit on every
#: color, long runs where Hamerly's bounds pay.
FIT_ALGORITHM = "hamerly"


def coarse_levels(colors, n_colors, n_init=1):
    """The coarse histograms a fit goes through, coarsest first: each as the first row of
    each of its cells (for :func:`weighted_cell_means`).

    At level b a cell is the colors that agree on all but the b lowest bits of every
    channel.  Colors come in Morton order, so a cell is a run of consecutive rows whose
    keys agree once their b · C lowest bits are dropped.  K-Means on a level's cell means
    (weighted by the cell's pixels) is cheap, and its centers start the next finer level
    close to where that one ends.

    - The first level is the finest with at most S cells (and at least 4 per palette
      entry).  When K-Means starts ``n_init`` > 1 times, the starts run there, a few ms
      each, and the best goes on: S = min(``STARTS_CELLS_PER_COLOR`` · k,
      ``STARTS_CELLS``), or m / ``COLORS_PER_START_CELL`` for m colors if that is more (a
      coarser level ranks the starts of photos of 100,000 colors poorly).  Otherwise S =
      ``MANY_COLORS_START_CELLS`` for an image of more than ``COARSE_START_ABOVE``
      colors, else ``COARSE_START_ABOVE``.  None when the colors are at most S.
    - Then, for an image of more than ``COARSE_START_ABOVE`` colors, every finer level
      down to b = 1 that shrinks the rows enough (``LEVEL_SHRINK``): a jump from a few
      thousand cells to millions of colors would take many costly iterations.  Each
      starts close to where it ends, and runs (as the fit on every color after them) at
      most ``REFINE_MAX_ITER`` iterations: the last iterations to a fixed point move the
      centers by fractions of a level, for thousandths of a dB, at the price of most of
      the time.  On the 14 Wikipedia photos
      of more than 131,072 colors (about 1 MP), k = 256: half the fit time of a start on
      up to 131,072 cells with every level run to a fixed point, for 0.03 dB less PSNR
      (0.07 at most); a 24-megapixel photo of 1.9 million colors takes about 1.4 s instead
      of 6.6 s for a start on every color.

    Up to ``COARSE_START_ABOVE`` colors the fit on every color that closes the chain runs
    to a fixed point of the same problem, or the speed's ``max_iter`` (not the one a
    k-means++ start on every color would reach, which the image layer does not promise).
    On the 24 Kodak photos (13,000–35,000 colors) at k = 16–64, ten starts on 2,048–4,096
    cells, then one run on every color to a fixed point, reached a lower mean error than
    the best of three runs on every color, in about the time of one and a half; with the
    default speed's 25 iterations at most, still lower at k = 16 and 32, 0.2 % higher at
    64 (``make bench-effort`` of 2026-12-05).
    """
    many_colors = has_many_colors(colors)
    start_cells = MANY_COLORS_START_CELLS if many_colors else COARSE_START_ABOVE
    if n_init > 1:
        start_cells = min(STARTS_CELLS, STARTS_CELLS_PER_COLOR * n_colors)
        start_cells = min(
            max(start_cells, colors.shape[0] // COLORS_PER_START_CELL), COARSE_START_ABOVE
        )
    if colors.shape[0] <= start_cells:
        return []
    keys = pack_keys(colors)
    n_channels = colors.shape[1]
    levels = []  # finest first
    for dropped_bits in range(1, 8):
        cell_keys = keys >> np.uint32(dropped_bits * n_channels)
        starts = np.flatnonzero(np.r_[True, cell_keys[1:] != cell_keys[:-1]])
        if starts.shape[0] < 4 * n_colors:
            break
        levels.append(starts)
        if starts.shape[0] <= start_cells:
            break
    if not levels:
        return []
    if not many_colors:
        return [levels[-1]]
    refinements, rows = [], colors.shape[0]  # finest first
    for starts in levels[:-1]:
        if starts.shape[0] <= LEVEL_SHRINK * rows:
            refinements.append(starts)
            rows = starts.shape[0]
    return [levels[-1], *refinements[::-1]]


#: Candidates per center of the palette's greedy k-means++ (at most; 2 + ⌊ln k⌋ when that
#: is fewer): one group of the four that the seeding scores at once, where scikit-learn's
#: 2 + ⌊ln k⌋ takes two groups from k = 21 on.  At k = 256 on kodim05 (63,558 colors) the
#: seeding took 37 → 26 ms, but the seeds are a little worse and Hamerly then ran 63
#: iterations instead of 42: no gain on that photo.  Over the 24 Kodak and 16 Wikipedia
#: photos, the fit took 0.966 × its time (median; 0.69–1.09 per photo) and the mean PSNR
#: moved by −0.007 dB (−0.07 to +0.04 per photo).
SEEDING_TRIALS = 4


#: A single start of ``SEEDING_GROUPED_FROM`` entries or more draws its k-means++ seeds on
#: the means of runs of ``SEEDING_GROUP_ROWS`` consecutive rows (colors, or a coarse
#: level's cells: in Morton order, close in color), weighted by their pixels, where that
#: leaves at least ``SEEDING_GROUPS_PER_ENTRY`` runs per entry.  The runs follow the
#: colors' density, as the rows do, and the seeding, whose cost grows with k, reads an
#: eighth of the rows.  On the 24 Kodak and 16 Wikipedia photos and 6 of scikit-image's
#: (k = 128 and 256, one start at the default speed), ``compress()`` took 0.82–0.98 × its
#: time (median per set and k) and the mean PSNR moved by −0.014 to +0.013 dB per set
#: and k (−0.23 to +0.06 per photo: other seeds, another local minimum).  Runs of 6 or
#: 16 gained no more; cells of a coarse level (8 × 8 × 8 boxes at 32,000 colors) lost up
#: to 0.84 dB: they merge hundreds of colors where the pixels are densest.  At k = 16
#: (speed 6: one start) the seeding is cheap and the runs' seeds lost 0.04 dB on Kodak.
SEEDING_GROUPED_FROM = 128
SEEDING_GROUP_ROWS = 8
SEEDING_GROUPS_PER_ENTRY = 8


def seeding_rows(X, weights, n_clusters):
    """The rows a single start's k-means++ seeds are drawn on, and their weights: the
    weighted means of runs of ``SEEDING_GROUP_ROWS`` consecutive rows of ``X`` (the last
    run shorter) where that pays (see there), else ``X`` itself."""
    fewest_rows = SEEDING_GROUPS_PER_ENTRY * SEEDING_GROUP_ROWS * n_clusters
    if n_clusters < SEEDING_GROUPED_FROM or X.shape[0] < fewest_rows:
        return X, weights
    return weighted_cell_means(X, weights, np.arange(0, X.shape[0], SEEDING_GROUP_ROWS))


def palette_seeding(weights, n_starts=1):
    """The ``init`` of :func:`fit_colors` for rows of ``weights`` and ``n_starts`` starts:
    greedy k-means++ with at most ``SEEDING_TRIALS`` candidates per center, as a callable
    ``init(X, k, random_state)`` of ``k_means`` (which passes no weights: these are the
    fit's).

    ``k_means`` calls it once a start, with the same rows, k and stream, and draws nothing
    between the calls: the first call draws every start's seeds in the stream's order,
    the draws of one start after another, and chooses their centers on the cores where
    that pays (:func:`~kmeans_scratch._seeding.greedy_kmeans_plusplus_starts`); each call
    returns the next start's.  Called with other rows, k or stream, it seeds afresh.  A
    single start draws its seeds on :func:`seeding_rows`.
    """
    ready = []  # the centers of the starts seeded and not yet returned
    rows = stream = k = None  # what they were seeded for

    def seeding(X, n_clusters, random_state):
        nonlocal rows, stream, k
        if not ready or rows is not X or stream is not random_state or k != n_clusters:
            trials = min(SEEDING_TRIALS, default_local_trials(n_clusters))
            seeded, seeded_weights = X, weights
            if n_starts == 1:
                seeded, seeded_weights = seeding_rows(X, weights, n_clusters)
            ready[:] = greedy_kmeans_plusplus_starts(
                seeded, n_clusters, seeded_weights, random_state, n_starts, trials
            )
            rows, stream, k = X, random_state, n_clusters
        return ready.pop(0)

    return seeding


def fit_colors(
    coords, weights, n_colors, init, n_init, random_state, max_iter=300, tol=TOL, snap=None,
    algorithm=FIT_ALGORITHM, prune_starts=None,
):  # fmt: skip
    """``k_means`` with Hamerly's iteration by default (the fastest on colors, but not in
    short runs: see ``STARTS_ALGORITHM``), quietly: a palette of fewer distinct colors
    than entries is expected, not a problem.  ``init``
    "k-means++" is :func:`palette_seeding`.  ``coords`` are the fit's own: centered in
    place and put back (to within rounding) instead of copied, 46 MB at 2 million colors."""
    if isinstance(init, str) and init == "k-means++":
        init = palette_seeding(weights, n_init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return k_means(
            coords,
            n_colors,
            sample_weight=weights,
            init=init,
            n_init=n_init,
            random_state=random_state,
            max_iter=max_iter,
            tol=tol,
            copy_x=False,
            algorithm=algorithm,
            snap=snap,
            prune_starts=prune_starts,
        )


def rounded_palette(centers, labels, n_channels, color_space):
    """The centers as 8-bit colors, merged where two round to the same color.

    Returns the palette and each distinct color's entry (``labels`` renumbered).  After
    K-Means the centers are already the points of 8-bit colors (:func:`palette_snap`),
    and each color's label is its nearest entry; gray's optimal levels are rounded here,
    by at most half a level.
    """
    palette = from_working_space(centers, n_channels, color_space)
    used = np.flatnonzero(np.bincount(labels, minlength=centers.shape[0]))  # others dropped
    palette, merged = unique_rows(palette[used])
    renumber = np.zeros(centers.shape[0], dtype=np.int64)
    renumber[used] = merged
    return palette, renumber[labels]


def unique_rows(rows):
    """``np.unique(rows, axis=0, return_inverse=True)`` for (m, C ≤ 4) uint8 rows.

    Each row is packed into an integer, most significant byte first, so the integers sort
    as the rows do.  (NumPy's ``unique`` imports ``numpy.ma``, 16 ms of a command's start.)
    """
    keys = np.zeros(rows.shape[0], dtype=np.uint32)
    for channel in range(rows.shape[1]):
        keys = keys << np.uint32(8) | rows[:, channel]
    order = np.argsort(keys, kind="stable")
    first = np.ones(keys.shape[0], dtype=bool)
    first[1:] = keys[order][1:] != keys[order][:-1]
    inverse = np.empty(keys.shape[0], dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return rows[order[first]], inverse
