"""Notebook 03 (the vanishing gradient): its exercises, each a reference solution and a
checker (see core.Exercise)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ..analysis import MODES
from ..stats import concordance_p_exact
from .core import NUMBER, Exercise, Finding, Prediction, call, fmt, one_of


# --- Exercise 1: one exact policy-gradient step on a bandit ---------------------------------------
def reference_exact_pg_step(theta: torch.Tensor, rewards: torch.Tensor,
                            lr: float) -> torch.Tensor:
    """theta + lr * grad_theta J for J = pi . r, pi = softmax(theta); shapes (K,) -> (K,).

    grad J = sum_a pi(a) r(a) (onehot(a) - pi) = pi * (r - pi . r).
    """
    pi = torch.softmax(theta, dim=-1)
    return theta + lr * pi * (rewards - (pi * rewards).sum(-1, keepdim=True))


def _test_exact_pg_step(fn: Callable) -> str | None:
    cases = [(torch.tensor([0.3, -0.2], dtype=torch.float64),
              torch.tensor([1.0, 0.0], dtype=torch.float64), 0.5),
             (torch.tensor([-4.6, 0.0], dtype=torch.float64),
              torch.tensor([1.0, 0.0], dtype=torch.float64), 0.1),
             (torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64),
              torch.tensor([0.2, 1.0, 0.4], dtype=torch.float64), 1.0)]
    for theta, r, lr in cases:
        raw = call(fn, theta.clone(), r.clone(), lr)
        if isinstance(raw, torch.Tensor) and raw.dtype != torch.float64:
            return (f"your new logits are {str(raw.dtype).replace('torch.', '')}, the task asks "
                    "float64: keep theta's dtype (torch.tensor(...) without dtype= is float32)")
        got = torch.as_tensor(raw, dtype=torch.float64)
        want = reference_exact_pg_step(theta, r, lr)
        if got.shape != want.shape:
            return f"the new logits must have the shape of theta, {tuple(want.shape)}; got " \
                   f"{tuple(got.shape)}"
        if torch.allclose(got, want, atol=1e-9, rtol=1e-7):
            continue
        pi = torch.softmax(theta, -1)
        where = f"theta={fmt(theta)}, r={fmt(r)}, lr={lr:g}"
        if torch.allclose(got, theta - (want - theta), atol=1e-9):
            return f"at {where} you stepped downhill: ascent is theta + lr * grad J"
        if torch.allclose(got, theta + lr * pi * r, atol=1e-9):
            return (f"at {where} the gradient lacks the '- pi . r' term: grad J = "
                    "pi * (r - pi . r), since the components of onehot(a) - pi sum to 0")
        if torch.allclose(got, want - theta, atol=1e-9):
            return f"at {where} you returned the step, not the new logits theta + step"
        return (f"at {where} your new logits {fmt(got)} are wrong (grad J = "
                "pi * (r - pi . r), with pi = softmax(theta))")
    return None


exact_pg_step = Exercise(
    "exact_pg_step", reference_exact_pg_step, _test_exact_pg_step,
    "grad J = pi * (r - pi . r): zero at every vertex of the simplex, good arm or bad.")


# --- Exercise 5 (Bonus I): the logit gap at which float32 softmax returns exactly 1, by bisection
def reference_saturation_gap(dtype: torch.dtype) -> float:
    """Smallest gap g (to 1e-6) with softmax([g, 0])[0] == 1.0 exactly in `dtype`."""
    lo, hi = 0.0, 100.0  # softmax < 1 at 0, == 1 at 100 in float32 and float64
    while hi - lo > 1e-6:
        mid = (lo + hi) / 2
        if torch.softmax(torch.tensor([mid, 0.0], dtype=dtype), dim=0)[0] == 1.0:
            hi = mid
        else:
            lo = mid
    return hi


def _softmax_is_one(gap: float, dtype: torch.dtype) -> bool:
    return bool(torch.softmax(torch.tensor([gap, 0.0], dtype=dtype), dim=0)[0] == 1.0)


def _test_saturation_gap(fn: Callable) -> str | None:
    # each message names the slip from what the student's gap does, never the right gap
    gaps = {}
    for dtype in (torch.float32, torch.float64):
        got = float(call(fn, dtype))
        gaps[dtype] = got
        want = reference_saturation_gap(dtype)
        if abs(got - want) < 1e-3:
            continue
        name = str(dtype).replace("torch.", "")
        other = torch.float64 if dtype == torch.float32 else torch.float32
        eps = torch.finfo(dtype).eps
        if abs(got - math.log(1 / eps)) < 0.05:
            hint = ("that is ln(1/eps); 1 + e^-g already rounds to 1 once e^-g is below "
                    "half an ulp, so bisect on the softmax itself")
        elif abs(got - reference_saturation_gap(other)) < 0.05:
            hint = (f"that is the {str(other).replace('torch.', '')} gap: build the logits "
                    "with dtype=dtype (a tensor without dtype is float32)")
        elif got == round(got) and not _softmax_is_one(got, dtype):
            hint = ("a whole number where the softmax is below 1.0 is an end of your bracket, "
                    "so the loop never moved it: start from a hi where the softmax is exactly "
                    "1.0 (hi = 100), then set hi = mid where it is, lo = mid elsewhere")
        elif got >= 99.9:
            hint = ("that is the top of the starting bracket, so the loop never moved it: set "
                    "hi = mid where the softmax is exactly 1.0, lo = mid elsewhere")
        elif not _softmax_is_one(got, dtype):
            hint = ("at your gap the softmax is still below 1.0: compare with == 1.0, not with "
                    "a tolerance, and return hi (the end where it is exactly 1)")
        elif _softmax_is_one(got - 1e-3, dtype):
            hint = ("the softmax is already exactly 1 just below your gap: check which end "
                    "of the interval you return and that you bisect until hi - lo < 1e-6")
        else:
            hint = "bisect on torch.softmax(torch.tensor([g, 0.0], dtype=dtype), 0)[0] == 1.0"
        return f"in {name} your gap {got:.4f} is wrong: {hint}"
    return None


saturation_gap = Exercise(
    "saturation_gap", reference_saturation_gap, _test_saturation_gap,
    "float32 rounds the softmax to exactly 1 from a gap of 16.6, float64 from 36.7.")


# --- Exercise 3 (Bonus B): a run's behaviour from its recorded rates -----------------------------
def reference_behaviour(abort_rate: float, no_choice_rate: float, left_rate: float,
                        higher_ev_rate: float) -> str:
    """The behaviour word of notebook 00b's glossary for one run's rates (fractions of trials;
    left_rate and higher_ev_rate are fractions of the choices made). First rule that holds:
        never_chooses  no_choice_rate >= 0.9   (trapped: holds fixation to the end)
        always_aborts  abort_rate >= 0.9       (trapped: breaks fixation)
        converged      abort_rate < 0.05 and higher_ev_rate >= 0.8
        one_side       at least half the trials end in a choice, and >= 95 % of the
                       choices go to one side (trapped: ignores the offer)
        learning       none of these (yet)
    """
    if no_choice_rate >= 0.9:
        return "never_chooses"
    if abort_rate >= 0.9:
        return "always_aborts"
    if abort_rate < 0.05 and higher_ev_rate >= 0.8:
        return "converged"
    if 1 - abort_rate - no_choice_rate >= 0.5 and (left_rate >= 0.95 or left_rate <= 0.05):
        return "one_side"
    return "learning"


BEHAVIOUR_CASES = (  # (abort, no_choice, left, higher_ev): each rule and each edge
    (0.99, 0.0, 0.5, 0.5), (0.0, 0.97, 0.5, 0.5), (0.01, 0.0, 0.5, 0.93),
    (0.02, 0.0, 1.0, 0.5), (0.02, 0.0, 0.0, 0.5), (0.03, 0.0, 0.03, 0.52),
    (0.2, 0.0, 0.6, 0.7), (0.9, 0.0, 0.5, 0.5), (0.0, 0.9, 0.5, 0.5),
    (0.06, 0.0, 0.5, 0.9), (0.04, 0.0, 0.5, 0.8), (0.6, 0.0, 1.0, 0.5),
    (0.45, 0.0, 0.97, 0.5), (0.3, 0.0, 0.5, 0.55),
    (0.0, 0.95, 0.5, 0.9),  # rarely chooses, but well: still never_chooses
    (0.3, 0.3, 1.0, 0.5),   # 40 % choose, all left: under half choose, so learning
)


def _test_behaviour(fn: Callable) -> str | None:
    for a, n, left, hev in BEHAVIOUR_CASES:
        got = call(fn, a, n, left, hev)
        want = reference_behaviour(a, n, left, hev)
        if got != want and want == "learning" and got == "one_side" and n > 0 \
                and 1 - a >= 0.5 > 1 - a - n:
            return (f"for abort {a:g}, no choice {n:g}, left {left:g} your function says "
                    "'one_side': it counts the trials that never choose as choices (the "
                    "trials that end in a choice are 1 - abort_rate - no_choice_rate)")
        if got != want:
            return (f"for abort {a:g}, no choice {n:g}, left {left:g}, higher-EV {hev:g} your "
                    f"function says {got!r}, which the table's rules do not give (check the "
                    "thresholds, >= against >, both sides of the one-side rule, and the order "
                    "of the rules)")
    return None


behaviour = Exercise(
    "behaviour", reference_behaviour, _test_behaviour,
    "your rules give the library's behaviour word on every edge case.",
    returns=one_of(*MODES))



# --- Exercise 4 (Bonus C): a seed trapped at every kappa more often than chance? permutation test
def reference_concordance_p(trap, shuffles, rng) -> float:
    """trap: (seeds, settings) bool, True where that seed's run at that setting is trapped.
    The fraction of `shuffles` shuffled tables in which at least as many seeds are trapped at
    every setting as in `trap`; a shuffle permutes each setting's column across the seeds
    on its own (keeping how many runs each setting traps, breaking any link between them)."""
    trap = np.asarray(trap, dtype=bool)
    observed = trap.all(axis=1).sum()
    hits = 0
    for _ in range(shuffles):
        shuffled = rng.permuted(trap, axis=0)   # each column shuffled on its own
        hits += shuffled.all(axis=1).sum() >= observed
    return hits / shuffles


def _concordance_cases() -> list[np.ndarray]:
    """(seeds, settings) bool tables whose exact p-values lie apart from the slips' answers."""
    a = np.zeros((12, 3), dtype=bool)
    a[:3] = True                    # 3 seeds trapped at all three settings
    a[3, 0] = a[4, 1] = a[5, 2] = a[6, 0] = True
    b = np.zeros((10, 2), dtype=bool)
    b[:3] = True                    # two settings: 3 seeds at both, 2 more at one of them
    b[3, 0] = b[4, 1] = True
    c = np.zeros((16, 3), dtype=bool)
    c[0] = True                     # 9 trapped runs per setting, 5 seeds at all three
    c[1:9, 0] = c[3:11, 1] = c[5:13, 2] = True
    return [a, b, c]


def _test_concordance_p(fn: Callable) -> str | None:
    shuffles = 4000
    for trap in _concordance_cases():
        got = float(call(fn, trap.copy(), shuffles, np.random.default_rng(1)))
        want = concordance_p_exact(trap)
        se = math.sqrt(want * (1 - want) / shuffles)
        if abs(got - want) <= 4 * se + 0.01:
            continue
        where = f"for a table of {trap.shape[0]} seeds x {trap.shape[1]} settings"
        if got > 1:
            return f"{where} you returned {got:g}: a p-value is a fraction of the shuffles"
        if got == 1.0:
            return (f"{where} every shuffle matched the observed count: shuffle each column "
                    "on its own (moving whole rows keeps each seed's outcomes together)")
        observed = int(trap.all(axis=1).sum())
        if abs(got - concordance_p_exact(trap, observed + 1)) <= 4 * se + 0.01:
            return (f"{where} your p {got:.3f} is too small: count the shuffles with at least "
                    "as many seeds trapped everywhere (>=, not >)")
        return (f"{where} your p {got:.3f} is wrong (count the seeds trapped at every setting, "
                "trap.all(axis=1).sum(), in each shuffle)")
    return None


concordance_p = Exercise(
    "concordance_p", reference_concordance_p, _test_concordance_p,
    "shuffling each column on its own keeps each setting's count and breaks the link "
    "between settings.",
    returns=NUMBER)  # declared: rerunning the reference would cost 4000 shuffles per call


# --- Exercise 2 (prediction, section 3): an always-aborting run's gradient against the clip -----
def clip_side(clipped, grad_norm, threshold: float) -> Finding:
    """Is the gradient norm of trapped runs' last updates "above", "below" or "around" the
    clip threshold? clipped (runs,): the fraction of those updates whose norm exceeded the
    threshold (and was clipped); grad_norm (runs,): their mean gradient norm."""
    clipped, grad_norm = np.asarray(clipped, dtype=float), np.asarray(grad_norm, dtype=float)
    if clipped.size == 0:
        return Finding(None, "no run of this dataset always aborts; look at the table below")
    # "none clipped" reads better than "at most 0 % clipped" (a reader's note)
    share = ("none of their last updates clipped" if clipped.max() == 0 else
             f"at most {100 * clipped.max():.0f} % of each run's last updates clipped")
    evidence = (f"{len(clipped)} always-abort runs: {share}, gradient norm at most "
                f"{grad_norm.max():.1e} against a threshold of {threshold:g}")
    if np.all(clipped == 0):
        return Finding("below", evidence)
    if np.all(clipped == 1):
        return Finding("above", evidence)
    return Finding("around", evidence)


def _abort_gradient_truth() -> Finding:
    from .. import data
    from ..config import TrainSettings

    runs = data.load("collapse_kappa")
    spec = runs.meta.get("spec", {})
    threshold = spec.get("base", {}).get("grad_clip", TrainSettings().grad_clip)
    aborts = runs.mode == MODES.index("always_aborts")   # over the same last updates
    return clip_side(runs.final("clipped")[aborts], runs.final("grad_norm")[aborts], threshold)


abort_gradient = Prediction(
    "abort_gradient", ("above", "below", "around"), _abort_gradient_truth,
    "look at what every trial of an always-aborting run pays, what the baseline has learned, "
    "and so what each advantage is; the next cell counts it")
