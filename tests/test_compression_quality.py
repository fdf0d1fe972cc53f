"""The compressor against scikit-learn K-Means on every pixel of the same images."""

import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans as SklearnKMeans

from kmeans_scratch.compression import compress
from kmeans_scratch.compression._histogram import color_histogram
from kmeans_scratch.compression._palette import optimal_1d_levels
from kmeans_scratch.compression._working_space import from_working_space, to_working_space

from .helpers import IMAGE_NAMES, image_array


def psnr(original, rebuilt):
    mse = ((original.astype(np.float64) - rebuilt.astype(np.float64)) ** 2).mean()
    return 10 * np.log10(255.0**2 / mse)


@pytest.mark.parametrize("n_colors", [2, 4, 8, 16, 32, 64])
@pytest.mark.parametrize("image", IMAGE_NAMES)
def test_psnr_at_least_sklearn_on_all_pixels(image, n_colors):
    """Fitting distinct colors weighted by counts loses nothing against all the pixels.

    Both are one local optimum among many: over seeds 0–5 at k = 32 on flower, one run of
    scikit-learn's gives 31.86–31.94 dB and our default 31.89–31.96 dB (mean 31.90 and
    31.93), so one seed of each is compared within 0.1 dB.
    """
    pixels = image_array(image)
    ours = compress(pixels, n_colors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = SklearnKMeans(n_colors, random_state=0).fit(pixels.reshape(-1, 3).astype(float))
    rebuilt = np.clip(np.rint(theirs.cluster_centers_), 0, 255)[theirs.labels_]
    sklearn_psnr = psnr(pixels.reshape(-1, 3), rebuilt)
    assert ours.metrics["psnr"] >= sklearn_psnr - 0.1
    assert ours.metrics["psnr"] == pytest.approx(psnr(pixels, ours.to_array()), abs=1e-9)
    assert ours.metrics["colors_used"] <= n_colors


def test_metrics_from_the_histogram_equal_metrics_from_the_pixels():
    from skimage.color import deltaE_ciede2000, rgb2lab

    pixels = image_array("coffee")
    result = compress(pixels, 12, dither=True)  # dithering: a color maps to several entries
    rebuilt = result.to_array()
    assert result.metrics["psnr"] == pytest.approx(psnr(pixels, rebuilt), rel=1e-12)
    delta = deltaE_ciede2000(rgb2lab(pixels / 255.0), rgb2lab(rebuilt / 255.0)).mean()
    assert result.metrics["delta_e"] == pytest.approx(delta, rel=1e-9)


def composited(with_alpha, background):
    alpha = with_alpha[..., -1:].astype(np.float64) / 255.0
    return alpha * with_alpha[..., :-1] + (1.0 - alpha) * background


@pytest.mark.parametrize("gray", [False, True])
@pytest.mark.parametrize("dither", [False, True])
def test_psnr_of_a_translucent_image_is_of_what_a_viewer_sees(dither, gray):
    """With alpha, PSNR is that of the image composited over black and over white (the
    mean of the two squared errors, over the color channels): the color of faint pixels,
    which no viewer sees, does not count; an opaque RGBA (or gray + alpha) image measures
    as its RGB (gray)."""
    pixels = image_array("astronaut")[::4, ::4]
    if gray:
        pixels = pixels[..., 1:2]
    height, width = pixels.shape[:2]
    ramp = np.linspace(0.0, 1.0, width)[None, :] * np.ones((height, 1))
    alpha = np.clip(np.rint(255 * ramp), 0, 255).astype(np.uint8)
    rgba = np.dstack([pixels, alpha])
    result = compress(rgba, 16, dither=dither)
    rebuilt = result.to_array()
    visible = rgba.copy()
    visible[alpha == 0] = 0  # transparent pixels are one color, their RGB unseen
    errors = [((composited(visible, b) - composited(rebuilt, b)) ** 2).mean() for b in (0.0, 255.0)]
    assert result.metrics["psnr"] == pytest.approx(
        10 * np.log10(255.0**2 / np.mean(errors)), rel=1e-12
    )
    assert result.metrics["psnr"] > psnr(visible, rebuilt) + 3  # the straight RGBA error
    opaque = np.dstack([pixels, np.full((height, width), 255, np.uint8)])
    assert compress(opaque, 16).metrics["psnr"] == compress(pixels.squeeze(), 16).metrics["psnr"]


@pytest.mark.parametrize("color_space", ["rgb", "lab", "oklab"])
def test_color_spaces_round_trip_and_lab_lowers_delta_e(color_space):
    colors = np.random.RandomState(0).randint(0, 256, size=(5000, 3)).astype(np.uint8)
    back = from_working_space(to_working_space(colors, color_space), 3, color_space)
    assert np.abs(back.astype(int) - colors).max() <= 1
    alpha = np.hstack([colors, colors[:, :1]])
    back = from_working_space(to_working_space(alpha, color_space), 4, color_space).astype(int)
    visible = alpha[:, 3] > 0
    assert np.abs(back[visible] - alpha[visible]).max() <= 1
    assert not back[~visible].any()  # an invisible color is (0, 0, 0, 0)


def test_perceptual_spaces_trade_psnr_for_delta_e():
    pixels = image_array("astronaut")
    rgb = compress(pixels, 16)
    lab = compress(pixels, 16, color_space="lab")
    assert lab.metrics["delta_e"] < rgb.metrics["delta_e"]
    assert rgb.metrics["psnr"] > lab.metrics["psnr"]


def morton_key(color):
    """The Morton key of one color, bit by bit: the reference for pack_keys."""
    key = 0
    for bit in range(7, -1, -1):
        for value in color:
            key = (key << 1) | ((int(value) >> bit) & 1)
    return key


@pytest.mark.parametrize("n_channels", [1, 2, 3, 4])
def test_histogram_is_the_distinct_colors_in_morton_order(n_channels):
    rng = np.random.RandomState(n_channels)
    # Few values per channel, so that colors repeat, plus full-range bytes in every channel.
    pixels = rng.choice([0, 1, 127, 128, 254, 255], size=(60, 50, n_channels)).astype(np.uint8)
    pixels[:10] = rng.randint(0, 256, size=(10, 50, n_channels))
    histogram = color_histogram(pixels)
    colors, counts = np.unique(pixels.reshape(-1, n_channels), axis=0, return_counts=True)
    by_morton = np.argsort([morton_key(color) for color in colors])
    np.testing.assert_array_equal(histogram.colors, colors[by_morton])
    np.testing.assert_array_equal(histogram.counts, counts[by_morton])
    np.testing.assert_array_equal(
        histogram.colors[histogram.inverse], pixels.reshape(-1, n_channels)
    )
    if n_channels == 1:  # the grayscale quantizer needs the levels sorted
        assert np.all(np.diff(histogram.colors[:, 0].astype(int)) > 0)


def test_a_large_rgb_histogram_finds_each_pixels_color_by_its_key():
    """From 4 megapixels an RGB histogram counts keys in a table and keeps no per-pixel
    rows (97 MiB at 24 megapixels): a pixel's entry is looked up from its key."""
    from kmeans_scratch.compression._histogram import distinct_keys

    rng = np.random.RandomState(0)
    pixels = rng.randint(0, 256, size=(2048, 2048, 3)).astype(np.uint8)
    pixels[:1024] //= 64  # many repeated colors too
    histogram = color_histogram(pixels)
    assert histogram.found_by_key and histogram._inverse is None  # rows made when asked
    colors, counts, inverse = distinct_keys(pixels.reshape(-1, 3))
    np.testing.assert_array_equal(histogram.colors, colors)
    np.testing.assert_array_equal(histogram.counts, counts)
    np.testing.assert_array_equal(histogram.inverse, inverse)
    labels = (np.arange(colors.shape[0]) % 251).astype(np.uint8)
    np.testing.assert_array_equal(histogram.entries_of_pixels(labels), labels[inverse])


def test_histogram_of_a_photo_rebuilds_it():
    pixels = image_array("china")
    histogram = color_histogram(pixels)
    assert histogram.counts.sum() == pixels.shape[0] * pixels.shape[1]
    np.testing.assert_array_equal(histogram.colors[histogram.inverse].reshape(pixels.shape), pixels)
    assert len(np.unique(histogram.colors, axis=0)) == histogram.colors.shape[0]


def brute_force_1d(values, weights, n_levels):
    """Lowest weighted SSE over every way of cutting sorted values into n_levels runs."""
    from itertools import combinations, pairwise

    best = np.inf
    for cuts in combinations(range(1, len(values)), n_levels - 1):
        bounds = (0, *cuts, len(values))
        sse = 0.0
        for a, b in pairwise(bounds):
            v, w = values[a:b], weights[a:b]
            sse += (w * (v - np.average(v, weights=w)) ** 2).sum()
        best = min(best, sse)
    return best


@pytest.mark.parametrize("seed", range(5))
def test_grayscale_levels_are_optimal(seed):
    rng = np.random.RandomState(seed)
    values = np.sort(rng.choice(256, 11, replace=False)).astype(np.float64)
    weights = rng.randint(1, 50, 11).astype(np.float64)
    labels = optimal_1d_levels(values, weights, 4)
    sse = 0.0
    for level in range(4):
        v, w = values[labels == level], weights[labels == level]
        sse += (w * (v - np.average(v, weights=w)) ** 2).sum()
    assert np.all(np.diff(labels) >= 0)
    assert sse == pytest.approx(brute_force_1d(values, weights, 4), rel=1e-9)


def test_grayscale_image_beats_kmeans_or_ties():
    gray = (image_array("coffee").mean(axis=2)).astype(np.uint8)
    result = compress(gray, 6)
    assert result.to_array().shape == gray.shape
    assert result.palette.shape == (6, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km = SklearnKMeans(6, random_state=0, n_init=3).fit(gray.reshape(-1, 1).astype(float))
    rebuilt = np.clip(np.rint(km.cluster_centers_), 0, 255)[km.labels_].reshape(gray.shape)
    assert result.metrics["psnr"] >= psnr(gray, rebuilt) - 1e-6


def test_dither_keeps_the_palette_and_changes_the_indices():
    pixels = image_array("flower")
    plain = compress(pixels, 8)
    dithered = compress(pixels, 8, dither=True)
    np.testing.assert_array_equal(plain.palette, dithered.palette)
    assert not np.array_equal(plain.indices, dithered.indices)
    # error diffusion keeps local means: a blurred dithered image is closer to the original
    from scipy.ndimage import uniform_filter

    def blurred_error(result):
        diff = result.to_array().astype(float) - pixels
        return np.abs(uniform_filter(diff, size=(5, 5, 1))).mean()

    assert blurred_error(dithered) < blurred_error(plain)


def test_fewer_distinct_colors_than_k_is_lossless():
    pixels = np.zeros((20, 30, 3), dtype=np.uint8)
    pixels[:, 10:] = [200, 10, 10]
    pixels[5:, 20:] = [0, 0, 255]
    result = compress(pixels, 16)
    assert result.metrics["colors_used"] == 3
    np.testing.assert_array_equal(result.to_array(), pixels)
    assert result.metrics["psnr"] == np.inf


def test_auto_picks_the_smallest_k_that_reaches_the_target():
    pixels = image_array("coffee")
    result = compress(pixels, "auto", target_psnr=30)
    k = result.metrics["n_colors"]
    assert result.metrics["psnr"] >= 30 and result.metrics["target_reached"]
    assert compress(pixels, k - 1).metrics["psnr"] < 30
    unreachable = compress(pixels[:64, :64], "auto", target_ssim=1.5)
    assert not unreachable.metrics["target_reached"]
    # a number of colors with a target is the most it may choose (pngquant's count)
    capped = compress(pixels, k + 8, target_psnr=30)
    assert capped.metrics["n_colors"] == k and capped.metrics["target_reached"]
    short = compress(pixels, k - 1, target_psnr=30)
    assert short.metrics["n_colors"] == k - 1 and not short.metrics["target_reached"]
    assert "target PSNR 30.00 dB not reached with " + f"{k - 1} colors" in short.facts["notes"]
    with pytest.raises(ValueError, match="exactly one of target_psnr or target_ssim"):
        compress(pixels, 8, target_psnr=30, target_ssim=0.9)


def test_n_init_reaches_the_fit():
    """Regression: compress(n_init=...) was dropped on the way to the fit ("auto" ran).

    One start fits every color; several start on the coarse level of ``coarse_levels``
    (at most ``STARTS_MAX_ITER`` iterations each), the best going on over every color.
    """
    from kmeans_scratch import KMeans
    from kmeans_scratch.compression._palette import (
        STARTS_MAX_ITER,
        coarse_levels,
        rounded_palette,
    )

    pixels = image_array("china")[::4, ::4]
    histogram = color_histogram(pixels)
    colors, counts = histogram.colors.astype(np.float64), histogram.counts.astype(float)
    (level,) = coarse_levels(histogram.colors, 16, n_init=3)
    cell_weights = np.add.reduceat(counts, level)
    cell_means = np.add.reduceat(colors * counts[:, None], level) / cell_weights[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the starts stop before they converge
        best_start = KMeans(
            16, n_init=3, max_iter=STARTS_MAX_ITER, random_state=0, algorithm="hamerly"
        ).fit(cell_means, sample_weight=cell_weights)
    inits = {1: "k-means++", 3: best_start.cluster_centers_}
    palettes = {}
    for n_init, init in inits.items():
        kmeans = KMeans(16, init=init, n_init=1, random_state=0, algorithm="hamerly")
        kmeans.fit(colors, sample_weight=counts)
        palettes[n_init] = compress(pixels, 16, n_init=n_init).palette
        expected, _ = rounded_palette(kmeans.cluster_centers_, kmeans.labels_, 3, "rgb")
        np.testing.assert_array_equal(palettes[n_init], expected)
    assert not np.array_equal(palettes[1], palettes[3])  # the runs differ: the test can fail


@pytest.mark.parametrize("n_channels", [1, 2, 3])
def test_histogram_by_key_table_equals_the_radix_sort(n_channels):
    from kmeans_scratch.compression._histogram import (
        ColorHistogram,
        distinct_keys,
        distinct_keys_by_table,
    )

    rng = np.random.RandomState(n_channels)
    flat = rng.choice([0, 1, 127, 128, 254, 255], size=(5000, n_channels)).astype(np.uint8)
    flat[:500] = rng.randint(0, 256, size=(500, n_channels))
    by_table = ColorHistogram(*distinct_keys_by_table(flat), pixels=flat)
    by_sort = ColorHistogram(*distinct_keys(flat))
    for name in ("colors", "counts", "inverse"):
        np.testing.assert_array_equal(getattr(by_table, name), getattr(by_sort, name))
    labels = (np.arange(by_sort.colors.shape[0]) * 7 % 5).astype(np.uint8)
    np.testing.assert_array_equal(
        by_table.entries_of_pixels(labels), by_sort.entries_of_pixels(labels)
    )
