"""kmeans_scratch.dask.KMeans on data larger than what its workers may hold."""

import subprocess
import sys

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
    """Chunks of 120 MB for workers that may use 200 MB: an error before any pass, with the
    chunk size that fits, not a worker paused forever."""
    X = da.zeros((10_000_000, 3), dtype=np.float32, chunks=(10_000_000, 3))
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, memory_limit=200_000_000, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster),
    ):  # fmt: skip
        with pytest.raises(ValueError, match=r"do not fit worker .*\(X\.rechunk\(\{0: \d+\}\)\)"):
            DaskKMeans(4, random_state=0).fit(X)


def test_a_worker_of_one_thread_runs_the_chunks_without_starting_numba(ahead_of_time_module):
    """A worker of one thread runs its chunks from the ahead-of-time module: Numba's
    compiler, about 120 MiB of a worker, never starts there."""

    def one_assignment_step():
        from kmeans_scratch._kernels import numba_started
        from kmeans_scratch.dask._chunked import on_chunk
        from kmeans_scratch.dask._chunks import assign_step

        rows = np.random.default_rng(0).random((100_000, 3), dtype=np.float32)
        mean = rows.mean(axis=0)
        run, (_, _, cluster_weights) = on_chunk(
            assign_step, True, None, rows, None, mean, "lloyd", None, rows[:4] - mean
        )
        return numba_started(), int(cluster_weights.sum()), int(run.labels.min())

    fresh = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, dashboard_address=":0"
    )  # a worker where no earlier test started Numba
    with fresh, distributed.Client(fresh) as client:
        started, total_weight, lowest_label = client.submit(one_assignment_step).result()
    assert (total_weight, lowest_label) == (100_000, 0)
    assert not started
