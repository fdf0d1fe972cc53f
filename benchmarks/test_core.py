"""Issue 2's speed target: our Lloyd iterations against scikit-learn's, same init, same work."""

import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans as SklearnKMeans

from kmeans_scratch import KMeans

from .conftest import tiled_china

LIBRARIES = {"kmeans_scratch": KMeans, "scikit-learn": SklearnKMeans}


@pytest.fixture(scope="module")
def pixels(smoke):
    """``china.jpg`` tiled to 1.1 million pixels (20,000 in the smoke run)."""
    return tiled_china(20_000 if smoke else 1_100_000)


@pytest.mark.parametrize("library", list(LIBRARIES))
@pytest.mark.parametrize("k", [16, 64, 256])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lloyd_iterations(benchmark, recorder, smoke, pixels, dtype, k, library):
    X = pixels.astype(dtype)
    init = X[np.random.RandomState(k).choice(X.shape[0], k, replace=False)]
    estimator = LIBRARIES[library](k, init=init, n_init=1, tol=0, max_iter=20)
    with warnings.catch_warnings():  # the first 5,000 rows hold fewer than k colors
        warnings.simplefilter("ignore")
        LIBRARIES[library](8, init=init[:8], n_init=1, max_iter=1).fit(X[:5000])  # warm up
    fitted = benchmark.pedantic(estimator.fit, args=(X,), rounds=3, iterations=1)
    assert fitted.n_iter_ == 20 or smoke  # the 20,000 smoke pixels may converge sooner
    benchmark.extra_info["inertia"] = fitted.inertia_
    recorder.add(
        "lloyd-iterations",
        benchmark,
        library=library,
        dtype=dtype,
        k=k,
        n_rows=X.shape[0],
        inertia=fitted.inertia_,
    )


FIRST_FIT = """
import time
import numpy as np
from kmeans_scratch import KMeans
X = np.random.RandomState(0).normal(size=(1000, 3))
start = time.perf_counter()
KMeans(8, random_state=0).fit(X)
print(time.perf_counter() - start)
"""


@pytest.mark.parametrize("cache", ["empty (cold compile)", "warm (left by the first process)"])
def test_first_fit_in_a_new_process(benchmark, recorder, numba_cache_dir, cache):
    """The first ``fit`` of a new process, timed inside that process (imports excluded)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": numba_cache_dir}
    if cache.startswith("empty"):
        shutil.rmtree(numba_cache_dir)
        os.mkdir(numba_cache_dir)

    def first_fit():
        result = subprocess.run(
            [sys.executable, "-c", FIRST_FIT], env=env, capture_output=True, text=True, check=True
        )
        return float(result.stdout)

    seconds = benchmark.pedantic(first_fit, rounds=1, iterations=1)
    recorder.add_seconds("compile", benchmark, seconds, cache=cache)


@pytest.fixture(scope="module")
def numba_cache_dir():
    with tempfile.TemporaryDirectory() as directory:
        yield directory
