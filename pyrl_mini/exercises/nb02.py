"""Notebook 02 (the W_out initialisation): its exercises, each a reference solution and a
checker (see core.Exercise)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from .core import Exercise, Finding, Prediction, Returns, call, paired_finding, tuple_of


# --- Exercise 4 (Bonus A): the readout's own gradient, dL/dW_out --------------------------------
def reference_wout_gradient(rates: torch.Tensor, actions: torch.Tensor, probs: torch.Tensor,
                            fd: torch.Tensor, mask: torch.Tensor, trials: int) -> torch.Tensor:
    """dL/dW_out, shape (N, A), for L = -(1/B) sum_{valid t, b} log pi(a_t) f(d_t) with
    logits r_t W_out + b_out (deriving it is the exercise: the formula is in the code).

    rates (T, B, N), actions (T, B) int64, probs pi (T, B, A), fd = f(d) (T, B), mask (T, B)
    1.0 on valid steps, trials = B.
    """
    onehot = torch.nn.functional.one_hot(actions, probs.shape[-1]).to(probs.dtype)
    weight = (fd * mask).unsqueeze(-1) * (onehot - probs)             # (T, B, A)
    return -torch.einsum("tbn,tba->na", rates, weight) / trials       # (N, A)


def step0_batch(wout_std: float, kappa: float = 0.0, seed: int = 0, trials: int = 64) -> dict:
    """One batch of a fresh GRU policy (the trainer's own rollout and loss, entropy_coef 0) and
    the autograd gradient of the policy loss: rates (T, B, N), actions (T, B), probs (T, B, A),
    fd (T, B), mask (T, B), trials, and grads {parameter name: gradient (no ensemble dim)}."""
    from ..config import TrainSettings
    from ..trainer import Ensemble

    s = TrainSettings(seed=seed, kappa=kappa, batch_size=trials).replace(wout_std=wout_std)
    ens = Ensemble([s])
    ro = ens.rollout(trials, torch.tensor([float(kappa)]))
    ro["policy_loss"].sum().backward()
    return {"rates": ro["rates"][:, 0].detach(), "actions": ro["actions"][:, 0],
            "probs": ro["probs"][:, 0].detach(), "fd": ro["fd"][:, 0].detach(),
            "mask": ro["mask"][:, 0], "trials": trials,
            "grads": {k: p.grad[0].detach().clone() for k, p in ens.params.items()}}


def _wout_gradient_slips(rates, actions, probs, fd, mask, trials) -> list:
    """(a wrong dL/dW_out a student plausibly writes, the hint for it), most specific first."""
    w = (fd * mask).unsqueeze(-1)                                      # (T, B, 1)
    onehot = torch.nn.functional.one_hot(actions, probs.shape[-1]).to(probs.dtype)
    logp = torch.log(probs).gather(-1, actions.unsqueeze(-1))          # the value log pi(a)
    value_hint = ("you used the value log pi(a) where its gradient with respect to the logits "
                  "belongs (a vector with one entry per action)")
    ref = reference_wout_gradient(rates, actions, probs, fd, mask, trials)
    return [
        (-torch.einsum("tbn,tba->na", rates, w * logp) / trials, value_hint),
        (-torch.einsum("tbn,tba->na", rates, w * logp * onehot) / trials, value_hint),
        (-torch.einsum("tbn,tba->na", rates, w * onehot) / trials,
         "a term is missing: d log pi(a) / d logits has a part for every action, not only the "
         "one taken"),
        (ref * trials, "the scale is off: L divides the sum by the number of trials B"),
        (ref * trials / mask.sum(), "the scale is off: L divides by the number of trials B, "
         "not by the number of valid steps"),
        (reference_wout_gradient(rates, actions, probs, fd, torch.ones_like(mask), trials),
         "steps after a trial ended (mask 0) count: multiply by the mask"),
    ]


def _test_wout_gradient(fn: Callable) -> str | None:
    for wout_std, kappa in ((0.0, 0.0), (0.5, -0.4)):
        b = step0_batch(wout_std, kappa, seed=3, trials=64)
        args = (b["rates"], b["actions"], b["probs"], b["fd"], b["mask"])
        got = torch.as_tensor(call(fn, *(a.clone() for a in args), b["trials"]),
                              dtype=torch.float32)
        want = b["grads"]["W_out"]
        where = ("on the batch with W_out all zeros (kappa zero)" if wout_std == 0 else
                 f"on the batch with W_out std {wout_std:g} and kappa {kappa:+.1f}")
        for slip, hint in _wout_gradient_slips(*args, b["trials"]):
            if got.numel() == slip.numel() and torch.allclose(got.reshape(slip.shape), slip,
                                                             atol=1e-6, rtol=1e-4):
                return f"{where} {hint}"
        if got.shape != want.shape:
            return (f"{where} the gradient has shape {tuple(got.shape)}; W_out is (units N, "
                    f"actions A) = {tuple(want.shape)}")
        if torch.allclose(got, want, atol=1e-6, rtol=1e-4):
            continue
        if torch.allclose(got, -want, atol=1e-6, rtol=1e-4):
            return (f"{where} the sign is flipped: L is MINUS the f(d)-weighted log-likelihood, "
                    "and you returned the gradient of the objective")
        return (f"{where} your gradient differs from autograd's by up to "
                f"{float((got - want).abs().max()):.3g}: check f(d), the mask and the 1/B")
    return None


wout_gradient = Exercise(
    "wout_gradient", reference_wout_gradient, _test_wout_gradient,
    "dL/dW_out = -(1/B) sum_t f(d_t) r_t^T (onehot(a_t) - pi_t) matches autograd, at W_out = 0 "
    "too.")


# --- Exercise 1: the recurrent gradient at W_out = 0, before and after one Adam step --------------
def policy_problem(seed: int = 0, wout_std: float = 0.0, trials: int = 64, kappa: float = 0.0):
    """(params, loss_fn): a fresh GRU policy's parameters {name: leaf tensor (1, ...)} and
    loss_fn(), the policy loss L = -(1/B) sum_{valid t, b} log pi(a_t) f(d_t) of one fixed
    batch (inputs, noise, actions and f(d) drawn once by the trainer's rollout at update 0).
    Calling loss_fn() again after changing params gives the loss at the new parameters on
    the same batch."""
    from .. import networks as nets
    from .. import tasks
    from ..config import TrainSettings
    from ..trainer import Ensemble

    s = TrainSettings(seed=seed, kappa=kappa, batch_size=trials).replace(wout_std=wout_std)
    ens = Ensemble([s])
    with torch.no_grad():
        ro = ens.rollout(trials, torch.tensor([float(kappa)]))
    twin = Ensemble([s])                     # the same seed draws the same batch again
    options, in_noise, _, rec_noise, _ = twin.draw(trials)
    inputs = tasks.build_inputs(twin.task, options, in_noise, twin.input_noise)
    noise = twin.rec_noise.view(1, 1, 1, 1) * rec_noise
    actions, fd, mask = ro["actions"], ro["fd"], ro["mask"]             # (T, 1, B)
    params = {k: p.detach().clone().requires_grad_(True) for k, p in twin.params.items()}
    net, alpha = twin.net, twin.alpha

    def loss_fn() -> torch.Tensor:
        x = nets.run_recurrent(params, net.network_type, inputs, noise, alpha,
                               net.rate_function)
        logp = torch.log_softmax(nets.readout(params, nets.rate(x, net.rate_function)), -1)
        chosen = logp.gather(-1, actions.unsqueeze(-1)).squeeze(-1)      # (T, 1, B)
        return -(chosen * fd * mask).sum() / trials

    return params, loss_fn


def reference_first_adam_step(params: dict, loss_fn: Callable, lr: float) -> tuple:
    """(|dL/dW_rec| now, |dL/dW_rec| after one Adam step of size lr on every parameter).
    Steps params in place (the notebook reads the stepped W_out)."""
    loss_fn().backward()
    before = params["W_rec"].grad.norm().item()
    opt = torch.optim.Adam(params.values(), lr=lr)
    opt.step()
    opt.zero_grad()
    loss_fn().backward()
    return before, params["W_rec"].grad.norm().item()


def _sgd_first_step(params: dict, loss_fn: Callable, lr: float) -> tuple:
    loss_fn().backward()
    before = params["W_rec"].grad.norm().item()
    opt = torch.optim.SGD(params.values(), lr=lr)
    opt.step()
    opt.zero_grad()
    loss_fn().backward()
    return before, params["W_rec"].grad.norm().item()


def _without_zero_grad(params: dict, loss_fn: Callable, lr: float) -> tuple:
    """The slip: the fresh backward adds its gradient to the old one still in .grad."""
    loss_fn().backward()
    before = params["W_rec"].grad.norm().item()
    torch.optim.Adam(params.values(), lr=lr).step()
    loss_fn().backward()
    return before, params["W_rec"].grad.norm().item()


def _test_first_adam_step(fn: Callable) -> str | None:
    # With W_out all zeros the gradient before the step is exactly 0, so a missing zero_grad()
    # adds nothing to it and goes unseen; the case with W_out std 0.1 has an old gradient to add.
    for seed, lr, wout_std in ((1, 0.01, 0.0), (2, 0.03, 0.0), (2, 0.03, 0.1)):
        problem = {"seed": seed, "wout_std": wout_std, "trials": 32}
        before, after = (float(torch.as_tensor(v, dtype=torch.float64).detach())
                         for v in call(fn, *policy_problem(**problem), lr))
        want_before, want_after = reference_first_adam_step(*policy_problem(**problem), lr)
        where = (f"with W_out {'all zeros' if wout_std == 0 else f'std {wout_std:g}'} "
                 f"(seed {seed}, lr {lr:g})")
        if not math.isclose(before, want_before, rel_tol=1e-4, abs_tol=1e-12):
            return (f"{where} your |dL/dW_rec| before the step, {before:.3g}, is not the "
                    "recurrent gradient: read params['W_rec'].grad after loss_fn().backward()")
        if after == 0.0:
            return (f"{where} the W_rec gradient after the step is still 0: give the "
                    "optimiser every parameter (params.values()), step it, then compute a fresh "
                    "loss and its gradient")
        if math.isclose(after, want_after, rel_tol=1e-4):
            continue
        if math.isclose(after, _without_zero_grad(*policy_problem(**problem), lr)[1],
                        rel_tol=1e-4):
            return (f"{where} your gradient after the step still holds the old one: backward() "
                    "adds to .grad, so zero it (opt.zero_grad()) before the fresh backward")
        if math.isclose(after, _sgd_first_step(*policy_problem(**problem), lr)[1],
                        rel_tol=1e-4):
            return (f"{where} that is plain SGD's step (each weight moves by lr x its "
                    "gradient); take the step with torch.optim.Adam")
        return (f"{where} your |dL/dW_rec| after one Adam step, {after:.4g}, is wrong: one "
                "Adam step of size lr on every parameter, then zero the old gradients and "
                "backpropagate a fresh loss")
    return None


first_adam_step = Exercise(
    "first_adam_step", reference_first_adam_step, _test_first_adam_step,
    "exactly zero at W_out = 0, and not zero once one Adam step has moved W_out.",
    # two Python floats, as the prompt says and Exercise 2's checker asks: a 0-d tensor is refused
    returns=tuple_of(2, "a tuple of two Python floats (return a, b; .item() turns a one-element "
                        "tensor into a float)", element=lambda x: isinstance(x, float)),
    mutates=("params",))  # the reference steps params: not rerun per call


# --- Exercise 2: the chance that a trial reaches a choice at initialisation -----------------------
def reference_hold_probability(probs: torch.Tensor, hold_steps: int) -> float:
    """The chance that a trial keeps fixating on each of its first hold_steps steps (through
    the fixation and stimulus epochs, to the decision epoch), averaged over the trials.
    probs (T, B, A) with FIXATE = action 0. (Working it out is the exercise.)"""
    return probs[:hold_steps, :, 0].prod(dim=0).mean().item()


def _hold_policies() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    uniform = torch.full((15, 4, 3), 1 / 3)
    varied = torch.softmax(2.0 * torch.randn(15, 6, 3, generator=g), -1)  # trials differ
    leaning = torch.softmax(torch.randn(15, 5, 3, generator=g) + torch.tensor([1.5, 0, 0]), -1)
    return [uniform, varied, leaning]


def _test_hold_probability(fn: Callable) -> str | None:
    hold = 7
    for i, probs in enumerate(_hold_policies()):
        got = float(torch.as_tensor(call(fn, probs.clone(), hold), dtype=torch.float64).mean())
        want = reference_hold_probability(probs, hold)
        if math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-12):
            continue
        where = f"on test policy {i + 1} (hold_steps {hold})"
        for steps in (hold - 1, hold + 1, probs.shape[0]):
            if math.isclose(got, reference_hold_probability(probs, steps), rel_tol=1e-5):
                return (f"{where} you multiplied {steps} steps: a trial must fixate on exactly "
                        "the first hold_steps steps (t = 0 .. hold_steps - 1), along dim 0 of "
                        "probs (T steps, B trials, 3 actions)")
        for slip in (probs[:, :hold, 0].prod(dim=0).mean(), probs[:, :hold, 0].prod(dim=1).mean(),
                     probs[:hold, :, 0].prod(dim=1).mean()):
            if math.isclose(got, float(slip), rel_tol=1e-5):
                return (f"{where} you took hold_steps along the wrong axis: probs is (T steps, "
                        "B trials, 3 actions); the hold steps are the first hold_steps along "
                        "dim 0, the product runs over them, the mean over the trials (dim 1)")
        if math.isclose(got, probs[:hold, :, 0].mean().item(), rel_tol=1e-5):
            return (f"{where} you averaged pi(FIXATE) over the hold steps: a trial must fixate "
                    "on every one of them, so multiply its probabilities over the steps")
        mean_first = probs[:hold, :, 0].mean(dim=1).prod().item()
        if math.isclose(got, mean_first, rel_tol=1e-5):
            return (f"{where} you averaged pi over trials before multiplying: each trial "
                    "holds with its own product; average the products")
        for a in (1, 2):
            if math.isclose(got, reference_hold_probability(probs[..., [a, 0, 3 - a]], hold),
                            rel_tol=1e-5):
                return f"{where} you used action {a}; FIXATE is action 0"
        return (f"{where} your {got:.4g} is wrong: a trial reaches the choice only if it "
                "fixates on every one of those steps, each trial with its own policy")
    return None


hold_probability = Exercise(
    "hold_probability", reference_hold_probability, _test_hold_probability,
    "each trial's product of pi_t(FIXATE) over the hold steps, averaged over trials.",
    returns=Returns("a Python float (.item() turns a one-element tensor into one)",
                    lambda out: isinstance(out, float)))


# --- Exercise 3, a prediction (section 5): does a large W_out trap more runs than 0.05? ----------
def _large_wout_truth() -> Finding:
    from .. import analysis, data

    default = data.load("collapse_kappa")   # W_out std 0.05 (upstream's default), kappa 0
    scales = data.load("collapse_wout")     # the same seeds at other stds
    small = default.by_seed(kappa=0.0)
    large = scales.by_seed(wout_std=2.0, entropy_coef=0.0)
    if not np.array_equal(default.arrays["seed"][small], scales.arrays["seed"][large]):
        raise ValueError("the W_out std 0.05 and 2 runs do not share their seeds")
    return paired_finding(analysis.is_trapped(default.mode[small]),
                          analysis.is_trapped(scales.mode[large]), "trapped", "at std 0.05",
                          "at std 2")


large_wout_traps = Prediction(
    "large_wout_traps", ("more", "fewer", "same"), _large_wout_truth,
    "look at the trapped counts at std 0.05 and 2 (entropy_coef 0) below, and think back to "
    "how often a trial at std 2 reaches a choice (section 4)")
