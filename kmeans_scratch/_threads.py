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
import numpy as np
from numba import njit, prange

#: Numba's threading layers that take concurrent launches from several Python threads.
THREAD_SAFE_LAYERS = ("tbb", "omp")

_lock = threading.RLock()
_loaded = {}


@njit(parallel=True, cache=True)
def _parallel_sum(values):
    total = 0.0
    for i in prange(values.shape[0]):
        total += values[i]
    return total


def threading_layer():
    """The threading layer Numba uses, loading it (by one tiny kernel) if none ran yet."""
    if "layer" not in _loaded:
        with _lock:
            if "layer" not in _loaded:
                _parallel_sum(np.zeros(2))
                _loaded["layer"] = numba.threading_layer()
    return _loaded["layer"]


def parallel_entry(function):
    """``function``, run under the process-wide lock unless the threading layer is
    thread-safe."""

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        if threading_layer() in THREAD_SAFE_LAYERS:
            return function(*args, **kwargs)
        with _lock:
            return function(*args, **kwargs)

    return guarded
