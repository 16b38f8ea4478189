"""ProbeGen with its probes held where they start: the ablation that says what learning
the probes is worth.

The probes start from 32 real training-pool problems (as ProbeGen's do) and stay there;
only the MLP on the network's teacher-forced log-probabilities is trained. Compare its
row with ProbeGen's (learned probes) and with Probing's (64 fixed problems, greedy
correctness too):

    tinyzoo bench predictors/examples/fixed_probes.py:FixedProbeGen --zoo data/zoos/small-v2
"""

from __future__ import annotations

from predictors.probegen import ProbeGen


class FixedProbeGen(ProbeGen):
    name = "probegen-fixed"
    display_name = "ProbeGen, probes fixed at real problems (ablation)"
    learn_probes = False
