"""kmeans_scratch.dask.KMeans on data larger than what its workers may hold."""

import re
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from dask import delayed  # noqa: E402

from benchmarks.dask_memory import PeakMemory  # noqa: E402
from kmeans_scratch import KMeans  # noqa: E402
from kmeans_scratch.dask import KMeans as DaskKMeans  # noqa: E402

from .test_dask import assert_same_fit  # noqa: E402


def npy_rows(path, chunk_rows):
    """The rows of a .npy file as a Dask array, each chunk read from the file by its task."""
    shape = np.load(path, mmap_mode="r").shape

    def read_rows(start, end):
        return np.array(np.load(path, mmap_mode="r")[start:end])

    return da.concatenate(
        [
            da.from_delayed(
                delayed(read_rows)(start, min(start + chunk_rows, shape[0])),
                shape=(min(chunk_rows, shape[0] - start), shape[1]),
                dtype=np.float32,
            )
            for start in range(0, shape[0], chunk_rows)
        ]
    )


#: A worker that holds more than 90 % of its memory limit spills to disk, and does nothing
#: else (no pause, no restart, whatever the size of the process).
ONLY_SPILLING = {
    "distributed.worker.memory.target": 0.9,
    "distributed.worker.memory.spill": False,
    "distributed.worker.memory.pause": False,
    "distributed.worker.memory.terminate": False,
}


@pytest.mark.slow
def test_an_out_of_core_store_is_read_by_chunks_and_never_kept(tmp_path):
    """Data from a .npy file, 36 MB per worker where each may keep 21.6 MB in memory (beyond,
    it spills to disk): the fit reads the chunks from the file at every iteration, and
    afterwards the workers hold one result per chunk, its labels (4 bytes a row), not the
    data; the result is the in-memory one."""
    n_samples, chunk_rows = 6_000_000, 250_000
    rng = np.random.default_rng(9)
    X = (rng.integers(0, 64, (n_samples, 3)) + rng.uniform(0, 1, (n_samples, 3))).astype(np.float32)
    path = tmp_path / "pixels.npy"
    np.save(path, X)
    init = X[:8] + 0.5
    expected = KMeans(8, init=init, max_iter=20).fit(X)
    del X

    with (
        dask.config.set(ONLY_SPILLING),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, memory_limit=24_000_000,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        ours = DaskKMeans(8, init=init, max_iter=20).fit(npy_rows(path, chunk_rows))
        assert_same_fit(ours, expected)
        held = client.run(held_after_the_fit)
        assert sum(n_keys for n_keys, _ in held.values()) == n_samples // chunk_rows
        assert sum(n_bytes for _, n_bytes in held.values()) <= n_samples * 4 * 1.01  # the labels


def held_after_the_fit(dask_worker):
    """How many results a worker keeps, and their bytes in memory and spilled to disk."""
    data = dask_worker.data
    return len(data), data.fast.total_weight + data.spilled_total.memory


@pytest.fixture(scope="module")
def ahead_of_time_module():
    """The ahead-of-time module of these sources, which a worker of one thread runs its
    chunks with (``make kernels`` builds it; built here when a source changed since)."""
    from kmeans_scratch import _ahead

    if _ahead.find_module_file() is None:
        subprocess.run([sys.executable, "-m", "kmeans_scratch.build_kernels"], check=True)
    assert _ahead.find_module_file() is not None


@pytest.mark.slow
def test_workers_with_less_memory_than_the_data_finish_with_dask_defaults(ahead_of_time_module):
    """832 MB of rows made chunk by chunk, two workers that may each use 400 MB, and Dask's
    memory settings left as they are (spill at 60-70 %, pause at 80 %, restart at 95 %):
    the fit finishes with the in-memory answer, no worker is restarted, and no worker
    went past its limit."""
    n_samples, n_features, limit = 13_000_000, 16, 400_000_000
    X = da.random.default_rng(3).random(
        (n_samples, n_features), dtype=np.float32, chunks=(125_000, n_features)
    )
    in_memory = X.compute(scheduler="threads")
    init = in_memory[:8] + np.float32(0.01)
    expected = KMeans(8, init=init, max_iter=3).fit(in_memory)
    del in_memory

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, memory_limit=limit, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        workers = set(client.scheduler_info()["workers"])
        with PeakMemory(client) as memory:
            ours = DaskKMeans(8, init=init, max_iter=3).fit(X)
            # Chunk by chunk to this process: .compute() would join them on a worker first.
            labels = np.concatenate(dask.compute(*ours.labels_.to_delayed().ravel()))
        assert set(client.scheduler_info()["workers"]) == workers  # none restarted
        assert memory.peak and max(memory.peak.values()) < limit
    np.testing.assert_array_equal(labels, expected.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, expected.cluster_centers_, rtol=1e-6)


def test_a_chunk_the_workers_cannot_hold_is_refused_with_what_to_change():
    """Chunks of 120 MB for workers of 400 MB (that may use 320 MB, of which about 100-220
    MB go to imports and kernels): an error before any pass, with the chunk size that
    fits, not a worker paused forever."""
    X = da.zeros((10_000_000, 3), dtype=np.float32, chunks=(10_000_000, 3))
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, memory_limit=400_000_000, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster),
    ):  # fmt: skip
        with pytest.raises(ValueError, match=r"do not fit worker .*\(X\.rechunk\(\{0: \d+\}\)\)"):
            DaskKMeans(4, random_state=0).fit(X)


def test_a_worker_of_one_thread_runs_the_chunks_without_starting_numba(ahead_of_time_module):
    """A worker of one thread runs its chunks' tasks from the ahead-of-time module, on
    read-only and on unaligned chunks and centers too: Numba's compiler, about 120 MiB of
    a worker, never starts there (a read-only chunk centered by a kernel with no such
    specialization started it: 126 pauses in ``make bench-dask-memory``; chunks that
    Dask sent from bytes at an odd address started it in the moments' pass)."""

    def every_task_of_a_chunk():
        from kmeans_scratch._kernels import numba_started
        from kmeans_scratch.dask._chunked import on_chunk
        from kmeans_scratch.dask._chunks import (
            assign_step,
            chunk_inertia,
            chunk_moments,
            predict_chunk,
            transform_chunk,
        )
        from kmeans_scratch.dask._seeding import sampling_round

        def unaligned(array):  # as a buffer of bytes at an odd address holds it
            raw = np.zeros(array.nbytes + 1, dtype=np.uint8)[1:]
            out = raw.view(array.dtype).reshape(array.shape)
            out[...] = array
            return out

        data = np.random.default_rng(0).random((100_000, 3), dtype=np.float32)
        read_only = data.copy()
        read_only.flags.writeable = False  # as Dask often hands a chunk over
        outcomes = []
        for rows in (read_only, unaligned(data)):
            _, mean, _ = chunk_moments(rows, None, np.float32)
            mean = mean.astype(np.float32)
            centers = unaligned(data[:4] - mean)
            run, (_, _, cluster_weights) = on_chunk(
                assign_step, True, None, rows, None, mean, "lloyd", None, centers
            )
            on_chunk(sampling_round, True, None, rows, None, mean, centers, 0, 8.0, 0)
            labels = predict_chunk(rows, centers)
            transform_chunk(rows, centers)
            chunk_inertia(rows, None, centers)
            outcomes.append((int(cluster_weights.sum()), int(run.labels().min()), labels.size))
        assert not rows.flags.aligned
        return numba_started(), outcomes

    fresh = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, dashboard_address=":0"
    )  # a worker where no earlier test started Numba
    with fresh, distributed.Client(fresh) as client:
        started, outcomes = client.submit(every_task_of_a_chunk).result()
    assert outcomes == [(100_000, 0, 100_000)] * 2
    assert not started


def outcome_within(seconds, function):
    """The exception ``function()`` raises (None if it returns), run in a thread: the test
    fails, instead of hanging, if it has not ended within ``seconds``."""
    outcome = []

    def run():
        try:
            function()
        except BaseException as error:
            outcome.append(error)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still waiting after {seconds} s: the fit hangs")
    return outcome[0]


def memory_probes():
    """Functions for ``client.run`` (made here, so that a worker receives them by value and
    imports nothing of this module): the process's memory in bytes, and the same once it
    has made the imports of a task of the fit (a chunk of a Dask array to work on, and our
    chunk functions)."""

    def process_memory(dask_worker=None):
        import psutil

        return psutil.Process().memory_info().rss

    def after_the_task_imports(dask_worker=None):
        import dask.array  # noqa: F401

        import kmeans_scratch.dask._chunked  # noqa: F401

        return process_memory()

    return process_memory, after_the_task_imports


@pytest.mark.slow
def test_the_check_counts_what_the_first_task_imports():
    """A fresh worker is smaller than the one that runs the fit's first task: that task
    imports ``dask.array`` (with dask-ml installed, ``sparse`` and Numba with it).  The
    chunk here fits the room of a fresh worker but not the room left after those imports
    (both measured on a probe worker): it is refused before the fit, not found paused in
    the middle of it."""
    from kmeans_scratch.dask._memory import kernels_to_load, usable_fraction

    process_memory, after_the_task_imports = memory_probes()
    one_worker = {"n_workers": 1, "threads_per_worker": 1, "dashboard_address": ":0"}
    with distributed.LocalCluster(**one_worker) as probe, distributed.Client(probe) as client:
        (fresh,) = client.run(process_memory).values()
        (to_load_fresh,) = client.run(kernels_to_load).values()
        (imported,) = client.run(after_the_task_imports).values()
        (to_load,) = client.run(kernels_to_load).values()
    gap = (imported + to_load) - (fresh + to_load_fresh)
    assert gap > 8 * 2**20, "the imports of a task cost less than the test can tell apart"

    # A worker whose room, after the imports, is 40 MB: the work on the chunk needs half
    # the gap more than that, and half the gap less than a fresh worker's room.
    limit = int((imported + to_load + 40e6) / usable_fraction())
    rows = int((40e6 + gap / 2) / (3 * 3 * 4))  # 3 copies of rows of 3 float32
    X = da.zeros((rows, 3), dtype=np.float32, chunks=(rows, 3))
    with (
        distributed.LocalCluster(memory_limit=limit, **one_worker) as cluster,
        distributed.Client(cluster),
    ):
        error = outcome_within(60, lambda: DaskKMeans(2, random_state=0, max_iter=2).fit(X))
    assert isinstance(error, ValueError), error
    assert re.search(r"do not fit worker .*in use after the imports of the fit's tasks", str(error))


def rows_that_fill_their_worker(memory_limit):
    """A function for a chunk's task (made here, so that a worker receives it by value):
    the first time on a worker, it keeps an array (outside Dask's results, as a task's
    imports and buffers are) that takes the process to 87 % of ``memory_limit``, past
    Dask's pause threshold (80 %) and below its restart (95 %), and waits for Dask to
    pause the worker; then it returns ``n_rows`` rows of 3 float64 from ``start``."""

    def rows(start, n_rows):
        import psutil

        worker = distributed.get_worker()
        if not hasattr(worker, "memory_held_by_the_test"):
            extra = max(int(0.87 * memory_limit) - psutil.Process().memory_info().rss, 0)
            worker.memory_held_by_the_test = np.ones(extra, dtype=np.uint8)
            time.sleep(1.0)  # Dask's memory monitor looks every 0.1 s
        return np.arange(start, start + 3 * n_rows, dtype=np.float64).reshape(n_rows, 3)

    return rows


@pytest.mark.slow
def test_a_worker_paused_for_good_is_an_error_not_a_hang():
    """The first chunk made leaves its worker past Dask's pause threshold with memory that
    no spill frees: the fit stops with WorkerPausedError, naming the worker and what to
    change, within the bound (it used to wait for ever)."""
    from kmeans_scratch.dask import WorkerPausedError
    from kmeans_scratch.dask._waiting import CHECK_SECONDS, PAUSED_LIMIT_SECONDS

    limit, n_rows = 600_000_000, 1000
    make = delayed(rows_that_fill_their_worker(limit), pure=False)
    X = da.concatenate(
        [
            da.from_delayed(make(start, n_rows), shape=(n_rows, 3), dtype=np.float64)
            for start in range(0, 4 * n_rows, n_rows)
        ]
    )
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, memory_limit=limit, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        (address,) = client.scheduler_info()["workers"]
        started = time.monotonic()
        error = outcome_within(
            PAUSED_LIMIT_SECONDS + 20, lambda: DaskKMeans(2, random_state=0).fit(X)
        )
        waited = time.monotonic() - started
    assert isinstance(error, WorkerPausedError), error
    assert isinstance(error, MemoryError)
    message = str(error)
    assert address in message and "memory_limit of 600 MB" in message
    assert "smaller chunks" in message and "more memory" in message
    assert PAUSED_LIMIT_SECONDS <= waited <= PAUSED_LIMIT_SECONDS + 5 + 2 * CHECK_SECONDS


def test_a_fit_on_persisted_data_counts_what_it_keeps_on_each_worker():
    """On persisted data a worker keeps, for the whole fit, a centered copy of its share of
    the rows and their state, which Dask cannot spill: the check counts it, and when that
    alone does not fit, says so instead of advising smaller chunks."""
    from kmeans_scratch.dask._chunks import kept_bytes_per_row
    from kmeans_scratch.dask._memory import ChunkFit

    # The copy and weight in the fit's dtype, then the larger state: k-means|| (D², index)
    # or the run (packed label, then Hamerly's 2 or Elkan's k + 1 float64 bounds).
    assert kept_bytes_per_row(3, np.float32, "lloyd", 16) == 4 * 4 + (4 + 4)
    assert kept_bytes_per_row(3, np.float64, "hamerly", 16) == 4 * 8 + (1 + 16)
    assert kept_bytes_per_row(3, np.float64, "elkan", 300) == 4 * 8 + (2 + 8 * 301)

    # 10 million rows of 3 float32 on one worker: its chunks of 100,000 rows fit the room
    # left (100 MB), the 240 MB kept for the fit do not.
    fit = ChunkFit(100_000, 12, 1, usable=320e6, in_use=220e6, to_load=0, kept=240e6)
    assert fit.need > fit.room
    message = fit.refusal("tcp://127.0.0.1:1", np.dtype(np.float32), 0.8)
    assert "the fit keeps 240 MB on it" in message
    assert "do not persist X" in message
    assert "rechunk" not in message
    roomy = ChunkFit(100_000, 12, 1, usable=320e6, in_use=100e6, to_load=0, kept=180e6)
    assert roomy.need <= roomy.room
