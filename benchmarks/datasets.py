"""Benchmark data: pixels of the images the dependencies ship, a tiled million-pixel
image, Gaussian blobs, and optionally every image of a folder (``--images DIR``)."""

import functools
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data as skimage_data
from sklearn.datasets import load_sample_image, make_blobs

SHIPPED_IMAGES = ("china", "flower", "astronaut", "coffee")
#: scikit-image's color photos, 0.14–2 megapixels: a third set beside the Kodak and
#: Wikipedia photos, which every install of the compressor has (scikit-image is among its
#: dependencies); ``make bench-command`` times the command on them.
SKIMAGE_PHOTOS = {
    "astronaut": skimage_data.astronaut,
    "chelsea": skimage_data.chelsea,
    "coffee": skimage_data.coffee,
    "hubble_deep_field": skimage_data.hubble_deep_field,
    "immunohistochemistry": skimage_data.immunohistochemistry,
    "motorcycle": lambda: skimage_data.stereo_motorcycle()[0],
    "retina": skimage_data.retina,
    "rocket": skimage_data.rocket,
}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}


@functools.cache
def shipped_image(name):
    """(H, W, 3) uint8 of an image scikit-learn or scikit-image ships."""
    if name in ("china", "flower"):
        return load_sample_image(f"{name}.jpg")
    return getattr(skimage_data, name)()


def folder_images(folder):
    """Sorted image paths in ``folder``."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


@functools.cache
def folder_image(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def image_names(images_dir):
    """The images of the run: the shipped ones, or the folder's when one is given."""
    if images_dir:
        return [str(path) for path in folder_images(images_dir)]
    return list(SHIPPED_IMAGES)


def image(name):
    return shipped_image(name) if name in SHIPPED_IMAGES else folder_image(name)


def short_name(name):
    return Path(name).stem if name not in SHIPPED_IMAGES else name


def write_skimage_photos(folder):
    """Save :data:`SKIMAGE_PHOTOS` as PNG files in ``folder`` (made if missing); their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, load in SKIMAGE_PHOTOS.items():
        paths.append(folder / f"{name}.png")
        Image.fromarray(load()).save(paths[-1])
    return paths


def large_size(megapixels):
    """(width, height) of a 3:2 image of about ``megapixels`` million pixels."""
    width = round((megapixels * 1e6 * 1.5) ** 0.5)
    return width, round(width / 1.5)


def large_mosaic(megapixels, folder):
    """A PNG in ``folder`` of about ``megapixels`` million pixels: the four shipped images,
    each resampled (Lanczos) to a quarter of it, in a 2 × 2 mosaic.  Made once per folder."""
    width, height = large_size(megapixels)
    path = Path(folder) / f"mosaic-{width}x{height}.png"
    if not path.exists():
        mosaic = Image.new("RGB", (width, height))
        half_w, half_h = width // 2, height // 2
        for i, name in enumerate(SHIPPED_IMAGES):
            left, top = (i % 2) * half_w, (i // 2) * half_h
            tile_size = (width - half_w if i % 2 else half_w, height - half_h if i // 2 else half_h)
            tile = Image.fromarray(shipped_image(name)).resize(tile_size, Image.Resampling.LANCZOS)
            mosaic.paste(tile, (left, top))
        mosaic.save(path, compress_level=1)
    return path


def tiled_china(n_rows):
    """Pixels of ``china.jpg`` tiled (or cut) to ``n_rows`` rows."""
    pixels = shipped_image("china").reshape(-1, 3)
    return np.tile(pixels, (int(np.ceil(n_rows / pixels.shape[0])), 1))[:n_rows]


@functools.cache
def blobs(n_features, n_samples=100_000, n_centers=100, seed=0):
    """Gaussian blobs: ``n_centers`` centers in a box of side 20, unit spread."""
    X, _ = make_blobs(
        n_samples=n_samples,
        n_features=n_features,
        centers=n_centers,
        center_box=(-10, 10),
        cluster_std=1.0,
        random_state=seed,
    )
    return X


def tfidf_like(n_samples, n_features, density, n_topics=20, seed=0):
    """Rows like TF-IDF vectors of documents: ``density`` · n_features nonzeros per row, most
    of them drawn from the columns of the row's topic (each topic favors its own 5 % of the
    columns, with Zipf-like weights), the rest anywhere; values exponential, each row scaled
    to length 1.  CSR, float64."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    nnz = max(1, round(density * n_features))
    topic_columns = rng.integers(0, n_features, (n_topics, max(nnz, n_features // 20)))
    popularity = 1.0 / np.arange(1, topic_columns.shape[1] + 1)
    popularity /= popularity.sum()
    topics = rng.integers(0, n_topics, n_samples)
    picks = rng.choice(topic_columns.shape[1], (n_samples, nnz), p=popularity)
    columns = topic_columns[topics[:, None], picks]
    anywhere = rng.random((n_samples, nnz)) < 0.2
    columns[anywhere] = rng.integers(0, n_features, anywhere.sum())
    rows = np.repeat(np.arange(n_samples), nnz)
    X = sp.csr_matrix(
        (rng.exponential(1.0, rows.size), (rows, columns.ravel())), shape=(n_samples, n_features)
    )
    X.sum_duplicates()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    return sp.csr_matrix(sp.diags(1.0 / norms) @ X)


if __name__ == "__main__":  # python -m benchmarks.datasets FOLDER: scikit-image's photos there
    import sys

    for path in write_skimage_photos(sys.argv[1]):
        print(path)
