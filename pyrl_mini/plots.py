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
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

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


# --- the initial policy and the first updates against the W_out scale ------------------------
def _agg_figure(figsize) -> Figure:
    """A Figure outside pyplot with its own Agg canvas (widgets.Demo renders it itself)."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _few_ticks(ax) -> None:
    """Three ticks a side, small labels: text is most of a slider redraw's cost."""
    ax.xaxis.set_major_locator(MaxNLocator(3))
    ax.yaxis.set_major_locator(MaxNLocator(3))
    ax.tick_params(labelsize=7)


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

    def _build(self, T: int) -> None:
        fig = _agg_figure((7.6, 3.1))
        ax1, ax2 = fig.subplots(1, 2)
        self.fig, self.ax1, self.ax2 = fig, ax1, ax2
        t, zeros = np.arange(T), np.zeros(T)
        self.lines, self.bands = [], []
        for name in tasks.ACTIONS:
            self.lines.append(ax1.plot(t, zeros, lw=1.5, label=name)[0])
            self.bands.append(ax1.fill_between(t, zeros, zeros, alpha=0.2))
        ax1.axvspan(-0.5, self.hold_steps - 0.5, color="0.93", zorder=-1)
        ax1.text(self.hold_steps / 2, 1.02, "must fixate", ha="center", fontsize=8)
        uniform = ax1.axhline(1 / 3, color="0.6", ls=":", lw=1)
        ax1.set(xlabel="time step", ylabel="pi(a)", ylim=(-0.02, 1.1),
                xlim=(-0.05 * (T - 1), 1.05 * (T - 1)))
        # below the panels, off the curves
        fig.legend(handles=self.lines, loc="lower center", ncol=3, fontsize=7, frameon=False)
        self.stairs = ax2.stairs(np.zeros(len(ENTROPY_EDGES) - 1), ENTROPY_EDGES, fill=True,
                                 color="C0")   # one artist: cheaper than hist's bars
        ln3 = ax2.axvline(np.log(3), color="k", ls="--", lw=1)
        ax2.text(np.log(3), 1.0, "ln 3", fontsize=8, ha="center", va="bottom",
                 transform=ax2.get_xaxis_transform())
        ax2.set(xlabel="entropy H per step (nats)", ylabel="fraction of steps x trials",
                xlim=(ENTROPY_EDGES[0] - 0.056, ENTROPY_EDGES[-1] + 0.056), ylim=(-0.02, 1.02))
        for ax in (ax1, ax2):
            _few_ticks(ax)
            ax.title.set_fontsize(10)
            ax.set_title(" ")     # a Text artist to update in place
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.27, top=0.88, wspace=0.3)
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
        self.ax1.set_title(title)
        counts, _ = np.histogram(st["entropy_steps"].ravel(), bins=ENTROPY_EDGES)
        self.stairs.set_data(counts / max(counts.sum(), 1))
        self.ax2.set_title(f"mean H = {st['entropy']:.3f}")
        return self.fig


SWEEP_PANELS = ("reward", "entropy", "grad_norm")
GRAD_FLOOR = 1e-6   # exact zeros sit on the bottom edge
GRAD_TICKS = ((-6, "1e-6"), (-4, "1e-4"), (-2, "1e-2"), (0, "1"))


class WoutSweepFigure:
    """Reward, entropy and gradient norm of every seed at (wout_std, kappa, entropy_coef),
    each coloured by how the run ended (MODE_COLOURS; a stuck run sits at reward -0.5), and
    the fraction of stuck runs (analysis.is_stuck) against wout_std at this kappa and
    entropy_coef. The gradient norm is drawn as log10 on a linear axis (a log axis costs a
    third of a redraw), ticks labelled with the norm.

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
        self._rates: dict[tuple[float, float], list[float]] = {}
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

    def rates(self, kappa: float, entropy_coef: float = 0.0) -> list[float]:
        """Fraction stuck per std of self.stds (nan where not computed)."""
        key = (kappa, entropy_coef)
        if key not in self._rates:
            d = self.sources.get(entropy_coef)
            stuck = analysis.is_stuck(d.mode) if d is not None else None
            self._rates[key] = [float(stuck[i].mean()) if len(i := self.idx(w, kappa, entropy_coef))
                                else float("nan") for w in self.stds]
        return self._rates[key]

    def _build(self) -> None:
        fig = _agg_figure((10.5, 3.0))
        axes = fig.subplots(1, len(SWEEP_PANELS) + 1)
        self.fig, self.axes = fig, axes
        self.lines = {}
        span = self.u[-1] - self.u[0]
        xlim = (self.u[0] - 0.05 * span, self.u[-1] + 0.05 * span)
        for ax, name in zip(axes, SWEEP_PANELS, strict=False):
            self.lines[name] = [ax.plot(self.u, np.zeros_like(self.u), lw=1.2)[0]
                                for _ in range(self.max_seeds)]
            ax.set(xlabel="update", title=CURVES.get(name, name), xlim=xlim)
            _few_ticks(ax)
            if name == "grad_norm":
                ax.set_ylim(np.log10(5e-7), np.log10(30))
                ax.set_yticks([v for v, _ in GRAD_TICKS], [s for _, s in GRAD_TICKS])
            elif name == "entropy":
                ax.axhline(np.log(3), color="0.7", ls=":", lw=1)
                ax.set_ylim(-0.03, 1.15)
            else:
                ax.axhline(-0.5, color="0.7", ls=":", lw=1)
                ax.set_ylim(-0.6, 1.0)
            ax.title.set_fontsize(10)
        handles = [Line2D([], [], color=MODE_COLOURS[m], label=m) for m in analysis.MODES]
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=7,
                   frameon=False, title="how the run ended", title_fontsize=7)
        self.note = axes[1].text(0.5, 0.5, "not computed:\nsee the line above", ha="center",
                                 va="center", fontsize=9, transform=axes[1].transAxes,
                                 visible=False)
        ax = axes[-1]
        n = len(self.stds)
        self.bars = ax.bar(range(n), np.zeros(n), color="0.6")
        ax.set_xticks(range(n), [f"{w:g}" for w in self.stds], fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        ax.set(xlabel="wout_std", ylim=(0, 1.05), title="stuck at -0.5 (final)")
        ax.title.set_fontsize(10)
        self.bar_labels = ax.bar_label(self.bars, [""] * n, fontsize=6)
        fig.subplots_adjust(left=0.04, right=0.99, bottom=0.33, top=0.88, wspace=0.3)
        # what a move changes (the axes limits are fixed): Demo redraws only these
        dynamic = [line for lines in self.lines.values() for line in lines]
        dynamic += [self.note, *self.bars, *self.bar_labels]
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
        for bar, label, w, r in zip(self.bars, self.bar_labels, self.stds,
                                    self.rates(kappa, entropy_coef), strict=True):
            computed = not np.isnan(r)
            bar.set_height(r if computed else 0.0)
            bar.set_color("C3" if w == wout_std else "0.6")
            label.xy = (label.xy[0], r if computed else 0.0)
            label.set_text(f"{r:.2f}" if computed else "n/c")
        return self.fig
