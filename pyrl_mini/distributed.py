"""Run a sweep's chunks on a Dask cluster (optional: `pip install -e '.[dask]'`).

    with DaskExecutor(local_workers=2) as ex:                  # a LocalCluster on this machine
        arrays = run_sweep(spec, partial_dir="data/.partial", executor=ex)
    with DaskExecutor("tcp://head:8786") as ex:                # a running dask scheduler
        ...

Each chunk (an ensemble of cells) is one Dask task running the ensemble trainer with one torch
thread. Results come back in chunk order as they are ready, so run_sweep's progress bar, partial
saving and resume work as in process, and the arrays equal the in-process run bit for bit (same
seeds, same chunks, same torch version on the workers). Dask is imported only when used.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

INSTALL_HINT = "pip install -e '.[dask]'"


class DaskError(RuntimeError):
    """Dask is missing, or the cluster cannot be reached or used; the message says the fix."""


def _import_distributed():
    try:
        import distributed
    except ImportError as err:
        raise DaskError(f"running a sweep on Dask needs dask.distributed, which is not "
                        f"installed ({err}). Install the optional extra: {INSTALL_HINT}") from None
    return distributed


def _on_worker(fn: Callable, job):
    """Run fn(job) on a worker with one torch thread (workers share the machine's cores)."""
    import torch

    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    _undo_malloc_trim()
    return fn(job)


@functools.cache
def _undo_malloc_trim() -> None:
    """Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also freezes glibc's
    mmap threshold at 128 KiB: every tensor above it is then mmapped and unmapped anew and
    training takes 2-4x the CPU time (page faults). Raise both thresholds again, as glibc's
    adaptive default would, once per worker process. Only glibc reads the variable."""
    import ctypes
    import os

    if os.environ.get("MALLOC_TRIM_THRESHOLD_") is None:
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_trim_threshold, 128 << 20)
    libc.mallopt(m_mmap_threshold, 32 << 20)  # glibc's largest dynamic mmap threshold


class DaskExecutor:
    """An executor for run_sweep(executor=...): .map(fn, jobs) runs the jobs as Dask tasks.

    address: a scheduler address such as tcp://host:8786 (started with `dask scheduler`, with
    workers from `dask worker tcp://host:8786` on machines that have this package installed).
    local_workers: instead, start a LocalCluster of this many single-threaded worker processes
    here; it is closed by close() (or on leaving a with block).
    timeout: seconds to reach the scheduler; worker_timeout: seconds to wait for a first worker.
    """

    def __init__(self, address: str | None = None, *, local_workers: int | None = None,
                 timeout: float = 10.0, worker_timeout: float = 60.0):
        if (address is None) == (local_workers is None):
            raise DaskError("give either a scheduler address (e.g. tcp://host:8786) or "
                            "local_workers=N, not both or neither.")
        if local_workers is not None and (isinstance(local_workers, bool)
                                          or not isinstance(local_workers, int)
                                          or local_workers < 1):
            raise DaskError(f"local_workers={local_workers!r} must be a positive integer.")
        distributed = _import_distributed()
        self.cluster = None
        if local_workers is not None:
            # No dashboard, and the scheduler's plain HTTP server (health and metrics
            # routes, which it always starts) on a free loopback port: with
            # dashboard_address=None it would try port 8787 and warn when that is taken.
            self.cluster = distributed.LocalCluster(
                n_workers=local_workers, threads_per_worker=1, processes=True,
                dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False})
            self.client = distributed.Client(self.cluster)
        else:
            try:
                self.client = distributed.Client(address, timeout=timeout)
            except (OSError, ValueError, TypeError) as err:
                raise DaskError(
                    f"cannot reach a Dask scheduler at {address!r} within {timeout:g} s "
                    f"({err}). Start one with `dask scheduler` and workers with `dask worker "
                    f"{address}`, check the address and firewall, or use a local cluster "
                    "instead (--local-cluster N).") from None
            try:
                self.client.wait_for_workers(1, timeout=worker_timeout)
            except TimeoutError:
                self.client.close()
                raise DaskError(f"the Dask scheduler at {address} has no workers after "
                                f"{worker_timeout:g} s; start some with `dask worker {address}` "
                                "on machines with this package installed.") from None
            self._check_workers()

    def _check_workers(self) -> None:
        """Refuse workers that cannot import pyrl_mini; warn when versions differ from here."""

        def probe():  # nested: pickled by value, so it runs even where pyrl_mini is missing
            import importlib
            out = {}
            for mod in ("pyrl_mini", "torch", "numpy"):
                try:
                    out[mod] = importlib.import_module(mod).__version__
                except Exception as err:  # any import failure is reported, not raised
                    out[mod] = f"unavailable ({type(err).__name__}: {err})"
            return out

        here = probe()
        for worker, versions in self.client.run(probe).items():
            if versions["pyrl_mini"].startswith("unavailable"):
                self.close()
                raise DaskError(f"Dask worker {worker} cannot import pyrl_mini "
                                f"({versions['pyrl_mini']}); install this package on every "
                                "worker machine (pip install -e . from the same checkout).")
            differ = {k: (v, here[k]) for k, v in versions.items() if v != here[k]}
            if differ:
                warnings.warn(f"Dask worker {worker} runs other versions than this machine "
                              f"(worker, here): {differ}; results may differ from an in-process "
                              "run.", RuntimeWarning, stacklevel=3)

    def map(self, fn: Callable, jobs: Iterable) -> Iterator:
        """Submit every job now; yield fn(job) results in job order as each is ready.

        Stopping early (an error or Ctrl-C in the consumer) cancels the jobs not yet returned.
        """
        jobs = list(jobs)
        futures = self.client.map(functools.partial(_on_worker, fn), jobs, pure=False)
        return self._in_order(futures)

    def map_unordered(self, fn: Callable, jobs: Iterable) -> Iterator[tuple[int, Any]]:
        """Submit every job now; yield (index in jobs, fn(job)) as each finishes, so a caller
        can save a finished job at once. Stopping early cancels the jobs not yet returned."""
        dist = _import_distributed()
        futures = self.client.map(functools.partial(_on_worker, fn), list(jobs), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        pending = set(index)
        try:
            for f in dist.as_completed(futures):
                result = f.result()
                pending.discard(f.key)
                yield index[f.key], result
        finally:
            left = [f for f in futures if f.key in pending]
            if left:
                self.client.cancel(left)

    def _in_order(self, futures: list) -> Iterator:
        try:
            while futures:
                result = futures[0].result()
                futures.pop(0)  # drop the future so the worker can free the result
                yield result
        finally:
            if futures:
                self.client.cancel(futures)

    @property
    def n_workers(self) -> int:
        return len(self.client.scheduler_info()["workers"])

    def close(self) -> None:
        """Close the client, and the LocalCluster if this executor started one."""
        self.client.close()
        if self.cluster is not None:
            # on a loaded machine a worker can take over the nanny's 4 s to exit, and is then
            # killed with a warning: harmless here, since the cluster is going away
            nanny_log = logging.getLogger("distributed.nanny")
            level = nanny_log.level
            nanny_log.setLevel(logging.ERROR)
            try:
                self.cluster.close()
            finally:
                nanny_log.setLevel(level)
            self.cluster = None

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "LocalCluster" if self.cluster is not None else self.client.scheduler.address
        return f"DaskExecutor({where}, workers={self.n_workers})"


def open_executor(scheduler: str | None = None, local_cluster: int | None = None):
    """The executor the command line asks for: a DaskExecutor, or None (in process) wrapped in
    a context manager that closes it."""
    import contextlib

    if scheduler is None and local_cluster is None:
        return contextlib.nullcontext(None)
    return DaskExecutor(scheduler, local_workers=local_cluster)
