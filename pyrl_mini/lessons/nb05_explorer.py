"""Notebook 05: the kappa x entropy explorer, the collection's verdict table, and a diagnoser.

The explorer pools every precomputed run of the collection into one catalogue (one row per
run: network, readout, W_out std, learning rate, kappa, entropy_coef, seed) and shows the
runs that match the reader's settings. The verdict table recomputes each claim's numbers
from the data files; the notebook asserts them.
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as W
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .. import analysis, data, softmax
from ..risk import kappa_transform
from ..sweep import SweepData
from ..widgets import Demo, entropy_slider, kappa_slider

# datasets pooled by the explorer, longest runs first (a setting found in two is read from
# the first)
EXPLORER_DATASETS = ("main_grid", "kappa_lr", "nb02_wout_sweep", "nb01_gru", "nb01_simple")
NETWORKS = ("GRU", "SimpleRNN, relu readout", "SimpleRNN, tanh readout")
CURVES = (("reward", "reward / trial"), ("entropy", "entropy (nats)"),
          ("dead_fraction", "dead-unit fraction"), ("grad_norm", "log10 gradient norm"))
# Fixed y ranges: runs stay comparable from one move to the next, and the axes need not be
# redrawn (see widgets.Demo's blitting). They cover every stored run (reward -0.5 .. 0.88,
# dead fraction <= 0.64, gradient norm <= 3.8; a zero norm is drawn at 1e-12).
CURVE_YLIM = {"reward": (-0.6, 0.95), "entropy": (-0.03, 1.15),
              "dead_fraction": (-0.02, 0.7), "grad_norm": (-12.5, 1.0)}
MAX_SEEDS = 4


@dataclass
class Catalogue:
    """Every run of the pooled datasets. Columns are arrays of length runs."""

    network: np.ndarray
    wout_std: np.ndarray
    lr: np.ndarray
    kappa: np.ndarray
    entropy_coef: np.ndarray
    seed: np.ndarray
    source: np.ndarray       # dataset name
    row: np.ndarray          # row in that dataset
    datasets: dict[str, SweepData]

    def match(self, network: str, wout_std: float, lr: float, kappa: float,
              entropy_coef: float) -> tuple[str | None, np.ndarray]:
        """(dataset, rows) of the runs with exactly these settings, from the first dataset
        (in EXPLORER_DATASETS order) that has them; (None, []) if none has."""
        ok = ((self.network == network) & np.isclose(self.wout_std, wout_std)
              & np.isclose(self.lr, lr) & np.isclose(self.kappa, kappa)
              & np.isclose(self.entropy_coef, entropy_coef))
        for name in EXPLORER_DATASETS:
            hit = ok & (self.source == name)
            if hit.any():
                return name, self.row[hit]
        return None, np.array([], dtype=int)

    def available(self, network: str, wout_std: float, lr: float) -> list[tuple]:
        """(kappa, entropy_coef) pairs computed for this network, W_out std and lr."""
        ok = (self.network == network) & np.isclose(self.wout_std, wout_std) & \
            np.isclose(self.lr, lr)
        return sorted(set(zip(self.kappa[ok].tolist(), self.entropy_coef[ok].tolist(),
                              strict=True)))


def _network_name(s) -> str:
    if s.network.network_type == "gru":
        return NETWORKS[0]
    return NETWORKS[1] if s.network.readout_rate == "relu" else NETWORKS[2]


def build_catalogue(names=EXPLORER_DATASETS) -> Catalogue:
    cols = {k: [] for k in ("network", "wout_std", "lr", "kappa", "entropy_coef", "seed",
                            "source", "row")}
    datasets = {}
    for name in names:
        d = data.load(name)
        datasets[name] = d
        settings = data.DATASETS[name].settings()
        for r, cell in enumerate(d.arrays["cell"]):
            s = settings[cell]
            cols["network"].append(_network_name(s))
            cols["wout_std"].append(s.network.wout_std)
            cols["lr"].append(s.lr)
            cols["kappa"].append(s.kappa)
            cols["entropy_coef"].append(s.entropy_coef)
            cols["seed"].append(s.seed)
            cols["source"].append(name)
            cols["row"].append(r)
    return Catalogue(**{k: np.array(v) for k, v in cols.items()}, datasets=datasets)


def collapse_by_kappa(cat: Catalogue, network: str, wout_std: float, lr: float,
                      entropy_coef: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """kappas, collapsed fraction and runs per kappa at the other settings fixed."""
    kappas = np.array(sorted(set(cat.kappa.tolist())))
    rate, n = np.full(len(kappas), np.nan), np.zeros(len(kappas), dtype=int)
    for j, k in enumerate(kappas):
        name, rows = cat.match(network, wout_std, lr, k, entropy_coef)
        if name is not None:
            rate[j] = cat.datasets[name].collapsed[rows].mean()
            n[j] = len(rows)
    return kappas, rate, n


def risky_by_kappa(cat: Catalogue, network: str, wout_std: float, lr: float,
                   entropy_coef: float) -> tuple[np.ndarray, list[np.ndarray]]:
    kappas = np.array(sorted(set(cat.kappa.tolist())))
    out = []
    for k in kappas:
        name, rows = cat.match(network, wout_std, lr, k, entropy_coef)
        recorded = name is not None and "final/risky_rate" in cat.datasets[name].arrays
        out.append(cat.datasets[name].final("risky_rate")[rows] if recorded else np.array([]))
    return kappas, out


class ExplorerFigure:
    """Seven panels drawn once and updated in place when a control moves."""

    def __init__(self, cat: Catalogue):
        self.cat = cat
        self.fig = None

    def _build(self):
        # a Figure with its own Agg canvas, outside pyplot: closing it in pyplot would swap in
        # a bare canvas, and each savefig would then build a new renderer
        fig = Figure(figsize=(9, 3.8))
        FigureCanvasAgg(fig)
        axes = fig.subplots(2, 4)
        self.fig, self.axes = fig, axes.ravel()
        for ax in self.axes:  # fewer tick labels: text is most of a redraw's cost
            ax.xaxis.set_major_locator(MaxNLocator(3))
            ax.yaxis.set_major_locator(MaxNLocator(3))
            ax.tick_params(labelsize=7)
        self.curve_lines, self.curve_notes = [], []
        for ax, (key, title) in zip(self.axes[:4], CURVES, strict=True):
            self.curve_lines.append([ax.plot([], [], lw=1.2)[0] for _ in range(MAX_SEEDS)])
            self.curve_notes.append(ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center",
                                            va="center", fontsize=8, color="0.4"))
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("update", fontsize=8)
            ax.set_ylim(*CURVE_YLIM[key])

        kappas = np.array(sorted(set(self.cat.kappa.tolist())))
        self.kappas = kappas
        ax = self.axes[4]
        self.bars = ax.bar(kappas, np.zeros(len(kappas)), width=0.15, color="0.6")
        ax.set(ylim=(0, 1.05), xlabel="kappa", title="collapsed fraction")
        ax.title.set_fontsize(9)
        ax = self.axes[5]
        self.risky_dots = ax.plot([], [], "o", color="0.5", ms=4)[0]
        self.risky_sel = ax.plot([], [], "o", color="C3", ms=7)[0]
        ax.axhline(0.5, color="0.8", ls=":")
        ax.set(ylim=(-0.03, 1.03), xlim=(-0.5, 0.5), xlabel="kappa",
               title="lower-p choices (equal EV)")
        ax.title.set_fontsize(9)
        ax = self.axes[6]
        self.heat = ax.imshow(np.full((9, 9), np.nan), origin="lower", cmap="coolwarm",
                              vmin=0, vmax=1, aspect="auto", extent=(-2.2, 2.2, -0.92, 0.92))
        ax.set(xlabel="log p_L - log p_R", ylabel="log EV_L - log EV_R",
               title="P(left), selected kappa")
        ax.title.set_fontsize(9)
        self.axes[7].axis("off")
        self.note = self.axes[7].text(0, 0.5, "", fontsize=8, va="center", wrap=True)
        fig.subplots_adjust(hspace=0.55, wspace=0.35, left=0.05, right=0.99, top=0.93,
                            bottom=0.1)
        # what a move changes; Demo draws the rest once (a move is then ~3x faster)
        dynamic = [line for lines in self.curve_lines for line in lines]
        dynamic += self.curve_notes
        dynamic += list(self.bars) + [self.risky_dots, self.risky_sel, self.heat, self.note]
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic

    def __call__(self, kappa, entropy_coef, network, wout_std, lr):
        if self.fig is None:
            self._build()
        cat = self.cat
        name, rows = cat.match(network, wout_std, lr, kappa, entropy_coef)
        d = cat.datasets.get(name) if name else None
        for (key, _), lines, note, ax in zip(CURVES, self.curve_lines, self.curve_notes,
                                             self.axes[:4], strict=True):
            recorded = d is not None and "h/" + key in d.arrays
            note.set_text("" if d is None or recorded else f"not recorded\nin {name}")
            for j, line in enumerate(lines):
                if recorded and j < len(rows):
                    y = d.h(key)[rows[j]]
                    if key == "grad_norm":  # a log axis costs a third of the redraw
                        y = np.log10(np.maximum(y, 1e-12))
                    line.set_data(d.update_axis(), y)
                else:
                    line.set_data([], [])
            ax.relim()
            ax.autoscale_view(scaley=False)  # x: the dataset's updates; y: CURVE_YLIM
        _, rate, _ = collapse_by_kappa(cat, network, wout_std, lr, entropy_coef)
        for bar, r, k in zip(self.bars, rate, self.kappas, strict=True):
            bar.set_height(0 if np.isnan(r) else r)
            bar.set_color("C3" if np.isclose(k, kappa) else "0.6")
        ks, risky = risky_by_kappa(cat, network, wout_std, lr, entropy_coef)
        xs = np.concatenate([np.full(len(r), k) for k, r in zip(ks, risky, strict=True)])
        ys = np.concatenate(risky) if xs.size else np.array([])
        self.risky_dots.set_data(xs, ys)
        sel = risky[int(np.argmin(np.abs(ks - kappa)))]
        self.risky_sel.set_data(np.full(len(sel), kappa), sel)
        if d is not None:
            opts = d.arrays["trials/options"][rows].reshape(-1, 2).astype(int)
            choice = d.arrays["trials/choice"][rows].reshape(-1).astype(int)
            _, _, table, _ = analysis.choice_table(opts, choice)
            self.heat.set_data(table.T)
            self.note.set_text(f"{len(rows)} runs from\n{name}")
        else:
            self.heat.set_data(np.full((9, 9), np.nan))
            self.note.set_text("not computed:\nsee the line above")
        return self.fig


def explorer_summary(cat: Catalogue, kappa, entropy_coef, network, wout_std, lr) -> str:
    name, rows = cat.match(network, wout_std, lr, kappa, entropy_coef)
    if name is None:
        pairs = cat.available(network, wout_std, lr)
        shown = ", ".join(f"({k:+.1f}, {e:g})" for k, e in pairs[:8]) or "none"
        return (f"kappa={kappa:+.2f} entropy_coef={entropy_coef:g}: not computed for "
                f"{network}, wout_std={wout_std:g}, lr={lr:g}. Computed (kappa, entropy_coef)"
                f" here: {shown}")
    d = cat.datasets[name]
    modes = [analysis.MODES[m] if m >= 0 else "stopped" for m in d.mode[rows]]
    return (f"kappa={kappa:+.2f} entropy_coef={entropy_coef:g} ({name}, {len(rows)} seeds): "
            f"final reward {np.nanmean(d.final('reward')[rows]):.3f}, entropy "
            f"{np.nanmean(d.final('entropy')[rows]):.3f}, collapsed "
            f"{int(d.collapsed[rows].sum())}/{len(rows)} ({', '.join(modes)})")


def explorer_demo(cat: Catalogue | None = None) -> Demo:
    cat = cat or build_catalogue()

    def dropdown(description, options, value):
        return W.Dropdown(options=options, value=value, description=description,
                          style={"description_width": "initial"},
                          layout=W.Layout(width="260px"))

    demo = Demo(ExplorerFigure(cat),
                summary_fn=lambda **v: explorer_summary(cat, **v),
                kappa=kappa_slider(sorted(set(cat.kappa.tolist())), 0.0),
                entropy_coef=entropy_slider(sorted(set(cat.entropy_coef.tolist())), 0.0),
                network=dropdown("network", list(NETWORKS), NETWORKS[0]),
                wout_std=dropdown("W_out std", sorted(set(cat.wout_std.tolist())), 0.05),
                lr=dropdown("lr", sorted(set(cat.lr.tolist())), 0.01))
    demo.dpi = 60  # eight panels: fewer pixels keep a move under 100 ms here
    demo.redraw()
    return demo


# --- the verdict table -----------------------------------------------------------------------
@dataclass
class Verdict:
    claim: str
    verdict: str
    numbers: dict
    notebook: str


def _revived_fraction(d: SweepData, rows) -> float:
    """Among units dead at some recorded update, the fraction alive at a later one."""
    dead = d.arrays["unit_dead"][rows]            # (runs, points, N)
    died = dead.any(axis=1)
    first = np.where(died, dead.argmax(axis=1), dead.shape[1])
    later_alive = np.zeros_like(died)
    for t in range(dead.shape[1]):
        later_alive |= (t > first) & ~dead[:, t]
    return float(later_alive.sum() / max(died.sum(), 1))


def verdicts() -> list[Verdict]:
    """Every claim of the analysis, its verdict and the numbers read from data/."""
    grid, kl = data.load("main_grid"), data.load("kappa_lr")
    gru, simple = data.load("nb01_gru"), data.load("nb01_simple")
    wout, rd = data.load("nb02_wout_sweep"), data.load("reward_design")
    fast, capped = data.load("fixes_fast"), data.load("fixes_fast_logit_cap")
    sgd = data.load("nb01_sgd")
    out = []

    # 1. dead units
    rows = np.arange(len(gru.mode))
    fd = gru.final("dead_fraction")
    lo, hi = gru.select(kappa=-0.4), gru.select(kappa=0.4)
    kappa_effect = float(np.nanmean(fd[lo]) - np.nanmean(fd[hi]))
    out.append(Verdict(
        "1. ReLU units die and stay dead; negative kappa kills them",
        "partly: units die (GRU too, under Adam), but many revive and kappa barely matters; "
        "under plain SGD, where kappa scales the step, units barely die at all",
        {"GRU final dead fraction, min": float(np.nanmin(fd)),
         "GRU final dead fraction, max": float(np.nanmax(fd)),
         "revived fraction of units that died (GRU)": _revived_fraction(gru, rows),
         "dead(kappa -0.4) - dead(kappa +0.4)": kappa_effect,
         "max dead fraction, GRU with SGD lr 1, any run and update": float(
             np.nanmax(sgd.h("dead_fraction")[sgd.select(lr=1.0)]))}, "01"))

    # 2. relu/tanh mismatch
    relu, tanh = simple.select(readout_rate="relu"), simple.select(readout_rate="tanh")
    out.append(Verdict(
        "2. The SimpleRNN relu/tanh mismatch could cause issues",
        "partly: measurable difference is small; the SimpleRNN learns poorly either way",
        {"final reward, relu readout": float(np.nanmean(simple.final("reward")[relu])),
         "final reward, tanh readout": float(np.nanmean(simple.final("reward")[tanh])),
         "runs reaching the criterion, relu": int((simple.arrays["updates_to_criterion"][relu]
                                                   >= 0).sum()),
         "runs reaching the criterion, tanh": int((simple.arrays["updates_to_criterion"][tanh]
                                                   >= 0).sum())}, "01"))

    # 3. small W_out
    std = wout.arrays["grid/wout_std"]
    small, large = std <= 0.1, std >= 0.5
    out.append(Verdict(
        "3. A small W_out causes the problem; larger gives stronger gradients",
        "refuted: small stds start uniform and get stuck no more often than large ones",
        {"stuck fraction, W_out std <= 0.1": float(wout.collapsed[small].mean()),
         "stuck fraction, W_out std >= 0.5": float(wout.collapsed[large].mean()),
         "initial entropy, std 2 (mean)": float(np.nanmean(wout.h("entropy")[
             np.isclose(std, 2.0), 0]))}, "02"))

    # 4. sign convention
    f = kappa_transform(torch.tensor([1.0, -1.0]), -0.2)
    out.append(Verdict(
        "4. Risk-seeking (kappa < 0) amplifies: d' = 1.2 d for negative d",
        "refuted: at kappa = -0.2 positive errors are x1.2, negative ones x0.8",
        {"factor on d > 0 at kappa -0.2": float(f[0]),
         "factor on d < 0 at kappa -0.2": float(-f[1])}, "00"))

    # 5. deterministic policy -> zero gradient
    gaps = softmax.saturation_gaps(torch.float32)
    out.append(Verdict(
        "5. Deterministic policy: log p ~ 0 so gradient = log_prob x advantage ~ 0",
        "true, but for a different reason: the gradient is onehot(a) - pi, which is exactly 0 "
        "once float32 softmax saturates",
        {"logit gap where float32 softmax = 1.0": float(gaps.softmax_one),
         "logit gap where the gradient prints 0.000000": float(gaps.norm_prints_zero)}, "03"))

    # 6. negative kappa collapses, positive healthy
    pooled = {"neg": [], "pos": [], "zero": []}
    for d, sel in ((grid, grid.select(entropy_coef=0.0)), (kl, np.arange(len(kl.mode)))):
        k = d.arrays["grid/kappa"][sel]
        c = d.collapsed[sel]
        pooled["neg"] += c[k < 0].tolist()
        pooled["pos"] += c[k > 0].tolist()
        pooled["zero"] += c[k == 0].tolist()
    out.append(Verdict(
        "6. Negative kappa collapses, positive kappa stays healthy",
        "refuted: collapse is no more frequent at kappa < 0 than at kappa > 0",
        {"collapsed, kappa < 0": float(np.mean(pooled["neg"])),
         "collapsed, kappa > 0": float(np.mean(pooled["pos"])),
         "collapsed, kappa = 0": float(np.mean(pooled["zero"])),
         "runs per sign": len(pooled["neg"])}, "03"))

    # 7. entropy_coef 0.01
    e1 = grid.select(entropy_coef=0.01)
    fast_none = fast.select(entropy_coef=0.0, lr=0.03, kappa_schedule="constant",
                            lr_schedule="constant", wout_std=0.05, no_choice_penalty=-0.5)
    fast_e1 = fast.select(entropy_coef=0.01)
    fast_e5 = fast.select(entropy_coef=0.05)
    cap2 = capped.select(logit_cap=2.0)
    cap2_stuck = cap2[capped.collapsed[cap2]]
    out.append(Verdict(
        "7. entropy_coef = 0.01 keeps entropy above 0.1 and is the primary fix",
        "refuted at 0.01: entropy stays below 0.1 and collapse still happens; 0.05 helped; "
        "entropy > 0.1 is no safeguard (a logit cap holds it and runs still collapse)",
        {"final entropy at 0.01, max over runs": float(np.nanmax(grid.final("entropy")[e1])),
         "collapsed at 0.01 (main grid)": float(grid.collapsed[e1].mean()),
         "collapsed, fast-collapse setting, no fix": float(fast.collapsed[fast_none].mean()),
         "collapsed, fast-collapse setting, 0.01": float(fast.collapsed[fast_e1].mean()),
         "collapsed, fast-collapse setting, 0.05": float(fast.collapsed[fast_e5].mean()),
         "collapsed, fast-collapse setting, logit cap 2": float(capped.collapsed[cap2].mean()),
         "final entropy of the collapsed logit-cap-2 runs, min": float(
             np.min(capped.final("entropy")[cap2_stuck])) if len(cap2_stuck) else float("nan")},
        "04"))

    # 8. clipping
    stuck = kl.collapsed
    clipped = kl.final("clipped")
    out.append(Verdict(
        "8. Gradient clipping does not help vanishing gradients",
        "confirmed: clipping never acts on a collapsed run (its gradients are small)",
        {"clipped fraction of updates, collapsed runs (last 50)": float(
            np.nanmean(clipped[stuck])) if stuck.any() else float("nan"),
         "final gradient norm, collapsed runs (max)": float(np.nanmax(
             kl.final("grad_norm")[stuck])) if stuck.any() else float("nan")}, "03"))

    # 9. schedules
    decay = fast.select(lr_schedule="exponential")
    gradual = fast.select(kappa_schedule="gradual")
    out.append(Verdict(
        "9. A decaying learning rate or a gradual kappa schedule helps",
        "not supported: neither changes the collapse rate in the fast-collapse setting",
        {"collapsed, no fix": float(fast.collapsed[fast_none].mean()),
         "collapsed, decaying lr": float(fast.collapsed[decay].mean()),
         "collapsed, gradual kappa": float(fast.collapsed[gradual].mean())}, "04"))

    # 10. absorbing states of the task's rewards
    modes = np.concatenate([grid.mode, kl.mode, rd.mode, fast.mode])
    stuck_modes = modes[analysis.is_collapsed(modes)]
    aborts = float(np.mean(stuck_modes == analysis.MODES.index("always_aborts")))
    out.append(Verdict(
        "10. (not in the analysis) Collapse is an absorbing state of the task's rewards",
        "confirmed in kind: most stuck runs always abort, where every return is -0.5 and "
        "every advantage ~0, at every kappa",
        {"stuck runs": int(len(stuck_modes)),
         "fraction of stuck runs that always abort": aborts,
         "fraction that never choose": float(np.mean(
             stuck_modes == analysis.MODES.index("never_chooses")))}, "03"))
    return out


def verdict_table(rows: list[Verdict]) -> str:
    """Markdown table of the verdicts with their numbers."""
    lines = ["| claim | verdict | measured | notebook |", "| --- | --- | --- | --- |"]
    for v in rows:
        nums = "; ".join(f"{k}: {x:.3g}" if isinstance(x, float) else f"{k}: {x}"
                         for k, x in v.numbers.items())
        lines.append(f"| {v.claim} | {v.verdict} | {nums} | {v.notebook} |")
    return "\n".join(lines)


def demos() -> dict[str, Demo]:
    return {"explorer": explorer_demo()}


# --- exercise -------------------------------------------------------------------------------
def check_collapse_rate(fn, cat: Catalogue) -> str:
    """Check a reader's collapse_rate(cat): the collapsed fraction of GRU runs at W_out std
    0.05, lr 0.03, entropy_coef 0, pooled over kappa."""
    flags = []
    for kappa in sorted(set(cat.kappa.tolist())):
        name, rows = cat.match("GRU", 0.05, 0.03, kappa, 0.0)
        if name is not None:
            flags += cat.datasets[name].collapsed[rows].tolist()
    want = float(np.mean(flags))
    got = float(fn(cat))
    if not np.isclose(got, want):
        raise AssertionError(f"got {got:.3f}, expected {want:.3f} ({sum(flags)} of "
                             f"{len(flags)} runs). Pool every kappa; use the `collapsed` "
                             "array of the dataset that match() names.")
    return f"Correct: {sum(flags)} of {len(flags)} runs collapsed ({want:.2f})."
