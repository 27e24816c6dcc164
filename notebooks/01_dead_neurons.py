# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %%
# Outside the repository (Colab, Binder, a plain Jupyter) pyrl_mini may be missing: this cell
# then installs the wheel your course handed out, put next to this notebook (README: "Without
# make"). With pyrl_mini installed it does nothing.
try:
    import pyrl_mini  # noqa: F401
except ImportError:
    # %pip install pyrl_mini-*.whl

# %% [markdown]
# # 01 · Dead ReLU units: do they die, stay dead, and trap the network?
#
# A ReLU unit whose state x is negative fires relu(x) = 0 and passes no gradient. The first
# suspect of the written analysis (upstream's diagnosis, notebook 00): units go negative, stay
# there, and the network stops learning.
#
# **Learning objectives.** You will
# 1. compute dead and dormant units;
# 2. test with paired seeds whether they stay dead, whether negative kappa kills them and
#    whether they go with the trap;
# 3. find what does kill them.
#
# **Prerequisites.** Notebooks 00 and 00b (its glossary and "How we count"). **Time:** about 48
# minutes with the exercises, as one reader working as a student measured it (section by
# section in the headings); Run All takes about 20 s (more on a busy machine).
#
# > **From notebooks 00 and 00b** (00b's Glossary and How we count)
# > - *kappa*: the risk setting; kappa < 0 is risk-seeking.
# > - *aborting*: breaking fixation, which ends the trial.
# > - *trapped*: a run whose behaviour ignores the offer: it never chooses, always aborts or
# >   always picks one side.
# > - *entropy bonus* (`entropy_coef`): a reward for an uncertain policy.
# > - *seed blocks*: the 40 seeds as two blocks of 20, each a replication.
# > - *sign test*, *McNemar*: paired tests on seeds; *Wilson*: the 95 % interval of k of n.
# > - *verdict N*: notebook 05's judgement of the analysis's N-th claim (10-12: the
# >   collection's own).

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import to_rgba

from pyrl_mini import analysis, data, diagnostics, plots, stats, widgets
from pyrl_mini.config import TrainSettings
from pyrl_mini.exercises import nb01 as exercises
from pyrl_mini.networks import param_groups
from pyrl_mini.trainer import Ensemble, evaluate, train

torch.set_num_threads(1)  # one thread: training sums in the same order on every run

# %% [markdown]
# ## 1. The suspect (2 min)
#
# *Upstream* is the original pyrl code this collection re-implements; the written analysis
# of it says: "Once a neuron goes negative, it stays "dead" (no gradient flow)", and "Some
# neurons may become negative → ReLU kills them" at negative kappa. It exempts the GRU ("uses
# tanh"), but in the pyrl GRU too a unit's *rate*, its output, is relu(x): we test the GRU and
# a leaky SimpleRNN (its state keeps part of its last value each step).
#
# ## 2. Dead and dormant (13 min)
#
# For one network's rates r (time, trials, units) on one batch, over the *valid* steps (before
# each trial ends), with a bar for their mean:
#
# $$\text{dead}_i \iff \max r_{t,b,i} = 0, \qquad
# \text{dormant}_i \iff \overline{|r_i|} \le 0.1 \cdot \tfrac{1}{N}\sum_k \overline{|r_k|} .$$
#
# The dormant score is Sokar et al.'s (2023); every dead unit is dormant.
#
# The **readout** turns the units into action probabilities, softmax(W_out · r + b_out). Both
# networks' dynamics run on r = relu(x), so "dead" means the same for both; the GRU's readout
# reads relu(x) too, the SimpleRNN's relu(x) or, as upstream's does, tanh(x).
#
# ### Exercise 1: dead and dormant fractions
#
# Write `dead_and_dormant(rates, mask)` for one network: rates (time, trials, units), mask
# (time, trials) with 1.0 on valid steps, both torch tensors. Return a tuple of two floats:
# (dead fraction, dormant fraction), each a fraction of the units (0 to 1), not a count.
# Hint: multiply |rates| by the mask (broadcast over units) so that steps after a trial ended
# count as 0, then reduce over time and trials (dims 0 and 1) to one number per unit.

# %%
def dead_and_dormant(rates: torch.Tensor, mask: torch.Tensor) -> tuple[float, float]:
    """(fraction of dead units, fraction of dormant units: threshold 0.1) on valid steps."""
    ...


# %%
dead_and_dormant = exercises.dead_and_dormant.check(dead_and_dormant)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# def dead_and_dormant(rates, mask):
#     active = rates.abs() * mask.unsqueeze(-1)          # zero after a trial ended
#     dead = active.amax(dim=(0, 1)) == 0                 # (units,)
#     mean_abs = active.sum(dim=(0, 1)) / mask.sum()      # (units,)
#     dormant = mean_abs / mean_abs.mean() <= 0.1
#     return dead.float().mean().item(), dormant.float().mean().item()
# ```
# </details>
#
# On four networks trained here for 40 updates (the GRU at lr 0.01 and 0.1, the SimpleRNN
# with each readout at the default lr 0.01), one batch of 256 trials each:

# %%
examples = widgets.train_unit_examples(updates=40)   # {label: settings, params, states}
fractions = {}
for label, ex in examples.items():
    st = ex["states"]
    rates, mask = torch.as_tensor(st["rates"]), torch.as_tensor(st["mask"], dtype=torch.float32)
    fractions[label] = dead_and_dormant(rates, mask)
    n_units = rates.shape[-1]
    print(f"{label:24s} dead {fractions[label][0]:.2f} ({round(fractions[label][0] * n_units)}"
          f" of {n_units} units), dormant {fractions[label][1]:.2f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
for label, ex in examples.items():
    st = ex["states"]
    dead, dormant_fraction = diagnostics.dead_and_dormant(
        torch.as_tensor(st["rates"])[:, None], torch.as_tensor(st["mask"])[:, None])
    dead = dead[0].numpy()
    active = np.abs(st["rates"]) * st["mask"][..., None]              # (time, trials, units)
    mean_abs = active.sum(axis=(0, 1)) / st["mask"].sum()
    dormant = mean_abs / mean_abs.mean() <= diagnostics.DORMANT_TAU   # ReDo, per unit
    assert np.isclose(dormant.mean(), float(dormant_fraction[0]))
    assert np.isclose(fractions[label][0], dead.mean()) and np.isclose(fractions[label][1],
                                                                       dormant.mean())
    # a dead unit is flat at zero on every valid step of every trial of the batch
    assert np.all(st["rates"][st["mask"].astype(bool)][:, dead] == 0)
    assert not (dead & ~dormant).any(), "every dead unit is dormant"
# after 40 updates the fast GRU already has more dead units than the GRU at lr 0.01
assert fractions["GRU, lr 0.1"][0] > fractions["GRU, lr 0.01"][0]
# the two SimpleRNNs, which differ only in their readout, have about as many dead units
simple_dead = [fractions[f"SimpleRNN, {r} readout"][0] for r in ("relu", "tanh")]
assert abs(simple_dead[0] - simple_dead[1]) < 0.05

# %% [markdown]
# After only 40 updates the GRU at lr 0.1 has far more dead units than at lr 0.01, and the
# two SimpleRNNs have about as many at this one moment: "dead" is about the dynamics, not the
# readout.

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# Helper: one network's dead flags on one batch (the library's count, as in Exercise 1).
def dead_units(rates, mask) -> np.ndarray:
    """Dead flags (units,) of one network: rate exactly 0 on every valid step of the batch.
    rates (time, trials, units), mask (time, trials) 1 on valid steps."""
    dead, _ = diagnostics.dead_and_dormant(torch.as_tensor(rates)[:, None],
                                           torch.as_tensor(mask, dtype=torch.float32)[:, None])
    return dead[0].numpy()


# %% [markdown]
# ## 3. Do dead units stay dead? (6 min)
#
# A ReLU unit passes gradient only through relu(x), and relu'(x) = 0 for x < 0: with a relu
# readout, a unit dead on every step of a batch gets exactly zero gradient on its incoming
# weights (Bonus I checks it).
#
# Yet its state x keeps moving: each step mixes in the other units' rates, the inputs and
# noise, x_t = (1 - alpha) x_{t-1} + alpha (relu(x_{t-1}) W_rec + u_t W_in + b + noise_t),
# where **alpha** = dt / tau is the fraction of the state renewed per step (in the GRU, its
# update gate scales alpha). So x_i can cross zero again.
#
# Stored runs (12 per network: kappa -0.4, 0, +0.4, entropy_coef 0 or 0.05, 2 seeds, lr 0.01,
# 600 updates) record every unit's dead flag every 10 updates. A unit *came back* if it is
# dead at one record and alive at a later one:

# %%
gru, simple = data.load("nb01_gru"), data.load("nb01_simple")
networks = {"GRU": gru, "SimpleRNN, relu readout": simple.subset(readout_rate="relu"),
            "SimpleRNN, tanh readout": simple.subset(readout_rate="tanh")}
revived = {}
for network, ds in networks.items():
    unit_dead = ds.arrays["unit_dead"]           # (runs, records 10 updates apart, units)
    died, came_back = analysis.revived_units(unit_dead)              # (runs, units) each
    revived[network] = came_back.sum() / died.sum()
    print(f"{network:24s} {died.sum()} of {died.size} (run, unit) pairs died, "
          f"{revived[network]:.0%} came back")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# In every network 45-58 % of the units that died came back later (the prose's range).
assert (round(min(revived.values()), 2), round(max(revived.values()), 2)) == (0.45, 0.58)
# the GRU's fraction is verdict 1's "revived fraction" number, counted the same way
from pyrl_mini.verdicts import revived_fraction

assert np.isclose(revived["GRU"], revived_fraction(gru, np.arange(len(gru.mode))))
# the readouts (prose): more pairs die under tanh, yet about as many units are dead at an
# average record, and more of the dead come back
readout_died = [int(analysis.revived_units(networks[f"SimpleRNN, {r} readout"].arrays[
    "unit_dead"])[0].sum()) for r in ("tanh", "relu")]
assert readout_died == [445, 303]
readout_dead_now = [np.nanmean(networks[f"SimpleRNN, {r} readout"].arrays["unit_dead"])
                    for r in ("tanh", "relu")]
assert abs(readout_dead_now[0] - readout_dead_now[1]) < 0.05
assert [round(100 * revived[f"SimpleRNN, {r} readout"]) for r in ("tanh", "relu")] == [57, 45]

# %% [markdown]
# Between 45 and 58 % of the units that died came back: "stays dead" does not hold as stated.
# The tanh readout's larger count (445 against 303) is turnover, not more dead at a time
# (about as many are dead at an average record): more of its dead units come back (57 against
# 45 %), perhaps because a tanh-read dead unit keeps a small gradient (Bonus I, an extension).
#
# ## 4. Does negative kappa kill units? (7 min)
#
# The claim predicts more dead units at kappa -0.4 than at +0.4. From here on the GRU's
# numbers rest on **40 seeds in two blocks** (lr 0.01, no entropy bonus, 800 updates), each
# seed trained at kappa -0.4, 0 and +0.4: runs pair up by seed.

# %%
ck = data.load("collapse_kappa")  # the stored runs; ck.by_seed(kappa=k): the rows at kappa k,
# one per seed in seed order; ck.final(name): each run's last record; ck.trapped: each run's
# trapped flag; ck.block: its seed block
kappa_test = {}                  # block (0: pooled) -> (mean, s.e., more at -0.4, at +0.4, p)
for block in (1, 2, 0):
    only = {"block": block} if block else {}
    low, high = (ck.final("dead_fraction")[ck.by_seed(kappa=k, **only)] for k in (-0.4, 0.4))
    diff = low - high                                # one number per seed: paired
    more_low, more_high = int(np.sum(diff > 0)), int(np.sum(diff < 0))
    kappa_test[block] = (diff.mean(), diff.std(ddof=1) / np.sqrt(len(diff)), more_low,
                         more_high, stats.sign_test(more_low, more_high))
m, se, more_low, more_high, p = kappa_test[0]
n_seeds = len(ck.by_seed(kappa=-0.4))          # every seed, both blocks
print(f"{n_seeds} seeds: dead(-0.4) - dead(+0.4) = {m:+.3f} +- {se:.3f} (s.e.); more dead "
      f"units at -0.4 on {more_low} seeds, at +0.4 on {more_high}, tied on "
      f"{n_seeds - more_low - more_high} (sign test p = {p:.2f})")
print(f"sign test per block of 20: p = {kappa_test[1][4]:.2f} and {kappa_test[2][4]:.2f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# each row pairs one seed with itself at the two kappas; 40 distinct seeds in blocks of 20
assert np.array_equal(*(ck.arrays["seed"][ck.by_seed(kappa=k)] for k in (-0.4, 0.4)))
assert len(low) == 40 and len(set(ck.arrays["seed"].tolist())) == 40 and ck.blocks == [1, 2]
kappa_mean, kappa_se, more_low, more_high, kappa_p = kappa_test[0]
assert (round(kappa_mean, 3), round(kappa_se, 3)) == (-0.003, 0.014)
assert (more_low, more_high, len(low) - more_low - more_high) == (17, 21, 2)
assert round(kappa_p, 2) == 0.63
assert [round(kappa_test[b][4], 2) for b in (1, 2)] == [0.24, 0.82]
# no effect detectable, pooled or in either block, and small next to the spread between runs
assert all(t[4] > 0.05 and abs(t[0]) < 2 * t[1] for t in kappa_test.values())
assert low.max() - low.min() > 10 * abs(kappa_mean)

# %% [markdown]
# Negative kappa does not kill units: -0.003 +- 0.014 over 40 seeds, more dead units at -0.4
# on 17 seeds and at +0.4 on 21 (2 ties; p = 0.63); neither block alone finds an effect
# (p = 0.24 and 0.82).

# %% [markdown]
# ## 5. Do dead units go with the trap? (7 min)
#
# If dead units cause the trap, trapped runs should be the deadest. We compare all 120 runs
# of section 4, trapped and healthy (not trapped), by the **AUC**: the probability that a
# random trapped run has a higher final dead fraction than a random healthy one, ties
# counting one half; 1 separates perfectly, 0.5 is a coin. Bonus A has you write it.

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# Helpers: a k-of-n count with its blocks, and what the comparisons read of each run.
def per_block(flags, block) -> str:
    """'k of n (interval; blocks k1 and k2)' of one flag per run; block: each run's block."""
    return (f"{str(stats.frequency(flags))[:-1]}; blocks "
            + " and ".join(str(int(np.sum(flags[block == b]))) for b in np.unique(block)) + ")")


def per_run(ds, rows) -> dict[str, np.ndarray]:
    """What the comparisons below read of the runs `rows` of ds, in that order."""
    curve = ds.h("dead_fraction")[rows]                   # (runs, points 10 updates apart)
    return {"seed": ds.arrays["seed"][rows],
            **{name: ds.arrays["grid/" + name][rows] for name in ds.grid_names},
            "dead": ds.final("dead_fraction")[rows], "max_dead": np.nanmax(curve, axis=1),
            "dormant": ds.final("dormant_fraction")[rows], "reward": ds.final("reward")[rows],
            "trapped": ds.trapped[rows], "criterion": ds.arrays["updates_to_criterion"][rows],
            "dead_curve": curve, "updates": ds.update_axis()}


def outcome_group(ds) -> np.ndarray:
    """Per run: 0 not trapped; 1 trapped, always aborting (one-step trials, so a unit gets
    one chance per trial to fire); 2 trapped in another mode."""
    aborts = ds.mode == analysis.MODES.index("always_aborts")
    return np.where(~ds.trapped, 0, np.where(aborts, 1, 2))


# %% [markdown]
# An always-aborting trial lasts one step, one chance for a unit to fire, which alone can make
# it look deader; so we also score the other trapped runs. The folded `outcome_group` labels
# each run 0 (not trapped), 1 (always aborts) or 2 (trapped otherwise):

# %%
g0, dead0 = outcome_group(ck), ck.final("dead_fraction")        # one entry per run
auc_all = stats.auc(dead0[g0 > 0], dead0[g0 == 0])               # every trapped run
auc_other = stats.auc(dead0[g0 == 2], dead0[g0 == 0])            # not always aborting
print(f"{np.sum(g0 > 0)} trapped ({np.sum(g0 == 1)} always abort): median dead "
      f"{np.median(dead0[g0 > 0]):.2f} against {np.median(dead0[g0 == 0]):.2f}; "
      f"AUC {auc_all:.2f}")
print(f"the {np.sum(g0 == 2)} trapped runs that do not always abort: AUC {auc_other:.2f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert len(g0) == 120 and [int(np.sum(g0 == g)) for g in (1, 2)] == [30, 8]
assert (round(np.median(dead0[g0 > 0]), 2), round(np.median(dead0[g0 == 0]), 2)) == (0.22, 0.16)
assert [round(a, 2) for a in (auc_all, auc_other)] == [0.68, 0.79]
# fewer observed steps can only make a unit look deader (why always-aborting runs are set aside)
st = examples["SimpleRNN, relu readout"]["states"]
valid = st["mask"].astype(bool)
first_step = valid & (np.cumsum(valid, axis=0) <= 1)
assert dead_units(st["rates"], first_step).mean() >= dead_units(st["rates"], valid).mean()

# %% [markdown]
# Trapped runs end with more dead units (median 0.22 against 0.16, AUC 0.68), and the 8 that
# do not always abort separate better (0.79, on only 8 runs), so one-step trials do not make
# the link. Dead units go with the trap; that does not show they cause it.
#
# **Think!** Why are 8 trapped runs too few to call an AUC of 0.79 a strong separation?
#
# <details><summary>Answer</summary>
#
# Each trapped run carries an eighth of the AUC: a few more trapped runs at low dead
# fractions would pull it toward 0.5; with so few runs, the AUC moves a lot from one small
# group to another.
# </details>

# %% [markdown]
# ## 6. What does kill units? (9 min)
#
# Here we test the optimiser. Plain SGD moves a weight by lr x gradient; Adam by
# lr x m / (sqrt(v) + eps), with m and v running means of that weight's gradient and of its
# square (eps = 1e-8 by default). The GRU at kappa 0 on section 4's 40 seeds, paired: default
# Adam at lr 0.01; Adam with eps 0.01; SGD at lr 1. For a gradient far below eps, Adam's step
# is about lr / eps x gradient: Adam at eps 0.01 then steps like SGD at lr 1.
#
# ### Exercise 2 (prediction): Adam or SGD?
#
# Before the next cell: will more units end dead under default Adam or under plain SGD, seed
# by seed? Set `deadlier_optimizer` to "Adam", "SGD" or "same".

# %%
deadlier_optimizer = ...  # "Adam", "SGD" or "same"

# %%
deadlier_optimizer = exercises.deadlier_optimizer.check(deadlier_optimizer)

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# Prepares `opt20`: per optimiser, its 40 runs in seed order (final dead fraction, trapped, ...).
variants = data.load("collapse_optimizer")   # kappa 0, on the 40 seeds of collapse_kappa
opt20 = {"Adam lr 0.01": per_run(ck, ck.by_seed(kappa=0.0)),
         "Adam eps 0.01": per_run(variants, variants.by_seed(policy_optimizer="adam",
                                                             policy_adam_eps=0.01)),
         "SGD lr 1": per_run(variants, variants.by_seed(policy_optimizer="sgd", lr=1.0))}
opt_blocks = ck.block[ck.by_seed(kappa=0.0)]  # each seed's block, in seed order

# %% [markdown]
# Each optimiser against default Adam on the same 40 seeds (p: McNemar on the trapped runs):

# %%
adam = opt20["Adam lr 0.01"]                   # per seed: final dead fraction, trapped flag
for label in ("SGD lr 1", "Adam eps 0.01"):
    c = opt20[label]
    fewer = int(np.sum(c["dead"] < adam["dead"]))                  # seeds, paired
    over = [int(np.sum(runs["dead"] > 0.1)) for runs in (c, adam)]  # runs above 10 % dead
    t = stats.mcnemar(adam["trapped"], c["trapped"])                # paired trapped flags
    print(f"{label}: fewer dead units than Adam on {fewer} of 40 seeds; runs > 10 % dead "
          f"{over[0]} (Adam {over[1]}); trapped {int(c['trapped'].sum())} "
          f"(Adam {int(adam['trapped'].sum())}; p = {t[2]:.1g})")

# %% [markdown]
# <details><summary>Answer</summary>
#
# Adam, on every seed (the cell above counts them). With eps = 1e-8, m / sqrt(v) is about 1
# in size, so every weight steps by about lr however small its gradient; SGD's step shrinks
# with the gradient. Weights that matter little then random-walk under Adam and can hold a
# unit below zero for hundreds of updates. With eps = 0.01, gradients far below eps get SGD's
# step; large ones keep Adam's.
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
eps20, sgd20 = opt20["Adam eps 0.01"], opt20["SGD lr 1"]
trap_tests = {}                   # (label, block 0: pooled) -> McNemar (Adam only, other, p)
for label in ("Adam eps 0.01", "SGD lr 1"):
    for b in (1, 2, 0):
        keep = opt_blocks == b if b else np.ones(len(opt_blocks), dtype=bool)
        trap_tests[label, b] = stats.mcnemar(adam["trapped"][keep],
                                             opt20[label]["trapped"][keep])
assert trap_tests["Adam eps 0.01", 0] == stats.mcnemar(adam["trapped"], eps20["trapped"])
assert all(len(c["seed"]) == 40 and np.array_equal(c["seed"], adam["seed"])
           for c in opt20.values())
# the runs verdict 1 counts (datasets.collapse.variant_rows picks the same rows)
from pyrl_mini.datasets.collapse import COLLAPSE_OPTIMIZER, OPTIMIZER_VARIANTS, variant_rows

for label in ("Adam eps 0.01", "SGD lr 1"):
    rows = variant_rows(variants, COLLAPSE_OPTIMIZER, OPTIMIZER_VARIANTS, label)
    assert np.array_equal(variants.final("dead_fraction")[rows], opt20[label]["dead"])
# default Adam: every run ends with 5-44 % dead units; > 10 %: 16/20, 19/20, 35 of 40
big = {label: c["dead"] > 0.1 for label, c in opt20.items()}
assert (round(adam["dead"].min(), 2), round(adam["dead"].max(), 2)) == (0.05, 0.44)
assert [int(big["Adam lr 0.01"][opt_blocks == b].sum()) for b in (1, 2)] == [16, 19]
assert str(stats.frequency(big["Adam lr 0.01"])) == "35 of 40 (74-95 %)"
assert not big["Adam eps 0.01"].any() and not big["SGD lr 1"].any()
# Adam eps 0.01: 34 of 40 end with no dead unit, none with more than 2 %, none above 4 % during
# training; fewer dead units than default Adam on every seed, by at least 4.9 points
assert int(np.sum(eps20["dead"] == 0)) == 34 and eps20["dead"].max() <= 0.02 + 1e-6
assert eps20["max_dead"].max() < 0.04 and np.all(adam["dead"] - eps20["dead"] > 0.049)
# SGD lr 1: 38 of 40 end with at most 2 %, none above 5 %; fewer than default Adam on every seed
assert int(np.sum(sgd20["dead"] <= 0.02 + 1e-6)) == 38 and sgd20["dead"].max() < 0.05
assert np.all(sgd20["dead"] < adam["dead"])
assert stats.sign_test(40, 0) < 1e-11 and stats.sign_test(20, 0) < 1e-5   # pooled, per block
# trapped: default Adam 13 of 40; Adam eps 0.01 1 (12 seeds against 0, p = 0.0005; 6 against 0
# in each block); SGD 4 (9 against 0, p = 0.004; 5 and 4 against 0 in the blocks). Both blocks
# point the way of the pooled test (replicated in the sense of verdicts.py).
assert int(adam["trapped"].sum()) == 13
assert (int(eps20["trapped"].sum()), int(sgd20["trapped"].sum())) == (1, 4)
assert [trap_tests["Adam eps 0.01", b][:2] for b in (1, 2, 0)] == [(6, 0), (6, 0), (12, 0)]
assert [trap_tests["SGD lr 1", b][:2] for b in (1, 2, 0)] == [(5, 0), (4, 0), (9, 0)]
assert round(trap_tests["Adam eps 0.01", 0][2], 4) == 0.0005
assert round(trap_tests["SGD lr 1", 0][2], 3) == 0.004

# %% [markdown]
# Default Adam ends 35 of 40 runs with more than 10 % dead units; SGD and Adam at eps 0.01
# none, with fewer dead units on all 40 seeds. At eps 1e-8 a tiny v makes even a tiny gradient
# a full-size step: Adam moves every weight by about lr (equal-size steps), SGD by less the
# smaller its gradient. Both are also trapped less often (4 and 1 against 13 of 40; p = 0.004
# and 0.0005), but that does not show that dead units cause the trap: eps changes every
# weight's step, not only the dead units'.
#
# **Verdict 1** ("ReLU units die and stay dead; negative kappa kills them"; notebook 05):
# **partly**. Units die of Adam's equal-size steps, not of kappa (section 4), and many come
# back (section 3).

# %% [markdown]
# ## Summary
#
# - Units die in every network, the GRU too; 45-58 % of those that die come back, and kappa
#   does not kill them (p = 0.63).
# - Trapped runs end with more dead units (AUC 0.68; 0.79 without the always-aborting runs,
#   on only 8 runs):
#   dead units go with the trap; nothing here shows that they cause it.
# - Adam's equal-size steps kill units (35 of 40 runs above 10 % dead; Adam at eps 0.01 and
#   SGD: none). Verdict 1: **partly**.
#
# Bonus M tests verdict 2: does upstream's relu/tanh readout mismatch cost the SimpleRNN?
#
# Next: notebook 02, the second suspect: a small readout W_out.

# %% [markdown]
# ## Bonus A: two statistics by hand
#
# ### Exercise 3: how well does a number separate two groups?
#
# Section 5's AUC is the probability that a random trapped run has a higher dead fraction than
# a random healthy (not trapped) one, ties counting one half: 1 separates perfectly, 0.5 is a
# coin. Write `separation_auc(trapped, healthy)`: two 1-d arrays of final dead fractions
# (any lengths) in, one float out.

# %%
def separation_auc(trapped, healthy) -> float:
    """P(dead fraction of a random trapped run > that of a random healthy run), ties 1/2."""
    ...


# %%
separation_auc = exercises.separation_auc.check(separation_auc)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# def separation_auc(trapped, healthy):
#     a = torch.as_tensor(trapped, dtype=torch.float64).view(-1, 1)
#     b = torch.as_tensor(healthy, dtype=torch.float64).view(1, -1)
#     return ((a > b).double().mean() + 0.5 * (a == b).double().mean()).item()
# ```
# </details>
#
# On section 5's runs it gives section 5's AUCs:

# %%
print(f"AUC {separation_auc(dead0[g0 > 0], dead0[g0 == 0]):.2f}; without the always-aborting "
      f"runs {separation_auc(dead0[g0 == 2], dead0[g0 == 0]):.2f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert np.isclose(separation_auc(dead0[g0 > 0], dead0[g0 == 0]), auc_all)
assert np.isclose(separation_auc(dead0[g0 == 2], dead0[g0 == 0]), auc_other)

# %% [markdown]
# ### Exercise 4: a paired difference and its standard error
#
# Section 4 compared each seed with itself at the two kappas. Write
# `paired_difference(low, high)`: two 1-d arrays of final dead fractions of equal length,
# element k of each from the same seed. Return a tuple of two floats: (mean of low - high,
# its standard error).

# %%
def paired_difference(low, high) -> tuple[float, float]:
    """(mean of low - high over the pairs, its standard error)."""
    ...


# %%
paired_difference = exercises.paired_difference.check(paired_difference)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# def paired_difference(low, high):
#     d = torch.as_tensor(low, dtype=torch.float64) - torch.as_tensor(high, dtype=torch.float64)
#     return d.mean().item(), (d.std() / len(d) ** 0.5).item()
# ```
# </details>
#
# On section 4's 40 seeds it gives section 4's numbers:

# %%
low, high = (ck.final("dead_fraction")[ck.by_seed(kappa=k)] for k in (-0.4, 0.4))
print("dead(-0.4) - dead(+0.4) = {:+.3f} +- {:.3f} (s.e.)".format(*paired_difference(low, high)))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert np.allclose(paired_difference(low, high), kappa_test[0][:2])

# %% [markdown]
# ## Bonus B: how often the GRU is trapped, and section 5's AUC in more detail
#
# `per_block` writes a count as "k of n (Wilson interval; the two blocks' k)".

# %%
ce = data.load("collapse_entropy")   # the same 40 seeds with entropy_coef 0.01 and 0.05
for k in ck.values("kappa"):
    rows = ck.by_seed(kappa=k)       # one run per seed, in seed order like the blocks
    print(f"kappa {k:+.1f}, no bonus, trapped: {per_block(ck.trapped[rows], ck.block[rows])}")
print("entropy_coef 0.01 or 0.05, every kappa, trapped: " + per_block(ce.trapped, ce.block))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# trapped flags per seed for each (kappa, entropy_coef), then the figure
trapped_at = {(k, 0.0): ck.trapped[ck.by_seed(kappa=k)] for k in ck.values("kappa")}
trapped_at |= {(k, e): ce.trapped[ce.by_seed(kappa=k, entropy_coef=e)]
              for e in ce.values("entropy_coef") for k in ce.values("kappa")}
seeds_per_point = {len(flags) for flags in trapped_at.values()}
assert len(seeds_per_point) == 1                  # the title's one number
fig = plots.plot_trapped_fraction(
    {f"entropy_coef {e:g}": {k: flags for (k, e2), flags in trapped_at.items() if e2 == e}
     for e in sorted({e for _, e in trapped_at})},
    xlabel="kappa", log_x=False,
    title=f"GRU: trapped runs, {seeds_per_point.pop()} seeds per point")
assert not plots.style_problems(fig), plots.style_problems(fig)   # readable at 100 dpi

# %% tags=["hide-input"] jupyter={"source_hidden": true}
no_bonus = np.stack([trapped_at[k, 0.0] for k in ck.values("kappa")])      # (kappa, seed)
bonus = np.stack([f for (k, e), f in trapped_at.items() if e > 0])
assert no_bonus.shape == (3, 40) and bonus.shape == (6, 40)
blocks = ck.block[ck.by_seed(kappa=0.0)]
assert np.array_equal(blocks, np.repeat([1, 2], 20))
# per kappa: pooled 14, 13, 11 of 40; the two blocks 7/7, 6/7, 5/6 (within one run)
assert no_bonus.sum(axis=1).tolist() == [14, 13, 11]
assert [no_bonus[:, blocks == b].sum(axis=1).tolist() for b in (1, 2)] == [[7, 6, 5], [7, 7, 6]]
assert str(stats.frequency(trapped_at[-0.4, 0.0])) == "14 of 40 (22-50 %)"
assert str(stats.frequency(trapped_at[0.4, 0.0])) == "11 of 40 (16-43 %)"
# the same counts as verdict 6 reads (collapse_kappa's trapped runs at each kappa)
assert all(ck.trapped[ck.by_seed(kappa=k)].sum() == n for k, n in zip((-0.4, 0, 0.4),
                                                                      (14, 13, 11)))
assert bonus.sum() == 7 and str(stats.frequency(ce.trapped)) == "7 of 240 (1-6 %)"

# %% [markdown]
# Without an entropy bonus about a third of the runs end trapped at every kappa (14, 13 and
# 11 of 40); with a bonus, 7 of 240.
#
# Section 5's AUCs in each seed block; at the first record, update 5, when nearly every trial
# of every run still aborts; and for the 240 runs with an entropy bonus:

# %%
first = ck.h("dead_fraction")[:, 0]               # each run's dead fraction at update 5
for b in (1, 2):
    k = ck.block == b
    print(f"block {b}: AUC {separation_auc(dead0[k & (g0 > 0)], dead0[k & (g0 == 0)]):.2f}; "
          "without always-aborting runs "
          f"{separation_auc(dead0[k & (g0 == 2)], dead0[k & (g0 == 0)]):.2f}")
first_auc = separation_auc(first[g0 > 0], first[g0 == 0])
print(f"update 5: median abort rate {np.median(ck.h('abort_rate')[:, 0]):.0%}, "
      f"AUC {first_auc:.2f}")
g_ce, dead_ce = outcome_group(ce), ce.final("dead_fraction")
bonus_auc = separation_auc(dead_ce[g_ce > 0], dead_ce[g_ce == 0])
print(f"with a bonus: {np.sum(g_ce > 0)} of {len(g_ce)} trapped, AUC {bonus_auc:.2f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
block_auc = [[round(stats.auc(dead0[(ck.block == b) & sel], dead0[(ck.block == b) & (g0 == 0)]),
                    2) for b in (1, 2)] for sel in (g0 > 0, g0 == 2)]
assert block_auc == [[0.71, 0.64], [0.79, 0.79]]  # both blocks the way of the pooled AUCs
# the first record is update 5; nearly every trial of every run still aborts there, and the
# runs that will be trapped have barely more dead units than the others
assert ck.update_axis()[0] == 5 and np.median(ck.h("abort_rate")[:, 0]) > 0.9
assert abs(np.median(first[g0 > 0]) - np.median(first[g0 == 0])) < 0.01
assert np.isclose(first_auc, stats.auc(first[g0 > 0], first[g0 == 0]))
assert round(first_auc, 2) == 0.59
assert round(bonus_auc, 2) == 0.43 and np.sum(g_ce > 0) == 7 and len(g_ce) == 240

# %% [markdown]
# Both blocks point the way of the pooled AUCs (0.71 and 0.64; 0.79 and 0.79). At update 5
# the runs that will be trapped are barely deader (0.59), and the 7 runs trapped despite a
# bonus are not deader at all (0.43): the link appears late, and not in every setting.

# %% [markdown]
# Section 5's runs one by one, by outcome:

# %% tags=["hide-input"] jupyter={"source_hidden": true}
groups = ("learning or converged", "trapped: always aborts", "trapped: other trap")
colours = [plots.MODE_COLOURS[m] for m in ("learning", "always_aborts", "one_side")]
panels = {"GRU, no entropy bonus (kappa -0.4, 0, +0.4)": ck}
top = max(float(np.nanmax(ds.final("dead_fraction"))) for ds in panels.values())
fig, axes = plots.subplots(1, 1, figsize=(5.6, 4.6), squeeze=False)
axes = axes[0]
rng = np.random.default_rng(0)
for ax, (label, ds) in zip(axes, panels.items(), strict=True):
    group, dead = outcome_group(ds), ds.final("dead_fraction")
    for g, colour in enumerate(colours):
        y = dead[group == g]
        if len(y):
            ax.scatter(g + rng.uniform(-0.18, 0.18, len(y)), y, s=16, color=colour,
                       edgecolors="0.2", linewidths=0.4)
            ax.plot([g - 0.3, g + 0.3], [np.median(y)] * 2, color="k", lw=1.5)
    ticks = [name.replace(": ", ":\n") + f"\n({int((group == g).sum())} runs)"
             for g, name in enumerate(groups)]
    ax.set_xticks(range(len(groups)), ticks)
    ax.set(xlim=(-0.6, len(groups) - 0.4), ylim=(0, top + 0.04), title=label)
axes[0].set_ylabel("final dead fraction (bar: median)")
fig.tight_layout()
assert not plots.style_problems(fig), plots.style_problems(fig)   # readable at 100 dpi

# %% [markdown]
# ## Bonus C: the learning rate
#
# The same GRU on section 4's 40 seeds at three learning rates (`lr`, the policy's; the
# baseline network has its own), kappa -0.4 and +0.4: 80 pairs, each seed at two kappas:

# %%
# the GRU at kappa -0.4 and +0.4 (80 pairs of runs, the 40 seeds), lr 0.003, 0.01, 0.03
lr40 = data.load("collapse_lr")    # lr 0.003 and 0.03; lr 0.01 is collapse_kappa's
lr_dead40 = {lr: np.concatenate([lr40.final("dead_fraction")[lr40.by_seed(kappa=k, lr=lr)]
                                 for k in (-0.4, 0.4)]) for lr in (0.003, 0.03)}
lr_dead40[0.01] = np.concatenate([ck.final("dead_fraction")[ck.by_seed(kappa=k)]
                                  for k in (-0.4, 0.4)])     # rows: (kappa, seed), paired
lr_steps = {}                      # (lower lr, higher lr) -> pairs with more dead at the higher
for lower, higher in ((0.003, 0.01), (0.01, 0.03)):
    lr_steps[lower, higher] = int(np.sum(lr_dead40[higher] > lr_dead40[lower]))
    print(f"lr {lower:g} -> {higher:g}: more dead units in {lr_steps[lower, higher]} of 80 "
          f"pairs; median final dead fraction {np.median(lr_dead40[lower]):.2f} -> "
          f"{np.median(lr_dead40[higher]):.2f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
for k in (-0.4, 0.4):              # the three learning rates share the seeds, in seed order
    seeds = ck.arrays["seed"][ck.by_seed(kappa=k)]
    assert all(np.array_equal(lr40.arrays["seed"][lr40.by_seed(kappa=k, lr=lr)], seeds)
               for lr in (0.003, 0.03)) and len(seeds) == 40
assert lr_steps == {(0.003, 0.01): 76, (0.01, 0.03): 73}
assert [round(float(np.median(lr_dead40[lr])), 2) for lr in (0.003, 0.01, 0.03)] == \
    [0.07, 0.18, 0.35]

# %% [markdown]
# Each step up in learning rate gives more dead units in 76 and 73 of 80 pairs (median 0.07,
# 0.18, 0.35).
#
# The same GRU and SimpleRNN at kappa 0 with policy learning rates 0.001, 0.01 and 0.1
# (2 seeds each), their dead fraction over training:

# %%
lr_runs = data.load("nb01_lr")   # lr 0.001 and 0.1; the lr 0.01 runs are the networks' own
lr_cells = {}                    # network -> {lr: (sweep, its rows, by seed)}
for network, network_type in (("GRU", "gru"), ("SimpleRNN, relu readout", "simple")):
    ds = networks[network]
    lr_cells[network] = {0.001: (lr_runs, lr_runs.by_seed(network_type=network_type, lr=0.001)),
                         0.01: (ds, ds.by_seed(kappa=0.0, entropy_coef=0.0)),
                         0.1: (lr_runs, lr_runs.by_seed(network_type=network_type, lr=0.1))}
lr_dead = {network: {lr: ds.final("dead_fraction")[rows] for lr, (ds, rows) in cells.items()}
           for network, cells in lr_cells.items()}
for network, per in lr_dead.items():
    print(f"{network:24s} final dead fraction " + "   ".join(
        f"lr {lr:g}: " + " ".join(f"{v:.2f}" for v in vals) for lr, vals in per.items()))
gru_mode = {lr: [analysis.MODES[m] if m >= 0 else "stopped" for m in ds.mode[rows]]
            for lr, (ds, rows) in lr_cells["GRU"].items()}
print("GRU behaviour at lr 0.01:", gru_mode[0.01], "; at lr 0.1:", gru_mode[0.1])

# %% tags=["hide-input"] jupyter={"source_hidden": true}
fig, axes = plots.subplots(1, 2, figsize=(9.6, 4.0), sharey=True)
for ax, (network, cells) in zip(axes, lr_cells.items(), strict=True):
    for j, (lr, (ds, rows)) in enumerate(cells.items()):
        for k, i in enumerate(rows):
            ax.plot(ds.update_axis(), ds.h("dead_fraction")[i], color=f"C{j}",
                    label=f"lr {lr:g}" if k == 0 else None)
    ax.set(xlabel="update", title=network, ylim=(-0.02, 1.02))
axes[0].set_ylabel("dead fraction")
axes[0].legend()
fig.tight_layout()
assert not plots.style_problems(fig), plots.style_problems(fig)   # readable at 100 dpi

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# Ten times the learning rate, more dead units, seed by seed (a run that diverged is NaN).
for network, per in lr_dead.items():
    lo, mid, hi = per[0.001], per[0.01], per[0.1]
    assert np.all(lo < mid) and np.all((hi > mid) | np.isnan(hi)), network
    assert np.isfinite(hi).any()
# The GRU is not trapped at lr 0.01 (one run converged, one still learning) and is trapped at
# lr 0.1 (both seeds).
assert sorted(gru_mode[0.01]) == ["converged", "learning"]
assert all(m in analysis.TRAPPED_MODES for m in gru_mode[0.1])

# %% [markdown]
# Each tenfold step in lr gives more dead units on every seed (one SimpleRNN run at lr 0.1
# diverged: nan), and at lr 0.1 both GRU seeds end trapped.

# %% [markdown]
# ## Bonus D: Adam with a large eps (the experiment)
#
# Section 6's runs seed by seed, and its counts with their intervals:

# %% tags=["hide-input"] jupyter={"source_hidden": true}
threshold, labels = 0.1, list(opt20)
x = np.arange(len(labels))
fig, (ax1, ax2) = plots.subplots(1, 2, figsize=(9.8, 4.4))
dead = np.array([opt20[lb]["dead"] for lb in labels])             # (optimisers, seeds)
for p in range(dead.shape[1]):
    ax1.plot(x, dead[:, p], color="0.85", lw=0.7, zorder=1)
for j in range(len(labels)):
    ax1.scatter(np.full(dead.shape[1], x[j]), dead[j], s=16, color=f"C{j}", zorder=2)
ax1.set_xticks(x, labels)
ax1.set(ylabel="final dead fraction", ylim=(-0.01, max(0.1, float(np.nanmax(dead))) + 0.03),
        title=f"{dead.shape[1]} seeds (grey: the same seed)")
dead_label = f"ends with > {threshold * 100:g} % dead units"     # verdict 1's threshold
for j, (flags, name) in enumerate(((dead > threshold, dead_label),
                                   ([opt20[lb]["trapped"] for lb in labels], "trapped"))):
    ks, n = np.sum(flags, axis=1), dead.shape[1]
    rate = ks / n
    lo, hi = np.array([stats.wilson(int(k), n) for k in ks]).T
    off = (j - 0.5) * 0.3
    ax2.bar(x + off, rate, 0.28, color=("0.35", "C3")[j], label=name)
    ax2.errorbar(x + off, rate, yerr=[rate - lo, hi - rate], fmt="none", color="k",
                 capsize=3, lw=1)
ax2.set_xticks(x, labels)
ax2.set(ylim=(0, 1.4), ylabel="fraction of runs", title="with 95 % intervals",
        yticks=[0, 0.25, 0.5, 0.75, 1])
ax2.legend(loc="upper center")
fig.tight_layout()
assert not plots.style_problems(fig), plots.style_problems(fig)   # readable at 100 dpi

# %% [markdown]
# Why does Adam kill units where SGD does not? Adam's step is about lr for *every* weight,
# however small and noisy its gradient, so weights that matter little random-walk; SGD scales
# the step by the gradient. Raising eps separates the two: weights with |g| << eps get
# SGD's step (lr / eps x gradient), weights with |g| >> eps keep Adam's. At lr = eps = 0.01
# the effective step matches both SGD at lr 1 (small gradients) and default Adam at lr 0.01
# (large ones), so if the small-gradient walk is what kills units, Adam at eps 0.01 should
# lose few. After 100 updates from the same start, how far did each group of weights move?

# %%
runs = {"Adam lr 0.01": TrainSettings(updates=100, seed=0),
        "SGD lr 1": TrainSettings(updates=100, seed=0, lr=1.0, policy_optimizer="sgd"),
        "Adam eps 0.01": TrainSettings(updates=100, seed=0, policy_adam_eps=0.01)}
start = Ensemble([runs["Adam lr 0.01"]]).params   # seed 0: the initial weights of all three
result = train(list(runs.values()), progress=False)
moved = {}
for k, label in enumerate(runs):
    moved[label] = {}
    for group, names in param_groups(start).items():
        change = torch.cat([(result.params[n][k] - start[n][0].detach()).abs().flatten()
                            for n in names])
        moved[label][group] = float(change.mean())
for label, groups in moved.items():
    print(f"mean |change| after 100 updates, {label:13s} " +
          "  ".join(f"{g} {v:.3f}" for g, v in groups.items()))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
adam_moved, sgd_moved, eps_moved = (moved[k] for k in ("Adam lr 0.01", "SGD lr 1",
                                                       "Adam eps 0.01"))
# Default Adam walks the recurrent weights several times further than SGD and than Adam at
# eps 0.01; the readout, whose gradients are large, moves about as far under all three.
assert adam_moved["W_rec"] > 4 * sgd_moved["W_rec"]
assert adam_moved["W_rec"] > 3 * eps_moved["W_rec"]
# the prose's "about 6 times" and "about 9 times" (one seed: the numbers of this run)
assert 5 < adam_moved["W_rec"] / eps_moved["W_rec"] < 7
assert 8 < adam_moved["W_rec"] / sgd_moved["W_rec"] < 11
for other in (sgd_moved, eps_moved):
    assert 0.5 < adam_moved["W_out"] / other["W_out"] < 2

# %% [markdown]
# One seed, 100 updates: default Adam moves the recurrent weights about 6 times further than
# Adam at eps 0.01 and 9 times further than SGD, and the readout about as far as both. Raising
# eps stopped the recurrent walk and, on the 40 seeds of section 6, the dying: with the same lr
# and the same optimiser, 34 of 40 runs end with no dead unit. The dead units of the default
# runs are a side effect of Adam normalising tiny, noisy gradients to steps of size lr. The
# same change leaves fewer runs trapped (1 of 40 against 13, in both blocks); this experiment
# cannot tell whether through the dead units or through the same walk of other weights.

# %% [markdown]
# ## Bonus E: why kappa does not reach Adam's step
#
# kappa rescales advantages, hence gradients: by 1 - kappa for good surprises and 1 + kappa
# for bad ones. Adam divides each gradient by its running root mean square, so a common
# factor cancels and the step keeps the size of the learning rate. Three Adam steps with
# gradients g and 1.4 g:

# %%
def adam_steps(scale: float) -> torch.Tensor:
    w = torch.zeros(3, requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.01)
    for g in (torch.tensor([0.3, -0.1, 2.0]), torch.tensor([0.1, 0.2, 1.0]),
              torch.tensor([-0.2, 0.1, 0.5])):
        w.grad = scale * g
        opt.step()
    return w.detach()


print("after 3 steps, gradients x1.0:", adam_steps(1.0).numpy().round(5))
print("after 3 steps, gradients x1.4:", adam_steps(1.4).numpy().round(5))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert torch.allclose(adam_steps(1.0), adam_steps(1.4), atol=1e-6)

# %% [markdown]
# kappa can change the *direction* of the update (how good and bad surprises are weighed), not
# its size. The analysis's "Risk-seeking amplifies ... Network updates aggressively" needs an
# optimiser whose step grows with the gradient: SGD (`policy_optimizer="sgd"`, step = lr x
# clipped gradient; the baseline keeps Adam). The stored runs at kappa -0.4, 0 and 0.4,
# **2 seeds**, with SGD at lr 1 and lr 3 and with Adam at eps 0.01, paired with the Adam runs:

# %%
sgd_runs, eps_runs = data.load("nb01_sgd"), data.load("nb01_adam_eps")
opt = {"Adam lr 0.01": per_run(gru, gru.sorted_rows("kappa", entropy_coef=0.0)),
       "SGD lr 1": per_run(sgd_runs, sgd_runs.sorted_rows("kappa", lr=1.0)),
       "SGD lr 3": per_run(sgd_runs, sgd_runs.sorted_rows("kappa", lr=3.0)),
       "Adam eps 0.01": per_run(eps_runs, eps_runs.sorted_rows("kappa"))}
for label, c in opt.items():
    print(f"{label:13s} largest dead fraction during training {c['max_dead'].max():.3f} "
          f"(final {c['dead'].min():.2f} .. {c['dead'].max():.2f}), final reward "
          f"{c['reward'].min():.2f} .. {c['reward'].max():.2f}, trapped "
          f"{int(c['trapped'].sum())} of {len(c['dead'])}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
fig, (ax1, ax2) = plots.subplots(1, 2, figsize=(9.6, 4.0))
for j, (label, c) in enumerate(opt.items()):
    eps_run = label == "Adam eps 0.01"  # dashed and hollow: it lies on top of SGD lr 1
    for k, curve in enumerate(c["dead_curve"]):
        ax1.plot(c["updates"], curve, color=f"C{j}", lw=1, ls="--" if eps_run else "-",
                 label=label if k == 0 else None)
    ok = ~c["trapped"]
    ax2.scatter(c["dead"][ok], c["reward"][ok], label=label, s=30 if eps_run else 22,
                facecolors="none" if eps_run else f"C{j}", edgecolors=f"C{j}")
    ax2.scatter(c["dead"][~ok], c["reward"][~ok], color=f"C{j}", marker="x", s=30)
top = max(float(np.nanmax(c["dead_curve"])) for c in opt.values())
ax1.set(xlabel="update", ylabel="dead fraction", ylim=(-0.02, max(0.5, top + 0.02)),
        title="dead units over training")
ax2.set(xlabel="final dead fraction", ylabel="final reward", title="outcome (x: trapped)")
ax1.legend()
fig.tight_layout()
assert not plots.style_problems(fig), plots.style_problems(fig)   # readable at 100 dpi

# %% tags=["hide-input"] jupyter={"source_hidden": true}
adam, sgd1, sgd3 = (opt[k] for k in ("Adam lr 0.01", "SGD lr 1", "SGD lr 3"))
eps = opt["Adam eps 0.01"]
for c in (sgd1, sgd3, eps):
    assert np.all(adam["kappa"] == c["kappa"]) and np.all(adam["seed"] == c["seed"])
# With Adam every run ends with 7-30 % dead units; with SGD at lr 1 no run ever has more than
# 2 %, at any kappa and at any point of training, while it learns as well:
assert (round(adam["dead"].min(), 2), round(adam["dead"].max(), 2)) == (0.07, 0.30)
assert np.all(sgd1["max_dead"] <= 0.02 + 1e-6)
assert not sgd1["trapped"].any() and np.all(sgd1["reward"] >= 0.65)
# kappa, which now scales the steps, changes the dead fraction by under 0.01 per seed
lo, hi = sgd1["kappa"] == -0.4, sgd1["kappa"] == 0.4
assert np.all(np.abs(sgd1["dead"][lo] - sgd1["dead"][hi]) < 0.01)
# At lr 3 SGD traps 4 or more of 6 runs, with at most ~10 % dead units
assert sgd3["trapped"].sum() >= 4 and np.all(sgd3["max_dead"] < 0.11)
# Adam at eps 0.01 (same lr as default Adam): in every one of the 6 pairs at least 7 points
# fewer dead units than default Adam, never more than 2 % during training, at most 1 % at the
# end, and it learns as well (none trapped, final reward >= 0.65).
assert np.all(adam["dead"] - eps["dead"] > 0.07) and np.all(eps["max_dead"] <= 0.02 + 1e-6)
assert np.all(eps["dead"] <= 0.01 + 1e-6)
assert not eps["trapped"].any() and np.all(eps["reward"] >= 0.65)

# %% [markdown]
# On these 2 seeds every default-Adam run ends with 7-30 % dead units; SGD at lr 1 never
# exceeds 2 %, and kappa, which now scales the steps, changes the dead fraction by under 0.01
# per seed: under SGD kappa reaches the step and units still do not die. Too large an SGD step
# (lr 3) traps most runs with at most 10 % dead units. Adam at eps 0.01 ends these 6 runs with
# at most 1 % dead and none trapped; on the 40 seeds of section 6, up to 2 % and 1 of 40
# trapped.

# %% [markdown]
# ## Bonus F: without a dead zone, tanh and softplus
#
# If dead units held learning back, rates never exactly zero should help: the same GRU with
# r = tanh(x) or softplus(x) = log(1 + e^x), kappa -0.4, 0, 0.4, 2 seeds, 600 updates, paired
# with the relu runs:

# %%
rate_runs = data.load("nb01_rates")   # tanh and softplus; relu is nb01_gru at entropy_coef 0
rate_comp = {"relu": per_run(gru, gru.sorted_rows("kappa", entropy_coef=0.0))}
for r in ("tanh", "softplus"):        # rows by (kappa, seed), as the relu runs: paired
    rate_comp[r] = per_run(rate_runs, rate_runs.sorted_rows("kappa", rate_function=r))
for r, c in rate_comp.items():
    print(f"{r:8s} dead {c['dead'].mean():.2f}  dormant {c['dormant'].min():.2f} .. "
          f"{c['dormant'].max():.2f}  reached the learning criterion "
          f"{np.sum(c['criterion'] >= 0)}/6  trapped {c['trapped'].sum()}/6")
reward_gain = {r: paired_difference(rate_comp[r]["reward"], rate_comp["relu"]["reward"])
               for r in ("tanh", "softplus")}
for r, (m, se) in reward_gain.items():
    print(f"paired reward difference {r} - relu: {m:+.2f} +- {se:.2f} (s.e., 6 pairs)")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
fig, axes = plots.subplots(1, 2, figsize=(9.2, 4.0))
x = np.arange(len(rate_comp))
jitter = np.linspace(-0.12, 0.12, len(rate_comp["relu"]["seed"]))
for ax, key, label in ((axes[0], "dormant", "final dormant fraction"),
                       (axes[1], "reward", "final reward / trial")):
    ys = np.array([c[key] for c in rate_comp.values()])            # (rate functions, pairs)
    for p in range(ys.shape[1]):
        ax.plot(x + jitter[p], ys[:, p], color="0.85", lw=0.7, zorder=1)
    for j, c in enumerate(rate_comp.values()):
        face = np.where((c["criterion"] >= 0)[:, None], to_rgba(f"C{j}"), (1.0, 1.0, 1.0, 0.0))
        ax.scatter(x[j] + jitter, ys[j], s=20, zorder=2, edgecolors=f"C{j}", facecolors=face)
    ax.set(xticks=x, xticklabels=list(rate_comp), title=label)
axes[0].set_ylim(-0.02, max(0.5, float(np.nanmax(rate_comp["relu"]["dormant"])) + 0.05))
axes[1].axhline(0, color="0.85", lw=0.8)
fig.suptitle("GRU rate function (filled: reached the learning criterion)")
fig.tight_layout()
assert not plots.style_problems(fig), plots.style_problems(fig)   # readable at 100 dpi

# %% tags=["hide-input"] jupyter={"source_hidden": true}
relu, alt = rate_comp["relu"], {r: rate_comp[r] for r in ("tanh", "softplus")}
for c in alt.values():  # each pair: the same kappa and seed, so the same initial weights
    assert np.array_equal(c["kappa"], relu["kappa"]) and np.array_equal(c["seed"], relu["seed"])
# No dead unit at any record of any tanh or softplus run; relu runs end with some.
assert np.all(rate_runs.h("dead_fraction") == 0) and relu["dead"].min() > 0.05
# Fewer dormant units: in each of the 6 pairs relu has at least 0.05 more, 0.15 in the median.
for c in alt.values():
    assert np.all(relu["dormant"] - c["dormant"] > 0.05)
    assert np.median(relu["dormant"] - c["dormant"]) > 0.15
# But learning does not improve: no more runs reach the criterion, at least as many are trapped
# (6 runs: we assert only the direction "no gain", not that tanh/softplus are worse) ...
for c in alt.values():
    assert np.sum(c["criterion"] >= 0) <= np.sum(relu["criterion"] >= 0)
    assert c["trapped"].sum() >= relu["trapped"].sum()
# the prose's counts: reach the criterion relu 2, tanh 1, softplus 0; trapped 1, 2 and 6 of 6
assert [int(np.sum(rate_comp[r]["criterion"] >= 0)) for r in rate_comp] == [2, 1, 0]
assert [int(rate_comp[r]["trapped"].sum()) for r in rate_comp] == [1, 2, 6]
# ... and the mean reward falls in the pairs; 6 pairs exclude only a gain above 0.25 per trial
for m, se in reward_gain.values():
    assert m < 0 and m + 2 * se < 0.25

# %% [markdown]
# With tanh or softplus rates the GRU has no dead and fewer dormant units, yet learns no
# better: 1 and 0 of 6 runs reach the criterion (relu 2), 2 and 6 end trapped (relu 1). Six
# pairs cannot call either worse, nor exclude a small gain.
#
# **Think!** A larger lr and Adam's default eps raise both the dead fraction and the trapped
# count. What would show that dead units *cause* the trap?
#
# <details><summary>Answer</summary>
#
# An intervention on dead units alone: remove them (tanh, softplus: this Bonus) or create
# them (a negative initial bias) while the rest stays fixed, and see the trap follow. A larger
# lr or Adam's default eps changes every weight's step, not only the dead units', so they
# cannot separate the two. Removing dead units alone did not help learning here.
# </details>

# %% [markdown]
# ## Bonus G: the relu/tanh mismatch seen from inside
#
# With a tanh readout the SimpleRNN's readout sees negative states that its dynamics pass on
# as zero. In the trained example of section 2:

# %%
st = examples["SimpleRNN, tanh readout"]["states"]
x, valid = st["x"], st["mask"][..., None].astype(bool)       # (time, trials, units)
seen = np.abs(np.tanh(x)) * valid          # what the tanh readout reads, on valid steps
dead = dead_units(st["rates"], st["mask"])
share = {"frac_negative": float(((x < 0) & valid).sum() / (valid.sum() * x.shape[-1])),
         "share_negative": float(seen[x < 0].sum() / seen.sum()),   # relu passes on 0 there
         "share_dead": float(seen[..., dead].sum() / seen.sum())}
print(f"states x < 0 on {share['frac_negative']:.0%} of (step, trial, unit); they carry "
      f"{share['share_negative']:.0%} of sum |tanh(x)| that the readout sees, "
      f"{share['share_dead']:.0%} from units that are dead for the dynamics")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert 0.35 < share["share_negative"] < 0.75 and share["share_dead"] > 0.1

# %% [markdown]
# About half of what the tanh readout sees comes from negative states, some from units that
# are dead for the dynamics: the mismatch is real, and Bonus M measures what it costs.
#
# ## Bonus H: dead before learning, and the initial bias
#
# The SimpleRNN has dead units at update 0, before it has learned anything; the GRU has none:

# %%
at_start = {n: ds.arrays["unit_dead"][:, 0].mean(axis=1) for n, ds in networks.items()}
final = {n: ds.final("dead_fraction") for n, ds in networks.items()}
for n in networks:
    print(f"{n:24s} dead fraction at update 0: {at_start[n].min():.2f} .. {at_start[n].max():.2f}"
          f"; final: {final[n].min():.2f} .. {final[n].max():.2f}")

# %%
def dead_at_init(settings, shifts, trials=256, seeds=(0, 1, 2)) -> np.ndarray:
    """Dead fraction (shifts, seeds) of untrained networks whose every initial bias b is
    shifted by beta: a change at initialisation alone, no training."""
    out = np.zeros((len(shifts), len(seeds)))
    for j, seed in enumerate(seeds):
        s = settings.replace(seed=seed)
        start = Ensemble([s]).params
        for i, beta in enumerate(shifts):
            params = {name: p.detach().clone() for name, p in start.items()}
            params["b"] += beta
            batch = evaluate(s, params, trials=trials, seed=1000 + seed)
            out[i, j] = dead_units(batch["rates"][:, 0], batch["mask"][:, 0]).mean()
    return out


shifts = (-0.5, -0.25, 0.0, 0.25)
at_init = {n: dead_at_init(TrainSettings().replace(network_type=n), shifts)
           for n in ("gru", "simple")}
for n, v in at_init.items():
    print(f"{n:6s} bias shifted by " + "  ".join(f"{b:+.2f}: {m:.2f}"
                                                 for b, m in zip(shifts, v.mean(1))))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# Units die in both networks: every GRU run (12) ends with > 1 % dead, every SimpleRNN run > 15 %
simple_networks = ("SimpleRNN, relu readout", "SimpleRNN, tanh readout")
assert final["GRU"].min() > 0.01 and len(final["GRU"]) == 12
assert min(final[n].min() for n in simple_networks) > 0.15
# on 40 seeds every one of the 360 GRU runs (collapse_kappa, collapse_entropy) ends with > 1 %
gru40 = np.concatenate([ck.final("dead_fraction"), ce.final("dead_fraction")])
assert len(gru40) == 360 and gru40.min() > 0.01
assert at_start["GRU"].max() <= 0.02
assert min(at_start[n].min() for n in simple_networks) >= 0.05
# A bias of -0.5 more than doubles the SimpleRNN's dead units at once; the GRU stays < 10 %.
assert at_init["simple"][0].mean() > max(2 * at_init["simple"][2].mean(),
                                         at_init["simple"][2].mean() + 0.1)
assert at_init["gru"][0].mean() < 0.1

# %% [markdown]
# The GRU's update gate (z ~ 0.5 at initialisation) halves its leak, so its states stay near
# the initial state x0 = 0.5 for the first steps of a trial and fire there; a dead unit must be
# silent on *every* valid step. The SimpleRNN's random weights alone push some states below
# zero for whole trials, and a bias of -0.5 (3 seeds) more than doubles that.

# %% [markdown]
# ## Bonus I: no gradient into a dead unit
#
# Section 3 said a dead unit gets exactly zero gradient under a relu readout. The folded cell
# backpropagates the policy loss of section 2's batch through each example network; per
# network, its dead units and the largest gradient norm that reaches the weights into any of
# them (W_in[:, i], W_rec[:, i], b_i):

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# Prepares `grads`: per example network, each unit's incoming gradient norm and dead flag.
def incoming_gradient(settings, params, trials=256, seed=12345) -> dict[str, np.ndarray]:
    """Per unit i, the norm of dL_pi / d(W_in[:, i], W_rec[:, i], b[i]) on one batch, and the
    units' dead flags on that same batch."""
    net = Ensemble([settings.replace(seed=seed)])   # seed 12345: the raster's batch again
    with torch.no_grad():
        for name, p in params.items():
            net.params[name].copy_(p)
    batch = net.rollout(trials, torch.tensor([settings.kappa]))
    batch["policy_loss"].sum().backward()
    g = {name: net.params[name].grad[0] for name in ("W_in", "W_rec", "b")}
    # column i of W_in and of W_rec, and b[i], are the weights into unit i
    grad = (g["W_in"].pow(2).sum(0) + g["W_rec"].pow(2).sum(0) + g["b"].pow(2)).sqrt()
    return {"grad": grad.numpy(),
            "dead": dead_units(batch["rates"][:, 0].detach(), batch["mask"][:, 0])}


grads = {label: incoming_gradient(ex["settings"], ex["params"])
         for label, ex in examples.items()}

# %%
for label, g in grads.items():
    d = g["dead"]
    print(f"{label:24s} {d.sum():2d} dead units; largest gradient into one: "
          f"{g['grad'][d].max():.1e}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
for label, ex in examples.items():
    # the same batch of 256 trials as the raster and Exercise 1: the same dead units
    st = ex["states"]
    assert np.array_equal(grads[label]["dead"], dead_units(st["rates"], st["mask"])), label
for label in ("GRU, lr 0.01", "GRU, lr 0.1", "SimpleRNN, relu readout"):
    g = grads[label]
    assert g["dead"].any() and np.all(g["grad"][g["dead"]] == 0), label
# the tanh readout reads tanh(x), not flat below 0, so gradient reaches units whose rate is 0
g = grads["SimpleRNN, tanh readout"]
assert g["dead"].any() and np.all(g["grad"][g["dead"]] > 0)

# %% [markdown]
# Exactly zero, except under the tanh readout: tanh(x) is not flat below zero, so a small but
# nonzero gradient still reaches units whose rate relu(x) is 0.

# %% [markdown]
# ## Bonus J: watch units die and come back
#
# Section 3 counted units. A unit can die several times; a *dead spell* is one unbroken
# stretch of dead records of one unit. Of the spells that lasted at least so long, the
# fraction that ended (the unit came back):

# %%
spells_back = {}                 # network -> of spells lasting >= 1, 5, 10, 20 records: ended
for network, ds in networks.items():
    spells = analysis.dead_spells(ds.arrays["unit_dead"])
    spells_back[network] = [spells["revived"][spells["length"] >= n].mean()
                            for n in (1, 5, 10, 20)]
    print(f"{network:24s} spells of 200+ dead updates: {spells_back[network][-1]:.0%} ended")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
fig, ax = plots.subplots(figsize=(6.6, 4.2))
lengths = np.array([1, 2, 5, 10, 20])
for j, (network, ds) in enumerate(networks.items()):
    spells = analysis.dead_spells(ds.arrays["unit_dead"])
    back = [spells["revived"][spells["length"] >= n].mean() for n in lengths]
    ax.plot(lengths * ds.record_updates()[1], back, "o-", color=f"C{j}", label=network)
ax.set(xscale="log", xlabel="dead at every record for ... updates (records 10 apart)",
       ylim=(-0.02, 1.02), ylabel="fraction of spells that ended", title="do dead spells end?")
ax.legend()
fig.tight_layout()
assert not plots.style_problems(fig), plots.style_problems(fig)   # readable at 100 dpi

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# A SimpleRNN unit dead for 200 updates in a row rarely returns with the relu readout (< 15 %)
# but often with the tanh readout (> 30 %), whose dead units keep a gradient (Bonus I).
assert spells_back["SimpleRNN, relu readout"][-1] < 0.15
assert spells_back["SimpleRNN, tanh readout"][-1] > 0.3

# %% [markdown]
# The longer a spell, the less often it ends. Long spells end more often under the tanh
# readout, whose dead units keep a small gradient (Bonus I): a guess at why it does better in
# Bonus M, not tested here.
#
# **Interactive demo.** The stored runs of section 3: dead fraction and reward over training;
# below, the chosen seed's units, black where dead. A row turning white again is a unit that
# came back.

# %%
demo = widgets.dead_units_demo(networks)
demo

# %% [markdown]
# **Think!** Find a run where the dead fraction is flat but units still come and go. What does
# a flat dead fraction hide?
#
# <details><summary>Answer</summary>
#
# The count, not the identity: the lower panel shows units dying and others reviving at the
# same time. A flat fraction is a turnover, not a set of permanently dead units.
# </details>

# %% [markdown]
# ## Bonus K: train your own
#
# Press **Train** to train one network with your settings and record its units (a few seconds
# per 100 updates). Try lr 0.1 against 0.01, or kappa -0.9 against +0.9. Nothing runs until
# you press the button.

# %%
widgets.units_train_widget(
    {"GRU": TrainSettings().replace(network_type="gru"),
     "SimpleRNN, relu readout": TrainSettings().replace(network_type="simple",
                                                        readout_rate="relu"),
     "SimpleRNN, tanh readout": TrainSettings().replace(network_type="simple",
                                                        readout_rate="tanh")},
    network="SimpleRNN, relu readout")

# %% [markdown]
# ## Bonus L: one batch, unit by unit
#
# **Interactive demo.** Section 2's four networks, every unit's rate in six of the batch's
# 256 trials; dead units come first, marked red at the left.

# %%
raster = widgets.raster_demo(examples)
raster

# %% [markdown]
# **Think!** A dead unit is silent (white) in every trial. Can a unit be white in all six
# trials shown and still not be dead?
#
# <details><summary>Answer</summary>
#
# Yes: "dead" is decided on all 256 trials, so a unit silent in six of them may fire in
# another. Those units are not marked red.
# </details>

# %% [markdown]
# ## Bonus M: the SimpleRNN's readout, relu or tanh?
#
# Upstream's SimpleRNN runs its dynamics on relu(x) but its readout reads tanh(x); the
# analysis says "This mismatch could cause issues". Both readouts at kappa 0, 800 updates, 40
# seeds of their own in two blocks, paired:

# %%
readout_runs = data.load("collapse_readout")   # SimpleRNN, kappa 0, 40 seeds in two blocks
readout = {r: per_run(readout_runs, readout_runs.by_seed(readout_rate=r))
           for r in ("relu", "tanh")}          # paired by seed
readout_blocks = readout_runs.block[readout_runs.by_seed(readout_rate="relu")]
flags = {"reaches the criterion": {r: c["criterion"] >= 0 for r, c in readout.items()},
         "trapped": {r: c["trapped"] for r, c in readout.items()}}
for what, by_readout in flags.items():
    t = stats.mcnemar(by_readout["relu"], by_readout["tanh"])   # paired by seed
    print(f"{what}: relu {per_block(by_readout['relu'], readout_blocks)}; tanh "
          f"{per_block(by_readout['tanh'], readout_blocks)}; McNemar p = {t[2]:.1g}")
gru_reached = stats.frequency(ck.arrays["updates_to_criterion"][ck.by_seed(kappa=0.0)] >= 0)
print(f"the GRU at kappa 0 (section 4's seeds) reaches the criterion: {gru_reached}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
relu_runs, tanh_runs = readout["relu"], readout["tanh"]
readout_tests = {}      # (what, block 0: pooled) -> McNemar (relu only, tanh only, p)
for what, by_readout in flags.items():
    for b in (1, 2, 0):
        keep = readout_blocks == b if b else np.ones(len(readout_blocks), dtype=bool)
        readout_tests[what, b] = stats.mcnemar(by_readout["relu"][keep], by_readout["tanh"][keep])
assert np.array_equal(relu_runs["seed"], tanh_runs["seed"]) and len(relu_runs["seed"]) == 40
assert np.array_equal(readout_blocks, np.repeat([1, 2], 20))
# verdict 2's counts: reaches the criterion 0 of 40 (relu) and 6 of 40 (tanh; blocks 2 and 4);
# trapped 36 and 24 of 40
assert [(int(np.sum(c["criterion"] >= 0)), int(c["trapped"].sum()))
        for c in (relu_runs, tanh_runs)] == [(0, 36), (6, 24)]
assert [int(np.sum(tanh_runs["criterion"][readout_blocks == b] >= 0)) for b in (1, 2)] == [2, 4]
# pooled, the tanh readout does better on both (p < 0.05), each block the same way, no block
# alone at p < 0.05 (verdicts.py counts that as replicated: the blocks point the same way)
crit, trap = readout_tests["reaches the criterion", 0], readout_tests["trapped", 0]
assert crit[:2] == (0, 6) and round(crit[2], 2) == 0.03  # only the tanh readout reaches it
assert trap[:2] == (14, 2) and round(trap[2], 3) == 0.004  # trapped with relu only: 14 seeds
assert [readout_tests["reaches the criterion", b][:2] for b in (1, 2)] == [(0, 2), (0, 4)]
assert [readout_tests["trapped", b][:2] for b in (1, 2)] == [(5, 0), (9, 2)]
assert all(readout_tests[what, b][2] > 0.05 for what in flags for b in (1, 2))
# both readouts learn far less often than the GRU (22 of 40 reach the criterion) and end with
# the same mean reward to within 0.05 per trial
assert (gru_reached.k, gru_reached.n) == (22, 40) and gru_reached.interval[0] > 6 / 40
assert abs(np.nanmean(relu_runs["reward"]) - np.nanmean(tanh_runs["reward"])) < 0.05

# %% [markdown]
# The tanh readout does somewhat better: 6 of 40 runs reach the criterion against 0
# (p = 0.03), 24 end trapped against 36 (p = 0.004), both blocks the same way. Either way the
# SimpleRNN reaches it far less often than the GRU (22 of 40).
#
# **Verdict 2** ("The SimpleRNN relu/tanh mismatch could cause issues"; notebook 05):
# **partly**: the readout matters, but the mismatched tanh readout is the better one, and the
# SimpleRNN learns poorly with either.

# %% [markdown]
# ## References
#
# - Kingma, D. P. & Ba, J. (2015). Adam: a method for stochastic optimization. *ICLR 2015*.
# - Lu, L., Shin, Y., Su, Y. & Karniadakis, G. E. (2019). Dying ReLU and initialization:
#   theory and numerical examples. arXiv:1903.06733.
# - Mihatsch, O. & Neuneier, R. (2002). Risk-sensitive reinforcement learning. *Machine
#   Learning* 49, 267-290.
# - Sokar, G., Agarwal, R., Castro, P. S. & Evci, U. (2023). The dormant neuron phenomenon in
#   deep reinforcement learning. *ICML 2023*.
# - Song, H. F., Yang, G. R. & Wang, X.-J. (2017). Reward-based training of recurrent neural
#   networks for cognitive and value-based tasks. *eLife* 6:e21492.
