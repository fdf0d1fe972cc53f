"""Whether the workers can hold a chunk while they work on it, checked before the fit.

A worker that runs out of memory in the middle of a task is paused by Dask (at 80 % of its
``memory_limit``, by default) and waits, with nothing said, for memory that only its own
task could free; past 95 % it is restarted, and after a few restarts the task fails.  A
chunk whose work cannot fit is therefore refused before the first pass, with what to
change.

A worker is measured as the fit's tasks will find it.  A fresh worker holds about 60 MiB,
but its first task imports ``dask.array`` (which may bring ``sparse``, SciPy and Numba:
80 MiB more with dask-ml installed) and this package's chunk modules, then loads the
kernels.  So the check makes those imports on every worker first (the caller says
which), then reads the process's memory (:func:`worker_memory`); the kernels, which the
check does not load (a compile could take a small worker past its limit before anything
is said), are counted by what they were measured to add: the ahead-of-time module of a
worker of one thread, or Numba's start (and its import, unless ``dask.array`` brought
it).

While a worker works on a chunk it holds, beside that, the chunk as read, its prepared
(centered) copy and the per-row state (labels, bounds): about :data:`CHUNK_COPIES` times
the chunk's bytes, for each chunk it works on at once.  A fit on persisted data
(``_pinned``) also keeps, for the whole fit and outside Dask's results (nothing of it can
be spilled), the centered copy of the worker's share of the rows and their state: the
caller's ``kept_row_bytes`` per row (see :func:`~._chunks.kept_bytes_per_row`).
"""

import sys

import dask

#: What the work on one chunk holds at once, in multiples of the chunk's bytes.
CHUNK_COPIES = 3

#: The memory a worker's kernels add once loaded (measured on this project's machine): a
#: worker of one thread runs them from the ahead-of-time module; a worker of more threads
#: starts Numba (its import, unless another package made it, and its start: the kernels
#: loaded from Numba's cache).
AHEAD_OF_TIME_BYTES = 16 * 2**20
NUMBA_IMPORT_BYTES = 64 * 2**20
NUMBA_START_BYTES = 64 * 2**20


def kernels_to_load(dask_worker):
    """On a worker: the bytes its kernels will add when a task first runs them."""
    from .._engine import ahead_of_time_module_file, numba_started

    if numba_started():
        return 0
    if dask_worker.state.nthreads == 1 and ahead_of_time_module_file() is not None:
        return AHEAD_OF_TIME_BYTES
    return NUMBA_START_BYTES + (0 if "numba" in sys.modules else NUMBA_IMPORT_BYTES)


def worker_memory(import_what_tasks_import, dask_worker):
    """On a worker (``client.run``): ``(bytes in use, bytes its kernels will add)``, once
    the imports of the fit's tasks are made (by the caller's ``import_what_tasks_import``)."""
    import psutil

    import_what_tasks_import()
    return psutil.Process().memory_info().rss, kernels_to_load(dask_worker)


def usable_fraction():
    """The fraction of ``memory_limit`` a worker may fill before Dask pauses or restarts it;
    None where both are turned off (the limit then only makes the worker spill)."""
    for setting in ("pause", "terminate"):
        fraction = dask.config.get(f"distributed.worker.memory.{setting}")
        if fraction:
            return float(fraction)
    return None


def check_chunks_fit(
    client, X, dtype, import_what_tasks_import, one_chunk_at_a_time=False, kept_row_bytes=0
):
    """Raise ValueError, saying what to change, when a worker of ``client`` has no room for
    the work on ``X``'s largest chunk (in the fit's ``dtype``), once per thread (Dask runs
    a task per thread), or once if the fit sends a worker ``one_chunk_at_a_time``; and
    for ``kept_row_bytes`` a row of its share of ``X``'s rows (∝ its threads).  Each worker
    is measured after ``import_what_tasks_import()``, a function of the caller's module
    that makes the imports of the fit's tasks."""
    info = client.scheduler_info(n_workers=-1)["workers"]
    limits = {address: worker.get("memory_limit") for address, worker in info.items()}
    fraction = usable_fraction()
    if fraction is None or not limits or not all(limits.values()):
        return  # no worker will be paused or restarted
    row_bytes = X.shape[1] * max(X.dtype.itemsize, dtype.itemsize)
    largest = max(X.chunks[0])
    total_threads = sum(worker.get("nthreads", 1) for worker in info.values())
    for address, (in_use, to_load) in client.run(worker_memory, import_what_tasks_import).items():
        if address not in limits:
            continue
        threads = info[address].get("nthreads", 1)
        at_once = 1 if one_chunk_at_a_time else threads
        kept = kept_row_bytes * X.shape[0] * threads / total_threads
        fit = ChunkFit(
            largest, row_bytes, at_once, limits[address] * fraction, in_use, to_load, kept
        )
        if fit.need > fit.room:
            raise ValueError(fit.refusal(address, dtype, fraction))


class ChunkFit:
    """The work on ``at_once`` chunks of ``largest`` rows of ``row_bytes`` against a
    worker's memory: ``usable`` bytes, ``in_use`` after the imports, ``to_load`` for its
    kernels, and ``kept`` bytes the fit keeps on it throughout."""

    def __init__(self, largest, row_bytes, at_once, usable, in_use, to_load, kept=0):
        self.largest, self.row_bytes, self.at_once = largest, row_bytes, at_once
        self.usable, self.in_use, self.to_load, self.kept = usable, in_use, to_load, kept
        self.need = CHUNK_COPIES * largest * row_bytes * at_once + kept
        self.room = usable - in_use - to_load

    def rows_that_fit(self):
        """The most rows per chunk whose work fits the room left."""
        return int((self.room - self.kept) // (CHUNK_COPIES * self.row_bytes * self.at_once))

    def refusal(self, address, dtype, fraction):
        """The error's message, for the worker at ``address``."""
        rows = self.rows_that_fit()
        if rows > 0:
            advice = (
                f"Rechunk X to at most {rows:,} rows per chunk (X.rechunk({{0: {rows}}})), "
                "or give the workers more memory (memory_limit)"
            )
        else:
            advice = "Give the workers more memory (memory_limit)"
        if self.at_once > 1:
            advice += ", or run fewer threads per worker"
        if self.kept and rows <= 0:
            advice += (
                ", or more workers, or do not persist X (chunks read at each pass keep "
                "only their state, which Dask spills to disk)"
            )
        threads = f" for each of its {self.at_once} threads" if self.at_once > 1 else ""
        kept = (
            f" and the fit keeps {self.kept / 1e6:,.0f} MB on it (a centered copy of its "
            "share of the persisted rows, with their state)"
            if self.kept
            else ""
        )
        kernels = f", and {self.to_load / 1e6:,.0f} MB of kernels to load" if self.to_load else ""
        return (
            f"X's chunks of up to {self.largest:,} rows "
            f"({self.largest * self.row_bytes / 1e6:,.0f} MB in {dtype}) do not fit worker "
            f"{address}: the work on a chunk holds about {CHUNK_COPIES} times its "
            f"size{threads}{kept}, {self.need / 1e6:,.0f} MB{' in all' if self.kept else ''}, "
            "and the worker has "
            f"{max(self.room, 0) / 1e6:,.0f} MB left of the {self.usable / 1e6:,.0f} MB it "
            f"may use ({fraction:.0%} of its memory_limit; {self.in_use / 1e6:,.0f} MB in "
            f"use after the imports of the fit's tasks{kernels}). {advice}."
        )
