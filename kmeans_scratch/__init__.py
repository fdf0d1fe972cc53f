"""kmeans_scratch: exact K-Means from scratch, NumPy + Numba, with scikit-learn's answers.

Public API: :class:`KMeans` (a drop-in for ``sklearn.cluster.KMeans``) and
:func:`kmeans_plusplus`.  The image layer lives in :mod:`kmeans_scratch.compression`.
"""

from importlib.metadata import PackageNotFoundError, version

from ._numba_cache import ensure_cache_folder

ensure_cache_folder()  # before any kernel is defined: a read-only install must run too

from ._kmeans import KMeans, kmeans_plusplus  # noqa: E402

try:
    __version__ = version("kmeans-scratch")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["KMeans", "__version__", "kmeans_plusplus"]
