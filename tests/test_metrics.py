"""The streaming quality kernels against the plain computations they replace."""

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from kmeans_scratch.compression import compress
from kmeans_scratch.compression._histogram import color_histogram
from kmeans_scratch.compression._metrics import distinct_pairs, ssim

from .helpers import image_array


def random_quantization(shape, n_entries, seed):
    """A random image and a random palette + indices of the same shape."""
    rng = np.random.RandomState(seed)
    original = rng.randint(0, 256, size=shape).astype(np.uint8)
    palette = rng.randint(0, 256, size=(n_entries, shape[2])).astype(np.uint8)
    indices = rng.randint(0, n_entries, size=shape[:2]).astype(np.uint8)
    return original, palette, indices


def skimage_ssim(original, palette, indices, win_size=7):
    n_color = 3 if original.shape[2] >= 3 else 1
    rebuilt = palette[indices]
    return structural_similarity(
        original[:, :, :n_color],
        rebuilt[:, :, :n_color],
        channel_axis=2,
        data_range=255,
        win_size=win_size,
    )


def global_ssim(original, palette, indices):
    """SSIM of one window covering the whole image (sample variances and covariance),
    averaged over the color channels: the formula of Wang et al. written out."""
    n_color = 3 if original.shape[2] >= 3 else 1
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    values = []
    for channel in range(n_color):
        x = original[:, :, channel].astype(np.float64).ravel()
        y = palette[indices][:, :, channel].astype(np.float64).ravel()
        mean_x, mean_y = x.mean(), y.mean()
        var_x, var_y = x.var(ddof=1), y.var(ddof=1)
        cov = ((x - mean_x) * (y - mean_y)).sum() / (x.size - 1)
        numerator = (2 * mean_x * mean_y + c1) * (2 * cov + c2)
        denominator = (mean_x**2 + mean_y**2 + c1) * (var_x + var_y + c2)
        values.append(numerator / denominator)
    return float(np.mean(values))


@pytest.mark.parametrize(
    "shape", [(7, 7, 3), (7, 40, 3), (300, 9, 3), (131, 257, 3), (50, 60, 1), (40, 30, 4)]
)
def test_ssim_equals_scikit_image_on_random_images(shape):
    original, palette, indices = random_quantization(shape, 12, seed=shape[0])
    assert ssim(original, palette, indices) == pytest.approx(
        skimage_ssim(original, palette, indices), abs=1e-12
    )


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_ssim_equals_scikit_image_on_photos(name):
    pixels = image_array(name)
    for dither in (False, True):
        result = compress(pixels, 16, dither=dither)
        assert result.metrics["ssim"] == pytest.approx(
            skimage_ssim(pixels, result.palette, result.indices), abs=1e-12
        )


def test_ssim_of_an_image_with_itself_is_one():
    pixels = image_array("coffee")[:60, :80]
    histogram = color_histogram(pixels)
    indices = np.arange(histogram.colors.shape[0])[histogram.inverse].reshape(60, 80)
    assert ssim(pixels, histogram.colors, indices) == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize(
    "shape, window",
    [((3, 5, 3), 3), ((5, 3, 3), 3), ((5, 40, 3), 5), ((6, 9, 1), 5), ((40, 4, 4), 3)],
)
def test_ssim_under_7_pixels_a_side_uses_the_largest_odd_window_that_fits(shape, window):
    # It was NaN: no 7 × 7 window fits.
    original, palette, indices = random_quantization(shape, 4, seed=shape[1])
    value = ssim(original, palette, indices)
    assert -1 < value <= 1
    assert value == pytest.approx(skimage_ssim(original, palette, indices, window), abs=1e-12)
    assert ssim(palette[indices], palette, indices) == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("shape", [(2, 2, 3), (1, 7, 3), (7, 1, 3), (2, 50, 1), (1, 2, 4)])
def test_ssim_with_a_side_under_3_is_one_window_over_the_whole_image(shape):
    original, palette, indices = random_quantization(shape, 4, seed=shape[1])
    value = ssim(original, palette, indices)
    assert -1 < value <= 1
    assert value == pytest.approx(global_ssim(original, palette, indices), abs=1e-12)
    assert ssim(palette[indices], palette, indices) == pytest.approx(1.0, abs=1e-15)


def test_a_one_pixel_image_has_a_finite_ssim():
    original, palette, indices = random_quantization((1, 1, 3), 2, seed=0)
    assert -1 < ssim(original, palette, indices) <= 1
    assert ssim(palette[indices], palette, indices) == 1.0


@pytest.mark.parametrize("size", [(5, 3), (2, 2), (1, 7)])
def test_a_small_image_reports_a_finite_ssim(size):
    width, height = size
    rng = np.random.RandomState(width * 10 + height)
    pixels = rng.randint(0, 256, size=(height, width, 3)).astype(np.uint8)
    lossy = compress(pixels, 2).metrics["ssim"]
    assert np.isfinite(lossy) and -1 < lossy <= 1
    lossless = compress(pixels, width * height).metrics["ssim"]
    assert lossless == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("one_entry_per_color", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_distinct_pairs_equal_numpy_unique(seed, one_entry_per_color):
    rng = np.random.RandomState(seed)
    pixels = rng.randint(0, 6, size=(40, 50, 3)).astype(np.uint8)
    histogram = color_histogram(pixels)
    indices = rng.randint(0, 20, size=2000).astype(np.uint8)
    if one_entry_per_color:  # as without dithering: an entry per distinct color
        indices = rng.randint(0, 20, size=histogram.counts.size).astype(np.uint8)
        indices = indices[histogram.inverse]
    rows, entries, counts = distinct_pairs(histogram.inverse, indices, histogram.counts)
    keys = histogram.inverse.astype(np.int64) * 256 + indices
    expected_keys, expected_counts = np.unique(keys, return_counts=True)
    order = np.argsort(rows * 256 + entries)
    np.testing.assert_array_equal((rows * 256 + entries)[order], expected_keys)
    np.testing.assert_array_equal(counts[order], expected_counts)


def test_lab_and_ciede2000_equal_scikit_image_color_by_color():
    from skimage.color import deltaE_ciede2000, rgb2lab

    from kmeans_scratch.compression._color_difference import (
        ciede2000,
        linearized_levels,
        srgb_to_lab,
    )

    rng = np.random.RandomState(0)
    colors = rng.randint(0, 256, size=(3000, 3)).astype(np.uint8)
    edges = np.array([[0, 0, 0], [255, 255, 255], [128, 128, 128], [10, 10, 10], [255, 0, 0]])
    colors = np.vstack([colors, edges, edges[::-1]]).astype(np.uint8)
    lab = np.empty((colors.shape[0], 3))
    for i, (red, green, blue) in enumerate(colors):
        srgb_to_lab(red, green, blue, lab[i], linearized_levels())
    np.testing.assert_allclose(lab, rgb2lab(colors / 255.0), rtol=0, atol=1e-9)
    # pairs: random, equal, gray with gray (zero chroma), gray with color, opposite hues
    first, second = lab, np.vstack([lab[1:], lab[:1]])
    pairs = [(first, second), (lab, lab), (lab[-10:], lab[::-1][:10])]
    for one, other in pairs:
        ours = np.array([ciede2000(a, b) for a, b in zip(one, other, strict=True)])
        np.testing.assert_allclose(ours, deltaE_ciede2000(one, other), rtol=0, atol=1e-9)


def test_released_pixels_keep_the_measures_taken_and_the_file():
    """The command measures, lets the pixels go, then encodes: the same file, the same
    numbers, and a measure not taken before is refused with a clear message."""
    from kmeans_scratch.compression import compress

    pixels = image_array("china")[::3, ::3]
    kept, released = compress(pixels, 32), compress(pixels, 32)
    psnr_before = released.quality("psnr")
    released.release_pixels()
    assert released.original is None and released.histogram is None
    assert released.quality("psnr") == psnr_before == kept.quality("psnr")
    untimed = [
        {name: value for name, value in result.report(measures=("psnr",)).items()
         if not name.endswith("seconds")}
        for result in (released, kept)
    ]  # fmt: skip
    assert untimed[0] == untimed[1]
    assert released.encode("png") == kept.encode("png")
    with pytest.raises(ValueError, match="ssim was not measured before the pixels were released"):
        released.quality("ssim")
