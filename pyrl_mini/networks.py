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


# --- the fast path: flat parameters and a hand-written backward through time ----------------

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


def run_recurrent_fast(params: Params, network_type: str, inputs: torch.Tensor,
                       noise: torch.Tensor | None, alpha: torch.Tensor, rate_fn: str = "relu",
                       rows: Rows | None = None) -> torch.Tensor:
    """run_recurrent computed by Recurrence (a hand-written backward through time, and only
    the trials in rows at each step), with the input projections of all gates and steps in
    one matmul. Same arguments and result (T', E, B, N); states of trials left out are 0.

    The work is done ensemble-major: inputs and noise stored as (E, T, B, .) and viewed as
    (T, E, B, .) (x.transpose(0, 1) of an (E, T, B, .) tensor) are read without a copy, and
    the states come back as such a view."""
    T, E, B, n_in = inputs.shape
    u = inputs.transpose(0, 1).reshape(E, T * B, n_in)
    if network_type == "gru":   # gates first, then the drive: proj (E, T, B, 3N)
        W = torch.cat([params["W_in_gates"], params["W_in"]], dim=-1)
        bias = torch.cat([params["b_gates"], params["b"]], dim=-1)
        W_gates = params["W_rec_gates"]
    else:                       # the drive alone: proj (E, T, B, N)
        W, bias, W_gates = params["W_in"], params["b"], None
    proj = (torch.bmm(u, W) + bias.unsqueeze(1)).view(E, T, B, -1)
    if noise is not None:
        noise = noise.transpose(0, 1)
    states = Recurrence.apply(params["x0"], proj, params["W_rec"], W_gates, alpha, noise,
                              rate_fn, rows or Rows(E, B))
    return states.transpose(0, 1)


class Rows:
    """Which trials a recurrence computes at each step: trials that have ended are dropped.

    index[t] (E, B_t): the trials computed at step t, for each network; B_t is the largest
    number of running trials over the networks, so a network with fewer running trials also
    computes some ended ones (harmless: steps after a trial's end carry no loss). keep[t]
    (E, B_t): positions of those trials among the rows of step t - 1. stop_after(t, x, index)
    -> bool flags (E, B_t) of the trials still running after step t (x: their states), or
    None to compute every trial at every step. Built once by the policy's recurrence and
    reused by the baseline's, which runs on the same trials.
    """

    def __init__(self, E: int, B: int, still_running=None):
        self.E, self.B = E, B
        self.still_running = still_running
        self.index = [torch.arange(B).expand(E, B)]
        self.keep: list[torch.Tensor | None] = [None]
        self.built = False

    def after_step(self, t: int, x: torch.Tensor, T: int) -> bool:
        """Record which trials step t + 1 computes; True when every trial has ended."""
        if self.built:
            return t + 1 >= len(self.index)
        if self.still_running is None:
            self.index.append(self.index[-1])
            self.keep.append(None)
            return False
        running = self.still_running(t, x, self.index[t])
        count = int(running.sum(1).max())
        if count == 0:
            return True
        if t + 1 >= T:
            return False
        if count < 0.9 * running.shape[1]:       # drop ended trials (not for a few)
            keep = torch.sort((~running).to(torch.uint8), dim=1, stable=True).indices[:, :count]
            self.index.append(self.index[t].gather(1, keep))
            self.keep.append(keep)
        else:
            self.index.append(self.index[t])
            self.keep.append(None)
        return False


def _gather(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """x (E, B, n) at rows index (E, B_t), or x itself when index covers every row."""
    if index.shape[1] == x.shape[1]:
        return x
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def _rate(x: torch.Tensor, fn: str, out: torch.Tensor) -> torch.Tensor:
    if fn == "relu":
        return torch.clamp_min(x, 0.0, out=out)
    if fn == "tanh":
        return torch.tanh(x, out=out)
    return out.copy_(torch.nn.functional.softplus(x))


def _rate_backward(grad: torch.Tensor, x: torch.Tensor, r: torch.Tensor,
                   fn: str) -> torch.Tensor:
    """grad * phi'(x), given r = phi(x)."""
    if fn == "relu":
        return torch.ops.aten.threshold_backward(grad, r, 0.0)
    if fn == "tanh":
        return grad * (1 - r * r)
    return grad * torch.sigmoid(x)


class Recurrence(torch.autograd.Function):
    """The recurrent update of run_recurrent, with its backward through time written out.

    Ensemble-major tensors: proj (E, T, B, 3N) = u [W_in_gates, W_in] + [b_gates, b] for the
    GRU, (E, T, B, N) = u W_in + b for the SimpleRNN; x0 (E, N); alpha (E,); noise
    (E, T, B, N) or None, added to the drive; rows: a Rows.
    Returns the states (E, T', B, N), T' <= T (0 for trials that rows leaves out).
    Step t computes only the B_t trials rows.index[t]; the per-step tensors of all steps are
    kept one after another in (E, sum_t B_t, .) buffers.

    Backward, from dL/dx_t (the readout's gradient plus the next step's), for the GRU
    (r = phi(x_{t-1}), [z, g] = sigmoid(pre), h = g r, c = h W_rec + drive_t):
        dc = dx a z,   dz = dx a (c - x_{t-1}),   dh = dc W_rec^T
        dpre = [dz z (1 - z), dh r g (1 - g)],   dr = dh g + dpre W_rec_gates^T
        dx_{t-1} = dx (1 - a z) + dr phi'(x_{t-1})
    and dW_rec = sum_t h^T dc, dW_rec_gates = sum_t r^T dpre, each one matmul over all steps.
    The SimpleRNN is the same with z = 1 and no gates.
    """

    @staticmethod
    def forward(ctx, x0, proj, W_rec, W_rec_gates, alpha, noise, rate_fn, rows):
        E, T, B, _ = proj.shape
        N = W_rec.shape[-1]
        gru = W_rec_gates is not None
        a = alpha.view(E, 1, 1)
        states = proj.new_zeros(E, T, B, N)
        X = proj.new_empty(E, T * B, N)              # x_{t-1} of the computed rows, step by step
        R = torch.empty_like(X)                      # phi(x_{t-1})
        if gru:
            Z, H = proj.new_empty(E, T * B, 2 * N), torch.empty_like(X)
            AZ, CMX = torch.empty_like(X), torch.empty_like(X)
        x = x0.view(E, 1, N).expand(E, B, N)
        offsets, start, steps = [], 0, T
        for t in range(T):
            index = rows.index[t]
            if rows.keep[t] is not None:
                x = _gather(x, rows.keep[t])
            n = index.shape[1]
            s = slice(start, start + n)
            offsets.append(start)
            X[:, s] = x
            r = _rate(x, rate_fn, R[:, s])
            p = _gather(proj[:, t], index)
            drive = p[..., -N:] if noise is None else p[..., -N:] + _gather(noise[:, t], index)
            if gru:
                zg = torch.baddbmm(p[..., :2 * N], r, W_rec_gates, out=Z[:, s]).sigmoid_()
                h = torch.mul(zg[..., N:], r, out=H[:, s])
                c = torch.baddbmm(drive, h, W_rec)
                az = torch.mul(a, zg[..., :N], out=AZ[:, s])
                x = x + az * torch.sub(c, x, out=CMX[:, s])
            else:
                c = torch.baddbmm(drive, r, W_rec)
                x = x + a * (c - x)
            if n == B:
                states[:, t] = x
            else:
                states[:, t].scatter_(1, index.unsqueeze(-1).expand(-1, -1, N), x)
            start += n
            if rows.after_step(t, x, T):
                steps = t + 1
                break
        rows.built = True
        ctx.rate_fn, ctx.gru, ctx.shape, ctx.rows = rate_fn, gru, proj.shape, rows
        ctx.offsets = offsets + [start]
        saved = (X[:, :start], R[:, :start]) + ((Z[:, :start], H[:, :start], AZ[:, :start],
                                                 CMX[:, :start]) if gru else ())
        ctx.save_for_backward(W_rec, W_rec_gates, alpha, *saved)
        return states[:, :steps]

    @staticmethod
    def backward(ctx, d_states):
        W_rec, W_rec_gates, alpha, X, R, *gru_saved = ctx.saved_tensors
        E, T, B, P = ctx.shape
        N = W_rec.shape[-1]
        steps, fn, rows, off = d_states.shape[1], ctx.rate_fn, ctx.rows, ctx.offsets
        a = alpha.view(E, 1, 1)
        Wt = W_rec.transpose(1, 2)
        d_proj = X.new_empty(E, X.shape[1], P)     # of the computed rows: [d gates, d drive]
        dC = d_proj[..., -N:]
        if ctx.gru:
            Z, H, AZ, CMX = gru_saved
            Wgt = W_rec_gates.transpose(1, 2)
        dx = None
        for t in reversed(range(steps)):
            s = slice(off[t], off[t + 1])
            d_out = _gather(d_states[:, t], rows.index[t])
            if dx is None:
                dx = d_out.clone()
            else:
                keep = rows.keep[t + 1]
                if keep is not None:
                    dx = d_out.scatter_add(1, keep.unsqueeze(-1).expand(-1, -1, N), dx)
                else:
                    dx = dx.add_(d_out)
            if ctx.gru:
                z, g = Z[:, s, :N], Z[:, s, N:]
                dc = torch.mul(dx, AZ[:, s], out=dC[:, s])
                dh = torch.bmm(dc, Wt)
                dpre = d_proj[:, s, :2 * N]
                # sigmoid' = s (1 - s) = s - s^2
                torch.mul(dx * CMX[:, s], a, out=dpre[..., :N]).mul_(z - z * z)
                torch.mul(dh, R[:, s], out=dpre[..., N:]).mul_(g - g * g)
                dr = torch.baddbmm(dh * g, dpre, Wgt)
                dx = (dx - dx * AZ[:, s]).add_(_rate_backward(dr, X[:, s], R[:, s], fn))
            else:
                dc = torch.mul(dx, a, out=dC[:, s])
                dr = torch.bmm(dc, Wt)
                dx = (dx - dc).add_(_rate_backward(dr, X[:, s], R[:, s], fn))
        # weight gradients: one matmul over the computed rows of all steps
        if ctx.gru:
            d_W_rec = torch.bmm(H.transpose(1, 2), dC)
            d_W_gates = torch.bmm(R.transpose(1, 2), d_proj[..., :2 * N])
        else:
            d_W_rec, d_W_gates = torch.bmm(R.transpose(1, 2), dC), None
        # the input gradient back in (E, T, B, P) at the computed trials
        if d_proj.shape[1] == T * B:                       # every trial at every step
            d_full = d_proj.view(E, T, B, P)
        else:
            flat = torch.cat([rows.index[t] + t * B for t in range(steps)], dim=1)
            d_full = d_proj.new_zeros(E, T * B, P)
            d_full.scatter_(1, flat.unsqueeze(-1).expand(-1, -1, P), d_proj)
            d_full = d_full.view(E, T, B, P)
        return dx.sum(1), d_full, d_W_rec, d_W_gates, None, None, None, None


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
