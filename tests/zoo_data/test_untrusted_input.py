"""Issue 15's findings 1-3 and verify-before-use: manifests and configs that a hostile
server or a damaged disk hands in are refused with one line naming the field and the
file (exit 2 from the CLI, nothing marked complete), and a shard whose bytes differ from
its manifest's sha256 is never used."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.fixtures.cli import cli, one_line_error
from tests.fixtures.zoos import DATA_CONFIG
from zoo_data.archive.layout import ZooLayout
from zoo_data.archive.manifest import parse_manifest, read_manifest
from zoo_data.archive.schema import LABEL
from zoo_data.archive.verify import NO_VERIFY_ENV
from zoo_data.errors import TinyZooError
from zoo_data.zoo import load_zoo, open_local_zoo

SHARDS = ZooLayout.of(DATA_CONFIG).shard_names


def refingerprint(manifest: dict) -> dict:
    """``manifest`` with its config fingerprint recomputed as an attacker would: the
    fingerprint is an unkeyed hash, so it proves nothing about the config's values."""
    blob = json.dumps(manifest["config"], sort_keys=True).encode()
    manifest["config_fingerprint"] = hashlib.sha256(blob).hexdigest()[:16]
    return manifest


def publish(zoo: Path, manifest: dict | bytes) -> None:
    raw = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    (zoo / "manifest.json").write_bytes(raw)


def assert_nothing_written(out: Path) -> None:
    assert not out.exists() or not (out / "manifest.json").exists() or \
        read_manifest(out)["complete"] is False


# --------------------------------------------------------------- 1: config values


@pytest.mark.parametrize("field, value, message", [
    ("num_models", "24", "num_models '24': need an integer"),
    ("num_models", -5, "num_models -5: need 1 <= num_models"),
    ("num_models", 10**9, "num_models 1000000000: need 1 <= num_models <= 100000"),
    ("num_models", True, "num_models True: need an integer"),
    ("group_size", 0, "group_size 0: need 1 <= group_size"),
    ("batch_sizes", [], "batch_sizes []: need a list of 1 to"),
    ("batch_sizes", "abc", "batch_sizes 'abc': need a list of 1 to"),
    ("batch_sizes", [64, 64], "need distinct values"),
    ("hidden", 1.5, "hidden 1.5: need an integer"),
    ("lr_min", "nan", "lr_min 'nan': need a number"),
    ("max_digits", 40, "max_digits 40: need 1 <= max_digits <= 9"),
    ("preset", "../../../tmp/evil", "preset '../../../tmp/evil': need a preset name"),
    ("preset", "", "preset '': need a preset name"),
    ("operands", "evil", "operands 'evil': choose one of"),
    ("unknown_knob", 1, "config: unknown key 'unknown_knob'"),
])
def test_download_refuses_a_bad_config_with_a_recomputed_fingerprint(
        zoo_server, synthetic_zoo, tmp_path, capsys, field, value, message):
    manifest = json.loads((synthetic_zoo / "manifest.json").read_text())
    manifest["config"][field] = value
    publish(synthetic_zoo, refingerprint(manifest))
    out = tmp_path / "dl"
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    line = one_line_error(code, err)
    assert "manifest.json" in line and message in line, line
    assert "config." in line or "config:" in line
    assert_nothing_written(out)
    assert not zoo_server.gets(".parquet")


def test_a_huge_num_models_is_refused_before_anything_is_planned(tmp_path):
    # 10**5 is the bound; a config at the bound plans in well under a second
    with pytest.raises(TinyZooError, match="num_models 100001"):
        dataclasses.replace(DATA_CONFIG, num_models=100_001)
    big = dataclasses.replace(DATA_CONFIG, num_models=100_000, group_size=100_000)
    assert len(ZooLayout.of(big).groups) == 3


@pytest.mark.parametrize("edit, message", [
    (lambda m: m.update(num_models=31), "num_models 31 but the config has 30"),
    (lambda m: m.update(num_groups="9"), "num_groups '9': need an integer"),
    (lambda m: m.update(complete="yes"), "complete 'yes': need true or false"),
    (lambda m: m.update(extra=1), "unknown key 'extra'"),
    (lambda m: m.pop("versions"), "missing key 'versions'"),
    (lambda m: m.update(format_version=3), "zoo format version 3, this builder reads "
     "versions 1 and 2"),
    (lambda m: m.update(format_version=1), "group 0, split train, rows 4; the config's "
     "group 0 has 4 rows in this file"),
    (lambda m: m["shards"].update({"test-00000-of-00009.parquet": m["shards"][SHARDS[0]]}),
     "lists unknown shard test-00000-of-00009.parquet (not a file of a format-2 zoo"),
    (lambda m: m["shards"][SHARDS[0]].update(split="val"),
     "split val, rows 4; the config's group 0 has 4 rows of split train"),
    (lambda m: m["shards"][SHARDS[0]].pop("split"), "group 0, rows 4; the config's group 0"),
    (lambda m: m["shards"].update({"../evil.parquet": m["shards"][SHARDS[0]]}),
     "shards key '../evil.parquet': need a shard name"),
    (lambda m: m["shards"][SHARDS[0]].update(rows=5), "group 0 has 4 rows"),
    (lambda m: m["shards"][SHARDS[0]].update(rows=-1), "rows -1: need 1 <= "),
    (lambda m: m["shards"][SHARDS[0]].update(url="http://x"), "unknown key 'url'"),
    (lambda m: m["shards"].update({"train-00099-of-00099.parquet":
                                   m["shards"][SHARDS[0]]}),
     "lists unknown shard train-00099-of-00099.parquet"),
    (lambda m: m["versions"].update(jax=["0.1"]), "versions.jax ['0.1']: need a version"),
])
def test_every_manifest_field_is_checked(synthetic_zoo, edit, message):
    manifest = json.loads((synthetic_zoo / "manifest.json").read_text())
    edit(manifest)
    with pytest.raises(TinyZooError) as excinfo:
        parse_manifest(json.dumps(manifest).encode(), "M.json")
    line = str(excinfo.value)
    assert line.startswith("M.json: ") and message in line and "\n" not in line, line


@pytest.mark.parametrize("raw, message", [
    (b"[" * 100_000, "nested too deeply"),
    (b'{"a":' * 40 + b"1" + b"}" * 40, "nested deeper than 32 levels"),
    (b'{"format_version": NaN}', "non-standard constant NaN"),
    (b'{"x": "' + b"a" * (5 << 20) + b'"}', "more than the 4,194,304 such a file may have"),
    (b"\xff\xfe{}", "truncated or invalid JSON"),
], ids=["deep-list", "deep-object", "nan", "huge", "not-utf8"])
def test_hostile_json_is_one_line(zoo_server, synthetic_zoo, tmp_path, capsys, raw, message):
    publish(synthetic_zoo, raw)
    out = tmp_path / "dl"
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    line = one_line_error(code, err)
    assert "manifest.json" in line and message in line, line
    assert_nothing_written(out)


# --------------------------------------------------------------- 3: duplicate keys


def test_a_shard_listed_twice_is_refused(zoo_server, synthetic_zoo, tmp_path, capsys):
    raw = (synthetic_zoo / "manifest.json").read_text()
    real = json.loads(raw)["shards"][SHARDS[0]]
    bogus = json.dumps({**real, "sha256": "0" * 64})
    key = json.dumps(SHARDS[0])
    # the bogus entry first, the real one second: "last key wins" would accept it
    at = raw.index(key + ":")
    doctored = raw[:at] + f"{key}: {bogus}, " + raw[at:]
    assert doctored.count(key) == 2 and json.loads(doctored)["shards"][SHARDS[0]] == real
    publish(synthetic_zoo, doctored.encode())
    out = tmp_path / "dl"
    code, _, err = cli(capsys, "download", zoo_server.url, "--out", str(out), "--quiet")
    line = one_line_error(code, err)
    assert "manifest.json" in line and f"duplicate key {key}" in line.replace("'", '"')
    assert_nothing_written(out)


def test_a_local_manifest_with_a_duplicate_key_is_refused(synthetic_zoo, capsys):
    raw = (synthetic_zoo / "manifest.json").read_text()
    publish(synthetic_zoo, raw.replace('"complete": true', '"complete": false, '
                                       '"complete": true').encode())
    code, _, err = cli(capsys, "info", str(synthetic_zoo), "--png",
                       str(synthetic_zoo / "h.png"))
    assert "duplicate key 'complete'" in one_line_error(code, err)


# --------------------------------------------------------------- 2: damaged shards


def damage(zoo: Path, shard: str) -> Path:
    """Change one model's success rate in ``shard``, keeping it a valid Parquet file of
    the same schema (what four overwritten bytes in a data page do): readable, but not
    the bytes the manifest hashed."""
    path = zoo / "data" / shard
    table = pq.read_table(path)
    column = table.column(LABEL).to_pylist()
    column[0] = 1.0 - column[0]
    index = table.schema.get_field_index(LABEL)
    table = table.set_column(index, table.schema.field(index),
                             pa.array(column, table.schema.field(index).type))
    pq.write_table(table, path)
    return path


def test_a_damaged_shard_is_refused_by_every_reader(synthetic_zoo, tmp_path, capsys):
    path = damage(synthetic_zoo, SHARDS[1])
    message = f"{path}: sha256"
    for opener in (lambda: load_zoo(synthetic_zoo), lambda: open_local_zoo(synthetic_zoo,
                                                                          "test")):
        with pytest.raises(TinyZooError) as excinfo:
            opener()
        assert str(excinfo.value).startswith(message)
        assert "damaged shard" in str(excinfo.value) and "tinyzoo verify" in str(excinfo.value)
    for args in (["export", str(synthetic_zoo), "--format", "npz", "--out",
                  str(tmp_path / "z.npz"), "--quiet"],
                 ["info", str(synthetic_zoo), "--png", str(tmp_path / "h.png")],
                 ["bench", "constant", "--zoo", str(synthetic_zoo), "--seeds", "1",
                  "--results-dir", str(tmp_path / "results"), "--quiet"],
                 ["audit", "linear-stats", "--zoo", str(synthetic_zoo), "--quiet"]):
        code, _, err = cli(capsys, *args)
        line = one_line_error(code, err)
        assert line.startswith(f"tinyzoo: error: {message}"), (args, line)
    assert not (tmp_path / "z.npz").exists() and not (tmp_path / "h.png").exists()
    assert not (tmp_path / "results").exists() or not list((tmp_path / "results").iterdir())


def test_no_verify_reads_a_damaged_zoo_and_a_rewritten_shard_is_hashed_again(
        synthetic_zoo, monkeypatch):
    zoo = open_local_zoo(synthetic_zoo)  # verified: intact
    assert len(zoo) == DATA_CONFIG.num_models
    damage(synthetic_zoo, SHARDS[0])
    with pytest.raises(TinyZooError, match="damaged shard"):
        open_local_zoo(synthetic_zoo)  # the file changed since: hashed again
    assert len(open_local_zoo(synthetic_zoo, verify=False)) == DATA_CONFIG.num_models
    monkeypatch.setenv(NO_VERIFY_ENV, "1")
    assert len(load_zoo(synthetic_zoo)) == DATA_CONFIG.num_models
    with pytest.raises(TinyZooError, match="damaged shard"):
        load_zoo(synthetic_zoo, verify=True)
