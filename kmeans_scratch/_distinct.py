"""Collapse repeated rows into one weighted row: the same K-Means problem, smaller.

The inertia is a sum over samples, so m copies of a row x with weights w_1..w_m add
(Σ_r w_r) · ‖x − c‖², exactly what one copy of x with the summed weight adds; and copies
of a row always get the same label.  Every iteration (Lloyd's, Hamerly's, Elkan's) on the
distinct rows therefore goes through the same labels and centers as on every row, while
it touches only the distinct ones.  Photos repeat colors a lot: the 273,280 pixels of
``china.jpg`` hold 96,615 distinct colors.  The one step that can tell the difference is
the rare re-seeding of an empty cluster, which takes the farthest sample: here that is a
distinct row with all its copies, where scikit-learn moves a single copy.

Rows are compared by their bits, found with hash tables (open addressing, linear
probing); equal bits are equal values, so no two different rows are ever
merged (0.0 and −0.0 stay apart, which is merely a missed merge).
"""

import numpy as np
from numba import njit, prange

from ._common import block_bounds

#: Rows are collapsed only when at most this fraction of them is distinct; above it the
#: saving would not pay for the gathering.
COLLAPSE_BELOW_FRACTION = 0.75
#: 2^64 / golden ratio, the multiplier of Fibonacci hashing (Knuth, TAOCP vol. 3, 6.4).
GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True)
def row_hash(bits, i):
    """A 64-bit hash of row i of ``bits`` (the rows' raw bits as unsigned integers)."""
    h = np.uint64(0)
    for f in range(bits.shape[1]):
        h = (h ^ np.uint64(bits[i, f])) * GOLDEN
        h ^= h >> np.uint64(29)
    return h


@njit(cache=True)
def same_bits(bits, i, j):
    for f in range(bits.shape[1]):
        if bits[i, f] != bits[j, f]:
            return False
    return True


@njit(cache=True)
def log2_at_least(n):
    """The smallest b with 2^b ≥ n."""
    b = 0
    while (1 << b) < n:
        b += 1
    return b


@njit(cache=True)
def high_bits(h, n_bits):
    """The top ``n_bits`` of the 64-bit ``h`` as an integer (0 when ``n_bits`` is 0)."""
    if n_bits == 0:
        return 0
    return np.int64(h >> np.uint64(64 - n_bits))


@njit(cache=True)
def mark_first_occurrences(keys, rows, part_bits, table, representative):
    """For one part: ``representative[rows[p]]`` ← the first row of ``rows`` (ascending)
    with the bits ``keys[p]`` of row ``rows[p]``; returns how many rows were their own.

    A hash table (linear probing, at most half full, ``table`` filled with −1, of a
    power-of-two size) on the hash bits after the ``part_bits`` that chose the part.  The
    part's rows and bits are contiguous, so the probes stay in the cache.
    """
    table_bits = log2_at_least(table.shape[0])
    mask = table.shape[0] - 1
    n_first = 0
    for p in range(rows.shape[0]):
        slot = high_bits(row_hash(keys, p) << np.uint64(part_bits), table_bits)
        while True:
            seen = table[slot]
            if seen < 0:
                table[slot] = p
                representative[rows[p]] = rows[p]
                n_first += 1
                break
            if same_bits(keys, seen, p):
                representative[rows[p]] = rows[seen]
                break
            slot = (slot + 1) & mask
    return n_first


#: About this many rows per part of the hash table (small parts stay in the cache).
ROWS_PER_PART = 4096


@njit(parallel=True, cache=True)
def distinct_rows(bits):
    """``(first, inverse)``: the index of the first occurrence of every distinct row, in
    order of appearance, and for every row the position of its own in ``first``, so
    ``rows[first][inverse] == rows``.

    The rows are split by the top bits of their hash into 2^b parts (bits and row ids
    copied together, part after part, rows ascending within a part), and each part is
    searched by its own small table, in parallel.  Numbering the rows that are their own
    first occurrence, in row order, gives the same result for any number of parts or
    threads.
    """
    n_rows = bits.shape[0]
    part_bits = min(log2_at_least(max(n_rows // ROWS_PER_PART, 1)), 10)
    n_parts = 1 << part_bits
    n_blocks = max(1, min(256, n_rows // ROWS_PER_PART))
    counts = np.zeros((n_blocks, n_parts), dtype=np.int64)
    for block in prange(n_blocks):
        start, end = block_bounds(n_rows, n_blocks, block)
        for i in range(start, end):
            counts[block, high_bits(row_hash(bits, i), part_bits)] += 1

    # Part-major, then block order: each part's rows come out ascending.
    offsets = np.empty((n_blocks, n_parts), dtype=np.int64)
    part_start = np.empty(n_parts + 1, dtype=np.int64)
    table_start = np.zeros(n_parts + 1, dtype=np.int64)
    running = 0
    for part in range(n_parts):
        part_start[part] = running
        for block in range(n_blocks):
            offsets[block, part] = running
            running += counts[block, part]
        size = 1 << log2_at_least(2 * (running - part_start[part]))
        table_start[part + 1] = table_start[part] + size
    part_start[n_parts] = running
    part_rows = np.empty(n_rows, dtype=np.int32)
    part_keys = np.empty_like(bits)
    for block in prange(n_blocks):
        start, end = block_bounds(n_rows, n_blocks, block)
        position = offsets[block].copy()
        for i in range(start, end):
            part = high_bits(row_hash(bits, i), part_bits)
            part_rows[position[part]] = i
            part_keys[position[part]] = bits[i]
            position[part] += 1

    # One allocation for every part's table: allocations inside the parallel loop come
    # from per-thread heaps that hand their pages back, to be faulted in again.
    tables = np.full(table_start[n_parts], -1, dtype=np.int32)
    inverse = np.empty(n_rows, dtype=np.int64)  # first the representative row
    n_first = np.empty(n_parts, dtype=np.int64)
    for part in prange(n_parts):
        rows = slice(part_start[part], part_start[part + 1])
        table = tables[table_start[part] : table_start[part + 1]]
        n_first[part] = mark_first_occurrences(
            part_keys[rows], part_rows[rows], part_bits, table, inverse
        )

    first = np.empty(n_first.sum(), dtype=np.int64)
    n_distinct = 0
    for i in range(n_rows):  # a representative comes first: already numbered
        if inverse[i] == i:
            first[n_distinct] = i
            inverse[i] = n_distinct
            n_distinct += 1
        else:
            inverse[i] = inverse[inverse[i]]
    return first, inverse


def collapse_duplicates(X, sample_weight):
    """``(rows, weights, inverse)`` with the distinct rows of ``X`` and their summed weights,
    such that ``rows[inverse] == X``; None when too few rows repeat to be worth it
    (see ``COLLAPSE_BELOW_FRACTION``), or too many for the tables' 32-bit entries."""
    if X.shape[0] >= 2**31:
        return None
    bits = X.view(np.uint64 if X.dtype == np.float64 else np.uint32)
    first, inverse = distinct_rows(bits)
    if first.shape[0] > COLLAPSE_BELOW_FRACTION * X.shape[0]:
        return None
    weights = np.bincount(inverse, weights=sample_weight, minlength=first.shape[0])
    return X[first], weights.astype(X.dtype), inverse
