"""Training on fewer models (data-scaling curves): ``Zoo.with_train_models``."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.fixtures.zoos import DATA_CONFIG
from zoo_builder.synthetic import write_synthetic_zoo
from zoo_data.archive.splits import split_ids, split_rows
from zoo_data.errors import TinyZooError
from zoo_data.zoo import open_local_zoo

CKPT = dataclasses.replace(DATA_CONFIG, num_models=40, checkpoints=(5, 10))


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    return open_local_zoo(write_synthetic_zoo(tmp_path_factory.mktemp("sub") / "zoo", CKPT))


def test_a_subset_holds_every_checkpoint_of_count_training_models(zoo):
    train = split_ids(CKPT, "train")
    sub = zoo.with_train_models(7, seed=3).with_split("train")
    models = np.unique(sub.model_ids // 2)
    assert len(models) == 7 and np.isin(models, train).all()
    assert len(sub) == 14 and sub.train_models.tolist() == models.tolist()
    np.testing.assert_array_equal(sub.model_ids,
                                  np.sort(np.concatenate([models * 2, models * 2 + 1])))
    assert len(sub.labels) == 14 and "train_models=7" in repr(sub)


def test_val_and_test_are_unchanged_and_subsets_are_nested(zoo):
    sub = zoo.with_train_models(5)
    for split in ("val", "test"):
        np.testing.assert_array_equal(sub.with_split(split).model_ids,
                                      split_rows(CKPT, split))
    small = set(zoo.with_train_models(5).with_split("train").model_ids.tolist())
    large = set(zoo.with_train_models(12).with_split("train").model_ids.tolist())
    every = set(zoo.with_train_models(len(split_ids(CKPT, "train"))).with_split("train")
                .model_ids.tolist())
    assert small < large < every == set(split_rows(CKPT, "train").tolist())
    other = set(zoo.with_train_models(5, seed=1).with_split("train").model_ids.tolist())
    assert other != small  # another seed, another draw


@pytest.mark.parametrize("count", [0, -1, 10_000])
def test_a_count_outside_the_train_split_is_refused(zoo, count):
    with pytest.raises(TinyZooError, match=f"train models {count}: the zoo has"):
        zoo.with_train_models(count)
