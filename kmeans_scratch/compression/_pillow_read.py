"""Reading any image Pillow can decode (see :mod:`._io`, which reads the common PNG
without it).

Reading turns every mode into 8-bit channels: RGB, RGBA, L (gray) or LA (gray + alpha);
applies the EXIF orientation; keeps the ICC profile; takes the first frame of an animation;
and refuses, before decoding, an image larger than the decompression-bomb limit.
Pillow's warnings about a file (a corrupt EXIF block, say) become notes of the report.
"""

import io
import os
import struct
import warnings

import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from ._image import (
    MAX_ICC_PROFILE_BYTES,
    MAX_PNG_CHUNK_BYTES,
    ImageError,
    LoadedImage,
    check_memory,
    check_pixels,
    mode_of,
    over_the_limit,
)
from ._png_read import SIGNATURE as PNG_SIGNATURE


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
    return LoadedImage(pixels, mode_of(pixels.shape[2]), icc_profile, notes=notes)


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


def decode_with_pillow(source, name, max_pixels, max_memory):
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


def declared_pixels(path):
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
