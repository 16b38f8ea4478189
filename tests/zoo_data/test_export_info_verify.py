"""``tinyzoo export`` (npz in the paper script's layout, safetensors per model),
``tinyzoo info`` and ``tinyzoo verify`` on a synthetic zoo, through the CLI."""

from __future__ import annotations

import json

import datasets
import numpy as np
import pytest
from safetensors import safe_open

from tests.fixtures.cli import cli, one_line_error
from tests.fixtures.zoos import DATA_CONFIG
from zoo_data.archive.layout import ZooLayout
from zoo_data.archive.schema import tensor_shapes
from zoo_data.archive.splits import split_ids
from zoo_data.zoo import load_zoo

SHAPES = tensor_shapes(DATA_CONFIG)




# --------------------------------------------------------------------------- npz


def test_npz_has_the_paper_scripts_layout(synthetic_zoo, tmp_path, capsys):
    out = tmp_path / "zoo.npz"
    code, stdout, err = cli(capsys, "export", str(synthetic_zoo), "--format", "npz",
                            "--out", str(out), "--quiet")
    assert code == 0, err
    raw = np.load(out)
    assert set(raw.keys()) == set(SHAPES) | {"test_srs", "test_losses"}
    zoo = load_zoo(synthetic_zoo)
    for path, shape in SHAPES.items():
        assert raw[path].shape == (30, *shape, 1) and raw[path].dtype == np.float32
    # read it the way train_pred.py does: every key but the labels is a tensor,
    # index ranges give train / val / test
    params = {k: raw[k] for k in raw.files if k not in ("test_srs", "test_losses")}
    for name in ("train", "val", "test"):
        ids = split_ids(30, name)
        index = range(int(ids[0]), int(ids[-1]) + 1)
        part = load_zoo(synthetic_zoo, split=name)
        assert np.array_equal(raw["test_srs"][index], part.labels)
        assert np.array_equal(raw["test_losses"][index],
                              part.metadata["test_loss"].to_numpy(np.float32))
        expected = part.params(part.model_ids, channel_axis=True)
        for path in params:
            node = expected
            for key in path.split("/"):
                node = node[key]
            assert np.array_equal(params[path][index], node), path
    assert len(zoo) == 30


def test_npz_export_errors_write_nothing(synthetic_zoo, tmp_path, capsys):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    code, _, err = cli(capsys, "export", str(synthetic_zoo), "--format", "npz", "--out",
                       str(tmp_path / "missing" / "zoo.npz"), "--quiet")
    assert "does not exist" in one_line_error(code, err)
    code, _, err = cli(capsys, "export", str(synthetic_zoo), "--format", "npz", "--out",
                       str(tmp_path), "--quiet")
    assert "is a directory" in one_line_error(code, err)
    code, _, err = cli(capsys, "export", str(synthetic_zoo), "--format", "csv", "--out",
                       str(tmp_path / "x"))
    assert "format 'csv'" in one_line_error(code, err)
    code, _, err = cli(capsys, "export", str(synthetic_zoo), "--format", "npz", "--out",
                       str(tmp_path / "x.npz"), "--split", "test")
    assert "split 'test'" in one_line_error(code, err)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- safetensors


def test_safetensors_one_file_per_model_with_metadata(synthetic_zoo, tmp_path, capsys):
    out = tmp_path / "st"
    code, _, err = cli(capsys, "export", str(synthetic_zoo), "--format", "safetensors",
                       "--out", str(out), "--split", "val", "--quiet")
    assert code == 0, err
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [f"model-{i:05d}.safetensors" for i in (24, 25, 26)]
    zoo = load_zoo(synthetic_zoo)
    for f in files:
        with safe_open(str(f), "np") as st:
            meta = st.metadata()
            model_id = int(meta["model_id"])
            assert meta["split"] == "val" and meta["preset"] == "data-test"
            assert meta["zoo_manifest_sha256"] == zoo.manifest_sha256
            assert float(meta["test_sr"]) == float(zoo.metadata.loc[model_id, "test_sr"])
            assert set(st.keys()) == set(SHAPES)
            flat = zoo.tensors([model_id])
            for path in SHAPES:
                assert np.array_equal(st.get_tensor(path), flat[path][0])


# --------------------------------------------------------------------------- info


def test_info_prints_the_summary_and_writes_a_png(synthetic_zoo, tmp_path, capsys):
    code, stdout, err = cli(capsys, "info", str(synthetic_zoo))
    assert code == 0, err
    assert "models:         30" in stdout
    assert "train 24, val 3, test 3" in stdout
    assert "uniform-lengths)" in stdout and "(constant learning rate)" in stdout
    assert "trainer revision 2" in stdout
    assert f"verified ({len(ZooLayout.of(DATA_CONFIG).shard_names)} shards)" in stdout
    png = synthetic_zoo / "sr_histogram.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the PNG beside the card does not disturb datasets or verify
    splits = datasets.load_dataset("parquet", data_dir=str(synthetic_zoo),
                                   cache_dir=str(tmp_path / "hf"))
    assert {k: v.num_rows for k, v in splits.items()} == {"train": 24, "validation": 3,
                                                          "test": 3}
    assert cli(capsys, "verify", str(synthetic_zoo))[0] == 0

    code, stdout, _ = cli(capsys, "info", str(synthetic_zoo), "--json", "--png",
                          str(tmp_path / "h.png"))
    summary = json.loads(stdout)
    sr = load_zoo(synthetic_zoo).labels
    assert summary["num_models"] == 30
    assert summary["splits"] == {"train": 24, "val": 3, "test": 3}
    assert summary["sr"]["quantiles"]["0.5"] == pytest.approx(float(np.median(sr)))
    assert summary["sr"]["share_above_0.5"] == pytest.approx(float(np.mean(sr > 0.5)))
    assert summary["checksums"]["status"] == "verified"
    assert summary["model"]["operands"] == "uniform-lengths"
    assert summary["hyperparameters"]["lr_schedule"] == "constant"
    assert summary["trainer_revision"] == DATA_CONFIG.trainer_revision == 2
    assert (tmp_path / "h.png").is_file()


def test_info_refuses_a_damaged_shard_unless_told_not_to_verify(synthetic_zoo, capsys):
    shard = synthetic_zoo / "data" / ZooLayout.of(DATA_CONFIG).shard_names[0]
    blob = bytearray(shard.read_bytes())
    blob[100] ^= 1
    shard.write_bytes(bytes(blob))
    code, _, err = cli(capsys, "info", str(synthetic_zoo))
    line = one_line_error(code, err)
    assert shard.name in line and "damaged shard" in line and "tinyzoo verify" in line
    # Opting out of verification describes the zoo anyway, without a checksum verdict.
    code, stdout, _ = cli(capsys, "info", str(synthetic_zoo), "--no-verify")
    assert code == 0 and "checksums:      not checked" in stdout


# --------------------------------------------------------------------------- verify


def test_verify_passes_on_a_good_zoo(synthetic_zoo, capsys):
    code, stdout, stderr = cli(capsys, "verify", str(synthetic_zoo))
    assert code == 0
    assert "30 models; zoo complete" in stdout
    # hashing progress on stderr, plain lines when it is not a terminal
    assert f"verifying {synthetic_zoo}" in stderr and "shard" in stderr
    assert "\r" not in stderr and "\x1b" not in stderr
    code, _, stderr = cli(capsys, "verify", str(synthetic_zoo), "--quiet")
    assert code == 0 and stderr == ""


def test_verify_names_the_corrupted_missing_or_stray_file(synthetic_zoo, capsys):
    names = ZooLayout.of(DATA_CONFIG).shard_names
    (synthetic_zoo / "data" / names[2]).write_bytes(b"not parquet")
    code, _, err = cli(capsys, "verify", str(synthetic_zoo), "--quiet")
    line = one_line_error(code, err)
    assert names[2] in line and "sha256 mismatch" in line
    (synthetic_zoo / "data" / names[2]).unlink()
    (synthetic_zoo / "data" / "notes.txt").write_text("hi")
    code, _, err = cli(capsys, "verify", str(synthetic_zoo), "--quiet")
    line = one_line_error(code, err)
    assert names[2] in line and "missing shard" in line and "1 more problem" in line


def test_verify_rejects_a_truncated_manifest_or_a_non_zoo(synthetic_zoo, tmp_path, capsys):
    manifest = synthetic_zoo / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:50])
    code, _, err = cli(capsys, "verify", str(synthetic_zoo), "--quiet")
    assert "manifest.json: truncated" in one_line_error(code, err)
    code, _, err = cli(capsys, "verify", str(tmp_path / "empty"))
    assert "no zoo manifest" in one_line_error(code, err)
