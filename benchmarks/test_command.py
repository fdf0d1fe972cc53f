"""The command as its users time it: ``kmeans-compress`` against ``pngquant``, file to file.

Every run is a fresh process started the way a user starts it, interpreter start-up and
imports included, reading PNG files and writing PNG files; the two commands alternate
round by round, so that a busy phase of the machine hits both, and the medians are
compared.  Both read copies of the inputs in a temporary folder (pngquant writes next
to them).  Settings: k = 256 without dithering, each command at its default speed
(``kmeans-compress -k 256``, ``pngquant --nofs 256``).

- **batch**: one call over every input.
- **one file**: one call per input.
- **speed levels**: one batch call at ``--speed`` 1, 4 (the default) and 11.
- **start-up**: where one file's time goes in our command (interpreter, imports, loading
  the compiled kernels, the work).
- **busy core**: ``compress()`` of a 512 × 512 photo at k = 256 in a process of its own,
  on a quiet machine and with another process spinning on one of the cores; our default
  (idle OpenMP threads sleep at once: ``OMP_WAIT_POLICY=PASSIVE``) beside a short spin
  (``GOMP_SPINCOUNT=1000``) and GNU OpenMP's own default (300,000 spins), and pngquant
  on the same file.

The inputs are ``--command-images DIR`` (``make bench`` passes the 24 Kodak photos when
they are there) or the four shipped images saved as PNG.  pngquant is the Debian package
(``apt-get install pngquant``); without it, its rows are missing and the tables say so.
"""

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .contenders import alternate
from .datasets import shipped_image

PNGQUANT = shutil.which("pngquant")
#: The console script pip installed beside this Python, as a user starts the command: its
#: entry point (``kmeans_scratch/_command.py``) gives OpenBLAS one thread before NumPy
#: loads, which ``python -m kmeans_scratch.compression.cli`` (these rows until
#: 2026-12-05) did not: 1.4 × the CPU time for one file, 1.03 × the wall time.
OURS = [str(Path(sys.executable).with_name("kmeans-compress"))]
K = 256


def wall_time(argv, env=None):
    """Seconds from the start of ``argv`` in a new process to its exit (status 0)."""
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    return seconds


def ours_argv(inputs, out_dir):
    return [*OURS, *map(str, inputs), "-k", str(K), "--out-dir", str(out_dir), "-q", "--force"]


def pngquant_argv(inputs):
    return [PNGQUANT, "--nofs", str(K), "--force", "--ext", "-pq.png", *map(str, inputs)]


def ours_output(source, out_dir):
    return out_dir / f"{source.stem}-k{K}.png"


def pngquant_output(source):
    return source.with_name(f"{source.stem}-pq.png")


def psnr_of_files(source, output):
    """PSNR (dB) of the RGB of ``output`` against ``source``, from the files."""
    with Image.open(source) as a, Image.open(output) as b:
        a = np.asarray(a.convert("RGB"), dtype=np.float64)
        b = np.asarray(b.convert("RGB"), dtype=np.float64)
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def contenders(inputs, out_dir):
    """The timers of both commands over ``inputs`` (pngquant's only when installed)."""
    runs = {"kmeans-compress": lambda: wall_time(ours_argv(inputs, out_dir))}
    if PNGQUANT:
        runs["pngquant"] = lambda: wall_time(pngquant_argv(inputs))
    return runs


def quality_and_size(inputs, out_dir):
    """Mean PSNR and total bytes of each command's outputs for ``inputs``."""
    outputs = {"kmeans-compress": [ours_output(source, out_dir) for source in inputs]}
    if PNGQUANT:
        outputs["pngquant"] = [pngquant_output(source) for source in inputs]
    return {
        name: (
            statistics.mean(psnr_of_files(s, o) for s, o in zip(inputs, files, strict=True)),
            sum(path.stat().st_size for path in files),
        )
        for name, files in outputs.items()
    }


def test_batch_against_pngquant(benchmark, recorder, command_inputs, tmp_path, timed_rounds):
    inputs, label = command_inputs
    rounds = timed_rounds(5)
    times = benchmark.pedantic(
        alternate, args=(contenders(inputs, tmp_path), rounds), rounds=1, iterations=1
    )
    for name, (psnr, n_bytes) in quality_and_size(inputs, tmp_path).items():
        recorder.add_seconds(
            "command-batch",
            benchmark,
            statistics.median(times[name]),
            contender=name,
            images=label,
            n_files=len(inputs),
            runs=times[name],
            psnr=psnr,
            bytes=n_bytes,
            pngquant_missing=PNGQUANT is None,
        )


def test_one_file_in_a_fresh_process(benchmark, recorder, command_inputs, tmp_path, timed_rounds):
    inputs, label = command_inputs
    rounds = timed_rounds(3)

    def every_file():
        return {source.name: alternate(contenders([source], tmp_path), rounds) for source in inputs}

    per_file = benchmark.pedantic(every_file, rounds=1, iterations=1)
    names = ["kmeans-compress", *(["pngquant"] if PNGQUANT else [])]
    for name in names:
        medians = [statistics.median(times[name]) for times in per_file.values()]
        row = {"contender": name, "images": label, "n_files": len(inputs)}
        if PNGQUANT:
            ratios = {
                file: statistics.median(times[name]) / statistics.median(times["pngquant"])
                for file, times in per_file.items()
            }
            worst = max(ratios, key=ratios.get)
            row.update(
                ratio_median=statistics.median(ratios.values()),
                ratio_range=(min(ratios.values()), ratios[worst]),
            )
            if name != "pngquant":  # against itself every file is 1.00
                row["worst_file"] = Path(worst).stem
        recorder.add_seconds(
            "command-one-file",
            benchmark,
            statistics.median(medians),
            fastest=min(medians),
            slowest=max(medians),
            pngquant_missing=PNGQUANT is None,
            **row,
        )


#: The speed levels ``--speed`` help and docs/compressor.md describe, against the default.
SPEED_LEVELS = (1, 4, 11)


def test_speed_levels(benchmark, recorder, command_inputs, tmp_path, timed_rounds):
    """What ``--speed`` buys, as a user times it: one batch call over the inputs at each
    level (k = 256, no dithering), the levels alternating; wall time and bytes against
    the default's, PSNR of the written files."""
    inputs, label = command_inputs
    rounds = timed_rounds(3)
    folders = {level: tmp_path / f"speed-{level}" for level in SPEED_LEVELS}
    runs = {
        level: (
            lambda level=level: wall_time(
                [*ours_argv(inputs, folders[level]), "--speed", str(level)]
            )
        )
        for level in SPEED_LEVELS
    }
    times = benchmark.pedantic(alternate, args=(runs, rounds), rounds=1, iterations=1)
    for level, folder in folders.items():
        outputs = [ours_output(source, folder) for source in inputs]
        recorder.add_seconds(
            "command-speed",
            benchmark,
            statistics.median(times[level]),
            speed=level,
            images=label,
            n_files=len(inputs),
            runs=times[level],
            psnr=statistics.mean(psnr_of_files(s, o) for s, o in zip(inputs, outputs, strict=True)),
            bytes=sum(path.stat().st_size for path in outputs),
        )


#: Run in a fresh process: where the time of one file goes, with the kernels the command
#: uses (the ahead-of-time module) or Numba's (argv[3]).
STARTUP_PROBE = """
import json, sys, time
start = time.perf_counter()
from kmeans_scratch._kernels import use_ahead_of_time
from kmeans_scratch.compression import compress
imported = time.perf_counter()
use_ahead_of_time(sys.argv[3] == "ahead-of-time")
compress(sys.argv[1], 256).save(sys.argv[2], overwrite=True)
first = time.perf_counter()
compress(sys.argv[1], 256).save(sys.argv[2], overwrite=True)
second = time.perf_counter()
print(json.dumps({"imports": imported - start, "first": first - imported,
                  "work": second - first, "numba": "numba" in sys.modules}))
"""


@pytest.mark.parametrize("kernels", ["ahead-of-time", "Numba"])
def test_startup_budget(benchmark, recorder, command_inputs, tmp_path, timed_rounds, kernels):
    """Interpreter start (``python -c pass``), imports, and two compressions of one file:
    the first loads the kernels (the ahead-of-time module, or Numba's import, start and
    cache), the second is the work alone.  Every run's parts are recorded: the table
    derives the kernels' loading from them (``report.kernel_loading``)."""
    import json

    source = command_inputs[0][0]
    rounds = timed_rounds(5)

    def measure():
        parts = {
            "interpreter": [],
            "imports": [],
            "first compression": [],
            "second compression": [],
        }
        for _ in range(rounds):
            parts["interpreter"].append(wall_time([sys.executable, "-c", "pass"]))
            done = subprocess.run(
                [sys.executable, "-c", STARTUP_PROBE, str(source), tmp_path / "out.png", kernels],
                capture_output=True,
                text=True,
                check=True,
            )
            times = json.loads(done.stdout)
            assert times["numba"] is (kernels == "Numba")  # the kernels the row names
            parts["imports"].append(times["imports"])
            parts["first compression"].append(times["first"])
            parts["second compression"].append(times["work"])
        return parts

    parts = benchmark.pedantic(measure, rounds=1, iterations=1)
    answers = {
        flag: statistics.median(wall_time([*OURS, flag]) for _ in range(rounds))
        for flag in ("--help", "--version")
    }
    for part, seconds in parts.items():
        recorder.add_seconds(
            "startup",
            benchmark,
            statistics.median(seconds),
            part=part,
            runs=seconds,
            kernels=kernels,
            image=source.name,
            answers=answers,
        )


#: Run in a fresh process: compress() of one file, median of several after a warm-up.
BUSY_PROBE = """
import json, statistics, sys, time
from kmeans_scratch.compression import compress
compress(sys.argv[1], 256)
times = []
for _ in range(7):
    start = time.perf_counter()
    compress(sys.argv[1], 256)
    times.append(time.perf_counter() - start)
print(json.dumps(statistics.median(times)))
"""


def spinner():
    """A process that keeps one core busy until it is killed."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def test_busy_core(benchmark, recorder, tmp_path, smoke):
    import json

    source = tmp_path / "astronaut.png"  # 512 × 512
    Image.fromarray(shipped_image("astronaut")[:: 4 if smoke else 1, :: 4 if smoke else 1]).save(
        source
    )
    cases = {
        "ours, default (OMP_WAIT_POLICY=PASSIVE)": {},
        "ours, GOMP_SPINCOUNT=1000": {"GOMP_SPINCOUNT": "1000"},
        "ours, GNU OpenMP's own default (GOMP_SPINCOUNT=300000)": {"GOMP_SPINCOUNT": "300000"},
    }

    def ours(settings):
        names = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
        env = {k: v for k, v in os.environ.items() if k not in names} | settings
        done = subprocess.run(
            [sys.executable, "-c", BUSY_PROBE, str(source)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        return json.loads(done.stdout)

    def pngquant_once():
        times = [wall_time([PNGQUANT, "--nofs", str(K), "--force", str(source)]) for _ in range(7)]
        return statistics.median(times)

    def measure():
        results = {}
        for machine in ("quiet", "one core busy"):
            busy = spinner() if machine != "quiet" else None
            try:
                for case, settings in cases.items():
                    results[(case, machine)] = ours(settings)
                if PNGQUANT:
                    results[("pngquant (one file, fresh process)", machine)] = pngquant_once()
            finally:
                if busy is not None:
                    busy.kill()
                    busy.wait()
        return results

    results = benchmark.pedantic(measure, rounds=1, iterations=1)
    for (case, machine), seconds in results.items():
        recorder.add_seconds(
            "busy-core",
            benchmark,
            seconds,
            case=case,
            machine=machine,
            quiet=results[(case, "quiet")],
        )
