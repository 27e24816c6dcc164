import numpy as np
import pytest

from pyrl_mini.lessons import nb05_explorer as nb


@pytest.fixture(scope="module")
def cat():
    return nb.build_catalogue()


def test_catalogue_matches_the_data(cat):
    name, rows = cat.match("GRU", 0.05, 0.01, 0.4, 0.0)
    assert name == "main_grid" and len(rows) == 3
    name, rows = cat.match("GRU", 0.05, 0.03, 0.0, 0.0)
    assert name == "kappa_lr" and len(rows) == 3
    name, rows = cat.match("SimpleRNN, tanh readout", 0.05, 0.01, -0.4, 0.05)
    assert name == "nb01_simple" and len(rows) == 2
    assert cat.match("GRU", 0.05, 0.03, 0.0, 0.05)[0] is None


def test_explorer_redraws_with_the_data_of_the_new_settings(cat):
    demo = nb.explorer_demo(cat)
    demo.set(kappa=-0.4)
    reward_lines = demo.figure.axes[0].lines
    name, rows = cat.match("GRU", 0.05, 0.01, -0.4, 0.0)
    np.testing.assert_allclose(reward_lines[0].get_ydata(), cat.datasets[name].h("reward")[
        rows[0]])
    demo.set(lr=0.03)
    name2, rows2 = cat.match("GRU", 0.05, 0.03, -0.4, 0.0)
    np.testing.assert_allclose(reward_lines[0].get_ydata(), cat.datasets[name2].h("reward")[
        rows2[0]])
    assert "kappa_lr" in demo.summary.value
    demo.set(entropy_coef=0.05)  # never trained at lr 0.03
    assert "not computed" in demo.summary.value
    assert len(reward_lines[0].get_xdata()) == 0


def test_verdict_numbers_are_finite_and_table_renders():
    rows = nb.verdicts()
    assert len(rows) == 10
    for r in rows:
        for k, x in r.numbers.items():
            assert np.isfinite(x), (r.claim, k)
    assert nb.verdict_table(rows).count("\n") == 11


def test_exercise_checker(cat):
    def right(c):
        flags = []
        for kappa in sorted(set(c.kappa.tolist())):
            name, rows = c.match("GRU", 0.05, 0.03, kappa, 0.0)
            if name:
                flags += c.datasets[name].collapsed[rows].tolist()
        return float(np.mean(flags))

    assert "Correct" in nb.check_collapse_rate(right, cat)
    with pytest.raises(AssertionError, match="expected"):
        nb.check_collapse_rate(lambda c: 0.123, cat)
