"""The client's side: a Dask array's row chunks, and one call per chunk, wherever they live.

:class:`RowChunks` holds ``X`` and ``sample_weight`` as one ``dask.delayed`` object per row
chunk.  :meth:`RowChunks.map` runs a function on every chunk with Dask's current scheduler
(a ``dask.distributed`` client when one is active, else the threaded scheduler) and
returns what the calls return, gathered in chunk order.  :meth:`RowChunks.map_kept` does
the same for a function that also returns a state: each call's state and result are
*persisted* together (kept on the worker that computed them, as futures, or in memory
under a local scheduler), only the results come back, and the references to the pairs
are passed to the next call, which takes its state out where it runs.  On a cluster the client
waits for the results through :func:`~._waiting.gathered`, which stops the fit with an
error instead of waiting for ever on a worker that Dask has paused for good.
"""

from typing import NamedTuple

import dask
import numpy as np
from dask import delayed

from .._engine import check_n_samples, check_weight_total, worker_threads
from ._chunks import args_of_chunk, prepared, usable
from ._waiting import gathered


class RowChunks:
    """``X`` (n, d) split by rows into chunks, each with its weights (or None for 1s).

    ``dtype`` is the float dtype the fit computes in: float32 stays float32, anything else
    is float64, as in memory.  ``client``: the ``dask.distributed`` client Dask computes
    with, or None under a local scheduler.
    """

    def __init__(self, X, sample_weight, dtype, client=None):
        self.client = client
        self.mean = None
        self.dtype = np.dtype(dtype)
        self.sizes = tuple(int(size) for size in X.chunks[0])
        self.n_samples, self.n_features = X.shape
        self.data = list(X.to_delayed().ravel())
        if sample_weight is None:
            self.weights = [None] * len(self.data)
        else:
            self.weights = list(sample_weight.to_delayed().ravel())

    def __len__(self):
        return len(self.data)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def check_n_clusters(self, n_clusters):
        check_n_samples(self.n_samples, n_clusters)

    def center(self, mean):
        """From now on, calls get each chunk's rows prepared: centered by ``mean`` (see
        :func:`~._chunks.prepared`), with the weights in the same dtype."""
        self.mean = mean

    def calls(self, function, args, states=None, nout=None, only=None):
        """One delayed call per chunk (or per chunk of the indices ``only``):
        ``function(chunk, weights, *args)``, or with ``states`` ``function(state, chunk,
        weights, *args)``; after :meth:`center`, with the chunk's prepared rows and weights."""
        call = delayed(on_chunk, pure=False, nout=nout)
        calls = []
        for index in range(len(self)) if only is None else only:
            chunk, weights = self.data[index], self.weights[index]
            state = None if states is None else states[index]
            own = args_of_chunk(args, index)
            calls.append(call(function, states is not None, state, chunk, weights, self.mean, *own))
        return calls

    def map(self, function, *args, states=None, only=None):
        """``[function(chunk, weights, *args) for each chunk]``, or with ``states``
        ``function(state, chunk, weights, *args)``; computed, in chunk order.  ``only``:
        the indices of the chunks to call it on (default all)."""
        return self.computed(self.calls(function, args, states, only=only))

    def map_kept(self, function, *args, states=None):
        """For ``function(state, chunk, weights, *args) -> (state, result)``: the new states,
        persisted where they were computed, and the results, gathered in chunk order.
        ``states`` None passes None to every first call.

        The states go on inside the calls' :class:`KeptPair` outcomes, not as tasks that
        pick the state out of each: every chunk's pass is two tasks (the call, and its result
        picked out) instead of three, and each costs the scheduler milliseconds."""
        states = [None] * len(self) if states is None else states
        kept = self.calls(kept_pair, (function, *args), states)
        results = [delayed(kept_result, pure=True)(pair) for pair in kept]
        # Persisted together: a local scheduler would otherwise run every call twice.
        kept, results = dask.persist(kept, results)
        return kept, self.computed(results)

    def computed(self, values):
        """The values of delayed ``values``, in order: on the client's cluster, waited for
        through :func:`~._waiting.gathered`; else by Dask's local scheduler."""
        if self.client is None:
            return list(dask.compute(*values))
        return gathered(self.client, self.client.compute(list(values)))

    def values(self, states):
        """The kept states as delayed values (each taken out of its :class:`KeptPair`)."""
        return [delayed(kept_state, pure=True)(pair) for pair in states]

    def release(self, states):
        """Forget kept states (here Python does, once no one refers to them)."""

    def close(self):
        """Forget every state still kept (nothing to do here; see ``_pinned``)."""


class KeptPair(NamedTuple):
    """A :meth:`RowChunks.map_kept` call's outcome, kept where it ran: the chunk's new
    ``state`` (for the next call) and the ``result`` (gathered by the client)."""

    state: object
    result: object


def kept_pair(state, chunk, weights, function, *args):
    """``function(state, chunk, weights, *args)``'s ``(state, result)`` as a :class:`KeptPair`."""
    return KeptPair(*function(state, chunk, weights, *args))


def kept_result(pair):
    return pair.result


def kept_state(pair):
    return pair.state


def on_chunk(function, has_state, state, chunk, weights, mean, *args):
    """Where the chunk is: ``function`` on it (its prepared rows if ``mean`` is given),
    with its ``state`` first if it ``has_state`` (taken out of a :class:`KeptPair`), on
    the worker's threads (see :func:`kmeans_scratch._threads.worker_threads`)."""
    args = [usable(arg) for arg in args]
    if isinstance(state, KeptPair):
        state = state.state
    with worker_threads():
        if mean is not None:
            chunk, weights = prepared(chunk, weights, mean, reuse=True)
        head = (state, chunk, weights) if has_state else (chunk, weights)
        result = function(*head, *args)
    if mean is not None:
        check_no_view(result, (chunk, weights))
    return result


def check_no_view(result, buffers):
    """Raise if an array of ``result`` (or of its tuples and lists) shares memory with the
    thread's ``buffers``, which the next task overwrites (see :func:`~._chunks.prepared`)."""
    if isinstance(result, (tuple, list)):
        for item in result:
            check_no_view(item, buffers)
    elif isinstance(result, np.ndarray) and any(
        np.may_share_memory(result, buffer) for buffer in buffers
    ):
        raise RuntimeError(f"a chunk task returned a view of a reused buffer: {result.shape}")


def merged_moments(moments):
    """Weighted mean and variance of the whole data from each chunk's ``(W, mean, var)``
    (Chan, Golub and LeVeque's pairwise formula):
    mean = Σ_c W_c m_c / W,  var = Σ_c W_c (v_c + (m_c − mean)²) / W."""
    totals = np.array([total for total, _, _ in moments])
    means = np.array([mean for _, mean, _ in moments])
    variances = np.array([variance for _, _, variance in moments])
    total = totals.sum()
    check_weight_total(total)
    mean = (totals[:, None] * means).sum(axis=0) / total
    variance = (totals[:, None] * (variances + (means - mean) ** 2)).sum(axis=0) / total
    return mean, variance
