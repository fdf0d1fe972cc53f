"""Sparse input (CSR and every SciPy format, converted): scikit-learn is the oracle.

On CSR rows every distance is the expansion ‖x‖² − 2 x·c + ‖c‖² (``_sparse``), and
Hamerly's and Elkan's bounds allow for its rounding (``_sparse_bounds``), so all three
algorithms give the same labels, centers and iterations, bit for bit.  From the same
random_state the fit is scikit-learn's, and the fit of the same rows dense.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.cluster import kmeans_plusplus as sklearn_kmeans_plusplus

from kmeans_scratch import KMeans, k_means, kmeans_plusplus

from .helpers import blobs

ALGORITHMS = ("lloyd", "hamerly", "elkan")


def tfidf_like(n_samples, n_features, density, n_topics, dtype, seed):
    """Rows of a few nonzeros drawn from topics (each topic favors its own columns),
    normalized to length 1 as TF-IDF rows are."""
    rng = np.random.default_rng(seed)
    nnz = max(1, int(density * n_features))
    topic_columns = rng.integers(0, n_features, (n_topics, 4 * nnz))
    rows, cols = [], []
    for i in range(n_samples):
        own = topic_columns[rng.integers(n_topics)]
        chosen = np.unique(np.concatenate([rng.choice(own, nnz), rng.integers(0, n_features, 2)]))
        rows.append(np.full(chosen.size, i))
        cols.append(chosen)
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    values = rng.exponential(1.0, rows.size)
    X = sp.csr_matrix((values, (rows, cols)), shape=(n_samples, n_features))
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1))).ravel()
    return sp.csr_matrix(sp.diags(1 / norms) @ X, dtype=dtype)


@pytest.fixture(scope="module")
def text_rows():
    return tfidf_like(2000, 3000, 0.01, 12, np.float64, seed=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sparse_fit_is_sklearns(text_rows, algorithm, dtype):
    """Each of ours against scikit-learn's Lloyd: on these rows its Elkan gives other
    labels than its Lloyd (9 of 2000 in float64: rows that share no column with two
    centers, whose order only the centers' norms decide, which its Elkan rounds with
    ‖x‖² added), where our three agree."""
    X = text_rows.astype(dtype)
    weights = np.random.default_rng(3).uniform(0.5, 2, X.shape[0])
    ours = KMeans(12, random_state=0, algorithm=algorithm).fit(X, sample_weight=weights)
    theirs = SklearnKMeans(12, random_state=0).fit(X, sample_weight=weights)
    assert ours.cluster_centers_.dtype == dtype
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    assert ours.n_iter_ == theirs.n_iter_
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=rtol, atol=rtol)
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_clusters", [2, 7, 40])
def test_three_algorithms_agree_bit_for_bit_on_sparse_rows(text_rows, n_clusters, dtype):
    X = text_rows.astype(dtype)
    fits = [
        KMeans(n_clusters, random_state=1, algorithm=algorithm, max_iter=60).fit(X)
        for algorithm in ALGORITHMS
    ]
    for fit in fits[1:]:
        np.testing.assert_array_equal(fit.labels_, fits[0].labels_)
        np.testing.assert_array_equal(fit.cluster_centers_, fits[0].cluster_centers_)
        assert fit.n_iter_ == fits[0].n_iter_
        assert fit.inertia_ == fits[0].inertia_


def test_bounds_hold_on_rows_at_exact_ties():
    """Rows at the midpoint of two centers, and copies of the same row: the bounded steps
    must still give Lloyd's labels (their margins cover the expansion's rounding)."""
    rng = np.random.default_rng(5)
    centers = sp.random(6, 400, density=0.05, random_state=5).toarray() * 10
    pairs = rng.integers(0, 6, (900, 2))
    dense = (centers[pairs[:, 0]] + centers[pairs[:, 1]]) / 2
    dense[::3] = dense[0]
    X = sp.csr_matrix(dense)
    fits = [KMeans(6, init=centers, algorithm=a, max_iter=30).fit(X) for a in ALGORITHMS]
    for fit in fits[1:]:
        np.testing.assert_array_equal(fit.labels_, fits[0].labels_)
        np.testing.assert_array_equal(fit.cluster_centers_, fits[0].cluster_centers_)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sparse_fit_is_the_dense_fit(algorithm):
    X = blobs(1500, 20, 6, seed=2)
    X[np.abs(X) < 8.0] = 0.0  # about 40 % of the entries
    weights = np.random.default_rng(4).uniform(0.5, 2, X.shape[0])
    dense = KMeans(6, random_state=0, algorithm=algorithm).fit(X, sample_weight=weights)
    sparse = KMeans(6, random_state=0, algorithm=algorithm).fit(
        sp.csr_matrix(X), sample_weight=weights
    )
    np.testing.assert_array_equal(sparse.labels_, dense.labels_)
    np.testing.assert_allclose(
        sparse.cluster_centers_, dense.cluster_centers_, rtol=1e-10, atol=1e-12
    )
    assert sparse.inertia_ == pytest.approx(dense.inertia_, rel=1e-10)


def test_predict_transform_score_on_sparse_rows(text_rows):
    model = KMeans(8, random_state=0).fit(text_rows)
    dense = text_rows.toarray()
    np.testing.assert_array_equal(model.predict(text_rows), model.labels_)
    np.testing.assert_array_equal(model.predict(text_rows), model.predict(dense))
    np.testing.assert_allclose(model.transform(text_rows), model.transform(dense), atol=1e-7)
    assert model.score(text_rows) == pytest.approx(-model.inertia_, rel=1e-12)
    assert model.score(text_rows) == pytest.approx(model.score(dense), rel=1e-9)
    np.testing.assert_array_equal(KMeans(8, random_state=0).fit_predict(text_rows), model.labels_)
    # and a model fitted on dense rows predicts sparse ones
    dense_model = KMeans(8, random_state=0).fit(dense)
    np.testing.assert_array_equal(dense_model.predict(text_rows), dense_model.labels_)


@pytest.mark.parametrize(
    "convert",
    [sp.csc_matrix, sp.coo_matrix, sp.lil_matrix, sp.csr_array, sp.coo_array],
    ids=lambda c: c.__name__,
)
def test_every_sparse_format_is_converted(text_rows, convert):
    expected = KMeans(5, random_state=0).fit(text_rows)
    fit = KMeans(5, random_state=0).fit(convert(text_rows))
    np.testing.assert_array_equal(fit.labels_, expected.labels_)
    np.testing.assert_array_equal(fit.cluster_centers_, expected.cluster_centers_)


def test_duplicate_and_unsorted_entries_count_once_each(text_rows):
    """A CSR matrix may hold a column twice in a row (the values add up) and unsorted
    columns: the fit is that of the canonical matrix, and the input is left as it was."""
    coo = text_rows.tocoo()
    half = coo.data / 2
    order = np.random.default_rng(0).permutation(2 * coo.nnz)
    rows = np.concatenate([coo.row, coo.row])[order]
    cols = np.concatenate([coo.col, coo.col])[order]
    messy = sp.csr_matrix((np.concatenate([half, half])[order], (rows, cols)), shape=coo.shape)
    messy = sp.csr_matrix((messy.data, messy.indices, messy.indptr), shape=coo.shape)
    messy.has_canonical_format = False
    before = messy.data.copy(), messy.indices.copy()
    expected = KMeans(5, random_state=0).fit(text_rows)
    fit = KMeans(5, random_state=0).fit(messy)
    np.testing.assert_array_equal(fit.labels_, expected.labels_)
    np.testing.assert_allclose(fit.cluster_centers_, expected.cluster_centers_, rtol=1e-12)
    np.testing.assert_array_equal(messy.data, before[0])
    np.testing.assert_array_equal(messy.indices, before[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kmeans_plusplus_picks_the_rows_it_picks_dense(text_rows, dtype):
    X = text_rows.astype(dtype)
    weights = np.random.default_rng(1).uniform(0.5, 2, X.shape[0])
    centers, indices = kmeans_plusplus(X, 9, sample_weight=weights, random_state=7)
    np.testing.assert_array_equal(centers, X[indices].toarray())
    assert centers.dtype == dtype
    _, dense_indices = kmeans_plusplus(X.toarray(), 9, sample_weight=weights, random_state=7)
    np.testing.assert_array_equal(indices, dense_indices)
    if dtype == np.float64:  # float32 draws follow scikit-learn's float32 sums: see its docs
        _, theirs = sklearn_kmeans_plusplus(X, 9, sample_weight=weights, random_state=7)
        np.testing.assert_array_equal(indices, theirs)


def test_k_means_function_takes_sparse_rows(text_rows):
    centers, labels, inertia = k_means(text_rows, 6, random_state=0, algorithm="hamerly")
    model = KMeans(6, random_state=0).fit(text_rows)
    np.testing.assert_array_equal(labels, model.labels_)
    np.testing.assert_array_equal(centers, model.cluster_centers_)
    assert inertia == model.inertia_


def test_empty_cluster_is_reseeded_as_sklearn_does(text_rows):
    """A center far from every row ends its first step empty: it takes the row farthest
    from its own center, as scikit-learn's does."""
    init = text_rows[:4].toarray()
    init[3] = 50.0
    ours = KMeans(4, init=init, n_init=1, max_iter=20).fit(text_rows)
    theirs = SklearnKMeans(4, init=init, n_init=1, max_iter=20).fit(text_rows)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, atol=1e-12)
    assert np.bincount(ours.labels_, minlength=4).all()


@pytest.mark.parametrize("bad, message", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_sparse_rows_with_nan_or_infinity_are_refused(text_rows, bad, message):
    X = text_rows.copy()
    X.data[5] = bad
    with pytest.raises(ValueError, match="X"):
        k_means(X, 3)
    with pytest.raises(ValueError):
        KMeans(3).fit(X)
