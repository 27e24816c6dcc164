"""Where one update's time goes: train() timed phase by phase, with the kernel's work counted.

    python benchmarks/kernel/phases.py                  # one network, default settings, 300 updates
    python benchmarks/kernel/phases.py --updates 100 --ensemble 16

The trainer's functions (the draws, the task, the losses, the optimiser, the diagnostics)
and the C++ kernel's forward and backward are wrapped with timers for one run; phases can
nest (the rollout holds the draws and the kernel's forwards), so they do not add up to the
total. Also counted: the valid trial-steps (the rows the kernel computes), and from the
shapes the floating-point operations of the kernel's products per valid trial-step, and
how long those products would take at the rate BLAS reaches on their shapes alone (torch.mm
on the same shapes and layouts, outside the kernel): what the kernel spends beyond that goes
to its own loops, copies and sums, or to its products running slower inside it than alone.
CPU time of this process (as benchmarks/run.py: other jobs on a shared machine disturb it
less than wall time), one thread; the wrappers add a few microseconds per call.
"""

from __future__ import annotations

import argparse
import collections
import functools
import sys
import time

import numpy as np
import torch
from kernel import intercept  # benchmarks/kernel/kernel.py (this directory is on sys.path)

from pyrl_mini import analysis, tasks, trainer
from pyrl_mini.config import TrainSettings
from pyrl_mini.fast import kernel
from pyrl_mini.fast import rollout as fast_rollout

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


def mm_seconds(m: int, k: int, n: int, layout: str, reps: int = 400) -> float:
    """Median wall seconds of torch.mm for C (m x n) = op(A) (m x k) op(B) (k x n), row-major,
    in the kernel's layouts: NN, NT (B stored n x k) or TN (A stored k x m). A median of
    single calls, so that the machine's interruptions do not count."""
    a = torch.randn(k, m).t() if layout == "TN" else torch.randn(m, k)
    b = torch.randn(n, k).t() if layout == "NT" else torch.randn(k, n)
    c = torch.empty(m, n)
    times = []
    for _ in range(5):
        torch.mm(a, b, out=c)
    for _ in range(reps):
        t = time.perf_counter()
        torch.mm(a, b, out=c)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def kernel_products(rows: int, batch: int, n_in: int, units: int,
                    n_out: int) -> list[tuple[int, int, int, str, float]]:
    """The products of one GRU network's kernel calls for `rows` valid trial-steps, as
    (m, k, n, layout, times): the per-step products at `batch` rows, run rows / batch times,
    and the products over all rows at once, run once. The same operations as
    kernel_flops_per_row counts (tests/test_benchmarks.py checks that)."""
    N, steps = units, rows / batch
    return [(batch, N, 2 * N, "NN", steps), (batch, N, N, "NN", steps),       # gates, c
            (batch, N, N, "NT", steps), (batch, 2 * N, N, "NT", steps),       # through time
            (rows, n_in, 3 * N, "NN", 1), (rows, N, n_out, "NN", 1),          # inputs, readout
            (rows, n_out, N, "NT", 1),                                        # readout's grad
            (n_in, rows, 3 * N, "TN", 1), (N, rows, N, "TN", 1),              # weight grads
            (N, rows, 2 * N, "TN", 1), (N, rows, n_out, "TN", 1)]


def blas_seconds(products: list[tuple[int, int, int, str, float]]) -> float:
    """Seconds those products take per update at BLAS's own rate on their shapes."""
    return sum(times * mm_seconds(m, k, n, layout) for m, k, n, layout, times in products)


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
                         (analysis, ("behaviour_mode",)),
                         (fast_rollout, ("run",)),   # the kernel's forward and its wrapper
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
    if gru:
        rows_e, b = max(round(per_update / E), 1), settings[0].batch_size
        blas = E * (blas_seconds(kernel_products(rows_e, b, tasks.N_INPUTS, net.units,
                                                 tasks.N_ACTIONS))
                    + blas_seconds(kernel_products(rows_e, b, net.units + tasks.N_ACTIONS,
                                                   net.baseline_units, 1)))
        square = mm_seconds(1024, 1024, 1024, "NN", reps=20)
        print(f"the same products at BLAS's rate on their shapes (torch.mm alone, one thread): "
              f"{blas * 1e3:.1f} ms of the kernel's {kernel_s * 1e3:.1f} ms "
              f"({flops * per_update / blas / 1e9:.0f} GFLOP/s; a 1024 x 1024 x 1024 product: "
              f"{2 * 1024 ** 3 / square / 1e9:.0f} GFLOP/s)")


if __name__ == "__main__":
    main()
