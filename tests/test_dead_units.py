"""Dead units in the library: spells of dead records and revivals (analysis), the batch with
its states x, the example networks and their raster, the unit-record demo and the live run
(widgets, plots), and the trapped-fraction figure on a linear axis."""

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")

import pyrl_mini.widgets as widgets  # noqa: E402
from pyrl_mini import analysis, data, plots  # noqa: E402
from pyrl_mini.config import TrainSettings  # noqa: E402
from pyrl_mini.diagnostics import dead_and_dormant  # noqa: E402
from pyrl_mini.stats import wilson  # noqa: E402
from pyrl_mini.trainer import Ensemble  # noqa: E402

SMALL = TrainSettings(updates=5, batch_size=32, network={"units": 12, "baseline_units": 8})


@pytest.fixture(autouse=True)
def _no_display(monkeypatch):
    monkeypatch.setattr(widgets, "display", lambda *a, **k: None)


def test_dead_spells_and_revivals_on_a_known_record():
    rec = np.array([0, 1, 1, 0, 1, 1, 1], dtype=bool)
    unit_dead = np.zeros((2, 7, 3), dtype=bool)
    unit_dead[0, :, 0] = rec                   # dies, comes back, dies for good
    unit_dead[0, 2:, 1] = True                 # dies and stays dead
    unit_dead[1, :2, 2] = True                 # run 1: dead at the start, then alive
    spells = analysis.dead_spells(unit_dead)
    got = sorted(zip(*(spells[k].tolist() for k in ("run", "unit", "start", "length",
                                                     "revived")), strict=True))
    assert got == [(0, 0, 1, 2, True), (0, 0, 4, 3, False), (0, 1, 2, 5, False),
                   (1, 2, 0, 2, True)]
    died, came_back = analysis.revived_units(unit_dead)
    assert died.tolist() == [[True, True, False], [False, False, True]]
    assert came_back.tolist() == [[True, False, False], [False, False, True]]
    # of the spells of at least 3 records, none ended alive (both last to the end)
    assert not spells["revived"][spells["length"] >= 3].any()


def test_revived_units_match_a_direct_count_on_stored_runs():
    unit_dead = data.load("nb01_gru").arrays["unit_dead"]
    died, came_back = analysis.revived_units(unit_dead)
    for run in range(unit_dead.shape[0]):
        for unit in range(unit_dead.shape[2]):
            d = unit_dead[run, :, unit]
            back = d.any() and (~d[d.argmax():]).any()
            assert (died[run, unit], came_back[run, unit]) == (d.any(), back)


def test_batch_states_reproduce_the_rollout_and_the_readout():
    s = SMALL.replace(network_type="simple", readout_rate="tanh")
    params = {k: v.detach() for k, v in Ensemble([s]).params.items()}
    st = widgets.batch_states(s, params, trials=16, seed=7)
    assert st["x"].shape == st["rates"].shape == st["read"].shape
    np.testing.assert_allclose(np.maximum(st["x"], 0), st["rates"], atol=1e-5)
    np.testing.assert_allclose(st["read"], np.tanh(st["x"]), atol=1e-6)
    assert st["mask"].shape == st["rates"].shape[:2] and st["choice"].shape == (16,)


@pytest.fixture(scope="module")
def examples():
    return widgets.train_unit_examples(updates=3)


def _dead(states):
    dead, _ = dead_and_dormant(torch.as_tensor(states["rates"])[:, None],
                               torch.as_tensor(states["mask"])[:, None])
    return dead[0].numpy()


def test_raster_demo_shows_the_chosen_network(examples):
    assert list(examples) == list(widgets.UNIT_EXAMPLES)
    demo = widgets.raster_demo(examples)

    def image(fig):  # exact zeros are masked (drawn white); fill them back with 0
        return np.ma.filled(fig.axes[0].images[0].get_array(), 0.0)

    first = image(demo.figure)
    label = list(examples)[2]
    demo.set(network=label)
    img = image(demo.figure)
    st = examples[label]["states"]
    valid = st["mask"][:, 0].astype(bool)
    # the first trial's valid steps, units reordered with dead units first
    dead = _dead(st)
    order = np.argsort(~dead, kind="stable")
    scale = demo.plot_fn.scale[label]  # each network's rates divided by its 99th percentile
    np.testing.assert_allclose(img[:, :valid.sum()] * scale, st["rates"][valid, 0][:, order].T,
                               rtol=1e-5)
    assert first.shape != img.shape or not np.allclose(first, img)
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
    # the slider offers every first trial that leaves six trials to show
    first = demo.controls["first_trial"]
    assert first.min == 0 and first.max == st["rates"].shape[1] - 6


def test_dead_units_demo_redraws_with_the_data_of_the_new_settings():
    gru, simple = data.load("nb01_gru"), data.load("nb01_simple")
    networks = {"GRU": gru, "SimpleRNN, relu readout": simple.subset(readout_rate="relu"),
                "SimpleRNN, tanh readout": simple.subset(readout_rate="tanh")}
    demo = widgets.dead_units_demo(networks)

    def curves(fig):  # solid curves of the left panel: dead fraction per seed
        return [np.asarray(ln.get_ydata()) for ln in fig.axes[0].lines
                if ln.get_linestyle() == "-" and len(ln.get_ydata()) > 2]

    idx = gru.by_seed(kappa=0.0, entropy_coef=0.0)
    for y, i in zip(curves(demo.figure), idx, strict=True):
        np.testing.assert_allclose(y, gru.h("dead_fraction")[i])
    demo.set(kappa=-0.4)
    idx = gru.by_seed(kappa=-0.4, entropy_coef=0.0)
    for y, i in zip(curves(demo.figure), idx, strict=True):
        np.testing.assert_allclose(y, gru.h("dead_fraction")[i])
    assert "kappa=-0.40" in demo.summary.value
    demo.set(network="SimpleRNN, tanh readout", entropy_coef=0.05, seed=1)
    tanh = networks["SimpleRNN, tanh readout"]
    idx = tanh.by_seed(kappa=-0.4, entropy_coef=0.05)
    for y, i in zip(curves(demo.figure), idx, strict=True):
        np.testing.assert_allclose(y, tanh.h("dead_fraction")[i])
    i1 = [i for i in idx if tanh.arrays["seed"][i] == 1][0]
    image = demo.figure.axes[2].images[0].get_array()
    ud = tanh.arrays["unit_dead"][i1]
    assert image.shape == ud.T.shape
    assert image.sum() == ud.sum()          # the same dead records, units reordered
    assert "SimpleRNN, tanh readout" in demo.summary.value
    mode = analysis.MODES[tanh.mode[i1]]
    died, came_back = analysis.revived_units(ud[None])
    assert (f"seed 1 (C1): dead {tanh.final('dead_fraction')[i1]:.2f}, revived "
            f"{came_back.sum()}/{died.sum()}, {mode}") in demo.summary.value
    assert demo.redraws == 5


def test_units_train_widget_trains_and_records_units():
    live = widgets.units_train_widget({"GRU": TrainSettings().replace(network_type="gru"),
                                       "SimpleRNN": TrainSettings().replace(
                                           network_type="simple")}, network="SimpleRNN")
    assert live.controls["network"].value == "SimpleRNN"
    live.controls["updates"].value = 50
    live.controls["network"].value = "GRU"
    result = live.run()
    assert result.unit_dead.shape == (50, 1, 50)
    assert result.settings[0].network.network_type == "gru" and result.settings[0].seed == 0
    assert live.progress.value == 50
    fig = plots.plot_live_units(result)
    died, came_back = analysis.revived_units(result.unit_dead.transpose(1, 0, 2))
    assert fig.axes[2].get_title() == (f"{came_back.sum()} of {died.sum()} dead units "
                                       "came back")


def test_trapped_fraction_on_a_linear_axis_keeps_every_interval_apart_and_in_view():
    flags = {(-0.4, 0.0): [True] * 7 + [False] * 13, (0.4, 0.0): [False] * 20,
             (-0.4, 0.05): [False] * 20, (0.4, 0.05): [True] + [False] * 19}
    series = {f"entropy_coef {e:g}": {k: np.array(f) for (k, e2), f in flags.items() if e2 == e}
              for e in (0.0, 0.05)}
    fig = plots.plot_trapped_fraction(series, xlabel="kappa", log_x=False)
    ax = fig.axes[0]
    xs = [c.lines[0].get_xdata() for c in ax.containers]    # one errorbar per series
    # a quarter of the gap (0.8) between the two series, none at the kappa itself
    np.testing.assert_allclose(xs[0], [-0.496, 0.304])
    np.testing.assert_allclose(xs[1], [-0.304, 0.496])
    lo, hi = ax.get_xlim()
    assert lo < min(map(min, xs)) and max(map(max, xs)) < hi
    segs = ax.containers[0].lines[2][0].get_segments()
    np.testing.assert_allclose([s[:, 1] for s in segs], [wilson(7, 20), wilson(0, 20)])
    assert {t.get_text() for t in ax.texts} == {"7", "0", "1"}   # k; n = 20 in the key
    assert "k of 20 runs" in ax.get_legend().get_title().get_text()
