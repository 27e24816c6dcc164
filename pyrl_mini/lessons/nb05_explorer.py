"""Notebook 05: the kappa x entropy explorer, the collection's verdict table, and a diagnoser.

The explorer pools every precomputed run of the collection into one catalogue (one row per
run: network, readout, W_out std, learning rate, kappa, entropy_coef, seed) and shows the
runs that match the reader's settings. The verdicts themselves live in pyrl_mini.verdicts
(one source for notebook 05 and the README).
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as W
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .. import analysis, data
from ..sweep import SweepData
from ..verdicts import wilson
from ..widgets import Demo, entropy_slider, kappa_slider

# datasets pooled by the explorer, longest runs first (a setting found in two is read from
# the first)
EXPLORER_DATASETS = ("nb00_main_grid", "nb03_kappa_lr", "nb02_wout_sweep", "nb01_gru",
                     "nb01_simple")
NETWORKS = ("GRU", "SimpleRNN, relu readout", "SimpleRNN, tanh readout")
CURVES = (("reward", "reward / trial"), ("entropy", "entropy (nats)"),
          ("dead_fraction", "dead-unit fraction"), ("grad_norm", "log10 gradient norm"))
# Fixed y ranges (and x: the longest runs): runs stay comparable from one move to the next,
# and the axes need not be redrawn (see widgets.Demo's blitting). They cover every stored
# run (reward -0.5 .. 0.93, dead fraction <= 0.64, gradient norm up to 2e7 in the
# SimpleRNN; a zero norm is drawn at 1e-12): tests/test_lesson_nb05.py checks that no
# stored run falls outside them.
CURVE_YLIM = {"reward": (-0.6, 0.95), "entropy": (-0.03, 1.15),
              "dead_fraction": (-0.02, 0.7), "grad_norm": (-12.5, 8.0)}
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


SEED_COLOURS = ("C0", "C1", "C2", "C4")  # a cell's seeds in order; red (C3): selected kappa
TICK, LABEL, TITLE = 8, 9, 10              # points


def seed_key(n: int) -> list[str]:
    """Legend labels of the seed colours: '1st seed', '2nd seed', ..."""
    return [f"{i}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(i, 'th')} seed" for i in range(1, n + 1)]


class ExplorerFigure:
    """Seven panels drawn once and updated in place when a control moves: four learning
    curves (one line per seed, a key for the seeds), the lower-p choice rate by kappa, the
    selected runs' choices, and the collapsed runs by kappa as k of n with 95 % intervals."""

    def __init__(self, cat: Catalogue):
        self.cat = cat
        self.fig = None

    def _build(self):
        from matplotlib.collections import LineCollection
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        # a Figure with its own Agg canvas, outside pyplot: closing it in pyplot would swap in
        # a bare canvas, and each savefig would then build a new renderer
        fig = Figure(figsize=(9.2, 7.3))
        FigureCanvasAgg(fig)
        gs = fig.add_gridspec(3, 3, height_ratios=(1, 1, 0.9), hspace=0.75, wspace=0.45,
                              left=0.075, right=0.93, top=0.9, bottom=0.075)
        curve_axes = [fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[0, 1]),
                      fig.add_subplot(gs[0, 2]), fig.add_subplot(gs[1, 0])]
        risky_ax, heat_ax = fig.add_subplot(gs[1, 1]), fig.add_subplot(gs[1, 2])
        bar_ax = fig.add_subplot(gs[2, :].subgridspec(1, 2, width_ratios=(6, 1))[0])
        self.fig = fig
        self.axes = curve_axes + [bar_ax, risky_ax, heat_ax]
        for ax in self.axes:  # fewer tick labels: text is most of a redraw's cost
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.yaxis.set_major_locator(MaxNLocator(4))
            ax.tick_params(labelsize=TICK)
        self.curve_lines, self.curve_notes = [], []
        for ax, (key, title) in zip(curve_axes, CURVES, strict=True):
            self.curve_lines.append([ax.plot([], [], lw=1.2, color=c)[0]
                                     for c in SEED_COLOURS])
            self.curve_notes.append(ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center",
                                            va="center", fontsize=LABEL, color="0.4"))
            ax.set_title(title, fontsize=TITLE)
            ax.set_xlabel("update", fontsize=LABEL)
            ax.set_ylim(*CURVE_YLIM[key])
            # one x range for every data set (the longest runs): a move never changes a limit,
            # so every move, a network switch included, only redraws the changing artists
            ax.set_xlim(0, 1.02 * max(d.update_axis()[-1] for d in self.cat.datasets.values()))
        # the colours are the 1st, 2nd, ... seed of the selected cell (datasets hold different
        # seeds, and some cells fewer than four), so the key numbers runs, not seed values
        per_cell = [len(set(d.arrays["seed"].tolist())) for d in self.cat.datasets.values()]
        fig.legend([Line2D([], [], color=c, lw=2) for c in SEED_COLOURS],
                   seed_key(len(SEED_COLOURS)), loc="upper center",
                   ncol=len(SEED_COLOURS), fontsize=LABEL, frameon=False,
                   bbox_to_anchor=(0.5, 1.0),
                   title=f"learning curves: one line per seed of the cell (a cell holds "
                   f"{min(per_cell)}-{max(per_cell)} seeds)", title_fontsize=LABEL)

        kappas = np.array(sorted(set(self.cat.kappa.tolist())))
        self.kappas = kappas
        ax = bar_ax
        self.bars = ax.bar(kappas, np.zeros(len(kappas)), width=0.12, color="0.6")
        self.intervals = LineCollection([], colors="k", linewidths=1.5)
        ax.add_collection(self.intervals)
        self.bar_labels = [ax.text(k, 1.04, "", ha="center", va="bottom", fontsize=TICK)
                           for k in kappas]
        ax.set_ylim(0, 1.22)
        ax.set_yticks([0, 0.5, 1])
        ax.set_xlim(kappas[0] - 0.12, kappas[-1] + 0.12)
        ax.set_xticks(kappas)
        ax.set_xlabel("kappa", fontsize=LABEL)
        ax.set_ylabel("collapsed\nfraction", fontsize=LABEL)
        ax.set_title("collapsed runs by kappa, k of n (the other settings as selected)",
                     fontsize=TITLE)
        ax.legend([Patch(color="C3"), Patch(color="0.6"), Line2D([], [], color="k", lw=1.5)],
                  ["selected kappa", "other kappa", "95 % interval"], fontsize=TICK,
                  loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax = risky_ax
        self.risky_dots = ax.plot([], [], "o", color="0.5", ms=4)[0]
        self.risky_sel = ax.plot([], [], "o", color="C3", ms=7)[0]
        ax.axhline(0.5, color="0.8", ls=":")
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlim(-0.5, 0.5)
        ax.set_xlabel("kappa", fontsize=LABEL)
        ax.set_ylabel("lower-p choice rate", fontsize=LABEL)
        ax.set_title("equal-EV pairs", fontsize=TITLE)
        ax.legend([Line2D([], [], marker="o", ls="", color="0.5"),
                   Line2D([], [], marker="o", ls="", color="C3")],
                  ["a run", "selected kappa"], fontsize=TICK, loc="lower left",
                  frameon=False, handletextpad=0.2)
        ax = heat_ax
        self.heat = ax.imshow(np.full((9, 9), np.nan), origin="lower", cmap="coolwarm",
                              vmin=0, vmax=1, aspect="auto", extent=(-2.2, 2.2, -0.92, 0.92))
        ax.set_xlabel("log p_L - log p_R", fontsize=LABEL)
        ax.set_ylabel("log EV_L - log EV_R", fontsize=LABEL, labelpad=1)
        ax.set_title("choices, selected runs", fontsize=TITLE)
        bar = fig.colorbar(self.heat, ax=ax, fraction=0.08, pad=0.04)
        bar.set_label("P(choose left)", fontsize=LABEL)
        bar.ax.tick_params(labelsize=TICK)
        # what a move changes; Demo draws the rest once (a move is then ~3x faster)
        dynamic = [line for lines in self.curve_lines for line in lines]
        dynamic += self.curve_notes
        dynamic += list(self.bars) + [self.intervals] + self.bar_labels
        dynamic += [self.risky_dots, self.risky_sel, self.heat]
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic

    def __call__(self, kappa, entropy_coef, network, wout_std, lr):
        if self.fig is None:
            self._build()
        cat = self.cat
        name, rows = cat.match(network, wout_std, lr, kappa, entropy_coef)
        d = cat.datasets.get(name) if name else None
        seeds = d.arrays["seed"][rows] if d is not None else []
        for (key, _), lines, note in zip(CURVES, self.curve_lines, self.curve_notes,
                                         strict=True):
            recorded = d is not None and "h/" + key in d.arrays
            note.set_text("" if d is None or recorded else f"not recorded\nin {name}")
            for line in lines:
                line.set_data([], [])
            if recorded:
                for row, seed in zip(rows, seeds, strict=True):
                    y = d.h(key)[row]
                    if key == "grad_norm":  # a log axis costs a third of the redraw
                        y = np.log10(np.maximum(y, 1e-12))
                    lines[int(seed)].set_data(d.update_axis(), y)
        _, rate, n = collapse_by_kappa(cat, network, wout_std, lr, entropy_coef)
        segments = []
        for bar, r, m, k, label in zip(self.bars, rate, n, self.kappas, self.bar_labels,
                                       strict=True):
            bar.set_height(0 if np.isnan(r) else r)
            bar.set_color("C3" if np.isclose(k, kappa) else "0.6")
            if m:
                lo, hi = wilson(int(round(r * m)), int(m))
                segments.append([(k, lo), (k, hi)])
                label.set_text(f"{int(round(r * m))} of {m}")
            else:
                label.set_text("no runs")
        self.intervals.set_segments(segments)
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
        else:
            self.heat.set_data(np.full((9, 9), np.nan))
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
    demo.png_fast = True  # seven panels at 100 dpi: encoding the PNG is most of a move
    demo.redraw()
    return demo


def demos() -> dict[str, Demo]:
    return {"explorer": explorer_demo()}
