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
# # 01 · Dead ReLU units: do they die, stay dead, and cause the collapse?
#
# A ReLU unit whose state x is negative fires relu(x) = 0 and passes no gradient. The first
# suspect for the collapse of risk-sensitive training: units go negative, stay there, and a
# network of dead units stops learning. We measure each link of that chain.
#
# **Learning objectives.** You will
# 1. define dead and dormant units and compute both from a batch of rates;
# 2. see whether dead units stay dead in a leaky, noisy recurrent network;
# 3. test, with paired runs and a standard error, whether risk-seeking kappa kills units;
# 4. measure how well the dead fraction separates collapsed from healthy runs (an AUC);
# 5. name what does kill units here: the learning rate and Adam.
#
# **Prerequisites.** Notebook 00 (the task, kappa, the trainer, the glossary); a mean and a
# standard error. **Time:** about 40 minutes; Run All takes under a minute.

# %%
# %matplotlib inline
import numpy as np
import torch

from pyrl_mini import data, exercises
from pyrl_mini.config import TrainSettings
from pyrl_mini.lessons import nb01_dead_neurons as nb

torch.set_num_threads(1)  # one thread: training sums in the same order on every run

# %% [markdown]
# ## 1. The suspect (3 min)
#
# The written analysis that circulates with the upstream code says of the ReLU: "Once a
# neuron goes negative, it stays "dead" (no gradient flow)", and of negative kappa: "Some
# neurons may become negative → ReLU kills them" and "Eventually entire network could
# collapse". It exempts the GRU ("uses tanh"), but the pyrl GRU's rate is r = relu(x) too
# (Song, Yang & Wang 2017), so we measure both networks: the GRU and a leaky SimpleRNN.
#
# Four questions decide: do dead units stay dead? does negative kappa make more? does the dead
# fraction predict collapse? would units without a dead zone (tanh, softplus) learn better?
#
# ## 2. Dead and dormant (10 min)
#
# For one network's rates r (time, trials, units) on one batch, counting only *valid* steps
# (before each trial ends):
#
# $$\text{dead}_i \iff \max_{\text{valid } t,b} r_{t,b,i} = 0, \qquad
# s_i = \frac{\overline{|r_i|}}{\frac{1}{N}\sum_k \overline{|r_k|}}, \qquad
# \text{dormant}_i \iff s_i \le \tau = 0.1 ,$$
#
# the bar being the mean over valid steps. A dormant unit (Sokar et al. 2023) fires at under a
# tenth of the layer's average; every dead unit is dormant.
#
# **Interactive demo.** Four small networks trained live for 40 updates (a few seconds): the
# GRU at learning rate 0.01 and 0.1, the SimpleRNN with two readouts (Bonus C). Each raster
# shows every unit's rate over six trials of one batch of 256.

# %%
examples = nb.train_examples(updates=40)
raster = nb.raster_demo(examples)
raster

# %% [markdown]
# **Think!** A dead unit is a white row in every trial. Which network has the most? Slide
# through the batch: can a unit be white in all six trials shown and still not be dead?
#
# <details><summary>Answer</summary>
#
# The GRU at lr 0.1 and the SimpleRNNs have many more dead units than the GRU at lr 0.01.
# Yes: "dead" is decided on all 256 trials, so a unit silent in six of them may fire in
# another. Those units are not marked red.
# </details>
#
# ### Exercise 1: dead and dormant fractions
#
# Write `dead_and_dormant(rates, mask)` for one network: rates (time, trials, units), mask
# (time, trials) with 1.0 on valid steps. Return (dead fraction, dormant fraction). The checker
# compares your numbers with the trainer's diagnostics.

# %%
def dead_and_dormant(rates: torch.Tensor, mask: torch.Tensor) -> tuple[float, float]:
    """(fraction of dead units, fraction of dormant units, tau = 0.1) on valid steps."""
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
# Your function (or the reference) on the four example networks, one batch of 256 trials each:

# %%
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
    dead = nb.dead_units(st["rates"][:, None], st["mask"][:, None])[0]
    dormant = nb.dormant_units(st["rates"][:, None], st["mask"][:, None])[0]
    assert np.isclose(fractions[label][0], dead.mean()) and np.isclose(fractions[label][1],
                                                                       dormant.mean())
    # a dead unit is flat at zero on every valid step of every trial of the batch
    assert np.all(st["rates"][st["mask"].astype(bool)][:, dead] == 0)
    assert not (dead & ~dormant).any(), "every dead unit is dormant"
# after 40 updates the fast GRU already has more dead units than the GRU at lr 0.01
assert fractions["GRU, lr 0.1"][0] > fractions["GRU, lr 0.01"][0]

# %% [markdown]
# ## 3. Do dead units stay dead? (7 min)
#
# First, the gradient. With a relu readout, x_i reaches the loss only through relu(x_i), and
# relu'(x) = 0 for x < 0, so a unit dead on every step of a batch gets exactly zero gradient
# on its incoming weights (W_in[:, i], W_rec[:, i], b_i). On the same batches as above:

# %%
grads = {label: nb.incoming_gradient(ex["settings"], ex["params"])
         for label, ex in examples.items()}
for label, g in grads.items():
    d = g["dead"]
    print(f"{label:24s} {d.sum():2d} dead units: largest incoming gradient "
          f"{g['grad'][d].max() if d.any() else float('nan'):.1e}; alive units: median "
          f"{np.median(g['grad'][~d]):.1e}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
for label, ex in examples.items():
    # the same batch of 256 trials as the raster and Exercise 1: the same dead units
    st = ex["states"]
    assert np.array_equal(grads[label]["dead"],
                          nb.dead_units(st["rates"][:, None], st["mask"][:, None])[0]), label
for label in ("GRU, lr 0.01", "GRU, lr 0.1", "SimpleRNN, relu readout"):
    g = grads[label]
    assert g["dead"].any() and np.all(g["grad"][g["dead"]] == 0), label
# the tanh readout reads x itself, so gradient reaches units whose rate is 0
g = grads["SimpleRNN, tanh readout"]
assert g["dead"].any() and np.all(g["grad"][g["dead"]] > 0)

# %% [markdown]
# Yet a leaky unit's state keeps integrating, x_t = (1 - alpha) x_{t-1} + alpha (relu(x_{t-1})
# W_rec + u_t W_in + b + noise_t): the *other* units' rates change as they learn, inputs and
# noise differ from trial to trial, and x_i can cross zero again. Precomputed runs record
# every unit's dead flag every 10 updates: GRU and SimpleRNN, kappa in {-0.4, 0, 0.4},
# entropy bonus 0 or 0.05, **2 seeds** (0 and 1, shared by every cell, so comparisons are
# paired), 600 updates of 256 trials.
#
# **Interactive demo.** Left: dead, dormant and reward over training, one colour per seed.
# Right: the chosen seed's units over training, black where dead; a row that turns white
# again is a unit that came back.

# %%
sweeps = nb.load_all()
demo = nb.dead_demo(sweeps)
demo

# %% [markdown]
# **Think!** Find a run where the dead fraction is flat but units still come and go. What does
# a flat dead fraction hide?
#
# <details><summary>Answer</summary>
#
# The count, not the identity: the right panel shows units dying and others reviving at the
# same time. A flat fraction is a turnover, not a set of permanently dead units.
# </details>
#
# A unit *revives* if it is dead at one record and alive at a later one. Counting every run:

# %%
revived = {}
for network in nb.NETWORKS:
    ud = sweeps[nb.NETWORKS[network][0]].arrays["unit_dead"][nb.runs_of(sweeps, network)]
    c, rv = nb.revival_counts(ud), nb.revival_by_spell_length(ud, lengths=(1, 5, 10, 20))
    revived[network] = (c["revived"].sum() / c["ever_dead"].sum(), rv["fraction"])
    print(f"{network:24s} units that ever died {c['ever_dead'].sum():3d} of "
          f"{ud.shape[0] * ud.shape[2]}, came back {c['revived'].sum():3d} "
          f"({revived[network][0]:.0%}); after 10/50/100/200 dead updates in a row: "
          + ", ".join(f"{f:.0%}" for f in rv["fraction"]))
nb.plot_revival(sweeps);

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# In every network at least 30 % of the units that died came back later.
assert all(r[0] >= 0.3 for r in revived.values())
# A SimpleRNN unit dead for 200 updates in a row rarely returns with the relu readout (< 15 %)
# but often with the tanh readout (> 30 %), whose dead units keep a gradient.
assert revived["SimpleRNN, relu readout"][1][-1] < 0.15
assert revived["SimpleRNN, tanh readout"][1][-1] > 0.3

# %% [markdown]
# 39-64 % of the units that died came back, fewer the longer they stayed dead. "Stays dead"
# is **refuted** as stated.
#
# ## 4. Does negative kappa kill units? (8 min)
#
# Compare runs that differ only in kappa (same network, entropy bonus and seed: same initial
# weights and trials). The claim predicts more dead units at kappa = -0.4 than at +0.4.
# Pairing removes the large spread between seeds.
#
# ### Exercise 2: a paired difference and its standard error
#
# Write `paired_difference(low, high)`: two arrays of final dead fractions, element k of each
# from the same pair. Return (mean of low - high, its standard error).

# %%
def paired_difference(low, high) -> tuple[float, float]:
    """Mean of low - high over pairs, and std(low - high, ddof=1) / sqrt(pairs)."""
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
# On the stored runs, plus the shared `nb00_main_grid` (GRU, 1000 updates, **3 seeds**):

# %%
final = {n: sweeps[nb.NETWORKS[n][0]].final("dead_fraction") for n in nb.NETWORKS}
low, high = [], []
for network in nb.NETWORKS:
    ds = sweeps[nb.NETWORKS[network][0]]
    for e in ds.values("entropy_coef"):          # runs_of orders each cell's runs by seed
        low.append(final[network][nb.runs_of(sweeps, network, kappa=-0.4, entropy_coef=e)])
        high.append(final[network][nb.runs_of(sweeps, network, kappa=0.4, entropy_coef=e)])
grid = data.load("nb00_main_grid")
for e in grid.values("entropy_coef"):
    for k, out in ((-0.4, low), (0.4, high)):
        out.append(grid.final("dead_fraction")[grid.by_seed(kappa=k, entropy_coef=e)])
low, high = np.concatenate(low), np.concatenate(high)
kappa_mean, kappa_se = paired_difference(low, high)
print(f"dead(kappa -0.4) - dead(kappa +0.4) = {kappa_mean:+.3f} +- {kappa_se:.3f} (s.e.), "
      f"{len(low)} pairs; spread of dead fractions between runs: {low.min():.2f} .. "
      f"{low.max():.2f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# the same pairs as the lesson module's own pairing (21 pairs: 12 at 2 seeds, 9 at 3 seeds)
both = np.concatenate([nb.paired_kappa_differences(sweeps)["all"],
                       nb.paired_grid_differences(grid)])
assert len(low) == 21 and np.allclose(np.sort(low - high), np.sort(both))
# Risk-seeking kappa does not leave more dead units: the difference is negative by more than
# two standard errors, and small next to the spread between runs.
assert kappa_mean + 2 * kappa_se < 0 and abs(kappa_mean) < 0.1
assert low.max() - low.min() > 3 * abs(kappa_mean)

# %% [markdown]
# Negative kappa does not kill units: over 21 pairs (2 or 3 seeds per cell, shared across
# cells) kappa = -0.4 ends with about 5 percentage points *fewer* dead units than +0.4, a small
# effect of the opposite sign. **Refuted.** Section 6 shows why kappa has little leverage.
#
# ## 5. Does the dead fraction predict collapse? (8 min)
#
# A run is *collapsed* when its final behaviour ignores the offer (always aborts, never
# chooses, or one side; notebook 00). If dead units cause collapse, collapsed runs should have
# more of them. **Predict first:** in the GRU, will the collapsed runs be the deadest?
#
# ### Exercise 3: how well does a number separate two groups?
#
# The AUC is the probability that a randomly drawn collapsed run has a higher dead fraction
# than a randomly drawn healthy one, counting ties as one half: 1 separates perfectly, 0.5 is
# a coin. Write `separation_auc(collapsed, healthy)`.

# %%
def separation_auc(collapsed, healthy) -> float:
    """P(dead fraction of a random collapsed run > that of a random healthy run), ties 1/2."""
    ...


# %%
separation_auc = exercises.separation_auc.check(separation_auc)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# def separation_auc(collapsed, healthy):
#     a = torch.as_tensor(collapsed, dtype=torch.float64).view(-1, 1)
#     b = torch.as_tensor(healthy, dtype=torch.float64).view(1, -1)
#     return ((a > b).double().mean() + 0.5 * (a == b).double().mean()).item()
# ```
# </details>
#
# Every run at the default learning rate (the GRU's include the 45 nb00_main_grid runs):

# %%
full = nb.run_table(sweeps, nb00_main_grid=grid)
base = np.isclose(full["lr"], nb.BASE_LR)
auc = {}
for network in nb.NETWORKS:
    runs = base & (full["network"] == network)
    dead, col = full["dead"][runs], full["collapsed"][runs]
    # always-aborting runs have one-step trials: a unit gets one chance per trial to fire
    healthy_like = runs & (full["mode"] != nb.analysis.MODES.index("always_aborts"))
    auc[network] = (separation_auc(dead[col], dead[~col]),
                    separation_auc(full["dead"][healthy_like & full["collapsed"]],
                                   full["dead"][healthy_like & ~full["collapsed"]]))
    print(f"{network:24s} collapsed {col.sum():2d} of {runs.sum():2d} runs: dead "
          f"{np.round(np.sort(dead[col]), 2)}; healthy {dead[~col].min():.2f} .. "
          f"{dead[~col].max():.2f}; AUC {auc[network][0]:.2f} (without always-aborting runs "
          f"{auc[network][1]:.2f})")
nb.plot_dead_vs_outcome(full);

# %% tags=["hide-input"] jupyter={"source_hidden": true}
sep = {n: nb.collapse_separation(full, n) for n in nb.NETWORKS}
sep_no_abort = {n: nb.collapse_separation(full, n, exclude_modes=("always_aborts",))
                for n in nb.NETWORKS}
for n in nb.NETWORKS:
    assert np.isclose(auc[n][0], sep[n]["auc"]) and np.isclose(auc[n][1], sep_no_abort[n]["auc"])
gru = sep["GRU"]
# The GRU rarely collapses (3 of 57) and its collapsed runs are not the deadest: at least 3
# healthy runs have as many dead units or more.
assert gru["n_collapsed"] <= 5 and gru["n_other"] + gru["n_collapsed"] == 57
assert np.sum(gru["dead_other"] >= gru["dead_collapsed"].min()) >= 3
assert gru["dead_other"].max() > gru["dead_collapsed"].max()
# Within the SimpleRNN, without the always-aborting runs, the AUC is near a coin (<= 0.75).
assert all(sep_no_abort[n]["auc"] <= 0.75 for n in nb.NETWORKS if n != "GRU")
# Across types the SimpleRNN has more than twice the GRU's dead units and collapses more.
simple = [n for n in nb.NETWORKS if n != "GRU"]
med = {n: np.median(full["dead"][base & (full["network"] == n)]) for n in nb.NETWORKS}
assert min(med[n] for n in simple) > 2 * med["GRU"]
assert sum(sep[n]["n_collapsed"] for n in simple) > 12
# fewer observed steps can only make a unit look deader (why always-aborting runs are set aside)
one_step, all_steps = nb.dead_with_fewer_steps(examples["SimpleRNN, relu readout"]["states"])
assert one_step >= all_steps

# %% [markdown]
# The GRU collapsed in 3 of 57 runs (2 or 3 seeds per cell), in the upper part of the range,
# but healthy runs carry as many dead units or more (up to 42 %). In the SimpleRNN, once the
# always-aborting runs (whose one-step trials inflate the count) are set aside, the AUC is
# near a coin. A large learning rate (red x) brings both dead units and collapse. The dead
# fraction is **not a usable predictor** of collapse.
#
# **Think!** Why are 3 collapses among 57 runs too few to call an AUC of 0.9 real?
#
# <details><summary>Answer</summary>
#
# Each collapsed run carries a third of the AUC: one more collapse at a low dead fraction
# would drop it below 0.7, one fewer could raise it to 1. With 3 positives an interval on the
# AUC spans most of [0.5, 1].
# </details>

# %% [markdown]
# ## 6. What does kill units? (8 min)
#
# **The learning rate.** The same GRU and SimpleRNN at kappa 0 with policy learning rates
# 0.001, 0.01 and 0.1 (2 seeds each):

# %%
nb.plot_lr_effect(sweeps);
lr_dead = nb.lr_effect(sweeps)
for network, per in lr_dead.items():
    print(f"{network:24s} final dead fraction " + "   ".join(
        f"lr {lr:g}: " + " ".join(f"{v:.2f}" for v in vals) for lr, vals in per.items()))
lr_mode = {lr: nb.lr_modes(sweeps, lr) for lr in (0.001, 0.01, 0.1)}
print("GRU behaviour at lr 0.01:", lr_mode[0.01]["GRU"], "; at lr 0.1:", lr_mode[0.1]["GRU"])

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# Ten times the learning rate, more dead units, seed by seed (a run that diverged is NaN).
for network, per in lr_dead.items():
    lo, mid, hi = per[0.001], per[0.01], per[0.1]
    assert np.all(lo < mid) and np.all((hi > mid) | np.isnan(hi)), network
    assert np.isfinite(hi).any()
# The GRU converges at lr 0.01 and collapses at lr 0.1 (both seeds).
assert lr_mode[0.01]["GRU"] == ["converged", "converged"]
assert all(m in ("one_side", "always_aborts", "never_chooses") for m in lr_mode[0.1]["GRU"])

# %% [markdown]
# **The optimiser.** kappa scales advantages, hence gradients, but Adam divides each gradient
# by its own running size, so a common factor cancels (Bonus B). Plain SGD (step = lr x
# gradient) lets kappa reach the step. The GRU with plain SGD at lr 1 (which learns about as
# well as Adam at 0.01) and lr 3, and with **Adam at eps = 0.01** (Bonus A): Adam's step is
# lr m / (sqrt(v) + eps), so a weight whose gradient is much smaller than eps steps like SGD
# at lr / eps = 1, a weight with a large gradient like default Adam. kappa -0.4, 0, 0.4 and
# 2 seeds, paired with the Adam runs:

# %%
opt = nb.optimizer_comparison(sweeps["nb01_gru"], data.load("nb01_sgd"),
                              data.load("nb01_adam_eps"))
nb.plot_optimizer_comparison(opt);
for label, c in opt.items():
    print(f"{label:13s} largest dead fraction during training {c['max_dead'].max():.3f} "
          f"(final {c['dead'].min():.2f} .. {c['dead'].max():.2f}), final reward "
          f"{c['reward'].min():.2f} .. {c['reward'].max():.2f}, collapsed "
          f"{int(c['collapsed'].sum())} of {len(c['dead'])}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
adam, sgd1, sgd3 = (opt[k] for k in nb.OPTIMIZER_RUNS)
eps = opt[nb.ADAM_EPS_RUN]
for c in (sgd1, sgd3, eps):
    assert np.all(adam["kappa"] == c["kappa"]) and np.all(adam["seed"] == c["seed"])
# With Adam every run ends with about 8 % dead units or more; with SGD at lr 1 no run ever has
# more than 2 %, at any kappa and at any point of training, while it learns as well:
assert np.all(adam["dead"] > 0.075)
assert np.all(sgd1["max_dead"] < 0.02)
assert not sgd1["collapsed"].any() and np.all(sgd1["reward"] >= 0.65)
# kappa, which now scales the steps, changes the dead fraction by under 0.01 per seed
lo, hi = sgd1["kappa"] == -0.4, sgd1["kappa"] == 0.4
assert np.all(np.abs(sgd1["dead"][lo] - sgd1["dead"][hi]) < 0.01)
# At lr 3 SGD collapses 4 or more of 6 runs, with at most ~10 % dead units
assert sgd3["collapsed"].sum() >= 4 and np.all(sgd3["max_dead"] < 0.11)
# Adam at eps 0.01 (same lr as default Adam): in every one of the 6 pairs at least 7 points
# fewer dead units than default Adam, never more than 3 % during training, and it learns as
# well (no collapse, final reward >= 0.65).
assert np.all(adam["dead"] - eps["dead"] > 0.07) and np.all(eps["max_dead"] < 0.03)
assert np.all(eps["dead"] <= 0.005 + 1e-6)
assert not eps["collapsed"].any() and np.all(eps["reward"] >= 0.65)

# %% [markdown]
# Every default-Adam run ends with 8-30 % dead units; SGD at lr 1 never has more than 1.6 %,
# at every kappa, and learns as well; too large an SGD step (lr 3) breaks the policy without
# killing units. **Adam at eps = 0.01**, same lr, ends every run with at most 0.5 % dead and
# learns as well (6 of 6 pairs). What kills units is Adam's equal-size step for weights with
# tiny gradients, not kappa (Bonus A).

# %% [markdown]
# ## 7. Without a dead zone: tanh and softplus (4 min)
#
# If dead units held learning back, rates that are never exactly zero should help. The same
# GRU with r = tanh(x) or r = softplus(x) = log(1 + e^x) instead of relu(x), kappa -0.4, 0,
# 0.4, 2 seeds, 600 updates, paired with the relu runs (6 pairs per rate function):

# %%
rate_comp = nb.rate_comparison(sweeps["nb01_gru"], data.load("nb01_rates"))
nb.plot_rate_comparison(rate_comp);
for r in nb.RATE_FUNCTIONS:
    c = rate_comp[r]
    print(f"{r:8s} dead {c['dead'].mean():.2f}  dormant {c['dormant'].min():.2f} .. "
          f"{c['dormant'].max():.2f}  reached the learning criterion "
          f"{np.sum(c['criterion'] >= 0)}/6  collapsed {c['collapsed'].sum()}/6")
reward_gain = {r: paired_difference(rate_comp[r]["reward"], rate_comp["relu"]["reward"])
               for r in ("tanh", "softplus")}
for r, (m, se) in reward_gain.items():
    print(f"paired reward difference {r} - relu: {m:+.2f} +- {se:.2f} (s.e., 6 pairs)")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
relu, alt = rate_comp["relu"], {r: rate_comp[r] for r in ("tanh", "softplus")}
# No dead unit at any record of any tanh or softplus run; relu runs end with some.
assert np.all(data.load("nb01_rates").h("dead_fraction") == 0) and relu["dead"].min() > 0.05
# Dormant units nearly vanish: in each of the 6 pairs relu has at least 0.1 more dormant units.
for c in alt.values():
    assert np.all(relu["dormant"] - c["dormant"] > 0.1)
# But learning does not improve: no more runs reach the criterion, at least as many collapse
# (6 runs: we assert only the direction "no gain", not that tanh/softplus are worse) ...
for c in alt.values():
    assert np.sum(c["criterion"] >= 0) <= np.sum(relu["criterion"] >= 0)
    assert c["collapsed"].sum() >= relu["collapsed"].sum()
# ... and a reward gain above 0.1 per trial is excluded at two standard errors.
for m, se in reward_gain.values():
    assert m + 2 * se < 0.1

# %% [markdown]
# Removing dead units does not help: with tanh or softplus rates the GRU has no dead and few
# dormant units, yet learns no better. Six pairs are too few to call softplus worse, but
# enough to exclude a gain.
#
# **Think!** The learning rate raises both the dead fraction and the risk of collapse. What
# would you need to see before saying dead units *cause* collapse?
#
# <details><summary>Answer</summary>
#
# An intervention on dead units alone: remove them (tanh, softplus: section 7) or create them
# (a negative initial bias, Bonus D) while the rest stays fixed, and see collapse follow.
# Removing them changed nothing; the correlation across learning rates has a common cause.
# </details>
#
# ## Summary
#
# - **Dead** = exactly zero on every valid step of a batch; **dormant** = under a tenth of
#   the layer's mean activity. Both networks have dead units: the pyrl GRU's rate is relu(x).
# - Dead units do not stay dead: 39-64 % of those that died came back, because a leaky
#   unit's state keeps integrating the other units, the input and noise.
# - Risk-seeking kappa leaves slightly *fewer* dead units (-0.05 +- 0.02 over 21 pairs), and
#   the dead fraction does not predict collapse within a network type.
# - The learning rate kills units, and Adam's equal-size steps do; plain SGD at a learning
#   rate that learns barely kills any. Units without a dead zone do not learn better.
# - Verdict: dead units are real but are **not** what traps the networks.
#
# Next: notebook 02, the second suspect, a small initialisation of the readout W_out.

# %% [markdown]
# ## Bonus A: Adam with a large eps (the experiment)
#
# Why does Adam kill units where SGD does not? Adam's step is about lr for *every* weight,
# however small and noisy its gradient, so weights that matter little random-walk; SGD scales
# the step by the gradient. Raising eps separates the two: weights with |g| << eps get
# SGD's step (lr / eps x gradient), weights with |g| >> eps keep Adam's. At lr = eps = 0.01
# the effective step matches both SGD at lr 1 (small gradients) and default Adam at lr 0.01
# (large ones), so if the small-gradient walk is what kills units, Adam at eps 0.01 should
# lose few. After 100 updates from the same start, how far did each group of weights move?

# %%
moved = nb.weight_displacement(updates=100)
for label, groups in moved.items():
    print(f"mean |change| after 100 updates, {label:13s} " +
          "  ".join(f"{g} {v:.3f}" for g, v in groups.items()))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
adam_moved, sgd_moved, eps_moved = (moved[k] for k in ("Adam lr 0.01", "SGD lr 1",
                                                       nb.ADAM_EPS_RUN))
# Default Adam walks the recurrent weights several times further than SGD and than Adam at
# eps 0.01; the readout, whose gradients are large, moves about as far under all three.
assert adam_moved["W_rec"] > 4 * sgd_moved["W_rec"]
assert adam_moved["W_rec"] > 3 * eps_moved["W_rec"]
for other in (sgd_moved, eps_moved):
    assert 0.5 < adam_moved["W_out"] / other["W_out"] < 2

# %% [markdown]
# One seed, 100 updates: default Adam moves the recurrent weights about 6 times further than
# Adam at eps 0.01 and 8 times further than SGD, and the readout about as far as both. Raising
# eps stopped the recurrent walk and, in the stored runs (section 6, 6 pairs), the dying: with
# the same lr and the same optimiser, units no longer die. The dead units of the default runs
# are a side effect of Adam normalising tiny, noisy gradients to steps of size lr. Adam with
# a large eps is not a fix for the collapse (the default GRU at lr 0.01 converged anyway); it
# is the test that pins down the mechanism.

# %% [markdown]
# ## Bonus B: why kappa does not reach Adam's step
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
# optimiser whose step grows with the gradient: SGD. Under SGD (section 6) kappa does scale the
# steps, and units still do not die. The SGD runs train the policy with
# `policy_optimizer="sgd"` (step = lr x clipped gradient; the baseline keeps Adam).
#
# ## Bonus C: the SimpleRNN's relu/tanh mismatch
#
# Upstream's SimpleRNN runs its dynamics on relu(x) but its policy reads tanh(x); the analysis
# says "This mismatch could cause issues". The readout then sees negative states that the
# dynamics pass on as zero. In the trained example:

# %%
share = nb.negative_readout_share(examples["SimpleRNN, tanh readout"]["states"])
print(f"states x < 0 on {share['frac_negative']:.0%} of (step, trial, unit); they carry "
      f"{share['share_negative']:.0%} of sum |tanh(x)| that the readout sees, "
      f"{share['share_dead']:.0%} from units that are dead for the dynamics")
rc = nb.readout_comparison(sweeps)
gru_runs = nb.runs_of(sweeps, "GRU")
gru_reached = int(np.sum(sweeps["nb01_gru"].arrays["updates_to_criterion"][gru_runs] >= 0))
for label in ("relu", "tanh"):
    print(f"SimpleRNN readout {label}: final reward {rc['reward_' + label].mean():+.2f}, "
          f"collapsed {rc['collapsed_' + label].sum()}/12, reached the learning criterion "
          f"{np.sum(rc['criterion_' + label] >= 0)}/12")
print(f"GRU: reached the learning criterion {gru_reached}/12")
readout_diff = paired_difference(rc["reward_tanh"], rc["reward_relu"])
print(f"paired reward difference tanh - relu: {readout_diff[0]:+.2f} +- {readout_diff[1]:.2f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert 0.35 < share["share_negative"] < 0.75 and share["share_dead"] > 0.1
# Neither readout learns the task in 600 updates (at most 1 of 12 runs each reaches the
# criterion) while the GRU does in at least 3 of 12; the readouts' rewards differ by less
# than 0.3 per trial (the gap between always aborting and choosing is 1.2).
assert np.sum(rc["criterion_relu"] >= 0) <= 1 and np.sum(rc["criterion_tanh"] >= 0) <= 1
assert gru_reached >= 3
assert abs(readout_diff[0]) < 0.3
# the tanh-readout runs that are not counted as collapsed still lose reward on average
assert np.all(rc["reward_tanh"][~rc["collapsed_tanh"]] < 0)

# %% [markdown]
# The mismatch is real: about half of what the tanh readout sees comes from negative states,
# and it keeps dead units trainable (section 3). But it does not decide whether the SimpleRNN
# learns: it fails with either readout at these settings (2 seeds per cell).
#
# ## Bonus D: dead before learning, and the initial bias
#
# The SimpleRNN has dead units at update 0, before it has learned anything; the GRU has none:

# %%
at_start = {n: full["dead_start"][base & (full["network"] == n)
                                  & (full["source"] != "nb00_main_grid")]
            for n in nb.NETWORKS}
for n in nb.NETWORKS:
    print(f"{n:24s} dead fraction at update 0: {at_start[n].min():.2f} .. {at_start[n].max():.2f}"
          f"; final: {full['dead'][base & (full['network'] == n)].min():.2f} .. "
          f"{full['dead'][base & (full['network'] == n)].max():.2f}")
shifts = (-0.5, -0.25, 0.0, 0.25)
at_init = {n: nb.dead_fraction_at_init(TrainSettings().replace(network_type=n), shifts)
           for n in ("gru", "simple")}
for n, v in at_init.items():
    print(f"{n:6s} bias shifted by " + "  ".join(f"{b:+.2f}: {m:.2f}"
                                                 for b, m in zip(shifts, v.mean(1))))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# Units die in both networks: every GRU run (57) ends with > 5 % dead, every SimpleRNN run > 25 %
final_gru = full["dead"][base & (full["network"] == "GRU")]
assert final_gru.min() > 0.05 and len(final_gru) == 57
assert min(full["dead"][base & (full["network"] == n)].min() for n in simple) > 0.25
assert at_start["GRU"].max() <= 0.02
assert min(at_start[n].min() for n in simple) >= 0.05
# A bias of -0.5 more than doubles the SimpleRNN's dead units at once; the GRU stays < 10 %.
assert at_init["simple"][0].mean() > max(2 * at_init["simple"][2].mean(),
                                         at_init["simple"][2].mean() + 0.1)
assert at_init["gru"][0].mean() < 0.1

# %% [markdown]
# The GRU's update gate (z ~ 0.5 at initialisation) halves its leak, so its states stay near
# the initial state x0 = 0.5 for the first steps of a trial and fire there; a dead unit must be
# silent on *every* valid step. The SimpleRNN's random weights alone push some states below
# zero for whole trials, and a bias of -0.5 (3 seeds) roughly triples that.
#
# ## Bonus E: every claim and its verdict
#
# | Claim (the analysis) | Measured here (2-3 seeds per cell, shared across cells) | Verdict |
# |---|---|---|
# | ReLU units die; the GRU is exempt ("uses tanh") | every GRU run ends with dead units (57 runs), every SimpleRNN run with more (24) | units die in both; the exemption is **wrong** (the GRU's rate is relu(x)) |
# | "Once a neuron goes negative, it stays dead" | 39-64 % of dead units come back | **refuted** as stated |
# | Negative kappa kills units | -0.05 +- 0.02 over 21 pairs | **refuted**: small, opposite sign |
# | Dead units collapse the network | no usable AUC within a network type | **not supported** |
# | The relu/tanh mismatch "could cause issues" | real, but the SimpleRNN fails with either readout | **partly** |
# | "aggressive updates" kill units | SGD, where kappa scales the step, barely kills units | **refuted**; Adam's steps and the learning rate do |
# | (implied) without dead units it would learn | tanh/softplus: no dead units, no better learning | **refuted** |
#
# ## Bonus F: train your own
#
# Press **Train** to train one network with your settings and record its units (a few seconds
# per 100 updates). Try lr 0.1 against 0.01, or kappa -0.9 against +0.9. Nothing runs until
# you press the button.

# %%
nb.live_run_widget()

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