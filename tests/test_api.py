"""The estimator API against scikit-learn: methods, attributes, parameters and warnings."""

import io
import os
import re
import subprocess
import sys
import warnings
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.cluster import kmeans_plusplus as sklearn_kmeans_plusplus
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeans_scratch import KMeans, _elkan, _fit, _hamerly, k_means, kmeans_plusplus

from .helpers import blobs, image_pixels, plain_lloyd_fit


@pytest.fixture(scope="module")
def fitted_pair():
    X = blobs(3_000, 4, 6, seed=11)
    init = X[:6] + 0.25
    ours = KMeans(6, init=init, n_init=1).fit(X)
    theirs = SklearnKMeans(6, init=init, n_init=1).fit(X)
    return X, ours, theirs


def test_predict_transform_score_match_sklearn(fitted_pair):
    _, ours, theirs = fitted_pair
    X_new = blobs(500, 4, 6, seed=12)
    np.testing.assert_array_equal(ours.predict(X_new), theirs.predict(X_new))
    np.testing.assert_allclose(ours.transform(X_new), theirs.transform(X_new), rtol=1e-7)
    assert ours.score(X_new) == pytest.approx(theirs.score(X_new), rel=1e-9)
    weights = np.linspace(0.1, 2.0, 500)
    assert ours.score(X_new, sample_weight=weights) == pytest.approx(
        theirs.score(X_new, sample_weight=weights), rel=1e-9
    )


def test_fit_predict_and_fit_transform_agree_with_fit(fitted_pair):
    X, ours, _ = fitted_pair
    np.testing.assert_array_equal(clone(ours).fit_predict(X), ours.labels_)
    np.testing.assert_allclose(clone(ours).fit_transform(X), ours.transform(X))
    np.testing.assert_array_equal(ours.predict(X), ours.labels_)


def test_attributes(fitted_pair):
    _, ours, theirs = fitted_pair
    assert ours.n_features_in_ == 4
    assert ours.labels_.dtype == theirs.labels_.dtype
    assert isinstance(ours.inertia_, float)
    assert isinstance(ours.n_iter_, int)
    np.testing.assert_array_equal(ours.get_feature_names_out(), theirs.get_feature_names_out())


def test_parameters_and_defaults_are_sklearns():
    ours, theirs = KMeans().get_params(), SklearnKMeans().get_params()
    assert ours == theirs


def test_float32_stays_float32_and_integers_become_float64():
    X = blobs(500, 3, 4, seed=1)
    assert (
        KMeans(4, n_init=1, random_state=0).fit(X.astype(np.float32)).cluster_centers_.dtype
        == np.float32
    )
    fitted = KMeans(4, n_init=1, random_state=0).fit(np.round(X).astype(np.int64))
    assert fitted.cluster_centers_.dtype == np.float64
    assert fitted.transform(X.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_builtin_inits_give_sklearns_result_for_the_same_seed(init):
    """Same seed, same draws: the whole fit equals scikit-learn's (default n_init rule too)."""
    X = blobs(4_000, 3, 10, seed=5) + 0.1234  # real-valued, no exact ties
    ours = KMeans(10, init=init, random_state=42).fit(X)
    theirs = SklearnKMeans(10, init=init, random_state=42).fit(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-6)
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-6)


def test_callable_init_gets_the_centered_data_like_sklearn():
    X = blobs(2_000, 2, 5, seed=8)
    seen = []

    def init(data, n_clusters, random_state):
        seen.append(data.mean(axis=0))
        return data[random_state.choice(data.shape[0], n_clusters, replace=False)]

    ours = KMeans(5, init=init, n_init=3, random_state=1).fit(X)
    theirs = SklearnKMeans(5, init=init, n_init=3, random_state=1).fit(X)
    assert len(seen) == 6
    np.testing.assert_allclose(seen[0], 0.0, atol=1e-9)
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-9)


@pytest.mark.parametrize("random_state", [0, 7])
def test_k_means_hands_a_callable_init_a_random_state_like_sklearn(random_state):
    """``k_means`` with an integer seed gives a callable ``init`` a ``RandomState`` (our
    seeded stream is turned into one in the same state), so the callable draws what it
    draws under scikit-learn's ``k_means``, restart after restart."""
    from sklearn.cluster import k_means as sklearn_k_means

    X = blobs(1_500, 3, 4, seed=5)
    kinds = []

    def init(data, n_clusters, random_state):
        kinds.append(type(random_state))
        return data[random_state.permutation(data.shape[0])[:n_clusters]]

    ours = k_means(X, 4, init=init, n_init=3, random_state=random_state)
    theirs = sklearn_k_means(X, 4, init=init, n_init=3, random_state=random_state)
    assert set(kinds) == {np.random.RandomState} and len(kinds) == 6
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-9)
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert ours[2] == pytest.approx(theirs[2], rel=1e-9)


@pytest.mark.parametrize(
    "parameters",
    [
        {"n_clusters": 2.0},
        {"n_clusters": 0},
        {"max_iter": 2.0},
        {"tol": "a"},
        {"tol": -1.0},
        {"copy_x": 1},
        {"verbose": 2.0},
        {"n_init": "many"},
        {"algorithm": "auto"},
        {"init": "farthest"},
    ],
    ids=repr,
)
def test_a_bad_parameter_is_both_a_value_error_and_a_type_error_like_sklearns(parameters):
    """scikit-learn raises its InvalidParameterError, a ValueError and a TypeError at
    once: ``except ValueError`` written for it must catch ours too, whatever the case."""
    X = blobs(200, 2, 3, seed=1)
    name = next(iter(parameters))
    for make in (SklearnKMeans, KMeans):
        for expected in (ValueError, TypeError):
            with pytest.raises(expected, match=name):
                make(**{"n_clusters": 3, **parameters}).fit(X)


def test_n_init_auto_rule():
    X = blobs(1_000, 2, 3, seed=2)
    out = io.StringIO()
    with redirect_stdout(out):
        KMeans(3, init="random", verbose=1, random_state=0).fit(X)
    assert out.getvalue().count("Initialization complete") == 10
    out = io.StringIO()
    with redirect_stdout(out):
        KMeans(3, verbose=1, random_state=0).fit(X)
    assert out.getvalue().count("Initialization complete") == 1
    assert "Iteration 0, inertia" in out.getvalue()


def test_array_init_with_n_init_warns_and_runs_once():
    X = blobs(500, 2, 3, seed=3)
    with pytest.warns(RuntimeWarning, match="performing only one init"):
        KMeans(3, init=X[:3], n_init=5).fit(X)


def test_copy_x_false_restores_x_and_true_leaves_it_alone():
    X = blobs(1_000, 3, 4, seed=4)
    original = X.copy()
    KMeans(4, copy_x=False, random_state=0).fit(X)
    np.testing.assert_allclose(X, original, rtol=0, atol=1e-12)
    before = X.copy()
    X.flags.writeable = False  # copy_x=True only reads X: its centered copy is made apart
    fitted = KMeans(4, copy_x=True, random_state=0).fit(X)
    centers = k_means(X, 4, random_state=0)[0]
    np.testing.assert_array_equal(X, before)
    np.testing.assert_array_equal(centers, fitted.cluster_centers_)


def test_fewer_distinct_points_than_clusters_warns():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]), 10, axis=0)
    with pytest.warns(ConvergenceWarning, match=r"Number of distinct clusters \(3\) found smaller"):
        fitted = KMeans(5, random_state=0).fit(X)
    assert fitted.inertia_ == 0.0


def test_empty_clusters_are_relocated_like_sklearn():
    """Two init centers far from all data start empty; both libraries move the same samples."""
    X = blobs(2_000, 2, 4, seed=6) + 0.01
    init = np.vstack([X[:4], [[1e3, 1e3], [-1e3, 1e3]]])
    ours = KMeans(6, init=init, n_init=1).fit(X)
    theirs = SklearnKMeans(6, init=init, n_init=1).fit(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-6)
    assert len(np.unique(ours.labels_)) == 6


def test_max_iter_and_tol_zero_run_every_iteration():
    X = image_pixels("coffee")[::5]
    fitted = KMeans(16, max_iter=7, tol=0, random_state=0).fit(X)
    assert fitted.n_iter_ == 7


def test_the_variance_is_taken_only_for_a_tolerance(monkeypatch):
    """At tol = 0 the fit takes the columns' mean alone (the variance scales the
    tolerance only: one pass less, as scikit-learn does), and fits as with any tol too
    small to stop it."""
    X = blobs(3_000, 20, 5, seed=2)
    with_variance = KMeans(5, tol=1e-300, random_state=0).fit(X)
    calls = []
    real = _fit.column_moments
    monkeypatch.setattr(_fit, "column_moments", lambda *a: calls.append(1) or real(*a))
    without = KMeans(5, tol=0, random_state=0).fit(X)
    assert calls == []
    np.testing.assert_array_equal(without.labels_, with_variance.labels_)
    np.testing.assert_array_equal(without.cluster_centers_, with_variance.cluster_centers_)
    KMeans(5, tol=1e-4, random_state=0).fit(X)
    assert calls == [1]


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly", "elkan"])
def test_snap_ends_each_run_on_the_snapped_centers(algorithm):
    """``k_means(..., snap=f)``: the centers returned are f of the run's last centers, the
    labels are the nearest of them (the last assignment is to them), the inertia is
    theirs, and every algorithm gives the same; without ``snap`` nothing changes."""
    X = image_pixels("coffee")[::7]
    weights = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    params = dict(sample_weight=weights, random_state=0, n_init=2, max_iter=8)
    plain = k_means(X, 64, algorithm=algorithm, **params)
    centers, labels, inertia = k_means(X, 64, algorithm=algorithm, snap=np.rint, **params)
    np.testing.assert_array_equal(centers, np.rint(centers))
    assert not np.array_equal(plain[0], centers)
    sq = ((X[:, None, :] - centers[None]) ** 2).sum(axis=2)
    rows = np.arange(X.shape[0])
    np.testing.assert_array_equal(sq[rows, labels], sq.min(axis=1))
    assert inertia == pytest.approx((weights * sq[rows, labels]).sum(), rel=1e-12)
    lloyd = k_means(X, 64, algorithm="lloyd", snap=np.rint, **params)
    np.testing.assert_array_equal(labels, lloyd[1])
    np.testing.assert_array_equal(centers, lloyd[0])
    again = k_means(X, 64, algorithm=algorithm, **params)
    np.testing.assert_array_equal(again[0], plain[0])


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly"])
def test_pruned_starts_all_kept_are_the_full_runs(algorithm):
    """``prune_starts=(4, n_init)`` keeps every start: each stops after 4 iterations and
    goes on from its centers, which is the run it would have been (same seeds, same
    frame), so the fit is ``k_means(n_init=10)``'s, bit for bit."""
    X = image_pixels("coffee")[::7]
    weights = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0])
    params = dict(sample_weight=weights, random_state=0, n_init=10, max_iter=12, tol=1e-4)
    full = k_means(X, 32, algorithm=algorithm, return_n_iter=True, **params)
    pruned = k_means(X, 32, algorithm=algorithm, return_n_iter=True, prune_starts=(4, 10), **params)
    np.testing.assert_array_equal(pruned[0], full[0])
    np.testing.assert_array_equal(pruned[1], full[1])
    assert pruned[2:] == full[2:]


def test_only_the_starts_of_least_inertia_run_on(monkeypatch, capsys):
    """``prune_starts=(4, 3)``: ten starts run 4 iterations; the 3 of least inertia then
    go on from their centers (in start order) to ``max_iter`` in all, and the one of
    least inertia after that wins."""
    X = blobs(6_000, 8, 40, seed=3)  # overlapping enough that no start converges in 4
    runs = []  # (iterations, centers_init, result) of every run, in order
    real_run = _fit.run

    def recorded(X, sample_weight, distinct, centers_init, n_clusters, max_iter, *rest):
        result = real_run(X, sample_weight, distinct, centers_init, n_clusters, max_iter, *rest)
        runs.append((max_iter, centers_init, result))
        return result

    monkeypatch.setattr(_fit, "run", recorded)
    _, labels, inertia, n_iter = k_means(
        X, 64, n_init=10, max_iter=15, random_state=0, prune_starts=(4, 3), return_n_iter=True,
        verbose=True,
    )  # fmt: skip
    first, then = runs[:10], runs[10:]
    assert [iterations for iterations, _, _ in first] == [4] * 10
    assert [iterations for iterations, _, _ in then] == [11] * 3
    least = sorted(range(10), key=lambda start: first[start][2][1])[:3]
    continued = [
        next(start for start in range(10) if first[start][2][2] is centers_init)
        for _, centers_init, _ in then
    ]
    assert continued == sorted(least)
    assert f"Starts {sorted(least)} of least inertia after 4 iterations go on." in (
        capsys.readouterr().out
    )
    winner = min(then, key=lambda run: run[2][1])[2]
    np.testing.assert_array_equal(labels, winner[0])
    assert inertia == pytest.approx(winner[1], rel=1e-12)
    assert n_iter == 4 + winner[3]


@pytest.mark.parametrize("prune_starts", [4, (4,), (0, 4), (4, 0), (4.5, 2), "4,4"])
def test_prune_starts_must_be_a_pair_of_positive_integers(prune_starts):
    with pytest.raises(ValueError, match="prune_starts"):
        k_means(blobs(100, 2, 3, seed=0), 3, prune_starts=prune_starts)


def test_prune_starts_refuses_snap():
    """``snap`` ends every run, the ones stopped for the ranking too: refused together."""
    with pytest.raises(ValueError, match="prune_starts cannot be combined with snap"):
        k_means(blobs(100, 2, 3, seed=0), 3, n_init=4, prune_starts=(2, 2), snap=np.rint)


#: A fit in a process of its own, which prints its thread count and a digest of its result.
FIT_DIGEST = """
import hashlib
import numba
import numpy as np
from kmeans_scratch import KMeans
from tests.helpers import image_pixels
fitted = KMeans(32, random_state=0).fit(image_pixels("china"))
digest = hashlib.sha256()
for array in (fitted.cluster_centers_, fitted.labels_, fitted.inertia_):
    digest.update(np.asarray(array).tobytes())
print(numba.get_num_threads(), digest.hexdigest())
"""


def test_more_threads_same_bits():
    """Blocks, not threads, fix the summation order: 1 and 2 threads give identical bits
    (each in a process of its own, so that 2 threads run even on a machine of one core)."""
    outputs = []
    for threads in ("1", "2"):
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        done = subprocess.run(
            [sys.executable, "-c", FIT_DIGEST],
            env=env,
            cwd=Path(__file__).parent.parent,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.split())
    assert [threads for threads, _ in outputs] == ["1", "2"]
    assert outputs[0][1] == outputs[1][1]


def test_works_in_a_pipeline_and_clones():
    X = blobs(800, 5, 3, seed=9)
    pipeline = make_pipeline(StandardScaler(), KMeans(3, random_state=0))
    labels = pipeline.fit_predict(X)
    theirs = make_pipeline(StandardScaler(), SklearnKMeans(3, random_state=0))
    np.testing.assert_array_equal(labels, theirs.fit_predict(X))  # same seeds, same fit
    np.testing.assert_allclose(
        pipeline[-1].cluster_centers_, theirs[-1].cluster_centers_, rtol=1e-10, atol=1e-12
    )
    original = KMeans(7, tol=1e-3).fit(X)
    copy = clone(original)
    assert copy.get_params() == original.get_params() and not hasattr(copy, "cluster_centers_")


def test_single_cluster_and_single_feature():
    X = np.array([[1.0], [2.0], [3.0], [10.0]])
    fitted = KMeans(1, n_init=1).fit(X)
    np.testing.assert_allclose(fitted.cluster_centers_, [[4.0]])
    assert fitted.inertia_ == pytest.approx(9 + 4 + 1 + 36)
    two = KMeans(2, init=np.array([[0.0], [9.0]]), n_init=1).fit(X)
    np.testing.assert_allclose(two.cluster_centers_, [[2.0], [10.0]])


def test_no_warning_on_a_normal_fit():
    X = blobs(1_000, 3, 4, seed=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KMeans(4, random_state=0).fit(X)


@pytest.mark.parametrize(
    "params",
    [
        {"random_state": 0},
        {"random_state": 1, "algorithm": "hamerly", "init": "random"},
        {"random_state": 2, "algorithm": "elkan", "n_init": 3},
    ],
    ids=["k-means++", "random-hamerly", "elkan-n_init-3"],
)
def test_k_means_the_function_gives_the_estimators_fit(params):
    """``k_means`` is the fit without scikit-learn: the same centers, labels, inertia and
    iterations as ``KMeans.fit``, weights included, and the input left as it was."""
    from kmeans_scratch import k_means

    X = image_pixels("china")[::7]
    weights = np.random.RandomState(0).uniform(0.5, 2.0, X.shape[0])
    before = X.copy()
    centers, labels, inertia, n_iter = k_means(
        X, 12, sample_weight=weights, return_n_iter=True, **params
    )
    fitted = KMeans(12, **params).fit(X, sample_weight=weights)
    np.testing.assert_array_equal(centers, fitted.cluster_centers_)
    np.testing.assert_array_equal(labels, fitted.labels_)
    assert inertia == fitted.inertia_ and n_iter == fitted.n_iter_
    np.testing.assert_array_equal(X, before)
    assert len(k_means(X, 12, random_state=0)) == 3  # without return_n_iter


def test_k_means_warns_with_its_own_convergence_warning():
    from kmeans_scratch import ConvergenceWarning as OurWarning
    from kmeans_scratch import k_means

    with pytest.warns(OurWarning, match="Number of distinct clusters"):
        k_means(np.tile([1.0, 2.0], (5, 1)), 3, random_state=0)


# Differences found by running scikit-learn's own test file against ours (issue 24; the
# whole file runs in test_sklearn_suite.py).


def test_elkan_with_one_cluster_warns_like_sklearn_and_runs_lloyd(monkeypatch):
    """One center has no center-to-center distances for Elkan's bounds: scikit-learn warns
    and runs Lloyd's.  So do we, with its message, from ``KMeans`` and ``k_means``."""
    from kmeans_scratch import k_means

    X = blobs(300, 3, 2, seed=13)
    with pytest.warns(RuntimeWarning) as theirs:
        SklearnKMeans(1, algorithm="elkan", random_state=0).fit(X)

    def no_elkan(*args):
        raise AssertionError("Elkan's iteration ran for a single cluster")

    monkeypatch.setitem(_fit.ALGORITHMS, "elkan", no_elkan)
    with pytest.warns(RuntimeWarning) as ours:
        fitted = KMeans(1, algorithm="elkan", random_state=0).fit(X)
    messages = [str(w.message) for w in theirs if w.category is RuntimeWarning]
    assert [str(w.message) for w in ours] == messages
    assert messages == [
        "algorithm='elkan' doesn't make sense for a single cluster. Using 'lloyd' instead."
    ]
    assert ours[0].filename == __file__  # the warning points at the caller
    np.testing.assert_allclose(fitted.cluster_centers_, X.mean(axis=0, keepdims=True))
    with pytest.warns(RuntimeWarning, match=re.escape(messages[0])) as function:
        k_means(X, 1, algorithm="elkan", random_state=0)
    assert function[0].filename == __file__


def test_elkan_runs_lloyds_step_where_its_bounds_do_not_pay(monkeypatch, elkan_assignments):
    """Elkan's bounds pay on dense rows only in float64 with at least 64 features and 64
    clusters (measured by ``make bench-widths``); elsewhere ``algorithm="elkan"`` runs
    Lloyd's step (on wide rows with many clusters, as Hamerly's runs: the test above):
    the same fit as Lloyd's step everywhere, bit for bit, without making Elkan's step
    (where it is made, the rows decide next: the test below)."""
    for n_features, n_clusters, dtype, runs_elkan in [
        (3, 64, np.float64, False),
        (64, 8, np.float64, False),
        (64, 64, np.float32, False),
        (64, 64, np.float64, True),
    ]:
        elkan_assignments.clear()
        X = blobs(1_000, n_features, n_clusters, seed=n_features, dtype=dtype)
        fits = {
            "lloyd": plain_lloyd_fit(monkeypatch, X, n_clusters=n_clusters, n_init=1,
                                     random_state=0),
            "elkan": KMeans(n_clusters, n_init=1, random_state=0, algorithm="elkan").fit(X),
        }  # fmt: skip
        assert bool(elkan_assignments) is runs_elkan, (n_features, n_clusters, dtype)
        np.testing.assert_array_equal(fits["elkan"].labels_, fits["lloyd"].labels_)
        np.testing.assert_array_equal(
            fits["elkan"].cluster_centers_, fits["lloyd"].cluster_centers_
        )
        assert fits["elkan"].n_iter_ == fits["lloyd"].n_iter_


def embedding_like_rows(n_samples, n_features, seed):
    """Unit vectors of a rank-24 signal plus noise: every center about as far as any other."""
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal((n_samples, 24)) @ rng.standard_normal((24, n_features))
    rows = signal + 0.5 * np.abs(signal).mean() * rng.standard_normal(signal.shape)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.mark.parametrize(
    ("n_samples", "n_features", "n_clusters", "dtype", "step"),
    [
        (4_000, 64, 64, np.float64, "hamerly"),  # wide rows, many clusters: as Hamerly runs
        (4_000, 64, 64, np.float32, "hamerly"),
        (4_000, 16, 64, np.float64, "hamerly"),  # from 16 features (BLAS's step)
        (4_000, 15, 64, np.float64, "lloyd"),  # narrow rows: Lloyd's tile kernel
        (4_000, 512, 256, np.float32, "hamerly"),  # up to LLOYD_AS_HAMERLY_MAX_FEATURES
        (4_000, 513, 256, np.float32, "lloyd"),
        (4_000, 784, 256, np.float64, "lloyd"),
        (4_000, 64, 63, np.float64, "lloyd"),  # too few clusters for the bounds to pay
        (4_000, 3, 256, np.float64, "lloyd"),
        (100, 16, 64, np.float64, "lloyd"),  # too little work for BLAS
    ],
)
def test_which_step_lloyd_runs(n_samples, n_features, n_clusters, dtype, step):
    """ "lloyd", and "elkan" where Elkan's bounds do not pay (float32 here), run Hamerly's
    step as it runs on wide rows with many clusters, Lloyd's elsewhere."""
    X = np.zeros((n_samples, n_features), dtype=dtype)
    assert _fit.resolve_algorithm("lloyd", n_clusters, X) == step
    if dtype == np.float32:
        assert _fit.resolve_algorithm("elkan", n_clusters, X) == step


@pytest.mark.parametrize("algorithm", ["hamerly", "elkan", "lloyd"])
def test_bounds_run_only_where_the_clusters_stand_apart(monkeypatch, algorithm):
    """On wide rows (and, for Elkan, where the shape allows its bounds) the rows decide:
    after Lloyd's first step, on blobs the bounds would skip much of the work and run; on
    embedding-like rows hardly any, and every step is Lloyd's, without writing a bound.
    Either way the fit is Lloyd's step's, bit for bit.  ``algorithm="lloyd"`` runs
    Hamerly's step there, as it runs (``_fit.resolve_algorithm``)."""
    made = []
    step_name = "hamerly" if algorithm == "lloyd" else algorithm
    step_class = _fit.ALGORITHMS[step_name]

    class Spied(step_class):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)

    monkeypatch.setitem(_fit.ALGORITHMS, step_name, Spied)
    for X, runs_bounds in [
        (blobs(4_000, 64, 64, seed=1), True),
        (embedding_like_rows(4_000, 64, seed=0), False),
    ]:
        made.clear()
        fits = {
            "lloyd": plain_lloyd_fit(monkeypatch, X, n_clusters=64, n_init=1, random_state=0),
            algorithm: KMeans(64, n_init=1, random_state=0, algorithm=algorithm).fit(X),
        }
        (step,) = made
        assert step.blas
        assert step.runs_bounds is runs_bounds
        if algorithm == "elkan":
            assert (step.lower is not None) is runs_bounds
        else:
            assert (step.geometry is not None) is runs_bounds
        np.testing.assert_array_equal(fits[algorithm].labels_, fits["lloyd"].labels_)
        np.testing.assert_array_equal(
            fits[algorithm].cluster_centers_, fits["lloyd"].cluster_centers_
        )
        assert fits[algorithm].n_iter_ == fits["lloyd"].n_iter_
        assert fits[algorithm].inertia_ == fits["lloyd"].inertia_


def test_hamerly_runs_its_bounds_from_the_first_step_on_narrow_rows(monkeypatch):
    """On colors (d = 3) a distance costs about as much as a bound: Hamerly's bounds run
    from the first step, whatever the rows, as the command's fits need."""
    made = []

    class Spied(_hamerly.HamerlyAssignment):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)

    monkeypatch.setitem(_fit.ALGORITHMS, "hamerly", Spied)
    X = np.random.default_rng(0).normal(size=(5_000, 3))
    KMeans(16, n_init=1, random_state=0, algorithm="hamerly").fit(X)
    (step,) = made
    assert not step.blas and step.runs_bounds is True


def test_skip_shares_count_what_the_centers_rule_out():
    """Elkan's share is the mean over rows of #{j ≠ a : ½‖c_a − c_j‖ > ‖x − c_a‖} / (k − 1),
    Hamerly's the share of rows with ‖x − c_a‖ < ½ min_{j≠a} ‖c_a − c_j‖, counted center
    by center here, on every row of a small X and on every fourth of 16,384 rows."""
    rng = np.random.default_rng(3)
    centers = 2 * rng.normal(size=(7, 5))

    def counted(rows):
        labels = ((rows[:, None] - centers[None]) ** 2).sum(axis=2).argmin(axis=1)
        own = np.linalg.norm(rows - centers[labels], axis=1)
        half = np.linalg.norm(centers[:, None] - centers[None], axis=2) / 2
        ruled_out = np.zeros(rows.shape[0])
        nearest_half = np.full(rows.shape[0], np.inf)
        for j in range(7):
            other = labels != j
            ruled_out += other & (half[labels, j] > own)
            nearest_half = np.where(other, np.minimum(nearest_half, half[labels, j]), nearest_half)
        return labels.astype(np.int32), ruled_out.mean() / 6, np.mean(own < nearest_half)

    for n_rows, sampled in [(1_000, slice(None)), (16_384, slice(None, None, 4))]:
        X = rng.normal(size=(n_rows, 5))
        labels = counted(X)[0]
        _, expected_elkan, expected_hamerly = counted(X[sampled])
        weights = np.ones(n_rows)
        elkan = _elkan.ElkanAssignment(X, weights, 7).skip_share(centers, labels)
        hamerly = _hamerly.HamerlyAssignment(X, weights, 7).skip_share(centers, labels)
        assert 0 < elkan < 1 and 0 < hamerly < 1
        assert elkan == pytest.approx(expected_elkan, rel=1e-12)
        assert hamerly == pytest.approx(expected_hamerly, rel=1e-12)
    one_center = _elkan.ElkanAssignment(X, weights, 1).skip_share(centers[:1], labels * 0)
    assert one_center == 0.0


@pytest.mark.parametrize(
    "n_rows, n_columns, as_callable",
    [(2, 5, False), (8, 2, False), (2, 5, True), (8, 2, True), (2, 2, False)],
    ids=["rows", "columns", "callable-rows", "callable-columns", "both"],
)
def test_wrong_init_shape_message_ends_with_sklearns(n_rows, n_columns, as_callable):
    """scikit-learn names what does not match (clusters first, then features); our message
    gives the expected shape, then the same reason in the same words."""
    from kmeans_scratch import k_means

    X = blobs(100, 5, 3, seed=14)
    init = X[:n_rows, :n_columns]
    if as_callable:
        init = lambda data, n_clusters, random_state: data[:n_rows, :n_columns]  # noqa: E731
    with pytest.raises(ValueError) as theirs:
        SklearnKMeans(8, init=init, n_init=1).fit(X)
    head, reason = str(theirs.value).split(" does not match ", 1)
    assert reason.startswith("the number of clusters 8" if n_rows != 8 else "the number of feat")
    for fit in (lambda: KMeans(8, init=init, n_init=1).fit(X), lambda: k_means(X, 8, init=init)):
        with pytest.raises(ValueError) as ours:
            fit()
        message = str(ours.value)
        assert message.startswith(f"{head} does not match (n_clusters, n_features) = (8, 5): ")
        assert message.endswith(f" does not match {reason}")


def test_kmeans_plusplus_takes_x_squared_norms_like_sklearn():
    """``x_squared_norms`` (‖x_i‖² per row) is accepted and checked as scikit-learn does;
    given correctly, it changes nothing: the same indices, which are scikit-learn's."""
    X = blobs(2_000, 4, 6, seed=15)
    norms = np.einsum("ij,ij->i", X, X)
    centers, indices = kmeans_plusplus(X, 6, random_state=3)
    _, theirs = sklearn_kmeans_plusplus(X, 6, x_squared_norms=norms, random_state=3)
    np.testing.assert_array_equal(indices, theirs)
    for given in (norms, norms[:, None], list(norms), norms.astype(np.float32)):
        again, again_indices = kmeans_plusplus(X, 6, x_squared_norms=given, random_state=3)
        np.testing.assert_array_equal(again_indices, indices)
        np.testing.assert_array_equal(again, centers)
    X32 = X.astype(np.float32)
    _, indices32 = kmeans_plusplus(X32, 6, random_state=3)
    _, given32 = kmeans_plusplus(X32, 6, x_squared_norms=norms, random_state=3)
    np.testing.assert_array_equal(given32, indices32)

    for wrong_length in (norms[:2], X[:2]):
        with pytest.raises(ValueError) as theirs:
            sklearn_kmeans_plusplus(X, 6, x_squared_norms=wrong_length)
        assert "The length of x_squared_norms 2 should be equal" in str(theirs.value)
        with pytest.raises(ValueError, match=re.escape(str(theirs.value))):
            kmeans_plusplus(X, 6, x_squared_norms=wrong_length)
    for bad, match in [
        (np.ones((2_000, 2)), r"x_squared_norms must have shape \(n_samples,\) = \(2000,\)"),
        (3.0, r"x_squared_norms must be an array of shape \(n_samples,\)"),
        (np.full(2_000, np.nan), "x_squared_norms contains NaN"),
    ]:
        with pytest.raises(ValueError, match=match):
            kmeans_plusplus(X, 6, x_squared_norms=bad)


@pytest.mark.parametrize("init", ["callable", "array"])
def test_n_init_auto_with_a_callable_or_an_array(init):
    """n_init="auto" is 10 runs for a callable init, 1 for an array (scikit-learn's rule)."""
    X = blobs(300, 4, 5, seed=16)
    calls = []

    def random_centers(data, n_clusters, random_state):
        calls.append(n_clusters)
        return random_state.uniform(size=(n_clusters, data.shape[1]))

    out = io.StringIO()
    with redirect_stdout(out):
        KMeans(5, init=random_centers if init == "callable" else X[:5], verbose=1).fit(X)
    runs = out.getvalue().count("Initialization complete")
    assert runs == (10 if init == "callable" else 1)
    assert len(calls) == (10 if init == "callable" else 0)
