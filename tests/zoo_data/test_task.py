"""The addition task: encoding, padding, operand lengths and the fixed problem sets."""

from __future__ import annotations

import numpy as np
import pytest

from zoo_data.rnn.task import (
    EOS,
    EQUALS,
    PAD,
    PLUS,
    VOCAB,
    encode,
    make_problem_sets,
    problem_space_size,
    sample_operands,
    sample_pairs,
)


def text(ids) -> str:
    return "".join(VOCAB[i] for i in ids)


def test_encoding_of_15_plus_20():
    p = encode(np.array([15]), np.array([20]), max_digits=2)
    assert text(p.question[0]) == "15+20="  # T_q = 2*2+2, no padding needed
    assert text(p.answer[0]) == "35$_"  # "35<EOS>", padded to T_a = 4
    assert text(p.decoder_input[0]) == "=35$"
    assert (PLUS, EQUALS, EOS, PAD) == (10, 11, 12, 13)


def test_short_problems_are_left_padded_and_carries_lengthen_answers():
    p = encode(np.array([7, 999]), np.array([5, 1]), max_digits=3)
    assert [text(q) for q in p.question] == ["____7+5=", "__999+1="]
    assert [text(a) for a in p.answer] == ["12$__", "1000$"]
    assert p.question.shape == (2, 8) and p.answer.shape == (2, 5)
    np.testing.assert_array_equal(p.decoder_input[:, 1:], p.answer[:, :-1])


def test_operands_out_of_range_are_rejected():
    with pytest.raises(ValueError, match="max_digits=2"):
        encode(np.array([100]), np.array([1]), max_digits=2)


def test_operand_lengths_are_uniform():
    ops = sample_operands(np.random.default_rng(0), 30_000, max_digits=5)
    lengths = np.array([len(str(x)) for x in ops])
    counts = np.bincount(lengths, minlength=6)[1:]
    assert counts.sum() == 30_000
    np.testing.assert_allclose(counts / 30_000, 0.2, atol=0.015)
    assert ops.min() >= 0 and ops.max() < 100_000
    one_digit = ops[lengths == 1]
    assert set(one_digit.tolist()) == set(range(10))


def test_digit_weights_set_the_operand_length_distribution():
    weights = (3.0, 2.0, 0.0, 1.0)
    ops = sample_operands(np.random.default_rng(1), 30_000, 4, weights)
    counts = np.bincount([len(str(x)) for x in ops], minlength=5)[1:]
    np.testing.assert_allclose(counts / 30_000, [0.5, 1 / 3, 0.0, 1 / 6], atol=0.015)
    # uniform weights draw other numbers than the default (rng.choice vs rng.integers),
    # but the same distribution
    uniform = sample_operands(np.random.default_rng(1), 30_000, 4, (1.0,) * 4)
    counts = np.bincount([len(str(x)) for x in uniform], minlength=5)[1:]
    np.testing.assert_allclose(counts / 30_000, 0.25, atol=0.015)


def test_a_zero_weight_shrinks_the_problem_space():
    test, train = make_problem_sets(seed=0, max_digits=2, n_test=30, n_train=70,
                                    digit_weights=(1.0, 0.0))
    assert max(np.r_[test.a, test.b, train.a, train.b]) <= 9
    with pytest.raises(ValueError, match="100 distinct problems"):
        make_problem_sets(seed=0, max_digits=2, n_test=30, n_train=71,
                          digit_weights=(1.0, 0.0))


@pytest.mark.parametrize("weights", [(1.0,), (1.0, -1.0), (0.0, 0.0), (1.0, float("nan"))])
def test_malformed_digit_weights_are_rejected(weights):
    from zoo_data.rnn.presets import ZooConfig

    with pytest.raises(ValueError, match="digit_weights"):
        ZooConfig("w", 4, 8, 2, 10, 10, 10, 4, digit_weights=weights)


def test_problem_sets_are_distinct_disjoint_and_seeded():
    test, train = make_problem_sets(seed=3, max_digits=2, n_test=200, n_train=1000)
    assert (len(test), len(train)) == (200, 1000)
    pairs_test = set(zip(test.a.tolist(), test.b.tolist(), strict=True))
    pairs_train = set(zip(train.a.tolist(), train.b.tolist(), strict=True))
    assert len(pairs_test) == 200 and len(pairs_train) == 1000
    assert not pairs_test & pairs_train
    again, _ = make_problem_sets(seed=3, max_digits=2, n_test=200, n_train=1000)
    np.testing.assert_array_equal(again.question, test.question)
    other, _ = make_problem_sets(seed=4, max_digits=2, n_test=200, n_train=1000)
    assert not np.array_equal(other.question, test.question)


def test_problem_space_can_be_used_up_exactly_but_not_exceeded():
    test, train = make_problem_sets(seed=0, max_digits=1, n_test=30, n_train=70)
    pairs = set(zip(np.r_[test.a, train.a].tolist(), np.r_[test.b, train.b].tolist(),
                    strict=True))
    assert pairs == {(a, b) for a in range(10) for b in range(10)}
    with pytest.raises(ValueError, match="100 distinct problems"):
        make_problem_sets(seed=0, max_digits=1, n_test=30, n_train=71)


def test_small_addend_problems_follow_the_flax_generator():
    test, train = make_problem_sets(seed=5, max_digits=5, n_test=500, n_train=4000,
                                    operands="small-addend")
    a, b = np.r_[test.a, train.a], np.r_[test.b, train.b]
    assert np.all(a <= b)                    # the smaller operand is written first
    assert np.all(a <= 99) and b.max() < 100_000
    assert (b >= 10_000).mean() > 0.85       # the long operand is uniform on 0..99999
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    assert len(pairs) == 4500
    assert not set(zip(test.a.tolist(), test.b.tolist(), strict=True)) & set(
        zip(train.a.tolist(), train.b.tolist(), strict=True))
    # question text is "a+b=" with the small one first
    row = [VOCAB[t] for t in test.question[0] if t != PAD]
    assert "".join(row) == f"{test.a[0]}+{test.b[0]}="


def test_small_addend_problem_space_is_counted_exactly():
    # max_digits=1: pairs a <= b with both in 0..9: 55 of them
    assert problem_space_size(1, operands="small-addend") == 55
    test, train = make_problem_sets(seed=0, max_digits=1, n_test=5, n_train=50,
                                    operands="small-addend")
    assert len(set(zip(np.r_[test.a, train.a].tolist(), np.r_[test.b, train.b].tolist(),
                       strict=True))) == 55
    with pytest.raises(ValueError, match="55 distinct problems"):
        make_problem_sets(seed=0, max_digits=1, n_test=5, n_train=51, operands="small-addend")


def test_unknown_operand_scheme_and_weights_with_small_addend_are_rejected():
    from zoo_data.rnn.presets import ZooConfig

    with pytest.raises(ValueError, match="operands 'bogus'"):
        ZooConfig("w", 4, 8, 2, 10, 10, 10, 4, operands="bogus")
    with pytest.raises(ValueError, match="digit_weights applies only"):
        ZooConfig("w", 4, 8, 2, 10, 10, 10, 4, digit_weights=(1.0, 1.0),
                  operands="small-addend")
    with pytest.raises(ValueError, match="operands 'bogus'"):
        sample_pairs(np.random.default_rng(0), 3, 2, operands="bogus")


def test_default_operand_scheme_keeps_old_fingerprints():
    from zoo_data.rnn.presets import ZooConfig

    config = ZooConfig("w", 4, 8, 2, 10, 10, 10, 4)
    assert "operands" not in config.to_dict()
    assert ZooConfig.from_dict(config.to_dict()) == config
    other = ZooConfig("w", 4, 8, 2, 10, 10, 10, 4, operands="small-addend")
    assert other.to_dict()["operands"] == "small-addend"
    assert ZooConfig.from_dict(other.to_dict()) == other
    assert other.fingerprint() != config.fingerprint()
