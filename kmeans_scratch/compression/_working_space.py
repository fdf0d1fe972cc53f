"""The space where colors are compared, and the way back to 8-bit colors.

The distinct colors are measured in sRGB, CIELAB or Oklab (``COLOR_SPACES``).  With alpha,
a color goes to the point where a squared distance is the error a viewer sees over black
and over white (:func:`to_working_space`, where the algebra is); the fit's centers come
back as 8-bit entries by :func:`from_working_space`.
"""

import warnings

import numpy as np

from .._engine import kernel
from ._alpha import color_channels, has_alpha

COLOR_SPACES = ("rgb", "lab", "oklab")

#: The weight β of the error seen over black in the error of a translucent color, the
#: rest, 1 − β, over white (see :func:`to_working_space`).  Measured against pngquant on
#: 15 translucent photos of both shared sets at k = 16, 64, 256 (45 cells; the five of
#: ``benchmarks/translucency.py`` and ten more, docs/compressor.md): at ½, the mean of the
#: two, ours was ahead over black in every cell but behind over white in 11 (by up to
#: 0.61 dB); at 0.47 behind over white in 4, all at k = 16 (by up to 0.26 dB), ahead over
#: black in every cell, with the same mean of the two errors.
BLACK_BACKGROUND_WEIGHT = 0.47

# Oklab (Björn Ottosson, 2020): linear sRGB → LMS → cube root → Lab.
_OKLAB_M1 = np.array(
    [
        [0.4122214708, 0.5363325363, 0.0514459929],
        [0.2119034982, 0.6806995451, 0.1073969566],
        [0.0883024619, 0.2817188376, 0.6299787005],
    ]
)
_OKLAB_M2 = np.array(
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ]
)


def srgb_to_linear(srgb):
    """sRGB in [0, 1] → linear light (IEC 61966-2-1)."""
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear):
    """Linear light → sRGB in [0, 1]."""
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def rgb_to_oklab(rgb):
    """8-bit sRGB (…, 3) → Oklab (L in [0, 1])."""
    lms = srgb_to_linear(rgb / 255.0) @ _OKLAB_M1.T
    return np.cbrt(lms) @ _OKLAB_M2.T


def oklab_to_rgb(oklab):
    """Oklab → sRGB in [0, 255] (float, clipped to the gamut)."""
    lms = (oklab @ np.linalg.inv(_OKLAB_M2).T) ** 3
    return linear_to_srgb(lms @ np.linalg.inv(_OKLAB_M1).T) * 255.0


def rgb_to_lab(rgb):
    """8-bit sRGB (…, 3) → CIELAB (D65), by scikit-image (imported only for this space)."""
    from skimage.color import rgb2lab

    return rgb2lab(rgb / 255.0)


def lab_to_rgb(lab):
    """CIELAB → sRGB in [0, 255] (float), by scikit-image; out of the gamut, clipped
    without its warning (a center may lie out of it, and is clipped as in the other spaces)."""
    from skimage.color import lab2rgb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return lab2rgb(lab) * 255.0


#: Per space: sRGB→space, space→sRGB, and the span of its lightness axis.
_SPACES = {
    "rgb": (lambda rgb: rgb.astype(np.float64), lambda x: x, 255.0),
    "lab": (rgb_to_lab, lab_to_rgb, 100.0),
    "oklab": (rgb_to_oklab, oklab_to_rgb, 1.0),
}


def to_working_space(colors, color_space):
    """(m, C) uint8 colors → float64 coordinates for clustering.

    C is 3 (RGB), 4 (RGBA), 1 (gray) or 2 (gray + alpha).  Gray is the sRGB gray level in
    "rgb", or the lightness of that gray in "lab"/"oklab".

    With alpha, the squared distance between two colors is the error a viewer sees when
    one is shown for the other, over a black background with weight β and over a white
    one with weight 1 − β (β = ``BLACK_BACKGROUND_WEIGHT``).  Over a background b, a color
    c of opacity α = alpha / 255 shows α·c + (1 − α)·b.  Black is the space's origin and
    white is w, so between two colors the difference is u = Δ(α·c) over black and
    u − Δα·w over white, and per channel

        β u² + (1 − β)(u − Δα·w)² = (u − (1 − β)·Δα·w)² + β(1 − β)·(Δα·w)²,

    the squared distance between the points

        (c, alpha) → (α·c + (1 − α)·g,  α·s),   g = (1 − β)·w,  s = √(β(1 − β))·‖w‖,

    summed over the channels: the color composited over the gray g, and the opacity
    scaled by s (:func:`alpha_frame`).  Exact in "rgb" (w = (255, 255, 255)); in "lab"
    and "oklab" the blend is taken as linear in the space.  An invisible color cannot be
    told from another, a faint one little, and a translucent one is judged over both
    backgrounds.  A K-Means center is the mean of such points: the entry of least error
    for its colors.  An opaque color's coordinates are its color, bit for bit, and s.  A
    transparent color is put at the origin: it is a class apart, never compared with a
    visible one (:mod:`._alpha`).
    """
    forward = _SPACES[color_space][0]
    n_color = color_channels(colors.shape[1])
    rgb = colors[:, :3] if n_color == 3 else np.repeat(colors[:, :1], 3, axis=1)
    coords = forward(rgb.astype(np.float64))
    if n_color == 1:  # a copy: the kernels that take the coordinates take C-ordered arrays
        coords = np.ascontiguousarray(coords[:, :1])
    if has_alpha(colors.shape[1]):
        gray, scale = alpha_frame(color_space, n_color)
        coords = over_gray(np.ascontiguousarray(coords), colors, gray, scale)
    return coords


@kernel
def over_gray(coords, colors, gray, scale):
    """(m, n + 1): the (m, n) ``coords`` of the (m, C) uint8 ``colors`` composited over the
    ``gray`` (n,) by each color's opacity α = alpha / 255 (its last channel), and α scaled
    by ``scale``: (α·x + (1 − α)·g, α·s) (see :func:`to_working_space`).  A transparent
    color is put at the origin."""
    n_rows, n_coords = coords.shape
    alpha_channel = colors.shape[1] - 1
    out = np.zeros((n_rows, n_coords + 1))
    for i in range(n_rows):
        alpha = colors[i, alpha_channel]
        if alpha == 0:
            continue
        opacity = alpha / 255.0
        for c in range(n_coords):
            out[i, c] = opacity * coords[i, c] + (1.0 - opacity) * gray[c]
        out[i, n_coords] = opacity * scale
    return out


def alpha_frame(color_space, n_color):
    """``(gray, scale)`` of :func:`to_working_space`: g = (1 − β)·w, the gray between black
    (the origin) and white (w) in the space, as (n_color,), and s = √(β(1 − β))·‖w‖."""
    white = _SPACES[color_space][0](np.full((1, 3), 255.0))[0, :n_color]
    black_weight = BLACK_BACKGROUND_WEIGHT
    spread = np.sqrt(black_weight * (1.0 - black_weight))
    return (1.0 - black_weight) * white, spread * float(np.linalg.norm(white))


def from_working_space(coords, n_channels, color_space):
    """Inverse of :func:`to_working_space`, rounded to uint8 (out-of-gamut colors clipped;
    a fully transparent color is (0, …, 0)).  With alpha, α = clip(y / scale, 0, 1) and
    c = (x − (1 − α)·gray) / α."""
    backward = _SPACES[color_space][1]
    color = coords
    if has_alpha(n_channels):
        gray, scale = alpha_frame(color_space, coords.shape[1] - 1)
        opacity = np.clip(coords[:, -1:] / scale, 0.0, 1.0)
        color = (coords[:, :-1] - (1.0 - opacity) * gray) / np.where(opacity > 0, opacity, 1.0)
    if color.shape[1] == 3:
        rgb = backward(color)
    elif color_space == "rgb":
        rgb = color
    else:  # a lightness: back through the neutral color (L, 0, 0)
        neutral = np.hstack([color, np.zeros((color.shape[0], 2))])
        rgb = backward(neutral)[:, :1]
    out = [rgb]
    if has_alpha(n_channels):
        out.append(opacity * 255.0)
    rounded = np.clip(np.rint(np.hstack(out)), 0, 255).astype(np.uint8)
    if has_alpha(n_channels):
        rounded[rounded[:, -1] == 0] = 0
    return rounded
