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

Upstream (pyrl's PyTorch port) printed a *sum* of per-parameter norms as "Total norm" and
counted padded steps after a trial's end in its log-probability statistics; here the gradient
norm is the global L2 norm and every statistic counts valid steps only.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from . import analysis, tasks
from . import networks as nets
from .config import (
    SHARED_FIELDS,
    SHARED_NETWORK_FIELDS,
    SHARED_TASK_FIELDS,
    SettingsError,
    TrainSettings,
)
from .risk import kappa_transform, kappa_weights

DORMANT_TAU = 0.1  # ReDo dormant threshold (Sokar et al. 2023 use 0 .. 0.1)

# Per-update diagnostics recorded for every network: name -> what it is.
DIAGNOSTICS = {
    "reward": "mean total reward per trial",
    "abort_rate": "fraction of trials aborted (broke fixation)",
    "no_choice_rate": "fraction of trials that fixated to the end without a choice",
    "choice_rate": "fraction of trials ending in a choice",
    "higher_ev_rate": "on unequal-EV pairs, fraction of choices of the higher-EV option",
    "risky_rate": "on equal-EV pairs, fraction of choices of the lower-p (riskier) option",
    "left_rate": "fraction of choices that were CHOOSE-LEFT",
    "entropy": "mean policy entropy H over valid steps",
    "logp_mean": "mean log pi(a_t) of the sampled actions over valid steps",
    "logp_std": "spread of log pi(a_t) over valid steps",
    "max_prob": "mean over valid steps of max_a pi(a)",
    "grad_norm": "policy gradient global L2 norm before clipping",
    "grad_norm_W_in": "gradient norm of the input weights",
    "grad_norm_W_rec": "gradient norm of the recurrent weights",
    "grad_norm_W_out": "gradient norm of the readout W_out",
    "grad_norm_biases": "gradient norm of biases and initial state",
    "baseline_grad_norm": "baseline gradient global L2 norm before clipping",
    "clipped": "1 if the policy gradient was clipped",
    "adv_mean": "mean f(d) over valid steps",
    "adv_std": "spread of f(d) over valid steps",
    "adv_pos_frac": "fraction of valid steps with f(d) > 0",
    "adv_neg_frac": "fraction of valid steps with f(d) < 0",
    "dead_fraction": "fraction of units with rate exactly 0 on every valid step of the batch",
    "dormant_fraction": f"fraction of units with ReDo score <= {DORMANT_TAU}",
    "mode": "behaviour mode, an index into analysis.MODES (-1 stopped)",
    "kappa": "kappa in force (schedules)",
    "lr": "policy learning rate in force (schedules)",
}


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
    extra: dict = field(default_factory=dict)

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


class Ensemble:
    """Parameters, Adam state and random generators of E independent networks.

    Network k draws everything (initial weights, trials, noise, actions) from its own
    torch.Generator seeded with settings[k].seed, in the same order whatever the ensemble,
    so network k trained in an ensemble equals the same network trained alone.
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
        self.params = nets.stack_params(pols)
        self.baseline_params = nets.stack_params(bases)
        self.adam = {name: (torch.zeros_like(p), torch.zeros_like(p))
                     for name, p in {**self._prefixed()}.items()}
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
        self.policy_sgd = torch.tensor([s.policy_optimizer == "sgd" for s in settings])

    def _prefixed(self) -> dict[str, torch.Tensor]:
        return {**{"pi." + k: v for k, v in self.params.items()},
                **{"v." + k: v for k, v in self.baseline_params.items()}}

    # --- one batch -------------------------------------------------------------------------
    def draw(self, trials: int):
        """Every random number of one batch, per network, stacked along the ensemble dim."""
        T, N = self.task.steps, self.net.units
        opts, in_noise, out_u, rec_noise, act_u = [], [], [], [], []
        for g in self.generators:
            o, n, u = tasks.draw_trials(self.task, trials, g)
            opts.append(o)
            in_noise.append(n)
            out_u.append(u)
            rec_noise.append(torch.randn(T, trials, N, generator=g))
            act_u.append(torch.rand(T, trials, generator=g))
        return (torch.stack(opts), torch.stack(in_noise, 1), torch.stack(out_u),
                torch.stack(rec_noise, 1), torch.stack(act_u, 1))

    def rollout(self, trials: int, kappa: torch.Tensor, record_rates: bool = False) -> dict:
        """Run one batch and build both losses. kappa: (E,). Returns tensors and losses."""
        options, in_noise, outcome_u, rec_noise, act_u = self.draw(trials)
        E, T = self.E, self.task.steps
        net = self.net
        inputs = tasks.build_inputs(self.task, options, in_noise, self.input_noise)
        noise = self.rec_noise.view(1, E, 1, 1) * rec_noise
        x = nets.run_recurrent(self.params, net.network_type, inputs, noise, self.alpha,
                               net.rate_function)
        rates = nets.rate(x, net.rate_function)                     # (T, E, B, N)
        read = rates if net.network_type == "gru" else nets.rate(x, net.readout_rate)
        raw_logits = nets.readout(self.params, read)
        logp_all = torch.log_softmax(cap_logits(raw_logits, self.logit_cap), dim=-1)  # (T,E,B,A)
        probs = logp_all.exp()
        with torch.no_grad():
            # inverse-CDF sampling from pre-drawn uniforms keeps the draws ensemble-independent
            actions = (probs.detach().cumsum(-1) < act_u.unsqueeze(-1)).sum(-1)
            actions = actions.clamp(max=tasks.N_ACTIONS - 1)
        out = tasks.resolve(self.task, actions, options, outcome_u, self.abort_penalty,
                            self.no_choice_penalty, self.step_cost)
        mask = out.mask
        returns = tasks.return_to_go(out.rewards)
        # baseline input: the policy's rates (detached) and the previous action (one-hot)
        prev = torch.zeros(T, E, trials, tasks.N_ACTIONS)
        prev[1:] = torch.nn.functional.one_hot(actions[:-1], tasks.N_ACTIONS).float()
        b_in = torch.cat([rates.detach(), prev], dim=-1)
        bx = nets.run_recurrent(self.baseline_params, "gru", b_in, None, self.alpha)
        value = nets.readout(self.baseline_params, torch.relu(bx)).squeeze(-1)  # (T, E, B)

        k = kappa.view(1, E, 1)
        d = (returns - value).detach()
        fd = kappa_transform(d, k)
        logp = logp_all.gather(-1, actions.unsqueeze(-1)).squeeze(-1)             # (T, E, B)
        entropy = -(probs * logp_all).sum(-1)                                      # (T, E, B)
        n_valid = mask.sum(dim=(0, 2)).clamp_min(1)                                # (E,)
        mean_entropy = (entropy * mask).sum(dim=(0, 2)) / n_valid
        pg = (logp * fd * mask).sum(dim=(0, 2)) / trials
        policy_loss = -pg - self.entropy_coef * mean_entropy                       # (E,)
        w = kappa_weights(d, k)
        baseline_loss = (0.5 * w * (returns - value) ** 2 * mask).sum(dim=(0, 2)) / n_valid
        return dict(options=options, actions=actions, outcome=out, mask=mask, logp=logp,
                    probs=probs, raw_logits=raw_logits, entropy=entropy, fd=fd, rates=rates,
                    value=value, returns=returns, policy_loss=policy_loss,
                    baseline_loss=baseline_loss, mean_entropy=mean_entropy, n_valid=n_valid)

    # --- one update ------------------------------------------------------------------------
    def _grad_norms(self, params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {k: p.grad.pow(2).flatten(1).sum(1) for k, p in params.items()}  # squared, (E,)

    def _step(self, params: dict[str, torch.Tensor], prefix: str, lr: torch.Tensor,
              scale: torch.Tensor, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
              sgd: torch.Tensor | None = None):
        """One Adam step per network (lr, scale: (E,)); where sgd (E,) is True, a plain SGD
        step lr * scale * grad instead (the Adam moments are kept either way)."""
        t = self.step_count
        with torch.no_grad():
            for name, p in params.items():
                m, v = self.adam[prefix + name]
                shape = (self.E,) + (1,) * (p.dim() - 1)
                g = p.grad * scale.view(shape)
                m.mul_(b1).add_(g, alpha=1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                step = (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + eps)
                if sgd is not None:
                    step = torch.where(sgd.view(shape), g, step)
                live = self.active.view(shape)
                p.sub_(torch.where(live, lr.view(shape) * step, torch.zeros_like(step)))
                p.grad = None


def _unit_stats(rates: torch.Tensor, mask: torch.Tensor):
    """Dead flags (E, N) and dormant fraction (E,) from rates (T, E, B, N) on valid steps."""
    m = mask.unsqueeze(-1)
    peak = (rates.abs() * m).amax(dim=(0, 2))                        # (E, N)
    mean_abs = (rates.abs() * m).sum(dim=(0, 2)) / m.sum(dim=(0, 2)).clamp_min(1)
    score = mean_abs / mean_abs.mean(-1, keepdim=True).clamp_min(1e-12)
    return peak == 0, (score <= DORMANT_TAU).float().mean(-1)


def behaviour(options: torch.Tensor, out: tasks.Outcome) -> dict[str, torch.Tensor]:
    """Choice statistics (E,) of one batch: see DIAGNOSTICS for each name."""
    chose = out.choice >= 0
    chosen = options.gather(-1, out.choice.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    other = options.gather(-1, (1 - out.choice.clamp(min=0)).unsqueeze(-1)).squeeze(-1)
    ev = torch.as_tensor(tasks.OPTION_EV, dtype=torch.float32)
    p = torch.as_tensor(tasks.OPTION_P, dtype=torch.float32)
    unequal = chose & ((ev[chosen] - ev[other]).abs() > 1e-6)
    equal = chose & ~((ev[chosen] - ev[other]).abs() > 1e-6)

    def rate(num, den):
        return torch.where(den.sum(-1) > 0, (num & den).sum(-1) / den.sum(-1).clamp_min(1),
                           torch.full(den.shape[:-1], float("nan")))

    return {
        "abort_rate": out.aborted.float().mean(-1),
        "no_choice_rate": out.no_choice.float().mean(-1),
        "choice_rate": chose.float().mean(-1),
        "higher_ev_rate": rate(ev[chosen] > ev[other], unequal),
        "risky_rate": rate(p[chosen] < p[other], equal),
        "left_rate": rate(out.choice == 0, chose),
        "reward": out.rewards.sum(0).mean(-1),
    }


def _masked_mean_std(v: torch.Tensor, mask: torch.Tensor, n: torch.Tensor):
    mean = (v * mask).sum(dim=(0, 2)) / n
    var = (((v - mean.view(1, -1, 1)) ** 2) * mask).sum(dim=(0, 2)) / n
    return mean, var.sqrt()


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
    done, interrupted, last = 0, False, None
    t0 = time.perf_counter()
    bar = tqdm(total=U, desc=desc, disable=not progress, leave=False)
    try:
        for u in range(U):
            kappa = torch.tensor([s.kappa_at(u) for s in members], dtype=torch.float32)
            lr_f = torch.tensor([s.lr_factor_at(u) for s in members], dtype=torch.float32)
            ro = ens.rollout(B, kappa)
            total = ro["policy_loss"].sum() + ro["baseline_loss"].sum()
            total.backward()
            sq = ens._grad_norms(ens.params)
            sq_b = ens._grad_norms(ens.baseline_params)
            norm = torch.stack(list(sq.values())).sum(0).sqrt()
            norm_b = torch.stack(list(sq_b.values())).sum(0).sqrt()
            finite = torch.isfinite(norm) & torch.isfinite(norm_b) & torch.isfinite(
                ro["policy_loss"].detach()) & torch.isfinite(ro["baseline_loss"].detach())
            newly = ens.active & ~finite
            for k in torch.nonzero(newly).flatten().tolist():
                stopped_at[k] = u
                warnings.warn(f"network {k} (seed {members[k].seed}) stopped at update {u}: "
                              "non-finite loss or gradient. Its history ends there; lower lr "
                              "or grad_clip to avoid it.", RuntimeWarning, stacklevel=2)
            ens.active &= finite
            for p in list(ens.params.values()) + list(ens.baseline_params.values()):
                p.grad = torch.nan_to_num(p.grad, nan=0.0, posinf=0.0, neginf=0.0)
            clip = ens.grad_clip
            scale = torch.where(clip > 0, (clip / (norm + 1e-6)).clamp(max=1.0),
                                torch.ones_like(norm))
            scale = torch.nan_to_num(scale, nan=0.0)
            scale_b = torch.where(clip > 0, (clip / (norm_b + 1e-6)).clamp(max=1.0),
                                  torch.ones_like(norm_b))
            scale_b = torch.nan_to_num(scale_b, nan=0.0)
            ens.step_count += 1
            lr = torch.tensor([s.lr for s in members]) * lr_f
            lr_b = torch.tensor([s.baseline_lr for s in members]) * lr_f
            ens._step(ens.params, "pi.", lr, scale, sgd=ens.policy_sgd)
            ens._step(ens.baseline_params, "v.", lr_b, scale_b)

            with torch.no_grad():
                mask, n = ro["mask"], ro["n_valid"]
                logp_mean, logp_std = _masked_mean_std(ro["logp"].detach(), mask, n)
                adv_mean, adv_std = _masked_mean_std(ro["fd"], mask, n)
                dead, dormant = _unit_stats(ro["rates"].detach(), mask)
                row = behaviour(ro["options"], ro["outcome"])
                row.update(
                    entropy=ro["mean_entropy"].detach(),
                    logp_mean=logp_mean, logp_std=logp_std,
                    max_prob=(ro["probs"].detach().amax(-1) * mask).sum(dim=(0, 2)) / n,
                    grad_norm=norm, baseline_grad_norm=norm_b,
                    clipped=((clip > 0) & (norm > clip)).float(),
                    adv_mean=adv_mean, adv_std=adv_std,
                    adv_pos_frac=((ro["fd"] > 0).float() * mask).sum(dim=(0, 2)) / n,
                    adv_neg_frac=((ro["fd"] < 0).float() * mask).sum(dim=(0, 2)) / n,
                    dead_fraction=dead.float().mean(-1), dormant_fraction=dormant,
                    kappa=kappa, lr=lr)
                for g, names in groups.items():
                    row["grad_norm_" + g] = sum(sq[nm] for nm in names).sqrt()
                row["mode"] = torch.as_tensor(analysis.collapse_mode(
                    *(row[n].numpy() for n in ("abort_rate", "no_choice_rate", "choice_rate",
                                                "left_rate", "higher_ev_rate"))))
                alive = finite.numpy()
                for name, v in row.items():
                    hist[name][u] = np.where(alive, v.numpy(), np.nan)
                if unit_dead is not None:
                    unit_dead[u] = dead.numpy()
                last = ro
            done = u + 1
            bar.update(1)
            if callback is not None:
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
