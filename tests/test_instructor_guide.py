"""docs/instructor_guide.md follows the notebooks: its generated blocks are what
tools/instructor_guide.py writes from the notebooks and the exercise checkers today, every
exercise appears with at least two common wrong answers and the checker's own message, and
every Think! answer is there. The hand-written part states a Run All time per notebook and
the minutes one reader working as a student measured for each notebook's core."""

import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import instructor_guide as guide  # noqa: E402

from pyrl_mini import editions  # noqa: E402

TEXT = guide.GUIDE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rendered():
    return guide.render(TEXT)  # runs tests/test_exercises.py's wrong answers (about 10 s)


def test_generated_blocks_are_current(rendered):
    assert rendered == TEXT, ("docs/instructor_guide.md is out of date: run "
                              ".venv/bin/python tools/instructor_guide.py")


def test_every_exercise_has_two_wrong_answers_with_the_checkers_message():
    for path in guide.NOTEBOOKS:
        number = editions.number(path)
        block = re.search(rf"<!-- generated:{number}:start -->(.*?)<!-- generated", TEXT, re.S)[1]
        items = re.split(r"^- \*\*", block, flags=re.M)[1:]
        names = [ex["name"] for ex in editions.solutions(editions.read(path))]
        exercises = [i for i in items if "common wrong answers" in i]
        assert [re.search(r"\(`(\w+)`\)", i)[1] for i in exercises] == names
        for item in exercises:
            assert len(re.findall(r"says `wrong: ", item)) >= 2, item[:200]
            assert "not done yet: " in item and "`correct: " in item


def test_every_think_answer_is_in_the_guide():
    for path in guide.NOTEBOOKS:
        for _, answer in guide.think_answers(editions.read(path)):
            first = answer.splitlines()[0].strip()
            assert f"> {first}" in TEXT, first


def test_times_are_measured():
    times = re.search(r"## How long it takes(.*?)\n## ", TEXT, re.S)[1]
    assert "measured" in times and "not students" in times  # what was measured, by whom
    for path in guide.NOTEBOOKS:  # the time each notebook states is the latest measured one
        number = editions.number(path)
        minutes = re.search(rf"\b{number} about (\d+)\b", times.replace("\n", " "))[1]
        header = next("".join(c["source"]) for c in editions.read(path)["cells"]
                      if "**Time:**" in "".join(c["source"]))
        assert f"about {minutes} minutes" in " ".join(header.split()), path.name
    for path in guide.NOTEBOOKS:  # one Run All time per notebook, in seconds
        assert re.search(rf"\| `{path.name}` \| \d+ s \|", times), path.name
        # and a reader's minutes for its core
        number = editions.number(path)
        assert re.search(rf"\b{number} about \d+\b", times.replace("\n", " ")), path.name


def test_a_missing_block_is_named(monkeypatch):
    monkeypatch.setattr(guide, "recorded_wrong_answers", lambda: [])
    text = TEXT.replace("<!-- generated:03:start -->", "").replace(
        "<!-- generated:03:end -->", "")
    with pytest.raises(guide.GuideError, match="no generated block for 03_"):
        guide.render(text)


# The guide's assignments name library functions and stored datasets for instructors to use;
# a renamed function (the guide once said analysis.is_collapsed, which never existed under that
# name) must fail here, not in a class.
LIBRARY_NAME = re.compile(r"\b(analysis|stats|data|plots|softmax|risk|trainer)\.([A-Za-z_]\w*)")
DATASET = re.compile(r"""data\.load\(["'](\w+)["']\)""")


def test_names_the_guide_uses_exist():
    import importlib
    names = set(LIBRARY_NAME.findall(TEXT))
    assert ("analysis", "is_trapped") in names   # the pattern finds what it should
    missing = [f"{m}.{n}" for m, n in sorted(names)
               if not hasattr(importlib.import_module(f"pyrl_mini.{m}"), n)]
    assert not missing, f"docs/instructor_guide.md names what pyrl_mini does not have: {missing}"
    datasets = set(DATASET.findall(TEXT))
    assert datasets, "the guide's assignments load stored datasets"
    absent = sorted(d for d in datasets if not (REPO / "data" / f"{d}.npz").exists())
    assert not absent, f"docs/instructor_guide.md loads datasets data/ does not hold: {absent}"


def test_each_answer_is_labelled_with_the_question_it_answers():
    # an exercise's answer in a cell of its own once showed in the guide as a bare "Think!"
    def md(text):
        return {"cell_type": "markdown", "source": text, "metadata": {}}

    nb = {"cells": [
        md("### Exercise 2 (prediction): which is first?\n\nAnswer `\"a\"` or `\"b\"`."),
        {"cell_type": "code", "source": "x = check(x)", "metadata": {}, "outputs": []},
        md("<details><summary>Answer</summary>\n\nA, because.\n</details>"),
        md("**Think!** Why?\n"),
        md("<details><summary>Answer</summary>\n\nBecause.\n</details>")]}
    assert guide.think_answers(nb) == [
        ("Exercise 2 (prediction): which is first? (its answer)", "A, because."),
        ("Why?", "Because.")]
