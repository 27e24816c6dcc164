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
