"""Ways to a faster update for one network that were measured and not taken (the README's
Performance section cites these figures).

    python benchmarks/kernel/alternatives.py               # about 2 minutes, 25 s compiling
    python benchmarks/kernel/alternatives.py --no-compile  # without the torch.compile measure

On one batch of one network at the default settings after `--update` updates of training:
1. the random draws: CPU time of the recurrent noise's normal numbers (and of as many
   uniforms), which must stay the same draws for the same numbers;
2. the losses and their autograd against a closed-form gradient of both losses with respect
   to the logits and the values (checked to be the same gradient first);
3. torch.compile (inductor, dynamic shapes) of the task rules and the losses: compile time,
   then CPU time per update with the diagnostics;
4. the kernel's calls of one update in training against the same calls replayed alone,
   alternated in one process (does the code around the kernel slow it?).
CPU time of this process, one thread; medians are not needed here, each measure is a mean
over --reps calls.
"""

from __future__ import annotations

import argparse
import time

import torch
from kernel import capture, intercept  # benchmarks/kernel/kernel.py (this directory is on sys.path)

from pyrl_mini import diagnostics, tasks, trainer
from pyrl_mini.config import TrainSettings
from pyrl_mini.fast import kernel


def cpu_us(f, reps: int) -> float:
    """Mean CPU time of f() in microseconds, after one call to warm up."""
    f()
    t = time.process_time()
    for _ in range(reps):
        f()
    return (time.process_time() - t) / reps * 1e6


def trained_batch(update: int):
    """An ensemble of one network with the parameters of `update` updates of training, and one
    batch of it (the trainer's fast path)."""
    s = TrainSettings(seed=0)
    result = trainer.train(s, progress=False, stop_after=update)
    ens = trainer.Ensemble([s])
    with torch.no_grad():
        for mine, theirs in ((ens.params, result.params),
                             (ens.baseline_params, result.baseline_params)):
            for name, p in theirs.items():
                mine[name].copy_(p)
    return s, ens, ens.rollout(s.batch_size, torch.tensor([s.kappa]), fast=True)


def closed_form_gradients(batch: dict, entropy_coef: torch.Tensor, trials: int):
    """d(policy_loss + baseline_loss) / d(logits, value), written out: for log pi = log_softmax
    (z), d log pi(a) / dz = onehot(a) - pi and dH / dz = -pi (log pi + H); the baseline loss's
    gradient is -f(d) / n_valid on valid steps."""
    mask, n = batch["mask"], batch["n_valid"].view(1, -1, 1)
    probs, fd, entropy = batch["probs"].detach(), batch["fd"], batch["entropy"].detach()
    onehot = torch.nn.functional.one_hot(batch["actions"], probs.shape[-1]).to(probs.dtype)
    coef = entropy_coef.view(1, -1, 1)
    d_logits = (-(fd * mask / trials).unsqueeze(-1) * (onehot - probs)
                + (coef * mask / n).unsqueeze(-1) * probs
                * (torch.log(probs) + entropy.unsqueeze(-1)))
    return d_logits, -fd * mask / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--update", type=int, default=150, help="updates trained first")
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--no-compile", action="store_true")
    args = parser.parse_args()
    if args.update < 1 or args.reps < 1:
        parser.error(f"--update {args.update} and --reps {args.reps}: both must be at least 1 "
                     "(a batch after at least one update, timed at least once)")
    torch.set_num_threads(1)
    s, ens, b = trained_batch(args.update)
    reps = args.reps
    T, N = s.task.steps, s.network.units

    # 1. the draws
    g = torch.Generator().manual_seed(0)
    out = torch.empty(T, s.batch_size, N)
    normal = cpu_us(lambda: torch.randn(T, s.batch_size, N, generator=g, out=out), reps)
    uniform = cpu_us(lambda: torch.rand(T, s.batch_size, N, generator=g, out=out), reps)
    print(f"draws: {out.numel():,} normal numbers {normal:.0f} us "
          f"({normal * 1e3 / out.numel():.1f} ns each), as many uniforms {uniform:.0f} us")

    # 2. the losses: autograd against the closed form
    kappa = torch.tensor([s.kappa])
    logits = b["raw_logits"].detach().requires_grad_()
    value = b["value"].detach().requires_grad_()

    def with_autograd():
        loss = trainer.losses(trainer.log_softmax(logits), b["actions"], b["mask"],
                              b["returns"], value, kappa, ens.entropy_coef, s.batch_size)
        (loss["policy_loss"].sum() + loss["baseline_loss"].sum()).backward()
        return loss

    def closed_form():
        with torch.no_grad():
            loss = trainer.losses(trainer.log_softmax(logits), b["actions"], b["mask"],
                                  b["returns"], value, kappa, ens.entropy_coef, s.batch_size)
            return closed_form_gradients(dict(loss, mask=b["mask"], actions=b["actions"]),
                                         ens.entropy_coef, s.batch_size)

    logits.grad = value.grad = None
    with_autograd()
    d_logits, d_value = closed_form()
    torch.testing.assert_close(d_logits, logits.grad, rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(d_value, value.grad, rtol=1e-4, atol=1e-7)
    auto_us, closed_us = cpu_us(with_autograd, reps), cpu_us(closed_form, reps)
    print(f"losses: with autograd {auto_us:.0f} us, closed-form gradient {closed_us:.0f} us "
          "(the same gradient)")

    # 3. torch.compile of the task rules and the losses
    outcome_u = torch.rand(1, s.batch_size, generator=g)

    def tail(z, v, actions, options):
        out = tasks.resolve(ens.task, actions, options, outcome_u, ens.abort_penalty,
                            ens.no_choice_penalty, ens.step_cost)
        loss = trainer.losses(trainer.log_softmax(z), actions, out.mask,
                              tasks.return_to_go(out.rewards), v, kappa, ens.entropy_coef,
                              s.batch_size)
        return out, loss

    def update_tail(f):
        out, loss = f(logits, value, b["actions"], b["options"])
        (loss["policy_loss"].sum() + loss["baseline_loss"].sum()).backward()
        with torch.no_grad():
            diagnostics.batch_statistics(dict(loss, mask=out.mask, rates=b["rates"]))
            diagnostics.behaviour(b["options"], out)

    eager = cpu_us(lambda: update_tail(tail), reps)
    if args.no_compile:
        print(f"task rules, losses and diagnostics: eager {eager:.0f} us (compile not measured)")
    else:
        compiled = torch.compile(tail, dynamic=True)
        t = time.perf_counter()
        update_tail(compiled)
        took = time.perf_counter() - t
        print(f"task rules, losses and diagnostics: eager {eager:.0f} us, compiled "
              f"{cpu_us(lambda: update_tail(compiled), reps):.0f} us after {took:.0f} s "
              "of compiling")

    # 4. the kernel in training against a replay of one update's calls
    module = kernel.load()
    if module is None:
        print(f"kernel: not measured ({kernel.why_not()})")
        return
    calls = capture(1, update=args.update)
    spent = [0.0]

    def timed_call(_name, f, a):
        t = time.process_time()
        result = f(*a)
        spent[0] += time.process_time() - t
        return result

    situ, replay = [], []
    for _ in range(4):   # update `update` in training (its kernel calls timed), then replayed

        def reset(u, _row):
            if u == args.update - 1:
                spent[0] = 0.0

        kernel._module = intercept(module, timed_call)
        try:
            trainer.train(s.replace(updates=args.update + 1), progress=False, callback=reset)
        finally:
            kernel._module = module
        situ.append(spent[0] * 1e3)
        t = time.process_time()
        for _ in range(10):
            for name, a in calls:
                getattr(module, name)(*a)
        replay.append((time.process_time() - t) / 10 * 1e3)
    print(f"kernel calls of update {args.update}: in training {min(situ):.1f}-{max(situ):.1f} "
          f"ms, replayed alone {min(replay):.1f}-{max(replay):.1f} ms (4 alternations)")


if __name__ == "__main__":
    main()
