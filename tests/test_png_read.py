"""The PNG reader without Pillow: Pillow's pixels byte for byte where it reads a file,
and Pillow where it does not (``kmeans_scratch/compression/_png_read.py``)."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from kmeans_scratch.compression import _io
from kmeans_scratch.compression._pillow_read import decode_with_pillow
from kmeans_scratch.compression._png_read import read_png

from .helpers import image_array

MODES = {"L": 0, "RGB": 2, "LA": 4, "RGBA": 6}
ICC_LIMIT, CHUNK_LIMIT = 64 * 1024, 32 << 20


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def forward_filtered(pixels, kinds):
    """The filtered rows of (H, W, C) uint8 ``pixels``, row y by filter ``kinds[y]``: each
    byte minus its prediction from the original bytes left (a), above (b), above left (c)."""
    height, width, channels = pixels.shape
    rows = pixels.reshape(height, width * channels).astype(np.int32)
    out = []
    for y in range(height):
        x = rows[y]
        above = rows[y - 1] if y else np.zeros_like(x)
        left = np.concatenate([np.zeros(channels, np.int32), x[:-channels]])
        upper_left = np.concatenate([np.zeros(channels, np.int32), above[:-channels]])
        estimate = left + above - upper_left
        to_a, to_b, to_c = (np.abs(estimate - v) for v in (left, above, upper_left))
        paeth = np.where(
            (to_a <= to_b) & (to_a <= to_c), left, np.where(to_b <= to_c, above, upper_left)
        )
        prediction = [0 * x, left, above, (left + above) // 2, paeth][kinds[y]]
        out.append(bytes([kinds[y]]) + ((x - prediction) % 256).astype(np.uint8).tobytes())
    return b"".join(out)


def png_file(pixels, kinds=None, extra=(), depth=8, interlace=0, idat=None):
    """A PNG of ``pixels`` (H, W, C) with ``extra`` chunks before its IDAT."""
    height, width, channels = pixels.shape
    color_type = MODES[{1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels]]
    kinds = [y % 5 for y in range(height)] if kinds is None else kinds
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, interlace)
    stream = zlib.compress(forward_filtered(pixels, kinds)) if idat is None else idat
    middle = [chunk(kind, body) for kind, body in extra]
    halves = [stream[: len(stream) // 2], stream[len(stream) // 2 :]]  # two IDAT chunks
    return b"".join(
        [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", header), *middle]
        + [chunk(b"IDAT", half) for half in halves]
        + [chunk(b"IEND", b"")]
    )


def by_pillow(data):
    return decode_with_pillow(io.BytesIO(data), "test", 10**9, None)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_every_filter_gives_pillows_pixels(channels):
    rng = np.random.default_rng(channels)
    pixels = rng.integers(0, 256, (23, 17, channels), dtype=np.uint8)
    pixels[5:15] = pixels[5:6]  # rows alike, as a photo's, beside noise
    for kinds in ([0] * 23, [1] * 23, [2] * 23, [3] * 23, [4] * 23, None):
        data = png_file(pixels, kinds)
        read = read_png(data, ICC_LIMIT, CHUNK_LIMIT)
        assert read is not None
        assert np.array_equal(read[0], pixels)
        assert np.array_equal(read[0], by_pillow(data).pixels)
        assert read[1] is None


def test_photos_pillow_wrote_read_alike():
    """Pillow's writer picks a filter per row: a photo of each mode, through the reader
    the command uses, against Pillow's reading of the same bytes."""
    for mode in ("L", "LA", "RGB", "RGBA"):
        photo = Image.fromarray(image_array("china")[::4, ::4]).convert(mode)
        buffer = io.BytesIO()
        photo.save(buffer, "PNG")
        data = buffer.getvalue()
        assert read_png(data, ICC_LIMIT, CHUNK_LIMIT) is not None
        ours = _io.load_bytes(data)
        theirs = by_pillow(data)
        assert ours.mode == theirs.mode == mode
        assert np.array_equal(ours.pixels, theirs.pixels)


def test_bytes_after_the_image_stream_are_ignored_as_pillow_ignores_them():
    pixels = np.random.default_rng(1).integers(0, 256, (6, 7, 4), dtype=np.uint8)
    data = png_file(pixels, idat=zlib.compress(forward_filtered(pixels, [4] * 6)) + b"\0\1")
    read = read_png(data, ICC_LIMIT, CHUNK_LIMIT)
    assert read is not None and np.array_equal(read[0], pixels)
    assert np.array_equal(by_pillow(data).pixels, pixels)


def test_an_icc_profile_and_plain_text_are_read_and_kept():
    pixels = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    profile = bytes(range(256)) * 4
    extra = [
        (b"iCCP", b"test profile\0\0" + zlib.compress(profile)),
        (b"tEXt", b"Software\0a test"),
        (b"vpAg", b"\0" * 9),  # an ancillary chunk Pillow does not know: ignored
    ]
    data = png_file(pixels, extra=extra)
    read = read_png(data, ICC_LIMIT, CHUNK_LIMIT)
    assert read is not None and read[1] == profile
    assert by_pillow(data).icc_profile == profile
    assert _io.load_bytes(data).icc_profile == profile


@pytest.mark.parametrize(
    "case",
    [
        "color key",
        "exif",
        "exif as text",
        "xmp",
        "animation",
        "palette",
        "critical chunk",
        "16 bits",
        "interlaced",
        "large profile",
        "bad checksum",
        "truncated",
        "short stream",
        "bad filter",
    ],
)
def test_what_the_reader_leaves_goes_to_pillow(case):
    """Each file below is returned as None (Pillow reads it); through ``_io.load_bytes``
    the result, or the error, is Pillow's."""
    pixels = np.random.default_rng(0).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    raw = forward_filtered(pixels, [1] * 6)
    options = {
        "color key": {"extra": [(b"tRNS", b"\0\1\0\2\0\3")]},
        "exif": {"extra": [(b"eXIf", b"MM\0*\0\0\0\x08\0\0")]},
        "exif as text": {"extra": [(b"tEXt", b"Raw profile type exif\0\nexif\n0\n")]},
        "xmp": {"extra": [(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x/>")]},
        "animation": {"extra": [(b"acTL", b"\0\0\0\1\0\0\0\0")]},
        "palette": {"extra": [(b"PLTE", bytes(range(48)))]},
        "critical chunk": {"extra": [(b"ABCD", b"")]},
        "16 bits": {"depth": 16},
        "interlaced": {"interlace": 1},
        "large profile": {"extra": [(b"iCCP", b"big\0\0" + zlib.compress(bytes(ICC_LIMIT + 1)))]},
        "short stream": {"idat": zlib.compress(raw[:-1])},
        "bad filter": {"idat": zlib.compress(b"\x07" + raw[1:])},
    }.get(case, {})
    data = png_file(pixels, **options)
    if case == "bad checksum":
        data = data[:40] + bytes([data[40] ^ 1]) + data[41:]
    if case == "truncated":
        data = data[: len(data) - 30]
    assert read_png(data, ICC_LIMIT, CHUNK_LIMIT) is None
    try:
        expected = by_pillow(data)
    except Exception as error:  # what Pillow says is what the reader says
        with pytest.raises(type(error)) as raised:
            _io.load_bytes(data, "test")
        assert str(raised.value) == str(error)
    else:
        loaded = _io.load_bytes(data, "test")
        assert np.array_equal(loaded.pixels, expected.pixels)
        assert loaded.notes == expected.notes


def test_a_png_over_the_pixel_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "wide.png"
    path.write_bytes(png_file(np.zeros((2, 600, 3), dtype=np.uint8)))
    with pytest.raises(_io.ImageError, match="1,200 pixels over the limit of 1,000 pixels"):
        _io.load(path, max_pixels=1000)


def test_a_png_of_another_kind_goes_to_pillow_without_being_read_here_first(tmp_path):
    """The header decides: a 16-bit or interlaced PNG is not read whole before Pillow
    reads it (nor held while Pillow decodes it)."""
    pixels = np.zeros((3, 4, 3), dtype=np.uint8)
    common = png_file(pixels)
    path = tmp_path / "common.png"
    path.write_bytes(common)
    assert _io.common_png_bytes(path) == common
    assert _io.common_png_bytes(io.BytesIO(common)) == common
    for options in ({"depth": 16}, {"interlace": 1}):
        other = png_file(pixels, **options)
        path.write_bytes(other)
        assert _io.common_png_bytes(path) is None
        assert _io.common_png_bytes(io.BytesIO(other)) is None
