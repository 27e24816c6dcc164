"""The W_out demos: the initial policy from one rollout per seed (widgets.initial_rates, the
initial-policy demo) and the stored W_out sweeps (plots.WoutSweepFigure, widgets.wout_sweep_demo),
and the stuck modes they count (analysis.is_stuck)."""

import numpy as np
import pytest
import torch

from pyrl_mini import analysis, data, plots, widgets
from pyrl_mini.config import TrainSettings
from pyrl_mini.io import DataFileError
from pyrl_mini.trainer import Ensemble

torch.set_num_threads(1)
HOLD_STEPS = TrainSettings().task.fixation_steps + TrainSettings().task.stimulus_steps


@pytest.fixture(autouse=True)
def _no_display(monkeypatch):
    monkeypatch.setattr(widgets, "display", lambda *a, **k: None)


def test_is_stuck_means_always_aborts_or_never_chooses():
    modes = np.arange(-1, len(analysis.MODES))
    want = [m >= 0 and analysis.MODES[m] in ("always_aborts", "never_chooses") for m in modes]
    assert analysis.is_stuck(modes).tolist() == want
    # stuck is a narrower word than trapped: one_side is trapped, not stuck
    one_side = analysis.MODES.index("one_side")
    assert analysis.is_trapped(one_side) and not analysis.is_stuck(one_side)


def test_initial_rates_give_the_trainers_initial_policy_at_every_std():
    rates, Z = widgets.initial_rates(seed=4, trials=16)
    for std in (0.05, 1.5):
        ens = Ensemble([TrainSettings(seed=4, batch_size=16).replace(wout_std=std)])
        with torch.no_grad():
            ro = ens.rollout(16, torch.zeros(1))
        torch.testing.assert_close(ro["probs"][:, 0], torch.softmax(std * (rates @ Z), -1),
                                   atol=1e-5, rtol=1e-4)
    st = plots.policy_stats(torch.softmax(0.0 * (rates @ Z), -1), HOLD_STEPS)
    assert abs(st["entropy"] - np.log(3)) < 1e-6
    np.testing.assert_allclose(st["p_hold"], (1 / 3) ** HOLD_STEPS, rtol=1e-5)
    entropy = [plots.policy_stats(torch.softmax(w * (rates @ Z), -1), HOLD_STEPS)["entropy"]
               for w in (2.0, 0.1)]
    assert entropy[0] < entropy[1] < st["entropy"]


def test_initial_policy_demo_redraws_with_the_new_std_and_seed():
    starts = {seed: widgets.initial_rates(seed, trials=32) for seed in (0, 1)}
    demo = widgets.initial_policy_demo(starts)
    assert (demo.controls["seed"].min, demo.controls["seed"].max) == (0, 1)
    demo.set(wout_std=0.0)
    np.testing.assert_allclose(demo.figure.axes[0].lines[0].get_ydata(), 1 / 3, rtol=1e-6)
    assert "H=1.099" in demo.summary.value
    demo.set(wout_std=2.0)
    fixate = demo.figure.axes[0].lines[0].get_ydata()
    assert not np.allclose(fixate, 1 / 3)
    assert "wout_std=2" in demo.summary.value
    demo.set(seed=1)
    rates, Z = starts[1]
    want = torch.softmax(2.0 * (rates @ Z), -1).mean(1)[:, 0].numpy()
    np.testing.assert_allclose(demo.figure.axes[0].lines[0].get_ydata(), want)
    assert not np.allclose(want, fixate)
    assert "seed 1" in demo.summary.value
    assert demo.last_seconds < 2.0


def _sweeps_or_skip():
    try:
        return data.load("nb02_wout_sweep"), data.load("nb02_wout_entropy")
    except DataFileError as err:
        pytest.skip(f"data not built: {err}")


def _seed_lines(ax):
    return [ln for ln in ax.lines if ln.get_label().startswith("seed")]


def test_wout_sweep_demo_shows_the_selected_runs_and_stuck_fractions():
    sweep, ent = _sweeps_or_skip()
    assert ent.meta["spec"]["base"]["entropy_coef"] == 0.05   # the key it is shown under
    assert "entropy_coef" not in sweep.meta["spec"]["base"]
    demo = widgets.wout_sweep_demo({0.0: sweep, 0.05: ent})
    assert [v for _, v in demo.controls["entropy_coef"].options] == [0.0, 0.05]
    for d, e in ((sweep, 0.0), (ent, 0.05)):
        for wout_std, kappa in ((2.0, -0.4), (0.01, 0.4)):
            demo.set(wout_std=wout_std, kappa=kappa, entropy_coef=e)
            idx = d.select(wout_std=wout_std, kappa=kappa)
            assert len(idx) == 4
            for ax, name in zip(demo.figure.axes[:2], ("reward", "entropy"), strict=True):
                lines = _seed_lines(ax)
                assert len(lines) == len(idx)
                for line, i in zip(lines, idx, strict=True):
                    np.testing.assert_allclose(line.get_ydata(), d.h(name)[i])
                    assert line.get_label() == f"seed {d.arrays['seed'][i]}"
                    mode = analysis.MODES[d.mode[i]]
                    assert line.get_color() == plots.MODE_COLOURS[mode]
            bar = demo.figure.axes[-1].patches[demo.plot_fn.stds.index(wout_std)]
            assert bar.get_height() == pytest.approx(analysis.is_stuck(d.mode[idx]).mean())
            assert f"wout_std={wout_std:g}" in demo.summary.value
            assert f"entropy_coef={e:g}" in demo.summary.value
            assert "not computed" not in demo.summary.value
            assert demo.last_seconds < 2.0


def test_wout_sweep_demo_says_not_computed():
    sweep, ent = _sweeps_or_skip()
    demo = widgets.wout_sweep_demo({0.0: sweep, 0.05: ent})
    demo.set(wout_std=0.1, kappa=0.0, entropy_coef=0.05)   # 0.1 is not in the bonus runs
    assert "not computed" in demo.summary.value
    assert "wout_std=0.1" in demo.summary.value and "entropy_coef=0.05" in demo.summary.value
    for ax in demo.figure.axes[:3]:
        assert not _seed_lines(ax)
    j = demo.plot_fn.stds.index(0.1)
    assert demo.figure.axes[-1].patches[j].get_height() == 0
    assert "n/c" in [t.get_text() for t in demo.figure.axes[-1].texts]
    # a computed cell after an uncomputed one draws its lines again
    demo.set(wout_std=0.5)
    assert len(_seed_lines(demo.figure.axes[0])) == 4
    assert "not computed" not in demo.summary.value


def test_wout_sweep_figure_refuses_sweeps_on_other_updates():
    sweep, _ = _sweeps_or_skip()
    early = data.load("nb02_wout_early")
    with pytest.raises(ValueError, match="same updates"):
        plots.WoutSweepFigure({0.0: sweep, 0.05: early})


def test_wout_train_widget_trains_when_pressed():
    w = widgets.wout_train_widget()
    assert w.result is None   # nothing runs until the button is pressed
    for name, value in (("wout_std", 0.0), ("updates", 50), ("seed", 2)):
        w.controls[name].value = value
    result = w.run()
    s = result.settings[0]
    assert (s.network.wout_std, s.seed, result.updates_done) == (0.0, 2, 50)
    assert w.progress.value == 50
