"""Hostile input through ``kmeans-compress``: empty, random, truncated, corrupt, bombs,
odd modes and odd names, then random damage by hypothesis.

Whatever the file, the command either compresses it (exit 0, a PNG of the right size with
at most k colors, nothing on stderr but its notes, a line each) or refuses it (exit 1,
exactly one stderr line that names the file and gives one of the command's reasons);
never a traceback; the input stays byte for byte the same; and the folder gains the
output and nothing else (no temporary file, hidden or not).
"""

import contextlib
import functools
import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile, ImageOps

from kmeans_scratch.compression import _batch, cli, compress
from kmeans_scratch.compression.cli import main

from .helpers import image_array

PREFIX = "kmeans-compress: error: "
UNREADABLE = "not an image that Pillow can read"
EMPTY = "an empty file, not an image"
CORRUPT = r"truncated or corrupt image \(.+\)"
BOMB = (
    r"[\d,]+ pixels over the limit of [\d,]+ pixels \(a decompression bomb\?\); "
    r"raise the limit with --max-pixels / max_pixels="
)
MEMORY = (
    r"\d+×\d+ pixels would need about .+ of memory, more than "
    r"(the --max-memory / max_memory limit|the memory available now) \(.+\)"
)
#: Every reason the command may give for a file it refuses (after "<file>: ").
REASONS = (UNREADABLE, EMPTY, CORRUPT, BOMB, MEMORY, "the image has no pixels")
BOMB_900M = (
    "900,000,000 pixels over the limit of 100,000,000 pixels (a decompression bomb?); "
    "raise the limit with --max-pixels / max_pixels="
)
#: Warnings that a real process does not print (Python's default filters).
HIDDEN_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


# ---------------------------------------------------------------------------------------
# Running the command and checking what must hold for any input


def run(*argv):
    """The command in this process: (exit status, stdout, stderr lines).

    pytest records warnings instead of printing them; a warning that a real process would
    print on stderr counts here as a stderr line.
    """
    out, err = io.StringIO(), io.StringIO()
    with (
        warnings.catch_warnings(record=True) as caught,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        warnings.simplefilter("always")
        code = main([str(arg) for arg in argv])
    shown = [
        f"{warning.category.__name__}: {warning.message}"
        for warning in caught
        if not issubclass(warning.category, HIDDEN_WARNINGS)
    ]
    assert "Traceback" not in out.getvalue() + err.getvalue()
    return code, out.getvalue(), err.getvalue().splitlines() + shown


def listing(folder):
    """Every file and folder under ``folder``, hidden ones included, as relative paths."""
    found = []
    for root, folders, files in os.walk(folder):
        found += [os.path.relpath(os.path.join(root, name), folder) for name in folders + files]
    return sorted(found)


def decoded_png(path, k, size):
    """The output at ``path``, checked: a complete indexed PNG of ``size`` (W, H) with at
    most ``k`` colors; returns its RGBA pixels."""
    with Image.open(path) as image:
        image.load()
        assert (image.format, image.mode, image.size) == ("PNG", "P", size)
        assert len(image.getpalette()) <= 3 * k
        rgba = image.convert("RGBA")
    assert rgba.getcolors(maxcolors=k) is not None  # None: more than k colors
    return np.asarray(rgba)


def compress_checked(source, k, *options):
    """``kmeans-compress source -k k --json *options``, checked for what holds whatever
    the input.  Returns ("compressed", report row) or ("refused", reason)."""
    folder = source.parent
    before, original = listing(folder), source.read_bytes()
    code, out, lines = run(source, "-k", k, "--json", *options)
    assert source.read_bytes() == original  # the input is never touched
    if code == 0:
        (row,) = json.loads(out)
        assert lines == [f"kmeans-compress: {source}: {note}" for note in row["notes"]]
        expected = folder / f"{source.stem}-k{k}.png"
        assert row["output"] == str(expected)
        assert listing(folder) == sorted([*before, expected.name])  # the output, nothing else
        decoded_png(expected, k, (row["width"], row["height"]))
        return "compressed", row
    assert code == 1, (code, lines)
    (row,) = json.loads(out)  # the failed file has its row too, with the reason
    assert row == {"input": str(source), "error": lines[0].removeprefix(PREFIX)}
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{PREFIX}{source}: "), lines[0]
    reason = lines[0].removeprefix(f"{PREFIX}{source}: ")
    assert any(re.fullmatch(known, reason) for known in REASONS), reason
    assert listing(folder) == before  # no partial output, no temporary file
    return "refused", reason


# ---------------------------------------------------------------------------------------
# Building files


def encoded(image, fmt, **params):
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def photo():
    """A small real photo: 60 × 40 pixels."""
    return image_array("coffee")[::10, ::10]


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def chunk_offset(data, kind):
    """Where the PNG chunk ``kind`` starts (its length field)."""
    return data.index(kind) - 4


def with_bad_crc(data, kind):
    """A PNG whose chunk ``kind`` has a wrong CRC (its data intact)."""
    start = chunk_offset(data, kind)
    (length,) = struct.unpack(">I", data[start : start + 4])
    damaged = bytearray(data)
    damaged[start + 8 + length] ^= 0xFF
    return bytes(damaged)


def with_bad_idat_data(data):
    """A PNG whose compressed pixels have one byte changed, its CRC recomputed to match:
    only the zlib stream is wrong."""
    start = chunk_offset(data, b"IDAT")
    (length,) = struct.unpack(">I", data[start : start + 4])
    body = bytearray(data[start + 4 : start + 8 + length])
    body[4 + length // 2] ^= 0x55
    return data[:start] + png_chunk(b"IDAT", bytes(body[4:])) + data[start + 12 + length :]


def png_bomb(width=30000, height=30000):
    """A valid-looking 69-byte PNG whose header declares ``width`` × ``height`` pixels."""
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def gif_bomb(screen, frame):
    """A tiny GIF: logical screen ``screen`` (W, H), one frame of size ``frame`` (W, H)."""
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", *screen, 0, 0, 0)
        + b","
        + struct.pack("<HHHHB", 0, 0, *frame, 0)
        + b"\x02\x02\x44\x01\x00;"
    )


def flat_frames():
    """Three 32 × 20 frames of four flat bands each, no color shared between frames."""
    bands = np.array([(200, 10, 10), (10, 200, 10), (10, 10, 200), (9, 9, 9)], dtype=np.uint8)
    columns = np.arange(32) // 8
    return [np.broadcast_to(bands[columns] + 20 * frame, (20, 32, 3)).copy() for frame in range(3)]


def animated_gif(frames):
    images = [Image.fromarray(frame) for frame in frames]
    return encoded(images[0], "GIF", save_all=True, append_images=images[1:], duration=100)


def second_gif_frame(data):
    """The offset of the second frame's image descriptor in a GIF whose frames each have a
    graphic control extension (21 F9 04, 8 bytes, then 2C)."""
    starts = [
        m.start() + 8 for m in re.finditer(b"\x21\xf9\x04", data) if data[m.start() + 8] == 0x2C
    ]
    assert len(starts) >= 2, starts
    return starts[1]


def gif_cut_after_descriptor(data):
    """An animated GIF cut just after the second frame's descriptor and local color table,
    before its LZW code size: Pillow's frame count read a missing byte (IndexError)."""
    start = second_gif_frame(data)
    flags = data[start + 9]
    table = 3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0
    return data[: start + 10 + table]


def gif_cut_in_descriptor(data):
    """An animated GIF cut inside the second frame's descriptor: Pillow's frame count
    unpacked a short buffer (struct.error)."""
    return data[: second_gif_frame(data) + 6]


def jpeg_with_corrupt_exif():
    """A JPEG whose EXIF block says it has 5 entries and holds 1: Pillow warns."""
    exif = (
        b"Exif\x00\x00MM\x00*"
        + struct.pack(">IH", 8, 5)
        + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0)
        + struct.pack(">I", 0)
    )
    return encoded(photo(), "JPEG", exif=exif)


def palette_png_with_trns():
    """A 6-color palette PNG: entry 0 fully transparent, entry 1 half transparent."""
    indices = (np.arange(24 * 36).reshape(24, 36) // 7 % 6).astype(np.uint8)
    image = Image.fromarray(indices, "P")
    colors = [(0, 0, 0), (250, 0, 0), (0, 250, 0), (0, 0, 250), (250, 250, 0), (90, 90, 90)]
    image.putpalette([value for color in colors for value in color])
    return encoded(image, "PNG", transparency=bytes([0, 128, 255, 255, 255, 255]))


def gray_levels():
    """30 × 20 pixels of four gray levels."""
    return np.array([0, 60, 180, 255], dtype=np.uint8)[np.arange(30 * 20).reshape(20, 30) % 4]


def gray16_png():
    """The four gray levels as a 16-bit PNG: each level × 257, exactly 8 bits' worth."""
    return encoded(Image.fromarray(gray_levels().astype(np.uint16) * np.uint16(257)), "PNG")


def truncated(fmt, at):
    data = encoded(photo(), fmt)
    cut = {"half": len(data) // 2, "end-1": len(data) - 1}.get(at, at)
    return data[:cut]


def with_signature(signature, seed):
    return signature + np.random.RandomState(seed).bytes(600)


# ---------------------------------------------------------------------------------------
# The corpus: each case is compressed, or refused for exactly the reason stated


def refused(reason):
    return {"refused": reason}


def compressed(size, notes=(), pixels=None):
    """Compressed to a (W, H) ``size`` PNG, with these report notes, and, when given,
    decoding to exactly the RGBA pixels that ``pixels()`` returns."""
    return {"size": size, "notes": notes, "pixels": pixels}


def opaque(rgb):
    """(H, W, 3) → (H, W, 4) with alpha 255."""
    return np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])


def intact_photo(k):
    """What compressing the intact photo to ``k`` colors gives."""
    return opaque(compress(photo(), k).to_array())


def trns_pixels():
    with Image.open(io.BytesIO(palette_png_with_trns())) as image:
        return np.asarray(image.convert("RGBA"))


ONE_PIXEL = np.array([[[12, 200, 77]]], dtype=np.uint8)
ONE_COLOR = np.full((20, 30, 3), (40, 90, 140), dtype=np.uint8)

CASES = [
    # name, bytes (built when the case runs), k, extra options, expectation
    ("empty.jpg", lambda: b"", 4, (), refused(EMPTY)),
    *(
        (
            f"noise.{ext}",
            lambda i=i: np.random.RandomState(i).bytes(2000),
            4,
            (),
            refused(UNREADABLE),
        )
        for i, ext in enumerate(("png", "jpg", "gif", "webp"))
    ),
    (
        "signature-noise.png",
        lambda: with_signature(b"\x89PNG\r\n\x1a\n", 0),
        4,
        (),
        refused(UNREADABLE),
    ),
    (
        "signature-noise.jpg",
        lambda: with_signature(b"\xff\xd8\xff\xe0", 0),
        4,
        (),
        refused(CORRUPT),
    ),
    ("signature-noise.gif", lambda: with_signature(b"GIF89a", 0), 4, (), refused(UNREADABLE)),
    (
        "signature-noise.webp",
        lambda: with_signature(b"RIFF\x00\x10\x00\x00WEBPVP8 ", 0),
        4,
        (),
        refused(CORRUPT),
    ),
    ("cut-8.png", lambda: truncated("PNG", 8), 4, (), refused(UNREADABLE)),
    ("cut-33.png", lambda: truncated("PNG", 33), 4, (), refused(UNREADABLE)),
    ("cut-100.png", lambda: truncated("PNG", 100), 4, (), refused(CORRUPT)),
    ("cut-half.png", lambda: truncated("PNG", "half"), 4, (), refused(CORRUPT)),
    # Only the last byte of IEND's CRC is missing: every pixel is there.
    (
        "cut-end-1.png",
        lambda: truncated("PNG", "end-1"),
        4,
        (),
        compressed((60, 40), pixels=lambda: intact_photo(4)),
    ),
    *(
        (f"cut-{at}.jpg", lambda at=at: truncated("JPEG", at), 4, (), refused(CORRUPT))
        for at in (8, 33, 100, "half", "end-1")
    ),
    (
        "cut-after-descriptor.gif",
        lambda: gif_cut_after_descriptor(animated_gif(flat_frames())),
        4,
        (),
        refused(CORRUPT),
    ),
    (
        "cut-in-descriptor.gif",
        lambda: gif_cut_in_descriptor(animated_gif(flat_frames())),
        4,
        (),
        refused(CORRUPT),
    ),
    (
        "bad-ihdr-crc.png",
        lambda: with_bad_crc(encoded(photo(), "PNG"), b"IHDR"),
        4,
        (),
        refused(UNREADABLE),
    ),
    # Pillow does not check IDAT's CRC; the compressed pixels themselves are intact.
    (
        "bad-idat-crc.png",
        lambda: with_bad_crc(encoded(photo(), "PNG"), b"IDAT"),
        4,
        (),
        compressed((60, 40), pixels=lambda: intact_photo(4)),
    ),
    (
        "bad-idat-data.png",
        lambda: with_bad_idat_data(encoded(photo(), "PNG")),
        4,
        (),
        refused(CORRUPT),
    ),
    ("bomb.png", png_bomb, 4, (), refused(re.escape(BOMB_900M))),
    (
        "bomb.gif",
        lambda: gif_bomb((30000, 30000), (30000, 30000)),
        4,
        (),
        refused(re.escape(BOMB_900M)),
    ),
    (
        "bomb-frame.gif",
        lambda: gif_bomb((10, 10), (30000, 30000)),
        4,
        (),
        refused(re.escape(BOMB_900M)),
    ),
    # Over the raised pixel limit, the memory estimate still refuses it before decoding.
    (
        "bomb-raised-limit.png",
        png_bomb,
        4,
        ("--max-pixels", "1000000000", "--max-memory", "1G"),
        refused(
            r"30000×30000 pixels would need about [\d.]+ GiB of memory, more than "
            r"the --max-memory / max_memory limit \(1\.0 GiB\)"
        ),
    ),
    (
        "one-pixel.png",
        lambda: encoded(ONE_PIXEL, "PNG"),
        4,
        (),
        compressed((1, 1), pixels=lambda: opaque(ONE_PIXEL)),
    ),
    (
        "one-color.png",
        lambda: encoded(ONE_COLOR, "PNG"),
        256,
        (),
        compressed((30, 20), pixels=lambda: opaque(ONE_COLOR)),
    ),
    (
        "animated.gif",
        lambda: animated_gif(flat_frames()),
        8,
        (),
        compressed(
            (32, 20), ["first of 3 frames kept (2 dropped)"], lambda: opaque(flat_frames()[0])
        ),
    ),
    (
        "cmyk.jpg",
        lambda: encoded(Image.fromarray(photo()).convert("CMYK"), "JPEG"),
        8,
        (),
        compressed((60, 40), ["CMYK converted to RGB"]),
    ),
    (
        "gray16.png",
        gray16_png,
        4,
        (),
        compressed(
            (30, 20),
            ["16-bit gray reduced to 8 bits"],
            lambda: opaque(np.repeat(gray_levels()[..., None], 3, axis=2)),
        ),
    ),
    ("palette-trns.png", palette_png_with_trns, 8, (), compressed((36, 24), pixels=trns_pixels)),
    ("été photo ü.png", lambda: encoded(photo(), "PNG"), 8, (), compressed((60, 40))),
    ("été cassé ü.png", lambda: truncated("PNG", "half"), 8, (), refused(CORRUPT)),
    # Pillow warns about the EXIF block: a note of the report, one line on stderr.  The
    # one entry there, orientation 6, is intact: the 60 × 40 photo is shown 40 × 60.
    (
        "corrupt-exif.jpg",
        jpeg_with_corrupt_exif,
        8,
        (),
        compressed((40, 60), ["Corrupt EXIF data. Expecting to read 12 bytes but only got 4."]),
    ),
]


@pytest.fixture
def decoding(monkeypatch):
    """The images whose pixels Pillow started to decode during the test."""
    started = []
    load = ImageFile.ImageFile.load

    def spy(self):
        started.append(self)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return started


@pytest.mark.parametrize("name, make, k, options, expected", CASES, ids=[case[0] for case in CASES])
def test_corpus(tmp_path, decoding, name, make, k, options, expected):
    source = tmp_path / name
    source.write_bytes(make())
    outcome, detail = compress_checked(source, k, *options)
    if "refused" in expected:
        assert outcome == "refused", detail
        assert re.fullmatch(expected["refused"], detail), detail
        if name.startswith("bomb"):
            assert decoding == []  # refused from the header, before a pixel was decoded
        return
    assert outcome == "compressed", detail
    row = detail
    assert (row["width"], row["height"]) == expected["size"]
    assert row["notes"] == list(expected["notes"])
    output = decoded_png(tmp_path / f"{source.stem}-k{k}.png", k, expected["size"])
    if expected["pixels"] is not None:
        np.testing.assert_array_equal(output, expected["pixels"]())


@pytest.mark.parametrize(
    "name, data",
    [("bomb.png", png_bomb()), ("bomb.gif", gif_bomb((30000, 30000), (30000, 30000)))],
    ids=["png", "gif"],
)
def test_a_decompression_bomb_in_a_real_process(tmp_path, name, data):
    """The installed command, in a fresh process (a hang would be a timeout): one line."""
    bomb = tmp_path / name
    bomb.write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-m", "kmeans_scratch.compression.cli", str(bomb), "-k", "4"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.splitlines() == [f"{PREFIX}{bomb}: {BOMB_900M}"]
    assert listing(tmp_path) == [name] and bomb.read_bytes() == data


def test_a_damaged_file_in_a_batch_names_itself_and_the_others_are_done(tmp_path):
    """Regression: a truncated animated GIF raised IndexError from Pillow's frame count;
    it escaped the per-file guard, so the line did not name the file and the batch
    stopped there."""
    bad, good = tmp_path / "cut.gif", tmp_path / "good.png"
    bad.write_bytes(gif_cut_after_descriptor(animated_gif(flat_frames())))
    good.write_bytes(encoded(photo(), "PNG"))
    code, out, lines = run(bad, good, "-k", "4", "--json")
    assert code == 1 and len(lines) == 1, lines
    assert re.fullmatch(re.escape(f"{PREFIX}{bad}: ") + CORRUPT, lines[0]), lines[0]
    assert [row["input"] for row in json.loads(out) if "error" not in row] == [str(good)]
    assert listing(tmp_path) == ["cut.gif", "good-k4.png", "good.png"]


def serial(n_files, largest_pixels):
    """``plan_workers`` for a batch run in the command's own process, where a monkeypatch
    reaches (a batch of small files otherwise runs in worker processes)."""
    return 0, 1


def test_an_unforeseen_error_names_its_file_and_the_others_are_done(tmp_path, monkeypatch):
    """Whatever a file raises, the batch goes on: one line naming that file, exit 1."""
    bad, good = tmp_path / "odd one.png", tmp_path / "good.png"
    for path in (bad, good):
        path.write_bytes(encoded(photo(), "PNG"))
    real = _batch.compress

    def failing(image, *args, **kwargs):
        if image == bad:
            raise ZeroDivisionError("float division by zero")
        return real(image, *args, **kwargs)

    monkeypatch.setattr(_batch, "compress", failing)
    monkeypatch.setattr(_batch, "plan_workers", serial)
    code, out, lines = run(bad, good, "-k", "4", "--json")
    assert code == 1 and lines == [f"{PREFIX}{bad}: float division by zero"]
    assert [row["input"] for row in json.loads(out) if "error" not in row] == [str(good)]
    assert listing(tmp_path) == ["good-k4.png", "good.png", "odd one.png"]


@pytest.mark.parametrize("signal_number, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_hidden_in_a_numba_error_still_stops_the_batch(
    tmp_path, monkeypatch, signal_number, status
):
    """Regression: when the handler runs while compiled Numba code calls back into Python
    (to unpickle a constant), its Stopped comes out as SystemError("CPUDispatcher(...)
    returned a result with an exception set") caused by it.  It must stop the batch like
    the signal it is, not count as that file's failure (exit 1, and the batch going on)."""
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    for path in (first, second):
        path.write_bytes(encoded(photo(), "PNG"))

    def interrupted(image, *args, **kwargs):
        try:
            raise cli.Stopped(signal_number)
        except cli.Stopped as stop:
            raise SystemError(
                "CPUDispatcher(<function distinct_keys>) returned a result with an exception set"
            ) from stop

    monkeypatch.setattr(_batch, "compress", interrupted)
    monkeypatch.setattr(_batch, "plan_workers", serial)
    code, out, lines = run(first, second, "-k", "4", "--json")
    name = signal.Signals(signal_number).name
    assert code == status and json.loads(out) == []  # --json: the files done, none
    assert lines == [
        f"kmeans-compress: stopped by {name} after 0 of 2 files; the files written are "
        "complete, none was left partly written"
    ]
    assert listing(tmp_path) == ["first.png", "second.png"]


# ---------------------------------------------------------------------------------------
# Random damage: hypothesis, deterministic


@functools.cache
def seed_files():
    """Small real files to damage: (suffix, bytes), 32 × 24 pixels each."""
    image = Image.fromarray(image_array("astronaut")[::16, ::16][:24, :32])
    return (
        ("png", encoded(image, "PNG")),
        ("jpg", encoded(image, "JPEG", quality=90)),
        ("gif", animated_gif([np.asarray(image), np.asarray(image)[:, ::-1]])),
        ("webp", encoded(image, "WEBP", quality=80)),
        ("webp", encoded(image, "WEBP", lossless=True)),
    )


FUZZ = settings(max_examples=50, deadline=None, derandomize=True, database=None)
#: Limits that keep a damaged header from costing a large decode (the seeds are 768 pixels).
SMALL_LIMITS = ("--max-pixels", "1000000", "--max-memory", "256M")


def fuzz_one(folder, suffix, data):
    """One damaged file through the command: every property, and the right size."""
    source = folder / f"damaged é.{suffix}"
    source.write_bytes(data)
    outcome, detail = compress_checked(source, 4, *SMALL_LIMITS)
    event(f"{suffix}: {outcome}")
    if outcome == "compressed":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(source) as image:
                assert (detail["width"], detail["height"]) == ImageOps.exif_transpose(image).size


@st.composite
def truncations(draw):
    suffix, data = draw(st.sampled_from(seed_files()))
    return suffix, data[: draw(st.integers(0, len(data) - 1))]


@st.composite
def byte_flips(draw):
    """1 to 8 bytes changed, half of them in the first 64 (the headers)."""
    suffix, data = draw(st.sampled_from(seed_files()))
    position = st.one_of(st.integers(0, 63), st.integers(0, len(data) - 1))
    flips = draw(st.lists(st.tuples(position, st.integers(1, 255)), min_size=1, max_size=8))
    damaged = bytearray(data)
    for index, mask in flips:
        damaged[index] ^= mask
    return suffix, bytes(damaged)


@FUZZ
@given(suffix=st.sampled_from(["png", "jpg", "gif", "webp"]), data=st.binary(max_size=2048))
def test_random_bytes(tmp_path_factory, suffix, data):
    fuzz_one(tmp_path_factory.mktemp("random"), suffix, data)


@FUZZ
@given(case=truncations())
def test_random_truncations(tmp_path_factory, case):
    fuzz_one(tmp_path_factory.mktemp("truncated"), *case)


@FUZZ
@given(case=byte_flips())
def test_random_byte_flips(tmp_path_factory, case):
    fuzz_one(tmp_path_factory.mktemp("flipped"), *case)
