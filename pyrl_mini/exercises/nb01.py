"""Notebook 01 (dead ReLU units): its exercises, each a reference solution and a
checker (see core.Exercise)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ..stats import sign_test
from .core import Exercise, Finding, Prediction, call

# --- Exercise 1: dead and dormant fractions of one batch ------------------------------------------


def reference_dead_and_dormant(rates: torch.Tensor, mask: torch.Tensor,
                               tau: float = 0.1) -> tuple[float, float]:
    """(dead fraction, dormant fraction) of one network's units on one batch.

    rates (time, trials, units), mask (time, trials) 1.0 on valid steps. A unit is dead when
    its rate is exactly 0 on every valid step; dormant when its mean |rate| over valid steps,
    divided by the layer's average of that mean, is at most tau (ReDo, Sokar et al. 2023).
    """
    active = rates.abs() * mask.unsqueeze(-1)                  # (time, trials, units)
    dead = active.amax(dim=(0, 1)) == 0                         # (units,)
    mean_abs = active.sum(dim=(0, 1)) / mask.sum()              # (units,)
    dormant = mean_abs / mean_abs.mean() <= tau                 # (units,)
    return dead.float().mean().item(), dormant.float().mean().item()


def _unit_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """A hand-made batch whose traps each change the answer: 3 trials of 6 steps, 8 units."""
    rates = torch.zeros(6, 3, 8)
    mask = torch.ones(6, 3)
    mask[2:, 0] = 0                  # trial 0 ends after 2 steps
    rates[:, :, 0:4] = 4.0           # units 0-3: busy (the layer's mean |r| is about 2)
    rates[1, 2, 4] = 1e-7            # unit 4: a tiny but nonzero rate: alive (and dormant)
    rates[4, 0, 5] = 3.0             # unit 5: fires only after trial 0 ended: dead
    rates[:, 1, 6] = 0.3             # unit 6: mean |r| 0.13 > tau, but under tau x the layer's 2
    rates[:, :, 7] = 0.0             # unit 7: dead
    return rates, mask


def _boundary_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Unit 0's mean |r| is exactly 0.1 times the layer's average (1 against 10, exact in
    float32 and float64), so it is dormant ("at most") and a strict < misses it."""
    rates = torch.full((4, 2, 4), 13.0)
    rates[:, :, 0] = 1.0
    return rates, torch.ones(4, 2)


def _test_dead_and_dormant(fn: Callable) -> str | None:
    from ..diagnostics import dead_and_dormant as library_dead_and_dormant

    g = torch.Generator().manual_seed(0)
    rand = torch.relu(torch.randn(7, 5, 12, generator=g) - torch.linspace(-1, 2.5, 12))
    rand_mask = (torch.arange(7).unsqueeze(1) < torch.tensor([7, 3, 5, 1, 7])).float()
    for name, (rates, mask) in (("the hand-made batch", _unit_batch()),
                                ("a random batch", (rand, rand_mask)),
                                ("a batch with a unit exactly at the threshold",
                                 _boundary_batch())):
        dead, dormant = (float(v) for v in call(fn, rates.clone(), mask.clone()))
        if dead > 1 or dormant > 1:   # a count of units, not a fraction
            return (f"on {name} you returned ({dead:.3g}, {dormant:.3g}): return fractions of "
                    "the units (count / number of units, between 0 and 1), not counts")
        lib_dead, lib_dormant = library_dead_and_dormant(rates.unsqueeze(1), mask.unsqueeze(1))
        want_dead, want_dormant = lib_dead.float().mean().item(), lib_dormant.item()
        if not math.isclose(dead, want_dead, abs_tol=1e-6):
            hint = (": a dead unit's rate is exactly 0 on every valid step (mask 1) of every "
                    "trial")
            if name == "the hand-made batch" and math.isclose(dead, 1 / 8, abs_tol=1e-6):
                hint = (": a unit that fires only after its trial ended (mask 0) is dead; "
                        "multiply by the mask first")
            elif name == "the hand-made batch" and math.isclose(dead, 3 / 8, abs_tol=1e-6):
                hint = ": 'dead' means exactly zero, so a rate of 1e-7 is alive (compare > 0)"
            return f"on {name} your dead fraction {dead:.3g} is wrong" + hint
        if not math.isclose(dormant, want_dormant, abs_tol=1e-6):
            hint = (": average |r| over valid steps only, per unit, then compare with 0.1 "
                    "times the layer's average")
            if name == "the hand-made batch" and math.isclose(dormant, 3 / 8, abs_tol=1e-6):
                hint = (": compare each unit's mean |r| with 0.1 times the layer's average "
                        "mean |r|, not with 0.1 itself")
            elif name.endswith("threshold") and dormant < want_dormant:
                hint = (": dormant means at most 0.1 times the layer's average, so a unit "
                        "exactly at it is dormant: compare with <=, not <")
            return f"on {name} your dormant fraction {dormant:.3g} is wrong" + hint
    return None


dead_and_dormant = Exercise(
    "dead_and_dormant", reference_dead_and_dormant, _test_dead_and_dormant,
    "your fractions equal the trainer's diagnostics (dead_fraction, dormant_fraction).")


# --- Exercise 4 (Bonus A): a paired difference and its standard error -----------------------------
def reference_paired_difference(low, high) -> tuple[float, float]:
    """(mean of low - high over pairs, its standard error); low, high: (pairs,) arrays in the
    same order, element k of each from pair k (same seed, same settings but kappa). Working
    out the standard error of a paired difference is the exercise: the formula is in the code,
    not here."""
    d = torch.as_tensor(low, dtype=torch.float64) - torch.as_tensor(high, dtype=torch.float64)
    return d.mean().item(), (d.std(unbiased=True) / math.sqrt(len(d))).item()


def _test_paired_difference(fn: Callable) -> str | None:
    # pairs that share a seed effect (large spread between seeds, small within a pair)
    seed_effect = torch.tensor([0.10, 0.35, 0.20, 0.42, 0.08, 0.27], dtype=torch.float64)
    low = seed_effect + torch.tensor([-0.02, -0.06, -0.03, -0.05, -0.01, -0.07],
                                     dtype=torch.float64)
    high = seed_effect.clone()
    mean, se = (float(v) for v in call(fn, low.numpy().copy(), high.numpy().copy()))
    want_mean, want_se = reference_paired_difference(low, high)
    where = "on 6 pairs that share a large seed effect"
    if not math.isclose(mean, want_mean, abs_tol=1e-9):
        if math.isclose(mean, -want_mean, abs_tol=1e-9):
            return f"{where} your mean {mean:+.4f} has the sign reversed: take low - high"
        return f"{where} your mean {mean:+.4f} is not the mean of low - high over the pairs"
    if math.isclose(se, want_se, rel_tol=1e-6):
        return None
    n = len(low)
    d = (low - high)
    unpaired = math.sqrt(low.var().item() / n + high.var().item() / n)
    if math.isclose(se, unpaired, rel_tol=1e-3):
        return (f"{where} your standard error {se:.4f} treats the runs as unpaired; take the "
                "differences first and use their spread")
    if math.isclose(se, d.std().item(), rel_tol=1e-6):
        return (f"{where} {se:.4f} is the spread of the differences, not the standard error "
                "of their mean (how does it shrink with more pairs?)")
    if math.isclose(se, d.std(unbiased=False).item() / math.sqrt(n), rel_tol=1e-6):
        return (f"{where} your standard error {se:.5f} uses the population standard deviation "
                "(ddof=0); use the sample one (ddof=1)")
    return (f"{where} your standard error {se:.4f} is wrong: it comes from the spread of the "
            "differences and the number of pairs")


paired_difference = Exercise(
    "paired_difference", reference_paired_difference, _test_paired_difference,
    "the mean paired difference and its standard error from the spread of the differences.")


# --- Exercise 3 (Bonus A): how well a score separates two groups (AUC) ----------------------------
def reference_separation_auc(trapped, healthy) -> float:
    """P(a random trapped run has a higher dead fraction than a random healthy run), ties
    counted 1/2: the area under the ROC curve. 0.5 = no information, 1 = perfect."""
    a = torch.as_tensor(trapped, dtype=torch.float64).view(-1, 1)
    b = torch.as_tensor(healthy, dtype=torch.float64).view(1, -1)
    return ((a > b).double().mean() + 0.5 * (a == b).double().mean()).item()


def _test_separation_auc(fn: Callable) -> str | None:
    cases = [([0.30, 0.26], [0.10, 0.42, 0.26, 0.20]),
             ([0.5, 0.6, 0.2], [0.1, 0.3]),
             ([0.1], [0.1, 0.1, 0.2])]
    for trapped, healthy in cases:
        got = float(call(fn, list(trapped), list(healthy)))
        want = reference_separation_auc(trapped, healthy)
        if math.isclose(got, want, abs_tol=1e-9):
            continue
        where = f"trapped {trapped}, healthy {healthy}"
        if math.isclose(got, 1 - want, abs_tol=1e-9):
            return (f"for {where} you got {got:.3g}, which is 1 - AUC: count the pairs where "
                    "the trapped run has more dead units")
        a = torch.tensor(trapped).view(-1, 1)
        b = torch.tensor(healthy).view(1, -1)
        if math.isclose(got, (a > b).double().mean().item(), abs_tol=1e-9) or \
                math.isclose(got, (a >= b).double().mean().item(), abs_tol=1e-9):
            return (f"for {where} your AUC {got:.3g} counts ties wrong: a tie counts one half")
        return (f"for {where} your AUC {got:.3g} is wrong: compare every (trapped, healthy) "
                "pair and average")
    return None


separation_auc = Exercise(
    "separation_auc", reference_separation_auc, _test_separation_auc,
    "the AUC counts every (trapped, healthy) pair, ties as one half.")


# --- A prediction (section 6): more dead units under Adam or under plain SGD? ---------------------
def more_dead_units(adam_dead, sgd_dead, alpha: float = 0.05) -> Finding:
    """Which optimiser ends with more dead units, from final dead fractions paired by seed
    (element k of each from seed k): the one with more on most seeds if the exact sign test
    says p < alpha, else "same"."""
    adam, sgd = np.asarray(adam_dead, dtype=float), np.asarray(sgd_dead, dtype=float)
    more_adam, more_sgd = int(np.sum(adam > sgd)), int(np.sum(sgd > adam))
    p = sign_test(more_adam, more_sgd)
    evidence = (f"paired by seed, more dead units under Adam on {more_adam} of {len(adam)} "
                f"seeds, under SGD on {more_sgd} (sign test p = {p:.1g})")
    if p >= alpha:
        return Finding("same", evidence)
    return Finding("adam" if more_adam > more_sgd else "sgd", evidence)


def _deadlier_optimizer_truth() -> Finding:
    from .. import data

    adam_runs = data.load("collapse_kappa")       # default Adam, lr 0.01, kappa 0
    sgd_runs = data.load("collapse_optimizer")    # the same seeds with plain SGD at lr 1
    adam = adam_runs.by_seed(kappa=0.0)
    sgd = sgd_runs.by_seed(policy_optimizer="sgd", lr=1.0)
    if not np.array_equal(adam_runs.arrays["seed"][adam], sgd_runs.arrays["seed"][sgd]):
        raise ValueError("the Adam and SGD runs do not share their seeds: cannot pair them")
    return more_dead_units(adam_runs.final("dead_fraction")[adam],
                           sgd_runs.final("dead_fraction")[sgd])


deadlier_optimizer = Prediction(
    "deadlier_optimizer", ("Adam", "SGD", "same"), _deadlier_optimizer_truth,
    "look at the final dead fractions under each optimiser below, seed by seed")
