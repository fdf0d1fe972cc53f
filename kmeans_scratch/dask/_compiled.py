"""The calls of a Dask worker's chunk tasks that the package build compiles ahead of time.

A worker runs each chunk's task (``_chunks``: the moments, the k-means|| passes of
``_seeding``, the steps of the three iterations, predict, transform, score) on float64 or
float32 rows.  These kernels, with these argument types (kernel (module, name) → one
tuple of argument types per specialization), are compiled into the ahead-of-time module,
so that a worker of one thread runs its chunks without Numba's memory (see
``kmeans_scratch._threads.worker_threads``); a call of other types runs just in time.
"""

from .._engine import (
    F4_1,
    F4_2,
    F4_3,
    F8,
    F8_1,
    F8_2,
    F8_3,
    I4_1,
    I8,
    fit_step_calls,
    merged_calls,
    register_ahead_of_time_calls,
)


def chunk_task_calls(F1, F2, F3):
    """The kernels of a chunk's tasks for the float arrays ``F1``, ``F2``, ``F3`` of one
    dtype: the core's fit steps and the k-means|| passes."""
    seeding = {
        ("kmeans_scratch.dask._seeding", "nearer_candidates"): [(F1, I4_1, F1, I4_1, I8, F1)],
        ("kmeans_scratch.dask._seeding", "rows_that_may_be_drawn"): [(F1, F1, F8_1, F8, F8)],
    }
    return merged_calls(fit_step_calls(F1, F2, F3), seeding)


CALLS = merged_calls(chunk_task_calls(F8_1, F8_2, F8_3), chunk_task_calls(F4_1, F4_2, F4_3))

register_ahead_of_time_calls(CALLS)
