"""How much quality a quantization lost, and how much space it saved.

- **PSNR** = 10 log₁₀(255² / MSE), the mean squared error over every pixel and channel
  (alpha included).  Computed exactly from the histogram: a pixel's error depends only on
  its color and its palette entry, so MSE = Σ_pairs count · ‖color − entry‖² / (N·C) over
  the distinct (color, entry) pairs, never over a float copy of the image.
- **SSIM**: the structural similarity of Wang et al. (2004), from scikit-image, on the
  color channels (gray for L/LA images).
- **ΔE**: the mean CIEDE2000 color difference (scikit-image) between each pixel and its
  reconstruction, also computed over distinct (color, entry) pairs.  About 1 is the just
  noticeable difference; above 5 colors look different.
- **sizes**: input file bytes, output bytes, their ratio, output bits per pixel.
"""

import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.metrics import structural_similarity


def distinct_pairs(histogram, indices):
    """Distinct (color, palette index) pairs with their counts: (colors, entries, counts)."""
    color_rows = histogram.inverse
    pair_keys = color_rows.astype(np.int64) * 65536 + indices.ravel().astype(np.int64)
    keys, counts = np.unique(pair_keys, return_counts=True)
    return keys // 65536, keys % 65536, counts


def psnr_and_delta_e(histogram, palette, indices):
    """PSNR (dB) and mean CIEDE2000 ΔE of the reconstruction, from distinct pairs."""
    color_rows, entries, counts = distinct_pairs(histogram, indices)
    original = histogram.colors[color_rows].astype(np.float64)
    rebuilt = palette[entries].astype(np.float64)
    n_values = counts.sum() * original.shape[1]
    mse = float((((original - rebuilt) ** 2).sum(axis=1) * counts).sum() / n_values)
    psnr = float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))
    rgb_original = _as_rgb(histogram.colors[color_rows])
    rgb_rebuilt = _as_rgb(palette[entries])
    delta = deltaE_ciede2000(rgb2lab(rgb_original / 255.0), rgb2lab(rgb_rebuilt / 255.0))
    delta_e = float((delta * counts).sum() / counts.sum())
    return psnr, delta_e


def _as_rgb(colors):
    """The color part of (m, C) colors as (m, 3) RGB (gray repeated)."""
    if colors.shape[1] >= 3:
        return colors[:, :3].astype(np.float64)
    return np.repeat(colors[:, :1], 3, axis=1).astype(np.float64)


def ssim(original, rebuilt):
    """SSIM of the color channels of two (H, W, C) uint8 images (gray for C ≤ 2)."""
    n_color = 3 if original.shape[2] >= 3 else 1
    a, b = original[:, :, :n_color], rebuilt[:, :, :n_color]
    if min(a.shape[:2]) < 7:  # SSIM's 7×7 window needs at least 7 pixels a side
        return 1.0 if np.array_equal(a, b) else float("nan")
    return float(structural_similarity(a, b, channel_axis=2, data_range=255))


def size_report(n_pixels, n_channels, input_bytes, output_bytes):
    """Bytes, ratios and bits per pixel of an output of ``output_bytes``."""
    raw_bytes = n_pixels * n_channels
    return {
        "input_bytes": input_bytes,
        "output_bytes": output_bytes,
        "raw_bytes": raw_bytes,
        "ratio": (input_bytes / output_bytes) if input_bytes else None,
        "ratio_vs_raw": raw_bytes / output_bytes,
        "bits_per_pixel": 8.0 * output_bytes / n_pixels,
    }
