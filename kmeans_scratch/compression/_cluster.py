"""Files on a Dask cluster: a batch spread over its workers, the outcomes in input order.

Each file is one task, ``function(*arguments)`` run on whichever worker is free; it reads
its input and writes its output there, so the workers must see the same files as the
caller (a LocalCluster on this machine always does; a remote cluster needs a shared
filesystem).  Only the report rows come back.  Every kernel gives the same bits on any
number of threads, so each output is byte-identical to what a local run writes.

Needs the ``[dask]`` extra (``dask.distributed``).
"""

import contextlib
import signal
import traceback

from kmeans_scratch._engine import MissingExtra, require, worker_threads

from ._pool import Stopped, dispatch_order, picklable

#: How long to wait for a scheduler given by address before giving up, in seconds.
CONNECT_TIMEOUT_SECONDS = 10


class ClusterError(RuntimeError):
    """No Dask cluster: the extra is not installed, or the scheduler cannot be reached."""


def import_distributed():
    try:
        require("dask", "a Dask cluster")
    except MissingExtra as error:
        raise ClusterError(str(error)) from None
    import distributed

    return distributed


@contextlib.contextmanager
def dask_client(workers=None, scheduler=None):
    """A ``distributed.Client``: of the running cluster at ``scheduler``, or of a new
    LocalCluster of ``workers`` processes with one thread each (closed afterwards), whose
    workers ignore SIGINT (see :func:`ignore_interrupts`)."""
    import logging  # with Dask only: 1.5 ms of the command's start otherwise

    distributed = import_distributed()
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_SECONDS)
        except (OSError, TimeoutError) as error:
            raise ClusterError(f"no Dask scheduler at {scheduler}: {error}") from None
        with client:
            yield client
        return
    with (
        distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True,
            dashboard_address=":0", silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        client.run(ignore_interrupts)
        yield client


def ignore_interrupts():
    """On a worker of the command's own LocalCluster: ignore SIGINT.  A terminal's Ctrl-C
    goes to the whole process group, the workers included; the command stops the batch
    and closes the cluster, where each worker would print its KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def outcome_of(function, arguments, stop_event):
    """On a worker: ``(True, function(*arguments))``, or ``(False, (exception, traceback
    text))`` for an error, which the caller reports as this file's; None, without running
    it, once the batch has stopped (the Dask ``Event`` named ``stop_event`` is set)."""
    import distributed

    if distributed.Event(stop_event).is_set():
        return None
    try:
        with worker_threads():
            return True, function(*arguments)
    except Exception as error:
        return False, (picklable(error), traceback.format_exc())


def sent_once(client, argument_lists):
    """The argument lists, as tuples, with each argument that every one of them holds
    (the same object: the command's options, a shared palette, the histograms of the
    one fit) scattered to the workers once and replaced by its future.  Sent with each
    task, a shared palette of 11 MiB travelled once per file, and Dask warned of a large
    graph on the command's stderr."""
    argument_lists = [tuple(arguments) for arguments in argument_lists]
    if not argument_lists:
        return argument_lists
    first = argument_lists[0]
    common = {
        position: client.scatter([value], hash=False)[0]
        for position, value in enumerate(first)
        if all(arguments[position] is value for arguments in argument_lists)
    }
    return [
        tuple(common.get(position, value) for position, value in enumerate(arguments))
        for arguments in argument_lists
    ]


def map_on_cluster(function, argument_lists, client, cost=None):
    """``function(*arguments)`` for each of ``argument_lists`` on the client's workers.

    Yields ``(True, result)`` or ``(False, (exception, traceback text))`` per task, in
    the order of ``argument_lists``; the tasks are submitted in
    :func:`~._pool.dispatch_order` (by decreasing ``cost``, if given), the order in which
    Dask runs tasks of equal priority.  Closing the generator early cancels the tasks not
    yet done (a task already running finishes: its output is written whole or not at all).

    A :class:`~._pool.Stopped` that arrives while it waits (SIGINT, SIGTERM) stops the
    batch cleanly: the tasks not begun return at once, those running finish their file,
    and the Stopped is told the outcomes done and not yet yielded (``ahead``): the
    workers are idle when the cluster closes, and the command counts and reports every
    file written.
    """
    distributed = import_distributed()
    import uuid  # with Dask only: a command on this machine does not pay its import

    stop_event = distributed.Event(f"kmeans-compress-stop-{uuid.uuid4().hex}", client=client)
    argument_lists = [tuple(arguments) for arguments in argument_lists]
    sent = sent_once(client, argument_lists)
    futures = [None] * len(sent)
    for index in dispatch_order(argument_lists, cost):
        arguments = sent[index]
        futures[index] = client.submit(outcome_of, function, arguments, stop_event.name, pure=False)
    yielded = 0
    try:
        for future in futures:
            try:
                outcome = future.result()
            except Exception as error:  # the worker died, or the task could not run
                outcome = False, (RuntimeError(f"the Dask task failed: {error}"), "")
            yield outcome
            yielded += 1
    except Stopped as stop:  # while waiting for the task after those yielded
        stop_event.set()
        outcomes = client.gather(futures[yielded:], errors="skip")
        stop.ahead = [outcome for outcome in outcomes if outcome is not None]
        raise
    finally:
        client.cancel(futures)
