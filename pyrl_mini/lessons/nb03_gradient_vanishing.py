"""Notebook 03's figures and demos: the vanishing policy gradient; converged vs trapped runs.

The notebook's own computations (the bandit plateau, the saturation gap, the behaviour words,
the counts its verdicts rest on) live in its cells; this module keeps the figures, the demos
and the readers of the stored runs that are too long to read in a cell.

Part 1 (one softmax, instant): the value log pi(a) and the gradient onehot(a) - pi of the
log-policy with respect to the logits, as the logit gap grows; float32 / float64 saturation.
Part 2 (a bandit, instant): exact and sampled softmax policy gradient, the plateau that a
near-deterministic start on a worse arm causes, and the slow 1/t approach at the end.
Part 3 (the gambling task, precomputed): every run classified by behaviour (analysis.MODES:
converged, learning, or a trapped mode), trapped fraction over kappa x learning rate
(datasets nb03_kappa_lr + nb00_main_grid) and over reward designs (nb03_reward_design +
nb00_main_grid), gradient clipping on the same runs.

Notation: logits z (..., K), pi = softmax(z), advantage d = G - V, f(d) its kappa transform
(kappa < 0 risk-seeking), H the policy entropy, tau = entropy_coef.
"""

from __future__ import annotations

import functools
import math
import warnings

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .. import analysis, bandit, data, softmax
from ..sweep import SweepData
from ..widgets import SLIDER_LAYOUT, SLIDER_STYLE, Demo, entropy_slider, kappa_slider


def choice_slider(description: str, values, value, fmt: str = "{:g}") -> W.SelectionSlider:
    """A slider over a fixed list of values (demos read or compute only these)."""
    return W.SelectionSlider(options=[(fmt.format(v), v) for v in values], value=value,
                             description=description, continuous_update=True,
                             style=SLIDER_STYLE, layout=SLIDER_LAYOUT)


# ----------------------------------------------------------------------------------------------
# Part 1: one softmax, value vs gradient
# ----------------------------------------------------------------------------------------------


def gap_curves(gaps: np.ndarray, dtype: torch.dtype = torch.float32) -> dict[str, np.ndarray]:
    """Value and gradient of log pi for two actions with logits z = (gap, 0), shape (G,) each.

    pi_lead                 pi(lead) = 1 / (1 + e^-gap)
    log_pi_lead / _other    log pi(a), a value (<= 0)
    grad_lead / grad_other  |onehot(a) - pi| (L2 norm) when a = lead / other was sampled:
                            sqrt(2) (1 - pi_lead) and sqrt(2) pi_lead
    grad_expected           E_a~pi |onehot(a) - pi| = 2 sqrt(2) pi_lead pi_other: the sampled
                            "unlikely action" has a large gradient but probability pi_other
    pg_exact                |E_a~pi[r(a) (onehot(a) - pi)]| = |pi * (r - pi . r)| with the
                            lead action the *worse* one (r = (0, 1)): the exact policy gradient
    All computed by autograd in `dtype` (softmax.log_pi_and_grad), so float32 zeros are real.
    """
    z = torch.zeros(len(gaps), 2, dtype=torch.float64)
    z[:, 0] = torch.as_tensor(np.asarray(gaps, dtype=np.float64))
    lead = softmax.log_pi_and_grad(z, 0, dtype)
    other = softmax.log_pi_and_grad(z, 1, dtype)
    pi = torch.softmax(z.to(dtype), -1)
    pg = softmax.expected_pg(z.to(dtype), torch.tensor([0.0, 1.0], dtype=dtype))
    g_lead = lead.grad_autograd.norm(dim=-1)
    g_other = other.grad_autograd.norm(dim=-1)
    return {
        "gap": np.asarray(gaps, dtype=np.float64),
        "pi_lead": pi[:, 0].numpy(),
        "log_pi_lead": lead.log_pi.numpy(),
        "log_pi_other": other.log_pi.numpy(),
        "grad_lead": g_lead.numpy(),
        "grad_other": g_other.numpy(),
        "grad_expected": (pi[:, 0] * g_lead + pi[:, 1] * g_other).numpy(),
        "pg_exact": pg.norm(dim=-1).numpy(),
    }


def plot_value_vs_gradient(gap_max: float = 40.0, marker: float | None = None) -> plt.Figure:
    """|log pi| and |d log pi / dz| against the logit gap (log y), float32 solid, float64 dotted.

    A quantity that is exactly 0 cannot be drawn on a log axis: the line stops there.
    """
    gaps = np.linspace(0.0, gap_max, 161)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    styles = (("log_pi_lead", "|log pi(lead)|  (the value the analysis multiplies)", "C0"),
              ("grad_lead", "|grad|, lead action sampled", "C1"),
              ("log_pi_other", "|log pi(other)|", "C2"),
              ("grad_other", "|grad|, unlikely action sampled", "C3"),
              ("grad_expected", "E|grad| over sampled actions", "k"))
    for dtype, ls in ((torch.float32, "-"), (torch.float64, ":")):
        c = gap_curves(gaps, dtype)
        for name, label, color in styles:
            y = np.abs(c[name]).astype(np.float64)
            y[y == 0] = np.nan
            ax.plot(gaps, y, ls, color=color, lw=1.4,
                    label=label if dtype == torch.float32 else None)
    for dtype, name, y in ((torch.float32, "float32", 1e-16), (torch.float64, "float64", 1e-10)):
        g = softmax.ideal_saturation_gap(dtype)
        ax.axvline(g, color="0.6", lw=0.8)
        ax.text(g + 0.3, y, f"pi = 1.0 in {name}", fontsize=7, rotation=90, va="bottom")
    ax.axhline(softmax.printed_zero_threshold(6), color="0.6", ls="--", lw=0.8)
    ax.text(0.3, 7e-7, '"%.6f" prints 0.000000 below', fontsize=7)
    if marker is not None:
        ax.axvline(marker, color="C3", lw=1.5, alpha=0.5)
    ax.set(yscale="log", ylim=(1e-17, 1e9), xlim=(0, gap_max),
           xlabel="logit gap z_lead - z_other", ylabel="magnitude",
           title="two actions: value vs gradient (solid float32, dotted float64)")
    ax.legend(fontsize=6.5, loc="upper center", ncol=2)
    fig.tight_layout()
    return fig


@functools.lru_cache(maxsize=64)
def gap_table(gap: float) -> dict[str, dict[str, float]]:
    """At one logit gap, per dtype: pi, log pi and the gradient components of both actions.
    Cached: the demo's figure and summary line both read it."""
    out = {}
    for dtype in (torch.float32, torch.float64):
        z = torch.tensor([[gap, 0.0]], dtype=torch.float64)
        lead = softmax.log_pi_and_grad(z, 0, dtype)
        other = softmax.log_pi_and_grad(z, 1, dtype)
        pi = torch.softmax(z.to(dtype), -1)[0]
        out[str(dtype).replace("torch.", "")] = {
            "pi_lead": pi[0].item(), "pi_other": pi[1].item(),
            "log_pi_lead": lead.log_pi.item(), "log_pi_other": other.log_pi.item(),
            "grad_lead_0": lead.grad_autograd[0, 0].item(),
            "grad_lead_1": lead.grad_autograd[0, 1].item(),
            "grad_other_0": other.grad_autograd[0, 0].item(),
            "grad_other_1": other.grad_autograd[0, 1].item(),
        }
    return out


GAP_NAMES = ("pi_lead", "log_pi_lead", "grad_lead_0", "grad_lead_1",
             "pi_other", "log_pi_other", "grad_other_0", "grad_other_1")
GAP_FLOOR = -3.0  # log pi(other) ~ -gap: a bar below this is drawn to it and labelled


class GapFigure:
    """Bars at one logit gap: pi, log pi and the gradient onehot(a) - pi of each sampled
    action, float32 next to float64. A float32 gradient component that is exactly 0 is marked
    with an x; a bar below GAP_FLOOR is cut there and its value written under it. Built once,
    fixed limits: a move redraws only the bars, marks, labels and title (Demo's blitting)."""

    def __init__(self):
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

    def __call__(self, gap: float) -> Figure:
        t = gap_table(gap)
        for j, dt in enumerate(("float32", "float64")):
            vals = np.array([t[dt][n] for n in GAP_NAMES])
            for patch, v, label in zip(self.bars[j].patches, vals, self.values[j],
                                          strict=True):
                patch.set_height(max(v, GAP_FLOOR))
                label.set_text(f"{v:.3g}" if v < GAP_FLOOR else "")
            zero = (vals == 0) & np.isin(np.arange(len(GAP_NAMES)), [2, 3, 6])
            self.marks[j].set_data(self.x[zero] + (j - 0.5) * 0.38, np.zeros(zero.sum()))
        self.ax.set_title(f"logit gap {gap:g}: a bar below -3 is cut, its value written under it",
                          fontsize=8)
        return self.fig


def plot_gap_demo(gap: float) -> Figure:
    """The gap demo's figure at one gap (a fresh GapFigure)."""
    return GapFigure()(gap)


def gap_summary(gap: float) -> str:
    t = gap_table(gap)
    f32, f64 = t["float32"], t["float64"]
    return (f"gap {gap:g}: pi(lead) float32 {f32['pi_lead']:.9f} "
            f"({'exactly 1' if f32['pi_lead'] == 1 else 'below 1'}), float64 "
            f"{f64['pi_lead']:.17f}; |grad| if lead sampled: float32 "
            f"{math.hypot(f32['grad_lead_0'], f32['grad_lead_1']):.2e}, float64 "
            f"{math.hypot(f64['grad_lead_0'], f64['grad_lead_1']):.2e}; if unlikely sampled "
            f"{math.hypot(f32['grad_other_0'], f32['grad_other_1']):.3f} "
            f"(log pi = {f32['log_pi_other']:.2f}), but that happens with probability "
            f"{f32['pi_other']:.1e}")


def gap_demo() -> Demo:
    """Logit-gap slider: pi, log pi and gradients in float32 and float64."""
    gaps = [0, 1, 2, 4, 8, 12, 14, 15, 16, 16.5, 17, 20, 30, 36, 37, 50, 100, 104, 110]
    return Demo(GapFigure(), summary_fn=gap_summary,
                gap=choice_slider("logit gap", gaps, 4, fmt="{:g}"))


# ----------------------------------------------------------------------------------------------
# Part 2: a two-armed bandit, exact and sampled policy gradient
# ----------------------------------------------------------------------------------------------

BANDIT_REWARDS = (1.0, 0.0)  # best arm first; reward gap Delta = 1
BANDIT_STEPS = 1000


def escape_step(pi_best: np.ndarray, level: float = 0.5) -> np.ndarray:
    """First step at which pi_best >= level along axis 0 (steps, ...); -1 if never."""
    hit = np.asarray(pi_best) >= level
    first = hit.argmax(0)
    return np.where(hit.any(0), first, -1)


def plateau_table(p0s=(0.1, 0.03, 0.01, 0.003, 0.001), lr: float = 0.1,
                  steps: int = 6000) -> dict[str, np.ndarray]:
    """Exact PG from pi_best = p0 on two arms (r = (1, 0)): measured steps to pi_best = 1/2
    against the closed form t = [F(1/2) - F(p0)] / (2 lr Delta) and its small-p0 limit
    1 / (2 lr Delta p0). All runs in one exact_pg_trajectory call (runs dim), shape (P,)."""
    p0s = np.asarray(p0s, dtype=np.float64)
    theta0 = np.stack([bandit.initial_logits_for(BANDIT_REWARDS, p) for p in p0s])
    pi = bandit.exact_pg_trajectory(theta0, BANDIT_REWARDS, lr, steps)   # (steps+1, P, 2)
    gap = BANDIT_REWARDS[0] - BANDIT_REWARDS[1]
    return {"p0": p0s, "measured": escape_step(pi[:, :, 0]),
            "formula": np.array([bandit.plateau_length_two_arm(p, gap, lr) for p in p0s]),
            "limit": 1.0 / (2 * lr * gap * p0s)}


def late_phase(lr: float = 0.1, steps: int = 4000) -> dict[str, np.ndarray]:
    """Exact PG from pi_best = 1/2: 1 - pi_best(t) against the 1 / (2 lr Delta t) tail."""
    pi = bandit.exact_pg_trajectory(bandit.initial_logits_for(BANDIT_REWARDS, 0.5),
                                    BANDIT_REWARDS, lr, steps)
    t = np.arange(1, steps + 1)
    return {"t": t, "gap": 1 - pi[1:, 0], "formula": bandit.late_phase_gap(t, 1.0, lr)}


def sampled_escape(p0: float = 0.01, lr: float = 0.1, runs: int = 16, batch_size: int = 16,
                   steps: int = 1500, seed: int = 0) -> dict[str, np.ndarray]:
    """Sampled REINFORCE (exact baseline V = pi . r) from pi_best = p0: pi_best (steps+1, runs)
    and each run's escape step, next to the exact-gradient trajectory (steps+1,)."""
    s = bandit.BanditSettings(arm_means=BANDIT_REWARDS, init_prob_best=p0, lr=lr, runs=runs,
                              batch_size=batch_size, steps=steps, seed=seed)
    sampled = bandit.sampled_pg_trajectory(s)[:, :, 0]
    exact = bandit.exact_pg_trajectory(s.initial_logits(), BANDIT_REWARDS, lr, steps)[:, 0]
    return {"sampled": sampled, "exact": exact, "escape": escape_step(sampled),
            "exact_escape": int(escape_step(exact)),
            "formula": bandit.plateau_length_two_arm(p0, 1.0, lr)}


def plot_plateau(table: dict, late: dict, sampled: dict) -> plt.Figure:
    """Left: plateau length vs p0 (measured, closed form, 1/p0 limit). Middle: sampled runs vs
    the exact trajectory. Right: 1 - pi_best(t) against 1 / (2 lr Delta t) (log-log)."""
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(10.5, 3.0))
    a1.loglog(table["p0"], table["measured"], "o", color="k", label="exact PG (measured)")
    a1.loglog(table["p0"], table["formula"], "-", color="C1", label="[F(1/2) - F(p0)] / 2 lr D")
    a1.loglog(table["p0"], table["limit"], ":", color="C2", label="1 / (2 lr D p0)")
    a1.set(xlabel="initial pi(best arm) p0", ylabel="steps to pi_best = 1/2", title="plateau")
    a1.legend(fontsize=6)
    t = np.arange(len(sampled["exact"]))
    a2.plot(t, sampled["sampled"], color="C0", lw=0.6, alpha=0.5)
    a2.plot(t, sampled["exact"], color="k", lw=2, label="exact gradient")
    a2.axvline(sampled["formula"], color="C1", ls="--", lw=1, label="formula")
    a2.set(xlabel="step", ylabel="pi(best arm)", title="sampled runs (batch 16)")
    a2.legend(fontsize=6)
    a3.loglog(late["t"], late["gap"], color="k", label="exact PG")
    a3.loglog(late["t"], late["formula"], ":", color="C1", label="1 / (2 lr D t)")
    a3.set(xlabel="step t", ylabel="1 - pi(best arm)", title="the 1/t approach")
    a3.legend(fontsize=6)
    fig.tight_layout()
    return fig


@functools.lru_cache(maxsize=64)
def bandit_trajectory(p0: float, lr: float, entropy_coef: float,
                      steps: int = BANDIT_STEPS) -> np.ndarray:
    """pi(best arm) over steps (steps + 1,) of exact PG on the two arms from pi_best = p0.
    Cached: the demo's figure and summary line both read it (do not modify the array)."""
    theta0 = bandit.initial_logits_for(BANDIT_REWARDS, p0)
    return bandit.exact_pg_trajectory(theta0, BANDIT_REWARDS, lr, steps, entropy_coef)[:, 0]


class BanditFigure:
    """Exact PG on two arms, computed live: pi_best(t) (left) and log10(1 - pi_best(t)) against
    log10 t (right), with the closed-form plateau (tau = 0), the 1 / (2 lr Delta t) tail and the
    entropy-regularised optimum softmax(r / tau). Linear axes of log values, fixed limits:
    built once, and a move redraws only the curves, markers and title (Demo's blitting)."""

    def __init__(self, steps: int = BANDIT_STEPS):
        self.steps = steps
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

    def __call__(self, p0: float, lr: float, entropy_coef: float) -> Figure:
        pi = bandit_trajectory(p0, lr, entropy_coef, self.steps)
        t = self.t
        self.curve.set_data(t, pi)
        plateau = bandit.plateau_length_two_arm(p0, 1.0, lr) if p0 < 0.5 else 0.0
        self.plateau.set_xdata([plateau, plateau])
        self.plateau.set_visible(plateau <= self.steps)
        optimum = bandit.regularised_optimum(BANDIT_REWARDS, entropy_coef)[0]
        self.optimum.set_ydata([optimum, optimum])
        self.axes[0].set_title(f"p0={p0:g}, lr={lr:g}, tau={entropy_coef:g}")
        lt = np.log10(t[1:])
        self.gap_curve.set_data(lt, np.log10(np.maximum(1 - pi[1:], 1e-17)))
        self.tail.set_data(lt, np.log10(bandit.late_phase_gap(t[1:], 1.0, lr)))
        gap = np.log10(max(1 - optimum, 1e-17))
        self.gap_optimum.set_ydata([gap, gap])
        self.gap_optimum.set_visible(entropy_coef > 0)
        return self.fig


def bandit_summary(p0: float, lr: float, entropy_coef: float) -> str:
    pi = bandit_trajectory(p0, lr, entropy_coef)
    esc = int(escape_step(pi))
    formula = bandit.plateau_length_two_arm(p0, 1.0, lr) if p0 < 0.5 else 0.0
    return (f"escape (pi_best >= 1/2) at step {esc if esc >= 0 else f'> {BANDIT_STEPS}'}; "
            f"closed form (tau = 0) {formula:.0f}; pi_best at step {BANDIT_STEPS}: "
            f"{pi[-1]:.4f}; optimum of pi.r + tau H: "
            f"{bandit.regularised_optimum(BANDIT_REWARDS, entropy_coef)[0]:.4f}")


def bandit_demo() -> Demo:
    """Sliders: initial probability of the best arm, learning rate, entropy coefficient."""
    return Demo(BanditFigure(), summary_fn=bandit_summary,
                p0=choice_slider("initial pi(best)", [0.5, 0.2, 0.1, 0.05, 0.02, 0.01,
                                                          0.005, 0.002, 0.001], 0.01, "{:g}"),
                lr=choice_slider("learning rate", [0.1, 0.2, 0.5, 1.0, 2.0], 0.5, "{:g}"),
                entropy_coef=entropy_slider([0.0, 0.01, 0.05, 0.1, 0.2], 0.0))


# ----------------------------------------------------------------------------------------------
# Part 3: the gambling task, precomputed runs
# ----------------------------------------------------------------------------------------------

COMPARE_AT = 700  # nb03_kappa_lr / nb03_reward_design run 700 updates; nb00_main_grid is cut there
ANALYSIS_LOG_UPDATE = 600  # the analysis's collapsed log ("Step 600")
# The analysis's collapsed log at step 600 (kappa = -0.2), as printed there.
ANALYSIS_LOG = {"logp_mean": 0.0, "logp_std": 0.0, "grad_norm": 0.0, "adv_mean": -0.005360,
                "adv_pos_frac": 0.366, "adv_neg_frac": 0.634}
LEARNING_RATES = (0.003, 0.01, 0.03)   # 0.01 from nb00_main_grid at entropy_coef = 0
REWARD_LR = 0.03                       # nb03_reward_design's learning rate (collapse is frequent)
REWARD_VARIANTS = {  # name -> (no_choice_penalty, step_cost); upstream's abort penalty is -0.5
    "upstream": (-0.5, 0.0),
    "no-choice -1.0": (-1.0, 0.0),
    "step cost 0.01": (-0.5, 0.01),
}


def load_runs() -> dict[str, SweepData]:
    """The three datasets this notebook reads (checksums verified by data.load)."""
    return {name: data.load(name)
            for name in ("nb00_main_grid", "nb03_kappa_lr", "nb03_reward_design")}


def stride_of(d: SweepData) -> int:
    return int(d.meta.get("spec", {}).get("stride", 10))


def block_of(d: SweepData, update: int) -> int:
    """Index of the stored block (stride updates each) that contains `update`."""
    return update // stride_of(d)


def modes_at(d: SweepData, update: int, window: int = 50) -> np.ndarray:
    """Behaviour mode of every stored run over updates [update - window, update), shape (cells,).

    Uses the stored block means (stride updates each), so it equals the stored `mode` (which
    analysis.mode_of_history computed on full-resolution histories over the last 50 updates)
    up to NaN handling; tests check the agreement at the last update. choice_rate is stored by
    nb03_kappa_lr / nb03_reward_design; for nb00_main_grid it is 1 - abort_rate - no_choice_rate.
    """
    s = stride_of(d)
    lo, hi = (update - window) // s, update // s
    if lo < 0 or hi > d.h("reward").shape[1]:
        raise ValueError(f"update={update} with window={window} is outside the stored "
                         f"{d.h('reward').shape[1] * s} updates.")

    def mean(name):
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(d.h(name)[:, lo:hi], axis=1)

    abort, none = mean("abort_rate"), mean("no_choice_rate")
    choice = mean("choice_rate") if "h/choice_rate" in d.arrays else 1 - abort - none
    return analysis.collapse_mode(abort, none, choice, mean("left_rate"), mean("higher_ev_rate"))


def mode_names(modes: np.ndarray) -> list[str]:
    return [analysis.MODES[int(m)] if m >= 0 else "stopped" for m in np.ravel(modes)]


def collapse_map(runs: dict[str, SweepData], update: int = COMPARE_AT) -> dict[str, np.ndarray]:
    """Modes over kappa x learning rate x seeds at `update`, entropy_coef = 0.

    lr 0.003 and 0.03 from nb03_kappa_lr, lr 0.01 from nb00_main_grid. Returns kappas (K,),
    lrs (L,), modes (K, L, S) and collapsed (K, L) = fraction of seeds in a collapsed mode, and
    cells (K, L, S) = (dataset name, cell index) as strings "name:index".
    """
    kl, main = runs["nb03_kappa_lr"], runs["nb00_main_grid"]
    kappas = np.array(kl.values("kappa"))
    modes, cells = [], []
    for k in kappas:
        row_m, row_c = [], []
        for lr in LEARNING_RATES:
            d, name = (main, "nb00_main_grid") if lr == 0.01 else (kl, "nb03_kappa_lr")
            idx = (d.by_seed(kappa=k, entropy_coef=0.0) if lr == 0.01
                   else d.by_seed(kappa=k, lr=lr))
            row_m.append(modes_at(d, update)[idx])
            row_c.append([f"{name}:{i}" for i in idx])
        modes.append(row_m)
        cells.append(row_c)
    modes = np.array(modes)
    return {"kappas": kappas, "lrs": np.array(LEARNING_RATES), "modes": modes,
            "collapsed": analysis.is_collapsed(modes).mean(-1), "cells": np.array(cells)}


def reward_map(runs: dict[str, SweepData], update: int = COMPARE_AT) -> dict[str, np.ndarray]:
    """Modes over reward variant x kappa x seeds at `update` (entropy_coef = 0, lr = 0.03).

    The upstream variant is nb03_kappa_lr at lr = 0.03 (same seeds: paired); the others
    nb03_reward_design. Returns variants (V,) names, kappas (K,), modes (V, K, S), collapsed (V, K),
    cells (V, K, S) "name:index".
    """
    rd, kl = runs["nb03_reward_design"], runs["nb03_kappa_lr"]
    kappas = np.array(rd.values("kappa"))
    lr = float(rd.meta.get("spec", {}).get("base", {}).get("lr", REWARD_LR))
    modes, cells = [], []
    for ncp, cost in REWARD_VARIANTS.values():
        row_m, row_c = [], []
        for k in kappas:
            if (ncp, cost) == (-0.5, 0.0):
                d, name, idx = kl, "nb03_kappa_lr", kl.by_seed(kappa=k, lr=lr)
            else:
                d, name = rd, "nb03_reward_design"
                idx = rd.by_seed(kappa=k, no_choice_penalty=ncp, step_cost=cost)
            row_m.append(modes_at(d, update)[idx])
            row_c.append([f"{name}:{i}" for i in idx])
        modes.append(row_m)
        cells.append(row_c)
    modes = np.array(modes)
    return {"variants": np.array(list(REWARD_VARIANTS)), "kappas": kappas, "modes": modes,
            "collapsed": analysis.is_collapsed(modes).mean(-1), "cells": np.array(cells)}


def run_ref(runs: dict[str, SweepData], ref: str) -> tuple[SweepData, int]:
    """"name:index" -> (dataset, cell index)."""
    name, i = ref.split(":")
    return runs[name], int(i)


def stored_history(d: SweepData, cells) -> dict[str, np.ndarray]:
    """Stored block means of some runs as a history dict name -> (points, runs), the layout
    analysis.report reads (one point = the mean of `stride` updates). Diagnostics a dataset
    did not keep are NaN; choice_rate is derived if missing."""
    cells = np.atleast_1d(cells)
    shape = (d.h("reward").shape[1], len(cells))
    out = {}
    for name in ("reward", "abort_rate", "no_choice_rate", "choice_rate", "higher_ev_rate",
                 "risky_rate", "left_rate", "entropy", "logp_mean", "logp_std", "max_prob",
                 "grad_norm", "grad_norm_W_in", "grad_norm_W_rec", "grad_norm_W_out",
                 "grad_norm_biases", "clipped", "adv_mean", "adv_std", "adv_pos_frac",
                 "adv_neg_frac", "dead_fraction", "dormant_fraction", "kappa"):
        key = "h/" + name
        out[name] = d.arrays[key][cells].T if key in d.arrays else np.full(shape, np.nan)
    if "h/choice_rate" not in d.arrays:
        out["choice_rate"] = 1 - out["abort_rate"] - out["no_choice_rate"]
    if "h/kappa" not in d.arrays:
        out["kappa"] = np.broadcast_to(d.arrays["grid/kappa"][cells], shape).copy()
    return out


def stored_report(runs: dict[str, SweepData], ref: str, update: int | None = None,
                  label: str = "") -> str:
    """analysis.report of a stored run at the block containing `update` (None: the last
    block), i.e. the mean of `stride` updates. Diagnostics a dataset did not keep print nan."""
    d, i = run_ref(runs, ref)
    s = stride_of(d)
    b = d.h("reward").shape[1] - 1 if update is None else block_of(d, update)
    text = analysis.report(stored_history(d, i), b, 0, label=label, number=b * s)
    return text.replace(f"Update {b * s}", f"Updates {b * s}-{b * s + s - 1} (mean)", 1)


def side_by_side(texts: list[str], titles: list[str] | None = None, width: int = 46) -> str:
    """Text blocks in columns of `width` characters (lines cut to fit)."""
    blocks = [t.splitlines() for t in texts]
    if titles is not None:
        blocks = [[f"=== {title} ==="] + b for title, b in zip(titles, blocks, strict=True)]
    rows = max(len(b) for b in blocks)
    lines = []
    for r in range(rows):
        cols = [(b[r] if r < len(b) else "")[:width - 1].ljust(width) for b in blocks]
        lines.append("".join(cols).rstrip())
    return "\n".join(lines)


# --- which behaviour prints the analysis's collapsed log --------------------------------------

PRINTS_ZERO = softmax.printed_zero_threshold(6)   # "%.6f" prints 0.000000 below this


def all_runs(runs: dict[str, SweepData], entropy_coef: float | None = 0.0) -> list[str]:
    """Every run of the datasets at this entropy_coef (None: all), as "name:index" references.
    Datasets without an entropy_coef grid ran at entropy_coef = 0."""
    refs = []
    for name, d in runs.items():
        if "entropy_coef" in d.grid_names and entropy_coef is not None:
            idx = d.select(entropy_coef=entropy_coef)
        elif entropy_coef in (None, 0.0):
            idx = np.arange(len(d.arrays["seed"]))
        else:
            idx = np.array([], dtype=int)
        refs += [f"{name}:{i}" for i in idx]
    return refs


def log_match(runs: dict[str, SweepData], update: int = ANALYSIS_LOG_UPDATE,
              entropy_coef: float | None = None) -> dict[str, np.ndarray]:
    """For every run at the block containing `update`: does it print the analysis's collapsed
    log lines, and what is its behaviour mode there?

    prints_zero: |log pi mean|, log pi spread and gradient norm all below 5e-7 (print as
    0.000000). adv_pos_frac / adv_mean: what the run prints for the advantage. mode: behaviour
    over the 50 updates before `update`. Arrays of shape (runs,), refs "name:index".
    """
    refs = all_runs(runs, entropy_coef)
    out = {k: [] for k in ("prints_zero", "logp_mean", "logp_std", "grad_norm", "adv_mean",
                           "adv_pos_frac", "mode", "final_mode")}
    modes = {name: modes_at(d, update) for name, d in runs.items()}
    for ref in refs:
        d, i = run_ref(runs, ref)
        b = block_of(d, update)
        v = {k: float(d.h(k)[i, b]) for k in ("logp_mean", "logp_std", "grad_norm",
                                              "adv_mean", "adv_pos_frac")}
        for k, x in v.items():
            out[k].append(x)
        out["prints_zero"].append(abs(v["logp_mean"]) < PRINTS_ZERO
                                  and v["logp_std"] < PRINTS_ZERO
                                  and v["grad_norm"] < PRINTS_ZERO)
        out["mode"].append(int(modes[ref.split(":")[0]][i]))
        out["final_mode"].append(int(d.mode[i]))
    res = {k: np.array(v) for k, v in out.items()}
    res["refs"] = np.array(refs)
    return res


def example_runs(runs: dict[str, SweepData], modes=analysis.MODES) -> dict[str, str]:
    """One run per behaviour mode (final mode), "name:index": the first found at
    entropy_coef = 0 in the order nb03_kappa_lr, nb03_reward_design, nb00_main_grid (the first
    two keep every diagnostic that report prints), then at any entropy_coef for modes not found."""
    out = {}
    for entropy_coef in (0.0, None):
        for name in ("nb03_kappa_lr", "nb03_reward_design", "nb00_main_grid"):
            if name not in runs:
                continue
            for ref in all_runs({name: runs[name]}, entropy_coef):
                m = mode_names(final_modes(runs, [ref]))[0]
                if m in modes and m not in out:
                    out[m] = ref
    return {m: out[m] for m in modes if m in out}


def final_modes(runs: dict[str, SweepData], refs) -> np.ndarray:
    """Stored final behaviour mode of each run reference, shape (runs,)."""
    return np.array([int(run_ref(runs, r)[0].mode[run_ref(runs, r)[1]]) for r in refs])


def describe(runs: dict[str, SweepData], ref: str) -> str:
    """Short label of a run: its grid values and seed."""
    d, i = run_ref(runs, ref)
    parts = [f"{g}={d.arrays['grid/' + g][i]:g}" for g in d.grid_names]
    return f"{ref.split(':')[0]} " + " ".join(parts) + f" seed={d.arrays['seed'][i]}"


# --- figures ----------------------------------------------------------------------------------

MODE_COLORS = {"converged": "C2", "learning": "C0", "never_chooses": "C3",
               "always_aborts": "C1", "one_side": "C4", "stopped": "0.5"}


def final_table(runs: dict[str, SweepData], refs, names) -> dict[str, np.ndarray]:
    """Final values (last 50 updates) of some diagnostics for runs given as refs, (runs,)."""
    out = {n: [] for n in names}
    for ref in refs:
        d, i = run_ref(runs, ref)
        for n in names:
            out[n].append(float(d.final(n)[i]) if "final/" + n in d.arrays else np.nan)
    return {n: np.array(v) for n, v in out.items()}


def plot_convergence_vs_collapse(runs: dict[str, SweepData], entropy_coef: float = 0.0
                                 ) -> plt.Figure:
    """Every run's final entropy (log10) against its final reward (left) and higher-EV choice
    rate (right), coloured by behaviour: small entropy alone does not tell collapse from
    convergence; the behaviour does."""
    refs = all_runs(runs, entropy_coef)
    f = final_table(runs, refs, ("entropy", "reward", "higher_ev_rate", "abort_rate"))
    modes = mode_names(final_modes(runs, refs))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(8.6, 3.0))
    logh = np.log10(np.maximum(f["entropy"], 1e-12))
    for m in analysis.MODES:
        sel = np.array([x == m for x in modes])
        if not sel.any():
            continue
        a1.plot(logh[sel], f["reward"][sel], "o", color=MODE_COLORS[m], ms=5, alpha=0.8,
                label=f"{m} ({sel.sum()})")
        a2.plot(logh[sel], np.nan_to_num(f["higher_ev_rate"][sel], nan=-0.05), "o",
                color=MODE_COLORS[m], ms=5, alpha=0.8)
    a1.set(xlabel="log10 final entropy (nats)", ylabel="final reward / trial",
           title=f"{len(refs)} runs, entropy_coef={entropy_coef:g}")
    a2.set(xlabel="log10 final entropy (nats)", ylabel="higher-EV choices (-0.05: none)",
           ylim=(-0.1, 1.02), title="choices still follow the offer?")
    a1.legend(fontsize=6, loc="center left")
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.17, top=0.89, wspace=0.32)
    return fig


def plot_clipping(runs: dict[str, SweepData], clip: float = 5.0,
                  entropy_coef: float = 0.0) -> plt.Figure:
    """Each stored block (10 updates) of every run: gradient norm before clipping (log10)
    against the fraction of those updates that were clipped, coloured by the run's final
    behaviour. Clipping acts only right of log10(clip); collapsed runs sit far to the left."""
    fig, ax = plt.subplots(figsize=(6.0, 3.0))
    seen = set()
    for ref in all_runs(runs, entropy_coef):
        d, i = run_ref(runs, ref)
        m = analysis.MODES[int(d.mode[i])]
        g = np.log10(np.maximum(d.h("grad_norm")[i], 1e-16))
        ax.plot(g, d.h("clipped")[i], ".", color=MODE_COLORS[m], ms=3, alpha=0.5,
                label=None if m in seen else m)
        seen.add(m)
    ax.axvline(np.log10(clip), color="k", lw=1, ls="--", label=f"clip = {clip:g}")
    ax.axvline(np.log10(PRINTS_ZERO), color="0.6", lw=1, ls=":", label="prints 0.000000")
    ax.set(xlabel="log10 gradient norm before clipping (10-update mean)",
           ylabel="fraction of updates clipped", xlim=(-16.5, 2))
    ax.legend(fontsize=6, loc="center left")
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.17, top=0.95)
    return fig


def clipping_stats(runs: dict[str, SweepData], clip: float = 5.0, entropy_coef: float = 0.0,
                   last: int = 100) -> dict[str, np.ndarray]:
    """Per run (entropy_coef runs of all datasets): fraction of all updates clipped, fraction
    clipped over the last `last` stored updates, the largest and the final gradient norm, the
    final mode. Arrays (runs,)."""
    out = {k: [] for k in ("clipped_all", "clipped_last", "max_grad", "final_grad", "mode")}
    for ref in all_runs(runs, entropy_coef):
        d, i = run_ref(runs, ref)
        nb_last = max(1, last // stride_of(d))
        out["clipped_all"].append(float(np.nanmean(d.h("clipped")[i])))
        out["clipped_last"].append(float(np.nanmean(d.h("clipped")[i, -nb_last:])))
        out["max_grad"].append(float(np.nanmax(d.h("grad_norm")[i])))
        out["final_grad"].append(float(d.final("grad_norm")[i]))
        out["mode"].append(int(d.mode[i]))
    return {k: np.array(v) for k, v in out.items()}


# --- the 20-seed frequencies (collapse_kappa, collapse_fixes) ---------------------------------


def fix_rows(d: SweepData, variant: str = "none") -> np.ndarray:
    """Rows of collapse_fixes for one of its variants (datasets.collapse.FIX_VARIANTS: "none"
    is lr 0.03, kappa -0.4, 250 updates; "lower lr" the same at lr 0.01), ordered by seed, so
    two variants pair up run by run (they share seeds 3000-3019)."""
    from ..datasets.collapse import COLLAPSE_FIXES, FIX_VARIANTS, variant_rows
    return variant_rows(d, COLLAPSE_FIXES, FIX_VARIANTS, variant)


def plot_trap_frequencies(groups: dict[str, np.ndarray], trap: np.ndarray,
                          kappas, seeds) -> plt.Figure:
    """Left: trapped fraction of each group of independent runs (label -> bool per seed) with
    its 95 % Wilson interval; groups whose label starts alike share a colour. Right: the
    seeds x kappas outcomes of one paired dataset (trap: (seeds, kappas) bool), seeds sorted
    by how many kappas trap them: a filled square is a trapped run."""
    from ..stats import wilson

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
        a1.text(len(kappas) - 0.4, y, str(int(trap[i].sum())), fontsize=8, va="center")
    a1.plot([], [], "s", color="C3", label="trapped")
    a1.plot([], [], "s", mfc="none", color="0.6", label="not trapped")
    a1.set_xticks(range(len(kappas)), [f"{k:+.1f}" if k else "0" for k in kappas])
    a1.set_yticks(range(len(order)), [str(s) for s in np.asarray(seeds)[order]], fontsize=7)
    a1.set(xlim=(-0.5, len(kappas) - 0.1), ylim=(len(order) - 0.5, -0.5), xlabel="kappa",
           ylabel="seed (sorted)", title="each seed at each kappa (right: at how many)")
    a1.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    return fig


# --- the map demos ----------------------------------------------------------------------------

class ModeMapFigure:
    """Left: trapped seeds per (row, col) cell (of S), the selected cell outlined. Right: the
    selected cell's runs, reward over updates, coloured by behaviour at COMPARE_AT (dashed).
    (Their gradient norms are in the demo's summary line: a figure with fewer texts redraws
    faster.)

    Built once; a call moves the outline and the reward lines. Axes limits are fixed, so the
    demo redraws only those (widgets.Demo's blitting)."""

    def __init__(self, m: dict, runs: dict[str, SweepData], row_labels: list[str],
                 col_labels: list[str], row_name: str, col_name: str):
        self.m, self.runs = m, runs
        fig = Figure(figsize=(8.8, 2.6))
        FigureCanvasAgg(fig)
        a0, a1 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
        frac = m["collapsed"]
        image = a0.imshow(frac, cmap="Reds", vmin=0, vmax=1, origin="lower", aspect="auto")
        fig.colorbar(image, ax=a0, label="trapped fraction", fraction=0.08, pad=0.03)
        n = m["modes"].shape[-1]
        for r in range(frac.shape[0]):
            for c in range(frac.shape[1]):
                a0.text(c, r, f"{int(round(frac[r, c] * n))}/{n}", ha="center", va="center",
                        fontsize=8, color="w" if frac[r, c] > 0.6 else "k")
        self.outline = a0.add_patch(plt.Rectangle((-0.5, -0.5), 1, 1, fill=False, lw=2.5,
                                                  color="k"))
        a0.set_xticks(range(len(col_labels)), col_labels, fontsize=7)
        a0.set_yticks(range(len(row_labels)), row_labels, fontsize=7)
        a0.set(xlabel=col_name, ylabel=row_name, title="trapped seeds")
        last = 0
        for ref in m["cells"].ravel():
            d, _ = run_ref(runs, ref)
            last = max(last, d.h("reward").shape[1] * stride_of(d))
        self.lines = [a1.plot([], [], lw=1.2)[0] for _ in range(n)]
        a1.axvline(COMPARE_AT, color="0.6", ls="--", lw=0.8)
        a1.set_xticks([0, COMPARE_AT // 2, COMPARE_AT] + ([last] if last > COMPARE_AT else []))
        a1.set_xlim(0, last)
        a1.set_yticks([-0.5, 0, 0.5, 1])
        a1.set(xlabel="update", ylabel="reward / trial", ylim=(-0.6, 1.0),
               title="the cell's seeds (colour = behaviour)")
        a1.legend(handles=[Line2D([], [], color=MODE_COLORS[m], lw=1.5, label=m.replace("_", " "))
                           for m in analysis.MODES], fontsize=6, loc="center left",
                  bbox_to_anchor=(1.01, 0.5), title="behaviour", title_fontsize=6)
        left = 0.08 + 0.009 * max(len(label) for label in row_labels)
        fig.subplots_adjust(left=left, right=0.86, bottom=0.18, top=0.88, wspace=0.55)
        for artist in [self.outline, *self.lines]:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = [self.outline, *self.lines]
        self.fig = fig

    def __call__(self, row: int, col: int) -> Figure:
        self.outline.set_xy((col - 0.5, row - 0.5))
        refs, modes = self.m["cells"][row, col], self.m["modes"][row, col]
        for j, line in enumerate(self.lines):
            if j < len(refs):
                d, i = run_ref(self.runs, refs[j])
                line.set_data(d.update_axis(), d.h("reward")[i])
                line.set_color(MODE_COLORS[mode_names([modes[j]])[0]])
            else:
                line.set_data([], [])
        return self.fig


def map_summary(m: dict, runs: dict[str, SweepData], row: int, col: int, head: str) -> str:
    refs, modes = m["cells"][row, col], m["modes"][row, col]
    parts = []
    for ref, mode in zip(refs, modes, strict=True):
        d, i = run_ref(runs, ref)
        b = block_of(d, COMPARE_AT) - 1
        parts.append(f"seed {d.arrays['seed'][i]}: {mode_names([mode])[0]} "
                     f"(reward {d.h('reward')[i, b]:.2f}, grad norm {d.h('grad_norm')[i, b]:.1e})")
    return f"{head}: " + "; ".join(parts)


def kappa_lr_demo(runs: dict[str, SweepData] | None = None) -> Demo:
    """kappa and learning-rate sliders over the precomputed collapse map (entropy_coef = 0)."""
    runs = runs or load_runs()
    m = collapse_map(runs)
    kappas, lrs = list(m["kappas"]), list(m["lrs"])

    figure = ModeMapFigure(m, runs, [f"{k:+.1f}" for k in kappas], [f"{v:g}" for v in lrs],
                           "kappa (< 0 risk-seeking)", "policy learning rate")

    def plot(kappa, lr):
        return figure(kappas.index(kappa), lrs.index(lr))

    def summary(kappa, lr):
        r, c = kappas.index(kappa), lrs.index(lr)
        return map_summary(m, runs, r, c, f"kappa={kappa:+.2f}, lr={lr:g}, at update "
                                          f"{COMPARE_AT}")

    return Demo(plot, summary_fn=summary, kappa=kappa_slider(kappas, -0.2),
                lr=choice_slider("learning rate", lrs, 0.01))


def reward_demo(runs: dict[str, SweepData] | None = None) -> Demo:
    """Reward-design and kappa sliders over the precomputed reward map (entropy_coef = 0)."""
    runs = runs or load_runs()
    m = reward_map(runs)
    variants, kappas = list(m["variants"]), list(m["kappas"])

    figure = ModeMapFigure(m, runs, variants, [f"{k:+.1f}" for k in kappas], "rewards",
                           "kappa")

    def plot(variant, kappa):
        return figure(variants.index(variant), kappas.index(kappa))

    def summary(variant, kappa):
        r, c = variants.index(variant), kappas.index(kappa)
        return map_summary(m, runs, r, c, f"{variant}, kappa={kappa:+.2f}, at update "
                                          f"{COMPARE_AT}")

    return Demo(plot, summary_fn=summary,
                variant=choice_slider("rewards", variants, variants[0], fmt="{}"),
                kappa=kappa_slider(kappas, 0.0))


def demos() -> dict[str, Demo]:
    """Every demo of the notebook, built on the precomputed data."""
    runs = load_runs()
    return {"gap": gap_demo(), "bandit": bandit_demo(), "kappa_x_lr": kappa_lr_demo(runs),
            "reward": reward_demo(runs)}
