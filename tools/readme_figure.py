"""The picture at the top of README.md, from data/nb00_main_grid.npz (no training).

    .venv/bin/python tools/readme_figure.py          # writes docs/collapse.png

All runs of the main grid (kappa x entropy_coef x 3 seeds, 1000 updates): policy entropy
(log scale) and reward over training; the runs whose final behaviour is a trapped mode
(never chooses, always aborts, one side) in red, a line style each, named in the key with
their mode and settings.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.lines import Line2D

matplotlib.use("Agg")

from pyrl_mini import plots  # noqa: E402
from pyrl_mini.analysis import MODES  # noqa: E402
from pyrl_mini.data import load  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "collapse.png"


def figure():
    grid = load("nb00_main_grid")
    x, collapsed = grid.update_axis(), grid.trapped
    kappa, coef = grid.arrays["grid/kappa"], grid.arrays["grid/entropy_coef"]
    fig, axes = plots.subplots(1, 2, figsize=(9.6, 4.4), layout="constrained")
    trapped = [int(i) for i in collapsed.nonzero()[0]]
    # each trapped run in red with a line style of its own, named in the key below the panels
    styles = {i: ("-", "--", ":", "-.")[j % 4] for j, i in enumerate(trapped)}
    for ax, name, label in zip(axes, ("entropy", "reward"), ("policy entropy (nats, log)",
                                                            "mean reward per trial"), strict=True):
        y = grid.h(name)
        for i in sorted(range(len(y)), key=lambda i: collapsed[i]):  # red on top
            ax.plot(x, y[i], lw=1.5 if collapsed[i] else 0.8, alpha=0.9 if collapsed[i] else 0.35,
                    color="#c62828" if collapsed[i] else "#5c7c99", ls=styles.get(i, "-"))
        ax.set_xlabel("update")
        ax.set_ylabel(label)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_yscale("log")
    # from the data: a decade under the lowest entropy any run reaches, so nothing is clipped
    entropy = grid.h("entropy")
    axes[0].set_ylim(np.nanmin(entropy[entropy > 0]) / 10, 3)
    key = [Line2D([], [], color="#5c7c99", lw=1.2, label="learning or converged")]
    key += [Line2D([], [], color="#c62828", lw=1.5, ls=styles[i],
                   label=f"{MODES[int(grid.mode[i])].replace('_', ' ')} (kappa {kappa[i]:+.1f}, "
                   f"entropy bonus {coef[i]:g})") for i in trapped]
    fig.legend(handles=key, loc="outside lower center", ncol=min(len(key), 2), frameon=False)
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
