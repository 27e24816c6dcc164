"""Issue 18: each input a careful user or tester tried, and what they must see now.

Every test reproduces one input of the issue (numbered as there) and asserts the new behaviour.
"""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

import pyrl_mini.sweep as sweep_mod
from pyrl_mini import analysis, config, data
from pyrl_mini.cli import build_parser, main
from pyrl_mini.config import SettingsError, TrainSettings
from pyrl_mini.diagnose import LogFormatError, diagnose_history, diagnose_log
from pyrl_mini.io import DataFileError, load_arrays, load_checkpoint, load_history
from pyrl_mini.sweep import SweepSpec, run_sweep
from pyrl_mini.trainer import DIAGNOSTICS, train

TINY = dict(updates=4, batch_size=8, units=6, baseline_units=4)
SMALL_CLI = ["--updates", "4", "--batch-size", "8", "--set", "units=6", "--set",
             "baseline_units=4", "--no-progress"]


def tiny_spec(name="tiny", **base):
    return SweepSpec(name=name, base={**TINY, **base}, grid={"kappa": (0.0, -0.3)}, seeds=(0,),
                     stride=2, chunk=1)


@pytest.fixture
def tiny(monkeypatch):
    spec = tiny_spec()
    monkeypatch.setitem(data.DATASETS, spec.name, spec)
    return spec


def interrupt_second_chunk(monkeypatch, seconds=None):
    """Make run_sweep stop (Ctrl-C) in its second chunk; the first one is saved."""
    real, calls = sweep_mod._train_chunk, []

    def flaky(job):
        calls.append(job)
        if len(calls) == 2:
            raise KeyboardInterrupt
        res = real(job)
        if seconds is not None:
            res.seconds = seconds
        return res

    monkeypatch.setattr(sweep_mod, "_train_chunk", flaky)
    return real


# 1. stale data --------------------------------------------------------------------------------

def test_1_changed_definition_makes_the_file_stale(tmp_path, monkeypatch, tiny):
    data.build("tiny", tmp_path, progress=False)
    data.load("tiny", tmp_path)
    monkeypatch.setitem(data.DATASETS, "tiny", tiny_spec(lr=0.05))  # the grid's base edited
    with pytest.raises(DataFileError, match=r"tiny\.npz is stale: .*base\.lr '\(unset\)' -> "
                                            r"0\.05.*pyrl_mini\.data build tiny"):
        data.load("tiny", tmp_path)


def test_1_other_data_version_or_defaults_make_the_file_stale(tmp_path, monkeypatch, tiny):
    data.build("tiny", tmp_path, progress=False)
    monkeypatch.setattr(sweep_mod, "DATA_VERSION", "9.9.9")
    with pytest.raises(DataFileError, match=rf"stale: it was made by data version "
                                            rf"'{re.escape(data.DATA_VERSION)}'"):
        data.load("tiny", tmp_path)
    monkeypatch.setattr(sweep_mod, "DATA_VERSION", data.DATA_VERSION)
    real = sweep_mod._flat_defaults
    monkeypatch.setattr(sweep_mod, "_flat_defaults", lambda: {**real(), "lr": 0.02})
    with pytest.raises(DataFileError, match=r"stale: default settings changed.*lr 0\.01 -> 0\.02"):
        data.load("tiny", tmp_path)
    # a default the definition overrides (tiny sets updates) does not make the file stale
    monkeypatch.setattr(sweep_mod, "_flat_defaults", lambda: {**real(), "updates": 7})
    data.load("tiny", tmp_path)


def test_1_a_changed_default_flags_every_stored_file_that_used_it(monkeypatch):
    """Every file in data/ stores the defaults it was built with (data version 0.2.0 on), so
    a default changed in code (input_noise 0.05 -> 0.06, issue 33's case) makes every dataset
    that does not set input_noise itself stale, and none is served."""
    real = sweep_mod._flat_defaults
    monkeypatch.setattr(sweep_mod, "_flat_defaults", lambda: {**real(), "input_noise": 0.06})
    served = []
    for name, spec in data.DATASETS.items():
        if "input_noise" in {*spec.base, *spec.grid}:
            continue
        try:
            data.load(name)
            served.append(name)
        except DataFileError as err:
            assert "input_noise" in str(err), (name, str(err))
    assert not served, f"served with a changed default: {served}"


def test_1_verify_names_a_stale_file(monkeypatch, capsys):
    # data/nb00_main_grid.npz as it is, against a definition edited in code
    spec = data.DATASETS["nb00_main_grid"]
    edited = SweepSpec(**{**spec.__dict__, "seeds": tuple(spec.seeds) + (99,)})
    monkeypatch.setitem(data.DATASETS, "nb00_main_grid", edited)
    assert data.main(["verify", "nb00_main_grid"]) == 1
    out = capsys.readouterr().out
    assert "nb00_main_grid.npz is stale" in out and "seeds" in out and "build nb00_main_grid" in out


def test_1_resumed_build_never_mixes_chunks_of_another_version(tmp_path, monkeypatch, tiny):
    interrupt_second_chunk(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        data.build("tiny", tmp_path, progress=False)
    assert len(list((tmp_path / ".partial").glob("tiny-*/chunk*.npz"))) == 1
    monkeypatch.undo()
    monkeypatch.setitem(data.DATASETS, "tiny", tiny)
    monkeypatch.setattr(sweep_mod, "DATA_VERSION", "9.9.9")  # the trainer's numbers changed
    calls = []
    real = sweep_mod._train_chunk
    monkeypatch.setattr(sweep_mod, "_train_chunk", lambda job: (calls.append(job), real(job))[1])
    data.build("tiny", tmp_path, progress=False)
    assert len(calls) == 2, "a chunk made under the old version was reused"
    assert data.load("tiny", tmp_path).meta["data_version"] == "9.9.9"


# 2. diagnoses of diverged runs ----------------------------------------------------------------

def diverged_run():
    return train(TrainSettings().replace(lr=1e30, **TINY), progress=False)


def test_2_cli_report_of_a_nan_run_is_diverged_not_learning():
    with pytest.warns(RuntimeWarning):
        result = diverged_run()
    stop = int(result.stopped_at[0])
    assert stop >= 0
    log = analysis.report(result.history, stop, 0)  # what the CLI prints at that update
    assert "Mean entropy: nan" in log and "Total norm: nan" in log
    d = diagnose_log(log)
    assert d.verdict.startswith("diverged") and "learning" not in d.verdict


def test_2_nan_behaviour_rates_of_a_live_run_are_not_divergence():
    result = train(TrainSettings().replace(**TINY), progress=False)
    hist = {k: v.copy() for k, v in result.history.items()}
    for k in ("higher_ev_rate", "risky_rate", "left_rate"):  # a batch without choices
        hist[k][0] = np.nan
    log = analysis.report(hist, 0, 0)
    assert "Higher-EV choices: nan%" in log
    assert not diagnose_log(log).verdict.startswith("diverged")


@pytest.mark.parametrize("spelling", ["NaN", "inf", "-Infinity", "nan"])
def test_2_nan_and_inf_spellings_are_read(spelling):
    log = ("Policy Entropy:\n  Mean entropy: 0.5\nGradient Statistics:\n"
           f"  Total norm: {spelling}\nLog-probabilities:\n  Mean: -0.2\n  Std: 0.1\n")
    d = diagnose_log(log)
    assert d.verdict == "diverged (non-finite loss or gradient)"
    assert "grad_norm" in str(d)


def test_2_history_of_a_diverged_run_is_diverged():
    with pytest.warns(RuntimeWarning):
        result = diverged_run()
    stop = int(result.stopped_at[0])
    d = diagnose_history(result.history)
    assert d.verdict == f"diverged at update {stop} (non-finite loss or gradient)"


# 3. bad --out / --checkpoint found before training ---------------------------------------------

@pytest.fixture
def no_training(monkeypatch):
    import pyrl_mini.trainer as trainer

    def refuse(*args, **kwargs):
        raise AssertionError("training started before the output path was checked")

    monkeypatch.setattr(trainer, "train", refuse)


def test_3_out_is_a_directory(tmp_path, capsys, no_training):
    assert main(["train", "--out", str(tmp_path)] + SMALL_CLI) == 2
    err = capsys.readouterr().err
    assert f"--out {tmp_path} is a directory" in err and "history.npz" in err


def test_3_checkpoint_in_an_unwritable_place(tmp_path, capsys, no_training):
    (tmp_path / "notes.txt").write_text("a file")
    bad = tmp_path / "notes.txt" / "params.pt"
    assert main(["train", "--out", str(tmp_path / "h.npz"), "--checkpoint", str(bad)]
                + SMALL_CLI) == 2
    err = capsys.readouterr().err
    assert f"--checkpoint {bad}" in err and "is a file, not a folder" in err


def test_3_out_in_a_folder_without_write_permission(tmp_path, capsys, monkeypatch, no_training):
    import pyrl_mini.cli as cli

    def denied(dir=None, prefix=None):  # what mkstemp raises in a read-only folder (tests may
        raise PermissionError(13, "Permission denied")  # run as root, who may write anywhere)

    monkeypatch.setattr(cli.tempfile, "mkstemp", denied)
    assert main(["train", "--out", str(tmp_path / "runs" / "h.npz")] + SMALL_CLI) == 2
    err = capsys.readouterr().err
    assert f"--out {tmp_path / 'runs' / 'h.npz'} cannot be written (Permission denied in " \
           f"{tmp_path})" in err


def test_3_a_save_that_fails_after_all_keeps_the_run(tmp_path, capsys, monkeypatch):
    import pyrl_mini.io as io

    real = io.save_history

    def full_disk(path, result):
        if str(path).startswith(str(tmp_path)):
            raise OSError(28, "No space left on device")
        return real(path, result)

    monkeypatch.setattr(io, "save_history", full_disk)
    assert main(["train", "--out", str(tmp_path / "h.npz")] + SMALL_CLI) == 0
    err = capsys.readouterr().err
    saved = err.split("saved it to ")[1].split(" instead")[0]
    assert load_history(saved)["history"]["reward"].shape == (4, 1)


# 4. numbers given as strings or bools ---------------------------------------------------------

@pytest.mark.parametrize("changes", [{"lr": "0.01"}, {"kappa": "0.1"}, {"updates": "5"},
                                     {"lr": True}, {"wout_std": False}])
def test_4_strings_and_bools_are_not_numbers(changes):
    (name, value), = changes.items()
    with pytest.raises(SettingsError, match=f"{name}={value!r}"):
        TrainSettings().replace(**changes)


def test_4_cli_quoted_number(capsys, no_training):
    assert main(["train", "--set", 'lr="0.01"']) == 2
    assert "lr='0.01' is a string, not a number" in capsys.readouterr().err


# 5. sizes bounded by this machine -------------------------------------------------------------

@pytest.mark.parametrize("changes, words", [
    ({"batch_size": 10**9}, ["batch_size=1000000000", "limit 65_536", "24 GiB"]),
    ({"updates": 10**9}, ["updates=1000000000", "limit 1_000_000", "27 float32"]),
    ({"units": 10**5}, ["units=100000", "limit 4_096"]),
    ({"batch_size": 60000, "units": 4000}, ["GiB", "batch_size=60000", "Lower batch_size"]),
])
def test_5_oversized_runs_are_refused_with_the_limit(changes, words):
    with pytest.raises(SettingsError) as err:
        TrainSettings().replace(**changes)
    for w in words:
        assert w in str(err.value)


def test_5_limits_follow_the_recorded_history():
    assert config.HISTORY_DIAGNOSTICS == len(DIAGNOSTICS)
    biggest = TrainSettings(batch_size=512, updates=2000)  # the largest dataset settings
    assert config.planned_bytes([biggest] * 8) < config.MEMORY_BUDGET
    for spec in data.DATASETS.values():  # every dataset's settings stay valid
        assert config.planned_bytes(spec.settings()[:spec.chunk]) < config.MEMORY_BUDGET


def test_5_sweep_ensembles_are_bounded_too():
    with pytest.raises(SettingsError, match=r"sweep 'wide' \(ensembles of 64 networks\) would "
                                            r"need about .* GiB"):
        SweepSpec(name="wide", base={"batch_size": 8192}, seeds=tuple(range(64)), chunk=64)


def test_5_plain_ensembles_are_bounded_too():
    """train([...]) with many members refuses before allocating, like a sweep does."""
    from pyrl_mini.trainer import train
    one = TrainSettings(batch_size=8192, updates=10)  # fits alone
    with pytest.raises(SettingsError, match=r"an ensemble of 64 networks would need about"):
        train([one.replace(seed=k) for k in range(64)], progress=False)


def test_5_cli_refuses_before_allocating(capsys, no_training):
    assert main(["train", "--batch-size", str(10**9)]) == 2
    assert "batch_size=1000000000 is above the limit" in capsys.readouterr().err


# 6. a broken manifest is refused before a build trains ----------------------------------------

def test_6_build_with_a_broken_manifest_trains_nothing(tmp_path, monkeypatch, tiny):
    (tmp_path / "manifest.json").write_text('{"files": {')
    monkeypatch.setattr(sweep_mod, "_train_chunk",
                        lambda job: pytest.fail("trained despite a broken manifest"))
    with pytest.raises(DataFileError, match=r"manifest\.json is not valid JSON.*git checkout"):
        data.build("tiny", tmp_path, progress=False)
    assert not (tmp_path / "tiny.npz").exists()


def test_6_command_line_build_with_a_broken_manifest(tmp_path):
    (tmp_path / "manifest.json").write_text("{broken")
    run = subprocess.run([sys.executable, "-m", "pyrl_mini.data", "build", "nb04_fixes_fast"],
                         capture_output=True, text=True, timeout=120,
                         env={"PYRL_MINI_DATA": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 2
    assert run.stderr.startswith("error: ") and "git checkout" in run.stderr
    assert "Traceback" not in run.stderr and "building" not in run.stdout


# 7. no raw tracebacks: each names the file and the fix ----------------------------------------

def test_7_manifest_without_files_and_entry_without_sha256(tmp_path):
    import shutil

    shutil.copy(data.DATA_DIR / "nb00_main_grid.npz", tmp_path / "nb00_main_grid.npz")
    (tmp_path / "manifest.json").write_text('{"nb00_main_grid.npz": {}}')
    with pytest.raises(DataFileError, match=r"manifest\.json has no \"files\" table.*git"):
        data.load("nb00_main_grid", tmp_path)
    (tmp_path / "manifest.json").write_text('{"files": {"nb00_main_grid.npz": {"bytes": 1}}}')
    with pytest.raises(DataFileError, match=r"entry for nb00_main_grid\.npz .* has no sha256"
                                            r".*build nb00_main_grid"):
        data.load("nb00_main_grid", tmp_path)


def test_7_npz_with_a_non_json_meta(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, a=np.zeros(2), __meta__=np.array("not json {"))
    with pytest.raises(DataFileError, match=r"x\.npz has a __meta__ entry that is not JSON"):
        load_arrays(path)


def test_7_checkpoint_without_settings(tmp_path):
    path = tmp_path / "p.pt"
    torch.save({"params": {"W_out": torch.zeros(2)}}, path)
    with pytest.raises(DataFileError, match=r"p\.pt is a torch file but not a pyrl_mini "
                                            r"checkpoint.*settings_json"):
        load_checkpoint(path)


def test_7_corrupt_partial_chunk_is_trained_again(tmp_path, capsys):
    spec = tiny_spec()
    full = run_sweep(spec, progress=False)
    folder = tmp_path / f"{spec.name}-{spec.digest()}"
    folder.mkdir()
    (folder / "chunk0000.npz").write_bytes(b"half a file")
    again = run_sweep(spec, progress=False, partial_dir=tmp_path)
    np.testing.assert_array_equal(again["h/reward"], full["h/reward"])
    out = capsys.readouterr().out
    assert "chunk0000.npz is corrupt" in out and "Training chunk 0 again" in out


# 8. a diverged CLI run exits non-zero ---------------------------------------------------------

def test_8_cli_diverged_run_exits_3_and_keeps_the_history(tmp_path, capsys):
    out = tmp_path / "h.npz"
    assert main(["train", "--lr", "1e30", "--out", str(out)] + SMALL_CLI) == 3
    err = capsys.readouterr().err
    assert "error: the network diverged at update" in err and "--lr" in err
    assert load_history(out)["stopped_at"][0] >= 0


# 9. smaller --------------------------------------------------------------------------------

def test_9_unknown_keyword_gets_the_closest_name():
    with pytest.raises(SettingsError, match="Unknown setting 'kapa'.*Did you mean 'kappa'"):
        TrainSettings(kapa=0.1)
    with pytest.raises(TypeError):  # still what Python code expects of a bad keyword
        TrainSettings(kapa=0.1)


def test_9_seed_above_what_torch_takes():
    TrainSettings(seed=2**64 - 1)
    with pytest.raises(SettingsError, match=r"seed=18446744073709551616 .* 2\*\*64 - 1"):
        TrainSettings(seed=2**64)


def test_9_bytes_and_other_types_given_to_the_diagnoser():
    log = ("Policy Entropy:\n  Mean entropy: 0.45\nGradient Statistics:\n  Total norm: 7.7\n"
           "Log-probabilities:\n  Mean: -0.2\n  Std: 0.1\n")
    assert diagnose_log(log.encode()).verdict == diagnose_log(log).verdict
    with pytest.raises(LogFormatError, match="must be text .*not int"):
        diagnose_log(42)


def test_9_truncated_last_block_is_named():
    log = ("Step 100:\nPolicy Entropy:\n  Mean entropy: 0.45\nGradient Statistics:\n"
           "  Total norm: 7.7\nLog-probabilities:\n  Mean: -0.2\n  Std: 0.1\n"
           "Step 200:\nPolicy Entropy:\n  Mean entropy: 0.0001\n")
    d = diagnose_log(log)
    assert any("last block (step 200) is incomplete" in c and "(step 100)" in c
               for c in d.caveats)


def test_9_resumed_build_records_the_time_of_both_parts(tmp_path, monkeypatch, tiny):
    interrupt_second_chunk(monkeypatch, seconds=50.0)  # the first part took 50 s
    with pytest.raises(KeyboardInterrupt):
        data.build("tiny", tmp_path, progress=False)
    monkeypatch.undo()
    monkeypatch.setitem(data.DATASETS, "tiny", tiny)
    data.build("tiny", tmp_path, progress=False)
    entry = data.read_manifest(tmp_path)["files"]["tiny.npz"]
    assert entry["resumed_chunks"] == 1 and entry["seconds"] >= 50.0


def test_9_report_every_negative_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--report-every", "-1"])
    assert exit_.value.code == 2
    assert "--report-every: -1 is negative" in capsys.readouterr().err


def test_9_concurrent_builds_of_one_dataset(tmp_path, monkeypatch, tiny):
    monkeypatch.setattr(sweep_mod, "_train_chunk",
                        lambda job: pytest.fail("the second build trained"))
    with data._build_lock(tmp_path, "tiny"):  # a first build is running
        with pytest.raises(DataFileError, match="another process is building tiny"):
            data.build("tiny", tmp_path, progress=False)


def test_9_mistyped_option_gets_the_closest(capsys):
    for argv, hint in ((["train", "--kapa", "0.1"], "Did you mean --kappa?"),
                       (["train", "--wout-std", "0"], "Use --set wout_std=VALUE.")):
        with pytest.raises(SystemExit):
            main(argv)
        assert hint in capsys.readouterr().err


def test_9_verify_takes_names(capsys):
    assert data.main(["verify", "nb00_main_grid"]) == 0
    assert capsys.readouterr().out.split() == ["ok", "nb00_main_grid"]
    assert data.main(["verify", "main_gird"]) == 2


def test_9_reports_go_through_tqdm_write(tmp_path, monkeypatch):
    from tqdm.auto import tqdm

    written = []
    monkeypatch.setattr(tqdm, "write", classmethod(lambda cls, s, file=None: written.append(s)))
    assert main(["train", "--report-every", "2", "--out", str(tmp_path / "h.npz")]
                + SMALL_CLI) == 0
    assert sum("Advantage (delta_prime):" in s for s in written) == 3  # updates 0, 2, 3


def test_9_help_shows_meaning_and_default_and_settings_are_listed(capsys):
    train_parser = build_parser()._subparsers._group_actions[0].choices["train"]
    for action in train_parser._actions:
        assert action.help, action.option_strings
    text = train_parser.format_help()
    assert "policy learning rate (default: 0.01)" in " ".join(text.split())
    assert main(["train", "--list-settings"]) == 0
    listed = capsys.readouterr().out
    for _group, name, default, meaning in config.settings_table():
        assert meaning, name
        assert f"  {name} " in listed and json.dumps(default) in listed
