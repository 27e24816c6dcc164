"""Datasets of notebook 04 (the entropy fix and its alternatives).

nb04_fixes, nb04_fixes_batch512
        six alternatives to the entropy bonus at kappa = -0.4 (risk-seeking, the analysis's
        case), each a change of the default settings, on seeds (0, 1, 2), 1000 updates:

            lower lr           policy lr 0.003 instead of 0.01 (baseline_lr stays 0.01)
            larger batch       512 trials per update instead of 256 (twice the compute)
            decaying lr        "higher then decaying": lr 0.02 -> 0.002, exponential in the update
                               (baseline_lr follows the same factor)
            gradual kappa      kappa 0 -> -0.4 in steps of 0.05 every 50 updates (reached at 400)
            near-zero head     wout_std 0.01 instead of 0.05 (CleanRL's policy-head init)
            no-choice penalty  no_choice_penalty -1.0 instead of upstream's -0.5 (= the abort
                               penalty), so never choosing is worse than aborting

nb04_fixes_fast, nb04_fixes_fast_batch512
        the same comparison where collapse is fast and certain for one seed: policy lr 0.03
        (nb03_kappa_lr shows seed 1 falling into "always aborts" within ~20 updates at every
        kappa), kappa = -0.4, seeds 0-4, 250 updates (stride 5). Variants: none; entropy
        0.01 / 0.05 / 0.1; lower lr (0.01); decaying lr (0.03 -> 0.003); gradual kappa (steps
        of 0.05 every 25 updates, reached at 200); near-zero head; no-choice penalty -1.0;
        larger batch (512, in nb04_fixes_fast_batch512).

nb04_fixes_logit_cap, nb04_fixes_fast_logit_cap
        logit control: logit_cap 2 and 3 (logits -> cap * tanh(logits / cap), so no action's
        probability can pass 0.965 and 0.995), in each of the two comparisons above (default
        lr, seeds 0-2, 1000 updates; lr 0.03, seeds 0-4, 250 updates).

The control (no fix) and the entropy bonus (0.01, 0.05) at kappa = -0.4 are nb00_main_grid
cells: same settings, same seeds, same 1000 updates, so they are paired with these runs and are
not trained twice. The larger batch is its own dataset (nb04_fixes_batch512) because a sweep
stores the last batch's trials, whose shape differs between batch sizes; the logit cap came
later and has its own datasets so that adding it left the stored runs as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import register
from ..sweep import SweepSpec

KAPPA = -0.4
UPDATES = 1000
SEEDS = (0, 1, 2)

# label -> the settings it changes (everything else: defaults, kappa = KAPPA)
VARIANTS: dict[str, dict] = {
    "lower lr": {"lr": 0.003},
    "decaying lr": {"lr": 0.02, "lr_schedule": "exponential", "lr_final_fraction": 0.1},
    "gradual kappa": {"kappa_schedule": "gradual"},
    "near-zero head": {"wout_std": 0.01},
    "no-choice penalty": {"no_choice_penalty": -1.0},
}
BATCH_VARIANT = ("larger batch", {"batch_size": 512})  # in nb04_fixes_batch512
VARIED = ("lr", "lr_schedule", "lr_final_fraction", "kappa_schedule", "wout_std",
          "no_choice_penalty")
_DEFAULTS = {"lr": 0.01, "lr_schedule": "constant", "lr_final_fraction": 0.1,
             "kappa_schedule": "constant", "wout_std": 0.05, "no_choice_penalty": -0.5}


# the fast-collapse setting: lr 0.03, where one seed in three collapses in ~20 updates
FAST_LR = 0.03
FAST_UPDATES = 250
FAST_SEEDS = (0, 1, 2, 3, 4)
FAST_VARIANTS: dict[str, dict] = {
    "none": {},
    "entropy 0.01": {"entropy_coef": 0.01},
    "entropy 0.05": {"entropy_coef": 0.05},
    "entropy 0.1": {"entropy_coef": 0.1},
    "lower lr": {"lr": 0.01},
    "decaying lr": {"lr_schedule": "exponential", "lr_final_fraction": 0.1},
    "gradual kappa": {"kappa_schedule": "gradual"},
    "near-zero head": {"wout_std": 0.01},
    "no-choice penalty": {"no_choice_penalty": -1.0},
}
FAST_VARIED = ("entropy_coef", "lr") + VARIED[1:]
_FAST_DEFAULTS = {**_DEFAULTS, "lr": FAST_LR, "entropy_coef": 0.0}


@dataclass(frozen=True)
class VariantSpec(SweepSpec):
    """A SweepSpec whose cells are a list of variants x seeds (not a product of grid values).

    grid[name][j] is the value of setting `name` in variant j; every variant sets every name,
    so each cell's stored grid/<name> values identify its variant.
    """

    def cells(self) -> list[tuple[dict, int]]:
        names = list(self.grid)
        lengths = {len(v) for v in self.grid.values()}
        if len(lengths) != 1:
            raise ValueError(f"every grid entry needs one value per variant, got lengths "
                             f"{ {n: len(v) for n, v in self.grid.items()} }")
        rows = list(zip(*(self.grid[n] for n in names), strict=True))
        return [(dict(zip(names, row, strict=True)), s) for row in rows for s in self.seeds]

    def rows_of(self, d, j: int):
        """The rows of d (this dataset's runs) of variant j, ordered by seed, so that two
        variants pair up run by run."""
        return d.by_seed(**{n: values[j] for n, values in self.grid.items()})


def variant_grid(variants: dict[str, dict] = VARIANTS, varied: tuple = VARIED,
                 defaults: dict = _DEFAULTS) -> dict[str, tuple]:
    """grid for VariantSpec: setting name -> its value in each variant (variants' order)."""
    return {n: tuple(v.get(n, defaults[n]) for v in variants.values()) for n in varied}


BASE = {"updates": UPDATES, "kappa": KAPPA, "kappa_step": 0.05, "kappa_step_updates": 50}

FIXES = register(VariantSpec(
    name="nb04_fixes",
    base=BASE,
    grid=variant_grid(),
    seeds=SEEDS,
    stride=10,
    chunk=8,
))

FIXES_BATCH = register(SweepSpec(
    name="nb04_fixes_batch512",
    base=BASE,
    grid={"batch_size": (512,)},
    seeds=SEEDS,
    stride=10,
    chunk=3,
))

FAST_BASE = {"updates": FAST_UPDATES, "kappa": KAPPA, "kappa_step": 0.05,
             "kappa_step_updates": 25}
FAST_CONTROL = {**FAST_BASE, "lr": FAST_LR}  # nb04_fixes_fast's control, for one-change datasets

FIXES_FAST = register(VariantSpec(
    name="nb04_fixes_fast",
    base=FAST_BASE,
    grid=variant_grid(FAST_VARIANTS, FAST_VARIED, _FAST_DEFAULTS),
    seeds=FAST_SEEDS,
    stride=5,
    chunk=9,
))

FIXES_FAST_BATCH = register(SweepSpec(
    name="nb04_fixes_fast_batch512",
    base=FAST_CONTROL,
    grid={"batch_size": (512,)},
    seeds=FAST_SEEDS,
    stride=5,
    chunk=5,
))

LOGIT_CAPS = (2.0, 3.0)

FIXES_LOGIT = register(SweepSpec(
    name="nb04_fixes_logit_cap",
    base=BASE,
    grid={"logit_cap": LOGIT_CAPS},
    seeds=SEEDS,
    stride=10,
    chunk=6,
))

FIXES_FAST_LOGIT = register(SweepSpec(
    name="nb04_fixes_fast_logit_cap",
    base=FAST_CONTROL,
    grid={"logit_cap": LOGIT_CAPS},
    seeds=FAST_SEEDS,
    stride=5,
    chunk=10,
))
