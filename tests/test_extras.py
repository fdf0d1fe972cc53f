"""The package's parts and their extras: the core alone fits; a part whose extra is missing
says, in one line, which extra and which module (``kmeans_scratch/_extras.py``).

Each case runs in a fresh interpreter where the extras' modules cannot be imported (set to
None in ``sys.modules``, which makes ``import`` fail as for a module not installed).
"""

import subprocess
import sys
import textwrap

import pytest

#: What ``pip install kmeans-scratch`` does not bring.
EXTRA_MODULES = (
    "PIL", "oxipng", "matplotlib", "skimage", "tqdm", "dask", "distributed", "dask.array",
)  # fmt: skip


def run_without_extras(code):
    blocked = "".join(f"sys.modules[{name!r}] = None\n" for name in EXTRA_MODULES)
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
    """The build's warm imports each layer's ``_warm`` module: without the extras none
    imports, and each says which extra it needs, on stderr, instead of failing the build."""
    done = run_without_extras(
        """
        from kmeans_scratch.build_kernels import import_layer_modules
        print(len(import_layer_modules("_warm")))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0"]
    assert done.stderr.strip().splitlines() == [
        "kmeans_scratch.compression._warm left out: kmeans_scratch.compression needs the "
        "[compress] extra (PIL is not installed): pip install 'kmeans-scratch[compress]'",
        "kmeans_scratch.dask._warm left out: kmeans_scratch.dask needs the [dask] extra "
        "(dask.array is not installed): pip install 'kmeans-scratch[dask]'",
    ]
