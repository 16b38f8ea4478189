"""The PyTorch loaders (zoo_data.torch_data): split sizes, tensors bitwise equal to the
zoo's numpy weights, the flat vector's order, labels, seeded order, clear errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import datasets  # noqa: E402

from zoo_builder.synthetic import write_synthetic_zoo  # noqa: E402
from zoo_data.archive.schema import model_nbytes  # noqa: E402
from zoo_data.archive.splits import SPLITS  # noqa: E402
from zoo_data.errors import TinyZooError  # noqa: E402
from zoo_data.rnn.presets import ZooConfig  # noqa: E402
from zoo_data.torch_data import (  # noqa: E402
    FLAT_KEY,
    flat_slices,
    torch_dataset,
    torch_loader,
    torch_loaders,
)
from zoo_data.zoo import load_zoo  # noqa: E402

#: DATA_CONFIG with two checkpoints: 10 models (8 / 1 / 1), 2 rows each.
CKPT_CONFIG = ZooConfig(
    "data-test-ckpt", num_models=10, hidden=4, max_digits=1, steps=10, n_test=20,
    n_train_pool=30, group_size=4, checkpoints=(5, 10))


@pytest.fixture(scope="module", autouse=True)
def hf_cache(tmp_path_factory):
    """``datasets``' Arrow cache in a temporary folder for this module."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path_factory.mktemp("hf"))
        yield


@pytest.fixture(scope="module")
def zoo(synthetic_zoo_master):
    return load_zoo(synthetic_zoo_master)


@pytest.fixture(scope="module")
def loaders(zoo):
    return torch_loaders(zoo, batch_size=5, seed=0)


def test_split_sizes_are_the_manifests(zoo, loaders):
    assert list(loaders) == list(SPLITS)
    for split, loader in loaders.items():
        count = zoo.manifest["splits"][split]["count"]
        assert len(loader.dataset) == count
        assert sum(len(b["model_id"]) for b in loader) == count
        assert np.array_equal(np.sort(torch.cat([b["model_id"] for b in loader]).numpy()),
                              zoo.with_split(split).model_ids)


def test_batches_equal_the_zoos_numpy_weights_bitwise(zoo, loaders):
    shapes = zoo.tensor_shapes
    for split, loader in loaders.items():
        for batch in loader:
            ids = batch["model_id"].numpy()
            expected = zoo.tensors(ids)
            assert set(batch) == {*shapes, "test_sr", "model_id"}
            for path, shape in shapes.items():
                got = batch[path]
                assert got.dtype == torch.float32 and tuple(got.shape) == (len(ids), *shape)
                assert np.array_equal(got.numpy(), expected[path]), (split, path)


def test_flat_vector_is_the_tensors_concatenated_in_sorted_path_order(zoo):
    loader = torch_loader(zoo, "train", batch_size=7, flat=True)
    slices = flat_slices(zoo)
    assert list(slices) == sorted(zoo.tensor_shapes)
    n_params = model_nbytes(zoo.config) // 4
    assert max(where.stop for where in slices.values()) == n_params
    for batch in loader:
        ids = batch["model_id"].numpy()
        tensors = zoo.tensors(ids)
        flat = batch[FLAT_KEY]
        assert flat.dtype == torch.float32 and tuple(flat.shape) == (len(ids), n_params)
        expected = np.concatenate([tensors[p].reshape(len(ids), -1)
                                   for p in sorted(tensors)], axis=1)
        assert np.array_equal(flat.numpy(), expected)
        for path, where in slices.items():  # flat_slices recovers every tensor
            assert np.array_equal(flat[:, where].reshape(tensors[path].shape).numpy(),
                                  tensors[path])
        assert not set(batch) & set(tensors)  # the per-tensor keys are gone


def test_labels_and_ids(zoo, loaders):
    for split, loader in loaders.items():
        part = zoo.with_split(split)
        for batch in loader:
            ids = batch["model_id"]
            assert ids.dtype == torch.int64 and batch["test_sr"].dtype == torch.float32
            expected = part.metadata.loc[ids.numpy(), "test_sr"].to_numpy(np.float32)
            assert np.array_equal(batch["test_sr"].numpy(), expected)
    val = np.concatenate([b["test_sr"].numpy() for b in loaders["val"]])
    assert np.array_equal(val, zoo.with_split("val").labels)  # val in model-id order


def test_seeded_shuffle_is_reproducible(zoo):
    def order(loader):
        return torch.cat([b["model_id"] for b in loader]).numpy()

    a, b = (torch_loader(zoo, "train", 4, seed=3) for _ in range(2))
    first_a, first_b = order(a), order(b)
    assert np.array_equal(first_a, first_b)
    assert np.array_equal(np.sort(first_a), zoo.with_split("train").model_ids)
    assert not np.array_equal(first_a, np.sort(first_a))
    assert not np.array_equal(order(torch_loader(zoo, "train", 4, seed=4)), first_a)
    second_a, second_b = order(a), order(b)  # the next epoch: another, reproducible order
    assert np.array_equal(second_a, second_b) and not np.array_equal(second_a, first_a)
    for split in ("val", "test"):  # not shuffled by default
        ids = order(torch_loader(zoo, split, 2, seed=3))
        assert np.array_equal(ids, zoo.with_split(split).model_ids)


def test_unknown_split_is_one_clear_error(zoo, synthetic_zoo_master):
    for call in (lambda: torch_loader(zoo, "validation"),
                 lambda: torch_loader(synthetic_zoo_master, "validation"),
                 lambda: torch_loaders(zoo, splits=("train", "validation")),
                 lambda: torch_dataset(zoo, "validation")):
        with pytest.raises(TinyZooError, match=r"unknown split 'validation'; choose one "
                                               r"of train, val, test"):
            call()


def test_extra_columns_and_bad_arguments(zoo):
    batch = next(iter(torch_loader(zoo, "val", 3, columns=["learning_rate", "group"])))
    expected = zoo.with_split("val").metadata["learning_rate"].to_numpy()
    np.testing.assert_allclose(batch["learning_rate"].numpy(), expected, rtol=1e-6)
    with pytest.raises(TinyZooError, match="no such metadata column"):
        torch_loader(zoo, "val", columns=["nope"])
    with pytest.raises(TinyZooError, match="batch_size 0"):
        torch_loader(zoo, "val", 0)


def test_missing_torch_says_what_to_install(zoo, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    with pytest.raises(TinyZooError, match=r"install tiny-rnn-zoo\[torch\]"):
        torch_loaders(zoo)


def test_a_zoo_with_checkpoints_gives_one_item_per_row(tmp_path_factory):
    zoo = load_zoo(write_synthetic_zoo(tmp_path_factory.mktemp("ckpt") / "zoo", CKPT_CONFIG))
    loaders = torch_loaders(zoo, batch_size=4, columns=["step"])
    for split, loader in loaders.items():
        ids = torch.cat([b["model_id"] for b in loader]).numpy()
        assert len(ids) == 2 * zoo.manifest["splits"][split]["count"]
        assert np.array_equal(np.sort(ids), zoo.with_split(split).model_ids)
    batch = next(iter(loaders["test"]))
    assert batch["step"].tolist() == [5, 10]
    assert np.array_equal(batch["GRUCell_0/hn/kernel"].numpy(),
                          zoo.tensors(batch["model_id"].numpy())["GRUCell_0/hn/kernel"])
