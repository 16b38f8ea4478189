"""A predictor in plain PyTorch, from the zoo's ``DataLoader`` s to a submission file.

Trains a small MLP on simple statistics of every weight tensor (for each of the 22
tensors: the log of its mean and of its largest absolute entry, its mean and its
standard deviation: 88 numbers, standardised with the train split's), with binary
cross-entropy on the success rate, on the train split; after each epoch it measures
Kendall's tau on the val split and keeps the best epoch's weights; then it predicts
the test split and writes ``model_id,predicted_sr`` rows for ``tinyzoo submit``::

    pip install "tiny-rnn-zoo[torch]"
    python -m predictors.examples.torch_predictor --zoo data/zoos/mini --out preds.csv
    tinyzoo submit --predictions preds.csv --zoo data/zoos/mini --name torch-mlp

The statistics do not change when the hidden units of a model are permuted (the GRU's
symmetry), so neither do the predictions. The data path is
:func:`zoo_data.torch_data.torch_loaders`: batches of ``(B, *shape)`` float32 tensors
keyed by parameter path, ``"test_sr"`` ``(B,)`` and ``"model_id"`` ``(B,)``.
"""

from __future__ import annotations

import argparse
import copy

import numpy as np
from scipy.stats import kendalltau

from zoo_data import load_zoo
from zoo_data.torch_data import torch_loaders

STATS_PER_TENSOR = 4


def tensor_statistics(batch: dict, paths: list[str]):
    """``(B, 4 * len(paths))`` float32: per tensor (in ``paths`` order) log mean |w|,
    log max |w|, mean and standard deviation over its entries."""
    import torch

    columns = []
    for path in paths:
        w = batch[path].flatten(1)  # (B, n)
        a = w.abs()
        columns += [torch.log(a.mean(1) + 1e-12), torch.log(a.amax(1) + 1e-12),
                    w.mean(1), w.std(1, correction=0)]
    return torch.stack(columns, dim=1)


def build_model(paths: list[str], train_loader, hidden: int):
    """The MLP ``Linear(88, hidden) -> ReLU -> Linear(hidden, 1)`` behind the statistics,
    standardised by the train split's mean and standard deviation (kept as buffers)."""
    import torch
    from torch import nn

    with torch.no_grad():
        feats = torch.cat([tensor_statistics(b, paths) for b in train_loader])
    mean, std = feats.mean(0), feats.std(0).clamp_min(1e-6)

    class StatsMLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", mean)
            self.register_buffer("std", std)
            self.mlp = nn.Sequential(nn.Linear(feats.shape[1], hidden), nn.ReLU(),
                                     nn.Linear(hidden, 1))

        def forward(self, batch: dict):  # -> (B,) logits
            x = (tensor_statistics(batch, paths) - self.mean) / self.std
            return self.mlp(x)[:, 0]

    return StatsMLP()


def predict(model, loader) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(model_id, predicted_sr, test_sr)`` of every row of ``loader``, in its order."""
    import torch

    ids, preds, labels = [], [], []
    model.eval()
    with torch.no_grad():
        for batch in loader:
            ids.append(batch["model_id"].numpy())
            preds.append(torch.sigmoid(model(batch)).numpy())
            labels.append(batch["test_sr"].numpy())
    return np.concatenate(ids), np.concatenate(preds), np.concatenate(labels)


def train(zoo_dir: str, epochs: int = 20, batch_size: int = 32, lr: float = 1e-3,
          hidden: int = 64, seed: int = 0, log=print):
    """Train on the train split, select the epoch by val Kendall tau; returns the model
    (best epoch's weights), the loaders and the zoo."""
    import torch

    torch.manual_seed(seed)
    zoo = load_zoo(zoo_dir)
    loaders = torch_loaders(zoo, batch_size, seed=seed)
    paths = sorted(zoo.tensor_shapes)
    model = build_model(paths, loaders["train"], hidden)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    best_tau, best_state = -np.inf, copy.deepcopy(model.state_dict())
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        for batch in loaders["train"]:  # a new shuffle every epoch, drawn from `seed`
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                model(batch), batch["test_sr"])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(batch["model_id"])
        _, pred, actual = predict(model, loaders["val"])
        tau = kendalltau(pred, actual).statistic
        tau = -np.inf if np.isnan(tau) else float(tau)
        if tau > best_tau:
            best_tau, best_state = tau, copy.deepcopy(model.state_dict())
        log(f"epoch {epoch}: train loss {total / len(loaders['train'].dataset):.4f}, "
            f"val tau {tau:.4f}")
    model.load_state_dict(best_state)
    log(f"best val tau {best_tau:.4f}")
    return model, loaders, zoo


def write_submission(path: str, zoo, model_ids: np.ndarray, predicted: np.ndarray) -> None:
    """``model_id,predicted_sr`` rows after the zoo's manifest hash (benchmarks.submit)."""
    rows = [f"# zoo_manifest_sha256={zoo.manifest_sha256}", "model_id,predicted_sr"]
    rows += [f"{int(i)},{float(np.clip(p, 0.0, 1.0)):.6f}"
             for i, p in zip(model_ids, predicted, strict=True)]
    with open(path, "w") as f:
        f.write("\n".join(rows) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zoo", required=True, help="zoo folder (or URL, hf://ORG/NAME)")
    parser.add_argument("--out", required=True, help="submission CSV to write")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: the tensors here are tiny, and "
                             "more threads only add overhead)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    model, loaders, zoo = train(args.zoo, args.epochs, args.batch_size, args.lr,
                                args.hidden, args.seed)
    ids, pred, _ = predict(model, loaders["test"])  # the test labels are not used
    write_submission(args.out, zoo, ids, pred)
    print(f"{args.out}: {len(ids)} test models")


if __name__ == "__main__":
    main()
