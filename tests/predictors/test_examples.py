"""The example files of predictors/examples/: the README's user predictor loads through
the user-predictor path (``file.py:Class``) and trains; the PyTorch example trains on
the zoo's DataLoaders and writes a submission that ``benchmarks.submit`` accepts."""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np
import pytest

from benchmarks import ProtocolConfig, run_protocol
from benchmarks.submit import submit
from predictors.registry import load_predictor
from predictors.unf import permute_each
from zoo_data.rnn.spec import seq2seq_spec, symmetry_spec
from zoo_data.zoo import load_zoo

EXAMPLES = Path(__file__).resolve().parents[2] / "predictors" / "examples"


def test_tensor_scales_loads_as_a_user_predictor_and_trains(synthetic_zoo_master):
    predictor, kind = load_predictor(f"{EXAMPLES / 'tensor_scales.py'}:TensorScales")
    assert kind == "user" and predictor.name == "tensor-scales"
    zoo = load_zoo(synthetic_zoo_master)
    params = zoo.with_split("val").params(zoo.with_split("val").model_ids, channel_axis=True)
    spec = seq2seq_spec()
    feats = predictor.features(params, spec)
    assert feats.shape == (3, 44) and np.all(np.isfinite(feats))
    permuted = permute_each(params, symmetry_spec(), np.random.default_rng(0))
    np.testing.assert_allclose(predictor.features(permuted, spec), feats, atol=1e-5)
    module = predictor.module(spec)  # every seed starts from the same (zero) model
    inits = [module.init(jax.random.PRNGKey(k), feats) for k in (0, 1)]
    assert all(np.array_equal(a, b) for a, b in zip(*map(jax.tree_util.tree_leaves, inits),
                                                     strict=True))
    result = run_protocol(predictor, zoo, 0,
                          ProtocolConfig(epochs=2, passes_per_epoch=1, patience=None))
    assert result.test["n"] == 3 and np.isfinite(result.test["mae"])


def test_torch_example_trains_and_its_submission_is_accepted(synthetic_zoo_master, tmp_path,
                                                             monkeypatch, capsys):
    pytest.importorskip("torch")
    import datasets

    from predictors.examples.torch_predictor import main

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf")
    out = tmp_path / "preds.csv"
    main(["--zoo", str(synthetic_zoo_master), "--out", str(out), "--epochs", "2",
          "--batch-size", "8", "--hidden", "8"])
    printed = capsys.readouterr().out
    assert "epoch 2: train loss" in printed and f"{out}: 3 test models" in printed
    report = submit(out, synthetic_zoo_master, "torch-mlp", tmp_path / "results")
    assert report.record["kind"] == "submission" and report.path.is_file()
    lines = out.read_text().splitlines()
    assert lines[0].startswith("# zoo_manifest_sha256=") and lines[1] == "model_id,predicted_sr"
    assert sorted(int(line.split(",")[0]) for line in lines[2:]) == [27, 28, 29]


def test_the_fixed_probes_ablation_loads_as_a_user_predictor_and_keeps_its_probes(
        synthetic_zoo_master):
    predictor, kind = load_predictor(f"{EXAMPLES / 'fixed_probes.py'}:FixedProbeGen")
    assert kind == "user" and predictor.name == "probegen-fixed"
    result = run_protocol(predictor, synthetic_zoo_master, 0,
                          ProtocolConfig(epochs=1, passes_per_epoch=1, patience=None,
                                         batch_size=8))
    trained = np.asarray(result.trained.variables["params"]["probes"])
    start = predictor.module(seq2seq_spec()).network.initial_probes(32, 0x9B0BE)
    np.testing.assert_array_equal(trained, start)  # trained, yet where they started
