"""From a palette back to pixels: each pixel's entry, by lookup or by error diffusion.

Without dithering a pixel takes the entry of its distinct color's K-Means cluster: a
lookup, no distance computed per pixel.  With dithering, selective Floyd–Steinberg error
diffusion (after libimagequant's idea, our own formulation): each pixel takes the entry
nearest to its color plus a share of the error its neighbors passed on, and passes its
own error on to the pixels not yet visited.  The share is per pixel: whole where the
undithered image would show a flat band of one entry, little on edges and in texture,
where the error is hidden by the image itself and diffusing it only adds noise (and
bytes).
"""

import numpy as np

from .._engine import kernel
from ._alpha import TRANSPARENT, alpha_classes, entries_allowed
from ._quality_scale import libimagequant_error
from ._working_space import _SPACES, to_working_space

#: The share of the error it received that a pixel takes at full dithering (level 1):
#: libimagequant's 15/16, which keeps error from building up over flat areas.
DIFFUSED_SHARE = 15 / 16

#: A pixel whose squared error (summed over the channels, sRGB 0..255) is above this passes
#: on only 3/4 of it, so a color the palette lacks does not spread into streaks of far-off
#: entries.  libimagequant's bound: its error at quality 35, ≈ 144.
LARGE_ERROR = libimagequant_error(35) * 255.0**2

#: The local contrast (a second difference, sRGB 0..255 levels) at which a pixel takes
#: half of the error it received: an edge of that height or texture that strong hides
#: the error of the undithered entry, and dithering there only adds noise.
HALF_DITHER_CONTRAST = 16.0

#: A taken error (squared, summed over the channels, sRGB 0..255) below this is not
#: applied at all: under 1.4 levels in one channel, invisible, but it would speckle an
#: area the palette matches and cost bytes (libimagequant's threshold).
SMALLEST_ERROR = 2.0


@kernel
def selective_floyd_steinberg(
    color_coords,
    classes,
    inverse,
    labels,
    height,
    width,
    palette,
    allowed,
    level,
    contrast,
    large,
    smallest,
):
    """Indices of selective Floyd–Steinberg error diffusion of an image onto ``palette``.

    The pixel in row y, column x (i = y·width + x) has the working-space coordinates
    I(y, x) = ``color_coords[inverse[i]]`` (its distinct color's), the alpha class
    ``classes[inverse[i]]`` and the undithered entry u(y, x) = ``labels[inverse[i]]``.
    Rows are visited in a serpentine (even rows left to right, odd rows right to left,
    "ahead" being the direction of the row).

    **How much error a pixel takes**, its dither weight m ∈ [0, 1], from its 3 × 3
    neighborhood N (coordinates clamped to the image):

        flat = #{(y', x') ∈ N other than (y, x) : u(y', x') = u(y, x)} / 8
        κ    = max over the channels of max(|I(y, x−1) + I(y, x+1) − 2 I(y, x)|,
                                            |I(y−1, x) + I(y+1, x) − 2 I(y, x)|)
        m    = flat / (1 + κ / ``contrast``)

    ``flat`` is 1 inside an area the undithered image paints with one entry (a band:
    what dithering is for) and low where the entries already change from pixel to pixel
    (texture dithers itself); κ, the largest second difference, is 0 on a smooth
    gradient and large on an edge or noise, where diffused error makes jagged edges
    and speckles.  Nothing of the image is stored: both come from the neighbors' rows.

    **Diffusion.**  With r the error the pixel received, d = ``level`` · m · r is the
    part it takes (d = 0 when |d|² < ``smallest``: no speckle over an area the palette
    matches); the rest is dropped, so error does not cross an edge.  Its value
    v = I(y, x) + d, clamped to the palette's bounding box, takes the nearest entry p
    among those its class is ``allowed`` (:func:`nearest_allowed`; u(y, x) as first
    guess), and
    it passes on

        e = (v − p) · (3/4 if |v − p|² > ``large`` else 1)

    (7/16 e ahead, 3/16 below behind, 5/16 below, 1/16 below ahead).  With m = 1
    everywhere this is plain Floyd–Steinberg at ``level``.  Transparent pixels neither
    take nor pass on error.  Only two rows of received error are kept, so the memory is
    O(width).
    """
    n_channels = color_coords.shape[1]
    low = np.empty(n_channels)
    high = np.empty(n_channels)
    for c in range(n_channels):
        low[c], high[c] = palette[:, c].min(), palette[:, c].max()
    by_first = np.argsort(palette[:, 0])
    first_sorted = palette[by_first, 0].copy()
    indices = np.empty((height, width), dtype=np.int32)
    received = np.zeros((width + 2, n_channels))
    next_row = np.zeros((width + 2, n_channels))
    value = np.empty(n_channels)
    error = np.empty(n_channels)
    for y in range(height):
        ahead = 1 if y % 2 == 0 else -1
        up, down = max(y - 1, 0) * width, min(y + 1, height - 1) * width
        for step in range(width):
            x = step if ahead == 1 else width - 1 - step
            left, right = max(x - 1, 0), min(x + 1, width - 1)
            row = inverse[y * width + x]
            pixel_class = classes[row]
            undithered = labels[row]
            if pixel_class == TRANSPARENT:
                for c in range(n_channels):
                    value[c] = color_coords[row, c]
                indices[y, x] = nearest_allowed(
                    value, palette, allowed[pixel_class], by_first, first_sorted, undithered
                )
                continue
            weight = dither_weight(
                color_coords,
                inverse,
                labels,
                row,
                undithered,
                y * width,
                up,
                down,
                x,
                left,
                right,
                contrast,
            )
            taken = 0.0
            for c in range(n_channels):
                value[c] = received[x + 1, c] * level * weight
                taken += value[c] * value[c]
            if taken < smallest:
                for c in range(n_channels):
                    value[c] = 0.0
            for c in range(n_channels):
                value[c] = min(max(color_coords[row, c] + value[c], low[c]), high[c])
            best = nearest_allowed(
                value, palette, allowed[pixel_class], by_first, first_sorted, undithered
            )
            indices[y, x] = best
            squared = 0.0
            for c in range(n_channels):
                error[c] = value[c] - palette[best, c]
                squared += error[c] * error[c]
            share = 1.0 if squared <= large else 0.75
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
def dither_weight(
    color_coords, inverse, labels, row, undithered, here, up, down, x, left, right, contrast
):
    """m = flat / (1 + κ / ``contrast``) of :func:`selective_floyd_steinberg` for the pixel
    at offset ``here + x`` (distinct color ``row``, undithered entry ``undithered``),
    ``up``/``down`` the offsets of the rows above and below, ``left``/``right`` the
    columns beside (all clamped to the image)."""
    same = -1  # the pixel itself is in its neighborhood
    for offset in (up, here, down):
        for column in (left, x, right):
            if labels[inverse[offset + column]] == undithered:
                same += 1
    a, b = inverse[here + left], inverse[here + right]
    above, below = inverse[up + x], inverse[down + x]
    kappa = 0.0
    for c in range(color_coords.shape[1]):
        twice = 2.0 * color_coords[row, c]
        across = abs(color_coords[a, c] + color_coords[b, c] - twice)
        along = abs(color_coords[above, c] + color_coords[below, c] - twice)
        kappa = max(kappa, across, along)
    return same / 8.0 / (1.0 + kappa / contrast)


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
    entry beyond it on that side, and the walk stops there.  ``guess`` (a likely entry:
    the pixel's undithered one) gives the first bound.
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
    scale = span / 255.0
    indices = selective_floyd_steinberg(
        to_working_space(histogram.colors, color_space),
        alpha_classes(histogram.colors),
        histogram.inverse,
        labels.astype(np.int32),
        height,
        width,
        to_working_space(palette, color_space),
        entries_allowed(palette),
        float(dither) * DIFFUSED_SHARE,
        HALF_DITHER_CONTRAST * scale,
        LARGE_ERROR * scale**2,
        SMALLEST_ERROR * scale**2,
    )
    return indices.astype(dtype)
