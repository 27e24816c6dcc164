"""Notebook 02: the output-layer initialisation W_out (the analysis's claim about it).

The policy readout is logits z_t = r_t W_out + b_out, pi_t = softmax(z_t), with rates r_t
(T, B, N). With entropy_coef = 0 the policy loss of one network is

    L = -(1/B) sum_{valid t, b} log pi(a_t | s_t) f(d_t),     f(d) the kappa transform,

and, because d log pi(a) / dz = onehot(a) - pi,

    dL/dW_out = -(1/B) sum_{valid t, b} f(d_t) r_t^T (onehot(a_t) - pi_t)          (N, A)
    dL/db_out = -(1/B) sum_{valid t, b} f(d_t) (onehot(a_t) - pi_t)                (A,)
    dL/dr_t   = -(1/B) f(d_t) (onehot(a_t) - pi_t) W_out^T                         (N,)

So at W_out = 0 the readout gradients are not zero (pi = 1/3 each, onehot - pi never is), but
every gradient that reaches the recurrent and input weights passes through W_out^T and is
exactly zero. Adam's first step moves each parameter by lr * g / (|g| + eps) = lr sign(g),
whatever the size of g: after one update every entry of W_out is +-lr and the recurrent
gradients are no longer zero.

Data: nb02_wout_early (50 updates, stride 1), nb02_wout_sweep (300 updates, stride 5),
nb02_wout_entropy (the sweep's runs with entropy_coef 0.05, four of its stds) and
nb02_wout_zero (0 vs 0.01 on 12 more seeds, 60 updates), see
pyrl_mini/datasets/nb02_wout_init.py. A run is "stuck" when it always aborts or never
chooses: every trial pays -0.5, so d ~ 0 and the gradient ~ 0 (at any entropy). Everything
else here runs live in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from .. import analysis, data, plots, tasks
from ..config import TrainSettings
from ..sweep import SweepData
from ..trainer import Ensemble, TrainResult, train
from ..widgets import (
    SLIDER_LAYOUT,
    SLIDER_STYLE,
    Demo,
    LiveRun,
    entropy_slider,
    float_slider,
    kappa_slider,
)

LN3 = float(np.log(3))
HOLD_STEPS = TrainSettings().task.fixation_steps + TrainSettings().task.stimulus_steps
# W_out stds for the instant demo of the initial policy (0 is exactly zero)
LIVE_WOUT_STDS = (0.0, 0.001, 0.01, 0.03, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0)
RECURRENT_NAMES = ("W_in", "W_rec", "W_in_gates", "W_rec_gates", "b", "b_gates", "x0")
READOUT_NAMES = ("W_out", "b_out")
# a run is "stuck" when it pays -0.5 on every trial: it always aborts or never chooses
STUCK_MODES = (analysis.MODES.index("always_aborts"), analysis.MODES.index("never_chooses"))


# --- 1. the upstream configuration trap -----------------------------------------------------
def wout_slider(values, value: float) -> W.SelectionSlider:
    """A slider over W_out standard deviations (0 means exactly zero)."""
    return W.SelectionSlider(options=[(f"{v:g}", v) for v in values], value=value,
                             description="wout_std", continuous_update=True,
                             style=SLIDER_STYLE, layout=SLIDER_LAYOUT)


def upstream_wout_std(config_value: float) -> float:
    """The std upstream's GRU used for a config value `Wout`: `Wout if Wout > 0 else 0.05`
    (pyrl/gru.py), so the default `Wout: 0` meant std 0.05, not zero."""
    return float(config_value) if config_value > 0 else 0.05


def initial_wout(wout_std: float, seed: int = 0) -> torch.Tensor:
    """W_out (N, A) of a freshly built pyrl_mini network: wout_std = 0 gives exactly zero."""
    ens = Ensemble([TrainSettings(seed=seed).replace(wout_std=wout_std)])
    return ens.params["W_out"][0].detach().clone()


# --- 2. the gradients at update 0 -----------------------------------------------------------
@dataclass
class Step0:
    """One batch at initialisation and the policy-loss gradients of every parameter.

    grads[name]: gradient of the policy loss (one network, ensemble dim dropped).
    rates (T, B, N), actions (T, B), probs (T, B, A), fd = f(d) (T, B), mask (T, B),
    trials = B. W_out (N, A) is the initial readout.
    """

    settings: TrainSettings
    grads: dict[str, torch.Tensor]
    rates: torch.Tensor
    actions: torch.Tensor
    probs: torch.Tensor
    fd: torch.Tensor
    mask: torch.Tensor
    trials: int
    W_out: torch.Tensor

    def norms(self) -> dict[str, float]:
        """L2 norm of each parameter's gradient."""
        return {k: float(g.norm()) for k, g in self.grads.items()}


def step0_gradients(wout_std: float = 0.0, kappa: float = 0.0, seed: int = 0,
                    trials: int = 256) -> Step0:
    """Roll out one batch at initialisation and backpropagate the policy loss only.

    Uses the trainer's own Ensemble.rollout, so the loss is exactly the one training uses
    (entropy_coef = 0). Takes about 0.1 s.
    """
    s = TrainSettings(seed=seed, kappa=kappa, batch_size=trials).replace(wout_std=wout_std)
    ens = Ensemble([s])
    ro = ens.rollout(trials, torch.tensor([float(kappa)]))
    ro["policy_loss"].sum().backward()
    grads = {k: p.grad[0].detach().clone() for k, p in ens.params.items()}
    return Step0(settings=s, grads=grads, rates=ro["rates"][:, 0].detach(),
                 actions=ro["actions"][:, 0], probs=ro["probs"][:, 0].detach(),
                 fd=ro["fd"][:, 0].detach(), mask=ro["mask"][:, 0], trials=trials,
                 W_out=ens.params["W_out"][0].detach().clone())


def wout_gradient(rates: torch.Tensor, actions: torch.Tensor, probs: torch.Tensor,
                  fd: torch.Tensor, mask: torch.Tensor, trials: int) -> torch.Tensor:
    """dL/dW_out = -(1/B) sum_{valid t, b} f(d_t) r_t^T (onehot(a_t) - pi_t), shape (N, A).

    rates (T, B, N), actions (T, B) long, probs (T, B, A), fd (T, B), mask (T, B).
    Holds for any W_out (it enters only through pi); with entropy_coef = 0.
    """
    onehot = torch.nn.functional.one_hot(actions, probs.shape[-1]).to(probs.dtype)
    weight = (fd * mask).unsqueeze(-1) * (onehot - probs)            # (T, B, A)
    return -torch.einsum("tbn,tba->na", rates, weight) / trials


def first_updates(wout_std: float = 0.0, kappa: float = 0.0, seed: int = 0) -> dict:
    """Train two updates with the library's trainer and report what one Adam step does.

    Returns: grad_norm_W_rec / W_in / W_out at updates 0 and 1 (arrays (2,)), W_out before
    and after update 0 (N, A), and the change of W_rec over update 1 (N, N): the recurrent
    weights do not move at update 0 when their gradient is zero, and move at update 1.
    """
    s = TrainSettings(seed=seed, kappa=kappa).replace(wout_std=wout_std)
    before = Ensemble([s]).params
    one = train(s, progress=False, stop_after=1)
    two = train(s, progress=False, stop_after=2)
    h = two.history
    return {
        "grad_norm_W_rec": h["grad_norm_W_rec"][:, 0], "grad_norm_W_in": h["grad_norm_W_in"][:, 0],
        "grad_norm_W_out": h["grad_norm_W_out"][:, 0],
        "W_out_before": before["W_out"][0].detach().clone(),
        "W_out_after_one": one.params["W_out"][0].clone(),
        "W_rec_step0": (one.params["W_rec"][0] - before["W_rec"][0].detach()),
        "W_rec_step1": (two.params["W_rec"][0] - one.params["W_rec"][0]),
        "lr": s.lr,
    }


# --- 3. the initial policy, instantly -------------------------------------------------------
class InitialPolicy:
    """The policy at initialisation for any W_out std, without re-running the network.

    The rates of a fresh network do not depend on W_out (the task's inputs never depend on
    the actions), and the library draws W_out = std * Z with one standard-normal Z (N, A) for
    a given seed. So one rollout gives rates (T, B, N) and Z, and
    pi_t(std) = softmax(std * r_t Z) for every std (b_out starts at 0): the same policy the
    trainer would start from (for std > 0; std = 0 gives pi = 1/3 exactly).
    """

    def __init__(self, seed: int = 0, trials: int = 64):
        s = TrainSettings(seed=seed, batch_size=trials).replace(wout_std=1.0)
        ens = Ensemble([s])
        with torch.no_grad():
            ro = ens.rollout(trials, torch.zeros(1))
        self.rates = ro["rates"][:, 0]                     # (T, B, N)
        self.Z = ens.params["W_out"][0].detach()           # (N, A)
        self.seed, self.trials = seed, trials

    def probs(self, wout_std: float) -> torch.Tensor:
        """pi (T, B, A) at initialisation with W_out = wout_std * Z."""
        return torch.softmax(wout_std * (self.rates @ self.Z), dim=-1)

    def stats(self, wout_std: float) -> dict:
        """Summary of the initial policy over all T steps of the B trials.

        entropy: mean H = -sum_a pi log pi over steps and trials (ln 3 = 1.099 is uniform);
        max_prob: mean max_a pi; p_hold: per trial, prod_{t < hold} pi_t(FIXATE), the chance
        to reach the decision epoch without aborting (B,); mean_probs (T, A).
        """
        p = self.probs(wout_std)
        H = -(p * torch.log(p.clamp_min(1e-30))).sum(-1)               # (T, B)
        p_hold = p[:HOLD_STEPS, :, tasks.FIXATE].prod(0)                 # (B,)
        return {"wout_std": wout_std, "seed": self.seed, "entropy": float(H.mean()),
                "entropy_steps": H.numpy(), "max_prob": float(p.amax(-1).mean()),
                "p_hold": p_hold.numpy(), "mean_probs": p.mean(1).numpy(),
                "low_probs": np.quantile(p.numpy(), 0.1, axis=1),
                "high_probs": np.quantile(p.numpy(), 0.9, axis=1)}


def _small_ticks(ax) -> None:
    """Fewer, smaller tick labels: text is most of a slider redraw's cost."""
    ax.xaxis.set_major_locator(MaxNLocator(3))
    ax.yaxis.set_major_locator(MaxNLocator(3))
    ax.tick_params(labelsize=7)


def _new_figure(figsize) -> Figure:
    """A Figure with its own Agg canvas, outside pyplot (Demo renders it to PNG itself)."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


ENTROPY_EDGES = np.linspace(0, 1.12, 29)


class InitialPolicyFigure:
    """plot_initial_policy drawn once, then updated in place on every slider move.

    Left: pi(a) per time step (mean over trials, 10-90 % band), epochs marked.
    Right: the distribution of the per-step entropy H (fraction of steps x trials), with
    ln 3 (uniform) marked. Every axes limit is fixed, so a move redraws only the curves,
    bands, histogram and titles (blitted by Demo)."""

    def __init__(self):
        self.fig: Figure | None = None

    def _build(self, T: int) -> None:
        fig = _new_figure((7.6, 3.1))
        ax1, ax2 = fig.subplots(1, 2)
        self.fig, self.ax1, self.ax2 = fig, ax1, ax2
        t = np.arange(T)
        zeros = np.zeros(T)
        self.lines, self.bands = [], []
        for name in tasks.ACTIONS:
            line = ax1.plot(t, zeros, lw=1.5, label=name)[0]
            self.lines.append(line)
            self.bands.append(ax1.fill_between(t, zeros, zeros, alpha=0.2))
        ax1.axvspan(-0.5, HOLD_STEPS - 0.5, color="0.93", zorder=-1)
        ax1.text(HOLD_STEPS / 2, 1.02, "must fixate", ha="center", fontsize=8)
        uniform = ax1.axhline(1 / 3, color="0.6", ls=":", lw=1)
        ax1.set(xlabel="time step", ylabel="pi(a)", ylim=(-0.02, 1.1),
                xlim=(-0.05 * (T - 1), 1.05 * (T - 1)))
        # below the panels, off the curves
        fig.legend(handles=self.lines, loc="lower center", ncol=3, fontsize=7, frameon=False)
        self.stairs = ax2.stairs(np.zeros(len(ENTROPY_EDGES) - 1), ENTROPY_EDGES, fill=True,
                                 color="C0")   # one artist: cheaper than hist's bars
        ln3 = ax2.axvline(LN3, color="k", ls="--", lw=1)
        ax2.text(LN3, 1.0, "ln 3", fontsize=8, ha="center", va="bottom",
                 transform=ax2.get_xaxis_transform())
        ax2.set(xlabel="entropy H per step (nats)", ylabel="fraction of steps x trials",
                xlim=(ENTROPY_EDGES[0] - 0.056, ENTROPY_EDGES[-1] + 0.056), ylim=(-0.02, 1.02))
        for ax in (ax1, ax2):
            _small_ticks(ax)
            ax.title.set_fontsize(10)
            ax.set_title(" ")     # a Text artist to update in place
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.27, top=0.88, wspace=0.3)
        # drawn in this order on every move: the reference lines go over the data, as in a
        # full draw
        dynamic = [*self.bands, *self.lines, uniform, self.stairs, ln3, ax1.title, ax2.title]
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic

    def __call__(self, st: dict) -> Figure:
        T = st["mean_probs"].shape[0]
        if self.fig is None:
            self._build(T)
        t = np.arange(T)
        for a, (line, band) in enumerate(zip(self.lines, self.bands, strict=True)):
            line.set_ydata(st["mean_probs"][:, a])
            band.set_data(t, st["low_probs"][:, a], st["high_probs"][:, a])
        self.ax1.set_title(f"initial policy, wout_std={st['wout_std']:g}, seed {st['seed']}")
        counts, _ = np.histogram(st["entropy_steps"].ravel(), bins=ENTROPY_EDGES)
        self.stairs.set_data(counts / max(counts.sum(), 1))
        self.ax2.set_title(f"mean H = {st['entropy']:.3f}")
        return self.fig


def plot_initial_policy(st: dict) -> Figure:
    """Left: pi(a) per time step (mean over trials, 10-90 % band), epochs marked.
    Right: the distribution of the per-step entropy H, with ln 3 (uniform) marked."""
    return InitialPolicyFigure()(st)


def initial_policy_summary(st: dict, batch: int = 256) -> str:
    hold = float(st["p_hold"].mean())
    return (f"wout_std={st['wout_std']:g}, seed {st['seed']}: mean H={st['entropy']:.3f} "
            f"(ln 3={LN3:.3f}), mean max pi={st['max_prob']:.3f}, "
            f"P(hold fixation {HOLD_STEPS} steps)={hold:.2e} -> {hold * batch:.2f} of {batch} "
            "trials per batch reach a choice")


def initial_policy_demo(policies: dict[int, InitialPolicy] | None = None,
                        seeds: int = 12, trials: int = 64) -> Demo:
    """Instant demo: the initial policy and its entropy as wout_std and the seed move (no
    training). Every seed's rollout is made here, once (about 20 ms each), so a move of
    either slider only recomputes a softmax and redraws."""
    policies = {} if policies is None else policies
    for seed in range(seeds):
        if seed not in policies:
            policies[seed] = InitialPolicy(seed=seed, trials=trials)
    cache: dict[tuple[float, int], dict] = {}

    def stats(wout_std, seed):
        seed = int(seed)
        if (wout_std, seed) not in cache:
            cache[(wout_std, seed)] = policies[seed].stats(wout_std)
        return cache[(wout_std, seed)]

    figure = InitialPolicyFigure()
    return Demo(lambda wout_std, seed: figure(stats(wout_std, seed)),
                summary_fn=lambda wout_std, seed: initial_policy_summary(stats(wout_std, seed)),
                wout_std=wout_slider(LIVE_WOUT_STDS, 0.05),
                seed=W.IntSlider(value=0, min=0, max=seeds - 1, description="seed",
                                 continuous_update=True, style=SLIDER_STYLE))


# --- 4. the precomputed runs ----------------------------------------------------------------
DATASETS = {"early": "nb02_wout_early", "sweep": "nb02_wout_sweep", "zero": "nb02_wout_zero",
            "entropy": "nb02_wout_entropy"}


def load() -> dict[str, SweepData]:
    """{"early", "sweep", "zero", "entropy"}: the notebook's datasets, checksums verified."""
    return {key: data.load(name) for key, name in DATASETS.items()}


def entropy_coef_of(d: SweepData) -> float:
    """The entropy_coef every run of dataset d used (its base setting; 0 if not set)."""
    return float(d.meta.get("spec", {}).get("base", {}).get("entropy_coef", 0.0))


def by_std(d: SweepData, values: np.ndarray, kappa: float | None = None) -> dict:
    """Group a per-cell array by wout_std: {std: values of the cells (seeds x kappas)}."""
    out = {}
    for w in d.values("wout_std"):
        idx = d.select(wout_std=w) if kappa is None else d.select(wout_std=w, kappa=kappa)
        out[w] = np.asarray(values)[idx]
    return out


def stuck(d: SweepData) -> np.ndarray:
    """Per cell: the run ended always aborting or never choosing (mode over its last
    updates), so every trial pays -0.5 and the advantage, hence the gradient, is ~0.
    Shape (cells,)."""
    return np.isin(d.mode, STUCK_MODES)


def stuck_table(d: SweepData) -> dict[tuple[float, float], tuple[int, int]]:
    """{(wout_std, kappa): (stuck runs, runs)} over seeds."""
    t = stuck(d)
    return {(w, k): (int(t[d.select(wout_std=w, kappa=k)].sum()),
                     len(d.select(wout_std=w, kappa=k)))
            for w in d.values("wout_std") for k in d.values("kappa")}


def stuck_rate(d: SweepData, stds, kappas=None) -> tuple[float, int, int]:
    """(fraction, stuck, runs) pooled over the given stds (and kappas; all if None)."""
    t = stuck(d)
    has_kappa = "kappa" in d.grid_names
    idx = np.concatenate([
        d.select(wout_std=w) if kappas is None or not has_kappa else
        np.concatenate([d.select(wout_std=w, kappa=k) for k in kappas]) for w in stds])
    return float(t[idx].mean()), int(t[idx].sum()), len(idx)


def stuck_changes(base: SweepData, other: SweepData) -> dict[float, tuple[int, int, int]]:
    """Pair every run of `other` with the run of `base` at the same (wout_std, kappa, seed)
    (e.g. the same runs with and without an entropy bonus). Per wout_std of `other`:
    (pairs, stuck in base but not in other, stuck in other but not in base)."""
    tb, to = stuck(base), stuck(other)
    key = {(base.arrays["grid/wout_std"][i], base.arrays["grid/kappa"][i],
            base.arrays["seed"][i]): i for i in range(len(tb))}
    out = {}
    for w in other.values("wout_std"):
        pairs = freed = caught = 0
        for i in other.select(wout_std=w):
            j = key.get((w, other.arrays["grid/kappa"][i], other.arrays["seed"][i]))
            if j is None:
                continue
            pairs += 1
            freed += int(tb[j] and not to[i])
            caught += int(to[i] and not tb[j])
        out[w] = (pairs, freed, caught)
    return out


def std_pairs(d: SweepData, a: float, b: float, kappa: float | None = None) -> dict[str, int]:
    """Runs at wout_std a and b with the same seed (and kappa, if the data vary it; only this
    kappa if given): same initial weights apart from W_out, same trials and noise.
    {"pairs", "both", "only_a", "only_b"}: how many pairs, both stuck, only a's run stuck,
    only b's run stuck."""
    t = stuck(d)
    has_kappa = "kappa" in d.grid_names

    def keyed(w):
        idx = d.select(wout_std=w)
        if has_kappa and kappa is not None:
            idx = idx[np.isclose(d.arrays["grid/kappa"][idx], kappa)]
        return {(d.arrays["grid/kappa"][i] if has_kappa else None, d.arrays["seed"][i]): i
                for i in idx}

    ka, kb = keyed(a), keyed(b)
    common = sorted(set(ka) & set(kb), key=str)
    sa = np.array([t[ka[c]] for c in common], dtype=bool)
    sb = np.array([t[kb[c]] for c in common], dtype=bool)
    return {"pairs": len(common), "both": int((sa & sb).sum()),
            "only_a": int((sa & ~sb).sum()), "only_b": int((~sa & sb).sum())}


def kappa_agreement(d: SweepData) -> tuple[int, int]:
    """(groups, groups in which every kappa ends the same way) over (wout_std, seed) groups:
    how often kappa changes whether a run gets stuck."""
    t = stuck(d)
    groups = agree = 0
    for w in d.values("wout_std"):
        idx = d.select(wout_std=w)
        for seed in np.unique(d.arrays["seed"][idx]):
            vals = t[idx[d.arrays["seed"][idx] == seed]]
            groups += 1
            agree += int(vals.all() or not vals.any())
    return groups, agree


def fisher_one_sided(k1: int, n1: int, k2: int, n2: int) -> float:
    """P(X >= k1) for X hypergeometric: the one-sided Fisher exact test that group 1 (k1 of
    n1) has a higher rate than group 2 (k2 of n2)."""
    from math import comb
    total, hits = n1 + n2, k1 + k2
    denom = comb(total, n1)
    return sum(comb(hits, x) * comb(total - hits, n1 - x)
               for x in range(k1, min(hits, n1) + 1)) / denom


def prefix_agreement(early: SweepData, sweep: SweepData,
                     names=("abort_rate", "entropy", "grad_norm")) -> dict:
    """Compare the first updates of the cells the two datasets share (same wout_std, kappa,
    seed): the early data (stride 1) averaged in blocks of the sweep's stride against the
    sweep's first points. Returns {"cells": shared cells, "max_abs_diff": largest difference}.
    The runs are the same computation, so the difference should be rounding only."""
    stride = sweep.meta.get("spec", {}).get("stride", 5)
    points = early.h(names[0]).shape[1] // stride
    cells, worst = 0, 0.0
    for i in range(len(sweep.arrays["seed"])):
        w, k = sweep.arrays["grid/wout_std"][i], sweep.arrays["grid/kappa"][i]
        seed = sweep.arrays["seed"][i]
        if w not in early.values("wout_std"):
            continue
        j = [c for c in early.select(wout_std=w, kappa=k) if early.arrays["seed"][c] == seed]
        if not j:
            continue
        cells += 1
        for name in names:
            a = early.h(name)[j[0], :points * stride].reshape(points, stride).mean(1)
            worst = max(worst, float(np.max(np.abs(a - sweep.h(name)[i, :points]))))
    return {"cells": cells, "max_abs_diff": worst}


def stuck_agreement(early: SweepData, sweep: SweepData) -> dict:
    """Does "stuck at update 50" (early data) predict "stuck at the end" (sweep) for the same
    run? Returns {"runs", "agree", "escaped_entropy": entropy at update 50 of the runs stuck
    then but not at the end, "late": runs not stuck at update 50 but stuck at the end}."""
    e_stuck, s_stuck = stuck(early), stuck(sweep)
    runs = agree = late = 0
    escaped = []
    for i in range(len(sweep.arrays["seed"])):
        w, k = sweep.arrays["grid/wout_std"][i], sweep.arrays["grid/kappa"][i]
        j = [c for c in early.select(wout_std=w, kappa=k)
             if early.arrays["seed"][c] == sweep.arrays["seed"][i]]
        if not j:
            continue
        runs += 1
        if e_stuck[j[0]] == s_stuck[i]:
            agree += 1
        elif e_stuck[j[0]]:
            escaped.append(float(early.h("entropy")[j[0], -1]))
        else:
            late += 1
    return {"runs": runs, "agree": agree, "escaped_entropy": np.array(escaped), "late": late}


def plot_step0(early: SweepData) -> plt.Figure:
    """Update 0 against wout_std (all seeds x kappas, median and range): left, gradient norm
    of each parameter group; right, the initial entropy H (ln 3 marked) and max pi."""
    stds = np.array(early.values("wout_std"))
    x = np.where(stds == 0, stds[stds > 0].min() / 3, stds)     # place 0 left of the axis
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.0))
    for name, color in (("grad_norm_W_out", "C3"), ("grad_norm_W_rec", "C0"),
                        ("grad_norm_W_in", "C2")):
        g = by_std(early, early.h(name)[:, 0])
        med = np.array([np.median(g[w]) for w in stds])
        lo = np.array([g[w].min() for w in stds])
        hi = np.array([g[w].max() for w in stds])
        floor = 1e-6
        ax1.plot(x, np.maximum(med, floor), "o-", color=color, label=name[10:])
        ax1.fill_between(x, np.maximum(lo, floor), np.maximum(hi, floor), color=color,
                         alpha=0.15)
    ax1.set(xscale="log", yscale="log", xlabel="wout_std",
            ylabel="gradient norm (0 drawn at 1e-6)", title="update 0: gradient by group")
    ax1.legend(fontsize=7)
    for name, color, label in (("entropy", "k", "entropy H"), ("max_prob", "C1", "max pi")):
        v = by_std(early, early.h(name)[:, 0])
        ax2.plot(x, [np.median(v[w]) for w in stds], "o-", color=color, label=label)
        ax2.fill_between(x, [v[w].min() for w in stds], [v[w].max() for w in stds],
                         color=color, alpha=0.15)
    ax2.axhline(LN3, color="k", ls=":", lw=1)
    ax2.set(xscale="log", xlabel="wout_std", ylim=(0, 1.15), title="update 0: the policy")
    ax2.legend(fontsize=7)
    for ax in (ax1, ax2):
        ax.minorticks_off()
        ax.set_xticks([x[0], 0.01, 0.1, 1], ["0", "0.01", "0.1", "1"])
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.17, top=0.9, wspace=0.25)
    return fig


SWEEP_PANELS = ("reward", "entropy", "grad_norm")
GRAD_FLOOR = 1e-6   # exact zeros sit on the bottom edge
GRAD_TICKS = ((-6, "1e-6"), (-4, "1e-4"), (-2, "1e-2"), (0, "1"))


class SweepFigure:
    """plot_sweep drawn once, then updated in place on every slider move.

    Reward, entropy and gradient norm of every seed at (wout_std, kappa, entropy_coef), each
    coloured by its final mode (a stuck run sits at reward -0.5), and the fraction of stuck
    runs against wout_std at this kappa and entropy_coef. The gradient norm is drawn as log10
    on a linear axis (a log axis costs a third of a redraw), ticks labelled with the norm.

    sweep: the entropy_coef 0 runs (nb02_wout_sweep); others: more datasets, each at one
    entropy_coef (nb02_wout_entropy). A combination no dataset holds draws no lines and
    a bar labelled "n/c" (not computed)."""

    def __init__(self, sweep: SweepData, *others: SweepData):
        self.sweep = sweep
        self.sources = {entropy_coef_of(d): d for d in (sweep, *others)}
        self.fig: Figure | None = None
        self.stds = sorted({w for d in self.sources.values() for w in d.values("wout_std")})
        self.colors = {m: f"C{i}" for i, m in enumerate(analysis.MODES)}
        self.u = sweep.update_axis()
        for d in others:
            if not np.array_equal(d.update_axis(), self.u):
                raise ValueError("every dataset of the sweep figure needs the same updates")
        self.curves: dict[float, dict[str, np.ndarray]] = {}
        for e, d in self.sources.items():
            self.curves[e] = {}
            for name in SWEEP_PANELS:
                y = np.asarray(d.h(name))
                if name == "grad_norm":
                    y = np.log10(np.maximum(y, GRAD_FLOOR))
                self.curves[e][name] = y
        self._idx: dict[tuple[float, float, float], np.ndarray] = {}
        self._rates: dict[tuple[float, float], list[float]] = {}
        self.max_seeds = max(len(self.idx(w, k, e)) for w in self.stds
                             for k in sweep.values("kappa") for e in self.sources)

    def idx(self, wout_std: float, kappa: float, entropy_coef: float = 0.0) -> np.ndarray:
        """Cells of the dataset at entropy_coef with this (wout_std, kappa); empty if none."""
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
            t = stuck(d) if d is not None else None
            self._rates[key] = [float(t[i].mean()) if len(i := self.idx(w, kappa, entropy_coef))
                                else float("nan") for w in self.stds]
        return self._rates[key]

    def _build(self) -> None:
        fig = _new_figure((10.5, 3.0))
        axes = fig.subplots(1, len(SWEEP_PANELS) + 1)
        self.fig, self.axes = fig, axes
        self.lines = {}
        xlim = (self.u[0] - 0.05 * (self.u[-1] - self.u[0]),
                self.u[-1] + 0.05 * (self.u[-1] - self.u[0]))
        for ax, name in zip(axes, SWEEP_PANELS, strict=False):
            self.lines[name] = [ax.plot(self.u, np.zeros_like(self.u), lw=1.2)[0]
                                for _ in range(self.max_seeds)]
            ax.set(xlabel="update", title=plots.CURVES.get(name, name), xlim=xlim)
            _small_ticks(ax)
            if name == "grad_norm":
                ax.set_ylim(np.log10(5e-7), np.log10(30))
                ax.set_yticks([v for v, _ in GRAD_TICKS], [s for _, s in GRAD_TICKS])
            elif name == "entropy":
                ax.axhline(LN3, color="0.7", ls=":", lw=1)
                ax.set_ylim(-0.03, 1.15)
            else:
                ax.axhline(-0.5, color="0.7", ls=":", lw=1)
                ax.set_ylim(-0.6, 1.0)
            ax.title.set_fontsize(10)
        handles = [Line2D([], [], color=self.colors[m], label=m) for m in analysis.MODES]
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
                    mode = analysis.MODES[d.mode[i]] if d.mode[i] >= 0 else "learning"
                    line.set_data(self.u, self.curves[entropy_coef][name][i])
                    line.set_color(self.colors[mode])
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


def plot_sweep(sweep: SweepData, wout_std: float, kappa: float, *others: SweepData,
               entropy_coef: float = 0.0) -> Figure:
    """Reward, entropy and gradient norm of every seed at (wout_std, kappa, entropy_coef),
    each coloured by its final mode (a stuck run sits at reward -0.5), and the fraction of
    stuck runs against wout_std at this kappa and entropy_coef."""
    return SweepFigure(sweep, *others)(wout_std, kappa, entropy_coef)


def sweep_summary(sweep: SweepData | None, wout_std: float, kappa: float,
                  entropy_coef: float | None = None) -> str:
    """One line on the runs of `sweep` at (wout_std, kappa): their final modes and reward.
    sweep None, or without this cell, gives "not computed" and what is."""
    ent = "" if entropy_coef is None else f" entropy_coef={entropy_coef:g}"
    head = f"wout_std={wout_std:g} kappa={kappa:+.1f}{ent}"
    idx = (np.zeros(0, dtype=int) if sweep is None or wout_std not in sweep.values("wout_std")
           else sweep.select(wout_std=wout_std, kappa=kappa))
    if len(idx) == 0:
        have = ", ".join(f"{w:g}" for w in sweep.values("wout_std")) if sweep else "none"
        return f"{head}: not computed. Computed wout_std at this entropy_coef: {have}"
    modes = [analysis.MODES[m] if m >= 0 else "stopped" for m in sweep.mode[idx]]
    rew = sweep.final("reward")[idx]
    crit = sweep.arrays["updates_to_criterion"][idx]
    return (f"{head}, {len(idx)} seeds: modes at update "
            f"{int(sweep.update_axis()[-1] + 2.5)}: {', '.join(modes)}; final reward "
            f"{np.mean(rew):+.2f} (seeds {', '.join(f'{r:+.2f}' for r in rew)}); "
            f"criterion met by {int((crit >= 0).sum())}")


def sweep_demo(sweep: SweepData | None = None, entropy: SweepData | None = None) -> Demo:
    """wout_std, kappa and entropy_coef sliders over the precomputed 300-update runs:
    entropy_coef 0 is nb02_wout_sweep, 0.05 is nb02_wout_entropy (four of the six stds)."""
    sweep = sweep or data.load(DATASETS["sweep"])
    entropy = entropy or data.load(DATASETS["entropy"])
    figure = SweepFigure(sweep, entropy)
    sources = figure.sources
    return Demo(figure,
                summary_fn=lambda wout_std, kappa, entropy_coef: sweep_summary(
                    sources.get(entropy_coef), wout_std, kappa, entropy_coef),
                wout_std=wout_slider(figure.stds, 0.05),
                kappa=kappa_slider(sweep.values("kappa"), 0.0),
                entropy_coef=entropy_slider(sorted(sources), 0.0))


def demos() -> dict[str, Demo]:
    """Every demo of notebook 02, built on the precomputed data."""
    sweep, entropy = data.load(DATASETS["sweep"]), data.load(DATASETS["entropy"])
    return {"initial_policy": initial_policy_demo(), "sweep": sweep_demo(sweep, entropy)}


def live_run_widget() -> LiveRun:
    """A button that trains one network with the reader's wout_std, kappa and entropy_coef."""
    def run(progress, wout_std, kappa, entropy_coef, seed, updates):
        progress.max = int(updates)
        progress.value = 0
        s = TrainSettings(updates=int(updates), seed=int(seed), kappa=kappa,
                          entropy_coef=entropy_coef).replace(wout_std=wout_std)

        def tick(update, row):
            progress.value = update + 1

        return train(s, progress=False, callback=tick)

    def show(result: TrainResult):
        h = {k: v[:, 0] for k, v in result.history.items()}
        s = result.settings[0]
        mode = analysis.MODES[int(analysis.mode_of_history(result.history)[0])]
        return plots.plot_curves(np.arange(result.updates_done), h, smooth=5,
                                 names=("abort_rate", "higher_ev_rate", "entropy", "reward"),
                                 title=f"wout_std={s.network.wout_std:g}, kappa={s.kappa:+.2f},"
                                       f" entropy_coef={s.entropy_coef:g}, seed {s.seed}: "
                                       f"{mode}")

    return LiveRun(run, show, description="Train",
                   wout_std=wout_slider(LIVE_WOUT_STDS, 1.0),
                   kappa=float_slider("kappa", -0.9, 0.9, 0.05, 0.0),
                   entropy_coef=float_slider("entropy_coef", 0.0, 0.1, 0.005, 0.0, fmt=".3f"),
                   seed=float_slider("seed", 0, 20, 1, 0, fmt=".0f"),
                   updates=float_slider("updates", 50, 1000, 50, 150, fmt=".0f"))
