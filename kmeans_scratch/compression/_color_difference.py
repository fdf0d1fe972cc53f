"""The CIEDE2000 color difference, per (color, palette entry) pair, in one parallel pass.

scikit-image's ``rgb2lab`` and ``deltaE_ciede2000`` define the numbers (and are the
test oracle, to rounding); they work on whole float64 arrays and make a dozen
temporaries of their input's size, which for the two million distinct colors of a
24-megapixel photo takes seconds.  Here the same formulas run pair by pair.
"""

import math

import numpy as np

from .._engine import kernel, prange

#: sRGB (linear) → CIE XYZ, and the D65 white point of the 2° observer (scikit-image's).
XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
D65_WHITE = np.array([0.95047, 1.0, 1.08883])
#: Pairs per parallel block (fixed, so that the sums do not depend on the threads).
BLOCK = 8192


@kernel
def linearized_levels():
    """(256,) the linear light of each 8-bit sRGB level v: with s = v/255, s/12.92 up to
    0.04045, else ((s + 0.055)/1.055)^2.4."""
    levels = np.empty(256)
    for value in range(256):
        s = value / 255.0
        levels[value] = ((s + 0.055) / 1.055) ** 2.4 if s > 0.04045 else s / 12.92
    return levels


@kernel
def srgb_to_lab(red, green, blue, out, levels):
    """CIELAB (D65, 2°) of an 8-bit sRGB color, into ``out`` (3,).

    Each channel is linearized (``levels``, from :func:`linearized_levels`), mapped to
    XYZ, divided by the white point, and t ↦ ∛t (above 0.008856, else 7.787 t + 16/116)
    gives f; then L = 116 f_y − 16, a = 500 (f_x − f_y), b = 200 (f_y − f_z).
    """
    linear = (levels[red], levels[green], levels[blue])
    f = np.empty(3)
    for i in range(3):
        t = (
            linear[0] * XYZ_FROM_RGB[i, 0]
            + linear[1] * XYZ_FROM_RGB[i, 1]
            + linear[2] * XYZ_FROM_RGB[i, 2]
        ) / D65_WHITE[i]
        f[i] = np.cbrt(t) if t > 0.008856 else 7.787 * t + 16.0 / 116.0
    out[0] = 116.0 * f[1] - 16.0
    out[1] = 500.0 * (f[0] - f[1])
    out[2] = 200.0 * (f[1] - f[2])


@kernel
def _polar_2pi(x, y):
    """(r, θ) with θ in [0, 2π)."""
    theta = math.atan2(y, x)
    return math.hypot(x, y), theta + 2 * math.pi if theta < 0.0 else theta


@kernel
def ciede2000(lab1, lab2):
    """ΔE₀₀ of two CIELAB colors (Sharma, Wu and Dalal 2005; k_L = k_C = k_H = 1).

    a is stretched by 1 + G, G = ½(1 − √(C̄⁷/(C̄⁷ + 25⁷))) from the mean chroma C̄; with
    chroma C and hue h of the stretched colors,
    ΔE² = (ΔL/S_L)² + (ΔC/S_C)² + (ΔH/S_H)² + R_T (ΔC/S_C)(ΔH/S_H), where
    ΔH = 2√(C₁C₂) sin(Δh/2), S_L = 1 + 0.015 (L̄−50)²/√(20 + (L̄−50)²), S_C = 1 + 0.045 C̄',
    S_H = 1 + 0.015 C̄' T(h̄), and R_T rotates the blue hues.
    """
    L1, a1, b1 = lab1[0], lab1[1], lab1[2]
    L2, a2, b2 = lab2[0], lab2[1], lab2[2]
    mean_chroma = 0.5 * (math.hypot(a1, b1) + math.hypot(a2, b2))
    c7 = mean_chroma**7
    scale = 1 + 0.5 * (1 - math.sqrt(c7 / (c7 + 25.0**7)))
    C1, h1 = _polar_2pi(a1 * scale, b1)
    C2, h2 = _polar_2pi(a2 * scale, b2)
    mean_lightness = 0.5 * (L1 + L2)
    tmp = (mean_lightness - 50) ** 2
    lightness_term = (L2 - L1) / (1 + 0.015 * tmp / math.sqrt(20 + tmp))
    mean_chroma = 0.5 * (C1 + C2)
    chroma_term = (C2 - C1) / (1 + 0.045 * mean_chroma)
    h_diff, h_sum, chroma_product = h2 - h1, h1 + h2, C1 * C2
    dh = h_diff
    if h_diff > math.pi:
        dh -= 2 * math.pi
    elif h_diff < -math.pi:
        dh += 2 * math.pi
    if chroma_product == 0.0:
        dh = 0.0
    dh_term = 2 * math.sqrt(chroma_product) * math.sin(dh / 2)
    mean_hue = h_sum
    if chroma_product != 0.0 and abs(h_diff) > math.pi:
        mean_hue += 2 * math.pi if h_sum < 2 * math.pi else -2 * math.pi
    if chroma_product == 0.0:
        mean_hue *= 2
    mean_hue *= 0.5
    t = (
        1
        - 0.17 * math.cos(mean_hue - math.radians(30))
        + 0.24 * math.cos(2 * mean_hue)
        + 0.32 * math.cos(3 * mean_hue + math.radians(6))
        - 0.20 * math.cos(4 * mean_hue - math.radians(63))
    )
    hue_term = dh_term / (1 + 0.015 * mean_chroma * t)
    c7 = mean_chroma**7
    rotation_chroma = 2 * math.sqrt(c7 / (c7 + 25.0**7))
    dtheta = math.radians(30) * math.exp(-(((math.degrees(mean_hue) - 275) / 25) ** 2))
    rotation = -math.sin(2 * dtheta) * rotation_chroma * chroma_term * hue_term
    squared = lightness_term**2 + chroma_term**2 + hue_term**2 + rotation
    return math.sqrt(max(squared, 0.0))


@kernel
def _lab_of(color, out, levels):
    """CIELAB of an (C,) uint8 color: its RGB part, or its gray level repeated (C ≤ 2)."""
    if color.shape[0] >= 3:
        srgb_to_lab(color[0], color[1], color[2], out, levels)
    else:
        srgb_to_lab(color[0], color[0], color[0], out, levels)


@kernel(parallel=True)
def pair_delta_e_sum(colors, rows, entries, counts, palette):
    """Σ count · ΔE₀₀(color, entry) over the distinct (color row, palette entry) pairs, of
    the colors' color channels."""
    levels = linearized_levels()
    palette_lab = np.empty((palette.shape[0], 3))
    for j in range(palette.shape[0]):
        _lab_of(palette[j], palette_lab[j], levels)
    n_blocks = (rows.shape[0] + BLOCK - 1) // BLOCK
    delta_e_sums = np.zeros(n_blocks)
    for block in prange(n_blocks):
        lab = np.empty(3)
        delta_e_total = 0.0
        for p in range(block * BLOCK, min((block + 1) * BLOCK, rows.shape[0])):
            _lab_of(colors[rows[p]], lab, levels)
            delta_e_total += counts[p] * ciede2000(lab, palette_lab[entries[p]])
        delta_e_sums[block] = delta_e_total
    return delta_e_sums.sum()
