"""kmeans_scratch.dask.KMeans on data larger than what its workers may hold."""

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from dask import delayed  # noqa: E402

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
