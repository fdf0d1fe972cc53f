"""``kmeans-compress`` end to end: outputs, reports, and every error as one line."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from kmeans_scratch.compression.cli import main

from .helpers import image_array


@pytest.fixture
def photos(tmp_path):
    """Three small photos in a folder: two PNG, one JPEG."""
    paths = []
    for name, image in (("china", "china"), ("coffee", "coffee"), ("flower", "flower")):
        path = tmp_path / (f"{name}.jpg" if name == "flower" else f"{name}.png")
        Image.fromarray(image_array(image)[::3, ::3]).save(path)
        paths.append(path)
    return paths


def run_cli(capsys, *argv):
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def folder_state(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_one_image_next_to_it(capsys, photos):
    code, out, err = run_cli(capsys, photos[0], "-k", "16")
    assert code == 0 and err == ""
    written = photos[0].parent / "china-k16.png"
    assert "china-k16.png" in out and "PSNR" in out
    with Image.open(written) as image:
        assert image.mode == "P" and len(image.getpalette()) // 3 <= 16


@pytest.mark.slow
def test_batch_with_out_dir_json_and_a_failure_in_the_middle(capsys, photos, tmp_path):
    missing = tmp_path / "missing.png"
    out_dir = tmp_path / "small" / "nested"
    code, out, err = run_cli(
        capsys, photos[0], missing, photos[2], "-k", "8", "--out-dir", out_dir, "--json"
    )
    assert code == 1
    assert err.strip().splitlines()[-1] == f"kmeans-compress: error: {missing}: no such file"
    rows = json.loads(out)  # every input has a row, in input order; the failure says why
    assert [row["input"] for row in rows] == [str(photos[0]), str(missing), str(photos[2])]
    assert rows[1] == {"input": str(missing), "error": f"{missing}: no such file"}
    assert sorted(p.name for p in out_dir.iterdir()) == ["china-k8.png", "flower-k8.png"]
    assert all(row["colors_used"] <= 8 and row["output_bytes"] > 0 for row in rows[::2])


def test_existing_output_needs_force_and_the_input_is_never_overwritten(capsys, photos):
    source = photos[0]
    original = source.read_bytes()
    assert run_cli(capsys, source, "-k", "4")[0] == 0
    code, _, err = run_cli(capsys, source, "-k", "4")
    assert code == 1 and "already exists (use --force" in err
    assert run_cli(capsys, source, "-k", "4", "--force")[0] == 0
    # -o naming the input: refused without --force, even though -o is explicit
    code, _, err = run_cli(capsys, source, "-o", source, "-k", "4")
    assert code == 1 and "replace the input" in err
    assert source.read_bytes() == original
    # an output path that merely resolves to the input through the default naming cannot exist,
    # but -o with --force is the user's explicit wish
    assert run_cli(capsys, source, "-o", source, "-k", "4", "--force")[0] == 0
    with Image.open(source) as image:
        assert image.mode == "P"


def test_skip_if_larger_writes_nothing(capsys, tmp_path):
    tiny = tmp_path / "flat.png"
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(tiny, optimize=True)
    code, out, _ = run_cli(capsys, tiny, "-k", "2", "--skip-if-larger", "--json")
    row = json.loads(out)[0]
    assert code == 98 and row["output"] is None  # pngquant's status for a skipped file
    assert "skipped" in row["notes"][-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flat.png"]


def test_sweep_writes_files_figures_and_reports(capsys, photos, tmp_path):
    out_dir = tmp_path / "sweep"
    code, out, _ = run_cli(capsys, photos[1], "--sweep", "2,4,8", "--out-dir", out_dir)
    assert code == 0
    names = sorted(p.name for p in out_dir.iterdir())
    for expected in (
        "coffee-k2.png",
        "coffee-k4.png",
        "coffee-k8.png",
        "coffee-report.csv",
        "coffee-report.md",
        "coffee-grid.png",
        "coffee-size.png",
        "coffee-quality.png",
        "coffee-scatter.png",
    ):
        assert expected in names
    assert "PSNR" in out
    csv_lines = (out_dir / "coffee-report.csv").read_text().splitlines()
    assert len(csv_lines) == 4 and csv_lines[0].startswith("n_colors,")


def test_target_psnr_and_formats(capsys, photos, tmp_path):
    code, out, _ = run_cli(
        capsys, photos[1], "--target-psnr", "30", "--json", "--out-dir", tmp_path / "t"
    )
    row = json.loads(out)[0]
    assert code == 0 and row["psnr"] >= 30 and row["output"].endswith(f"-k{row['n_colors']}.png")
    for fmt in ("gif", "webp"):
        code, out, _ = run_cli(
            capsys, photos[1], "-k", "6", "--format", fmt, "--json", "--out-dir", tmp_path / fmt
        )
        assert code == 0 and json.loads(out)[0]["output"].endswith(f".{fmt}")
    code, out, _ = run_cli(capsys, photos[1], "-o", tmp_path / "x.webp", "-k", "300", "--quiet")
    assert code == 0 and out == "" and (tmp_path / "x.webp").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["-k", "0"], "argument -k/--colors: expected a whole number >= 1, got '0'"),
        (["-k", "many"], "expected a whole number >= 1, got 'many'"),
        (["-k", "300"], "k=300: a PNG palette holds at most 256 colors"),
        (["--sweep", "2,x"], "--sweep takes whole numbers"),
        (["--color-space", "hsv"], "invalid choice: 'hsv'"),
        (["--target-psnr", "30", "--sweep", "2,4"], "do not go with --sweep"),
        (["-o", "out.bmp"], "unknown format 'bmp'"),
        (["--max-memory", "lots"], "expected a size such as 800M or 2G, got 'lots'"),
        (["--max-memory", "0"], "expected a size such as 800M or 2G, got '0'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, photos, argv, message):
    before = folder_state(photos[0].parent)
    code, out, err = run_cli(capsys, photos[0], *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err
    assert folder_state(photos[0].parent) == before


def test_two_inputs_with_one_output_is_a_usage_error(capsys, photos):
    code, _, err = run_cli(capsys, photos[0], photos[1], "-o", "x.png")
    assert code == 2 and "-o/--output takes exactly one IMAGE" in err


def test_file_errors_exit_1_and_leave_nothing(capsys, tmp_path, photos):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "noise.png").write_bytes(np.random.RandomState(1).bytes(3000))
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(photos[2].read_bytes()[:1500])
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    cases = [
        ([tmp_path / "empty.png"], "not an image"),
        ([tmp_path / "noise.png"], "not an image"),
        ([cut], "truncated or corrupt"),
        ([tmp_path], "is a folder"),
        ([photos[0], "--max-pixels", "100"], "over the limit of 100 pixels"),
        (
            [photos[0], "--max-memory", "200K"],
            "214×143 pixels would need about 1.1 MiB of memory, more than the --max-memory",
        ),
        ([photos[0], "--out-dir", not_a_folder / "sub"], str(not_a_folder)),
    ]
    for argv, message in cases:
        before = folder_state(tmp_path)
        code, _, err = run_cli(capsys, *argv, "-k", "4")
        assert code == 1, argv
        assert len(err.strip().splitlines()) == 1 and message in err, err
        assert folder_state(tmp_path) == before  # no partial output, inputs untouched


def test_real_process_no_arguments_demo_and_version(tmp_path):
    """The installed command, in a fresh process: the demo, --version, and no traceback."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "kmeans_scratch.compression.cli"]
    done = subprocess.run(
        [*command, "--sweep", "2,4"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "kmeans-compress-demo" / "china-k4.png").exists()
    assert (tmp_path / "kmeans-compress-demo" / "china-scatter.png").exists()
    version = subprocess.run([*command, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("kmeans-compress ")
    bad = subprocess.run(
        [*command, str(tmp_path / "nope.png")], capture_output=True, text=True, env=env
    )
    assert bad.returncode == 1
    assert bad.stderr.strip() == f"kmeans-compress: error: {tmp_path / 'nope.png'}: no such file"


@pytest.mark.slow
@pytest.mark.parametrize(
    "signal_number, status, runner",
    [
        (signal.SIGINT, 130, ()),
        (signal.SIGTERM, 143, ()),
        pytest.param(signal.SIGINT, 130, ("--workers", "2"), id="SIGINT-dask-workers"),
        pytest.param(signal.SIGINT, 130, ("--shared-palette", "--json"), id="SIGINT-shared"),
    ],
)
def test_signal_stops_a_batch_and_leaves_only_complete_files(
    tmp_path, signal_number, status, runner
):
    """A signal in the middle of a batch: exit 130/143, a one-line summary that counts
    the files written, every output written is a complete PNG, and the files in progress
    leave nothing behind.  SIGINT goes to the whole process group, as a terminal's Ctrl-C
    does (the worker processes included), twice; SIGTERM to the command alone, as
    ``kill``."""
    if "--workers" in runner:
        pytest.importorskip("distributed")
    inputs = tmp_path / "in"
    inputs.mkdir()
    photo = image_array("astronaut")
    for i in range(60):
        Image.fromarray(np.roll(photo, i, axis=1)).save(inputs / f"photo-{i:02}.png")
    out = tmp_path / "out"
    out.mkdir()
    command = [sys.executable, "-m", "kmeans_scratch.compression.cli", "-k", "64", "--quiet"]
    process = subprocess.Popen(
        [*command, *runner, "--out-dir", str(out), *sorted(map(str, inputs.iterdir()))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not any(out.glob("*.png")) and time.monotonic() < deadline:
        time.sleep(0.05)
    if signal_number == signal.SIGINT:  # pressed twice: the second changes nothing
        os.killpg(process.pid, signal_number)
        time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal_number)
    else:
        process.send_signal(signal_number)
    report, err = process.communicate(timeout=120)
    assert process.returncode == status, err
    written = sorted(out.iterdir())
    if "--json" in runner:  # the report of the files done, a script's record of them
        assert sorted(row["output"] for row in json.loads(report)) == list(map(str, written))
    assert 1 <= len(written) < 60  # stopped after the first file, before the last
    for path in written:
        assert path.suffix == ".png"  # no temporary file left behind
        with Image.open(path) as image:
            image.load()  # complete: decodes to the end
    name = signal.Signals(signal_number).name
    assert err.strip().splitlines()[-1] == (
        f"kmeans-compress: stopped by {name} after {len(written)} of 60 files; the files "
        "written are complete, none was left partly written"
    )
    assert "Traceback" not in err


def test_two_processes_writing_into_one_folder(tmp_path, photos):
    """Two commands at once into the same folder: every output complete and the same as
    when each command runs alone."""
    command = [sys.executable, "-m", "kmeans_scratch.compression.cli", "--quiet"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    together, alone = tmp_path / "together", tmp_path / "alone"
    together.mkdir()
    alone.mkdir()
    runs = [[*command, "-k", str(k), *map(str, photos)] for k in (16, 32)]
    processes = [
        subprocess.Popen([*run, "--out-dir", str(together)], env=env, stderr=subprocess.PIPE)
        for run in runs
    ]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    for run in runs:
        done = subprocess.run([*run, "--out-dir", str(alone)], env=env, capture_output=True)
        assert done.returncode == 0, done.stderr
    assert len(folder_state(together)) == 2 * len(photos)
    assert folder_state(together) == folder_state(alone)


@pytest.mark.parametrize(
    "text, n_bytes",
    [
        ("800M", 800 << 20),
        ("2G", 2 << 30),
        ("1.5GiB", 3 << 29),
        ("512k", 512 << 10),
        ("4096", 4096),
    ],
)
def test_max_memory_sizes(text, n_bytes):
    from kmeans_scratch.compression.cli import byte_count

    assert byte_count(text) == n_bytes


@pytest.mark.parametrize("columns", [None, "", "0", "-5", "abc", "120", " 100"])
def test_the_help_is_as_wide_as_shutil_would_make_it(monkeypatch, columns):
    import shutil

    from kmeans_scratch.compression.cli import terminal_columns

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.delenv("LINES", raising=False)
    assert terminal_columns() == shutil.get_terminal_size().columns


def test_a_terminal_not_yet_sized_gets_the_help_at_80_columns(monkeypatch):
    import fcntl
    import pty
    import struct
    import termios

    from kmeans_scratch.compression.cli import terminal_columns

    leader, follower = pty.openpty()
    try:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
        monkeypatch.delenv("COLUMNS", raising=False)
        monkeypatch.setattr(sys, "__stdout__", os.fdopen(os.dup(follower), "w"))
        assert os.get_terminal_size(sys.__stdout__.fileno()).columns == 0
        assert terminal_columns() == 80
        sys.__stdout__.close()
    finally:
        os.close(leader)
        os.close(follower)
