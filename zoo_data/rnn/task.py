"""The arithmetic task: character-level addition, ``"15+20="`` completed as ``"35<EOS>"``.

Vocabulary (one-hot, no embedding): the digits ``0-9`` (ids 0-9), ``+`` (10), ``=`` (11),
``<EOS>`` (12) and ``<PAD>`` (13); ``V = 14``.

Shapes for operands of at most ``D`` digits:

- question: ``"a+b="`` left-padded with ``<PAD>`` to ``T_q = 2 D + 2`` characters, so the
  encoder's last step always reads ``=``;
- answer: the digits of ``a + b`` (at most ``D + 1``) then ``<EOS>``, right-padded with
  ``<PAD>`` to ``T_a = D + 2``;
- decoder input (teacher forcing): ``=`` followed by the answer shifted right by one.

Two operand schemes (the config field ``operands``):

- ``"uniform-lengths"``: the number of digits of each operand is uniform on ``1..D``
  (or weighted by ``digit_weights``) and the operand is uniform among numbers of that
  length (``0-9`` for one digit). Sampling numbers uniformly on ``[0, 10^D)`` instead
  would make almost every operand ``D`` digits long and leave short problems untested.
- ``"small-addend"``: the problem generator of flax's ``examples/seq2seq`` addition
  example, which the paper's zoo ("input numbers up to five input digits") most likely
  followed: one operand uniform on ``0..99``, the other uniform on ``0..10^D - 1``, and
  the smaller one is written first (``"a+b="`` with ``a <= b``). The test problems are
  then all of one difficulty (a long number plus a short one), so a model's SR moves
  from 0 to 1 over a narrower stretch of training than with mixed lengths.

A zoo fixes one held-out *test set* of problems (shared by every model) and one
*training pool* of distinct problems disjoint from it; models draw their batches from
the pool. Both derive from the zoo seed alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "VOCAB",
    "PLUS",
    "EQUALS",
    "EOS",
    "PAD",
    "VOCAB_SIZE",
    "Problems",
    "digit_probabilities",
    "sample_operands",
    "OPERAND_SCHEMES",
    "sample_pairs",
    "problem_space_size",
    "encode",
    "make_problem_sets",
]

VOCAB = "0123456789+=$_"  # "$" is <EOS>, "_" is <PAD> in printed form
PLUS, EQUALS, EOS, PAD = 10, 11, 12, 13
VOCAB_SIZE = len(VOCAB)
OPERAND_SCHEMES = ("uniform-lengths", "small-addend")
SMALL_ADDEND_LIMIT = 100  # "small-addend": the short operand is uniform on 0..99


@dataclass(frozen=True)
class Problems:
    """Encoded problems, ``N`` of them, as token ids.

    Attributes:
      a, b: operands, ``(N,)`` int64.
      question: ``(N, T_q)`` int8, left-padded ``"a+b="``.
      answer: ``(N, T_a)`` int8, ``"<sum><EOS>"`` right-padded.
      decoder_input: ``(N, T_a)`` int8, ``"="`` then ``answer[:, :-1]``.
    """

    a: np.ndarray
    b: np.ndarray
    question: np.ndarray
    answer: np.ndarray
    decoder_input: np.ndarray

    def __len__(self) -> int:
        return len(self.a)


def digit_probabilities(max_digits: int,
                        digit_weights: tuple[float, ...] | None) -> np.ndarray:
    """``P(an operand has k digits)`` for ``k = 1..max_digits``: ``digit_weights``
    normalised, or uniform if ``None``; ``ValueError`` for a malformed weight list."""
    if digit_weights is None:
        return np.full(max_digits, 1.0 / max_digits)
    w = np.asarray(digit_weights, np.float64)
    if w.shape != (max_digits,) or np.any(~np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(
            f"digit_weights {tuple(digit_weights)}: need {max_digits} non-negative weights "
            "(operands of 1..max_digits digits) with a positive sum"
        )
    return w / w.sum()


def sample_operands(rng: np.random.Generator, n: int, max_digits: int,
                    digit_weights: tuple[float, ...] | None = None) -> np.ndarray:
    """``n`` operands: the number of digits ``k`` drawn with
    :func:`digit_probabilities` (uniform on ``1..max_digits`` by default), then the value
    uniform among the numbers of ``k`` digits."""
    if digit_weights is None:
        digits = rng.integers(1, max_digits + 1, size=n)
    else:
        probs = digit_probabilities(max_digits, digit_weights)
        digits = rng.choice(np.arange(1, max_digits + 1), size=n, p=probs)
    low = np.where(digits == 1, 0, 10 ** (digits - 1))
    high = 10**digits
    return low + (rng.random(n) * (high - low)).astype(np.int64)


def sample_pairs(rng: np.random.Generator, n: int, max_digits: int,
                 digit_weights: tuple[float, ...] | None = None,
                 operands: str = "uniform-lengths") -> tuple[np.ndarray, np.ndarray]:
    """``n`` problems ``(a, b)``, each ``(n,)`` int64, drawn by the ``operands`` scheme
    (see the module docstring); ``ValueError`` for an unknown scheme."""
    if operands == "uniform-lengths":
        a = sample_operands(rng, n, max_digits, digit_weights)
        b = sample_operands(rng, n, max_digits, digit_weights)
        return a, b
    if operands == "small-addend":
        short = rng.integers(0, min(SMALL_ADDEND_LIMIT, 10**max_digits), size=n)
        long = rng.integers(0, 10**max_digits, size=n)
        return np.minimum(short, long), np.maximum(short, long)
    raise ValueError(f"operands {operands!r}: choose one of {', '.join(OPERAND_SCHEMES)}")


def problem_space_size(max_digits: int, digit_weights: tuple[float, ...] | None = None,
                       operands: str = "uniform-lengths") -> int:
    """How many distinct problems ``(a, b)`` the scheme can draw."""
    if operands == "small-addend":
        short, top = min(SMALL_ADDEND_LIMIT, 10**max_digits), 10**max_digits
        # ordered pairs a <= b with a < short and b < top
        return sum(top - a for a in range(short))
    probs = digit_probabilities(max_digits, digit_weights)
    numbers = sum(10 if k == 1 else 9 * 10 ** (k - 1)
                  for k in range(1, max_digits + 1) if probs[k - 1] > 0)
    return numbers**2


def _digits(x: int) -> list[int]:
    return [int(c) for c in str(int(x))]


def encode(a: np.ndarray, b: np.ndarray, max_digits: int) -> Problems:
    """Token ids of the problems ``a + b`` (operands below ``10**max_digits``)."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    limit = 10**max_digits
    if np.any((a < 0) | (a >= limit) | (b < 0) | (b >= limit)):
        raise ValueError(f"operands must lie in [0, {limit}) for max_digits={max_digits}")
    t_q, t_a = 2 * max_digits + 2, max_digits + 2
    question = np.full((len(a), t_q), PAD, np.int8)
    answer = np.full((len(a), t_a), PAD, np.int8)
    for k, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        q = [*_digits(x), PLUS, *_digits(y), EQUALS]
        question[k, t_q - len(q) :] = q
        s = [*_digits(x + y), EOS]
        answer[k, : len(s)] = s
    decoder_input = np.concatenate([np.full((len(a), 1), EQUALS, np.int8), answer[:, :-1]], 1)
    return Problems(a, b, question, answer, decoder_input)


def make_problem_sets(
    seed: int, max_digits: int, n_test: int, n_train: int,
    digit_weights: tuple[float, ...] | None = None, operands: str = "uniform-lengths",
) -> tuple[Problems, Problems]:
    """The zoo's fixed test set and its training pool: distinct problems, disjoint sets,
    drawn by :func:`sample_pairs`.

    Raises:
      ValueError: the problem space (:func:`problem_space_size`) is too small for that
        many distinct problems, or the scheme is unknown.
    """
    space = problem_space_size(max_digits, digit_weights, operands)
    if n_test + n_train > space:
        raise ValueError(
            f"max_digits={max_digits} allows {space} distinct problems, fewer than "
            f"{n_test} test + {n_train} training problems"
        )
    rng = np.random.default_rng([seed, 0x7E57])
    seen: set[tuple[int, int]] = set()
    pairs: list[tuple[int, int]] = []
    while len(pairs) < n_test + n_train:
        need = n_test + n_train - len(pairs)
        a, b = sample_pairs(rng, 2 * need, max_digits, digit_weights, operands)
        for pair in zip(a.tolist(), b.tolist(), strict=True):
            if pair not in seen:
                seen.add(pair)
                pairs.append(pair)
                if len(pairs) == n_test + n_train:
                    break
    arr = np.asarray(pairs, np.int64)
    test = encode(arr[:n_test, 0], arr[:n_test, 1], max_digits)
    train = encode(arr[n_test:, 0], arr[n_test:, 1], max_digits)
    return test, train

