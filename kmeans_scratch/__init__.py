"""kmeans_scratch: exact K-Means from scratch, NumPy + Numba, with scikit-learn's answers.

Public API: :class:`KMeans` (a drop-in for ``sklearn.cluster.KMeans``),
:func:`kmeans_plusplus`, and :func:`k_means`, the same fit as a plain function.  The image
layer lives in :mod:`kmeans_scratch.compression`.

``KMeans`` and ``kmeans_plusplus`` are scikit-learn facing, and importing scikit-learn
takes about a second: they are loaded on first use, so that ``k_means`` (and the image
layer built on it) starts without it.  ``k_means`` too is loaded on first use (NumPy's
import), so that the ``kmeans-compress`` command takes its signals before any import that
takes time (see :mod:`._command`).
"""

from ._cores import configure_threads

configure_threads()  # before Numba reads its configuration

__all__ = ["ConvergenceWarning", "KMeans", "__version__", "k_means", "kmeans_plusplus"]

_SCIKIT_LEARN_FACING = ("KMeans", "kmeans_plusplus")
_PLAIN_FIT = ("ConvergenceWarning", "k_means")


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
    if name in _PLAIN_FIT:
        from . import _fit

        return getattr(_fit, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
