"""One softmax over logits: the smallest case of "deterministic-policy gradient vanishing".

Notation: logits z of shape (..., K), policy pi = softmax(z), reward vector r of shape (K,).

    log pi(a)                = z_a - log sum_b exp(z_b)            (a value, <= 0)
    d log pi(a) / d z        = onehot(a) - pi                      (a gradient, shape (K,))
    E_a~pi[r(a) (onehot(a) - pi)] = pi * (r - pi . r)              (exact expected PG)

The analysis writes "gradient = log_prob x advantage ~ 0 x advantage ~ 0". That multiplies
the *value* log pi(a), not its gradient. Both go to zero as pi(a) -> 1, for different
reasons: the value because log 1 = 0, the gradient because onehot(a) - pi -> 0 when the taken
action is the likely one. When the sampled action is the unlikely one, log pi(a) is very
negative and the gradient onehot(a) - pi is large (norm ~ sqrt(2)); the *expected* gradient
still vanishes because that action is almost never sampled (the factor pi(a) in pi * (...)).

In floating point "-> 0" becomes "== 0" at a finite logit gap: `saturation_gaps` finds it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch


def softmax_two_actions(
    gap: float | torch.Tensor, dtype: torch.dtype = torch.float32, n_actions: int = 2
) -> torch.Tensor:
    """pi = softmax(z) for logits z = (gap, 0, ..., 0): one action ahead by `gap`.

    gap: a float, or a tensor of shape (G,) (e.g. a slider range). Returns pi of shape
    (n_actions,) or (G, n_actions) in `dtype`; pi[..., 0] is the leading action.
    """
    if n_actions < 2:
        raise ValueError(f"n_actions={n_actions} must be >= 2: a softmax over one action is 1.")
    g = torch.as_tensor(gap, dtype=dtype)
    logits = torch.zeros(*g.shape, n_actions, dtype=dtype)
    logits[..., 0] = g
    return torch.softmax(logits, dim=-1)


@dataclass(frozen=True)
class LogPiGrad:
    """log pi(a) (shape (...,)) and d log pi(a) / d logits (shape (..., K)), two ways."""

    log_pi: torch.Tensor
    grad_autograd: torch.Tensor
    grad_analytic: torch.Tensor


def log_pi_and_grad(
    logits: torch.Tensor, action: int | torch.Tensor, dtype: torch.dtype = torch.float32
) -> LogPiGrad:
    """Value log pi(a) and its gradient onehot(a) - pi with respect to the logits.

    logits: shape (..., K); action: an int or a long tensor of shape (...,). The gradient is
    computed by autograd through torch.log_softmax (what a training run sees) and by the
    formula onehot(a) - pi; they must agree (tests check it).
    """
    z = torch.as_tensor(logits, dtype=dtype).detach().clone().requires_grad_(True)
    a = torch.as_tensor(action, dtype=torch.long).expand(z.shape[:-1])
    log_pi = torch.log_softmax(z, dim=-1).gather(-1, a.unsqueeze(-1)).squeeze(-1)
    # Summing over the batch is safe: each element's log pi depends only on its own logits.
    (grad,) = torch.autograd.grad(log_pi.sum(), z)
    with torch.no_grad():
        onehot = torch.nn.functional.one_hot(a, z.shape[-1]).to(dtype)
        analytic = onehot - torch.softmax(z, dim=-1)
    return LogPiGrad(log_pi.detach(), grad, analytic)


def expected_pg(logits: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
    """Exact expected policy gradient sum_a pi(a) r(a) (onehot(a) - pi) = pi * (r - pi . r).

    logits: shape (..., K); rewards: shape (K,) or (..., K). Returns shape (..., K) in the
    logits' dtype. It vanishes as pi -> onehot on *any* arm, best or worst: at a vertex,
    r - pi . r is zero on the chosen arm and pi is zero on the others.
    """
    z = torch.as_tensor(logits)
    r = torch.as_tensor(rewards, dtype=z.dtype)
    pi = torch.softmax(z, dim=-1)
    return pi * (r - (pi * r).sum(-1, keepdim=True))


@dataclass(frozen=True)
class SaturationGaps:
    """Smallest logit gaps (two actions, logits (gap, 0)) at which a quantity is exactly 0.

    softmax_one:    pi_lead == 1.0 exactly.
    log_pi_zero:    log pi_lead == 0.0 exactly (the value the analysis multiplies).
    grad_lead_zero: gradient component 1 - pi_lead == 0.0 (autograd, taken leading action).
    grad_other_zero: gradient component -pi_other == 0.0 (underflow; much later).
    norm_prints_zero: gradient norm < 5e-7, so "%.6f" prints 0.000000 (not a true zero).
    """

    dtype: str
    softmax_one: float
    log_pi_zero: float
    grad_lead_zero: float
    grad_other_zero: float
    norm_prints_zero: float


def _bisect(predicate: Callable[[float], bool], lo: float = 0.0, hi: float = 2000.0) -> float:
    """Smallest gap in [lo, hi] with predicate(gap) True, assuming it is monotone in gap."""
    if predicate(lo) or not predicate(hi):
        raise ValueError(f"predicate must be False at gap={lo} and True at gap={hi}.")
    for _ in range(200):  # 200 halvings of 2000 reach float64 resolution of the gap itself
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (lo, mid) if predicate(mid) else (mid, hi)
    return hi


def _autograd_lead(gap: float, dtype: torch.dtype) -> torch.Tensor:
    """d log pi_lead / d logits for logits (gap, 0), via torch.log_softmax in `dtype`."""
    return log_pi_and_grad(torch.tensor([gap, 0.0], dtype=dtype), 0, dtype).grad_autograd


def saturation_gaps(dtype: torch.dtype = torch.float32) -> SaturationGaps:
    """Find by bisection where softmax, log pi and each gradient component become exactly 0/1.

    Expect for pi_lead == 1: gap ~ 24 ln 2 ~ 16.6 in float32 and ~ 53 ln 2 ~ 36.7 in float64
    (1 + e^-gap rounds to 1 once e^-gap is below half an ulp of 1). The other component
    -pi_other = -e^-gap / (1 + e^-gap) only becomes 0 when it underflows below the smallest
    subnormal: gap ~ 104 (float32), ~ 745 (float64). Between the two the gradient is
    (0, -tiny): not zero, but its norm prints as 0.000000 from gap ~ ln(1/5e-7) ~ 14.5 on.
    """
    threshold = printed_zero_threshold(6)

    def lead(g: float) -> float:
        return softmax_two_actions(g, dtype)[0].item()

    def log_pi(g: float) -> float:
        return torch.log_softmax(torch.tensor([g, 0.0], dtype=dtype), -1)[0].item()

    return SaturationGaps(
        dtype=str(dtype).replace("torch.", ""),
        softmax_one=_bisect(lambda g: lead(g) == 1.0),
        log_pi_zero=_bisect(lambda g: log_pi(g) == 0.0),
        grad_lead_zero=_bisect(lambda g: _autograd_lead(g, dtype)[0].item() == 0.0),
        grad_other_zero=_bisect(lambda g: _autograd_lead(g, dtype)[1].item() == 0.0),
        norm_prints_zero=_bisect(lambda g: _autograd_lead(g, dtype).norm().item() < threshold),
    )


def printed_zero_threshold(decimals: int = 6) -> float:
    """Largest |x| that "%.{decimals}f" may print as 0.000000: 0.5 * 10**-decimals.

    "%.6f" rounds to six decimals, so every |x| < 5e-7 prints as 0.000000 (or -0.000000).
    A log line "Total norm: 0.000000" therefore says |grad| < 5e-7, not grad == 0: in float32
    a saturated softmax leaves a gradient of ~1e-8 that prints as zero yet is not zero.
    """
    if decimals < 0:
        raise ValueError(f"decimals={decimals} must be >= 0.")
    return 0.5 * 10.0 ** (-decimals)


def ideal_saturation_gap(dtype: torch.dtype) -> float:
    """Back-of-envelope gap where 1 + e^-gap rounds to 1: e^-gap <= eps / 2, gap = ln(2 / eps).

    eps = torch.finfo(dtype).eps (2^-23 for float32, 2^-52 for float64): 16.6 and 36.7.
    """
    return math.log(2.0 / torch.finfo(dtype).eps)
