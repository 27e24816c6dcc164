"""Keep the parts of docs/instructor_guide.md that come from code in step with the notebooks.

    .venv/bin/python tools/instructor_guide.py          # rewrite the generated blocks
    .venv/bin/python tools/instructor_guide.py --check  # exit 1 if a block is out of date

The guide is hand-written prose (how to run a course, measured times, assignments, grading)
around one generated block per notebook, between `<!-- generated:NN:start -->` and
`<!-- generated:NN:end -->`. A block holds, from the notebook and the library:
- its learning objectives and its own time estimate (from the notebook's first cell);
- each exercise (notebooks/NN_*.ipynb, pyrl_mini.exercises.nbNN): what its checker accepts,
  what it says to the untouched scaffold, and the common wrong answers with the message the
  checker prints for each. The wrong answers are the ones tests/test_exercises.py feeds the
  checkers: its tests run here with the checker's verdict recorded, so a wrong answer added
  there shows up here;
- each Think! question with its answer.
tests/test_instructor_guide.py fails when a block differs from what this script writes.
"""

from __future__ import annotations

import argparse
import ast
import functools
import importlib
import importlib.util
import inspect
import re
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's pyrl_mini, also when not installed

from pyrl_mini import editions  # noqa: E402
from pyrl_mini.exercises import core  # noqa: E402

GUIDE = REPO / "docs" / "instructor_guide.md"
NOTEBOOKS = sorted((REPO / "notebooks").glob(editions.NOTEBOOK_STEMS + ".ipynb"))
BLOCK = re.compile(r"(<!-- generated:(\d\d[a-z]?):start -->\n)(.*?)(<!-- generated:\2:end -->)",
                   re.S)
MIN_WRONG = 2


class GuideError(Exception):
    """The guide cannot be made; the message says what to fix."""


# --------------------------------------------------------------------------- wrong answers

def recorded_wrong_answers() -> list[tuple[core.Exercise, str, str]]:
    """(exercise, the wrong answer's code, the checker's message) for every wrong answer that
    tests/test_exercises.py gives a checker, found by running its tests with `_wrong`
    recording (tests that need pytest fixtures hold no wrong answers and are skipped)."""
    spec = importlib.util.spec_from_file_location("guide_test_exercises",
                                                  REPO / "tests" / "test_exercises.py")
    tests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tests)
    original, seen = tests._wrong, []

    def recording(exercise, fn):
        message = original(exercise, fn)
        seen.append((exercise, fn, message))
        return message

    tests._wrong = recording
    for name, fn in list(vars(tests).items()):
        if name.startswith("test_") and inspect.isfunction(fn) and not any(
                p.default is p.empty for p in inspect.signature(fn).parameters.values()):
            try:
                fn()
            except Exception as err:
                raise GuideError(f"tests/test_exercises.py::{name} fails ({err!r}); fix it "
                                 "first (pytest tests/test_exercises.py)") from None
    return [(exercise, wrong_answer_source(fn), message) for exercise, fn, message in seen]


def wrong_answer_source(fn) -> str:
    """The wrong answer as written in the test: a lambda's expression, or a function's code."""
    if fn.__name__ != "<lambda>":
        return textwrap.dedent(inspect.getsource(fn)).strip()
    line = fn.__code__.co_firstlineno
    args = list(fn.__code__.co_varnames[:fn.__code__.co_argcount])
    found = [segment for lineno, names, segment in _lambdas(inspect.getsourcefile(fn))
             if lineno == line and names == args]
    if len(found) != 1:
        return f"lambda {', '.join(args)}: ... (line {line} of tests/test_exercises.py)"
    return found[0]


@functools.cache
def _lambdas(path: str) -> list[tuple[int, list[str], str]]:
    """(line, argument names, source on one line) of every lambda in a file."""
    text = Path(path).read_text()
    lines = text.splitlines(keepends=True)
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Lambda):
            rows = lines[node.lineno - 1:node.end_lineno]
            rows[-1] = rows[-1][:node.end_col_offset]
            rows[0] = rows[0][node.col_offset:] if len(rows) > 1 else \
                rows[0][node.col_offset:node.end_col_offset]
            found.append((node.lineno, [a.arg for a in node.args.args], " ".join(
                "".join(rows).split())))
    return found


# --------------------------------------------------------------------------- notebooks

def _markdown(nb: dict) -> list[str]:
    return [editions.source(c) for c in nb["cells"] if c["cell_type"] == "markdown"]


def objectives(nb: dict, name: str) -> tuple[str, str]:
    """(the learning objectives as a markdown list, the notebook's own time estimate)."""
    first = next(t for t in _markdown(nb) if "**Learning objectives.**" in t)
    m = re.search(r"\*\*Learning objectives\.\*\*[^\n]*\n(.*?)\n\s*\n", first, re.S)
    t = re.search(r"\*\*Time:\*\*\s*(.*?)(?:;|\.\s|$)", first, re.S)
    if not m or not t:
        raise GuideError(f"{name}: its first cell lacks '**Learning objectives.** You will' "
                         "with a numbered list, or '**Time:** ...'")
    return m[1].strip(), " ".join(t[1].split())


EXERCISE_HEADING = re.compile(r"^#+ (.*\bExercise\b.*)$", re.M | re.I)


def exercise_titles(nb: dict) -> dict[int, str]:
    """{scaffold cell index: the '### Exercise N: ...' heading above it}."""
    titles, heading = {}, None
    for i, cell in enumerate(nb["cells"]):
        for h in EXERCISE_HEADING.findall(editions.source(cell)):
            heading = h.strip()
        titles[i] = heading
    return titles


def think_answers(nb: dict) -> list[tuple[str, str]]:
    """(question, answer) of every answer block: the Think! or exercise it answers, the nearest
    one above it (in its own cell or an earlier one)."""
    pairs, last = [], ""

    def asked(text: str) -> str:   # the last question a stretch of markdown asks, or ""
        think = text.rfind("**Think!**")
        heads = list(EXERCISE_HEADING.finditer(text))
        if heads and heads[-1].start() > think:
            return f"{heads[-1][1].strip()} (its answer)"
        return text[think:].replace("**Think!**", "").strip() if think >= 0 else ""

    for text in _markdown(nb):
        for m in editions.DETAILS.finditer(text):
            if m["kind"] != "Answer":
                continue
            q = asked(text[:m.start()]) or last
            pairs.append((" ".join(q.split()), m["body"].strip()))
        last = asked(editions.DETAILS.sub("", text)) or last
    return pairs


def _quote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines())


def _not_done_message(exercise: core.Exercise) -> str:
    def scaffold(*args, **kwargs):
        ...

    return exercise.verdict(scaffold)[0]


def block(path: Path, wrong: list) -> str:
    """The generated block of one notebook."""
    nb = editions.read(path)
    number = editions.number(path)
    module = importlib.import_module(f"pyrl_mini.exercises.nb{number}")
    by_name = {v.name: v for v in vars(module).values() if isinstance(v, core.Exercise)}
    goals, estimate = objectives(nb, path.name)
    titles = exercise_titles(nb)
    out = [f"*Generated from [`notebooks/{path.name}`](../notebooks/{path.name}) and "
           f"`pyrl_mini/exercises/nb{number}.py` by `tools/instructor_guide.py`; do not edit "
           "between the markers.*", "",
           "**Learning objectives.** The student will", "", goals, "",
           f"**The time the notebook states:** {estimate.rstrip('.')} (see *How long it "
           "takes*).", "",
           "**Exercises**", ""]
    for ex in editions.solutions(nb):
        exercise = by_name.get(ex["name"])
        if exercise is None:
            raise GuideError(f"{path.name}: exercise {ex['name']} has no Exercise in "
                             f"pyrl_mini/exercises/nb{number}.py")
        doc = inspect.getdoc(exercise.reference) or ""
        what = " ".join(doc.split("\n\n")[0].split())
        mistakes = []
        for e, source, message in wrong:
            item = (source, message)
            if e is exercise and item not in mistakes:
                mistakes.append(item)
        if len(mistakes) < MIN_WRONG:
            raise GuideError(f"{ex['name']} ({path.name}) has {len(mistakes)} wrong answers "
                             f"in tests/test_exercises.py; give it at least {MIN_WRONG}")
        out += [f"- **{titles.get(ex['scaffold']) or ex['name']}** (`{ex['name']}`)",
                f"  - the student writes: {what}",
                f"  - the checker (`pyrl_mini/exercises/nb{number}.py`) runs the student's "
                "function on its own cases against the reference solution and prints one "
                f"line; when it is right: `correct: {exercise.success}`",
                f"  - the untouched scaffold: `{_not_done_message(exercise)}`",
                "  - common wrong answers and what the checker says:"]
        for source, message in mistakes:
            if "\n" in source:
                code = textwrap.indent(f"```python\n{source}\n```", "      ")
                out += ["    - a function", "", code, "", f"      says `{message}`"]
            else:
                out += [f"    - `{source}`", f"      says `{message}`"]
    out += ["", "**Think! questions and exercise answers**", ""]
    for question, answer in think_answers(nb):
        out += [f"- *{question or 'Think!'}*", "", textwrap.indent(_quote(answer), "  "), ""]
    return "\n".join(out).rstrip() + "\n"


def render(text: str) -> str:
    """The guide with every generated block rewritten."""
    wrong = recorded_wrong_answers()
    numbers = {m[2] for m in BLOCK.finditer(text)}
    missing = [p.name for p in NOTEBOOKS if editions.number(p) not in numbers]
    if missing:
        raise GuideError(f"docs/instructor_guide.md has no generated block for "
                         f"{', '.join(missing)}: add '<!-- generated:NN:start -->' and "
                         "'<!-- generated:NN:end -->' under its heading, then run "
                         "tools/instructor_guide.py")
    paths = {editions.number(p): p for p in NOTEBOOKS}

    def fill(m: re.Match) -> str:
        if m[2] not in paths:
            raise GuideError(f"docs/instructor_guide.md has a block for notebook {m[2]}, "
                             "which does not exist: remove it")
        return m[1] + block(paths[m[2]], wrong) + m[4]

    return BLOCK.sub(fill, text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="only say whether the guide is current (exit 1 if not)")
    args = ap.parse_args(argv)
    text = GUIDE.read_text(encoding="utf-8")
    try:
        new = render(text)
    except GuideError as err:
        print(f"instructor_guide: {err}", file=sys.stderr)
        return 1
    if args.check:
        if new != text:
            print("instructor_guide: docs/instructor_guide.md is out of date with the "
                  "notebooks or the exercises; run .venv/bin/python tools/instructor_guide.py",
                  file=sys.stderr)
            return 1
        print("docs/instructor_guide.md is current")
        return 0
    if new != text:
        GUIDE.write_text(new, encoding="utf-8")
        print("rewrote the generated blocks of docs/instructor_guide.md")
    else:
        print("docs/instructor_guide.md was already current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
