"""Coding exercises: a checker runs on the student's function and says, in one line, whether it
is right.

The pattern, in a notebook:

    def kappa_transform(d, kappa):          # the student's cell
        ...                                 # (or raise NotImplementedError)

    kappa_transform = exercises.kappa_transform.check(kappa_transform)   # the next cell

`Exercise.check(fn)` prints exactly one line and returns the function the notebook uses from
then on:

    not done yet: ...  -> the stub was left as it is (it returned ... / None or raised
                          NotImplementedError); the notebook carries on with the reference
    wrong: ...         -> what is wrong, with one input where it shows; the reference is used
    correct: ...       -> the student's own function is used

so Run All of an untouched notebook works. The reference solutions live here (read them with
`exercises.show(exercises.kappa_transform)` or in the folded solution cell of the notebook).
Each exercise's wrong answers that a student plausibly writes are in tests/test_exercises.py.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .risk import kappa_transform as _library_kappa_transform


class NotDone(Exception):
    """The student's function is still the scaffold."""


def call(fn: Callable, *args, **kwargs):
    """fn(*args, **kwargs), raising NotDone for a scaffold (NotImplementedError, ... or None)."""
    try:
        out = fn(*args, **kwargs)
    except NotImplementedError:
        raise NotDone from None
    if out is None or out is Ellipsis:
        raise NotDone
    return out


@dataclass(frozen=True)
class Exercise:
    """One exercise: its reference solution and a test that returns what is wrong (or None).

    test(fn) calls fn through `call` and returns None when fn is right, else a one-line
    description of the first thing found wrong.
    """

    name: str
    reference: Callable
    test: Callable[[Callable], str | None]
    success: str

    def verdict(self, fn: Callable) -> tuple[str, Callable]:
        """(the one-line message, the function to use from now on)."""
        try:
            problem = self.test(fn)
        except NotDone:
            return (f"not done yet: {self.name} is still the scaffold; the notebook carries on "
                    "with the reference solution.", self.reference)
        except Exception as err:  # a student's bug is a finding, not a crash of the notebook
            return (f"wrong: {self.name} raised {type(err).__name__}: {err}; the notebook "
                    "carries on with the reference solution.", self.reference)
        if problem is not None:
            return (f"wrong: {problem} (the notebook carries on with the reference "
                    "solution)", self.reference)
        return f"correct: {self.success}", fn

    def check(self, fn: Callable) -> Callable:
        """Print the verdict on fn in one line; return fn if correct, else the reference."""
        message, use = self.verdict(fn)
        print(message)
        return use


def show(exercise: Exercise) -> None:
    """Print the reference solution's source (for a student who asks for it)."""
    print(inspect.getsource(exercise.reference))


def _fmt(x: torch.Tensor | float) -> str:
    if torch.is_tensor(x):
        return "[" + ", ".join(f"{v:.3g}" for v in x.flatten().tolist()) + "]"
    return f"{x:.4g}"


# --- 1. the kappa transform f(d) ---------------------------------------------------------------
def reference_kappa_transform(d: torch.Tensor, kappa: float) -> torch.Tensor:
    """f(d) = (1 - kappa) d for d > 0, (1 + kappa) d otherwise. Same shape as d."""
    return torch.where(d > 0, (1 - kappa) * d, (1 + kappa) * d)


def _test_kappa_transform(fn: Callable) -> str | None:
    d = torch.tensor([-2.0, -0.5, 0.0, 0.3, 1.5])
    for kappa in (-0.4, 0.0, 0.5):
        got = torch.as_tensor(call(fn, d.clone(), kappa), dtype=torch.float32)
        want = _library_kappa_transform(d, kappa)
        if got.shape != want.shape:
            return f"f(d) must have the shape of d, {tuple(want.shape)}; got {tuple(got.shape)}"
        if torch.allclose(got, want, atol=1e-6):
            continue
        swapped = torch.where(d > 0, (1 + kappa) * d, (1 - kappa) * d)
        if torch.allclose(got, swapped, atol=1e-6):
            return (f"at kappa={kappa:+.1f} the two sides are swapped: d > 0 is scaled by "
                    f"1 - kappa = {1 - kappa:.1f}, d <= 0 by 1 + kappa = {1 + kappa:.1f}")
        i = int(torch.nonzero(~torch.isclose(got, want, atol=1e-6))[0])
        return (f"at kappa={kappa:+.1f}, f({d[i].item():g}) should be {want[i].item():.3g}, "
                f"got {got[i].item():.3g} (d > 0 is scaled by 1 - kappa, d <= 0 by 1 + kappa)")
    return None


kappa_transform = Exercise(
    "kappa_transform", reference_kappa_transform, _test_kappa_transform,
    "positive errors are scaled by 1 - kappa, negative ones by 1 + kappa.")


# --- 2. the risk-sensitive value of a gamble ---------------------------------------------------
def reference_gamble_value(p: float, m: float, kappa: float) -> float:
    """Fixed point of V <- V + lr f(R - V) for R = m with probability p, else 0.

    At the fixed point the expected update is 0:
        p (1 - kappa) (m - V) = (1 - p) (1 + kappa) V
    so V = p (1 - kappa) m / (p (1 - kappa) + (1 - p) (1 + kappa)), the tau-expectile of R
    with tau = (1 - kappa) / 2.
    """
    up, down = p * (1 - kappa), (1 - p) * (1 + kappa)
    return up * m / (up + down)


def _test_gamble_value(fn: Callable) -> str | None:
    cases = [(0.1, 4.0, -0.4), (0.9, 4 / 9, -0.4), (0.5, 2.0, 0.3), (0.3, 1.0, 0.0),
             (0.7, 3.0, 0.6)]
    for p, m, kappa in cases:
        got = float(call(fn, p, m, kappa))
        want = reference_gamble_value(p, m, kappa)
        if math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6):
            continue
        hint = ""
        if math.isclose(got, p * m, rel_tol=1e-4):
            hint = ": that is the expected value p m, which ignores kappa"
        elif math.isclose(got, reference_gamble_value(p, m, -kappa), rel_tol=1e-4):
            hint = ": kappa has the wrong sign (kappa < 0 weights the win by 1 - kappa > 1)"
        return (f"value(p={p:g}, m={m:.3g}, kappa={kappa:+.1f}) should be {want:.4g}, "
                f"got {got:.4g}{hint}")
    return None


gamble_value = Exercise(
    "gamble_value", reference_gamble_value, _test_gamble_value,
    "the value is the tau-expectile of the gamble, tau = (1 - kappa) / 2.")


# --- 3. the kappa-weighted policy loss of a small batch ----------------------------------------
def reference_policy_loss(logits: torch.Tensor, actions: torch.Tensor, d: torch.Tensor,
                          mask: torch.Tensor, kappa: float,
                          entropy_coef: float = 0.0) -> torch.Tensor:
    """The trainer's policy loss for one network (see pyrl_mini.trainer, step 5).

    logits (time, trials, actions); actions (time, trials) int64; d (time, trials) advantages
    G_t - V_t (constants); mask (time, trials) 1.0 on valid steps, 0.0 after a trial ended.
        L = -(sum_{valid t, b} log pi(a_t) f(d_t)) / trials - entropy_coef * mean_valid H_t
    """
    logp_all = torch.log_softmax(logits, dim=-1)
    logp = logp_all.gather(-1, actions.unsqueeze(-1)).squeeze(-1)        # (time, trials)
    fd = reference_kappa_transform(d, kappa)
    entropy = -(logp_all.exp() * logp_all).sum(-1)                        # (time, trials)
    trials = logits.shape[1]
    mean_entropy = (entropy * mask).sum() / mask.sum()
    return -(logp * fd * mask).sum() / trials - entropy_coef * mean_entropy


def _policy_batch(seed: int, steps: int = 4, trials: int = 6, n_actions: int = 3):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(steps, trials, n_actions, generator=g)
    actions = torch.randint(0, n_actions, (steps, trials), generator=g)
    d = torch.randn(steps, trials, generator=g)
    ends = torch.randint(1, steps + 1, (trials,), generator=g)
    ends[0] = 1  # at least one trial ends early, so a missing mask shows
    mask = (torch.arange(steps).unsqueeze(1) < ends).float()
    return logits, actions, d, mask


def _test_policy_loss(fn: Callable) -> str | None:
    for kappa, entropy_coef, seed in ((-0.4, 0.0, 0), (0.3, 0.0, 1), (-0.4, 0.05, 2)):
        logits, actions, d, mask = _policy_batch(seed)
        mine = logits.clone().requires_grad_(True)
        ref = logits.clone().requires_grad_(True)
        loss = call(fn, mine, actions, d, mask, kappa, entropy_coef)
        if not torch.is_tensor(loss) or loss.numel() != 1:
            return "the loss must be one number (a tensor with one element)"
        if not loss.requires_grad:
            return "the loss does not depend on the logits (did you detach them?)"
        want = reference_policy_loss(ref, actions, d, mask, kappa, entropy_coef)
        loss.backward()
        want.backward()
        where = f"kappa={kappa:+.1f}, entropy_coef={entropy_coef:g}"
        if torch.allclose(mine.grad, ref.grad, atol=1e-6, rtol=1e-4):
            if not math.isclose(loss.item(), want.item(), rel_tol=1e-4, abs_tol=1e-6):
                return (f"at {where} the gradient is right but the loss is {loss.item():.4g}, "
                        f"not {want.item():.4g}")
            continue
        if torch.allclose(mine.grad, -ref.grad, atol=1e-6, rtol=1e-4):
            return (f"at {where} the sign is flipped: the loss is MINUS the kappa-weighted "
                    "log-likelihood, so that gradient descent raises log pi(a) where f(d) > 0")
        if mine.grad[mask == 0].abs().max() > 0:
            return (f"at {where} steps after a trial ended (mask 0) change the loss: multiply "
                    "by the mask")
        return (f"at {where} the gradient with respect to the logits differs from the "
                f"trainer's: largest difference {float((mine.grad - ref.grad).abs().max()):.3g}"
                " (check f(d), the division by the number of trials, and the entropy term)")
    return None


policy_loss = Exercise(
    "policy_loss", reference_policy_loss, _test_policy_loss,
    "its gradient with respect to the logits is the trainer's.")


# --- notebook 04 ---
# 4a. the entropy-regularised optimum, 4b. the coefficient that keeps a share on the worse arm,
# 4c. the collapsed fraction of a fix's runs.
_NB04_REWARDS = (0.4, 0.55, 0.7, 0.85, 1.0)  # the gambling task's EV columns


def reference_regularised_optimum(rewards, tau: float) -> torch.Tensor:
    """pi* = softmax(r / tau), the maximiser of pi . r + tau H(pi) (tau > 0)."""
    r = torch.as_tensor(rewards, dtype=torch.float64)
    return torch.softmax(r / tau, dim=0)


def _as_float64(x) -> torch.Tensor:
    return torch.as_tensor(x, dtype=torch.float64).detach().flatten()


def _test_regularised_optimum(fn: Callable) -> str | None:
    import warnings

    with warnings.catch_warnings():  # an overflow is reported in the one line, not as a warning
        warnings.simplefilter("ignore")
        return _find_regularised_optimum_slip(fn)


def _find_regularised_optimum_slip(fn: Callable) -> str | None:
    cases = [(_NB04_REWARDS, 0.2), ((0.0, 1.0), 0.5), ((1.0, 2.0, 3.0), 1.0),
             (_NB04_REWARDS, 0.05), (_NB04_REWARDS, 0.001)]
    for rewards, tau in cases:
        got = _as_float64(call(fn, list(rewards), tau))
        want = reference_regularised_optimum(rewards, tau)
        r = torch.tensor(rewards, dtype=torch.float64)
        where = f"rewards {list(rewards)}, tau={tau:g}"
        if got.shape != want.shape:
            return (f"at {where} pi* needs one probability per arm, {len(rewards)}; "
                    f"got {got.numel()}")
        if torch.allclose(got, want, rtol=1e-5, atol=1e-9):
            continue
        if not torch.isfinite(got).all():
            return (f"at {where} the result is not finite: exp(r / tau) overflows for small tau; "
                    "subtract max(r) / tau before exponentiating (or use a softmax)")
        if torch.allclose(got, torch.softmax(r * tau, 0), rtol=1e-5):
            return f"at {where} you multiplied by tau; the optimum is softmax(r / tau)"
        if torch.allclose(got, torch.softmax(r, 0), rtol=1e-5):
            return f"at {where} the result ignores tau; the optimum is softmax(r / tau)"
        if not math.isclose(float(got.sum()), 1.0, rel_tol=1e-6):
            return f"at {where} the probabilities sum to {float(got.sum()):.4g}, not 1: normalise"
        return f"at {where} pi* should be {_fmt(want)}, got {_fmt(got)}"
    return None


regularised_optimum = Exercise(
    "regularised_optimum", reference_regularised_optimum, _test_regularised_optimum,
    "pi* = softmax(r / tau), computed without overflow even at tau = 0.001.")


def reference_min_entropy_coef(gap: float, p_min: float, steps_per_trial: float) -> float:
    """entropy_coef whose optimum keeps p_min on the worse of two arms `gap` apart.

    p_min = 1 / (1 + exp(gap / tau)) gives tau = gap / log((1 - p_min) / p_min); the task's
    loss applies tau = entropy_coef / T per step, so entropy_coef = T * tau.
    """
    return steps_per_trial * gap / math.log((1.0 - p_min) / p_min)


def _test_min_entropy_coef(fn: Callable) -> str | None:
    for gap, p_min, steps in ((0.15, 0.1, 8), (0.15, 0.01, 8), (0.6, 0.05, 1), (0.3, 0.2, 15)):
        got = float(call(fn, gap, p_min, steps))
        want = reference_min_entropy_coef(gap, p_min, steps)
        if math.isclose(got, want, rel_tol=1e-3):
            continue
        where = f"min_entropy_coef(gap={gap}, p_min={p_min}, steps_per_trial={steps})"
        if steps != 1 and math.isclose(got * steps, want, rel_tol=1e-3):
            hint = ("that is tau; the loss averages the bonus over the steps of a trial, so "
                    "entropy_coef = steps_per_trial * tau")
        elif math.isclose(got, -want, rel_tol=1e-3):
            hint = "the sign is flipped: log((1 - p_min) / p_min) is positive for p_min < 1/2"
        else:
            hint = "start from p_min = 1 / (1 + exp(gap / tau)) and solve for tau"
        return f"{where} should be {want:.4f}, got {got:.4g}: {hint}"
    return None


min_entropy_coef = Exercise(
    "min_entropy_coef", reference_min_entropy_coef, _test_min_entropy_coef,
    "entropy_coef = T * gap / log((1 - p_min) / p_min).")


def reference_collapsed_fraction(modes) -> float:
    """Fraction of runs whose behaviour mode (analysis.MODES names) is a collapsed one:
    never_chooses, always_aborts or one_side."""
    from .analysis import COLLAPSED_MODES

    modes = list(modes)
    return sum(m in COLLAPSED_MODES for m in modes) / len(modes)


def _test_collapsed_fraction(fn: Callable) -> str | None:
    cases = [["converged", "always_aborts", "converged", "always_aborts", "converged"],
             ["converged", "learning", "learning"],
             ["never_chooses", "one_side", "converged", "learning"],
             ["always_aborts", "always_aborts"], ["converged"] * 4]
    for modes in cases:
        got = float(call(fn, list(modes)))
        want = reference_collapsed_fraction(modes)
        if math.isclose(got, want, abs_tol=1e-9):
            continue
        k = round(want * len(modes))
        if math.isclose(got, k) and k != want:
            return f"for {modes} the answer is a fraction, {want:g}; you returned the count {got:g}"
        if "learning" in modes and math.isclose(
                got, sum(m != "converged" for m in modes) / len(modes)):
            return (f"for {modes} you counted 'learning' runs as collapsed; a run still learning "
                    "is not trapped (the collapsed modes: never_chooses, always_aborts, one_side)")
        return (f"for {modes} the collapsed fraction is {want:g}, got {got:g} (count the modes "
                "never_chooses, always_aborts and one_side)")
    return None


collapsed_fraction = Exercise(
    "collapsed_fraction", reference_collapsed_fraction, _test_collapsed_fraction,
    "the share of runs in a trapped mode (never_chooses, always_aborts, one_side).")

# --- notebook 03 ---
# 4. one exact policy-gradient step on a bandit ------------------------------------------------
def reference_exact_pg_step(theta: torch.Tensor, rewards: torch.Tensor,
                            lr: float) -> torch.Tensor:
    """theta + lr * grad_theta J for J = pi . r, pi = softmax(theta); shapes (K,) -> (K,).

    grad J = sum_a pi(a) r(a) (onehot(a) - pi) = pi * (r - pi . r).
    """
    pi = torch.softmax(theta, dim=-1)
    return theta + lr * pi * (rewards - (pi * rewards).sum(-1, keepdim=True))


def _test_exact_pg_step(fn: Callable) -> str | None:
    cases = [(torch.tensor([0.3, -0.2], dtype=torch.float64),
              torch.tensor([1.0, 0.0], dtype=torch.float64), 0.5),
             (torch.tensor([-4.6, 0.0], dtype=torch.float64),
              torch.tensor([1.0, 0.0], dtype=torch.float64), 0.1),
             (torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64),
              torch.tensor([0.2, 1.0, 0.4], dtype=torch.float64), 1.0)]
    for theta, r, lr in cases:
        got = torch.as_tensor(call(fn, theta.clone(), r.clone(), lr), dtype=torch.float64)
        want = reference_exact_pg_step(theta, r, lr)
        if got.shape != want.shape:
            return f"the new logits must have the shape of theta, {tuple(want.shape)}; got " \
                   f"{tuple(got.shape)}"
        if torch.allclose(got, want, atol=1e-9, rtol=1e-7):
            continue
        pi = torch.softmax(theta, -1)
        where = f"theta={_fmt(theta)}, r={_fmt(r)}, lr={lr:g}"
        if torch.allclose(got, theta - (want - theta), atol=1e-9):
            return f"at {where} you stepped downhill: ascent is theta + lr * grad J"
        if torch.allclose(got, theta + lr * pi * r, atol=1e-9):
            return (f"at {where} the gradient lacks the '- pi . r' term: grad J = "
                    "pi * (r - pi . r), since the components of onehot(a) - pi sum to 0")
        if torch.allclose(got, want - theta, atol=1e-9):
            return f"at {where} you returned the step, not the new logits theta + step"
        return (f"at {where} the new logits should be {_fmt(want)}, got {_fmt(got)} "
                "(grad J = pi * (r - pi . r))")
    return None


exact_pg_step = Exercise(
    "exact_pg_step", reference_exact_pg_step, _test_exact_pg_step,
    "grad J = pi * (r - pi . r): zero at every vertex of the simplex, good arm or bad.")


# 5. the logit gap at which float32 softmax returns exactly 1, by bisection --------------------
def reference_saturation_gap(dtype: torch.dtype) -> float:
    """Smallest gap g (to 1e-6) with softmax([g, 0])[0] == 1.0 exactly in `dtype`."""
    lo, hi = 0.0, 100.0  # softmax < 1 at 0, == 1 at 100 in float32 and float64
    while hi - lo > 1e-6:
        mid = (lo + hi) / 2
        if torch.softmax(torch.tensor([mid, 0.0], dtype=dtype), dim=0)[0] == 1.0:
            hi = mid
        else:
            lo = mid
    return hi


def _test_saturation_gap(fn: Callable) -> str | None:
    from .softmax import saturation_gaps
    for dtype in (torch.float32, torch.float64):
        got = float(call(fn, dtype))
        want = saturation_gaps(dtype).softmax_one
        if abs(got - want) < 1e-3:
            continue
        name = str(dtype).replace("torch.", "")
        eps = torch.finfo(dtype).eps
        hint = ""
        if abs(got - math.log(1 / eps)) < 0.05:
            hint = (": that is ln(1/eps); 1 + e^-g already rounds to 1 once e^-g is below "
                    "half an ulp, so bisect on the softmax itself")
        elif (dtype == torch.float32
              and abs(got - saturation_gaps(torch.float64).softmax_one) < 0.05):
            hint = ": that is the float64 gap; build the logits with dtype=dtype"
        elif got > want:
            hint = ": too large (did you keep the upper end where the softmax is still < 1?)"
        else:
            hint = ": too small (at that gap the softmax is still below 1)"
        return f"in {name} the softmax is exactly 1 from gap {want:.4f}, got {got:.4f}{hint}"
    return None


saturation_gap = Exercise(
    "saturation_gap", reference_saturation_gap, _test_saturation_gap,
    "float32 rounds the softmax to exactly 1 from a gap of 16.6, float64 from 36.7.")


# 6. a run's behaviour from its recorded rates -------------------------------------------------
def reference_behaviour(abort_rate: float, no_choice_rate: float, left_rate: float,
                        higher_ev_rate: float) -> str:
    """The behaviour word of notebook 00's glossary for one run's rates (fractions of trials;
    left_rate and higher_ev_rate are fractions of the choices made). First rule that holds:
        never_chooses  no_choice_rate >= 0.9   (trapped: holds fixation to the end)
        always_aborts  abort_rate >= 0.9       (trapped: breaks fixation)
        converged      abort_rate < 0.05 and higher_ev_rate >= 0.8
        one_side       at least half the trials end in a choice, and >= 95 % of the
                       choices go to one side (trapped: ignores the offer)
        learning       none of these (yet)
    """
    if no_choice_rate >= 0.9:
        return "never_chooses"
    if abort_rate >= 0.9:
        return "always_aborts"
    if abort_rate < 0.05 and higher_ev_rate >= 0.8:
        return "converged"
    if 1 - abort_rate - no_choice_rate >= 0.5 and (left_rate >= 0.95 or left_rate <= 0.05):
        return "one_side"
    return "learning"


BEHAVIOUR_CASES = (  # (abort, no_choice, left, higher_ev): each rule and each edge
    (0.99, 0.0, 0.5, 0.5), (0.0, 0.97, 0.5, 0.5), (0.01, 0.0, 0.5, 0.93),
    (0.02, 0.0, 1.0, 0.5), (0.02, 0.0, 0.0, 0.5), (0.03, 0.0, 0.03, 0.52),
    (0.2, 0.0, 0.6, 0.7), (0.9, 0.0, 0.5, 0.5), (0.0, 0.9, 0.5, 0.5),
    (0.06, 0.0, 0.5, 0.9), (0.04, 0.0, 0.5, 0.8), (0.6, 0.0, 1.0, 0.5),
    (0.45, 0.0, 0.97, 0.5), (0.3, 0.0, 0.5, 0.55),
    (0.0, 0.95, 0.5, 0.9),  # rarely chooses, but well: still never_chooses
)


def _test_behaviour(fn: Callable) -> str | None:
    for a, n, left, hev in BEHAVIOUR_CASES:
        got = call(fn, a, n, left, hev)
        want = reference_behaviour(a, n, left, hev)
        if got != want:
            return (f"abort {a:g}, no choice {n:g}, left {left:g}, higher-EV {hev:g} is "
                    f"{want!r}, got {got!r} (check the thresholds, >= vs >, both sides for "
                    "one_side, and the order of the rules)")
    return None


behaviour = Exercise(
    "behaviour", reference_behaviour, _test_behaviour,
    "your rules give the library's behaviour word on every edge case.")



# 7. is a seed trapped at every kappa more often than chance? a permutation test --------------
def reference_concordance_p(trap, shuffles, rng) -> float:
    """trap: (seeds, settings) bool, True where that seed's run at that setting is trapped.
    The fraction of `shuffles` shuffled tables in which at least as many seeds are trapped at
    every setting as in `trap`; a shuffle permutes each setting's column across the seeds
    on its own (keeping how many runs each setting traps, breaking any link between them)."""
    trap = np.asarray(trap, dtype=bool)
    observed = trap.all(axis=1).sum()
    hits = 0
    for _ in range(shuffles):
        shuffled = rng.permuted(trap, axis=0)   # each column shuffled on its own
        hits += shuffled.all(axis=1).sum() >= observed
    return hits / shuffles


def exact_concordance_p(trap, at_least: int | None = None) -> float:
    """The exact value that reference_concordance_p estimates: P(at least `at_least` seeds,
    default the observed number, trapped at every setting) when each column is an independent
    uniformly random permutation. The rows trapped at all of the first j columns meet column
    j + 1's trapped rows in a hypergeometric number of rows."""
    trap = np.asarray(trap, dtype=bool)
    n = trap.shape[0]
    counts = trap.sum(axis=0).tolist()
    dist = {counts[0]: 1.0}
    for c in counts[1:]:
        new: dict[int, float] = {}
        for s, p in dist.items():
            for x in range(max(0, c - (n - s)), min(s, c) + 1):
                new[x] = new.get(x, 0.0) + p * math.comb(s, x) * math.comb(n - s, c - x) \
                    / math.comb(n, c)
        dist = new
    if at_least is None:
        at_least = int(trap.all(axis=1).sum())
    return sum(p for x, p in dist.items() if x >= at_least)


def _concordance_cases() -> list[np.ndarray]:
    """(seeds, settings) bool tables whose exact p-values lie apart from the slips' answers."""
    a = np.zeros((12, 3), dtype=bool)
    a[:3] = True                    # 3 seeds trapped at all three settings
    a[3, 0] = a[4, 1] = a[5, 2] = a[6, 0] = True
    b = np.zeros((10, 2), dtype=bool)
    b[:3] = True                    # two settings: 3 seeds at both, 2 more at one of them
    b[3, 0] = b[4, 1] = True
    c = np.zeros((16, 3), dtype=bool)
    c[0] = True                     # 9 trapped runs per setting, 5 seeds at all three
    c[1:9, 0] = c[3:11, 1] = c[5:13, 2] = True
    return [a, b, c]


def _test_concordance_p(fn: Callable) -> str | None:
    shuffles = 4000
    for trap in _concordance_cases():
        got = float(call(fn, trap.copy(), shuffles, np.random.default_rng(1)))
        want = exact_concordance_p(trap)
        se = math.sqrt(want * (1 - want) / shuffles)
        if abs(got - want) <= 4 * se + 0.01:
            continue
        where = f"for a table of {trap.shape[0]} seeds x {trap.shape[1]} settings"
        if got > 1:
            return f"{where} you returned {got:g}: a p-value is a fraction of the shuffles"
        if got == 1.0:
            return (f"{where} every shuffle matched the observed count: shuffle each column "
                    "on its own (moving whole rows keeps each seed's outcomes together)")
        observed = int(trap.all(axis=1).sum())
        if abs(got - exact_concordance_p(trap, observed + 1)) <= 4 * se + 0.01:
            return (f"{where} p should be about {want:.3f}, got {got:.3f}: count the shuffles "
                    "with at least as many seeds trapped everywhere (>=, not >)")
        return (f"{where} p should be about {want:.3f}, got {got:.3f} (count the seeds "
                "trapped at every setting, trap.all(axis=1).sum(), in each shuffle)")
    return None


concordance_p = Exercise(
    "concordance_p", reference_concordance_p, _test_concordance_p,
    "shuffling each column on its own keeps each setting's count and breaks the link "
    "between settings.")


# --- notebook 05 ---
# --- 4. a Wilson interval for "k of n runs" ----------------------------------------------------
def reference_wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> tuple:
    """The Wilson score interval (lo, hi) for k successes in n runs (95 % for this z):
        centre = (p + z^2 / 2n) / (1 + z^2 / n),  half = z / (1 + z^2 / n) sqrt(p(1-p)/n + z^2/4n^2)
    with p = k / n."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def _test_wilson_interval(fn: Callable) -> str | None:
    for k, n in ((0, 5), (2, 5), (5, 5), (3, 18), (10, 12)):
        got = call(fn, k, n)
        try:
            lo, hi = (float(x) for x in got)
        except (TypeError, ValueError):
            return f"wilson_interval({k}, {n}) must return two numbers (lo, hi), got {got!r}"
        want = reference_wilson_interval(k, n)
        if all(math.isclose(a, b, abs_tol=1e-4) for a, b in zip((lo, hi), want, strict=True)):
            continue
        p = k / n
        wald = 1.96 * math.sqrt(p * (1 - p) / n)
        hint = ""
        if math.isclose(lo, p - wald, abs_tol=1e-3) and math.isclose(hi, p + wald, abs_tol=1e-3):
            hint = (": that is the normal (Wald) interval p +- 1.96 sqrt(p(1-p)/n), which "
                    "shrinks to a point at k = 0 or k = n")
        elif math.isclose((lo + hi) / 2, p, abs_tol=1e-3):
            hint = ": the Wilson interval is centred on (p + z^2/2n) / (1 + z^2/n), not on p"
        return (f"wilson_interval({k}, {n}) should be ({want[0]:.3f}, {want[1]:.3f}), got "
                f"({lo:.3f}, {hi:.3f}){hint}")
    return None


wilson_interval = Exercise(
    "wilson_interval", reference_wilson_interval, _test_wilson_interval,
    f"0 of 5 runs still allows a rate up to {100 * reference_wilson_interval(0, 5)[1]:.0f} %: "
    "few seeds, wide intervals.")


# --- 5. k of n: the collapses at one setting, pooled over kappa ---------------------------------
def reference_collapse_count(cat, network: str, wout_std: float, lr: float,
                             entropy_coef: float) -> tuple:
    """(collapsed runs, runs) of the catalogue at these settings, pooled over every kappa."""
    k = n = 0
    for kappa in sorted(set(cat.kappa.tolist())):
        name, rows = cat.match(network, wout_std, lr, kappa, entropy_coef)
        if name is not None:
            k += int(cat.datasets[name].collapsed[rows].sum())
            n += len(rows)
    return k, n


_CATALOGUE = []


def _catalogue():
    if not _CATALOGUE:
        from .lessons.nb05_explorer import build_catalogue
        _CATALOGUE.append(build_catalogue())
    return _CATALOGUE[0]


def _test_collapse_count(fn: Callable) -> str | None:
    cat = _catalogue()
    for setting in (("GRU", 0.05, 0.03, 0.0), ("GRU", 0.05, 0.01, 0.0),
                    ("GRU", 0.05, 0.01, 0.05)):
        got = call(fn, cat, *setting)
        want = reference_collapse_count(cat, *setting)
        if isinstance(got, float) and not isinstance(got, bool):
            return "return the counts (k, n) as two whole numbers, not a rate"
        try:
            k, n = (int(x) for x in got)
        except (TypeError, ValueError):
            return f"return two whole numbers (k, n), got {got!r}"
        if (k, n) == want:
            continue
        where = (f"network {setting[0]!r}, W_out std {setting[1]}, lr {setting[2]}, "
                 f"entropy_coef {setting[3]}")
        hint = ""
        if n < want[1]:
            hint = ": too few runs; pool every kappa that match() finds"
        elif n == want[1]:
            hint = (": count every collapsed mode (the dataset's `collapsed` array), not only "
                    "always-aborting")
        # the student's count and what is off about it, not the expected count: the answer
        # must come from their own code
        return f"at {where} you counted {k} of {n} runs; that is not the catalogue's count{hint}"
    return None


collapse_count = Exercise(
    "collapse_count", reference_collapse_count, _test_collapse_count,
    "the counts pool every kappa at the chosen settings.")


# --- 6. diagnose three logs: converged, trapped or diverged -------------------------------------
def reference_classify_log(block: dict) -> str:
    """'diverged' if any statistic is NaN or infinite; 'trapped' if every advantage is about
    zero (|mean| and std below 0.05); otherwise 'converged' (for the logs of this exercise)."""
    if not all(math.isfinite(v) for v in block.values()):
        return "diverged"
    if abs(block["adv_mean"]) < 0.05 and block["adv_std"] < 0.05:
        return "trapped"
    return "converged"


_LOG_KEYS = ("entropy", "max_prob", "grad_norm", "grad_norm_W_in", "grad_norm_W_rec",
             "grad_norm_W_out", "grad_norm_biases", "clipped", "logp_mean", "logp_std",
             "adv_mean", "adv_std", "adv_pos_frac", "adv_neg_frac", "kappa")


def _stored_log(name: str, row: int, point: int, nan: tuple = (), inf: tuple = ()) -> str:
    """The upstream-layout log (no behaviour: upstream prints none) of one stored run at one
    recorded update; statistics in `nan` print as NaN (as the trainer's do after a non-finite
    loss), those in `inf` as inf."""
    from . import analysis, data

    d = data.load(name)
    hist = {k: d.h(k)[row][:, None].astype(float) for k in _LOG_KEYS if "h/" + k in d.arrays}
    for k in nan:
        hist[k][point] = float("nan")
    for k in inf:
        hist[k][point] = float("inf")
    stride = d.meta.get("spec", {}).get("stride", 10)
    text = analysis.report(hist, point, 0, number=point * stride)
    return text.split("Behaviour:")[0]


def _cases() -> list[tuple[str, str]]:
    """(log, the right answer): stored nb03_kappa_lr runs at chosen updates."""
    every = tuple(k for k in _LOG_KEYS if k != "kappa")
    return [(_stored_log("nb03_kappa_lr", 17, 69), "converged"),      # reward 0.82
            (_stored_log("nb03_kappa_lr", 4, 69), "trapped"),         # always aborts, saturated
            (_stored_log("nb03_kappa_lr", 17, 69, nan=every), "diverged"),
            (_stored_log("nb03_kappa_lr", 10, 1), "trapped"),         # not saturated, grad 1e-3
            (_stored_log("nb03_kappa_lr", 4, 0), "trapped"),          # entropy 0.29, aborting
            (_stored_log("nb03_kappa_lr", 17, 69, inf=("grad_norm",)), "diverged")]


def exercise_logs() -> dict[str, str]:
    """The three logs the student diagnoses, in the upstream layout."""
    cases = _cases()
    return {"log_a": cases[1][0], "log_b": cases[2][0], "log_c": cases[0][0]}


def _test_classify_log(fn: Callable) -> str | None:
    from .diagnose import parse_log

    for text, want in _cases():
        block = parse_log(text)[-1]
        block.pop("step", None)
        got = call(fn, dict(block))
        if got == want:
            continue
        show = ", ".join(f"{k} {block[k]:.6g}" for k in ("entropy", "grad_norm", "adv_mean",
                                                          "adv_std") if k in block)
        hint = ""
        if want == "diverged":
            hint = (": a NaN is never equal to anything, even NaN; test with math.isfinite "
                    "and look at every statistic")
        elif want == "trapped":
            hint = (": a trapped run may still have entropy and a gradient; what is zero in "
                    "it is the advantage")
        elif got == "trapped":
            hint = (": a low entropy or gradient norm is not a trap; a converged run's "
                    "advantages still spread by about 1")
        return f"the block with {show} is {want}, you said {got!r}{hint}"
    return None


classify_log = Exercise(
    "classify_log", reference_classify_log, _test_classify_log,
    "non-finite means diverged; advantages all about zero means trapped.")


# --- notebook 01 ---
# --- 4. dead and dormant fractions of one batch ------------------------------------------------
DORMANT_TAU = 0.1  # the trainer's threshold (pyrl_mini.trainer.DORMANT_TAU)


def reference_dead_and_dormant(rates: torch.Tensor, mask: torch.Tensor,
                               tau: float = DORMANT_TAU) -> tuple[float, float]:
    """(dead fraction, dormant fraction) of one network's units on one batch.

    rates (time, trials, units), mask (time, trials) 1.0 on valid steps. A unit is dead when
    its rate is exactly 0 on every valid step; dormant when its mean |rate| over valid steps,
    divided by the layer's average of that mean, is at most tau (ReDo, Sokar et al. 2023).
    """
    active = rates.abs() * mask.unsqueeze(-1)                  # (time, trials, units)
    dead = active.amax(dim=(0, 1)) == 0                         # (units,)
    mean_abs = active.sum(dim=(0, 1)) / mask.sum()              # (units,)
    dormant = mean_abs / mean_abs.mean() <= tau                 # (units,)
    return dead.float().mean().item(), dormant.float().mean().item()


def _unit_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """A hand-made batch whose traps each change the answer: 3 trials of 6 steps, 8 units."""
    rates = torch.zeros(6, 3, 8)
    mask = torch.ones(6, 3)
    mask[2:, 0] = 0                  # trial 0 ends after 2 steps
    rates[:, :, 0:4] = 4.0           # units 0-3: busy (the layer's mean |r| is about 2)
    rates[1, 2, 4] = 1e-7            # unit 4: a tiny but nonzero rate: alive (and dormant)
    rates[4, 0, 5] = 3.0             # unit 5: fires only after trial 0 ended: dead
    rates[:, 1, 6] = 0.3             # unit 6: mean |r| 0.13 > tau, but under tau x the layer's 2
    rates[:, :, 7] = 0.0             # unit 7: dead
    return rates, mask


def _test_dead_and_dormant(fn: Callable) -> str | None:
    from .trainer import _unit_stats  # the library's diagnostics, as the trainer records them

    g = torch.Generator().manual_seed(0)
    rand = torch.relu(torch.randn(7, 5, 12, generator=g) - torch.linspace(-1, 2.5, 12))
    rand_mask = (torch.arange(7).unsqueeze(1) < torch.tensor([7, 3, 5, 1, 7])).float()
    for name, (rates, mask) in (("the hand-made batch", _unit_batch()),
                                ("a random batch", (rand, rand_mask))):
        out = call(fn, rates.clone(), mask.clone())
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return "return two numbers: (dead fraction, dormant fraction)"
        dead, dormant = (float(torch.as_tensor(v, dtype=torch.float32).mean()) for v in out)
        lib_dead, lib_dormant = _unit_stats(rates.unsqueeze(1), mask.unsqueeze(1))
        want_dead, want_dormant = lib_dead.float().mean().item(), lib_dormant.item()
        if not math.isclose(dead, want_dead, abs_tol=1e-6):
            hint = ""
            if name == "the hand-made batch" and math.isclose(dead, 1 / 8, abs_tol=1e-6):
                hint = (": a unit that fires only after its trial ended (mask 0) is dead; "
                        "multiply by the mask first")
            elif name == "the hand-made batch" and math.isclose(dead, 3 / 8, abs_tol=1e-6):
                hint = ": 'dead' means exactly zero, so a rate of 1e-7 is alive (compare > 0)"
            return (f"on {name} the dead fraction should be {want_dead:.3g}, got {dead:.3g}"
                    + hint)
        if not math.isclose(dormant, want_dormant, abs_tol=1e-6):
            hint = ""
            if name == "the hand-made batch" and math.isclose(dormant, 3 / 8, abs_tol=1e-6):
                hint = (": compare each unit's mean |r| with tau times the layer's average "
                        "mean |r|, not with tau itself")
            return (f"on {name} the dormant fraction should be {want_dormant:.3g}, got "
                    f"{dormant:.3g}" + hint)
    return None


dead_and_dormant = Exercise(
    "dead_and_dormant", reference_dead_and_dormant, _test_dead_and_dormant,
    "your fractions equal the trainer's diagnostics (dead_fraction, dormant_fraction).")


# --- 5. a paired difference and its standard error ---------------------------------------------
def reference_paired_difference(low, high) -> tuple[float, float]:
    """Mean of low - high over pairs (same seed, same settings but kappa) and its standard error
    std(low - high, ddof=1) / sqrt(pairs). low, high: (pairs,) arrays in the same order."""
    d = torch.as_tensor(low, dtype=torch.float64) - torch.as_tensor(high, dtype=torch.float64)
    return d.mean().item(), (d.std(unbiased=True) / math.sqrt(len(d))).item()


def _test_paired_difference(fn: Callable) -> str | None:
    # pairs that share a seed effect (large spread between seeds, small within a pair)
    seed_effect = torch.tensor([0.10, 0.35, 0.20, 0.42, 0.08, 0.27], dtype=torch.float64)
    low = seed_effect + torch.tensor([-0.02, -0.06, -0.03, -0.05, -0.01, -0.07],
                                     dtype=torch.float64)
    high = seed_effect.clone()
    out = call(fn, low.numpy().copy(), high.numpy().copy())
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return "return two numbers: (mean difference, its standard error)"
    mean, se = float(out[0]), float(out[1])
    want_mean, want_se = reference_paired_difference(low, high)
    if not math.isclose(mean, want_mean, abs_tol=1e-9):
        if math.isclose(mean, -want_mean, abs_tol=1e-9):
            return f"the sign is reversed: low - high is {want_mean:+.4f}, got {mean:+.4f}"
        return f"the mean of low - high should be {want_mean:+.4f}, got {mean:+.4f}"
    if math.isclose(se, want_se, rel_tol=1e-6):
        return None
    n = len(low)
    d = (low - high)
    unpaired = math.sqrt(low.var().item() / n + high.var().item() / n)
    if math.isclose(se, unpaired, rel_tol=1e-3):
        return (f"the standard error {se:.4f} treats the runs as unpaired; take the "
                f"differences first and use their spread: {want_se:.4f}")
    if math.isclose(se, d.std().item(), rel_tol=1e-6):
        return (f"{se:.4f} is the spread of the differences; the standard error of their mean "
                f"divides it by sqrt(pairs): {want_se:.4f}")
    if math.isclose(se, d.std(unbiased=False).item() / math.sqrt(n), rel_tol=1e-6):
        return (f"use the sample standard deviation (ddof=1): the standard error is "
                f"{want_se:.5f}, got {se:.5f}")
    return f"the standard error should be {want_se:.4f}, got {se:.4f}"


paired_difference = Exercise(
    "paired_difference", reference_paired_difference, _test_paired_difference,
    "the mean paired difference and its standard error from the spread of the differences.")


# --- 6. how well a score separates two groups (AUC) --------------------------------------------
def reference_separation_auc(collapsed, healthy) -> float:
    """P(a random collapsed run has a higher dead fraction than a random healthy run), ties
    counted 1/2: the area under the ROC curve. 0.5 = no information, 1 = perfect."""
    a = torch.as_tensor(collapsed, dtype=torch.float64).view(-1, 1)
    b = torch.as_tensor(healthy, dtype=torch.float64).view(1, -1)
    return ((a > b).double().mean() + 0.5 * (a == b).double().mean()).item()


def _test_separation_auc(fn: Callable) -> str | None:
    cases = [([0.30, 0.26], [0.10, 0.42, 0.26, 0.20]),
             ([0.5, 0.6, 0.2], [0.1, 0.3]),
             ([0.1], [0.1, 0.1, 0.2])]
    for collapsed, healthy in cases:
        got = float(call(fn, list(collapsed), list(healthy)))
        want = reference_separation_auc(collapsed, healthy)
        if math.isclose(got, want, abs_tol=1e-9):
            continue
        where = f"collapsed {collapsed}, healthy {healthy}"
        if math.isclose(got, 1 - want, abs_tol=1e-9):
            return (f"for {where} you got {got:.3g}, which is 1 - AUC: count the pairs where "
                    "the COLLAPSED run has more dead units")
        a = torch.tensor(collapsed).view(-1, 1)
        b = torch.tensor(healthy).view(1, -1)
        if math.isclose(got, (a > b).double().mean().item(), abs_tol=1e-9) or \
                math.isclose(got, (a >= b).double().mean().item(), abs_tol=1e-9):
            return (f"for {where} the AUC is {want:.3g}, got {got:.3g}: a tie counts one half")
        return f"for {where} the AUC is {want:.3g}, got {got:.3g}"
    return None


separation_auc = Exercise(
    "separation_auc", reference_separation_auc, _test_separation_auc,
    "the AUC counts every (collapsed, healthy) pair, ties as one half.")


# --- notebook 02 ---
# --- 7. the readout's own gradient, dL/dW_out ---------------------------------------------------
def reference_wout_gradient(rates: torch.Tensor, actions: torch.Tensor, probs: torch.Tensor,
                            fd: torch.Tensor, mask: torch.Tensor, trials: int) -> torch.Tensor:
    """dL/dW_out = -(1/B) sum_{valid t, b} f(d_t) r_t^T (onehot(a_t) - pi_t), shape (N, A).

    rates (T, B, N), actions (T, B) int64, probs pi (T, B, A), fd = f(d) (T, B), mask (T, B)
    1.0 on valid steps, trials = B; for L = -(1/B) sum_{valid t, b} log pi(a_t) f(d_t).
    """
    onehot = torch.nn.functional.one_hot(actions, probs.shape[-1]).to(probs.dtype)
    weight = (fd * mask).unsqueeze(-1) * (onehot - probs)             # (T, B, A)
    return -torch.einsum("tbn,tba->na", rates, weight) / trials       # (N, A)


def step0_batch(wout_std: float, kappa: float = 0.0, seed: int = 0, trials: int = 64) -> dict:
    """One batch of a fresh GRU policy (the trainer's own rollout and loss, entropy_coef 0) and
    the autograd gradient of the policy loss: rates (T, B, N), actions (T, B), probs (T, B, A),
    fd (T, B), mask (T, B), trials, and grads {parameter name: gradient (no ensemble dim)}."""
    from .config import TrainSettings
    from .trainer import Ensemble

    s = TrainSettings(seed=seed, kappa=kappa, batch_size=trials).replace(wout_std=wout_std)
    ens = Ensemble([s])
    ro = ens.rollout(trials, torch.tensor([float(kappa)]))
    ro["policy_loss"].sum().backward()
    return {"rates": ro["rates"][:, 0].detach(), "actions": ro["actions"][:, 0],
            "probs": ro["probs"][:, 0].detach(), "fd": ro["fd"][:, 0].detach(),
            "mask": ro["mask"][:, 0], "trials": trials,
            "grads": {k: p.grad[0].detach().clone() for k, p in ens.params.items()}}


def _wout_gradient_slips(rates, actions, probs, fd, mask, trials) -> list:
    """(a wrong dL/dW_out a student plausibly writes, the hint for it), most specific first."""
    w = (fd * mask).unsqueeze(-1)                                      # (T, B, 1)
    onehot = torch.nn.functional.one_hot(actions, probs.shape[-1]).to(probs.dtype)
    logp = torch.log(probs).gather(-1, actions.unsqueeze(-1))          # the value log pi(a)
    value_hint = ("you used the value log pi(a) where its gradient with respect to the logits "
                  "belongs (a vector with one entry per action)")
    ref = reference_wout_gradient(rates, actions, probs, fd, mask, trials)
    return [
        (-torch.einsum("tbn,tba->na", rates, w * logp) / trials, value_hint),
        (-torch.einsum("tbn,tba->na", rates, w * logp * onehot) / trials, value_hint),
        (-torch.einsum("tbn,tba->na", rates, w * onehot) / trials,
         "a term is missing: d log pi(a) / d logits has a part for every action, not only the "
         "one taken"),
        (ref * trials, "the scale is off: L divides the sum by the number of trials B"),
        (ref * trials / mask.sum(), "the scale is off: L divides by the number of trials B, "
         "not by the number of valid steps"),
        (reference_wout_gradient(rates, actions, probs, fd, torch.ones_like(mask), trials),
         "steps after a trial ended (mask 0) count: multiply by the mask"),
    ]


def _test_wout_gradient(fn: Callable) -> str | None:
    for wout_std, kappa in ((0.0, 0.0), (0.5, -0.4)):
        b = step0_batch(wout_std, kappa, seed=3, trials=64)
        args = (b["rates"], b["actions"], b["probs"], b["fd"], b["mask"])
        got = torch.as_tensor(call(fn, *(a.clone() for a in args), b["trials"]),
                              dtype=torch.float32)
        want = b["grads"]["W_out"]
        where = f"at W_out std {wout_std:g}, kappa {kappa:+.1f}"
        for slip, hint in _wout_gradient_slips(*args, b["trials"]):
            if got.numel() == slip.numel() and torch.allclose(got.reshape(slip.shape), slip,
                                                             atol=1e-6, rtol=1e-4):
                return f"{where} {hint}"
        if got.shape != want.shape:
            return (f"{where} the gradient has shape {tuple(got.shape)}; W_out is (units N, "
                    f"actions A) = {tuple(want.shape)}")
        if torch.allclose(got, want, atol=1e-6, rtol=1e-4):
            continue
        if torch.allclose(got, -want, atol=1e-6, rtol=1e-4):
            return (f"{where} the sign is flipped: L is MINUS the f(d)-weighted log-likelihood, "
                    "and you returned the gradient of the objective")
        return (f"{where} your gradient differs from autograd's by up to "
                f"{float((got - want).abs().max()):.3g} (its entries are up to "
                f"{float(want.abs().max()):.3g}): check f(d), the mask and the 1/B")
    return None


wout_gradient = Exercise(
    "wout_gradient", reference_wout_gradient, _test_wout_gradient,
    "dL/dW_out = -(1/B) sum_t f(d_t) r_t^T (onehot(a_t) - pi_t) matches autograd, at W_out = 0 "
    "too.")


# --- 8. the recurrent gradient at W_out = 0, before and after one Adam step ---------------------
def policy_problem(seed: int = 0, wout_std: float = 0.0, trials: int = 64, kappa: float = 0.0):
    """(params, loss_fn): a fresh GRU policy's parameters {name: leaf tensor (1, ...)} and
    loss_fn(), the policy loss L = -(1/B) sum_{valid t, b} log pi(a_t) f(d_t) of one fixed
    batch (inputs, noise, actions and f(d) drawn once by the trainer's rollout at update 0).
    Calling loss_fn() again after changing params gives the loss at the new parameters on
    the same batch."""
    from . import networks as nets
    from . import tasks
    from .config import TrainSettings
    from .trainer import Ensemble

    s = TrainSettings(seed=seed, kappa=kappa, batch_size=trials).replace(wout_std=wout_std)
    ens = Ensemble([s])
    with torch.no_grad():
        ro = ens.rollout(trials, torch.tensor([float(kappa)]))
    twin = Ensemble([s])                     # the same seed draws the same batch again
    options, in_noise, _, rec_noise, _ = twin.draw(trials)
    inputs = tasks.build_inputs(twin.task, options, in_noise, twin.input_noise)
    noise = twin.rec_noise.view(1, 1, 1, 1) * rec_noise
    actions, fd, mask = ro["actions"], ro["fd"], ro["mask"]             # (T, 1, B)
    params = {k: p.detach().clone().requires_grad_(True) for k, p in twin.params.items()}
    net, alpha = twin.net, twin.alpha

    def loss_fn() -> torch.Tensor:
        x = nets.run_recurrent(params, net.network_type, inputs, noise, alpha,
                               net.rate_function)
        logp = torch.log_softmax(nets.readout(params, nets.rate(x, net.rate_function)), -1)
        chosen = logp.gather(-1, actions.unsqueeze(-1)).squeeze(-1)      # (T, 1, B)
        return -(chosen * fd * mask).sum() / trials

    return params, loss_fn


def reference_first_adam_step(params: dict, loss_fn: Callable, lr: float) -> tuple:
    """(|dL/dW_rec| now, |dL/dW_rec| after one Adam step of size lr on every parameter)."""
    loss_fn().backward()
    before = params["W_rec"].grad.norm().item()
    opt = torch.optim.Adam(params.values(), lr=lr)
    opt.step()
    opt.zero_grad()
    loss_fn().backward()
    return before, params["W_rec"].grad.norm().item()


def _sgd_first_step(params: dict, loss_fn: Callable, lr: float) -> tuple:
    loss_fn().backward()
    before = params["W_rec"].grad.norm().item()
    opt = torch.optim.SGD(params.values(), lr=lr)
    opt.step()
    opt.zero_grad()
    loss_fn().backward()
    return before, params["W_rec"].grad.norm().item()


def _test_first_adam_step(fn: Callable) -> str | None:
    for seed, lr in ((1, 0.01), (2, 0.03)):
        params, loss_fn = policy_problem(seed=seed, trials=32)
        out = call(fn, params, loss_fn, lr)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return "return two numbers: (|dL/dW_rec| before the step, after it)"
        before, after = (float(torch.as_tensor(v, dtype=torch.float64).detach()) for v in out)
        want_before, want_after = reference_first_adam_step(*policy_problem(seed=seed,
                                                                            trials=32), lr)
        if before != 0.0:
            return (f"before the step you report {before:.3g}, but at W_out = 0 every gradient "
                    "behind W_out is exactly 0: read params['W_rec'].grad after loss.backward()")
        if after == 0.0:
            return ("after the step the W_rec gradient is still 0: let the optimiser step "
                    "every parameter (W_out too), then compute a fresh loss and its gradient")
        if math.isclose(after, want_after, rel_tol=1e-4):
            continue
        sgd_after = _sgd_first_step(*policy_problem(seed=seed, trials=32), lr)[1]
        if math.isclose(after, sgd_after, rel_tol=1e-4):
            return ("that is plain SGD's step (each weight moves by lr x its gradient); take "
                    "the step with torch.optim.Adam")
        return (f"with seed {seed}, lr {lr}: after one Adam step |dL/dW_rec| = {after:.4g} "
                "differs from the checker's: one Adam step of size lr on every parameter, then "
                "zero the old gradients and backpropagate a fresh loss")
    return None


first_adam_step = Exercise(
    "first_adam_step", reference_first_adam_step, _test_first_adam_step,
    "exactly zero at W_out = 0, and not zero once one Adam step has moved W_out.")


# --- 9. the chance that a trial reaches a choice at initialisation ------------------------------
def reference_hold_probability(probs: torch.Tensor, hold_steps: int) -> float:
    """Mean over trials of prod_{t < hold_steps} pi_t(FIXATE): the chance that a trial keeps
    fixating through the fixation and stimulus epochs and reaches the decision epoch.
    probs (T, B, A) with FIXATE = action 0."""
    return probs[:hold_steps, :, 0].prod(dim=0).mean().item()


def _hold_policies() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    uniform = torch.full((15, 4, 3), 1 / 3)
    varied = torch.softmax(2.0 * torch.randn(15, 6, 3, generator=g), -1)  # trials differ
    leaning = torch.softmax(torch.randn(15, 5, 3, generator=g) + torch.tensor([1.5, 0, 0]), -1)
    return [uniform, varied, leaning]


def _test_hold_probability(fn: Callable) -> str | None:
    hold = 7
    for i, probs in enumerate(_hold_policies()):
        got = float(torch.as_tensor(call(fn, probs.clone(), hold), dtype=torch.float64).mean())
        want = reference_hold_probability(probs, hold)
        if math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-12):
            continue
        where = f"on test policy {i + 1} (hold_steps {hold})"
        for steps in (hold - 1, hold + 1, probs.shape[0]):
            if math.isclose(got, reference_hold_probability(probs, steps), rel_tol=1e-5):
                return (f"{where} you multiplied {steps} steps: a trial must fixate on exactly "
                        "the first hold_steps steps (t = 0 .. hold_steps - 1)")
        mean_first = probs[:hold, :, 0].mean(dim=1).prod().item()
        if math.isclose(got, mean_first, rel_tol=1e-5):
            return (f"{where} you averaged pi over trials before multiplying: each trial "
                    "holds with its own product; average the products")
        for a in (1, 2):
            if math.isclose(got, reference_hold_probability(probs[..., [a, 0, 3 - a]], hold),
                            rel_tol=1e-5):
                return f"{where} you used action {a}; FIXATE is action 0"
        return f"{where} got {got:.4g}: multiply pi_t(FIXATE) over the steps, then average"
    return None


hold_probability = Exercise(
    "hold_probability", reference_hold_probability, _test_hold_probability,
    "each trial's product of pi_t(FIXATE) over the hold steps, averaged over trials.")
