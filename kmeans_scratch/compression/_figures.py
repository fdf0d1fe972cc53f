"""The figures of a k sweep (matplotlib, no display needed)."""

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from . import _output

#: Pixels drawn in the 3-D color scatter.
SCATTER_SAMPLE = 4000


def _save(figure, path, overwrite):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    _output.atomic_write(path, buffer.getvalue(), overwrite=overwrite)
    return path


def _rgb(pixels):
    """(…, C) uint8 → (…, 3) for display (gray repeated, alpha dropped)."""
    return pixels[..., :3] if pixels.shape[-1] >= 3 else np.repeat(pixels[..., :1], 3, axis=-1)


def image_grid(quantizer, ks, rows):
    """The original and its reconstruction for every k, side by side."""
    panels = [("original", quantizer.loaded.pixels)]
    panels += [
        (
            f"k = {k}: {row['output_bytes'] / 1024:.1f} KiB, {row['psnr']:.1f} dB",
            quantizer.quantize(k).palette[quantizer.quantize(k).indices],
        )
        for k, row in zip(ks, rows, strict=True)
    ]
    columns = min(3, len(panels))
    n_rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(n_rows, columns, figsize=(4.2 * columns, 3.2 * n_rows))
    for axis in np.ravel(axes):
        axis.axis("off")
    for axis, (title, pixels) in zip(np.ravel(axes), panels, strict=False):
        axis.imshow(_rgb(pixels))
        axis.set_title(title, fontsize=9)
    figure.suptitle("Color quantization by K-Means")
    return figure


def size_plot(rows):
    """Output file size against k, with the input file and the raw pixels for reference."""
    ks = [row["n_colors"] for row in rows]
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(ks, [row["output_bytes"] / 1024 for row in rows], "o-", label="palette file")
    if rows[0]["input_bytes"]:
        axis.axhline(rows[0]["input_bytes"] / 1024, color="tab:red", ls="--", label="input file")
    axis.axhline(rows[0]["raw_bytes"] / 1024, color="gray", ls=":", label="uncompressed pixels")
    axis.set_xscale("log", base=2)
    axis.set_yscale("log")
    axis.set_xticks(ks, [str(k) for k in ks])
    axis.set_xlabel("k (colors)")
    axis.set_ylabel("size (KiB)")
    axis.set_title(f"File size against k ({rows[0]['format'].upper()})")
    axis.legend()
    axis.grid(alpha=0.3, which="both")
    return figure


def quality_plot(rows):
    """PSNR and SSIM against k."""
    ks = [row["n_colors"] for row in rows]
    figure, left = plt.subplots(figsize=(6, 4))
    left.plot(ks, [row["psnr"] for row in rows], "o-", color="tab:blue", label="PSNR")
    left.set_ylabel("PSNR (dB)", color="tab:blue")
    right = left.twinx()
    right.plot(ks, [row["ssim"] for row in rows], "s--", color="tab:orange", label="SSIM")
    right.set_ylabel("SSIM", color="tab:orange")
    left.set_xscale("log", base=2)
    left.set_xticks(ks, [str(k) for k in ks])
    left.set_xlabel("k (colors)")
    left.set_title("Quality against k")
    left.grid(alpha=0.3)
    return figure


def color_scatter(quantizer, k, seed=0):
    """A sample of pixels in RGB space, each drawn in its own color, with the palette marked."""
    pixels = _rgb(quantizer.loaded.pixels).reshape(-1, 3)
    rng = np.random.default_rng(seed)
    sample = pixels[
        rng.choice(pixels.shape[0], min(SCATTER_SAMPLE, pixels.shape[0]), replace=False)
    ]
    palette = _rgb(quantizer.quantize(k).palette)
    figure = plt.figure(figsize=(6, 5.5))
    axis = figure.add_subplot(projection="3d")
    axis.scatter(*sample.T, c=sample / 255.0, s=4, alpha=0.5, depthshade=False)
    axis.scatter(
        *palette.T,
        c=palette / 255.0,
        s=140,
        marker="*",
        edgecolors="black",
        linewidths=0.8,
        depthshade=False,
        label=f"the {palette.shape[0]} palette colors",
    )
    axis.set_xlabel("R")
    axis.set_ylabel("G")
    axis.set_zlabel("B")
    axis.set_xlim(0, 255)
    axis.set_ylim(0, 255)
    axis.set_zlim(0, 255)
    axis.set_title(f"{sample.shape[0]:,} pixels and the k = {k} palette")
    axis.legend(loc="upper left", fontsize=8)
    return figure


def sweep_figures(quantizer, ks, rows, out_dir, stem, overwrite=False):
    """Write the four figures of a sweep into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    scatter_k = max(k for k in ks if k <= 32) if min(ks) <= 32 else min(ks)
    figures = {
        "grid": image_grid(quantizer, ks, rows),
        "size": size_plot(rows),
        "quality": quality_plot(rows),
        "scatter": color_scatter(quantizer, scatter_k),
    }
    return [
        _save(figure, out_dir / f"{stem}-{name}.png", overwrite) for name, figure in figures.items()
    ]
