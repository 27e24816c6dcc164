"""Notebook 01: ReLU dead units. Do they die, do they stay dead, do they cause the collapse?

Definitions, for rates r (time, ensemble, trials, units) and the mask
of valid steps (time, ensemble, trials):

    dead_i    <=>  r_i = 0 exactly on every valid step of every trial of the batch
    s_i       =    mean|r_i| / mean_k mean|r_k|      (the ReDo score, Sokar et al. 2023)
    dormant_i <=>  s_i <= tau                         (tau = trainer.DORMANT_TAU = 0.1)

A dead unit is dormant; a dormant unit may still fire a little.

Data: the sweeps of datasets/nb01_dead_neurons.py (per-unit dead flags every 10 updates, 2
seeds: what needs per-unit flags, the learning-rate and rate-function comparisons), the shared
nb00_main_grid (GRU, 1000 updates, 3 seeds), and the 20-seed frequency datasets
collapse_kappa, collapse_entropy and collapse_optimizer (GRU, 800 updates, dead and dormant
fractions only; every frequency the notebook states rests on these). Everything else here is
a single batch or a short run that takes a few seconds.
"""

from __future__ import annotations

import math

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .. import analysis, data, tasks
from .. import networks as nets
from ..config import TrainSettings
from ..diagnostics import DORMANT_TAU
from ..sweep import SweepData
from ..trainer import Ensemble, TrainResult, evaluate, train
from ..widgets import Demo, LiveRun, entropy_slider, float_slider, kappa_slider

# The three networks of the notebook: label -> (dataset, grid selection, settings changes).
NETWORKS = {
    "GRU": ("nb01_gru", {}, {"network_type": "gru"}),
    "SimpleRNN, relu readout": ("nb01_simple", {"readout_rate": "relu"},
                                {"network_type": "simple", "readout_rate": "relu"}),
    "SimpleRNN, tanh readout": ("nb01_simple", {"readout_rate": "tanh"},
                                {"network_type": "simple", "readout_rate": "tanh"}),
}
DATASETS = ("nb01_simple", "nb01_gru", "nb01_lr")
BASE_LR = 0.01  # the learning rate of nb01_simple and nb01_gru; nb01_lr has 0.001 and 0.1


# --- definitions ----------------------------------------------------------------------------
def dead_units(rates: np.ndarray | torch.Tensor, mask: np.ndarray | torch.Tensor) -> np.ndarray:
    """Dead flags (E, N): rate exactly 0 on every valid step of every trial.

    rates (T, E, B, N), mask (T, E, B) with 1 on valid steps. Steps after a trial's end are
    ignored: a unit that fires only there is dead.
    """
    r = np.abs(np.asarray(rates, dtype=np.float64))
    m = np.asarray(mask, dtype=bool)[..., None]
    return ~np.any((r > 0) & m, axis=(0, 2))


def redo_scores(rates: np.ndarray | torch.Tensor, mask: np.ndarray | torch.Tensor) -> np.ndarray:
    """ReDo scores s_i = mean|r_i| / mean_k mean|r_k| over valid steps, shape (E, N)."""
    r = np.abs(np.asarray(rates, dtype=np.float64))
    m = np.asarray(mask, dtype=np.float64)[..., None]
    mean_abs = (r * m).sum(axis=(0, 2)) / np.maximum(m.sum(axis=(0, 2)), 1)
    return mean_abs / np.maximum(mean_abs.mean(-1, keepdims=True), 1e-12)


def dormant_units(rates, mask, tau: float = DORMANT_TAU) -> np.ndarray:
    """Dormant flags (E, N): ReDo score s_i <= tau (tau = 0.1 as in the trainer)."""
    return redo_scores(rates, mask) <= tau


# --- revivals -------------------------------------------------------------------------------
def dead_spells(dead: np.ndarray) -> list[tuple[int, int, bool]]:
    """Runs of consecutive dead records of one unit, dead (points,) bool.

    Returns (start, length, revived) per run; revived is True when an alive record follows
    (False when the run lasts to the end of the record).
    """
    dead = np.asarray(dead, dtype=bool)
    padded = np.concatenate([[False], dead, [False]]).astype(np.int8)
    edges = np.diff(padded)
    starts, stops = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    return [(int(a), int(b - a), bool(b < len(dead))) for a, b in zip(starts, stops,
                                                                        strict=True)]


def revival_counts(unit_dead: np.ndarray) -> dict[str, np.ndarray]:
    """Per run, from unit_dead (runs, points, N): units ever dead, units dead at one record
    and alive at a later one (revived), and units dead at the last record.

    Returns arrays of shape (runs,): ever_dead, revived, dead_at_end.
    """
    d = np.asarray(unit_dead, dtype=bool)
    ever = d.any(axis=1)
    # a unit revives if some alive record comes after its first dead record
    first = np.where(ever, d.argmax(axis=1), d.shape[1])
    idx = np.arange(d.shape[1]).reshape(1, -1, 1)
    alive_later = (~d & (idx > first[:, None, :])).any(axis=1)
    return {"ever_dead": ever.sum(-1), "revived": (ever & alive_later).sum(-1),
            "dead_at_end": d[:, -1].sum(-1)}


def revival_by_spell_length(unit_dead: np.ndarray, lengths=(1, 2, 5, 10, 20)) -> dict:
    """How often a unit that has been dead for L consecutive records comes back.

    For each L: n = number of dead spells that lasted at least L records, revived = how many
    of those ended with the unit alive again before the end of the record. A spell cut off by
    the end of training counts as not revived (so the fractions are lower bounds).
    Returns {"lengths": (L,), "n": (L,), "revived": (L,), "fraction": (L,)}.
    """
    d = np.asarray(unit_dead, dtype=bool)
    spells = [s for run in d for unit in run.T for s in dead_spells(unit)]
    lengths = np.asarray(lengths)
    n = np.array([sum(1 for s in spells if s[1] >= L) for L in lengths])
    rev = np.array([sum(1 for s in spells if s[1] >= L and s[2]) for L in lengths])
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(n > 0, rev / np.maximum(n, 1), np.nan)
    return {"lengths": lengths, "n": n, "revived": rev, "fraction": frac}


# --- data access ----------------------------------------------------------------------------
def load_all() -> dict[str, SweepData]:
    """The notebook's main sweeps by name, checksums verified against data/manifest.json
    (nb01_rates and nb01_sgd are loaded where they are used)."""
    return {name: data.load(name) for name in DATASETS}


def runs_of(sweeps: dict[str, SweepData], network: str, **values) -> np.ndarray:
    """Cell indices of one network (a key of NETWORKS) at the given grid values, by seed."""
    name, select, _ = NETWORKS[network]
    ds = sweeps[name]
    return ds.by_seed(**select, **values)


def record_updates(ds: SweepData) -> np.ndarray:
    """The update of each unit_dead record (every stride-th update, starting at update 0)."""
    stride = ds.meta.get("spec", {}).get("stride", 10)
    return np.arange(ds.arrays["unit_dead"].shape[1]) * stride


def run_table(sweeps: dict[str, SweepData], nb00_main_grid: SweepData | None = None) -> dict:
    """Every run of the notebook's data in one flat table (runs,).

    Keys: source, network, kappa, entropy_coef, lr, seed, final dead and dormant fraction,
    initial dead fraction (update 0, only with unit records), final reward and higher-EV rate,
    mode, collapsed, updates_to_criterion.
    """
    rows: dict[str, list] = {k: [] for k in (
        "source", "network", "kappa", "entropy_coef", "lr", "seed", "dead", "dormant",
        "dead_start", "reward", "higher_ev", "mode", "collapsed", "criterion")}

    def add(source, network, ds, i, kappa, entropy_coef, lr):
        rows["source"].append(source)
        rows["network"].append(network)
        rows["kappa"].append(float(kappa))
        rows["entropy_coef"].append(float(entropy_coef))
        rows["lr"].append(float(lr))
        rows["seed"].append(int(ds.arrays["seed"][i]))
        rows["dead"].append(float(ds.final("dead_fraction")[i]))
        rows["dormant"].append(float(ds.final("dormant_fraction")[i]))
        ud = ds.arrays.get("unit_dead")
        rows["dead_start"].append(float(ud[i, 0].mean()) if ud is not None else np.nan)
        rows["reward"].append(float(ds.final("reward")[i]))
        rows["higher_ev"].append(float(ds.final("higher_ev_rate")[i]))
        rows["mode"].append(int(ds.mode[i]))
        rows["collapsed"].append(bool(ds.collapsed[i]))
        rows["criterion"].append(int(ds.arrays["updates_to_criterion"][i]))

    for network in NETWORKS:
        name = NETWORKS[network][0]
        ds = sweeps[name]
        for i in runs_of(sweeps, network):
            add(name, network, ds, i, ds.arrays["grid/kappa"][i],
                ds.arrays["grid/entropy_coef"][i], BASE_LR)
    ds = sweeps["nb01_lr"]
    for i in range(len(ds.arrays["seed"])):
        network = "GRU" if ds.arrays["grid/network_type"][i] == "gru" else \
            "SimpleRNN, relu readout"
        add("nb01_lr", network, ds, i, 0.0, 0.0, ds.arrays["grid/lr"][i])
    if nb00_main_grid is not None:
        for i in range(len(nb00_main_grid.arrays["seed"])):
            add("nb00_main_grid", "GRU", nb00_main_grid, i, nb00_main_grid.arrays["grid/kappa"][i],
                nb00_main_grid.arrays["grid/entropy_coef"][i], BASE_LR)
    return {k: np.array(v) for k, v in rows.items()}


def paired_kappa_differences(sweeps: dict[str, SweepData], low: float = -0.4,
                             high: float = 0.4, name: str = "dead_fraction") -> dict:
    """Final `name` at kappa=low minus at kappa=high, paired by network, entropy_coef and seed
    (same initial weights and trials). Returns {network: differences (pairs,)} plus "all"."""
    out = {}
    for network in NETWORKS:
        ds = sweeps[NETWORKS[network][0]]
        diffs = []
        for e in ds.values("entropy_coef"):
            a = runs_of(sweeps, network, kappa=low, entropy_coef=e)
            b = runs_of(sweeps, network, kappa=high, entropy_coef=e)
            diffs.append(ds.final(name)[a] - ds.final(name)[b])
        out[network] = np.concatenate(diffs)
    out["all"] = np.concatenate([out[n] for n in NETWORKS])
    return out


def paired_grid_differences(grid: SweepData, low: float = -0.4, high: float = 0.4,
                            name: str = "dead_fraction") -> np.ndarray:
    """The same paired difference on the nb00_main_grid (GRU, 1000 updates): (entropy x seeds,)."""
    diffs = []
    for e in grid.values("entropy_coef"):
        a = grid.by_seed(kappa=low, entropy_coef=e)
        b = grid.by_seed(kappa=high, entropy_coef=e)
        diffs.append(grid.final(name)[a] - grid.final(name)[b])
    return np.concatenate(diffs)


def rank_auc(scores_pos: np.ndarray, scores_neg: np.ndarray) -> float:
    """P(score of a random positive > score of a random negative), ties count 1/2 (the area
    under the ROC curve). 0.5 = no information; NaN if either group is empty."""
    p, n = np.asarray(scores_pos, float), np.asarray(scores_neg, float)
    if len(p) == 0 or len(n) == 0:
        return float("nan")
    gt = (p[:, None] > n[None, :]).mean()
    eq = (p[:, None] == n[None, :]).mean()
    return float(gt + 0.5 * eq)


def collapse_separation(table: dict[str, np.ndarray], network: str,
                        exclude_modes: tuple[str, ...] = ()) -> dict:
    """Final dead fraction of collapsed vs other runs of one network at the default lr.

    exclude_modes: behaviour modes to leave out (e.g. "always_aborts", whose one-step trials
    give a unit few chances to fire). Returns n_collapsed, n_other, dead_collapsed,
    dead_other (arrays) and auc = P(a collapsed run has more dead units than another run).
    """
    sel = (table["network"] == network) & np.isclose(table["lr"], BASE_LR)
    for m in exclude_modes:
        sel &= table["mode"] != analysis.MODES.index(m)
    col, dead = table["collapsed"][sel], table["dead"][sel]
    return {"n_collapsed": int(col.sum()), "n_other": int((~col).sum()),
            "dead_collapsed": dead[col], "dead_other": dead[~col],
            "auc": rank_auc(dead[col], dead[~col])}


def dead_with_fewer_steps(states: dict[str, np.ndarray], steps: int = 1) -> tuple[float, float]:
    """Dead fraction counting only the first `steps` valid steps of each trial, and counting
    all valid steps. Fewer observed steps give a unit fewer chances to fire, so the first is
    never smaller: a run whose trials end at once (always aborting) looks deader."""
    mask = states["mask"].astype(bool)
    first = mask & (np.cumsum(mask, axis=0) <= steps)
    rates = states["rates"][:, None]
    return (float(dead_units(rates, first[:, None]).mean()),
            float(dead_units(rates, mask[:, None]).mean()))


def readout_comparison(sweeps: dict[str, SweepData]) -> dict[str, np.ndarray]:
    """SimpleRNN tanh readout vs relu readout, paired by kappa, entropy_coef and seed.

    Returns arrays (pairs,): reward_relu, reward_tanh, collapsed_relu, collapsed_tanh,
    criterion_relu, criterion_tanh (-1 = never), dead_relu, dead_tanh.
    """
    ds = sweeps["nb01_simple"]
    a = runs_of(sweeps, "SimpleRNN, relu readout")
    b = runs_of(sweeps, "SimpleRNN, tanh readout")
    # pair by (kappa, entropy_coef, seed)
    key = np.stack([ds.arrays["grid/kappa"], ds.arrays["grid/entropy_coef"],
                    ds.arrays["seed"]], axis=1).astype(float)
    b_by_key = {tuple(key[i]): i for i in b}
    pairs = [(i, b_by_key[tuple(key[i])]) for i in a]
    ia, ib = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    out = {}
    for label, idx in (("relu", ia), ("tanh", ib)):
        out["reward_" + label] = ds.final("reward")[idx]
        out["higher_ev_" + label] = ds.final("higher_ev_rate")[idx]
        out["collapsed_" + label] = ds.collapsed[idx]
        out["criterion_" + label] = ds.arrays["updates_to_criterion"][idx]
        out["dead_" + label] = ds.final("dead_fraction")[idx]
    return out


def lr_effect(sweeps: dict[str, SweepData]) -> dict[str, dict[float, np.ndarray]]:
    """Final dead fraction by policy learning rate, kappa 0, entropy_coef 0, seeds in order.

    Returns {network: {lr: (seeds,)}} for "GRU" and "SimpleRNN, relu readout", the lr 0.01
    runs taken from nb01_gru / nb01_simple (same seeds, so paired).
    """
    ds = sweeps["nb01_lr"]
    out: dict[str, dict[float, np.ndarray]] = {}
    for network, ntype in (("GRU", "gru"), ("SimpleRNN, relu readout", "simple")):
        per = {}
        for lr in ds.values("lr"):
            per[float(lr)] = ds.final("dead_fraction")[ds.by_seed(network_type=ntype, lr=lr)]
        base = runs_of(sweeps, network, kappa=0.0, entropy_coef=0.0)
        per[BASE_LR] = sweeps[NETWORKS[network][0]].final("dead_fraction")[base]
        out[network] = dict(sorted(per.items()))
    return out


def lr_modes(sweeps: dict[str, SweepData], lr: float) -> dict[str, list[str]]:
    """Behaviour modes at one learning rate, kappa 0, entropy_coef 0: {network: [mode]}."""
    out = {}
    for network, ntype in (("GRU", "gru"), ("SimpleRNN, relu readout", "simple")):
        if math.isclose(lr, BASE_LR):
            ds = sweeps[NETWORKS[network][0]]
            idx = runs_of(sweeps, network, kappa=0.0, entropy_coef=0.0)
        else:
            ds = sweeps["nb01_lr"]
            idx = ds.by_seed(network_type=ntype, lr=lr)
        out[network] = [analysis.MODES[m] if m >= 0 else "stopped" for m in ds.mode[idx]]
    return out


# --- one batch with the states x ------------------------------------------------------------
def unit_states(settings: TrainSettings, params: dict[str, torch.Tensor], trials: int = 256,
                seed: int = 12345) -> dict[str, np.ndarray]:
    """One batch of one network (no learning): states x, rates relu(x), readout rates and mask.

    The trainer's rollout gives relu(x) only; here a second ensemble with the same seed draws
    the same trials and noise and returns x itself, checked against the rollout's rates.
    Returns x, rates, read (what the policy reads: relu(x) or tanh(x)) with shape (T, B, N),
    mask (T, B) and the per-trial choice (B,).
    """
    s = settings.replace(seed=seed)
    ev = evaluate(s, params, trials=trials, seed=seed)
    ens = Ensemble([s.replace(seed=seed)])
    with torch.no_grad():
        for name, p in params.items():
            ens.params[name].copy_(p[:1])
        options, in_noise, _, rec_noise, _ = ens.draw(trials)
        inputs = tasks.build_inputs(ens.task, options, in_noise, ens.input_noise)
        noise = ens.rec_noise.view(1, 1, 1, 1) * rec_noise
        x = nets.run_recurrent(ens.params, s.network.network_type, inputs, noise, ens.alpha)
    x = x[:, 0].numpy()
    rates = ev["rates"][:, 0]
    if not np.allclose(np.maximum(x, 0), rates, atol=1e-5):
        raise RuntimeError("unit_states: the states do not reproduce the rollout's rates; "
                           "the trainer's order of random draws has changed.")
    fn = "relu" if s.network.network_type == "gru" else s.network.readout_rate
    read = nets.rate(torch.as_tensor(x), fn).numpy()
    return {"x": x, "rates": rates, "read": read, "mask": ev["mask"][:, 0],
            "choice": ev["choice"][0]}


def negative_readout_share(states: dict[str, np.ndarray]) -> dict[str, float]:
    """What a tanh readout sees that the relu dynamics ignore, over valid steps.

    share_negative = sum |tanh(x)| over x < 0 / sum |tanh(x)|: the part of the readout's input
    that comes from states the dynamics pass on as relu(x) = 0. share_dead = the same from the
    units that are dead in this batch. frac_negative = fraction of (step, trial, unit) with x<0.
    """
    x, m = states["x"], states["mask"][..., None].astype(bool)
    t = np.abs(np.tanh(x)) * m
    dead = dead_units(states["rates"][:, None], states["mask"][:, None])[0]
    total = t.sum()
    return {"share_negative": float(t[x < 0].sum() / total),
            "share_dead": float(t[..., dead].sum() / total),
            "frac_negative": float(((x < 0) & m).sum() / (m.sum() * x.shape[-1]))}


def incoming_gradient(settings: TrainSettings, params: dict[str, torch.Tensor],
                      trials: int = 256, seed: int = 12345) -> dict[str, np.ndarray]:
    """Per unit i, the norm of d L_pi / d (W_in[:, i], W_rec[:, i], b[i]) on one batch, and
    the unit's dead flag on that same batch. Shapes (N,).

    With a relu readout a dead unit's incoming gradient is exactly 0 (relu'(x) = 0 for x < 0
    on every step, and x_i reaches the loss only through relu(x_i)); a tanh readout reads x_i
    directly, so gradient reaches it while its rate stays 0.
    """
    s = settings.replace(seed=seed)
    ens = Ensemble([s])
    with torch.no_grad():
        for name, p in params.items():
            ens.params[name].copy_(p[:1])
    ro = ens.rollout(trials, torch.tensor([s.kappa]))
    ro["policy_loss"].sum().backward()
    g = ens.params
    sq = g["W_in"].grad[0].pow(2).sum(0) + g["W_rec"].grad[0].pow(2).sum(0) + \
        g["b"].grad[0].pow(2)
    dead = dead_units(ro["rates"].detach(), ro["mask"])[0]
    return {"grad": sq.sqrt().numpy(), "dead": dead}


def dead_fraction_at_init(settings: TrainSettings, bias_shifts=(-0.5, -0.25, 0.0, 0.25),
                          trials: int = 256, seeds=(0, 1, 2)) -> np.ndarray:
    """Dead fraction of untrained networks when every initial bias b is shifted by beta.

    A controlled change at initialisation (no training): returns (len(bias_shifts), seeds).
    """
    out = np.zeros((len(bias_shifts), len(seeds)))
    for j, seed in enumerate(seeds):
        s = settings.replace(seed=seed)
        base = Ensemble([s]).params
        for i, beta in enumerate(bias_shifts):
            params = {k: v.detach().clone() for k, v in base.items()}
            params["b"] = params["b"] + beta
            ev = evaluate(s, params, trials=trials, seed=1000 + seed)
            out[i, j] = dead_units(ev["rates"], ev["mask"]).mean()
    return out


# --- short live runs for the activity raster ------------------------------------------------
EXAMPLE_SETTINGS = TrainSettings(updates=40)
# Seeds that learn to hold fixation within 40 updates, so the trials have many valid steps.
EXAMPLES = {
    "GRU, lr 0.01": {"network_type": "gru", "seed": 0},
    "GRU, lr 0.1": {"network_type": "gru", "lr": 0.1, "seed": 0},
    "SimpleRNN, relu readout": {"network_type": "simple", "readout_rate": "relu", "seed": 1},
    "SimpleRNN, tanh readout": {"network_type": "simple", "readout_rate": "tanh", "seed": 1},
}


def train_examples(updates: int = 40, progress: bool = False) -> dict[str, dict]:
    """Train the four example networks of the raster for `updates` updates (a few seconds).

    Returns {label: {"settings", "result", "states"}} with the states of one evaluation batch
    (see unit_states). Networks that share array shapes train together.
    """
    torch.set_num_threads(1)
    out = {}
    groups: dict[tuple, list[str]] = {}
    for label, change in EXAMPLES.items():
        s = EXAMPLE_SETTINGS.replace(updates=updates, **change)
        groups.setdefault((s.network.network_type, s.network.readout_rate), []).append(label)
        out[label] = {"settings": s}
    for labels in groups.values():
        res = train([out[lb]["settings"] for lb in labels], progress=progress,
                    desc="example networks")
        for k, lb in enumerate(labels):
            params = {n: p[k:k + 1] for n, p in res.params.items()}
            out[lb]["result"] = res
            out[lb]["params"] = params
            # the batch of 256 trials that incoming_gradient draws too (same seed and size), so
            # every count of dead units in the notebook refers to this one batch
            out[lb]["states"] = unit_states(out[lb]["settings"], params, trials=256)
    return out


RATE_FUNCTIONS = ("relu", "tanh", "softplus")


def rate_comparison(gru: SweepData, rates: SweepData, entropy_coef: float = 0.0) -> dict:
    """The GRU with rate function relu (nb01_gru at `entropy_coef`) against tanh and softplus
    (nb01_rates), paired by (kappa, seed): the same initial weights and trials.

    Returns {"kappa": (pairs,), "seed": (pairs,)} and, per rate function in RATE_FUNCTIONS,
    {rate: {"dead", "dormant", "reward", "higher_ev" (final values), "mode" (index into
    analysis.MODES, -1 = stopped), "collapsed" (bool), "criterion" (update, -1 = never)}},
    every array in the same (kappa, seed) order.
    """
    ref = gru.select(entropy_coef=entropy_coef)
    key = np.stack([gru.arrays["grid/kappa"][ref], gru.arrays["seed"][ref]], 1).astype(float)
    order = np.lexsort((key[:, 1], key[:, 0]))
    ref, key = ref[order], key[order]

    def block(ds: SweepData, idx: np.ndarray) -> dict[str, np.ndarray]:
        return {"dead": ds.final("dead_fraction")[idx],
                "dormant": ds.final("dormant_fraction")[idx],
                "reward": ds.final("reward")[idx], "higher_ev": ds.final("higher_ev_rate")[idx],
                "mode": ds.mode[idx], "collapsed": ds.collapsed[idx],
                "criterion": ds.arrays["updates_to_criterion"][idx]}

    out: dict = {"kappa": key[:, 0], "seed": key[:, 1].astype(int), "relu": block(gru, ref)}
    for rate in RATE_FUNCTIONS[1:]:
        idx = []
        for kappa, seed in key:
            cell = rates.select(rate_function=rate, kappa=kappa)
            cell = cell[rates.arrays["seed"][cell] == seed]
            if len(cell) != 1:
                raise ValueError(f"no unique {rate} run at kappa={kappa:g}, seed={seed:g}")
            idx.append(int(cell[0]))
        out[rate] = block(rates, np.array(idx))
    return out


def plot_rate_comparison(comp: dict) -> plt.Figure:
    """Final dormant fraction and final reward per rate function, one dot per run (filled:
    reached the learning criterion; open: did not); lines join runs of the same (kappa, seed)."""
    fig, axes = plt.subplots(1, 2, figsize=(7.0, 2.8))
    x = np.arange(len(RATE_FUNCTIONS))
    jitter = np.linspace(-0.12, 0.12, len(comp["kappa"]))
    for ax, key, label in ((axes[0], "dormant", "final dormant fraction"),
                           (axes[1], "reward", "final reward / trial")):
        ys = np.array([comp[r][key] for r in RATE_FUNCTIONS])            # (rates, pairs)
        for p in range(ys.shape[1]):
            ax.plot(x + jitter[p], ys[:, p], color="0.85", lw=0.7, zorder=1)
        for j, r in enumerate(RATE_FUNCTIONS):
            reached = comp[r]["criterion"] >= 0
            face = np.where(reached[:, None], to_rgba(f"C{j}"), (1.0, 1.0, 1.0, 0.0))
            ax.scatter(x[j] + jitter, ys[j], s=20, zorder=2, edgecolors=f"C{j}",
                       facecolors=face)
        ax.set(xticks=x, xticklabels=RATE_FUNCTIONS, title=label)
    axes[0].set_ylim(-0.02, max(0.5, float(np.nanmax(comp["relu"]["dormant"])) + 0.05))
    axes[1].axhline(0, color="0.85", lw=0.8)
    fig.suptitle("GRU rate function (filled: reached the learning criterion)", fontsize=9)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.12, top=0.82, wspace=0.25)
    return fig


# --- plots ----------------------------------------------------------------------------------
def _raster_image(states: dict[str, np.ndarray], first: int, trials: int,
                  order: np.ndarray) -> np.ndarray:
    """(units, trials x time) rates of `trials` trials from `first`, units in `order`; steps
    after a trial ended are NaN, so every trial takes the same width."""
    rates, mask = states["rates"], states["mask"].astype(bool)
    block = rates[:, first:first + trials][..., order].astype(float)   # (time, trials, units)
    block[~mask[:, first:first + trials]] = np.nan
    return block.transpose(2, 1, 0).reshape(len(order), -1)


class RasterFigure:
    """Rates of every unit (rows) over `trials` consecutive trials of one batch (each trial
    its full length, steps after it ended grey); exactly 0 is white. Dead units (0 on every
    valid step of the whole batch) are listed first and marked red.

    One figure for every network (same units and steps; one colour scale), drawn once: a move
    replaces only the image, the red marks and the title, the figure's pyrl_dynamic_artists
    (widgets.Demo blits them)."""

    def __init__(self, examples: dict[str, dict], trials: int = 6):
        self.examples, self.trials = examples, trials
        self.fig: plt.Figure | None = None
        self.order, self.dead = {}, {}
        for name, ex in examples.items():
            st = ex["states"]
            self.dead[name] = dead_units(st["rates"][:, None], st["mask"][:, None])[0]
            self.order[name] = np.argsort(~self.dead[name], kind="stable")
        # each network's rates on one colour scale: divided by its own 99th percentile
        self.scale = {name: max(float(np.percentile(ex["states"]["rates"][
            ex["states"]["mask"].astype(bool)], 99)), 1e-6) for name, ex in examples.items()}

    def _draw(self, network: str) -> plt.Figure:
        rates = self.examples[network]["states"]["rates"]
        steps, units = rates.shape[0], rates.shape[2]
        fig, ax = plt.subplots(figsize=(6.6, 3.3))
        # under vmin (exactly 0) is white; NaN (after the trial ended) is grey
        cmap = plt.get_cmap("viridis").with_extremes(under="white", bad="0.8")
        self.image = ax.imshow(np.zeros((units, self.trials * steps)), aspect="auto",
                               cmap=cmap, vmin=np.finfo(np.float32).tiny, vmax=1.0,
                               interpolation="nearest")
        for x in range(1, self.trials):
            ax.axvline(x * steps - 0.5, color="0.3", lw=1)
        self.marks = ax.plot([], [], "|", color="C3", ms=4, mew=2, clip_on=False)[0]
        ax.set(xlabel=f"time step ({self.trials} consecutive trials of {steps} steps, "
               "separated by dark lines)", ylabel="unit (dead units first)",
               xlim=(-1.8, self.trials * steps - 0.5), ylim=(units - 0.5, -0.5), yticks=[])
        ax.set_xticks(np.arange(0, self.trials * steps, steps))
        ax.set_title(f"one batch of {rates.shape[1]} trials (the line above: network, dead units)")
        fig.colorbar(self.image, ax=ax, pad=0.02, extend="max",
                     label="rate / network's 99th pct.")
        # the key sits below the axes, where it covers no data
        fig.legend(handles=[Line2D([], [], color="C3", marker="|", ls="", ms=8, mew=2,
                                   label="dead unit"),
                            Patch(facecolor="white", edgecolor="0.5", label="rate exactly 0"),
                            Patch(facecolor="0.8", label="after the trial ended")],
                   fontsize=7, loc="lower center", ncol=3, frameon=False)
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.27, top=0.9)
        dynamic = [self.image, self.marks]  # text is slow to draw: it stays in the background
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic
        return fig

    def __call__(self, network: str, first_trial: int = 0) -> plt.Figure:
        if self.fig is None:
            self.fig = self._draw(network)
        st, dead = self.examples[network]["states"], self.dead[network]
        if st["rates"].shape[::2] != (self.image.get_array().shape[1] // self.trials,
                                     self.image.get_array().shape[0]):
            raise ValueError(f"{network}: its units or steps differ from the figure's")
        self.image.set_data(_raster_image(st, first_trial, self.trials, self.order[network])
                            / self.scale[network])
        n_dead = int(dead.sum())
        self.marks.set_data(np.full(n_dead, -1.2), np.arange(n_dead))
        return self.fig

    def summary(self, network: str, first_trial: int = 0) -> str:
        st, dead = self.examples[network]["states"], self.dead[network]
        return (f"{network}: {int(dead.sum())} of {len(dead)} units dead (red) in the batch of "
                f"{st['rates'].shape[1]} trials; trials {first_trial}-"
                f"{first_trial + self.trials - 1} shown")


def plot_activity_raster(states: dict[str, np.ndarray], trials: int = 6,
                         title: str = "") -> plt.Figure:
    """The raster of the first `trials` trials of one batch (see RasterFigure)."""
    return RasterFigure({title: {"states": states}}, trials)(title, 0)


class DeadDemoFigure:
    """Left: dead (solid) and dormant (dashed) fraction and reward (dotted) over training, one
    colour per seed (the chosen seed thicker). Right: which units of the chosen seed are dead
    at each record (black = dead), most-dead units on top, same update axis.

    Drawn once, then updated in place: a move changes only the curves, the unit record and
    its title, the figure's pyrl_dynamic_artists (widgets.Demo blits them). The y range
    covers every stored run, so no move changes an axes limit.
    fig = DeadDemoFigure(sweeps)(network="GRU", kappa=0.0, entropy_coef=0.0, seed=0).
    """

    def __init__(self, sweeps: dict[str, SweepData]):
        self.sweeps = sweeps
        self.fig: plt.Figure | None = None
        rewards = np.concatenate([sweeps[name].h("reward").ravel() for name, *_ in
                                  NETWORKS.values()])
        self.ylim = (min(-0.05, float(np.nanmin(rewards)) - 0.05),
                     max(1.02, float(np.nanmax(rewards)) + 0.05))

    def _draw(self, ds: SweepData, idx: np.ndarray) -> plt.Figure:
        upd, rec = ds.update_axis(), record_updates(ds)
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7.6, 3.2))
        self.curves = []
        for j in range(len(idx)):
            self.curves.append([ax1.plot(upd, np.zeros_like(upd, dtype=float), color=f"C{j}",
                                         ls=ls, lw=1.0)[0] for ls in ("-", "--", ":")])
        ax1.axhline(0, color="0.85", lw=0.8)
        ax1.set(ylim=self.ylim, xlabel="update", ylabel="fraction of units / reward",
                title="over training, every seed (chosen: thick)")
        n_units = ds.arrays["unit_dead"].shape[2]
        self.image = ax2.imshow(np.zeros((n_units, len(rec))), aspect="auto", cmap="Greys",
                                vmin=0, vmax=1, interpolation="nearest",
                                extent=(rec[0], rec[-1] + rec[1], n_units, 0))
        ax2.set(yticks=[], xlabel="update", ylabel="unit (most often dead on top)",
                title="chosen seed: each unit over training")
        for ax in (ax1, ax2):
            ax.set_xticks([0, 300, 600] if rec[-1] + rec[1] <= 600 else [0, 500, 1000])
        key = ([Line2D([], [], color="0.2", ls="-", label="dead fraction"),
                Line2D([], [], color="0.2", ls="--", label="dormant fraction"),
                Line2D([], [], color="0.2", ls=":", label="reward / trial")]
               + [Line2D([], [], color=f"C{j}", label=f"seed {int(ds.arrays['seed'][i])}")
                  for j, i in enumerate(idx)]
               + [Patch(facecolor="black", label="unit dead"),
                  Patch(facecolor="white", edgecolor="0.5", label="unit alive")])
        # one key below both panels, where it covers no data
        fig.legend(handles=key, loc="lower center", ncol=len(key), fontsize=6.5, frameon=False,
                   handlelength=1.6, columnspacing=1.0)
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.27, top=0.9, wspace=0.2)
        dynamic = [line for trio in self.curves for line in trio] + [self.image]
        for artist in dynamic:
            artist.set_animated(True)
        fig.pyrl_dynamic_artists = dynamic
        return fig

    def __call__(self, network: str, kappa: float, entropy_coef: float,
                 seed: int = 0) -> plt.Figure:
        ds = self.sweeps[NETWORKS[network][0]]
        idx = runs_of(self.sweeps, network, kappa=kappa, entropy_coef=entropy_coef)
        if self.fig is None:
            self.fig = self._draw(ds, idx)
        if ds.arrays["unit_dead"].shape[1:] != self.image.get_array().shape[::-1] or \
                len(idx) != len(self.curves):
            raise ValueError(f"{network}: the stored runs do not share the figure's shape")
        for trio, i in zip(self.curves, idx, strict=True):
            lw = 2.0 if int(ds.arrays["seed"][i]) == seed else 1.0
            for line, name in zip(trio, ("dead_fraction", "dormant_fraction", "reward"),
                                  strict=True):
                line.set_ydata(ds.h(name)[i])
                line.set_linewidth(lw if name != "reward" else 0.8 * lw)
        sel = [i for i in idx if int(ds.arrays["seed"][i]) == seed]
        i = sel[0] if sel else idx[0]
        ud = ds.arrays["unit_dead"][i]                       # (points, N)
        order = np.argsort(-ud.mean(0), kind="stable")
        self.image.set_data(ud[:, order].T)
        return self.fig


def plot_dead_demo(sweeps: dict[str, SweepData], network: str, kappa: float,
                   entropy_coef: float, seed: int = 0) -> plt.Figure:
    """The dead demo's figure for one setting, drawn afresh (see DeadDemoFigure)."""
    return DeadDemoFigure(sweeps)(network, kappa, entropy_coef, seed)


def dead_summary(sweeps: dict[str, SweepData], network: str, kappa: float,
                 entropy_coef: float, seed: int = 0) -> str:
    """One line per seed: final dead fraction, units revived / ever dead, mode, reward."""
    ds = sweeps[NETWORKS[network][0]]
    idx = runs_of(sweeps, network, kappa=kappa, entropy_coef=entropy_coef)
    counts = revival_counts(ds.arrays["unit_dead"][idx])
    parts = []
    for j, i in enumerate(idx):
        mode = analysis.MODES[ds.mode[i]] if ds.mode[i] >= 0 else "stopped"
        parts.append(f"seed {int(ds.arrays['seed'][i])} (C{j}): dead "
                     f"{ds.final('dead_fraction')[i]:.2f}, revived {counts['revived'][j]}/"
                     f"{counts['ever_dead'][j]}, {mode}, reward {ds.final('reward')[i]:+.2f}")
    return (f"{network}, kappa={kappa:+.2f}, entropy_coef={entropy_coef:g} | "
            + " | ".join(parts))


def plot_revival(sweeps: dict[str, SweepData], lengths=(1, 2, 5, 10, 20)) -> plt.Figure:
    """Fraction of dead spells lasting at least L records that end with the unit alive."""
    fig, ax = plt.subplots(figsize=(4.6, 3.0))
    for j, network in enumerate(NETWORKS):
        ds = sweeps[NETWORKS[network][0]]
        rv = revival_by_spell_length(ds.arrays["unit_dead"][runs_of(sweeps, network)], lengths)
        stride = record_updates(ds)[1]
        ax.plot(rv["lengths"] * stride, rv["fraction"], "o-", color=f"C{j}", label=network)
    ax.set(xscale="log", xlabel="dead at every record for ... updates (records 10 apart)",
           ylim=(-0.02, 1.02),
           ylabel="fraction that came back", title="do dead units stay dead?")
    ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.15, right=0.97, bottom=0.16, top=0.9)
    return fig


def plot_dead_vs_outcome(table: dict[str, np.ndarray]) -> plt.Figure:
    """Final dead fraction against final reward for every run at the default learning rate
    (open markers: collapsed runs), plus the lr 0.1 runs of the controlled change (red x)."""
    fig, ax = plt.subplots(figsize=(5.8, 3.4))
    markers = {"GRU": "o", "SimpleRNN, relu readout": "s", "SimpleRNN, tanh readout": "^"}
    base = np.isclose(table["lr"], BASE_LR)
    for j, network in enumerate(NETWORKS):
        for col, label, face in ((True, "collapsed", "none"), (False, "other", None)):
            sel = base & (table["network"] == network) & (table["collapsed"] == col)
            if sel.any():
                ax.scatter(table["dead"][sel], table["reward"][sel], marker=markers[network],
                           s=22, edgecolors=f"C{j}", facecolors=face or f"C{j}",
                           label=f"{network}, {label}")
    fast = np.isclose(table["lr"], 0.1)
    ax.scatter(table["dead"][fast], table["reward"][fast], marker="x", color="C3", s=30,
               label="lr 0.1 (GRU and SimpleRNN)")
    ax.set(xlabel="final dead fraction", ylabel="final reward / trial", xlim=(-0.02, 0.8),
           title="open: collapsed; filled: converged or learning")
    ax.legend(fontsize=6, loc="center right")
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.15, top=0.9)
    return fig


OUTCOME_GROUPS = ("learning or converged", "collapsed: always aborts", "collapsed: other trap")


def outcome_groups(ds: SweepData) -> np.ndarray:
    """Index into OUTCOME_GROUPS per run: 0 not collapsed, 1 always aborting (one-step
    trials, so its units get one chance per trial to fire), 2 another trapped mode."""
    aborts = ds.mode == analysis.MODES.index("always_aborts")
    return np.where(~ds.collapsed, 0, np.where(aborts, 1, 2))


def plot_collapse_frequency(collapsed: dict[tuple[float, float], np.ndarray]) -> plt.Figure:
    """Fraction of runs collapsed per (kappa, entropy_coef) cell with its 95 % Wilson interval.
    collapsed: (kappa, entropy_coef) -> bool flags, one per independent seed."""
    from ..stats import wilson

    kappas = sorted({k for k, _ in collapsed})
    entropies = sorted({e for _, e in collapsed})
    fig, ax = plt.subplots(figsize=(4.6, 3.1), dpi=100)
    for j, e in enumerate(entropies):
        off = (j - (len(entropies) - 1) / 2) * 0.05
        xs, ys, lo, hi = [], [], [], []
        for k in kappas:
            flags = np.asarray(collapsed.get((k, e), []), dtype=bool)
            if len(flags):
                a, b = wilson(int(flags.sum()), len(flags))
                xs.append(k + off), ys.append(flags.mean()), lo.append(a), hi.append(b)
        ys, lo, hi = np.array(ys), np.array(lo), np.array(hi)
        ax.errorbar(xs, ys, yerr=[ys - lo, hi - ys], fmt="o-", color=f"C{j}", capsize=3,
                    ms=5, lw=1, label=f"entropy_coef {e:g}")
    n = {len(f) for f in collapsed.values()}
    ax.set(xlabel="kappa", ylabel="fraction of runs collapsed", ylim=(0, 1), xticks=kappas,
           title=f"{'/'.join(map(str, sorted(n)))} seeds per cell, 95 % intervals")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_dead_by_outcome(datasets: dict[str, SweepData]) -> plt.Figure:
    """Final dead fraction of every run, split by how the run ended (OUTCOME_GROUPS), one
    panel per dataset (label -> SweepData); a bar marks each group's median, the count of runs
    is under the group."""
    from ..plots import MODE_COLOURS

    colours = (MODE_COLOURS["learning"], MODE_COLOURS["always_aborts"], MODE_COLOURS["one_side"])
    top = max(float(np.nanmax(ds.final("dead_fraction"))) for ds in datasets.values())
    fig, axes = plt.subplots(1, len(datasets), figsize=(3.6 * len(datasets), 3.3), sharey=True,
                             squeeze=False, dpi=100)
    rng = np.random.default_rng(0)
    for ax, (label, ds) in zip(axes[0], datasets.items(), strict=True):
        group, dead = outcome_groups(ds), ds.final("dead_fraction")
        for g, colour in enumerate(colours):
            y = dead[group == g]
            if len(y):
                ax.scatter(g + rng.uniform(-0.18, 0.18, len(y)), y, s=16, color=colour,
                           edgecolors="0.2", linewidths=0.4)
                ax.plot([g - 0.3, g + 0.3], [np.median(y)] * 2, color="k", lw=1.5)
        ticks = [name.replace(": ", ":\n") + f"\n({int((group == g).sum())} runs)"
                 for g, name in enumerate(OUTCOME_GROUPS)]
        ax.set_xticks(range(len(OUTCOME_GROUPS)), ticks, fontsize=7)
        ax.set(xlim=(-0.6, len(OUTCOME_GROUPS) - 0.4), ylim=(0, top + 0.04), title=label)
        ax.title.set_fontsize(9)
    axes[0, 0].set_ylabel("final dead fraction (bar: median)")
    fig.tight_layout()
    return fig


def plot_lr_effect(sweeps: dict[str, SweepData]) -> plt.Figure:
    """Dead fraction over training at three policy learning rates (kappa 0), per network."""
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 2.9), sharey=True)
    lr_ds = sweeps["nb01_lr"]
    for ax, (network, ntype) in zip(axes, (("GRU", "gru"),
                                           ("SimpleRNN, relu readout", "simple")), strict=True):
        ds = sweeps[NETWORKS[network][0]]
        for j, lr in enumerate((0.001, BASE_LR, 0.1)):
            if math.isclose(lr, BASE_LR):
                src, idx = ds, runs_of(sweeps, network, kappa=0.0, entropy_coef=0.0)
            else:
                src, idx = lr_ds, lr_ds.select(network_type=ntype, lr=lr)
            for k, i in enumerate(idx):
                ax.plot(src.update_axis(), src.h("dead_fraction")[i], color=f"C{j}",
                        label=f"lr {lr:g}" if k == 0 else None)
        ax.set(xlabel="update", title=network, ylim=(-0.02, 1.02))
    axes[0].set_ylabel("dead fraction")
    axes[0].legend(fontsize=7)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.88, wspace=0.08)
    return fig


# --- Adam vs plain SGD -----------------------------------------------------------------------
OPTIMIZER_RUNS = ("Adam lr 0.01", "SGD lr 1", "SGD lr 3")
ADAM_EPS_RUN = "Adam eps 0.01"  # lr 0.01: small gradients step like SGD at lr 1


def optimizer_comparison(gru: SweepData, sgd: SweepData,
                         adam_eps: SweepData | None = None) -> dict[str, dict[str, np.ndarray]]:
    """The GRU with Adam (nb01_gru, lr 0.01, entropy_coef 0) and with plain SGD on the policy
    (nb01_sgd, lr 1 and 3), and, if given, Adam with eps 0.01 (nb01_adam_eps), same kappas and
    seeds, rows ordered by (kappa, seed) so they are paired. {label: {"kappa", "seed", "dead"
    (final), "max_dead" (over training), "reward", "collapsed", "dead_curve" (runs, records),
    "updates"}}."""
    out = {"Adam lr 0.01": _optimizer_pack(gru, gru.select(entropy_coef=0.0))}
    for lr, label in zip((1.0, 3.0), OPTIMIZER_RUNS[1:], strict=True):
        out[label] = _optimizer_pack(sgd, sgd.select(lr=lr))
    if adam_eps is not None:
        out[ADAM_EPS_RUN] = _optimizer_pack(adam_eps, np.arange(len(adam_eps.arrays["seed"])))
    return out


def _optimizer_pack(ds: SweepData, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Runs idx of ds ordered by (kappa, seed): final and largest dead fraction, reward,
    collapsed, the dead-fraction curve and its update axis."""
    kappa = ds.arrays["grid/kappa"][idx] if "grid/kappa" in ds.arrays else \
        np.full(len(idx), float(ds.meta.get("spec", {}).get("base", {}).get("kappa", 0.0)))
    order = np.lexsort((ds.arrays["seed"][idx], kappa))
    idx, kappa = idx[order], kappa[order]
    curve = ds.h("dead_fraction")[idx]
    return {"kappa": kappa, "seed": ds.arrays["seed"][idx],
            "dead": ds.final("dead_fraction")[idx], "max_dead": np.nanmax(curve, axis=1),
            "reward": ds.final("reward")[idx], "collapsed": ds.collapsed[idx],
            "dead_curve": curve, "updates": ds.update_axis()}


# the 20-seed comparison at kappa 0: default Adam is collapse_kappa's kappa-0 cell, the other
# two are collapse_optimizer's variants (same seeds, same 800 updates)
OPTIMIZER_SEEDS = ("Adam lr 0.01", ADAM_EPS_RUN, "SGD lr 1")


def optimizer_seeds(collapse_kappa: SweepData,
                    collapse_optimizer: SweepData) -> dict[str, dict[str, np.ndarray]]:
    """Default Adam, Adam at eps 0.01 and plain SGD at lr 1, kappa 0, rows ordered by seed so
    the three are paired run by run ({label: as optimizer_comparison's}); raises if the seeds
    differ."""
    out = {OPTIMIZER_SEEDS[0]: _optimizer_pack(collapse_kappa,
                                               collapse_kappa.select(kappa=0.0)),
           OPTIMIZER_SEEDS[1]: _optimizer_pack(collapse_optimizer, collapse_optimizer.select(
               policy_optimizer="adam", policy_adam_eps=0.01)),
           OPTIMIZER_SEEDS[2]: _optimizer_pack(collapse_optimizer, collapse_optimizer.select(
               policy_optimizer="sgd", lr=1.0))}
    seeds = [c["seed"].tolist() for c in out.values()]
    if any(sd != seeds[0] for sd in seeds):
        raise ValueError(f"the optimiser cells do not share their seeds: {seeds}")
    return out


def plot_optimizer_seeds(runs: dict[str, dict[str, np.ndarray]],
                         threshold: float = 0.02) -> plt.Figure:
    """Left: final dead fraction of every run per optimiser, grey lines joining the same seed.
    Right: the fraction of runs ending with more than `threshold` dead units and the fraction
    collapsed, each with its 95 % Wilson interval."""
    from ..stats import wilson

    labels = list(runs)
    x = np.arange(len(labels))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.2), dpi=100)
    dead = np.array([runs[lb]["dead"] for lb in labels])             # (optimisers, seeds)
    for p in range(dead.shape[1]):
        ax1.plot(x, dead[:, p], color="0.85", lw=0.7, zorder=1)
    for j in range(len(labels)):
        ax1.scatter(np.full(dead.shape[1], x[j]), dead[j], s=16, color=f"C{j}", zorder=2)
    ax1.set_xticks(x, labels, fontsize=8)
    ax1.set(ylabel="final dead fraction", ylim=(-0.01, max(0.1, float(np.nanmax(dead))) + 0.03),
            title=f"{dead.shape[1]} seeds (grey: the same seed)")
    for j, (key, name) in enumerate((("dead", f"ends with > {threshold:.0%} dead units"),
                                     ("collapsed", "collapsed"))):
        ks = [int(np.sum(runs[lb]["dead"] > threshold)) if key == "dead"
              else int(np.sum(runs[lb]["collapsed"])) for lb in labels]
        n = [len(runs[lb]["dead"]) for lb in labels]
        rate = np.array(ks) / np.array(n)
        lo, hi = np.array([wilson(k, m) for k, m in zip(ks, n, strict=True)]).T
        off = (j - 0.5) * 0.3
        ax2.bar(x + off, rate, 0.28, color=("0.35", "C3")[j], label=name)
        ax2.errorbar(x + off, rate, yerr=[rate - lo, hi - rate], fmt="none", color="k",
                     capsize=3, lw=1)
    ax2.set_xticks(x, labels, fontsize=8)
    ax2.set(ylim=(0, 1.3), ylabel="fraction of runs", title="with 95 % intervals")
    ax2.legend(fontsize=7, loc="upper center", ncol=2)
    for ax in (ax1, ax2):
        ax.title.set_fontsize(9)
    fig.tight_layout()
    return fig


def plot_optimizer_comparison(comp: dict[str, dict[str, np.ndarray]]) -> plt.Figure:
    """Dead fraction over training (one line per run) and final reward against final dead
    fraction (x: collapsed), Adam vs SGD."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 2.9))
    for j, (label, c) in enumerate(comp.items()):
        eps_run = label == ADAM_EPS_RUN  # dashed and hollow: it lies on top of SGD lr 1
        for k, curve in enumerate(c["dead_curve"]):
            ax1.plot(c["updates"], curve, color=f"C{j}", lw=1, ls="--" if eps_run else "-",
                     label=label if k == 0 else None)
        ok = ~c["collapsed"]
        ax2.scatter(c["dead"][ok], c["reward"][ok], label=label, s=30 if eps_run else 22,
                    facecolors="none" if eps_run else f"C{j}", edgecolors=f"C{j}")
        ax2.scatter(c["dead"][~ok], c["reward"][~ok], color=f"C{j}", marker="x", s=30)
    top = max(float(np.nanmax(c["dead_curve"])) for c in comp.values())
    ax1.set(xlabel="update", ylabel="dead fraction", ylim=(-0.02, max(0.5, top + 0.02)),
            title="dead units over training")
    ax2.set(xlabel="final dead fraction", ylabel="final reward",
            title="outcome (x: collapsed)")
    ax1.legend(fontsize=7)
    fig.tight_layout()
    return fig


def weight_displacement(updates: int = 100, seed: int = 0,
                        progress: bool = False) -> dict[str, dict[str, float]]:
    """Train the default GRU with Adam (lr 0.01), with SGD (lr 1) and with Adam at eps 0.01
    (lr 0.01) from the same initial weights and trials, and return the mean |change| of each
    parameter group after `updates` updates: {label: {group: value}}, groups as in
    networks.param_groups."""
    settings = {"Adam lr 0.01": TrainSettings(updates=updates, seed=seed),
                "SGD lr 1": TrainSettings(updates=updates, seed=seed, lr=1.0,
                                          policy_optimizer="sgd"),
                ADAM_EPS_RUN: TrainSettings(updates=updates, seed=seed, policy_adam_eps=0.01)}
    start = Ensemble([settings["Adam lr 0.01"]]).params
    result = train(list(settings.values()), progress=progress)
    out = {}
    for k, label in enumerate(settings):
        out[label] = {}
        for group, names in nets.param_groups(start).items():
            diffs = torch.cat([(result.params[n][k] - start[n][0].detach()).abs().flatten()
                               for n in names])
            out[label][group] = float(diffs.mean())
    return out


# --- demos ----------------------------------------------------------------------------------
def dead_demo(sweeps: dict[str, SweepData] | None = None) -> Demo:
    """Network dropdown, kappa and entropy_coef sliders, seed: curves and the unit record."""
    sweeps = sweeps or load_all()
    gru = sweeps["nb01_gru"]
    seeds = sorted(set(gru.arrays["seed"].tolist()))
    figure = DeadDemoFigure(sweeps)
    return Demo(lambda **v: figure(**v),
                summary_fn=lambda **v: dead_summary(sweeps, **v),
                network=W.Dropdown(options=list(NETWORKS), value="GRU", description="network"),
                kappa=kappa_slider(gru.values("kappa"), 0.0),
                entropy_coef=entropy_slider(gru.values("entropy_coef"), 0.0),
                seed=W.Dropdown(options=seeds, value=seeds[0], description="seed"))


def raster_demo(examples: dict[str, dict]) -> Demo:
    """Dropdown over the example networks, slider over the first trial shown."""
    figure = RasterFigure(examples)
    n = next(iter(examples.values()))["states"]["rates"].shape[1]
    return Demo(figure, summary_fn=figure.summary,
                network=W.Dropdown(options=list(examples), value=list(examples)[0],
                                   description="network"),
                first_trial=W.IntSlider(min=0, max=n - figure.trials, value=0,
                                        description="first trial", continuous_update=True))


def live_run_widget() -> LiveRun:
    """A button that trains one network with the reader's settings and records dead units."""
    def run(progress, network, kappa, entropy_coef, lr, updates):
        progress.max = int(updates)
        progress.value = 0
        s = TrainSettings(updates=int(updates), kappa=kappa, entropy_coef=entropy_coef,
                          lr=lr, seed=0).replace(**NETWORKS[network][2])

        def tick(update, row):
            progress.value = update + 1

        return train(s, progress=False, callback=tick, record_units=True)

    def show(result: TrainResult):
        return plot_live_result(result)

    return LiveRun(run, show, description="Train",
                   network=W.Dropdown(options=list(NETWORKS), value="SimpleRNN, relu readout",
                                      description="network"),
                   kappa=float_slider("kappa", -0.9, 0.9, 0.05, -0.4),
                   entropy_coef=float_slider("entropy_coef", 0.0, 0.1, 0.005, 0.0, fmt=".3f"),
                   lr=float_slider("lr", 0.001, 0.1, 0.001, 0.01, fmt=".3f"),
                   updates=float_slider("updates", 50, 1000, 50, 200, fmt=".0f"))


def plot_live_result(result: TrainResult) -> plt.Figure:
    """Dead and dormant fraction and the unit record of a live run (one network)."""
    h = result.history
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.0, 2.9))
    u = np.arange(result.updates_done)
    ax1.plot(u, h["dead_fraction"][:, 0], label="dead")
    ax1.plot(u, h["dormant_fraction"][:, 0], ls="--", label="dormant")
    ax1.plot(u, h["reward"][:, 0], color="0.5", lw=0.8, label="reward")
    ax1.set(xlabel="update", ylabel="fraction of units / reward")
    ax1.legend(fontsize=7)
    ud = result.unit_dead[:, 0]
    order = np.argsort(-ud.mean(0), kind="stable")
    ax2.imshow(ud[:, order].T, aspect="auto", cmap="Greys", vmin=0, vmax=1,
               interpolation="nearest")
    c = revival_counts(ud[None])
    ax2.set(xlabel="update", ylabel="unit (most often dead on top)", yticks=[],
            title=f"{int(c['revived'][0])} of {int(c['ever_dead'][0])} dead units came back")
    ax2.legend(handles=[Patch(facecolor="black", label="dead"),
                        Patch(facecolor="white", edgecolor="0.5", label="alive")],
               fontsize=6, loc="lower right", framealpha=0.9)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.88, wspace=0.2)
    return fig


def demos(examples: dict[str, dict] | None = None) -> dict[str, Demo]:
    """Every demo of the notebook, built on the precomputed data (the raster demo trains the
    four small example networks first, a few seconds, unless `examples` is given)."""
    sweeps = load_all()
    return {"dead": dead_demo(sweeps),
            "raster": raster_demo(examples if examples is not None else train_examples())}
