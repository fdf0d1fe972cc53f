"""The plain NumPy algorithms of ``kmeans_scratch.reference``: the second oracle.

From the same centers, each reference function and the fast path give the same labels
and number of iterations, centers equal to 1e-10 (relative); the reference k-means++
picks scikit-learn's rows.  Pixels are integers, whose exact ties each implementation
may break its own way, so their initial centers are jittered (see ``helpers``).
"""

import numpy as np
import pytest
from sklearn.cluster import kmeans_plusplus as sklearn_kmeans_plusplus

from kmeans_scratch import KMeans, reference

from .helpers import blobs, image_pixels, jittered_pixel_init

# The bounds' own code, on data where a fit would run Lloyd's step instead (see conftest).
pytestmark = pytest.mark.usefixtures("bounds_everywhere")


def datasets():
    rng = np.random.RandomState(0)
    X = blobs(3000, 4, 8, seed=1)
    yield "blobs", X, None, 8
    yield "blobs, weighted", X, rng.uniform(0.5, 3.0, X.shape[0]), 8
    yield "coffee pixels", image_pixels("coffee")[::7], None, 16
    yield "china pixels", image_pixels("china")[::9], None, 32


CASES = list(datasets())


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly", "elkan"])
@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
@pytest.mark.parametrize("max_iter", [300, 5])
def test_the_reference_gives_the_fast_paths_fit(case, algorithm, max_iter):
    name, X, weights, k = case
    init = jittered_pixel_init(X, k, seed=0)
    fast = KMeans(k, init=init, n_init=1, algorithm=algorithm, max_iter=max_iter)
    fast.fit(X, sample_weight=weights)
    plain = getattr(reference, algorithm)
    centers, labels, inertia, n_iter = plain(X, init, weights, max_iter=max_iter)
    np.testing.assert_array_equal(labels, fast.labels_)
    assert n_iter == fast.n_iter_
    scale = np.abs(fast.cluster_centers_).max()
    np.testing.assert_allclose(centers, fast.cluster_centers_, rtol=0, atol=1e-10 * scale)
    assert inertia == pytest.approx(fast.inertia_, rel=1e-10)
    if max_iter == 5 and "pixels" in name:
        assert n_iter == 5  # pixels take some 50 iterations: here max_iter stops both


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
@pytest.mark.parametrize("seed", [0, 1])
def test_the_reference_kmeans_plusplus_picks_scikit_learns_rows(case, seed):
    _, X, weights, k = case
    _, ours = reference.kmeans_plusplus(X, k, sample_weight=weights, random_state=seed)
    _, theirs = sklearn_kmeans_plusplus(X, k, sample_weight=weights, random_state=seed)
    np.testing.assert_array_equal(ours, theirs)


def test_an_empty_cluster_takes_the_farthest_sample_as_in_the_fast_path():
    X = blobs(600, 2, 3, seed=4)
    init = np.vstack([X[:2], [[1e3, 1e3]]])  # the third center is far from every sample
    for algorithm in ("lloyd", "hamerly", "elkan"):
        fast = KMeans(3, init=init, n_init=1, algorithm=algorithm).fit(X)
        centers, labels, _, n_iter = getattr(reference, algorithm)(X, init)
        np.testing.assert_array_equal(labels, fast.labels_)
        assert n_iter == fast.n_iter_ and len(np.unique(labels)) == 3
        np.testing.assert_allclose(centers, fast.cluster_centers_, rtol=1e-10, atol=1e-9)


def test_more_clusters_than_distinct_samples_as_in_the_fast_path():
    """4 distinct rows, 50 copies each, 6 clusters: every sample ends on its center, two
    clusters stay empty and go to the heaviest cluster's center, in both paths (the
    reference kept their old centers until 2026-12-07, and stopped an iteration sooner)."""
    distinct = np.random.default_rng(0).normal(size=(4, 3)) * 10
    X = np.repeat(distinct, 50, axis=0)
    init = np.vstack([distinct, distinct[:2] + 0.5])
    for algorithm in ("lloyd", "hamerly", "elkan"):
        fast = KMeans(6, init=init, n_init=1, algorithm=algorithm).fit(X)
        centers, labels, _, n_iter = getattr(reference, algorithm)(X, init)
        np.testing.assert_array_equal(labels, fast.labels_)
        assert n_iter == fast.n_iter_
        np.testing.assert_allclose(centers, fast.cluster_centers_, rtol=1e-10, atol=1e-9)
