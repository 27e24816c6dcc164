"""Notebook 03 (the vanishing gradient) as a document: regressions of its structure."""

import re
from pathlib import Path

import jupytext

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "03_gradient_vanishing.py"


def test_notebook_sections_end_in_prose_and_no_code_cell_holds_markdown():
    """Regression for issue 16: notebook 03's clipping section ended in a code cell whose
    comments held the Think!, its answer and the Exercise heading. Every numbered section of
    the notebook must end with a markdown cell (a conclusion, a Think! or a solution)."""
    cells = jupytext.read(NOTEBOOK).cells
    for i, c in enumerate(cells):
        if c.cell_type == "code":
            assert not re.search(r"^\s*#+ ?(#+ |.*Think!|.*<details>)", c.source, re.M), \
                f"code cell {i} holds markdown in comments"
        elif re.match(r"#+ (\d+\.|Verdicts|Summary)", c.source) and not c.source.startswith(
                "## 1."):  # section 1 follows the import cell
            assert cells[i - 1].cell_type == "markdown", \
                f"the section before cell {i} ({c.source.splitlines()[0]}) ends in code"


def test_notebook_reads_no_lesson_module():
    """Its experiment is in its cells; figures and demos come from plots and widgets."""
    assert not re.search(r"\blessons\b", NOTEBOOK.read_text())
