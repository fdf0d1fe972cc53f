"""Whether Hamerly's bounds pay on wide rows, and whether ``HamerlyAssignment.skip_share``
tells the rows where they pay from the others.

    .venv/bin/python -m benchmarks.hamerly_on_wide_rows [--quick]

The data of ``benchmarks.elkan_beyond_blobs`` (Gaussian blobs, embedding-like rows,
``make_classification``; n·d = 10⁷), d = 16, 64, 300, k = 16, 64, 256, float32 and
float64, from the same k-means++ centers, 20 iterations (``tol=0``), medians of 3
alternating rounds after a warm-up: our ``algorithm="hamerly"`` with its bounds forced on
and as it runs (the rows decide), each over our Lloyd, with the share the step measured
after Lloyd's first step and whether the bounds then ran.

A run of about 15 minutes (``--quick``: d = 64 only, about 5).
"""

import argparse

from sklearn.cluster import kmeans_plusplus

from .elkan_beyond_blobs import (
    bounds_over_lloyd,
    markdown_row,
    measured_share,
    medians,
    print_table,
)


def table_row(name, X, k):
    """The row of the table for ``k`` clusters on the rows ``X`` of dataset ``name``."""
    init, _ = kmeans_plusplus(X, k, random_state=0)
    share, runs_bounds = measured_share(X, init, "hamerly")
    forced = bounds_over_lloyd(X, init, "hamerly")
    as_run = medians([("ours", "hamerly"), ("ours", "lloyd")], X, init)
    as_run_ratio = as_run["ours", "hamerly"] / as_run["ours", "lloyd"]
    runs = "bounds" if runs_bounds else "Lloyd"
    return markdown_row(name, X, k, f"{forced:.2f}", f"{share:.3f}", runs, f"{as_run_ratio:.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="d = 64 only")
    args = parser.parse_args(argv)
    print_table(
        ["bounds ÷ our Lloyd", "skip share", "runs", "as run ÷ our Lloyd"],
        table_row,
        (64,) if args.quick else (16, 64, 300),
    )


if __name__ == "__main__":
    main()
