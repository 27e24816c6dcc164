"""K-armed one-step bandit with a softmax policy on raw logits theta (no network).

Policy pi = softmax(theta), theta of shape (runs, K) for an ensemble of independent runs.
Objective with entropy bonus tau = entropy_coef >= 0:

    J(theta) = pi . r + tau * H(pi),          H(pi) = -sum_a pi(a) log pi(a)
    grad J   = pi * (r_tau - pi . r_tau),     r_tau = r - tau * log pi

so the fixed point of gradient ascent is r - tau log pi = const, i.e. pi* = softmax(r / tau)
(`regularised_optimum`). With tau = 0 the gradient vanishes at every vertex pi = onehot(a),
which is why a near-deterministic start on a bad arm is a long plateau (Mei et al. 2020,
"Escaping the gravitational pull of softmax"), and the approach to the best arm is slow,
1 - pi_best(t) ~ c / t (Mei et al. 2020, "On the global convergence rates of softmax PG").

Two arms, reward gap Delta = r_1 - r_2 > 0, p = pi_1 = sigmoid(z), z = theta_1 - theta_2:
dJ/dtheta_1 = p(1-p) Delta and dJ/dtheta_2 = -p(1-p) Delta, so per step (time t in steps)

    dz/dt = 2 lr Delta p (1-p),        dp/dt = p(1-p) dz/dt = 2 lr Delta p^2 (1-p)^2.

With 1/(p^2 (1-p)^2) = 1/p^2 + 2/p + 2/(1-p) + 1/(1-p)^2 this integrates to

    t(p0 -> p1) = [F(p1) - F(p0)] / (2 lr Delta),   F(p) = 2 ln(p/(1-p)) + 1/(1-p) - 1/p,

so t ~ 1/(2 lr Delta p0) for small p0 (the 1/initial-probability plateau), and near p = 1,
q = 1 - p obeys dq/dt = -2 lr Delta q^2, so q(t) ~ 1 / (2 lr Delta t) (the 1/t tail).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch

from pyrl_mini.risk import check_kappa, kappa_transform

NOISE_KINDS = ("none", "bernoulli", "gaussian")
BASELINES = ("exact", "running")


def _fail(name: str, value: Any, allowed: str, fix: str) -> None:
    raise ValueError(f"{name}={value!r} is invalid: allowed {allowed}. {fix}")


@dataclass(frozen=True)
class BanditSettings:
    """Settings of a sampled-PG bandit run (validated at construction).

    arm_means: expected reward r(a) per arm, length K >= 2. reward_noise: "none" (r(a) paid
    exactly), "bernoulli" (pays 1 with probability r(a); needs 0 <= r(a) <= 1) or "gaussian"
    (r(a) + reward_std * N(0, 1)). baseline: "exact" uses V = pi . r (expected reward under the
    current policy, no kappa), "running" learns V per run by V <- V + baseline_lr * mean f(d)
    (the Mihatsch-Neuneier update, pyrl_mini.risk). Initial logits: init_logits, or
    init_prob_best (best arm gets p0, the others share 1 - p0 equally), or uniform if neither.
    """

    arm_means: tuple[float, ...] = (1.0, 0.5, 0.0)
    reward_noise: str = "none"
    reward_std: float = 1.0
    lr: float = 0.1
    entropy_coef: float = 0.0
    kappa: float = 0.0
    batch_size: int = 16
    steps: int = 500
    runs: int = 8
    seed: int = 0
    baseline: str = "exact"
    baseline_lr: float = 0.1
    init_logits: tuple[float, ...] | None = None
    init_prob_best: float | None = None

    def __post_init__(self) -> None:
        # Lists become tuples so that the frozen dataclass stays hashable and immutable.
        object.__setattr__(self, "arm_means", tuple(float(m) for m in self.arm_means))
        if self.init_logits is not None:
            object.__setattr__(self, "init_logits", tuple(float(v) for v in self.init_logits))
        k = len(self.arm_means)
        if k < 2 or not all(math.isfinite(m) for m in self.arm_means):
            _fail("arm_means", self.arm_means, "2 or more finite numbers", "E.g. (1.0, 0.0).")
        if self.reward_noise not in NOISE_KINDS:
            _fail("reward_noise", self.reward_noise, f"one of {NOISE_KINDS}", "Pick one.")
        if self.reward_noise == "bernoulli" and not all(0 <= m <= 1 for m in self.arm_means):
            _fail(
                "arm_means",
                self.arm_means,
                "values in [0, 1] for bernoulli rewards",
                "Rescale the means or use reward_noise='gaussian'.",
            )
        if not (math.isfinite(self.reward_std) and self.reward_std >= 0):
            _fail("reward_std", self.reward_std, "a finite number >= 0", "E.g. reward_std=1.0.")
        if not (math.isfinite(self.lr) and self.lr > 0):
            _fail("lr", self.lr, "a finite number > 0", "E.g. lr=0.1.")
        if not (math.isfinite(self.entropy_coef) and self.entropy_coef >= 0):
            _fail(
                "entropy_coef",
                self.entropy_coef,
                "a finite number >= 0",
                "Use 0 for no bonus, e.g. 0.01 for a small one.",
            )
        object.__setattr__(self, "kappa", check_kappa(self.kappa))
        for name, low in (("batch_size", 1), ("steps", 0), ("runs", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                _fail(name, value, f"an integer >= {low}", f"E.g. {name}={max(low, 16)}.")
        if self.baseline not in BASELINES:
            _fail("baseline", self.baseline, f"one of {BASELINES}", "Pick one.")
        if not (math.isfinite(self.baseline_lr) and self.baseline_lr > 0):
            _fail("baseline_lr", self.baseline_lr, "a finite number > 0", "E.g. 0.1.")
        if self.init_logits is not None and self.init_prob_best is not None:
            _fail(
                "init_prob_best",
                self.init_prob_best,
                "None when init_logits is given",
                "Set only one of init_logits and init_prob_best.",
            )
        if self.init_logits is not None and len(self.init_logits) != k:
            _fail(
                "init_logits",
                self.init_logits,
                f"{k} finite numbers (one per arm)",
                "Give one logit per entry of arm_means.",
            )
        p0 = self.init_prob_best
        if p0 is not None and not 0 < p0 < 1:
            _fail("init_prob_best", p0, "a probability in (0, 1)", "E.g. 0.01 for a plateau.")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> BanditSettings:
        """Build from a dict; an unknown key is refused with the closest valid name."""
        names = [f.name for f in fields(cls)]
        for key in values:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else f" Valid: {names}."
                raise ValueError(f"unknown bandit setting {key!r}.{hint}")
        return cls(**values)

    def initial_logits(self) -> np.ndarray:
        """theta0 of shape (K,) from init_logits / init_prob_best / uniform."""
        k = len(self.arm_means)
        if self.init_logits is not None:
            return np.array(self.init_logits, dtype=np.float64)
        if self.init_prob_best is None:
            return np.zeros(k)
        return initial_logits_for(self.arm_means, self.init_prob_best)


def initial_logits_for(rewards: Any, p0: float) -> np.ndarray:
    """Logits (K,) giving probability p0 to the best arm and (1 - p0)/(K - 1) to each other."""
    r = np.asarray(rewards, dtype=np.float64)
    theta = np.full(r.shape[-1], math.log((1.0 - p0) / (r.shape[-1] - 1)))
    theta[int(np.argmax(r))] = math.log(p0)
    return theta


def _softmax(theta: np.ndarray) -> np.ndarray:
    e = np.exp(theta - theta.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def exact_pg_trajectory(
    theta0: Any, rewards: Any, lr: float, steps: int, entropy_coef: float = 0.0
) -> np.ndarray:
    """Deterministic gradient ascent theta <- theta + lr * grad J with the exact gradient.

    theta0: shape (K,) or (runs, K); rewards: shape (K,) or broadcastable to theta0.
    Returns pi over steps, float64, shape (steps + 1, K) or (steps + 1, runs, K); row 0 is the
    initial policy. Pure numpy: 2000 steps for 64 runs take a few tens of milliseconds.
    With entropy_coef > 0 the approach to softmax(r / tau) is geometric, but its rate shrinks
    with tau * min_a pi(a) (Mei et al. 2020), so a small tau can take thousands of steps.
    """
    theta = np.array(theta0, dtype=np.float64)
    r = np.broadcast_to(np.asarray(rewards, dtype=np.float64), theta.shape)
    out = np.empty((steps + 1, *theta.shape))
    for t in range(steps + 1):
        # log pi via the shifted logits keeps log pi finite even when pi underflows to 0.
        shifted = theta - theta.max(-1, keepdims=True)
        log_pi = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        pi = np.exp(log_pi)
        out[t] = pi
        if t == steps:
            break
        r_tau = r - entropy_coef * log_pi if entropy_coef else r
        theta += lr * pi * (r_tau - (pi * r_tau).sum(-1, keepdims=True))
    return out


def sampled_pg_trajectory(settings: BanditSettings) -> np.ndarray:
    """REINFORCE with baseline, kappa-transformed advantage and entropy bonus.

    Each step and run: draw batch_size actions a_b ~ pi and rewards R_b, d_b = R_b - V,
    and ascend g = mean_b f(d_b) (onehot(a_b) - pi) + tau * grad H (grad H exact, as autograd
    of an entropy computed from the full pi gives), with f(d) = (1 - kappa) d
    for d > 0 else (1 + kappa) d (risk.kappa_transform; kappa < 0 is risk-seeking) and
    grad H = -pi * (log pi + H). V is the exact pi . r ("exact") or a per-run running value
    V <- V + baseline_lr * mean_b f(d_b) ("running", starts at 0). One torch.Generator seeded
    from settings.seed fixes every draw. Returns pi, float64, shape (steps + 1, runs, K).
    """
    s = settings
    gen = torch.Generator().manual_seed(s.seed)
    means = torch.tensor(s.arm_means, dtype=torch.float64)
    k = means.numel()
    theta = torch.from_numpy(s.initial_logits()).repeat(s.runs, 1)  # (runs, K)
    value = torch.zeros(s.runs, 1, dtype=torch.float64)
    kappa = torch.tensor(s.kappa, dtype=torch.float64)  # a tensor skips re-validation per step
    out = torch.empty(s.steps + 1, s.runs, k, dtype=torch.float64)
    for t in range(s.steps + 1):
        # Not torch.log_softmax: on small (runs, K) tensors it splits rows across threads and,
        # with the CPU shared by other processes, costs ~10 ms per call instead of ~20 us.
        log_pi = theta - theta.logsumexp(-1, keepdim=True)
        pi = log_pi.exp()
        out[t] = pi
        if t == s.steps:
            break
        actions = torch.multinomial(pi, s.batch_size, replacement=True, generator=gen)
        mu = means[actions]  # (runs, batch)
        if s.reward_noise == "bernoulli":
            reward = torch.bernoulli(mu, generator=gen)
        elif s.reward_noise == "gaussian":
            reward = mu + s.reward_std * torch.randn(mu.shape, generator=gen, dtype=mu.dtype)
        else:
            reward = mu
        if s.baseline == "exact":
            value = (pi * means).sum(-1, keepdim=True)
        fd = kappa_transform(reward - value, kappa)  # (runs, batch)
        # mean_b f(d_b) onehot(a_b) as a scatter, then subtract mean_b f(d_b) * pi.
        grad = torch.zeros_like(theta).scatter_add_(-1, actions, fd) / s.batch_size
        grad -= fd.mean(-1, keepdim=True) * pi
        if s.entropy_coef:
            entropy = -(pi * log_pi).sum(-1, keepdim=True)
            grad -= s.entropy_coef * pi * (log_pi + entropy)
        theta = theta + s.lr * grad
        if s.baseline == "running":
            value = value + s.baseline_lr * fd.mean(-1, keepdim=True)
    return out.numpy()


def regularised_optimum(rewards: Any, entropy_coef: float) -> np.ndarray:
    """pi* = argmax_pi pi . r + tau H(pi) = softmax(r / tau); tau = 0 gives the argmax one-hot.

    rewards: shape (..., K). Ties at tau = 0 are split evenly among the best arms (the limit
    of softmax(r / tau) as tau -> 0).
    """
    r = np.asarray(rewards, dtype=np.float64)
    if entropy_coef < 0:
        raise ValueError(f"entropy_coef={entropy_coef} must be >= 0.")
    if entropy_coef == 0:
        best = (r == r.max(-1, keepdims=True)).astype(np.float64)
        return best / best.sum(-1, keepdims=True)
    return _softmax(r / entropy_coef)


def _f_plateau(p: np.ndarray | float) -> np.ndarray | float:
    return 2.0 * np.log(p / (1.0 - p)) + 1.0 / (1.0 - p) - 1.0 / p


def time_to_reach(p0: float, p1: float, gap: float, lr: float) -> float:
    """Steps for exact PG (two arms, no entropy) to move pi_best from p0 to p1 (0<p0<p1<1).

    t = [F(p1) - F(p0)] / (2 lr Delta), F(p) = 2 ln(p / (1-p)) + 1/(1-p) - 1/p (module docstring).
    Continuous-time: matches the discrete iteration when lr * Delta is small.
    """
    if not 0 < p0 < p1 < 1:
        raise ValueError(f"need 0 < p0 < p1 < 1, got p0={p0}, p1={p1}.")
    if gap <= 0 or lr <= 0:
        raise ValueError(f"gap={gap} and lr={lr} must be > 0 (gap = r_best - r_other).")
    return float((_f_plateau(p1) - _f_plateau(p0)) / (2.0 * lr * gap))


def plateau_length_two_arm(p0: float, gap: float, lr: float, p1: float = 0.5) -> float:
    """Plateau length: steps to bring the best arm from p0 to p1 (default 1/2).

    For small p0 this is ~ 1 / (2 lr Delta p0): halving the initial probability of the best
    arm doubles the plateau (Mei et al. 2020).
    """
    return time_to_reach(p0, p1, gap, lr)


def late_phase_gap(t: np.ndarray | float, gap: float, lr: float) -> np.ndarray | float:
    """Asymptote of 1 - pi_best(t) for two arms without entropy: 1 / (2 lr Delta t).

    From dq/dt = -2 lr Delta q^2 (q = 1 - p, p near 1). t counts steps from the start; the
    offset of the start only matters at small t. An entropy bonus replaces this 1/t tail by a
    geometric approach to softmax(r / tau), which is not the argmax.
    """
    return 1.0 / (2.0 * lr * gap * np.asarray(t, dtype=np.float64))
