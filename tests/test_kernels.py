"""The Numba kernels on their own, against brute-force NumPy on awkward shapes."""

import math

import numpy as np
import pytest

from kmeans_scratch._blocks import (
    block_sums_for,
    column_moments,
    each_row,
    merge_blocks,
    n_blocks_for,
)
from kmeans_scratch._distances import (
    assign_labels,
    euclidean_distances_to_centers,
    inertia_of_labels,
    sq_distance_f64,
)
from kmeans_scratch._lloyd import assign_and_accumulate
from kmeans_scratch._tiles import TILE_ROWS


def block_state(n_samples, n_clusters, n_features):
    """Lloyd's per-block state: (block sums, block weights, labels changed per block)."""
    block_sums, block_weights = block_sums_for(n_samples, n_clusters, n_features)
    return block_sums, block_weights, np.zeros(block_sums.shape[0], dtype=np.int64)


def lloyd_step(X, weights, centers, labels, blocks, sums, cluster_weights):
    """The tile kernel over every block of rows, its block sums merged into ``sums`` and
    ``cluster_weights``; how many labels changed."""
    assign_and_accumulate((0, blocks[0].shape[0], 1), (X, weights), centers, labels, blocks)
    return merge_blocks(*blocks, sums, cluster_weights)


def brute_force(X, weights, centers):
    sq = ((X.astype(np.float64)[:, None, :] - centers.astype(np.float64)[None]) ** 2).sum(-1)
    labels = sq.argmin(axis=1)
    return labels, sq, float((sq.min(axis=1) * weights).sum())


@pytest.mark.parametrize(
    "n_samples, n_features, n_clusters",
    [
        (1, 1, 1),
        (7, 2, 3),  # fewer rows than a tile, clusters not a multiple of 4
        (TILE_ROWS + 1, 3, 5),  # one row spills into a second tile
        (3 * TILE_ROWS - 1, 1, 9),  # a single feature
        (70_000, 3, 17),  # many blocks
        (5_000, 33, 4),
    ],
)
def test_assign_and_accumulate_match_brute_force(n_samples, n_features, n_clusters, dtype):
    rng = np.random.RandomState(n_samples + n_clusters)
    X = rng.normal(size=(n_samples, n_features)).astype(dtype)
    centers = rng.normal(size=(n_clusters, n_features)).astype(dtype)
    weights = rng.uniform(0.5, 2.0, n_samples).astype(dtype)
    expected_labels, sq, expected_inertia = brute_force(X, weights, centers)

    labels = np.full(n_samples, -1, dtype=np.int32)
    inertia = assign_labels(X, weights, centers, labels)
    # Labels may differ only where two centers are equally near within rounding.
    rows = np.arange(n_samples)
    np.testing.assert_allclose(sq[rows, labels], sq[rows, expected_labels], rtol=1e-5)
    assert (labels == expected_labels).mean() > 0.999
    assert inertia == pytest.approx(expected_inertia, rel=1e-5)
    assert inertia_of_labels(X, weights, centers, labels) == pytest.approx(inertia, rel=1e-6)

    sums = np.empty((n_clusters, n_features))
    cluster_weights = np.empty(n_clusters)
    labels_again = np.full(n_samples, -1, dtype=np.int32)
    blocks = block_state(n_samples, n_clusters, n_features)
    n_changed = lloyd_step(X, weights, centers, labels_again, blocks, sums, cluster_weights)
    assert n_changed == n_samples
    np.testing.assert_array_equal(labels_again, labels)
    w64 = weights.astype(np.float64)
    for j in range(n_clusters):
        members = labels == j
        np.testing.assert_allclose(cluster_weights[j], w64[members].sum(), rtol=1e-10)
        np.testing.assert_allclose(
            sums[j],
            (X[members].astype(np.float64) * w64[members, None]).sum(0),
            rtol=1e-9,
            atol=1e-9,
        )
    # Nothing changes on a second pass: every block keeps its sums, and they are the same.
    sums_before, weights_before = sums.copy(), cluster_weights.copy()
    assert lloyd_step(X, weights, centers, labels_again, blocks, sums, cluster_weights) == 0
    np.testing.assert_array_equal(sums, sums_before)
    np.testing.assert_array_equal(cluster_weights, weights_before)


def test_only_changed_blocks_are_summed_again_and_give_the_same_bits():
    """Kept block sums equal fresh ones after labels change in some blocks only."""
    rng = np.random.RandomState(3)
    X = rng.normal(size=(20_000, 3))
    weights = rng.uniform(0.5, 2.0, 20_000)
    centers = rng.normal(size=(9, 3))
    labels = np.full(20_000, -1, dtype=np.int32)
    kept = block_state(20_000, 9, 3)
    sums, mass = np.empty((9, 3)), np.empty(9)
    lloyd_step(X, weights, centers, labels, kept, sums, mass)
    moved = centers.copy()
    moved[0] += 0.05  # a small move: labels change near center 0 only
    changed = lloyd_step(X, weights, moved, labels, kept, sums, mass)
    assert 0 < changed < 2_000
    fresh_labels = np.full(20_000, -1, dtype=np.int32)
    fresh_sums, fresh_mass = np.empty((9, 3)), np.empty(9)
    fresh = block_state(20_000, 9, 3)
    lloyd_step(X, weights, moved, fresh_labels, fresh, fresh_sums, fresh_mass)
    np.testing.assert_array_equal(labels, fresh_labels)
    np.testing.assert_array_equal(sums, fresh_sums)
    np.testing.assert_array_equal(mass, fresh_mass)


def test_ties_go_to_the_lowest_center_index():
    X = np.array([[0.0, 0.0], [2.0, 0.0]])
    centers = np.array([[1.0, 1.0], [1.0, -1.0], [1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    labels = np.empty(2, dtype=np.int32)
    assign_labels(X, np.ones(2), centers, labels)
    np.testing.assert_array_equal(labels, [0, 0])


def test_transform_kernel():
    rng = np.random.RandomState(0)
    X, centers = rng.normal(size=(300, 4)), rng.normal(size=(6, 4))
    out = np.empty((300, 6))
    euclidean_distances_to_centers(X, centers, out)
    np.testing.assert_allclose(out, np.sqrt(brute_force(X, np.ones(300), centers)[1]), rtol=1e-12)


@pytest.mark.parametrize("n_features", [1, 3, 4, 7, 9, 784])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sq_distance_f64_is_four_interleaved_sums(n_features, dtype):
    """Features f, f + 4, … summed apart in float64, added pairwise, then the last d mod 4
    terms, each term (a_f − b_f)² in the data's dtype: the bits of that order, and within
    d · u of the exact sum."""
    rng = np.random.default_rng(n_features)
    a, b = (rng.normal(size=(2, n_features)) * 10).astype(dtype)
    terms = [np.float64((a[f] - b[f]) * (a[f] - b[f])) for f in range(n_features)]
    whole = n_features - n_features % 4
    sums = [0.0] * 4
    for f in range(whole):
        sums[f % 4] += terms[f]
    expected = (sums[0] + sums[1]) + (sums[2] + sums[3])
    for f in range(whole, n_features):
        expected += terms[f]
    got = sq_distance_f64(a, b)
    assert got == expected
    exact = math.fsum(terms)
    assert abs(got - exact) <= n_features * np.finfo(np.float64).eps * exact


def test_block_count_depends_on_problem_size_only():
    assert n_blocks_for(10, 8) == 1
    assert n_blocks_for(10**7, 8) == 256
    assert n_blocks_for(10**7, 10**6) == 16  # accumulator budget
    assert n_blocks_for(10**7, 10**9) == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_samples", [1, 5, 70_000])
def test_column_moments_match_numpy(n_samples, dtype):
    rng = np.random.default_rng(n_samples)
    # A large offset: the one-pass formula E[x²] − E[x]² would lose every digit here.
    X = (1e4 + rng.normal(size=(n_samples, 3)) * [1e-2, 1.0, 3.0]).astype(dtype)
    weights = rng.uniform(0.0, 3.0, n_samples).astype(dtype)
    weights[0] = 1.0
    mean, variances = column_moments(X, weights)
    X64, w64 = X.astype(np.float64), weights.astype(np.float64)
    expected_mean = np.average(X64, axis=0, weights=w64)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-12)
    expected = np.average((X64 - expected_mean) ** 2, axis=0, weights=w64)
    np.testing.assert_allclose(variances, expected, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("n_features", [1, 3, 7, 5000])
@pytest.mark.parametrize("in_place", [False, True])
def test_each_row_gives_the_bits_of_numpy_broadcasting(n_features, in_place):
    """Centering by the kernel (C order, one dtype) or by NumPy (the rest): the bits of
    ``X - mean`` and ``X + mean``, C or Fortran order, in place, into another dtype."""
    rng = np.random.default_rng(n_features)
    for n_rows in (0, 5, 4096 // n_features * 3 + 11):
        for source, target in [(np.float32,) * 2, (np.float64,) * 2, (np.float64, np.float32)]:
            X = (rng.standard_normal((n_rows, n_features)) * 1e3).astype(source)
            mean = rng.standard_normal(n_features).astype(target)
            for order in "CF":
                X_ordered = np.asarray(X, order=order)
                for ufunc in (np.subtract, np.add):
                    expected = ufunc(X.astype(target), mean)
                    if in_place and source == target:
                        out = X_ordered.copy(order=order)
                        got = each_row(ufunc, out, mean, out=out)
                    else:
                        got = each_row(ufunc, X_ordered, mean, out=np.empty(X.shape, target))
                    assert got.dtype == target
                    np.testing.assert_array_equal(
                        got.view(f"u{got.itemsize}"), expected.view(f"u{expected.itemsize}")
                    )
