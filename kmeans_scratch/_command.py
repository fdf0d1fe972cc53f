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


def stopped_while_starting(signal_number, frame):
    """A signal before the command's work began: nothing was written."""
    name = signal.Signals(signal_number).name
    print(f"{PROG}: stopped by {name} while starting; nothing was written", file=sys.stderr)
    sys.stderr.flush()
    os._exit(128 + signal_number)


def main():
    for signal_number in STOP_SIGNALS:
        signal.signal(signal_number, stopped_while_starting)
    try:
        from .compression.cli import entry_point
    except MissingExtra as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    entry_point()
