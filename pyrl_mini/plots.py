"""Plot functions: they read results and draw; they never train.

Each returns a matplotlib Figure, so a widget can show it and a test can read its data.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from . import analysis, bandit, diagnostics, tasks
from .config import TaskSettings
from .risk import kappa_transform
from .stats import wilson

if TYPE_CHECKING:
    from .sweep import SweepData
    from .trainer import TrainResult

CURVES = {
    "reward": "mean reward / trial",
    "abort_rate": "abort rate",
    "higher_ev_rate": "higher-EV choices",
    "entropy": "policy entropy (nats)",
    "grad_norm": "gradient norm",
    "dead_fraction": "dead-unit fraction",
    "risky_rate": "lower-p choices (equal EV)",
    "max_prob": "max action probability",
}


def _smooth(y: np.ndarray, window: int) -> np.ndarray:
    """Running mean over `window` points, NaN-aware: NaN where the window holds no number
    (e.g. a higher-EV rate while every trial aborts), and for the first window - 1 points."""
    if window <= 1 or len(y) < window:
        return y
    k = np.ones(window)
    finite = np.isfinite(y)
    total = np.convolve(np.where(finite, y, 0.0), k, mode="valid")
    count = np.convolve(finite.astype(float), k, mode="valid")
    with np.errstate(invalid="ignore", divide="ignore"):
        yy = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return np.concatenate([np.full(window - 1, np.nan), yy])


# --- one style for every figure ---------------------------------------------------------------
# Readable at a notebook's width without zooming: every figure is drawn at DPI, no text is
# smaller than FONT points, no panel is lower than PANEL_HEIGHT, no figure wider than MAX_WIDTH
# (JupyterLab shrinks a wider picture to the column, and its text with it). style_problems(fig)
# checks a drawn figure against these; tests/test_figure_style.py runs it on every figure.
DPI = 100             # dots per inch, of a figure and of every PNG a demo redraws
FONT = 10             # points: ticks, axis labels, legends, notes, numbers on bars
TITLE = 11            # points: panel and figure titles
PANEL_HEIGHT = 2.2    # inches (220 px at DPI): the lowest panel a figure may have
MAX_WIDTH = 10.0      # inches (1000 px at DPI)
SHORT = "pyrl_short_panel"   # an axes attribute: exempt from PANEL_HEIGHT (short_panel)
STYLE = {"figure.dpi": DPI, "savefig.dpi": DPI, "font.size": FONT, "axes.labelsize": FONT,
         "xtick.labelsize": FONT, "ytick.labelsize": FONT, "legend.fontsize": FONT,
         "legend.title_fontsize": FONT, "axes.titlesize": TITLE, "figure.titlesize": TITLE}


def styled(make: Callable[..., Any]) -> Callable[..., Any]:
    """Run a figure-making function under STYLE: the text it creates (and the tick labels its
    axes add later, which copy the first one's size) gets the collection's sizes, whatever the
    reader's matplotlib settings."""
    @functools.wraps(make)
    def run(*args, **kwargs):
        with plt.rc_context(STYLE):
            return make(*args, **kwargs)
    return run


@styled
def subplots(nrows: int = 1, ncols: int = 1, **kwargs) -> tuple[plt.Figure, Any]:
    """plt.subplots in the collection's style, at DPI: for a notebook's own figure cells."""
    return plt.subplots(nrows, ncols, dpi=DPI, **kwargs)


@styled
def demo_figure(figsize: tuple[float, float]) -> Figure:
    """A Figure in the collection's style outside pyplot, with its own Agg canvas (nothing for
    pyplot to track or close; widgets.Demo renders it to PNG itself). Its panels must be
    added under STYLE too: build them in a @styled method."""
    fig = Figure(figsize=figsize, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def few_ticks(*axes, x: bool = True) -> None:
    """At most three ticks a side: fewer text artists to lay out on each redraw."""
    for ax in axes:
        if x:
            ax.xaxis.set_major_locator(MaxNLocator(3))
        ax.yaxis.set_major_locator(MaxNLocator(3))


def data_limits(values, *also: float, pad: float = 0.05) -> tuple[float, float]:
    """(low, high) axis limits holding every finite value (and `also`), padded by `pad` of
    the span: a panel whose data change with a slider gets limits from all the data it can
    show, so no position clips a point."""
    flat = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in
                           (values if isinstance(values, list) else [values])] +
                          [np.asarray(also, dtype=float)])
    flat = flat[np.isfinite(flat)]
    lo, hi = float(flat.min()), float(flat.max())
    span = hi - lo if hi > lo else 1.0
    return lo - pad * span, hi + pad * span


def drawn_text(fig: Figure) -> list[tuple[Text, Bbox]]:
    """Every text a full draw of fig puts on the picture (animated artists included, as a
    demo shows them), with its extent in pixels at the figure's dpi, in drawing order."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else None
    old_canvas = fig.canvas
    if canvas is None:          # e.g. a figure pyplot closed: draw it on Agg, then give it back
        canvas = FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()   # draw() reuses this one: record what it writes
    seen: dict[int, tuple[Text, Bbox]] = {}
    draw_text = renderer.draw_text

    def record(gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if mtext is not None and s.strip() and id(mtext) not in seen:
            seen[id(mtext)] = (mtext, mtext.get_window_extent(renderer))
        return draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    animated = [a for a in getattr(fig, "pyrl_dynamic_artists", ()) if a.get_animated()]
    renderer.draw_text = record
    try:
        for a in animated:
            a.set_animated(False)
        canvas.draw()
    finally:
        del renderer.draw_text
        for a in animated:
            a.set_animated(True)
        if old_canvas is not canvas:
            fig.set_canvas(old_canvas)
    return list(seen.values())


def smallest_text(fig: Figure) -> float:
    """The size in points of the smallest text fig shows (inf if it shows none)."""
    return min((t.get_fontsize() for t, _ in drawn_text(fig)), default=float("inf"))


def style_problems(fig: Figure) -> list[str]:
    """What in fig breaks the collection's figure style, one line each (empty: nothing): a dpi
    below DPI, a width above MAX_WIDTH, text below FONT points, two texts that overlap, text
    cut by the figure's edge, a panel lower than PANEL_HEIGHT (colour bars and panels marked
    with short_panel excepted). It draws fig in full once."""
    problems = []
    if fig.dpi < DPI:
        problems.append(f"dpi {fig.dpi:g} < {DPI}")
    if fig.get_figwidth() > MAX_WIDTH + 1e-9:
        problems.append(f"width {fig.get_figwidth():.2f} in > {MAX_WIDTH:g} in")
    texts = drawn_text(fig)
    page = fig.bbox
    for t, box in texts:
        if t.get_fontsize() < FONT:
            problems.append(f"{t.get_text()!r} is {t.get_fontsize():g} pt < {FONT} pt")
        if (box.x0 < page.x0 - 1 or box.y0 < page.y0 - 1 or box.x1 > page.x1 + 1
                or box.y1 > page.y1 + 1):
            problems.append(f"{t.get_text()!r} is cut by the figure's edge")
    for i, (a, box_a) in enumerate(texts):
        for b, box_b in texts[i + 1:]:
            # overlapping by more than a pixel each way (boxes include the font's descent)
            w = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
            h = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
            if w > 1 and h > 1:
                problems.append(f"{a.get_text()!r} overlaps {b.get_text()!r}")
    for ax in fig.axes:   # a colour bar's axes (matplotlib marks them _colorbar) is no panel
        if not ax.get_visible() or hasattr(ax, "_colorbar") or getattr(ax, SHORT, False):
            continue
        height = ax.get_position().height * fig.get_figheight()
        if height < PANEL_HEIGHT - 1e-9:
            what = ax.get_title() or ax.get_ylabel() or f"axes {fig.axes.index(ax)}"
            problems.append(f"panel {what!r} is {height:.2f} in high < {PANEL_HEIGHT:g} in")
    return problems


def short_panel(*axes) -> None:
    """Exempt these panels from PANEL_HEIGHT: rows of a stack that each show one line on a
    fixed 0-1 range (one row per input of a trial)."""
    for ax in axes:
        setattr(ax, SHORT, True)


@styled
def plot_kappa_transform(kappas=(-0.2, 0.0, 0.2)) -> plt.Figure:
    """f(d) against d for a few kappa, with the scale factors written on the lines."""
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    d = torch.linspace(-1, 1, 201)
    for k in kappas:
        ax.plot(d, kappa_transform(d, k), label=f"kappa={k:+.1f}: "
                f"d>0 x{1 - k:.1f}, d<0 x{1 + k:.1f}")
    ax.axhline(0, color="0.8", lw=0.8)
    ax.axvline(0, color="0.8", lw=0.8)
    ax.set(xlabel="advantage d", ylabel="f(d)", title="kappa transform")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


@styled
def plot_trial(settings: TaskSettings | None = None, left: int = 7, right: int = 17
               ) -> plt.Figure:
    """The inputs of one noiseless trial over time: one row per input, epochs shaded.

    Each row has its own zero line and a marker at the input's onset, so an input that starts
    with the stimulus epoch is not mistaken for one present from step 0.
    """
    settings = settings or TaskSettings()
    options = torch.tensor([[[left, right]]])
    x = tasks.build_inputs(settings, options, torch.zeros(settings.steps, 1, 1, tasks.N_INPUTS),
                           torch.zeros(1))[:, 0, 0].numpy()                  # (time, inputs)
    t = np.arange(settings.steps)
    f, s = settings.fixation_steps, settings.stimulus_steps
    epochs = ((0, f, "fixation", "0.93"), (f, f + s, "stimulus", "0.85"),
              (f + s, settings.steps, "decision", "0.97"))
    fig, axes = plt.subplots(len(tasks.INPUTS), 1, figsize=(7.2, 5.2), sharex=True)
    short_panel(*axes)   # one 0-1 line per row: a stack read as one panel
    for i, (ax, name) in enumerate(zip(axes, tasks.INPUTS, strict=True)):
        for start, stop, _, color in epochs:
            ax.axvspan(start - 0.5, stop - 0.5, color=color, zorder=-1, lw=0)
        ax.axhline(0, color="0.6", lw=0.8)
        ax.step(t, x[:, i], where="mid", color=f"C{i}", lw=2)
        on = np.nonzero(x[:, i] != 0)[0]
        if len(on):
            ax.plot(on[0], x[on[0], i], "o", color=f"C{i}", ms=4)
        ax.set_ylim(-0.15, 1.15)
        ax.set_yticks([0, 1])
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
    for start, stop, label, _ in epochs:
        axes[0].text((start + stop - 1) / 2, 1.3, label, ha="center", va="bottom")
    axes[-1].set(xlabel="time step", xlim=(-0.5, settings.steps - 0.5))
    fig.suptitle(f"one trial (input value by row): left p={tasks.OPTION_P[left]:.1f}, "
                 f"m={tasks.OPTION_MAGNITUDE[left]:.2f}; right p={tasks.OPTION_P[right]:.1f}, "
                 f"m={tasks.OPTION_MAGNITUDE[right]:.2f}")
    fig.subplots_adjust(left=0.24, right=0.97, top=0.86, bottom=0.1, hspace=0.3)
    return fig


@styled
def plot_option_grid() -> plt.Figure:
    """The 5 x 5 options: magnitude in each cell; each column has one expected value."""
    m = tasks.OPTION_MAGNITUDE.reshape(5, 5)
    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    im = ax.imshow(np.log(m), cmap="viridis", origin="lower")
    light = np.log(m) > np.log(m).min() + 0.65 * np.ptp(np.log(m))   # yellow-green cells
    for i in range(5):
        for j in range(5):
            ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center",
                    color="k" if light[i, j] else "w")
    ax.set_xticks(range(5), [f"{v:.2f}" for v in tasks.EXPECTED_VALUES])
    ax.set_yticks(range(5), [f"{v:.1f}" for v in tasks.PROBABILITIES])
    ax.set(xlabel="expected value (one per column)", ylabel="probability p",
           title="magnitude m = EV / p")
    fig.colorbar(im, ax=ax, label="log m")
    fig.tight_layout()
    return fig


@styled
def plot_curves(updates: np.ndarray, histories: dict[str, np.ndarray],
                names=("reward", "abort_rate", "higher_ev_rate", "entropy"),
                labels: list[str] | None = None, smooth: int = 1,
                title: str = "") -> plt.Figure:
    """Learning curves: histories[name] is (runs, points) or (points,); one line per run.
    One panel per name, at most three to a row (four make two rows of two)."""
    cols = 2 if len(names) == 4 else min(len(names), 3)
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 3.0 * rows + 0.4 * bool(title)),
                             squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, names, strict=False):
        y = np.atleast_2d(histories[name])
        for i, row in enumerate(y):
            ax.plot(updates, _smooth(row, smooth), lw=1.2,
                    label=None if labels is None else labels[i])
        ax.set(xlabel="update", ylabel=CURVES.get(name, name))
        if name in ("abort_rate", "higher_ev_rate", "risky_rate", "dead_fraction"):
            ax.set_ylim(-0.03, 1.03)
        if name == "entropy":
            ax.axhline(np.log(3), color="0.7", ls=":", lw=1)
    if labels is not None:
        axes.flat[len(names) - 1].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# --- notebook 00b: does kappa move risk preference? -------------------------------------------
def pooled_choice_table(grid: SweepData, kappa: float, entropy_coef: float):
    """analysis.choice_table of the last batches of all seeds at one (kappa, entropy_coef)."""
    key = (id(grid), float(kappa), float(entropy_coef))
    if key not in _TABLES:
        idx = grid.select(kappa=kappa, entropy_coef=entropy_coef)
        opts = grid.arrays["trials/options"][idx].reshape(-1, 2).astype(int)
        choice = grid.arrays["trials/choice"][idx].reshape(-1).astype(int)
        _TABLES[key] = analysis.choice_table(opts, choice)
    return _TABLES[key]


_TABLES: dict = {}


class KappaDemoFigure:
    """Left: lower-p choices on equal-EV pairs against kappa (each seed a dot, the selected
    kappa in red). Right: P(choose left) at the selected kappa by the log p and log EV
    differences between left and right (all seeds' last batches pooled), with a colour bar.

    Drawn once, then updated in place: a slider move changes only the dots, the mean line,
    the titles and the heatmap, which are the figure's pyrl_dynamic_artists (widgets.Demo
    blits them over the rest). fig = KappaDemoFigure(grid)(kappa=-0.2, entropy_coef=0.0).
    """

    def __init__(self, grid: SweepData):
        self.grid = grid
        self.fig: plt.Figure | None = None

    @styled
    def _draw(self, kappa: float, entropy_coef: float) -> plt.Figure:
        kappas, risky = analysis.risk_preference(self.grid, entropy_coef)
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.4, 3.9))
        dynamic = []
        for j in range(risky.shape[1]):
            dynamic += ax1.plot(kappas, risky[:, j], "o", color="0.6", ms=4,
                                label="one seed" if j == 0 else None)
        dynamic += ax1.plot(kappas, np.nanmean(risky, axis=1), "-", color="k", lw=1.5,
                            label="mean")
        dynamic += ax1.plot(kappas[:1], risky[:1, 0], "o", color="C3", ms=7,
                            label="selected kappa")
        ax1.axhline(0.5, color="0.8", ls=":")
        ax1.set(xlabel="kappa (< 0 risk-seeking)", ylabel="lower-p choices (equal EV)",
                ylim=(-0.03, 1.03), xlim=(kappas[0] - 0.05, kappas[-1] + 0.05))
        ax1.legend(loc="upper right")
        # one cell per value of each difference (the values are not evenly spaced)
        xs, ys, table, _ = pooled_choice_table(self.grid, kappa, entropy_coef)
        im = ax2.imshow(table.T, origin="lower", cmap="coolwarm", vmin=0, vmax=1,
                        aspect="auto")
        # about five ticks an axis, always one at 0: its row is the equal-EV pairs the text
        # asks about (a reader found no 0 among the ticks)
        for axis, values in ((ax2.xaxis, xs), (ax2.yaxis, ys)):
            every, zero = max(1, len(values) // 5), int(np.argmin(np.abs(values)))
            ticks = range(zero % every, len(values), every)
            axis.set_ticks(ticks, [f"{values[i]:.1f}" if i != zero else "0" for i in ticks])
        ax2.set(xlabel="log p_left - log p_right", ylabel="log EV_left - log EV_right")
        fig.colorbar(im, ax=ax2, label="P(choose left); white: no such trial")
        ax1.set_title(" ")
        ax2.set_title(" ")
        dynamic += [im, ax1.title, ax2.title]
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic
        fig.subplots_adjust(wspace=0.4, left=0.08, right=0.96, bottom=0.14, top=0.91)
        return fig

    def __call__(self, kappa: float, entropy_coef: float = 0.0) -> plt.Figure:
        if self.fig is None:
            self.fig = self._draw(kappa, entropy_coef)
        kappas, risky = analysis.risk_preference(self.grid, entropy_coef)
        ax1, ax2 = self.fig.axes[:2]
        seeds, mean, marked = ax1.lines[:risky.shape[1]], ax1.lines[risky.shape[1]], \
            ax1.lines[risky.shape[1] + 1]
        for j, line in enumerate(seeds):
            line.set_ydata(risky[:, j])
        mean.set_ydata(np.nanmean(risky, axis=1))
        sel = int(np.argmin(np.abs(kappas - kappa)))
        marked.set_data([kappas[sel]] * risky.shape[1], risky[sel])
        ax1.title.set_text(f"entropy_coef={entropy_coef:g}")
        ax2.title.set_text(f"kappa={kappa:+.2f}")
        ax2.images[0].set_data(pooled_choice_table(self.grid, kappa, entropy_coef)[2].T)
        return self.fig


MODE_COLOURS = {"converged": "#1b9e77", "learning": "#a6d854", "never_chooses": "#7570b3",
                "always_aborts": "#d95f02", "one_side": "#e7298a", "stopped": "0.6"}


@styled
def plot_mode_frequencies(groups: dict[str, np.ndarray], title: str = "",
                          xlabel: str = "") -> plt.Figure:
    """Behaviour modes of independent runs per group, as stacked shares, with the trapped
    (trapped) fraction's 95 % Wilson interval on top. groups: label -> mode indices (into
    analysis.MODES; -1 = stopped), one per run (seed)."""
    labels = list(groups)
    # trapped modes at the bottom, so the interval marker sits at the top of their stack
    names = list(analysis.TRAPPED_MODES) + ["learning", "converged", "stopped"]
    # about an inch per group: two lines of tick label at 10 pt; the key takes three inches
    fig, ax = plt.subplots(figsize=(min(MAX_WIDTH, 1.1 * len(labels) + 3.0), 4.2))
    x = np.arange(len(labels))
    bottom = np.zeros(len(labels))
    for name in names:
        code = -1 if name == "stopped" else analysis.MODES.index(name)
        share = np.array([np.mean(np.asarray(groups[g]) == code) for g in labels])
        if share.any():
            ax.bar(x, share, 0.6, bottom=bottom, color=MODE_COLOURS[name],
                   label=name.replace("_", " "))
        bottom += share
    for i, g in enumerate(labels):
        modes = np.asarray(groups[g])
        k, n = int(analysis.is_trapped(modes).sum()), len(modes)
        lo, hi = wilson(k, n)
        ax.errorbar(i + 0.38, k / n, yerr=[[k / n - lo], [hi - k / n]], fmt="k_", ms=8,
                    capsize=3, lw=1.2)
        ax.text(i, 1.03, f"{k} of {n}\ntrapped", ha="center", va="bottom")
    ax.set_xticks(x, labels)
    ax.set(ylim=(0, 1.2), ylabel="fraction of runs", xlabel=xlabel, title=title)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1])
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False,
              title="mode (black: trapped\nfraction, 95 % interval)")
    fig.tight_layout()
    return fig


@styled
def plot_trapped_fraction(series: dict[str, dict[float, np.ndarray]], xlabel: str = "",
                          title: str = "", log_x: bool = True) -> plt.Figure:
    """The fraction of trapped runs against a setting, one line per series, each point with
    its 95 % Wilson interval and its count beside it: k, with n in the key when every point
    has the same n (short enough not to run into the next series' point at 10 pt), else k/n.

    series: label -> {x value: trapped flags, one per independent run (seed)}. Series are
    nudged apart along x so their intervals do not overlap: by a few per cent on a log axis
    (counts beside each point, alternately left and right); on a linear one, by about a
    quarter of the gap between x values from one series to the next (counts to the right)."""
    fig, ax = plt.subplots(figsize=(7.6, 4.0))
    labels = list(series)
    sizes = {len(flags) for s in series.values() for flags in s.values()}
    xs_all = sorted({x for s in series.values() for x in s})
    gap = float(np.min(np.diff(xs_all))) if len(xs_all) > 1 else 1.0
    for j, label in enumerate(labels):
        xs = sorted(series[label])
        nudge = (j - (len(labels) - 1) / 2) * 0.06
        xp = np.array(xs) * 10 ** nudge if log_x else np.array(xs) + nudge * 4 * gap
        right = j % 2 or not log_x
        k = np.array([int(np.sum(series[label][x])) for x in xs])
        n = np.array([len(series[label][x]) for x in xs])
        lo, hi = np.array([wilson(int(a), int(b)) for a, b in zip(k, n, strict=True)]).T
        rate = k / n
        colour = f"C{j}"
        # points without connecting lines, so the k/n labels beside them cross nothing
        ax.errorbar(xp, rate, yerr=[rate - lo, hi - rate], fmt="o", color=colour, capsize=3,
                    lw=1.5, label=label)
        for x, r, a, b in zip(xp, rate, k, n, strict=True):
            ax.annotate(f"{a}" if len(sizes) == 1 else f"{a}/{b}", (x, r),
                        textcoords="offset points",
                        xytext=(7 if right else -7, 0), ha="left" if right else "right",
                        va="center", color=colour)
    if log_x:
        ax.set_xscale("log")
        ax.minorticks_off()
    ax.set_xticks(xs_all, [f"{x:g}" for x in xs_all])
    lo_x, hi_x = min(xs_all), max(xs_all)
    ax.set_xlim((lo_x / 2, hi_x * 2) if log_x else (lo_x - gap / 2, hi_x + gap / 2))
    ax.set(ylim=(-0.02, 1.02), xlabel=xlabel, ylabel="fraction of runs trapped", title=title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
              title="95 % Wilson intervals;\nbeside each point: k "
              + (f"of {min(sizes)} runs" if len(sizes) == 1 else "of n runs (k/n)"))
    fig.tight_layout()
    return fig


# --- every run of a frequency dataset: which end trapped ----------------------------------------
@styled
def plot_trapped_runs(runs, title: str = "") -> Figure:
    """Policy entropy (log scale) and reward over training of every run of `runs` (a
    SweepData with a kappa grid, e.g. collapse_kappa), the runs that end trapped in red, with
    the count per kappa in the key. The README's picture and notebook 00b's Bonus A."""
    x, trapped = runs.update_axis(), runs.trapped
    kappa = runs.arrays["grid/kappa"]
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.4), dpi=DPI, layout="constrained")
    for ax, name, label in zip(axes, ("entropy", "reward"), ("policy entropy (nats, log)",
                                                            "mean reward per trial"), strict=True):
        y = runs.h(name)
        for i in sorted(range(len(y)), key=lambda i: trapped[i]):  # red on top
            ax.plot(x, y[i], lw=1.0 if trapped[i] else 0.7, alpha=0.6 if trapped[i] else 0.3,
                    color="#c62828" if trapped[i] else "#5c7c99")
        ax.set_xlabel("update")
        ax.set_ylabel(label)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_yscale("log")
    # from the data: a decade under the lowest entropy any run reaches, so nothing is clipped
    entropy = runs.h("entropy")
    axes[0].set_ylim(np.nanmin(entropy[entropy > 0]) / 10, 3)
    per_kappa = ", ".join(f"{int(trapped[kappa == k].sum())} of {int((kappa == k).sum())} at "
                          f"kappa {k:+g}" for k in sorted(set(kappa.tolist())))
    key = [Line2D([], [], color="#5c7c99", lw=1.2, label="learning or converged"),
           Line2D([], [], color="#c62828", lw=1.2,
                  label=f"trapped (always aborts, never chooses or one side): {per_kappa}")]
    fig.legend(handles=key, loc="outside lower center", ncol=1, frameon=False)
    fig.suptitle(title or f"{len(trapped)} runs: {int(trapped.sum())} end trapped (red)")
    return fig


# --- the explorer: a catalogue's curves, choices and collapses at chosen settings ------------
# Fixed y ranges (and x: the longest runs): runs stay comparable from one move to the next,
# and the axes need not be redrawn (see widgets.Demo's blitting). EXPLORER_YLIM is the least
# range shown, widened when the figure is built to every stored run of the catalogue (a zero
# gradient norm is drawn at 1e-12): tests/test_explorer_catalogue.py checks that no stored
# run falls outside the limits.
EXPLORER_CURVES = (("reward", "reward / trial"), ("entropy", "entropy (nats)"),
                   ("dead_fraction", "dead-unit fraction"),
                   ("grad_norm", "log10 gradient norm"))
EXPLORER_YLIM = {"reward": (-0.6, 0.95), "entropy": (-0.03, 1.15),
                 "dead_fraction": (-0.02, 0.8), "grad_norm": (-12.5, 8.0)}


class ExplorerFigure:
    """Seven panels drawn once and updated in place when a control moves: four learning
    curves (one line per seed of the selected cell, a key naming the seeds drawn), the
    lower-p choice rate by kappa, the selected runs' choices, and the trapped runs by kappa
    as k of n with 95 % intervals (a dot at k/n, so 0 of n shows too).

    cat is a data.Catalogue; fig = ExplorerFigure(cat)(kappa, entropy_coef, network,
    wout_std, lr)."""

    # a cell's seeds in order (red, C3, marks the selected kappa); a cell with more seeds than
    # colours reuses them, and its key then names the count instead of each seed
    SEED_COLOURS = ("C0", "C1", "C2", "C4", "C5", "C6")

    def __init__(self, cat):
        self.cat = cat
        self.fig = None
        # the most runs any cell holds: one line each
        cells = zip(cat.network.tolist(), cat.wout_std.tolist(), cat.lr.tolist(),
                    cat.kappa.tolist(), cat.entropy_coef.tolist(), cat.source.tolist(),
                    strict=True)
        self.pool = max(Counter(cells).values())

    @styled
    def _build(self):
        # a Figure with its own Agg canvas, outside pyplot: closing it in pyplot would swap in
        # a bare canvas, and each savefig would then build a new renderer
        fig = demo_figure((9.8, 10.6))
        gs = fig.add_gridspec(3, 3, hspace=0.5, wspace=0.45, left=0.085, right=0.92,
                              top=0.9, bottom=0.06)
        curve_axes = [fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[0, 1]),
                      fig.add_subplot(gs[0, 2]), fig.add_subplot(gs[1, 0])]
        risky_ax, heat_ax = fig.add_subplot(gs[1, 1]), fig.add_subplot(gs[1, 2])
        bar_ax = fig.add_subplot(gs[2, :2])
        self.fig = fig
        self.axes = curve_axes + [bar_ax, risky_ax, heat_ax]
        for ax in self.axes:  # fewer tick labels: text is most of a redraw's cost
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.yaxis.set_major_locator(MaxNLocator(4))
        colours = [self.SEED_COLOURS[j % len(self.SEED_COLOURS)] for j in range(self.pool)]
        self.curve_lines, self.curve_notes = [], []
        for ax, (key, title) in zip(curve_axes, EXPLORER_CURVES, strict=True):
            self.curve_lines.append([ax.plot([], [], lw=1.2, color=c)[0] for c in colours])
            self.curve_notes.append(ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center",
                                            va="center", color="0.4"))
            ax.set_title(title)
            ax.set_xlabel("update")
            ax.set_ylim(*self._ylim(key))
            # one x range for every data set (the longest runs): a move never changes a limit,
            # so every move, a network switch included, only redraws the changing artists
            ax.set_xlim(0, 1.02 * max(d.update_axis()[-1] for d in self.cat.datasets.values()))
        # the key names the seeds drawn, and only those (set on each move)
        key_size = min(self.pool, len(self.SEED_COLOURS))
        self.seed_key = fig.legend([Line2D([], [], color=c, lw=2) for c in colours[:key_size]],
                                   [" "] * key_size, loc="upper center", ncol=key_size,
                                   frameon=False, bbox_to_anchor=(0.5, 1.0),
                                   title="learning curves: one line per seed of the selected "
                                   "cell")

        kappas = np.array(self.cat.values("kappa"))
        self.kappas = kappas
        ax = bar_ax
        self.bars = ax.bar(kappas, np.zeros(len(kappas)), width=0.12, color="0.6")
        self.intervals = LineCollection([], colors="k", linewidths=1.5)
        ax.add_collection(self.intervals)
        self.rates = ax.plot([], [], "o", color="k", ms=5)[0]
        self.bar_labels = [ax.text(k, 1.06, "", ha="center", va="bottom") for k in kappas]
        ax.set_ylim(-0.06, 1.3)
        ax.set_yticks([0, 0.5, 1])
        ax.set_xlim(kappas[0] - 0.12, kappas[-1] + 0.12)
        ax.set_xticks(kappas)
        ax.set_xlabel("kappa")
        ax.set_ylabel("trapped fraction")
        ax.set_title("trapped runs by kappa, k of n (the other settings as selected)")
        ax.legend([Patch(color="C3"), Patch(color="0.6"),
                   Line2D([], [], color="k", marker="o", ms=5, lw=1.5)],
                  ["selected kappa", "other kappa", "k/n, 95 % interval"],
                  loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
        ax = risky_ax
        self.risky_dots = ax.plot([], [], "o", color="0.5", ms=4)[0]
        self.risky_sel = ax.plot([], [], "o", color="C3", ms=7)[0]
        ax.axhline(0.5, color="0.8", ls=":")
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlim(-0.5, 0.5)
        ax.set_xlabel("kappa")
        ax.set_ylabel("lower-p choice rate")
        ax.set_title("equal-EV pairs")
        ax.legend([Line2D([], [], marker="o", ls="", color="0.5"),
                   Line2D([], [], marker="o", ls="", color="C3")],
                  ["a run", "selected kappa"], loc="lower left",
                  frameon=False, handletextpad=0.2)
        ax = heat_ax
        self.heat = ax.imshow(np.full((9, 9), np.nan), origin="lower", cmap="coolwarm",
                              vmin=0, vmax=1, aspect="auto", extent=(-2.2, 2.2, -0.92, 0.92))
        ax.set_xlabel("log p_L - log p_R")
        ax.set_ylabel("log EV_L - log EV_R", labelpad=1)
        ax.set_title("choices, selected runs")
        bar = fig.colorbar(self.heat, ax=ax, fraction=0.08, pad=0.04)
        bar.set_label("P(choose left)")
        # what a move changes; Demo draws the rest once (a move is then ~3x faster)
        dynamic = [line for lines in self.curve_lines for line in lines]
        dynamic += self.curve_notes + [self.seed_key]
        dynamic += list(self.bars) + [self.intervals, self.rates] + self.bar_labels
        dynamic += [self.risky_dots, self.risky_sel, self.heat]
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic

    def _ylim(self, key: str) -> tuple[float, float]:
        """EXPLORER_YLIM[key], widened to hold every stored run of the catalogue (a rebuilt
        data set may reach further), so no selection clips a curve."""
        ys = [np.log10(np.maximum(d.h(key), 1e-12)) if key == "grad_norm" else d.h(key)
              for d in self.cat.datasets.values() if "h/" + key in d.arrays]
        return data_limits(ys, *EXPLORER_YLIM[key], pad=0.02) if ys else EXPLORER_YLIM[key]

    def _by_kappa(self, network, wout_std, lr, entropy_coef) -> list:
        """(dataset or None, rows) at each kappa of the bars, the other settings fixed."""
        return [self.cat.match(network, wout_std, lr, k, entropy_coef) for k in self.kappas]

    def _key(self, seeds) -> None:
        """The seed key: one entry per seed drawn, or the count when there are more seeds
        than colours; no entry for a line not drawn."""
        handles, texts = self.seed_key.legend_handles, self.seed_key.get_texts()
        named = len(seeds) <= len(texts)
        for j, (handle, text) in enumerate(zip(handles, texts, strict=True)):
            shown = j < len(seeds) if named else j == 0
            handle.set_visible(shown)
            text.set_visible(shown)
            text.set_text(f"seed {int(seeds[j])}" if named and shown else
                          f"{len(seeds)} seeds, colours repeat" if shown else " ")

    def __call__(self, kappa, entropy_coef, network, wout_std, lr):
        if self.fig is None:
            self._build()
        cat = self.cat
        name, rows = cat.match(network, wout_std, lr, kappa, entropy_coef)
        d = cat.datasets.get(name) if name else None
        seeds = d.arrays["seed"][rows] if d is not None else []
        for (key, _), lines, note in zip(EXPLORER_CURVES, self.curve_lines, self.curve_notes,
                                         strict=True):
            recorded = d is not None and "h/" + key in d.arrays
            note.set_text("" if d is None or recorded else f"not recorded\nin {name}")
            for line in lines:
                line.set_data([], [])
            if recorded:
                for line, row in zip(lines, rows, strict=False):
                    y = d.h(key)[row]
                    if key == "grad_norm":  # a log axis costs a third of the redraw
                        y = np.log10(np.maximum(y, 1e-12))
                    line.set_data(d.update_axis(), y)
        self._key(seeds)
        by_kappa = self._by_kappa(network, wout_std, lr, entropy_coef)
        segments, points = [], []
        for bar, (src, hit), k, label in zip(self.bars, by_kappa, self.kappas, self.bar_labels,
                                             strict=True):
            trapped = cat.datasets[src].trapped[hit] if src else np.array([], dtype=bool)
            bar.set_height(trapped.mean() if len(trapped) else 0)
            bar.set_color("C3" if np.isclose(k, kappa) else "0.6")
            if len(trapped):
                lo, hi = wilson(int(trapped.sum()), len(trapped))
                segments.append([(k, lo), (k, hi)])
                points.append((k, trapped.mean()))
                label.set_text(f"{int(trapped.sum())} of {len(trapped)}")
            else:
                label.set_text("no runs")
        self.intervals.set_segments(segments)
        self.rates.set_data(*(np.array(points).T if points else ([], [])))
        # the lower-p choice rate of every run at each kappa (none where it was not recorded)
        risky = [cat.datasets[src].final("risky_rate")[hit]
                 if src and "final/risky_rate" in cat.datasets[src].arrays else np.array([])
                 for src, hit in by_kappa]
        xs = np.concatenate([np.full(len(r), k) for k, r in zip(self.kappas, risky,
                                                                 strict=True)])
        ys = np.concatenate(risky) if xs.size else np.array([])
        self.risky_dots.set_data(xs, ys)
        sel = risky[int(np.argmin(np.abs(self.kappas - kappa)))]
        self.risky_sel.set_data(np.full(len(sel), kappa), sel)
        if d is not None:
            opts = d.arrays["trials/options"][rows].reshape(-1, 2).astype(int)
            choice = d.arrays["trials/choice"][rows].reshape(-1).astype(int)
            _, _, table, _ = analysis.choice_table(opts, choice)
            self.heat.set_data(table.T)
        else:
            self.heat.set_data(np.full((9, 9), np.nan))
        return self.fig


# --- dead units: rasters of one batch, unit records over training, a live run's units --------
def _dead_units(states: dict[str, np.ndarray]) -> np.ndarray:
    """Dead flags (units,) of one batch: states["rates"] (time, trials, units) exactly 0 on
    every valid step (states["mask"] (time, trials))."""
    rates = torch.as_tensor(states["rates"], dtype=torch.float32)[:, None]
    mask = torch.as_tensor(states["mask"], dtype=torch.float32)[:, None]
    return diagnostics.dead_and_dormant(rates, mask)[0][0].numpy()


def _raster_image(states: dict[str, np.ndarray], first: int, trials: int,
                  order: np.ndarray) -> np.ndarray:
    """(units, trials x time) rates of `trials` trials from `first`, units in `order`; steps
    after a trial ended are NaN, so every trial takes the same width."""
    rates, mask = states["rates"], states["mask"].astype(bool)
    block = rates[:, first:first + trials][..., order].astype(float)   # (time, trials, units)
    block[~mask[:, first:first + trials]] = np.nan
    return block.transpose(2, 1, 0).reshape(len(order), -1)


class RasterFigure:
    """Rates of every unit (rows) over `trials` consecutive trials of one batch (each trial
    its full length, steps after it ended grey); exactly 0 is white. Dead units (0 on every
    valid step of the whole batch) are listed first and marked red.

    examples: label -> {"states": {"rates" (time, trials, units), "mask" (time, trials)}}, the
    networks one figure shows in turn (same units and steps; each network's rates divided by
    its own 99th percentile). Drawn once: a move replaces only the image and the red marks,
    the figure's pyrl_dynamic_artists (widgets.Demo blits them).
    fig = RasterFigure(examples)(network=label, first_trial=0)."""

    def __init__(self, examples: dict[str, dict], trials: int = 6):
        self.examples, self.trials = examples, trials
        self.fig: plt.Figure | None = None
        self.order, self.dead = {}, {}
        for name, ex in examples.items():
            self.dead[name] = _dead_units(ex["states"])
            self.order[name] = np.argsort(~self.dead[name], kind="stable")
        self.scale = {name: max(float(np.percentile(ex["states"]["rates"][
            ex["states"]["mask"].astype(bool)], 99)), 1e-6) for name, ex in examples.items()}

    @styled
    def _draw(self, network: str) -> plt.Figure:
        rates = self.examples[network]["states"]["rates"]
        steps, units = rates.shape[0], rates.shape[2]
        fig, ax = plt.subplots(figsize=(9.2, 4.4))
        # under vmin (exactly 0) is white; NaN (after the trial ended) is grey
        cmap = plt.get_cmap("viridis").with_extremes(under="white", bad="0.8")
        self.image = ax.imshow(np.zeros((units, self.trials * steps)), aspect="auto",
                               cmap=cmap, vmin=np.finfo(np.float32).tiny, vmax=1.0,
                               interpolation="nearest")
        for x in range(1, self.trials):
            ax.axvline(x * steps - 0.5, color="k", lw=1.5)
        self.marks = ax.plot([], [], "|", color="C3", ms=7, mew=3, clip_on=False)[0]
        ax.set(xlabel=f"time step ({self.trials} consecutive trials of {steps} steps, "
               "separated by black lines)", ylabel="unit (dead units first)",
               xlim=(-1.8, self.trials * steps - 0.5), ylim=(units - 0.5, -0.5), yticks=[])
        ax.set_xticks(np.arange(0, self.trials * steps, steps))
        ax.set_title(f"{self.trials} of one batch's {rates.shape[1]} trials; dead units marked red")
        fig.colorbar(self.image, ax=ax, pad=0.02, extend="max",
                     label="rate / network's 99th pct.")
        # the key sits below the axes, where it covers no data
        fig.legend(handles=[Line2D([], [], color="C3", marker="|", ls="", ms=8, mew=2,
                                   label="dead unit"),
                            Patch(facecolor="white", edgecolor="0.5", label="rate exactly 0"),
                            Patch(facecolor="0.8", label="after the trial ended")],
                   loc="lower center", ncol=3, frameon=False)
        fig.subplots_adjust(left=0.06, right=0.99, bottom=0.24, top=0.92)
        dynamic = [self.image, self.marks]  # text is slow to draw: it stays in the background
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic
        return fig

    def __call__(self, network: str, first_trial: int = 0) -> plt.Figure:
        if self.fig is None:
            self.fig = self._draw(network)
        st, dead = self.examples[network]["states"], self.dead[network]
        if st["rates"].shape[::2] != (self.image.get_array().shape[1] // self.trials,
                                     self.image.get_array().shape[0]):
            raise ValueError(f"{network}: its units or steps differ from the figure's")
        self.image.set_data(_raster_image(st, first_trial, self.trials, self.order[network])
                            / self.scale[network])
        n_dead = int(dead.sum())
        self.marks.set_data(np.full(n_dead, -1.2), np.arange(n_dead))
        return self.fig

    def summary(self, network: str, first_trial: int = 0) -> str:
        st, dead = self.examples[network]["states"], self.dead[network]
        return (f"{network}: {int(dead.sum())} of {len(dead)} units dead (red) in the batch of "
                f"{st['rates'].shape[1]} trials; trials {first_trial}-"
                f"{first_trial + self.trials - 1} shown")


def _units_panels(fig: Figure) -> tuple:
    """The three panels of a unit figure, one message each: (fractions of units dead and
    dormant, reward per trial, the unit record), the record below the two curves."""
    gs = fig.add_gridspec(2, 2, hspace=0.45, wspace=0.3, left=0.1, right=0.98, bottom=0.08,
                          top=0.82)
    return (fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[0, 1]), fig.add_subplot(gs[1, :]))


UNIT_KEY = [Line2D([], [], color="0.2", ls="-", label="dead"),
            Line2D([], [], color="0.2", ls="--", label="dormant")]
RECORD_KEY = [Patch(facecolor="black", label="unit dead"),
              Patch(facecolor="white", edgecolor="0.5", label="unit alive")]


class DeadUnitsFigure:
    """Top left: the fraction of units dead (solid) and dormant (dashed) over training; top
    right: reward per trial; one colour per seed (the chosen seed thicker). Below: which units
    of the chosen seed are dead at each record (black = dead), most-dead units on top, on the
    same update axis.

    networks: label -> SweepData of runs that record their units (arrays["unit_dead"]), on a
    kappa x entropy_coef grid with the same seeds in every cell. Drawn once, then updated in
    place: a move changes only the curves and the unit record, the figure's
    pyrl_dynamic_artists (widgets.Demo blits them). The y ranges cover every stored run, so
    no move changes an axes limit.
    fig = DeadUnitsFigure(networks)(network="GRU", kappa=0.0, entropy_coef=0.0, seed=0)."""

    def __init__(self, networks: dict[str, SweepData]):
        self.networks = networks
        self.fig: plt.Figure | None = None
        self.ylim = {name: data_limits([ds.h(name) for ds in networks.values()], 0.0)
                     for name in ("reward", "dead_fraction")}
        top = max(float(np.nanmax(ds.h(n))) for ds in networks.values()
                  for n in ("dead_fraction", "dormant_fraction"))
        self.ylim["dead_fraction"] = (-0.02, max(0.5, top + 0.05))

    @styled
    def _draw(self, ds: SweepData, idx: np.ndarray) -> plt.Figure:
        upd, rec = ds.update_axis(), ds.record_updates()
        fig = plt.figure(figsize=(9.2, 7.4))
        ax1, ax2, ax3 = _units_panels(fig)
        self.curves = []
        for j in range(len(idx)):
            self.curves.append([ax1.plot(upd, np.zeros_like(upd, dtype=float), color=f"C{j}",
                                         ls=ls, lw=1.0)[0] for ls in ("-", "--")]
                               + [ax2.plot(upd, np.zeros_like(upd, dtype=float),
                                           color=f"C{j}", lw=1.0)[0]])
        ax1.set(ylim=self.ylim["dead_fraction"], xlabel="update", ylabel="fraction of units",
                title="dead (solid) and dormant (dashed)")
        ax2.axhline(0, color="0.85", lw=0.8)
        ax2.set(ylim=self.ylim["reward"], xlabel="update", ylabel="reward / trial",
                title="reward")
        n_units = ds.arrays["unit_dead"].shape[2]
        self.image = ax3.imshow(np.zeros((n_units, len(rec))), aspect="auto", cmap="Greys",
                                vmin=0, vmax=1, interpolation="nearest",
                                extent=(rec[0], rec[-1] + rec[1], n_units, 0))
        ax3.set(yticks=[], xlabel="update", ylabel="unit\n(most often\ndead on top)",
                title="chosen seed: each unit over training (black: dead)")
        for ax in (ax1, ax2, ax3):
            ax.set_xticks([0, 300, 600] if rec[-1] + rec[1] <= 600 else [0, 500, 1000])
        seeds = [Line2D([], [], color=f"C{j}", label=f"seed {int(ds.arrays['seed'][i])}")
                 for j, i in enumerate(idx)]
        # one key above the panels, where it covers no data
        fig.legend(handles=seeds + UNIT_KEY + RECORD_KEY, loc="upper center",
                   ncol=-(-(len(seeds) + 4) // 2), frameon=False,
                   title="one colour per seed (the chosen seed thick)")
        dynamic = [line for trio in self.curves for line in trio] + [self.image]
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic
        return fig

    def __call__(self, network: str, kappa: float, entropy_coef: float,
                 seed: int = 0) -> plt.Figure:
        ds = self.networks[network]
        idx = ds.by_seed(kappa=kappa, entropy_coef=entropy_coef)
        if self.fig is None:
            self.fig = self._draw(ds, idx)
        if ds.arrays["unit_dead"].shape[1:] != self.image.get_array().shape[::-1] or \
                len(idx) != len(self.curves):
            raise ValueError(f"{network}: the stored runs do not share the figure's shape")
        for trio, i in zip(self.curves, idx, strict=True):
            lw = 2.0 if int(ds.arrays["seed"][i]) == seed else 1.0
            for line, name in zip(trio, ("dead_fraction", "dormant_fraction", "reward"),
                                  strict=True):
                line.set_ydata(ds.h(name)[i])
                line.set_linewidth(lw)
        sel = [i for i in idx if int(ds.arrays["seed"][i]) == seed]
        i = sel[0] if sel else idx[0]
        ud = ds.arrays["unit_dead"][i]                       # (records, units)
        order = np.argsort(-ud.mean(0), kind="stable")
        self.image.set_data(ud[:, order].T)
        return self.fig


@styled
def plot_live_units(result: TrainResult) -> plt.Figure:
    """The fraction of units dead and dormant, reward per trial, and the unit record (black =
    dead at that update) over training, of one network trained with record_units=True."""
    h = result.history
    fig = plt.figure(figsize=(9.2, 7.4))
    ax1, ax2, ax3 = _units_panels(fig)
    u = np.arange(result.updates_done)
    ax1.plot(u, h["dead_fraction"][:, 0], color="C0")
    ax1.plot(u, h["dormant_fraction"][:, 0], color="C0", ls="--")
    ax1.set(xlabel="update", ylabel="fraction of units", title="dead (solid) and dormant "
            "(dashed)", ylim=(-0.02, max(0.5, float(np.nanmax(h["dormant_fraction"])) + 0.05)))
    ax2.plot(u, h["reward"][:, 0], color="C0")
    ax2.set(xlabel="update", ylabel="reward / trial", title="reward")
    ud = result.unit_dead[:, 0]                              # (updates, units)
    order = np.argsort(-ud.mean(0), kind="stable")
    ax3.imshow(ud[:, order].T, aspect="auto", cmap="Greys", vmin=0, vmax=1,
               interpolation="nearest")
    died, came_back = analysis.revived_units(ud[None])
    ax3.set(xlabel="update", ylabel="unit\n(most often\ndead on top)", yticks=[],
            title=f"{int(came_back.sum())} of {int(died.sum())} dead units came back")
    fig.legend(handles=UNIT_KEY + RECORD_KEY, loc="upper center", ncol=4, frameon=False)
    return fig


# --- the vanishing gradient: logit-gap bars, the bandit plateau, behaviour maps, trapped seeds --
GAP_NAMES = ("pi_lead", "log_pi_lead", "grad_lead_0", "grad_lead_1",
             "pi_other", "log_pi_other", "grad_other_0", "grad_other_1")
GAP_FLOOR = -3.0  # log pi(other) ~ -gap: a bar below this is drawn to it and labelled


class GapFigure:
    """Bars at one logit gap: pi, log pi and the gradient onehot(a) - pi of each sampled
    action, float32 next to float64. fig = GapFigure()(table, gap), with table[dtype][name]
    for dtype "float32" / "float64" and every name of GAP_NAMES (widgets.gap_table).

    A log pi(lead) or gradient component that is exactly 0 is marked with an x; a bar below
    GAP_FLOOR is cut there and its value written under it in the bar's colour (float64's a
    line lower, so the two never collide). Built once, fixed limits: a call changes only the
    bars, marks, labels and title (widgets.Demo blits them)."""

    @styled
    def __init__(self):
        fig = demo_figure((9.6, 4.0))
        ax = fig.subplots()
        x = np.arange(len(GAP_NAMES))
        labels = ("pi\n(lead)", "log pi\n(lead)", "grad[0]\nlead", "grad[1]\nlead",
                  "pi\n(other)", "log pi\n(other)", "grad[0]\nother", "grad[1]\nother")
        self.bars, self.marks, self.values = [], [], []
        for j, (dt, color) in enumerate((("float32", "C0"), ("float64", "C1"))):
            xs = x + (j - 0.5) * 0.38
            self.bars.append(ax.bar(xs, np.zeros(len(x)), width=0.38, color=color, label=dt))
            self.marks.append(ax.plot([], [], "x", color="k", ms=7)[0])
            self.values.append([ax.text(xi, GAP_FLOOR - 0.1 - 0.45 * j, "", ha="center",
                                        va="top", color=color) for xi in xs])
        ax.plot([], [], "x", color="k", ms=7, label="exactly 0")
        ax.axhline(0, color="0.4", lw=0.8)
        ax.set_xticks(x, labels)
        ax.set_yticks([-3, -2, -1, 0, 1])
        ax.set(ylim=(GAP_FLOOR - 1.15, 1.6), ylabel="value")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax.set_title(" ")
        fig.subplots_adjust(left=0.08, right=0.84, bottom=0.17, top=0.9)
        dynamic = [p for bars in self.bars for p in bars.patches] + self.marks + \
            [t for row in self.values for t in row] + [ax.title]
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic
        self.fig, self.ax, self.x = fig, ax, x

    def __call__(self, table: dict[str, dict[str, float]], gap: float) -> plt.Figure:
        for j, dt in enumerate(("float32", "float64")):
            vals = np.array([table[dt][n] for n in GAP_NAMES])
            for patch, v, label in zip(self.bars[j].patches, vals, self.values[j],
                                       strict=True):
                patch.set_height(max(v, GAP_FLOOR))
                label.set_text(f"{v:.3g}" if v < GAP_FLOOR else "")
            # log pi(lead) and the gradient components: a value that can round to exactly 0
            zero = (vals == 0) & np.isin(np.arange(len(GAP_NAMES)), [1, 2, 3, 6])
            self.marks[j].set_data(self.x[zero] + (j - 0.5) * 0.38, np.zeros(zero.sum()))
        self.ax.title.set_text(f"logit gap {gap:g}: a bar below -3 is cut, its value written "
                               "under it")
        return self.fig


class BanditFigure:
    """Exact policy gradient on two arms: pi_best(t) (left) and log10(1 - pi_best(t)) against
    log10 t (right), with the closed-form plateau (tau = 0, bandit.plateau_length_two_arm), the
    1 / (2 lr Delta t) tail and the entropy-regularised optimum softmax(r / tau).

    fig = BanditFigure(rewards, steps)(pi, p0, lr, entropy_coef) with pi the trajectory
    pi_best over steps, shape (steps + 1,) (bandit.exact_pg_trajectory). Linear axes of log
    values, fixed limits: built once, and a call changes only the curves, markers and title
    (widgets.Demo blits them)."""

    @styled
    def __init__(self, rewards=(1.0, 0.0), steps: int = 1000):
        self.rewards, self.steps = rewards, steps
        self.delta = rewards[0] - rewards[1]
        self.t = np.arange(steps + 1)
        fig = demo_figure((9.4, 4.2))
        a1, a2 = fig.subplots(1, 2)
        self.curve = a1.plot([], [], color="k", lw=1.5)[0]
        self.plateau = a1.axvline(0, color="C1", ls="--", lw=1)
        self.optimum = a1.axhline(1, color="C2", ls=":", lw=1)
        a1.set_xticks(np.linspace(0, steps, 5))
        a1.set_yticks([0, 0.5, 1])
        a1.set(xlabel="step", ylabel="pi(best arm)", ylim=(-0.02, 1.02),
               xlim=(-0.05 * steps, 1.05 * steps))
        lt = np.log10(self.t[1:])
        self.gap_curve = a2.plot([], [], color="k", lw=1.5)[0]
        self.tail = a2.plot([], [], ":", color="C1")[0]
        self.gap_optimum = a2.axhline(0, color="C2", ls=":", lw=1)
        a2.set_xticks([0, 1, 2, 3])
        a2.set_yticks([-4, -2, 0])
        a2.set(xlabel="log10 step", ylabel="log10 (1 - pi_best)", ylim=(-5, 0.2),
               xlim=(lt[0] - 0.05 * lt[-1], 1.05 * lt[-1]), title="distance from 1")
        a1.set_title(" ")
        fig.legend([Line2D([], [], color="k", lw=1.5), Line2D([], [], color="C1", ls="--"),
                    Line2D([], [], color="C1", ls=":"), Line2D([], [], color="C2", ls=":")],
                   ["exact policy gradient", "plateau's end (closed form, tau = 0)",
                    "1 / (2 lr D t)", "optimum of pi . r + tau H"],
                   loc="lower center", ncol=2, frameon=False)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.3, top=0.92, wspace=0.28)
        dynamic = [self.curve, self.plateau, self.optimum, self.gap_curve, self.tail,
                   self.gap_optimum, a1.title]
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic
        self.fig, self.axes = fig, (a1, a2)

    def __call__(self, pi: np.ndarray, p0: float, lr: float, entropy_coef: float
                 ) -> plt.Figure:
        from . import bandit

        t = self.t
        self.curve.set_data(t, pi)
        plateau = bandit.plateau_length_two_arm(p0, self.delta, lr) if p0 < 0.5 else 0.0
        self.plateau.set_xdata([plateau, plateau])
        self.plateau.set_visible(plateau <= self.steps)
        optimum = bandit.regularised_optimum(self.rewards, entropy_coef)[0]
        self.optimum.set_ydata([optimum, optimum])
        self.axes[0].title.set_text(f"p0={p0:g}, lr={lr:g}, tau={entropy_coef:g}")
        lt = np.log10(t[1:])
        self.gap_curve.set_data(lt, np.log10(np.maximum(1 - pi[1:], 1e-17)))
        self.tail.set_data(lt, np.log10(bandit.late_phase_gap(t[1:], self.delta, lr)))
        gap = np.log10(max(1 - optimum, 1e-17))
        self.gap_optimum.set_ydata([gap, gap])
        self.gap_optimum.set_visible(entropy_coef > 0)
        return self.fig


def mode_name(mode: int) -> str:
    """The behaviour word of a mode index (analysis.MODES; -1, a run that stopped: stopped)."""
    return analysis.MODES[int(mode)] if mode >= 0 else "stopped"


class ModeMapFigure:
    """Left: trapped seeds in each cell of a rows x cols map of settings at one update, the
    selected cell outlined. Right: the selected cell's runs, reward over updates, coloured by
    their behaviour at that update (dashed line).

    cells[r][c] = (sweep, rows): a SweepData and the rows of that cell's runs, ordered by seed
    (SweepData.by_seed), the same number in every cell; modes[r, c, s] is run s's behaviour
    over the 50 updates before `update` (SweepData.modes_at). fig = ModeMapFigure(...)(r, c).
    Built once with fixed limits; a call moves the outline and the reward lines, which
    widgets.Demo blits."""

    @styled
    def __init__(self, cells, row_labels: list[str], col_labels: list[str], row_name: str,
                 col_name: str, update: int):
        self.cells, self.update = cells, update
        self.modes = np.array([[d.modes_at(update)[rows] for d, rows in row] for row in cells])
        frac = analysis.is_trapped(self.modes).mean(-1)
        fig = demo_figure((9.8, 3.8))
        a0, a1 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.1]})
        image = a0.imshow(frac, cmap="Reds", vmin=0, vmax=1, origin="lower", aspect="auto")
        fig.colorbar(image, ax=a0, label="trapped fraction", fraction=0.08, pad=0.03)
        n = self.modes.shape[-1]
        for r in range(frac.shape[0]):
            for c in range(frac.shape[1]):
                a0.text(c, r, f"{int(round(frac[r, c] * n))}/{n}", ha="center", va="center",
                        color="w" if frac[r, c] > 0.6 else "k")
        self.outline = a0.add_patch(plt.Rectangle((-0.5, -0.5), 1, 1, fill=False, lw=2.5,
                                                  color="k"))
        a0.set_xticks(range(len(col_labels)), col_labels)
        a0.set_yticks(range(len(row_labels)), row_labels)
        a0.set(xlabel=col_name, ylabel=row_name, title="trapped seeds")
        last = max(d.h("reward").shape[1] * d.stride for row in cells for d, _ in row)
        self.lines = [a1.plot([], [], lw=1.2)[0] for _ in range(n)]
        a1.axvline(update, color="0.6", ls="--", lw=0.8)
        a1.set_xticks([0, update // 2, update] + ([last] if last > update else []))
        a1.set_xlim(0, last)
        a1.set_yticks([-0.5, 0, 0.5, 1])
        a1.set(xlabel="update", ylabel="reward / trial", ylim=(-0.6, 1.0),
               title="the cell's seeds")
        a1.legend(handles=[Line2D([], [], color=MODE_COLOURS[m], lw=1.5,
                                  label=analysis.mode_word(m)) for m in analysis.MODES],
                  loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False,
                  title=f"behaviour at update\n{update} (dashed line)")
        left = 0.09 + 0.0095 * max(len(label) for label in row_labels)
        fig.subplots_adjust(left=left, right=0.81, bottom=0.15, top=0.9, wspace=0.6)
        for artist in [self.outline, *self.lines]:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = [self.outline, *self.lines]
        self.fig = fig

    def __call__(self, row: int, col: int) -> plt.Figure:
        self.outline.set_xy((col - 0.5, row - 0.5))
        d, rows = self.cells[row][col]
        for line, i, mode in zip(self.lines, rows, self.modes[row, col], strict=True):
            line.set_data(d.update_axis(), d.h("reward")[i])
            line.set_color(MODE_COLOURS[mode_name(mode)])
        return self.fig


@styled
def plot_trap_frequencies(groups: dict[str, np.ndarray], trap: np.ndarray,
                          settings, seeds, setting_name: str = "kappa") -> plt.Figure:
    """Left: trapped fraction of each group of independent runs (label -> bool per seed) with
    its 95 % Wilson interval; a label "x\\nfamily" is ticked x and coloured by its family.
    Right: a seeds x settings table of paired outcomes (trap: (seeds, settings) bool), seeds
    sorted by at how many settings they are trapped: a filled square is a trapped run."""
    # a row of the table per seed, each as tall as a line of text
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(9.8, max(4.4, 1.6 + 0.16 * len(trap))),
                                 gridspec_kw={"width_ratios": [1.3, 1]})
    colours = {}
    for x, (label, flags) in enumerate(groups.items()):
        k, n = int(np.sum(flags)), len(flags)
        lo, hi = wilson(k, n)
        family = label.split("\n")[-1]
        first = family not in colours
        colour = colours.setdefault(family, f"C{len(colours)}")
        a0.errorbar(x, k / n, yerr=[[k / n - lo], [hi - k / n]], fmt="o", color=colour,
                    capsize=4, lw=1.5, label=family if first else None)
        a0.text(x + 0.12, k / n, f"{k}/{n}", va="center")
    a0.set_xticks(range(len(groups)), [g.split("\n")[0] for g in groups])
    a0.set(ylim=(0, 1), xlim=(-0.5, len(groups) - 0.3), ylabel="fraction of runs trapped",
           title="trapped runs, 95 % interval")
    sizes = sorted({len(flags) for flags in groups.values()})
    a0.legend(loc="upper left", title=f"runs ({'/'.join(str(n) for n in sizes)} seeds each)")
    order = np.lexsort((np.arange(len(trap)), -trap.sum(axis=1)))
    for j in range(trap.shape[1]):
        t = trap[order, j]
        y = np.arange(len(order))
        a1.plot(np.full(t.sum(), j), y[t], "s", color="C3", ms=7)
        a1.plot(np.full((~t).sum(), j), y[~t], "s", mfc="none", color="0.6", ms=7)
    for y, i in enumerate(order):
        a1.text(len(settings) - 0.4, y, str(int(trap[i].sum())), va="center")
    a1.plot([], [], "s", color="C3", label="trapped")
    a1.plot([], [], "s", mfc="none", color="0.6", label="not trapped")
    a1.set_xticks(range(len(settings)), [f"{k:+.1f}" if k else "0" for k in settings])
    a1.set_yticks(range(len(order)), [str(s) for s in np.asarray(seeds)[order]])
    a1.set(xlim=(-0.5, len(settings) - 0.1), ylim=(len(order) - 0.5, -0.5),
           xlabel=setting_name, ylabel="seed (sorted)",
           title=f"each seed at each {setting_name} (right: at how many)")
    a1.legend(loc="center left", bbox_to_anchor=(1.06, 0.5), frameon=False)
    fig.tight_layout()
    return fig


# --- the entropy bonus: the bandit's fixed point, the kappa x entropy_coef grid, the fixes ---
ENTROPY_TARGET = 0.1   # the written analysis: "Mean entropy should stay > 0.1"


class BanditFixedPointFigure:
    """Entropy-regularised softmax PG on a bandit, one entropy_coef (= tau) at a time. Left:
    pi(best arm) over steps, exact gradient ascent (black) and sampled runs (grey), with the
    regularised optimum pi*(best) = softmax(r / tau)(best) dashed. Right: the final policy
    against pi*. runs: tau -> (exact (steps+1, K), sampled (steps+1, runs, K)), e.g.
    widgets.fixed_point_runs(). Drawn once, then updated in place for each tau."""

    def __init__(self, runs: dict, rewards=tasks.EXPECTED_VALUES):
        self.runs, self.rewards = runs, np.asarray(rewards)
        self.best = int(np.argmax(self.rewards))
        self.fig: Figure | None = None
        self._cache: dict[float, tuple] = {}

    def _data(self, tau: float) -> tuple:
        if tau not in self._cache:
            exact, sampled = self.runs[tau]
            every = max(1, exact.shape[0] // 250)  # ~250 points per line keep the redraw fast
            self._cache[tau] = (bandit.regularised_optimum(self.rewards, tau),
                                np.arange(exact.shape[0])[::every], sampled[::every, :, self.best],
                                exact[::every, self.best], exact[-1], sampled[-1].mean(0))
        return self._cache[tau]

    @styled
    def _build(self, tau: float) -> None:
        star, steps, samp, ex, last, mean = self._data(tau)
        x = np.arange(len(self.rewards))
        fig = demo_figure((9.6, 3.8))
        ax1, ax2 = fig.subplots(1, 2)
        self.sampled = ax1.plot(steps, samp, color="0.65", lw=0.8)
        (self.exact,) = ax1.plot(steps, ex, color="k", lw=1.6, label="exact gradient")
        self.star_line = ax1.axhline(star[self.best], color="C3", ls="--",
                                     label=f"pi*(best) = {star[self.best]:.3f}")
        ax1.set(xlabel="step", ylabel="pi(best arm)", ylim=(0, 1.02))
        self.title = ax1.set_title(f"tau = entropy_coef = {tau:g}")
        ax1.plot([], [], color="0.65", lw=0.8, label="sampled runs")
        self.legend = ax1.legend(loc="lower right")
        self.bars_exact = ax2.bar(x - 0.2, last, width=0.4, color="k", label="exact, last step")
        self.bars_sampled = ax2.bar(x + 0.2, mean, width=0.4, color="0.65",
                                    label="sampled, mean")
        (self.dots,) = ax2.plot(x, star, "o", color="C3", label="pi* = softmax(r/tau)")
        ax2.set_xticks(x, [f"{r:.2f}" for r in self.rewards])
        ax2.set(xlabel="arm (EV)", ylabel="probability", ylim=(0, 1.02), title="final policy")
        ax2.legend(loc="upper left")
        few_ticks(ax1)
        few_ticks(ax2, x=False)
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.91, wspace=0.25)
        self.fig = fig

    def __call__(self, entropy_coef: float) -> Figure:
        if self.fig is None:
            self._build(entropy_coef)
            return self.fig
        star, steps, samp, ex, last, mean = self._data(entropy_coef)
        for j, line in enumerate(self.sampled):
            line.set_data(steps, samp[:, j])
        self.exact.set_data(steps, ex)
        self.star_line.set_ydata([star[self.best]] * 2)
        self.star_line.set_label(f"pi*(best) = {star[self.best]:.3f}")
        self.legend.get_texts()[1].set_text(f"pi*(best) = {star[self.best]:.3f}")
        self.title.set_text(f"tau = entropy_coef = {entropy_coef:g}")
        for bars, heights in ((self.bars_exact, last), (self.bars_sampled, mean)):
            for bar, h in zip(bars, heights, strict=True):
                bar.set_height(h)
        self.dots.set_ydata(star)
        return self.fig


def _seed_label(grid: SweepData, i: int, j: int, n: int) -> str:
    """Legend label of the j-th of n seed lines: each seed when there are few, else one
    entry for all (20 entries would cover the panel)."""
    if n <= 5:
        return f"seed {grid.arrays['seed'][i]}"
    return f"{n} seeds" if j == 0 else "_nolegend_"


class EntropyGridFigure:
    """A kappa x entropy_coef sweep (grid settings kappa and entropy_coef, 0 among the
    coefficients), one (kappa, entropy_coef) cell at a time, entropy_coef 0 in grey: the
    seeds' reward and entropy over training; lower-p choices on equal-EV pairs against
    kappa; trapped runs per kappa. Drawn once, then updated in place: a move changes no
    axes limit, so widgets.Demo redraws only the changing artists."""

    def __init__(self, grid: SweepData):
        self.grid = grid
        self.kappas = np.array(grid.values("kappa"))
        self.coefs = np.array(grid.values("entropy_coef"))
        # (kappa, entropy_coef, seed)
        self.risky = grid.per_cell(grid.final("risky_rate"), "kappa", "entropy_coef")
        self.trapped = grid.per_cell(grid.trapped, "kappa", "entropy_coef")
        self.x = grid.update_axis()
        self.fig: Figure | None = None
        self._cells: dict[tuple, tuple] = {}

    def _data(self, kappa: float, entropy_coef: float) -> tuple:
        key = (kappa, entropy_coef)
        if key not in self._cells:
            base = self.grid.by_seed(kappa=kappa, entropy_coef=0.0)
            sel = self.grid.by_seed(kappa=kappa, entropy_coef=entropy_coef)
            c = int(np.argmin(np.abs(self.coefs - entropy_coef)))
            self._cells[key] = (base, sel, c)
        return self._cells[key]

    @styled
    def _build(self, kappa: float, entropy_coef: float) -> None:
        grid, x = self.grid, self.x
        base, sel, c = self._data(kappa, entropy_coef)
        fig = demo_figure((9.6, 7.4))
        axes = fig.subplots(2, 2, gridspec_kw={"hspace": 0.45, "wspace": 0.25}).ravel()
        self.base_lines, self.sel_lines = {}, {}
        for ax, name, title in ((axes[0], "reward", "reward / trial"),
                                (axes[1], "entropy", "policy entropy (nats); dotted: 0.1")):
            self.base_lines[name] = [ax.plot(x, grid.h(name)[i], color="0.75", lw=0.9)[0]
                                     for i in base]
            self.sel_lines[name] = [
                ax.plot(x, grid.h(name)[i], color=f"C{j}", lw=1.2,
                        label=_seed_label(grid, i, j, len(sel)))[0]
                for j, i in enumerate(sel)]
            ax.set(xlabel="update", title=title)
        axes[0].set_ylim(*data_limits(grid.h("reward")))
        axes[1].axhline(ENTROPY_TARGET, color="C3", ls=":", lw=1)
        axes[1].set_ylim(*data_limits(grid.h("entropy"), ENTROPY_TARGET))
        axes[0].plot([], [], color="0.75", lw=0.9, label="entropy_coef 0")
        # the key of both curve panels above them, where it covers no line
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", ncol=min(len(handles), 6),
                   frameon=False, title="one line per seed: the selected entropy_coef in "
                   "colour")
        ks, n_seeds = self.kappas, self.trapped.shape[2]
        c0 = list(self.coefs).index(0.0)
        self.risky_dots, self.risky_means = [], []
        for col, color, lab in ((c0, "0.6", "coef 0"), (c, "C3", f"coef {entropy_coef:g}")):
            r = self.risky[:, col]
            self.risky_dots.append(axes[2].plot(np.repeat(ks, r.shape[1]), r.ravel(), "o",
                                                color=color, ms=3)[0])
            self.risky_means.append(axes[2].plot(ks, np.nanmean(r, 1), "-", color=color,
                                                 label=lab)[0])
        self.kappa_lines = [axes[2].axvline(kappa, color="k", lw=0.6, label="selected kappa")]
        axes[2].axhline(0.5, color="0.85", ls=":")
        # limits from every entropy_coef's rates, so no slider position leaves the frame
        axes[2].set(xlabel="kappa", title="lower-p choices (equal EV)",
                    ylim=data_limits(self.risky))
        self.legends = [axes[2].legend(loc="upper right")]
        w = 0.35 * (ks[1] - ks[0]) if len(ks) > 1 else 0.1
        axes[3].bar(ks - w / 2, self.trapped[:, c0].sum(1), width=w, color="0.6",
                    label="coef 0")
        self.bars = axes[3].bar(ks + w / 2, self.trapped[:, c].sum(1), width=w,
                                color="C3", label=f"coef {entropy_coef:g}")
        # every count with its 95 % Wilson interval, in runs
        axes[3].add_collection(LineCollection(self._intervals(ks - w / 2, c0), colors="k",
                                              linewidths=1.2))
        self.intervals = LineCollection(self._intervals(ks + w / 2, c), colors="k",
                                        linewidths=1.2)
        axes[3].add_collection(self.intervals)
        # the counts as dots too: a count of 0 has no bar to see
        n_col = self.trapped.sum(2)                                       # (kappa, coef)
        axes[3].plot(ks - w / 2, n_col[:, c0], "o", color="k", ms=4)
        self.counts = axes[3].plot(ks + w / 2, n_col[:, c], "o", color="k", ms=4)[0]
        self.kappa_lines.append(axes[3].axvline(kappa, color="k", lw=0.6))
        axes[3].set(xlabel="kappa", title=f"trapped runs of {n_seeds} (95 % interval)",
                    ylim=(0, n_seeds * 1.05))
        self.legends.append(axes[3].legend(loc="upper right"))
        few_ticks(*axes)
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.08, top=0.88)
        # what a move changes (no axes limit does): Demo redraws only these
        dynamic = [line for lines in (*self.base_lines.values(), *self.sel_lines.values())
                   for line in lines]
        dynamic += [self.risky_dots[1], self.risky_means[1], *self.bars, self.intervals,
                    self.counts,
                    *self.kappa_lines, *self.legends]
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic
        self.fig = fig

    def _intervals(self, xs: np.ndarray, c: int) -> list:
        """The 95 % Wilson interval of the trapped count at each kappa (at xs), for
        entropy_coef column c, as line segments in runs."""
        n = self.trapped.shape[2]
        return [[(x, n * lo), (x, n * hi)] for x, k in zip(xs, self.trapped[:, c].sum(1),
                                                          strict=True)
                for lo, hi in [wilson(int(k), n)]]

    def __call__(self, kappa: float, entropy_coef: float) -> Figure:
        base, sel, c = self._data(kappa, entropy_coef)
        if self.fig is None or len(base) != len(self.base_lines["reward"]) \
                or len(sel) != len(self.sel_lines["reward"]):
            self._build(kappa, entropy_coef)  # first call (or another number of seeds)
            return self.fig
        grid = self.grid
        for name in ("reward", "entropy"):
            h = grid.h(name)
            for line, i in zip(self.base_lines[name], base, strict=True):
                line.set_ydata(h[i])
            for line, i in zip(self.sel_lines[name], sel, strict=True):
                line.set_ydata(h[i])
        r = self.risky[:, c]
        self.risky_dots[1].set_ydata(r.ravel())
        self.risky_means[1].set_ydata(np.nanmean(r, 1))
        self.risky_means[1].set_label(f"coef {entropy_coef:g}")
        for bar, n in zip(self.bars, self.trapped[:, c].sum(1), strict=True):
            bar.set_height(n)
        self.bars.set_label(f"coef {entropy_coef:g}")
        self.intervals.set_segments(self._intervals(self.counts.get_xdata(), c))
        self.counts.set_ydata(self.trapped[:, c].sum(1))
        for line in self.kappa_lines:
            line.set_xdata([kappa, kappa])
        for legend in self.legends:
            legend.get_texts()[1].set_text(f"coef {entropy_coef:g}")
        return self.fig


class FixCurvesFigure:
    """One fix's runs against its control's, over training: reward, entropy, abort rate and
    lower-p choices, the fix's seeds in colour, the control's ("none") in grey.

    by_setting: setting -> {fix: SweepData of that fix's runs} (control under "none"). One
    figure per setting (their runs differ in seeds and updates), drawn once with a pool of
    lines per panel and fixed limits, so a move redraws only the lines and the title
    (widgets.Demo's blitting)."""

    NAMES = ("reward", "entropy", "abort_rate", "risky_rate")
    YLIM = {"reward": (-1.05, 1.0), "entropy": (-0.03, 1.15), "abort_rate": (-0.03, 1.03),
            "risky_rate": (-0.03, 1.03)}

    def __init__(self, by_setting: dict[str, dict[str, SweepData]]):
        self.by_setting = by_setting
        self._shown: dict[tuple, tuple] = {}
        self._figures: dict[str, tuple] = {}
        for setting, runs in by_setting.items():
            pool = len(runs["none"].arrays["seed"]) + max(len(r.arrays["seed"])
                                                          for r in runs.values())
            x = runs["none"].update_axis()
            self._figures[setting] = self._build(pool, (x[0], x[-1]))
        self.fig = None

    def _data(self, setting: str, fix: str) -> tuple:
        """(x, [(color, width, ydata per name) per line]) for one (setting, fix)."""
        key = (setting, fix)
        if key not in self._shown:
            runs = self.by_setting[setting]
            shown = [("none", "0.7")] + ([(fix, None)] if fix in runs else [])
            lines = []
            for label, color in shown:
                h = [runs[label].h(name) for name in self.NAMES]
                for j in range(len(runs[label].arrays["seed"])):
                    lines.append((color or f"C{j}", 1.0 if color else 1.3,
                                  [panel[j] for panel in h]))
            self._shown[key] = (runs["none"].update_axis(), lines)
        return self._shown[key]

    @styled
    def _build(self, pool: int, xrange: tuple[float, float]) -> tuple:
        names = self.NAMES
        fig = demo_figure((9.6, 7.2))
        axes = list(fig.subplots(2, 2, gridspec_kw={"hspace": 0.45, "wspace": 0.25}).ravel())
        pad = 0.05 * (xrange[1] - xrange[0])
        for ax, name in zip(axes, names, strict=True):
            ax.set(xlabel="update", ylim=self.YLIM[name], xlim=(xrange[0] - pad, xrange[1] + pad),
                   title=CURVES[name] + ("; dotted: 0.1" if name == "entropy" else ""))
            if name == "entropy":
                ax.axhline(ENTROPY_TARGET, color="C3", ls=":", lw=1)
        few_ticks(*axes)
        lines = [[ax.plot([], [])[0] for _ in range(pool)] for ax in axes]
        title = fig.suptitle(" ")
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.08, top=0.88)
        dynamic = [line for panel in lines for line in panel] + [title]
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic
        return fig, axes, lines, title

    def __call__(self, setting: str, fix: str) -> Figure:
        self.fig, self.axes, self.lines, self.title = self._figures[setting]
        x, shown = self._data(setting, fix)
        for k, panel in enumerate(self.lines):
            for j, line in enumerate(panel):
                if j < len(shown):
                    color, lw, ys = shown[j]
                    line.set_data(x, ys[k])
                    line.set_color(color)
                    line.set_linewidth(lw)
                else:
                    line.set_data([], [])
        what = fix if fix in self.by_setting[setting] else f"{fix} (not run in this setting)"
        self.title.set_text(f"{setting}: {what}\n(colour, one line per seed) vs no fix (grey)")
        return self.fig


# --- the initial policy and the first updates against the W_out scale ------------------------
ENTROPY_EDGES = np.linspace(0, 1.12, 29)   # bins of the per-step entropy (ln 3 = 1.099)


def policy_stats(probs: torch.Tensor, hold_steps: int) -> dict:
    """What InitialPolicyFigure draws of a policy pi (T, B, A) over B trials: entropy_steps,
    H = -sum_a pi log pi per step and trial (T, B), and its mean entropy; max_prob, the mean
    of max_a pi; p_hold, per trial the chance to fixate on each of the first hold_steps steps,
    prod_t pi_t(FIXATE) (B,); mean_probs (T, A) over trials, low_probs and high_probs their
    10 and 90 % quantiles."""
    p = probs
    H = -(p * torch.log(p.clamp_min(1e-30))).sum(-1)                    # (T, B)
    p_hold = p[:hold_steps, :, tasks.FIXATE].prod(0)                     # (B,)
    return {"entropy": float(H.mean()), "entropy_steps": H.numpy(),
            "max_prob": float(p.amax(-1).mean()), "p_hold": p_hold.numpy(),
            "mean_probs": p.mean(1).numpy(), "low_probs": np.quantile(p.numpy(), 0.1, axis=1),
            "high_probs": np.quantile(p.numpy(), 0.9, axis=1)}


class InitialPolicyFigure:
    """Left: pi(a) per time step (mean over trials, 10-90 % band), the steps that must be
    FIXATE shaded. Right: the distribution of the per-step entropy H, ln 3 (uniform) marked.

    Drawn once, then updated in place: every axes limit is fixed, so a move redraws only the
    curves, bands, histogram and titles (blitted by widgets.Demo).
    fig = InitialPolicyFigure(hold_steps)(policy_stats(probs, hold_steps), title)."""

    def __init__(self, hold_steps: int):
        self.hold_steps = hold_steps
        self.fig: Figure | None = None

    @styled
    def _build(self, T: int) -> None:
        fig = demo_figure((9.2, 3.9))
        ax1, ax2 = fig.subplots(1, 2)
        self.fig, self.ax1, self.ax2 = fig, ax1, ax2
        t, zeros = np.arange(T), np.zeros(T)
        self.lines, self.bands = [], []
        for name in tasks.ACTIONS:
            self.lines.append(ax1.plot(t, zeros, lw=1.5, label=name)[0])
            self.bands.append(ax1.fill_between(t, zeros, zeros, alpha=0.2))
        ax1.axvspan(-0.5, self.hold_steps - 0.5, color="0.93", zorder=-1)
        ax1.text(self.hold_steps / 2, 1.02, "must fixate", ha="center")
        uniform = ax1.axhline(1 / 3, color="0.6", ls=":", lw=1)
        ax1.set(xlabel="time step", ylabel="pi(a)", ylim=(-0.02, 1.12),
                xlim=(-0.05 * (T - 1), 1.05 * (T - 1)))
        # below the panels, off the curves
        fig.legend(handles=self.lines, loc="lower center", ncol=3, frameon=False,
                   title="action (line: mean over trials; band: 10-90 %)")
        self.stairs = ax2.stairs(np.zeros(len(ENTROPY_EDGES) - 1), ENTROPY_EDGES, fill=True,
                                 color="C0")   # one artist: cheaper than hist's bars
        ln3 = ax2.axvline(np.log(3), color="k", ls="--", lw=1)
        ax2.text(np.log(3), 1.0, "ln 3", ha="center", va="bottom",
                 transform=ax2.get_xaxis_transform())
        ax2.set(xlabel="entropy H per step (nats)", ylabel="fraction of steps x trials",
                xlim=(ENTROPY_EDGES[0] - 0.056, ENTROPY_EDGES[-1] + 0.056), ylim=(-0.02, 1.02))
        for ax in (ax1, ax2):
            few_ticks(ax)
            ax.set_title(" ")     # a Text artist to update in place
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.3, top=0.9, wspace=0.3)
        # drawn in this order on every move: the reference lines over the data, as in a full
        # draw
        dynamic = [*self.bands, *self.lines, uniform, self.stairs, ln3, ax1.title, ax2.title]
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic

    def __call__(self, st: dict, title: str = "") -> Figure:
        T = st["mean_probs"].shape[0]
        if self.fig is None:
            self._build(T)
        t = np.arange(T)
        for a, (line, band) in enumerate(zip(self.lines, self.bands, strict=True)):
            line.set_ydata(st["mean_probs"][:, a])
            band.set_data(t, st["low_probs"][:, a], st["high_probs"][:, a])
        self.ax1.title.set_text(title)
        counts, _ = np.histogram(st["entropy_steps"].ravel(), bins=ENTROPY_EDGES)
        self.stairs.set_data(counts / max(counts.sum(), 1))
        self.ax2.title.set_text(f"mean H = {st['entropy']:.3f}")
        return self.fig


SWEEP_PANELS = ("reward", "entropy", "grad_norm")
GRAD_FLOOR = 1e-6   # exact zeros sit on the bottom edge
GRAD_TICKS = ((-6, "1e-6"), (-4, "1e-4"), (-2, "1e-2"), (0, "1"))


class WoutSweepFigure:
    """Reward, entropy and gradient norm of every seed at (wout_std, kappa, entropy_coef),
    each coloured by how the run ended (MODE_COLOURS; a stuck run sits at reward -0.5), and
    the fraction of stuck runs (analysis.is_stuck) against wout_std at this kappa and
    entropy_coef, as k of n with its 95 % Wilson interval. The gradient norm is drawn as log10
    on a linear axis (a log axis costs a third of a redraw), ticks labelled with the norm.

    sweeps: entropy_coef -> SweepData over wout_std x kappa x seeds, all on the same updates.
    A combination no sweep holds draws no lines and a bar labelled "n/c" (not computed).
    Drawn once, then updated in place (blitted by widgets.Demo)."""

    def __init__(self, sweeps: dict[float, SweepData]):
        self.sources = dict(sweeps)
        first = next(iter(self.sources.values()))
        self.u = first.update_axis()
        if any(not np.array_equal(d.update_axis(), self.u) for d in self.sources.values()):
            raise ValueError("every sweep of the W_out figure needs the same updates")
        self.stds = sorted({w for d in self.sources.values() for w in d.values("wout_std")})
        self.fig: Figure | None = None
        self.curves = {e: {name: np.log10(np.maximum(d.h(name), GRAD_FLOOR))
                           if name == "grad_norm" else np.asarray(d.h(name))
                           for name in SWEEP_PANELS} for e, d in self.sources.items()}
        self._idx: dict[tuple[float, float, float], np.ndarray] = {}
        self._counts: dict[tuple[float, float], list[tuple[int, int]]] = {}
        self.max_seeds = max(len(self.idx(w, k, e)) for w in self.stds
                             for e, d in self.sources.items() for k in d.values("kappa"))

    def idx(self, wout_std: float, kappa: float, entropy_coef: float = 0.0) -> np.ndarray:
        """Rows of the sweep at entropy_coef with this (wout_std, kappa); empty if none."""
        key = (wout_std, kappa, entropy_coef)
        if key not in self._idx:
            d = self.sources.get(entropy_coef)
            if d is None or wout_std not in d.values("wout_std") \
                    or kappa not in d.values("kappa"):
                self._idx[key] = np.zeros(0, dtype=int)
            else:
                self._idx[key] = d.select(wout_std=wout_std, kappa=kappa)
        return self._idx[key]

    def counts(self, kappa: float, entropy_coef: float = 0.0) -> list[tuple[int, int]]:
        """(stuck runs k, runs n) per std of self.stds ((0, 0) where not computed)."""
        key = (kappa, entropy_coef)
        if key not in self._counts:
            d = self.sources.get(entropy_coef)
            stuck = analysis.is_stuck(d.mode) if d is not None else None
            self._counts[key] = [(int(stuck[i].sum()), len(i))
                                 if len(i := self.idx(w, kappa, entropy_coef)) else (0, 0)
                                 for w in self.stds]
        return self._counts[key]

    @styled
    def _build(self) -> None:
        fig = demo_figure((9.4, 7.4))
        axes = fig.subplots(2, 2, gridspec_kw={"hspace": 0.45, "wspace": 0.25}).ravel()
        self.fig, self.axes = fig, axes
        self.lines = {}
        span = self.u[-1] - self.u[0]
        xlim = (self.u[0] - 0.05 * span, self.u[-1] + 0.05 * span)
        for ax, name in zip(axes, SWEEP_PANELS, strict=False):
            self.lines[name] = [ax.plot(self.u, np.zeros_like(self.u), lw=1.2)[0]
                                for _ in range(self.max_seeds)]
            ax.set(xlabel="update", title=CURVES.get(name, name), xlim=xlim)
            few_ticks(ax)
            if name == "grad_norm":
                ax.set_ylim(np.log10(5e-7), np.log10(30))
                ax.set_yticks([v for v, _ in GRAD_TICKS], [s for _, s in GRAD_TICKS])
            elif name == "entropy":
                ax.axhline(np.log(3), color="0.7", ls=":", lw=1)
                ax.set_ylim(-0.03, 1.15)
            else:
                ax.axhline(-0.5, color="0.7", ls=":", lw=1)
                ax.set_ylim(-0.6, 1.0)
        handles = [Line2D([], [], color=MODE_COLOURS[m], label=analysis.mode_word(m))
                   for m in analysis.MODES]
        fig.legend(handles=handles, loc="upper center", ncol=len(handles), frameon=False,
                   title="how the run ended (one line per seed)")
        self.note = axes[1].text(0.5, 0.5, "not computed:\nsee the line above", ha="center",
                                 va="center", transform=axes[1].transAxes, visible=False)
        ax = axes[-1]
        n = len(self.stds)
        self.bars = ax.bar(range(n), np.zeros(n), color="0.6")
        self.intervals = LineCollection([], colors="k", linewidths=1.5)
        ax.add_collection(self.intervals)
        self.points = ax.plot([], [], "o", color="k", ms=5)[0]   # k/n: 0 of n shows too
        self.bar_labels = [ax.text(x, 1.06, "", ha="center", va="bottom") for x in range(n)]
        ax.set_xticks(range(n), [f"{w:g}" for w in self.stds])
        ax.set(xlabel="wout_std", ylim=(-0.05, 1.25), xlim=(-0.6, n - 0.4),
               ylabel="fraction of runs", title="stuck at -0.5 at the end (95 % interval)")
        ax.set_yticks([0, 0.5, 1])
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.08, top=0.86)
        # what a move changes (the axes limits are fixed): Demo redraws only these
        dynamic = [line for lines in self.lines.values() for line in lines]
        dynamic += [self.note, *self.bars, self.intervals, self.points, *self.bar_labels]
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic

    def __call__(self, wout_std: float, kappa: float, entropy_coef: float = 0.0) -> Figure:
        if self.fig is None:
            self._build()
        idx = self.idx(wout_std, kappa, entropy_coef)
        d = self.sources.get(entropy_coef)
        for name in SWEEP_PANELS:
            for j, line in enumerate(self.lines[name]):
                if j < len(idx):
                    i = idx[j]
                    mode = analysis.MODES[d.mode[i]] if d.mode[i] >= 0 else "stopped"
                    line.set_data(self.u, self.curves[entropy_coef][name][i])
                    line.set_color(MODE_COLOURS[mode])
                    line.set_label(f"seed {d.arrays['seed'][i]}")
                    line.set_visible(True)
                else:
                    line.set_data([], [])
                    line.set_label("_unused")
                    line.set_visible(False)
        self.note.set_visible(len(idx) == 0)
        segments, points = [], []
        for x, (bar, label, w, (k, n)) in enumerate(zip(
                self.bars, self.bar_labels, self.stds, self.counts(kappa, entropy_coef),
                strict=True)):
            bar.set_height(k / n if n else 0.0)
            bar.set_color("C3" if w == wout_std else "0.6")
            label.set_text(f"{k}/{n}" if n else "n/c")
            if n:
                lo, hi = wilson(k, n)
                segments.append([(x, lo), (x, hi)])
                points.append((x, k / n))
        self.intervals.set_segments(segments)
        self.points.set_data(*(np.array(points).T if points else ([], [])))
        return self.fig
