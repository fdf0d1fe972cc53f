"""The ahead-of-time module: the kernels a compression runs, compiled before it runs.

Numba takes about 0.47 s to import and start, before the first kernel runs; a command
that compresses one 768 × 512 photo would spend most of its time there.  So the kernels
of that path, for the argument types it calls them with, are also compiled ahead of time
by Numba's ``pycc`` into one extension module, which loads in milliseconds without Numba.
The layers above the core say which calls: each lists them in a ``_compiled`` module of
its own (``kmeans_scratch/compression/_compiled.py``, ``kmeans_scratch/dask/_compiled.py``)
that registers them (:func:`register_ahead_of_time_calls`); this module names no layer.
:class:`._kernels.Kernel` calls a specialization of it when the module is built for the
current sources and this CPU and the call's argument types are exactly those of the
specialization; anything else runs just in time.

The module is built by ``python -m kmeans_scratch.build_kernels`` (``make install`` runs
it; it needs a C compiler) into the package's kernel folder of these sources (see
:mod:`._numba_cache`), in a sub-folder per CPU: an edit of the sources or another CPU
finds no module, and the kernels run just in time, as they would without it.
``KMEANS_SCRATCH_AHEAD=0`` in the environment turns the module off.

Its kernels run on one thread (``pycc`` compiles no parallel loops) but release the GIL,
so that a kernel over blocks of rows runs on several Python threads at once
(:func:`._kernels.run_blocks`, Lloyd's and Hamerly's steps); they give the bits of the
Numba kernels on any number of threads.
"""

import functools
import importlib.machinery
import importlib.util
import os
import threading
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._numba_cache import checksum, kernel_folder_candidates

MODULE_NAME = "kmeans_scratch_ahead"


class Array(NamedTuple):
    """A C-contiguous, aligned array argument: its dtype, dimensions, and whether it is
    read-only (Numba types a read-only array apart)."""

    dtype: str
    ndim: int
    readonly: bool = False

    def accepts(self, value):
        if type(value) is not np.ndarray or value.ndim != self.ndim:
            return False
        flags = value.flags
        return (
            value.dtype == self.dtype
            and value.dtype.isnative
            and flags.c_contiguous
            and flags.aligned
            and flags.writeable != self.readonly
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
        if type(value) is not tuple or len(value) != len(self.items):
            return False
        for item, v in zip(self.items, value, strict=True):  # a loop: at every kernel call
            if not item.accepts(v):
                return False
        return True

    def numba_type(self, types):
        return types.Tuple([item.numba_type(types) for item in self.items])


#: Argument types for the tables: F8_2 a float64 matrix, U8_2_READONLY a read-only uint8
#: one, I8 an int64 scalar (a Python int), BOOL a bool.
F8_1, F8_2, F8_3 = Array("float64", 1), Array("float64", 2), Array("float64", 3)
I4_1, I8_1, I8_2 = Array("int32", 1), Array("int64", 1), Array("int64", 2)
U8_1, U8_2, U8_2_READONLY = Array("uint8", 1), Array("uint8", 2), Array("uint8", 2, True)
U8_3, U8_3_READONLY, U64_2 = Array("uint8", 3), Array("uint8", 3, True), Array("uint64", 2)
F4_1, F4_2, F4_3 = Array("float32", 1), Array("float32", 2), Array("float32", 3)
F8, I8, BOOL = Scalar("float64"), Scalar("int64"), Scalar("boolean")
#: A run of row blocks (first, stop, step), see :func:`._blocks.blocks_in`.
BLOCKS = Tuple((I8, I8, I8))


def fit_step_calls(F1, F2, F3):
    """The core's kernels of a fit's steps, for the float arrays ``F1``, ``F2``, ``F3`` of one
    dtype: the moments and the centering, the labels, distances and inertia, and the steps
    of the three iterations.  A layer registers them (:func:`register_ahead_of_time_calls`)
    in the dtypes it fits in."""
    rows = Tuple((F2, F1))  # (X, sample_weight)
    sums = Tuple((F8_3, F8_2, F8_2, F8_1))  # (block_sums, block_weights, center_sums, weights)
    bounds = Tuple((I4_1, F8_1, F8_1))  # Hamerly's (labels, upper, lower)
    block_outs = Tuple((F8_3, F8_2, I8_1))  # each block's sums, weights and labels changed
    return {
        ("kmeans_scratch._blocks", "add_row"): [(F2, F1, F2), (F2._replace(readonly=True), F1, F2)],
        ("kmeans_scratch._blocks", "column_means"): [(F2, F1)],
        ("kmeans_scratch._blocks", "column_moments"): [(F2, F1)],
        ("kmeans_scratch._blocks", "merge_blocks"): [(F8_3, F8_2, I8_1, F8_2, F8_1)],
        ("kmeans_scratch._distances", "assign_labels_by_tiles"): [(F2, F1, F2, I4_1)],
        ("kmeans_scratch._distances", "sq_distances_to_assigned"): [(F2, F2, I4_1, F1)],
        ("kmeans_scratch._distances", "inertia_of_labels"): [(F2, F1, F2, I4_1)],
        ("kmeans_scratch._distances", "euclidean_distances_to_centers"): [(F2, F2, F2)],
        ("kmeans_scratch._lloyd", "assign_and_accumulate"): [(BLOCKS, rows, F2, I4_1, block_outs)],
        ("kmeans_scratch._bounds", "center_geometry"): [(F2, I8_2, BOOL)],
        ("kmeans_scratch._bounds", "center_distances"): [(F2,)],
        ("kmeans_scratch._bounds", "own_distances_of_every"): [(F2, F2, I4_1, I8)],
        ("kmeans_scratch._hamerly", "neighbor_coordinates"): [(F2, I8_2)],
        ("kmeans_scratch._hamerly", "hamerly_assign_and_accumulate"): [
            (
                BLOCKS,
                rows,
                F2,
                Tuple((F8_1, I8_2, F3, F8_1, F8)),  # geometry
                Tuple((F8_1, F8_1, F8_1)),  # moves
                bounds,
                block_outs,
            )
        ],
        ("kmeans_scratch._elkan", "elkan_assign_and_accumulate"): [
            (rows, F2, Tuple((F8_2, F8)), Tuple((F8_1, F8_1)), Tuple((I4_1, F8_1, F8_2)), sums)
        ],
    }


def fit_setup_calls():
    """The core's other kernels of an in-memory fit in float64 (as the image layer runs it
    on distinct colors): repeated rows collapsed, greedy k-means++, and the check that a
    restart found the same clustering."""
    boxes = Tuple((F8_2, F8_2))  # (low, high)
    tiles = Tuple((boxes, F8_1, F8_1, F8_1))  # (boxes, D², largest, potential)
    return {
        ("kmeans_scratch._distinct", "distinct_rows"): [(U64_2, I8, F8)],
        ("kmeans_scratch._seeding", "tile_boxes"): [(F8_2,)],
        ("kmeans_scratch._seeding", "add_center"): [(F8_2, F8_1, F8_1, boxes, F8_1, F8_1, F8_1)],
        ("kmeans_scratch._seeding", "choose_centers"): [(F8_2, F8_1, F8_2, I8_1, tiles)],
        ("kmeans_scratch._fit", "is_same_clustering"): [(I4_1, I4_1, I8)],
    }


def merged_calls(*tables):
    """One table of specializations from several, each specialization once, in order."""
    merged = {}
    for table in tables:
        for kernel_name, signatures in table.items():
            known = merged.setdefault(kernel_name, [])
            known.extend(signature for signature in signatures if signature not in known)
    return merged


_load_lock = threading.Lock()
_calls = {}  # kernel (module, name) → argument types, as the layers registered them
_specializations = None  # kernel name → [(arguments as a Tuple, compiled function)]


def register_ahead_of_time_calls(table):
    """Register a layer's calls: ``table`` maps a kernel (module, name) to the argument
    types of each call that the package build compiles ahead of time.

    Each layer that runs kernels in a process without Numba (the command's compression,
    a Dask worker's chunks) lists its calls in a module of its own, ``_compiled``, which
    registers them when imported; ``build_kernels`` imports every such module.  A call runs
    from the module only when a registered specialization has exactly its types.
    """
    global _calls, _specializations
    with _load_lock:
        _calls = merged_calls(_calls, table)
        _specializations = None  # made again from the module at the next call


def registered_calls():
    """The calls registered so far (see :func:`register_ahead_of_time_calls`)."""
    return {kernel_name: list(signatures) for kernel_name, signatures in _calls.items()}


def export_name(module, name, argument_types):
    """The C name of a specialization, ``compression__palette__distinct_keys__1f0c3a2b``:
    the kernel's, and a checksum of its argument types, so that the name does not depend
    on the order in which the layers registered their calls."""
    short = module.removeprefix("kmeans_scratch.").replace(".", "_")
    return f"{short}__{name}__{zlib.crc32(repr(argument_types).encode()):08x}"


def host_key():
    """12 hex digits naming this CPU (see :func:`cpu_description`): code compiled for one
    CPU may not run on another."""
    return checksum(["\n".join(cpu_description()).encode()])[:12]


def cpu_description():
    """The CPU's model and features: on Linux from ``/proc/cpuinfo`` (its model name and
    flags, read in about a millisecond), elsewhere LLVM's name and features of the host
    CPU, which Numba's own cache is keyed by (``llvmlite``, about 30 ms to import: paid
    only where an ahead-of-time module was built, see :func:`find_module_file`).  The
    build and the command describe one machine the same way."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            text = cpuinfo.read().split("\n\n")[0]
    except OSError:
        from llvmlite import binding

        return [binding.get_host_cpu_name(), binding.get_host_cpu_features().flatten()]
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return [fields.get(key, "").strip() for key in ("model name", "flags")]


def module_file(folder, host):
    """Where the module of ``host`` lives under the kernel folder ``folder``."""
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    return Path(folder) / f"ahead-{host}" / f"{MODULE_NAME}{suffix}"


def specialization(kernel_name, args):
    """The ahead-of-time function for a call of ``kernel_name`` with ``args``, or None."""
    specializations = _specializations
    if specializations is None:
        specializations = load()
    for arguments, function in specializations.get(kernel_name, ()):
        if arguments.accepts(args):
            return function
    return None


def load():
    """The registered calls' functions in the module built for these sources and this CPU
    (none when there is no such module): kernel name → [(arguments, function)]."""
    global _specializations
    with _load_lock:
        if _specializations is not None:
            return _specializations
        module = loaded_module()
        found = {}
        for (module_name, name), signatures in _calls.items():
            compiled = [
                (Tuple(types), getattr(module, export_name(module_name, name, types), None))
                for types in signatures
            ]  # None: no module, or left out of the build (a part whose extra was missing)
            found[f"{module_name}.{name}"] = [pair for pair in compiled if pair[1] is not None]
        _specializations = found
        return found


@functools.cache
def loaded_module():
    """The module built for these sources and this CPU, imported once per process; None
    when there is none or ``KMEANS_SCRATCH_AHEAD=0`` turns it off."""
    if os.environ.get("KMEANS_SCRATCH_AHEAD") == "0":
        return None
    return find_module()


def find_module_file():
    """The module's file for these sources and this CPU, or None (without describing the
    CPU when no module was built for these sources)."""
    folders = [folder for folder in kernel_folder_candidates() if holds_modules(folder)]
    if not folders:
        return None
    host = host_key()
    for folder in folders:
        path = module_file(folder, host)
        try:
            if path.is_file():
                return path
        except OSError:  # a folder this user may not read: as if there were none
            continue
    return None


def holds_modules(folder):
    """Whether the kernel folder ``folder`` holds a module for some CPU; False where it
    cannot be read (another user's cache, under a home folder of mode 0700)."""
    try:
        return any(folder.glob("ahead-*"))
    except OSError:
        return False


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
