"""Oracle test 5: every bad input raises ValueError or TypeError with a message naming it."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kmeans_scratch import KMeans, k_means, kmeans_plusplus

X_GOOD = np.random.RandomState(0).normal(size=(50, 3))


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]]), ValueError, "NaN"),
        (np.array([[1.0, np.inf], [2.0, 3.0], [4.0, 5.0]]), ValueError, "infinity"),
        (np.arange(10.0), ValueError, "Expected 2D array"),
        (np.zeros((2, 3, 4)), ValueError, "dim 3"),
        (np.zeros((0, 3)), ValueError, "0 sample"),
        (np.zeros((5, 0)), ValueError, "0 feature"),
        (np.array([["a", "b"], ["c", "d"]]), ValueError, "could not convert|dtype"),
        (sp.csr_matrix([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]]), ValueError, "NaN"),
        (sp.csr_matrix([[1.0, np.inf], [2.0, 3.0], [4.0, 5.0]]), ValueError, "infinity"),
        (sp.csr_matrix((0, 3)), ValueError, "0 sample"),
    ],
    ids=[
        *["nan", "inf", "1d", "3d", "no-samples", "no-features", "strings"],
        *["sparse-nan", "sparse-inf", "sparse-no-samples"],
    ],
)
def test_bad_X(bad, error, match):
    with pytest.raises(error, match=match):
        KMeans(2).fit(bad)
    with pytest.raises(error, match=match):
        kmeans_plusplus(bad, 2)
    with pytest.raises(error, match=match):
        k_means(bad, 2)


def test_fewer_samples_than_clusters():
    with pytest.raises(ValueError, match="n_samples=3 should be >= n_clusters=4"):
        KMeans(4).fit(X_GOOD[:3])
    with pytest.raises(ValueError, match="n_samples=3 should be >= n_clusters=4"):
        kmeans_plusplus(X_GOOD[:3], 4)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"n_clusters": 0}, ValueError, "n_clusters must be an integer >= 1, got 0"),
        ({"n_clusters": -3}, ValueError, "n_clusters"),
        ({"n_clusters": 2.5}, TypeError, "n_clusters"),
        ({"n_clusters": "8"}, TypeError, "n_clusters"),
        ({"n_clusters": True}, TypeError, "n_clusters"),
        (
            {"init": "kmeans++"},
            ValueError,
            "init must be one of 'k-means\\+\\+', 'random'; got 'kmeans\\+\\+'",
        ),
        ({"n_init": 0}, ValueError, "n_init"),
        ({"n_init": "many"}, ValueError, "n_init must be 'auto'"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"tol": -1e-4}, ValueError, "tol"),
        ({"tol": "small"}, TypeError, "tol"),
        ({"tol": float("nan")}, ValueError, "tol"),
        ({"verbose": -1}, ValueError, "verbose"),
        ({"copy_x": "yes"}, TypeError, "copy_x"),
        ({"algorithm": "fast"}, ValueError, "algorithm must be one of .*; got 'fast'"),
        ({"random_state": "seed"}, ValueError, "seed"),
    ],
)
def test_bad_parameters(params, error, match):
    with pytest.raises(error, match=match):
        KMeans(**{"n_clusters": 3, **params}).fit(X_GOOD)
    with pytest.raises(error, match=match):
        k_means(X_GOOD, **{"n_clusters": 3, **params})


@pytest.mark.parametrize(
    "sample_weight, error, match",
    [
        (
            np.ones(49),
            ValueError,
            r"sample_weight must have shape \(n_samples,\) = \(50,\), got shape \(49,\)",
        ),
        (np.ones((50, 2)), ValueError, "sample_weight must have shape"),
        (-np.ones(50), ValueError, "sample_weight must be non-negative"),
        (np.r_[np.ones(49), np.nan], ValueError, "sample_weight contains NaN"),
        (np.zeros(50), ValueError, "sample_weight sums to zero"),
        (["a"] * 50, TypeError, "sample_weight must be an array of numbers"),
    ],
    ids=["short", "2d", "negative", "nan", "all-zero", "strings"],
)
def test_bad_sample_weight(sample_weight, error, match):
    with pytest.raises(error, match=match):
        KMeans(3).fit(X_GOOD, sample_weight=sample_weight)
    with pytest.raises(error, match=match):
        kmeans_plusplus(X_GOOD, 3, sample_weight=sample_weight)


@pytest.mark.parametrize(
    "init, match",
    [
        (
            np.zeros((2, 3)),
            r"initial centers \(2, 3\) does not match \(n_clusters, n_features\) = \(3, 3\)",
        ),
        (np.zeros((3, 2)), r"initial centers \(3, 2\) does not match"),
        (np.full((3, 3), np.nan), "init contains NaN"),
        (lambda X, k, random_state: X[:2], r"initial centers \(2, 3\) does not match"),
    ],
    ids=["too-few-rows", "wrong-features", "nan", "callable-wrong-shape"],
)
def test_bad_init(init, match):
    with pytest.raises(ValueError, match=match):
        KMeans(3, init=init).fit(X_GOOD)


def test_predict_before_fit_and_wrong_width():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        KMeans(3).predict(X_GOOD)
    fitted = KMeans(3, random_state=0).fit(X_GOOD)
    with pytest.raises(ValueError, match="X has 2 features, but KMeans is expecting 3"):
        fitted.predict(X_GOOD[:, :2])


def test_kmeans_plusplus_bad_arguments():
    with pytest.raises(ValueError, match="n_clusters"):
        kmeans_plusplus(X_GOOD, 0)
    with pytest.raises(ValueError, match="n_local_trials"):
        kmeans_plusplus(X_GOOD, 3, n_local_trials=0)


finite_floats = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32)


@settings(max_examples=60, deadline=None)
@given(
    X=hnp.arrays(
        dtype=st.sampled_from([np.float32, np.float64]),
        shape=hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40),
        elements=finite_floats,
    ),
    n_clusters=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_any_finite_array_fits_or_says_why(X, n_clusters, seed):
    """On any finite 2-D array: a clean fit, or the one ValueError for too few samples."""
    if X.shape[0] < n_clusters:
        with pytest.raises(ValueError, match="should be >= n_clusters"):
            KMeans(n_clusters, random_state=seed).fit(X)
        return
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicates give the documented ConvergenceWarning
        fitted = KMeans(n_clusters, random_state=seed).fit(X)
    assert fitted.cluster_centers_.shape == (n_clusters, X.shape[1])
    assert np.isfinite(fitted.cluster_centers_).all()
    assert fitted.labels_.min() >= 0 and fitted.labels_.max() < n_clusters
    distances = ((X.astype(np.float64)[:, None, :] - fitted.cluster_centers_[None]) ** 2).sum(-1)
    # every label is a nearest center (up to float32 rounding of the centers)
    chosen = distances[np.arange(X.shape[0]), fitted.labels_]
    assert np.all(chosen <= distances.min(axis=1) * (1 + 1e-5) + 1e-3)


@settings(max_examples=40, deadline=None)
@given(
    X=hnp.arrays(
        dtype=np.float64,
        shape=hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=30),
        elements=st.one_of(finite_floats, st.just(np.nan), st.just(np.inf), st.just(-np.inf)),
    )
)
def test_any_non_finite_array_is_refused_with_a_message(X):
    if np.isfinite(X).all():
        return
    with pytest.raises(ValueError, match=r"NaN|infinity"):
        KMeans(1).fit(X)
