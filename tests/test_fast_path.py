"""The fast trainer path against the plain autograd path and against dc3303a's trainer.

train() uses Ensemble.rollout(fast=True): networks.Recurrence (a hand-written backward through
time that computes only the trials still running) and actions sampled step by step. The
plain path (fast=False, autograd through networks.run_recurrent, every step of every trial)
is the reference it must agree with.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from pyrl_mini import networks as nets
from pyrl_mini.config import TrainSettings
from pyrl_mini.trainer import Ensemble

sys.path.insert(0, str(Path(__file__).parent / "reference"))
from make_reference import CASES, run  # noqa: E402

SMALL = TrainSettings(updates=12, batch_size=32, network={"units": 16, "baseline_units": 8})


def _dropping_rows(E, B, T, seed):
    """A Rows that ends random trials at every step (and every trial by step T - 2)."""
    g = torch.Generator().manual_seed(seed)
    ended = torch.zeros(E * B, dtype=torch.bool)

    def still_running(t, x, rows):
        ends = (torch.rand(E * B, generator=g) < 0.3) | (t >= T - 2)
        ended.logical_or_(ends)
        return ~ended[rows.index[t]]

    return nets.Rows(E, B, still_running)


@pytest.mark.parametrize("network_type", ["gru", "simple"])
@pytest.mark.parametrize("rate_fn", ["relu", "tanh", "softplus"])
@pytest.mark.parametrize("drop", [False, True])
def test_recurrence_backward_equals_autograd(network_type, rate_fn, drop):
    """Float64: states and every gradient of the hand-written backward equal autograd's, on
    the trials each step computes (with drop, trials end at random and the loop stops)."""
    E, T, B, N, n_in = 2, 7, 9, 5, 3
    g = torch.Generator().manual_seed(1)
    members = [nets.init_policy(network_type, n_in, N, 3, 0.3, 1.0, g) for _ in range(E)]
    P = {k: v.detach().double().requires_grad_() for k, v in nets.stack_params(members).items()}
    u = torch.randn(T, E, B, n_in, generator=g, dtype=torch.float64)
    noise = 0.1 * torch.randn(T, E, B, N, generator=g, dtype=torch.float64)
    alpha = torch.tensor([0.5, 0.3], dtype=torch.float64)
    weight = torch.randn(T, E, B, N, generator=g, dtype=torch.float64)

    rows = _dropping_rows(E, B, T, seed=2) if drop else None
    fast = nets.run_recurrent_fast(P, network_type, u, noise, alpha, rate_fn, rows)
    steps = fast.shape[0]
    computed = torch.zeros(steps, E, B, dtype=torch.float64)
    for t in range(steps):
        computed[t].view(-1)[rows.index[t] if drop else slice(None)] = 1.0
    assert (steps < T) == drop
    (fast * weight[:steps] * computed.unsqueeze(-1)).sum().backward()
    grads = {k: p.grad.clone() for k, p in P.items() if p.grad is not None}
    for p in P.values():
        p.grad = None
    plain = nets.run_recurrent(P, network_type, u, noise, alpha, rate_fn)[:steps]
    (plain * weight[:steps] * computed.unsqueeze(-1)).sum().backward()
    on = computed.bool()
    torch.testing.assert_close(fast[on], plain[on], rtol=1e-12, atol=1e-12)
    assert torch.all(fast[~on] == 0)
    for name, grad in grads.items():
        torch.testing.assert_close(grad, P[name].grad, rtol=1e-10, atol=1e-12, msg=name)
    assert set(grads) == {k for k, p in P.items() if p.grad is not None}


@pytest.mark.parametrize("changes", [{}, {"network_type": "simple", "readout_rate": "tanh"},
                                     {"rate_function": "softplus", "logit_cap": 1.0}])
def test_fast_rollout_equals_plain_rollout(changes):
    """Same draws, same losses and gradients; the fast path stops when every trial ended."""
    s = SMALL.replace(kappa=-0.2, entropy_coef=0.05, **changes)
    a, b = Ensemble([s, s.replace(seed=1)]), Ensemble([s, s.replace(seed=1)])
    kappa = torch.tensor([-0.2, -0.2])
    fast, plain = a.rollout(32, kappa, fast=True), b.rollout(32, kappa, fast=False)
    steps = fast["mask"].shape[0]
    valid = plain["mask"][:steps].bool()
    assert torch.equal(fast["mask"], plain["mask"][:steps])
    assert plain["mask"][steps:].sum() == 0                 # nothing valid after the stop
    assert torch.equal(fast["actions"][valid], plain["actions"][:steps][valid])
    for key in ("policy_loss", "baseline_loss"):
        torch.testing.assert_close(fast[key], plain[key], rtol=1e-5, atol=1e-7)
    (fast["policy_loss"].sum() + fast["baseline_loss"].sum()).backward()
    (plain["policy_loss"].sum() + plain["baseline_loss"].sum()).backward()
    for name in a.params:
        torch.testing.assert_close(a.params[name].grad, b.params[name].grad,
                                   rtol=1e-4, atol=1e-6, msg=name)
    for name in a.baseline_params:
        torch.testing.assert_close(a.baseline_params[name].grad, b.baseline_params[name].grad,
                                   rtol=1e-4, atol=1e-6, msg=name)


def test_fast_rollout_stops_when_every_trial_has_ended():
    s = SMALL.replace(wout_std=0.0)       # uniform policy: every trial ends within a few steps
    fast = Ensemble([s]).rollout(32, torch.zeros(1), fast=True)
    assert fast["mask"].shape[0] < s.task.steps
    assert torch.all(fast["mask"][-1].sum() > 0)


REFERENCE = np.load(Path(__file__).parent / "reference" / "dc3303a.npz")


@pytest.mark.parametrize("name", list(CASES))
def test_histories_equal_dc3303a_within_float32_rounding(name):
    """Same seed, same numbers as the trainer of commit dc3303a (stored by
    tests/reference/make_reference.py): 8 updates, counts exactly, every other diagnostic
    within rtol 2e-5 (float32 rounding of different summation orders), parameters within
    rtol 1e-3 + atol 1e-5 (Adam divides by sqrt(v), so a float32 difference in a gradient
    near 0 moves a parameter by a visible fraction of lr)."""
    r = run(CASES[name])
    for key, v in r.history.items():
        stored = REFERENCE[f"{name}/history/{key}"]
        if key in ("reward", "abort_rate", "no_choice_rate", "choice_rate", "higher_ev_rate",
                   "risky_rate", "left_rate", "mode", "kappa", "lr", "clipped"):
            np.testing.assert_array_equal(v, stored, err_msg=key)
        else:
            np.testing.assert_allclose(v, stored, rtol=2e-5, atol=1e-7, err_msg=key)
    params = {**r.params, **{"v." + k: p for k, p in r.baseline_params.items()}}
    for key, p in params.items():
        np.testing.assert_allclose(p.numpy(), REFERENCE[f"{name}/params/{key}"],
                                   rtol=1e-3, atol=1e-5, err_msg=key)
