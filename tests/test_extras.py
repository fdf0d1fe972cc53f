"""The package's parts and their extras: the core alone fits; a part whose extra is missing
says, in one line, which extra and which module (``kmeans_scratch/_extras.py``).

Each case runs in a fresh interpreter where the extras' modules cannot be imported (set to
None in ``sys.modules``, which makes ``import`` fail as for a module not installed).
"""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: What ``pip install kmeans-scratch`` does not bring.
EXTRA_MODULES = (
    "PIL", "oxipng", "deflate", "matplotlib", "skimage", "tqdm", "dask", "distributed",
    "dask.array",
)  # fmt: skip


def run_without_extras(code, modules=EXTRA_MODULES):
    blocked = "".join(f"sys.modules[{name!r}] = None\n" for name in modules)
    program = "import sys\n" + blocked + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_the_core_fits_without_any_extra():
    done = run_without_extras(
        """
        import numpy as np
        from kmeans_scratch import KMeans, k_means
        X = np.random.default_rng(0).random((500, 3))
        model = KMeans(4, n_init=1, random_state=0).fit(X)
        centers, labels, inertia = k_means(X, 4, random_state=0)
        print(model.n_iter_ > 0, np.allclose(centers, model.cluster_centers_))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "statement, message",
    [
        (
            "import kmeans_scratch.compression",
            "kmeans_scratch.compression needs the [compress] extra (PIL is not installed): "
            "pip install 'kmeans-scratch[compress]'",
        ),
        (
            "from kmeans_scratch.dask import KMeans",
            "kmeans_scratch.dask.KMeans needs the [dask] extra (dask.array is not installed): "
            "pip install 'kmeans-scratch[dask]'",
        ),
    ],
)
def test_a_part_without_its_extra_names_it(statement, message):
    done = run_without_extras(
        f"""
        from kmeans_scratch._extras import MissingExtra
        try:
            {statement}
        except MissingExtra as error:
            print(error)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == message


@pytest.mark.slow
def test_the_command_without_its_extra_says_so_in_one_line():
    done = run_without_extras(
        """
        sys.argv = ["kmeans-compress", "photo.jpg"]
        from kmeans_scratch._command import main
        main()
        """
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "kmeans-compress: kmeans_scratch.compression needs the [compress] extra "
        "(PIL is not installed): pip install 'kmeans-scratch[compress]'"
    ]


@pytest.mark.slow
def test_the_build_leaves_out_each_layer_without_its_extra():
    """The build's warm imports each layer's ``_warm`` module: without the extras the
    compressor's does not import, and says which extra it needs, on stderr, instead of
    failing the build; the Dask layer's imports without Dask (its k-means|| kernels are
    warmed on NumPy arrays) and leaves out the fits on Dask arrays, saying so."""
    done = run_without_extras(
        """
        from kmeans_scratch.build_kernels import import_layer_modules
        print([module.__name__ for module in import_layer_modules("_warm")])
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["['kmeans_scratch.dask._warm']"]
    assert done.stderr.strip().splitlines() == [
        "kmeans_scratch.compression._warm left out: kmeans_scratch.compression needs the "
        "[compress] extra (PIL is not installed): pip install 'kmeans-scratch[compress]'",
    ]


#: The import names of the dependencies whose distributions are named otherwise.
IMPORT_NAMES = {
    "scikit-learn": "sklearn",
    "pillow": "PIL",
    "pyoxipng": "oxipng",
    "scikit-image": "skimage",
}


def not_in_the_build():
    """The modules of the package's dependencies (with every extra but the tests' and the
    benchmarks') that pip's isolated build does not install: pyproject's ``[build-system]``
    ``requires`` leaves them out."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 on
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    project = pyproject["project"]
    extras = project["optional-dependencies"]
    needed = [*project["dependencies"], *extras["compress"], *extras["dask"]]
    built_with = {name_of(requirement) for requirement in pyproject["build-system"]["requires"]}
    missing = {name_of(requirement) for requirement in needed} - built_with
    return sorted(IMPORT_NAMES.get(name, name) for name in missing)


def name_of(requirement):
    return re.match(r"[A-Za-z0-9_.-]+", requirement).group().lower()


@pytest.mark.slow
def test_the_build_warms_a_sessions_kernels_with_what_it_installs():
    """``pip install .`` warms Numba's cache in an isolated build environment that holds
    only pyproject's build requirements: with every other dependency missing, the core's
    warm and the compressor's run (the Dask layer, whose extra the build lacks, is left
    out, but for its k-means|| kernels, which need no Dask).  The kernels come from this
    venv's cache, warmed by ``make kernels``."""
    blocked = not_in_the_build()
    assert "dask" in blocked
    done = run_without_extras(
        """
        from kmeans_scratch import build_kernels
        build_kernels.warm_just_in_time()
        """,
        modules=blocked,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "compression._warm left out" not in done.stderr
    assert "kmeans_scratch.dask._warm left out the fits on Dask arrays" in done.stderr
