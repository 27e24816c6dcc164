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

Where: train() below runs these steps in order; the rollout is Ensemble.rollout, the loss
`losses`, the diagnostics pyrl_mini.diagnostics. train() uses the fast path of the rollout:
a hand-written backward through time that computes only the trials still running and stops
once all have ended, run by the C++ loop of pyrl_mini/recurrence.cpp (pyrl_mini.kernel) or,
where it cannot be compiled, by the same computation in Python (networks.Recurrence).
Ensemble.rollout(fast=False) is the plain autograd path over every step, which the lessons
use and the tests compare with.

Upstream (pyrl's PyTorch port) printed a *sum* of per-parameter norms as "Total norm" and
counted padded steps after a trial's end in its log-probability statistics; here the gradient
norm is the global L2 norm and every statistic counts valid steps only.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from . import analysis, kernel, tasks
from . import networks as nets
from .config import (
    SHARED_FIELDS,
    SHARED_NETWORK_FIELDS,
    SHARED_TASK_FIELDS,
    SettingsError,
    TrainSettings,
    check_memory,
)
from .diagnostics import DIAGNOSTICS, DORMANT_TAU, batch_statistics, behaviour
from .diagnostics import dead_and_dormant as _unit_stats
from .risk import baseline_loss, kappa_transform

__all__ = ["DIAGNOSTICS", "DORMANT_TAU", "Ensemble", "TrainResult", "behaviour", "cap_logits",
           "evaluate", "losses", "max_probability", "train", "_unit_stats"]

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

    def _policy_fast(self, inputs: torch.Tensor, noise: torch.Tensor, act_u: torch.Tensor):
        """The policy's rates (T', E, B, N), raw logits (T', E, B, A) and actions (T', E, B),
        computed step by step: after each step the actions of the trials still running are
        sampled (inverse CDF of the same uniforms act_u as the plain path), trials that have
        ended are dropped from the next steps, and the loop stops once all have ended
        (nets.rows_for). Also returns the rows, for the baseline to run on the same trials."""
        net, (_, E, B) = self.net, act_u.shape
        sampler = nets.Sampler(
            W_out=self.params["W_out"].detach(), b_out=self.params["b_out"].detach(),
            cap=self.logit_cap, uniforms=act_u, read_fn=self._read_fn())
        rows = nets.rows_for(E, B, sampler)
        logits, rates = nets.run_readout_fast(self.params, net.network_type, inputs, noise,
                                              self.alpha, net.rate_function, self._read_fn(),
                                              rows)
        return rates, logits, rows.actions, rows

    def rollout(self, trials: int, kappa: torch.Tensor, fast: bool = False) -> dict:
        """Run one batch and build both losses. kappa: (E,). Returns tensors and losses.

        fast=False (the plain path): autograd through every step of every trial; the tensors
        cover all T steps. fast=True (what train() uses): the recurrence and the readouts run
        with a hand-written backward (the C++ kernel, or networks.Recurrence without one),
        actions are sampled step by step from the same uniforms, and the time loop stops once
        every trial of every network has ended, so the tensors cover T' <= T steps. Steps
        after a trial's end carry mask 0 and add nothing to either loss, so both paths give
        the same losses and gradients up to float rounding.
        """
        options, in_noise, outcome_u, rec_noise, act_u = self.draw(trials)
        E, A, net = self.E, tasks.N_ACTIONS, self.net
        inputs = tasks.build_inputs(self.task, options, in_noise, self.input_noise)
        noise = rec_noise.mul_(self.rec_noise.view(1, E, 1, 1))             # (T, E, B, N)
        if fast:   # the running trials only, actions sampled step by step
            rates, raw_logits, actions, rows = self._policy_fast(inputs, noise, act_u)
        else:
            x = nets.run_recurrent(self.params, net.network_type, inputs, noise, self.alpha,
                                   net.rate_function)
            rates = nets.rate(x, net.rate_function)
            read = rates if self._read_fn() == net.rate_function else nets.rate(
                x, self._read_fn())
            raw_logits = nets.readout(self.params, read)
        logp_all = log_softmax(self._cap(raw_logits))                        # (T, E, B, A)
        if not fast:
            actions = _sample(logp_all.detach().exp(), act_u)
        out = tasks.resolve(self.task, actions, options, outcome_u, self.abort_penalty,
                            self.no_choice_penalty, self.step_cost)
        returns = tasks.return_to_go(out.rewards)
        # baseline input: the policy's rates (detached) and the previous action (one-hot)
        Tr = actions.shape[0]
        prev = torch.zeros(Tr, E, trials, A)
        prev[1:] = torch.nn.functional.one_hot(actions[:-1], A).float()
        b_in = torch.cat([rates.detach(), prev], dim=-1)
        if fast:
            value = nets.run_readout_fast(self.baseline_params, "gru", b_in, None, self.alpha,
                                          "relu", "relu", rows, rates=False)[0]
        else:
            bx = nets.run_recurrent(self.baseline_params, "gru", b_in, None, self.alpha)
            value = nets.readout(self.baseline_params, torch.relu(bx))
        value = value.squeeze(-1)                                             # (T', E, B)
        loss = losses(logp_all, actions, out.mask, returns, value, kappa, self.entropy_coef,
                      trials)
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


_sample = nets.sample_actions


def clip_scale(norm: torch.Tensor, clip: torch.Tensor) -> torch.Tensor:
    """Per-network factor that scales a gradient of global norm `norm` down to at most
    `clip` (1 where clip = 0, i.e. no clipping; 0 where the norm is not finite)."""
    scale = torch.where(clip > 0, (clip / (norm + 1e-6)).clamp(max=1.0), torch.ones_like(norm))
    return torch.nan_to_num(scale, nan=0.0)


def record_mode(hist: dict[str, np.ndarray], updates: slice) -> None:
    """Fill hist["mode"] for these updates from the recorded choice statistics (NaN where the
    network had stopped); train() labels the whole history in one call when it ends, and
    each update as it goes only for a callback."""
    rates = [hist[name][updates] for name in ("abort_rate", "no_choice_rate", "choice_rate",
                                                  "left_rate", "higher_ev_rate")]
    hist["mode"][updates] = np.where(np.isnan(rates[0]), np.nan, analysis.collapse_mode(*rates))


def train(settings: TrainSettings | list[TrainSettings], progress: bool = True,
          record_units: bool = False, callback: Callable[[int, dict], None] | None = None,
          desc: str = "training", stop_after: int | None = None) -> TrainResult:
    """Train one network (a TrainSettings) or an ensemble (a list) with kappa-REINFORCE.

    Returns a TrainResult with per-update diagnostics (updates, E). Ctrl-C returns the history
    so far with a warning. A network whose loss or gradient turns non-finite stops (its
    parameters freeze, its later diagnostics are NaN) and a warning names the update.
    callback(update, diagnostics_of_this_update) is called after every update.
    stop_after: run only this many updates (schedules still see settings.updates), so the
    result equals the first updates of the full run.
    """
    members = [settings] if isinstance(settings, TrainSettings) else list(settings)
    for k, s in enumerate(members):
        if not isinstance(s, TrainSettings):
            raise SettingsError(f"settings[{k}]={s!r} is not a TrainSettings.")
    ens = Ensemble(members)
    E, U, B = ens.E, members[0].updates, members[0].batch_size
    if stop_after is not None:
        U = min(U, int(stop_after))
    N = members[0].network.units
    hist = {name: np.full((U, E), np.nan, dtype=np.float32) for name in DIAGNOSTICS}
    unit_dead = np.zeros((U, E, N), dtype=bool) if record_units else None
    stopped_at = np.full(E, -1, dtype=np.int64)
    groups = nets.param_groups(ens.params)
    group_of = ens.group_matrix(groups)           # (P, groups): 1 where a weight is in a group
    done, interrupted, last = 0, False, None
    t0 = time.perf_counter()
    bar = tqdm(total=U, desc=desc, disable=not progress, leave=False)
    try:
        for u in range(U):
            # schedules
            kappa = torch.tensor([s.kappa_at(u) for s in members], dtype=torch.float32)
            lr_factor = torch.tensor([s.lr_factor_at(u) for s in members], dtype=torch.float32)
            lr, lr_b = ens.lr * lr_factor, ens.baseline_lr * lr_factor
            # rollout and loss
            batch = ens.rollout(B, kappa, fast=True)
            # backward: per-network gradients, flat (E, P)
            (batch["policy_loss"].sum() + batch["baseline_loss"].sum()).backward()
            grad, grad_b = ens.flat_grads("pi"), ens.flat_grads("v")
            # (E, groups): squared norm of each group, summed in float64 (a float32 product
            # of 30,000 terms would lose 1e-5 of the norm to rounding)
            g64 = grad.double()
            group_sq = ((g64 * g64) @ group_of).float()
            norm = group_sq.sum(1).sqrt()
            norm_b = (grad_b * grad_b).sum(1).sqrt()
            # a network whose loss or gradient is not finite stops for good (a sum of
            # non-negative norms and the two losses is finite only if all four are)
            finite = torch.isfinite(norm + norm_b + batch["policy_loss"].detach()
                                    + batch["baseline_loss"].detach())
            if not bool(finite.all()):
                for k in torch.nonzero(ens.active & ~finite).flatten().tolist():
                    stopped_at[k] = u
                    warnings.warn(f"network {k} (seed {members[k].seed}) stopped at update "
                                  f"{u}: non-finite loss or gradient. Its history ends there; "
                                  "lower lr or grad_clip to avoid it.", RuntimeWarning,
                                  stacklevel=2)
                ens.active &= finite
                grad = torch.nan_to_num(grad, nan=0.0, posinf=0.0, neginf=0.0)
                grad_b = torch.nan_to_num(grad_b, nan=0.0, posinf=0.0, neginf=0.0)
            # clip and step
            ens.step_count += 1
            ens.optimizer_step("pi", grad, lr, clip_scale(norm, ens.grad_clip),
                               sgd=ens.policy_sgd, eps=ens.policy_eps)
            ens.optimizer_step("v", grad_b, lr_b, clip_scale(norm_b, ens.grad_clip))
            # record
            with torch.no_grad():
                row = behaviour(batch["options"], batch["outcome"])
                row.update(batch_statistics(batch))
                dead = row.pop("dead")
                row.update(grad_norm=norm, baseline_grad_norm=norm_b, kappa=kappa, lr=lr,
                           clipped=((ens.grad_clip > 0) & (norm > ens.grad_clip)).float())
                for j, g in enumerate(groups):
                    row["grad_norm_" + g] = group_sq[:, j].sqrt()
                for name, v in row.items():
                    hist[name][u] = v.numpy()
                if not bool(ens.active.all()):   # stopped networks record NaN from then on
                    for name in row:
                        hist[name][u, ~ens.active.numpy()] = np.nan
                if unit_dead is not None:
                    unit_dead[u] = dead.numpy()
            last = batch
            done = u + 1
            bar.update(1)
            if callback is not None:
                record_mode(hist, slice(u, u + 1))
                callback(u, {name: hist[name][u] for name in DIAGNOSTICS})
            if not ens.active.any():
                warnings.warn(f"every network stopped by update {u}; ending early.",
                              RuntimeWarning, stacklevel=2)
                break
    except KeyboardInterrupt:
        interrupted = True
        warnings.warn(f"training interrupted after {done} of {U} updates; returning the history "
                      "so far.", RuntimeWarning, stacklevel=2)
    finally:
        bar.close()
        kernel.release()
    record_mode(hist, slice(0, done))
    last_trials = {}
    if last is not None:
        out = last["outcome"]
        last_trials = {"options": last["options"].numpy(), "choice": out.choice.numpy(),
                       "reaction_step": out.reaction_step.numpy(),
                       "aborted": out.aborted.numpy(), "no_choice": out.no_choice.numpy(),
                       "payoff": out.payoff.numpy()}
    return TrainResult(
        settings=members,
        history={k: v[:done] for k, v in hist.items()},
        stopped_at=stopped_at,
        last_trials=last_trials,
        params={k: v.detach().clone() for k, v in ens.params.items()},
        baseline_params={k: v.detach().clone() for k, v in ens.baseline_params.items()},
        unit_dead=None if unit_dead is None else unit_dead[:done],
        interrupted=interrupted,
        seconds=time.perf_counter() - t0,
    )


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
