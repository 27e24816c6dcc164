"""The benchmarks run as a reader would run them (smoke tests with tiny counts); what they
compute that the README quotes is checked where it can be (operation counts, a closed-form
gradient). Speed itself is measured by the benchmarks, never asserted here."""

import importlib.util
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from pyrl_mini import fast
from pyrl_mini.fast import kernel

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
needs_kernel = pytest.mark.skipif(fast.load() is None,
                                  reason=f"no C++ recurrence here: {fast.why_not()}")


def _module(name: str, path: Path, monkeypatch):
    monkeypatch.syspath_prepend(str(path.parent))   # scripts import their neighbours
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)   # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _run_benchmark(script: str, *args: str):
    """Run benchmarks/<script> with args as a reader would; its completed process (exit 0)."""
    out = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True,
                         text=True, cwd=BENCH.parent, timeout=300)
    assert out.returncode == 0, out.stderr
    return out


@needs_kernel
def test_kernel_benchmark_captures_one_update_and_compares_it(monkeypatch):
    """benchmarks/kernel/kernel.py (the A/B of two recurrence.cpp sources) on this kernel
    twice, without compiling: it captures the four calls of one update, finds no difference
    between a module and itself, and times both forward and backward."""
    bench = _module("kernel_benchmark", BENCH / "kernel" / "kernel.py", monkeypatch)
    calls = bench.capture(E=2, update=3)
    assert [name for name, _ in calls] == ["forward", "forward", "backward", "backward"]
    assert kernel._module is fast.load()   # the spy is gone
    module = fast.load()
    worst, times = bench.compare(module, module, calls, reps=2)
    assert worst == 0.0
    assert all(len(v) == 2 and min(v) >= 0 for v in times.values())


@needs_kernel
def test_phases_benchmark_runs_and_counts_the_kernel_work():
    """benchmarks/kernel/phases.py (the time breakdown in docs/performance.md) runs, and its
    operation count for the default shapes equals a count by hand: policy (5 inputs, 50 units,
    3 actions) 24,450 multiply-adds per trial-step, baseline (53 inputs, 50 units, 1 output)
    38,550."""
    out = _run_benchmark("kernel/phases.py", "--updates", "3")
    assert "126.0 kFLOP per valid trial-step" in out.stdout
    assert "| C++ forward |" in out.stdout and "| C++ backward |" in out.stdout
    assert "valid trial-steps per update:" in out.stdout
    assert "the same products at BLAS's rate on their shapes" in out.stdout


@pytest.mark.parametrize("n_in, units, n_out", [(5, 50, 3), (53, 50, 1), (7, 100, 3)])
def test_phases_times_blas_on_the_products_it_counts(monkeypatch, n_in, units, n_out):
    """The products benchmarks/kernel/phases.py times BLAS on are the operations it counts:
    over `rows` trial-steps, their multiply-adds are rows times kernel_flops_per_row / 2."""
    phases = _module("phases_benchmark", BENCH / "kernel" / "phases.py", monkeypatch)
    rows, batch = 2606, 256
    products = phases.kernel_products(rows, batch, n_in, units, n_out)
    flops = sum(2 * m * k * n * times for m, k, n, _, times in products)
    assert flops == pytest.approx(rows * phases.kernel_flops_per_row(n_in, units, n_out, True))
    assert {layout for *_, layout, _ in products} == {"NN", "NT", "TN"}


@needs_kernel
def test_alternatives_benchmark_runs_and_its_closed_form_gradient_is_the_gradient():
    """benchmarks/kernel/alternatives.py (the measured alternatives in docs/performance.md)
    runs; it asserts that its closed-form gradient of the losses equals autograd's before
    timing the two."""
    out = _run_benchmark("kernel/alternatives.py", "--no-compile", "--update", "5",
                         "--reps", "3")
    for start in ("draws:", "losses:", "task rules, losses and diagnostics:",
                  "kernel calls of update 5:"):
        assert any(line.startswith(start) for line in out.stdout.splitlines()), out.stdout


SCRIPTS = sorted(p.relative_to(BENCH).as_posix() for p in BENCH.rglob("*.py"))


def test_user_facing_benchmarks_on_top_and_the_kernels_apart():
    """benchmarks/ holds what a user measures (this tree against a commit, sliders, a Dask
    sweep); the kernel's micro-benchmarks are grouped in benchmarks/kernel/."""
    assert SCRIPTS == ["dask_sweep.py", "kernel/alternatives.py", "kernel/kernel.py",
                       "kernel/phases.py", "run.py", "sliders.py"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_benchmark_imports_what_it_needs_and_answers_help(script):
    """Each script starts as a reader starts it (its imports of pyrl_mini and of its
    neighbours resolve) and `--help` prints its usage without measuring anything."""
    out = _run_benchmark(script, "--help")
    assert out.stdout.startswith("usage:"), out.stdout[:300]


def test_every_benchmark_command_in_the_documents_names_a_script_that_exists():
    """The README, CONTRIBUTING.md, docs/ and the scripts' own usage lines name benchmarks by
    path; after a move, each such path must still be a file."""
    root = BENCH.parent
    texts = [root / "README.md", root / "CONTRIBUTING.md", root / "Makefile",
             *sorted((root / "docs").glob("*.md")), *sorted(BENCH.rglob("*.py"))]
    named = {m.group(0) for path in texts
             for m in re.finditer(r"benchmarks/[\w/]+\.py", path.read_text())}
    assert "benchmarks/run.py" in named and "benchmarks/kernel/kernel.py" in named
    missing = sorted(name for name in named if not (root / name).is_file())
    assert not missing, f"commands name benchmarks that do not exist: {missing}"


@needs_kernel
def test_run_measures_the_plain_path_where_it_says_so(monkeypatch):
    """benchmarks/run.py's plain-path rows train with the kernel turned off, on this tree and
    on a commit from before pyrl_mini/fast/ (its kernel module was pyrl_mini.kernel); a
    trainer with no kernel to turn off has no such row."""
    run = _module("run_benchmark", BENCH / "run.py", monkeypatch)
    from pyrl_mini import config, trainer

    this = run.Side("this tree", trainer, config)
    plain = run.without_kernel(this)
    assert plain is not None and plain.label == "this tree without its kernel"
    with plain.context():
        assert not trainer.uses_fast_path()
    with this.context():
        assert trainer.uses_fast_path()

    old = types.ModuleType("old_tree")
    old.kernel = types.SimpleNamespace(disabled=kernel.disabled)
    monkeypatch.setitem(sys.modules, "old_tree", old)
    monkeypatch.setitem(sys.modules, "old_tree.kernel", old.kernel)
    monkeypatch.setitem(sys.modules, "old_tree.trainer", trainer)
    older = run.Side("old", types.SimpleNamespace(__name__="old_tree.trainer"), config)
    assert run.without_kernel(older).context is kernel.disabled
    none = run.Side("none", types.SimpleNamespace(__name__="no_such_tree.trainer"), config)
    assert run.without_kernel(none) is None


def test_run_restates_upstream_per_round_and_scales_it_by_the_plain_ratio(monkeypatch):
    """Without a compiler against upstream = the side-by-side figures of 2026-12-06, round by
    round, divided by the plain path's slowdown: at a ratio of 1 they are that day's ratios
    (38.0, 28.8, 35.7 as it runs; 82-90x forced), and a ratio of 2 halves each."""
    run = _module("run_benchmark", BENCH / "run.py", monkeypatch)
    same = run.without_compiler_against_upstream(1.0)
    assert [round(r, 1) for r in same["vs_as_it_runs"]] == [38.0, 28.8, 35.7]
    assert same["vs_as_it_runs_median"] == pytest.approx(35.7, abs=0.05)
    assert [round(r) for r in same["vs_forced"]] == [82, 86, 90]
    half = run.without_compiler_against_upstream(2.0)
    assert half["trials_per_s"] == pytest.approx([t / 2 for t in same["trials_per_s"]])
    assert half["vs_as_it_runs_median"] == pytest.approx(same["vs_as_it_runs_median"] / 2)
