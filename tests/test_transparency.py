"""Transparency as libimagequant treats it (see ``kmeans_scratch/compression/_alpha.py``),
at every k, with and without dithering, through the API, the files and the command."""

import io

import numpy as np
import pytest
from PIL import Image

from kmeans_scratch.compression import compress
from kmeans_scratch.compression._alpha import GIF_ALPHA_THRESHOLD
from kmeans_scratch.compression.cli import main

from .helpers import image_array, png_16bit

KS = (2, 3, 4, 8, 16, 32, 64, 128, 256)


def cutout(translucent_edge=True, seed=0):
    """A 128 × 128 RGBA photo: a disk, opaque inside, fully transparent outside, with an
    antialiased (translucent) rim or a hard edge; the transparent pixels' RGB is noise."""
    rng = np.random.RandomState(seed)
    rgba = np.zeros((128, 128, 4), dtype=np.uint8)
    rgba[..., :3] = image_array("astronaut")[::4, ::4][:128, :128]
    yy, xx = np.mgrid[:128, :128]
    distance = np.hypot(yy - 64, xx - 60)
    if translucent_edge:
        rgba[..., 3] = np.clip((52 - distance) * 255 / 10, 0, 255).astype(np.uint8)
    else:
        rgba[..., 3] = np.where(distance < 52, 255, 0)
    invisible = rgba[..., 3] == 0
    rgba[invisible, :3] = rng.randint(0, 256, (invisible.sum(), 3))
    return rgba


def alpha_kept(original, alpha_out):
    """Whether every transparent pixel stayed alpha 0 and every opaque one alpha 255."""
    alpha_in = original[..., -1]
    return bool((alpha_out[alpha_in == 0] == 0).all() and (alpha_out[alpha_in == 255] == 255).all())


@pytest.mark.parametrize("dither", [False, True])
@pytest.mark.parametrize("k", KS)
def test_alpha_0_and_255_are_kept_and_one_entry_is_transparent(k, dither):
    rgba = cutout()
    result = compress(rgba, k, dither=dither)
    out = result.to_array()
    assert alpha_kept(rgba, out[..., 3])
    assert (result.palette[:, 3] == 0).sum() == 1
    assert result.palette.shape[0] == k
    translucent = (rgba[..., 3] > 0) & (rgba[..., 3] < 255)
    translucent_entries = ((result.palette[:, 3] > 0) & (result.palette[:, 3] < 255)).any()
    if dither and translucent_entries:  # dithering never changes a pixel's alpha class
        assert ((out[..., 3][translucent] > 0) & (out[..., 3][translucent] < 255)).all()
    if k >= 16:  # with entries to spare, the rim keeps its gradient of opacity (mean alpha
        # error 20 at k = 16, 14 at 32; libimagequant's 18 and 13; no rim entry: about 100)
        error = np.abs(out[..., 3][translucent].astype(int) - rgba[..., 3][translucent])
        assert error.mean() < 25


@pytest.mark.parametrize("k", [2, 4, 16, 256])
def test_gray_and_alpha_keeps_alpha_0_and_255(k):
    rgba = cutout()
    gray_alpha = np.dstack([rgba[..., :3].mean(axis=2).astype(np.uint8), rgba[..., 3]])
    for dither in (False, True):
        result = compress(gray_alpha, k, dither=dither)
        assert result.mode == "LA" and (result.palette[:, 1] == 0).sum() == 1
        assert alpha_kept(gray_alpha, result.to_array()[..., 1])


@pytest.mark.parametrize("k", [2, 5, 16, 64])
def test_the_visible_area_is_quantized_as_if_alone(k):
    """Transparent pixels cost one entry and nothing else: the opaque entries are exactly
    the palette of the opaque pixels alone at k − 1."""
    rgba = cutout(translucent_edge=False)
    opaque = rgba[..., 3] == 255
    alone = compress(rgba[..., :3][opaque][None, :, :], k - 1)
    result = compress(rgba, k)
    entries = result.palette[result.palette[:, 3] == 255, :3]
    np.testing.assert_array_equal(entries, alone.palette)


def test_the_color_of_invisible_pixels_changes_nothing():
    first, second = cutout(seed=0), cutout(seed=1)
    assert not np.array_equal(first, second)
    for dither in (False, True):
        one, other = compress(first, 16, dither=dither), compress(second, 16, dither=dither)
        np.testing.assert_array_equal(one.palette, other.palette)
        np.testing.assert_array_equal(one.indices, other.indices)
        assert one.encode("png") == other.encode("png")


def test_colors_are_compared_premultiplied():
    """Nearly invisible pixels of very different colors are nearly alike: at 3 colors,
    the opaque halves get the two visible entries, and the faint pixels share one."""
    rgba = np.zeros((40, 60, 4), dtype=np.uint8)
    rgba[:, :20] = (250, 10, 10, 255)
    rgba[:, 20:40] = (10, 10, 250, 255)
    rgba[:, 40:, :3] = np.random.RandomState(0).randint(0, 256, (40, 20, 3))
    rgba[:, 40:, 3] = 3
    result = compress(rgba, 3)
    out = result.to_array()
    np.testing.assert_array_equal(out[:, :40], rgba[:, :40])
    assert len(np.unique(out[:, 40:].reshape(-1, 4), axis=0)) == 1
    assert out[0, 45, 3] == 3


def decoded_alpha(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))[..., 3]


@pytest.mark.parametrize("k", [2, 4, 8, 16, 256])
def test_gif_has_one_transparent_index_for_alpha_below_the_threshold(k):
    rgba = cutout()
    expected = np.where(rgba[..., 3] < GIF_ALPHA_THRESHOLD, 0, 255)
    for dither in (False, True):
        for_gif = compress(rgba, k, dither=dither, format="gif")
        np.testing.assert_array_equal(decoded_alpha(for_gif.encode("gif")), expected)
        assert set(for_gif.palette[:, 3].tolist()) == {0, 255}
    # a palette made for PNG, written as GIF: its faint entries all become the one index
    for_png = compress(rgba, k)
    gif_alpha = decoded_alpha(for_png.encode("gif"))
    entry_alpha = for_png.to_array()[..., 3]
    np.testing.assert_array_equal(gif_alpha, np.where(entry_alpha < GIF_ALPHA_THRESHOLD, 0, 255))


@pytest.mark.slow
def test_the_command_keeps_alpha_in_png_and_gif(tmp_path, capsys):
    rgba = cutout()
    gray_alpha = np.dstack([rgba[..., :3].mean(axis=2).astype(np.uint8), rgba[..., 3]])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(gray_alpha, "LA").save(tmp_path / "la.png")
    (tmp_path / "rgba16.png").write_bytes(png_16bit(rgba.astype(np.uint16) * 257))
    sources = {"rgba": rgba, "la": gray_alpha, "rgba16": rgba}
    for k in (2, 8, 64):
        names = [str(tmp_path / f"{stem}.png") for stem in sources]
        assert main([*names, "-k", str(k), "--floyd", f"--ext=-{k}.png"]) == 0
        assert main([*names, "-k", str(k), "--format", "gif", f"--ext=-{k}.gif"]) == 0
        for stem, pixels in sources.items():
            png = (tmp_path / f"{stem}-{k}.png").read_bytes()
            assert alpha_kept(pixels, decoded_alpha(png))
            gif = (tmp_path / f"{stem}-{k}.gif").read_bytes()
            expected = np.where(pixels[..., -1] < GIF_ALPHA_THRESHOLD, 0, 255)
            np.testing.assert_array_equal(decoded_alpha(gif), expected)
    capsys.readouterr()
