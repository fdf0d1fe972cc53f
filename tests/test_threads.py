"""Fits from several Python threads at once give the results of fits one at a time."""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from kmeans_scratch import KMeans, kmeans_plusplus

ALGORITHMS = ["lloyd", "hamerly", "elkan", "lloyd"]

# The bounds' own code, on data where a fit would run Lloyd's step instead (see conftest).
pytestmark = pytest.mark.usefixtures("bounds_everywhere")

CONCURRENT_FITS = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
import numpy as np
from kmeans_scratch import KMeans, _bounds, _fit

# as bounds_everywhere does
_fit.elkan_pays = lambda dtype, n_features, n_clusters: True
_bounds.BoundedAssignment.bounds_only_where_they_pay = False
rng = np.random.RandomState(0)
data = [rng.normal(size=(20_000, 3)) for _ in range(4)]
algorithms = {algorithms!r}

def fit(i):
    return KMeans(16, random_state=0, algorithm=algorithms[i]).fit(data[i]).inertia_

with ThreadPoolExecutor(4) as pool:
    print(json.dumps(list(pool.map(fit, range(4)))))
"""


def data_sets():
    rng = np.random.RandomState(0)
    return [rng.normal(size=(20_000, 3)) for _ in range(4)]


def test_concurrent_fits_equal_fits_one_at_a_time():
    data = data_sets()

    def fit(i):
        fitted = KMeans(16, random_state=0, algorithm=ALGORITHMS[i]).fit(data[i])
        seeds = kmeans_plusplus(data[i], 8, random_state=i)[1]
        return fitted.labels_, fitted.cluster_centers_, fitted.predict(data[i][::7]), seeds

    alone = [fit(i) for i in range(4)]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(fit, [0, 1, 2, 3, 0, 1, 2, 3]))
    for i, result in enumerate(together):
        for got, expected in zip(result, alone[i % 4], strict=True):
            np.testing.assert_array_equal(got, expected)


def test_workqueue_layer_is_serialized_not_aborted():
    """Numba's workqueue layer aborts the process on concurrent launches; ours runs them
    one at a time (in a child process, since the layer is chosen once per process)."""
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue"}
    script = CONCURRENT_FITS.format(algorithms=ALGORITHMS)
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr
    data = data_sets()
    expected = [
        KMeans(16, random_state=0, algorithm=ALGORITHMS[i]).fit(data[i]).inertia_ for i in range(4)
    ]
    assert json.loads(run.stdout) == expected
