from pyrl_mini.cli import main
from pyrl_mini.io import load_checkpoint, load_history


def test_train_prints_report_and_saves(tmp_path, capsys):
    out, ckpt = tmp_path / "h.npz", tmp_path / "p.pt"
    rc = main(["train", "--kappa", "-0.2", "--updates", "6", "--report-every", "5",
               "--set", "batch_size=16", "--set", "units=8", "--set", "baseline_units=4",
               "--out", str(out), "--checkpoint", str(ckpt), "--no-progress"])
    text = capsys.readouterr().out
    assert rc == 0
    assert text.count("Advantage (delta_prime):") == 2  # updates 0 and 5 (also the last)
    saved = load_history(out)
    assert saved["history"]["reward"].shape == (6, 1)
    assert saved["settings"][0].kappa == -0.2 and saved["settings"][0].network.units == 8
    state = load_checkpoint(ckpt)
    assert state["params"]["W_out"].shape == (1, 8, 3)


def test_bad_values_exit_2_with_the_fix(capsys):
    assert main(["train", "--kappa", "1.5"]) == 2
    assert "kappa=1.5 is outside (-1, 1)" in capsys.readouterr().err
    assert main(["train", "--set", "wout_sd=0.1"]) == 2
    assert "Did you mean 'wout_std'" in capsys.readouterr().err
    assert main(["train", "--lr", "nan"]) == 2
    assert "lr=nan" in capsys.readouterr().err
