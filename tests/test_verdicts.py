"""The verdicts have one source (pyrl_mini/verdicts.py); the README and notebook 05 agree with it,
and the three contradictions issue 17 found stay gone."""
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
    assert [r.number for r in rows] == list(range(1, 11))
    for r in rows:
        assert r.takeaway and "\n" not in r.takeaway
        for c in r.counts:
            assert 0 <= c.k <= c.n and 1 <= c.seeds <= c.n
            lo, hi = c.interval
            assert lo <= c.rate <= hi
            assert re.fullmatch(r".+: \d+ of \d+ runs \(\d+-\d+ %; \d+ seeds\)", str(c))


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
    assert v.count("always-aborting or never-choosing runs clipped in any of their last 50 "
                   "updates").k == 0
    assert v.numbers["final gradient norm, always-aborting or never-choosing runs (max)"] < \
        v.numbers["clip threshold (global L2 norm)"]


def test_verdict_1_says_which_data_its_two_seed_number_rests_on(rows):
    """The revival fraction needs per-unit flags, which only nb01_gru (2 seeds) records: its
    name says so; every count rests on the 20-seed data."""
    v = rows[0]
    assert [k for k in v.numbers if "nb01_gru" in k] == [
        "revived fraction of units that died (nb01_gru, 2 seeds x 6 cells)"]
    assert all(c.n == c.seeds == 20 for c in v.counts)


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
                           flags) == (1, 0, 1.0)
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
        assert d.arrays["seed"][rows].tolist() == list(C.FIX_SEEDS), label
        for name, values in C.COLLAPSE_FIXES.grid.items():
            assert np.all(d.arrays[f"grid/{name}"][rows] == values[j]), (label, name)
            if name in changes:
                assert values[j] == changes[name], (label, name)
