"""Parallel kernels called from several Python threads at once.

Numba runs ``prange`` loops on a *threading layer*: TBB or OpenMP when their libraries are
present, else its own "workqueue" scheduler.  TBB and OpenMP accept parallel launches from
several Python threads at once; workqueue does not, and aborts the whole process when two
threads launch kernels at the same time.  The library's entry points that run parallel
kernels are wrapped by :func:`parallel_entry`: on a thread-safe layer it adds nothing, on
workqueue it holds one process-wide lock, so concurrent calls run one after another
instead of crashing.

Small problems run on one thread (:func:`threads_for`): waking and joining the threads of
a parallel loop costs more than it saves below some ten thousand rows.
"""

import contextlib
import functools
import threading

from . import _kernels

#: Numba's threading layers that take concurrent launches from several Python threads.
THREAD_SAFE_LAYERS = ("tbb", "omp")

_lock = threading.RLock()


def threading_layer():
    """The threading layer Numba uses, or None while no parallel kernel has run yet."""
    if not _kernels.numba_started():
        return None
    try:
        return _kernels.numba_module().threading_layer()
    except ValueError:  # "Threading layer is not initialized."
        return None


def parallel_entry(function):
    """``function``, run under the process-wide lock unless the threading layer is known
    to be thread-safe (until the first parallel kernel runs, it is not known: the first
    calls take the lock, which costs nothing when there is one caller)."""

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        if threading_layer() in THREAD_SAFE_LAYERS:
            return function(*args, **kwargs)
        with _lock:
            return function(*args, **kwargs)

    return guarded


#: From this many rows on, the kernels run on all of Numba's threads; below, on one.  On
#: this project's 2-core machine, a k-means++ seeding or 20 Hamerly iterations took 1.5–3 ×
#: longer on 2 threads than on 1 for 2,000–8,000 rows (k = 16–256), 0.9 × at 30,000, and
#: 0.55–0.75 × at 400,000.  Each parallel loop wakes the threads (OpenMP's passive wait,
#: see ``_cores``) and joins them; a seeding runs one per center.
PARALLEL_FROM_ROWS = 16384


@contextlib.contextmanager
def threads_for(n_rows, n_features=3):
    """Run the block on one thread when ``n_rows`` rows of ``n_features`` are less work
    than ``PARALLEL_FROM_ROWS`` rows of three (pixels, where it was measured): a row costs
    in proportion to its features, and 12,755 rows of 784 ran 20 Lloyd iterations 1.4 ×
    faster on this machine's 2 threads than on 1.

    Numba's thread count is per calling thread and restored afterwards; the kernels give
    the same bits on any number of threads, so only the time changes.
    """
    if n_rows * max(n_features, 3) >= 3 * PARALLEL_FROM_ROWS or _kernels.get_threads() == 1:
        yield
        return
    with numba_threads(1):
        yield


@contextlib.contextmanager
def numba_threads(threads):
    """Within the block, ``threads`` of Numba's threads for this thread's parallel kernels
    (see :func:`._kernels.set_threads`); the count before is restored afterwards."""
    previous = _kernels.get_threads()
    _kernels.set_threads(threads)
    try:
        yield
    finally:
        _kernels.set_threads(previous)


def dask_worker_threads():
    """The threads of the Dask worker running this code, or None outside a worker."""
    try:
        from distributed import get_worker

        return get_worker().state.nthreads
    except (ImportError, ValueError, AttributeError):
        return None


@contextlib.contextmanager
def worker_threads():
    """In a Dask worker, Numba's threads for the block = the worker's threads.

    A worker given one thread of a machine then uses one core: a cluster of one worker per
    core never oversubscribes it.  Numba's kernels hold the GIL, so the tasks of one
    process run them one at a time.  Outside a worker (Dask's threaded scheduler, or no
    Dask) nothing changes.

    A worker of one thread runs the kernels from the ahead-of-time module where it has
    them (as fast on one thread): Numba's compiler and its start, about 120 MiB of the
    worker's memory, are then never loaded (see docs/dask.md).
    """
    threads = dask_worker_threads()
    if threads is None:
        yield
        return
    with numba_threads(max(1, threads)):
        if threads <= 1:
            with _kernels.ahead_of_time_in_this_thread():
                yield
        else:
            yield
