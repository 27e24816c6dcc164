"""Policy and baseline networks for an ensemble of E independent networks.

Every parameter carries a leading ensemble dimension, so E networks step together in one
batched matmul (torch.bmm); one network is the ensemble of size 1.

pyrl GRU (Song, Yang & Wang 2017), rates r = relu(x), alpha = dt / tau:
    r_{t-1} = relu(x_{t-1})
    z, g    = sigmoid(r_{t-1} W_rec_gates + u_t W_in_gates + b_gates)     (update, reset)
    c_t     = (g * r_{t-1}) W_rec + u_t W_in + b + noise_t
    x_t     = (1 - alpha z) x_{t-1} + alpha z c_t
SimpleRNN (leaky ReLU RNN):
    x_t     = (1 - alpha) x_{t-1} + alpha (relu(x_{t-1}) W_rec + u_t W_in + b + noise_t)
Policy readout: log pi_t = log_softmax(rate_out(x_t) W_out + b_out), where rate_out is relu
(GRU, and SimpleRNN by default) or tanh (the SimpleRNN's upstream mismatch).

run_recurrent is the plain path: autograd through every step of every trial. The fast path
(pyrl_mini.fast) computes the same update and readout in C++ for the trials still running,
and is tested against this one.
"""

from __future__ import annotations

import math

import torch

Params = dict[str, torch.Tensor]


def _normal(generator: torch.Generator, *shape: int, std: float) -> torch.Tensor:
    """std * N(0, 1). The numbers are drawn even for std = 0 (which gives exact zeros), so a
    network's later random draws (baseline, trials, noise) do not depend on its stds: runs
    that differ only in wout_std are paired."""
    draw = torch.randn(*shape, generator=generator)
    return draw.zero_() if std == 0 else std * draw


def init_policy(network_type: str, n_in: int, units: int, n_out: int, wout_std: float,
                rec_init_scale: float, generator: torch.Generator,
                fixate_bias: float = 0.0) -> Params:
    """One network's policy parameters (no ensemble dim). wout_std = 0 gives Wout exactly 0;
    b_out starts at (fixate_bias, 0, ...) (action 0 is FIXATE). The bias draws no random
    numbers, so runs that differ only in fixate_bias are paired."""
    N = units
    params = {
        "W_in": _normal(generator, n_in, N, std=1.0 / math.sqrt(n_in)),
        "W_rec": _normal(generator, N, N, std=rec_init_scale / math.sqrt(N)),
        "b": torch.zeros(N),
        "x0": torch.full((N,), 0.5),  # learned initial state; relu(0.5) > 0 so no unit starts dead
    }
    if network_type == "gru":
        params["W_in_gates"] = _normal(generator, n_in, 2 * N, std=1.0 / math.sqrt(n_in))
        params["W_rec_gates"] = _normal(generator, N, 2 * N, std=rec_init_scale / math.sqrt(N))
        params["b_gates"] = torch.zeros(2 * N)
    # Policy head: a small std keeps the first policy near uniform (CleanRL uses 0.01).
    params["W_out"] = _normal(generator, N, n_out, std=wout_std)
    params["b_out"] = torch.zeros(n_out)
    params["b_out"][0] = fixate_bias
    return params


def init_baseline(n_in: int, units: int, generator: torch.Generator) -> Params:
    """Baseline GRU parameters: reads the policy's rates and the previous action."""
    params = init_policy("gru", n_in, units, 1, wout_std=1.0 / math.sqrt(units),
                         rec_init_scale=1.0, generator=generator)
    return params


def stack_params(members: list[Params]) -> Params:
    """Stack per-network parameters along a new leading ensemble dim, as leaf tensors."""
    return {k: torch.stack([m[k] for m in members]).requires_grad_(True) for k in members[0]}


def _bmm_time(u: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """(T, E, B, n) x (E, n, m) -> (T, E, B, m) in one bmm."""
    T, E, B, n = u.shape
    flat = u.permute(1, 0, 2, 3).reshape(E, T * B, n)
    return torch.bmm(flat, W).view(E, T, B, -1).permute(1, 0, 2, 3)


def run_recurrent(params: Params, network_type: str, inputs: torch.Tensor,
                  noise: torch.Tensor | None, alpha: torch.Tensor,
                  rate_fn: str = "relu") -> torch.Tensor:
    """States x (T, E, B, N) from inputs (T, E, B, n_in); noise (T, E, B, N) already scaled or
    None; alpha (E,). The time loop holds only the recurrent update: input projections for all
    steps are one matmul, and the per-step inputs come from one unbind (indexing x[t] inside
    the loop would make backward zero-fill the whole tensor at every step). rate_fn is phi in
    r = phi(x): relu (pyrl), tanh or softplus."""
    phi = RATES[rate_fn]
    T, E, B, _ = inputs.shape
    a = alpha.view(E, 1, 1)
    drive = _bmm_time(inputs, params["W_in"]) + params["b"].view(1, E, 1, -1)
    if noise is not None:
        drive = drive + noise
    drives = drive.unbind(0)
    x = params["x0"].view(E, 1, -1).expand(E, B, -1)
    states = []
    if network_type == "gru":
        gate_in = (_bmm_time(inputs, params["W_in_gates"])
                   + params["b_gates"].view(1, E, 1, -1)).unbind(0)
        W_rg, W_rec = params["W_rec_gates"], params["W_rec"]
        for t in range(T):
            r = phi(x)
            z, g = torch.sigmoid(torch.baddbmm(gate_in[t], r, W_rg)).chunk(2, dim=-1)
            c = torch.baddbmm(drives[t], g * r, W_rec)
            az = a * z
            x = x + az * (c - x)            # = (1 - alpha z) x + alpha z c
            states.append(x)
    else:
        W_rec = params["W_rec"]
        for t in range(T):
            c = torch.baddbmm(drives[t], phi(x), W_rec)
            x = x + a * (c - x)
            states.append(x)
    return torch.stack(states)


def flat_params(members: list[Params]) -> tuple[torch.Tensor, Params]:
    """All parameters of E networks in one flat tensor (E, P), and a dict of leaf tensors that
    are views into it (name -> (E, ...)). An optimiser can then update every parameter with a
    few operations on the flat tensor; the views see the change."""
    names = list(members[0])
    flat = torch.cat([torch.stack([m[k].reshape(-1) for m in members]) for k in names], dim=1)
    params, offset = {}, 0
    for k in names:
        shape, size = members[0][k].shape, members[0][k].numel()
        view = flat[:, offset:offset + size].view(len(members), *shape)
        params[k] = view.detach().requires_grad_(True)   # a leaf sharing flat's memory
        offset += size
    return flat, params


def sample_actions(probs: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
    """Actions (...,) by inverse-CDF sampling of probs (..., A) from pre-drawn uniforms (...,),
    so each network's draws do not depend on its ensemble."""
    actions = (probs.cumsum(-1) < uniforms.unsqueeze(-1)).sum(-1)
    return actions.clamp(max=probs.shape[-1] - 1)


def readout(params: Params, rates: torch.Tensor) -> torch.Tensor:
    """Logits (T, E, B, n_out) = rates W_out + b_out for rates (T, E, B, N)."""
    return _bmm_time(rates, params["W_out"]) + params["b_out"].view(1, rates.shape[1], 1, -1)


RATES = {"relu": torch.relu, "tanh": torch.tanh, "softplus": torch.nn.functional.softplus}


def rate(x: torch.Tensor, fn: str = "relu") -> torch.Tensor:
    """phi(x) for phi in RATES."""
    return RATES[fn](x)


def param_groups(params: Params) -> dict[str, list[str]]:
    """Names of parameter groups used for per-group gradient norms."""
    groups = {"W_in": ["W_in", "W_in_gates"], "W_rec": ["W_rec", "W_rec_gates"],
              "W_out": ["W_out"], "biases": ["b", "b_gates", "b_out", "x0"]}
    return {g: [n for n in names if n in params] for g, names in groups.items()}
