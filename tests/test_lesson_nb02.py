"""Notebook 02 (W_out initialisation): gradients at W_out = 0, the instant initial-policy demo,
the exercise checker, and the demos over the precomputed data."""

import numpy as np
import pytest
import torch

from pyrl_mini import analysis
from pyrl_mini.config import TrainSettings
from pyrl_mini.io import DataFileError
from pyrl_mini.lessons import nb02_wout_init as nb
from pyrl_mini.sweep import SweepData
from pyrl_mini.trainer import Ensemble


def test_upstream_trap_and_exact_zero():
    assert nb.upstream_wout_std(0) == 0.05
    assert nb.upstream_wout_std(0.1) == 0.1
    assert torch.count_nonzero(nb.initial_wout(0.0)) == 0
    w = nb.initial_wout(0.05)
    assert w.shape == (50, 3) and 0.03 < float(w.std()) < 0.07


def test_step0_gradients_vanish_behind_zero_wout():
    st = nb.step0_gradients(0.0, kappa=-0.4, seed=1, trials=64)
    norms = st.norms()
    for name in nb.RECURRENT_NAMES:
        assert norms[name] == 0.0, name
    for name in nb.READOUT_NAMES:
        assert norms[name] > 0, name
    st = nb.step0_gradients(0.05, seed=1, trials=64)
    assert all(v > 0 for v in st.norms().values())


@pytest.mark.parametrize("wout_std", [0.0, 0.3])
def test_wout_gradient_formula_matches_autograd(wout_std):
    st = nb.step0_gradients(wout_std, kappa=0.4, seed=2, trials=32)
    got = nb.wout_gradient(st.rates, st.actions, st.probs, st.fd, st.mask, st.trials)
    torch.testing.assert_close(got, st.grads["W_out"], atol=1e-6, rtol=1e-4)


def test_one_adam_step_moves_every_wout_entry_by_lr():
    f = nb.first_updates(0.0, seed=0)
    assert f["grad_norm_W_rec"][0] == 0 and f["grad_norm_W_rec"][1] > 0
    assert torch.count_nonzero(f["W_out_before"]) == 0
    np.testing.assert_allclose(f["W_out_after_one"].abs().numpy(), f["lr"], rtol=1e-3)
    assert torch.count_nonzero(f["W_rec_step0"]) == 0
    assert torch.count_nonzero(f["W_rec_step1"]) > 0


def test_initial_policy_matches_the_library_rollout():
    ip = nb.InitialPolicy(seed=4, trials=16)
    for std in (0.05, 1.5):
        ens = Ensemble([TrainSettings(seed=4, batch_size=16).replace(wout_std=std)])
        with torch.no_grad():
            ro = ens.rollout(16, torch.zeros(1))
        torch.testing.assert_close(ro["probs"][:, 0], ip.probs(std), atol=1e-5, rtol=1e-4)
    st = ip.stats(0.0)
    assert abs(st["entropy"] - np.log(3)) < 1e-6
    np.testing.assert_allclose(st["p_hold"], (1 / 3) ** nb.HOLD_STEPS, rtol=1e-5)
    assert ip.stats(2.0)["entropy"] < ip.stats(0.1)["entropy"] < st["entropy"]


def test_initial_policy_demo_redraws_with_the_new_std():
    demo = nb.initial_policy_demo(trials=32)
    demo.set(wout_std=0.0)
    ax = demo.figure.axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), 1 / 3, rtol=1e-6)
    assert "H=1.099" in demo.summary.value
    demo.set(wout_std=2.0)
    fixate = demo.figure.axes[0].lines[0].get_ydata()
    assert not np.allclose(fixate, 1 / 3)
    assert "wout_std=2" in demo.summary.value
    demo.set(seed=11)
    other = demo.figure.axes[0].lines[0].get_ydata()
    want = nb.InitialPolicy(seed=11, trials=32).stats(2.0)["mean_probs"][:, 0]
    np.testing.assert_allclose(other, want)
    assert not np.allclose(other, fixate)
    assert demo.last_seconds < 2.0


def _sweep_or_skip():
    try:
        d = nb.load()
    except DataFileError as err:
        pytest.skip(f"data not built: {err}")
    return d["early"], d["sweep"]


def test_sweep_demo_shows_the_selected_cells():
    early, sweep = _sweep_or_skip()
    demo = nb.sweep_demo(sweep)
    for wout_std, kappa in ((2.0, -0.4), (0.01, 0.4)):
        demo.set(wout_std=wout_std, kappa=kappa)
        idx = sweep.select(wout_std=wout_std, kappa=kappa)
        lines = [ln for ln in demo.figure.axes[0].lines if ln.get_label().startswith("seed")]
        assert len(lines) == len(idx)
        for line, i in zip(lines, idx, strict=True):
            np.testing.assert_allclose(line.get_ydata(), sweep.h("reward")[i])
        bars = demo.figure.axes[-1].patches
        j = sweep.values("wout_std").index(wout_std)
        want = nb.stuck(sweep)[idx].mean()
        assert bars[j].get_height() == pytest.approx(want)
        assert f"wout_std={wout_std:g}" in demo.summary.value
        assert demo.last_seconds < 2.0


def _entropy_or_skip():
    try:
        return nb.load()["entropy"]
    except DataFileError as err:
        pytest.skip(f"data not built: {err}")


def test_sweep_demo_entropy_slider_reads_the_entropy_dataset():
    _, sweep = _sweep_or_skip()
    ent = _entropy_or_skip()
    assert nb.entropy_coef_of(ent) == 0.05 and nb.entropy_coef_of(sweep) == 0.0
    demo = nb.sweep_demo(sweep, ent)
    assert [v for _, v in demo.controls["entropy_coef"].options] == [0.0, 0.05]
    for wout_std, kappa in ((2.0, -0.4), (0.01, 0.4)):
        demo.set(wout_std=wout_std, kappa=kappa, entropy_coef=0.05)
        idx = ent.select(wout_std=wout_std, kappa=kappa)
        assert len(idx) == 4
        for ax, name in zip(demo.figure.axes[:2], ("reward", "entropy"), strict=True):
            lines = [ln for ln in ax.lines if ln.get_label().startswith("seed")]
            assert len(lines) == len(idx)
            for line, i in zip(lines, idx, strict=True):
                np.testing.assert_allclose(line.get_ydata(), ent.h(name)[i])
                assert line.get_label() == f"seed {ent.arrays['seed'][i]}"
        bars = demo.figure.axes[-1].patches
        j = nb.SweepFigure(sweep, ent).stds.index(wout_std)
        assert bars[j].get_height() == pytest.approx(nb.stuck(ent)[idx].mean())
        assert "entropy_coef=0.05" in demo.summary.value
        assert "not computed" not in demo.summary.value
    changes = nb.stuck_changes(sweep, ent)
    assert set(changes) == {0.01, 0.05, 0.5, 2.0}
    for w, (pairs, freed, caught) in changes.items():
        assert pairs == 12
        assert freed - caught == nb.stuck_rate(sweep, [w])[1] - nb.stuck_rate(ent, [w])[1]
    # back to entropy 0: the sweep's own runs again
    demo.set(entropy_coef=0.0)
    idx = sweep.select(wout_std=0.01, kappa=0.4)
    lines = [ln for ln in demo.figure.axes[0].lines if ln.get_label().startswith("seed")]
    for line, i in zip(lines, idx, strict=True):
        np.testing.assert_allclose(line.get_ydata(), sweep.h("reward")[i])


def test_sweep_demo_says_not_computed():
    _, sweep = _sweep_or_skip()
    ent = _entropy_or_skip()
    demo = nb.sweep_demo(sweep, ent)
    demo.set(wout_std=0.1, kappa=0.0, entropy_coef=0.05)
    assert "not computed" in demo.summary.value
    assert "wout_std=0.1" in demo.summary.value and "entropy_coef=0.05" in demo.summary.value
    for ax in demo.figure.axes[:3]:
        assert not [ln for ln in ax.lines if ln.get_label().startswith("seed")]
    j = nb.SweepFigure(sweep, ent).stds.index(0.1)
    assert demo.figure.axes[-1].patches[j].get_height() == 0
    assert "n/c" in [t.get_text() for t in demo.figure.axes[-1].texts]
    assert demo.last_seconds < 2.0
    assert "not computed" in nb.sweep_summary(ent, 0.0, 0.4, 0.05)
    assert "not computed" in nb.sweep_summary(None, 0.05, 0.4, 0.1)
    # a computed cell after an uncomputed one draws its lines again
    demo.set(wout_std=0.5)
    lines = [ln for ln in demo.figure.axes[0].lines if ln.get_label().startswith("seed")]
    assert len(lines) == 4


def test_demos_builds_every_demo():
    _sweep_or_skip()
    ds = nb.demos()
    assert set(ds) == {"initial_policy", "sweep"}


def test_datasets_agree_on_their_shared_first_updates():
    early, sweep = _sweep_or_skip()
    ok = nb.prefix_agreement(early, sweep)
    assert ok["cells"] > 0 and ok["max_abs_diff"] < 1e-5


def test_stuck_bookkeeping():
    early, _ = _sweep_or_skip()
    table = nb.stuck_table(early)
    assert sum(n for _, n in table.values()) == len(early.arrays["seed"])
    rate, k, n = nb.stuck_rate(early, [1.0, 2.0])
    assert n == 24 and rate == k / n
    want = np.isin(early.mode, [analysis.MODES.index("always_aborts"),
                                analysis.MODES.index("never_chooses")])
    assert np.array_equal(nb.stuck(early), want)
    groups, agree = nb.kappa_agreement(early)
    assert groups == 7 * 4 and 0 <= agree <= groups


def test_fisher_one_sided():
    assert nb.fisher_one_sided(3, 3, 0, 3) == pytest.approx(1 / 20)
    assert nb.fisher_one_sided(0, 4, 4, 4) == pytest.approx(1.0)
    assert nb.fisher_one_sided(2, 4, 2, 4) == pytest.approx(0.757142857)


def test_std_pairs_pairs_by_kappa_and_seed():
    aborts, converged = analysis.MODES.index("always_aborts"), analysis.MODES.index("converged")
    # rows: (wout_std, kappa, seed, stuck?) in a scrambled order; one unpaired run (seed 9)
    rows = [(0.0, 0.0, 1, True), (0.01, 0.0, 0, False), (0.0, 0.0, 0, True),
            (0.01, 0.0, 1, True), (0.0, 0.4, 0, False), (0.01, 0.4, 0, True),
            (0.0, 0.0, 9, True)]
    d = SweepData({"grid/wout_std": np.array([r[0] for r in rows]),
                   "grid/kappa": np.array([r[1] for r in rows]),
                   "seed": np.array([r[2] for r in rows]),
                   "mode": np.array([aborts if r[3] else converged for r in rows])})
    assert nb.std_pairs(d, 0.0, 0.01) == {"pairs": 3, "both": 1, "only_a": 1, "only_b": 1}
    assert nb.std_pairs(d, 0.0, 0.01, kappa=0.0) == {"pairs": 2, "both": 1, "only_a": 1,
                                                     "only_b": 0}
