"""kmeans_scratch: exact K-Means from scratch, NumPy + Numba, with scikit-learn's answers.

Public API: :class:`KMeans` (a drop-in for ``sklearn.cluster.KMeans``),
:func:`kmeans_plusplus`, and :func:`k_means`, the same fit as a plain function.  The image
layer lives in :mod:`kmeans_scratch.compression`.

``KMeans`` and ``kmeans_plusplus`` are scikit-learn facing, and importing scikit-learn
takes about a second: they are loaded on first use, so that ``k_means`` (and the image
layer built on it) starts without it.
"""

from ._cores import configure_threads

configure_threads()  # before Numba reads its configuration

from ._fit import ConvergenceWarning, k_means  # noqa: E402

__all__ = ["ConvergenceWarning", "KMeans", "__version__", "k_means", "kmeans_plusplus"]

_SCIKIT_LEARN_FACING = ("KMeans", "kmeans_plusplus")


def installed_version():
    """The version pip installed (``importlib.metadata`` costs 25 ms: read when asked)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kmeans-scratch")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"


def __getattr__(name):
    if name == "__version__":
        return installed_version()
    if name in _SCIKIT_LEARN_FACING:
        from . import _kmeans

        return getattr(_kmeans, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
