"""Transparency, as libimagequant treats it.

A pixel's alpha puts it in one of three classes: **transparent** (alpha 0), **translucent**
(1–254) or **opaque** (255).  The rules every quantization here keeps:

- A transparent pixel's color cannot be seen: it is set to 0 before anything else, so
  all transparent pixels are one color, and the palette spends one entry, (0, 0, 0, 0),
  on all of them whatever their RGB was.  Alpha 0 stays 0, and a visible pixel never
  takes that entry, at every k ≥ 2 (dithering included).
- Colors are compared by what a viewer sees (see ``to_working_space``): the error of
  one shown for the other, composited over black and over white.  Two colors that are
  almost invisible are almost alike, whatever their RGB, and the palette goes where
  the eye sees.
- An image without translucent pixels keeps alpha 255 (opaque entries only: its visible
  pixels are quantized as if alone).  With translucent pixels, an opaque pixel may share
  a nearly opaque entry with translucent ones, as in libimagequant, when that is the
  least error seen: an entry apart for them would cost the rest of the image more.
- GIF has no partial alpha, one transparent index at most: for a GIF, pixels whose alpha
  is below ``GIF_ALPHA_THRESHOLD`` become transparent and the others opaque, before the
  quantization.
"""

import numpy as np

from .._engine import kernel

TRANSPARENT, TRANSLUCENT, OPAQUE = 0, 1, 2

#: For GIF: alpha below this is transparent, from it up opaque (pngquant's and Pillow's 128).
GIF_ALPHA_THRESHOLD = 128


def has_alpha(n_channels):
    """Whether pixels of ``n_channels`` channels carry alpha (gray + alpha, RGBA)."""
    return n_channels in (2, 4)


def color_channels(n_channels):
    """How many of ``n_channels`` channels are color: 3 (RGB, RGBA) or 1 (gray, gray +
    alpha)."""
    return 3 if n_channels >= 3 else 1


def alpha_classes(colors):
    """(m,) int8: the class of each of the (m, C) uint8 ``colors``; all opaque without alpha."""
    if not has_alpha(colors.shape[1]):
        return np.full(colors.shape[0], OPAQUE, dtype=np.int8)
    alpha = colors[:, -1]
    classes = np.full(colors.shape[0], TRANSLUCENT, dtype=np.int8)
    classes[alpha == 0] = TRANSPARENT
    classes[alpha == 255] = OPAQUE
    return classes


def invisible_colors_cleared(pixels):
    """(H, W, C) uint8 ``pixels`` with the color of every transparent pixel set to 0 (a
    copy, or ``pixels`` itself when there is nothing to clear)."""
    if not has_alpha(pixels.shape[-1]):
        return pixels
    colors = np.ascontiguousarray(pixels.reshape(-1, pixels.shape[-1]))
    if not any_invisible_color(colors):
        return pixels
    cleared = colors.copy() if np.shares_memory(colors, pixels) else colors
    clear_invisible_colors(cleared)
    return cleared.reshape(pixels.shape)


@kernel
def any_invisible_color(colors):
    """Whether any of the (m, C) uint8 ``colors`` is transparent (alpha, its last channel,
    0) with a color channel that is not 0."""
    alpha_channel = colors.shape[1] - 1
    for i in range(colors.shape[0]):
        if colors[i, alpha_channel] == 0:
            for c in range(alpha_channel):
                if colors[i, c] != 0:
                    return True
    return False


@kernel
def clear_invisible_colors(colors):
    """Set every channel of each transparent color of the (m, C) uint8 ``colors`` to 0, in
    place."""
    alpha_channel = colors.shape[1] - 1
    for i in range(colors.shape[0]):
        if colors[i, alpha_channel] == 0:
            colors[i, :alpha_channel] = 0


def has_partial_alpha(pixels):
    """Whether any pixel of ``pixels`` is neither transparent nor opaque."""
    if not has_alpha(pixels.shape[-1]):
        return False
    alpha = pixels[..., -1]
    return bool(((alpha > 0) & (alpha < 255)).any())


def alpha_for_gif(pixels):
    """``pixels`` with alpha below ``GIF_ALPHA_THRESHOLD`` made 0 and the rest 255 (a copy;
    ``pixels`` itself without alpha)."""
    if not has_alpha(pixels.shape[-1]):
        return pixels
    binary = pixels.copy()
    binary[..., -1] = np.where(pixels[..., -1] < GIF_ALPHA_THRESHOLD, 0, 255)
    return binary


def entries_allowed(palette):
    """(3, k) bool: the palette entries a pixel of each class may take when dithering.

    A transparent pixel the transparent entries, a visible pixel (translucent or opaque)
    the visible ones; a class the palette has no entry for may take any entry.
    """
    visible = alpha_classes(palette) != TRANSPARENT
    allowed = np.ones((3, palette.shape[0]), dtype=np.bool_)
    if (~visible).any():
        allowed[TRANSPARENT] = ~visible
    if visible.any():
        allowed[TRANSLUCENT] = allowed[OPAQUE] = visible
    return allowed
