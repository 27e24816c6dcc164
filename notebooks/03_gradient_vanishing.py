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
# # 03 · When the policy gradient vanishes: value vs gradient, convergence vs collapse
#
# The analysis's main suspect is the deterministic policy: once pi(a) is close to 1,
# "log(p) ≈ 0 → gradient ≈ 0", and training stops. Part of this is true and part is a mix-up.
# The *value* log pi(a) and its *gradient* both go to zero, but for different reasons, and the
# expected gradient vanishes even when a sampled gradient is large. A deterministic policy is
# also what training is *for*: a network that always picks the better gamble is converged,
# not collapsed. This notebook separates the pieces on one softmax, on a two-armed bandit
# (where the plateau can be computed exactly), and then on the gambling task, where we
# classify every precomputed run by what it *does* and find which behaviour prints the
# analysis's collapsed log. Then we measure the two claims built on it: that negative kappa
# collapses and positive kappa does not, and that gradient clipping cannot help.
#
# **You will learn**
# 1. why log pi(a) -> 0 and d log pi(a) / d logits -> 0 are different statements, and why the
#    *expected* gradient vanishes even though an unlikely sampled action has a large gradient;
# 2. at which logit gap float32 and float64 make the softmax exactly 1 and the gradient exactly
#    0, and what a printed "Total norm: 0.000000" can and cannot mean;
# 3. the plateau of softmax policy gradient from a near-deterministic start (length ~ 1/p0)
#    and the slow 1/t approach at the end (Mei et al. 2020);
# 4. how to tell convergence from collapse by behaviour, and which collapsed behaviour
#    produces the analysis's log;
# 5. what decides collapse in these runs: kappa, learning rate, seed or the reward design.
#
# **Time**: about 30 minutes. Running all cells takes well under a minute (the gambling runs
# are precomputed in `data/`).

# %%
# %matplotlib inline
import numpy as np
import torch

from pyrl_mini import analysis, bandit, softmax
from pyrl_mini.lessons import nb03_gradient_vanishing as nb
from pyrl_mini.risk import kappa_transform

torch.set_num_threads(1)

# %% [markdown]
# ## The claims
#
# From the written analysis of this failure that circulates with the upstream pyrl code, on
# why learning stops:
#
# > "After a few updates → deterministic policy: [0.999, 0.001]
# > **Log probabilities**: `log(0.999) ≈ -0.001` (nearly zero!)
# > **Gradient = log_prob × advantage ≈ 0 × advantage ≈ 0**"
#
# > "Gradient collapse: log(1.0) = 0 → no gradient → stuck forever"
#
# on kappa, with its sign convention (which notebook 00 shows is backwards) and two log
# excerpts:
#
# > "Risk-seeking amplifies: `δ' = 1.2 × δ` (for negative δ)"
#
# > Step 600 (Early Negative Kappa):
# > ```
# > Advantage (delta_prime):
# >   Mean: -0.005360
# >   Positive: 36.6%
# >   Negative: 63.4%
# >
# > Log-probabilities:
# >   Mean: -0.000000  ← Already collapsed!
# >   Std: 0.000000
# >
# > Gradient norm: 0.000000  ← No learning
# > ```
#
# > From your logs (Step 1300, κ=+0.2):
# > ```
# > Log-probabilities:
# >   Mean: -0.005719  ← Healthy non-zero value
# >   Std: 0.117366    ← Good variance
# >
# > Gradient norm: 7.770147  ← Strong gradients!
# > ```
#
# > "**Root cause**: Risk-seeking (negative κ) causes premature convergence to deterministic
# > policy → entropy = 0 → gradients = 0 → stuck."
#
# and on clipping (claim 8):
#
# > "Gradient Clipping (Already Enabled ✓) ... This helps with exploding gradients but
# > **doesn't fix vanishing gradients**."
#
# Not in the analysis: is the collapsed state an absorbing state of the
# task's *rewards* rather than of kappa?
#
# ## 0. The sign convention, once more (claim 4)
#
# f(d) = (1 - kappa) d for d > 0 and (1 + kappa) d otherwise; kappa < 0 is risk-seeking. At
# kappa = -0.2 it is the *positive* errors that are multiplied by 1.2, not the negative ones.

# %%
d = torch.tensor([1.0, -1.0])
for kappa in (-0.2, 0.2):
    f = kappa_transform(d, kappa)
    print(f"kappa={kappa:+.1f}: f(+1) = {f[0]:.1f}, f(-1) = {f[1]:.1f}")
f = kappa_transform(d, -0.2)
assert np.isclose(f[0], 1.2) and np.isclose(f[1], -0.8), "risk-seeking scales d > 0 by 1.2"

# %% [markdown]
# ## 1. Value vs gradient on one softmax
#
# Two actions with logits z = (gap, 0), pi = softmax(z). For the sampled action a, REINFORCE
# adds f(d) times the **gradient** of log pi(a) with respect to the logits,
#
# $$ \frac{\partial \log \pi(a)}{\partial z} = \mathrm{onehot}(a) - \pi ,$$
#
# not the **value** log pi(a). As the gap grows:
#
# * the likely (lead) action: log pi = -log(1 + e^-gap) -> 0 *and* onehot - pi =
#   (1 - pi_lead, -pi_other) -> 0, both of size ~ e^-gap;
# * the unlikely action: log pi ~ -gap (very negative) and onehot - pi = (-pi_lead, pi_lead),
#   norm -> sqrt 2: a **large** gradient;
# * the expected gradient over sampled actions weights the unlikely one by its probability:
#   E|onehot(a) - pi| = 2 sqrt(2) pi_lead pi_other -> 0.
#
# So "log_prob x advantage" is the wrong formula (it is the loss, not its gradient), yet its
# conclusion survives for the *expected* gradient: the unlikely action that would carry a
# large gradient is almost never sampled. Solid lines are float32, dotted float64; a line
# stops where the quantity is exactly 0.

# %%
nb.plot_value_vs_gradient();

# %%
c = nb.gap_curves(np.array([10.0]), torch.float64)
print(f"gap 10: log pi(lead) = {c['log_pi_lead'][0]:.2e}, |grad| lead = {c['grad_lead'][0]:.2e},"
      f" log pi(other) = {c['log_pi_other'][0]:.2f}, |grad| other = {c['grad_other'][0]:.3f},"
      f" E|grad| = {c['grad_expected'][0]:.2e}")
# value and gradient of the likely action both vanish; the unlikely action's gradient is large
assert abs(c["log_pi_lead"][0]) < 1e-4 and c["grad_lead"][0] < 1e-4
assert c["log_pi_other"][0] < -9.9 and np.isclose(c["grad_other"][0], np.sqrt(2), rtol=1e-3)
assert c["grad_expected"][0] < 2e-4  # ... but it is sampled with probability 4.5e-5

# %% [markdown]
# ### Interactive demo: the logit gap
#
# Move the gap. Bars: pi, log pi and the two gradient components for a sampled lead action
# (left four) and a sampled unlikely action (right four), in float32 (blue) and float64
# (orange). An x marks a float32 gradient component that is exactly 0. The line above the
# figure gives the exact numbers.

# %%
gap_demo = nb.gap_demo()
gap_demo

# %% [markdown]
# ## 2. Float32 saturation: when "≈ 0" becomes "= 0"
#
# In floating point the softmax returns exactly 1.0 once e^-gap is below half an ulp of 1:
# gap = ln(2 / eps), 16.6 in float32 and 36.7 in float64. From there on log pi(lead) is exactly
# 0 and the gradient component 1 - pi_lead is exactly 0. The other component, -pi_other =
# -e^-gap, is tiny but **not** zero until it underflows (gap ~ 104 in float32). A log line
# printed with `%.6f` shows 0.000000 for anything below 5e-7, which happens from gap ~ 14.9.
# The bisection below finds each threshold with the library's own softmax.

# %%
gaps = {str(dt).replace("torch.", ""): softmax.saturation_gaps(dt)
        for dt in (torch.float32, torch.float64)}
print(f"{'':34s}{'float32':>10s}{'float64':>10s}")
for field, text in (("softmax_one", "softmax(lead) == 1.0"),
                    ("log_pi_zero", "log pi(lead) == 0.0"),
                    ("grad_lead_zero", "grad component 1 - pi_lead == 0"),
                    ("grad_other_zero", "grad component -pi_other == 0"),
                    ("norm_prints_zero", "|grad| prints as 0.000000")):
    print(f"{text:34s}{getattr(gaps['float32'], field):10.2f}{getattr(gaps['float64'], field):10.2f}")

# %%
g32, g64 = gaps["float32"], gaps["float64"]
assert abs(g32.softmax_one - 16.64) < 0.01 and abs(g64.softmax_one - 36.74) < 0.01
# printing hides the gradient long before float32 makes it zero
assert g32.norm_prints_zero < g32.softmax_one < g32.grad_other_zero
assert 100 < g32.grad_other_zero < 110

# %% [markdown]
# So "Total norm: 0.000000" says |grad| < 5e-7, not grad = 0. We will see below that the
# collapsed gambling runs print exactly that line while their gradient norm is about 1e-15:
# saturated, but not zero.
#
# ## 3. A bandit: the plateau and the slow end
#
# The smallest setting in which a near-deterministic policy slows learning down: two arms
# with rewards r = (1, 0) (gap Delta = 1), logits theta, pi = softmax(theta), and exact
# gradient ascent on J = pi . r, whose gradient is pi * (r - pi . r). With p = pi(best arm),
# dp/dt = 2 lr Delta p^2 (1 - p)^2, which integrates to
#
# $$ t(p_0 \to p_1) = \frac{F(p_1) - F(p_0)}{2\,\mathrm{lr}\,\Delta}, \qquad
#    F(p) = 2 \ln\frac{p}{1-p} + \frac{1}{1-p} - \frac{1}{p} $$
#
# (derived in `pyrl_mini/bandit.py`). For a start near-deterministic on the **worse** arm
# (small p0) the time to escape is ~ 1 / (2 lr Delta p0): halve p0 and the plateau doubles
# (Mei et al. 2020, "Escaping the gravitational pull of softmax"). Near the end,
# 1 - p ~ 1 / (2 lr Delta t): a slow 1/t approach (Mei et al. 2020, "On the global
# convergence rates of softmax policy gradient methods"). Below: the measured plateau vs the
# formula, 16 sampled REINFORCE runs (batch 16, exact baseline) from p0 = 0.01, and the tail.

# %%
plateau = nb.plateau_table()
late = nb.late_phase()
sampled = nb.sampled_escape(p0=0.01)
nb.plot_plateau(plateau, late, sampled);
for p0, m, f, lim in zip(plateau["p0"], plateau["measured"], plateau["formula"],
                         plateau["limit"]):
    print(f"p0={p0:<6g} measured {m:5d} steps, formula {f:7.1f}, 1/(2 lr D p0) {lim:7.1f}")
print(f"sampled runs escape at {np.median(sampled['escape']):.0f} steps (median; range "
      f"{sampled['escape'].min()}-{sampled['escape'].max()}), exact gradient "
      f"{sampled['exact_escape']}")
print(f"tail: t (1 - p) at t = 4000: {late['t'][-1] * late['gap'][-1]:.3f}, "
      f"formula 1/(2 lr D) = {1 / (2 * 0.1 * 1.0):.3f}")

# %%
# the closed form predicts the exact-gradient plateau within 2 % for every p0
np.testing.assert_allclose(plateau["measured"], plateau["formula"], rtol=0.02)
# escape time x p0 approaches 1 / (2 lr Delta) = 5: the plateau grows like 1 / p0
assert np.all(np.abs(plateau["measured"][2:] * plateau["p0"][2:] - 5.0) < 0.5)
# sampled REINFORCE escapes around the same step (median within 15 %)
assert abs(np.median(sampled["escape"]) / sampled["formula"] - 1) < 0.15
# the 1/t tail: (1 - p) t -> 1 / (2 lr Delta) within 3 %
assert abs(late["t"][-1] * late["gap"][-1] * 2 * 0.1 - 1) < 0.03

# %% [markdown]
# ### Interactive demo: plateau, learning rate and entropy
#
# Exact policy gradient on the two arms, computed live for 1000 steps. Sliders: the initial
# probability of the best arm, the learning rate, and the entropy coefficient tau (objective
# pi . r + tau H). Left: pi(best arm) (black), the closed-form plateau (dashed orange) and the
# optimum of pi . r + tau H, softmax(r / tau) (dotted green). Right: 1 - pi(best arm) on
# log-log axes against the 1/t tail (dotted orange). Watch the plateau follow the formula as
# p0 shrinks; with tau > 0 the policy approaches softmax(r / tau) instead of the best arm.

# %%
bandit_demo = nb.bandit_demo()
bandit_demo

# %% [markdown]
# ## 4. The gambling task: convergence vs collapse
#
# A deterministic policy on the right choice is the goal. What tells premature collapse from
# convergence is **behaviour**: does the network still complete trials, and do its choices
# still depend on the offer? `analysis.mode_of_history` classifies each run over its last 50
# updates:
#
# | mode | rule (fractions of a batch) |
# | --- | --- |
# | converged | abort < 5 % and higher-EV choices >= 80 % |
# | never_chooses | >= 90 % of trials fixate to the end |
# | always_aborts | >= 90 % of trials break fixation |
# | one_side | >= 95 % of choices to one side |
# | learning | none of these (yet) |
#
# The runs (default settings otherwise; 3 seeds per cell, the same seeds 0, 1, 2 in every
# cell, so comparisons across cells are paired):
#
# * `main_grid`: kappa in {-0.4, -0.2, 0, 0.2, 0.4} x entropy_coef in {0, 0.01, 0.05},
#   lr 0.01, 1000 updates;
# * `kappa_lr`: the same kappas at lr 0.003 and 0.03, entropy_coef 0, 700 updates;
# * `reward_design`: kappa in {-0.4, 0, 0.4} at lr 0.03 with a no-choice penalty of -1.0, or
#   a step cost of 0.01, entropy_coef 0, 700 updates.
#
# `data/manifest.json` records the command that rebuilds each file, the settings and a
# checksum that `data.load` verifies. Here we use the 63 runs at entropy_coef = 0 (the
# analysis's setting); notebook 04 is about the entropy bonus.

# %%
runs = nb.load_runs()
refs = nb.all_runs(runs)
final_modes = nb.final_modes(runs, refs)
names, counts = np.unique(nb.mode_names(final_modes), return_counts=True)
print(f"{len(refs)} runs at entropy_coef = 0, final behaviour:",
      dict(zip(names.tolist(), counts.tolist())))
nb.plot_convergence_vs_collapse(runs);

# %% [markdown]
# Left: converged runs end with small entropy, like most collapsed runs; the reward
# separates them.
# Right: a converged run's choices follow expected value; a one-sided run's do not (about
# half of its choices go to the higher-EV option: chance), and an aborting run makes no
# choices at all (plotted at -0.05).

# %%
final = nb.final_table(runs, refs, ("entropy", "reward", "higher_ev_rate", "max_prob"))
conv = final_modes == analysis.MODES.index("converged")
coll = analysis.is_collapsed(final_modes)
print(f"converged ({conv.sum()}): entropy {final['entropy'][conv].min():.3f}-"
      f"{final['entropy'][conv].max():.3f}, max pi {final['max_prob'][conv].min():.3f}-"
      f"{final['max_prob'][conv].max():.3f}, reward {final['reward'][conv].min():.3f}-"
      f"{final['reward'][conv].max():.3f}")
print(f"collapsed ({coll.sum()}): entropy {final['entropy'][coll].min():.1e}-"
      f"{final['entropy'][coll].max():.3f}, reward {final['reward'][coll].min():.3f}-"
      f"{final['reward'][coll].max():.3f}")

# %%
one_side = final_modes == analysis.MODES.index("one_side")
print(f"one-sided runs ({one_side.sum()}): higher-EV choices "
      f"{final['higher_ev_rate'][one_side].min():.3f}-{final['higher_ev_rate'][one_side].max():.3f}")
assert conv.sum() >= 3 and coll.sum() >= 3
# one-sided choices ignore the offer: higher-EV choices at chance (0.5)
assert np.all(np.abs(final["higher_ev_rate"][one_side] - 0.5) < 0.05)
# a converged policy is near-deterministic too (entropy far below log 3 = 1.10) ...
assert final["entropy"][conv].max() < 0.2 and final["max_prob"][conv].min() > 0.95
# ... but every converged run earns more than every collapsed one
assert final["reward"][conv].min() > final["reward"][coll].max()

# %% [markdown]
# ### One run of each kind, in the upstream log layout
#
# `analysis.report` prints a run's diagnostics in the layout of the upstream debug log. Here
# from the stored histories (each number is a mean over 10 updates) at the end of each run.
# No run at entropy_coef = 0 ended in `never_chooses`; the one run that did is from
# `main_grid` at entropy_coef = 0.01: it learned first, then stopped choosing (numbers
# below). `main_grid` does not keep every diagnostic, so some of its lines print nan.

# %%
every = nb.all_runs(runs, entropy_coef=None)
modes_all = nb.mode_names(nb.final_modes(runs, every))
quitter = nb.example_runs(runs, modes=("never_chooses",))["never_chooses"]
dq, iq = nb.run_ref(runs, quitter)
x = dq.update_axis()
stop = x[np.argmax(dq.h("no_choice_rate")[iq] > 0.9)]
print(f"never_chooses: {modes_all.count('never_chooses')} of {len(every)} runs; "
      f"{nb.describe(runs, quitter)} peaked at reward {np.nanmax(dq.h('reward')[iq]):.2f}, "
      f"stopped choosing at update ~{stop:.0f}")
assert modes_all.count("never_chooses") == 1 and np.nanmax(dq.h("reward")[iq]) > 0.7
assert 700 < stop < 900

examples = nb.example_runs(runs, modes=("converged", "never_chooses", "always_aborts",
                                        "one_side"))
texts = [nb.stored_report(runs, ref) for ref in examples.values()]
titles = [f"{mode}: {nb.describe(runs, ref)}" for mode, ref in examples.items()]
for i in range(0, len(texts), 2):
    print(nb.side_by_side(texts[i:i + 2], titles[i:i + 2], width=74), end="\n\n")

# %% [markdown]
# ### Which kind prints the analysis's collapsed log?
#
# The analysis's step-600 log: log-probability mean and spread 0.000000, gradient norm
# 0.000000, advantage 36.6 % positive / 63.4 % negative, mean -0.005. For every run (all 93,
# any entropy_coef) we check whether its log at updates 600-609 prints the three zeros.

# %%
match = nb.log_match(runs)
zero = match["prints_zero"]
ABORTS = analysis.MODES.index("always_aborts")
print(f"{zero.sum()} of {len(zero)} runs print log pi mean, log pi std and grad norm as "
      f"0.000000 at update 600; their behaviour there:", set(nb.mode_names(match["mode"][zero])))
for ref, pos, mean, g in zip(match["refs"][zero], match["adv_pos_frac"][zero],
                             match["adv_mean"][zero], match["grad_norm"][zero]):
    print(f"  {nb.describe(runs, ref):60s} positive {100 * pos:5.1f} %  mean {mean:+.6f}  "
          f"grad norm {g:.1e}")
others = (match["mode"] == ABORTS) & ~zero
print(f"always-abort runs at update 600 that do not print the zeros: {others.sum()}")

# %%
assert zero.sum() >= 3
# every run that prints the collapsed log is an always-abort run
assert np.all(match["mode"][zero] == ABORTS)
# the printed zero is not a true zero: the gradient norm is tiny but positive
assert np.all((match["grad_norm"][zero] > 0) & (match["grad_norm"][zero] < 5e-7))
# the advantage mean is ~0 here (|mean| < 2e-5), not the log's -0.005360
assert np.all(np.abs(match["adv_mean"][zero]) < 2e-5)

# %% [markdown]
# **The analysis's collapsed log is a network that always aborts.** It breaks fixation on
# every trial. A freshly initialised network nearly does that already: it must choose
# FIXATE on 7 steps in a row to reach the decision, which a near-uniform policy over 3
# actions almost never does (see notebook 02). Over the first 10 updates the median run
# aborts 99 % of its trials:

# %%
first_block = np.array([nb.run_ref(runs, r)[0].h("abort_rate")[nb.run_ref(runs, r)[1], 0]
                        for r in every])
print(f"abort rate over updates 0-9: median {np.median(first_block):.3f}, "
      f"lowest {first_block.min():.2f} ({len(every)} runs)")
assert np.median(first_block) > 0.95

# %% [markdown]
# So this is not a policy that learned and then froze; it never learned to hold fixation.
# Every trial pays -0.5, the baseline learns -0.5, and the advantage is noise around zero.
#
# The advantage split is then a fingerprint of **kappa's baseline**, not of learning. The
# baseline V <- V + lr f(d) stops moving where the mean of f(d) is zero. For kappa < 0,
# f weights positive errors by 1 - kappa > 1, so V settles *above* the middle of the noise
# and fewer than half the errors are positive; for kappa > 0 more than half. Same seed, same
# collapse, opposite kappas, both at update 600:

# %%
pair = [f"kappa_lr:{runs['kappa_lr'].select(kappa=k, lr=0.03)[1]}" for k in (-0.4, 0.4)]
print(nb.side_by_side([nb.stored_report(runs, r, 600) for r in pair],
                      [nb.describe(runs, r) for r in pair], width=74))
zk = np.array([nb.run_ref(runs, r)[0].arrays["grid/kappa"][nb.run_ref(runs, r)[1]]
               for r in match["refs"][zero]])
zp = match["adv_pos_frac"][zero]
for k in np.unique(zk):
    print(f"kappa={k:+.1f}: positive advantages {100 * zp[zk == k].mean():.1f} %")

# %%
assert all(match["prints_zero"][list(match["refs"]).index(r)] for r in pair)
# fewer than half positive at kappa < 0, more than half at kappa > 0, about half at 0
assert np.all(zp[zk < 0] < 0.45) and np.all(zp[zk > 0] > 0.55)
assert np.all(np.abs(zp[zk == 0] - 0.5) < 0.05)

# %% [markdown]
# Our aborting runs print 36.9 % positive at kappa = -0.4, about 50 % at 0 and 58-64 % at
# +0.2 and +0.4. Our one aborting run at kappa = -0.2 (which at update 600 is not yet fully
# saturated, so it does not print all the zeros) ends with the split below: less lopsided
# than the analysis's 36.6 % at the same kappa.

# %%
k02 = f"kappa_lr:{runs['kappa_lr'].select(kappa=-0.2, lr=0.03)[1]}"
d02, i02 = nb.run_ref(runs, k02)
print(f"{nb.describe(runs, k02)}: positive advantages at the end "
      f"{100 * d02.final('adv_pos_frac')[i02]:.1f} %, mean {d02.final('adv_mean')[i02]:+.1e}")
assert 0.366 + 0.03 < d02.final("adv_pos_frac")[i02] < 0.5

# %% [markdown]
# A likely reason, which we did not test by running the upstream code: upstream's baseline
# minimised f(d)^2, which weights errors by (1 -/+ kappa)^2, a stronger asymmetry, and whose
# fixed point has a *negative* mean of f(d), like the log's -0.005360. Ours stops where the
# mean of f(d) is 0 (below 2e-5 in size in every run above).
#
# ## 5. Is the collapsed state absorbing because of the rewards? (claim 10)
#
# In an always-abort (or never-choose) state every trial returns the same -0.5, whatever the
# offer. The baseline learns it, so d = G - V ~ 0 on every step, f(d) ~ 0 **for any kappa**
# (f(0) = 0), and the policy gradient sum_t f(d_t) (onehot(a_t) - pi_t) vanishes. Nothing
# in this argument needs a deterministic policy. Check it on the stored runs: the always-abort
# runs of `kappa_lr` at the end of training, one at every kappa, and the one that aborts at
# lr 0.01 (`main_grid`, kappa = 0.4, seed 1).

# %%
kl = runs["kappa_lr"]
aborts = np.nonzero(kl.mode == ABORTS)[0]
for i in aborts:
    print(f"{nb.describe(runs, f'kappa_lr:{i}'):44s} adv mean {kl.final('adv_mean')[i]:+.1e}  "
          f"adv std {kl.final('adv_std')[i]:.1e}  grad norm {kl.final('grad_norm')[i]:.1e}  "
          f"entropy {kl.final('entropy')[i]:.1e}")
mg = runs["main_grid"]
slow = mg.select(kappa=0.4, entropy_coef=0.0)[1]
print(f"{nb.describe(runs, f'main_grid:{slow}')}: abort rate {mg.final('abort_rate')[slow]:.2f}, "
      f"entropy {mg.final('entropy')[slow]:.2f}, max pi {mg.final('max_prob')[slow]:.2f}, "
      f"grad norm {mg.final('grad_norm')[slow]:.1e}, adv mean {mg.final('adv_mean')[slow]:+.1e}")
print(f"learning runs for comparison: grad norm "
      f"{np.median(kl.final('grad_norm')[kl.mode == 1]):.2f} (median)")

# %%
assert len(set(kl.arrays["grid/kappa"][aborts])) == 5, "always-abort at every kappa"
assert np.all(kl.final("adv_std")[aborts] < 1e-3) and np.all(kl.final("grad_norm")[aborts] < 1e-6)
# an aborting policy that is NOT deterministic, and still no gradient: the advantage is 0
assert mg.mode[slow] == ABORTS and mg.final("entropy")[slow] > 0.5
assert mg.final("grad_norm")[slow] < 1e-3 < 0.1 < np.median(kl.final("grad_norm")[kl.mode == 1])

# %% [markdown]
# The `main_grid` run is the clearest case of claim 10: entropy 0.76 and max pi 0.62 (far
# from deterministic), yet its gradient norm is 1e-4 (against 0.74 for a learning run),
# because every trial pays the same -0.5 and the advantage is zero. The gradient vanishes
# because the *advantage* vanishes, not because log pi(a) -> 0.
#
# The reward design decides which behaviours are traps. Upstream charges -0.5 both for
# aborting and for never choosing, and waiting is free. Two changes, one at a time, at
# lr 0.03 (where collapse is frequent; the control is `kappa_lr` at lr 0.03, same seeds):
# a no-choice penalty of -1.0, and a step cost of 0.01 per step (a trial that waits for the
# decision costs up to 0.15 more, so aborting at once becomes *relatively* cheaper).

# %%
rmap = nb.reward_map(runs)
for v, row in zip(rmap["variants"], rmap["modes"]):
    print(f"{v:20s}", "  ".join(f"kappa={k:+.1f}: {', '.join(nb.mode_names(m))}"
                                for k, m in zip(rmap["kappas"], row)))
rcoll = analysis.is_collapsed(rmap["modes"]).sum(axis=(1, 2))
print("collapsed runs per variant (of 9):", dict(zip(rmap["variants"], rcoll.tolist())))
ncp = nb.run_ref(runs, rmap["cells"][1, 0, 1])
ctrl = nb.run_ref(runs, rmap["cells"][0, 0, 1])
same = np.array_equal(ncp[0].h("reward")[ncp[1]], ctrl[0].h("reward")[ctrl[1]])
print("seed 1 with the -1.0 no-choice penalty is identical to the control:", same)

# %%
control, no_choice, step_cost = rcoll
assert step_cost >= control + 3, "a step cost makes the abort trap much more frequent"
assert abs(no_choice - control) <= 1, "a harsher no-choice penalty changes little"
assert same  # the penalty never came into play: no trial of that run ended without a choice

# %% [markdown]
# So in these runs the trap is **aborting**, not never choosing (only 1 of 93 runs never
# chooses): a harsher no-choice penalty does not touch it (4 vs 3 of 9 collapsed; seed 1
# runs bit-identically, because no trial ever reached the end without a choice), while a
# small step cost, which makes waiting costly, more than doubles it (8 of 9). Within a seed,
# kappa hardly matters: seed 1 aborts at every kappa in every variant. Note the sample: 3
# seeds, and runs with the same seed at different kappas are far from independent.
#
# ### Interactive demo: reward design x kappa
#
# Each cell: how many of the 3 seeds are collapsed at update 700 (left), and the selected
# cell's runs (reward over updates, coloured by behaviour: green converged, blue learning,
# orange always aborts, purple one side, red never chooses). The line above the figure gives
# each seed's behaviour, reward and gradient norm at update 700.

# %%
reward_demo = nb.reward_demo(runs)
reward_demo

# %% [markdown]
# ## 6. Negative vs positive kappa, measured (claim 6)
#
# Collapse over seeds for each kappa and learning rate, all at update 700 (`main_grid`
# supplies lr 0.01 and runs to 1000 updates; it is read at 700 here).

# %%
cmap = nb.collapse_map(runs)
print("collapsed seeds (of 3) at update 700; rows kappa, columns lr", cmap["lrs"].tolist())
for k, row in zip(cmap["kappas"], cmap["modes"]):
    print(f"  kappa={k:+.1f}: ", "   ".join(f"{analysis.is_collapsed(m).sum()}/3 "
                                           f"({', '.join(nb.mode_names(m))})" for m in row))
coll_map = analysis.is_collapsed(cmap["modes"])            # (kappa, lr, seed)
neg, pos = coll_map[cmap["kappas"] < 0].sum(), coll_map[cmap["kappas"] > 0].sum()
per_lr = coll_map.sum(axis=(0, 2))
per_seed = coll_map.sum(axis=(0, 1))
print(f"collapsed: kappa < 0 {neg} of 18, kappa > 0 {pos} of 18; per lr "
      f"{dict(zip(cmap['lrs'].tolist(), per_lr.tolist()))} (of 15); per seed {per_seed.tolist()}")

# %%
# the analysis predicts more collapse at kappa < 0 than at kappa > 0: the data say otherwise
assert neg <= pos
# the learning rate predicts collapse: lr 0.03 collapses more than lr 0.003 and 0.01 together
assert per_lr[2] >= per_lr[0] + per_lr[1] + 3
# and one seed carries most of it
assert per_seed.max() >= 0.75 * per_seed.sum()

# %% [markdown]
# In these runs collapse does **not** follow the sign of kappa: 2 of 18 runs collapsed at
# kappa < 0, 5 of 18 at kappa > 0. It follows the learning rate (6 of 15 at lr 0.03 against
# 1 of 15 at each of 0.003 and 0.01) and above all the seed: seed 1 accounts for 7 of the 8
# collapses (its initial weights and first batches, shared across cells). Three seeds cannot
# rank kappas finely; they are enough to contradict "negative collapses, positive stays
# healthy". The analysis's two excerpts (kappa = -0.2 at step 600, kappa = +0.2 at step 1300)
# compare different runs at different times; section 4 showed that one seed prints the same
# collapsed log at kappa = -0.4 and +0.4.
#
# ### Interactive demo: kappa x learning rate
#
# Move kappa and the learning rate. Left: collapsed seeds per cell (the selected cell
# outlined). Right: that cell's three runs over updates, coloured by behaviour as above; the
# line above the figure gives their behaviour, reward and gradient norm at update 700.
# All runs here have entropy_coef = 0; notebook 04 varies it.

# %%
kappa_lr_demo = nb.kappa_lr_demo(runs)
kappa_lr_demo

# %% [markdown]
# ## 7. Gradient clipping on the same runs (claim 8)
#
# The trainer clips each network's global gradient norm to 5 and records the norm *before*
# clipping. Clipping rescales a gradient g to 5 g / |g| when |g| > 5 and leaves it alone
# otherwise: it can only shrink large gradients. Each dot is a 10-update block of one run.

# %%
nb.plot_clipping(runs);
clip = nb.clipping_stats(runs)
ab = clip["mode"] == ABORTS
print(f"updates clipped, all {len(ab)} runs: {100 * clip['clipped_all'].mean():.2f} % "
      f"(at most {100 * clip['clipped_all'].max():.1f} % in one run)")
print(f"always-abort runs ({ab.sum()}): updates clipped {100 * clip['clipped_all'][ab].max():.2f} %,"
      f" largest 10-update mean norm {clip['max_grad'][ab].max():.3f}, final norms "
      f"{clip['final_grad'][ab].min():.1e} to {clip['final_grad'][ab].max():.1e}")

# %%
# clipping never acted on an always-abort run: its gradients are 100x below the threshold
assert np.all(clip["clipped_all"][ab] == 0) and clip["max_grad"][ab].max() < 0.05
# and it rarely acts at all at these settings (clip = 5)
assert clip["clipped_all"].max() < 0.02 and clip["clipped_all"].mean() < 0.005

# ## Think!
#
# You raise the no-choice penalty from -0.5 to -10 and restart training from a checkpoint of
# a network that already never chooses (or always aborts). Will it escape?
#
# <details><summary>Answer</summary>
#
# No. In the trapped state every trial returns the same amount (now -10, or -0.5 for
# aborting), the baseline learns it, and every advantage is ~0 again: the penalty shifts all
# returns by the same constant. On top of that the softmax is saturated, so the behaviour
# that would reveal something better is sampled with probability ~e^-gap, which in float32
# can be exactly 0. A penalty changes *which* states are traps only while the policy still
# samples the alternatives, i.e. early in training. Getting out of a trap needs exploration
# (an entropy bonus, notebook 04) or a reset, not a different constant.
# </details>
#
# ## Exercise: the exact softmax policy gradient
#
# Implement the exact gradient of J = pi . r with respect to the logits z of a softmax
# policy, for a batch of logits (..., K) and rewards (K,). The checker compares it with
# autograd, including at a saturated softmax.

# %%
def my_expected_pg(logits: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
    raise NotImplementedError("return E_a~pi[r(a) (onehot(a) - pi)] for every row of logits")


# %% [markdown]
# <details><summary>Solution</summary>
#
# ```python
# def my_expected_pg(logits, rewards):
#     pi = torch.softmax(logits, dim=-1)
#     return pi * (rewards - (pi * rewards).sum(-1, keepdim=True))
# ```
#
# sum_a pi(a) r(a) (onehot(a) - pi) = pi * r - (pi . r) pi. At a vertex (pi one-hot on any
# arm, best or worst) both terms cancel: that is the plateau of section 3.
# </details>

# %%
def solution_expected_pg(logits: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
    pi = torch.softmax(logits, dim=-1)
    return pi * (rewards - (pi * rewards).sum(-1, keepdim=True))


print(nb.check_expected_pg(solution_expected_pg))
# Try yours: nb.check_expected_pg(my_expected_pg)

# %% [markdown]
# ## Summary
#
# - log pi(a) (a value) and onehot(a) - pi (its gradient) both vanish as pi(a) -> 1, for
#   different reasons; an unlikely sampled action has a large gradient, but the *expected*
#   gradient pi * (r - pi . r) vanishes at every vertex of the simplex, good or bad.
# - In float32 the softmax is exactly 1 from a logit gap of 16.6 (36.7 in float64); the
#   gradient is tiny long before it is zero, and "0.000000" in a log only means < 5e-7.
# - Near-deterministic starts make softmax policy gradient slow (a plateau ~ 1/p0, a 1/t
#   tail), not impossible.
# - On the gambling task a deterministic policy can be converged (reward 0.78-0.81) or
#   collapsed; behaviour tells which. The analysis's collapsed log is an **always-abort**
#   network: it never learned to hold fixation, every return is -0.5 and the advantage is 0.
# - Collapse in these runs follows the learning rate and the seed, not the sign of kappa;
#   the reward design (a step cost) moves it; clipping neither causes nor cures it.
#
# ## References
#
# - Mei, J., Xiao, C., Szepesvári, C. & Schuurmans, D. (2020). On the global convergence rates
#   of softmax policy gradient methods. *ICML 2020*.
# - Mei, J., Xiao, C., Dai, B., Li, L., Szepesvári, C. & Schuurmans, D. (2020). Escaping the
#   gravitational pull of softmax. *NeurIPS 2020*.
# - Williams, R. J. (1992). Simple statistical gradient-following algorithms for
#   connectionist reinforcement learning. *Machine Learning* 8, 229-256.
# - Mihatsch, O. & Neuneier, R. (2002). Risk-sensitive reinforcement learning. *Machine
#   Learning* 49, 267-290.
# - Song, H. F., Yang, G. R. & Wang, X.-J. (2017). Reward-based training of recurrent neural
#   networks for cognitive and value-based tasks. *eLife* 6:e21492.
# - Pascanu, R., Mikolov, T. & Bengio, Y. (2013). On the difficulty of training recurrent
#   neural networks. *ICML 2013* (gradient clipping).
# - IEEE 754 floating point: `torch.finfo(torch.float32).eps` = 2^-23.
