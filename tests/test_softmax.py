"""Tests for pyrl_mini.softmax: value vs gradient of log pi, float saturation, printed zeros."""

from __future__ import annotations

import math

import pytest
import torch

from pyrl_mini.softmax import (
    expected_pg,
    ideal_saturation_gap,
    log_pi_and_grad,
    printed_zero_threshold,
    saturation_gaps,
    softmax_two_actions,
)

DTYPES = (torch.float32, torch.float64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_two_actions_shapes_and_values(dtype: torch.dtype) -> None:
    pi = softmax_two_actions(torch.tensor([0.0, 1.0, 5.0]), dtype, n_actions=4)
    assert pi.shape == (3, 4) and pi.dtype == dtype
    torch.testing.assert_close(pi.sum(-1), torch.ones(3, dtype=dtype))
    assert pi[0, 0].item() == pytest.approx(0.25)
    assert pi[1, 0].item() == pytest.approx(math.e / (math.e + 3), rel=1e-6)
    assert softmax_two_actions(2.0, dtype)[0].item() == pytest.approx(1 / (1 + math.exp(-2)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_autograd_equals_onehot_minus_pi(dtype: torch.dtype) -> None:
    gen = torch.Generator().manual_seed(3)
    logits = 4.0 * torch.randn(50, 5, generator=gen, dtype=torch.float64)
    actions = torch.randint(0, 5, (50,), generator=gen)
    out = log_pi_and_grad(logits, actions, dtype)
    assert out.grad_autograd.dtype == dtype and out.grad_autograd.shape == (50, 5)
    torch.testing.assert_close(out.grad_autograd, out.grad_analytic)
    expected = torch.log_softmax(logits.to(dtype), -1).gather(-1, actions[:, None])[:, 0]
    torch.testing.assert_close(out.log_pi, expected)
    # Each gradient row sums to zero (onehot sums to 1, pi sums to 1).
    torch.testing.assert_close(out.grad_analytic.sum(-1), torch.zeros(50, dtype=dtype))


def test_value_and_gradient_differ_for_unlikely_action() -> None:
    logits = torch.tensor([10.0, 0.0], dtype=torch.float64)
    likely = log_pi_and_grad(logits, 0, torch.float64)
    unlikely = log_pi_and_grad(logits, 1, torch.float64)
    # Likely action: value ~ 0 and gradient ~ 0 (both small, for different reasons).
    assert abs(likely.log_pi.item()) < 1e-4 and likely.grad_analytic.norm() < 1e-4
    # Unlikely action: value very negative, gradient large (norm ~ sqrt 2).
    assert unlikely.log_pi.item() < -9.9
    assert unlikely.grad_analytic.norm().item() == pytest.approx(math.sqrt(2), rel=1e-4)


@pytest.mark.parametrize("arm", [0, 1, 2])
def test_expected_pg_vanishes_at_any_vertex(arm: int) -> None:
    rewards = torch.tensor([1.0, 0.5, 0.0], dtype=torch.float64)
    norms = []
    for gap in (0.0, 5.0, 10.0, 40.0):
        logits = gap * torch.nn.functional.one_hot(torch.tensor(arm), 3).to(torch.float64)
        norms.append(expected_pg(logits, rewards).norm().item())
    assert norms[1] > norms[2] > norms[3]
    assert norms[2] < 1e-3 and norms[3] < 1e-15
    # At the uniform policy the gradient points to the best arm.
    g0 = expected_pg(torch.zeros(3, dtype=torch.float64), rewards)
    assert g0.argmax().item() == 0 and g0.sum().abs() < 1e-15


def test_expected_pg_matches_sum_over_actions() -> None:
    logits = torch.tensor([[0.3, -1.0, 2.0], [1.0, 1.0, 0.0]], dtype=torch.float64)
    rewards = torch.tensor([0.2, 1.0, -0.5], dtype=torch.float64)
    pi = torch.softmax(logits, -1)
    brute = sum(
        pi[:, a, None] * rewards[a] * log_pi_and_grad(logits, a, torch.float64).grad_analytic
        for a in range(3)
    )
    torch.testing.assert_close(expected_pg(logits, rewards), brute)


def test_saturation_gaps_float32_vs_float64() -> None:
    g32, g64 = saturation_gaps(torch.float32), saturation_gaps(torch.float64)
    assert 16.0 < g32.softmax_one < 17.5 and 36.0 < g64.softmax_one < 37.5
    assert g32.softmax_one < g64.softmax_one
    for g in (g32, g64):
        dtype = getattr(torch, g.dtype)
        assert g.softmax_one == pytest.approx(ideal_saturation_gap(dtype), abs=0.05)
        # The bisection bracket is tight: just below the gap softmax is < 1, at it == 1.
        assert softmax_two_actions(g.softmax_one, dtype)[0].item() == 1.0
        assert softmax_two_actions(g.softmax_one - 0.01, dtype)[0].item() < 1.0
        # -pi_other underflows far later than 1 - pi_lead rounds to zero.
        assert g.grad_other_zero > 5 * g.grad_lead_zero
        assert g.log_pi_zero <= g.grad_other_zero
        # The norm prints as zero before any component is truly zero.
        assert 14.0 < g.norm_prints_zero < g.grad_lead_zero
    assert 100 < g32.grad_other_zero < 106 and 740 < g64.grad_other_zero < 750
    gap = 0.5 * (g32.softmax_one + g32.grad_other_zero)
    grad = log_pi_and_grad(torch.tensor([gap, 0.0]), 0, torch.float32).grad_autograd
    assert grad[0].item() == 0.0 and grad[1].item() != 0.0


def test_printed_zero_is_not_a_true_zero() -> None:
    threshold = printed_zero_threshold(6)
    assert threshold == pytest.approx(5e-7)
    assert f"{0.99 * threshold:.6f}" == "0.000000"
    assert f"{1.01 * threshold:.6f}" == "0.000001"
    # A float32 gradient at gap 15 prints as zero yet is not zero.
    grad = log_pi_and_grad(torch.tensor([15.0, 0.0]), 0, torch.float32).grad_autograd
    assert f"{grad.norm().item():.6f}" == "0.000000" and grad.norm().item() > 0
    with pytest.raises(ValueError, match="decimals=-1"):
        printed_zero_threshold(-1)
