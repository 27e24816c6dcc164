"""The kappa transform of Mihatsch & Neuneier (2002), used for advantages and the baseline.

For a TD / advantage error d:

    f(d) = (1 - kappa) * d   if d > 0
    f(d) = (1 + kappa) * d   otherwise,          with -1 < kappa < 1.

kappa > 0 is risk-averse (good surprises shrunk, bad ones amplified); kappa < 0 is
risk-seeking. At kappa = -0.2 a positive error is scaled by 1.2 and a negative one by 0.8.
(The upstream config comment and README, and the analysis's "1.2 x d (for negative d)",
state the opposite sign; the formula above is the convention here.)
"""

from __future__ import annotations

import math

import torch


def check_kappa(kappa: float, name: str = "kappa") -> float:
    """Return kappa as a float, or raise ValueError naming the value and the allowed range."""
    try:
        value = float(kappa)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={kappa!r} is not a number: pass a float in (-1, 1).") from None
    if not math.isfinite(value) or not -1.0 < value < 1.0:
        raise ValueError(
            f"{name}={kappa!r} is outside (-1, 1): the kappa transform scales errors by "
            f"1 - kappa and 1 + kappa, which must both stay positive. Use e.g. {name}=-0.2 "
            "(risk-seeking) or 0.2 (risk-averse)."
        )
    return value


def kappa_weights(d: torch.Tensor, kappa: float | torch.Tensor) -> torch.Tensor:
    """Per-element weight w(d) = 1 - kappa if d > 0 else 1 + kappa, so that f(d) = w(d) * d.

    kappa: a float, or a tensor that broadcasts against d (e.g. shape (E, 1, 1) for an
    ensemble of E networks with d of shape (E, trials, time)).
    """
    if not torch.is_tensor(kappa):
        kappa = torch.as_tensor(check_kappa(kappa), dtype=d.dtype, device=d.device)
    return torch.where(d > 0, 1.0 - kappa, 1.0 + kappa)


def kappa_transform(d: torch.Tensor, kappa: float | torch.Tensor) -> torch.Tensor:
    """f(d) = (1 - kappa) d for d > 0, (1 + kappa) d otherwise. Same shape as d."""
    return kappa_weights(d, kappa) * d


def baseline_loss(value: torch.Tensor, returns: torch.Tensor, kappa: float | torch.Tensor,
                  mask: torch.Tensor | None = None,
                  dim: int | tuple[int, ...] | None = None) -> torch.Tensor:
    """Mihatsch-Neuneier baseline loss: sum of w(d) * d^2 / 2 with the weight detached.

    d = returns - value. Its gradient with respect to each value is -w(d) * d = -f(d), so a
    plain gradient step is V <- V + lr * f(d). (Upstream minimised f(d)^2, which weights by
    w(d)^2 and settles at a different quantile-like point.) The sum runs over mask entries
    and is divided by the number of valid entries when a mask is given. dim: sum over these
    dimensions only (e.g. (0, 2) of (time, ensemble, trials) gives one loss per network).
    """
    d = returns - value
    w = kappa_weights(d.detach(), kappa)
    per_step = 0.5 * w * d ** 2
    if mask is None:
        return per_step.sum() if dim is None else per_step.sum(dim=dim)
    if dim is None:
        return (per_step * mask).sum() / mask.sum().clamp_min(1)
    return (per_step * mask).sum(dim=dim) / mask.sum(dim=dim).clamp_min(1)
