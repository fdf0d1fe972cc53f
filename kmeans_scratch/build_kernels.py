"""``python -m kmeans_scratch.build_kernels [--force | --warm [1 | 2]]``: the ahead-of-time
kernel module, and with ``--warm`` Numba's cache of the kernels a Python session runs (with
1 or 2, one half of it, for two processes at once).

The ``kmeans-compress`` command then starts without Numba (see ``kmeans_scratch._ahead``):
about 0.3 s for a 768 × 512 photo instead of 0.8 s.  Building needs a C compiler and takes
about a minute; ``make install`` runs it.  The module is built for one version of
the package's sources and one CPU: after an edit this builds it again, else it only says
where it is (``--force`` rebuilds it anyway).

What it compiles is what the layers above the core register: it imports every
sub-package's ``_compiled`` module (:func:`import_layer_calls`), by that convention, so
that neither this tool nor the core names a layer.

A fit in a Python session (the README's first example, a notebook) runs Numba's parallel
kernels, compiled just in time on first use: half a minute to two minutes of compiling
for a new install.  ``--warm`` (:func:`warm_just_in_time`) makes those calls once, on
small data, so that Numba's cache in the kernel folder holds them (the core's calls,
and each layer's from its ``_warm`` module); the package build and ``make kernels`` run
it in two halves (``--warm 1``, ``--warm 2``) alongside the module, three processes at
once, and a first session then loads its kernels in seconds.
"""

import functools
import importlib
import os
import sys
import tempfile
import warnings
from pathlib import Path

from . import _kernels
from ._ahead import (
    MODULE_NAME,
    export_name,
    find_module_file,
    host_key,
    module_file,
    registered_calls,
)
from ._extras import MissingExtra
from ._numba_cache import PACKAGE, kernel_cache_folder


def import_layer_calls():
    """Import every layer's ``_compiled`` module (a sub-package's, such as
    ``kmeans_scratch/compression/_compiled.py``), which registers its calls; a layer whose
    extra is missing is left out, and its calls run just in time.  Returns the modules."""
    return import_layer_modules("_compiled")


def import_layer_modules(name):
    """Every layer's module ``name`` (``kmeans_scratch/*/name.py``), imported; one whose
    extra is missing is left out, and says so on stderr."""
    modules = []
    for path in sorted(PACKAGE.glob(f"*/{name}.py")):
        module_name = f"{PACKAGE.name}.{path.parent.name}.{name}"
        try:
            modules.append(importlib.import_module(module_name))
        except MissingExtra as error:
            print(f"{module_name} left out: {error}", file=sys.stderr)
    return modules


def build(verbose=False):
    """Compile every layer's registered calls (:func:`import_layer_calls`) into the module
    of this CPU, in the kernel folder; its path.

    Each kernel is compiled from its Python source, as Numba's just-in-time compiler
    would (the kernels it calls compiled in, those marked ``inline="always"`` inlined),
    for the CPU it runs on, without the parallel loops, and releasing the GIL while it
    runs (see :func:`releasing_the_gil`).
    """
    _kernels.start_numba(serial=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pycc's pending deprecation
        from numba.core import types
        from numba.pycc import CC

    releasing_the_gil()

    import_layer_calls()
    target = module_file(kernel_cache_folder(), host_key())
    compiler = CC(MODULE_NAME)
    compiler.target_cpu = "host"
    compiler.verbose = verbose
    for (module_name, name), signatures in registered_calls().items():
        dispatcher = getattr(importlib.import_module(module_name), name)
        for argument_types in signatures:
            numba_types = tuple(spec.numba_type(types) for spec in argument_types)
            signature = inferred_signature(dispatcher, numba_types)
            exported = export_name(module_name, name, argument_types)
            compiler.export(exported, signature)(dispatcher.py_func)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        compiler.output_dir = scratch
        compiler.compile()
        built = Path(scratch) / target.name
        if not releases_the_gil(built):
            print(
                "kmeans-scratch: this Numba's pycc ignored the flag that releases the GIL: "
                "the ahead-of-time kernels will run on one thread",
                file=sys.stderr,
            )
        os.replace(built, target)  # whole, or not at all
    return target


def inferred_signature(dispatcher, argument_types):
    """The signature ``dispatcher`` compiles for ``argument_types``: its return type by
    Numba's type inference alone, which is all ``pycc`` needs before it compiles.

    Compiling the kernel just in time to read the signature, as this did until 2026-12-07,
    optimized and emitted every kernel once more: 44 s on the 2-core machine, against 24 s
    for the inference (which still compiles the kernels a kernel calls); the module's
    build went from 69 to 55 s.  Numba's compiler pipeline is its documented extension
    point (``CompilerBase``, ``DefaultPassBuilder``, a ``FunctionPass``);
    ``tests/test_ahead.py`` checks that the signatures are those the dispatcher compiles.
    """
    from numba.core import compiler
    from numba.core.registry import cpu_target

    flags = compiler.Flags()
    flags.nrt = True  # as njit's: arrays made inside a kernel type the same
    return_type = compiler.compile_extra(
        cpu_target.typing_context,
        cpu_target.target_context,
        dispatcher.py_func,
        argument_types,
        None,
        flags,
        {},
        pipeline_class=type_inference_only(),
    )
    return return_type(*argument_types)


@functools.cache
def type_inference_only():
    """A Numba compiler class that runs the untyped passes and type inference, and ends
    with the return type as its result."""
    from numba.core import compiler
    from numba.core.compiler_machinery import FunctionPass, register_pass
    from numba.core.typed_passes import NopythonTypeInference

    @register_pass(mutates_CFG=False, analysis_only=True)
    class KeepTheReturnType(FunctionPass):
        _name = "kmeans_scratch_keep_the_return_type"

        def __init__(self):
            FunctionPass.__init__(self)

        def run_pass(self, state):
            state.cr = state.return_type  # what compile_extra returns
            return False

    class TypeInferenceOnly(compiler.CompilerBase):
        def define_pipelines(self):
            passes = compiler.DefaultPassBuilder.define_untyped_pipeline(self.state)
            passes.add_pass(NopythonTypeInference, "type inference")
            passes.add_pass(KeepTheReturnType, "keep the return type")
            passes.finalize()
            return [passes]

    return TypeInferenceOnly


def releases_the_gil(module_path):
    """Whether the built module's functions release the GIL: they then call
    ``PyEval_SaveThread``, whose name is among the symbols the module imports."""
    return b"PyEval_SaveThread" in Path(module_path).read_bytes()


def releasing_the_gil():
    """Make ``pycc`` compile functions that release the GIL while they run, as
    ``numba.njit(nogil=True)`` does: several threads can then run the module's kernels at
    once (:func:`._kernels.run_blocks`).

    ``pycc`` has no option for it: it compiles with ``Flags()`` of
    ``numba.pycc.compiler``, whose ``release_gil`` is off.  This gives that module a
    ``Flags`` whose ``release_gil`` is on: Numba's private API.  Should a Numba ignore
    it, :func:`build` says so (:func:`releases_the_gil`) and the kernels still give the
    same bits, on one thread; ``tests/test_ahead.py`` fails.
    """
    from numba.pycc import compiler

    if getattr(compiler.Flags, "releases_the_gil", False):
        return

    class FlagsReleasingTheGil(compiler.Flags):
        releases_the_gil = True

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.release_gil = True

    compiler.Flags = FlagsReleasingTheGil


def warm_just_in_time(half=None):
    """Compile into Numba's cache the kernels that a Python session's calls run: the core's
    fits (:func:`warm_dense_fits` and :func:`warm_sparse_fits`, in each dtype) and each
    layer's (its ``_warm`` module's ``warm_just_in_time``, such as ``compress()`` on a
    small image).  Kernels already in the cache are loaded, not compiled.  Returns the
    kernel folder.

    ``half`` 1 or 2 runs one of two halves of about the same compile time, for two
    processes at once (:func:`warm_halves`); their writes to the cache take turns
    (:func:`take_turns_saving`), and where they cannot, half 1 runs every job.
    """
    _kernels.start_numba()
    first, second = warm_halves()
    if half is None:
        jobs = first + second
    elif take_turns_saving(kernel_cache_folder()):
        jobs = first if half == 1 else second
    else:
        jobs = first + second if half == 1 else []
    for job in jobs:
        job()
    return kernel_cache_folder()


def warm_halves():
    """The warm's jobs in two halves that compile about as long (2026-12-07, the 2-core
    machine, one process: float64's dense fits 69 s and sparse ones 15 s, float32's 59 s
    and 15 s, ``compress()`` 22 s, Dask 2 s); the layers go with float32's dense fits,
    whose kernels they share (the compressor fits float32 pixels), so that the two halves
    compile few kernels twice."""
    first = [
        functools.partial(warm_dense_fits, "float64"),
        functools.partial(warm_sparse_fits, "float64"),
        functools.partial(warm_sparse_fits, "float32"),
    ]
    second = [functools.partial(warm_dense_fits, "float32")]
    second += [module.warm_just_in_time for module in import_layer_modules("_warm")]
    return first, second


def take_turns_saving(folder):
    """Make this process's writes to Numba's cache wait for a lock on ``folder``, which
    other processes warming the same cache take too; whether it could.

    Numba adds an entry to a kernel's cache by reading its index, picking a data file name
    the index does not use, and writing both (``IndexDataCacheFile.save``, Numba's private
    API): two processes doing it at once for one kernel would pick the same name, and one
    entry would end up with the other's code.  Where that method or ``fcntl`` is missing,
    False: the warm then runs in one process (``tests/test_kernel_cache.py`` fails).
    """
    try:
        import fcntl

        from numba.core.caching import IndexDataCacheFile
    except ImportError:
        return False
    save = getattr(IndexDataCacheFile, "save", None)
    if save is None:
        return False
    if getattr(save, "takes_turns", False):  # done before in this process
        return True
    Path(folder).mkdir(parents=True, exist_ok=True)

    def save_in_turn(self, key, data):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)  # released when the descriptor closes
            save(self, key, data)
        finally:
            os.close(descriptor)

    save_in_turn.takes_turns = True
    IndexDataCacheFile.save = save_in_turn
    return True


def warm_dense_fits(dtype):
    """The core's calls of a session on dense rows of ``dtype``, on small data
    (:func:`warm_estimator`): each algorithm on narrow rows with repeated values (pixels:
    the tile kernel on the distinct rows) and without (every row), and on wide rows
    (BLAS); the bounds on wide rows where a fit runs them, 64 features and 64 clusters
    apart: Hamerly's in either dtype (on wide rows from 64 clusters on; float32 was left
    out until 2026-12-06, and a session's first such fit compiled a kernel, 0.55 s inside
    a timed cell of ``make bench``), Elkan's in float64 (elsewhere ``algorithm="elkan"``
    runs Lloyd's step, see ``_fit.elkan_pays``); and the rows read-only with the default
    algorithm (Numba compiles a kernel for a read-only array apart: ``np.load(path,
    mmap_mode="r")``, an array a library froze)."""
    import numpy as np

    random = np.random.default_rng(0)
    pixels = random.integers(0, 16, (16_384, 3)) * 16.0  # repeated: fitted as distinct rows
    points = random.normal(size=(16_384, 3))
    wide = random.normal(size=(8_192, 32))
    for X in (pixels.astype(dtype), points.astype(dtype), wide.astype(dtype)):
        warm_estimator(X, ("lloyd", "hamerly"))
        X.flags.writeable = False
        warm_estimator(X, ("lloyd",))
    bounded = ("elkan", "hamerly") if dtype == "float64" else ("hamerly",)
    warm_estimator(elkan_blobs().astype(dtype), bounded, n_clusters=64)


def warm_sparse_fits(dtype):
    """The core's calls of a session on sparse rows of ``dtype`` (CSR: ``TfidfVectorizer``
    gives either dtype), each algorithm."""
    from scipy import sparse

    rows = sparse.random(2_000, 500, density=0.01, format="csr", random_state=0, dtype=dtype)
    warm_estimator(rows, ("lloyd", "elkan", "hamerly"))


def elkan_blobs():
    """4,096 rows of 64 features around 64 centers, on which ``KMeans(64,
    algorithm="elkan", max_iter=3)`` runs Elkan's bounded step: the clusters stand apart
    enough for the bounds to start after Lloyd's first step, and close enough that the fit
    takes a third step.  (Centers 10 apart, as here until 2026-12-06, converged in two
    steps: the bounded step never ran, and the first fit of a session that ran it compiled
    it, 2.5 s inside a timed cell of ``make bench``.)"""
    import numpy as np

    random = np.random.default_rng(0)
    centers = 2 * random.normal(size=(64, 64))
    return centers[random.integers(0, 64, 4_096)] + random.normal(size=(4_096, 64))


def warm_estimator(X, algorithms, n_clusters=8):
    """The calls a session makes on ``X``: ``KMeans(n_clusters).fit`` with each of
    ``algorithms`` (3 iterations at most), then ``predict``, ``transform`` and ``score``,
    ``kmeans_plusplus``, and a fit from centers of which one is far from every row, whose
    cluster is left empty and takes the row farthest from its center (until 2026-12-07,
    such a user's first fit compiled the distances that choose it)."""
    import warnings

    from ._kmeans import KMeans, kmeans_plusplus

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 3 iterations do not converge: said, and meant
        for algorithm in algorithms:
            fitted = KMeans(
                n_clusters, algorithm=algorithm, n_init=1, max_iter=3, random_state=0
            ).fit(X)
        fitted.predict(X), fitted.transform(X), fitted.score(X)
        kmeans_plusplus(X, n_clusters, random_state=0)
        far = fitted.cluster_centers_.copy()
        far[-1] += 1e6
        KMeans(n_clusters, init=far, n_init=1, max_iter=2).fit(X)


USAGE = "python -m kmeans_scratch.build_kernels [--force | --warm [1 | 2]]"


def main():
    arguments = sys.argv[1:]
    if "--warm" in arguments:
        given = arguments[arguments.index("--warm") + 1 :]
        if given and given[0] not in ("1", "2"):
            sys.exit(f"usage: {USAGE}")
        print(warm_just_in_time(int(given[0]) if given else None))
        return
    existing = find_module_file()
    if existing is not None and "--force" not in arguments:
        print(f"{existing} (built before)")
        return
    print(build(verbose="-v" in arguments))


if __name__ == "__main__":
    main()
