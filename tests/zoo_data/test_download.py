"""Download and verify against a real HTTP server on 127.0.0.1 serving a zoo folder:
clean download, interrupted and resumed download, corrupted and missing shards,
truncated manifest, unreachable server, Hub offline. Every failure is one line naming
the file, exit code 2, and leaves no zoo marked complete."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import pytest

from tests.fixtures.cli import cli, one_line_error
from tests.fixtures.zoos import DATA_CONFIG
from zoo_data.archive.folder import complete_shards
from zoo_data.archive.layout import ZooLayout
from zoo_data.archive.manifest import read_manifest
from zoo_data.archive.verify import verify_zoo
from zoo_data.errors import TinyZooError
from zoo_data.remote.http import cache_folder_for
from zoo_data.zoo import load_zoo

SHARDS = ZooLayout.of(DATA_CONFIG).shard_names




def assert_not_complete(out: Path) -> None:
    """No zoo marked complete in ``out``: no manifest, or one saying incomplete."""
    if (out / "manifest.json").exists():
        assert read_manifest(out)["complete"] is False
    with pytest.raises(TinyZooError):
        load_zoo(out)


def same_files(a: Path, b: Path) -> None:
    """``b`` holds ``a``'s shards byte for byte and its manifest plus a provenance."""
    for name in (f"data/{s}" for s in SHARDS):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    published, local = read_manifest(a), read_manifest(b)
    provenance = local.pop("provenance")
    assert local == published
    assert provenance["manifest_sha256"] == hashlib.sha256(
        (a / "manifest.json").read_bytes()).hexdigest()


# --------------------------------------------------------------------------- success


def test_clean_download_is_identical_verified_and_loadable(zoo_server, synthetic_zoo,
                                                           tmp_path, capsys):
    out = tmp_path / "dl"
    code, stdout, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    assert code == 0, err
    assert f"{len(SHARDS)} shards downloaded" in stdout
    same_files(synthetic_zoo, out)
    assert verify_zoo(out).ok
    layout = ZooLayout.of(DATA_CONFIG)
    assert complete_shards(out, layout).keys() == set(range(len(layout.groups)))
    splits = datasets.load_dataset("parquet", data_dir=str(out),
                                   cache_dir=str(tmp_path / "hf"))
    assert sum(ds.num_rows for ds in splits.values()) == DATA_CONFIG.num_models
    assert not [p for p in (out / "data").iterdir() if p.name.endswith(".part")]

    # a second run fetches the manifest only
    zoo_server.requests.clear()
    code, stdout, _ = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    assert code == 0 and "0 shards downloaded" in stdout
    assert [p for _, p, _ in zoo_server.requests] == ["/manifest.json"]


def test_load_zoo_from_url_downloads_once_into_the_cache(zoo_server, tmp_path):
    zoo = load_zoo(zoo_server.url, split="test", cache_dir=tmp_path / "cache")
    assert len(zoo) == 3 and list(zoo.model_ids) == [27, 28, 29]
    assert zoo.path == cache_folder_for(zoo_server.url, tmp_path / "cache")
    zoo_server.requests.clear()
    again = load_zoo(zoo_server.url, split="val", cache_dir=tmp_path / "cache")
    assert len(again) == 3
    assert not zoo_server.gets(".parquet")


# --------------------------------------------------------------------------- resume


def test_interrupted_download_resumes_with_a_range_request(zoo_server, synthetic_zoo,
                                                           tmp_path, capsys):
    out = tmp_path / "dl"
    cut = f"/data/{SHARDS[3]}"
    zoo_server.cut_once.add(cut)
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    line = one_line_error(code, err)
    assert SHARDS[3] in line and "resume" in line
    assert_not_complete(out)
    part = out / "data" / f".{SHARDS[3]}.part"
    full = (synthetic_zoo / "data" / SHARDS[3]).stat().st_size
    assert part.is_file() and 0 < part.stat().st_size < full
    # shards before the cut are complete and kept
    assert set(complete_shards(out, ZooLayout.of(DATA_CONFIG))) == {0, 1, 2}

    zoo_server.requests.clear()
    code, stdout, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    assert code == 0, err
    assert zoo_server.gets(cut) == [f"bytes={full // 2}-"]
    for name in SHARDS[:3]:  # never fetched again
        assert not zoo_server.gets(name)
    same_files(synthetic_zoo, out)
    assert verify_zoo(out).ok and not part.exists()


def test_resume_against_a_server_without_range_support_restarts_the_shard(
        zoo_server, synthetic_zoo, tmp_path, capsys):
    out = tmp_path / "dl"
    zoo_server.ranges = False
    zoo_server.cut_once.add(f"/data/{SHARDS[0]}")
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    one_line_error(code, err)
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    assert code == 0, err
    same_files(synthetic_zoo, out)


# --------------------------------------------------------------------------- failures


def test_corrupted_shard_is_rejected_and_not_kept(zoo_server, synthetic_zoo, tmp_path, capsys):
    victim = synthetic_zoo / "data" / SHARDS[2]
    blob = bytearray(victim.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    victim.write_bytes(bytes(blob))
    out = tmp_path / "dl"
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    line = one_line_error(code, err)
    assert SHARDS[2] in line and "sha256 mismatch" in line
    assert_not_complete(out)
    assert not (out / "data" / SHARDS[2]).exists()
    assert not (out / "data" / f".{SHARDS[2]}.part").exists()


def test_missing_shard_is_a_one_line_error(zoo_server, synthetic_zoo, tmp_path, capsys):
    (synthetic_zoo / "data" / SHARDS[5]).unlink()
    out = tmp_path / "dl"
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    line = one_line_error(code, err)
    assert SHARDS[5] in line and "404" in line
    assert_not_complete(out)


def test_truncated_manifest_writes_nothing(zoo_server, synthetic_zoo, tmp_path, capsys):
    manifest = synthetic_zoo / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:200])
    out = tmp_path / "dl"
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    line = one_line_error(code, err)
    assert "manifest.json" in line and "truncated" in line
    assert not out.exists()


@pytest.mark.parametrize("edit, message", [
    (lambda m: m.update(complete=False), "not complete"),
    (lambda m: m["shards"].pop(SHARDS[1]), f"lacks shard {SHARDS[1]}"),
    (lambda m: m["config"].update(steps=11), "fingerprint"),
    (lambda m: m["shards"][SHARDS[0]].update(sha256="abc"), "sha256 'abc': need 64 lowercase hex"),
])
def test_inconsistent_manifest_is_refused(zoo_server, synthetic_zoo, tmp_path, capsys,
                                          edit, message):
    path = synthetic_zoo / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))
    out = tmp_path / "dl"
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    line = one_line_error(code, err)
    assert "manifest.json" in line and message in line
    assert not out.exists()


def test_unreachable_server(tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = cli(capsys, "download", f"http://127.0.0.1:{port}/zoo", "--out",
                       str(tmp_path / "dl"), "--quiet")
    line = one_line_error(code, err)
    assert "manifest.json" in line and "cannot connect" in line


def test_download_refuses_a_folder_with_another_zoo(zoo_server, tmp_path, capsys):
    from zoo_builder.synthetic import write_synthetic_zoo
    from zoo_data.rnn.presets import ZooConfig

    other = ZooConfig("other", num_models=6, hidden=4, max_digits=1, steps=10, n_test=20,
                      n_train_pool=30, group_size=6)
    out = write_synthetic_zoo(tmp_path / "dl", other)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    assert "another config" in one_line_error(code, err)
    assert before == {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_download_repairs_a_damaged_local_copy(zoo_server, synthetic_zoo, tmp_path, capsys):
    out = tmp_path / "dl"
    assert cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")[0] == 0
    (out / "data" / SHARDS[4]).write_bytes(b"garbage")
    code, _, err = cli(capsys, "verify", str(out), "--quiet")
    assert SHARDS[4] in one_line_error(code, err)
    zoo_server.requests.clear()
    code, stdout, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    assert code == 0 and "1 shards downloaded" in stdout, err
    assert zoo_server.gets(".parquet") == [None]
    same_files(synthetic_zoo, out)


# --------------------------------------------------------------------------- Hub


def test_hub_id_offline_fails_fast_with_a_clear_message(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
           "JAX_PLATFORMS": "cpu"}
    result = subprocess.run(
        [sys.executable, "-m", "tinyzoo", "download", "hf://tiny-rnn-zoo/mini", "--out",
         str(tmp_path / "dl")], capture_output=True, text=True, env=env, timeout=60,
        check=False)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "HF_HUB_OFFLINE" in lines[0], result.stderr
    assert "hf://tiny-rnn-zoo/mini/manifest.json" in lines[0]
    assert not (tmp_path / "dl").exists()


@pytest.mark.parametrize("source", ["hf://justaname", "hf://a/b/c", "ftp://x/y"])
def test_malformed_remote_sources(source, tmp_path, capsys):
    code, _, err = cli(capsys, "download", source, "--out", str(tmp_path / "dl"))
    assert source in one_line_error(code, err)


def test_hub_id_downloads_through_huggingface_hub(zoo_server, synthetic_zoo, tmp_path):
    """``hf://ORG/NAME`` goes through ``huggingface_hub`` (here against a loopback server
    that answers in the Hub's URL layout, via ``HF_ENDPOINT``)."""
    zoo_server.prefix = "/datasets/org/zoo/resolve/main"
    zoo_server.headers = {"X-Repo-Commit": "0123456789abcdef0123456789abcdef01234567",
                          "ETag": '"{sha256}"'}
    env = {**os.environ, "HF_ENDPOINT": zoo_server.url, "HF_HOME": str(tmp_path / "hf"),
           "JAX_PLATFORMS": "cpu"}
    env.pop("HF_HUB_OFFLINE", None)
    out = tmp_path / "dl"
    result = subprocess.run(
        [sys.executable, "-m", "tinyzoo", "download", "hf://org/zoo", "--out", str(out),
         "--quiet"], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    same_files(synthetic_zoo, out)
    assert verify_zoo(out).ok
    assert zoo_server.gets(f"resolve/main/data/{SHARDS[0]}")
