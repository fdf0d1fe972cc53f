"""Palette files: what is written decodes to exactly what was computed, in the fewest bits."""

import io
import struct
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile

from kmeans_scratch.compression import ImageError, compress, load

from .helpers import image_array, padded_profile, png_16bit


def png_header(data):
    """(bit depth, color type) from a PNG's IHDR."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return data[24], data[25]


def png_chunks(data):
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        chunks.append(data[offset + 4 : offset + 8].decode("ascii"))
        offset += 12 + length
    return chunks


def decode(data):
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.copy()


@pytest.mark.parametrize(
    "n_colors, bits", [(1, 1), (2, 1), (3, 2), (4, 2), (5, 4), (16, 4), (17, 8), (256, 8)]
)
def test_png_bit_depth_is_the_smallest_and_decodes_exactly(n_colors, bits):
    pixels = image_array("china")[::2, ::2]
    result = compress(pixels, n_colors)
    assert result.palette.shape[0] == n_colors  # the image has far more colors than k
    data = result.encode("png")
    assert png_header(data) == (bits, 3)  # color type 3: indexed, the smallest bit depth
    decoded = decode(data)
    assert decoded.mode == "P"
    np.testing.assert_array_equal(np.asarray(decoded.convert("RGB")), result.to_array())
    in_memory = result.to_pil()
    assert in_memory.mode == "P"
    np.testing.assert_array_equal(np.asarray(in_memory.convert("RGB")), result.to_array())


def test_rgba_alpha_is_clustered_and_written_as_trns(tmp_path):
    rng = np.random.RandomState(0)
    rgba = np.zeros((60, 80, 4), dtype=np.uint8)
    rgba[..., :3] = image_array("coffee")[:60, :80]
    rgba[..., 3] = np.linspace(0, 255, 80, dtype=np.uint8)[None, :]
    rgba[:10, :10, 3] = 0
    rgba[..., 3] = np.clip(rgba[..., 3].astype(int) + rng.randint(-3, 4, (60, 80)), 0, 255)
    result = compress(rgba, 32)
    assert result.mode == "RGBA" and result.palette.shape[1] == 4
    data = result.encode("png")
    assert "tRNS" in png_chunks(data)
    decoded = np.asarray(decode(data).convert("RGBA"))
    np.testing.assert_array_equal(decoded, result.to_array())
    assert np.abs(decoded[..., 3].astype(int) - rgba[..., 3]).mean() < 8


def test_gray_and_gray_alpha_round_trip():
    gray = image_array("astronaut").mean(axis=2).astype(np.uint8)
    result = compress(gray, 5)
    decoded = decode(result.encode("png"))
    np.testing.assert_array_equal(np.asarray(decoded.convert("L")), result.to_array())
    assert png_header(result.encode("png")) == (4, 3)
    la = np.dstack([gray, np.where(gray > 100, 255, 0).astype(np.uint8)])
    result = compress(la, 7)
    assert result.mode == "LA" and result.palette.shape == (7, 2)
    np.testing.assert_array_equal(
        np.asarray(decode(result.encode("png")).convert("LA")), result.to_array()
    )


def test_gif_and_webp(tmp_path):
    pixels = image_array("flower")
    result = compress(pixels, 16)
    gif = decode(result.encode("gif"))
    np.testing.assert_array_equal(np.asarray(gif.convert("RGB")), result.to_array())
    webp = decode(result.encode("webp"))
    np.testing.assert_array_equal(np.asarray(webp.convert("RGB")), result.to_array())
    many = compress(pixels, 400, format="webp")
    assert many.metrics["colors_used"] == 400
    np.testing.assert_array_equal(np.asarray(decode(many.encode("webp"))), many.to_array())
    with pytest.raises(ValueError, match="at most 256 colors"):
        compress(pixels, 400)
    with pytest.raises(ValueError, match="cannot be a PNG palette"):
        many.encode("png")


def test_save_is_atomic_and_refuses_to_overwrite(tmp_path):
    result = compress(image_array("coffee"), 8)
    path = tmp_path / "out.png"
    assert result.save(path) == path.stat().st_size
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        result.save(path)
    assert path.read_bytes() == before
    result.save(path, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]  # no temporary left
    with pytest.raises(ValueError, match="unknown format 'bmp'"):
        result.save(tmp_path / "out.bmp")


def write(tmp_path, name, image, **params):
    path = tmp_path / name
    image.save(path, **params)
    return path


def test_modes_p_cmyk_16bit_exif_icc_and_animation(tmp_path):
    rgb = Image.fromarray(image_array("china")[:120, :160])
    # P with transparency
    palette_image = rgb.quantize(20)
    palette_image.info["transparency"] = 3
    path = write(tmp_path, "p.png", palette_image, transparency=3)
    assert load(path).mode == "RGBA"
    # CMYK JPEG
    assert load(write(tmp_path, "cmyk.jpg", rgb.convert("CMYK"))).mode == "RGB"
    # 16-bit gray
    wide = (np.asarray(rgb.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    loaded = load(write(tmp_path, "g16.png", Image.fromarray(wide)))
    assert loaded.mode == "L" and "16-bit gray reduced to 8 bits" in loaded.notes
    np.testing.assert_array_equal(loaded.pixels[..., 0], np.asarray(rgb.convert("L")))
    # EXIF orientation 6: stored landscape, shown portrait
    exif = Image.Exif()
    exif[0x0112] = 6
    loaded = load(write(tmp_path, "rotated.jpg", rgb, exif=exif))
    assert loaded.pixels.shape[:2] == (160, 120)
    # ICC profile carried to the output
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = write(tmp_path, "icc.png", rgb, icc_profile=icc)
    data = compress(path, 8).encode("png")
    assert "iCCP" in png_chunks(data)
    assert decode(data).info.get("icc_profile") == icc
    # animation: the first frame, and the report says so
    frames = [rgb, rgb.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    assert "first of 2 frames kept (1 dropped)" in compress(path, 4).metrics["notes"]


@pytest.mark.parametrize("mode", ["RGB", "L", "I;16"])
def test_a_color_key_makes_those_pixels_transparent(tmp_path, mode):
    """PNG's tRNS on an RGB or gray image (no alpha channel) marks one color
    transparent: those pixels stay transparent in the output, as pngquant keeps them."""
    gray = np.asarray(Image.fromarray(image_array("coffee")[:90, :120]).convert("L"))
    gray = (gray // 32 * 32).astype(np.uint8)  # few levels: many pixels on the key
    if mode == "RGB":
        image, key = Image.fromarray(np.stack([gray] * 3, axis=-1)), (64, 64, 64)
    elif mode == "L":
        image, key = Image.fromarray(gray), 64
    else:
        image, key = Image.fromarray(gray.astype(np.uint16) * 257), 64 * 257
    keyed = gray == 64
    assert keyed.sum() > 100
    path = write(tmp_path, "keyed.png", image, transparency=key)
    loaded = load(path)
    assert loaded.pixels.shape[-1] in (2, 4)
    np.testing.assert_array_equal(loaded.pixels[..., -1] == 0, keyed)
    with Image.open(io.BytesIO(compress(path, 8).encode("png"))) as written:
        alpha = np.asarray(written.convert("RGBA"))[..., -1]
    np.testing.assert_array_equal(alpha == 0, keyed)


def test_32_bit_gray_beyond_16_bits_is_stretched_not_clipped(tmp_path):
    gray = np.asarray(Image.fromarray(image_array("coffee")[:90, :120]).convert("L"))
    wide = gray.astype(np.int32) * 1000 + 1000  # 1,000 … 256,000
    loaded = load(write(tmp_path, "wide.tif", Image.fromarray(wide, "I")))
    low, high = int(wide.min()), int(wide.max())
    assert f"32-bit gray in [{low}, {high}] stretched to 0..255" in loaded.notes
    expected = np.rint((wide - low) * (255.0 / (high - low)))
    np.testing.assert_array_equal(loaded.pixels[..., 0], expected)


def test_a_gif_says_its_partial_transparency_was_rounded():
    rgba = np.dstack([image_array("coffee")[:60, :80], np.full((60, 80), 255, np.uint8)])
    rgba[:30, :, 3] = 100  # half the image translucent
    notes = compress(rgba, 8, format="gif").metrics["notes"]
    assert any(note.startswith("GIF has no partial transparency") for note in notes)
    rgba[:30, :, 3] = 0  # on/off already: nothing to say
    assert compress(rgba, 8, format="gif").metrics["notes"] == []


def test_a_png_with_a_profile_of_megabytes_is_read_and_the_profile_applied(tmp_path):
    # Pillow refuses by default a PNG chunk that decompresses to over 1 MiB ("Decompressed
    # data too large for PngImagePlugin.MAX_TEXT_CHUNK"): a valid 3 MB profile was refused.
    from PIL import PngImagePlugin

    profile = padded_profile(3 * 1024 * 1024)
    ImageCms.ImageCmsProfile(io.BytesIO(profile))  # a profile lcms reads
    pixels = image_array("china")[:40, :60]
    path = write(tmp_path, "big-profile.png", Image.fromarray(pixels), icc_profile=profile)
    default_limit = PngImagePlugin.MAX_TEXT_CHUNK
    result = compress(path, 4)
    assert PngImagePlugin.MAX_TEXT_CHUNK == default_limit  # restored after decoding
    size = f"{len(profile):,}-byte ICC profile"
    note = f"converted to sRGB through its {size}, which is not kept (over 64 KiB)"
    assert note in result.metrics["notes"]
    assert result.icc_profile is None
    assert "iCCP" not in png_chunks(result.encode("png"))
    # A chunk that decompresses to more than the raised limit is still refused.
    bomb = padded_profile(40 * 1024 * 1024)
    path = write(tmp_path, "bomb-profile.png", Image.fromarray(pixels), icc_profile=bomb)
    with pytest.raises(ImageError, match="Decompressed data too large"):
        load(path)
    assert PngImagePlugin.MAX_TEXT_CHUNK == default_limit


def test_16bit_rgb_png(tmp_path):
    eight = image_array("coffee")[:50, :70]
    path = tmp_path / "rgb16.png"
    path.write_bytes(png_16bit(eight.astype(np.uint16) * 257))
    loaded = load(path)
    assert loaded.mode == "RGB" and loaded.notes == ["16-bit color reduced to 8 bits"]
    np.testing.assert_array_equal(loaded.pixels, eight)
    assert compress(path, 8).metrics["colors_used"] == 8
    tiff = tmp_path / "rgb8.tif"
    Image.fromarray(eight).save(tiff)
    assert load(tiff).notes == []  # 8 bits: no note


def test_bad_files_name_the_file(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "noise.jpg").write_bytes(np.random.RandomState(0).bytes(5000))
    good = tmp_path / "good.png"
    Image.fromarray(image_array("coffee")).save(good)
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    cases = {
        "missing.png": "no such file",
        "empty.png": "not an image",
        "noise.jpg": "not an image",
        "cut.png": "truncated or corrupt",
        ".": "is a folder",
    }
    for name, reason in cases.items():
        with pytest.raises(ImageError, match=reason) as caught:
            load(tmp_path / name)
        assert str(tmp_path / name) in str(caught.value) or name == "."
    with pytest.raises(ImageError, match="over the limit of 1,000 pixels"):
        load(good, max_pixels=1000)


def test_memory_estimate_refuses_before_decoding(tmp_path, monkeypatch):
    from kmeans_scratch.compression import _image, _png_read

    path = tmp_path / "photo.png"
    Image.fromarray(image_array("china")).save(path)
    needed = _image.estimated_peak_bytes(640, 427, 3)
    assert needed == 20 * 640 * 427 + 16 * 640 * 427  # under 4 MP: the radix sort
    assert _image.estimated_peak_bytes(6000, 4000, 3) == 20 * 24_000_000 + (64 << 20)
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self))
    monkeypatch.setattr(_png_read, "inflated", lambda *args: decoded.append(args))
    with pytest.raises(ImageError, match=r"photo.png: 640×427 pixels would need about 9.4 MiB"):
        load(path, max_memory=needed - 1)
    assert decoded == []  # refused before a pixel was decoded
    monkeypatch.undo()
    assert load(path, max_memory=needed).pixels.shape == (427, 640, 3)
    # By default the limit is the memory available now.
    monkeypatch.setattr(_image, "available_memory", lambda: 1000)
    with pytest.raises(ImageError, match="more than the memory available now"):
        load(path)


def test_large_images_get_the_fast_png_pass_and_decode_exactly():
    from kmeans_scratch.compression._encode import encode, one_pass_level
    from kmeans_scratch.compression._speed import FULL_EFFORT_PIXELS

    assert one_pass_level(FULL_EFFORT_PIXELS, speed=1) is None  # oxipng's search
    for speed in (1, 4, 11):
        assert one_pass_level(FULL_EFFORT_PIXELS + 1, speed) is not None
    # the speed's deflate level; from speed 4 at most 10, and at most 7 above 2 megapixels
    assert [one_pass_level(2_000_000, speed) for speed in (1, 3, 4, 6, 11)] == [12, 12, 10, 7, 1]
    assert [one_pass_level(5_000_000, speed) for speed in (1, 2, 4, 11)] == [12, 12, 7, 1]
    rng = np.random.RandomState(0)
    palette = rng.randint(0, 256, size=(200, 3)).astype(np.uint8)
    indices = (np.arange(1100 * 1000) // 777 % 200).astype(np.uint8).reshape(1000, 1100)
    data = encode(palette, indices, "RGB", "png")
    assert png_header(data) == (8, 3)  # 8-bit palette
    np.testing.assert_array_equal(np.asarray(decode(data).convert("RGB")), palette[indices])


@pytest.mark.parametrize("shape", [(40, 30), (1000, 1100)])  # full effort, the fast pass
def test_unused_entries_leave_the_png_palette_unless_kept(shape):
    from kmeans_scratch.compression._encode import encode

    rng = np.random.RandomState(1)
    palette = rng.randint(0, 256, size=(20, 4)).astype(np.uint8)
    used = np.array([0, 3, 4, 11, 19])  # 5 of 20 entries: 3 bits would do, PNG takes 4
    indices = used[rng.randint(0, used.size, size=shape)].astype(np.uint8)
    expected = palette[indices]
    data = encode(palette, indices, "RGBA", "png")
    image = decode(data)
    assert png_header(data) == (4, 3) and len(image.getpalette()) == 3 * used.size
    np.testing.assert_array_equal(np.asarray(image.convert("RGBA")), expected)
    kept = encode(palette, indices, "RGBA", "png", keep_palette=True)
    image = decode(kept)
    assert png_header(kept) == (8, 3)  # 20 entries need 8 bits
    np.testing.assert_array_equal(np.asarray(image), indices)  # the entries in their order
    assert image.getpalette()[: 3 * 20] == palette[:, :3].ravel().tolist()
    np.testing.assert_array_equal(np.asarray(image.convert("RGBA")), expected)


def test_a_png_is_read_and_written_without_pillows_other_formats(tmp_path):
    """A PNG goes to Pillow's PNG reader directly and the palette PNG is written from the
    raw indices: a fresh process that compresses one imports none of the readers and writers
    that ``Image.open`` and ``Image.save`` load first.  A JPEG still opens, through
    ``Image.open``."""
    source = tmp_path / "photo.png"
    photo = Image.fromarray(image_array("china")[:30, :40])
    photo.save(source)
    photo.save(tmp_path / "photo.jpg")
    script = (
        "import sys\n"
        "from kmeans_scratch.compression import compress, load\n"
        f"compress({str(source)!r}, 8).save({str(tmp_path / 'out.png')!r})\n"
        "others = ('Jpeg', 'Gif', 'Bmp', 'Ppm')\n"
        "print(sorted(m for m in sys.modules if m.startswith(tuple('PIL.' + o for o in others))))\n"
        f"print(load({str(tmp_path / 'photo.jpg')!r}).pixels.shape)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "(30, 40, 3)"]
    with Image.open(tmp_path / "out.png") as written:
        assert written.mode == "P" and written.size == (40, 30)
