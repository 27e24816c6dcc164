# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · Meet the task, the network and the kappa-sensitive trainer
#
# A monkey fixates, sees two gambles, and picks one. A recurrent network trained with a
# policy gradient learns to do the same. Now make the policy gradient *risk-sensitive*: scale
# good surprises and bad surprises differently with a parameter kappa. People who do this
# watch training die for some settings: entropy 0, log-probabilities 0, gradient norm 0. This
# collection takes a written diagnosis of that failure and tests each of its claims with
# experiments you can run and steer. This first notebook builds the pieces: the gambling task,
# the pyrl GRU policy, the kappa transform and the trainer with the diagnostics that expose
# collapse.
#
# **You will learn**
# 1. what one trial of the gambling task looks like, and why its 5 x 5 option grid has
#    equal-EV columns;
# 2. the kappa transform, its sign convention, and where the analysis gets the sign wrong;
# 3. how to train a recurrent policy and read its diagnostics (the upstream log layout);
# 4. whether kappa moves the trained networks' risk preference the way its name says;
# 5. what "collapse" looks like in the logs next to what convergence looks like.
#
# **Time**: about 20 minutes. Running all cells takes under a minute on a laptop CPU.

# %%
# %matplotlib inline
import numpy as np
import torch

from pyrl_mini import analysis, data, plots, tasks
from pyrl_mini.lessons import nb00_meet as nb

torch.manual_seed(0)

# %% [markdown]
# ## 1. The kappa transform (Mihatsch & Neuneier 2002)
#
# For an advantage (TD error) d, the risk-sensitive update uses
#
# $$ f(d) = \begin{cases} (1-\kappa)\,d & d > 0 \\ (1+\kappa)\,d & d \le 0 \end{cases}
# \qquad -1 < \kappa < 1 .$$
#
# kappa > 0 is **risk-averse** (good surprises shrunk, bad ones amplified); kappa < 0 is
# **risk-seeking**. At kappa = -0.2 a positive error is scaled by **1.2** and a negative one by
# **0.8**.
#
# The analysis says, for risk-seeking kappa:
#
# > "Risk-seeking amplifies: `δ' = 1.2 × δ` (for negative δ)"
#
# That contradicts the formula: at kappa = -0.2 it is the *positive* errors that are multiplied
# by 1.2. (The upstream code's config comment and README state the opposite sign as well.) The
# numbers, from the library's own `kappa_transform`:

# %%
for kappa in (-0.2, 0.0, 0.2):
    pos, neg = nb.scale_factors(kappa)
    print(f"kappa={kappa:+.1f}: positive errors x {pos:.1f}, negative errors x {neg:.1f}")
plots.plot_kappa_transform();

# %%
# The convention, checked: at kappa = -0.2 positive errors grow (x1.2), negative ones shrink.
pos, neg = nb.scale_factors(-0.2)
assert np.isclose(pos, 1.2) and np.isclose(neg, 0.8)
# and the analysis's "1.2 x d for negative d" would need kappa = +0.2, the risk-AVERSE setting
assert np.isclose(nb.scale_factors(+0.2)[1], 1.2)

# %% [markdown]
# ## 2. The gambling task
#
# After Nakazawa, Isa & Sasaki (2023), as ported in pyrl. Each trial shows a left and a right
# option, each a probability p and a magnitude m. Epochs: **fixation** (hold still),
# **stimulus** (options shown, still hold), **decision** (fixation cue off: choose). Actions:
# FIXATE, CHOOSE-LEFT, CHOOSE-RIGHT. Breaking fixation early aborts the trial (reward -0.5);
# a choice pays m with probability p, else 0; no choice by the end also pays -0.5. Trials
# here are 15 steps long (upstream used 77 steps of 10 ms, which is needlessly slow).
#
# The inputs code p as rescaled log p and m as rescaled log m, with a little noise, so that
# log EV = log p + log m is a linear function of the inputs.

# %%
plots.plot_trial(left=2, right=20);

# %% [markdown]
# The 25 options: magnitudes m = EV / p are chosen so that **each column has one expected
# value** for all five probabilities. A pair from one column tests risk preference alone:
# same EV, different p. The lower-p option is the riskier one.

# %%
plots.plot_option_grid();
ev = (tasks.OPTION_P * tasks.OPTION_MAGNITUDE).reshape(5, 5)
assert np.allclose(ev, ev[0]), "each EV column must have one expected value"

# %% [markdown]
# ## 3. The network and the trainer
#
# The policy is the pyrl GRU (Song, Yang & Wang 2017): firing rates r = relu(x), gates from
# r and the input, a leaky update with alpha = dt / tau, recurrent noise, and a softmax readout
# log pi = log_softmax(r W_out + b_out). A baseline network reads the policy's rates and the
# previous action and predicts the return-to-go G_t; the advantage is d_t = G_t - V_t.
#
# One update: roll out 256 trials; loss
# `-(sum over valid steps of log pi(a_t) f(d_t)) / trials - entropy_coef * mean H`;
# the baseline follows V <- V + lr f(d) (Mihatsch-Neuneier). The settings are a frozen
# dataclass; a typo or an out-of-range value is refused with the fix:

# %%
try:
    nb.LIVE_SETTINGS.replace(kappa=1.3)
except ValueError as err:
    print("ValueError:", err)
try:
    nb.LIVE_SETTINGS.replace(entropy_coeff=0.01)
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# Train one network live: 300 updates at kappa = 0 (about 15 s, with a progress bar).

# %%
live = nb.train_live()
h = live.member(0)
plots.plot_curves(np.arange(live.updates_done), h, smooth=10,
                  names=("reward", "abort_rate", "higher_ev_rate", "entropy"));

# %% [markdown]
# The network first learns to hold fixation (abort rate falls), then to prefer the option
# with the higher expected value. Every update also records the diagnostics of the upstream
# debug log, here for the last update:

# %%
print(analysis.report(live.history, live.updates_done - 1))

# %%
first, last = h["abort_rate"][:20].mean(), h["abort_rate"][-20:].mean()
print(f"abort rate: first 20 updates {first:.2f}, last 20 updates {last:.2f}")
assert last < 0.1 < first, "the live run should have learned to hold fixation"
assert np.nanmean(h["higher_ev_rate"][-20:]) > 0.6, "and to prefer the higher-EV option"

# %% [markdown]
# ## 4. Interactive demo: does kappa move risk preference?
#
# Networks trained ahead of time (`data/main_grid.npz`: kappa in -0.4 ... 0.4, entropy_coef
# in {0, 0.01, 0.05}, 3 seeds, 1000 updates each; the command that rebuilds it is in
# `data/manifest.json`). Left: on equal-EV pairs, how often each trained network picks the
# lower-p (riskier) option. Right: its choices by the difference in log p and log EV between
# left and right. Move the sliders.

# %%
grid = data.load("main_grid")
demo = nb.kappa_demo(grid)
demo

# %%
kappas, risky = nb.risk_preference(grid, entropy_coef=0.0)
slope, se = nb.kappa_trend(kappas, risky)
print("lower-p choice rate on equal-EV pairs (rows: kappa, columns: seeds)")
for k, row in zip(kappas, risky):
    print(f"  kappa={k:+.1f}: " + "  ".join(f"{v:.2f}" for v in row))
print(f"slope d(risky rate)/d(kappa) = {slope:+.2f} +- {se:.2f} (standard error)")

# %%
by_kappa = {float(k): row for k, row in zip(kappas, risky)}
low, high = by_kappa[-0.4], by_kappa[0.4]
print(f"kappa=-0.4: mean {np.nanmean(low):.2f} (seeds {np.round(low, 2)}); "
      f"kappa=+0.4: mean {np.nanmean(high):.2f} (seeds {np.round(high, 2)})")

# %% [markdown]
# **Verdict: kappa does what its name says.** With 3 seeds per kappa (the same seeds at every
# kappa, so the comparison is paired), the trained networks' preference for the riskier
# (lower-p) option on equal-EV pairs falls steadily as kappa rises: risk-seeking networks
# (kappa = -0.4) pick the lower-p option on most equal-EV pairs, risk-averse ones
# (kappa = +0.4) on a small minority. The slope is many standard errors below zero, and every
# seed that still makes choices at both ends is at least 20 points more risk-seeking at
# kappa = -0.4 than at +0.4. (A "nan" is a run that stopped choosing altogether: a collapse,
# and at kappa = +0.4, the risk-*averse* end. Section 5 shows it.) The asserts below check
# exactly these statements.

# %%
assert slope < 0 and abs(slope) > 3 * se, "risky choices should fall with kappa"
assert np.nanmean(low) > 0.5 > np.nanmean(high), "risk-seeking above, risk-averse below 0.5"
both = np.isfinite(low) & np.isfinite(high)
assert both.sum() >= 2, "at least two seeds must still choose at both ends"
assert np.all(low[both] - high[both] > 0.2), "each such seed: 20 points more risky at -0.4"

# %% [markdown]
# ## 5. A preview: collapse vs convergence in the logs
#
# A deterministic policy is not by itself a failure: a network that always picks the better
# option has low entropy and small gradients too. What marks *collapse* is behaviour that
# ignores the offer: never choosing, always aborting, or always picking one side. Here is one
# run of each kind found in the grid, in the upstream log layout (values are the mean over
# the last 50 updates; "nan" marks a diagnostic the sweep does not store).

# %%
runs = nb.pick_runs(grid)
counts = {m: int(np.sum(grid.mode == analysis.MODES.index(m))) for m in analysis.MODES}
print("runs per mode:", counts)
for mode, i in runs.items():
    print(f"===== {mode} =====")
    print(nb.stored_report(grid, i))
    print()

# %% [markdown]
# In this grid collapse is rare at the default learning rate, and it is not confined to
# risk-seeking kappa: the collapsed runs are counted below by kappa. Notebook 03 measures the
# collapse rate over kappa *and* learning rate, and asks why the collapsed states are
# absorbing.

# %%
collapsed_kappas = grid.arrays["grid/kappa"][grid.collapsed]
print("collapsed runs (kappa):", collapsed_kappas.tolist(), "of", len(grid.mode), "runs")
assert grid.collapsed.mean() < 0.2, "collapse is the exception at lr = 0.01"
assert (collapsed_kappas >= 0).any(), "at least one collapse happens at kappa >= 0"

# %% [markdown]
# Notebooks 01-04 take the analysis's suspects one by one: dead ReLU units (01), the W_out
# initialisation (02), gradient vanishing of a deterministic policy and the task's own
# absorbing states (03), and the entropy fix with its alternatives (04).
#
# ## Think!
#
# A network trained at kappa = 0 ends with entropy 0.01 and a gradient norm of 0.02. Is it
# collapsed?
#
# <details><summary>Answer</summary>
#
# You cannot tell from those two numbers. A policy that always picks the higher-EV option is
# also nearly deterministic, and its gradient is small because it has converged. Look at the
# behaviour: the abort rate, the no-choice rate, the higher-EV choice rate and whether choices
# still depend on the offer (the heatmap). Collapse is a deterministic policy *on the wrong
# behaviour*.
# </details>
#
# ## Exercise: write the kappa transform
#
# Implement `f(d, kappa)` for a tensor of advantages d. The checker compares it with the
# library's at several kappa.

# %%
def my_kappa_transform(d: torch.Tensor, kappa: float) -> torch.Tensor:
    raise NotImplementedError("scale d > 0 by (1 - kappa) and d <= 0 by (1 + kappa)")


# %% [markdown]
# <details><summary>Solution</summary>
#
# ```python
# def my_kappa_transform(d, kappa):
#     return torch.where(d > 0, (1 - kappa) * d, (1 + kappa) * d)
# ```
# </details>

# %%
def solution_kappa_transform(d: torch.Tensor, kappa: float) -> torch.Tensor:
    return torch.where(d > 0, (1 - kappa) * d, (1 + kappa) * d)


print(nb.check_kappa_transform(solution_kappa_transform))
# Try yours: nb.check_kappa_transform(my_kappa_transform)

# %% [markdown]
# ## Train your own
#
# Press **Train** to train one network with your kappa and entropy_coef (about 20 updates per
# second). Nothing runs until you press the button.

# %%
nb.live_run_widget()

# %% [markdown]
# ## Summary
#
# - The kappa transform scales positive advantages by 1 - kappa and negative ones by
#   1 + kappa; at kappa = -0.2 (risk-seeking) positive errors are multiplied by 1.2. The
#   analysis states this sign the wrong way round.
# - The gambling task's equal-EV columns isolate risk preference; the trained networks'
#   lower-p choice rate on those pairs measures it.
# - The trainer records, per update, the diagnostics of the upstream log (entropy,
#   log-probabilities, gradient norm, advantage signs) plus behaviour (aborts, no choice,
#   higher-EV choices, one-sidedness), so collapse can be told from convergence.
#
# ## References
#
# - Song, H. F., Yang, G. R. & Wang, X.-J. (2017). Reward-based training of recurrent neural
#   networks for cognitive and value-based tasks. *eLife* 6:e21492.
# - Mihatsch, O. & Neuneier, R. (2002). Risk-sensitive reinforcement learning. *Machine
#   Learning* 49, 267-290.
# - Nakazawa, Isa & Sasaki (2023), the gambling task this port follows.
# - Williams, R. J. (1992). Simple statistical gradient-following algorithms for
#   connectionist reinforcement learning. *Machine Learning* 8, 229-256.
