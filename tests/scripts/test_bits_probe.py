"""``scripts/bits_probe.py``: one hash per primitive, written with this machine's
fingerprint."""

from __future__ import annotations

import json
import re

from scripts import bits_probe


def test_the_probe_hashes_every_primitive_reproducibly(tmp_path, capsys):
    assert bits_probe.main(["--out", str(tmp_path / "bits.json")]) == 0
    written = json.loads((tmp_path / "bits.json").read_text())
    assert json.loads(capsys.readouterr().out) == written
    hashes = written["hashes"]
    assert len(hashes) == 18 and all(re.fullmatch(r"[0-9a-f]{16}", h)
                                     for h in hashes.values())
    assert {"matmul 64x16384x8", "mean axis 0", "gru 8 steps grad"} <= set(hashes)
    assert written["machine"]["id"] and written["machine"]["cores"] >= 1
