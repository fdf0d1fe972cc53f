"""How much quality a quantization lost, and how much space it saved.

Every measure reads the original pixels, the palette and the index of each pixel; none
makes a float copy of the image, so measuring a 24-megapixel photo costs a few bytes per
pixel at most.

- **PSNR** = 10 log₁₀(255² / MSE), the mean squared error over every pixel and channel
  (alpha included).  Computed exactly from the histogram: a pixel's error depends only on
  its color and its palette entry, so MSE = Σ_pairs count · ‖color − entry‖² / (N·C) over
  the distinct (color, entry) pairs.
- **SSIM**: the mean structural similarity of Wang et al. (2004) over 7 × 7 windows, as
  scikit-image's ``structural_similarity`` defines it (uniform window, sample covariance,
  data range 255), on the color channels (gray for L/LA images).  Computed by a streaming
  kernel from exact integer window sums (scikit-image is its test oracle).
- **ΔE**: the mean CIEDE2000 color difference between each pixel and its reconstruction,
  also over distinct (color, entry) pairs, by a parallel kernel that follows
  scikit-image's ``rgb2lab`` and ``deltaE_ciede2000`` (its test oracle).  About 1 is the
  just noticeable difference; above 5 colors look different.
- **sizes**: input file bytes, output bytes, their ratio, output bits per pixel.
"""

import numpy as np

from .._kernels import kernel, prange
from ._color_difference import pair_error_sums

#: The quality measures a quantization reports, each computed only when asked for.
QUALITY_MEASURES = ("psnr", "ssim", "delta_e")

#: SSIM's window side, and its constants K1, K2 (scikit-image's defaults).
SSIM_WINDOW = 7
SSIM_K1, SSIM_K2 = 0.01, 0.03
#: Rows of window positions per parallel band (fixed, so the sum is the same on any
#: number of threads).
SSIM_BAND_ROWS = 128


@kernel
def distinct_pairs(inverse, indices, counts):
    """The distinct (color row, palette entry) pairs of the pixels, and how many pixels each.

    ``inverse`` (N,) is each pixel's distinct color, ``indices`` (N,) its palette entry and
    ``counts`` (m,) the pixels of each color.  Without dithering every color has one
    entry, found in one pass.  Otherwise the pixels' entries are grouped by color (one
    more pass, N small integers) and each color's group is scanned, a stamp per entry
    telling whether the pair was already seen.  Pairs come ordered by color row.
    """
    n_colors = counts.shape[0]
    entry_of = np.full(n_colors, -1, dtype=np.int64)
    one_entry_each = True
    for i in range(inverse.shape[0]):
        row = inverse[i]
        if entry_of[row] == -1:
            entry_of[row] = indices[i]
        elif entry_of[row] != indices[i]:
            one_entry_each = False
            break
    if one_entry_each:
        return np.arange(n_colors), entry_of, counts.astype(np.int64)
    n_entries = int(indices.max()) + 1 if indices.shape[0] else 1
    starts = np.zeros(n_colors + 1, dtype=np.int64)
    for row in range(n_colors):
        starts[row + 1] = starts[row] + counts[row]
    grouped = np.empty_like(indices)
    fill = starts[:-1].copy()
    for i in range(inverse.shape[0]):
        row = inverse[i]
        grouped[fill[row]] = indices[i]
        fill[row] += 1
    seen_in = np.full(n_entries, -1, dtype=np.int64)
    n_pairs = 0
    for row in range(n_colors):
        for j in range(starts[row], starts[row + 1]):
            if seen_in[grouped[j]] != row:
                seen_in[grouped[j]] = row
                n_pairs += 1
    rows = np.empty(n_pairs, dtype=np.int64)
    entries = np.empty(n_pairs, dtype=np.int64)
    pair_counts = np.zeros(n_pairs, dtype=np.int64)
    slot = np.empty(n_entries, dtype=np.int64)
    seen_in[:] = -1
    n_pairs = 0
    for row in range(n_colors):
        for j in range(starts[row], starts[row + 1]):
            entry = grouped[j]
            if seen_in[entry] != row:
                seen_in[entry] = row
                slot[entry] = n_pairs
                rows[n_pairs], entries[n_pairs] = row, entry
                n_pairs += 1
            pair_counts[slot[entry]] += 1
    return rows, entries, pair_counts


def pixel_pairs(histogram, indices):
    """The distinct (color row, palette entry) pairs of an image and their pixel counts."""
    return distinct_pairs(histogram.inverse, indices.ravel(), histogram.counts)


#: Pairs whose squared errors NumPy computes at once (bounded scratch for huge images).
PAIR_CHUNK = 1 << 20


def psnr_of_pairs(colors, pairs, palette):
    """PSNR (dB) of the pixels described by ``pairs`` (see :func:`pixel_pairs`): every
    channel of every pixel, MSE = Σ count · ‖color − entry‖² / (N · C)."""
    rows, entries, counts = pairs
    squared_error = 0.0
    for start in range(0, rows.shape[0], PAIR_CHUNK):
        part = slice(start, start + PAIR_CHUNK)
        diff = colors[rows[part]].astype(np.float64) - palette[entries[part]]
        # Elementwise, not a BLAS dot: BLAS threads would compete with the batch's workers.
        squared_error += float((counts[part] * (diff * diff).sum(axis=1)).sum())
    mse = squared_error / (counts.sum() * colors.shape[1])
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def psnr(histogram, palette, indices):
    """PSNR (dB) of the reconstruction ``palette[indices]``, from distinct pairs."""
    return psnr_of_pairs(histogram.colors, pixel_pairs(histogram, indices), palette)


def mean_delta_e_of_pairs(colors, pairs, palette):
    """Mean CIEDE2000 ΔE between each pixel described by ``pairs`` (see
    :func:`pixel_pairs`) and its palette entry."""
    rows, entries, counts = pairs
    _, delta_e_sum = pair_error_sums(colors, rows, entries, counts, np.ascontiguousarray(palette))
    return float(delta_e_sum / counts.sum())


def mean_delta_e(histogram, palette, indices):
    """Mean CIEDE2000 ΔE between each pixel and its reconstruction, from distinct pairs."""
    return mean_delta_e_of_pairs(histogram.colors, pixel_pairs(histogram, indices), palette)


@kernel
def _window_ssim(sx, sy, sxx, syy, sxy, c1, c2):
    """SSIM of one window from its integer sums Σx, Σy, Σx², Σy², Σxy over P pixels.

    μ = Σx / P;  σx² = (P Σx² − (Σx)²) / (P (P − 1)) (the sample variance, exact up to
    one rounding); likewise σy², σxy.  Then
    SSIM = (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)).
    """
    n = SSIM_WINDOW * SSIM_WINDOW
    mean_x, mean_y = sx / n, sy / n
    scale = 1.0 / (n * (n - 1))
    var_x = (n * sxx - sx * sx) * scale
    var_y = (n * syy - sy * sy) * scale
    cov = (n * sxy - sx * sy) * scale
    numerator = (2 * mean_x * mean_y + c1) * (2 * cov + c2)
    denominator = (mean_x * mean_x + mean_y * mean_y + c1) * (var_x + var_y + c2)
    return numerator / denominator


@kernel(parallel=True)
def ssim_sum(original, palette, indices, channel, c1, c2):
    """Σ SSIM over every 7 × 7 window of one channel of ``original`` (H, W, C) uint8 and of
    its reconstruction ``palette[indices]`` (never built).

    Bands of window rows run in parallel.  A band keeps, per column, the sums of the 7
    rows under its current window row; moving down a row adds the row entering and
    subtracts the row leaving.  Along a row, the window sums slide the same way over the
    column sums.  The sums are integers, exact in int64.
    """
    height, width = indices.shape
    side = SSIM_WINDOW
    n_rows = height - side + 1
    n_bands = (n_rows + SSIM_BAND_ROWS - 1) // SSIM_BAND_ROWS
    band_sums = np.zeros(n_bands)
    for band in prange(n_bands):
        top = band * SSIM_BAND_ROWS
        bottom = min(top + SSIM_BAND_ROWS, n_rows)
        columns = np.zeros((width, 5), dtype=np.int64)
        for y in range(top, top + side - 1):
            _add_row(columns, original, palette, indices, channel, y, 1)
        total = 0.0
        for y in range(top, bottom):
            _add_row(columns, original, palette, indices, channel, y + side - 1, 1)
            sx = sy = sxx = syy = sxy = 0
            for x in range(width):
                sx += columns[x, 0]
                sy += columns[x, 1]
                sxx += columns[x, 2]
                syy += columns[x, 3]
                sxy += columns[x, 4]
                if x >= side - 1:
                    total += _window_ssim(sx, sy, sxx, syy, sxy, c1, c2)
                    left = x - side + 1
                    sx -= columns[left, 0]
                    sy -= columns[left, 1]
                    sxx -= columns[left, 2]
                    syy -= columns[left, 3]
                    sxy -= columns[left, 4]
            _add_row(columns, original, palette, indices, channel, y, -1)
        band_sums[band] = total
    return band_sums.sum()


@kernel
def _add_row(columns, original, palette, indices, channel, y, sign):
    """Add (sign 1) or remove (−1) row ``y``'s x, y, x², y², xy to the column sums."""
    for x in range(indices.shape[1]):
        a = np.int64(original[y, x, channel])
        b = np.int64(palette[indices[y, x], channel])
        columns[x, 0] += sign * a
        columns[x, 1] += sign * b
        columns[x, 2] += sign * a * a
        columns[x, 3] += sign * b * b
        columns[x, 4] += sign * a * b


def ssim(original, palette, indices):
    """Mean SSIM of ``original`` (H, W, C) uint8 and ``palette[indices]``, averaged over the
    color channels (gray for C ≤ 2), as ``skimage.metrics.structural_similarity``."""
    n_color = 3 if original.shape[2] >= 3 else 1
    height, width = indices.shape
    if min(height, width) < SSIM_WINDOW:  # no whole window fits
        rebuilt = palette[indices][:, :, :n_color]
        return 1.0 if np.array_equal(original[:, :, :n_color], rebuilt) else float("nan")
    c1, c2 = (SSIM_K1 * 255.0) ** 2, (SSIM_K2 * 255.0) ** 2
    n_windows = (height - SSIM_WINDOW + 1) * (width - SSIM_WINDOW + 1)
    palette = np.ascontiguousarray(palette)
    means = [
        ssim_sum(original, palette, indices, channel, c1, c2) / n_windows
        for channel in range(n_color)
    ]
    return float(np.mean(means))


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
