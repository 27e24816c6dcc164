"""The readout's initial bias toward FIXATE (upstream's config: b_out = [3, 0, 0])."""

import math

import pytest
import torch

from pyrl_mini import TrainSettings
from pyrl_mini.config import SettingsError
from pyrl_mini.trainer import Ensemble, train


def test_fixate_bias_validated_by_name():
    with pytest.raises(SettingsError, match="fixate_bias=nan must be a finite number"):
        TrainSettings().replace(fixate_bias=float("nan"))
    with pytest.raises(SettingsError, match="fixate_bias=50"):
        TrainSettings().replace(fixate_bias=50)
    with pytest.raises(SettingsError, match="Did you mean 'fixate_bias'"):
        TrainSettings().replace(fixate_bia=3.0)


def test_bias_sets_b_out_per_network_and_pairs_the_rest():
    ens = Ensemble([TrainSettings(seed=3), TrainSettings(seed=3).replace(fixate_bias=3.0)])
    b_out = ens.params["b_out"].detach()
    assert b_out[0].tolist() == [0.0, 0.0, 0.0]
    assert b_out[1].tolist() == [3.0, 0.0, 0.0]
    for name, p in ens.params.items():      # every other parameter identical: paired runs
        if name != "b_out":
            assert torch.equal(p[0], p[1]), name


def test_bias_makes_fixation_likely_at_the_start():
    # With W_out small, pi(FIXATE) ~ e^3 / (e^3 + 2) = 0.909 at the first step.
    res = train([TrainSettings(seed=1, updates=1, batch_size=64),
                 TrainSettings(seed=1, updates=1, batch_size=64).replace(fixate_bias=3.0)],
                progress=False)
    abort = res.history["abort_rate"][0]
    assert abort[0] > 0.9           # no bias: 2/3 per step to break fixation, 7 steps to hold
    assert abort[1] < abort[0] - 0.2
    expected = math.exp(3) / (math.exp(3) + 2)
    assert res.history["max_prob"][0, 1] == pytest.approx(expected, abs=0.05)
