"""The command's work on its files: where each output goes, checked before the work, and
each file compressed (or swept) in order, here or in worker processes.

Everything here is a client of the public API (:func:`~kmeans_scratch.compression.compress`,
:func:`~kmeans_scratch.compression.sweep`, and for a shared palette :mod:`._shared`'s steps)
plus the checks of :mod:`._io` and :mod:`._output`; ``args`` are the command's parsed arguments.
"""

import contextlib
import copy
import errno
import functools
import os
import sys
from pathlib import Path

from .._engine import use_ahead_of_time
from . import compress, sweep
from ._image import ImageError
from ._io import image_pixels, load_bytes
from ._metrics import QUALITY_MEASURES
from ._output import atomic_write, check_output
from ._pool import PARALLEL_FILES_MAX_PIXELS, map_here, map_in_workers, plan_workers
from ._quality_scale import QualityTooLow, quality_to_psnr
from ._shared import shared_outcomes

#: How messages name the override of a refused output, for the command's users.
FORCE = "--force"
#: The name of standard input (as an IMAGE) and standard output (as ``-o``), as pngquant's.
STANDARD_STREAM = "-"
#: How messages name standard input.
STDIN_NAME = "<stdin>"


class CollisionError(ValueError):
    """Two inputs of one batch would write the same output."""


def has_target(args):
    """Whether the work chooses k: ``--target-psnr``, ``--target-ssim`` or ``--quality``."""
    return any(
        getattr(args, name, None) is not None for name in ("target_psnr", "target_ssim", "quality")
    )


def target_options(args):
    """The API's target for the command's: ``--quality``'s MAX as a PSNR (see
    :mod:`._quality_scale`), or the PSNR or SSIM asked for."""
    if args.quality is not None:
        return {"target_psnr": quality_to_psnr(args.quality[1])}
    return {"target_psnr": args.target_psnr, "target_ssim": args.target_ssim}


def check_minimum_quality(args, source, result):
    """``--quality MIN``: refuse (nothing written) a result whose PSNR stays under MIN's."""
    if args.quality is None:
        return
    minimum, _ = args.quality
    floor = quality_to_psnr(minimum)
    psnr = result.quality("psnr")
    if psnr < floor:
        raise QualityTooLow(
            f"{source}: quality too low: {psnr:.2f} dB with {result.facts['n_colors']} "
            f"colors, under --quality's MIN {minimum} ({floor:.2f} dB); nothing written"
        )


def output_path(args, source, k):
    """Where the output of ``source`` goes: ``-o``, else ``STEM-kK.FORMAT`` (or ``STEM`` +
    ``--ext``) next to it or in ``--out-dir``; None for standard output."""
    if args.output:
        return None if args.output == STANDARD_STREAM else Path(args.output)
    folder = Path(args.out_dir) if args.out_dir else source.parent
    return folder / (
        f"{source.stem}{args.ext}" if args.ext else f"{source.stem}-k{k}.{args.format}"
    )


def sweep_dir(args, source):
    """The folder of a file's sweep."""
    return Path(args.out_dir) if args.out_dir else source.parent / f"{source.stem}-sweep"


def same_file(a, b):
    """Whether ``a`` and ``b`` both exist and are one file (a link or another name)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def check_collisions(args):
    """Refuse, before any work, a batch in which two inputs would write the same file.

    Without a quality target each output's name is known (``STEM-kK.FORMAT`` in its
    folder); with one, k is found by the work, so two inputs of the same stem in the same
    folder are refused, as are two sweeps of the same stem into one folder (``STEM-kK``,
    ``STEM-report``, the figures).  An output that is another input of the batch is
    refused too (with ``--force`` it would be replaced before it is read, or after).
    Raises :class:`CollisionError` naming both inputs.
    """
    if len(args.images) < 2:
        return
    inputs = {Path(name).resolve(): name for name in args.images}
    seen = {}
    for name in args.images:
        source = Path(name)
        path = None
        if args.sweep:
            key = (sweep_dir(args, source).resolve(), source.stem)
            what = f"{key[0] / source.stem}-* (a sweep's files)"
        elif has_target(args) and not args.ext:
            key = (output_path(args, source, 0).parent.resolve(), source.stem)
            what = f"{key[0] / source.stem}-kK.{args.format}"
        else:
            path = output_path(args, source, args.colors)
            key, what = path.resolve(), str(path)
        if key in seen:
            raise CollisionError(
                f"{seen[key]} and {name} would both be written to {what}; "
                "rename one, or give them different --out-dir runs"
            )
        seen[key] = name
        if path is not None and inputs.get(key, name) != name:
            raise CollisionError(
                f"{name} would be written to {path}, another input of the batch "
                f"({inputs[key]}); rename one, or use --out-dir"
            )


def check_output_of(args, source, path):
    """Refuse, before compressing ``source``, an output that would replace it (unless
    named by ``-o`` or ``--ext`` with ``--force``: pngquant's ``--ext .png --force``
    compresses in place), that exists (without ``--force``), that is not a file to
    write, whose folder does not exist (``-o``; ``--out-dir`` is created) or cannot be
    written to.  Standard output (``path`` None) is always fine."""
    if path is None:
        return
    if same_file(path, source) and not (args.force and (args.output or args.ext)):
        how = (
            "add --force" if args.output or args.ext else "name it with -o or --ext and add --force"
        )
        raise ImageError(
            f"{source}: the output would replace the input (to compress in place, {how})"
        )
    check_output(path, overwrite=args.force, force=FORCE)
    folder_exists = path.parent.is_dir()
    if args.output and not folder_exists:
        raise ImageError(f"{path}: no such folder {path.parent}")
    if folder_exists and not os.access(path.parent, os.W_OK | os.X_OK):
        denied = os.strerror(errno.EACCES)
        raise ImageError(f"{path}: cannot write into {path.parent}: {denied}")


def read_input(args, source):
    """What :func:`compress` takes for ``source``: its path, or standard input decoded."""
    if str(source) != STANDARD_STREAM:
        return source
    data = sys.stdin.buffer.read()
    return load_bytes(data, STDIN_NAME, args.max_pixels, args.max_memory)


def compress_one(args, source, shared=None):
    """Compress one file as the arguments say (onto the :class:`~._shared.SharedPalette`
    ``shared`` if given); returns its report row."""
    if has_target(args):
        if args.output or args.ext:
            check_output_of(args, source, output_path(args, source, 0))
        image = read_input(args, source)
        result = compress(
            image, args.colors or "auto", **target_options(args), **common_options(args)
        )
        check_minimum_quality(args, source, result)
    else:
        check_output_of(args, source, output_path(args, source, args.colors))
        image = read_input(args, source)
        if shared is None:
            result = compress(image, args.colors, **common_options(args))
        else:
            result = shared.quantize(image, **common_options(args))
    del image  # standard input's pixels: the result holds what it needs
    if args.strip:
        result.icc_profile = None
    path = output_path(args, source, result.facts["n_colors"])
    check_output_of(args, source, path)  # with a target, its name is known only now
    measures = measures_of(args)
    result.facts_and_quality(measures)  # measured, then the pixels can go
    result.release_pixels()
    row = {"input": str(source), **result.report(args.format, measures)}
    if args.skip_if_larger and row["input_bytes"] and row["output_bytes"] >= row["input_bytes"]:
        row["output"] = None
        row["skipped"] = True
        row["notes"].append("skipped: the output would not be smaller than the input")
        return row
    if path is None:
        sys.stdout.buffer.write(result.encode(args.format))
        sys.stdout.buffer.flush()
        row["output"] = STANDARD_STREAM
        return row
    if args.out_dir:
        path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, result.encode(args.format), overwrite=args.force, force=FORCE)
    row["output"] = str(path)
    return row


def measures_of(args):
    """The quality measures the command reports: PSNR (nearly free), and SSIM and ΔE
    when the table or JSON shows them, or a target needs them."""
    if args.metrics or args.json:
        return QUALITY_MEASURES
    if args.target_ssim is not None:
        return ("psnr", "ssim")
    return ("psnr",)


def common_options(args):
    """The options of :func:`compress` (and :class:`~._quantized.Quantizer`) that the
    command's arguments give."""
    return {
        "color_space": args.color_space,
        "dither": args.dither,
        "random_state": args.seed,
        "max_pixels": args.max_pixels,
        "max_memory": args.max_memory,
        "format": args.format,
        "speed": args.speed,
    }


def sweep_one(args, source, out_dir, stem, overwrite):
    """The k-sweep of one file into ``out_dir``, as the arguments say: its report rows."""
    return sweep(
        source, args.sweep, out_dir=out_dir, stem=stem, overwrite=overwrite, **common_options(args)
    )


def check_task_output(task):
    """Refuse, before any work, the output of the task ``(args, name)`` of
    :func:`process_file` (see :func:`check_output_of`): a shared palette's, whose files
    are written after the palette of them all is fitted."""
    args, name = task
    source = Path(name)
    check_output_of(args, source, output_path(args, source, args.colors))


def process_file(args, name, shared=None):
    """The report rows of one input file: its compression (onto the shared palette if
    given), or its sweep."""
    source = Path(name)
    if not args.sweep:
        return [compress_one(args, source, shared)]
    file_rows = sweep_one(args, source, sweep_dir(args, source), source.stem, args.force)
    return [{"input": str(source), **row} for row in file_rows]


def with_absolute_paths(args):
    """The arguments with every path (inputs, ``-o``, ``--out-dir``) made absolute: a Dask
    cluster's workers run in folders of their own, where a relative path names another
    file (the reports then show the absolute paths)."""
    absolute = copy.copy(args)
    absolute.images = [os.path.abspath(name) for name in args.images]
    if args.output and args.output != STANDARD_STREAM:
        absolute.output = os.path.abspath(args.output)
    if args.out_dir:
        absolute.out_dir = os.path.abspath(args.out_dir)
    return absolute


@contextlib.contextmanager
def task_runner(args):
    """``run(function, argument_lists)``, which yields each task's outcome in order: on a
    Dask cluster with ``--workers`` or ``--scheduler`` (see :mod:`._cluster`), in worker
    processes when the batch is many small images (see :mod:`._pool`), else here, one
    after the other."""
    pixels = {os.fspath(name): image_pixels(name) for name in args.images}
    cost = functools.partial(pixels_of_task, pixels)
    if args.workers or args.scheduler:
        from ._cluster import dask_client, map_on_cluster

        with dask_client(args.workers, args.scheduler) as client:
            yield functools.partial(map_on_cluster, client=client, cost=cost)
        return
    largest = max(pixels.values())
    if largest > PARALLEL_FILES_MAX_PIXELS and len(args.images) > 1:
        # Large images one after the other: Numba's threads work on each.  One large
        # image stays on the ahead-of-time kernels: Numba's start and its threads
        # cost more (CPU, and 150 MiB) than its second core saves.
        use_ahead_of_time(False)
    workers, threads = 0, 0
    if len(args.images) > 1 and not args.sweep:
        workers, threads = plan_workers(len(args.images), largest)
    if workers:
        yield functools.partial(map_in_workers, workers=workers, threads=threads, cost=cost)
    else:
        yield map_here


def pixels_of_task(pixels, arguments):
    """The pixels of the input a task's ``arguments`` name (the first that is a key of
    ``pixels``, input name → its pixels), 0 for a task that names none: a batch's workers
    take the largest images first (:func:`._pool.dispatch_order`).  Against the files in
    the order given, in 9 alternating runs: 0.92 × the wall time on the 15 translucent
    photos of ``benchmarks.translucency`` at k = 64 (the 8 of 768 × 512 named before the
    7 of about 1 MP), 0.97 × on the 16 of Wikipedia at k = 256 (0.9 to 1.3 MP)."""
    for argument in arguments:
        if isinstance(argument, (str, os.PathLike)) and os.fspath(argument) in pixels:
            return pixels[os.fspath(argument)]
    return 0


def file_outcomes(args):
    """``(True, rows)`` or ``(False, (error, traceback text))`` for each input, in order
    (see :func:`task_runner` for where each runs); with ``--shared-palette``, onto one
    palette fitted to all of them (see :mod:`._shared`)."""
    if args.workers or args.scheduler:
        args = with_absolute_paths(args)
    tasks = [(args, name) for name in args.images]
    with task_runner(args) as run:
        if not args.shared_palette:
            yield from run(process_file, tasks)
            return
        sources = [Path(name) for name in args.images]
        yield from shared_outcomes(
            sources,
            tasks,
            run,
            process_file,
            args.colors,
            common_options(args),
            check_task=check_task_output,
        )
