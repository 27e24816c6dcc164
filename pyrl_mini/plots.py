"""Plot functions: they read results and draw; they never train.

Each returns a matplotlib Figure, so a widget can show it and a test can read its data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import torch

from . import analysis, tasks
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


# --- the vanishing gradient: logit-gap bars, the bandit plateau, behaviour maps, trapped seeds --
GAP_NAMES = ("pi_lead", "log_pi_lead", "grad_lead_0", "grad_lead_1",
             "pi_other", "log_pi_other", "grad_other_0", "grad_other_1")
GAP_FLOOR = -3.0  # log pi(other) ~ -gap: a bar below this is drawn to it and labelled


class GapFigure:
    """Bars at one logit gap: pi, log pi and the gradient onehot(a) - pi of each sampled
    action, float32 next to float64. fig = GapFigure()(table, gap), with table[dtype][name]
    for dtype "float32" / "float64" and every name of GAP_NAMES (widgets.gap_table).

    A float32 gradient component that is exactly 0 is marked with an x; a bar below
    GAP_FLOOR is cut there and its value written under it. Built once, fixed limits: a call
    changes only the bars, marks, labels and title (widgets.Demo blits them)."""

    def __init__(self):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6.0, 2.5))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        x = np.arange(len(GAP_NAMES))
        labels = ("pi\n(lead)", "log pi\n(lead)", "grad[0]\nlead", "grad[1]\nlead",
                  "pi\n(other)", "log pi\n(other)", "grad[0]\nother", "grad[1]\nother")
        self.bars, self.marks, self.values = [], [], []
        for j, (dt, color) in enumerate((("float32", "C0"), ("float64", "C1"))):
            xs = x + (j - 0.5) * 0.38
            self.bars.append(ax.bar(xs, np.zeros(len(x)), width=0.38, color=color, label=dt))
            self.marks.append(ax.plot([], [], "x", color="k", ms=7)[0])
            self.values.append([ax.text(xi, GAP_FLOOR - 0.1, "", ha="center", va="top",
                                        fontsize=6) for xi in xs])
        ax.plot([], [], "x", color="k", ms=7, label="float32 exactly 0")
        ax.axhline(0, color="0.4", lw=0.8)
        ax.set_xticks(x, labels, fontsize=7)
        ax.set_yticks([-3, -2, -1, 0, 1])
        ax.set(ylim=(GAP_FLOOR - 0.6, 1.6), ylabel="value")
        ax.legend(fontsize=6, loc="upper right", ncol=3)
        ax.title.set_fontsize(8)
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.2, top=0.88)
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
            zero = (vals == 0) & np.isin(np.arange(len(GAP_NAMES)), [2, 3, 6])
            self.marks[j].set_data(self.x[zero] + (j - 0.5) * 0.38, np.zeros(zero.sum()))
        self.ax.set_title(f"logit gap {gap:g}: a bar below -3 is cut, its value written under it",
                          fontsize=8)
        return self.fig


class BanditFigure:
    """Exact policy gradient on two arms: pi_best(t) (left) and log10(1 - pi_best(t)) against
    log10 t (right), with the closed-form plateau (tau = 0, bandit.plateau_length_two_arm), the
    1 / (2 lr Delta t) tail and the entropy-regularised optimum softmax(r / tau).

    fig = BanditFigure(rewards, steps)(pi, p0, lr, entropy_coef) with pi the trajectory
    pi_best over steps, shape (steps + 1,) (bandit.exact_pg_trajectory). Linear axes of log
    values, fixed limits: built once, and a call changes only the curves, markers and title
    (widgets.Demo blits them)."""

    def __init__(self, rewards=(1.0, 0.0), steps: int = 1000):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.rewards, self.steps = rewards, steps
        self.delta = rewards[0] - rewards[1]
        self.t = np.arange(steps + 1)
        fig = Figure(figsize=(7.6, 2.5))
        FigureCanvasAgg(fig)
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
               xlim=(lt[0] - 0.05 * lt[-1], 1.05 * lt[-1]),
               title="1 - pi_best (dotted: 1 / (2 lr D t))")
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.18, top=0.88, wspace=0.28)
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
        self.axes[0].set_title(f"p0={p0:g}, lr={lr:g}, tau={entropy_coef:g}")
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

    def __init__(self, cells, row_labels: list[str], col_labels: list[str], row_name: str,
                 col_name: str, update: int):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D

        self.cells, self.update = cells, update
        self.modes = np.array([[d.modes_at(update)[rows] for d, rows in row] for row in cells])
        frac = analysis.is_collapsed(self.modes).mean(-1)
        fig = Figure(figsize=(8.8, 2.6))
        FigureCanvasAgg(fig)
        a0, a1 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
        image = a0.imshow(frac, cmap="Reds", vmin=0, vmax=1, origin="lower", aspect="auto")
        fig.colorbar(image, ax=a0, label="trapped fraction", fraction=0.08, pad=0.03)
        n = self.modes.shape[-1]
        for r in range(frac.shape[0]):
            for c in range(frac.shape[1]):
                a0.text(c, r, f"{int(round(frac[r, c] * n))}/{n}", ha="center", va="center",
                        fontsize=8, color="w" if frac[r, c] > 0.6 else "k")
        self.outline = a0.add_patch(plt.Rectangle((-0.5, -0.5), 1, 1, fill=False, lw=2.5,
                                                  color="k"))
        a0.set_xticks(range(len(col_labels)), col_labels, fontsize=7)
        a0.set_yticks(range(len(row_labels)), row_labels, fontsize=7)
        a0.set(xlabel=col_name, ylabel=row_name, title="trapped seeds")
        last = max(d.h("reward").shape[1] * d.stride for row in cells for d, _ in row)
        self.lines = [a1.plot([], [], lw=1.2)[0] for _ in range(n)]
        a1.axvline(update, color="0.6", ls="--", lw=0.8)
        a1.set_xticks([0, update // 2, update] + ([last] if last > update else []))
        a1.set_xlim(0, last)
        a1.set_yticks([-0.5, 0, 0.5, 1])
        a1.set(xlabel="update", ylabel="reward / trial", ylim=(-0.6, 1.0),
               title="the cell's seeds (colour = behaviour)")
        a1.legend(handles=[Line2D([], [], color=MODE_COLOURS[m], lw=1.5,
                                  label=m.replace("_", " ")) for m in analysis.MODES],
                  fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5),
                  title="behaviour", title_fontsize=6)
        left = 0.08 + 0.009 * max(len(label) for label in row_labels)
        fig.subplots_adjust(left=left, right=0.86, bottom=0.18, top=0.88, wspace=0.55)
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


def plot_trap_frequencies(groups: dict[str, np.ndarray], trap: np.ndarray,
                          settings, seeds, setting_name: str = "kappa") -> plt.Figure:
    """Left: trapped fraction of each group of independent runs (label -> bool per seed) with
    its 95 % Wilson interval; a label "x\\nfamily" is ticked x and coloured by its family.
    Right: a seeds x settings table of paired outcomes (trap: (seeds, settings) bool), seeds
    sorted by at how many settings they are trapped: a filled square is a trapped run."""
    from .stats import wilson

    fig, (a0, a1) = plt.subplots(1, 2, figsize=(9.6, 4.2), dpi=100,
                                 gridspec_kw={"width_ratios": [1.25, 1]})
    colours = {}
    for x, (label, flags) in enumerate(groups.items()):
        k, n = int(np.sum(flags)), len(flags)
        lo, hi = wilson(k, n)
        family = label.split("\n")[-1]
        first = family not in colours
        colour = colours.setdefault(family, f"C{len(colours)}")
        a0.errorbar(x, k / n, yerr=[[k / n - lo], [hi - k / n]], fmt="o", color=colour,
                    capsize=4, lw=1.5, label=family if first else None)
        a0.text(x + 0.12, k / n, f"{k}/{n}", fontsize=8, va="center")
    a0.set_xticks(range(len(groups)), [g.split("\n")[0] for g in groups], fontsize=8)
    a0.set(ylim=(0, 1), xlim=(-0.5, len(groups) - 0.3), ylabel="fraction of runs trapped",
           title="trapped runs, 95 % interval")
    a0.legend(fontsize=8, loc="upper left", title="runs (20 seeds each)", title_fontsize=8)
    order = np.lexsort((np.arange(len(trap)), -trap.sum(axis=1)))
    for j in range(trap.shape[1]):
        t = trap[order, j]
        y = np.arange(len(order))
        a1.plot(np.full(t.sum(), j), y[t], "s", color="C3", ms=7)
        a1.plot(np.full((~t).sum(), j), y[~t], "s", mfc="none", color="0.6", ms=7)
    for y, i in enumerate(order):
        a1.text(len(settings) - 0.4, y, str(int(trap[i].sum())), fontsize=8, va="center")
    a1.plot([], [], "s", color="C3", label="trapped")
    a1.plot([], [], "s", mfc="none", color="0.6", label="not trapped")
    a1.set_xticks(range(len(settings)), [f"{k:+.1f}" if k else "0" for k in settings])
    a1.set_yticks(range(len(order)), [str(s) for s in np.asarray(seeds)[order]], fontsize=7)
    a1.set(xlim=(-0.5, len(settings) - 0.1), ylim=(len(order) - 0.5, -0.5),
           xlabel=setting_name, ylabel="seed (sorted)",
           title=f"each seed at each {setting_name} (right: at how many)")
    a1.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    return fig
