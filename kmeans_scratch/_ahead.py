"""The ahead-of-time module: the kernels a compression runs, compiled before it runs.

Numba takes about 0.47 s to import and start, before the first kernel runs; a command
that compresses one 768 × 512 photo would spend most of its time there.  So the kernels
of that path, for the argument types it calls them with (:data:`EXPORTS`), are also
compiled ahead of time by Numba's ``pycc`` into one extension module, which loads in
milliseconds without Numba.  :class:`._kernels.Kernel` calls a specialization of it when
the module is built for the current sources and this CPU and the call's argument types
are exactly those of the specialization; anything else runs just in time.

The module is built by ``python -m kmeans_scratch.build_kernels`` (``make install`` runs
it; it needs a C compiler) into the package's kernel folder of these sources (see
:mod:`._numba_cache`), in a sub-folder per CPU: an edit of the sources or another CPU
finds no module, and the kernels run just in time, as they would without it.
``KMEANS_SCRATCH_AHEAD=0`` in the environment turns the module off.

Its kernels run on one thread (``pycc`` compiles no parallel loops) and give the bits
of the Numba kernels on any number of threads.
"""

import hashlib
import importlib.machinery
import importlib.util
import os
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._numba_cache import kernel_folder_candidates

MODULE_NAME = "kmeans_scratch_ahead"


class Array(NamedTuple):
    """A C-contiguous, aligned array argument: its dtype, dimensions, and whether it is
    read-only (Numba types a read-only array apart)."""

    dtype: str
    ndim: int
    readonly: bool = False

    def accepts(self, value):
        return (
            type(value) is np.ndarray
            and value.dtype == self.dtype
            and value.dtype.isnative
            and value.ndim == self.ndim
            and value.flags.c_contiguous
            and value.flags.aligned
            and value.flags.writeable != self.readonly
        )

    def numba_type(self, types):
        from numba.np.numpy_support import from_dtype

        return types.Array(from_dtype(np.dtype(self.dtype)), self.ndim, "C", readonly=self.readonly)


class Scalar(NamedTuple):
    """A scalar argument, of the Python or NumPy types Numba gives ``name``."""

    name: str

    def accepts(self, value):
        return type(value) in SCALAR_TYPES[self.name]

    def numba_type(self, types):
        return getattr(types, self.name)


SCALAR_TYPES = {
    "float64": (float, np.float64),
    "int64": (int, np.int64),
    "boolean": (bool, np.bool_),
}


class Tuple(NamedTuple):
    """A tuple argument (a plain tuple, not a named one) of the given items."""

    items: tuple

    def accepts(self, value):
        return (
            type(value) is tuple
            and len(value) == len(self.items)
            and all(item.accepts(v) for item, v in zip(self.items, value, strict=True))
        )

    def numba_type(self, types):
        return types.Tuple([item.numba_type(types) for item in self.items])


F8_1, F8_2, F8_3 = Array("float64", 1), Array("float64", 2), Array("float64", 3)
I4_1, I8_1, I8_2 = Array("int32", 1), Array("int64", 1), Array("int64", 2)
U8_1, U8_2, U8_2_READONLY = Array("uint8", 1), Array("uint8", 2), Array("uint8", 2, True)
U8_3, U8_3_READONLY, U64_2 = Array("uint8", 3), Array("uint8", 3, True), Array("uint64", 2)
U2_1 = Array("uint16", 1)
F8, I8, BOOL = Scalar("float64"), Scalar("int64"), Scalar("boolean")

#: The calls of ``compress()`` with its defaults (the fit in float64 on the distinct
#: colors, Hamerly's iteration, PSNR from the histogram): kernel (module, name) → argument
#: types, one tuple per specialization.  Its fit's moments, Hamerly steps and inertia are
#: those of a Dask worker in float64 (:func:`chunk_task_calls`).
COMPRESS_CALLS = {
    ("kmeans_scratch.compression._palette", "distinct_keys"): [(U8_2_READONLY,), (U8_2,)],
    ("kmeans_scratch.compression._palette", "distinct_keys_by_table"): [(U8_2_READONLY,), (U8_2,)],
    ("kmeans_scratch.compression._palette", "pack_keys"): [(U8_2,)],
    ("kmeans_scratch.compression._palette", "values_of_keys"): [
        (flat, table) for flat in (U8_2_READONLY, U8_2) for table in (I4_1, U8_1, U2_1)
    ],
    ("kmeans_scratch._distinct", "distinct_rows"): [(U64_2, I8, F8)],
    ("kmeans_scratch._seeding", "tile_boxes"): [(F8_2,)],
    ("kmeans_scratch._seeding", "add_center"): [
        (F8_2, F8_1, F8_1, Tuple((F8_2, F8_2)), F8_1, F8_1, F8_1)
    ],
    ("kmeans_scratch._seeding", "choose_centers"): [
        (F8_2, F8_1, F8_2, I8_1, Tuple((Tuple((F8_2, F8_2)), F8_1, F8_1, F8_1)))
    ],
    ("kmeans_scratch._fit", "is_same_clustering"): [(I4_1, I4_1, I8)],
    ("kmeans_scratch.compression._metrics", "distinct_pairs"): [(I4_1, U8_1, I8_1)],
    ("kmeans_scratch.compression._palette", "optimal_1d_levels"): [(F8_1, F8_1, I8)],
    ("kmeans_scratch.compression._remap", "selective_floyd_steinberg"): [
        (F8_2, Array("int8", 1), I4_1, I4_1, I8, I8, F8_2, Array("bool", 2), F8, F8, F8, F8)
    ],
    ("kmeans_scratch.compression._color_difference", "pair_error_sums"): [
        (U8_2, I8_1, I8_1, I8_1, U8_2)
    ],
    ("kmeans_scratch.compression._metrics", "ssim_sum"): [
        (source, U8_2, U8_2, I8, F8, F8) for source in (U8_3_READONLY, U8_3)
    ],
}


def chunk_task_calls(F1, F2, F3):
    """The kernels a Dask worker runs on its chunks (``kmeans_scratch.dask._chunks``: the
    moments, k-means|| passes, the three iterations, predict, transform, score), for the
    float arrays ``F1``, ``F2``, ``F3`` of one dtype."""
    return {
        ("kmeans_scratch._blocks", "column_moments"): [(F2, F1)],
        ("kmeans_scratch._distances", "assign_labels_by_tiles"): [(F2, F1, F2, I4_1)],
        ("kmeans_scratch._distances", "sq_distances_to_assigned"): [(F2, F2, I4_1, F1)],
        ("kmeans_scratch._distances", "inertia_of_labels"): [(F2, F1, F2, I4_1)],
        ("kmeans_scratch._distances", "euclidean_distances_to_centers"): [(F2, F2, F2)],
        ("kmeans_scratch.dask._seeding", "nearer_candidates"): [(F1, I4_1, F1, I4_1, I8, F1)],
        ("kmeans_scratch.dask._seeding", "rows_that_may_be_drawn"): [(F1, F1, F8_1, F8, F8)],
        ("kmeans_scratch._lloyd", "assign_and_accumulate"): [
            (F2, F1, F2, I4_1, F8_3, F8_2, F8_2, F8_1)
        ],
        ("kmeans_scratch._bounds", "center_geometry"): [(F2, I8_2, BOOL)],
        ("kmeans_scratch._bounds", "center_distances"): [(F2,)],
        ("kmeans_scratch._hamerly", "neighbor_coordinates"): [(F2, I8_2)],
        ("kmeans_scratch._hamerly", "hamerly_assign_and_accumulate"): [
            (
                F2,
                F1,
                F2,
                Tuple((F8_1, I8_2, F3, F8_1)),
                Tuple((F8_1, F8_1, F8_1)),
                I4_1,
                F8_1,
                F8_1,
                F8,
                F8_3,
                F8_2,
                F8_2,
                F8_1,
            )
        ],
        ("kmeans_scratch._elkan", "elkan_assign_and_accumulate"): [
            (F2, F1, F2, F8_2, F8_1, F8_1, I4_1, F8_1, F8_2, F8, F8_3, F8_2, F8_2, F8_1)
        ],
    }


def merged_calls(*tables):
    """One table of specializations from several, each specialization once, in order."""
    merged = {}
    for table in tables:
        for kernel_name, signatures in table.items():
            known = merged.setdefault(kernel_name, [])
            known.extend(signature for signature in signatures if signature not in known)
    return merged


F4_1, F4_2, F4_3 = Array("float32", 1), Array("float32", 2), Array("float32", 3)

#: The exported specializations: the command's calls, and a Dask worker's in float64 and
#: float32.
EXPORTS = merged_calls(
    COMPRESS_CALLS, chunk_task_calls(F8_1, F8_2, F8_3), chunk_task_calls(F4_1, F4_2, F4_3)
)


def export_name(module, name, index):
    """The C name of a specialization: ``compression__palette__distinct_keys__0``."""
    short = module.removeprefix("kmeans_scratch.").replace(".", "_")
    return f"{short}__{name}__{index}"


def host_key():
    """12 hex digits naming this CPU (model and feature flags from ``/proc/cpuinfo``), or
    None where there is no such file: code compiled for one CPU may not run on another."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            text = cpuinfo.read().split("\n\n")[0]
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    described = [fields.get(key, "").strip() for key in ("model name", "flags")]
    return hashlib.sha256("\n".join(described).encode()).hexdigest()[:12]


def module_file(folder, host):
    """Where the module of ``host`` lives under the kernel folder ``folder``."""
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    return Path(folder) / f"ahead-{host}" / f"{MODULE_NAME}{suffix}"


_load_lock = threading.Lock()
_specializations = None  # kernel name → [(arguments as a Tuple, compiled function)], once loaded


def specialization(kernel_name, args):
    """The ahead-of-time function for a call of ``kernel_name`` with ``args``, or None."""
    if _specializations is None:
        load()
    for arguments, function in _specializations.get(kernel_name, ()):
        if arguments.accepts(args):
            return function
    return None


def load():
    """Load the module built for these sources and this CPU, if there is one."""
    global _specializations
    with _load_lock:
        if _specializations is not None:
            return
        found = {}
        module = None if os.environ.get("KMEANS_SCRATCH_AHEAD") == "0" else find_module()
        if module is not None:
            for (module_name, name), signatures in EXPORTS.items():
                compiled = [
                    (
                        Tuple(argument_types),
                        getattr(module, export_name(module_name, name, i), None),
                    )
                    for i, argument_types in enumerate(signatures)
                ]  # None: left out of the build (a part whose extra was missing)
                found[f"{module_name}.{name}"] = [pair for pair in compiled if pair[1] is not None]
        _specializations = found


def find_module_file():
    """The module's file for these sources and this CPU, or None."""
    host = host_key()
    if host is None:
        return None
    for folder in kernel_folder_candidates():
        path = module_file(folder, host)
        if path.is_file():
            return path
    return None


def find_module():
    """The imported module, or None when there is none for these sources and this CPU."""
    path = find_module_file()
    if path is None:
        return None
    loader = importlib.machinery.ExtensionFileLoader(MODULE_NAME, str(path))
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path, loader=loader)
    try:
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
    except ImportError:  # a damaged file: the kernels run just in time
        return None
    return module


def build(verbose=False):
    """Compile :data:`EXPORTS` into the module of this CPU, in the kernel folder; its path.

    Each kernel is compiled from its Python source, as Numba's just-in-time compiler
    would (the kernels it calls compiled in, those marked ``inline="always"`` inlined),
    for the CPU it runs on, without the parallel loops.
    """
    import importlib
    import tempfile
    import warnings

    from . import _kernels
    from ._numba_cache import kernel_cache_folder

    _kernels.start_numba(serial=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pycc's pending deprecation
        from numba.core import types
        from numba.pycc import CC

    host = host_key()
    if host is None:
        raise RuntimeError("no /proc/cpuinfo: the ahead-of-time module is built on Linux only")
    target = module_file(kernel_cache_folder(), host)
    compiler = CC(MODULE_NAME)
    compiler.target_cpu = "host"
    compiler.verbose = verbose
    for (module_name, name), signatures in EXPORTS.items():
        try:
            dispatcher = getattr(importlib.import_module(module_name), name)
        except ImportError as error:  # a part whose extra is missing: its calls run just in time
            print(f"{module_name}.{name} left out: {error}")
            continue
        for index, argument_types in enumerate(signatures):
            numba_types = tuple(spec.numba_type(types) for spec in argument_types)
            dispatcher.compile(numba_types)
            signature = dispatcher.overloads[numba_types].signature
            exported = export_name(module_name, name, index)
            compiler.export(exported, signature)(dispatcher.py_func)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        compiler.output_dir = scratch
        compiler.compile()
        os.replace(Path(scratch) / target.name, target)  # whole, or not at all
    return target
