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

# %%
# Outside the repository (Colab, Binder, a plain Jupyter) pyrl_mini may be missing: this cell
# then installs the wheel your course handed out, put next to this notebook (README: "Without
# make"). With pyrl_mini installed it does nothing.
try:
    import pyrl_mini  # noqa: F401
except ImportError:
    # %pip install pyrl_mini-*.whl

# %% [markdown]
# # 00 · The task, the policy gradient and kappa
#
# A recurrent network learns a monkey's gambling task by policy gradient, and some runs stop
# learning: their behaviour turns deterministic and ignores the offer. **The analysis**, the written
# diagnosis of that failure (it says "collapse") that came with pyrl (Song, Yang & Wang 2017),
# the code we call **upstream**, blames kappa, a parameter that makes the gradient
# *risk-sensitive*. Notebook 05 grades each of its claims.
#
# **Learning objectives.** You will
# 1. read the gambling task and its equal-EV pairs;
# 2. derive REINFORCE with a baseline;
# 3. explain why a kappa-weighted update prefers risk;
# 4. tell trapped from converged runs, and count them over seeds.
#
# **Prerequisites.** A semester of machine learning (softmax, expected value, some PyTorch).
# **Time:** about 54 minutes with the exercises, as one reader working as a student
# measured it (section by section in the headings). Section 5 is the collection's **Glossary**.

# %%
# %matplotlib inline
from math import comb

import numpy as np
import torch

from pyrl_mini import TrainSettings, analysis, data, plots, stats, tasks, verdicts, widgets
from pyrl_mini.exercises import nb00 as exercises
from pyrl_mini.trainer import Ensemble, train

torch.manual_seed(0)
torch.set_num_threads(1)  # one thread: training sums in the same order on every run

# %% [markdown]
# ## 1. The gambling task (5 min)
#
# A trial (Nakazawa et al. 2023) shows two options, each a probability p and a
# magnitude m. Phases: **fixation** (hold still), **stimulus** (options shown, still hold),
# **decision** (choose). Actions: FIXATE, CHOOSE-LEFT, CHOOSE-RIGHT. Aborting (breaking
# fixation early) and not choosing are penalised; a choice pays m with probability p, else 0.
# The trial shown offers p = 0.3 and p = 0.7 (printed below), both in the middle EV column of
# the grid below. In the trial's figure each row is one input (a dot marks its onset): the
# fixation cue, then p and m as rescaled logs in [0, 1].

# %%
task = TrainSettings().task
left, right = 7, 17  # option i: grid row i // 5 from the bottom row (p = 0.1), EV column i % 5
print(f"{task.steps} steps per trial; abort pays {task.abort_penalty}, "
      f"no choice pays {task.no_choice_penalty}")
for side, i in (("left", left), ("right", right)):
    print(f"{side}: p = {tasks.OPTION_P[i]:.1f}, m = {tasks.OPTION_MAGNITUDE[i]:.2f}")
plots.plot_trial(task, left=left, right=right);

# %% [markdown]
# **Each column has one expected value** (EV; m = EV / p): a pair from one column, like the
# trial's, differs in risk alone (lower p: riskier).

# %% tags=["hide-input"] jupyter={"source_hidden": true}
plots.plot_option_grid();
ev = (tasks.OPTION_P * tasks.OPTION_MAGNITUDE).reshape(5, 5)
assert np.allclose(ev, ev[0]), "each EV column must have one expected value"
assert len(tasks.OPTION_P) == 25 and len(tasks.PROBABILITIES) == 5
assert np.allclose(ev.ravel()[[left, right]], ev[0, 2]), "options 7 and 17: one column"

# %% [markdown]
# ## 2. The policy gradient, derived (6 min)
#
# The policy pi_theta gives the actions' probabilities; we raise J(theta) = E[R], a trial's
# expected reward. The log-derivative trick, grad pi = pi grad log pi, gives
#
# $$\nabla_\theta J = \mathbb{E}\Big[\sum_t \nabla_\theta \log \pi_\theta(a_t \mid s_t)\, G_t\Big]$$
#
# where the **return** G_t is the reward from step t to the trial's end. A **baseline** V_t (a
# second network's prediction of G_t) can be subtracted, since E_a[grad log pi(a)] =
# grad sum_a pi(a) = 0. REINFORCE weights by the **advantage** d_t = G_t - V_t: better than
# predicted raises the action's log-probability, worse lowers it.
#
# With logits z and pi = softmax(z), log pi(a) = z_a - log sum_j exp z_j, whose derivative
# in z_j is 1 if j = a, minus pi_j:
#
# $$\nabla_z \log \pi(a) = \mathrm{onehot}(a) - \pi .$$

# %%
z = torch.tensor([2.0, -1.0, 0.5], requires_grad=True)
a = 0
torch.log_softmax(z, dim=0)[a].backward()
by_hand = torch.nn.functional.one_hot(torch.tensor(a), 3) - torch.softmax(z.detach(), dim=0)
print("autograd:", z.grad.numpy().round(4), " onehot(a) - pi:", by_hand.numpy().round(4))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert torch.allclose(z.grad, by_hand, atol=1e-6)
assert abs(float(by_hand.sum())) < 1e-6  # the components always sum to zero

# %% [markdown]
# As pi puts all its mass on a, onehot(a) - pi goes to 0: a nearly deterministic policy gets
# a tiny gradient (notebook 03 asks how tiny).
#
# ## 3. The kappa transform (9 min)
#
# Mihatsch & Neuneier (2002) transform the advantage:
#
# $$ f(d) = \begin{cases} (1-\kappa)\,d & d > 0 \\ (1+\kappa)\,d & d \le 0 \end{cases}
# \qquad -1 < \kappa < 1 .$$
#
# kappa < 0 weights good surprises more (**risk-seeking**), kappa > 0 bad ones
# (**risk-averse**).
#
# ### Exercise 1: write f(d)
#
# In: a tensor `d` of any shape and a float `kappa`; out: a new tensor of d's shape (leave `d`
# unchanged). `torch.where(condition, a, b)` picks elementwise.

# %%
def kappa_transform(d: torch.Tensor, kappa: float) -> torch.Tensor:
    """f(d) = (1 - kappa) d where d > 0, (1 + kappa) d elsewhere. Same shape as d."""
    ...


# %%
kappa_transform = exercises.kappa_transform.check(kappa_transform)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# def kappa_transform(d, kappa):
#     return torch.where(d > 0, (1 - kappa) * d, (1 + kappa) * d)
# ```
# </details>

# %%
d = torch.tensor([1.0, -1.0])
for kappa in (-0.2, 0.0, 0.2):
    up, down = kappa_transform(d, kappa) * torch.tensor([1.0, -1.0])
    print(f"kappa={kappa:+.1f}: d > 0 scaled by {up:.1f}, d < 0 scaled by {down:.1f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
up, down = kappa_transform(d, -0.2) * torch.tensor([1.0, -1.0])
assert np.isclose(up, 1.2) and np.isclose(down, 0.8), "kappa=-0.2: x1.2 on d > 0, x0.8 on d < 0"

# %% [markdown]
# (The analysis says kappa = -0.2 scales *negative* d by 1.2: the line above shows positive d;
# notebook 05 grades this claim.)
#
# **Why kappa < 0 prefers risk.** A good surprise counts (1 - kappa) > 1 times, a bad one
# (1 + kappa) < 1 times. An option that pays m = EV / p with probability p, judged against a
# baseline V = EV, gets a mean push (the expected f(d) of choosing it)
# p f(m - EV) + (1 - p) f(-EV) = -2 kappa EV (1 - p):
# zero at kappa = 0, and for kappa < 0 larger the lower p (the rarer, bigger win). So the
# network prefers risk; section 6's demo tests this. Bonus A derives where the baseline then
# settles (an expectile).

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# the mean push above, with the f of Exercise 1, on section 1's pair (EV 0.7, p = 0.3 and 0.7)
for kappa in (-0.4, 0.0, 0.4):
    for p_win in (0.3, 0.7):
        ev, m = 0.7, 0.7 / p_win
        push = p_win * kappa_transform(torch.tensor(m - ev), kappa) + (1 - p_win) * \
            kappa_transform(torch.tensor(-ev), kappa)
        assert np.isclose(float(push), -2 * kappa * ev * (1 - p_win), atol=1e-6)

# %% [markdown]
# ## 4. Training (8 min)
#
# Each update, the trainer (`pyrl_mini.trainer.train`) runs B trials and minimises
#
# $$ L = -\frac{1}{B}\sum_{\text{valid } t,\, b} \log\pi(a_t)\, f(d_t)
#        \;-\; c_H\, \overline{H} $$
#
# with f(d) detached (a constant weight: no gradient flows through it); **valid steps** come
# before a trial's end. H = -sum_a pi(a) log pi(a) is the **entropy** (0 when deterministic),
# H-bar its mean over valid steps, c_H the setting `entropy_coef`. Now 300 updates at the
# defaults, kappa 0 and entropy_coef 0:

# %%
live = train(TrainSettings(updates=300, seed=1), desc="300 updates")
h = live.member(0)

# %% [markdown]
# ### Exercise 2 (prediction): which is learned first?
#
# Averaged over a window of 20 updates, which line does this run cross first: abort under 20 %
# of trials ("fixation"), choose the higher-EV offer on over 60 % of unequal-EV pairs
# ("choice"), or both within 20 updates ("together")?
# Answer before the curves appear.

# %%
learned_first = ...  # "fixation", "choice" or "together"

# %%
learned_first = exercises.learned_first.check(learned_first, h)

# %%
plots.plot_curves(np.arange(live.updates_done), h, smooth=20,  # Exercise 2's window
                  names=("reward", "abort_rate", "higher_ev_rate", "entropy"));

# %% tags=["hide-input"] jupyter={"source_hidden": true}
first, last = h["abort_rate"][:20].mean(), h["abort_rate"][-20:].mean()
assert last < 0.1 < first, "the network learns to hold fixation"
assert np.nanmean(h["higher_ev_rate"][-20:]) > 0.6, "and to prefer the higher-EV option"
assert exercises.learned_first.truth(h).answer == "fixation", "the answer below"
run = TrainSettings(updates=300, seed=1)  # the run's settings: the defaults, as the prose says
assert run.kappa == 0 and run.entropy_coef == 0
assert h["reward"][0] == task.abort_penalty == -0.5, "every trial of update 0 aborts"
assert np.flatnonzero(np.isfinite(h["higher_ev_rate"]))[0] == 38, "first choices: update 38"
assert exercises.WINDOW == 20, "Exercise 2's window, the curves' smoothing"
span = slice(60, 120)  # entropy near 0 while the higher-EV rate sits near 0.5, no aborts
assert h["entropy"][span].mean() < 0.2 and abs(np.nanmean(h["higher_ev_rate"][span]) - 0.5) < 0.1
assert h["abort_rate"][span].mean() < 0.05, "it holds fixation: nearly certain on those steps"

# %% [markdown]
# Reward starts at -0.5, the abort payment; the higher-EV rate has no value until the network
# first chooses, at update 38. The entropy panel's dotted line is ln 3 = 1.10 (uniform choice);
# H-bar falls below 0.2 while the higher-EV rate sits near 0.5: it averages every valid step, fixation
# and stimulus included, where the policy is nearly certain.
#
# <details><summary>Answer</summary>
#
# Holding fixation comes first: the abort rate falls before the higher-EV rate rises. An
# aborted trial pays a penalty whatever the offer, so every trial teaches fixation, while
# choosing well is rewarded only on trials that reach the decision, and only on average.
# </details>
#
# ## 5. Glossary: how a run ends (4 min)
#
# A converged run is nearly deterministic, like one that stopped learning, so a run is judged
# by its **behaviour mode** over its last 50 updates: the first of the five modes that holds.
#
# | term | meaning |
# | --- | --- |
# | **never chooses** (mode) | fixates to the end on >= 90 % of trials |
# | **always aborts** (mode) | breaks fixation on >= 90 % of trials |
# | **converged** (mode) | aborts on < 5 %, picks the higher EV on >= 80 % of unequal-EV pairs |
# | **one side** (mode) | chooses on at least half, >= 95 % of those choices on one side |
# | **learning** (mode) | none of these yet |
# | **trapped** | never chooses, always aborts or one side: ignores the offer |
# | **stuck** | never chooses or always aborts: every trial pays the same, gradient about zero |

# %%
mode = analysis.mode_of_history(live.history)[0]  # section 4's run, over its last 50 updates
print(f"section 4's run: {analysis.MODES[mode]}; its last 50 updates abort "
      f"{np.nanmean(h['abort_rate'][-50:]):.0%} of trials, pick the higher EV on "
      f"{np.nanmean(h['higher_ev_rate'][-50:]):.0%} of unequal pairs")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# the table's thresholds are the library's
assert (analysis.STUCK, analysis.ONE_SIDE) == (0.9, 0.95)
assert (analysis.CONVERGED_ABORT, analysis.CONVERGED_HIGHER_EV) == (0.05, 0.8)
assert set(analysis.TRAPPED_MODES) == {"never_chooses", "always_aborts", "one_side"}

# %% [markdown]
# ## 6. Interactive demo: does kappa move risk preference? (9 min)
#
# `grid` holds networks trained ahead of time, 3 seeds at each kappa and entropy_coef (the
# sliders). Left: each seed's share of lower-p choices on equal-EV pairs (no dot: the seed
# always aborts). Right: the share of left choices by the left-minus-right log p and log EV;
# white cells are pairs that do not occur.

# %%
grid = data.load("nb00_main_grid")
widgets.kappa_demo(grid, kappa=-0.4)

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# prints each seed's lower-p rate with its mode at kappa -0.4 and +0.4, and the slope (with its
# standard error) of a least-squares line through (kappa, lower-p rate) of every run that chooses
# (the grid: kappa -0.4 to +0.4 by 0.2, entropy_coef 0, 0.01, 0.05, 1000 updates, asserted below)


def kappa_slope(entropy_coef):
    kappas, rates = analysis.risk_preference(grid, entropy_coef)  # (kappa,), (kappa, seed)
    x, y = np.repeat(kappas, rates.shape[1]), rates.ravel()
    ok = np.isfinite(y)  # NaN: a run that stopped choosing
    (slope, intercept), cov = np.polyfit(x[ok], y[ok], 1, cov=True)
    return slope, np.sqrt(cov[0, 0])  # the slope's variance is the covariance's [0, 0]


kappas, risky_rate = analysis.risk_preference(grid, entropy_coef=0.0)
low, high = risky_rate[list(kappas).index(-0.4)], risky_rate[list(kappas).index(0.4)]
seed_modes = {k: grid.mode[grid.by_seed(kappa=k, entropy_coef=0.0)] for k in (-0.4, 0.4)}
hev = {k: grid.final("higher_ev_rate")[grid.by_seed(kappa=k, entropy_coef=0.0)]
       for k in seed_modes}
for k, rates in ((-0.4, low), (0.4, high)):
    print(f"kappa {k:+.1f}, entropy_coef 0, lower-p rate per seed: " + ", ".join(
        f"{r:.2f} ({analysis.mode_word(m)}, higher EV {e:.2f})"
        for r, m, e in zip(rates, seed_modes[k], hev[k], strict=True)))
slopes = {c: kappa_slope(c) for c in grid.values("entropy_coef")}
print("slope (change in the lower-p share per unit of kappa, +- its standard error)\n"
      "  at entropy_coef 0, 0.01, 0.05: " + ", ".join(
          f"{slope:+.2f} +- {se:.2f}" for slope, se in slopes.values()))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert all(s < 0 and abs(s) > 3 * se for s, se in slopes.values()), "falls at every entropy_coef"
assert all(np.all(np.diff(np.nanmean(analysis.risk_preference(grid, c)[1], axis=1)) < 0)
           for c in grid.values("entropy_coef")), "the mean line falls as kappa rises, each coef"
assert grid.meta["spec"]["seeds"] == [0, 1, 2] and grid.meta["spec"]["base"]["updates"] == 1000
assert np.allclose(grid.values("kappa"), [-0.4, -0.2, 0, 0.2, 0.4])
assert np.allclose(grid.values("entropy_coef"), [0, 0.01, 0.05])
for k, sign in ((-0.4, 1), (0.4, -1)):  # the heatmap's row y = 0 (equal EV) agrees
    xs, ys, table, n = plots.pooled_choice_table(grid, k, 0.0)
    row, cnt, j = table[:, np.argmin(np.abs(ys))], n[:, np.argmin(np.abs(ys))], xs < 0
    lower_p_left = np.nansum(row[j] * cnt[j]) / cnt[j].sum()
    higher_p_left = np.nansum(row[xs > 0] * cnt[xs > 0]) / cnt[xs > 0].sum()
    assert sign * (lower_p_left - 0.5) > 0 and sign * (0.5 - higher_p_left) > 0
assert np.nanmean(low) > 0.5 > np.nanmean(high), "risk-seeking above 0.5, risk-averse below"
assert np.all(low > 0.5) and np.all(high[np.isfinite(high)] < 0.5), "each seed, as the prose says"
no_rate = [analysis.mode_word(m) for m, r in zip(seed_modes[0.4], high, strict=True)
           if not np.isfinite(r)]
assert np.all(np.isfinite(low)) and no_rate == ["always aborts"], "one missing dot, at +0.4"
both = np.isfinite(low) & np.isfinite(high)
assert both.sum() >= 2 and np.all(low[both] - high[both] > 0.2), "each seed, 20 points apart"
for k, modes in seed_modes.items():  # the prose's "learning": settled, below converged's rule
    settled = modes == analysis.MODES.index("learning")
    assert settled.any() and np.all(hev[k][settled] < analysis.CONVERGED_HIGHER_EV)

# %% [markdown]
# **Think!** Does a larger entropy_coef remove the kappa effect? Move its slider, watch the
# left panel's dots from kappa -0.4 to +0.4, then read the slopes printed above.
#
# <details><summary>Answer</summary>
#
# No: at every entropy_coef the mean line falls as kappa rises, and the slope is negative, many
# standard errors from zero.
# </details>
#
# **Result: kappa does what its name says.** At entropy_coef 0, every seed picks the lower p on
# more than half its equal-EV pairs at kappa -0.4 and on less than half at +0.4 (nan: the seed
# that always aborts). Those that choose stay "learning", below converged's 80 % higher EV: a
# risk preference gives up some EV.
#
# %% [markdown]
# ## 7. How we count (10 min)
#
# Seeds at the same settings can end in different modes, so a result is a frequency. One worked
# example: the dataset `collapse_kappa` trains kappa -0.4, 0 and +0.4 (800 updates) on two
# **seed blocks** of 20; we compare -0.4 with +0.4.
#
# - **k of n** runs end trapped; its **Wilson 95 % interval** holds the rates that k of n does
#   not rule out (mean ± standard error shrinks to a point at k = 0 or k = n).
# - **Paired seeds**: both kappas train the same seeds, so only **discordant** seeds, trapped at
#   one kappa only, say anything about kappa. The **exact McNemar test** is a sign test on them:
#   p is the chance that fair coin flips split at least this unevenly; p < 0.05 is a difference.
# - A result is **replicated** when each block of 20 alone tells the pooled 40's story: its
#   count's Wilson interval overlaps the other block's, and a difference between settings
#   leans the same way in both blocks (where the pooled seeds show none, neither block does).

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# prepares `trapped` (kappa -> one flag per seed, seeds in the same order at both kappas) and
# `groups` (block 1, block 2, pooled -> which of those seeds it holds)
ck = data.load("collapse_kappa")
rows = {kappa: ck.by_seed(kappa=kappa) for kappa in (-0.4, 0.4)}
trapped = {kappa: ck.trapped[r] for kappa, r in rows.items()}
groups = {"block 1": ck.block[rows[-0.4]] == 1, "block 2": ck.block[rows[-0.4]] == 2,
          "pooled": np.ones(len(rows[-0.4]), bool)}

# %%
a, b = trapped[-0.4], trapped[0.4]
n, k_a, k_b = len(a), int(a.sum()), int(b.sum())  # k of n trapped, each kappa
(lo_a, hi_a), (lo_b, hi_b) = stats.wilson(k_a, n), stats.wilson(k_b, n)  # Wilson 95 %
only_a, only_b, p = stats.mcnemar(a, b)  # discordant seeds, exact two-sided p
print(f"trapped {k_a} of {n} ({lo_a:.0%}-{hi_a:.0%}) at -0.4, {k_b} of {n} "
      f"({lo_b:.0%}-{hi_b:.0%}) at +0.4; discordant {only_a} to {only_b}, p = {p:.2f}")
for g in ("block 1", "block 2"):  # every block on its own
    ka, kb = int(a[groups[g]].sum()), int(b[groups[g]].sum())
    p_g = stats.mcnemar(a[groups[g]], b[groups[g]])[2]
    print(f"{g}: {ka} and {kb} of 20 trapped, p = {p_g:.2f}")
print(f"kappa 0: trapped {int(ck.trapped[ck.by_seed(kappa=0.0)].sum())} of 40")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# these counts are verdict 6's (verdicts.py counts them so); p is the formula of the prose
assert np.allclose(ck.values("kappa"), [-0.4, 0, 0.4]), "three kappas, as the prose says"
assert all(np.array_equal(ck.arrays["seed"][rows[-0.4]], ck.arrays["seed"][r])
           for r in rows.values()), "the two kappas hold the same seeds in the same order"
for kappa, r in rows.items():
    c = verdicts.count("trapped", ck.trapped[r], ck.arrays["seed"][r], ck.block[r])
    assert c.blocks == tuple((int(trapped[kappa][g].sum()), 20) for g in
                             (groups["block 1"], groups["block 2"]))
    assert c.replicated, "the two blocks agree within their intervals"
assert [int(trapped[-0.4][g].sum()) for g in groups.values()] == [7, 7, 14]
assert [int(trapped[0.4][g].sum()) for g in groups.values()] == [5, 6, 11]
n = only_a + only_b  # the pooled split: 2 x P(X <= the smaller count), X ~ Binomial(n, 1/2)
assert p == min(1.0, 2 * sum(comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2 ** n)
assert np.isclose(p, 2 * (1 + 7 + 21) / 128), "5 to 2: the prose's sum"
assert np.isclose(stats.sign_test(7, 0), 2 / 2 ** 7), "7 to 0: 0.016, as Bonus C says"
assert int(ck.trapped[ck.by_seed(kappa=0.0)].sum()) == 13, "kappa 0, as the prose says"
test = verdicts.paired("trapped, kappa -0.4 vs +0.4", ck, rows[-0.4], ck.trapped, ck,
                       rows[0.4], ck.trapped)  # verdict 6's paired test, as verdicts.py runs it
assert test.pooled == stats.mcnemar(a, b) == (only_a, only_b, p)
assert test.pooled[:2] == (5, 2) and test.blocks[0][:2] == (3, 1) and test.blocks[1][:2] == (2, 1)
assert all(t[2] >= 0.05 for t in (test.pooled, *test.blocks)), "no difference, in each block"
assert test.replicated
# Bonus C's answer: of 7 discordant seeds, 6 to 1 is not a difference, 7 to 0 is
assert stats.sign_test(7, 0) < 0.05 <= stats.sign_test(6, 1)
assert np.allclose([stats.sign_test(7, 0), stats.sign_test(6, 1)], [0.016, 0.125], atol=5e-4)

# %% [markdown]
# **What the counts say.** kappa -0.4 traps 14 of 40 runs, +0.4 traps 11. Of 40 paired seeds, 7
# are discordant, 5 to 2: p = 2 (C(7,0) + C(7,1) + C(7,2)) / 2^7 = 2 (1 + 7 + 21) / 128 = 0.45,
# the splits with 2 or fewer on one side. No difference, and neither block alone finds one:
# replicated. And kappa 0 already traps 13 of 40: kappa is not what traps these runs, whatever
# the analysis says of negative kappa (notebook 05 grades this claim); notebook 03 asks what does.
#
# ## Summary
#
# - The policy gradient f(d)(onehot(a) - pi) shrinks toward zero as the policy turns
#   deterministic.
# - kappa < 0 weights good surprises more, so it favours the riskier equal-EV option; trained
#   networks agree.
# - A run is judged by its behaviour mode; a frequency is k of n with a Wilson interval;
#   paired seeds are compared with the exact McNemar test.
#
# Next: notebook 01, dead ReLU units.

# %% [markdown]
# ## Bonus A: the expectile and the policy loss, written by you
#
# Section 3's "why", worked out. The baseline follows V <- V + lr f(R - V) and settles, on
# average, where the mean update E[f(R - V)] is zero. At kappa = 0 that is the mean of R; at
# kappa < 0, where f scales good surprises up, V settles above the mean. Statisticians call
# this point an **expectile** of R. For a gamble paying m with probability p, else 0, the
# mean update is p f(m - V) + (1 - p) f(0 - V); the cell finds its zero on a fine grid of V, with your f:

# %%
def settles_at(p, m, kappa):
    """The V in [0, m] where the mean update p f(m - V) + (1 - p) f(-V) is closest to zero."""
    V = torch.linspace(0, m, 100_001)
    mean_update = p * kappa_transform(m - V, kappa) + (1 - p) * kappa_transform(-V, kappa)
    return float(V[mean_update.abs().argmin()])


pair = [(float(tasks.OPTION_P[i]), float(tasks.OPTION_MAGNITUDE[i])) for i in (left, right)]
risky, safe = (settles_at(p_i, m_i, -0.4) for p_i, m_i in pair)  # section 1's p = 0.3 and 0.7
print(f"kappa=-0.4, EV {pair[0][0] * pair[0][1]:.1f}: p=0.3 settles at {risky:.2f}, "
      f"p=0.7 at {safe:.2f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert risky > safe, "the expectile predicts the lower-p option at kappa < 0"
assert [p_i for p_i, _ in pair] == [0.3, 0.7] and np.isclose(pair[0][0] * pair[0][1], 0.7)
assert (round(risky, 2), round(safe, 2)) == (1.17, 0.84), "the prose's 1.17 and 0.84"
for p_, m_ in pair:  # the grid's zero is Exercise 3's closed form
    assert abs(settles_at(p_, m_, -0.4) - exercises.reference_gamble_value(p_, m_, -0.4)) < 1e-3

# %% [markdown]
# Both have EV 0.7, yet at kappa = -0.4 p = 0.3 settles at 1.17, p = 0.7 at 0.84. The
# trainer's baseline network learns with this f but values the state, not each option; the
# policy's update weighs each choice's surprise by the same f, so choosing p = 0.3 pulls as if
# worth 1.17, p = 0.7 as if worth 0.84: a risk-seeking network should prefer p = 0.3 (section
# 6 tests this). Exercise 3 derives the closed form.

# %% [markdown]
# ### Exercise 3: derive the risk-sensitive value of a gamble
#
# The mean update above is zero where (1 - kappa) E[(R - V)+] = (1 + kappa) E[(V - R)+],
# writing (x)+ = max(x, 0) for the positive part. With tau = (1 - kappa) / 2 this is
# tau E[(R - V)+] = (1 - tau) E[(V - R)+], the **tau-expectile** of R. For the gamble (m with
# probability p, else 0; 0 < V < m) solve it for V in closed form, without a grid. Hint: with
# probability p, R - V = m - V > 0; otherwise R - V = -V < 0. In: floats p, m, kappa; out: V,
# a float.

# %%
def gamble_value(p: float, m: float, kappa: float) -> float:
    """The value V where the expected kappa-weighted update of V is zero, for a gamble paying
    m with probability p and 0 otherwise."""
    ...


# %%
gamble_value = exercises.gamble_value.check(gamble_value)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# With probability p, R - V = m - V > 0 (weight tau); otherwise R - V = -V < 0 (weight
# 1 - tau). So tau p (m - V) = (1 - tau)(1 - p) V, and
# V = tau p m / (tau p + (1 - tau)(1 - p)).
#
# ```python
# def gamble_value(p, m, kappa):
#     tau = (1 - kappa) / 2
#     return tau * p * m / (tau * p + (1 - tau) * (1 - p))
# ```
# </details>

# %%
(p_l, m_l), (p_r, m_r) = pair  # the pair above: p = 0.3 and 0.7, EV 0.7
print(f"kappa=-0.4: p=0.3 worth {gamble_value(p_l, m_l, -0.4):.2f} "
      f"(the grid above: {risky:.2f}), p=0.7 worth {gamble_value(p_r, m_r, -0.4):.2f} "
      f"(grid: {safe:.2f})")

# %% [markdown]
# ### Exercise 4: the kappa-weighted policy loss
#
# Write section 4's L. In: `logits` (time, trials, 3), float; `actions` (time, trials), int64
# in {0, 1, 2}; advantages `d` (time, trials); `mask` (time, trials), 1.0 on valid steps and
# 0.0 after a trial ended; floats `kappa` and `entropy_coef`. Out: L, a one-element tensor
#
# L = -(sum of log pi(a_t) f(d_t) over valid steps of all trials) / trials
#     - entropy_coef × (sum of H × mask) / (sum of mask),
#
# so H-bar is the mean entropy over valid (time step, trial) pairs. The checker compares
# your loss's gradient with the trainer's.

# %%
def policy_loss(logits, actions, d, mask, kappa, entropy_coef=0.0):
    """-(sum over valid steps of log pi(a_t) f(d_t)) / trials - entropy_coef * mean H over
    valid steps."""
    logp_all = torch.log_softmax(logits, dim=-1)                             # (time, trials, 3)
    logp = logp_all.gather(-1, actions.unsqueeze(-1)).squeeze(-1)             # (time, trials)
    entropy = -(logp_all.exp() * logp_all).sum(-1)                            # (time, trials)
    ...


# %%
policy_loss = exercises.policy_loss.check(policy_loss)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# def policy_loss(logits, actions, d, mask, kappa, entropy_coef=0.0):
#     logp_all = torch.log_softmax(logits, dim=-1)
#     logp = logp_all.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
#     entropy = -(logp_all.exp() * logp_all).sum(-1)
#     trials = logits.shape[1]
#     mean_entropy = (entropy * mask).sum() / mask.sum()
#     return (-(logp * kappa_transform(d, kappa) * mask).sum() / trials
#             - entropy_coef * mean_entropy)
# ```
# </details>
#
# One update of the library's trainer with plain SGD, read back from the parameters:

# %%
one = TrainSettings(kappa=-0.4, seed=1, policy_optimizer="sgd", grad_clip=0.0)
before = {name: p.detach().clone() for name, p in Ensemble([one]).params.items()}  # seed 1's start
after = train(one, progress=False, stop_after=1)
grad = {name: (before[name] - after.params[name]) / one.lr for name in before}
norm = torch.sqrt(sum((g ** 2).sum() for g in grad.values()))
print(f"gradient norm from the parameters {norm:.5f}; "
      f"recorded by the trainer {after.history['grad_norm'][0, 0]:.5f}")
print("gradient of the output biases b_out (FIXATE, LEFT, RIGHT):", grad["b_out"][0].numpy())

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert np.isclose(float(norm), after.history["grad_norm"][0, 0], rtol=1e-3)
g_out = grad["W_out"][0]
assert g_out.sum(-1).abs().max() < 1e-3 * g_out.abs().max(), "components sum to 0 over actions"
assert abs(float(grad["b_out"].sum())) < 1e-3 * float(grad["b_out"].abs().max())

# %% [markdown]
# The b_out gradient's components sum to zero, as section 2 predicts.
#
# ## Bonus B: train your own, and the upstream log
#
# Press **Train** to train a network with your kappa and entropy_coef (nothing runs until you
# press it).

# %%
widgets.train_widget(TrainSettings(seed=1))

# %% [markdown]
# **Think!** Train at kappa = -0.8 and at +0.8 with entropy_coef 0. Do both learn?
#
# <details><summary>Answer</summary>
#
# It depends on the seed: try two. At kappa = -0.8 bad surprises weigh 0.2 and good ones
# 1.8; at +0.8 the reverse. Watch the abort and higher-EV curves to see whether the run
# learns or ends in a trapped mode; notebooks 03 and 04 measure how often that happens.
# </details>
#
# Upstream printed a debug block every few updates; the trainer records the same quantities
# for every update, and `analysis.report` prints them in upstream's layout. The live run's
# last update:

# %%
print(analysis.report(live.history, live.updates_done - 1))

# %% [markdown]
# Settings are a frozen dataclass: a typo or an out-of-range value is refused with the fix.

# %%
for bad in ({"kappa": 1.3}, {"entropy_coeff": 0.01}):
    try:
        TrainSettings().replace(**bad)
    except (TypeError, ValueError) as err:
        print(f"{type(err).__name__}: {err}")

# %% [markdown]
# ## Bonus C: f(d) drawn, the expectile on samples, every trapped run, the blocks, Wilson's formula
#
# Section 3's f(d) at three kappas:

# %%
plots.plot_kappa_transform();

# %% [markdown]
#
# Bonus A's update V <- V + lr f(R - V) on 20,000 draws of a gamble (p = 0.1, m = 10)
# settles, on average, on the expectile your `gamble_value` gives:

# %%
kappa, p, m, lr = -0.4, 0.1, 10.0, 0.01
gen = torch.Generator().manual_seed(0)
rewards = m * (torch.rand(20_000, generator=gen) < p).float()
V, trace = torch.tensor(0.0), []
for R in rewards:
    V = V + lr * kappa_transform(R - V, kappa)
    trace.append(float(V))
V_late = np.mean(trace[len(trace) // 2:])  # the mean of the second half: V jitters per sample
V_formula = gamble_value(p, m, kappa)
print(f"kappa={kappa}: V, mean of the last {len(trace) // 2} updates {V_late:.3f}; "
      f"gamble_value {V_formula:.3f}; EV {p * m:.2f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert abs(V_late - V_formula) < 0.05 * V_formula, "the update settles on the expectile"
assert V_formula > 1.2 * p * m, "at kappa=-0.4 the expectile is well above the EV"


# %% [markdown]
# Every run of `collapse_kappa` (section 7), red where it ends trapped. kappa 0 traps about as
# many runs as -0.4 and +0.4 (section 7), and most trapped runs end with entropy above 0.01: a
# trapped run ignores the offer without its entropy reaching zero.

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# every run of collapse_kappa, red where it ends trapped; the share the prose above uses
fig = plots.plot_trapped_runs(ck)
final_entropy = ck.arrays["final/entropy"][ck.trapped]
print(f"trapped runs ending with entropy above 0.01: {np.mean(final_entropy > 0.01):.0%}")
assert not plots.style_problems(fig), plots.style_problems(fig)
assert 11 <= int(ck.trapped[ck.by_seed(kappa=0.0)].sum()) <= 14, "about as many as +-0.4"
assert np.mean(final_entropy > 0.01) > 0.5, "most trapped runs keep some entropy"

# %% [markdown]
# Section 7's comparison block by block, each block counted and tested on its own:

# %%
for name, g in groups.items():
    n_g, k_a, k_b = int(g.sum()), int(a[g].sum()), int(b[g].sum())  # k of n trapped, each kappa
    (lo_a, hi_a), (lo_b, hi_b) = stats.wilson(k_a, n_g), stats.wilson(k_b, n_g)  # Wilson 95 %
    x, y, q = stats.mcnemar(a[g], b[g])  # discordant seeds, exact two-sided p
    print(f"{name}: trapped {k_a} of {n_g} ({lo_a:.0%}-{hi_a:.0%}) at -0.4, {k_b} of {n_g} "
          f"({lo_b:.0%}-{hi_b:.0%}) at +0.4; discordant {x} to {y}, p = {q:.2f}")

# %% [markdown]
# The Wilson interval of section 7, by its formula (z = 1.96 for 95 %):

# %%
def wilson(k, n, z=1.96):
    centre = (k + z ** 2 / 2) / (n + z ** 2)
    half = z / (n + z ** 2) * np.sqrt(k * (n - k) / n + z ** 2 / 4)
    return centre - half, centre + half


print("7 of 20:", np.round(wilson(7, 20), 3), " 0 of 20:", np.round(wilson(0, 20), 3))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert np.allclose(wilson(7, 20), stats.wilson(7, 20), atol=1e-3), "the library's formula"
assert np.allclose(wilson(0, 20), stats.wilson(0, 20), atol=1e-3) and wilson(0, 20)[1] > 0.1

# %% [markdown]
# **Think!** A run ends with entropy 0.01 and gradient norm 0.02. Is it trapped?
#
# <details><summary>Answer</summary>
#
# Those two numbers cannot tell. A converged network is nearly deterministic too, with a small
# gradient because it has nothing left to learn (section 5). Look at behaviour: the abort rate,
# the no-choice rate, the higher-EV rate, and whether choices still follow the offer.
# </details>
#
# **Think!** Of 7 discordant seeds (section 7), would 6 to 1 be a difference (p < 0.05)?
#
# <details><summary>Answer</summary>
#
# No: p = 2 × (1 + 7) / 128 = 0.125; only 7 to 0 (p = 0.016) is. A difference of two or three
# seeds in 20 cannot be told from chance, which is why every compared setting has 20 seeds a
# block, and two blocks.
# </details>
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
# - Newey, W. K. & Powell, J. L. (1987). Asymmetric least squares estimation and testing.
#   *Econometrica* 55, 819-847 (expectiles).
# - Achiam, J. (2018). Spinning Up in Deep RL, "Intro to Policy Optimization" (the derivation
#   of section 2).
