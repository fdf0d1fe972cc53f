"""One compression from file to file in this process, for the large-image rows.

    python -m benchmarks.large_job CONTENDER INPUT OUTPUT

prints one JSON line: ``seconds`` from the input file to the written output (imports
excluded), ``quantize_seconds`` (the color quantization alone), ``peak_rss`` (the peak
resident memory of this process, in bytes) and ``import_rss`` (the
peak after the imports, before the image is opened).

Contenders:

- ``ours``: the ``kmeans-compress`` command, k = 256: decode, histogram, fit, indices,
  the quality report (PSNR, SSIM, ΔE) and the PNG written atomically.
- ``libimagequant``: what pngquant does with libimagequant, without dithering: decode
  with Pillow, quantize and remap (``quantize_raw_rgba_bytes``), write the palette PNG
  with Pillow's encoder at its default level.
"""

import json
import resource
import sys
import time


def peak_rss():
    """This process's peak resident memory in bytes: Linux's VmHWM, which starts afresh at
    exec (``getrusage``'s ru_maxrss of a child also counts its parent's memory at fork)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def ours(source, output):
    from kmeans_scratch.compression.cli import main

    def run():
        from contextlib import redirect_stdout
        from io import StringIO

        report = StringIO()
        with redirect_stdout(report):
            status = main([source, "-k", "256", "-o", output, "--force", "--json"])
        if status != 0:
            raise SystemExit(f"kmeans-compress exited with {status}")
        (row,) = json.loads(report.getvalue())
        return row["histogram_seconds"] + row["seconds"]

    return run


def libimagequant(source, output):
    import imagequant
    import numpy as np
    from PIL import Image

    def run():
        with Image.open(source) as image:
            rgba = image.convert("RGBA")
        width, height = rgba.size
        start = time.perf_counter()
        index_bytes, palette = imagequant.quantize_raw_rgba_bytes(
            rgba.tobytes(), width, height, dithering_level=0.0, max_colors=256
        )
        quantize_seconds = time.perf_counter() - start
        del rgba
        quantized = Image.frombytes("P", (width, height), index_bytes)
        quantized.putpalette(np.array(palette, dtype=np.uint8).reshape(-1, 4)[:, :3].ravel())
        quantized.save(output, "PNG")
        return quantize_seconds

    return run


CONTENDERS = {"ours": ours, "libimagequant": libimagequant}


def main(contender, source, output):
    run = CONTENDERS[contender](source, output)
    import_rss = peak_rss()
    start = time.perf_counter()
    quantize_seconds = run()
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": seconds,
                "quantize_seconds": quantize_seconds,
                "peak_rss": peak_rss(),
                "import_rss": import_rss,
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
