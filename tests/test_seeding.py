"""k-means++ against scikit-learn's: same draws, same seeds."""

import numpy as np
import pytest
from sklearn.cluster import kmeans_plusplus as sklearn_kmeans_plusplus

from kmeans_scratch import kmeans_plusplus

from .helpers import blobs, image_pixels


@pytest.mark.parametrize("n_clusters", [1, 2, 7, 64, 256])
def test_same_indices_as_sklearn_on_real_valued_data(n_clusters, dtype):
    X = blobs(20_000, 3, 12, seed=n_clusters, dtype=dtype)
    ours_centers, ours = kmeans_plusplus(X, n_clusters, random_state=n_clusters)
    _, theirs = sklearn_kmeans_plusplus(X, n_clusters, random_state=n_clusters)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(ours_centers, X[ours])
    assert ours_centers.dtype == dtype


def test_same_indices_as_sklearn_with_weights_and_trials():
    X = blobs(10_000, 5, 20, seed=3)
    weights = np.random.RandomState(3).uniform(0.1, 4.0, 10_000)
    for trials in (1, 5):
        _, ours = kmeans_plusplus(
            X, 40, sample_weight=weights, random_state=9, n_local_trials=trials
        )
        _, theirs = sklearn_kmeans_plusplus(
            X, 40, sample_weight=weights, random_state=9, n_local_trials=trials
        )
        np.testing.assert_array_equal(ours, theirs)


def test_seeds_spread_over_image_colors():
    """Greedy D² seeding on pixels: distinct colors, lower potential than a random pick."""
    X = image_pixels("astronaut")
    centers, _ = kmeans_plusplus(X, 32, random_state=0)
    assert len(np.unique(centers, axis=0)) == 32

    def potential(centers):
        sq = ((X[:, None, :] - centers[None]) ** 2).sum(-1)
        return sq.min(axis=1).sum()

    random_centers = X[np.random.RandomState(0).choice(X.shape[0], 32, replace=False)]
    assert potential(centers) < 0.5 * potential(random_centers)


def test_same_seed_same_result_and_different_seed_different_result():
    X = image_pixels("coffee")[::3]
    _, first = kmeans_plusplus(X, 16, random_state=1)
    _, again = kmeans_plusplus(X, 16, random_state=1)
    _, other = kmeans_plusplus(X, 16, random_state=2)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
