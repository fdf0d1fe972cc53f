"""Indexed PNG files written here, their pixels deflated by parts on every core at once.

A PNG's pixels are one zlib stream (RFC 1950) of deflate blocks (RFC 1951) over its
rows, each row led by its filter byte (0 here: no filter, what an indexed photo deflates
best with).  libdeflate compresses a buffer on one thread into a run of blocks whose last
is marked final, ending anywhere within a byte.  To deflate on P threads, the rows are cut
into P parts and each part is deflated alone; the streams are then joined as pigz joins
its parts: every part but the last

1. loses its final mark (the first bit of its last block, found by :func:`final_block_bits`),
2. ends on an empty stored block that is not final: 3 bits 000 where its last block ended,
   zeros to the byte's end, then LEN = 0, NLEN = 0xFFFF (``00 00 FF FF``),

so that the next part starts on a byte of its own.  A decoder reads one stream; the zlib
trailer is the Adler-32 of all the rows.  Each part starts without the 32 KiB of history
the one stream would have: 0.0–0.5 % more bytes on 0.4–1 megapixel photos with 2 parts
(Kodak: 0.27 % in all, Wikipedia: 0.14 %, k = 256).
The parts depend on the image's size only (:func:`part_count`), not on the cores, so that
a file is the same bytes on any machine.

The chunks written: IHDR (the smallest bit depth for the palette: 1, 2, 4 or 8), iCCP (the
ICC profile, if any, named "icc" as oxipng names it), PLTE, tRNS (alpha up to the last
translucent entry) and IDAT, then IEND.
"""

import struct
import zlib

import deflate
import numpy as np

from .._engine import get_threads, kernel, run_on_threads

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOR_TYPE_INDEXED = 3
#: A zlib header: deflate with a 32 KiB window, "maximum compression" (what libdeflate and
#: zlib write from level 7 up; the level field is informative only).
ZLIB_HEADER = b"\x78\xda"
#: An empty stored block's LEN and NLEN, after its 3-bit header and the padding.
EMPTY_STORED_BLOCK_LENGTHS = b"\x00\x00\xff\xff"

#: Rows below this many bytes are deflated in one part: the smaller the parts, the more a
#: split costs in bytes for less time (Kodak crops, k = 256, 2 parts: 512 × 512, 6.4 ms
#: saved for 0.34 % more bytes; 362 × 362, 3.1 ms for 0.58 %; 256 × 256, 1.8 ms for 1.2 %).
SPLIT_FROM_BYTES = 1 << 18
#: Rows are cut into parts of about this many bytes (at least 2 parts, at most MAX_PARTS).
PART_BYTES = 1 << 20
MAX_PARTS = 16

#: A part that deflates to under 1 / FLAT_RATIO of its bytes at a level from
#: FLAT_FROM_LEVEL up (flat content: screenshots, text, charts) is deflated again at
#: FLAT_LEVEL, and the smaller stream kept: on such rows level 10 takes little more than 7
#: and finds their long matches (a 2560 × 1440 screenshot of text, k = 256: 129,274 bytes
#: at 7, 124,515 at 10 for 50 ms more; pngquant 125,173), where on a photo's rows (which
#: deflate to a third or more) it takes several times as long for 3-6 % (see ``_speed``).
FLAT_RATIO = 8
FLAT_FROM_LEVEL = 7
FLAT_LEVEL = 10
#: At FLAT_ZLIB_AT_LEVEL (the default speed's), a flat part is deflated by zlib at 9 as
#: well, and the smaller stream kept.  On the rows of logos and text, zlib's lazy matching
#: wrote 2-5 % less than libdeflate's near-optimal parsing (800 × 600, 4 and 8 bits: 5,415
#: → 5,223 bytes, 8,939 → 8,538, 12,269 → 11,972, 28,928 → 28,122), in 23-66 ms more on
#: this project's machine; on runs of random bytes, 29 % more.  Flat: each of FLAT_SAMPLES
#: slices of FLAT_SAMPLE_BYTES spread over the part deflates at level 1 to under
#: 1 / FLAT_SLICE_RATIO of its bytes (every slice of those logos and text 12.9-252 ×, of
#: photos 1.5-1.7 ×), in a fraction of a millisecond.  Every slice, not the slices
#: together: a photo under an alpha mask has slices of transparent rows (40-512 ×) beside
#: slices of the photo (2-8 ×), where zlib wrote 0.4-4 % more than libdeflate in 25-100
#: ms more (6 of the 15 images of ``benchmarks/translucency.py`` at k = 16).  A part of
#: at most FLAT_SAMPLES · FLAT_SAMPLE_BYTES is one slice, judged at 1 / FLAT_SLICE_RATIO
#: too (until 2026-12-07, 1 / FLAT_RATIO).
FLAT_ZLIB_AT_LEVEL = 10
FLAT_ZLIB_LEVEL = 9
FLAT_SAMPLES = 4
FLAT_SAMPLE_BYTES = 1 << 14
FLAT_SLICE_RATIO = 10


def bit_depth_for(n_entries):
    """The fewest bits per index of a palette of ``n_entries``: 1, 2, 4 or 8."""
    for bits in (1, 2, 4):
        if n_entries <= 1 << bits:
            return bits
    return 8


def filtered_rows(indices, bit_depth):
    """(H, 1 + ⌈W·bits / 8⌉) uint8: each row of ``indices`` packed at ``bit_depth`` bits per
    index, the leftmost index in the high bits of a byte, led by filter byte 0."""
    height, width = indices.shape
    per_byte = 8 // bit_depth
    row_bytes = -(-width // per_byte)
    rows = np.zeros((height, 1 + row_bytes), dtype=np.uint8)
    if bit_depth == 8:
        rows[:, 1:] = indices
        return rows
    padded = np.zeros((height, row_bytes * per_byte), dtype=np.uint8)
    padded[:, :width] = indices
    grouped = padded.reshape(height, row_bytes, per_byte)
    packed = rows[:, 1:]
    for slot in range(per_byte):  # slot 0 is the leftmost index: the highest bits
        packed |= grouped[:, :, slot] << (8 - bit_depth * (slot + 1))
    return rows


def part_count(n_bytes):
    """How many parts rows of ``n_bytes`` are deflated in: 1 below ``SPLIT_FROM_BYTES``,
    else one per ``PART_BYTES``, at least 2 and at most ``MAX_PARTS``."""
    if n_bytes < SPLIT_FROM_BYTES:
        return 1
    return min(max(2, n_bytes // PART_BYTES), MAX_PARTS)


def zlib_stream(rows, level):
    """The zlib stream of the (H, B) uint8 ``rows`` at libdeflate's ``level``: their
    :func:`part_count` parts (whole rows each) deflated on this thread's threads, and
    joined (see the module's docstring)."""
    flat = rows.reshape(-1)
    n_parts = min(part_count(flat.shape[0]), rows.shape[0])
    cuts = [rows.shape[1] * (rows.shape[0] * part // n_parts) for part in range(n_parts + 1)]
    parts = [memoryview(flat[cuts[part] : cuts[part + 1]]) for part in range(n_parts)]
    streams = deflated_parts(parts, level)
    pieces = [ZLIB_HEADER]
    for stream in streams[:-1]:
        pieces += [not_final(stream), EMPTY_STORED_BLOCK_LENGTHS]
    pieces += [streams[-1], struct.pack(">I", zlib.adler32(flat))]
    return b"".join(pieces)


def deflated_parts(parts, level):
    """Each of ``parts`` deflated (raw deflate) at ``level``, in order: part p on runner
    p mod T of T runners (``run_on_threads``: this thread and the core's block threads;
    libdeflate releases the GIL while it compresses).  T is the threads this thread may
    use (``get_threads``: Numba's count, which ``set_threads`` sets, one in a batch's
    worker), at most one per core and one per part."""
    streams = [None] * len(parts)

    def run(first, runners):
        for part in range(first, len(parts), runners):
            streams[part] = deflated_part(parts[part], level)

    run_on_threads(run, min(len(parts), get_threads()))
    return streams


def deflated_part(part, level):
    """``part`` deflated at ``level``, or at ``FLAT_LEVEL`` where that is smaller on flat
    content (see :data:`FLAT_RATIO`), or by zlib where that is smaller on flat content
    (see :data:`FLAT_ZLIB_AT_LEVEL`)."""
    stream = deflate.deflate_compress(part, level)
    if level == FLAT_ZLIB_AT_LEVEL and looks_flat(part):
        compressor = zlib.compressobj(FLAT_ZLIB_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
        by_zlib = bytearray(compressor.compress(part))  # writable, as libdeflate's
        by_zlib += compressor.flush()  # (the ahead-of-time final_block_bits takes those)
        return by_zlib if len(by_zlib) < len(stream) else stream
    if FLAT_FROM_LEVEL <= level < FLAT_LEVEL and len(stream) * FLAT_RATIO < len(part):
        again = deflate.deflate_compress(part, FLAT_LEVEL)
        if len(again) < len(stream):
            return again
    return stream


def not_final(stream):
    """A raw deflate ``stream`` (libdeflate's bytearray) made to go on: its last block's
    final mark cleared, and an empty stored block's header (3 bits 000) where that block
    ends, zeros to the byte's end.  The caller appends the stored block's lengths."""
    first, end = final_block_bits(np.frombuffer(stream, dtype=np.uint8))
    if first < 0:
        raise ValueError("libdeflate gave a stream that does not end on a final block")
    joined = bytearray(stream[: (end + 3 + 7) // 8].ljust((end + 3 + 7) // 8, b"\0"))
    joined[first >> 3] &= 0xFF ^ (1 << (first & 7))
    joined[end >> 3] &= (1 << (end & 7)) - 1
    joined[(end >> 3) + 1 :] = bytes(len(joined) - (end >> 3) - 1)
    return bytes(joined)


# The extra bits after a length symbol 257 … 285 and after a distance symbol 0 … 29.
LENGTH_EXTRA_BITS = np.array([0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0])
DISTANCE_EXTRA_BITS = np.array([0, 0] + [(code - 2) // 2 for code in range(2, 30)])
# The order in which a dynamic block gives its code-length code's lengths.
CODE_LENGTH_ORDER = np.array([16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15])
# Every code is looked up by its next TABLE_BITS bits (deflate's codes are at most 15).
TABLE_BITS = 15


@kernel
def read_bits(data, position, count):
    """``count`` (≤ 24) bits of ``data`` from bit ``position``, least significant first,
    as deflate packs them.  ``data`` has 8 bytes of zeros past the stream's end."""
    at = position >> 3
    window = (
        np.int64(data[at])
        | (np.int64(data[at + 1]) << 8)
        | (np.int64(data[at + 2]) << 16)
        | (np.int64(data[at + 3]) << 24)
    )
    return (window >> (position & 7)) & ((1 << count) - 1)


@kernel
def fill_decoding_table(lengths, table):
    """``table[b]`` for every TABLE_BITS-bit string b: 16 × symbol + length of the
    canonical Huffman code (RFC 1951, 3.2.2) of code ``lengths`` that b starts with (b read
    least significant bit first), 0 where none does.  False if the lengths over-subscribe."""
    counts = np.zeros(16, dtype=np.int64)
    for length in lengths:
        counts[length] += 1
    counts[0] = 0
    next_code = np.zeros(16, dtype=np.int64)
    code = 0
    for bits in range(1, 16):
        code = (code + counts[bits - 1]) << 1
        next_code[bits] = code
        if code + counts[bits] > 1 << bits:
            return False
    table[:] = 0
    for symbol in range(lengths.shape[0]):
        length = lengths[symbol]
        if length == 0:
            continue
        code = next_code[length]
        next_code[length] += 1
        reversed_code = 0
        for bit in range(length):
            reversed_code |= ((code >> bit) & 1) << (length - 1 - bit)
        for high in range(0, 1 << TABLE_BITS, 1 << length):
            table[reversed_code | high] = 16 * symbol + length
    return True


@kernel(inline="always")
def next_symbol(data, position, table):
    """(symbol, position after its code) of the code at bit ``position`` of ``data``, by
    the decoding ``table`` (see :func:`fill_decoding_table`); symbol −1 where no code
    of the table starts there."""
    entry = table[read_bits(data, position, TABLE_BITS)]
    if entry == 0:
        return -1, position
    return entry >> 4, position + (entry & 15)


def looks_flat(part):
    """Whether ``part`` is flat content: every slice of a sample (see
    :data:`FLAT_ZLIB_AT_LEVEL`)."""
    n_bytes = len(part)
    if n_bytes <= FLAT_SAMPLES * FLAT_SAMPLE_BYTES:
        slices = [part]
    else:
        step = (n_bytes - FLAT_SAMPLE_BYTES) // (FLAT_SAMPLES - 1)
        starts = range(0, FLAT_SAMPLES * step, step)
        slices = [part[start : start + FLAT_SAMPLE_BYTES] for start in starts]
    return all(
        len(deflate.deflate_compress(piece, 1)) * FLAT_SLICE_RATIO < len(piece) for piece in slices
    )


@kernel
def final_block_bits(stream):
    """(first bit, end bit) of the final block of the raw deflate ``stream`` (uint8),
    bits counted from the first byte's least significant; (−1, −1) if the stream is cut
    short or is not deflate.  Walks every block's codes (without writing their output):
    stored blocks are skipped by their length, Huffman ones decoded symbol by symbol."""
    end_bits = 8 * stream.shape[0]
    data = np.zeros(stream.shape[0] + 8, dtype=np.uint8)
    data[: stream.shape[0]] = stream
    lengths = np.zeros(320, dtype=np.int64)
    literals = np.zeros(1 << TABLE_BITS, dtype=np.int64)
    distances = np.zeros(1 << TABLE_BITS, dtype=np.int64)
    position = 0
    while position + 3 <= end_bits:
        first = position
        final = read_bits(data, position, 1)
        kind = read_bits(data, position + 1, 2)
        position += 3
        if kind == 0:  # stored: LEN, NLEN on the next byte, then LEN bytes
            position = (position + 7) & ~7
            position += 32 + 8 * read_bits(data, position, 16)
        elif kind == 3:
            return -1, -1
        else:
            if kind == 1:  # the fixed codes
                n_literals, n_distances = 288, 30
                lengths[:144] = 8
                lengths[144:256] = 9
                lengths[256:280] = 7
                lengths[280:288] = 8
                lengths[288:318] = 5
            else:
                n_literals = read_bits(data, position, 5) + 257
                n_distances = read_bits(data, position + 5, 5) + 1
                n_code_lengths = read_bits(data, position + 10, 4) + 4
                position += 14
                code_lengths = np.zeros(19, dtype=np.int64)
                for i in range(n_code_lengths):
                    code_lengths[CODE_LENGTH_ORDER[i]] = read_bits(data, position, 3)
                    position += 3
                if not fill_decoding_table(code_lengths, literals):
                    return -1, -1
                i = 0
                while i < n_literals + n_distances and position <= end_bits:
                    symbol, position = next_symbol(data, position, literals)
                    if symbol < 0:
                        return -1, -1
                    if symbol < 16:
                        lengths[i] = symbol
                        i += 1
                        continue
                    if symbol == 16:
                        if i == 0:
                            return -1, -1
                        value, repeat = lengths[i - 1], 3 + read_bits(data, position, 2)
                        position += 2
                    elif symbol == 17:
                        value, repeat = 0, 3 + read_bits(data, position, 3)
                        position += 3
                    else:
                        value, repeat = 0, 11 + read_bits(data, position, 7)
                        position += 7
                    if i + repeat > n_literals + n_distances:
                        return -1, -1
                    lengths[i : i + repeat] = value
                    i += repeat
            if not fill_decoding_table(lengths[:n_literals], literals):
                return -1, -1
            if not fill_decoding_table(lengths[n_literals : n_literals + n_distances], distances):
                return -1, -1
            while position <= end_bits:
                symbol, position = next_symbol(data, position, literals)
                if symbol < 0:
                    return -1, -1
                if symbol == 256:  # the end of the block
                    break
                if symbol > 256:  # a length, its extra bits, then a distance and its own
                    if symbol > 285:
                        return -1, -1
                    position += LENGTH_EXTRA_BITS[symbol - 257]
                    distance, position = next_symbol(data, position, distances)
                    if distance < 0 or distance > 29:
                        return -1, -1
                    position += DISTANCE_EXTRA_BITS[distance]
        if position > end_bits:
            return -1, -1
        if final:
            return first, position
    return -1, -1


def chunk(kind, body):
    """A PNG chunk: length, type, body, CRC-32 of type and body."""
    return b"".join(
        [
            struct.pack(">I", len(body)),
            kind,
            body,
            struct.pack(">I", zlib.crc32(body, zlib.crc32(kind))),
        ]
    )


def indexed_png(entries, indices, level, icc_profile=None):
    """The bytes of an indexed PNG of (k, 4) uint8 r, g, b, a ``entries`` (k ≤ 256) and
    (H, W) uint8 ``indices``, its rows unfiltered and deflated at libdeflate's ``level``
    (see the module's docstring)."""
    height, width = indices.shape
    bit_depth = bit_depth_for(entries.shape[0])
    header = struct.pack(">IIBBBBB", width, height, bit_depth, COLOR_TYPE_INDEXED, 0, 0, 0)
    pieces = [PNG_SIGNATURE, chunk(b"IHDR", header)]
    if icc_profile:
        pieces.append(chunk(b"iCCP", b"icc\0\0" + deflate.zlib_compress(icc_profile, level)))
    pieces.append(chunk(b"PLTE", entries[:, :3].tobytes()))
    translucent = np.flatnonzero(entries[:, 3] < 255)
    if translucent.size:
        pieces.append(chunk(b"tRNS", entries[: translucent[-1] + 1, 3].tobytes()))
    pixels = zlib_stream(filtered_rows(indices, bit_depth), level)
    pieces += [chunk(b"IDAT", pixels), chunk(b"IEND", b"")]
    return b"".join(pieces)
