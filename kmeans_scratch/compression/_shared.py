"""One palette for many images: their color histograms merged, fitted once, and every
image mapped to the one palette (``compress_many(shared_palette=True)``, the command's
``--shared-palette``): frames of an animation, a set of icons, map tiles.

Every pixel of every image weighs the same.  With n_c the number of pixels of color x_c
over all the images, K-Means on the merged histogram minimizes

    Σ_c n_c · min_j ‖x_c − p_j‖²,

the squared error of all the images' pixels together: the palette is the best for the
set, not for any one image.  The fit needs only the distinct colors and their counts, so
the pixels never meet: each image's histogram is built where its file is (here, in a
worker process, or on a Dask worker) and only histograms travel.

1. :func:`image_histogram`: one image's distinct colors and their counts.
2. :func:`fit_shared`: the histograms widened to the channels every image fits (gray to
   RGB, an opaque alpha when some image has alpha; widening keeps distinct colors
   distinct), merged by Morton key (the counts of equal colors added), and fitted by the
   same :func:`~._quantized.fit_for_speed` as one image's.
3. :meth:`SharedPalette.quantize`: an image widened and histogrammed, each distinct color
   given its merged color's entry (found by binary search among the merged keys), or
   dithered onto the palette.  Every output keeps the whole palette, in the same order.

The merged histogram is the same colors and counts (integers, in Morton order) whatever
the order of the files and wherever each step runs, so the palette is too.
"""

import functools
import time
import traceback
from dataclasses import dataclass

import numpy as np

from ._histogram import ColorHistogram, pack_keys
from ._image import ImageError, common_channels, with_channels
from ._pool import Stopped
from ._quantized import Quantizer, fit_for_speed
from ._remap import index_dtype
from ._speed import DEFAULT_SPEED

#: The options of :func:`fit_shared` among :class:`~._quantized.Quantizer`'s.
FIT_OPTIONS = ("color_space", "random_state", "n_init", "speed")


@dataclass(frozen=True)
class SharedPalette:
    """The palette of a set of images and the entry of every color they hold.

    ``palette`` (k', C) uint8; ``keys`` the Morton keys of the merged distinct colors,
    increasing; ``entries`` each one's palette entry; ``n_colors`` the palette size asked
    for; ``n_images`` how many histograms were merged.
    """

    palette: np.ndarray
    keys: np.ndarray
    entries: np.ndarray
    n_colors: int
    n_images: int

    @property
    def n_channels(self):
        return self.palette.shape[1]

    def entries_of(self, colors):
        """The palette entry of each of the (m, C) ``colors``, which must be among the
        merged ones."""
        keys = pack_keys(colors)
        rows = np.minimum(np.searchsorted(self.keys, keys), self.keys.shape[0] - 1)
        if not np.array_equal(self.keys[rows], keys):
            raise ImageError(
                "it has colors the shared palette's histograms did not: "
                "did it change while the palette was being fitted?"
            )
        return self.entries[rows]

    def quantize(self, image, **options):
        """``image`` (path, Pillow image or array) on the shared palette, as a
        :class:`~._quantized.QuantizedImage` whose PNG keeps every entry.  ``options``
        are :class:`~._quantized.Quantizer`'s (color space, dithering, format, limits)."""
        start = time.perf_counter()
        quantizer = Quantizer(image, n_channels=self.n_channels, **options)
        labels = self.entries_of(quantizer.histogram.colors)
        result = quantizer.mapped(self.palette, labels, self.n_colors, start, keep_palette=True)
        result.facts["palette_shared_by"] = self.n_images  # a fact, not a note to show
        return result


def image_histogram(image, **options):
    """The distinct colors and counts of ``image`` as it will be quantized (``options``
    are :class:`~._quantized.Quantizer`'s), without the per-pixel index."""
    histogram = Quantizer(image, **options).histogram
    return ColorHistogram(histogram.colors, histogram.counts, inverse=None)


def merged_histogram(histograms):
    """The histogram of the pixels of all the images: their colors widened to common
    channels, in Morton order, with the counts of equal colors added; and their keys."""
    n_channels = common_channels(histogram.colors.shape[1] for histogram in histograms)
    colors = np.concatenate([with_channels(h.colors, n_channels) for h in histograms])
    counts = np.concatenate([histogram.counts for histogram in histograms])
    keys, first, merged = np.unique(pack_keys(colors), return_index=True, return_inverse=True)
    merged_counts = np.zeros(keys.shape[0], dtype=np.int64)
    np.add.at(merged_counts, merged, counts)
    return ColorHistogram(colors[first], merged_counts, inverse=None), keys


def fit_shared(
    histograms, n_colors, color_space="rgb", random_state=0, n_init="auto", speed=DEFAULT_SPEED
):
    """The :class:`SharedPalette` of at most ``n_colors`` entries for the images whose
    ``histograms`` (from :func:`image_histogram`) are given: one K-Means fit of their
    merged histogram, with the starts and iterations of ``speed``."""
    histogram, keys = merged_histogram(histograms)
    palette, labels = fit_for_speed(histogram, n_colors, color_space, random_state, n_init, speed)
    entries = labels.astype(index_dtype(palette.shape[0]))
    return SharedPalette(palette, keys, entries, n_colors, len(histograms))


def refusal(check_task, task):
    """``(False, (error, traceback text))`` if ``check_task(task)`` raises, else None."""
    try:
        check_task(task)
    except Exception as error:
        return False, (error, traceback.format_exc())
    return None


def shared_outcomes(sources, tasks, run, quantize_task, n_colors, options, check_task):
    """The outcomes of a batch on one palette of at most ``n_colors`` entries, one per
    source in order (see ``run``): ``(True, result)`` or ``(False, (exception, traceback
    text))``.  ``options`` are :class:`~._quantized.Quantizer`'s.

    ``run(function, argument_lists)`` runs ``function(*arguments)`` for each (here, in
    worker processes, or on a Dask cluster) and yields outcomes in order.  First, here,
    ``check_task(task)`` of each source, which raises if its output is refused (a file
    that exists, say): that source gets the error at once and takes no part in the
    palette.  Then :func:`image_histogram` of every other source; then, as one task,
    :func:`fit_shared` of the histograms (in a worker too: a process that forks workers
    must not run parallel kernels itself); then ``quantize_task(*task, shared palette)``
    for the task of each source whose histogram was taken.  A source whose histogram
    failed keeps that error; if the fit fails, every other source gets its error.
    """
    histogram_task = functools.partial(image_histogram, **options)
    fit_options = {name: options[name] for name in FIT_OPTIONS if name in options}
    fit_task = functools.partial(fit_shared, n_colors=n_colors, **fit_options)
    refusals = [refusal(check_task, task) for task in tasks]
    accepted = [(source,) for source, refused in zip(sources, refusals, strict=True) if not refused]
    try:
        taken_so_far = iter(list(run(histogram_task, accepted)))  # whole: its workers end
        histograms = [refused or next(taken_so_far) for refused in refusals]
        taken = [outcome for ok, outcome in histograms if ok]
        if taken:
            ((fitted, shared),) = run(fit_task, [(taken,)])
    except Stopped as stop:  # no file is written before the palette: what ``run`` had
        stop.ahead = []  # done were histograms
        raise
    if not taken:
        yield from histograms
        return
    if fitted:
        kept = [task for task, (ok, _) in zip(tasks, histograms, strict=True) if ok]
        mapped = run(quantize_task, [(*task, shared) for task in kept])
    try:
        for ok, outcome in histograms:
            if not ok:
                yield ok, outcome
            else:
                yield next(mapped) if fitted else (False, shared)
    finally:
        if fitted:
            mapped.close()
