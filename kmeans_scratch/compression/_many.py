"""Many image files at once: here one after the other, or on a Dask cluster's workers."""

import inspect
from pathlib import Path

from ._cluster import map_on_cluster, outcome_of
from ._quantized import check_n_colors


def output_of(source, n_colors, out_dir, fmt):
    """``STEM-kN.FORMAT`` in ``out_dir``, or next to ``source``."""
    folder = Path(out_dir) if out_dir is not None else source.parent
    return folder / f"{source.stem}-k{n_colors}.{fmt}"


def compress_file(source, output, n_colors, fmt, overwrite, options):
    """Compress one file and write it (atomically); its report, with input and output."""
    from . import compress

    result = compress(source, n_colors, format=fmt, **options)
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


def compress_many(
    images, n_colors=16, *, out_dir=None, format="png", overwrite=False, client=None, **options
):
    """Compress image files, each written to ``STEM-kN.FORMAT`` in ``out_dir`` (default:
    next to it), with the options of :func:`~kmeans_scratch.compression.compress`.

    With ``client``, a ``dask.distributed.Client``, the files are spread over its workers
    (which must see the same files); each output is byte-identical to a local run's.

    Returns one dict per input, in order: the file's report (see
    :meth:`QuantizedImage.report`, with PSNR) plus ``input`` and ``output``, or ``input``
    and ``error`` (a message) for a file that failed; the other files are still done.
    Refuses, before any work, two inputs that would write the same output.
    """
    fmt = str(format).lower()
    n_colors = check_n_colors(n_colors, fmt)
    check_options(options)
    sources = [Path(image) for image in images]
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
    if client is None:
        outcomes = (outcome_of(compress_file, task) for task in tasks)
    else:
        outcomes = map_on_cluster(compress_file, tasks, client)
    return [
        outcome if ok else {"input": str(source), "error": str(outcome[0])}
        for source, (ok, outcome) in zip(sources, outcomes, strict=True)
    ]
