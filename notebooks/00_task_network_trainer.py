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
# 4. train a network and read its learning curves.
#
# **Prerequisites.** A semester of machine learning (softmax, expected value, some PyTorch).
# **Time:** about 38 minutes with the exercises, as one reader working as a student measured it
# (section by section in the headings). Notebook 00b goes on: how a run ends, and how we count.

# %%
# %matplotlib inline
import numpy as np
import torch

from pyrl_mini import TrainSettings, analysis, plots, tasks, widgets
from pyrl_mini.exercises import nb00 as exercises
from pyrl_mini.trainer import Ensemble, train

torch.manual_seed(0)
torch.set_num_threads(1)  # one thread: training sums in the same order on every run

# %% [markdown]
# ## 1. The gambling task (6 min)
#
# A trial (Nakazawa et al. 2023) shows two options, each a probability p and a
# magnitude m. Phases: **fixation** (hold still), **stimulus** (options shown, still hold),
# **decision** (choose). Actions: FIXATE, CHOOSE-LEFT, CHOOSE-RIGHT. A trial ends at a choice,
# an abort (breaking fixation early) or its last step; aborting and not choosing are
# penalised, and a choice pays m with probability p, else 0.
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
# ## 3. The kappa transform (10 min)
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
# network prefers risk; notebook 00b's demo tests this. Bonus A derives where the baseline then
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
# ## 4. Training (11 min)
#
# The policy is pyrl's GRU, a recurrent network whose units' **rates** r (relu of each unit's
# state) give the logits z = r W_out + b_out. Each update, the trainer
# (`pyrl_mini.trainer.train`) runs B trials and minimises
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
h = live.member(0)  # the history of the run's one network, update by update

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
span = slice(80, 120)  # entropy near 0 while the higher-EV rate sits near 0.5, no aborts
assert h["entropy"][span].mean() < 0.2 and abs(np.nanmean(h["higher_ev_rate"][span]) - 0.5) < 0.1
assert h["abort_rate"][span].mean() < 0.05, "it holds fixation: nearly certain on those steps"

# %% [markdown]
# Reward starts at -0.5, the abort payment; the higher-EV rate has no value until the network
# first chooses, at update 38. The entropy panel's dotted line is ln 3 = 1.10 (uniform choice).
#
# <details><summary>Answer</summary>
#
# Holding fixation comes first: the abort rate falls before the higher-EV rate rises. An
# aborted trial pays a penalty whatever the offer, so every trial teaches fixation, while
# choosing well is rewarded only on trials that reach the decision, and only on average.
# </details>
#
# **Think!** From about update 80 to 120 the entropy curve is below 0.2, nearly
# deterministic, while the higher-EV curve sits near 0.5, a coin flip. How can both hold?
#
# <details><summary>Answer</summary>
#
# H-bar averages every valid step, fixation and stimulus included. The network has learned to
# hold fixation, so on those steps it is nearly certain; the few decision steps, where it still
# chooses at chance, weigh little in the mean. The run has not stopped: its choices
# keep improving over the next 200 updates.
# </details>
#
# ## Summary
#
# - REINFORCE raises log pi(a) in proportion to the advantage d = G - V; its gradient in the
#   logits, f(d)(onehot(a) - pi), shrinks toward zero as the policy turns deterministic.
# - kappa < 0 weights good surprises more, so it favours the riskier equal-EV option.
# - A network first learns to hold fixation, then to choose well.
#
# Next: notebook 00b, how a run ends and how we count runs.

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
# worth 1.17, p = 0.7 as if worth 0.84: a risk-seeking network should prefer p = 0.3 (notebook
# 00b's demo tests this). Exercise 3 derives the closed form.

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
# learns or ends in a trapped mode (notebook 00b counts how often; 03 and 04 ask why, and what
# prevents it).
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
# ## Bonus C: f(d) drawn, and the expectile on samples
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
