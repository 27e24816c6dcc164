import pytest
import torch

from pyrl_mini.risk import baseline_loss, check_kappa, kappa_transform


def test_kappa_transform_numbers_and_sign():
    d = torch.tensor([1.0, -1.0, 0.5, -2.0, 0.0])
    # kappa = -0.2 is risk-seeking: positive errors x 1.2, negative x 0.8
    assert torch.allclose(kappa_transform(d, -0.2), torch.tensor([1.2, -0.8, 0.6, -1.6, 0.0]))
    # kappa = +0.2 is risk-averse: positive x 0.8, negative x 1.2
    assert torch.allclose(kappa_transform(d, 0.2), torch.tensor([0.8, -1.2, 0.4, -2.4, 0.0]))
    assert torch.equal(kappa_transform(d, 0.0), d)


def test_kappa_transform_broadcasts_per_network():
    d = torch.tensor([[1.0, -1.0], [1.0, -1.0]])
    k = torch.tensor([[-0.5], [0.5]])
    assert torch.allclose(kappa_transform(d, k), torch.tensor([[1.5, -0.5], [0.5, -1.5]]))


@pytest.mark.parametrize("kappa", [-0.2, 0.0, 0.3])
def test_baseline_gradient_is_minus_f_of_d(kappa):
    value = torch.tensor([0.1, 0.9, -0.3, 0.5], requires_grad=True)
    returns = torch.tensor([0.5, 0.2, -1.0, 0.5])
    baseline_loss(value, returns, kappa).backward()
    d = returns - value.detach()
    assert torch.allclose(value.grad, -kappa_transform(d, kappa))


@pytest.mark.parametrize("bad", [1.0, -1.0, 1.3, float("nan"), float("inf"), "x"])
def test_kappa_out_of_range_is_refused_with_value(bad):
    with pytest.raises(ValueError, match=r"kappa=") as err:
        check_kappa(bad)
    assert repr(bad) in str(err.value)
