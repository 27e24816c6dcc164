"""The memory plan (pyrl_mini/memory.py) against what training really holds.

A fresh process per code path imports the trainer, warms it up on a tiny run, then forks one
child per shape: the child trains and reports how far its peak resident memory (ru_maxrss)
rose above its resident memory before training. The plan must not be below that growth (an
optimistic plan lets a run die of "can't allocate memory" halfway) and not far above it
(K_OVER: a pessimistic one refuses runs that would fit).
"""

import json
import os
import subprocess
import sys

import pytest

from pyrl_mini import memory
from pyrl_mini.config import MEMORY_BUDGET, SettingsError, TrainSettings
from pyrl_mini.trainer import Ensemble, train

# The plan may exceed the measured growth by this factor: the fast path keeps a quarter to a
# half of the plain path's rollout, and the plan takes the plain path's (measured 1.1-3.1).
K_OVER = 4.0

# Shapes that each train in a few seconds, every part of the plan dominant in one of them.
SHAPES = {
    "policy weights (768 units, batch 1)": dict(units=768, baseline_units=32, batch_size=1,
                                                updates=12),
    "baseline weights (768 baseline units, batch 1)": dict(units=32, baseline_units=768,
                                                           batch_size=1, updates=12),
    "rollout (batch 1024)": dict(batch_size=1024, updates=24),
    "ensemble of 3 SimpleRNNs (256 units, batch 128)": dict(network_type="simple", units=256,
                                                             baseline_units=256, batch_size=128,
                                                             updates=12, ensemble=3),
}

MEASURE = r"""
import json, os, resource, sys
import torch
torch.set_num_threads(1)
from pyrl_mini.config import TrainSettings
from pyrl_mini.memory import planned_bytes
from pyrl_mini.trainer import train

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def members(shape):
    shape = dict(shape)
    n, updates, batch = shape.pop("ensemble", 1), shape.pop("updates"), shape.pop("batch_size")
    return [TrainSettings(updates=updates, batch_size=batch).replace(seed=k, **shape)
            for k in range(n)]

# load everything a run loads (the kernel, BLAS) before any measurement
train(TrainSettings(updates=2, batch_size=4).replace(units=4, baseline_units=4), progress=False)
out = {}
for name, shape in json.loads(sys.argv[1]).items():
    settings = members(shape)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child's peak starts at its resident memory at the fork
        before = rss()
        train(settings, progress=False)
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
        os.write(write, str(grown).encode())
        os._exit(0)
    os.close(write)
    grown = int(os.read(read, 100))
    os.waitpid(pid, 0)
    out[name] = {"measured": grown, "planned": planned_bytes(settings)}
print(json.dumps(out))
"""


def measure(kernel: str) -> dict:
    env = {**os.environ, "PYRL_MINI_KERNEL": kernel}
    run = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(SHAPES)], env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
@pytest.mark.parametrize("kernel", ["0", ""], ids=["plain path", "fast path if built"])
def test_plan_covers_the_measured_peak_within_a_stated_factor(kernel):
    for name, m in measure(kernel).items():
        mib = (f"{name}: planned {m['planned'] / 2**20:.0f} MiB, measured "
               f"{m['measured'] / 2**20:.0f}")
        assert m["planned"] >= m["measured"], f"the plan is optimistic for {mib}"
        assert m["planned"] <= K_OVER * m["measured"], f"the plan is too pessimistic for {mib}"


@pytest.mark.parametrize("network_type", ["gru", "simple"])
def test_parameter_count_is_the_trainers(network_type):
    s = TrainSettings(batch_size=2, updates=1).replace(network_type=network_type, units=7,
                                                       baseline_units=5)
    ens = Ensemble([s])
    assert memory.parameter_count(s) == (sum(p.numel() for p in ens.params.values()),
                                         sum(p.numel() for p in ens.baseline_params.values()))


def test_issue_33_wide_networks_are_planned_with_their_weights():
    """units=4096 with a 4096-unit baseline reached 6.24 GiB resident at batch 1 while the old
    plan said 0.01 GiB; an ensemble of 8 passed the old check and died in allocation."""
    wide = TrainSettings(batch_size=1, updates=1).replace(units=1024, baseline_units=1024)
    assert memory.planned_bytes([wide]) > 0.5 * 2**30  # 9.5 M weights with Adam state
    with pytest.raises(SettingsError, match=r"ensemble of 8 networks would need about .* GiB.*"
                                            r"weights with their gradients and Adam state"
                                            r".*Lower units or baseline_units"):
        train([wide.replace(seed=k, units=2048, baseline_units=2048) for k in range(8)],
              progress=False)
    with pytest.raises(SettingsError, match=r"would need about 1\d\.\d GiB"):
        wide.replace(units=4096, baseline_units=4096)
    assert memory.planned_bytes([TrainSettings()]) < MEMORY_BUDGET / 100  # the default: small


if __name__ == "__main__":  # the table in the README: .venv/bin/python tests/test_memory.py
    for kernel, path in (("0", "plain"), ("", "fast")):
        for name, m in measure(kernel).items():
            print(f"{path:5s} {name:48s} planned {m['planned'] / 2**20:5.0f} MiB, measured "
                  f"{m['measured'] / 2**20:5.0f} MiB, x{m['planned'] / m['measured']:.2f}")
