"""SweepData.pair and SweepData.match: runs paired by seed across settings, and the same runs
found in two sweeps, whatever the order of their rows."""

import numpy as np
import pytest

from pyrl_mini.sweep import SweepData


def _sweep(rows, names=("wout_std", "kappa")) -> SweepData:
    """rows: (grid values..., seed, mode) per run."""
    arrays = {f"grid/{n}": np.array([r[j] for r in rows]) for j, n in enumerate(names)}
    arrays["seed"] = np.array([r[len(names)] for r in rows])
    arrays["mode"] = np.array([r[len(names) + 1] for r in rows])
    return SweepData(arrays)


# (wout_std, kappa, seed, mode) in a scrambled order; seed 9 has no partner at std 0.01
RUNS = [(0.0, 0.0, 1, 3), (0.01, 0.0, 0, 0), (0.0, 0.0, 0, 3), (0.01, 0.0, 1, 3),
        (0.0, 0.4, 0, 0), (0.01, 0.4, 0, 3), (0.0, 0.0, 9, 3)]


def test_pair_matches_seed_and_every_other_grid_setting():
    d = _sweep(RUNS)
    a, b = d.pair("wout_std", 0.0, 0.01)
    assert len(a) == len(b) == 3
    for i, j in zip(a, b, strict=True):
        assert d.arrays["grid/wout_std"][i] == 0.0 and d.arrays["grid/wout_std"][j] == 0.01
        assert d.arrays["seed"][i] == d.arrays["seed"][j]
        assert d.arrays["grid/kappa"][i] == d.arrays["grid/kappa"][j]
    assert list(a) == [0, 2, 4]            # in the order of a's rows; seed 9 left out
    a, b = d.pair("wout_std", 0.0, 0.01, kappa=0.0)
    assert (list(a), list(b)) == ([0, 2], [3, 1])


def test_pair_on_a_sweep_that_varies_one_setting():
    d = _sweep([(0.0, 5, 3), (0.0, 4, 0), (0.01, 4, 3), (0.01, 5, 0)], names=("wout_std",))
    a, b = d.pair("wout_std", 0.0, 0.01)
    assert (list(d.arrays["seed"][a]), list(d.arrays["seed"][b])) == ([5, 4], [5, 4])


def test_match_finds_the_same_runs_in_another_sweep():
    d = _sweep(RUNS)
    other = _sweep([RUNS[k] for k in (5, 0, 3, 1)])   # a subset, reordered
    mine, theirs = d.match(other)
    assert list(mine) == [0, 1, 3, 5] and list(theirs) == [1, 3, 2, 0]
    for i, j in zip(mine, theirs, strict=True):
        for name in ("seed", "grid/wout_std", "grid/kappa"):
            assert d.arrays[name][i] == other.arrays[name][j]


def test_match_refuses_sweeps_that_vary_other_settings():
    d = _sweep(RUNS)
    other = _sweep([(0.0, 1, 3)], names=("wout_std",))
    with pytest.raises(KeyError, match="vary different settings"):
        d.match(other)


def test_two_runs_with_one_key_are_refused():
    d = _sweep([(0.0, 0.0, 1, 3), (0.0, 0.0, 1, 0), (0.01, 0.0, 1, 3)])
    with pytest.raises(ValueError, match="one run per cell and seed"):
        d.pair("wout_std", 0.01, 0.0)
    with pytest.raises(ValueError, match="one run per cell and seed"):
        d.pair("wout_std", 0.0, 0.01)
