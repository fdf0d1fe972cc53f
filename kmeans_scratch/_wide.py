"""Nearest centers of wide data from products x·c, with the labels of the direct distances.

For rows of d features the tile kernel (:mod:`._tiles`) computes Σ_f (x_f − c_f)² for every
row and center: n·k·d subtractions and multiply-adds.  For d in the tens and more, the same
work is a matrix product, which BLAS does several times faster:

    ‖x − c‖² = ‖x‖² − 2 x·c + ‖c‖²,     x·c for a chunk of rows and every center = X Cᵀ.

The expansion rounds differently from the direct sum (it cancels when x is near c), so here
it only *finds* the nearest center.  With unit roundoff u of the data's dtype, the expanded
value D̃ of a true squared distance D is off by at most E = 2γ(‖x‖² + ‖c‖²), γ = (d + 2) u
(to first order), and the direct sum D̂ (the tile kernel's) by at most γ' D, γ' = (d + 3) u.
If center j has the smallest direct distance and center m the smallest expanded one,

    D̃_j − D̃_m ≤ 2E + 3γ' (D̃_m + E),

so every center whose expanded distance is within that margin of the smallest is measured
again directly, in the tile kernel's order (:func:`~._tiles.sq_distance_tile_order`), and
the smallest direct distance wins, ties to the lowest index.  A row with one such
candidate (nearly every row) takes it as it is.  The labels are therefore the tile
kernel's, bit for bit, at any width; only the time differs.

Lloyd's step (:func:`lloyd_step`) is one compiled loop: the blocks of rows in parallel,
each chunk multiplied (``np.dot``, one BLAS thread per chunk), labelled and summed while
it is in cache.  Chosen by :func:`uses_blas` from the shape of the problem (measured in
``benchmarks/``).  With a few centers BLAS multiplies a chunk at a fraction of its speed,
and :func:`direct_products` forms the products instead, in any order of the sums (the
bound above does not depend on it); see :func:`products_form`.
"""

import contextlib

import numpy as np

from ._blocks import add_rows, block_bounds, lanes_into, merge_blocks, sum_rows
from ._kernels import kernel, prange
from ._tiles import sq_distances_tile_order_four_pairs, sq_distances_tile_order_two

#: From this many features on, the assignment may run through BLAS (see :func:`uses_blas`).
BLAS_MIN_FEATURES = 16
#: ... when n·k·d is at least this: below it the BLAS path's fixed cost (about 0.2 ms, the
#: limit on BLAS's threads and the row norms) exceeds the tile kernel's whole time.
BLAS_MIN_WORK = 2**20

#: How a chunk's products are formed (see :func:`products_form`): X Cᵀ or C Xᵀ through
#: BLAS, or :func:`direct_products`.
BY_CENTERS, BY_ROWS, DIRECT = 0, 1, 2
#: :func:`direct_products` serves up to this many centers, on rows of up to this many
#: bytes (at most, with four centers, a fifth of a 32 KiB L1 cache each; the BLAS path
#: starts at 16 features, 64 bytes).  Against BLAS's products of the same chunks (this
#: project's 2-core machine, Gaussian blobs of n·d = 10⁷, 20 Lloyd iterations from the
#: same init, k = 8): 0.67–0.90 × the whole fit's time from 256 bytes (32 features in
#: float64, 64 in float32) to 3 KiB (784 in float32), 1.06 × at 6 KiB (784 in float64);
#: below 256 bytes, measured on 2026-12-06: 0.62–0.73 × at 16, 20 and 24 features in
#: float64, 0.76 and 0.89 × at 24 and 16 in float32, 0.93 × at 32 in float32 (1.08 × on
#: 2026-12-05); at 16 centers 0.7–1.4 × BLAS's time for the products alone.
DIRECT_MAX_CENTERS = 8
DIRECT_MAX_ROW_BYTES = 4096

#: Memory for the products of one chunk of rows with every center, in bytes: they stay
#: in the cache of the core that computed them until they are read.  512 KiB against 256
#: (20 Lloyd iterations, 9 alternating rounds, ours ÷ scikit-learn's, on this project's
#: machine, whose cores have 1 MiB of L2): 0.78 against 0.85 × at d = 32, k = 256 and
#: 0.65 against 0.70 × at d = 300, k = 256 in float64; 0.91 against 0.95 × at d = 300,
#: k = 64 and 0.95 against 1.01 × at d = 128, k = 64 in float32; within 2 % elsewhere.
CHUNK_BYTES = 512 * 2**10

#: Memory for the rows of one chunk, in bytes: they stay in the core's L2 cache from their
#: product with the centers until they are summed.
CHUNK_DATA_BYTES = 2**20
#: ... and at most this much per center: BLAS multiplies a chunk by few centers up to 1.8 ×
#: faster when the chunk is small (measured on this project's machine, k = 8: 2.8 → 2.2
#: ms a pass at 784 features in float32, 4.0 → 2.3 at 300 in float64), many centers
#: faster in larger chunks.
CHUNK_DATA_BYTES_PER_CENTER = 32 * 2**10


def uses_blas(n_samples, n_features, n_clusters):
    """Whether the nearest centers of ``n_samples`` rows of ``n_features`` among
    ``n_clusters`` are found through BLAS: from 16 features on, where it was as fast as the
    tile kernel or faster in float32 and float64 at 8, 64 and 256 clusters on this
    project's 2-core machine (20 Lloyd iterations, n·d = 10⁷; up to 2.8 × at 32 features
    in float64; ``tests/test_wide.py`` holds the two to the same labels), and for at least
    ``BLAS_MIN_WORK`` multiply-adds n·k·d (a one-row ``predict`` at d = 16, k = 8: 0.11 ms
    by the tile kernel, 0.31 ms through BLAS; the two cross near n·k·d = 10⁶).  The tile
    kernel's direct form needs a subtraction more per term than a product, which matters
    as d grows; BLAS pays for the products' round trip through memory, which matters when
    d is small (at 8 features the tile kernel is as fast or faster)."""
    return (
        n_clusters >= 2
        and n_features >= BLAS_MIN_FEATURES
        and n_samples * n_features * n_clusters >= BLAS_MIN_WORK
    )


@kernel(parallel=True)
def row_sq_norms(X):
    """‖x_i‖² of every row (:func:`sq_norm`), in float64 (the margins' scale), over the
    rows in parallel."""
    norms = np.empty(X.shape[0])
    for i in prange(X.shape[0]):
        norms[i] = sq_norm(X[i])
    return norms


@kernel
def center_sq_norms(centers):
    """:func:`row_sq_norms` on one thread, for a few rows: the centers at every step,
    k-means++'s candidates for each center.  Starting Numba's threads for them took 37 µs
    a call (8 centers of 784 features)."""
    norms = np.empty(centers.shape[0])
    for j in range(centers.shape[0]):
        norms[j] = sq_norm(centers[j])
    return norms


@kernel(inline="always")
def sq_norm(row):
    """‖x‖² in float64.  Features f, f + 8, f + 16, … go to lane f mod 8, so that the
    additions need not wait for each other and the eight lanes are one SIMD register's
    work: 2.3–3.7 × faster than four lanes at 300 and 784 features (this project's 2-core
    machine).  Any order of the sum is within the bound on its rounding that the margins
    and Elkan's slack use."""
    n_features = row.shape[0]
    whole = n_features - n_features % 8
    lanes = np.zeros(8)
    for f in range(0, whole, 8):
        for lane in range(8):
            value = np.float64(row[f + lane])
            lanes[lane] += value * value
    total = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + (
        (lanes[4] + lanes[5]) + (lanes[6] + lanes[7])
    )
    for f in range(whole, n_features):
        value = np.float64(row[f])
        total += value * value
    return total


@kernel(inline="always")
def fold_by_centers(products_t, center_sq, folded):
    """Fold the expanded values ‖c_j‖² − 2 c_j·x of one row of ``products_t`` (one row per
    center) after another into every point's smallest, its center and the second smallest:
    each inner loop runs over the points, as SIMD code."""
    best, second, nearest = folded
    n_clusters, n_rows = products_t.shape
    for j in range(n_clusters):
        c_sq = center_sq[j]
        products = products_t[j]
        for p in range(n_rows):
            expanded = c_sq - 2.0 * products[p]
            smallest = best[p]
            nearest[p] = j if expanded < smallest else nearest[p]
            second[p] = min(second[p], max(smallest, expanded))
            best[p] = min(expanded, smallest)


@kernel(inline="always")
def settle_labels(X, start, products_t, centers, norms, folded, out):
    """Labels from the ``folded`` smallest, second smallest and nearest center of each row:
    a row whose second smallest is beyond the margin (nearly every row) takes its nearest
    center, in one pass over the rows without branches (SIMD code); the others are
    measured again directly, and the smallest direct distance wins (:func:`settle_near`).
    Returns how many labels changed."""
    center_sq, x_sq, margin_unit = norms
    best, second, nearest = folded
    n_rows = best.shape[0]
    largest_center_sq = center_sq.max()
    # Views of the chunk's rows, indexed by p, and both labels read before the choice: so
    # the loop compiles to SIMD code (indexed by start + p, or with `and`, which
    # branches, it did not, and took 3 × longer).
    rows_sq = x_sq[start : start + n_rows]
    labels = out[0][start : start + n_rows]
    changed = out[1][start : start + n_rows]
    limits = np.empty(n_rows)
    n_changed = 0
    n_near = 0
    for p in range(n_rows):
        nearest_sq = max(best[p] + rows_sq[p], 0.0)
        limit = best[p] + margin_unit * (5.0 * (rows_sq[p] + largest_center_sq) + 4.0 * nearest_sq)
        limits[p] = limit
        near = second[p] <= limit
        label, nearest_label = labels[p], nearest[p]
        moved = (not near) & (label != nearest_label)
        labels[p] = label if near else nearest_label
        changed[p] = moved
        n_changed += moved
        n_near += near
    if n_near == 0:
        return n_changed
    return n_changed + settle_near(
        X, start, products_t, centers, center_sq, folded, limits, n_near, out
    )


@kernel(inline="always")
def settle_near(X, start, products_t, centers, center_sq, folded, limits, n_near, out):
    """Label the ``n_near`` rows whose second smallest expanded value is within their
    ``limits`` (see :func:`settle_labels`): every center within the limit is a candidate,
    and the smallest direct distance wins: rows of two candidates (nearly all) four at a
    time (:func:`nearer_of_pairs`), the others one by one (:func:`nearest_candidate`).
    Returns how many labels changed."""
    second = folded[1]
    candidates = np.empty(centers.shape[0], dtype=np.int64)
    paired = np.empty(n_near, dtype=np.int64)
    pairs = np.empty((n_near, 2), dtype=np.int64)
    n_paired = 0
    n_changed = 0
    for p in range(second.shape[0]):
        if second[p] > limits[p]:
            continue
        i = start + p
        n_candidates = 0
        for j in range(centers.shape[0]):
            if center_sq[j] - 2.0 * products_t[j, p] <= limits[p]:
                candidates[n_candidates] = j
                n_candidates += 1
        if n_candidates == 2:
            paired[n_paired] = i
            pairs[n_paired] = candidates[:2]
            n_paired += 1
        else:
            n_changed += set_label(
                out, i, nearest_candidate(X[i], centers, candidates[:n_candidates])
            )
    return n_changed + nearer_of_pairs(X, centers, paired[:n_paired], pairs, out)


@kernel(inline="always")
def set_label(out, i, label):
    """Set row ``i``'s label in ``out = (labels, changed)``; 1 if it changed, else 0."""
    labels, changed = out
    changed[i] = labels[i] != label
    labels[i] = label
    return changed[i]


@kernel(inline="always")
def nearer_of_pairs(X, centers, paired, pairs, out):
    """Label each row ``paired[r]`` with the nearer of its two candidates ``pairs[r]``
    (ascending ids; a tie to the first) by the direct distance, four rows at a time
    (:func:`~._tiles.sq_distances_tile_order_four_pairs`: on 784 float32 features, 0.6
    ms a step where two sums at a time took 0.95); returns how many labels changed."""
    n_changed = 0
    last = paired.shape[0] - 1
    for g in range(0, paired.shape[0], 4):
        r_0, r_1, r_2, r_3 = g, min(g + 1, last), min(g + 2, last), min(g + 3, last)
        distances = sq_distances_tile_order_four_pairs(
            (X[paired[r_0]], X[paired[r_1]], X[paired[r_2]], X[paired[r_3]]),
            (centers[pairs[r_0, 0]], centers[pairs[r_1, 0]], centers[pairs[r_2, 0]],
             centers[pairs[r_3, 0]]),
            (centers[pairs[r_0, 1]], centers[pairs[r_1, 1]], centers[pairs[r_2, 1]],
             centers[pairs[r_3, 1]]),
        )  # fmt: skip
        for q in range(min(4, paired.shape[0] - g)):
            first, other = pairs[g + q, 0], pairs[g + q, 1]
            label = other if distances[2 * q + 1] < distances[2 * q] else first
            n_changed += set_label(out, paired[g + q], label)
    return n_changed


@kernel(inline="always")
def nearest_candidate(x, centers, candidates):
    """The candidate (ascending center ids) nearest to ``x`` by the direct distance, ties
    to the lowest id.  The distances are measured two at a time in one pass over ``x``
    (:func:`~._tiles.sq_distances_tile_order_two`): each sum is a chain of additions
    that waits for the one before, and two chains run side by side in about the time of
    one (nearly every row with several candidates has two; an odd last one is measured
    with itself)."""
    best_direct = np.inf
    label = candidates[0]
    last = candidates.shape[0] - 1
    for g in range(0, candidates.shape[0], 2):
        first, other = candidates[g], candidates[min(g + 1, last)]
        distance_first, distance_other = sq_distances_tile_order_two(
            x, centers[first], centers[other]
        )
        if distance_first < best_direct:
            best_direct, label = distance_first, first
        if distance_other < best_direct:
            best_direct, label = distance_other, other
    return label


@kernel(inline="always")
def folds_for(n_rows):
    """Each row's smallest expanded value, second smallest and nearest center, unfolded."""
    return np.full(n_rows, np.inf), np.full(n_rows, np.inf), np.zeros(n_rows, dtype=np.int32)


@kernel(inline="always")
def bounds_of_products(start, products_t, norms, labels, folded, bounds):
    """Elkan's or Hamerly's bounds of rows ``start …`` from their products with the
    centers (``products_t[j, p]``, and their ``folded`` smallest, second smallest and
    nearest center, see :func:`fold_by_centers`), if ``bounds = (lower, upper, drift,
    second)`` holds any (else nothing): Elkan's ``lower`` (n, k) and ``drift``, or
    Hamerly's ``second`` (n,), and ``upper``.

    A distance δ = √max(D̃, 0) from the expansion is off the true one by at most the
    slack s = √(2 E), E = (d + 4) ε (‖x‖² + max_j ‖c_j‖²) ≥ the expansion's error
    (|√a − √b| ≤ √|a − b|), so ``upper[i] = δ_{i l_i} + s`` and, for Elkan, ``lower[i, j]
    = δ_ij − s + drift[j]`` (stored plus the center's drift, see :mod:`._elkan`), for
    Hamerly ``second[i] = min_{j ≠ l_i} δ_ij − s`` hold the true distances, as their steps
    need, without measuring each distance directly.  That minimum is the second smallest
    expanded value, or the smallest where the direct distances gave the row another
    label than the expansion's nearest.
    """
    lower, upper, drift, second = bounds
    if upper.shape[0] == 0:
        return
    center_sq, x_sq, margin_unit = norms
    smallest, second_smallest, nearest = folded
    largest_center_sq = center_sq.max()
    for p in range(products_t.shape[1]):
        i = start + p
        slack = np.sqrt(2.0 * margin_unit * (x_sq[i] + largest_center_sq))
        label = labels[i]
        if lower.shape[0] > 0:
            for j in range(products_t.shape[0]):
                sq = max(x_sq[i] + center_sq[j] - 2.0 * products_t[j, p], 0.0)
                lower[i, j] = np.sqrt(sq) - slack + drift[j]
        if second.shape[0] > 0:
            other = second_smallest[p] if nearest[p] == label else smallest[p]
            second[i] = np.sqrt(max(x_sq[i] + other, 0.0)) - slack
        sq = max(x_sq[i] + center_sq[label] - 2.0 * products_t[label, p], 0.0)
        upper[i] = np.sqrt(sq) + slack


@kernel
def nearest_of_products(X, start, products, by_rows, centers, norms, out, bounds):
    """Label rows ``start … start + m − 1`` of ``X`` from their products with the centers.

    Inputs: ``products`` holds c_j · x_{start+p} (in the data's dtype) as ``[p, j]`` if
    ``by_rows`` (transposed here: the fold runs over the points, as SIMD code) else
    ``[j, p]``; ``norms = (center_sq, x_sq, margin_unit)``: ``‖c_j‖²`` and
    ``‖x_i‖²`` (float64) and ``(d + 4) u``.  Outputs ``out = (labels, changed)``:
    ``labels[i]`` the nearest center by the direct distance (see the module's docstring),
    ``changed[i]`` 1 where the label changed, else 0; and Elkan's ``bounds`` of these rows
    if it holds any (:func:`bounds_of_products`).  Returns how many labels changed.
    """
    center_sq = norms[0]
    products_t = np.ascontiguousarray(products.T) if by_rows else products
    folded = folds_for(products_t.shape[1])
    fold_by_centers(products_t, center_sq, folded)
    n_changed = settle_labels(X, start, products_t, centers, norms, folded, out)
    bounds_of_products(start, products_t, norms, out[0], folded, bounds)
    return n_changed


@kernel(inline="always")
def dot_four(x, c_0, c_1, c_2, c_3):
    """``(x · c_0, x · c_1, x · c_2, x · c_3)``, one pass over ``x``: inlined into
    :func:`direct_products`, whose fastmath lets LLVM split each sum into SIMD lanes."""
    total_0 = total_1 = total_2 = total_3 = x.dtype.type(0)
    for f in range(x.shape[0]):
        value = x[f]
        total_0 += value * c_0[f]
        total_1 += value * c_1[f]
        total_2 += value * c_2[f]
        total_3 += value * c_3[f]
    return total_0, total_1, total_2, total_3


@kernel(inline="always")
def dot_one(x, c):
    """``x · c`` (see :func:`dot_four`)."""
    total = x.dtype.type(0)
    for f in range(x.shape[0]):
        total += x[f] * c[f]
    return total


@kernel(inline="always")
def four_products(rows, centers, j, p, products):
    """``products[j + q, p] = c_{j+q} · x_p`` for q = 0 … 3 (:func:`dot_four`)."""
    products[j, p], products[j + 1, p], products[j + 2, p], products[j + 3, p] = dot_four(
        rows[p], centers[j], centers[j + 1], centers[j + 2], centers[j + 3]
    )


@kernel(fastmath={"reassoc", "contract"})
def direct_products(rows, centers):
    """``products[j, p] = c_j · x_p`` of a chunk of ``rows``, in the data's dtype, without
    BLAS: for a few centers (:data:`DIRECT_MAX_CENTERS`), four at a time and the rest one
    by one, each sum split into SIMD lanes in whatever order LLVM chooses (fastmath's
    reassociation; the product's rounding bound γ_d Σ_f |x_f c_f|, which the margins
    use, holds for any order of the sum).  BLAS multiplies a chunk by so few centers at
    a fraction of its speed.

    Which loop is outside depends on where the centers stay (:func:`centers_outside`):
    a row meets every center while it is in L1 cache, unless a group of four centers
    fits in registers or all of them would crowd a row out of L1; then a group of four
    stays put while the chunk's rows (which fit in L2) stream past it."""
    n_rows = rows.shape[0]
    n_clusters = centers.shape[0]
    products = np.empty((n_clusters, n_rows), dtype=rows.dtype)
    grouped = n_clusters - n_clusters % 4
    if centers_outside(rows.shape[1] * rows.itemsize, n_clusters):
        for j in range(0, grouped, 4):
            for p in range(n_rows):
                four_products(rows, centers, j, p, products)
        for j in range(grouped, n_clusters):
            for p in range(n_rows):
                products[j, p] = dot_one(rows[p], centers[j])
    else:
        for p in range(n_rows):
            for j in range(0, grouped, 4):
                four_products(rows, centers, j, p, products)
            for j in range(grouped, n_clusters):
                products[j, p] = dot_one(rows[p], centers[j])
    return products


@kernel(inline="always")
def centers_outside(row_bytes, n_clusters):
    """Whether :func:`direct_products` loops over the centers outside the rows: where
    four centers fit in registers (rows of at most 256 bytes), or where all of them take
    more than half of L1 cache (16 KiB).  Measured, products of 10⁷ float32 values with 8
    centers, centers outside ÷ inside: 0.83 × at d = 16, 0.86 × at 64, 1.07 × at 128,
    1.16 × at 300, 0.63 × at 784 (float64: 0.82 × at 300)."""
    return row_bytes <= 256 or n_clusters * row_bytes > 16 * 2**10


@kernel(inline="always")
def label_chunk(X, start, end, centers, centers_t, norms, layout, out, bounds):
    """Label rows ``start … end − 1``: their products with the centers, formed as
    ``layout = (form, chunk_rows)`` says (see :func:`products_form`: through BLAS,
    ``np.dot``, or :func:`direct_products`), then :func:`nearest_of_products`.  Returns
    how many labels changed."""
    form = layout[0]
    rows = X[start:end]
    if form == DIRECT:
        products = direct_products(rows, centers)
    elif form == BY_ROWS:
        products = np.dot(rows, centers_t)
    else:
        products = np.dot(centers, rows.T)
    return nearest_of_products(X, start, products, form == BY_ROWS, centers, norms, out, bounds)


@kernel(parallel=True)
def label_chunks(X, centers, norms, layout, out, bounds):
    """Label every row of ``X`` (see :func:`nearest_of_products` for ``out`` and
    ``bounds``), the chunks of ``layout[1]`` rows in parallel."""
    n_samples = X.shape[0]
    chunk_rows = layout[1]
    centers_t = np.ascontiguousarray(centers.T)
    for chunk in prange(-(-n_samples // chunk_rows)):
        end = min(n_samples, chunk * chunk_rows + chunk_rows)
        label_chunk(X, chunk * chunk_rows, end, centers, centers_t, norms, layout, out, bounds)


@kernel(parallel=True)
def lloyd_step(rows, centers, norms, layout, out, sums, bounds):
    """Lloyd's step for wide data: labels through BLAS and the per-block sums, merged in
    block order; returns how many labels changed.

    - In: ``rows = (X, sample_weight)``, ``centers``, and ``norms`` and ``layout`` (see
      :func:`label_chunk`).
    - In and out: ``out = (labels, changed)`` (see :func:`nearest_of_products`) and
      ``sums = (block_sums, block_weights, center_sums, cluster_weights)``: the sums
      of :func:`kmeans_scratch._lloyd.assign_and_accumulate`, merged (the same results).
    - Out: Elkan's or Hamerly's first ``bounds``, if given (:func:`bounds_of_products`).

    One pass over the rows: the blocks run in parallel, each in chunks of at most
    ``layout[1]`` rows, multiplied, labelled and summed while they are in cache.  A block
    of one chunk is summed only if a label changed (its sums are kept, as the tile
    kernel's step does); a longer one piece by piece (:func:`~._blocks.add_rows`, the same
    bits).
    """
    X, sample_weight = rows
    block_sums, block_weights, center_sums, cluster_weights = sums
    n_samples, n_features = X.shape
    n_clusters = centers.shape[0]
    n_blocks = block_sums.shape[0]
    chunk_rows = layout[1]
    centers_t = np.ascontiguousarray(centers.T)
    block_changed = np.zeros(n_blocks, dtype=np.int64)
    for block in prange(n_blocks):
        start, end = block_bounds(n_samples, n_blocks, block)
        n_pieces = -(-(end - start) // chunk_rows)
        if n_pieces == 1:
            count = label_chunk(X, start, end, centers, centers_t, norms, layout, out, bounds)
            if count:
                sum_rows(
                    X, sample_weight, out[0], start, end, block_sums[block], block_weights[block]
                )
        else:
            lanes = np.zeros((4, n_clusters, n_features + 1))
            count = 0
            for piece in range(n_pieces):
                first, last = block_bounds(end - start, n_pieces, piece)
                count += label_chunk(
                    X, start + first, start + last, centers, centers_t, norms, layout, out, bounds
                )
                add_rows(X, sample_weight, out[0], start + first, start + last, start, lanes)
            lanes_into(lanes, block_sums[block], block_weights[block])
        block_changed[block] = count
    return merge_blocks(block_sums, block_weights, block_changed, center_sums, cluster_weights)


#: ``(lower, upper, drift, second)`` for a step that writes no bounds (see
#: :func:`bounds_of_products`).
NO_BOUNDS = (np.empty((0, 0)), np.empty(0), np.empty(0), np.empty(0))


def bounds_to_write(upper, lower=None, drift=None, second=None):
    """``bounds`` of :func:`bounds_of_products`: Elkan's ``upper``, ``lower`` and
    ``drift``, or Hamerly's ``upper`` and ``second``; a slot not given stays empty."""
    empty_lower, _, empty_drift, empty_second = NO_BOUNDS
    return (
        empty_lower if lower is None else lower,
        upper,
        empty_drift if drift is None else drift,
        empty_second if second is None else second,
    )


_blas_controller = None


def one_blas_thread():
    """A context in which BLAS runs on one thread: each of our threads multiplies its own
    chunk, as scikit-learn's chunks do (a chunk's products stay in its core's cache).
    ``np.dot`` in a kernel calls SciPy's BLAS, loaded here first so that the limit holds
    for it too."""
    global _blas_controller
    if _blas_controller is None:
        import scipy.linalg.cython_blas  # noqa: F401  (the BLAS of Numba's np.dot)
        from threadpoolctl import ThreadpoolController

        _blas_controller = ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")


def products_by_rows(n_features, n_clusters):
    """Whether the products of a chunk are formed as X Cᵀ (a row per point) rather than
    C Xᵀ (a row per center).  BLAS forms X Cᵀ up to twice as fast when there are few
    centers, and transposing the (small) result for the fold costs less than the time
    saved; measured on this project's 2-core machine: up to 8 centers at 32 features, 16
    at 64, 32 from 128."""
    return n_clusters <= min(32, n_features // 4)


def products_form(n_features, n_clusters, itemsize):
    """How a chunk's products with the centers are formed: :data:`DIRECT`
    (:func:`direct_products`) for at most ``DIRECT_MAX_CENTERS`` centers on rows of at
    most ``DIRECT_MAX_ROW_BYTES``, else through BLAS, :data:`BY_ROWS` where
    :func:`products_by_rows`, else :data:`BY_CENTERS`."""
    if n_clusters <= DIRECT_MAX_CENTERS and n_features * itemsize <= DIRECT_MAX_ROW_BYTES:
        return DIRECT
    return BY_ROWS if products_by_rows(n_features, n_clusters) else BY_CENTERS


def chunk_rows_for(X, n_clusters):
    """Rows per chunk (at least 64): their products with the centers fit in ``CHUNK_BYTES``
    and the rows themselves in ``CHUNK_DATA_BYTES`` (less for fewer than 32 centers), so
    that both are still in the core's cache when they are read again (the products to
    label, the rows to sum)."""
    itemsize = X.dtype.itemsize
    data_bytes = min(CHUNK_DATA_BYTES, CHUNK_DATA_BYTES_PER_CENTER * n_clusters)
    return max(
        64,
        min(CHUNK_BYTES // (itemsize * n_clusters), data_bytes // (itemsize * X.shape[1])),
    )


def norms_and_layout(X, x_sq, centers):
    """``(norms, layout)`` of :func:`label_chunk` for these rows and centers."""
    n_clusters, n_features = centers.shape
    margin_unit = (n_features + 4) * float(np.finfo(X.dtype).eps)
    norms = (center_sq_norms(centers), x_sq, margin_unit)
    form = products_form(n_features, n_clusters, X.dtype.itemsize)
    return norms, (form, chunk_rows_for(X, n_clusters))


def label_rows(X, x_sq, centers, labels, changed):
    """Label the rows of ``X`` with their nearest centers through BLAS, in chunks spread
    over the threads (see :func:`nearest_of_products` for the outputs)."""
    norms, layout = norms_and_layout(X, x_sq, centers)
    with one_blas_thread():
        label_chunks(X, centers, norms, layout, (labels, changed), NO_BOUNDS)


def assign_and_accumulate_blas(rows, x_sq, centers, out, sums, bounds=None):
    """Lloyd's step for wide data (:func:`lloyd_step`, whose arguments these are, with
    ``x_sq`` the rows' :func:`row_sq_norms`); returns how many labels changed.  With
    ``bounds`` (see :func:`bounds_of_products`), also writes Elkan's or Hamerly's bounds of
    every row."""
    norms, layout = norms_and_layout(rows[0], x_sq, centers)
    with one_blas_thread() if layout[0] != DIRECT else contextlib.nullcontext():
        return lloyd_step(
            rows, centers, norms, layout, out, sums, NO_BOUNDS if bounds is None else bounds
        )
