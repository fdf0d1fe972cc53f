"""Data for the tests: images that the dependencies ship, and well-separated blobs.

No test reads ../shared or the network: scikit-learn ships ``china.jpg`` and
``flower.jpg``, scikit-image ships ``astronaut`` and ``coffee``.
"""

import functools
import struct
import zlib

import numpy as np
from skimage import data as skimage_data
from sklearn.datasets import load_sample_image, make_blobs

IMAGE_NAMES = ("china", "flower", "astronaut", "coffee")


@functools.cache
def image_array(name):
    """The (H, W, 3) uint8 image ``name``."""
    if name in ("china", "flower"):
        return load_sample_image(f"{name}.jpg")
    return getattr(skimage_data, name)()


def image_pixels(name, dtype=np.float64):
    """The pixels of image ``name`` as an (H*W, 3) array."""
    return image_array(name).reshape(-1, 3).astype(dtype)


def jittered_pixel_init(X, n_clusters, seed):
    """Initial centers: distinct pixels moved by less than half a level on each channel.

    Pixels are integers, so centers that are pixels put many other pixels at exactly
    equal distances from two centers.  scikit-learn breaks such exact ties by the rounding
    of its BLAS distance ``||c||² - 2 x·c``; this library computes ``||x - c||²`` directly
    and gives the tie to the lower index.  The two runs then follow different paths.  A
    fractional offset makes exact ties as unlikely as they are in real-valued data, so
    the two implementations can be compared step for step.
    """
    rng = np.random.RandomState(seed)
    rows = rng.choice(X.shape[0], n_clusters, replace=False)
    offsets = rng.uniform(-0.5, 0.5, size=(n_clusters, X.shape[1]))
    return (X[rows] + offsets).astype(X.dtype)


def blobs(n_samples, n_features, n_clusters, seed, dtype=np.float64):
    """Well-separated Gaussian blobs (unit spread, centers up to 40 apart per axis)."""
    X, _ = make_blobs(
        n_samples=n_samples,
        n_features=n_features,
        centers=n_clusters,
        cluster_std=1.0,
        center_box=(-20.0, 20.0),
        random_state=seed,
    )
    return X.astype(dtype)


def png_16bit(pixels):
    """A 16-bit-per-channel RGB or RGBA PNG of (H, W, 3 or 4) ``pixels``, written by hand
    (Pillow cannot write one)."""
    height, width, n_channels = pixels.shape
    raw = b"".join(b"\x00" + pixels[y].astype(">u2").tobytes() for y in range(height))

    def chunk(kind, body):
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    color_type = {3: 2, 4: 6}[n_channels]
    header = struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def padded_profile(extra_bytes):
    """A valid sRGB ICC profile made ``extra_bytes`` larger by a private tag ('zzzz') of
    zeros: lcms reads it, and its iCCP chunk, compressed, stays small."""
    from PIL import ImageCms

    data = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    (count,) = struct.unpack(">I", data[128:132])
    table = [struct.unpack(">4sII", data[132 + 12 * i : 144 + 12 * i]) for i in range(count)]
    body = data[132 + 12 * count :]
    # The tag table grows by one 12-byte entry: every tag's offset moves by 12.
    table = [(signature, offset + 12, size) for signature, offset, size in table]
    table.append((b"zzzz", 132 + 12 * (count + 1) + len(body), extra_bytes))
    out = bytearray(data[:128]) + struct.pack(">I", count + 1)
    for entry in table:
        out += struct.pack(">4sII", *entry)
    out += body + bytes(extra_bytes)
    out[0:4] = struct.pack(">I", len(out))
    return bytes(out)


def compress_and_say_whether_numba_started(path, out):
    """A batch worker's task for ``tests/test_ahead.py``: one file compressed, then
    whether the worker had to start Numba for it."""
    from kmeans_scratch._engine import numba_started
    from kmeans_scratch.compression import compress

    compress(path, 64).save(out)
    return numba_started()


def plain_lloyd_fit(monkeypatch, X, sample_weight=None, **params):
    """``KMeans(algorithm="lloyd", **params).fit(X)`` with Lloyd's step at every iteration,
    also on wide rows with many clusters (where "lloyd" runs Hamerly's step as it runs,
    ``_fit.lloyd_runs_hamerly``): the oracle of the bounded steps."""
    from kmeans_scratch import KMeans, _fit

    with monkeypatch.context() as patched:
        patched.setattr(_fit, "lloyd_runs_hamerly", lambda *shape: False)
        return KMeans(algorithm="lloyd", **params).fit(X, sample_weight=sample_weight)
