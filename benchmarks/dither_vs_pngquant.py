"""Dithering: ``kmeans-compress --dither`` against pngquant's default (dithered) output,
file to file, on both shared photo sets.

    .venv/bin/python -m benchmarks.dither_vs_pngquant [--sets kodak,wikipedia]
        [--ks 64,256] [--keep DIR] [--rows rows.json]

For every photo of ``../shared/images/<set>`` and every k, each tool writes a PNG from
the photo in a fresh process, side by side (``kmeans-compress IN -k K --dither -o OUT
-f -q``, ``pngquant K -o OUT -f IN``); the output is decoded and compared with the
input: PSNR = 10·log10(255² / MSE) over the pixels and the three channels, and SSIM as
``skimage.metrics.structural_similarity`` (7 × 7 windows, channel mean).  Per set and
k: the mean PSNR and SSIM of each tool, the ratio of the total bytes, the median wall
time of each, and the worst image (the lowest ours − pngquant for PSNR and SSIM, the
highest byte ratio).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from skimage.metrics import structural_similarity

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "images"
COMMAND = Path(sys.executable).parent / "kmeans-compress"

TOOLS = {
    "ours": lambda source, out, k: [
        str(COMMAND), str(source), "-k", str(k), "--dither", "-o", str(out), "-f", "-q"
    ],
    "pngquant": lambda source, out, k: ["pngquant", str(k), "-o", str(out), "-f", str(source)],
}  # fmt: skip


def decoded(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def measures(original, path):
    """PSNR (dB), SSIM and bytes of the file at ``path`` against ``original``."""
    quantized = decoded(path)
    mse = np.mean((original.astype(np.float64) - quantized) ** 2)
    similarity = structural_similarity(original, quantized, channel_axis=2, data_range=255)
    return {"psnr": 10 * np.log10(255.0**2 / mse), "ssim": similarity,
            "bytes": path.stat().st_size}  # fmt: skip


def timed(command):
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def summary(rows, name, k):
    """One line of the table: means, bytes ratio, median seconds and worst images."""
    cell = [row for row in rows if row["set"] == name and row["k"] == k]
    if not cell:
        return None

    def mean(tool, measure):
        return np.mean([row[tool][measure] for row in cell])

    def worst(key, pick):
        row = pick(cell, key=key)
        return row["image"], key(row)

    byte_ratio = sum(r["ours"]["bytes"] for r in cell) / sum(r["pngquant"]["bytes"] for r in cell)
    psnr = worst(lambda r: r["ours"]["psnr"] - r["pngquant"]["psnr"], min)
    ssim = worst(lambda r: r["ours"]["ssim"] - r["pngquant"]["ssim"], min)
    size = worst(lambda r: r["ours"]["bytes"] / r["pngquant"]["bytes"], max)
    seconds = [np.median([r[tool]["seconds"] for r in cell]) for tool in TOOLS]
    ours_psnr, their_psnr = mean("ours", "psnr"), mean("pngquant", "psnr")
    ours_ssim, their_ssim = mean("ours", "ssim"), mean("pngquant", "ssim")
    return (
        f"| {name} | {k} | {len(cell)} | {ours_psnr:.2f} | {their_psnr:.2f} | "
        f"{ours_psnr - their_psnr:+.2f} | {ours_ssim:.4f} | {their_ssim:.4f} | "
        f"{ours_ssim - their_ssim:+.4f} | {byte_ratio:.3f} | "
        f"{psnr[0]} {psnr[1]:+.2f} dB, {ssim[0]} {ssim[1]:+.4f}, {size[0]} {size[1]:.3f} × | "
        f"{seconds[0]:.2f} | {seconds[1]:.2f} |"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="kodak,wikipedia", help="folders of ../shared/images")
    parser.add_argument("--ks", default="64,256", help="palette sizes (default 64,256)")
    parser.add_argument("--keep", type=Path, help="write the outputs here")
    parser.add_argument("--rows", type=Path, help="write every image's measures here (JSON)")
    args = parser.parse_args(argv)
    sets, ks = args.sets.split(","), [int(k) for k in args.ks.split(",")]
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} is missing: this benchmark needs the shared photos")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for name in sets:
            for photo in sorted((SHARED / name).glob("*.png")):
                original = decoded(photo)
                for k in ks:
                    row = {"set": name, "image": photo.name, "k": k}
                    for tool, command in TOOLS.items():
                        out = folder / f"{name}-{photo.stem}-k{k}-{tool}.png"
                        seconds = timed(command(photo, out, k))
                        row[tool] = {**measures(original, out), "seconds": seconds}
                    rows.append(row)
                    print(
                        f"{name}/{photo.name} k={k}: ours {row['ours']['psnr']:.2f} dB "
                        f"{row['ours']['ssim']:.4f} {row['ours']['bytes']} B, pngquant "
                        f"{row['pngquant']['psnr']:.2f} dB {row['pngquant']['ssim']:.4f} "
                        f"{row['pngquant']['bytes']} B",
                        file=sys.stderr,
                        flush=True,
                    )
    if args.rows:
        args.rows.write_text(json.dumps(rows, indent=1))
    print(f"kmeans-compress --dither ({COMMAND}) against pngquant's default dithering,")
    print("file to file; means over the images, bytes as the ratio of the totals (ours /")
    print("pngquant's), worst image = lowest Δ PSNR, lowest Δ SSIM, highest byte ratio.")
    print()
    print(
        "| set | k | images | PSNR ours | pngquant | Δ | SSIM ours | pngquant | Δ | bytes × "
        "| worst image | s ours (median) | s pngquant |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for name in sets:
        for k in ks:
            line = summary(rows, name, k)
            if line:
                print(line)


if __name__ == "__main__":
    main()
