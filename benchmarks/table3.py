"""Paper Table 3: parameters of the learned optimizer's network ``f`` for four tasks.

The learned optimizer (Eq. 31) is

    m_t = gamma m_{t-1} + grad_t,
    W_{t+1} = W_t - alpha (m_t^{gamma_0} + beta f(W_t, grad_t, {m_t^{gamma_i}}, t)),

whose input is in ``W^19`` (weights, gradient, six momenta, an 11-dimensional
encoding of ``t``) and output in ``W^1``. Following appendix B.2:

    DeepSetOpt = DS[32] -> ReLU -> DS[32] -> ReLU -> DS[32] -> ReLU -> DS[1]
    UNFOpt     = DS[32] -> ReLU -> DS[32] -> ReLU -> DS[32] -> ReLU -> UNF[1]

where ``DS[c]`` is the paper code's Deep Set layer: one dense map of the channel vector,
shared by every entry of every tensor (equivariant to any permutation of the entries).

The counts below are read off the parameter trees of these flax modules, built on each
task's real weight space. They reproduce the paper's Table 3 exactly *when the three
meta-learned scalars alpha, beta, gamma_0 of Eq. 31 are counted*, although the table's
caption says they are not: without them every count is 3 lower.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from benchmarks.learned_opt_tasks import TASKS, Task, task_params
from predictors.unf import UNFLayer, nf_relu

__all__ = ["PAPER_TABLE3", "DeepSetLayer", "LearnedOptimizerNet", "count_f_params", "table3_rows"]

IN_CHANNELS = 19  # weights, gradient, 6 momenta, 11 time features
HIDDEN = 32

PAPER_TABLE3 = {  # task -> (UNF, Deep Set)
    "mlp": (3783, 2788),
    "cnn": (7369, 2788),
    "rnn": (8043, 2788),
    "transformer": (64168, 2788),
}


class DeepSetLayer(nn.Module):
    """``DS[c]``: ``(B, *axes, c_in) -> (B, *axes, c)`` by one shared dense map per entry."""

    features: int

    @nn.compact
    def __call__(self, x: Any) -> Any:
        dense = nn.Dense(self.features)
        return jax.tree_util.tree_map(dense, x)


class LearnedOptimizerNet(nn.Module):
    """The network ``f`` of Eq. 31 with the meta-learned scalars alpha, beta, gamma_0.

    Attributes:
      spec: the optimized network's weight-space spec (used by the UNF head only).
      head: ``"unf"`` (UNFOpt) or ``"deepset"`` (DeepSetOpt).
    """

    spec: Any
    head: str

    @nn.compact
    def __call__(self, x: Any) -> Any:
        for _ in range(3):
            x = nf_relu(DeepSetLayer(HIDDEN)(x))
        if self.head == "unf":
            out = UNFLayer(self.spec, 1)(x)
        elif self.head == "deepset":
            out = DeepSetLayer(1)(x)
        else:
            raise ValueError(f"head must be 'unf' or 'deepset', got {self.head!r}")
        # Eq. 31's scalars, initialised as in appendix B.2.
        self.param("alpha", nn.initializers.constant(0.1), ())
        self.param("beta", nn.initializers.constant(0.001), ())
        self.param("gamma_0", nn.initializers.constant(0.9), ())
        return out


def count_f_params(task: Task, head: str) -> int:
    """Number of parameters of ``f`` (plus alpha, beta, gamma_0) on ``task``'s weight space."""
    params = task_params(task)
    features = jax.tree_util.tree_map(
        lambda p: jax.ShapeDtypeStruct((1, *p.shape, IN_CHANNELS), jnp.float32), params
    )
    model = LearnedOptimizerNet(spec=task.spec, head=head)
    variables = jax.eval_shape(model.init, jax.random.PRNGKey(0), features)
    return sum(int(v.size) for v in jax.tree_util.tree_leaves(variables))


def table3_rows() -> list[dict]:
    """One row per task: our counts beside the paper's."""
    rows = []
    for name, task in TASKS.items():
        paper_unf, paper_ds = PAPER_TABLE3[name]
        rows.append(
            {
                "task": task.title,
                "unf": count_f_params(task, "unf"),
                "deep_set": count_f_params(task, "deepset"),
                "paper_unf": paper_unf,
                "paper_deep_set": paper_ds,
            }
        )
    return rows


def format_table3(rows: list[dict]) -> str:
    """Render the rows as a fixed-width text table."""
    header = f"{'Task':<22} {'UNF':>8} {'paper':>8} {'Deep Set':>9} {'paper':>8}"
    lines = [
        "Table 3: parameters of the learned optimizer's network f (incl. alpha, beta, gamma_0)",
        header,
        "-" * len(header),
    ]
    for r in rows:
        lines.append(
            f"{r['task']:<22} {r['unf']:>8,} {r['paper_unf']:>8,} "
            f"{r['deep_set']:>9,} {r['paper_deep_set']:>8,}"
        )
    return "\n".join(lines)
