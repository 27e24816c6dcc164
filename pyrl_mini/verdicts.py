"""The collection's verdict on each claim of the analysis: one source for notebook 05, the
README and the prose of notebooks 00-04.

Each verdict is a short word (refuted, partly, confirmed, not supported, true (other reason)), a
one-line takeaway, and the counts it rests on, written "k of n runs (95 % interval)" with a
Wilson score interval. The counts come from the frequency datasets (collapse_*,
nb02_readout_bias; pyrl_mini/datasets/): each compared cell holds independent seeds in blocks of
20 (two blocks; the readout bias three; the rescue's FIXATE-bias runs two of 50), shared across
cells on purpose so that comparisons are paired (exact McNemar tests). Each frequency is also
stated per block. A verdict is replicated when every count's blocks agree within their 95 %
Wilson intervals, and every paired test tells the same story in each block as on the pooled
seeds: where the pooled seeds show a difference (p < 0.05), each block points the same way;
where they show none, no block shows one. Otherwise the table says "not replicated" and names
what did not.

`python -m pyrl_mini.verdicts` prints the markdown table the README holds;
tests/test_verdicts.py checks the README against it, and checks each verdict's word against
the data it rests on.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import torch

from . import analysis, data, softmax, stats
from .risk import kappa_transform
from .stats import wilson  # noqa: F401  (the interval of every count; tests import it here)
from .sweep import SweepData


@dataclass(frozen=True)
class Count:
    """k of n runs had a property; seeds: the distinct seeds among those runs; blocks: (k, n)
    in each independent block of seeds (the replication), in block order."""

    what: str
    k: int
    n: int
    seeds: int
    blocks: tuple = ()

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    @property
    def rate(self) -> float:
        return self.k / self.n

    @property
    def replicated(self) -> bool | None:
        """None with one block; else whether every two blocks' 95 % intervals overlap (two
        blocks that disagree beyond their intervals do not replicate each other)."""
        if len(self.blocks) < 2:
            return None
        spans = [wilson(k, n) for k, n in self.blocks]
        return all(a[0] <= b[1] and b[0] <= a[1] for a in spans for b in spans)

    def __str__(self) -> str:
        lo, hi = self.interval
        per_block = ""
        if len(self.blocks) > 1:
            per_block = "; blocks " + ", ".join(f"{k}/{n}" for k, n in self.blocks)
        return (f"{self.what}: {self.k} of {self.n} runs ({100 * lo:.0f}-{100 * hi:.0f} %; "
                f"{self.seeds} seeds{per_block})")


def count(what: str, flags, seeds, blocks=None) -> Count:
    """Count the True flags, one per run; blocks (one per run, optional): each run's seed
    block, for the per-block counts."""
    flags = np.asarray(flags, dtype=bool)
    if flags.size == 0:
        raise ValueError(f"no runs for {what!r}: the data set holds none with these settings")
    per_block = ()
    if blocks is not None:
        blocks = np.asarray(blocks)
        per_block = tuple((int(flags[blocks == b].sum()), int((blocks == b).sum()))
                          for b in sorted(set(blocks.tolist())))
    return Count(what, int(flags.sum()), int(flags.size), len(set(np.asarray(seeds).tolist())),
                 per_block)


@dataclass(frozen=True)
class Paired:
    """An exact McNemar test of two settings on the same seeds: (a only, b only, p) pooled over
    every block and in each block."""

    what: str
    pooled: tuple
    blocks: tuple = ()

    @property
    def p(self) -> float:
        return self.pooled[2]

    @staticmethod
    def conclusion(a_only: int, b_only: int, p: float) -> str:
        return "no difference" if p >= 0.05 else ("a more" if a_only > b_only else "b more")

    @property
    def replicated(self) -> bool | None:
        """None with one block. Else, where the pooled test finds a difference, whether every
        block points the same way (more discordant seeds on the same side; a block of 20 need
        not reach p < 0.05 alone); where it finds none, whether no block finds one."""
        if len(self.blocks) < 2:
            return None
        a, b, p = self.pooled
        if p >= 0.05:
            return all(q >= 0.05 for _, _, q in self.blocks)
        return all((x > y) == (a > b) and x != y for x, y, _ in self.blocks)


@dataclass
class Verdict:
    number: int
    claim: str
    verdict: str          # one word or two: refuted, partly, confirmed, true (other reason)
    takeaway: str         # one line
    counts: list[Count]
    numbers: dict = field(default_factory=dict)
    notebook: str = ""
    tests: list[Paired] = field(default_factory=list)

    def count(self, what: str) -> Count:
        for c in self.counts:
            if c.what == what:
                return c
        raise KeyError(f"verdict {self.number} has no count {what!r}; it has "
                       f"{[c.what for c in self.counts]}")

    @property
    def replication(self) -> str:
        """"exact" (no runs), "yes" (every count's blocks agree within their intervals and
        every paired test leans the same way in each block as pooled: Paired.replicated), or
        "not replicated" with what did not."""
        if not self.counts:
            return "exact"
        failed = [c.what for c in self.counts if c.replicated is False]
        failed += [t.what for t in self.tests if t.replicated is False]
        if failed:
            return "not replicated: " + "; ".join(failed)
        if all(c.replicated is None for c in self.counts):
            return "one block"
        return "yes"


def _seeds(d: SweepData, rows) -> np.ndarray:
    return d.arrays["seed"][rows]


def _c(what: str, d: SweepData, rows, flags) -> Count:
    """count over d's rows, per seed block too; flags has one entry per run of d."""
    return count(what, np.asarray(flags)[rows], _seeds(d, rows), d.block[rows])


def revived_fraction(d: SweepData, rows) -> float:
    """Among units dead at some recorded update, the fraction alive at a later one."""
    died, came_back = analysis.revived_units(d.arrays["unit_dead"][rows])
    return float(came_back.sum() / max(died.sum(), 1))


def paired(what: str, a: SweepData, rows_a, flags_a, b: SweepData, rows_b, flags_b) -> Paired:
    """Exact McNemar test of flags_a[rows_a] against flags_b[rows_b] (one entry per run of a
    and b), pooled and in each seed block, after checking that the rows pair up seed by
    seed."""
    sa, sb = a.arrays["seed"][rows_a], b.arrays["seed"][rows_b]
    if len(sa) != len(sb) or np.any(sa != sb):
        raise ValueError(f"{what}: the two groups do not hold the same seeds in the same order")
    fa, fb = np.asarray(flags_a)[rows_a], np.asarray(flags_b)[rows_b]
    block = a.block[rows_a]
    per_block = tuple(stats.mcnemar(fa[block == k], fb[block == k])
                      for k in sorted(set(block.tolist()))) if len(set(block.tolist())) > 1 \
        else ()
    return Paired(what, stats.mcnemar(fa, fb), per_block)


# The verdicts in order; each takes `load` (data.load, cached for one verdicts() call).
VERDICTS: list = []

# The GRU frequency datasets whose runs verdicts 8 and 10 pool (every GRU run of the
# default task that the collection trains for its frequencies).
GRU_FREQUENCY_SETS = ("collapse_kappa", "collapse_entropy", "collapse_fixes",
                      "collapse_fixes_slow", "collapse_wout", "collapse_lr")


def _verdict(fn):
    VERDICTS.append(fn)
    return fn


def verdicts(numbers=None) -> list[Verdict]:
    """Every claim of the analysis (and three the collection adds), its verdict, its counts
    and numbers, read from data/; `numbers` (e.g. [6, 7]) computes only those. Verdict 1's
    revival fraction rests on nb01_gru (2 seeds: it needs per-unit flags); every count on the
    frequency datasets."""
    load = functools.cache(data.load)
    wanted = range(1, len(VERDICTS) + 1) if numbers is None else numbers
    for n in wanted:
        if not 1 <= n <= len(VERDICTS):
            raise ValueError(f"there is no verdict {n}: they are numbered 1-{len(VERDICTS)}")
    return [VERDICTS[n - 1](load) for n in wanted]


def _fixes_rows(fixes: SweepData) -> dict:
    """collapse_fixes' rows (by seed) of its control and the fixes verdicts 7 and 9 compare."""
    from .datasets import collapse as C

    return {label: C.variant_rows(fixes, C.COLLAPSE_FIXES, C.FIX_VARIANTS, label)
            for label in ("none", "entropy 0.01", "entropy 0.05", "logit cap 2")}


@_verdict
def dead_units(load) -> Verdict:
    # dead units: default Adam against Adam with eps 0.01 and plain SGD, kappa 0, paired
    from .datasets import collapse as C

    ck = load("collapse_kappa")
    opt = load("collapse_optimizer")
    gru = load("nb01_gru")
    adam = ck.by_seed(kappa=0.0)
    eps = C.variant_rows(opt, C.COLLAPSE_OPTIMIZER, C.OPTIMIZER_VARIANTS, "Adam eps 0.01")
    sgd = C.variant_rows(opt, C.COLLAPSE_OPTIMIZER, C.OPTIMIZER_VARIANTS, "SGD lr 1")
    dead_ck, dead_opt = ck.final("dead_fraction"), opt.final("dead_fraction")
    lo, hi = ck.by_seed(kappa=-0.4), ck.by_seed(kappa=0.4)
    diff = dead_ck[lo] - dead_ck[hi]
    return Verdict(
        1, "ReLU units die and stay dead; negative kappa kills them", "partly",
        "units die under Adam (not under Adam with a large eps or plain SGD): Adam's "
        "per-weight normalisation kills them, not kappa; many revive",
        [_c("runs ending with > 10 % dead units, Adam (kappa 0)", ck, adam, dead_ck > 0.1),
         _c("runs ending with > 10 % dead units, Adam eps 0.01", opt, eps, dead_opt > 0.1),
         _c("runs ending with > 10 % dead units, SGD lr 1", opt, sgd, dead_opt > 0.1)],
        {"final dead fraction, Adam, mean": float(np.nanmean(dead_ck[adam])),
         "final dead fraction, Adam eps 0.01, mean": float(np.nanmean(dead_opt[eps])),
         "final dead fraction, SGD lr 1, mean": float(np.nanmean(dead_opt[sgd])),
         "dead(kappa -0.4) - dead(kappa +0.4), mean over paired seeds": float(np.mean(diff)),
         "sign test p, dead(kappa -0.4) vs dead(kappa +0.4)": stats.sign_test(
             int((diff > 0).sum()), int((diff < 0).sum())),
         "revived fraction of units that died (nb01_gru, 2 seeds x 6 cells)": revived_fraction(
             gru, np.arange(len(gru.mode)))},
        "01",
        [paired("> 10 % dead, Adam vs Adam eps 0.01", ck, adam, dead_ck > 0.1,
                opt, eps, dead_opt > 0.1),
         paired("> 10 % dead, Adam vs SGD lr 1", ck, adam, dead_ck > 0.1,
                opt, sgd, dead_opt > 0.1)])


@_verdict
def readout_mismatch(load) -> Verdict:
    # relu/tanh mismatch (SimpleRNN, same seeds for both readouts: paired)
    readout = load("collapse_readout")
    relu, tanh = readout.by_seed(readout_rate="relu"), readout.by_seed(readout_rate="tanh")
    crit = readout.arrays["updates_to_criterion"] >= 0
    counts = [_c("relu readout runs reaching the criterion", readout, relu, crit),
              _c("tanh readout runs reaching the criterion", readout, tanh, crit),
              _c("relu readout runs trapped", readout, relu, readout.trapped),
              _c("tanh readout runs trapped", readout, tanh, readout.trapped)]
    return Verdict(
        2, "The SimpleRNN relu/tanh mismatch could cause issues", "partly",
        f"the relu readout does worse ({counts[0].k} against {counts[1].k} of {counts[0].n} "
        f"reach the criterion, {counts[2].k} against {counts[3].k} trapped), but the SimpleRNN "
        f"learns poorly with either",
        counts,
        {"final reward, relu readout": float(np.nanmean(readout.final("reward")[relu])),
         "final reward, tanh readout": float(np.nanmean(readout.final("reward")[tanh]))},
        "01",
        [paired("criterion, relu vs tanh readout", readout, relu, crit, readout, tanh, crit),
         paired("trapped, relu vs tanh readout", readout, relu, readout.trapped, readout, tanh,
                readout.trapped)])


@_verdict
def wout_size(load) -> Verdict:
    # W_out std at kappa 0, entropy_coef 0 (std 0.05, the default, is collapse_kappa's)
    from .datasets import collapse as C

    ck = load("collapse_kappa")
    wout = load("collapse_wout")
    default = ck.by_seed(kappa=0.0)
    std_rows = {s: wout.by_seed(wout_std=s, entropy_coef=0.0) for s in C.WOUT_STDS}
    counts = ([_c("runs trapped, W_out std 0.05 (default)", ck, default, ck.trapped)]
              + [_c(f"runs trapped, W_out std {s:g}", wout, r, wout.trapped)
                 for s, r in std_rows.items()])
    return Verdict(
        3, "A small W_out causes the problem; larger gives stronger gradients", "refuted",
        f"the reverse: a small W_out (std 0.01) starts uniform and is trapped about as often as "
        f"the default ({counts[1].k} and {counts[0].k} of {counts[0].n}); a large one (std 0.5 "
        f"or 2) starts near-deterministic and is trapped more often ({counts[2].k} and "
        f"{counts[3].k} of {counts[0].n}); a larger W_out does give larger first gradients, "
        f"but Adam's step does not follow their size",
        counts,
        {"mean entropy over updates 0-9, W_out std 2": float(np.nanmean(
            wout.h("entropy")[std_rows[2.0], 0])),
         "mean entropy over updates 0-9, W_out std 0.05": float(np.nanmean(
             ck.h("entropy")[default, 0]))},
        "02",
        [paired("trapped, std 0.05 vs 2", ck, default, ck.trapped, wout, std_rows[2.0],
                wout.trapped),
         paired("trapped, std 0.05 vs 0.5", ck, default, ck.trapped, wout, std_rows[0.5],
                wout.trapped),
         paired("trapped, std 0.05 vs 0.01", ck, default, ck.trapped, wout, std_rows[0.01],
                wout.trapped)])


@_verdict
def sign_convention(load) -> Verdict:
    # sign convention (exact: no runs needed)
    f = kappa_transform(torch.tensor([1.0, -1.0]), -0.2)
    return Verdict(
        4, "Risk-seeking (kappa < 0) amplifies: d' = 1.2 d for negative d", "refuted",
        "the sign is backwards: at kappa = -0.2 positive errors are x1.2, negative ones x0.8",
        [],
        {"factor on d > 0 at kappa -0.2": float(f[0]),
         "factor on d < 0 at kappa -0.2": float(-f[1])}, "00")


@_verdict
def deterministic_gradient(load) -> Verdict:
    # deterministic policy -> zero gradient (exact, float32)
    gaps = softmax.saturation_gaps(torch.float32)
    return Verdict(
        5, "Deterministic policy: log p ~ 0 so gradient = log_prob x advantage ~ 0",
        "true, other reason",
        "the gradient onehot(a) - pi becomes tiny, not zero: it prints 0.000000 from a logit "
        f"gap of ~{gaps.norm_prints_zero:.0f}, and its other component only underflows to 0 at "
        f"a gap of ~{gaps.grad_other_zero:.0f}",
        [],
        {"logit gap where float32 softmax = 1.0": float(gaps.softmax_one),
         "logit gap where the gradient prints 0.000000": float(gaps.norm_prints_zero),
         "logit gap where the other component is exactly 0": float(gaps.grad_other_zero)},
        "03")


@_verdict
def kappa_traps(load) -> Verdict:
    # negative kappa traps, positive kappa stays healthy: paired across kappa
    from .datasets import collapse as C

    ck = load("collapse_kappa")
    by_kappa = {k: ck.by_seed(kappa=k) for k in C.KAPPAS}
    six = paired("trapped, kappa -0.4 vs +0.4", ck, by_kappa[-0.4], ck.trapped, ck,
                 by_kappa[0.4], ck.trapped)
    rates = [ck.trapped[r].mean() for r in by_kappa.values()]
    return Verdict(
        6, "Negative kappa collapses, positive kappa stays healthy", "not supported",
        f"{100 * min(rates):.0f}-{100 * max(rates):.0f} % of runs end trapped at every kappa; "
        f"-0.4 and +0.4 differ on {six.pooled[0] + six.pooled[1]} of {len(by_kappa[-0.4])} "
        f"paired seeds (exact McNemar p = {six.p:.2f})",
        [_c(f"runs trapped, kappa {k:+.1f}", ck, rows, ck.trapped)
         for k, rows in by_kappa.items()],
        {"seeds trapped at kappa -0.4 only": six.pooled[0],
         "seeds trapped at kappa +0.4 only": six.pooled[1]}, "03", [six])


@_verdict
def entropy_bonus(load) -> Verdict:
    # entropy_coef 0.01: at the default settings (kappa -0.4, paired with the control) and
    # in the fast-trapping setting (lr 0.03; collapse_fixes)
    from .datasets import collapse as C

    ck = load("collapse_kappa")
    ce = load("collapse_entropy")
    fixes = load("collapse_fixes")
    control = ck.by_seed(kappa=-0.4)  # the default settings at kappa -0.4
    fast = _fixes_rows(fixes)
    bonus = {e: ce.by_seed(kappa=-0.4, entropy_coef=e) for e in C.ENTROPY_COEFS}
    at_001 = ce.select(entropy_coef=0.01)
    cap_trapped = fast["logit cap 2"][fixes.trapped[fast["logit cap 2"]]]
    trapped = {e: ce.trapped[r].sum() for e, r in bonus.items()}
    fast_trapped = {k: fixes.trapped[r].sum() for k, r in fast.items()}
    return Verdict(
        7, "entropy_coef = 0.01 keeps entropy above 0.1 and is the primary fix", "partly",
        f"a bonus of 0.01 prevents most traps at the default settings ({ck.trapped[control].sum()}"
        f" -> {trapped[0.01]} of {len(control)}), but not by keeping entropy above 0.1: most "
        f"runs end below it; where runs fall fast (lr 0.03) 0.01 leaves "
        f"{fast_trapped['entropy 0.01']} of {len(fast['none'])} trapped and 0.05 "
        f"{fast_trapped['entropy 0.05']}; a logit cap keeps entropy and still traps runs",
        [_c("runs trapped, kappa -0.4, no bonus", ck, control, ck.trapped),
         _c("runs trapped, kappa -0.4, 0.01", ce, bonus[0.01], ce.trapped),
         _c("runs trapped, kappa -0.4, 0.05", ce, bonus[0.05], ce.trapped),
         _c("runs at 0.01 ending with entropy > 0.1 (every kappa)", ce, at_001,
            ce.final("entropy") > 0.1),
         _c("runs trapped, lr 0.03, no fix", fixes, fast["none"], fixes.trapped),
         _c("runs trapped, lr 0.03, 0.01", fixes, fast["entropy 0.01"], fixes.trapped),
         _c("runs trapped, lr 0.03, 0.05", fixes, fast["entropy 0.05"], fixes.trapped),
         _c("runs trapped, lr 0.03, logit cap 2", fixes, fast["logit cap 2"], fixes.trapped)],
        {"final entropy at 0.01, median over runs": float(np.nanmedian(
            ce.final("entropy")[at_001])),
         "final entropy of the trapped logit-cap-2 runs, min": float(
             np.min(fixes.final("entropy")[cap_trapped])) if len(cap_trapped) else float("nan")},
        "04",
        [paired("trapped, kappa -0.4, no bonus vs 0.01", ck, control, ck.trapped, ce,
                bonus[0.01], ce.trapped),
         paired("trapped, lr 0.03, no fix vs 0.01", fixes, fast["none"], fixes.trapped,
                fixes, fast["entropy 0.01"], fixes.trapped),
         paired("trapped, lr 0.03, no fix vs 0.05", fixes, fast["none"], fixes.trapped,
                fixes, fast["entropy 0.05"], fixes.trapped)])


@_verdict
def clipping(load) -> Verdict:
    # clipping: the stuck runs (their gradient vanished) of every GRU frequency dataset
    sets = [load(name) for name in GRU_FREQUENCY_SETS]
    stuck = [analysis.is_stuck(d.mode) for d in sets]
    stuck_clipped = np.concatenate([d.final("clipped")[m] > 0 for d, m in zip(sets, stuck,
                                                                              strict=True)])
    stuck_seeds = np.concatenate([d.arrays["seed"][m] for d, m in zip(sets, stuck,
                                                                      strict=True)])
    stuck_norm = np.concatenate([d.final("grad_norm")[m] for d, m in zip(sets, stuck,
                                                                         strict=True)])
    threshold = float(data.DATASETS["collapse_kappa"].settings()[0].grad_clip)
    return Verdict(
        8, "Gradient clipping does not help vanishing gradients", "confirmed",
        f"clipping never acted in the last updates of a stuck run (always aborts or never "
        f"chooses): their gradient norms stay far below its threshold ({threshold:g})",
        [count("stuck runs clipped in any of their last 50 updates", stuck_clipped,
               stuck_seeds, np.concatenate([d.block[m] for d, m in zip(sets, stuck,
                                                                       strict=True)]))],
        {"clip threshold (global L2 norm)": threshold,
         "final gradient norm of a stuck run, max": float(np.nanmax(stuck_norm))}, "03")


@_verdict
def schedules(load) -> Verdict:
    # schedules, in both settings, each paired with its control
    from .datasets import collapse as C

    ck = load("collapse_kappa")
    fixes = load("collapse_fixes")
    slow = load("collapse_fixes_slow")
    control = ck.by_seed(kappa=-0.4)  # the default settings at kappa -0.4
    fast = _fixes_rows(fixes)
    fast_sched = {label: C.variant_rows(fixes, C.COLLAPSE_FIXES, C.FIX_VARIANTS, label)
                  for label in ("decaying lr", "gradual kappa")}
    slow_sched = {label: C.variant_rows(slow, C.COLLAPSE_FIXES_SLOW, C.SLOW_VARIANTS, label)
                  for label in ("decaying lr", "gradual kappa")}
    lower = C.variant_rows(slow, C.COLLAPSE_FIXES_SLOW, C.SLOW_VARIANTS, "lower lr")
    tests9 = [paired("trapped, default settings, lr 0.01 vs 0.003", ck, control, ck.trapped,
                     slow, lower, slow.trapped)]
    for label in fast_sched:
        tests9.append(paired(f"trapped, lr 0.03, no fix vs {label}", fixes, fast["none"],
                             fixes.trapped, fixes, fast_sched[label], fixes.trapped))
        tests9.append(paired(f"trapped, default lr, no fix vs {label}", ck, control,
                             ck.trapped, slow, slow_sched[label], slow.trapped))
    return Verdict(
        9, "A decaying learning rate or a gradual kappa schedule helps", "not supported",
        "neither schedule lowered the trapped fraction measurably, in either setting; a lower "
        "constant learning rate (0.003) did at the default settings",
        [_c("runs trapped, lr 0.03, no fix", fixes, fast["none"], fixes.trapped),
         _c("runs trapped, lr 0.03, decaying lr", fixes, fast_sched["decaying lr"],
            fixes.trapped),
         _c("runs trapped, lr 0.03, gradual kappa", fixes, fast_sched["gradual kappa"],
            fixes.trapped),
         _c("runs trapped, default lr, no fix", ck, control, ck.trapped),
         _c("runs trapped, default lr, decaying lr", slow, slow_sched["decaying lr"],
            slow.trapped),
         _c("runs trapped, default lr, gradual kappa", slow, slow_sched["gradual kappa"],
            slow.trapped),
         _c("runs trapped, default settings but lr 0.003", slow, lower, slow.trapped)],
        {}, "04", tests9)


@_verdict
def absorbing_trap(load) -> Verdict:
    # absorbing states of the task's rewards: the modes of every trapped GRU run
    sets = [load(name) for name in GRU_FREQUENCY_SETS]
    modes = np.concatenate([d.mode for d in sets])
    seeds10 = np.concatenate([d.arrays["seed"] for d in sets])
    blocks10 = np.concatenate([d.block for d in sets])
    trapped = analysis.is_trapped(modes)
    return Verdict(
        10, "(not in the analysis) The trap is an absorbing state of the task's rewards",
        "confirmed",
        "most trapped runs always abort: every return is -0.5, every advantage ~0, at any "
        "kappa",
        [count("trapped runs that always abort", modes[trapped] == analysis.MODES.index(
            "always_aborts"), seeds10[trapped], blocks10[trapped]),
         count("trapped runs that never choose", modes[trapped] == analysis.MODES.index(
             "never_chooses"), seeds10[trapped], blocks10[trapped])], {}, "03")


@_verdict
def readout_bias(load) -> Verdict:
    # the readout's initial bias toward FIXATE (upstream's config: b_out = [3, 0, 0])
    bias = load("nb02_readout_bias")
    no_bias, full = bias.by_seed(fixate_bias=0.0, entropy_coef=0.0), bias.by_seed(
        fixate_bias=3.0, entropy_coef=0.0)
    full_bonus = bias.by_seed(fixate_bias=3.0, entropy_coef=0.05)
    never = bias.mode == analysis.MODES.index("never_chooses")
    counts = [_c("runs trapped, no bias", bias, no_bias, bias.trapped),
              _c("runs trapped, FIXATE bias 3", bias, full, bias.trapped),
              _c("runs trapped, FIXATE bias 3, entropy_coef 0.05", bias, full_bonus,
                 bias.trapped),
              _c("runs that never choose, FIXATE bias 3", bias, full, never)]
    bonus = paired("trapped, bias 3: no bonus vs 0.05", bias, full, bias.trapped, bias,
                   full_bonus, bias.trapped)
    return Verdict(
        11, "(not in the analysis) Upstream's readout bias toward FIXATE decides the trap",
        "confirmed",
        f"a FIXATE bias of 3 (upstream's b_out = [3, 0, 0]) traps far more runs than no bias "
        f"({counts[1].k} against {counts[0].k} of {counts[0].n}), never choosing or on one side; "
        f"an entropy bonus of 0.05 from the start does not measurably free them "
        f"({counts[2].k} of {counts[2].n} trapped, p = {bonus.p:.2f})",
        counts,
        {}, "02",
        [paired("trapped, no bias vs bias 3", bias, no_bias, bias.trapped, bias, full,
                bias.trapped),
         bonus])


@_verdict
def rescue(load) -> Verdict:
    # the rescue: an entropy bonus switched on at update 400 (entropy_start) in runs trapped
    # by then, against the same runs continued without it (the three cells of a seed are one
    # run up to update 400, to the float rounding of their ensembles: their modes at 400
    # agree), in two settings that trap most runs early, each in its own modes
    from .datasets.collapse import RESCUE_COEFS, RESCUE_START

    sources = {"W_out std 2": load("collapse_rescue_wout"),
               "FIXATE bias 3": load("collapse_rescue_bias")}
    counts, tests, left, seeds, blocks, stuck = [], [], {}, {}, {}, {}
    for source, d in sources.items():
        rows = {e: d.by_seed(entropy_coef=e) for e in RESCUE_COEFS}
        before = d.modes_at(RESCUE_START)[rows[0.0]]
        was = analysis.is_trapped(before)
        for e, r in rows.items():
            left[source, e] = ~d.trapped[r][was]
        seeds[source], blocks[source] = d.arrays["seed"][rows[0.0]][was], d.block[rows[0.0]][was]
        stuck[source] = analysis.is_stuck(before[was])
    for which, keep in (("trapped", lambda s: np.ones_like(stuck[s])),
                        ("stuck (always aborting or never choosing)", lambda s: stuck[s])):
        for e in RESCUE_COEFS:   # both settings pooled: trapped at 400, freed by the end or not
            counts.append(count(_rescue_said(which, e),
                                np.concatenate([left[s, e][keep(s)] for s in sources]),
                                np.concatenate([seeds[s][keep(s)] for s in sources]),
                                np.concatenate([blocks[s][keep(s)] for s in sources])))
    pooled = {e: np.concatenate([left[s, e] for s in sources]) for e in RESCUE_COEFS}
    pooled_block = np.concatenate([blocks[s] for s in sources])
    for source in (*sources, "both settings"):
        for e in RESCUE_COEFS[1:]:
            a, b, block = ((pooled[0.0], pooled[e], pooled_block) if source == "both settings"
                           else (left[source, 0.0], left[source, e], blocks[source]))
            tests.append(Paired(f"{source}: left the trap, no bonus vs {e:g}",
                                stats.mcnemar(a, b),
                                tuple(stats.mcnemar(a[block == k], b[block == k])
                                      for k in sorted(set(block.tolist())))))
    none, small, large, stuck_none, stuck_small, stuck_large = counts
    return Verdict(
        12, "(not in the analysis) An entropy bonus lifts a run that is already trapped",
        "partly",
        f"switched on in a run already trapped, a bonus almost never frees one that always "
        f"aborts or never chooses ({stuck_small.k} and {stuck_large.k} of {stuck_none.n} at 0.05 "
        f"and 0.2), and a large one (0.2) frees some runs on one side ({large.k - stuck_large.k} "
        f"of {large.n - stuck_none.n}, {none.k - stuck_none.k} without a bonus; of all "
        f"{large.n} trapped runs {large.k} leave, {none.k} without a bonus, {small.k} with "
        f"0.05): it keeps runs out of the trap far better than it lifts them out",
        counts,
        {f"runs trapped at update {RESCUE_START}, {s}": int(len(left[s, 0.0])) for s in sources},
        "04", tests)


def _rescue_said(which: str, coef: float) -> str:
    """The label of one of verdict 12's counts."""
    from .datasets.collapse import RESCUE_START

    return (f"runs {which} at update {RESCUE_START} that leave the trap by the end, "
            f"entropy_coef {coef:g} from {RESCUE_START}")


def rescue_freed(verdict: Verdict | None = None) -> dict[str, list[Count]]:
    """Verdict 12's counts as notebooks 02-04 quote them: of the runs trapped at update 400
    ("trapped") and of the stuck ones among them ("stuck"), how many leave the trap by the end
    with entropy_coef 0, 0.05 and 0.2 switched on at 400 (one Count per coefficient)."""
    from .datasets.collapse import RESCUE_COEFS

    v = verdicts([12])[0] if verdict is None else verdict
    return {key: [v.count(_rescue_said(which, e)) for e in RESCUE_COEFS]
            for key, which in (("trapped", "trapped"),
                               ("stuck", "stuck (always aborting or never choosing)"))}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def verdict_table(rows: list[Verdict]) -> str:
    """Markdown table: claim, verdict, takeaway, the counts (k of n runs, 95 % interval, per
    block) and whether the blocks replicate each other."""
    lines = ["| # | claim | verdict | takeaway | counts: k of n runs (95 % interval; seeds; "
             "per block) | replicated |",
             "| --- | --- | --- | --- | --- | --- |"]
    for v in rows:
        counts = "; ".join(str(c) for c in v.counts) or "exact computation, no runs"
        lines.append(f"| {v.number} | {_cell(v.claim)} | {v.verdict} | {_cell(v.takeaway)} | "
                     f"{_cell(counts)} | {_cell(v.replication)} |")
    return "\n".join(lines)


def numbers_table(rows: list[Verdict]) -> str:
    """Markdown table of the further numbers each verdict quotes, and its paired tests."""
    lines = ["| # | measured | value |", "| --- | --- | --- |"]
    for v in rows:
        for k, x in v.numbers.items():
            lines.append(f"| {v.number} | {_cell(k)} | {x:.3g} |" if isinstance(x, float)
                         else f"| {v.number} | {_cell(k)} | {x} |")
        for t in v.tests:
            per_block = "".join(f"; block {i}: {a}/{b}, p = {p:.3g}"
                                for i, (a, b, p) in enumerate(t.blocks, start=1))
            lines.append(f"| {v.number} | exact McNemar test, {_cell(t.what)} (seeds only "
                         f"in the first / only in the second) | {t.pooled[0]}/{t.pooled[1]}, "
                         f"p = {t.p:.3g}{per_block} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(verdict_table(verdicts()))
