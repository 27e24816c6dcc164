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

PRINTED_ZERO = 5e-7  # "%.6f" prints 0.000000 for any |x| < 5e-7

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


def _number(text: str) -> float | None:
    """The first number in text (NaN, nan, inf, -Infinity included); "12.5%" -> 0.125."""
    m = _NUMBER.search(text)
    if not m:
        return None
    value = float(m.group(0))
    return value / 100 if "%" in text[m.end():m.end() + 1] else value


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


def diagnose_block(block: dict) -> Diagnosis:
    """Verdict for one block of a log (a dict from parse_log)."""
    missing = [k for k in NEEDED if k not in block]
    if missing:
        raise LogFormatError(f"this block lacks {missing}; a verdict needs the entropy, the "
                             "total gradient norm and the log-probability mean and std "
                             f"(found: {sorted(block)})")
    ev: list[str] = []
    cav: list[str] = []
    # behaviour rates may be NaN in a live run (no choices: no higher-EV rate); these may not
    bad = {k: v for k, v in block.items() if k in _FIELDS.values() and not np.isfinite(v)}
    if bad:
        names = ", ".join(f"{k} {v}" for k, v in bad.items())
        ev.append(f"non-finite values ({names}): the loss or gradient became NaN or infinite, "
                  "so the network stopped learning; nothing here says whether it had collapsed")
        return Diagnosis("diverged (non-finite loss or gradient)", ev,
                         ["lower the learning rate (or keep gradient clipping on) and rerun"])
    zero_logp = abs(block["logp_mean"]) < PRINTED_ZERO and block["logp_std"] < PRINTED_ZERO
    zero_grad = block["grad_norm"] < PRINTED_ZERO
    if zero_logp:
        ev.append("log-probabilities print as 0.000000: every sampled action had "
                  "pi(a) > 0.9999995, a saturated softmax")
    if zero_grad:
        ev.append("total gradient norm prints as 0.000000 (below 5e-7; not necessarily 0)")
    adv_nonzero = abs(block.get("adv_mean", 0.0)) > PRINTED_ZERO or \
        block.get("adv_pos_frac", 0) > 0
    behaviour = {k: block[k] for k in ("abort_rate", "no_choice_rate", "higher_ev_rate",
                                       "left_rate") if k in block}
    if zero_logp and zero_grad:
        if adv_nonzero:
            ev.append(f"yet the advantages are not zero (mean {block.get('adv_mean', 0):+.6f}, "
                      f"{100 * block.get('adv_pos_frac', 0):.1f}% positive): the gradient "
                      "vanishes because d log pi / d logits = onehot(a) - pi = 0, not because "
                      "the advantages do")
        if behaviour:
            mode = analysis.MODES[int(analysis.collapse_mode(
                behaviour.get("abort_rate", np.nan), behaviour.get("no_choice_rate", np.nan),
                1 - behaviour.get("abort_rate", 0) - behaviour.get("no_choice_rate", 0),
                behaviour.get("left_rate", np.nan), behaviour.get("higher_ev_rate", np.nan)))]
            if mode == "converged":
                return Diagnosis("converged (deterministic on the better choices)", ev, cav)
            return Diagnosis(f"collapsed: {mode.replace('_', ' ')}", ev, cav)
        if adv_nonzero and abs(block.get("adv_mean", 1)) < 0.05:
            ev.append("small advantages of both signs around a near-zero mean: every trial "
                      "returns nearly the same reward, as in the never-chooses (or "
                      "always-aborts) absorbing state where the baseline has learned the "
                      "constant penalty")
        cav.append("an upstream log has no behaviour: a deterministic policy may also be a "
                   "converged one. Check the abort, no-choice and higher-EV choice rates.")
        return Diagnosis("saturated (deterministic) policy: collapsed or converged", ev, cav)
    if block["entropy"] < 0.05 and block["grad_norm"] < 0.05:
        ev.append(f"entropy {block['entropy']:.4f} and gradient norm {block['grad_norm']:.4f} "
                  "are small but not zero: nearly deterministic, still moving slowly")
        return Diagnosis("nearly deterministic: converging or about to collapse", ev,
                         ["look at behaviour over the next updates"])
    ev.append(f"entropy {block['entropy']:.3f}, gradient norm {block['grad_norm']:.3f}, "
              f"log-prob spread {block['logp_std']:.3f}: the policy still explores and learns")
    return Diagnosis("learning (not collapsed)", ev, cav)


def diagnose_log(text: str) -> Diagnosis:
    """Verdict for the last complete block of a log, mentioning how the run got there."""
    found = parse_log(text)
    blocks = [b for b in found if all(k in b for k in NEEDED)]
    if not blocks:
        raise LogFormatError(f"found {len(found)} block(s) but none is complete: a "
                             f"verdict needs {list(NEEDED)}")
    d = diagnose_block(blocks[-1])
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


def diagnose_history(history: dict[str, np.ndarray], network: int = 0,
                     window: int = 50) -> Diagnosis:
    """Verdict from a saved history (trainer diagnostics, behaviour included).

    A network that met a non-finite loss or gradient has NaN diagnostics from that update on
    (trainer.train); it is called diverged, not judged from its few finite updates."""
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
    if mode in analysis.COLLAPSED_MODES:
        return Diagnosis(f"collapsed: {mode.replace('_', ' ')}", ev)
    if mode == "converged":
        return Diagnosis("converged", ev)
    return Diagnosis("still learning", ev)
