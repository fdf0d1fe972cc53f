"""A pytest plugin that runs scikit-learn's own K-Means tests against kmeans_scratch.

Used by ``tests/test_sklearn_suite.py``, which runs, in a child process::

    python -m pytest <installed sklearn>/cluster/tests/test_k_means.py \\
        -p tests.sklearn_suite_plugin --sklearn-suite-report=outcomes.json

The installed test file is read at run time, never copied.  Its module is built here
instead of imported: its leading imports run first, then ``KMeans``, ``k_means`` and
``kmeans_plusplus`` are replaced by ours, then the rest of the file runs.  So the tests
find our names both when they run and in their ``parametrize`` lists, which are evaluated
as the file is executed.  ``MiniBatchKMeans`` stays scikit-learn's, and its tests are
deselected, as are the tests named by ``--sklearn-suite-private``.  Every other test's
outcome, its error lines and whether it is given sparse input are written to the JSON
report, with the deselected tests, for the calling test to sort.
"""

import ast
import json
import sys
import types
from pathlib import Path

import pytest

#: The names the test file imports from ``sklearn.cluster`` that are ours to stand in for.
OURS = ("KMeans", "k_means", "kmeans_plusplus")

#: The module name under which the rebuilt test file is registered (not scikit-learn's, so
#: that importing ``sklearn.cluster.tests.test_k_means`` elsewhere still gets the original).
MODULE_NAME = "sklearn_suite_test_k_means"


def is_suite_file(path):
    return Path(path).name == "test_k_means.py" and Path(path).parent.parent.name == "cluster"


def build_module(path, config):
    """The test file as a module: its imports, then our names, then the rest."""
    source = Path(path).read_bytes()
    tree = ast.parse(source, filename=str(path))
    n_head = 0
    for node in tree.body:
        is_docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if not (is_docstring or isinstance(node, (ast.Import, ast.ImportFrom))):
            break
        n_head += 1
    head = ast.Module(body=tree.body[:n_head], type_ignores=[])
    rest = ast.Module(body=tree.body[n_head:], type_ignores=[])
    try:  # pytest's assertion messages, as for a test module it imports itself
        from _pytest.assertion.rewrite import rewrite_asserts

        rewrite_asserts(rest, source, str(path), config)
    except Exception:  # a private helper: without it, plain assertion errors
        pass

    module = types.ModuleType(MODULE_NAME)
    module.__file__ = str(path)
    sys.modules[MODULE_NAME] = module
    exec(compile(head, str(path), "exec"), module.__dict__)
    import kmeans_scratch

    for name in OURS:
        if name not in module.__dict__:
            raise RuntimeError(f"{path} no longer imports {name}: update the plugin")
        module.__dict__[name] = getattr(kmeans_scratch, name)
    exec(compile(rest, str(path), "exec"), module.__dict__)
    return module


class SuiteModule(pytest.Module):
    """scikit-learn's test file, built by :func:`build_module` instead of imported."""

    def _getobj(self):
        return build_module(self.path, self.config)


def pytest_addoption(parser):
    parser.addoption(
        "--sklearn-suite-report",
        default=None,
        help="write each test's outcome and error lines to this JSON file",
    )
    parser.addoption(
        "--sklearn-suite-private",
        action="append",
        default=[],
        help="deselect this test function (all its parametrizations); may be repeated",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path, parent):
    if is_suite_file(module_path):
        return SuiteModule.from_parent(parent, path=module_path)
    return None


def is_minibatch(item):
    """A test of ``MiniBatchKMeans`` (by name, or by its ``Estimator``/``Klass`` parameter)."""
    if "minibatch" in item.name.lower():
        return True
    params = getattr(getattr(item, "callspec", None), "params", {})
    return any(getattr(value, "__name__", None) == "MiniBatchKMeans" for value in params.values())


def function_name(item):
    return getattr(item, "originalname", item.name)


def is_sparse(item):
    """Whether a parameter of the test is a SciPy sparse matrix or array, or its class."""
    for value in getattr(getattr(item, "callspec", None), "params", {}).values():
        kind = value if isinstance(value, type) else type(value)
        if kind.__module__.startswith("scipy.sparse"):
            return True
    return False


def pytest_collection_modifyitems(config, items):
    private = set(config.getoption("--sklearn-suite-private"))
    kept, deselected = [], []
    for item in items:
        if is_minibatch(item) or function_name(item) in private:
            deselected.append(item)
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


class Outcomes:
    """Each test's outcome (passed, failed, skipped, xfailed, xpassed, error) and message."""

    def __init__(self, path):
        self.path = path
        self.tests = {}
        self.deselected = []
        self.sparse = set()

    @pytest.hookimpl
    def pytest_deselected(self, items):
        self.deselected.extend(item.name for item in items)

    @pytest.hookimpl
    def pytest_collection_finish(self, session):
        self.sparse = {item.name for item in session.items if is_sparse(item)}

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report):
        name = report.nodeid.split("::", 1)[-1]
        if report.when == "call" or report.outcome != "passed":
            outcome = report.outcome
            if hasattr(report, "wasxfail"):
                outcome = "xfailed" if report.skipped else "xpassed"
            elif report.when != "call" and report.failed:
                outcome = "error"
            if name in self.tests and self.tests[name]["outcome"] != "passed":
                return  # keep the first failure (a teardown error after a failed call)
            self.tests[name] = {
                "outcome": outcome,
                "errors": error_lines(report),
                "sparse": name in self.sparse,
            }

    @pytest.hookimpl
    def pytest_sessionfinish(self, session):
        report = {"tests": self.tests, "deselected": sorted(self.deselected)}
        Path(self.path).write_text(json.dumps(report, indent=1, sort_keys=True))


def error_lines(report):
    """The lines pytest marks ``E`` (each exception of a chain), or the skip reason."""
    if report.passed:
        return []
    if isinstance(report.longrepr, tuple):  # a skip: (file, line, reason)
        return [str(report.longrepr[2])]
    lines = [line[1:].strip() for line in report.longreprtext.splitlines() if line[:1] == "E"]
    return lines or report.longreprtext.strip().splitlines()[-1:]


def pytest_configure(config):
    path = config.getoption("--sklearn-suite-report")
    if path:
        config.pluginmanager.register(Outcomes(path), "sklearn-suite-outcomes")
