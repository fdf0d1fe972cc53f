"""``python -m kmeans_scratch.build_kernels [--force]``: the ahead-of-time kernel module.

The ``kmeans-compress`` command then starts without Numba (see ``kmeans_scratch._ahead``):
about 0.3 s for a 768 × 512 photo instead of 0.8 s.  Building needs a C compiler and takes
about half a minute; ``make install`` runs it.  The module is built for one version of
the package's sources and one CPU: after an edit this builds it again, else it only says
where it is (``--force`` rebuilds it anyway).
"""

import sys

from ._ahead import build, find_module_file


def main():
    existing = find_module_file()
    if existing is not None and "--force" not in sys.argv[1:]:
        print(f"{existing} (built before)")
        return
    print(build(verbose="-v" in sys.argv[1:]))


if __name__ == "__main__":
    main()
