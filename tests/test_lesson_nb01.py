import numpy as np
import pytest
import torch

from pyrl_mini.config import TrainSettings
from pyrl_mini.diagnostics import dead_and_dormant as _unit_stats
from pyrl_mini.lessons import nb01_dead_neurons as nb
from pyrl_mini.stats import wilson
from pyrl_mini.trainer import Ensemble

SMALL = TrainSettings(updates=5, batch_size=32, network={"units": 12, "baseline_units": 8})


def _batch(settings, bias=0.0, trials=64):
    ens = Ensemble([settings])
    with torch.no_grad():
        ens.params["b"] += bias
    ro = ens.rollout(trials, torch.tensor([settings.kappa]))
    return ens, ro


@pytest.mark.parametrize("network_type", ["gru", "simple"])
def test_definitions_agree_with_the_trainer(network_type):
    s = SMALL.replace(network_type=network_type)
    _, ro = _batch(s, bias=-0.4)
    rates, mask = ro["rates"].detach(), ro["mask"]
    dead, dormant_frac = _unit_stats(rates, mask)
    np.testing.assert_array_equal(nb.dead_units(rates, mask), dead.numpy())
    np.testing.assert_allclose(nb.dormant_units(rates, mask).mean(-1), dormant_frac.numpy())
    assert nb.dead_units(rates, mask).any(), "a bias of -0.4 should kill some units"
    # every dead unit is dormant
    assert not (nb.dead_units(rates, mask) & ~nb.dormant_units(rates, mask)).any()


def test_dead_ignores_steps_after_the_trial_ended():
    rates = np.zeros((3, 1, 2, 2))
    mask = np.ones((3, 1, 2))
    mask[2, 0, 0] = 0
    rates[2, 0, 0, 0] = 1.0      # unit 0 fires only after trial 0 ended
    rates[2, 0, 1, 1] = 1e-9     # unit 1 fires a tiny bit on a valid step
    np.testing.assert_array_equal(nb.dead_units(rates, mask), [[True, False]])


def test_dead_spells_and_revivals_on_a_known_record():
    rec = np.array([0, 1, 1, 0, 1, 1, 1], dtype=bool)
    assert nb.dead_spells(rec) == [(1, 2, True), (4, 3, False)]
    unit_dead = np.zeros((1, 7, 3), dtype=bool)
    unit_dead[0, :, 0] = rec                   # dies, comes back, dies for good
    unit_dead[0, 2:, 1] = True                 # dies and stays dead
    counts = nb.revival_counts(unit_dead)
    assert counts["ever_dead"].tolist() == [2]
    assert counts["revived"].tolist() == [1]
    assert counts["dead_at_end"].tolist() == [2]
    rv = nb.revival_by_spell_length(unit_dead, lengths=(1, 3, 5))
    # spells: (len 2, revived), (len 3, not), (len 5, not)
    assert rv["n"].tolist() == [3, 2, 1]
    assert rv["revived"].tolist() == [1, 0, 0]
    assert rv["fraction"][0] == pytest.approx(1 / 3)


def test_rank_auc():
    assert nb.rank_auc([3, 4], [1, 2]) == 1.0
    assert nb.rank_auc([1, 2], [3, 4]) == 0.0
    assert nb.rank_auc([1, 2], [1, 2]) == 0.5
    assert np.isnan(nb.rank_auc([], [1.0]))


def test_dead_units_get_exactly_zero_gradient_with_relu_readout_but_not_tanh():
    for readout in ("relu", "tanh"):
        s = SMALL.replace(network_type="simple", readout_rate=readout)
        ens = Ensemble([s])
        params = {k: v.detach().clone() for k, v in ens.params.items()}
        params["b"] -= 0.4
        g = nb.incoming_gradient(s, params, trials=64, seed=3)
        assert g["dead"].any() and (~g["dead"]).any()
        assert (g["grad"][~g["dead"]] > 0).all()
        if readout == "relu":
            assert (g["grad"][g["dead"]] == 0).all()
        else:
            assert (g["grad"][g["dead"]] > 0).all()


def test_unit_states_reproduce_the_rollout_and_the_readout():
    s = SMALL.replace(network_type="simple", readout_rate="tanh")
    params = {k: v.detach() for k, v in Ensemble([s]).params.items()}
    st = nb.unit_states(s, params, trials=16, seed=7)
    np.testing.assert_allclose(np.maximum(st["x"], 0), st["rates"], atol=1e-5)
    np.testing.assert_allclose(st["read"], np.tanh(st["x"]), atol=1e-6)
    share = nb.negative_readout_share(st)
    assert 0 <= share["share_dead"] <= share["share_negative"] <= 1
    assert 0 < share["frac_negative"] < 1


def test_negative_bias_kills_units_at_initialisation():
    out = nb.dead_fraction_at_init(SMALL.replace(network_type="simple"),
                                   bias_shifts=(-1.0, 0.0, 1.0), trials=32, seeds=(0, 1))
    assert out.shape == (3, 2)
    assert (out[0] >= out[1]).all() and (out[1] >= out[2]).all() and out[0].mean() > 0.3



def _fake_sweep(grid: dict[str, list], seeds: list[int], reward: list[float]) -> nb.SweepData:
    n = len(seeds)
    arrays = {f"grid/{k}": np.array(v) for k, v in grid.items()}
    arrays["seed"] = np.array(seeds)
    for name in ("dead_fraction", "dormant_fraction", "higher_ev_rate"):
        arrays["final/" + name] = np.linspace(0, 0.5, n)
    arrays["final/reward"] = np.array(reward, dtype=float)
    arrays["mode"] = np.array([0, 4] * (n // 2))
    arrays["updates_to_criterion"] = np.arange(n) * 10 - 10
    return nb.SweepData(arrays)


def test_rate_comparison_pairs_by_kappa_and_seed():
    # relu runs in a scrambled order, with an entropy_coef 0.05 run that must be left out
    gru = _fake_sweep({"kappa": [0.4, -0.4, 0.4, -0.4, 0.0],
                       "entropy_coef": [0.0, 0.0, 0.0, 0.0, 0.05]},
                      seeds=[1, 1, 0, 0, 0], reward=[4.1, 2.1, 3.0, 1.0, 9.0])
    # tanh / softplus runs: reward = 10 * (rate 1 or 2) + kappa-index * 2 + seed
    cells = [(r, k, sd) for r in ("tanh", "softplus") for k in (-0.4, 0.4) for sd in (0, 1)]
    rates = _fake_sweep({"rate_function": [c[0] for c in cells], "kappa": [c[1] for c in cells]},
                        seeds=[c[2] for c in cells],
                        reward=[10 * (1 + (r == "softplus")) + 2 * (k > 0) + sd
                                for r, k, sd in cells])
    comp = nb.rate_comparison(gru, rates)
    assert comp["kappa"].tolist() == [-0.4, -0.4, 0.4, 0.4]
    assert comp["seed"].tolist() == [0, 1, 0, 1]
    np.testing.assert_allclose(comp["relu"]["reward"], [1.0, 2.1, 3.0, 4.1])
    np.testing.assert_allclose(comp["tanh"]["reward"], [10, 11, 12, 13])
    np.testing.assert_allclose(comp["softplus"]["reward"], [20, 21, 22, 23])
    assert comp["relu"]["collapsed"].tolist() == [True, True, False, False]  # rows 3, 1, 2, 0
    assert set(comp["tanh"]) == {"dead", "dormant", "reward", "higher_ev", "mode",
                                 "collapsed", "criterion"}
    fig = nb.plot_rate_comparison(comp)
    assert len(fig.axes[1].collections) == 3
    np.testing.assert_allclose(fig.axes[1].collections[2].get_offsets()[:, 1], [20, 21, 22, 23])
    with pytest.raises(ValueError, match="no unique"):
        nb.rate_comparison(gru, nb.SweepData({k: v[:-1] for k, v in rates.arrays.items()}))

# --- the precomputed data and the demos -----------------------------------------------------
@pytest.fixture(scope="module")
def sweeps():
    return nb.load_all()


def test_run_table_covers_every_run(sweeps):
    table = nb.run_table(sweeps)
    n = sum(len(ds.arrays["seed"]) for ds in sweeps.values())
    assert len(table["dead"]) == n
    assert set(table["network"]) == set(nb.NETWORKS)
    ok = np.isfinite(table["dead"])
    assert ok.sum() == n - 1            # one SimpleRNN run at lr 0.1 diverged
    assert np.all((table["dead"][ok] >= 0) & (table["dead"][ok] <= table["dormant"][ok] + 1e-6))


def test_paired_differences_pair_by_seed(sweeps):
    diffs = nb.paired_kappa_differences(sweeps)
    ds = sweeps["nb01_gru"]
    a = nb.runs_of(sweeps, "GRU", kappa=-0.4, entropy_coef=0.0)
    b = nb.runs_of(sweeps, "GRU", kappa=0.4, entropy_coef=0.0)
    assert (ds.arrays["seed"][a] == ds.arrays["seed"][b]).all()
    np.testing.assert_allclose(diffs["GRU"][:len(a)],
                               ds.final("dead_fraction")[a] - ds.final("dead_fraction")[b])
    assert len(diffs["all"]) == sum(len(diffs[n]) for n in nb.NETWORKS)


def test_dead_demo_redraws_with_the_data_of_the_new_settings(sweeps):
    demo = nb.dead_demo(sweeps)

    def curves(fig):  # solid curves of the left panel: dead fraction per seed
        return [np.asarray(ln.get_ydata()) for ln in fig.axes[0].lines
                if ln.get_linestyle() == "-" and len(ln.get_ydata()) > 2]

    ds = sweeps["nb01_gru"]
    idx = nb.runs_of(sweeps, "GRU", kappa=0.0, entropy_coef=0.0)
    for y, i in zip(curves(demo.figure), idx, strict=True):
        np.testing.assert_allclose(y, ds.h("dead_fraction")[i])
    demo.set(kappa=-0.4)
    idx = nb.runs_of(sweeps, "GRU", kappa=-0.4, entropy_coef=0.0)
    for y, i in zip(curves(demo.figure), idx, strict=True):
        np.testing.assert_allclose(y, ds.h("dead_fraction")[i])
    assert "kappa=-0.40" in demo.summary.value
    demo.set(network="SimpleRNN, tanh readout", entropy_coef=0.05, seed=1)
    simple = sweeps["nb01_simple"]
    idx = nb.runs_of(sweeps, "SimpleRNN, tanh readout", kappa=-0.4, entropy_coef=0.05)
    for y, i in zip(curves(demo.figure), idx, strict=True):
        np.testing.assert_allclose(y, simple.h("dead_fraction")[i])
    i1 = [i for i in idx if simple.arrays["seed"][i] == 1][0]
    image = demo.figure.axes[1].images[0].get_array()
    ud = simple.arrays["unit_dead"][i1]
    assert image.shape == ud.T.shape
    assert image.sum() == ud.sum()          # the same dead records, units reordered
    assert "SimpleRNN, tanh readout" in demo.summary.value
    mode = nb.analysis.MODES[simple.mode[i1]]
    assert f"seed 1 (C1): dead {simple.final('dead_fraction')[i1]:.2f}" in demo.summary.value
    assert mode in demo.summary.value
    assert demo.redraws == 5


@pytest.fixture(scope="module")
def examples():
    return nb.train_examples(updates=3)


def test_raster_demo_shows_the_chosen_network(examples):
    demo = nb.raster_demo(examples)
    def image(fig):  # exact zeros are masked (drawn white); fill them back with 0
        return np.ma.filled(fig.axes[0].images[0].get_array(), 0.0)

    first = image(demo.figure)
    label = list(examples)[2]
    demo.set(network=label)
    img = image(demo.figure)
    st = examples[label]["states"]
    valid = st["mask"][:, 0].astype(bool)
    # the first trial's valid steps, units reordered with dead units first
    dead = nb.dead_units(st["rates"][:, None], st["mask"][:, None])[0]
    order = np.argsort(~dead, kind="stable")
    scale = demo.plot_fn.scale[label]  # each network's rates divided by its 99th percentile
    np.testing.assert_allclose(img[:, :valid.sum()] * scale, st["rates"][valid, 0][:, order].T,
                               rtol=1e-5)
    assert first.shape != img.shape or not np.allclose(first, img)
    dead = nb.dead_units(st["rates"][:, None], st["mask"][:, None])[0]
    assert f"{label}: {dead.sum()} of {dead.size} units dead" in demo.summary.value
    demo.set(first_trial=1)
    img1 = image(demo.figure)
    valid1 = st["mask"][:, 1].astype(bool)
    np.testing.assert_allclose(img1[:, :valid1.sum()] * scale,
                               st["rates"][valid1, 1][:, order].T, rtol=1e-5)
    # steps after a trial ended are blank (NaN, drawn grey), not zero
    raw = demo.figure.axes[0].images[0].get_array()
    after = np.ma.getmaskarray(raw) | np.isnan(np.ma.getdata(raw))
    assert after[:, valid1.sum():st["rates"].shape[0]].all()
    assert not after[:, :valid1.sum()].any()


def test_live_run_widget_trains_and_records_units():
    live = nb.live_run_widget()
    live.controls["updates"].value = 50
    live.controls["network"].value = "GRU"
    result = live.run()
    assert result.unit_dead.shape == (50, 1, 50)
    assert live.progress.value == 50


def test_optimizer_comparison_pairs_adam_and_sgd_by_kappa_and_seed():
    gru = _fake_sweep({"kappa": [0.4, -0.4, 0.4, -0.4, 0.0],
                       "entropy_coef": [0.0, 0.0, 0.0, 0.0, 0.05]},
                      seeds=[1, 1, 0, 0, 0], reward=[4.1, 2.1, 3.0, 1.0, 9.0])
    cells = [(lr, k, sd) for lr in (3.0, 1.0) for k in (0.4, -0.4) for sd in (1, 0)]
    sgd = _fake_sweep({"lr": [c[0] for c in cells], "kappa": [c[1] for c in cells]},
                      seeds=[c[2] for c in cells],
                      reward=[10 * lr + 2 * (k > 0) + sd for lr, k, sd in cells])
    for ds in (gru, sgd):
        n = len(ds.arrays["seed"])
        ds.arrays["h/dead_fraction"] = np.tile(np.linspace(0, 1, 4), (n, 1)) * \
            ds.arrays["final/reward"][:, None]
        ds.arrays["h/reward"] = ds.arrays["h/dead_fraction"]
    comp = nb.optimizer_comparison(gru, sgd)
    assert list(comp) == list(nb.OPTIMIZER_RUNS)
    for c in comp.values():
        assert c["kappa"].tolist() == [-0.4, -0.4, 0.4, 0.4]
        assert c["seed"].tolist() == [0, 1, 0, 1]
    np.testing.assert_allclose(comp["Adam lr 0.01"]["reward"], [1.0, 2.1, 3.0, 4.1])
    np.testing.assert_allclose(comp["SGD lr 1"]["reward"], [10, 11, 12, 13])
    np.testing.assert_allclose(comp["SGD lr 3"]["reward"], [30, 31, 32, 33])
    np.testing.assert_allclose(comp["SGD lr 3"]["max_dead"], [30, 31, 32, 33])
    assert len(nb.plot_optimizer_comparison(comp).axes[1].collections) == 6
    # the Adam-eps runs are paired the same way
    eps = _fake_sweep({"kappa": [0.4, -0.4, 0.4, -0.4]}, seeds=[1, 1, 0, 0],
                      reward=[4.5, 2.5, 3.5, 1.5])
    eps.arrays["h/dead_fraction"] = np.zeros((4, 4))
    eps.arrays["h/reward"] = np.zeros((4, 4))
    comp = nb.optimizer_comparison(gru, sgd, eps)
    assert list(comp) == [*nb.OPTIMIZER_RUNS, nb.ADAM_EPS_RUN]
    assert comp[nb.ADAM_EPS_RUN]["kappa"].tolist() == [-0.4, -0.4, 0.4, 0.4]
    np.testing.assert_allclose(comp[nb.ADAM_EPS_RUN]["reward"], [1.5, 2.5, 3.5, 4.5])


def test_weight_displacement_measures_each_group():
    moved = nb.weight_displacement(updates=3)
    assert set(moved) == {"Adam lr 0.01", "SGD lr 1", nb.ADAM_EPS_RUN}
    for groups in moved.values():
        assert set(groups) == {"W_in", "W_rec", "W_out", "biases"}
        assert all(v > 0 for v in groups.values())
    # Adam's first steps are about lr per weight: 3 updates move each weight by at most 3 lr
    assert max(moved["Adam lr 0.01"].values()) <= 3 * 0.01 + 1e-6


def test_outcome_groups_and_the_dead_by_outcome_figure():
    # modes: converged, always_aborts, one_side, learning, never_chooses, always_aborts
    ds = _fake_sweep({"kappa": [0.0] * 6}, seeds=list(range(6)), reward=[0.0] * 6)
    ds.arrays["mode"] = np.array([0, 3, 4, 1, 2, 3])
    groups = nb.outcome_groups(ds)
    assert groups.tolist() == [0, 1, 2, 0, 2, 1]
    fig = nb.plot_dead_by_outcome({"a": ds, "b": ds})
    assert len(fig.axes) == 2
    dead = ds.final("dead_fraction")
    ax = fig.axes[0]
    for g, points in enumerate(ax.collections):   # one scatter per group, in group order
        np.testing.assert_allclose(np.sort(points.get_offsets()[:, 1]),
                                   np.sort(dead[groups == g]))
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "(2 runs)" in ticks[0] and "(2 runs)" in ticks[1] and "always aborts" in ticks[1]


def test_collapse_frequency_figure_shows_wilson_intervals():
    flags = {(-0.4, 0.0): [True] * 7 + [False] * 13, (0.4, 0.0): [False] * 20,
             (-0.4, 0.05): [False] * 20, (0.4, 0.05): [True] + [False] * 19}
    fig = nb.plot_collapse_frequency(flags)
    ax = fig.axes[0]
    points = list(ax.containers)                  # one errorbar container per entropy_coef
    assert len(points) == 2
    y = points[0].lines[0].get_ydata()
    np.testing.assert_allclose(y, [7 / 20, 0.0])
    # the interval of 0 of 20 reaches 16 %, of 7 of 20 from 18 % to 57 %
    segs = points[0].lines[2][0].get_segments()
    np.testing.assert_allclose([s[:, 1] for s in segs], [wilson(7, 20), wilson(0, 20)])
    assert "20 seeds per cell" in ax.get_title()


def test_optimizer_seeds_pairs_the_three_optimisers_by_seed():
    # default Adam: a kappa grid (only kappa 0 is used), seeds scrambled
    adam = _fake_sweep({"kappa": [0.0, 0.4, 0.0, 0.0]}, seeds=[2, 0, 0, 1],
                       reward=[2.0, 9.0, 0.0, 1.0])
    # the variants: kappa in the base, seeds scrambled differently
    cells = [("adam", 0.01, 0.01, sd) for sd in (1, 2, 0)] + \
        [("sgd", 1.0, 1e-8, sd) for sd in (0, 2, 1)]
    variants = _fake_sweep({"policy_optimizer": [c[0] for c in cells],
                            "lr": [c[1] for c in cells],
                            "policy_adam_eps": [c[2] for c in cells]},
                           seeds=[c[3] for c in cells],
                           reward=[10 * (c[0] == "sgd") + 5 + c[3] for c in cells])
    for ds in (adam, variants):
        n = len(ds.arrays["seed"])
        ds.arrays["h/dead_fraction"] = np.tile(np.linspace(0, 1, 4), (n, 1)) * \
            ds.arrays["final/reward"][:, None]
        ds.arrays["h/reward"] = ds.arrays["h/dead_fraction"]
    runs = nb.optimizer_seeds(adam, variants)
    assert list(runs) == list(nb.OPTIMIZER_SEEDS)
    for c in runs.values():
        assert c["seed"].tolist() == [0, 1, 2] and c["kappa"].tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(runs["Adam lr 0.01"]["reward"], [0.0, 1.0, 2.0])
    np.testing.assert_allclose(runs[nb.ADAM_EPS_RUN]["reward"], [5, 6, 7])
    np.testing.assert_allclose(runs["SGD lr 1"]["max_dead"], [15, 16, 17])
    fig = nb.plot_optimizer_seeds(runs, threshold=0.2)
    # left: one dot per run per optimiser; right: the two frequencies per optimiser
    dots = [c.get_offsets()[:, 1] for c in fig.axes[0].collections]
    np.testing.assert_allclose(dots[0], runs["Adam lr 0.01"]["dead"])
    bars = [p.get_height() for p in fig.axes[1].patches]
    ends_dead = [np.mean(runs[lb]["dead"] > 0.2) for lb in nb.OPTIMIZER_SEEDS]
    np.testing.assert_allclose(bars[:3], ends_dead)
    np.testing.assert_allclose(bars[3:], [np.mean(runs[lb]["collapsed"])
                                          for lb in nb.OPTIMIZER_SEEDS])
    variants.arrays["seed"][0] = 7                  # a seed without a partner
    with pytest.raises(ValueError, match="do not share their seeds"):
        nb.optimizer_seeds(adam, variants)
