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
# # 05 · The explorer, the verdicts as counts, and your own log
#
# Notebooks 00-04 took the suspects of the written analysis that circulates with the upstream
# code one at a time. Here everything the collection trained sits in one explorer, each claim
# gets its verdict as a count ("k of n runs"), with how sure a count of a few runs can be,
# and you diagnose training logs yourself.
#
# **Learning objectives.** You will
# 1. find which settings make runs collapse, and which barely matter, in the explorer;
# 2. write a collapse rate as "k of n runs" with a 95 % interval, and say what a few seeds
#    can and cannot show;
# 3. read the collection's verdict on each claim, with its takeaway;
# 4. tell a converged, a trapped and a diverged run apart from an upstream-style log.
#
# **Prerequisites.** Notebooks 00 and 03 (the glossary, the always-abort trap). **Time:**
# about 30 minutes; Run All takes about 15 seconds.

# %%
# %matplotlib inline
import numpy as np
from IPython.display import Markdown, display

from pyrl_mini import data, stats, verdicts, widgets
from pyrl_mini.diagnose import diagnose_log, parse_log
from pyrl_mini.exercises import nb05 as exercises

# %% [markdown]
# ## 1. The explorer (5 min)
#
# Every precomputed run sits in one catalogue: the main grid (kappa x entropy_coef, 1000
# updates), notebook 03's learning-rate grid (700 updates), notebook 02's W_out sweep (300)
# and notebook 01's GRU and SimpleRNN runs (600). Pick a network, W_out std and learning
# rate, then move kappa and the entropy bonus. The line above the figure names the runs shown;
# a combination never trained says so and lists those that were.
#
# Top two rows: one line per seed (reward, entropy, dead units, gradient norm), the lower-p
# choice rate on equal-EV pairs at every kappa, and the selected runs' choices. Bottom: the
# collapsed runs at every kappa as "k of n", with an interval section 2 explains.

# %%
catalogue = data.catalogue()
explorer = widgets.explorer_demo(catalogue)
explorer

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# the explorer shows what the data files hold: the main grid's own runs
name, rows = catalogue.match("GRU", 0.05, 0.01, -0.4, 0.0)
assert name == "nb00_main_grid" and len(rows) == 3
np.testing.assert_array_equal(rows, catalogue.datasets["nb00_main_grid"].select(kappa=-0.4,
                                                                         entropy_coef=0.0))

# %% [markdown]
# **Think!** At lr 0.03 and entropy_coef 0, move kappa from -0.4 to +0.4. Does the
# collapsed count rise as kappa falls, as the analysis says it should?
#
# <details><summary>Answer</summary>
#
# No: at lr 0.03 collapses occur at every kappa, positive ones included. The gradient-norm
# panel shows the collapsed seed falling to the floor (a norm of 0
# is drawn at 1e-12) while the others keep learning.
# </details>
#
# ### Exercise 1: count the collapses at one setting
#
# `catalogue.match(network, wout_std, lr, kappa, entropy_coef)` returns `(dataset name,
# rows)`; `catalogue.datasets[name].trapped[rows]` says which of those runs collapsed.
# Return `(k, n)`: collapsed runs and runs, pooled over every kappa in `catalogue.kappa`.

# %%
def trapped_count(cat, network, wout_std, lr, entropy_coef):
    """(collapsed runs, runs) at these settings, pooled over every kappa."""
    ...


# %%
trapped_count = exercises.trapped_count.check(trapped_count)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# def trapped_count(cat, network, wout_std, lr, entropy_coef):
#     k = n = 0
#     for kappa in sorted(set(cat.kappa.tolist())):
#         name, rows = cat.match(network, wout_std, lr, kappa, entropy_coef)
#         if name is not None:
#             k += int(cat.datasets[name].trapped[rows].sum())
#             n += len(rows)
#     return k, n
# ```
# </details>
#
# Your count (or the reference's) at two learning rates:

# %%
counts = {lr: trapped_count(catalogue, "GRU", 0.05, lr, 0.0) for lr in (0.01, 0.03)}
for lr, (k, n) in counts.items():
    print(f"GRU, W_out std 0.05, entropy_coef 0, lr {lr}: {k} of {n} runs collapsed")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
(k1, n1), (k3, n3) = counts[0.01], counts[0.03]
assert n1 == n3 == 15 and k1 < k3, "more collapses at lr 0.03 than at lr 0.01"
for kappa in catalogue.values("kappa"):
    name, rows = catalogue.match("GRU", 0.05, 0.03, kappa, 0.0)
    assert name is not None and catalogue.datasets[name].trapped[rows].any(), \
        f"Think! above: at lr 0.03 collapses occur at every kappa, not at {kappa:+.1f}"

# %% [markdown]
# ## 2. How sure is "k of n"? (5 min)
#
# A rate from a few runs is uncertain. If each run collapses with unknown probability p, the
# **Wilson score interval** is the set of p that k of n does not reject at the 5 % level:
#
# $$\frac{\hat p + \frac{z^2}{2n}}{1 + \frac{z^2}{n}} \pm \frac{z}{1 + \frac{z^2}{n}}
#   \sqrt{\frac{\hat p(1-\hat p)}{n} + \frac{z^2}{4n^2}}, \qquad \hat p = k/n,\ z = 1.96.$$
#
# Unlike the familiar p-hat +- 1.96 sqrt(p-hat (1 - p-hat) / n), it does not shrink to a
# point at 0 of n or n of n. The explorer's data sets hold **2-5 seeds per setting**; the
# verdicts below rest on data sets of **20 seeds per setting** (`collapse_*`). In both,
# settings share their seeds (seed 2000 at kappa -0.4 starts from the same weights as seed
# 2000 at +0.4), so pooled runs are not fully independent: every count also says how many
# seeds it rests on.
#
# ### Exercise 2: the Wilson interval
#
# Return `(lo, hi)` for k of n, with `z = 1.959963984540054` (95 %).

# %%
def wilson_interval(k, n, z=1.959963984540054):
    """(lo, hi): the Wilson score interval for k of n."""
    ...


# %%
wilson_interval = exercises.wilson_interval.check(wilson_interval)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# import math
#
# def wilson_interval(k, n, z=1.959963984540054):
#     p = k / n
#     centre = (p + z * z / (2 * n)) / (1 + z * z / n)
#     half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
#     return centre - half, centre + half
# ```
# </details>

# %%
for k, n in ((0, 5), (2, 5), (k1, n1), (k3, n3)):
    lo, hi = wilson_interval(k, n)
    print(f"{k} of {n} runs: 95 % interval {100 * lo:.0f}-{100 * hi:.0f} %")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
lo0, hi0 = wilson_interval(0, 5)
lo2, hi2 = wilson_interval(2, 5)
assert lo0 < 1e-9 and hi0 > 0.4, "0 of 5 runs does not rule out a 40 % collapse rate"
assert lo2 < hi0, "0 of 5 and 2 of 5 have overlapping intervals: five seeds cannot tell them apart"

# %% [markdown]
# **Think!** Suppose five runs with an entropy bonus of 0.05 collapsed 0 times and five
# without it 2 times. Is the bonus proven to help?
#
# <details><summary>Answer</summary>
#
# Not by these runs alone: 0 of 5 (0-43 %) and 2 of 5 (12-77 %) overlap. Twenty seeds do
# better, and pairing does better still: section 3 shows it.
# </details>
#
# ## 3. The verdicts (10 min)
#
# One function, `verdicts.verdicts()`, computes every verdict from `data/`: a short verdict,
# a one-line takeaway and the counts it rests on. The README shows the same table, and a test
# fails if the two differ. The asserts under the table check each takeaway against its counts.

# %%
rows = verdicts.verdicts()
display(Markdown(verdicts.verdict_table(rows)))
v = {r.number: r for r in rows}

# %% [markdown]
# Every count in the table rests on 20 independent seeds per compared setting: the
# `collapse_*` data sets, 800 updates at the default settings (250 in the fast-collapse
# setting). Claim 6 is the heart of the analysis: negative kappa collapses, positive kappa
# does not. `collapse_kappa` trains kappa -0.4, 0 and +0.4 on the same 20 seeds, and the same
# seed starts from the same weights at every kappa, so the fair comparison is paired: only the
# seeds that collapse at one kappa and not at the other carry information (the exact McNemar
# test). Its counts, recomputed in the open:

# %%
ck = data.load("collapse_kappa")
collapsed = {k: ck.trapped[ck.by_seed(kappa=k)] for k in (-0.4, 0.0, 0.4)}
for k, flags in collapsed.items():
    lo, hi = wilson_interval(int(flags.sum()), len(flags))
    print(f"kappa {k:+.1f}: {flags.sum()} of {len(flags)} runs collapsed "
          f"(95 % interval {100 * lo:.0f}-{100 * hi:.0f} %)")
only_neg, only_pos, p_pair = stats.mcnemar(collapsed[-0.4], collapsed[0.4])
print(f"paired by seed: {only_neg} collapse only at -0.4, {only_pos} only at +0.4 "
      f"(exact McNemar p = {p_pair:.2f})")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
for k, flags in collapsed.items():
    c = v[6].count(f"runs collapsed, kappa {k:+.1f}")
    assert (c.k, c.n, c.seeds) == (int(flags.sum()), len(flags), 20)
# 6. no detectable kappa effect on 20 paired seeds, and collapse is common at every kappa
assert p_pair > 0.2 and all(0.15 <= f.mean() <= 0.5 for f in collapsed.values())
# 1. units die under Adam, not with eps 0.01 or SGD (paired, p < 0.001); kappa: no effect
adam1 = v[1].count("runs ending with > 10 % dead units, Adam (kappa 0)")
assert adam1.k > adam1.n / 2
assert v[1].count("runs ending with > 10 % dead units, Adam eps 0.01").k == 0
assert v[1].count("runs ending with > 10 % dead units, SGD lr 1").k <= 1
assert v[1].numbers["exact McNemar p, > 10 % dead, Adam vs Adam eps 0.01"] < 0.001
assert v[1].numbers["sign test p, dead(kappa -0.4) vs dead(kappa +0.4)"] > 0.2
assert v[1].numbers["revived fraction of units that died (nb01_gru, 2 seeds x 6 cells)"] > 0.2
# 2. the SimpleRNN learns poorly with either readout, and they do not differ beyond chance
for readout in ("relu", "tanh"):
    assert v[2].count(f"{readout} readout runs reaching the criterion").rate <= 0.2
assert v[2].numbers["exact McNemar p, criterion, relu vs tanh"] > 0.05
# 3. a large W_out gets stuck more often than the default, not less: the intervals do not
# even overlap, and paired by seed the difference is one-sided
default3, large3 = v[3].count("runs stuck, W_out std 0.05 (default)"), v[3].count(
    "runs stuck, W_out std 2")
assert default3.interval[1] < large3.interval[0]
assert v[3].numbers["exact McNemar p, stuck, std 0.05 vs 2.0"] < 0.01
# ... and std 2 starts near-deterministic (entropy < 0.2 of ln 3 = 1.1), std 0.05 near-uniform
assert v[3].numbers["initial entropy, std 2 (mean)"] < 0.2 < 0.8 < \
    v[3].numbers["initial entropy, std 0.05 (mean)"]
# 4. the sign: positive errors x1.2 at kappa = -0.2
assert np.isclose(v[4].numbers["factor on d > 0 at kappa -0.2"], 1.2)
# 5. saturation: printed zero from a gap ~15, softmax = 1 at ~17, true zero only at ~104
gaps = v[5].numbers
assert gaps["logit gap where the gradient prints 0.000000"] < \
    gaps["logit gap where float32 softmax = 1.0"] < 20
assert 100 < gaps["logit gap where the other component is exactly 0"] < 110
# 7. 0.01 prevents collapse at the default lr (paired, p < 0.05) but most of its runs end
# below entropy 0.1; a logit cap keeps entropy above 0.1 and collapses as often as no fix
none7 = v[7].count("runs collapsed, kappa -0.4, no bonus")
assert v[7].count("runs collapsed, kappa -0.4, 0.01").k < none7.k
assert v[7].numbers["exact McNemar p, kappa -0.4, no bonus vs 0.01"] < 0.05
high = v[7].count("runs at 0.01 ending with entropy > 0.1 (every kappa)")
assert high.k < high.n / 2 and v[7].numbers["final entropy at 0.01, median over runs"] < 0.1
fast_none = v[7].count("runs collapsed, fast-collapse setting, no fix")
assert v[7].count("runs collapsed, fast-collapse setting, 0.05").k < fast_none.k
assert v[7].count("runs collapsed, fast-collapse setting, logit cap 2").k >= fast_none.k
assert v[7].numbers["final entropy of the collapsed logit-cap-2 runs, min"] > 0.1
# 8. clipping never acted on a run whose gradient vanished: its norm stays below the threshold
assert v[8].count("always-aborting or never-choosing runs clipped in any of their last 50 "
                  "updates").k == 0
assert v[8].numbers["final gradient norm, always-aborting or never-choosing runs (max)"] < \
    v[8].numbers["clip threshold (global L2 norm)"] / 2
# 9. neither schedule lowers the collapse count in either setting (no paired p below 0.5);
# a lower constant lr does at the default settings
for setting in ("fast setting", "default lr"):
    for schedule in ("decaying lr", "gradual kappa"):
        assert v[9].numbers[f"exact McNemar p, {setting}, no fix vs {schedule}"] > 0.5
assert v[9].numbers["exact McNemar p, default settings, lr 0.01 vs 0.003"] < 0.05
# every count of the table rests on 20 independent seeds per compared setting (8 and 10
# pool the trapped runs of several datasets, so they hold more)
assert all(c.seeds >= 20 for r in rows for c in r.counts)
# 10. most stuck runs always abort (the whole interval lies above one half)
assert v[10].count("stuck runs that always abort").interval[0] > 0.5

# %% [markdown]
# **Reading the table.** One claim holds in substance: a deterministic policy's gradient
# vanishes (5), though through onehot(a) - pi, and it becomes tiny rather than exactly zero.
# The sign of kappa is stated backwards (4); collapse is not a risk-seeking effect (6); the
# typical collapsed run *always aborts*, a trap of the task's rewards where every advantage
# is about zero (10). A large W_out makes trapping more likely, not less (3). Units die
# because of Adam, not kappa (1). An entropy bonus is the fix that works, already at 0.01 at
# the default settings, but not by keeping entropy above 0.1 (7); schedules (9) and clipping
# (8) do not help. On 20 paired seeds, differences of 5-7 runs out of 20 are clear (p < 0.05);
# differences of 1-2 runs are not.
#
# ## 4. Diagnose a log (10 min)
#
# `diagnose_log(text)` reads a log in the upstream debug layout (Policy Entropy / Gradient
# Statistics / Log-probabilities / Advantage) and gives a verdict with its evidence. Here is
# the analysis's own "collapsed" log at step 600:

# %%
analysis_log = """
Step 600:
Advantage (delta_prime):
  Mean: -0.005360
  Positive: 36.6%
  Negative: 63.4%
Log-probabilities:
  Mean: -0.000000
  Std: 0.000000
Gradient Statistics:
  Total norm: 0.000000
Policy Entropy:
  Mean entropy: 0.000000
"""
print(analysis_log)

# %% [markdown]
# ### Exercise 3 (interpretation): why is the gradient zero?
#
# Read the log before the diagnoser does. Its gradient norm prints as zero: because the
# softmax is saturated, so onehot(a) - pi = 0 ("saturated"), because every advantage is about
# zero ("advantages"), or can the log not tell ("cannot tell")?

# %%
why_zero = ...  # "saturated", "advantages" or "cannot tell"

# %%
why_zero = exercises.why_zero.check(why_zero, analysis_log)

# %%
print(diagnose_log(analysis_log))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
diagnosis = str(diagnose_log(analysis_log))
assert diagnosis.startswith("Diagnosis: trapped") and "zero because the advantages are" in diagnosis
assert exercises.why_zero.truth(analysis_log).answer == "advantages", "the answer below"

# %% [markdown]
# <details><summary>Answer</summary>
#
# The advantages: their mean is -0.005 and notebook 03 found that this log comes from a
# network that always aborts. Every trial pays -0.5, the baseline has learned it, and every
# advantage is about zero. The policy gradient sums f(d) (onehot(a) - pi), so it is zero
# *because the advantages are*; the saturated softmax makes it smaller still but is not the
# cause (an unsaturated run in this trap is stuck too, notebook 03 section 4).
# </details>
#
# ### Exercise 4: converged, trapped or diverged?
#
# Three logs of stored runs, in the upstream layout (no behaviour):

# %%
logs = exercises.exercise_logs()
for name, text in logs.items():
    print(f"--- {name} ---\n{text}")

# %% [markdown]
# Write `classify_log(block)`: `block` is one parsed log block, a dict such as
# `{"entropy": 0.05, "grad_norm": 0.43, "adv_mean": -0.01, "adv_std": 1.37, ...}`. Return
# `"diverged"` if any value is NaN or infinite, `"trapped"` if every advantage is about zero
# (|mean| and std below 0.05), else `"converged"`. The checker also tries other stored
# blocks, so test what the rule says, not these three logs.

# %%
def classify_log(block):
    """'converged', 'trapped' or 'diverged' for one parsed log block (a dict)."""
    ...


# %%
classify_log = exercises.classify_log.check(classify_log)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# import math
#
# def classify_log(block):
#     if not all(math.isfinite(v) for v in block.values()):
#         return "diverged"
#     if abs(block["adv_mean"]) < 0.05 and block["adv_std"] < 0.05:
#         return "trapped"
#     return "converged"
# ```
# </details>
#
# Your answers next to the library's diagnoser:

# %%
answers = {}
for name, text in logs.items():
    block = {k: x for k, x in parse_log(text)[-1].items() if k != "step"}
    answers[name] = classify_log(block)
    print(f"{name}: you say {answers[name]}; diagnose_log says {diagnose_log(text).verdict}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert sorted(answers.values()) == ["converged", "diverged", "trapped"]
for name, text in logs.items():
    said = diagnose_log(text).verdict
    assert said.split()[0].rstrip(":") == {"converged": "learning", "trapped": "trapped",
                                          "diverged": "diverged"}[answers[name]]

# %% [markdown]
# **Think!** The diagnoser calls the converged log "learning (not collapsed)". Why can it not
# say "converged"?
#
# <details><summary>Answer</summary>
#
# An upstream log has no behaviour: nothing in it says whether the network picks the better
# option. A converged run and one that always picks the same side both have low entropy and
# spread advantages. A history saved by `python -m pyrl_mini train ... --out history.npz`
# has the choices; `pyrl_mini.diagnose.diagnose_history` uses them.
# </details>

# %% [markdown]
# ## Summary
#
# - Collapse here is mostly *always aborting*: every return is -0.5, every advantage about
#   zero, so the gradient is zero at any kappa.
# - The seed, a large W_out, the learning rate and an entropy bonus move the collapse count;
#   the sign of kappa, clipping and schedules do not.
# - Counts come as "k of n runs" with a Wilson interval; on 20 seeds paired across settings,
#   the exact McNemar test compares two settings using only the seeds where they disagree.
# - From a log: NaN or inf means diverged; advantages all about zero means trapped.

# %% [markdown]
# ## Bonus: the numbers behind the table, and partial logs
#
# The further numbers each verdict quotes, from the same function:

# %%
display(Markdown(verdicts.numbers_table(rows)))

# %% [markdown]
# A partial or garbled log gets one line saying what is missing, not a traceback; an
# incomplete last block (a log cut off mid-print) is dropped, and the diagnosis says so:

# %%
from pyrl_mini.diagnose import LogFormatError  # noqa: E402

for bad in ("Total norm: 7.7", "Policy Entropy:\n  Mean entropy: 0.45\n"):
    try:
        diagnose_log(bad)
    except LogFormatError as err:
        print("LogFormatError:", err)
cut = logs["log_c"] + "Update 700\nPolicy Entropy:\n  Mean entropy: 0.05"
print(diagnose_log(cut))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert any("incomplete" in c for c in diagnose_log(cut).caveats)

# %% [markdown]
# ## References
#
# - Song, Yang & Wang (2017), *eLife* 6:e21492 (pyrl).
# - Wilson (1927), Probable inference, the law of succession, and statistical inference,
#   *JASA* 22.
# - Mihatsch & Neuneier (2002), Risk-sensitive reinforcement learning, *Machine Learning* 49.
# - Mei, Xiao, Szepesvari & Schuurmans (2020), On the global convergence rates of softmax
#   policy gradient methods, ICML.
# - Ahmed, Le Roux, Norouzi & Schuurmans (2019), Understanding the impact of entropy on
#   policy optimization, ICML.
