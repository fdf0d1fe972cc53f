"""The package build: setuptools' own (pyproject.toml holds the metadata), plus the
ahead-of-time kernel module, compiled for the building machine into the package, and
Numba's cache of the kernels a Python session runs, warmed there.

``pip install .`` (or ``'.[compress]'``, or from an sdist) then installs a package whose
command and one-thread Dask workers start without compiling anything (see
``kmeans_scratch/_ahead.py``), and whose first fit in a Python session loads its
kernels from the cache instead of compiling them (``build_kernels --warm``).  Compiling
needs a C compiler and takes two to three minutes (three processes at once: the module,
and the warm in two halves); if a part fails, the build says so and goes on: those
kernels then compile just in time, on first use.  An editable install (``pip install
-e``, what ``make install`` does) builds nothing here: ``make kernels`` builds both in
the source tree.
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution


class BuildWithKernels(build_py):
    """``build_py``, then ``python -m kmeans_scratch.build_kernels`` on the built copy."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        built_package = os.path.abspath(self.build_lib)
        for stale in glob.glob(
            os.path.join(built_package, "kmeans_scratch", "__pycache__", "kmeans-scratch-*")
        ):
            shutil.rmtree(stale)  # an earlier build's: a failed build must not ship it
        search_path = [built_package, *filter(None, [os.environ.get("PYTHONPATH")])]
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(search_path)}
        environment.pop("NUMBA_CACHE_DIR", None)  # into the built package's __pycache__
        steps = (  # at once, in three processes sharing the cores
            (["--force"], "the ahead-of-time kernels"),
            (["--warm", "1"], "the just-in-time kernels of a Python session (half 1)"),
            (["--warm", "2"], "the just-in-time kernels of a Python session (half 2)"),
        )
        print("kmeans-scratch: compiling the kernels for this machine (2-3 minutes)", flush=True)
        running = []
        for options, what in steps:
            errors = tempfile.TemporaryFile("w+")  # a file: a full pipe would stall a part
            process = subprocess.Popen(
                [sys.executable, "-m", "kmeans_scratch.build_kernels", *options],
                cwd=built_package,  # python -m looks in the working folder first
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
            running.append((what, process, errors))
        for what, process, errors in running:
            with errors:
                if process.wait() != 0:
                    errors.seek(0)
                    last_line = (errors.read().strip().splitlines() or ["(no message)"])[-1]
                    print(
                        f"kmeans-scratch: {what} were not compiled ({last_line}); "
                        "they will compile on first use instead",
                        file=sys.stderr,
                    )


class MachineSpecificDistribution(Distribution):
    """A wheel holding machine code for one platform (not ``py3-none-any``)."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildWithKernels}, distclass=MachineSpecificDistribution)
