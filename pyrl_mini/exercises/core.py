"""The exercise core: a checker runs on the student's function and says, in one line, whether it
is right.

`Exercise.check(fn)` prints exactly one line and returns the function the notebook uses from
then on:

    not done yet: ...  -> the stub was left as it is (it returned ... / None or raised
                          NotImplementedError); the notebook carries on with the reference
    wrong: ...         -> what is wrong, with one input where it shows; the reference is used
    correct: ...       -> the student's own function is used

so Run All of an untouched notebook works.

A course can collect the attempts: with the environment variable PYRL_MINI_RESULTS=path (or
`record_results(path)` in a notebook) every check appends one JSON line to that local file:
{"exercise": "nb00.kappa_transform", "notebook": "00", "verdict": "wrong", "time": ...,
"message": ...}. Off by default; nothing is sent anywhere.
"""

from __future__ import annotations

import datetime
import inspect
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

RESULTS_VARIABLE = "PYRL_MINI_RESULTS"
_FROM_ENVIRONMENT = object()
_results_setting: object = _FROM_ENVIRONMENT  # record_results() changes it
_warned: set[str] = set()


def _results_path(value: str | os.PathLike, source: str) -> Path:
    """The results file, or ValueError naming the value and the fix."""
    path = Path(value).expanduser()
    example = path / "results.jsonl" if path.is_dir() else Path("results.jsonl")
    if str(value).strip() == "" or path.is_dir():
        raise ValueError(f"{source}={str(value)!r} is not a file: give a file to append to, "
                         f"e.g. {example}")
    if not path.parent.is_dir():
        raise ValueError(f"{source}={str(value)!r}: the folder {path.parent} does not exist; "
                         "create it or give a file in an existing folder")
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        raise ValueError(f"{source}={str(value)!r} cannot be written: give a file in a folder "
                         "you can write to")
    return path


def record_results(path: str | os.PathLike | None) -> Path | None:
    """From now on append one JSON line per check to `path` (a local file); None stops it.
    Overrides the environment variable PYRL_MINI_RESULTS for this session."""
    global _results_setting
    _results_setting = None if path is None else _results_path(path, "record_results")
    return _results_setting


def results_file() -> Path | None:
    """Where checks are recorded now: record_results()'s file, else PYRL_MINI_RESULTS's,
    else None (the default: nothing is written)."""
    if _results_setting is not _FROM_ENVIRONMENT:
        return _results_setting
    value = os.environ.get(RESULTS_VARIABLE)
    return None if value is None else _results_path(value, RESULTS_VARIABLE)


def _record(exercise: Exercise, message: str) -> None:
    """Append the attempt to the results file, if one is asked for. A file that cannot be
    written is named once on stderr; the check itself goes on."""
    try:
        path = results_file()
        if path is None:
            return
        module = exercise.reference.__module__.rsplit(".", 1)[-1]  # "nb00"
        line = {"exercise": f"{module}.{exercise.name}",
                "notebook": module[2:] if module.startswith("nb") else module,
                "verdict": message.split(":", 1)[0],
                "time": datetime.datetime.now(datetime.timezone.utc).isoformat(
                    timespec="seconds"),
                "message": message}
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
    except (OSError, ValueError) as err:
        if str(err) not in _warned:
            _warned.add(str(err))
            print(f"(this attempt was not recorded: {err})", file=sys.stderr)


class NotDone(Exception):
    """The student's function is still the scaffold."""


def call(fn: Callable, *args, **kwargs):
    """fn(*args, **kwargs), raising NotDone for a scaffold (NotImplementedError, ... or None)."""
    try:
        out = fn(*args, **kwargs)
    except NotImplementedError:
        raise NotDone from None
    if out is None or out is Ellipsis:
        raise NotDone
    return out


@dataclass(frozen=True)
class Exercise:
    """One exercise: its reference solution and a test that returns what is wrong (or None).

    test(fn) calls fn through `call` and returns None when fn is right, else a one-line
    description of the first thing found wrong.
    """

    name: str
    reference: Callable
    test: Callable[[Callable], str | None]
    success: str

    def verdict(self, fn: Callable) -> tuple[str, Callable]:
        """(the one-line message, the function to use from now on)."""
        try:
            problem = self.test(fn)
        except NotDone:
            return (f"not done yet: {self.name} is still the scaffold; the notebook carries on "
                    "with the reference solution.", self.reference)
        except Exception as err:  # a student's bug is a finding, not a crash of the notebook
            return (f"wrong: {self.name} raised {type(err).__name__}: {err}; the notebook "
                    "carries on with the reference solution.", self.reference)
        if problem is not None:
            return (f"wrong: {problem} (the notebook carries on with the reference "
                    "solution)", self.reference)
        return f"correct: {self.success}", fn

    def check(self, fn: Callable) -> Callable:
        """Print the verdict on fn in one line; return fn if correct, else the reference."""
        message, use = self.verdict(fn)
        print(message)
        _record(self, message)
        return use


def show(exercise: Exercise) -> None:
    """Print the reference solution's source (for a student who asks for it)."""
    print(inspect.getsource(exercise.reference))


def _fmt(x: torch.Tensor | float) -> str:
    if torch.is_tensor(x):
        return "[" + ", ".join(f"{v:.3g}" for v in x.flatten().tolist()) + "]"
    return f"{x:.4g}"
