"""The README's examples run as written and do what its prose says; `make notebook` runs as root."""

import os
import re
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"


def python_block(section):
    """The first ```python block under the README's ``## section`` heading."""
    text = README.read_text(encoding="utf-8")
    body = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert body, f"README.md has no '## {section}' section"
    block = re.search(r"^```python\n(.*?)^```", body.group(1), re.S | re.M)
    assert block, f"README.md's '## {section}' has no python block"
    return block.group(1)


def run_snippet(section):
    namespace = {"__name__": "readme"}
    exec(compile(python_block(section), f"README.md ## {section}", "exec"), namespace)
    return namespace


def notebook_command(*overrides):
    """The jupyter command line that ``make -n notebook`` prints (a dry run: nothing runs)."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "ALLOW_ROOT"}
    }
    dry_run = subprocess.run(
        ["make", "-n", "notebook", *overrides],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line for line in dry_run.stdout.splitlines() if "jupyter notebook" in line]
    assert len(lines) == 1, dry_run.stdout
    return shlex.split(lines[0])


def test_make_notebook_allows_root_exactly_when_the_user_is_root():
    assert ("--allow-root" in notebook_command()) == (os.geteuid() == 0)
    assert "--allow-root" in notebook_command("ALLOW_ROOT=1")
    assert "--allow-root" not in notebook_command("ALLOW_ROOT=0")
    assert notebook_command("ALLOW_ROOT=0")[-1] == "examples/color_quantization.ipynb"


def test_the_fit_example_gives_scikit_learns_answer():
    """The sentence under the example: scikit-learn's elkan from the same seed gives the same
    labels and n_iter_, the centers and inertia to 1e-6 (relative)."""
    from sklearn.cluster import KMeans as SklearnKMeans

    namespace = run_snippet("Fit")
    pixels, km = namespace["pixels"], namespace["km"]
    theirs = SklearnKMeans(**{**km.get_params(), "algorithm": "elkan"}).fit(pixels)
    assert km.n_iter_ == theirs.n_iter_
    np.testing.assert_array_equal(km.labels_, theirs.labels_)
    np.testing.assert_allclose(km.cluster_centers_, theirs.cluster_centers_, rtol=1e-6)
    assert km.inertia_ == pytest.approx(theirs.inertia_, rel=1e-6)


def write_photo(path, seed):
    """A small photo-like image: smooth gradients plus noise, thousands of colors."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:48, 0:64]
    channels = [x * 4, y * 5, (x + y) * 2]
    pixels = np.stack(channels, axis=-1) + rng.normal(0, 12, (48, 64, 3))
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, quality=90)


def test_the_compress_example_runs_as_written_twice(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_photo(tmp_path / "photo.jpg", 0)
    (tmp_path / "photos").mkdir()
    for seed in (1, 2, 3):
        write_photo(tmp_path / "photos" / f"photo{seed}.jpg", seed)
    written = [tmp_path / "photo-k16.png"] + [
        tmp_path / "small" / f"photo{seed}-k64.png" for seed in (1, 2, 3)
    ]

    run_snippet("Compress")
    inodes = [path.stat().st_ino for path in written]
    run_snippet("Compress")  # a second run replaces the files, as it asks to
    replaced = [path.stat().st_ino != inode for path, inode in zip(written, inodes, strict=True)]
    assert all(replaced), f"a second run left {written} as they were: {replaced}"

    palettes = []
    for path in written:
        with Image.open(path) as image:
            assert image.format == "PNG" and image.mode == "P"
            image.load()
            palettes.append(image.getpalette())
    assert len(palettes[0]) == 16 * 3  # k = 16 (4 bits a pixel, or 8 where oxipng finds smaller)
    assert palettes[1] == palettes[2] == palettes[3]  # one palette for all
    assert len(palettes[1]) <= 64 * 3
