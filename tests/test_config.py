import dataclasses

import pytest

from pyrl_mini.config import NetworkSettings, SettingsError, TaskSettings, TrainSettings


@pytest.mark.parametrize("changes, words", [
    ({"kappa": 1.3}, ["kappa=1.3", "(-1, 1)"]),
    ({"kappa": -1.0}, ["kappa=-1.0", "(-1, 1)"]),
    ({"entropy_coef": -0.1}, ["entropy_coef=-0.1", ">= 0"]),
    ({"lr": 0.0}, ["lr=0.0", "> 0"]),
    ({"lr": float("nan")}, ["lr=nan", "finite"]),
    ({"lr": float("inf")}, ["lr=inf", "finite"]),
    ({"baseline_lr": -1.0}, ["baseline_lr=-1.0"]),
    ({"batch_size": 0}, ["batch_size=0", "positive integer"]),
    ({"updates": 2.5}, ["updates=2.5", "positive integer"]),
    ({"wout_std": -0.1}, ["wout_std=-0.1", ">= 0"]),
    ({"network_type": "lstm"}, ["network_type='lstm'", "gru"]),
    ({"network_type": "gur"}, ["Did you mean 'gru'"]),
    ({"readout_rate": "sigmoid"}, ["readout_rate='sigmoid'", "relu"]),
    ({"units": 0}, ["units=0"]),
    ({"decision_steps": -1}, ["decision_steps=-1"]),
    ({"seed": -3}, ["seed=-3"]),
    ({"lr_schedule": "cosine"}, ["lr_schedule='cosine'"]),
])
def test_invalid_settings_name_the_value(changes, words):
    with pytest.raises(SettingsError) as err:
        TrainSettings().replace(**changes)
    for w in words:
        assert w in str(err.value)


def test_unknown_setting_suggests_closest_name():
    with pytest.raises(SettingsError, match="Unknown setting 'entropy_coeff'.*'entropy_coef'"):
        TrainSettings().replace(entropy_coeff=0.01)
    with pytest.raises(SettingsError, match="'wout_std'"):
        TrainSettings.from_dict({"wout_sd": 0.1})
    with pytest.raises(SettingsError, match="'abort_penalty'"):
        TaskSettings.from_dict({"abort_penalti": -1})


def test_settings_are_frozen_and_nested_replace_works():
    s = TrainSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.kappa = 0.5
    t = s.replace(kappa=-0.2, wout_std=0.0, no_choice_penalty=-1.0)
    assert (t.kappa, t.network.wout_std, t.task.no_choice_penalty) == (-0.2, 0.0, -1.0)
    assert s.kappa == 0.0 and s.network.wout_std == 0.05
    assert TrainSettings.from_dict(t.to_dict()) == t


def test_wout_zero_is_allowed_and_means_zero():
    assert NetworkSettings(wout_std=0.0).wout_std == 0.0


def test_schedules():
    s = TrainSettings(kappa=-0.2, kappa_schedule="gradual", kappa_step=0.05,
                      kappa_step_updates=100, updates=1000)
    assert s.kappa_at(0) == 0.0
    assert s.kappa_at(150) == pytest.approx(-0.05)
    assert s.kappa_at(999) == pytest.approx(-0.2)
    e = TrainSettings(lr_schedule="exponential", lr_final_fraction=0.1, updates=101)
    assert e.lr_factor_at(0) == 1.0 and e.lr_factor_at(100) == pytest.approx(0.1)
    assert TrainSettings().lr_factor_at(500) == 1.0


def test_a_word_where_a_number_belongs_is_not_told_to_drop_quotes():
    with pytest.raises(SettingsError, match=r"fixate_bias='abc' is not a number: give a number"):
        TrainSettings().replace(fixate_bias="abc")
    with pytest.raises(SettingsError, match="without quotes"):
        TrainSettings().replace(lr="0.01")
