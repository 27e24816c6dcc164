"""Small statistics for frequencies over independent seeds: "k of n (95 % interval)".

Every frequency claim in the notebooks ("7 of 20 runs ended always aborting") is a binomial
count over independent seeds. These helpers give its interval and the exact tests the
notebooks use to compare two cells: unpaired (Fisher) or paired by seed (sign test on the
discordant pairs, which is McNemar's exact test), and an exact permutation test of
seeds that share an outcome across settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from math import comb

import numpy as np


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (95 % by default).

    Unlike k/n +- z sqrt(p(1-p)/n), it stays inside [0, 1] and is not empty at k = 0 or n:
    0 of 20 gives (0, 0.16), not (0, 0).
    """
    _check_count(k, n)
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # exact at the ends (k = 0 or n), where rounding would leave 1e-17 off the bound
    return (0.0 if k == 0 else max(0.0, centre - half), 1.0 if k == n else min(1.0, centre + half))


@dataclass(frozen=True)
class Frequency:
    """k of n with its 95 % Wilson interval."""

    k: int
    n: int

    @property
    def rate(self) -> float:
        return self.k / self.n if self.n else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    def __str__(self) -> str:
        lo, hi = self.interval
        return f"{self.k} of {self.n} ({100 * lo:.0f}-{100 * hi:.0f} %)"


def frequency(flags) -> Frequency:
    """Frequency of True among boolean flags (one per independent run)."""
    flags = [bool(f) for f in flags]
    return Frequency(sum(flags), len(flags))


def fisher_one_sided(k1: int, n1: int, k2: int, n2: int) -> float:
    """P(X >= k1) for X hypergeometric: the one-sided Fisher exact test that group 1 (k1 of
    n1) has a higher rate than group 2 (k2 of n2). For independent (unpaired) groups."""
    _check_count(k1, n1)
    _check_count(k2, n2)
    total, hits = n1 + n2, k1 + k2
    denom = comb(total, n1)
    return sum(comb(hits, x) * comb(total - hits, n1 - x)
               for x in range(k1, min(hits, n1) + 1)) / denom


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test (McNemar's exact test when wins and losses are the
    discordant pairs of a paired comparison): P of a split at least this uneven under 1/2."""
    if wins < 0 or losses < 0:
        raise ValueError(f"wins={wins}, losses={losses} must be counts (>= 0).")
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def mcnemar(a, b) -> tuple[int, int, float]:
    """Paired comparison of two boolean outcomes per seed (a[i], b[i] for the same seed):
    (a only, b only, exact two-sided p). Pairs where both agree carry no information."""
    a, b = [bool(x) for x in a], [bool(x) for x in b]
    if len(a) != len(b):
        raise ValueError(f"paired outcomes need equal lengths, got {len(a)} and {len(b)}.")
    only_a = sum(x and not y for x, y in zip(a, b, strict=True))
    only_b = sum(y and not x for x, y in zip(a, b, strict=True))
    return only_a, only_b, sign_test(only_a, only_b)


def auc(positives, negatives) -> float:
    """P(score of a random positive > score of a random negative), ties counting 1/2: the
    area under the ROC curve of the score, 0.5 for no information, 1 for a perfect split.
    NaN if either group is empty."""
    p, n = np.asarray(positives, float), np.asarray(negatives, float)
    if len(p) == 0 or len(n) == 0:
        return float("nan")
    gt = (p[:, None] > n[None, :]).mean()
    eq = (p[:, None] == n[None, :]).mean()
    return float(gt + 0.5 * eq)


def concordance_p_exact(trap, at_least: int | None = None) -> float:
    """Exact permutation p-value that so many seeds share an outcome at every setting.

    trap: (seeds, settings) bool. P(at least `at_least` seeds, default the observed number,
    True in every column) when each column is an independent uniformly random permutation of
    itself (each setting keeps its count, any link between settings is broken). The rows True
    in all of the first j columns meet column j + 1's True rows in a hypergeometric number of
    rows; notebook 03's exercise estimates the same value by shuffling."""
    trap = np.asarray(trap, dtype=bool)
    if trap.ndim != 2 or trap.shape[1] < 1:
        raise ValueError(f"trap must be a (seeds, settings) table, got shape {trap.shape}.")
    n = trap.shape[0]
    counts = trap.sum(axis=0).tolist()
    dist = {counts[0]: 1.0}
    for c in counts[1:]:
        new: dict[int, float] = {}
        for s, p in dist.items():
            for x in range(max(0, c - (n - s)), min(s, c) + 1):
                new[x] = new.get(x, 0.0) + p * comb(s, x) * comb(n - s, c - x) / comb(n, c)
        dist = new
    if at_least is None:
        at_least = int(trap.all(axis=1).sum())
    return sum(p for x, p in dist.items() if x >= at_least)


def _check_count(k: int, n: int) -> None:
    if not (0 <= k <= n):
        raise ValueError(f"k={k}, n={n}: need 0 <= k <= n.")
