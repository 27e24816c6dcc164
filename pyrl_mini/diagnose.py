"""Diagnose a run from its log in the upstream debug layout, or from a saved history.

The upstream layout (pyrl's PyTorch port, and analysis.report here) prints blocks like

    Step 600:
    Policy Entropy:
      Mean entropy: 0.000001
    Gradient Statistics:
      Total norm: 0.000000
    Log-probabilities:
      Mean: -0.000000
      Std: 0.000000
    Advantage (delta_prime):
      Mean: -0.005360
      Positive: 36.6%
      Negative: 63.4%

parse_log turns each block into a dict; diagnose gives the verdict the collection supports,
with the evidence, and says plainly what a log cannot tell (behaviour is not in upstream logs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from . import analysis
from .tasks import N_ACTIONS

PRINTED_ZERO = 5e-7  # "%.6f" prints 0.000000 for any |x| < 5e-7

# A verdict needs this many updates. Early in training every run looks trapped: a uniform
# policy breaks fixation on almost every trial. Of the 625 stored runs of 800-1000 updates
# (collapse_* and nb00_main_grid), of those that looked trapped over the 50 updates up to
# update 10 / 50 / 100 / 300, 69 % / 46 % / 26 % / 15 % were not trapped at the end
# (tests/test_diagnose.py recomputes it). Below 100 a verdict is more guess than evidence.
MIN_UPDATES = 100

# Values no run can produce (each bound widened by PRINTED_ZERO for a log's rounding): an
# entropy of N_ACTIONS actions lies in [0, ln N_ACTIONS]; probabilities and rates in [0, 1]
# (the most likely action's at least 1 / N_ACTIONS); log-probabilities <= 0; spreads >= 0.
# A float32 squared norm overflows to inf above 3.4e38, so a finite float32 gradient norm is
# below 1.8e19 (upstream printed a sum of a few per-parameter norms: below 1e20). The largest
# stored, of a SimpleRNN on its way to diverging, is 2.3e7.
GRAD_NORM_MAX = 1e20
PLAUSIBLE = {
    "entropy": (0.0, float(np.log(N_ACTIONS))),
    "max_prob": (1.0 / N_ACTIONS, 1.0),
    "grad_norm": (0.0, GRAD_NORM_MAX),
    "logp_mean": (-np.inf, 0.0),
    "logp_std": (0.0, np.inf),
    "adv_std": (0.0, np.inf),
    **{k: (0.0, 1.0) for k in ("adv_pos_frac", "adv_neg_frac", "abort_rate", "no_choice_rate",
                               "higher_ev_rate", "left_rate", "dead_fraction")},
}

_FIELDS = {
    # (section, label) -> key
    ("policy entropy", "mean entropy"): "entropy",
    ("policy entropy", "mean max action probability"): "max_prob",
    ("gradient statistics", "total norm"): "grad_norm",
    ("log-probabilities", "mean"): "logp_mean",
    ("log-probabilities", "std"): "logp_std",
    ("advantage (delta_prime)", "mean"): "adv_mean",
    ("advantage (delta_prime)", "std"): "adv_std",
    ("advantage (delta_prime)", "positive"): "adv_pos_frac",
    ("advantage (delta_prime)", "negative"): "adv_neg_frac",
}
_BEHAVIOUR = {"reward": "reward", "abort": "abort_rate", "no choice": "no_choice_rate",
              "higher-ev choices": "higher_ev_rate", "left": "left_rate",
              "dead units": "dead_fraction"}
NEEDED = ("entropy", "grad_norm", "logp_mean", "logp_std")
# advantages (and a gradient norm) below this are "about zero": a converged run's advantages
# spread by ~1 (the gambles pay different amounts); a trapped run's by ~1e-4
ADV_ZERO = 0.05


class LogFormatError(ValueError):
    """The text has no block in the upstream debug layout, or lacks what a verdict needs."""


@dataclass
class Diagnosis:
    verdict: str
    evidence: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"Diagnosis: {self.verdict}"]
        lines += [f"  - {e}" for e in self.evidence]
        lines += [f"  ! {c}" for c in self.caveats]
        return "\n".join(lines)


_NUMBER = re.compile(r"[-+]?(?:(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|nan\b|inf(?:inity)?\b)",
                     re.IGNORECASE)
# Microsoft's C runtime prints NaN and infinity as 1.#QNAN, 1.#SNAN, 1.#IND, 1.#INF
_MSVC = re.compile(r"([-+]?)\d\.#(QNAN|SNAN|IND|INF)\w*", re.IGNORECASE)


def _number(text: str) -> float | None:
    """The first number in text (NaN, nan, inf, -Infinity, 1.#QNAN included); "12.5%" ->
    0.125. None if there is none."""
    msvc = _MSVC.search(text)
    m = _NUMBER.search(text)
    if msvc and (not m or msvc.start() <= m.start()):
        return float(f"{msvc.group(1)}inf") if msvc.group(2).upper() == "INF" else float("nan")
    if not m:
        return None
    value = float(m.group(0))
    return value / 100 if "%" in text[m.end():m.end() + 1] else value


def implausible(values: dict) -> list[str]:
    """The finite values outside what any run can produce (PLAUSIBLE), one phrase each."""
    out = []
    for key, value in values.items():
        lo, hi = PLAUSIBLE.get(key, (-np.inf, np.inf))
        if np.isfinite(value) and not lo - PRINTED_ZERO <= value <= hi + PRINTED_ZERO:
            out.append(f"{key} {value:.6g} (possible: {lo:.6g} to {hi:.6g})")
    return out


def _implausible_verdict(evidence: list[str]) -> Diagnosis:
    return Diagnosis("implausible values: not a log or history this trainer (or upstream's) "
                     "can write", evidence,
                     ["check that the log or file is the one meant, whole and unedited"])


def parse_log(text: str) -> list[dict]:
    """Blocks of a log in the upstream layout -> list of {key: value}, in order.

    A block starts at a line "Step N" / "Update N" or at "Policy Entropy:" when no step line
    precedes it. Unknown lines are ignored; a block keeps the fields it has.
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise LogFormatError(f"the log must be text (a str), not {type(text).__name__}: pass "
                             "the printed log, e.g. open(path).read()")
    if not text.strip():
        raise LogFormatError("the log is empty: paste a block that starts with 'Policy Entropy:'")
    blocks: list[dict] = []
    current: dict | None = None
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        step = re.match(r"^(step|update)\s+(-?\d+)", line, re.I)
        low = line.lower().rstrip(":")
        if step:
            current = {"step": int(step.group(2))}
            blocks.append(current)
            section = ""
            continue
        if low in ("policy entropy", "gradient statistics", "log-probabilities",
                   "advantage (delta_prime)", "behaviour"):
            if current is None or (low == "policy entropy" and "entropy" in current):
                current = {}
                blocks.append(current)
            section = low
            continue
        if current is None or ":" not in line:
            continue
        label, _, rest = line.partition(":")
        key = _FIELDS.get((section, label.strip().lower()))
        if key is not None:
            value = _number(rest)
            if value is not None:
                current[key] = value
        elif section == "behaviour":
            for part in re.split(r"\s{2,}", line):
                name, _, val = part.partition(":")
                k = _BEHAVIOUR.get(name.strip().lower())
                if k and _number(val) is not None:
                    current[k] = _number(val)
    blocks = [b for b in blocks if len(b) > 1 or "step" not in b]
    if not blocks:
        raise LogFormatError("no block in the upstream layout found: expected lines such as "
                             "'Policy Entropy:', 'Mean entropy: 0.45', 'Total norm: 7.7'")
    return blocks


def advantages_about_zero(block: dict) -> bool:
    """The block's advantages are all about zero: |mean| and (when logged) std < ADV_ZERO."""
    if "adv_mean" not in block:
        return False
    return abs(block["adv_mean"]) < ADV_ZERO and block.get("adv_std", 0.0) < ADV_ZERO


def diagnose_block(block: dict) -> Diagnosis:
    """Verdict for one block of a log (a dict from parse_log)."""
    missing = [k for k in NEEDED if k not in block]
    if missing:
        raise LogFormatError(f"this block lacks {missing}; a verdict needs the entropy, the "
                             "total gradient norm and the log-probability mean and std "
                             f"(found: {sorted(block)})")
    wrong = implausible(block)
    if wrong:
        return _implausible_verdict([f"the block{_where(block)}: {', '.join(wrong)}"])
    ev: list[str] = []
    cav: list[str] = []
    # behaviour rates may be NaN in a live run (no choices: no higher-EV rate); these may not
    bad = {k: v for k, v in block.items() if k in _FIELDS.values() and not np.isfinite(v)}
    if bad:
        names = ", ".join(f"{k} {v}" for k, v in bad.items())
        ev.append(f"non-finite values ({names}): the loss or gradient became NaN or infinite, "
                  "so the network stopped learning; nothing here says whether it was trapped")
        return Diagnosis("diverged (non-finite loss or gradient)", ev,
                         ["lower the learning rate (or keep gradient clipping on) and rerun"])
    zero_logp = abs(block["logp_mean"]) < PRINTED_ZERO and block["logp_std"] < PRINTED_ZERO
    zero_grad = block["grad_norm"] < PRINTED_ZERO
    if zero_logp:
        ev.append("log-probabilities print as 0.000000: every sampled action had "
                  "pi(a) > 0.9999995, a saturated softmax")
    if zero_grad:
        ev.append("total gradient norm prints as 0.000000 (below 5e-7; not necessarily 0)")
    behaviour = {k: block[k] for k in ("abort_rate", "no_choice_rate", "higher_ev_rate",
                                       "left_rate") if k in block}
    trapped = advantages_about_zero(block) and block["grad_norm"] < ADV_ZERO
    if trapped:
        spread = f", std {block['adv_std']:.6f}" if "adv_std" in block else ""
        ev.append(f"every advantage is about zero (mean {block['adv_mean']:+.6f}{spread}): "
                  "every trial returns about the same reward, as when a network always "
                  "aborts or never chooses (each pays -0.5) and the baseline has learned it. "
                  "The policy gradient is a sum of advantage x (onehot(a) - pi) terms, so it "
                  "is zero because the advantages are")
        if zero_logp:
            ev.append("the saturated softmax (onehot(a) - pi ~ 0) makes it smaller still, but "
                      "is not the cause: an unsaturated policy in this state is stuck too")
    if behaviour and (zero_logp and zero_grad or trapped):
        mode = analysis.MODES[int(analysis.behaviour_mode(
            behaviour.get("abort_rate", np.nan), behaviour.get("no_choice_rate", np.nan),
            1 - behaviour.get("abort_rate", 0) - behaviour.get("no_choice_rate", 0),
            behaviour.get("left_rate", np.nan), behaviour.get("higher_ev_rate", np.nan)))]
        if mode == "converged":
            return Diagnosis("converged (deterministic on the better choices)", ev, cav)
        if mode != "learning":
            return Diagnosis(f"trapped: {mode.replace('_', ' ')}", ev, cav)
    if trapped:
        cav.append("an upstream log has no behaviour: the abort and no-choice rates tell "
                   "always-aborting from never-choosing")
        return Diagnosis("trapped: every advantage is about zero, so the gradient is too",
                         ev, cav)
    if zero_logp and zero_grad:
        if "adv_mean" in block:
            ev.append(f"the advantages are not all about zero (mean {block['adv_mean']:+.6f}"
                      + (f", std {block['adv_std']:.6f}" if "adv_std" in block else "")
                      + "): the gradient vanishes through the saturated softmax, "
                      "d log pi / d logits = onehot(a) - pi ~ 0")
        cav.append("an upstream log has no behaviour: a deterministic policy may also be a "
                   "converged one. Check the abort, no-choice and higher-EV choice rates.")
        return Diagnosis("saturated (deterministic) policy: trapped or converged", ev, cav)
    if block["entropy"] < 0.05 and block["grad_norm"] < 0.05:
        ev.append(f"entropy {block['entropy']:.4f} and gradient norm {block['grad_norm']:.4f} "
                  "are small but not zero: nearly deterministic, still moving slowly")
        return Diagnosis("nearly deterministic: converging or about to collapse", ev,
                         ["look at behaviour over the next updates"])
    ev.append(f"entropy {block['entropy']:.3f}, gradient norm {block['grad_norm']:.3f}, "
              f"log-prob spread {block['logp_std']:.3f}: the policy still explores and learns")
    return Diagnosis("learning (not trapped)", ev, cav)


def diagnose_log(text: str) -> Diagnosis:
    """Verdict for the last complete block of a log, mentioning how the run got there."""
    found = parse_log(text)
    blocks = [b for b in found if all(k in b for k in NEEDED)]
    if not blocks:
        raise LogFormatError(f"found {len(found)} block(s) but none is complete: a "
                             f"verdict needs {list(NEEDED)}")
    last = blocks[-1]
    wrong = [f"the block{_where(b)}: {', '.join(implausible(b))}" for b in blocks
             if implausible(b)]
    if wrong:  # any impossible number puts the whole log in doubt
        return _implausible_verdict(wrong)
    d = diagnose_block(last)
    if not d.verdict.startswith("diverged") and last.get("step", MIN_UPDATES) < MIN_UPDATES:
        return _too_short(last["step"] + 1, [f"at update {last['step']}: {d.verdict}"])
    if "step" not in last:
        d.caveats.append(f"the log names no update (a 'Step N' or 'Update N' line), so it "
                         f"cannot tell whether the run had the {MIN_UPDATES} updates a "
                         "verdict needs")
    if found[-1] is not blocks[-1]:
        d.caveats.append(f"the last block{_where(found[-1])} is incomplete (it lacks "
                         f"{[k for k in NEEDED if k not in found[-1]]}), perhaps cut off: the "
                         f"verdict is from the last complete block{_where(blocks[-1])}")
    finite = [b for b in blocks if all(np.isfinite(b[k]) for k in NEEDED)]
    if d.verdict.startswith("diverged"):
        if finite:
            d.evidence.append(f"the last block with finite values is{_where(finite[-1])}: "
                              f"{diagnose_block(finite[-1]).verdict}")
        return d
    if len(blocks) > 1:
        first = blocks[0]
        d.evidence.insert(0, f"{len(blocks)} blocks; entropy {first['entropy']:.4f} -> "
                             f"{blocks[-1]['entropy']:.4f}, gradient norm "
                             f"{first['grad_norm']:.4f} -> {blocks[-1]['grad_norm']:.4f}")
    return d


def _where(block: dict) -> str:
    return f" (step {block['step']})" if "step" in block else ""


def _too_short(updates: int, evidence: list[str]) -> Diagnosis:
    return Diagnosis(f"too short to judge ({updates} update{'' if updates == 1 else 's'}; a "
                     f"verdict needs {MIN_UPDATES})",
                     evidence,
                     [f"early in training every run looks trapped (a uniform policy breaks "
                      f"fixation on almost every trial); train {MIN_UPDATES} updates or more "
                      "and diagnose again"])


def diagnose_history(history: dict[str, np.ndarray], network: int = 0,
                     window: int = 50) -> Diagnosis:
    """Verdict from a saved history (trainer diagnostics, behaviour included).

    A network that met a non-finite loss or gradient has NaN diagnostics from that update on
    (trainer.train); it is called diverged, not judged from its few finite updates. A history
    of fewer than MIN_UPDATES updates is too short to judge; one with values no run can
    produce (PLAUSIBLE) is refused as implausible."""
    if "entropy" not in history:
        raise ValueError(f"the history has no entropy (it has {sorted(history)}): pass "
                         "load_history(path)['history'] or a TrainResult's .history")
    series = {k: np.asarray(v)[:, network] for k, v in history.items() if np.ndim(v) == 2}
    wrong = []
    for key, values in series.items():
        finite = values[np.isfinite(values)]
        if len(finite):  # the extremes are where an impossible value would show
            wrong += implausible({key: finite.min()})[:1] or implausible({key: finite.max()})
    if wrong:
        return _implausible_verdict([f"network {network}'s history: {', '.join(wrong)}"])
    alive = np.isfinite(history["entropy"][:, network])
    if len(alive) and not alive[-1]:
        stop = len(alive) - int(np.argmax(alive[::-1])) if alive.any() else 0
        ev = [f"every diagnostic is NaN from update {stop} on: the loss or gradient became "
              "non-finite there and training of this network stopped"]
        if stop > 0:
            ev.append(f"at update {stop - 1}, the last finite one: entropy "
                      f"{history['entropy'][stop - 1, network]:.4f}, gradient norm "
                      f"{history['grad_norm'][stop - 1, network]:.4f}")
        return Diagnosis(f"diverged at update {stop} (non-finite loss or gradient)", ev,
                         ["lower the learning rate (or keep gradient clipping on) and rerun"])
    if len(alive) < MIN_UPDATES:
        now = []
        if len(alive):
            with np.errstate(invalid="ignore"):
                now.append(f"so far: entropy {series['entropy'][-1]:.4f} (a uniform policy "
                           f"has ln {N_ACTIONS} = {np.log(N_ACTIONS):.4f}), abort "
                           f"{100 * series['abort_rate'][-1]:.0f}%")
        return _too_short(len(alive), now)
    last = {k: float(np.nanmean(v[-window:, network])) for k, v in history.items()
            if v.ndim == 2}
    mode = analysis.MODES[int(analysis.mode_of_history(
        {k: v[:, network:network + 1] for k, v in history.items() if v.ndim == 2},
        window)[0])]
    ev = [f"last {window} updates: reward {last['reward']:.3f}, abort "
          f"{100 * last['abort_rate']:.1f}%, no choice {100 * last['no_choice_rate']:.1f}%, "
          f"higher-EV {100 * last['higher_ev_rate']:.1f}%, entropy {last['entropy']:.4f}, "
          f"gradient norm {last['grad_norm']:.4f}, dead units "
          f"{100 * last['dead_fraction']:.0f}%"]
    crit = analysis.updates_to_criterion(history)[network]
    if crit >= 0:
        ev.append(f"reached the learning criterion at update {crit}")
    if mode in analysis.TRAPPED_MODES:
        return Diagnosis(f"trapped: {mode.replace('_', ' ')}", ev)
    if mode == "converged":
        return Diagnosis("converged", ev)
    return Diagnosis("still learning", ev)
