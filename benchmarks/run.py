"""Trainer speed: this working tree against another commit, in one run, interleaved.

    python benchmarks/run.py                      # against dc3303a, about 15 minutes
    python benchmarks/run.py --against HEAD~3     # any commit
    python benchmarks/run.py --quick              # fewer updates, a smoke check

The other commit is checked out in a temporary git worktree (removed at the end) and its
pyrl_mini imported under another name, so both trainers run in this process, one thread,
alternately: each measure is a median over interleaved pairs of the ratio other / this.
Times are CPU seconds of this process (time.process_time), which other jobs on a shared
machine disturb far less than wall time. Also measured: resident memory over a long run,
and how far the two trainers' histories drift apart for the same seed (training is chaotic:
float32 rounding differences grow). Writes benchmarks/results.json and prints a table.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import pyrl_mini.config as this_config
import pyrl_mini.trainer as this_trainer
from pyrl_mini.fast import kernel

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM_TRIALS_PER_S = 225.0  # pyrl's PyTorch port: 16-step trials, N=100, batch 64
# The upstream shape: policy N = 100, batch 64, 16-step trials (3 + 4 + 9), and a
# 100-unit baseline GRU as upstream's.
UPSTREAM_SHAPE = dict(units=100, baseline_units=100, batch_size=64, decision_steps=9)


def load_commit(commit: str, workdir: str):
    """(trainer, config) modules of pyrl_mini at `commit`, from a git worktree in workdir."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", workdir,
                    commit], check=True)
    name = "pyrl_mini_at_" + commit.replace("~", "_").replace("^", "_").replace("/", "_")
    path = Path(workdir) / "pyrl_mini"
    spec = importlib.util.spec_from_file_location(name, path / "__init__.py",
                                                  submodule_search_locations=[str(path)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return importlib.import_module(name + ".trainer"), importlib.import_module(name + ".config")


def seconds(side, E: int, updates: int, **changes) -> np.ndarray:
    """CPU seconds of each update of an ensemble of E networks trained from scratch."""
    trainer, config = side[:2]
    members = [config.TrainSettings(seed=k, updates=updates).replace(**changes)
               for k in range(E)]
    marks = [time.process_time()]
    with side[2]() if len(side) > 2 else contextlib.nullcontext():
        trainer.train(members, progress=False, callback=lambda u, row: marks.append(
            time.process_time()))
    return np.diff(marks)


def compare(this, other, pairs: int, E: int, updates: int, **changes) -> dict:
    """Interleaved pairs (other, this): median ratios other / this of the CPU time of the whole
    run and of its second half (later in training trials last longer: less work is skipped)."""
    seconds(this, E, 2, **changes)
    seconds(other, E, 2, **changes)
    runs = [(seconds(other, E, updates, **changes), seconds(this, E, updates, **changes))
            for _ in range(pairs)]
    half = updates // 2
    whole = np.array([o.sum() / t.sum() for o, t in runs])
    late = np.array([o[half:].sum() / t[half:].sum() for o, t in runs])
    return {"E": E, "updates": updates, "settings": changes, "pairs": pairs,
            "s_per_update_this": float(np.median([t.mean() for _, t in runs])),
            "s_per_update_other": float(np.median([o.mean() for o, _ in runs])),
            "ratio": float(np.median(whole)), "ratio_min": float(whole.min()),
            "ratio_max": float(whole.max()), "ratio_second_half": float(np.median(late))}


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def memory(updates: int, E: int = 1) -> dict:
    """Resident memory every 50 updates of one run of this tree (after a quarter as warm-up)."""
    rss = []
    members = [this_config.TrainSettings(seed=k, updates=updates) for k in range(E)]
    this_trainer.train(members, progress=False,
                       callback=lambda u, row: rss.append(rss_mb()) if u % 50 == 0 else None)
    warm = rss[len(rss) // 4:]
    return {"updates": updates, "E": E, "first_mb": warm[0], "last_mb": warm[-1],
            "peak_mb": max(rss)}


def drift(this, other, updates: int) -> dict:
    """Largest |this - other| of some diagnostics up to each checkpoint, default settings."""
    runs = [side[0].train(side[1].TrainSettings(seed=1, updates=updates), progress=False)
            for side in (this, other)]
    out = {}
    for name in ("entropy", "grad_norm", "reward", "choice_rate"):
        a, b = runs[0].history[name][:, 0], runs[1].history[name][:, 0]
        out[name] = {str(u): float(np.nanmax(np.abs(a[:u] - b[:u])))
                     for u in (1, 10, 50, 100, 200, 500, 1000) if u <= updates}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", default="dc3303a", help="commit to compare with")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    q = args.quick
    this = (this_trainer, this_config)
    out: dict = {"against": args.against, "torch": torch.__version__, "threads": 1,
                 "cores": os.cpu_count(), "kernel": kernel.load() is not None}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = str(Path(tmp) / "other")
        try:
            other = load_commit(args.against, workdir)
            # pairs: the machines are shared and a run's speed moves by 10-30 % from one
            # minute to the next (single pairs of one network ranged 1.4-2.6x in one run);
            # the median of 9 interleaved pairs is steadier than of 5
            pairs = 2 if q else 9
            out["default_one"] = compare(this, other, pairs, 1, 20 if q else 300)
            out["upstream_shape_one"] = compare(this, other, pairs, 1, 20 if q else 300,
                                                **UPSTREAM_SHAPE)
            out["default_ensemble_16"] = compare(this, other, 2 if q else 3, 16,
                                                 6 if q else 100)
            # what a machine without a C++ compiler gets (the Python recurrence)
            out["default_one_python"] = compare(this + (kernel.disabled,), other,
                                                2 if q else 3, 1, 20 if q else 300)
            out["drift"] = drift(this, other, 50 if q else 1000)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", workdir],
                           check=False)
    out["memory_one"] = memory(300 if q else 2000)
    up = out["upstream_shape_one"]
    out["upstream_trials_per_s"] = UPSTREAM_SHAPE["batch_size"] / up["s_per_update_this"]

    Path(__file__).with_name("results.json").write_text(json.dumps(out, indent=1) + "\n")
    rows = []
    for key, label in (("default_one", "one network, default settings (N=50, batch 256)"),
                       ("upstream_shape_one", "one network, upstream shape (N=100, batch 64, "
                                              "16 steps, 100-unit baseline)"),
                       ("default_ensemble_16", "ensemble of 16, default settings"),
                       ("default_one_python", "without the C++ kernel (Python recurrence): "
                                              "one network, default settings")):
        o = out[key]
        rate = o["E"] / o["s_per_update_this"]
        rows.append((f"{label}, {o['updates']} updates from scratch: network-updates/s",
                     f"{rate:.0f} vs {o['E'] / o['s_per_update_other']:.0f}: "
                     f"**{o['ratio']:.2f}x** ({o['ratio_min']:.2f}-{o['ratio_max']:.2f}); "
                     f"second half {o['ratio_second_half']:.2f}x"))
    rows.append(("upstream shape: trials/s (upstream: 225)",
                 f"{out['upstream_trials_per_s']:.0f} "
                 f"({out['upstream_trials_per_s'] / UPSTREAM_TRIALS_PER_S:.0f}x)"))
    m = out["memory_one"]
    rows.append((f"resident memory, {m['updates']}-update run: after warm-up first -> last",
                 f"{m['first_mb']:.0f} -> {m['last_mb']:.0f} MB (peak {m['peak_mb']:.0f})"))
    d = out["drift"]["entropy"]
    rows.append(("same seed, largest entropy difference up to update " + ", ".join(d),
                 ", ".join(f"{v:.0e}" for v in d.values())))
    print(f"| measure (this tree vs {args.against}) | value |\n| --- | --- |")
    for a, b in rows:
        print(f"| {a} | {b} |")
    print(f"\n(torch {torch.__version__}, 1 thread, CPU time, median of interleaved pairs; "
          f"load average {os.getloadavg()[0]:.1f} at the end)")


if __name__ == "__main__":
    main()
