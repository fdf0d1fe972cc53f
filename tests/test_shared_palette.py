"""One palette for many images (``compress_many(shared_palette=True)``, ``--shared-palette``).

The oracle: the images' merged histogram is the histogram of one image made of all their
rows, so the shared palette must be the palette :func:`compress` gives that image, and
each image's indices its rows of that image's indices.
"""

import signal

import numpy as np
import pytest
from PIL import Image

from kmeans_scratch.compression import ImageError, compress, compress_many
from kmeans_scratch.compression._image import with_channels
from kmeans_scratch.compression._pool import Stopped
from kmeans_scratch.compression._shared import fit_shared, image_histogram, shared_outcomes
from kmeans_scratch.compression.cli import main

from .helpers import image_array

HEIGHT, WIDTH = 60, 150


def photo(name):
    """A small (60, 150, 3) piece of a sample photo."""
    return np.ascontiguousarray(image_array(name)[::4, ::4][:HEIGHT, :WIDTH])


def translucent(pixels):
    """``pixels`` with an alpha channel: opaque on the left, fading to clear on the right."""
    alpha = np.clip(np.linspace(400, -40, pixels.shape[1]), 0, 255).astype(np.uint8)
    return np.dstack([pixels, np.broadcast_to(alpha, pixels.shape[:2])])


def saved(folder, arrays):
    folder.mkdir(exist_ok=True)
    paths = []
    for name, array in arrays.items():
        paths.append(folder / f"{name}.png")
        Image.fromarray(array).save(paths[-1])
    return paths


def palette_chunks(path):
    """What a decoder sees of a file's palette: its RGB entries and their alpha."""
    with Image.open(path) as image:
        return image.getpalette(), image.info.get("transparency")


def decoded(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))


@pytest.fixture
def photos(tmp_path):
    names = ("china", "flower", "coffee")
    return saved(tmp_path / "in", {name: photo(name) for name in names})


@pytest.mark.parametrize("n_colors", [8, 200])
def test_the_shared_palette_is_the_palette_of_all_the_images_together(photos, tmp_path, n_colors):
    rows = compress_many(photos, n_colors, out_dir=tmp_path / "out", shared_palette=True)
    together = compress(np.vstack([np.asarray(Image.open(path)) for path in photos]), n_colors)
    assert [row["input"] for row in rows] == [str(path) for path in photos]
    for number, row in enumerate(rows):
        assert "error" not in row
        assert together.palette.shape[0] <= n_colors
        assert row["palette_shared_by"] == 3 and row["notes"] == []
        with Image.open(row["output"]) as image:
            palette = np.array(image.getpalette(), dtype=np.uint8).reshape(-1, 3)
            indices = np.asarray(image)
        assert row["colors_used"] == np.unique(indices).size
        np.testing.assert_array_equal(palette[: together.palette.shape[0]], together.palette)
        np.testing.assert_array_equal(indices, together.indices[number * HEIGHT :][:HEIGHT])


def test_every_output_keeps_the_whole_palette_in_the_same_order(tmp_path):
    # One image uses a few entries only: its PNG must still carry all of them.
    sky = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    sky[:, :, 2] = np.linspace(120, 255, WIDTH).astype(np.uint8)
    inputs = saved(tmp_path / "in", {"china": photo("china"), "sky": sky})
    for fmt in ("png", "gif"):
        rows = compress_many(inputs, 32, out_dir=tmp_path / fmt, format=fmt, shared_palette=True)
        chunks = [palette_chunks(row["output"]) for row in rows]
        assert chunks[0] == chunks[1]
        assert len(chunks[0][0]) == 3 * 32
        with Image.open(rows[1]["output"]) as image:
            assert len(np.unique(np.asarray(image))) < 32


def ramp(channel):
    """A (20, 32, 3) image of 16 levels of one channel, two columns each."""
    pixels = np.zeros((20, 32, 3), dtype=np.uint8)
    pixels[:, :, channel] = np.repeat(np.arange(16, dtype=np.uint8) * 16 + 15, 2)
    return pixels


@pytest.mark.parametrize("dither", [False, True])
def test_colors_used_counts_the_entries_an_image_uses_not_the_palette(tmp_path, dither):
    # A shared palette keeps every entry in every file: reds and blues share 32 entries,
    # and each image uses its 16 only.
    inputs = saved(tmp_path / "in", {"reds": ramp(0), "blues": ramp(2)})
    rows = compress_many(inputs, 32, out_dir=tmp_path / "out", shared_palette=True, dither=dither)
    for row in rows:
        with Image.open(row["output"]) as image:
            assert len(image.getpalette()) == 3 * 32
            indices = np.asarray(image)
        assert row["colors_used"] == np.unique(indices).size
        if not dither:
            assert row["colors_used"] == 16 < 32
    # One image, its own palette: the count of its distinct indices as well.
    for pixels in (photo("china"), ramp(0)):
        result = compress(pixels, 64, dither=dither)
        assert result.metrics["colors_used"] == np.unique(result.indices).size


def test_the_result_does_not_depend_on_the_order_of_the_files(photos, tmp_path):
    forward = compress_many(photos, 16, out_dir=tmp_path / "a", shared_palette=True)
    backward = compress_many(photos[::-1], 16, out_dir=tmp_path / "b", shared_palette=True)
    for row in forward:
        twin = tmp_path / "b" / (row["output"].rsplit("/", 1)[1])
        assert twin.read_bytes() == open(row["output"], "rb").read()
    assert len(backward) == 3


def test_gray_color_and_alpha_images_share_one_palette_widened(tmp_path):
    gray = photo("coffee").mean(axis=2).astype(np.uint8)
    arrays = {"a_gray": gray, "b_color": photo("china"), "c_alpha": translucent(photo("flower"))}
    inputs = saved(tmp_path / "in", arrays)
    rows = compress_many(inputs, 24, out_dir=tmp_path / "out", shared_palette=True)
    widened = [with_channels(np.atleast_3d(array), 4) for array in arrays.values()]
    together = compress(np.vstack(widened), 24)
    assert together.mode == "RGBA"
    first = palette_chunks(rows[0]["output"])
    for number, row in enumerate(rows):
        assert palette_chunks(row["output"]) == first
        expected = together.to_array()[number * HEIGHT :][:HEIGHT]
        np.testing.assert_array_equal(decoded(row["output"]), expected)


def test_a_broken_file_is_named_and_the_others_share_the_palette_of_the_rest(photos, tmp_path):
    broken = photos[0].parent / "broken.png"
    broken.write_bytes(b"not a png")
    rows = compress_many(
        [photos[0], broken, *photos[1:]], 16, out_dir=tmp_path / "out", shared_palette=True
    )
    assert "broken.png" in rows[1]["error"]
    without = compress_many(photos, 16, out_dir=tmp_path / "without", shared_palette=True)
    kept = [row for row in rows if "error" not in row]
    assert [row["psnr"] for row in kept] == [row["psnr"] for row in without]
    assert kept[0]["palette_shared_by"] == 3


def test_an_existing_output_is_refused_before_the_fit_and_the_others_share_a_palette(
    photos, tmp_path, capsys
):
    """A file whose output exists (no --force) gets its error before any image is read,
    and takes no part in the palette: the others' outputs are those of a batch without
    it (the fit of all three ran first, and the refusal came only when its turn to be
    written came)."""
    without = tmp_path / "without"
    compress_many(photos[1:], 16, out_dir=without, shared_palette=True)
    out = tmp_path / "out"
    out.mkdir()
    existing = out / f"{photos[0].stem}-k16.png"
    existing.write_bytes(b"keep me")
    rows = compress_many(photos, 16, out_dir=out, shared_palette=True)
    assert "exists" in rows[0]["error"] and existing.read_bytes() == b"keep me"
    assert [row["palette_shared_by"] for row in rows[1:]] == [2, 2]
    for path in without.iterdir():
        assert (out / path.name).read_bytes() == path.read_bytes()
    for path in out.iterdir():
        path.unlink()
    (out / f"{photos[1].stem}-k16.png").write_bytes(b"keep me too")
    names = [str(path) for path in photos]
    assert main([*names, "-k", "16", "--shared-palette", "-q", "--out-dir", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{photos[1].stem}-k16.png" in err[0] and "exists" in err[0]
    assert (out / f"{photos[1].stem}-k16.png").read_bytes() == b"keep me too"
    with Image.open(out / f"{photos[0].stem}-k16.png") as image:
        assert len(image.getpalette()) // 3 <= 16


def test_a_stop_before_the_palette_counts_no_file_done(photos):
    """A signal while the histograms are taken: ``run`` counted histograms done, but no
    file is written before the palette, and the command's summary must say 0."""

    def stopped_run(function, argument_lists):
        yield True, function(*argument_lists[0])
        stop = Stopped(signal.SIGINT)
        stop.ahead = [(True, "a histogram")]  # as map_in_workers tells it
        raise stop

    outcomes = shared_outcomes(photos, photos, stopped_run, None, 16, {}, lambda task: None)
    with pytest.raises(Stopped) as stopped:
        next(outcomes)
    assert stopped.value.ahead == []


def test_an_image_changed_after_its_histogram_is_refused(photos):
    histograms = [image_histogram(path) for path in photos[:2]]
    shared = fit_shared(histograms, 16)
    assert shared.quantize(photos[1]).palette is shared.palette
    with pytest.raises(ImageError, match="colors the shared palette's histograms did not"):
        shared.quantize(photos[2])


def test_targets_do_not_go_with_compress_many_and_are_refused_before_any_work(photos):
    """A quality target chooses k per image: compress_many takes a number of colors, and
    says so once, before any file is read (it raised that 'auto' was not 'auto', or gave
    every file the error)."""
    cases = [
        ((16,), {"shared_palette": True, "target_psnr": 30}, "not target_psnr"),
        ((16,), {"target_psnr": 30}, "not target_psnr"),
        (("auto",), {"target_ssim": 0.9}, "not target_ssim"),
        (("auto",), {}, "not auto"),
    ]
    for arguments, options, what in cases:
        with pytest.raises(ValueError, match=f"compress_many takes a number of colors, {what}"):
            compress_many(photos, *arguments, **options)
    assert not any("-k" in path.name for path in photos[0].parent.iterdir())


def test_the_command_writes_the_api_files(photos, tmp_path):
    names = [str(path) for path in photos]
    args = ["-k", "16", "--shared-palette", "-q", "--dither"]
    assert main([*names, *args, "--out-dir", str(tmp_path / "cli")]) == 0
    compress_many(photos, 16, out_dir=tmp_path / "api", dither=True, shared_palette=True)
    for path in (tmp_path / "api").iterdir():
        assert (tmp_path / "cli" / path.name).read_bytes() == path.read_bytes()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--target-psnr", "30"], "--shared-palette takes -k/--colors"),
        (["--sweep", "4,8"], "--shared-palette does not go with --sweep"),
    ],
)
def test_command_usage_errors_are_one_line(photos, capsys, extra, message):
    assert main([str(photos[0]), "--shared-palette", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_standard_input_does_not_go_with_a_shared_palette(capsys):
    assert main(["-", "--shared-palette"]) == 2
    assert "not with - (standard input)" in capsys.readouterr().err
