"""Many image files at once: here one after the other, or on a Dask cluster's workers."""

import functools
import inspect
from pathlib import Path

from ._cluster import map_on_cluster
from ._output import check_output
from ._pool import map_here
from ._quantized import check_n_colors
from ._shared import shared_outcomes

#: :func:`~kmeans_scratch.compression.compress`'s quality targets, which choose k per image.
TARGETS = ("target_psnr", "target_ssim")


def output_of(source, n_colors, out_dir, fmt):
    """``STEM-kN.FORMAT`` in ``out_dir``, or next to ``source``."""
    folder = Path(out_dir) if out_dir is not None else source.parent
    return folder / f"{source.stem}-k{n_colors}.{fmt}"


def compress_file(source, output, n_colors, fmt, overwrite, options, shared=None):
    """Compress one file (onto the :class:`~._shared.SharedPalette` ``shared`` if given)
    and write it atomically; its report, with input and output."""
    from . import compress

    if shared is None:
        result = compress(source, n_colors, format=fmt, **options)
    else:
        result = shared.quantize(source, format=fmt, **options)
    output.parent.mkdir(parents=True, exist_ok=True)
    result.save(output, fmt, overwrite=overwrite)
    return {"input": str(source), "output": str(output), **result.report(fmt, ("psnr",))}


def check_options(options):
    """Only :func:`~kmeans_scratch.compression.compress`'s own keywords, named if not."""
    from . import compress

    allowed = set(inspect.signature(compress).parameters) - {"image", "n_colors", "format"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(
            f"compress_many() got unknown options {unknown}; it takes {sorted(allowed)}"
        )


def run_tasks(function, argument_lists, client=None):
    """``function(*arguments)`` for each, here or on the Dask ``client``'s workers: the
    outcomes in order, as :func:`~._cluster.map_on_cluster`'s."""
    if client is not None:
        return map_on_cluster(function, argument_lists, client)
    return map_here(function, argument_lists)


def compress_many(
    images,
    n_colors=16,
    *,
    out_dir=None,
    format="png",
    overwrite=False,
    client=None,
    shared_palette=False,
    **options,
):
    """Compress image files, each written to ``STEM-kN.FORMAT`` in ``out_dir`` (default:
    next to it), with the options of :func:`~kmeans_scratch.compression.compress`.

    With ``client``, a ``dask.distributed.Client``, the files are spread over its workers
    (which must see the same files: relative paths are made absolute first, as the
    workers run in folders of their own); each output is byte-identical to a local run's.
    ``n_colors`` is a number: a quality target, which chooses k per image, is
    :func:`~kmeans_scratch.compression.compress`'s (``compress(path, "auto",
    target_psnr=…)``) or the command's (``--target-psnr``).

    With ``shared_palette``, every output carries one palette of at most ``n_colors``
    entries, fitted once to the pixels of all the images together (see
    :mod:`~kmeans_scratch.compression._shared`), the same here and on a cluster.

    Returns one dict per input, in order: the file's report (see
    :meth:`QuantizedImage.report`, with PSNR) plus ``input`` and ``output``, or ``input``
    and ``error`` (a message) for a file that failed; the other files are still done.
    Refuses, before any work, two inputs that would write the same output.
    """
    fmt = str(format).lower()
    check_options(options)
    targets = [name for name in TARGETS if options.get(name) is not None]
    if targets or (isinstance(n_colors, str) and n_colors == "auto"):
        raise ValueError(
            f"compress_many takes a number of colors, not {targets[0] if targets else 'auto'}:"
            " for a quality target per image, use compress(path, 'auto', target_psnr=...) "
            "on each, or the command's --target-psnr"
        )
    n_colors = check_n_colors(n_colors, fmt)
    options = {name: value for name, value in options.items() if name not in TARGETS}
    local = Path if client is None else (lambda path: Path(path).absolute())
    sources = [local(image) for image in images]
    out_dir = None if out_dir is None else local(out_dir)
    outputs = [output_of(source, n_colors, out_dir, fmt) for source in sources]
    seen = {}
    for source, output in zip(sources, outputs, strict=True):
        key = output.resolve()
        if key in seen:
            raise ValueError(f"{seen[key]} and {source} would both be written to {output}")
        seen[key] = source
    tasks = [
        (source, output, n_colors, fmt, overwrite, options)
        for source, output in zip(sources, outputs, strict=True)
    ]
    run = functools.partial(run_tasks, client=client)
    if shared_palette:
        outcomes = shared_outcomes(
            sources, tasks, run, compress_file, n_colors, {**options, "format": fmt},
            check_task=lambda task: check_output(task[1], overwrite),
        )  # fmt: skip
    else:
        outcomes = run(compress_file, tasks)
    return [
        outcome if ok else {"input": str(source), "error": str(outcome[0])}
        for source, (ok, outcome) in zip(sources, outcomes, strict=True)
    ]
