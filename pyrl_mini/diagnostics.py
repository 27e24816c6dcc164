"""What train() records for every network at every update, and how each number is computed.

Every statistic counts valid steps only (steps up to and including the one that ends the
trial): mask (T, E, B) is 1 there and 0 after.
"""

from __future__ import annotations

import torch

from . import tasks

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
    "mode": "behaviour mode, an index into analysis.MODES (NaN once the network has stopped)",
    "kappa": "kappa in force (schedules)",
    "lr": "policy learning rate in force (schedules)",
}


def dead_and_dormant(rates: torch.Tensor, mask: torch.Tensor):
    """Dead flags (E, N) and dormant fraction (E,) from rates (T, E, B, N) on valid steps.

    Dead: rate exactly 0 on every valid step. Dormant (ReDo): mean |rate| of the unit divided
    by the mean over units of that, <= DORMANT_TAU."""
    T, E, B, N = rates.shape
    # each network's sum over its valid steps of |rate|, as one product per network
    # (E, 1, T*B) @ (E, T*B, N): several times faster than a masked sum over two dims
    valid = mask.transpose(0, 1).reshape(E, 1, T * B)
    total = torch.bmm(valid, rates.abs().transpose(0, 1).reshape(E, T * B, N)).squeeze(1)
    mean_abs = total / valid.sum(-1).clamp_min(1)                      # (E, N)
    score = mean_abs / mean_abs.mean(-1, keepdim=True).clamp_min(1e-12)
    # a sum of non-negative terms is 0 only if every term is
    return total == 0, (score <= DORMANT_TAU).float().mean(-1)


_EV = torch.as_tensor(tasks.OPTION_EV, dtype=torch.float32)
_P = torch.as_tensor(tasks.OPTION_P, dtype=torch.float32)


def behaviour(options: torch.Tensor, out: tasks.Outcome) -> dict[str, torch.Tensor]:
    """Choice statistics (E,) of one batch: see DIAGNOSTICS for each name."""
    chose = out.choice >= 0
    c = out.choice.clamp(min=0)
    chosen, other = options.gather(-1, torch.stack([c, 1 - c], -1)).unbind(-1)   # (E, B)
    ev_chosen, ev_other = _EV[chosen], _EV[other]
    differ = (ev_chosen - ev_other).abs() > 1e-6
    # each rate: k of the n trials of its kind (NaN where there are none), in one pass
    num = torch.stack([ev_chosen > ev_other, _P[chosen] < _P[other], out.choice == 0])
    den = torch.stack([chose & differ, chose & ~differ, chose])
    k, n = (num & den).sum(-1), den.sum(-1)
    rates = torch.where(n > 0, k / n.clamp_min(1), torch.full(n.shape, float("nan")))
    ended = torch.stack([out.aborted, out.no_choice, chose]).float().mean(-1)
    return {
        "abort_rate": ended[0],
        "no_choice_rate": ended[1],
        "choice_rate": ended[2],
        "higher_ev_rate": rates[0],
        "risky_rate": rates[1],
        "left_rate": rates[2],
        "reward": out.rewards.sum(0).mean(-1),
    }


def batch_statistics(batch: dict) -> dict[str, torch.Tensor]:
    """The policy and advantage statistics of one batch, each (E,), and dead flags (E, N).

    The valid-step means of five per-step quantities are taken in one masked sum."""
    mask, n = batch["mask"], batch["n_valid"]
    fd, logp = batch["fd"], batch["logp"].detach()
    per_step = torch.stack([logp, fd, batch["probs"].detach().amax(-1),
                            (fd > 0).float(), (fd < 0).float()])            # (5, T, E, B)
    means = (per_step * mask).sum(dim=(1, 3)) / n                          # (5, E)
    spread = ((per_step[:2] - means[:2, None, :, None]) ** 2 * mask).sum(dim=(1, 3)) / n
    dead, dormant = dead_and_dormant(batch["rates"].detach(), mask)
    return {"entropy": batch["mean_entropy"].detach(),
            "logp_mean": means[0], "logp_std": spread[0].sqrt(), "max_prob": means[2],
            "adv_mean": means[1], "adv_std": spread[1].sqrt(),
            "adv_pos_frac": means[3], "adv_neg_frac": means[4],
            "dead_fraction": dead.float().mean(-1), "dormant_fraction": dormant,
            "dead": dead}
