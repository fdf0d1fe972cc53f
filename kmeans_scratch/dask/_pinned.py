"""Chunks held by the workers of a ``dask.distributed`` cluster: the calls on a worker's
chunks run there as one task, and what they keep stays there, in place.

When ``X`` is persisted on a cluster (``X.persist()`` with a client), each chunk already
lives on a worker.  :class:`PinnedChunks` then skips Dask's graphs:

- Each chunk is given a worker (:func:`balanced_workers`): the one holding it, unless
  that worker already has more than its share of the rows (by its threads); a chunk
  given to another worker is copied there once, by its first call.
- A call on the chunks is one task per worker, restricted to it (no stealing), that
  calls the function on each of its chunks in turn; the small results are gathered.
  Each task costs a few milliseconds of scheduling, so one per worker instead of one
  per chunk is most of an iteration's overhead saved.
- After :meth:`PinnedChunks.center`, a worker prepares each of its chunks once (centered,
  weights in the fit's dtype; the in-memory fit makes the same copy of ``X``) and keeps
  the prepared rows for the rest of the fit: the chunk is then neither read nor copied
  again.
- A state (a chunk's labels and bounds, or its D² in k-means||) is not a Dask result: it
  stays in the worker's memory under a key, and the next call updates it in place.

The calls are those of :class:`~._chunked.RowChunks`, with the same functions and
results; only the way they reach the workers differs.  Data that is not persisted (a
store read chunk by chunk) goes through :class:`~._chunked.RowChunks`, which lets Dask
read each chunk where it can and keeps nothing but the states.
"""

import uuid

import dask
import numpy as np

from .._engine import worker_threads
from ._chunked import RowChunks
from ._chunks import args_of_chunk, prepared, usable
from ._memory import check_chunks_fit
from ._waiting import gathered, wait_for

#: On a worker: the prepared rows and the states of the fits running there, by key;
#: every key starts with its :class:`PinnedChunks` object's ``name``.
_KEPT = {}


def persisted_chunks(array):
    """The futures of a Dask array's chunks in order if a cluster holds every one, else None."""
    from dask.core import flatten
    from distributed import futures_of

    futures = {future.key: future for future in futures_of(array)}
    keys = list(flatten(array.__dask_keys__()))
    if not keys or any(key not in futures for key in keys):
        return None
    return [futures[key] for key in keys]


def distributed_client():
    """The ``dask.distributed`` client Dask computes with now, or None."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:  # no client: Dask's local schedulers
        return None


def computes_with(client):
    """Whether ``dask.compute`` runs on ``client``: no other scheduler is named in Dask's
    settings (``dask.config.set(scheduler="threads")`` names one)."""
    scheduler = dask.config.get("scheduler", None)
    return scheduler in (None, client, "dask.distributed", "distributed")


def row_chunks(X, sample_weight, dtype, kept_row_bytes=0):
    """:class:`PinnedChunks` when ``X`` is persisted on the current client's cluster, else
    :class:`~._chunked.RowChunks` (on that cluster if Dask computes there).  On a cluster,
    the chunks are first checked to fit the workers (see ``_memory``), with, for persisted
    data, the ``kept_row_bytes`` a row that a fit keeps on its worker throughout."""
    dtype = np.dtype(dtype)
    client = distributed_client()
    data = persisted_chunks(X) if client is not None else None
    if data is not None:
        check_chunks_fit(
            client,
            X,
            dtype,
            import_what_tasks_import,
            one_chunk_at_a_time=True,
            kept_row_bytes=kept_row_bytes,
        )
        return PinnedChunks(client, X, data, sample_weight, dtype)
    if client is not None and not computes_with(client):
        client = None
    if client is not None:
        check_chunks_fit(client, X, dtype, import_what_tasks_import)
    return RowChunks(X, sample_weight, dtype, client)


def import_what_tasks_import():
    """On a worker, the imports of a task of the fit: ``dask.array``, which the tasks of a
    Dask array's graph import (and which may import ``sparse``, SciPy and Numba), and the
    modules the fit's tasks live in (this one, and those it imports, with the seeding's)."""
    import dask.array  # noqa: F401

    from . import _seeding  # noqa: F401


def balanced_workers(holders, sizes, threads):
    """Each chunk's worker: its holder while that worker's rows stay within its share
    (∝ its threads, plus half the chunk), else the worker with the fewest rows per thread.

    ``holders[i]`` holds chunk i of ``sizes[i]`` rows; ``threads`` maps each worker to
    its threads.  Chunks are taken in order, so the answer depends only on the arguments.
    """
    total_rows, total_threads = sum(sizes), sum(threads.values())
    rows = dict.fromkeys(threads, 0)
    chosen = []
    for holder, size in zip(holders, sizes, strict=True):
        share = total_rows * threads.get(holder, 0) / total_threads
        if holder not in rows or rows[holder] + size / 2 > share:
            holder = min(threads, key=lambda worker: (rows[worker] + size) / threads[worker])
        rows[holder] += size
        chosen.append(holder)
    return chosen


class PinnedChunks(RowChunks):
    """:class:`~._chunked.RowChunks` for chunks a cluster holds (see the module docstring).

    States are named by :class:`Kept` handles.  :meth:`values` turns them into futures (the
    final labels), :meth:`release` forgets them; :meth:`close` forgets everything this
    object left on the workers.
    """

    def __init__(self, client, X, data, sample_weight, dtype):
        super().__init__(X, None, dtype, client)
        self.data = data
        if sample_weight is not None:
            self.weights = persisted_chunks(sample_weight) or persisted_chunks(
                client.persist(sample_weight)
            )
        who_has = client.who_has(data)
        holders = [min(who_has[future.key], default=None) for future in data]
        self.workers = balanced_workers(holders, self.sizes, client.nthreads())
        self.name = f"kmeans-scratch-{uuid.uuid4().hex}"
        self.prepared = set()  # the chunks whose prepared rows their worker keeps
        self.n_states = 0

    def center(self, mean):
        super().center(mean)
        self.prepared = set()

    def submit(self, mode, function, states, args, only=None):
        """``function`` on every chunk (or those of the indices ``only``), one task per
        worker (see :func:`on_worker`); the results in chunk order."""
        groups = {}
        indices = range(len(self)) if only is None else only
        for index in indices:
            worker = self.workers[index]
            own = args_of_chunk(args, index)
            read = self.mean is None or index not in self.prepared
            chunk = (self.data[index], self.weights[index]) if read else None
            key = None if states is None else states.keys[index]
            groups.setdefault(worker, []).append((index, chunk, key, own))
        futures = {
            worker: self.client.submit(
                on_worker,
                mode,
                function,
                self.name,
                self.mean,
                items,
                workers=[worker],
                allow_other_workers=False,
                pure=False,
            )
            for worker, items in groups.items()
        }
        results = {}
        outcomes = gathered(self.client, list(futures.values()), pinned_to=futures)
        for worker, outcome in zip(futures, outcomes, strict=True):
            for (index, *_), result in zip(groups[worker], outcome, strict=True):
                results[index] = result
        if self.mean is not None:
            self.prepared.update(indices)
        return [results[index] for index in indices]

    def map(self, function, *args, states=None, only=None):
        mode = "plain" if states is None else "with"
        return self.submit(mode, function, states, args, only)

    def map_kept(self, function, *args, states=None):
        if states is None:
            states = Kept(f"{self.name}-state-{self.n_states}", len(self))
            self.n_states += 1
        return states, self.submit("kept", function, states, args)

    def values(self, states):
        """The kept states as futures on their workers, forgotten as states."""
        futures = [
            self.client.submit(
                take_kept, key, workers=[worker], allow_other_workers=False, pure=False
            )
            for key, worker in zip(states.keys, self.workers, strict=True)
        ]
        wait_for(self.client, futures, pinned_to=self.workers)  # before :meth:`close` forgets
        return futures

    def release(self, states):
        self.client.run(drop_kept, states.keys)

    def close(self):
        self.client.run(drop_all, self.name)


class Kept:
    """Handle of one state per chunk, kept on the chunks' workers under these keys."""

    def __init__(self, name, n_chunks):
        self.keys = [f"{name}-{index}" for index in range(n_chunks)]


def on_worker(mode, function, name, mean, items):
    """On a worker, for each of its chunks ``(index, (chunk, weights) or None, state key,
    args)``: ``function(chunk, weights, *args)`` ("plain"), or with the chunk's kept state
    first ("with"), or ``function(state, chunk, weights, *args) -> (state, result)``
    with the state kept ("kept"; None the first time).  With ``mean``, the chunk's
    prepared rows, made at the first call and kept.  Returns the results in order."""
    with worker_threads():
        return [run_on_chunk(mode, function, name, mean, *item) for item in items]


def run_on_chunk(mode, function, name, mean, index, chunk, key, args):
    """:func:`on_worker`'s call on one chunk."""
    args = [usable(arg) for arg in args]
    if mean is None:
        rows, weights = chunk
    else:
        if chunk is not None:
            _KEPT[f"{name}-rows-{index}"] = prepared(*chunk, mean)
        rows, weights = _KEPT[f"{name}-rows-{index}"]
    if mode == "plain":
        return function(rows, weights, *args)
    if mode == "with":
        return function(_KEPT[key], rows, weights, *args)
    _KEPT[key], result = function(_KEPT.get(key), rows, weights, *args)
    return result


def take_kept(key):
    """On a worker: the state kept under ``key``, forgotten here (it becomes a Dask result)."""
    return _KEPT.pop(key)


def drop_kept(keys):
    """On a worker: forget the states of ``keys`` that it has."""
    for key in keys:
        _KEPT.pop(key, None)


def drop_all(name):
    """On a worker: forget everything kept for the :class:`PinnedChunks` called ``name``."""
    for key in [key for key in _KEPT if key.startswith(f"{name}-")]:
        del _KEPT[key]
