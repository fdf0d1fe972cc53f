"""From a palette back to pixels: each pixel's entry, by lookup or by error diffusion.

Without dithering a pixel takes the entry of its distinct color's K-Means cluster: a
lookup, no distance computed per pixel.  With dithering, Floyd–Steinberg error diffusion
as libimagequant does it: each pixel takes the entry nearest to its color plus the error
its neighbors passed on, and passes its own error on to the pixels not yet visited.
"""

import numpy as np

from .._kernels import kernel
from ._alpha import TRANSPARENT, alpha_classes, entries_allowed
from ._palette import _SPACES, to_working_space
from ._quality_scale import libimagequant_error

#: The share of a pixel's error that full dithering (level 1) passes on: libimagequant's
#: 15/16, which keeps error from building up over flat areas.
DIFFUSED_SHARE = 15 / 16

#: A pixel whose squared error (summed over the channels, sRGB 0..255) is above this passes
#: on only 3/4 of its usual share, so a color the palette lacks does not spread into
#: streaks of far-off entries.  libimagequant's bound: its error at quality 35, ≈ 144.
LARGE_ERROR = libimagequant_error(35) * 255.0**2


@kernel
def floyd_steinberg(color_coords, classes, inverse, height, width, palette, allowed, level, large):
    """Indices of Floyd–Steinberg error diffusion of an image onto ``palette``.

    Pixel i has the working-space coordinates ``color_coords[inverse[i]]`` (its distinct
    color's) and the alpha class ``classes[inverse[i]]``.  Rows are visited in a serpentine:
    even rows left to right, odd rows right to left, "ahead" being the direction of the
    row.  A pixel's value v is its color plus the error it received, clamped to the
    palette's bounding box (an error cannot ask for a color beyond every entry); it takes
    the nearest entry p among those its class is ``allowed`` (:func:`nearest_allowed`),
    and passes on

        e = (v − p) · level · (3/4 if |v − p|² > large else 1)

    (7/16 e ahead, 3/16 below behind, 5/16 below, 1/16 below ahead).  Transparent pixels
    neither keep nor pass on error.  Only two rows of received error are kept (this row's
    and the next's, one column of padding on each side), so the memory is O(width).
    """
    n_channels = color_coords.shape[1]
    low = np.empty(n_channels)
    high = np.empty(n_channels)
    for c in range(n_channels):
        low[c], high[c] = palette[:, c].min(), palette[:, c].max()
    by_first = np.argsort(palette[:, 0])
    first_sorted = palette[by_first, 0].copy()
    last = 0
    indices = np.empty((height, width), dtype=np.int32)
    received = np.zeros((width + 2, n_channels))
    next_row = np.zeros((width + 2, n_channels))
    value = np.empty(n_channels)
    error = np.empty(n_channels)
    for y in range(height):
        ahead = 1 if y % 2 == 0 else -1
        for step in range(width):
            x = step if ahead == 1 else width - 1 - step
            row = inverse[y * width + x]
            pixel_class = classes[row]
            for c in range(n_channels):
                value[c] = min(max(color_coords[row, c] + received[x + 1, c], low[c]), high[c])
            best = nearest_allowed(
                value, palette, allowed[pixel_class], by_first, first_sorted, last
            )
            indices[y, x] = best
            last = best
            if pixel_class == TRANSPARENT:
                continue
            squared = 0.0
            for c in range(n_channels):
                error[c] = value[c] - palette[best, c]
                squared += error[c] * error[c]
            share = level if squared <= large else level * 0.75
            for c in range(n_channels):
                passed = error[c] * share
                received[x + 1 + ahead, c] += passed * (7 / 16)
                next_row[x + 1 - ahead, c] += passed * (3 / 16)
                next_row[x + 1, c] += passed * (5 / 16)
                next_row[x + 1 + ahead, c] += passed * (1 / 16)
        received, next_row = next_row, received
        next_row[:] = 0.0
    return indices


@kernel(inline="always")
def squared_distance(value, palette, j):
    sq = 0.0
    for c in range(value.shape[0]):
        diff = value[c] - palette[j, c]
        sq += diff * diff
    return sq


@kernel(inline="always")
def nearest_allowed(value, palette, allowed, by_first, first_sorted, guess):
    """The allowed entry nearest to ``value`` (the lowest index among equals).

    The entries are walked in the order of their first coordinate (``by_first``, whose
    first coordinates are ``first_sorted``), outwards from the value's: once an entry's
    first coordinate alone is farther than the best squared distance found, so is every
    entry beyond it on that side, and the walk stops there.  ``guess`` (the last pixel's
    entry: neighbors are alike) gives the first bound.
    """
    best, best_sq = -1, np.inf
    if allowed[guess]:
        best, best_sq = guess, squared_distance(value, palette, guess)
    n_entries = first_sorted.shape[0]
    start = np.searchsorted(first_sorted, value[0])
    for direction in (1, -1):
        position = start if direction == 1 else start - 1
        while 0 <= position < n_entries:
            gap = first_sorted[position] - value[0]
            if gap * gap > best_sq:
                break
            j = by_first[position]
            if allowed[j]:
                sq = squared_distance(value, palette, j)
                if sq < best_sq or (sq == best_sq and j < best):
                    best, best_sq = j, sq
            position += direction
    return best


def index_dtype(n_entries):
    """The smallest unsigned integer type that numbers ``n_entries`` palette entries."""
    return np.uint8 if n_entries <= 256 else np.uint16


def pixel_indices(pixels, histogram, palette, labels, color_space, dither):
    """The (H, W) palette index of every pixel (uint8, or uint16 past 256 entries): by
    lookup of its distinct color's entry, or by dithering at level ``dither`` (0 none,
    1 the whole of ``DIFFUSED_SHARE`` diffused)."""
    height, width = pixels.shape[:2]
    dtype = index_dtype(palette.shape[0])
    if not dither:
        return histogram.entries_of_pixels(labels.astype(dtype)).reshape(height, width)
    span = _SPACES[color_space][2]
    indices = floyd_steinberg(
        to_working_space(histogram.colors, color_space),
        alpha_classes(histogram.colors),
        histogram.inverse,
        height,
        width,
        to_working_space(palette, color_space),
        entries_allowed(palette),
        float(dither) * DIFFUSED_SHARE,
        LARGE_ERROR * (span / 255.0) ** 2,
    )
    return indices.astype(dtype)
