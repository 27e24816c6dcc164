"""Notebook 03's lesson module: value vs gradient, bandit plateau, convergence vs collapse."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from pyrl_mini import analysis, bandit
from pyrl_mini.lessons import nb03_gradient_vanishing as nb

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "03_gradient_vanishing.py"

# --- part 1: one softmax ----------------------------------------------------------------------


def test_gap_curves_match_closed_forms_in_float64():
    gaps = np.array([0.0, 1.0, 5.0, 12.0])
    c = nb.gap_curves(gaps, torch.float64)
    p = 1 / (1 + np.exp(-gaps))
    np.testing.assert_allclose(c["pi_lead"], p)
    np.testing.assert_allclose(c["log_pi_lead"], np.log(p))
    np.testing.assert_allclose(c["grad_lead"], math.sqrt(2) * (1 - p), rtol=1e-9)
    np.testing.assert_allclose(c["grad_other"], math.sqrt(2) * p, rtol=1e-9)
    np.testing.assert_allclose(c["grad_expected"], 2 * math.sqrt(2) * p * (1 - p), rtol=1e-9)
    # exact PG with the lead action the worse one (r = (0, 1)): |pi * (r - pi.r)| = sqrt2 p(1-p)
    np.testing.assert_allclose(c["pg_exact"], math.sqrt(2) * p * (1 - p), rtol=1e-9)


def test_gap_table_float32_zeros_and_nonzeros():
    t = nb.gap_table(17.0)
    f32 = t["float32"]
    assert f32["pi_lead"] == 1.0 and f32["log_pi_lead"] == 0.0
    assert f32["grad_lead_0"] == 0.0 and f32["grad_lead_1"] != 0.0  # -pi_other ~ -4e-8
    assert t["float64"]["pi_lead"] < 1.0
    assert abs(f32["grad_other_1"]) == pytest.approx(1.0)  # unlikely action: a large gradient
    assert nb.gap_table(110.0)["float32"]["grad_lead_1"] == 0.0  # underflow: a true zero


def test_gap_demo_redraws_with_the_new_gap():
    demo = nb.gap_demo()
    assert "gap 4" in demo.summary.value

    def heights(fig):
        return np.array([p.get_height() for p in fig.axes[0].patches])

    h0 = heights(demo.figure)
    demo.set(gap=17)
    h1 = heights(demo.figure)
    assert "gap 17" in demo.summary.value and "exactly 1" in demo.summary.value
    assert not np.allclose(h0, h1)
    # first float32 bar is pi(lead): exactly 1 at gap 17
    assert h1[0] == 1.0
    # the x markers: exact float32 zeros of the gradient of the sampled lead action
    marks = [ln for ln in demo.figure.axes[0].lines if ln.get_marker() == "x"]
    assert marks and len(marks[0].get_xdata()) == 1


# --- part 2: bandit ---------------------------------------------------------------------------


def test_escape_step():
    pi = np.array([[0.1, 0.1], [0.4, 0.2], [0.6, 0.3]])
    np.testing.assert_array_equal(nb.escape_step(pi), [2, -1])


def test_plateau_table_matches_formula():
    t = nb.plateau_table(p0s=(0.1, 0.01), lr=0.1, steps=800)
    np.testing.assert_allclose(t["measured"], t["formula"], rtol=0.03)
    assert t["limit"][1] == pytest.approx(500.0)


def test_late_phase_follows_one_over_t():
    late = nb.late_phase(lr=0.1, steps=2000)
    assert late["gap"][-1] / late["formula"][-1] == pytest.approx(1.0, rel=0.03)


def test_bandit_demo_recomputes_on_each_slider():
    demo = nb.bandit_demo()

    def curve(fig):
        return np.asarray(fig.axes[0].lines[0].get_ydata())

    y0 = curve(demo.figure)
    assert y0[0] == pytest.approx(0.01)
    demo.set(p0=0.1)
    y1 = curve(demo.figure)
    assert y1[0] == pytest.approx(0.1)
    theta0 = bandit.initial_logits_for(nb.BANDIT_REWARDS, 0.1)
    want = bandit.exact_pg_trajectory(theta0, nb.BANDIT_REWARDS, 0.5, nb.BANDIT_STEPS)[:, 0]
    np.testing.assert_allclose(y1, want)
    demo.set(entropy_coef=0.2)
    y2 = curve(demo.figure)
    opt = bandit.regularised_optimum(nb.BANDIT_REWARDS, 0.2)[0]
    assert opt < 0.995 and y2[-1] == pytest.approx(opt, abs=3e-3)  # not the argmax any more
    optimum_line = [ln for ln in demo.figure.axes[0].lines if ln.get_color() == "C2"][0]
    assert optimum_line.get_ydata()[0] == pytest.approx(opt)
    demo.set(lr=2.0)
    assert "lr=2" in demo.figure.axes[0].get_title()


def test_notebook_sections_end_in_prose_and_no_code_cell_holds_markdown():
    """Regression for issue 16: notebook 03's clipping section ended in a code cell whose
    comments held the Think!, its answer and the Exercise heading. Every numbered section of
    the notebook must end with a markdown cell (a conclusion, a Think! or a solution)."""
    import re

    import jupytext

    cells = jupytext.read(NOTEBOOK).cells
    for i, c in enumerate(cells):
        if c.cell_type == "code":
            assert not re.search(r"^\s*#+ ?(#+ |.*Think!|.*<details>)", c.source, re.M), \
                f"code cell {i} holds markdown in comments"
        elif re.match(r"#+ (\d+\.|Verdicts|Summary)", c.source) and not c.source.startswith(
                "## 1."):  # section 1 follows the import cell
            assert cells[i - 1].cell_type == "markdown", \
                f"the section before cell {i} ({c.source.splitlines()[0]}) ends in code"


def test_notebook_counts_distinct_runs_that_print_the_collapsed_log(runs):
    """Regression for issue 16: "8 of 93 runs" counted three reward-design runs that repeat
    their nb03_kappa_lr control exactly. Identical histories must be counted once."""
    match = nb.log_match(runs)
    refs = match["refs"][match["prints_zero"]]

    def fingerprint(ref):
        d, i = nb.run_ref(runs, ref)
        return d.h("entropy")[i].tobytes() + d.h("adv_mean")[i].tobytes()

    copies = [r for r in refs if r.startswith("nb03_reward_design")
              and fingerprint(r) in {fingerprint(k) for k in refs if k.startswith("nb03_kappa_lr")}]
    assert len(copies) == 3 and len({fingerprint(r) for r in refs}) == len(refs) - 3
    assert "5 distinct networks" in NOTEBOOK.read_text()


# --- part 3: helpers on synthetic data ------------------------------------------------------


def test_side_by_side_columns():
    out = nb.side_by_side(["a\nbb", "ccc"], titles=["x", "y"], width=10)
    lines = out.splitlines()
    assert lines[0].startswith("=== x ===") and "=== y ===" in lines[0]
    assert lines[1][:10].rstrip() == "a" and lines[1][10:] == "ccc"
    assert lines[2] == "bb"


def test_collapse_mode_names():
    assert nb.mode_names(np.array([0, 2, -1])) == ["converged", "never_chooses", "stopped"]
    assert set(analysis.COLLAPSED_MODES) <= set(analysis.MODES)


# --- part 3: on the precomputed data ----------------------------------------------------------


@pytest.fixture(scope="module")
def runs():
    return nb.load_runs()


def test_modes_at_the_last_update_equal_the_stored_modes(runs):
    for name, d in runs.items():
        last = d.h("reward").shape[1] * nb.stride_of(d)
        agree = (nb.modes_at(d, last) == d.mode).mean()
        assert agree >= 0.95, f"{name}: block-mean modes agree on {agree:.0%} only"
    with pytest.raises(ValueError, match="outside"):
        nb.modes_at(runs["nb03_kappa_lr"], 5000)


def test_collapse_map_shapes_and_sources(runs):
    m = nb.collapse_map(runs)
    assert m["modes"].shape == (5, 3, 3) and m["collapsed"].shape == (5, 3)
    assert all(r.startswith("nb00_main_grid:") for r in m["cells"][:, 1].ravel())
    assert all(r.startswith("nb03_kappa_lr:") for r in m["cells"][:, [0, 2]].ravel())
    d, i = nb.run_ref(runs, m["cells"][0, 2, 1])
    assert d.arrays["grid/kappa"][i] == -0.4 and d.arrays["grid/lr"][i] == 0.03
    assert d.arrays["seed"][i] == 1


def test_reward_map_control_is_kappa_lr_at_the_reward_lr(runs):
    m = nb.reward_map(runs)
    assert m["modes"].shape == (3, 3, 3)
    d, i = nb.run_ref(runs, m["cells"][0, 0, 0])
    assert d is runs["nb03_kappa_lr"] and d.arrays["grid/lr"][i] == nb.REWARD_LR
    d, i = nb.run_ref(runs, m["cells"][2, 2, 2])
    assert d.arrays["grid/step_cost"][i] == 0.01 and d.arrays["grid/kappa"][i] == 0.4


def test_stored_report_prints_the_upstream_layout(runs):
    ref = nb.example_runs(runs)["learning"]
    text = nb.stored_report(runs, ref, 600)
    for head in ("Policy Entropy:", "Gradient Statistics:", "Log-probabilities:",
                 "Advantage (delta_prime):", "Updates 600-609 (mean)"):
        assert head in text
    d, i = nb.run_ref(runs, ref)
    assert f"Total norm: {d.h('grad_norm')[i, 60]:.6f}" in text


def test_log_match_flags_printed_zeros(runs):
    m = nb.log_match(runs)
    z = m["prints_zero"]
    assert z.any() and not z.all()
    assert np.all(m["grad_norm"][z] < nb.PRINTS_ZERO)


def test_kappa_lr_demo_redraws_with_the_selected_cell(runs):
    demo = nb.kappa_lr_demo(runs)
    m = nb.collapse_map(runs)

    def outlined(fig):
        rect = fig.axes[0].patches[-1]
        return rect.get_x() + 0.5, rect.get_y() + 0.5

    def rewards(fig):
        return [np.asarray(ln.get_ydata()) for ln in fig.axes[1].lines if len(ln.get_ydata()) > 2]

    assert outlined(demo.figure) == (1, 1)  # lr 0.01, kappa -0.2
    demo.set(kappa=-0.4, lr=0.03)
    assert outlined(demo.figure) == (2, 0)
    got = rewards(demo.figure)
    for ref, y in zip(m["cells"][0, 2], got, strict=True):
        d, i = nb.run_ref(runs, ref)
        np.testing.assert_allclose(y, d.h("reward")[i])
    assert "kappa=-0.40, lr=0.03" in demo.summary.value
    want = ", ".join(nb.mode_names(m["modes"][0, 2][:1]))
    assert f"seed 0: {want}" in demo.summary.value


def test_reward_demo_redraws_with_the_selected_variant(runs):
    demo = nb.reward_demo(runs)
    m = nb.reward_map(runs)
    variant = list(m["variants"])[2]
    demo.set(variant=variant, kappa=-0.4)
    assert variant in demo.summary.value
    ys = [np.asarray(ln.get_ydata()) for ln in demo.figure.axes[1].lines
          if len(ln.get_ydata()) > 2]
    d, i = nb.run_ref(runs, m["cells"][2, 0, 0])
    np.testing.assert_allclose(ys[0], d.h("reward")[i])


def test_demos_builds_all(runs):
    assert set(nb.demos()) == {"gap", "bandit", "kappa_x_lr", "reward"}


# --- the 20-seed frequencies ----------------------------------------------------------------


def test_fix_rows_pair_the_variants_of_collapse_fixes_by_seed():
    from pyrl_mini import data

    cf = data.load("collapse_fixes")
    none, lower = nb.fix_rows(cf, "none"), nb.fix_rows(cf, "lower lr")
    assert len(none) == len(lower) == 20
    np.testing.assert_array_equal(cf.arrays["seed"][none], cf.arrays["seed"][lower])
    assert np.all(np.diff(cf.arrays["seed"][none]) > 0)
    assert set(cf.arrays["grid/lr"][none]) == {0.03} and set(cf.arrays["grid/lr"][lower]) == {0.01}
    for name in ("entropy_coef", "logit_cap"):
        assert set(cf.arrays[f"grid/{name}"][none]) == {0.0}
    assert set(cf.arrays["grid/lr_schedule"][none]) == {"constant"}


def test_plot_trap_frequencies_draws_every_run_and_interval():
    import matplotlib.pyplot as plt

    trap = np.array([[1, 1, 1], [0, 1, 0], [0, 0, 0], [1, 0, 0]], dtype=bool)
    groups = {"a\nfamily 1": trap[:, 0], "b\nfamily 1": trap[:, 1], "c\nfamily 2": trap[:, 2]}
    fig = nb.plot_trap_frequencies(groups, trap, (-0.4, 0.0, 0.4), (10, 11, 12, 13))
    left, right = fig.axes
    assert [t.get_text() for t in left.get_xticklabels()] == ["a", "b", "c"]
    assert sorted(t.get_text() for t in left.get_legend().get_texts()) == ["family 1",
                                                                           "family 2"]
    filled = sum(len(ln.get_xdata()) for ln in right.lines
                 if ln.get_marker() == "s" and ln.get_markerfacecolor() != "none")
    assert filled == trap.sum()
    # seeds sorted by how many settings trap them: seed 10 (all three) first
    assert right.get_yticklabels()[0].get_text() == "10"
    plt.close(fig)
