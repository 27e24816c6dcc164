"""Every checker accepts its reference solution, says "not done yet" for the untouched
scaffold, and rejects the wrong answers a student plausibly writes."""

import pytest
import torch

from pyrl_mini import exercises as ex
from pyrl_mini.risk import kappa_transform


def scaffold_ellipsis(*args, **kwargs):
    ...


def scaffold_raises(*args, **kwargs):
    raise NotImplementedError("write f(d)")


@pytest.mark.parametrize("exercise", [ex.kappa_transform, ex.gamble_value, ex.policy_loss],
                         ids=lambda e: e.name)
def test_reference_is_correct_and_scaffold_is_not_done(exercise, capsys):
    assert exercise.check(exercise.reference) is exercise.reference
    assert capsys.readouterr().out.startswith("correct:")
    for stub in (scaffold_ellipsis, scaffold_raises):
        assert exercise.check(stub) is exercise.reference
        out = capsys.readouterr().out
        assert out.startswith("not done yet:") and out.count("\n") == 1


def _wrong(exercise, fn) -> str:
    message, use = exercise.verdict(fn)
    assert use is exercise.reference
    assert message.startswith("wrong:") and "\n" not in message
    return message


def test_kappa_transform_rejects_swapped_sign_and_one_branch():
    swapped = _wrong(ex.kappa_transform,
                     lambda d, k: torch.where(d > 0, (1 + k) * d, (1 - k) * d))
    assert "swapped" in swapped
    one_branch = _wrong(ex.kappa_transform, lambda d, k: (1 - k) * d)
    assert "f(-2) should be" in one_branch
    assert "shape" in _wrong(ex.kappa_transform, lambda d, k: ((1 - k) * d).sum())
    assert "raised" in _wrong(ex.kappa_transform, lambda d, k: d.nonexistent)


def test_kappa_transform_library_function_is_correct():
    assert ex.kappa_transform.verdict(kappa_transform)[0].startswith("correct")


def test_gamble_value_rejects_expected_value_flipped_kappa_and_quantile():
    assert "ignores kappa" in _wrong(ex.gamble_value, lambda p, m, k: p * m)
    flipped = _wrong(ex.gamble_value, lambda p, m, k: ex.reference_gamble_value(p, m, -k))
    assert "wrong sign" in flipped
    # a plausible slip: tau = (1 - kappa) / 2 used as if it were the probability weight alone
    tau_only = _wrong(ex.gamble_value, lambda p, m, k: (1 - k) / 2 * m)
    assert "should be" in tau_only


def _loss_without_kappa(logits, actions, d, mask, kappa, entropy_coef=0.0):
    return ex.reference_policy_loss(logits, actions, d, mask, 0.0, entropy_coef)


def _loss_mean_over_valid_steps(logits, actions, d, mask, kappa, entropy_coef=0.0):
    logp = torch.log_softmax(logits, -1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    fd = ex.reference_kappa_transform(d, kappa)
    return -(logp * fd * mask).sum() / mask.sum()


def _loss_entropy_sign(logits, actions, d, mask, kappa, entropy_coef=0.0):
    """The entropy bonus added instead of subtracted: it would lower the entropy."""
    logp_all = torch.log_softmax(logits, -1)
    mean_entropy = (-(logp_all.exp() * logp_all).sum(-1) * mask).sum() / mask.sum()
    return (ex.reference_policy_loss(logits, actions, d, mask, kappa, 0.0)
            + entropy_coef * mean_entropy)


def test_policy_loss_rejects_sign_mask_kappa_normalisation_and_entropy_slips():
    assert "sign is flipped" in _wrong(
        ex.policy_loss, lambda *a: -ex.reference_policy_loss(*a))
    assert "multiply by the mask" in _wrong(
        ex.policy_loss, lambda lg, a, d, m, k, c=0.0: ex.reference_policy_loss(
            lg, a, d, torch.ones_like(m), k, c))
    assert "differs from the trainer's" in _wrong(ex.policy_loss, _loss_without_kappa)
    assert "differs from the trainer's" in _wrong(ex.policy_loss, _loss_mean_over_valid_steps)
    assert "entropy_coef=0.05" in _wrong(ex.policy_loss, _loss_entropy_sign)
    assert "detach" in _wrong(ex.policy_loss, lambda lg, *a: ex.reference_policy_loss(
        lg.detach(), *a))


def test_show_prints_the_reference(capsys):
    ex.show(ex.gamble_value)
    assert "def reference_gamble_value" in capsys.readouterr().out


# --- notebook 04 ---
NB04 = [ex.regularised_optimum, ex.min_entropy_coef, ex.collapsed_fraction]


@pytest.mark.parametrize("exercise", NB04, ids=lambda e: e.name)
def test_nb04_reference_is_correct_and_scaffold_is_not_done(exercise, capsys):
    assert exercise.check(exercise.reference) is exercise.reference
    assert capsys.readouterr().out.startswith("correct:")
    for stub in (scaffold_ellipsis, scaffold_raises):
        assert exercise.check(stub) is exercise.reference
        assert capsys.readouterr().out.startswith("not done yet:")


def test_regularised_optimum_accepts_numpy_and_rejects_slips():
    import numpy as np

    def numpy_stable(r, tau):
        z = np.asarray(r) / tau
        e = np.exp(z - z.max())
        return e / e.sum()

    assert ex.regularised_optimum.verdict(numpy_stable)[0].startswith("correct")
    assert "not finite" in _wrong(ex.regularised_optimum, lambda r, tau: np.exp(
        np.asarray(r) / tau) / np.exp(np.asarray(r) / tau).sum())
    assert "multiplied by tau" in _wrong(
        ex.regularised_optimum, lambda r, tau: torch.softmax(torch.tensor(r) * tau, 0))
    assert "ignores tau" in _wrong(
        ex.regularised_optimum, lambda r, tau: torch.softmax(torch.tensor(r), 0))
    assert "normalise" in _wrong(
        ex.regularised_optimum, lambda r, tau: torch.exp(torch.tensor(r) - max(r)) / tau)


def test_min_entropy_coef_rejects_missing_steps_sign_and_formula_slips():
    import math

    assert "steps_per_trial * tau" in _wrong(
        ex.min_entropy_coef, lambda g, p, s: g / math.log((1 - p) / p))
    assert "sign is flipped" in _wrong(
        ex.min_entropy_coef, lambda g, p, s: s * g / math.log(p / (1 - p)))
    assert "solve for tau" in _wrong(ex.min_entropy_coef, lambda g, p, s: s * g * p)
    # the solution reproduces the fixed point: 10 % on the worse of two neighbours, T = 8
    tau = ex.reference_min_entropy_coef(0.15, 0.1, 8) / 8
    assert math.isclose(1 / (1 + math.exp(0.15 / tau)), 0.1)


def test_collapsed_fraction_rejects_count_learning_and_single_mode_slips():
    from pyrl_mini.analysis import COLLAPSED_MODES, MODES

    assert set(COLLAPSED_MODES) < set(MODES)  # the exercise uses the library's names
    assert "count" in _wrong(ex.collapsed_fraction,
                             lambda m: sum(x in COLLAPSED_MODES for x in m))
    assert "'learning'" in _wrong(ex.collapsed_fraction,
                                  lambda m: sum(x != "converged" for x in m) / len(m))
    assert "collapsed fraction is" in _wrong(
        ex.collapsed_fraction, lambda m: sum(x == "always_aborts" for x in m) / len(m))
