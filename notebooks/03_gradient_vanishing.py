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
# # 03 · Why the policy gradient vanishes
#
# The written analysis that circulates with the upstream code blames a deterministic policy:
# once pi(a) is near 1, "log(p) ≈ 0 → gradient ≈ 0", and training is "stuck forever". Part of
# this is right, part a mix-up. We derive the expected gradient on the smallest problem there
# is, predict the stall before simulating it, find where float32 makes it exactly zero, and
# see what trapped gambling runs do.
#
# **Learning objectives.** You will
# 1. derive the expected policy gradient of a two-armed bandit and from it the plateau length
#    ~ 1 / (2 lr Delta p0), then check it by simulation;
# 2. tell the *value* log pi(a) from its *gradient* onehot(a) - pi, and find the logit gap at
#    which float32 rounds the softmax to exactly 1;
# 3. classify a run as converged, learning or trapped from its recorded rates;
# 4. explain the trap: every trial pays the same, the baseline learns it, every advantage is 0.
#
# **Prerequisites.** Notebook 00 (the task, REINFORCE, onehot(a) - pi, the glossary of
# behaviour words). **Time:** about 40 minutes; Run All takes well under a minute.

# %%
# %matplotlib inline
import numpy as np
import torch

from pyrl_mini import analysis, exercises, softmax
from pyrl_mini.lessons import nb03_gradient_vanishing as nb

torch.set_num_threads(1)

# %% [markdown]
# ## 1. The expected gradient on a two-armed bandit, derived (10 min)
#
# Two arms with rewards r = (1, 0), so Delta = 1 is the reward gap. The policy is
# pi = softmax(theta) and we climb J = pi . r. REINFORCE samples an arm a and steps along
# r(a) (onehot(a) - pi); its expectation over a is
#
# $$ \nabla_\theta J = \sum_a \pi(a)\, r(a)\, (\mathrm{onehot}(a) - \pi) = \pi \odot (r - \pi\cdot r). $$
#
# With p = pi(best arm) this is (+1, -1) p (1 - p) Delta. One step of size lr moves the logit
# difference by 2 lr Delta p (1 - p), and p moves by p (1 - p) times that:
#
# $$ \frac{dp}{dt} = 2\,\mathrm{lr}\,\Delta\, p^2 (1-p)^2 \quad\Rightarrow\quad
#    t_{\text{plateau}} \approx \frac{1}{2\,\mathrm{lr}\,\Delta\, p_0} \quad (p_0 \ll 1). $$
#
# (For small p, dp/dt ~ 2 lr Delta p^2 gives 2 lr Delta t = 1/p0 - 1/p.) The gradient is zero at
# *both* vertices, best arm and worst; halve p0 and the plateau doubles.
# The prediction, before any simulation:

# %%
lr, delta = 0.1, 1.0
p0s = np.array([0.1, 0.03, 0.01, 0.003, 0.001])
predicted = 1 / (2 * lr * delta * p0s)
for p0, t in zip(p0s, predicted):
    print(f"p0 = {p0:<6g} plateau ~ {t:6.0f} steps")

# %% [markdown]
# ### Exercise 1: one exact policy-gradient step
#
# Write one step of gradient *ascent* on J with the exact gradient above. `theta` and
# `rewards` are float64 tensors of shape (K,).

# %%
def exact_pg_step(theta, rewards, lr):
    """Return theta + lr * grad J, with grad J = pi * (r - pi . r), pi = softmax(theta)."""
    ...


# %%
exact_pg_step = exercises.exact_pg_step.check(exact_pg_step)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# def exact_pg_step(theta, rewards, lr):
#     pi = torch.softmax(theta, dim=-1)
#     return theta + lr * pi * (rewards - (pi * rewards).sum())
# ```
# </details>
#
# Now run your step from each p0 and count the steps until the best arm has probability 1/2:

# %%
rewards = torch.tensor([1.0, 0.0], dtype=torch.float64)
measured = []
for p0 in p0s:
    theta = torch.tensor([np.log(p0), np.log(1 - p0)], dtype=torch.float64)
    steps = 0
    while torch.softmax(theta, -1)[0] < 0.5:
        theta = exact_pg_step(theta, rewards, lr)
        steps += 1
    measured.append(steps)
measured = np.array(measured)
for p0, m, t in zip(p0s, measured, predicted):
    print(f"p0 = {p0:<6g} measured {m:5d} steps, predicted {t:6.0f} (ratio {m / t:.2f})")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# the prediction holds to within 10 % once p0 <= 0.01 (the 1/p0 term dominates)
assert np.all(np.abs(measured[2:] / predicted[2:] - 1) < 0.1)
# dividing p0 by 10 multiplies the plateau by about 10
assert 8 < measured[-1] / measured[2] < 12
# and the exact integral (bandit.py) matches the measured steps within 2 %
np.testing.assert_allclose(measured, nb.plateau_table(tuple(p0s))["formula"], rtol=0.02)

# %% [markdown]
# The figure adds 16 *sampled* REINFORCE runs (batch 16) from p0 = 0.01: they escape around
# the same step.

# %% tags=["hide-input"] jupyter={"source_hidden": true}
plateau, late = nb.plateau_table(), nb.late_phase()
sampled = nb.sampled_escape(p0=0.01)
nb.plot_plateau(plateau, late, sampled);
assert abs(np.median(sampled["escape"]) / sampled["formula"] - 1) < 0.15

# %% [markdown]
# **Think!** A network's better action starts at p0 = 1e-4 and lr = 0.1. How long is the
# plateau? What does halving the learning rate do?
#
# <details><summary>Answer</summary>
#
# About 1 / (2 x 0.1 x 1 x 1e-4) = 50,000 steps; halving lr doubles it. Slow is not stuck:
# the gradient is small but points the right way. A policy that is near-deterministic on a bad
# action is a plateau, not a wall, as long as the better action still pays more when sampled.
# </details>
#
# ## 2. Value against gradient, and where float32 makes it zero (10 min)
#
# For logits z = (gap, 0) the analysis uses the **value** log pi(a); REINFORCE uses its
# **gradient** onehot(a) - pi. For the likely action both shrink like e^-gap. For the unlikely
# action the gradient has norm about sqrt 2: *large*, but sampled with probability ~ e^-gap.
# So the *expected* gradient is tiny long before anything is exactly zero: 1e-4 at gap 10,
# where section 1 predicts a plateau of 110,000 steps at lr 0.1. Solid lines: float32;
# dotted: float64; a line stops where the quantity is exactly 0.

# %% tags=["hide-input"] jupyter={"source_hidden": true}
nb.plot_value_vs_gradient();
c = nb.gap_curves(np.array([10.0]), torch.float64)
assert abs(c["log_pi_lead"][0]) < 1e-4 and c["grad_lead"][0] < 1e-4
assert c["log_pi_other"][0] < -9.9 and np.isclose(c["grad_other"][0], np.sqrt(2), rtol=1e-3)
assert c["grad_expected"][0] < 2e-4

# %% [markdown]
# In floating point the softmax returns exactly 1.0 once e^-gap is lost in rounding next to
# 1. From there log pi(lead) = 0 and 1 - pi_lead = 0 *exactly*.
#
# ### Exercise 2: find the saturation gap by bisection
#
# Return the smallest gap g (to 1e-6) at which `torch.softmax(torch.tensor([g, 0.0],
# dtype=dtype), 0)[0] == 1.0`. Start from lo = 0 (softmax 1/2) and hi = 100 (exactly 1).

# %%
def saturation_gap(dtype):
    """Smallest logit gap at which the softmax in `dtype` returns exactly 1.0."""
    ...


# %%
saturation_gap = exercises.saturation_gap.check(saturation_gap)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# def saturation_gap(dtype):
#     lo, hi = 0.0, 100.0
#     while hi - lo > 1e-6:
#         mid = (lo + hi) / 2
#         if torch.softmax(torch.tensor([mid, 0.0], dtype=dtype), dim=0)[0] == 1.0:
#             hi = mid
#         else:
#             lo = mid
#     return hi
# ```
# </details>

# %%
gap32, gap64 = saturation_gap(torch.float32), saturation_gap(torch.float64)
edge = softmax.saturation_gaps(torch.float32)
print(f"softmax == 1 from gap {gap32:.2f} (float32), {gap64:.2f} (float64)")
print(f"float32: |grad| prints as 0.000000 from gap {edge.norm_prints_zero:.1f}; "
      f"the component -pi_other is exactly 0 only from gap {edge.grad_other_zero:.0f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert abs(gap32 - 16.64) < 0.01 and abs(gap64 - 36.74) < 0.01
# printing hides the gradient before float32 zeroes it, and one component survives far beyond
assert edge.norm_prints_zero < gap32 < edge.grad_other_zero and 100 < edge.grad_other_zero < 110

# %% [markdown]
# So a logged "0.000000" says |grad| < 5e-7, not grad = 0.
#
# ### Interactive demo: the logit gap
#
# Bars: pi, log pi and the gradient components for a sampled likely action (left four) and a
# sampled unlikely one (right four), float32 (blue) and float64 (orange); an x marks a float32
# component that is exactly 0.

# %%
gap_demo = nb.gap_demo()
gap_demo

# %% [markdown]
# **Think!** Set the gap to 20. Which bars are exactly zero in float32, and which are not?
# Would a learning rate of 1e6 rescue the likely action's update?
#
# <details><summary>Answer</summary>
#
# In float32, log pi(lead) and the component 1 - pi_lead are exactly 0; -pi_other is about
# -2e-9, not zero. The unlikely action's gradient is large but almost never sampled. Any
# learning rate times an exact 0 is 0, so no: the first component is gone, not small.
# </details>
#
# ## 3. Converged, learning or trapped: classify by behaviour (8 min)
#
# A deterministic policy is the *goal* when it picks the better offer, so we classify runs
# by what they do, with notebook 00's words:
#
# | word | rule, over the last 50 updates (fractions of trials) |
# | --- | --- |
# | never chooses (trapped) | >= 90 % of trials hold fixation to the end |
# | always aborts (trapped) | >= 90 % of trials break fixation |
# | converged | aborts < 5 % and >= 80 % of choices take the higher-EV offer |
# | one side (trapped) | >= half the trials choose, >= 95 % of choices on one side |
# | learning | none of these (yet) |
#
# The first rule that holds wins. **Trapped**: the behaviour ignores the offer.
#
# The stored runs: 93 networks in three grids (`nb00_main_grid`: kappa x entropy_coef at lr 0.01;
# `nb03_kappa_lr`: kappa x lr; `nb03_reward_design`: kappa x reward variant). Every cell uses the
# *same* 3 seeds (0, 1, 2), so cells are paired, not independent: each frequency below rests
# on 3 independent seeds.
#
# ### Exercise 3: a run's behaviour from its rates
#
# Return one of "converged", "learning", "never_chooses", "always_aborts", "one_side".
# `left_rate` and `higher_ev_rate` are fractions of the choices made (NaN if none).

# %%
def behaviour(abort_rate, no_choice_rate, left_rate, higher_ev_rate):
    """The behaviour word of one run, by the table's rules in the table's order."""
    ...


# %%
behaviour = exercises.behaviour.check(behaviour)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# def behaviour(abort_rate, no_choice_rate, left_rate, higher_ev_rate):
#     if no_choice_rate >= 0.9:
#         return "never_chooses"
#     if abort_rate >= 0.9:
#         return "always_aborts"
#     if abort_rate < 0.05 and higher_ev_rate >= 0.8:
#         return "converged"
#     chose = 1 - abort_rate - no_choice_rate
#     if chose >= 0.5 and (left_rate >= 0.95 or left_rate <= 0.05):
#         return "one_side"
#     return "learning"
# ```
# </details>
#
# Your function on every stored run's final rates:

# %%
runs = nb.load_runs()
every = nb.all_runs(runs, entropy_coef=None)
rates = nb.final_table(runs, every, ("abort_rate", "no_choice_rate", "left_rate",
                                     "higher_ev_rate"))
words = np.array([behaviour(*r) for r in zip(*rates.values())])
names, counts = np.unique(words, return_counts=True)
print(f"{len(every)} runs:", dict(zip(names.tolist(), counts.tolist())))
final = nb.final_table(runs, every, ("reward", "entropy", "grad_norm"))
for w in names:
    print(f"  {w:14s} final reward {final['reward'][words == w].min():+.2f} to "
          f"{final['reward'][words == w].max():+.2f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
stored = np.array(nb.mode_names(nb.final_modes(runs, every)))
assert np.array_equal(words, stored), "the rules must give the library's word for every run"
trapped = analysis.is_trapped(nb.final_modes(runs, every))
conv = words == "converged"
# converged policies are near-deterministic too, but earn more than every trapped run
assert final["entropy"][conv].max() < 0.2
assert final["reward"][conv].min() > final["reward"][trapped].max()
# the question below: a learning run out-earns the worst converged one, at 79.7 % higher-EV
best = np.argmax(np.where(words == "learning", final["reward"], -np.inf))
assert final["reward"][best] > final["reward"][conv].min()
assert 0.79 < rates["higher_ev_rate"][best] < 0.8 and rates["abort_rate"][best] < 0.01

# %% [markdown]
# Low entropy cannot tell converged from trapped; reward and choices can (right: an aborting
# run makes no choices, plotted at -0.05).

# %% tags=["hide-input"] jupyter={"source_hidden": true}
nb.plot_convergence_vs_collapse(runs);

# %% [markdown]
# **Think!** The best run called *learning* earns more per trial than the worst *converged*
# one (see the reward ranges above). Is the classification wrong?
#
# <details><summary>Answer</summary>
#
# No: the words describe behaviour, not reward. That run almost never aborts but takes the higher-EV
# offer on 79.7 % of unequal pairs, just under the 80 % line; reward also depends on which
# equal-EV gambles kappa favours, and on luck. "Learning" means "not past the line yet".
# </details>

# %% [markdown]
# ## 4. The trap: every trial pays the same (8 min)
#
# The analysis's step-600 log prints log-probability mean, spread and gradient norm as
# 0.000000. Which runs print that at update 600? A `nb03_reward_design` run whose harsher
# no-choice penalty never applies repeats its `nb03_kappa_lr` control exactly, so we count
# distinct networks.

# %%
match = nb.log_match(runs)
zero = match["prints_zero"]
def fingerprint(ref):  # a run's stored entropy and advantage-mean histories, as bytes
    d, i = nb.run_ref(runs, ref)
    return d.h("entropy")[i].tobytes() + d.h("adv_mean")[i].tobytes()


distinct = {fingerprint(r) for r in match["refs"][zero]}
print(f"{zero.sum()} of {len(zero)} stored runs print the three zeros at update 600; "
      f"{len(distinct)} of them are distinct networks")
print("their behaviour:", set(nb.mode_names(match["mode"][zero])))
print(f"gradient norms {match['grad_norm'][zero].min():.0e} to "
      f"{match['grad_norm'][zero].max():.0e}")
first = np.array([nb.run_ref(runs, r)[0].h("abort_rate")[nb.run_ref(runs, r)[1], 0]
                  for r in every])  # updates 0-9 of all 93 runs
print(f"abort rate over updates 0-9: median {np.median(first):.2f} of all {len(every)} runs")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert zero.sum() == 8 and len(distinct) == 5, "the prose counts 5 distinct networks"
seeds = {int(nb.run_ref(runs, r)[0].arrays["seed"][nb.run_ref(runs, r)[1]]) for r in match["refs"][zero]}
assert seeds == {1}, "the prose says all of them are seed 1"
assert np.median(first) > 0.95, "a fresh network aborts almost every trial"
assert np.all(match["mode"][zero] == analysis.MODES.index("always_aborts"))
# printed zero, not a true zero
assert np.all((match["grad_norm"][zero] > 0) & (match["grad_norm"][zero] < 5e-7))

# %% [markdown]
# **The analysis's collapsed log is a network that always aborts** (5 distinct networks here,
# all seed 1). A fresh network nearly does so already (it must pick FIXATE on 7 steps in a
# row): these never learned to hold fixation. Then every trial pays the abort penalty -0.5, whatever the offer; the baseline learns
# -0.5; every advantage d = G - V is about 0, and so is f(d) **for any kappa**; the gradient
# sum_t f(d_t)(onehot(a_t) - pi_t) vanishes. Nothing here needs a deterministic policy:

# %%
mg = runs["nb00_main_grid"]
slow = mg.select(kappa=0.4, entropy_coef=0.0)[1]
kl = runs["nb03_kappa_lr"]
learning = kl.mode == analysis.MODES.index("learning")
print(f"{nb.describe(runs, f'nb00_main_grid:{slow}')}: "
      f"abort rate {mg.final('abort_rate')[slow]:.2f},"
      f" entropy {mg.final('entropy')[slow]:.2f}, max pi {mg.final('max_prob')[slow]:.2f}")
print(f"  advantage mean {mg.final('adv_mean')[slow]:+.1e}, "
      f"gradient norm {mg.final('grad_norm')[slow]:.1e}; a learning run: "
      f"{np.median(kl.final('grad_norm')[learning]):.2f} (median)")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert mg.mode[slow] == analysis.MODES.index("always_aborts")
assert mg.final("entropy")[slow] > 0.5 and mg.final("max_prob")[slow] < 0.7
assert mg.final("grad_norm")[slow] < 1e-3 < 0.1 < np.median(kl.final("grad_norm")[learning])

# %% [markdown]
# Entropy 0.76, yet the gradient is about 1e-4, against 0.7 for a learning run: the gradient
# vanishes because the **advantage** does, not because log pi(a) -> 0.
#
# ## 5. What decides the trap: kappa, learning rate or seed? (5 min)
#
# The analysis: "Risk-seeking (negative κ) causes premature convergence". Trapped seeds at
# update 700, entropy_coef 0, by kappa and learning rate (3 seeds per cell):

# %%
cmap = nb.collapse_map(runs)
trap_map = analysis.is_trapped(cmap["modes"])                 # (kappa, lr, seed)
neg, pos = trap_map[cmap["kappas"] < 0].sum(), trap_map[cmap["kappas"] > 0].sum()
per_lr, per_seed = trap_map.sum(axis=(0, 2)), trap_map.sum(axis=(0, 1))
print(f"trapped: kappa < 0 {neg} of 18, kappa > 0 {pos} of 18")
print("per lr (of 15):", dict(zip(cmap["lrs"].tolist(), per_lr.tolist())),
      " per seed (of 15):", per_seed.tolist())

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert neg <= pos  # the analysis predicts more at kappa < 0
assert per_lr[2] >= per_lr[0] + per_lr[1] + 3
assert per_seed.max() >= 0.75 * per_seed.sum()

# %% [markdown]
# Trapping does not follow the sign of kappa (2 of 18 below zero, 5 of 18 above). It follows
# the learning rate (6 of 15 at lr 0.03) and the seed: seed 1 carries 7 of the 8. Three seeds
# cannot rank kappas; they do contradict the analysis.
#
# ### Interactive demo: kappa x learning rate
#
# Left: trapped seeds per cell. Right: that cell's runs, by behaviour.

# %%
kappa_lr_demo = nb.kappa_lr_demo(runs)
kappa_lr_demo

# %% [markdown]
# **Think!** Pick lr = 0.03 and move kappa from -0.4 to +0.4. Which seed is orange in every
# cell, and what does that say about "kappa < 0 causes it"?
#
# <details><summary>Answer</summary>
#
# Seed 1 always aborts at lr 0.03 for every kappa: its initial weights and first batches
# decide, not kappa. The analysis compared a kappa = -0.2 run at step 600 with a +0.2 run at
# step 1300: different runs at different times.
# </details>
#
# ## 6. Gradient clipping (claim 8) (3 min)
#
# The analysis: clipping "doesn't fix vanishing gradients". The trainer rescales g to
# 5 g / |g| when |g| > 5 (it can only shrink a gradient) and records |g| before clipping.

# %%
clip = nb.clipping_stats(runs)
aborting = clip["mode"] == analysis.MODES.index("always_aborts")
print(f"updates clipped over all {len(aborting)} runs at entropy_coef 0: "
      f"{100 * clip['clipped_all'].mean():.2f} %")
print(f"always-abort runs ({aborting.sum()}): updates clipped "
      f"{100 * clip['clipped_all'][aborting].max():.0f} %, largest gradient norm "
      f"{clip['max_grad'][aborting].max():.3f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert np.all(clip["clipped_all"][aborting] == 0) and clip["max_grad"][aborting].max() < 0.05
assert clip["clipped_all"].max() < 0.02 and clip["clipped_all"].mean() < 0.005

# %% [markdown]
# **Conclusion.** The analysis is right that clipping does not help, for a reason it does not
# give: in a trapped run the gradient never comes within a factor 100 of the threshold, so
# clipping never acts on it, and rescaling a zero advantage could not create one anyway.
# Clipping neither causes the trap nor cures it.
#
# **Think!** You raise the no-choice penalty from -0.5 to -10 and restart from a network that
# always aborts. Will it escape?
#
# <details><summary>Answer</summary>
#
# No. Every trial still pays -0.5 (an abort), the baseline has learned it, every advantage is
# still 0. A penalty changes which states are traps only while the policy still samples the
# alternatives. Escaping needs a gradient that does not pass through the advantage: an
# entropy bonus (notebook 04).
# </details>
#
# ## Verdicts
#
# | claim of the analysis | verdict | evidence |
# | --- | --- | --- |
# | log pi(a) -> 0 makes the gradient 0 | half right | the gradient is onehot(a) - pi; its expectation vanishes at every vertex (section 1) |
# | a deterministic policy is stuck forever | no | a plateau ~ 1/(2 lr Delta p0), slow not stuck (section 1); float32 zeroes only 1 - pi_lead (section 2) |
# | the collapsed log is premature convergence | no | the 5 networks that print it never learned to hold fixation; equal returns, advantage 0 (section 4) |
# | negative kappa collapses, positive does not | no | 2 of 18 vs 5 of 18; lr and seed decide (section 5) |
# | clipping does not fix it | yes | it never acts on a trapped run (section 6) |
#
# ## Summary
#
# - The expected gradient of J = pi . r is pi (r - pi . r): zero at every vertex. From a start
#   p0 on the better arm, the plateau lasts about 1 / (2 lr Delta p0) steps.
# - log pi(a) and onehot(a) - pi both vanish as pi(a) -> 1; float32 makes the softmax exactly 1
#   from a gap of 16.6, and a log's "0.000000" only means < 5e-7.
# - Behaviour, not entropy, tells converged from trapped runs.
# - The analysis's collapsed log is an always-abort trap: equal returns, zero advantages, for
#   any kappa. Trapping follows learning rate and seed, not kappa; clipping is irrelevant.
#
# Next: notebook 04, the entropy bonus, whose gradient does not pass through the advantage.

# %% [markdown]
# ## Bonus A: the slow end, and the bandit with an entropy bonus
#
# Near the optimum q = 1 - p obeys dq/dt = -2 lr Delta q^2, so q ~ 1 / (2 lr Delta t): a 1/t
# approach (Mei et al. 2020). The demo runs exact policy gradient live: move p0, lr and the
# entropy coefficient tau (objective pi . r + tau H). With tau > 0 the policy goes to
# softmax(r / tau) instead of the best arm.

# %%
print(f"t (1 - p) at t = {late['t'][-1]}: {late['t'][-1] * late['gap'][-1]:.3f}, "
      f"formula 1 / (2 lr Delta) = {1 / (2 * 0.1 * 1.0):.3f}")
bandit_demo = nb.bandit_demo()
bandit_demo

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert abs(late["t"][-1] * late["gap"][-1] * 2 * 0.1 - 1) < 0.03

# %% [markdown]
# **Think!** With tau = 0.1, where does pi(best) settle? Why can an entropy bonus never give a
# fully deterministic policy?
#
# <details><summary>Answer</summary>
#
# At softmax(r / tau) = softmax((10, 0)): pi(best) = 1 / (1 + e^-10) ~ 0.99995. Its optimum is
# interior for every tau > 0, because H's gradient grows without bound at a vertex.
# </details>
#
# ## Bonus B: the log of each kind of run, and kappa's fingerprint
#
# `analysis.report` prints a run's diagnostics in the layout of the upstream debug log, here
# from the stored histories at the end of each run (`nb00_main_grid` keeps fewer diagnostics, so
# some of its lines print nan). The one never-choosing run is from `nb00_main_grid` at
# entropy_coef 0.01: it learned first, then stopped choosing.

# %%
examples = nb.example_runs(runs, modes=("converged", "never_chooses", "always_aborts",
                                        "one_side"))
texts = [nb.stored_report(runs, ref) for ref in examples.values()]
titles = [f"{mode}: {nb.describe(runs, ref)}" for mode, ref in examples.items()]
for i in range(0, len(texts), 2):
    print(nb.side_by_side(texts[i:i + 2], titles[i:i + 2], width=74), end="\n\n")

# %% [markdown]
# In a trapped run the advantage split is a fingerprint of **kappa's baseline**, not of
# learning. V <- V + lr f(d) stops where the mean of f(d) is zero: at kappa < 0 positive
# errors weigh 1 - kappa > 1, so V settles above the middle of the noise and fewer than half
# the errors are positive; at kappa > 0 more than half. The analysis's log has 36.6 %
# positive at kappa = -0.2.

# %%
zk = np.array([nb.run_ref(runs, r)[0].arrays["grid/kappa"][nb.run_ref(runs, r)[1]]
               for r in match["refs"][zero]])
zp = match["adv_pos_frac"][zero]
for k in np.unique(zk):
    print(f"kappa={k:+.1f}: positive advantages {100 * zp[zk == k].mean():.1f} %")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert np.all(zp[zk < 0] < 0.45) and np.all(zp[zk > 0] > 0.55)
assert np.all(np.abs(zp[zk == 0] - 0.5) < 0.05)
assert np.all(np.abs(match["adv_mean"][zero]) < 2e-5)

# %% [markdown]
# Ours stop where the mean of f(d) is 0 (below 2e-5 in size); the log's mean is -0.005. A
# likely reason, not tested against upstream: its baseline minimised f(d)^2, a stronger
# asymmetry whose fixed point has a negative mean of f(d).
#
# ## Bonus C: reward design, and clipping update by update
#
# Upstream charges -0.5 both for aborting and for never choosing; waiting is free. At lr 0.03
# (control: `nb03_kappa_lr`, same seeds) we tried a no-choice penalty of -1.0 and a step cost of
# 0.01 per step (waiting for the decision then costs up to 0.15 more).

# %%
rmap = nb.reward_map(runs)
rtrap = analysis.is_trapped(rmap["modes"]).sum(axis=(1, 2))
print("trapped runs per variant (of 9):", dict(zip(rmap["variants"].tolist(), rtrap.tolist())))
same = fingerprint(rmap["cells"][1, 0, 1]) == fingerprint(rmap["cells"][0, 0, 1])
print("seed 1 with the -1.0 no-choice penalty has its control's exact history:", same)
reward_demo = nb.reward_demo(runs)
reward_demo

# %% tags=["hide-input"] jupyter={"source_hidden": true}
control, no_choice, step_cost = rtrap
assert step_cost >= control + 3 and abs(no_choice - control) <= 1 and same

# %% [markdown]
# The trap here is aborting: a harsher no-choice penalty does not touch it (the penalty never
# applied), while a small step cost, which makes waiting costly, more than doubles it.
#
# **Think!** Why would a step cost make aborting *more* attractive?
#
# <details><summary>Answer</summary>
#
# Aborting early ends the trial before the step costs add up; a trial that waits for the
# decision pays up to 0.15 more. Early on, when choices are still random, that tips the
# comparison toward breaking fixation.
# </details>
#
# Each dot below is a 10-update block of one run: gradient norm before clipping against the
# fraction of updates clipped. Clipping acts only right of the dashed line.

# %% tags=["hide-input"] jupyter={"source_hidden": true}
nb.plot_clipping(runs);

# %% [markdown]
# ## References
#
# - Mei, J., Xiao, C., Szepesvári, C. & Schuurmans, D. (2020). On the global convergence rates
#   of softmax policy gradient methods. *ICML 2020*.
# - Mei, J., Xiao, C., Dai, B., Li, L., Szepesvári, C. & Schuurmans, D. (2020). Escaping the
#   gravitational pull of softmax. *NeurIPS 2020*.
# - Williams, R. J. (1992). Simple statistical gradient-following algorithms for
#   connectionist reinforcement learning. *Machine Learning* 8, 229-256.
# - Song, H. F., Yang, G. R. & Wang, X.-J. (2017). Reward-based training of recurrent neural
#   networks for cognitive and value-based tasks. *eLife* 6:e21492.
# - Pascanu, R., Mikolov, T. & Bengio, Y. (2013). On the difficulty of training recurrent
#   neural networks. *ICML 2013* (gradient clipping).
