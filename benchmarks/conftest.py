"""The benchmark suite: datasets, a record of every measured row, and ``RESULTS.md``.

Run with ``make bench`` (``make bench-quick`` for the headline rows alone, ``-m quick``).
Each contender is timed by pytest-benchmark (several rounds, the median is reported);
every row also records a quality number (inertia), so speed is never shown without
quality.  When the session ends with benchmarks enabled, the rows are written to
``benchmarks/RESULTS.md`` (and ``RESULTS.json`` beside it) with the machine, the library
versions and the ratios against the peer measured in the same run.  With
``--benchmark-disable`` (the smoke run in ``make test``) every contender runs once and
nothing is written.  What the run says as it goes (its plan, progress, where it wrote) is
``session.py``'s.
"""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .datasets import SHIPPED_IMAGES, image_names, shipped_image, short_name
from .session import RESULTS_PATH, BenchmarkRun, image_folder

#: The headline rows (``make bench-quick``, marked ``quick``): each test with the values of
#: the parameters it runs with there (a parameter not named takes all of its values).
QUICK = {
    "test_lloyd_iterations": {"dtype": {"float64"}, "k": {64}},
    "test_at_every_width": {
        "algorithm": {"lloyd"},
        "dtype": {"float64"},
        "n_features": {784},
        "k": {64},
    },
    "test_batch_against_pngquant": {},
    "test_one_file_in_a_fresh_process": {},
    "test_quantize": {"k": {256}, "quantizer": {"ours (compress)", "libimagequant"}},
}


def pytest_addoption(parser):
    parser.addoption(
        "--results",
        default=str(RESULTS_PATH),
        help="where to write the Markdown results table, and its rows and durations as .json "
        "beside it (default: benchmarks/RESULTS.md; with -k, benchmarks/RESULTS-subset.md)",
    )
    parser.addoption(
        "--max-rounds",
        type=int,
        default=None,
        help="at most this many timed rounds a measurement (make bench-quick passes 3)",
    )
    parser.addoption(
        "--large-megapixels",
        default="3,12,24",
        help="sizes of the large-image rows, in megapixels (default 3,12,24)",
    )
    parser.addoption(
        "--command-images",
        default=None,
        help="the command-against-pngquant rows on the images of this folder (make bench "
        "passes ../shared/images/kodak); without it, or when it is missing, the shipped "
        "images saved as PNG, and the run says so before it starts",
    )
    parser.addoption(
        "--images",
        default=os.environ.get("KMEANS_BENCH_IMAGES"),
        help="run the image rows on every image of this folder instead of the shipped "
        "images (or set KMEANS_BENCH_IMAGES)",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "quick: a headline row, run by `make bench-quick`")
    folder = config.getoption("--images")
    if folder and image_folder(folder) is None:
        raise pytest.UsageError(f"--images {folder}: no such folder, or no images in it")
    config.pluginmanager.register(BenchmarkRun(config), "benchmark-run")


@pytest.hookimpl(tryfirst=True)  # before -m selects by marks
def pytest_collection_modifyitems(items):
    """Mark the headline rows of :data:`QUICK` ``quick``."""
    for item in items:
        wanted = QUICK.get(getattr(item, "originalname", None))
        params = getattr(item, "callspec", None)
        params = params.params if params else {}
        if wanted is not None and all(params.get(p) in values for p, values in wanted.items()):
            item.add_marker(pytest.mark.quick)


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
    sources = image_folder(source_dir)
    if sources and not smoke:
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


@pytest.fixture(scope="session")
def timed_rounds(request, smoke):
    """``timed_rounds(n)``: the rounds of a measurement that the full run times ``n`` times:
    one in the smoke run, at most ``--max-rounds``."""
    cap = request.config.getoption("--max-rounds")
    return lambda n: 1 if smoke else min(n, cap or n)


@pytest.fixture(scope="session")
def recorder(request):
    """Where the tests record their rows; the run writes them at its end."""
    return request.config.pluginmanager.get_plugin("benchmark-run").recorder
