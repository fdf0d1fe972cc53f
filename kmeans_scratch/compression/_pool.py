"""Files in parallel: a batch spread over worker processes, results in input order.

A 768 × 512 photo keeps about one core busy: decoding, the histogram, most of the seeding
and the PNG encoder are serial, and only the iterations (and the seeding of several starts
on many colors) use a second core.  A batch of such
files therefore runs one file per worker process, one worker (with one thread, or the
cores ÷ workers when cores outnumber files) per usable core; a file of many megapixels
uses every core by itself, so a batch with one runs serially.  Every kernel gives the
same bits on any number of threads, so each output is byte-identical to what a serial
run writes.

On Linux the workers are forked from the command after its imports and before any
parallel kernel ran (forking after OpenMP started its threads is unsafe): they start
with everything imported, and each loads the kernels it needs.  Elsewhere they are
spawned.

Stopping: the workers ignore SIGINT (a terminal sends it to the whole process group; the
command decides).  A signal to the command lets each busy worker finish its file, then
the workers end (a second signal changes nothing, see :func:`stop_on_signal`); any other
early end stops them with SIGTERM, which aborts the file in progress the way it does in
the command itself: its temporary file is removed, nothing partial is left.  A worker
that receives SIGTERM between files simply exits.
"""

import contextlib
import os
import signal
import sys
import traceback

from kmeans_scratch import _engine

#: A batch runs in parallel only if no image has more pixels than this: larger images
#: use every core by themselves (and two at once would need twice the memory).
PARALLEL_FILES_MAX_PIXELS = 4_000_000

_in_task = False
_stop_signal = None


class Stopped(BaseException):
    """SIGINT or SIGTERM arrived: the batch stops after what is already written.

    ``ahead``: the outcomes of tasks that were done but not yet yielded when it came (a
    runner of tasks in parallel tells it, see :func:`map_in_workers`), in input order;
    ``done`` and ``total``: the files done, and in all (the command counts them)."""

    def __init__(self, signal_number, done=0, total=0):
        super().__init__(signal_number)
        self.signal_number, self.done, self.total = signal_number, done, total
        self.ahead = []

    @property
    def exit_status(self):
        return 128 + self.signal_number  # 130 for SIGINT, 143 for SIGTERM, as shells do


_stopping = False  # a Stopped is on its way (see stop_on_signal)


def stop_on_signal(signal_number, frame):
    """The command's handler of SIGINT and SIGTERM: raise :class:`Stopped`, once.  A second
    signal while the first stop unwinds (Ctrl-C pressed twice) does nothing: raised there,
    it would cut the count of the files written short, or come out as a traceback after
    the summary.  ``expect_stops`` makes the handler ready again."""
    global _stopping
    if _stopping:
        return
    _stopping = True
    raise Stopped(signal_number)


def expect_stops():
    """Let :func:`stop_on_signal` raise again (each run of the command starts with it)."""
    global _stopping
    _stopping = False


def plan_workers(n_files, largest_pixels, cores=None):
    """``(workers, threads per worker)`` for a batch: one worker per core (at most one
    per file) when the images are small, else a single worker with every core (0
    workers: run in this process)."""
    cores = _engine.usable_cores() if cores is None else cores
    if n_files < 2 or cores < 2 or largest_pixels > PARALLEL_FILES_MAX_PIXELS:
        return 0, cores
    workers = min(n_files, cores)
    return workers, max(1, cores // workers)


def _start_worker(threads, ahead_of_time):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)
    _engine.set_threads(threads)
    _engine.use_ahead_of_time(ahead_of_time)  # what the command chose (a spawned worker)


def _stop_worker(signal_number, frame):
    global _stop_signal
    if not _in_task:
        os._exit(128 + signal_number)
    _stop_signal = signal_number  # the task ends here even if the exception is caught
    raise Stopped(signal_number)  # unwinds the file in progress, removing its temporary


def _run_task(task):
    """Run ``function(*arguments)`` in a worker: ``(True, result)``, or ``(False,
    (exception, traceback text))`` for an error, which the command reports."""
    global _in_task
    function, arguments = task
    _in_task = True
    try:
        return True, function(*arguments)
    except Stopped:
        pass
    except Exception as error:  # a Stopped wrapped by Numba in SystemError lands here too
        if _stop_signal is None:
            return False, (picklable(error), traceback.format_exc())
    finally:
        _in_task = False
        if _stop_signal is not None:
            os._exit(128 + _stop_signal)


_stop_signal = None


def picklable(error):
    """``error`` itself if it can travel back to the command, else a RuntimeError with its
    message."""
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(str(error) or type(error).__name__)
    return error


def context():
    """Fork on Linux while no parallel kernel has run in this process (the workers then
    inherit the imports); else spawn (GNU OpenMP aborts a child forked after its threads
    started, and other systems' fork is not safe with threads at all)."""
    import multiprocessing  # here: 10 ms of the start of a command given one file

    forkable = sys.platform.startswith("linux") and _engine.threading_layer() is None
    return multiprocessing.get_context("fork" if forkable else "spawn")


#: Seconds between checks for a stop while waiting for the workers, and how long a
#: stopped worker may take to remove its temporary file before it is killed.
POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 10


def _worker_loop(connection, threads, ahead_of_time):
    """A worker: run the tasks that come through ``connection`` until it is closed."""
    _start_worker(threads, ahead_of_time)
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):  # the command is gone
            return
        if task is None:  # no more work
            return
        index, function, arguments = task
        connection.send((index, _run_task((function, arguments))))


def map_here(function, argument_lists):
    """What :func:`map_in_workers` yields, computed in this process, one after the other."""
    for arguments in argument_lists:
        try:
            yield True, function(*arguments)
        except Exception as error:  # any failure is this task's: name it, go on
            yield False, (error, traceback.format_exc())


def dispatch_order(argument_lists, cost=None):
    """The indices of ``argument_lists`` in the order their tasks go out: by decreasing
    ``cost(arguments)``, ties in input order (input order without ``cost``).  The longest
    first, so that a batch does not end on one long task while the other workers idle;
    the outcomes still come in input order."""
    order = range(len(argument_lists))
    if cost is None:
        return list(order)
    return sorted(order, key=lambda index: -cost(argument_lists[index]))


def map_in_workers(function, argument_lists, workers, threads, cost=None):
    """``function(*arguments)`` for each of ``argument_lists`` in ``workers`` processes.

    Yields ``(True, result)`` or ``(False, (exception, traceback text))`` per task, in
    the order of ``argument_lists``; each worker takes the next task as soon as it is
    free, in :func:`dispatch_order` (by decreasing ``cost``, if given).  Closing the
    generator early (an exception in the caller) stops the workers: those busy with a
    file get SIGTERM, the idle ones are told to end.  A :class:`Stopped` that arrives
    while it waits (SIGINT, SIGTERM) stops the batch cleanly: each busy worker finishes
    its file, and the Stopped is told the outcomes done and not yet yielded (``ahead``),
    so that the command counts and reports every file written.
    """
    from multiprocessing.connection import wait

    tasks = [(index, function, tuple(arguments)) for index, arguments in enumerate(argument_lists)]
    processes, busy, outcomes, index = {}, {}, {}, 0
    try:
        for _ in range(min(workers, len(tasks))):
            ours, theirs = context().Pipe()
            process = context().Process(
                target=_worker_loop,
                args=(theirs, threads, _engine.ahead_of_time_used()),
                daemon=True,
            )
            process.start()
            theirs.close()
            processes[ours] = process
        pending = (tasks[index] for index in dispatch_order([task[2] for task in tasks], cost))
        for connection in processes:
            task = next(pending, None)
            if task is not None:
                connection.send(task)
                busy[connection] = task[0]
        for index in range(len(tasks)):
            while index not in outcomes:
                if not busy:  # every worker died: the tasks left cannot run
                    error = RuntimeError("a worker process ended unexpectedly")
                    outcomes[index] = (False, (error, ""))
                    break
                for connection in wait(list(busy), timeout=POLL_SECONDS):
                    try:
                        done, outcome = connection.recv()
                    except (EOFError, OSError):  # killed (out of memory, say): its file failed
                        error = RuntimeError("a worker process ended unexpectedly")
                        done, outcome = busy.pop(connection), (False, (error, ""))
                        outcomes[done] = outcome
                        continue
                    outcomes[done] = outcome
                    task = next(pending, None)
                    if task is None:
                        del busy[connection]
                    else:
                        connection.send(task)
                        busy[connection] = task[0]
            yield outcomes.pop(index)
    except Stopped as stop:
        for connection, task_index in list(busy.items()):  # each busy worker finishes
            if task_index in outcomes:  # received, the next task not yet sent: idle
                continue
            with contextlib.suppress(EOFError, OSError):
                done, outcome = connection.recv()
                outcomes[done] = outcome
            del busy[connection]
        stop.ahead = [outcomes[done] for done in sorted(outcomes)]  # none yielded yet
        raise
    finally:
        for connection, process in processes.items():
            if connection in busy:
                process.terminate()  # SIGTERM: the file in progress is abandoned cleanly
            else:
                try:
                    connection.send(None)
                except OSError:  # it is gone already
                    pass
            connection.close()
        for process in processes.values():
            process.join(STOP_GRACE_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
