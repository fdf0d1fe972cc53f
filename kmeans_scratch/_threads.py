"""Parallel kernels called from several Python threads at once.

Numba runs ``prange`` loops on a *threading layer*: TBB or OpenMP when their libraries are
present, else its own "workqueue" scheduler.  TBB and OpenMP accept parallel launches from
several Python threads at once; workqueue does not, and aborts the whole process when two
threads launch kernels at the same time.  The library's entry points that run parallel
kernels are wrapped by :func:`parallel_entry`: on a thread-safe layer it adds nothing, on
workqueue it holds one process-wide lock, so concurrent calls run one after another
instead of crashing.
"""

import functools
import threading

import numba

#: Numba's threading layers that take concurrent launches from several Python threads.
THREAD_SAFE_LAYERS = ("tbb", "omp")

_lock = threading.RLock()


def threading_layer():
    """The threading layer Numba uses, or None while no parallel kernel has run yet."""
    try:
        return numba.threading_layer()
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
