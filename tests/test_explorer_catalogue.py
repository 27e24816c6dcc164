"""data.catalogue (every run of several datasets, found by its settings) and the explorer built
on it: plots.ExplorerFigure driven by widgets.explorer_demo. Its blitting is tested with every
other demo in tests/test_blitting.py ("05.explorer")."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from pyrl_mini import data, plots, widgets  # noqa: E402


@pytest.fixture(scope="module")
def cat():
    return data.catalogue()


def test_catalogue_matches_the_data(cat):
    name, rows = cat.match("GRU", 0.05, 0.01, 0.4, 0.0)
    assert name == "nb00_main_grid" and len(rows) == 3
    name, rows = cat.match("GRU", 0.05, 0.03, 0.0, 0.0)
    assert name == "nb03_kappa_lr" and len(rows) == 3
    name, rows = cat.match("SimpleRNN, tanh readout", 0.05, 0.01, -0.4, 0.05)
    assert name == "nb01_simple" and len(rows) == 2
    assert cat.match("GRU", 0.05, 0.03, 0.0, 0.05)[0] is None
    assert cat.values("kappa") == [-0.4, -0.2, 0.0, 0.2, 0.4]
    assert cat.available("GRU", 0.05, 0.03) == [(k, 0.0) for k in cat.values("kappa")]


def test_catalogue_rows_carry_their_datasets_settings(cat):
    """Each row's settings are those its dataset's definition gives the row's cell, and a
    setting held by two datasets is read from the first one named."""
    for name, d in cat.datasets.items():
        settings = data.DATASETS[name].settings()
        mine = np.nonzero(cat.source == name)[0]
        assert len(mine) == len(d.arrays["cell"])
        for i in mine[:: max(1, len(mine) // 7)]:
            s = settings[d.arrays["cell"][cat.row[i]]]
            assert (cat.network[i], cat.kappa[i], cat.lr[i], cat.seed[i]) == (
                data.network_label(s), s.kappa, s.lr, s.seed)
            assert np.isclose(cat.wout_std[i], s.network.wout_std)
            assert np.isclose(cat.entropy_coef[i], s.entropy_coef)
    # the main grid, the W_out sweep and the GRU runs of notebook 01 all hold the default
    # settings at kappa 0: the first one named wins
    default = ("GRU", 0.05, 0.01, 0.0, 0.0)
    assert cat.match(*default)[0] == "nb00_main_grid"
    assert data.catalogue(("nb01_gru", "nb00_main_grid")).match(*default)[0] == "nb01_gru"


def test_explorer_redraws_with_the_data_of_the_new_settings(cat, quiet):
    demo = widgets.explorer_demo(cat)
    demo.set(kappa=-0.4)
    reward_lines = demo.figure.axes[0].lines
    name, rows = cat.match("GRU", 0.05, 0.01, -0.4, 0.0)
    np.testing.assert_allclose(reward_lines[0].get_ydata(), cat.datasets[name].h("reward")[
        rows[0]])
    demo.set(lr=0.03)
    name2, rows2 = cat.match("GRU", 0.05, 0.03, -0.4, 0.0)
    np.testing.assert_allclose(reward_lines[0].get_ydata(), cat.datasets[name2].h("reward")[
        rows2[0]])
    assert "nb03_kappa_lr" in demo.summary.value
    demo.set(entropy_coef=0.05)  # never trained at lr 0.03
    assert "not computed" in demo.summary.value
    assert len(reward_lines[0].get_xdata()) == 0


def test_explorer_is_legible_and_keyed(cat, quiet):
    """At least 100 dpi, tick labels >= 10 pt, a key for every colour (seed lines, bars,
    dots, heatmap), no panel that only holds text, bars labelled k of n."""
    demo = widgets.explorer_demo(cat)
    demo.set(kappa=0.4, lr=0.03)
    fig = demo.figure
    assert demo.dpi >= 100
    for ax in fig.axes:
        assert ax.lines or ax.patches or ax.images or ax.collections, "a panel of only text"
        for label in ax.get_xticklabels() + ax.get_yticklabels():
            assert label.get_fontsize() >= plots.FONT
    name, rows = cat.match("GRU", 0.05, 0.03, 0.4, 0.0)
    seeds = cat.datasets[name].arrays["seed"][rows]
    assert 3 == len(seeds) < demo.plot_fn.pool    # a line of the pool is not drawn ...
    seed_key = [t.get_text() for t in fig.legends[0].get_texts() if t.get_visible()]
    assert seed_key == [f"seed {s}" for s in seeds]   # ... and has no entry in the key
    assert sum(h.get_visible() for h in fig.legends[0].legend_handles) == len(seeds)
    assert "one line per seed" in fig.legends[0].get_title().get_text()
    assert len(fig.axes) == 8  # seven panels and the heatmap's colour bar
    assert fig.axes[-1].get_ylabel() == "P(choose left)"
    bars, risky = demo.plot_fn.axes[4], demo.plot_fn.axes[5]
    assert bars.get_legend() is not None and risky.get_legend() is not None
    want = []
    for kappa in cat.values("kappa"):
        name, rows = cat.match("GRU", 0.05, 0.03, kappa, 0.0)
        want.append(f"{int(cat.datasets[name].trapped[rows].sum())} of {len(rows)}")
    assert [t.get_text() for t in bars.texts] == want
    # the j-th line is the cell's j-th seed, in the colour the key gives it
    key = dict(zip(seed_key, fig.legends[0].legend_handles, strict=False))
    for j, (row, seed) in enumerate(zip(rows, seeds, strict=True)):
        line = fig.axes[0].lines[j]
        np.testing.assert_allclose(line.get_ydata(), cat.datasets[name].h("reward")[row])
        assert line.get_color() == key[f"seed {seed}"].get_color()
    # every kappa with runs shows its rate as a dot, so a count of 0 (no bar) shows too
    demo.set(lr=0.01)
    labels = [t.get_text() for t in bars.texts]
    assert "0 of 3" in labels
    dots = demo.plot_fn.rates.get_ydata()
    np.testing.assert_allclose(dots, [int(t.split()[0]) / int(t.split()[-1]) for t in labels])


def test_explorer_draws_every_computed_combination(cat, quiet):
    """Every (network, W_out std, lr, kappa, entropy_coef) that has runs redraws without an
    error; a curve a dataset did not record says so instead of failing."""
    demo = widgets.explorer_demo(cat)
    combos = sorted({(n, float(w), float(lr), float(k), float(e)) for n, w, lr, k, e in zip(
        cat.network, cat.wout_std, cat.lr, cat.kappa, cat.entropy_coef, strict=True)})
    assert len(combos) > 20
    for network, wout_std, lr, kappa, coef in combos:
        demo.set(network=network, wout_std=wout_std, lr=lr, kappa=kappa, entropy_coef=coef)
        name, rows = cat.match(network, wout_std, lr, kappa, coef)
        assert name is not None and name in demo.summary.value
        dead_note = demo.figure.axes[2].texts[0].get_text()
        recorded = "h/dead_fraction" in cat.datasets[name].arrays
        assert (dead_note == "") == recorded, (name, dead_note)


def test_fixed_limits_clip_no_stored_run(cat, quiet):
    demo = widgets.explorer_demo(cat)
    axes = demo.plot_fn.axes[:4]
    for d in cat.datasets.values():
        assert d.update_axis()[-1] <= axes[0].get_xlim()[1]
        for (key, _), ax in zip(plots.EXPLORER_CURVES, axes, strict=True):
            if "h/" + key not in d.arrays:
                continue
            y = d.h(key)
            if key == "grad_norm":
                y = np.log10(np.maximum(y, 1e-12))
            lo, hi = ax.get_ylim()
            assert lo <= np.nanmin(y) and np.nanmax(y) <= hi, key
