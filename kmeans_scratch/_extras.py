"""The optional parts of the package and the one-line error that names what is missing.

``pip install kmeans-scratch`` gives the K-Means (NumPy, Numba, scikit-learn); the extras
add the rest: ``[compress]`` the image stack of :mod:`kmeans_scratch.compression` and the
``kmeans-compress`` command, ``[dask]`` :mod:`kmeans_scratch.dask` and batches on a cluster.
"""

import importlib

#: What each extra brings: the modules it installs that a part imports first.
EXTRAS = {
    "compress": ("PIL", "deflate", "oxipng"),
    "dask": ("dask.array", "distributed"),
}


class MissingExtra(ImportError):
    """A part of the package whose extra is not installed; the message says how to add it."""


def require(extra, needed_by):
    """Import the modules of ``extra`` (see ``EXTRAS``), or raise :class:`MissingExtra`
    saying that ``needed_by`` needs it, which module is missing, and the pip command."""
    for module in EXTRAS[extra]:
        try:
            importlib.import_module(module)
        except ImportError as error:
            missing = error.name or module
            raise MissingExtra(
                f"{needed_by} needs the [{extra}] extra ({missing} is not installed): "
                f"pip install 'kmeans-scratch[{extra}]'"
            ) from None
