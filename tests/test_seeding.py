"""k-means++ against scikit-learn's: same draws, same seeds."""

import subprocess
import sys

import numpy as np
import pytest
from numpy.random import RandomState
from sklearn.cluster import kmeans_plusplus as sklearn_kmeans_plusplus

from kmeans_scratch import _seeding, kmeans_plusplus
from kmeans_scratch._seeding import draw_by_running_sum

from .helpers import blobs, image_array, image_pixels


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


@pytest.mark.parametrize("image", ["china", "astronaut"])
def test_same_indices_as_sklearn_on_pixels(image, dtype):
    """Real pixels, seeds 0–2, k = 2…16 (2–4 candidates per center).  In float32,
    scikit-learn's float32 running sum and BLAS products decide the draws (issue 13)."""
    X = image_pixels(image, dtype)
    for seed in range(3):
        for n_clusters in (2, 5, 16):
            _, ours = kmeans_plusplus(X, n_clusters, random_state=seed)
            _, theirs = sklearn_kmeans_plusplus(X, n_clusters, random_state=seed)
            np.testing.assert_array_equal(ours, theirs, err_msg=f"seed {seed}, k = {n_clusters}")


def test_same_indices_as_sklearn_on_float32_pixels_many_centers():
    """k = 64: 6 candidates per center, a float32 product that BLAS may split over threads."""
    X = image_pixels("china", np.float32)
    _, ours = kmeans_plusplus(X, 64, random_state=0)
    _, theirs = sklearn_kmeans_plusplus(X, 64, random_state=0)
    np.testing.assert_array_equal(ours, theirs)


def test_same_indices_as_sklearn_on_float32_color_counts():
    """The image layer's data: distinct colors weighted by their counts, in float32."""
    colors, counts = np.unique(image_array("astronaut").reshape(-1, 3), axis=0, return_counts=True)
    X, weights = colors.astype(np.float32), counts.astype(np.float32)
    for seed in range(3):
        _, ours = kmeans_plusplus(X, 32, sample_weight=weights, random_state=seed)
        _, theirs = sklearn_kmeans_plusplus(X, 32, sample_weight=weights, random_state=seed)
        np.testing.assert_array_equal(ours, theirs, err_msg=f"seed {seed}")


def low_rank_rows(n_samples, n_features, seed):
    """Rows near a plane of 4 dimensions, with noise: clusters that do not stand apart."""
    random = np.random.RandomState(seed)
    return random.normal(size=(n_samples, 4)) @ random.normal(size=(4, n_features)) + (
        0.1 * random.normal(size=(n_samples, n_features))
    )


@pytest.mark.parametrize("n_features", [16, 64, 300])
def test_wide_rows_seed_through_blas_with_scikit_learns_indices(n_features):
    """From 16 features on the candidates' distances are a matrix product (as scikit-learn
    computes them): the same seeds as scikit-learn's, with and without weights, on blobs
    and on rows whose clusters do not stand apart, and as the tiles' direct distances."""
    assert _seeding.seeds_through_blas(n_features) and not _seeding.seeds_through_blas(15)
    random = np.random.RandomState(n_features)
    for data in (blobs(3_000, n_features, 20, seed=1), low_rank_rows(3_000, n_features, 2)):
        weights = random.uniform(0.1, 4.0, data.shape[0])
        for n_clusters, sample_weight in ((1, None), (9, None), (40, weights)):
            _, ours = kmeans_plusplus(
                data, n_clusters, sample_weight=sample_weight, random_state=n_clusters
            )
            _, theirs = sklearn_kmeans_plusplus(
                data, n_clusters, sample_weight=sample_weight, random_state=n_clusters
            )
            np.testing.assert_array_equal(ours, theirs)
            w = np.ones(data.shape[0]) if sample_weight is None else sample_weight
            by_tiles = seeds_by_tiles(data, n_clusters, w, n_clusters)
            np.testing.assert_array_equal(ours, by_tiles)


def seeds_by_tiles(X, n_clusters, sample_weight, seed):
    """The indices of :mod:`._seeding`'s tile path (direct distances) on any rows."""
    real = _seeding.seeds_through_blas
    _seeding.seeds_through_blas = lambda n_features: False
    try:
        random_state = np.random.RandomState(seed)
        return _seeding.greedy_kmeans_plusplus(X, n_clusters, sample_weight, random_state)[1]
    finally:
        _seeding.seeds_through_blas = real


def test_a_fit_on_wide_float32_rows_seeds_in_float64_as_on_its_float64_rows():
    """The fit's seeding of float32 rows of 64 features goes through BLAS in float64: the
    seeds of the same rows in float64, and of the tiles' direct distances."""
    X = blobs(4_000, 64, 30, seed=5).astype(np.float32)
    weights = np.ones(X.shape[0], dtype=np.float32)
    ours = _seeding.greedy_kmeans_plusplus(X, 30, weights, np.random.RandomState(0))[1]
    in_float64 = _seeding.greedy_kmeans_plusplus(
        X.astype(np.float64), 30, weights.astype(np.float64), np.random.RandomState(0)
    )[1]
    np.testing.assert_array_equal(ours, in_float64)
    np.testing.assert_array_equal(ours, seeds_by_tiles(X, 30, weights, 0))


def test_draw_is_searchsorted_of_numpy_cumsum(dtype):
    """The draw rounds every product and partial sum to the dtype, as ``np.cumsum`` does,
    and clips a target beyond the total to the last sample."""
    rng = np.random.RandomState(0)
    closest_sq = (rng.uniform(0, 400, 100_000) ** 2).astype(dtype)
    weights = rng.uniform(0.1, 5.0, 100_000).astype(dtype)
    running = np.cumsum(weights * closest_sq)
    total = float(running[-1])
    targets = np.concatenate([rng.uniform(size=200) * total, [0.0, total, 1.5 * total]])
    expected = np.minimum(np.searchsorted(running, targets), closest_sq.size - 1)
    np.testing.assert_array_equal(draw_by_running_sum(weights, closest_sq, targets), expected)
    if dtype == np.float32:  # float32 rounding moves draws: float64 sums would fail above
        exact = np.cumsum(weights.astype(np.float64) * closest_sq)
        rounded = np.searchsorted(running, targets[:-1])
        assert not np.array_equal(np.searchsorted(exact, targets[:-1]), rounded)


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


@pytest.mark.parametrize("seed", [0, 1, 42, 123_456_789, 2**32 - 1])
def test_an_integer_seed_draws_what_its_random_state_draws(seed):
    """``SeedStream``, an integer seed's generator without ``numpy.random``: the bits of
    ``RandomState(seed)`` for k-means++'s two calls, across several of MT19937's 624-word
    twists, and the same stream on from any other call (a RandomState in its state)."""
    from kmeans_scratch._seed_stream import SeedStream

    ours, theirs = SeedStream(seed), np.random.RandomState(seed)
    p = np.random.default_rng(seed).random(5_000)
    p /= p.sum()
    assert ours.choice(5_000, p=p) == theirs.choice(5_000, p=p)
    for shape in [(255, 7), (1, 1), (700, 3), (4,)]:
        np.testing.assert_array_equal(ours.uniform(size=shape), theirs.uniform(size=shape))
    assert ours.randint(0, 2**31 - 1) == theirs.randint(0, 2**31 - 1)  # a RandomState now
    assert ours.choice(50, p=p[:50] / p[:50].sum()) == theirs.choice(50, p=p[:50] / p[:50].sum())
    np.testing.assert_array_equal(ours.uniform(size=9), theirs.uniform(size=9))


def test_an_integer_seed_leaves_numpy_random_unimported_and_refuses_what_numpy_refuses():
    code = (
        "import sys; from kmeans_scratch._validation import check_random_state\n"
        "check_random_state(0).uniform(size=(3, 2))\n"
        "print('numpy.random' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
    from kmeans_scratch._validation import check_random_state

    with pytest.raises(ValueError, match="between 0 and 2\\*\\*32 - 1"):
        check_random_state(-1)
    with pytest.raises(ValueError, match="between 0 and 2\\*\\*32 - 1"):
        check_random_state(2**32)
    stream = check_random_state(7)
    assert check_random_state(stream) is stream


@pytest.mark.parametrize("threshold", [0.0, float("inf")])
def test_the_probe_then_the_rest_choose_the_centers_one_call_chooses(monkeypatch, threshold):
    """The seeding's first centers on one thread, timed, then the rest on the threads
    that pay (all of them with a threshold of 0 s a center, one with ∞): the centers of
    one call over every center, on any number of threads."""
    from sklearn.datasets import make_blobs

    from kmeans_scratch import _kernels

    X, _ = make_blobs(n_samples=6_000, centers=40, n_features=3, random_state=3)
    weights = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    n_probed = _seeding.PROBE_CENTERS + 1
    sizes = (n_probed - 1, n_probed + 1, 32)  # fewer centers than the probe, one more, many
    expected = {}
    with monkeypatch.context() as patched:
        patched.setattr(_seeding, "choose_centers_on_threads_that_pay", _seeding.choose_centers)
        for n_clusters in sizes:
            seeds = _seeding.greedy_kmeans_plusplus(X, n_clusters, weights, RandomState(1), 4)
            expected[n_clusters] = seeds[1]
    calls = []
    kernel = _seeding.choose_centers
    monkeypatch.setattr(
        _seeding, "choose_centers", lambda *args: calls.append(args[3].shape[0]) or kernel(*args)
    )
    monkeypatch.setattr(_seeding, "PARALLEL_FROM_SECONDS_PER_CENTER", threshold)
    threads = _kernels.get_threads()
    _kernels.set_threads(2)
    try:
        for n_clusters in sizes:
            seeds = _seeding.greedy_kmeans_plusplus(X, n_clusters, weights, RandomState(1), 4)
            np.testing.assert_array_equal(seeds[1], expected[n_clusters])
            assert _kernels.get_threads() == 2  # given back
    finally:
        _kernels.set_threads(threads)
    # one call below the probe; else the probe's centers, then the rest from its last
    assert calls == [n_probed - 1, n_probed, 2, n_probed, 32 - _seeding.PROBE_CENTERS]
