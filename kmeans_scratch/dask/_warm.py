"""What the package build warms of a Dask fit, just in time: the calls a Python session
makes, compiled once into Numba's cache by ``python -m kmeans_scratch.build_kernels
--warm`` (a worker of one thread runs the ahead-of-time module instead: ``_compiled``).

The kernels of the k-means|| passes are Dask's own, and import without Dask: they are
warmed on NumPy arrays (:func:`warm_seeding_passes`), so that they are in the cache of a
``pip install`` too, whose isolated build has no Dask.  Where Dask is installed, whole
fits on Dask arrays are warmed as well (:func:`warm_fits`)."""

import sys

import numpy as np

from .._engine import MissingExtra, require
from ._seeding import nearest_weights, sampling_round


def warm_just_in_time():
    """The k-means|| passes, then, where Dask is installed, whole fits."""
    warm_seeding_passes()
    try:
        require("dask", "kmeans_scratch.dask")
    except MissingExtra as error:
        print(f"{__name__} left out the fits on Dask arrays: {error}", file=sys.stderr)
        return
    warm_fits()


def warm_seeding_passes():
    """A chunk's k-means|| rounds and the candidates' weights, in float64 and float32,
    with the argument types a fit gives them (its prepared rows and weights)."""
    random = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        rows = random.normal(size=(1_000, 3)).astype(dtype)
        weights = np.ones(rows.shape[0], dtype=dtype)
        first = rows[:1].copy()
        closest, (_, drawn, _) = sampling_round(None, rows, weights, first, 0, 16.0, 0)
        nearest_weights(closest, rows, weights, drawn, 1, 1 + drawn.shape[0])


def warm_fits():
    """A fit on a Dask array as a Python session runs it on the threaded scheduler (and a
    worker of several threads): Lloyd's and Hamerly's iterations in float64 and float32,
    on narrow rows and on wide rows (BLAS), with ``predict``, ``transform`` and ``score``,
    on small data (Elkan's bounds run on the chunks with the kernels of the in-memory fit,
    which the core warms)."""
    import dask
    import dask.array as da

    from ._estimator import KMeans

    random = np.random.default_rng(0)
    with dask.config.set(scheduler="threads"):
        for rows in (random.normal(size=(4_000, 3)), random.normal(size=(2_000, 32))):
            for dtype in (np.float64, np.float32):
                X = da.from_array(rows.astype(dtype), chunks=rows.shape[0] // 4)
                for algorithm in ("lloyd", "hamerly"):
                    fitted = KMeans(8, algorithm=algorithm, max_iter=3, random_state=0).fit(X)
                fitted.predict(X).compute(), fitted.transform(X).compute(), fitted.score(X)
