"""Encoding a palette image: an indexed PNG (1, 2, 4 or 8 bits, tRNS for alpha, written
by :mod:`._png` or, at the slow speeds, by oxipng), a GIF, or a lossless WebP, as bytes
(:func:`encode`).  :mod:`._output` writes them to a file.
"""

import io

import numpy as np
import oxipng

from . import _png
from ._alpha import GIF_ALPHA_THRESHOLD, has_alpha
from ._speed import (
    DEFAULT_SPEED,
    FULL_EFFORT_PIXELS,
    LARGE_DEFLATE_LEVEL,
    ONE_PASS_DEFLATE_LEVEL,
    ONE_PASS_MAX_PIXELS,
    effort,
)

FORMATS = ("png", "gif", "webp")
#: The largest width or height each format can hold (PNG's, 2^31 − 1, is out of reach).
MAX_SIDE = {"gif": 65_535, "webp": 16_383}
PALETTE_FORMATS = ("png", "gif")
MAX_PALETTE_COLORS = 256

#: oxipng's filter search works row by row: above this many rows (a 100,000 × 1 image
#: took 6 s at speed 1) a PNG gets the one fast pass whatever its size.
FULL_EFFORT_ROWS = 8192


def one_pass_level(n_pixels, speed, n_rows=1):
    """libdeflate's level where a PNG's rows are deflated once, unfiltered, by
    :mod:`._png` (on every core), or None where oxipng searches filters and a palette
    order (speeds up to 3, for images of up to ``FULL_EFFORT_PIXELS`` and
    ``FULL_EFFORT_ROWS``).  Larger images get the one pass: at speeds up to 3 at the
    speed's level (the smallest files, as asked), from 4 at most
    ``ONE_PASS_DEFLATE_LEVEL`` (``LARGE_DEFLATE_LEVEL`` above ``ONE_PASS_MAX_PIXELS``), so
    that writing a PNG stays linear and cheap."""
    plan = effort(speed)
    if n_pixels > FULL_EFFORT_PIXELS or n_rows > FULL_EFFORT_ROWS:
        if plan.palette_order_search:  # speeds 1-3
            return plan.deflate_level
        most = ONE_PASS_DEFLATE_LEVEL if n_pixels <= ONE_PASS_MAX_PIXELS else LARGE_DEFLATE_LEVEL
        return min(plan.deflate_level, most)
    if plan.oxipng_level is None and plan.filters == ("NoOp",) and not plan.palette_order_search:
        return plan.deflate_level
    return None


def oxipng_options(speed):
    """oxipng's options for the search of ``speed`` (where :func:`one_pass_level` is None)."""
    plan = effort(speed)
    if plan.oxipng_level is not None:
        return {"level": plan.oxipng_level}
    return {
        "level": 0,
        "filter": [getattr(oxipng.RowFilter, name) for name in plan.filters],
        "deflate": oxipng.Deflaters.libdeflater(plan.deflate_level),
        "fast_evaluation": True,
        "palette_reduction": plan.palette_order_search,
    }


def indexed_png(palette, indices, icc_profile=None, speed=DEFAULT_SPEED, keep_palette=False):
    """The bytes of an indexed PNG of ``palette`` (k ≤ 256, C channels) and (H, W)
    ``indices`` with the effort of ``speed``: at the smallest bit depth, with a tRNS chunk
    for alpha (up to the last translucent entry) and the ICC profile as iCCP.  The palette
    loses the entries no pixel uses, unless ``keep_palette``.

    Written by :mod:`._png` (one unfiltered pass, deflated by parts on every core), or,
    where the speed searches (see :func:`one_pass_level`), by oxipng from the raw indices,
    which may also reorder the palette unless ``keep_palette``."""
    if not keep_palette:
        palette, indices = used_entries_only(palette, indices)
    indices = np.ascontiguousarray(indices, dtype=np.uint8)
    level = one_pass_level(indices.size, speed, indices.shape[0])
    if level is not None:
        return _png.indexed_png(rgba_entries(palette), indices, level, icc_profile)
    options = oxipng_options(speed)
    options["palette_reduction"] = not keep_palette and options.get("palette_reduction", True)
    entries = [tuple(entry) for entry in rgba_entries(palette).tolist()]
    raw = oxipng.RawImage(
        indices.tobytes(),
        indices.shape[1],
        indices.shape[0],
        color_type=oxipng.ColorType.indexed(entries),
        bit_depth=8,
    )
    if icc_profile:
        raw.add_icc_profile(icc_profile)
    return raw.create_optimized_png(
        color_type_reduction=False,
        grayscale_reduction=False,
        strip=oxipng.StripChunks.safe(),
        **options,
    )


def rgba_entries(palette):
    """The (k, C) uint8 ``palette`` as (k, 4) uint8 r, g, b, a: gray repeated in r, g and
    b, alpha 255 where it has none (a PNG's tRNS then ends at the last entry below 255)."""
    rgb = palette[:, :3] if palette.shape[1] >= 3 else np.repeat(palette[:, :1], 3, axis=1)
    alpha = palette[:, -1:] if has_alpha(palette.shape[1]) else np.full((len(palette), 1), 255)
    return np.hstack([rgb, alpha]).astype(np.uint8)


#: Indices counted at once by :func:`entries_in_use` (``np.bincount`` widens them to
#: 8 bytes each: a whole 24-megapixel image at once would take 190 MiB).
COUNT_CHUNK = 1 << 22


def entries_in_use(indices, n_entries):
    """(n_entries,) bool: whether any of ``indices`` (any shape) points at each entry."""
    flat = indices.ravel()
    used = np.zeros(n_entries, dtype=bool)
    for start in range(0, flat.shape[0], COUNT_CHUNK):
        used |= np.bincount(flat[start : start + COUNT_CHUNK], minlength=n_entries) > 0
    return used


def used_entries_only(palette, indices):
    """``(palette, indices)`` without the entries no index points at, the translucent ones
    (alpha below 255) first, each group in its order, the indices renumbered (unchanged
    when every entry is used and none needs moving): a PNG's tRNS chunk then ends at the
    last translucent entry."""
    n_entries = palette.shape[0]
    kept = np.flatnonzero(entries_in_use(indices, n_entries))
    if has_alpha(palette.shape[1]):
        translucent = palette[kept, -1] < 255
        kept = np.concatenate([kept[translucent], kept[~translucent]])
    if kept.shape[0] == n_entries and (kept == np.arange(n_entries)).all():
        return palette, indices
    renumber = np.zeros(n_entries, dtype=indices.dtype)
    renumber[kept] = np.arange(kept.shape[0])
    return palette[kept], renumber[indices]


def palette_image(palette, indices, mode):
    """A Pillow "P" image for (k, C) ``palette`` and (H, W) ``indices``; alpha → tRNS."""
    from PIL import Image  # the GIF writer's: a PNG needs no Pillow

    image = Image.fromarray(np.asarray(indices, dtype=np.uint8), "P")
    entries = rgba_entries(palette)
    image.putpalette(entries[:, :3].ravel().tolist())
    if mode in ("LA", "RGBA"):
        image.info["transparency"] = bytes(entries[:, 3].tolist())
    return image


def gif_transparency(palette, indices):
    """GIF's one transparent index, for a palette with alpha: the entries whose alpha is
    below ``GIF_ALPHA_THRESHOLD`` become one transparent entry (the first of them, which
    every pixel of the others takes), the rest are opaque.

    Returns ``(indices, transparent index or None)``.
    """
    below = np.flatnonzero(palette[:, -1] < GIF_ALPHA_THRESHOLD)
    if below.size == 0:
        return indices, None
    renumber = np.arange(palette.shape[0], dtype=indices.dtype)
    renumber[below] = below[0]
    return renumber[indices], int(below[0])


def encode(palette, indices, mode, fmt, icc_profile=None, speed=DEFAULT_SPEED, keep_palette=False):
    """The file bytes of a quantized image in format ``fmt`` ("png", "gif" or "webp"),
    compressed with the effort of ``speed`` (1 slowest and smallest, 11 fastest).

    A PNG's palette loses the entries no pixel uses, unless ``keep_palette`` (a palette
    shared by many files stays whole and in order in each).  A GIF keeps it whole."""
    if fmt in PALETTE_FORMATS and palette.shape[0] > MAX_PALETTE_COLORS:
        raise ValueError(
            f"{palette.shape[0]} colors cannot be a {fmt.upper()} palette (at most 256); "
            "use --format webp or fewer colors"
        )
    side_limit = MAX_SIDE.get(fmt)
    if side_limit and max(indices.shape) > side_limit:
        height, width = indices.shape
        raise ValueError(
            f"a {fmt.upper()} is at most {side_limit:,} pixels a side, this image is "
            f"{width:,} × {height:,}; use --format png / format='png'"
        )
    if fmt == "png":
        return indexed_png(palette, indices, icc_profile, speed, keep_palette)
    buffer = io.BytesIO()
    extra = {"icc_profile": icc_profile} if icc_profile else {}
    if fmt == "gif":
        if mode in ("LA", "RGBA"):
            indices, transparent = gif_transparency(palette, indices)
            if transparent is not None:
                extra["transparency"] = transparent
        image = palette_image(palette, indices, mode)
        image.info.pop("transparency", None)
        image.save(buffer, "GIF", optimize=False, **extra)
        return buffer.getvalue()
    if fmt == "webp":
        from PIL import Image

        pixels = palette[indices]
        image = Image.fromarray(pixels if pixels.shape[2] != 1 else pixels[:, :, 0], mode)
        image.save(
            buffer, "WEBP", lossless=True, quality=100, method=effort(speed).webp_method, **extra
        )
        return buffer.getvalue()
    raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
