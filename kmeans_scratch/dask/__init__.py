"""kmeans_scratch on Dask: exact K-Means for arrays larger than one process, on a cluster.

:class:`KMeans` takes a ``dask.array`` chunked by rows and runs the library's Numba kernels
on each chunk where it lives (``dask.distributed`` workers, or threads with Dask's local
scheduler).  It needs the ``[dask]`` extra: ``pip install 'kmeans-scratch[dask]'``.
"""

from kmeans_scratch._extras import require

require("dask", "kmeans_scratch.dask")

from ._estimator import KMeans

__all__ = ["KMeans"]
