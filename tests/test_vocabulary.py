"""One vocabulary (notebook 00b's glossary, pyrl_mini/analysis.py): a run is trapped, converged
or learning, never "collapsed". Collapse is the written analysis's word for what its logs show,
so student prose may use it only inside a quotation of the analysis."""

import re
from pathlib import Path

import nbformat
import pytest

from pyrl_mini import editions

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob(editions.NOTEBOOK_STEMS + ".ipynb"))
RETIRED = {"collapsed": "trapped (a run), or the analysis's word in quotation marks"}
QUOTED = re.compile(r'"[^"\n]*"|\u201c[^\u201d\n]*\u201d')


def retired_words(text: str) -> list[str]:
    """The retired words in text outside quotation marks (and outside code spans)."""
    text = re.sub(r"`[^`\n]*`", " ", QUOTED.sub(" ", text))
    return [m.group(0) for word in RETIRED for m in re.finditer(rf"\b{word}\b", text, re.I)]


def test_the_check_sees_a_retired_word_and_spares_a_quotation():
    assert retired_words("Three of the runs collapsed.") == ["collapsed"]
    assert retired_words('The analysis says the network "collapsed" at step 600.') == []
    assert retired_words("`d.collapsed` was renamed") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_prose_uses_the_glossary_words(path):
    nb = nbformat.read(path, as_version=4)
    found = [(i, w) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
             for w in retired_words(c.source)]
    assert not found, (f"{path.name}: retired words in markdown cells {found}; use "
                       + "; ".join(f"{w!r} -> {fix}" for w, fix in RETIRED.items()))


def test_mode_word_gives_the_glossarys_word_for_an_index_or_a_name():
    from pyrl_mini import analysis
    assert [analysis.mode_word(i) for i in range(len(analysis.MODES))] == [
        "converged", "learning", "never chooses", "always aborts", "one side"]
    assert analysis.mode_word("always_aborts") == "always aborts"
    assert analysis.mode_word(-1) == "stopped"
    glossary = Path(__file__).resolve().parents[1].glob("notebooks/00b_*.py")
    text = next(glossary).read_text()
    assert all(f"| **{analysis.mode_word(m)}** (mode)" in text for m in analysis.MODES), "glossary"
