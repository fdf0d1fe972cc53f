"""Render the recorded benchmark rows as ``RESULTS.md``: one table per kind of comparison.

A run writes two files: ``RESULTS*.json`` (its date, machine, load, rows and each test's
duration) and ``RESULTS*.md`` rendered from it.  The README's speed table is the headline
of ``RESULTS-quick.json`` between two markers.  ``python -m benchmarks.report RUN.json
[README.md]`` renders the Markdown and that table again (``make bench-quick`` does);
``tests/test_bench_report.py`` checks that both say what the JSON holds.
"""

import datetime
import json
import re
import statistics
import sys
from pathlib import Path

#: How each table is introduced and which row is the reference of its ratios.
TABLES = {
    "command-batch": (
        "The command against pngquant: a batch, file to file",
        "One call over {images} ({n_files} files), k = 256 without dithering, each command "
        "at its default speed (`kmeans-compress FILES -k 256 --out-dir D`, `pngquant --nofs "
        "256 FILES`): wall time of the whole call in a fresh process, interpreter start-up "
        "and imports included, median of {n_runs} runs alternating with pngquant's. PSNR is "
        "the mean over the files, measured on the written PNGs; bytes are the outputs' total.",
    ),
    "command-one-file": (
        "The command against pngquant: one file in a fresh process",
        "One call per file of {images}, the same settings; per file the median of the runs "
        "(alternating with pngquant's), then the median over the files. The ratio is ours "
        "over pngquant's on the same file: its median over the files and its range.",
    ),
    "command-speed": (
        "What --speed buys",
        "One call over {images} ({n_files} files), k = 256 without dithering, at "
        "`--speed` 1, 4 (the default) and 11: wall time of the whole call in a fresh "
        "process, median of {n_runs} runs, the levels alternating; bytes are the outputs' "
        "total, PSNR their mean.",
    ),
    "startup": (
        "Where one file's time goes",
        "`kmeans-compress` on {image} in a fresh process, in parts: the interpreter's own "
        "start (`python -c pass`), importing the command's modules (NumPy, Pillow, oxipng, "
        "ours), then two compressions in the same process: the first loads the kernels a "
        "compression runs, the second is the work alone (decode, histogram, fit, PNG, "
        "written). Kernel loading is the first less the second, run by run: their median "
        "when every run found the first slower, else *within noise* (the largest "
        "difference either way in brackets: a difference of two noisy times is not a time). "
        "The command's kernels come from the ahead-of-time module; the other "
        "column is the same run with Numba's (`KMEANS_SCRATCH_AHEAD=0`): their loading is "
        "Numba's import, its start (its typing and lowering registries, and SciPy's linear "
        "algebra through its BLAS check) and its cache. Medians of {n_runs} runs; one file "
        "in all is the interpreter, the imports and the first compression; the process's "
        "exit is not in the parts.",
    ),
    "busy-core": (
        "A busy machine",
        "`compress()` of the 512 × 512 astronaut at k = 256 in a process of its own "
        "(median of 7 after a warm-up), on a quiet machine and while another process keeps "
        "one of the cores busy (`while True: pass`). By default our idle OpenMP threads sleep "
        "at once (`OMP_WAIT_POLICY=PASSIVE`); `GOMP_SPINCOUNT=1000` lets them spin a little "
        "first; GNU OpenMP's own default spins 300,000 times. × quiet is against the same "
        "case on the quiet machine. "
        "pngquant's row is one file in a fresh process.",
    ),
    "lloyd-iterations": (
        "Lloyd iterations, same init, same work",
        "Fit time of 20 Lloyd iterations (`tol=0`, `max_iter=20`, the same explicit init) on "
        "the pixels of `china.jpg` tiled to {rows} rows (d = 3), ours on every row (its collapse "
        "of repeated rows switched off, so both do the same work). The ratio is our median time "
        "over scikit-learn's, measured side by side in this run; below 1 is faster. Inertia is "
        "reported by each library for its own result.",
    ),
    "lloyd-widths": (
        "Lloyd iterations at every width, same init",
        "20 Lloyd iterations (`tol=0`, `max_iter=20`, the same explicit init: rows moved by "
        "0.01) on Gaussian blobs with n·d ≈ 10⁷ values, each library's whole fit as a user "
        "calls it (ours probes for repeated rows, finds too few and fits every row), median "
        "of the rounds. The ratio is our time over scikit-learn's, side by side in this "
        "run; below 1 is faster. Rows of 16 features and more go through BLAS where "
        "`kmeans_scratch._wide.uses_blas` says so; n_iter and inertia are each library's "
        "own.",
    ),
    "elkan-widths": (
        "Elkan at every width, same init",
        '20 iterations of Elkan\'s algorithm (`algorithm="elkan"`, `tol=0`, `max_iter=20`, '
        "the same explicit init) on the blobs of the table above, ours against "
        "scikit-learn's Elkan, median of the rounds, side by side in this run; below 1 is "
        "faster. Cells whose bounds would take more than 2 GiB (n·k·8 bytes) are left out: "
        "ours refuses them and names Hamerly.",
    ),
    "sparse-text": (
        "Sparse rows like TF-IDF, same init",
        "At most 20 iterations (`tol=0`) from the same init (20 rows, k = 20) on CSR rows "
        "like TF-IDF vectors ({rows} rows and columns, {nnz} nonzeros a row on average, "
        "each row of length 1; `benchmarks/datasets.py:tfidf_like`), ours against "
        "scikit-learn's same algorithm, median of the rounds, side by side in this run; "
        "below 1 is faster. n_iter and inertia are each library's own.",
    ),
    "seeding": (
        "k-means++ seeding, same seed",
        "Greedy k-means++ (`kmeans_plusplus`, `random_state=0`) on `china.jpg` tiled to "
        "1.1 million pixels, as rows in image order and as the distinct colors with their "
        "counts as weights (in the Morton order of the image layer's histogram), and on "
        "100,000 Gaussian blobs of 64 features (100 centers), whose distances go through BLAS. "
        "The ratio is "
        'our median time over scikit-learn\'s (3 rounds each); "same seeds" says whether both '
        "picked the same rows.",
    ),
    "kmeans-peers": (
        "K-Means peers: time and inertia",
        "Each contender to convergence with its own defaults (`default`: its own seeding; ours "
        "and scikit-learn from `random_state=0`), and once more from the same k-means++ centers "
        "where the library takes initial centers (`same init`). Time is the median of three "
        "runs on the shipped images, one run on the tiled pixels and the blobs. "
        "Inertia is recomputed for every contender by the same float64 code on the full data. "
        "Ours iterates on the distinct rows, weighted, when rows repeat (pixels); "
        '"every row" is the same fit with that collapse switched off. '
        "Ratios are against scikit-learn's Lloyd in the same mode: time below 1 is faster, "
        "inertia below 1 is better.",
    ),
    "faiss-quality": (
        "How soon ours passes faiss's quality",
        "faiss's default fit (a 65,536-pixel sample, random init, 25 iterations) against "
        "ours on the distinct colors (k-means++, Hamerly) stopped after the fewest iterations "
        "(`max_iter`) whose inertia is below faiss's; ours to convergence is in the K-Means "
        "peer table of `make bench`. Times are medians of three runs measured side by side "
        "in this test; inertia is recomputed by the same float64 code on every pixel.",
    ),
    "quantize-peers": (
        "Color quantizers: time, quality and PNG size",
        "Quantization to k colors (no dithering). Time is the quantization alone (median of 3). "
        "Every contender's palette and indices are written by the same indexed-PNG encoder "
        "(smallest bit depth, oxipng), so bytes compare palettes. Ratios (× liq) are against "
        "libimagequant in the same run.",
    ),
    "palette-effort": (
        "What the fit's effort buys: error and time by k",
        "Quantization to k colors without dithering, on {n_images} images ({images}). MSE "
        "is per channel over every pixel (8-bit palettes); its ratio is the mean over the "
        "images of each image's MSE over libimagequant's, beside the largest (*worst image*). "
        "Time is the quantization alone (ours: histogram, fit and indices; median of 3), its "
        "ratio the median over the images of the time over libimagequant's on the same image, "
        "in the same run, beside the largest. "
        "scikit-learn fits the distinct colors weighted by their counts (exactly K-Means on "
        "every pixel, far faster than on the pixels; the histogram is not timed), one run.",
    ),
    "dithering": (
        "Dithering on the same palette",
        "Floyd–Steinberg onto the palette of our default fit, by ours (`dither=True`) and by "
        "Pillow (`quantize(palette=…, dither=FLOYDSTEINBERG)`), on {n_images} images "
        "({images}): means over the images. Time is the mapping alone (median of 3).",
    ),
    "large-images": (
        "Large images: time and peak memory, file to file",
        "A 3:2 mosaic of the four shipped images, resampled (Lanczos) to each size and saved "
        "as PNG, compressed to 256 colors without dithering, each run in a fresh child "
        "process; per size, rounds in which every contender runs once in turn, after an "
        "untimed one that leaves any kernel the size needs compiled in Numba's cache; each "
        "cell is the median over the rounds (their number in the last column). **ours** is "
        "the `kmeans-compress` command (on the kernels the command runs): decode, "
        "histogram, fit, indices, its report (PSNR) and the PNG written "
        "atomically. **pngquant** is `pngquant --nofs 256`, a process of its own. "
        "**libimagequant** is what pngquant does, from Python: Pillow decodes, "
        "libimagequant quantizes and remaps, Pillow writes the PNG at its default level. "
        "*Process wall* is the whole process, interpreter start and imports included; "
        "*peak RSS* the process's peak resident memory (VmHWM, or `wait4`'s for pngquant). "
        "*Time* is from the input file to the written output (interpreter start and imports "
        "excluded), *quantize* the quantization alone, *after imports* the part of the peak "
        "the libraries take before any image is read. PSNR is measured on the written "
        "files. Ratios are against pngquant and libimagequant in the same run.",
    ),
    "dask-kmeans": (
        "K-Means on a Dask cluster",
        "Float32 colors (the pixels of china.jpg tiled, plus uniform noise below one level), "
        "k = 16, on a LocalCluster of 2 worker processes of one thread each (this machine's "
        "2 cores), the data persisted in {chunks} chunks of 500,000 rows: ours "
        '(`kmeans_scratch.dask.KMeans(algorithm="hamerly")`, k-means|| seeds) and dask-ml\'s '
        "`KMeans` (its defaults, k-means|| seeds), each from `random_state=0`, against our own "
        "in-memory fit (k-means++ seeds) in the client process. One run each. Inertia is "
        "recomputed for every contender by the same float64 code. Ratios are against our "
        "in-memory fit.",
    ),
    "dask-batch": (
        "A batch of files on a Dask cluster",
        "`kmeans-compress FILES -k 256 --out-dir DIR` over {images} ({n_files} files) in a "
        "fresh process, file to file: the default local batch (one file per core in worker "
        "processes) against `--workers 2` (a LocalCluster of 2 processes started by the "
        "command, its start included). The outputs are checked byte-identical. Median of "
        "the rounds, alternated; ratios against the local batch.",
    ),
    "compile": (
        "Numba compile time",
        "Wall time of a first `KMeans(8).fit` on 1,000 points in a fresh Python process: "
        "with an empty Numba cache (every kernel compiled), then again with the cache that "
        "the first process left.",
    ),
}


def fmt_seconds(seconds):
    if seconds < 0.01:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def lloyd_table(rows):
    ours = {(r["dtype"], r["k"]): r for r in rows if r["library"] == "kmeans_scratch"}
    theirs = {(r["dtype"], r["k"]): r for r in rows if r["library"] == "scikit-learn"}
    lines = [
        "| dtype | k | kmeans_scratch | scikit-learn | ratio | inertia, ours | inertia, sklearn |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key in sorted(ours, key=lambda key: (key[0], key[1])):
        if key not in theirs:
            continue
        a, b = ours[key], theirs[key]
        lines.append(
            f"| {key[0]} | {key[1]} | {fmt_seconds(a['median_s'])} | {fmt_seconds(b['median_s'])} "
            f"| **{a['median_s'] / b['median_s']:.2f}** | {a['inertia']:.6g} | {b['inertia']:.6g} |"
        )
    return lines, {"rows": f"{rows[0]['n_rows']:,}"}


def ours_and_theirs(rows, keys):
    """``(key, our row, scikit-learn's row)`` for each group of ``rows`` by ``keys`` that
    both libraries ran."""
    for key, group in grouped(rows, keys).items():
        by_library = {row["library"]: row for row in group}
        if len(by_library) == 2:
            yield key, by_library["kmeans_scratch"], by_library["scikit-learn"]


def lloyd_widths_table(rows):
    lines = [
        "| dtype | d | k | rows | kmeans_scratch | scikit-learn | ratio | n_iter "
        "| inertia ÷ sklearn |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for (dtype, n_features, k), ours, theirs in ours_and_theirs(rows, ["dtype", "n_features", "k"]):
        lines.append(
            f"| {dtype} | {n_features} | {k} | {ours['n_rows']:,} "
            f"| {fmt_seconds(ours['median_s'])} | {fmt_seconds(theirs['median_s'])} "
            f"| **{ratio(ours['median_s'], theirs['median_s'])}** "
            f"| {ours['n_iter']}, {theirs['n_iter']} "
            f"| {ours['inertia'] / theirs['inertia']:.6f} |"
        )
    return lines, {}


def sparse_text_table(rows):
    lines = [
        "| dtype | algorithm | kmeans_scratch | scikit-learn | ratio | n_iter "
        "| inertia ÷ sklearn |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    for (dtype, algorithm), ours, theirs in ours_and_theirs(rows, ["dtype", "algorithm"]):
        lines.append(
            f"| {dtype} | {algorithm} | {fmt_seconds(ours['median_s'])} "
            f"| {fmt_seconds(theirs['median_s'])} "
            f"| **{ratio(ours['median_s'], theirs['median_s'])}** "
            f"| {ours['n_iter']}, {theirs['n_iter']} "
            f"| {ours['inertia'] / theirs['inertia']:.6f} |"
        )
    first = rows[0]
    return lines, {"rows": f"{first['n_rows']:,}", "nnz": f"{first['nnz'] / first['n_rows']:.1f}"}


def seeding_table(rows):
    lines = [
        "| data | k | kmeans_scratch | scikit-learn | ratio | same seeds |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for (data, k), ours, theirs in ours_and_theirs(rows, ["data", "k"]):
        lines.append(
            f"| {data} | {k} | {fmt_seconds(ours['median_s'])} "
            f"| {fmt_seconds(theirs['median_s'])} "
            f"| **{ratio(ours['median_s'], theirs['median_s'])}** "
            f"| {'yes' if ours['same_seeds'] else 'no'} |"
        )
    return lines, {}


def compile_table(rows):
    lines = ["| Numba cache | first fit in a new process |", "|---|---:|"]
    for row in rows:
        lines.append(f"| {row['cache']} | {fmt_seconds(row['median_s'])} |")
    return lines, {}


def grouped(rows, keys):
    """Rows grouped by the tuple of ``keys``, in first-seen order."""
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row[key] for key in keys), []).append(row)
    return groups


def ratio(value, reference):
    return f"{value / reference:.2f}" if reference else "–"


def row_of(cell, contender):
    """The row of ``contender`` in a cell of the table, or None when it did not run."""
    return next((row for row in cell if row["contender"] == contender), None)


def ratio_to(row, reference, key):
    """``row[key]`` over the reference row's, formatted; "–" without a reference row."""
    return ratio(row[key], reference and reference[key])


def kmeans_peers_table(rows):
    lines = []
    for (dataset,), dataset_rows in grouped(rows, ["dataset"]).items():
        first = dataset_rows[0]
        lines += ["", f"**{dataset}** ({first['n_rows']:,} × {first['d']})", ""]
        lines += [
            "| k | contender | mode | time | × sklearn lloyd | inertia | ÷ sklearn lloyd |",
            "|---:|---|---|---:|---:|---:|---:|",
        ]
        for (k, mode), cell in grouped(dataset_rows, ["k", "mode"]).items():
            reference = row_of(cell, "sklearn lloyd")
            for row in cell:
                lines.append(
                    f"| {k} | {row['contender']} | {mode} | {fmt_seconds(row['median_s'])} "
                    f"| {ratio_to(row, reference, 'median_s')} "
                    f"| {row['inertia']:.6g} "
                    f"| {ratio_to(row, reference, 'inertia')} |"
                )
    return lines[1:], {}


def faiss_quality_table(rows):
    lines = [
        "| dataset | k | faiss time | faiss inertia | ours `max_iter` | ours time | × faiss "
        "| ours inertia | ÷ faiss |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        budget = row["max_iter"] if row["reached"] else f"{row['max_iter']} (not reached)"
        lines.append(
            f"| {row['dataset']} | {row['k']} | {fmt_seconds(row['faiss_s'])} "
            f"| {row['faiss_inertia']:.6g} | {budget} | {fmt_seconds(row['median_s'])} "
            f"| {ratio(row['median_s'], row['faiss_s'])} | {row['inertia']:.6g} "
            f"| {ratio(row['inertia'], row['faiss_inertia'])} |"
        )
    return lines, {}


def quantize_peers_table(rows):
    lines = []
    for (image, size), image_rows in grouped(rows, ["image", "size"]).items():
        lines += ["", f"**{image}** ({size})", ""]
        lines += [
            "| k | contender | time | × liq | PSNR dB | ΔE | PNG bytes | × liq |",
            "|---:|---|---:|---:|---:|---:|---:|---:|",
        ]
        for (k,), cell in grouped(image_rows, ["k"]).items():
            reference = row_of(cell, "libimagequant")
            for row in cell:
                lines.append(
                    f"| {k} | {row['contender']} | {fmt_seconds(row['median_s'])} "
                    f"| {ratio_to(row, reference, 'median_s')} "
                    f"| {row['psnr']:.2f} | {row['delta_e']:.2f} | {row['png_bytes']:,} "
                    f"| {ratio_to(row, reference, 'png_bytes')} |"
                )
    return lines[1:], {}


def image_set(rows):
    names = sorted({row["image"] for row in rows})
    shown = ", ".join(names) if len(names) <= 4 else f"{names[0]} … {names[-1]}"
    return {"n_images": len(names), "images": shown}


def palette_effort_table(rows):
    lines = [
        "| k | contender | mean MSE | ÷ liq MSE | worst image | median time | × liq time "
        "| worst image |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (k,), k_rows in grouped(rows, ["k"]).items():
        reference = {row["image"]: row for row in k_rows if row["contender"] == "libimagequant"}
        for (contender,), cell in grouped(k_rows, ["contender"]).items():
            errors = [row["mse"] for row in cell]
            against = [row["mse"] / reference[row["image"]]["mse"] for row in cell]
            times = [row["median_s"] for row in cell]
            time_ratios = [row["median_s"] / reference[row["image"]]["median_s"] for row in cell]
            lines.append(
                f"| {k} | {contender} | {statistics.mean(errors):.2f} "
                f"| {statistics.mean(against):.3f} | {max(against):.3f} "
                f"| {fmt_seconds(statistics.median(times))} "
                f"| {statistics.median(time_ratios):.2f} | {max(time_ratios):.2f} |"
            )
    return lines, image_set(rows)


def dithering_table(rows):
    lines = [
        "| k | ditherer | mean PSNR dB | mean SSIM | median time |",
        "|---:|---|---:|---:|---:|",
    ]
    for (k, contender), cell in grouped(rows, ["k", "contender"]).items():
        lines.append(
            f"| {k} | {contender} | {statistics.mean(r['psnr'] for r in cell):.2f} "
            f"| {statistics.mean(r['ssim'] for r in cell):.4f} "
            f"| {fmt_seconds(statistics.median(r['median_s'] for r in cell))} |"
        )
    return lines, image_set(rows)


def large_images_table(rows):
    lines = [
        "| size | MP | contender | process wall | × pngquant | peak RSS | × pngquant "
        "| time | quantize | × liq | after imports | PSNR dB | PNG bytes | rounds |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (size,), cell in grouped(rows, ["size"]).items():
        pngquant, libimagequant = row_of(cell, "pngquant"), row_of(cell, "libimagequant")
        for row in cell:
            in_process = row["quantize_s"] is not None
            lines.append(
                f"| {size} | {row['megapixels']:.1f} | {row['contender']} "
                f"| {fmt_seconds(row['process_s'])} "
                f"| {ratio_to(row, pngquant, 'process_s')} "
                f"| {row['peak_rss'] / 2**20:,.0f} MiB "
                f"| {ratio_to(row, pngquant, 'peak_rss')} "
                + (
                    f"| {fmt_seconds(row['median_s'])} | {fmt_seconds(row['quantize_s'])} "
                    f"| {ratio_to(row, libimagequant, 'quantize_s')} "
                    f"| {row['import_rss'] / 2**20:,.0f} MiB "
                    if in_process
                    else "| – | – | – | – "
                )
                + f"| {row['psnr']:.2f} | {row['png_bytes']:,} | {row.get('rounds', 1)} |"
            )
    if pngquant is None:
        lines += ["", "pngquant is not installed (`apt-get install pngquant`): no pngquant rows."]
    return lines, {}


def command_batch_table(rows):
    if rows[0]["pngquant_missing"]:
        note = ["", "pngquant is not installed (`apt-get install pngquant`): its row is missing."]
    else:
        note = []
    reference = row_of(rows, "pngquant")
    lines = [
        "| command | wall time | × pngquant | runs | mean PSNR dB | − pngquant | bytes "
        "| × pngquant |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        runs = ", ".join(f"{seconds:.2f}" for seconds in row["runs"])
        psnr_gain = f"{row['psnr'] - reference['psnr']:+.2f}" if reference else "–"
        lines.append(
            f"| {row['contender']} | **{fmt_seconds(row['median_s'])}** "
            f"| **{ratio_to(row, reference, 'median_s')}** | {runs} | {row['psnr']:.2f} "
            f"| {psnr_gain} | {row['bytes']:,} | {ratio_to(row, reference, 'bytes')} |"
        )
    first = rows[0]
    return lines + note, {
        "images": first["images"],
        "n_files": first["n_files"],
        "n_runs": len(first["runs"]),
    }


def command_speed_table(rows):
    default = next(row for row in rows if row["speed"] == 4)
    lines = [
        "| --speed | wall time | × default | runs | mean PSNR dB | bytes | × default |",
        "|---:|---:|---:|---|---:|---:|---:|",
    ]
    for row in rows:
        runs = ", ".join(f"{seconds:.2f}" for seconds in row["runs"])
        lines.append(
            f"| {row['speed']} | {fmt_seconds(row['median_s'])} "
            f"| **{ratio_to(row, default, 'median_s')}** | {runs} | {row['psnr']:.2f} "
            f"| {row['bytes']:,} | **{ratio_to(row, default, 'bytes')}** |"
        )
    first = rows[0]
    return lines, {
        "images": first["images"],
        "n_files": first["n_files"],
        "n_runs": len(first["runs"]),
    }


def command_one_file_table(rows):
    lines = [
        "| command | median time | fastest file | slowest file | × pngquant (median) "
        "| × pngquant (range) | worst file |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        spread = row.get("ratio_range")
        worst = row.get("worst_file", "–")
        lines.append(
            f"| {row['contender']} | {fmt_seconds(row['median_s'])} "
            f"| {fmt_seconds(row['fastest'])} | {fmt_seconds(row['slowest'])} "
            f"| **{row['ratio_median']:.2f}** | {spread[0]:.2f}–{spread[1]:.2f} | {worst} |"
            if spread
            else f"| {row['contender']} | {fmt_seconds(row['median_s'])} "
            f"| {fmt_seconds(row['fastest'])} | {fmt_seconds(row['slowest'])} | – | – | – |"
        )
    if rows[0]["pngquant_missing"]:
        lines += ["", "pngquant is not installed (`apt-get install pngquant`): no ratios."]
    return lines, {"images": rows[0]["images"]}


def kernel_loading(first, second):
    """The first compression's time less the second's, from the runs of both (paired).

    Their median when every run found the first slower; else "within noise" and the largest
    difference either way: two noisy times can differ by less than nothing, a load cannot.
    """
    differences = [a - b for a, b in zip(first, second, strict=True)]
    if min(differences) > 0:
        return fmt_seconds(statistics.median(differences))
    return f"within noise (±{fmt_seconds(max(abs(d) for d in differences))})"


def startup_table(rows):
    modes = list(dict.fromkeys(row["kernels"] for row in rows))
    runs = {(row["kernels"], row["part"]): row["runs"] for row in rows}
    parts = {
        "interpreter": "interpreter",
        "imports": "imports",
        "first compression": "first compression: kernel loading and the work",
        "second compression": "second compression: the work",
    }
    lines = [
        "| part | " + " | ".join(f"{mode} kernels" for mode in modes) + " |",
        "|---|" + "---:|" * len(modes),
    ]
    for part, label in parts.items():
        cells = " | ".join(fmt_seconds(statistics.median(runs[mode, part])) for mode in modes)
        lines.append(f"| {label} | {cells} |")
    cells = " | ".join(
        kernel_loading(runs[mode, "first compression"], runs[mode, "second compression"])
        for mode in modes
    )
    lines.append(f"| kernel loading: the first less the second | {cells} |")
    totals = (
        sum(statistics.median(runs[mode, part]) for part in list(parts)[:3]) for mode in modes
    )
    cells = " | ".join(f"**{fmt_seconds(total)}**" for total in totals)
    lines.append(f"| **one file, in all** | {cells} |")
    answers = ", ".join(
        f"`kmeans-compress {flag}` {fmt_seconds(seconds)}"
        for flag, seconds in rows[0]["answers"].items()
    )
    return [*lines, "", f"In a fresh process: {answers} (medians)."], {
        "image": rows[0]["image"],
        "n_runs": len(rows[0]["runs"]),
    }


def busy_core_table(rows):
    lines = ["| case | machine | time | × quiet |", "|---|---|---:|---:|"]
    for row in rows:
        lines.append(
            f"| {row['case']} | {row['machine']} | {fmt_seconds(row['median_s'])} "
            f"| {row['median_s'] / row['quiet']:.2f} |"
        )
    return lines, {}


def dask_kmeans_table(rows):
    lines = [
        "| rows | contender | time | × in memory | inertia | ÷ in memory |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for (n_rows,), cell in grouped(rows, ["n_rows"]).items():
        reference = row_of(cell, "ours in memory (hamerly)")
        for row in cell:
            inertia_ratio = f"{row['inertia'] / reference['inertia']:.4f}" if reference else "–"
            lines.append(
                f"| {n_rows:,} | {row['contender']} | {fmt_seconds(row['median_s'])} "
                f"| {ratio_to(row, reference, 'median_s')} | {row['inertia']:.6g} "
                f"| {inertia_ratio} |"
            )
    return lines, {"chunks": "/".join(str(c) for c in sorted({r["chunks"] for r in rows}))}


def dask_batch_table(rows):
    reference = row_of(rows, "local batch (worker processes)")
    lines = ["| contender | files | time | per file | × local batch |", "|---|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(
            f"| {row['contender']} | {row['n_files']} | {fmt_seconds(row['median_s'])} "
            f"| {fmt_seconds(row['median_s'] / row['n_files'])} "
            f"| {ratio_to(row, reference, 'median_s')} |"
        )
    return lines, {"images": rows[0]["images"], "n_files": rows[0]["n_files"]}


RENDERERS = {
    "command-batch": command_batch_table,
    "command-one-file": command_one_file_table,
    "command-speed": command_speed_table,
    "startup": startup_table,
    "busy-core": busy_core_table,
    "lloyd-iterations": lloyd_table,
    "lloyd-widths": lloyd_widths_table,
    "elkan-widths": lloyd_widths_table,
    "sparse-text": sparse_text_table,
    "seeding": seeding_table,
    "kmeans-peers": kmeans_peers_table,
    "faiss-quality": faiss_quality_table,
    "quantize-peers": quantize_peers_table,
    "palette-effort": palette_effort_table,
    "dithering": dithering_table,
    "large-images": large_images_table,
    "dask-kmeans": dask_kmeans_table,
    "dask-batch": dask_batch_table,
    "compile": compile_table,
}


def plain(value):
    """A NumPy scalar or array as the Python numbers JSON can hold (anything else as text:
    a long run's rows are kept whatever a test recorded)."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


def write_results(path, rows, machine, load, durations, compiled=()):
    """Write the run to ``path`` with ``.json`` (its date, machine, the machine's ``load``
    average at its start and end, its rows, each test's ``durations`` and the kernels
    ``compiled`` during the run, with the test each was compiled in) and ``path``
    (Markdown: every table that has rows; tables of other runs are not kept: one run, one
    file).  Returns both paths."""
    path = Path(path)
    run = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": machine,
        "load": load,
        "rows": rows,
        "durations": durations,
        "compiled": list(compiled),
    }
    text = json.dumps(run, indent=1, ensure_ascii=False, default=plain) + "\n"
    json_path = path.with_suffix(".json")
    json_path.write_text(text, encoding="utf-8")  # first: the rows outlive a renderer's bug
    path.write_text(render_results(json.loads(text)), encoding="utf-8")
    return [path, json_path]


def load_note(run):
    """The machine's load around the run: how busy it was with other work."""
    start, end = run["load"]
    return (
        f"Load average (1 minute): {start:.2f} as the run started (other work), {end:.2f} "
        "as it ended (the run's own included)."
    )


def compile_note(run):
    """What the run compiled, in its own process (runs written before 2026-12-06 did not
    record it: no note)."""
    if "compiled" not in run:
        return []
    compiled = run["compiled"]
    if not compiled:
        return [
            "No kernel of ours compiled in the run's process: every one it ran came from the "
            "cache `make kernels` filled (commands in processes of their own are timed apart)."
        ]
    tests = sorted({entry["test"] or "(before the first test)" for entry in compiled})
    return [
        f"**Kernels compiled in the run's process: {len(compiled)}**, in "
        f"{', '.join(f'`{test}`' for test in tests)} (the cache `make kernels` filled "
        "lacked them): a compile inside a timed round counts in that cell's time, one in an "
        "untimed part of the test (such as a quality measure) does not."
    ]


def render_results(run):
    """The Markdown of a run (as ``write_results`` stores it)."""
    out = [
        "# Benchmark results",
        "",
        f"Generated by `make bench` (RESULTS.md), `make bench-quick`, `make bench-kodak`, "
        f"`make bench-effort`, `make bench-command` or `make bench-dask` (RESULTS-quick.md, "
        f"-kodak.md, -effort.md, -command.md, -dask.md) on {run['date']}, from the rows in "
        f"the .json file of the same name. Machine: {run['machine']}. {load_note(run)}",
        "Times are medians over the rounds pytest-benchmark ran; ratios compare contenders "
        "measured in the same run on the same machine.",
        *compile_note(run),
    ]
    headline = headline_lines(run["rows"])
    if headline:
        out += ["", "## The headline", "", *headline]
    for table, (title, intro) in TABLES.items():
        table_rows = [r for r in run["rows"] if r["table"] == table]
        if not table_rows:
            continue
        lines, fields = RENDERERS[table](table_rows)
        out += ["", f"## {title}", "", intro.format(**fields), "", *lines]
    return "\n".join(out) + "\n"


# --- the headline: the few rows a reader needs, from whichever of them the run measured ---


def lloyd_headline(rows, table, data):
    """Headline rows of ours against scikit-learn's Lloyd from the rows of ``table``."""
    keys = ["dtype", "k"] + (["n_features"] if table == "lloyd-widths" else [])
    lines = []
    selected = [row for row in rows if row["table"] == table]
    for key, ours, theirs in ours_and_theirs(selected, keys):
        d = key[2] if table == "lloyd-widths" else 3
        if "n_iter" in ours:
            iterations = f"at most 20 Lloyd iterations ({ours['n_iter']}, {theirs['n_iter']})"
        else:
            iterations = "20 Lloyd iterations"
        lines.append(
            f"| K-Means, {iterations} from the same init: {data(ours)}, d = {d}, "
            f"k = {key[1]}, {key[0]} | {fmt_seconds(ours['median_s'])} "
            f"| scikit-learn {fmt_seconds(theirs['median_s'])} "
            f"| **{ratio(ours['median_s'], theirs['median_s'])}** "
            f"| inertia {ours['inertia'] / theirs['inertia']:.6f} × scikit-learn's |"
        )
    return lines


def command_headline(rows):
    batch = [row for row in rows if row["table"] == "command-batch"]
    one_file = [row for row in rows if row["table"] == "command-one-file"]
    lines = []
    ours, theirs = row_of(batch, "kmeans-compress"), row_of(batch, "pngquant")
    if ours:
        quality = (
            f"PSNR {ours['psnr'] - theirs['psnr']:+.2f} dB, bytes "
            f"{ratio(ours['bytes'], theirs['bytes'])} × pngquant's"
            if theirs
            else f"PSNR {ours['psnr']:.2f} dB (pngquant not installed)"
        )
        lines.append(
            f"| `kmeans-compress` file to file, k = 256: one call over {ours['images']} "
            f"| {fmt_seconds(ours['median_s'])} "
            f"| pngquant {fmt_seconds(theirs['median_s']) if theirs else '–'} "
            f"| **{ratio_to(ours, theirs, 'median_s')}** | {quality} |"
        )
    ours, theirs = row_of(one_file, "kmeans-compress"), row_of(one_file, "pngquant")
    if ours:
        ratios = ours.get("ratio_range")
        worst = f", worst {ours['worst_file']}" if "worst_file" in ours else ""
        cell = (
            f"**{ours['ratio_median']:.2f}** ({ratios[0]:.2f}–{ratios[1]:.2f}{worst})"
            if ratios
            else "–"
        )
        lines.append(
            f"| the same, one call per file (medians over the files; the ratio, the "
            f"median of each file's) "
            f"| {fmt_seconds(ours['median_s'])} "
            f"| pngquant {fmt_seconds(theirs['median_s']) if theirs else '–'} | {cell} | |"
        )
    return lines


def spread(values, form, bold=False):
    """``form`` of the median of ``values`` (in bold if asked), and their range when they
    differ ("…" between signed numbers, "–" otherwise)."""
    low, mid, high = min(values), statistics.median(values), max(values)
    median = f"**{form.format(mid)}**" if bold else form.format(mid)
    if low == high:
        return median
    between = "…" if form.startswith("{:+") else "–"
    return f"{median} ({form.format(low)}{between}{form.format(high)})"


def quantize_headline(rows, k=256):
    cells_rows = [r for r in rows if r["table"] == "quantize-peers" and r["k"] == k]
    cells = grouped(cells_rows, ["image"])
    pairs = [
        (row_of(cell, "ours (compress)"), row_of(cell, "libimagequant")) for cell in cells.values()
    ]
    pairs = [(ours, theirs) for ours, theirs in pairs if ours and theirs]
    if not pairs:
        return []
    times = [ours["median_s"] / theirs["median_s"] for ours, theirs in pairs]
    gains = [ours["psnr"] - theirs["psnr"] for ours, theirs in pairs]
    sizes = [ours["png_bytes"] / theirs["png_bytes"] for ours, theirs in pairs]
    return [
        f"| the quantization alone, in memory, k = {k}: "
        f"{image_set(cells_rows)['images']}, median (range) "
        f"| {fmt_seconds(statistics.median(ours['median_s'] for ours, _ in pairs))} "
        f"| libimagequant {fmt_seconds(statistics.median(t['median_s'] for _, t in pairs))} "
        f"| {spread(times, '{:.2f}', bold=True)} "
        f"| PSNR {spread(gains, '{:+.2f}')} dB, PNG {spread(sizes, '{:.2f}')} × its |"
    ]


def headline_lines(rows):
    """The headline table of ``rows``: ours against the reference of each comparison the run
    measured (empty when it measured none of them)."""
    body = [
        *lloyd_headline(rows, "lloyd-iterations", lambda row: f"{row['n_rows']:,} pixels"),
        *lloyd_headline(rows, "lloyd-widths", lambda row: f"{row['n_rows']:,} rows of blobs"),
        *command_headline(rows),
        *quantize_headline(rows),
    ]
    if not body:
        return []
    return [
        "| | ours | the reference | ours ÷ reference | quality |",
        "|---|---:|---:|---:|---|",
        *body,
    ]


README_BEGIN = "<!-- bench-quick: begin (make bench-quick writes this part) -->"
README_END = "<!-- bench-quick: end -->"


def readme_section(run, results_name="benchmarks/RESULTS-quick.md"):
    """The README's speed table, from a run as ``write_results`` stores it."""
    return "\n".join(
        [
            README_BEGIN,
            f"`make bench-quick` of {run['date']} ([{Path(results_name).name}]({results_name})), "
            f"on {run['machine']}. {load_note(run)}",
            "",
            *headline_lines(run["rows"]),
            README_END,
        ]
    )


def readme_part(text):
    """The marked part of a README's text (markers included), or None."""
    found = re.search(rf"{re.escape(README_BEGIN)}.*?{re.escape(README_END)}", text, re.S)
    return found and found.group(0)


def rewrite_readme(readme, run):
    """Replace the marked part of the ``readme`` file by the headline of ``run``."""
    readme = Path(readme)
    text = readme.read_text(encoding="utf-8")
    old = readme_part(text)
    if old is None:
        raise SystemExit(f"{readme}: no part between {README_BEGIN!r} and {README_END!r}")
    readme.write_text(text.replace(old, readme_section(run)), encoding="utf-8")


def main(run_json, readme=None):
    """Render ``RESULTS*.md`` again from the ``.json`` beside it, and the README's speed
    table from it when a README is given."""
    run_json = Path(run_json)
    run = json.loads(run_json.read_text(encoding="utf-8"))
    run_json.with_suffix(".md").write_text(render_results(run), encoding="utf-8")
    if not readme:
        return
    if any("shipped" in str(row.get("images", "")) for row in run["rows"]):
        print(
            f"{readme}: left as it is: {run_json} ran the command rows on the shipped "
            "images, not on the photos its speed table is about (see the run's warning)"
        )
        return
    rewrite_readme(readme, run)
    print(f"{readme}: its speed table is the headline of {run_json}")


if __name__ == "__main__":
    main(*sys.argv[1:3])  # python -m benchmarks.report benchmarks/RESULTS-quick.json [README.md]
