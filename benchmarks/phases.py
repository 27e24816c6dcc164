"""Where one update's time goes: train() timed phase by phase, with the kernel's work counted.

    python benchmarks/phases.py                  # one network, default settings, 300 updates
    python benchmarks/phases.py --updates 100 --ensemble 16

The trainer's functions (the draws, the task, the losses, the optimiser, the diagnostics)
and the C++ kernel's forward and backward are wrapped with timers for one run; phases can
nest (the rollout holds the draws and the kernel's forwards), so they do not add up to the
total. Also counted: the valid trial-steps (the rows the kernel computes), and from the
shapes the floating-point operations of the kernel's products per valid trial-step.
CPU time of this process (as benchmarks/run.py: other jobs on a shared machine disturb it
less than wall time), one thread; the wrappers add a few microseconds per call.
"""

from __future__ import annotations

import argparse
import collections
import functools
import sys
import time

import torch
from kernel import intercept  # benchmarks/kernel.py (this directory is on sys.path)

from pyrl_mini import analysis, kernel, tasks, trainer
from pyrl_mini import networks as nets
from pyrl_mini.config import TrainSettings

TIMES: collections.Counter = collections.Counter()


def timed(owner, name: str, label: str | None = None) -> None:
    """Replace owner.name by a wrapper that adds its wall time to TIMES[label or name]."""
    f = getattr(owner, name)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        t = time.process_time()
        try:
            return f(*args, **kwargs)
        finally:
            TIMES[label or name] += time.process_time() - t

    setattr(owner, name, wrapper)


def kernel_flops_per_row(n_in: int, units: int, n_out: int, gru: bool) -> int:
    """Floating-point operations (2 per multiply-add) of the kernel's products for one valid
    trial-step of one network: forward (input projection, recurrent products, readout),
    backward through time (recurrent products, readout) and the weight gradients."""
    gates = 3 * units if gru else units   # columns of the input and recurrent weights
    forward = n_in * gates + units * gates + units * n_out
    through_time = units * gates + n_out * units
    weights = n_in * gates + units * gates + units * n_out
    return 2 * (forward + through_time + weights)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--ensemble", type=int, default=1)
    args = parser.parse_args()
    if args.updates < 1 or args.ensemble < 1:
        parser.error(f"--updates {args.updates} and --ensemble {args.ensemble}: both must be "
                     "at least 1")
    torch.set_num_threads(1)
    module = kernel.load()
    if module is None:
        sys.exit(f"the kernel does not load here ({kernel.why_not()}): nothing to break down")
    settings = [TrainSettings(seed=k, updates=args.updates) for k in range(args.ensemble)]
    trainer.train(settings, progress=False, stop_after=2)   # warm-up

    rows = collections.Counter()

    def timed_call(name, f, a):   # the kernel's two calls timed; the policy's rows counted
        t = time.process_time()
        out = f(*a)
        TIMES[f"C++ {name}"] += time.process_time() - t
        if name == "forward" and a[9] is None:   # sampling: the policy builds the rows
            rows["valid"] += int(out[2].sum())
        return out

    for owner, names in ((trainer.Ensemble, ("draw", "rollout", "optimizer_step",
                                             "flat_grads")),
                         (trainer, ("losses", "behaviour", "batch_statistics")),
                         (tasks, ("build_inputs", "resolve", "return_to_go")),
                         (analysis, ("collapse_mode",)),
                         (nets, ("run_readout_fast",)),   # the kernel's forward and its wrapper
                         (torch.Tensor, ("backward",))):
        for name in names:
            timed(owner, name)
    kernel._module = intercept(module, timed_call)
    try:
        t = time.process_time()
        trainer.train(settings, progress=False)
        total = time.process_time() - t
    finally:
        kernel._module = module
    U, E = args.updates, args.ensemble
    net = settings[0].network
    gru = net.network_type == "gru"
    flops = (kernel_flops_per_row(tasks.N_INPUTS, net.units, tasks.N_ACTIONS, gru)
             + kernel_flops_per_row(net.units + tasks.N_ACTIONS, net.baseline_units, 1, True))
    per_update = rows["valid"] / U
    possible = E * settings[0].batch_size * settings[0].task.steps
    kernel_s = (TIMES["C++ forward"] + TIMES["C++ backward"]) / U
    print(f"ensemble of {E}, default settings, {U} updates: {total / U * 1e3:.2f} ms per update")
    print("| phase | ms per update |\n| --- | --- |")
    for name, s in TIMES.most_common():
        print(f"| {name} | {s / U * 1e3:.2f} |")
    shares = {"the C++ kernel": kernel_s, "the random draws": TIMES["draw"] / U}
    shares["the rest (torch calls and Python)"] = total / U - sum(shares.values())
    print("\n" + ", ".join(f"{k} {v * 1e3:.1f} ms ({v / (total / U):.0%})"
                           for k, v in shares.items()))
    print(f"valid trial-steps per update: {per_update:.0f} of {possible} "
          f"({per_update / possible:.0%})")
    print(f"kernel products: {flops / 1e3:.1f} kFLOP per valid trial-step (policy and "
          f"baseline), {flops * per_update / 1e6:.0f} MFLOP per update, "
          f"{flops * per_update / kernel_s / 1e9:.0f} GFLOP/s in the C++ calls")


if __name__ == "__main__":
    main()
