"""The student and instructor editions (pyrl_mini/editions.py, `make editions`).

The student edition holds no solution text: no Solution or Answer block, and none of the
distinctive lines of any reference solution (the notebook's own solution and the library's
reference function) nor of any Think! answer. Its code cells are the source's, cell for cell.
The instructor edition holds every solution in its exercise cell and every answer, and runs
top to bottom with every checker saying "correct" (a slow test, one kernel per notebook).
The student edition is run from a pip-installed wheel by tests/test_install.py, where every
checker must say "not done yet".
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import pytest

from pyrl_mini import editions
from pyrl_mini.exercises import core

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob(editions.NOTEBOOK_STEMS + ".ipynb"))
SOURCES = {p.name: editions.read(p) for p in NOTEBOOKS}
STUDENT = {name: editions.make(nb, "student") for name, nb in SOURCES.items()}
INSTRUCTOR = {name: editions.make(nb, "instructor") for name, nb in SOURCES.items()}


def _text(nb: dict) -> str:
    return "\n".join(editions.source(c) for c in nb["cells"])


def _code(line: str) -> str:
    """A line of code without its indentation and trailing comment."""
    return line.split("  #")[0].strip()


def _code_lines(nbs) -> set[str]:
    return {_code(line) for nb in nbs for c in nb["cells"] if c["cell_type"] == "code"
            for line in editions.source(c).splitlines()}


SOURCE_CODE_LINES = _code_lines(SOURCES.values())
# what the notebooks teach in their prose, outside the collapsed blocks: a formula stated there
# (e.g. notebook 00's tau = (1 - kappa) / 2) is taught, not given away
SOURCE_PROSE = "\n".join(editions.DETAILS.sub(" ", editions.source(c)) for nb in SOURCES.values()
                         for c in nb["cells"] if c["cell_type"] == "markdown")


def _distinctive(lines: list[str]) -> list[str]:
    """Lines of a solution that no code cell and no prose of the source shows (a student cannot
    have seen them), long enough to be one solution's own."""
    return [_code(x) for x in lines if len(_code(x)) >= 16 and not x.strip().startswith("#")
            and _code(x) not in SOURCE_CODE_LINES and _code(x) not in SOURCE_PROSE]


def _library_exercises(name: str) -> list[core.Exercise]:
    module_name = f"pyrl_mini.exercises.nb{editions.number(name)}"
    module = sys.modules.get(module_name) or __import__(module_name, fromlist=["x"])
    return [v for v in vars(module).values() if isinstance(v, core.Exercise)]


def _body_lines(fn) -> list[str]:
    """The reference function's code, without its def line and docstring."""
    src = inspect.getsource(fn)
    src = re.sub(r'^\s*""".*?"""\s*$', "", src, count=1, flags=re.S | re.M)
    return [x for x in src.splitlines()[1:] if x.strip()]


def test_a_notebooks_number_and_the_pattern_that_finds_the_notebooks():
    assert [editions.number(p) for p in NOTEBOOKS] == [
        "00", "00b", "01", "02", "03", "04", "05"]
    assert editions.number("notebooks/00b_modes_and_counting.py") == "00b"
    import fnmatch

    for not_one in (".ipynb_checkpoints", "README.ipynb", "0_scratch.ipynb", "x00_a.ipynb"):
        assert not fnmatch.fnmatch(not_one, editions.NOTEBOOK_STEMS + ".ipynb"), not_one


@pytest.mark.parametrize("name", list(SOURCES))
def test_student_edition_holds_no_solution_and_no_answer(name):
    source, student = SOURCES[name], STUDENT[name]
    text = _text(student)
    assert "<summary>Solution" not in text and "<summary>Answer" not in text
    checked = 0
    for ex in editions.solutions(source):  # the notebook's own solutions
        lines = _distinctive(ex["code"].splitlines())
        assert lines, f"{name}: the solution of {ex['name']} has no line of its own to look for"
        for line in lines:
            assert line not in text, f"{name}: the student edition holds {line!r}"
        checked += 1
    for ex in _library_exercises(name):  # the library's reference solutions
        for line in _distinctive(_body_lines(ex.reference)):
            assert line not in text, f"{name}: the student edition holds {line!r}"
    answers = [m["body"] for c in source["cells"] if c["cell_type"] == "markdown"
               for m in editions.DETAILS.finditer(editions.source(c)) if m["kind"] == "Answer"]
    for body in answers:
        lines = [x.strip() for x in body.splitlines() if len(x.strip()) >= 30]
        assert lines, f"{name}: a Think! answer too short to look for: {body!r}"
        for line in lines:
            assert line not in text, f"{name}: the student edition holds the answer {line!r}"
    assert checked >= 1 and len(answers) >= 2  # every notebook has both, so both were checked
    assert "*Student edition:" in text


@pytest.mark.parametrize("name", list(SOURCES))
def test_student_edition_keeps_every_code_cell_and_scaffold(name):
    code = [editions.source(c) for c in SOURCES[name]["cells"] if c["cell_type"] == "code"]
    assert [editions.source(c) for c in STUDENT[name]["cells"]
            if c["cell_type"] == "code"] == code
    for ex in editions.solutions(SOURCES[name]):
        scaffold = editions.source(SOURCES[name]["cells"][ex["scaffold"]])
        assert scaffold in code and re.search(r"^\s+\.\.\.\s*$", scaffold, re.M)
    assert "jupytext" not in STUDENT[name]["metadata"]  # not paired with a .py it lacks


@pytest.mark.parametrize("name", list(SOURCES))
def test_instructor_edition_runs_each_solution_and_shows_each_answer(name):
    source, instructor = SOURCES[name], INSTRUCTOR[name]
    text = _text(instructor)
    assert "<summary>Solution" not in text and "<summary>Answer" not in text
    for ex in editions.solutions(source):
        cell = editions.source(instructor["cells"][ex["scaffold"]])
        assert ex["code"].strip() in cell and not re.search(r"^\s+\.\.\.\s*$", cell, re.M)
        # the scaffold students get is shown beside it
        assert editions.source(source["cells"][ex["scaffold"]]).strip() in text
    for c in source["cells"]:
        for m in editions.DETAILS.finditer(editions.source(c)):
            if m["kind"] == "Answer":
                assert m["body"].strip() in text
    n_answers = sum(m["kind"] == "Answer" for c in source["cells"]
                    for m in editions.DETAILS.finditer(editions.source(c)))
    assert text.count("**Answer** (instructor edition)") == n_answers
    assert len(instructor["cells"]) == len(source["cells"])
    assert "*Instructor edition:" in text


def test_every_notebook_starts_with_the_same_install_cell():
    firsts = {name: nb["cells"][0] for name, nb in SOURCES.items()}
    cells = {editions.source(c) for c in firsts.values()}
    assert len(cells) == 1 and all(c["cell_type"] == "code" for c in firsts.values())
    cell = cells.pop()
    assert re.search(r"^try:\n    import pyrl_mini\b.*\nexcept ImportError:\n"
                     r"    %pip install (\S+)$", cell, re.M), cell
    assert len(re.findall(r"%pip install", cell)) == 1
    # IPython turns the indented magic into a call, so the cell is valid in a kernel
    from IPython.core.inputtransformer2 import TransformerManager

    python = TransformerManager().transform_cell(cell)
    assert "get_ipython().run_line_magic('pip', 'install " in python
    compile(python, "first cell", "exec")


def _notebook(cells):
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook(cells=[new_markdown_cell(c[1]) if c[0] == "md" else new_code_cell(c[1])
                             for c in cells])
    return editions.json.loads(editions.json.dumps(nb))


def test_a_solution_without_its_scaffold_is_refused_by_name():
    nb = _notebook([("md", "# T"), ("code", "x = 1"),
                    ("md", "<details><summary>Solution</summary>\n\n```python\n"
                           "def f(x):\n    return 2 * x\n```\n</details>")])
    with pytest.raises(editions.EditionError, match=r"cell 2: the solution of f has no "
                       r"scaffold before it \(a code cell with `def f\(` and a body of `...`\)"):
        editions.make(nb, "student")
    with pytest.raises(editions.EditionError, match="'teacher' is not one of self-study, "):
        editions.make(nb, "teacher")


def test_a_cell_holding_only_a_solution_goes_and_other_details_stay():
    nb = _notebook([("md", "# T"), ("code", "def f(x):\n    ..."),
                    ("code", "f = exercises.f.check(f)"),
                    ("md", "<details><summary>Solution (open after trying)</summary>\n\n"
                           "```python\ndef f(x):\n    return 2 * x\n```\n</details>"),
                    ("md", "Think! Why?\n\n<details><summary>Answer</summary>\nBecause.\n"
                           "</details>\n\nOn we go.\n\n<details><summary>More</summary>\nkept"
                           "</details>")])
    student = editions.make(nb, "student")
    assert [editions.source(c) for c in student["cells"][1:]] == [
        "def f(x):\n    ...", "f = exercises.f.check(f)",
        "Think! Why?\n\nOn we go.\n\n<details><summary>More</summary>\nkept</details>"]
    instructor = editions.make(nb, "instructor")
    assert editions.source(instructor["cells"][1]).endswith("def f(x):\n    return 2 * x")
    assert "**Answer** (instructor edition)\n\nBecause." in editions.source(
        instructor["cells"][4])


def test_make_editions_writes_both_folders(tmp_path, capsys):
    sys.path.insert(0, str(REPO / "tools"))
    import editions as tool

    assert tool.main(["--out", str(tmp_path)]) == 0
    for edition in ("student", "instructor"):
        written = sorted(p.name for p in (tmp_path / edition).glob("*.ipynb"))
        assert written == [p.name for p in NOTEBOOKS]
    out = capsys.readouterr().out
    assert f"student: {len(NOTEBOOKS)} notebooks" in out
    assert tool.main(["--out", str(tmp_path), str(tmp_path / "nope.ipynb")]) == 1
    assert "no such notebook" in capsys.readouterr().err


@pytest.fixture(scope="module")
def instructor_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("instructor")
    editions.write_edition(NOTEBOOKS, "instructor", folder)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SOURCES))
def test_instructor_edition_runs_and_every_check_says_correct(name, instructor_folder):
    """Run All of the instructor edition (about as long as the notebook itself)."""
    import nbformat

    from pyrl_mini import lab

    nb = nbformat.read(instructor_folder / name, as_version=4)
    lab.execute(nb, instructor_folder, timeout=600)
    counts = lab.verdicts(nb)
    asked = len(editions.solutions(SOURCES[name])) + len(editions.predictions(SOURCES[name]))
    assert counts == {"correct": asked, "wrong": 0, "not done yet": 0}, counts


@pytest.mark.parametrize("name", list(SOURCES))
def test_instructor_edition_answers_each_prediction_from_the_data(name):
    """A prediction has no stored answer (the data may be rebuilt): the instructor edition
    sets it to what the check's own truth computes, in the cell, with the same context."""
    nb = editions.make(SOURCES[name], "instructor")
    for guess in editions.predictions(SOURCES[name]):
        text = editions.source(nb["cells"][guess["cell"]])
        assert (f"{guess['name']} = exercises.{guess['exercise']}.truth({guess['context']})"
                ".answer") in text
    student = editions.make(SOURCES[name], "student")
    named = lambda nb: [(g["name"], g["context"]) for g in editions.predictions(nb)]  # noqa: E731
    assert named(student) == named(SOURCES[name])  # the student still predicts


def test_a_prediction_is_found_only_with_its_check_right_after():
    cell = lambda text: {"cell_type": "code", "source": text, "outputs": []}  # noqa: E731
    nb = {"cells": [cell("guess = ...  # 'a' or 'b'"), cell("guess = exercises.g.check(guess, h)"),
                    cell("other = ..."), cell("print(other)"),
                    cell("x = ..."), cell("y = exercises.x.check(x)")]}
    assert editions.predictions(nb) == [{"name": "guess", "cell": 0, "exercise": "g",
                                         "context": "h"}]
