"""Speed levels 1–11, as pngquant's ``--speed``: one knob for the encoder's effort and the fit's.

1 is the slowest and best, 11 the fastest; the default, 4, is pngquant's default too.
Measured on the 24 Kodak photos at k = 256 on the project's 2-core machine (encoder
time per 768 × 512 file, bytes relative to speed 1; ``make bench`` measures the whole
command):

====== ===================================================== ========== ========
speed  PNG encoder                                            time       bytes
====== ===================================================== ========== ========
1      oxipng level 4: nine row filters tried, libdeflate 12  ~300 ms    1
2      oxipng level 3                                         ~260 ms    1.005
3      oxipng: none, Bigrams, Entropy, BigEnt; libdeflate 12  ~160 ms    1.005
4–5    ours (``_png``): no filter, libdeflate 10              ~40 ms     1.045
6–8    ours: no filter, libdeflate 7                          ~11 ms     1.096
9–10   ours: no filter, libdeflate 4                          ~8 ms      1.111
11     ours: no filter, libdeflate 1                          ~5 ms      1.149
====== ===================================================== ========== ========

(Encoder times on one thread.  From speed 4 our writer deflates a photo's rows in parts
on every core at once, 2 parts on a 768 × 512 photo: half the time on 2 cores, for
0.1–0.5 % more bytes than one stream (not in the bytes above), see :mod:`._png`.)

From speed 4 on, no search for an order of the palette's entries: at k = 256
that search took 14 ms a Kodak photo (29 ms a Wikipedia photo of about 1 MP), a fifth to a
quarter of the encoder's time, for 0.02 % of the bytes at most (Kodak: 0.01 % more bytes
with it; Wikipedia: 0.02 % fewer): rows written unfiltered compress nearly the same
whatever the order of the entries.  The one order that matters, translucent entries
first so that tRNS ends early, the PNG writer makes itself (``_encode.used_entries_only``).
Palette rows compress best unfiltered (each row filter alone measured 3–16 % larger), and
libdeflate's levels 10–12 (near-optimal parsing) write 5 % less than 9 for twice its
time (and 9 writes more than 7).  The fit: speeds 1–3 run K-Means to scikit-learn's
tolerance, 4–6 at most ``DEFAULT_MAX_ITER`` iterations.  Speed 1 keeps the best of 20
starts on every color, at every k (Kodak: mean error at or below scikit-learn's best of
10 runs at k = 16–256).  Speeds 2–4, up to 64 colors, rank 10 starts on a coarse
histogram and run the best on every color (to a fixed point, a lower mean error than the
best of 3 runs on every color; with speed 4's cap, lower at k = 16 and 32, 0.2 % higher
at 64; in less time than libimagequant's); above 64 colors, and from speed 5, one start.
From 7 at most 20 iterations, from 9 at most 10 (k = 256: 0.01 and 0.04 dB less PSNR than
a fit to convergence, 15–40 % less fit time).
Images over ``FULL_EFFORT_PIXELS`` are deflated once, unfiltered (a filter search there
costs seconds per megapixel): at speeds 1–3 at their level, 12, from speed 4 at most 10,
and over ``ONE_PASS_MAX_PIXELS`` at most 7.  Level 10 writes 3–6 % fewer bytes than 7 for
0.07–0.2 s more per megapixel (the Wikipedia photos of about 1 MP: 3.4 % for 70 ms each; a
smooth 3 MP mosaic: 6 % for 0.53 s, a fifth of pngquant's time); on a 24 MP photo (001
of the Wikipedia set enlarged, k = 256) levels 7, 10 and 12 wrote 6.43, 5.89 and 5.84 MB
in 0.31, 1.48 and 3.16 s (2 cores).  At levels 7-9 a part of flat content is deflated
again at 10 (``_png.FLAT_RATIO``), where that costs little.
"""

from dataclasses import dataclass

SPEEDS = range(1, 12)
DEFAULT_SPEED = 4

#: Iterations of the fit on every color at most, speeds 4–6.  The last iterations to
#: scikit-learn's tolerance move centers by fractions of a level: on the 24 Kodak and 16
#: Wikipedia photos at k = 256, a cap of 25 took the quantization 0.87 × its time on Kodak
#: (median; 0.95 × on Wikipedia, whose photos of many colors already run at most 10 a
#: level) for 0.005 dB less PSNR in the mean (0.027 at most); 30: 0.93 × for 0.0025 dB;
#: 20: 0.79 × for 0.008 dB.  At k = 16 and 64 the fits end before it (0.0002 and
#: 0.002 dB, 2 % of the time).
DEFAULT_MAX_ITER = 25

#: Above this many pixels a PNG is deflated once, unfiltered, at the speed's level, from
#: speed 4 at most ``ONE_PASS_DEFLATE_LEVEL`` and above ``ONE_PASS_MAX_PIXELS`` at most
#: ``LARGE_DEFLATE_LEVEL`` (a filter search costs about 1.5 s per megapixel).
FULL_EFFORT_PIXELS = 1_000_000
ONE_PASS_DEFLATE_LEVEL = 10
ONE_PASS_MAX_PIXELS = 2_000_000
LARGE_DEFLATE_LEVEL = 7


@dataclass(frozen=True)
class Effort:
    """What one speed level does.

    ``oxipng_level`` set: oxipng's own preset; else ``filters`` (names of
    ``oxipng.RowFilter``) each deflated by libdeflate at ``deflate_level``, the smallest
    kept, after oxipng's search for a palette order if ``palette_order_search``.  The fit
    starts K-Means ``n_init`` times for palettes of up to ``n_init_up_to`` colors (once for
    more), on a coarse histogram if ``coarse_starts``, and runs at most ``max_iter``
    iterations (see :func:`~._palette.fit_palette`).
    """

    oxipng_level: int | None
    filters: tuple
    deflate_level: int
    palette_order_search: bool
    n_init: int
    n_init_up_to: int
    coarse_starts: bool
    max_iter: int
    webp_method: int

    def starts(self, n_colors):
        """How many times K-Means starts for a palette of ``n_colors``."""
        return self.n_init if n_colors <= self.n_init_up_to else 1


def check_speed(speed):
    """``speed`` as an int in 1..11, refused with a message naming it otherwise."""
    if isinstance(speed, bool) or not isinstance(speed, int) or speed not in SPEEDS:
        raise ValueError(f"speed must be a whole number from 1 to 11, got {speed!r}")
    return speed


def effort(speed):
    """The :class:`Effort` of a speed level (1 slowest and best, 11 fastest)."""
    speed = check_speed(speed)
    if speed <= 2:
        encoder = {"oxipng_level": 5 - speed, "filters": (), "deflate_level": 12}
    elif speed == 3:
        encoder = {
            "oxipng_level": None,
            "filters": ("NoOp", "Bigrams", "Entropy", "BigEnt"),
            "deflate_level": 12,
        }
    else:
        deflate_level = {4: 10, 5: 10, 6: 7, 7: 7, 8: 7, 9: 4, 10: 4, 11: 1}[speed]
        encoder = {"oxipng_level": None, "filters": ("NoOp",), "deflate_level": deflate_level}
    encoder["palette_order_search"] = speed <= 3
    n_init, n_init_up_to = (20, 256) if speed == 1 else ((10, 64) if speed <= 4 else (1, 0))
    max_iter = (
        300 if speed <= 3 else (DEFAULT_MAX_ITER if speed <= 6 else (20 if speed <= 8 else 10))
    )
    webp_method = 6 if speed <= 3 else (4 if speed <= 8 else 2)
    return Effort(
        n_init=n_init,
        n_init_up_to=n_init_up_to,
        coarse_starts=speed > 1,
        max_iter=max_iter,
        webp_method=webp_method,
        **encoder,
    )
