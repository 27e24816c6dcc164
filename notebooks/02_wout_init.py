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
# # 02 · The output layer at initialisation: is a small W_out the problem?
#
# The policy reads its action probabilities through one matrix: logits = r W_out + b_out. The
# second suspect for the collapse is a *small* initial W_out. Its claims are about update 0,
# so we check them exactly, then count on 20 seeds how many runs end trapped with a small and
# with a large W_out.
#
# **Learning objectives.** You will
# 1. find which gradients are exactly zero at W_out = 0, by the chain rule and by autograd;
# 2. see what one Adam step does to them, and why "stronger initial gradients" does not
#    matter under Adam;
# 3. compute how the W_out scale sets the chance that a trial reaches a choice;
# 4. compare small and large W_out with intervals and a paired test.
#
# **Prerequisites.** Notebook 00 (the task, the policy loss, d log pi(a) / d logits =
# onehot(a) - pi, the trapped modes); notebook 01 (Adam's step); the chain rule.
# **Time:** about 40 minutes; Run All takes under a minute.

# %%
# %matplotlib inline
import numpy as np
import torch
from IPython.display import display

from pyrl_mini import analysis, data, plots, stats
from pyrl_mini.config import TrainSettings
from pyrl_mini.exercises import nb02 as exercises
from pyrl_mini.lessons import nb02_wout_init as nb
from pyrl_mini.trainer import evaluate, train

torch.set_num_threads(1)  # one thread: training sums in the same order on every run

# %% [markdown]
# ## 1. The claim, and a configuration trap (3 min)
#
# The written analysis that circulates with the upstream code quotes the upstream GRU: "Avoid
# all-zero initialization because it produces identical logits and zero gradients for the
# policy", and proposes "'Wout': 0.1" for "Stronger initial gradients". Does W_out = 0 zero
# the policy gradient? Do stronger initial gradients matter? Do small-W_out runs end trapped
# more often?
#
# A configuration trap first: upstream's default `Wout: 0` meant "std 0.05", so no upstream
# run started from zero. In pyrl_mini, `wout_std` is the standard deviation; 0 means 0.

# %%
print("upstream: Wout=0   -> std", nb.upstream_wout_std(0))
print("upstream: Wout=0.1 -> std", nb.upstream_wout_std(0.1))
w0 = nb.initial_wout(0.0)
print("pyrl_mini: wout_std=0 -> W_out of shape", tuple(w0.shape), "with",
      int(torch.count_nonzero(w0)), "non-zero entries")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert nb.upstream_wout_std(0) == 0.05 and torch.count_nonzero(w0) == 0

# %% [markdown]
# ## 2. Update 0 with W_out = 0: which gradients vanish? (10 min)
#
# With rates r_t (N units), logits z_t = r_t W_out + b_out and pi_t = softmax(z_t), the policy
# loss of B trials is L = -(1/B) sum_{valid t} log pi(a_t) f(d_t), with f the kappa transform.
# Since d log pi(a) / dz = onehot(a) - pi, the chain rule gives
#
# $$ \frac{\partial L}{\partial W_\text{out}} = -\frac1B \sum_{t} f(d_t)\, r_t^\top
#    \big(\text{onehot}(a_t) - \pi_t\big), \qquad
#    \frac{\partial L}{\partial r_t} = -\frac1B f(d_t) \big(\text{onehot}(a_t) - \pi_t\big)
#    W_\text{out}^\top . $$
#
# At W_out = 0 every pi_t = (1/3, 1/3, 1/3), so onehot(a_t) - pi_t is never zero: the readout
# gets a gradient. Everything behind the rates is reached only through W_out^T = 0. Autograd
# on one batch of 256 trials, with the trainer's own loss:

# %%
st = nb.step0_gradients(wout_std=0.0, kappa=0.0, seed=0)
norms = st.norms()
for name, g in norms.items():
    print(f"  |dL/d{name:12s}| = {g:.3g}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert all(norms[n] == 0.0 for n in nb.RECURRENT_NAMES), "recurrent gradients must be 0"
assert norms["W_out"] > 1e-4 and norms["b_out"] > 1e-4, "readout gradients are not 0"

# %% [markdown]
# Half right: only the weights *behind* W_out get zero gradient.
#
# ### Exercise 1: the readout's gradient
#
# Write dL/dW_out from the rates r (T, B, N), actions a (T, B), policy pi (T, B, 3), f(d)
# (T, B), the mask of valid steps (T, B) and the number of trials B. The checker compares
# with autograd at W_out = 0 and at std 0.5.

# %%
def wout_gradient(rates, actions, probs, fd, mask, trials):
    """dL/dW_out, shape (N, 3), for L = -(1/B) sum over valid (t, b) of log pi(a_t) f(d_t)."""
    ...


# %%
wout_gradient = exercises.wout_gradient.check(wout_gradient)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# def wout_gradient(rates, actions, probs, fd, mask, trials):
#     onehot = torch.nn.functional.one_hot(actions, probs.shape[-1]).float()
#     weight = (fd * mask).unsqueeze(-1) * (onehot - probs)          # (T, B, 3)
#     return -torch.einsum("tbn,tba->na", rates, weight) / trials     # (N, 3)
# ```
# Multiplying by the value log pi(a) instead of its gradient (the analysis's "log_prob x
# advantage") fails the check.
# </details>
#
# Your formula on the batch above, against autograd:

# %%
mine = wout_gradient(st.rates, st.actions, st.probs, st.fd, st.mask, st.trials)
print(f"largest difference from autograd: {float((mine - st.grads['W_out']).abs().max()):.1e}"
      f" (entries up to {float(st.grads['W_out'].abs().max()):.1e})")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert torch.allclose(mine, st.grads["W_out"], atol=1e-6, rtol=1e-4)

# %% [markdown]
# ## 3. One Adam step later (8 min)
#
# Adam's first step is lr m / (sqrt(v) + eps) with m = g and v = g^2 after bias correction:
#
# $$ \Delta\theta = -\,\mathrm{lr}\,\frac{g}{|g| + 10^{-8}} \approx -\,\mathrm{lr}\,
#    \mathrm{sign}(g) $$
#
# for every parameter whose gradient is not zero, whatever its size. So one step sets every
# W_out entry to +-lr, the recurrent weights stay put (g was 0), and then their gradient is
# no longer zero.
#
# ### Exercise 2: the recurrent gradient, before and after one Adam step
#
# `params` holds a fresh GRU policy with W_out = 0 and `loss_fn()` returns the policy loss of
# one fixed batch at the current parameters. Return |dL/dW_rec| now, and again after one
# `torch.optim.Adam` step of size lr on every parameter.

# %%
def first_adam_step(params, loss_fn, lr):
    """(|dL/dW_rec| now, |dL/dW_rec| after one Adam step of size lr on every parameter)."""
    ...


# %%
first_adam_step = exercises.first_adam_step.check(first_adam_step)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# def first_adam_step(params, loss_fn, lr):
#     loss_fn().backward()
#     before = params["W_rec"].grad.norm().item()
#     opt = torch.optim.Adam(params.values(), lr=lr)
#     opt.step()
#     opt.zero_grad()
#     loss_fn().backward()
#     return before, params["W_rec"].grad.norm().item()
# ```
# </details>
#
# Your function on the GRU of the trainer's first batch (seed 0):

# %%
params, loss_fn = exercises.policy_problem(seed=0, wout_std=0.0)
before, after = first_adam_step(params, loss_fn, lr=0.01)
wout_after = params["W_out"].detach().abs()
print(f"|dL/dW_rec| at W_out = 0: {before:.3g}; after one Adam step: {after:.3g}")
print(f"|W_out entries| after the step: {float(wout_after.min()):.5f} .. "
      f"{float(wout_after.max()):.5f} (lr = 0.01)")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert before == 0.0 and after > 1e-4
assert np.allclose(wout_after.numpy(), 0.01, rtol=1e-3)
# the trainer does the same: zero recurrent gradient at update 0, non-zero at update 1
f0 = nb.first_updates(wout_std=0.0, seed=0)
assert f0["grad_norm_W_rec"][0] == 0 and f0["grad_norm_W_rec"][1] > 1e-4
assert np.allclose(f0["W_out_after_one"].abs().numpy(), f0["lr"], rtol=1e-3)

# %% [markdown]
# The same step answers "stronger initial gradients". The trainer's first update from W_out
# std 0.01 and 0.1:

# %%
first = {std: nb.first_updates(wout_std=std, seed=0) for std in (0.01, 0.1)}
for std, f in first.items():
    moved = float((f["W_rec_step0"].abs() / f["lr"]).median())
    print(f"wout_std={std}: |dL/dW_rec| at update 0 = {f['grad_norm_W_rec'][0]:.5f}; "
          f"median |change of a W_rec entry| / lr = {moved:.4f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
grad_ratio = first[0.1]["grad_norm_W_rec"][0] / first[0.01]["grad_norm_W_rec"][0]
assert 5 < grad_ratio < 6.5, "about six times the recurrent gradient at 0.1 (seed 0)"
for f in first.values():
    assert abs(float((f["W_rec_step0"].abs() / f["lr"]).median()) - 1) < 0.01

# %% [markdown]
# At 0.1 the recurrent gradient is about six times larger on this seed (12 times, the median
# of 12 paired runs in Bonus A), yet Adam moves each recurrent weight by lr at both scales.
# "Stronger initial gradients" is true and, under Adam, irrelevant.
#
# **Think!** Suppose you trained with plain SGD (step = lr x g). Would the W_out scale
# between 0 and 0.1 matter then?
#
# <details><summary>Answer</summary>
#
# Yes. With SGD the recurrent weights move by lr times their gradient, which is proportional
# to W_out (x12 from 0.01 to 0.1, median of 12 runs) and exactly zero at W_out = 0; W_out
# itself grows only by lr times its small gradient. A small W_out would delay every recurrent
# update. Adam divides each step by the size of its own gradient, so the scale cancels: the
# analysis's advice depends on an optimiser it does not name.
# </details>
#
# ## 4. The W_out scale sets the first policy (8 min)
#
# A trial pays only if the network fixates through the 7 steps of the fixation and stimulus
# epochs, then chooses; any other action there aborts it with -0.5.
#
# **Interactive demo.** Move `wout_std` and `seed`. Nothing is trained: one rollout of 64
# trials gives the rates, and pi_t = softmax(r_t W_out) is the policy the trainer starts from.
# Left: pi(a) per step (mean, 10-90 % band; grey: steps that must be FIXATE). Right: the
# entropy of every step.

# %%
initial_demo = nb.initial_policy_demo()
display(initial_demo)

# %% [markdown]
# **Think!** Set wout_std to 2 and move through the seeds. What does a typical seed do in the
# grey zone, and what does that cost every trial? Is any seed lucky?
#
# <details><summary>Answer</summary>
#
# A typical seed puts almost all probability on one side from step 0, so nearly every trial
# aborts at once and pays -0.5: no trial pays more, so the advantages carry no signal toward
# fixating. A seed whose random W_out happens to favour FIXATE holds fixation from the start.
# Small stds start near (1/3, 1/3, 1/3) at every step, the same for every seed.
# </details>
#
# ### Exercise 3: the chance that a trial reaches a choice
#
# Given the initial policy pi (T, B, 3), return the chance that a trial fixates (action 0) on
# each of its first `hold_steps` steps, averaged over the B trials.

# %%
def hold_probability(probs, hold_steps):
    """Mean over trials of the product of pi_t(FIXATE) over t < hold_steps."""
    ...


# %%
hold_probability = exercises.hold_probability.check(hold_probability)

# %% [markdown]
# <details><summary>Solution (open after trying)</summary>
#
# ```python
# def hold_probability(probs, hold_steps):
#     return probs[:hold_steps, :, 0].prod(dim=0).mean().item()
# ```
# Averaging pi over trials first and then multiplying is a different number: trials differ.
# </details>
#
# Your function on 12 seeds, each at four stds:

# %%
stds, uniform = (0.0, 0.1, 0.5, 2.0), (1 / 3) ** nb.HOLD_STEPS
policies = [nb.InitialPolicy(seed=seed) for seed in range(12)]
reach = np.array([[hold_probability(p.probs(w), nb.HOLD_STEPS) for w in stds]
                  for p in policies]) / uniform       # (seeds, stds), relative to uniform's
print(f"uniform policy: a trial reaches a choice with probability {uniform:.1e}")
for j, w in enumerate(stds):
    r = reach[:, j]
    print(f"wout_std={w:<4g}: x uniform's, median {np.median(r):.1e}, range {r.min():.1e} .. "
          f"{r.max():.1e}; seeds at least 10 times above it: {(r >= 10).sum()} of 12")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert np.allclose(reach[:, 0], 1, rtol=1e-4) and round(256 * uniform, 2) == 0.12
assert 0.03 < reach[:, 1].min() < 0.04 and 5 < reach[:, 1].max() < 6  # std 0.1: x0.03 .. x5
# at std 2 the median seed almost never holds fixation; 2 of 12 hold it far more often
assert np.median(reach[:, 3]) < 1e-4 and (reach[:, 3] >= 10).sum() == 2

# %% [markdown]
# Uniform, a trial reaches a choice with probability (1/3)^7 = 4.6e-4, about 0.12 trials per
# batch of 256. Seven steps multiply small leanings: at std 0.1 the chance already ranges from
# 0.03 to 5 times that between seeds. At std 2 the median seed is more than ten thousand times
# below it, while 2 of 12 seeds, whose W_out happens to favour FIXATE, are over ten times
# above it: a lottery on the initial readout.

# %% [markdown]
# ## 5. Small against large W_out: how often do runs end trapped? (8 min)
#
# A run ends *trapped* when, over its last 50 updates, it always aborts, never chooses or
# always picks one side (notebook 00). We trained 20 runs at each W_out std 0.01, 0.05
# (upstream's default), 0.5 and 2, kappa 0, 800 updates, without and with an entropy bonus of
# 0.05. Every cell uses the same 20 seeds: a seed starts from the same weights (W_out the same
# draw, scaled) and sees the same trials. So each point rests on 20 independent runs, and two
# cells compare seed by seed (exact McNemar test).

# %%
base = data.load("collapse_kappa")        # std 0.05, entropy_coef 0 (and other kappas)
bonus = data.load("collapse_entropy")     # std 0.05, entropy_coef 0.01 and 0.05
scales = data.load("collapse_wout")       # std 0.01 / 0.5 / 2, entropy_coef 0 and 0.05
modes = {(0.05, 0.0): base.mode[base.by_seed(kappa=0.0)],
         (0.05, 0.05): bonus.mode[bonus.by_seed(kappa=0.0, entropy_coef=0.05)]}
for w in scales.values("wout_std"):
    for e in scales.values("entropy_coef"):
        modes[w, e] = scales.mode[scales.by_seed(wout_std=w, entropy_coef=e)]
wout_stds, coefs = sorted({w for w, _ in modes}), (0.0, 0.05)
trapped = {key: analysis.is_trapped(m) for key, m in modes.items()}   # one flag per seed
for e in coefs:
    print(f"entropy_coef {e:g}: trapped " + "; ".join(
        f"std {w:g}: {stats.frequency(trapped[w, e])}" for w in wout_stds))
small_only, large_only, p_scale = stats.mcnemar(trapped[0.01, 0.0], trapped[2.0, 0.0])
print(f"paired, entropy_coef 0: trapped only at std 0.01 on {small_only} seeds, only at std 2 "
      f"on {large_only} (exact McNemar p = {p_scale:.3f})")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
fig = plots.plot_trapped_fraction(
    {f"entropy_coef {e:g}": {w: trapped[w, e] for w in wout_stds} for e in coefs},
    xlabel="initial W_out std (log scale)",
    title="Runs that end trapped\n(20 seeds per point, kappa 0, 800 updates)")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
# every cell holds the same 20 seeds, in the same order (the pairing McNemar relies on)
seed_rows = [base.arrays["seed"][base.by_seed(kappa=0.0)],
             bonus.arrays["seed"][bonus.by_seed(kappa=0.0, entropy_coef=0.05)]]
seed_rows += [scales.arrays["seed"][scales.by_seed(wout_std=w, entropy_coef=e)]
              for w in scales.values("wout_std") for e in scales.values("entropy_coef")]
assert all(np.array_equal(r, np.arange(2000, 2020)) for r in seed_rows)
assert wout_stds == [0.01, 0.05, 0.5, 2.0] and all(len(t) == 20 for t in trapped.values())
k = {key: int(t.sum()) for key, t in trapped.items()}
# the counts the prose quotes, without and with the bonus
assert [k[w, 0.0] for w in wout_stds] == [6, 5, 15, 16]
assert [k[w, 0.05] for w in wout_stds] == [2, 1, 3, 13]
assert [str(stats.frequency(trapped[w, 0.0])) for w in wout_stds] == [
    "6 of 20 (15-52 %)", "5 of 20 (11-47 %)", "15 of 20 (53-89 %)", "16 of 20 (58-92 %)"]
# large is worse: each large std's interval lies above each small std's point, and the paired
# test on 0.01 against 2 rejects "no difference" at 5 %
for small in (0.01, 0.05):
    for large in (0.5, 2.0):
        assert stats.wilson(k[large, 0.0], 20)[0] > k[small, 0.0] / 20
assert (small_only, large_only) == (2, 12) and round(p_scale, 3) == 0.013
assert stats.mcnemar(trapped[0.05, 0.0], trapped[2.0, 0.0])[2] < 0.01
# small against small: no difference (0.01 against upstream's 0.05)
assert stats.mcnemar(trapped[0.01, 0.0], trapped[0.05, 0.0])[2] > 0.5
# the bonus frees std 0.5 (12 seeds freed, none newly trapped) but leaves std 2 trapped
assert stats.mcnemar(trapped[0.5, 0.0], trapped[0.5, 0.05])[:2] == (12, 0)
assert stats.mcnemar(trapped[0.01, 0.05], trapped[2.0, 0.05])[2] < 0.01

# %% [markdown]
# A small W_out is not the problem; a large one is. Without the bonus, 6 of 20 runs end
# trapped at std 0.01 and 5 of 20 at upstream's 0.05, against 15 and 16 of 20 at 0.5 and 2.
# Paired by seed, 12 seeds are trapped only at std 2 and 2 only at 0.01 (exact McNemar
# p = 0.013). The entropy bonus frees almost every run up to std 0.5 (2, 1 and 3 of 20 stay
# trapped), but not at std 2: 13 of 20.
#
# ## 6. The readout's initial bias: which trap does a run fall into? (6 min)
#
# Upstream's configuration sets a readout bias `bout = [3, 0, 0]` toward FIXATE that its
# PyTorch code never applies. pyrl_mini's `fixate_bias` starts b_out at (fixate_bias, 0, 0).
# With W_out near 0 the first policy is one softmax at every step: how often does a trial
# hold fixation through 7 steps, and then choose nothing in the 8 decision steps?

# %%
task = TrainSettings().task
hold, decide = task.fixation_steps + task.stimulus_steps, task.decision_steps
start = {}
for b in (0.0, 1.5, 3.0):
    p_fix = float(torch.softmax(torch.tensor([b, 0.0, 0.0]), dim=0)[0])
    start[b] = (p_fix, p_fix ** hold, p_fix ** decide)
    print(f"fixate_bias {b:3.1f}: pi(FIXATE) = {p_fix:.3f}; a trial holds fixation with "
          f"probability {p_fix ** hold:.4f}, and then chooses nothing with {p_fix ** decide:.3f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert abs(start[0.0][1] - 3.0 ** -7) < 1e-9          # 1/3^7 = 0.05 % of trials hold fixation
assert 0.5 < start[3.0][1] < 0.55 and 0.45 < start[3.0][2] < 0.5

# %% [markdown]
# With b_out = 0 a run starts next to the "always aborts" trap; with a bias of 3, half the
# trials hold fixation and half of those never choose. Where do runs end? fixate_bias 0, 1.5
# and 3, without and with an entropy bonus of 0.05, kappa 0, 800 updates, **20 seeds per
# cell** (seeds 1000-1019, shared by the six cells, so paired):

# %%
bias = data.load("nb02_readout_bias")
bias_modes = {(b, e): bias.mode[bias.by_seed(fixate_bias=b, entropy_coef=e)]
              for e in bias.values("entropy_coef") for b in bias.values("fixate_bias")}
bias_trapped = {key: analysis.is_trapped(m) for key, m in bias_modes.items()}
for (b, e), m in bias_modes.items():
    counts = ", ".join(f"{name.replace('_', ' ')} {int((m == i).sum())}"
                       for i, name in enumerate(analysis.MODES) if (m == i).any())
    print(f"bias {b:3g}, entropy {e:4g}: trapped {stats.frequency(bias_trapped[b, e])}; "
          f"{counts}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
fig = plots.plot_mode_frequencies({f"bias {b:g}\nentropy {e:g}": m
                                   for (b, e), m in bias_modes.items()},
                                  title="How 20 runs per cell end (800 updates, kappa 0)",
                                  xlabel="initial FIXATE bias and entropy_coef")

# %% [markdown]
# The bias decides the trap. Without it, 2 of the 20 runs end trapped, both always aborting.
# With upstream's bias of 3, 16 of 20 do, and in other traps: 10 settle on one side whatever
# the offer, 5 never choose. Paired by seed:

# %%
only_biased, only_unbiased, p_bias = stats.mcnemar(bias_trapped[3.0, 0.0],
                                                   bias_trapped[0.0, 0.0])
print(f"trapped only with bias 3: {only_biased} seeds; only with bias 0: {only_unbiased} "
      f"(exact McNemar p = {p_bias:.5f})")
for b in bias.values("fixate_bias"):
    stuck_before, rescued = bias_modes[b, 0.0], ~bias_trapped[b, 0.05]
    for i, name in enumerate(analysis.MODES):
        if name in analysis.TRAPPED_MODES and (stuck_before == i).any():
            n = int((stuck_before == i).sum())
            print(f"bias {b:g}: {n} runs {name.replace('_', ' ')} without the bonus, "
                  f"{int(((stuck_before == i) & rescued).sum())} of them not trapped with 0.05")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
n0, n3 = int(bias_trapped[0.0, 0.0].sum()), int(bias_trapped[3.0, 0.0].sum())
one_side, never = analysis.MODES.index("one_side"), analysis.MODES.index("never_chooses")
aborts = analysis.MODES.index("always_aborts")
# the numbers the prose quotes
assert (n0, n3, only_biased, only_unbiased) == (2, 16, 14, 0) and p_bias < 0.001
assert (bias_modes[0.0, 0.0] == aborts).sum() == 2
assert ((bias_modes[3.0, 0.0] == one_side).sum(), (bias_modes[3.0, 0.0] == never).sum()) \
    == (10, 5)
assert int(bias_trapped[3.0, 0.05].sum()) == 16
assert (int(bias_trapped[0.0, 0.05].sum()), int(bias_trapped[1.5, 0.05].sum())) == (1, 2)
assert int(bias_trapped[1.5, 0.0].sum()) == 5  # and the verdict table's intervals:
assert str(stats.frequency(bias_trapped[0.0, 0.0])) == "2 of 20 (3-30 %)"
assert str(stats.frequency(bias_trapped[3.0, 0.0])) == "16 of 20 (58-92 %)"
# the bonus of 0.05 does not rescue the biased runs: as many trapped with it as without
assert bias_trapped[3.0, 0.05].sum() >= bias_trapped[3.0, 0.0].sum() - 2
assert ((bias_modes[3.0, 0.0] == one_side) & ~bias_trapped[3.0, 0.05]).sum() == 0
assert len(bias.values("fixate_bias")) == 3 and all(len(m) == 20 for m in bias_modes.values())
for b in (0.0, 1.5):  # the bonus frees every run trapped without it; few others fall in
    assert not (bias_trapped[b, 0.0] & bias_trapped[b, 0.05]).any()
    assert bias_trapped[b, 0.05].sum() <= 3

# %% [markdown]
# 14 seeds are trapped only with the bias, none only without it. The bonus does not undo the
# bias: with it, 16 of 20 runs are still trapped at bias 3 and no one-sided run is freed. At
# bias 0 and 1.5 it frees every run trapped without it (1 and 2 other seeds fall in).
#
# **Think!** At fixate_bias 3 most runs always choose the same side. Why is that a trap for
# the policy gradient, although the rewards vary from trial to trial?
#
# <details><summary>Answer</summary>
#
# A choice of one side pays that side's gamble, which varies, so the advantages are not zero.
# But the baseline reads the offer, so d is the surprise of the gamble's outcome, which says
# nothing about the other side. The gradient pushes "choose left" up after lucky trials and
# down after unlucky ones; on average that is zero. Learning to compare the sides needs trials
# where the network chose the other side, and a near-deterministic policy almost never makes
# them.
# </details>
#
# ## Summary
#
# - At W_out = 0 only the weights *behind* W_out get zero gradient, for one update: the
#   readout's gradient is not zero, and Adam's first step sets every W_out entry to +-lr.
# - "Stronger initial gradients" at std 0.1 is true for the recurrent weights (x12 against
#   0.01, median of 12 paired runs), and Adam's per-weight normalisation makes it irrelevant.
# - The W_out scale sets the first policy: near uniform at small stds; at std 2 most seeds
#   abort nearly every trial from the start, and a few lucky ones fixate.
# - Small W_out is not the problem; a large one is: 6 and 5 of 20 runs end trapped at std
#   0.01 and 0.05, 15 and 16 of 20 at 0.5 and 2. An entropy bonus rescues 0.5, not 2.
# - Upstream's readout bias toward FIXATE, never applied by its code, would have trapped
#   16 of 20 runs (2 of 20 without): the initial value that matters.
#
# Next: notebook 03, why the policy gradient of a trapped run vanishes.

# %% [markdown]
# ## Bonus A: update 0 across seeds and kappas (4 seeds)
#
# `nb02_wout_early`: seven W_out stds (0, 0.01, 0.05, 0.1, 0.5, 1, 2) x kappa (-0.4, 0, 0.4)
# x **4 seeds**, 50 updates each, every update stored. Left: gradient norm per parameter group
# at update 0 (median and range of the 12 runs per std; exact zeros drawn at the bottom).
# Right: the initial policy's entropy H (dotted: ln 3, uniform) and mean max pi.

# %% tags=["hide-input"] jupyter={"source_hidden": true}
runs = nb.load()
early, sweep, zero = runs["early"], runs["sweep"], runs["zero"]
fig = nb.plot_step0(early)


# %%
def paired(name, a, b, update=0):
    """Ratio of a gradient norm at wout_std a to b, paired by (seed, kappa): 12 ratios."""
    def col(w):
        i = early.select(wout_std=w)
        order = np.lexsort((early.arrays["grid/kappa"][i], early.arrays["seed"][i]))
        return early.h(name)[i[order], update]
    return col(a) / col(b)


for name in ("grad_norm_W_rec", "grad_norm_W_in", "grad_norm_W_out", "grad_norm"):
    r1, r2 = paired(name, 0.1, 0.01), paired(name, 0.1, 0.05)
    print(f"{name:16s} std 0.1 / 0.01: median {np.median(r1):5.2f} [{r1.min():.2f}, "
          f"{r1.max():.2f}]   0.1 / 0.05: median {np.median(r2):5.2f} [{r2.min():.2f}, "
          f"{r2.max():.2f}]")
H0 = nb.by_std(early, early.h("entropy")[:, 0])
print("entropy at update 0 (min over 12 runs):",
      {w: round(float(v.min()), 3) for w, v in H0.items()}, " ln 3 =", round(nb.LN3, 3))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
rec = paired("grad_norm_W_rec", 0.1, 0.01)
total = paired("grad_norm", 0.1, 0.01)
# recurrent gradients grow about in proportion to the std (x10 expected, 12 paired runs) ...
assert round(float(np.median(rec))) == 12 and rec.min() > 3
# ... but the total, dominated by the readout, does not (within a factor 2)
assert 0.5 < np.median(total) < 2
# and against the upstream default 0.05: about x2 in the recurrent weights
assert 1.5 < np.median(paired("grad_norm_W_rec", 0.1, 0.05)) < 2.2
# at W_out = 0 the recurrent gradient is exactly 0 at update 0 and non-zero at update 1
g0 = nb.by_std(early, early.h("grad_norm_W_rec")[:, 0])[0.0]
g1 = nb.by_std(early, early.h("grad_norm_W_rec")[:, 1])[0.0]
assert np.all(g0 == 0) and np.all(g1 > 1e-4)
# the initial policy is near uniform up to std 0.1 and far from it at std 2
assert all(H0[w].min() > nb.LN3 - 0.05 for w in (0.0, 0.01, 0.05, 0.1))
assert H0[2.0].max() < 0.5

# %% [markdown]
# On 12 paired runs per std (4 seeds x 3 kappas), the recurrent gradient at std 0.1 is about
# 12 times that at 0.01 and about twice that at 0.05; the total gradient, dominated by the
# readout, barely changes. Up to std 0.1 the first policy is near uniform (H >= 1.06; ln 3 =
# 1.10); at std 2 it is far from it (H <= 0.48).
#
# ## Bonus B: the first 300 updates, 4 seeds
#
# `nb02_wout_sweep`: W_out std (0, 0.01, 0.05, 0.1, 0.5, 2) x kappa (-0.4, 0, 0.4) x the same
# **4 seeds**, 300 updates, entropy_coef 0. Here a run is *stuck* when it always aborts or
# never chooses: every trial pays -0.5 (a narrower word than trapped, which also counts one
# side). Its first 50 updates are the same computation as the early data; checked:

# %%
same = nb.prefix_agreement(early, sweep)
print(same)

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert same["cells"] == 72 and same["max_abs_diff"] < 1e-5

# %% [markdown]
# **Interactive demo.** Pick a W_out std, a kappa and an entropy_coef. Each line is one seed
# (reward, entropy, gradient norm), coloured by how it ended; the bars give the fraction of
# stuck runs for every std at this kappa and entropy_coef (the selected std in red).
# entropy_coef 0.05 shows `nb02_wout_entropy`, the same seeds with an entropy bonus, computed
# for stds 0.01, 0.05, 0.5 and 2 only (other stds: "n/c", not computed).

# %%
sweep_demo = nb.sweep_demo(sweep, runs["entropy"])
display(sweep_demo)

# %% [markdown]
# **Think!** At entropy_coef 0, find a stuck run whose entropy stays high. Its gradient norm is
# near zero anyway: what makes it vanish, if not a deterministic policy?
#
# <details><summary>Answer</summary>
#
# The advantage. Every trial ends with -0.5, the baseline learns V = -0.5, so f(d) = f(G - V)
# is about 0 at every step, and the policy gradient, a sum of terms f(d_t) r_t^T (onehot(a_t) -
# pi_t), is zero whatever the entropy. A way out needs a trial that pays something else, and
# a policy that aborts at once never produces one. Notebook 03 takes this apart.
# </details>
#
# At the end every run is either still learning (reward about +0.7, gradient norm above 0.1)
# or stuck at -0.5 with a gradient norm near zero. Nothing in between:

# %%
is_stuck = nb.stuck(sweep)
g, H, R = sweep.final("grad_norm"), sweep.final("entropy"), sweep.final("reward")
print(f"stuck runs: {is_stuck.sum()} of {len(is_stuck)}; final reward {R[is_stuck].max():+.2f}, "
      f"gradient norm <= {g[is_stuck].max():.1e}, entropy from {H[is_stuck].min():.2f} "
      f"to {H[is_stuck].max():.2f}")
print(f"other runs: final reward {R[~is_stuck].min():+.2f} .. {R[~is_stuck].max():+.2f}, "
      f"gradient norm >= {g[~is_stuck].min():.2f}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert np.all(R[is_stuck] == -0.5) and g[is_stuck].max() < 1e-3 < 0.1 < g[~is_stuck].min()
# some stuck runs keep a HIGH entropy: they abort, split between left and right
assert H[is_stuck].max() > 0.5

# %% [markdown]
# One of those high-entropy stuck runs, std 0.05, kappa 0.4, seed 3, retrained here (300
# updates, a few seconds) and evaluated on 256 fresh trials: its policy at the first step of a
# trial, and the chance it holds fixation (your `hold_probability`):

# %%
stuck_settings = TrainSettings(seed=3, kappa=0.4, updates=300).replace(wout_std=0.05)
stuck_run = train(stuck_settings, progress=False)
stuck_eval = evaluate(stuck_settings, stuck_run.params, trials=256)
stuck_probs = torch.as_tensor(stuck_eval["probs"][:, 0])                 # (T, B, 3)
pi_first = stuck_probs[0].mean(0).numpy()
stuck_hold = hold_probability(stuck_probs, nb.HOLD_STEPS)
print("pi at the first step (FIXATE, LEFT, RIGHT):", pi_first.round(2),
      f"; holds fixation in {stuck_hold:.1e} of trials; aborted {stuck_eval['aborted'].mean():.0%}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
i3 = [c for c in sweep.select(wout_std=0.05, kappa=0.4) if sweep.arrays["seed"][c] == 3][0]
assert is_stuck[i3] and np.isclose(stuck_run.history["entropy"][-1, 0], H[i3], atol=0.02)
assert np.allclose(pi_first, (0.15, 0.22, 0.63), atol=0.005)
assert 1e-6 < stuck_hold < 1e-5 and stuck_eval["aborted"].mean() == 1.0

# %% [markdown]
# It starts every trial with pi of about (0.15 FIXATE, 0.22 LEFT, 0.63 RIGHT): random enough,
# yet it holds the 7 steps of fixation in a few trials per million, and aborting at step 0 or
# at step 6 pays the same -0.5. The analysis's signature of collapse (entropy 0) would miss it.
#
# Stuck runs by W_out std (rows) and kappa (columns), **4 seeds** per cell:

# %%
table = nb.stuck_table(sweep)
print("wout_std  " + "  ".join(f"kappa={k:+.1f}" for k in sweep.values("kappa")) + "   all")
for w in sweep.values("wout_std"):
    cells = "  ".join(f"    {table[(w, k)][0]} / {table[(w, k)][1]}"
                      for k in sweep.values("kappa"))
    print(f"{w:8g}  {cells}   {nb.stuck_rate(sweep, [w])[1]:2d} / 12")
small = [nb.stuck_rate(sweep, [0.01, 0.05, 0.1], [0.0]), nb.stuck_rate(zero, [0.01])]
large = [nb.stuck_rate(sweep, [2.0], [0.0]), nb.stuck_rate(early, [1.0], [0.0])]
k_small, n_small = sum(r[1] for r in small), sum(r[2] for r in small)
k_large, n_large = sum(r[1] for r in large), sum(r[2] for r in large)
p_large = stats.fisher_one_sided(k_large, n_large, k_small, n_small)
print(f"stuck at kappa=0: std 1-2: {k_large}/{n_large}; std 0.01-0.1: {k_small}/{n_small}; "
      f"one-sided Fisher exact p = {p_large:.3f}")
a = early.h("abort_rate")
escape = np.where((a < 0.5).any(1), (a < 0.5).argmax(1), -1)
esc = nb.by_std(early, escape)
ok = nb.by_std(early, ~nb.stuck(early))
for w in early.values("wout_std"):
    e = esc[w][ok[w]]
    print(f"wout_std={w:<4g}: runs that escaped, first update with abort < 50 %: "
          + (", ".join(str(v) for v in sorted(e)) if len(e) else "none"))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
by_std_stuck = {w: nb.stuck_rate(sweep, [w])[1] for w in sweep.values("wout_std")}
# smaller is not worse: 0.01 is stuck no more often than 0.1, and 0.1 no more than 2
assert by_std_stuck[0.01] <= by_std_stuck[0.1] <= by_std_stuck[2.0]
assert (k_large, n_large, k_small, n_small) == (7, 8, 8, 24) and p_large < 0.05
escaped_large = np.concatenate([esc[w][ok[w]] for w in (0.5, 1.0, 2.0)])
escaped_small = np.concatenate([esc[w][ok[w]] for w in (0.01, 0.05, 0.1)])
assert escaped_large.max() <= 5 < np.median(escaped_small)

# %% [markdown]
# On these 4 seeds a large W_out looked worse: at kappa 0, 7 of 8 runs at std 1-2 got stuck
# against 8 of 24 at 0.01-0.1 (the 24 include 12 more seeds from `nb02_wout_zero`). The few
# large-std runs that escaped did so within 2-5 updates (a lucky readout that favours
# FIXATE); small stds took longer. Section 5's 20 seeds per point confirm this hint.
#
# ## Bonus C: exactly zero against CleanRL's scale
#
# In the sweep, W_out = 0 got stuck in 3 of 12 runs against 2 of 12 at 0.01 (**4 seeds** x 3
# kappas). A zero W_out still draws its random numbers (and sets them to 0), so at one seed
# the two runs share every other initial weight and every trial: they are paired.
# `nb02_wout_zero` repeats the comparison on 12 more seeds (4-15) at kappa 0, for 60 updates.
# Is 60 updates enough? For the 72 sweep runs, "stuck at update 50" against "stuck at update
# 300":

# %%
pred = nb.stuck_agreement(early, sweep)
print(f"stuck at update 50 vs at update 300: {pred['agree']} of {pred['runs']} agree; "
      f"{len(pred['escaped_entropy'])} escaped later (their entropy at update 50: "
      f"{np.round(pred['escaped_entropy'], 2)}), {pred['late']} got stuck later")
z0, z1 = nb.stuck_rate(zero, [0.0]), nb.stuck_rate(zero, [0.01])
s0, s1 = nb.stuck_rate(sweep, [0.0], [0.0]), nb.stuck_rate(sweep, [0.01], [0.0])
k0, m0, k1, m1 = z0[1] + s0[1], z0[2] + s0[2], z1[1] + s1[1], z1[2] + s1[2]
p_zero = stats.fisher_one_sided(k0, m0, k1, m1)
pairs = [nb.std_pairs(zero, 0.0, 0.01), nb.std_pairs(sweep, 0.0, 0.01, kappa=0.0)]
both, only0, only1 = (sum(p[k] for p in pairs) for k in ("both", "only_a", "only_b"))
p_sign = stats.sign_test(only0, only1)
print(f"all 16 seeds at kappa=0: W_out=0 stuck {k0}/{m0}, std 0.01 {k1}/{m1} "
      f"(one-sided Fisher p = {p_zero:.2f}); paired: both stuck {both}, only W_out=0 {only0}, "
      f"only 0.01 {only1} (exact McNemar p = {p_sign:.2f})")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert (nb.stuck_rate(sweep, [0.0])[1], nb.stuck_rate(sweep, [0.01])[1]) == (3, 2)
assert pred["agree"] >= 0.9 * pred["runs"] and np.all(pred["escaped_entropy"] > 0.5)
assert pred["late"] == 0
# no detectable difference between 0 and 0.01: within 3 of 16 runs, and not significant ...
assert (k0, k1) == (8, 5) and round(p_zero, 2) == 0.24
# ... and every seed on which the pair differs was stuck at zero and not at 0.01
assert (both, only0, only1) == (5, 3, 0) and p_sign == 0.25

# %% [markdown]
# Stuck at update 50 predicts stuck at update 300 in almost every run; the few that disagree
# escaped later and still had a high entropy at update 50. On 16 seeds at kappa 0, exact zero
# got stuck in 8 runs and std 0.01 in 5 (p = 0.24); on the 3 seeds where the pair differs,
# the zero run is the stuck one (paired p = 0.25). Not a detectable difference.
#
# ## Bonus D: does kappa matter here? (4 seeds)
#
# The analysis expects risk-seeking runs (kappa < 0) with a confident early policy to collapse
# more. Stuck runs at each kappa, and how often a (std, seed) pair ends the same way at all
# three kappas:

# %%
for k in sweep.values("kappa"):
    print(f"kappa={k:+.1f}: all stds {nb.stuck_rate(sweep, sweep.values('wout_std'), [k])[1]}"
          f"/24; std 0.5-2 {nb.stuck_rate(sweep, [0.5, 2.0], [k])[1]}/8 (sweep), "
          f"std 0.5-2 {nb.stuck_rate(early, [0.5, 1.0, 2.0], [k])[1]}/12 (early)")
groups, agree = nb.kappa_agreement(sweep)
print(f"(std, seed) pairs that end the same way at every kappa: {agree} of {groups}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
by_kappa = [nb.stuck_rate(sweep, [0.5, 2.0], [k])[1] for k in sweep.values("kappa")]
by_kappa_early = [nb.stuck_rate(early, [0.5, 1.0, 2.0], [k])[1] for k in early.values("kappa")]
assert by_kappa == [5, 5, 5] and by_kappa_early == [9, 9, 9]
assert (agree, groups) == (16, 24)  # the seed, not kappa, decides most outcomes

# %% [markdown]
# At std 0.5-2, 5 / 5 / 5 of 8 runs got stuck at kappa -0.4 / 0 / +0.4 (4 seeds), and 16 of
# 24 (std, seed) pairs end the same way at all three kappas: the seed decides, not kappa.
#
# ## Bonus E: the entropy bonus on the same 4 seeds
#
# `nb02_wout_entropy` repeats the sweep's runs at stds 0.01, 0.05, 0.5 and 2 with
# entropy_coef 0.05 (**4 seeds** x 3 kappas = 12 runs per std). The entropy term's gradient
# does not pass through the advantage, so it does not vanish in a stuck run:

# %%
ent = runs["entropy"]
changes = nb.stuck_changes(sweep, ent)
for w in ent.values("wout_std"):
    n_pairs, freed, caught = changes[w]
    print(f"wout_std={w:g}: stuck {nb.stuck_rate(sweep, [w])[1]}/12 at entropy_coef 0, "
          f"{nb.stuck_rate(ent, [w])[1]}/12 at 0.05 ({freed} freed, {caught} newly stuck)")
small0, small5 = nb.stuck_rate(sweep, [0.01, 0.05]), nb.stuck_rate(ent, [0.01, 0.05])
large0, large5 = nb.stuck_rate(sweep, [0.5, 2.0]), nb.stuck_rate(ent, [0.5, 2.0])
print(f"small stds (0.01, 0.05): {small0[1]}/{small0[2]} -> {small5[1]}/{small5[2]}; "
      f"large (0.5, 2): {large0[1]}/{large0[2]} -> {large5[1]}/{large5[2]}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert (small0[1], small5[1], large0[1], large5[1]) == (6, 0, 15, 5)
assert nb.stuck_rate(ent, [0.5])[1] == 0 and nb.stuck_rate(ent, [2.0])[1] == 5
assert sum(c[1] for c in changes.values()) == 17 and sum(c[2] for c in changes.values()) == 1

# %% [markdown]
# With the bonus, the small stds went from 6 of 24 stuck runs to none and the large ones from
# 15 of 24 to 5 of 24, all 5 at std 2 (4 seeds; 17 paired runs freed, 1 newly stuck). Stuck
# counts only aborting and never choosing: section 5's figure counts every trapped mode on
# 20 seeds.
#
# ## Bonus F: the verdicts, and practice
#
# Each claim of the written analysis (and one it missed), what this notebook measured, and
# the verdict. Frequencies are k of n independent runs with 95 % Wilson intervals.
#
# - **All-zero W_out "produces identical logits and zero gradients for the policy"**
#   (upstream). At W_out = 0 the gradients of everything behind W_out are exactly 0 (12 of 12
#   runs, 4 seeds x 3 kappas), those of W_out and b_out are not; one Adam step sets every
#   W_out entry to +-0.01, and the recurrent gradient is non-zero from update 1.
#   **Half true, and harmless**: zero only behind W_out, for one update.
# - **"Wout 0.1 ... Stronger initial gradients."** The recurrent gradient at std 0.1 is x12
#   that at 0.01 and about x2 that at 0.05 (paired medians of 12 runs, 4 seeds); the total
#   barely changes; Adam's first step moves each recurrent weight by lr at 0.01 and at 0.1.
#   **True for the recurrent weights, and irrelevant under Adam.**
# - **"Small Wout" is a cause of collapse.** Trapped 6 of 20 (15-52 %) at std 0.01 and 5 of
#   20 (11-47 %) at 0.05; paired, no difference between them. **Refuted.**
# - **Larger is better.** Trapped 15 of 20 (53-89 %) at std 0.5 and 16 of 20 (58-92 %) at 2;
#   paired against 0.01, 12 seeds trapped only at std 2 and 2 only at 0.01 (McNemar
#   p = 0.013; 20 seeds). **Refuted: a large W_out is worse.**
# - **An entropy bonus is the fix** (0.05 here). Trapped 2, 1, 3 and 13 of 20 at std 0.01,
#   0.05, 0.5 and 2; at 0.5 it frees 12 seeds and traps none. **True up to std 0.5, not at
#   std 2.**
# - **(Not in the analysis) upstream's readout bias b_out = [3, 0, 0].** Trapped 2 of 20
#   (3-30 %) without it, 16 of 20 (58-92 %) with it, mostly one side (10) or never choosing
#   (5); paired, 14 seeds trapped only with the bias, none only without (McNemar p = 0.0001);
#   16 of 20 still trapped with the bonus. **The bias decides the trap.**
# - **A confident early policy makes risk-seeking runs collapse.** At std 0.5-2, stuck 5 / 5 / 5
#   of 8 runs at kappa -0.4 / 0 / +0.4, and 16 of 24 (std, seed) pairs end the same at all
#   three kappas (4 seeds, Bonus D). **Not supported**: the seed decides, not kappa.
#
# **Comparison with practice.** CleanRL initialises its policy head orthogonally with gain
# 0.01 (`layer_init(nn.Linear(64, n_actions), std=0.01)`): entries of about 0.01 / sqrt(64).
# Andrychowicz et al. (2021) found that initialising the last policy layer with 100x smaller
# weights was among the choices that mattered most in their PPO study on continuous control;
# it keeps the initial action distribution nearly independent of the observation.
#
# ## Bonus G: train your own
#
# Press **Train** to train one network with your W_out std, kappa, entropy_coef and seed
# (about 20 updates per second; nothing runs until you press the button). Try wout_std = 1
# on a few seeds, then the same seeds with entropy_coef = 0.05.

# %%
nb.live_run_widget()

# %% [markdown]
# **Think!** Train wout_std = 1 at seeds 0 to 4, then the same seeds at wout_std 0.01. Before
# you press the button: which runs will show an abort rate near 1 after 20 updates, and why
# can you tell from the initial-policy demo of section 4?
#
# <details><summary>Answer</summary>
#
# The seeds whose initial policy at std 1 puts little probability on FIXATE during the 7
# fixation steps abort almost every trial from the start and usually stay there; at 0.01 every
# seed starts near uniform and first has to find fixation, which most do within tens of
# updates. The demo shows each seed's starting policy, so it predicts which large-W_out runs
# start in the aborting state.
# </details>

# %% [markdown]
# ## References
#
# - Andrychowicz, M. et al. (2021). What matters for on-policy deep actor-critic methods? A
#   large-scale study. *ICLR 2021* (arXiv:2006.05990, "What matters in on-policy
#   reinforcement learning?").
# - Huang, S. et al. (2022). CleanRL: high-quality single-file implementations of deep
#   reinforcement learning algorithms. *JMLR* 23(274). (`ppo.py`: policy head `std=0.01`.)
# - Kingma, D. P. & Ba, J. (2015). Adam: a method for stochastic optimization. *ICLR 2015*.
# - Song, H. F., Yang, G. R. & Wang, X.-J. (2017). Reward-based training of recurrent neural
#   networks for cognitive and value-based tasks. *eLife* 6:e21492.
# - Williams, R. J. (1992). Simple statistical gradient-following algorithms for
#   connectionist reinforcement learning. *Machine Learning* 8, 229-256.
