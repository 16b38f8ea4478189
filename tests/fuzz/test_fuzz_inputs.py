"""Property-based tests (hypothesis) of everything that reads untrusted input: manifest
bytes, a manifest's config, and a submission CSV. Any input gives either a valid result
or one :class:`TinyZooError` (one line), never another exception. Bounded and
derandomized, so CI runs the same examples in a few seconds."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.submit import parse_submission
from tests.fixtures.zoos import BENCH_CONFIG
from zoo_builder.synthetic import write_synthetic_zoo
from zoo_data.archive.manifest import parse_manifest
from zoo_data.errors import TinyZooError
from zoo_data.rnn.presets import ZooConfig, get_preset
from zoo_data.zoo import open_local_zoo

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12)
    | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10),
                                                                  inner, max_size=4),
    max_leaves=20)

TINY = asdict(get_preset("tiny"))


@pytest.fixture(scope="module")
def bench_test(tmp_path_factory):
    """The test split (ids 54..59) of a small synthetic zoo."""
    zoo_dir = write_synthetic_zoo(tmp_path_factory.mktemp("fuzz") / "zoo", BENCH_CONFIG)
    return open_local_zoo(zoo_dir, "test")


def one_line(e: TinyZooError) -> None:
    assert str(e) and "\n" not in str(e)


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_as_a_manifest(raw):
    try:
        parse_manifest(raw, "fuzz/manifest.json")
    except TinyZooError as e:
        one_line(e)


def mutated_manifest(synthetic: dict):
    """A real manifest with one field replaced by an arbitrary JSON value."""
    keys = st.sampled_from(sorted(synthetic) + ["extra"])
    return st.tuples(keys, json_values)


@FUZZ
@given(data=st.data())
def test_a_real_manifest_with_one_field_changed(synthetic_zoo_master, data):
    manifest = json.loads((synthetic_zoo_master / "manifest.json").read_text())
    key, value = data.draw(mutated_manifest(manifest))
    sub = data.draw(st.sampled_from(sorted(manifest["config"]) + ["extra"]))
    edited = dict(manifest)
    if data.draw(st.booleans()):
        edited[key] = value
    else:
        edited["config"] = {**manifest["config"], sub: value}
    try:
        parsed = parse_manifest(json.dumps(edited).encode(), "fuzz/manifest.json")
    except TinyZooError as e:
        one_line(e)
    else:
        assert isinstance(parsed, dict)


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(TINY) + ["other"]), json_values, max_size=6))
def test_any_config_fields(changes):
    try:
        config = ZooConfig.from_dict({**TINY, **changes})
    except TinyZooError as e:
        one_line(e)
    else:
        assert config.num_models >= 1 and config.group_size >= 1 and config.batch_sizes


csv_cells = st.one_of(st.integers(-5, 70).map(str), st.floats().map(repr),
                      st.text(alphabet=",.-+e0123456789 naifNIx\"#", max_size=8))


@FUZZ
@given(st.lists(st.tuples(csv_cells, csv_cells), max_size=12),
       st.sampled_from(["model_id,predicted_sr", "predicted_sr,model_id", "", "a,b,c"]),
       st.sampled_from(["", "# zoo_manifest_sha256=abc\n", "#x\n", "\ufeff"]))
def test_any_submission_csv(bench_test, tmp_path_factory, rows, header, prefix):
    path = tmp_path_factory.mktemp("csv") / "preds.csv"
    lines = [header] + [f"{a},{b}" for a, b in rows]
    path.write_text(prefix + "\n".join(lines) + "\n")
    try:
        predicted = parse_submission(path, bench_test)
    except TinyZooError as e:
        one_line(e)
    else:
        assert predicted.shape == (len(bench_test),)
        assert np.all((predicted >= 0) & (predicted <= 1))
