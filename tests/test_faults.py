"""Faults from the system, in real processes, nothing mocked: a file-size limit, an output
folder without write permission, and a read-only install in a read-only home.

The kernel itself refuses the writes.  Each run must end with one line per failed file
and no traceback, leave no partial or temporary file, and leave the inputs untouched.
"""

import ctypes
import ctypes.util
import errno
import functools
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import kmeans_scratch
from kmeans_scratch._numba_cache import kernel_cache_folder
from kmeans_scratch.compression import compress

from .helpers import image_array

CLI = [sys.executable, "-m", "kmeans_scratch.compression.cli"]
PACKAGE = Path(kmeans_scratch.__file__).parent

_LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
PR_CAPBSET_DROP = 24  # <linux/prctl.h>
#: <linux/capability.h>: what lets root ignore permission bits, and change any file's.
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3


def as_an_ordinary_user():
    """``preexec_fn``: permission bits hold for the child even when the tests run as root.

    Root keeps its user id but loses, from the bounding set, the capabilities that let it
    write into a folder without write permission (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
    CAP_FOWNER): the program it then runs has none of them, and the kernel refuses it
    what it refuses any user.  Switching to "nobody" would do the same, but nobody may
    not be able to run this interpreter (a pyenv Python under /root, mode 0700).
    """
    if os.geteuid() != 0:
        return
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if _LIBC.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def assert_cannot_write(folder, **options):
    """The child really is refused: making a file in ``folder`` raises PermissionError."""
    probe = f"import tempfile; tempfile.TemporaryFile(dir={str(folder)!r})"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        preexec_fn=as_an_ordinary_user,
        **options,
    )
    assert done.returncode == 1 and "PermissionError" in done.stderr, done.stderr


def folder_state(folder):
    """Every entry of ``folder``, hidden ones too: name → bytes (None for a folder)."""
    return {
        path.name: None if path.is_dir() else path.read_bytes() for path in sorted(folder.iterdir())
    }


def tree_state(folder):
    return {
        str(path.relative_to(folder)): None if path.is_dir() else path.read_bytes()
        for path in sorted(folder.rglob("*"))
    }


def make_photos(folder, batch):
    """PNG photos ``name-step.png`` of the images in ``batch``, every ``step``-th pixel."""
    folder.mkdir()
    paths = []
    for name, step in batch:
        path = folder / f"{name}-{step}.png"
        Image.fromarray(image_array(name)[::step, ::step]).save(path)
        paths.append(path)
    return paths


def assert_complete_png(path):
    with Image.open(path) as image:
        assert image.format == "PNG" and image.mode == "P"
        image.load()  # decodes to the end


@pytest.fixture(scope="module")
def numba_cache(tmp_path_factory):
    """A copy of this checkout's compiled kernels, laid out for NUMBA_CACHE_DIR.

    The children load their kernels from it, and anything Numba writes goes there, not
    beside the package: a run of the tests elsewhere cannot disturb them, nor they it.
    """
    cache = tmp_path_factory.mktemp("numba-cache")
    kernels = Path(kernel_cache_folder())
    shutil.copytree(kernels, cache / kernels.name)
    return cache


#: Four photos: the outputs (-k 8) of the 1st and 3rd are about 1 KiB, under LIMIT; those
#: of the 2nd and 4th are about 5 KiB, over it.
BATCH = (("china", 8), ("coffee", 3), ("flower", 6), ("astronaut", 3))
LIMIT = 2048


def limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def test_file_size_limit_fails_the_outputs_over_it_and_the_batch_goes_on(tmp_path, numba_cache):
    """Under RLIMIT_FSIZE, the outputs over the limit fail with EFBIG (CPython ignores
    SIGXFSZ), one line each; the others, before and after them, are written whole."""
    photos = tmp_path / "photos"
    sources = make_photos(photos, BATCH)
    names = [f"{source.stem}-k8.png" for source in sources]
    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_cache)}
    command = [*CLI, "-k", "8", "--json", *map(str, sources)]
    run = functools.partial(subprocess.run, env=env, capture_output=True, text=True, timeout=600)

    # Without the limit: the expected outputs.  This run also compiles and caches any
    # kernel the cache lacks, so that the run under the limit writes nothing but outputs.
    reference = tmp_path / "reference"
    done = run([*command, "--out-dir", str(reference)])
    assert done.returncode == 0 and done.stderr == "", done.stderr
    expected = {name: (reference / name).read_bytes() for name in names}
    sizes = [len(expected[name]) for name in names]
    assert sizes[0] < LIMIT < sizes[1] and sizes[2] < LIMIT < sizes[3], sizes

    inputs, cache = folder_state(photos), tree_state(numba_cache)
    done = run(command, preexec_fn=limit_file_size)

    assert done.returncode == 1  # not killed by SIGXFSZ (that would be -25)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 2, done.stderr
    for line, source, name in zip(lines, (sources[1], sources[3]), names[1::2], strict=True):
        assert line.startswith(f"kmeans-compress: error: {source}: "), line
        # "File too large", naming the output (not the temporary file, which is gone)
        assert line.endswith(f"{photos / name}: {os.strerror(errno.EFBIG)}"), line
    rows = json.loads(done.stdout)
    assert [row["input"] for row in rows] == list(map(str, sources))
    assert ["error" in row for row in rows] == [False, True, False, True]
    written = {names[0]: expected[names[0]], names[2]: expected[names[2]]}
    assert folder_state(photos) == {**inputs, **written}  # nothing else: no .tmp, no part
    for name in written:
        assert_complete_png(photos / name)
    assert tree_state(numba_cache) == cache  # Numba wrote nothing under the limit


@pytest.fixture
def locked(tmp_path):
    """A folder without write permission (mode 0555), given back its permission after."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


@pytest.mark.parametrize("case", ["out-dir", "output", "new folder in it", "next to inputs"])
def test_an_output_folder_without_write_permission(tmp_path, numba_cache, locked, case):
    """--out-dir, -o, --out-dir of a folder to make in it, or the folder of the inputs
    themselves: every file fails with one line naming it and "Permission denied", and
    nothing is created."""
    sources = make_photos(tmp_path / "photos", BATCH[:3])
    if case == "out-dir":
        argv = [*sources, "--out-dir", locked]
    elif case == "output":
        sources = sources[:1]
        argv = [*sources, "-o", locked / "photo.png"]
    elif case == "new folder in it":
        argv = [*sources, "--out-dir", locked / "new"]
    else:
        locked.chmod(0o755)
        sources = [Path(shutil.copy(source, locked)) for source in sources]
        locked.chmod(0o555)
        argv = sources
    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_cache)}
    assert_cannot_write(locked, env=env)
    before_locked, before_inputs = folder_state(locked), folder_state(sources[0].parent)

    done = subprocess.run(
        [*CLI, "-k", "8", "--quiet", *map(str, argv)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=as_an_ordinary_user,
    )

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == len(sources), done.stderr
    for line, source in zip(lines, sources, strict=True):
        assert line.startswith(f"kmeans-compress: error: {source}: "), line
        assert os.strerror(errno.EACCES) in line and str(locked) in line, line
        assert ".tmp" not in line, line  # the output is named, not its temporary file
    assert folder_state(locked) == before_locked  # nothing created, not even a .tmp
    assert folder_state(sources[0].parent) == before_inputs


def test_an_unwritable_output_folder_is_refused_before_the_input_is_read(tmp_path, locked):
    """The folder is checked with the output's name, before the input is decoded: an
    input that is no image at all is not even opened (its error would come first)."""
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not a picture")
    assert_cannot_write(locked)
    done = subprocess.run(
        [*CLI, "-k", "8", "--quiet", str(not_an_image), "--out-dir", str(locked)],
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=as_an_ordinary_user,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"kmeans-compress: error: {not_an_image}: {locked / 'notes-k8.png'}: "
        f"cannot write into {locked}: {os.strerror(errno.EACCES)}"
    ]
    assert folder_state(locked) == {}


def test_an_unreadable_input_and_an_unreadable_user_cache_are_named_or_passed_over(tmp_path):
    """An input this user may not read fails with one line, "Permission denied", not as a
    corrupt image with an errno; a user cache folder this user may not read (another
    user's home, mode 0700) is passed over: the others are compressed from the package's
    kernels (it failed every file with the cache folder's PermissionError)."""
    good, unreadable = tmp_path / "good.png", tmp_path / "unreadable.png"
    Image.fromarray(image_array("coffee")[::8, ::8]).save(good)
    unreadable.write_bytes(good.read_bytes())
    unreadable.chmod(0o000)
    home = tmp_path / "home"
    (home / "numba").mkdir(parents=True)
    home.chmod(0o000)
    try:
        done = subprocess.run(
            [*CLI, "-k", "8", "-q", str(good), str(unreadable), "--out-dir", str(tmp_path / "o")],
            capture_output=True,
            text=True,
            timeout=600,
            preexec_fn=as_an_ordinary_user,
            env={**os.environ, "XDG_CACHE_HOME": str(home)},
        )
    finally:
        home.chmod(0o755)
        unreadable.chmod(0o644)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines() == [
        f"kmeans-compress: error: {unreadable}: {os.strerror(errno.EACCES)}"
    ]
    assert [path.name for path in (tmp_path / "o").iterdir()] == ["good-k8.png"]


def make_read_only(folder):
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)


@pytest.mark.slow
def test_a_read_only_install_compiles_its_kernels_and_runs(tmp_path):
    """The package copied without its __pycache__ (no compiled kernel) into a read-only
    folder, run by a user whose home is read-only, with no NUMBA_CACHE_DIR: Numba has no
    folder to cache kernels in and, left alone, refuses to define them ("cannot cache
    function ...: no locator available", a traceback at import).  The package then
    caches them in a private temporary folder, removed at exit: they compile on first
    use, and the command works."""
    site = tmp_path / "site"
    copy = site / "kmeans_scratch"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    home, temp, out = tmp_path / "home", tmp_path / "temp", tmp_path / "out"
    for folder in (home, temp, out):
        folder.mkdir()
    source = tmp_path / "photo.png"
    Image.fromarray(image_array("china")[::8, ::8]).save(source)
    make_read_only(site)
    home.chmod(0o555)
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("NUMBA_", "XDG_", "PYTHON", "TMP", "TEMP"))
    }
    env.update(HOME=str(home), TMPDIR=str(temp), PYTHONPATH=str(site))
    run = functools.partial(
        subprocess.run,
        env=env,
        cwd=tmp_path,  # not the checkout: python -m puts the working folder first
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=as_an_ordinary_user,
    )
    assert not any(copy.rglob("*.nb[ic]"))
    for folder in (copy, copy / "compression", home):
        assert_cannot_write(folder, env=env)

    # The copy is what gets imported, and where Numba caches its kernels.
    done = run(
        [
            sys.executable,
            "-c",
            "import kmeans_scratch; from kmeans_scratch._numba_cache import "
            "kernel_cache_folder; print(kmeans_scratch.__file__); print(kernel_cache_folder())",
        ]
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    imported, cache_dir = done.stdout.splitlines()
    assert imported == str(copy / "__init__.py")
    assert Path(cache_dir).parent == temp and Path(cache_dir).name.startswith("kmeans-scratch-")
    assert not Path(cache_dir).exists()  # removed at exit

    done = run([*CLI, str(source), "-k", "8", "-o", str(out / "photo-k8.png")])

    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "photo-k8.png" in done.stdout
    assert (out / "photo-k8.png").read_bytes() == compress(source, 8).encode("png")
    assert_complete_png(out / "photo-k8.png")
    assert folder_state(temp) == {}  # the private cache is gone


def test_the_temporary_file_is_new_private_and_gone_if_it_cannot_open(tmp_path, monkeypatch):
    from kmeans_scratch.compression import _output

    handle, path = _output.new_temporary_file(tmp_path, "out.png")
    with handle:
        handle.write(b"x")
    name = Path(path).name
    assert (
        name.startswith(".out.png.") and name.endswith(".tmp") and len(name) == len("out.png") + 14
    )
    assert os.stat(path).st_mode & 0o777 == 0o600
    second, other = _output.new_temporary_file(tmp_path, "out.png")
    second.close()
    assert other != path and Path(path).read_bytes() == b"x"  # O_EXCL: never the same file

    def refuse(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_output, "open", refuse, raising=False)
    before, descriptors = sorted(tmp_path.iterdir()), len(os.listdir("/proc/self/fd"))
    with pytest.raises(KeyboardInterrupt):
        _output.new_temporary_file(tmp_path, "out.png")
    assert sorted(tmp_path.iterdir()) == before  # nothing left
    assert len(os.listdir("/proc/self/fd")) == descriptors  # and no descriptor kept open


class Interrupted(BaseException):
    """What the test's signal handler raises, as the command's handlers raise ``Stopped``."""


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_a_signal_while_the_temporary_file_is_made_leaves_nothing(
    tmp_path, monkeypatch, signal_name
):
    """The signal arrives during the ``open`` that creates the temporary file: its
    exception must not escape before the file's name is known."""
    import signal

    from kmeans_scratch.compression import _output

    number = getattr(signal, signal_name)
    real_open = os.open

    def open_then_signalled(*args, **kwargs):
        descriptor = real_open(*args, **kwargs)
        os.kill(os.getpid(), number)  # as if it came while the call ran
        return descriptor

    def interrupt(signal_number, frame):
        raise Interrupted(signal_number)

    previous = signal.signal(number, interrupt)
    try:
        monkeypatch.setattr(os, "open", open_then_signalled)
        descriptors = len(os.listdir("/proc/self/fd"))
        with pytest.raises(Interrupted):
            _output.atomic_write(tmp_path / "out.png", b"data")
        monkeypatch.undo()
        assert signal.getsignal(number) is interrupt  # the handler is back
    finally:
        signal.signal(number, previous)
    assert sorted(tmp_path.iterdir()) == []  # neither the output nor a temporary file
    assert len(os.listdir("/proc/self/fd")) == descriptors
