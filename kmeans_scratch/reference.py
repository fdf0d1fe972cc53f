"""The algorithms of this library in plain NumPy, one page each: read these first.

The fast path (``_lloyd``, ``_hamerly``, ``_elkan``, ``_seeding``) computes the same things
with Numba kernels, tiles of rows, SIMD and bounds kept per block; these functions are its
second oracle beside scikit-learn (``tests/test_reference.py``): from the same centers they
give the same labels and number of iterations, and centers equal to 1e-10.

Conventions shared with the fast path:

- ``tol`` is relative, as scikit-learn's: a run stops when the centers moved, in all,
  Σ_j ‖c_j′ − c_j‖² ≤ tol · (the mean over the features of the weighted variance of X;
  scikit-learn takes the unweighted variance even with weights, so with weights a run
  may stop at another iteration than scikit-learn's, docs/limits.md);
  or when no label changed (strict convergence); or after ``max_iter`` iterations.
- Ties go to the lowest center index (``argmin``).
- A cluster left empty takes the sample farthest from its own center (scikit-learn's rule);
  one still empty (every sample on its center: fewer distinct samples than clusters) is
  put on the center of the heaviest cluster.
- The labels returned are those of the final centers, and ``inertia = Σ_i w_i ‖x_i − c_{l_i}‖²``.
"""

import numpy as np

from ._validation import check_random_state


def squared_distances(X, centers):
    """(n, k): ‖x_i − c_j‖² for every sample and center (no ‖x‖² − 2x·c + ‖c‖² cancellation)."""
    return ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)


def absolute_tolerance(X, weights, tol):
    """tol · mean_f Var_w(X_f), the weighted variance Σ_i w_i (x_if − x̄_f)² / Σ_i w_i."""
    mean = np.average(X, axis=0, weights=weights)
    return tol * np.average((X - mean) ** 2, axis=0, weights=weights).mean()


def new_centers(X, weights, labels, centers):
    """The M-step: each center the weighted mean of its samples, c_j = Σ_{l_i=j} w_i x_i / W_j.

    An empty cluster first takes the sample farthest from its current center (the
    farthest to the first empty cluster, as scikit-learn does); one still empty, where
    every sample sits on its center, goes to the heaviest cluster's center.
    """
    k = centers.shape[0]
    labels = labels.copy()
    cluster_weights = np.bincount(labels, weights, minlength=k)
    empty = np.flatnonzero(cluster_weights == 0)
    if empty.size:
        distances = ((X - centers[labels]) ** 2).sum(axis=1)
        if distances.max() > 0:
            farthest = np.argpartition(distances, -empty.size)[: -empty.size - 1 : -1]
            labels[farthest] = empty
            cluster_weights = np.bincount(labels, weights, minlength=k)
    sums = np.zeros_like(centers)
    np.add.at(sums, labels, X * weights[:, None])
    filled = cluster_weights > 0
    result = centers.copy()
    result[filled] = sums[filled] / cluster_weights[filled, None]
    result[~filled] = result[np.argmax(cluster_weights)]
    return result


def prepared(X, centers, sample_weight):
    X = np.asarray(X, dtype=np.float64)
    weights = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    return X, np.array(centers, dtype=np.float64), weights


def lloyd(X, centers, sample_weight=None, max_iter=300, tol=1e-4):
    """Lloyd's algorithm (Lloyd 1982): alternate the two steps that each lower the inertia

        E-step  l_i ← argmin_j ‖x_i − c_j‖²            (every sample against every center)
        M-step  c_j ← Σ_{l_i = j} w_i x_i / Σ_{l_i = j} w_i

    from the given ``centers`` until the stopping rule of the module's docstring.
    Returns ``(centers, labels, inertia, n_iter)``.
    """
    X, centers, weights = prepared(X, centers, sample_weight)
    abs_tol = absolute_tolerance(X, weights, tol)
    labels = np.full(X.shape[0], -1)
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (the count is returned)
        nearest = squared_distances(X, centers).argmin(axis=1)  # E-step
        changed = np.count_nonzero(nearest != labels)
        labels = nearest
        moved = new_centers(X, weights, labels, centers)  # M-step
        shift = ((moved - centers) ** 2).sum()
        centers = moved
        if changed == 0 or shift <= abs_tol:
            break
    return finish(X, weights, centers, n_iter)


def finish(X, weights, centers, n_iter):
    """The labels of the final centers and their inertia: ``(centers, labels, inertia, n_iter)``."""
    distances = squared_distances(X, centers)
    labels = distances.argmin(axis=1)
    inertia = (weights * distances[np.arange(X.shape[0]), labels]).sum()
    return centers, labels, inertia, n_iter


#: A bound must win by this factor before a distance is skipped: the bounds are updated in
#: floating point, and a rounding must never skip a sample whose nearest center changed.
SAFE = 1.0 - 1e-9


def half_gaps(centers):
    """(k, k) half distances between centers, and s_j = ½ min_{j′≠j} ‖c_j − c_j′‖."""
    half = np.sqrt(squared_distances(centers, centers)) / 2
    np.fill_diagonal(half, np.inf)
    return half, half.min(axis=1)


def hamerly(X, centers, sample_weight=None, max_iter=300, tol=1e-4, counts=None):
    """Hamerly's algorithm (Hamerly 2010): Lloyd's iterations and labels, with most
    distances skipped thanks to two bounds per sample,

        u_i ≥ ‖x_i − c_{l_i}‖           (upper, to its own center)
        ℓ_i ≤ min_{j ≠ l_i} ‖x_i − c_j‖  (lower, to every other center).

    With s_j = ½ min_{j′≠j} ‖c_j − c_j′‖, sample i keeps its label without a distance when
    u_i ≤ max(s_{l_i}, ℓ_i) (triangle inequality); else u_i is made exact and tested again;
    else all k distances give its label, u_i and ℓ_i.  After the M-step, with p_j how far
    center j moved, the bounds stay valid as u_i += p_{l_i} and ℓ_i −= max_{j≠l_i} p_j.
    Returns ``(centers, labels, inertia, n_iter)``, Lloyd's; a list given as ``counts``
    gets the number of sample–center distances computed in each iteration (Lloyd: n·k).
    """
    X, centers, weights = prepared(X, centers, sample_weight)
    abs_tol = absolute_tolerance(X, weights, tol)
    n_samples = X.shape[0]
    labels = np.full(n_samples, -1)
    upper, lower = np.full(n_samples, np.inf), np.zeros(n_samples)
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (the count is returned)
        _, s = half_gaps(centers)
        own = np.maximum(labels, 0)  # no label yet (−1): any s, since u = ∞ measures it
        check = upper > SAFE * np.maximum(s[own], lower)
        tighten = np.flatnonzero(check & (labels >= 0))
        upper[tighten] = np.sqrt(((X[tighten] - centers[labels[tighten]]) ** 2).sum(axis=1))
        check[tighten] = upper[tighten] > SAFE * np.maximum(s[own[tighten]], lower[tighten])
        rows = np.flatnonzero(check)
        if counts is not None:
            counts.append(tighten.size + rows.size * centers.shape[0])
        distances = squared_distances(X[rows], centers)
        nearest = distances.argmin(axis=1)
        changed = np.count_nonzero(nearest != labels[rows])
        labels[rows] = nearest
        upper[rows] = np.sqrt(distances[np.arange(rows.size), nearest])
        distances[np.arange(rows.size), nearest] = np.inf
        lower[rows] = np.sqrt(distances.min(axis=1))
        moved = new_centers(X, weights, labels, centers)
        shift = ((moved - centers) ** 2).sum()
        movement = np.sqrt(((moved - centers) ** 2).sum(axis=1))
        centers = moved
        largest = int(np.argmax(movement))
        second = np.max(np.delete(movement, largest)) if movement.size > 1 else 0.0
        upper += movement[labels]
        lower -= np.where(labels == largest, second, movement[largest])
        if changed == 0 or shift <= abs_tol:
            break
    return finish(X, weights, centers, n_iter)


def elkan(X, centers, sample_weight=None, max_iter=300, tol=1e-4, counts=None):
    """Elkan's algorithm (Elkan 2003): Lloyd's iterations and labels, with a lower bound per
    sample *and center*, ℓ_ij ≤ ‖x_i − c_j‖, and an upper bound u_i ≥ ‖x_i − c_{l_i}‖.

    Center j is skipped for sample i when u_i ≤ ℓ_ij or u_i ≤ ½ ‖c_{l_i} − c_j‖ (it cannot
    be nearer than the sample's own center), the whole sample when u_i ≤ s_{l_i}.  Where a
    center is not skipped, u_i is made exact first, then the distance computed.  After the
    M-step ℓ_ij −= p_j (at least 0) and u_i += p_{l_i}.  Returns Lloyd's
    ``(centers, labels, inertia, n_iter)``; a list given as ``counts`` gets the number of
    sample–center distances computed in each iteration.
    """
    X, centers, weights = prepared(X, centers, sample_weight)
    abs_tol = absolute_tolerance(X, weights, tol)
    n_samples, n_clusters = X.shape[0], centers.shape[0]
    rows = np.arange(n_samples)
    distances = squared_distances(X, centers)  # the first E-step computes every distance
    labels = distances.argmin(axis=1)
    lower = np.sqrt(distances)
    upper = lower[rows, labels].copy()
    changed = n_samples
    if counts is not None:
        counts.append(n_samples * n_clusters)
    for n_iter in range(1, max_iter + 1):
        if n_iter > 1:
            half, s = half_gaps(centers)
            maybe = (upper > SAFE * s[labels])[:, None] & (upper[:, None] > SAFE * lower)
            maybe &= upper[:, None] > SAFE * half[labels]
            maybe[rows, labels] = False
            tighten = np.flatnonzero(maybe.any(axis=1))
            own_squared = ((X[tighten] - centers[labels[tighten]]) ** 2).sum(axis=1)
            upper[tighten] = np.sqrt(own_squared)
            lower[tighten, labels[tighten]] = upper[tighten]
            maybe &= (upper[:, None] > SAFE * lower) & (upper[:, None] > SAFE * half[labels])
            i, j = np.nonzero(maybe)
            if counts is not None:
                counts.append(tighten.size + i.size)
            squared = np.full((n_samples, n_clusters), np.inf)
            squared[i, j] = ((X[i] - centers[j]) ** 2).sum(axis=1)
            lower[i, j] = np.sqrt(squared[i, j])
            squared[tighten, labels[tighten]] = own_squared
            nearest = np.where(maybe.any(axis=1), squared.argmin(axis=1), labels)
            changed = np.count_nonzero(nearest != labels)
            moved_rows = np.flatnonzero(nearest != labels)
            labels = nearest
            upper[moved_rows] = lower[moved_rows, labels[moved_rows]]
        moved = new_centers(X, weights, labels, centers)
        shift = ((moved - centers) ** 2).sum()
        movement = np.sqrt(((moved - centers) ** 2).sum(axis=1))
        centers = moved
        lower = np.maximum(lower - movement, 0.0)
        upper += movement[labels]
        if changed == 0 or shift <= abs_tol:
            break
    return finish(X, weights, centers, n_iter)


def kmeans_plusplus(X, n_clusters, sample_weight=None, random_state=None, n_local_trials=None):
    """Greedy k-means++ (Arthur & Vassilvitskii 2007, as scikit-learn does it).

    The first center is a sample drawn with probability w_i / Σ w.  Then, with D(x)² the
    squared distance to the nearest chosen center and φ = Σ_i w_i D(x_i)² the potential,
    each next center is the best of ``n_local_trials`` (2 + ⌊ln k⌋) candidates drawn with
    probability w_i D(x_i)² / φ: the one that leaves the smallest potential.  The same
    NumPy draws in the same order as scikit-learn's, so the same ``random_state`` picks
    the same rows.  Returns ``(centers, indices)``.
    """
    X = np.asarray(X, dtype=np.float64)
    n_samples = X.shape[0]
    weights = np.ones(n_samples) if sample_weight is None else np.asarray(sample_weight, float)
    random_state = check_random_state(random_state)
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    indices = [random_state.choice(n_samples, p=weights / weights.sum())]
    closest = ((X - X[indices[0]]) ** 2).sum(axis=1)  # D(x)²
    potential = closest @ weights
    for _ in range(1, n_clusters):
        targets = random_state.uniform(size=n_local_trials) * potential
        candidates = np.searchsorted(np.cumsum(weights * closest), targets)
        candidates = np.minimum(candidates, n_samples - 1)  # rounding can overshoot
        with_each = np.minimum(closest, squared_distances(X, X[candidates]).T)  # (trials, n)
        potentials = with_each @ weights
        best = int(np.argmin(potentials))
        indices.append(candidates[best])
        closest, potential = with_each[best], potentials[best]
    indices = np.array(indices)
    return X[indices], indices
