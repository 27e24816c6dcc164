"""The optional fast path: the recurrence, its readout and the sampling of actions in one C++
loop per network (recurrence.cpp), for the trials still running only.

train() uses it when the kernel is built (make setup builds it: `python -m pyrl_mini.fast`)
and the plain path of pyrl_mini.networks otherwise; PYRL_MINI_KERNEL=0 / 1 forces one
(kernel.py). tests/test_kernel.py checks the fast path against the plain one: the same actions,
losses and gradients to float rounding.
"""

from .kernel import KernelError, disabled, load, release, switch, why_not
from .rollout import baseline, policy

__all__ = ["KernelError", "baseline", "disabled", "load", "policy", "release", "switch",
           "why_not"]
