"""pngquant's conventions and the command's sharp edges, each through the command in a
real process: the exit status, the one stderr line, what is written (and what is not),
the input unchanged."""

import errno
import json
import math
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from kmeans_scratch.compression import compress

from .helpers import image_array, padded_profile

CLI = [sys.executable, "-m", "kmeans_scratch.compression.cli"]
PREFIX = "kmeans-compress: error: "


def run(*argv, cwd=None):
    done = subprocess.run(
        [*CLI, *map(os.fsdecode, argv)], capture_output=True, text=True, timeout=600, cwd=cwd
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def one_line(done):
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(image_array("coffee")[::4, ::4]).save(path)
    return path


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--dith"], "unrecognized arguments: --dith; did you mean --dither?"),
        (["--colour-space", "lab"], "did you mean --color-space?"),
        (["--seed", "-1"], "argument --seed: expected a whole number from 0 to 4294967295"),
        (["--target-psnr", "nan"], "argument --target-psnr: expected a number of dB above 0"),
        (["--target-psnr", "inf"], "argument --target-psnr: expected a number of dB above 0"),
        (["--target-ssim", "1.5"], "argument --target-ssim: expected a number above 0"),
        (["-k", "300", "--quality", "60-80"], "k=300: a PNG palette holds at most 256"),
        (["-o", "x.png", "--format", "webp"], "-o x.png says 'png' but --format says 'webp'"),
    ],
    ids=[
        "abbreviated",
        "misspelt",
        "seed",
        "psnr-nan",
        "psnr-inf",
        "ssim",
        "k-over-256-with-a-target",
        "-o-vs-format",
    ],
)
def test_usage_mistakes_exit_2_with_one_line_and_write_nothing(photo, argv, message):
    before = listing(photo.parent)
    done = run(photo, *argv, cwd=photo.parent)
    assert done.returncode == 2
    line = one_line(done)
    assert line.startswith(PREFIX) and message in line, line
    assert listing(photo.parent) == before


def test_an_option_near_no_other_gets_no_guess(photo):
    done = run(photo, "--bogus", cwd=photo.parent)
    assert done.returncode == 2
    assert "unrecognized arguments: --bogus (see" in one_line(done)  # no "did you mean"


def test_the_api_has_the_same_rule_for_k_and_a_target(photo):
    """As the command's ``-k 16 --target-psnr 60``: k with a target is the most colors."""
    assert compress(photo, 16, target_psnr=60).metrics["n_colors"] == 16
    with pytest.raises(ValueError, match="n_colors='auto' needs exactly one"):
        compress(photo, "auto")


def test_f_is_force(photo):
    assert run(photo, "-k", "4").returncode == 0
    assert run(photo, "-k", "4").returncode == 1
    assert run(photo, "-k", "4", "-f").returncode == 0


def test_skip_if_larger_exits_98_and_writes_nothing(tmp_path):
    tiny = tmp_path / "flat.png"
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(tiny, optimize=True)
    done = run(tiny, "-k", "2", "--skip-if-larger")
    assert done.returncode == 98
    assert one_line(done) == f"kmeans-compress: {tiny}: skipped: the output would not be " + (
        "smaller than the input"
    )
    assert listing(tmp_path) == ["flat.png"]


def test_a_file_named_twice_is_done_once(tmp_path):
    """Overlapping globs, or a path and a link to it: one file, one output, one row."""
    Image.fromarray(image_array("coffee")[::4, ::4]).save(tmp_path / "a.png")
    (tmp_path / "link.png").symlink_to(tmp_path / "a.png")
    done = run(
        tmp_path / "a.png", tmp_path / "link.png", "./a.png", "-k", "4", "--json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert [row["input"] for row in json.loads(done.stdout)] == [str(tmp_path / "a.png")]
    assert listing(tmp_path) == ["a-k4.png", "a.png", "link.png"]


def test_two_inputs_that_would_write_one_output_are_refused_before_any_work(tmp_path):
    for suffix in ("png", "jpg"):
        Image.fromarray(image_array("coffee")[::4, ::4]).save(tmp_path / f"a.{suffix}")
    out = tmp_path / "out"
    done = run(tmp_path / "a.png", tmp_path / "a.jpg", "-k", "4", "--out-dir", out)
    assert done.returncode == 2
    assert "would both be written to" in one_line(done) and "a-k4.png" in one_line(done)
    assert not out.exists()  # refused before anything was done
    # With a target, k (and so the name) is found by the work: the same stem is refused.
    done = run(tmp_path / "a.png", tmp_path / "a.jpg", "--target-psnr", "30", "--out-dir", out)
    assert done.returncode == 2 and "a-kK.png" in one_line(done)
    # Two sweeps of one stem into one folder: the second's files replaced the first's.
    done = run(tmp_path / "a.png", tmp_path / "a.jpg", "--sweep", "2,4", "--out-dir", out, "-f")
    assert done.returncode == 2 and "a-* (a sweep's files)" in one_line(done)
    assert not out.exists()
    # An output that is another input: with --force it was replaced, then compressed.
    Image.fromarray(image_array("coffee")[::8, ::8]).save(tmp_path / "a-k4.png")
    before = (tmp_path / "a-k4.png").read_bytes()
    done = run(tmp_path / "a.png", tmp_path / "a-k4.png", "-k", "4", "-f")
    assert done.returncode == 2, done.stderr
    assert "would be written to" in one_line(done) and "another input of the batch" in one_line(
        done
    )
    assert (tmp_path / "a-k4.png").read_bytes() == before


def test_an_existing_output_is_refused_before_the_input_is_even_read(tmp_path):
    """The input is not an image at all: the refusal names the output, so it came first."""
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    existing = tmp_path / "broken-k4.png"
    existing.write_bytes(b"keep me")
    done = run(broken, "-k", "4")
    assert done.returncode == 1
    assert (
        one_line(done)
        == f"{PREFIX}{broken}: {existing}: already exists (use --force to replace it)"
    )
    assert existing.read_bytes() == b"keep me"


def test_a_symbolic_link_is_written_through_and_stays_a_link(photo, tmp_path):
    real = tmp_path / "real.png"
    real.write_bytes(b"old")
    real.chmod(0o640)
    link = tmp_path / "link.png"
    link.symlink_to(real)
    done = run(photo, "-k", "4", "-o", link)
    assert done.returncode == 1 and "already exists (use --force" in one_line(done)
    assert run(photo, "-k", "4", "-o", link, "--force").returncode == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    with Image.open(real) as image:
        assert image.mode == "P"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640  # a replaced file keeps its mode
    assert listing(tmp_path) == ["link.png", "photo.png", "real.png"]


def test_a_dangling_link_is_written_only_with_force(photo, tmp_path):
    target = tmp_path / "made.png"
    link = tmp_path / "dangling.png"
    link.symlink_to(target)
    done = run(photo, "-k", "4", "-o", link)
    assert done.returncode == 1
    assert "is a symbolic link to" in one_line(done) and "does not exist" in one_line(done)
    assert not target.exists()
    assert run(photo, "-k", "4", "-o", link, "--force").returncode == 0
    assert link.is_symlink() and target.is_file()


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["", "force"])
def test_dev_null_is_written_into_never_replaced_png_by_default(photo, force):
    done = run(photo, "-k", "4", "-o", "/dev/null", *force)
    assert done.returncode == 0, done.stderr
    assert "/dev/null" in done.stdout and done.stderr == ""
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    done = run(photo, "-k", "4", "-o", "/dev/null", "--format", "gif")
    assert done.returncode == 0, done.stderr


def test_a_fifo_is_written_into_never_replaced(photo, tmp_path):
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    done = run(photo, "-k", "4", "-o", fifo)
    reader.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert received == [compress(photo, 4).encode("png")]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_dev_stdout_is_standard_output(photo):
    done = subprocess.run([*CLI, str(photo), "-k", "8", "-o", "/dev/stdout"], capture_output=True)
    assert done.returncode == 0 and done.stderr == b""
    assert done.stdout == compress(photo, 8).encode("png")


def test_a_socket_is_never_written(photo, tmp_path):
    import socket

    path = tmp_path / "s.png"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        done = run(photo, "-k", "4", "-o", path, "--force")
    assert done.returncode == 1
    assert "is a block device or a socket, not a file to write" in one_line(done)
    assert stat.S_ISSOCK(os.stat(path).st_mode)


def test_json_rows_for_every_input_null_for_non_finite_and_names_kept(tmp_path):
    flat = tmp_path / "two-colors.png"
    pixels = np.zeros((16, 16, 3), dtype=np.uint8)
    pixels[:8] = 255
    Image.fromarray(pixels).save(flat)
    odd = os.path.join(os.fsencode(tmp_path), b"caf\xe9.png")  # not UTF-8
    Image.fromarray(image_array("coffee")[::8, ::8]).save(os.fsdecode(odd))
    missing = tmp_path / "missing.png"
    done = run(flat, odd, missing, "-k", "16", "--json", "--out-dir", tmp_path / "out")
    assert done.returncode == 1
    rows = json.loads(done.stdout)
    assert [os.fsencode(row["input"]) for row in rows] == [
        os.fsencode(flat),
        odd,
        os.fsencode(missing),
    ]
    assert rows[0]["psnr"] is None  # lossless: an infinite PSNR is null in JSON
    assert "error" not in rows[1] and math.isfinite(rows[1]["psnr"])
    assert rows[2]["error"] == f"{missing}: no such file"
    # and the table shows the name that is not UTF-8 escaped, without failing
    table = run(odd, "-k", "4", "--out-dir", tmp_path / "table")
    assert table.returncode == 0 and "caf\\xe9.png" in table.stdout


def test_the_quality_scale_is_libimagequants_curve_as_a_psnr():
    from kmeans_scratch.compression._quality_scale import (
        parse_quality,
        quality_to_mse,
        quality_to_psnr,
    )

    assert quality_to_mse(100) == 0 and quality_to_psnr(100) == math.inf
    assert quality_to_mse(0) == math.inf and quality_to_psnr(0) == -math.inf
    # 2.5 / 290^1.2 · 20.1 / 100 · 65536 / 6 (the fudge term is 0 above q = 15), in
    # pngquant's units, which are about half the sRGB MSE of its files
    assert quality_to_mse(80) == pytest.approx(2.5 / 290**1.2 * 0.201 * 65536 / 6 * 2.07)
    psnrs = [quality_to_psnr(q) for q in range(101)]
    assert psnrs == sorted(psnrs)  # more quality, more PSNR
    assert parse_quality("60-80") == (60, 80)
    assert parse_quality("-80") == (0, 80) and parse_quality("60-") == (60, 100)
    # one number is pngquant's MAX, with MIN 9/10 of it, rounded down
    assert parse_quality("80") == (72, 80) and parse_quality("55") == (49, 55)
    assert parse_quality("100") == (90, 100) and parse_quality("0") == (0, 0)
    for bad in ("101", "80-60", "60-101", "a-b", "", "8x"):
        with pytest.raises(ValueError, match="expected"):
            parse_quality(bad)


def test_quality_picks_the_fewest_colors_that_reach_max(photo, tmp_path):
    from kmeans_scratch.compression._quality_scale import quality_to_psnr

    out = tmp_path / "q.png"
    done = run(photo, "--quality", "40-70", "-o", out, "--json")
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    assert row["psnr"] >= quality_to_psnr(70) and row["n_colors"] < 256
    fewer = compress(photo, row["n_colors"] - 1)
    assert fewer.quality("psnr") < quality_to_psnr(70)


def test_quality_under_min_writes_nothing_and_exits_99(photo, tmp_path):
    out = tmp_path / "q.png"
    done = run(photo, "--quality", "99-100", "-o", out)
    assert done.returncode == 99
    assert "quality too low" in one_line(done) and "nothing written" in one_line(done)
    assert not out.exists()
    missing = tmp_path / "missing.png"
    both = run(photo, missing, "--quality", "99-100", "--out-dir", tmp_path / "out")
    assert both.returncode == 1  # a failure outranks a quality too low


def test_quality_with_one_number_is_pngquants_max(photo, tmp_path):
    rows = {}
    for quality in ("70", "63-70"):
        out = tmp_path / f"q{quality}.png"
        done = run(photo, "--quality", quality, "-o", out, "--json")
        assert done.returncode == 0, done.stderr
        ((rows[quality]),) = json.loads(done.stdout)
        rows[quality]["bytes"] = out.read_bytes()
    assert rows["70"]["n_colors"] == rows["63-70"]["n_colors"]
    assert rows["70"]["bytes"] == rows["63-70"]["bytes"]


def test_k_with_quality_is_the_most_colors_it_may_choose(photo, tmp_path):
    """pngquant's ``--quality 60-80 16``: at most 16 colors, the fewest that reach 80."""
    out = tmp_path / "q.png"
    done = run(photo, "--quality", "0-100", "-k", "16", "-o", out, "--json")
    assert done.returncode == 0, done.stderr
    ((row),) = json.loads(done.stdout)
    assert row["n_colors"] == 16 and "not reached with 16 colors" in done.stderr
    done = run(photo, "--quality", "0-40", "-k", "200", "-o", out, "--json", "-f")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["n_colors"] < 200


def run_with_input(data, *argv):
    done = subprocess.run([*CLI, *map(str, argv)], input=data, capture_output=True, timeout=600)
    assert b"Traceback" not in done.stderr, done.stderr
    return done


def test_standard_input_to_standard_output_carries_the_image_alone(photo, tmp_path):
    done = run_with_input(photo.read_bytes(), "-", "-k", "8")
    assert done.returncode == 0 and done.stderr == b""
    expected = compress(photo, 8).encode("png")
    assert done.stdout == expected  # the file's bytes, nothing else
    # -o names a file instead; the table then names the input "-"
    out = tmp_path / "from-stdin.png"
    done = run_with_input(photo.read_bytes(), "-", "-k", "8", "-o", out)
    assert done.returncode == 0 and out.read_bytes() == expected
    # a file to standard output
    done = subprocess.run([*CLI, str(photo), "-k", "8", "-o", "-"], capture_output=True)
    assert done.returncode == 0 and done.stdout == expected
    assert listing(tmp_path) == ["from-stdin.png", "photo.png"]


def test_standard_input_that_is_not_an_image_is_one_line(tmp_path):
    done = run_with_input(b"not an image", "-", "-k", "8")
    assert done.returncode == 1 and done.stdout == b""
    assert done.stderr.decode().strip() == f"{PREFIX}<stdin>: not an image that Pillow can read"
    done = run_with_input(b"", "-", "-k", "8")
    assert done.returncode == 1 and done.stdout == b""
    assert done.stderr.decode().strip() == f"{PREFIX}<stdin>: empty, no image came"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["-", "a.png"], "- (standard input) must be the only IMAGE"),
        (["-", "--out-dir", "d"], "- (standard input) has no name"),
        (["a.png", "-o", "-", "--json"], "-o - writes the image to standard output"),
        (["a.png", "--ext", "sub/x.png"], "--ext sub/x.png: a suffix, not a folder"),
        (["a.png", "--ext", "png"], "--ext png: end the suffix with the output's format"),
        (["a.png", "--ext="], "--ext needs a suffix, such as .small.png or -fs8.png"),
        (["a.png", "--ext", "-fs8"], "--ext -fs8: end the suffix with the output's format"),
        (["a.png", "--ext", "-q"], "argument --ext: expected one argument"),
        (["a.png", "-o", "."], "-o .: a folder (for outputs in a folder, --out-dir)"),
        (["a.png", "-o", "new/"], "-o new/: a folder (for outputs in a folder, --out-dir)"),
    ],
)
def test_stream_and_suffix_mistakes_are_usage_errors(tmp_path, argv, message):
    done = run_with_input(b"", *argv)
    assert done.returncode == 2 and message in done.stderr.decode()
    assert done.stdout == b""


def test_an_out_dir_that_is_a_file_is_a_usage_error(photo, tmp_path):
    taken = tmp_path / "taken.png"
    taken.write_bytes(b"a file")
    done = run(photo, "-k", "8", "--out-dir", taken)
    assert done.returncode == 2 and f"--out-dir {taken}: not a folder" in one_line(done)
    assert taken.read_bytes() == b"a file"


def test_every_failed_file_is_named_first_even_when_the_error_names_it_too(photo, tmp_path):
    """Each failure line starts with its input, whatever the message holds (here the
    folder to make sits under the first input, a file, so its error names that input);
    an OSError reads "path: reason", not "[Errno 20] ..."."""
    other = tmp_path / "other.png"
    other.write_bytes(photo.read_bytes())
    folder = photo / "small"
    done = run(photo, other, "-k", "8", "--quiet", "--out-dir", folder)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    reason = os.strerror(errno.ENOTDIR)
    assert lines == [
        f"{PREFIX}{source}: {folder / (source.stem + '-k8.png')}: {reason}"
        for source in (photo, other)
    ]
    assert "[Errno" not in done.stderr


def test_ext_names_the_outputs_and_collisions_count_it(tmp_path):
    for name in ("a.png", "b.png"):
        Image.fromarray(image_array("coffee")[::4, ::4]).save(tmp_path / name)
    done = run(tmp_path / "a.png", tmp_path / "b.png", "-k", "4", "--ext=-small.png")
    assert done.returncode == 0, done.stderr
    assert listing(tmp_path) == ["a-small.png", "a.png", "b-small.png", "b.png"]
    # with --ext the name does not hold k: a.png and a.jpg collide whatever the target
    Image.fromarray(image_array("coffee")[::4, ::4]).save(tmp_path / "a.jpg")
    done = run(tmp_path / "a.png", tmp_path / "a.jpg", "--quality", "0-50", "--ext", ".q.png")
    assert done.returncode == 2 and "a.q.png" in one_line(done)


def test_strip_writes_no_icc_profile(tmp_path):
    from PIL import ImageCms

    source = tmp_path / "tagged.jpg"
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(image_array("coffee")[::4, ::4]).save(source, icc_profile=profile)
    kept, stripped = tmp_path / "kept.png", tmp_path / "stripped.png"
    assert run(source, "-k", "8", "-o", kept).returncode == 0
    assert run(source, "-k", "8", "-o", stripped, "--strip").returncode == 0
    with Image.open(kept) as a, Image.open(stripped) as b:
        assert a.info.get("icc_profile") == profile and "icc_profile" not in b.info
        assert np.array_equal(np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB")))


def test_a_huge_icc_profile_is_applied_not_copied_and_the_output_reads_back(tmp_path):
    from PIL import ImageCms

    profile = padded_profile(3 * 1024 * 1024)
    ImageCms.ImageCmsProfile(io_bytes(profile))  # a profile lcms reads
    source = tmp_path / "huge-profile.jpg"
    pixels = image_array("coffee")[::4, ::4]
    Image.fromarray(pixels).save(source, icc_profile=profile, quality=95)
    out = tmp_path / "out.png"
    done = run(source, "-k", "256", "-o", out, "--json")
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    assert any("converted to sRGB through its" in note for note in row["notes"])
    assert out.stat().st_size < 200_000  # not 3 MB of profile
    again = run(out, "-k", "256", "-o", tmp_path / "again.png")  # our own reader takes it
    assert again.returncode == 0, again.stderr
    with Image.open(out) as image:
        assert "icc_profile" not in image.info


def io_bytes(data):
    import io

    return io.BytesIO(data)


def test_floating_point_gray_is_scaled_by_its_range(tmp_path):
    values = np.linspace(0, 1, 24 * 32, dtype=np.float32).reshape(24, 32)
    source = tmp_path / "fraction.tif"
    Image.fromarray(values, "F").save(source)
    out = tmp_path / "out.png"
    done = run(source, "-k", "256", "-o", out, "--json")
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    assert "floating-point gray in [0, 1] scaled to 0..255" in row["notes"]
    with Image.open(out) as image:
        levels = np.asarray(image.convert("L"), dtype=np.float64)
    np.testing.assert_allclose(levels, np.rint(values * 255), atol=1)  # not all black


def test_a_lab_tiff_becomes_srgb_without_its_lab_profile(tmp_path):
    from PIL import ImageCms

    lab = Image.new("LAB", (16, 12), (150, 160, 100))
    source = tmp_path / "lab.tif"
    lab.save(source)
    out = tmp_path / "out.png"
    done = run(source, "-k", "4", "-o", out, "--json")
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    assert "CIELAB converted to sRGB" in row["notes"]
    transform = ImageCms.buildTransformFromOpenProfiles(
        ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"
    )
    expected = np.asarray(ImageCms.applyTransform(lab, transform))
    with Image.open(out) as image:
        assert "icc_profile" not in image.info
        np.testing.assert_array_equal(np.asarray(image.convert("RGB")), expected)
    # and through the API, RGB, not RGBA
    assert compress(source, 4).mode == "RGB"


@pytest.mark.parametrize("fmt, width", [("gif", 65_536), ("webp", 16_384)])
def test_an_image_wider_than_the_format_allows_is_one_line(tmp_path, fmt, width):
    source = tmp_path / "wide.png"
    Image.fromarray(np.zeros((1, width, 3), dtype=np.uint8)).save(source)
    done = run(source, "-k", "2", "--format", fmt, "--out-dir", tmp_path / "out")
    assert done.returncode == 1
    assert f"a {fmt.upper()} is at most" in one_line(done) and f"{width:,} × 1" in one_line(done)
    assert not (tmp_path / "out").exists() or listing(tmp_path / "out") == []


def test_a_very_tall_png_gets_the_fast_pass_at_any_speed():
    from kmeans_scratch.compression._encode import one_pass_level

    for speed in (1, 4):
        assert one_pass_level(100_000, speed, n_rows=100_000) is not None
    assert one_pass_level(100_000, 1, n_rows=1) is None  # oxipng's search


def test_an_ssim_target_works_on_an_image_smaller_than_its_window(tmp_path):
    tiny = tmp_path / "tiny.png"
    pixels = np.zeros((5, 6, 3), dtype=np.uint8)
    pixels[2:, 3:] = 200
    pixels[4, 5] = (10, 250, 10)
    Image.fromarray(pixels).save(tiny)
    done = run(tiny, "--target-ssim", "0.99", "-o", tmp_path / "out.png", "--json")
    assert done.returncode == 0 and done.stderr == ""
    (row,) = json.loads(done.stdout)
    assert row["ssim"] >= 0.99 and row["n_colors"] == 3  # fewer colors cannot reach it
    assert compress(tiny, 2).quality("ssim") < 0.99


@pytest.mark.slow
def test_floyd_levels_and_nofs_as_pngquant(photo, tmp_path):
    def written(*options):
        out = tmp_path / "out.png"
        done = run(photo, "-k", "8", "-o", out, "-f", *options)
        assert done.returncode == 0, done.stderr
        return out.read_bytes()

    plain, full, half = written(), written("--floyd"), written("--floyd=0.5")
    assert written("--nofs") == plain == written("--floyd=0")
    assert written("--dither") == full
    assert len({plain, full, half}) == 3
    for bad in (["--floyd=2"], ["--floyd=x"], ["--dither", "--nofs"]):
        done = run(photo, "-k", "8", *bad)
        assert done.returncode == 2, bad
    with pytest.raises(ValueError, match="dither must be True, False or a level from 0 to 1"):
        compress(photo, 8, dither=1.5)


@pytest.mark.parametrize("argv", [["--json"], ["-o", "-"]], ids=["json", "image"])
def test_a_reader_that_left_ends_the_command_quietly_as_cat(photo, tmp_path, argv):
    """``kmeans-compress … | head``: the pipe is closed before anything is written."""
    reader, writer = os.pipe()
    os.close(reader)
    out = [] if "-o" in argv else ["--out-dir", tmp_path / "out"]
    with os.fdopen(writer, "wb") as closed_pipe:
        done = subprocess.run(
            [*CLI, photo, "-k", "8", *map(os.fsdecode, [*argv, *out])],
            stdout=closed_pipe,
            stderr=subprocess.PIPE,
            text=True,
            timeout=600,
        )
    assert done.returncode == 141, done.stderr  # 128 + SIGPIPE, the status of cat
    assert done.stderr == ""
    if "--json" in argv:  # the file was written before the report
        assert listing(tmp_path / "out") == ["photo-k8.png"]


def test_ext_and_force_compress_in_place_as_pngquant(tmp_path):
    """``pngquant --ext .png --force 256 *.png``: each input replaced by its output."""
    pixels = {name: image_array("coffee")[i::4, ::4] for i, name in enumerate(("a", "b"))}
    for name, array in pixels.items():
        Image.fromarray(array).save(tmp_path / f"{name}.png")
    originals = {name: (tmp_path / f"{name}.png").read_bytes() for name in pixels}
    # without --force the input is refused, and stays as it was
    done = run(tmp_path / "a.png", "-k", "16", "--ext", ".png")
    assert done.returncode == 1
    assert one_line(done).endswith("would replace the input (to compress in place, add --force)")
    assert (tmp_path / "a.png").read_bytes() == originals["a"]
    done = run(tmp_path / "a.png", tmp_path / "b.png", "-k", "16", "--ext", ".png", "--force")
    assert done.returncode == 0, done.stderr
    assert listing(tmp_path) == ["a.png", "b.png"]  # no temporary file left behind
    for name, array in pixels.items():
        written = (tmp_path / f"{name}.png").read_bytes()
        assert written == compress(array, 16).encode("png")
    # pngquant's --ext -fs8.png: a suffix that starts with a dash is not an option
    assert run(tmp_path / "a.png", "-k", "4", "--ext", "-fs8.png").returncode == 0
    assert (tmp_path / "a-fs8.png").exists()
    (tmp_path / "a-fs8.png").unlink()
    # --ext .PNG names the format as well (upper case), and -o does the same in place
    assert run(tmp_path / "a.png", "-k", "4", "--ext", ".PNG", "-f").returncode == 0
    assert run(tmp_path / "b.png", "-k", "4", "-o", tmp_path / "b.png", "-f").returncode == 0


def test_notes_are_shown_on_stderr_one_line_each_unless_quiet(tmp_path):
    frames = [Image.fromarray(image_array("coffee")[::8, ::8]).rotate(90 * i) for i in range(4)]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    done = run(gif, "-k", "8", "-o", tmp_path / "one.png")
    assert done.returncode == 0
    assert one_line(done) == f"kmeans-compress: {gif}: first of 4 frames kept (3 dropped)"
    done = run(gif, "-k", "8", "-o", tmp_path / "two.png", "-q")
    assert done.returncode == 0 and done.stderr == "" and done.stdout == ""
    # a target not reached
    photo = tmp_path / "photo.png"
    Image.fromarray(image_array("coffee")[::4, ::4]).save(photo)
    done = run(photo, "--target-psnr", "60", "-o", tmp_path / "t.png")
    assert done.returncode == 0
    assert (
        one_line(done)
        == f"kmeans-compress: {photo}: target PSNR 60.00 dB not reached with 256 colors"
    )
    # a large ICC profile converted, not kept
    tagged = tmp_path / "tagged.jpg"
    Image.fromarray(image_array("coffee")[::4, ::4]).save(
        tagged, icc_profile=padded_profile(1 << 17)
    )
    done = run(tagged, "-k", "8", "-o", tmp_path / "c.png")
    assert done.returncode == 0
    assert "converted to sRGB through its" in one_line(done) and "not kept" in one_line(done)


def test_the_table_names_each_input_as_given_one_line_each(tmp_path):
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        Image.fromarray(image_array("coffee")[::8, ::8]).save(tmp_path / folder / "p.png")
    odd = tmp_path / "new\nline.png"
    Image.fromarray(image_array("coffee")[::8, ::8]).save(odd)
    done = run("x/p.png", "y/p.png", odd.name, "-k", "4", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4  # a heading and one line per file
    assert [line.split()[0] for line in lines[1:]] == ["x/p.png", "y/p.png", "new\\nline.png"]


def test_an_output_in_a_missing_folder_is_refused_as_pngquant(photo, tmp_path):
    done = run(photo, "-k", "4", "-o", tmp_path / "nodir" / "x.png")
    assert done.returncode == 1 and "no such folder" in one_line(done)
    assert listing(tmp_path) == ["photo.png"]
    # --out-dir makes its folder
    assert run(photo, "-k", "4", "--out-dir", tmp_path / "made").returncode == 0
    assert listing(tmp_path / "made") == ["photo-k4.png"]


EARLY_SIGNAL = """
import builtins, os, signal, sys
real_import = builtins.__import__
def signalling_import(name, *args, **kwargs):
    if name == "numpy" and not hasattr(builtins, "signalled"):
        builtins.signalled = True
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the command still imports
    return real_import(name, *args, **kwargs)
builtins.__import__ = signalling_import
sys.argv = ["kmeans-compress", *sys.argv[1:]]
from kmeans_scratch._command import main
main()
"""


def test_ctrl_c_while_starting_ends_in_one_line_with_status_130(photo, tmp_path):
    out = tmp_path / "out.png"
    done = subprocess.run(
        [sys.executable, "-c", EARLY_SIGNAL, str(photo), "-k", "4", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 130, done.stderr
    assert (
        one_line(done) == "kmeans-compress: stopped by SIGINT while starting; nothing was written"
    )
    assert not out.exists()


def test_speed_help_states_what_the_docs_measured():
    """``--speed``'s help quotes the whole-command measurements of docs/compressor.md's
    table (it once quoted the encoder's time alone: 'a sixth', where a batch took 1/12)."""
    import re
    from pathlib import Path

    from kmeans_scratch.compression.cli import build_parser

    (action,) = [a for a in build_parser()._actions if "--speed" in a.option_strings]
    words = " ".join(action.help.replace("%%", "%").split())
    slower, fewer, more = (
        re.search(pattern, words).groups()
        for pattern in (
            r"in (\d+)-(\d+) times its time",
            r"speed 1 writes (\d+)-(\d+)% fewer bytes",
            r"speed 11 (\d+)-(\d+)% more",
        )
    )
    docs = (Path(__file__).parent.parent / "docs" / "compressor.md").read_text()
    rows = {}
    for line in docs.splitlines():
        cells = [cell.strip(" *") for cell in line.strip("|").split("|")]
        if len(cells) == 4 and cells[0].endswith(("× the default's", "bytes × the default's")):
            rows.setdefault(cells[0].split(":")[-1].strip(), []).append(
                [float(cell) for cell in cells[1:]]
            )
    times, sizes = rows["wall time × the default's"], rows["bytes × the default's"]
    assert len(times) == len(sizes) == 2  # the Kodak and the Wikipedia rows
    for speed_1, _, speed_11 in times:
        assert int(slower[0]) - 0.5 <= speed_1 <= int(slower[1]) + 0.5
        assert 0.4 <= speed_11 <= 0.6  # "half of it"
    for speed_1, _, speed_11 in sizes:
        assert int(fewer[0]) - 0.5 <= 100 * (1 - speed_1) <= int(fewer[1]) + 0.5
        assert int(more[0]) - 0.5 <= 100 * (speed_11 - 1) <= int(more[1]) + 0.5
