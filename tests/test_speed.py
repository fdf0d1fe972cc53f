"""The command as fast as pngquant: speed levels, metrics on demand, a start-up without
scikit-learn, batches over every core, and threads that fit the machine.

Speed itself is measured in ``benchmarks/test_command.py``; these tests hold what the
speed must not cost: exact files, the same fit, identical batch outputs, no stray work.
"""

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kmeans_scratch import k_means
from kmeans_scratch._cores import cgroup_cpu_limit, usable_cores
from kmeans_scratch.compression import SPEEDS, compress
from kmeans_scratch.compression._batch import pixels_of_task
from kmeans_scratch.compression._encode import indexed_png, one_pass_level, oxipng_options
from kmeans_scratch.compression._histogram import color_histogram
from kmeans_scratch.compression._palette import palette_seeding
from kmeans_scratch.compression._pool import PARALLEL_FILES_MAX_PIXELS, map_in_workers, plan_workers
from kmeans_scratch.compression._speed import DEFAULT_MAX_ITER, check_speed, effort
from kmeans_scratch.compression._working_space import to_working_space

from .helpers import image_array

CLI = [sys.executable, "-m", "kmeans_scratch.compression.cli"]


def decoded(path_or_bytes):
    import io

    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with Image.open(source) as image:
        return np.asarray(image.convert("RGB"))


@pytest.mark.parametrize("speed", list(SPEEDS))
def test_every_speed_writes_a_file_that_decodes_to_the_quantized_image(speed):
    pixels = image_array("coffee")[::2, ::2]
    result = compress(pixels, 64, speed=speed)
    for fmt in ("png", "webp"):
        np.testing.assert_array_equal(decoded(result.encode(fmt)), result.to_array())
    assert result.facts["speed"] == speed


def test_speed_one_is_the_exhaustive_search_and_the_default_fits_25_iterations_at_most():
    assert one_pass_level(768 * 512, speed=1) is None
    assert oxipng_options(speed=1) == {"level": 4}
    assert effort(3).max_iter == 300  # to scikit-learn's tolerance
    assert effort(4).n_init == 10 and effort(4).max_iter == 25
    # Faster levels never search harder than slower ones.
    iterations = [effort(speed).max_iter for speed in SPEEDS]
    assert iterations == sorted(iterations, reverse=True)


@pytest.mark.parametrize("speed", [3, 4])
def test_oxipng_searches_for_a_palette_order_up_to_speed_3_only(speed):
    """The search (a fifth to a quarter of the encoder's time at k = 256, for 0.02 % of
    the bytes or less: rows written unfiltered compress nearly the same in any order of
    the entries) runs up to speed 3, where rows are also tried filtered.  What it also did,
    the translucent entries first so that tRNS stops at the last of them, we do at every
    speed: two translucent entries of 16 take a tRNS of 2 bytes, and the pixels are the
    same."""
    palette = np.random.default_rng(speed).integers(0, 256, (16, 4), dtype=np.uint8)
    palette[:, 3] = 255
    palette[[3, 9], 3] = [100, 200]
    indices = np.repeat(np.arange(16, dtype=np.uint8)[::-1], 64).reshape(32, 32)
    assert (one_pass_level(indices.size, speed) is None) == (speed <= 3)
    if speed <= 3:
        assert oxipng_options(speed)["palette_reduction"]
    with Image.open(io.BytesIO(indexed_png(palette, indices, speed=speed))) as image:
        assert image.info["transparency"] in (bytes([100, 200]), bytes([200, 100]))
        np.testing.assert_array_equal(np.asarray(image.convert("RGBA")), palette[indices])


@pytest.mark.parametrize("bad", [0, 12, -1, 4.0, "4", True, None])
def test_a_speed_outside_1_to_11_is_refused_naming_it(bad):
    with pytest.raises(ValueError, match="speed must be a whole number from 1 to 11"):
        check_speed(bad)
    with pytest.raises(ValueError, match="speed"):
        compress(image_array("coffee")[:40, :40], 4, speed=bad)


@pytest.mark.parametrize("argument", ["0", "12", "fast", "4.5"])
def test_the_command_refuses_a_bad_speed_as_a_usage_error(capsys, tmp_path, argument):
    from kmeans_scratch.compression.cli import main

    path = tmp_path / "a.png"
    Image.fromarray(image_array("coffee")[:40, :40]).save(path)
    assert main([str(path), "--speed", argument]) == 2
    err = capsys.readouterr().err
    assert "--speed" in err and "from 1 to 11" in err
    assert not (tmp_path / "a-k16.png").exists()


def test_the_default_palette_is_the_k_means_fit_on_the_histogram():
    """At speed 4 the image layer's fit is ``k_means`` on the distinct colors, from the
    palette's seeding, for at most ``DEFAULT_MAX_ITER`` iterations."""
    pixels = image_array("china")[::2, ::2]
    histogram = color_histogram(pixels)
    coords = to_working_space(histogram.colors, "rgb")
    weights = histogram.counts.astype(np.float64)
    centers, _, _ = k_means(
        coords,
        256,
        sample_weight=weights,
        init=palette_seeding(weights),
        n_init=1,
        max_iter=DEFAULT_MAX_ITER,
        random_state=0,
        algorithm="hamerly",
    )
    expected = np.unique(np.clip(np.rint(centers), 0, 255).astype(np.uint8), axis=0)
    palette = compress(pixels, 256).palette
    np.testing.assert_array_equal(palette, expected)


def test_the_fastest_fit_loses_little_quality():
    pixels = image_array("china")[::2, ::2]
    best = compress(pixels, 64, speed=1).quality("psnr")
    fastest = compress(pixels, 64, speed=11).quality("psnr")
    assert best - 0.25 <= fastest <= best + 0.05


def test_quality_is_measured_only_when_read(monkeypatch):
    from kmeans_scratch.compression import _metrics

    passes = []  # of distinct_pairs: one pass over every pixel
    real = _metrics.distinct_pairs
    monkeypatch.setattr(_metrics, "distinct_pairs", lambda *a: passes.append(1) or real(*a))
    pixels = image_array("coffee")[::4, ::4]
    result = compress(pixels, 16)
    assert result._quality == {}
    row = result.report("png", measures=("psnr",))
    assert "psnr" in row and "ssim" not in row and "delta_e" not in row
    assert set(result._quality) == {"psnr"}
    assert set(result.metrics) >= {"psnr", "ssim", "delta_e"}  # the API's full report
    assert passes == []  # undithered, a color's pixels share its entry: no pass needed
    dithered = compress(pixels, 16, dither=True)
    assert set(dithered.metrics) >= {"psnr", "ssim", "delta_e"}
    assert passes == [1]  # dithered, PSNR and ΔE share one pass over the pixels' pairs


def run(argv, **kwargs):
    done = subprocess.run(
        [*CLI, *map(str, argv)], capture_output=True, text=True, timeout=600, **kwargs
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_the_table_shows_psnr_and_the_other_measures_only_when_asked(tmp_path):
    path = tmp_path / "coffee.png"
    Image.fromarray(image_array("coffee")[::3, ::3]).save(path)
    plain = run([path, "-k", "8"])
    assert plain.returncode == 0
    header = plain.stdout.splitlines()[0]
    assert "PSNR" in header and "SSIM" not in header and "ΔE" not in header
    measured = run([path, "-k", "8", "--metrics", "--force"])
    header = measured.stdout.splitlines()[0]
    assert "PSNR" in header and "SSIM" in header and "ΔE" in header
    (row,) = json.loads(run([path, "-k", "8", "--json", "--force"]).stdout)
    assert {"psnr", "ssim", "delta_e"} <= set(row)


def test_compressing_imports_neither_scikit_learn_nor_figures_nor_scikit_image(tmp_path):
    """Nor Pillow's image modules: a common PNG is read by our own reader (see
    tests/test_png_read.py), and the output is written by our own encoder."""
    path = tmp_path / "coffee.png"
    Image.fromarray(image_array("coffee")[::3, ::3]).save(path)
    script = (
        "import sys\n"
        "from kmeans_scratch.compression.cli import main\n"
        f"assert main([{str(path)!r}, '-k', '16', '--quiet']) == 0\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & "
        "{'sklearn', 'matplotlib', 'skimage', 'tqdm'} | "
        "{name for name in sys.modules if name.startswith('PIL.') and 'Image' in name}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    with Image.open(tmp_path / "coffee-k16.png") as written:
        assert written.mode == "P" and written.size == (200, 134)
    # and kmeans_scratch.KMeans still is the scikit-learn estimator, loaded on first use
    from sklearn.base import BaseEstimator

    import kmeans_scratch

    assert issubclass(kmeans_scratch.KMeans, BaseEstimator)


def test_plan_workers_spreads_small_files_over_the_cores():
    assert plan_workers(24, 768 * 512, cores=2) == (2, 1)
    assert plan_workers(3, 768 * 512, cores=8) == (3, 2)
    assert plan_workers(1, 768 * 512, cores=2) == (0, 2)  # one file: every core on it
    assert plan_workers(5, PARALLEL_FILES_MAX_PIXELS + 1, cores=2) == (0, 2)  # large
    assert plan_workers(5, 768 * 512, cores=1) == (0, 1)


def started_at(size):
    """A task of the test below: when it started (its size rides along)."""
    return time.monotonic(), size


def test_the_workers_take_the_costliest_tasks_first_and_the_outcomes_come_in_input_order():
    sizes = [1, 5, 3, 5, 2]
    outcomes = list(
        map_in_workers(started_at, [(size,) for size in sizes], 1, 1, cost=lambda args: args[0])
    )
    assert all(ok for ok, _ in outcomes)
    assert [size for _, (_, size) in outcomes] == sizes
    run_order = sorted(range(len(sizes)), key=lambda task: outcomes[task][1][0])
    assert run_order == [1, 3, 2, 4, 0]  # largest first, ties in input order
    plain = list(map_in_workers(started_at, [(size,) for size in sizes], 1, 1))
    assert sorted(range(len(sizes)), key=lambda task: plain[task][1][0]) == [0, 1, 2, 3, 4]


def test_a_task_costs_the_pixels_of_the_input_it_names():
    pixels = {"a.png": 100, "b.png": 400}
    namespace = object()  # the command's arguments come first in a file's task
    assert pixels_of_task(pixels, (namespace, "b.png")) == 400
    assert pixels_of_task(pixels, (Path("a.png"),)) == 100  # a shared palette's histogram
    assert pixels_of_task(pixels, (namespace, "a.png", "palette")) == 100
    assert pixels_of_task(pixels, ([("histograms",)],)) == 0  # the shared fit names none


def test_a_batch_in_parallel_writes_exactly_what_each_file_alone_writes(tmp_path):
    """The batch runs in worker processes; a single file runs in the command itself.
    Every output is byte-identical, and the table lists the files in input order."""
    names = ("china", "coffee", "flower", "astronaut")
    sources = []
    for i, name in enumerate(names):
        sources.append(tmp_path / f"{i}-{name}.png")
        Image.fromarray(image_array(name)[::2, ::2]).save(sources[-1])
    batch, alone = tmp_path / "batch", tmp_path / "alone"
    alone.mkdir()
    done = run([*sources, "-k", "32", "--out-dir", batch, "--json"])
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [row["input"] for row in rows] == list(map(str, sources))
    for source in sources:
        single = alone / f"{source.stem}-k32.png"
        assert run([source, "-k", "32", "-o", single]).returncode == 0
        assert (batch / single.name).read_bytes() == single.read_bytes()


def test_a_failure_in_a_parallel_batch_is_one_line_and_the_rest_is_written(tmp_path):
    good = [tmp_path / f"good-{i}.png" for i in range(3)]
    for i, path in enumerate(good):
        Image.fromarray(np.roll(image_array("coffee")[::3, ::3], 7 * i, axis=1)).save(path)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    done = run([good[0], broken, good[1], good[2], "-k", "8", "--out-dir", tmp_path / "out"])
    assert done.returncode == 1
    inputs = [good[0], broken, good[1], good[2]]
    # stderr is not a terminal here: progress comes as plain lines, the failure as one line
    assert done.stderr.strip().splitlines() == [
        f"kmeans-compress: 1/4 {good[0]}",
        f"kmeans-compress: error: {broken}: truncated or corrupt image (Truncated File Read)",
        *(f"kmeans-compress: {i}/4 {path}" for i, path in enumerate(inputs[1:], start=2)),
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "good-0-k8.png",
        "good-1-k8.png",
        "good-2-k8.png",
    ]


def test_numba_threads_default_to_the_usable_cores_and_idle_threads_sleep():
    script = (
        "import os, kmeans_scratch, numba\n"
        "print(os.environ['NUMBA_NUM_THREADS'], numba.config.NUMBA_NUM_THREADS,"
        " os.environ.get('GOMP_SPINCOUNT'), os.environ.get('OMP_WAIT_POLICY'))\n"
    )
    names = ("NUMBA_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
    env = {k: v for k, v in os.environ.items() if k not in names}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.stdout.split() == [str(usable_cores()), str(usable_cores()), "None", "PASSIVE"]
    # A value the user set is kept, and a spin count of theirs gets no wait policy of ours.
    env.update(NUMBA_NUM_THREADS="1", GOMP_SPINCOUNT="1000")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.stdout.split() == ["1", "1", "1000", "None"]


def test_the_command_runs_openblas_on_one_thread_unless_told_otherwise(tmp_path):
    """OpenBLAS's idle threads spin for a while after NumPy loads it: the command, which
    needs no BLAS threads, starts one (in NumPy's OpenBLAS, and SciPy's when Numba brings
    it); a count the user set for OpenBLAS is kept."""
    from threadpoolctl import threadpool_info

    if not any(pool["internal_api"] == "openblas" for pool in threadpool_info()):
        pytest.skip("NumPy here is not built with OpenBLAS")
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(tmp_path / "black.png")
    script = (
        "import atexit, sys\n"
        "def blas_threads():\n"
        "    from threadpoolctl import threadpool_info\n"
        "    print(sorted({pool['num_threads'] for pool in threadpool_info()"
        " if pool['internal_api'] == 'openblas'}))\n"
        "atexit.register(blas_threads)\n"
        "from kmeans_scratch._command import main\n"
        "sys.argv[1:] = ['black.png', '-k', '2', '-q', '-f', '-o', 'out.png']\n"
        "main()\n"
    )
    names = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")
    quiet = {k: v for k, v in os.environ.items() if k not in names}
    cases = [({}, "[1]")]
    if usable_cores() >= 2:  # OpenBLAS caps a count at the cores
        cases += [({"OPENBLAS_NUM_THREADS": "2"}, "[2]"), ({"OMP_NUM_THREADS": "2"}, "[2]")]
    for setting, expected in cases:
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env={**quiet, **setting},
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == expected, setting


#: In a fresh process, with or without the command's allocator choices: 64 arrays of
#: 256 KiB (the heap's, under the 1 MiB from which arrays get pages of their own) made,
#: filled and freed twice; prints the page faults of the second time.
HEAP_CHURN = (
    "import resource, sys, numpy as np\n"
    "from kmeans_scratch.compression.cli import tune_allocator\n"
    "if sys.argv[1] == 'tuned':\n"
    "    tune_allocator()\n"
    "def churn():\n"
    "    arrays = [np.ones(1 << 15) for _ in range(64)]\n"
    "    del arrays\n"
    "churn()\n"
    "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
    "churn()\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_command_keeps_freed_heap_pages_for_its_next_arrays():
    """The heap keeps 16 MiB at its top when arrays are freed (``tune_allocator``): the
    next arrays of a run reuse those pages instead of faulting in 16 MiB anew, as they
    do under glibc's default of 128 KiB."""
    faults = {}
    for mode in ("default", "tuned"):
        done = subprocess.run(
            [sys.executable, "-c", HEAP_CHURN, mode], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        faults[mode] = int(done.stdout)
    assert faults["default"] >= 2000  # 16 MiB of 4 KiB pages, given back and taken again
    assert faults["tuned"] < 200, faults


@pytest.mark.parametrize(
    "cpu_max, expected", [("max 100000", None), ("150000 100000", 2), ("50000 100000", 1)]
)
def test_a_cgroup_quota_caps_the_cores(tmp_path, monkeypatch, cpu_max, expected):
    from kmeans_scratch import _cores

    path = tmp_path / "cpu.max"
    path.write_text(cpu_max + "\n")
    monkeypatch.setattr(_cores, "CGROUP_V2_CPU_MAX", path)
    assert cgroup_cpu_limit() == expected
    affinity = len(os.sched_getaffinity(0))
    assert usable_cores() == (min(affinity, expected) if expected else affinity)
