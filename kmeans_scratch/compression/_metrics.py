"""How much quality a quantization lost, and how much space it saved.

Every measure reads the original pixels, the palette and the index of each pixel; none
makes a float copy of the image, so measuring a 24-megapixel photo costs a few bytes per
pixel at most.

- **PSNR** = 10 log₁₀(255² / MSE), the mean squared error over every pixel and color
  channel of what a viewer sees (:func:`seen_error_sum`): with alpha, the image
  composited over black and over white, the mean of the two.  Computed exactly from the
  histogram: a pixel's error depends only on its color and its palette entry, so
  MSE = Σ_pairs count · error(color, entry) / (N·C) over the distinct (color, entry)
  pairs, C the color channels (3, or 1 for gray).
- **SSIM**: the mean structural similarity of Wang et al. (2004) over 7 × 7 windows, as
  scikit-image's ``structural_similarity`` defines it (uniform window, sample covariance,
  data range 255), on the straight color channels (gray for L/LA images).  Computed by a streaming
  kernel from exact integer window sums (scikit-image is its test oracle).  An image
  too small for 7 × 7 takes the largest odd square window that fits (3 or 5), and one
  with a side under 3 one window covering the whole image (the global SSIM).
- **ΔE**: the mean CIEDE2000 color difference between each pixel and its reconstruction,
  also over distinct (color, entry) pairs, by a parallel kernel that follows
  scikit-image's ``rgb2lab`` and ``deltaE_ciede2000`` (its test oracle).  About 1 is the
  just noticeable difference; above 5 colors look different.
- **sizes**: input file bytes, output bytes, their ratio, output bits per pixel.
"""

import numpy as np

from .._engine import kernel, prange
from ._alpha import color_channels
from ._color_difference import pair_delta_e_sum

#: The quality measures a quantization reports, each computed only when asked for.
QUALITY_MEASURES = ("psnr", "ssim", "delta_e")

#: SSIM's window side, and its constants K1, K2 (scikit-image's defaults).  A smaller
#: image takes a smaller window (see :func:`ssim_window`).
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


def pixel_pairs(histogram, indices, labels=None):
    """The distinct (color row, palette entry) pairs of an image and their pixel counts.

    ``labels``, when given, is each distinct color's entry, taken by every pixel of that
    color (no dithering): the pairs are then the colors themselves, with no pass over
    the pixels."""
    if labels is not None:
        rows = np.arange(histogram.colors.shape[0])
        return rows, labels.astype(np.int64), histogram.counts.astype(np.int64)
    return distinct_pairs(histogram.inverse, indices.ravel(), histogram.counts)


def psnr_of_pairs(colors, pairs, palette):
    """PSNR (dB) of the pixels described by ``pairs`` (see :func:`pixel_pairs`): every
    color channel of every pixel as seen, MSE = Σ count · error(color, entry) / (N · C)
    (:func:`seen_error_sum`)."""
    rows, entries, counts = pairs
    squared_error = seen_error_sum(colors, rows, entries, counts, np.ascontiguousarray(palette))
    mse = squared_error / (counts.sum() * color_channels(colors.shape[1]))
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


@kernel
def seen_error_sum(colors, rows, entries, counts, palette):
    """Σ count · e(color, entry) over the pairs (``rows`` of the (m, C) uint8 ``colors``,
    ``entries`` of the ``palette``, ``counts`` pixels each), e the squared error a viewer
    sees, summed over the color channels.

    Opaque: e = ‖c − p‖².  With alpha (α = a / 255), a color shows α·c + (1 − α)·b over a
    background b, so the error is u = α_c·c − α_p·p over black and u + (α_p − α_c)·255
    over white: e is the mean of the two squares, per channel.  A pixel nearly invisible
    has a small error whatever its color; opaque pixels give ‖c − p‖² exactly.
    """
    n_channels = colors.shape[1]
    with_alpha = n_channels % 2 == 0  # gray + alpha, RGBA
    n_color = n_channels - 1 if with_alpha else n_channels
    total = 0.0
    for p in range(rows.shape[0]):
        color, entry = colors[rows[p]], palette[entries[p]]
        error = 0.0
        if with_alpha:
            alpha, entry_alpha = color[n_color] / 255.0, entry[n_color] / 255.0
            for c in range(n_color):
                over_black = alpha * color[c] - entry_alpha * entry[c]
                over_white = over_black + (entry_alpha - alpha) * 255.0
                error += (over_black * over_black + over_white * over_white) / 2.0
        else:
            for c in range(n_color):
                diff = np.float64(color[c]) - np.float64(entry[c])
                error += diff * diff
        total += counts[p] * error
    return total


def psnr(histogram, palette, indices):
    """PSNR (dB) of the reconstruction ``palette[indices]``, from distinct pairs."""
    return psnr_of_pairs(histogram.colors, pixel_pairs(histogram, indices), palette)


def mean_delta_e_of_pairs(colors, pairs, palette):
    """Mean CIEDE2000 ΔE between each pixel described by ``pairs`` (see
    :func:`pixel_pairs`) and its palette entry."""
    rows, entries, counts = pairs
    delta_e_sum = pair_delta_e_sum(colors, rows, entries, counts, np.ascontiguousarray(palette))
    return float(delta_e_sum / counts.sum())


def mean_delta_e(histogram, palette, indices):
    """Mean CIEDE2000 ΔE between each pixel and its reconstruction, from distinct pairs."""
    return mean_delta_e_of_pairs(histogram.colors, pixel_pairs(histogram, indices), palette)


@kernel
def ssim_window(height, width):
    """SSIM's window (rows, columns) on a ``height`` × ``width`` image: 7 × 7 when it
    fits; else the largest odd square that fits, s × s with s = m or m − 1 (odd),
    m = min(height, width) ≥ 3; else (a side under 3) the whole image, one window."""
    side = min(height, width)
    if side >= SSIM_WINDOW:
        return SSIM_WINDOW, SSIM_WINDOW
    if side >= 3:
        odd = side - 1 + side % 2
        return odd, odd
    return height, width


@kernel
def _variance_scale(n):
    """1 / (P (P − 1)) for a window of P = ``n`` pixels (see :func:`_window_ssim`), 0 for
    P = 1: one pixel has no variance."""
    return 1.0 / (float(n) * (n - 1.0)) if n > 1 else 0.0


@kernel
def _window_ssim(p, scale, sx, sy, sxx, syy, sxy, c1, c2):
    """SSIM of one window from its integer sums Σx, Σy, Σx², Σy², Σxy over P = ``p``
    pixels (a float), ``scale`` = 1 / (P (P − 1)) (:func:`_variance_scale`).

    μ = Σx / P;  σx² = (P Σx² − (Σx)²) / (P (P − 1)) (the sample variance; σx² = 0 for
    P = 1); likewise σy², σxy.  Then
    SSIM = (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)).

    The products are taken in float64: exact, as in int64, while P² · 255² < 2⁵³ (any
    window up to 360,000 pixels, so 7 × 7 gives the exact integer value rounded once),
    and without int64's overflow past about 12 million (a whole-image window).
    """
    sx, sy, sxx, syy, sxy = float(sx), float(sy), float(sxx), float(syy), float(sxy)
    mean_x, mean_y = sx / p, sy / p
    var_x = (p * sxx - sx * sx) * scale
    var_y = (p * syy - sy * sy) * scale
    cov = (p * sxy - sx * sy) * scale
    numerator = (2 * mean_x * mean_y + c1) * (2 * cov + c2)
    denominator = (mean_x * mean_x + mean_y * mean_y + c1) * (var_x + var_y + c2)
    return numerator / denominator


@kernel(parallel=True)
def ssim_sum(original, palette, indices, channel, c1, c2):
    """Σ SSIM over every window (see :func:`ssim_window`: 7 × 7 unless the image is
    smaller) of one channel of ``original`` (H, W, C) uint8 and of its reconstruction
    ``palette[indices]`` (never built).

    Bands of window rows run in parallel.  A band keeps, per column, the sums of the
    window's rows under its current window row; moving down a row adds the row entering
    and subtracts the row leaving.  Along a row, the window sums slide the same way over
    the column sums.  An image as tall as its window has one row of windows: the column
    sums are taken as the window reaches and leaves each column, none kept.  The sums
    are integers, exact in int64.
    """
    height, width = indices.shape
    rows, cols = ssim_window(height, width)
    p, scale = float(rows * cols), _variance_scale(rows * cols)
    n_rows = height - rows + 1
    if n_rows == 1:
        return _one_row_ssim_sum(original, palette, indices, channel, cols, c1, c2)
    n_bands = (n_rows + SSIM_BAND_ROWS - 1) // SSIM_BAND_ROWS
    band_sums = np.zeros(n_bands)
    for band in prange(n_bands):
        top = band * SSIM_BAND_ROWS
        bottom = min(top + SSIM_BAND_ROWS, n_rows)
        columns = np.zeros((width, 5), dtype=np.int64)
        for y in range(top, top + rows - 1):
            _add_row(columns, original, palette, indices, channel, y, 1)
        total = 0.0
        for y in range(top, bottom):
            _add_row(columns, original, palette, indices, channel, y + rows - 1, 1)
            sx = sy = sxx = syy = sxy = 0
            for x in range(width):
                sx += columns[x, 0]
                sy += columns[x, 1]
                sxx += columns[x, 2]
                syy += columns[x, 3]
                sxy += columns[x, 4]
                if x >= cols - 1:
                    total += _window_ssim(p, scale, sx, sy, sxx, syy, sxy, c1, c2)
                    left = x - cols + 1
                    sx -= columns[left, 0]
                    sy -= columns[left, 1]
                    sxx -= columns[left, 2]
                    syy -= columns[left, 3]
                    sxy -= columns[left, 4]
            _add_row(columns, original, palette, indices, channel, y, -1)
        band_sums[band] = total
    return band_sums.sum()


@kernel
def _one_row_ssim_sum(original, palette, indices, channel, cols, c1, c2):
    """Σ SSIM over the windows of an image exactly as tall as its window (H × ``cols``,
    one row of windows), sliding along x: each column's sums Σx, Σy, Σx², Σy², Σxy over
    the H rows are added as the window reaches it and subtracted as it leaves, in the
    order :func:`ssim_sum`'s bands take them (the same bits)."""
    height, width = indices.shape
    p, scale = float(height * cols), _variance_scale(height * cols)
    sums = np.zeros(5, dtype=np.int64)
    total = 0.0
    for x in range(width):
        _add_column(sums, original, palette, indices, channel, x, 1)
        if x >= cols - 1:
            sx, sy, sxx, syy, sxy = sums[0], sums[1], sums[2], sums[3], sums[4]
            total += _window_ssim(p, scale, sx, sy, sxx, syy, sxy, c1, c2)
            _add_column(sums, original, palette, indices, channel, x - cols + 1, -1)
    return total


@kernel
def _add_column(sums, original, palette, indices, channel, x, sign):
    """Add (sign 1) or remove (−1) column ``x``'s Σx, Σy, Σx², Σy², Σxy to ``sums``."""
    for y in range(indices.shape[0]):
        a = np.int64(original[y, x, channel])
        b = np.int64(palette[indices[y, x], channel])
        sums[0] += sign * a
        sums[1] += sign * b
        sums[2] += sign * a * a
        sums[3] += sign * b * b
        sums[4] += sign * a * b


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
    color channels (gray for C ≤ 2), as ``skimage.metrics.structural_similarity`` with
    the window of :func:`ssim_window` (7 × 7 unless the image is smaller)."""
    n_color = color_channels(original.shape[2])
    height, width = indices.shape
    c1, c2 = (SSIM_K1 * 255.0) ** 2, (SSIM_K2 * 255.0) ** 2
    rows, cols = ssim_window.py_func(height, width)  # in Python: no kernel to start
    n_windows = (height - rows + 1) * (width - cols + 1)
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
