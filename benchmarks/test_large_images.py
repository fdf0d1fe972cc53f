"""Large images: time and peak memory from file to file, against pngquant and libimagequant.

Each row runs in a fresh child process (``benchmarks/large_job.py``), so that its peak
resident memory is its own; pngquant (when installed) is that child's own child, timed
and measured as the whole process it is.  *Process wall* is the whole child, interpreter
start and imports included, the way a user times a command.  The images are 3:2 mosaics
of the four shipped images, each resampled (Lanczos) to a quarter of the size:
``--large-megapixels`` sets the sizes (default 3, 12 and 24 megapixels).
"""

import functools
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from kmeans_scratch.compression._histogram import color_histogram
from kmeans_scratch.compression._metrics import psnr

from .contenders import from_pil_palette
from .datasets import large_mosaic

CONTENDERS = ("ours", "libimagequant", *(["pngquant"] if shutil.which("pngquant") else []))
REPOSITORY = Path(__file__).resolve().parent.parent


def run_job(contender, source, output):
    """The child's JSON line, with ``process_seconds``: the whole child's wall time (for
    pngquant, its own process's)."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.large_job", contender, str(source), str(output)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    process_seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    job = json.loads(result.stdout.splitlines()[-1])
    job["process_seconds"] = job["seconds"] if contender == "pngquant" else process_seconds
    return job


def palette_and_indices(path):
    with Image.open(path) as image:
        assert image.mode == "P"
        return from_pil_palette(image, image.size[::-1])


@functools.cache
def input_histogram(source):
    with Image.open(source) as image:
        return color_histogram(np.asarray(image.convert("RGB")))


#: Timed rounds per size: in each, every contender runs once, in turn, so that a slow
#: stretch of a shared machine falls on all of them; the table gives their medians.
ROUNDS = 3


def alternate(source, outputs, rounds):
    """Each contender's jobs, over ``rounds`` rounds after an untimed one (which leaves
    any kernel the size needs compiled in Numba's cache and the input in the page cache,
    as for any run after the first)."""
    jobs = {contender: [] for contender in outputs}
    for round_number in range(rounds + 1):
        for contender, output in outputs.items():
            job = run_job(contender, source, output)
            if round_number:
                jobs[contender].append(job)
    return jobs


def median_of(jobs, key):
    """The median of ``key`` over the jobs; None where it was not measured (pngquant's
    quantization)."""
    values = [job[key] for job in jobs]
    return None if None in values else float(np.median(values))


def test_large_image(benchmark, recorder, megapixels, large_image_dir, smoke):
    source = large_mosaic(megapixels, large_image_dir)
    outputs = {c: large_image_dir / f"{source.stem}-{c}.png" for c in CONTENDERS}
    jobs = benchmark.pedantic(
        alternate, args=(source, outputs, 1 if smoke else ROUNDS), rounds=1, iterations=1
    )
    for contender, output in outputs.items():
        palette, indices = palette_and_indices(output)
        height, width = indices.shape
        assert palette.shape[0] <= 256 and width * height == input_histogram(source).inverse.size
        runs = jobs[contender]
        recorder.add_seconds(
            "large-images",
            benchmark,
            median_of(runs, "seconds"),
            megapixels=width * height / 1e6,
            size=f"{width}×{height}",
            contender=contender,
            rounds=len(runs),
            process_s=median_of(runs, "process_seconds"),
            quantize_s=median_of(runs, "quantize_seconds"),
            peak_rss=median_of(runs, "peak_rss"),
            import_rss=median_of(runs, "import_rss"),
            psnr=psnr(input_histogram(source), palette, indices),
            png_bytes=output.stat().st_size,
        )
