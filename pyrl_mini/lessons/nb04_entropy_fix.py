"""Notebook 04: the entropy fix, what it does, what it costs, and what else works.

Three parts, each a few plain functions (compute, then plot):

1. The fixed point of entropy-regularised softmax on a bandit. Gradient ascent on
   J(pi) = pi . r + tau H(pi) stops at pi* = softmax(r / tau) (bandit.regularised_optimum), so
   the bonus keeps the worse of two arms alive with probability 1 / (1 + exp(Delta / tau)) for
   a reward gap Delta. In the gambling task the policy loss sums log pi(a_t) f(d_t) over the
   steps of a trial but *averages* H over steps, so per step the bonus acts with the effective
   temperature tau = entropy_coef / (valid steps per trial) (`effective_temperature`).
2. The kappa x entropy_coef grid on 20 seeds per cell (collapse_kappa + collapse_entropy, as
   one sweep: `entropy_grid`): entropy over training, collapse, reward, higher-EV and risky
   choices, and how much of kappa's risk preference the bonus washes out.
3. The alternatives on 20 seeds per fix, in two settings, each fix paired by seed with its
   setting's control: (a) the default lr, 800 updates (`slow_fix_runs`: collapse_kappa,
   collapse_entropy, collapse_fixes_slow); (b) lr 0.03, 250 updates (`fast_fix_runs20`:
   collapse_fixes, and the 5-seed larger batch). The older 3- and 5-seed comparisons
   (`fix_runs`, `fast_fix_runs`) stay loadable for the trap anatomy and the tests.

`demos()` builds every interactive demo from the stored data, for tests and benchmarks.
"""

from __future__ import annotations

import math

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .. import analysis, bandit, data, plots, stats, tasks
from ..config import TaskSettings, TrainSettings
from ..sweep import SweepData
from ..trainer import Ensemble, TrainResult, train
from ..widgets import Demo, LiveRun, entropy_slider, float_slider, kappa_slider


# --- figures updated in place (a slider move changes artists' data, not the whole figure) ---
def _demo_figure(figsize) -> Figure:
    """A Figure outside pyplot with an Agg canvas (nothing for pyplot to track or close)."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _few_ticks(*axes, x: bool = True) -> None:
    """Three ticks a side and small labels: fewer text artists to lay out on each redraw."""
    for ax in axes:
        if x:
            ax.xaxis.set_major_locator(MaxNLocator(3))
        ax.yaxis.set_major_locator(MaxNLocator(3))
        ax.tick_params(labelsize=7)


# --- 1. the fixed point ---------------------------------------------------------------------
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


GAMBLE_EVS = tasks.EXPECTED_VALUES          # (5,) expected values of the option columns
NEIGHBOUR_GAP = float(np.diff(GAMBLE_EVS)[0])  # 0.15: EV gap between neighbouring columns
TAU_CURVE = np.geomspace(1e-3, 0.3, 61)     # tau values for the fixed-point curves
BANDIT_TAUS = (0.0, 0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3)  # bandit slider values
BANDIT_LR = 1.0        # exact-gradient step size (rewards in [0.4, 1])
BANDIT_STEPS = 1000
ENTROPY_TARGET = 0.1   # the analysis: "Mean entropy should stay > 0.1"


def entropy_of(pi: np.ndarray) -> np.ndarray:
    """H(pi) = -sum_a pi(a) log pi(a) in nats over the last axis (0 log 0 = 0). (...,K)->(...)"""
    pi = np.asarray(pi, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(pi > 0, -pi * np.log(pi), 0.0)
    return terms.sum(-1)


def fixed_point_curves(rewards=GAMBLE_EVS, taus=TAU_CURVE) -> tuple[np.ndarray, np.ndarray]:
    """pi*(tau) = softmax(r / tau) for each tau: (len(taus), K), and H(pi*): (len(taus),)."""
    pis = np.stack([bandit.regularised_optimum(rewards, float(t)) for t in taus])
    return pis, entropy_of(pis)


def minority_probability(gap: float, tau: float) -> float:
    """Two arms with reward gap Delta: the worse arm's probability at pi*, 1/(1 + e^(Delta/tau)).

    tau = 0 gives 0 (the unregularised optimum is deterministic)."""
    if tau == 0:
        return 0.0
    return float(1.0 / (1.0 + math.exp(min(gap / tau, 700.0))))


def min_steps_per_choice_trial(task: TaskSettings | None = None) -> int:
    """Valid steps of a trial that ends in a choice: at least fixation + stimulus + 1 (a choice
    can only be made in the decision epoch). 8 with the default 3 + 4 + 8 step trials."""
    task = task or TaskSettings()
    return task.fixation_steps + task.stimulus_steps + 1


def effective_temperature(entropy_coef: float, steps_per_trial: float) -> float:
    """Per-step tau of the task's loss -sum_t log pi f(d_t) / B - entropy_coef * mean_t H.

    The policy-gradient term sums over the T valid steps of each trial; the entropy term
    averages over all B * T valid steps. Per step (multiplying by B) that is the gradient of
    pi . Q + (entropy_coef / T) H(pi): the bonus acts with tau = entropy_coef / T.
    """
    return entropy_coef / steps_per_trial


def risk_sensitive_value(p: float, magnitude: float, kappa: float) -> float:
    """Fixed point of V <- V + lr f(d) for a gamble paying m with probability p, else 0:
    p (1 - kappa) (m - V) = (1 - p) (1 + kappa) V, so
    V = p (1 - kappa) m / (p (1 - kappa) + (1 - p) (1 + kappa)). kappa = 0 gives p m (the EV);
    kappa < 0 values the long shot (small p, large m) above the sure thing of equal EV."""
    up, down = p * (1 - kappa), (1 - p) * (1 + kappa)
    return up * magnitude / (up + down)


def equal_ev_value_gaps(kappa: float) -> np.ndarray:
    """Risk-sensitive value gaps between neighbouring p (0.1/0.3, ..., 0.7/0.9) in each EV
    column of the task: |V(p_i, m_i) - V(p_j, m_j)|, shape (5 columns, 4 pairs)."""
    p = tasks.PROBABILITIES
    out = np.zeros((len(GAMBLE_EVS), len(p) - 1))
    for c, ev in enumerate(GAMBLE_EVS):
        v = [risk_sensitive_value(pi, ev / pi, kappa) for pi in p]
        out[c] = np.abs(np.diff(v))
    return out


def plot_fixed_point(rewards=GAMBLE_EVS, taus=TAU_CURVE, coefs=(0.01, 0.05)) -> plt.Figure:
    """Left: pi*(a) against tau for the 5 EV columns. Right: H(pi*) against tau, with the
    analysis's 0.1 line, and the entropy_coef values as given and as they act per step."""
    pis, H = fixed_point_curves(rewards, taus)
    steps = min_steps_per_choice_trial()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.6, 3.1))
    for a in range(pis.shape[1]):
        ax1.plot(taus, pis[:, a], label=f"EV {rewards[a]:.2f}")
    ax1.set(xscale="log", xlabel="tau (entropy temperature)", ylabel="pi*(a)",
            title="regularised optimum softmax(r / tau)")
    ax1.legend(fontsize=7)
    ax2.plot(taus, H, color="k")
    ax2.axhline(ENTROPY_TARGET, color="C3", ls=":", lw=1, label="analysis: H > 0.1")
    for c, color in zip(coefs, ("C0", "C2"), strict=False):
        ax2.axvline(c, color=color, lw=1, label=f"tau = {c:g} (bandit)")
        ax2.axvline(effective_temperature(c, steps), color=color, lw=1, ls="--",
                    label=f"{c:g} / {steps} (per step in the task)")
    ax2.set(xscale="log", xlabel="tau", ylabel="H(pi*) (nats)", title="entropy of the optimum",
            ylim=(0, np.log(len(rewards))))
    ax2.legend(fontsize=6, loc="upper left")
    fig.tight_layout()
    return fig


def exact_run(entropy_coef: float, rewards=GAMBLE_EVS, lr: float = BANDIT_LR,
              steps: int = BANDIT_STEPS) -> np.ndarray:
    """Exact-gradient ascent on pi . r + tau H from uniform logits: pi over steps (steps+1, K)."""
    return bandit.exact_pg_trajectory(np.zeros(len(rewards)), rewards, lr, steps, entropy_coef)


def sampled_runs(entropy_coef: float, rewards=GAMBLE_EVS, lr: float = BANDIT_LR,
                 steps: int = BANDIT_STEPS, runs: int = 4, seed: int = 0) -> np.ndarray:
    """REINFORCE on the bandit with Bernoulli payoffs (pays 1 with probability EV), batch 16,
    exact baseline: pi over steps (steps+1, runs, K)."""
    s = bandit.BanditSettings(arm_means=tuple(rewards), reward_noise="bernoulli", lr=lr,
                              entropy_coef=entropy_coef, steps=steps, runs=runs, seed=seed,
                              batch_size=16)
    return bandit.sampled_pg_trajectory(s)


def distance_to_optimum(traj: np.ndarray, rewards, tau: float) -> np.ndarray:
    """L1 distance sum_a |pi_t(a) - pi*(a)| of a trajectory (steps+1, ..., K) -> (steps+1, ...)."""
    return np.abs(traj - bandit.regularised_optimum(rewards, tau)).sum(-1)


def late_rate(distance: np.ndarray, start: int, stop: int) -> float:
    """Mean per-step log-rate of decay -log(dist[stop] / dist[start]) / (stop - start)."""
    return float(np.log(distance[start] / distance[stop]) / (stop - start))


def predicted_rate(tau: float, rewards=GAMBLE_EVS, lr: float = BANDIT_LR) -> float:
    """The scale of the linear rate of entropy-regularised softmax PG near pi*:
    lr * tau * min_a pi*(a) (Mei et al. 2020). It vanishes like exp(-(r_max - r_min) / tau)."""
    return float(lr * tau * bandit.regularised_optimum(rewards, tau).min())


def plot_convergence(taus=(0.0, 0.01, 0.1, 0.2), rewards=GAMBLE_EVS, lr: float = BANDIT_LR,
                     steps: int = 4000) -> plt.Figure:
    """Distance to each tau's own optimum pi*(tau) over exact-gradient steps (log-log)."""
    fig, ax = plt.subplots(figsize=(4.6, 3.2))
    t = np.arange(1, steps + 1)
    for tau in taus:
        d = distance_to_optimum(exact_run(tau, rewards, lr, steps), rewards, tau)[1:]
        ax.plot(t, np.maximum(d, 1e-16), label=f"tau={tau:g}")
    ax.plot(t, 1.0 / (lr * t), color="0.6", ls=":", label="1 / (lr t)")
    ax.set(xscale="log", yscale="log", ylim=(1e-12, 3), xlabel="step t",
           ylabel="|pi_t - pi*(tau)|_1", title="exact softmax PG, 5 EV arms")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_bandit(entropy_coef: float, exact: np.ndarray, sampled: np.ndarray,
                rewards=GAMBLE_EVS) -> plt.Figure:
    """Left: pi(best arm) over steps, exact (black) and sampled runs (grey), with the
    regularised optimum pi*(best) dashed. Right: the final policy against pi*(tau)."""
    star = bandit.regularised_optimum(rewards, entropy_coef)
    best = int(np.argmax(rewards))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7.6, 2.8))
    every = max(1, exact.shape[0] // 250)  # ~250 points per line keep the redraw fast
    steps = np.arange(exact.shape[0])[::every]
    ax1.plot(steps, sampled[::every, :, best], color="0.65", lw=0.8)
    ax1.plot(steps, exact[::every, best], color="k", lw=1.6, label="exact gradient")
    ax1.axhline(star[best], color="C3", ls="--", label=f"pi*(best) = {star[best]:.3f}")
    ax1.set(xlabel="step", ylabel="pi(best arm)", ylim=(0, 1.02),
            title=f"tau = entropy_coef = {entropy_coef:g}")
    ax1.legend(fontsize=7, loc="lower right")
    x = np.arange(len(rewards))
    ax2.bar(x - 0.2, exact[-1], width=0.4, color="k", label="exact, last step")
    ax2.bar(x + 0.2, sampled[-1].mean(0), width=0.4, color="0.65", label="sampled, mean")
    ax2.plot(x, star, "o", color="C3", label="pi* = softmax(r/tau)")
    ax2.set_xticks(x, [f"{r:.2f}" for r in rewards])
    ax2.set(xlabel="arm (EV)", ylabel="probability", ylim=(0, 1.02), title="final policy")
    ax2.legend(fontsize=7, loc="upper left")
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.17, top=0.89, wspace=0.28)  # fast
    return fig


def bandit_runs(taus=BANDIT_TAUS) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """tau -> (exact run (steps+1, K), sampled runs (steps+1, runs, K)); ~0.1 s per tau."""
    return {t: (exact_run(t), sampled_runs(t)) for t in taus}


class BanditFigure:
    """plot_bandit drawn once, then updated in place for each entropy_coef: the lines' and
    bars' data, the dashed optimum, the title and the optimum's legend entry."""

    def __init__(self, runs: dict, rewards=GAMBLE_EVS):
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
        fig = _demo_figure((7.6, 2.8))
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
        _few_ticks(ax1)
        _few_ticks(ax2, x=False)
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


def bandit_demo(runs: dict | None = None) -> Demo:
    """Slider over entropy_coef. The runs are computed once per slider value (bandit_runs)
    when the demo is built, so a redraw only updates the figure's data (BanditFigure)."""
    runs = runs if runs is not None else bandit_runs()
    taus = sorted(runs)

    def summary(entropy_coef):
        star = bandit.regularised_optimum(GAMBLE_EVS, entropy_coef)
        return (f"tau={entropy_coef:g}: pi*(best)={star[-1]:.4f}, H(pi*)={entropy_of(star):.3g} "
                f"nats; two arms 0.15 apart keep "
                f"{minority_probability(NEIGHBOUR_GAP, entropy_coef):.2g} on the worse one")

    start = 0.01 if 0.01 in taus else taus[0]
    return Demo(BanditFigure(runs), summary_fn=summary,
                entropy_coef=entropy_slider(list(taus), start))


# --- 2. the kappa x entropy_coef grid --------------------------------------------------------
def fraction_above(h: np.ndarray, level: float = ENTROPY_TARGET) -> np.ndarray:
    """Fraction of the stored points of each history (cells, points) that are > level."""
    return np.mean(np.nan_to_num(h, nan=0.0) > level, axis=-1)


def grid_table(grid: SweepData) -> dict[str, np.ndarray]:
    """Per (kappa, entropy_coef): arrays (K, C, seeds) of final entropy, reward, higher-EV and
    risky rates, collapsed flag, and the fraction of training with entropy > 0.1."""
    kappas, coefs = grid.values("kappa"), grid.values("entropy_coef")
    out: dict[str, list] = {k: [] for k in ("entropy", "reward", "higher_ev_rate", "risky_rate",
                                            "collapsed", "above", "entropy_late")}
    for k in kappas:
        rows: dict[str, list] = {name: [] for name in out}
        for c in coefs:
            i = grid.by_seed(kappa=k, entropy_coef=c)
            for name in ("entropy", "reward", "higher_ev_rate", "risky_rate"):
                rows[name].append(grid.final(name)[i])
            rows["collapsed"].append(grid.collapsed[i])
            rows["above"].append(fraction_above(grid.h("entropy")[i]))
            h = grid.h("entropy")[i]
            rows["entropy_late"].append(np.nanmean(h[:, h.shape[1] // 2:], axis=1))
        for name in out:
            out[name].append(rows[name])
    table = {name: np.array(v, dtype=float) for name, v in out.items()}
    table["kappa"] = np.array(kappas)
    table["entropy_coef"] = np.array(coefs)
    return table


def entropy_grid(kappa_runs: SweepData | None = None,
                 entropy_runs: SweepData | None = None) -> SweepData:
    """The kappa x entropy_coef grid on 20 seeds per cell, as one sweep: collapse_kappa
    (entropy_coef 0) and collapse_entropy (0.01, 0.05), both kappa -0.4 / 0 / +0.4, seeds
    2000-2019, 800 updates. Same seed, same initial weights and trials: cells pair run by run."""
    k = kappa_runs if kappa_runs is not None else data.load("collapse_kappa")
    e = entropy_runs if entropy_runs is not None else data.load("collapse_entropy")
    arrays = {}
    for name, v in e.arrays.items():
        if name == "grid/entropy_coef":
            arrays[name] = np.concatenate([np.zeros(len(k.arrays["seed"])), v])
        elif name in k.arrays:
            arrays[name] = np.concatenate([k.arrays[name], v])
    spec = {**e.meta.get("spec", {}), "name": "collapse_kappa + collapse_entropy",
            "grid": {"kappa": k.values("kappa"),
                     "entropy_coef": [0.0] + e.values("entropy_coef")}}
    return SweepData(arrays, {**e.meta, "spec": spec})


def _seed_label(grid: SweepData, i: int, j: int, n: int) -> str:
    """Legend label of the j-th of n seed lines: each seed when there are few, else one
    entry for all (20 entries would cover the panel)."""
    if n <= 5:
        return f"seed {grid.arrays['seed'][i]}"
    return f"{n} seeds" if j == 0 else "_nolegend_"


def risk_slope(kappas: np.ndarray, risky: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of risky rate on kappa over all runs (K, seeds) and its standard
    error. kappa < 0 (risk-seeking) raises the lower-p choice rate, so the slope is negative;
    a bonus that washes out risk preference flattens it."""
    x = np.repeat(np.asarray(kappas, dtype=float), risky.shape[1])
    y = np.asarray(risky, dtype=float).ravel()
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    slope, icpt = np.polyfit(x, y, 1)
    resid = y - (slope * x + icpt)
    se = math.sqrt(resid @ resid / max(len(y) - 2, 1) / np.sum((x - x.mean()) ** 2))
    return float(slope), float(se)


def paired_difference(table: dict, name: str, coef: float,
                      reference: float = 0.0) -> np.ndarray:
    """name at entropy_coef = coef minus name at `reference`, per (kappa, seed) pair, leaving
    out pairs where either run collapsed. Shape (pairs,)."""
    coefs = list(table["entropy_coef"])
    a, b = coefs.index(coef), coefs.index(reference)
    ok = ~(table["collapsed"][:, a].astype(bool) | table["collapsed"][:, b].astype(bool))
    return (table[name][:, a] - table[name][:, b])[ok]


def plot_grid(grid: SweepData, kappa: float, entropy_coef: float,
              table: dict | None = None) -> plt.Figure:
    """Four panels for one (kappa, entropy_coef) cell, seeds as lines, entropy_coef = 0 in grey:
    reward and entropy over training; risky rate vs kappa; collapsed runs vs kappa."""
    table = table or grid_table(grid)
    x = grid.update_axis()
    fig, axes = plt.subplots(1, 4, figsize=(11.5, 2.6))
    base = grid.by_seed(kappa=kappa, entropy_coef=0.0)
    sel = grid.by_seed(kappa=kappa, entropy_coef=entropy_coef)
    for ax, name, title in ((axes[0], "reward", "reward / trial"),
                            (axes[1], "entropy", "policy entropy (nats)")):
        for i in base:
            ax.plot(x, grid.h(name)[i], color="0.75", lw=0.9)
        for j, i in enumerate(sel):
            ax.plot(x, grid.h(name)[i], color=f"C{j}", lw=1.2,
                    label=_seed_label(grid, i, j, len(sel)))
        ax.set(xlabel="update", title=title)
    axes[0].set_ylim(*data_limits(grid.h("reward")))
    axes[1].axhline(ENTROPY_TARGET, color="C3", ls=":", lw=1)
    axes[1].set_ylim(*data_limits(grid.h("entropy"), ENTROPY_TARGET))
    axes[0].legend(fontsize=6, loc="lower right")
    ks = table["kappa"]
    c0 = list(table["entropy_coef"]).index(0.0)
    c = int(np.argmin(np.abs(table["entropy_coef"] - entropy_coef)))
    for col, color, lab in ((c0, "0.6", "coef 0"), (c, "C3", f"coef {entropy_coef:g}")):
        r = table["risky_rate"][:, col]
        axes[2].plot(np.repeat(ks, r.shape[1]), r.ravel(), "o", color=color, ms=3)
        axes[2].plot(ks, np.nanmean(r, 1), "-", color=color, label=lab)
    axes[2].axvline(kappa, color="k", lw=0.6)
    axes[2].axhline(0.5, color="0.85", ls=":")
    axes[2].set(xlabel="kappa", title="lower-p choices (equal EV)",
                ylim=data_limits(table["risky_rate"]))
    axes[2].legend(fontsize=6)
    w = 0.35 * (ks[1] - ks[0]) if len(ks) > 1 else 0.1
    axes[3].bar(ks - w / 2, table["collapsed"][:, c0].sum(1), width=w, color="0.6",
                label="coef 0")
    axes[3].bar(ks + w / 2, table["collapsed"][:, c].sum(1), width=w, color="C3",
                label=f"coef {entropy_coef:g}")
    axes[3].axvline(kappa, color="k", lw=0.6)
    axes[3].set(xlabel="kappa", title=f"collapsed runs (of {table['collapsed'].shape[2]})",
                ylim=(0, table["collapsed"].shape[2]))
    axes[3].legend(fontsize=6)
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.17, top=0.89, wspace=0.3)  # fast
    return fig


def grid_summary(grid: SweepData, kappa: float, entropy_coef: float) -> str:
    i = grid.by_seed(kappa=kappa, entropy_coef=entropy_coef)
    H, R = grid.final("entropy")[i], grid.final("reward")[i]
    risky = grid.final("risky_rate")[i]
    risky_text = f"{np.nanmean(risky):.2f}" if np.isfinite(risky).any() else "none (no choices)"
    return (f"kappa={kappa:+.2f}, entropy_coef={entropy_coef:g}, {len(i)} seeds: final entropy "
            f"median {np.median(H):.3f} (above {ENTROPY_TARGET:g} in "
            f"{int((H > ENTROPY_TARGET).sum())}); reward mean {np.mean(R):.3f} (min "
            f"{np.min(R):.2f}); lower-p choices {risky_text}; collapsed "
            f"{stats.frequency(grid.collapsed[i])}")


class GridFigure:
    """plot_grid drawn once, then updated in place for each (kappa, entropy_coef): the seeds'
    lines, the risky-rate dots and means, the collapse bars, the kappa markers and the legend
    entries of the chosen entropy_coef."""

    def __init__(self, grid: SweepData, table: dict | None = None):
        self.grid = grid
        self.table = table or grid_table(grid)
        self.x = grid.update_axis()
        self.fig: Figure | None = None
        self._cells: dict[tuple, tuple] = {}

    def _data(self, kappa: float, entropy_coef: float) -> tuple:
        key = (kappa, entropy_coef)
        if key not in self._cells:
            base = self.grid.by_seed(kappa=kappa, entropy_coef=0.0)
            sel = self.grid.by_seed(kappa=kappa, entropy_coef=entropy_coef)
            c = int(np.argmin(np.abs(self.table["entropy_coef"] - entropy_coef)))
            self._cells[key] = (base, sel, c)
        return self._cells[key]

    def _build(self, kappa: float, entropy_coef: float) -> None:
        grid, table, x = self.grid, self.table, self.x
        base, sel, c = self._data(kappa, entropy_coef)
        fig = _demo_figure((11.5, 2.6))
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
        ks = table["kappa"]
        c0 = list(table["entropy_coef"]).index(0.0)
        self.risky_dots, self.risky_means = [], []
        for col, color, lab in ((c0, "0.6", "coef 0"), (c, "C3", f"coef {entropy_coef:g}")):
            r = table["risky_rate"][:, col]
            self.risky_dots.append(axes[2].plot(np.repeat(ks, r.shape[1]), r.ravel(), "o",
                                                color=color, ms=3)[0])
            self.risky_means.append(axes[2].plot(ks, np.nanmean(r, 1), "-", color=color,
                                                 label=lab)[0])
        self.kappa_lines = [axes[2].axvline(kappa, color="k", lw=0.6)]
        axes[2].axhline(0.5, color="0.85", ls=":")
        # limits from every entropy_coef's rates, so no slider position leaves the frame
        axes[2].set(xlabel="kappa", title="lower-p choices (equal EV)",
                    ylim=data_limits(table["risky_rate"]))
        self.legends = [axes[2].legend(fontsize=6)]
        w = 0.35 * (ks[1] - ks[0]) if len(ks) > 1 else 0.1
        axes[3].bar(ks - w / 2, table["collapsed"][:, c0].sum(1), width=w, color="0.6",
                    label="coef 0")
        self.bars = axes[3].bar(ks + w / 2, table["collapsed"][:, c].sum(1), width=w,
                                color="C3", label=f"coef {entropy_coef:g}")
        self.kappa_lines.append(axes[3].axvline(kappa, color="k", lw=0.6))
        axes[3].set(xlabel="kappa", title=f"collapsed runs (of {table['collapsed'].shape[2]})",
                    ylim=(0, table["collapsed"].shape[2]))
        self.legends.append(axes[3].legend(fontsize=6))
        _few_ticks(*axes)
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
        r = self.table["risky_rate"][:, c]
        self.risky_dots[1].set_ydata(r.ravel())
        self.risky_means[1].set_ydata(np.nanmean(r, 1))
        self.risky_means[1].set_label(f"coef {entropy_coef:g}")
        for bar, n in zip(self.bars, self.table["collapsed"][:, c].sum(1), strict=True):
            bar.set_height(n)
        self.bars.set_label(f"coef {entropy_coef:g}")
        for line in self.kappa_lines:
            line.set_xdata([kappa, kappa])
        for legend in self.legends:
            legend.get_texts()[1].set_text(f"coef {entropy_coef:g}")
        return self.fig


def grid_demo(grid: SweepData | None = None) -> Demo:
    grid = grid or entropy_grid()
    return Demo(GridFigure(grid, grid_table(grid)),
                summary_fn=lambda kappa, entropy_coef: grid_summary(grid, kappa, entropy_coef),
                kappa=kappa_slider(grid.values("kappa"), -0.4),
                entropy_coef=entropy_slider(grid.values("entropy_coef"), 0.01))


# --- 3. the alternatives ---------------------------------------------------------------------
FIX_KAPPA = -0.4
SETTINGS = ("lr 0.01, 800 updates", "lr 0.03, 250 updates")  # the two comparisons (a), (b)


def _variant_rows(variants: dict, varied: tuple, defaults: dict) -> dict[str, dict]:
    from ..datasets.nb04_entropy_fix import variant_grid

    grid = variant_grid(variants, varied, defaults)
    return {label: {n: grid[n][j] for n in varied} for j, label in enumerate(variants)}


def _add_logit_caps(runs: dict[str, dict], sweep: SweepData | None) -> None:
    """runs["logit cap C"] for each cap in a logit-cap sweep (one grid setting, logit_cap)."""
    if sweep is None:
        return
    for cap in np.unique(sweep.arrays["grid/logit_cap"]):
        runs[f"logit cap {cap:g}"] = {"data": sweep,
                                      "idx": sweep.by_seed(logit_cap=cap)}


def fix_runs(grid: SweepData, fixes: SweepData, fixes_batch: SweepData,
             fixes_logit: SweepData | None = None) -> dict[str, dict]:
    """The default-lr comparison at kappa = -0.4, seeds (0, 1, 2), 1000 updates:
    label -> {"data", "idx", "cost"}.

    "none", "entropy 0.01", "entropy 0.05" are nb00_main_grid cells; the rest come from the fixes
    datasets. cost = trials trained relative to the control (batch 512 = 2).
    """
    from ..datasets import nb04_entropy_fix as ds

    runs: dict[str, dict] = {
        "none": {"data": grid, "idx": grid.by_seed(kappa=FIX_KAPPA, entropy_coef=0.0)},
        "entropy 0.01": {"data": grid, "idx": grid.by_seed(kappa=FIX_KAPPA, entropy_coef=0.01)},
        "entropy 0.05": {"data": grid, "idx": grid.by_seed(kappa=FIX_KAPPA, entropy_coef=0.05)},
    }
    for label, values in _variant_rows(ds.VARIANTS, ds.VARIED, ds._DEFAULTS).items():
        runs[label] = {"data": fixes, "idx": fixes.by_seed(**values)}
    runs["larger batch"] = {"data": fixes_batch, "idx": fixes_batch.by_seed()}
    _add_logit_caps(runs, fixes_logit)
    for label, r in runs.items():
        r["cost"] = 2.0 if label == "larger batch" else 1.0
    return runs


def fast_fix_runs(fast: SweepData, fast_batch: SweepData,
                  fast_logit: SweepData | None = None) -> dict[str, dict]:
    """The fast-collapse comparison (lr 0.03, kappa = -0.4, seeds 0-4, 250 updates)."""
    from ..datasets import nb04_entropy_fix as ds

    runs = {label: {"data": fast, "idx": fast.by_seed(**values), "cost": 1.0}
            for label, values in _variant_rows(ds.FAST_VARIANTS, ds.FAST_VARIED,
                                               ds._FAST_DEFAULTS).items()}
    runs["larger batch"] = {"data": fast_batch, "idx": fast_batch.by_seed(),
                            "cost": 2.0}
    _add_logit_caps(runs, fast_logit)
    for r in runs.values():
        r.setdefault("cost", 1.0)
    return runs


def _variant_runs(sweep: SweepData, spec, variants: dict) -> dict[str, dict]:
    """label -> {"data", "idx", "cost"} for each variant of a VariantSpec dataset: the rows whose
    grid columns hold the variant's values, ordered by seed (so variants pair up run by run)."""
    return {label: {"data": sweep, "cost": 1.0, "idx": spec.rows_of(sweep, j)}
            for j, label in enumerate(variants)}


def fast_fix_runs20(fixes: SweepData | None = None,
                    batch: SweepData | None = None) -> dict[str, dict]:
    """Setting (b) on 20 seeds: lr 0.03, kappa = -0.4, 250 updates, seeds 3000-3019
    (collapse_fixes), every fix on the same seeds. "larger batch" comes from
    nb04_fixes_fast_batch512: 5 seeds (0-4), not paired with the others."""
    from ..datasets import collapse as ds

    fixes = fixes if fixes is not None else data.load("collapse_fixes")
    runs = _variant_runs(fixes, ds.COLLAPSE_FIXES, ds.FIX_VARIANTS)
    batch = batch if batch is not None else data.load("nb04_fixes_fast_batch512")
    runs["larger batch"] = {"data": batch, "idx": batch.by_seed(), "cost": 2.0}
    return runs


def slow_fix_runs(kappa_runs: SweepData | None = None, entropy_runs: SweepData | None = None,
                  slow: SweepData | None = None, with_slow: bool = True) -> dict[str, dict]:
    """Setting (a) on 20 seeds: the default lr 0.01, kappa = -0.4, 800 updates, seeds
    2000-2019, paired run by run. "none" is collapse_kappa's kappa -0.4 cell, "entropy 0.01"
    and "entropy 0.05" are collapse_entropy's; the other fixes come from collapse_fixes_slow
    (loaded when `with_slow` and its file is there)."""
    from ..datasets import collapse as ds

    k = kappa_runs if kappa_runs is not None else data.load("collapse_kappa")
    e = entropy_runs if entropy_runs is not None else data.load("collapse_entropy")
    runs = {"none": {"data": k, "idx": k.by_seed(kappa=FIX_KAPPA), "cost": 1.0}}
    for coef in ds.ENTROPY_COEFS:
        runs[f"entropy {coef:g}"] = {"data": e, "cost": 1.0,
                                     "idx": e.by_seed(kappa=FIX_KAPPA, entropy_coef=coef)}
    if slow is None and with_slow and (data.DATA_DIR / "collapse_fixes_slow.npz").exists():
        slow = data.load("collapse_fixes_slow")
    if slow is not None:
        runs.update(_variant_runs(slow, ds.COLLAPSE_FIXES_SLOW, ds.SLOW_VARIANTS))
    return runs


def seeds_of(runs: dict[str, dict], label: str) -> list[int]:
    """The seeds of one fix's runs, in the order of its idx."""
    r = runs[label]
    return r["data"].arrays["seed"][r["idx"]].astype(int).tolist()


def collapsed_flags(runs: dict[str, dict], label: str) -> np.ndarray:
    """Collapsed (True) or not, per run of one fix, in seed order."""
    r = runs[label]
    return r["data"].collapsed[r["idx"]]


def collapsed_seeds(runs: dict[str, dict], label: str) -> list[int]:
    """Seeds of the collapsed runs of one fix."""
    d, i = runs[label]["data"], runs[label]["idx"]
    return d.arrays["seed"][i][d.collapsed[i]].astype(int).tolist()


def modes_of(runs: dict[str, dict], label: str) -> dict[int, str]:
    """seed -> behaviour mode name (analysis.MODES) of one fix's runs."""
    d, i = runs[label]["data"], runs[label]["idx"]
    return {int(s): analysis.MODES[m] if m >= 0 else "stopped"
            for s, m in zip(d.arrays["seed"][i], d.mode[i], strict=True)}


def first_update_below(sweep: SweepData, idx: np.ndarray, level: float = 0.01,
                       name: str = "entropy") -> np.ndarray:
    """End of the first stored block whose mean `name` is below level, per cell; -1 if never.
    Shape (len(idx),). With stride s, block j covers updates j*s .. (j+1)*s - 1."""
    h = sweep.h(name)[idx]
    below = np.nan_to_num(h, nan=np.inf) < level
    stride = int(round(sweep.update_axis()[0] * 2))
    return np.where(below.any(1), (below.argmax(1) + 1) * stride, -1)


def first_update_above(sweep: SweepData, idx: np.ndarray, level: float,
                       name: str = "abort_rate") -> np.ndarray:
    """End of the first stored block whose mean `name` is above level, per cell; -1 if never
    (first_update_below's mirror: when did a run start aborting?). Shape (len(idx),)."""
    h = sweep.h(name)[idx]
    above = np.nan_to_num(h, nan=-np.inf) > level
    stride = int(round(sweep.update_axis()[0] * 2))
    return np.where(above.any(1), (above.argmax(1) + 1) * stride, -1)


def fix_table(runs: dict[str, dict], risky_kappa0: float) -> list[dict]:
    """One row per fix, ranked by (collapsed runs, -mean final reward).

    Columns: collapsed (count), reward mean/sd/min over seeds, higher_ev, risky, entropy,
    compute (x control), d_reward (vs no fix), risk_kept = (risky - r0) / (risky_none - r0)
    where r0 = risky_kappa0 is the lower-p choice rate at kappa = 0 without a fix: the share
    of kappa's risk preference that survives the fix (1 = all, 0 = washed out). risky is the
    mean over the seeds that still choose (NaN-aware).
    """
    none = runs["none"]
    risky_none = float(np.nanmean(none["data"].final("risky_rate")[none["idx"]]))
    reward_none = float(np.nanmean(none["data"].final("reward")[none["idx"]]))
    rows = []
    for label, r in runs.items():
        d, i = r["data"], r["idx"]
        R = d.final("reward")[i]
        risky_seeds = d.final("risky_rate")[i]
        risky = float(np.nanmean(risky_seeds)) if np.isfinite(risky_seeds).any() else np.nan
        hev = d.final("higher_ev_rate")[i]
        rows.append({
            "fix": label, "seeds": len(i), "collapsed": int(d.collapsed[i].sum()),
            "reward": float(np.mean(R)), "reward_sd": float(np.std(R)),
            "reward_min": float(np.min(R)),
            "higher_ev": float(np.nanmean(hev)) if np.isfinite(hev).any() else np.nan,
            "risky": risky, "entropy": float(np.mean(d.final("entropy")[i])),
            "compute": r["cost"], "d_reward": float(np.mean(R)) - reward_none,
            "risk_kept": (risky - risky_kappa0) / (risky_none - risky_kappa0),
        })
    rows.sort(key=lambda row: (row["collapsed"], -row["reward"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def format_fix_table(rows: list[dict]) -> str:
    """The ranked table as fixed-width text (higher-EV and lower-p: means over choosing seeds)."""
    head = (f"{'rank':>4} {'fix':18s} {'collapsed':>9} {'reward mean (sd, min)':>22} "
            f"{'higher-EV':>9} {'lower-p':>7} {'entropy':>7} {'compute':>7} {'risk kept':>9}")
    lines = [head]
    for r in rows:
        lines.append(
            f"{r['rank']:>4} {r['fix']:18s} {r['collapsed']:>4} of {r['seeds']} "
            f"{r['reward']:>9.3f} ({r['reward_sd']:.3f}, {r['reward_min']:+.2f}) "
            f"{r['higher_ev']:>9.2f} {r['risky']:>7.2f} {r['entropy']:>7.3f} "
            f"{r['compute']:>6.0f}x {r['risk_kept']:>9.2f}")
    return "\n".join(lines)


def plot_fixes(rows: list[dict], runs: dict[str, dict], title: str = "") -> plt.Figure:
    """Final reward and lower-p choice rate of every seed per fix (ranked top to bottom);
    collapsed runs in red."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 0.6 + 0.3 * len(rows)), sharey=True)
    labels = [r["fix"] for r in rows]
    for y, label in enumerate(labels):
        d, i = runs[label]["data"], runs[label]["idx"]
        col = np.where(d.collapsed[i], "C3", "C0")
        jitter = np.linspace(-0.15, 0.15, len(i))
        ax1.scatter(d.final("reward")[i], y + jitter, c=col, s=16)
        ax2.scatter(d.final("risky_rate")[i], y + jitter, c=col, s=16)
    ax1.set_yticks(range(len(labels)), labels)
    ax1.invert_yaxis()
    ax1.set(xlabel="final reward / trial (red: collapsed)", title=title or "ranked fixes")
    ax2.axvline(0.5, color="0.8", ls=":")
    ax2.set(xlabel="lower-p choices on equal-EV pairs", title="risk preference kept?",
            xlim=data_limits([runs[lab]["data"].final("risky_rate")[runs[lab]["idx"]]
                              for lab in labels], 0.5))
    fig.tight_layout()
    return fig


def plot_ranked_fixes(ranked: dict[str, dict], order: list[str]) -> plt.Figure:
    """One ranked figure: per fix (top = best), the collapsed fraction with its interval in
    each setting. ranked[setting][fix] = (k, n, low, high); a fix a setting lacks is skipped."""
    fig, ax = plt.subplots(figsize=(9.0, 1.0 + 0.32 * len(order)), dpi=100)
    styles = {SETTINGS[1]: ("C3", "o", -0.13), SETTINGS[0]: ("C0", "s", 0.13)}
    for setting, (color, marker, dy) in styles.items():
        rows = [(y, ranked[setting][fix]) for y, fix in enumerate(order)
                if fix in ranked.get(setting, {})]
        if not rows:
            continue
        y = np.array([r[0] for r in rows]) + dy
        k, n, lo, hi = (np.array(v, dtype=float) for v in zip(*[r[1] for r in rows],
                                                               strict=True))
        ax.errorbar(k / n, y, xerr=[k / n - lo, hi - k / n], fmt=marker, color=color, ms=5,
                    capsize=2, lw=1, label=f"{setting} ({int(n.max())} seeds)")
    n_most = {s: max(v[1] for v in r.values()) for s, r in ranked.items() if r}
    ticks = []
    for fix in order:   # a fix run on fewer seeds than the rest of its setting says so
        fewer = sorted({ranked[s][fix][1] for s in ranked
                        if fix in ranked[s] and ranked[s][fix][1] < n_most[s]})
        ticks.append(fix + "".join(f" ({n} seeds)" for n in fewer))
    ax.set_yticks(range(len(order)), ticks)
    ax.invert_yaxis()
    ax.set_xlim(-0.03, 1.03)
    ax.set(xlabel="collapsed fraction of seeds (95 % Wilson interval)",
           title="the fixes ranked (kappa = -0.4)")
    # the key sits outside the axes, so it covers no point
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def plot_fix_curves(runs: dict[str, dict], label: str,
                    names=("reward", "entropy", "abort_rate", "risky_rate"),
                    title: str = "") -> plt.Figure:
    """Histories of one fix (coloured, one line per seed) over the control (grey)."""
    fig, axes = plt.subplots(1, len(names), figsize=(2.7 * len(names), 2.5))
    shown = [("none", "0.7")] + ([(label, None)] if label in runs else [])
    for ax, name in zip(axes, names, strict=True):
        for lab, color in shown:
            d, idx = runs[lab]["data"], runs[lab]["idx"]
            x = d.update_axis()
            for j, i in enumerate(idx):
                ax.plot(x, d.h(name)[i], lw=1.0 if color else 1.3, color=color or f"C{j}")
        ax.set(xlabel="update", title=plots.CURVES.get(name, name))
        if name in ("abort_rate", "risky_rate"):
            ax.set_ylim(-0.03, 1.03)
        if name == "entropy":
            ax.axhline(ENTROPY_TARGET, color="C3", ls=":", lw=1)
    what = label if label in runs else f"{label} (not run in this setting)"
    fig.suptitle(f"{title}: {what} (colour, one line per seed) vs no fix (grey)", fontsize=9)
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.18, top=0.8, wspace=0.3)  # fast
    return fig


class FixCurvesFigure:
    """plot_fix_curves drawn once per setting, then updated in place for each fix: a pool of
    lines per panel (the control's seeds in grey, the fix's in colour, unused lines empty)
    and the title. Axes limits are fixed (x: the setting's updates; y: the panel's range), so
    a move redraws only the lines and the title (widgets.Demo's blitting). One figure per
    setting: their runs have different numbers of seeds and updates. by_setting: setting ->
    runs (fix_runs / fast_fix_runs)."""

    NAMES = ("reward", "entropy", "abort_rate", "risky_rate")
    YLIM = {"reward": (-1.05, 1.0), "entropy": (-0.03, 1.15), "abort_rate": (-0.03, 1.03),
            "risky_rate": (-0.03, 1.03)}

    def __init__(self, by_setting: dict[str, dict[str, dict]]):
        self.by_setting = by_setting
        self._shown: dict[tuple, tuple] = {}
        self._figures: dict[str, tuple] = {}
        for setting, runs in by_setting.items():
            pool = len(runs["none"]["idx"]) + max(len(r["idx"]) for r in runs.values())
            x = runs["none"]["data"].update_axis()
            self._figures[setting] = self._build(pool, (x[0], x[-1]))
        self.fig = None

    def _data(self, setting: str, fix: str) -> tuple:
        """(x, [(color, width, ydata per name) per line]) for one (setting, fix)."""
        key = (setting, fix)
        if key not in self._shown:
            runs = self.by_setting[setting]
            shown = [("none", "0.7")] + ([(fix, None)] if fix in runs else [])
            x = runs["none"]["data"].update_axis()
            lines = []
            for lab, color in shown:
                d, idx = runs[lab]["data"], runs[lab]["idx"]
                for j, i in enumerate(idx):
                    lines.append((color or f"C{j}", 1.0 if color else 1.3,
                                  [d.h(name)[i] for name in self.NAMES]))
            self._shown[key] = (x, lines)
        return self._shown[key]

    def _build(self, pool: int, xrange: tuple[float, float]) -> tuple:
        names = self.NAMES
        fig = _demo_figure((2.7 * len(names), 2.5))
        axes = list(fig.subplots(1, len(names)))
        pad = 0.05 * (xrange[1] - xrange[0])
        for ax, name in zip(axes, names, strict=True):
            ax.set(xlabel="update", title=plots.CURVES.get(name, name), ylim=self.YLIM[name],
                   xlim=(xrange[0] - pad, xrange[1] + pad))
            if name == "entropy":
                ax.axhline(ENTROPY_TARGET, color="C3", ls=":", lw=1)
        _few_ticks(*axes)
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


# --- why the logit cap does not rescue a trapped run ---------------------------------------------
TRAP_RUNS = {  # label -> (logit_cap, entropy_coef, seed) at the fast-collapse setting
    "no fix, seed 1": (0.0, 0.0, 1),
    "logit cap 2, seed 1": (2.0, 0.0, 1),
    "logit cap 2, seed 0": (2.0, 0.0, 0),
    "entropy 0.05, seed 1": (0.0, 0.05, 1),
}
FACTORS = ("|f(d)|", "1 - pi(a)", "cap slope", "gradient norm")


def trap_settings() -> dict[str, TrainSettings]:
    """TRAP_RUNS as settings: the nb04_fixes_fast setting (lr 0.03, kappa = -0.4) with each run's
    logit cap, entropy bonus and seed."""
    from ..datasets import nb04_entropy_fix as ds

    base = TrainSettings().replace(**ds.FAST_CONTROL)
    return {label: base.replace(logit_cap=c, entropy_coef=e, seed=seed)
            for label, (c, e, seed) in TRAP_RUNS.items()}


def gradient_factors(result: TrainResult, trials: int = 256, seed: int = 999) -> dict:
    """Where the policy gradient of each trained network goes to zero, on a fresh batch.

    The gradient of log pi(a) f(d) with respect to the raw logit z_a of the chosen action is
    (1 - pi(a)) * cap'(z_a) * f(d), with cap'(z) = 1 - tanh^2(z / cap) (1 without a cap). Per
    network, means over valid steps of |f(d)|, 1 - pi(a) and cap'(z_a), and the global norm
    of the policy loss's gradient (bonus included). label -> {factor: value}.
    """
    out = {}
    for k, s in enumerate(result.settings):
        ens = Ensemble([s.replace(seed=seed)])
        with torch.no_grad():
            for name, p in ens.params.items():
                p.copy_(result.params[name][k:k + 1])
            for name, p in ens.baseline_params.items():
                p.copy_(result.baseline_params[name][k:k + 1])
        for p in ens.params.values():
            p.requires_grad_(True)
        ro = ens.rollout(trials, torch.tensor([s.kappa]))
        ro["policy_loss"].sum().backward()
        valid = ro["mask"].bool()
        a = ro["actions"].unsqueeze(-1)
        pi_a = ro["probs"].detach().gather(-1, a).squeeze(-1)
        z_a = ro["raw_logits"].detach().gather(-1, a).squeeze(-1)
        slope = (1 - torch.tanh(z_a / s.logit_cap) ** 2 if s.logit_cap > 0
                 else torch.ones_like(z_a))
        grad = torch.sqrt(sum((p.grad ** 2).sum() for p in ens.params.values()))
        out[k] = {"|f(d)|": ro["fd"][valid].abs().mean().item(),
                  "1 - pi(a)": (1 - pi_a[valid]).mean().item(),
                  "cap slope": slope[valid].mean().item(),
                  "gradient norm": grad.item(),
                  "entropy": ro["entropy"].detach()[valid].mean().item(),
                  "abort rate": float(ro["outcome"].aborted.float().mean())}
    return out


def trap_anatomy(updates: int = 40, progress: bool = True) -> tuple[dict, TrainResult]:
    """Train TRAP_RUNS (one ensemble, `updates` updates) and measure gradient_factors.
    Returns ({label: factors}, the training result)."""
    settings = trap_settings()
    result = train([s.replace(updates=updates) for s in settings.values()], progress=progress)
    factors = gradient_factors(result)
    return {label: factors[k] for k, label in enumerate(settings)}, result


def plot_trap_anatomy(factors: dict[str, dict]) -> plt.Figure:
    """Grouped bars (log scale): each factor of the policy gradient, per run; exact zeros are
    marked "0" at the floor."""
    fig, ax = plt.subplots(figsize=(9.0, 3.2))
    labels = list(factors)
    width = 0.8 / len(labels)
    x = np.arange(len(FACTORS))
    floor = 1e-12
    for j, label in enumerate(labels):
        pos = x + (j - (len(labels) - 1) / 2) * width
        vals = np.array([factors[label][f] for f in FACTORS])
        ax.bar(pos, np.maximum(vals, floor), width, label=label, color=f"C{j}")
        for p, v in zip(pos, vals, strict=True):
            if v == 0:
                ax.text(p, floor * 3, "0", ha="center", va="bottom", color=f"C{j}",
                        fontweight="bold")
    ax.set_yscale("log")
    ax.set_ylim(floor, 10)
    ax.set_xticks(x, FACTORS)
    ax.set_ylabel("value (means over valid steps)")
    ax.set_title("factors of the policy gradient after the first updates")
    ax.legend(fontsize=8, bbox_to_anchor=(1.01, 1.0), loc="upper left")
    fig.tight_layout()
    return fig


def load_fixes() -> tuple[SweepData, SweepData, SweepData, SweepData]:
    """nb00_main_grid, nb04_fixes, nb04_fixes_batch512, nb04_fixes_logit_cap (the default-lr
    comparison)."""
    return (data.load("nb00_main_grid"), data.load("nb04_fixes"), data.load("nb04_fixes_batch512"),
            data.load("nb04_fixes_logit_cap"))


def load_fast_fixes() -> tuple[SweepData, SweepData, SweepData]:
    """nb04_fixes_fast, nb04_fixes_fast_batch512, nb04_fixes_fast_logit_cap (the lr 0.03
    comparison)."""
    return (data.load("nb04_fixes_fast"), data.load("nb04_fixes_fast_batch512"),
            data.load("nb04_fixes_fast_logit_cap"))


def fixes_demo(runs: dict[str, dict] | None = None,
               fast_runs: dict[str, dict] | None = None) -> Demo:
    """Two dropdowns, setting and fix: the fix's learning curves over the control's."""
    runs = runs if runs is not None else slow_fix_runs()
    fast_runs = fast_runs if fast_runs is not None else fast_fix_runs20()
    by_setting = dict(zip(SETTINGS, (runs, fast_runs), strict=True))
    labels = [lab for lab in fast_runs if lab != "none"]
    labels += [lab for lab in runs if lab != "none" and lab not in labels]
    setting = W.Dropdown(options=list(SETTINGS), value=SETTINGS[1], description="setting")
    fix = W.Dropdown(options=labels, value="entropy 0.05", description="fix")

    def summary(setting, fix):
        r = by_setting[setting]
        if fix not in r:
            return f"{fix}: not run at {setting}"
        d, i = r[fix]["data"], r[fix]["idx"]
        R = d.final("reward")[i]
        return (f"{setting}, {fix}: final reward mean {np.mean(R):.2f} (min {np.min(R):.2f}); "
                f"collapsed {stats.frequency(d.collapsed[i])} "
                f"(no fix: {stats.frequency(collapsed_flags(r, 'none'))})")

    return Demo(FixCurvesFigure(by_setting), summary_fn=summary, setting=setting, fix=fix)


# --- live run --------------------------------------------------------------------------------
LIVE_SETTINGS = TrainSettings(updates=300, kappa=-0.4, seed=0)


def live_run_widget() -> LiveRun:
    """A button that trains one network with the reader's kappa, entropy_coef and fix."""
    def run(progress, kappa, entropy_coef, lr, batch_size, lr_schedule, kappa_schedule,
            wout_std, no_choice_penalty, logit_cap, updates, seed):
        torch.set_num_threads(1)
        progress.max = int(updates)
        progress.value = 0
        s = LIVE_SETTINGS.replace(
            kappa=kappa, entropy_coef=entropy_coef, lr=lr, batch_size=int(batch_size),
            lr_schedule=lr_schedule, kappa_schedule=kappa_schedule, kappa_step_updates=50,
            wout_std=wout_std, no_choice_penalty=no_choice_penalty, logit_cap=logit_cap,
            updates=int(updates), seed=int(seed))

        def tick(update, row):
            progress.value = update + 1

        return train(s, progress=False, callback=tick)

    def show(result: TrainResult):
        s = result.settings[0]
        h = {k: v[:, 0] for k, v in result.history.items()}
        return plots.plot_curves(np.arange(result.updates_done), h, smooth=10,
                                 names=("reward", "entropy", "higher_ev_rate", "risky_rate"),
                                 title=f"kappa={s.kappa:+.2f}, entropy_coef={s.entropy_coef:g}, "
                                       f"lr={s.lr:g}, batch={s.batch_size}"
                                       + (f", logit cap {s.logit_cap:g}" if s.logit_cap else ""))

    return LiveRun(
        run, show, description="Train",
        kappa=float_slider("kappa", -0.9, 0.9, 0.05, -0.4),
        entropy_coef=float_slider("entropy_coef", 0.0, 0.2, 0.005, 0.0, fmt=".3f"),
        lr=W.Dropdown(options=[0.001, 0.003, 0.01, 0.02, 0.03], value=0.01, description="lr"),
        batch_size=W.Dropdown(options=[128, 256, 512], value=256, description="batch"),
        lr_schedule=W.Dropdown(options=["constant", "exponential", "step"], value="constant",
                               description="lr schedule"),
        kappa_schedule=W.Dropdown(options=["constant", "gradual"], value="constant",
                                  description="kappa schedule"),
        wout_std=float_slider("wout_std", 0.0, 0.5, 0.01, 0.05),
        no_choice_penalty=float_slider("no_choice_penalty", -2.0, 0.0, 0.1, -0.5, fmt=".1f"),
        logit_cap=float_slider("logit_cap", 0.0, 5.0, 0.5, 0.0, fmt=".1f"),
        updates=float_slider("updates", 100, 2000, 100, 300, fmt=".0f"),
        seed=float_slider("seed", 0, 20, 1, 0, fmt=".0f"))


def demos() -> dict[str, Demo]:
    return {"grid": grid_demo(entropy_grid()), "bandit": bandit_demo(),
            "fixes": fixes_demo(slow_fix_runs(), fast_fix_runs20())}
