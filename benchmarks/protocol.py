"""The evaluation protocol: train a predictor on the train split, select on val, test once.

For one seed ``s`` (paper section 4.1 and its predictor script, made precise; defaults
from :class:`benchmarks.protocol_config.ProtocolConfig`):

1. Features of each split come from :meth:`Predictor.features` on what the predictor
   declared it reads, asked once per run of :func:`benchmarks.inputs.input_provider`
   (weights: ``(B, *tensor_shape, 1)`` per tensor). Cached predictors (and every
   predictor that reads no weights), and any whose inputs fit in
   :data:`RESIDENT_BYTES`, compute them once per split; if ``standardize_features``,
   they are standardised with the **train** split's mean and standard deviation (zero
   deviations become 1).
2. Training: Adam (``learning_rate`` 1e-3) on the binary cross-entropy between
   ``sigmoid(logit)`` and the success rate, batches of ``batch_size`` = 10 train models.
   Pass ``k = 0, 1, ...`` visits every training model once, in an order drawn from
   ``numpy.random.default_rng([s, k])`` (:meth:`zoo_data.zoo.Zoo.batch_ids` with that
   generator); an *epoch* is ``passes_per_epoch`` = 10 passes, and the budget is
   ``epochs`` = 10 epochs, 100 passes, the paper script's. Parameters are initialised
   from ``jax.random.PRNGKey(s)``. With ``augment``, every training model is first
   relabelled by a random permutation of its hidden units (the zoo's true symmetry,
   :attr:`zoo_data.zoo.Zoo.symmetry`), which leaves its function unchanged. Resident
   features run many steps per compiled call (``AdamStep.scan``); the steps are the
   same.
3. After each epoch: predictions on val, Kendall's tau-b against the val labels. The
   parameters of the epoch with the best val tau are kept (ties and NaN: the earlier
   epoch wins; if every tau is NaN, the last epoch). With ``patience`` = P, training
   stops after the first epoch that is P epochs past the best one. The test inputs
   are also predicted after each epoch, for the learning curves only: those
   predictions are scored in step 4, never used for selection.
4. Once training is over: predictions on test with the kept parameters, and only then
   the test labels are read, once, to compute the test metrics (and the test tau of
   each epoch's predictions, ``test_tau_per_epoch``).

The test split's labels are read in step 4 only; every prediction reads its inputs
through the run's input provider, which reads no labels; the train labels come from
``Zoo.labels`` of the train split, by model id.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np

from benchmarks.inputs import InputProvider, input_provider
from benchmarks.metrics import all_metrics, kendall_tau
from benchmarks.protocol_config import ProtocolConfig
from benchmarks.training_step import AdamStep, compiled_init, training_programs
from predictors.base import Predictor
from zoo_data.common.progress import Progress, progress_bar
from zoo_data.errors import TinyZooError
from zoo_data.zoo import Zoo, open_local_zoo

__all__ = ["RunResult", "TrainedPredictor", "AdamStep", "run_protocol", "score_run",
           "training_programs"]


#: Inputs of at most this many bytes (train, val and test together) are read once and
#: kept for the whole run; larger zoos stream them from the shards every pass.
RESIDENT_BYTES = 2 << 30
#: At most this many bytes of training batches go into one compiled call of
#: ``AdamStep.scan``.
SCAN_BYTES = 256 << 20


def _fits_in_memory(inputs: InputProvider, splits: tuple[Zoo, ...]) -> bool:
    """Whether the inputs of every model of ``splits`` fit in :data:`RESIDENT_BYTES`
    (measured on the first model's)."""
    first = splits[0]
    one = inputs.inputs(first, first.model_ids[:1])
    per_model = sum(np.asarray(leaf).nbytes for leaf in jax.tree_util.tree_leaves(one))
    return per_model * sum(len(split) for split in splits) <= RESIDENT_BYTES


def _take(tree: Any, index: np.ndarray) -> Any:
    return jax.tree_util.tree_map(lambda x: x[index], tree)


def _pad(tree: Any, size: int) -> Any:
    def pad(x):
        n = x.shape[0]
        return x if n == size else np.concatenate([x, np.repeat(x[-1:], size - n, 0)], 0)

    return jax.tree_util.tree_map(pad, tree)


@dataclass
class TrainedPredictor:
    """A predictor with its trained variables: ``predict(inputs) -> (B,)`` SR in [0, 1];
    ``inputs`` is the run's provider of what it declared it reads
    (:mod:`benchmarks.inputs`)."""

    inputs: InputProvider
    spec: Any
    variables: Any
    apply: Callable
    standardizer: tuple[np.ndarray, np.ndarray] | None
    eval_batch_size: int = 50

    @property
    def predictor(self) -> Predictor:
        return self.inputs.predictor

    def features(self, inputs: Any) -> Any:
        """The predictor's features of one batch of its inputs (weights, or metadata
        :class:`~zoo_data.zoo.Columns`), standardised if it asked for it."""
        feats = self.predictor.features(inputs, self.spec)
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

    def predict(self, inputs: Any) -> np.ndarray:
        """Predicted SR ``(B,)`` of one batch of the provider's inputs (weights: leaves
        ``(B, *shape, 1)``)."""
        return self.predict_features(self.features(inputs))

    def predict_models(self, zoo: Zoo, ids: np.ndarray, *,
                       permute: np.random.Generator | None = None) -> np.ndarray:
        """Predicted SR ``(B,)`` of models ``ids`` of ``zoo``'s zoo; with ``permute``,
        each relabelled first by a permutation of its hidden units drawn from it
        (:meth:`benchmarks.inputs.InputProvider.inputs`)."""
        return self.predict(self.inputs.inputs(zoo, ids, permute=permute))

    def predict_zoo(self, zoo: Zoo) -> np.ndarray:
        """Predicted SR ``(N,)`` of every model of ``zoo``'s split (of the zoo it was
        trained on), in ``model_ids`` order (reads what the predictor declared, never
        labels)."""
        return np.concatenate([self.predict(inputs) for _, inputs in
                               self.inputs.batches(zoo, self.eval_batch_size)])


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
    passes_per_epoch: int = 1
    #: test predictions ``(N,)`` after each epoch, for the learning curves (never used
    #: for selection; scored with the test labels only after training, in
    #: :func:`score_run`)
    test_predicted_per_epoch: list = field(default_factory=list, repr=False)
    test_tau_per_epoch: list[float] | None = None

    def to_record(self) -> dict:
        """The run as stored in a result file (``runs[i]``)."""
        record = {"seed": self.seed, "best_epoch": self.best_epoch,
                  "epochs_run": self.epochs_run,
                  "best_pass": self.best_epoch * self.passes_per_epoch,
                  "passes_run": self.epochs_run * self.passes_per_epoch,
                  "val": self.val, "test": self.test,
                  "val_tau_per_epoch": self.val_tau_per_epoch,
                  "train_loss_per_epoch": self.train_loss_per_epoch,
                  "param_count": self.param_count,
                  "wall_time_s": round(self.wall_time_s, 2)}
        if self.test_tau_per_epoch is not None:
            record["test_tau_per_epoch"] = self.test_tau_per_epoch
        return record


def _split_features(inputs: InputProvider, spec: Any, split: Zoo, batch: int) -> Any:
    """The features of every model of ``split``, in ``model_ids`` order (leading axis
    ``N``)."""
    parts = [inputs.predictor.features(x, spec) for _, x in inputs.batches(split, batch)]
    return jax.tree_util.tree_map(lambda *xs: np.concatenate(xs, 0), *parts)


def _standardizer(feats: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, std)`` per feature of ``feats (N, F)`` in float64 (zero deviations
    become 1), as float32."""
    arr = np.asarray(feats, np.float64)
    std = arr.std(axis=0)
    return (arr.mean(axis=0).astype(np.float32),
            np.where(std > 0, std, 1.0).astype(np.float32))


def run_protocol(
    predictor: Predictor,
    zoo: Zoo | str | os.PathLike,
    seed: int = 0,
    config: ProtocolConfig | None = None,
    progress: bool | Progress = False,
    after_epoch: Callable[[int, TrainedPredictor], None] | None = None,
    score: bool = True,
) -> RunResult:
    """Run the protocol (module docstring) for one seed on ``zoo`` (a :class:`Zoo` of
    any split, or a zoo folder). Its train, val and test splits share one reader, so
    several runs on one opened zoo read the shards' metadata once.

    ``after_epoch(epoch, trained)``, if given, is called after each epoch with the
    predictor as it stands then (for analyses outside the protocol, such as
    ``scripts/running_max.py``; the protocol itself never looks at test labels
    before the end).

    ``progress``: ``True`` for a display of this run's epochs of its own
    (:func:`zoo_data.common.progress.progress_bar`), or a
    :class:`~zoo_data.common.progress.Progress`
    to advance by one per epoch (a benchmark's display over seeds x epochs); either
    shows the last epoch's val tau and train loss.

    ``score=False`` stops before the test labels are read: the result's ``test`` is
    empty and ``test_actual`` ``None``, for :func:`score_run` elsewhere (a code
    submission's sealed process, :mod:`benchmarks.sealed`)."""
    config = config or ProtocolConfig()
    t0 = time.perf_counter()
    if not isinstance(zoo, Zoo):
        zoo = open_local_zoo(zoo)
    train, val, test = (zoo.with_split(s) for s in ("train", "val", "test"))
    predictor.bind(zoo.config)  # first: a reference may declare its columns from the config
    inputs = input_provider(predictor, train)  # the one question: what it reads
    spec = train.spec
    module = predictor.module(spec)

    augment = config.augment and inputs.holds_weights  # metadata: nothing to permute
    # What holds no weights is small: kept for the whole run. So are weights that fit in
    # RESIDENT_BYTES (train, val and test together), unless each batch is permuted
    # afresh. Test *inputs* are read here; the test labels still only in step 4.
    cached = predictor.cache_features or not inputs.holds_weights
    resident = not augment and (cached or _fits_in_memory(inputs, (train, val, test)))
    standardizer = train_feats = val_feats = test_feats = None
    if cached or resident:  # features once, standardised with the train statistics
        train_feats = _split_features(inputs, spec, train, config.eval_batch_size)
        val_feats = _split_features(inputs, spec, val, config.eval_batch_size)
        if resident:
            test_feats = _split_features(inputs, spec, test, config.eval_batch_size)
        if predictor.standardize_features:
            standardizer = _standardizer(train_feats)
            train_feats = ((np.asarray(train_feats, np.float64) - standardizer[0])
                           / standardizer[1]).astype(np.float32)
            val_feats, test_feats = (
                None if f is None else (np.asarray(f, np.float32) - standardizer[0])
                / standardizer[1] for f in (val_feats, test_feats))
    if predictor.standardize_features and not cached:
        raise ValueError(f"{predictor.name}: standardize_features needs cache_features")

    _, apply_jit, step = training_programs(predictor, module, config.learning_rate)
    trained = TrainedPredictor(inputs, spec, None, apply_jit, standardizer,
                               config.eval_batch_size)
    train_labels = train.labels  # train labels: allowed
    n = len(train)
    bs = config.batch_size

    def run_pass(variables, opt_state, rng: np.random.Generator):
        """One pass over the training models in the order ``rng`` draws (then, with
        augmentation, each batch's permutations) -> (variables, opt_state, summed
        loss x batch size, models seen). Resident features go through ``step.scan``,
        up to ``SCAN_BYTES`` of batches per call."""
        total, count = 0.0, 0
        if resident:
            rows = [np.searchsorted(train.model_ids, ids)
                    for ids in train.batch_ids(bs, shuffle=True, seed=rng)]
            per_step = sum(leaf[:1].nbytes for leaf in jax.tree_util.tree_leaves(
                train_feats)) * bs
            chunk = max(1, SCAN_BYTES // max(per_step, 1))
            start = 0
            while start < len(rows):
                stop = start
                while (stop < len(rows) and stop - start < chunk
                       and len(rows[stop]) == len(rows[start])):
                    stop += 1
                index = np.stack(rows[start:stop])  # (S, B)
                variables, opt_state, losses = step.scan(
                    variables, opt_state, _take(train_feats, index), train_labels[index])
                for loss in np.asarray(losses):
                    total += float(loss) * index.shape[1]
                    count += index.shape[1]
                start = stop
            return variables, opt_state, total, count
        for ids, batch in inputs.batches(train, bs, shuffle=True, seed=rng,
                                         permute=rng if augment else None):
            labels = train_labels[np.searchsorted(train.model_ids, ids)]
            variables, opt_state, loss = step(variables, opt_state, trained.features(batch),
                                              labels)
            total += float(loss) * len(labels)
            count += len(labels)
        return variables, opt_state, total, count

    if train_feats is not None:
        example = _take(train_feats, np.arange(min(bs, n)))
    else:
        example = trained.features(inputs.inputs(train, train.model_ids[:min(bs, n)]))
    variables = compiled_init(predictor, module)(jax.random.PRNGKey(seed), example)
    param_count = int(sum(x.size for x in jax.tree_util.tree_leaves(variables)))
    opt_state = step.init(variables)

    val_labels = val.labels.astype(np.float64)  # val labels: for model selection only

    def predict(split: Zoo, feats) -> np.ndarray:
        if feats is not None:
            return trained.predict_features(feats)
        return trained.predict_zoo(split)

    best_tau, best_epoch, best_variables = -np.inf, 0, variables
    taus, losses, test_curve = [], [], []
    own = not isinstance(progress, Progress)
    bar = (progress_bar(config.epochs, f"{predictor.name} seed {seed}", "epoch",
                        enabled=bool(progress), line_every=None)
           if own else progress)
    epochs_run = 0
    try:
        for epoch in range(config.epochs):
            total, count = 0.0, 0
            for k in range(config.passes_per_epoch):
                rng = np.random.default_rng([seed, epoch * config.passes_per_epoch + k])
                variables, opt_state, pass_total, pass_count = run_pass(
                    variables, opt_state, rng)
                total, count = total + pass_total, count + pass_count
            epochs_run = epoch + 1
            trained.variables = variables
            tau = (kendall_tau(predict(val, val_feats), val_labels) if len(val) > 1
                   else float("nan"))
            taus.append(float(tau))
            losses.append(total / max(count, 1))
            test_curve.append(predict(test, test_feats))  # scored after training only
            if np.isfinite(tau) and tau > best_tau:
                best_tau, best_epoch, best_variables = tau, epoch + 1, variables
            elif not np.isfinite(best_tau) and not any(np.isfinite(taus)):
                best_epoch, best_variables = epoch + 1, variables
            bar.set_postfix(val_tau=f"{tau:.4f}", loss=f"{losses[-1]:.4f}")
            bar.update(1)
            if after_epoch is not None:
                after_epoch(epoch + 1, trained)
            if config.patience is not None and epochs_run - best_epoch >= config.patience:
                bar.update(config.epochs - epochs_run)  # stopped early: the rest is skipped
                break
    finally:
        if own:
            bar.close()
    trained.variables = best_variables
    val_pred = predict(val, val_feats)
    test_pred = predict(test, test_feats)
    result = RunResult(
        seed=seed, best_epoch=best_epoch, epochs_run=epochs_run,
        val=all_metrics(val_pred, val_labels), test={},
        val_tau_per_epoch=taus, train_loss_per_epoch=losses, param_count=param_count,
        wall_time_s=time.perf_counter() - t0, test_model_ids=test.model_ids,
        test_predicted=test_pred, test_actual=None, trained=trained,
        passes_per_epoch=config.passes_per_epoch, test_predicted_per_epoch=test_curve)
    return score_run(result, test) if score else result


def score_run(result: RunResult, test: Zoo) -> RunResult:
    """``result`` with its test metrics: the one read of the test labels (of ``test``,
    the test split, whose ``model_ids`` the predictions follow)."""
    if not np.array_equal(result.test_model_ids, test.model_ids):
        raise TinyZooError(f"test predictions of {len(result.test_model_ids)} models do "
                           f"not follow the test split's {len(test)} model ids")
    test_labels = test.labels.astype(np.float64)  # the one read of the test labels
    curve = [float(kendall_tau(np.asarray(p, np.float64), test_labels))
             for p in result.test_predicted_per_epoch]
    return dataclasses.replace(result, test=all_metrics(result.test_predicted, test_labels),
                               test_actual=test_labels, test_tau_per_epoch=curve)
