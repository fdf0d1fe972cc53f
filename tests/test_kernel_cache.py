"""Numba's cache never serves a stale kernel (see ``kmeans_scratch/_numba_cache.py``)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kmeans_scratch
from kmeans_scratch._kernels import QUIET_COMPILE
from kmeans_scratch._numba_cache import PREFIX, kernel_cache_folder, sources_hash

PACKAGE = Path(kmeans_scratch.__file__).parent

#: ``_bounds.center_distances`` calls ``_distances.sq_distance_f64``, a kernel of another
#: file, which Numba compiles into it: its cache alone would not notice an edit of
#: ``_distances``.
DISTANCE = (
    "import numpy as np\n"
    "from kmeans_scratch._bounds import center_distances\n"
    "print(center_distances(np.array([[0.0, 0.0], [3.0, 4.0]]))[0, 1])\n"
)


def test_this_packages_kernels_are_cached_in_the_folder_of_its_sources():
    import numpy as np

    from kmeans_scratch._bounds import center_distances

    center_distances(np.array([[0.0, 0.0], [3.0, 4.0]]))  # compiled, or loaded, and cached
    folder = Path(kernel_cache_folder())
    assert folder.name == PREFIX + sources_hash()
    stats = center_distances.stats  # this session's dispatcher: where its cache is
    assert stats.cache_path == str(folder / "kmeans_scratch")
    assert stats.cache_hits or stats.cache_misses


def package_copy(tmp_path):
    """A copy of the package without its compiled kernels, and the environment that runs it."""
    site = tmp_path / "site"
    copy = site / "kmeans_scratch"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = {name: value for name, value in os.environ.items() if not name.startswith("NUMBA_")}
    env["PYTHONPATH"] = str(site)
    return copy, env


def run_distance(env, cwd):
    done = subprocess.run(
        [sys.executable, "-c", DISTANCE], env=env, cwd=cwd, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return float(done.stdout), done.stderr


def test_a_compile_says_so_first_and_once_and_a_cached_kernel_says_nothing(tmp_path):
    _, env = package_copy(tmp_path)
    env.pop(QUIET_COMPILE, None)
    distance, said = run_distance(env, tmp_path)
    assert distance == 5.0
    assert said.splitlines() == [said.splitlines()[0]]  # one line, for two kernels compiled
    assert said.startswith("kmeans-scratch: compiling the kernels for this machine (")
    assert "kmeans_scratch._bounds.center_distances first); up to a minute" in said
    assert run_distance(env, tmp_path) == (5.0, "")  # loaded from the cache: silent


def test_an_edit_in_another_file_than_the_kernels_recompiles_them(tmp_path):
    copy, env = package_copy(tmp_path)

    def distance():
        return run_distance(env, tmp_path)[0]

    assert distance() == 5.0  # compiled, and cached
    assert distance() == 5.0  # from the cache
    first = sorted(path.name for path in (copy / "__pycache__").glob(PREFIX + "*"))
    common = copy / "_distances.py"
    source = common.read_text()
    edited = source.replace(
        "        total += diff * diff\n    return total\n",
        "        total += diff * diff\n    return 4.0 * total\n",  # twice the distance
    )
    assert edited != source
    common.write_text(edited)
    assert distance() == 10.0  # not the kernel cached before the edit
    second = sorted(path.name for path in (copy / "__pycache__").glob(PREFIX + "*"))
    assert len(first) == len(second) == 1 and first != second  # the old version removed


def test_kernels_cached_by_one_copy_of_the_package_load_in_a_copy_elsewhere(tmp_path):
    """What the package build's warmed cache relies on (``build_kernels --warm``): the
    entries are found by the package's own sub-folders, not by the absolute path, and hold
    for files of the same bytes whose times differ (copied as pip installs them)."""
    copy, env = package_copy(tmp_path)
    env.pop(QUIET_COMPILE, None)
    distance, said = run_distance(env, tmp_path)
    assert distance == 5.0 and said.startswith("kmeans-scratch: compiling")
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(copy, elsewhere / "kmeans_scratch", copy_function=shutil.copy)  # new times
    env["PYTHONPATH"] = str(elsewhere)
    assert run_distance(env, tmp_path) == (5.0, "")  # loaded from the copied cache: silent


def test_the_private_numba_names_the_cache_relies_on_are_still_there():
    """``_numba_cache`` subclasses Numba's private cache locator and puts it first in
    ``CacheImpl._locator_classes`` (Numba has no public hook for a cache folder per
    version of a package's sources): a Numba that renamed or reshaped them fails here, by
    name, rather than caching kernels where a stale one could be served."""
    from numba.core import caching

    from kmeans_scratch._numba_cache import use_kernel_cache

    missing = [
        name
        for name in ("_CacheLocator", "_SourceFileBackedLocatorMixin", "CacheImpl")
        if not isinstance(getattr(caching, name, None), type)
    ]
    assert not missing, f"numba.core.caching has no class {missing}: update _numba_cache.py"
    for method in ("from_function", "get_source_stamp", "get_cache_path"):
        assert callable(getattr(caching._CacheLocator, method, None)), method
    assert isinstance(caching.CacheImpl._locator_classes, list)
    use_kernel_cache()
    assert caching.CacheImpl._locator_classes[0].__name__ == "KernelSourcesLocator"


def test_the_warms_elkan_fit_runs_elkans_bounded_step(monkeypatch):
    """``build_kernels --warm`` fits ``elkan_blobs`` with ``algorithm="elkan"`` so that
    the cache holds Elkan's bounded step; a fit that converged before the bounds started
    (the warm's data until 2026-12-06) left it to be compiled by a user's first fit."""
    import warnings

    from kmeans_scratch import KMeans, _elkan
    from kmeans_scratch.build_kernels import elkan_blobs

    calls = []
    step = _elkan.elkan_assign_and_accumulate
    monkeypatch.setattr(
        _elkan, "elkan_assign_and_accumulate", lambda *args: calls.append(1) or step(*args)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 3 iterations do not converge: the warm's fit
        KMeans(64, algorithm="elkan", n_init=1, max_iter=3, random_state=0).fit(elkan_blobs())
    assert calls


def test_the_warms_hamerly_fit_runs_hamerlys_bounds_in_float32(monkeypatch):
    """``build_kernels --warm`` fits ``elkan_blobs`` in float32 with Hamerly's iteration,
    which measures the centers' separation on wide rows from 64 clusters on: the float32
    ``center_distances`` was missing from the cache until 2026-12-06, and ``make bench``
    compiled it inside a timed cell."""
    import warnings

    import numpy as np

    from kmeans_scratch import KMeans, _hamerly
    from kmeans_scratch.build_kernels import elkan_blobs

    dtypes = []
    distances = _hamerly.center_distances
    monkeypatch.setattr(
        _hamerly,
        "center_distances",
        lambda centers: dtypes.append(centers.dtype) or distances(centers),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 3 iterations do not converge: the warm's fit
        X = elkan_blobs().astype(np.float32)
        KMeans(64, algorithm="hamerly", n_init=1, max_iter=3, random_state=0).fit(X)
    assert np.dtype(np.float32) in dtypes


#: A process saving entries into one Numba cache index once the other is ready too; with
#: ``turns`` it takes turns with it as the build's warm does (``take_turns_saving``).
SAVER = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from numba.core.caching import IndexDataCacheFile\n"
    "from kmeans_scratch.build_kernels import take_turns_saving\n"
    "folder, first, turns = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]\n"
    "assert turns == 'alone' or take_turns_saving(folder)\n"
    "cache = IndexDataCacheFile(str(folder), 'kernel', ('stamp', 1))\n"
    "(folder / f'ready-{first}').touch()\n"
    "deadline = time.monotonic() + 60\n"
    "while len(list(folder.glob('ready-*'))) < 2:\n"
    "    assert time.monotonic() < deadline, 'the other saver never got ready'\n"
    "    time.sleep(0.001)\n"
    "for key in range(first, first + 300):\n"
    "    cache.save(('key', key), ('entry', key))\n"
)

#: What both savers' entries are, once saved.
EVERY_ENTRY = {key: ("entry", key) for key in range(600)}


def save_at_once(folder, turns):
    """Two processes save 300 entries each into one index in ``folder`` at the same moment;
    whether both ended well, and the entries a fresh reader then finds, by key."""
    from numba.core.caching import IndexDataCacheFile

    folder.mkdir()
    savers = [
        subprocess.Popen(
            [sys.executable, "-c", SAVER, str(folder), str(first), turns],
            stderr=subprocess.DEVNULL,
        )
        for first in (0, 300)
    ]
    try:
        ended_well = [saver.wait(timeout=120) == 0 for saver in savers]
    finally:
        for saver in savers:
            saver.kill()  # nothing, if it ended
    cache = IndexDataCacheFile(str(folder), "kernel", ("stamp", 1))
    return all(ended_well), {key: cache.load(("key", key)) for key in range(600)}


def test_warming_processes_take_turns_writing_numbas_cache(tmp_path):
    """The build warms the cache in two processes at once (``build_kernels --warm 1`` and ``2``):
    every entry either saves is found, with its own data.  Saving alone, they lose entries
    or swap them, or fail (checked below, so that this test shows the race it guards against);
    and ``take_turns_saving`` wraps ``IndexDataCacheFile.save``, Numba's private API: a
    Numba without it fails here, by name."""
    from numba.core.caching import IndexDataCacheFile

    assert callable(getattr(IndexDataCacheFile, "save", None)), "update take_turns_saving"
    assert save_at_once(tmp_path / "turns", "turns") == (True, EVERY_ENTRY)
    raced = (save_at_once(tmp_path / f"alone-{n}", "alone") for n in range(3))
    assert any(outcome != (True, EVERY_ENTRY) for outcome in raced)  # once in 3 tries at least


@pytest.mark.parametrize("sparse_rows", [False, True], ids=["dense", "sparse"])
def test_the_warm_fits_a_cluster_left_empty(monkeypatch, sparse_rows):
    """``warm_estimator`` ends with a fit whose last center is far from every row: its
    cluster is left empty and takes the row farthest from its own center, so the cache
    holds those distances (a student's fit from a bad init compiled them, and said so on
    stderr, until 2026-12-07)."""
    import numpy as np
    from scipy import sparse

    from kmeans_scratch import _iterations
    from kmeans_scratch.build_kernels import warm_estimator

    relocations = []
    measure = _iterations.sq_distances_to_assigned
    monkeypatch.setattr(
        _iterations,
        "sq_distances_to_assigned",
        lambda *args: relocations.append(1) or measure(*args),
    )
    X = np.random.default_rng(0).normal(size=(600, 5))
    warm_estimator(sparse.csr_matrix(X) if sparse_rows else X, ("lloyd",))
    assert relocations


def test_the_warm_of_the_seeding_passes_covers_a_dask_fits_calls():
    """A ``pip install`` warms Numba's cache in a build without Dask: the k-means|| kernels
    are warmed on NumPy arrays (``dask._warm.warm_seeding_passes``), with every argument
    type a Dask fit on the threaded scheduler then calls them with (its first fit
    compiled both, after a pip install, until 2026-12-07).  In a fresh process."""
    script = """
import dask, dask.array as da, numpy as np
from kmeans_scratch import _kernels
from kmeans_scratch.dask import KMeans, _seeding, _warm
_kernels.start_numba()
_warm.warm_seeding_passes()
kernels = (_seeding.nearer_candidates, _seeding.rows_that_may_be_drawn)
warmed = [set(kernel.signatures) for kernel in kernels]
rows = np.random.default_rng(1).normal(size=(40_000, 3))
with dask.config.set(scheduler="threads"):
    for dtype in (np.float64, np.float32):
        X = da.from_array(rows.astype(dtype), chunks=10_000)
        KMeans(16, random_state=0).fit(X)
        KMeans(4, random_state=0).fit(X, sample_weight=da.ones(40_000, chunks=10_000))
print(all(warmed) and [set(k.signatures) for k in kernels] == warmed)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["True"]
