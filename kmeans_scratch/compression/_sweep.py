"""The k sweep of the classroom experiment, and the smallest k that reaches a quality target."""

import io
import math
from pathlib import Path

from . import _output

#: The ks of the original experiment.
DEFAULT_KS = (2, 4, 8, 16, 32)

#: Columns of a sweep report, in order, with their headings.
COLUMNS = {
    "n_colors": "k",
    "colors_used": "colors",
    "output_bytes": "bytes",
    "ratio": "ratio",
    "bits_per_pixel": "bits/px",
    "psnr": "PSNR dB",
    "ssim": "SSIM",
    "delta_e": "ΔE",
    "seconds": "seconds",
}


def parse_ks(text):
    """ "2,4,8" → (2, 4, 8); raises ValueError naming the bad entry."""
    ks = []
    for part in str(text).split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise ValueError(f"--sweep takes whole numbers >= 1 separated by commas, got {part!r}")
        ks.append(int(part))
    return tuple(ks)


def smallest_k(quantizer, metric, target, max_k=256):
    """The smallest k whose ``metric`` ("psnr" or "ssim") reaches ``target``, by bisection.

    Quality grows with k (more colors can only help an optimal palette; K-Means finds a
    local optimum, so the search assumes it).  Returns ``(quantized, reached)``: when even
    ``max_k`` colors fall short, the ``max_k`` result and False.
    """
    best = quantizer.quantize(max_k)
    if not best.quality(metric) >= target:
        return best, False
    low, high = 0, max_k  # quality(low) < target <= quality(high)
    while high - low > 1:
        middle = (low + high) // 2
        if quantizer.quantize(middle).quality(metric) >= target:
            high = middle
        else:
            low = middle
    return quantizer.quantize(high), True


def sweep_rows(quantizer, ks, fmt="png"):
    """One report per k (see :meth:`QuantizedImage.report`)."""
    return [quantizer.quantize(k).report(fmt) for k in ks]


def write_sweep(quantizer, ks, out_dir, stem, fmt="png", overwrite=False, figures=True):
    """Write the palette file of every k, the figures, and report.csv / report.md.

    Returns ``(rows, written_paths)``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, written = sweep_rows(quantizer, ks, fmt), []
    for k, row in zip(ks, rows, strict=True):
        path = out_dir / f"{stem}-k{k}.{fmt}"
        quantizer.quantize(k).save(path, fmt, overwrite=overwrite)
        row["output"] = str(path)
        written.append(path)
    for name, text in (("csv", rows_to_csv(rows)), ("md", rows_to_markdown(rows, stem))):
        path = out_dir / f"{stem}-report.{name}"
        _output.atomic_write(path, text.encode("utf-8"), overwrite=overwrite)
        written.append(path)
    if figures:
        from ._figures import sweep_figures  # matplotlib only when figures are asked for

        written += sweep_figures(quantizer, ks, rows, out_dir, stem, overwrite=overwrite)
    return rows, written


def format_value(key, value):
    if value is None:
        return "–"
    if key in ("ratio", "bits_per_pixel", "delta_e"):
        return f"{value:.2f}"
    if key == "psnr":
        return "inf" if math.isinf(value) else f"{value:.2f}"
    if key == "ssim":
        return f"{value:.4f}"
    if key == "seconds":
        return f"{value:.3f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def rows_to_table(rows):
    """Plain-text table of sweep rows, for the terminal."""
    header = [COLUMNS[key] for key in COLUMNS]
    body = [[format_value(key, row.get(key)) for key in COLUMNS] for row in rows]
    widths = [max(len(cell) for cell in column) for column in zip(header, *body, strict=True)]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True))
        for line in [header, *body]
    ]
    return "\n".join(lines)


def rows_to_markdown(rows, title):
    first = rows[0]
    lines = [
        f"# {title}: k sweep",
        "",
        f"{first['width']} × {first['height']} pixels, {first['distinct_colors']:,} distinct "
        f"colors, input {format_value('input_bytes', first['input_bytes'])} bytes, "
        f"uncompressed {first['raw_bytes']:,} bytes; color space {first['color_space']}, "
        f"dithering {'on' if first['dither'] else 'off'}, format {first['format']}.",
        "",
        "| " + " | ".join(COLUMNS.values()) + " |",
        "|" + "---:|" * len(COLUMNS),
    ]
    for row in rows:
        lines.append("| " + " | ".join(format_value(k, row.get(k)) for k in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def rows_to_csv(rows):
    import csv  # a sweep's report only: not every run's start

    keys = [
        *COLUMNS,
        "input_bytes",
        "raw_bytes",
        "ratio_vs_raw",
        "format",
        "color_space",
        "dither",
        "output",
    ]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
