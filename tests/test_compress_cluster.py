"""Batches on a Dask cluster: ``compress_many(client=)`` and ``kmeans-compress --workers N`` /
``--scheduler ADDRESS`` write exactly the files a local run writes, with the same errors."""

import warnings

import numpy as np
import pytest
from PIL import Image

from kmeans_scratch.compression import compress_many
from kmeans_scratch.compression.cli import main

from .helpers import image_array

distributed = pytest.importorskip("distributed")


@pytest.fixture
def photos(tmp_path):
    """Three small photos as PNG, and a file that is not an image."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("china", "flower", "coffee"):
        Image.fromarray(image_array(name)[::3, ::3]).save(folder / f"{name}.png")
    (folder / "broken.png").write_bytes(b"not a png")
    return folder


def written(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_compress_many_on_a_cluster_writes_the_local_files(photos, tmp_path, cluster_client):
    inputs = sorted(photos.iterdir())
    local = compress_many(inputs, 32, out_dir=tmp_path / "local", dither=True)
    on_cluster = compress_many(
        inputs, 32, out_dir=tmp_path / "cluster", dither=True, client=cluster_client
    )
    assert written(tmp_path / "local") == written(tmp_path / "cluster")
    assert len(written(tmp_path / "local")) == 3
    assert [row["input"] for row in on_cluster] == [str(path) for path in inputs]
    (broken,) = [row for row in on_cluster if "error" in row]
    assert broken["input"].endswith("broken.png") and "broken.png" in broken["error"]
    for ours, theirs in zip(local, on_cluster, strict=True):
        assert ours.get("psnr") == theirs.get("psnr")


def test_a_shared_palette_on_a_cluster_is_the_local_one(photos, tmp_path, cluster_client):
    inputs = sorted(photos.iterdir())
    options = {"shared_palette": True, "dither": 0.5}
    local = compress_many(inputs, 24, out_dir=tmp_path / "local", **options)
    on_cluster = compress_many(
        inputs, 24, out_dir=tmp_path / "cluster", client=cluster_client, **options
    )
    assert written(tmp_path / "local") == written(tmp_path / "cluster")
    broken_first = [False, True, True, True]
    assert [row.get("error") is None for row in on_cluster] == broken_first
    assert [row.get("psnr") for row in local] == [row.get("psnr") for row in on_cluster]


def test_an_argument_every_task_shares_travels_once(cluster_client):
    """A shared palette goes to the workers once, not with each file's task (where 11 MiB
    per file made Dask warn of a large graph on the command's stderr)."""
    from kmeans_scratch.compression._cluster import map_on_cluster, sent_once

    palette = np.arange(3 * 2**20, dtype=np.uint8)
    argument_lists = [(palette, index) for index in range(3)]
    sent = sent_once(cluster_client, argument_lists)
    assert all(isinstance(arguments[0], distributed.Future) for arguments in sent)
    assert len({arguments[0].key for arguments in sent}) == 1
    assert [arguments[1] for arguments in sent] == [0, 1, 2]
    large = np.ones(12 * 2**20, dtype=np.uint8)  # over Dask's threshold for the warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Dask's large-graph warning is a UserWarning
        outcomes = list(map_on_cluster(np.sum, [(large,)] * 2, cluster_client))
    assert outcomes == [(True, large.size)] * 2


def started_at(seconds):
    """A task of the test below: when it started, after which it sleeps ``seconds``."""
    import time

    started = time.monotonic()
    time.sleep(seconds)
    return started


def test_the_costliest_tasks_go_to_the_cluster_first(cluster_client):
    """Two workers of one thread: the two costliest tasks start first, the cheapest
    last, and the outcomes come in input order."""
    from kmeans_scratch.compression._cluster import map_on_cluster

    costs = [1, 5, 3, 5, 2]
    argument_lists = [(0.3 + cost / 1000,) for cost in costs]
    outcomes = list(
        map_on_cluster(started_at, argument_lists, cluster_client, cost=lambda args: args[0])
    )
    assert all(ok for ok, _ in outcomes)
    started = [at for _, at in outcomes]
    assert max(started[1], started[3]) < min(started[2], started[4])
    assert max(started[2], started[4]) < started[0]


def test_the_command_shares_a_palette_on_a_running_scheduler(photos, tmp_path, cluster_client):
    address = cluster_client.scheduler.address
    images = sorted(str(path) for path in photos.glob("[!b]*.png"))
    options = ["-k", "16", "--shared-palette", "-q"]
    assert main([*images, *options, "--out-dir", str(tmp_path / "local")]) == 0
    assert main([*images, *options, "--out-dir", str(tmp_path / "s"), "--scheduler", address]) == 0
    assert written(tmp_path / "local") == written(tmp_path / "s")
    palettes = {Image.open(path).getpalette() is not None for path in (tmp_path / "s").iterdir()}
    assert palettes == {True} and len(written(tmp_path / "s")) == 3


def test_relative_paths_name_the_callers_files_on_a_cluster(
    photos, tmp_path, monkeypatch, cluster_client
):
    """The workers run in a folder of their own: relative inputs and output folders are
    the caller's, made absolute before they travel (a worker read its own folder's file
    of that name, or failed with "no such file")."""
    monkeypatch.chdir(tmp_path)
    address = cluster_client.scheduler.address
    names = ["in/china.png", "in/coffee.png"]
    rows = compress_many(names, 16, out_dir="api", client=cluster_client)
    assert [row["output"] for row in rows] == [
        str(tmp_path / "api" / f"{name}-k16.png") for name in ("china", "coffee")
    ]
    assert main([*names, "-k", "16", "--out-dir", "cli", "--scheduler", address, "-q"]) == 0
    assert main(["in/flower.png", "-k", "16", "-o", "one.png", "--scheduler", address]) == 0
    local = compress_many([photos / "china.png", photos / "coffee.png"], 16, out_dir="here")
    assert written(tmp_path / "api") == written(tmp_path / "cli") == written(tmp_path / "here")
    assert (tmp_path / "one.png").is_file() and len(local) == 2


def test_compress_many_refuses_two_inputs_for_one_output_and_unknown_options(photos, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "china.png").write_bytes((photos / "china.png").read_bytes())
    with pytest.raises(ValueError, match="would both be written"):
        compress_many([photos / "china.png", other / "china.png"], 8, out_dir=tmp_path / "o")
    with pytest.raises(TypeError, match="unknown options"):
        compress_many([photos / "china.png"], 8, colour_space="lab")
    assert not (tmp_path / "o").exists()


def test_the_command_on_workers_writes_the_local_files(photos, tmp_path, capsys):
    images = sorted(str(path) for path in photos.glob("[!b]*.png"))
    assert main([*images, "-k", "64", "--out-dir", str(tmp_path / "local"), "-q"]) == 0
    assert main([*images, "-k", "64", "--out-dir", str(tmp_path / "w"), "--workers", "2"]) == 0
    assert written(tmp_path / "local") == written(tmp_path / "w")
    out = capsys.readouterr().out
    assert all(f"{name}-k64.png" in out for name in ("china", "flower", "coffee"))


def test_the_command_on_a_running_scheduler_names_a_broken_file(
    photos, tmp_path, capsys, cluster_client
):
    address = cluster_client.scheduler.address
    images = sorted(str(path) for path in photos.iterdir())
    code = main([*images, "-k", "8", "--out-dir", str(tmp_path / "s"), "--scheduler", address])
    assert code == 1  # one file failed, the others are written
    assert len(written(tmp_path / "s")) == 3
    err = capsys.readouterr().err
    assert "broken.png" in err and "Traceback" not in err


def test_cluster_usage_errors_are_one_line(photos, capsys):
    image = str(photos / "china.png")
    assert main(["-", "--workers", "2"]) == 2
    assert "--workers works on files" in capsys.readouterr().err
    assert main([image, "--workers", "2", "--scheduler", "tcp://x:1"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
    for not_an_address in ("threads", "processes", "localhost"):
        assert main([image, "--scheduler", not_an_address]) == 2
        assert f"--scheduler {not_an_address}: not a Dask scheduler's address" in (
            capsys.readouterr().err
        )
    assert main([image, "-o", str(photos / "x.png"), "--scheduler", "tcp://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert "no Dask scheduler at tcp://127.0.0.1:9" in err and "Traceback" not in err
    assert not (photos / "x.png").exists()


def test_outputs_do_not_depend_on_numba_threads(photos, tmp_path):
    """The reason a cluster's outputs equal a local run's: same bits on any thread count."""
    import numba

    from kmeans_scratch.compression import compress

    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = compress(photos / "flower.png", 64, dither=True).encode()
    finally:
        numba.set_num_threads(previous)
    assert np.array_equal(
        np.frombuffer(one, np.uint8),
        np.frombuffer(compress(photos / "flower.png", 64, dither=True).encode(), np.uint8),
    )
