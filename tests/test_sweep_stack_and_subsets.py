"""SweepData's joins (take, subset, mode_names, stack, per_cell, first_update_above) on a
synthetic sweep, and the pairings notebook 04 builds with them on the stored data."""

import numpy as np
import pytest

from pyrl_mini import analysis, data
from pyrl_mini.datasets import collapse
from pyrl_mini.datasets import nb04_entropy_fix as ds
from pyrl_mini.sweep import SweepData


def _sweep(kappas=(-0.4, 0.0), seeds=(2, 0, 1), coef=None, points=5, stride=10):
    """kappa x seeds, rows in a shuffled seed order; entropy_coef a grid setting if coef is
    a tuple of values. h/abort_rate rises from 0 to 1 at the block given by the seed."""
    combos = [(k, c, s) for k in kappas for c in (coef or (None,)) for s in seeds]
    n = len(combos)
    arrays = {"seed": np.array([s for _, _, s in combos]),
              "grid/kappa": np.array([k for k, _, _ in combos]),
              "mode": np.array([analysis.MODES.index("always_aborts") if s == 1 else
                                analysis.MODES.index("converged") for _, _, s in combos],
                               dtype=np.int8),
              "final/reward": np.arange(n, dtype=float),
              "h/abort_rate": np.array([np.arange(points) >= s + 1 for _, _, s in combos],
                                       dtype=float)}
    if coef:
        arrays["grid/entropy_coef"] = np.array([c for _, c, _ in combos])
    return SweepData(arrays, {"spec": {"name": "fake", "stride": stride, "seeds": list(seeds)}})


def test_take_and_subset_keep_every_array_and_the_meta():
    d = _sweep()
    sub = d.subset(kappa=0.0)
    assert sub.arrays["seed"].tolist() == [0, 1, 2]               # seed order
    assert sub.arrays.keys() == d.arrays.keys() and sub.meta is d.meta
    assert np.array_equal(sub.final("reward"), d.final("reward")[d.by_seed(kappa=0.0)])
    trapped = d.take(d.trapped)                                  # a boolean mask
    assert trapped.arrays["seed"].tolist() == [1, 1]
    assert trapped.mode_names == ["always_aborts", "always_aborts"]


def test_mode_names_name_a_stopped_run():
    d = _sweep()
    d.arrays["mode"][0] = -1
    assert d.mode_names[0] == "stopped" and d.mode_names[1] == "converged"


def test_stack_fills_the_setting_only_one_sweep_varies():
    without, bonus = _sweep(), _sweep(coef=(0.01, 0.05))
    grid = without.stack(bonus, entropy_coef=0.0)
    assert grid.values("entropy_coef") == [0.0, 0.01, 0.05]
    assert grid.values("kappa") == [-0.4, 0.0]
    assert len(grid.arrays["seed"]) == len(without.arrays["seed"]) + len(bonus.arrays["seed"])
    assert np.array_equal(grid.subset(kappa=-0.4, entropy_coef=0.0).final("reward"),
                          without.subset(kappa=-0.4).final("reward"))
    assert np.array_equal(grid.subset(kappa=0.0, entropy_coef=0.05).final("reward"),
                          bonus.subset(kappa=0.0, entropy_coef=0.05).final("reward"))
    spec = grid.meta["spec"]
    assert spec["name"] == "fake + fake" and spec["stride"] == 10
    assert spec["grid"] == {"kappa": [-0.4, 0.0], "entropy_coef": [0.0, 0.01, 0.05]}
    with pytest.raises(KeyError, match="entropy_coef"):
        without.stack(bonus)


def test_per_cell_arranges_values_by_cell_in_seed_order():
    d = _sweep(coef=(0.0, 0.05))
    table = d.per_cell(d.final("reward"), "kappa", "entropy_coef")
    assert table.shape == (2, 2, 3)
    for i, k in enumerate(d.values("kappa")):
        for j, c in enumerate(d.values("entropy_coef")):
            assert np.array_equal(table[i, j], d.subset(kappa=k, entropy_coef=c).final("reward"))
    assert d.per_cell(d.trapped, "kappa").shape == (2, 6)
    uneven = d.take(np.arange(len(d.arrays["seed"]) - 1))
    with pytest.raises(ValueError, match="different numbers of runs"):
        uneven.per_cell(uneven.final("reward"), "kappa", "entropy_coef")


def test_first_update_above_is_the_end_of_the_first_block_above():
    d = _sweep(seeds=(0, 1, 9))   # abort_rate jumps to 1 in block seed + 1; seed 9: never
    when = d.subset(kappa=0.0).first_update_above("abort_rate", 0.9)
    assert when.tolist() == [20, 30, -1]
    d.arrays["h/abort_rate"][:, 1] = np.nan   # a block without trials counts as not above
    assert d.subset(kappa=0.0).first_update_above("abort_rate", 0.9).tolist() == [30, 30, -1]


# --- the stored data notebook 04 pairs ---------------------------------------------------------
def test_the_kappa_x_entropy_grid_pairs_the_two_datasets_by_seed():
    k, e = data.load("collapse_kappa"), data.load("collapse_entropy")
    grid = k.stack(e, entropy_coef=0.0)
    assert grid.values("kappa") == [-0.4, 0.0, 0.4]
    assert grid.values("entropy_coef") == [0.0, 0.01, 0.05]
    both = sorted(sum(collapse.SEED_BLOCKS, ()))     # two blocks of 20 seeds
    assert grid.meta["spec"]["seeds"] == both
    seeds = grid.per_cell(grid.arrays["seed"], "kappa", "entropy_coef")
    assert (seeds == np.array(both)).all()
    assert np.array_equal(grid.subset(kappa=-0.4, entropy_coef=0.0).final("reward"),
                          k.subset(kappa=-0.4).final("reward"))


def _variant_runs(d, spec, variants):
    return {fix: d.take(collapse.variant_rows(d, spec, variants, fix)) for fix in variants}


def test_twenty_seed_fix_runs_pair_every_fix_with_its_control():
    fast = _variant_runs(data.load("collapse_fixes"), collapse.COLLAPSE_FIXES,
                         collapse.FIX_VARIANTS)
    for fix, runs in fast.items():
        assert runs.arrays["seed"].tolist() == sorted(sum(collapse.FIX_BLOCKS, ())), fix
    assert np.allclose(fast["lower lr"].arrays["grid/lr"], 0.01)
    assert np.allclose(fast["none"].arrays["grid/lr"], 0.03)
    assert np.allclose(fast["logit cap 2"].arrays["grid/logit_cap"], 2.0)
    slow = _variant_runs(data.load("collapse_fixes_slow"), collapse.COLLAPSE_FIXES_SLOW,
                         collapse.SLOW_VARIANTS)
    for fix, runs in slow.items():
        assert runs.arrays["seed"].tolist() == sorted(sum(collapse.SEED_BLOCKS, ())), fix
    assert data.load("nb04_fixes_fast_batch512").subset().arrays["seed"].tolist() == [0, 1, 2,
                                                                                      3, 4]


def test_logit_cap_runs_use_the_fast_settings():
    """The logit-cap sweep's settings equal nb04_fixes_fast's control but for the cap, so its
    cells are paired with the other fixes (same seeds, same draws)."""
    def by_cell(spec):
        return list(zip(spec.cells(), spec.settings(), strict=True))

    none = {n: ds._FAST_DEFAULTS[n] for n in ds.FAST_VARIED}
    controls = {seed: s for (values, seed), s in by_cell(ds.FIXES_FAST) if values == none}
    capped = [(values, seed, s) for (values, seed), s in by_cell(ds.FIXES_FAST_LOGIT)]
    assert sorted(controls) == list(ds.FAST_SEEDS) and len(capped) == 2 * len(controls)
    for values, seed, s in capped:
        assert s == controls[seed].replace(logit_cap=values["logit_cap"])


def test_fast_lower_lr_equals_main_grid_start():
    """Same settings and seeds give the same runs up to float rounding: nb04_fixes_fast's lr
    0.01 cells start as nb00_main_grid's kappa = -0.4 cells (stride 5 vs 10). The C++ kernel's
    rounding depends on the ensemble a network trains in (chunks of 9 and of 3 here), and
    training is chaotic, so they agree for the first 30 updates and may part after."""
    grid = data.load("nb00_main_grid")
    fast = data.load("nb04_fixes_fast")
    lower = fast.take(ds.FIXES_FAST.rows_of(fast, list(ds.FAST_VARIANTS).index("lower lr")))
    assert lower.arrays["seed"].tolist() == list(ds.FAST_SEEDS)
    assert np.allclose(lower.arrays["grid/lr"], 0.01)
    main = grid.subset(kappa=-0.4, entropy_coef=0.0)
    for a, b in zip(lower.h("reward")[:3], main.h("reward"), strict=True):
        assert np.allclose(a[:6].reshape(3, 2).mean(1), b[:3], atol=1e-5)
