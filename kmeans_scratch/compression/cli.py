"""``kmeans-compress``: palette images from the command line.

    kmeans-compress                              # the k-sweep experiment on china.jpg
    kmeans-compress photo.jpg -k 16              # photo-k16.png next to photo.jpg
    kmeans-compress *.png -k 64 --out-dir small  # a folder of images, with progress
    kmeans-compress photo.jpg --sweep 2,4,8,16,32 --out-dir sweep
    kmeans-compress photo.jpg --target-psnr 35   # the smallest k that reaches 35 dB

Exit status: 0 when every file was done, 1 when a file failed (the others are still
done), 2 for a usage error (found before any work: also two inputs that would write the
same output), 99 when a file stayed under ``--quality``'s MIN and 98 when
``--skip-if-larger`` left a file unwritten (both as pngquant; 1 wins over 99 over 98), 130 or
143 when SIGINT or SIGTERM stops it (the files already written are complete, the one in
progress leaves nothing).  A failure prints one line
naming the file and the reason; ``--debug`` shows the traceback instead.
"""

import argparse
import atexit
import ctypes
import math
import os
import re
import signal
import sys
from pathlib import Path

import kmeans_scratch
from kmeans_scratch._engine import use_ahead_of_time

from . import FORMATS, check_n_colors
from ._batch import (
    STANDARD_STREAM,
    STDIN_NAME,
    CollisionError,
    check_collisions,
    file_outcomes,
    has_target,
    sweep_dir,
    sweep_one,
)
from ._cluster import ClusterError, import_distributed
from ._encode import MAX_PALETTE_COLORS
from ._image import DEFAULT_MAX_PIXELS
from ._metrics import QUALITY_MEASURES
from ._output import STOP_SIGNALS, is_stream_file
from ._pool import Stopped, expect_stops, stop_on_signal
from ._quality_scale import EXIT_QUALITY_TOO_LOW, QualityTooLow, parse_quality
from ._speed import DEFAULT_SPEED, SPEEDS
from ._sweep import DEFAULT_KS, format_value, parse_ks, rows_to_table
from ._working_space import COLOR_SPACES

PROG = "kmeans-compress"
DEMO_DIR = "kmeans-compress-demo"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE  # 141, the status of a shell tool killed by SIGPIPE
#: pngquant's status when ``--skip-if-larger`` left a file unwritten.
EXIT_SKIPPED = 98
#: The default palette size (pngquant's is 256: see ``--help``).
DEFAULT_COLORS = 16


def stop_summary(stop):
    """The one line a :class:`Stopped` batch ends with."""
    name = signal.Signals(stop.signal_number).name
    done = f" after {stop.done} of {stop.total} files" if stop.total else ""
    return (
        f"{PROG}: stopped by {name}{done}; the files written are complete, none was "
        "left partly written"
    )


def hidden_stop(error):
    """The :class:`Stopped` behind ``error``, if any.

    When the signal handler runs while compiled Numba code is calling back into Python,
    the Stopped it raises comes out as SystemError("... returned a result with an
    exception set"), caused by it.
    """
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, Stopped):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


class UsageError(Exception):
    """A mistake in the command line: exit status 2."""


def terminal_columns():
    """The terminal's width, as ``shutil.get_terminal_size`` reads it: ``$COLUMNS`` when
    positive, else standard output's terminal when it reports a width, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", 0))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # 0: not yet sized
    except (AttributeError, ValueError, OSError):  # no standard output, or not a terminal
        return 80


class TerminalWidthFormatter(argparse.HelpFormatter):
    """argparse's help at the terminal's width, without argparse importing ``shutil`` to
    read it (with ``bz2`` and ``lzma``, 3 ms of every start: argparse makes a formatter
    for each option it adds)."""

    def __init__(self, prog, **kwargs):
        kwargs.setdefault("width", terminal_columns() - 2)
        super().__init__(prog, **kwargs)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit status 2), options are
    never abbreviated (``--dith`` is not ``--dither``), and a misspelt option gets the
    nearest real one suggested."""

    def __init__(self, **kwargs):
        kwargs.setdefault("formatter_class", TerminalWidthFormatter)
        super().__init__(allow_abbrev=False, **kwargs)

    def error(self, message):
        raise UsageError(message + self.suggestion(message))

    def suggestion(self, message):
        import difflib

        prefix = "unrecognized arguments: "
        if not message.startswith(prefix):
            return ""
        options = [o for action in self._actions for o in action.option_strings]
        for word in message[len(prefix) :].split():
            if word.startswith("--"):
                close = difflib.get_close_matches(word.split("=")[0], options, n=1, cutoff=0.7)
                if close:
                    return f"; did you mean {close[0]}?"
        return ""


def byte_count(text):
    """'800M', '2G', '1.5GiB', '500000' → bytes."""
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    number = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = number[-1:] if number[-1:] in units else ""
    try:
        value = float(number[: len(number) - len(unit)]) * units[unit]
    except ValueError:
        value = 0.0
    if not value >= 1:  # also refuses NaN
        raise argparse.ArgumentTypeError(f"expected a size such as 800M or 2G, got {text!r}")
    return int(value)


def whole_number_in(low, high, wording):
    """An argument type: a whole number from ``low`` to ``high``, refused as "expected
    ``wording``" otherwise."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {wording}, got {text!r}")
        return value

    return parse


def number_in(low, high, wording, above_low=False):
    """An argument type: a finite number from ``low`` (or above it, with ``above_low``) to
    ``high``, refused as "expected ``wording``" otherwise (NaN and infinity included)."""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        low_ok = value > low if above_low else value >= low
        if not (math.isfinite(value) and low_ok and value <= high):
            raise argparse.ArgumentTypeError(f"expected {wording}, got {text!r}")
        return value

    return parse


positive_int = whole_number_in(1, math.inf, "a whole number >= 1")
#: A seed of NumPy's RandomState.
seed_value = whole_number_in(0, 2**32 - 1, "a whole number from 0 to 4294967295")
speed_level = whole_number_in(SPEEDS[0], SPEEDS[-1], "a whole number from 1 to 11")
dither_level = number_in(0.0, 1.0, "a level from 0 to 1")
#: A PSNR in dB, and an SSIM in (0, 1].
psnr_target = number_in(0.0, math.inf, "a number of dB above 0", above_low=True)
ssim_target = number_in(0.0, 1.0, "a number above 0 and at most 1", above_low=True)


def quality_range(text):
    try:
        return parse_quality(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def ks_list(text):
    try:
        return parse_ks(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser():
    parser = OneLineParser(
        prog=PROG,
        description="Quantize images to a few colors with exact K-Means and write small "
        "palette files (indexed PNG at the smallest bit depth, GIF or lossless WebP). "
        f"With no IMAGE, runs the k-sweep experiment on china.jpg into ./{DEMO_DIR}/.",
    )
    parser.add_argument(
        "images",
        nargs="*",
        metavar="IMAGE",
        help="image files to compress; - reads standard input (and writes standard output "
        "unless -o says otherwise)",
    )
    parser.add_argument(
        "-k",
        "--colors",
        type=positive_int,
        metavar="K",
        help=f"palette size (default {DEFAULT_COLORS}, the classroom experiment's middle "
        "size, where pngquant's is 256; at most 256 for png and gif; with a target, the "
        "most colors it may choose, as pngquant's count with --quality; default 256)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "-o", "--output", metavar="OUT", help="output file (one IMAGE only); - for standard output"
    )
    where.add_argument(
        "--out-dir", metavar="DIR", help="folder for the outputs (default: next to each input)"
    )
    parser.add_argument(
        "--sweep",
        type=ks_list,
        metavar="K,K,...",
        help="run the experiment for several k: files, figures, report",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--target-psnr",
        type=psnr_target,
        metavar="DB",
        help="use the smallest k whose PSNR reaches DB",
    )
    target.add_argument(
        "--target-ssim",
        type=ssim_target,
        metavar="S",
        help="use the smallest k whose SSIM reaches S (0 < S <= 1)",
    )
    target.add_argument(
        "--quality",
        type=quality_range,
        metavar="MIN-MAX",
        help="pngquant's: the smallest k whose quality (0-100, pngquant's scale turned into "
        "a PSNR, see docs/compressor.md) reaches MAX; if even 256 colors (or -k's) stay under "
        f"MIN, write nothing and exit with status {EXIT_QUALITY_TOO_LOW}; also -MAX (MIN 0), "
        "MIN- (MAX 100) and one number N, as pngquant: MAX N and MIN 9/10 of it",
    )
    parser.add_argument(
        "--shared-palette",
        action="store_true",
        help="one palette of K colors for all the IMAGEs, fitted to their pixels together "
        "and written whole, in the same order, in every output (frames, icons, tiles)",
    )
    parser.add_argument(
        "--color-space",
        choices=COLOR_SPACES,
        default="rgb",
        help="where color distances are measured (default rgb)",
    )
    dithering = parser.add_mutually_exclusive_group()
    dithering.add_argument(
        "--dither", action="store_true", help="Floyd–Steinberg dithering (--floyd=1)"
    )
    dithering.add_argument(
        "--floyd",
        type=dither_level,
        nargs="?",
        const=1.0,
        metavar="LEVEL",
        help="pngquant's: Floyd–Steinberg dithering diffusing LEVEL (0 to 1, default 1) of "
        "each pixel's error",
    )
    dithering.add_argument(
        "--nofs", action="store_true", help="pngquant's: no dithering (the default here)"
    )
    parser.add_argument(
        "--format", choices=FORMATS, help="output format (default: from -o's suffix, else png)"
    )
    parser.add_argument(
        "-f",
        "--force",
        action="store_true",
        help="replace existing outputs (an input only if -o names it; a symbolic link is "
        "written through; a device, FIFO or socket never)",
    )
    parser.add_argument(
        "--ext",
        metavar="SUFFIX",
        help="output names: the input's stem + SUFFIX (e.g. --ext .small.png; default "
        "-kK.FORMAT, with K the palette size)",
    )
    parser.add_argument(
        "--strip",
        action="store_true",
        help="write no metadata (the ICC profile is kept by default)",
    )
    parser.add_argument(
        "--skip-if-larger",
        action="store_true",
        help="write nothing when the output would not be smaller than the input (exit "
        f"status {EXIT_SKIPPED}, as pngquant's)",
    )
    parser.add_argument(
        "--max-pixels",
        type=positive_int,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help=f"refuse larger images (default {DEFAULT_MAX_PIXELS:,})",
    )
    parser.add_argument(
        "--max-memory",
        type=byte_count,
        metavar="SIZE",
        help="refuse, before decoding, images that would need more memory (e.g. 800M, 2G; "
        "default: the memory available)",
    )
    parser.add_argument(
        "--speed",
        type=speed_level,
        default=DEFAULT_SPEED,
        metavar="N",
        help=f"1 (slowest, smallest files) to 11 (fastest), as pngquant's; default "
        f"{DEFAULT_SPEED}. Measured on whole batches at k=256 (docs/compressor.md): speed 1 "
        "writes 1-5%% fewer bytes than the default in 5-15 times its time, speed 11 3-10%% "
        "more in half of it",
    )
    parser.add_argument(
        "--seed", type=seed_value, default=0, help="seed of the k-means++ init (default 0)"
    )
    cluster = parser.add_mutually_exclusive_group()
    cluster.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="spread the files over a Dask LocalCluster of N worker processes (needs the "
        "[dask] extra); outputs are byte-identical to a local run",
    )
    cluster.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="spread the files over a running Dask cluster (e.g. tcp://host:8786); its "
        "workers must see the same files",
    )
    parser.add_argument(
        "--metrics",
        action="store_true",
        help="also measure SSIM and ΔE (CIEDE2000); PSNR is always reported",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the report as JSON (all metrics)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action=PrintVersion, nargs=0, help="print the version")
    return parser


#: Names of this process's standard output as a file: ``-o /dev/stdout`` is ``-o -``.
STANDARD_OUTPUT_NAMES = ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")


def check_streams(args):
    """``-`` as the IMAGE (standard input) and as ``-o`` (standard output), as pngquant's:
    standard input writes standard output unless ``-o`` names a file; standard output
    carries the image alone."""
    if args.output in STANDARD_OUTPUT_NAMES:
        args.output = STANDARD_STREAM
    if STANDARD_STREAM in args.images:
        if len(args.images) != 1:
            raise UsageError("- (standard input) must be the only IMAGE")
        if args.out_dir or args.sweep or args.ext:
            raise UsageError("- (standard input) has no name: use -o FILE, or -o - (the default)")
        args.output = args.output or STANDARD_STREAM
    if args.output == STANDARD_STREAM and (args.json or args.sweep):
        raise UsageError("-o - writes the image to standard output: no --json or --sweep there")


def check_cluster(args):
    """``--workers`` and ``--scheduler`` need Dask, and files: workers cannot read this
    process's standard input or write its standard output."""
    if not (args.workers or args.scheduler):
        return
    option = "--workers" if args.workers else "--scheduler"
    if STANDARD_STREAM in args.images or args.output == STANDARD_STREAM:
        raise UsageError(f"{option} works on files: not with - (standard input or output)")
    if args.scheduler and not re.fullmatch(r"\w+://\S+|[^\s:/]+:\d+", args.scheduler):
        raise UsageError(
            f"--scheduler {args.scheduler}: not a Dask scheduler's address (such as "
            "tcp://host:8786); for this machine's cores, --workers N"
        )
    try:
        import_distributed()
    except ClusterError as error:
        raise UsageError(f"{option}: {error}") from None


def check_shared_palette(args, targets):
    """``--shared-palette`` fits one K for all the files: no target choosing k per file,
    no sweep, and files (standard input cannot be read twice)."""
    if not args.shared_palette:
        return
    if targets:
        raise UsageError(
            "--shared-palette takes -k/--colors, not --target-psnr/--target-ssim/--quality"
        )
    if args.sweep:
        raise UsageError("--shared-palette does not go with --sweep")
    if STANDARD_STREAM in args.images:
        raise UsageError("--shared-palette reads each file twice: not with - (standard input)")


def once_each(images):
    """The IMAGEs with a file named more than once (overlapping globs, a path and a link
    to it) kept at its first place only: done twice, it would write one output twice."""
    seen, kept = set(), []
    for name in images:
        key = os.path.realpath(name) if name != STANDARD_STREAM else name
        if key not in seen:
            seen.add(key)
            kept.append(name)
    return kept


def check_usage(args):
    """Command-line mistakes that argparse cannot see."""
    args.images = once_each(args.images)
    check_streams(args)
    check_cluster(args)
    named = args.output if args.output and args.output != STANDARD_STREAM else args.ext
    suffix = format_suffix(named) if named else ""
    option = "--ext" if named == args.ext else "-o"
    if args.output and is_stream_file(args.output):
        named, suffix = None, ""  # /dev/null, a FIFO: the format from --format, else png
    if args.format and suffix and suffix != args.format:
        raise UsageError(
            f"{option} {named} says {suffix!r} but --format says {args.format!r}: "
            "name the output with the format's suffix, or leave one of them out"
        )
    if args.ext is not None and not args.ext:
        raise UsageError("--ext needs a suffix, such as .small.png or -fs8.png")
    if args.ext and ("/" in args.ext or os.sep in args.ext):
        raise UsageError(f"--ext {args.ext}: a suffix, not a folder (use --out-dir)")
    if args.ext and not suffix and not args.format:
        raise UsageError(
            f"--ext {args.ext}: end the suffix with the output's format, such as "
            "--ext .png or --ext -fs8.png (or give --format)"
        )
    if args.output and (os.path.isdir(args.output) or args.output.endswith(("/", os.sep))):
        raise UsageError(f"-o {args.output}: a folder (for outputs in a folder, --out-dir)")
    if args.out_dir and os.path.exists(args.out_dir) and not os.path.isdir(args.out_dir):
        raise UsageError(f"--out-dir {args.out_dir}: not a folder")
    fmt = args.format or suffix or ("png" if not named or args.output == STANDARD_STREAM else "")
    if fmt not in FORMATS:
        raise UsageError(f"{option} {named}: unknown format {fmt!r}; use --format")
    args.format = fmt
    targets = has_target(args)
    if args.colors is None and not targets:  # with a target, -k is the most colors tried
        args.colors = DEFAULT_COLORS
    args.dither = args.floyd if args.floyd is not None else (1.0 if args.dither else 0.0)
    if args.output and (len(args.images) != 1 or args.sweep):
        raise UsageError("-o/--output takes exactly one IMAGE and no --sweep (use --out-dir)")
    largest = max(args.sweep or (args.colors or MAX_PALETTE_COLORS,))
    try:
        check_n_colors(largest, fmt)  # the API's check, before any work, in the command's words
    except ValueError:
        raise UsageError(
            f"k={largest}: a {fmt.upper()} palette holds at most {MAX_PALETTE_COLORS} colors; "
            "use --format webp or a smaller k"
        ) from None
    if targets and args.sweep:
        raise UsageError("--target-psnr/--target-ssim/--quality do not go with --sweep")
    check_shared_palette(args, targets)
    try:
        check_collisions(args)
    except CollisionError as error:
        raise UsageError(str(error)) from None


def format_suffix(name):
    """The format a file name or an ``--ext`` says: the text after its last dot, lower
    case ('' if none); ``--ext .png`` says 'png'."""
    tail = Path(name).name
    return tail.rpartition(".")[2].lower() if "." in tail else ""


def print_rows(rows, args, title=None):
    if args.quiet or args.json:
        return
    if title:
        print(title)
    print(rows_to_table(rows))


#: The columns of the per-file table, and their headings; a quality column is shown when
#: its measure was computed.
FILE_COLUMNS = {
    "n_colors": "k",
    "colors_used": "colors",
    "input_bytes": "in bytes",
    "output_bytes": "out bytes",
    "ratio": "ratio",
    "bits_per_pixel": "bits/px",
    "psnr": "PSNR dB",
    "ssim": "SSIM",
    "delta_e": "ΔE",
}


def printable(name):
    """A file name as one line of text a terminal can show: bytes that are not UTF-8
    (kept by Python as lone surrogates) appear as escapes such as ``\\xff``, and control
    characters (a newline, a tab, an escape) as ``\\n``, ``\\t``, ``\\x1b``."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def print_file_table(rows):
    rows = [row for row in rows if "error" not in row]
    if not rows:
        return
    keys = [
        key
        for key in FILE_COLUMNS
        if key not in QUALITY_MEASURES or any(key in row for row in rows)
    ]
    header = ["file", *(FILE_COLUMNS[key] for key in keys), "output"]
    body = [
        [
            printable(row["input"]),
            *(format_value(key, row.get(key)) for key in keys),
            printable(row["output"]) if row.get("output") else "(skipped)",
        ]
        for row in rows
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *body, strict=True)]
    last = len(header) - 1
    for line in [header, *body]:
        print(
            "  ".join(
                cell.ljust(w) if i in (0, last) else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(line, widths, strict=True))
            )
        )


def json_safe(value):
    """JSON has no infinity or NaN: a PSNR of a lossless result (inf) becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def print_json(rows):
    """The rows as JSON; a name that is not UTF-8 keeps its bytes as escaped surrogates
    (``"\\udcff"``, which ``os.fsencode`` turns back into the byte)."""
    import json  # here, as the demo's imports below: a command's start pays for neither

    print(json.dumps([{k: json_safe(v) for k, v in r.items()} for r in rows], indent=1))


def with_joined_ext(argv):
    """``--ext SUFFIX`` as ``--ext=SUFFIX`` when SUFFIX starts with a dash: pngquant's
    ``--ext -fs8.png``, which argparse would take for an option.  What follows ``--ext``
    is its suffix unless it reads as one option (``-q``, ``--force``): ``--ext -fs8``
    then gets the suffix's own error (no format in it), not argparse's "expected one
    argument"."""
    joined = []
    for argument in argv:
        if joined and joined[-1] == "--ext" and is_dashed_suffix(argument):
            joined[-1] = f"--ext={argument}"
        else:
            joined.append(argument)
    return joined


def is_dashed_suffix(argument):
    """Whether an argument after ``--ext`` is a suffix that starts with a dash (``-fs8.png``,
    ``-fs8``) rather than one option (``-q``, ``--force``)."""
    if not argument.startswith("-") or argument == "-":
        return False
    return "." in argument or (len(argument) > 2 and not argument.startswith("--"))


def run(argv):
    args = build_parser().parse_args(with_joined_ext(argv))
    check_usage(args)
    if not args.images:
        from importlib.resources import files

        demo = files("sklearn.datasets").joinpath("images", "china.jpg")
        args.sweep = args.sweep or DEFAULT_KS
        out_dir = Path(args.out_dir or DEMO_DIR)
        rows = sweep_one(args, Path(str(demo)), out_dir, "china", overwrite=True)
        if args.json:
            print_json(rows)
        print_rows(rows, args, f"china.jpg: k sweep, files, figures and report in {out_dir}/")
        return EXIT_OK

    failures, too_low, skipped, rows = 0, 0, 0, []
    progress = None
    if len(args.images) > 1 and not (args.quiet or args.json):
        progress = make_progress(len(args.images))
    done = 0
    outcomes = file_outcomes(args)
    try:
        for source, (ok, outcome) in zip(args.images, outcomes, strict=True):
            if ok:
                rows += outcome
                skipped += sum(bool(row.get("skipped")) for row in outcome)
                if not args.quiet:
                    print_notes(source, outcome, progress)
                if args.sweep:
                    title = f"{source}: k sweep in {sweep_dir(args, Path(source))}/"
                    print_rows(outcome, args, printable(title))
            else:
                error, trace = outcome
                if (stop := hidden_stop(error)) is not None:
                    raise stop from None
                if isinstance(error, BrokenPipeError) and args.output == STANDARD_STREAM:
                    raise error  # the image's reader left: the command ends (see main)
                if isinstance(error, QualityTooLow):
                    too_low += 1
                else:
                    failures += 1
                message = report_failure(args, source, error, progress, trace)
                rows.append({"input": source, "error": message})
            done += 1
            if progress is not None:
                progress.update(source)
    except Stopped as stop:  # ahead: done in parallel, not yet reported (see Stopped)
        rows += [row for ok, outcome in stop.ahead if ok for row in outcome]
        stop.done, stop.total = done + len(stop.ahead), len(args.images)
        if args.json:  # a script still learns what was done
            print_json(rows)
        raise
    finally:
        outcomes.close()  # stops the workers, if any are left
        if progress is not None:
            progress.close()
    if args.json:
        print_json(rows)
    elif not args.quiet and not args.sweep and args.output != STANDARD_STREAM:
        print_file_table(rows)
    if failures:
        return EXIT_FAILED
    if too_low:
        return EXIT_QUALITY_TOO_LOW
    return EXIT_SKIPPED if skipped else EXIT_OK


class PlainProgress:
    """Progress as plain lines, one per file done (``kmeans-compress: 3/24 name``), for a
    stderr that is not a terminal (a log, a pipe), where a bar's ``\\r`` redraws would
    pile up."""

    def __init__(self, total):
        self.total, self.done = total, 0

    def update(self, name):
        self.done += 1
        print(f"{PROG}: {self.done}/{self.total} {printable(str(name))}", file=sys.stderr)

    def write(self, line, file):
        print(line, file=file)

    def close(self):
        pass


class BarProgress:
    """Progress as tqdm's bar, redrawn in place on a terminal."""

    def __init__(self, total):
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="image", file=sys.stderr, leave=False)

    def update(self, name):
        self.bar.update()

    def write(self, line, file):
        self.bar.write(line, file=file)  # above the bar, not through it

    def close(self):
        self.bar.close()


def make_progress(total):
    return BarProgress(total) if sys.stderr.isatty() else PlainProgress(total)


def print_notes(source, rows, progress=None):
    """Each note of a file's report rows (a frame dropped, a profile converted, a target
    not reached), once, as one line on stderr: ``kmeans-compress: FILE: note``."""
    name = STDIN_NAME if source == STANDARD_STREAM else printable(str(source))
    notes = dict.fromkeys(note for row in rows for note in row.get("notes", ()))
    for note in notes:
        to_stderr(f"{PROG}: {name}: {printable(note)}", progress)


def report_failure(args, source, error, progress=None, trace=None):
    """Print the one line of a failed file (or its traceback with ``--debug``); returns
    the message."""
    if args.debug:
        print(trace, file=sys.stderr, end="")
    message = str(error) if str(error) else type(error).__name__
    if isinstance(error, MemoryError):
        message = "not enough memory for this image"
    elif isinstance(error, OSError) and error.strerror and error.filename:
        message = f"{error.filename}: {error.strerror}"  # not "[Errno 13] ..."
    source = STDIN_NAME if source == STANDARD_STREAM else source
    if not message.startswith(f"{source}: "):
        message = f"{source}: {message}"
    to_stderr(f"{PROG}: error: {printable(message)}", progress)
    return message


def to_stderr(line, progress=None):
    """One line on stderr; above the progress bar, if there is one."""
    if progress is not None:
        progress.write(line, file=sys.stderr)
    else:
        print(line, file=sys.stderr)


def silence_standard_output():
    """Point standard output at /dev/null: what is left in its buffer, flushed at exit,
    then goes nowhere instead of failing again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file: nothing to silence
        pass


class PrintVersion(argparse.Action):
    """``--version``: the version is read when asked (it costs 25 ms to read)."""

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{PROG} {kmeans_scratch.__version__}")
        parser.exit()


def main(argv=None):
    """The command: its exit status (0 done, 1 a file failed, 2 usage, 128 + signal)."""
    argv = sys.argv[1:] if argv is None else argv
    handlers = {}
    expect_stops()
    try:
        for signal_number in STOP_SIGNALS:
            handlers[signal_number] = signal.signal(signal_number, stop_on_signal)
    except ValueError:  # not the main thread: signals stay as they are
        pass
    try:
        return run(argv)
    except UsageError as error:
        print(f"{PROG}: error: {error} (see {PROG} --help)", file=sys.stderr)
        return EXIT_USAGE
    except Stopped as stop:
        print(stop_summary(stop), file=sys.stderr)
        return stop.exit_status
    except BrokenPipeError:  # the reader of our output left (``| head``): end as cat does
        silence_standard_output()
        return EXIT_BROKEN_PIPE
    except Exception as error:  # the last line of defense: one line, never a traceback
        if (stop := hidden_stop(error)) is not None:
            print(stop_summary(stop), file=sys.stderr)
            return stop.exit_status
        if "--debug" in argv:
            raise
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        for signal_number, handler in handlers.items():
            signal.signal(signal_number, handler)


#: glibc's ``mallopt`` parameters: the size from which an allocation gets pages of its
#: own, and the memory the heap keeps at its top when it shrinks.
M_MMAP_THRESHOLD, M_TOP_PAD = -3, -2
#: From this size on, an allocation of the command gets pages of its own.
MMAP_THRESHOLD_BYTES = 1 << 20
#: What the heap keeps at its top (glibc: 128 KiB).
TOP_PAD_BYTES = 16 << 20


def tune_allocator():
    """Two choices of the C library's allocator (``mallopt``), process-wide, so the
    command's and not the library's; a C library without ``mallopt`` keeps its ways.

    - Each allocation of 1 MiB or more gets pages of its own, which go back to the system
      when it is freed.  glibc does so from 128 KiB, but raises that bound (up to 32 MiB)
      after the first such free, and the arrays of one stage of a large image (the fit's,
      the quality measures') then stay in its heap under the next stage's: 60 MiB more at
      the peak of a 24-megapixel photo.
    - The heap keeps 16 MiB at its top when it shrinks, instead of 128 KiB: the smaller
      arrays come and go through a run, and each page the heap gave back and takes again
      costs a page fault, zeroed by the kernel.  A translucent 768 × 512 photo at k = 64
      took 22,300 page faults, 12,800 with the pad; its run 0.94 × the time (0.97 × on
      kodim04 at k = 256; ``farm-bench -n 21``), for a peak 0.4 to 4.3 MiB higher, and
      1.4 MiB on a 24-megapixel photo (211 MiB).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        mallopt(M_TOP_PAD, TOP_PAD_BYTES)
    except (OSError, AttributeError):
        pass


def set_up_process():
    """What the command's own process does before :func:`main`: the ahead-of-time kernels
    (a fresh process: start-up is most of a small file's time) and the allocator's
    choices (:func:`tune_allocator`)."""
    use_ahead_of_time()
    tune_allocator()


def entry_point():
    """The ``kmeans-compress`` command: :func:`main`, then a quick exit.

    Tearing the interpreter down (freeing every module and Numba's compiled code) takes
    about 0.3 s after the work is done, a third of the time of one small file.  When
    ``main`` returns, every output is complete (written, flushed to disk, renamed, closed),
    so the command flushes its own streams, runs the exit handlers (``atexit``) and ends
    the process without that teardown.
    """
    set_up_process()
    try:
        status = main()
    except SystemExit as done:  # --help and --version end through argparse's exit
        status = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
    for signal_number in STOP_SIGNALS:  # the work is over: its status
        signal.signal(signal_number, signal.SIG_IGN)  # stands, whatever comes now
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is not None:
        run_exit_handlers()
    os._exit(status)


if __name__ == "__main__":
    entry_point()
