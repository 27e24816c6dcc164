"""The collection's verdict on each claim of the analysis: one source for notebook 05, the
README and the prose of notebooks 01-04.

Each verdict is a short word (refuted, partly, confirmed, ...), a one-line takeaway, and the
counts it rests on, written "k of n runs (95 % interval)" with a Wilson score interval. The
counts come from the 20-seed datasets (collapse_*, pyrl_mini/datasets/collapse.py): 20
independent seeds per compared cell, shared across cells on purpose so that comparisons are
paired (exact McNemar tests, whose p-values are among each verdict's numbers). `Count.seeds`
says how many independent seeds a count rests on; a count pooled over several cells has more
runs than seeds.

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
    died, came_back = analysis.revived_units(d.arrays["unit_dead"][rows])
    return float(came_back.sum() / max(died.sum(), 1))


def paired(what: str, a: SweepData, rows_a, flags_a, b: SweepData, rows_b, flags_b):
    """Exact McNemar test of flags_a[rows_a] against flags_b[rows_b] (one entry per run of a
    and b), after checking that the rows pair up seed by seed. Returns (a only, b only, p)."""
    sa, sb = a.arrays["seed"][rows_a], b.arrays["seed"][rows_b]
    if len(sa) != len(sb) or np.any(sa != sb):
        raise ValueError(f"{what}: the two groups do not hold the same seeds in the same order")
    return stats.mcnemar(np.asarray(flags_a)[rows_a], np.asarray(flags_b)[rows_b])


def verdicts() -> list[Verdict]:
    """Every claim of the analysis, its verdict, its counts and numbers, read from data/.

    Every count comes from the 20-seed datasets (collapse_*, pyrl_mini/datasets/collapse.py)
    except verdict 1's revival fraction (nb01_gru, 2 seeds: it needs per-unit flags)."""
    from .datasets import collapse as C

    ck, ce = data.load("collapse_kappa"), data.load("collapse_entropy")
    fixes, slow = data.load("collapse_fixes"), data.load("collapse_fixes_slow")
    wout, opt = data.load("collapse_wout"), data.load("collapse_optimizer")
    readout, gru = data.load("collapse_readout"), data.load("nb01_gru")
    out = []

    # 1. dead units: default Adam against Adam with eps 0.01 and plain SGD, kappa 0, paired
    adam = ck.by_seed(kappa=0.0)
    eps = C.variant_rows(opt, C.COLLAPSE_OPTIMIZER, C.OPTIMIZER_VARIANTS, "Adam eps 0.01")
    sgd = C.variant_rows(opt, C.COLLAPSE_OPTIMIZER, C.OPTIMIZER_VARIANTS, "SGD lr 1")
    dead_ck, dead_opt = ck.final("dead_fraction"), opt.final("dead_fraction")
    lo, hi = ck.by_seed(kappa=-0.4), ck.by_seed(kappa=0.4)
    diff = dead_ck[lo] - dead_ck[hi]
    _, _, p_eps = paired("verdict 1", ck, adam, dead_ck > 0.1, opt, eps, dead_opt > 0.1)
    out.append(Verdict(
        1, "ReLU units die and stay dead; negative kappa kills them", "partly",
        "units die under Adam (not under Adam with a large eps or plain SGD): Adam's "
        "per-weight normalisation kills them, not kappa; many revive",
        [_c("runs ending with > 10 % dead units, Adam (kappa 0)", ck, adam, dead_ck > 0.1),
         _c("runs ending with > 10 % dead units, Adam eps 0.01", opt, eps, dead_opt > 0.1),
         _c("runs ending with > 10 % dead units, SGD lr 1", opt, sgd, dead_opt > 0.1)],
        {"final dead fraction, Adam, mean over 20 seeds": float(np.nanmean(dead_ck[adam])),
         "final dead fraction, Adam eps 0.01, mean": float(np.nanmean(dead_opt[eps])),
         "final dead fraction, SGD lr 1, mean": float(np.nanmean(dead_opt[sgd])),
         "exact McNemar p, > 10 % dead, Adam vs Adam eps 0.01": p_eps,
         "dead(kappa -0.4) - dead(kappa +0.4), mean over 20 paired seeds": float(np.mean(diff)),
         "sign test p, dead(kappa -0.4) vs dead(kappa +0.4)": stats.sign_test(
             int((diff > 0).sum()), int((diff < 0).sum())),
         "revived fraction of units that died (nb01_gru, 2 seeds x 6 cells)": revived_fraction(
             gru, np.arange(len(gru.mode)))},
        "01"))

    # 2. relu/tanh mismatch (SimpleRNN, same seeds for both readouts: paired)
    relu, tanh = readout.by_seed(readout_rate="relu"), readout.by_seed(readout_rate="tanh")
    crit = readout.arrays["updates_to_criterion"] >= 0
    only_relu, only_tanh, p_readout = paired("verdict 2", readout, relu, crit, readout, tanh, crit)
    out.append(Verdict(
        2, "The SimpleRNN relu/tanh mismatch could cause issues", "partly",
        "the readout makes little difference: the SimpleRNN learns poorly with either",
        [_c("relu readout runs reaching the criterion", readout, relu, crit),
         _c("tanh readout runs reaching the criterion", readout, tanh, crit)],
        {"final reward, relu readout": float(np.nanmean(readout.final("reward")[relu])),
         "final reward, tanh readout": float(np.nanmean(readout.final("reward")[tanh])),
         "exact McNemar p, criterion, relu vs tanh": p_readout}, "01"))

    # 3. W_out std at kappa 0, entropy_coef 0 (std 0.05, the default, is collapse_kappa's)
    default = ck.by_seed(kappa=0.0)
    std_rows = {s: wout.by_seed(wout_std=s, entropy_coef=0.0) for s in C.WOUT_STDS}
    _, _, p_large = paired("verdict 3", ck, default, ck.trapped,
                           wout, std_rows[2.0], wout.trapped)
    out.append(Verdict(
        3, "A small W_out causes the problem; larger gives stronger gradients", "refuted",
        "the reverse: a small W_out starts uniform and gets stuck no more often than the "
        "default; a large one (std 0.5 or 2) starts near-deterministic and gets stuck far "
        "more often",
        [_c("runs stuck, W_out std 0.05 (default)", ck, default, ck.trapped)]
        + [_c(f"runs stuck, W_out std {s:g}", wout, r, wout.trapped)
           for s, r in std_rows.items()],
        {"exact McNemar p, stuck, std 0.05 vs 2.0": p_large,
         "initial entropy, std 2 (mean)": float(np.nanmean(wout.h("entropy")[std_rows[2.0], 0])),
         "initial entropy, std 0.05 (mean)": float(np.nanmean(ck.h("entropy")[default, 0]))},
        "02"))

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

    # 6. negative kappa collapses, positive healthy: 20 seeds per kappa, paired across kappa
    by_kappa = {k: ck.by_seed(kappa=k) for k in C.KAPPAS}
    only_neg, only_pos, p_pair = paired("verdict 6", ck, by_kappa[-0.4], ck.trapped,
                                        ck, by_kappa[0.4], ck.trapped)
    out.append(Verdict(
        6, "Negative kappa collapses, positive kappa stays healthy", "not supported",
        "a quarter to a third of runs collapse at every kappa; -0.4 and +0.4 differ on "
        f"{only_neg + only_pos} of 20 paired seeds (exact McNemar p = {p_pair:.2f})",
        [_c(f"runs collapsed, kappa {k:+.1f}", ck, rows, ck.trapped)
         for k, rows in by_kappa.items()],
        {"seeds collapsed at kappa -0.4 only": only_neg,
         "seeds collapsed at kappa +0.4 only": only_pos,
         "exact McNemar p, kappa -0.4 vs +0.4": p_pair}, "03"))

    # 7. entropy_coef 0.01: at the default settings (kappa -0.4, paired with the control) and
    # in the fast-collapse setting (lr 0.03; collapse_fixes)
    control = ck.by_seed(kappa=-0.4)
    bonus = {e: ce.by_seed(kappa=-0.4, entropy_coef=e) for e in C.ENTROPY_COEFS}
    at_001 = ce.select(entropy_coef=0.01)
    _, _, p_001 = paired("verdict 7", ck, control, ck.trapped, ce, bonus[0.01], ce.trapped)
    fast = {label: C.variant_rows(fixes, C.COLLAPSE_FIXES, C.FIX_VARIANTS, label)
            for label in ("none", "entropy 0.01", "entropy 0.05", "logit cap 2")}
    _, _, p_fast = paired("verdict 7", fixes, fast["none"], fixes.trapped,
                          fixes, fast["entropy 0.01"], fixes.trapped)
    cap_stuck = fast["logit cap 2"][fixes.trapped[fast["logit cap 2"]]]
    out.append(Verdict(
        7, "entropy_coef = 0.01 keeps entropy above 0.1 and is the primary fix", "partly",
        "a bonus of 0.01 already prevents most collapses, but not by keeping entropy above "
        "0.1: most runs end below it; a logit cap keeps entropy and still collapses",
        [_c("runs collapsed, kappa -0.4, no bonus", ck, control, ck.trapped),
         _c("runs collapsed, kappa -0.4, 0.01", ce, bonus[0.01], ce.trapped),
         _c("runs collapsed, kappa -0.4, 0.05", ce, bonus[0.05], ce.trapped),
         _c("runs at 0.01 ending with entropy > 0.1 (every kappa)", ce, at_001,
            ce.final("entropy") > 0.1),
         _c("runs collapsed, fast-collapse setting, no fix", fixes, fast["none"],
            fixes.trapped),
         _c("runs collapsed, fast-collapse setting, 0.01", fixes, fast["entropy 0.01"],
            fixes.trapped),
         _c("runs collapsed, fast-collapse setting, 0.05", fixes, fast["entropy 0.05"],
            fixes.trapped),
         _c("runs collapsed, fast-collapse setting, logit cap 2", fixes, fast["logit cap 2"],
            fixes.trapped)],
        {"exact McNemar p, kappa -0.4, no bonus vs 0.01": p_001,
         "exact McNemar p, fast setting, no fix vs 0.01": p_fast,
         "final entropy at 0.01, median over runs": float(np.nanmedian(
             ce.final("entropy")[at_001])),
         "final entropy of the collapsed logit-cap-2 runs, min": float(
             np.min(fixes.final("entropy")[cap_stuck])) if len(cap_stuck) else float("nan")},
        "04"))

    # 8. clipping: the runs whose gradient vanished (always abort, never choose) among every
    # GRU dataset on 20 seeds; one-sided runs still choose, and their gradients do not vanish
    sets = (ck, ce, fixes, slow, wout)
    silent = [np.isin(d.mode, [analysis.MODES.index(m)
                               for m in ("always_aborts", "never_chooses")]) for d in sets]
    pairs = list(zip(sets, silent, strict=True))
    silent_clipped = np.concatenate([d.final("clipped")[m] > 0 for d, m in pairs])
    silent_seeds = np.concatenate([d.arrays["seed"][m] for d, m in pairs])
    silent_norm = np.concatenate([d.final("grad_norm")[m] for d, m in pairs])
    threshold = float(data.DATASETS["collapse_kappa"].settings()[0].grad_clip)
    out.append(Verdict(
        8, "Gradient clipping does not help vanishing gradients", "confirmed",
        f"clipping never acted in the last updates of a run that always aborts or never "
        f"chooses: their gradient norms stay far below its threshold ({threshold:g})",
        [count("always-aborting or never-choosing runs clipped in any of their last 50 "
               "updates", silent_clipped, silent_seeds)],
        {"clip threshold (global L2 norm)": threshold,
         "final gradient norm, always-aborting or never-choosing runs (max)": float(
             np.nanmax(silent_norm))}, "03"))

    # 9. schedules, in both settings, each paired with its control
    fast_sched = {label: C.variant_rows(fixes, C.COLLAPSE_FIXES, C.FIX_VARIANTS, label)
                  for label in ("decaying lr", "gradual kappa")}
    slow_sched = {label: C.variant_rows(slow, C.COLLAPSE_FIXES_SLOW, C.SLOW_VARIANTS, label)
                  for label in ("decaying lr", "gradual kappa")}
    lower = C.variant_rows(slow, C.COLLAPSE_FIXES_SLOW, C.SLOW_VARIANTS, "lower lr")
    p9 = {"exact McNemar p, default settings, lr 0.01 vs 0.003": paired(
        "verdict 9", ck, control, ck.trapped, slow, lower, slow.trapped)[2]}
    for label in fast_sched:
        p9[f"exact McNemar p, fast setting, no fix vs {label}"] = paired(
            "verdict 9", fixes, fast["none"], fixes.trapped, fixes, fast_sched[label],
            fixes.trapped)[2]
        p9[f"exact McNemar p, default lr, no fix vs {label}"] = paired(
            "verdict 9", ck, control, ck.trapped, slow, slow_sched[label], slow.trapped)[2]
    out.append(Verdict(
        9, "A decaying learning rate or a gradual kappa schedule helps", "not supported",
        "neither schedule lowered the collapse rate measurably, in either setting; a lower "
        "constant learning rate did at the default settings",
        [_c("runs collapsed, fast setting, no fix", fixes, fast["none"], fixes.trapped),
         _c("runs collapsed, fast setting, decaying lr", fixes, fast_sched["decaying lr"],
            fixes.trapped),
         _c("runs collapsed, fast setting, gradual kappa", fixes, fast_sched["gradual kappa"],
            fixes.trapped),
         _c("runs collapsed, default lr, no fix", ck, control, ck.trapped),
         _c("runs collapsed, default lr, decaying lr", slow, slow_sched["decaying lr"],
            slow.trapped),
         _c("runs collapsed, default lr, gradual kappa", slow, slow_sched["gradual kappa"],
            slow.trapped),
         _c("runs collapsed, default settings but lr 0.003", slow, lower, slow.trapped)],
        p9, "04"))

    # 10. absorbing states of the task's rewards: the modes of every stuck run on 20 seeds
    modes = np.concatenate([d.mode for d in sets])
    seeds10 = np.concatenate([d.arrays["seed"] for d in sets])
    is_stuck = analysis.is_trapped(modes)
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
