"""Kernels: written once as Numba functions, run ahead-of-time compiled or just in time.

Every kernel of the package is decorated with :func:`kernel`, which is ``numba.njit`` with
``cache=True``, deferred: importing a module of kernels does not import Numba.  A call
runs

- the kernel's specialization in the **ahead-of-time module** (:mod:`._ahead`) when the
  process allows it (:func:`use_ahead_of_time`: the ``kmeans-compress`` command does,
  for images up to 4 megapixels), the module is built for these sources, and it has a
  specialization for exactly the argument types of the call: plain machine code, loaded
  in milliseconds, on one thread (or, for a kernel over blocks of rows, on a few Python
  threads at once: :func:`run_blocks`; the seedings of several starts, one per thread:
  ``_seeding.greedy_kmeans_plusplus_starts``);
- else the Numba function, compiled just in time (from Numba's cache, see
  :mod:`._numba_cache`), on all of Numba's threads.  The first such call starts Numba
  (:func:`start_numba`), and from then on every kernel runs that way.

Why: Numba's import and start take about 0.47 s, more than three times pngquant's whole
run on a 768 × 512 photo.  The command, compressing one such file, runs from the
ahead-of-time module and never imports Numba.  A library, in a long process, pays that
start once and gains Numba's threads on every call.  The two give the same bits (the
kernels sum in the same order on any number of threads; ``tests/test_ahead.py``
compares them).

A module of kernels imports ``kernel`` and ``prange`` from here.  Until Numba starts,
``prange`` is a stand-in and each kernel a :class:`Kernel`; :func:`start_numba` makes
every kernel a Numba dispatcher and puts the dispatchers and ``numba.prange`` in place
of the stand-ins in the package's modules, so that Numba, compiling a kernel, sees the
other kernels it calls (and inlines those marked ``inline="always"``) as it would had
they been decorated with ``numba.njit`` directly.
"""

import contextlib
import importlib
import os
import queue
import sys
import threading

from . import _ahead
from ._cores import usable_cores


def prange(*args):
    """Stand-in for ``numba.prange`` until Numba starts (kernels never run as Python)."""
    return range(*args)


_STAND_IN_PRANGE = prange
_kernels = []  # every Kernel defined before Numba started
_numba = None  # the numba module, once started
_start_lock = threading.Lock()
_threads_when_started = None  # set_threads before Numba started
_serial = False  # kernels compiled without parallel loops nor cache (see start_numba)
_ahead_of_time = False  # whether calls may run from the ahead-of-time module
_this_thread = threading.local()  # .ahead_of_time: the same, for this thread only


def use_ahead_of_time(enabled=True):
    """Let the kernels run from the ahead-of-time module until Numba starts, or not.

    The command does, for images small enough (a fresh process per call, where Numba's
    start would be most of the time); a library keeps the default, Numba's parallel
    kernels, whose start-up a long process pays once.
    """
    global _ahead_of_time
    _ahead_of_time = enabled


@contextlib.contextmanager
def ahead_of_time_in_this_thread():
    """Within the block, this thread's kernel calls may run from the ahead-of-time module
    (until Numba starts): a Dask worker of one thread does, to run its chunks without
    Numba's memory (see :func:`._threads.worker_threads`)."""
    previous = getattr(_this_thread, "ahead_of_time", False)
    _this_thread.ahead_of_time = True
    try:
        yield
    finally:
        _this_thread.ahead_of_time = previous


class Kernel:
    """A Numba function whose compilation waits for its first call (see the module's
    docstring).  Attributes not defined here are the Numba dispatcher's."""

    def __init__(self, py_func, options):
        self.py_func = py_func
        self.options = options
        self.dispatcher = None
        self.name = f"{py_func.__module__}.{py_func.__qualname__}"
        self.__name__ = py_func.__name__
        self.__qualname__ = py_func.__qualname__
        self.__module__ = py_func.__module__
        self.__doc__ = py_func.__doc__
        self.__wrapped__ = py_func

    def __call__(self, *args):
        if self.dispatcher is None:
            if ahead_of_time_used():
                compiled = _ahead.specialization(self.name, args)
                if compiled is not None:
                    return compiled(*args)
            start_numba()
        return self.dispatcher(*args)

    def __getattr__(self, name):
        if name.startswith("__") or "dispatcher" not in vars(self):  # copy, pickle
            raise AttributeError(name)
        start_numba()
        return getattr(self.dispatcher, name)

    def __reduce__(self):  # by name, as a function is: the module's kernel where unpickled
        return kernel_named, (self.__module__, self.__qualname__)

    def __repr__(self):
        return f"<kernel {self.name}>"


_block_pool = None  # the threads of run_blocks, made at its first split
_block_pool_cores = 0  # the usable cores when it was made
_block_pool_lock = threading.Lock()


def run_blocks(block_kernel, n_blocks, *args):
    """Run ``block_kernel(blocks, *args)`` over the row blocks 0 … ``n_blocks`` − 1, where
    ``blocks`` = (first, stop, step) is the run of blocks the call takes (see
    :func:`._blocks.blocks_in`).

    Just in time, one call takes them all, (0, B, 1), and its ``prange`` spreads them over
    Numba's threads.  From the ahead-of-time module, whose functions run on one thread but
    release the GIL, T = :func:`get_threads` threads (at most one per core) each take every
    T-th block, (t, B, T): this thread the first run, :func:`block_pool`'s threads the
    others.  Each block writes only its own rows and accumulators, so the result is the
    same bits either way.  Should a run fail, the others are waited for before the error
    goes on: none is left writing into the caller's arrays.
    """
    threads = min(get_threads(), n_blocks)
    compiled = None
    if threads > 1 and isinstance(block_kernel, Kernel) and block_kernel.dispatcher is None:
        if ahead_of_time_used():
            compiled = _ahead.specialization(block_kernel.name, ((0, n_blocks, 1), *args))
    if compiled is None:
        block_kernel((0, n_blocks, 1), *args)
        return
    run_on_threads(lambda t, runs: compiled((t, n_blocks, runs), *args), threads)


def run_on_threads(task, threads):
    """``task(t, T)`` for t = 0 … T − 1 at once, T = ``threads`` but at most one per core:
    this thread runs t = 0, :func:`block_pool`'s threads the others (work that releases
    the GIL: the ahead-of-time kernels, libdeflate).  Should a run fail, the others are
    waited for before the error goes on: none is left writing into the caller's arrays."""
    if threads <= 1:
        task(0, 1)
        return
    pool = block_pool()
    threads = min(threads, _block_pool_cores)  # read once, not at every step
    others = [pool.submit(task, t, threads) for t in range(1, threads)]
    try:
        task(0, threads)
    finally:
        errors = [other.exception() for other in others]  # waits for each
    for error in errors:
        if error is not None:
            raise error


def block_pool():
    """The threads that run :func:`run_blocks`' other runs: one per core but the caller's,
    made at the first split (and again in a child forked after it, which has none of
    them)."""
    global _block_pool, _block_pool_cores
    with _block_pool_lock:
        if _block_pool is None:
            _block_pool_cores = usable_cores()
            _block_pool = BlockThreads(max(1, _block_pool_cores - 1))
        return _block_pool


class BlockThreads:
    """``count`` daemon threads that run the tasks given to :meth:`submit`, in turn.

    The part of ``concurrent.futures.ThreadPoolExecutor`` that :func:`run_on_threads`
    uses: importing that package (and the ``logging`` it imports) took 4 ms of every
    command's run, which compresses a small photo in about 60 ms.  The threads are
    daemons: every task is waited for by its caller, so none is running at exit.
    """

    def __init__(self, count):
        self.tasks = queue.SimpleQueue()
        for number in range(count):
            name = f"kmeans-blocks-{number}"
            threading.Thread(target=self.serve, name=name, daemon=True).start()

    def submit(self, function, *args):
        """Run ``function(*args)`` on one of the threads; the :class:`Task` to wait for."""
        task = Task(function, args)
        self.tasks.put(task)
        return task

    def serve(self):
        while True:
            self.tasks.get().run()


class Task:
    """A call given to :class:`BlockThreads`; :meth:`exception` waits for its end."""

    def __init__(self, function, args):
        self.function, self.args = function, args
        self.error = None
        self.done = threading.Event()

    def run(self):
        try:
            self.function(*self.args)
        except BaseException as error:  # handed to the caller, as a future does
            self.error = error
        finally:
            self.done.set()

    def exception(self):
        """Wait for the call to end; the exception it raised, or None."""
        self.done.wait()
        return self.error


def forget_block_pool():
    """In a forked child: the parent's pool, whose threads were not forked, is not ours."""
    global _block_pool, _block_pool_cores, _block_pool_lock
    _block_pool, _block_pool_cores, _block_pool_lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=forget_block_pool)


def kernel_named(module, qualname):
    """The kernel ``qualname`` of ``module`` (a Kernel, or its dispatcher once Numba started)."""
    return getattr(importlib.import_module(module), qualname)


def kernel(py_func=None, **options):
    """``numba.njit(cache=True, **options)``, compiled when first needed; use as
    ``@kernel`` or ``@kernel(parallel=True)``."""

    def decorate(py_func):
        if _numba is not None:
            return _numba.njit(**numba_options(options))(py_func)
        deferred = Kernel(py_func, options)
        _kernels.append(deferred)
        return deferred

    return decorate if py_func is None else decorate(py_func)


def ahead_of_time_used():
    """Whether kernel calls may run from the ahead-of-time module (see
    :func:`use_ahead_of_time`)."""
    return _ahead_of_time or getattr(_this_thread, "ahead_of_time", False)


def numba_options(options):
    """``numba.njit``'s options for a kernel decorated with ``options``."""
    if _serial:
        return {**options, "cache": False, "parallel": False}
    return {"cache": True, **options}


def numba_started():
    """Whether Numba runs the kernels in this process (see :func:`start_numba`)."""
    return _numba is not None


def start_numba(serial=False):
    """Import Numba and make every kernel a Numba dispatcher, cached in this package's
    kernel folder; the ahead-of-time module is no longer used by this process.

    ``serial=True`` (for :func:`.build_kernels.build`) compiles every kernel without its parallel
    loops and without the cache, whose entries do not say whether they are parallel.
    """
    global _numba, _serial, prange
    with _start_lock:
        if _numba is not None:
            return
        from ._numba_cache import use_kernel_cache

        use_kernel_cache()  # before any dispatcher is made: Numba picks its cache then
        import numba

        _serial = serial
        for deferred in _kernels:
            deferred.dispatcher = numba.njit(**numba_options(deferred.options))(deferred.py_func)
        for name, module in list(sys.modules.items()):
            if name.partition(".")[0] == __package__ and name != __name__:
                replace_stand_ins(vars(module), numba.prange)
        if _threads_when_started is not None:
            numba.set_num_threads(min(_threads_when_started, numba.config.NUMBA_NUM_THREADS))
        if not serial:
            announce_first_compile()
        prange = numba.prange
        _numba = numba


#: Set to 1, no line on stderr when kernels compile (the tests set it: their subprocesses'
#: standard error is part of what they check).
QUIET_COMPILE = "KMEANS_SCRATCH_QUIET_COMPILE"


def announce_first_compile():
    """Say on stderr, before the first of this package's kernels compiles in this process,
    that they are compiling and for about how long: a first run of an install would
    otherwise wait a minute in silence.  Kernels loaded from the cache compile nothing and
    say nothing.  Numba's event API reports a compile when its cache had no entry."""
    from numba.core import event

    class FirstCompile(event.Listener):
        said = False

        def on_start(self, compiling):
            name = compiled_kernel_name(compiling)
            if self.said or name is None:
                return
            self.said = True
            if os.environ.get(QUIET_COMPILE) != "1":
                print(
                    f"kmeans-scratch: compiling the kernels for this machine ({name} "
                    "first); up to a minute or two, once: later runs load them from the cache",
                    file=sys.stderr,
                    flush=True,
                )

        def on_end(self, compiling):
            pass

    event.register("numba:compile", FirstCompile())


def compiled_kernel_name(compiling):
    """``module.qualname`` of the function a Numba ``numba:compile`` event compiles, if it
    is one of this package's kernels, else None."""
    function = getattr(compiling.data["dispatcher"], "py_func", None)
    module = getattr(function, "__module__", "") or ""
    if not module.startswith(f"{__package__}."):
        return None
    return f"{module}.{function.__qualname__}"


def replace_stand_ins(namespace, numba_prange):
    """In a module's namespace: each Kernel by its dispatcher, the stand-in ``prange`` by
    Numba's."""
    for name, value in list(namespace.items()):
        if isinstance(value, Kernel):
            namespace[name] = value.dispatcher
        elif value is _STAND_IN_PRANGE:
            namespace[name] = numba_prange


def numba_module():
    """The ``numba`` module (Numba started if it was not)."""
    start_numba()
    return _numba


def get_threads():
    """Numba's threads for this thread's parallel kernels; before Numba starts, the
    process's count, which it will start with and which :func:`run_blocks` splits by."""
    if _numba is not None:
        return _numba.get_num_threads()
    if _threads_when_started is not None:
        return _threads_when_started
    return int(os.environ.get("NUMBA_NUM_THREADS") or usable_cores())


def set_threads(threads):
    """Numba's threads for this thread's parallel kernels; before Numba starts, for the
    whole process (kept for when it starts, and read by :func:`run_blocks`)."""
    global _threads_when_started
    if _numba is None:
        _threads_when_started = threads
    else:
        _numba.set_num_threads(min(threads, _numba.config.NUMBA_NUM_THREADS))
