"""Settings: frozen dataclasses, validated when they are made.

A typo in a setting is refused by name with the closest valid name (upstream's global config
dict silently ignored unknown keys). Every error names the value, the allowed range and the fix.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import numbers
from dataclasses import dataclass, field, fields
from typing import Any

from .memory import HISTORY_DIAGNOSTICS, network_bytes, planned_bytes
from .risk import check_kappa

NETWORK_TYPES = ("gru", "simple")
RATE_FUNCTIONS = ("relu", "tanh")              # what the SimpleRNN's policy readout reads
DYNAMICS_RATES = ("relu", "tanh", "softplus")  # the firing rate r = phi(x) of the dynamics
LR_SCHEDULES = ("constant", "exponential", "step")
KAPPA_SCHEDULES = ("constant", "gradual")
OPTIMIZERS = ("adam", "sgd")


# Upper bounds on sizes, from this project's machine (24 GiB of memory shared by several users;
# 2 cores). Every dataset and notebook stays far below them (largest: batch 512, 2000 updates).
# What a run holds is counted in memory.py (planned_bytes); check_memory refuses above this.
MEMORY_BUDGET = 8 * 2**30       # bytes one training run may plan to use: a third of 24 GiB
MAX_UPDATES = 1_000_000         # history: 10**6 x 27 x 4 bytes = 108 MB per network; ~7 h of work
MAX_BATCH = 65_536              # measured 6.7 GB resident at the default sizes
MAX_UNITS = 4096                # a 4096-unit GRU policy: 50 M weights, 6.4 GB planned
MAX_SEED = 2**64 - 1            # torch.Generator.manual_seed takes seeds below 2**64


class SettingsError(ValueError):
    """A setting has an invalid name or value; the message says which and how to fix it."""


class SettingsNameError(SettingsError, TypeError):
    """An unknown setting name (a TypeError too, as Python raises for an unknown keyword)."""


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _string_message(name: str, value: str) -> str:
    """A number given as a string: drop the quotes if it reads as one, else say it is none."""
    try:
        float(value)
    except ValueError:
        return f"{name}={value!r} is not a number: give a number, e.g. {name}=1."
    return f"{name}={value!r} is a string, not a number: write {name}={value} without quotes."


def _check_positive_int(name: str, value: Any, high: int | None = None, why: str = "") -> None:
    if isinstance(value, str):
        raise SettingsError(_string_message(name, value))
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(f"{name}={value!r} must be a positive integer (1, 2, ...).")
    if high is not None and value > high:
        raise SettingsError(f"{name}={value!r} is above the limit {high:_}: {why}")


def _check_number(name: str, value: Any, hint: str = "") -> None:
    """A real number: not a string (TrainSettings(lr="0.01")) and not a bool (True is not 1.0)."""
    if isinstance(value, str):
        raise SettingsError(_string_message(name, value))
    if not _is_number(value):
        raise SettingsError(f"{name}={value!r} is not a number. {hint}".strip())


def _check_finite(name: str, value: Any, low: float | None = None, low_inclusive: bool = True,
                  high: float | None = None, hint: str = "") -> None:
    _check_number(name, value, hint)
    v = float(value)
    if not math.isfinite(v):
        raise SettingsError(f"{name}={value!r} must be a finite number. {hint}".strip())
    if low is not None and (v < low or (v == low and not low_inclusive)):
        rng = f"{'>=' if low_inclusive else '>'} {low}"
        raise SettingsError(f"{name}={value!r} must be {rng}. {hint}".strip())
    if high is not None and v > high:
        raise SettingsError(f"{name}={value!r} must be <= {high}. {hint}".strip())


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        close = difflib.get_close_matches(str(value), choices, n=1)
        fix = f" Did you mean {close[0]!r}?" if close else ""
        raise SettingsError(f"{name}={value!r} is not one of {choices}.{fix}")


def _refuse_unknown(cls, names) -> None:
    valid = [f.name for f in fields(cls)]
    for key in names:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            fix = f" Did you mean {close[0]!r}?" if close else f" Valid names: {', '.join(valid)}."
            raise SettingsNameError(f"Unknown setting {key!r} for {cls.__name__}.{fix}")


def _from_dict(cls, values: dict[str, Any]):
    """Build cls from a dict, refusing unknown keys by name with the closest valid name."""
    _refuse_unknown(cls, values)
    return cls(**values)


def _plain(value: Any) -> Any:
    """A numpy scalar (np.float32(0.2), np.int64(5), np.bool_(True), a 0-d array) as the Python
    number it holds, so settings compare, validate and save to JSON as Python numbers do."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


def _friendly_init(cls):
    """Class decorator: an unknown keyword (TrainSettings(kapa=0.1)) gets the closest name, and
    numpy scalars become Python numbers."""
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        _refuse_unknown(cls, kwargs)
        init(self, *map(_plain, args), **{k: _plain(v) for k, v in kwargs.items()})

    cls.__init__ = __init__
    return cls


class _SettingsMixin:
    @classmethod
    def from_dict(cls, values: dict[str, Any]):
        return _from_dict(cls, values)

    def replace(self, **changes):
        """A copy with some settings changed; unknown names are refused like in from_dict."""
        return _from_dict(type(self), {**dataclasses.asdict(self), **changes})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@_friendly_init
@dataclass(frozen=True)
class TaskSettings(_SettingsMixin):
    """The gambling task (after Nakazawa, Isa & Sasaki 2023, as ported in pyrl).

    Epoch lengths are in time steps. The defaults give 15-step trials (3 fixation, 4 stimulus,
    up to 8 decision) instead of upstream's 77 steps of 10 ms.
    """

    fixation_steps: int = 3
    stimulus_steps: int = 4
    decision_steps: int = 8
    abort_penalty: float = -0.5      # upstream: breaking fixation pays -0.5
    no_choice_penalty: float = -0.5  # upstream: no choice by the end also pays -0.5
    step_cost: float = 0.0           # upstream: waiting is free
    input_noise: float = 0.05        # std of Gaussian noise added to each input at each step
    p_encoding: str = "log"          # input code of p: "log" (rescaled log p) or "linear" (p)

    def __post_init__(self) -> None:
        for name in ("fixation_steps", "stimulus_steps", "decision_steps"):
            _check_positive_int(name, getattr(self, name), high=10_000,
                                why="a trial of more than 10,000 steps is not this task "
                                "(the default trial has 15).")
        for name in ("abort_penalty", "no_choice_penalty", "step_cost", "input_noise"):
            _check_finite(name, getattr(self, name))
        _check_finite("input_noise", self.input_noise, low=0.0,
                      hint="Use 0 for noiseless inputs.")
        _check_choice("p_encoding", self.p_encoding, ("log", "linear"))

    @property
    def steps(self) -> int:
        return self.fixation_steps + self.stimulus_steps + self.decision_steps


@_friendly_init
@dataclass(frozen=True)
class NetworkSettings(_SettingsMixin):
    """Policy and baseline networks.

    network_type: "gru" (pyrl GRU, rate r = relu(x)) or "simple" (leaky RNN, relu dynamics).
    readout_rate: what the SimpleRNN policy reads: relu(x) (consistent) or tanh(x) (the upstream
        mismatch). The GRU's policy reads its rates.
    rate_function: the firing rate r = phi(x) used by the dynamics (and read by the GRU policy
        and the baseline): relu as in pyrl, or tanh / softplus, which have no dead units.
    wout_std: standard deviation of the policy readout Wout at initialisation; 0 means exactly
        zero (upstream's config read Wout=0 as "use 0.05").
    fixate_bias: the readout's initial bias toward FIXATE: b_out starts at (fixate_bias, 0, 0).
        Upstream's config asks for 3, which its PyTorch port never applies (it starts at 0).
    """

    network_type: str = "gru"
    units: int = 50
    baseline_units: int = 50
    alpha: float = 0.5                # dt / tau: leak of the state update
    recurrent_noise: float = 0.1      # std of the noise injected into the state, per step
    rec_init_scale: float = 1.0      # spectral-ish scale of the initial recurrent weights
    wout_std: float = 0.05
    readout_rate: str = "relu"
    rate_function: str = "relu"       # phi in r = phi(x) for the dynamics (pyrl: relu)
    fixate_bias: float = 0.0          # initial b_out = (fixate_bias, 0, 0); upstream config: 3

    def __post_init__(self) -> None:
        _check_choice("network_type", self.network_type, NETWORK_TYPES)
        _check_choice("readout_rate", self.readout_rate, RATE_FUNCTIONS)
        _check_choice("rate_function", self.rate_function, DYNAMICS_RATES)
        why = ("a GRU of more units keeps more than 50 M weights, each with its gradient and "
               "Adam state (6.4 GB); this machine has 24 GiB shared by its users.")
        _check_positive_int("units", self.units, high=MAX_UNITS, why=why)
        _check_positive_int("baseline_units", self.baseline_units, high=MAX_UNITS, why=why)
        _check_finite("alpha", self.alpha, low=0.0, low_inclusive=False, high=1.0,
                      hint="alpha = dt / tau lies in (0, 1].")
        _check_finite("recurrent_noise", self.recurrent_noise, low=0.0)
        _check_finite("rec_init_scale", self.rec_init_scale, low=0.0)
        _check_finite("wout_std", self.wout_std, low=0.0,
                      hint="wout_std is a standard deviation; 0 means Wout starts at exactly 0.")
        _check_finite("fixate_bias", self.fixate_bias, low=-20.0, high=20.0,
                      hint="It is a logit offset: 3 makes FIXATE e^3 = 20x likelier than each "
                           "choice at the start; beyond +-20 float32 softmax saturates.")


@_friendly_init
@dataclass(frozen=True)
class TrainSettings(_SettingsMixin):
    """One network's training run: task, network, and the kappa-sensitive REINFORCE trainer.

    Fields that set array shapes (task, network sizes, batch, updates) must agree across the
    members of an ensemble; kappa, entropy_coef, learning rates, schedules, wout_std, seed and
    clipping may differ per member.
    """

    kappa: float = 0.0
    entropy_coef: float = 0.0
    entropy_start: int = 0           # the update from which the entropy bonus is on (0: always)
    lr: float = 0.01                 # policy learning rate
    baseline_lr: float = 0.01        # baseline learning rate (Adam)
    batch_size: int = 256            # trials per update
    updates: int = 1500
    grad_clip: float = 5.0           # global L2 norm per network; 0 disables clipping
    seed: int = 0
    lr_schedule: str = "constant"    # constant | exponential (to lr_final_fraction) | step
    lr_final_fraction: float = 0.1   # lr at the last update / lr, for exponential and step
    kappa_schedule: str = "constant"  # constant | gradual (0 -> kappa in steps of kappa_step)
    kappa_step: float = 0.05
    kappa_step_updates: int = 100    # updates between kappa steps in the gradual schedule
    logit_cap: float = 0.0           # > 0: logits -> cap * tanh(logits / cap); 0: off (upstream)
    policy_optimizer: str = "adam"   # adam | sgd (step = lr * clipped gradient); baseline: Adam
    policy_adam_eps: float = 1e-8    # policy Adam's eps; eps >> |g|: step ~ lr g / eps, like SGD
    task: TaskSettings = field(default_factory=TaskSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)

    def __post_init__(self) -> None:
        _check_number("kappa", self.kappa)
        try:
            check_kappa(self.kappa)
        except ValueError as err:
            raise SettingsError(str(err)) from None
        _check_finite("entropy_coef", self.entropy_coef, low=0.0,
                      hint="It weights the entropy bonus; try 0.01.")
        if isinstance(self.entropy_start, bool) or not isinstance(self.entropy_start, int) \
                or self.entropy_start < 0:
            raise SettingsError(f"entropy_start={self.entropy_start!r} must be a whole number "
                                "of updates >= 0 (0: the bonus is on from the start).")
        _check_finite("lr", self.lr, low=0.0, low_inclusive=False,
                      hint="Use a positive learning rate such as 0.01.")
        _check_finite("baseline_lr", self.baseline_lr, low=0.0, low_inclusive=False,
                      hint="Use a positive learning rate such as 0.01.")
        _check_positive_int(
            "batch_size", self.batch_size, high=MAX_BATCH,
            why=f"one update of {MAX_BATCH:_} trials already holds about 7 GB of rollout at the "
            "default sizes, and this machine has 24 GiB shared by its users. Use several "
            "seeds or more updates instead.")
        _check_positive_int(
            "updates", self.updates, high=MAX_UPDATES,
            why=f"the history keeps {HISTORY_DIAGNOSTICS} float32 diagnostics per update and "
            f"network ({MAX_UPDATES:_} updates: {MAX_UPDATES * HISTORY_DIAGNOSTICS * 4 / 1e6:.0f} "
            "MB per network), and at about 40 updates/s that many take 7 hours.")
        _check_finite("grad_clip", self.grad_clip, low=0.0, hint="Use 0 to disable clipping.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) \
                or not 0 <= self.seed <= MAX_SEED:
            raise SettingsError(f"seed={self.seed!r} must be an integer from 0 to 2**64 - 1 "
                                "(what torch's random generator accepts).")
        _check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        _check_finite("lr_final_fraction", self.lr_final_fraction, low=0.0,
                      low_inclusive=False, high=1.0)
        _check_choice("kappa_schedule", self.kappa_schedule, KAPPA_SCHEDULES)
        _check_finite("kappa_step", self.kappa_step, low=0.0, low_inclusive=False, high=1.0)
        _check_positive_int("kappa_step_updates", self.kappa_step_updates)
        _check_finite("logit_cap", self.logit_cap, low=0.0,
                      hint="Use 0 for no cap, or a bound such as 2 on each logit.")
        _check_choice("policy_optimizer", self.policy_optimizer, OPTIMIZERS)
        _check_finite("policy_adam_eps", self.policy_adam_eps, low=0.0, low_inclusive=False,
                      hint="Use a small positive number such as 1e-8 (the default).")
        if isinstance(self.task, dict):
            object.__setattr__(self, "task", TaskSettings.from_dict(self.task))
        if isinstance(self.network, dict):
            object.__setattr__(self, "network", NetworkSettings.from_dict(self.network))
        if not isinstance(self.task, TaskSettings):
            raise SettingsError(f"task={self.task!r} must be a TaskSettings or a dict of them.")
        if not isinstance(self.network, NetworkSettings):
            raise SettingsError(
                f"network={self.network!r} must be a NetworkSettings or a dict of them.")
        check_memory([self])

    def replace(self, **changes):
        """A copy with settings changed. Task and network fields may be given by name too:
        `s.replace(kappa=-0.2, wout_std=0.0, no_choice_penalty=-1.0)`."""
        task_names = [f.name for f in fields(TaskSettings)]
        net_names = [f.name for f in fields(NetworkSettings)]
        own_names = [f.name for f in fields(self)]
        for key in changes:
            if key not in own_names + task_names + net_names:
                close = difflib.get_close_matches(key, own_names + task_names + net_names, n=1)
                fix = f" Did you mean {close[0]!r}?" if close else ""
                raise SettingsNameError(f"Unknown setting {key!r}.{fix}")
        values = {name: getattr(self, name) for name in own_names}
        values.update({k: v for k, v in changes.items() if k in own_names})
        task = {k: v for k, v in changes.items() if k in task_names}
        net = {k: v for k, v in changes.items() if k in net_names}
        if task:
            values["task"] = TaskSettings.from_dict(values["task"]).replace(**task) \
                if isinstance(values["task"], dict) else values["task"].replace(**task)
        if net:
            values["network"] = NetworkSettings.from_dict(values["network"]).replace(**net) \
                if isinstance(values["network"], dict) else values["network"].replace(**net)
        return type(self)(**values)

    @classmethod
    def from_dict(cls, values: dict[str, Any]):
        return cls().replace(**values)

    def kappa_at(self, update: int) -> float:
        """kappa in force at this update (the gradual schedule steps 0 -> kappa by kappa_step)."""
        if self.kappa_schedule == "constant":
            return self.kappa
        reached = self.kappa_step * (update // self.kappa_step_updates)
        return math.copysign(min(abs(self.kappa), reached), self.kappa)

    def entropy_coef_at(self, update: int) -> float:
        """The entropy bonus's weight at this update: 0 before entropy_start."""
        return self.entropy_coef if update >= self.entropy_start else 0.0

    def lr_factor_at(self, update: int) -> float:
        """Multiplier on lr and baseline_lr at this update (1 at update 0)."""
        if self.lr_schedule == "constant":
            return 1.0
        frac = update / max(self.updates - 1, 1)
        if self.lr_schedule == "exponential":
            return self.lr_final_fraction ** frac
        return 1.0 if frac < 0.5 else self.lr_final_fraction  # step: drop halfway



# Settings that fix array shapes or code paths: members of one ensemble must share them.
SHARED_FIELDS = ("batch_size", "updates")
SHARED_TASK_FIELDS = ("fixation_steps", "stimulus_steps", "decision_steps", "p_encoding")
SHARED_NETWORK_FIELDS = ("network_type", "units", "baseline_units", "readout_rate",
                         "rate_function")


def check_memory(settings: list[TrainSettings], what: str = "this run") -> None:
    """Refuse settings whose planned memory (memory.planned_bytes) exceeds MEMORY_BUDGET, with
    the sizes by part and the fix."""
    need = planned_bytes(settings)
    if need > MEMORY_BUDGET:
        parts = {k: sum(network_bytes(s)[k] for s in settings) / 2**30
                 for k in ("weights", "rollout", "history")}
        s = settings[0]
        fix = ("Lower units or baseline_units" if parts["weights"] >= parts["rollout"] else
               "Lower batch_size, units or the number of steps")
        raise SettingsError(
            f"{what} would need about {need / 2**30:.1f} GiB for {len(settings)} network(s) "
            f"of {s.network.units} + {s.network.baseline_units} units: weights with their "
            f"gradients and Adam state {parts['weights']:.1f} GiB, the rollout of "
            f"batch_size={s.batch_size} x {s.task.steps} steps {parts['rollout']:.1f} GiB, "
            f"history {parts['history']:.1f} GiB; above the {MEMORY_BUDGET / 2**30:.0f} GiB a "
            f"run may take on this 24 GiB machine. {fix}"
            + (", or train fewer networks at once." if len(settings) > 1 else "."))


# What each setting means, for `python -m pyrl_mini train --list-settings` (and a test checks
# that every field has a line here).
SETTINGS_HELP = {
    "kappa": "risk parameter in (-1, 1): < 0 risk-seeking, > 0 risk-averse",
    "entropy_coef": "weight of the entropy bonus (0: none; 0.05 keeps exploring)",
    "entropy_start": "update from which the entropy bonus is on (0: from the start)",
    "lr": "policy learning rate",
    "baseline_lr": "baseline learning rate (Adam)",
    "batch_size": f"trials per update (at most {MAX_BATCH:_})",
    "updates": f"number of updates (at most {MAX_UPDATES:_})",
    "grad_clip": "clip each network's global gradient L2 norm to this; 0: no clipping",
    "seed": "random seed of the weights and the trials (0 .. 2**64 - 1)",
    "lr_schedule": "constant | exponential (to lr_final_fraction) | step (drop halfway)",
    "lr_final_fraction": "lr at the last update / lr, for the exponential and step schedules",
    "kappa_schedule": "constant | gradual (0 -> kappa in steps of kappa_step)",
    "kappa_step": "step of the gradual kappa schedule",
    "kappa_step_updates": "updates between two steps of the gradual kappa schedule",
    "logit_cap": "> 0: logits -> cap * tanh(logits / cap); 0: no cap",
    "policy_optimizer": "adam | sgd (plain step lr x clipped gradient; baseline stays Adam)",
    "policy_adam_eps": "eps of the policy's Adam (1e-8); a large eps makes small steps SGD-like",
    "fixation_steps": "time steps of the fixation epoch",
    "stimulus_steps": "time steps of the stimulus epoch",
    "decision_steps": "time steps of the decision epoch",
    "abort_penalty": "reward for breaking fixation",
    "no_choice_penalty": "reward for making no choice by the end of the trial",
    "step_cost": "reward added at every time step (0: waiting is free)",
    "input_noise": "std of the Gaussian noise on every input at every step",
    "p_encoding": "input code of the probability p: log | linear",
    "network_type": "gru (pyrl GRU) | simple (leaky RNN)",
    "units": f"recurrent units of the policy (at most {MAX_UNITS})",
    "baseline_units": f"recurrent units of the baseline network (at most {MAX_UNITS})",
    "alpha": "dt / tau, the leak of the state update, in (0, 1]",
    "recurrent_noise": "std of the noise added to the state at every step",
    "rec_init_scale": "scale of the initial recurrent weights",
    "wout_std": "std of the readout W_out at initialisation; 0: exactly zero",
    "fixate_bias": "initial readout bias toward FIXATE: b_out = (fixate_bias, 0, 0); upstream 3",
    "readout_rate": "what the SimpleRNN policy reads: relu | tanh of its state",
    "rate_function": "firing rate r = phi(x) of the dynamics: relu | tanh | softplus",
}


def settings_table() -> list[tuple[str, str, Any, str]]:
    """(group, name, default, meaning) for every setting a TrainSettings takes by name."""
    rows = []
    for group, obj in (("train", TrainSettings()), ("task", TaskSettings()),
                       ("network", NetworkSettings())):
        for f in fields(obj):
            if f.name in ("task", "network"):
                continue
            rows.append((group, f.name, getattr(obj, f.name), SETTINGS_HELP.get(f.name, "")))
    return rows
