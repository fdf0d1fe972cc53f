"""One run of batch K-Means, whatever the assignment step: the loop every algorithm shares.

:func:`run_iterations` alternates

1. the assignment step (E-step), given as an object: Lloyd's (``_lloyd``), Hamerly's
   (``_hamerly``) or Elkan's (``_elkan``), each of which labels the samples and sums
   each cluster's samples and weights in one pass;
2. the update (M-step): c_j = Σ_{i: l_i = j} w_i x_i / Σ_{i: l_i = j} w_i, after giving
   each empty cluster the sample farthest from its own center, as scikit-learn does;

and stops when no label changes (strict convergence), when the total squared center
shift Σ_j ‖c_j(new) − c_j(old)‖² falls to ``tol`` or below, or after ``max_iter``
iterations; one more assignment then makes the labels agree with the returned centers.
Every assignment step gives the same labels, so the three algorithms go through the same
centers and stop at the same iteration.  The same loop in plain NumPy:
:func:`kmeans_scratch.reference.lloyd`.
"""

import numpy as np

from . import _distances, _sparse


def inertia_of_labels(X, sample_weight, centers, labels):
    """Σ_i w_i ‖x_i − c_{l_i}‖², in float64, for dense or CSR rows."""
    if _sparse.is_sparse(X):
        return _sparse.SparseRows(X, sample_weight).inertia_of_labels(centers, labels)
    return _distances.inertia_of_labels(X, sample_weight, centers, labels)


def sq_distances_to_assigned(X, centers, labels):
    """``‖x_i − c_{l_i}‖²`` of every row, dense or CSR."""
    distances = np.empty(X.shape[0], dtype=np.float64 if _sparse.is_sparse(X) else X.dtype)
    if _sparse.is_sparse(X):
        _sparse.SparseRows(X, None).sq_distances_to_assigned(centers, labels, distances)
    else:
        _distances.sq_distances_to_assigned(X, centers, labels, distances)
    return distances


def dense_row(X, i):
    return X[[i]].toarray()[0] if _sparse.is_sparse(X) else X[i]


def relocate_empty_clusters(X, sample_weight, centers_old, labels, center_sums, cluster_weights):
    """Give every empty cluster one of the samples farthest from their own centers.

    The ``n_empty`` samples with the largest ‖x_i − c_{l_i}‖² are
    moved, the farthest to the first empty cluster, and the sums and weights are
    corrected in place.  Nothing happens when every sample sits on its center (more
    clusters than distinct samples).  Same choice and order as scikit-learn.
    """
    empty = np.flatnonzero(cluster_weights == 0)
    if empty.size == 0:
        return
    distances = sq_distances_to_assigned(X, centers_old, labels)
    if distances.max() == 0:
        return
    farthest = np.argpartition(distances, -empty.size)[: -empty.size - 1 : -1]
    for new_cluster, far in zip(empty, farthest, strict=True):
        move_to_empty_cluster(
            center_sums,
            cluster_weights,
            dense_row(X, far),
            sample_weight[far],
            labels[far],
            new_cluster,
        )


def move_to_empty_cluster(center_sums, cluster_weights, row, weight, old_cluster, new_cluster):
    """Move one ``row`` of ``weight`` from ``old_cluster`` into the empty ``new_cluster``:
    its w·x and w leave the old cluster's sums and become the new one's (float64)."""
    weight = np.float64(weight)
    center_sums[old_cluster] -= row * weight
    center_sums[new_cluster] = row * weight
    cluster_weights[new_cluster] = weight
    cluster_weights[old_cluster] -= weight


def centers_from_sums(center_sums, cluster_weights, dtype):
    """The M-step: c_j = s_j · (1 / W_j) for every cluster of positive weight W_j.

    A cluster still empty after relocation (only possible with fewer distinct samples
    than clusters) is put on the center of the heaviest cluster.
    """
    centers = np.empty(center_sums.shape, dtype=dtype)
    filled = cluster_weights > 0
    centers[filled] = center_sums[filled] * (1.0 / cluster_weights[filled])[:, None]
    if not filled.all():
        centers[~filled] = centers[np.argmax(cluster_weights)]
    return centers


def update_centers(X, sample_weight, centers_old, labels, center_sums, cluster_weights):
    """Relocate empty clusters, then average: the new centers of one Lloyd iteration."""
    relocate_empty_clusters(X, sample_weight, centers_old, labels, center_sums, cluster_weights)
    return centers_from_sums(center_sums, cluster_weights, X.dtype)


def squared_center_shift(centers_old, centers_new):
    """Total squared shift Σ_j ‖c_j(new) − c_j(old)‖²."""
    return float(((centers_new.astype(np.float64) - centers_old) ** 2).sum())


def run_iterations(
    X, sample_weight, centers_init, max_iter, verbose, tol, assignment, rows_merged=False,
    snap=None,
):  # fmt: skip
    """One run of batch K-Means from ``centers_init`` with the given assignment step.

    Returns ``(labels, inertia, centers, n_iter)`` with the same meaning as scikit-learn's
    private ``_kmeans_single_lloyd``.  Every assignment step gives the same labels, so
    every algorithm goes through the same centers and stops at the same iteration.

    With ``rows_merged`` each row of ``X`` stands for all the copies of a repeated row.
    Re-seeding an empty cluster moves *one* copy, which a merged row cannot do, so the
    run stops and returns None as soon as a cluster ends an assignment step empty: the
    caller runs again on every row.

    ``snap``, if given, maps the final centers to the ones returned (the image layer's
    8-bit palette entries): the last assignment is then to those, and the labels and the
    inertia are theirs.
    """
    n_clusters, n_features = centers_init.shape
    centers = np.array(centers_init, dtype=X.dtype, order="C")
    labels = np.full(X.shape[0], -1, dtype=np.int32)
    center_sums = np.empty((n_clusters, n_features))
    cluster_weights = np.empty(n_clusters)
    strict_convergence = False
    for iteration in range(max_iter):
        n_changed = assignment.assign_and_accumulate(centers, labels, center_sums, cluster_weights)
        reseeded = not cluster_weights.all()
        if rows_merged and reseeded:
            return None
        if verbose:
            inertia = inertia_of_labels(X, sample_weight, centers, labels)
            print(f"Iteration {iteration}, inertia {inertia}.")
        centers_new = update_centers(
            X, sample_weight, centers, labels, center_sums, cluster_weights
        )
        shift = squared_center_shift(centers, centers_new)
        assignment.centers_moved(centers, centers_new)
        stepped, centers = centers, centers_new
        if n_changed == 0:
            if verbose:
                print(f"Converged at iteration {iteration}: strict convergence.")
            strict_convergence = True
            break
        if shift <= tol:
            if verbose:
                print(
                    f"Converged at iteration {iteration}: center shift {shift} "
                    f"within tolerance {tol}."
                )
            break
    snapped = False
    if snap is not None:
        centers_snapped = np.asarray(snap(centers), dtype=X.dtype)
        snapped = not np.array_equal(centers_snapped, centers)
        if snapped:  # the bounds follow the move from the centers of the last step
            assignment.centers_moved(stepped, centers_snapped)
            centers = centers_snapped
    # The labels of the final centers: one more E-step.  Re-seeding moves centers after
    # the labels were taken, so strict convergence then needs it too (scikit-learn skips
    # it, and its labels can disagree with its centers).
    if not strict_convergence or reseeded or snapped:
        assignment.assign_and_accumulate(centers, labels, center_sums, cluster_weights)
    inertia = inertia_of_labels(X, sample_weight, centers, labels)
    return labels, inertia, centers, iteration + 1
