"""Whole histories of a few runs of a few hundred updates, for tests/test_same_numbers.py.

    python tests/reference/make_histories.py tests/reference/histories-64cae26.npz

The stored file was made on the fast path by commit 64cae26 (before the trainer was split into
a compact core and pyrl_mini/fast), so the test checks that a change to the code keeps every
number of these runs, to the bit, on a machine like the one that made it. The file records
that machine (machine_signature): where the CPU, torch or BLAS differs, float rounding differs
and a chaotic run parts from the stored one, so the test says so instead of comparing.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys

import numpy as np
import torch

from pyrl_mini.config import TrainSettings
from pyrl_mini.trainer import train, uses_fast_path

CASES = {
    "default": [TrainSettings(seed=3, updates=300)],
    "ensemble": [TrainSettings(seed=10, kappa=-0.4, lr=0.03, updates=300),
                 TrainSettings(seed=11, kappa=0.4, logit_cap=2.0, entropy_coef=0.05,
                               updates=300),
                 TrainSettings(seed=12, policy_optimizer="sgd", lr=1.0, updates=300),
                 TrainSettings(seed=13, kappa=-0.4, kappa_schedule="gradual",
                               kappa_step_updates=25, lr_schedule="exponential", updates=300)],
    "simple_tanh": [TrainSettings(seed=2, kappa=0.3, batch_size=128, updates=300).replace(
        network_type="simple", readout_rate="tanh")],
    "softplus_fixate": [TrainSettings(seed=4, policy_adam_eps=0.01, updates=200).replace(
        rate_function="softplus", fixate_bias=3.0)],
    "upstream_shape": [TrainSettings(seed=5, batch_size=64, updates=200).replace(
        units=100, baseline_units=100, decision_steps=9)],
}
RECORD_UNITS = {"softplus_fixate", "default"}


def machine_signature() -> dict:
    """What float rounding depends on besides the code: the CPU (its features pick BLAS's
    kernels and the C++ build's vector code), torch and the BLAS it uses, and the path."""
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    flags = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    blas = [line.strip() for line in torch.__config__.show().splitlines()
            if "BLAS_INFO" in line or "CPU capability" in line]
    return {"machine": platform.machine(), "cpu_flags": hashlib.sha1(flags.encode()).hexdigest(),
            "torch": torch.__version__, "blas": blas, "fast_path": uses_fast_path()}


def run(name: str):
    return train(CASES[name], progress=False, record_units=name in RECORD_UNITS)


def main(path: str) -> None:
    torch.set_num_threads(1)
    arrays = {"machine_signature": np.array(json.dumps(machine_signature()))}
    for name in CASES:
        r = run(name)
        for key, v in r.history.items():
            arrays[f"{name}/history/{key}"] = v
        arrays[f"{name}/stopped_at"] = r.stopped_at
        if r.unit_dead is not None:
            arrays[f"{name}/unit_dead"] = r.unit_dead
        for key, v in r.params.items():   # the policy's final weights (the baseline follows)
            arrays[f"{name}/params/{key}"] = v.numpy()
    np.savez_compressed(path, **arrays)


if __name__ == "__main__":
    main(sys.argv[1])
