"""Notebook 04 (the entropy fix): its exercises, each a reference solution and a
checker (see core.Exercise)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from .core import Exercise, Finding, Prediction, Returns, call, fmt, paired_finding

# In the notebook's core: Exercise 1, the entropy-regularised optimum; Exercise 2, a prediction
# (defined at the end). In Bonus sections: Exercise 3, the trapped fraction of a fix's runs;
# Exercise 4, the coefficient that keeps a share on the worse arm.
_NB04_REWARDS = (0.4, 0.55, 0.7, 0.85, 1.0)  # the gambling task's EV columns


def reference_regularised_optimum(rewards, tau: float) -> torch.Tensor:
    """pi* = softmax(r / tau), the maximiser of pi . r + tau H(pi) (tau > 0)."""
    r = torch.as_tensor(rewards, dtype=torch.float64)
    return torch.softmax(r / tau, dim=0)


def _as_float64(x) -> torch.Tensor:
    return torch.as_tensor(x, dtype=torch.float64).detach().flatten()


def _test_regularised_optimum(fn: Callable) -> str | None:
    import warnings

    with warnings.catch_warnings():  # an overflow is reported in the one line, not as a warning
        warnings.simplefilter("ignore")
        return _find_regularised_optimum_slip(fn)


def _find_regularised_optimum_slip(fn: Callable) -> str | None:
    cases = [(_NB04_REWARDS, 0.2), ((0.0, 1.0), 0.5), ((1.0, 2.0, 3.0), 1.0),
             (_NB04_REWARDS, 0.05), (_NB04_REWARDS, 0.001)]
    for rewards, tau in cases:
        got = _as_float64(call(fn, list(rewards), tau))
        want = reference_regularised_optimum(rewards, tau)
        r = torch.tensor(rewards, dtype=torch.float64)
        where = f"rewards {list(rewards)}, tau={tau:g}"
        if got.shape != want.shape:
            return (f"at {where} pi* needs one probability per arm, {len(rewards)}; "
                    f"got {got.numel()}")
        if torch.allclose(got, want, rtol=1e-5, atol=1e-9):
            continue
        if not torch.isfinite(got).all():
            return (f"at {where} the result is not finite: exp(r / tau) overflows for small tau; "
                    "subtract max(r) / tau before exponentiating (or use a softmax)")
        if torch.allclose(got, torch.softmax(r * tau, 0), rtol=1e-5):
            return f"at {where} you multiplied by tau; the optimum is softmax(r / tau)"
        if torch.allclose(got, torch.softmax(r, 0), rtol=1e-5):
            return f"at {where} the result ignores tau; the optimum is softmax(r / tau)"
        if not math.isclose(float(got.sum()), 1.0, rel_tol=1e-6):
            return f"at {where} the probabilities sum to {float(got.sum()):.4g}, not 1: normalise"
        return (f"at {where} your pi* {fmt(got)} is wrong: the optimum weights each arm by "
                "exp(r / tau), normalised")
    return None


regularised_optimum = Exercise(
    "regularised_optimum", reference_regularised_optimum, _test_regularised_optimum,
    "pi* = softmax(r / tau), computed without overflow even at tau = 0.001.",
    returns=Returns("a tensor or numpy array of probabilities, one per arm",
                    lambda out: (torch.is_tensor(out) or isinstance(out, np.ndarray))
                    and out.ndim == 1))


def reference_min_entropy_coef(gap: float, p_min: float, steps_per_trial: float) -> float:
    """The entropy_coef whose optimum keeps p_min on the worse of two arms `gap` apart, the
    loss applying tau = entropy_coef / steps_per_trial per step. (Solving for it is the
    exercise: the formula is in the code.)"""
    return steps_per_trial * gap / math.log((1.0 - p_min) / p_min)


def _test_min_entropy_coef(fn: Callable) -> str | None:
    for gap, p_min, steps in ((0.15, 0.1, 8), (0.15, 0.01, 8), (0.6, 0.05, 1), (0.3, 0.2, 15)):
        got = float(call(fn, gap, p_min, steps))
        want = reference_min_entropy_coef(gap, p_min, steps)
        if math.isclose(got, want, rel_tol=1e-3):
            continue
        where = f"min_entropy_coef(gap={gap}, p_min={p_min}, steps_per_trial={steps})"
        if steps != 1 and math.isclose(got * steps, want, rel_tol=1e-3):
            hint = ("that is tau; the loss averages the bonus over the steps of a trial, so "
                    "entropy_coef = steps_per_trial * tau")
        elif math.isclose(got, -want, rel_tol=1e-3):
            hint = "the sign is flipped: log((1 - p_min) / p_min) is positive for p_min < 1/2"
        else:
            hint = "start from p_min = 1 / (1 + exp(gap / tau)) and solve for tau"
        return f"{where} = {got:.4g} is wrong: {hint}"
    return None


min_entropy_coef = Exercise(
    "min_entropy_coef", reference_min_entropy_coef, _test_min_entropy_coef,
    "entropy_coef = T * gap / log((1 - p_min) / p_min).")


def reference_trapped_fraction(modes) -> float:
    """Fraction of runs whose behaviour mode (analysis.MODES names) is a trapped one:
    never_chooses, always_aborts or one_side."""
    from ..analysis import TRAPPED_MODES

    modes = list(modes)
    return sum(m in TRAPPED_MODES for m in modes) / len(modes)


def _test_trapped_fraction(fn: Callable) -> str | None:
    cases = [["converged", "always_aborts", "converged", "always_aborts", "converged"],
             ["converged", "learning", "learning"],
             ["never_chooses", "one_side", "converged", "learning"],
             ["always_aborts", "always_aborts"], ["converged"] * 4]
    for modes in cases:
        got = float(call(fn, list(modes)))
        want = reference_trapped_fraction(modes)
        if math.isclose(got, want, abs_tol=1e-9):
            continue
        k = round(want * len(modes))
        if math.isclose(got, k) and k != want:
            return (f"for {modes} you returned {got:g}, a count: return the fraction of the "
                    "runs")
        if "learning" in modes and math.isclose(
                got, sum(m != "converged" for m in modes) / len(modes)):
            return (f"for {modes} you counted 'learning' runs as trapped; a run still learning "
                    "is not trapped (the trapped modes: never_chooses, always_aborts, one_side)")
        # points back at the prompt's TRAPPED_MODES rather than spelling out the solution
        return (f"for {modes} your fraction {got:g} is wrong: a run is trapped if its mode is "
                "in analysis.TRAPPED_MODES; print it and compare with the modes above")
    return None


trapped_fraction = Exercise(
    "trapped_fraction", reference_trapped_fraction, _test_trapped_fraction,
    "the share of runs in a trapped mode (never_chooses, always_aborts, one_side).")


# --- A prediction (section 3): does a bonus of 0.01 change how many runs end trapped? ----------
def _bonus_truth() -> Finding:
    from .. import data

    none = data.load("collapse_kappa")     # entropy_coef 0, kappa -0.4 / 0 / +0.4
    bonus = data.load("collapse_entropy")  # the same seeds and kappas with a bonus
    without, with_bonus = [], []
    for kappa in none.values("kappa"):
        a, b = none.by_seed(kappa=kappa), bonus.by_seed(kappa=kappa, entropy_coef=0.01)
        if not np.array_equal(none.arrays["seed"][a], bonus.arrays["seed"][b]):
            raise ValueError(f"kappa {kappa}: the runs with and without a bonus differ in seeds")
        without.append(none.trapped[a])
        with_bonus.append(bonus.trapped[b])
    return paired_finding(np.concatenate(without), np.concatenate(with_bonus), "trapped",
                          "without a bonus", "with entropy_coef 0.01")


bonus_prevents = Prediction(
    "bonus_prevents", ("fewer", "same", "more"), _bonus_truth,
    "look at the trapped counts per entropy_coef below, and at the runs paired by seed")
