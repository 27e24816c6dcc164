"""The trainer keeps its numbers: the same seeds and settings give the same histories as
before a change.

- Against commit 64cae26 (tests/reference/histories-64cae26.npz, made by
  tests/reference/make_histories.py on the fast path): five cases of 200-300 updates, every
  diagnostic of every update and the final policy weights identical to the bit, on a machine
  like the one that made the file. Elsewhere (another CPU, torch or BLAS, or the plain path)
  float rounding differs and a chaotic run parts from the stored one: the test says which
  and compares nothing rather than passing vacuously.
- Against commit dc3303a, the trainer before the fast path (tests/reference/dc3303a.npz):
  8 updates within float32 rounding, on any machine.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

REFERENCE = Path(__file__).parent / "reference"
sys.path.insert(0, str(REFERENCE))
import make_histories  # noqa: E402
from make_reference import CASES as DC_CASES  # noqa: E402
from make_reference import run as dc_run  # noqa: E402

STORED = np.load(REFERENCE / "histories-64cae26.npz")


def _same_machine() -> str | None:
    """None if this machine computes like the one that made the file, else what differs."""
    made = json.loads(str(STORED["machine_signature"]))
    here = make_histories.machine_signature()
    differs = [f"{k}: stored {made[k]!r}, here {here[k]!r}" for k in made if made[k] != here[k]]
    return "; ".join(differs) or None


@pytest.mark.parametrize("name", list(make_histories.CASES))
def test_histories_equal_64cae26_to_the_bit(name):
    differs = _same_machine()
    if differs:
        pytest.skip(f"not comparable to the bit on this machine ({differs}); "
                    "tests/test_kernel.py compares the paths per update instead")
    r = make_histories.run(name)
    for key, v in r.history.items():
        np.testing.assert_array_equal(v, STORED[f"{name}/history/{key}"], err_msg=key)
    np.testing.assert_array_equal(r.stopped_at, STORED[f"{name}/stopped_at"])
    if r.unit_dead is not None:
        np.testing.assert_array_equal(r.unit_dead, STORED[f"{name}/unit_dead"])
    for key, p in r.params.items():
        np.testing.assert_array_equal(p.numpy(), STORED[f"{name}/params/{key}"], err_msg=key)


DC3303A = np.load(REFERENCE / "dc3303a.npz")


@pytest.mark.parametrize("name", list(DC_CASES))
def test_histories_equal_dc3303a_within_float32_rounding(name):
    """Same seed, same numbers as the trainer of commit dc3303a (stored by
    tests/reference/make_reference.py): 8 updates, counts exactly, every other diagnostic
    within rtol 2e-5 (float32 rounding of different summation orders), parameters within
    rtol 1e-3 + atol 1e-5 (Adam divides by sqrt(v), so a float32 difference in a gradient
    near 0 moves a parameter by a visible fraction of lr)."""
    r = dc_run(DC_CASES[name])
    for key, v in r.history.items():
        stored = DC3303A[f"{name}/history/{key}"]
        if key in ("reward", "abort_rate", "no_choice_rate", "choice_rate", "higher_ev_rate",
                   "risky_rate", "left_rate", "mode", "kappa", "lr", "clipped"):
            np.testing.assert_array_equal(v, stored, err_msg=key)
        else:
            np.testing.assert_allclose(v, stored, rtol=2e-5, atol=1e-7, err_msg=key)
    params = {**r.params, **{"v." + k: p for k, p in r.baseline_params.items()}}
    for key, p in params.items():
        np.testing.assert_allclose(p.numpy(), DC3303A[f"{name}/params/{key}"],
                                   rtol=1e-3, atol=1e-5, err_msg=key)
