"""Plot functions: they read results and draw; they never train.

Each returns a matplotlib Figure, so a widget can show it and a test can read its data.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from . import analysis, tasks
from .config import TaskSettings
from .risk import kappa_transform

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
    if window <= 1 or len(y) < window:
        return y
    k = np.ones(window) / window
    yy = np.convolve(np.nan_to_num(y, nan=np.nanmean(y) if np.isfinite(y).any() else 0), k,
                     mode="valid")
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


def plot_trial(settings: TaskSettings | None = None, left: int = 2, right: int = 20,
               actions: np.ndarray | None = None) -> plt.Figure:
    """The inputs of one noiseless trial over time, with its epochs shaded."""
    settings = settings or TaskSettings()
    options = torch.tensor([[[left, right]]])
    x = tasks.build_inputs(settings, options, torch.zeros(settings.steps, 1, 1, tasks.N_INPUTS),
                           torch.zeros(1))[:, 0, 0].numpy()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    t = np.arange(settings.steps)
    for i, name in enumerate(tasks.INPUTS):
        ax.step(t, x[:, i] + 1.3 * (len(tasks.INPUTS) - 1 - i), where="mid", label=name)
        ax.text(-0.6, 1.3 * (len(tasks.INPUTS) - 1 - i) + 0.3, name, ha="right", fontsize=8)
    f, s = settings.fixation_steps, settings.stimulus_steps
    for start, stop, label, color in ((0, f, "fixation", "0.92"), (f, f + s, "stimulus", "0.85"),
                                      (f + s, settings.steps, "decision", "0.96")):
        ax.axvspan(start - 0.5, stop - 0.5, color=color, zorder=-1)
        ax.text((start + stop - 1) / 2, 1.3 * len(tasks.INPUTS), label, ha="center", fontsize=9)
    ax.set(xlabel="time step", yticks=[], xlim=(-0.5, settings.steps - 0.5),
           title=f"one trial: left p={tasks.OPTION_P[left]:.1f}, "
                 f"m={tasks.OPTION_MAGNITUDE[left]:.2f}; right p={tasks.OPTION_P[right]:.1f}, "
                 f"m={tasks.OPTION_MAGNITUDE[right]:.2f}")
    fig.tight_layout()
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
        ax.set(xlabel="update", title=CURVES.get(name, name))
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


def plot_choice_heatmap(options: np.ndarray, choice: np.ndarray, ax=None,
                        title: str = "P(choose left)") -> plt.Figure:
    """P(choose left) by (log p_left - log p_right, log EV_left - log EV_right)."""
    xs, ys, table, counts = analysis.choice_table(options, choice)
    fig = ax.figure if ax is not None else plt.figure(figsize=(4.2, 3.6))
    ax = ax or fig.add_subplot()
    im = ax.imshow(table.T, origin="lower", cmap="coolwarm", vmin=0, vmax=1, aspect="auto")
    step_x = max(1, len(xs) // 5)
    step_y = max(1, len(ys) // 5)
    ax.set_xticks(range(0, len(xs), step_x), [f"{v:.1f}" for v in xs[::step_x]])
    ax.set_yticks(range(0, len(ys), step_y), [f"{v:.2f}" for v in ys[::step_y]])
    ax.set(xlabel="log p_left - log p_right", ylabel="log EV_left - log EV_right", title=title)
    fig.colorbar(im, ax=ax, fraction=0.046)
    return fig


MODE_COLOURS = {"converged": "#1b9e77", "learning": "#a6d854", "never_chooses": "#7570b3",
                "always_aborts": "#d95f02", "one_side": "#e7298a", "stopped": "0.6"}


def plot_mode_frequencies(groups: dict[str, np.ndarray], title: str = "",
                          xlabel: str = "") -> plt.Figure:
    """Behaviour modes of independent runs per group, as stacked shares, with the collapsed
    fraction's 95 % Wilson interval on top. groups: label -> mode indices (into
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
        ax.text(i, 1.03, f"{k} of {n}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set(ylim=(0, 1.12), ylabel="fraction of runs", xlabel=xlabel, title=title)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False,
              title="mode (black: collapsed\nfraction, 95 % interval)", title_fontsize=8)
    fig.tight_layout()
    return fig
