"""The verdicts have one source (pyrl_mini/verdicts.py); the README and notebook 05 agree with it;
each verdict's word is checked against the data it rests on (a rebuilt data/ that turned a
verdict around fails here), and the replication rule is tested on small cases."""
import re
from pathlib import Path

import numpy as np
import pytest

from pyrl_mini import verdicts
from pyrl_mini.verdicts import wilson

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def rows():
    return verdicts.verdicts()


def test_wilson_matches_known_values():
    lo, hi = wilson(0, 10)
    assert lo == 0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson(5, 10)
    assert (lo, hi) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    lo, hi = wilson(10, 10)
    assert hi == 1 and lo == pytest.approx(0.7225, abs=1e-4)
    with pytest.raises(ValueError, match="k=3, n=2"):
        wilson(3, 2)


def test_readme_verdict_table_is_the_computed_one(rows):
    text = README.read_text()
    m = re.search(r"<!-- verdicts:start -->\n(.*?)\n<!-- verdicts:end -->", text, re.S)
    assert m, "README lacks the verdict table between its markers"
    assert m.group(1) == verdicts.verdict_table(rows), (
        "README verdict table differs from pyrl_mini/verdicts.py: regenerate it with "
        ".venv/bin/python -m pyrl_mini.verdicts")


def test_every_count_is_k_of_n_with_its_seeds(rows):
    assert [r.number for r in rows] == list(range(1, 13))
    for r in rows:
        assert r.takeaway and "\n" not in r.takeaway
        for c in r.counts:
            assert 0 <= c.k <= c.n and 1 <= c.seeds <= c.n
            lo, hi = c.interval
            assert lo <= c.rate <= hi
            assert re.fullmatch(r".+: \d+ of \d+ runs \(\d+-\d+ %; \d+ seeds"
                                r"(; blocks \d+/\d+(, \d+/\d+)+)?\)", str(c))
            assert sum(k for k, _ in c.blocks) == c.k or not c.blocks
            assert sum(n for _, n in c.blocks) == c.n or not c.blocks


def test_verdict_5_does_not_say_exactly_zero_at_saturation(rows):
    """Notebook 03: the other gradient component survives to a logit gap of ~104."""
    v = rows[4]
    assert "exactly 0" not in v.takeaway and "exactly zero" not in v.takeaway
    n = v.numbers
    assert n["logit gap where float32 softmax = 1.0"] < 20
    assert 100 < n["logit gap where the other component is exactly 0"] < 110
    assert "104" in v.takeaway  # the prose quotes the computed gap
    assert f"{n['logit gap where the other component is exactly 0']:.0f}" == "104"


def test_verdict_8_does_not_call_a_norm_of_1_small(rows):
    v = rows[7]
    assert "small" not in v.takeaway
    assert v.count("stuck runs clipped in any of their last 50 updates").k == 0
    assert v.numbers["final gradient norm of a stuck run, max"] < \
        v.numbers["clip threshold (global L2 norm)"]


def test_verdict_1_says_which_data_its_two_seed_number_rests_on(rows):
    """The revival fraction needs per-unit flags, which only nb01_gru (2 seeds) records: its
    name says so; every count rests on the 20-seed data."""
    v = rows[0]
    assert [k for k in v.numbers if "nb01_gru" in k] == [
        "revived fraction of units that died (nb01_gru, 2 seeds x 6 cells)"]
    assert all(c.n == c.seeds == 40 and len(c.blocks) == 2 for c in v.counts)


def test_every_count_rests_on_at_least_20_independent_seeds(rows):
    """Issue 20: a frequency rests on >= 20 seeds per compared cell (data.MIN_SEEDS)."""
    from pyrl_mini import data
    for r in rows:
        for c in r.counts:
            assert c.seeds >= data.MIN_SEEDS, (r.number, c.what, c.seeds)


def test_paired_refuses_groups_whose_seeds_do_not_pair():
    from pyrl_mini.sweep import SweepData
    d = SweepData({"seed": np.array([0, 1, 2, 0, 1, 2]), "grid/kappa": np.array(
        [0., 0, 0, .4, .4, .4])})
    flags = np.array([1, 0, 1, 0, 0, 1], bool)
    assert verdicts.paired("t", d, d.by_seed(kappa=0.0), flags, d, d.by_seed(kappa=0.4),
                           flags).pooled == (1, 0, 1.0)
    with pytest.raises(ValueError, match="do not hold the same seeds"):
        verdicts.paired("t", d, d.by_seed(kappa=0.0), flags, d, d.by_seed(kappa=0.4)[::-1],
                        flags)


def test_variant_rows_select_each_variant_in_seed_order():
    """datasets.collapse.variant_rows: the rows of one variant, whose stored grid values are
    that variant's settings, 20 of them, in seed order."""
    from pyrl_mini import data
    from pyrl_mini.datasets import collapse as C
    d = data.load("collapse_fixes")
    for j, (label, changes) in enumerate(C.FIX_VARIANTS.items()):
        rows = C.variant_rows(d, C.COLLAPSE_FIXES, C.FIX_VARIANTS, label)
        assert d.arrays["seed"][rows].tolist() == sorted(sum(C.FIX_BLOCKS, ())), label
        for name, values in C.COLLAPSE_FIXES.grid.items():
            assert np.all(d.arrays[f"grid/{name}"][rows] == values[j]), (label, name)
            if name in changes:
                assert values[j] == changes[name], (label, name)


def test_a_count_replicates_when_its_blocks_intervals_overlap():
    same = verdicts.Count("x", 14, 40, 40, ((7, 20), (7, 20)))
    apart = verdicts.Count("x", 14, 40, 40, ((13, 20), (1, 20)))  # 43-82 % against 1-24 %
    alone = verdicts.Count("x", 7, 20, 20, ((7, 20),))
    assert (same.replicated, apart.replicated, alone.replicated) == (True, False, None)


def test_a_paired_test_replicates_when_each_block_tells_the_pooled_story():
    # pooled difference; each block points the same way without reaching p < 0.05 alone
    assert verdicts.Paired("x", (9, 0, 0.004), ((6, 0, 0.03), (3, 0, 0.25))).replicated
    # pooled difference, one block points the other way
    assert not verdicts.Paired("x", (9, 2, 0.03), ((9, 0, 0.004), (0, 2, 0.5))).replicated
    # pooled difference, a block with no discordant seed does not point anywhere
    assert not verdicts.Paired("x", (9, 0, 0.004), ((9, 0, 0.004), (0, 0, 1.0))).replicated
    # no pooled difference, and none in a block
    assert verdicts.Paired("x", (5, 2, 0.45), ((3, 1, 0.63), (2, 1, 1.0))).replicated
    # no pooled difference, but a block finds one
    assert not verdicts.Paired("x", (8, 6, 0.79), ((8, 0, 0.008), (0, 6, 0.03))).replicated
    assert verdicts.Paired("x", (1, 0, 1.0)).replicated is None


def test_a_verdict_names_what_did_not_replicate():
    ok = verdicts.Count("a", 14, 40, 40, ((7, 20), (7, 20)))
    bad = verdicts.Count("b", 14, 40, 40, ((13, 20), (1, 20)))
    v = verdicts.Verdict(0, "c", "w", "t", [ok, bad])
    assert v.replication == "not replicated: b"
    assert verdicts.Verdict(0, "c", "w", "t", [ok]).replication == "yes"
    assert verdicts.Verdict(0, "c", "w", "t", []).replication == "exact"


def test_verdicts_can_be_computed_one_at_a_time(rows):
    six, = verdicts.verdicts([6])
    assert six.counts == rows[5].counts
    with pytest.raises(ValueError, match="there is no verdict 13"):
        verdicts.verdicts([13])


# --- each verdict's word against its data ---------------------------------------------------
def _test(v, what):
    return next(t for t in v.tests if t.what == what)


def test_verdict_1_units_die_under_adam_not_because_of_kappa(rows):
    v = rows[0]
    adam = v.count("runs ending with > 10 % dead units, Adam (kappa 0)")
    for other in ("Adam eps 0.01", "SGD lr 1"):
        assert v.count(f"runs ending with > 10 % dead units, {other}").k < adam.k
        assert _test(v, f"> 10 % dead, Adam vs {other}").p < 0.05, other
    assert v.numbers["sign test p, dead(kappa -0.4) vs dead(kappa +0.4)"] >= 0.05  # not kappa
    assert v.numbers["revived fraction of units that died (nb01_gru, 2 seeds x 6 cells)"] > 0.2


def test_verdict_2_the_relu_readout_does_worse_but_neither_learns_well(rows):
    v = rows[1]
    relu = v.count("relu readout runs reaching the criterion")
    tanh = v.count("tanh readout runs reaching the criterion")
    assert relu.k < tanh.k and _test(v, "criterion, relu vs tanh readout").p < 0.05
    assert tanh.k < tanh.n / 4  # the SimpleRNN learns poorly with either readout
    assert _test(v, "trapped, relu vs tanh readout").pooled[0] > \
        _test(v, "trapped, relu vs tanh readout").pooled[1]


def test_verdict_3_a_large_wout_traps_more_a_small_one_no_more(rows):
    v = rows[2]
    assert _test(v, "trapped, std 0.05 vs 2").p < 0.05
    assert _test(v, "trapped, std 0.05 vs 0.5").p < 0.05
    assert v.count("runs trapped, W_out std 2").k > v.count("runs trapped, W_out std 0.05 "
                                                            "(default)").k
    assert _test(v, "trapped, std 0.05 vs 0.01").p >= 0.05


def test_verdict_6_kappa_does_not_decide_the_trap(rows):
    v = rows[5]
    assert v.tests[0].p >= 0.05
    assert all(0 < c.k < c.n for c in v.counts)  # every kappa traps some runs, none all


def test_verdict_7_a_small_bonus_prevents_traps_without_keeping_entropy_up(rows):
    v = rows[6]
    assert _test(v, "trapped, kappa -0.4, no bonus vs 0.01").p < 0.05
    assert _test(v, "trapped, lr 0.03, no fix vs 0.05").p < 0.05
    high = v.count("runs at 0.01 ending with entropy > 0.1 (every kappa)")
    assert high.k < high.n / 2  # most runs end below 0.1
    assert v.count("runs trapped, lr 0.03, logit cap 2").k > 0


def test_verdict_9_neither_schedule_helps_a_lower_rate_does(rows):
    v = rows[8]
    for t in v.tests:
        if "decaying lr" in t.what or "gradual kappa" in t.what:
            assert t.p >= 0.05, t.what
    assert _test(v, "trapped, default settings, lr 0.01 vs 0.003").p < 0.05


def test_verdict_10_most_trapped_runs_always_abort(rows):
    v = rows[9]
    aborts = v.count("trapped runs that always abort")
    assert aborts.k > aborts.n / 2


def test_verdict_12_a_bonus_rarely_lifts_a_trapped_run(rows):
    """The rescue: switched on at update 400, 0.2 frees more trapped runs than no bonus (paired,
    both settings pooled), still fewer than half, and almost no stuck run; 0.05 frees no more
    than chance allows."""
    v = rows[11]
    said = "runs {} at update 400 that leave the trap by the end, entropy_coef {:g} from 400"
    freed = {e: v.count(said.format("trapped", e)) for e in (0.0, 0.05, 0.2)}
    stuck = {e: v.count(said.format("stuck (always aborting or never choosing)", e))
             for e in (0.0, 0.05, 0.2)}
    assert freed[0.0].k < freed[0.2].k < freed[0.2].n / 2
    assert _test(v, "both settings: left the trap, no bonus vs 0.2").p < 0.05
    assert _test(v, "both settings: left the trap, no bonus vs 0.05").p >= 0.05
    assert stuck[0.2].k <= stuck[0.2].n / 10 and stuck[0.05].k <= stuck[0.0].k + 1
    assert v.verdict == "partly"


def test_verdict_11_the_readout_bias_traps_and_a_bonus_does_not_free_it(rows):
    """Three blocks of 20 paired seeds (the closest call of the old single block)."""
    v = rows[10]
    assert all(len(c.blocks) == 3 for c in v.counts)
    assert v.count("runs trapped, FIXATE bias 3").k > 2 * v.count("runs trapped, no bias").k
    assert _test(v, "trapped, no bias vs bias 3").p < 0.001 and v.replication == "yes"
    assert _test(v, "trapped, bias 3: no bonus vs 0.05").p >= 0.05


def test_rescue_freed_gives_verdict_12s_counts_per_coefficient():
    from pyrl_mini.datasets.collapse import RESCUE_COEFS
    v = verdicts.verdicts([12])[0]
    freed = verdicts.rescue_freed(v)
    assert set(freed) == {"trapped", "stuck"}
    assert [len(c) for c in freed.values()] == [len(RESCUE_COEFS)] * 2
    assert [c.what for c in freed["trapped"] + freed["stuck"]] == [c.what for c in v.counts[:6]]
    # the stuck runs are a subset of the trapped ones, at every coefficient
    pairs = zip(freed["stuck"], freed["trapped"], strict=True)
    assert all(s.n <= t.n and s.k <= t.k for s, t in pairs)
