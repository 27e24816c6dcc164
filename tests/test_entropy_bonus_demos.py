"""The entropy bonus's figures and demos (plots.BanditFixedPointFigure, EntropyGridFigure,
FixCurvesFigure; widgets.fixed_point_demo, entropy_grid_demo, fixes_demo and the Train button
for the fixes): they draw what the data say and no slider position clips a point."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from pyrl_mini import bandit, data, plots, tasks, widgets  # noqa: E402
from pyrl_mini.trainer import max_probability  # noqa: E402


@pytest.fixture(scope="module")
def demos():
    return widgets.entropy_fix_demos()


@pytest.fixture(scope="module")
def grid():
    return data.load("collapse_kappa").stack(data.load("collapse_entropy"), entropy_coef=0.0)


def _points_outside_limits(fig) -> list[str]:
    """Every finite point of every data line of fig that lies outside its axes' limits."""
    out = []
    for k, ax in enumerate(fig.axes):
        (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        for line in ax.lines:
            x = np.asarray(line.get_xdata(), dtype=float)
            y = np.asarray(line.get_ydata(), dtype=float)
            if x.size != y.size or x.size < 1 or line.get_transform() != ax.transData:
                continue   # axhline/axvline live in axes coordinates
            ok = np.isfinite(x) & np.isfinite(y)
            bad = ok & ((x < x0) | (x > x1) | (y < y0) | (y > y1))
            if bad.any():
                out.append(f"axes {k} ({ax.get_title()}): {line.get_label()} at "
                           f"{list(zip(x[bad], y[bad], strict=True))[:3]}")
    return out


def _line_ydata(fig, ax_index=0):
    return [np.asarray(line.get_ydata(), dtype=float) for line in fig.axes[ax_index].lines]


def test_data_limits_hold_every_value_and_the_reference():
    lo, hi = plots.data_limits([np.array([0.1, np.nan, 0.9]), np.array([0.05])], 1.0)
    assert lo < 0.05 and hi > 1.0
    assert plots.data_limits(np.array([0.5, 0.5])) == (0.45, 0.55)


def test_fixed_point_runs_end_at_the_regularised_optimum():
    runs = widgets.fixed_point_runs(taus=(0.1, 0.2), steps=2000, runs=2)
    for tau, (exact, sampled) in runs.items():
        star = bandit.regularised_optimum(tasks.EXPECTED_VALUES, tau)
        assert exact.shape == (2001, 5) and sampled.shape == (2001, 2, 5)
        assert np.allclose(sampled.sum(-1), 1)
        assert np.abs(exact[-1] - star).sum() < 0.01 < np.abs(exact[10] - star).sum()


def test_bandit_demo_draws_the_optimum_and_the_worse_arms_share(demos):
    demo = demos["bandit"]
    for tau in (0.0, 0.1):
        demo.set(entropy_coef=tau)
        star = bandit.regularised_optimum(tasks.EXPECTED_VALUES, tau)
        dashed = [line for line in demo.figure.axes[0].lines if line.get_linestyle() == "--"]
        assert np.isclose(dashed[0].get_ydata()[0], star[-1])
        assert np.allclose(demo.figure.axes[1].lines[-1].get_ydata(), star)
    # two arms 0.15 apart: the worse one keeps softmax((0.15, 0) / tau)[1] at the optimum
    worse = bandit.regularised_optimum(np.array([0.15, 0.0]), 0.1)[1]
    assert f"keep {worse:.2g} on the worse one" in demo.summary.value
    demo.set(entropy_coef=0.0)
    assert "keep 0 on the worse one" in demo.summary.value


def test_grid_demo_redraws_what_the_data_say(demos, grid):
    demo = demos["grid"]
    for kappa, coef in ((-0.4, 0.0), (0.4, 0.05)):
        demo.set(kappa=kappa, entropy_coef=coef)
        cell = grid.subset(kappa=kappa, entropy_coef=coef)
        n = len(cell.arrays["seed"])
        # the last lines on the entropy panel (before the 0.1 line) are the chosen cell's
        chosen = [y for y in _line_ydata(demo.figure, 1)
                  if len(y) == grid.h("entropy").shape[1]][-n:]
        for y, h in zip(chosen, cell.h("entropy"), strict=True):
            assert np.allclose(y, h, equal_nan=True)
        assert f"kappa={kappa:+.2f}" in demo.summary.value
        assert demo.last_seconds < 2.0


def test_no_slider_position_of_the_grid_demo_clips_a_point(demos, grid):
    demo = demos["grid"]
    for kappa in grid.values("kappa"):
        for coef in grid.values("entropy_coef"):
            demo.set(kappa=kappa, entropy_coef=coef)
            bad = _points_outside_limits(demo.figure)
            assert not bad, f"kappa={kappa}, entropy_coef={coef}: {bad}"
    # a fixed limit of (0.2, 1.02) on the lower-p panel clipped some of these
    assert np.nanmin(grid.final("risky_rate")) < 0.2


def test_fixes_demo_switches_runs(demos):
    demo = demos["fixes"]
    by_setting = demo.plot_fn.by_setting
    assert list(by_setting) == list(widgets.FIX_SETTINGS)
    slow, fast = (by_setting[s] for s in widgets.FIX_SETTINGS)
    assert {"none", "entropy 0.01", "entropy 0.05", "lower lr", "logit cap 2"} <= set(slow)
    assert "entropy 0.1" in fast and "larger batch" in fast and "entropy 0.1" not in slow
    for setting, fix in ((widgets.FIX_SETTINGS[0], "entropy 0.05"),
                         (widgets.FIX_SETTINGS[1], "gradual kappa"),
                         (widgets.FIX_SETTINGS[1], "larger batch"),
                         (widgets.FIX_SETTINGS[1], "entropy 0.1")):
        demo.set(setting=setting, fix=fix)
        runs = by_setting[setting][fix]
        n = len(runs.arrays["seed"])
        ys = [y for y in _line_ydata(demo.figure, 0) if len(y)][-n:]   # unused lines: empty
        for y, h in zip(ys, runs.h("reward"), strict=True):
            assert np.allclose(y, h, equal_nan=True)
        assert fix in demo.summary.value
        assert demo.last_seconds < 2.0
        assert not _points_outside_limits(demo.figure)
    demo.set(setting=widgets.FIX_SETTINGS[0], fix="entropy 0.1")   # not run at the default lr
    assert "not run" in demo.summary.value


def test_fixes_train_widget_builds_without_training():
    w = widgets.fixes_train_widget()
    assert w.result is None
    assert set(w.controls) >= {"kappa", "entropy_coef", "lr", "batch_size", "lr_schedule",
                               "kappa_schedule", "wout_std", "no_choice_penalty", "logit_cap"}


def test_fixes_train_widget_trains_with_the_readers_cap():
    w = widgets.fixes_train_widget()
    w.controls["logit_cap"].value = 1.0
    w.controls["updates"].value = 100
    w.controls["batch_size"].value = 128
    w.button.click()
    s = w.result.settings[0]
    assert s.logit_cap == 1.0 and s.batch_size == 128 and s.kappa == -0.4
    assert w.progress.value == 100
    # with cap 1 no action can pass 1 / (1 + 2 e^-2) = 0.787
    assert np.all(w.result.history["max_prob"] <= max_probability(1.0, 3) + 1e-6)
