"""The picture at the top of README.md, from data/collapse_kappa.npz (no training).

    .venv/bin/python tools/readme_figure.py          # writes docs/collapse.png

Every run of collapse_kappa (kappa -0.4 / 0 / +0.4 x 40 seeds in two blocks, 800 updates at
the default settings; the runs the verdicts and notebook 05's explorer count): policy entropy
(log scale) and reward over training, the runs that end trapped (never chooses, always aborts,
one side) in red, with the count per kappa.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.lines import Line2D

matplotlib.use("Agg")

from pyrl_mini import plots  # noqa: E402
from pyrl_mini.data import load  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "collapse.png"
DATASET = "collapse_kappa"


def figure():
    runs = load(DATASET)
    x, trapped = runs.update_axis(), runs.trapped
    kappa = runs.arrays["grid/kappa"]
    fig, axes = plots.subplots(1, 2, figsize=(9.6, 4.4), layout="constrained")
    for ax, name, label in zip(axes, ("entropy", "reward"), ("policy entropy (nats, log)",
                                                            "mean reward per trial"), strict=True):
        y = runs.h(name)
        for i in sorted(range(len(y)), key=lambda i: trapped[i]):  # red on top
            ax.plot(x, y[i], lw=1.0 if trapped[i] else 0.7, alpha=0.6 if trapped[i] else 0.3,
                    color="#c62828" if trapped[i] else "#5c7c99")
        ax.set_xlabel("update")
        ax.set_ylabel(label)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_yscale("log")
    # from the data: a decade under the lowest entropy any run reaches, so nothing is clipped
    entropy = runs.h("entropy")
    axes[0].set_ylim(np.nanmin(entropy[entropy > 0]) / 10, 3)
    per_kappa = ", ".join(f"{int(trapped[kappa == k].sum())} of {int((kappa == k).sum())} at "
                          f"kappa {k:+.1f}" for k in sorted(set(kappa.tolist())))
    key = [Line2D([], [], color="#5c7c99", lw=1.2, label="learning or converged"),
           Line2D([], [], color="#c62828", lw=1.2,
                  label=f"trapped (always aborts, never chooses or one side): {per_kappa}")]
    fig.legend(handles=key, loc="outside lower center", ncol=1, frameon=False)
    fig.suptitle(f"One task, one trainer, {len(trapped)} runs (3 kappas x 40 seeds): "
                 f"{int(trapped.sum())} end trapped (red)")
    return fig


def main() -> int:
    OUT.parent.mkdir(exist_ok=True)
    fig = figure()
    problems = plots.style_problems(fig)
    if problems:
        raise SystemExit(f"the README picture breaks the figure style: {problems}")
    fig.savefig(OUT, dpi=plots.DPI)
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
