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
# # 02 · The output layer at initialisation: is a small W_out the problem?
#
# The policy reads its action probabilities from the network through one matrix, W_out:
# logits = r W_out + b_out. The analysis lists a *small* initial W_out (std 0.05) among the
# causes of collapse and suggests 0.1 for "stronger initial gradients"; the upstream code
# refuses an all-zero W_out because it would give "zero gradients for the policy". Both are
# statements about update 0, so we can check them exactly: which gradients are zero, and
# what happens one update later. Then we train networks from seven W_out scales, three kappas
# and four seeds (plus twelve more seeds for the smallest scales) and watch the first 50 to
# 300 updates. The danger we find is at the other end of the scale, a *large* W_out, and the
# failure it makes likely strikes about a third of the small-W_out runs too: a network that
# learns to abort every trial.
#
# **You will learn**
# 1. the upstream configuration trap (`Wout: 0` meant std 0.05) and how pyrl_mini avoids it;
# 2. which gradients are exactly zero when W_out = 0, why, and what one Adam step does to
#    them;
# 3. how the W_out scale sets the initial policy: its entropy, and its chance of ever
#    reaching a choice;
# 4. whether a larger W_out learns faster or falls into "always abort", and whether kappa
#    changes that;
# 5. how this compares with the near-zero policy heads of well-tuned policy-gradient code;
# 6. what upstream's configured readout bias toward FIXATE would have done (20 seeds a cell).
#
# **Time**: about 25 minutes. Running all cells takes well under a minute on a laptop CPU.

# %%
# %matplotlib inline
import numpy as np
import torch

from pyrl_mini.lessons import nb02_wout_init as nb

torch.set_num_threads(1)

# %% [markdown]
# ## The claim
#
# The analysis (Issue 2, "Wout Initialization") quotes the upstream GRU:
#
# > "Initialize Wout with small random values. Avoid all-zero initialization because it
# > produces identical logits and zero gradients for the policy."
# > `std = self.config['Wout'] if self.config['Wout'] > 0 else 0.05`
#
# and concludes:
#
# > "Small Wout → Near-uniform policy early in training"
#
# ranking "Small Wout init" as "Medium (exacerbated by risk-seeking)" in its root-cause
# table, with the fix
#
# > "'Wout': 0.1, # Instead of default 0 (which uses 0.05)" ... "**Pros**: Stronger initial
# > gradients"
#
# Four things to test: (a) does W_out = 0 give zero policy gradients? (b) does 0.1 give
# stronger initial gradients, and does that matter? (c) is larger better? (d) does a large
# W_out make risk-seeking (kappa < 0) runs collapse more often?
#
# Conventions: kappa transform f(d) = (1 - kappa) d for d > 0, (1 + kappa) d otherwise;
# kappa < 0 is risk-seeking (positive errors x (1 - kappa), e.g. x1.4 at kappa = -0.4).

# %% [markdown]
# ## 1. The configuration trap
#
# Upstream's default config had `Wout: 0`, and the code read 0 as "use 0.05". So every
# upstream run you have seen started from std 0.05, and nobody could ask for an exact zero.
# In pyrl_mini, `wout_std` is the standard deviation, and 0 means 0.

# %%
print("upstream: Wout=0   -> std", nb.upstream_wout_std(0))
print("upstream: Wout=0.1 -> std", nb.upstream_wout_std(0.1))
w0 = nb.initial_wout(0.0)
print("pyrl_mini: wout_std=0 -> W_out of shape", tuple(w0.shape), "with",
      int(torch.count_nonzero(w0)), "non-zero entries")
assert nb.upstream_wout_std(0) == 0.05 and torch.count_nonzero(w0) == 0

# %% [markdown]
# ## 2. Update 0 with W_out = 0: which gradients vanish?
#
# With rates r_t (N units), logits z_t = r_t W_out + b_out and pi_t = softmax(z_t), the
# policy loss of a batch of B trials is L = -(1/B) sum_{valid t} log pi(a_t) f(d_t). Since
# d log pi(a) / dz = onehot(a) - pi,
#
# $$ \frac{\partial L}{\partial W_\text{out}} = -\frac1B \sum_{t} f(d_t)\, r_t^\top
#    \big(\text{onehot}(a_t) - \pi_t\big), \qquad
#    \frac{\partial L}{\partial r_t} = -\frac1B f(d_t) \big(\text{onehot}(a_t) - \pi_t\big)
#    W_\text{out}^\top . $$
#
# At W_out = 0 every pi_t = (1/3, 1/3, 1/3), so onehot(a_t) - pi_t is never zero and the
# gradient with respect to W_out is **not** zero. But every gradient that reaches the
# recurrent and input weights (and the biases and initial state behind the rates) is
# multiplied by W_out^T = 0 and is **exactly** zero. One batch of 256 trials, with the
# trainer's own loss:

# %%
st = nb.step0_gradients(wout_std=0.0, kappa=0.0, seed=0)
for name, g in st.norms().items():
    print(f"  |dL/d{name:12s}| = {g:.3g}")
formula = nb.wout_gradient(st.rates, st.actions, st.probs, st.fd, st.mask, st.trials)
print("formula vs autograd, largest difference:",
      f"{float((formula - st.grads['W_out']).abs().max()):.1e}")

# %%
norms = st.norms()
assert all(norms[n] == 0.0 for n in nb.RECURRENT_NAMES), "recurrent gradients must be 0"
assert norms["W_out"] > 1e-4 and norms["b_out"] > 1e-4, "readout gradients are not 0"
assert torch.allclose(formula, st.grads["W_out"], atol=1e-6, rtol=1e-4)

# %% [markdown]
# So the upstream comment is half right. "Identical logits": yes, at the first step. "Zero
# gradients for the policy": only for the weights *behind* W_out. The readout itself gets a
# gradient, and one update changes that.
#
# ## 3. One Adam step later
#
# Adam's first step is lr * m / (sqrt(v) + eps) with m = g and v = g^2 after bias
# correction, i.e. lr * g / (|g| + 1e-8) = **lr sign(g)** for every parameter whose gradient
# is not zero, whatever its size. So after update 0 every entry of W_out is +-0.01 (the
# learning rate), the recurrent weights have not moved (their gradient was 0), and at
# update 1 their gradient is no longer zero. The library's trainer, two updates:

# %%
f0 = nb.first_updates(wout_std=0.0, seed=0)
print("W_out before:", f"max |entry| = {float(f0['W_out_before'].abs().max()):.3g}")
print("W_out after one update: |entries| between",
      f"{float(f0['W_out_after_one'].abs().min()):.5f} and "
      f"{float(f0['W_out_after_one'].abs().max()):.5f} (lr = {f0['lr']})")
print("|dL/dW_rec| at updates 0, 1:", np.array2string(f0["grad_norm_W_rec"], precision=5))
print("|dL/dW_in|  at updates 0, 1:", np.array2string(f0["grad_norm_W_in"], precision=5))

# %%
assert np.allclose(f0["W_out_after_one"].abs().numpy(), f0["lr"], rtol=1e-3)
assert f0["grad_norm_W_rec"][0] == 0 and f0["grad_norm_W_rec"][1] > 1e-4
assert torch.count_nonzero(f0["W_rec_step0"]) == 0 and torch.count_nonzero(f0["W_rec_step1"])

# %% [markdown]
# The same sign-like first step also answers "stronger initial gradients". Start from
# W_out std 0.01 and 0.1: the recurrent gradient at update 0 is several times larger at 0.1,
# yet Adam moves the recurrent weights by the same amount, about lr per entry, in both.

# %%
for std in (0.01, 0.1):
    f = nb.first_updates(wout_std=std, seed=0)
    step = (f["W_rec_step0"].abs() / f["lr"]).median()
    print(f"wout_std={std}: |dL/dW_rec| at update 0 = {f['grad_norm_W_rec'][0]:.5f}; "
          f"median |change of W_rec entry| / lr = {float(step):.4f}")
    assert abs(float(step) - 1) < 0.01, "Adam's first step is lr per entry"

# %% [markdown]
# ## 4. Across seeds and kappas: the gradients and the policy at update 0
#
# `data/nb02_wout_early.npz`: seven W_out stds (0, 0.01, 0.05, 0.1, 0.5, 1, 2) x kappa
# (-0.4, 0, 0.4) x 4 seeds, 50 updates each, every update stored (the rebuild command is in
# `data/manifest.json`). Left: gradient norm per parameter group at update 0 (median and
# range of the 12 runs per std; exact zeros drawn at the bottom). Right: the initial policy's
# entropy H (dotted: ln 3, uniform) and mean max pi.

# %%
runs = nb.load()
early, sweep, zero = runs["early"], runs["sweep"], runs["zero"]
nb.plot_step0(early);


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

# %%
rec = paired("grad_norm_W_rec", 0.1, 0.01)
total = paired("grad_norm", 0.1, 0.01)
# recurrent gradients grow about in proportion to the std (x10 expected, 12 paired runs) ...
assert 5 < np.median(rec) < 20 and rec.min() > 3
# ... but the total, dominated by the readout, does not (within a factor 2)
assert 0.5 < np.median(total) < 2
# and against the upstream default 0.05: about x2 in the recurrent weights
assert 1 < np.median(paired("grad_norm_W_rec", 0.1, 0.05)) < 4
# at W_out = 0 the recurrent gradient is exactly 0 at update 0 and non-zero at update 1
g0 = nb.by_std(early, early.h("grad_norm_W_rec")[:, 0])[0.0]
g1 = nb.by_std(early, early.h("grad_norm_W_rec")[:, 1])[0.0]
assert np.all(g0 == 0) and np.all(g1 > 1e-4)
# the initial policy is near uniform up to std 0.1 and far from it at std 2
assert all(H0[w].min() > nb.LN3 - 0.05 for w in (0.0, 0.01, 0.05, 0.1))
assert H0[2.0].max() < 0.5

# %% [markdown]
# ## 5. Interactive demo: the initial policy (instant)
#
# Move `wout_std` (and `seed`). The network is not trained: one rollout of 64 trials gives the rates r_t,
# and pi_t = softmax(wout_std * r_t Z) for the seed's standard-normal draw Z, exactly the
# policy the trainer would start from. Left: pi(a) per time step (mean and 10-90 % band over
# trials); the grey zone is where any action but FIXATE aborts the trial. Right: the entropy
# of every step. The text gives the chance that a trial holds fixation through all 7 steps
# and reaches a choice: at a uniform policy (1/3)^7 = 4.6e-4, about 0.1 trials per batch of
# 256. Every other trial pays -0.5 whatever the network does. kappa does not enter: nothing
# has been learned yet.

# %%
initial_demo = nb.initial_policy_demo()
initial_demo

# %% [markdown]
# At a large std the start is a lottery: over 12 seeds, the chance to reach a choice at
# initialisation (mean over 64 trials):

# %%
stds = (0.0, 0.1, 0.5, 2.0)
hold = nb.hold_table(stds, seeds=12)
uniform = (1 / 3) ** 7
for j, w in enumerate(stds):
    print(f"wout_std={w:<4g}: median {np.median(hold[:, j]):.1e}, "
          f"seeds above uniform's {uniform:.1e}: {(hold[:, j] > uniform).sum()} of 12")

# %%
assert np.allclose(hold[:, 0], uniform)
# at std 2 the typical seed almost never holds fixation; a few hold it far more often
assert np.median(hold[:, 3]) < 1e-3 * uniform and (hold[:, 3] > uniform).sum() <= 4
assert hold[:, 3].max() > 100 * uniform

# %% [markdown]
# ## 6. The first 300 updates: who gets stuck?
#
# `data/nb02_wout_sweep.npz`: W_out std (0, 0.01, 0.05, 0.1, 0.5, 2) x kappa (-0.4, 0, 0.4)
# x the same 4 seeds, 300 updates, entropy_coef 0 (the upstream default). Its first 50
# updates are the same computation as the early data; checked:

# %%
same = nb.prefix_agreement(early, sweep)
print(same)
assert same["cells"] == 72 and same["max_abs_diff"] < 1e-5

# %% [markdown]
# At the end, every run is either still learning (reward about +0.7, choosing, gradient
# norm 0.2 or more) or **stuck**: it aborts every trial (or, once, never chooses), so every
# trial pays -0.5, the baseline learns V = -0.5, every advantage d is about 0 and so is the
# gradient. Nothing in between:

# %%
is_stuck = nb.stuck(sweep)
g, H, R = sweep.final("grad_norm"), sweep.final("entropy"), sweep.final("reward")
print(f"stuck runs: {is_stuck.sum()} of {len(is_stuck)}; final reward {R[is_stuck].max():+.2f}, "
      f"gradient norm <= {g[is_stuck].max():.1e}, entropy from {H[is_stuck].min():.2f} "
      f"to {H[is_stuck].max():.2f}")
print(f"other runs: final reward {R[~is_stuck].min():+.2f} .. {R[~is_stuck].max():+.2f}, "
      f"gradient norm >= {g[~is_stuck].min():.2f}")
print("criterion (abort < 5 %, higher-EV > 80 %) met within 300 updates by",
      int((sweep.arrays["updates_to_criterion"] >= 0).sum()), "of", len(is_stuck), "runs")

# %%
assert np.all(R[is_stuck] == -0.5) and g[is_stuck].max() < 1e-3 < 0.1 < g[~is_stuck].min()
# some stuck runs keep a HIGH entropy: they abort, split between left and right
assert H[is_stuck].max() > 0.5

# %% [markdown]
# Note the entropy: a stuck run can keep H = 0.7-0.9. Retrained and evaluated, the one at
# std 0.05, kappa 0.4, seed 3 starts every trial with pi = (0.15 FIXATE, 0.22 LEFT, 0.63
# RIGHT): random enough, yet it holds the 7 steps of fixation in about 0.15^7 = 2e-6 of
# trials, and aborting at step 0 or at step 6 pays the same -0.5. The analysis's signature of
# collapse (entropy 0, log-probabilities 0) would miss it; the gradient is zero because **the
# advantage** is zero, not because the policy is deterministic (notebook 03 takes this apart).
#
# How many get stuck, by W_out std (rows) and kappa (columns), 4 seeds each:

# %%
table = nb.stuck_table(sweep)
print("wout_std  " + "  ".join(f"kappa={k:+.1f}" for k in sweep.values("kappa")) + "   all")
for w in sweep.values("wout_std"):
    cells = "  ".join(f"    {table[(w, k)][0]} / {table[(w, k)][1]}"
                      for k in sweep.values("kappa"))
    print(f"{w:8g}  {cells}   {nb.stuck_rate(sweep, [w])[1]:2d} / 12")
print("(early data, 50 updates) wout_std=1:", nb.stuck_rate(early, [1.0])[1], "/ 12 stuck")

# %%
by_std_stuck = {w: nb.stuck_rate(sweep, [w])[1] for w in sweep.values("wout_std")}
# smaller is not worse: 0.01 is stuck no more often than 0.1, and 0.1 no more than 2
assert by_std_stuck[0.01] <= by_std_stuck[0.1] <= by_std_stuck[2.0]

# %% [markdown]
# ## 7. Interactive demo: the precomputed runs
#
# Pick a W_out std, a kappa and an entropy_coef. Each line is one seed (reward, entropy,
# gradient norm), coloured by how it ended; the bars on the right give the fraction of stuck
# runs for every std at this kappa and entropy_coef (the selected std in red). entropy_coef 0
# (the upstream default) shows `nb02_wout_sweep`; 0.05 shows `data/nb02_wout_entropy.npz`,
# the same seeds and settings with an entropy bonus, computed for stds 0.01, 0.05, 0.5 and 2
# only: the other stds say "not computed" (bar "n/c"). Notebook 04 studies the entropy
# bonus in depth, and the **Train** button at the end lets you try any entropy_coef with any
# W_out std.

# %%
sweep_demo = nb.sweep_demo(sweep, runs["entropy"])
sweep_demo

# %%
for demo in (initial_demo, sweep_demo):
    print(f"last redraw: {1000 * demo.last_seconds:.0f} ms")

# %% [markdown]
# ### Larger is not better
#
# A large W_out is a lottery on the initial readout. A seed whose random W_out happens to
# favour FIXATE holds fixation from the start and leaves the abort phase within 2-5 updates;
# every other seed starts out aborting with near-certainty, and nothing pulls it back (the
# chance of holding 7 steps is tiny, so no trial ever pays more than -0.5). Small stds
# all have to find fixation first and take 6-45 updates to do so. At kappa = 0,
# with one run per seed (the early data add std 1; the `zero` data add 12 seeds at 0.01):

# %%
small = [nb.stuck_rate(sweep, [0.01, 0.05, 0.1], [0.0]), nb.stuck_rate(zero, [0.01])]
large = [nb.stuck_rate(sweep, [2.0], [0.0]), nb.stuck_rate(early, [1.0], [0.0])]
k_small, n_small = sum(r[1] for r in small), sum(r[2] for r in small)
k_large, n_large = sum(r[1] for r in large), sum(r[2] for r in large)
p_large = nb.fisher_one_sided(k_large, n_large, k_small, n_small)
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

# %%
assert k_large / n_large > 0.75 and p_large < 0.05
assert 0.15 < k_small / n_small < 0.5  # "about a third" of the small-std runs
escaped_large = np.concatenate([esc[w][ok[w]] for w in (0.5, 1.0, 2.0)])
escaped_small = np.concatenate([esc[w][ok[w]] for w in (0.01, 0.05, 0.1)])
assert escaped_large.max() <= 5 < np.median(escaped_small)

# %% [markdown]
# ### Exactly zero against CleanRL's scale
#
# In the sweep, W_out = 0 got stuck in 3 of 12 runs against 2 of 12 at 0.01. The runs are
# paired: a zero W_out still draws its random numbers (and sets them to 0), so at one seed
# the two runs share every other initial weight and every trial. Four seeds is little, so
# `data/nb02_wout_zero.npz` repeats the comparison on 12 more seeds (4-15) at kappa = 0, for
# 60 updates. Is 60 updates enough to tell? For the 72 sweep runs, compare "stuck at update
# 50" with "stuck at update 300":

# %%
print(f"sweep, all kappas: W_out=0 stuck {nb.stuck_rate(sweep, [0.0])[1]}/12, "
      f"std 0.01 stuck {nb.stuck_rate(sweep, [0.01])[1]}/12")
assert (nb.stuck_rate(sweep, [0.0])[1], nb.stuck_rate(sweep, [0.01])[1]) == (3, 2)
pred = nb.stuck_agreement(early, sweep)
print(f"stuck at update 50 vs at update 300: {pred['agree']} of {pred['runs']} agree; "
      f"{len(pred['escaped_entropy'])} escaped later (their entropy at update 50: "
      f"{np.round(pred['escaped_entropy'], 2)}), {pred['late']} got stuck later")
assert pred["agree"] >= 0.9 * pred["runs"] and np.all(pred["escaped_entropy"] > 0.5)
assert pred["late"] == 0

# %% [markdown]
# Mostly yes: the runs that disagree all escaped after update 50, and they still had a high
# entropy there (still exploring); no run got stuck after update 50. So "stuck at update 60"
# slightly overcounts the runs that stay stuck. Now the zero data:

# %%
z0, z1 = nb.stuck_rate(zero, [0.0]), nb.stuck_rate(zero, [0.01])
s0, s1 = nb.stuck_rate(sweep, [0.0], [0.0]), nb.stuck_rate(sweep, [0.01], [0.0])
k0, n0, k1, n1 = z0[1] + s0[1], z0[2] + s0[2], z1[1] + s1[1], z1[2] + s1[2]
p_zero = nb.fisher_one_sided(k0, n0, k1, n1)
print(f"new seeds: W_out=0 stuck {z0[1]}/{z0[2]}, std 0.01 stuck {z1[1]}/{z1[2]}")
print(f"all 16 seeds at kappa=0: W_out=0 {k0}/{n0}, std 0.01 {k1}/{n1}; "
      f"one-sided Fisher exact p = {p_zero:.2f}")
pairs = [nb.std_pairs(zero, 0.0, 0.01), nb.std_pairs(sweep, 0.0, 0.01, kappa=0.0)]
both, only0, only1 = (sum(p[k] for p in pairs) for k in ("both", "only_a", "only_b"))
p_sign = 0.5 ** (only0 + only1) if only1 == 0 else float("nan")  # one-sided sign test
print(f"paired by seed (16 pairs): both stuck {both}, only W_out=0 stuck {only0}, only std "
      f"0.01 stuck {only1}; one-sided sign test p = {p_sign:.3f}")

# %%
# no detectable difference between 0 and 0.01: within 3 of 16 runs, and not significant ...
assert abs(k0 - k1) <= 3 and p_zero > 0.1
# ... but every seed on which the pair differs was stuck at zero and not at 0.01
assert (both, only0, only1) == (5, 3, 0) and p_sign > 0.1

# %% [markdown]
# Sixteen seeds cannot tell exact zero from CleanRL's 0.01: 8 against 5 stuck runs
# (p = 0.24). Pairing sharpens the picture a little: the two runs of a seed end the same way
# on 13 of 16 seeds, and on the 3 that differ it is the zero run that is stuck (p = 0.125
# for three in a row). A hint that exact zero might be slightly worse, not a result; either
# way a *small* W_out is not the problem the analysis says it is.

# %% [markdown]
# ### Does kappa matter here?
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

# %%
by_kappa = [nb.stuck_rate(sweep, [0.5, 2.0], [k])[1] for k in sweep.values("kappa")]
by_kappa_early = [nb.stuck_rate(early, [0.5, 1.0, 2.0], [k])[1] for k in early.values("kappa")]
# large W_out: risk-seeking is not stuck more often than risk-averse (within one run)
assert by_kappa[0] <= by_kappa[-1] + 1 and by_kappa_early[0] <= by_kappa_early[-1] + 1
assert agree / groups >= 0.6  # the seed, not kappa, decides most outcomes

# %% [markdown]
# ### Does an entropy bonus unstick them?
#
# The analysis proposes entropy regularisation as the fix. `data/nb02_wout_entropy.npz` repeats
# the sweep's runs at stds 0.01, 0.05 (small) and 0.5, 2 (large) with entropy_coef = 0.05:
# same seeds, same kappas, 300 updates, 4 seeds x 3 kappas = 12 runs per std (move the
# entropy_coef slider above to see them). The entropy term's gradient does not pass through
# the advantage, so unlike the policy-gradient term it does not vanish in a stuck run. Stuck
# runs without and with the bonus, and the paired changes (same std, kappa and seed):

# %%
ent = runs["entropy"]
changes = nb.stuck_changes(sweep, ent)
for w in ent.values("wout_std"):
    pairs, freed, caught = changes[w]
    print(f"wout_std={w:g}: stuck {nb.stuck_rate(sweep, [w])[1]}/12 at entropy_coef 0, "
          f"{nb.stuck_rate(ent, [w])[1]}/12 at 0.05 ({freed} freed, {caught} newly stuck)")
small0, small5 = nb.stuck_rate(sweep, [0.01, 0.05]), nb.stuck_rate(ent, [0.01, 0.05])
large0, large5 = nb.stuck_rate(sweep, [0.5, 2.0]), nb.stuck_rate(ent, [0.5, 2.0])
p_large = nb.fisher_one_sided(large0[1], large0[2], large5[1], large5[2])
print(f"small stds (0.01, 0.05): {small0[1]}/{small0[2]} -> {small5[1]}/{small5[2]}; "
      f"large (0.5, 2): {large0[1]}/{large0[2]} -> {large5[1]}/{large5[2]} "
      f"(one-sided Fisher p = {p_large:.3f}, though the runs are paired and not independent)")

# %%
# the bonus frees every small-std run and most large-std ones; only std 2 keeps stuck runs
assert small0[1] >= 4 and small5[1] == 0
assert large5[1] <= large0[1] - 8 and large5[1] >= 3
assert nb.stuck_rate(ent, [0.5])[1] == 0 and nb.stuck_rate(ent, [2.0])[1] == large5[1]
assert sum(c[1] for c in changes.values()) >= 15 and sum(c[2] for c in changes.values()) <= 2

# %% [markdown]
# Yes, at every std, but it does not remove the penalty of a large W_out. An entropy bonus of
# 0.05 took the small stds from 6 of 24 stuck runs to none, and the large ones from 15 of 24
# to 5 of 24: 17 paired runs freed, 1 newly stuck. All 5 runs still stuck are at std 2 (9 of 12
# stuck without the bonus, 5 of 12 with it), whose initial policy is already far from uniform
# (H <= 0.48 at update 0). So the bonus helps most where the initial policy is near uniform,
# and the advice "keep W_out small" still holds with it. Notebook 04 varies the coefficient.

# %% [markdown]
# ## 8. The readout's initial bias: which trap does a run fall into?
#
# Upstream's configuration sets one more initial value that its PyTorch code never applies:
# a readout bias `bout = [3, 0, 0]` toward FIXATE. Our networks, like that code, start with
# b_out = 0. pyrl_mini has the bias as a setting, `fixate_bias`: b_out starts at
# (fixate_bias, 0, 0). With W_out near 0 the first policy is the same at every step, so one
# softmax says where a run starts: how often a trial survives the 7 steps of fixation and
# stimulus, and how often a trial that did then makes no choice in the 8 decision steps.

# %%
from pyrl_mini import TrainSettings, analysis, data, plots, stats

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
# With b_out = 0 almost every early trial aborts: the run starts next to the "always aborts"
# trap. With the bias of 3, half of the trials hold fixation and half of those never choose:
# it starts next to the other trap, "never chooses", the analysis's own picture of collapse.
# Which trap do runs end in? `data/nb02_readout_bias.npz`: fixate_bias 0, 1.5 and 3, each
# without and with an entropy bonus of 0.05, kappa 0, 800 updates, and **20 seeds per cell**
# (seeds 1000-1019, used by no other data set). The six cells share those seeds, so the same
# seed starts from the same weights and sees the same trials in every cell but for b_out (and
# the bonus): comparisons between cells are paired, and we test them with the exact McNemar
# test on the seeds whose outcome differs.

# %%
bias = data.load("nb02_readout_bias")
modes = {(b, e): bias.mode[bias.by_seed(fixate_bias=b, entropy_coef=e)]
         for e in bias.values("entropy_coef") for b in bias.values("fixate_bias")}
trapped = {key: analysis.is_collapsed(m) for key, m in modes.items()}
for (b, e), m in modes.items():
    counts = ", ".join(f"{name.replace('_', ' ')} {int((m == i).sum())}"
                       for i, name in enumerate(analysis.MODES) if (m == i).any())
    print(f"bias {b:3g}, entropy {e:4g}: trapped {stats.frequency(trapped[b, e])}; {counts}")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
plots.plot_mode_frequencies({f"bias {b:g}\nentropy {e:g}": m for (b, e), m in modes.items()},
                            title="How 20 runs per cell end (800 updates, kappa 0)",
                            xlabel="initial FIXATE bias and entropy_coef");

# %% [markdown]
# The bias decides the trap. Without it, 2 of the 20 runs end trapped, both always aborting.
# With the upstream bias of 3, 16 of 20 do, and in other traps: 10 settle on one side whatever
# the offer, 5 never choose. Paired by seed, 14 seeds are trapped only with the bias and none
# only without it:

# %%
only_biased, only_unbiased, p_bias = stats.mcnemar(trapped[3.0, 0.0], trapped[0.0, 0.0])
print(f"trapped only with bias 3: {only_biased} seeds; only with bias 0: {only_unbiased} "
      f"(exact McNemar p = {p_bias:.5f})")
for b in bias.values("fixate_bias"):
    stuck_before, rescued = modes[b, 0.0], ~trapped[b, 0.05]
    for i, name in enumerate(analysis.MODES):
        if name in analysis.COLLAPSED_MODES and (stuck_before == i).any():
            n = int((stuck_before == i).sum())
            print(f"bias {b:g}: {n} runs {name.replace('_', ' ')} without the bonus, "
                  f"{int(((stuck_before == i) & rescued).sum())} of them not trapped with 0.05")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
n0, n3 = int(trapped[0.0, 0.0].sum()), int(trapped[3.0, 0.0].sum())
one_side, never = analysis.MODES.index("one_side"), analysis.MODES.index("never_chooses")
aborts = analysis.MODES.index("always_aborts")
# the numbers the prose quotes
assert (n0, n3, only_biased, only_unbiased) == (2, 16, 14, 0) and p_bias < 0.001
assert (modes[0.0, 0.0] == aborts).sum() == 2
assert ((modes[3.0, 0.0] == one_side).sum(), (modes[3.0, 0.0] == never).sum()) == (10, 5)
assert int(trapped[3.0, 0.05].sum()) == 16
assert (int(trapped[0.0, 0.05].sum()), int(trapped[1.5, 0.05].sum())) == (1, 2)
assert int(trapped[1.5, 0.0].sum()) == 5  # and the verdict table's intervals:
assert str(stats.frequency(trapped[0.0, 0.0])) == "2 of 20 (3-30 %)"
assert str(stats.frequency(trapped[3.0, 0.0])) == "16 of 20 (58-92 %)"
# the bonus of 0.05 does not rescue the biased runs: as many trapped with it as without
assert trapped[3.0, 0.05].sum() >= trapped[3.0, 0.0].sum() - 2
assert ((modes[3.0, 0.0] == one_side) & ~trapped[3.0, 0.05]).sum() <= 2
assert len(bias.values("fixate_bias")) == 3 and all(len(m) == 20 for m in modes.values())
for b in (0.0, 1.5):  # the bonus frees every run trapped without it; few others fall in
    assert not (trapped[b, 0.0] & trapped[b, 0.05]).any() and trapped[b, 0.05].sum() <= 3

# %% [markdown]
# And the entropy bonus that frees small-W_out runs (above) does not undo the bias: at
# fixate_bias 3 with entropy_coef 0.05, 16 of 20 runs are still trapped; none of the
# one-sided runs is freed, and the bonus frees some never-choosing runs while others fall in.
# At bias 0 and 1.5 the bonus frees every run that was trapped without it (a few other seeds,
# 1 and 2 of 20, end trapped with it). So the readout's initial bias matters
# more than kappa (notebook 05: a quarter to a third of the runs collapse at every kappa) and
# more than the W_out scale: an upstream run with its configured bias would mostly end
# trapped, often in the analysis's picture of collapse (a network that never chooses).
#
# **Think!** With fixate_bias 3 most runs settle on one side: they choose, and always the
# same side. Why is that state a trap for the policy gradient, even though the network
# chooses and its rewards vary from trial to trial?
#
# <details><summary>Answer</summary>
#
# A choice of one side pays p m of that side's option, which varies, so the advantages are not
# zero. But the baseline reads the offer, so d is the surprise of the gamble's outcome, which
# is independent of which side the policy would prefer: it carries no information about the
# other side. The gradient pushes "choose left" up after lucky trials and down after unlucky
# ones; on average that is zero. Learning to compare the two sides needs trials where the
# network chose the other side, and a near-deterministic policy almost never produces them.
# </details>

# %% [markdown]
# ## 9. Verdicts
#
# | Claim | Measured | Verdict |
# |---|---|---|
# | Upstream: all-zero W_out "produces identical logits and zero gradients for the policy" | At W_out = 0 the gradients of W_rec, W_in, gates, b and x0 are exactly 0 (12 of 12 runs), those of W_out and b_out are not; one Adam step sets every W_out entry to +-0.01 and the recurrent gradient is non-zero at update 1 (12 of 12) | **Half true, and harmless**: zero only behind W_out, for one update |
# | "Wout 0.1 ... Stronger initial gradients" | Recurrent gradient x12 vs std 0.01 (paired median of 12 runs, range 5.7-16), x1.8 vs 0.05; total gradient x1.2 and x0.9; Adam's first step moves W_rec by lr per entry at both 0.01 and 0.1 | **True for the recurrent weights only**, and Adam removes the difference |
# | "Small Wout" is a cause of collapse | Stds 0-0.1 start near uniform (H >= 1.06, ln 3 = 1.10); about a third of their runs get stuck in "always abort" (8 of 24 at 0.01-0.1, kappa 0); stuck 3, 2, 4, 5 of 12 at 0, 0.01, 0.05, 0.1 (all kappas); 0 vs 0.01 on 16 paired seeds: 8 vs 5 stuck (p = 0.24), the 3 seeds that differ all stuck at 0 (sign test p = 0.125) | **Refuted**: smaller is not worse; if anything the count rises with the std from 0.01 up; exact zero is not detectably worse than CleanRL's scale (a hint that it might be) |
# | Larger is better | Std 1-2: 7 of 8 runs stuck at kappa 0 vs 8 of 24 at 0.01-0.1 (p = 0.011); initial H at std 2 <= 0.48; survivors escape aborting in 2-5 updates | **Refuted**: a large W_out is a lottery on the initial readout, mostly lost |
# | Entropy regularisation is the fix (here at 0.05, across W_out stds) | Stuck runs at stds 0.01-0.05: 6 of 24 without, 0 of 24 with the bonus; at 0.5-2: 15 of 24 vs 5 of 24 (all 5 at std 2); 17 paired runs freed, 1 newly stuck | **True here, but partial at a large W_out**: std 2 keeps 5 of 12 stuck |
# | (not in the analysis) Upstream's initial readout bias b_out = [3, 0, 0] | 20 independent seeds per cell (kappa 0, 800 updates): trapped 2 of 20 (95 % interval 3-30 %) at bias 0, 5 of 20 at 1.5, 16 of 20 (58-92 %) at 3, mostly one side (10) or never choosing (5); paired, 14 seeds trapped only with the bias, 0 only without (McNemar p = 0.0001); with entropy_coef 0.05 still 16 of 20 at bias 3 | **The bias decides the trap**, more than kappa or the W_out scale, and an entropy bonus of 0.05 does not undo it |
# | A confident early policy makes risk-seeking runs collapse | At std 0.5-2, stuck runs at kappa -0.4 / 0 / +0.4: 5 / 5 / 5 of 8 (sweep), 9 / 9 / 9 of 12 (early); 16 of 24 (std, seed) pairs end the same at all three kappas | **Not supported**: the seed decides, kappa does not |
#
# The numbers come from the cells above, which assert them (4 seeds per std and kappa in the
# sweep and the early data, 12 more seeds in the zero data; runs of one seed at different
# kappas share their initial weights and trials, so they are not independent). What the
# analysis missed: at the default settings about a third of the runs, with any small W_out,
# are stuck within 50 updates in a state that no W_out scale avoids: the task pays -0.5 for
# aborting at step 0 and at step 6 alike, and a uniform policy holds 7 steps of fixation in
# only 0.05 % of trials.
#
# **Comparison with practice.** CleanRL initialises its policy head orthogonally with gain
# 0.01 (`layer_init(nn.Linear(64, n_actions), std=0.01)`): entries of about 0.01 / sqrt(64),
# smaller than our 0.01. Andrychowicz et al. (2021) found that initialising the last policy
# layer with 100x smaller weights was among the choices that mattered most in their PPO study
# on continuous control; it keeps the initial action distribution nearly independent of the
# observation. Our data point the same way: keep the initial policy near uniform (std <= 0.1
# here, H >= 1.06); at std 1-2 most runs got stuck. Below 0.1 our seeds could not resolve a
# difference, and exact zero did no worse than 0.01, with Adam.

# %% [markdown]
# ## Think!
#
# 1. Adam's first step is lr * sign(g) per parameter. Suppose you trained with plain SGD
#    (step = lr * g) instead. Would the W_out scale between 0 and 0.1 matter then, and how?
# 2. A stuck run has entropy 0.8 and gradient norm 0.0002. The analysis says a vanishing
#    gradient comes from a deterministic policy. What makes this gradient vanish?
#
# <details><summary>Answers</summary>
#
# 1. Yes. With SGD the recurrent weights move by lr times their gradient, which is
#    proportional to W_out (x12 from 0.01 to 0.1 above) and exactly zero at W_out = 0;
#    W_out itself grows only by lr times its small gradient (norm 0.01-0.3 at update 0). A
#    small W_out would delay every recurrent update, and "stronger initial gradients" would
#    buy speed. Adam divides each parameter's step by the running size of its own gradient, so
#    the scale cancels. The analysis's advice depends on the optimiser it does not name.
# 2. The advantage. Every trial ends with -0.5, the baseline learns V = -0.5, so
#    f(d) = f(G - V) is about 0 at every step, and the policy gradient is a sum of terms
#    f(d_t) (onehot(a_t) - pi_t) r_t: zero whatever the entropy. The way out has to come from
#    a trial that pays something else, and a policy that aborts at once never produces one.
# </details>

# %% [markdown]
# ## Exercise: the gradient with respect to W_out
#
# Write dL/dW_out for one network, from the rates r (T, B, N), the sampled actions a (T, B),
# the policy pi (T, B, 3), the transformed advantages f(d) (T, B), the mask of valid steps
# (T, B) and the number of trials B, for the loss
# L = -(1/B) sum_{valid t, b} log pi(a_t) f(d_t). The checker compares your answer with
# autograd on real batches, at W_out = 0 and at std 0.5.

# %%
def my_wout_gradient(rates, actions, probs, fd, mask, trials):
    raise NotImplementedError("use d log pi(a) / d logits = onehot(a) - pi; shape (N, 3)")


# %% [markdown]
# <details><summary>Solution</summary>
#
# ```python
# def my_wout_gradient(rates, actions, probs, fd, mask, trials):
#     onehot = torch.nn.functional.one_hot(actions, probs.shape[-1]).float()
#     weight = (fd * mask).unsqueeze(-1) * (onehot - probs)          # (T, B, 3)
#     return -torch.einsum("tbn,tba->na", rates, weight) / trials     # (N, 3)
# ```
# At W_out = 0, pi = 1/3 everywhere, so this is -(1/B) sum f(d_t) r_t^T (onehot(a_t) - 1/3):
# not zero. Multiplying by the value log pi(a) instead of its gradient (the analysis's
# "log_prob x advantage") fails the check.
# </details>

# %%
def solution_wout_gradient(rates, actions, probs, fd, mask, trials):
    onehot = torch.nn.functional.one_hot(actions, probs.shape[-1]).float()
    weight = (fd * mask).unsqueeze(-1) * (onehot - probs)
    return -torch.einsum("tbn,tba->na", rates, weight) / trials


print(nb.check_wout_gradient(solution_wout_gradient))
# Try yours: nb.check_wout_gradient(my_wout_gradient)

# %% [markdown]
# ## Train your own
#
# Press **Train** to train one network with your W_out std, kappa, entropy_coef and seed
# (about 20 updates per second; nothing runs until you press the button). Try wout_std = 1
# on a few seeds, then the same seeds with entropy_coef = 0.05.

# %%
nb.live_run_widget()

# %% [markdown]
# ## Summary
#
# - Upstream's `Wout: 0` meant std 0.05; in pyrl_mini `wout_std=0` is exactly zero.
# - At W_out = 0 the readout's own gradient, -(1/B) sum f(d) r^T (onehot(a) - pi), is not
#   zero; everything behind W_out gets exactly zero gradient for one update. Adam's first
#   step sets every W_out entry to +-lr, and learning proceeds.
# - "Stronger initial gradients" at std 0.1 is true for the recurrent weights, and Adam's
#   per-parameter normalisation makes it irrelevant.
# - Small W_out (0 to 0.1) starts near uniform and is not what makes runs fail. Large W_out
#   (1-2) starts confident and usually aborts every trial from then on. kappa did not
#   change either outcome.
# - The failure that dominates the first 50 updates, at every W_out scale, is the task's
#   "always abort" state: reward -0.5 on every trial, advantage 0, gradient 0, sometimes at
#   high entropy. Notebook 03 examines it.
# - Upstream's configured readout bias toward FIXATE (b_out = [3, 0, 0], never applied by its
#   PyTorch code) would have changed that: 16 of 20 runs end trapped with it against 2 of 20
#   without, mostly choosing one side or never choosing, and an entropy bonus of 0.05 does
#   not free them.
#
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
