"""One compression from file to file in this process, for the large-image rows.

    python -m benchmarks.large_job CONTENDER INPUT OUTPUT

prints one JSON line: ``seconds`` from the input file to the written output (imports
excluded), ``quantize_seconds`` (the color quantization alone), ``peak_rss`` (the peak
resident memory of this process, in bytes) and ``import_rss`` (the
peak after the imports, before the image is opened).

Contenders:

- ``ours``: the ``kmeans-compress`` command, k = 256, on the kernels the command runs
  (its ahead-of-time module for one file): decode, histogram, fit, indices, its report
  (PSNR) and the PNG written atomically.
- ``pngquant``: the ``pngquant --nofs 256`` command, run as a process of its own:
  ``seconds`` is that whole process, ``peak_rss`` its peak (``os.wait4``'s ``ru_maxrss``),
  the other two are null.
- ``libimagequant``: what pngquant does with libimagequant, without dithering: decode
  with Pillow, quantize and remap (``quantize_raw_rgba_bytes``), write the palette PNG
  with Pillow's encoder at its default level.
"""

import json
import os
import resource
import subprocess
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
    from kmeans_scratch.compression import _quantized
    from kmeans_scratch.compression.cli import main, set_up_process

    set_up_process()  # as the command's entry point does
    quantize = _quantized.Quantizer.quantize
    timed = []

    def timed_quantize(quantizer, n_colors):  # the histogram, then the fit and the indices
        start = time.perf_counter()
        result = quantize(quantizer, n_colors)
        timed.append(quantizer.histogram_seconds + time.perf_counter() - start)
        return result

    _quantized.Quantizer.quantize = timed_quantize

    def run():
        from contextlib import redirect_stdout
        from io import StringIO

        with redirect_stdout(StringIO()):  # the plain command: its report measures PSNR only
            status = main([source, "-k", "256", "-o", output, "--force"])
        if status != 0:
            raise SystemExit(f"kmeans-compress exited with {status}")
        return timed[-1]

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


def pngquant(source, output):
    """``pngquant --nofs 256`` from ``source`` to ``output`` in a process of its own: its
    wall time and peak resident memory."""
    import shutil

    def run():
        start = time.perf_counter()
        child = subprocess.Popen(
            [shutil.which("pngquant"), "--nofs", "256", "--force", "--output", output, source]
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise SystemExit(f"pngquant exited with {child.returncode}")
        return {"seconds": seconds, "peak_rss": usage.ru_maxrss * 1024}  # KiB on Linux

    return run


CONTENDERS = {"ours": ours, "libimagequant": libimagequant, "pngquant": pngquant}


def main(contender, source, output):
    run = CONTENDERS[contender](source, output)
    import_rss = peak_rss()
    start = time.perf_counter()
    outcome = run()
    seconds = time.perf_counter() - start
    if isinstance(outcome, dict):  # another process's measures
        row = {"quantize_seconds": None, "import_rss": None, **outcome}
    else:
        row = {
            "seconds": seconds,
            "quantize_seconds": outcome,
            "peak_rss": peak_rss(),
            "import_rss": import_rss,
        }
    print(json.dumps(row))


if __name__ == "__main__":
    main(*sys.argv[1:])
