"""Reading an image file: the common PNG by :mod:`._png_read`, anything else by Pillow.

A PNG of 8-bit gray, gray + alpha, RGB or RGBA, not interlaced and up to
``OWN_READER_MAX_PIXELS``, is read without importing Pillow (about 19 ms of the command's
start, a sixth of pngquant's whole run on a 768 × 512 photo), into the same pixels; every
other file, and every PNG that reader leaves (see :mod:`._png_read`), goes to Pillow
(:mod:`._pillow_read`), which turns any mode into 8-bit channels, applies the EXIF
orientation, keeps the ICC profile and takes the first frame of an animation.  Either way
the size is checked before decoding (:mod:`._image`).  :mod:`._encode` makes the palette
files' bytes, :mod:`._output` writes them.
"""

import io
from pathlib import Path

from ._image import (
    DEFAULT_MAX_PIXELS,
    MAX_ICC_PROFILE_BYTES,
    MAX_PNG_CHUNK_BYTES,
    ImageError,
    LoadedImage,
    check_memory,
    check_pixels,
    mode_of,
)
from ._png_read import png_header, read_png, readable_kind

#: The largest PNG read without Pillow, in pixels: the whole file, its inflated rows and
#: the pixels are in memory at once, where Pillow decodes in bands; beyond this size
#: Pillow's import is a small part of the time (as the command's other choices at 4
#: megapixels, see ``_pool.PARALLEL_FILES_MAX_PIXELS``).
OWN_READER_MAX_PIXELS = 4_000_000
#: Enough of a PNG file to hold its header (signature, IHDR).
HEADER_BYTES = 33


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
    """The :class:`LoadedImage` of ``source`` (a regular file's path, a FIFO's or a device's,
    or a binary file in memory), checked first."""
    data = common_png_bytes(source)
    if data is not None:
        width, height, mode = png_header(data)
        try:
            check_pixels((width, height), max_pixels)
            check_memory((width, height), mode, max_memory)
        except ImageError as error:
            raise ImageError(f"{name}: {error}") from None
        read = read_png(data, MAX_ICC_PROFILE_BYTES, MAX_PNG_CHUNK_BYTES)
        del data  # where Pillow reads the file again, not beside this copy of it
        if read is not None:
            pixels, icc_profile = read
            return LoadedImage(pixels, mode_of(pixels.shape[2]), icc_profile)
    from ._pillow_read import decode_with_pillow

    return decode_with_pillow(source, name, max_pixels, max_memory)


def common_png_bytes(source):
    """The bytes of ``source`` if its header declares a PNG that
    :func:`._png_read.read_png` reads (:func:`._png_read.readable_kind`) of at most
    ``OWN_READER_MAX_PIXELS``, and it can be read twice (a regular file, or bytes in
    memory: Pillow reads it again where ``read_png`` leaves it), else None."""
    if isinstance(source, io.BytesIO):
        data = source.getvalue()
        return data if is_common_png(data[:HEADER_BYTES]) else None
    try:
        if not Path(source).is_file():
            return None
        with open(source, "rb") as file:
            header = file.read(HEADER_BYTES)
            if not is_common_png(header):
                return None
            return header + file.read()
    except OSError:  # Pillow says why
        return None


def is_common_png(header):
    """Whether ``header`` declares a PNG that our reader takes, of at most
    ``OWN_READER_MAX_PIXELS``."""
    return readable_kind(header) and pixels_in_header(header) <= OWN_READER_MAX_PIXELS


def pixels_in_header(header):
    """The pixels a PNG ``header`` declares, 0 if it is not a PNG's."""
    declared = png_header(header)
    return 0 if declared is None else declared[0] * declared[1]


def image_pixels(path):
    """The number of pixels the image file ``path`` declares (its header only, nothing
    decoded), or 0 when it cannot be read: the full load reports why."""
    try:
        with open(path, "rb") as file:
            pixels = pixels_in_header(file.read(HEADER_BYTES))
    except OSError:
        return 0
    if pixels:
        return pixels
    from ._pillow_read import declared_pixels

    return declared_pixels(path)
