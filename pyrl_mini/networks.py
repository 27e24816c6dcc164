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

run_recurrent is the plain version (autograd through every step of every trial). The
trainer uses run_readout_fast: the same update, and the readout, with the backward through
time written out, on the trials still running only (steps after a trial's end carry no
loss, and after the first steps many trials of a batch have ended). Recurrence is that
computation in Python (with Rows); KernelRecurrence hands it to the C++ loop of
recurrence.cpp (with KernelRows), which train() uses when it compiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
                       rows: Rows | KernelRows | None = None) -> torch.Tensor:
    """run_recurrent computed with a hand-written backward through time, and at each step
    only the trials in rows (those still running). Same arguments and result (T', E, B, N);
    the states of trials left out are 0. With KernelRows (see rows_for) the C++ recurrence
    of pyrl_mini.kernel runs it, with Rows (or None: every trial) the Python Recurrence.

    Inputs and noise stored ensemble-major, (E, T, B, .) viewed as (T, E, B, .) (the
    transpose(0, 1) of an (E, T, B, .) tensor), are read without a copy, and the states come
    back as such a view."""
    T, E, B, _ = inputs.shape
    args = _recurrence_args(params, network_type, inputs, noise, alpha, rate_fn)
    if isinstance(rows, KernelRows):
        if rows.sampler is not None and rows.counts is None:
            raise ValueError("KernelRows that sample need the readout: use run_readout_fast.")
        states = KernelRecurrence.apply(*args, rows)[0]
    else:
        states = Recurrence.apply(*args, rows or Rows(E, B))
    return states.transpose(0, 1)


def _recurrence_args(params: Params, network_type: str, inputs: torch.Tensor,
                     noise: torch.Tensor | None, alpha: torch.Tensor, rate_fn: str) -> tuple:
    """The first arguments of Recurrence.apply and KernelRecurrence.apply."""
    if network_type == "gru":   # gates first, then the drive: (E, n_in, 3N)
        W = torch.cat([params["W_in_gates"], params["W_in"]], dim=-1)
        bias = torch.cat([params["b_gates"], params["b"]], dim=-1)
        W_gates = params["W_rec_gates"]
    else:                       # the drive alone: (E, n_in, N)
        W, bias, W_gates = params["W_in"], params["b"], None
    return (params["x0"], inputs.transpose(0, 1), W, bias, params["W_rec"], W_gates, alpha,
            None if noise is None else noise.transpose(0, 1), rate_fn)


@dataclass
class Sampler:
    """How the policy picks its actions after each step: logits = rate(x) W_out + b_out
    (read_fn: the readout's rate), capped to cap * tanh(logits / cap) where cap > 0, and the
    action drawn by inverse CDF from uniforms (T, E, B). W_out (E, N, A), b_out (E, A) and cap
    (E,) are detached: sampling carries no gradient."""

    W_out: torch.Tensor
    b_out: torch.Tensor
    cap: torch.Tensor
    uniforms: torch.Tensor
    read_fn: str = "relu"


def sample_actions(probs: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
    """Actions (...,) by inverse-CDF sampling of probs (..., A) from pre-drawn uniforms (...,),
    so each network's draws do not depend on its ensemble."""
    actions = (probs.cumsum(-1) < uniforms.unsqueeze(-1)).sum(-1)
    return actions.clamp(max=probs.shape[-1] - 1)


def rows_for(E: int, B: int, sampler: Sampler) -> Rows | KernelRows:
    """Rows for a policy that samples its actions step by step (trials end at the first
    non-FIXATE action): KernelRows when the C++ recurrence loads, else Rows. After the
    policy's run_recurrent_fast, rows.actions (T', E, B) holds the actions; pass the same rows
    to the baseline's run_recurrent_fast to compute the same trials."""
    from . import kernel

    if kernel.load() is not None:
        return KernelRows(E, B, sampler)
    return Rows(E, B, sampler=sampler)


class Rows:
    """Which trials a recurrence computes at each step: trials that have ended are dropped.

    The trials computed at step t are rows of one flat batch over the ensemble, in order of
    their id e * B + b (network e, trial b): index[t] (M_t,) the ids, net[t] (M_t,) the network
    of each row, counts[t] the number of rows of each network.
    keep[t] (M_t,): the positions of step t's rows among step t - 1's (None: the same rows).
    still_running(t, x, rows) -> bool (M_t,): which of the rows computed at step t (states
    x (M_t, N)) are still running after it; None computes every trial at every step.
    Built once by the policy's recurrence and reused by the baseline's (the same trials).
    With a Sampler in place of still_running, the rows' actions are sampled after each step
    and the trials that chose (any action but FIXATE, 0) end; rows.actions (T', E, B) holds
    them (FIXATE where not computed).
    """

    def __init__(self, E: int, B: int, still_running=None, sampler: Sampler | None = None):
        self.E, self.B = E, B
        self.still_running = still_running
        self._actions = None
        if sampler is not None:
            self.still_running = self._sampling(sampler)
        self.index = [torch.arange(E * B)]
        self.net = [torch.arange(E).repeat_interleave(B)]
        self.counts = [[B] * E]
        self.keep: list[torch.Tensor | None] = [None]
        self.built = False

    def _sampling(self, sampler: Sampler):
        E, B = self.E, self.B
        T, A = sampler.uniforms.shape[0], sampler.W_out.shape[-1]
        self._actions = torch.zeros(T, E * B, dtype=torch.long)   # FIXATE where not computed
        ended = torch.zeros(E * B, dtype=torch.bool)
        uniforms = sampler.uniforms.reshape(T, E * B)
        W_out, b_out = sampler.W_out.unbind(0), sampler.b_out.unbind(0)
        capped = bool((sampler.cap > 0).any())

        def still_running(t, x, rows):   # x (M, N): the rows (trials e * B + b) of step t
            index = rows.index[t]
            logits = segment_matmul(rate(x, sampler.read_fn), W_out, rows.counts[t],
                                    x.new_empty(x.shape[0], A), bias=b_out)
            if capped:   # trainer.cap_logits, per row
                cap = sampler.cap[rows.net[t]].unsqueeze(1)
                safe = torch.where(cap > 0, cap, torch.ones_like(cap))
                logits = torch.where(cap > 0, safe * torch.tanh(logits / safe), logits)
            probs = torch.log_softmax(logits, -1).exp()
            if index.shape[0] == E * B:       # every trial
                self._actions[t] = a = sample_actions(probs, uniforms[t])
                return ~ended.logical_or_(a != 0)
            a = sample_actions(probs, uniforms[t][index])
            self._actions[t].index_copy_(0, index, a)
            done = (a != 0) | ended[index]
            ended[index] = done
            return ~done

        return still_running

    @property
    def actions(self) -> torch.Tensor:
        """The sampled actions (T', E, B) of the steps computed (with a Sampler only)."""
        return self._actions[:len(self.index)].view(-1, self.E, self.B)

    def after_step(self, t: int, x: torch.Tensor, T: int) -> bool:
        """Record which trials step t + 1 computes; True when every trial has ended."""
        if self.built:
            return t + 1 >= len(self.index)
        if self.still_running is None:
            running = None
        else:
            running = self.still_running(t, x, self)
            if not bool(running.any()):
                return True
        if t + 1 >= T:
            return False
        if running is None or bool(running.all()):
            keep = None
        else:
            keep = torch.nonzero(running).squeeze(1)
        self.keep.append(keep)
        if keep is None:
            self.index.append(self.index[t])
            self.net.append(self.net[t])
            self.counts.append(self.counts[t])
        else:
            self.index.append(self.index[t][keep])
            self.net.append(self.net[t][keep])
            self.counts.append(torch.bincount(self.net[-1], minlength=self.E).tolist())
        return False


def segment_matmul(x: torch.Tensor, W: list[torch.Tensor], counts: list[int],
                   out: torch.Tensor, add: torch.Tensor | None = None,
                   bias: list[torch.Tensor] | None = None) -> torch.Tensor:
    """out = x W[e] (+ add, a per-row term, or + bias[e]) on each network e's rows of x:
    counts[e] consecutive rows per network; W, bias: per-network lists (tensor.unbind(0))."""
    if len(counts) == 1:       # one network
        if add is None and bias is None:
            return torch.mm(x, W[0], out=out)
        return torch.addmm(add if add is not None else bias[0], x, W[0], out=out)
    xs, outs = x.split(counts), out.split(counts)
    adds = add.split(counts) if add is not None else bias
    for e, n in enumerate(counts):
        if n == 0:
            continue
        if adds is None:
            torch.mm(xs[e], W[e], out=outs[e])
        else:
            torch.addmm(adds[e], xs[e], W[e], out=outs[e])
    return out


def _weight_grad(a: torch.Tensor, b: torch.Tensor, counts: list[int]) -> torch.Tensor:
    """(E, n, m): sum over each network's rows of a^T b (rows grouped by network)."""
    if len(counts) == 1:
        return torch.mm(a.T, b).unsqueeze(0)
    out = a.new_zeros(len(counts), a.shape[1], b.shape[1])
    for e, (ae, be) in enumerate(zip(a.split(counts), b.split(counts), strict=True)):
        if counts[e]:
            torch.mm(ae.T, be, out=out[e])
    return out


def _rate(x: torch.Tensor, fn: str, out: torch.Tensor) -> torch.Tensor:
    if fn == "relu":
        return torch.clamp_min(x, 0.0, out=out)
    if fn == "tanh":
        return torch.tanh(x, out=out)
    return out.copy_(torch.nn.functional.softplus(x))


def _rate_backward(grad: torch.Tensor, x: torch.Tensor | None, r: torch.Tensor,
                   fn: str) -> torch.Tensor:
    """grad * phi'(x), given r = phi(x) (x is needed for softplus only)."""
    if fn == "relu":
        return torch.ops.aten.threshold_backward(grad, r, 0.0)
    if fn == "tanh":
        return grad * (1 - r * r)
    return grad * torch.sigmoid(x)


class Recurrence(torch.autograd.Function):
    """The recurrent update of run_recurrent, with its backward through time written out.

    Ensemble-major tensors: inputs u (E, T, B, n_in); W_in = [W_in_gates, W_in] (E, n_in, 3N)
    and b_in = [b_gates, b] for the GRU, W_in (E, n_in, N) and b for the SimpleRNN; x0 (E, N);
    alpha (E,); noise (E, T, B, N) or None, added to the drive; rows: a Rows. Returns the
    states (E, T', B, N), T' <= T, 0 for trials not computed. Step t computes the M_t rows of
    rows (each network's running trials, with that network's weights); the per-row tensors
    of all steps are kept one after another in (sum_t M_t, .) buffers.

    Backward, from dL/dx_t (the readout's gradient plus the next step's), for the GRU
    (r = phi(x_{t-1}), [z, g] = sigmoid(pre), h = g r, c = h W_rec + drive_t):
        dc = dx a z,   dz = dx a (c - x_{t-1}),   dh = dc W_rec^T
        dpre = [dz z (1 - z), dh r g (1 - g)],   dr = dh g + dpre W_rec_gates^T
        dx_{t-1} = dx (1 - a z) + dr phi'(x_{t-1})
    and dW_rec = sum_t h^T dc, dW_rec_gates = sum_t r^T dpre, dW_in = sum_t u^T dpre.
    The SimpleRNN is the same with z = 1 and no gates.
    """

    @staticmethod
    def forward(ctx, x0, u, W_in, b_in, W_rec, W_rec_gates, alpha, noise, rate_fn, rows):
        E, T, B, n_in = u.shape
        N = W_rec.shape[-1]
        gru = W_rec_gates is not None
        P = W_in.shape[-1]
        size = T * E * B
        U = u.new_empty(size, n_in)                  # inputs of the computed rows, by step
        XO = u.new_empty(size, N)                    # x_t
        R = torch.empty_like(XO)                     # phi(x_{t-1})
        PRE = u.new_empty(size, P)                   # input projections, then gate / drive
        if gru:
            Z, H = u.new_empty(size, 2 * N), torch.empty_like(XO)
            AZ, CMX = torch.empty_like(XO), torch.empty_like(XO)
        else:
            C = torch.empty_like(XO)
        u_rows = u.transpose(0, 1).reshape(T, E * B, n_in)       # copy-free when E-major
        noise_rows = None if noise is None else noise.transpose(0, 1).reshape(T, E * B, N)
        x = x0.repeat_interleave(B, dim=0)                       # (E B, N)
        W_in_, b_in_, W_rec_ = W_in.unbind(0), b_in.unbind(0), W_rec.unbind(0)
        W_gates_ = W_rec_gates.unbind(0) if gru else None
        offsets, start, steps = [], 0, T
        for t in range(T):
            index, net, seg = rows.index[t], rows.net[t], rows.counts[t]
            if rows.keep[t] is not None:
                x = x[rows.keep[t]]
            n, every = index.shape[0], index.shape[0] == E * B
            s = slice(start, start + n)
            offsets.append(start)
            if t == 0 or rows.keep[t] is not None:
                a = alpha[net].unsqueeze(1)
            r = _rate(x, rate_fn, R[s])
            ut = U[s].copy_(u_rows[t]) if every else torch.index_select(u_rows[t], 0, index,
                                                                         out=U[s])
            p = segment_matmul(ut, W_in_, seg, PRE[s], bias=b_in_)   # input projections
            if noise_rows is not None:
                p[:, -N:] += noise_rows[t] if every else noise_rows[t][index]
            if gru:
                zg = segment_matmul(r, W_gates_, seg, Z[s], add=p[:, :2 * N]).sigmoid_()
                h = torch.mul(zg[:, N:], r, out=H[s])
                c = segment_matmul(h, W_rec_, seg, torch.empty_like(h), add=p[:, 2 * N:])
                az = torch.mul(a, zg[:, :N], out=AZ[s])
                x = torch.add(x, az * torch.sub(c, x, out=CMX[s]), out=XO[s])
            else:
                c = segment_matmul(r, W_rec_, seg, C[s], add=p)
                x = torch.add(x, a * (c - x), out=XO[s])
            start += n
            if rows.after_step(t, x, T):
                steps = t + 1
                break
        rows.built = True
        ctx.rate_fn, ctx.gru, ctx.shape, ctx.rows = rate_fn, gru, (E, T, B, N), rows
        ctx.offsets = offsets + [start]
        ctx.x0 = x0.detach() if rate_fn == "softplus" else None
        states = _spread(XO[:start], rows, steps, T)
        saved = (U[:start], XO[:start], R[:start]) + (
            (Z[:start], H[:start], AZ[:start], CMX[:start]) if gru else ())
        ctx.save_for_backward(W_in, W_rec, W_rec_gates, alpha, *saved)
        return states[:, :steps]

    @staticmethod
    def backward(ctx, d_states):
        W_in, W_rec, W_rec_gates, alpha, U, XO, R, *gru_saved = ctx.saved_tensors
        E, T, B, N = ctx.shape
        steps, fn, rows, off = d_states.shape[1], ctx.rate_fn, ctx.rows, ctx.offsets
        d_rows = d_states.transpose(0, 1).reshape(steps, E * B, N)
        Wt = [w.T for w in W_rec.unbind(0)]
        d_proj = XO.new_empty(XO.shape[0], W_in.shape[-1])   # [d gates, d drive] per row
        dC = d_proj[:, -N:]
        if fn == "softplus":                                 # x_{t-1} of each computed row
            X = torch.cat([ctx.x0.repeat_interleave(B, dim=0)]
                          + [XO[off[t - 1]:off[t]] if rows.keep[t] is None
                             else XO[off[t - 1]:off[t]][rows.keep[t]]
                             for t in range(1, steps)], dim=0)
        else:
            X = None
        if ctx.gru:
            Z, H, AZ, CMX = gru_saved
            Wgt = [w.T for w in W_rec_gates.unbind(0)]
            ZS, KEEP = Z - Z * Z, 1 - AZ           # sigmoid' of both gates; dx_t / dx_{t-1}
        dx = None
        for t in reversed(range(steps)):
            s = slice(off[t], off[t + 1])
            net, seg = rows.net[t], rows.counts[t]
            Xs = None if X is None else X[s]
            every = rows.index[t].shape[0] == E * B
            d_out = d_rows[t] if every else d_rows[t][rows.index[t]]
            if dx is None:
                dx = d_out.clone()
            elif rows.keep[t + 1] is not None:
                dx = d_out.index_add(0, rows.keep[t + 1], dx)
            else:
                dx = dx.add_(d_out)
            if t == steps - 1 or rows.keep[t + 1] is not None:
                a = alpha[net].unsqueeze(1)
            if ctx.gru:
                dc = torch.mul(dx, AZ[s], out=dC[s])
                dh = segment_matmul(dc, Wt, seg, torch.empty_like(dc))
                dpre = d_proj[s, :2 * N]
                torch.mul(dx * CMX[s], a, out=dpre[:, :N]).mul_(ZS[s, :N])
                torch.mul(dh, R[s], out=dpre[:, N:]).mul_(ZS[s, N:])
                dr = segment_matmul(dpre, Wgt, seg, torch.empty_like(dc), add=dh * Z[s, N:])
                dx = (dx * KEEP[s]).add_(_rate_backward(dr, Xs, R[s], fn))
            else:
                dc = torch.mul(dx, a, out=dC[s])
                dr = segment_matmul(dc, Wt, seg, torch.empty_like(dc))
                dx = (dx - dc).add_(_rate_backward(dr, Xs, R[s], fn))
        d_x0 = dx.view(E, B, N).sum(1)
        # weight gradients: the rows of all steps grouped by network, one matmul per network
        if E == 1:
            counts = [U.shape[0]]
        else:
            net = torch.cat(rows.net[:steps])
            order = torch.sort(net, stable=True).indices
            counts = torch.bincount(net, minlength=E).tolist()
            U, R, H, d_proj = U[order], R[order], (H[order] if ctx.gru else None), d_proj[order]
        d_W_in = _weight_grad(U, d_proj, counts)
        d_b = torch.stack([d.sum(0) for d in d_proj.split(counts)])
        if ctx.gru:
            d_W_rec = _weight_grad(H, d_proj[:, -N:], counts)
            d_W_gates = _weight_grad(R, d_proj[:, :2 * N], counts)
        else:
            d_W_rec, d_W_gates = _weight_grad(R, d_proj, counts), None
        return d_x0, None, d_W_in, d_b, d_W_rec, d_W_gates, None, None, None, None


class KernelRows:
    """Rows for the C++ recurrence (pyrl_mini.kernel), in its layout: per network e,
    counts (E, T) its rows at each step (0 once its trials have ended), idx (E, T * B) the trial
    of each row, step after step, and pos (E, T * B) each row's position among the previous
    step's rows. With a Sampler they are built by the policy's run (which also fills actions,
    (T', E, B)), and the baseline's run reuses them; without one every trial runs every step.
    """

    def __init__(self, E: int, B: int, sampler: Sampler | None = None, T: int | None = None):
        self.E, self.B, self.T, self.sampler = E, B, T, sampler
        self.counts = self.idx = self.pos = self.actions = None
        self.steps = 0
        if sampler is None:                    # every trial at every step
            self.counts = torch.full((E, T), B, dtype=torch.long)
            self.idx = torch.arange(B).repeat(E, T)
            self.pos = self.idx.clone()
            self.steps = T

    @classmethod
    def from_rows(cls, rows: Rows, T: int) -> KernelRows:
        """The same rows as a built Rows (for comparisons of the two recurrences)."""
        E, B = rows.E, rows.B
        out = cls(E, B, T=T)
        out.counts.zero_()
        out.steps = len(rows.index)
        for e in range(E):
            idx, pos = [], []
            prev = None
            for t in range(out.steps):
                mine = rows.net[t] == e
                trials = rows.index[t][mine] - e * B
                out.counts[e, t] = trials.shape[0]
                if trials.shape[0] == 0:
                    break
                idx.append(trials)
                pos.append(torch.arange(trials.shape[0]) if prev is None
                           else torch.searchsorted(prev, trials))
                prev = trials
            n = sum(i.shape[0] for i in idx)
            out.idx[e, :n] = torch.cat(idx)
            out.pos[e, :n] = torch.cat(pos)
        return out


RATE_CODES = {"relu": 0, "tanh": 1, "softplus": 2}


class KernelRecurrence(torch.autograd.Function):
    """Recurrence computed by the C++ loop of pyrl_mini/recurrence.cpp: the same arguments
    (rows: KernelRows), the same states and gradients up to float rounding, one C++ call for
    the forward and one for the backward instead of some 30 torch calls per step.

    With a readout (W_out, b_out, read_fn) it returns the logits read_fn(x) W_out + b_out
    (T', E, B, A) in place of the states, and rate_fn(x) (T', E, B, N) as a second output
    without gradient (if want_rates): the readout runs inside the same loop."""

    @staticmethod
    def forward(ctx, x0, u, W_in, b_in, W_rec, W_gates, alpha, noise, rate_fn, rows,
                W_out=None, b_out=None, read_fn="relu", want_rates=False):
        from . import kernel

        k = kernel.load()
        B = u.shape[2]
        s = rows.sampler
        code, read = RATE_CODES[rate_fn], RATE_CODES[read_fn]
        if rows.counts is None:    # the policy: sample the actions, build the rows
            out = k.forward(x0, u, W_in, b_in, W_rec, W_gates, alpha, noise, code, None, None,
                            None, W_out, b_out, read, s.cap, s.uniforms.transpose(0, 1),
                            want_rates)
            rows.counts, rows.idx, rows.pos = out[2:5]
            rows.T = u.shape[1]
            rows.steps = int((rows.counts > 0).sum(1).max())
            rows.actions = out[5][:, :rows.steps].transpose(0, 1)
        else:
            out = k.forward(x0, u, W_in, b_in, W_rec, W_gates, alpha, noise, code, rows.counts,
                            rows.idx, rows.pos, W_out, b_out, read, None, None, want_rates)
        ctx.buffers, ctx.rows, ctx.codes, ctx.TB = out[6:], rows, (code, read), (rows.T, B)
        ctx.save_for_backward(W_in, W_rec, W_gates, alpha, W_out)
        rates = out[1][:, :rows.steps] if want_rates else out[1]
        ctx.mark_non_differentiable(rates)
        return out[0][:, :rows.steps], rates

    @staticmethod
    def backward(ctx, d_out, _d_rates):
        from . import kernel

        W_in, W_rec, W_gates, alpha, W_out = ctx.saved_tensors
        (T, B), (code, read) = ctx.TB, ctx.codes
        rows = ctx.rows
        d_x0, d_W_in, d_b, d_W_rec, d_W_gates, d_W_out, d_b_out = kernel.load().backward(
            d_out, T, B, W_in, W_rec, W_gates, alpha, rows.counts, rows.idx, rows.pos, code,
            list(ctx.buffers), W_out, read)
        ctx.buffers = None   # the kernel reuses them in the next update
        readout = W_out is not None
        return (d_x0, None, d_W_in, d_b, d_W_rec, d_W_gates if W_gates is not None else None,
                None, None, None, None, d_W_out if readout else None,
                d_b_out if readout else None, None, None)


def run_readout_fast(params: Params, network_type: str, inputs: torch.Tensor,
                     noise: torch.Tensor | None, alpha: torch.Tensor, rate_fn: str,
                     read_fn: str, rows: Rows | KernelRows,
                     rates: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The logits read_fn(x) params["W_out"] + params["b_out"] (T', E, B, A) of the states
    run_recurrent_fast computes, and the rates rate_fn(x) (T', E, B, N) (if rates; without
    gradient). With KernelRows the readout runs inside the C++ loop (the states are never
    stored whole); with Rows it is nets.readout on the states."""
    if isinstance(rows, KernelRows):
        args = _recurrence_args(params, network_type, inputs, noise, alpha, rate_fn)
        logits, r = KernelRecurrence.apply(*args, rows, params["W_out"], params["b_out"],
                                           read_fn, rates)
        return logits.transpose(0, 1), (r.transpose(0, 1) if rates else None)
    x = run_recurrent_fast(params, network_type, inputs, noise, alpha, rate_fn, rows)
    r = rate(x, rate_fn)
    read = r if read_fn == rate_fn else rate(x, read_fn)
    return readout(params, read), (r.detach() if rates else None)


def _spread(compact: torch.Tensor, rows: Rows, steps: int, T: int) -> torch.Tensor:
    """The rows (sum_t M_t, n) of steps 0 .. steps-1 -> (E, T, B, n), 0 where not computed
    (stored time-major: a transposed view of a (T, E, B, n) tensor)."""
    E, B, n = rows.E, rows.B, compact.shape[-1]
    if compact.shape[0] == T * E * B:                    # every trial at every step
        return compact.view(T, E, B, n).transpose(0, 1)
    full = compact.new_zeros(T * E * B, n)
    flat = torch.cat([rows.index[t] + t * E * B for t in range(steps)])
    full.index_copy_(0, flat, compact)
    return full.view(T, E, B, n).transpose(0, 1)


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
