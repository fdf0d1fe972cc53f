"""The ``kmeans-compress`` entry point: the command, or one line naming the missing extra.

It lives outside :mod:`kmeans_scratch.compression` so that a core-only install
(``pip install kmeans-scratch``) can still say what the command needs.
"""

import sys

from ._extras import MissingExtra


def main():
    try:
        from .compression.cli import entry_point
    except MissingExtra as error:
        print(f"kmeans-compress: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    entry_point()
