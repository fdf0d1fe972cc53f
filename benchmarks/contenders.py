"""Everything measured: K-Means implementations and color quantizers, behind one call each.

A K-Means contender is ``fit(X, k, init) -> centers``: ``init`` is None (the library's
own defaults, its own seeding, to its own convergence) or an array of initial centers
(used where the library accepts one).  Every contender's quality is then measured the
same way, by :func:`exact_inertia` of its centers on the same data.

A quantizer contender is ``quantize(pixels, k) -> (palette, indices)``; the palette PNG
of every contender is written by the same encoder, so file sizes compare the palettes,
not the PNG writers.
"""

import contextlib
import time
import warnings

import numpy as np
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.cluster import MiniBatchKMeans

from kmeans_scratch import KMeans, _fit
from kmeans_scratch._distances import assign_labels


def fit_seconds(estimator, X):
    """Seconds ``estimator.fit(X)`` takes (the fitted estimator keeps the result)."""
    start = time.perf_counter()
    estimator.fit(X)
    return time.perf_counter() - start


def alternate(runs, rounds):
    """``{name: [seconds, …]}``: each of ``runs`` (name → no-argument timer) once per
    round, the order reversed every other round."""
    names = list(runs)
    times = {name: [] for name in names}
    for round_number in range(rounds):
        for name in names if round_number % 2 == 0 else names[::-1]:
            times[name].append(runs[name]())
    return times


def exact_inertia(X, centers):
    """Σ_i min_j ‖x_i − c_j‖² in float64, the same computation for every contender."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    centers = np.ascontiguousarray(centers, dtype=np.float64)
    labels = np.empty(X.shape[0], dtype=np.int32)
    return assign_labels(X, np.ones(X.shape[0]), centers, labels)


def ours(algorithm, dtype):
    def fit(X, k, init):
        X = X.astype(dtype)
        params = {"n_init": 1, "init": init.astype(dtype)} if init is not None else {}
        return KMeans(k, algorithm=algorithm, random_state=0, **params).fit(X).cluster_centers_

    return fit


@contextlib.contextmanager
def every_row_kept():
    """Switch off our collapse of repeated rows: the iteration runs on every row, as if no
    row repeated (what the kernels alone cost on pixels, the same work as scikit-learn)."""
    collapse = _fit.collapse_duplicates
    _fit.collapse_duplicates = lambda X, sample_weight: None
    try:
        yield
    finally:
        _fit.collapse_duplicates = collapse


def ours_every_row(algorithm, dtype):
    fit = ours(algorithm, dtype)

    def fit_every_row(X, k, init):
        with every_row_kept():
            return fit(X, k, init)

    return fit_every_row


def fit_distinct_colors(X, k, max_iter=300):
    """Ours as the image layer fits pixels: Hamerly on the distinct rows, weighted by how
    often each occurs (exactly the K-Means problem on every row, much smaller), at most
    ``max_iter`` iterations.  For rows of integer values in 0..255 (pixels), whose
    histogram the image layer builds.  Returns the fitted estimator."""
    from kmeans_scratch.compression._histogram import color_histogram

    histogram = color_histogram(X.astype(np.uint8)[None])
    return KMeans(k, algorithm="hamerly", random_state=0, max_iter=max_iter).fit(
        histogram.colors.astype(np.float64), sample_weight=histogram.counts.astype(np.float64)
    )


def ours_distinct_colors(X, k, init):
    return fit_distinct_colors(X, k).cluster_centers_


def sklearn_kmeans(algorithm):
    def fit(X, k, init):
        params = {"n_init": 1, "init": init} if init is not None else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return (
                SklearnKMeans(k, algorithm=algorithm, random_state=0, **params)
                .fit(X)
                .cluster_centers_
            )

    return fit


def sklearn_minibatch(X, k, init):
    params = {"n_init": 1, "init": init} if init is not None else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MiniBatchKMeans(k, random_state=0, **params).fit(X).cluster_centers_


def faiss_kmeans(X, k, init):
    import faiss

    X = np.ascontiguousarray(X, dtype=np.float32)
    kmeans = faiss.Kmeans(X.shape[1], k, seed=1, verbose=False)
    if init is None:
        kmeans.train(X)
    else:
        kmeans.train(X, init_centroids=np.ascontiguousarray(init, dtype=np.float32))
    return kmeans.centroids


KMEANS_CONTENDERS = {
    "ours lloyd f64": ours("lloyd", np.float64),
    "ours hamerly f64": ours("hamerly", np.float64),
    "ours elkan f64": ours("elkan", np.float64),
    "ours lloyd f32": ours("lloyd", np.float32),
    "ours hamerly f32": ours("hamerly", np.float32),
    "ours elkan f32": ours("elkan", np.float32),
    "ours hamerly f64, every row": ours_every_row("hamerly", np.float64),
    "ours hamerly, distinct colors": ours_distinct_colors,
    "sklearn lloyd": sklearn_kmeans("lloyd"),
    "sklearn elkan": sklearn_kmeans("elkan"),
    "sklearn minibatch": sklearn_minibatch,
    "faiss": faiss_kmeans,
}
#: Contenders for pixel rows only: integer values in 0..255, or rows that repeat (in
#: blobs no row does, so every row is what "ours hamerly f64" runs on anyway).
PIXELS_ONLY = {"ours hamerly, distinct colors", "ours hamerly f64, every row"}
#: Contenders that accept initial centers (MiniBatchKMeans does too, but moves them on
#: mini-batches, so "same init" would not mean the same run).
SAME_INIT_CONTENDERS = [
    "ours lloyd f64",
    "ours hamerly f64",
    "ours hamerly f64, every row",
    "ours elkan f64",
    "sklearn lloyd",
    "sklearn elkan",
    "faiss",
]


# --- color quantizers: pixels (H, W, 3) uint8 → palette (k', 3) uint8, indices (H, W) ---


def _palette_from_centers(centers, labels, shape):
    palette = np.clip(np.rint(centers), 0, 255).astype(np.uint8)
    return palette, labels.reshape(shape[:2])


def quantize_ours(pixels, k, **options):
    """``compress(pixels, k, **options)`` as a palette and indices."""
    from kmeans_scratch.compression import compress

    result = compress(pixels, k, **options)
    return result.palette, result.indices


def quantize_sklearn_full(pixels, k):
    X = pixels.reshape(-1, 3).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = SklearnKMeans(k, random_state=0).fit(X)
    return _palette_from_centers(fitted.cluster_centers_, fitted.labels_, pixels.shape)


def quantize_sklearn_example(pixels, k):
    """scikit-learn's color-quantization example: fit on 1,000 random pixels, predict all."""
    X = pixels.reshape(-1, 3).astype(np.float64)
    sample = X[np.random.RandomState(0).permutation(X.shape[0])[:1000]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = SklearnKMeans(k, random_state=0).fit(sample)
    return _palette_from_centers(fitted.cluster_centers_, fitted.predict(X), pixels.shape)


def quantize_faiss(pixels, k):
    import faiss

    X = np.ascontiguousarray(pixels.reshape(-1, 3), dtype=np.float32)
    kmeans = faiss.Kmeans(3, k, seed=1, verbose=False)
    kmeans.train(X)
    _, labels = kmeans.index.search(X, 1)
    return _palette_from_centers(kmeans.centroids, labels.ravel(), pixels.shape)


def from_pil_palette(image, shape):
    indices = np.asarray(image)
    n_used = int(indices.max()) + 1
    palette = np.array(image.getpalette()[: 3 * n_used], dtype=np.uint8).reshape(-1, 3)
    return palette, indices.reshape(shape[:2])


def pillow(method, kmeans=0):
    def quantize(pixels, k):
        from PIL import Image

        image = Image.fromarray(pixels).quantize(k, method=method, kmeans=kmeans, dither=0)
        return from_pil_palette(image, pixels.shape)

    return quantize


def quantize_libimagequant(pixels, k):
    """libimagequant through its raw-bytes call (the PIL helper converts in Python)."""
    import imagequant

    height, width = pixels.shape[:2]
    rgba = np.dstack([pixels, np.full((height, width), 255, dtype=np.uint8)])
    index_bytes, palette = imagequant.quantize_raw_rgba_bytes(
        rgba.tobytes(), width, height, dithering_level=0.0, max_colors=k
    )
    indices = np.frombuffer(index_bytes, dtype=np.uint8).reshape(height, width)
    palette = np.array(palette, dtype=np.uint8).reshape(-1, 4)[:, :3]
    return palette[: int(indices.max()) + 1], indices


QUANTIZERS = {
    "ours (compress)": quantize_ours,
    "libimagequant": quantize_libimagequant,
    "sklearn KMeans, all pixels": quantize_sklearn_full,
    "sklearn example (1,000-pixel fit)": quantize_sklearn_example,
    "faiss": quantize_faiss,
    "Pillow median cut": pillow(0),
    "Pillow fast octree": pillow(2),
    "Pillow median cut + kmeans": pillow(0, kmeans=3),
}
