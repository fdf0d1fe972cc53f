"""One run of K-Means over chunked data: the steps of the in-memory run, split in two.

The workers do the O(n) part of every iteration on their own chunks (assignment, with
Lloyd's, Hamerly's or Elkan's kernels, and the per-cluster sums, see ``_chunks``); the client
does the O(k·d) part: it adds the chunks' sums in chunk order (float64), re-seeds empty
clusters, moves the centers and decides when to stop.  These are the steps of
:func:`kmeans_scratch._iterations.run_iterations` in the same order with the same rules, so from
the same initial centers the labels, the iterations and the centers are those of the
in-memory fit; only the order in which the sums are added differs, by roundings of about
1e-16 of each center.
"""

import numpy as np

from .._engine import centers_from_sums, move_to_empty_cluster, squared_center_shift
from ._chunks import assign_step, farthest_rows, finish_run


def merged_sums(results):
    """Labels changed, Σ w x and Σ w per cluster, from each chunk's, added in chunk order."""
    n_changed = sum(changed for changed, _, _ in results)
    center_sums = np.zeros_like(results[0][1])
    cluster_weights = np.zeros_like(results[0][2])
    for _, sums, weights in results:
        center_sums += sums
        cluster_weights += weights
    return n_changed, center_sums, cluster_weights


def relocate_empty_clusters(chunks, runs, centers_old, center_sums, cluster_weights):
    """:func:`kmeans_scratch._iterations.relocate_empty_clusters` over chunks: each empty cluster
    takes one of the rows farthest from their own centers, the farthest first.

    Each chunk sends its ``n_empty`` farthest rows.  With two or more empty clusters at
    once, rows at equal distance may be paired with the empty clusters in another order
    than in memory (which follows ``numpy.argpartition``).
    """
    empty = np.flatnonzero(cluster_weights == 0)
    far = chunks.map(farthest_rows, centers_old, empty.size, states=runs)
    distances = np.concatenate([part[0] for part in far])
    if distances.size == 0 or distances.max() == 0:
        return
    rows = np.concatenate([part[1] for part in far])
    weights = np.concatenate([part[2] for part in far])
    labels = np.concatenate([part[3] for part in far])
    for new_cluster, far in zip(empty, np.argsort(-distances, kind="stable"), strict=False):
        move_to_empty_cluster(
            center_sums, cluster_weights, rows[far], weights[far], labels[far], new_cluster
        )


def run_chunks(chunks, centers_init, algorithm, max_iter, tol, verbose):
    """One run from ``centers_init`` (in the frame the chunks are centered in, see
    :meth:`~._chunked.RowChunks.center`).

    Returns ``(labels, inertia, centers, n_iter, cluster_sizes)`` where ``labels`` is one
    persisted delayed int32 array per chunk: the workers keep them, nothing of size n comes
    back.
    """
    centers = np.array(centers_init, dtype=chunks.dtype, order="C")
    runs, before, strict_convergence = None, None, False
    for iteration in range(max_iter):
        runs, results = chunks.map_kept(assign_step, algorithm, before, centers, states=runs)
        n_changed, center_sums, cluster_weights = merged_sums(results)
        reseeded = not cluster_weights.all()
        if reseeded:
            relocate_empty_clusters(chunks, runs, centers, center_sums, cluster_weights)
        centers_new = centers_from_sums(center_sums, cluster_weights, chunks.dtype)
        shift = squared_center_shift(centers, centers_new)
        before, centers = centers, centers_new
        if verbose:
            print(f"Iteration {iteration}: {n_changed} labels changed, center shift {shift}.")
        if n_changed == 0:
            strict_convergence = True
            break
        if shift <= tol:
            break
    reassign = not strict_convergence or reseeded
    labels, finished = chunks.map_kept(finish_run, before, centers, reassign, states=runs)
    inertia = sum(inertia for inertia, _ in finished)
    cluster_sizes = np.sum([sizes for _, sizes in finished], axis=0)
    return labels, float(inertia), centers, iteration + 1, cluster_sizes
