"""Datasets of notebook 03 (gradient vanishing, convergence vs collapse); notebook 04 reuses them.

nb03_kappa_lr       kappa (-0.4 .. 0.4) x policy learning rate (0.003, 0.03) x seeds (0, 1, 2).
                    The lr = 0.01 column is nb00_main_grid at entropy_coef = 0 (same seeds, so
                    paired).
nb03_reward_design  kappa (-0.4, 0, 0.4) x two reward variants, applied one at a time:
                    a larger no-choice penalty (-1.0 instead of -0.5), and a per-step cost of
                    0.01, at lr = 0.03, where collapse is frequent (at lr = 0.01 too few of 3
                    seeds collapse within 700 updates for a change to show). The control
                    (upstream's -0.5 / -0.5 / 0 at lr = 0.03) is nb03_kappa_lr, same seeds, so
                    the comparison is paired.

Both run 700 updates (nb00_main_grid runs 1000: notebook 03 compares them at update 700)
and keep every diagnostic that `analysis.report` prints, so a stored run can be shown in the
upstream debug layout. Only the policy learning rate varies; baseline_lr stays 0.01.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..registry import register
from ..sweep import KEEP, SweepSpec

UPDATES = 700
SEEDS = (0, 1, 2)
KAPPAS = (-0.4, -0.2, 0.0, 0.2, 0.4)
LEARNING_RATES = (0.003, 0.03)
REWARD_KAPPAS = (-0.4, 0.0, 0.4)
REWARD_LR = 0.03
# (no_choice_penalty, step_cost): one change at a time from upstream's (-0.5, 0.0)
REWARD_VARIANTS = ((-1.0, 0.0), (-0.5, 0.01))
# everything analysis.report prints, on top of the sweep default
REPORT_KEEP = KEEP + tuple(n for n in (
    "choice_rate", "adv_std", "adv_neg_frac", "grad_norm_W_in", "grad_norm_biases",
    "baseline_grad_norm", "kappa") if n not in KEEP)


@dataclass(frozen=True)
class ZippedSweepSpec(SweepSpec):
    """A SweepSpec whose `zipped` grid names vary together (zip), not as a product.

    grid={"kappa": (a, b), "x": (1, 2), "y": (3, 4)}, zipped=("x", "y") gives the cells
    kappa in (a, b) x (x, y) in ((1, 3), (2, 4)) x seeds: each variant changes x and y at once.
    """

    zipped: tuple = ()

    def __post_init__(self):
        super().__post_init__()
        missing = [n for n in self.zipped if n not in self.grid]
        if missing:
            raise ValueError(f"zipped names {missing} are not grid names {list(self.grid)}")
        lengths = {len(self.grid[n]) for n in self.zipped}
        if len(lengths) > 1:
            raise ValueError(f"zipped grid entries {self.zipped} must have equal lengths, "
                             f"got {[len(self.grid[n]) for n in self.zipped]}")

    def cells(self) -> list[tuple[dict, int]]:
        free = [n for n in self.grid if n not in self.zipped]
        rows = list(zip(*(self.grid[n] for n in self.zipped), strict=True)) or [()]
        out = []
        for combo in itertools.product(*(self.grid[n] for n in free)):
            for row in rows:
                values = {**dict(zip(free, combo, strict=True)),
                          **dict(zip(self.zipped, row, strict=True))}
                out += [(values, s) for s in self.seeds]
        return out

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["zipped"] = list(self.zipped)
        return d


KAPPA_LR = register(SweepSpec(
    name="nb03_kappa_lr",
    base={"updates": UPDATES},
    grid={"kappa": KAPPAS, "lr": LEARNING_RATES},
    seeds=SEEDS,
    stride=10,
    chunk=5,
    keep=REPORT_KEEP,
))

REWARD_DESIGN = register(ZippedSweepSpec(
    name="nb03_reward_design",
    base={"updates": UPDATES, "lr": REWARD_LR},
    grid={"kappa": REWARD_KAPPAS,
          "no_choice_penalty": tuple(v[0] for v in REWARD_VARIANTS),
          "step_cost": tuple(v[1] for v in REWARD_VARIANTS)},
    zipped=("no_choice_penalty", "step_cost"),
    seeds=SEEDS,
    stride=10,
    chunk=6,
    keep=REPORT_KEEP,
))
