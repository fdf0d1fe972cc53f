"""Oracle test 1: from the same explicit init, the same run as scikit-learn's Lloyd.

Well-separated blobs, several shapes, float32 and float64, with and without weights:
identical labels, the same number of iterations, the same centers and inertia.
"""

import numpy as np
import pytest
from sklearn.cluster import KMeans as SklearnKMeans

from kmeans_scratch import KMeans

from .helpers import blobs

SHAPES = [  # (n_samples, n_features, n_clusters)
    (1_000, 2, 3),
    (5_000, 3, 8),
    (20_000, 3, 30),
    (3_000, 16, 5),
    (2_000, 64, 10),
]


def exact_inertia(X, sample_weight, centers, labels):
    """Inertia in float64 from scratch: the reference for float32 runs."""
    X = X.astype(np.float64)
    residuals = X - centers.astype(np.float64)[labels]
    return float(((residuals**2).sum(axis=1) * sample_weight).sum())


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "n{}-d{}-k{}".format(*s))
def test_same_run_as_sklearn(shape, dtype, weighted, algorithm):
    n_samples, n_features, n_clusters = shape
    seed = n_samples + n_features + n_clusters
    X = blobs(n_samples, n_features, n_clusters, seed, dtype)
    rng = np.random.RandomState(seed)
    sample_weight = rng.uniform(0.5, 3.0, n_samples).astype(dtype) if weighted else None
    # A few iterations are needed: start from samples of the first blobs only.
    init = X[rng.choice(n_samples, n_clusters, replace=False)]

    ours = KMeans(n_clusters, init=init, n_init=1, algorithm=algorithm)
    ours.fit(X, sample_weight=sample_weight)
    theirs = SklearnKMeans(n_clusters, init=init, n_init=1).fit(X, sample_weight=sample_weight)

    assert ours.cluster_centers_.dtype == dtype
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.n_iter_ > 1
    weights = np.ones(n_samples) if sample_weight is None else sample_weight.astype(np.float64)
    if dtype == np.float64:
        np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-6)
        assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-6)
    else:
        # scikit-learn sums float32 samples in float32 (relative error ~1e-6 of the data
        # scale on a center); this library sums them in float64.  Centers are compared
        # at 1e-6 of that scale; scikit-learn's float32 inertia is itself a float32 sum,
        # so both inertias are checked against the float64 inertia of the same partition.
        scale = np.abs(theirs.cluster_centers_).max()
        np.testing.assert_allclose(
            ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-6, atol=1e-6 * scale
        )
        reference = exact_inertia(X, weights, theirs.cluster_centers_, theirs.labels_)
        assert ours.inertia_ == pytest.approx(reference, rel=1e-6)
        assert theirs.inertia_ == pytest.approx(reference, rel=1e-4)
