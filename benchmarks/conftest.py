"""The benchmark suite: datasets, a record of every measured row, and ``RESULTS.md``.

Run with ``make bench``.  Each contender is timed by pytest-benchmark (several rounds, the
median is reported); every row also records a quality number (inertia), so speed is never
shown without quality.  When the session ends with benchmarks enabled, the rows are
written to ``benchmarks/RESULTS.md`` with the machine, the library versions and the
ratios against the peer measured in the same run.  With ``--benchmark-disable`` (the
smoke run in ``make test``) every contender runs once and nothing is written.
"""

import os
import platform
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .datasets import SHIPPED_IMAGES, folder_images, image_names, shipped_image, short_name
from .report import write_results

RESULTS_PATH = Path(__file__).with_name("RESULTS.md")


def pytest_addoption(parser):
    parser.addoption(
        "--results",
        default=str(RESULTS_PATH),
        help="where to write the Markdown results table (default: benchmarks/RESULTS.md)",
    )
    parser.addoption(
        "--large-megapixels",
        default="3,12,24",
        help="sizes of the large-image rows, in megapixels (default 3,12,24)",
    )
    parser.addoption(
        "--command-images",
        default=None,
        help="the command-against-pngquant rows on the images of this folder (default: the "
        "shipped images saved as PNG; make bench passes the Kodak photos when present)",
    )
    parser.addoption(
        "--images",
        default=os.environ.get("KMEANS_BENCH_IMAGES"),
        help="run the image rows on every image of this folder instead of the shipped "
        "images (or set KMEANS_BENCH_IMAGES)",
    )


def pytest_generate_tests(metafunc):
    """``image_name``: the shipped images, or those of ``--images DIR``."""
    if "image_name" in metafunc.fixturenames:
        names = image_names(metafunc.config.getoption("--images"))
        metafunc.parametrize("image_name", names, ids=[short_name(n) for n in names])
    if "megapixels" in metafunc.fixturenames:
        if metafunc.config.getoption("benchmark_disable"):
            sizes = [0.06]  # the smoke run: the same jobs on a 300 × 200 mosaic
        else:
            sizes = [float(mp) for mp in metafunc.config.getoption("--large-megapixels").split(",")]
        metafunc.parametrize("megapixels", sizes, ids=[f"{mp:g}MP" for mp in sizes])


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels():
    """Compile (or load from Numba's cache) every kernel before anything is timed.

    A kernel whose source changed since the cache was written is compiled on its first
    call, which would otherwise be the first timed fit that uses it (compile time is
    measured on its own, in ``test_core.py``).
    """
    from kmeans_scratch import KMeans
    from kmeans_scratch.compression import compress

    rng = np.random.RandomState(0)
    for dtype in (np.float32, np.float64):
        X = rng.uniform(0, 255, (3000, 3)).astype(dtype)
        for algorithm in ("lloyd", "hamerly", "elkan"):
            KMeans(16, algorithm=algorithm, n_init=1, random_state=0).fit(X)
    for n_channels in (1, 3, 4):  # gray goes through the key-table histogram
        compress(rng.randint(0, 256, (60, 50, n_channels)).astype(np.uint8), 16).report()


@pytest.fixture(scope="session")
def large_image_dir(tmp_path_factory):
    """Where the large mosaics and their outputs go (made once per session)."""
    return tmp_path_factory.mktemp("large-images")


@pytest.fixture(scope="session")
def command_inputs(request, tmp_path_factory, smoke):
    """Copies of the input PNGs in a folder of their own."""
    folder = tmp_path_factory.mktemp("command-inputs")
    source_dir = request.config.getoption("--command-images")
    if source_dir and Path(source_dir).is_dir() and not smoke:
        sources = folder_images(source_dir)
        for source in sources:
            shutil.copyfile(source, folder / source.name)
        label = f"{len(sources)} images of {Path(source_dir).name}/"
    else:
        for name in SHIPPED_IMAGES[: 2 if smoke else None]:
            pixels = shipped_image(name)
            Image.fromarray(pixels[::4, ::4] if smoke else pixels).save(folder / f"{name}.png")
        label = "the shipped images"
    return sorted(folder.iterdir()), label


@pytest.fixture(scope="session")
def smoke(request):
    """True in the smoke run (``--benchmark-disable``): every contender once, on small data."""
    return bool(request.config.getoption("benchmark_disable"))


class Recorder:
    """Rows measured in this session, grouped into the tables of RESULTS.md."""

    def __init__(self):
        self.rows = []

    def add(self, table, benchmark, **fields):
        """Record the timing pytest-benchmark took of ``benchmark``, with ``fields``."""
        stats = getattr(benchmark, "stats", None)
        if stats is None:  # --benchmark-disable: the code ran once, untimed
            return
        self.add_seconds(table, benchmark, stats.stats.median, **fields)

    def add_seconds(self, table, benchmark, seconds, **fields):
        """Record a time measured by the benchmark itself (e.g. inside a child process)."""
        if benchmark.disabled:
            return
        self.rows.append({"table": table, "median_s": seconds, **fields})


@pytest.fixture(scope="session")
def recorder(request):
    recorder = Recorder()
    yield recorder
    if recorder.rows:
        write_results(Path(request.config.getoption("--results")), recorder.rows, machine())


def machine():
    """A one-paragraph description of this machine and the libraries measured."""
    from importlib.metadata import version

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = ", ".join(
        f"{name} {version(name)}"
        for name in ("kmeans-scratch", "numpy", "numba", "scikit-learn", "threadpoolctl")
    )
    return (
        f"{cpu}, {os.cpu_count()} logical cores, Python {platform.python_version()} "
        f"on {platform.system()} {platform.release()}; {versions}"
    )
