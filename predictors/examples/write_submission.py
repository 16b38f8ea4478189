"""Write a submission file for ``tinyzoo submit`` without training anything.

Scores every test model of a zoo by a hand-made heuristic (the mean absolute value of
its decoder readout kernel, squashed into [0, 1]) and writes ``model_id,predicted_sr``
rows, with the zoo's manifest hash on the first line so that the file cannot be
scored against another zoo::

    python predictors/examples/write_submission.py data/zoos/mini preds.csv
    tinyzoo submit --predictions preds.csv --zoo data/zoos/mini --name readout-heuristic
"""

from __future__ import annotations

import sys

import numpy as np

from zoo_data import load_zoo


def main(zoo_dir: str, out: str) -> None:
    test = load_zoo(zoo_dir, split="test")
    rows = [f"# zoo_manifest_sha256={test.manifest_sha256}", "model_id,predicted_sr"]
    for batch in test.batches(100):
        kernel = batch.params["DecoderGRUCell_0"]["Dense_0"]["kernel"]
        score = np.abs(kernel).mean(axis=(1, 2))
        for model_id, value in zip(batch.model_id, 1 - np.exp(-score), strict=True):
            rows.append(f"{int(model_id)},{float(value):.6f}")
    with open(out, "w") as f:
        f.write("\n".join(rows) + "\n")
    print(f"{out}: {len(rows) - 2} test models")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python predictors/examples/write_submission.py ZOO_DIR OUT.csv")
    main(sys.argv[1], sys.argv[2])
