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
    assert v.count("collapsed runs clipped in any of their last 50 updates").k == 0
    assert v.numbers["final gradient norm, collapsed runs (max)"] < \
        v.numbers["clip threshold (global L2 norm)"]


def test_verdict_1_says_which_runs_its_maximum_comes_from(rows):
    v = rows[0]
    n = v.numbers["nb01_gru runs"]
    assert any(c.n == n for c in v.counts)
    assert any("nb01_gru" in k for k in v.numbers if "max" in k)
    assert np.isfinite(v.numbers["GRU final dead fraction, max over the nb01_gru runs"])
