"""Running a Tiny RNN Zoo network from its archived weights, for the predictors that read
the function: on learned soft probe questions (:func:`probe_network`, ProbeGen) and on
fresh problems of its training distribution (:func:`fresh_problem_accuracy`, the probe
oracle; :func:`fresh_problem_responses`, the probing predictor). jax and the model
are imported when a function is built, never with the module.

Shapes (``K`` probes or problems, question length ``T_q = 2 d + 2``, answer length
``T_a = d + 2`` for ``d = config.max_digits``, vocabulary ``V = 14``): a network's
weights are its parameter tree without a batch axis (``weights["GRUCell_0"]["hn"]
["kernel"]`` ``(H, H)``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from zoo_data.families.base import ProbeNetwork
from zoo_data.rnn.presets import ZooConfig, problem_sets
from zoo_data.rnn.task import EQUALS, VOCAB_SIZE, Problems

__all__ = ["probe_network", "fresh_problem_accuracy", "fresh_problem_responses",
           "probing_problems"]


def probe_network(config: ZooConfig) -> ProbeNetwork:
    """A network on ``K`` probe questions of logits ``(K, T_q, V)``: each character is
    the ``softmax`` of its logits (a soft one-hot input); the encoder reads them, the
    decoder runs ``T_a`` steps from ``=``, each step's input the ``softmax`` of the
    previous step's logits (a differentiable greedy decoding) -> ``(K, T_a, V)`` output
    probabilities."""
    import jax
    import jax.numpy as jnp

    from zoo_data.rnn.model import Seq2Seq

    model = Seq2Seq(hidden=config.hidden, vocab=VOCAB_SIZE)
    answer_length = config.max_digits + 2

    def decode(m: Any, carry: Any, x: Any) -> Any:
        return m.decoder(carry, x)

    def respond(weights: Any, probes: Any, columns: Mapping[str, Any]) -> Any:
        questions = jax.nn.softmax(probes, axis=-1)  # (K, T_q, V)
        x = jax.nn.one_hot(jnp.full((probes.shape[0],), EQUALS), VOCAB_SIZE)
        variables = {"params": weights}
        carry = model.apply(variables, questions, method=Seq2Seq.encode)
        outputs = []
        for _ in range(answer_length):
            carry, logits = model.apply(variables, carry, x, method=decode)
            x = jax.nn.softmax(logits, axis=-1)
            outputs.append(x)
        return jnp.stack(outputs, axis=1)  # (K, T_a, V)

    return ProbeNetwork(probe_shape=(2 * config.max_digits + 2, VOCAB_SIZE), respond=respond)


def fresh_problem_accuracy(config: ZooConfig, num_problems: int,
                           seed: int) -> Callable[[Any], Any]:
    """``weights -> ()`` accuracy of one network, greedily decoded
    (:func:`zoo_data.rnn.model.greedy_success`), on ``num_problems`` problems drawn
    uniformly, with replacement, from the zoo's training pool (as training batches are;
    never the held-out test problems that define SR) by
    ``numpy.random.default_rng([config.seed, seed])``."""
    import jax.numpy as jnp

    from zoo_data.rnn.model import Seq2Seq, greedy_success

    _, pool = problem_sets(config)
    rng = np.random.default_rng([config.seed, seed])
    pick = rng.integers(0, len(pool), num_problems)
    question = jnp.asarray(pool.question[pick], jnp.int32)
    answer = jnp.asarray(pool.answer[pick], jnp.int32)
    model = Seq2Seq(hidden=config.hidden, vocab=VOCAB_SIZE)

    def accuracy(weights: Any) -> Any:
        return jnp.mean(greedy_success(model, weights, question, answer))

    return accuracy


def probing_problems(config: ZooConfig, num_problems: int, seed: int) -> Problems:
    """``num_problems`` distinct problems of the zoo's training pool (never its test set),
    drawn without replacement by ``numpy.random.default_rng([config.seed, seed])``, in
    pool order.

    Raises:
      ValueError: ``num_problems`` is not between 1 and the pool's size.
    """
    _, pool = problem_sets(config)
    if not 1 <= num_problems <= len(pool.question):
        raise ValueError(f"num_problems {num_problems}: the training pool holds "
                         f"{len(pool.question)} problems")
    rng = np.random.default_rng([config.seed, seed])
    pick = np.sort(rng.choice(len(pool.question), num_problems, replace=False))
    return Problems(pool.a[pick], pool.b[pick], pool.question[pick], pool.answer[pick],
                    pool.decoder_input[pick])


def fresh_problem_responses(config: ZooConfig, num_problems: int,
                            seed: int) -> Callable[[Any], Any]:
    """``weights -> (K (T_a + 1),)`` float32: one network's responses to ``K =
    num_problems`` distinct problems of the zoo's training pool (never the held-out
    test problems that define SR), the same problems for every network, drawn without
    replacement by ``numpy.random.default_rng([config.seed, seed])``:

    - ``K T_a`` teacher-forced log-probabilities: for problem ``k`` and answer position
      ``t``, ``log softmax(logits_t)[answer_t]`` with the decoder fed ``"="`` and the
      true answer so far (as in training), 0 past ``<EOS>``;
    - ``K`` greedy correctness: 1 if the greedy completion is the answer up to and
      including ``<EOS>`` (:func:`zoo_data.rnn.model.greedy_success`, the label's own
      definition), else 0.

    Raises:
      ValueError: ``num_problems`` is not between 1 and the pool's size.
    """
    import jax
    import jax.numpy as jnp

    from zoo_data.rnn.model import Seq2Seq, answer_mask, greedy_success

    chosen = probing_problems(config, num_problems, seed)
    question = jnp.asarray(chosen.question, jnp.int32)
    answer = jnp.asarray(chosen.answer, jnp.int32)
    decoder_input = jax.nn.one_hot(jnp.asarray(chosen.decoder_input, jnp.int32), VOCAB_SIZE)
    mask = answer_mask(answer)
    model = Seq2Seq(hidden=config.hidden, vocab=VOCAB_SIZE)

    def responses(weights: Any) -> Any:
        logits = model.apply({"params": weights}, jax.nn.one_hot(question, VOCAB_SIZE),
                             decoder_input)  # (K, T_a, V), teacher-forced
        logp = jnp.take_along_axis(jax.nn.log_softmax(logits), answer[..., None],
                                   axis=-1)[..., 0]
        solved = greedy_success(model, weights, question, answer)
        return jnp.concatenate([(logp * mask).reshape(-1), solved]).astype(jnp.float32)

    return responses
