"""Reading any image Pillow can decode.

Reading turns every mode into 8-bit channels: RGB, RGBA, L (gray) or LA (gray + alpha);
applies the EXIF orientation; keeps the ICC profile; takes the first frame of an animation;
and refuses, before decoding, an image larger than the decompression-bomb limit.
Pillow's warnings about a file (a corrupt EXIF block, say) become notes of the report.
:mod:`._encode` makes the palette files' bytes, :mod:`._output` writes them.
"""

import io
import os
import struct
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from ._histogram import uses_key_table

#: Default decompression-bomb limit, in pixels (Pillow's own default is about 89 million).
DEFAULT_MAX_PIXELS = 100_000_000

#: The most a compressed PNG chunk (an iCCP profile, a zTXt or iTXt text) may decompress
#: to while an image is read.  Pillow's default, 1 MiB, refuses valid files: camera and
#: printer ICC profiles of a few MB exist (and pngquant reads them).  Still a bound, so a
#: zlib bomb hidden in a chunk is refused before it takes memory.
MAX_PNG_CHUNK_BYTES = 32 * 1024 * 1024


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


def _mode_of(n_channels):
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
        loaded, pixels=with_channels(loaded.pixels, n_channels), mode=_mode_of(n_channels)
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
    return LoadedImage(np.ascontiguousarray(array), _mode_of(array.shape[2]))


def from_pil(image, icc_profile=None, notes=None):
    """A Pillow image, in any mode, as a :class:`LoadedImage` of 8-bit channels."""
    notes = [] if notes is None else notes
    icc_profile = icc_profile if icc_profile is not None else image.info.get("icc_profile")
    mode = image.mode
    if mode == "CMYK":
        image, icc_profile = _cmyk_to_rgb(image, icc_profile)
        notes.append("CMYK converted to RGB")
    elif mode == "P":
        has_alpha = "transparency" in image.info or image.palette.mode == "RGBA"
        image = image.convert("RGBA" if has_alpha else "RGB")
    elif mode == "PA":
        image = image.convert("RGBA")
    elif mode in ("L", "RGB") and image.info.get("transparency") is not None:
        image = image.convert("LA" if mode == "L" else "RGBA")  # PNG's color key (tRNS)
    elif mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        image = wide_gray_to_8_bits(image, notes)
    elif mode == "F":
        image = Image.fromarray(float_gray_to_8_bits(image, notes), "L")
    elif mode == "LAB":
        from PIL import ImageCms  # color management: imported by the images that need it

        image = ImageCms.applyTransform(image, _lab_to_srgb())
        icc_profile = None  # the CIELAB profile does not describe the sRGB output
        notes.append("CIELAB converted to sRGB")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in mode else ("L" if mode == "1" else "RGB"))
    if icc_profile and len(icc_profile) > MAX_ICC_PROFILE_BYTES:
        image, icc_profile = _to_srgb_without(image, icc_profile, notes)
    if 0 in image.size:
        raise ImageError("the image has no pixels")
    pixels = pixels_of(image)
    return LoadedImage(pixels, _mode_of(pixels.shape[2]), icc_profile, notes=notes)


def decodes_16_bits(image):
    """Whether Pillow will decode ``image`` (not loaded yet: the tiles go at ``load()``)
    from 16-bit samples, as a PNG or a TIFF of 16-bit RGB(A), which it opens as 8-bit
    'RGB' or 'RGBA' (the tiles' raw mode says)."""
    return any(";16" in str(tile[3]) for tile in getattr(image, "tile", None) or ())


#: The most bytes of pixels :func:`pixels_of` copies out of Pillow at once.
BAND_BYTES = 4 << 20


def pixels_of(image):
    """(H, W, C) uint8, the pixels of a Pillow image in mode L, LA, RGB or RGBA.

    Copied a band of rows at a time: ``np.asarray(image)`` would first gather the whole
    image's bytes, and Pillow joins them from chunks, two copies of the image beside
    its own (which holds RGB in 4 bytes a pixel)."""
    width, height = image.size
    n_channels = len(image.getbands())
    pixels = np.empty((height, width, n_channels), dtype=np.uint8)
    band_rows = max(1, BAND_BYTES // (width * n_channels))
    for top in range(0, height, band_rows):
        bottom = min(top + band_rows, height)
        band = image.crop((0, top, width, bottom))
        pixels[top:bottom] = np.asarray(band, dtype=np.uint8).reshape(bottom - top, width, -1)
    return pixels


#: The largest ICC profile written into an output.  A profile can outweigh the pixels of
#: a palette file many times (camera and printer profiles reach megabytes), and Pillow
#: reads no PNG profile over 1 MiB back ("Decompressed data too large"); a larger one is
#: applied instead: the pixels are converted to sRGB through it, and it is not kept.
MAX_ICC_PROFILE_BYTES = 64 * 1024


def _to_srgb_without(image, icc_profile, notes):
    """``image`` converted to sRGB through its (large) ``icc_profile``, which is dropped;
    if the profile cannot be read, the pixels stay as they are and the profile is dropped
    all the same.  The notes say which."""
    from PIL import ImageCms

    size = f"{len(icc_profile):,}-byte ICC profile"
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        target = ImageCms.createProfile("sRGB")
        if image.mode in ("L", "LA"):  # gray profiles: convert the gray as RGB
            image = image.convert("RGBA" if image.mode == "LA" else "RGB")
        converted = ImageCms.profileToProfile(image, source, target, outputMode=image.mode)
        limit = f"over {MAX_ICC_PROFILE_BYTES // 1024} KiB"
        notes.append(f"converted to sRGB through its {size}, which is not kept ({limit})")
        return converted, None
    except (ImageCms.PyCMSError, OSError, ValueError):
        notes.append(f"its {size} was dropped: too large to keep and unreadable")
        return image, None


def wide_gray_to_8_bits(image, notes):
    """A 16- or 32-bit integer gray image ('I;16…', 'I') as an 'L' image, or 'LA' where a
    color key (PNG's tRNS) marks a gray value transparent.  16-bit levels are divided by
    257 (palette entries hold 8-bit values); 32-bit values outside 0..65535 are stretched
    from their minimum to their maximum instead, as they would otherwise clip."""
    values = np.asarray(image, dtype=np.int64)
    low, high = int(values.min()), int(values.max())
    if image.mode != "I" or (low >= 0 and high <= 65535):
        levels = np.rint(values / 257.0)
        notes.append("16-bit gray reduced to 8 bits")
    else:
        levels = np.rint((values - low) * (255.0 / (high - low) if high > low else 0.0))
        notes.append(f"32-bit gray in [{low}, {high}] stretched to 0..255")
    gray = np.clip(levels, 0, 255).astype(np.uint8)
    key = image.info.get("transparency")
    if not isinstance(key, int):
        return Image.fromarray(gray, "L")
    alpha = np.where(values == key, 0, 255).astype(np.uint8)
    return Image.fromarray(np.stack([gray, alpha], axis=-1), "LA")


def float_gray_to_8_bits(image, notes):
    """A floating-point gray image ('F') as uint8 levels, scaled by its real range: values
    in [0, 1] are fractions of white (× 255), values in [0, 255] are levels already, any
    other range is stretched from its minimum to its maximum.  NaN or infinity is refused."""
    values = np.asarray(image, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ImageError("floating-point pixels with NaN or infinity")
    low, high = float(values.min()), float(values.max())
    if low >= 0 and high <= 1:
        values = values * 255.0
        notes.append("floating-point gray in [0, 1] scaled to 0..255")
    elif not (low >= 0 and high <= 255):
        values = (values - low) * (255.0 / (high - low)) if high > low else values * 0.0
        notes.append(f"floating-point gray in [{low:g}, {high:g}] stretched to 0..255")
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _lab_to_srgb():
    """The transform of Pillow's 'LAB' images (D50 CIELAB, 8 bits) to sRGB."""
    from PIL import ImageCms

    return ImageCms.buildTransformFromOpenProfiles(
        ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"
    )


def _cmyk_to_rgb(image, icc_profile):
    """CMYK through its ICC profile to sRGB when it has one, else Pillow's formula."""
    from PIL import ImageCms

    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            return converted, None
        except (ImageCms.PyCMSError, OSError):
            pass
    return image.convert("RGB"), None


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


#: The EXIF tag of a photo's orientation (1: as stored; 2–8: mirrored and/or turned).
EXIF_ORIENTATION = 0x0112

#: What decoding a damaged file raises: OSError or EOFError when the data ends early; the
#: others come from Pillow's parsers on a corrupt header, the ones its ``Image.open`` takes
#: for "not this format" (a truncated animated GIF raises IndexError or struct.error when
#: its frames are counted).
CORRUPT_FILE_ERRORS = (
    OSError,
    EOFError,
    SyntaxError,
    ValueError,
    IndexError,
    TypeError,
    struct.error,
)


def load(path, max_pixels=DEFAULT_MAX_PIXELS, max_memory=None):
    """Decode the image file ``path``; raises :class:`ImageError` naming what is wrong.

    Before decoding, the image's size is checked against ``max_pixels`` (a decompression
    bomb) and its estimated memory against ``max_memory`` bytes (default: the memory
    available), so a too large image is refused, not killed mid-way.
    """
    path = Path(path)
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image")
    try:
        source_bytes = path.stat().st_size
    except OSError as error:
        raise ImageError(f"{path}: {error.strerror}") from None
    if source_bytes == 0 and path.is_file():
        raise ImageError(f"{path}: an empty file, not an image")
    loaded = _decode(path, path, max_pixels, max_memory)
    loaded.source_bytes = source_bytes
    loaded.source_path = path
    return loaded


def load_bytes(data, name="<stdin>", max_pixels=DEFAULT_MAX_PIXELS, max_memory=None):
    """Decode the bytes of an image file (standard input, say), as :func:`load` does; the
    messages call it ``name``."""
    if not data:
        raise ImageError(f"{name}: empty, no image came")
    loaded = _decode(io.BytesIO(data), name, max_pixels, max_memory)
    loaded.source_bytes = len(data)
    return loaded


def _decode(source, name, max_pixels, max_memory):
    """The :class:`LoadedImage` of ``source`` (a path or a binary file), checked first."""
    try:
        with _bomb_limit(max_pixels) as limit, open_image(source) as image:
            check_pixels(image.size, max_pixels)
            check_memory(image.size, image.mode, max_memory)
            notes = []
            n_frames = getattr(image, "n_frames", 1)
            if n_frames > 1:
                notes.append(f"first of {n_frames} frames kept ({n_frames - 1} dropped)")
            if image.mode in ("RGB", "RGBA") and decodes_16_bits(image):  # before load()
                notes.append("16-bit color reduced to 8 bits")  # Pillow keeps the high byte
            image.load()
            icc_profile = image.info.get("icc_profile")
            oriented = image
            if image.getexif().get(EXIF_ORIENTATION, 1) != 1:  # few photos: import then
                from PIL import ImageOps  # about 1 ms of the command's start otherwise

                oriented = ImageOps.exif_transpose(image, in_place=True) or image
            loaded = from_pil(oriented, icc_profile, notes)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError(f"{name}: {over_the_limit(_pixels_in(error), max_pixels)}") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image that Pillow can read") from None
    except PermissionError as error:  # the file cannot be read, whatever it holds
        raise ImageError(f"{name}: {error.strerror}") from None
    except CORRUPT_FILE_ERRORS as error:
        if isinstance(error, ImageError):
            raise ImageError(f"{name}: {error}") from None
        raise ImageError(f"{name}: truncated or corrupt image ({error})") from None
    loaded.notes.extend(note for note in limit.notes if note not in loaded.notes)
    return loaded


#: A PNG file's first bytes.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def open_image(source):
    """Pillow's image of ``source`` (a path or a seekable binary file), its header read.

    A PNG goes to Pillow's PNG reader directly: ``Image.open`` first imports the readers
    of JPEG, GIF, BMP and PPM (with the PNG writer's change, the command took 0.985 × its
    time on kodim02, farm-bench).  Any other file goes through ``Image.open``, which tries
    every format Pillow reads."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as file:
            signature = file.read(len(PNG_SIGNATURE))
    else:
        signature = source.read(len(PNG_SIGNATURE))
        source.seek(-len(signature), io.SEEK_CUR)
    if signature != PNG_SIGNATURE:
        return Image.open(source)
    try:
        return PngImagePlugin.PngImageFile(source)
    except SyntaxError:  # a header Pillow cannot read: what Image.open says of it
        raise UnidentifiedImageError(f"cannot identify image file {source!r}") from None


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


def image_pixels(path):
    """The number of pixels the image file ``path`` declares (its header only, nothing
    decoded), or 0 when it cannot be read: the full load reports why."""
    try:
        with warnings.catch_warnings(), _png_chunk_limit():
            warnings.simplefilter("ignore")
            with open_image(path) as image:
                return image.size[0] * image.size[1]
    except Exception:
        return 0


def _pixels_in(error):
    """The 'N pixels' phrase of Pillow's decompression-bomb message."""
    words = str(error).split()
    for index, word in enumerate(words):
        if word.startswith("pixels") and index > 0:
            return f"{int(words[index - 1].strip('(')):,} pixels"
    return "the image is"


class _png_chunk_limit:
    """Within the block, Pillow reads PNG chunks that decompress to up to
    ``MAX_PNG_CHUNK_BYTES`` (a larger limit already set is kept); restored after."""

    def __enter__(self):
        self.saved = PngImagePlugin.MAX_TEXT_CHUNK
        PngImagePlugin.MAX_TEXT_CHUNK = max(self.saved, MAX_PNG_CHUNK_BYTES)
        return self

    def __exit__(self, *exc):
        PngImagePlugin.MAX_TEXT_CHUNK = self.saved
        return False


class _bomb_limit:
    """Within the block, Pillow refuses images over ``max_pixels`` (warning → error),
    reads PNG chunks up to ``MAX_PNG_CHUNK_BYTES`` (see :class:`_png_chunk_limit`), and
    its UserWarnings about the file go to ``notes`` instead of stderr: the command prints
    one line per failure, and a warning is not one."""

    def __init__(self, max_pixels):
        self.max_pixels = max_pixels
        self.notes = []

    def __enter__(self):
        self.saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = self.max_pixels
        self.chunk_limit = _png_chunk_limit().__enter__()
        self.catcher = warnings.catch_warnings()
        self.catcher.__enter__()
        warnings.simplefilter("always", UserWarning)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        show = warnings.showwarning

        def keep(message, category, *args, **kwargs):
            if issubclass(category, UserWarning):
                self.notes.append(" ".join(str(message).split()))
            else:
                show(message, category, *args, **kwargs)

        warnings.showwarning = keep
        return self

    def __exit__(self, *exc):
        self.catcher.__exit__(*exc)
        self.chunk_limit.__exit__(*exc)
        Image.MAX_IMAGE_PIXELS = self.saved
        return False
