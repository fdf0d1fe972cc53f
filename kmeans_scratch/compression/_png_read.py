"""Reading the common PNG without Pillow: 8-bit gray, gray + alpha, RGB or RGBA, not
interlaced, with no chunk that changes the pixels or what the report says of them.

Pillow's import takes about 19 ms of the command's start, a sixth of pngquant's whole
run on a 768 × 512 photo.  Such a PNG, the most common kind, is read here instead: its
chunks walked and their checksums checked, its IDAT data inflated (by libdeflate, about
twice as fast as zlib) into filtered rows, and the filters undone (:func:`unfiltered`):
8.5 ms for a 768 × 512 RGB photo, where Pillow took 13.4 (Kodak 01).  Anything else
returns None and Pillow reads the file, with its messages: another color type or bit
depth, interlacing, a color key (tRNS), EXIF or XMP (from which Pillow may turn the
image), an animation, an ICC profile too large to keep, a critical chunk besides the
image's, a damaged file.  The pixels are Pillow's, byte for byte
(``tests/test_png_read.py``).

A row of a PNG is a filter type byte, then the row's bytes, each stored as its difference
from a prediction made from the bytes already decoded: with a the byte one pixel to the
left, b the byte above, c the byte above and to the left (0 outside the image),

    type 0: 0,  1: a,  2: b,  3: ⌊(a + b) / 2⌋,  4: Paeth(a, b, c),

where Paeth takes whichever of a, b, c is nearest to a + b − c (ties in that order), and
every sum is taken modulo 256.
"""

import struct
import zlib

import deflate
import numpy as np

from .._engine import kernel

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Channels of the 8-bit color types read here: gray, RGB, gray + alpha, RGBA.
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}
#: Ancillary chunks from which Pillow makes transparency (tRNS), an orientation (eXIf) or
#: an animation (APNG's): a file with one is left to it.  Pillow ignores the other
#: ancillary chunks (those whose type begins with a lowercase letter), as this reader
#: does, except an ICC profile and text.
LEFT_TO_PILLOW = {b"tRNS", b"eXIf", b"acTL", b"fcTL", b"fdAT"}
TEXT_CHUNKS = {b"tEXt", b"zTXt", b"iTXt"}
#: Text keywords whose EXIF or XMP Pillow reads an orientation from.
ORIENTING_KEYWORDS = {b"Raw profile type exif", b"XML:com.adobe.xmp"}


#: Pillow's mode of each color type (at any bit depth), for the memory estimate.
MODES = {0: "L", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}


def png_header(data):
    """(width, height, Pillow's mode) from the header of the PNG file whose first bytes
    are ``data``, or None if they are not a PNG's."""
    if len(data) < 26 or data[:8] != SIGNATURE or data[12:16] != b"IHDR":
        return None
    width, height, _, color_type = struct.unpack(">IIBB", data[16:26])
    return width, height, MODES.get(color_type, "RGBA")


def readable_kind(header):
    """Whether the file whose first bytes are ``header`` (29 at least) is a PNG of the kind
    :func:`read_png` reads, as its IHDR chunk declares: 8-bit gray, gray + alpha, RGB or
    RGBA, not interlaced, with pixels.  Another file goes to Pillow without being read
    here first."""
    if len(header) < 29 or header[:8] != SIGNATURE or header[8:16] != b"\0\0\0\x0dIHDR":
        return False
    width, height, depth, color_type, method, filtering, interlace = struct.unpack(
        ">IIBBBBB", header[16:29]
    )
    return (
        width > 0
        and height > 0
        and depth == 8
        and color_type in CHANNELS
        and (method, filtering, interlace) == (0, 0, 0)
    )


def read_png(data, max_icc_bytes, max_chunk_bytes):
    """``(pixels, icc_profile)`` of the PNG file ``data`` (bytes): (H, W, C) uint8 and the
    ICC profile's bytes (or None), or None where Pillow should read it (see the module's
    docstring).  A profile over ``max_icc_bytes`` (which the reader converts through, with
    Pillow), or a compressed profile over ``max_chunk_bytes``, is left to Pillow too."""
    chunks = png_chunks(data)
    if chunks is None or chunks[-1][0] != b"IEND" or not readable_kind(data):
        return None  # readable_kind: the first chunk is IHDR, checked by png_chunks
    width, height, _, color_type = struct.unpack(">IIBB", data[16:26])
    channels = CHANNELS[color_type]
    icc_profile, idat, idat_ended = None, [], False
    for kind, body in chunks[1:-1]:
        if kind == b"IDAT":
            if idat_ended:
                return None  # IDAT chunks must follow one another
            idat.append(body)
            continue
        idat_ended = bool(idat)
        if kind == b"iCCP":
            icc_profile = inflated_profile(body, max_icc_bytes, max_chunk_bytes)
            if icc_profile is None:
                return None
        elif kind in TEXT_CHUNKS:
            if bytes(body[:80]).split(b"\0", 1)[0] in ORIENTING_KEYWORDS:
                return None
        elif kind in LEFT_TO_PILLOW or not kind[:1].islower():  # or critical (PLTE, say)
            return None
    row_bytes = width * channels
    filtered = inflated(b"".join(idat), height * (row_bytes + 1))
    if filtered is None:
        return None
    rows, bad_row = unfiltered(np.frombuffer(filtered, dtype=np.uint8), height, row_bytes, channels)
    if bad_row >= 0:
        return None
    return rows.reshape(height, width, channels), icc_profile


def png_chunks(data):
    """[(type, body)] of the PNG file ``data`` up to its IEND (each body a memoryview of
    ``data``), or None if it has no PNG signature, a chunk runs past the end of the data,
    or a checksum is wrong."""
    if data[:8] != SIGNATURE:
        return None
    chunks, at, view = [], 8, memoryview(data)
    while at + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        end = at + 8 + length
        if end + 4 > len(data):
            return None
        (crc,) = struct.unpack(">I", data[end : end + 4])
        if deflate.crc32(view[at + 4 : end]) != crc:
            return None
        chunks.append((kind, view[at + 8 : end]))
        if kind == b"IEND":
            return chunks
        at = end + 4
    return None


def inflated(stream, size):
    """The ``size`` bytes (a bytearray) of the zlib ``stream``, or None unless it holds
    exactly those and its checksum is right.  Bytes after the stream are ignored, as
    Pillow ignores them."""
    try:
        out = deflate.zlib_decompress(stream, size)
    except deflate.DeflateError:
        return None
    return out if len(out) == size else None


def inflated_profile(body, max_icc_bytes, max_chunk_bytes):
    """The ICC profile of an iCCP chunk's ``body`` (a name, 0, the method 0, the zlib
    stream), or None if it is malformed or larger than the limits."""
    name, _, rest = bytes(body).partition(b"\0")
    if not rest or rest[0] != 0 or not 1 <= len(name) <= 79:
        return None
    inflater = zlib.decompressobj()
    try:
        profile = inflater.decompress(rest[1:], max_chunk_bytes + 1)
    except zlib.error:
        return None
    if len(profile) > min(max_icc_bytes, max_chunk_bytes) or not inflater.eof:
        return None
    return profile


@kernel
def unfiltered(filtered, height, row_bytes, channels):
    """``(rows, bad_row)``: the (H, row_bytes) bytes of the ``filtered`` rows (each its
    filter type, then ``row_bytes`` bytes; see the module's docstring), and −1, or the
    first row whose filter type is not 0 … 4 (the rows from it on undefined)."""
    rows = np.zeros((height, row_bytes), dtype=np.uint8)
    zero_row = np.zeros(row_bytes, dtype=np.uint8)
    for y in range(height):
        start = y * (row_bytes + 1) + 1
        kind = filtered[start - 1]
        line = filtered[start : start + row_bytes]
        above = rows[y - 1] if y > 0 else zero_row
        out = rows[y]
        if kind == 0:
            out[:] = line
        elif kind == 1:
            out[:channels] = line[:channels]
            for x in range(channels, row_bytes):
                out[x] = line[x] + out[x - channels]
        elif kind == 2:
            for x in range(row_bytes):
                out[x] = line[x] + above[x]
        elif kind == 3:
            for x in range(channels):
                out[x] = line[x] + (above[x] >> 1)
            for x in range(channels, row_bytes):
                out[x] = line[x] + ((np.int32(out[x - channels]) + above[x]) >> 1)
        elif kind == 4:
            for x in range(channels):
                out[x] = line[x] + above[x]  # Paeth(0, b, 0) is b
            for x in range(channels, row_bytes):
                out[x] = line[x] + paeth(out[x - channels], above[x], above[x - channels])
        else:
            return rows, y
    return rows, -1


@kernel(inline="always")
def paeth(left, above, upper_left):
    """Of ``left``, ``above``, ``upper_left`` the nearest to left + above − upper_left."""
    a, b, c = np.int32(left), np.int32(above), np.int32(upper_left)
    estimate = a + b - c
    to_a, to_b, to_c = abs(estimate - a), abs(estimate - b), abs(estimate - c)
    if to_a <= to_b and to_a <= to_c:
        return left
    if to_b <= to_c:
        return above
    return upper_left
