"""What the benchmark suite prints and what the docs quote from it: no impossible cell, the
committed results rendered from their rows, the README's speed table the latest quick run's,
every cited results file cited with its date, and the plan said before a run.

None of these runs a benchmark: they read the committed ``benchmarks/RESULTS*`` files,
render synthetic rows, or collect the suite without running it.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import report

ROOT = Path(__file__).parent.parent
BENCHMARKS = ROOT / "benchmarks"
#: The pages that quote benchmark figures.
PAGES = [ROOT / "README.md", BENCHMARKS / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_kernel_loading_is_a_time_or_within_noise():
    assert report.kernel_loading([0.130, 0.120, 0.125], [0.100, 0.095, 0.110]) == "25 ms"
    # the first compression faster than the second in one run: no negative load
    assert report.kernel_loading([0.100, 0.120], [0.145, 0.110]) == "within noise (±45 ms)"
    assert report.kernel_loading([0.090], [0.090]) == "within noise (±0.0 ms)"


def startup_rows(first, second):
    """The rows ``test_startup_budget`` records, with these first and second compressions."""
    runs = {
        "interpreter": [0.02] * len(first),
        "imports": [0.11] * len(first),
        "first compression": first,
        "second compression": second,
    }
    return [
        {
            "table": "startup",
            "median_s": sorted(seconds)[len(seconds) // 2],
            "part": part,
            "runs": seconds,
            "kernels": kernels,
            "image": "kodim01.png",
            "answers": {"--help": 0.14},
        }
        for kernels in ("ahead-of-time", "Numba")
        for part, seconds in runs.items()
    ]


def test_the_startup_table_never_shows_a_negative_time():
    """The cell that read "kernel loading −44.9 ms": two noisy times the wrong way round."""
    lines, _ = report.startup_table(startup_rows([0.08, 0.09, 0.07], [0.12, 0.13, 0.11]))
    table = "\n".join(lines)
    assert not re.search(r"[−-]\s*\d", table), table
    assert "| kernel loading: the first less the second | within noise" in table
    # one file in all: interpreter, imports and the first compression, all measured
    assert "**210 ms**" in table


def test_a_run_is_written_as_json_and_rendered_from_it(tmp_path):
    import numpy as np

    rows = startup_rows([np.float64(0.12)], [np.float32(0.09)])
    written = report.write_results(tmp_path / "R.md", rows, "a machine", [0.5, 1.5], {"t": 1.0})
    assert written == [tmp_path / "R.md", tmp_path / "R.json"]
    run = json.loads((tmp_path / "R.json").read_text(encoding="utf-8"))
    assert run["durations"] == {"t": 1.0} and run["load"] == [0.5, 1.5]
    assert (tmp_path / "R.md").read_text(encoding="utf-8") == report.render_results(run)


def results_runs():
    """Every committed results run (``RESULTS*.json``) with its Markdown."""
    return [(path, path.with_suffix(".md")) for path in sorted(BENCHMARKS.glob("RESULTS*.json"))]


@pytest.mark.parametrize("run_json, markdown", results_runs(), ids=lambda path: path.name)
def test_the_results_markdown_is_rendered_from_its_rows(run_json, markdown):
    run = json.loads(run_json.read_text(encoding="utf-8"))
    assert markdown.read_text(encoding="utf-8") == report.render_results(run)


def test_the_readme_speed_table_is_the_latest_quick_run():
    """``make bench-quick`` rewrites it; an edit by hand, or a run whose README was not
    committed with it, fails here."""
    run = json.loads((BENCHMARKS / "RESULTS-quick.json").read_text(encoding="utf-8"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert report.readme_part(readme) == report.readme_section(run)


def results_date(name):
    """The date a committed results file was generated (its JSON's, or its header's)."""
    run_json = (BENCHMARKS / name).with_suffix(".json")
    if run_json.exists():
        return json.loads(run_json.read_text(encoding="utf-8"))["date"]
    header = (BENCHMARKS / name).read_text(encoding="utf-8")
    return re.search(r" on (\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?)[.,]", header).group(1)


CITATION = re.compile(
    r"\[(RESULTS[\w-]*\.md)\]\([^)]*\)\s+of\s+(\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?)"
)


@pytest.mark.parametrize("page", PAGES, ids=lambda path: str(path.relative_to(ROOT)))
def test_quoted_results_are_cited_with_the_date_of_the_committed_run(page):
    """A figure quoted from a results file names it as ``[RESULTS.md](…) of DATE``: when a
    new run replaces the file, its figures must be quoted again (and this date changed)."""
    for name, date in CITATION.findall(page.read_text(encoding="utf-8")):
        assert results_date(name).startswith(date), f"{page.name} cites {name} of {date}"


def collect(*options):
    """The suite's plan and selection, collected without running a test."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks", "--collect-only", "-q", "-p",
         "no:cacheprovider", *options],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_the_quick_run_selects_every_headline_test_and_says_its_plan(tmp_path):
    from benchmarks.conftest import QUICK

    missing = tmp_path / "kodak"
    out = collect("-m", "quick", "--command-images", str(missing), "--results", "x.md")
    selected = {line.split("::")[1].split("[")[0] for line in out.splitlines() if "::" in line}
    assert selected == set(QUICK)
    assert "benchmarks: a timed run into x.md" in out
    assert "expected: about" in out
    assert f"!! {missing} is missing or has no images" in out


def test_a_kernel_compiled_during_a_run_is_recorded_with_its_test_and_said():
    """``make bench`` records each compile of one of our kernels in its process, and the
    test it happened in (the compile's time is then in that cell), and RESULTS.md says so
    under its header; a run without one says that too."""
    import numba

    from benchmarks.report import compile_note
    from benchmarks.session import CompileRecorder

    def probe(x):
        return x + 1

    probe.__module__ = "kmeans_scratch.probe"  # one of ours, never cached
    probe.__qualname__ = "probe"
    recorder = CompileRecorder()
    recorder.running = "benchmarks/test_core.py::test_cell[64]"
    try:
        assert numba.njit(probe)(1) == 2
    finally:
        recorder.stop()
    assert recorder.compiled == [
        {"kernel": "kmeans_scratch.probe.probe", "test": "benchmarks/test_core.py::test_cell[64]"}
    ]
    (said,) = compile_note({"compiled": recorder.compiled})
    assert said.startswith("**Kernels compiled in the run's process: 1**")
    assert "`benchmarks/test_core.py::test_cell[64]`" in said
    assert compile_note({"compiled": []})[0].startswith("No kernel of ours compiled")
    assert compile_note({}) == []  # a run written before compiles were recorded


@pytest.mark.slow
def test_a_run_of_tests_picked_with_k_leaves_the_whole_suites_results_alone():
    """Checking one cell (``pytest benchmarks -k …``) rewrote ``RESULTS.md`` with that
    cell alone until 2026-12-06; it now writes ``RESULTS-subset.md``, unless ``--results``
    names another file."""
    out = collect("-k", "test_blobs and 64-64")
    assert "benchmarks: a timed run into " in out
    assert f"timed run into {ROOT / 'benchmarks' / 'RESULTS-subset.md'}" in out
    named = collect("-k", "test_blobs and 64-64", "--results", "y.md")
    assert "benchmarks: a timed run into y.md" in named
    whole = collect("-m", "not grid")
    assert f"timed run into {ROOT / 'benchmarks' / 'RESULTS.md'}" in whole


def test_a_quick_run_on_the_shipped_images_leaves_the_readme_alone(tmp_path, capsys):
    """Without the Kodak photos the command rows run on the shipped images, where the batch
    is slower than pngquant's: such a run does not rewrite the README's speed table,
    which is about the photos (until 2026-12-07 it did)."""
    run = json.loads((BENCHMARKS / "RESULTS-quick.json").read_text(encoding="utf-8"))
    for row in run["rows"]:
        if "images" in row:
            row["images"] = "the shipped images"
    run_json = tmp_path / "RESULTS-quick.json"
    run_json.write_text(json.dumps(run), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_bytes((ROOT / "README.md").read_bytes())
    report.main(run_json, readme)
    assert readme.read_bytes() == (ROOT / "README.md").read_bytes()
    assert "left as it is" in capsys.readouterr().out
    assert (tmp_path / "RESULTS-quick.md").read_text(encoding="utf-8") == report.render_results(run)


def test_a_busy_machine_is_said_and_a_quiet_one_is_not():
    from benchmarks.session import BUSY_LOAD_PER_CORE, BenchmarkRun

    run = object.__new__(BenchmarkRun)  # the warning alone, without a pytest session
    run.smoke = False
    cores = os.cpu_count() or 1
    busy = run.load_lines(BUSY_LOAD_PER_CORE * cores + 1.0)
    assert len(busy) == 1 and busy[0].startswith("  !! the machine is busy: load ")
    assert run.load_lines(0.0) == []


def test_the_durations_kept_are_this_runs_tests_only():
    from benchmarks.session import run_durations

    recorded = {"a": 1.0, "b": 2.0, "renamed": 3.0}
    assert run_durations(["a", "b", "new"], recorded, {"a": 1.5, "new": 4.0}) == {
        "a": 1.5,
        "b": 2.0,
        "new": 4.0,
    }
