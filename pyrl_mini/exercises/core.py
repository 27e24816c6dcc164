"""The exercise core: a checker runs on the student's function and says, in one line, whether it
is right.

`Exercise.check(fn)` prints exactly one line and returns the function the notebook uses from
then on:

    not done yet: ...  -> the stub was left as it is (it returned ... / None or raised
                          NotImplementedError); the notebook carries on with the reference
    wrong: ...         -> what is wrong, with one input where it shows; the reference is used
    correct: ...       -> the student's own function is used

so Run All of an untouched notebook works.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import torch


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
        return use


def show(exercise: Exercise) -> None:
    """Print the reference solution's source (for a student who asks for it)."""
    print(inspect.getsource(exercise.reference))


def fmt(x: torch.Tensor | float) -> str:
    """Numbers for a checker's one line: a tensor as [a, b, ...] (3 significant digits)."""
    if torch.is_tensor(x):
        return "[" + ", ".join(f"{v:.3g}" for v in x.flatten().tolist()) + "]"
    return f"{x:.4g}"


_fmt = fmt  # its earlier, private name, which exercises/nb03.py still imports
