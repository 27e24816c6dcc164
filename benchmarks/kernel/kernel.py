"""The C++ recurrence alone: this tree's recurrence.cpp against another commit's, in one run.

    python benchmarks/kernel/kernel.py                    # against HEAD~1, about 3 minutes
    python benchmarks/kernel/kernel.py --against 64cae26  # any commit with a recurrence.cpp
    python benchmarks/kernel/kernel.py --ensemble 16      # the calls of an ensemble of 16

For work on pyrl_mini/fast/recurrence.cpp, where a whole-trainer benchmark (benchmarks/run.py)
cannot see a 5 % change through the machine's noise. One update's kernel calls (the policy's
and the baseline's forward and backward) are captured from a training run at update 100,
both sources are compiled as separate modules (about 30 s each, cached), their outputs on
those calls are compared, and then each call is replayed on both modules alternately:
medians of CPU time and of the ratio other / this over interleaved repetitions.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "pyrl_mini/fast/recurrence.cpp"
OLD_SOURCE = "pyrl_mini/recurrence.cpp"   # where it was before pyrl_mini/fast/ (64cae26 and before)


def intercept(module, hook):
    """The kernel module with its forward and backward calls passed through
    hook(name, f, args), which calls f(*args) and returns its result (other names as is)."""
    class Intercepted:
        def __getattr__(self, name):
            f = getattr(module, name)
            if name not in ("forward", "backward"):
                return f
            return lambda *args: hook(name, f, args)
    return Intercepted()


def capture(E: int, update: int = 100) -> list[tuple[str, list]]:
    """The kernel calls (name, arguments) of update `update` of an ensemble of E networks at
    the default settings, arguments cloned as they were at the call."""
    from pyrl_mini.config import TrainSettings
    from pyrl_mini.fast import kernel
    from pyrl_mini.trainer import train

    module = kernel.load()
    if module is None:
        sys.exit(f"the kernel does not load here: {kernel.why_not()}")
    calls: list[tuple[str, list]] = []

    def clone(x):
        if torch.is_tensor(x):
            return x.clone()
        return [clone(y) for y in x] if isinstance(x, list) else x

    def record(name, f, args):
        calls.append((name, [clone(a) for a in args]))
        return f(*args)

    spy = intercept(module, record)   # stands in for the module during one update

    def switch(u, _row):
        kernel._module = spy if u == update - 1 else module

    try:
        train([TrainSettings(seed=k, updates=update + 1) for k in range(E)], progress=False,
              callback=switch)
    finally:
        kernel._module = module
    return calls


def build(source: str, tag: str):
    """recurrence.cpp text compiled as its own module (named after its hash)."""
    from torch.utils.cpp_extension import load

    from pyrl_mini.fast import kernel

    digest = hashlib.sha1(source.encode()).hexdigest()[:10]
    path = Path(tempfile.gettempdir()) / f"pyrl_mini_kernel_{digest}.cpp"
    path.write_text(source)
    print(f"compiling {tag} ({digest}) ...", flush=True)
    kernel.ninja_on_path()
    return load(name=f"pyrl_mini_kernel_ab_{digest}", sources=[str(path)],
                extra_cflags=["-O3", "-march=native"])


def outputs(module, name: str, args: list) -> list[torch.Tensor]:
    out = getattr(module, name)(*args)
    # forward: [out, rates, counts, idx, pos, actions, buffers...]; idx and pos hold
    # uninitialised values past the rows used, so the comparison keeps out, rates, counts
    return list(out[:3]) if name == "forward" else list(out)


def compare(other, this, calls: list, reps: int, inner: int = 1):
    """Largest output difference (relative to each output's scale) of the two modules on the
    calls, and CPU seconds per update {(forward|backward, 0 other | 1 this): [per repetition]},
    each repetition running both modules in turn (alternating which goes first)."""
    worst = 0.0
    for name, a in calls:
        for x, y in zip(outputs(other, name, a), outputs(this, name, a), strict=True):
            if x.is_floating_point() and x.numel():
                scale = float(x.abs().max()) or 1.0
                worst = max(worst, float((x - y).abs().max()) / scale)
            elif not torch.equal(x, y):
                raise SystemExit(f"{name}: the two kernels choose different rows or actions")
    times = {(n, side): [] for n in ("forward", "backward") for side in (0, 1)}
    for r in range(reps):
        for which in ("forward", "backward"):
            for side in ((0, 1) if r % 2 == 0 else (1, 0)):
                module = (other, this)[side]
                t = time.process_time()
                for _ in range(inner):
                    for name, a in calls:
                        if name == which:
                            getattr(module, name)(*a)
                times[which, side].append((time.process_time() - t) / inner)
    return worst, times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", default="HEAD~1", help="commit to compare with")
    parser.add_argument("--ensemble", type=int, default=1, help="networks in the ensemble")
    parser.add_argument("--reps", type=int, default=0, help="repetitions (0: automatic)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for path in (SOURCE, OLD_SOURCE):
        other_src = subprocess.run(["git", "-C", str(ROOT), "show", f"{args.against}:{path}"],
                                   capture_output=True, text=True)
        if other_src.returncode == 0:
            break
    else:
        sys.exit(f"{args.against} has neither {SOURCE} nor {OLD_SOURCE}: "
                 f"{other_src.stderr.strip()}")
    try:
        this = build((ROOT / SOURCE).read_text(), "this tree")
        other = build(other_src.stdout, args.against)
    except Exception as exc:   # no compiler, or a source that does not compile
        sys.exit(f"could not compile: {str(exc).strip().splitlines()[-1][:300]} (the kernel "
                 "needs a C++ compiler; Debian: apt-get install g++)")
    calls = capture(args.ensemble)
    reps = args.reps or (40 if args.ensemble == 1 else 10)
    worst, times = compare(other, this, calls, reps, inner=5 if args.ensemble == 1 else 1)
    print(f"\nkernel calls of update 100, ensemble of {args.ensemble}, {reps} interleaved "
          f"repetitions; largest output difference {worst:.1e} of the output's scale")
    print(f"| per update | {args.against} | this tree | ratio (median) |")
    print("| --- | --- | --- | --- |")
    for which in ("forward", "backward"):
        o, t = np.array(times[which, 0]), np.array(times[which, 1])
        print(f"| {which} (policy + baseline) | {np.median(o) * 1e3:.2f} ms | "
              f"{np.median(t) * 1e3:.2f} ms | {np.median(o / t):.3f}x |")


if __name__ == "__main__":
    main()
