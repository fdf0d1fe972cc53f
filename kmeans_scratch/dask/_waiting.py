"""The client's waits for the workers, watched: a fit never waits for ever on a worker that
cannot go on.

Every wait of a fit on a ``dask.distributed`` cluster for its tasks goes through
:func:`wait_for` (or :func:`gathered`, which then gathers their results): every pass over
the chunks (through Dask's graphs or pinned to the workers) and the final labels.  It
waits in steps of :data:`CHECK_SECONDS` and, between two steps, looks at the workers:

- A task pinned to a worker that has left would wait for it for ever, and what that
  worker kept is gone: a ``RuntimeError`` naming the worker.
- Dask *pauses* a worker whose process memory passes its ``pause`` fraction of
  ``memory_limit`` (80 % by default): it starts no task until its memory falls, which
  happens only by spilling results to disk.  Memory that is not a result (imports,
  kernels, a task's own arrays: Dask's "unmanaged" memory) cannot be spilled, and such a
  worker stays paused for good, in silence.  A paused worker that holds up the fit (it
  has tasks to run and runs none, or every worker is paused) for more than
  :data:`PAUSED_LIMIT_SECONDS` while no task of the wait finishes is a
  :class:`WorkerPausedError` that says which worker, its memory and what to change.

On either error the wait's tasks are cancelled.
"""

import threading
import time

#: How often a wait looks at the workers, in seconds.
CHECK_SECONDS = 1.0

#: How long a paused worker may hold up a fit that makes no progress, in seconds, before
#: the fit stops with :class:`WorkerPausedError`.  Dask pauses a worker for as long as a
#: spill to disk takes, seconds at most; a pause longer than this is one no spill will end.
PAUSED_LIMIT_SECONDS = 30.0


class WorkerPausedError(MemoryError):
    """A Dask worker stayed paused (its memory past Dask's pause threshold) while the fit
    waited for it: it would have waited for ever."""


def wait_for(client, futures, pinned_to=()):
    """Wait until every one of ``futures`` is done (finished, failed or cancelled), watching
    the workers (module docstring); ``pinned_to``: the workers the futures' tasks are
    restricted to, whose leaving is an error."""
    all_done = done_event(futures)
    watch = Watch(client, futures, pinned_to)
    while not all_done.wait(CHECK_SECONDS):
        watch.look()


def gathered(client, futures, pinned_to=()):
    """The results of ``futures``, in order, once :func:`wait_for` has seen them done."""
    wait_for(client, futures, pinned_to)
    return client.gather(futures)


def done_event(futures):
    """A ``threading.Event`` set once every one of ``futures`` is done.

    Not ``distributed.wait(futures, timeout)`` in a loop: each of its timeouts raises an
    exception whose traceback holds the futures in a reference cycle, so that their
    results stayed on the workers until Python's garbage collector ran."""
    event = threading.Event()
    remaining = [len(futures)]
    lock = threading.Lock()

    def one_done(_future):
        with lock:
            remaining[0] -= 1
            if remaining[0] == 0:
                event.set()

    if not futures:
        event.set()
    for future in futures:
        future.add_done_callback(one_done)  # called in a thread of the client
    return event


class Watch:
    """What a wait has seen of the workers: when one of its tasks last finished, and since
    when each worker holding it up has been paused."""

    def __init__(self, client, futures, pinned_to=(), paused_limit=PAUSED_LIMIT_SECONDS):
        self.client = client
        self.futures = list(futures)
        self.pinned_to = set(pinned_to)
        self.paused_limit = paused_limit
        self.n_done = 0
        self.progress_at = time.monotonic()
        self.paused_since = {}

    def look(self):
        """Raise (the tasks cancelled) if a pinned worker has left or a paused worker has
        held up the wait for longer than ``paused_limit`` without progress."""
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        gone = sorted(self.pinned_to - set(workers))
        if gone:
            self.give_up(
                RuntimeError(
                    f"the Dask worker {gone[0]} left during the fit, with the state of "
                    "its chunks: fit again"
                )
            )
        now = time.monotonic()
        n_done = sum(future.done() for future in self.futures)
        if n_done > self.n_done:
            self.n_done, self.progress_at = n_done, now
        blocking = holding_up(workers, self.client.processing())
        self.paused_since = {address: self.paused_since.get(address, now) for address in blocking}
        for address, since in self.paused_since.items():
            stalled = now - max(since, self.progress_at)
            if stalled > self.paused_limit:
                self.give_up(WorkerPausedError(paused_message(address, workers[address], stalled)))

    def give_up(self, error):
        """Cancel the wait's tasks and raise ``error``."""
        self.client.cancel(self.futures)
        raise error


def holding_up(workers, processing):
    """The paused workers among ``workers`` (the scheduler's ``{address: info}``) that hold
    a fit up: paused and running no task, with tasks to run (``processing``: the
    scheduler's tasks given to each worker), or all of them when no worker runs at all."""
    stuck = [
        address
        for address, info in workers.items()
        if info.get("status") == "paused" and executing(info) == 0
    ]
    if len(stuck) == len(workers):
        return stuck
    return [address for address in stuck if processing.get(address)]


def executing(info):
    """How many tasks a worker runs now, from the scheduler's ``info`` on it (0 when its
    heartbeat does not say)."""
    return info.get("metrics", {}).get("task_counts", {}).get("executing", 0)


def paused_message(address, info, stalled):
    """What :class:`WorkerPausedError` says about the worker at ``address``."""
    memory = info.get("metrics", {}).get("memory") or 0
    managed = info.get("metrics", {}).get("managed_bytes") or 0
    limit = info.get("memory_limit") or 0
    return (
        f"the Dask worker {address} has been paused by Dask, and the fit waiting for it, for "
        f"{stalled:.0f} s: its process holds {memory / 1e6:,.0f} MB of its memory_limit of "
        f"{limit / 1e6:,.0f} MB, {max(memory - managed, 0) / 1e6:,.0f} MB of it outside "
        "Dask's results, which no spill to disk frees, while it runs no task: its imports "
        "and kernels (about 90 to 200 MB, see 'A worker's memory' in docs/dask.md) and "
        "what the work on its chunks left. Give the workers more memory (memory_limit); "
        "if the imports leave room, use smaller chunks (X.rechunk({0: rows})) or fewer "
        "threads per worker (each thread works on a chunk)."
    )
