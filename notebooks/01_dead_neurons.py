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

# %% [markdown]
# # 01 · Dead ReLU units: do they die, do they stay dead, do they cause the collapse?
#
# The first suspect in the analysis is the ReLU. A unit whose state x is negative has rate
# relu(x) = 0 and passes no gradient, so (the story goes) once a unit goes negative it is dead
# for good; risk-seeking kappa drives units negative, and a network of dead units collapses.
# Each link of that chain can be measured. We record, for every unit of every network, whether
# it is dead at each point of training, in the pyrl GRU and in a leaky ReLU SimpleRNN, across
# kappa, entropy bonus and seeds; we count how many dead units come back; we ask whether the
# number of dead units tells collapsed runs from healthy ones; and we measure the SimpleRNN's
# relu/tanh mismatch that the analysis flags.
#
# **You will learn**
# 1. what "dead" and "dormant" mean here, and what a dead unit looks like in a network's
#    activity;
# 2. whether dead units stay dead in a leaky, noisy recurrent network, and why they can come
#    back;
# 3. whether kappa changes the dead fraction, and whether the dead fraction predicts collapse;
# 4. what the SimpleRNN's tanh readout sees that its relu dynamics ignore, and whether it
#    matters for learning;
# 5. what actually makes units die, shown by controlled changes (learning rate, initial
#    bias, and the optimiser: Adam against plain SGD);
# 6. whether a rate function without dead units (tanh, softplus) learns better.
#
# **Time**: about 25 minutes. Running all cells takes well under a minute on a laptop CPU.

# %%
# %matplotlib inline
import numpy as np
import torch

from pyrl_mini import data
from pyrl_mini.config import TrainSettings
from pyrl_mini.lessons import nb01_dead_neurons as nb

torch.set_num_threads(1)

# %% [markdown]
# ## 1. The claim
#
# The analysis (Issue 1, "ReLU Activation in SimpleRNN"):
#
# > - If `x_tm1 < 0`, then `relu(x_tm1) = 0`
# > - Gradient of ReLU for negative inputs: **exactly 0**
# > - Once a neuron goes negative, it stays "dead" (no gradient flow)
#
# and, for negative kappa:
#
# > 4. Some neurons may become negative → ReLU kills them
# > 5. Dead neurons have zero gradients → learning stops in those units
# > 6. Eventually entire network could collapse
#
# On the SimpleRNN's readout: "The policy gradient calls `firing_rate()` which uses `tanh`, but
# the recurrent dynamics use `relu`. This mismatch could cause issues." And on the GRU:
# "✅ No ReLU dead neuron problem (uses tanh)".
#
# Two facts before we start. The pyrl GRU's firing rate is **r = relu(x)** too (Song, Yang &
# Wang 2017; see pyrl_mini/networks.py), so the GRU is not exempt: we measure it alongside the
# SimpleRNN. And in a *leaky* network the state keeps integrating its input,
# x_t = (1 - alpha) x_{t-1} + alpha (relu(x_{t-1}) W_rec + u_t W_in + b + noise_t), even while
# relu(x) = 0: whether a negative state stays negative depends on that input, not on the
# unit's own gradient.
#
# ## 2. Dead and dormant, and what they look like
#
# For the rates r (time, ensemble, trials, units) of one batch of 256 trials, counting only
# valid steps (before each trial ends):
#
# - **dead**: r_i = 0 exactly on every valid step of every trial;
# - **dormant** (ReDo, Sokar et al. 2023): s_i = mean|r_i| / mean_k mean|r_k| <= tau with
#   tau = 0.1, i.e. the unit fires at under a tenth of the layer's average. Dead implies
#   dormant.
#
# The trainer records both fractions at every update, and with `record_units=True` the dead
# flag of every unit. To see dead units, we train four small networks live for 40 updates
# (a few seconds): the GRU at the default learning rate 0.01 and at 0.1, and the SimpleRNN
# with each readout. Each raster shows every unit's rate over the valid steps of a few trials,
# white where the rate is exactly zero; dead units are sorted to the top and marked red: they
# are white in every trial. Pick a network and slide through the batch.

# %%
examples = nb.train_examples(updates=40)
raster = nb.raster_demo(examples)
raster

# %%
for label, ex in examples.items():
    st = ex["states"]
    dead = nb.dead_units(st["rates"][:, None], st["mask"][:, None])[0]
    dormant = nb.dormant_units(st["rates"][:, None], st["mask"][:, None])[0]
    print(f"{label:26s} dead {dead.sum():2d}/{dead.size}   dormant {dormant.sum():2d}/{dead.size}")
    # a dead unit is flat at zero on every valid step of every trial of the batch
    assert np.all(st["rates"][st["mask"].astype(bool)][:, dead] == 0)
    assert not (dead & ~dormant).any(), "every dead unit is dormant"

# %% [markdown]
# ## 3. Dead units over training
#
# Precomputed runs (`data/nb01_gru.npz`, `data/nb01_simple.npz`: kappa in {-0.4, 0, 0.4},
# entropy_coef in {0, 0.05}, seeds 0 and 1, 600 updates of 256 trials each, every unit's dead
# flag every 10 updates; the rebuild command is in `data/manifest.json`). Seeds are shared
# across cells, so each comparison below is paired: same initial weights, same trials. The
# shared `data/main_grid.npz` (GRU, kappa -0.4 ... 0.4, entropy_coef 0 / 0.01 / 0.05, 3 seeds,
# 1000 updates) adds 45 GRU runs with dead fractions but no per-unit records.
#
# **Interactive demo.** Choose the network, kappa, the entropy bonus and a seed. Left: dead
# (solid) and dormant (dashed) fraction and reward per trial (dotted), one colour per seed,
# the chosen seed thicker. Right: the chosen seed's units (rows) over training, black where
# dead; a row that turns white again is a unit that came back. The line above the figure
# gives each run's final dead fraction, revived units, behaviour mode and reward.

# %%
sweeps = nb.load_all()
grid = data.load("main_grid")
demo = nb.dead_demo(sweeps)
demo

# %%
full = nb.run_table(sweeps, main_grid=grid)
base = np.isclose(full["lr"], nb.BASE_LR)
final_dead = {n: full["dead"][base & (full["network"] == n)] for n in nb.NETWORKS}
at_start = {n: full["dead_start"][base & (full["network"] == n) & (full["source"] != "main_grid")]
            for n in nb.NETWORKS}
for n in nb.NETWORKS:
    print(f"{n:24s} final dead fraction {final_dead[n].min():.2f} .. {final_dead[n].max():.2f} "
          f"(median {np.median(final_dead[n]):.2f}, {len(final_dead[n])} runs); at update 0: "
          f"{at_start[n].min():.2f} .. {at_start[n].max():.2f}")

# %%
# Units die in both networks: every GRU run (57, incl. main_grid) ends with > 5 % dead units,
# every SimpleRNN run (24) with > 25 %.
assert final_dead["GRU"].min() > 0.05 and len(final_dead["GRU"]) == 57
assert min(final_dead[n].min() for n in nb.NETWORKS if n != "GRU") > 0.25
# The GRU starts with none; the SimpleRNN has dead units before it has learned anything.
assert at_start["GRU"].max() <= 0.02
assert min(at_start[n].min() for n in nb.NETWORKS if n != "GRU") >= 0.05

# %% [markdown]
# Units do die, and not only in the SimpleRNN: every GRU run ends with 8-42 % of its units
# dead (the analysis's "✅ No ReLU dead neuron problem (uses tanh)" for the GRU is wrong: its
# rate is relu(x)). The SimpleRNN ends with 32-59 % dead, and already has 8 % (seed 0) or
# 28 % (seed 1) dead units at update 0, before any learning: its random initial weights alone
# push some states below zero for the whole trial.
#
# ## 4. Do dead units stay dead?
#
# Follow each unit through its records. A unit *revives* if it is dead at one record and
# alive at a later one. Short deaths are common near the threshold (a unit whose state hovers
# just below zero may fire in one batch and not in the next), so we also ask: of the units
# that were dead at L records in a row (10 L updates), what fraction came back before the end
# of training?

# %%
revived = {}
for network in nb.NETWORKS:
    ud = sweeps[nb.NETWORKS[network][0]].arrays["unit_dead"][nb.runs_of(sweeps, network)]
    c, rv = nb.revival_counts(ud), nb.revival_by_spell_length(ud, lengths=(1, 5, 10, 20))
    revived[network] = (c["revived"].sum() / c["ever_dead"].sum(), rv["fraction"])
    print(f"{network:24s} units that ever died {c['ever_dead'].sum():3d} of "
          f"{ud.shape[0] * ud.shape[2]}, came back "
          f"{c['revived'].sum():3d} ({revived[network][0]:.0%}); after 1/5/10/20 dead records "
          "in a row (10/50/100/200 updates): " + ", ".join(f"{f:.0%}" for f in rv["fraction"]))
nb.plot_revival(sweeps);

# %%
# In every network at least 30 % of the units that died came back later.
assert all(r[0] >= 0.3 for r in revived.values())
# A SimpleRNN unit dead at 20 records in a row (200 updates) rarely returns with the relu
# readout (< 15 %) but often with the tanh readout (> 30 %).
assert revived["SimpleRNN, relu readout"][1][-1] < 0.15
assert revived["SimpleRNN, tanh readout"][1][-1] > 0.3

# %% [markdown]
# Why can they come back? Not through their own gradient. With a relu readout, a unit that is
# dead on every step of a batch passes exactly zero gradient to its incoming weights
# (W_in[:, i], W_rec[:, i], b_i): x_i reaches the loss only through relu(x_i), and
# relu'(x) = 0 for x < 0. We check that on the example networks:

# %%
grads = {label: nb.incoming_gradient(ex["settings"], ex["params"])
         for label, ex in examples.items()}
for label, g in grads.items():
    d = g["dead"]
    print(f"{label:26s} dead units {d.sum():2d}: largest incoming gradient "
          f"{g['grad'][d].max() if d.any() else float('nan'):.1e}; alive units: median "
          f"{np.median(g['grad'][~d]):.1e}")

# %%
for label in ("GRU, lr 0.01", "GRU, lr 0.1", "SimpleRNN, relu readout"):
    g = grads[label]
    assert g["dead"].any() and np.all(g["grad"][g["dead"]] == 0), label
# the tanh readout reads x itself, so gradient reaches units whose rate is 0
g = grads["SimpleRNN, tanh readout"]
assert g["dead"].any() and np.all(g["grad"][g["dead"]] > 0)

# %% [markdown]
# So a dead unit's own weights are frozen (apart from Adam's momentum, which fades within a
# few dozen updates). What moves it is everything else: its state integrates
# relu(x_j) W_rec[j, i] from the *other* units, whose rates change as they learn, plus input
# and noise that differ from trial to trial. When that drive rises, x_i crosses zero and the
# unit is back. With the tanh readout the unit's own weights keep learning too, which fits its
# long-dead units coming back most often (43 % against 5 % with the relu readout).
#
# ## 5. Does negative kappa kill units?
#
# Paired by network, entropy_coef and seed: final dead fraction at kappa = -0.4 (risk-seeking,
# positive errors x1.4, negative x0.6) minus at kappa = +0.4 (risk-averse). The claim predicts
# a positive difference. Use the demo above to see the curves.

# %%
diffs = nb.paired_kappa_differences(sweeps)
grid_diffs = nb.paired_grid_differences(grid)
both = np.concatenate([diffs["all"], grid_diffs])
for key, d in list(diffs.items()) + [("GRU (main_grid)", grid_diffs), ("all 21 pairs", both)]:
    se = d.std(ddof=1) / np.sqrt(len(d))
    print(f"{key:24s} dead(-0.4) - dead(+0.4) = {d.mean():+.3f} +- {se:.3f} (s.e.), "
          f"range {d.min():+.2f} .. {d.max():+.2f}, {len(d)} pairs")

# %%
# Risk-seeking kappa does not leave more dead units: over the 21 pairs the difference is
# negative by more than two standard errors.
se_both = both.std(ddof=1) / np.sqrt(len(both))
assert both.mean() + 2 * se_both < 0
assert grid_diffs.mean() < 0 and diffs["all"].mean() < 0

# %% [markdown]
# Negative kappa does not kill units. If anything the sign is the other way: kappa = -0.4
# ends with about 5 percentage points *fewer* dead units than kappa = +0.4
# (-0.05 +- 0.02 over 21 paired runs), a small effect next to the spread between seeds
# (0.08 to 0.42 in the GRU). Section 8 shows why kappa has little leverage here.
#
# ## 6. Does the dead fraction predict collapse?
#
# A run is *collapsed* when its final behaviour ignores the offer (never chooses, always
# aborts, or always picks one side; see notebook 00). Every run at the default learning rate,
# final dead fraction against final reward, plus the lr 0.1 runs of section 8:

# %%
nb.plot_dead_vs_outcome(full);
sep = {n: nb.collapse_separation(full, n) for n in nb.NETWORKS}
sep_no_abort = {n: nb.collapse_separation(full, n, exclude_modes=("always_aborts",))
                for n in nb.NETWORKS}
for n in nb.NETWORKS:
    s, s2 = sep[n], sep_no_abort[n]
    print(f"{n:24s} collapsed {s['n_collapsed']:2d} of {s['n_collapsed'] + s['n_other']:2d}: "
          f"dead {np.round(np.sort(s['dead_collapsed']), 2)}; others "
          f"{s['dead_other'].min():.2f} .. {s['dead_other'].max():.2f}; AUC {s['auc']:.2f} "
          f"(without always-aborting runs {s2['auc']:.2f})")
gru_converged = full["dead"][base & (full["network"] == "GRU") & (full["mode"] == 0)]
print(f"converged GRU runs: dead fraction {gru_converged.min():.2f} .. {gru_converged.max():.2f}")

# %% [markdown]
# One caution before reading the AUCs: "dead" counts valid steps only, and a run that always
# aborts has trials one step long, which gives each unit a single chance per trial to fire.
# Fewer observed steps can only make a unit look deader, as the first example network shows:

# %%
one_step, all_steps = nb.dead_with_fewer_steps(examples["SimpleRNN, relu readout"]["states"])
print(f"dead fraction counting the first valid step of each trial: {one_step:.2f}; "
      f"counting all valid steps: {all_steps:.2f}")
assert one_step > all_steps

# %%
gru = sep["GRU"]
as_dead = int(np.sum(gru["dead_other"] >= gru["dead_collapsed"].min()))
print(f"GRU runs that did not collapse with at least as many dead units as the least-dead "
      f"collapsed run: {as_dead} of {gru['n_other']}")
# The GRU rarely collapses (3 of 57) and its collapsed runs are not the deadest: several
# healthy runs have as many dead units or more, and converged runs carry 20 % and more.
assert gru["n_collapsed"] <= 5 and gru["dead_other"].max() > gru["dead_collapsed"].max()
assert as_dead >= 3
assert gru_converged.max() >= 0.2
# Across types: the SimpleRNN has more than twice the GRU's dead units and mostly collapses.
simple = [n for n in nb.NETWORKS if n != "GRU"]
assert min(np.median(final_dead[n]) for n in simple) > 2 * np.median(final_dead["GRU"])
assert sum(sep[n]["n_collapsed"] for n in simple) > 12
# Within the SimpleRNN, set aside the always-aborting runs: the dead fraction separates
# collapsed from other runs hardly better than a coin (AUC <= 0.75, 9 and 10 runs).
assert all(sep_no_abort[n]["auc"] <= 0.75 for n in nb.NETWORKS if n != "GRU")

# %% [markdown]
# Across network types the dead fraction and collapse go together: the SimpleRNN has more
# than twice the GRU's dead units and collapses in most runs (16 of 24). Within a network
# type the link is weak. The GRU collapsed in only 3 of 57 runs, with 26-30 % dead units: in
# the upper part of the range (AUC 0.92), but 5 runs that did not collapse had as many dead
# units or more (up to 42 %), converged runs carry 9-24 %, and three collapses are too few to
# make a predictor of. In the SimpleRNN the AUC is 0.70 (relu readout) and 0.65 (tanh
# readout), and once the always-aborting runs (whose one-step trials inflate the count) are
# set aside it is 0.57 and 0.48: chance. Where many dead units and collapse do come together
# is a large learning rate (red x, section 8), a common cause of both. The dead fraction is
# not a usable predictor of collapse, and nothing here shows dead units causing it.
#
# ## 7. The SimpleRNN's relu/tanh mismatch
#
# Upstream's SimpleRNN runs its dynamics on relu(x) but its policy reads tanh(x). The readout
# therefore sees the negative states that the dynamics pass on as zero: a unit that is dead
# for the recurrence still speaks to the policy, with tanh(x) in (-1, 0). How much of what
# the readout sees comes from negative states, in the trained example?

# %%
share = nb.negative_readout_share(examples["SimpleRNN, tanh readout"]["states"])
print(f"states x < 0 on {share['frac_negative']:.0%} of (step, trial, unit); they carry "
      f"{share['share_negative']:.0%} of sum |tanh(x)| that the readout sees, "
      f"{share['share_dead']:.0%} from units that are dead for the dynamics")
assert 0.35 < share["share_negative"] < 0.75 and share["share_dead"] > 0.1

# %% [markdown]
# A large part of the policy's input is invisible to the recurrence, and (section 4) it
# carries gradient to units the dynamics have switched off. Does that help or hurt learning?
# Paired by kappa, entropy_coef and seed (12 pairs), 600 updates, against the GRU's 12 runs
# of the same length:

# %%
rc = nb.readout_comparison(sweeps)
gru_runs = nb.runs_of(sweeps, "GRU")
gru_reached = int(np.sum(sweeps["nb01_gru"].arrays["updates_to_criterion"][gru_runs] >= 0))
for label in ("relu", "tanh"):
    print(f"SimpleRNN readout {label}: final reward {rc['reward_' + label].mean():+.2f} "
          f"(range {rc['reward_' + label].min():+.2f} .. {rc['reward_' + label].max():+.2f}), "
          f"collapsed {rc['collapsed_' + label].sum()}/12, reached the learning criterion "
          f"{np.sum(rc['criterion_' + label] >= 0)}/12")
print(f"GRU: reached the learning criterion {gru_reached}/12")
reward_diff = rc["reward_tanh"] - rc["reward_relu"]
print(f"paired reward difference tanh - relu: {reward_diff.mean():+.2f} +- "
      f"{reward_diff.std(ddof=1) / np.sqrt(len(reward_diff)):.2f} (s.e.)")

# %%
# Neither readout learns the task in 600 updates (at most 1 of 12 runs each reaches the
# criterion) while the GRU does in at least 3 of 12; the readouts' rewards differ by less
# than 0.3 per trial (the gap between always aborting and choosing is 1.2).
assert np.sum(rc["criterion_relu"] >= 0) <= 1 and np.sum(rc["criterion_tanh"] >= 0) <= 1
assert gru_reached >= 3
assert abs(reward_diff.mean()) < 0.3
# the tanh-readout runs that are not counted as collapsed still lose reward on average
assert np.all(rc["reward_tanh"][~rc["collapsed_tanh"]] < 0)

# %% [markdown]
# The mismatch is real and measurable: about half of what the tanh readout sees comes from
# negative states that the dynamics ignore, and it keeps dead units trainable. But it does
# not decide whether the SimpleRNN learns: at these settings the SimpleRNN fails with either
# readout (0 of 12 runs each reach the criterion; collapsed 10 of 12 with relu, 6 of 12 with
# tanh, and the tanh runs not counted as collapsed are stuck near a reward of -0.2; paired
# reward difference -0.05 +- 0.19). The SimpleRNN's failure needs another
# explanation than the mismatch (or than its dead units, section 6).
#
# A tanh (or softplus) *dynamics* would have no dead units by construction (tanh'(x) > 0
# everywhere). Section 9 trains the GRU with those rate functions and asks whether removing
# dead units changes learning.
#
# ## 8. What makes units die?
#
# Four controlled changes, each against the default.
#
# **The learning rate** (`data/nb01_lr.npz`: policy lr 0.001 and 0.1 at kappa 0, same seeds
# as the lr 0.01 runs above):

# %%
nb.plot_lr_effect(sweeps);
lr_dead = nb.lr_effect(sweeps)
for network, per in lr_dead.items():
    print(f"{network:24s} " + "   ".join(f"lr {lr:g}: " + " ".join(f"{v:.2f}" for v in vals)
                                          for lr, vals in per.items()))
lr_mode = {lr: nb.lr_modes(sweeps, lr) for lr in (0.001, 0.01, 0.1)}
for lr, modes in lr_mode.items():
    print(f"modes at lr {lr:g}: {modes}")

# %%
# Ten times the learning rate, more dead units, seed by seed (a run that diverged is NaN).
for network, per in lr_dead.items():
    lo, mid, hi = per[0.001], per[0.01], per[0.1]
    assert np.all(lo < mid) and np.all((hi > mid) | np.isnan(hi)), network
    assert np.isfinite(hi).any()
# The GRU converges at lr 0.01 and collapses at lr 0.1 (both seeds).
assert lr_mode[0.01]["GRU"] == ["converged", "converged"]
assert all(m in ("one_side", "always_aborts", "never_chooses") for m in lr_mode[0.1]["GRU"])

# %% [markdown]
# The learning rate is the strong lever: the GRU goes from 2 % dead units at lr 0.001 to
# 9-24 % at 0.01 and 46-48 % at 0.1, where both seeds collapse (one SimpleRNN run at lr 0.1
# diverged at update 9). Large steps kill units and break the policy at once.
#
# **The initial bias**, at initialisation (no training): shift every unit's bias b by beta
# and count dead units in one batch, 3 seeds.

# %%
shifts = (-0.5, -0.25, 0.0, 0.25)
at_init = {n: nb.dead_fraction_at_init(TrainSettings().replace(network_type=n), shifts)
           for n in ("gru", "simple")}
for n, v in at_init.items():
    print(f"{n:6s} " + "  ".join(f"beta={b:+.2f}: {m:.2f}" for b, m in zip(shifts, v.mean(1))))
# A bias of -0.5 more than doubles the SimpleRNN's dead units at once; the GRU stays < 10 %.
assert at_init["simple"][0].mean() > max(2 * at_init["simple"][2].mean(),
                                         at_init["simple"][2].mean() + 0.1)
assert at_init["gru"][0].mean() < 0.1

# %% [markdown]
# A bias of -0.5 raises the SimpleRNN's dead units from about a tenth to about a third
# before any training, while the GRU stays under 10 %. The reason is in the equations: the
# GRU's update gate (z ~ 0.5 at initialisation) halves its leak, so its states stay near
# the initial state x0 = 0.5 for the first steps of a trial and fire there, and a dead unit
# must be silent on *every* valid step.
#
# **kappa, through Adam.** kappa rescales advantages, hence gradients: by 1 - kappa for good
# surprises and 1 + kappa for bad ones. Adam divides each gradient by its running root mean
# square, so a common factor cancels and the step keeps the size of the learning rate. Three
# Adam steps with gradients g and 1.4 g:

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
assert torch.allclose(adam_steps(1.0), adam_steps(1.4), atol=1e-6)

# %% [markdown]
# kappa can change the *direction* of the update (how good and bad surprises are weighed),
# not its size. The analysis's step "Risk-seeking amplifies ... Network updates aggressively"
# needs an optimiser whose step grows with the gradient; with Adam the size of the step is
# set by the learning rate, and the learning rate is what kills units.
#
# **The optimiser: plain SGD, where kappa does reach the step.** `data/nb01_sgd.npz` trains
# the same GRU with plain SGD on the policy (`policy_optimizer="sgd"`: step = lr x clipped
# gradient; the baseline keeps Adam) at lr 1, which learns about as well as Adam at 0.01, and
# at lr 3; kappa -0.4, 0, 0.4, seeds 0 and 1, entropy_coef 0, 600 updates, paired by kappa and
# seed with the Adam runs of section 4. Under SGD, kappa = -0.4 multiplies the steps driven by
# good surprises by 1.4 and those driven by bad ones by 0.6, so if "aggressive updates" killed
# units, kappa now could.

# %%
opt = nb.optimizer_comparison(sweeps["nb01_gru"], data.load("nb01_sgd"))
nb.plot_optimizer_comparison(opt);
for label, c in opt.items():
    print(f"{label:13s} final dead {c['dead'].round(3)}  max dead {c['max_dead'].round(3)}  "
          f"reward {c['reward'].round(2)}  collapsed {int(c['collapsed'].sum())} of "
          f"{len(c['dead'])}")
print("(runs ordered kappa -0.4, -0.4, 0, 0, +0.4, +0.4; seeds 0, 1)")
moved = nb.weight_displacement(updates=100)
for label, groups in moved.items():
    print(f"mean |change| after 100 updates, {label:13s} " +
          "  ".join(f"{g} {v:.3f}" for g, v in groups.items()))

# %%
adam, sgd1, sgd3 = (opt[k] for k in nb.OPTIMIZER_RUNS)
assert np.all(adam["kappa"] == sgd1["kappa"]) and np.all(adam["seed"] == sgd3["seed"])
# With Adam every run ends with about 8 % dead units or more; with SGD at lr 1 no run ever has
# more than 2 %, at any kappa and at any point of training ...
assert np.all(adam["dead"] > 0.075)
assert np.all(sgd1["max_dead"] < 0.02)
# ... while it learns about as well: no collapse, final reward >= 0.65 in all six runs
assert not sgd1["collapsed"].any() and np.all(sgd1["reward"] >= 0.65)
# kappa, which now scales the steps, changes the dead fraction by under 0.01 per seed
lo, hi = sgd1["kappa"] == -0.4, sgd1["kappa"] == 0.4
assert np.all(np.abs(sgd1["dead"][lo] - sgd1["dead"][hi]) < 0.01)
# At lr 3 SGD collapses at every kappa, with at most ~10 % dead units
assert sgd3["collapsed"].sum() >= 4 and np.all(sgd3["max_dead"] < 0.11)
assert all(sgd3["collapsed"][sgd3["kappa"] == k].any() for k in (-0.4, 0.0, 0.4))
# Adam moves the recurrent weights several times further than SGD, the readout about as far
assert moved["Adam lr 0.01"]["W_rec"] > 4 * moved["SGD lr 1"]["W_rec"]
assert 0.5 < moved["Adam lr 0.01"]["W_out"] / moved["SGD lr 1"]["W_out"] < 2

# %% [markdown]
# The optimiser changes the picture more than kappa ever did. With plain SGD at a learning
# rate that learns (lr 1: rewards 0.70-0.78, like Adam's 0.71-0.80 on its healthy runs),
# units barely die at all: at most 1.6 % at any point of any run, against 8-30 % at the end
# of every Adam run. So kappa has nothing to kill under SGD either: with kappa scaling the
# steps, the dead fraction still moves by less than 0.01. Three times that learning rate
# (lr 3) collapses 5 of 6 runs, at every kappa, with at most about 10 % dead units: too large a
# step breaks the policy without killing units. The analysis's chain "risk-seeking ->
# aggressive updates -> dead neurons" fails at both ends: under Adam kappa does not change
# the step's size; under SGD it does, and units do not die.
#
# Why Adam? After 100 updates from the same start, Adam has moved the recurrent weights
# about 8 times further than SGD (mean |change| about 0.09 vs 0.01) and the readout about as
# far. Adam's step is about lr for *every* weight, however small and noisy its gradient, so
# the recurrent weights and biases of units that matter little random-walk, and a walk that
# pushes a unit's input below zero on every step kills it. SGD scales each step by its
# gradient, so those weights barely move. That is the likely mechanism; this notebook shows
# the correlation (same runs, optimiser changed), not the walk itself.
#
# ## 9. Without dead units: tanh and softplus rates
#
# If dead units were what held learning back, a rate function that cannot be exactly zero
# should learn better. `data/nb01_rates.npz` trains the same GRU with r = tanh(x) or
# r = softplus(x) = log(1 + e^x) instead of relu(x) (`rate_function` in the settings; kappa
# -0.4, 0, 0.4, seeds 0 and 1, entropy_coef 0, 600 updates), paired by kappa and seed with
# the relu runs above (same initial weights, same trials). Neither tanh nor softplus is ever
# exactly 0, so the dead fraction is 0 by definition; what can still differ is the dormant
# fraction (units firing at under a tenth of the layer's mean |r|), the reward, the rate of
# choosing the higher expected value, whether the run reaches the learning criterion, and
# whether it collapses.

# %%
rate_comp = nb.rate_comparison(sweeps["nb01_gru"], data.load("nb01_rates"))
nb.plot_rate_comparison(rate_comp);
for r in nb.RATE_FUNCTIONS:
    c = rate_comp[r]
    modes = [nb.analysis.MODES[m] if m >= 0 else "stopped" for m in c["mode"]]
    print(f"{r:8s} dead {c['dead'].mean():.2f}  dormant {c['dormant'].min():.2f} .. "
          f"{c['dormant'].max():.2f}  reward {c['reward'].mean():+.2f}  higher-EV "
          f"{np.nanmean(c['higher_ev']):.2f}  reached criterion {np.sum(c['criterion'] >= 0)}/6"
          f"  collapsed {c['collapsed'].sum()}/6: {modes}")
reward_gain = {r: rate_comp[r]["reward"] - rate_comp["relu"]["reward"]
               for r in ("tanh", "softplus")}
for r, d in reward_gain.items():
    print(f"paired reward difference {r} - relu: {d.mean():+.2f} +- "
          f"{d.std(ddof=1) / np.sqrt(len(d)):.2f} (s.e., 6 pairs)")

# %%
relu, alt = rate_comp["relu"], {r: rate_comp[r] for r in ("tanh", "softplus")}
rates_ds = data.load("nb01_rates")
# No dead unit at any record of any tanh or softplus run; relu runs end with some.
assert np.all(rates_ds.h("dead_fraction") == 0) and relu["dead"].min() > 0.05
# Dormant units nearly vanish: in each of the 6 pairs relu has at least 0.1 more dormant
# units than tanh and than softplus (6 of 6 pairs in the same direction: sign test p = 0.03).
for c in alt.values():
    assert np.all(relu["dormant"] - c["dormant"] > 0.1)
# But learning does not improve: without dead units the GRU reaches the learning criterion
# in no more runs and collapses in at least as many. With 6 runs a count differs by one run
# by chance, so we assert only the direction of "no gain", not that tanh/softplus are worse.
for c in alt.values():
    assert np.sum(c["criterion"] >= 0) <= np.sum(relu["criterion"] >= 0)
    assert c["collapsed"].sum() >= relu["collapsed"].sum()
# A reward gain above 0.1 per trial is excluded at two standard errors (6 pairs).
for d in reward_gain.values():
    assert d.mean() + 2 * d.std(ddof=1) / np.sqrt(len(d)) < 0.1

# %% [markdown]
# Removing dead units does not help. With tanh or softplus rates the GRU has no dead units
# and almost no dormant ones (final dormant fraction 0-0.04 with tanh, 0-0.11 with softplus,
# against 0.20-0.33 with relu, every pair in the same direction), yet it learns no better:
# relu reached the learning criterion in 2 of 6 runs and collapsed in 1; tanh reached it in 1
# and collapsed in 3 (two one-sided, one always aborting); softplus reached it in none and
# collapsed in 4 (three always aborting). The paired reward difference is -0.04 +- 0.02
# (tanh - relu) and -0.44 +- 0.26 (softplus - relu). Six runs per rate function are too few
# to call softplus worse (one collapse more or less moves the mean by 0.2), but they are
# enough to exclude the analysis's implication that dead units are what stands between the
# GRU and learning: take them away and learning and collapse stay as they were or get worse.
#
# ## 10. Verdict
#
# Data: 24 SimpleRNN and 12 GRU runs with per-unit records (2 seeds, 600 updates), 45 GRU
# runs of the main_grid (3 seeds, 1000 updates), 8 learning-rate runs, 12 GRU runs with tanh
# or softplus rates; each number is asserted above.
#
# | Claim (analysis) | Measured | Verdict |
# |---|---|---|
# | ReLU units die; the GRU is exempt ("uses tanh") | every run ends with dead units: GRU 8-42 % (57 runs), SimpleRNN 32-59 % (24 runs); the SimpleRNN has 8-28 % at update 0 | **confirmed** for both networks; the GRU exemption is **wrong** (its rate is relu(x)) |
# | "Once a neuron goes negative, it stays dead" | 56 % (GRU), 39 % (SimpleRNN, relu readout), 64 % (tanh readout) of the units that died came back; after 200 dead updates in a row 18 %, 5 %, 43 % | **refuted** as stated: the dead unit gets no gradient, but its state keeps integrating other units, input and noise |
# | Negative kappa kills units | dead(kappa -0.4) - dead(+0.4) = -0.05 +- 0.02 over 21 paired runs | **refuted**: small, and of the opposite sign |
# | Dead units collapse the network | GRU collapsed 3/57 with 26-30 % dead, 5 healthy runs as dead or deader (up to 42 %); SimpleRNN AUC 0.70 / 0.65, 0.57 / 0.48 without always-aborting runs | **not supported**: no usable prediction within a network; a large learning rate causes both |
# | The relu/tanh mismatch "could cause issues" | tanh readout: about half its input from x < 0; dead units keep a gradient; reached criterion 0/12 vs 0/12 (GRU 4/12); reward difference -0.05 +- 0.19 | **partly**: the mismatch is real but does not change whether the SimpleRNN learns; it fails either way |
# | (what kills units) | lr 0.001 / 0.01 / 0.1: GRU 2 / 9-24 / 46-48 % dead; bias -0.5 at init: SimpleRNN 10 -> 33 %; Adam cancels kappa's gradient scale | the **learning rate** (and the SimpleRNN's initialisation), not kappa |
# | "Risk-seeking ... network updates aggressively" kills units (under an optimiser where kappa scales the step) | plain SGD, lr 1: max dead 0-1.6 % at every kappa (Adam 0.01: 8-30 % final), reward 0.70-0.78; kappa moves the dead fraction < 0.01; SGD lr 3: 5 of 6 collapse with <= 10 % dead | **refuted**: with SGD kappa scales the steps and units still do not die; Adam's uniform steps are what kill them here |
# | (implied) Without dead units the network would learn | GRU with tanh / softplus rates: 0 dead, dormant 0-0.04 / 0-0.11 (relu 0.20-0.33); reached criterion 1/6, 0/6 (relu 2/6); collapsed 3/6, 4/6 (relu 1/6); reward vs relu -0.04 +- 0.02, -0.44 +- 0.26 (6 pairs) | **refuted**: removing dead units does not improve learning or prevent collapse |
#
# ## Think!
#
# Section 8 found two facts that look contradictory: with Adam, ten times the learning rate
# (0.01 -> 0.1) took the GRU from 9-24 % to 46-48 % dead units, so "bigger steps kill units";
# yet plain SGD at lr 3, which takes steps large enough to collapse 5 of 6 runs, left at
# most about 10 % dead. What is different about the steps, and what experiment would tell the two
# explanations apart?
#
# <details><summary>Answer</summary>
#
# Adam's lr sets the step of *every* weight (its update is about lr times the sign of a
# smoothed gradient), so raising it moves weights with tiny, noisy gradients, such as the
# recurrent weights and biases of units that matter little, as far as the useful ones. SGD's
# lr scales the gradient, so a large lr makes big steps where the gradient is big (the readout
# and the input weights) and still small ones elsewhere: it breaks the policy before it
# walks the recurrent weights far. The measured displacements agree (after 100 updates
# Adam moved W_rec about 8 times further than SGD, W_out about as far). To separate "how far
# the weights walk" from "which optimiser", run Adam with a large eps (say 1e-2): it then
# divides small gradients by eps instead of by their own size and behaves like SGD for them,
# while large gradients still get steps of about lr. Mind the confound: a large eps also
# shrinks the steps overall, like a lower lr, which on its own kills fewer units; compare
# runs that learn equally well, and check which weights stopped walking.
# </details>
#
# ## Exercise: the dead fraction
#
# Write `dead_fraction(rates, mask)`: for rates (time, ensemble, trials, units) and mask
# (time, ensemble, trials) with 1 on valid steps, return one number per network (ensemble):
# the fraction of its units whose rate is exactly zero on every valid step of every trial.
# The checker tests the two traps: activity after a trial has ended does not count, and a tiny
# positive rate is not zero.

# %%
def dead_fraction(rates: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    raise NotImplementedError("a unit is dead if rates * mask is 0 on every (step, trial)")


# %% [markdown]
# <details><summary>Solution</summary>
#
# ```python
# def dead_fraction(rates, mask):
#     fired = (rates * mask.unsqueeze(-1) > 0).any(dim=0).any(dim=1)   # (ensemble, units)
#     return (~fired).float().mean(dim=-1)                              # (ensemble,)
# ```
# </details>

# %%
def solution_dead_fraction(rates: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    fired = (rates * mask.unsqueeze(-1) > 0).any(dim=0).any(dim=1)
    return (~fired).float().mean(dim=-1)


print(nb.check_dead_fraction(solution_dead_fraction))
# Try yours: nb.check_dead_fraction(dead_fraction)

# %% [markdown]
# ## Train your own
#
# Press **Train** to train one network with your settings and record its units (GRU about 20
# updates per second, SimpleRNN a little faster). Try lr 0.1 against 0.01, or kappa -0.9
# against +0.9. Nothing runs until you press the button.

# %%
nb.live_run_widget()

# %% [markdown]
# ## Summary
#
# - Dead means exactly zero on every valid step of a batch; dormant (ReDo) means under a tenth
#   of the layer's mean activity. Both the SimpleRNN and the pyrl GRU have dead units: the
#   GRU's rate is relu(x) too.
# - Dead units do not stay dead: between 39 % and 64 % of the units that died came back. A
#   dead unit's own weights get exactly zero gradient, but in a leaky recurrent network its
#   state keeps integrating the other units, the input and noise. With the tanh readout, dead
#   units even keep a gradient.
# - kappa barely changes the dead fraction (risk-seeking leaves slightly fewer dead units),
#   and the dead fraction does not predict collapse within a network type.
# - The learning rate is what kills units: ten times the step, several times the dead units,
#   and collapse. Adam cancels the gradient scale that kappa changes.
# - With plain SGD, where kappa does scale the step, units barely die (at most 1.6 % at
#   lr 1, against 8-30 % with Adam) and kappa still does not matter; too large an SGD step
#   collapses the policy without killing units.
# - Rates that are never zero (tanh, softplus) remove dead units and nearly all dormant ones,
#   but the GRU learns no better with them and collapses at least as often.
# - The SimpleRNN's relu/tanh mismatch is real (the readout sees negative states) but it is
#   not why the SimpleRNN fails here: it fails with either readout.
#
# ## References
#
# - Lu, L., Shin, Y., Su, Y. & Karniadakis, G. E. (2019). Dying ReLU and initialization:
#   theory and numerical examples. arXiv:1903.06733.
# - Sokar, G., Agarwal, R., Castro, P. S. & Evci, U. (2023). The dormant neuron phenomenon in
#   deep reinforcement learning. *ICML 2023* (ReDo score and dormant units).
# - Song, H. F., Yang, G. R. & Wang, X.-J. (2017). Reward-based training of recurrent neural
#   networks for cognitive and value-based tasks. *eLife* 6:e21492.
# - Kingma, D. P. & Ba, J. (2015). Adam: a method for stochastic optimization. *ICLR 2015*.
# - Mihatsch, O. & Neuneier, R. (2002). Risk-sensitive reinforcement learning. *Machine
#   Learning* 49, 267-290.
