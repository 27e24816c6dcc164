"""Every checker accepts its reference solution, says "not done yet" for the untouched
scaffold, rejects the wrong answers a student plausibly writes without printing the expected
value, and refuses what the notebook cannot use (a function that changes its input in place, a
result of the wrong type). Every prediction accepts what the data show and rejects the other
options without naming the right one."""

import functools
import math
import re

import numpy as np
import pytest
import torch

from pyrl_mini import data, stats
from pyrl_mini.diagnostics import DORMANT_TAU
from pyrl_mini.exercises import core, nb00, nb00b, nb01, nb02, nb03, nb04, nb05
from pyrl_mini.risk import kappa_transform


def scaffold_ellipsis(*args, **kwargs):
    ...


def scaffold_raises(*args, **kwargs):
    raise NotImplementedError("write f(d)")


# Every exercise of every notebook, found in the module, so a new one cannot skip these tests.
MODULES = (nb00, nb00b, nb01, nb02, nb03, nb04, nb05)
EXERCISES = [v for m in MODULES for v in vars(m).values() if isinstance(v, core.Exercise)]
PREDICTIONS = [v for m in MODULES for v in vars(m).values() if isinstance(v, core.Prediction)]


def test_every_notebook_block_of_exercises_is_found():
    assert len(EXERCISES) >= 15 and {"kappa_transform", "behaviour", "classify_log",
                                      "separation_auc"} <= {e.name for e in EXERCISES}


def test_every_notebook_has_a_prediction():
    for m in MODULES:
        assert any(isinstance(v, core.Prediction) for v in vars(m).values()), m.__name__


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_reference_is_correct_and_scaffold_is_not_done(exercise, capsys):
    assert exercise.check(exercise.reference) is exercise.reference
    assert capsys.readouterr().out.startswith("correct:")
    for stub in (scaffold_ellipsis, scaffold_raises):
        assert exercise.check(stub) is exercise.reference
        out = capsys.readouterr().out
        assert out.startswith("not done yet:") and out.count("\n") == 1


# --- wrong answers: a message names the input and the slip, never the expected value ----------
class Recorder:
    """A function that records each call's arguments (copied before the call) and result."""

    def __init__(self, fn):
        self.fn, self.calls, self.results = fn, [], []

    def __call__(self, *args, **kwargs):
        self.calls.append((core._copy(args), core._copy(kwargs)))
        out = self.fn(*args, **kwargs)
        self.results.append(core._copy(out))
        return out


@functools.cache
def reference_results(name: str) -> list:
    """What the reference returns on each input its checker tries, in the checker's order."""
    exercise = next(e for e in EXERCISES if e.name == name)
    results = []

    def reference(*args, **kwargs):
        out = exercise.reference(*args, **kwargs)
        results.append(core._copy(out))
        return out

    assert exercise.test(reference) is None
    return results


NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d+|\d+)(?:[eE][-+]?\d+)?(?!\w)")


def numbers_in(text: str) -> list[tuple[float, float]]:
    """(value, how far the printed digits may be from the number printed) of every number in
    text; digits inside names (float32, nb03, W_out) are not numbers. An integer printed
    without a point is taken as exact."""
    out = []
    for m in NUMBER.finditer(text):
        s = m.group(0)
        mantissa, _, exponent = s.lower().partition("e")
        decimals = len(mantissa.partition(".")[2])
        if not decimals and not exponent:
            out.append((float(s), 1e-12))
        else:
            out.append((float(s), 0.5 * 10.0 ** (int(exponent or 0) - decimals)))
    return out


def flat_numbers(x, limit: int = 200) -> list[float]:
    """The numbers in x (tensors, arrays, lists, tuples, dicts, scalars); a tensor or array of
    more than `limit` entries is left out (a message never prints one)."""
    if torch.is_tensor(x):
        x = x.detach()
        ok = x.dtype != torch.bool and not x.is_complex() and x.numel() <= limit
        return [float(v) for v in x.flatten().tolist()] if ok else []
    if isinstance(x, np.ndarray):
        ok = x.dtype.kind in "iuf" and x.size <= limit
        return [float(v) for v in x.ravel().tolist()] if ok else []
    if isinstance(x, list | tuple):
        return [v for item in x for v in flat_numbers(item, limit)]
    if isinstance(x, dict):
        return [v for item in x.values() for v in flat_numbers(item, limit)]
    if isinstance(x, bool | np.bool_):
        return []
    if isinstance(x, int | float | np.number):
        return [float(x)]
    return []


def _near(value: float, printed: float, tolerance: float) -> bool:
    return math.isfinite(value) and abs(value - printed) <= tolerance + 1e-12 * abs(value)


def targets_printed(message: str, inputs, outputs, returned=(), menu: tuple = ()) -> list[str]:
    """The expected results a message gives away: the numbers in it that a reference output
    rounds to, and any str output as a whole word. A number that is also one of the inputs
    (f(-2) at kappa 0 is -2) or in what the student returned is theirs to see, not a target;
    so is the full list of allowed words (`menu`, an exercise's Returns.words)."""
    found = []
    given = flat_numbers(inputs) + flat_numbers(returned)
    message = message.replace(", ".join(repr(w) for w in menu), "") if menu else message
    for printed, tolerance in numbers_in(message):
        if any(_near(v, printed, tolerance) for v in given):
            continue
        if any(_near(v, printed, tolerance) for v in flat_numbers(outputs, limit=10_000)):
            found.append(f"{printed:g}")
    texts = outputs if isinstance(outputs, list | tuple) else [outputs]
    found += [t for t in texts if isinstance(t, str)
              and re.search(rf"\b{re.escape(t)}\b", message, re.I)]
    return found


def test_targets_printed_sees_a_target_and_spares_inputs_and_the_students_number():
    d = torch.tensor([-2.0, 0.0, 1.5])
    out = torch.tensor([-1.2, 0.0, 2.1])
    assert targets_printed("f(-2) should be -1.2, got -2.8", (d, -0.4), out) == ["-1.2"]
    assert targets_printed("f(-2) = -2.8 is wrong for d <= 0", (d, -0.4), out) == []
    assert targets_printed("got 2.10", (d, -0.4), out) == ["2.1"]        # printed rounded
    assert targets_printed("got 2.1003", (d, -0.4), out) == []           # precise, and not it
    assert targets_printed("in float32 your gap 16.0", (torch.float32,), 16.6355) == []
    assert targets_printed("the gap is 16.6 in float32", (torch.float32,), 16.6355) == ["16.6"]
    assert targets_printed("got 1.66e+01", (torch.float32,), 16.6355) == ["16.6"]
    assert targets_printed("it is 'trapped'", ({"adv_mean": 0.0},), "trapped") == ["trapped"]
    assert targets_printed("a trapping rule", ({"adv_mean": 0.0},), "trapped") == []
    assert targets_printed("you counted 5 of 15", (), (7, 15), returned=(5, 15)) == []
    assert targets_printed("needs one of 'a', 'b'", (), "a", menu=("a", "b")) == []


def _wrong(exercise, fn) -> str:
    """The checker's message on a wrong answer: one line, starting "wrong:", which prints no
    result the reference gives on the input the message names (the last one tried)."""
    recorder = Recorder(fn)
    message, use = exercise.verdict(recorder)
    assert use is exercise.reference
    assert message.startswith("wrong:") and "\n" not in message
    if recorder.calls:
        i = len(recorder.calls) - 1
        returned = recorder.results[i] if len(recorder.results) > i else ()
        menu = exercise.returns.words if exercise.returns else ()
        given = targets_printed(message, recorder.calls[i], reference_results(exercise.name)[i],
                                returned, menu)
        assert not given, f"{exercise.name}: the message gives away {given}: {message}"
    return message


# --- what the notebook cannot use: a changed input, a result of the wrong type -----------------
def _mutate(x) -> bool:
    """Change x in place (a tensor, array, list or dict); False if x cannot be changed."""
    if torch.is_tensor(x):
        with torch.no_grad():
            if x.dtype == torch.bool:
                x.logical_not_()
            else:
                x.add_(1)
        return True
    if isinstance(x, np.ndarray):
        if x.dtype == bool:
            np.logical_not(x, out=x)
        else:
            x += 1
        return True
    if isinstance(x, list):
        x.append(x[-1] if x else 0)
        return True
    if isinstance(x, dict):
        x["changed in place"] = 0.0
        return True
    return False


def mutating(exercise):
    """The reference, then the first argument it is not meant to change, changed in place;
    fn.changed names that argument (None if none could be changed)."""
    names = core._parameter_names(exercise.reference)

    def fn(*args):
        out = exercise.reference(*args)
        for name, value in zip(names, args, strict=False):
            if name not in exercise.mutates and _mutate(value):
                fn.changed = name
                break
        return out

    fn.changed = None
    return fn


# exercises whose arguments are all numbers, dtypes or objects the guard does not compare (the
# catalogue), or are meant to be changed (an optimiser's parameters)
NOTHING_TO_MUTATE = {"gamble_value", "saturation_gap", "behaviour", "min_entropy_coef",
                     "wilson_interval", "trapped_count", "first_adam_step",
                     "sign_test"}


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_a_function_that_changes_its_input_in_place_is_refused(exercise):
    fn = mutating(exercise)
    message, use = exercise.verdict(fn)
    if fn.changed is None:
        assert exercise.name in NOTHING_TO_MUTATE, f"{exercise.name}: nothing was changed"
        assert message.startswith("correct:"), message
        return
    assert exercise.name not in NOTHING_TO_MUTATE
    assert message.startswith(f"wrong: {exercise.name} changes its input {fn.changed} in "
                              "place"), message
    assert "\n" not in message and len(message) < 250
    _wrong(exercise, fn)


def _as_list(out):
    if torch.is_tensor(out) or isinstance(out, np.ndarray):
        return out.reshape(-1).tolist() if out.ndim == 0 else out.tolist()
    return list(out) if isinstance(out, tuple) else [out]


def _as_numpy(out):
    if torch.is_tensor(out):
        return out.detach().numpy()
    return np.asarray(out) if isinstance(out, tuple) else np.array([out])


WRONG_TYPES = {"a list": _as_list, "a numpy array": _as_numpy, "a str": str}
# the optimum is a vector of probabilities: a numpy one serves the notebook as well as a tensor
NUMPY_SERVES = {"regularised_optimum"}


@pytest.mark.parametrize("kind", WRONG_TYPES)
@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_a_result_of_the_wrong_type_is_refused(exercise, kind):
    convert = WRONG_TYPES[kind]

    def fn(*args):
        return convert(exercise.reference(*args))

    message, _ = exercise.verdict(fn)
    returns_text = isinstance(reference_results(exercise.name)[0], str)
    if (kind == "a str" and returns_text) or (kind == "a numpy array"
                                              and exercise.name in NUMPY_SERVES):
        assert message.startswith("correct:"), message
        return
    assert message.startswith(f"wrong: {exercise.name} returned {kind}"), message
    assert "the notebook needs" in message
    _wrong(exercise, fn)


def test_the_guard_compares_nan_tensors_and_nested_inputs():
    x = {"a": [torch.tensor([1.0, float("nan")]), np.array([1, 2])], "b": float("nan")}
    before = core._snapshot(x)
    assert core._same(x, before)
    x["a"][1][0] = 5
    assert not core._same(x, before)
    assert core._same(object(), core._snapshot(object()))  # not compared: no false alarm


def test_numbers_a_notebook_can_format():
    for good in (1, 0.5, np.float32(0.5), np.int64(3), torch.tensor(0.5), np.array(0.5)):
        assert core._is_number(good), good
    for bad in (True, [0.5], torch.tensor([0.5]), np.array([0.5]), "0.5", torch.tensor(True)):
        assert not core._is_number(bad), bad


def test_kappa_transform_rejects_swapped_sign_and_one_branch():
    swapped = _wrong(nb00.kappa_transform,
                     lambda d, k: torch.where(d > 0, (1 + k) * d, (1 - k) * d))
    assert "swapped" in swapped
    one_branch = _wrong(nb00.kappa_transform, lambda d, k: (1 - k) * d)
    assert "f(-2) = -2.8 is not right: check the branch for d <= 0" in one_branch
    assert "shape" in _wrong(nb00.kappa_transform, lambda d, k: ((1 - k) * d).sum())
    flattened = _wrong(nb00.kappa_transform, lambda d, k: torch.where(
        d > 0, (1 - k) * d, (1 + k) * d).flatten())
    assert "(2, 3)" in flattened and "(6,)" in flattened
    assert "raised" in _wrong(nb00.kappa_transform, lambda d, k: d.nonexistent)


def test_kappa_transform_refuses_what_the_notebook_cannot_use():
    """Issue 31: an in-place f(d) passed as correct and broke a hidden assert later; a numpy
    or list result passed and the next cell raised."""
    def in_place(d, kappa):
        d[d > 0] *= 1 - kappa
        d[d <= 0] *= 1 + kappa
        return d

    assert "changes its input d in place" in _wrong(nb00.kappa_transform, in_place)

    def in_place_no_return(d, kappa):  # not "not done yet": it did something, in place
        d.copy_(in_place(d, kappa))

    assert "changes its input d in place" in _wrong(nb00.kappa_transform, in_place_no_return)
    assert "returned a numpy array" in _wrong(nb00.kappa_transform, lambda d, k: np.where(
        d.numpy() > 0, (1 - k) * d.numpy(), (1 + k) * d.numpy()))
    assert "returned a list" in _wrong(nb00.kappa_transform, lambda d, k: [
        (1 - k) * x if x > 0 else (1 + k) * x for x in d.tolist()])


def test_kappa_transform_library_function_is_correct():
    assert nb00.kappa_transform.verdict(kappa_transform)[0].startswith("correct")


def test_gamble_value_rejects_expected_value_flipped_kappa_and_quantile():
    assert "ignores kappa" in _wrong(nb00.gamble_value, lambda p, m, k: p * m)
    flipped = _wrong(nb00.gamble_value, lambda p, m, k: nb00.reference_gamble_value(p, m, -k))
    assert "wrong sign" in flipped
    # a plausible slip: tau = (1 - kappa) / 2 used as if it were the probability weight alone
    tau_only = _wrong(nb00.gamble_value, lambda p, m, k: (1 - k) / 2 * m)
    assert "not the fixed point" in tau_only
    assert "outside [0, m]" in _wrong(nb00.gamble_value, lambda p, m, k: m / p)


def _one_sided(x, y):
    n = x + y
    return sum(math.comb(n, i) for i in range(min(x, y) + 1)) / 2 ** n


def test_sign_test_names_the_slip():
    assert "one side only" in _wrong(nb00b.sign_test, _one_sided)
    uncapped = _wrong(nb00b.sign_test, lambda x, y: 2 * _one_sided(x, y))
    assert "no probability" in uncapped and "never above one" in uncapped
    strict = _wrong(nb00b.sign_test, lambda x, y: min(1.0, 2 * sum(
        math.comb(x + y, i) for i in range(min(x, y))) / 2 ** (x + y)))
    assert "leaves out the split that was seen" in strict
    over_n = _wrong(nb00b.sign_test, lambda x, y: min(1.0, 2 * sum(
        math.comb(x + y, i) for i in range(min(x, y) + 1)) / max(x + y, 1) ** 2))
    assert "is not right" in over_n
    assert "returned a str" in _wrong(nb00b.sign_test, lambda x, y: "0.45")
    # not "the two sides overlap" (that is for p above one)
    for message in (_wrong(nb00b.sign_test, lambda x, y: math.nan),
                    _wrong(nb00b.sign_test, lambda x, y: -0.2)):
        assert "from zero to one" in message and "overlap" not in message
    assert nb00b.sign_test.verdict(stats.sign_test)[0].startswith("correct")
    # a float-rounding variant of the right formula is right too
    assert nb00b.sign_test.verdict(lambda x, y: min(1.0, 2 * sum(
        math.comb(x + y, i) * 0.5 ** (x + y) for i in range(min(x, y) + 1))))[0].startswith(
        "correct")


def test_removes_reads_the_slopes(monkeypatch):
    grid = data.load("nb00_main_grid")
    assert nb00b.removes.truth(grid).answer == "no"  # the stored grid: it falls at each coef
    flat = {0.0: (-0.5, 0.05), 0.01: (-0.3, 0.05), 0.05: (-0.02, 0.05)}
    monkeypatch.setattr(nb00b, "kappa_slope", lambda g, c: flat[float(c)])
    assert nb00b.removes.truth(grid).answer == "yes"
    flat[0.05] = (-0.12, 0.05)  # between 2 and 3 standard errors: no verdict
    assert nb00b.removes.truth(grid).answer is None


def _loss_without_kappa(logits, actions, d, mask, kappa, entropy_coef=0.0):
    return nb00.reference_policy_loss(logits, actions, d, mask, 0.0, entropy_coef)


def _loss_mean_over_valid_steps(logits, actions, d, mask, kappa, entropy_coef=0.0):
    logp = torch.log_softmax(logits, -1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    fd = nb00.reference_kappa_transform(d, kappa)
    return -(logp * fd * mask).sum() / mask.sum()


def _loss_entropy_sign(logits, actions, d, mask, kappa, entropy_coef=0.0):
    """The entropy bonus added instead of subtracted: it would lower the entropy."""
    logp_all = torch.log_softmax(logits, -1)
    mean_entropy = (-(logp_all.exp() * logp_all).sum(-1) * mask).sum() / mask.sum()
    return (nb00.reference_policy_loss(logits, actions, d, mask, kappa, 0.0)
            + entropy_coef * mean_entropy)


def test_policy_loss_rejects_sign_mask_kappa_normalisation_and_entropy_slips():
    assert "sign is flipped" in _wrong(
        nb00.policy_loss, lambda *a: -nb00.reference_policy_loss(*a))
    assert "multiply by the mask" in _wrong(
        nb00.policy_loss, lambda lg, a, d, m, k, c=0.0: nb00.reference_policy_loss(
            lg, a, d, torch.ones_like(m), k, c))
    assert "differs from the trainer's" in _wrong(nb00.policy_loss, _loss_without_kappa)
    assert "differs from the trainer's" in _wrong(nb00.policy_loss, _loss_mean_over_valid_steps)
    assert "entropy_coef=0.05" in _wrong(nb00.policy_loss, _loss_entropy_sign)
    assert "detach" in _wrong(nb00.policy_loss, lambda lg, *a: nb00.reference_policy_loss(
        lg.detach(), *a))


def test_show_prints_the_reference(capsys):
    core.show(nb00.gamble_value)
    assert "def reference_gamble_value" in capsys.readouterr().out


# --- notebook 04 ---
def test_regularised_optimum_accepts_numpy_and_rejects_slips():
    import numpy as np

    def numpy_stable(r, tau):
        z = np.asarray(r) / tau
        e = np.exp(z - z.max())
        return e / e.sum()

    assert nb04.regularised_optimum.verdict(numpy_stable)[0].startswith("correct")
    assert "not finite" in _wrong(nb04.regularised_optimum, lambda r, tau: np.exp(
        np.asarray(r) / tau) / np.exp(np.asarray(r) / tau).sum())
    assert "multiplied by tau" in _wrong(
        nb04.regularised_optimum, lambda r, tau: torch.softmax(torch.tensor(r) * tau, 0))
    assert "ignores tau" in _wrong(
        nb04.regularised_optimum, lambda r, tau: torch.softmax(torch.tensor(r), 0))
    assert "normalise" in _wrong(
        nb04.regularised_optimum, lambda r, tau: torch.exp(torch.tensor(r) - max(r)) / tau)


def test_min_entropy_coef_rejects_missing_steps_sign_and_formula_slips():
    import math

    assert "steps_per_trial * tau" in _wrong(
        nb04.min_entropy_coef, lambda g, p, s: g / math.log((1 - p) / p))
    assert "sign is flipped" in _wrong(
        nb04.min_entropy_coef, lambda g, p, s: s * g / math.log(p / (1 - p)))
    assert "solve for tau" in _wrong(nb04.min_entropy_coef, lambda g, p, s: s * g * p)
    # the solution reproduces the fixed point: 10 % on the worse of two neighbours, T = 8
    tau = nb04.reference_min_entropy_coef(0.15, 0.1, 8) / 8
    assert math.isclose(1 / (1 + math.exp(0.15 / tau)), 0.1)


def test_collapsed_fraction_rejects_count_learning_and_single_mode_slips():
    from pyrl_mini.analysis import MODES, TRAPPED_MODES

    assert set(TRAPPED_MODES) < set(MODES)  # the exercise uses the library's names
    assert "count" in _wrong(nb04.trapped_fraction,
                             lambda m: sum(x in TRAPPED_MODES for x in m))
    assert "'learning'" in _wrong(nb04.trapped_fraction,
                                  lambda m: sum(x != "converged" for x in m) / len(m))
    assert "is wrong" in _wrong(
        nb04.trapped_fraction, lambda m: sum(x == "always_aborts" for x in m) / len(m))

# --- notebook 03 ---
def test_exact_pg_step_rejects_descent_missing_baseline_and_returning_the_step():
    def descent(theta, r, lr):
        return 2 * theta - nb03.reference_exact_pg_step(theta, r, lr)

    def no_baseline(theta, r, lr):
        return theta + lr * torch.softmax(theta, -1) * r

    def step_only(theta, r, lr):
        return nb03.reference_exact_pg_step(theta, r, lr) - theta

    def value_not_gradient(theta, r, lr):  # the analysis's "log_prob x advantage"
        return theta + lr * torch.log_softmax(theta, -1) * r

    assert "downhill" in _wrong(nb03.exact_pg_step, descent)
    assert "'- pi . r' term" in _wrong(nb03.exact_pg_step, no_baseline)
    assert "returned the step" in _wrong(nb03.exact_pg_step, step_only)
    assert "are wrong" in _wrong(nb03.exact_pg_step, value_not_gradient)
    # float32 logits can pass the tolerance, but the task asks float64 (a reader's slip)
    assert "float32, the task asks float64" in _wrong(
        nb03.exact_pg_step, lambda theta, r, lr: nb03.reference_exact_pg_step(theta, r, lr).float())


def test_saturation_gap_rejects_eps_formula_wrong_dtype_and_bad_bisection():
    import math

    def ln_one_over_eps(dtype):
        return math.log(1 / torch.finfo(dtype).eps)

    def always_float64(dtype):
        return nb03.reference_saturation_gap(torch.float64)

    def keeps_the_wrong_end(dtype):  # returns the last gap where the softmax is still < 1 + 1
        return nb03.reference_saturation_gap(dtype) + 1.0

    def softmax_below_one(dtype):  # bisects on pi > 1 - 1e-6 instead of pi == 1
        lo, hi = 0.0, 100.0
        while hi - lo > 1e-6:
            mid = (lo + hi) / 2
            p = torch.softmax(torch.tensor([mid, 0.0], dtype=dtype), 0)[0]
            lo, hi = (lo, mid) if p > 1 - 1e-6 else (mid, hi)
        return hi

    def no_dtype(dtype):  # builds the logits without dtype=dtype: float32 every time
        return nb03.reference_saturation_gap(torch.float32)

    def bisect(dtype, hi, tol):  # a bisection on softmax == 1.0; returns (lo, hi)
        lo = 0.0
        while hi - lo > tol:
            mid = (lo + hi) / 2
            if torch.softmax(torch.tensor([mid, 0.0], dtype=dtype), 0)[0] == 1.0:
                hi = mid
            else:
                lo = mid
        return lo, hi

    def bracket_too_small(dtype):  # hi = 10: the softmax is never exactly 1 in the bracket
        return bisect(dtype, 10.0, 1e-6)[1]

    def returns_lo_of_a_coarse_loop(dtype):  # stops at hi - lo < 0.1 and returns lo
        return bisect(dtype, 100.0, 0.1)[0]

    assert "ln(1/eps)" in _wrong(nb03.saturation_gap, ln_one_over_eps)
    assert "float64 gap" in _wrong(nb03.saturation_gap, always_float64)
    assert "float32 gap: build the logits with dtype=dtype" in _wrong(
        nb03.saturation_gap, no_dtype)
    assert "never moved it" in _wrong(nb03.saturation_gap, bracket_too_small)
    assert "which end of the interval" in _wrong(nb03.saturation_gap, keeps_the_wrong_end)
    assert "== 1.0" in _wrong(nb03.saturation_gap, softmax_below_one)
    assert "still below 1.0" in _wrong(nb03.saturation_gap, returns_lo_of_a_coarse_loop)


def test_behaviour_agrees_with_the_library_and_rejects_slips():
    import numpy as np

    from pyrl_mini import analysis

    for a, n, left, hev in nb03.BEHAVIOUR_CASES:  # the checker's cases are the library's rules
        mode = analysis.behaviour_mode(a, n, 1 - a - n, left, hev)
        assert analysis.MODES[int(mode)] == nb03.reference_behaviour(a, n, left, hev)
    rng = np.random.default_rng(0)
    for a, n, left, hev in rng.uniform(0, 1, (300, 4)) * [1, 0.2, 1, 1]:
        mode = analysis.behaviour_mode(a, n, 1 - a - n, left, hev)
        assert analysis.MODES[int(mode)] == nb03.reference_behaviour(a, n, left, hev)

    def one_side_left_only(a, n, left, hev):
        out = nb03.reference_behaviour(a, n, left, hev)
        return "learning" if out == "one_side" and left <= 0.05 else out

    def converged_first(a, n, left, hev):
        if a < 0.05 and hev >= 0.8:
            return "converged"
        return nb03.reference_behaviour(a, n, left, hev)

    def strict_thresholds(a, n, left, hev):
        if n > 0.9:
            return "never_chooses"
        if a > 0.9:
            return "always_aborts"
        return nb03.reference_behaviour(min(a, 0.5), min(n, 0.5), left, hev)

    def low_reward_is_trapped(a, n, left, hev):  # "still learning" called trapped
        out = nb03.reference_behaviour(a, n, left, hev)
        return "always_aborts" if out == "learning" else out

    for wrong in (one_side_left_only, strict_thresholds, low_reward_is_trapped,
                  converged_first):
        assert "your function says" in _wrong(nb03.behaviour, wrong)
    assert "returned the str 'trapped'; the notebook needs one of 'converged'" in _wrong(
        nb03.behaviour, lambda *rates: "trapped")

    def chose_ignores_no_choice(a, n, left, hev):  # chose = 1 - abort_rate
        return nb03.reference_behaviour(a, 0.0, left, hev) if n < 0.9 else "never_chooses"

    assert "1 - abort_rate - no_choice_rate" in _wrong(nb03.behaviour, chose_ignores_no_choice)



def test_exact_concordance_p_matches_every_permutation_of_a_small_table():
    import itertools

    import numpy as np

    trap = np.array([[1, 1, 1], [1, 1, 0], [0, 1, 0], [1, 0, 1], [0, 0, 0]], dtype=bool)
    observed = trap.all(axis=1).sum()
    perms = list(itertools.permutations(range(5)))
    hits = [np.stack([trap[p1, 0], trap[p2, 1], trap[:, 2]], axis=1).all(axis=1).sum()
            >= observed for p1 in perms for p2 in perms]  # column 3 fixed: same distribution
    assert stats.concordance_p_exact(trap) == pytest.approx(np.mean(hits))
    assert stats.concordance_p_exact(trap, 0) == pytest.approx(1.0)


def test_concordance_p_rejects_row_shuffles_strict_counts_and_any_setting():
    import numpy as np

    def rows_together(trap, shuffles, rng):  # permutes seeds, keeps each seed's row
        observed = trap.all(axis=1).sum()
        return np.mean([trap[rng.permutation(len(trap))].all(axis=1).sum() >= observed
                        for _ in range(shuffles)])

    def strictly_more(trap, shuffles, rng):
        observed = trap.all(axis=1).sum()
        return np.mean([np.stack([rng.permutation(c) for c in trap.T], 1).all(1).sum()
                        > observed for _ in range(shuffles)])

    def count_not_fraction(trap, shuffles, rng):
        return nb03.reference_concordance_p(trap, shuffles, rng) * shuffles

    def any_setting(trap, shuffles, rng):  # seeds trapped at some setting, not at all
        observed = trap.any(axis=1).sum()
        return np.mean([np.stack([rng.permutation(c) for c in trap.T], 1).any(1).sum()
                        >= observed for _ in range(shuffles)])

    assert "each column on its own" in _wrong(nb03.concordance_p, rows_together)
    assert ">=, not >" in _wrong(nb03.concordance_p, strictly_more)
    assert "fraction" in _wrong(nb03.concordance_p, count_not_fraction)
    assert "is wrong" in _wrong(nb03.concordance_p, any_setting)


# --- notebook 05 ---
def test_wilson_interval_rejects_wald_and_a_centre_at_p():
    import math

    def wald(k, n):
        p = k / n
        h = 1.96 * math.sqrt(p * (1 - p) / n)
        return p - h, p + h

    def centred_on_p(k, n):
        lo, hi = nb05.reference_wilson_interval(k, n)
        return k / n - (hi - lo) / 2, k / n + (hi - lo) / 2

    assert "Wald" in _wrong(nb05.wilson_interval, wald)
    assert "centred" in _wrong(nb05.wilson_interval, centred_on_p)
    assert "two numbers" in _wrong(nb05.wilson_interval, lambda k, n: k / n)


def test_collapse_count_rejects_a_rate_one_kappa_and_aborts_only():
    def rate(cat, *s):
        k, n = nb05.reference_trapped_count(cat, *s)
        return k / n

    def one_kappa(cat, network, wout_std, lr, entropy_coef):
        name, rows = cat.match(network, wout_std, lr, 0.0, entropy_coef)
        return int(cat.datasets[name].trapped[rows].sum()), len(rows)

    def aborts_only(cat, network, wout_std, lr, entropy_coef):
        k = n = 0
        for kappa in sorted(set(cat.kappa.tolist())):
            name, rows = cat.match(network, wout_std, lr, kappa, entropy_coef)
            if name is not None:
                k += int((cat.datasets[name].mode[rows] == 3).sum())
                n += len(rows)
        return k, n

    assert "not a rate" in _wrong(nb05.trapped_count, rate)
    assert "pool every kappa" in _wrong(nb05.trapped_count, one_kappa)
    assert "every trapped mode" in _wrong(nb05.trapped_count, aborts_only)
    assert "expected" not in _wrong(nb05.trapped_count, aborts_only)  # no answer given away

    def row_numbers(cat, network, wout_std, lr, entropy_coef):
        k = n = 0
        for kappa in sorted(set(cat.kappa.tolist())):
            name, rows = cat.match(network, wout_std, lr, kappa, entropy_coef)
            if name is not None:
                k, n = k + int(np.sum(rows)), n + len(rows)
        return k, n

    def no_none_skip(cat, network, wout_std, lr, entropy_coef):
        k = n = 0
        for kappa in sorted(set(cat.kappa.tolist())):
            name, rows = cat.match(network, wout_std, lr, kappa, entropy_coef)
            k, n = k + int(cat.datasets[name].trapped[rows].sum()), n + len(rows)
        return k, n

    assert "not the row numbers" in _wrong(nb05.trapped_count, row_numbers)
    assert "(None, [])" in _wrong(nb05.trapped_count, no_none_skip)


def test_classify_log_rejects_entropy_rules_and_nan_equality():
    import math

    def by_entropy(b):
        if any(math.isnan(v) for v in b.values()):
            return "diverged"
        return "trapped" if b["entropy"] < 0.1 else "learning"

    def nan_equality(b):
        if b["entropy"] == float("nan"):
            return "diverged"
        return "trapped" if abs(b["adv_mean"]) < 0.05 and b["adv_std"] < 0.05 else "learning"

    def nan_only_in_entropy(b):
        if math.isnan(b["entropy"]):
            return "diverged"
        return "trapped" if abs(b["adv_mean"]) < 0.05 and b["adv_std"] < 0.05 else "learning"

    def by_printed_zero_gradient(b):
        if not all(math.isfinite(v) for v in b.values()):
            return "diverged"
        return "trapped" if b["grad_norm"] < 5e-7 else "learning"

    assert "a low entropy" in _wrong(nb05.classify_log, by_entropy)
    assert "never equal" in _wrong(nb05.classify_log, nan_equality)
    assert "every statistic" in _wrong(nb05.classify_log, nan_only_in_entropy)
    assert "math.isnan misses" in _wrong(nb05.classify_log, nan_only_in_entropy)

    def finite_advantages_only(b):   # isfinite, but on the advantages alone
        if not (math.isfinite(b["adv_mean"]) and math.isfinite(b["adv_std"])):
            return "diverged"
        return "trapped" if abs(b["adv_mean"]) < 0.05 and b["adv_std"] < 0.05 else "learning"

    assert "grad_norm is inf; look at every statistic, not only" in _wrong(
        nb05.classify_log, finite_advantages_only)
    assert "look at what the advantages do" in _wrong(nb05.classify_log,
                                                       by_printed_zero_gradient)

    def trapped_first(b):
        if abs(b["adv_mean"]) < 0.05 and b["adv_std"] < 0.05:
            return "trapped"
        return "learning" if all(math.isfinite(v) for v in b.values()) else "diverged"

    assert "non-finite values first" in _wrong(nb05.classify_log, trapped_first)

    def no_abs(b):
        if not all(math.isfinite(v) for v in b.values()):
            return "diverged"
        return "trapped" if b["adv_mean"] < 0.05 and b["adv_std"] < 0.05 else "learning"

    assert "abs(adv_mean)" in _wrong(nb05.classify_log, no_abs)


def test_the_three_exercise_logs_are_one_of_each_and_the_diagnoser_agrees():
    from pyrl_mini.diagnose import diagnose_log, parse_log

    logs = nb05.exercise_logs()
    answers = {k: nb05.reference_classify_log(
        {a: b for a, b in parse_log(t)[-1].items() if a != "step"}) for k, t in logs.items()}
    assert sorted(answers.values()) == ["diverged", "learning", "trapped"]
    for k, t in logs.items():
        verdict = diagnose_log(t).verdict
        assert verdict.startswith(answers[k]), (k, verdict)


# --- notebook 01 ---
def _dead_dormant_no_mask(rates, mask):
    return nb01.reference_dead_and_dormant(rates, torch.ones_like(mask))


def _dead_dormant_threshold(rates, mask):
    active = rates.abs() * mask.unsqueeze(-1)
    dead = active.amax(dim=(0, 1)) < 1e-6
    return dead.float().mean().item(), nb01.reference_dead_and_dormant(rates, mask)[1]


def _dead_dormant_raw_tau(rates, mask):
    active = rates.abs() * mask.unsqueeze(-1)
    mean_abs = active.sum(dim=(0, 1)) / mask.sum()
    return nb01.reference_dead_and_dormant(rates, mask)[0], (mean_abs <= 0.1).float().mean().item()


def _dead_dormant_strict(rates, mask):
    active = rates.abs() * mask.unsqueeze(-1)
    mean_abs = active.sum(dim=(0, 1)) / mask.sum()
    dormant = mean_abs / mean_abs.mean() < 0.1            # the slip: < where "at most" is <=
    return nb01.reference_dead_and_dormant(rates, mask)[0], dormant.float().mean().item()


def test_dead_and_dormant_matches_the_trainer_and_rejects_mask_threshold_and_raw_tau():
    import inspect

    # the exercise's default tau is the threshold the trainer records
    default = inspect.signature(nb01.reference_dead_and_dormant).parameters["tau"].default
    assert default == DORMANT_TAU
    assert "after its trial ended" in _wrong(nb01.dead_and_dormant, _dead_dormant_no_mask)
    assert "exactly zero" in _wrong(nb01.dead_and_dormant, _dead_dormant_threshold)
    assert "layer's average" in _wrong(nb01.dead_and_dormant, _dead_dormant_raw_tau)
    assert "<=, not <" in _wrong(nb01.dead_and_dormant, _dead_dormant_strict)
    assert "two numbers" in _wrong(nb01.dead_and_dormant, lambda r, m: 0.25)
    counts = lambda r, m: tuple(v * r.shape[-1] for v in nb01.reference_dead_and_dormant(r, m))  # noqa: E731
    assert "not counts" in _wrong(nb01.dead_and_dormant, counts)


def test_paired_difference_rejects_unpaired_se_spread_ddof_and_sign():
    import numpy as np
    assert "unpaired" in _wrong(nb01.paired_difference, lambda a, b: (
        (a - b).mean(), np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))))
    assert "not the standard error of their mean" in _wrong(nb01.paired_difference,
                                   lambda a, b: ((a - b).mean(), (a - b).std(ddof=1)))
    assert "ddof=1" in _wrong(nb01.paired_difference, lambda a, b: (
        (a - b).mean(), (a - b).std() / np.sqrt(len(a))))
    assert "reversed" in _wrong(nb01.paired_difference, lambda a, b: (
        (b - a).mean(), (b - a).std(ddof=1) / np.sqrt(len(a))))


def test_separation_auc_agrees_with_stats_auc_and_rejects_flip_and_ties():
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 5, 7) / 10, rng.integers(0, 5, 9) / 10
    assert nb01.reference_separation_auc(a, b) == pytest.approx(stats.auc(a, b))
    flipped = _wrong(nb01.separation_auc, lambda c, h: nb01.reference_separation_auc(h, c))
    assert "1 - AUC" in flipped and "trapped run" in flipped   # the vocabulary: trapped
    strict = _wrong(nb01.separation_auc,
                    lambda c, h: float(np.mean(np.subtract.outer(c, h) > 0)))
    assert "one half" in strict
    assert "one half" in _wrong(nb01.separation_auc,
                                lambda c, h: float(np.mean(np.subtract.outer(c, h) >= 0)))
    # comparing the two means gives 0 or 1, not a probability over pairs
    assert "compare every" in _wrong(nb01.separation_auc,
                                     lambda c, h: float(np.mean(c) > np.mean(h)))


# --- notebook 02 ---
def _wout_grad_value_slip(rates, actions, probs, fd, mask, trials):
    """The analysis's "log_prob x advantage": the value log pi(a) in place of its gradient."""
    logp = torch.log(probs).gather(-1, actions.unsqueeze(-1))
    onehot = torch.nn.functional.one_hot(actions, probs.shape[-1]).float()
    return -torch.einsum("tbn,tba->na", rates, (fd * mask).unsqueeze(-1) * logp * onehot) / trials


def _wout_grad_no_pi(rates, actions, probs, fd, mask, trials):
    onehot = torch.nn.functional.one_hot(actions, probs.shape[-1]).float()
    return -torch.einsum("tbn,tba->na", rates, (fd * mask).unsqueeze(-1) * onehot) / trials


def test_wout_gradient_matches_autograd_and_rejects_sign_value_missing_pi_mask_and_scale():
    b = nb02.step0_batch(0.3, kappa=0.4, seed=2, trials=32)
    got = nb02.reference_wout_gradient(b["rates"], b["actions"], b["probs"], b["fd"], b["mask"],
                                     b["trials"])
    torch.testing.assert_close(got, b["grads"]["W_out"], atol=1e-6, rtol=1e-4)
    assert "sign is flipped" in _wrong(nb02.wout_gradient,
                                       lambda *a: -nb02.reference_wout_gradient(*a))
    assert "value log pi(a)" in _wrong(nb02.wout_gradient, _wout_grad_value_slip)
    assert "a term is missing" in _wrong(nb02.wout_gradient, _wout_grad_no_pi)
    assert "multiply by the mask" in _wrong(nb02.wout_gradient, lambda r, a, p, f, m, t: (
        nb02.reference_wout_gradient(r, a, p, f, torch.ones_like(m), t)))
    assert "number of trials" in _wrong(nb02.wout_gradient, lambda r, a, p, f, m, t: (
        nb02.reference_wout_gradient(r, a, p, f, m, t) * t))
    assert "valid steps" in _wrong(nb02.wout_gradient, lambda r, a, p, f, m, t: (
        nb02.reference_wout_gradient(r, a, p, f, m, t) * t / m.sum()))
    assert "shape" in _wrong(nb02.wout_gradient, lambda *a: nb02.reference_wout_gradient(*a).T)


def _adam_on_w_rec_only(params, loss_fn, lr):
    loss_fn().backward()
    before = params["W_rec"].grad.norm().item()
    opt = torch.optim.Adam([params["W_rec"]], lr=lr)
    opt.step()
    opt.zero_grad()
    loss_fn().backward()
    return before, params["W_rec"].grad.norm().item()


def _reads_w_out(params, loss_fn, lr):
    loss_fn().backward()
    before = params["W_out"].grad.norm().item()
    torch.optim.Adam(params.values(), lr=lr).step()
    return before, 1.0


def _no_fresh_loss(params, loss_fn, lr):
    """Steps, but reads the old gradient again instead of backpropagating a fresh loss."""
    loss_fn().backward()
    before = params["W_rec"].grad.norm().item()
    torch.optim.Adam(params.values(), lr=lr).step()
    return before, params["W_rec"].grad.norm().item()


def _two_adam_steps(params, loss_fn, lr):
    opt = torch.optim.Adam(params.values(), lr=lr)
    loss_fn().backward()
    before = params["W_rec"].grad.norm().item()
    for _ in range(2):
        opt.step()
        opt.zero_grad()
        loss_fn().backward()
    return before, params["W_rec"].grad.norm().item()


def test_policy_problem_is_the_trainers_loss_at_update_0():
    params, loss_fn = nb02.policy_problem(seed=0, wout_std=0.3, trials=32)
    loss_fn().backward()
    b = nb02.step0_batch(0.3, seed=0, trials=32)
    for name in ("W_out", "W_rec", "W_in"):
        torch.testing.assert_close(params[name].grad[0], b["grads"][name], atol=1e-7, rtol=1e-5)


def _without_zero_grad(params, loss_fn, lr):
    """Issue 31: the fresh backward adds to the old gradient still in .grad. With W_out all
    zeros that old W_rec gradient is exactly 0, so only a start with W_out != 0 shows it."""
    loss_fn().backward()
    before = params["W_rec"].grad.norm().item()
    opt = torch.optim.Adam(params.values(), lr=lr)
    opt.step()
    loss_fn().backward()
    return before, params["W_rec"].grad.norm().item()


def test_first_adam_step_refuses_a_missing_zero_grad():
    same_at_zero = nb02.reference_first_adam_step(*nb02.policy_problem(seed=2, trials=32), 0.03)
    assert _without_zero_grad(*nb02.policy_problem(seed=2, trials=32), 0.03) == same_at_zero
    assert "zero it (opt.zero_grad())" in _wrong(nb02.first_adam_step, _without_zero_grad)


def test_first_adam_step_is_zero_then_not_and_rejects_sgd_partial_step_and_wrong_tensor():
    before, after = nb02.reference_first_adam_step(*nb02.policy_problem(seed=0, trials=32), 0.01)
    assert before == 0.0 and after > 1e-4
    assert "SGD" in _wrong(nb02.first_adam_step, nb02._sgd_first_step)
    assert "every parameter" in _wrong(nb02.first_adam_step, _adam_on_w_rec_only)
    assert "params['W_rec'].grad" in _wrong(nb02.first_adam_step, _reads_w_out)
    assert "still 0" in _wrong(nb02.first_adam_step, _no_fresh_loss)
    assert "is wrong" in _wrong(nb02.first_adam_step, _two_adam_steps)
    assert "two Python floats" in _wrong(nb02.first_adam_step, lambda p, f, lr: 0.0)
    # 0-d tensors are refused, as Exercise 2's checker refuses one
    assert "two Python floats" in _wrong(nb02.first_adam_step, lambda p, f, lr: (
        torch.tensor(0.0), torch.tensor(1.0)))


def test_hold_probability_rejects_off_by_one_mean_first_and_wrong_action():
    uniform = torch.full((15, 4, 3), 1 / 3)
    assert abs(nb02.reference_hold_probability(uniform, 7) / 3.0 ** -7 - 1) < 1e-5
    for steps in (6, 8):
        assert "first hold_steps steps" in _wrong(nb02.hold_probability, lambda p, h, s=steps: (
            p[:s, :, 0].prod(0).mean().item()))
    assert "averaged pi over trials" in _wrong(nb02.hold_probability, lambda p, h: (
        p[:h, :, 0].mean(1).prod().item()))
    assert "FIXATE is action 0" in _wrong(nb02.hold_probability, lambda p, h: (
        p[:h, :, 2].prod(0).mean().item()))
    assert "wrong axis" in _wrong(nb02.hold_probability, lambda p, h: (
        p[:h, :, 0].prod(1).mean().item()))
    assert "averaged pi(FIXATE) over the hold steps" in _wrong(nb02.hold_probability, (
        lambda p, h: p[:h, :, 0].mean().item()))
    assert "Python float" in _wrong(nb02.hold_probability, lambda p, h: (
        p[:h, :, 0].prod(0).mean()))


# --- predictions: the truth comes from data or a computation, and a wrong answer is not told it
def _history(hold_at: int, choose_at: int, updates: int = 300) -> dict:
    """Per-update records of a made-up run: abort rate 0.9 until hold_at then 0.02, higher-EV
    rate NaN (no choice) or 0.4 until choose_at, then 0.95."""
    t = np.arange(updates)
    return {"abort_rate": np.where(t < hold_at, 0.9, 0.02),
            "higher_ev_rate": np.where(t < choose_at, np.where(t < 50, np.nan, 0.4), 0.95)}


def _log(adv_mean: float, adv_std: float, logp: float, grad: float) -> str:
    return (f"Step 600:\nAdvantage (delta_prime):\n  Mean: {adv_mean:.6f}\n  Std: {adv_std:.6f}\n"
            f"Log-probabilities:\n  Mean: {logp:.6f}\n  Std: {abs(logp):.6f}\n"
            f"Gradient Statistics:\n  Total norm: {grad:.6f}\nPolicy Entropy:\n"
            f"  Mean entropy: {abs(logp):.6f}\n")


# the arguments the notebook passes to check() besides the answer (the live run, the log)
CONTEXT = {"learned_first": (_history(60, 180),), "removes": (data.load("nb00_main_grid"),),
           "why_zero": (_log(-0.005, 0.0, 0.0, 0.0),)}


@pytest.mark.parametrize("prediction", PREDICTIONS, ids=lambda p: p.name)
def test_prediction_accepts_the_truth_rejects_the_rest_and_carries_on(prediction, capsys):
    context = CONTEXT.get(prediction.name, ())
    found = prediction.truth(*context)
    options = [o.lower() for o in prediction.options]
    assert found.answer in options and len(set(options)) == len(options) >= 2
    right = prediction.options[options.index(found.answer)]
    for answer in (right, f"  {right.upper()} "):
        assert prediction.check(answer, *context) is answer
        out = capsys.readouterr().out
        assert out.startswith("correct:") and out.count("\n") == 1
    for wrong in set(prediction.options) - {right}:
        message = prediction.verdict(wrong, *context)
        assert message.startswith("wrong:") and "\n" not in message
        named = [o for o in prediction.options
                 if re.search(rf"\b{re.escape(o)}\b", message, re.I)]
        assert named == [wrong], f"{prediction.name}: {message}"  # not the answer, nor a hint
    for scaffold in (..., None):
        assert prediction.verdict(scaffold, *context).startswith("not done yet:")
    for not_an_option in ("maybe", 3, ["a"]):
        message = prediction.verdict(not_an_option, *context)
        assert message.startswith("wrong:") and "not one of the options" in message


def test_learned_first_reads_the_run_it_is_given():
    truth = nb00.learned_first.truth
    assert truth(_history(60, 180)).answer == "fixation"
    assert truth(_history(180, 60)).answer == "choice"
    assert truth(_history(100, 110)).answer == "together"
    assert truth(_history(400, 400)).answer is None   # neither line crossed in 300 updates
    assert nb00.learned_first.verdict("choice", _history(400, 400)).startswith("no verdict:")
    # the first update of the first 20-update window below 20 % aborts, above 60 % higher-EV
    assert nb00.learning_order(_history(60, 180)) == (56, 168)
    assert "updates 56-75" in truth(_history(60, 180)).evidence   # a window by both its ends


def test_prediction_truths_follow_the_data():
    rng = np.random.default_rng(0)
    more, fewer = rng.uniform(0.1, 0.4, 20), rng.uniform(0, 0.02, 20)
    assert nb01.more_dead_units(more, fewer).answer == "adam"
    assert nb01.more_dead_units(fewer, more).answer == "sgd"
    assert nb01.more_dead_units(more, more[::-1]).answer == "same"
    few, many = np.arange(20) < 4, np.arange(20) < 15
    paired = functools.partial(core.paired_finding, flagged="trapped", control_name="at a",
                               changed_name="at b")
    assert paired(few, many).answer == "more"
    assert paired(many, few).answer == "fewer"
    assert paired(few, few).answer == paired(few, np.roll(few, 1)).answer == "same"
    assert paired(few, many).evidence == ("trapped: 15 of 20 runs at b, 4 of 20 at a; "
                                          "paired by seed, 11 only at b, 0 only at a (exact "
                                          "McNemar p = 0.00098)")
    assert nb03.clip_side([0, 0], [1e-4, 1e-5], 5.0).answer == "below"
    assert "none of their last updates clipped" in nb03.clip_side([0, 0], [1e-4, 1e-5],
                                                                  5.0).evidence
    assert "at most 40 %" in nb03.clip_side([0, 0.4], [1e-4, 4.0], 5.0).evidence
    # the notebook's cell prints "gradient norm at most ...": the message says the same
    assert "gradient norm at most 1.0e-04" in nb03.clip_side([0, 0], [1e-4, 1e-5], 5.0).evidence
    assert nb03.clip_side([1, 1], [7.0, 9.0], 5.0).answer == "above"
    assert nb03.clip_side([0, 0.4], [1e-4, 4.0], 5.0).answer == "around"
    assert nb03.clip_side([], [], 5.0).answer is None
    why = nb05.why_zero.truth
    assert why(_log(-0.005, 0.0, 0.0, 0.0)).answer == "advantages"
    assert why(_log(-0.3, 1.1, 0.0, 0.0)).answer == "saturated"
    assert why(_log(-0.3, 1.1, -0.6, 0.4)).answer == "cannot tell"
    # the hint asks about pi(a) = 0.9 and says the row's advantage columns answer it, so it
    # fits a student who chose "cannot tell" as well as one who chose "saturated"
    for wrong in ("cannot tell", "saturated"):
        hint = nb05.why_zero.verdict(wrong, _log(-0.005, 0.0, 0.0, 0.0))
        assert "pi(a) = 0.9" in hint and "the row does show it" in hint and "adv_std" in hint


def test_prediction_truths_read_the_stored_data():
    """The notebooks' questions are answered by the data files, whatever their counts."""
    from pyrl_mini import analysis, data

    ck, co = data.load("collapse_kappa"), data.load("collapse_optimizer")
    adam = ck.final("dead_fraction")[ck.by_seed(kappa=0.0)]
    sgd = co.final("dead_fraction")[co.by_seed(policy_optimizer="sgd", lr=1.0)]
    assert nb01.deadlier_optimizer.truth() == nb01.more_dead_units(adam, sgd)
    aborts = ck.mode == nb03.MODES.index("always_aborts")
    assert nb03.abort_gradient.truth() == nb03.clip_side(
        ck.final("clipped")[aborts], ck.final("grad_norm")[aborts], 5.0)
    cw = data.load("collapse_wout")
    trapped = [analysis.is_trapped(ck.mode[ck.by_seed(kappa=0.0)]),
               analysis.is_trapped(cw.mode[cw.by_seed(wout_std=2.0, entropy_coef=0.0)])]
    assert nb02.large_wout_traps.truth().answer == core.paired_finding(
        *trapped, "trapped", "", "").answer
    assert nb04.bonus_prevents.truth().answer in nb04.bonus_prevents.options
    # notebook 05 asks why log_a's gradient is zero: its advantage mean and spread are ~0
    assert nb05.why_zero.truth(nb05.exercise_logs()["log_a"]).answer == "advantages"
