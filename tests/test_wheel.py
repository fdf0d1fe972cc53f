"""The package build (``setup.py``): a wheel holds the ahead-of-time module, and the command
installed from it compresses without starting Numba, as from the make-built tree.

The wheel is built from a copy of this checkout's sources without build isolation (the venv
has the build's requirements: no download), then unpacked into a folder that comes first
on the path.
"""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPOSITORY = Path(__file__).resolve().parent.parent
#: What the build reads: the package's sources and metadata (not the caches of this tree).
SOURCES = ("pyproject.toml", "setup.py", "README.md", "kmeans_scratch")

#: The command, saying at exit where the package came from and whether Numba started.
COMMAND = (
    "import atexit, sys\n"
    "import kmeans_scratch\n"
    "atexit.register(lambda: print('from', kmeans_scratch.__file__, 'numba' in sys.modules))\n"
    "from kmeans_scratch.compression.cli import entry_point\n"
    "sys.argv[0] = 'kmeans-compress'\n"
    "entry_point()\n"
)


#: The README's first example, saying at exit where the package came from.
SESSION = (
    "import numpy as np\n"
    "from sklearn.datasets import load_sample_image\n"
    "import kmeans_scratch\n"
    "from kmeans_scratch import KMeans\n"
    "pixels = load_sample_image('china.jpg').reshape(-1, 3).astype(np.float64)\n"
    "km = KMeans(n_clusters=16, algorithm='hamerly', random_state=0).fit(pixels)\n"
    "frozen = np.random.default_rng(0).normal(size=(2_000, 40)).astype(np.float32)\n"
    "frozen.flags.writeable = False  # Numba compiles for read-only arrays apart\n"
    "fitted = KMeans(n_clusters=8, random_state=0).fit(frozen)\n"
    "fitted.predict(frozen), fitted.transform(frozen), fitted.score(frozen)\n"
    "from scipy import sparse\n"
    "text = sparse.random(500, 100, density=0.05, format='csr', random_state=0, dtype=np.float32)\n"
    "fitted = KMeans(n_clusters=4, random_state=0).fit(text)\n"
    "fitted.predict(text), fitted.transform(text), fitted.score(text)\n"
    "print('from', kmeans_scratch.__file__, km.n_iter_)\n"
)


@pytest.fixture(scope="module")
def unpacked_wheel(tmp_path_factory):
    """The wheel of this checkout, built and unpacked: (its file, its folder)."""
    checkout = tmp_path_factory.mktemp("checkout")
    for name in SOURCES:
        source = REPOSITORY / name
        if source.is_dir():
            shutil.copytree(source, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, checkout / name)
    built = tmp_path_factory.mktemp("wheel")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    done = subprocess.run(
        [*pip_wheel, "--no-cache-dir", "-q", "-w", str(built), str(checkout)],
        capture_output=True,
        text=True,
        timeout=900,
        env={key: value for key, value in os.environ.items() if key != "NUMBA_CACHE_DIR"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = built.glob("kmeans_scratch-*.whl")
    folder = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(folder)
    return wheel, folder


def run_from(folder, cwd, script, *args):
    """Run ``script`` with the package unpacked in ``folder`` first on the path, Numba's
    cache where the package puts it, the ahead-of-time module allowed, and a first compile
    said on stderr; the finished process."""
    environment = {**os.environ, "PYTHONPATH": str(folder)}
    for name in ("NUMBA_CACHE_DIR", "KMEANS_SCRATCH_AHEAD", "KMEANS_SCRATCH_QUIET_COMPILE"):
        environment.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.slow
def test_the_wheel_is_for_this_platform_and_holds_the_ahead_of_time_module(unpacked_wheel):
    wheel, folder = unpacked_wheel
    assert not wheel.name.endswith("-none-any.whl")  # machine code: a platform's wheel
    modules = list(folder.glob("kmeans_scratch/__pycache__/kmeans-scratch-*/ahead-*/*.so"))
    assert len(modules) == 1
    assert (folder / "kmeans_scratch/compression/_compiled.py").is_file()


@pytest.mark.slow
def test_the_installed_command_runs_without_numba(unpacked_wheel, tmp_path):
    _, folder = unpacked_wheel
    pixels = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "photo.png")
    done = run_from(folder, tmp_path, COMMAND, "photo.png", "-k", "16", "-o", "out.png", "-q")
    assert done.stderr == ""  # nothing compiled, so nothing announced
    where, numba_imported = done.stdout.split()[-2:]
    assert Path(where).is_relative_to(folder)  # the wheel's package, not the checkout's
    assert numba_imported == "False"
    with Image.open(tmp_path / "out.png") as written:
        assert written.mode == "P" and written.size == (64, 48)


@pytest.mark.slow
def test_the_installed_packages_first_session_fit_compiles_nothing(unpacked_wheel, tmp_path):
    """The build warmed Numba's cache (``build_kernels --warm``) in its own folder; the
    unpacked package, elsewhere, loads those kernels for the README's first example and
    for a fit, ``predict``, ``transform`` and ``score`` on read-only float32 rows and on
    float32 CSR rows: the first compile of a kernel would say so on stderr
    (``_kernels.announce_first_compile``)."""
    _, folder = unpacked_wheel
    done = run_from(folder, tmp_path, SESSION)
    assert "compiling" not in done.stderr, done.stderr
    where = done.stdout.split()[-2]
    assert Path(where).is_relative_to(folder)
