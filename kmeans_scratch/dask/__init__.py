"""kmeans_scratch on Dask: exact K-Means for arrays larger than one process, on a cluster.

:class:`KMeans` takes a ``dask.array`` chunked by rows and runs the library's Numba kernels
on each chunk where it lives (``dask.distributed`` workers, or threads with Dask's local
scheduler).  It needs the ``[dask]`` extra: ``pip install 'kmeans-scratch[dask]'``.
"""

try:
    import dask.array  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ImportError(
        "kmeans_scratch.dask needs Dask: pip install 'kmeans-scratch[dask]'"
    ) from error

from ._estimator import KMeans

__all__ = ["KMeans"]
