"""Coding exercises and predictions, one module per notebook: a checker runs on the student's
function (or answer) and says, in one line, whether it is right.

In a notebook (here notebook 00):

    from pyrl_mini.exercises import nb00 as exercises

    def kappa_transform(d, kappa):          # the student's cell
        ...                                 # (or raise NotImplementedError)

    kappa_transform = exercises.kappa_transform.check(kappa_transform)   # the next cell

core.Exercise.check(fn) prints exactly one line and returns the function the notebook uses from
then on: the student's when correct, else the reference solution (so Run All of an untouched
notebook works). A function that changes its input in place or returns the wrong type is
refused before its value is looked at; a wrong answer's message never prints the expected
value. core.Prediction.check(answer) checks an answer given before the reveal against the
notebook's data and lets the notebook carry on. The reference solutions live in the notebook's
module (read one with `core.show(exercises.kappa_transform)` or in the folded solution cell of
the notebook); the wrong answers a student plausibly writes are in tests/test_exercises.py. The
modules use only the public API of the library (config, tasks, networks, risk, trainer,
diagnostics, analysis, diagnose, stats, data).

Collecting attempts (off by default): PYRL_MINI_RESULTS=results.jsonl in the environment, or
`from pyrl_mini.exercises import record_results; record_results("results.jsonl")` in a
notebook, appends one JSON line per check to that local file (core.record_results).
"""

from .core import (
    Exercise,
    Finding,
    NotDone,
    Prediction,
    Refused,
    Returns,
    call,
    record_results,
    results_file,
    show,
)

__all__ = ["Exercise", "Finding", "NotDone", "Prediction", "Refused", "Returns", "call",
           "record_results", "results_file", "show"]
