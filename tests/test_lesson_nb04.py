"""Notebook 04 lesson module: fixed-point maths, tables, exercise checker and demos."""


import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from pyrl_mini import bandit  # noqa: E402
from pyrl_mini.config import TaskSettings, TrainSettings  # noqa: E402
from pyrl_mini.lessons import nb04_entropy_fix as nb  # noqa: E402
from pyrl_mini.sweep import SweepData  # noqa: E402
from pyrl_mini.trainer import max_probability  # noqa: E402


# --- fixed point ------------------------------------------------------------------------------
def test_entropy_of_handles_zeros_and_uniform():
    assert nb.entropy_of([1.0, 0.0, 0.0]) == 0.0
    assert np.isclose(nb.entropy_of(np.full(4, 0.25)), np.log(4))
    assert nb.entropy_of(np.ones((2, 3)) / 3).shape == (2,)


def test_fixed_point_curves_are_softmax_and_entropy_grows_with_tau():
    pis, H = nb.fixed_point_curves(taus=(0.01, 0.1, 1.0))
    assert np.allclose(pis.sum(-1), 1)
    assert np.allclose(pis[1], np.exp(nb.GAMBLE_EVS / 0.1) / np.exp(nb.GAMBLE_EVS / 0.1).sum())
    assert np.all(np.diff(H) > 0)


def test_minority_probability_matches_two_arm_softmax():
    for gap, tau in ((0.15, 0.05), (0.15, 0.1), (1.0, 0.3)):
        want = bandit.regularised_optimum(np.array([gap, 0.0]), tau)[1]
        assert np.isclose(nb.minority_probability(gap, tau), want)
    assert nb.minority_probability(0.15, 0.0) == 0.0
    assert nb.minority_probability(0.15, 1e-6) == pytest.approx(0.0, abs=1e-300)


def test_steps_and_effective_temperature():
    assert nb.min_steps_per_choice_trial() == 8
    assert nb.min_steps_per_choice_trial(TaskSettings(fixation_steps=5, stimulus_steps=2)) == 8
    assert nb.min_steps_per_choice_trial(TaskSettings(fixation_steps=1, stimulus_steps=1)) == 3
    assert nb.effective_temperature(0.01, 8) == pytest.approx(0.00125)


def test_exact_run_reaches_the_regularised_optimum():
    for tau in (0.1, 0.2):
        d = nb.distance_to_optimum(nb.exact_run(tau, steps=2000), nb.GAMBLE_EVS, tau)
        assert d[-1] < 0.01 and d[-1] < d[10]


def test_risk_sensitive_value():
    assert nb.risk_sensitive_value(0.5, 2.0, 0.0) == pytest.approx(1.0)
    assert nb.risk_sensitive_value(0.1, 10.0, -0.4) > 1.0 > nb.risk_sensitive_value(0.1, 10, 0.4)
    gaps = nb.equal_ev_value_gaps(0.0)
    assert gaps.shape == (5, 4) and np.allclose(gaps, 0)
    assert nb.equal_ev_value_gaps(-0.4).min() > 0.05


def test_late_rate_and_predicted_rate():
    dist = np.exp(-0.01 * np.arange(100))
    assert nb.late_rate(dist, 10, 60) == pytest.approx(0.01)
    assert nb.predicted_rate(0.0) == 0.0
    assert nb.predicted_rate(0.01) < 1e-20 < nb.predicted_rate(0.2)


def test_sampled_runs_shape():
    tr = nb.sampled_runs(0.05, steps=20, runs=2)
    assert tr.shape == (21, 2, 5)
    assert np.allclose(tr.sum(-1), 1)


# --- figures: no panel clips its data (issue 16: the lower-p panel had fixed limits) ---------
def _points_outside_limits(fig) -> list[str]:
    """Every finite point of every line and errorbar of fig that lies outside its axes' limits."""
    out = []
    for k, ax in enumerate(fig.axes):
        (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        for line in ax.lines:
            x = np.asarray(line.get_xdata(), dtype=float)
            y = np.asarray(line.get_ydata(), dtype=float)
            if x.size != y.size or x.size < 1:
                continue
            ok = np.isfinite(x) & np.isfinite(y)
            if line.get_transform() != ax.transData:   # axhline/axvline: axes coordinates
                continue
            bad = ok & ((x < x0) | (x > x1) | (y < y0) | (y > y1))
            if bad.any():
                out.append(f"axes {k} ({ax.get_title()}): {line.get_label()} at "
                           f"{list(zip(x[bad], y[bad], strict=True))[:3]}")
    return out


def test_data_limits_hold_every_value_and_the_reference():
    lo, hi = nb.data_limits([np.array([0.1, np.nan, 0.9]), np.array([0.05])], 1.0)
    assert lo < 0.05 and hi > 1.0
    assert nb.data_limits(np.array([0.5, 0.5])) == (0.45, 0.55)


def test_no_slider_position_of_the_grid_demo_clips_a_point(demos):
    demo = demos["grid"]
    grid = nb.entropy_grid()
    for kappa in grid.values("kappa"):
        for coef in grid.values("entropy_coef"):
            demo.set(kappa=kappa, entropy_coef=coef)
            bad = _points_outside_limits(demo.figure)
            assert not bad, f"kappa={kappa}, entropy_coef={coef}: {bad}"
    table = nb.grid_table(grid)
    assert np.nanmin(table["risky_rate"]) < 0.2   # the old fixed limit (0.2, 1.02) clipped these
    assert not _points_outside_limits(nb.plot_grid(grid, 0.4, 0.05, table))


def test_fix_figures_do_not_clip():
    fixes_a = nb.fix_runs(*nb.load_fixes())
    rows = nb.fix_table(fixes_a, 0.5)
    assert not _points_outside_limits(nb.plot_fixes(rows, fixes_a))
    ranked = {nb.SETTINGS[1]: {"none": (2, 5, 0.12, 0.77), "entropy 0.05": (0, 5, 0.0, 0.43)},
              nb.SETTINGS[0]: {"none": (0, 3, 0.0, 0.56)}}
    fig = nb.plot_ranked_fixes(ranked, ["entropy 0.05", "none"])
    assert not _points_outside_limits(fig)
    assert fig.axes[0].get_xlabel() and fig.axes[0].get_legend() is not None
    assert fig.dpi >= 100


# --- tables on synthetic sweeps -----------------------------------------------------------------
def _fake_grid():
    """A nb00_main_grid-shaped SweepData: kappa (-0.4, 0) x coef (0, 0.01, 0.05) x seeds (0, 1)."""
    rows = [(k, c, s) for k in (-0.4, 0.0) for c in (0.0, 0.01, 0.05) for s in (0, 1)]
    n, points = len(rows), 5
    kappa = np.array([r[0] for r in rows])
    coef = np.array([r[1] for r in rows])
    seed = np.array([r[2] for r in rows])
    risky = np.where(kappa < 0, 0.9 - 4 * coef, 0.55)
    entropy = np.tile(np.linspace(1.0, 0.05, points), (n, 1)) + coef[:, None]
    mode = np.zeros(n, dtype=np.int8)
    mode[(kappa < 0) & (coef == 0.01) & (seed == 1)] = 2  # one never_chooses run
    arrays = {"seed": seed, "grid/kappa": kappa, "grid/entropy_coef": coef, "mode": mode,
              "h/entropy": entropy, "h/reward": np.tile(np.linspace(-0.5, 0.7, points), (n, 1))}
    finals = {"entropy": entropy[:, -1], "reward": 0.7 - coef, "higher_ev_rate": 0.7 + coef,
              "risky_rate": risky}
    arrays.update({"final/" + k: np.asarray(v, dtype=float) for k, v in finals.items()})
    for k in ("higher_ev_rate", "risky_rate"):
        arrays["h/" + k] = np.tile(arrays["final/" + k][:, None], (1, points))
    return SweepData(arrays, {"spec": {"stride": 10}})


def test_grid_table_shapes_and_values():
    t = nb.grid_table(_fake_grid())
    assert t["entropy"].shape == (2, 3, 2)
    assert t["collapsed"][0, 1].tolist() == [0, 1]
    assert t["collapsed"].sum() == 1
    assert np.allclose(t["risky_rate"][1], 0.55)
    assert np.all(t["above"] > 0) and np.all(t["above"] < 1)


def test_risk_slope_recovers_a_line():
    kappas = np.array([-0.4, 0.0, 0.4])
    risky = np.repeat((0.6 - 0.5 * kappas)[:, None], 3, axis=1)
    slope, se = nb.risk_slope(kappas, risky)
    assert slope == pytest.approx(-0.5) and se == pytest.approx(0.0, abs=1e-9)


def test_fix_table_ranks_by_collapse_then_reward():
    g = _fake_grid()
    runs = {"none": {"data": g, "idx": g.by_seed(kappa=-0.4, entropy_coef=0.0), "cost": 1.0},
            "entropy 0.01": {"data": g, "idx": g.by_seed(kappa=-0.4, entropy_coef=0.01),
                             "cost": 1.0},
            "entropy 0.05": {"data": g, "idx": g.by_seed(kappa=-0.4, entropy_coef=0.05),
                             "cost": 2.0}}
    rows = nb.fix_table(runs, risky_kappa0=0.55)
    assert [r["fix"] for r in rows] == ["none", "entropy 0.05", "entropy 0.01"]
    assert [r["rank"] for r in rows] == [1, 2, 3]
    by = {r["fix"]: r for r in rows}
    assert by["entropy 0.01"]["collapsed"] == 1
    assert by["none"]["risk_kept"] == pytest.approx(1.0)
    assert by["entropy 0.05"]["risk_kept"] == pytest.approx((0.7 - 0.55) / (0.9 - 0.55))
    assert by["entropy 0.05"]["d_reward"] == pytest.approx(-0.05)
    assert "entropy 0.05" in nb.format_fix_table(rows)


# --- demos on the stored data -------------------------------------------------------------------
@pytest.fixture(scope="module")
def demos():
    return nb.demos()


def _line_ydata(fig, ax_index=0):
    return [np.asarray(line.get_ydata(), dtype=float) for line in fig.axes[ax_index].lines]


def test_grid_demo_redraws_what_the_data_say(demos):
    demo = demos["grid"]
    grid = nb.entropy_grid()
    for kappa, coef in ((-0.4, 0.0), (0.4, 0.05)):
        demo.set(kappa=kappa, entropy_coef=coef)
        idx = grid.by_seed(kappa=kappa, entropy_coef=coef)
        entropy_lines = _line_ydata(demo.figure, 1)
        # last lines on the entropy panel (before the 0.1 reference line) are the chosen cell
        chosen = [y for y in entropy_lines if len(y) == grid.h("entropy").shape[1]][-len(idx):]
        for y, i in zip(chosen, idx, strict=True):
            assert np.allclose(y, grid.h("entropy")[i], equal_nan=True)
        assert f"kappa={kappa:+.2f}" in demo.summary.value
        assert demo.last_seconds < 2.0


def test_bandit_demo_draws_the_optimum(demos):
    demo = demos["bandit"]
    for tau in (0.0, 0.1):
        demo.set(entropy_coef=tau)
        star = bandit.regularised_optimum(nb.GAMBLE_EVS, tau)
        dashed = [line for line in demo.figure.axes[0].lines if line.get_linestyle() == "--"]
        assert np.isclose(dashed[0].get_ydata()[0], star[-1])
        dots = demo.figure.axes[1].lines[-1].get_ydata()
        assert np.allclose(dots, star)


def test_fixes_demo_switches_runs(demos):
    demo = demos["fixes"]
    by_setting = dict(zip(nb.SETTINGS, (nb.slow_fix_runs(), nb.fast_fix_runs20()), strict=True))
    for setting, label in ((nb.SETTINGS[0], "entropy 0.05"), (nb.SETTINGS[1], "gradual kappa"),
                           (nb.SETTINGS[1], "larger batch"), (nb.SETTINGS[1], "entropy 0.1")):
        demo.set(setting=setting, fix=label)
        runs = by_setting[setting]
        d, idx = runs[label]["data"], runs[label]["idx"]
        ys = [y for y in _line_ydata(demo.figure, 0) if len(y)][-len(idx):]  # unused: empty
        for y, i in zip(ys, idx, strict=True):
            assert np.allclose(y, d.h("reward")[i], equal_nan=True)
        assert label in demo.summary.value
        assert demo.last_seconds < 2.0
    demo.set(setting=nb.SETTINGS[0], fix="entropy 0.1")  # not run at the default lr
    assert "not run" in demo.summary.value


def test_entropy_grid_pairs_the_two_datasets_by_seed():
    grid = nb.entropy_grid()
    assert grid.values("kappa") == [-0.4, 0.0, 0.4]
    assert grid.values("entropy_coef") == [0.0, 0.01, 0.05]
    seeds = list(range(2000, 2020))
    for kappa in grid.values("kappa"):
        for coef in grid.values("entropy_coef"):
            i = grid.by_seed(kappa=kappa, entropy_coef=coef)
            assert grid.arrays["seed"][i].tolist() == seeds, (kappa, coef)
    k = nb.data.load("collapse_kappa")
    i, j = grid.by_seed(kappa=-0.4, entropy_coef=0.0), k.by_seed(kappa=-0.4)
    assert np.array_equal(grid.final("reward")[i], k.final("reward")[j])


def test_twenty_seed_fix_runs_pair_every_fix_with_its_control():
    from pyrl_mini.datasets import collapse as ds

    fast = nb.fast_fix_runs20()
    assert set(fast) == set(ds.FIX_VARIANTS) | {"larger batch"}
    for label in fast:
        want = [0, 1, 2, 3, 4] if label == "larger batch" else list(ds.FIX_SEEDS)
        assert nb.seeds_of(fast, label) == want, label
    assert np.allclose(fast["lower lr"]["data"].arrays["grid/lr"][fast["lower lr"]["idx"]], 0.01)
    assert np.allclose(fast["none"]["data"].arrays["grid/lr"][fast["none"]["idx"]], 0.03)
    caps = fast["logit cap 2"]["data"].arrays["grid/logit_cap"][fast["logit cap 2"]["idx"]]
    assert np.allclose(caps, 2.0)
    slow = nb.slow_fix_runs()
    assert {"none", "entropy 0.01", "entropy 0.05"} <= set(slow)
    for label in slow:
        assert nb.seeds_of(slow, label) == list(ds.SEEDS), label
    assert nb.collapsed_flags(slow, "none").shape == (20,)
    assert set(nb.slow_fix_runs(with_slow=False)) == {"none", "entropy 0.01", "entropy 0.05"}


def test_ranked_figure_names_a_fix_run_on_fewer_seeds():
    ranked = {nb.SETTINGS[1]: {"none": (9, 20, 0.26, 0.66), "larger batch": (2, 5, 0.12, 0.77)},
              nb.SETTINGS[0]: {"none": (7, 20, 0.18, 0.57)}}
    fig = nb.plot_ranked_fixes(ranked, ["none", "larger batch"])
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["none", "larger batch (5 seeds)"]
    assert not _points_outside_limits(fig)


def test_fix_runs_cover_every_fix_on_the_same_seeds():
    runs = nb.fix_runs(*nb.load_fixes())
    assert len(runs) == 11
    for label, r in runs.items():
        assert r["data"].arrays["seed"][r["idx"]].tolist() == [0, 1, 2], label
    assert runs["larger batch"]["cost"] == 2.0
    fast = nb.fast_fix_runs(*nb.load_fast_fixes())
    assert len(fast) == 12
    for label, r in fast.items():
        assert r["data"].arrays["seed"][r["idx"]].tolist() == [0, 1, 2, 3, 4], label
        if label.startswith("logit cap"):
            cap = float(label.split()[-1])
            assert np.allclose(r["data"].arrays["grid/logit_cap"][r["idx"]], cap), label
        elif label != "larger batch":
            want = 0.01 if label == "lower lr" else 0.03
            assert np.allclose(r["data"].arrays["grid/lr"][r["idx"]], want), label


def test_logit_cap_runs_use_the_fast_settings():
    """The logit-cap sweep's settings equal nb04_fixes_fast's control but for the cap, so its
    cells are paired with the other fixes (same seeds, same draws)."""
    from pyrl_mini.datasets import nb04_entropy_fix as ds

    def by_cell(spec):
        return list(zip(spec.cells(), spec.settings(), strict=True))

    none = {n: ds._FAST_DEFAULTS[n] for n in ds.FAST_VARIED}
    controls = {seed: s for (values, seed), s in by_cell(ds.FIXES_FAST) if values == none}
    capped = [(values, seed, s) for (values, seed), s in by_cell(ds.FIXES_FAST_LOGIT)]
    assert sorted(controls) == list(ds.FAST_SEEDS) and len(capped) == 2 * len(controls)
    for values, seed, s in capped:
        assert s == controls[seed].replace(logit_cap=values["logit_cap"])


def test_gradient_factors_separate_the_three_ways_to_vanish():
    small = TrainSettings(updates=3, batch_size=32, network={"units": 16, "baseline_units": 8})
    result = nb.train([small, small.replace(logit_cap=0.5)], progress=False)
    f = nb.gradient_factors(result, trials=64)
    assert f[0]["cap slope"] == 1.0 and 0 < f[1]["cap slope"] < 1.0
    for k in (0, 1):
        assert 0 < f[k]["1 - pi(a)"] < 1 and f[k]["|f(d)|"] > 0 and f[k]["gradient norm"] > 0
        assert 0 < f[k]["entropy"] <= np.log(3) + 1e-6 and 0 <= f[k]["abort rate"] <= 1
    # the cap bounds every probability: 1 - pi(a) >= 1 - max_probability(0.5, 3) on every step
    assert f[1]["1 - pi(a)"] >= 1 - max_probability(0.5, 3)


def test_fast_lower_lr_equals_main_grid_start():
    """Same settings and seeds give the same runs: nb04_fixes_fast's lr 0.01 cells are
    nb00_main_grid's kappa = -0.4 cells for their first 250 updates (stride 5 vs 10)."""
    grid = nb.data.load("nb00_main_grid")
    fast = nb.fast_fix_runs(*nb.load_fast_fixes())["lower lr"]
    main = grid.by_seed(kappa=-0.4, entropy_coef=0.0)
    for a, b in zip(fast["idx"][:3], main, strict=True):
        early = fast["data"].h("reward")[a][:50].reshape(25, 2).mean(1)
        assert np.allclose(early, grid.h("reward")[b][:25], atol=1e-5)


def test_first_update_below_and_collapsed_seeds():
    fast = nb.fast_fix_runs(*nb.load_fast_fixes())
    assert nb.collapsed_seeds(fast, "none") == [1, 3]
    r = fast["none"]
    when = nb.first_update_below(r["data"], r["idx"], level=0.01)
    assert when.shape == (5,)
    assert when[0] == -1 and 0 < when[1] <= 25


def test_live_run_widget_builds_without_training():
    w = nb.live_run_widget()
    assert w.result is None
    assert set(w.controls) >= {"kappa", "entropy_coef", "lr", "batch_size", "lr_schedule",
                               "kappa_schedule", "wout_std", "no_choice_penalty", "logit_cap"}


def test_live_run_widget_trains_with_the_readers_cap():
    w = nb.live_run_widget()
    w.controls["logit_cap"].value = 1.0
    w.controls["updates"].value = 100
    w.controls["batch_size"].value = 128
    w.button.click()
    assert w.result is not None and w.result.settings[0].logit_cap == 1.0
    assert w.progress.value == 100
    # with cap 1 no action can pass 1 / (1 + 2 e^-2) = 0.787
    assert np.all(w.result.history["max_prob"] <= max_probability(1.0, 3) + 1e-6)
