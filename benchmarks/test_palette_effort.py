"""Issue 13's rows: what the fit's effort buys (error and time at k = 16–256, the default
and speed 1 beside libimagequant and scikit-learn), and dithering against Pillow's on the
same palette.  ``make bench-kodak`` runs them on the 24 Kodak photos."""

import functools
import warnings

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import structural_similarity
from sklearn.cluster import KMeans as SklearnKMeans

from kmeans_scratch.compression import compress
from kmeans_scratch.compression._histogram import color_histogram
from kmeans_scratch.compression._remap import pixel_indices

from .contenders import quantize_libimagequant, quantize_ours
from .datasets import image, short_name


def sklearn_on_colors(n_init):
    """scikit-learn's KMeans on the distinct colors weighted by their counts: exactly K-Means
    on every pixel, in a fraction of the time (the histogram itself is not timed)."""

    def quantize(pixels, k, histogram):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = SklearnKMeans(k, n_init=n_init, random_state=0).fit(
                histogram.colors.astype(np.float64), sample_weight=histogram.counts
            )
        palette = np.clip(np.rint(fitted.cluster_centers_), 0, 255).astype(np.uint8)
        return palette, fitted.labels_[histogram.inverse].reshape(pixels.shape[:2])

    return quantize


EFFORT_CONTENDERS = {
    "ours (default, speed 4)": quantize_ours,
    "ours (speed 1)": functools.partial(quantize_ours, speed=1),
    "libimagequant": quantize_libimagequant,
    "scikit-learn, 1 run": sklearn_on_colors(1),
    "scikit-learn, best of 10": sklearn_on_colors(10),
}


def mean_squared_error(pixels, palette, indices):
    """Per channel, over every pixel, on 0..255."""
    return float(np.mean((pixels.astype(np.float64) - palette[indices]) ** 2))


@pytest.mark.parametrize("contender", list(EFFORT_CONTENDERS))
@pytest.mark.parametrize("k", [16, 32, 64, 128, 256])
def test_fit_effort(benchmark, recorder, smoke, image_name, k, contender):
    pixels = image(image_name)
    if smoke:
        pixels = np.ascontiguousarray(pixels[::8, ::8])
    quantize = EFFORT_CONTENDERS[contender]
    args = (pixels, k)
    if contender.startswith("scikit-learn"):
        args += (color_histogram(pixels),)
    quantize_ours(pixels[:32, :32], 16)  # warm up: compiled kernels loaded
    rounds = 3 if contender in ("ours (default, speed 4)", "libimagequant") and not smoke else 1
    palette, indices = benchmark.pedantic(quantize, args=args, rounds=rounds, iterations=1)
    assert palette.shape[0] <= k and indices.shape == pixels.shape[:2]
    recorder.add(
        "palette-effort",
        benchmark,
        image=short_name(image_name),
        k=k,
        contender=contender,
        mse=mean_squared_error(pixels, palette, indices),
    )


def psnr_and_ssim(pixels, rebuilt):
    mse = np.mean((pixels.astype(np.float64) - rebuilt) ** 2)
    similarity = structural_similarity(pixels, rebuilt, channel_axis=2, data_range=255)
    return float(10 * np.log10(255.0**2 / mse)), float(similarity)


def pillow_dithering(pixels, palette):
    """Pillow's Floyd–Steinberg onto a given palette."""
    holder = Image.new("P", (1, 1))
    holder.putpalette(palette.ravel().tolist())
    dithered = Image.fromarray(pixels).quantize(palette=holder, dither=Image.Dither.FLOYDSTEINBERG)
    return np.asarray(dithered.convert("RGB"))


@pytest.mark.parametrize("ditherer", ["ours", "Pillow"])
@pytest.mark.parametrize("k", [16, 64, 256])
def test_dithering(benchmark, recorder, smoke, image_name, k, ditherer):
    pixels = image(image_name)
    if smoke:
        pixels = np.ascontiguousarray(pixels[::8, ::8])
    fitted = compress(pixels, k)
    palette = fitted.palette  # the same palette for both
    if ditherer == "ours":
        indices = benchmark.pedantic(
            pixel_indices,
            args=(pixels, fitted.histogram, palette, fitted.labels, "rgb", 1.0),
            rounds=3,
        )
        rebuilt = palette[indices]
    else:
        rebuilt = benchmark.pedantic(pillow_dithering, args=(pixels, palette), rounds=3)
    psnr, ssim = psnr_and_ssim(pixels, rebuilt)
    recorder.add(
        "dithering",
        benchmark,
        image=short_name(image_name),
        k=k,
        contender=ditherer,
        psnr=psnr,
        ssim=ssim,
    )
