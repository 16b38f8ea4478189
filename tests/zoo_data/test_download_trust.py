"""Downloads from a server that cannot be trusted, against real HTTP servers on
127.0.0.1: a redirect to another host is reported once and recorded in the local
manifest's provenance, every body is capped, and a stalled connection is given up
with one line and resumed by running the same command again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.fixtures.cli import cli, one_line_error
from tests.fixtures.http_server import ZooServer
from tests.fixtures.zoos import DATA_CONFIG
from zoo_data.archive.layout import ZooLayout
from zoo_data.archive.manifest import read_manifest
from zoo_data.errors import TinyZooError
from zoo_data.remote.http import STALL_ENV, HttpRemote
from zoo_data.zoo import load_zoo

SHARDS = ZooLayout.of(DATA_CONFIG).shard_names


def host(url: str) -> str:
    return url.split("://", 1)[1]


@pytest.fixture
def front(zoo_server, tmp_path):
    """A second server on another port (another host) that redirects every request to
    ``zoo_server``."""
    empty = tmp_path / "front"
    empty.mkdir()
    server = ZooServer(empty).start()
    server.redirect_to = zoo_server.url
    yield server
    server.stop()


def test_a_redirect_to_another_host_is_reported_once_and_recorded(
        front, zoo_server, synthetic_zoo, tmp_path, capsys):
    out = tmp_path / "dl"
    code, stdout, err = cli(capsys, "download", front.url, "--out", str(out), "--quiet")
    assert code == 0, err
    notices = [line for line in err.splitlines() if "redirected to another host" in line]
    assert len(notices) == 1 and host(zoo_server.url) in notices[0]
    assert len(front.gets(".parquet")) == len(SHARDS)  # every shard went through both
    local = read_manifest(out)
    published_bytes = (synthetic_zoo / "manifest.json").read_bytes()
    assert local.pop("provenance") == {
        "source": front.url, "hosts": [host(front.url), host(zoo_server.url)],
        "manifest_sha256": hashlib.sha256(published_bytes).hexdigest()}
    assert local == json.loads(published_bytes)
    # the copy keeps the published zoo's identity, so results name the same zoo
    assert load_zoo(out).manifest_sha256 == load_zoo(synthetic_zoo).manifest_sha256
    # and a second run finds it complete (the provenance does not make it differ)
    code, stdout, _ = cli(capsys, "download", front.url, "--out", str(out), "--quiet")
    assert code == 0 and "0 shards downloaded" in stdout


def test_no_notice_without_a_change_of_host(zoo_server, tmp_path, capsys):
    out = tmp_path / "dl"
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    assert code == 0 and "redirected" not in err
    assert read_manifest(out)["provenance"]["hosts"] == [host(zoo_server.url)]


def test_a_published_manifest_may_not_bring_its_own_provenance(
        zoo_server, synthetic_zoo, tmp_path, capsys):
    manifest = read_manifest(synthetic_zoo)
    manifest["provenance"] = {"source": "https://trusted.example", "hosts": ["a"],
                              "manifest_sha256": "0" * 64}
    (synthetic_zoo / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(tmp_path / "dl"))
    line = one_line_error(code, err)
    assert "manifest.json" in line and "provenance" in line


def test_a_body_longer_than_declared_or_allowed_is_refused(zoo_server, tmp_path, capsys):
    remote = HttpRemote(zoo_server.url)
    with pytest.raises(TinyZooError, match="declares .* bytes, more than the 100 "):
        remote.fetch(f"data/{SHARDS[0]}", tmp_path / "part", limit=100)
    with pytest.raises(TinyZooError, match="more than the 10 such a file may have"):
        remote.read_bytes("manifest.json", limit=10)
    # a shard streamed without a length, forever: cut at the shard's size bound
    zoo_server.endless.add(f"/data/{SHARDS[1]}")
    out = tmp_path / "dl"
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    line = one_line_error(code, err)
    assert SHARDS[1] in line and "more than the" in line and "this shard can hold" in line
    assert read_manifest(out)["complete"] is False
    assert (out / "data" / f".{SHARDS[1]}.part").stat().st_size == 0  # nothing kept


def test_a_stalled_download_is_one_line_and_resumes(zoo_server, tmp_path, capsys,
                                                     monkeypatch):
    monkeypatch.setenv(STALL_ENV, "0.5")
    zoo_server.stall.add(f"/data/{SHARDS[2]}")
    zoo_server.stall_s = 3.0
    out = tmp_path / "dl"
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    line = one_line_error(code, err)
    assert SHARDS[2] in line and "no data for 0.5 s" in line and "stalled" in line
    assert read_manifest(out)["complete"] is False
    zoo_server.stall.clear()
    code, stdout, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    assert code == 0, err
    assert zoo_server.gets(SHARDS[2])[-1] is not None  # resumed with a Range request
    assert len(load_zoo(out)) == DATA_CONFIG.num_models


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_bad_stall_setting_is_one_line(zoo_server, tmp_path, capsys, monkeypatch, value):
    monkeypatch.setenv(STALL_ENV, value)
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(tmp_path / "dl"))
    line = one_line_error(code, err)
    assert STALL_ENV in line and repr(value) in line
    assert not Path(tmp_path / "dl").exists()


def test_a_drip_feed_below_the_minimum_rate_is_given_up_and_resumes(zoo_server, tmp_path,
                                                                    capsys, monkeypatch):
    """A server sending one byte every 0.1 s never stalls, so only a minimum rate ends
    it (it ran for ever before)."""
    from zoo_data.remote.http import MIN_RATE_ENV

    monkeypatch.setenv(STALL_ENV, "1")
    monkeypatch.setenv(MIN_RATE_ENV, "100")
    zoo_server.drip.add(f"/data/{SHARDS[2]}")
    zoo_server.drip_s = 0.1
    out = tmp_path / "dl"
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    line = one_line_error(code, err)
    assert SHARDS[2] in line and "bytes/s over" in line and "below the minimum of 100" in line
    zoo_server.drip.clear()
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    assert code == 0, err
    assert len(load_zoo(out)) == DATA_CONFIG.num_models


def test_a_full_disk_during_a_download_is_said_as_such(zoo_server, tmp_path, capsys,
                                                       monkeypatch):
    import builtins
    import errno

    real_open = builtins.open

    class Full:
        def __init__(self, f):
            self._f = f

        def write(self, block):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self._f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._f.close()

    def full_open(path, mode="r", *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        return Full(f) if str(path).endswith(".part") and "b" in mode else f

    monkeypatch.setattr(builtins, "open", full_open)
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(tmp_path / "dl"),
                       "--quiet")
    line = one_line_error(code, err)
    assert "No space left on device" in line and "connection lost" not in line
