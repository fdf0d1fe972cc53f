"""Issue 4's peer table: color quantizers on the same images: time, PSNR, ΔE, PNG bytes.

Every contender's palette and indices go through the same indexed-PNG encoder (smallest
bit depth, oxipng), so the byte counts compare palettes, not PNG writers.  Time is the
quantization alone (no file writing), as libimagequant reports it.
"""

import numpy as np
import pytest

from kmeans_scratch.compression._encode import encode
from kmeans_scratch.compression._histogram import color_histogram
from kmeans_scratch.compression._metrics import mean_delta_e, psnr

from .contenders import QUANTIZERS
from .datasets import image, short_name


@pytest.mark.parametrize("quantizer", list(QUANTIZERS))
@pytest.mark.parametrize("k", [16, 64, 256])
def test_quantize(benchmark, recorder, smoke, timed_rounds, image_name, k, quantizer):
    pixels = image(image_name)
    if smoke:
        pixels = np.ascontiguousarray(pixels[::8, ::8])
    quantize = QUANTIZERS[quantizer]
    quantize(pixels[:32, :32], min(k, 16))  # warm up: load compiled kernels, libraries
    rounds = timed_rounds(3)
    palette, indices = benchmark.pedantic(quantize, args=(pixels, k), rounds=rounds, iterations=1)
    assert palette.shape[0] <= k and indices.shape == pixels.shape[:2]
    histogram = color_histogram(pixels)
    recorder.add(
        "quantize-peers",
        benchmark,
        image=short_name(image_name),
        size=f"{pixels.shape[1]}×{pixels.shape[0]}",
        k=k,
        contender=quantizer,
        psnr=psnr(histogram, palette, indices),
        delta_e=mean_delta_e(histogram, palette, indices),
        png_bytes=len(encode(palette, indices, "RGB", "png")),
    )
