"""The optional results log: Exercise.check appends one JSON line per attempt to a local file
when PYRL_MINI_RESULTS or record_results() asks for it, and writes nothing otherwise."""

import json
import os

import pytest

from pyrl_mini.exercises import core, nb00, nb05


@pytest.fixture(autouse=True)
def fresh_setting(monkeypatch):
    monkeypatch.delenv(core.RESULTS_VARIABLE, raising=False)
    monkeypatch.setattr(core, "_results_setting", core._FROM_ENVIRONMENT)
    monkeypatch.setattr(core, "_warned", set())


def _wrong_sign(d, kappa):
    return (1 + kappa) * d


def _scaffold(d, kappa):
    ...


def test_off_by_default_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    nb00.kappa_transform.check(nb00.reference_kappa_transform)
    nb00.kappa_transform.check(_scaffold)
    assert core.results_file() is None
    assert os.listdir(tmp_path) == [] and opened == []
    assert capsys.readouterr().err == ""


def test_environment_variable_appends_one_line_per_attempt(tmp_path, monkeypatch, capsys):
    log = tmp_path / "results.jsonl"
    monkeypatch.setenv(core.RESULTS_VARIABLE, str(log))
    for attempt in (_scaffold, _wrong_sign, nb00.reference_kappa_transform):
        nb00.kappa_transform.check(attempt)
    nb05.wilson_interval.check(nb05.reference_wilson_interval)
    printed = capsys.readouterr().out.splitlines()
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [x["verdict"] for x in lines] == ["not done yet", "wrong", "correct", "correct"]
    assert [x["exercise"] for x in lines] == ["nb00.kappa_transform"] * 3 + [
        "nb05.wilson_interval"]
    assert [x["notebook"] for x in lines] == ["00", "00", "00", "05"]
    assert [x["message"] for x in lines] == printed  # what the student read, word for word
    assert all(x["time"].endswith("+00:00") and x["time"][:2] == "20" for x in lines)
    assert set(lines[0]) == {"exercise", "notebook", "verdict", "time", "message"}


def test_notebook_setting_overrides_the_environment_and_can_stop(tmp_path, monkeypatch):
    env_log, nb_log = tmp_path / "env.jsonl", tmp_path / "nb.jsonl"
    monkeypatch.setenv(core.RESULTS_VARIABLE, str(env_log))
    assert core.record_results(nb_log) == nb_log
    nb00.gamble_value.check(nb00.reference_gamble_value)
    assert not env_log.exists() and len(nb_log.read_text().splitlines()) == 1
    core.record_results(None)
    nb00.gamble_value.check(nb00.reference_gamble_value)
    assert not env_log.exists() and len(nb_log.read_text().splitlines()) == 1


def test_bad_paths_are_refused_with_the_fix(tmp_path, monkeypatch, capsys):
    with pytest.raises(ValueError, match="is not a file: give a file to append to, e.g. "):
        core.record_results(tmp_path)
    with pytest.raises(ValueError, match="does not exist; create it"):
        core.record_results(tmp_path / "missing" / "r.jsonl")
    # from the environment: the check still prints and returns, and says once why not recorded
    monkeypatch.setenv(core.RESULTS_VARIABLE, str(tmp_path))
    for _ in range(2):
        assert nb00.kappa_transform.check(_wrong_sign) is nb00.reference_kappa_transform
    out, err = capsys.readouterr()
    assert out.count("wrong:") == 2
    assert err.count("not recorded") == 1 and f"PYRL_MINI_RESULTS='{tmp_path}'" in err
