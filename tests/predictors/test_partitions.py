"""Valid partitions and basis-term counts (paper, Definition 1 and Alg. 1)."""

from collections import Counter

import pytest

from predictors.unf import bell, count_basis_terms, valid_partitions
from predictors.unf.partitions import set_partitions
from zoo_data.rnn.spec import seq2seq_spec


def test_bell_numbers():
    assert [bell(n) for n in range(9)] == [1, 1, 2, 5, 15, 52, 203, 877, 4140]
    with pytest.raises(ValueError):
        bell(-1)


@pytest.mark.parametrize("n", range(0, 7))
def test_set_partitions_are_all_distinct_partitions(n):
    parts = list(set_partitions(list(range(n))))
    assert len(parts) == bell(n)
    canonical = {tuple(sorted(tuple(sorted(b)) for b in p)) for p in parts}
    assert len(canonical) == len(parts)
    for p in parts:
        assert sorted(i for b in p for i in b) == list(range(n))
        assert all(b for b in p)


def test_example_3_3_matrix_to_matrix_has_four_terms():
    # W in R^{n1 x n2} -> R^{n1 x n2}: the Hartford et al. (2018) layer.
    parts = valid_partitions(("n1", "n2"), ("n1", "n2"))
    assert set(parts) == {
        ((0, 2), (1, 3)),
        ((0, 2), (1,), (3,)),
        ((0,), (1, 3), (2,)),
        ((0,), (1,), (2,), (3,)),
    }


def test_example_3_2_square_matrix_has_fifteen_terms():
    parts = valid_partitions(("a", "a"), ("a", "a"))
    assert len(parts) == 15
    assert ((0, 1), (2, 3)) in parts  # {{o1, o2}, {i1, i2}} is valid here


@pytest.mark.parametrize(
    "out_labels,in_labels",
    [(("a", "b"), ("b", "c")), (("a", "a", "b"), ("a",)), ((0, 1, 0), (1, 1)), ((), ("x",))],
)
def test_partitions_are_valid_and_counted_by_bell_products(out_labels, in_labels):
    labels = out_labels + in_labels
    parts = valid_partitions(out_labels, in_labels)
    expected = 1
    for m in Counter(labels).values():
        expected *= bell(m)
    assert len(parts) == expected == len(set(parts))
    for p in parts:
        for block in p:
            assert len({labels[i] for i in block}) == 1


def test_count_basis_terms_on_the_zoo_gru_is_2058():
    counts = count_basis_terms(seq2seq_spec())
    assert len(counts) == 22 * 22
    assert sum(counts.values()) == 2058
    # hn kernel (h, h) <- hn kernel (h, h): four hidden indices, Bell(4) = 15.
    hn = "GRUCell_0/hn/kernel"
    assert counts[(hn, hn)] == 15
    # Dense kernel (h, v) <- input kernel (v, h): Bell(2) * Bell(2) = 4.
    assert counts[("DecoderGRUCell_0/Dense_0/kernel", "GRUCell_0/ir/kernel")] == 4


def test_none_axes_add_no_terms():
    counts = count_basis_terms(seq2seq_spec(vocab=None))
    assert sum(counts.values()) == 1945
    assert counts[("GRUCell_0/ir/kernel", "GRUCell_0/ir/kernel")] == 2  # only (h, h)
