"""The vanishing-gradient figures and demos: the logit-gap bars (widgets.gap_table,
plots.GapFigure), the bandit plateau (plots.BanditFigure), the behaviour maps of stored runs
(plots.ModeMapFigure: widgets.kappa_lr_demo, widgets.reward_demo) and the trapped-seeds
figure (plots.plot_trap_frequencies)."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from pyrl_mini import analysis, bandit, data, plots, widgets  # noqa: E402

# --- one softmax: the logit-gap bars ----------------------------------------------------------


def test_gap_table_float32_zeros_and_nonzeros():
    t = widgets.gap_table(17.0)
    f32 = t["float32"]
    assert f32["pi_lead"] == 1.0 and f32["log_pi_lead"] == 0.0
    assert f32["grad_lead_0"] == 0.0 and f32["grad_lead_1"] != 0.0  # -pi_other ~ -4e-8
    assert t["float64"]["pi_lead"] < 1.0
    assert abs(f32["grad_other_1"]) == pytest.approx(1.0)  # unlikely action: a large gradient
    assert widgets.gap_table(110.0)["float32"]["grad_lead_1"] == 0.0  # underflow: a true zero
    assert set(t["float64"]) == set(plots.GAP_NAMES)


def test_gap_demo_redraws_with_the_new_gap():
    demo = widgets.gap_demo()
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
    # the x markers: float32's exact zeros, log pi(lead) and grad[0] of the sampled lead action
    marks = [ln for ln in demo.figure.axes[0].lines if ln.get_marker() == "x"]
    assert marks and sorted(marks[0].get_xdata() + 0.19) == pytest.approx([1, 2])
    # log pi(other) = -17 is cut at the floor and written under its bar
    assert h1[5] == plots.GAP_FLOOR and "-17" in [t.get_text() for t in demo.figure.axes[0].texts]


# --- two arms: the bandit plateau -------------------------------------------------------------


def test_bandit_demo_recomputes_on_each_slider():
    demo = widgets.bandit_demo()

    def curve(fig):
        return np.asarray(fig.axes[0].lines[0].get_ydata())

    y0 = curve(demo.figure)
    assert y0[0] == pytest.approx(0.01)
    demo.set(p0=0.1)
    y1 = curve(demo.figure)
    assert y1[0] == pytest.approx(0.1)
    theta0 = bandit.initial_logits_for(widgets.BANDIT_REWARDS, 0.1)
    want = bandit.exact_pg_trajectory(theta0, widgets.BANDIT_REWARDS, 0.5,
                                      widgets.BANDIT_STEPS)[:, 0]
    np.testing.assert_allclose(y1, want)
    escape = int(np.argmax(want >= 0.5))
    assert f"escape (pi_best >= 1/2) at step {escape};" in demo.summary.value
    demo.set(entropy_coef=0.2)
    y2 = curve(demo.figure)
    opt = bandit.regularised_optimum(widgets.BANDIT_REWARDS, 0.2)[0]
    assert opt < 0.995 and y2[-1] == pytest.approx(opt, abs=3e-3)  # not the argmax any more
    optimum_line = [ln for ln in demo.figure.axes[0].lines if ln.get_color() == "C2"][0]
    assert optimum_line.get_ydata()[0] == pytest.approx(opt)
    demo.set(lr=2.0)
    assert "lr=2" in demo.figure.axes[0].get_title()


def test_bandit_summary_says_when_the_best_arm_never_reaches_one_half():
    demo = widgets.bandit_demo()
    demo.set(p0=0.001, lr=0.1)   # plateau ~ 5,000 steps, the demo runs 1,000
    assert f"at step > {widgets.BANDIT_STEPS};" in demo.summary.value


# --- stored runs: the behaviour maps ------------------------------------------------------------


@pytest.fixture(scope="module")
def sweeps():
    return {name: data.load(name)
            for name in ("nb00_main_grid", "nb03_kappa_lr", "nb03_reward_design")}


def _rewards(fig):
    return [np.asarray(ln.get_ydata()) for ln in fig.axes[1].lines if len(ln.get_ydata()) > 2]


def _outlined(fig):
    rect = fig.axes[0].patches[-1]
    return rect.get_x() + 0.5, rect.get_y() + 0.5


def test_kappa_lr_demo_takes_lr_001_from_the_main_grid_and_redraws_the_cell(sweeps):
    kl, main = sweeps["nb03_kappa_lr"], sweeps["nb00_main_grid"]
    demo = widgets.kappa_lr_demo(kl, main)
    assert _outlined(demo.figure) == (1, 1)  # lr 0.01, kappa -0.2
    demo.set(kappa=-0.4, lr=0.03)
    assert _outlined(demo.figure) == (2, 0)
    rows = kl.by_seed(kappa=-0.4, lr=0.03)
    for i, y in zip(rows, _rewards(demo.figure), strict=True):
        np.testing.assert_allclose(y, kl.h("reward")[i])
    modes = kl.modes_at(700)[rows]
    assert "kappa=-0.40, lr=0.03, at update 700" in demo.summary.value
    assert f"seed 1: {plots.mode_name(modes[1])} (reward" in demo.summary.value
    demo.set(lr=0.01)   # nb00_main_grid at entropy_coef 0, the same seeds
    for i, y in zip(main.by_seed(kappa=-0.4, entropy_coef=0.0), _rewards(demo.figure),
                    strict=True):
        np.testing.assert_allclose(y, main.h("reward")[i])
    # the map: 5 kappas x 3 learning rates x 3 seeds, the counts written in the cells
    texts = [t.get_text() for t in demo.figure.axes[0].texts]
    assert len(texts) == 15 and all(t.endswith("/3") for t in texts)


def test_reward_demo_pairs_each_variant_with_its_control(sweeps):
    kl, rd = sweeps["nb03_kappa_lr"], sweeps["nb03_reward_design"]
    demo = widgets.reward_demo(rd, kl)
    variants = list(demo.controls["variant"].options)
    assert [v for _, v in variants] == ["upstream", "no-choice -1.0", "step cost 0.01"]
    demo.set(variant="step cost 0.01", kappa=-0.4)
    assert "step cost 0.01, kappa=-0.40" in demo.summary.value
    rows = rd.by_seed(kappa=-0.4, no_choice_penalty=-0.5, step_cost=0.01)
    for i, y in zip(rows, _rewards(demo.figure), strict=True):
        np.testing.assert_allclose(y, rd.h("reward")[i])
    demo.set(variant="upstream")   # the control: nb03_kappa_lr at the reward design's lr
    for i, y in zip(kl.by_seed(kappa=-0.4, lr=0.03), _rewards(demo.figure), strict=True):
        np.testing.assert_allclose(y, kl.h("reward")[i])


def test_mode_map_colours_each_run_by_its_behaviour_at_the_update(sweeps):
    kl = sweeps["nb03_kappa_lr"]
    cells = [[(kl, kl.by_seed(kappa=k, lr=lr)) for lr in (0.003, 0.03)] for k in (-0.4, 0.4)]
    figure = plots.ModeMapFigure(cells, ["-0.4", "+0.4"], ["0.003", "0.03"], "kappa", "lr", 700)
    assert figure.modes.shape == (2, 2, 3)
    fig = figure(0, 1)
    lines = [ln for ln in fig.axes[1].lines if len(ln.get_ydata()) > 2]
    want = [plots.MODE_COLOURS[plots.mode_name(m)] for m in kl.modes_at(700)[cells[0][1][1]]]
    assert [ln.get_color() for ln in lines] == want
    assert plots.mode_name(-1) == "stopped" and plots.mode_name(0) == analysis.MODES[0]


# --- paired seeds: the trapped-seeds figure -----------------------------------------------------


def test_plot_trap_frequencies_draws_every_run_and_interval():
    import matplotlib.pyplot as plt

    trap = np.array([[1, 1, 1], [0, 1, 0], [0, 0, 0], [1, 0, 0]], dtype=bool)
    groups = {"a\nfamily 1": trap[:, 0], "b\nfamily 1": trap[:, 1], "c\nfamily 2": trap[:, 2]}
    fig = plots.plot_trap_frequencies(groups, trap, (-0.4, 0.0, 0.4), (10, 11, 12, 13))
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
