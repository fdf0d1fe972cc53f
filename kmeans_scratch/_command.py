"""The ``kmeans-compress`` entry point: the command, or one line naming the missing extra.

It lives outside :mod:`kmeans_scratch.compression` so that a core-only install
(``pip install kmeans-scratch``) can still say what the command needs, and so that it
takes SIGINT (Ctrl-C) and SIGTERM before the command's imports, which take a few tenths
of a second: a signal then ends the command as a later one does, in one line with
status 128 + the signal's number, instead of a KeyboardInterrupt traceback.
"""

import os
import signal
import sys

from ._extras import MissingExtra

PROG = "kmeans-compress"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: The command multiplies no large matrices (its rows have 3 or 4 columns), but OpenBLAS,
#: loaded with NumPy, starts a thread per core that spins before it sleeps: 0.12 s of CPU
#: in a run of 0.29 s on one 768 × 512 photo.  One thread, unless the user set a count
#: that OpenBLAS reads (these variables, in its order of precedence).
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def stopped_while_starting(signal_number, frame):
    """A signal before the command's work began: nothing was written."""
    name = signal.Signals(signal_number).name
    print(f"{PROG}: stopped by {name} while starting; nothing was written", file=sys.stderr)
    sys.stderr.flush()
    os._exit(128 + signal_number)


def main():
    for signal_number in STOP_SIGNALS:
        signal.signal(signal_number, stopped_while_starting)
    if not any(name in os.environ for name in BLAS_THREADS):
        os.environ[BLAS_THREADS[0]] = "1"  # before NumPy loads OpenBLAS
    try:
        from .compression.cli import entry_point
    except MissingExtra as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    entry_point()
