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
# # 00b · How a run ends, and how we count
#
# Notebook 00 trained one network. Another seed at the same settings can end elsewhere, so this
# notebook names how a run ends (section 1 is the collection's **Glossary**), asks whether
# kappa moves the risk preference of networks trained ahead of time, and sets out how we count
# runs over seeds.
#
# **Learning objectives.** You will
# 1. tell trapped from converged runs by their behaviour;
# 2. read a kappa sweep of trained networks;
# 3. count runs with a Wilson interval and compare paired seeds with the exact McNemar test.
#
# **Prerequisites.** Notebook 00; the terms this notebook takes from it:
#
# > **From notebook 00.** A trial: fixate, then choose one of two options, each paying m with
# > probability p; an **equal-EV pair** differs in risk alone (lower p: riskier). **kappa**
# > (-1 to 1) scales the advantage: kappa < 0 weights good surprises more (risk-seeking).
# > **entropy_coef** (the *entropy bonus*) rewards an uncertain policy (entropy H = 0 when
# > deterministic). **The analysis**: the written diagnosis of the failure that came with
# > upstream (pyrl's code); its word "collapse" is ours "trapped" (section 1 below), and
# > datasets named `collapse_*` count trapped runs.
#
# **Time:** about 36 minutes with the exercises, as one reader working as a student measured it
# (section by section in the headings).

# %%
# %matplotlib inline
from math import comb

import numpy as np
import torch

from pyrl_mini import TrainSettings, analysis, data, plots, stats, verdicts, widgets
from pyrl_mini.exercises import nb00b as exercises
from pyrl_mini.trainer import train

torch.set_num_threads(1)  # one thread: training sums in the same order on every run

# %% [markdown]
# ## 1. Glossary: how a run ends (6 min)
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
#
# Notebook 00's run, trained again here (the same seed gives the same numbers), judged by the
# table:

# %%
live = train(TrainSettings(updates=300, seed=1), desc="notebook 00's run")
h = live.member(0)
mode = analysis.mode_of_history(live.history)[0]  # over its last 50 updates
print(f"notebook 00's run: {analysis.MODES[mode]}; its last 50 updates abort "
      f"{np.nanmean(h['abort_rate'][-50:]):.0%} of trials, pick the higher EV on "
      f"{np.nanmean(h['higher_ev_rate'][-50:]):.0%} of unequal pairs")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# the table's thresholds are the library's
assert (analysis.STUCK, analysis.ONE_SIDE) == (0.9, 0.95)
assert (analysis.CONVERGED_ABORT, analysis.CONVERGED_HIGHER_EV) == (0.05, 0.8)
assert set(analysis.TRAPPED_MODES) == {"never_chooses", "always_aborts", "one_side"}
assert np.flatnonzero(np.isfinite(h["higher_ev_rate"]))[0] == 38, "00's run: first choice, 38"

# %% [markdown]
# **Think!** A run ends with entropy 0.01 and gradient norm (the length of the whole gradient
# vector) 0.02. Is it trapped?
#
# <details><summary>Answer</summary>
#
# Those two numbers cannot tell. A converged network is nearly deterministic too, with a small
# gradient because it has nothing left to learn. Look at behaviour: the abort rate, the
# no-choice rate, the higher-EV rate, and whether choices still follow the offer.
# </details>
#
# ## 2. Interactive demo: does kappa move risk preference? (12 min)
#
# Notebook 00 derived that kappa < 0 favours the riskier of two equal-EV options. `grid` holds
# networks trained ahead of time, 3 seeds at each kappa and entropy_coef (the sliders), 1000
# updates each. Left: each seed's share of lower-p choices on equal-EV pairs (no dot: the seed
# always aborts). Right: the share of left choices by the left-minus-right log p (x < 0: left
# is the riskier) and log EV (row 0: the equal-EV pairs); white cells are pairs that do not
# occur. A network that only maximised EV would choose left above row 0 and right below it.

# %%
grid = data.load("nb00_main_grid")  # 3 seeds x 5 kappas x 3 entropy_coefs, 1000 updates each

# %% [markdown]
# ### Exercise 1 (prediction): does a larger entropy_coef remove the kappa effect?
#
# The entropy bonus pulls every policy toward uniform choice. At entropy_coef 0.05, the
# largest here, does the lower-p share still fall as kappa rises from -0.4 to +0.4 ("no", the
# effect stays), or is it flat ("yes", removed)? Answer first; then switch entropy_coef below
# between 0 and 0.05 and compare the left panel's line.

# %%
removes = ...  # "yes" or "no"

# %%
removes = exercises.removes.check(removes, grid)

# %%
widgets.kappa_demo(grid, kappa=-0.4)

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# prints each seed's lower-p rate with its mode at kappa -0.4 and +0.4, and the slope (with its
# standard error) of a least-squares line through (kappa, lower-p rate) of every run that chooses
# (the grid: kappa -0.4 to +0.4 by 0.2, entropy_coef 0, 0.01, 0.05, 1000 updates, asserted below)
kappas, risky_rate = analysis.risk_preference(grid, entropy_coef=0.0)
low, high = risky_rate[list(kappas).index(-0.4)], risky_rate[list(kappas).index(0.4)]
seed_modes = {k: grid.mode[grid.by_seed(kappa=k, entropy_coef=0.0)] for k in (-0.4, 0.4)}
hev = {k: grid.final("higher_ev_rate")[grid.by_seed(kappa=k, entropy_coef=0.0)]
       for k in seed_modes}
for k, rates in ((-0.4, low), (0.4, high)):
    print(f"kappa {k:+.1f}, entropy_coef 0, lower-p rate per seed: " + ", ".join(
        f"{r:.2f} ({analysis.mode_word(m)}, higher EV {e:.2f})"
        for r, m, e in zip(rates, seed_modes[k], hev[k], strict=True)))
slopes = {c: exercises.kappa_slope(grid, c) for c in grid.values("entropy_coef")}
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
# <details><summary>Answer</summary>
#
# No: at every entropy_coef the mean line falls as kappa rises, and the slope printed above is
# negative, many standard errors from zero. The bonus keeps every policy more random; it does
# not cancel kappa's weighting of good and bad surprises.
# </details>
#
# **Result: kappa does what its name says.** At entropy_coef 0, every seed picks the lower p on
# more than half its equal-EV pairs at kappa -0.4 and on less than half at +0.4 (nan: the seed
# that always aborts). Those that choose stay "learning", below converged's 80 % higher EV: a
# risk preference gives up some EV.

# %% [markdown]
# ## 3. How we count (15 min)
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
#
# ### Exercise 2: the sign test
#
# Write the exact McNemar p for discordant seeds split `only_a` to `only_b`. If the setting
# makes no difference, each discordant seed is a fair coin flip: all 2^n splits of n flips are
# equally likely, and `comb(n, i)` of them put i flips on one side. p is the chance of a split
# at least as uneven as the one seen, toward either side (a chance: never above one). In: two
# whole numbers; out: p, a float.

# %%
def sign_test(only_a: int, only_b: int) -> float:
    """Exact two-sided p of a split only_a to only_b, each discordant seed a fair coin."""
    ...


# %%
sign_test = exercises.sign_test.check(sign_test)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# def sign_test(only_a, only_b):
#     n, k = only_a + only_b, min(only_a, only_b)
#     one_side = sum(comb(n, i) for i in range(k + 1)) / 2 ** n  # k or fewer on one side
#     return min(1.0, 2 * one_side)  # either side; the two overlap at an even split
# ```
# </details>
#
# The worked example, counted with `stats.wilson` and your `sign_test`:

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
only_a, only_b, _ = stats.mcnemar(a, b)  # discordant seeds: trapped at one kappa only
p = sign_test(only_a, only_b)  # Exercise 2: the exact two-sided p
print(f"trapped {k_a} of {n} ({lo_a:.0%}-{hi_a:.0%}) at -0.4, {k_b} of {n} "
      f"({lo_b:.0%}-{hi_b:.0%}) at +0.4; discordant {only_a} to {only_b}, p = {p:.2f}")
for g in ("block 1", "block 2"):  # every block on its own
    ka, kb = int(a[groups[g]].sum()), int(b[groups[g]].sum())
    (la, ha), (lb, hb) = stats.wilson(ka, 20), stats.wilson(kb, 20)
    p_g = sign_test(*stats.mcnemar(a[groups[g]], b[groups[g]])[:2])
    print(f"{g}: {ka} ({la:.0%}-{ha:.0%}) and {kb} ({lb:.0%}-{hb:.0%}) of 20 trapped, "
          f"p = {p_g:.2f}")
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
assert np.isclose(p, min(1.0, 2 * sum(comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2 ** n))
assert np.isclose(p, 2 * (1 + 7 + 21) / 128), "5 to 2: the prose's sum"
assert np.isclose(stats.sign_test(7, 0), 2 / 2 ** 7), "7 to 0: 0.016, as Bonus A says"
assert int(ck.trapped[ck.by_seed(kappa=0.0)].sum()) == 13, "kappa 0, as the prose says"
test = verdicts.paired("trapped, kappa -0.4 vs +0.4", ck, rows[-0.4], ck.trapped, ck,
                       rows[0.4], ck.trapped)  # verdict 6's paired test, as verdicts.py runs it
assert test.pooled == stats.mcnemar(a, b) and test.pooled[:2] == (only_a, only_b)
assert np.isclose(test.pooled[2], p), "your sign_test gives the library's p"
assert test.pooled[:2] == (5, 2) and test.blocks[0][:2] == (3, 1) and test.blocks[1][:2] == (2, 1)
assert all(t[2] >= 0.05 for t in (test.pooled, *test.blocks)), "no difference, in each block"
assert test.replicated
# Bonus A's answer: of 7 discordant seeds, 6 to 1 is not a difference, 7 to 0 is
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
# - A run is judged by its behaviour mode over its last 50 updates; trapped runs ignore the
#   offer, converged ones pick the higher EV, and both can be nearly deterministic.
# - kappa < 0 makes trained networks prefer the riskier equal-EV option, at every entropy_coef.
# - A frequency is k of n with a Wilson interval; paired seeds are compared with the exact
#   McNemar test on the discordant seeds; a result is replicated when each block tells it.
#
# Next: notebook 01, dead ReLU units.


# %% [markdown]
# ## Bonus A: every trapped run, the blocks, Wilson's formula
#
# Every run of `collapse_kappa` (section 3), red where it ends trapped. kappa 0 traps about as
# many runs as -0.4 and +0.4 (section 3), and most trapped runs end with entropy above 0.01: a
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
# Section 3's comparison block by block, each block counted and tested on its own:

# %%
for name, g in groups.items():
    n_g, k_a, k_b = int(g.sum()), int(a[g].sum()), int(b[g].sum())  # k of n trapped, each kappa
    (lo_a, hi_a), (lo_b, hi_b) = stats.wilson(k_a, n_g), stats.wilson(k_b, n_g)  # Wilson 95 %
    x, y, q = stats.mcnemar(a[g], b[g])  # discordant seeds, exact two-sided p
    print(f"{name}: trapped {k_a} of {n_g} ({lo_a:.0%}-{hi_a:.0%}) at -0.4, {k_b} of {n_g} "
          f"({lo_b:.0%}-{hi_b:.0%}) at +0.4; discordant {x} to {y}, p = {q:.2f}")

# %% [markdown]
# The Wilson interval of section 3, by its formula (z = 1.96 for 95 %):

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
# **Think!** Of 7 discordant seeds (section 3), would 6 to 1 be a difference (p < 0.05)?
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
# - Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
#   *Journal of the American Statistical Association* 22, 209-212.
# - McNemar, Q. (1947). Note on the sampling error of the difference between correlated
#   proportions or percentages. *Psychometrika* 12, 153-157.
