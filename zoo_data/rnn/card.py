"""The Tiny RNN Zoo's part of its dataset card (:class:`~zoo_data.families.base.CardParts`):
the front matter's license, pretty name and tags, and the body: how to load the zoo,
its splits and files, the task, model, hyperparameter distributions, columns and label
in prose. The front matter itself (split files, size category) is the archive's,
:func:`zoo_data.archive.card.dataset_card`.
"""

from __future__ import annotations

from zoo_data.archive.card import usage
from zoo_data.archive.layout import HUB_SPLITS, ZooLayout
from zoo_data.archive.splits import SPLITS, split_ranges
from zoo_data.families.base import CardParts
from zoo_data.rnn.presets import VARIATIONS, ZooConfig
from zoo_data.rnn.schema import tensor_shapes
from zoo_data.rnn.task import VOCAB, VOCAB_SIZE, digit_probabilities

__all__ = ["TAGS", "card_parts"]

#: The card's tags (front matter).
TAGS = ("weight-space-learning", "model-zoo", "neural-network-weights", "gru", "seq2seq",
        "jax", "flax")

_GATES = {
    "ir": "reset gate, input",
    "iz": "update gate, input",
    "in": "candidate, input",
    "hr": "reset gate, hidden",
    "hz": "update gate, hidden",
    "hn": "candidate, hidden",
}


def _tensor_meaning(path: str) -> str:
    parts = path.split("/")
    if parts[:2] == ["DecoderGRUCell_0", "Dense_0"]:
        return f"decoder readout {parts[2]} (logits = s W + b)"
    cell = "decoder GRU" if parts[0] == "DecoderGRUCell_0" else "encoder GRU"
    return f"{cell}, {_GATES[parts[-2]]} {parts[-1]}"


_VARIATION_MEANING = {
    "init_scale": "every initial tensor multiplied by it",
    "weight_decay": "decoupled weight decay, p <- p - lr_t * wd * p after each Adam step",
    "data_fraction": "fraction of the training pool the model trains on (its own random "
                     "subset)",
    "adam_b1": "Adam's first-moment decay b1",
    "clip_norm": "gradients clipped to this global L2 norm",
}


def _rows_rule(c: ZooConfig) -> str:
    if c.checkpoints is None:
        return "one row per model"
    return f"one row per model and checkpoint ({c.num_rows:,} rows)"


def _variation_meaning(name: str, bounds: tuple[float, float]) -> str:
    distribution = VARIATIONS[name][0]
    return f"{_VARIATION_MEANING[name]}; {distribution} on [{bounds[0]:g}, {bounds[1]:g}]"


def _recipe_lines(c: ZooConfig) -> str:
    """Card lines for the checkpoints and variations (none for zoos without them)."""
    lines = [f"- {name}: {_variation_meaning(name, getattr(c, name))} (per model);"
             for name in c.varied]
    if c.checkpoints is not None:
        lines.append(f"- checkpoints: every model is archived after steps "
                     f"{', '.join(map(str, c.checkpoints))} of its one run (one row each, "
                     "with its own labels; all rows of a model share its split);")
    if c.recipe != 1:
        lines.append(f"- recipe: version {c.recipe} of the `{c.preset}` preset's design.")
    return "".join("\n" + line for line in lines)


def _splits_section(layout: ZooLayout) -> str:
    """The card's ``Splits and files`` section: the split's id ranges and row counts,
    the file names, and what ``datasets`` and the Hub's viewer make of them."""
    c = layout.config
    per = c.rows_per_model
    ranges = split_ranges(c)
    files = {s: sum(1 for f in layout.files if f.split == s) for s in SPLITS}
    v2 = layout.format_version == 2
    rows = "\n".join(
        f"| `{HUB_SPLITS[s]}` | {lo} .. {hi - 1} | {hi - lo:,} | {(hi - lo) * per:,} |"
        + (f" {files[s]} |" if v2 else "") for s, (lo, hi) in ranges.items())
    g = len(layout.groups)
    table = ("| split | model ids | models | rows |" + (" files |" if v2 else "")
             + "\n|---|---|---|---|" + ("---|" if v2 else "") + "\n" + rows)
    rule = ("The split is fixed: contiguous model-id ranges, 80/10/10, the same for every\n"
            "build of this config" + ("; every checkpoint row of a model is in its model's\n"
                                      "split" if per > 1 else "") + ".")
    if layout.format_version == 1:
        return f"""## Splits and files

{rule}

{table}

This zoo is in **archive format 1**: each of its {g} training groups (models of one batch
size trained together) is one file `data/train-{{g:05d}}-of-{g:05d}.parquet` holding that
group's train, validation and test rows together. So `datasets.load_dataset` on this
folder (and the Hub's viewer) gives a single `train` split with all {c.num_rows:,} rows;
select a split by `model_id` with the ranges above. `tinyzoo migrate <this folder>`
converts the folder in place to format 2, one file per split, after which
`load_dataset` returns the `train`, `validation` and `test` splits.
"""
    return f"""## Splits and files

{rule}

{table}

Each of the {g} training groups (models of one batch size trained together) is stored as
one file per split it has models of, `data/{{split}}-{{g:05d}}-of-{g:05d}.parquet`
with `{{split}}` one of `train`, `validation`, `test` (the Hub's split names), holding
the group's rows of that split. A group has files only for the splits its models fall
in, so a split's file numbers have gaps. The `configs` entry above maps each split to
its files, so `datasets.load_dataset` (local folder or Hub repo) and the Hub's dataset
viewer show three splits, `train`, `validation` and `test`, with the row counts above.
Within a split, rows come file by file (group by group); sort by `model_id` for id
order. The hidden `data/.*.json` files are the build's per-file checksums;
`manifest.json` lists every file with its split, row count and sha256.

{_schemes_section(c)}"""


def _schemes_section(config: ZooConfig) -> str:
    """The card's note on the zoo's other split schemes (:mod:`zoo_data.rnn.shift`)."""
    from zoo_data.archive.split_schemes import DEFAULT_SCHEME, scheme_ids, scheme_names

    lines = ["### Other split schemes", "",
             "Besides the fixed split above, the same models can be split so that the test "
             "set lies outside the training distribution:", ""]
    for name, rule in scheme_names(config).items():
        if name == DEFAULT_SCHEME:
            continue
        sizes = {s: len(v) for s, v in scheme_ids(config, name).items()}
        lines.append(f"- `{name}`: {rule} ({sizes['train']:,} / {sizes['val']:,} / "
                     f"{sizes['test']:,} models).")
    lines += ["", "Load one by name with `tinyzoo` (its model ids are a function of this "
              "config; `data/splits/<preset>.json` in the `tinyzoo` repository records "
              "their sha256):", "", "```python",
              "from zoo_data.zoo import load_zoo",
              'test = load_zoo("path/to/this/folder", "test", split_scheme="lr-shift")',
              "test.dataset  # the split as a datasets.Dataset (rows sorted by model_id)",
              "```", "",
              "and benchmark on it with `tinyzoo bench METHOD --zoo FOLDER --split-scheme "
              "lr-shift`.", ""]
    return "\n".join(lines)


def card_parts(config: ZooConfig, layout: ZooLayout) -> CardParts:
    """The card of ``config``'s zoo in ``layout`` (its archive format): CC BY 4.0,
    ``Tiny RNN Zoo (<preset>)``, :data:`TAGS` and the body (module docstring)."""
    c = config
    shapes = tensor_shapes(c)
    d = c.max_digits
    digits = "1 digit" if d == 1 else f"1 to {d} digits"
    if c.operands == "small-addend":
        operand_rule = (f"One operand is uniform on 0..{min(100, 10**d) - 1}, the other uniform "
                        f"on 0..{10**d - 1}, and the smaller is written first (the problem "
                        "generator of flax's seq2seq example).")
    else:
        if c.digit_weights is None:
            length_rule = "length uniform"
        else:
            probs = digit_probabilities(d, c.digit_weights)
            length_rule = "length 1, 2, ... with probabilities " + ", ".join(
                f"{p:.3g}" for p in probs)
        operand_rule = (f"Operands have {digits} ({length_rule}, then value uniform among "
                        "numbers of that length).")
    schedule_rule = (", the peak of a cosine decay to 0 over the steps"
                     if c.lr_schedule == "cosine" else ", constant")
    vocab = ", ".join(f"`{ch}`" for ch in VOCAB[:10]) + ", `+`, `=`, `<EOS>`, `<PAD>`"
    meta_rows = [
        ("model_id", "int64", f"model id, 0 .. {c.num_models - 1}"),
        ("group", "int32", "training group (models trained together; the `g` of its "
         "files' names)"),
        ("learning_rate", "float64", f"Adam learning rate, log-uniform on [{c.lr_min}, "
         f"{c.lr_max}]"),
        ("batch_size", "int32", f"batch size, uniform on {{{', '.join(map(str, c.batch_sizes))}}}"),
        ("steps", "int32", "Adam steps"),
        ("seed", "int64", "zoo seed (model i's randomness derives from (seed, i))"),
        ("test_sr", "float32", "test success rate (the label), in [0, 1]"),
        ("test_loss", "float32", "loss on the test set"),
        ("train_loss", "float32", f"final loss on the first {min(c.n_train_eval, c.n_train_pool)}"
         " training-pool problems"),
    ]
    if c.checkpoints is not None:
        k = len(c.checkpoints)
        meta_rows[0] = ("model_id", "int64", f"row id, 0 .. {c.num_rows - 1}: run_id * {k} + "
                        "checkpoint index")
        meta_rows += [("run_id", "int64", f"the trained model (run), 0 .. {c.num_models - 1}; "
                       "its hyperparameters and split"),
                      ("step", "int32", "the checkpoint: Adam steps done, one of "
                       + ", ".join(map(str, c.checkpoints)))]
    meta_rows += [(name, "float64", _variation_meaning(name, getattr(c, name)))
                  for name in c.varied]
    tensor_rows = [
        (path, f"float32 {shape}", _tensor_meaning(path)) for path, shape in shapes.items()
    ]
    table = "\n".join(
        f"| `{name}` | {kind} | {meaning} |" for name, kind, meaning in meta_rows + tensor_rows
    )
    body = f"""
# Tiny RNN Zoo ({c.preset} preset)

{c.num_models:,} trained seq2seq GRU models, {_rows_rule(c)}: its hyperparameters, its
test success rate and losses, and its {len(shapes)} weight tensors. Built by `tinyzoo`
from the `{c.preset}` preset (config fingerprint `{c.fingerprint()}`, zoo seed {c.seed});
`manifest.json` holds the full config, the library versions and every shard's sha256.

{usage(layout.format_version)}

{_splits_section(layout)}
## Task

Character-level addition: `"15+20="` is completed as `"35<EOS>"`. {operand_rule} The
vocabulary has {VOCAB_SIZE} one-hot tokens:
{vocab}.
Questions are left-padded to {2 * d + 2} characters, answers (digits, then `<EOS>`)
right-padded to {d + 2}. Every
model is tested on one shared held-out set of {c.n_test} problems and trained on
batches drawn from a pool of {c.n_train_pool} distinct problems disjoint from it.

## Model

A seq2seq GRU without embeddings: an encoder `GRUCell` (hidden size H = {c.hidden}) reads
the one-hot question; its final state starts a decoder `GRUCell` whose state goes
through a dense readout to {VOCAB_SIZE} logits. The decoder reads the previous answer
character (teacher forcing in training, its own greedy prediction at test), starting
from `=`. Each cell follows flax: `r = sigmoid(x W_ir + b_ir + h W_hr)`,
`z = sigmoid(x W_iz + b_iz + h W_hz)`, `n = tanh(x W_in + b_in + r * (h W_hn + b_hn))`,
`h' = (1 - z) * n + z * h`. {len(shapes)} tensors in all, named by their path in flax's
`params` tree.

## Training and hyperparameters

- optimiser: Adam, {c.steps} steps, loss = mean over the batch of the summed
  cross-entropy of the answer tokens up to and including `<EOS>`;
- learning rate: log-uniform on [{c.lr_min}, {c.lr_max}]{schedule_rule};
- batch size: uniform on {{{", ".join(map(str, c.batch_sizes))}}};
- initialisation: flax defaults; model i's initialisation, batches and hyperparameters
  derive from (zoo seed {c.seed}, i) only.{_recipe_lines(c)}

## Columns

| name | type / shape | meaning |
|---|---|---|
{table}

## Label

`test_sr` is the fraction of the {c.n_test} test problems whose greedy completion
equals the answer followed by `<EOS>` exactly (every character up to and including
`<EOS>`).

## License

CC BY 4.0.
"""
    return CardParts(license="cc-by-4.0", pretty_name=f"Tiny RNN Zoo ({c.preset})",
                     tags=TAGS, body=body)
