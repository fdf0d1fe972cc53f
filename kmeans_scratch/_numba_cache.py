"""Where Numba keeps this package's compiled kernels: one folder per version of its sources.

Every kernel is ``@njit(cache=True)``.  Numba's own cache checks only the file that defines
a kernel: a kernel that inlines a function of another file (``_tiles``'s tile kernel is
inlined into four modules) keeps its stale machine code when only that other file changes
(Numba issue 1833), silently, until the cache is deleted.  So the kernels of this package
are cached in a folder named after a hash of all its sources, ``kmeans-scratch-<hash>``:
an edit anywhere in the package is a new folder, where every kernel compiles afresh, and
stale code cannot be loaded.  The folder is, the first that is writable:

1. under ``$NUMBA_CACHE_DIR`` when it is set;
2. in the package's ``__pycache__`` (where older versions' folders are removed);
3. in the user's cache folder (``~/.cache/numba``);
4. a private temporary folder, for this process only and removed at exit (a package
   installed read-only, run by a user whose home is read-only): the kernels compile on
   first use, as they would without a cache.

Other libraries' Numba kernels keep Numba's own locations.
"""

import atexit
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from numba.core import caching, config
from numba.misc.appdirs import AppDirs

PACKAGE = Path(__file__).resolve().parent
PREFIX = "kmeans-scratch-"


def sources_hash(package=PACKAGE):
    """16 hex digits of SHA-256 over every ``.py`` file of ``package``: names and bytes."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _writable(folder):
    """Whether a file can be made in ``folder`` (created if missing), Numba's own test."""
    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


class KernelSourcesLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    """Numba's cache locator for the kernels of this package: ``folder`` (set by
    :func:`use_kernel_cache`), then Numba's usual sub-folder per source folder."""

    folder = None

    def __init__(self, py_func, py_file):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        subpath = self.get_suitable_cache_subpath(py_file)
        self._cache_path = os.path.join(self.folder, subpath)

    def get_cache_path(self):
        return self._cache_path

    @classmethod
    def from_function(cls, py_func, py_file):
        if cls.folder is None or not Path(py_file).resolve().is_relative_to(PACKAGE):
            return None
        return super().from_function(py_func, py_file)


def kernel_cache_folder():
    """The folder of this package's compiled kernels (:func:`use_kernel_cache` chose it)."""
    return KernelSourcesLocator.folder


def use_kernel_cache():
    """Cache this package's kernels in a folder of their sources' version (see above).

    Call before any kernel is defined: Numba picks a kernel's cache folder when it
    decorates it.
    """
    if KernelSourcesLocator.folder is not None:
        return
    name = PREFIX + sources_hash()
    bases = [Path(config.CACHE_DIR)] if config.CACHE_DIR else []
    bases += [
        PACKAGE / "__pycache__",
        Path(AppDirs(appname="numba", appauthor=False).user_cache_dir),
    ]
    for base in bases:
        if _writable(base / name):
            folder = base / name
            if base == PACKAGE / "__pycache__":
                remove_other_versions(base, name)
            break
    else:
        folder = Path(tempfile.mkdtemp(prefix=PREFIX))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    KernelSourcesLocator.folder = str(folder)
    caching.CacheImpl._locator_classes.insert(0, KernelSourcesLocator)


def remove_other_versions(base, keep):
    """Remove the kernel folders of other versions of the sources from ``base``."""
    for folder in base.glob(PREFIX + "*"):
        if folder.name != keep:
            shutil.rmtree(folder, ignore_errors=True)
