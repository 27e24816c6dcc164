"""The notebooks' editions, made from their one source (notebooks/NN_*.ipynb):

    self-study  the notebooks as they are: each solution and Think! answer collapsed in a
                <details> block, one click away;
    student     solutions and Think! answers removed; every exercise keeps its scaffold
                (a body of `...`), so the checker says "not done yet" and the notebook
                carries on with the reference solution;
    instructor  every exercise cell holds its solution (the check prints "correct"), and the
                solutions' notes and the Think! answers are shown inline. A prediction (a
                variable the student sets before the reveal) is set to what the notebook's
                own data say, computed in the cell, so its check prints "correct" too.

The markers are the ones every notebook already has (CONTRIBUTING.md): a markdown block
`<details><summary>Solution ...</summary> ... </details>` after each exercise's check cell,
with the solution in a ```python fence, and `<details><summary>Answer</summary> ... </details>`
after each Think!. Only those blocks and the exercise cells change; every other cell is kept
as it is, so an executed notebook keeps its outputs (tools/build_site.py renders the student
edition from the executed source, whose code cells are the same).

Standard library only: `pyrl-mini lab` makes an edition from the notebooks a wheel carries,
and tools/editions.py (`make editions`) writes both editions for a course.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

EDITIONS = ("self-study", "student", "instructor")
# The collection's notebooks are notebooks/<number>_<name>.ipynb (and .py), <number> two digits
# and an optional letter: 00, 00b, 01, ... A stem pattern: add ".ipynb" or ".py".
NOTEBOOK_STEMS = "[0-9][0-9]*_*"
DETAILS = re.compile(r"<details><summary>(?P<kind>Solution|Answer)\b[^<]*</summary>[ \t]*\n?"
                     r"(?P<body>.*?)</details>[ \t]*\n?", re.S)
FENCE = re.compile(r"```python\n(?P<code>.*?)```[ \t]*\n?", re.S)
DEF = re.compile(r"^def (\w+)\(", re.M)
SCAFFOLD_BODY = re.compile(r"^\s+\.\.\.\s*$", re.M)
PREDICTION = re.compile(r"^(?P<name>\w+) = \.\.\.[ \t]*(#.*)?$")
CHECK = re.compile(r"^(?P<name>\w+) = exercises\.(?P<exercise>\w+)\.check\((?P=name)"
                   r"(?:, (?P<context>.*))?\)$")
BANNER = {
    "student": ("*Student edition: the solutions and the answers to the Think! questions are "
                "with your instructor. An exercise you leave as it is prints \"not done yet\" "
                "and the notebook carries on with the reference solution.*"),
    "instructor": ("*Instructor edition: every exercise cell holds its solution (its check "
                   "prints \"correct\"), and the Think! answers are shown. Students get the "
                   "student edition, made from the same source.*"),
}


class EditionError(ValueError):
    """A notebook lacks what an edition needs; the message names the notebook, the cell and
    the fix."""


def number(path: Path | str) -> str:
    """A notebook's number, its file name up to the first "_" ("00", "00b", "05"): it names the
    notebook's exercise module (pyrl_mini/exercises/nb<number>.py) and its guide block."""
    return Path(path).name.split("_", 1)[0]


def source(cell: dict) -> str:
    """A cell's source as one string (a .ipynb file may store it as a list of lines)."""
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def _set_source(cell: dict, text: str) -> None:
    cell["source"] = text.splitlines(keepends=True)


def read(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write(nb: dict, path: Path) -> None:
    """Write a notebook as Jupyter does (one-space indent, a final newline)."""
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def solutions(nb: dict) -> list[dict]:
    """Every exercise of a notebook, in order: {"name", "scaffold" (cell index), "solution"
    (index of the markdown cell holding it), "code" (the solution's code)}."""
    found = []
    cells = nb["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for block in DETAILS.finditer(source(cell)):
            if block["kind"] != "Solution":
                continue
            fence = FENCE.search(block["body"])
            names = DEF.findall(fence["code"]) if fence else []
            if not names:
                raise EditionError(f"cell {i}: a Solution block without a ```python fence "
                                   "defining the function; put the solution's code there")
            name = names[0]
            scaffold = next((j for j in range(i - 1, -1, -1) if cells[j]["cell_type"] == "code"
                             and re.search(rf"^def {name}\(", source(cells[j]), re.M)), None)
            if scaffold is None or not SCAFFOLD_BODY.search(source(cells[scaffold])):
                raise EditionError(f"cell {i}: the solution of {name} has no scaffold before "
                                   f"it (a code cell with `def {name}(` and a body of `...`)")
            found.append({"name": name, "scaffold": scaffold, "solution": i,
                          "code": fence["code"]})
    return found


def predictions(nb: dict) -> list[dict]:
    """Every prediction of a notebook, in order: {"name", "cell" (the code cell `name = ...`),
    "exercise", "context" (the check's other arguments, as written)}. A prediction is a cell
    holding only `name = ...` with the cell `name = exercises.<exercise>.check(name, ...)` right
    after it."""
    found = []
    cells = nb["cells"]
    for i, (cell, after) in enumerate(zip(cells, cells[1:], strict=False)):
        if cell["cell_type"] != "code" or after["cell_type"] != "code":
            continue
        guess, check = PREDICTION.match(source(cell).strip()), CHECK.match(source(after).strip())
        if guess and check and guess["name"] == check["name"]:
            found.append({"name": guess["name"], "cell": i, "exercise": check["exercise"],
                          "context": check["context"] or ""})
    return found


def _label(nb: dict, edition: str) -> None:
    """Say which edition this is under the notebook's title."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown" and re.search(r"^# ", source(cell), re.M):
            text = re.sub(r"^(# .*\n?)", lambda m: m[1].rstrip("\n") + "\n\n" +
                          BANNER[edition] + "\n", source(cell), count=1, flags=re.M)
            _set_source(cell, text)
            return


def _student(nb: dict) -> dict:
    kept = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown" and DETAILS.search(source(cell)):
            text = re.sub(r"\n{3,}", "\n\n", DETAILS.sub("", source(cell))).strip("\n")
            if not text.strip():
                continue  # the cell held only the solution
            _set_source(cell, text)
        kept.append(cell)
    nb["cells"] = kept
    return nb


def _instructor(nb: dict) -> dict:
    cells = nb["cells"]
    scaffolds = {}
    for ex in solutions(nb):
        scaffolds[ex["name"]] = source(cells[ex["scaffold"]])
        _set_source(cells[ex["scaffold"]],
                    "# Instructor edition: the solution. The student edition has the scaffold "
                    "(shown below the check).\n" + ex["code"].rstrip("\n"))
        cells[ex["scaffold"]]["outputs"] = []
        cells[ex["scaffold"]]["execution_count"] = None
    for guess in predictions(nb):
        _set_source(cells[guess["cell"]],
                    "# Instructor edition: what this run's data say (students predict it here).\n"
                    f"{guess['name']} = exercises.{guess['exercise']}.truth({guess['context']})"
                    ".answer")
        cells[guess["cell"]]["outputs"] = []
        cells[guess["cell"]]["execution_count"] = None

    def shown(block: re.Match) -> str:
        body = block["body"].strip("\n")
        if block["kind"] == "Answer":
            return f"**Answer** (instructor edition)\n\n{body}\n"
        fence = FENCE.search(body)
        name = DEF.findall(fence["code"])[0]
        notes = FENCE.sub("", body).strip()
        text = (f"**Solution** (instructor edition): the exercise cell above holds it, so the "
                f"check prints \"correct\". Students get this scaffold:\n\n```python\n"
                f"{scaffolds[name].rstrip()}\n```\n")
        return text + (f"\n{notes}\n" if notes else "")

    for cell in cells:
        if cell["cell_type"] == "markdown" and DETAILS.search(source(cell)):
            _set_source(cell, DETAILS.sub(shown, source(cell)).rstrip("\n"))
    return nb


def make(nb: dict, edition: str) -> dict:
    """The edition of a notebook (a new dict; nb is not changed). Outputs are kept, so an
    executed notebook gives an executed student edition; the instructor edition clears the
    outputs of the cells it rewrites."""
    if edition not in EDITIONS:
        raise EditionError(f"edition {edition!r} is not one of {', '.join(EDITIONS)}")
    nb = copy.deepcopy(nb)
    # Editions are handed out alone: no jupytext pairing with a .py the reader does not have.
    nb.get("metadata", {}).pop("jupytext", None)
    if edition == "self-study":
        return nb
    solutions(nb)  # a notebook whose exercises the edition cannot find is refused first
    nb = _student(nb) if edition == "student" else _instructor(nb)
    _label(nb, edition)
    return nb


def write_edition(notebooks: list[Path], edition: str, out: Path,
                  keep_existing: bool = False) -> tuple[list[Path], list[Path]]:
    """Write `edition` of each notebook into folder `out`; (written, kept). With
    keep_existing a notebook already in `out` is left as it is (a student's work)."""
    out.mkdir(parents=True, exist_ok=True)
    written, kept = [], []
    for path in notebooks:
        target = out / Path(path).name
        if keep_existing and target.exists():
            kept.append(target)
            continue
        try:
            nb = make(read(path), edition)
        except EditionError as err:
            raise EditionError(f"{Path(path).name}: {err}") from None
        write(nb, target)
        written.append(target)
    return written, kept
