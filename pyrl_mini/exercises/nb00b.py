"""Notebook 00b (how a run ends, and how we count): its exercises, each a reference solution
and a checker (see core.Exercise), and its prediction (core.Prediction)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..analysis import risk_preference
from ..stats import sign_test as _library_sign_test
from .core import NUMBER, Exercise, Finding, Prediction, call


# --- Exercise 1 (prediction): does a larger entropy_coef remove the kappa effect? ---------------
def kappa_slope(grid, entropy_coef: float) -> tuple[float, float]:
    """(slope, its standard error) of the least-squares line through (kappa, lower-p share on
    equal-EV pairs) of every run of `grid` at this entropy_coef that still chooses: the change
    in the lower-p share per unit of kappa."""
    kappas, rates = risk_preference(grid, entropy_coef)  # (kappa,), (kappa, seed)
    x, y = np.repeat(kappas, rates.shape[1]), rates.ravel()
    ok = np.isfinite(y)  # NaN: a run that stopped choosing
    (slope, _), cov = np.polyfit(x[ok], y[ok], 1, cov=True)
    return float(slope), float(np.sqrt(cov[0, 0]))  # the slope's variance: cov[0, 0]


def _removes_truth(grid) -> Finding:
    slopes = {float(c): kappa_slope(grid, c) for c in grid.values("entropy_coef")}
    said = ", ".join(f"{s:+.2f} +- {se:.2f} at entropy_coef {c:g}"
                     for c, (s, se) in slopes.items())
    evidence = f"the lower-p share per unit of kappa: {said}"
    s, se = slopes[max(slopes)]
    if all(s_ < 0 and abs(s_) > 3 * se_ for s_, se_ in slopes.values()):
        return Finding("no", evidence + "; it falls, many standard errors from zero, at each")
    if abs(s) < 2 * se:
        return Finding("yes", evidence + "; flat at the largest entropy_coef")
    return Finding(None, evidence + "; too close to tell on these seeds")


removes = Prediction(
    "removes", ("yes", "no"), _removes_truth,
    "switch entropy_coef between 0 and 0.05 and compare the left panel's line")


# --- Exercise 2: the exact sign test ---------------------------------------------------------
def reference_sign_test(only_a: int, only_b: int) -> float:
    """Exact two-sided p of a split only_a to only_b, each discordant seed a fair coin."""
    n, k = only_a + only_b, min(only_a, only_b)
    one_side = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * one_side)


SPLITS = ((5, 2), (2, 5), (7, 0), (0, 7), (6, 1), (10, 4), (3, 3), (4, 5), (0, 0))


def _one_side(x: int, y: int, upto: int) -> float:
    n = x + y
    return sum(math.comb(n, i) for i in range(upto)) / 2 ** n


def _test_sign_test(fn: Callable) -> str | None:
    for x, y in SPLITS:
        got = float(call(fn, x, y))
        want = _library_sign_test(x, y)
        if math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
            continue
        k = min(x, y)
        if not math.isfinite(got) or got < 0:
            return (f"sign_test({x}, {y}) = {got:.3g} is no probability: a chance is a number "
                    "from zero to one")
        if got > 1:
            return (f"sign_test({x}, {y}) = {got:.3g} is no probability: near an even split "
                    "the two sides overlap, and a chance is never above one")
        if x + y and math.isclose(got, _one_side(x, y, k + 1), rel_tol=1e-9):
            return (f"sign_test({x}, {y}) counts one side only: 'at least as uneven' holds for "
                    "splits toward either side")
        if x + y and math.isclose(got, min(1.0, 2 * _one_side(x, y, k)), rel_tol=1e-9):
            return (f"sign_test({x}, {y}) leaves out the split that was seen: 'at least as "
                    "uneven' includes it")
        if x == y == 0:
            return ("sign_test(0, 0): no discordant seed tells nothing, so no split is "
                    "uneven; the chance of 'at least as uneven' is then certain")
        return (f"sign_test({x}, {y}) = {got:.3g} is not right: count the splits with the "
                "smaller side's count or fewer on one side, over all 2^n equally likely")
    return None


sign_test = Exercise(
    "sign_test", reference_sign_test, _test_sign_test,
    "p is the chance of a split at least this uneven, to either side, when each seed is a "
    "fair coin.", returns=NUMBER)
