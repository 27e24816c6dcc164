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
# # 04 · The entropy fix: why it works, where it leads, and what else was tried
#
# In a run that always aborts (notebook 03), every trial pays -0.5, the baseline (the
# expected reward) learns -0.5, and every advantage is zero: the policy gradient has nothing
# to push with. The analysis recommends an entropy bonus, `entropy_coef = 0.01`, so that
# entropy stays "> 0.1". Why does it act where other changes cannot, and does it free a run
# already trapped?
#
# **Learning objectives.** You will
# 1. show that the bonus's gradient does not need an advantage;
# 2. compute its optimum pi* = softmax(r / tau);
# 3. rank the bonus and its alternatives by trapped runs;
# 4. measure whether a late bonus frees trapped runs.
#
# **Prerequisites.** Notebooks 00, 00b (glossary, "How we count"), 02 (`wout_std`) and 03 (the
# trap); softmax and logarithms.
# **Time:** about 48 minutes with the exercises, as one reader working as a student
# measured it (section by section in the headings); Run All takes about 20 s (more on a busy
# machine).
#
# > **From notebooks 00 and 00b.** **The analysis**: the written diagnosis that came with upstream (the
# > original code); verdict N: notebook 05's judgement of its N-th claim (10-12: ours). **Abort**: a trial that breaks
# > fixation early (LEFT or RIGHT before the choice), paying -0.5. **Trapped**: final mode *never chooses* or
# > *always aborts* (these two are **stuck**), or *one side*. **Blocks**: seeds come in
# > blocks (two of 20, unless a section says otherwise). **Paired (McNemar)**: two settings on the same seeds; p from the seeds that
# > differ.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import torch

from pyrl_mini import analysis, bandit, data, plots, tasks, verdicts, widgets
from pyrl_mini.config import TrainSettings
from pyrl_mini.datasets import collapse
from pyrl_mini.datasets.nb04_entropy_fix import FAST_CONTROL
from pyrl_mini.exercises import nb04 as exercises
from pyrl_mini.risk import kappa_transform
from pyrl_mini.stats import Frequency, frequency, mcnemar, wilson
from pyrl_mini.trainer import Ensemble, train

torch.set_num_threads(1)

# %% [markdown]
# ## 1. Why the entropy bonus can act in the trap (6 min)
#
# The policy loss of notebook 00 has two terms: -log pi(a) f(d), and -c_H H with c_H =
# `entropy_coef` and f the kappa transform (kappa = -0.4 below). With respect to the logits
# z, the first has gradient -(onehot(a) - pi) f(d), zero whenever the advantage d is zero.
# The second is
#
# $$ \frac{\partial H}{\partial z_j} = -\pi_j \big(\log \pi_j + H\big), $$
#
# with no advantage in it. Descent on the loss moves z along +c_H dH/dz: a positive dH/dz_j
# raises logit j. One step of a stuck run during fixation, where LEFT or RIGHT both abort,
# LEFT with probability 0.99, and d = 0:

# %%
z = torch.tensor([0.0, 5.3, 0.0], requires_grad=True)  # logits of FIXATE, LEFT, RIGHT
reward, baseline = -0.5, -0.5
d = torch.tensor(reward - baseline)                      # the advantage: exactly 0
pg = torch.autograd.grad(torch.log_softmax(z, 0)[1] * kappa_transform(d, -0.4), z)[0]
logp = torch.log_softmax(z, 0)
H = -(logp.exp() * logp).sum()
dH = torch.autograd.grad(H, z)[0]
print("gradient of log pi(a) f(d):", pg.numpy())
print("gradient of H:             ", dH.numpy().round(4))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert torch.all(pg == 0), "in the trap the reward term's gradient is exactly 0"
pi = logp.exp().detach()
assert torch.allclose(dH, -pi * (pi.log() + H.detach()), atol=1e-6)
# toward uniform: FIXATE and RIGHT rise alike, LEFT falls; the abort (LEFT + RIGHT) falls by
# what FIXATE gains (the gradient sums to 0)
assert torch.isclose(dH[0], dH[2]) and dH[0] > 0 > dH[1]
assert torch.isclose(dH[1] + dH[2], -dH[0]) and abs(pi[1].item() - 0.99) < 0.005
assert f"{dH[0].item():.4f}" == "0.0259"
assert torch.softmax(z.detach() + 0.1 * dH, 0)[0] > pi[0], "a step along dH makes FIXATE likelier"
z_sat = torch.tensor([0.0, 120.0, 0.0], requires_grad=True)  # saturated in float32
lp = torch.log_softmax(z_sat, 0)
g_sat = torch.autograd.grad(-(lp.exp() * lp).sum(), z_sat)[0]
assert lp.exp()[1] == 1.0 and torch.all(g_sat == 0), "at saturation the bonus is 0 too"

# %% [markdown]
# These are gradients of the logits (they sum to zero), not changes of probability. While
# the reward term is silent, the bonus pushes toward uniform: it lowers LEFT's logit and
# raises FIXATE's and RIGHT's alike (0.0259 each), so FIXATE becomes likelier and more trials
# reach a choice again. A learning rate or kappa schedule
# cannot do this: f(0) = 0 at any kappa, times any lr. But when pi(abort) rounds to exactly 1
# in float32, the bonus's gradient is 0 too.
#
# ## 2. Where the entropy bonus leads: pi* = softmax(r / tau) (9 min)
#
# On a one-step bandit with expected rewards r(a), the policy that maximises
# J(pi) = pi · r + tau H(pi) (where gradient ascent stops) is
#
# $$ \pi^*(a) = \frac{e^{r(a)/\tau}}{\sum_b e^{r(b)/\tau}} = \mathrm{softmax}(r/\tau)(a). $$
#
# The task's options have five expected values (EV 0.4 to 1.0, 0.15 apart); treat each EV
# as one arm (an option, not the action LEFT or RIGHT). Only tau relative to the gaps matters.
#
# ### Exercise 1: the regularised optimum
#
# Write `regularised_optimum(rewards, tau)`. In: `rewards`, a list of floats, one per arm;
# `tau`, a float > 0. Out: pi\*, a 1-D torch tensor (or numpy array) of probabilities, one
# per arm. It must work at tau = 0.001, where exp(1000) overflows.

# %%
def regularised_optimum(rewards, tau):
    """pi* = softmax(r / tau): a 1-D tensor, one probability per arm (rewards: a list)."""
    ...


# %%
regularised_optimum = exercises.regularised_optimum.check(regularised_optimum)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# def regularised_optimum(rewards, tau):
#     r = torch.as_tensor(rewards, dtype=torch.float64)
#     return torch.softmax(r / tau, dim=0)   # softmax subtracts the max: no overflow
# ```
# </details>
#
# In the task the loss sums the reward term over a trial's T steps but averages H, so per
# step tau = `entropy_coef` / T: at most `entropy_coef` / 8, as a trial that chooses has at
# least 8 steps.

# %%
evs = tasks.EXPECTED_VALUES    # the five EVs, one arm each: 0.4, 0.55, 0.7, 0.85, 1.0
task = TrainSettings().task
steps = task.fixation_steps + task.stimulus_steps + 1   # the shortest trial with a choice
star = regularised_optimum(evs, 0.01 / steps)            # tau per step = entropy_coef / 8
print(f"entropy_coef 0.01: tau = {0.01 / steps:.5f}, pi*(best) = {float(star[-1]):.6f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
def entropy(pi):   # in nats; 0 log 0 counts as 0
    pi = torch.as_tensor(pi, dtype=torch.float64)
    return float(-(pi * torch.log(pi.clamp_min(1e-300))).sum())


assert entropy(regularised_optimum(evs, 0.01 / steps)) < 1e-30, "0.01 keeps no randomness"
assert f"{float(regularised_optimum(evs, 0.01 / steps)[-1]):.6f}" == "1.000000"
assert steps == 8


# %% [markdown]
# At the recommended 0.01 the optimum puts 1.000000 on the best arm: it is deterministic. So the bonus helps while runs learn, not by moving where they end.
#
# ## 3. The entropy bonus on the gambling task (8 min)
#
# The **grid**: kappa in {-0.4, 0, +0.4} x `entropy_coef` in {0, 0.01, 0.05}, 800 updates at
# lr 0.01, the same 40 seeds in every cell (so cells pair by seed): 120 runs per coefficient.
#
# ### Exercise 2 (prediction): does a bonus of 0.01 prevent traps?
#
# On the grid, will a bonus of 0.01 leave fewer runs trapped than no bonus, about as many,
# or more? Set `bonus_prevents` to the string "fewer", "same" or "more".

# %%
bonus_prevents = ...  # "fewer", "same" or "more"

# %%
bonus_prevents = exercises.bonus_prevents.check(bonus_prevents)

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# loads the grid: arrays (kappa, entropy_coef, seed), one seed at the same place in every cell
kappa_runs, entropy_runs = data.load("collapse_kappa"), data.load("collapse_entropy")
grid = kappa_runs.stack(entropy_runs, entropy_coef=0.0)   # collapse_kappa: no bonus
kappas, coefs = grid.values("kappa"), grid.values("entropy_coef")
table = {name: grid.per_cell(grid.final(name), "kappa", "entropy_coef")
         for name in ("entropy", "reward", "risky_rate")}
table["trapped"] = grid.per_cell(grid.trapped, "kappa", "entropy_coef")
table["mode"] = grid.per_cell(grid.mode, "kappa", "entropy_coef")
block = grid.per_cell(grid.block, "kappa", "entropy_coef")[:, 0].ravel()   # each run's block


def per_block(flags, blocks):
    """k of n (Wilson interval) in block 1, block 2 and both; one flag and block per run."""
    return [frequency(flags[blocks == b]) for b in (1, 2)] + [frequency(flags)]


def paired_test(a, b, blocks):
    """McNemar (a only, b only, p) on both blocks, then the p of each block."""
    return mcnemar(a, b), [mcnemar(a[blocks == k], b[blocks == k])[2] for k in (1, 2)]

# %%
# trapped: one flag per run (3 kappas x 40 seeds) at each entropy_coef; paired_test: McNemar
# on the same seeds, its p in block 1 and block 2
none_trapped = table["trapped"][:, 0].ravel()
for j, coef in enumerate(coefs):
    trapped = table["trapped"][:, j].ravel()
    line = f"entropy_coef {coef:g}: trapped {frequency(trapped)}"
    if coef > 0:
        p_blocks = paired_test(none_trapped, trapped, block)[1]
        line += (f"; trapped also at 0: {int((none_trapped & trapped).sum())}; p per block "
                 f"{p_blocks[0]:.0e}, {p_blocks[1]:.0e}")
    print(line)
print("final entropy above 0.1 at 0.01:", frequency(table["entropy"][:, 1].ravel() > 0.1))

# %% [markdown]
# <details><summary>Answer</summary>
#
# Fewer, by far. The bonus's gradient does not pass through the advantage (section 1): where
# trials abort and the reward term is silent, it still pushes toward uniform, which raises
# FIXATE (and RIGHT alike), and keeps runs out of the trap.
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert grid.blocks == [1, 2] and table["trapped"][:, 0].size == 120
above = {c: frequency(table["entropy"][:, j].ravel() > 0.1) for j, c in enumerate(coefs)}
H0, H1 = (table["entropy"][:, j].ravel() for j in (0, 1))   # final entropy at 0 and 0.01
aborts0 = table["mode"][:, 0].ravel() == analysis.MODES.index("always_aborts")
assert [int(grid.per_cell(grid.arrays["seed"], "kappa", "entropy_coef")[0, 0][i])
        for i in (0, 19, 20, 39)] == [2000, 2019, 2100, 2119]
counts = [[f.k for f in per_block(table["trapped"][:, j].ravel(), block)]
          for j in range(len(coefs))]
assert counts == [[18, 20, 38], [3, 2, 5], [1, 1, 2]], counts
assert table["trapped"][:, 0].sum(1).tolist() == [14, 13, 11]   # every kappa, not just -0.4
for j in (1, 2):   # both bonuses: fewer traps, run by run, beyond chance, in each block
    (only_none, only_bonus, p), p_blocks = paired_test(
        none_trapped, table["trapped"][:, j].ravel(), block)
    assert only_none > 5 * only_bonus and p < 1e-6 and max(p_blocks) < 0.01, (j, p, p_blocks)
assert [above[c].k for c in coefs] == [31, 12, 43], above
# "no seed is trapped both with and without 0.01": the 38 and the 5 are different seeds
assert not (none_trapped & table["trapped"][:, 1].ravel()).any()
assert paired_test(none_trapped, table["trapped"][:, 1].ravel(), block)[0][:2] == (38, 5)
assert str(above[0.01]) == "12 of 120 (6-17 %)"
# why fewer above 0.1 with the bonus: without it, 18 of the 31 are trapped runs that always
# abort (entropy up to 0.90); of the runs not trapped, 13 and 12 end above 0.1
assert ((H0 > 0.1) & aborts0).sum() == 18 and f"{H0[aborts0].max():.2f}" == "0.90"
trapped1 = table["trapped"][:, 1].ravel()
assert ((H0 > 0.1) & none_trapped).sum() == 18 and f"{H0[none_trapped].max():.2f}" == "0.90"
mode0 = grid.per_cell(grid.mode, "kappa", "entropy_coef")[:, 0].ravel()
assert (mode0[(H0 > 0.1) & none_trapped] == analysis.MODES.index("always_aborts")).all()
assert ((H0 > 0.1) & ~none_trapped).sum() == 13 and ((H1 > 0.1) & ~trapped1).sum() == 12

# %% [markdown]
# Without a bonus 38 of 120 runs end trapped; with 0.01, 5; with 0.05, 2. No seed is trapped
# both with and without 0.01, and p < 0.01 in each block. The bonus does not do this by
# keeping "entropy > 0.1": at 0.01 only 12 of 120 runs end above it. Section 4 repeats this
# where runs fall into the trap faster.
#
# ## 4. The alternatives, compared (9 min)
#
# Two settings at kappa = -0.4, 40 seeds each:
# - **(a)** the default settings, section 3's runs (lr 0.01, 800 updates);
# - **(b)** lr 0.03, 250 updates, where runs fall into the trap faster.
#
# The **control** changes nothing; each change runs on the control's seeds (paired):
# - the entropy bonus: 0.01, 0.05 (and 0.1 in (b));
# - a **lower lr**: 0.003 (0.01 in (b)); a **decaying lr**: 10x lower by the end;
# - a **gradual kappa**: 0 to -0.4, a step of 0.05 every 50 updates (25 in (b));
# - a **near-zero head**: `wout_std` 0.01 (notebook 02);
# - a **no-choice penalty**: a trial with no choice by its end pays -1, not -0.5; a **logit cap 2**:
#   logits -> 2 tanh(logits / 2);
# - in (b) only, a **larger batch**: 512 trials per update, not 256, on 5 other seeds (unpaired).

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# loads each fix's runs, in seed order; (a)'s control and bonuses are section 3's at kappa -0.4
fixes_a = {"none": grid.subset(kappa=-0.4, entropy_coef=0.0),
           "entropy 0.01": grid.subset(kappa=-0.4, entropy_coef=0.01),
           "entropy 0.05": grid.subset(kappa=-0.4, entropy_coef=0.05)}
slow = data.load("collapse_fixes_slow")
for fix in collapse.SLOW_VARIANTS:
    fixes_a[fix] = slow.take(collapse.variant_rows(slow, collapse.COLLAPSE_FIXES_SLOW,
                                                   collapse.SLOW_VARIANTS, fix))
fast = data.load("collapse_fixes")
fixes_b = {fix: fast.take(collapse.variant_rows(fast, collapse.COLLAPSE_FIXES,
                                                collapse.FIX_VARIANTS, fix))
           for fix in collapse.FIX_VARIANTS}
fixes_b["larger batch"] = data.load("nb04_fixes_fast_batch512").subset()   # seeds 0-4
SETTINGS = widgets.FIX_SETTINGS   # (a) "lr 0.01, 800 updates", (b) "lr 0.03, 250 updates"


def disjoint(runs):   # do the two blocks' trapped frequencies disagree beyond their intervals?
    (lo1, hi1), (lo2, hi2) = [wilson(int(runs.trapped[runs.block == k].sum()), 20) for k in (1, 2)]
    return hi2 < lo1 or hi1 < lo2

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# ranked[setting][fix]: (k, n, Wilson lo, hi, "block 1+block 2") of its trapped runs;
# paired[setting][fix]: section 3's paired_test against the control (same seeds only)
ranked, paired = {}, {}
for setting, fixes in zip(SETTINGS, (fixes_a, fixes_b)):
    control = fixes["none"]
    ranked[setting], paired[setting] = {}, {}
    for fix, runs in fixes.items():
        k, n = int(runs.trapped.sum()), len(runs.mode)
        per = "+".join(str(int(runs.trapped[runs.block == b].sum())) for b in runs.blocks)
        ranked[setting][fix] = (k, n, *wilson(k, n), per)
        # paired only on the same seeds: a seed gives both runs the same weights and trials
        if fix != "none" and np.array_equal(runs.arrays["seed"], control.arrays["seed"]):
            paired[setting][fix] = paired_test(control.trapped, runs.trapped, runs.block)
apart = [f for f, runs in fixes_b.items() if f != "larger batch" and disjoint(runs)]

# %%
# ranked[setting][fix][0]: its trapped runs; paired[setting][fix][0][2]: the McNemar p of
# section 3's paired test against the control (on the control's seeds)
def cell(setting, fix):   # "k (p)", "k of n" on other seeds, or "-" where not run
    if fix not in ranked[setting]:
        return "-"
    k, n = ranked[setting][fix][:2]
    if fix not in paired[setting]:   # the larger batch: 5 other seeds, no pairing
        return f"{k} of {n}"
    return f"{k} ({paired[setting][fix][0][2]:.2g})"


print(f"{'trapped of 40 (paired p)':25}{'(a) lr 0.01':>14}{'(b) lr 0.03':>14}")
for fix in fixes_b:
    print(f"{'control' if fix == 'none' else fix:25}{cell(SETTINGS[0], fix):>14}"
          f"{cell(SETTINGS[1], fix):>14}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
a, b = ranked[SETTINGS[0]], ranked[SETTINGS[1]]
pa, pb = paired[SETTINGS[0]], paired[SETTINGS[1]]
assert fixes_b["none"].arrays["seed"].tolist() == list(range(3000, 3020)) + list(range(3100, 3120))
assert fixes_a["none"].arrays["seed"].tolist() == list(range(2000, 2020)) + list(range(2100, 2120))
# (b): the control traps 15 of 40 (11 + 4); the two larger bonuses rank first and free all 15
assert b["none"][:2] == (15, 40) and b["none"][4] == "11+4" and a["none"][:2] == (14, 40)
assert b["entropy 0.05"][:2] == (0, 40) and b["entropy 0.1"][:2] == (1, 40)
assert pb["entropy 0.05"][0] == (15, 0, pb["entropy 0.05"][0][2]) and pb["entropy 0.05"][0][2] < 0.001
assert pb["entropy 0.1"][0][:2] == (15, 1) and pb["entropy 0.1"][0][2] < 0.001
assert b["entropy 0.01"][:2] == (5, 40) and pb["entropy 0.01"][0][:2] == (11, 1)
assert f"{pb['entropy 0.01'][0][2]:.3f}" == "0.006"
# (a): 0.05 leaves none trapped, 0.01 two, the lower lr (0.003) five, each p < 0.01
assert [a[f][0] for f in ("entropy 0.05", "entropy 0.01", "lower lr")] == [0, 2, 5]
assert [pa[f][0][:2] for f in ("entropy 0.05", "entropy 0.01", "lower lr")] == [
    (14, 0), (14, 2), (9, 0)]
assert max(pa[f][0][2] for f in ("entropy 0.05", "entropy 0.01", "lower lr")) < 0.005
# no change without a bonus beats the control beyond chance in (b); in (a) only the lower lr
others = [f for f in pb if not f.startswith("entropy")]
assert len(others) == 6 and min(pb[f][0][2] for f in others) > 0.2, {f: pb[f] for f in others}
assert min(b[f][0] for f in others) == b["lower lr"][0] == 10
others_a = [f for f in pa if not f.startswith("entropy") and f != "lower lr"]
assert len(others_a) == 5 and min(pa[f][0][2] for f in others_a) > 0.2
assert sorted(a[f][0] for f in others_a) == [10, 10, 10, 13, 13]
# replication: each paired test that beats the control points the same way in both blocks
for tag, fixes, tests in (("a", fixes_a, pa), ("b", fixes_b, pb)):
    for fix, ((freed, lost, p), _) in tests.items():
        if p < 0.05:
            for k in (1, 2):
                m = fixes[fix].block == k
                x, y, _ = mcnemar(fixes["none"].trapped[m], fixes[fix].trapped[m])
                assert x > y, (tag, fix, k)
# ... but in (b) the frequencies differ between blocks: these four beyond their intervals
assert set(apart) == {"logit cap 2", "decaying lr", "gradual kappa", "near-zero head"}, apart
assert not any(disjoint(runs) for runs in fixes_a.values())
assert b["logit cap 2"][4] == "13+1" and b["none"][4] == "11+4"
assert b["larger batch"][:2] == (1, 5) and "larger batch" not in pb
# every other change is paired with its control; "1 of 5": its interval holds the control's 15/40
assert set(pa) == set(fixes_a) - {"none"} and set(pb) == set(fixes_b) - {"none", "larger batch"}
assert b["larger batch"][2] < 15 / 40 < b["larger batch"][3]
assert b["decaying lr"][4] == "12+3"
assert f"{min(pb[f][0][2] for f in others):.2f}" == "0.23"
assert b["near-zero head"][0] == 18 and f"{pb['near-zero head'][0][2]:.2f}" == "0.58"
assert max(pa[f][0][2] for f in pa if f not in others_a) < 0.01 and set(pa) - set(others_a) == {
    "entropy 0.01", "entropy 0.05", "lower lr"}


# %% [markdown]
# In (a) the control traps 14 of 40 and 0.01 leaves 2 (verdict 7's "14 -> 2 of 40"); only the
# bonuses and the lower lr beat the control (p < 0.01). In (b) no change without a bonus does
# (p >= 0.23): even the near-zero head's 18, above the control's 15, is within chance
# (p = 0.58). The larger batch's "1 of 5" is too few seeds to tell.

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# verdict 7's takeaway (notebook 05) says a logit cap keeps entropy and still traps runs
b_none, b_cap = fixes_b["none"], fixes_b["logit cap 2"]
aborts = {f: fixes_b[f].mode == analysis.MODES.index("always_aborts") for f in ("none", "logit cap 2")}
H_none, H_cap = (fixes_b[f].final("entropy")[aborts[f]] for f in aborts)
assert aborts["none"].sum() == 10 and aborts["logit cap 2"].sum() == 13
assert H_none.min() < 1e-3 and f"{H_none.max():.2f}" == "0.75"   # pi(a) = 1, or split aborts
assert H_cap.min() > 0.15 and f"{H_cap.max():.2f}" == "0.90"      # the cap keeps entropy > 0.1
for f in aborts:   # ... and the gradient is gone either way
    runs = fixes_b[f]
    assert runs.final("grad_norm")[aborts[f]].max() < 2e-4
assert b_none.final("grad_norm")[~b_none.trapped].min() > 1000 * 2e-4
assert b["logit cap 2"][:2] == (14, 40)

# %% [markdown]
# ## 5. Can an entropy bonus lift a run that is already trapped? (9 min)
#
# The **rescue experiment** trains runs in two **setups** made to be trapped early (a large
# random readout, `wout_std` 2, on 40 seeds; or upstream's initial readout bias of 3 toward
# FIXATE, `fixate_bias` 3, on 100 in two blocks of 50) for 400 updates without a bonus, then
# to update 800 with `entropy_coef` 0.05, 0.2 or 0 (the control): a seed's three runs pair. A run *leaves
# the trap* if its mode at 800 is not trapped.
#
# **Think!** Which trapped runs will a bonus of 0.2 free: the stuck ones or those on one
# side? Recall section 1.

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# pools both setups' runs trapped at update 400: their mode and entropy then, and whether
# each left the trap by update 800 under each bonus (its three runs pair by seed)
RESCUE = {"wout_std 2": data.load("collapse_rescue_wout"),
          "fixate_bias 3": data.load("collapse_rescue_bias")}
BONUSES = (0.0, 0.05, 0.2)
GROUPS = {"trapped": analysis.TRAPPED_MODES, "stuck": ("always_aborts", "never_chooses"),
          "on one side": ("one_side",)}
mode400, H400, left = [], [], {e: [] for e in BONUSES}   # one entry per run
n400 = {}   # setting -> its runs trapped at update 400
for setting, d in RESCUE.items():
    rows = {e: d.by_seed(entropy_coef=e) for e in BONUSES}   # seed order: cells pair by seed
    modes = d.modes_at(400)[rows[0.0]]      # one run up to 400 in all three cells
    was = analysis.is_trapped(modes)
    n400[setting] = int(was.sum())
    mode400.append(modes[was])
    H400.append(d.at("entropy", 399)[rows[0.0]][was])
    for e in BONUSES:
        left[e].append(~d.trapped[rows[e]][was])   # left the trap by update 800
mode400, H400 = np.concatenate(mode400), np.concatenate(H400)
left = {e: np.concatenate(v) for e, v in left.items()}

# %%
# per run trapped at update 400 (both setups): mode400, its mode then; H400, its entropy
# then; left[e], has it left the trap by 800 under bonus e? GROUPS: group -> mode names
split = " (" + " + ".join(str(n) for n in n400.values()) + " in the two setups)"
for group, modes in GROUPS.items():
    g = np.isin(mode400, [analysis.MODES.index(m) for m in modes])
    print(f"{group} at 400: {g.sum()}{split if group == 'trapped' else ''}; left the trap by "
          "800 with bonus 0 / 0.05 / 0.2: " + " / ".join(str(int(left[e][g].sum())) for e in BONUSES))
for e in BONUSES[1:]:
    control_only, bonus_only, p = mcnemar(left[0.0], left[e])
    print(f"paired, bonus {e:g} against 0: left with the bonus only {bonus_only}, "
          f"without only {control_only}, p = {p:.2g}")
stuck400 = np.isin(mode400, [analysis.MODES.index(m) for m in GROUPS["stuck"]])
print(f"stuck at 400 with entropy below 0.001 then: {(H400[stuck400] < 1e-3).sum()} of "
      f"{stuck400.sum()}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
for setting, d in RESCUE.items():   # the three cells of a seed are one run up to update 400
    rows = {e: d.by_seed(entropy_coef=e) for e in BONUSES}
    assert d.blocks == [1, 2] and len(rows[0.0]) == {"wout_std 2": 40, "fixate_bias 3": 100}[setting]
    for e in BONUSES[1:]:
        assert np.array_equal(d.arrays["seed"][rows[e]], d.arrays["seed"][rows[0.0]])
        assert np.array_equal(d.modes_at(400)[rows[e]], d.modes_at(400)[rows[0.0]]), (setting, e)
        # bit for bit up to update 400, but for the float rounding of another ensemble
        same = np.all(d.h("reward")[rows[e], :40] == d.h("reward")[rows[0.0], :40], axis=1)
        assert same.mean() > 0.9, (setting, e, same.mean())
# the prose's 33 + 72 (and Bonus D's titles): runs trapped at update 400, per setting
assert [int(analysis.is_trapped(d.modes_at(400)[d.by_seed(entropy_coef=0.0)]).sum())
        for d in RESCUE.values()] == [33, 72] == list(n400.values())
# "near saturation": 41 of the 44 stuck runs have entropy < 0.001 at update 400
assert (H400[stuck400] < 1e-3).sum() == 41 and stuck400.sum() == 44
# the printed counts, by mode at 400 (pooled over both setups)
got = {group: (int(np.isin(mode400, [analysis.MODES.index(m) for m in modes]).sum()),
               [int(left[e][np.isin(mode400, [analysis.MODES.index(m) for m in modes])].sum())
                for e in BONUSES]) for group, modes in GROUPS.items()}
assert got == {"trapped": (105, [11, 16, 30]), "stuck": (44, [0, 0, 3]),
               "on one side": (61, [11, 16, 27])}, got
tests5 = {e: mcnemar(left[0.0], left[e]) for e in BONUSES[1:]}
assert tests5[0.2][:2] == (3, 22) and f"{tests5[0.2][2]:.2g}" == "0.00016"
assert tests5[0.05][:2] == (2, 7) and f"{tests5[0.05][2]:.2g}" == "0.18"
# "keeps runs out far better than it lifts them out": from the start, 0.05 keeps more than 90 %
# of the runs trapped without it out of the trap (section 3); late, 0.2 frees under a third
from_start = paired_test(none_trapped, table["trapped"][:, coefs.index(0.05)].ravel(), block)[0]
assert from_start[0] / none_trapped.sum() > 0.9 and left[0.2].mean() < 1 / 3

# %% [markdown]
# <details><summary>Answer</summary>
#
# Hardly any stuck run: 0.2 frees 3 of 44, 0.05 none. A stuck run is near saturation by
# update 400 (41 of 44 with entropy below 0.001), where the bonus's gradient, -pi (log pi +
# H), is nearly 0 too (section 1). Runs on one side keep some entropy, and 0.2 frees 27 of
# 61, against 11 without a bonus.
# </details>
#
# Of the 105 runs trapped at update 400 (33 + 72 in the two setups), 0.2 frees 30, 0.05
# frees 16, the control 11. Paired against the control, 0.2 frees 22 seeds the control does
# not, the control 3 (p = 0.00016); 0.05: p = 0.18. **A bonus keeps runs out of the trap far
# better than it lifts them out.**

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# the paragraph above is verdict 12's (both settings pooled)
rescue12 = verdicts.verdicts([12])[0]
freed, stuck = verdicts.rescue_freed(rescue12).values()   # one Count per coefficient
assert [c.k for c in freed] == got["trapped"][1] and freed[0].n == got["trapped"][0]
assert [c.k for c in stuck] == got["stuck"][1] and stuck[0].n == got["stuck"][0]
tests12 = {t.what: t for t in rescue12.tests}
big = tests12["both settings: left the trap, no bonus vs 0.2"]
assert big.pooled == tests5[0.2] and big.replicated
assert tests12["both settings: left the trap, no bonus vs 0.05"].pooled == tests5[0.05]

# %% [markdown]
# ## 6. Verdicts (4 min)
#
# This notebook's three, from `verdicts.verdicts()` (notebook 05 has all):

# %%
judged = {v.number: v for v in verdicts.verdicts() if v.number in (7, 9, 12)}
for v in judged.values():
    print(f"{v.number}. {v.claim}: {v.verdict.upper()} (replicated? {v.replication})")
print("(b) trapped in block 1 + block 2, where the blocks disagree:",
      ", ".join(f"{f} {ranked[SETTINGS[1]][f][4]}" for f in apart))


# %% tags=["hide-input"] jupyter={"source_hidden": true}
def kn(runs):   # (k, n, (k, n) per block) of a fix's trapped runs, as verdicts.Count holds it
    return (int(runs.trapped.sum()), len(runs.trapped), tuple(
        (int(runs.trapped[runs.block == b].sum()), int((runs.block == b).sum()))
        for b in runs.blocks))


def held(verdict):   # the (k, n, blocks) of each count a verdict rests on
    return {(c.k, c.n, tuple(c.blocks)) for c in verdict.counts}


v7, v9, v12 = judged[7], judged[9], judged[12]
# verdict 7 rests on sections 3 and 4: the same counts and the same paired tests
assert {kn(fixes_a[f]) for f in ("none", "entropy 0.01", "entropy 0.05")} <= held(v7)
assert {kn(fixes_b[f]) for f in ("none", "entropy 0.01", "entropy 0.05", "logit cap 2")} <= held(v7)
entropy01 = table["entropy"][:, coefs.index(0.01)].ravel() > 0.1
assert (above[0.01].k, above[0.01].n, tuple((int(entropy01[block == b].sum()), 60)
                                            for b in (1, 2))) in held(v7)
tests7 = {(t.pooled[:2], tuple(round(b[2], 6) for b in t.blocks)) for t in v7.tests}
for setting_tests, fix in ((pa, "entropy 0.01"), (pb, "entropy 0.01"), (pb, "entropy 0.05")):
    (x, y, _), p_blocks = setting_tests[fix]
    assert ((x, y), tuple(round(q, 6) for q in p_blocks)) in tests7, (fix, tests7)
# verdict 9: the schedules in both settings and the lower lr at the default one
assert {kn(fixes[f]) for fixes in (fixes_a, fixes_b) for f in ("decaying lr", "gradual kappa")
        } | {kn(fixes_a["lower lr"])} <= held(v9)
# the words the prose below uses
assert v7.verdict == "partly" and v9.verdict == "not supported"
# verdict 7 fails replication on the logit cap's count alone, verdict 9 on the schedules'
assert v7.replication == "not replicated: runs trapped, lr 0.03, logit cap 2", v7.replication
assert v9.replication == ("not replicated: runs trapped, lr 0.03, decaying lr; runs trapped, "
                          "lr 0.03, gradual kappa"), v9.replication
# verdict 12 rests on section 5's counts (both settings pooled)
assert [(c.k, c.n) for c in v12.counts[:3]] == [(k, got["trapped"][0]) for k in got["trapped"][1]]
assert v12.verdict == "partly" and v12.replication == "yes"
# the sentence below: the blocks' trapped counts (of 20 each) in setting (b)
assert ranked[SETTINGS[1]]["logit cap 2"][4] == "13+1" and ranked[SETTINGS[1]]["decaying lr"][4] == "12+3"
assert "logit cap 2" in apart and "decaying lr" in apart and "gradual kappa" in apart

# %% [markdown]
# Verdict 7's claim calls 0.01 the *primary* fix, so it rests on the alternatives' counts too:
# it is "not replicated" only because the logit cap's count at lr 0.03 differs between the
# blocks (13 against 1 of 20), not the bonus's; verdict 9's schedules' counts do too
# (decaying lr: 12 against 3).
#
# ## Summary
#
# - The bonus's gradient needs no advantage, so it acts in the trap; its optimum at 0.01 is
#   deterministic.
# - From the start, 0.01 keeps most runs out of the trap (5 of 120 trapped, 38 without),
#   though most end with entropy below 0.1; in setting (b), 0.01 still leaves 5 of 40 trapped
#   and 0.05 none. At the default settings only a constant lower lr also beats the control.
# - Switched on at update 400, a bonus almost never frees a stuck run.
#
# **Next:** notebook 05, the explorer and the full verdict table.

# %% [markdown]
# ## Bonus A: when runs fall, and when the bonus works
#
# Section 3's grid: when do runs fall into the trap? Without the entropy bonus:

# %%
when = kappa_runs.take(kappa_runs.trapped).first_update_above("abort_rate", 0.9)
print(f"of the {len(when)} runs trapped without a bonus, {(when == 10).sum()} abort on more "
      f"than 90 % of trials in their first 10 updates (the log's first record)")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# the answer below: runs fall early
assert len(when) == 38 and (when == 10).sum() == 36, when

# %% [markdown]
# **Think!** Most runs at 0.01 end with entropy below 0.1, yet only 5 end trapped. When,
# during training, does the bonus do its work?
#
# <details><summary>Answer</summary>
#
# Early. A run that ends trapped almost always falls within its first 10 updates (36 of 38),
# while its policy is still spread and the reward term is weak; there the push toward uniform
# keeps FIXATE alive. Once the task is learned the optimum at 0.01 is deterministic (section
# 2), so the entropy ends low anyway.
# </details>

# %% [markdown]
# ## Bonus B: the trapped fraction, by hand
#
# ### Exercise 3: the trapped fraction
#
# Write `trapped_fraction(modes)`. In: a non-empty list of mode names (strings from
# `analysis.MODES`), one per seed. Out: a float in [0, 1], the share of modes in
# `analysis.TRAPPED_MODES`.

# %%
def trapped_fraction(modes):
    """The fraction (a float) of runs (mode names, one per seed) in a trapped mode."""
    ...


# %%
trapped_fraction = exercises.trapped_fraction.check(trapped_fraction)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# from pyrl_mini.analysis import TRAPPED_MODES
#
#
# def trapped_fraction(modes):
#     return sum(m in TRAPPED_MODES for m in modes) / len(modes)
# ```
# </details>

# %%
by_hand = {}   # section 4's trapped counts, with your function: setting -> fix -> count
for tag, fixes in zip("ab", (fixes_a, fixes_b)):
    by_hand[tag] = {fix: round(trapped_fraction(runs.mode_names) * len(runs.mode))
                    for fix, runs in fixes.items()}
    print(f"({tag}) trapped:", ", ".join(f"{fix} {k}" for fix, k in by_hand[tag].items()))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
for tag, counts in zip("ab", (a, b)):   # the exercise's counts are the library's
    assert by_hand[tag] == {f: v[0] for f, v in counts.items()}, tag

# %% [markdown]
# ## Bonus C: the fixes ranked, in a figure
#
# Section 4's counts as trapped fractions with their 95 % Wilson intervals, both settings,
# ranked by (b), then (a).

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# every fix's trapped fraction in both settings, ranked by (b), then (a)
def rate(setting, fix):
    k, n = ranked[setting].get(fix, (1, 1))[:2]
    return k / n


order = sorted({**fixes_b, **fixes_a}, key=lambda f: (rate(SETTINGS[1], f),
                                                      rate(SETTINGS[0], f)))
fig, ax = plots.subplots(figsize=(9.8, 1.2 + 0.34 * len(order)))
styles = {SETTINGS[1]: ("C3", "o", -0.13), SETTINGS[0]: ("C0", "s", 0.13)}
for tag, (setting, (color, marker, dy)) in zip("ba", styles.items()):
    rows = [(y, ranked[setting][fix]) for y, fix in enumerate(order) if fix in ranked[setting]]
    y = np.array([r[0] for r in rows]) + dy
    k, n, lo, hi = (np.array(v, dtype=float) for v in list(zip(*[r[1] for r in rows]))[:4])
    ax.errorbar(k / n, y, xerr=[k / n - lo, hi - k / n], fmt=marker, color=color, ms=5,
                capsize=2, lw=1, label=f"({tag}) {setting} ({int(n.max())} seeds)")
n_most = {s: max(v[1] for v in r.values()) for s, r in ranked.items()}
ticks = []
for fix in order:   # a fix run on fewer seeds than the rest of its setting says so
    fewer = sorted({ranked[s][fix][1] for s in ranked
                    if fix in ranked[s] and ranked[s][fix][1] < n_most[s]})
    ticks.append(("control" if fix == "none" else fix) + "".join(f" ({n} seeds)" for n in fewer))
ax.set_yticks(range(len(order)), ticks)
ax.invert_yaxis()
ax.set_xlim(-0.03, 1.03)
ax.set(xlabel="trapped fraction of seeds (95 % Wilson interval)",
       title="the fixes ranked (kappa = -0.4)")
# the key sits outside the axes, so it covers no point
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
fig.tight_layout()
assert not plots.style_problems(fig), plots.style_problems(fig)   # readable at 100 dpi
assert order[:2] == ["entropy 0.05", "entropy 0.1"], order

# %% [markdown]
# ## Bonus D: the rescue over time
#
# Section 5's runs trapped at update 400, per setting: the share still trapped at each update,
# with the bonus switched on at 400 or without it.

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# of the runs trapped at update 400, the share trapped at each update from 100 to 800
updates = np.arange(100, 801, 10)
fig, axes = plots.subplots(1, len(RESCUE), figsize=(9.8, 4.2), sharey=True)
for ax, (setting, d) in zip(axes, RESCUE.items()):
    rows = {e: d.by_seed(entropy_coef=e) for e in BONUSES}
    was = analysis.is_trapped(d.modes_at(400)[rows[0.0]])
    for e, color in zip(BONUSES, ("0.4", "C0", "C2")):
        trapped_at = np.array([analysis.is_trapped(d.modes_at(u)[rows[e]][was]) for u in updates])
        k, n = trapped_at.sum(1), was.sum()
        lo, hi = np.array([wilson(int(x), int(n)) for x in k]).T
        label = "control (no bonus)" if e == 0 else f"bonus {e:g} from update 400"
        ax.plot(updates, k / n, color=color, label=label)
        ax.fill_between(updates, lo, hi, color=color, alpha=0.15, lw=0)
    ax.axvline(400, color="k", ls=":", lw=1)
    ax.set(xlabel="update", title=f"{setting}: {int(was.sum())} runs trapped at 400",
           ylim=(-0.02, 1.02))
axes[0].set_ylabel("share trapped, of those\ntrapped at 400 (95 % band)")
axes[-1].legend(loc="lower left")
fig.tight_layout()
assert not plots.style_problems(fig), plots.style_problems(fig)   # readable at 100 dpi


# %% [markdown]
# ## Bonus E: how much bonus keeps randomness
#
# The task's loss *sums* log pi(a_t) f(d_t) over the T steps of a trial (until it ends in a
# choice or an abort) but *averages* H over them, so per step the bonus acts with tau =
# `entropy_coef` / T; a trial that ends in a choice has T >= 8 steps. The optimum at four
# coefficients:

# %%
def effective_temperature(entropy_coef, steps_per_trial):
    """The entropy bonus's tau per step: entropy_coef / T (H is averaged over T steps)."""
    return entropy_coef / steps_per_trial


for coef in (0.01, 0.05, 0.1, 0.5):
    tau = effective_temperature(coef, steps)
    star = regularised_optimum(evs, tau)
    print(f"entropy_coef {coef:4g}: tau = {tau:.5f}, pi*(best) = {float(star[-1]):.6f},"
          f" H(pi*) = {entropy(star):.1e} nats")

# %% [markdown]
# Section 2's optimum as tau grows (left), and its entropy against the analysis's 0.1 (right).
# Bisection finds the tau, and so the `entropy_coef`, that holds H(pi*) at 0.1.

# %%
lo, hi = 1e-3, 1.0          # bisection on tau for H(pi*) = 0.1 (H grows with tau)
for _ in range(60):
    mid = np.sqrt(lo * hi)
    lo, hi = (mid, hi) if entropy(regularised_optimum(evs, mid)) < 0.1 else (lo, mid)
coef_h01 = steps * mid
print(f"H(pi*) = 0.1 needs tau = {mid:.4f}: entropy_coef = {coef_h01:.2f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
taus = np.geomspace(1e-3, 0.3, 61)
pis = np.stack([bandit.regularised_optimum(evs, t) for t in taus])   # pi*(tau): (taus, arms)
fig, (ax1, ax2) = plots.subplots(1, 2, figsize=(9.8, 5.4))
for a in range(pis.shape[1]):
    ax1.plot(taus, pis[:, a], label=f"EV {evs[a]:.2f}")
ax1.set(xscale="log", xlabel="tau (entropy temperature)", ylabel="pi*(a)",
        title="regularised optimum softmax(r / tau)")
ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
ax2.plot(taus, [entropy(pi) for pi in pis], color="k")
ax2.axhline(plots.ENTROPY_TARGET, color="C3", ls=":", lw=1, label="analysis: H > 0.1")
for c, color in zip((0.01, 0.05), ("C0", "C2")):
    ax2.axvline(c, color=color, lw=1, label=f"tau = {c:g} (bandit)")
    ax2.axvline(effective_temperature(c, steps), color=color, lw=1, ls="--",
                label=f"{c:g} / {steps} (per step in the task)")
ax2.set(xscale="log", xlabel="tau", ylabel="H(pi*) (nats)", title="entropy of the optimum",
        ylim=(0, np.log(len(evs))))
ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2))
fig.tight_layout()
assert not plots.style_problems(fig), plots.style_problems(fig)   # readable at 100 dpi

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert abs(entropy(regularised_optimum(evs, mid)) - 0.1) < 1e-6
assert f"{coef_h01:.2f}" == "0.31", "holding H at 0.1 takes about 30 times the recommended 0.01"

# %% [markdown]
# Holding H(pi*) at 0.1 takes `entropy_coef` 0.31, thirty times the recommendation.
#
# ### Exercise 4: the coefficient that keeps a share
#
# For two arms a gap Delta apart, pi* puts 1 / (1 + exp(Delta / tau)) on the worse one.
# Write `min_entropy_coef(gap, p_min, steps_per_trial)`. In: three floats. Out: a float, the
# smallest `entropy_coef` that keeps at least `p_min` on the worse arm, with
# tau = entropy_coef / steps_per_trial (section 2).

# %%
def min_entropy_coef(gap, p_min, steps_per_trial):
    """The entropy_coef whose optimum keeps p_min on the worse of two arms `gap` apart."""
    ...


# %%
min_entropy_coef = exercises.min_entropy_coef.check(min_entropy_coef)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# import math
#
#
# def min_entropy_coef(gap, p_min, steps_per_trial):
#     tau = gap / math.log((1 - p_min) / p_min)
#     return steps_per_trial * tau
# ```
# </details>

# %%
gap = float(evs[1] - evs[0])    # between neighbouring EV columns
coef_10pct = min_entropy_coef(gap, 0.1, steps)
print(f"10 % on the worse of two neighbouring columns needs entropy_coef = {coef_10pct:.2f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert np.isclose(gap, 0.15) and 0.5 < coef_10pct < 0.6, coef_10pct


# %% [markdown]
# Keeping even 10 % on the worse of two neighbouring columns takes 0.55, 55 times
# the recommended 0.01.
#
# ## Bonus F: what each fix costs
#
# Setting (a), one row per fix, ranked by trapped runs, then by mean final reward. Columns:
# **higher-EV**, the share of choices of the higher-EV option when the two offers differ in
# EV; **lower-p**, the share of choices of the riskier (lower-p) option when they have equal
# EV (kappa < 0 raises it); **entropy**, the final policy entropy; **compute**, trials per
# update relative to 256; **risk kept**, the lower-p rate's distance from its value at
# kappa = 0, as a share of the control's (1: the fix keeps all of kappa's risk preference,
# 0: none). Means over the seeds that made such choices.

# %%
def fix_table(fixes, risky_kappa0):
    """One row per fix, ranked by trapped runs, then by mean final reward."""
    def choosing_mean(x):   # NaN where no seed made such a choice
        return float(np.nanmean(x)) if np.isfinite(x).any() else np.nan

    risky_none = float(np.nanmean(fixes["none"].final("risky_rate")))
    rows = []
    for fix, runs in fixes.items():
        R, risky = runs.final("reward"), choosing_mean(runs.final("risky_rate"))
        rows.append({"fix": fix, "seeds": len(R), "trapped": int(runs.trapped.sum()),
                     "reward": float(np.mean(R)), "reward_sd": float(np.std(R)),
                     "reward_min": float(np.min(R)), "risky": risky,
                     "higher_ev": choosing_mean(runs.final("higher_ev_rate")),
                     "entropy": float(np.mean(runs.final("entropy"))),
                     "compute": 2 if fix == "larger batch" else 1,   # 512 trials, not 256
                     # the share of kappa's risk preference the fix keeps (1: all, 0: none)
                     "risk_kept": (risky - risky_kappa0) / (risky_none - risky_kappa0)})
    return sorted(rows, key=lambda row: (row["trapped"], -row["reward"]))


def print_fix_table(rows):
    print(f"{'rank':>4} {'fix':18s} {'trapped':>8} {'reward mean (sd, min)':>22} "
          f"{'higher-EV':>9} {'lower-p':>7} {'entropy':>7} {'compute':>7} {'risk kept':>9}")
    for rank, r in enumerate(rows, start=1):
        print(f"{rank:>4} {r['fix']:18s} {r['trapped']:>2} of {r['seeds']} "
              f"{r['reward']:>9.3f} ({r['reward_sd']:.3f}, {r['reward_min']:+.2f}) "
              f"{r['higher_ev']:>9.2f} {r['risky']:>7.2f} {r['entropy']:>7.3f} "
              f"{r['compute']:>6.0f}x {r['risk_kept']:>9.2f}")


r0 = float(np.nanmean(table["risky_rate"][kappas.index(0.0), 0]))   # lower-p rate at kappa 0
rows_a, rows_b = fix_table(fixes_a, r0), fix_table(fixes_b, r0)
print("(a) lr 0.01, 800 updates, seeds 2000-2019 and 2100-2119")
print_fix_table(rows_a)
learns_none = ~fixes_a["none"].trapped
cost = {}   # paired, on the seeds where the fix's run and the control's both learn
for fix, runs in fixes_a.items():
    both = learns_none & ~runs.trapped
    R, risky = (runs.final(n)[both] for n in ("reward", "risky_rate"))
    R0, risky0 = (fixes_a["none"].final(n)[both] for n in ("reward", "risky_rate"))
    cost[fix] = (int(both.sum()), float(np.mean(R - R0)), float(np.std(R - R0)),
                 int((risky < risky0).sum()), float(np.nanmean(risky - risky0)))
print("paired with the control where both learn (seeds: reward change, sd):", "; ".join(
    f"{fix} {c[0]}: {c[1]:+.3f} ({c[2]:.3f})" for fix, c in cost.items() if fix != "none"))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
fig, (ax1, ax2) = plots.subplots(1, 2, figsize=(9.8, 1.2 + 0.34 * len(rows_a)), sharey=True)
labels = [r["fix"] for r in rows_a]   # ranked, best on top
for y, fix in enumerate(labels):
    runs = fixes_a[fix]
    colour = np.where(runs.trapped, "C3", "C0")
    jitter = np.linspace(-0.15, 0.15, len(runs.mode))
    ax1.scatter(runs.final("reward"), y + jitter, c=colour, s=16)
    ax2.scatter(runs.final("risky_rate"), y + jitter, c=colour, s=16)
ax1.set_yticks(range(len(labels)), labels)
ax1.invert_yaxis()
ax1.set(xlabel="final reward / trial (red: trapped)", title="(a) lr 0.01, 800 updates")
ax2.axvline(0.5, color="0.8", ls=":")
ax2.set(xlabel="lower-p choices on equal-EV pairs", title="risk preference kept?",
        xlim=plots.data_limits([fixes_a[fix].final("risky_rate") for fix in labels], 0.5))
fig.tight_layout()
assert not plots.style_problems(fig), plots.style_problems(fig)   # readable at 100 dpi

# %% tags=["hide-input"] jupyter={"source_hidden": true}
by_a = {r["fix"]: r for r in rows_a}
assert len(rows_a) == 9 and all(r["seeds"] == 40 for r in rows_a)
# ranked by trapped runs, then by reward; the control keeps all of its own risk preference
assert [r["fix"] for r in rows_a][:3] == ["entropy 0.05", "entropy 0.01", "lower lr"]
assert by_a["none"]["risk_kept"] == 1.0
# every fix but the logit cap learns to the control's reward: paired |mean| < 0.012, 23+ seeds
for fix in cost:
    if fix not in ("none", "logit cap 2"):
        assert cost[fix][0] >= 23 and abs(cost[fix][1]) < 0.012, (fix, cost[fix])
# the cap buys the analysis's "entropy > 0.1" with reward: about 0.31 of the control's 0.75,
# its learning runs keeping entropy near 0.24, and the least of kappa's risk preference
assert f"{cost['logit cap 2'][1]:.2f}" == "-0.31" and cost["logit cap 2"][0] >= 23
c2a = fixes_a["logit cap 2"]
H_c2a = c2a.final("entropy")[~c2a.trapped]
assert f"{H_c2a.mean():.2f}" == "0.24" and by_a["entropy 0.01"]["entropy"] < 0.1
assert f"{fixes_a['none'].final('reward')[learns_none].mean():.2f}" == "0.75"
assert by_a["logit cap 2"]["risk_kept"] == min(r["risk_kept"] for r in rows_a) < 0.85
# no run under the cap converges: at pi(FIXATE) <= 0.965 per step, at least 22 % of trials
# abort before the 7 steps of fixation and stimulus are over
cap_max = float(torch.softmax(torch.tensor([2.0, -2.0, -2.0]), 0)[0])
assert f"{1 - cap_max ** 7:.2f}" == "0.22"
for fixes in (fixes_a, fixes_b):
    runs = fixes["logit cap 2"]
    assert "converged" not in runs.mode_names and runs.final("abort_rate").min() > 0.2

# %% [markdown]
# Where both learn, every fix but the logit cap ends within 0.012 of the control's reward
# (paired). The cap costs 0.31: at most 96.5 % on FIXATE per step, so at least 22 % of trials
# abort.

# %% [markdown]
# ## Bonus G: the bandit's fixed point

# %% tags=["hide-input"] jupyter={"source_hidden": true}
runs = widgets.fixed_point_runs()   # exact and sampled bandit training, for the demo
for tau, (exact, sampled) in runs.items():
    star = bandit.regularised_optimum(evs, tau)
    assert np.abs(exact[-1] - star).sum() < 0.05, f"tau={tau}: exact ascent ends at pi*"
    assert np.abs(sampled[-200:].mean((0, 1)) - star).sum() < 0.1, f"tau={tau}: sampled too"

# %% [markdown]
# ### Interactive demo: the bandit's fixed point
#
# Move `entropy_coef` (= tau: a bandit has one step per trial). Black: exact gradient ascent;
# grey: REINFORCE runs (4 runs, batch 16); dashed red: pi*(best arm).

# %%
bandit_demo = widgets.fixed_point_demo(runs)
bandit_demo

# %% [markdown]
# **Think!** Below which tau does the target become the plain argmax? How does that compare
# with the 0.15 gaps?
#
# <details><summary>Answer</summary>
#
# Below tau of about 0.03 the best arm gets more than 99 % at the optimum: a fifth of the gap
# already makes exp(-0.15 / tau) < 0.01. The bonus keeps the other arms alive only when tau
# is comparable with the gaps, and then the policy is far from the argmax.
# </details>

# %% [markdown]
# ## Bonus H: convergence, a linear rate whose constant vanishes
#
# Mei et al. (2020) prove that with tau > 0 exact softmax policy gradient converges to pi\*
# at a *linear* (geometric) rate, against the O(1/t) of the unregularised case. The rate
# scales like lr tau min_a pi\*(a), and min_a pi\*(a) ~ exp(-(r_max - r_min) / tau).
# Distance to each tau's own optimum:

# %%
lr = 1.0
dist = {}   # tau -> L1 distance |pi_t - pi*(tau)|_1 over the steps of exact gradient ascent
for tau in (0.0, 0.01, 0.1, 0.2):
    pi_t = bandit.exact_pg_trajectory(np.zeros(len(evs)), evs, lr, 4000, tau)   # (steps+1, arms)
    dist[tau] = np.abs(pi_t - bandit.regularised_optimum(evs, tau)).sum(-1)
rates = {}
for tau in (0.0, 0.01, 0.2):
    measured = np.log(dist[tau][1000] / dist[tau][2000]) / 1000   # mean log-rate per step
    predicted = lr * tau * bandit.regularised_optimum(evs, tau).min()   # Mei et al. (2020)
    rates[tau] = (dist[tau][2000], measured, predicted)
    print(f"tau={tau:4g}: distance at step 2000 {rates[tau][0]:.1e}; measured log-rate/step "
          f"{rates[tau][1]:.1e}; lr tau min pi* = {rates[tau][2]:.1e}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
fig, ax = plots.subplots(figsize=(6.4, 4.2))
t = np.arange(1, 4001)
for tau, d in dist.items():
    ax.plot(t, np.maximum(d[1:], 1e-16), label=f"tau={tau:g}")
ax.plot(t, 1.0 / (lr * t), color="0.6", ls=":", label="1 / (lr t)")
ax.set(xscale="log", yscale="log", ylim=(1e-12, 3), xlabel="step t",
       ylabel="|pi_t - pi*(tau)|_1", title="exact softmax PG, 5 EV arms")
ax.legend()
fig.tight_layout()
assert not plots.style_problems(fig), plots.style_problems(fig)   # readable at 100 dpi

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# tau = 0.2: geometric, 1e-7 by step 2000, at about the predicted rate
assert rates[0.2][0] < 1e-5 and 0.5 < rates[0.2][1] / rates[0.2][2] < 2
# tau = 0.01: the predicted rate is ~1e-28, and the measured approach is the 1/t one of
# tau = 0 (a 1/t decay halves from step 1000 to 2000: log-rate ln(2) / 1000 = 6.9e-4)
assert rates[0.01][2] < 1e-20 and rates[0.01][0] > 1e-3 and rates[0.0][0] > 1e-3
for tau in (0.0, 0.01):
    assert 0.7 < rates[tau][1] / (np.log(2) / 1000) < 1.3, (tau, rates[tau])

# %% [markdown]
# At tau = 0.01 the "linear rate" is 1e-28 per step: in practice the same 1/t crawl as without
# a bonus. A fast approach needs tau comparable with the gaps, and then the target is far from
# the argmax.
#
# ## Bonus I: what the bonus costs on the grid
#
# Risk preference is the lower-p (riskier) choice rate on equal-EV pairs; kappa < 0 raises it.
# Paired differences (same kappa, same seed) leave out pairs where either run is trapped.

# %%
def paired_difference(name, coef):
    """name at entropy_coef = coef minus at 0, per (kappa, seed) where neither run is trapped."""
    a, b = coefs.index(coef), coefs.index(0.0)
    both_learn = ~(table["trapped"][:, a] | table["trapped"][:, b])
    return (table[name][:, a] - table[name][:, b])[both_learn]


for coef in (0.01, 0.05):
    dR = paired_difference("reward", coef)
    print(f"final reward, entropy_coef {coef:g} minus 0: mean {dR.mean():+.3f}, "
          f"sd {dR.std():.3f} over {len(dR)} pairs")
slopes = {}   # least-squares line of the lower-p rate on kappa, one point per run
for j, coef in enumerate(coefs):
    x = np.repeat(np.array(kappas), table["risky_rate"].shape[2])
    y = table["risky_rate"][:, j].ravel().astype(float)
    ok = np.isfinite(y)   # runs that made no equal-EV choice have no rate
    slope, intercept = np.polyfit(x[ok], y[ok], 1)
    resid = y[ok] - (slope * x[ok] + intercept)
    se = np.sqrt(resid @ resid / (ok.sum() - 2) / np.sum((x[ok] - x[ok].mean()) ** 2))
    slopes[coef] = (float(slope), float(se))
    print(f"entropy_coef={coef:g}: d(lower-p rate)/d(kappa) = {slopes[coef][0]:+.2f} "
          f"+- {slopes[coef][1]:.2f} (s.e.)")

# %%
def risk_sensitive_value(p, magnitude, kappa):
    """Fixed point of V <- V + lr f(d) for a gamble paying magnitude with probability p, else
    0: p (1 - kappa) (magnitude - V) = (1 - p) (1 + kappa) V."""
    up, down = p * (1 - kappa), (1 - p) * (1 + kappa)
    return up * magnitude / (up + down)


# |V(p, EV / p) - V(p', EV / p')| for neighbouring p in each EV column: (columns, pairs)
gaps = np.array([np.abs(np.diff([risk_sensitive_value(p, ev / p, -0.4)
                                 for p in tasks.PROBABILITIES])) for ev in evs])
print(f"kappa=-0.4: risk-sensitive value gaps between neighbouring p, equal EV: "
      f"{gaps.min():.3f} .. {gaps.max():.3f}; per-step tau at 0.05: "
      f"{effective_temperature(0.05, steps):.4f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
for coef in (0.01, 0.05):
    dR = paired_difference("reward", coef)
    # no reward cost (nor gain) beyond seed noise: |mean| under 2 standard errors, 40+ pairs
    assert len(dR) >= 75 and abs(dR.mean()) < 2 * dR.std() / np.sqrt(len(dR)), (coef, dR.mean())
    assert abs(dR.mean()) < 0.01 and dR.std() < 0.03, (coef, dR.mean(), dR.std())
# kappa still moves risk preference as strongly with the bonus as without it
s0, se0 = slopes[0.0]
for coef in (0.01, 0.05):
    s, se = slopes[coef]
    assert s < -0.8 and abs(s - s0) < 2 * np.hypot(se, se0), (coef, s, s0)
assert gaps.min() > 5 * effective_temperature(0.05, steps)
# kappa = 0 values a gamble at its EV, so equal-EV gambles have no gap at all
assert np.allclose([risk_sensitive_value(p, 1 / p, 0.0) for p in tasks.PROBABILITIES], 1.0)
# the size of kappa's effect, without a bonus: ~0.91 lower-p choices at -0.4, ~0.15 at +0.4
risky0 = np.nanmean(table["risky_rate"][:, 0], axis=1)
assert f"{risky0[0]:.2f}" == "0.91" and f"{risky0[-1]:.2f}" == "0.15", risky0

# %% [markdown]
# At these coefficients the bonus costs nothing measurable: the final reward changes by
# less than 0.01 on average (paired, 77 and 80 pairs, sd about 0.02), and the slope of risk
# preference on kappa stays at about -0.95 (lower-p choices from 0.91 at kappa = -0.4 to 0.15
# at +0.4 without a bonus) with or without it. The fixed point says why: at kappa = -0.4 the
# risk-sensitive values of equal-EV gambles differ by 0.06 to 0.39 (values from the fixed
# point of V <- V + lr f(d)), more than five (at least nine) times the per-step temperature
# 0.05 / 8. The flip side of "no cost" is "no lever": at these coefficients the bonus cannot
# reshape the learned policy at all.

# %% [markdown]
# ### Interactive demo: kappa x entropy_coef
#
# Top: reward and entropy over training (colour: the chosen cell's seeds; grey: the same
# kappa without a bonus; red dotted: 0.1). Bottom: the lower-p choice rate on equal-EV pairs
# against kappa; trapped runs per kappa.

# %%
grid_demo = widgets.entropy_grid_demo(grid)
grid_demo

# %% [markdown]
# ## Bonus J: who is trapped in setting (b), and how

# %%
print("(b) lr 0.03, 250 updates, seeds 3000-3019 and 3100-3119")
print_fix_table(rows_b)
control = fixes_b["none"].trapped
others = [f for f in paired[SETTINGS[1]] if not f.startswith("entropy")]
under = np.sum([fixes_b[f].trapped for f in others], axis=0)  # per seed, of 6
print(f"seeds trapped under all {len(others)} changes without a bonus: "
      f"{int((under == len(others)).sum())} (all trapped without a fix too: "
      f"{bool(control[under == len(others)].all())}); under none: {int((under == 0).sum())}")
for fix in ("entropy 0.01", "entropy 0.05", "entropy 0.1"):
    own = [m for m in fixes_b[fix].mode_names if m in analysis.TRAPPED_MODES]
    print(f"{fix}: rescues {int((control & ~fixes_b[fix].trapped).sum())} of the "
          f"control's {int(control.sum())}; its own trapped runs: {own}")
trapped = fixes_b["none"].take(control)
flat = trapped.final("entropy") < 1e-3
print(f"control's trapped runs with the log signature (final entropy < 0.001): "
      f"{frequency(flat)}; the others' final entropy: {trapped.final('entropy')[~flat].round(2)}")
gk = fixes_b["gradual kappa"]
gk_trapped = gk.take(gk.trapped)
when = gk_trapped.first_update_above("abort_rate", 0.9)
print(f"gradual kappa: its trapped runs abort on > 90 % of trials by update {when} "
      f"(-1: never); the schedule holds kappa = 0 for updates 0-24")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert len(others) == 6 and (under == 6).sum() == 7 and control[under == 6].all()
assert (under == 0).sum() == 15
# the larger bonuses free every trapped seed; 0.01 frees 11, and 3 of its own 5 trapped runs
# are "one side" (another trap)
assert (control & ~fixes_b["entropy 0.05"].trapped).sum() == 15
assert (control & ~fixes_b["entropy 0.1"].trapped).sum() == 15
own01 = [m for m in fixes_b["entropy 0.01"].mode_names if m in analysis.TRAPPED_MODES]
assert sorted(own01) == ["always_aborts", "never_chooses", "one_side", "one_side", "one_side"]
# the control: 10 of its 15 trapped runs always abort; only 8 of 15 end with the log
# signature (entropy ~ 0); the others have final entropy up to 0.75
modes_none = trapped.mode_names
assert modes_none.count("always_aborts") == 10 and len(modes_none) == 15
assert int(flat.sum()) == 8 and f"{trapped.final('entropy').max():.2f}" == "0.75"
assert np.all(trapped.final("grad_norm")[flat] < 1e-3)
# the gradual schedule's trapped runs abort from the first updates, while kappa is still 0
assert (when == 5).sum() == 12 and len(when) == 14, when
gk_modes = gk_trapped.mode_names
assert gk_modes.count("never_chooses") == 2
assert all(gk_modes[i] == "never_chooses" for i in np.flatnonzero(when == -1))

# %% [markdown]
# Without a bonus 15 of 40 seeds are trapped (11 and 4 in the two blocks, within each
# other's intervals), 10 of them aborting on every trial. Only 8 of the
# 15 end with the analysis's log signature (entropy, gradient and mean log pi near 0); the
# others end with entropy up to 0.75, so an entropy alarm would miss almost half the trapped
# runs. Seven seeds are trapped under all six changes without a bonus (all seven without a fix
# too), 15 under none. 0.05 and 0.1 free all 15; 0.01 frees 11, and 3 of its own 5 trapped
# runs settle on one side, another trap. The gradual schedule's trapped runs abort on more
# than 90 % of trials by update 5 (the other two never choose), with kappa still 0.
#
# **Think!** In setting (b) the decaying learning rate and the gradual kappa schedule leave
# about as many runs trapped as the control. The schedule holds kappa = 0 for its first 25
# updates. What does that say about the cause of this trap?
#
# <details><summary>Answer</summary>
#
# The trapped runs abort on almost every trial within the first few updates, while the
# schedule still has kappa = 0 and before a decay has lowered the rate much: this trap is
# not caused by risk seeking at all. It is the trap of notebook 03 (every trial aborts, every
# advantage is 0), and only a term that acts without an advantage, the bonus of section 1,
# keeps runs out of it.
# </details>
#
# ## Bonus K: the logit cap, factor by factor
#
# In setting (b) of section 4 the logit cap keeps entropy up, and still traps runs. At update
# 250:

# %%
runs = fixes_b["logit cap 2"]
aborts = runs.mode == analysis.MODES.index("always_aborts")
H, g = runs.final("entropy")[aborts], runs.final("grad_norm")[aborts]
print(f"logit cap 2: {runs.trapped.sum()} of 40 trapped, {aborts.sum()} always abort, with final "
      f"entropy {H.min():.2f} to {H.max():.2f} and gradient norm <= {g.max():.0e}")
untrapped = fixes_b["none"].final("grad_norm")[~fixes_b["none"].trapped]
print(f"the control's runs that are not trapped: gradient norm at least {untrapped.min():.2f}")

# %% [markdown]
# The cap traps 14 of 40. Its 13 runs that always abort keep entropy 0.18 to 0.90, with a
# gradient a thousand times below a learning run's: "entropy > 0.1" is no sign of health.
#
# Why? On the chosen action's raw logit z_a the gradient of log pi(a) f(d) is
#
# $$ (1 - \pi(a))\; \mathrm{cap}'(z_a)\; f(d), \qquad \mathrm{cap}'(z) = 1 - \tanh^2(z/\mathrm{cap}) $$
#
# (cap' = 1 without a cap). The cap keeps the first factor above 0.035, but the raw logits grow
# behind it and cap' goes to 0 instead. And in a run that always aborts, f(d) = 0 whatever the
# policy, whose entropy can stay far above 0.1. Nor does the cap's floor on exploration open a
# way out of the trap: to reach a choice a trial must hold fixation on all 7 steps of fixation
# and stimulus, and cap 2 guarantees fixation only 1 / (1 + 2 e^4) = 0.9 % per step, about
# 0.009^7 = 5e-15 per trial.

# %%
task = TrainSettings().task
hold_steps = task.fixation_steps + task.stimulus_steps      # FIXATE on each of these
cap = 2.0
p_fix = 1 / (1 + 2 * np.exp(2 * cap))   # FIXATE's logit at -cap, both choices at +cap
print(f"fixation guaranteed per step {p_fix:.4f}; held for {hold_steps} steps: "
      f"{p_fix ** hold_steps:.0e}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert hold_steps == 7, "fixation plus stimulus is 7 steps (the prose says 0.009^7)"
assert f"{p_fix:.3f}" == "0.009" and f"{p_fix ** hold_steps:.0e}" == "5e-15", p_fix

# %% [markdown]
# The cell below trains four networks at setting (b) for 40 updates (a few seconds) and
# measures each factor on a fresh batch.

# %%
# label -> (logit cap, entropy_coef, seed), each at setting (b): lr 0.03, kappa = -0.4
trap_runs = {"no fix, seed 1": (0.0, 0.0, 1), "logit cap 2, seed 1": (2.0, 0.0, 1),
             "logit cap 2, seed 0": (2.0, 0.0, 0), "entropy 0.05, seed 1": (0.0, 0.05, 1)}
base = TrainSettings().replace(**FAST_CONTROL).replace(updates=40)
result = train([base.replace(logit_cap=c, entropy_coef=e, seed=seed)
                for c, e, seed in trap_runs.values()], progress=False)
factors = {}
for k, (label, s) in enumerate(zip(trap_runs, result.settings)):
    net = Ensemble([s.replace(seed=999)])   # network k's trained weights, a fresh batch
    with torch.no_grad():
        for name, p in net.params.items():
            p.copy_(result.params[name][k:k + 1])
        for name, p in net.baseline_params.items():
            p.copy_(result.baseline_params[name][k:k + 1])
    for p in net.params.values():
        p.requires_grad_(True)
    ro = net.rollout(256, torch.tensor([s.kappa]))
    ro["policy_loss"].sum().backward()
    valid, a = ro["mask"].bool(), ro["actions"].unsqueeze(-1)
    pi_a = ro["probs"].detach().gather(-1, a).squeeze(-1)        # pi(a) of the chosen action
    z_a = ro["raw_logits"].detach().gather(-1, a).squeeze(-1)    # its logit before the cap
    slope = 1 - torch.tanh(z_a / s.logit_cap) ** 2 if s.logit_cap > 0 else torch.ones_like(z_a)
    grad_norm = torch.sqrt(sum((p.grad ** 2).sum() for p in net.params.values()))
    factors[label] = {"|f(d)|": ro["fd"][valid].abs().mean().item(),
                      "1 - pi(a)": (1 - pi_a[valid]).mean().item(),
                      "cap slope": slope[valid].mean().item(), "gradient norm": grad_norm.item(),
                      "entropy": ro["entropy"].detach()[valid].mean().item(),
                      "abort rate": float(ro["outcome"].aborted.float().mean())}
for label, f in factors.items():
    print(f"{label:22s} " + "  ".join(f"{k} {v:.1e}" for k, v in f.items()))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
names = ("|f(d)|", "1 - pi(a)", "cap slope", "gradient norm")   # the factors of the gradient
fig, ax = plots.subplots(figsize=(9.8, 4.2))
width, x, floor = 0.8 / len(factors), np.arange(len(names)), 1e-12
for j, (label, f) in enumerate(factors.items()):
    pos = x + (j - (len(factors) - 1) / 2) * width
    vals = np.array([f[name] for name in names])
    ax.bar(pos, np.maximum(vals, floor), width, label=label, color=f"C{j}")
    for p, v in zip(pos, vals):
        if v == 0:   # an exact zero cannot sit on a log axis: mark it at the floor
            ax.text(p, floor * 3, "0", ha="center", va="bottom", color=f"C{j}",
                    fontweight="bold")
ax.set_yscale("log")
ax.set_ylim(floor, 10)
ax.set_xticks(x, names)
ax.set_ylabel("value (means over valid steps)")
ax.set_title("factors of the policy gradient after the first updates")
ax.legend(bbox_to_anchor=(1.01, 1.0), loc="upper left")
fig.tight_layout()
assert not plots.style_problems(fig), plots.style_problems(fig)   # readable at 100 dpi

# %% tags=["hide-input"] jupyter={"source_hidden": true}
none_f, cap_f = factors["no fix, seed 1"], factors["logit cap 2, seed 1"]
healthy_f, bonus_f = factors["logit cap 2, seed 0"], factors["entropy 0.05, seed 1"]
# both seed-1 runs without a bonus are trapped: every trial of the fresh batch aborts
assert none_f["abort rate"] == 1.0 and cap_f["abort rate"] == 1.0
# without a cap the softmax factor is exactly 0 (pi(a) = 1 in float32) ...
assert none_f["1 - pi(a)"] == 0.0 and none_f["gradient norm"] < 1e-8
assert none_f["cap slope"] == bonus_f["cap slope"] == 1.0   # no cap, no slope below 1
# ... with the cap it stays alive and the entropy stays above 0.1 ...
assert cap_f["1 - pi(a)"] > 0.05 and 0.15 < cap_f["entropy"] < 0.25
# ... but the cap's slope and the advantage are both far below the healthy run's
assert cap_f["cap slope"] < healthy_f["cap slope"] / 2
assert cap_f["|f(d)|"] < healthy_f["|f(d)|"] / 10
assert cap_f["gradient norm"] < healthy_f["gradient norm"] / 100
# the bonus kept seed 1 out of the trap in the first place: it chooses and learns
assert bonus_f["abort rate"] < 0.5 and bonus_f["gradient norm"] > 0.1

# %% [markdown]
# After 40 updates the capped seed-1 run aborts on every trial with entropy of about 0.2: the
# cap keeps 1 - pi(a) alive, but its slope and |f(d)| are far below those of a capped run that
# learns (seed 0), and its gradient is hundreds of times smaller. The bonus kept seed 1 out of
# the trap in the first place.

# %% [markdown]
# ### Interactive demo: one fix at a time
#
# Pick a setting and a fix: its runs (colour, one line per seed) over the control's (grey):
# reward, entropy, abort rate, lower-p choices.

# %%
fixes_demo = widgets.fixes_demo(dict(zip(SETTINGS, (fixes_a, fixes_b))))
fixes_demo

# %% [markdown]
# ## Bonus L: train your own
#
# Press **Train** to train one network with your settings (about 20 updates per second at
# batch 256; try lr 0.03 with seeds 1 and 3, with and without a bonus). Nothing runs until you
# press the button.

# %%
widgets.fixes_train_widget()

# %% [markdown]
# ## References
#
# - Williams, R. J. & Peng, J. (1991). Function optimization using connectionist
#   reinforcement learning algorithms. *Connection Science* 3(3), 241-268.
# - Mnih, V. et al. (2016). Asynchronous methods for deep reinforcement learning. *ICML*.
# - Mei, J., Xiao, C., Szepesvari, C. & Schuurmans, D. (2020). On the global convergence
#   rates of softmax policy gradient methods. *ICML*.
# - Ahmed, Z., Le Roux, N., Norouzi, M. & Schuurmans, D. (2019). Understanding the impact of
#   entropy on policy optimization. *ICML*.
# - Mihatsch, O. & Neuneier, R. (2002). Risk-sensitive reinforcement learning. *Machine
#   Learning* 49, 267-290.
# - Bello, I., Pham, H., Le, Q. V., Norouzi, M. & Bengio, S. (2017). Neural combinatorial
#   optimization with reinforcement learning. *ICLR workshop* (tanh logit clipping).
# - Huang, S. et al. (2022). CleanRL: high-quality single-file implementations of deep
#   reinforcement learning algorithms. *JMLR* 23(274) (policy-head initialisation).
