"""Wide rows through BLAS (``kmeans_scratch._wide``): the tile kernel's labels, bit for bit.

The expansion ‖x‖² − 2x·c + ‖c‖² only finds the nearest center; near ties are settled by
the direct distances.  So the labels, the inertia and a whole fit must be the same bits as
through the tile kernel, whatever the data: clustered, far from the origin (where the
expansion cancels most), with exact ties, float32 and float64.
"""

import numpy as np
import pytest

from kmeans_scratch import KMeans, _wide
from kmeans_scratch._blocks import block_sums_for
from kmeans_scratch._bounds import BoundedAssignment
from kmeans_scratch._distances import assign_labels, assign_labels_by_tiles
from kmeans_scratch._elkan import ElkanAssignment
from kmeans_scratch._hamerly import (
    MIN_CLUSTERS_ON_WIDE_ROWS,
    MIN_SKIP_SHARE,
    HamerlyAssignment,
)

from .helpers import blobs, plain_lloyd_fit

# The bounds' own code, on data where a fit would run Lloyd's step instead (see conftest).
pytestmark = pytest.mark.usefixtures("bounds_everywhere")


@pytest.fixture(autouse=True)
def blas_for_small_data(monkeypatch):
    """These tests hold the BLAS path to the tile kernel's labels on small data, which
    would otherwise be too little work for BLAS (``BLAS_MIN_WORK``)."""
    monkeypatch.setattr(_wide, "BLAS_MIN_WORK", 0)


def test_blas_is_for_wide_rows_and_enough_work(monkeypatch):
    monkeypatch.setattr(_wide, "BLAS_MIN_WORK", 2**20)
    assert _wide.uses_blas(10**5, 16, 8) and _wide.uses_blas(64, 784, 64)
    assert not _wide.uses_blas(10**6, 8, 256)  # narrow rows: the tile kernel
    assert not _wide.uses_blas(10**6, 64, 1)  # one center: nothing to compare
    assert not _wide.uses_blas(1, 784, 256) and not _wide.uses_blas(4096, 16, 8)


def test_few_centers_have_their_products_formed_directly():
    assert _wide.products_form(64, 8, 4) == _wide.DIRECT
    assert _wide.products_form(784, 8, 4) == _wide.DIRECT  # rows of 3 KiB
    assert _wide.products_form(784, 8, 8) == _wide.BY_ROWS  # rows of 6 KiB: BLAS
    assert _wide.products_form(32, 8, 8) == _wide.DIRECT
    assert _wide.products_form(32, 8, 4) == _wide.DIRECT  # rows of 128 bytes
    assert _wide.products_form(16, 8, 4) == _wide.DIRECT  # the narrowest rows through BLAS
    assert _wide.products_form(16, 9, 8) == _wide.BY_CENTERS
    assert _wide.products_form(64, 9, 8) == _wide.BY_ROWS  # too many centers
    assert _wide.products_form(64, 64, 8) == _wide.BY_CENTERS


@pytest.mark.parametrize("n_features", [1, 7, 8, 9, 784])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_squared_norms_are_eight_lanes_in_float64_on_any_thread(dtype, n_features):
    """Rows (in parallel) and centers (on one thread) get the same bits: lane f mod 8 of
    each row summed in float64, the lanes added pairwise, then the last d mod 8 terms."""
    rows = (np.random.default_rng(n_features).normal(size=(300, n_features)) * 10).astype(dtype)
    expected = []
    for row in rows.astype(np.float64):
        whole = n_features - n_features % 8
        lanes = [0.0] * 8
        for f in range(whole):
            lanes[f % 8] += row[f] * row[f]
        total = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + (
            (lanes[4] + lanes[5]) + (lanes[6] + lanes[7])
        )
        for f in range(whole, n_features):
            total += row[f] * row[f]
        expected.append(total)
    np.testing.assert_array_equal(_wide.row_sq_norms(rows), expected)
    np.testing.assert_array_equal(_wide.center_sq_norms(rows), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_clusters", [1, 2, 4, 7, 8])
@pytest.mark.parametrize("n_features", [16, 300, 784])
def test_direct_products_are_within_the_bound_the_margins_use(dtype, n_clusters, n_features):
    """|fl(x · c) − x · c| ≤ γ_d Σ_f |x_f c_f|, γ_d = d u / (1 − d u), in any order of the
    sum; 1 to 8 centers (groups of four and the rest one by one), in both loop orders of
    ``_wide.centers_outside``: the centers outside the rows at 16 features and where they
    take over 16 KiB (784 features and 7–8 centers, say), inside elsewhere (300 in
    float32)."""
    rng = np.random.default_rng(n_clusters)
    rows = rng.normal(0, 1, (37, n_features)).astype(dtype)
    centers = rng.normal(0, 1, (n_clusters, n_features)).astype(dtype)
    products = _wide.direct_products(rows, centers)
    assert products.shape == (n_clusters, 37) and products.dtype == dtype
    exact = centers.astype(np.longdouble) @ rows.T.astype(np.longdouble)
    magnitude = np.abs(centers).astype(np.float64) @ np.abs(rows).T.astype(np.float64)
    d_u = n_features * np.finfo(dtype).eps / 2
    assert (np.abs(products - exact) <= d_u / (1 - d_u) * magnitude).all()
    assert (products != exact.astype(dtype)).any() or dtype == np.float64 or n_clusters == 1


def hard_rows(n_samples, n_features, n_clusters, dtype, seed):
    """Rows that stress the margin: clustered, shifted far from the origin, and a quarter
    of them at the exact midpoint of two centers (equal direct distances up to rounding),
    with the centers."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 1, (n_clusters, n_features))
    X = centers[rng.integers(0, n_clusters, n_samples)] + rng.normal(
        0, 0.3, (n_samples, n_features)
    )
    pairs = rng.integers(0, n_clusters, (n_samples // 4, 2))
    X[: n_samples // 4] = (centers[pairs[:, 0]] + centers[pairs[:, 1]]) / 2
    offset = rng.normal(0, 1, n_features) * 1e3
    return (X + offset).astype(dtype), (centers + offset).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "n_features, n_clusters",
    [(64, 2), (100, 7), (16, 8), (40, 33), (300, 64), (17, 256), (1000, 5)],
)
def test_blas_labels_and_inertia_are_the_tile_kernels(dtype, n_features, n_clusters):
    X, centers = hard_rows(3000, n_features, n_clusters, dtype, seed=n_features)
    weights = np.random.default_rng(1).uniform(0.5, 2, X.shape[0]).astype(dtype)
    by_tiles = np.full(X.shape[0], -1, dtype=np.int32)
    by_blas = np.full(X.shape[0], -1, dtype=np.int32)
    assert _wide.uses_blas(X.shape[0], n_features, n_clusters)
    inertia_tiles = assign_labels_by_tiles(X, weights, centers, by_tiles)
    inertia_blas = assign_labels(X, weights, centers, by_blas)
    np.testing.assert_array_equal(by_blas, by_tiles)
    assert inertia_blas == inertia_tiles
    # the near ties were there (beyond two clusters): rows that the expansion alone, as a
    # BLAS-based K-Means computes it, labels otherwise
    expanded = (centers.astype(np.float64) ** 2).sum(1) - 2.0 * (X @ centers.T)
    assert (expanded.argmin(axis=1) != by_tiles).any() or n_clusters == 2


def test_label_rows_counts_the_changes_and_runs_in_chunks(monkeypatch):
    X, centers = hard_rows(5000, 24, 5, np.float64, seed=3)
    monkeypatch.setattr(_wide, "CHUNK_BYTES", 64 * 5 * 8)  # 64-row chunks, several per thread
    labels = np.zeros(X.shape[0], dtype=np.int32)
    changed = np.full(X.shape[0], 7, dtype=np.uint8)
    _wide.label_rows(X, _wide.row_sq_norms(X), centers, labels, changed)
    expected = np.full(X.shape[0], -1, dtype=np.int32)
    assign_labels_by_tiles(X, np.ones(X.shape[0]), centers, expected)
    np.testing.assert_array_equal(labels, expected)
    np.testing.assert_array_equal(changed, (expected != 0).astype(np.uint8))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("algorithm", ["lloyd", "elkan", "hamerly"])
@pytest.mark.parametrize("n_clusters", [6, 12, 40])
@pytest.mark.parametrize("chunk_rows", ["blocks", "pieces"])
def test_a_fit_is_the_same_bits_through_blas_or_tiles(
    monkeypatch, dtype, algorithm, n_clusters, chunk_rows
):
    """Products formed directly (6 centers), through BLAS by rows (12) or by centers (40);
    blocks (two of 3,000 rows here) in one chunk each, or in pieces of at most 512 rows,
    summed piece by piece."""
    X = blobs(6000, 64, n_clusters, seed=5, dtype=dtype)
    init = X[:n_clusters] + dtype(0.01)
    if chunk_rows == "pieces":
        monkeypatch.setattr(_wide, "CHUNK_DATA_BYTES", 512 * 64 * X.itemsize)
    else:
        monkeypatch.setattr(_wide, "CHUNK_DATA_BYTES", X.nbytes)
        monkeypatch.setattr(_wide, "CHUNK_DATA_BYTES_PER_CENTER", X.nbytes)
        monkeypatch.setattr(_wide, "CHUNK_BYTES", X.shape[0] * n_clusters * X.itemsize)
    n_blocks = block_sums_for(X.shape[0], n_clusters, X.shape[1])[0].shape[0]
    block_rows = X.shape[0] // n_blocks
    assert (block_rows > _wide.chunk_rows_for(X, n_clusters)) == (chunk_rows == "pieces")
    form = {6: _wide.DIRECT, 12: _wide.BY_ROWS, 40: _wide.BY_CENTERS}[n_clusters]
    assert _wide.products_form(X.shape[1], n_clusters, X.itemsize) == form

    def fit():
        return KMeans(n_clusters, init=init, n_init=1, max_iter=30, algorithm=algorithm).fit(X)

    assert _wide.uses_blas(*X.shape, n_clusters)
    through_blas = fit()
    monkeypatch.setattr(_wide, "BLAS_MIN_FEATURES", 10**9)
    through_tiles = fit()
    np.testing.assert_array_equal(through_blas.labels_, through_tiles.labels_)
    np.testing.assert_array_equal(through_blas.cluster_centers_, through_tiles.cluster_centers_)
    assert through_blas.inertia_ == through_tiles.inertia_
    assert through_blas.n_iter_ == through_tiles.n_iter_
    assert through_blas.score(X) == through_tiles.score(X)
    np.testing.assert_array_equal(through_blas.predict(X), through_tiles.predict(X))


def first_bounds_on_hard_rows(step_class, dtype, n_features, n_clusters, seed, drift=False):
    """A ``step_class`` step's first bounds on :func:`hard_rows`, written from BLAS's
    products; checks that its labels are the tile kernel's.  Returns the step, the
    labels and the true distances (n, k), in extended precision.  With ``drift``, the
    centers have drifted before (Elkan's stored bounds carry it)."""
    X, centers = hard_rows(2000, n_features, n_clusters, dtype, seed=seed)
    weights = np.ones(X.shape[0], dtype=dtype)
    step = step_class(X, weights, n_clusters)
    assert step.blas
    if drift:
        step.drift[:] = np.arange(n_clusters)
    labels = np.full(X.shape[0], -1, dtype=np.int32)
    sums, cluster_weights = np.empty((n_clusters, n_features)), np.empty(n_clusters)
    step.first_bounds(centers, labels, sums, cluster_weights)
    expected = np.full(X.shape[0], -1, dtype=np.int32)
    assign_labels_by_tiles(X, weights, centers, expected)
    np.testing.assert_array_equal(labels, expected)
    difference = X.astype(np.longdouble)[:, None, :] - centers.astype(np.longdouble)[None]
    return step, labels, np.sqrt((difference**2).sum(axis=2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_features, n_clusters", [(24, 5), (40, 33)])
def test_elkans_first_bounds_from_the_products_hold_the_true_distances(
    dtype, n_features, n_clusters
):
    """Elkan's first bounds on wide rows are written from BLAS's products: on rows far
    from the origin (where the expansion cancels most) and at exact midpoints, every lower
    bound is at most the true distance and every upper bound at least it (distances in
    extended precision), and the labels are the tile kernel's; the whole fit, the same bits
    as with first bounds measured directly, is in the test above."""
    step, labels, true = first_bounds_on_hard_rows(
        ElkanAssignment, dtype, n_features, n_clusters, seed=n_features, drift=True
    )
    assert (step.lower - step.drift <= true).all()
    assert (step.upper >= true[np.arange(true.shape[0]), labels]).all()
    if dtype == np.float64:  # float32 far from the origin: loose, as the expansion allows
        assert np.allclose(step.lower - step.drift, true, rtol=1e-3, atol=1e-3 * true.max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_features, n_clusters", [(24, 5), (40, 33)])
def test_hamerlys_first_bounds_from_the_products_hold_the_true_distances(
    dtype, n_features, n_clusters
):
    """Hamerly's first bounds on wide rows come from BLAS's products too: the upper bound
    is at least the distance to the own center, the lower at most the distance to every
    other, on rows far from the origin and at exact midpoints (where the direct distances
    may give another label than the expansion's nearest); the labels are the tile
    kernel's.  The whole fit is the same bits as through the tile kernel (above)."""
    step, labels, true = first_bounds_on_hard_rows(
        HamerlyAssignment, dtype, n_features, n_clusters, seed=n_features + 1
    )
    rows = np.arange(true.shape[0])
    own = true[rows, labels]
    true[rows, labels] = np.inf
    assert (step.upper >= own).all()
    assert (step.lower <= true.min(axis=1)).all()
    assert step.geometry is not None  # the next move loosens these bounds
    if dtype == np.float64:
        np.testing.assert_allclose(step.lower, true.min(axis=1), rtol=1e-3, atol=1e-3 * own.max())


@pytest.mark.parametrize("n_clusters", [8, MIN_CLUSTERS_ON_WIDE_ROWS])
def test_hamerlys_bounds_run_on_wide_rows_only_with_many_clusters(monkeypatch, n_clusters):
    """On wide rows whose clusters stand apart (the share of rows the bounds would skip is
    high at any k), Hamerly's bounds start after Lloyd's first step only with
    ``MIN_CLUSTERS_ON_WIDE_ROWS`` clusters or more; with fewer, every step is Lloyd's."""
    monkeypatch.setattr(BoundedAssignment, "bounds_only_where_they_pay", True)
    X = blobs(20_000, 64, n_clusters, seed=3)
    fitted = []
    real_init = HamerlyAssignment.__init__

    def keep(step, *args):
        real_init(step, *args)
        fitted.append(step)

    monkeypatch.setattr(HamerlyAssignment, "__init__", keep)
    hamerly = KMeans(n_clusters, n_init=1, random_state=0, algorithm="hamerly").fit(X)
    step = fitted[-1]
    lloyd = plain_lloyd_fit(monkeypatch, X, n_clusters=n_clusters, n_init=1, random_state=0)
    assert step.blas
    share = step.skip_share(hamerly.cluster_centers_ - X.mean(axis=0), hamerly.labels_)
    assert share >= MIN_SKIP_SHARE  # the rows alone would let the bounds run
    assert step.runs_bounds == (n_clusters >= MIN_CLUSTERS_ON_WIDE_ROWS)
    np.testing.assert_array_equal(hamerly.labels_, lloyd.labels_)
    np.testing.assert_array_equal(hamerly.cluster_centers_, lloyd.cluster_centers_)


def test_wide_lloyd_gives_scikit_learns_answer_from_the_same_init():
    from sklearn.cluster import KMeans as SklearnKMeans

    X = blobs(4000, 100, 10, seed=7)
    init = X[np.random.default_rng(0).choice(X.shape[0], 10, replace=False)] + 0.05
    ours = KMeans(10, init=init, n_init=1, algorithm="lloyd").fit(X)
    theirs = SklearnKMeans(10, init=init, n_init=1, algorithm="lloyd").fit(X)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-10)
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-10)
