"""Translucency: the command against pngquant on RGBA photos with alpha ramps and
feathered edges, judged by what a viewer sees: the image composited over black and
over white.

    .venv/bin/python -m benchmarks.translucency [--ks 16,64,256] [--keep DIR]

Each image is a photo of ``../shared/images`` (the benchmark needs that
folder) with an alpha mask drawn here (:data:`MASKS`): fully transparent,
translucent and opaque areas at once.  Both tools write a PNG from the same RGBA PNG in a
fresh process each (``kmeans-compress IN -k K -o OUT -f``, ``pngquant --nofs K -o OUT -f
IN``); the composite of the output over a background b ∈ {0, 255},

    composite(r, g, b, a; b) = α·(r, g, b) + (1 − α)·b,   α = a / 255   (floats, not rounded)

is compared with the input's by PSNR = 10·log10(255² / MSE), the MSE over every pixel
(transparent ones included: both tools keep them transparent) and the three channels.
Each file is written ``--rounds`` times by each tool, the two alternating (the order
reversed every other round), and the median wall times are reported with their ratio,
and the bytes of the files.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "images"
COMMAND = Path(sys.executable).parent / "kmeans-compress"

#: (name, photo under ../shared/images, mask): photos of both shared sets.
IMAGES = (
    ("kodim23-radial", "kodak/kodim23.png", "radial"),
    ("kodim03-feathered", "kodak/kodim03.png", "feathered"),
    ("kodim14-glass", "kodak/kodim14.png", "glass"),
    ("wiki001-radial", "wikipedia/001.png", "radial"),
    ("wiki010-feathered", "wikipedia/010.png", "feathered"),
    ("kodim01-radial", "kodak/kodim01.png", "radial"),
    ("kodim07-feathered", "kodak/kodim07.png", "feathered"),
    ("kodim19-glass", "kodak/kodim19.png", "glass"),
    ("kodim21-feathered", "kodak/kodim21.png", "feathered"),
    ("kodim12-radial", "kodak/kodim12.png", "radial"),
    ("wiki004-glass", "wikipedia/004.png", "glass"),
    ("wiki019-radial", "wikipedia/019.png", "radial"),
    ("wiki025-feathered", "wikipedia/025.png", "feathered"),
    ("wiki034-feathered", "wikipedia/034.png", "feathered"),
    ("wiki043-radial", "wikipedia/043.png", "radial"),
)


def radial_mask(height, width):
    """Opaque in a central disk, a linear ramp to transparent around it, transparent in
    the corners."""
    yy, xx = np.mgrid[:height, :width]
    radius = np.hypot(yy - height / 2, xx - width / 2) / np.hypot(height / 2, width / 2)
    return np.clip((0.85 - radius) / 0.55, 0.0, 1.0)


def feathered_mask(height, width):
    """A soft-edged (Gaussian-feathered) ellipse on transparency, its opacity ramping from
    0.25 on the left to opaque on the right."""
    ellipse = Image.new("L", (width, height), 0)
    ImageDraw.Draw(ellipse).ellipse(
        (width * 0.1, height * 0.1, width * 0.9, height * 0.9), fill=255
    )
    soft = np.asarray(ellipse.filter(ImageFilter.GaussianBlur(min(height, width) / 25))) / 255
    ramp = np.clip(0.25 + 1.0 * np.linspace(0, 1, width), 0.0, 1.0)[None, :]
    return soft * ramp


def glass_mask(height, width):
    """Opaque, with a pane of 55 % opacity in the middle (feathered borders) and a
    transparent strip at the top."""
    pane = Image.new("L", (width, height), 0)
    ImageDraw.Draw(pane).rectangle((width * 0.3, height * 0.25, width * 0.8, height * 0.8), 255)
    pane = np.asarray(pane.filter(ImageFilter.GaussianBlur(6))) / 255
    mask = 1.0 - 0.45 * pane
    mask[: height // 8] = 0.0
    return mask


MASKS = {"radial": radial_mask, "feathered": feathered_mask, "glass": glass_mask}


def make_rgba(photo, mask):
    """(H, W, 4) uint8: the photo's RGB with the mask's alpha."""
    with Image.open(photo) as image:
        rgb = np.asarray(image.convert("RGB"))
    alpha = np.rint(MASKS[mask](*rgb.shape[:2]) * 255).astype(np.uint8)
    return np.dstack([rgb, alpha])


def composite(rgba, background):
    """(H, W, 3) float64: ``rgba`` over a uniform ``background`` (0..255)."""
    rgba = rgba.astype(np.float64)
    alpha = rgba[..., 3:] / 255.0
    return rgba[..., :3] * alpha + background * (1.0 - alpha)


def composite_mse(original, quantized, background):
    return np.mean((composite(original, background) - composite(quantized, background)) ** 2)


def psnr(mse):
    return np.inf if mse == 0 else 10 * np.log10(255.0**2 / mse)


def measures(original, quantized):
    """PSNR (dB) over black, over white, and of the mean of the two MSEs ("both", what
    the command minimizes); and the share of the opaque pixels that stayed opaque."""
    black, white = (composite_mse(original, quantized, b) for b in (0.0, 255.0))
    opaque = original[..., 3] == 255
    kept = np.mean(quantized[..., 3][opaque] == 255) if opaque.any() else 1.0
    return {"black": psnr(black), "white": psnr(white), "both": psnr((black + white) / 2),
            "kept": kept}  # fmt: skip


def decoded(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))


def timed(command):
    """Run ``command``; its wall time in seconds."""
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


TOOLS = {
    "ours": lambda source, out, k: timed(
        [str(COMMAND), str(source), "-k", str(k), "-o", str(out), "-f", "-q"]
    ),
    "pngquant": lambda source, out, k: timed(
        ["pngquant", "--nofs", str(k), "-o", str(out), "-f", str(source)]
    ),
}


def image_set(folder):
    """[(name, RGBA path, translucent share of the visible pixels)], the PNGs written to
    ``folder``."""
    images = []
    for name, photo, mask in IMAGES:
        rgba = make_rgba(SHARED / photo, mask)
        path = folder / f"{name}.png"
        Image.fromarray(rgba, "RGBA").save(path)
        alpha = rgba[..., 3]
        images.append((name, path, np.mean(alpha[alpha > 0] < 255)))
    return images


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ks", default="16,64,256", help="palette sizes (default 16,64,256)")
    parser.add_argument("--keep", type=Path, help="write the images and outputs here")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each (default 3)")
    args = parser.parse_args(argv)
    ks = [int(k) for k in args.ks.split(",")]
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} is missing: this benchmark needs the shared photos")
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        images = image_set(folder)
        print(
            f"kmeans-compress ({COMMAND}) against pngquant --nofs, PSNR (dB) of the "
            "composite over black, over white, and of the mean of the two MSEs (both);"
        )
        print("opaque kept: the share of the opaque pixels still opaque (ours / pngquant's).")
        print("Images (photo, mask, translucent share of the visible pixels):")
        for (name, _, share), (_, photo, mask) in zip(images, IMAGES, strict=True):
            print(f"  {name}: {photo}, {mask}, {share:.0%}")
        print()
        print(
            "| image | k | black: ours | pngquant | Δ | white: ours | pngquant | Δ "
            "| both: ours | pngquant | Δ | opaque kept | seconds: ours | pngquant | ÷ "
            "| bytes ÷ pngquant's |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        worst, behind = {}, {}  # (k, measure) → the smallest ours − pngquant; cells behind
        time_ratios, byte_ratios = {}, {}  # k → [(ratio, image)]
        for name, path, _ in images:
            original = decoded(path)
            for k in ks:
                row, seconds, size = {}, {}, {}
                outs = {tool: folder / f"{name}-k{k}-{tool}.png" for tool in TOOLS}
                runs = {tool: [] for tool in TOOLS}
                for round_ in range(args.rounds):
                    order = list(TOOLS) if round_ % 2 == 0 else list(TOOLS)[::-1]
                    for tool in order:
                        runs[tool].append(TOOLS[tool](path, outs[tool], k))
                for tool in TOOLS:
                    seconds[tool] = float(np.median(runs[tool]))
                    size[tool] = outs[tool].stat().st_size
                    row[tool] = measures(original, decoded(outs[tool]))
                time_ratios.setdefault(k, []).append((seconds["ours"] / seconds["pngquant"], name))
                byte_ratios.setdefault(k, []).append((size["ours"] / size["pngquant"], name))
                cells = []
                for measure in ("black", "white", "both"):
                    ours, theirs = row["ours"][measure], row["pngquant"][measure]
                    worst[k, measure] = min(worst.get((k, measure), np.inf), ours - theirs)
                    behind[k, measure] = behind.get((k, measure), 0) + (ours < theirs)
                    cells.append(f"{ours:.2f} | {theirs:.2f} | {ours - theirs:+.2f}")
                kept = f"{row['ours']['kept']:.2f} / {row['pngquant']['kept']:.2f}"
                print(
                    f"| {name} | {k} | {' | '.join(cells)} | {kept} "
                    f"| {seconds['ours']:.2f} | {seconds['pngquant']:.2f} "
                    f"| {time_ratios[k][-1][0]:.2f} | {byte_ratios[k][-1][0]:.3f} |"
                )
        print()
        for k in ks:
            print(
                f"k = {k}: worst ours − pngquant over black {worst[k, 'black']:+.2f} dB, "
                f"over white {worst[k, 'white']:+.2f} dB, both {worst[k, 'both']:+.2f} dB; "
                f"behind over black in {behind[k, 'black']} of {len(images)} images, "
                f"over white in {behind[k, 'white']}, both in {behind[k, 'both']}; "
                f"{ratio_summary(time_ratios[k])} pngquant's wall time, "
                f"{ratio_summary(byte_ratios[k])} its bytes"
            )


def ratio_summary(ratios):
    """'median 1.63 × (worst 2.40 ×, kodim23-radial)' of [(ratio, image)]."""
    worst, image = max(ratios)
    return f"median {np.median([r for r, _ in ratios]):.2f} × (worst {worst:.2f} ×, {image})"


if __name__ == "__main__":
    main()
