"""Oracle test 4: a weight is a count.  The image layer fits unique colors weighted by counts."""

import numpy as np
import pytest
from sklearn.cluster import KMeans as SklearnKMeans

from kmeans_scratch import KMeans, kmeans_plusplus

from .helpers import image_pixels, jittered_pixel_init


@pytest.mark.parametrize("n_clusters", [4, 16, 64])
def test_unique_rows_weighted_by_counts_equal_repeated_rows(n_clusters, algorithm):
    X = image_pixels("coffee")
    unique, inverse, counts = np.unique(X, axis=0, return_inverse=True, return_counts=True)
    assert unique.shape[0] < X.shape[0] / 2  # the weighted problem really is smaller
    init = jittered_pixel_init(X, n_clusters, seed=7)

    repeated = KMeans(n_clusters, init=init, n_init=1, algorithm=algorithm).fit(X)
    weighted = KMeans(n_clusters, init=init, n_init=1, algorithm=algorithm)
    weighted.fit(unique, sample_weight=counts)

    np.testing.assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_, rtol=1e-9)
    assert weighted.inertia_ == pytest.approx(repeated.inertia_, rel=1e-9)
    assert weighted.n_iter_ == repeated.n_iter_
    np.testing.assert_array_equal(weighted.labels_[inverse.ravel()], repeated.labels_)


def test_weighted_fit_matches_sklearn_weighted_fit(algorithm):
    """Same run as scikit-learn with weights, run to strict convergence (``tol=0``).

    With weights, ``tol`` is scaled by the weighted variance here and by the unweighted
    one in scikit-learn, so a tolerance-based stop could come at another iteration.
    """
    X = image_pixels("china")
    unique, counts = np.unique(X, axis=0, return_counts=True)
    init = jittered_pixel_init(unique, 32, seed=3)
    ours = KMeans(32, init=init, n_init=1, tol=0, algorithm=algorithm)
    ours.fit(unique, sample_weight=counts)
    theirs = SklearnKMeans(32, init=init, n_init=1, tol=0).fit(unique, sample_weight=counts)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-6)
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-6)


def test_kmeans_plusplus_never_picks_a_zero_weight_sample():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(2_000, 3))
    weights = np.where(rng.uniform(size=2_000) < 0.5, 0.0, 1.0)
    for seed in range(5):
        _, indices = kmeans_plusplus(X, 20, sample_weight=weights, random_state=seed)
        assert (weights[indices] > 0).all()


def test_weight_scales_like_repetition_for_kmeans_plusplus_potential():
    """Doubling every weight changes no choice: k-means++ depends on relative weights only."""
    X = image_pixels("astronaut")[::7]
    weights = np.random.RandomState(1).randint(1, 5, X.shape[0]).astype(np.float64)
    _, once = kmeans_plusplus(X, 16, sample_weight=weights, random_state=5)
    _, twice = kmeans_plusplus(X, 16, sample_weight=2 * weights, random_state=5)
    np.testing.assert_array_equal(once, twice)
