"""Tests for pyrl_mini.bandit: exact and sampled softmax PG, entropy fixed point, plateaus."""

from __future__ import annotations

import dataclasses
import itertools
import time

import numpy as np
import pytest

from pyrl_mini.bandit import (
    BanditSettings,
    exact_pg_trajectory,
    initial_logits_for,
    late_phase_gap,
    plateau_length_two_arm,
    regularised_optimum,
    sampled_pg_trajectory,
    time_to_reach,
)

REWARDS = np.array([1.0, 0.5, 0.0])


def test_exact_trajectory_shapes_and_vectorised_runs() -> None:
    one = exact_pg_trajectory(np.zeros(3), REWARDS, lr=0.1, steps=10)
    assert one.shape == (11, 3)
    np.testing.assert_allclose(one[0], np.full(3, 1 / 3))
    theta0 = np.random.default_rng(0).normal(size=(64, 3))
    start = time.perf_counter()
    many = exact_pg_trajectory(theta0, REWARDS, lr=0.1, steps=2000)
    elapsed = time.perf_counter() - start
    assert many.shape == (2001, 64, 3)
    np.testing.assert_allclose(many.sum(-1), 1.0)
    # Row 5 of the batch equals its own single run (no cross-talk between runs).
    np.testing.assert_allclose(many[:, 5], exact_pg_trajectory(theta0[5], REWARDS, 0.1, 2000))
    print(f"exact PG, 64 runs x 2000 steps: {elapsed * 1e3:.0f} ms")


@pytest.mark.parametrize("tau", [0.05, 0.1, 0.3])
def test_regularised_optimum_matches_long_run(tau: float) -> None:
    traj = exact_pg_trajectory(np.zeros(3), REWARDS, 1.0, 10000, tau)
    np.testing.assert_allclose(traj[-1], regularised_optimum(REWARDS, tau), atol=1e-3)
    if tau == 0.3:
        # Geometric convergence: to machine precision when min_a pi*(a) is not tiny.
        assert np.abs(traj[-1] - regularised_optimum(REWARDS, tau)).max() < 1e-9


def test_regularised_optimum_limits() -> None:
    np.testing.assert_allclose(regularised_optimum(REWARDS, 0.0), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(regularised_optimum([1.0, 1.0, 0.0], 0.0), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(regularised_optimum(REWARDS, 1e6), np.full(3, 1 / 3), atol=1e-6)
    pi = regularised_optimum(REWARDS, 0.01)
    assert pi[0] > 0.999 and np.isfinite(pi).all()
    with pytest.raises(ValueError, match=r"-0\.1"):
        regularised_optimum(REWARDS, -0.1)


@pytest.mark.parametrize("p0", [0.02, 0.005])
def test_plateau_closed_form_matches_iteration(p0: float) -> None:
    gap, lr = 1.0, 0.1
    predicted = plateau_length_two_arm(p0, gap, lr)
    traj = exact_pg_trajectory(
        initial_logits_for([1.0, 0.0], p0), [1.0, 0.0], lr, int(1.5 * predicted)
    )
    measured = int(np.argmax(traj[:, 0] >= 0.5))
    assert traj[measured, 0] >= 0.5 and measured > 0
    assert abs(measured - predicted) / predicted < 0.03
    # And to p1 = 0.99 (including the slow approach), via time_to_reach.
    t99 = time_to_reach(p0, 0.99, gap, lr)
    traj = exact_pg_trajectory(np.log([p0, 1 - p0]), [1.0, 0.0], lr, int(1.5 * t99))
    assert abs(int(np.argmax(traj[:, 0] >= 0.99)) - t99) / t99 < 0.03


def test_plateau_scales_as_one_over_p0() -> None:
    gap, lr = 0.5, 0.05
    p0s = (1e-2, 1e-3, 1e-4, 1e-5)
    lengths = [plateau_length_two_arm(p0, gap, lr) for p0 in p0s]
    assert all(b / a > 9 for a, b in itertools.pairwise(lengths))
    # length * p0 -> 1 / (2 lr Delta); the correction is O(p0 ln p0).
    scaled = [length * p0 * 2 * lr * gap for length, p0 in zip(lengths, p0s, strict=True)]
    assert scaled[0] == pytest.approx(1.0, abs=0.1)
    assert scaled[-1] == pytest.approx(1.0, abs=1e-3)
    assert abs(scaled[-1] - 1) < abs(scaled[0] - 1)
    with pytest.raises(ValueError, match=r"p0=0\.6"):
        time_to_reach(0.6, 0.5, gap, lr)


def test_late_phase_is_one_over_t() -> None:
    gap, lr = 1.0, 0.5
    traj = exact_pg_trajectory(np.zeros(2), [1.0, 0.0], lr, 20000)
    q = 1.0 - traj[:, 0]
    for t in (2000, 5000, 20000):
        assert q[t] / late_phase_gap(t, gap, lr) == pytest.approx(1.0, abs=0.02)
    assert q[10000] / q[5000] == pytest.approx(0.5, abs=0.01)
    # With an entropy bonus the tail stops at softmax(r / tau) instead of creeping to 1.
    reg = exact_pg_trajectory(np.zeros(2), [1.0, 0.0], lr, 20000, entropy_coef=0.2)
    assert 1 - reg[-1, 0] == pytest.approx(regularised_optimum([1.0, 0.0], 0.2)[1], rel=1e-6)


def test_sampled_pg_reproducible_and_seed_dependent() -> None:
    s = BanditSettings(arm_means=(0.8, 0.5, 0.2), reward_noise="bernoulli", steps=200, runs=4)
    a, b = sampled_pg_trajectory(s), sampled_pg_trajectory(s)
    assert a.shape == (201, 4, 3)
    np.testing.assert_array_equal(a, b)
    c = sampled_pg_trajectory(dataclasses.replace(s, seed=1))
    assert not np.array_equal(a, c)
    # Runs inside one ensemble are independent draws, so they differ from each other.
    assert not np.array_equal(a[-1, 0], a[-1, 1])


def test_kappa_changes_sampled_trajectory() -> None:
    base = BanditSettings(arm_means=(1.0, 0.0), reward_noise="gaussian", steps=100, runs=4, seed=7)
    neutral = sampled_pg_trajectory(base)
    seeking = sampled_pg_trajectory(dataclasses.replace(base, kappa=-0.2))
    assert np.abs(neutral - seeking).max() > 1e-3


@pytest.mark.parametrize("kappa", [0.0, -0.2, 0.5])
def test_sampled_step_matches_expected_kappa_gradient(kappa: float) -> None:
    # One step with a huge batch approximates one step along the exact expectation
    # sum_a pi(a) f(d(a)) (onehot(a) - pi) + tau grad H, d(a) = r(a) - pi . r (exact baseline).
    # With kappa != 0, E f(d) != 0, so the "- f(d) pi" part of the gradient matters here.
    theta0, tau = np.array([0.5, -0.5, 0.0]), 0.1
    s = BanditSettings(
        arm_means=tuple(REWARDS),
        lr=1.0,
        batch_size=200_000,
        steps=1,
        runs=2,
        init_logits=tuple(theta0),
        entropy_coef=tau,
        kappa=kappa,
    )
    pi = np.exp(theta0) / np.exp(theta0).sum()
    d = REWARDS - pi @ REWARDS
    fd = np.where(d > 0, 1 - kappa, 1 + kappa) * d
    grad = (pi * fd)[:, None] * (np.eye(3) - pi)
    grad = grad.sum(0) - tau * pi * (np.log(pi) + (-pi @ np.log(pi)))
    theta1 = theta0 + grad
    expected = np.exp(theta1) / np.exp(theta1).sum()
    np.testing.assert_allclose(sampled_pg_trajectory(s)[1], [expected, expected], atol=5e-3)
    if kappa == 0.0:
        exact = exact_pg_trajectory(theta0, REWARDS, 1.0, 1, entropy_coef=tau)
        np.testing.assert_allclose(exact[1], expected, atol=1e-12)


@pytest.mark.parametrize("baseline", ["exact", "running"])
def test_sampled_pg_learns_best_arm(baseline: str) -> None:
    s = BanditSettings(
        arm_means=(0.8, 0.5, 0.2),
        reward_noise="bernoulli",
        steps=600,
        runs=16,
        lr=1.0,
        baseline=baseline,
    )
    assert np.median(sampled_pg_trajectory(s)[-1, :, 0]) > 0.98


def test_initial_prob_best_sets_start() -> None:
    s = BanditSettings(arm_means=(0.0, 1.0, 0.5), init_prob_best=0.01, steps=0)
    np.testing.assert_allclose(sampled_pg_trajectory(s)[0, 0], [0.495, 0.01, 0.495])


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"kappa": 1.5}, "kappa=1.5"),
        ({"lr": -0.1}, "lr=-0.1"),
        ({"entropy_coef": -0.01}, "entropy_coef=-0.01"),
        ({"batch_size": 0}, "batch_size=0"),
        ({"arm_means": (1.0,)}, "arm_means=(1.0,)"),
        ({"reward_noise": "bernoulli", "arm_means": (2.0, 0.0)}, "[0, 1]"),
        ({"reward_noise": "poisson"}, "poisson"),
        ({"init_prob_best": 1.0}, "init_prob_best=1.0"),
        ({"init_logits": (0.0, 1.0)}, "init_logits=(0.0, 1.0)"),
    ],
)
def test_validation_names_the_value(kwargs: dict, needle: str) -> None:
    with pytest.raises(ValueError) as info:
        BanditSettings(**kwargs)
    assert needle in str(info.value)


def test_from_dict_refuses_unknown_key_with_suggestion() -> None:
    assert BanditSettings.from_dict({"entropy_coef": 0.01}).entropy_coef == 0.01
    with pytest.raises(ValueError, match="'entropy_coef'"):
        BanditSettings.from_dict({"entropy_cof": 0.01})
    with pytest.raises(ValueError, match="Valid"):
        BanditSettings.from_dict({"zzzz": 1})
    # Lists are stored as tuples, so settings stay hashable.
    assert hash(BanditSettings.from_dict({"arm_means": [1, 0]})) is not None
