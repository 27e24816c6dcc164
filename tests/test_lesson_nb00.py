import numpy as np
import pytest
import torch

from pyrl_mini import data
from pyrl_mini.lessons import nb00_meet as nb


def test_scale_factors_follow_the_convention():
    assert nb.scale_factors(-0.2) == pytest.approx((1.2, 0.8))
    assert nb.scale_factors(0.4) == pytest.approx((0.6, 1.4))


def test_checker_accepts_solution_and_rejects_the_flipped_sign():
    def right(d, kappa):
        return torch.where(d > 0, (1 - kappa) * d, (1 + kappa) * d)

    def flipped(d, kappa):  # the analysis's reading: risk-seeking amplifies negative errors
        return torch.where(d > 0, (1 + kappa) * d, (1 - kappa) * d)

    assert "Correct" in nb.check_kappa_transform(right)
    with pytest.raises(AssertionError, match="kappa=-0.2"):
        nb.check_kappa_transform(flipped)


def test_kappa_trend_recovers_a_known_slope():
    kappas = np.array([-0.4, 0.0, 0.4])
    risky = np.array([[0.8, 0.7], [0.5, 0.5], [0.2, 0.3]])
    slope, se = nb.kappa_trend(kappas, risky)
    assert slope == pytest.approx(-0.625) and se > 0


@pytest.fixture(scope="module")
def grid():
    return data.load("main_grid")


def test_kappa_demo_redraws_with_the_data_of_the_new_kappa(grid):
    demo = nb.kappa_demo(grid)
    def marked(fig):  # the red dots: the selected kappa's seeds
        line = [ln for ln in fig.axes[0].lines if ln.get_color() == "C3"][0]
        return np.asarray(line.get_xdata()), np.asarray(line.get_ydata())

    x0, _ = marked(demo.figure)
    assert np.allclose(x0, 0.0)
    demo.set(kappa=-0.4)
    x1, y1 = marked(demo.figure)
    assert np.allclose(x1, -0.4)
    idx = grid.select(kappa=-0.4, entropy_coef=0.0)
    want = grid.final("risky_rate")[idx[np.argsort(grid.arrays["seed"][idx])]]
    np.testing.assert_allclose(y1, want)
    assert "kappa=-0.40" in demo.summary.value
    image0 = demo.figure.axes[1].images[0].get_array().copy()
    demo.set(entropy_coef=0.05)
    assert "entropy_coef=0.05" in demo.summary.value
    image1 = demo.figure.axes[1].images[0].get_array()
    assert image0.shape != image1.shape or not np.allclose(
        np.nan_to_num(image0), np.nan_to_num(image1))
    assert demo.redraws == 3


def test_live_run_widget_trains_when_pressed():
    w = nb.live_run_widget()
    w.controls["updates"].value = 100
    assert w.result is None
    result = w.run()
    assert result.updates_done == 100 and w.progress.value == 100
