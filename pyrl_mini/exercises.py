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
