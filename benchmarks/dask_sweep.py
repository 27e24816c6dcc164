"""Sweep wall time in process vs on a Dask LocalCluster (needs pip install -e '.[dask]').

    python benchmarks/dask_sweep.py                 # 8 cells x 60 updates, default settings
    python benchmarks/dask_sweep.py --updates 20    # a quicker check

Runs the same sweep (kappa x seeds, default network and batch) three ways, all with one torch
thread per process: in process as one ensemble of `cells` (chunk=cells, the in-process fast
path), in process as chunks of cells/workers run one after the other, and on a LocalCluster of
`workers` processes with the same chunks (one per worker). The cluster's start-up (and the
workers' first import of torch) is timed apart. CPU s is the CPU time of the process, or of the
client and all workers. The machines here are shared: the load average is printed; compare
ratios within a run. With Linux's autogroup scheduling, all the processes of one session share
that session's CPU slice, so on a machine busy with other sessions the workers split the slice
one process would get and the cluster cannot be faster than in process.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np
import torch

from pyrl_mini.distributed import DaskExecutor
from pyrl_mini.sweep import SweepSpec, run_sweep


def spec(cells: int, updates: int, chunk: int) -> SweepSpec:
    kappas = [0.0, -0.2]
    return SweepSpec("bench_dask", base=dict(updates=updates), grid=dict(kappa=kappas),
                     seeds=tuple(range(cells // len(kappas))), chunk=chunk,
                     stride=min(10, updates), final_window=min(50, updates))


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def warm_up() -> float:
    """On a worker: import the trainer (and torch); return the CPU seconds so far."""
    import pyrl_mini.trainer  # noqa: F401

    return cpu_seconds()


def cpu_timed(fn, ex=None):
    """(result, wall s, CPU s of this process and of ex's workers)."""
    workers0 = sum(ex.client.run(cpu_seconds).values()) if ex is not None else 0.0
    c0 = cpu_seconds()
    out, wall = timed(fn)
    cpu = cpu_seconds() - c0
    if ex is not None:
        cpu += sum(ex.client.run(cpu_seconds).values()) - workers0
    return out, wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=8)
    parser.add_argument("--updates", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    per_worker = -(-args.cells // args.workers)
    print(f"{args.cells} cells x {args.updates} updates, default settings; {os.cpu_count()} "
          f"cores; load average before {os.getloadavg()}", flush=True)

    _, t_ens, c_ens = cpu_timed(lambda: run_sweep(spec(args.cells, args.updates, args.cells),
                                                  progress=False))
    chunked = spec(args.cells, args.updates, per_worker)
    sequential, t_seq, c_seq = cpu_timed(lambda: run_sweep(chunked, progress=False))
    t0 = time.perf_counter()
    with DaskExecutor(local_workers=args.workers) as ex:
        ex.client.run(warm_up)
        t_start = time.perf_counter() - t0
        on_dask, t_dask, c_dask = cpu_timed(
            lambda: run_sweep(chunked, progress=False, executor=ex), ex)
    same = all(np.array_equal(sequential[k], on_dask[k], equal_nan=sequential[k].dtype.kind == "f")
               for k in sequential)
    rows = [
        (f"in process, 1 ensemble of {args.cells}", t_ens, c_ens),
        (f"in process, {len(chunked.chunks())} chunks of {per_worker} in turn", t_seq, c_seq),
        (f"LocalCluster, {args.workers} workers x 1 thread, same chunks", t_dask, c_dask),
    ]
    print("\n| run | wall s | CPU s | wall / LocalCluster wall |\n|---|---|---|---|")
    for label, t, c in rows:
        print(f"| {label} | {t:.1f} | {c:.1f} | {t / t_dask:.2f} |")
    print(f"\nLocalCluster start-up and warm-up (not included above): {t_start:.1f} s")
    print(f"LocalCluster arrays equal the in-process chunked run bit for bit: {same}")
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
