"""Fixtures shared by the tests."""

import numpy as np
import pytest

from kmeans_scratch._fit import ALGORITHMS


@pytest.fixture(params=[np.float64, np.float32], ids=["float64", "float32"])
def dtype(request):
    return request.param


@pytest.fixture(params=sorted(ALGORITHMS))
def algorithm(request):
    """Every iteration the library offers; each must give Lloyd's (= scikit-learn's) answer."""
    return request.param
