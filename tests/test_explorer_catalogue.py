"""data.catalogue: every run of several datasets, found by its settings."""

import numpy as np
import pytest

from pyrl_mini import data


@pytest.fixture(scope="module")
def cat():
    return data.catalogue()


def test_catalogue_matches_the_data(cat):
    name, rows = cat.match("GRU", 0.05, 0.01, 0.4, 0.0)
    assert name == "nb00_main_grid" and len(rows) == 3
    name, rows = cat.match("GRU", 0.05, 0.03, 0.0, 0.0)
    assert name == "nb03_kappa_lr" and len(rows) == 3
    name, rows = cat.match("SimpleRNN, tanh readout", 0.05, 0.01, -0.4, 0.05)
    assert name == "nb01_simple" and len(rows) == 2
    assert cat.match("GRU", 0.05, 0.03, 0.0, 0.05)[0] is None
    assert cat.values("kappa") == [-0.4, -0.2, 0.0, 0.2, 0.4]
    assert cat.available("GRU", 0.05, 0.03) == [(k, 0.0) for k in cat.values("kappa")]


def test_catalogue_rows_carry_their_datasets_settings(cat):
    """Each row's settings are those its dataset's definition gives the row's cell, and a
    setting held by two datasets is read from the first one named."""
    for name, d in cat.datasets.items():
        settings = data.DATASETS[name].settings()
        mine = np.nonzero(cat.source == name)[0]
        assert len(mine) == len(d.arrays["cell"])
        for i in mine[:: max(1, len(mine) // 7)]:
            s = settings[d.arrays["cell"][cat.row[i]]]
            assert (cat.network[i], cat.kappa[i], cat.lr[i], cat.seed[i]) == (
                data.network_label(s), s.kappa, s.lr, s.seed)
            assert np.isclose(cat.wout_std[i], s.network.wout_std)
            assert np.isclose(cat.entropy_coef[i], s.entropy_coef)
    # the main grid, the W_out sweep and the GRU runs of notebook 01 all hold the default
    # settings at kappa 0: the first one named wins
    default = ("GRU", 0.05, 0.01, 0.0, 0.0)
    assert cat.match(*default)[0] == "nb00_main_grid"
    assert data.catalogue(("nb01_gru", "nb00_main_grid")).match(*default)[0] == "nb01_gru"
