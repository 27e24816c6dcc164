"""Plot functions: they read results and draw; they never train.

Each returns a matplotlib Figure, so a widget can show it and a test can read its data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from . import analysis, bandit, tasks
from .config import TaskSettings
from .risk import kappa_transform

if TYPE_CHECKING:
    from .sweep import SweepData

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


def plot_kappa_transform(kappas=(-0.2, 0.0, 0.2)) -> plt.Figure:
    """f(d) against d for a few kappa, with the scale factors written on the lines."""
    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    d = torch.linspace(-1, 1, 201)
    for k in kappas:
        ax.plot(d, kappa_transform(d, k), label=f"kappa={k:+.1f}: "
                f"d>0 x{1 - k:.1f}, d<0 x{1 + k:.1f}")
    ax.axhline(0, color="0.8", lw=0.8)
    ax.axvline(0, color="0.8", lw=0.8)
    ax.set(xlabel="advantage d", ylabel="f(d)", title="kappa transform")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


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
    fig, axes = plt.subplots(len(tasks.INPUTS), 1, figsize=(6.4, 4.6), sharex=True)
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
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    for start, stop, label, _ in epochs:
        axes[0].text((start + stop - 1) / 2, 1.3, label, ha="center", va="bottom", fontsize=9)
    axes[-1].set(xlabel="time step", xlim=(-0.5, settings.steps - 0.5))
    fig.suptitle(f"one trial (input value by row): left p={tasks.OPTION_P[left]:.1f}, "
                 f"m={tasks.OPTION_MAGNITUDE[left]:.2f}; right p={tasks.OPTION_P[right]:.1f}, "
                 f"m={tasks.OPTION_MAGNITUDE[right]:.2f}", fontsize=10)
    fig.subplots_adjust(left=0.24, right=0.97, top=0.86, bottom=0.11, hspace=0.25)
    return fig


def plot_option_grid() -> plt.Figure:
    """The 5 x 5 options: magnitude in each cell; each column has one expected value."""
    m = tasks.OPTION_MAGNITUDE.reshape(5, 5)
    fig, ax = plt.subplots(figsize=(4.8, 3.8))
    im = ax.imshow(np.log(m), cmap="viridis", origin="lower")
    for i in range(5):
        for j in range(5):
            ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", color="w", fontsize=8)
    ax.set_xticks(range(5), [f"{v:.2f}" for v in tasks.EXPECTED_VALUES])
    ax.set_yticks(range(5), [f"{v:.1f}" for v in tasks.PROBABILITIES])
    ax.set(xlabel="expected value (one per column)", ylabel="probability p",
           title="magnitude m = EV / p")
    fig.colorbar(im, ax=ax, label="log m")
    fig.tight_layout()
    return fig


def plot_curves(updates: np.ndarray, histories: dict[str, np.ndarray],
                names=("reward", "abort_rate", "higher_ev_rate", "entropy"),
                labels: list[str] | None = None, smooth: int = 1,
                title: str = "") -> plt.Figure:
    """Learning curves: histories[name] is (runs, points) or (points,); one line per run."""
    fig, axes = plt.subplots(1, len(names), figsize=(3.1 * len(names), 2.8), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
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
        axes[0][-1].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# --- notebook 00: does kappa move risk preference? --------------------------------------------
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

    def _draw(self, kappa: float, entropy_coef: float) -> plt.Figure:
        kappas, risky = analysis.risk_preference(self.grid, entropy_coef)
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7.8, 3.1))
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
        ax1.legend(fontsize=7, loc="upper right")
        # one cell per value of each difference (the values are not evenly spaced)
        xs, ys, table, _ = pooled_choice_table(self.grid, kappa, entropy_coef)
        im = ax2.imshow(table.T, origin="lower", cmap="coolwarm", vmin=0, vmax=1,
                        aspect="auto")
        every_x, every_y = max(1, len(xs) // 5), max(1, len(ys) // 5)
        ax2.set_xticks(range(0, len(xs), every_x), [f"{v:.1f}" for v in xs[::every_x]])
        ax2.set_yticks(range(0, len(ys), every_y), [f"{v:.1f}" for v in ys[::every_y]])
        ax2.set(xlabel="log p_left - log p_right", ylabel="log EV_left - log EV_right")
        fig.colorbar(im, ax=ax2, label="P(choose left); white: no such trial")
        ax1.set_title(" ", fontsize=10)
        ax2.set_title(" ", fontsize=10)
        dynamic += [im, ax1.title, ax2.title]
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic
        fig.subplots_adjust(wspace=0.38, left=0.08, right=0.97, bottom=0.16, top=0.88)
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
        ax1.set_title(f"entropy_coef={entropy_coef:g}", fontsize=10)
        ax2.set_title(f"kappa={kappa:+.2f}", fontsize=10)
        ax2.images[0].set_data(pooled_choice_table(self.grid, kappa, entropy_coef)[2].T)
        return self.fig


MODE_COLOURS = {"converged": "#1b9e77", "learning": "#a6d854", "never_chooses": "#7570b3",
                "always_aborts": "#d95f02", "one_side": "#e7298a", "stopped": "0.6"}


def plot_mode_frequencies(groups: dict[str, np.ndarray], title: str = "",
                          xlabel: str = "") -> plt.Figure:
    """Behaviour modes of independent runs per group, as stacked shares, with the collapsed
    (trapped) fraction's 95 % Wilson interval on top. groups: label -> mode indices (into
    analysis.MODES; -1 = stopped), one per run (seed)."""
    from .stats import wilson

    labels = list(groups)
    # collapsed modes at the bottom, so the interval marker sits at the top of their stack
    names = list(analysis.COLLAPSED_MODES) + ["learning", "converged", "stopped"]
    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 3.2, 3.6), dpi=100)
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
        k, n = int(analysis.is_collapsed(modes).sum()), len(modes)
        lo, hi = wilson(k, n)
        ax.errorbar(i + 0.38, k / n, yerr=[[k / n - lo], [hi - k / n]], fmt="k_", ms=8,
                    capsize=3, lw=1.2)
        ax.text(i, 1.03, f"{k} of {n} trapped", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set(ylim=(0, 1.12), ylabel="fraction of runs", xlabel=xlabel, title=title)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False,
              title="mode (black: trapped\nfraction, 95 % interval)", title_fontsize=8)
    fig.tight_layout()
    return fig


def plot_trapped_fraction(series: dict[str, dict[float, np.ndarray]], xlabel: str = "",
                          title: str = "", log_x: bool = True) -> plt.Figure:
    """The fraction of trapped runs against a setting, one line per series, each point with
    its 95 % Wilson interval and its count "k/n" beside it.

    series: label -> {x value: trapped flags, one per independent run (seed)}. Series are
    nudged apart along x (by a few per cent) so their intervals do not overlap."""
    from .stats import wilson

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    labels = list(series)
    xs_all = sorted({x for s in series.values() for x in s})
    for j, label in enumerate(labels):
        xs = sorted(series[label])
        nudge = (j - (len(labels) - 1) / 2) * 0.06
        xp = np.array(xs) * 10 ** nudge if log_x else np.array(xs) + nudge * 0.1
        k = np.array([int(np.sum(series[label][x])) for x in xs])
        n = np.array([len(series[label][x]) for x in xs])
        lo, hi = np.array([wilson(int(a), int(b)) for a, b in zip(k, n, strict=True)]).T
        rate = k / n
        colour = f"C{j}"
        # points without connecting lines, so the k/n labels beside them cross nothing
        ax.errorbar(xp, rate, yerr=[rate - lo, hi - rate], fmt="o", color=colour, capsize=3,
                    lw=1.5, label=label)
        for x, r, a, b in zip(xp, rate, k, n, strict=True):
            ax.annotate(f"{a}/{b}", (x, r), textcoords="offset points",
                        xytext=(7 if j % 2 else -7, 0), ha="left" if j % 2 else "right",
                        va="center", fontsize=7, color=colour)
    if log_x:
        ax.set_xscale("log")
        ax.minorticks_off()
    ax.set_xticks(xs_all, [f"{x:g}" for x in xs_all])
    lo_x, hi_x = min(xs_all), max(xs_all)
    ax.set_xlim((lo_x / 2, hi_x * 2) if log_x else (lo_x - 0.1 * (hi_x - lo_x),
                                                   hi_x + 0.1 * (hi_x - lo_x)))
    ax.set(ylim=(-0.02, 1.02), xlabel=xlabel, ylabel="fraction of runs trapped", title=title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
              title="95 % Wilson intervals", title_fontsize=8)
    fig.tight_layout()
    return fig


# --- the entropy bonus: the bandit's fixed point, the kappa x entropy_coef grid, the fixes ---
ENTROPY_TARGET = 0.1   # the written analysis: "Mean entropy should stay > 0.1"


def demo_figure(figsize) -> Figure:
    """A Figure outside pyplot with its own Agg canvas (nothing for pyplot to track or close;
    widgets.Demo renders it to PNG itself)."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def few_ticks(*axes, x: bool = True) -> None:
    """Three ticks a side and small labels: fewer text artists to lay out on each redraw."""
    for ax in axes:
        if x:
            ax.xaxis.set_major_locator(MaxNLocator(3))
        ax.yaxis.set_major_locator(MaxNLocator(3))
        ax.tick_params(labelsize=7)


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

    def _build(self, tau: float) -> None:
        star, steps, samp, ex, last, mean = self._data(tau)
        x = np.arange(len(self.rewards))
        fig = demo_figure((7.6, 2.8))
        ax1, ax2 = fig.subplots(1, 2)
        self.sampled = ax1.plot(steps, samp, color="0.65", lw=0.8)
        (self.exact,) = ax1.plot(steps, ex, color="k", lw=1.6, label="exact gradient")
        self.star_line = ax1.axhline(star[self.best], color="C3", ls="--",
                                     label=f"pi*(best) = {star[self.best]:.3f}")
        ax1.set(xlabel="step", ylabel="pi(best arm)", ylim=(0, 1.02))
        self.title = ax1.set_title(f"tau = entropy_coef = {tau:g}")
        self.legend = ax1.legend(fontsize=7, loc="lower right")
        self.bars_exact = ax2.bar(x - 0.2, last, width=0.4, color="k", label="exact, last step")
        self.bars_sampled = ax2.bar(x + 0.2, mean, width=0.4, color="0.65",
                                    label="sampled, mean")
        (self.dots,) = ax2.plot(x, star, "o", color="C3", label="pi* = softmax(r/tau)")
        ax2.set_xticks(x, [f"{r:.2f}" for r in self.rewards])
        ax2.set(xlabel="arm (EV)", ylabel="probability", ylim=(0, 1.02), title="final policy")
        ax2.legend(fontsize=7, loc="upper left")
        few_ticks(ax1)
        few_ticks(ax2, x=False)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.17, top=0.89, wspace=0.28)
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
    kappa; collapsed runs per kappa. Drawn once, then updated in place: a move changes no
    axes limit, so widgets.Demo redraws only the changing artists."""

    def __init__(self, grid: SweepData):
        self.grid = grid
        self.kappas = np.array(grid.values("kappa"))
        self.coefs = np.array(grid.values("entropy_coef"))
        # (kappa, entropy_coef, seed)
        self.risky = grid.per_cell(grid.final("risky_rate"), "kappa", "entropy_coef")
        self.collapsed = grid.per_cell(grid.collapsed, "kappa", "entropy_coef")
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

    def _build(self, kappa: float, entropy_coef: float) -> None:
        grid, x = self.grid, self.x
        base, sel, c = self._data(kappa, entropy_coef)
        fig = demo_figure((11.5, 2.6))
        axes = fig.subplots(1, 4)
        self.base_lines, self.sel_lines = {}, {}
        for ax, name, title in ((axes[0], "reward", "reward / trial"),
                                (axes[1], "entropy", "policy entropy (nats)")):
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
        axes[0].legend(fontsize=6, loc="lower right")
        ks, n_seeds = self.kappas, self.collapsed.shape[2]
        c0 = list(self.coefs).index(0.0)
        self.risky_dots, self.risky_means = [], []
        for col, color, lab in ((c0, "0.6", "coef 0"), (c, "C3", f"coef {entropy_coef:g}")):
            r = self.risky[:, col]
            self.risky_dots.append(axes[2].plot(np.repeat(ks, r.shape[1]), r.ravel(), "o",
                                                color=color, ms=3)[0])
            self.risky_means.append(axes[2].plot(ks, np.nanmean(r, 1), "-", color=color,
                                                 label=lab)[0])
        self.kappa_lines = [axes[2].axvline(kappa, color="k", lw=0.6)]
        axes[2].axhline(0.5, color="0.85", ls=":")
        # limits from every entropy_coef's rates, so no slider position leaves the frame
        axes[2].set(xlabel="kappa", title="lower-p choices (equal EV)",
                    ylim=data_limits(self.risky))
        self.legends = [axes[2].legend(fontsize=6)]
        w = 0.35 * (ks[1] - ks[0]) if len(ks) > 1 else 0.1
        axes[3].bar(ks - w / 2, self.collapsed[:, c0].sum(1), width=w, color="0.6",
                    label="coef 0")
        self.bars = axes[3].bar(ks + w / 2, self.collapsed[:, c].sum(1), width=w,
                                color="C3", label=f"coef {entropy_coef:g}")
        self.kappa_lines.append(axes[3].axvline(kappa, color="k", lw=0.6))
        axes[3].set(xlabel="kappa", title=f"collapsed runs (of {n_seeds})", ylim=(0, n_seeds))
        self.legends.append(axes[3].legend(fontsize=6))
        few_ticks(*axes)
        fig.subplots_adjust(left=0.05, right=0.99, bottom=0.17, top=0.89, wspace=0.3)
        # what a move changes (no axes limit does): Demo redraws only these
        dynamic = [line for lines in (*self.base_lines.values(), *self.sel_lines.values())
                   for line in lines]
        dynamic += [self.risky_dots[1], self.risky_means[1], *self.bars, *self.kappa_lines,
                    *self.legends]
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic
        self.fig = fig

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
        for bar, n in zip(self.bars, self.collapsed[:, c].sum(1), strict=True):
            bar.set_height(n)
        self.bars.set_label(f"coef {entropy_coef:g}")
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

    def _build(self, pool: int, xrange: tuple[float, float]) -> tuple:
        names = self.NAMES
        fig = demo_figure((2.7 * len(names), 2.5))
        axes = list(fig.subplots(1, len(names)))
        pad = 0.05 * (xrange[1] - xrange[0])
        for ax, name in zip(axes, names, strict=True):
            ax.set(xlabel="update", title=CURVES.get(name, name), ylim=self.YLIM[name],
                   xlim=(xrange[0] - pad, xrange[1] + pad))
            if name == "entropy":
                ax.axhline(ENTROPY_TARGET, color="C3", ls=":", lw=1)
        few_ticks(*axes)
        lines = [[ax.plot([], [])[0] for _ in range(pool)] for ax in axes]
        title = fig.suptitle("", fontsize=9)
        fig.subplots_adjust(left=0.05, right=0.99, bottom=0.18, top=0.8, wspace=0.3)
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
        self.title.set_text(f"{setting}: {what} (colour, one line per seed) vs no fix (grey)")
        return self.fig
