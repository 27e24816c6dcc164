"""Settings: frozen dataclasses, validated when they are made.

A typo in a setting is refused by name with the closest valid name (upstream's global config
dict silently ignored unknown keys). Every error names the value, the allowed range and the fix.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass, field, fields
from typing import Any

from .risk import check_kappa

NETWORK_TYPES = ("gru", "simple")
RATE_FUNCTIONS = ("relu", "tanh")              # what the SimpleRNN's policy readout reads
DYNAMICS_RATES = ("relu", "tanh", "softplus")  # the firing rate r = phi(x) of the dynamics
LR_SCHEDULES = ("constant", "exponential", "step")
KAPPA_SCHEDULES = ("constant", "gradual")
OPTIMIZERS = ("adam", "sgd")


class SettingsError(ValueError):
    """A setting has an invalid name or value; the message says which and how to fix it."""


def _check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(f"{name}={value!r} must be a positive integer (1, 2, ...).")


def _check_finite(name: str, value: Any, low: float | None = None, low_inclusive: bool = True,
                  high: float | None = None, hint: str = "") -> None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{name}={value!r} is not a number. {hint}".strip()) from None
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


def _from_dict(cls, values: dict[str, Any]):
    """Build cls from a dict, refusing unknown keys by name with the closest valid name."""
    valid = [f.name for f in fields(cls)]
    for key in values:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            fix = f" Did you mean {close[0]!r}?" if close else f" Valid names: {', '.join(valid)}."
            raise SettingsError(f"Unknown setting {key!r} for {cls.__name__}.{fix}")
    return cls(**values)


class _SettingsMixin:
    @classmethod
    def from_dict(cls, values: dict[str, Any]):
        return _from_dict(cls, values)

    def replace(self, **changes):
        """A copy with some settings changed; unknown names are refused like in from_dict."""
        return _from_dict(type(self), {**dataclasses.asdict(self), **changes})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


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
            _check_positive_int(name, getattr(self, name))
        for name in ("abort_penalty", "no_choice_penalty", "step_cost", "input_noise"):
            _check_finite(name, getattr(self, name))
        _check_finite("input_noise", self.input_noise, low=0.0,
                      hint="Use 0 for noiseless inputs.")
        _check_choice("p_encoding", self.p_encoding, ("log", "linear"))

    @property
    def steps(self) -> int:
        return self.fixation_steps + self.stimulus_steps + self.decision_steps


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
        _check_positive_int("units", self.units)
        _check_positive_int("baseline_units", self.baseline_units)
        _check_finite("alpha", self.alpha, low=0.0, low_inclusive=False, high=1.0,
                      hint="alpha = dt / tau lies in (0, 1].")
        _check_finite("recurrent_noise", self.recurrent_noise, low=0.0)
        _check_finite("rec_init_scale", self.rec_init_scale, low=0.0)
        _check_finite("wout_std", self.wout_std, low=0.0,
                      hint="wout_std is a standard deviation; 0 means Wout starts at exactly 0.")
        _check_finite("fixate_bias", self.fixate_bias, low=-20.0, high=20.0,
                      hint="It is a logit offset: 3 makes FIXATE e^3 = 20x likelier than each "
                           "choice at the start; beyond +-20 float32 softmax saturates.")


@dataclass(frozen=True)
class TrainSettings(_SettingsMixin):
    """One network's training run: task, network, and the kappa-sensitive REINFORCE trainer.

    Fields that set array shapes (task, network sizes, batch, updates) must agree across the
    members of an ensemble; kappa, entropy_coef, learning rates, schedules, wout_std, seed and
    clipping may differ per member.
    """

    kappa: float = 0.0
    entropy_coef: float = 0.0
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
    task: TaskSettings = field(default_factory=TaskSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)

    def __post_init__(self) -> None:
        try:
            check_kappa(self.kappa)
        except ValueError as err:
            raise SettingsError(str(err)) from None
        _check_finite("entropy_coef", self.entropy_coef, low=0.0,
                      hint="It weights the entropy bonus; try 0.01.")
        _check_finite("lr", self.lr, low=0.0, low_inclusive=False,
                      hint="Use a positive learning rate such as 0.01.")
        _check_finite("baseline_lr", self.baseline_lr, low=0.0, low_inclusive=False,
                      hint="Use a positive learning rate such as 0.01.")
        _check_positive_int("batch_size", self.batch_size)
        _check_positive_int("updates", self.updates)
        _check_finite("grad_clip", self.grad_clip, low=0.0, hint="Use 0 to disable clipping.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise SettingsError(f"seed={self.seed!r} must be a non-negative integer.")
        _check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        _check_finite("lr_final_fraction", self.lr_final_fraction, low=0.0,
                      low_inclusive=False, high=1.0)
        _check_choice("kappa_schedule", self.kappa_schedule, KAPPA_SCHEDULES)
        _check_finite("kappa_step", self.kappa_step, low=0.0, low_inclusive=False, high=1.0)
        _check_positive_int("kappa_step_updates", self.kappa_step_updates)
        _check_finite("logit_cap", self.logit_cap, low=0.0,
                      hint="Use 0 for no cap, or a bound such as 2 on each logit.")
        _check_choice("policy_optimizer", self.policy_optimizer, OPTIMIZERS)
        if isinstance(self.task, dict):
            object.__setattr__(self, "task", TaskSettings.from_dict(self.task))
        if isinstance(self.network, dict):
            object.__setattr__(self, "network", NetworkSettings.from_dict(self.network))
        if not isinstance(self.task, TaskSettings):
            raise SettingsError(f"task={self.task!r} must be a TaskSettings or a dict of them.")
        if not isinstance(self.network, NetworkSettings):
            raise SettingsError(
                f"network={self.network!r} must be a NetworkSettings or a dict of them.")

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
                raise SettingsError(f"Unknown setting {key!r}.{fix}")
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
