"""Fixtures shared by the tests."""

import os

import numpy as np
import pytest

from kmeans_scratch import _fit
from kmeans_scratch._bounds import BoundedAssignment
from kmeans_scratch._fit import ALGORITHMS
from kmeans_scratch._kernels import QUIET_COMPILE

# The line that announces a compile is tested on its own (test_kernel_cache.py); elsewhere
# it would be in the standard error that tests of the command compare.
os.environ.setdefault(QUIET_COMPILE, "1")


@pytest.fixture(params=[np.float64, np.float32], ids=["float64", "float32"])
def dtype(request):
    return request.param


@pytest.fixture(params=sorted(ALGORITHMS))
def algorithm(request):
    """Every iteration the library offers, each run as itself (Hamerly's and Elkan's bounds
    even where a fit would run Lloyd's step instead: :func:`bounds_everywhere`); each must
    give Lloyd's (= scikit-learn's) answer."""
    if request.param != "lloyd":
        request.getfixturevalue("bounds_everywhere")
    return request.param


@pytest.fixture
def elkan_assignments(monkeypatch):
    """The shapes of the rows each of Elkan's assignment steps was made for, in a list
    that grows as fits run (an empty list: the shape of the rows sent every fit to
    Lloyd's step; a step made may still find that its bounds do not pay, see
    :class:`kmeans_scratch._bounds.BoundedAssignment`)."""
    made = []
    elkan = ALGORITHMS["elkan"]

    def spied_elkan(X, *args):
        made.append(X.shape)
        return elkan(X, *args)

    monkeypatch.setitem(ALGORITHMS, "elkan", spied_elkan)
    return made


@pytest.fixture
def bounds_everywhere(monkeypatch):
    """``algorithm="hamerly"`` and ``"elkan"`` run their bounds on any dense rows, not only
    where they pay (Elkan's by :func:`kmeans_scratch._fit.elkan_pays`, the shape of the
    rows; both, on wide rows, by the rows themselves after Lloyd's first step:
    :class:`kmeans_scratch._bounds.BoundedAssignment`): for the tests of their own code.
    ``algorithm="lloyd"``, the oracle they are held to, runs Lloyd's step everywhere (on
    wide rows with many clusters it would run Hamerly's: ``_fit.resolve_algorithm``)."""
    monkeypatch.setattr(_fit, "elkan_pays", lambda dtype, n_features, n_clusters: True)
    monkeypatch.setattr(BoundedAssignment, "bounds_only_where_they_pay", False)
    monkeypatch.setattr(_fit, "lloyd_runs_hamerly", lambda *shape: False)


@pytest.fixture(scope="module")
def cluster_client():
    """A Dask LocalCluster of two worker processes of one thread each (one per core here),
    and a client of it, shared by a module's tests."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client
