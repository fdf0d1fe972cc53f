"""The histogram of an image's colors: its distinct colors, how many pixels show each,
and which distinct color each pixel is.

Each pixel's channels are packed into one integer key with their bits interleaved
(Morton order, :func:`pack_keys`).  A radix sort of the keys (:func:`distinct_keys`), or
for RGB of many megapixels a count in a table of one slot per key
(:func:`distinct_keys_by_table`), gives the distinct colors in the order of their keys:
colors that agree on their high bits are neighbours, the cells of the fit's coarse
histograms (:func:`._palette.coarse_levels`).  A photo of millions of pixels has some
10⁴–10⁶ distinct colors.
"""

import numpy as np

from .._engine import kernel, prange


class ColorHistogram:
    """The distinct colors of an image: ``colors`` (m, C) uint8, ``counts`` (m,), and
    which distinct color each pixel is.

    That last is kept as ``inverse`` (H·W,) int32, each pixel's row in ``colors``; or,
    for a large image whose keys were counted in a table (see :func:`uses_key_table`),
    found again from each pixel's Morton key when needed, through a table with one slot
    per possible key (:meth:`key_table`, made for the occasion and dropped after it):
    the ``pixels`` (H·W, C) are kept instead, which the image holds anyway.  For RGB
    such a table of palette entries takes 16 MiB, where a 24-megapixel ``inverse``
    takes 97 MiB.  A histogram of colors alone keeps neither.
    """

    def __init__(self, colors, counts, inverse=None, pixels=None):
        self.colors = colors
        self.counts = counts
        self._inverse = inverse
        self.pixels = pixels

    def key_table(self, values):
        """(2^(8C),) ``values`` (one per distinct color, in its dtype) placed at the
        colors' Morton keys; the other slots 0."""
        table = np.zeros(1 << (8 * self.colors.shape[1]), dtype=values.dtype)
        table[pack_keys(self.colors)] = values
        return table

    @property
    def found_by_key(self):
        """Whether each pixel's distinct color is found from its key (no ``inverse`` kept)."""
        return self._inverse is None and self.pixels is not None

    @property
    def inverse(self):
        """(H·W,) int32: each pixel's row in ``colors``."""
        if self.found_by_key:
            rows = np.arange(self.colors.shape[0], dtype=np.int32)
            return values_of_keys(self.pixels, self.key_table(rows))
        return self._inverse

    def entries_of_pixels(self, labels):
        """(H·W,) each pixel's palette entry, ``labels`` giving each distinct color's (in
        ``labels``' dtype), looked up by the pixel's key or its row."""
        if self.found_by_key:
            return values_of_keys(self.pixels, self.key_table(labels))
        return labels[self._inverse]


def morton_spread(n_channels):
    """(256,) uint32: the bits of each byte spread ``n_channels`` apart (bit b to b·C)."""
    table = np.zeros(256, dtype=np.uint32)
    for value in range(256):
        for bit in range(8):
            if value >> bit & 1:
                table[value] |= 1 << (bit * n_channels)
    return table


#: ``MORTON_SPREAD[C - 1]`` is :func:`morton_spread` for C channels.
MORTON_SPREAD = np.stack([morton_spread(n_channels) for n_channels in (1, 2, 3, 4)])


@kernel(inline="always")
def morton_key(flat, i, spread):
    """The Morton key of pixel ``i`` of (N, C) uint8 ``flat`` (see :func:`pack_keys`)."""
    n_channels = flat.shape[1]
    key = np.uint32(0)
    for c in range(n_channels):
        key |= spread[flat[i, c]] << np.uint32(n_channels - 1 - c)
    return key


@kernel
def pack_keys(flat):
    """The Morton (Z-order) key of each pixel of an (N, C) uint8 array, as a uint32.

    The channels' bits are interleaved, most significant first and channel 0 first at
    each bit: sorted keys list the colors cell by cell of an octree over the color cube,
    so rows that are close in the sorted order are close in color.  (The k-means++
    kernel skips whole tiles of rows far from a candidate; this order makes tiles small
    boxes.)  With one channel the key is the value itself.
    """
    spread = MORTON_SPREAD[flat.shape[1] - 1]
    keys = np.empty(flat.shape[0], dtype=np.uint32)
    for i in range(flat.shape[0]):
        keys[i] = morton_key(flat, i, spread)
    return keys


@kernel
def color_of_key(key, n_channels):
    """The (C,) uint8 color whose Morton key is ``key`` (the bits de-interleaved)."""
    color = np.zeros(n_channels, dtype=np.uint8)
    for bit in range(8):
        for c in range(n_channels):
            if key >> np.uint32(bit * n_channels + n_channels - 1 - c) & np.uint32(1):
                color[c] |= np.uint8(1 << bit)
    return color


@kernel
def distinct_keys_by_table(flat):
    """:func:`distinct_keys` by a table with one slot per possible key (2^(8C) int32).

    One pass counts each key; a scan of the table in key order lists the keys that
    occur (the distinct colors, in Morton order) and their counts.  Returns ``(colors,
    counts)``: a pixel's row is found again from its key (:meth:`ColorHistogram.inverse`).
    No sort and no per-pixel scratch: for C ≤ 3 and millions of pixels it is faster and
    smaller than the radix sort.
    """
    n, n_channels = flat.shape
    spread = MORTON_SPREAD[n_channels - 1]
    table = np.zeros(1 << (8 * n_channels), dtype=np.int32)
    for i in range(n):
        table[morton_key(flat, i, spread)] += 1
    n_distinct = 0
    for key in range(table.shape[0]):
        n_distinct += table[key] != 0
    colors = np.empty((n_distinct, n_channels), dtype=np.uint8)
    counts = np.empty(n_distinct, dtype=np.int64)
    row = 0
    for key in range(table.shape[0]):
        if table[key] != 0:
            counts[row] = table[key]
            colors[row] = color_of_key(np.uint32(key), n_channels)
            row += 1
    return colors, counts


@kernel(parallel=True)
def values_of_keys(flat, table):
    """``table[key of pixel i]`` for each pixel of (N, C) uint8 ``flat``, in ``table``'s
    dtype (``table`` is indexed by Morton key), in parallel."""
    spread = MORTON_SPREAD[flat.shape[1] - 1]
    values = np.empty(flat.shape[0], dtype=table.dtype)
    for i in prange(flat.shape[0]):
        values[i] = table[morton_key(flat, i, spread)]
    return values


@kernel
def radix_sorted(keys, n_bits):
    """``(sorted keys, order)`` with ``keys[order] == sorted keys``, by a stable LSD radix sort
    (``keys`` itself serves as scratch and is overwritten).

    The ``n_bits`` low bits are sorted in passes of at most 12 bits (4096 buckets, which
    stay in cache); each pass counts the digits, turns the counts into start positions,
    and scatters the keys there in their current order.  O(N · passes).
    """
    n = keys.shape[0]
    n_passes = max(1, (n_bits + 11) // 12)
    digit_bits = (n_bits + n_passes - 1) // n_passes
    mask = np.uint32((1 << digit_bits) - 1)
    order = np.arange(n, dtype=np.int32)
    keys_out, order_out = np.empty_like(keys), np.empty_like(order)
    starts = np.empty(1 << digit_bits, dtype=np.int64)
    for p in range(n_passes):
        shift = np.uint32(p * digit_bits)
        starts[:] = 0
        for i in range(n):
            starts[(keys[i] >> shift) & mask] += 1
        total = 0
        for digit in range(starts.shape[0]):
            count = starts[digit]
            starts[digit] = total
            total += count
        for i in range(n):
            digit = (keys[i] >> shift) & mask
            keys_out[starts[digit]] = keys[i]
            order_out[starts[digit]] = order[i]
            starts[digit] += 1
        keys, keys_out = keys_out, keys
        order, order_out = order_out, order
    return keys, order


@kernel
def distinct_keys(flat):
    """Distinct colors of (N, C) uint8 pixels in increasing Morton order, their counts,
    and each pixel's row among them (int32), from one radix sort of the keys."""
    n, n_channels = flat.shape
    sorted_keys, order = radix_sorted(pack_keys(flat), 8 * n_channels)
    n_distinct = 1 if n else 0
    for i in range(1, n):
        n_distinct += sorted_keys[i] != sorted_keys[i - 1]
    colors = np.empty((n_distinct, n_channels), dtype=np.uint8)
    counts = np.zeros(n_distinct, dtype=np.int64)
    inverse = np.empty(n, dtype=np.int32)
    row = -1
    for i in range(n):
        if i == 0 or sorted_keys[i] != sorted_keys[i - 1]:
            row += 1
            colors[row] = flat[order[i]]
        counts[row] += 1
        inverse[order[i]] = row
    return colors, counts, inverse


#: Pixel rows are numbered in int32 (half the memory of int64 for every per-pixel index).
MAX_PIXELS = 2**31 - 1


#: The key table is used when it has at most this many slots per pixel: gray and gray +
#: alpha always (256 and 65,536 slots), RGB from 4 megapixels (16.8 million slots, 64 MiB),
#: RGBA never (2³² slots).  Otherwise the keys are radix sorted.
TABLE_SLOTS_PER_PIXEL = 4


def uses_key_table(n_pixels, n_channels):
    """Whether the histogram of ``n_pixels`` pixels of ``n_channels`` channels counts its
    keys in a table (see ``TABLE_SLOTS_PER_PIXEL``) rather than radix sorting them."""
    n_slots = 1 << (8 * n_channels)
    return n_channels <= 3 and n_slots <= TABLE_SLOTS_PER_PIXEL * max(n_pixels, 65536)


def color_histogram(pixels):
    """Distinct colors, their counts and each pixel's distinct color, for (H, W, C) uint8."""
    flat = np.ascontiguousarray(pixels.reshape(-1, pixels.shape[-1]))
    if flat.shape[0] > MAX_PIXELS:
        raise ValueError(f"{flat.shape[0]} pixels is more than the {MAX_PIXELS} supported")
    if uses_key_table(*flat.shape):
        return ColorHistogram(*distinct_keys_by_table(flat), pixels=flat)
    return ColorHistogram(*distinct_keys(flat))
