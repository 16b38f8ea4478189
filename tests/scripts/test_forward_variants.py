"""The forward-pass arrangements timed by scripts.forward_variants compute flax's
function, so their timings compare like with like."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scripts import forward_variants
from zoo_builder.objective import flax_logits
from zoo_data.rnn.model import Seq2Seq, init_params
from zoo_data.rnn.task import VOCAB_SIZE, encode


@pytest.mark.parametrize("fuse_x, hoist", [(True, False), (False, True)])
def test_variants_compute_the_flax_model(fuse_x, hoist):
    params = init_params(8, VOCAB_SIZE, jax.random.PRNGKey(0))["params"]
    params = jax.tree_util.tree_map(lambda x: x + 0.05, params)  # non-zero biases
    p = encode(np.array([12, 3, 45]), np.array([9, 88, 5]), max_digits=2)
    q = jax.nn.one_hot(jnp.asarray(p.question, jnp.int32), VOCAB_SIZE)
    d = jax.nn.one_hot(jnp.asarray(p.decoder_input, jnp.int32), VOCAB_SIZE)
    expected = flax_logits(Seq2Seq(hidden=8, vocab=VOCAB_SIZE))(params, q, d)
    got = forward_variants.variant_logits(fuse_x, hoist)(params, q, d)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_timing_helpers_run_on_tiny_shapes():
    seconds = forward_variants.time_variant(forward_variants.fused_logits, hidden=4, digits=1,
                                            batch=4, models=2, steps=2)
    assert seconds > 0
    seconds, flops = forward_variants.time_dots_only(hidden=4, digits=1, batch=4, models=2,
                                                     steps=2)
    assert seconds > 0 and flops == 2.0 * 4 * 4 * 12 * 7  # 2 B H 3H per token, 7 tokens
