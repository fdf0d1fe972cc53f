"""What the package build warms of a Dask fit, just in time: the calls a Python session
makes, compiled once into Numba's cache by ``python -m kmeans_scratch.build_kernels
--warm`` (a worker of one thread runs the ahead-of-time module instead: ``_compiled``).
Without the ``[dask]`` extra this module does not import, and the build leaves it out."""

import numpy as np

from .._engine import require

require("dask", "kmeans_scratch.dask")

import dask  # noqa: E402  (after the check, which names the extra if they are missing)
import dask.array as da  # noqa: E402

from ._estimator import KMeans  # noqa: E402


def warm_just_in_time():
    """A fit on a Dask array as a Python session runs it on the threaded scheduler (and a
    worker of several threads): Lloyd's and Hamerly's iterations in float64 and float32,
    on narrow rows and on wide rows (BLAS), with ``predict``, ``transform`` and ``score``,
    on small data (Elkan's bounds run on the chunks with the kernels of the in-memory fit,
    which the core warms)."""
    random = np.random.default_rng(0)
    with dask.config.set(scheduler="threads"):
        for rows in (random.normal(size=(4_000, 3)), random.normal(size=(2_000, 32))):
            for dtype in (np.float64, np.float32):
                X = da.from_array(rows.astype(dtype), chunks=rows.shape[0] // 4)
                for algorithm in ("lloyd", "hamerly"):
                    fitted = KMeans(8, algorithm=algorithm, max_iter=3, random_state=0).fit(X)
                fitted.predict(X).compute(), fitted.transform(X).compute(), fitted.score(X)
