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
# A recurrent network learns a monkey's gambling task by policy gradient. Make the gradient
# *risk-sensitive*, weighting good and bad surprises differently with a parameter kappa, and
# for some settings training dies: entropy, log-probabilities and gradient norm go to zero.
# This collection tests a written diagnosis of that failure; this notebook builds the tools.
#
# **Learning objectives.** You will
# 1. know the gambling task and why its equal-EV pairs measure risk preference;
# 2. derive REINFORCE with a baseline and the identity d log pi(a) / d logits = onehot(a) - pi;
# 3. derive what a kappa-weighted baseline learns (an expectile) and why kappa < 0 then
#    prefers the riskier of two equal-EV gambles;
# 4. write a kappa-weighted policy loss and read one update of the library's trainer.
#
# **Prerequisites.** Softmax, expected value, gradient descent, some PyTorch. **Time:** about
# 40 minutes; Run All takes under a minute.
#
# **Roadmap.** Each later notebook tests one suspect:
#
# | notebook | suspect |
# | --- | --- |
# | 01 | dead ReLU units |
# | 02 | a small initialisation of the readout W_out |
# | 03 | a deterministic policy's vanishing gradient, and traps in the task itself |
# | 04 | too little exploration: the entropy bonus and its alternatives |
# | 05 | all of them at once: an explorer and the verdicts |
#
# **Glossary** (used throughout the collection)
#
# | term | meaning |
# | --- | --- |
# | upstream | pyrl (Song, Yang & Wang 2017), the code whose failure is diagnosed |
# | return G_t | reward collected from step t to the end of the trial |
# | baseline V_t | a second network's prediction of G_t |
# | advantage d_t | G_t - V_t: how much better the trial went than predicted |
# | kappa | risk parameter in (-1, 1); scales d > 0 by 1 - kappa and d <= 0 by 1 + kappa |
# | expectile | the value v where tau E[(R - v)+] = (1 - tau) E[(v - R)+]; tau = 1/2 gives the mean |
# | entropy H | -sum_a pi(a) log pi(a); 0 for a deterministic policy, log 3 for a uniform one |
# | dead unit | a ReLU unit whose rate is exactly 0 on every step of a batch |
# | dormant unit | a unit whose mean activity is a small fraction of the layer's |
# | saturation | a softmax so peaked that float32 rounds its top probability to exactly 1 |
# | converged | rarely aborts, picks the higher-EV option |
# | learning | none of the modes below yet |
# | always aborts / never chooses / one side | trapped modes: breaks fixation, never leaves it, or picks one side, whatever the offer |

# %%
# %matplotlib inline
import numpy as np
import torch

from pyrl_mini import TrainSettings, analysis, data, plots, tasks, widgets
from pyrl_mini.exercises import nb00 as exercises
from pyrl_mini.trainer import Ensemble, train

torch.manual_seed(0)
torch.set_num_threads(1)  # one thread: training sums in the same order on every run
grid = data.load("nb00_main_grid")  # networks trained ahead of time (sections 4 and 6)

# %% [markdown]
# ## 1. The gambling task (5 min)
#
# After Nakazawa, Isa & Sasaki (2023), as ported in pyrl. A trial shows two options, each a
# probability p and a magnitude m. Epochs: **fixation** (hold still), **stimulus** (options
# shown, still hold), **decision** (fixation cue off: choose). Actions: FIXATE, CHOOSE-LEFT,
# CHOOSE-RIGHT. Aborting (breaking fixation early) and not choosing are penalised; a choice
# pays m with probability p, else 0. Inputs code log p and log m, rescaled, so log EV is
# linear in them.

# %%
task = TrainSettings().task
print(f"{task.steps} steps per trial; abort pays {task.abort_penalty}, "
      f"no choice pays {task.no_choice_penalty}")
plots.plot_trial(task, left=7, right=17);

# %% [markdown]
# The 25 options: magnitudes m = EV / p make **each column one expected value** over all five
# probabilities. A pair from one column differs in risk alone; the lower-p option is riskier.

# %% tags=["hide-input"] jupyter={"source_hidden": true}
plots.plot_option_grid();
ev = (tasks.OPTION_P * tasks.OPTION_MAGNITUDE).reshape(5, 5)
assert np.allclose(ev, ev[0]), "each EV column must have one expected value"
assert len(tasks.OPTION_P) == 25 and len(tasks.PROBABILITIES) == 5

# %% [markdown]
# ## 2. The policy gradient, derived (10 min)
#
# The policy pi_theta gives the probabilities of the three actions. We want to raise
# J(theta) = E[R], the expected reward of a trial. With the log-derivative trick,
# grad pi = pi grad log pi,
#
# $$\nabla_\theta J = \mathbb{E}\Big[\sum_t \nabla_\theta \log \pi_\theta(a_t \mid s_t)\, G_t\Big]$$
#
# (an action cannot change earlier rewards, so only G_t counts). A baseline V_t that does not
# depend on a_t can be subtracted, because E_a[grad log pi(a)] = sum_a grad pi(a) = grad 1 = 0.
# So REINFORCE with a baseline uses the advantage d_t = G_t - V_t: the sampled action's
# log-probability goes up when the trial went better than predicted, down when worse.
#
# With logits z and pi = softmax(z), log pi(a) = z_a - log sum_j exp z_j, so
#
# $$\frac{\partial \log \pi(a)}{\partial z_j} = \mathbb{1}[j = a] - \pi_j ,
# \qquad\text{i.e.}\qquad \nabla_z \log \pi(a) = \mathrm{onehot}(a) - \pi .$$
#
# The identity, computed both ways:

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
# Two consequences: the components sum to zero over actions, and when pi puts all its mass
# on a, onehot(a) - pi = 0: a deterministic policy gets no gradient (notebook 03).
#
# ## 3. The kappa transform (5 min)
#
# Mihatsch & Neuneier (2002) transform the advantage:
#
# $$ f(d) = \begin{cases} (1-\kappa)\,d & d > 0 \\ (1+\kappa)\,d & d \le 0 \end{cases}
# \qquad -1 < \kappa < 1 .$$
#
# kappa < 0 weights good surprises more (**risk-seeking**), kappa > 0 bad ones
# (**risk-averse**). The written analysis that circulates with the upstream code says
# "Risk-seeking amplifies: `δ' = 1.2 × δ` (for negative δ)"; the formula says the opposite:
# at kappa = -0.2 the *positive* errors are multiplied by 1.2.
#
# ### Exercise 1: write f(d)
#
# Fill in the body (`torch.where(condition, a, b)` picks elementwise), then run the next
# cell: it checks *your* function.

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
#
# Your f (or the reference, if yours is not done) at three kappa:

# %%
d = torch.tensor([1.0, -1.0])
for kappa in (-0.2, 0.0, 0.2):
    up, down = kappa_transform(d, kappa) * torch.tensor([1.0, -1.0])
    print(f"kappa={kappa:+.1f}: d > 0 scaled by {up:.1f}, d < 0 scaled by {down:.1f}")
plots.plot_kappa_transform();

# %% tags=["hide-input"] jupyter={"source_hidden": true}
up, down = kappa_transform(d, -0.2) * torch.tensor([1.0, -1.0])
assert np.isclose(up, 1.2) and np.isclose(down, 0.8), "kappa=-0.2: x1.2 on d > 0, x0.8 on d < 0"

# %% [markdown]
# ## 4. What a kappa-weighted baseline learns: an expectile (10 min)
#
# The baseline follows V <- V + lr f(R - V). It stops moving, on average, where the expected
# step is zero, E[f(R - V)] = 0, that is
#
# $$ (1-\kappa)\,\mathbb{E}[(R - V)_+] = (1+\kappa)\,\mathbb{E}[(V - R)_+] .$$
#
# Divide both sides by 2 and write tau = (1 - kappa) / 2: this is
# tau E[(R - V)+] = (1 - tau) E[(V - R)+], the definition of the **tau-expectile** of R.
# kappa = 0 gives tau = 1/2, the mean; kappa < 0 gives tau > 1/2, a value above the mean.
#
# ### Exercise 2: derive the risk-sensitive value of a gamble
#
# A gamble pays m with probability p, else 0. Write the condition above for its two outcomes
# and solve it for V: `gamble_value(p, m, kappa)`, without simulating. The cells after the
# checker run the update on samples against your value, then ask which option of an equal-EV
# pair a kappa = -0.4 network prefers.

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
#
# The update on samples, against your value (or the reference's):

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
# **Why kappa < 0 picks the riskier gamble.** Choosing an option raises its probability by,
# on average, f(d) after it, which is positive exactly when the baseline V lies below the
# option's tau-expectile. So the larger expectile wins. Two options of equal EV:

# %%
ev = 1.0
risky, safe = gamble_value(0.1, ev / 0.1, -0.4), gamble_value(0.9, ev / 0.9, -0.4)
print(f"kappa=-0.4, EV {ev}: value of p=0.1 {risky:.2f}, of p=0.9 {safe:.2f}")
kappas, risky_rate = analysis.risk_preference(grid, entropy_coef=0.0)
at = list(kappas).index(-0.4)
print("trained kappa=-0.4 networks (3 seeds): lower-p choices on equal-EV pairs",
      ", ".join(f"{r:.2f}" for r in risky_rate[at]))

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert risky > safe, "the expectile predicts the lower-p option at kappa < 0"
assert np.nanmean(risky_rate[at]) > 0.5, "and the trained networks prefer it"

# %% [markdown]
# At kappa < 0 the lower-p option has the larger expectile, and the trained networks choose
# it more often; at kappa > 0 both reverse.
#
# ## 5. One update of training, in the open (10 min)
#
# The trainer (`pyrl_mini.trainer.train`) runs B trials, computes G_t and V_t, and minimises
#
# $$ L = -\frac{1}{B}\sum_{\text{valid } t,\, b} \log\pi(a_t)\, f(d_t)
#        \;-\; c_H\, \overline{H} $$
#
# with f(d) held constant, "valid" steps those before the trial ended, and c_H the
# `entropy_coef` on the mean entropy.
#
# ### Exercise 3: the kappa-weighted policy loss
#
# Finish it for a small batch: `logits` (time, trials, 3); `actions`, advantages `d` and a
# 0/1 `mask`, each (time, trials). The checker compares your loss's gradient with the
# trainer's.

# %%
def policy_loss(logits, actions, d, mask, kappa, entropy_coef=0.0):
    """-(sum over valid steps of log pi(a_t) f(d_t)) / trials - entropy_coef * mean H."""
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
# Now the library itself: one update with a plain gradient step (`policy_optimizer="sgd"`, no
# clipping), theta_after = theta - lr grad L, read back from the parameters:

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
# The b_out gradient is -(1/B) sum f(d_t)(onehot(a_t) - pi_t): its components sum to zero,
# as section 2 predicts. Training repeats this update (with Adam): 300 updates at kappa = 0,
# shown after you predict.

# %%
live = train(TrainSettings(updates=300, seed=1), desc="300 updates")
h = live.member(0)

# %% [markdown]
# ### Exercise 4 (prediction): which is learned first?
#
# The network must learn to hold fixation through 7 steps and to pick the higher-EV offer.
# Which will this run do first: abort under 20 % of trials ("fixation"), choose the higher-EV
# offer over 60 % of the time ("choice"), or both within 20 updates ("together")?

# %%
learned_first = ...  # "fixation", "choice" or "together"

# %%
learned_first = exercises.learned_first.check(learned_first, h)

# %%
plots.plot_curves(np.arange(live.updates_done), h, smooth=10,
                  names=("reward", "abort_rate", "higher_ev_rate", "entropy"));

# %% tags=["hide-input"] jupyter={"source_hidden": true}
first, last = h["abort_rate"][:20].mean(), h["abort_rate"][-20:].mean()
assert last < 0.1 < first, "the network learns to hold fixation"
assert np.nanmean(h["higher_ev_rate"][-20:]) > 0.6, "and to prefer the higher-EV option"
assert exercises.learned_first.truth(h).answer == "fixation", "the answer below"

# %% [markdown]
# <details><summary>Answer</summary>
#
# Holding fixation comes first: the abort rate falls before the higher-EV rate rises. An
# aborted trial pays a penalty whatever the offer, so every trial teaches fixation, while
# choosing well is rewarded only on trials that reach the decision, and only on average.
# </details>
#
# ## 6. Interactive demo: does kappa move risk preference? (5 min)
#
# `data/nb00_main_grid.npz` holds networks trained ahead for 1000 updates: kappa -0.4 to 0.4,
# entropy_coef 0, 0.01 or 0.05, 3 seeds each. Left: how often each picks the lower-p option of
# an equal-EV pair. Right: choices by the log p and log EV differences between the options.

# %%
widgets.kappa_demo(grid)

# %% [markdown]
# The trend: a least-squares line through every run's lower-p choice rate against kappa.

# %%
def kappa_slope(entropy_coef):
    kappas, rates = analysis.risk_preference(grid, entropy_coef)
    x, y = np.repeat(kappas, rates.shape[1]), rates.ravel()
    ok = np.isfinite(y)  # NaN: a run that stopped choosing
    (slope, intercept), cov = np.polyfit(x[ok], y[ok], 1, cov=True)
    return slope, np.sqrt(cov[0, 0])


slopes = {c: kappa_slope(c) for c in grid.values("entropy_coef")}
for c, (slope, se) in slopes.items():
    print(f"entropy_coef={c:g}: slope {slope:+.2f} +- {se:.2f} (standard error)")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert all(s < 0 and abs(s) > 3 * se for s, se in slopes.values()), "falls at every entropy_coef"
assert grid.meta["spec"]["seeds"] == [0, 1, 2] and grid.meta["spec"]["base"]["updates"] == 1000
assert np.allclose(grid.values("kappa"), [-0.4, -0.2, 0, 0.2, 0.4])
assert np.allclose(grid.values("entropy_coef"), [0, 0.01, 0.05])
low, high = risky_rate[list(kappas).index(-0.4)], risky_rate[list(kappas).index(0.4)]
for k, sign in ((-0.4, 1), (0.4, -1)):  # the heatmap's middle row (equal EV), Think! below
    xs, ys, table, n = plots.pooled_choice_table(grid, k, 0.0)
    row, cnt, j = table[:, np.argmin(np.abs(ys))], n[:, np.argmin(np.abs(ys))], xs < 0
    lower_p_left = np.nansum(row[j] * cnt[j]) / cnt[j].sum()
    higher_p_left = np.nansum(row[xs > 0] * cnt[xs > 0]) / cnt[xs > 0].sum()
    assert sign * (lower_p_left - 0.5) > 0 and sign * (0.5 - higher_p_left) > 0
assert np.nanmean(low) > 0.5 > np.nanmean(high), "risk-seeking above 0.5, risk-averse below"
both = np.isfinite(low) & np.isfinite(high)
assert both.sum() >= 2 and np.all(low[both] - high[both] > 0.2), "each seed, 20 points apart"

# %% [markdown]
# **Verdict: kappa does what its name says.** With 3 seeds per kappa (the same seeds at each),
# lower-p choices fall as kappa rises, many standard errors from flat: above one half at
# kappa = -0.4, below at +0.4 (entropy_coef = 0); each seed choosing at both ends is at least
# 20 points more risk-seeking at -0.4.
#
# **Think!** Move the entropy_coef slider. Does the exploration bonus remove the kappa effect?
# Then compare the heatmap at kappa = -0.4 and +0.4 on its middle row (equal EV).
#
# <details><summary>Answer</summary>
#
# No: the slope is negative, many standard errors from zero, at every entropy_coef (the cell
# above). On the middle row, where EV is equal, kappa = -0.4 networks choose left mostly when
# left has the lower p (left half red), kappa = +0.4 networks when it has the higher p.
# </details>
#
# ## 7. Converged or collapsed? (5 min)
#
# A deterministic policy is not by itself a failure: one that always picks the better option
# has low entropy and small gradients too. *Collapse* is a deterministic policy in a trapped
# mode. The modes of the grid's runs:

# %%
counts = {mode: int(np.sum(grid.mode == i)) for i, mode in enumerate(analysis.MODES)}
print(counts)
trapped_kappas = grid.arrays["grid/kappa"][grid.trapped]
print("kappa of the trapped runs:", trapped_kappas.tolist(), "of", len(grid.mode), "runs")

# %% tags=["hide-input"] jupyter={"source_hidden": true}
assert grid.trapped.mean() < 0.2, "collapse is the exception at the default settings"
assert (trapped_kappas >= 0).any(), "at least one collapse at kappa >= 0"

# %% [markdown]
# Collapse is rare here, and not only at risk-seeking kappa (notebook 03 measures it).
#
# **Think!** A network trained at kappa = 0 ends with entropy 0.01 and gradient norm 0.02. Is
# it collapsed?
#
# <details><summary>Answer</summary>
#
# Those two numbers cannot tell. A network that always picks the higher-EV option is nearly
# deterministic too, with a small gradient because it has converged. Look at behaviour: the
# abort rate, the no-choice rate, the higher-EV rate, and whether choices still follow the
# offer.
# </details>
#
# ## Summary
#
# - REINFORCE raises log pi(a_t) in proportion to d_t = G_t - V_t; per logit the gradient is
#   f(d_t)(onehot(a_t) - pi_t), zero for a deterministic policy.
# - kappa scales d > 0 by 1 - kappa, d <= 0 by 1 + kappa: kappa < 0 is risk-seeking, the
#   opposite of the analysis's sign.
# - A kappa-weighted value settles on the tau-expectile, tau = (1 - kappa) / 2, which at
#   kappa < 0 ranks the lower-p of two equal-EV options higher; trained networks agree.
# - Collapse is a deterministic policy in a trapped mode, not low entropy alone.
#
# Next: notebook 01, dead ReLU units.

# %% [markdown]
# ## Bonus: train your own, and the upstream log
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
