"""SweepData's readers of stored runs: the stride, a setting of every run, the values and
behaviour modes at an update, a run's history and its log in the upstream layout; and the
pairing of collapse_fixes' variants by seed (datasets.collapse.variant_rows)."""

import numpy as np
import pytest

from pyrl_mini import analysis, data
from pyrl_mini.datasets.collapse import COLLAPSE_FIXES, FIX_VARIANTS, variant_rows
from pyrl_mini.sweep import SweepData


@pytest.fixture(scope="module")
def sweeps():
    return {name: data.load(name)
            for name in ("nb00_main_grid", "nb03_kappa_lr", "nb03_reward_design")}


def _tiny(stride: int = 10) -> SweepData:
    """Two runs, 3 stored points: run 0 aborts every trial, run 1 chooses well."""
    ones, zeros = np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)
    abort = np.array([[1, 1, 1], [0, 0, 0]], np.float32)
    arrays = {"seed": np.array([5, 6]), "grid/kappa": np.array([-0.4, 0.4]),
              "h/reward": np.array([[-0.5] * 3, [0.1, 0.5, 0.9]], np.float32),
              "h/abort_rate": abort, "h/no_choice_rate": zeros,
              "h/left_rate": np.where(abort > 0, np.nan, 0.5).astype(np.float32),
              "h/higher_ev_rate": np.array([[np.nan] * 3, [0.5, 0.7, 0.9]], np.float32),
              "h/grad_norm": ones, "mode": np.array([3, 0], np.int8)}
    return SweepData(arrays, {"spec": {"stride": stride, "base": {"lr": 0.03}}})


def test_stride_at_and_the_update_range():
    d = _tiny(stride=10)
    assert d.stride == 10
    np.testing.assert_array_equal(d.at("reward", 15), [-0.5, 0.5])   # point 1: updates 10-19
    np.testing.assert_array_equal(d.at("reward", 29), d.h("reward")[:, 2])
    for update in (-1, 30):
        with pytest.raises(ValueError, match="outside the stored 30 updates"):
            d.at("reward", update)


def test_setting_reads_the_grid_then_the_base_then_the_defaults():
    d = _tiny()
    np.testing.assert_array_equal(d.setting("kappa"), [-0.4, 0.4])
    np.testing.assert_array_equal(d.setting("lr"), [0.03, 0.03])
    np.testing.assert_array_equal(d.setting("entropy_coef"), [0.0, 0.0])
    with pytest.raises(KeyError, match="not a training setting"):
        d.setting("entropy")


def test_modes_at_reads_the_window_before_the_update():
    d = _tiny()
    aborts, learning, converged = (analysis.MODES.index(m) for m in
                                   ("always_aborts", "learning", "converged"))
    np.testing.assert_array_equal(d.modes_at(20, window=10), [aborts, learning])
    np.testing.assert_array_equal(d.modes_at(30, window=10), [aborts, converged])
    with pytest.raises(ValueError, match="outside"):
        d.modes_at(30, window=40)


def test_modes_at_the_last_update_equal_the_stored_modes(sweeps):
    for name, d in sweeps.items():
        last = d.h("reward").shape[1] * d.stride
        agree = (d.modes_at(last) == d.mode).mean()
        assert agree >= 0.95, f"{name}: block-mean modes agree on {agree:.0%} only"
    with pytest.raises(ValueError, match="outside"):
        sweeps["nb03_kappa_lr"].modes_at(5000)


def test_history_derives_choice_rate_and_kappa():
    h = _tiny().history([1, 0])
    assert h["reward"].shape == (3, 2)   # (points, runs)
    np.testing.assert_array_equal(h["choice_rate"][:, 0], [1, 1, 1])
    np.testing.assert_array_equal(h["kappa"][0], [0.4, -0.4])


def test_report_prints_the_upstream_layout_of_a_stored_point(sweeps):
    d = sweeps["nb03_kappa_lr"]
    i = int(np.flatnonzero(d.mode == analysis.MODES.index("learning"))[0])
    text = d.report(i, 600)
    for head in ("Policy Entropy:", "Gradient Statistics:", "Log-probabilities:",
                 "Advantage (delta_prime):", "Updates 600-609 (mean)"):
        assert head in text
    assert f"Total norm: {d.h('grad_norm')[i, 60]:.6f}" in text
    assert "Updates 690-699 (mean)" in d.report(i)   # the last stored point
    main = sweeps["nb00_main_grid"]                # keeps fewer diagnostics: they print nan
    assert "W_in: nan" in main.report(0)


def test_describe_names_the_grid_values_and_the_seed(sweeps):
    d = sweeps["nb03_kappa_lr"]
    i = int(d.by_seed(kappa=-0.4, lr=0.03)[1])
    assert d.describe(i) == "kappa=-0.4 lr=0.03 seed=1"
    cf = data.load("collapse_fixes")
    assert "lr_schedule=constant" in cf.describe(0)


def test_variant_rows_pair_the_variants_of_collapse_fixes_by_seed():
    cf = data.load("collapse_fixes")
    none = variant_rows(cf, COLLAPSE_FIXES, FIX_VARIANTS, "none")
    lower = variant_rows(cf, COLLAPSE_FIXES, FIX_VARIANTS, "lower lr")
    assert len(none) == len(lower) == 40  # two blocks of 20 seeds
    np.testing.assert_array_equal(cf.arrays["seed"][none], cf.arrays["seed"][lower])
    assert np.all(np.diff(cf.arrays["seed"][none]) > 0)
    assert set(cf.arrays["grid/lr"][none]) == {0.03} and set(cf.arrays["grid/lr"][lower]) == {0.01}
    for name in ("entropy_coef", "logit_cap"):
        assert set(cf.arrays[f"grid/{name}"][none]) == {0.0}
    assert set(cf.arrays["grid/lr_schedule"][none]) == {"constant"}
    assert cf.stride == 5 and set(cf.setting("kappa")) == {-0.4}
