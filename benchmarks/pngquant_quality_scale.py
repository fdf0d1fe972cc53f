"""How pngquant's reported error compares with the per-channel sRGB MSE of its own files:
the factor ``_quality_scale.PNGQUANT_MSE_TO_SRGB`` that turns ``--quality``'s scale into
what this library measures.

    .venv/bin/python -m benchmarks.pngquant_quality_scale

For every third photo of ``../shared/images/kodak`` and ``../shared/images/wikipedia``
(where present), at k = 16, 64 and 256: ``pngquant -v --nofs K`` prints the MSE it
reached ("MSE=… (Q=…)", libimagequant's gamma-weighted error as a "standard" MSE); the
mean squared error of its output against the photo is measured here, per channel, sRGB
0..255, as ``QuantizedImage.quality("psnr")`` measures it.  Prints each ratio, then their
median, least and largest.  Needs pngquant (``make pngquant``).
"""

import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from .dither_vs_pngquant import SHARED

KS = (16, 64, 256)


def photos():
    """Every third photo of each shared set that is present."""
    found = []
    for folder in ("kodak", "wikipedia"):
        found += sorted((SHARED / folder).glob("*.png"))[::3]
    return found


def ratio_for(photo, k, output):
    """(pngquant's reported MSE, its quality, the sRGB MSE of its file) at ``k``."""
    done = subprocess.run(
        ["pngquant", "-v", "--nofs", str(k), "-o", str(output), "-f", str(photo)],
        capture_output=True,
        text=True,
        check=True,
    )
    reported = re.search(r"MSE=([\d.]+) \(Q=(\d+)\)", done.stderr)
    source = np.asarray(Image.open(photo).convert("RGB"), dtype=np.float64)
    written = np.asarray(Image.open(output).convert("RGB"), dtype=np.float64)
    return float(reported[1]), int(reported[2]), float(((written - source) ** 2).mean())


def main():
    ratios = []
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "pngquant.png"
        for photo in photos():
            for k in KS:
                reported, quality, measured = ratio_for(photo, k, output)
                ratios.append(measured / reported)
                print(
                    f"{photo.parent.name}/{photo.name} k={k}: pngquant MSE {reported:.3f} "
                    f"(Q={quality}), sRGB MSE {measured:.2f}, ratio {ratios[-1]:.2f}"
                )
    if not ratios:
        raise SystemExit("no photos: ../shared/images/kodak or ../shared/images/wikipedia")
    print(
        f"ratio over {len(ratios)} files: median {np.median(ratios):.2f}, "
        f"least {min(ratios):.2f}, largest {max(ratios):.2f}"
    )


if __name__ == "__main__":
    main()
