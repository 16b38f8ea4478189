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
from zoo_data.rnn.task import VOCAB_SIZE, Problems

__all__ = ["probe_network", "fresh_problem_accuracy", "fresh_problem_responses",
           "probing_problems"]


#: Logit of a real token in a probe that starts from a real problem (the other tokens: 0),
#: so that its softmax puts 0.92 on that token over the vocabulary of 14.
PROBE_LOGIT = 5.0


def probe_network(config: ZooConfig) -> ProbeNetwork:
    """A network on ``K`` probes of logits ``(K, T_q + T_a, V)``: a question and a decoder
    input, each character the ``softmax`` of its logits (a soft one-hot input). The
    encoder reads the question; the decoder is fed the decoder input (teacher forcing,
    as in training) -> ``(K, T_a, V)`` log-probabilities of its outputs.

    ``initial_probes(K, seed)``: ``K`` distinct problems of the training pool
    (:func:`probing_problems`; never the test set; the pool repeated if it holds fewer
    than ``K``), each token at logit
    :data:`PROBE_LOGIT`: at the start a probe asks a real question with its real answer
    so far, and what the predictor learns moves it from there."""
    import jax

    from zoo_data.rnn.model import Seq2Seq

    model = Seq2Seq(hidden=config.hidden, vocab=VOCAB_SIZE)
    question_length = 2 * config.max_digits + 2

    def respond(weights: Any, probes: Any, columns: Mapping[str, Any]) -> Any:
        soft = jax.nn.softmax(probes, axis=-1)  # (K, T_q + T_a, V)
        logits = model.apply({"params": weights}, soft[:, :question_length],
                             soft[:, question_length:])
        return jax.nn.log_softmax(logits, axis=-1)  # (K, T_a, V)

    def initial_probes(num_probes: int, seed: int) -> np.ndarray:
        pool_size = len(problem_sets(config)[1].question)
        chosen = probing_problems(config, min(num_probes, pool_size), seed)
        tokens = np.concatenate([chosen.question, chosen.decoder_input], axis=1)
        tokens = np.resize(tokens, (num_probes, tokens.shape[1]))  # a small pool: again
        return (PROBE_LOGIT * np.eye(VOCAB_SIZE, dtype=np.float32)[tokens.astype(np.int64)])

    length = question_length + config.max_digits + 2
    return ProbeNetwork(probe_shape=(length, VOCAB_SIZE), respond=respond,
                        initial_probes=initial_probes)


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
    min(num_problems, pool size)`` distinct problems of the zoo's training pool (never the
    held-out test problems that define SR), the same problems for every network, drawn
    without replacement by ``numpy.random.default_rng([config.seed, seed])``:

    - ``K T_a`` teacher-forced log-probabilities: for problem ``k`` and answer position
      ``t``, ``log softmax(logits_t)[answer_t]`` with the decoder fed ``"="`` and the
      true answer so far (as in training), 0 past ``<EOS>``;
    - ``K`` greedy correctness: 1 if the greedy completion is the answer up to and
      including ``<EOS>`` (:func:`zoo_data.rnn.model.greedy_success`, the label's own
      definition), else 0.

    Raises:
      ValueError: ``num_problems`` is below 1.
    """
    import jax
    import jax.numpy as jnp

    from zoo_data.rnn.model import Seq2Seq, answer_mask, greedy_success

    pool_size = len(problem_sets(config)[1].question)
    chosen = probing_problems(config, min(num_problems, pool_size), seed)
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
