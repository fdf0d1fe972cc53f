"""kmeans_scratch on Dask: exact K-Means for arrays larger than one process, on a cluster.

:class:`KMeans` takes a ``dask.array`` chunked by rows and runs the library's Numba kernels
on each chunk where it lives (``dask.distributed`` workers, or threads with Dask's local
scheduler).  It needs the ``[dask]`` extra: ``pip install 'kmeans-scratch[dask]'``.

A worker imports this package to run a chunk's task (the task's functions live in its
modules): ``KMeans``, which brings scikit-learn's estimator machinery, is loaded on first
use, so that a worker holds only NumPy and the kernels (see docs/dask.md).  The kernels of
the chunks (``_chunks``, ``_seeding``) import without Dask: the package build compiles
them ahead of time.

A fit on a cluster never waits for ever on a worker that Dask has paused for good: after
``_waiting.PAUSED_LIMIT_SECONDS`` (30 s) it raises :class:`WorkerPausedError`, a
``MemoryError`` that names the worker and what to change.
"""

__all__ = ["KMeans", "WorkerPausedError"]


def __getattr__(name):
    if name == "KMeans":
        from kmeans_scratch._engine import require

        require("dask", "kmeans_scratch.dask.KMeans")
        from ._estimator import KMeans

        return KMeans
    if name == "WorkerPausedError":
        from ._waiting import WorkerPausedError

        return WorkerPausedError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
