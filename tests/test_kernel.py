"""The C++ recurrence (pyrl_mini/recurrence.cpp, loaded by pyrl_mini.kernel) against the
Python networks.Recurrence it replaces in train(): the same states, actions, losses and
gradients, in float64 to rounding and in float32 within float32 rounding."""

import os

import numpy as np
import pytest
import torch
from test_fast_path import _dropping_rows  # tests/ is on sys.path under pytest

from pyrl_mini import kernel
from pyrl_mini import networks as nets
from pyrl_mini.config import TrainSettings
from pyrl_mini.trainer import Ensemble, train

# Without a compiler these tests are skipped, except in CI (the variable CI set), where
# test_the_kernel_is_in_use_in_ci fails instead: CI cannot pass by skipping them.
pytestmark = pytest.mark.skipif(kernel.load() is None and not os.environ.get("CI"),
                                reason=f"no C++ recurrence here: {kernel.why_not()}")


def test_the_kernel_is_in_use_in_ci():
    assert kernel.load() is not None, f"the C++ recurrence did not load: {kernel.why_not()}"
    assert isinstance(nets.rows_for(1, 4, nets.Sampler(*[torch.zeros(1)] * 4)),
                      nets.KernelRows)


@pytest.mark.parametrize("network_type", ["gru", "simple"])
@pytest.mark.parametrize("rate_fn", ["relu", "tanh", "softplus"])
@pytest.mark.parametrize("drop", [False, True])
def test_kernel_recurrence_equals_python_recurrence(network_type, rate_fn, drop):
    """Float64, given rows: states and every gradient agree to rounding."""
    E, T, B, N, n_in = 3, 7, 9, 5, 4
    g = torch.Generator().manual_seed(1)
    members = [nets.init_policy(network_type, n_in, N, 3, 0.3, 1.0, g) for _ in range(E)]
    u = torch.randn(T, E, B, n_in, generator=g, dtype=torch.float64)
    noise = 0.1 * torch.randn(T, E, B, N, generator=g, dtype=torch.float64)
    alpha = torch.tensor([0.5, 0.3, 0.9], dtype=torch.float64)
    weight = torch.randn(T, E, B, N, generator=g, dtype=torch.float64)
    results = []
    rows = _dropping_rows(E, B, T, seed=2) if drop else nets.Rows(E, B)
    for which in ("python", "kernel"):
        P = {k: v.detach().double().requires_grad_() for k, v in
             nets.stack_params(members).items()}
        r = rows if which == "python" else (
            nets.KernelRows.from_rows(rows, T) if drop else nets.KernelRows(E, B, T=T))
        x = nets.run_recurrent_fast(P, network_type, u, noise, alpha, rate_fn, r)
        steps = x.shape[0]
        (x * weight[:steps]).sum().backward()
        results.append((x.detach(), {k: p.grad for k, p in P.items() if p.grad is not None}))
    (xp, gp), (xk, gk) = results
    assert (xp.shape[0] < T) == drop
    torch.testing.assert_close(xk, xp, rtol=1e-12, atol=1e-12)
    assert set(gk) == set(gp)
    for name in gp:
        torch.testing.assert_close(gk[name], gp[name], rtol=1e-10, atol=1e-12, msg=name)


SMALL = TrainSettings(updates=8, batch_size=48, network={"units": 16, "baseline_units": 8})
SETTINGS = {"default": {}, "simple_tanh_readout": {"network_type": "simple",
                                                   "readout_rate": "tanh"},
            "softplus_cap": {"rate_function": "softplus", "logit_cap": 1.0}}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_kernel_rollout_equals_python_rollout(name):
    """Float32, sampling in the kernel: the same actions and trials, losses and gradients
    within float32 rounding, for an ensemble of three."""
    s = SMALL.replace(kappa=-0.2, entropy_coef=0.05, **SETTINGS[name])
    members = [s, s.replace(seed=1), s.replace(seed=2, kappa=0.3)]
    kappa = torch.tensor([m.kappa for m in members])
    fast = Ensemble(members)
    out_k = fast.rollout(48, kappa, fast=True)
    with kernel.disabled():
        slow = Ensemble(members)
        out_p = slow.rollout(48, kappa, fast=True)
    assert torch.equal(out_k["actions"], out_p["actions"])
    assert torch.equal(out_k["mask"], out_p["mask"])
    valid = out_k["mask"].bool()      # steps after a trial's end are not computed
    for key in ("value", "logp", "entropy", "fd"):
        torch.testing.assert_close(out_k[key][valid], out_p[key][valid], rtol=1e-5, atol=1e-6,
                                   msg=key)
    for key in ("policy_loss", "baseline_loss"):
        torch.testing.assert_close(out_k[key], out_p[key], rtol=1e-5, atol=1e-6, msg=key)
    for out in (out_k, out_p):
        (out["policy_loss"].sum() + out["baseline_loss"].sum()).backward()
    for a, b in ((fast.params, slow.params), (fast.baseline_params, slow.baseline_params)):
        for key in a:
            torch.testing.assert_close(a[key].grad, b[key].grad, rtol=1e-4, atol=1e-6, msg=key)


def test_train_with_kernel_equals_train_without():
    """Eight updates of an ensemble: counts equal, the rest within float32 rounding."""
    members = [SMALL.replace(seed=k, kappa=kappa) for k, kappa in enumerate([-0.4, 0.0, 0.4])]
    with_k = train(members, progress=False)
    with kernel.disabled():
        without = train(members, progress=False)
    for key, v in with_k.history.items():
        if key in ("reward", "abort_rate", "no_choice_rate", "choice_rate", "mode", "clipped"):
            np.testing.assert_array_equal(v, without.history[key], err_msg=key)
        else:
            np.testing.assert_allclose(v, without.history[key], rtol=2e-5, atol=1e-6,
                                       err_msg=key)


def test_without_a_compiler_training_warns_and_uses_python(monkeypatch):
    """A failed compile gives one warning that says how to get the kernel; training works."""
    def no_compiler(verbose):
        raise RuntimeError("Error building extension: g++: command not found")

    monkeypatch.setattr(kernel, "_module", None)
    monkeypatch.setattr(kernel, "_why_not", None)
    monkeypatch.setattr(kernel, "_compile", no_compiler)
    with pytest.warns(RuntimeWarning, match="apt-get install g\\+\\+"):
        r = train(SMALL.replace(updates=2), progress=False)
    assert r.updates_done == 2
    assert "g++: command not found" in kernel.why_not()
    assert isinstance(nets.rows_for(1, 4, None), nets.Rows)


def test_kernel_can_be_turned_off_by_environment(monkeypatch):
    monkeypatch.setattr(kernel, "_module", None)
    monkeypatch.setattr(kernel, "_why_not", None)
    monkeypatch.setenv("PYRL_MINI_KERNEL", "0")
    assert kernel.load() is None
    assert "PYRL_MINI_KERNEL=0" in kernel.why_not()


def test_work_buffers_are_reused_during_training_and_freed_after():
    """The kernel pools its work buffers across updates (the same blocks every update) and
    train() frees them when it returns."""
    module = kernel.load()
    counts = []
    train([SMALL.replace(seed=k, updates=6) for k in range(4)], progress=False,
          callback=lambda u, row: counts.append(module.pooled_blocks()))
    assert counts[0] > 0 and len(set(counts[1:])) == 1      # no new blocks after update 1
    assert module.pooled_blocks() == 0


def test_kernel_benchmark_captures_one_update_and_compares_it():
    """benchmarks/kernel.py (the A/B of two recurrence.cpp sources) on this kernel twice,
    without compiling: it captures the four calls of one update, finds no difference between
    a module and itself, and times both forward and backward."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "kernel.py"
    spec = importlib.util.spec_from_file_location("kernel_benchmark", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    calls = bench.capture(E=2, update=3)
    assert [name for name, _ in calls] == ["forward", "forward", "backward", "backward"]
    assert kernel._module is kernel.load()   # the spy is gone
    module = kernel.load()
    worst, times = bench.compare(module, module, calls, reps=2)
    assert worst == 0.0
    assert all(len(v) == 2 and min(v) >= 0 for v in times.values())


def _run_benchmark(script: str, *args: str):
    """Run benchmarks/<script> with args as a reader would; its completed process (exit 0)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, str(root / "benchmarks" / script), *args],
                         capture_output=True, text=True, cwd=root, timeout=300)
    assert out.returncode == 0, out.stderr
    return out


def test_phases_benchmark_runs_and_counts_the_kernel_work():
    """benchmarks/phases.py (the README's time breakdown) runs, and its operation count for the
    default shapes equals a count by hand: policy (5 inputs, 50 units, 3 actions) 24,450
    multiply-adds per trial-step, baseline (53 inputs, 50 units, 1 output) 38,550."""
    out = _run_benchmark("phases.py", "--updates", "3")
    assert "126.0 kFLOP per valid trial-step" in out.stdout
    assert "| C++ forward |" in out.stdout and "| C++ backward |" in out.stdout
    assert "valid trial-steps per update:" in out.stdout
    assert "the same products at BLAS's rate on their shapes" in out.stdout


@pytest.mark.parametrize("n_in, units, n_out", [(5, 50, 3), (53, 50, 1), (7, 100, 3)])
def test_phases_times_blas_on_the_products_it_counts(monkeypatch, n_in, units, n_out):
    """The products benchmarks/phases.py times BLAS on are the operations it counts: over
    `rows` trial-steps, their multiply-adds are rows times kernel_flops_per_row / 2."""
    import importlib.util
    from pathlib import Path

    bench_dir = Path(__file__).resolve().parents[1] / "benchmarks"
    monkeypatch.syspath_prepend(str(bench_dir))   # phases.py imports benchmarks/kernel.py
    spec = importlib.util.spec_from_file_location("phases_benchmark", bench_dir / "phases.py")
    phases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(phases)
    rows, batch = 2606, 256
    products = phases.kernel_products(rows, batch, n_in, units, n_out)
    flops = sum(2 * m * k * n * times for m, k, n, _, times in products)
    assert flops == pytest.approx(rows * phases.kernel_flops_per_row(n_in, units, n_out, True))
    assert {layout for *_, layout, _ in products} == {"NN", "NT", "TN"}


def test_alternatives_benchmark_runs_and_its_closed_form_gradient_is_the_gradient():
    """benchmarks/alternatives.py (the README's measured alternatives) runs; it asserts that
    its closed-form gradient of the losses equals autograd's before timing the two."""
    out = _run_benchmark("alternatives.py", "--no-compile", "--update", "5", "--reps", "3")
    for start in ("draws:", "losses:", "task rules, losses and diagnostics:",
                  "kernel calls of update 5:"):
        assert any(line.startswith(start) for line in out.stdout.splitlines()), out.stdout
