"""Notebook 00 (the task, the network and the trainer): its exercises, each a reference solution
and a checker (see core.Exercise)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ..risk import kappa_transform as _library_kappa_transform
from .core import Exercise, Finding, Prediction, call


# --- Exercise 1: the kappa transform f(d) ---------------------------------------------------------
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
                    "1 - kappa, d <= 0 by 1 + kappa")
        i = int(torch.nonzero(~torch.isclose(got, want, atol=1e-6))[0])
        branch = "d > 0 (scaled by 1 - kappa)" if d[i] > 0 else "d <= 0 (scaled by 1 + kappa)"
        return (f"at kappa={kappa:+.1f} your f({d[i].item():g}) = {got[i].item():.3g} is not "
                f"right: check the branch for {branch}")
    grid = torch.tensor([[-1.0, 0.5, 0.0], [2.0, -0.3, 0.7]])  # "any shape": (time, trials)
    got = torch.as_tensor(call(fn, grid.clone(), -0.4))
    if got.shape != grid.shape:
        return (f"f(d) must have the shape of d: a d of shape {tuple(grid.shape)} came back as "
                f"{tuple(got.shape)}")
    if not torch.allclose(got.float(), _library_kappa_transform(grid, -0.4), atol=1e-6):
        return "on a 2-d d (time x trials) f(d) is not right: treat each element on its own"
    return None


kappa_transform = Exercise(
    "kappa_transform", reference_kappa_transform, _test_kappa_transform,
    "positive errors are scaled by 1 - kappa, negative ones by 1 + kappa.")


# --- Exercise 3 (Bonus A): the risk-sensitive value of a gamble --------------------------------
def reference_gamble_value(p: float, m: float, kappa: float) -> float:
    """The fixed point of V <- V + lr f(R - V) for R = m with probability p, else 0: the V at
    which the expected update is zero. (The exercise is to derive it, so the formula is in the
    code, not here.)"""
    up, down = p * (1 - kappa), (1 - p) * (1 + kappa)  # the two sides of E[f(R - V)] = 0
    return up * m / (up + down)


def _test_gamble_value(fn: Callable) -> str | None:
    cases = [(0.1, 4.0, -0.4), (0.9, 4 / 9, -0.4), (0.5, 2.0, 0.3), (0.3, 1.0, 0.0),
             (0.7, 3.0, 0.6)]
    for p, m, kappa in cases:
        got = float(call(fn, p, m, kappa))
        want = reference_gamble_value(p, m, kappa)
        if math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6):
            continue
        where = f"gamble_value(p={p:g}, m={m:.3g}, kappa={kappa:+.1f}) = {got:.4g}"
        if math.isclose(got, p * m, rel_tol=1e-4):
            return f"{where} is the expected value p m, which ignores kappa"
        if math.isclose(got, reference_gamble_value(p, m, -kappa), rel_tol=1e-4):
            return f"{where}: kappa has the wrong sign (kappa < 0 weights a win by 1 - kappa > 1)"
        if got > m or got < 0:
            return f"{where} lies outside [0, m]: a value between the two outcomes is expected"
        return (f"{where} is not the fixed point: at it, the expected step of a win, weighted "
                "by its probability, cancels that of a loss; solve that for V")
    return None


gamble_value = Exercise(
    "gamble_value", reference_gamble_value, _test_gamble_value,
    "the value is the tau-expectile of the gamble, tau = (1 - kappa) / 2.")


# --- Exercise 4 (Bonus A): the kappa-weighted policy loss of a small batch -----------------------
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
                return (f"at {where} the gradient is right but your loss {loss.item():.4g} is "
                        "shifted by a constant (a term that does not depend on the logits)")
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


# --- Exercise 2 (prediction): which does a network learn first? ----------------------------------
HOLDS, CHOOSES_WELL, WINDOW = 0.2, 0.6, 20  # abort rate below, higher-EV rate above; updates


def learning_order(history: dict, window: int = WINDOW) -> tuple[int | None, int | None]:
    """(first update where the abort rate, averaged over `window` updates, is below HOLDS;
    first update where the higher-EV rate so averaged is above CHOOSES_WELL), None where never.

    history: one network's per-update records (train(...).member(i)); a window starts at the
    update returned. Updates without a choice (higher-EV rate NaN) count as not choosing well.
    """
    kernel = np.ones(window) / window
    aborts = np.convolve(np.asarray(history["abort_rate"], dtype=float), kernel, "valid")
    higher_ev = np.nan_to_num(np.asarray(history["higher_ev_rate"], dtype=float))
    good = np.convolve(higher_ev, kernel, "valid")

    def first(flags: np.ndarray) -> int | None:
        return int(np.argmax(flags)) if flags.any() else None

    return first(aborts < HOLDS), first(good > CHOOSES_WELL)


def _learned_first_truth(history: dict) -> Finding:
    holds, chooses = learning_order(history)

    def since(update: int | None) -> str:
        # name the window by both ends: a window named by its start looked early on the
        # plotted curve, which is smoothed differently (reader, issue 31)
        return ("never" if update is None else
                f"first in the mean of updates {update}-{update + WINDOW - 1}")

    lines = (f"abort rate below {HOLDS:.0%} {since(holds)}; higher-EV choices above "
             f"{CHOOSES_WELL:.0%} {since(chooses)}")
    if holds is None and chooses is None:
        return Finding(None, f"this run crossed neither line in {len(history['abort_rate'])} "
                             "updates; look at its curves below")
    if chooses is None or (holds is not None and holds + WINDOW <= chooses):
        return Finding("fixation", lines)
    if holds is None or chooses + WINDOW <= holds:
        return Finding("choice", lines)
    return Finding("together", lines)


learned_first = Prediction(
    "learned_first", ("fixation", "choice", "together"), _learned_first_truth,
    "look at when the abort-rate curve falls and when the higher-EV curve rises below")
