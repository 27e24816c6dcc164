"""The collection's verdict on each claim of the analysis: one source for notebook 05, the
README and (later) the prose of notebooks 01-04.

Each verdict is a short word (refuted, partly, confirmed, ...), a one-line takeaway, and the
counts it rests on, written "k of n runs (95 % interval)" with a Wilson score interval. n counts
runs; the current data sets hold 2-5 seeds per cell and the cells share their seeds (common
random numbers), so `Count.seeds` says how many independent seeds a count rests on.

`python -m pyrl_mini.verdicts` prints the markdown table the README holds;
tests/test_verdicts.py checks the README against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from . import analysis, data, softmax, stats
from .risk import kappa_transform
from .stats import wilson  # noqa: F401  (the interval of every count; tests import it here)
from .sweep import SweepData


@dataclass(frozen=True)
class Count:
    """k of n runs had a property; seeds: the distinct seeds among those runs."""

    what: str
    k: int
    n: int
    seeds: int

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    @property
    def rate(self) -> float:
        return self.k / self.n

    def __str__(self) -> str:
        lo, hi = self.interval
        return (f"{self.what}: {self.k} of {self.n} runs ({100 * lo:.0f}-{100 * hi:.0f} %; "
                f"{self.seeds} seeds)")


def count(what: str, flags, seeds) -> Count:
    flags = np.asarray(flags, dtype=bool)
    if flags.size == 0:
        raise ValueError(f"no runs for {what!r}: the data set holds none with these settings")
    return Count(what, int(flags.sum()), int(flags.size), len(set(np.asarray(seeds).tolist())))


@dataclass
class Verdict:
    number: int
    claim: str
    verdict: str          # one word or two: refuted, partly, confirmed, true (other reason)
    takeaway: str         # one line
    counts: list[Count]
    numbers: dict = field(default_factory=dict)
    notebook: str = ""

    def count(self, what: str) -> Count:
        for c in self.counts:
            if c.what == what:
                return c
        raise KeyError(f"verdict {self.number} has no count {what!r}; it has "
                       f"{[c.what for c in self.counts]}")


def _seeds(d: SweepData, rows) -> np.ndarray:
    return d.arrays["seed"][rows]


def _c(what: str, d: SweepData, rows, flags) -> Count:
    """count over d's rows; flags has one entry per run of d."""
    return count(what, np.asarray(flags)[rows], _seeds(d, rows))


def revived_fraction(d: SweepData, rows) -> float:
    """Among units dead at some recorded update, the fraction alive at a later one."""
    dead = d.arrays["unit_dead"][rows]            # (runs, points, N)
    died = dead.any(axis=1)
    first = np.where(died, dead.argmax(axis=1), dead.shape[1])
    later_alive = np.zeros_like(died)
    for t in range(dead.shape[1]):
        later_alive |= (t > first) & ~dead[:, t]
    return float(later_alive.sum() / max(died.sum(), 1))


def verdicts() -> list[Verdict]:
    """Every claim of the analysis, its verdict, its counts and numbers, read from data/."""
    grid, kl = data.load("nb00_main_grid"), data.load("nb03_kappa_lr")
    gru, simple = data.load("nb01_gru"), data.load("nb01_simple")
    wout, rd = data.load("nb02_wout_sweep"), data.load("nb03_reward_design")
    fast, capped = data.load("nb04_fixes_fast"), data.load("nb04_fixes_fast_logit_cap")
    sgd = data.load("nb01_sgd")
    out = []

    # 1. dead units (nb01_gru: every GRU run of notebook 01, Adam)
    rows = np.arange(len(gru.mode))
    fd = gru.final("dead_fraction")
    lo, hi = gru.select(kappa=-0.4), gru.select(kappa=0.4)
    sgd1 = sgd.select(lr=1.0)
    sgd_max = np.nanmax(sgd.h("dead_fraction")[sgd1], axis=1)
    out.append(Verdict(
        1, "ReLU units die and stay dead; negative kappa kills them", "partly",
        "units die (in the GRU too, under Adam) but many revive and kappa barely changes how "
        "many; under plain SGD they barely die",
        [_c("GRU runs ending with > 10 % dead units", gru, rows, fd > 0.1),
         count("SGD runs (lr 1) with > 2 % dead units at any update", sgd_max > 0.02,
               _seeds(sgd, sgd1))],
        {"GRU final dead fraction, max over the nb01_gru runs": float(np.nanmax(fd)),
         "nb01_gru runs": len(rows),
         "revived fraction of units that died (GRU)": revived_fraction(gru, rows),
         "dead(kappa -0.4) - dead(kappa +0.4)": float(np.nanmean(fd[lo]) - np.nanmean(fd[hi])),
         "max dead fraction, GRU with SGD lr 1, any run and update": float(np.max(sgd_max))},
        "01"))

    # 2. relu/tanh mismatch
    relu, tanh = simple.select(readout_rate="relu"), simple.select(readout_rate="tanh")
    crit = simple.arrays["updates_to_criterion"] >= 0
    out.append(Verdict(
        2, "The SimpleRNN relu/tanh mismatch could cause issues", "partly",
        "the readout makes little difference: the SimpleRNN learns poorly with either",
        [_c("relu readout runs reaching the criterion", simple, relu, crit),
         _c("tanh readout runs reaching the criterion", simple, tanh, crit)],
        {"final reward, relu readout": float(np.nanmean(simple.final("reward")[relu])),
         "final reward, tanh readout": float(np.nanmean(simple.final("reward")[tanh]))}, "01"))

    # 3. small W_out
    std = wout.arrays["grid/wout_std"]
    small, large = np.nonzero(std <= 0.1)[0], np.nonzero(std >= 0.5)[0]
    out.append(Verdict(
        3, "A small W_out causes the problem; larger gives stronger gradients", "refuted",
        "small W_out starts uniform and gets stuck no more often than large W_out",
        [_c("runs stuck, W_out std <= 0.1", wout, small, wout.collapsed),
         _c("runs stuck, W_out std >= 0.5", wout, large, wout.collapsed)],
        {"initial entropy, std 2 (mean)": float(np.nanmean(wout.h("entropy")[
            np.isclose(std, 2.0), 0]))}, "02"))

    # 4. sign convention (exact: no runs needed)
    f = kappa_transform(torch.tensor([1.0, -1.0]), -0.2)
    out.append(Verdict(
        4, "Risk-seeking (kappa < 0) amplifies: d' = 1.2 d for negative d", "refuted",
        "the sign is backwards: at kappa = -0.2 positive errors are x1.2, negative ones x0.8",
        [],
        {"factor on d > 0 at kappa -0.2": float(f[0]),
         "factor on d < 0 at kappa -0.2": float(-f[1])}, "00"))

    # 5. deterministic policy -> zero gradient (exact, float32)
    gaps = softmax.saturation_gaps(torch.float32)
    out.append(Verdict(
        5, "Deterministic policy: log p ~ 0 so gradient = log_prob x advantage ~ 0",
        "true, other reason",
        "the gradient onehot(a) - pi becomes tiny, not zero: it prints 0.000000 from a logit "
        "gap of ~15, and its other component only underflows to 0 at a gap of ~104",
        [],
        {"logit gap where float32 softmax = 1.0": float(gaps.softmax_one),
         "logit gap where the gradient prints 0.000000": float(gaps.norm_prints_zero),
         "logit gap where the other component is exactly 0": float(gaps.grad_other_zero)},
        "03"))

    # 6. negative kappa collapses, positive healthy: collapse_kappa, 20 independent seeds per
    # kappa at the default settings, paired across kappa (same seed, same start and trials)
    ck = data.load("collapse_kappa")
    by_kappa = {k: ck.by_seed(kappa=k) for k in (-0.4, 0.0, 0.4)}
    only_neg, only_pos, p_pair = stats.mcnemar(ck.collapsed[by_kappa[-0.4]],
                                               ck.collapsed[by_kappa[0.4]])
    out.append(Verdict(
        6, "Negative kappa collapses, positive kappa stays healthy", "not supported",
        "a quarter to a third of runs collapse at every kappa; -0.4 and +0.4 differ on "
        f"{only_neg + only_pos} of 20 paired seeds (exact McNemar p = {p_pair:.2f})",
        [_c(f"runs collapsed, kappa {k:+.1f}", ck, rows, ck.collapsed)
         for k, rows in by_kappa.items()],
        {"seeds collapsed at kappa -0.4 only": only_neg,
         "seeds collapsed at kappa +0.4 only": only_pos,
         "exact McNemar p, kappa -0.4 vs +0.4": p_pair}, "03"))

    # 7. entropy_coef 0.01
    e1 = grid.select(entropy_coef=0.01)
    fast_none = fast.select(entropy_coef=0.0, lr=0.03, kappa_schedule="constant",
                            lr_schedule="constant", wout_std=0.05, no_choice_penalty=-0.5)
    fast_e1, fast_e5 = fast.select(entropy_coef=0.01), fast.select(entropy_coef=0.05)
    cap2 = capped.select(logit_cap=2.0)
    cap2_stuck = cap2[capped.collapsed[cap2]]
    out.append(Verdict(
        7, "entropy_coef = 0.01 keeps entropy above 0.1 and is the primary fix", "refuted",
        "0.01 keeps entropy below 0.1 and runs still collapse; 0.05 had fewer collapses; "
        "entropy above 0.1 is no safeguard (logit-capped runs keep it and collapse)",
        [_c("main-grid runs at 0.01 ending with entropy > 0.1", grid, e1,
            grid.final("entropy") > 0.1),
         _c("runs collapsed at 0.01 (main grid)", grid, e1, grid.collapsed),
         _c("runs collapsed, fast-collapse setting, no fix", fast, fast_none, fast.collapsed),
         _c("runs collapsed, fast-collapse setting, 0.01", fast, fast_e1, fast.collapsed),
         _c("runs collapsed, fast-collapse setting, 0.05", fast, fast_e5, fast.collapsed),
         _c("runs collapsed, fast-collapse setting, logit cap 2", capped, cap2,
            capped.collapsed)],
        {"final entropy at 0.01, max over runs": float(np.nanmax(grid.final("entropy")[e1])),
         "final entropy of the collapsed logit-cap-2 runs, min": float(
             np.min(capped.final("entropy")[cap2_stuck])) if len(cap2_stuck) else float("nan")},
        "04"))

    # 8. clipping (nb03_kappa_lr: clipping at the default threshold)
    stuck = np.nonzero(kl.collapsed)[0]
    threshold = float(data.DATASETS["nb03_kappa_lr"].settings()[0].grad_clip)
    out.append(Verdict(
        8, "Gradient clipping does not help vanishing gradients", "confirmed",
        f"clipping never acted in the last updates of a collapsed run: their gradient norms "
        f"stay below its threshold ({threshold:g})",
        [_c("collapsed runs clipped in any of their last 50 updates", kl, stuck,
            kl.final("clipped") > 0)],
        {"clip threshold (global L2 norm)": threshold,
         "final gradient norm, collapsed runs (max)": float(np.nanmax(
             kl.final("grad_norm")[stuck]))}, "03"))

    # 9. schedules
    decay, gradual = fast.select(lr_schedule="exponential"), fast.select(kappa_schedule="gradual")
    out.append(Verdict(
        9, "A decaying learning rate or a gradual kappa schedule helps", "not supported",
        "neither schedule lowered the collapse rate in the fast-collapse setting",
        [_c("runs collapsed, no fix", fast, fast_none, fast.collapsed),
         _c("runs collapsed, decaying lr", fast, decay, fast.collapsed),
         _c("runs collapsed, gradual kappa", fast, gradual, fast.collapsed)], {}, "04"))

    # 10. absorbing states of the task's rewards
    sets = (grid, kl, rd, fast)
    modes = np.concatenate([d.mode for d in sets])
    seeds10 = np.concatenate([d.arrays["seed"] for d in sets])
    is_stuck = analysis.is_collapsed(modes)
    out.append(Verdict(
        10, "(not in the analysis) Collapse is an absorbing state of the task's rewards",
        "confirmed",
        "most stuck runs always abort: every return is -0.5, every advantage ~0, at any kappa",
        [count("stuck runs that always abort", modes[is_stuck] == analysis.MODES.index(
            "always_aborts"), seeds10[is_stuck]),
         count("stuck runs that never choose", modes[is_stuck] == analysis.MODES.index(
             "never_chooses"), seeds10[is_stuck])], {}, "03"))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def verdict_table(rows: list[Verdict]) -> str:
    """Markdown table: claim, verdict, takeaway and the counts (k of n runs, 95 % interval)."""
    lines = ["| # | claim | verdict | takeaway | counts: k of n runs (95 % interval; seeds) |",
             "| --- | --- | --- | --- | --- |"]
    for v in rows:
        counts = "; ".join(str(c) for c in v.counts) or "exact computation, no runs"
        lines.append(f"| {v.number} | {_cell(v.claim)} | {v.verdict} | {_cell(v.takeaway)} | "
                     f"{_cell(counts)} |")
    return "\n".join(lines)


def numbers_table(rows: list[Verdict]) -> str:
    """Markdown table of the further numbers each verdict quotes."""
    lines = ["| # | measured | value |", "| --- | --- | --- |"]
    for v in rows:
        for k, x in v.numbers.items():
            lines.append(f"| {v.number} | {_cell(k)} | {x:.3g} |" if isinstance(x, float)
                         else f"| {v.number} | {_cell(k)} | {x} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(verdict_table(verdicts()))
