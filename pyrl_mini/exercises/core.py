"""The exercise core: a checker runs on the student's function and says, in one line, whether it
is right.

`Exercise.check(fn)` prints exactly one line and returns the function the notebook uses from
then on:

    not done yet: ...  -> the stub was left as it is (it returned ... / None or raised
                          NotImplementedError); the notebook carries on with the reference
    wrong: ...         -> what is wrong, with one input where it shows, never the expected value
                          (a student must not be able to tune by trial); the reference is used
    correct: ...       -> the student's own function is used

so Run All of an untouched notebook works. Before its value is looked at, every call the
checker makes is guarded: a function that changes one of its inputs in place, or returns
something of another type than the reference (a list or a numpy array where the notebook needs
a tensor, a str where it needs a number), is refused with a one-line reason, because the cells
after the check would break on it or silently use a changed input.

`Prediction.check(answer)` is the same for a question answered before the reveal: the student
sets a variable to one of a few options, the checker compares it with what the notebook's data
or computation show, and the notebook carries on whatever the answer.

A course can collect the attempts: with the environment variable PYRL_MINI_RESULTS=path (or
`record_results(path)` in a notebook) every check appends one JSON line to that local file:
{"exercise": "nb00.kappa_transform", "notebook": "00", "verdict": "wrong", "time": ...,
"message": ...}. Off by default; nothing is sent anywhere.
"""

from __future__ import annotations

import datetime
import inspect
import json
import numbers
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..stats import mcnemar

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


def _record(exercise: Exercise | Prediction, message: str) -> None:
    """Append the attempt to the results file, if one is asked for. A file that cannot be
    written is named once on stderr; the check itself goes on."""
    try:
        path = results_file()
        if path is None:
            return
        source = getattr(exercise, "reference", None) or exercise.truth   # Exercise, Prediction
        module = source.__module__.rsplit(".", 1)[-1]  # "nb00"
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


class Refused(Exception):
    """The notebook cannot use the student's function (it changes an input in place, or its
    result has the wrong type); the message says why in one line."""


def call(fn: Callable, *args, **kwargs):
    """fn(*args, **kwargs), raising NotDone for a scaffold (NotImplementedError, ... or None)."""
    try:
        out = fn(*args, **kwargs)
    except NotImplementedError:
        raise NotDone from None
    if out is None or out is Ellipsis:
        raise NotDone
    return out


# --- what a function must return for the notebook to use it ----------------------------------
def _is_number(x) -> bool:
    """A real number the notebook can format and compare: int, float, a numpy scalar, or a
    tensor/array with no dimensions (x.item() is the number). Not a bool, not a 1-element list
    or a shape-(1,) tensor, which f"{x:.2f}" and float comparisons reject."""
    if isinstance(x, bool | np.bool_):
        return False
    if isinstance(x, numbers.Real):
        return True
    if torch.is_tensor(x):
        return x.ndim == 0 and x.dtype != torch.bool and not x.is_complex()
    if isinstance(x, np.ndarray):
        return x.ndim == 0 and x.dtype.kind in "iuf"
    return False


def is_whole_number(x) -> bool:
    """A number (as _is_number) with no fractional part: a count."""
    return _is_number(x) and float(x).is_integer()


@dataclass(frozen=True)
class Returns:
    """What an exercise's function must return: `what` in words (for the message), `accepts`
    the test. `words`, for a str from a fixed set, lets the message quote the student's str."""

    what: str
    accepts: Callable[[object], bool]
    words: tuple[str, ...] = ()


TENSOR = Returns("a torch tensor (built with torch operations)", torch.is_tensor)
NUMBER = Returns("a number (a float; .item() turns a one-element tensor into one)", _is_number)
TEXT = Returns("a str", lambda out: isinstance(out, str))
# counts in words, so that a message's only digits are inputs or the student's own numbers
_COUNT_WORDS = dict(enumerate(("no", "one", "two", "three", "four", "five", "six", "seven",
                               "eight", "nine", "ten")))


def tuple_of(n: int, what: str | None = None, element: Callable = _is_number) -> Returns:
    """A tuple of n items, each accepted by `element`; `what` says so in words."""
    return Returns(what or f"a tuple of {_COUNT_WORDS.get(n, n)} numbers (return a, b)",
                   lambda out: isinstance(out, tuple) and len(out) == n
                   and all(element(x) for x in out))


def one_of(*words: str) -> Returns:
    """A str that is one of `words`, exactly as written."""
    return Returns("one of " + ", ".join(repr(w) for w in words),
                   lambda out: isinstance(out, str) and out in words, words)


def returns_like(value) -> Returns:
    """The kind of the reference's result `value`: what a student's result must be too."""
    if torch.is_tensor(value):
        return TENSOR
    if _is_number(value):
        return NUMBER
    if isinstance(value, tuple) and all(_is_number(x) for x in value):
        return tuple_of(len(value))
    if isinstance(value, str):
        return TEXT
    kind = type(value)
    return Returns(f"a {kind.__name__}", lambda out: isinstance(out, kind))


def _describe(out, quote_text: bool = False, inner: bool = False) -> str:
    """What a result is, in a few words, without its value (it may be the expected one)."""
    if torch.is_tensor(out):
        return f"a tensor of shape {tuple(out.shape)}"
    if isinstance(out, np.ndarray):
        return "a numpy array"
    if isinstance(out, str):
        return f"the str {out!r}" if quote_text and len(out) <= 40 else "a str"
    if isinstance(out, list | tuple):
        if inner:
            return f"a {type(out).__name__}"
        items = ", ".join(_describe(x, inner=True) for x in out[:3]) + (
            ", ..." if len(out) > 3 else "")
        return f"a {type(out).__name__} of {_COUNT_WORDS.get(len(out), 'many')} ({items})"
    if isinstance(out, bool | np.bool_):
        return "a bool"
    name = type(out).__name__
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


# --- inputs changed in place --------------------------------------------------------------------
_UNCHECKED = object()  # an argument the guard does not compare (a function, a generator, ...)


def _snapshot(x):
    """A copy of x deep enough to tell whether x was changed in place, or _UNCHECKED."""
    if torch.is_tensor(x):
        return x.detach().clone()
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, list | tuple):
        return type(x)(_snapshot(v) for v in x)
    if isinstance(x, dict):
        return {k: _snapshot(v) for k, v in x.items()}
    if x is None or isinstance(x, str | bytes | numbers.Number | np.generic | torch.dtype):
        return x
    return _UNCHECKED


def _same(now, before) -> bool:
    """Whether `now` still equals its snapshot `before` (NaN equal to NaN)."""
    if before is _UNCHECKED:
        return True
    if torch.is_tensor(before):
        if not (torch.is_tensor(now) and now.shape == before.shape and now.dtype == before.dtype):
            return False
        now = now.detach()
        same = now == before
        if before.is_floating_point() or before.is_complex():
            same |= now.isnan() & before.isnan()
        return bool(same.all())
    if isinstance(before, np.ndarray):
        return (isinstance(now, np.ndarray) and now.shape == before.shape
                and now.dtype == before.dtype
                and np.array_equal(now, before, equal_nan=before.dtype.kind in "fc"))
    if isinstance(before, list | tuple):
        return (type(now) is type(before) and len(now) == len(before)
                and all(_same(a, b) for a, b in zip(now, before, strict=True)))
    if isinstance(before, dict):
        return (isinstance(now, dict) and now.keys() == before.keys()
                and all(_same(now[k], before[k]) for k in before))
    if isinstance(before, float) and before != before:
        return isinstance(now, float) and now != now
    return now is before or now == before


def _in_place(name: str, value) -> str:
    """The in-place changes a student plausibly makes to an argument of value's kind."""
    if isinstance(value, dict):
        return f"`{name}[key] = ...`, .pop() or del"
    if isinstance(value, list):
        return f"`{name}[i] = ...`, .append() or .sort()"
    return f"`{name} *= ...`, `{name}[...] = ...` or .add_()"


def _copy(x):
    """A copy of the arguments for the reference: tensors, arrays, lists and dicts copied."""
    snap = _snapshot(x)
    return x if snap is _UNCHECKED else snap


def _parameter_names(fn: Callable) -> list[str]:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


# --- the exercise ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Exercise:
    """One exercise: its reference solution and a test that returns what is wrong (or None).

    test(fn) calls fn through `call` and returns None when fn is right, else a one-line
    description of the first thing found wrong; it names the input and, where it can, the
    likely slip, never the expected value. `returns` is what the notebook needs back (None:
    what the reference returns on the same inputs); `mutates` names the arguments the function
    is meant to change in place (an optimiser's parameters). Every other argument must come
    back unchanged.
    """

    name: str
    reference: Callable
    test: Callable[[Callable], str | None]
    success: str
    returns: Returns | None = None
    mutates: tuple[str, ...] = ()

    def guarded(self, fn: Callable) -> Callable:
        """fn, raising Refused as soon as one of its calls changes an argument in place or
        returns a result of the wrong type (before the checker looks at its value)."""
        reference_names = _parameter_names(self.reference)
        student_names = _parameter_names(fn)

        def run(*args, **kwargs):
            named = [((reference_names[i] if i < len(reference_names) else None),
                      (student_names[i] if i < len(student_names) else None), value)
                     for i, value in enumerate(args)]
            named += [(k, k, v) for k, v in kwargs.items()]
            watched = [(shown or ref or "an argument", value, _snapshot(value))
                       for ref, shown, value in named if ref not in self.mutates]
            out = fn(*args, **kwargs)
            for shown, value, before in watched:  # also when nothing is returned: d *= ...
                if not _same(value, before):
                    raise Refused(f"{self.name} changes its input {shown} in place (the "
                                  f"notebook uses {shown} again): leave it as it is and return "
                                  f"a new result (no {_in_place(shown, value)})")
            if out is None or out is Ellipsis:
                return out  # the scaffold: call() says "not done yet"
            expected = self.returns or returns_like(
                self.reference(*_copy(args), **_copy(kwargs)))
            if not expected.accepts(out):
                raise Refused(f"{self.name} returned {_describe(out, bool(expected.words))}; "
                              f"the notebook needs {expected.what}")
            return out

        return run

    def verdict(self, fn: Callable) -> tuple[str, Callable]:
        """(the one-line message, the function to use from now on)."""
        try:
            problem = self.test(self.guarded(fn))
        except NotDone:
            return (f"not done yet: {self.name} is still the scaffold; the notebook carries on "
                    "with the reference solution.", self.reference)
        except Refused as refused:
            problem = str(refused)
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


# --- a prediction, answered before the reveal -----------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """What the data or the computation show: the option that is right (None when they cannot
    decide it, e.g. no run of the kind asked about) and one line of evidence with the numbers."""

    answer: str | None
    evidence: str


@dataclass(frozen=True)
class Prediction:
    """A question the student answers before the reveal, by setting a variable to one of
    `options`. `truth(*context)` computes the Finding from the notebook's data or computation
    (never a stored count: the data may be rebuilt); `look` says where to look when the answer
    is wrong, without naming the answer.

    check(answer, *context) prints one line and returns the answer unchanged: a wrong or
    missing prediction never stops the notebook.
    """

    name: str
    options: tuple[str, ...]
    truth: Callable[..., Finding]
    look: str

    def verdict(self, answer, *context) -> str:
        """The one-line message on the student's answer."""
        choices = ", ".join(repr(o) for o in self.options)
        if answer is None or answer is Ellipsis:
            return (f"not done yet: set {self.name} to one of {choices} before you look; the "
                    "notebook carries on without it.")
        given = answer.strip().lower() if isinstance(answer, str) else None
        if given not in [o.lower() for o in self.options]:
            return f"wrong: {answer!r} is not one of the options; {self.name} is one of {choices}"
        found = self.truth(*context)
        if found.answer is None:
            return f"no verdict: {found.evidence}"
        if given == found.answer.lower():
            return f"correct: {found.evidence}"
        return f"wrong: the data do not say {answer.strip()!r}; {self.look}"

    def check(self, answer, *context):
        """Print the verdict on the answer in one line; return the answer."""
        message = self.verdict(answer, *context)
        print(message)
        _record(self, message)
        return answer


def paired_finding(control, changed, flagged: str, control_name: str, changed_name: str,
                   alpha: float = 0.05) -> Finding:
    """Does a change leave "more", "fewer" or the "same" runs flagged (trapped, collapsed)?
    From flags paired run by run, element k of each from the same seed; a direction only when
    the exact McNemar test gives p < alpha. The evidence names the counts in both settings."""
    control, changed = np.asarray(control, dtype=bool), np.asarray(changed, dtype=bool)
    only_control, only_changed, p = mcnemar(control, changed)
    answer = "same" if p >= alpha else ("more" if only_changed > only_control else "fewer")
    return Finding(answer, f"{flagged}: {int(changed.sum())} of {len(changed)} runs "
                           f"{changed_name}, {int(control.sum())} of {len(control)} "
                           f"{control_name}; paired by seed, {only_changed} only {changed_name}, "
                           f"{only_control} only {control_name} (exact McNemar p = {p:.2g})")


def show(exercise: Exercise) -> None:
    """Print the reference solution's source (for a student who asks for it)."""
    print(inspect.getsource(exercise.reference))


def fmt(x: torch.Tensor | float) -> str:
    """A value as a checker's message writes it: a tensor as [0.3, -0.2], a number to 4 digits."""
    if torch.is_tensor(x):
        return "[" + ", ".join(f"{v:.3g}" for v in x.flatten().tolist()) + "]"
    return f"{x:.4g}"


