"""The fast path's Python side: what feeds the C++ recurrence and turns its outputs into
tensors autograd can use.

The plain path (networks.run_recurrent + networks.readout, autograd) computes every step of
every trial. The kernel computes the same update and readout step by step, for the trials
still running only: after each step it samples the actions of the running trials (inverse CDF
of the same uniforms as the plain path), drops the trials that chose, and stops once every
trial has ended. Steps after a trial's end carry no loss, so both paths give the same losses
and gradients to float rounding (tests/test_kernel.py), and the same actions.

policy() runs the policy and builds the rows (which trials run at each step); baseline() runs
the baseline on the same rows.
"""

from __future__ import annotations

import torch

from .kernel import load as load_kernel

RATE_CODES = {"relu": 0, "tanh": 1, "softplus": 2}


class KernelRows:
    """Which trials the kernel computes at each step, per network e: counts (E, T) its rows at
    each step (0 once its trials have ended), idx (E, T * B) the trial of each row, step after
    step, and pos (E, T * B) each row's position among the previous step's rows.

    With uniforms (T, E, B) and the policy's readout (W_out, b_out, cap) the policy's run
    builds them while it samples (and fills actions (T', E, B)); the baseline's run reuses
    them. Without, every trial runs every step (rows for given T)."""

    def __init__(self, E: int, B: int, T: int | None = None, uniforms=None, cap=None):
        self.E, self.B, self.T = E, B, T
        self.uniforms, self.cap = uniforms, cap
        self.counts = self.idx = self.pos = self.actions = None
        self.steps = 0
        if uniforms is None:                   # every trial at every step
            self.counts = torch.full((E, T), B, dtype=torch.long)
            self.idx = torch.arange(B).repeat(E, T)
            self.pos = self.idx.clone()
            self.steps = T


class KernelRecurrence(torch.autograd.Function):
    """The recurrence and readout of one network kind in the C++ loop: one call for the
    forward and one for the backward.

    Ensemble-major inputs u (E, T, B, n_in); W_in = [W_in_gates, W_in] (E, n_in, 3N) and
    b_in = [b_gates, b] for the GRU, W_in (E, n_in, N) and b for the SimpleRNN; x0 (E, N);
    alpha (E,); noise (E, T, B, N) or None. Returns the logits read_fn(x) W_out + b_out
    (E, T', B, A) and, as a second output without gradient, the rates rate_fn(x) (E, T', B, N)
    if want_rates."""

    @staticmethod
    def forward(ctx, x0, u, W_in, b_in, W_rec, W_gates, alpha, noise, rate_fn, rows,
                W_out, b_out, read_fn, want_rates):
        k = load_kernel()
        B = u.shape[2]
        code, read = RATE_CODES[rate_fn], RATE_CODES[read_fn]
        if rows.counts is None:    # the policy: sample the actions, build the rows
            out = k.forward(x0, u, W_in, b_in, W_rec, W_gates, alpha, noise, code, None, None,
                            None, W_out, b_out, read, rows.cap, rows.uniforms.transpose(0, 1),
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
        W_in, W_rec, W_gates, alpha, W_out = ctx.saved_tensors
        (T, B), (code, read), rows = ctx.TB, ctx.codes, ctx.rows
        d_x0, d_W_in, d_b, d_W_rec, d_W_gates, d_W_out, d_b_out = load_kernel().backward(
            d_out, T, B, W_in, W_rec, W_gates, alpha, rows.counts, rows.idx, rows.pos, code,
            list(ctx.buffers), W_out, read)
        ctx.buffers = None   # the kernel reuses them in the next update
        return (d_x0, None, d_W_in, d_b, d_W_rec, d_W_gates if W_gates is not None else None,
                None, None, None, None, d_W_out, d_b_out, None, None)


def run(params: dict, network_type: str, inputs: torch.Tensor, noise: torch.Tensor | None,
        alpha: torch.Tensor, rate_fn: str, read_fn: str, rows: KernelRows,
        want_rates: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The logits read_fn(x) W_out + b_out (T', E, B, A) of one network kind (params as in
    networks.init_policy, with a leading ensemble dim) and its rates rate_fn(x) (T', E, B, N)
    (without gradient; None unless want_rates), on the rows' trials. inputs (T, E, B, n_in)
    and noise (T, E, B, N) are read without a copy when stored ensemble-major (the
    transpose(0, 1) of an (E, T, B, .) tensor)."""
    if network_type == "gru":   # gates first, then the drive: (E, n_in, 3N)
        W_in = torch.cat([params["W_in_gates"], params["W_in"]], dim=-1)
        b_in = torch.cat([params["b_gates"], params["b"]], dim=-1)
        W_gates = params["W_rec_gates"]
    else:                       # the drive alone: (E, n_in, N)
        W_in, b_in, W_gates = params["W_in"], params["b"], None
    logits, rates = KernelRecurrence.apply(
        params["x0"], inputs.transpose(0, 1), W_in, b_in, params["W_rec"], W_gates, alpha,
        None if noise is None else noise.transpose(0, 1), rate_fn, rows, params["W_out"],
        params["b_out"], read_fn, want_rates)
    return logits.transpose(0, 1), (rates.transpose(0, 1) if want_rates else None)


def policy(params: dict, network_type: str, inputs: torch.Tensor, noise: torch.Tensor,
           alpha: torch.Tensor, rate_fn: str, read_fn: str, cap: torch.Tensor,
           uniforms: torch.Tensor):
    """The policy's raw logits (T', E, B, A), rates (T', E, B, N), actions (T', E, B) and the
    rows, with actions sampled step by step from uniforms (T, E, B) (logits capped where
    cap > 0, as trainer.cap_logits) and the loop stopped once every trial has ended."""
    E, B = uniforms.shape[1:]
    rows = KernelRows(E, B, uniforms=uniforms, cap=cap)
    logits, rates = run(params, network_type, inputs, noise, alpha, rate_fn, read_fn, rows)
    return logits, rates, rows.actions, rows


def baseline(params: dict, inputs: torch.Tensor, alpha: torch.Tensor,
             rows: KernelRows) -> torch.Tensor:
    """The baseline GRU's values (T', E, B) on the policy's rows (no noise, relu rates)."""
    return run(params, "gru", inputs, None, alpha, "relu", "relu", rows,
               want_rates=False)[0].squeeze(-1)
