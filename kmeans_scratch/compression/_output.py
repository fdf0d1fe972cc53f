"""Writing an output file atomically: into a temporary file in the target folder, then
renamed into place, so that a reader never sees a partial file and a failure leaves
nothing behind (:func:`atomic_write`); a character device or a FIFO is written into.
"""

import contextlib
import errno
import os
import signal
import stat
from pathlib import Path


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


class OutputError(FileExistsError):
    """An output that is not written: it exists (without ``overwrite``), it is a folder,
    a block device or a socket, or a symbolic link to nothing (without ``overwrite``)."""


def is_stream_file(path):
    """Whether ``path`` is a character device (/dev/null, a terminal) or a FIFO: a file
    that is written into, never replaced."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def check_output(path, overwrite=False, force="overwrite=True"):
    """The file that writing ``path`` creates, replaces or writes into; raises
    :class:`OutputError` when it must not be written.

    A symbolic link is written through: the file it points to is replaced (atomically,
    see :func:`atomic_write`) and the link stays; a link to nothing is written through
    only with ``overwrite``.  A character device (/dev/null) or a FIFO is written into,
    as a shell's ``>`` does, and never replaced; a folder, a block device or a socket is
    never written.  ``force`` is how the message names the override: ``overwrite=True``
    in the API, ``--force`` in the command.
    """
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    if path.is_symlink() and not target.exists() and not overwrite:
        raise OutputError(
            f"{path}: is a symbolic link to {target}, which does not exist "
            f"(use {force} to write it)"
        )
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    except OSError as error:
        raise about_the_output(error, path) from None
    if stat.S_ISDIR(mode):
        raise OutputError(f"{path}: is a folder")
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return target
    if not stat.S_ISREG(mode):
        raise OutputError(
            f"{path}: is a block device or a socket, not a file to write (never replaced)"
        )
    if not overwrite:
        raise OutputError(f"{path}: already exists (use {force} to replace it)")
    return target


def atomic_write(path, data, overwrite=False, force="overwrite=True"):
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename.

    Raises :class:`OutputError` (a FileExistsError) if ``path`` exists and ``overwrite``
    is false, or is not a file to write (see :func:`check_output`: a symbolic link is
    written through to its target).  A file that is replaced keeps its permissions.  On
    any failure the temporary file is removed and ``path`` is untouched.  A character
    device or a FIFO is written into instead, in one call, with the data complete.
    ``force`` names the override in messages.
    """
    path = Path(path)
    target = check_output(path, overwrite, force)
    if is_stream_file(target):
        try:
            with open(target, "wb") as stream:
                stream.write(data)
        except OSError as error:
            raise about_the_output(error, path) from None
        return
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:  # a new file
        mode = 0o666 & ~_current_umask()  # as if created by open()
    handle = temporary = None
    try:
        with stop_signals_held():  # a signal's exception lands below, with the file known
            handle, temporary = new_temporary_file(folder, target.name)
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException as error:
        if handle is not None:
            handle.close()
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise about_the_output(error, path) from None
        raise


#: The signals that stop the command (its handlers, ``cli.main``'s, raise an exception).
#: ``kmeans_scratch._command``, the entry point, names them too: it takes them before
#: this layer is imported (which it must not need), and this layer does not import it.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stop_signals_held():
    """SIGINT and SIGTERM wait while the block runs, and their handlers run as it ends.

    Python runs a signal's handler after the call it interrupted returns: one arriving
    while :func:`new_temporary_file` creates the file would raise its exception before
    the caller knows the file's name, and the file would stay.  A signal mask cannot
    hold it (another thread, Numba's or OpenMP's, takes the signal), so the block runs
    with handlers that only note what arrived; the noted signals go to the handlers they
    were meant for once those are back.  Outside the main thread, where no handler runs,
    the block runs as it is.
    """
    arrived = []
    previous = {}
    try:
        for number in STOP_SIGNALS:
            if signal.getsignal(number) is None:  # a handler not set from Python: left alone
                continue
            try:
                previous[number] = signal.signal(number, lambda *arrival: arrived.append(arrival))
            except ValueError:  # not the main thread
                break
        yield
    finally:
        error = restore_handlers(previous)
        for number, frame in arrived:
            try:
                if callable(previous[number]):
                    previous[number](number, frame)
                elif previous[number] == signal.SIG_DFL:
                    signal.raise_signal(number)  # its default action, now
            except BaseException as raised:  # every arrival has its turn; the first error wins
                error = error or raised
        if error is not None:
            raise error


def restore_handlers(previous):
    """Set the signal handlers ``previous`` maps signal numbers to; the exception a
    handler raised on the way, if any (``signal.signal`` first runs the handlers of
    signals that arrived, and then sets nothing: it is called again)."""
    error = None
    for number, handler in previous.items():
        while True:
            try:
                signal.signal(number, handler)
                break
            except BaseException as raised:
                error = error or raised
    return error


#: Random names tried by :func:`new_temporary_file` before it gives up.
TEMPORARY_NAME_TRIES = 100


def new_temporary_file(folder, name):
    """``(file, path)``: a new file, open for binary writing and readable by its owner
    only, in ``folder``, named ``.NAME.<8 random hex digits>.tmp`` (as long as the name
    ``tempfile`` gives).  Made with ``O_EXCL``, so never an existing file, as ``tempfile``
    makes one, but without importing it (with ``shutil`` and ``random``: 3 ms of the
    command's start).  Should the file object fail to open, the file is removed."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(TEMPORARY_NAME_TRIES):
        path = os.path.join(folder, f".{name}.{os.urandom(4).hex()}.tmp")
        try:
            descriptor = os.open(path, flags, 0o600)
        except FileExistsError:
            continue
        try:
            return open(descriptor, "wb"), path
        except BaseException:  # no descriptor, no file left
            os.close(descriptor)
            os.unlink(path)
            raise
    raise FileExistsError(errno.EEXIST, "no free name for a temporary file", str(folder))


def about_the_output(error, path):
    """The OSError ``error`` that names the temporary file, naming the output instead
    (the user never sees the temporary file, which is gone)."""
    if error.errno is None:
        return error
    return type(error)(error.errno, error.strerror, str(path))
