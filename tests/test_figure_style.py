"""One figure style for the collection (plots.DPI, FONT, PANEL_HEIGHT, MAX_WIDTH): every
slider demo's figure, after moves, and every static figure the notebooks draw from the
library is readable: at least 100 dpi, no text under 10 pt, no two texts overlapping, no text
cut by the edge, no panel too low. Figures drawn in a notebook's own cells check themselves in
a folded cell (plots.style_problems), which the notebook tests run; this file checks that
every such cell does."""

import re
import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from pyrl_mini import data, editions, plots, widgets  # noqa: E402
from pyrl_mini.config import TrainSettings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# --- the check itself can fail -------------------------------------------------------------
def _figure(width=6.0, height=4.0):
    fig = plots.demo_figure((width, height))
    return fig, fig.subplots()


def test_a_clean_figure_passes():
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.set(xlabel="x", ylabel="y", title="a title")
    ax.legend()
    assert plots.style_problems(fig) == []
    assert plots.smallest_text(fig) == plots.FONT


def test_small_text_is_found_in_ticks_legends_and_animated_artists():
    fig, ax = _figure()
    ax.tick_params(labelsize=7)
    assert any("7 pt" in p for p in plots.style_problems(fig))
    fig, ax = _figure()
    ax.plot([0, 1], label="small key")
    ax.legend(fontsize=8)
    assert plots.style_problems(fig) == ["'small key' is 8 pt < 10 pt"]
    # a demo's changing text is drawn apart (blitted): it is checked all the same
    fig, ax = _figure()
    note = ax.text(0.5, 0.5, "moving note", fontsize=9)
    note.set_animated(True)
    fig.pyrl_dynamic_artists = [note]
    assert plots.style_problems(fig) == ["'moving note' is 9 pt < 10 pt"]
    assert note.get_animated()          # left as the demo needs it


def test_overlapping_and_cut_text_is_found():
    fig, ax = _figure()
    ax.text(0.5, 0.5, "first label")
    ax.text(0.52, 0.5, "second label")
    assert plots.style_problems(fig) == ["'first label' overlaps 'second label'"]
    fig, ax = _figure()
    ax.text(0.99, 0.5, "runs off the right edge", transform=fig.transFigure)
    assert plots.style_problems(fig) == ["'runs off the right edge' is cut by the figure's edge"]
    # a tick label hidden by its axis limits is not drawn, so it is not counted
    fig, ax = _figure()
    ax.set_xticks([0, 1, 2], ["0", "1", "far away"])
    ax.set_xlim(-0.5, 1.5)
    assert plots.style_problems(fig) == []


def test_low_panels_wide_figures_and_low_dpi_are_found():
    fig, ax = _figure(6.0, 2.4)
    problems = plots.style_problems(fig)
    assert len(problems) == 1 and problems[0].startswith("panel 'axes 0' is 1.")
    plots.short_panel(ax)                    # a row of a stack, declared as such
    assert plots.style_problems(fig) == []
    fig, ax = _figure(12.0, 4.0)
    assert plots.style_problems(fig) == ["width 12.00 in > 10 in"]
    fig, ax = _figure()
    fig.set_dpi(72)
    assert plots.style_problems(fig)[0] == "dpi 72 < 100"
    # a colour bar is as low as its panel needs: not a panel of its own
    fig, ax = _figure()
    fig.colorbar(ax.imshow(np.zeros((2, 2))), ax=ax, label="value", orientation="horizontal",
                 fraction=0.05)
    assert plots.style_problems(fig) == []


def test_the_style_holds_under_a_readers_small_defaults():
    with plt.rc_context({"font.size": 6, "xtick.labelsize": 6, "legend.fontsize": 6,
                         "figure.dpi": 72}):
        fig = plots.plot_kappa_transform()
        fig.canvas.draw()
    assert plots.style_problems(fig) == []
    plt.close(fig)


# --- every slider demo, after moves -----------------------------------------------------------
@pytest.fixture(scope="module")
def demos(quiet):
    out = widgets.all_demos(raster=False)
    out["01.raster"] = widgets.raster_demo(widgets.train_unit_examples(updates=3))
    return out


def _some_values(control):
    """The first, middle and last value a control offers (the ends give the longest labels)."""
    options = getattr(control, "options", None)
    values = ([o[1] if isinstance(o, tuple) else o for o in options] if options
              else [control.min, (control.min + control.max) // 2, control.max])
    return [values[0], values[len(values) // 2], values[-1]]


DEMOS = ["00b.kappa", "01.dead", "01.raster", "02.initial_policy", "02.sweep", "03.gap",
         "03.bandit", "03.kappa_x_lr", "03.reward", "04.grid", "04.bandit", "04.fixes",
         "05.explorer"]


def test_every_demo_is_checked(demos):
    assert sorted(demos) == sorted(DEMOS)


@pytest.mark.parametrize("key", DEMOS)
def test_every_demo_is_readable_after_moves(demos, key):
    demo = demos[key]
    assert demo.dpi >= plots.DPI
    assert plots.style_problems(demo.figure) == [], (key, "as built")
    for name, control in demo.controls.items():
        start = control.value
        for v in _some_values(control):
            control.value = v
            assert plots.style_problems(demo.figure) == [], (key, name, v)
        control.value = start


def test_the_explorer_with_more_seeds_than_colours_keys_the_count(quiet):
    """A many-seed grid (as the explorer will read): a line per seed, colours repeat, and the
    key gives the count instead of the names; a 3-seed cell of the same catalogue names its
    seeds."""
    cat = data.catalogue(("collapse_kappa", "nb00_main_grid"))
    demo = widgets.explorer_demo(cat)
    fig = demo.figure
    name, rows = cat.match("GRU", 0.05, 0.01, 0.0, 0.0)
    n = len(rows)     # the seeds of a kappa in collapse_kappa (20 or more)
    assert name == "collapse_kappa" and n == demo.plot_fn.pool > len(plots.ExplorerFigure
                                                                     .SEED_COLOURS)
    key = [t.get_text() for t in fig.legends[0].get_texts() if t.get_visible()]
    assert key == [f"{n} seeds, colours repeat"]
    assert sum(len(line.get_xdata()) > 0 for line in fig.axes[0].lines) == n
    assert plots.style_problems(fig) == []
    demo.set(entropy_coef=0.01)                                   # the main grid's 3 seeds
    name, rows = cat.match("GRU", 0.05, 0.01, 0.0, 0.01)
    key = [t.get_text() for t in fig.legends[0].get_texts() if t.get_visible()]
    assert key == [f"seed {s}" for s in cat.datasets[name].arrays["seed"][rows]]
    assert plots.style_problems(fig) == []


# --- the static figures the notebooks draw with library functions -----------------------------
def _history(names, points=100):
    rng = np.random.default_rng(0)
    return {n: rng.uniform(0, 1, points) for n in names}


def _fake_units_result(updates=60, units=50):
    rng = np.random.default_rng(0)
    h = {n: rng.uniform(0, 0.5, (updates, 1)) for n in ("dead_fraction", "dormant_fraction",
                                                        "reward")}
    return SimpleNamespace(history=h, updates_done=updates,
                           unit_dead=rng.uniform(size=(updates, 1, units)) < 0.2)


def _static_figures():
    """name -> a function drawing the figure as a notebook (or a Train button) draws it."""
    rng = np.random.default_rng(1)
    names4 = ("reward", "abort_rate", "higher_ev_rate", "entropy")

    def trap_frequencies():   # notebook 03, section 5, on the stored runs
        ck, cl = data.load("collapse_kappa"), data.load("collapse_lr")
        kappas = ck.values("kappa")
        trap = np.stack([ck.trapped[ck.by_seed(kappa=k)] for k in kappas], axis=1)
        groups = {f"lr {lr:g}\nkappa {k:+.1f}": ck.trapped[ck.by_seed(kappa=k)]
                  if lr == 0.01 else cl.trapped[cl.by_seed(kappa=k, lr=lr)]
                  for k in (-0.4, 0.4) for lr in (0.003, 0.01, 0.03)}
        return plots.plot_trap_frequencies(groups, trap, kappas,
                                           ck.arrays["seed"][ck.by_seed(kappa=0.0)])

    def trapped_by_kappa():   # notebook 01, section 4
        ck, ce = data.load("collapse_kappa"), data.load("collapse_entropy")
        series = {"entropy_coef 0": {k: ck.trapped[ck.by_seed(kappa=k)]
                                     for k in ck.values("kappa")}}
        series |= {f"entropy_coef {e:g}": {k: ce.trapped[ce.by_seed(kappa=k, entropy_coef=e)]
                                           for k in ce.values("kappa")}
                   for e in ce.values("entropy_coef")}
        return plots.plot_trapped_fraction(
            series, xlabel="kappa", log_x=False,
            title="GRU: trapped runs, 20 seeds per point")

    def modes_by_bias():   # notebook 02, Bonus K
        bias = data.load("nb02_readout_bias")
        return plots.plot_mode_frequencies(
            {f"bias {b:g}\nentropy {e:g}": bias.mode[bias.by_seed(fixate_bias=b, entropy_coef=e)]
             for e in bias.values("entropy_coef") for b in bias.values("fixate_bias")},
            title="How 20 runs per cell end (800 updates, kappa 0)",
            xlabel="initial FIXATE bias and entropy_coef")

    sys.path.insert(0, str(ROOT / "tools"))
    import readme_figure

    return {
        "00 kappa transform": plots.plot_kappa_transform,
        "00 trial": lambda: plots.plot_trial(TrainSettings().task, left=7, right=17),
        "00 option grid": plots.plot_option_grid,
        "00 live curves": lambda: plots.plot_curves(np.arange(100), _history(names4),
                                                    smooth=10, names=names4),
        "04 Train button": lambda: plots.plot_curves(
            np.arange(100), _history(("reward", "entropy", "higher_ev_rate", "risky_rate")),
            smooth=10, names=("reward", "entropy", "higher_ev_rate", "risky_rate"),
            title="kappa=-0.40, entropy_coef=0.015, lr=0.003, batch=512, logit cap 2.5"),
        "02 Train button": lambda: plots.plot_curves(
            np.arange(100), _history(("abort_rate", "higher_ev_rate", "entropy", "reward")),
            smooth=5, names=("abort_rate", "higher_ev_rate", "entropy", "reward"),
            title="wout_std=0.001, kappa=-0.40, entropy_coef=0.005, seed 20: never_chooses"),
        "01 trapped by kappa": trapped_by_kappa,
        "02 trapped by W_out": lambda: plots.plot_trapped_fraction(
            {f"entropy_coef {e:g}": {w: rng.uniform(size=20) < 0.5
                                     for w in (0.01, 0.05, 0.5, 2.0)} for e in (0.0, 0.05)},
            xlabel="initial W_out std (log scale)",
            title="Runs that end trapped\n(20 seeds per point, kappa 0, 800 updates)"),
        "02 modes": modes_by_bias,
        "03 trapped seeds": trap_frequencies,
        "01 Train button": lambda: plots.plot_live_units(_fake_units_result()),
        "README": readme_figure.figure,
    }


@pytest.mark.parametrize("name", list(_static_figures()))
def test_every_static_figure_is_readable(name):
    fig = _static_figures()[name]()
    try:
        assert plots.style_problems(fig) == [], name
    finally:
        plt.close(fig)


# --- the notebooks' own figure cells check themselves -------------------------------------
NOTEBOOKS = sorted((ROOT / "notebooks").glob(editions.NOTEBOOK_STEMS + ".py"))
CHECK = "assert not plots.style_problems(fig)"


def _cells(path: Path) -> list[str]:
    return re.split(r"\n(?=# %%)", path.read_text())


def test_no_figure_sets_its_own_small_text():
    """Sizes come from the style, not from each figure: no literal font size anywhere a figure
    is drawn (a literal size at or above FONT would still bypass one constant)."""
    sources = [ROOT / "pyrl_mini" / "plots.py", ROOT / "pyrl_mini" / "widgets.py",
               ROOT / "tools" / "readme_figure.py", *NOTEBOOKS]
    literal = re.compile(r"(fontsize|labelsize|title_fontsize|set_fontsize)\s*[=(]\s*[\d.]+")
    found = [f"{p.name}: {m.group(0)}" for p in sources for m in literal.finditer(p.read_text())]
    assert found == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_cell_of_a_notebook_checks_its_figure(path):
    """A notebook cell that makes a figure itself does it in the style (plots.subplots) and
    ends by checking it; a cell that only calls a library function checked above needs
    nothing."""
    for cell in _cells(path):
        code = "\n".join(line for line in cell.splitlines() if not line.startswith("#"))
        assert "plt.subplots(" not in code and "plt.figure(" not in code, cell[:200]
        if "plots.subplots(" in code or re.search(r"^fig = plots\.plot_", code, re.M):
            assert CHECK in code, cell[:200]
