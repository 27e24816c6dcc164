"""The Dask path of run_sweep: same arrays as in process, resume, clear errors.

One LocalCluster of two single-threaded workers is shared by the module (it takes a few
seconds to start on a loaded machine); the sweeps are tiny.
"""

import contextlib
import functools
import socket
import sys
import time
import urllib.error
import urllib.request
import warnings

import numpy as np
import pytest

from pyrl_mini import data
from pyrl_mini import distributed as dist
from pyrl_mini.distributed import DaskError, DaskExecutor
from pyrl_mini.sweep import SweepSpec, run_sweep

TINY = SweepSpec("tiny_dask", base=dict(updates=8, batch_size=16, units=8, baseline_units=8),
                 grid=dict(kappa=[0.0, -0.2]), seeds=(0, 1), chunk=2, stride=4,
                 final_window=4)


@pytest.fixture(scope="module")
def executor():
    """The shared LocalCluster, started while port 8787 (Dask's dashboard port) is taken."""
    pytest.importorskip("distributed")
    with _port_8787_taken(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ex = DaskExecutor(local_workers=2)
    ex.start_warnings = [str(w.message) for w in caught]
    with ex:
        yield ex


@contextlib.contextmanager
def _port_8787_taken():
    """Hold port 8787 for the block (if something else already holds it, so much the better)."""
    sock = socket.socket()
    try:
        sock.bind(("", 8787))
        sock.listen(1)
    except OSError:
        pass  # already in use: the condition this fixture wants
    try:
        yield
    finally:
        sock.close()


@pytest.fixture(scope="module")
def in_process():
    return run_sweep(TINY, progress=False)


def assert_same(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        assert np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f"), k


def test_local_cluster_matches_in_process(executor, in_process):
    assert executor.n_workers == 2
    assert len(TINY.chunks()) == 2  # one chunk per worker
    on_dask = run_sweep(TINY, progress=False, executor=executor)
    assert_same(in_process, on_dask)  # h/*, final/*, mode, trials/*, ... bit for bit


class _StopAfterFirst:
    """Yields the first chunk's result, then Ctrl-C as if pressed while waiting."""

    def __init__(self, inner):
        self.inner = inner

    def map(self, fn, jobs):
        results = self.inner.map(fn, jobs)
        yield next(results)
        results.close()  # cancels the rest
        raise KeyboardInterrupt


def test_interrupted_distributed_sweep_resumes(executor, in_process, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run_sweep(TINY, progress=False, partial_dir=tmp_path, executor=_StopAfterFirst(executor))
    kept = list(tmp_path.glob("*/chunk*.npz"))
    assert [f.name for f in kept] == ["chunk0000.npz"]

    submitted = []

    class Counting:
        def map(self, fn, jobs):
            jobs = list(jobs)
            submitted.extend(jobs)
            return executor.map(fn, jobs)

    resumed = run_sweep(TINY, progress=False, partial_dir=tmp_path, executor=Counting())
    assert len(submitted) == 1  # only the unfinished chunk ran again
    assert_same(in_process, resumed)


class _FinishesOutOfOrder:
    """Chunk 1 finishes first, then Ctrl-C while chunk 0 is still running."""

    def __init__(self, inner):
        self.inner = inner

    def map_unordered(self, fn, jobs):
        jobs = list(jobs)
        yield 1, fn(jobs[1])
        raise KeyboardInterrupt


def test_a_chunk_that_finishes_first_is_saved_at_once(in_process, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run_sweep(TINY, progress=False, partial_dir=tmp_path,
                  executor=_FinishesOutOfOrder(None))
    assert [f.name for f in tmp_path.glob("*/chunk*.npz")] == ["chunk0001.npz"]
    resumed = run_sweep(TINY, progress=False, partial_dir=tmp_path)
    assert_same(in_process, resumed)


def test_map_unordered_returns_every_job_once(executor):
    got = dict(executor.map_unordered(functools.partial(pow, 2), range(6)))
    assert got == {i: 2 ** i for i in range(6)}


def test_an_executor_that_drops_a_chunk_is_an_error(tmp_path):
    class Drops:
        def map_unordered(self, fn, jobs):
            jobs = list(jobs)
            yield 0, fn(jobs[0])

    with pytest.raises(RuntimeError, match=r"no result for chunks \[1\]"):
        run_sweep(TINY, progress=False, executor=Drops())


def test_cli_builds_on_the_cluster(executor, in_process, tmp_path, monkeypatch, capsys):
    # the CLI gets the module's cluster, and leaves it open for the other tests
    monkeypatch.setattr(dist, "DaskExecutor", lambda *args, **kwargs: executor)
    monkeypatch.setattr(DaskExecutor, "close", lambda self: None)
    monkeypatch.setitem(data.DATASETS, TINY.name, TINY)
    real_build = data.build
    monkeypatch.setattr(data, "build", lambda name, **kw: real_build(name, tmp_path, **kw))
    assert data.main(["build", TINY.name, "--local-cluster", "2"]) == 0
    assert "on DaskExecutor(LocalCluster, workers=2)" in capsys.readouterr().out
    assert_same(in_process, {k: v for k, v in data.load(TINY.name, tmp_path).arrays.items()})


def test_unreachable_scheduler_is_a_clear_error_quickly():
    pytest.importorskip("distributed")
    t0 = time.perf_counter()
    with pytest.raises(DaskError, match=r"cannot reach a Dask scheduler at 'tcp://127\.0\.0\.1:9'"
                       r".*dask scheduler.*--local-cluster"):
        DaskExecutor("tcp://127.0.0.1:9", timeout=1)
    assert time.perf_counter() - t0 < 10


def test_cli_unreachable_scheduler(monkeypatch, capsys):
    pytest.importorskip("distributed")
    monkeypatch.setattr(dist, "DaskExecutor", functools.partial(DaskExecutor, timeout=1))
    assert data.main(["build", "nb00_main_grid", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "cannot reach a Dask scheduler" in capsys.readouterr().err


def test_without_dask_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(DaskError, match=r"pip install -e '\.\[dask\]'"):
        DaskExecutor(local_workers=2)


def test_bad_arguments():
    with pytest.raises(DaskError, match="either a scheduler address"):
        DaskExecutor()
    with pytest.raises(DaskError, match="positive integer"):
        DaskExecutor(local_workers=0)


def test_local_cluster_opens_no_dashboard_port(executor):
    """No dashboard, and no fixed port: `make test` once warned "Port 8787 is already in use"."""
    scheduler = executor.cluster.scheduler
    assert not [w for w in executor.start_warnings if "already in use" in w], \
        executor.start_warnings
    assert scheduler.http_server.port != 8787
    assert scheduler.http_server.address == "127.0.0.1"
    base = f"http://127.0.0.1:{scheduler.http_server.port}"
    with urllib.request.urlopen(base + "/health", timeout=10) as r:
        assert r.status == 200  # the plain HTTP server answers...
    with pytest.raises(urllib.error.HTTPError, match="404"):
        urllib.request.urlopen(base + "/status", timeout=10)  # ...but holds no dashboard
