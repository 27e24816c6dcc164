"""Notebook 00: the task, the network and the kappa-sensitive trainer.

Reads the shared main_grid (kappa x entropy_coef x seeds, default settings) for the kappa
slider; everything else is computed live and fast.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import analysis, data, plots
from ..config import TrainSettings
from ..risk import kappa_transform
from ..sweep import SweepData
from ..trainer import TrainResult, train
from ..widgets import Demo, LiveRun, entropy_slider, float_slider, kappa_slider

LIVE_SETTINGS = TrainSettings(updates=300, seed=1)


def scale_factors(kappa: float) -> tuple[float, float]:
    """(factor on a positive error, factor on a negative error) = (1 - kappa, 1 + kappa)."""
    d = torch.tensor([1.0, -1.0])
    f = kappa_transform(d, kappa)
    return float(f[0]), float(-f[1])


def train_live(settings: TrainSettings = LIVE_SETTINGS, progress: bool = True) -> TrainResult:
    """The notebook's live run: one network, default settings, a few hundred updates."""
    torch.set_num_threads(1)
    return train(settings, progress=progress, desc="live run")


def risk_preference(grid: SweepData, entropy_coef: float = 0.0):
    """kappa values, and per kappa the final lower-p choice rate on equal-EV pairs of each seed.

    Returns (kappas (K,), risky (K, seeds)) from the last 50 updates of each run; NaN where a
    run made no equal-EV choices (e.g. it stopped choosing).
    """
    kappas = np.array(grid.values("kappa"))
    rows = []
    for k in kappas:
        idx = grid.select(kappa=k, entropy_coef=entropy_coef)
        rows.append(grid.final("risky_rate")[idx[np.argsort(grid.arrays["seed"][idx])]])
    return kappas, np.array(rows)


def kappa_trend(kappas: np.ndarray, risky: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of risky-choice rate on kappa over all runs, and its standard error.

    Risk-seeking (kappa < 0) should raise the lower-p choice rate, i.e. a negative slope.
    """
    x = np.repeat(kappas, risky.shape[1])
    y = risky.ravel()
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    A = np.vstack([x, np.ones_like(x)]).T
    coef, res, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    dof = max(len(y) - 2, 1)
    se = np.sqrt(resid @ resid / dof / np.sum((x - x.mean()) ** 2))
    return float(coef[0]), float(se)


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


def plot_kappa_demo(grid: SweepData, kappa: float, entropy_coef: float = 0.0) -> plt.Figure:
    """Left: lower-p choices on equal-EV pairs vs kappa (each seed a dot), the chosen kappa
    marked. Right: P(choose left) of the chosen kappa by the log p and log EV differences
    between left and right (all seeds' last batches pooled)."""
    kappas, risky = risk_preference(grid, entropy_coef)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7.6, 2.9))
    for j in range(risky.shape[1]):
        ax1.plot(kappas, risky[:, j], "o", color="0.6", ms=4)
    ax1.plot(kappas, np.nanmean(risky, axis=1), "-", color="k", lw=1.5, label="mean of seeds")
    sel = int(np.argmin(np.abs(kappas - kappa)))
    ax1.plot([kappas[sel]] * risky.shape[1], risky[sel], "o", color="C3", ms=7,
             label=f"kappa={kappa:+.2f}")
    ax1.axhline(0.5, color="0.8", ls=":")
    ax1.set(xlabel="kappa (< 0 risk-seeking)", ylabel="lower-p choices (equal EV)",
            ylim=(-0.03, 1.03), title=f"entropy_coef={entropy_coef:g}")
    ax1.legend(fontsize=7, loc="upper right")
    xs, ys, table, _ = pooled_choice_table(grid, kappa, entropy_coef)
    ax2.imshow(table.T, origin="lower", cmap="coolwarm", vmin=0, vmax=1, aspect="auto",
               extent=(xs[0], xs[-1], ys[0], ys[-1]))
    ax2.set(xlabel="log p_left - log p_right", ylabel="log EV_left - log EV_right",
            title="P(choose left): blue 0, red 1")
    fig.subplots_adjust(wspace=0.35, left=0.08, right=0.98, bottom=0.17, top=0.89)
    return fig


class KappaDemoFigure:
    """plot_kappa_demo drawn once, then updated in place: a slider move only changes the
    data of the dots, the mean line and the heatmap, which halves the redraw time."""

    def __init__(self, grid: SweepData):
        self.grid = grid
        self.fig: plt.Figure | None = None

    def __call__(self, kappa: float, entropy_coef: float = 0.0) -> plt.Figure:
        if self.fig is None:
            self.fig = plot_kappa_demo(self.grid, kappa, entropy_coef)
            return self.fig
        kappas, risky = risk_preference(self.grid, entropy_coef)
        ax1, ax2 = self.fig.axes
        lines = ax1.lines
        seeds, mean, marked = lines[:risky.shape[1]], lines[risky.shape[1]], \
            lines[risky.shape[1] + 1]
        for j, line in enumerate(seeds):
            line.set_ydata(risky[:, j])
        mean.set_ydata(np.nanmean(risky, axis=1))
        sel = int(np.argmin(np.abs(kappas - kappa)))
        marked.set_data([kappas[sel]] * risky.shape[1], risky[sel])
        marked.set_label(f"kappa={kappa:+.2f}")
        ax1.legend(fontsize=7, loc="upper right")
        ax1.set_title(f"entropy_coef={entropy_coef:g}")
        xs, ys, table, _ = pooled_choice_table(self.grid, kappa, entropy_coef)
        ax2.images[0].set_data(table.T)
        return self.fig


def summary_text(grid: SweepData, kappa: float, entropy_coef: float = 0.0) -> str:
    idx = grid.select(kappa=kappa, entropy_coef=entropy_coef)
    risky = grid.final("risky_rate")[idx]
    modes = [analysis.MODES[m] if m >= 0 else "stopped" for m in grid.mode[idx]]
    return (f"kappa={kappa:+.2f} entropy_coef={entropy_coef:g}: lower-p choices "
            f"{np.nanmean(risky):.2f} (seeds {', '.join(f'{r:.2f}' for r in risky)}); "
            f"modes: {', '.join(modes)}")


def kappa_demo(grid: SweepData | None = None) -> Demo:
    grid = grid or data.load("main_grid")
    return Demo(KappaDemoFigure(grid),
                summary_fn=lambda kappa, entropy_coef: summary_text(grid, kappa, entropy_coef),
                kappa=kappa_slider(grid.values("kappa"), 0.0),
                entropy_coef=entropy_slider(grid.values("entropy_coef"), 0.0))


def pick_runs(grid: SweepData) -> dict[str, int]:
    """One cell index per behaviour mode found in the grid (the first in grid order)."""
    out = {}
    for i, m in enumerate(grid.mode):
        if m >= 0 and analysis.MODES[int(m)] not in out:
            out[analysis.MODES[int(m)]] = int(i)
    return out


def stored_report(grid: SweepData, i: int) -> str:
    """The upstream-layout report of run i, from its stored final values (the mean over the
    last 50 updates); diagnostics a sweep does not store print as nan."""
    final = {k[len("final/"):]: v for k, v in grid.arrays.items() if k.startswith("final/")}
    hist = {k: np.array([[v[i]]]) for k, v in final.items()}
    hist["kappa"] = np.array([[grid.arrays["grid/kappa"][i]]])
    hist["choice_rate"] = 1 - hist["abort_rate"] - hist["no_choice_rate"]
    label = (f"seed {grid.arrays['seed'][i]}, entropy_coef "
             f"{grid.arrays['grid/entropy_coef'][i]:g}, mean of the last 50 updates")
    return analysis.report(hist, 0, 0, label=label, number=int(grid.h("reward").shape[1] *
                                                               grid.meta["spec"]["stride"]))


def live_run_widget() -> LiveRun:
    """A button that trains one network with the reader's kappa and entropy_coef."""
    def run(progress, kappa, entropy_coef, updates):
        progress.max = int(updates)
        progress.value = 0
        s = LIVE_SETTINGS.replace(kappa=kappa, entropy_coef=entropy_coef, updates=int(updates))

        def tick(update, row):
            progress.value = update + 1

        return train(s, progress=False, callback=tick)

    def show(result: TrainResult):
        h = {k: v[:, 0] for k, v in result.history.items()}
        return plots.plot_curves(np.arange(result.updates_done), h, smooth=10,
                                 title=f"kappa={result.settings[0].kappa:+.2f}, "
                                       f"entropy_coef={result.settings[0].entropy_coef:g}")

    return LiveRun(run, show, description="Train",
                   kappa=float_slider("kappa", -0.9, 0.9, 0.05, -0.2),
                   entropy_coef=float_slider("entropy_coef", 0.0, 0.1, 0.005, 0.0, fmt=".3f"),
                   updates=float_slider("updates", 100, 2000, 100, 300, fmt=".0f"))


# --- exercise -------------------------------------------------------------------------------
def check_kappa_transform(fn: Callable[[torch.Tensor, float], torch.Tensor]) -> str:
    """Check a reader's f(d, kappa). Returns a message; raises AssertionError when wrong."""
    d = torch.tensor([-2.0, -0.5, 0.0, 0.3, 1.5])
    for kappa in (-0.2, 0.0, 0.5):
        got = torch.as_tensor(fn(d.clone(), kappa), dtype=torch.float32)
        want = kappa_transform(d, kappa)
        if got.shape != want.shape or not torch.allclose(got, want, atol=1e-6):
            raise AssertionError(
                f"at kappa={kappa}: f({d.tolist()}) should be {want.tolist()}, got "
                f"{got.tolist()}. Remember: d > 0 is scaled by 1 - kappa, d <= 0 by 1 + kappa.")
    return "Correct: positive errors x (1 - kappa), negative errors x (1 + kappa)."


def demos() -> dict[str, Demo]:
    return {"kappa": kappa_demo()}
