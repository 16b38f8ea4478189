# %% [markdown]
# # Tiny RNN Zoo quickstart: from a weight-space idea to a row on the board
#
# This walks through the whole loop on the `tiny` zoo (24 GRUs; a few minutes on 2 CPU
# cores): build the zoo, load it (with `datasets` and with `load_zoo`), look at one
# model's weights and at the success rates, write a weight-space predictor in flax (and
# one in PyTorch), benchmark it under the protocol, read its row, interval and gain over
# the references on the board, and write a submission. The same steps are
# `examples/quickstart.ipynb`; set `QUICKSTART_DIR` to choose where files go.

# %%
import os
from pathlib import Path

import numpy as np

WORK = Path(os.environ.get("QUICKSTART_DIR", "quickstart-work")).resolve()
ZOO = WORK / "zoos" / "tiny"
RESULTS = WORK / "results"
WORK.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. Build the zoo (or download a published one)
# `tinyzoo build --preset tiny --out DIR` does the same from a shell; a published zoo
# loads with `load_zoo("https://.../zoo")` or `tinyzoo download URL`. A build is
# resumable and bitwise reproducible on a machine.

# %%
from zoo_builder.build import BuildRequest, run_build
from zoo_data.rnn.presets import get_preset

if not (ZOO / "manifest.json").is_file() or '"complete": true' not in (
        ZOO / "manifest.json").read_text():
    run_build(BuildRequest(ZOO, get_preset("tiny"), workers=2), progress=False)
print(sorted(p.name for p in (ZOO / "data").iterdir() if not p.name.startswith(".")))

# %% [markdown]
# ## 2. Load it: Hugging Face `datasets`, or `load_zoo`
# The folder is a `datasets` Parquet dataset with a card: `load_dataset` gives its
# three splits, one row per model (and checkpoint) with its weights and labels.

# %%
import datasets

hf = datasets.load_dataset(str(ZOO), cache_dir=str(WORK / "hf-cache"))
print(hf)

# %%
from zoo_data.zoo import load_zoo

zoo = load_zoo(ZOO)
train, val, test = (zoo.with_split(s) for s in ("train", "val", "test"))
print(zoo, len(train), len(val), len(test))
print(train.metadata[["learning_rate", "batch_size", "test_sr"]].head())

# %% [markdown]
# ## 3. One model's weights, and the success rates
# Weights come as flax's parameter tree: 22 tensors of a seq2seq GRU.

# %%
import jax

one = zoo.params(zoo.model_ids[:1])  # leaves (1, *shape)
for path, leaf in jax.tree_util.tree_flatten_with_path(one)[0][:4]:
    print(jax.tree_util.keystr(path), leaf.shape)
sr = zoo.labels
counts, edges = np.histogram(sr, bins=5, range=(0, 1))
print("success rate histogram:", dict(zip([f"{e:.1f}" for e in edges[:-1]], counts.tolist(),
                                          strict=True)))

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(4, 2.5))
ax.hist(sr, bins=10, range=(0, 1))
ax.set_xlabel("test success rate")
ax.set_ylabel("models")
fig.tight_layout()
fig.savefig(WORK / "sr_histogram.png")

# %% [markdown]
# ## 4. A weight-space predictor in flax
# A predictor names itself, optionally turns a batch of weights (leaves
# `(B, *shape, 1)`) into features, and gives a flax module with one logit per model.
# These features, each tensor's mean absolute entry and spread, do not change when
# hidden units are permuted, so the prediction is invariant to the GRU's symmetry.
# It lives in a file, as a submission does: the benchmark runs a file's predictor in a
# sealed process that never sees the test labels.

# %%
PREDICTOR = """
import flax.linen as nn
import jax
import numpy as np

from predictors.base import Predictor


class TensorSpread(Predictor):
    \"\"\"Per tensor: log mean |w| and log std of the entries -> a small MLP.\"\"\"

    name = "tensor-spread"
    display_name = "Tensor spread (quickstart)"
    cache_features = True  # small features: computed once per split
    standardize_features = True  # with the train split's mean and std

    def features(self, params, spec):
        columns = []
        for w in jax.tree_util.tree_leaves(params):
            flat = np.asarray(w).reshape(len(w), -1)
            columns += [np.log(np.abs(flat).mean(axis=1) + 1e-12),
                        np.log(flat.std(axis=1) + 1e-12)]
        return np.stack(columns, axis=1).astype(np.float32)  # (B, 44)

    def module(self, spec):
        return Head()


class Head(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Dense(32)(x))
        return nn.Dense(1)(x)[..., 0]
"""
source = WORK / "my_predictor.py"
source.write_text(PREDICTOR)
namespace: dict = {}
exec(PREDICTOR, namespace)  # the same class here, to look at its features
features = namespace["TensorSpread"]().features(zoo.params(zoo.model_ids[:3],
                                                           channel_axis=True), zoo.spec)
print("features of 3 models:", features.shape)

# %% [markdown]
# ## 5. Benchmark it under the protocol
# `run_benchmark` trains it for several seeds (the zoo's protocol: Adam, batch 10,
# selection on validation tau, the test split read once), audits its invariance and
# writes a result record; the same as `tinyzoo bench my_predictor.py:TensorSpread`.

# %%
from benchmarks.bench import run_benchmark

record, path = run_benchmark(f"{source}:TensorSpread", ZOO, seeds=3, results_dir=RESULTS,
                             progress=False, log=None)
print(record["display_name"], record["summary"]["test_kendall_tau"], path.name)

# %% [markdown]
# The board compares it with the built-ins and with the references that read no
# weights: a weight-space method is worth what it gains over those.

# %%
for method in ("statnn", "hparams", "train-loss"):
    run_benchmark(method, ZOO, seeds=3, results_dir=RESULTS, progress=False, log=None)

# %% [markdown]
# ## 6. The board: its row, interval and gain over the references

# %%
from benchmarks.leaderboard import write_leaderboard

board = write_leaderboard(RESULTS, WORK / "board")
lines = board.markdown.read_text().splitlines()
for line in lines:
    if line.startswith(("| rank", "| 1", "| 2", "| 3", "| 4", "| —")):
        print(line[:160])
print("forest plot:", sorted(p.name for p in (WORK / "board" / "forest").iterdir()))

# %% [markdown]
# The tiny zoo has 3 test models: too few for an interval (a bootstrap needs at least 3
# distinct test models in each resample) or a paired gain, so those cells read `—`. On a
# real zoo the same columns carry them; the committed board (if this is a checkout of
# the repository) shows each method's interval and its gain over the best reference that
# reads metadata only:

# %%
import pandas as pd

here = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
found = [c / "leaderboard" / "leaderboard.csv" for c in (Path.cwd(), here, here.parent)]
found = [c for c in found if c.is_file()]
if found:  # a checkout of the repository: its committed board
    committed = found[0]
    board_csv = pd.read_csv(committed)
    rows = board_csv[(board_csv["preset"] == "small-v2") & board_csv["split_scheme"].isna()
                     & (board_csv["section"] == "weight-space")]
    print(rows[["zoo", "method", "test_tau_mean", "test_tau_ci_low", "test_tau_ci_high",
                "gain_over_metadata_diff", "gain_over_metadata_low",
                "gain_over_metadata_high"]].to_string(index=False))

# %% [markdown]
# ## 7. The same in PyTorch, on the zoo's DataLoaders, and a submission
# `torch_loaders` gives each split as batches of tensors keyed by parameter path, with
# `test_sr` and `model_id`. A predictor trained anywhere is scored from a CSV of its
# test predictions (`tinyzoo submit`), here in-process.

# %%
import torch

from benchmarks.submit import submit
from zoo_data.torch_data import torch_loaders

loaders = torch_loaders(zoo, batch_size=8)
paths = [k for k in next(iter(loaders["train"])) if k not in ("test_sr", "model_id")]


def stats(batch):
    return torch.stack([torch.log(batch[p].abs().flatten(1).mean(1) + 1e-12) for p in paths],
                       dim=1)


model = torch.nn.Sequential(torch.nn.Linear(len(paths), 16), torch.nn.ReLU(),
                            torch.nn.Linear(16, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for _ in range(20):
    for batch in loaders["train"]:
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            model(stats(batch))[:, 0], batch["test_sr"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
rows = []
with torch.no_grad():
    for batch in loaders["test"]:
        predicted = torch.sigmoid(model(stats(batch))[:, 0])
        rows += zip(batch["model_id"].tolist(), predicted.tolist(), strict=True)
csv = WORK / "torch_predictions.csv"
csv.write_text("model_id,predicted_sr\n" + "".join(f"{i},{p:.6f}\n" for i, p in rows))
report = submit(csv, ZOO, "torch-quickstart", RESULTS)
print(report.record["display_name"], report.record["summary"]["test_kendall_tau"])
