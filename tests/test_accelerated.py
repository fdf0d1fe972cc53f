"""Hamerly and Elkan are exact: from the same init, Lloyd's labels, centers and iterations."""

import numpy as np
import pytest

from kmeans_scratch import KMeans, _elkan
from kmeans_scratch._bounds import center_geometry, largest_neighbor_moves, smallest
from kmeans_scratch._hamerly import local_search, neighbor_coordinates

from .helpers import blobs, image_pixels, jittered_pixel_init

ACCELERATED = ["hamerly", "elkan"]

# The bounds' own code, on data where a fit would run Lloyd's step instead (see conftest).
pytestmark = pytest.mark.usefixtures("bounds_everywhere")


def fit_all(X, n_clusters, init, sample_weight=None, **params):
    return {
        algorithm: KMeans(n_clusters, init=init, n_init=1, algorithm=algorithm, **params).fit(
            X, sample_weight=sample_weight
        )
        for algorithm in ["lloyd", *ACCELERATED]
    }


def assert_same_as_lloyd(fits):
    lloyd = fits["lloyd"]
    for algorithm in ACCELERATED:
        fitted = fits[algorithm]
        np.testing.assert_array_equal(fitted.labels_, lloyd.labels_, err_msg=algorithm)
        np.testing.assert_array_equal(fitted.cluster_centers_, lloyd.cluster_centers_, algorithm)
        assert fitted.n_iter_ == lloyd.n_iter_, algorithm
        assert fitted.inertia_ == lloyd.inertia_, algorithm


@pytest.mark.parametrize("n_clusters", [1, 5, 64, 200])
@pytest.mark.parametrize("image", ["china", "coffee"])
def test_bit_for_bit_lloyd_on_pixels(image, n_clusters, dtype):
    """Integer pixels and pixel inits: exact ties everywhere, still Lloyd's exact run."""
    X = image_pixels(image, dtype)[::2]
    init = X[np.random.RandomState(n_clusters).choice(X.shape[0], n_clusters, replace=False)]
    assert_same_as_lloyd(fit_all(X, n_clusters, init))


def test_bit_for_bit_lloyd_with_weights_and_tol_zero():
    X = image_pixels("astronaut")
    colors, counts = np.unique(X, axis=0, return_counts=True)
    init = jittered_pixel_init(colors, 48, seed=4)
    assert_same_as_lloyd(fit_all(colors, 48, init, sample_weight=counts, tol=0))


@pytest.mark.parametrize("n_features", [2, 16, 64])
def test_bit_for_bit_lloyd_in_higher_dimensions(n_features):
    X = blobs(6_000, n_features, 20, seed=n_features)
    init = X[:40] + 0.5
    assert_same_as_lloyd(fit_all(X, 40, init))


def test_empty_clusters_relocate_the_same_way():
    X = blobs(3_000, 3, 5, seed=2)
    init = np.vstack([X[:5], [[500.0, 500.0, 500.0], [-500.0, 0.0, 0.0]]])
    fits = fit_all(X, 7, init)
    assert_same_as_lloyd(fits)
    assert len(np.unique(fits["hamerly"].labels_)) == 7


def test_fewer_distinct_points_than_clusters():
    X = np.repeat(np.eye(3), 20, axis=0)
    init = np.vstack([np.eye(3), np.eye(3) * 0.9])
    with pytest.warns(Warning, match="Number of distinct clusters"):
        fits = fit_all(X, 6, init)
    assert_same_as_lloyd(fits)


@pytest.mark.slow
def test_elkan_refuses_before_allocating_beyond_its_budget(monkeypatch):
    monkeypatch.setattr(_elkan, "BOUNDS_BUDGET_BYTES", 1_000_000)
    X = image_pixels("coffee")
    with pytest.raises(ValueError, match=r"algorithm='elkan' needs .* Use algorithm='hamerly'"):
        KMeans(16, algorithm="elkan", random_state=0).fit(X)
    # The same problem within the budget runs.
    KMeans(2, algorithm="elkan", random_state=0).fit(X[:1000])


@pytest.mark.parametrize("length", [0, 1, 3, 4, 5, 8, 11, 256])
def test_smallest_is_the_minimum_wherever_it_lies(length):
    values = np.random.RandomState(length).uniform(1, 2, length)
    assert smallest(values) == (values.min() if length else np.inf)
    for place in range(length):  # in each of the four lanes and in the tail
        lowered = values.copy()
        lowered[place] = 0.5
        assert smallest(lowered) == 0.5
        lowered[length - 1 - place] = 0.5  # a tie
        lowered[(place + 1) % length] = np.inf
        assert smallest(lowered) == lowered.min()


def test_center_geometry_matches_brute_force():
    rng = np.random.RandomState(0)
    centers = rng.normal(size=(30, 3))
    movement = rng.uniform(0, 1, 30)
    distances = np.sqrt(((centers[:, None] - centers[None]) ** 2).sum(-1))
    np.fill_diagonal(distances, np.inf)
    for n_neighbors in (1, 5, 29):
        neighbors = np.zeros((30, n_neighbors), dtype=np.int64)
        half_separation, far_bound = center_geometry(centers, neighbors, True)
        neighbor_move = largest_neighbor_moves(neighbors, movement)
        for a in range(30):
            others = np.argsort(distances[a])[:29]  # every center but a, nearest first
            near = others[: min(n_neighbors, 29)]
            np.testing.assert_array_equal(neighbors[a], near)
            np.testing.assert_allclose(half_separation[a], 0.5 * distances[a].min(), rtol=1e-14)
            assert neighbor_move[a] == movement[near].max()
            expected = distances[a, others[n_neighbors]] if n_neighbors < 29 else np.inf
            # The same neighborhoods given instead of chosen give the same geometry.
            assert center_geometry(centers, neighbors, False)[1][a] == far_bound[a]
            np.testing.assert_allclose(far_bound[a], expected, rtol=1e-14)
    # Any set of centers is a valid neighborhood: R(a) is the nearest center outside it.
    neighbors = np.array([[(a + 1) % 30, (a + 2) % 30] for a in range(30)])
    _, far_bound = center_geometry(centers, neighbors, False)
    for a in range(30):
        outside = np.delete(distances[a], neighbors[a])
        np.testing.assert_allclose(far_bound[a], outside.min(), rtol=1e-14)
    neighbors = np.zeros((1, 0), dtype=np.int64)  # k = 1: no other center
    half_separation, far_bound = center_geometry(centers[:1], neighbors, True)
    assert half_separation[0] == far_bound[0] == np.inf
    assert largest_neighbor_moves(neighbors, movement[:1])[0] == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_local_search_is_the_argmin_over_center_and_neighbors(dtype):
    """Nearest of c_a and its neighbors, ties to the lowest index, and the second smallest
    squared distance, with the bits of Lloyd's arithmetic (brute force in the data dtype)."""
    rng = np.random.RandomState(1)
    centers = rng.randint(0, 6, size=(40, 3)).astype(dtype)  # integer grid: many exact ties
    points = rng.randint(0, 6, size=(300, 3)).astype(dtype)
    neighbors = np.array(
        [rng.choice(np.delete(np.arange(40), a), 7, replace=False) for a in range(40)]
    )
    coordinates = neighbor_coordinates(centers, neighbors)
    sq = np.empty(7, dtype=dtype)
    for x in points:
        a = rng.randint(40)
        candidates = np.r_[a, neighbors[a]]
        diff = x[None, :] - centers[candidates]
        sq_all = (diff[:, 0] * diff[:, 0] + diff[:, 1] * diff[:, 1]) + diff[:, 2] * diff[:, 2]
        order = np.lexsort((candidates, sq_all))  # by distance, then by index
        nearest, nearest_sq, second_sq = local_search(
            x, a, sq_all[0], neighbors[a], coordinates[a], sq
        )
        assert nearest == candidates[order[0]]
        assert nearest_sq == sq_all[order[0]]
        assert second_sq == sq_all[order[1]]
