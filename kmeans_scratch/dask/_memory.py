"""Whether the workers can hold a chunk while they work on it, checked before the fit.

A worker that runs out of memory in the middle of a task is paused by Dask (at 80 % of its
``memory_limit``, by default) and waits, with nothing said, for memory that only its own
task could free; past 95 % it is restarted, and after a few restarts the task fails.  A
chunk whose work cannot fit is therefore refused before the first pass, with what to
change.  While a worker works on a chunk it holds the chunk as read, its prepared (centered)
copy and the per-row state (labels, bounds) beside its kernels: about :data:`CHUNK_COPIES`
times the chunk's bytes, and the kernels' memory if they are not loaded yet.
"""

import dask

#: What the work on one chunk holds at once, in multiples of the chunk's bytes.
CHUNK_COPIES = 3

#: The memory a worker's kernels take once loaded: Numba's compiler and start, and a
#: worker of one thread that runs them from the ahead-of-time module instead.
JUST_IN_TIME_BYTES = 128 * 2**20
AHEAD_OF_TIME_BYTES = 16 * 2**20


def worker_memory(dask_worker):
    """On a worker: ``(bytes in use, bytes its kernels will add)``."""
    import psutil

    from .._ahead import find_module_file
    from .._kernels import numba_started

    if numba_started():
        to_load = 0
    elif dask_worker.state.nthreads == 1 and find_module_file() is not None:
        to_load = AHEAD_OF_TIME_BYTES
    else:
        to_load = JUST_IN_TIME_BYTES
    return psutil.Process().memory_info().rss, to_load


def usable_fraction():
    """The fraction of ``memory_limit`` a worker may fill before Dask pauses or restarts it;
    None where both are turned off (the limit then only makes the worker spill)."""
    for setting in ("pause", "terminate"):
        fraction = dask.config.get(f"distributed.worker.memory.{setting}")
        if fraction:
            return float(fraction)
    return None


def check_chunks_fit(client, X, dtype):
    """Raise ValueError, saying how to rechunk, when a worker of ``client`` has no room for
    the work on ``X``'s largest chunk (in the fit's ``dtype``)."""
    limits = {
        address: info.get("memory_limit")
        for address, info in client.scheduler_info()["workers"].items()
    }
    fraction = usable_fraction()
    if fraction is None or not limits or not all(limits.values()):
        return  # no worker will be paused or restarted
    row_bytes = X.shape[1] * max(X.dtype.itemsize, dtype.itemsize)
    largest = max(X.chunks[0])
    need = CHUNK_COPIES * largest * row_bytes
    for address, (used, to_load) in client.run(worker_memory).items():
        if address not in limits:
            continue
        usable = limits[address] * fraction
        room = usable - used - to_load
        if need <= room:
            continue
        rows = int(room // (CHUNK_COPIES * row_bytes))
        advice = (
            f"Rechunk X to at most {rows:,} rows per chunk (X.rechunk({{0: {rows}}})), or "
            "give the workers more memory."
            if rows > 0
            else "Give the workers more memory."
        )
        raise ValueError(
            f"X's chunks of up to {largest:,} rows ({largest * row_bytes / 1e6:,.0f} MB in "
            f"{dtype}) do not fit worker {address}: the work on a chunk holds about "
            f"{CHUNK_COPIES} times its size, {need / 1e6:,.0f} MB, and the worker has "
            f"{max(room, 0) / 1e6:,.0f} MB left of the {usable / 1e6:,.0f} MB it may use "
            f"({fraction:.0%} of its memory_limit; {used / 1e6:,.0f} MB in use"
            f"{f', and {to_load / 1e6:,.0f} MB of kernels to load' if to_load else ''}). "
            f"{advice}"
        )
