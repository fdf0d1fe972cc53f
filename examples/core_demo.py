"""The classroom experiment on the core alone: cluster the colors of china.jpg for several k.

For k = 2, 4, 8, 16, 32: fit this library's KMeans and scikit-learn's from the same
seed on the image's pixels, and print time and inertia side by side.
"""

import time
import warnings

from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.datasets import load_sample_image

from kmeans_scratch import KMeans


def main():
    pixels = load_sample_image("china.jpg").reshape(-1, 3).astype("float64")
    print(f"china.jpg: {pixels.shape[0]:,} pixels, 3 channels")
    KMeans(2, random_state=0).fit(pixels[:1000])  # compile (or load) the Numba kernels
    print(f"{'k':>3} {'ours':>9} {'sklearn':>9} {'inertia (ours)':>16} {'inertia (sklearn)':>18}")
    for k in (2, 4, 8, 16, 32):
        start = time.perf_counter()
        ours = KMeans(k, random_state=0).fit(pixels)
        ours_seconds = time.perf_counter() - start
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = SklearnKMeans(k, random_state=0).fit(pixels)
        theirs_seconds = time.perf_counter() - start
        print(
            f"{k:>3} {ours_seconds:>8.3f}s {theirs_seconds:>8.3f}s "
            f"{ours.inertia_:>16.4g} {theirs.inertia_:>18.4g}"
        )


if __name__ == "__main__":
    main()
