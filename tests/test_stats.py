import math

import numpy as np
import pytest

from pyrl_mini.stats import Frequency, fisher_one_sided, frequency, mcnemar, sign_test, wilson


def test_wilson_known_values():
    # Textbook values (Newcombe 1998, table I): 0/20 -> (0, 0.1611), 1/29 -> (0.0061, 0.1718)
    lo, hi = wilson(0, 20)
    assert lo == 0 and hi == pytest.approx(0.1611, abs=1e-4)
    lo, hi = wilson(1, 29)
    assert lo == pytest.approx(0.0061, abs=1e-4) and hi == pytest.approx(0.1718, abs=1e-4)
    lo, hi = wilson(10, 20)
    assert lo == pytest.approx(1 - hi) and lo < 0.5 < hi


def test_wilson_refuses_bad_counts():
    with pytest.raises(ValueError, match="k=5, n=3"):
        wilson(5, 3)


def test_frequency_text():
    f = frequency([True] * 7 + [False] * 13)
    assert (f.k, f.n) == (7, 20) and f.rate == 0.35
    assert str(f) == "7 of 20 (18-57 %)"
    assert str(Frequency(0, 20)) == "0 of 20 (0-16 %)"


def test_fisher_matches_direct_hypergeometric():
    # 7 of 8 vs 8 of 24 (a comparison notebook 02 made): P(X >= 7) for 8 draws from 32 with
    # 15 hits = (C(15,7) C(17,1) + C(15,8) C(17,0)) / C(32,8) = 115830 / 10518300
    assert fisher_one_sided(7, 8, 8, 24) == pytest.approx(115830 / 10518300, rel=1e-12)
    assert fisher_one_sided(0, 5, 5, 5) == 1.0


def test_sign_test():
    assert sign_test(0, 0) == 1.0
    assert sign_test(5, 0) == pytest.approx(2 / 32)
    assert sign_test(3, 3) == 1.0
    assert sign_test(10, 2) == pytest.approx(2 * sum(math.comb(12, i) for i in range(3)) / 4096)


def test_mcnemar_counts_discordant_pairs_only():
    a = [True, True, False, False, True]
    b = [True, False, False, True, False]
    assert mcnemar(a, b)[:2] == (2, 1)
    with pytest.raises(ValueError, match="equal lengths"):
        mcnemar([True], [True, False])


def test_plot_trapped_fraction_draws_each_rate_with_its_wilson_interval():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from pyrl_mini import plots

    flags = {0.01: np.array([1, 0, 0, 0, 1], bool), 2.0: np.ones(5, bool)}
    fig = plots.plot_trapped_fraction({"a": flags, "b": {0.01: np.zeros(5, bool)}},
                                      xlabel="W_out std")
    ax = fig.axes[0]
    line = ax.lines[0]
    np.testing.assert_allclose(line.get_ydata(), [0.4, 1.0])
    segments = np.asarray(ax.collections[0].get_segments())   # (points, 2 ends, xy)
    low, high = segments[:, 0, 1], segments[:, 1, 1]
    np.testing.assert_allclose(low, [wilson(2, 5)[0], wilson(5, 5)[0]])
    np.testing.assert_allclose(high, [wilson(2, 5)[1], 1.0])
    assert {t.get_text() for t in ax.texts} == {"2", "5", "0"}   # k; n = 5 in the key
    assert "k of 5 runs" in ax.get_legend().get_title().get_text()
    assert ax.get_xlabel() == "W_out std" and ax.get_legend() is not None
    plt.close(fig)


def test_auc_orders_and_ties():
    from pyrl_mini.stats import auc

    assert auc([3, 4], [1, 2]) == 1.0
    assert auc([1, 2], [3, 4]) == 0.0
    assert auc([1, 2], [1, 2]) == 0.5
    assert np.isnan(auc([], [1.0]))


def test_concordance_p_exact_matches_a_brute_force_count():
    import itertools

    from pyrl_mini.stats import concordance_p_exact

    trap = np.zeros((6, 2), dtype=bool)
    trap[:2] = True
    trap[2, 0] = True
    # every arrangement of column 1 (column 0 fixed: the count only depends on the overlap)
    hits = total = 0
    for rows in itertools.combinations(range(6), int(trap[:, 1].sum())):
        col = np.zeros(6, dtype=bool)
        col[list(rows)] = True
        total += 1
        hits += (trap[:, 0] & col).sum() >= 2
    assert concordance_p_exact(trap) == pytest.approx(hits / total)
