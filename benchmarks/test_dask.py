"""Issue 16's rows: K-Means on a Dask cluster, ours against dask-ml and against our own
fit in memory (4 and 20 million rows; dask-ml on the 4 million only: it took 152 s there
when the issue was filed), and a batch of files on ``--workers 2`` against the local
batch.  ``make bench-dask`` runs them."""

import statistics
import warnings

import numpy as np
import pytest

from kmeans_scratch import KMeans
from kmeans_scratch._distances import assign_labels

from .contenders import alternate
from .datasets import shipped_image
from .test_command import ours_argv, wall_time

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

N_CLUSTERS = 16
CHUNK_ROWS = 500_000
#: dask-ml runs only up to this size (its time grows with the rows: 152 s at 4 million).
DASK_ML_MAX_ROWS = 4_000_000


@pytest.fixture(scope="module")
def cluster_client():
    """A LocalCluster of 2 worker processes of one thread each: this machine's 2 cores;
    its workers have loaded our kernels (a small fit), as the client process has."""
    from kmeans_scratch.dask import KMeans as DaskKMeans

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        warm_up = da.from_array(noisy_pixels(20_000), chunks=(5_000, -1)).persist()
        DaskKMeans(N_CLUSTERS, algorithm="hamerly", random_state=0).fit(warm_up)
        yield client


def noisy_pixels(n_rows):
    """The pixels of china.jpg tiled to ``n_rows`` rows, plus uniform noise in [0, 1):
    float32 colors without repeated rows (so no fit can merge copies)."""
    pixels = shipped_image("china").reshape(-1, 3)
    rows = np.resize(pixels, (n_rows, 3)).astype(np.float32)
    rows += np.random.default_rng(0).random((n_rows, 3), dtype=np.float32)
    return rows


def true_inertia(X, centers):
    """Σ min_j ‖x − c_j‖² in float64 by the same code for every contender."""
    X64 = np.ascontiguousarray(X, dtype=np.float64)
    labels = np.empty(X.shape[0], dtype=np.int32)
    return float(assign_labels(X64, np.ones(X.shape[0]), np.asarray(centers, np.float64), labels))


def fit_in_memory(X, data):
    return KMeans(N_CLUSTERS, algorithm="hamerly", random_state=0).fit(X).cluster_centers_


def fit_ours_on_dask(X, data):
    from kmeans_scratch.dask import KMeans as DaskKMeans

    return DaskKMeans(N_CLUSTERS, algorithm="hamerly", random_state=0).fit(data).cluster_centers_


def fit_dask_ml(X, data):
    from dask_ml.cluster import KMeans as DaskMLKMeans

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DaskMLKMeans(N_CLUSTERS, random_state=0).fit(data).cluster_centers_


CONTENDERS = {
    "ours in memory (hamerly)": fit_in_memory,
    "ours on Dask (hamerly)": fit_ours_on_dask,
    "dask-ml": fit_dask_ml,
}


@pytest.mark.parametrize("contender", list(CONTENDERS))
@pytest.mark.parametrize("n_rows", [4_000_000, 20_000_000], ids=["4M", "20M"])
def test_dask_kmeans(benchmark, recorder, smoke, cluster_client, n_rows, contender):
    if smoke:
        n_rows = n_rows // 100
    if contender == "dask-ml" and n_rows > DASK_ML_MAX_ROWS:
        pytest.skip(f"dask-ml runs up to {DASK_ML_MAX_ROWS:,} rows (152 s there)")
    X = noisy_pixels(n_rows)
    data = da.from_array(X, chunks=(CHUNK_ROWS, -1)).persist()
    distributed.wait(data)
    fit = CONTENDERS[contender]
    centers = benchmark.pedantic(fit, args=(X, data), rounds=1, iterations=1)
    inertia = true_inertia(X, centers)
    assert np.isfinite(inertia)
    recorder.add(
        "dask-kmeans", benchmark, contender=contender, n_rows=n_rows, k=N_CLUSTERS,
        inertia=inertia, chunks=len(data.chunks[0]),
    )  # fmt: skip


BATCHES = {"local batch (worker processes)": [], "--workers 2 (a LocalCluster)": ["--workers", "2"]}


def test_batch_on_a_cluster(benchmark, recorder, command_inputs, tmp_path, smoke):
    """The command over every input, k = 256, in a fresh process: the default local batch
    (one file per core in worker processes) against ``--workers 2``, which starts a
    LocalCluster of 2 processes and spreads the files over it; rounds alternate."""
    inputs, label = command_inputs
    runs = {
        name: (lambda extra=extra, name=name: wall_time(
            [*ours_argv(inputs, tmp_path / str(len(name))), *extra]
        ))
        for name, extra in BATCHES.items()
    }  # fmt: skip
    times = benchmark.pedantic(alternate, args=(runs, 1 if smoke else 3), rounds=1, iterations=1)
    outputs = [sorted((tmp_path / str(len(name))).iterdir()) for name in BATCHES]
    assert [path.read_bytes() for path in outputs[0]] == [path.read_bytes() for path in outputs[1]]
    for name, seconds in times.items():
        recorder.add_seconds(
            "dask-batch", benchmark, statistics.median(seconds), contender=name,
            images=label, n_files=len(inputs), runs=seconds,
        )  # fmt: skip
