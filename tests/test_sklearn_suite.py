"""scikit-learn's own K-Means tests, run against ours (issue 24: a drop-in at every dimension).

The installed scikit-learn's ``sklearn/cluster/tests/test_k_means.py`` runs in a child
pytest, with ``KMeans``, ``k_means`` and ``kmeans_plusplus`` pointing at ours (see
``tests/sklearn_suite_plugin.py``: the file is read at run time, never copied).  Its
``MiniBatchKMeans`` tests are deselected, and so are the tests in :data:`PRIVATE_INTERNALS`,
which read scikit-learn's private internals rather than the public API.  Every other test
must pass, its sparse-input cases included.
"""

import json
import os
import subprocess
import sys
from collections import Counter
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

#: Tests that read scikit-learn's private internals, deselected, each with why, and where
#: what it checks is checked through our public API.
PRIVATE_INTERNALS = {
    "test_kmeans_init_auto_with_initial_centroids": (
        "reads the private `_n_init` attribute; the n_init='auto' rule (1 run for k-means++ "
        "and an array, 10 for 'random' and a callable) is test_api.py's "
        "test_n_init_auto_rule and test_n_init_auto_with_a_callable_or_an_array"
    ),
    "test_n_init_auto": "reads the private `_n_init` attribute (see the test above)",
    "test_sample_weight_init": (
        "calls the private `KMeans._init_centroids(X, x_squared_norms, ...)`; that the "
        "seeds depend on the weights is test_seeding.py's "
        "test_same_indices_as_sklearn_with_weights_and_trials"
    ),
    "test_sample_weight_zero": (
        "calls the private `KMeans._init_centroids`; test_weights.py's "
        "test_kmeans_plusplus_never_picks_a_zero_weight_sample checks it on ours"
    ),
    "test_relocate_empty_clusters": (
        "calls scikit-learn's private `_relocate_empty_clusters_dense/_sparse` "
        "(sklearn.cluster._k_means_common); no KMeans of ours runs"
    ),
    "test_euclidean_distance": (
        "calls scikit-learn's private `_euclidean_dense_dense_wrapper` and "
        "`_euclidean_sparse_dense_wrapper`; no KMeans of ours runs"
    ),
    "test_inertia": (
        "calls scikit-learn's private `_inertia_dense` and `_inertia_sparse`; "
        "no KMeans of ours runs"
    ),
    "test_is_same_clustering": (
        "calls scikit-learn's private `_is_same_clustering`; ours, "
        "kmeans_scratch._fit.is_same_clustering, is tested through the n_init loop"
    ),
}

#: Fewer tests run (passed) than this means the loader lost part of the file: 170 run and
#: pass with scikit-learn 1.9.1.
MIN_TESTS_RUN, MIN_TESTS_PASSED = 150, 150


def sklearn_test_file():
    """The installed scikit-learn's K-Means test file."""
    (package,) = find_spec("sklearn").submodule_search_locations
    return Path(package) / "cluster" / "tests" / "test_k_means.py"


def run_suite(tmp_path):
    """Run the file against ours in a child pytest; its report (see the plugin)."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # none of this repository's options
    report = tmp_path / "outcomes.json"
    command = [
        sys.executable, "-m", "pytest", str(sklearn_test_file()),
        "-p", "tests.sklearn_suite_plugin", "-p", "no:cacheprovider",
        "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path),
        f"--sklearn-suite-report={report}", "--tb=short", "-q",
    ]  # fmt: skip
    for name in PRIVATE_INTERNALS:
        command.append(f"--sklearn-suite-private={name}")
    env = {
        **os.environ,
        "SKLEARN_SEED": os.environ.get("SKLEARN_SEED", "0"),  # else a random global seed
        "SKLEARN_RUN_FLOAT32_TESTS": "1",  # we fit float32 as float32: test it too
    }
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert report.exists(), f"the child pytest wrote no report:\n{done.stdout[-3000:]}"
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(report.read_text())


def test_the_suite_file_is_found():
    assert sklearn_test_file().is_file()


@pytest.mark.slow
def test_sklearn_k_means_tests_pass_on_ours(tmp_path):
    """Every test of KMeans, k_means and kmeans_plusplus passes, but the private ones."""
    report = run_suite(tmp_path)
    tests = report["tests"]

    def function(name):
        return name.split("[", 1)[0]

    deselected = {function(name) for name in report["deselected"]}
    assert not set(PRIVATE_INTERNALS) - deselected, "not in scikit-learn's file any more"
    assert not set(PRIVATE_INTERNALS) & {function(name) for name in tests}
    outcomes = Counter(test["outcome"] for test in tests.values())
    assert len(tests) >= MIN_TESTS_RUN and outcomes["passed"] >= MIN_TESTS_PASSED, outcomes

    failed = [
        f"{name}: {test['outcome']}: {' | '.join(test['errors'][:3])}"
        for name, test in sorted(tests.items())
        if test["outcome"] not in ("passed", "skipped")
    ]
    assert not failed, "scikit-learn's tests that fail on ours:\n" + "\n".join(failed)
    assert any(test["sparse"] for test in tests.values()), "no sparse case ran"
