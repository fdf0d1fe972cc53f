"""The benchmark run as its user meets it: the plan up front, progress per section, the
results written at the end and where.

A pytest plugin (``benchmarks/conftest.py`` registers it).  Before the first test it says
what will run (the sections: one per test module), on which images (and, clearly, when a
folder of images is missing and the shipped images stand in), and about how long it will
take: the durations the last run of the same results file recorded beside it
(``RESULTS*.json``), or a guess of :data:`GUESS_S` a test where none is recorded.  As
each section starts, and every :data:`HEARTBEAT_S` within one, a line says where the run
is, how long it has run and what is left.  At the end the rows are written
(``write_results``) with this run's durations, and the run says where.  The lines go to
the terminal even under ``-q``.
"""

import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from .datasets import SHIPPED_IMAGES, folder_images
from .report import headline_lines, write_results

#: The seconds a test without a recorded duration is expected to take (the full run took
#: about 36 minutes for 644 tests when issue 27 was filed: 3.4 s a test).
GUESS_S = 3.0
#: A progress line at least this often within a long section.
HEARTBEAT_S = 120.0
#: Over this 1-minute load average per core as the run starts, the run warns that the
#: machine is busy.
BUSY_LOAD_PER_CORE = 0.5
#: Each test module's section, as the plan names it.
SECTIONS = {
    "test_command.py": "the command against pngquant, file to file",
    "test_core.py": "K-Means against scikit-learn",
    "test_dask.py": "K-Means and batches of files on a Dask cluster",
    "test_large_images.py": "large images: time and peak memory",
    "test_palette_effort.py": "what the fit's effort buys; dithering against Pillow's",
    "test_peers_kmeans.py": "K-Means against scikit-learn, faiss and MiniBatchKMeans",
    "test_peers_quantize.py": "the quantizer against other color quantizers",
}


def clock(seconds):
    """``m:ss`` (or ``h:mm:ss``) of a duration."""
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def about(seconds):
    """A duration to the precision an estimate deserves: "about 40 s", "about 12 min"."""
    if seconds < 90:
        return f"about {max(5, round(seconds / 5) * 5)} s"
    return f"about {round(seconds / 60)} min"


def image_folder(folder):
    """The images of ``folder``, or None when it is not given, missing or has none."""
    if not folder or not Path(folder).is_dir():
        return None
    return folder_images(folder) or None


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


class CompileRecorder:
    """The kernels of this package that Numba compiled in this process during the run, and
    the test that was running: a compile inside a timed cell is time the cell did not
    mean to measure (``make bench`` first fills the cache with ``make kernels``, so a
    compile here means that cache missed a kernel).  Numba's event API reports a compile
    only when its cache had no entry."""

    def __init__(self):
        self.running = None  # the test now running
        self.compiled = []  # [{"kernel": name, "test": nodeid}]
        from numba.core import event

        from kmeans_scratch._kernels import compiled_kernel_name

        recorder = self

        class Listener(event.Listener):
            def on_start(self, compiling):
                name = compiled_kernel_name(compiling)
                if name is not None:
                    recorder.compiled.append({"kernel": name, "test": recorder.running})

            def on_end(self, compiling):
                pass

        self.listener = Listener()
        event.register("numba:compile", self.listener)

    def stop(self):
        from numba.core import event

        event.unregister("numba:compile", self.listener)


#: The whole suite's results (``make bench``), beside its rows as ``RESULTS.json``.
RESULTS_PATH = Path(__file__).with_name("RESULTS.md")


def results_path(config):
    """Where the run writes: ``--results``; but a run of a few tests picked with ``-k``
    into the default ``RESULTS.md`` writes ``RESULTS-subset.md`` beside it instead, so
    that checking one cell does not replace the record of the whole suite's last run,
    which the docs quote."""
    results = Path(config.getoption("--results"))
    if config.option.keyword and results == RESULTS_PATH:
        return results.with_name("RESULTS-subset.md")
    return results


class BenchmarkRun:
    """The plugin: plan, progress, results."""

    def __init__(self, config):
        self.config = config
        self.results = results_path(config)
        self.smoke = bool(config.getoption("benchmark_disable"))
        self.recorder = Recorder()
        self.recorded = {} if self.smoke else recorded_durations(self.results)
        self.durations = {}
        self.items = []
        self.started = time.perf_counter()
        self.load = os.getloadavg()[0]
        self.section = None
        self.last_line = self.started
        self.written = []
        self.compiles = None if self.smoke else CompileRecorder()

    # --- output ---

    def say(self, line="", **markup):
        """Write ``line`` to the terminal, under ``-q`` too (``markup``: e.g. red=True)."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            if reporter._tw.width_of_current_line:  # -q writes its dots on one line
                reporter.write("\n")
            reporter.write_line(line, **markup)
        else:
            print(line, file=sys.__stderr__, flush=True)
        self.last_line = time.perf_counter()

    def expected(self, items):
        """Seconds ``items`` are expected to take (None in the smoke run: untimed)."""
        if self.smoke:
            return None
        return sum(self.recorded.get(item.nodeid, GUESS_S) for item in items)

    def left(self, done):
        """What is left after ``done`` items: tests, and time where a time is expected."""
        remaining = self.items[done:]
        expected = self.expected(remaining)
        tests = f"{len(remaining)} of {len(self.items)} tests left"
        return tests if expected is None else f"{tests}, {about(expected)}"

    # --- the plan ---

    def pytest_collection_finish(self, session):
        self.items = list(session.items)
        if not self.items:
            return
        sections = sections_of(self.items)
        if self.smoke:
            kind = "a smoke run (--benchmark-disable: each contender once, small data, untimed)"
        else:
            kind = f"a timed run into {self.results}"
        self.say()
        self.say(f"benchmarks: {kind}: {len(self.items)} tests in {len(sections)} sections")
        for number, (name, items) in enumerate(sections, 1):
            expected = self.expected(items)
            time_note = "" if expected is None else f", {about(expected)}"
            self.say(f"  {number}. {section_title(name)} ({name}): {len(items)} tests{time_note}")
            tests = Counter(getattr(item, "originalname", item.name) for item in items)
            self.say("       " + ", ".join(f"{test} ×{count}" for test, count in tests.items()))
        for line in [*self.image_lines(), *self.load_lines(self.load)]:
            self.say(line, red=line.startswith("  !!"), bold=line.startswith("  !!"))
        self.say(self.expectation())

    def load_lines(self, load):
        """A warning when the machine was busy (a 1-minute load over half its cores): the
        libraries alternate, but a busy phase still widens the spread of each ratio."""
        if self.smoke or load <= BUSY_LOAD_PER_CORE * (os.cpu_count() or 1):
            return []
        return [
            f"  !! the machine is busy: load {load:.2f} on {os.cpu_count()} cores as the run "
            "started; its ratios may be off: run it again on a quiet machine to compare"
        ]

    def image_lines(self):
        """Which images the selected tests read, and a warning for a missing folder."""
        lines = []
        uses = {name for item in self.items for name in getattr(item, "fixturenames", ())}
        shipped = f"the {len(SHIPPED_IMAGES)} shipped images ({', '.join(SHIPPED_IMAGES)})"
        if "image_name" in uses:
            folder = self.config.getoption("--images")
            found = image_folder(folder)
            lines.append(f"  images: {len(found)} of {folder}" if found else f"  images: {shipped}")
        if "command_inputs" in uses:
            folder = self.config.getoption("--command-images")
            found = image_folder(folder)
            if self.smoke:
                lines.append("  command rows: 2 of the shipped images, a quarter of their size")
            elif found:
                lines.append(f"  command rows: {len(found)} images of {folder}")
            else:
                lines.append(f"  command rows: {shipped}")
                if folder:
                    lines.append(
                        f"  !! {folder} is missing or has no images: the command rows run on "
                        "the shipped images instead, whose results differ from the photos' "
                        "(not comparable with a run on them)"
                    )
        if "megapixels" in uses:
            lines.append("  large images: mosaics of the shipped images")
        return lines

    def expectation(self):
        if self.smoke:
            return "  expected: no estimate for the smoke run (small data); nothing is written"
        record = self.results.with_suffix(".json")
        unknown = sum(item.nodeid not in self.recorded for item in self.items)
        if unknown == len(self.items):
            source = f"nothing recorded in {record} yet: a guess of {GUESS_S:g} s a test"
        elif unknown:
            source = f"the last run's, in {record}; {unknown} tests not in it at {GUESS_S:g} s"
        else:
            source = f"the durations of the last run, in {record}"
        return f"  expected: {about(self.expected(self.items))} ({source})"

    # --- progress ---

    def pytest_runtest_logstart(self, nodeid, location):
        if self.compiles is not None:
            self.compiles.running = nodeid
        done = len(self.durations)
        name = nodeid.split("::")[0].rsplit("/", 1)[-1]
        now = time.perf_counter()
        if name != self.section:
            self.section = name
            sections = [section for section, _ in sections_of(self.items)]
            number = sections.index(name) + 1 if name in sections else "?"
            items = [item for item in self.items[done:] if item.path.name == name]
            expected = self.expected(items)
            time_note = "" if expected is None else f", {about(expected)}"
            self.say(
                f"[{number}/{len(sections)}] {section_title(name)} ({name}): "
                f"{len(items)} tests{time_note} · {clock(now - self.started)} in, "
                f"{self.left(done)}"
            )
        elif now - self.last_line >= HEARTBEAT_S:
            self.say(
                f"      {name}: test {done + 1} of {len(self.items)} · "
                f"{clock(now - self.started)} in, {self.left(done)}"
            )

    def pytest_runtest_logreport(self, report):
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration

    # --- the end ---

    def pytest_sessionfinish(self, session):
        if self.smoke or not self.recorder.rows:
            return
        durations = run_durations(
            [item.nodeid for item in self.items], self.recorded, self.durations
        )
        load = [self.load, os.getloadavg()[0]]
        self.written = write_results(
            self.results, self.recorder.rows, machine(), load, durations, self.compiles.compiled
        )

    @pytest.hookimpl(trylast=True)  # after pytest-benchmark's tables
    def pytest_terminal_summary(self, terminalreporter):
        if not self.items or self.config.option.collectonly:
            return
        took = clock(time.perf_counter() - self.started)
        if not self.written:
            why = "the smoke run writes nothing" if self.smoke else "no rows were recorded"
            self.say(f"benchmarks: done in {took}; {why}")
            return
        self.say(f"benchmarks: done in {took}; wrote {', '.join(map(str, self.written))}")
        headline = headline_lines(self.recorder.rows)
        if headline:
            self.say("")
            self.say(
                "The table above is pytest-benchmark's: each test's whole time, every "
                "contender's rounds together. The comparison, ours ÷ the reference (below "
                "1: ours is faster), each side's median:"
            )
            for line in headline:
                self.say(line)
        for line in [*self.image_lines(), *self.load_lines(self.load)]:
            if line.startswith("  !!"):
                self.say(line, red=True, bold=True)


def run_durations(nodeids, recorded, measured):
    """``{nodeid: seconds}`` of this run's tests, ``nodeids``: as ``measured`` now, else as
    ``recorded`` by the last run (a test this run selected but did not reach); a test no
    longer in the suite (renamed, gone) leaves no stale estimate behind."""
    return {
        nodeid: measured.get(nodeid, recorded.get(nodeid))
        for nodeid in nodeids
        if nodeid in measured or nodeid in recorded
    }


def recorded_durations(results):
    """``{nodeid: seconds}`` the last run into ``results`` recorded beside it (or {})."""
    try:
        return json.loads(results.with_suffix(".json").read_text())["durations"]
    except (OSError, ValueError, KeyError):
        return {}


def sections_of(items):
    """``[(module file name, its items)]`` in the order they run."""
    sections = {}
    for item in items:
        sections.setdefault(item.path.name, []).append(item)
    return list(sections.items())


def section_title(name):
    return SECTIONS.get(name, name.removesuffix(".py"))
