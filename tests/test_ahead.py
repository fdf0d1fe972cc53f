"""The ahead-of-time kernels (``kmeans_scratch/_ahead.py``): the command runs without Numba
and writes the files Numba's kernels write."""

import builtins
import importlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from kmeans_scratch import _ahead, _kernels, build_kernels
from kmeans_scratch._ahead import Array, Scalar, Tuple

from .helpers import image_array

#: The command in a fresh process, which prints on its last line whether Numba was
#: imported (the exit handlers run before the command's quick exit).
COMMAND = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('numba imported:', 'numba' in sys.modules))\n"
    "from kmeans_scratch.compression.cli import entry_point\n"
    "sys.argv[0] = 'kmeans-compress'\n"
    "entry_point()\n"
)


@pytest.fixture(scope="module")
def built():
    """The module for these sources and this CPU: ``make install`` builds it; built here
    when it is missing (a source edited since)."""
    if _ahead.find_module_file() is None:
        done = subprocess.run(
            [sys.executable, "-m", "kmeans_scratch.build_kernels"], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    assert _ahead.find_module() is not None


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Files of the kinds the command meets: a photo, a gray one, a translucent one."""
    folder = tmp_path_factory.mktemp("images")
    photo = image_array("china")[::2, ::2]
    alpha = np.where(np.arange(photo.shape[1]) < 60, 0, 255).astype(np.uint8)
    translucent = np.dstack([photo, np.broadcast_to(alpha, photo.shape[:2])])
    Image.fromarray(photo).save(folder / "photo.png")
    Image.fromarray(np.ascontiguousarray(image_array("coffee")[::2, ::2, 1])).save(
        folder / "gray.png"
    )
    Image.fromarray(translucent).save(folder / "translucent.png")
    Image.fromarray(image_array("astronaut")[::2, ::2]).save(folder / "astronaut.png")
    text = Image.new("RGB", (1200, 800), (250, 250, 250))
    draw = ImageDraw.Draw(text)
    for line in range(40):
        draw.text((10, 10 + 19 * line), f"labels = nearest(pixels, centers)  # {line}", fill=0)
    text.save(folder / "text.png")  # flat content, its rows deflated in two parts
    return folder


def run_command(arguments, cwd, ahead):
    env = {**os.environ, "KMEANS_SCRATCH_AHEAD": "1" if ahead else "0"}
    done = subprocess.run(
        [sys.executable, "-c", COMMAND, *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    *output, last = done.stdout.splitlines()
    return "\n".join(output), last == "numba imported: True"


def written_files(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*"))}


#: Command lines, and whether their files are compressed in worker processes.
RUNS = {
    "default": (["photo.png", "-k", "256"], False),
    "speed-1": (["photo.png", "-k", "256", "--speed", "1"], False),
    "k-2": (["photo.png", "-k", "2", "--speed", "11"], False),
    "gray": (["gray.png", "-k", "16"], False),
    "dither": (["translucent.png", "-k", "64", "--dither"], False),
    "gray-dither": (["gray.png", "-k", "16", "--dither"], False),
    "gif": (["photo.png", "-k", "32", "--format", "gif"], False),
    "flat": (["text.png", "-k", "16"], False),
    "batch": (["photo.png", "gray.png", "translucent.png", "astronaut.png", "-k", "64"], True),
    "shared-palette": (["photo.png", "astronaut.png", "-k", "32", "--shared-palette"], True),
}


@pytest.mark.parametrize("run", RUNS)
def test_the_command_runs_without_numba_and_writes_numbas_files(built, images, tmp_path, run):
    arguments, in_workers = RUNS[run]
    outputs = {}
    for ahead in (True, False):
        out = tmp_path / f"ahead-{ahead}"
        report, numba_imported = run_command(
            [*arguments, "--out-dir", str(out), "--json"], images, ahead
        )
        assert numba_imported is not (ahead or in_workers)  # the workers' is their own
        rows = json.loads(report)
        outputs[ahead] = (written_files(out), [row["psnr"] for row in rows])
    assert outputs[True][0]  # files were written
    assert outputs[True] == outputs[False]


#: What a one-file run has no use for, each a few milliseconds of a start that is most of
#: a small file's time: Numba (with ``hashlib``), what only a kernel cache uses
#: (``tempfile``, which imports ``shutil`` and ``random``), a sweep's report (``csv``), an
#: unseeded fit (``numpy.random``), and argparse's own terminal width (``shutil``).
NOT_FOR_ONE_FILE = ("numba", "numpy.random", "hashlib", "tempfile", "shutil", "random", "csv")


@pytest.mark.parametrize("k", ["256", "64"])  # 64: ten starts, pruned (_palette.STARTS_PRUNING)
def test_one_file_imports_nothing_it_does_not_use(built, images, tmp_path, k):
    bare = subprocess.run(
        [sys.executable, "-c", "import sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
    ).stdout.split()
    unused = sorted(set(NOT_FOR_ONE_FILE) - set(bare))
    assert unused, "this interpreter imports all of them before any command"
    code = COMMAND.replace(
        "print('numba imported:', 'numba' in sys.modules)",
        f"print('imported:', sorted(set(sys.modules) & set({unused!r})))",
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "photo.png", "-k", k, "-o", str(tmp_path / "out.png")],
        cwd=images,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "imported: []"
    assert [path.name for path in tmp_path.iterdir()] == ["out.png"]  # no temporary file left


REPOSITORY = Path(__file__).resolve().parent.parent

#: A batch's workers, forked or spawned as the command makes them: each compresses a file
#: and says whether it started Numba (it should not: the command lets them use the
#: ahead-of-time kernels, and forked ones inherit the registered calls).
WORKERS = (
    "import multiprocessing, sys\n"
    "from kmeans_scratch.compression import _pool\n"
    "from kmeans_scratch._engine import use_ahead_of_time\n"
    "from tests.helpers import compress_and_say_whether_numba_started as task\n"
    "use_ahead_of_time()\n"
    "_pool.context = lambda: multiprocessing.get_context(sys.argv[1])\n"
    "files = [(name, name + '.out.png') for name in sys.argv[2:]]\n"
    "print([outcome for outcome in _pool.map_in_workers(task, files, 2, 1)])\n"
)


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_a_batchs_workers_compress_without_starting_numba(built, images, tmp_path, start):
    for name in ("photo.png", "astronaut.png"):
        (tmp_path / name).write_bytes((images / name).read_bytes())
    done = subprocess.run(
        [sys.executable, "-c", WORKERS, start, "photo.png", "astronaut.png"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[(True, False), (True, False)]"
    assert (tmp_path / "photo.png.out.png").is_file()


#: Modules that one file's compression does not need: each import is start-up time.
NOT_IMPORTED = ("numba", "sklearn", "scipy", "multiprocessing", "json", "PIL.ImageCms")


def test_one_file_imports_only_what_its_compression_needs(built, images, tmp_path):
    script = COMMAND.replace(
        "print('numba imported:', 'numba' in sys.modules)",
        f"print('imported:', sorted(set(sys.modules) & set({NOT_IMPORTED!r})))",
    )
    arguments = ["photo.png", "-k", "64", "-q", "-o", str(tmp_path / "o.png")]
    done = subprocess.run(
        [sys.executable, "-c", script, *arguments],
        cwd=images,
        env={**os.environ, "KMEANS_SCRATCH_AHEAD": "1"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "imported: []"
    assert (tmp_path / "o.png").stat().st_size > 0


def test_metrics_and_a_sweep_run_without_numba_and_measure_what_numba_measures(
    built, images, tmp_path
):
    measured = {}
    for ahead in (True, False):
        out = tmp_path / f"ahead-{ahead}"
        report, numba_imported = run_command(
            ["photo.png", "--sweep", "2,4,8", "--out-dir", str(out), "--metrics", "--json"],
            images,
            ahead,
        )
        assert numba_imported is not ahead
        rows = json.loads(report)
        measured[ahead] = [(row["psnr"], row["ssim"], row["delta_e"]) for row in rows]
        assert len(rows) == 3
    assert measured[True] == measured[False]


def test_one_image_over_4_megapixels_runs_without_numba_and_a_batch_of_them_with_it(
    built, tmp_path
):
    """One large image (its histogram by key table) stays on the ahead-of-time kernels,
    dithered or not, and writes Numba's files; several run on Numba's threads."""
    wide = np.tile(image_array("china"), (5, 4, 1))[:2100, :2000]  # 4.2 MP
    for name in ("wide.png", "wide-2.png"):
        Image.fromarray(np.ascontiguousarray(wide)).save(tmp_path / name)
    for extra in ([], ["--dither"]):
        written = {}
        for ahead in (True, False):
            out = tmp_path / f"ahead-{ahead}{''.join(extra)}"
            arguments = ["wide.png", "-k", "16", "-q", "--out-dir", str(out), *extra]
            _, numba_imported = run_command(arguments, tmp_path, ahead)
            assert numba_imported is not ahead
            written[ahead] = written_files(out)
        assert written[True] and written[True] == written[False]
    batch = ["wide.png", "wide-2.png", "-k", "16", "-q", "--out-dir", str(tmp_path / "batch")]
    _, numba_imported = run_command(batch, tmp_path, ahead=True)
    assert numba_imported


def test_a_specialization_is_found_only_for_its_exact_argument_types(built):
    """Weights of another dtype than the rows are not exported: such a call runs just in
    time."""
    build_kernels.import_layer_calls()
    call = "kmeans_scratch._blocks.column_moments"
    X = image_array("china").reshape(-1, 3)[:5000].astype(np.float64)
    weights = np.ones(X.shape[0])
    assert _ahead.specialization(call, (X, weights)) is not None
    assert _ahead.specialization(call, (X.astype(np.float32), weights)) is None
    assert _ahead.specialization(call, (X, weights, 1)) is None
    assert _ahead.specialization("kmeans_scratch._lloyd.assign_and_accumulate", (X,)) is None


@pytest.mark.parametrize(
    "value, accepted",
    [
        (np.zeros((4, 3)), True),
        (np.zeros((4, 3), dtype=np.float32), False),  # another dtype
        (np.zeros((4, 3), dtype=">f8"), False),  # another byte order
        (np.zeros((4, 6))[:, ::2], False),  # not contiguous
        (np.zeros((3, 4)).T, False),  # Fortran order
        (np.zeros(12), False),  # another number of dimensions
        (np.zeros((4, 3)).tolist(), False),  # not an array
    ],
)
def test_an_array_argument_is_accepted_only_with_numbas_exact_type(value, accepted):
    assert Array("float64", 2).accepts(value) is accepted


def test_read_only_arrays_scalars_and_tuples_have_types_of_their_own():
    frozen = np.zeros((2, 3), dtype=np.uint8)
    frozen.flags.writeable = False
    assert Array("uint8", 2, readonly=True).accepts(frozen)
    assert not Array("uint8", 2).accepts(frozen)
    assert Scalar("int64").accepts(3) and Scalar("int64").accepts(np.int64(3))
    assert not Scalar("int64").accepts(np.int32(3)) and not Scalar("int64").accepts(3.0)
    assert not Scalar("int64").accepts(True)  # Numba types a bool apart
    assert Scalar("float64").accepts(0.5) and not Scalar("float64").accepts(np.float32(0.5))
    pair = Tuple((Array("float64", 1), Scalar("float64")))
    assert pair.accepts((np.zeros(3), 1.0))
    assert not pair.accepts([np.zeros(3), 1.0]) and not pair.accepts((np.zeros(3),))


def test_every_registered_call_names_a_kernel_and_has_a_name_of_its_own():
    build_kernels.import_layer_calls()
    calls = _ahead.registered_calls()
    assert {module.split(".")[1] for module, _ in calls} >= {"compression", "dask", "_hamerly"}
    names = []
    for (module_name, name), signatures in calls.items():
        exported = getattr(importlib.import_module(module_name), name)
        assert exported.py_func.__name__ == name  # a Kernel, or its Numba dispatcher
        names += [_ahead.export_name(module_name, name, types) for types in signatures]
    assert len(set(names)) == len(names)


def test_a_layers_calls_are_found_whichever_layer_registered_first(built):
    """The export names do not depend on the order of registration: a process that
    imports the Dask layer's calls first finds the compressor's as well, and the reverse."""
    code = (
        "import sys, numpy as np\n"
        "for name in sys.argv[1:]:\n"
        "    __import__(name)\n"
        "from kmeans_scratch import _ahead\n"
        "X = np.zeros((10, 3)); keys = np.zeros((10, 3), dtype=np.uint8)\n"
        "print(_ahead.specialization('kmeans_scratch._blocks.column_moments',"
        " (X.astype(np.float32), np.ones(10, dtype=np.float32))) is not None,"
        " _ahead.specialization('kmeans_scratch.compression._histogram.pack_keys', (keys,))"
        " is not None)\n"
    )
    for order in (["kmeans_scratch.dask._chunks", "kmeans_scratch.compression"],
                  ["kmeans_scratch.compression", "kmeans_scratch.dask._chunks"]):  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-c", code, *order], capture_output=True, text=True, check=True
        )
        assert done.stdout.split() == ["True", "True"], order


def test_a_kernel_pickles_and_copies_by_name_without_starting_numba():
    code = (
        "import copy, pickle, sys\n"
        "from kmeans_scratch._tiles import transpose_tile\n"
        "assert pickle.loads(pickle.dumps(transpose_tile)) is transpose_tile\n"
        "assert copy.deepcopy(transpose_tile) is transpose_tile\n"
        "print('numba' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


#: Hamerly's fit from the ahead-of-time module on ``sys.argv[1]`` threads; prints whether
#: Numba was imported, how many block runs went to the pool's threads, and a digest of
#: the centers and labels.
SPLIT_FIT = (
    "import hashlib, sys, numpy as np\n"
    "import kmeans_scratch.compression  # registers the command's calls\n"
    "from kmeans_scratch import _kernels, k_means\n"
    "_kernels.use_ahead_of_time()\n"
    "_kernels.set_threads(int(sys.argv[1]))\n"
    "runs = []\n"
    "pool = _kernels.block_pool()\n"
    "submit = pool.submit\n"
    "pool.submit = lambda f, blocks, *a: runs.append(blocks) or submit(f, blocks, *a)\n"
    "X = np.random.default_rng(0).normal(size=(40000, 3)) * [40, 20, 10]\n"
    "centers, labels, _ = k_means(X, 64, algorithm=sys.argv[2], random_state=0, n_init=1)\n"
    "digest = hashlib.sha256(centers.tobytes() + labels.tobytes()).hexdigest()\n"
    "print('numba' in sys.modules, len(runs), digest)\n"
)


@pytest.mark.parametrize("algorithm", ["hamerly", "lloyd"])
def test_blocks_split_over_threads_give_the_bits_of_one_call(built, algorithm):
    """From the ahead-of-time module, T threads each take every T-th block of rows
    (``_kernels.run_blocks``) of Hamerly's or Lloyd's step: the fit is the same bits on 1,
    2 or 3 threads, and just in time."""
    digests = set()
    for threads, ahead in ((1, True), (2, True), (3, True), (2, False)):
        done = subprocess.run(
            [sys.executable, "-c", SPLIT_FIT, str(threads), algorithm],
            env={**os.environ, "KMEANS_SCRATCH_AHEAD": "1" if ahead else "0"},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        numba_imported, runs, digest = done.stdout.split()
        assert numba_imported == str(not ahead)
        assert (int(runs) > 0) is (ahead and threads > 1)
        digests.add(digest)
    assert len(digests) == 1


#: Several starts' seeds (the palette's), one start per thread from the ahead-of-time
#: module; prints whether Numba started, the threads that chose centers, a digest of the
#: centers and whether they are those of one seeding after another on the same stream.
SEEDING_STARTS = (
    "import hashlib, sys, threading, numpy as np\n"
    "import kmeans_scratch.compression  # registers the command's calls\n"
    "from kmeans_scratch import _kernels, _seeding\n"
    "if sys.argv[2] == 'ahead':\n"
    "    _kernels.use_ahead_of_time()\n"
    "_kernels.set_threads(int(sys.argv[1]))\n"
    "rng = np.random.default_rng(0)\n"
    "X = rng.normal(size=(20000, 3)) * [40, 20, 10]\n"
    "w = rng.uniform(0.5, 2.0, X.shape[0])\n"
    "stream = np.random.RandomState(0)\n"
    "one_by_one = [_seeding.greedy_kmeans_plusplus(X, 32, w, stream, 4)[0] for _ in range(6)]\n"
    "threads, drawn_centers = set(), _seeding.drawn_centers\n"
    "def recorded(*args):\n"
    "    threads.add(threading.get_ident())\n"
    "    return drawn_centers(*args)\n"
    "_seeding.drawn_centers = recorded\n"
    "starts = _seeding.greedy_kmeans_plusplus_starts(X, 32, w, np.random.RandomState(0), 6, 4)\n"
    "same = all(np.array_equal(a, b) for a, b in zip(starts, one_by_one, strict=True))\n"
    "digest = hashlib.sha256(np.concatenate(starts).tobytes()).hexdigest()\n"
    "print('numba' in sys.modules, len(threads), digest, same)\n"
)


def test_several_starts_are_seeded_one_per_thread_with_the_draws_of_one_after_another(built):
    """The palette's ten starts: every start's seeds drawn first, in the stream's order,
    then chosen one start per thread from the ahead-of-time module (which releases the
    GIL), on one thread just in time: the centers of one seeding after another."""
    digests = set()
    for threads, mode in ((1, "ahead"), (2, "ahead"), (2, "jit")):
        done = subprocess.run(
            [sys.executable, "-c", SEEDING_STARTS, str(threads), mode],
            env={**os.environ, "KMEANS_SCRATCH_AHEAD": "1" if mode == "ahead" else "0"},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        numba_imported, threads_used, digest, same = done.stdout.split()
        assert numba_imported == str(mode == "jit")
        assert int(threads_used) == (threads if mode == "ahead" else 1)
        assert same == "True"
        digests.add(digest)
    assert len(digests) == 1


#: Times a call of an ahead-of-time kernel (0.25 s here) while another thread counts; prints
#: the call's milliseconds and the counts in its middle half.
COUNT_DURING_A_CALL = (
    "import threading, time, numpy as np\n"
    "import kmeans_scratch.compression  # registers the command's calls\n"
    "from kmeans_scratch import _ahead\n"
    "X = np.random.default_rng(0).random((1_600_000, 3))\n"
    "args = (X, np.ones(X.shape[0]), X[:256].copy(), np.empty(X.shape[0], dtype=np.int32))\n"
    "call = _ahead.specialization('kmeans_scratch._distances.assign_labels_by_tiles', args)\n"
    "call(*args)\n"
    "ticks, running = [], True\n"
    "def count():\n"
    "    while running:\n"
    "        ticks.append(time.perf_counter())\n"
    "other = threading.Thread(target=count)\n"
    "other.start()\n"
    "time.sleep(0.01)\n"
    "start = time.perf_counter(); call(*args); end = time.perf_counter()\n"
    "running = False\n"
    "other.join()\n"
    "quarter = (end - start) / 4\n"
    "print((end - start) * 1e3, sum(start + quarter < t < end - quarter for t in ticks))\n"
)


def test_the_modules_kernels_release_the_gil(built):
    """Another Python thread runs while a kernel of the module runs: ``build_kernels``
    gives ``pycc`` flags that release the GIL (Numba's private API; a Numba that changed
    it fails here, and the build says so).  A kernel holding the GIL lets no count in
    during the call's middle half: the other thread cannot run until the call returns."""
    assert build_kernels.releases_the_gil(_ahead.find_module_file())
    done = subprocess.run(
        [sys.executable, "-c", COUNT_DURING_A_CALL], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    milliseconds, counts = done.stdout.split()
    assert float(milliseconds) > 20  # long enough for the other thread to be scheduled
    assert int(counts) > 1000


def test_a_failed_run_of_blocks_waits_for_the_others_and_raises(monkeypatch):
    """When this thread's run fails, the pool's runs finish before the error goes on:
    none is left writing into the caller's arrays."""
    finished = []

    def run(blocks, fail_on):
        if blocks[0] == fail_on:
            raise ValueError(f"run {blocks}")
        time.sleep(0.2)
        finished.append(blocks)

    block_kernel = _kernels.Kernel(run, {})  # never compiled: the stand-in module serves
    monkeypatch.setattr(_kernels, "get_threads", lambda: 2)
    _kernels.block_pool()  # at least one thread, whatever the cores
    monkeypatch.setattr(_kernels, "_block_pool_cores", 2)
    monkeypatch.setattr(_ahead, "specialization", lambda name, args: run)
    with _kernels.ahead_of_time_in_this_thread():
        with pytest.raises(ValueError, match=r"run \(0, 4, 2\)"):
            _kernels.run_blocks(block_kernel, 4, 0)
        assert finished == [(1, 4, 2)]
        with pytest.raises(ValueError, match=r"run \(1, 4, 2\)"):
            _kernels.run_blocks(block_kernel, 4, 1)
        assert finished == [(1, 4, 2), (0, 4, 2)]


def test_a_machine_without_proc_cpuinfo_keys_its_module_by_llvms_cpu(monkeypatch):
    """Where there is no ``/proc/cpuinfo`` (macOS, Windows) the CPU is described by LLVM's
    name and features of the host, the same at every call."""
    real_open = builtins.open

    def open_without_cpuinfo(path, *args, **kwargs):
        if str(path) == "/proc/cpuinfo":
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", open_without_cpuinfo)
    from llvmlite import binding

    host = [binding.get_host_cpu_name(), binding.get_host_cpu_features().flatten()]
    assert _ahead.cpu_description() == host
    key = _ahead.host_key()
    assert re.fullmatch(r"[0-9a-f]{12}", key) and _ahead.host_key() == key


def test_no_module_built_is_found_without_describing_the_cpu(monkeypatch, tmp_path):
    """The command's start does not describe the CPU (LLVM's import, off Linux) when no
    module was built for these sources."""
    monkeypatch.setattr(_ahead, "kernel_folder_candidates", lambda: [tmp_path / "none"])

    def host_key():
        raise AssertionError("the CPU was described")

    monkeypatch.setattr(_ahead, "host_key", host_key)
    assert _ahead.find_module_file() is None


#: Registered calls whose return types differ in kind: a bool, an int, a float, an array,
#: a tuple, nothing.
SIGNATURE_SAMPLES = (
    "kmeans_scratch._fit.is_same_clustering",
    "kmeans_scratch._bounds.center_distances",
    "kmeans_scratch._distances.inertia_of_labels",
    "kmeans_scratch._blocks.column_moments",
    "kmeans_scratch._blocks.add_row",
    "kmeans_scratch.compression._histogram.distinct_keys",
    "kmeans_scratch.compression._png.final_block_bits",
)


def test_the_builds_inferred_signatures_are_those_the_dispatcher_compiles():
    """``build_kernels.inferred_signature`` (type inference through Numba's compiler
    pipeline, without compiling) gives the signature a compile gives, for registered calls
    of every kind of return type; a Numba whose pipeline API changed fails here."""
    from numba.core import types

    _kernels.start_numba()
    build_kernels.import_layer_calls()
    calls = _ahead.registered_calls()
    for call in SIGNATURE_SAMPLES:
        module_name, _, name = call.rpartition(".")
        dispatcher = getattr(importlib.import_module(module_name), name)
        for argument_types in calls[module_name, name]:
            numba_types = tuple(spec.numba_type(types) for spec in argument_types)
            dispatcher.compile(numba_types)
            compiled = dispatcher.overloads[numba_types].signature
            assert build_kernels.inferred_signature(dispatcher, numba_types) == compiled, call
