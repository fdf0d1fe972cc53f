"""kmeans_scratch.dask.KMeans: the in-memory fit's answer on chunked data, on any scheduler.

The oracle is the in-memory :class:`kmeans_scratch.KMeans` (itself held to scikit-learn):
from the same init array, the same labels and ``n_iter_``, centers and inertia within 1e-9
relative, whatever the chunking, on Dask's threaded scheduler and on a LocalCluster of two
worker processes.
"""

import re

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from kmeans_scratch import KMeans  # noqa: E402
from kmeans_scratch.dask import KMeans as DaskKMeans  # noqa: E402

from .helpers import blobs, image_pixels, jittered_pixel_init  # noqa: E402

RTOL = 1e-9


def assert_same_fit(ours, expected):
    np.testing.assert_array_equal(ours.labels_.compute(), expected.labels_)
    assert ours.n_iter_ == expected.n_iter_
    np.testing.assert_allclose(ours.cluster_centers_, expected.cluster_centers_, rtol=RTOL, atol=0)
    assert ours.inertia_ == pytest.approx(expected.inertia_, rel=RTOL)
    assert ours.cluster_centers_.dtype == expected.cluster_centers_.dtype


def uneven_chunks(n_samples, seed):
    """Row chunks of random sizes, one of them empty."""
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, n_samples), size=6, replace=False))
    sizes = np.diff(np.concatenate([[0], cuts, [n_samples]]))
    return (*sizes[:3].tolist(), 0, *sizes[3:].tolist())


def pixel_case(dtype):
    X = image_pixels("china", dtype)[::7]
    return X, jittered_pixel_init(X, 16, seed=3)


@pytest.mark.parametrize("chunks", ["even", "uneven"])
def test_same_fit_as_in_memory_on_the_threaded_scheduler(algorithm, dtype, chunks):
    X, init = pixel_case(dtype)
    expected = KMeans(16, init=init, algorithm=algorithm).fit(X)
    row_chunks = 5000 if chunks == "even" else uneven_chunks(X.shape[0], seed=1)
    with_dask = da.from_array(X, chunks=(row_chunks, -1))
    with dask.config.set(scheduler="threads"):
        ours = DaskKMeans(16, init=init, algorithm=algorithm).fit(with_dask)
    assert_same_fit(ours, expected)


def test_elkan_runs_where_its_bounds_pay_as_in_memory(elkan_assignments):
    """``algorithm="elkan"`` chooses as the in-memory fit does (``_fit.elkan_pays``):
    Lloyd's step on narrow float32 rows, whose chunks then keep only their labels, and
    Elkan's bounds on float64 rows of 64 features with 64 clusters; the same fit."""
    for n_features, n_clusters, dtype, runs_elkan in [
        (3, 8, np.float32, False),
        (64, 64, np.float64, True),
    ]:
        elkan_assignments.clear()
        X = blobs(2_000, n_features, n_clusters, seed=7, dtype=dtype)
        init = X[:: X.shape[0] // n_clusters][:n_clusters] + dtype(0.01)
        expected = KMeans(n_clusters, init=init, algorithm="lloyd").fit(X)
        with dask.config.set(scheduler="threads"):
            ours = DaskKMeans(n_clusters, init=init, algorithm="elkan").fit(
                da.from_array(X, chunks=(700, -1))
            )
        assert bool(elkan_assignments) is runs_elkan, (n_features, n_clusters, dtype)
        assert_same_fit(ours, expected)


def test_same_fit_with_weights_and_blobs():
    X = blobs(30000, 5, 6, seed=4)
    weights = np.random.default_rng(5).integers(0, 4, X.shape[0]).astype(float)
    init = X[:6] + 0.25
    expected = KMeans(6, init=init, algorithm="hamerly").fit(X, sample_weight=weights)
    ours = DaskKMeans(6, init=init, algorithm="hamerly").fit(
        da.from_array(X, chunks=(7000, -1)),
        sample_weight=da.from_array(weights, chunks=3000),  # rechunked to X's rows
    )
    assert_same_fit(ours, expected)


def test_an_empty_cluster_is_reseeded_as_in_memory():
    X = blobs(6000, 2, 3, seed=6)
    init = np.array([X[0], X[1], [1e3, 1e3], X[2]])  # the third center wins no row
    expected = KMeans(4, init=init).fit(X)
    ours = DaskKMeans(4, init=init).fit(da.from_array(X, chunks=(1000, -1)))
    assert_same_fit(ours, expected)


def test_same_fit_on_a_cluster_of_two_processes(cluster_client, algorithm):
    X, init = pixel_case(np.float32)
    expected = KMeans(16, init=init, algorithm=algorithm).fit(X)
    with_dask = da.from_array(X, chunks=(uneven_chunks(X.shape[0], seed=2), -1)).persist()
    ours = DaskKMeans(16, init=init, algorithm=algorithm).fit(with_dask)
    assert_same_fit(ours, expected)


def packed_labels_round_trip(n_clusters):
    from kmeans_scratch.dask._chunks import ChunkRun

    run = ChunkRun("lloyd", 5, n_clusters)
    assert (run.labels() == -1).all()
    labels = np.array([0, n_clusters - 1, 3 % n_clusters, 0, n_clusters // 2], dtype=np.int32)
    run.keep(labels)
    return run.packed_labels.dtype, run.labels()


def test_a_chunk_keeps_its_labels_packed_between_steps():
    for n_clusters, dtype in [(1, np.uint8), (256, np.uint8), (257, np.uint16), (70000, np.uint32)]:
        packed, unpacked = packed_labels_round_trip(n_clusters)
        assert packed == dtype
        assert unpacked.dtype == np.int32
        np.testing.assert_array_equal(
            unpacked, [0, n_clusters - 1, 3 % n_clusters, 0, n_clusters // 2]
        )


def test_kmeans_parallel_keeps_the_nearest_candidate_packed():
    from kmeans_scratch.dask._seeding import update_closest

    rows, weights = np.arange(12, dtype=np.float64).reshape(4, 3), np.ones(4)
    closest, _ = update_closest(None, rows, weights, rows[:2].copy(), 0)
    assert closest.packed_nearest.dtype == np.uint8
    closest, potential = update_closest(closest, rows, weights, rows[2:].copy(), 300)
    assert closest.packed_nearest.dtype == np.uint16  # candidates numbered up to 301
    np.testing.assert_array_equal(closest.nearest(), [0, 1, 300, 301])
    assert potential == 0.0


def kept_on_workers(client):
    from kmeans_scratch.dask import _pinned

    return sum(client.run(lambda: len(_pinned._KEPT)).values())


def test_persisted_data_gives_the_graph_path_fit_and_leaves_nothing_kept(cluster_client):
    """Persisted on a cluster, the data goes through ``_pinned`` (one task per worker,
    prepared rows and states kept in place): the same fit, bit for bit, as through Dask's
    graphs on the threaded scheduler, from k-means|| seeds with two starts, with weights
    given unpersisted and an empty chunk; afterwards no worker keeps anything of it."""
    from kmeans_scratch.dask._pinned import PinnedChunks, row_chunks

    X = blobs(24000, 3, 8, seed=9)
    weights = np.random.default_rng(10).integers(0, 3, X.shape[0]).astype(float)
    chunks = (uneven_chunks(X.shape[0], seed=3), -1)
    persisted = da.from_array(X, chunks=chunks).persist()
    unpersisted_weights = da.from_array(weights, chunks=5000)
    assert isinstance(row_chunks(persisted, None, np.float64), PinnedChunks)
    options = {"n_init": 2, "random_state": 12, "algorithm": "elkan"}
    pinned = DaskKMeans(8, **options).fit(persisted, sample_weight=unpersisted_weights)
    with dask.config.set(scheduler="threads"):
        graphs = DaskKMeans(8, **options).fit(
            da.from_array(X, chunks=chunks), sample_weight=unpersisted_weights
        )
    np.testing.assert_array_equal(pinned.labels_.compute(), graphs.labels_.compute())
    np.testing.assert_array_equal(pinned.cluster_centers_, graphs.cluster_centers_)
    assert (pinned.inertia_, pinned.n_iter_) == (graphs.inertia_, graphs.n_iter_)
    assert kept_on_workers(cluster_client) == 0


def test_a_worker_gone_during_a_fit_is_an_error_not_a_hang(cluster_client):
    from kmeans_scratch.dask._chunks import chunk_moments
    from kmeans_scratch.dask._pinned import row_chunks

    persisted = da.from_array(blobs(2000, 2, 3, seed=1), chunks=(500, -1)).persist()
    with row_chunks(persisted, None, np.float64) as chunks:
        chunks.workers[1] = "tcp://127.0.0.1:9"  # as if that worker had left
        gone = re.escape("worker tcp://127.0.0.1:9 left during the fit")
        with pytest.raises(RuntimeError, match=gone):
            chunks.map(chunk_moments, np.float64)


def test_chunks_are_balanced_over_the_workers_by_their_threads():
    from kmeans_scratch.dask._pinned import balanced_workers

    holders = ["a", "a", "b", "a", "a", "b", "a", "a"]
    even = balanced_workers(holders, [10] * 8, {"a": 1, "b": 1})
    assert even.count("a") == even.count("b") == 4
    assert [worker for worker, holder in zip(even, holders, strict=True) if worker != holder] == [
        "b",
        "b",
    ]
    by_threads = balanced_workers(holders, [10] * 8, {"a": 1, "b": 3})
    assert by_threads.count("b") == 6
    assert balanced_workers([None, "gone", "a"], [5, 5, 0], {"a": 1, "b": 1}) == ["a", "b", "a"]


def test_kmeans_parallel_seeds_depend_on_the_chunks_not_the_scheduler(cluster_client):
    X = blobs(20000, 3, 8, seed=7)
    with_dask = da.from_array(X, chunks=(3000, -1))
    on_cluster = DaskKMeans(8, random_state=11).fit(with_dask)
    with dask.config.set(scheduler="threads"):
        threaded = DaskKMeans(8, random_state=11).fit(with_dask)
    np.testing.assert_array_equal(on_cluster.cluster_centers_, threaded.cluster_centers_)


@pytest.mark.slow
@pytest.mark.parametrize("n_clusters", [8, 64])
def test_kmeans_parallel_seeds_are_as_good_as_kmeans_plusplus(n_clusters):
    """Bahmani et al.'s claim on pixels and blobs: the fit from k-means|| seeds ends at an
    inertia within 2 % of the in-memory fit from greedy k-means++ (mean of 3 seeds each)."""
    for X in (image_pixels("flower", np.float32)[::5], blobs(40000, 3, n_clusters, seed=8)):
        with_dask = da.from_array(X, chunks=(10000, -1))
        ours = np.mean(
            [DaskKMeans(n_clusters, random_state=s).fit(with_dask).inertia_ for s in range(3)]
        )
        memory = np.mean([KMeans(n_clusters, random_state=s).fit(X).inertia_ for s in range(3)])
        assert ours <= 1.02 * memory


def test_a_kmeans_parallel_round_that_draws_no_row_changes_nothing():
    """With one cluster (ℓ = 2 rows expected a round) or a small oversampling factor, a
    round may draw no row: the rows keep their nearest candidate and D² (a round over no
    candidates once numbered a candidate that did not exist, and the seeding failed)."""
    X = np.random.default_rng(0).normal(size=(1000, 3))
    with dask.config.set(scheduler="threads"):
        one = DaskKMeans(1, random_state=3).fit(da.from_array(X, chunks=(1000, -1)))
        few = DaskKMeans(3, oversampling_factor=0.1, random_state=0)
        few.fit(da.from_array(X, chunks=(100, -1)))
    np.testing.assert_allclose(one.cluster_centers_[0], X.mean(axis=0), rtol=0, atol=1e-12)
    assert few.inertia_ <= 1.02 * KMeans(3, random_state=0).fit(X).inertia_


def test_a_dask_dataframe_is_fitted_by_its_partitions_with_its_column_names():
    """A Dask DataFrame is not gathered into one array: its labels are chunked as its
    partitions, and its string column names are ``feature_names_in_``, as in memory."""
    import dask.dataframe as dd
    import pandas as pd

    X = blobs(1000, 3, 3, seed=2)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    chunked = dd.from_pandas(frame, npartitions=4)
    with dask.config.set(scheduler="threads"):
        ours = DaskKMeans(3, init=X[:3]).fit(chunked)
        predicted = ours.predict(chunked)
    expected = KMeans(3, init=X[:3]).fit(frame)
    assert len(ours.labels_.chunks[0]) == len(predicted.chunks[0]) == 4
    np.testing.assert_array_equal(ours.labels_.compute(), expected.labels_)
    np.testing.assert_array_equal(ours.feature_names_in_, expected.feature_names_in_)
    assert not hasattr(DaskKMeans(3, init=X[:3]).fit(X), "feature_names_in_")


def test_a_pickled_model_predicts_and_says_its_labels_were_not_pickled(cluster_client):
    """The labels stay on the workers: a pickled model's ``labels_`` say so when computed
    (they failed with a missing Dask dependency), and the rest of it works unchanged."""
    import pickle

    X = da.from_array(blobs(4000, 3, 4, seed=3), chunks=(1000, -1)).persist()
    model = DaskKMeans(4, random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(model))
    assert restored.labels_.chunks == model.labels_.chunks
    with pytest.raises(ValueError, match=r"labels_ of a kmeans_scratch\.dask\.KMeans stay where"):
        restored.labels_.compute()
    np.testing.assert_array_equal(restored.cluster_centers_, model.cluster_centers_)
    np.testing.assert_array_equal(restored.predict(X).compute(), model.predict(X).compute())
    np.testing.assert_array_equal(model.labels_.compute(), model.predict(X).compute())


def test_random_init_draws_distinct_rows_by_weight():
    X = np.arange(20.0).reshape(10, 2)
    weights = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 0.0])  # only three rows can be drawn
    model = DaskKMeans(3, init="random", n_init=1, max_iter=1, random_state=0)
    model.fit(da.from_array(X, chunks=(4, -1)), sample_weight=weights)
    np.testing.assert_array_equal(np.sort(model.cluster_centers_[:, 0]), [12.0, 14.0, 16.0])


def test_predict_transform_and_score_are_the_in_memory_ones():
    X, init = pixel_case(np.float64)
    expected = KMeans(16, init=init).fit(X)
    ours = DaskKMeans(16, init=init).fit(da.from_array(X, chunks=(4000, -1)))
    new = image_pixels("flower")[::11]
    new_dask = da.from_array(new, chunks=(3000, -1))
    predicted = ours.predict(new_dask)
    assert isinstance(predicted, da.Array)  # lazy
    np.testing.assert_array_equal(predicted.compute(), expected.predict(new))
    np.testing.assert_allclose(
        ours.transform(new_dask).compute(), expected.transform(new), rtol=1e-12
    )
    assert ours.score(new_dask) == pytest.approx(expected.score(new), rel=1e-12)


def test_numba_runs_as_many_threads_as_the_worker_has(cluster_client):
    from kmeans_scratch.dask._chunks import chunk_threads

    def threads_in_a_task():
        from kmeans_scratch._kernels import numba_module

        numba = numba_module()  # started, as where a kernel has no ahead-of-time code
        with chunk_threads(10**6):
            return numba.get_num_threads()

    futures = [cluster_client.submit(threads_in_a_task, pure=False) for _ in range(4)]
    assert cluster_client.gather(futures) == [1, 1, 1, 1]


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (lambda X: X.map_blocks(lambda b: np.where(b > 250, np.nan, b)), "X contains NaN"),
        (lambda X: X.map_blocks(lambda b: np.where(b > 250, np.inf, b)), "X contains infinity"),
        (lambda X: X.rechunk({1: 1}), "split into 3 chunks along its columns"),
        (lambda X: X[X[:, 0] > 100], "unknown size"),
        (lambda X: X[:10], "n_samples=10 should be >= n_clusters=16"),
        (lambda X: X[:0], "0 samples"),
        (lambda X: X[:, 0], "Expected 2D array"),
    ],
)
def test_bad_input_gets_the_in_memory_error_before_any_iteration(make_input, message):
    X = da.from_array(image_pixels("china")[::50], chunks=(500, -1))
    with pytest.raises(ValueError, match=message):
        DaskKMeans(16, random_state=0).fit(make_input(X))


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (lambda n: da.full(n, -1.0, chunks=500), "non-negative"),
        (lambda n: da.zeros(n, chunks=500), "sums to zero"),
        (lambda n: da.ones(n + 1, chunks=500), r"shape \(n_samples,\)"),
        (lambda n: np.full(n, np.nan), "NaN or infinity"),
    ],
)
def test_bad_weights_are_named(weights, message):
    X = da.from_array(image_pixels("china")[::50], chunks=(500, -1))
    with pytest.raises(ValueError, match=message):
        DaskKMeans(4, random_state=0).fit(X, sample_weight=weights(X.shape[0]))


def test_bad_parameters_and_test_data_are_named():
    X = da.from_array(blobs(2000, 3, 4, seed=1), chunks=(500, -1))
    with pytest.raises(ValueError, match=re.escape("init must be one of 'k-means||', 'random'")):
        DaskKMeans(4, init="kmeans").fit(X)
    with pytest.raises(
        ValueError,
        match=r"'k-means\+\+': k-means\+\+ would take a pass .*'k-means\|\|', the default",
    ):
        DaskKMeans(4, init="k-means++").fit(X)
    with pytest.raises(ValueError, match="does not match"):
        DaskKMeans(4, init=np.zeros((3, 3))).fit(X)
    model = DaskKMeans(4, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 2 features, but KMeans is expecting 3"):
        model.predict(X[:, :2])
    for bad, what in ((np.nan, "NaN"), (np.inf, "infinity")):
        test_data = X.compute()
        test_data[777, 1] = bad
        with_bad_row = da.from_array(test_data, chunks=(500, -1))
        for call in (model.predict, model.transform, model.score):
            with pytest.raises(ValueError, match=f"X contains {what}"):
                dask.compute(call(with_bad_row))


def test_a_paused_worker_holds_a_fit_up_when_it_runs_nothing_and_has_work_waiting():
    """Which paused workers the wait of a fit counts against its bound (see ``_waiting``):
    one that runs no task and has tasks to run, or every one when no worker runs at all;
    never one still running a task, nor an idle one beside a worker that runs."""
    from kmeans_scratch.dask._waiting import holding_up

    def worker(status, executing):
        return {"status": status, "metrics": {"task_counts": {"executing": executing}}}

    paused_idle, paused_busy = worker("paused", 0), worker("paused", 1)
    running = worker("running", 1)
    assert holding_up({"a": paused_idle, "b": running}, {"a": ["task"]}) == ["a"]
    assert holding_up({"a": paused_idle, "b": running}, {"b": ["task"]}) == []
    assert holding_up({"a": paused_busy, "b": running}, {"a": ["task"]}) == []
    assert holding_up({"a": paused_idle, "b": paused_idle}, {}) == ["a", "b"]
    assert holding_up({"a": paused_idle, "b": paused_busy}, {}) == []


def test_a_chunk_task_gets_reused_buffers_and_may_not_return_a_view_of_them():
    """A chunk task centers the chunk into its thread's buffers (the same arrays at the next
    task of that shape); a result that is a view of them would be overwritten by the next
    task, so it is refused."""
    from kmeans_scratch.dask._chunked import on_chunk
    from kmeans_scratch.dask._chunks import thread_buffer

    rows = np.arange(12, dtype=np.float64).reshape(4, 3)
    mean = rows.mean(axis=0)

    def where_and_what(chunk, weights):
        return chunk.ctypes.data, weights.ctypes.data, chunk.copy(), weights.copy()

    held = (
        thread_buffer("rows", rows.shape, mean.dtype),
        thread_buffer("ones", (4,), mean.dtype, fill=1),
    )
    where_rows, where_weights, centered, weights = on_chunk(
        where_and_what, False, None, rows, None, mean
    )
    assert (where_rows, where_weights) == (held[0].ctypes.data, held[1].ctypes.data)
    np.testing.assert_array_equal(centered, rows - mean)
    np.testing.assert_array_equal(weights, np.ones(4))
    copied = on_chunk(lambda chunk, weights: chunk[:1].copy(), False, None, rows, None, mean)
    np.testing.assert_array_equal(copied, rows[:1] - mean)
    with pytest.raises(RuntimeError, match="view of a reused buffer"):
        on_chunk(lambda chunk, weights: chunk[:1], False, None, rows, None, mean)


def counting_call(state, chunk, weights):
    """A state that counts its calls, and the chunk's rows as the result."""
    return (1 if state is None else state + 1), chunk.shape[0]


def test_a_kept_state_goes_on_inside_its_pair_in_two_tasks_a_chunk():
    from dask.callbacks import Callback

    from kmeans_scratch.dask._chunked import KeptPair, RowChunks

    executed = []
    # Dask's local scheduler, whose callbacks see every task, even where an earlier test
    # left a distributed client as the default
    with dask.config.set(scheduler="sync"):
        X = da.from_array(np.arange(18.0).reshape(9, 2), chunks=(3, 2)).persist()
        chunks = RowChunks(X, None, np.float64)
        with Callback(pretask=lambda key, dsk, state: executed.append(key)):
            states, results = chunks.map_kept(counting_call)
            assert results == [3, 3, 3]
            assert len(executed) == 2 * len(chunks)  # the call, and its result picked out
            states, results = chunks.map_kept(counting_call, states=states)
        assert all(isinstance(pair, KeptPair) for pair in dask.compute(*states))
        assert list(dask.compute(*chunks.values(states))) == [2, 2, 2]  # each state, passed on
