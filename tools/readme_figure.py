"""The picture at the top of README.md, from data/nb00_main_grid.npz (no training).

    .venv/bin/python tools/readme_figure.py          # writes docs/collapse.png

All runs of the main grid (kappa x entropy_coef x 3 seeds, 1000 updates): policy entropy
(log scale) and reward over training; the runs whose final behaviour is a collapse mode
(never chooses, always aborts, one side) in red, labelled with their mode and settings.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from pyrl_mini import plots  # noqa: E402
from pyrl_mini.analysis import MODES  # noqa: E402
from pyrl_mini.data import load  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "collapse.png"


def figure():
    grid = load("nb00_main_grid")
    x, collapsed = grid.update_axis(), grid.trapped
    kappa, coef = grid.arrays["grid/kappa"], grid.arrays["grid/entropy_coef"]
    fig, axes = plots.subplots(1, 2, figsize=(9.6, 4.0), layout="constrained")
    for ax, name, label in zip(axes, ("entropy", "reward"), ("policy entropy (nats, log)",
                                                            "mean reward per trial"), strict=True):
        y = grid.h(name)
        for i in sorted(range(len(y)), key=lambda i: collapsed[i]):  # red on top
            ax.plot(x, y[i], lw=1.5 if collapsed[i] else 0.8, alpha=0.9 if collapsed[i] else 0.35,
                    color="#c62828" if collapsed[i] else "#5c7c99")
        ax.set_xlabel("update")
        ax.set_ylabel(label)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_yscale("log")
    axes[0].set_ylim(1e-25, 3)
    for i in map(int, collapsed.nonzero()[0]):
        mode = MODES[int(grid.mode[i])].replace("_", " ")
        axes[0].annotate(f"{mode} (kappa {kappa[i]:+.1f}, entropy bonus {coef[i]:g})",
                         (x[-1], grid.h("entropy")[i, -1]), xytext=(-4, 4),
                         textcoords="offset points", ha="right", va="bottom",
                         color="#c62828")
    n, k = len(collapsed), int(collapsed.sum())
    fig.suptitle(f"One task, one trainer, {n} runs (kappa x entropy bonus x seed): "
                 f"{k} stop learning for good (red)")
    return fig


def main() -> int:
    OUT.parent.mkdir(exist_ok=True)
    figure().savefig(OUT, dpi=plots.DPI)
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
