"""The picture at the top of README.md, from data/collapse_kappa.npz (no training).

    .venv/bin/python tools/readme_figure.py          # writes docs/collapse.png

Every run of collapse_kappa (kappa -0.4 / 0 / +0.4 x 40 seeds in two blocks, 800 updates at
the default settings; the runs the verdicts and notebook 05's explorer count), drawn by
plots.plot_trapped_runs as notebook 00b's Bonus A draws it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from pyrl_mini import plots  # noqa: E402
from pyrl_mini.data import load  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "collapse.png"
DATASET = "collapse_kappa"


def figure():
    runs = load(DATASET)
    return plots.plot_trapped_runs(runs, title=f"One task, one trainer, {len(runs.trapped)} "
                                   f"runs (3 kappas x 40 seeds): {int(runs.trapped.sum())} end "
                                   "trapped (red)")


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
