"""The kappa-sensitive REINFORCE trainer for an ensemble of recurrent policies.

One update, for each of E independent networks (all in one batched computation):

1. Roll out a batch of B gambling trials: states x (T, E, B, N), rates r = relu(x),
   log pi_t = log_softmax(r W_out + b_out), actions a_t ~ pi_t (with logit_cap > 0 the logits
   pass through cap * tanh(. / cap) first; off by default, as upstream).
2. Rewards r_t, return-to-go G_t = sum_{s>=t} r_s; valid steps are those before the trial ends.
3. Baseline V_t from the policy's rates (detached) and the previous action.
4. Advantage d_t = G_t - V_t and its kappa transform f(d_t) = (1 - kappa) d_t if d_t > 0 else
   (1 + kappa) d_t (kappa < 0 is risk-seeking).
5. Policy loss  L_pi = -(sum_{valid t, b} log pi(a_t | s_t) f(d_t)) / B - entropy_coef * mean H,
   with f(d) treated as a constant and H = -sum_a pi(a) log pi(a) averaged over valid steps.
   Baseline loss L_V = mean_valid w(d) d^2 / 2 with w(d) = f(d) / d detached, whose gradient
   with respect to V_t is -f(d_t) / n_valid: the Mihatsch-Neuneier update V <- V + lr f(d).
6. Per-network global L2 gradient norm (before clipping, valid steps only), clipping to
   grad_clip, Adam with per-network learning rate (or, with policy_optimizer="sgd", a plain
   SGD step on the policy; the baseline always uses Adam).

Where: train() below runs these steps in order, one line each; the rollout and the loss are
Ensemble.rollout and `losses`, what is recorded pyrl_mini.diagnostics (via Log). The rollout
has two paths that give the same updates to float rounding: the fast path (pyrl_mini.fast: the
recurrence, readout and sampling in one C++ loop, for the trials still running only), used
when its kernel is built, and the plain path (autograd through networks.run_recurrent over
every step of every trial), used otherwise and by the notebooks' own rollouts.

Upstream (pyrl's PyTorch port) printed a *sum* of per-parameter norms as "Total norm" and
counted padded steps after a trial's end in its log-probability statistics; here the gradient
norm is the global L2 norm and every statistic counts valid steps only.
"""

from __future__ import annotations

import math
import numbers
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from . import analysis, tasks
from . import fast as fast_path
from . import networks as nets
from .config import (
    SHARED_FIELDS,
    SHARED_NETWORK_FIELDS,
    SHARED_TASK_FIELDS,
    SettingsError,
    TrainSettings,
    check_memory,
)
from .diagnostics import DIAGNOSTICS, batch_statistics, behaviour
from .risk import baseline_loss, kappa_transform

__all__ = ["Ensemble", "Log", "TrainResult", "cap_logits", "evaluate", "losses",
           "max_probability", "train", "uses_fast_path"]

@dataclass
class TrainResult:
    """History of an ensemble's training.

    history[name]: float array (updates_done, E) for each name in DIAGNOSTICS.
    unit_dead: bool array (updates_done, E, N) (each unit dead at that update) if recorded.
    stopped_at[k]: update at which network k met a non-finite loss or gradient (-1: never).
    last_trials: per-trial records of the last batch, arrays (E, B).
    params / baseline_params: final parameters (E, ...) as detached tensors.
    """

    settings: list[TrainSettings]
    history: dict[str, np.ndarray]
    stopped_at: np.ndarray
    last_trials: dict[str, np.ndarray]
    params: dict[str, torch.Tensor]
    baseline_params: dict[str, torch.Tensor]
    unit_dead: np.ndarray | None = None
    interrupted: bool = False
    seconds: float = 0.0
    fast_path: bool = False     # trained on the C++ fast path (else the plain path)

    @property
    def updates_done(self) -> int:
        return len(next(iter(self.history.values())))

    def member(self, k: int) -> dict[str, np.ndarray]:
        """History of network k alone: name -> (updates_done,)."""
        return {name: v[:, k] for name, v in self.history.items()}


def _check_ensemble(settings: list[TrainSettings]) -> None:
    if not settings:
        raise SettingsError("train() needs at least one TrainSettings.")
    first = settings[0]
    for k, s in enumerate(settings[1:], start=1):
        for name in SHARED_FIELDS:
            if getattr(s, name) != getattr(first, name):
                raise SettingsError(
                    f"Ensemble member {k} has {name}={getattr(s, name)!r} but member 0 has "
                    f"{getattr(first, name)!r}: members of one ensemble share array shapes. "
                    "Train them in separate ensembles.")
        for part, names in (("task", SHARED_TASK_FIELDS), ("network", SHARED_NETWORK_FIELDS)):
            for name in names:
                a, b = getattr(getattr(s, part), name), getattr(getattr(first, part), name)
                if a != b:
                    raise SettingsError(
                        f"Ensemble member {k} has {name}={a!r} but member 0 has {b!r}: "
                        "members of one ensemble share it. Train them in separate ensembles.")
    # each member passed the check alone; together they hold every member's rollout at once
    check_memory(settings, what=f"an ensemble of {len(settings)} networks")


def cap_logits(logits: torch.Tensor, cap: torch.Tensor) -> torch.Tensor:
    """Soft logit cap per network: cap * tanh(logits / cap) where cap > 0, logits unchanged
    where cap = 0. logits (T, E, B, A), cap (E,).

    Each capped logit lies in (-cap, cap), so no action's probability can exceed
    1 / (1 + (A - 1) exp(-2 cap)): the policy can never become deterministic (the tanh logit
    clipping of Bello et al. 2017, the soft-capping of Gemma 2). The price: d(capped)/d(logit)
    = 1 - tanh^2 -> 0 as a logit nears the cap, so the cap moves the vanishing gradient from
    the softmax into the tanh instead of removing it.
    """
    on = (cap > 0).view(1, -1, 1, 1)
    safe = torch.where(cap > 0, cap, torch.ones_like(cap)).view(1, -1, 1, 1)
    return torch.where(on, safe * torch.tanh(logits / safe), logits)


def max_probability(cap: float, n_actions: int) -> float:
    """The largest probability any action can reach under logit_cap = cap (1 if cap = 0)."""
    if cap <= 0:
        return 1.0
    return 1.0 / (1.0 + (n_actions - 1) * math.exp(-2.0 * cap))


def log_softmax(logits: torch.Tensor) -> torch.Tensor:
    """torch.log_softmax over the last dim (the A = 3 actions), computed over a leading dim of a
    view: the same numbers, 3-4 times faster forward and backward (ATen vectorises across the
    other dims then, rather than within rows of 3)."""
    return torch.log_softmax(logits.movedim(-1, 0), dim=0).movedim(0, -1)


def losses(logp_all: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor,
           returns: torch.Tensor, value: torch.Tensor, kappa: torch.Tensor,
           entropy_coef: torch.Tensor, trials: int) -> dict[str, torch.Tensor]:
    """Both losses of one batch, per network (E,), and the per-step pieces they are made of.

    logp_all (T, E, B, A) log pi; actions, mask, returns, value (T, E, B); kappa and
    entropy_coef (E,). Policy: L_pi = -(sum_valid log pi(a_t) f(d_t)) / B - entropy_coef * H
    with f(d) = kappa_transform(G - V) held constant. Baseline: risk.baseline_loss, whose
    gradient with respect to V_t is -f(d_t) / n_valid.
    """
    k = kappa.view(1, -1, 1)
    fd = kappa_transform((returns - value).detach(), k)
    logp = logp_all.gather(-1, actions.unsqueeze(-1)).squeeze(-1)              # (T, E, B)
    probs = logp_all.exp()
    entropy = -(probs * logp_all).sum(-1)                                       # (T, E, B)
    n_valid = mask.sum(dim=(0, 2)).clamp_min(1)                                 # (E,)
    mean_entropy = (entropy * mask).sum(dim=(0, 2)) / n_valid
    pg = (logp * fd * mask).sum(dim=(0, 2)) / trials
    return dict(policy_loss=-pg - entropy_coef * mean_entropy,
                baseline_loss=baseline_loss(value, returns, k, mask, dim=(0, 2)),
                logp=logp, probs=probs, entropy=entropy, fd=fd, mean_entropy=mean_entropy,
                n_valid=n_valid)


class Ensemble:
    """Parameters, Adam state and random generators of E independent networks.

    Network k draws everything (initial weights, trials, noise, actions) from its own
    torch.Generator seeded with settings[k].seed, in the same order whatever the ensemble,
    so network k trained in an ensemble equals the same network trained alone.
    params / baseline_params: name -> (E, ...) leaf tensors, views into one flat tensor per
    network kind (self.flat["pi"], self.flat["v"]) that the optimiser updates in place.
    """

    def __init__(self, settings: list[TrainSettings]):
        _check_ensemble(settings)
        self.settings = settings
        s0 = settings[0]
        self.E = len(settings)
        self.task = s0.task
        self.net = s0.network
        self.generators = [torch.Generator().manual_seed(s.seed) for s in settings]
        N, A = s0.network.units, tasks.N_ACTIONS
        pols, bases = [], []
        for s, g in zip(settings, self.generators, strict=True):
            pols.append(nets.init_policy(s.network.network_type, tasks.N_INPUTS, N, A,
                                         s.network.wout_std, s.network.rec_init_scale, g,
                                         fixate_bias=s.network.fixate_bias))
            bases.append(nets.init_baseline(N + A, s.network.baseline_units, g))
        self.flat, self.adam = {}, {}
        self.flat["pi"], self.params = nets.flat_params(pols)
        self.flat["v"], self.baseline_params = nets.flat_params(bases)
        for kind, flat in self.flat.items():
            self.adam[kind] = (torch.zeros_like(flat), torch.zeros_like(flat))
        self.step_count = 0
        self.active = torch.ones(self.E, dtype=torch.bool)
        self.stopped_at = np.full(self.E, -1, dtype=np.int64)   # update it stopped at, or -1

        def col(fn):
            return torch.tensor([fn(s) for s in settings], dtype=torch.float32)

        self.alpha = col(lambda s: s.network.alpha)
        self.rec_noise = col(lambda s: s.network.recurrent_noise)
        self.input_noise = col(lambda s: s.task.input_noise)
        self.abort_penalty = col(lambda s: s.task.abort_penalty)
        self.no_choice_penalty = col(lambda s: s.task.no_choice_penalty)
        self.step_cost = col(lambda s: s.task.step_cost)
        self.entropy_coef = col(lambda s: s.entropy_coef)
        self.grad_clip = col(lambda s: s.grad_clip)
        self.logit_cap = col(lambda s: s.logit_cap)
        self.lr = col(lambda s: s.lr)
        self.baseline_lr = col(lambda s: s.baseline_lr)
        self.policy_sgd = torch.tensor([s.policy_optimizer == "sgd" for s in settings])
        self.policy_eps = torch.tensor([s.policy_adam_eps for s in settings], dtype=torch.float64)

    # --- one batch -------------------------------------------------------------------------
    def draw(self, trials: int):
        """Every random number of one batch, per network, stacked along the ensemble dim:
        options (E, B, 2), input noise (T, E, B, n_in), outcome uniforms (E, B), recurrent
        noise (T, E, B, N) and action uniforms (T, E, B)."""
        T, N = self.task.steps, self.net.units
        opts, in_noise, out_u, act_u = [], [], [], []
        # the largest draw goes straight to its place (ensemble-major; returned as a view)
        rec_noise = torch.empty(self.E, T, trials, N)
        for g, noise in zip(self.generators, rec_noise, strict=True):
            o, n, u = tasks.draw_trials(self.task, trials, g)
            opts.append(o)
            in_noise.append(n)
            out_u.append(u)
            torch.randn(T, trials, N, generator=g, out=noise)
            act_u.append(torch.rand(T, trials, generator=g))
        return (torch.stack(opts), torch.stack(in_noise, 1), torch.stack(out_u),
                rec_noise.transpose(0, 1), torch.stack(act_u, 1))

    def _read_fn(self) -> str:
        net = self.net
        return net.rate_function if net.network_type == "gru" else net.readout_rate

    def _cap(self, logits: torch.Tensor) -> torch.Tensor:
        if bool((self.logit_cap > 0).any()):
            return cap_logits(logits, self.logit_cap)
        return logits

    def rollout(self, trials: int, kappa: torch.Tensor, fast: bool = False,
                entropy_coef: torch.Tensor | None = None) -> dict:
        """Run one batch and build both losses. kappa and entropy_coef (default: the settings'
        entropy_coef): (E,). Returns tensors and losses.

        fast=False (the plain path): autograd through every step of every trial; the tensors
        cover all T steps. fast=True (pyrl_mini.fast, which train() uses when its kernel is
        built): the recurrence, readout and sampling run in C++ for the trials still running
        (actions drawn step by step from the same uniforms) and stop once every trial of every
        network has ended, so the tensors cover T' <= T steps. Steps after a trial's end carry
        mask 0 and add nothing to either loss, so both paths give the same losses and
        gradients to float rounding.
        """
        options, in_noise, outcome_u, rec_noise, act_u = self.draw(trials)
        E, A, net = self.E, tasks.N_ACTIONS, self.net
        inputs = tasks.build_inputs(self.task, options, in_noise, self.input_noise)
        noise = rec_noise.mul_(self.rec_noise.view(1, E, 1, 1))             # (T, E, B, N)
        if fast:   # the running trials only, actions sampled step by step
            raw_logits, rates, actions, rows = fast_path.policy(
                self.params, net.network_type, inputs, noise, self.alpha, net.rate_function,
                self._read_fn(), self.logit_cap, act_u)
        else:
            x = nets.run_recurrent(self.params, net.network_type, inputs, noise, self.alpha,
                                   net.rate_function)
            rates = nets.rate(x, net.rate_function)
            read = rates if self._read_fn() == net.rate_function else nets.rate(
                x, self._read_fn())
            raw_logits = nets.readout(self.params, read)
        logp_all = log_softmax(self._cap(raw_logits))                        # (T, E, B, A)
        if not fast:
            actions = nets.sample_actions(logp_all.detach().exp(), act_u)
        out = tasks.resolve(self.task, actions, options, outcome_u, self.abort_penalty,
                            self.no_choice_penalty, self.step_cost)
        returns = tasks.return_to_go(out.rewards)
        # baseline input: the policy's rates (detached) and the previous action (one-hot)
        Tr = actions.shape[0]
        prev = torch.zeros(Tr, E, trials, A)
        prev[1:] = torch.nn.functional.one_hot(actions[:-1], A).float()
        b_in = torch.cat([rates.detach(), prev], dim=-1)
        if fast:
            value = fast_path.baseline(self.baseline_params, b_in, self.alpha, rows)
        else:
            bx = nets.run_recurrent(self.baseline_params, "gru", b_in, None, self.alpha)
            value = nets.readout(self.baseline_params, torch.relu(bx)).squeeze(-1)  # (T, E, B)
        loss = losses(logp_all, actions, out.mask, returns, value, kappa,
                      self.entropy_coef if entropy_coef is None else entropy_coef, trials)
        return dict(options=options, actions=actions, outcome=out, mask=out.mask,
                    raw_logits=raw_logits, rates=rates, value=value, returns=returns, **loss)

    # --- one update ------------------------------------------------------------------------
    def group_matrix(self, groups: dict[str, list[str]]) -> torch.Tensor:
        """(P, G) float64: 1 where a policy weight of the flat layout belongs to group g, so
        that (grad * grad) @ it gives each group's squared gradient norm in one product."""
        sizes = [p[0].numel() for p in self.params.values()]
        member = torch.zeros(sum(sizes), len(groups), dtype=torch.float64)
        start = 0
        for name, size in zip(self.params, sizes, strict=True):
            for j, names in enumerate(groups.values()):
                if name in names:
                    member[start:start + size, j] = 1.0
            start += size
        return member

    def flat_grads(self, kind: str) -> torch.Tensor:
        """The gradients of one network kind ("pi" or "v") as one (E, P) tensor, in the
        layout of self.flat[kind]; the parameters' .grad are cleared."""
        params = self.params if kind == "pi" else self.baseline_params
        grads = []
        for p in params.values():
            grads.append(torch.zeros_like(p) if p.grad is None else p.grad)
            p.grad = None
        return torch.cat([g.reshape(self.E, -1) for g in grads], dim=1)

    def optimizer_step(self, kind: str, grad: torch.Tensor, lr: torch.Tensor,
                       scale: torch.Tensor, sgd: torch.Tensor | None = None,
                       b1: float = 0.9, b2: float = 0.999,
                       eps: float | torch.Tensor = 1e-8) -> None:
        """One Adam step per network on the flat parameters of a kind (grad (E, P); lr,
        scale, and eps if a tensor: (E,)); where sgd (E,) is True, a plain SGD step
        lr * scale * grad instead (the Adam moments are kept either way). Stopped networks
        do not move."""
        t, (m, v), E = self.step_count, self.adam[kind], self.E
        with torch.no_grad():
            g = grad * scale.view(E, 1)
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            e = eps.to(g.dtype).view(E, 1) if torch.is_tensor(eps) else eps
            step = (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + e)
            if sgd is not None:
                step = torch.where(sgd.view(E, 1), g, step)
            live = self.active.view(E, 1)
            self.flat[kind].sub_(torch.where(live, lr.view(E, 1) * step,
                                             torch.zeros_like(step)))

    # --- train()'s steps on the whole ensemble ---------------------------------------------
    def schedules(self, update: int) -> dict[str, torch.Tensor]:
        """kappa, the entropy bonus's weight and the policy's and the baseline's learning
        rates (each (E,)) in force at this update."""
        def col(fn):
            return torch.tensor([fn(s) for s in self.settings], dtype=torch.float32)

        factor = col(lambda s: s.lr_factor_at(update))
        return {"kappa": col(lambda s: s.kappa_at(update)),
                "entropy_coef": col(lambda s: s.entropy_coef_at(update)),
                "lr": self.lr * factor, "baseline_lr": self.baseline_lr * factor}

    def stop_non_finite(self, update: int, batch: dict, norms: dict, grad: torch.Tensor,
                        grad_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Stop for good every network whose loss or gradient is not finite (its parameters
        freeze, a warning names the update), and return the gradients with their non-finite
        entries zeroed (a stopped network does not move either way)."""
        # a sum of non-negative norms and the two losses is finite only if all four are
        finite = torch.isfinite(norms["policy"] + norms["baseline"]
                                + batch["policy_loss"].detach()
                                + batch["baseline_loss"].detach())
        if bool(finite.all()):
            return grad, grad_b
        for k in torch.nonzero(self.active & ~finite).flatten().tolist():
            self.stopped_at[k] = update
            warnings.warn(f"network {k} (seed {self.settings[k].seed}) stopped at update "
                          f"{update}: non-finite loss or gradient. Its history ends there; "
                          "lower lr or grad_clip to avoid it.", RuntimeWarning, stacklevel=3)
        self.active &= finite
        return (torch.nan_to_num(grad, nan=0.0, posinf=0.0, neginf=0.0),
                torch.nan_to_num(grad_b, nan=0.0, posinf=0.0, neginf=0.0))

    def step(self, grad: torch.Tensor, grad_b: torch.Tensor, norms: dict, lr: torch.Tensor,
             lr_b: torch.Tensor) -> None:
        """Clip each network's gradients to its grad_clip and take one optimiser step."""
        self.step_count += 1
        self.optimizer_step("pi", grad, lr, clip_scale(norms["policy"], self.grad_clip),
                            sgd=self.policy_sgd, eps=self.policy_eps)
        self.optimizer_step("v", grad_b, lr_b, clip_scale(norms["baseline"], self.grad_clip))



def clip_scale(norm: torch.Tensor, clip: torch.Tensor) -> torch.Tensor:
    """Per-network factor that scales a gradient of global norm `norm` down to at most
    `clip` (1 where clip = 0, i.e. no clipping; 0 where the norm is not finite)."""
    scale = torch.where(clip > 0, (clip / (norm + 1e-6)).clamp(max=1.0), torch.ones_like(norm))
    return torch.nan_to_num(scale, nan=0.0)


def gradient_norms(grad: torch.Tensor, grad_b: torch.Tensor,
                   group_of: torch.Tensor) -> dict[str, torch.Tensor]:
    """The global L2 norms (E,) of the policy's and the baseline's gradients (E, P), and the
    squared norm of each policy parameter group (E, groups), group_of being
    Ensemble.group_matrix. The groups are summed in float64: a float32 sum of 30,000 terms
    would lose 1e-5 of the norm to rounding."""
    g64 = grad.double()
    groups = ((g64 * g64) @ group_of).float()
    return {"policy": groups.sum(1).sqrt(), "baseline": (grad_b * grad_b).sum(1).sqrt(),
            "groups": groups}


class Log:
    """What train() records: every diagnostic (DIAGNOSTICS) per update and network, each
    unit's dead flag if asked (record_units), and the last batch's trials."""

    def __init__(self, settings: list[TrainSettings], updates: int, record_units: bool,
                 groups: dict[str, list[str]]):
        E, N = len(settings), settings[0].network.units
        self.history = {name: np.full((updates, E), np.nan, dtype=np.float32)
                        for name in DIAGNOSTICS}
        self.unit_dead = np.zeros((updates, E, N), dtype=bool) if record_units else None
        self.groups = list(groups)
        self.done, self.last, self.interrupted = 0, None, False

    def record(self, update: int, batch: dict, ens: Ensemble, kappa: torch.Tensor,
               lr: torch.Tensor, norms: dict) -> None:
        """One update's diagnostics (NaN for networks that have stopped)."""
        with torch.no_grad():
            row = behaviour(batch["options"], batch["outcome"])
            row.update(batch_statistics(batch))
            dead = row.pop("dead")
            row.update(grad_norm=norms["policy"], baseline_grad_norm=norms["baseline"],
                       kappa=kappa, lr=lr,
                       clipped=((ens.grad_clip > 0) & (norms["policy"] > ens.grad_clip)).float())
            for j, g in enumerate(self.groups):
                row["grad_norm_" + g] = norms["groups"][:, j].sqrt()
        for name, v in row.items():
            self.history[name][update] = v.numpy()
        if not bool(ens.active.all()):   # stopped networks record NaN from then on
            for name in row:
                self.history[name][update, ~ens.active.numpy()] = np.nan
        if self.unit_dead is not None:
            self.unit_dead[update] = dead.numpy()
        self.last, self.done = batch, update + 1

    def label_modes(self, updates: slice) -> None:
        """Fill history["mode"] for these updates from the recorded choice statistics (NaN
        where the network had stopped); train() labels the whole history in one call when it
        ends, and each update as it goes only for a callback."""
        h = self.history
        rates = [h[name][updates] for name in ("abort_rate", "no_choice_rate", "choice_rate",
                                               "left_rate", "higher_ev_rate")]
        h["mode"][updates] = np.where(np.isnan(rates[0]), np.nan,
                                      analysis.behaviour_mode(*rates))

    def row(self, update: int) -> dict[str, np.ndarray]:
        """This update's diagnostics, mode included (what a callback receives)."""
        self.label_modes(slice(update, update + 1))
        return {name: self.history[name][update] for name in DIAGNOSTICS}

    def result(self, ens: Ensemble, seconds: float) -> TrainResult:
        self.label_modes(slice(0, self.done))
        last_trials = {}
        if self.last is not None:
            out = self.last["outcome"]
            last_trials = {"options": self.last["options"].numpy(),
                           "choice": out.choice.numpy(),
                           "reaction_step": out.reaction_step.numpy(),
                           "aborted": out.aborted.numpy(), "no_choice": out.no_choice.numpy(),
                           "payoff": out.payoff.numpy()}
        return TrainResult(
            settings=ens.settings,
            history={k: v[:self.done] for k, v in self.history.items()},
            stopped_at=ens.stopped_at.copy(),
            last_trials=last_trials,
            params={k: v.detach().clone() for k, v in ens.params.items()},
            baseline_params={k: v.detach().clone() for k, v in ens.baseline_params.items()},
            unit_dead=None if self.unit_dead is None else self.unit_dead[:self.done],
            interrupted=self.interrupted,
            seconds=seconds,
        )


def uses_fast_path() -> bool:
    """Whether train() runs the fast path here (its kernel built and not switched off)."""
    return fast_path.load() is not None


def _members(settings) -> list[TrainSettings]:
    members = [settings] if isinstance(settings, TrainSettings) else settings
    if not isinstance(members, (list, tuple)):
        raise SettingsError(f"train() takes a TrainSettings or a list of them, not "
                            f"{settings!r}: e.g. train(TrainSettings(kappa=-0.2)).")
    for k, s in enumerate(members):
        if not isinstance(s, TrainSettings):
            raise SettingsError(f"settings[{k}]={s!r} is not a TrainSettings.")
    return list(members)


def train(settings: TrainSettings | list[TrainSettings], progress: bool = True,
          record_units: bool = False, callback: Callable[[int, dict], None] | None = None,
          desc: str = "training", stop_after: int | None = None) -> TrainResult:
    """Train one network (a TrainSettings) or an ensemble (a list) with kappa-REINFORCE.

    Returns a TrainResult with per-update diagnostics (updates, E). Ctrl-C returns the history
    so far with a warning. A network whose loss or gradient turns non-finite stops (its
    parameters freeze, its later diagnostics are NaN) and a warning names the update.
    callback(update, diagnostics_of_this_update) is called after every update.
    stop_after: run only this many updates (schedules still see settings.updates), so the
    result equals the first updates of the full run; 0 returns the initial parameters.
    """
    members = _members(settings)
    if stop_after is not None and (isinstance(stop_after, bool) or not isinstance(
            stop_after, numbers.Integral) or stop_after < 0):
        raise SettingsError(f"stop_after={stop_after!r} must be a whole number of updates, 0 "
                            "or more (0: the initial parameters; None: all of them).")
    ens = Ensemble(members)
    updates, trials = members[0].updates, members[0].batch_size
    updates = updates if stop_after is None else min(updates, int(stop_after))
    groups = nets.param_groups(ens.params)
    group_of = ens.group_matrix(groups)      # (P, groups): 1 where a weight is in a group
    log = Log(members, updates, record_units, groups)
    fast = uses_fast_path()
    t0 = time.perf_counter()
    bar = tqdm(total=updates, desc=desc, disable=not progress, leave=False)
    try:
        for u in range(updates):
            now = ens.schedules(u)   # kappa, entropy_coef, lr, baseline_lr in force
            # rollout and both losses
            batch = ens.rollout(trials, now["kappa"], fast, now["entropy_coef"])
            # backward: each network's gradients, flat (E, P)
            (batch["policy_loss"].sum() + batch["baseline_loss"].sum()).backward()
            grad, grad_b = ens.flat_grads("pi"), ens.flat_grads("v")
            norms = gradient_norms(grad, grad_b, group_of)
            grad, grad_b = ens.stop_non_finite(u, batch, norms, grad, grad_b)
            # clip and step
            ens.step(grad, grad_b, norms, now["lr"], now["baseline_lr"])
            # record
            log.record(u, batch, ens, now["kappa"], now["lr"], norms)
            bar.update(1)
            if callback is not None:
                callback(u, log.row(u))
            if not ens.active.any():
                warnings.warn(f"every network stopped by update {u}; ending early.",
                              RuntimeWarning, stacklevel=2)
                break
    except KeyboardInterrupt:
        log.interrupted = True
        warnings.warn(f"training interrupted after {log.done} of {updates} updates; "
                      "returning the history so far.", RuntimeWarning, stacklevel=2)
    finally:
        bar.close()
        fast_path.release()
    result = log.result(ens, time.perf_counter() - t0)
    result.fast_path = fast
    return result


def evaluate(settings: list[TrainSettings] | TrainSettings, params: dict[str, torch.Tensor],
             trials: int = 256, seed: int = 12345) -> dict:
    """Run one batch with given parameters (no learning) and return numpy arrays:
    rates (T, E, B, N), probs (T, E, B, A), mask (T, E, B) and per-trial records (E, B)."""
    members = [settings] if isinstance(settings, TrainSettings) else list(settings)
    members = [s.replace(seed=seed + k) for k, s in enumerate(members)]
    ens = Ensemble(members)
    with torch.no_grad():
        for name, p in params.items():
            ens.params[name].copy_(p)
        ro = ens.rollout(trials, torch.tensor([s.kappa for s in members]))
    out = ro["outcome"]
    return {"rates": ro["rates"].numpy(), "probs": ro["probs"].numpy(),
            "mask": ro["mask"].numpy(), "options": ro["options"].numpy(),
            "choice": out.choice.numpy(), "aborted": out.aborted.numpy(),
            "no_choice": out.no_choice.numpy(), "end_step": out.end_step.numpy(),
            "actions": ro["actions"].numpy(),
            **{k: v.numpy() for k, v in behaviour(ro["options"], out).items()}}
