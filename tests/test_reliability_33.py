"""Issue 33: each input of the second reliability round, and what a user must see now.

Numbered as in the issue. Case 3 (memory) is in tests/test_memory.py, the threshold behind
case 1 in tests/test_diagnose.py, case 8 (the kernel's advice) in tests/test_kernel.py and case
10 (the notebook hang) in tests/test_notebook_soak.py.
"""

import json
import os
import shutil
import stat
import tempfile

import numpy as np
import pytest

import pyrl_mini.trainer as trainer_mod
from pyrl_mini import data
from pyrl_mini.cli import main
from pyrl_mini.config import SettingsError, TrainSettings
from pyrl_mini.diagnose import MIN_UPDATES, diagnose_history, diagnose_log
from pyrl_mini.io import (
    DataFileError,
    load_arrays,
    load_checkpoint,
    load_history,
    save_arrays,
    save_checkpoint,
    save_history,
)
from pyrl_mini.trainer import train

TINY = dict(updates=4, batch_size=8, units=6, baseline_units=4)
SMALL_CLI = ["--updates", "4", "--batch-size", "8", "--set", "units=6", "--set",
             "baseline_units=4", "--no-progress"]


@pytest.fixture
def no_training(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("training started before the input was checked")

    monkeypatch.setattr(trainer_mod, "train", refuse)


# 1. diagnose_history judges runs too short to judge ------------------------------------------

def test_1_a_zero_update_history_is_too_short_not_collapsed():
    # what the CLI used to write after an early Ctrl-C: train(..., stop_after=0) is the same
    result = train(TrainSettings().replace(**TINY), progress=False, stop_after=0)
    assert result.updates_done == 0
    d = diagnose_history(result.history)
    assert d.verdict.startswith("too short to judge (0 updates") and "collapsed" not in d.verdict


def test_1_one_uniform_update_is_too_short_not_always_aborts():
    result = train(TrainSettings(updates=1, batch_size=32, seed=1), progress=False)
    assert abs(result.history["entropy"][0, 0] - np.log(3)) < 0.01  # a uniform policy
    d = diagnose_history(result.history)
    assert d.verdict == f"too short to judge (1 update; a verdict needs {MIN_UPDATES})"
    assert "entropy 1.09" in str(d) and "abort" in str(d)


def test_1_a_log_at_an_early_update_is_too_short_too():
    block = ("Update {}\nPolicy Entropy:\n  Mean entropy: 1.096\nGradient Statistics:\n"
             "  Total norm: 0.01\nLog-probabilities:\n  Mean: -1.1\n  Std: 0.05\n"
             "Advantage (delta_prime):\n  Mean: 0.000001\n  Std: 0.00001\n")
    assert diagnose_log(block.format(0)).verdict.startswith("too short to judge (1 update")
    assert diagnose_log(block.format(MIN_UPDATES - 1)).verdict.startswith("too short")
    assert diagnose_log(block.format(MIN_UPDATES)).verdict.startswith("trapped")
    unnumbered = diagnose_log(block.format(5).split("\n", 1)[1])
    assert unnumbered.verdict.startswith("trapped")
    assert any("names no update" in c for c in unnumbered.caveats)


def test_1_a_diverged_early_run_is_still_called_diverged():
    with pytest.warns(RuntimeWarning):
        result = train(TrainSettings().replace(lr=1e30, **TINY), progress=False)
    assert diagnose_history(result.history).verdict.startswith("diverged at update")


# 2. an early Ctrl-C destroyed the previous run ----------------------------------------------

def interrupt_at_first_update(monkeypatch):
    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer_mod.Ensemble, "rollout", ctrl_c)


def test_2_ctrl_c_before_the_first_update_leaves_the_existing_file(tmp_path, monkeypatch,
                                                                  capsys):
    keep = tmp_path / "keep.npz"
    assert main(["train", "--out", str(keep)] + SMALL_CLI) == 0
    before = keep.read_bytes()
    interrupt_at_first_update(monkeypatch)
    assert main(["train", "--out", str(keep), "--force"] + SMALL_CLI) == 130
    assert keep.read_bytes() == before
    assert load_history(keep)["history"]["reward"].shape == (4, 1)
    assert "interrupted before the first update: nothing saved" in capsys.readouterr().err


def test_2_the_default_history_npz_is_kept_too(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train"] + SMALL_CLI) == 0
    before = (tmp_path / "history.npz").read_bytes()
    assert main(["train"] + SMALL_CLI) == 2  # an existing result needs --force
    assert "history.npz exists (a pyrl_mini history of 4 updates): add --force" in \
        capsys.readouterr().err
    interrupt_at_first_update(monkeypatch)
    assert main(["train", "--force"] + SMALL_CLI) == 130
    assert (tmp_path / "history.npz").read_bytes() == before


def test_2_a_finished_run_replaces_with_force_and_says_so(tmp_path, capsys):
    out, ckpt = tmp_path / "h.npz", tmp_path / "p.pt"
    args = ["train", "--out", str(out), "--checkpoint", str(ckpt)] + SMALL_CLI
    assert main(args) == 0
    assert main(args + ["--seed", "3"]) == 2  # refused before training, both files kept
    assert main(args + ["--seed", "3", "--force"]) == 0
    text = capsys.readouterr().out
    assert "(replacing a pyrl_mini history of 4 updates)" in text
    assert "(replacing a pyrl_mini checkpoint)" in text
    assert load_history(out)["settings"][0].seed == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.npz", "p.pt"]  # no temporaries


# 3. the memory plan: tests/test_memory.py ---------------------------------------------------

# 5. number types -------------------------------------------------------------------------------

def test_5_numpy_scalars_are_taken_as_python_numbers_and_saved(tmp_path):
    s = TrainSettings(kappa=np.float32(0.2), updates=np.int64(4), batch_size=np.int64(8),
                      seed=np.int64(5), lr=np.float64(0.01)).replace(
        units=np.int32(6), baseline_units=np.int16(4), input_noise=np.float32(0.05))
    assert type(s.kappa) is float and s.kappa == float(np.float32(0.2))
    assert type(s.updates) is int and type(s.seed) is int and type(s.network.units) is int
    result = train(s, progress=False)
    loaded = load_history(save_history(tmp_path / "h.npz", result))
    assert loaded["settings"][0] == s
    assert load_checkpoint(save_checkpoint(tmp_path / "p.pt", result))["settings"][0] == s
    json.dumps(s.to_dict())  # plain Python numbers throughout


def test_5_numpy_bools_and_arrays_are_refused_like_python_ones():
    with pytest.raises(SettingsError, match="lr=True"):
        TrainSettings(lr=np.bool_(True))
    assert TrainSettings(kappa=np.array(0.1)).kappa == 0.1  # a 0-d array is a number
    with pytest.raises(SettingsError):
        TrainSettings(kappa=np.array([0.1, 0.2]))


# 6. --out onto a device node or an unrelated file ---------------------------------------------

def test_6_a_device_node_is_refused_before_training(tmp_path, capsys, no_training):
    node = tmp_path / "n"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # /dev/null's numbers
    except PermissionError:
        pytest.skip("making a device node needs root")
    assert main(["train", "--out", str(node)] + SMALL_CLI) == 2
    assert f"--out {node} is a character device, not a regular file" in capsys.readouterr().err
    assert stat.S_ISCHR(os.lstat(node).st_mode)


def test_6_a_pipe_or_a_link_is_refused_too(tmp_path, capsys, no_training):
    fifo, link = tmp_path / "pipe", tmp_path / "link.npz"
    os.mkfifo(fifo)
    link.symlink_to(tmp_path / "elsewhere.npz")
    assert main(["train", "--out", str(fifo)] + SMALL_CLI) == 2
    assert "is a named pipe, not a regular file" in capsys.readouterr().err
    assert main(["train", "--checkpoint", str(link), "--out", str(tmp_path / "h.npz")]
                + SMALL_CLI) == 2
    assert "is a symbolic link, not a regular file" in capsys.readouterr().err


def test_6_an_unrelated_file_is_not_overwritten_silently(tmp_path, capsys, no_training):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    assert main(["train", "--out", str(notes)] + SMALL_CLI) == 2
    err = capsys.readouterr().err
    assert "exists (8 bytes that are not a pyrl_mini result): add --force" in err
    assert notes.read_text() == "my notes"


def test_6_the_library_writer_refuses_a_non_file_too(tmp_path):
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(DataFileError, match="is not a regular file"):
        save_arrays(tmp_path / "d.npz", {"a": np.zeros(1)})


# 7. raw tracebacks before any work ------------------------------------------------------------

def test_7_a_300_character_out_name(tmp_path, capsys, no_training):
    long = tmp_path / ("h" * 300 + ".npz")
    assert main(["train", "--out", str(long)] + SMALL_CLI) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "304 bytes long" in err and "at most 255" in err


def test_7_data_build_into_a_read_only_folder(tmp_path, monkeypatch, capsys):
    def denied(*args, **kwargs):  # what a read-only folder answers (tests may run as root,
        raise PermissionError(13, "Permission denied")  # who may write anywhere)

    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    monkeypatch.setattr(tempfile, "mkstemp", denied)
    monkeypatch.setattr(data, "build", lambda *a, **k: pytest.fail("a build started"))
    assert data.main(["build", "nb04_fixes_fast"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"the data folder {tmp_path} cannot be written (Permission denied)" in err
    assert "PYRL_MINI_DATA" in err


def copy_data(tmp_path, names):
    for name in names:
        shutil.copy(data.DATA_DIR / f"{name}.npz", tmp_path / f"{name}.npz")
    shutil.copy(data.DATA_DIR / "manifest.json", tmp_path / "manifest.json")


def test_7_a_directory_where_a_data_file_should_be(tmp_path, monkeypatch, capsys):
    copy_data(tmp_path, ["nb04_fixes_fast"])
    (tmp_path / "nb00_main_grid.npz").mkdir()
    with pytest.raises(DataFileError, match=r"nb00_main_grid\.npz is a directory.*rebuild it "
                                            r"with `python -m pyrl_mini.data build"):
        data.load("nb00_main_grid", tmp_path)
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    # verify checks every dataset named, the ones after a failure too
    assert data.main(["verify", "nb00_main_grid", "nb04_fixes_fast"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "is a directory" in out and "ok       nb04_fixes_fast" in out


@pytest.mark.parametrize("settings", [[1, 2], "kappa", [{"kappa": "x"}], [{"kapa": 0.1}],
                                      {"kappa": 0.1}])
def test_7_load_history_with_malformed_settings(tmp_path, settings):
    path = tmp_path / "h.npz"
    save_history(path, train(TrainSettings().replace(**TINY), progress=False))
    arrays, meta = load_arrays(path)
    save_arrays(path, arrays, {**meta, "settings": settings})
    with pytest.raises(DataFileError, match=r"h\.npz has settings that cannot be read"):
        load_history(path)


def test_7_train_none_and_a_negative_stop_after():
    with pytest.raises(SettingsError, match=r"train\(\) takes a TrainSettings or a list of "
                                            r"them, not None"):
        train(None)
    with pytest.raises(SettingsError, match=r"stop_after=-1 must be a whole number of "
                                            r"updates, 0 or more"):
        train(TrainSettings().replace(**TINY), stop_after=-1)


# 9. diagnose_log on impossible values ----------------------------------------------------------

LOG = ("Update 600\nPolicy Entropy:\n  Mean entropy: {entropy}\nGradient Statistics:\n"
       "  Total norm: {norm}\nLog-probabilities:\n  Mean: -0.2\n  Std: 0.1\n")


@pytest.mark.parametrize("entropy, norm, named", [
    ("0.45", "1e30", "grad_norm 1e+30 (possible: 0 to 1e+20)"),
    ("-3", "7.7", "entropy -3 (possible: 0 to 1.09861)"),
    ("1.2", "7.7", "entropy 1.2 (possible: 0 to 1.09861)"),
])
def test_9_impossible_values_are_named_not_called_learning(entropy, norm, named):
    d = diagnose_log(LOG.format(entropy=entropy, norm=norm))
    assert d.verdict.startswith("implausible values") and "learning" not in d.verdict
    assert named in str(d)


@pytest.mark.parametrize("spelling", ["1.#QNAN", "-1.#IND", "1.#INF", "1.#SNAN"])
def test_9_microsoft_nan_spellings_are_read_as_non_finite(spelling):
    d = diagnose_log(LOG.format(entropy=spelling, norm="7.7"))
    assert d.verdict == "diverged (non-finite loss or gradient)"


def test_9_uniform_entropy_and_printed_rounding_are_possible():
    assert diagnose_log(LOG.format(entropy="1.098612", norm="0.000000")).verdict.startswith(
        ("saturated", "learning", "nearly", "trapped"))
    assert not diagnose_log(LOG.format(entropy="-0.000000", norm="3.2")).verdict.startswith(
        "implausible")


def test_9_a_history_with_impossible_values():
    result = train(TrainSettings().replace(**{**TINY, "updates": MIN_UPDATES}), progress=False)
    history = {k: v.copy() for k, v in result.history.items()}
    history["entropy"][5] = -3.0
    d = diagnose_history(history)
    assert d.verdict.startswith("implausible values") and "entropy -3" in str(d)
