"""pngquant's quality scale, 0–100, as the mean squared error it stands for.

pngquant's ``--quality MIN-MAX`` asks for the fewest colors whose quality reaches MAX, and
for no file at all when even 256 colors stay under MIN.  libimagequant maps a quality q
to an error with a curve "fudged to be roughly similar to quality of libjpeg":

    e(q) = max(0, 0.016 / (0.001 + q) − 0.001) + 2.5 / (210 + q)^1.2 · (100.1 − q) / 100

(e(0) = no limit, e(100) = 0), where e is summed over its four channels scaled to 0..1,
and it reports e · 65536 / 6 as the "standard" MSE.  That error is libimagequant's own,
in a gamma-weighted space: the per-channel sRGB MSE of pngquant's files, as this library
measures it, is :data:`PNGQUANT_MSE_TO_SRGB` times the MSE pngquant reports for them.
So the target here is MSE(q) = e(q) · 65536 / 6 · that factor, per channel, sRGB 0..255,
and ``PSNR(q) = 10 log₁₀(255² / MSE(q))``: for instance q = 90 is an MSE of 6.1
(PSNR 40.3 dB), q = 80 of 12.6 (37.1 dB), q = 60 of 27.4 (33.8 dB), q = 40 of 45.0
(31.6 dB).  The factor varies from photo to photo (1.8 to 2.7), so the same number asks
roughly, not exactly, what it asks of pngquant.
"""

import math

from ._image import ImageError

#: The per-channel sRGB MSE of pngquant's files over the MSE it reports for them: the median
#: of 42 files (14 photos of both shared sets at k = 16, 64 and 256; least 1.81, largest
#: 2.68), ``python -m benchmarks.pngquant_quality_scale``, pngquant 2.17, 2026-12-07.
PNGQUANT_MSE_TO_SRGB = 2.07

#: pngquant's exit status when even the largest palette stays under MIN.
EXIT_QUALITY_TOO_LOW = 99


class QualityTooLow(ImageError):
    """Even the largest palette stays under ``--quality``'s MIN: nothing is written."""


def libimagequant_error(quality):
    """e(q) of the curve above, for 0 < q < 100: the squared error summed over four
    channels scaled to 0..1."""
    fudge = max(0.0, 0.016 / (0.001 + quality) - 0.001)
    return fudge + 2.5 / (210.0 + quality) ** 1.2 * (100.1 - quality) / 100.0


def quality_to_mse(quality):
    """The per-channel sRGB MSE (0..255 scale) a quality of 0–100 stands for (inf at 0)."""
    if quality <= 0:
        return math.inf
    if quality >= 100:
        return 0.0
    return libimagequant_error(quality) * 65536.0 / 6.0 * PNGQUANT_MSE_TO_SRGB


def quality_to_psnr(quality):
    """The PSNR (dB) of :func:`quality_to_mse`: inf at 100 (lossless), −inf at 0."""
    mse = quality_to_mse(quality)
    if mse == 0:
        return math.inf
    if math.isinf(mse):
        return -math.inf
    return 10.0 * math.log10(255.0**2 / mse)


def parse_quality(text):
    """pngquant's forms → ``(MIN, MAX)``, whole numbers with 0 ≤ MIN ≤ MAX ≤ 100:
    ``"MIN-MAX"``; ``"-MAX"`` (MIN 0); ``"MIN-"`` (MAX 100); and one number ``"N"``,
    which pngquant reads as MAX N with MIN ⌊9N/10⌋ (``--quality 80`` is ``72-80``).
    Raises ValueError naming the text otherwise."""
    low, dash, high = str(text).partition("-")
    try:
        if not dash:
            maximum = int(low)
            minimum = maximum * 9 // 10
        else:
            minimum = int(low) if low.strip() else 0
            maximum = int(high) if high.strip() else 100
    except ValueError:
        message = f"expected MIN-MAX, -MAX, MIN- or MAX with whole numbers, got {text!r}"
        raise ValueError(message) from None
    if not 0 <= minimum <= maximum <= 100:
        raise ValueError(f"expected 0 <= MIN <= MAX <= 100, got {text!r}")
    return minimum, maximum
