"""Trainer speed: this working tree against another commit, in one run, interleaved.

    python benchmarks/run.py                      # against 64cae26, about 25 minutes
    python benchmarks/run.py --against HEAD~3     # any commit
    python benchmarks/run.py --quick              # fewer updates, a smoke check

The other commit is checked out in a temporary git worktree (removed at the end) and its
pyrl_mini imported under another name, so both trainers run in this process, one thread,
alternately: each measure is a median over interleaved pairs of the ratio of CPU times.
Times are CPU seconds of this process (time.process_time), which other jobs on a shared
machine disturb far less than wall time. Measured:

- this tree against the commit: one network at the default settings, one network at the
  upstream shape (policy N = 100, batch 64, 16-step trials, 100-unit baseline), an
  ensemble of 16 at the default settings;
- the plain path (no C++ kernel: what a machine without a compiler runs) against this tree's
  fast path, and against the commit's own path without its kernel, at the default settings
  and at the upstream shape;
- resident memory over a long run, and how far the two trainers' histories drift apart for
  the same seed (training is chaotic: float32 rounding differences grow).

It also restates the side-by-side comparison with upstream of 2026-12-06 (UPSTREAM below)
for a machine without a compiler: pyrl_mini's figures there divided by this run's plain-path
ratio at the upstream shape. Writes benchmarks/results.json and prints a table.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import torch

import pyrl_mini.config as this_config
import pyrl_mini.trainer as this_trainer
from pyrl_mini.fast import kernel

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_AGAINST = "64cae26"   # the trainer before the compact core (pyrl_mini/fast/)
# The upstream shape: policy N = 100, batch 64, 16-step trials (3 + 4 + 9), and a
# 100-unit baseline GRU as upstream's.
UPSTREAM_SHAPE = dict(units=100, baseline_units=100, batch_size=64, decision_steps=9)
# Side by side with upstream (pyrl's PyTorch port, commit addd0c9) at the upstream shape on
# 2026-12-06, three interleaved rounds (README, "Against upstream"): trials/s of each round.
# Upstream's code is not on this machine, so these are restated, not measured here.
UPSTREAM = {"date": "2026-12-06",
            "upstream_as_it_runs": (245.0, 312.0, 231.0),
            "upstream_forced": (113.0, 105.0, 92.0),
            "pyrl_mini": (9299.0, 8980.0, 8251.0)}


@dataclasses.dataclass(frozen=True)
class Side:
    """One trainer to time: its modules, and a context it trains in (the plain path's)."""
    label: str
    trainer: ModuleType
    config: ModuleType
    context: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext


def load_commit(commit: str, workdir: str) -> Side:
    """pyrl_mini at `commit`, from a git worktree in workdir, imported under another name."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", workdir,
                    commit], check=True)
    name = "pyrl_mini_at_" + commit.replace("~", "_").replace("^", "_").replace("/", "_")
    path = Path(workdir) / "pyrl_mini"
    spec = importlib.util.spec_from_file_location(name, path / "__init__.py",
                                                  submodule_search_locations=[str(path)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return Side(commit, importlib.import_module(name + ".trainer"),
                importlib.import_module(name + ".config"))


def without_kernel(side: Side) -> Side | None:
    """The same trainer on its path without the C++ kernel (pyrl_mini.fast.disabled, or
    pyrl_mini.kernel.disabled before the fast path had a package of its own); None if the
    trainer has no kernel to turn off."""
    package = side.trainer.__name__.rsplit(".", 1)[0]
    for name in (".fast.kernel", ".kernel"):
        try:
            module = importlib.import_module(package + name)
        except ModuleNotFoundError:
            continue
        if hasattr(module, "disabled"):
            return dataclasses.replace(side, label=f"{side.label} without its kernel",
                                       context=module.disabled)
    return None


def seconds(side: Side, E: int, updates: int, **changes) -> np.ndarray:
    """CPU seconds of each update of an ensemble of E networks trained from scratch."""
    members = [side.config.TrainSettings(seed=k, updates=updates).replace(**changes)
               for k in range(E)]
    marks = [time.process_time()]
    with side.context():
        side.trainer.train(members, progress=False, callback=lambda u, row: marks.append(
            time.process_time()))
    return np.diff(marks)


def compare(this: Side, other: Side, pairs: int, E: int, updates: int, **changes) -> dict:
    """Interleaved pairs (other, this): median ratios other / this of the CPU time of the whole
    run and of its second half (later in training trials last longer: less work is skipped).
    A ratio above 1 means `this` is faster."""
    seconds(this, E, 2, **changes)
    seconds(other, E, 2, **changes)
    runs = [(seconds(other, E, updates, **changes), seconds(this, E, updates, **changes))
            for _ in range(pairs)]
    half = updates // 2
    whole = np.array([o.sum() / t.sum() for o, t in runs])
    late = np.array([o[half:].sum() / t[half:].sum() for o, t in runs])
    return {"this": this.label, "other": other.label, "E": E, "updates": updates,
            "settings": changes, "pairs": pairs,
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


def drift(this: Side, other: Side, updates: int) -> dict:
    """Largest |this - other| of some diagnostics up to each checkpoint, default settings."""
    runs = [side.trainer.train(side.config.TrainSettings(seed=1, updates=updates),
                               progress=False) for side in (this, other)]
    out = {}
    for name in ("entropy", "grad_norm", "reward", "choice_rate"):
        a, b = runs[0].history[name][:, 0], runs[1].history[name][:, 0]
        out[name] = {str(u): float(np.nanmax(np.abs(a[:u] - b[:u])))
                     for u in (1, 10, 50, 100, 200, 500, 1000) if u <= updates}
    return out


def without_compiler_against_upstream(plain_ratio: float) -> dict:
    """UPSTREAM's pyrl_mini figures divided by the plain path's slowdown at the same shape:
    trials/s and ratios to upstream, round by round."""
    ours = [t / plain_ratio for t in UPSTREAM["pyrl_mini"]]
    as_runs = [o / u for o, u in zip(ours, UPSTREAM["upstream_as_it_runs"], strict=True)]
    forced = [o / u for o, u in zip(ours, UPSTREAM["upstream_forced"], strict=True)]
    return {"plain_ratio": plain_ratio, "trials_per_s": ours, "vs_as_it_runs": as_runs,
            "vs_as_it_runs_median": float(np.median(as_runs)), "vs_forced": forced}


def row(o: dict, label: str, rates: str = "network-updates/s") -> tuple[str, str]:
    return (f"{label}, {o['updates']} updates from scratch, {o['pairs']} pairs: {rates}",
            f"{o['E'] / o['s_per_update_this']:.0f} vs {o['E'] / o['s_per_update_other']:.0f}: "
            f"**{o['ratio']:.2f}x** ({o['ratio_min']:.2f}-{o['ratio_max']:.2f}); "
            f"second half {o['ratio_second_half']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default=DEFAULT_AGAINST, help="commit to compare with "
                        f"(default {DEFAULT_AGAINST}, the trainer before pyrl_mini/fast/)")
    parser.add_argument("--quick", action="store_true", help="a few updates: a smoke check")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if kernel.load() is None:
        sys.exit(f"the C++ kernel does not load here ({kernel.why_not()}): this benchmark "
                 "compares the fast path; build it with `python -m pyrl_mini.fast`")
    q = args.quick
    this = Side("this tree", this_trainer, this_config)
    plain = dataclasses.replace(this, label="the plain path", context=kernel.disabled)
    out: dict = {"against": args.against, "date": datetime.date.today().isoformat(),
                 "torch": torch.__version__, "threads": 1, "cores": os.cpu_count(),
                 "load_before": os.getloadavg()}
    # pairs: the machines are shared and a run's speed moves by 10-30 % from one minute to
    # the next (single pairs of one network ranged 1.4-2.6x in one run); the median of 9
    # interleaved pairs is steadier than of 5
    pairs, few = (2, 2) if q else (9, 5)
    updates = 20 if q else 300
    with tempfile.TemporaryDirectory() as tmp:
        workdir = str(Path(tmp) / "other")
        try:
            other = load_commit(args.against, workdir)
            out["default_one"] = compare(this, other, pairs, 1, updates)
            out["upstream_shape_one"] = compare(this, other, pairs, 1, updates,
                                                **UPSTREAM_SHAPE)
            out["default_ensemble_16"] = compare(this, other, 2 if q else 3, 16,
                                                 6 if q else 100)
            # what a machine without a compiler runs: how much slower than the fast path
            out["plain_default_one"] = compare(this, plain, few, 1, updates)
            out["plain_upstream_shape_one"] = compare(this, plain, few, 1, updates,
                                                      **UPSTREAM_SHAPE)
            other_plain = without_kernel(other)
            if other_plain is not None:   # and against such a machine on the other commit
                out["plain_against_other_plain"] = compare(plain, other_plain, 2 if q else 3,
                                                           1, updates)
                out["plain_upstream_shape_against_other_plain"] = compare(
                    plain, other_plain, 2 if q else 3, 1, updates, **UPSTREAM_SHAPE)
            out["drift"] = drift(this, other, 50 if q else 1000)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", workdir],
                           check=False)
    out["memory_one"] = memory(300 if q else 2000)
    out["without_compiler_vs_upstream"] = without_compiler_against_upstream(
        out["plain_upstream_shape_one"]["ratio"])
    out["load_after"] = os.getloadavg()

    Path(__file__).with_name("results.json").write_text(json.dumps(out, indent=1) + "\n")
    rows = [row(out["default_one"], "one network, default settings (N=50, batch 256)"),
            row(out["upstream_shape_one"], "one network, upstream shape (N=100, batch 64, "
                "16 steps, 100-unit baseline)"),
            row(out["default_ensemble_16"], "ensemble of 16, default settings")]
    rows += [row(out["plain_default_one"], "the fast path against the plain path (no kernel), "
                 "one network, default settings", "network-updates/s, fast vs plain"),
             row(out["plain_upstream_shape_one"], "the fast path against the plain path, one "
                 "network, upstream shape", "network-updates/s, fast vs plain")]
    for key, shape in (("plain_against_other_plain", "default settings"),
                       ("plain_upstream_shape_against_other_plain", "upstream shape")):
        if key in out:
            rows.append(row(out[key], f"the plain path against {args.against} without its "
                            f"kernel, one network, {shape}",
                            f"network-updates/s, plain vs {args.against}'s"))
    m = out["memory_one"]
    rows.append((f"resident memory, {m['updates']}-update run: after warm-up first -> last",
                 f"{m['first_mb']:.0f} -> {m['last_mb']:.0f} MB (peak {m['peak_mb']:.0f})"))
    d = out["drift"]["entropy"]
    rows.append(("same seed, largest entropy difference up to update " + ", ".join(d),
                 ", ".join(f"{v:.0e}" for v in d.values())))
    print(f"| measure (this tree vs {args.against}) | value |\n| --- | --- |")
    for a, b in rows:
        print(f"| {a} | {b} |")
    w = out["without_compiler_vs_upstream"]
    print(f"\nWithout a compiler against upstream: the side-by-side figures of "
          f"{UPSTREAM['date']} at the upstream shape divided by the plain path's "
          f"{w['plain_ratio']:.2f}x: "
          + ", ".join(f"{t:,.0f}" for t in w["trials_per_s"]) + " trials/s; against upstream "
          "as it runs " + ", ".join(f"{r:.1f}" for r in w["vs_as_it_runs"])
          + f" (median {w['vs_as_it_runs_median']:.1f}x), against upstream forced to compute "
          f"every step {min(w['vs_forced']):.0f}-{max(w['vs_forced']):.0f}x")
    print(f"\n({out['date']}, torch {torch.__version__}, 1 thread, CPU time, median of "
          f"interleaved pairs; load average {out['load_before'][0]:.1f} at the start, "
          f"{out['load_after'][0]:.1f} at the end)")


if __name__ == "__main__":
    main()
