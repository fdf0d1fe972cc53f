"""What the package build warms of ``compress()``, just in time: the calls a Python
session makes, compiled once into Numba's cache by ``python -m
kmeans_scratch.build_kernels --warm`` (the command itself runs the ahead-of-time module
instead: ``_compiled``)."""

import numpy as np

from . import compress


def warm_just_in_time():
    """``compress()`` as a Python session calls it (a notebook's k sweep, with its report),
    on a small image: RGB (writable or read-only) with and without dithering, RGBA and
    gray."""
    rows, columns = np.mgrid[:48, :64]
    noise = np.random.default_rng(0).integers(0, 24, (48, 64, 3))
    rgb = (np.stack([rows * 5, columns * 4, rows + columns], axis=-1) + noise).astype(np.uint8)
    alpha = np.clip(columns * 6, 0, 255).astype(np.uint8)[..., None]
    read_only = rgb.copy()  # as NumPy views of a PIL image are
    read_only.flags.writeable = False
    for pixels, dither in (
        (rgb, False),
        (read_only, False),
        (rgb, True),
        (np.dstack([rgb, alpha]), False),
    ):
        compress(pixels, 16, dither=dither).report("png")
    compress(rgb[..., 0], 4).report("png")
