"""The palette fit's effort: starts on a coarse histogram at small k, and speed 1 against
scikit-learn's best of ten runs.  (Time is measured in ``benchmarks/``, not here.)"""

import itertools
import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans as SklearnKMeans

from kmeans_scratch import _engine, k_means
from kmeans_scratch.compression import _palette, compress
from kmeans_scratch.compression._histogram import color_histogram, pack_keys
from kmeans_scratch.compression._palette import (
    COARSE_START_ABOVE,
    COLORS_PER_START_CELL,
    LEVEL_SHRINK,
    MANY_COLORS_START_CELLS,
    REFINE_MAX_ITER,
    STARTS_CELLS,
    STARTS_CELLS_PER_COLOR,
    STARTS_MAX_ITER,
    STARTS_PRUNING,
    TOL,
    coarse_levels,
    coarse_start,
    fit_colors,
    fit_palette,
    weighted_cell_means,
)
from kmeans_scratch.compression._speed import effort
from kmeans_scratch.compression._working_space import to_working_space

from .helpers import IMAGE_NAMES, image_array


def histogram_mse(histogram, palette, labels):
    """Mean squared error per channel of every pixel, from the distinct colors."""
    errors = histogram.colors.astype(np.float64) - palette[labels]
    return (histogram.counts * (errors**2).sum(axis=1)).sum() / (histogram.counts.sum() * 3)


@pytest.mark.parametrize("k", [16, 64])
def test_several_starts_run_on_one_coarse_level_then_on_every_color(k):
    colors = color_histogram(image_array("china")).colors  # 96,615 colors
    assert coarse_levels(colors, k, n_init=1) == []  # one start: every color at once
    (level,) = coarse_levels(colors, k, n_init=10)
    most = max(min(STARTS_CELLS_PER_COLOR * k, STARTS_CELLS), len(colors) // COLORS_PER_START_CELL)
    assert 4 * k <= len(level) <= most
    # a level is the first row of each cell: runs of colors whose Morton keys agree on
    # their high bits, so its starts are increasing rows of the histogram
    assert level[0] == 0 and np.all(np.diff(level) > 0) and level[-1] < len(colors)


def start_cells(name, k):
    """The cell means and weights of the level where ``name``'s ``k``-color starts run."""
    histogram = color_histogram(image_array(name))
    coords = to_working_space(histogram.colors, "rgb")
    weights = histogram.counts.astype(np.float64)
    (level,) = coarse_levels(histogram.colors, k, n_init=10)
    return weighted_cell_means(coords, weights, level)


@pytest.mark.parametrize("n_columns", [1, 3, 4])
def test_cell_means_are_numpys_reduceat_sums_to_the_bit(n_columns):
    """The cells' sums in one pass are those of ``np.add.reduceat`` (NumPy's pairwise
    summation): cells of under 8 rows, of 8 to 128 (eight running sums) and longer (the
    halves), on rows with a stride (a column left out) as well."""
    rng = np.random.default_rng(n_columns)
    lengths = rng.choice([1, 2, 7, 8, 9, 16, 17, 127, 128, 129, 136, 300, 1000, 4099], 200)
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    rows = rng.standard_normal((lengths.sum(), n_columns + 1)) * 100
    weights = rng.integers(1, 1000, lengths.sum()).astype(np.float64)
    for coords in (rows, rows[:, :-1]):
        means, cell_weights = weighted_cell_means(coords, weights, starts)
        expected_weights = np.add.reduceat(weights, starts)
        sums = np.stack(
            [np.add.reduceat(coords[:, c] * weights, starts) for c in range(coords.shape[1])],
            axis=1,
        )
        np.testing.assert_array_equal(cell_weights, expected_weights)
        np.testing.assert_array_equal(means, sums / expected_weights[:, None])


@pytest.mark.parametrize("starts", [[], [1, 2], [0, 2, 2], [0, 5]])
def test_cell_starts_out_of_order_or_range_are_refused(starts):
    """The kernel reads without bounds checks: the starts must rise from 0 below m."""
    coords, weights = np.ones((5, 3)), np.ones(5)
    with pytest.raises(ValueError, match="cell_starts must rise strictly"):
        weighted_cell_means(coords, weights, np.array(starts, dtype=np.int64))


@pytest.mark.parametrize(("name", "k"), [("china", 16), ("coffee", 64)])
def test_the_pruned_starts_find_the_winner_of_ten_full_starts(name, k):
    """The starts on the coarse level, ranked after a few iterations with only the best
    few run on (``STARTS_PRUNING``), end on the centers of the best of ten full runs on
    these photos (as on 107 of the 110 fits this was chosen on)."""
    X, weights = start_cells(name, k)
    full, pruned = (
        fit_colors(X.copy(), weights, k, "k-means++", 10, 0, STARTS_MAX_ITER, TOL, **pruning)
        for pruning in ({}, {"prune_starts": STARTS_PRUNING})
    )
    np.testing.assert_array_equal(pruned[0], full[0])


def test_the_default_effort_by_palette_size():
    plan = effort(4)
    assert [plan.starts(k) for k in (2, 16, 64, 65, 256)] == [10, 10, 10, 1, 1]
    assert plan.coarse_starts
    slowest = effort(1)
    assert slowest.starts(256) == 20 and not slowest.coarse_starts
    assert effort(5).starts(16) == 1


def test_coarse_starts_reach_three_runs_on_every_color():
    """Ten starts on a coarse histogram, then one run on every color, against the best of
    three runs on every color (the default until 2026-11): summed over the four shipped
    photos, 368.9 against 371.1 at k = 16, 192.6 against 192.0 at 32, 108.2 against 108.0
    at 64; on the 24 Kodak photos lower at every k (``make bench-kodak``)."""
    for k in (16, 32, 64):
        starts, runs = 0.0, 0.0
        for name in IMAGE_NAMES:
            histogram = color_histogram(image_array(name))
            starts += histogram_mse(histogram, *fit_palette(histogram, k, "rgb", 0, n_init=10))
            three = fit_palette(histogram, k, "rgb", 0, n_init=3, coarse_starts=False)
            runs += histogram_mse(histogram, *three)
        assert starts <= 1.005 * runs


def test_speed_1_reaches_scikit_learns_best_of_ten():
    """Speed 1 starts 20 times on every color; scikit-learn's best of 10 on the same
    weighted colors is exactly K-Means on the pixels.  Both palettes rounded to 8 bits."""
    ours, theirs = 0.0, 0.0
    for name in ("astronaut", "coffee", "china"):
        pixels = image_array(name)[::4, ::4]
        histogram = color_histogram(pixels)
        colors = histogram.colors.astype(np.float64)
        for k in (8, 16, 32, 64):
            result = compress(pixels, k, speed=1)
            ours += np.mean((pixels.astype(np.float64) - result.palette[result.indices]) ** 2)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = SklearnKMeans(k, n_init=10, random_state=0).fit(
                    colors, sample_weight=histogram.counts
                )
            palette = np.clip(np.rint(fitted.cluster_centers_), 0, 255)
            theirs += histogram_mse(histogram, palette, fitted.labels_)
    assert ours <= 1.001 * theirs


def many_colors_photo():
    """china with noise of ±3 levels: a photo of more than ``COARSE_START_ABOVE`` colors."""
    rng = np.random.default_rng(0)
    noisy = image_array("china").astype(np.int16) + rng.integers(-3, 4, size=(427, 640, 3))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def test_many_colors_start_coarse_and_refine_every_level_a_few_iterations():
    histogram = color_histogram(many_colors_photo())
    colors = histogram.colors
    assert len(colors) > COARSE_START_ABOVE
    levels = coarse_levels(colors, 256, n_init=1)
    sizes = [len(level) for level in levels]
    assert sizes[0] <= MANY_COLORS_START_CELLS < sizes[1]  # the finest level of at most …
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes)  # then each finer one
    finest = np.flatnonzero(np.r_[True, np.diff(pack_keys(colors) >> np.uint32(3)) != 0])
    np.testing.assert_array_equal(levels[-1], finest)  # down to b = 1
    weights = histogram.counts.astype(np.float64)
    coords = colors.astype(np.float64)
    for coarse_starts, most in ((True, REFINE_MAX_ITER), (False, 300)):
        init, n_init, max_iter = coarse_start(
            colors, coords, weights, 256, 0, 1, 300, 1e-4, coarse_starts
        )
        assert init.shape == (256, 3) and n_init == 1 and max_iter == most
    # the bounded refinement costs little: within 1 % of the error of every level to a
    # fixed point (speed 1's way)
    bounded = histogram_mse(histogram, *fit_palette(histogram, 256, "rgb", 0))
    to_fixed_points = histogram_mse(
        histogram, *fit_palette(histogram, 256, "rgb", 0, coarse_starts=False)
    )
    assert bounded <= 1.01 * to_fixed_points


def test_only_the_coarse_starts_are_pruned(monkeypatch):
    """The pruned starts (``STARTS_PRUNING``) are the default speeds'; speed 1 (no coarse
    starts) runs each of its starts to the end, on a photo of many colors too, whose
    first level then holds them; every level after the first runs one start."""
    histogram = color_histogram(many_colors_photo())
    colors, weights = histogram.colors, histogram.counts.astype(np.float64)
    coords = colors.astype(np.float64)
    pruning = []  # (n_init, prune_starts) of each level's fit

    def recorded(*args, **kwargs):
        pruning.append((args[4], kwargs.get("prune_starts")))
        return fit_colors(*args, **kwargs)

    monkeypatch.setattr(_palette, "fit_colors", recorded)
    init, _, _ = coarse_start(colors, coords, weights, 8, 0, 20, 300, 1e-4, False)
    assert init.shape == (8, 3)
    assert pruning[0] == (20, None) and all(fit == (1, None) for fit in pruning[1:])
    pruning.clear()
    coarse_start(colors, coords, weights, 8, 0, 10, 25, 1e-4, True)
    assert pruning[0] == (10, STARTS_PRUNING) and all(fit == (1, None) for fit in pruning[1:])


def test_a_level_of_nearly_as_many_cells_as_the_colors_is_not_run():
    """Four channels drop 4 bits a level: under an alpha ramp, the noisy china's level
    b = 1 has 0.76 × its colors, and refining it would cost nearly a fit on every color.
    The chain leaves it out: each level run has at most ``LEVEL_SHRINK`` × the rows of
    the next (the colors, for the finest), and the levels that shrink enough are kept."""
    height, width = 427, 640
    ramp = np.linspace(1, 254, width).astype(np.uint8)
    alpha = np.broadcast_to(ramp, (height, width))[..., None]
    colors = color_histogram(np.concatenate([many_colors_photo(), alpha], axis=2)).colors
    keys = pack_keys(colors)

    def cells(dropped_bits):
        cell_keys = keys >> np.uint32(4 * dropped_bits)
        return np.flatnonzero(np.r_[True, cell_keys[1:] != cell_keys[:-1]])

    assert len(cells(1)) > LEVEL_SHRINK * len(colors)  # the level left out
    levels = coarse_levels(colors, 256, n_init=1)
    np.testing.assert_array_equal(levels[-1], cells(2))  # the finest run: b = 2
    rows = [len(level) for level in levels[1:]] + [len(colors)]
    assert all(cells_run <= LEVEL_SHRINK * after for cells_run, after in itertools.pairwise(rows))
    assert [len(level) for level in levels] == [len(cells(b)) for b in (4, 3, 2)]


def test_the_palettes_seeding_is_greedy_kmeans_plusplus_with_at_most_four_candidates(
    monkeypatch,
):
    """``fit_colors`` seeds with ``SEEDING_TRIALS`` candidates per center; with as many as
    scikit-learn's 2 + ⌊ln k⌋ it is the library's own "k-means++", bit for bit."""
    histogram = color_histogram(image_array("china")[::4, ::4])
    coords = histogram.colors.astype(np.float64)
    weights = histogram.counts.astype(np.float64)

    def fitted(init):
        return fit_colors(coords.copy(), weights, 64, init, 1, np.random.RandomState(0))

    def seeded_with(trials):
        return lambda X, k, random_state: _engine.greedy_kmeans_plusplus(
            X, k, weights, random_state, trials
        )[0]

    for got, expected in zip(fitted("k-means++"), fitted(seeded_with(4)), strict=True):
        assert np.array_equal(got, expected)
    # several starts: every start's seeds drawn at the first call, the draws of one start
    # after another, returned in start order; other rows, k or stream are seeded afresh
    X, first_stream = coords.copy(), np.random.RandomState(1)
    seeding = _palette.palette_seeding(weights, 3)
    returned = [seeding(X, 16, first_stream) for _ in range(3)]
    stream = np.random.RandomState(1)
    for got in returned:
        expected = _engine.greedy_kmeans_plusplus(X, 16, weights, stream, 4)[0]
        np.testing.assert_array_equal(got, expected)
    fresh = seeding(X, 16, np.random.RandomState(1))  # a new stream: the first start again
    np.testing.assert_array_equal(fresh, returned[0])
    assert seeding(X, 8, first_stream).shape == (8, X.shape[1])  # another k: seeded for it
    ten = fit_colors(coords.copy(), weights, 64, "k-means++", 10, 0, STARTS_MAX_ITER)
    one_by_one = fit_colors(coords.copy(), weights, 64, seeded_with(4), 10, 0, STARTS_MAX_ITER)
    for got, expected in zip(ten, one_by_one, strict=True):
        assert np.array_equal(got, expected)
    assert not np.array_equal(fitted("k-means++")[0], fitted(seeded_with(6))[0])
    monkeypatch.setattr(_palette, "SEEDING_TRIALS", 6)  # 2 + ⌊ln 64⌋
    library = k_means(coords.copy(), 64, sample_weight=weights, random_state=0, n_init=1,
                      algorithm="hamerly")  # fmt: skip
    for got, expected in zip(fitted("k-means++"), library, strict=True):
        assert np.array_equal(got, expected)
    monkeypatch.undo()  # at k = 4, 2 + ⌊ln 4⌋ = 3 candidates: fewer than SEEDING_TRIALS
    few = fit_colors(coords.copy(), weights, 4, "k-means++", 1, np.random.RandomState(0))
    library = k_means(coords.copy(), 4, sample_weight=weights, random_state=0, n_init=1,
                      algorithm="hamerly")  # fmt: skip
    for got, expected in zip(few, library, strict=True):
        assert np.array_equal(got, expected)


def test_one_start_of_many_entries_seeds_on_the_means_of_runs_of_eight_rows():
    """From ``SEEDING_GROUPED_FROM`` entries on, one start draws its seeds on the
    pixel-weighted means of runs of ``SEEDING_GROUP_ROWS`` consecutive rows (the last run
    shorter), weighing their pixels (``seeding_rows``); on the rows themselves below that
    k, or where that leaves fewer than ``SEEDING_GROUPS_PER_ENTRY`` runs per entry."""
    runs, per_entry = _palette.SEEDING_GROUP_ROWS, _palette.SEEDING_GROUPS_PER_ENTRY
    k = _palette.SEEDING_GROUPED_FROM
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 255, size=(runs * per_entry * k + 3, 3))
    weights = rng.integers(1, 50, size=X.shape[0]).astype(np.float64)
    rows, row_weights = _palette.seeding_rows(X, weights, k)
    assert rows.shape == (per_entry * k + 1, 3) and row_weights.shape == (rows.shape[0],)
    for run in (0, 17, per_entry * k):  # the last: the 3 rows left over
        chunk = slice(runs * run, runs * run + runs)
        assert row_weights[run] == pytest.approx(weights[chunk].sum())
        np.testing.assert_allclose(rows[run], weights[chunk] @ X[chunk] / weights[chunk].sum())
    for given, n_clusters in ((X, k - 1), (X[: runs * per_entry * k - 1], k)):
        given_weights = weights[: given.shape[0]]
        same, same_weights = _palette.seeding_rows(given, given_weights, n_clusters)
        assert same is given and same_weights is given_weights
    # in the palette's fit: the seeds of the runs, not those of every color
    histogram = color_histogram(image_array("china")[::4, ::4])
    coords = histogram.colors.astype(np.float64)
    color_weights = histogram.counts.astype(np.float64)
    assert coords.shape[0] >= runs * per_entry * k

    def seeded_on(grouped):
        def seeding(X, n_clusters, random_state):
            seeded, seeded_weights = X, color_weights
            if grouped:
                seeded, seeded_weights = _palette.seeding_rows(X, color_weights, n_clusters)
            return _engine.greedy_kmeans_plusplus(
                seeded, n_clusters, seeded_weights, random_state, _palette.SEEDING_TRIALS
            )[0]

        return seeding

    def fitted(init):
        state = np.random.RandomState(0)
        return fit_colors(coords.copy(), color_weights, k, init, 1, state, max_iter=5)

    palette_fit = fitted("k-means++")
    for got, expected in zip(palette_fit, fitted(seeded_on(True)), strict=True):
        assert np.array_equal(got, expected)
    assert not np.array_equal(palette_fit[0], fitted(seeded_on(False))[0])


@pytest.mark.parametrize("color_space", ["rgb", "lab", "oklab"])
@pytest.mark.parametrize("k", [16, 256])
def test_every_color_takes_the_nearest_8_bit_entry(color_space, k):
    """The fit ends on the palette's 8-bit entries (``palette_snap``): each distinct color
    takes the entry nearest to it in the working space after rounding, not the one whose
    unrounded center was nearest (which, with 256 entries, 1-5 % of the pixels of a
    photo would not)."""
    histogram = color_histogram(image_array("coffee")[::2, ::2])
    palette, labels = fit_palette(histogram, k, color_space, np.random.RandomState(0), max_iter=25)
    coords = to_working_space(histogram.colors, color_space)
    entries = to_working_space(palette, color_space)
    sq = ((coords[:, None, :] - entries[None]) ** 2).sum(axis=2)
    rows = np.arange(coords.shape[0])
    np.testing.assert_allclose(sq[rows, labels], sq.min(axis=1), rtol=1e-9, atol=1e-9)
