"""A folder where Numba can keep the compiled kernels, so that a read-only install runs.

Every kernel is ``@njit(cache=True)``.  Numba keeps compiled kernels in
``$NUMBA_CACHE_DIR``, else in the ``__pycache__`` folder beside the module, else in the
user's cache folder (``~/.cache/numba``).  When none of them is writable (a package
installed read-only, run by a user whose home is read-only or missing), Numba refuses to
define the kernel (``RuntimeError: cannot cache function ...: no locator available``)
and the import fails.  In that case alone the kernels are cached in a private temporary
folder, for this process only and removed at exit: they compile on first use, as they
would without a cache.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from numba.core import config
from numba.misc.appdirs import AppDirs


def _writable(folder):
    """Whether a file can be made in ``folder`` (created if missing), Numba's own test."""
    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def ensure_cache_folder():
    """Point Numba at a private temporary folder when it has nowhere to cache kernels.

    Call before any kernel is defined: Numba picks a kernel's cache folder when it
    decorates it.
    """
    if config.CACHE_DIR and _writable(config.CACHE_DIR):
        return
    package = Path(__file__).parent
    beside = {source.parent / "__pycache__" for source in package.rglob("*.py")}
    if all(_writable(folder) for folder in beside):
        return
    if _writable(AppDirs(appname="numba", appauthor=False).user_cache_dir):
        return
    folder = tempfile.mkdtemp(prefix="kmeans-scratch-numba-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    config.CACHE_DIR = folder
