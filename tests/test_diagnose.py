import numpy as np
import pytest

from pyrl_mini import analysis
from pyrl_mini.diagnose import LogFormatError, diagnose_history, diagnose_log, parse_log

ANALYSIS_COLLAPSED = """
Step 600:
Policy Entropy:
  Mean entropy: 0.000001
Advantage (delta_prime):
  Mean: -0.005360
  Positive: 36.6%
  Negative: 63.4%
Log-probabilities:
  Mean: -0.000000
  Std: 0.000000
Gradient Statistics:
  Total norm: 0.000000
"""
HEALTHY = """
Step 1300:
Policy Entropy:
  Mean entropy: 0.452134
Gradient Statistics:
  Total norm: 7.770147
Log-probabilities:
  Mean: -0.005719
  Std: 0.117366
"""


def test_parse_reads_the_upstream_layout():
    (block,) = parse_log(ANALYSIS_COLLAPSED)
    assert block["step"] == 600
    assert block["adv_pos_frac"] == pytest.approx(0.366)
    assert block["adv_mean"] == pytest.approx(-0.00536)
    assert block["grad_norm"] == 0.0


def test_collapsed_log_is_trapped_because_its_advantages_are_zero():
    """Notebook 03: the analysis's collapsed log comes from an always-abort run whose
    advantages are all about zero; the gradient is zero because they are, not (only) because
    onehot(a) - pi is. The old wording said the opposite."""
    d = diagnose_log(ANALYSIS_COLLAPSED)
    assert d.verdict.startswith("trapped")
    text = str(d)
    assert "zero because the advantages are" in text
    assert "not because the advantages do" not in text
    assert "always aborts" in text and "no behaviour" in text


def test_saturated_log_with_large_advantages_is_not_called_trapped():
    log = ANALYSIS_COLLAPSED.replace("Mean: -0.005360", "Mean: -0.005360\n  Std: 0.9")
    d = diagnose_log(log)
    assert d.verdict.startswith("saturated") and "onehot(a) - pi" in str(d)


def test_trapped_needs_no_saturation():
    """An unsaturated policy whose advantages are all ~0 (a stored always-abort run at
    update 690 has log-prob std 0.057) is trapped as well."""
    log = HEALTHY.replace("Total norm: 7.770147", "Total norm: 0.000000") + (
        "Advantage (delta_prime):\n  Mean: 0.000005\n  Std: 0.000376\n")
    assert diagnose_log(log).verdict.startswith("trapped")


def test_a_dropped_incomplete_last_block_is_mentioned():
    d = diagnose_log(HEALTHY + "Step 1310:\nPolicy Entropy:\n  Mean entropy: 0.45\n")
    assert d.verdict.startswith("learning")
    assert any("incomplete" in c and "1310" in c for c in d.caveats)


def test_healthy_and_series():
    assert diagnose_log(HEALTHY).verdict.startswith("learning")
    d = diagnose_log(HEALTHY + ANALYSIS_COLLAPSED)
    assert d.verdict.startswith("trapped") and "2 blocks" in d.evidence[0]


def test_our_own_report_round_trips():
    hist = {k: np.zeros((1, 1)) for k in ("entropy", "max_prob", "grad_norm", "grad_norm_W_in",
                                         "grad_norm_W_rec", "grad_norm_W_out",
                                         "grad_norm_biases", "clipped", "logp_mean", "logp_std",
                                         "adv_mean", "adv_std", "adv_pos_frac", "adv_neg_frac",
                                         "reward", "abort_rate", "higher_ev_rate",
                                         "risky_rate", "left_rate", "dead_fraction",
                                         "dormant_fraction", "kappa", "choice_rate")}
    hist["no_choice_rate"] = np.ones((1, 1))
    hist["reward"] = -0.5 * np.ones((1, 1))
    d = diagnose_log(analysis.report(hist, 0))
    assert d.verdict == "collapsed: never chooses"


@pytest.mark.parametrize("bad", ["", "hello world",
                                 "Step 3:\nPolicy Entropy:\n  Mean entropy: 0.1"])
def test_bad_logs_get_a_clear_message(bad):
    with pytest.raises(LogFormatError):
        diagnose_log(bad)


def test_history_diagnosis():
    U = 60
    h = {k: np.zeros((U, 1)) for k in ("reward", "abort_rate", "no_choice_rate", "choice_rate",
                                       "left_rate", "higher_ev_rate", "entropy", "grad_norm",
                                       "dead_fraction")}
    h["no_choice_rate"][:] = 1.0
    assert diagnose_history(h).verdict == "collapsed: never chooses"
    h["no_choice_rate"][:] = 0.0
    h["choice_rate"][:] = 1.0
    h["left_rate"][:] = 0.5
    h["higher_ev_rate"][:] = 0.9
    assert diagnose_history(h).verdict == "converged"
