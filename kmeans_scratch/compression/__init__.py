"""Color quantization on top of :func:`kmeans_scratch.k_means`: images in, palette files out.

>>> from kmeans_scratch.compression import compress
>>> result = compress("photo.jpg", 16)                 # doctest: +SKIP
>>> result.save("photo-k16.png")                       # indexed PNG, 4 bits per pixel
>>> result.report()["psnr"], result.report()["output_bytes"]

:func:`compress` takes a path, a Pillow image or a uint8 array; :func:`compress_many`
does many files, here or on a Dask cluster; :func:`sweep` runs the k-sweep experiment.
Uses only the public API of the core.
"""

import time

from kmeans_scratch._engine import require

require("compress", "kmeans_scratch.compression")

from . import _compiled  # noqa: F401  (registers the calls compiled ahead of time)
from ._encode import FORMATS, MAX_PALETTE_COLORS
from ._image import DEFAULT_MAX_PIXELS, ImageError, LoadedImage
from ._io import load
from ._many import compress_many
from ._quantized import QuantizedImage, Quantizer, check_n_colors
from ._speed import DEFAULT_SPEED, SPEEDS
from ._sweep import DEFAULT_KS, smallest_k, sweep_rows, write_sweep
from ._working_space import COLOR_SPACES

__all__ = [
    "COLOR_SPACES",
    "DEFAULT_KS",
    "DEFAULT_SPEED",
    "FORMATS",
    "SPEEDS",
    "ImageError",
    "LoadedImage",
    "QuantizedImage",
    "compress",
    "compress_many",
    "load",
    "sweep",
]

QUALITY_TARGETS = {"target_psnr": "psnr", "target_ssim": "ssim"}


def compress(
    image,
    n_colors=16,
    *,
    color_space="rgb",
    dither=False,
    random_state=0,
    n_init="auto",
    target_psnr=None,
    target_ssim=None,
    max_pixels=DEFAULT_MAX_PIXELS,
    max_memory=None,
    format="png",
    speed=DEFAULT_SPEED,
):
    """Quantize ``image`` to at most ``n_colors`` colors.

    Parameters
    ----------
    image : path, PIL.Image.Image or uint8 ndarray (H, W[, C])
    n_colors : int or "auto"
        Palette size (at most 256 for PNG and GIF).  With ``target_psnr`` (dB) or
        ``target_ssim``, the smallest k that reaches it is picked, up to ``n_colors``
        ("auto": 256), as pngquant's count with ``--quality``.
    color_space : {"rgb", "lab", "oklab"}
        Where distances are measured; the palette is always sRGB.
    dither : bool or float in [0, 1]
        Floyd–Steinberg error diffusion onto the palette: True (1) diffuses the whole
        error, a level between 0 and 1 that share of it (pngquant's ``--floyd=LEVEL``).
    random_state : int
        Seed of the k-means++ initialization.
    n_init : "auto" or int
        K-Means starts from different seeds, the best kept (on a coarse histogram of the
        colors when they are many, ranked after a few iterations and the best few run
        on; see ``_palette.coarse_levels`` and ``_palette.STARTS_PRUNING``): "auto" is what
        ``speed`` says (speed 1: 20 at every k; speeds 2–4: 10 up to 64 colors, 1 above;
        from speed 5: 1).
    max_pixels : int
        Refuse larger images (decompression-bomb guard).
    max_memory : int or None
        Refuse, before decoding, an image file whose compression would need more bytes
        than this (about 20 per pixel); None: the memory available now.
    format : {"png", "gif", "webp"}
        The format the palette size is checked against.
    speed : int, 1..11
        Effort, as pngquant's ``--speed``: 1 is the slowest, with the smallest files
        (oxipng's filter search) and the fit to convergence; the default 4 writes files
        about 4 % larger in a sixth of the encoding time; up to 11, fewer K-Means
        iterations and faster deflate (see ``kmeans_scratch.compression._speed``).

    Returns
    -------
    QuantizedImage
        With ``metrics`` (PSNR, SSIM, ΔE, colors used, timings) and ``report(format)``
        (plus the file sizes).  The quality measures are computed when first read.
        ``metrics["target_reached"]`` says, with a target, whether
        ``n_colors`` (256 for "auto") were enough.
    """
    start = time.perf_counter()
    fmt = str(format).lower()
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    targets = {
        name: value
        for name, value in (("target_psnr", target_psnr), ("target_ssim", target_ssim))
        if value is not None
    }
    if len(targets) > 1:
        raise ValueError("give exactly one of target_psnr or target_ssim, not both")
    if n_colors == "auto" and not targets:
        raise ValueError("n_colors='auto' needs exactly one of target_psnr or target_ssim")
    most = MAX_PALETTE_COLORS if n_colors == "auto" else check_n_colors(n_colors, fmt)
    quantizer = Quantizer(
        image, color_space, dither, random_state, max_pixels, n_init, max_memory, speed, fmt
    )
    if targets:
        ((name, target),) = targets.items()
        result, reached = smallest_k(quantizer, QUALITY_TARGETS[name], target, most)
        result.facts["target_reached"] = reached
        if not reached:
            what = f"PSNR {target:.2f} dB" if name == "target_psnr" else f"SSIM {target:.4g}"
            result.facts["notes"].append(f"target {what} not reached with {most} colors")
    else:
        result = quantizer.quantize(most)
    result.facts["total_seconds"] = time.perf_counter() - start
    return result


def sweep(
    image,
    ks=DEFAULT_KS,
    *,
    out_dir=None,
    stem=None,
    format="png",
    overwrite=False,
    color_space="rgb",
    dither=False,
    random_state=0,
    max_pixels=DEFAULT_MAX_PIXELS,
    max_memory=None,
    speed=DEFAULT_SPEED,
):
    """The k-sweep experiment: one report row per k.

    With ``out_dir``, also writes each palette file, the figures (image grid, size and
    quality against k, 3-D color scatter) and ``<stem>-report.csv`` / ``.md``.
    Returns the list of rows (see :meth:`QuantizedImage.report`).
    """
    ks = tuple(check_n_colors(k, format) for k in ks)
    quantizer = Quantizer(
        image,
        color_space,
        dither,
        random_state,
        max_pixels,
        max_memory=max_memory,
        speed=speed,
        format=str(format).lower(),
    )
    if out_dir is None:
        return sweep_rows(quantizer, ks, format)
    if stem is None:
        path = quantizer.loaded.source_path
        stem = path.stem if path is not None else "image"
    rows, _ = write_sweep(quantizer, ks, out_dir, stem, format, overwrite=overwrite)
    return rows
