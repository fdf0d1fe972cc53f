"""One quantization: a palette, an index per pixel, and what it costs and saves."""

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import _encode, _image, _io, _output
from ._alpha import (
    GIF_ALPHA_THRESHOLD,
    alpha_for_gif,
    has_partial_alpha,
    invisible_colors_cleared,
)
from ._histogram import color_histogram
from ._metrics import (
    QUALITY_MEASURES,
    mean_delta_e_of_pairs,
    pixel_pairs,
    psnr_of_pairs,
    size_report,
    ssim,
)
from ._palette import fit_palette
from ._remap import pixel_indices
from ._speed import DEFAULT_SPEED, check_speed, effort
from ._working_space import COLOR_SPACES


@dataclass
class QuantizedImage:
    """An image reduced to a palette.

    Attributes
    ----------
    palette : ndarray (k, C) uint8
        The colors (C = 3 RGB, 4 RGBA, 1 gray, 2 gray + alpha).
    indices : ndarray (H, W)
        The palette entry of every pixel.
    mode : str
        "RGB", "RGBA", "L" or "LA".
    metrics : dict
        ``n_colors`` requested, ``colors_used``, ``psnr`` (dB), ``ssim``, ``delta_e``
        (mean CIEDE2000), ``seconds`` to quantize, ``input_bytes``, and ``notes``.  The
        quality numbers are computed on first access, not as part of the quantization.
    speed : int
        The effort of :meth:`encode` (1 slowest and smallest, 11 fastest).
    keep_palette : bool
        Whether a PNG keeps the entries no pixel uses (a palette shared by many images).
    labels : ndarray (m,) or None
        Each distinct color's entry when every pixel takes its color's (no dithering).
    """

    palette: np.ndarray
    indices: np.ndarray
    mode: str
    facts: dict
    icc_profile: bytes | None = None
    original: np.ndarray | None = field(default=None, repr=False)
    histogram: object = field(default=None, repr=False)
    speed: int = DEFAULT_SPEED
    keep_palette: bool = False
    labels: np.ndarray | None = field(default=None, repr=False)
    _quality: dict = field(default_factory=dict, repr=False)
    _pairs: tuple | None = field(default=None, repr=False)
    _encoded: dict = field(default_factory=dict, repr=False)

    def quality(self, name):
        """ "psnr", "ssim" or "delta_e", each computed on first use.

        PSNR costs one pass over the pixels' indices; ΔE a CIEDE2000 per distinct (color,
        entry) pair; SSIM a pass of 7 × 7 windows over the image (smaller windows on an
        image under 7 pixels a side).
        """
        if name not in QUALITY_MEASURES:
            raise ValueError(f"quality measure must be one of {QUALITY_MEASURES}, got {name!r}")
        if name not in self._quality and self.original is None:
            raise ValueError(f"{name} was not measured before the pixels were released")
        if name not in self._quality:
            if name == "ssim":
                self._quality["ssim"] = ssim(self.original, self.palette, self.indices)
            else:  # PSNR and ΔE share the one pass that finds the (color, entry) pairs
                pairs = self._pairs
                if pairs is None:
                    pairs = pixel_pairs(self.histogram, self.indices, self.labels)
                    if self.labels is None:  # kept: a pass over the pixels (from labels: free)
                        self._pairs = pairs
                of_pairs = psnr_of_pairs if name == "psnr" else mean_delta_e_of_pairs
                self._quality[name] = of_pairs(self.histogram.colors, pairs, self.palette)
        return self._quality[name]

    def release_pixels(self):
        """Let go of the original pixels and the histogram, keeping the quality measures
        taken so far (:meth:`quality` of another then raises): for a caller that only
        writes the file from here on, so that the encoder's buffers do not come on top
        of the image's memory (3–4 bytes a pixel, and the histogram's)."""
        self.original = None
        self.histogram = None

    @property
    def metrics(self):
        """The facts and every quality measure (see :meth:`facts_and_quality`)."""
        return self.facts_and_quality()

    def facts_and_quality(self, measures=QUALITY_MEASURES):
        """The facts of the quantization and the quality ``measures`` asked for."""
        return {**self.facts, **{name: self.quality(name) for name in measures}}

    def to_array(self):
        """The quantized pixels: (H, W, C) uint8, or (H, W) for gray."""
        pixels = self.palette[self.indices]
        return pixels[:, :, 0] if pixels.shape[2] == 1 else pixels

    def to_pil(self):
        """A Pillow palette ("P") image, with the alpha of each entry as its transparency."""
        return _encode.palette_image(self.palette, self.indices, self.mode)

    def encode(self, format="png"):
        """The bytes of the file in ``format`` ("png", "gif", "webp"); computed once each."""
        fmt = format.lower()
        if fmt not in self._encoded:
            self._encoded[fmt] = _encode.encode(
                self.palette,
                self.indices,
                self.mode,
                fmt,
                self.icc_profile,
                self.speed,
                self.keep_palette,
            )
        return self._encoded[fmt]

    def report(self, format="png", measures=QUALITY_MEASURES):
        """The facts, the quality ``measures`` (all three by default) and the sizes of the
        file in ``format``."""
        n_pixels = self.indices.size
        sizes = size_report(
            n_pixels, self.palette.shape[1], self.facts["input_bytes"], len(self.encode(format))
        )
        return {**self.facts_and_quality(measures), "format": format, **sizes}

    def save(self, path, format=None, overwrite=False):
        """Write the file atomically; the format comes from the suffix unless given.

        Returns the number of bytes written.  Refuses to replace an existing file unless
        ``overwrite`` is true.
        """
        path = Path(path)
        fmt = (format or path.suffix.lstrip(".") or "png").lower()
        if fmt not in _encode.FORMATS:
            raise ValueError(
                f"{path}: unknown format {fmt!r}; use one of {', '.join(_encode.FORMATS)}"
            )
        data = self.encode(fmt)
        _output.atomic_write(path, data, overwrite=overwrite)
        return len(data)


def as_loaded(image, max_pixels=_image.DEFAULT_MAX_PIXELS, max_memory=None):
    """A path, a Pillow image or a uint8 array as a :class:`~._image.LoadedImage`."""
    if isinstance(image, _image.LoadedImage):
        return image
    if isinstance(image, (str, Path)):
        return _io.load(image, max_pixels=max_pixels, max_memory=max_memory)
    pillow = sys.modules.get("PIL.Image")  # an image of Pillow's: Pillow was imported
    if pillow is not None and isinstance(image, pillow.Image):
        from ._pillow_read import from_pil

        return from_pil(image)
    if isinstance(image, np.ndarray):
        return _image.from_array(image)
    raise TypeError(
        f"image must be a path, a PIL.Image.Image or a uint8 numpy array, got {type(image)}"
    )


def check_n_colors(n_colors, fmt="png"):
    """``n_colors`` must be a whole number ≥ 1, and ≤ 256 for palette formats."""
    if isinstance(n_colors, bool) or not isinstance(n_colors, (int, np.integer)):
        raise TypeError(f"n_colors must be a whole number >= 1 or 'auto', got {n_colors!r}")
    if n_colors < 1:
        raise ValueError(f"n_colors must be >= 1, got {n_colors}")
    if fmt in _encode.PALETTE_FORMATS and n_colors > _encode.MAX_PALETTE_COLORS:
        raise ValueError(
            f"n_colors={n_colors}: a {fmt.upper()} palette holds at most 256 colors; "
            "use format='webp' or fewer colors"
        )
    return int(n_colors)


def check_dither(dither):
    """``dither`` as a level from 0 (none) to 1 (Floyd–Steinberg): True is 1, False 0."""
    if isinstance(dither, (bool, np.bool_)):
        return 1.0 if dither else 0.0
    if not isinstance(dither, (int, float, np.integer, np.floating)) or not 0 <= dither <= 1:
        raise ValueError(f"dither must be True, False or a level from 0 to 1, got {dither!r}")
    return float(dither)


def check_n_init(n_init):
    """``n_init``: "auto" (what the speed says) or a whole number of K-Means starts ≥ 1."""
    if isinstance(n_init, str) and n_init == "auto":
        return n_init
    if isinstance(n_init, bool) or not isinstance(n_init, (int, np.integer)) or n_init < 1:
        raise ValueError(f"n_init must be 'auto' or a whole number >= 1, got {n_init!r}")
    return int(n_init)


def check_color_space(color_space):
    if color_space not in COLOR_SPACES:
        raise ValueError(
            f"color_space must be one of {', '.join(COLOR_SPACES)}; got {color_space!r}"
        )
    return color_space


class Quantizer:
    """An image decoded and histogrammed once, quantized to any number of colors.

    ``pixels`` is what is quantized and measured against: the image with the color of
    its transparent pixels cleared (invisible, see :mod:`._alpha`), and for ``format``
    "gif" its alpha made 0 below ``GIF_ALPHA_THRESHOLD`` and 255 from it up; widened to
    ``n_channels`` if given (gray to RGB, an opaque alpha added; see :mod:`._shared`).
    """

    def __init__(
        self,
        image,
        color_space="rgb",
        dither=False,
        random_state=0,
        max_pixels=None,
        n_init="auto",
        max_memory=None,
        speed=DEFAULT_SPEED,
        format="png",
        n_channels=None,
    ):
        self.speed = check_speed(speed)
        self.loaded = as_loaded(image, max_pixels or _image.DEFAULT_MAX_PIXELS, max_memory)
        if n_channels is not None:
            self.loaded = _image.widened(self.loaded, n_channels)
        pixels = self.loaded.pixels
        self.notes = list(self.loaded.notes)
        if format == "gif" and has_partial_alpha(pixels):
            self.notes.append(
                f"GIF has no partial transparency: alpha below {GIF_ALPHA_THRESHOLD} made "
                "transparent, the rest opaque; the quality is measured against that"
            )
        self.pixels = invisible_colors_cleared(alpha_for_gif(pixels) if format == "gif" else pixels)
        self.color_space = check_color_space(color_space)
        self.dither = check_dither(dither)
        self.random_state = random_state
        self.n_init = check_n_init(n_init)
        start = time.perf_counter()
        self.histogram = color_histogram(self.pixels)
        self.histogram_seconds = time.perf_counter() - start
        self._cache = {}

    def quantize(self, n_colors):
        """The :class:`QuantizedImage` with at most ``n_colors`` colors (cached per k)."""
        if n_colors in self._cache:
            return self._cache[n_colors]
        start = time.perf_counter()
        palette, labels = fit_for_speed(
            self.histogram, n_colors, self.color_space, self.random_state, self.n_init, self.speed
        )
        result = self.mapped(palette, labels, n_colors, start)
        self._cache[n_colors] = result
        return result

    def mapped(self, palette, labels, n_colors, start, keep_palette=False):
        """The image on ``palette``, each distinct color on its entry of ``labels`` (or
        dithered); ``start`` is when the quantization began, for its time."""
        pixels = self.pixels
        indices = pixel_indices(
            pixels, self.histogram, palette, labels, self.color_space, self.dither
        )
        seconds = time.perf_counter() - start
        facts = {
            "n_colors": n_colors,
            "colors_used": entries_used(indices, labels, palette.shape[0], self.dither),
            "color_space": self.color_space,
            "dither": self.dither,
            "speed": self.speed,
            "seconds": seconds,
            "histogram_seconds": self.histogram_seconds,
            "width": int(pixels.shape[1]),
            "height": int(pixels.shape[0]),
            "distinct_colors": int(self.histogram.colors.shape[0]),
            "input_bytes": self.loaded.source_bytes,
            "notes": list(self.notes),
        }
        return QuantizedImage(
            palette,
            indices,
            self.loaded.mode,
            facts,
            self.loaded.icc_profile,
            original=pixels,
            histogram=self.histogram,
            speed=self.speed,
            keep_palette=keep_palette,
            labels=None if self.dither else labels,
        )


def entries_used(indices, labels, n_entries, dither):
    """How many of the ``n_entries`` palette entries the pixels use (a shared palette
    keeps them all, and dithering may leave some unused): without dithering, the
    entries of the distinct colors' ``labels``; with it, of the pixels' ``indices``."""
    return int(np.count_nonzero(_encode.entries_in_use(indices if dither else labels, n_entries)))


def fit_for_speed(histogram, n_colors, color_space, random_state, n_init, speed):
    """:func:`~._palette.fit_palette` with the starts and iterations ``speed`` gives
    (``n_init`` "auto") or ``n_init`` starts."""
    plan = effort(speed)
    return fit_palette(
        histogram,
        n_colors,
        color_space,
        random_state,
        plan.starts(n_colors) if n_init == "auto" else n_init,
        plan.max_iter,
        plan.coarse_starts,
    )
