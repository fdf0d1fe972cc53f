"""Collapse repeated rows into one weighted row: the same K-Means problem, smaller.

The inertia is a sum over samples, so m copies of a row x with weights w_1..w_m add
(Σ_r w_r) · ‖x − c‖², exactly what one copy of x with the summed weight adds; and copies
of a row always get the same label.  Every iteration (Lloyd's, Hamerly's, Elkan's) on the
distinct rows therefore goes through the same labels as on every row, and the same
centers up to the rounding of their sums (added in another order), while it touches only
the distinct ones.  Photos repeat colors a lot: the 273,280 pixels of
``china.jpg`` hold 96,615 distinct colors.  The one step that can tell the difference is
the rare re-seeding of an empty cluster, which moves a single copy of the farthest row:
a run on distinct rows stops there, and ``KMeans.fit`` runs it again on every row.

Rows are compared by their bits, found with a hash table (open addressing, linear
probing) in one pass; equal bits are equal values, so no two different rows are ever
merged (0.0 and −0.0 stay apart, which is merely a missed merge).
"""

import numpy as np

from ._kernels import kernel

#: Rows are collapsed only when at most this fraction of them is distinct; above it the
#: saving would not pay for the gathering.
COLLAPSE_BELOW_FRACTION = 0.75
#: The search gives up early when more than ``PROBE_FRACTION`` of the first rows are
#: distinct: rows that hardly repeat (such as the image layer's distinct colors, up to
#: millions) then cost a probe, not a full pass.  The probe reads the first
#: ``PROBE_VALUES`` values (65,536 rows of 3 features, 3,072 of 64) and at least
#: ``PROBE_MIN_ROWS`` rows (1,024 of 784 features).  Rows that only start repeating
#: further down are then fitted as they are: a missed saving, never a wrong result.
PROBE_VALUES = 3 * 2**16
PROBE_MIN_ROWS = 1_024
PROBE_FRACTION = 0.9
#: 2^64 / golden ratio, the multiplier of Fibonacci hashing (Knuth, TAOCP vol. 3, 6.4).
GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@kernel(inline="always")
def mixed(h, value):
    """One step of the row hash: ``value``'s bits folded into ``h``, then multiplied and
    shifted so that every input bit reaches the high bits the table slot is read from."""
    h = (h ^ np.uint64(value)) * GOLDEN
    return h ^ (h >> np.uint64(29))


@kernel
def row_hash(bits, i):
    """A 64-bit hash of row i of ``bits`` (the rows' raw bits as unsigned integers).

    Features f, f + 4, f + 8, … go to lane f mod 4, and the four lanes are mixed together
    at the end: each step waits for the one before in its lane only, so a wide row hashes
    about four times faster than with one chain.  Each lane starts from its own seed and
    the lanes are folded in one after another into a mixed start, so that rows with equal
    or swapped lanes (``[a, a, b, c]``, ``[q, p, r, s]``) do not collide."""
    n_features = bits.shape[1]
    whole = n_features - n_features % 4
    h_0 = np.uint64(0)
    h_1, h_2, h_3 = np.uint64(1), np.uint64(2), np.uint64(3)
    for f in range(0, whole, 4):
        h_0 = mixed(h_0, bits[i, f])
        h_1 = mixed(h_1, bits[i, f + 1])
        h_2 = mixed(h_2, bits[i, f + 2])
        h_3 = mixed(h_3, bits[i, f + 3])
    for f in range(whole, n_features):
        h_0 = mixed(h_0, bits[i, f])
    if whole == 0:  # fewer than 4 features (pixels): one lane holds them all
        return h_0
    return mixed(mixed(mixed(mixed(GOLDEN, h_0), h_1), h_2), h_3)


@kernel
def distinct_rows(bits, probe_rows=0, probe_fraction=1.0):
    """``(first, inverse)``: the index of the first occurrence of every distinct row, in
    order of appearance, and for every row the position of its own in ``first``, so
    ``rows[first][inverse] == rows``.

    With ``probe_rows`` > 0, gives up (returns empty arrays) as soon as more than
    ``probe_fraction`` of the first ``probe_rows`` rows turn out distinct.  The probe
    runs in a table sized for its own rows, which grows for every row only once the
    probe has passed: filling a table for millions of rows that hardly repeat cost more
    than the probe (3,333,333 rows of 3 features: 19 ms of the table's 32 MiB, against
    about 1 ms).  So do the distinct rows' bits and positions: a copy sized for every row
    (80 MB for 12,755 rows of 784 float64 features) is a fresh mapping at every call, whose
    pages the probe's writes fault in; one sized for the probe is memory the process has
    used before.  There giving up took 2.7 ms a call, now 0.4 ms (the first call of a
    process: 3.1 ms, now 2.5).

    The table (at most half full) holds positions in ``keys``, the bits of the distinct
    rows in order of appearance: a probe reads one table entry and one row of ``keys``.
    (Splitting the rows by hash into parts searched in parallel, each in a table that
    stays in the cache, measured no faster on 2 cores: the rows must be moved into their
    parts and the positions back into row order.)
    """
    n_rows, n_features = bits.shape
    probing = 0 < probe_rows < n_rows
    capacity = probe_rows if probing else n_rows
    table, table_bits = table_of_positions(0, bits, capacity)
    keys = np.empty((capacity, n_features), dtype=bits.dtype)
    first = np.empty(capacity, dtype=np.int64)
    inverse = np.empty(n_rows, dtype=np.int64)
    n_distinct = 0
    for i in range(n_rows):
        if probing and i == probe_rows:
            if n_distinct > probe_fraction * probe_rows:
                return first[:0], inverse[:0]
            keys, first = grown(keys, n_distinct, n_rows), grown(first, n_distinct, n_rows)
            table, table_bits = table_of_positions(n_distinct, keys, n_rows)
        mask = (1 << table_bits) - 1
        slot = np.int64(row_hash(bits, i) >> np.uint64(64 - table_bits))
        while True:
            seen = table[slot]
            if seen < 0:
                table[slot] = n_distinct
                for f in range(n_features):
                    keys[n_distinct, f] = bits[i, f]
                first[n_distinct] = i
                inverse[i] = n_distinct
                n_distinct += 1
                break
            if same_row(keys, seen, bits, i):
                inverse[i] = seen
                break
            slot = (slot + 1) & mask
    return first[:n_distinct], inverse


@kernel
def grown(values, n_kept, n_rows):
    """A new array of ``n_rows`` rows shaped as ``values``, its first ``n_kept`` copied."""
    larger = np.empty((n_rows, *values.shape[1:]), dtype=values.dtype)
    larger[:n_kept] = values[:n_kept]
    return larger


@kernel
def table_of_positions(keys_in_table, rows, capacity):
    """``(table, table_bits)``: an open-addressing table of 2^table_bits ≥ 2 · capacity
    slots (−1 where empty) holding the positions 0 … ``keys_in_table`` − 1 of the first
    rows of ``rows``, each at the slot its hash gives or the next free one."""
    table_bits = 1
    while (1 << table_bits) < 2 * capacity:
        table_bits += 1
    mask = (1 << table_bits) - 1
    table = np.full(mask + 1, -1, dtype=np.int32)
    for j in range(keys_in_table):
        slot = np.int64(row_hash(rows, j) >> np.uint64(64 - table_bits))
        while table[slot] >= 0:
            slot = (slot + 1) & mask
        table[slot] = j
    return table, table_bits


@kernel
def same_row(keys, j, bits, i):
    """Whether row j of ``keys`` has the bits of row i of ``bits``."""
    for f in range(bits.shape[1]):
        if keys[j, f] != bits[i, f]:
            return False
    return True


def row_bits(X):
    """The rows of the float32/float64 array ``X`` as their raw bits (same shape, unsigned
    integers of the same width), which :func:`distinct_rows` compares."""
    return X.view(np.uint64 if X.dtype == np.float64 else np.uint32)


def collapse_duplicates(X, sample_weight):
    """``(rows, weights, inverse)`` with the distinct rows of ``X`` and their summed weights,
    such that ``rows[inverse] == X``; None when too few rows repeat to be worth it
    (see ``COLLAPSE_BELOW_FRACTION``), or too many for the table's 32-bit entries."""
    if X.shape[0] >= 2**31:
        return None
    probe_rows = max(PROBE_MIN_ROWS, PROBE_VALUES // X.shape[1])
    first, inverse = distinct_rows(row_bits(X), probe_rows, PROBE_FRACTION)
    if first.shape[0] == 0 or first.shape[0] > COLLAPSE_BELOW_FRACTION * X.shape[0]:
        return None
    weights = np.bincount(inverse, weights=sample_weight, minlength=first.shape[0])
    return X[first], weights.astype(X.dtype), inverse
