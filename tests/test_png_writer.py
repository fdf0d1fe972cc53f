"""The PNG writer (``kmeans_scratch/compression/_png.py``): rows deflated by parts on
several threads and joined into one zlib stream, which zlib (the oracle) must read back
to the same rows whatever the parts; and the file it writes, which Pillow must read back
to the same indices, palette, alpha and ICC profile."""

import io
import threading
import zlib

import deflate
import numpy as np
import pytest
from PIL import Image

from kmeans_scratch import _kernels
from kmeans_scratch.compression import _png
from kmeans_scratch.compression._encode import encode

from .helpers import image_array, padded_profile


def contents(kind, n_bytes, seed=0):
    """Bytes that libdeflate codes each way: stored blocks (random), dynamic Huffman codes
    (few values, text), and fixed codes (a few bytes)."""
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.integers(0, 256, n_bytes, dtype=np.uint8).tobytes()
    if kind == "four values":
        return rng.integers(0, 4, n_bytes, dtype=np.uint8).tobytes()
    if kind == "runs":
        return np.repeat(rng.integers(0, 256, n_bytes // 50 + 1, dtype=np.uint8), 50)[
            :n_bytes
        ].tobytes()
    return (b"the quick brown fox jumps over the lazy dog " * (n_bytes // 44 + 1))[:n_bytes]


KINDS = ("random", "four values", "runs", "text")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n_bytes", [0, 1, 7, 300, 70_000, 400_000])
@pytest.mark.parametrize("level", [1, 6, 10, 12])
def test_the_final_block_is_found_where_the_stream_ends(kind, n_bytes, level):
    stream = deflate.deflate_compress(contents(kind, n_bytes), level)
    first, end = _png.final_block_bits(np.frombuffer(stream, dtype=np.uint8))
    assert (stream[first >> 3] >> (first & 7)) & 1 == 1  # its final mark
    assert 0 <= first < end and (end + 7) // 8 == len(stream)  # ends in the last byte


def packed_bits(fields):
    """Bytes of (value, n_bits) fields, packed least significant bit first as deflate
    packs them."""
    number, at = 0, 0
    for value, n_bits in fields:
        number |= value << at
        at += n_bits
    return number.to_bytes((at + 7) // 8, "little")


#: A final dynamic block whose 19 code-length codes are all 1 bit long: no such code.
OVER_SUBSCRIBED = packed_bits([(1, 1), (2, 2), (0, 5), (0, 5), (15, 4)] + [(1, 3)] * 19)


@pytest.mark.parametrize(
    "broken",
    [
        b"",
        b"\x07",  # a final block of the reserved type 3
        b"\x04\x00",  # a dynamic block with no codes at all
        OVER_SUBSCRIBED + bytes(20),
    ],
)
def test_a_stream_that_is_not_deflate_gives_no_final_block(broken):
    assert tuple(_png.final_block_bits(np.frombuffer(bytearray(broken), np.uint8))) == (-1, -1)


def test_a_stream_cut_short_gives_no_final_block():
    stream = deflate.deflate_compress(contents("text", 5000), 10)
    cut = np.frombuffer(bytearray(stream[: len(stream) // 2]), np.uint8)
    assert tuple(_png.final_block_bits(cut)) == (-1, -1)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n_parts", [1, 2, 3, 7])
@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (300, 201), (1000, 769)])
def test_rows_deflated_by_parts_read_back_as_one_stream(kind, n_parts, shape, monkeypatch):
    monkeypatch.setattr(_png, "part_count", lambda n_bytes: n_parts)
    rows = np.frombuffer(contents(kind, shape[0] * shape[1]), np.uint8).reshape(shape)
    assert zlib.decompress(_png.zlib_stream(rows, 10)) == rows.tobytes()


def cores(monkeypatch, n_cores):
    """The block threads' pool taken as made on a machine of ``n_cores`` cores (it runs
    every task at least, on one thread of its own or more)."""
    _kernels.block_pool()
    monkeypatch.setattr(_kernels, "_block_pool_cores", n_cores)


def test_the_parts_depend_on_the_size_not_on_the_cores(monkeypatch):
    rows = np.frombuffer(contents("four values", 3000 * 1001), np.uint8).reshape(3000, 1001)
    assert _png.part_count(rows.size) == 2
    on_cores = []
    monkeypatch.setattr(_png, "get_threads", lambda: 8)
    for n_cores in (1, 2, 5):
        cores(monkeypatch, n_cores)
        on_cores.append(_png.zlib_stream(rows, 10))
    assert on_cores[0] == on_cores[1] == on_cores[2]
    assert zlib.decompress(on_cores[0]) == rows.tobytes()


def test_part_count():
    assert [_png.part_count(n) for n in (0, (1 << 18) - 1, 1 << 18, 5 << 20, 1 << 30)] == [
        1,
        1,
        2,
        5,
        16,
    ]


def test_an_error_in_a_part_reaches_the_caller_after_every_part_ended(monkeypatch):
    calls = []

    def failing(data, level):
        calls.append(len(data))
        if len(calls) == 2:
            raise MemoryError("no room")
        return deflate.deflate_compress(data, level)

    monkeypatch.setattr(_png.deflate, "deflate_compress", failing)
    cores(monkeypatch, 2)
    monkeypatch.setattr(_png, "get_threads", lambda: 2)
    with pytest.raises(MemoryError, match="no room"):
        _png.deflated_parts([b"a" * 1000] * 4, 10)
    assert len(calls) >= 3  # the other runner went on to its own parts


@pytest.mark.parametrize("n_entries, bits", [(2, 1), (3, 2), (4, 2), (16, 4), (17, 8), (256, 8)])
@pytest.mark.parametrize("width", [1, 7, 9, 640])
def test_indices_packed_at_every_bit_depth_read_back(n_entries, bits, width):
    rng = np.random.default_rng(width)
    indices = rng.integers(0, n_entries, (5, width), dtype=np.uint8)
    entries = rng.integers(0, 256, (n_entries, 4), dtype=np.uint8)
    entries[:, 3] = 255
    entries[1, 3] = 77  # a translucent entry: tRNS up to it
    data = _png.indexed_png(entries, indices, 10)
    assert data[24:26] == bytes([bits, 3])
    with Image.open(io.BytesIO(data)) as image:
        np.testing.assert_array_equal(np.asarray(image), indices)
        assert image.getpalette()[: 3 * n_entries] == entries[:, :3].ravel().tolist()
        assert image.info["transparency"] == bytes(entries[:2, 3])


def test_a_photo_written_in_two_parts_keeps_its_pixels_and_profile():
    """A 600 × 800 photo's rows take 2 parts; its file reads back to the same image, its
    ICC profile whole, and is at most 1 % larger than the one stream would be."""
    pixels = np.tile(image_array("china"), (2, 2, 1))[:600, :800]
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    indices = (pixels.astype(np.int64).sum(axis=2) % 256).astype(np.uint8)
    profile = padded_profile(1000)
    data = encode(palette, indices, "RGB", "png", icc_profile=profile)
    with Image.open(io.BytesIO(data)) as image:
        np.testing.assert_array_equal(np.asarray(image.convert("RGB")), palette[indices])
        assert image.info["icc_profile"] == profile
    rows = _png.filtered_rows(indices, 8)
    assert _png.part_count(rows.size) == 2
    one_stream = len(deflate.zlib_compress(rows.tobytes(), 10))
    assert len(_png.zlib_stream(rows, 10)) <= 1.01 * one_stream


def test_the_builds_warm_reaches_the_block_walker(monkeypatch):
    """``build_kernels --warm`` writes a PNG whose rows take 2 parts, so that the block
    walker is in Numba's cache for a session's first large image."""
    from kmeans_scratch.compression import _warm

    calls = []
    walker = _png.final_block_bits
    monkeypatch.setattr(_png, "final_block_bits", lambda stream: calls.append(1) or walker(stream))
    _warm.warm_large_image_kernels()
    assert calls


def test_the_parts_run_on_the_threads_this_thread_may_use(monkeypatch):
    """A batch's worker process, given one thread (``set_threads(1)``), deflates its
    parts one after the other: the other core runs the other worker."""
    threads_seen = set()
    compress_part = deflate.deflate_compress

    def recording(data, level):
        threads_seen.add(threading.get_ident())
        return compress_part(data, level)

    monkeypatch.setattr(_png.deflate, "deflate_compress", recording)
    cores(monkeypatch, 2)
    for threads, expected in ((1, 1), (2, 2)):
        threads_seen.clear()
        monkeypatch.setattr(_png, "get_threads", lambda threads=threads: threads)
        _png.deflated_parts([b"a" * 1000] * 4, 10)
        assert len(threads_seen) == expected


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("level", [4, 7, 9, 11])
def test_a_flat_part_at_a_capped_level_is_deflated_again_at_10(kind, level):
    """From level 7 up to 9 a part that deflates to under an eighth of its bytes (runs,
    text: flat content) keeps level 10's stream where it is smaller; every other part,
    and every level outside 7-10, its own level's stream, read back the same."""
    part = contents(kind, 400_000)
    own, at_10 = (deflate.deflate_compress(part, lv) for lv in (level, _png.FLAT_LEVEL))
    flat = len(own) * _png.FLAT_RATIO < len(part)
    retried = 7 <= level < 10 and flat and len(at_10) < len(own)
    stream = _png.deflated_part(part, level)
    assert stream == (at_10 if retried else own)
    assert zlib.decompress(stream, -15) == part
    if kind == "runs" and level in (7, 9):
        assert retried  # the case this is for: a part of runs gets smaller at 10
    if kind == "random":
        assert not flat


@pytest.mark.parametrize("kind", KINDS)
def test_a_flat_part_at_the_default_level_is_deflated_by_zlib(kind):
    """At the default speed's level (10), flat content (runs, text) is deflated by zlib
    at 9 too, and the smaller stream kept (zlib's on text, libdeflate's on runs of random
    bytes); other content only by libdeflate.  Either stream reads back, and parts of
    both kinds join into one zlib stream."""
    part = contents(kind, 400_000)
    flat = _png.looks_flat(memoryview(part))
    assert flat == (kind in ("runs", "text"))
    stream = _png.deflated_part(memoryview(part), _png.FLAT_ZLIB_AT_LEVEL)
    compressor = zlib.compressobj(_png.FLAT_ZLIB_LEVEL, zlib.DEFLATED, -15)
    by_zlib = compressor.compress(part) + compressor.flush()
    by_libdeflate = deflate.deflate_compress(part, _png.FLAT_ZLIB_AT_LEVEL)
    smaller = by_zlib if len(by_zlib) < len(by_libdeflate) else by_libdeflate
    assert stream == (smaller if flat else by_libdeflate)
    assert zlib.decompress(stream, -15) == part
    if kind == "text":
        assert stream == by_zlib  # the case this is for
    mixed = contents(kind, 300_000) + contents("random", 300_000)
    rows = np.frombuffer(mixed, dtype=np.uint8).reshape(-1, 1000)
    assert _png.part_count(rows.size) >= 2
    assert zlib.decompress(_png.zlib_stream(rows, _png.FLAT_ZLIB_AT_LEVEL)) == mixed


def test_a_photo_under_a_transparent_margin_is_not_flat():
    """A part of one transparent index (zeros) but for a quarter of a photo's rows (four
    values at random) is not flat: zlib would only take time there (issue 25, photos under
    alpha masks), though the slices of its sample, joined, deflate to under an eighth,
    which is how flat content was told until 2026-12-07.  A part of text, every slice
    flat, is flat."""
    quarter = 100_000
    part = bytes(quarter) + contents("four values", quarter) + bytes(2 * quarter)
    step = (len(part) - _png.FLAT_SAMPLE_BYTES) // (_png.FLAT_SAMPLES - 1)
    joined = b"".join(
        part[start : start + _png.FLAT_SAMPLE_BYTES]
        for start in range(0, _png.FLAT_SAMPLES * step, step)
    )
    assert len(deflate.deflate_compress(joined, 1)) * _png.FLAT_RATIO < len(joined)
    assert not _png.looks_flat(memoryview(part))
    assert _png.looks_flat(memoryview(contents("text", 4 * quarter)))
