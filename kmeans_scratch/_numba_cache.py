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

Inside the folder a kernel's entries are in a sub-folder named after its module's place
in the package (``kmeans_scratch``, ``kmeans_scratch/compression``), not, as Numba names
it, after a hash of the absolute path: entries compiled by the package build
(``build_kernels --warm``) are found where pip installs the package.  Numba checks an
entry against a hash of its source file's bytes, not its time, so a copied entry holds.

Other libraries' Numba kernels keep Numba's own locations.
"""

import atexit
import functools
import os
import zlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
PREFIX = "kmeans-scratch-"


@functools.cache
def sources_hash(package=PACKAGE):
    """16 hex digits of :func:`checksum` over every ``.py`` file of ``package``: names and
    bytes.  A checksum, not a cryptographic hash: it tells versions of the sources apart,
    and the command computes it at every start (``hashlib`` alone took 3 ms to import)."""
    chunks = []
    for relative in source_files(package):
        with open(os.path.join(package, relative), "rb") as source:
            chunks += [relative.encode(), b"\0", source.read()]
    return checksum(chunks)


def source_files(package):
    """The ``.py`` files under ``package``, as paths relative to it with ``/`` between
    names, sorted: the same order on every system (``__pycache__`` skipped; a walk of
    ``os.scandir``, where ``Path.rglob`` took a millisecond)."""
    found = []
    for folder, subfolders, files in os.walk(package):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        relative = os.path.relpath(folder, package)
        found += [
            os.path.normpath(os.path.join(relative, name)).replace(os.sep, "/")
            for name in files
            if name.endswith(".py")
        ]
    return sorted(found)


def checksum(chunks):
    """16 hex digits naming the bytes of ``chunks``: their CRC-32, then their Adler-32."""
    crc, adler = 0, 1
    for chunk in chunks:
        crc, adler = zlib.crc32(chunk, crc), zlib.adler32(chunk, adler)
    return f"{crc:08x}{adler:08x}"


def _writable(folder):
    """Whether a file can be made in ``folder`` (created if missing), Numba's own test."""
    import tempfile  # only where Numba starts: the command's start skips it

    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def kernel_sources_locator():
    """Numba's cache locator class for the kernels of this package: the kernel folder (set
    by :func:`use_kernel_cache`), then Numba's usual sub-folder per source folder."""
    from numba.core import caching

    class KernelSourcesLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
        def __init__(self, py_func, py_file):
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            self._cache_path = os.path.join(_folder, package_subfolder(py_file))

        def get_cache_path(self):
            return self._cache_path

        @classmethod
        def from_function(cls, py_func, py_file):
            if not Path(py_file).resolve().is_relative_to(PACKAGE):
                return None
            return super().from_function(py_func, py_file)

    return KernelSourcesLocator


def package_subfolder(py_file):
    """``kmeans_scratch/compression`` for ``…/kmeans_scratch/compression/_palette.py``: the
    file's folder relative to the package's parent, the same wherever it is installed."""
    relative = Path(py_file).resolve().parent.relative_to(PACKAGE)
    return str(Path(PACKAGE.name, relative))


_folder = None  # the kernel folder, once use_kernel_cache chose it


def kernel_folder_bases():
    """Where kernel folders may be, in the order of preference of the module's docstring:
    ``$NUMBA_CACHE_DIR``, the package's ``__pycache__``, the user's cache folder."""
    numba_cache_dir = os.environ.get("NUMBA_CACHE_DIR")
    user_cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    bases = [Path(numba_cache_dir)] if numba_cache_dir else []
    return [*bases, PACKAGE / "__pycache__", Path(user_cache) / "numba"]


def kernel_folder_candidates():
    """The kernel folders of these sources that may exist, preferred first."""
    name = PREFIX + sources_hash()
    return [base / name for base in kernel_folder_bases()]


def kernel_cache_folder():
    """The folder of this package's compiled kernels (chosen by :func:`use_kernel_cache`)."""
    use_kernel_cache()
    return _folder


def use_kernel_cache():
    """Cache this package's kernels in a folder of their sources' version (see above).

    Called before any Numba dispatcher is made (:func:`._kernels.start_numba`): Numba
    picks a kernel's cache folder when it decorates it.
    """
    global _folder
    if _folder is not None:
        return
    from numba.core import caching

    for folder in kernel_folder_candidates():
        if _writable(folder):
            if folder.parent == PACKAGE / "__pycache__":
                remove_other_versions(folder.parent, folder.name)
            break
    else:
        import shutil
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix=PREFIX))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    _folder = str(folder)
    caching.CacheImpl._locator_classes.insert(0, kernel_sources_locator())


def remove_other_versions(base, keep):
    """Remove the kernel folders of other versions of the sources from ``base``."""
    import shutil

    for folder in base.glob(PREFIX + "*"):
        if folder.name != keep:
            shutil.rmtree(folder, ignore_errors=True)
