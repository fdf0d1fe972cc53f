"""Repeated rows collapse into weighted distinct rows without changing any result."""

import numpy as np
import pytest
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.exceptions import ConvergenceWarning

from kmeans_scratch import KMeans, _distinct
from kmeans_scratch._distinct import collapse_duplicates, distinct_rows, row_bits

from .helpers import blobs, image_pixels, jittered_pixel_init


@pytest.mark.parametrize("n_features", [1, 3, 7, 16])
@pytest.mark.parametrize("n_rows", [1, 2, 1_000, 150_000])
def test_distinct_rows_match_numpy_unique(n_rows, n_features, dtype):
    """Many parts (150,000 rows) or one, few values per feature so that rows repeat."""
    rng = np.random.default_rng(n_rows * n_features)
    X = rng.integers(0, 6, size=(n_rows, n_features)).astype(dtype) / 4
    first, inverse = distinct_rows(row_bits(X))

    _, expected_first = np.unique(X, axis=0, return_index=True)
    np.testing.assert_array_equal(first, np.sort(expected_first))  # in order of appearance
    np.testing.assert_array_equal(X[first][inverse], X)
    assert (first[inverse] <= np.arange(n_rows)).all()  # each row's is its first occurrence


def test_rows_with_equal_or_swapped_lanes_hash_apart():
    """The four-lane hash of wide rows: rows [a, a, 0, 0] and their swaps [0, a, a, 0] and
    one-hot rows get as many distinct hashes as rows (equal lanes once all cancelled)."""
    values = np.arange(1, 5_001, dtype=np.float64)
    equal = np.zeros((5_000, 4))
    equal[:, 0] = equal[:, 1] = values
    swapped = np.roll(equal, 1, axis=1)
    one_hot = np.eye(8)
    for rows in (equal, swapped, one_hot, np.vstack([equal, swapped])):
        bits = row_bits(np.ascontiguousarray(rows))
        hashes = {int(_distinct.row_hash(bits, i)) for i in range(rows.shape[0])}
        assert len(hashes) == rows.shape[0]


def test_only_equal_bits_merge():
    """0.0 and −0.0 are equal values but different bits: kept apart (a missed merge only);
    rows that differ in the last bit of one feature stay apart too."""
    X = np.array([[0.0, 1.0], [-0.0, 1.0], [0.0, 1.0], [0.0, np.nextafter(1.0, 2.0)]])
    first, inverse = distinct_rows(row_bits(X))
    np.testing.assert_array_equal(first, [0, 1, 3])
    np.testing.assert_array_equal(inverse, [0, 1, 0, 2])


def test_search_gives_up_when_the_first_rows_hardly_repeat():
    rng = np.random.default_rng(5)
    unique_then_repeated = np.vstack([rng.normal(size=(1_000, 3)), np.zeros((9_000, 3))])
    first, inverse = distinct_rows(row_bits(unique_then_repeated), 1_000, 0.9)
    assert first.shape[0] == 0 and inverse.shape[0] == 0
    half_repeated = np.repeat(rng.normal(size=(5_000, 3)), 2, axis=0)
    first, inverse = distinct_rows(row_bits(half_repeated), 1_000, 0.9)  # 50 % distinct
    np.testing.assert_array_equal(first, np.arange(0, 10_000, 2))
    np.testing.assert_array_equal(inverse, np.arange(10_000) // 2)
    # rows met in the probe's small table are found again after it grew for every row
    twice = np.vstack([half_repeated[::2], half_repeated[::2]])
    first, inverse = distinct_rows(row_bits(twice), 1_000, 1.0)
    np.testing.assert_array_equal(first, np.arange(5_000))
    np.testing.assert_array_equal(inverse, np.arange(10_000) % 5_000)


@pytest.mark.parametrize("n_features, collapses", [(3, True), (300, False)])
def test_the_probe_reads_as_many_values_at_any_width(n_features, collapses):
    """2,000 distinct rows, then 8,000 copies of one: 3 features are read to the end (a
    probe of 65,536 rows) and collapse; rows of 300 features fail the probe of their first
    1,024 rows, all distinct, and are fitted as they are."""
    rng = np.random.default_rng(n_features)
    X = np.vstack([rng.normal(size=(2_000, n_features)), np.zeros((8_000, n_features))])
    assert _distinct.PROBE_VALUES // 3 > X.shape[0] > _distinct.PROBE_MIN_ROWS
    assert _distinct.PROBE_VALUES // 300 < _distinct.PROBE_MIN_ROWS < 2_000
    collapsed = collapse_duplicates(X, np.ones(X.shape[0]))
    assert (collapsed is not None) == collapses
    if collapses:
        assert collapsed[0].shape[0] == 2_001


def test_collapse_sums_the_weights_and_declines_when_rows_rarely_repeat():
    X = image_pixels("coffee")
    weights = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    rows, row_weight, inverse = collapse_duplicates(X, weights)
    assert rows.shape[0] < 0.5 * X.shape[0]
    np.testing.assert_array_equal(rows[inverse], X)
    np.testing.assert_allclose(row_weight, np.bincount(inverse, weights=weights), rtol=1e-14)
    assert collapse_duplicates(blobs(5_000, 3, 4, seed=0), np.ones(5_000)) is None


@pytest.mark.parametrize("n_clusters", [7, 64])
def test_fit_on_collapsed_rows_is_the_fit_on_every_row(n_clusters, algorithm, dtype, monkeypatch):
    """Same labels, iterations and (up to the order of the sums) centers and inertia as
    the iteration on every row, with repeated rows of unequal weights."""
    X = image_pixels("china", dtype)[::3]
    weights = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0]).astype(dtype)
    init = jittered_pixel_init(X, n_clusters, seed=n_clusters)
    fits = {}
    for collapse_below in (0.0, 1.0):  # never, always
        monkeypatch.setattr(_distinct, "COLLAPSE_BELOW_FRACTION", collapse_below)
        fits[collapse_below] = KMeans(n_clusters, init=init, n_init=1, algorithm=algorithm).fit(
            X, sample_weight=weights
        )
    every_row, collapsed = fits[0.0], fits[1.0]
    np.testing.assert_array_equal(collapsed.labels_, every_row.labels_)
    assert collapsed.n_iter_ == every_row.n_iter_
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(collapsed.cluster_centers_, every_row.cluster_centers_, rtol=rtol)
    assert collapsed.inertia_ == pytest.approx(every_row.inertia_, rel=rtol)


def test_empty_cluster_on_repeated_rows_is_reseeded_like_sklearn(algorithm):
    """Re-seeding moves one copy of a repeated row, which a merged row cannot do: the run
    is done again on every row, and ends where scikit-learn's does."""
    X = np.repeat(blobs(1_000, 2, 4, seed=6) + 0.01, 3, axis=0)
    assert collapse_duplicates(X, np.ones(X.shape[0])) is not None
    init = np.vstack([X[:12:3], [[1e3, 1e3], [-1e3, 1e3]]])
    ours = KMeans(6, init=init, n_init=1, algorithm=algorithm).fit(X)
    theirs = SklearnKMeans(6, init=init, n_init=1).fit(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-6)
    assert ours.n_iter_ == theirs.n_iter_
    assert len(np.unique(ours.labels_)) == 6


@pytest.mark.parametrize(
    "X",
    [np.array([[1.0]] + [[0.0]] * 9), np.array([[1.0]] * 2 + [[32785.0]] * 5)],
    ids=["1-and-nine-0", "two-1-and-five-32785"],
)
def test_more_clusters_than_distinct_rows_labels_every_row_to_a_nearest_center(X, algorithm):
    """Found by hypothesis: re-seeding an empty cluster on rounding noise moves centers
    after the labels were taken; the final E-step makes them agree again (scikit-learn's
    own labels disagree with its centers on the second X at k = 7)."""
    for n_clusters in range(3, X.shape[0] + 1):
        with pytest.warns(ConvergenceWarning):
            fitted = KMeans(n_clusters, random_state=0, algorithm=algorithm).fit(X)
        distances = (X - fitted.cluster_centers_.T) ** 2
        chosen = distances[np.arange(X.shape[0]), fitted.labels_]
        np.testing.assert_allclose(chosen, distances.min(axis=1), rtol=0, atol=1e-12)
        assert fitted.inertia_ == pytest.approx(0.0, abs=1e-12)
