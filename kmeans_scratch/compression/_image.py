"""An image as the compressor holds it, and the limits checked before one is decoded.

A :class:`LoadedImage` holds 8-bit channels: RGB, RGBA, L (gray) or LA (gray + alpha).
Before an image is decoded, its size is checked against the decompression-bomb limit
(:func:`check_pixels`) and the memory its compression would take against what there is
(:func:`check_memory`).  :mod:`._io` reads files into it.
"""

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ._histogram import uses_key_table

#: Default decompression-bomb limit, in pixels (Pillow's own default is about 89 million).
DEFAULT_MAX_PIXELS = 100_000_000

#: The most a compressed PNG chunk (an iCCP profile, a zTXt or iTXt text) may decompress
#: to while an image is read.  Pillow's default, 1 MiB, refuses valid files: camera and
#: printer ICC profiles of a few MB exist (and pngquant reads them).  Still a bound, so a
#: zlib bomb hidden in a chunk is refused before it takes memory.
MAX_PNG_CHUNK_BYTES = 32 * 1024 * 1024

#: The largest ICC profile written into an output.  A profile can outweigh the pixels of
#: a palette file many times (camera and printer profiles reach megabytes), and Pillow
#: reads no PNG profile over 1 MiB back ("Decompressed data too large"); a larger one is
#: applied instead: the pixels are converted to sRGB through it, and it is not kept.
MAX_ICC_PROFILE_BYTES = 64 * 1024


class ImageError(ValueError):
    """An input that cannot be compressed: the message names the file and the reason."""


@dataclass
class LoadedImage:
    """Decoded pixels (H, W, C) uint8, C ∈ {1, 2, 3, 4} for L, LA, RGB, RGBA."""

    pixels: np.ndarray
    mode: str
    icc_profile: bytes | None = None
    source_bytes: int | None = None
    source_path: Path | None = None
    notes: list = field(default_factory=list)


def mode_of(n_channels):
    return {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[n_channels]


def common_channels(channel_counts):
    """The fewest channels that hold images of all ``channel_counts`` without loss: color
    (3) if any is color (3 or 4), else gray (1); plus alpha if any has alpha (2 or 4)."""
    counts = list(channel_counts)
    color = any(count >= 3 for count in counts)
    alpha = any(count % 2 == 0 for count in counts)
    return (3 if color else 1) + alpha


def with_channels(pixels, n_channels):
    """(…, C) uint8 pixels or colors widened to ``n_channels`` (see :func:`common_channels`):
    a gray level g becomes (g, g, g), a missing alpha 255 (opaque)."""
    has_alpha = pixels.shape[-1] % 2 == 0
    color = pixels[..., : pixels.shape[-1] - has_alpha]
    if n_channels >= 3 and color.shape[-1] == 1:
        color = np.repeat(color, 3, axis=-1)
    parts = [color]
    if n_channels % 2 == 0:
        alpha = pixels[..., -1:] if has_alpha else np.full_like(pixels[..., :1], 255)
        parts.append(alpha)
    return np.ascontiguousarray(np.concatenate(parts, axis=-1))


def widened(loaded, n_channels):
    """``loaded`` with its pixels widened to ``n_channels`` (itself if they have them)."""
    if loaded.pixels.shape[2] == n_channels:
        return loaded
    return replace(
        loaded, pixels=with_channels(loaded.pixels, n_channels), mode=mode_of(n_channels)
    )


def from_array(array):
    """A uint8 array (H, W), (H, W, 1..4) as a :class:`LoadedImage`."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise TypeError(f"an image array must be uint8, got {array.dtype}")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4) or 0 in array.shape[:2]:
        raise ValueError(f"an image array must be (H, W) or (H, W, 1..4), got {array.shape}")
    return LoadedImage(np.ascontiguousarray(array), mode_of(array.shape[2]))


def check_pixels(size, max_pixels):
    """Refuse an image of ``size`` (width, height) over ``max_pixels``, as ``Image.open``
    refuses the formats it opens (a PNG is opened without it, see :func:`open_image`)."""
    n_pixels = size[0] * size[1]
    if max_pixels is not None and n_pixels > max_pixels:
        raise ImageError(over_the_limit(f"{n_pixels:,} pixels", max_pixels))


def over_the_limit(pixels, max_pixels):
    """The refusal of an image of ``pixels`` ('N pixels') over the decompression-bomb limit."""
    return (
        f"{pixels} over the limit of {max_pixels:,} pixels (a decompression bomb?); "
        "raise the limit with --max-pixels / max_pixels="
    )


#: Peak memory of a compression per pixel, in bytes, above the libraries' own, with room
#: to spare: Pillow's decoded image (4 bytes a pixel) beside ours while it is copied,
#: then the pixels, each pixel's distinct color (int32, under 4 megapixels or with
#: alpha), its palette index, the encoder's buffers, and the fit on a photo's distinct
#: colors (about 100 bytes each, 1–2 million at 24 megapixels).  Measured: 10.5 at
#: 24 megapixels (1.9 million colors; benchmarks/test_large_images.py).  The radix sort
#: of the histogram (RGBA, or RGB under 4 megapixels) adds 16 bytes per pixel of
#: scratch; the RGB key table is a fixed 64 MiB.
BYTES_PER_PIXEL = 20
RADIX_BYTES_PER_PIXEL = 16
KEY_TABLE_BYTES = 64 << 20


def estimated_peak_bytes(width, height, n_channels):
    """About how much memory compressing a ``width`` × ``height`` image takes, beyond the
    interpreter and its libraries."""
    n_pixels = width * height
    uses_table = uses_key_table(n_pixels, n_channels)
    scratch = KEY_TABLE_BYTES if uses_table else RADIX_BYTES_PER_PIXEL * n_pixels
    return BYTES_PER_PIXEL * n_pixels + scratch


def available_memory():
    """Bytes of memory available to this process now (Linux's MemAvailable, else the free
    physical pages), or None when the system does not say."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(size, mode, max_memory=None):
    """Refuse, before decoding, an image whose compression would need more than
    ``max_memory`` bytes (default: the memory available now)."""
    limit, source = max_memory, "the --max-memory / max_memory limit"
    if limit is None:
        limit, source = available_memory(), "the memory available now"
        if limit is None:
            return
    n_channels = 4 if ("A" in mode or mode in ("P", "PA")) else (1 if mode in ("1", "L") else 3)
    needed = estimated_peak_bytes(size[0], size[1], n_channels)
    if needed > limit:
        raise ImageError(
            f"{size[0]}×{size[1]} pixels would need about {format_bytes(needed)} of "
            f"memory, more than {source} ({format_bytes(limit)})"
        )


def format_bytes(n_bytes):
    """``n_bytes`` as '512 KiB', '3.1 MiB', '1.5 GiB'."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n_bytes >= 1 << shift:
            return f"{n_bytes / (1 << shift):.1f} {unit}"
    return f"{n_bytes} bytes"
