"""Write the histories and final parameters of a few short runs, for tests/test_same_numbers.py.

    python tests/reference/make_reference.py tests/reference/dc3303a.npz

The stored file was made by the trainer of commit dc3303a (before the fast trainer), so the
test checks that the rewritten trainer gives the same numbers for the same seeds.
"""

from __future__ import annotations

import sys

import numpy as np
import torch

from pyrl_mini.config import TrainSettings
from pyrl_mini.trainer import train

UPDATES = 8
SMALL = dict(batch_size=32, units=16, baseline_units=8)
CASES = {
    "default": TrainSettings(seed=3),
    "risk_seeking_entropy": TrainSettings(seed=1, kappa=-0.2, entropy_coef=0.05).replace(**SMALL),
    "simple_tanh_readout": TrainSettings(seed=2, kappa=0.3).replace(
        network_type="simple", readout_rate="tanh", **SMALL),
    "softplus_cap_sgd": TrainSettings(seed=4, logit_cap=1.5, policy_optimizer="sgd", lr=0.2,
                                      grad_clip=0.5).replace(rate_function="softplus", **SMALL),
    "upstream_shape": TrainSettings(seed=5).replace(units=100, batch_size=64, decision_steps=9),
}


def run(case: TrainSettings):
    return train(case.replace(updates=UPDATES), progress=False)


def main(path: str) -> None:
    torch.set_num_threads(1)
    arrays = {}
    for name, case in CASES.items():
        r = run(case)
        for key, v in r.history.items():
            arrays[f"{name}/history/{key}"] = v
        for key, v in {**r.params, **{"v." + k: p for k, p in r.baseline_params.items()}}.items():
            arrays[f"{name}/params/{key}"] = v.numpy()
    np.savez_compressed(path, **arrays)


if __name__ == "__main__":
    main(sys.argv[1])
