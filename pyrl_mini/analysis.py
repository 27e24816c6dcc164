"""Reading behaviour and diagnostics: behaviour words, choice tables, the upstream-style report.

One set of behaviour words, the glossary's of notebook 00b, used the same way in the notebooks
and the README. A run is classified over its last 50 updates, first rule that holds:

    never_chooses  trapped: fixates to the end of >= 90 % of trials (STUCK)
    always_aborts  trapped: breaks fixation on >= 90 % of trials (STUCK)
    converged      aborts < 5 % and picks the higher-EV option on >= 80 % of unequal pairs
    one_side       trapped: chooses on >= half the trials, >= 95 % of them the same side
    learning       none of the above (yet), whatever its reward

A deterministic policy is not by itself a failure: a converged run is near-deterministic too.
*Trapped* means the behaviour ignores the offer. *Stuck* is narrower: the two trapped modes in
which every trial pays the same (never chooses, always aborts), so every advantage and the
policy gradient are about zero. "Collapse" is the written analysis's word for what its logs
show (entropy, log-probabilities and gradient norm at zero); a run is called trapped, never
collapsed.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import tasks

MODES = ("converged", "learning", "never_chooses", "always_aborts", "one_side")
TRAPPED_MODES = ("never_chooses", "always_aborts", "one_side")
# Thresholds of the classification (fractions of trials in a batch).
STUCK = 0.9          # never_chooses / always_aborts when that fraction of trials does it
ONE_SIDE = 0.95      # one_side when this fraction of choices go to one side
CONVERGED_ABORT = 0.05
CONVERGED_HIGHER_EV = 0.8


def behaviour_mode(abort_rate, no_choice_rate, choice_rate, left_rate, higher_ev_rate):
    """Mode index into MODES for each element (numpy arrays of the same shape, NaN allowed)."""
    a, n, c, left, hev = (np.asarray(v, dtype=float) for v in
                          (abort_rate, no_choice_rate, choice_rate, left_rate, higher_ev_rate))
    mode = np.full(np.broadcast(a, n, c, left, hev).shape, MODES.index("learning"))
    with np.errstate(invalid="ignore"):
        one_side = (c >= 0.5) & ((left >= ONE_SIDE) | (left <= 1 - ONE_SIDE))
        mode = np.where(one_side, MODES.index("one_side"), mode)
        mode = np.where((a < CONVERGED_ABORT) & (hev >= CONVERGED_HIGHER_EV),
                        MODES.index("converged"), mode)
        mode = np.where(a >= STUCK, MODES.index("always_aborts"), mode)
        mode = np.where(n >= STUCK, MODES.index("never_chooses"), mode)
    nan = np.isnan(a) | np.isnan(n)
    return np.where(nan, -1, mode)


def mode_of_history(history: dict[str, np.ndarray], window: int = 50) -> np.ndarray:
    """Mode of each network over the last `window` updates (rates averaged), shape (E,)."""
    def last(name):
        return np.nanmean(history[name][-window:], axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows of stopped networks
        return behaviour_mode(last("abort_rate"), last("no_choice_rate"), last("choice_rate"),
                             last("left_rate"), last("higher_ev_rate"))


def mode_word(mode) -> str:
    """The glossary's word for a mode, given its index into MODES or its name: "always aborts"
    for always_aborts; "stopped" for -1, a network stopped before its last window."""
    if isinstance(mode, str):
        return mode.replace("_", " ")
    return MODES[int(mode)].replace("_", " ") if mode >= 0 else "stopped"


def is_trapped(mode) -> np.ndarray:
    """True where a mode index is a trapped mode (TRAPPED_MODES: never_chooses,
    always_aborts, one_side)."""
    return np.isin(np.asarray(mode), [MODES.index(m) for m in TRAPPED_MODES])


def updates_to_criterion(history: dict[str, np.ndarray], window: int = 20) -> np.ndarray:
    """First update at which the running mean (window) reaches the learning criterion
    (abort < 5 %, higher-EV choices > 80 %), per network; -1 if never. Shape (E,)."""
    a = history["abort_rate"]
    h = np.nan_to_num(history["higher_ev_rate"], nan=0.0)
    U = a.shape[0]
    out = np.full(a.shape[1], -1)
    if U < window:
        return out
    kernel = np.ones(window) / window
    for k in range(a.shape[1]):
        ma = np.convolve(np.nan_to_num(a[:, k], nan=1.0), kernel, mode="valid")
        mh = np.convolve(h[:, k], kernel, mode="valid")
        ok = np.nonzero((ma < CONVERGED_ABORT) & (mh > CONVERGED_HIGHER_EV))[0]
        if len(ok):
            out[k] = ok[0] + window - 1
    return out


def choice_table(options: np.ndarray, choice: np.ndarray):
    """P(choose left) by (log p difference, log EV difference), like upstream's heatmap.

    options: (trials, 2) option indices; choice: (trials,) with -1 (no choice), 0, 1.
    Returns (dlogp_values, dlogev_values, p_left (n_p, n_ev) with NaN where no trials,
    counts (n_p, n_ev)).
    """
    chose = choice >= 0
    opt, ch = options[chose], choice[chose]
    p, ev = tasks.OPTION_P, tasks.OPTION_EV
    dlogp = np.round(np.log(p[opt[:, 0]]) - np.log(p[opt[:, 1]]), 6)
    dlogev = np.round(np.log(ev[opt[:, 0]]) - np.log(ev[opt[:, 1]]), 6)
    xs, ys = np.unique(dlogp), np.unique(dlogev)
    table = np.full((len(xs), len(ys)), np.nan)
    counts = np.zeros((len(xs), len(ys)), dtype=int)
    ix, iy = np.searchsorted(xs, dlogp), np.searchsorted(ys, dlogev)
    np.add.at(counts, (ix, iy), 1)
    lefts = np.zeros_like(table)
    np.add.at(lefts, (ix, iy), (ch == 0).astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        table = np.where(counts > 0, lefts / np.maximum(counts, 1), np.nan)
    return xs, ys, table, counts


def report(history: dict[str, np.ndarray], update: int, network: int = 0,
           label: str = "", number: int | None = None) -> str:
    """The diagnostics of one update in the upstream debug layout (Policy Entropy / Gradient
    Statistics / Log-probabilities / Advantage (delta_prime)), plus behaviour.

    Unlike upstream, "Total norm" is the global L2 norm (upstream summed per-parameter norms)
    and every statistic counts valid steps only (upstream counted padding after a trial ended).
    """
    def v(name):  # a name the history lacks prints as nan
        return float(history[name][update, network]) if name in history else float("nan")

    mode = behaviour_mode(v("abort_rate"), v("no_choice_rate"), v("choice_rate"),
                         v("left_rate"), v("higher_ev_rate"))
    mode_name = MODES[int(mode)] if int(mode) >= 0 else "stopped (non-finite)"
    head = f"Update {update if number is None else number}"
    head += (f" ({label})" if label else "") + f"  kappa={v('kappa'):+.2f}"
    lines = [
        head,
        "Policy Entropy:",
        f"  Mean entropy: {v('entropy'):.6f}",
        f"  Mean max action probability: {v('max_prob'):.6f}",
        "Gradient Statistics:",
        f"  Total norm: {v('grad_norm'):.6f}",
        f"  W_in: {v('grad_norm_W_in'):.6f}  W_rec: {v('grad_norm_W_rec'):.6f}  "
        f"W_out: {v('grad_norm_W_out'):.6f}  biases: {v('grad_norm_biases'):.6f}",
        f"  Clipped: {'yes' if v('clipped') > 0 else 'no'}",
        "Log-probabilities:",
        f"  Mean: {v('logp_mean'):.6f}",
        f"  Std: {v('logp_std'):.6f}",
        "Advantage (delta_prime):",
        f"  Mean: {v('adv_mean'):.6f}",
        f"  Std: {v('adv_std'):.6f}",
        f"  Positive: {100 * v('adv_pos_frac'):.1f}%",
        f"  Negative: {100 * v('adv_neg_frac'):.1f}%",
        "Behaviour:",
        f"  Reward: {v('reward'):.4f}  Abort: {100 * v('abort_rate'):.1f}%  "
        f"No choice: {100 * v('no_choice_rate'):.1f}%",
        f"  Higher-EV choices: {100 * v('higher_ev_rate'):.1f}%  "
        f"Risky (equal EV): {100 * v('risky_rate'):.1f}%  Left: {100 * v('left_rate'):.1f}%",
        f"  Dead units: {100 * v('dead_fraction'):.1f}%  "
        f"Dormant units: {100 * v('dormant_fraction'):.1f}%",
        f"  Mode: {mode_name}",
    ]
    return "\n".join(lines)


def risk_preference(grid, entropy_coef: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Risk preference of a kappa sweep (a SweepData with grid settings kappa, entropy_coef).

    Returns kappas (K,) and risky (K, seeds): each run's lower-p choice rate on equal-EV pairs
    over its last 50 updates, seeds in ascending order; NaN where a run made no equal-EV
    choice (it stopped choosing).
    """
    kappas = np.array(grid.values("kappa"))
    rows = []
    for k in kappas:
        rows.append(grid.final("risky_rate")[grid.by_seed(kappa=k, entropy_coef=entropy_coef)])
    return kappas, np.array(rows)


# --- dead units over training: spells of dead records, and units that came back -------------
def dead_spells(unit_dead) -> dict[str, np.ndarray]:
    """Every spell of consecutive dead records in unit_dead (runs, records, units), True where
    a unit was dead at a record (SweepData.arrays["unit_dead"], TrainResult.unit_dead moved to
    runs first). Returns one entry per spell: run, unit, start (first record), length
    (records) and revived (an alive record of the unit follows; False for a spell that lasts
    to the last record, which may still have ended later)."""
    dead = np.asarray(unit_dead, dtype=bool)
    runs, records, units = dead.shape
    per_unit = dead.transpose(0, 2, 1).reshape(runs * units, records)
    edges = np.diff(np.pad(per_unit, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    row, start = np.nonzero(edges == 1)       # row-major: starts and stops pair up in order
    stop = np.nonzero(edges == -1)[1]
    return {"run": row // units, "unit": row % units, "start": start, "length": stop - start,
            "revived": stop < records}


def revived_units(unit_dead) -> tuple[np.ndarray, np.ndarray]:
    """(died, came_back), each (runs, units) bool, from unit_dead (runs, records, units): dead
    at some record; dead at one record and alive at a later one (revived)."""
    dead = np.asarray(unit_dead, dtype=bool)
    spells = dead_spells(dead)
    came_back = np.zeros((dead.shape[0], dead.shape[2]), dtype=bool)
    came_back[spells["run"][spells["revived"]], spells["unit"][spells["revived"]]] = True
    return dead.any(axis=1), came_back



# --- stuck: the trapped modes in which every trial pays the same ----------------------------
# A run that always aborts or never chooses gets the same return (-0.5 with the default
# penalties) on every trial, so the baseline learns it, every advantage is ~0 and so is the
# policy gradient, whatever the entropy. A narrower word than trapped (one_side is not stuck).
STUCK_MODES = ("never_chooses", "always_aborts")


def is_stuck(mode) -> np.ndarray:
    """True where a mode index is one of STUCK_MODES (never_chooses, always_aborts)."""
    return np.isin(np.asarray(mode), [MODES.index(m) for m in STUCK_MODES])
