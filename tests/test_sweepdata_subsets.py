"""SweepData's subsets and row orders: the runs at some grid values as a sweep of their own,
and rows ordered so that selections of one sweep or of two pair up run by run."""

import numpy as np

from pyrl_mini.sweep import SweepData


def _sweep(grid: dict[str, list], seeds: list[int], reward: list[float]) -> SweepData:
    n = len(seeds)
    arrays = {f"grid/{k}": np.array(v) for k, v in grid.items()}
    arrays["seed"] = np.array(seeds)
    arrays["final/reward"] = np.array(reward, dtype=float)
    arrays["mode"] = np.array([0, 4] * (n // 2))
    arrays["unit_dead"] = np.zeros((n, 4, 3), dtype=bool)
    return SweepData(arrays, {"spec": {"stride": 5}})


def test_subset_is_a_sweep_of_the_selected_runs():
    ds = _sweep({"readout_rate": ["relu", "tanh", "relu", "tanh"],
                 "kappa": [0.4, 0.4, -0.4, -0.4]},
                seeds=[0, 0, 1, 1], reward=[1.0, 2.0, 3.0, 4.0])
    relu = ds.subset(readout_rate="relu")
    assert len(relu.arrays["seed"]) == 2 and relu.meta is ds.meta
    assert all(len(v) == 2 for v in relu.arrays.values())
    np.testing.assert_allclose(relu.final("reward"), [1.0, 3.0])
    assert relu.arrays["unit_dead"].shape == (2, 4, 3)
    # selections index into the subset
    np.testing.assert_allclose(relu.final("reward")[relu.by_seed(kappa=-0.4)], [3.0])
    assert relu.values("kappa") == [-0.4, 0.4]
    assert relu.trapped.tolist() == [False, False]          # modes 0 (converged) twice


def test_sorted_rows_pair_runs_across_sweeps_by_grid_values_and_seed():
    # one sweep with an entropy_coef 0.05 run to leave out, cells in a scrambled order
    relu = _sweep({"kappa": [0.4, -0.4, 0.4, -0.4, 0.0], "entropy_coef": [0, 0, 0, 0, 0.05]},
                  seeds=[1, 1, 0, 0, 0], reward=[4.1, 2.1, 3.0, 1.0, 9.0])
    # another on the same seeds, ordered differently: reward = 10 * (1 or 2) + 2 * kappa>0 + seed
    cells = [(r, k, sd) for r in ("tanh", "softplus") for k in (-0.4, 0.4) for sd in (1, 0)]
    rates = _sweep({"rate_function": [c[0] for c in cells], "kappa": [c[1] for c in cells]},
                   seeds=[c[2] for c in cells],
                   reward=[10 * (1 + (r == "softplus")) + 2 * (k > 0) + sd for r, k, sd in cells])
    a = relu.sorted_rows("kappa", entropy_coef=0.0)
    b = rates.sorted_rows("kappa", rate_function="softplus")
    assert a.tolist() == [3, 1, 2, 0]
    for ds, rows in ((relu, a), (rates, b)):
        assert ds.arrays["grid/kappa"][rows].tolist() == [-0.4, -0.4, 0.4, 0.4]
        assert ds.arrays["seed"][rows].tolist() == [0, 1, 0, 1]
    np.testing.assert_allclose(relu.final("reward")[a], [1.0, 2.1, 3.0, 4.1])
    np.testing.assert_allclose(rates.final("reward")[b], [20, 21, 22, 23])
    # two names: the first varies slowest; no names: by seed, as by_seed
    rows = rates.sorted_rows("rate_function", "kappa")
    assert rates.arrays["grid/rate_function"][rows].tolist() == ["softplus"] * 4 + ["tanh"] * 4
    assert rates.sorted_rows(kappa=0.4).tolist() == rates.by_seed(kappa=0.4).tolist()


def test_record_updates_are_every_stride_th_update_from_zero():
    ds = _sweep({"kappa": [0.0, 0.0]}, seeds=[0, 1], reward=[0.0, 0.0])
    assert ds.record_updates().tolist() == [0, 5, 10, 15]
