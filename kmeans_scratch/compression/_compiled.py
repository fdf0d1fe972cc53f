"""The calls of ``compress()`` that the package build compiles ahead of time.

``compress()`` with its defaults (the fit in float64 on the distinct colors, Hamerly's
iteration, PSNR from the histogram) calls these kernels, the compressor's own and the
core's, with these argument types: kernel (module, name) → one tuple of argument types
per specialization.  The build compiles each into the ahead-of-time module, where the
``kmeans-compress`` command finds them without starting Numba (see
``kmeans_scratch._ahead``); a call of other types runs just in time.  The fit's kernels
are the core's, which lists them itself (``fit_setup_calls``, ``fit_step_calls`` in
:mod:`kmeans_scratch._engine`): this table names the compressor's own.
"""

from .._engine import (
    F8,
    F8_1,
    F8_2,
    F8_3,
    I4_1,
    I8,
    I8_1,
    U8_1,
    U8_2,
    U8_2_READONLY,
    U8_3,
    U8_3_READONLY,
    Array,
    fit_setup_calls,
    fit_step_calls,
    merged_calls,
    register_ahead_of_time_calls,
)

U2_1 = Array("uint16", 1)

COMPRESS_CALLS = {
    ("kmeans_scratch.compression._histogram", "distinct_keys"): [(U8_2_READONLY,), (U8_2,)],
    ("kmeans_scratch.compression._histogram", "distinct_keys_by_table"): [
        (U8_2_READONLY,),
        (U8_2,),
    ],
    ("kmeans_scratch.compression._histogram", "pack_keys"): [(U8_2,)],
    ("kmeans_scratch.compression._histogram", "values_of_keys"): [
        (flat, table) for flat in (U8_2_READONLY, U8_2) for table in (I4_1, U8_1, U2_1)
    ],
    ("kmeans_scratch.compression._metrics", "distinct_pairs"): [(I4_1, U8_1, I8_1)],
    ("kmeans_scratch.compression._palette", "optimal_1d_levels"): [(F8_1, F8_1, I8)],
    ("kmeans_scratch.compression._palette", "cell_sums"): [(F8_2, F8_1, I8_1, F8_2, F8_1)],
    ("kmeans_scratch.compression._remap", "selective_floyd_steinberg"): [
        (F8_2, Array("int8", 1), I4_1, I4_1, I8, I8, F8_2, Array("bool", 2), F8, F8, F8, F8)
    ],
    ("kmeans_scratch.compression._color_difference", "pair_delta_e_sum"): [
        (U8_2, I8_1, I8_1, I8_1, U8_2)
    ],
    ("kmeans_scratch.compression._png", "final_block_bits"): [(U8_1,)],
    ("kmeans_scratch.compression._png_read", "unfiltered"): [(U8_1, I8, I8, I8)],
    ("kmeans_scratch.compression._metrics", "seen_error_sum"): [(U8_2, I8_1, I8_1, I8_1, U8_2)],
    ("kmeans_scratch.compression._working_space", "over_gray"): [(F8_2, U8_2, F8_1, F8)],
    ("kmeans_scratch.compression._alpha", "any_invisible_color"): [(U8_2_READONLY,), (U8_2,)],
    ("kmeans_scratch.compression._alpha", "clear_invisible_colors"): [(U8_2,)],
    ("kmeans_scratch.compression._metrics", "ssim_sum"): [
        (source, U8_2, U8_2, I8, F8, F8) for source in (U8_3_READONLY, U8_3)
    ],
}

#: With the core's kernels of the fit in float64: its setup (distinct rows, k-means++) and
#: its steps (moments, Hamerly's steps, inertia), as a Dask worker runs them on float64.
CALLS = merged_calls(COMPRESS_CALLS, fit_setup_calls(), fit_step_calls(F8_1, F8_2, F8_3))

register_ahead_of_time_calls(CALLS)
