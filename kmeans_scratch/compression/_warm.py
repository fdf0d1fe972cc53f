"""What the package build warms of ``compress()``, just in time: the calls a Python
session makes, compiled once into Numba's cache by ``python -m
kmeans_scratch.build_kernels --warm`` (the command itself runs the ahead-of-time module
instead: ``_compiled``)."""

import numpy as np

from . import compress


def warm_just_in_time():
    """``compress()`` as a Python session calls it (a notebook's k sweep, with its report),
    on a small image: RGB (writable or read-only) with and without dithering, RGBA
    (writable or read-only) and gray."""
    rows, columns = np.mgrid[:48, :64]
    noise = np.random.default_rng(0).integers(0, 24, (48, 64, 3))
    rgb = (np.stack([rows * 5, columns * 4, rows + columns], axis=-1) + noise).astype(np.uint8)
    alpha = np.clip(columns * 6, 0, 255).astype(np.uint8)[..., None]
    read_only = rgb.copy()  # as NumPy views of a PIL image are
    read_only.flags.writeable = False
    rgba = np.dstack([rgb, alpha])
    rgba[:, :4, :3] = 7  # transparent pixels with a color: cleared
    read_only_rgba = rgba.copy()
    read_only_rgba.flags.writeable = False
    for pixels, dither in (
        (rgb, False),
        (read_only, False),
        (rgb, True),
        (rgba, False),
        (read_only_rgba, False),
    ):
        compress(pixels, 16, dither=dither).report("png")
    compress(rgb[..., 0], 4).report("png")
    warm_large_image_kernels()


def warm_large_image_kernels():
    """The kernels that only a large image's calls reach, on a few pixels: the histogram's
    key table (RGB from 4 megapixels, :func:`._histogram.uses_key_table`), from pixels
    writable or read-only (``np.asarray`` of a PIL image), with a row table of each dtype
    the number of colors gives; and the pairs of a quality measure whose palette indices
    are read-only (read back from a PNG).  ``make bench`` of 2026-12-06 06:09 compiled
    them in its own process (its large images and their PSNR) when the small images above
    were all the warm ran.  And the PNG writer's block walker, which rows of 256 KiB or
    more reach (:data:`._png.SPLIT_FROM_BYTES`)."""
    from ._encode import indexed_png
    from ._histogram import distinct_keys_by_table, values_of_keys
    from ._metrics import distinct_pairs

    writable = np.zeros((16, 1), dtype=np.uint8)  # one channel: a table of 256 slots
    read_only = writable.copy()
    read_only.flags.writeable = False
    for flat in (writable, read_only):
        distinct_keys_by_table(flat)
        for dtype in (np.uint8, np.uint16, np.int32):
            values_of_keys(flat, np.zeros(1, dtype=dtype))
    indices = np.zeros(16, dtype=np.uint8)
    indices.flags.writeable = False
    distinct_pairs(np.zeros(16, dtype=np.int32), indices, np.full(1, 16, dtype=np.int64))
    every_entry = (np.arange(512 * 512) % 256).astype(np.uint8).reshape(512, 512)  # 8 bits
    indexed_png(np.zeros((256, 3), dtype=np.uint8), every_entry)
