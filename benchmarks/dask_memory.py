"""Issue 27's rows: a Dask worker's memory, and a fit on workers smaller than the data.

``python -m benchmarks.dask_memory [--rows N] [--results FILE]`` (``make bench-dask-memory``):

1. *Footprint*: a LocalCluster of one worker of one thread; the worker's memory before
   and after it imports ``kmeans_scratch.dask`` and runs one assignment step on 100,000
   rows, and whether Numba started there.
2. *Out of core*: ``--rows`` (60 million) rows of 3 float32, made chunk by chunk (1 million
   rows a chunk, 720 MB in all), fitted by ``kmeans_scratch.dask.KMeans(16,
   random_state=0)`` on a LocalCluster of 2 workers of one thread and
   ``memory_limit="400MB"``, Dask's memory settings as they are: wall time, each
   worker's peak memory (sampled every 0.2 s), the pauses and restarts in the workers'
   logs; how many passes over the data the fit made (Dask's task stream) and what a
   pass that only makes the chunks costs (no exact fit of data read at every pass can
   take less than the two multiplied); then our in-memory fit of the first 20 million
   rows, for the time per row.

Both are whole runs of a few minutes; the machine is named with the results.
"""

import argparse
import datetime
import threading
import time

import numpy as np

MEMORY_LIMIT = 400_000_000
CHUNK_ROWS = 1_000_000
N_CLUSTERS = 16


def worker_rss(dask_worker=None):
    """The memory (RSS, bytes) of the process it runs in."""
    import psutil

    return psutil.Process().memory_info().rss


class PeakMemory:
    """The largest memory each worker of ``client`` used while the block ran (sampled every
    0.2 s; a sample that fails ends the block with its error)."""

    def __init__(self, client):
        self.client, self.peak = client, {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)

    def watch(self):
        try:
            while not self.done.wait(0.2):
                for address, rss in self.client.run(worker_rss).items():
                    self.peak[address] = max(self.peak.get(address, 0), rss)
        except Exception as error:  # handed to the block's thread
            self.error = error

    def __enter__(self):
        self.error = None
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.done.set()
        self.thread.join()
        if self.error is not None and exc_info[0] is None:
            raise self.error


def one_assignment_step():
    """On a worker: its memory before the import, after the import and one Lloyd step on
    100,000 rows, and whether Numba started."""
    before = worker_rss()
    import kmeans_scratch.dask  # noqa: F401
    from kmeans_scratch._kernels import numba_started
    from kmeans_scratch.dask._chunked import on_chunk
    from kmeans_scratch.dask._chunks import assign_step

    rows = np.random.default_rng(0).random((100_000, 3), dtype=np.float32)
    mean = rows.mean(axis=0)
    on_chunk(assign_step, True, None, rows, None, mean, "lloyd", None, rows[:16] - mean)
    return before, worker_rss(), numba_started()


def footprint():
    import distributed

    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0") as c,
        distributed.Client(c) as client,
    ):
        return client.submit(one_assignment_step, pure=False).result()


def memory_events(client):
    """How many times the workers paused, by their logs."""
    logs = client.get_worker_logs()
    return sum("Pausing worker" in line for lines in logs.values() for _, line in lines)


def chunks_made(task_stream, name):
    """How many tasks of the task stream's records made a chunk of the array ``name``."""
    return sum(1 for record in task_stream if dask_key_name(record["key"]) == name)


def dask_key_name(key):
    """The name of the collection a Dask task key belongs to."""
    return key[0] if isinstance(key, tuple) else key


def out_of_core(n_rows):
    import dask.array as da
    import distributed

    from kmeans_scratch import KMeans
    from kmeans_scratch.dask import KMeans as DaskKMeans

    X = da.random.default_rng(0).random((n_rows, 3), dtype=np.float32, chunks=(CHUNK_ROWS, 3))
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, memory_limit=MEMORY_LIMIT, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        workers = set(client.scheduler_info()["workers"])
        warm_up = time.perf_counter()  # the workers compile (or load) their kernels once
        DaskKMeans(N_CLUSTERS, random_state=0).fit(X[: 2 * CHUNK_ROWS])
        warm_up = time.perf_counter() - warm_up
        after_warm_up = client.run(worker_rss)
        with PeakMemory(client) as memory, distributed.get_task_stream(client) as stream:
            start = time.perf_counter()
            ours = DaskKMeans(N_CLUSTERS, random_state=0).fit(X)
            wall = time.perf_counter() - start
        restarted = len(workers - set(client.scheduler_info()["workers"]))
        pauses = memory_events(client)
        passes = chunks_made(stream.data, X.name) / X.numblocks[0]
        making = []  # a pass that only makes the chunks: what reading the data costs here
        for _ in range(3):
            start = time.perf_counter()
            X[::CHUNK_ROWS].compute()
            making.append(time.perf_counter() - start)
    in_memory_rows = min(n_rows, 20_000_000)
    head = X[:in_memory_rows].compute(scheduler="threads")  # more than a worker may hold
    KMeans(N_CLUSTERS, random_state=0, n_init=1).fit(head[:CHUNK_ROWS])  # warm, as the workers
    start = time.perf_counter()
    in_memory_fit = KMeans(N_CLUSTERS, random_state=0, n_init=1).fit(head)
    in_memory = time.perf_counter() - start
    return {
        "wall": wall, "warm_up": warm_up, "after_warm_up": after_warm_up, "passes": passes,
        "making": sorted(making)[1],
        "n_iter": ours.n_iter_, "peak": memory.peak, "pauses": pauses, "restarted": restarted,
        "in_memory": in_memory, "in_memory_rows": in_memory_rows,
        "in_memory_n_iter": in_memory_fit.n_iter_,
    }  # fmt: skip


def report(n_rows, step, fit):
    from .session import machine  # not at the top: workers import this module (worker_rss)

    before, after, numba_started = step
    mib = 2**20
    per_row = (fit["wall"] / n_rows) / (fit["in_memory"] / fit["in_memory_rows"])
    per_row_iteration = per_row * fit["in_memory_n_iter"] / fit["n_iter"]
    making_all = fit["passes"] * fit["making"]
    per_row_beyond = per_row * (fit["wall"] - making_all) / fit["wall"]
    warm = ", ".join(f"{rss / mib:.0f}" for rss in sorted(fit["after_warm_up"].values()))
    peaks = ", ".join(f"{rss / mib:.0f}" for rss in sorted(fit["peak"].values()))
    return "\n".join(
        [
            "# A Dask worker's memory (`make bench-dask-memory`)",
            "",
            f"Written by `python -m benchmarks.dask_memory` on "
            f"{datetime.datetime.now():%Y-%m-%d %H:%M}. Machine: {machine()}.",
            "",
            "| | measured | target |",
            "|---|---:|---:|",
            f"| worker after `import kmeans_scratch.dask` and one step | {after / mib:.0f} MiB "
            f"(before: {before / mib:.0f} MiB; Numba started: {numba_started}) | ≤ 150 MiB |",
            f"| {n_rows:,} × 3 float32, 2 workers of 400 MB, Dask's defaults: wall | "
            f"{fit['wall']:.1f} s ({fit['n_iter']} iterations; before it, a fit of 2 chunks "
            f"that compiles or loads the workers' kernels: {fit['warm_up']:.1f} s) | |",
            f"| the workers after that fit of 2 chunks (`dask.array` and what it imports, "
            f"our kernels) | {warm} MiB | |",
            f"| peak memory per worker | {peaks} MiB | ≤ 381 MiB (400 MB) |",
            f"| pauses, restarts (workers' logs) | {fit['pauses']}, {fit['restarted']} "
            "| 0 restarts |",
            f"| time per row ÷ our in-memory fit of {fit['in_memory_rows']:,} rows "
            f"({fit['in_memory']:.1f} s, {fit['in_memory_n_iter']} iterations) | "
            f"{per_row:.2f} | ≤ 1.5 |",
            f"| the same, per row and iteration | {per_row_iteration:.2f} | |",
            f"| passes over the data in the fit (chunks made ÷ chunks); a pass that only "
            f"makes the chunks (`X[::{CHUNK_ROWS}].compute()`, median of 3) | "
            f"{fit['passes']:.0f}; {fit['making']:.2f} s | |",
            f"| the fit's time making chunks (passes × that pass) | {making_all:.1f} s "
            f"({making_all / fit['wall']:.0%} of the wall) | |",
            f"| time per row ÷ in memory, without making the chunks | {per_row_beyond:.2f} | |",
            "",
        ]
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=60e6)
    parser.add_argument("--results", default="benchmarks/RESULTS-dask-memory.md")
    options = parser.parse_args()
    n_rows = int(options.rows)
    text = report(n_rows, footprint(), out_of_core(n_rows))
    with open(options.results, "w", encoding="utf-8") as results:
        results.write(text)
    print(text)


if __name__ == "__main__":
    main()
