"""The evaluation protocol: train a predictor on the train split, select on val, test once.

For one seed ``s`` (paper section 4.1, made precise; defaults from the paper):

1. Features of each split come from :meth:`Predictor.features` on the weights
   (``(B, *tensor_shape, 1)`` per tensor). Cached predictors compute them once per
   split; if ``standardize_features``, they are standardised with the **train**
   split's mean and standard deviation (zero deviations become 1).
2. Training: Adam (``learning_rate`` 1e-3) on the binary cross-entropy between
   ``sigmoid(logit)`` and the success rate, batches of ``batch_size`` = 10 train models
   in an order drawn from ``numpy.random.default_rng([s, epoch])``, for ``epochs`` = 10
   epochs; parameters initialised from ``jax.random.PRNGKey(s)``. With ``augment``,
   every training model is first relabelled by a random permutation of its hidden
   units (the GRU's true symmetry: :func:`zoo_builder.spec.seq2seq_spec` with fixed
   vocabulary axes), which leaves its function unchanged.
3. After each epoch: predictions on val, Kendall's tau-b against the val labels. The
   parameters of the epoch with the best val tau are kept (ties and NaN: the earlier
   epoch wins; if every tau is NaN, the last epoch).
4. Once training is over: predictions on test with the kept parameters, and only then
   the test labels are read, once, to compute the test metrics.

The test split's labels are read in step 4 only; val and test predictions read their
weights through :meth:`~zoo_builder.zoo.Zoo.params`, which returns no labels.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from benchmarks.metrics import all_metrics, kendall_tau
from predictors.base import Predictor
from predictors.unf import permute, random_permutations
from zoo_builder.spec import seq2seq_spec
from zoo_builder.zoo import Zoo, open_local_zoo

__all__ = ["ProtocolConfig", "RunResult", "TrainedPredictor", "run_protocol",
           "symmetry_spec", "permute_models"]


@dataclass(frozen=True)
class ProtocolConfig:
    """Protocol settings (defaults: the paper's)."""

    epochs: int = 10
    batch_size: int = 10
    learning_rate: float = 1e-3
    augment: bool = False
    eval_batch_size: int = 50

    def to_dict(self) -> dict:
        return {"epochs": self.epochs, "batch_size": self.batch_size,
                "learning_rate": self.learning_rate, "loss": "binary cross-entropy on SR",
                "augment": self.augment,
                "selection": "best validation Kendall tau-b over epochs; test once"}


def symmetry_spec() -> dict:
    """The zoo model's true symmetry: hidden units permuted, vocabulary axes fixed."""
    return seq2seq_spec(vocab=None)


def permute_models(params: dict, rng: np.random.Generator) -> dict:
    """Each model of ``params`` (leaves ``(B, *shape, 1)``) under its own random hidden
    permutation; numpy in, numpy out."""
    spec = symmetry_spec()
    b = jax.tree_util.tree_leaves(params)[0].shape[0]
    out = []
    for k in range(b):
        one = jax.tree_util.tree_map(lambda x, k=k: x[k], params)
        perms = random_permutations(rng, spec, one, leading=0, trailing=1)
        out.append(permute(one, spec, perms, leading=0, trailing=1))
    return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *out)


def _take(tree: Any, index: np.ndarray) -> Any:
    return jax.tree_util.tree_map(lambda x: x[index], tree)


def _pad(tree: Any, size: int) -> Any:
    def pad(x):
        n = x.shape[0]
        return x if n == size else np.concatenate([x, np.repeat(x[-1:], size - n, 0)], 0)

    return jax.tree_util.tree_map(pad, tree)


@dataclass
class TrainedPredictor:
    """A predictor with its trained variables: ``predict(params) -> (B,)`` SR in [0, 1]."""

    predictor: Predictor
    spec: Any
    variables: Any
    apply: Callable
    standardizer: tuple[np.ndarray, np.ndarray] | None
    eval_batch_size: int = 50

    def features(self, params: dict) -> Any:
        feats = self.predictor.features(params, self.spec)
        if self.standardizer is not None:
            mean, std = self.standardizer
            feats = (np.asarray(feats, np.float32) - mean) / std
        return feats

    def predict_features(self, feats: Any) -> np.ndarray:
        n = jax.tree_util.tree_leaves(feats)[0].shape[0]
        out = []
        for start in range(0, n, self.eval_batch_size):
            chunk = _take(feats, np.arange(start, min(n, start + self.eval_batch_size)))
            size = jax.tree_util.tree_leaves(chunk)[0].shape[0]
            logits = self.apply(self.variables, _pad(chunk, self.eval_batch_size))
            out.append(np.asarray(jax.nn.sigmoid(logits))[:size])
        return np.concatenate(out).astype(np.float64)

    def predict(self, params: dict) -> np.ndarray:
        """Predicted SR of a batch of weights (leaves ``(B, *shape, 1)``)."""
        return self.predict_features(self.features(params))

    def predict_zoo(self, zoo: Zoo) -> np.ndarray:
        """Predicted SR of every model of ``zoo``'s split, in ``model_ids`` order (reads
        weights only, never labels)."""
        preds = []
        for start in range(0, len(zoo), self.eval_batch_size):
            ids = zoo.model_ids[start : start + self.eval_batch_size]
            preds.append(self.predict(zoo.params(ids, channel_axis=True)))
        return np.concatenate(preds)


@dataclass
class RunResult:
    """One seed of the protocol."""

    seed: int
    best_epoch: int
    epochs_run: int
    val: dict
    test: dict
    val_tau_per_epoch: list[float]
    train_loss_per_epoch: list[float]
    param_count: int
    wall_time_s: float
    test_model_ids: np.ndarray
    test_predicted: np.ndarray
    test_actual: np.ndarray
    trained: TrainedPredictor = field(repr=False)

    def to_record(self) -> dict:
        """The run as stored in a result file (``runs[i]``)."""
        return {"seed": self.seed, "best_epoch": self.best_epoch,
                "epochs_run": self.epochs_run, "val": self.val, "test": self.test,
                "val_tau_per_epoch": self.val_tau_per_epoch,
                "train_loss_per_epoch": self.train_loss_per_epoch,
                "param_count": self.param_count, "wall_time_s": round(self.wall_time_s, 2)}


def _programs(predictor: Predictor, module, learning_rate: float):
    """``(apply, jitted apply, jitted Adam step)`` for ``module``, cached on the predictor
    instance so that the seeds of one benchmark compile them once."""
    cache = predictor.__dict__.setdefault("_tinyzoo_programs", {})
    key = (repr(module), learning_rate)
    if key not in cache:
        optimizer = optax.adam(learning_rate)

        def apply(variables, feats):
            return module.apply(variables, feats).reshape(-1)

        @jax.jit
        def step(variables, opt_state, feats, sr):
            def loss_fn(v):
                return jnp.mean(optax.sigmoid_binary_cross_entropy(apply(v, feats), sr))

            loss, grads = jax.value_and_grad(loss_fn)(variables)
            updates, opt_state = optimizer.update(grads, opt_state, variables)
            return optax.apply_updates(variables, updates), opt_state, loss

        cache[key] = (apply, jax.jit(apply), step)
    return cache[key]


def _split_features(predictor: Predictor, spec: Any, zoo: Zoo, batch: int) -> Any:
    parts = [predictor.features(zoo.params(zoo.model_ids[s : s + batch], channel_axis=True),
                                spec)
             for s in range(0, len(zoo), batch)]
    return jax.tree_util.tree_map(lambda *xs: np.concatenate(xs, 0), *parts)


def run_protocol(
    predictor: Predictor,
    zoo_dir: str,
    seed: int = 0,
    config: ProtocolConfig | None = None,
    progress: bool = False,
    zoos: tuple[Zoo, Zoo, Zoo] | None = None,
) -> RunResult:
    """Run the protocol (module docstring) for one seed; ``zoos`` may pass the opened
    (train, val, test) splits to share their readers across runs."""
    config = config or ProtocolConfig()
    t0 = time.perf_counter()
    train, val, test = zoos or tuple(open_local_zoo(zoo_dir, s) for s in ("train", "val", "test"))
    spec = train.spec
    module = predictor.module(spec)

    cached = predictor.cache_features
    standardizer = None
    train_feats = None
    if cached:
        train_feats = _split_features(predictor, spec, train, config.eval_batch_size)
        if predictor.standardize_features:
            arr = np.asarray(train_feats, np.float64)
            std = arr.std(axis=0)
            standardizer = (arr.mean(axis=0).astype(np.float32),
                            np.where(std > 0, std, 1.0).astype(np.float32))
            train_feats = ((arr - standardizer[0]) / standardizer[1]).astype(np.float32)
    elif predictor.standardize_features:
        raise ValueError(f"{predictor.name}: standardize_features needs cache_features")

    _, apply_jit, step = _programs(predictor, module, config.learning_rate)
    trained = TrainedPredictor(predictor, spec, None, apply_jit, standardizer,
                               config.eval_batch_size)
    train_sr = train.test_sr.astype(np.float32)  # train labels: allowed
    n = len(train)
    bs = config.batch_size

    def batch_features(order: np.ndarray, rng: np.random.Generator) -> Any:
        if cached and not config.augment:
            return _take(train_feats, order)
        params = train.params(train.model_ids[order], channel_axis=True)
        if config.augment:
            params = permute_models(params, rng)
        return trained.features(params)

    example = batch_features(np.arange(min(bs, n)), np.random.default_rng(0))
    variables = module.init(jax.random.PRNGKey(seed), example)
    param_count = int(sum(x.size for x in jax.tree_util.tree_leaves(variables)))
    opt_state = optax.adam(config.learning_rate).init(variables)

    val_sr = val.test_sr.astype(np.float64)  # val labels: for model selection only
    # cached predictors: val features once (standardised with the train statistics)
    val_feats = None
    if cached:
        val_feats = _split_features(predictor, spec, val, config.eval_batch_size)
        if standardizer is not None:
            val_feats = ((np.asarray(val_feats, np.float32) - standardizer[0])
                         / standardizer[1])

    def predict_val() -> np.ndarray:
        if val_feats is not None:
            return trained.predict_features(val_feats)
        return trained.predict_zoo(val)

    best_tau, best_epoch, best_variables = -np.inf, 0, variables
    taus, losses = [], []
    bar = tqdm(range(config.epochs), desc=f"{predictor.name} seed {seed}", unit="epoch",
               disable=not progress)
    for epoch in bar:
        rng = np.random.default_rng([seed, epoch])
        order = rng.permutation(n)
        total, count = 0.0, 0
        for start in range(0, n, bs):
            idx = order[start : start + bs]
            feats = batch_features(idx, rng)
            variables, opt_state, loss = step(variables, opt_state, feats, train_sr[idx])
            total += float(loss) * len(idx)
            count += len(idx)
        trained.variables = variables
        tau = kendall_tau(predict_val(), val_sr) if len(val) > 1 else float("nan")
        taus.append(float(tau))
        losses.append(total / max(count, 1))
        if np.isfinite(tau) and tau > best_tau:
            best_tau, best_epoch, best_variables = tau, epoch + 1, variables
        elif not np.isfinite(best_tau) and not any(np.isfinite(taus)):
            best_epoch, best_variables = epoch + 1, variables
        bar.set_postfix(val_tau=f"{tau:.4f}", loss=f"{losses[-1]:.4f}")

    trained.variables = best_variables
    val_pred = predict_val()
    test_pred = trained.predict_zoo(test)
    test_sr = test.test_sr.astype(np.float64)  # the one read of the test labels
    return RunResult(
        seed=seed, best_epoch=best_epoch, epochs_run=config.epochs,
        val=all_metrics(val_pred, val_sr), test=all_metrics(test_pred, test_sr),
        val_tau_per_epoch=taus, train_loss_per_epoch=losses, param_count=param_count,
        wall_time_s=time.perf_counter() - t0, test_model_ids=test.model_ids,
        test_predicted=test_pred, test_actual=test_sr, trained=trained)

