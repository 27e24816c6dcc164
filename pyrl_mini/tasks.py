"""The gambling task, batched in torch (after Nakazawa, Isa & Sasaki 2023, as ported in pyrl).

A trial shows a left and a right option, each a (probability p, magnitude m) pair from a 5 x 5
grid. Epochs: fixation, stimulus (options shown, still fixate), decision (fixation cue off).
Actions: FIXATE, CHOOSE_LEFT, CHOOSE_RIGHT. Any non-FIXATE action ends the trial:
before the decision epoch it is an abort (abort_penalty); in the decision epoch it is a choice
that pays m with probability p, else 0. Fixating to the end pays no_choice_penalty. Every step
of a trial also pays -step_cost.

Because the inputs never depend on the actions (a trial only *ends* early), the whole policy
rollout can be computed first and the actions sampled for all steps at once; the trial's end is
the first non-FIXATE step. That keeps the time loop down to the recurrent update alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .config import TaskSettings

FIXATE, CHOOSE_LEFT, CHOOSE_RIGHT = 0, 1, 2
ACTIONS = ("FIXATE", "CHOOSE-LEFT", "CHOOSE-RIGHT")
N_ACTIONS = 3
INPUTS = ("fixation cue", "left p", "left magnitude", "right p", "right magnitude")
N_INPUTS = len(INPUTS)

PROBABILITIES = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
EXPECTED_VALUES = np.array([1.0, 1.375, 1.75, 2.125, 2.5]) / 2.5


def option_grid() -> tuple[np.ndarray, np.ndarray]:
    """The 25 options as flat arrays (p, magnitude), option index = 5 * p_index + ev_index.

    Magnitudes are EV / p, so each EV column has one expected value across all p; they span
    0.44 (EV 0.4 at p 0.9) to 10 (EV 1.0 at p 0.1).
    """
    p = np.repeat(PROBABILITIES, len(EXPECTED_VALUES))
    ev = np.tile(EXPECTED_VALUES, len(PROBABILITIES))
    return p, ev / p


OPTION_P, OPTION_MAGNITUDE = option_grid()
OPTION_EV = OPTION_P * OPTION_MAGNITUDE
_LOG_M = np.log(OPTION_MAGNITUDE)
# log-magnitude rescaled to [0, 1]: far easier to learn from than raw magnitude (0.44 .. 10)
OPTION_LOGMAG = (_LOG_M - _LOG_M.min()) / (_LOG_M.max() - _LOG_M.min())
# log p rescaled to [0, 1] by the same factor, so log EV = log p + log m is a linear
# function of the two inputs (with raw p the network must learn the logarithm first)
_LOG_P = np.log(OPTION_P)
OPTION_LOGP = (_LOG_P - _LOG_P.min()) / (_LOG_M.max() - _LOG_M.min())


def draw_trials(settings: TaskSettings, trials: int, generator: torch.Generator):
    """One network's randomness for one batch: (options (trials, 2), input noise
    (time, trials, N_INPUTS), outcome uniforms (trials,)). Drawn in a fixed order so that a
    network's draws do not depend on which ensemble it sits in."""
    first = torch.randint(0, 25, (trials,), generator=generator)
    # second option differs from the first: shift by 1..24
    second = (first + torch.randint(1, 25, (trials,), generator=generator)) % 25
    options = torch.stack([first, second], dim=1)
    noise = torch.randn(settings.steps, trials, N_INPUTS, generator=generator)
    outcome_u = torch.rand(trials, generator=generator)
    return options, noise, outcome_u


def build_inputs(settings: TaskSettings, options: torch.Tensor, noise: torch.Tensor,
                 input_noise: torch.Tensor) -> torch.Tensor:
    """Inputs (time, ensemble, trials, N_INPUTS) from options (ensemble, trials, 2) and unit
    noise (time, ensemble, trials, N_INPUTS) scaled by input_noise (ensemble,)."""
    T = settings.steps
    hold = settings.fixation_steps + settings.stimulus_steps
    p_code = OPTION_LOGP if settings.p_encoding == "log" else OPTION_P
    p = torch.as_tensor(p_code, dtype=torch.float32)[options]           # (E, B, 2)
    lm = torch.as_tensor(OPTION_LOGMAG, dtype=torch.float32)[options]   # (E, B, 2)
    stim = torch.stack([p[..., 0], lm[..., 0], p[..., 1], lm[..., 1]], dim=-1)  # (E, B, 4)
    E, B = options.shape[:2]
    x = torch.zeros(T, E, B, N_INPUTS)
    x[:hold, :, :, 0] = 1.0                              # fixation cue until the decision epoch
    x[settings.fixation_steps:, :, :, 1:] = stim         # options from the stimulus epoch on
    return x + input_noise.view(1, E, 1, 1) * noise


@dataclass
class Outcome:
    """What happened in each trial, from the actions sampled at every step.

    Shapes: mask and rewards (time, ensemble, trials); the rest (ensemble, trials).
    choice: -1 no choice (aborted or timed out), 0 left, 1 right. reaction_step: steps into the
    decision epoch at the choice (-1 without a choice). end_step: last valid step.
    """

    mask: torch.Tensor
    rewards: torch.Tensor
    end_step: torch.Tensor
    aborted: torch.Tensor
    no_choice: torch.Tensor
    choice: torch.Tensor
    reaction_step: torch.Tensor
    payoff: torch.Tensor


def resolve(settings: TaskSettings, actions: torch.Tensor, options: torch.Tensor,
            outcome_u: torch.Tensor, abort_penalty: torch.Tensor,
            no_choice_penalty: torch.Tensor, step_cost: torch.Tensor) -> Outcome:
    """Apply the task's rules to actions (time, ensemble, trials) sampled at every step.

    The trial ends at the first non-FIXATE action (or at the last step); steps after the end
    are invalid (mask 0). Penalties are per network, shape (ensemble,).
    """
    T, E, B = actions.shape
    hold = settings.fixation_steps + settings.stimulus_steps
    acted = actions != FIXATE
    before = (acted.cumsum(dim=0) == 0).sum(dim=0)   # (E, B) steps before the first action
    any_act = before < T
    end_step = before.clamp(max=T - 1)                # the first action, else the last step
    steps = torch.arange(T).view(T, 1, 1)
    mask = (steps <= end_step.unsqueeze(0)).float()                     # (T, E, B)
    final_action = actions.gather(0, end_step.unsqueeze(0)).squeeze(0)  # (E, B)
    aborted = any_act & (end_step < hold)
    chose = any_act & (end_step >= hold)
    no_choice = ~any_act
    choice = torch.where(chose, final_action - 1, torch.full_like(final_action, -1))
    chosen_option = options.gather(-1, choice.clamp(min=0).unsqueeze(-1)).squeeze(-1)  # (E, B)
    p = torch.as_tensor(OPTION_P, dtype=torch.float32)[chosen_option]
    m = torch.as_tensor(OPTION_MAGNITUDE, dtype=torch.float32)[chosen_option]
    win = outcome_u < p
    payoff = torch.where(chose, torch.where(win, m, torch.zeros_like(m)), torch.zeros_like(m))
    payoff = payoff + torch.where(aborted, abort_penalty.view(E, 1), torch.zeros_like(m))
    payoff = payoff + torch.where(no_choice, no_choice_penalty.view(E, 1), torch.zeros_like(m))
    rewards = -step_cost.view(1, E, 1) * mask
    rewards = rewards + (steps == end_step.unsqueeze(0)).float() * payoff.unsqueeze(0)
    reaction = torch.where(chose, end_step - hold, torch.full_like(end_step, -1))
    return Outcome(mask=mask, rewards=rewards, end_step=end_step, aborted=aborted,
                   no_choice=no_choice, choice=choice, reaction_step=reaction, payoff=payoff)


def return_to_go(rewards: torch.Tensor) -> torch.Tensor:
    """G_t = sum_{s >= t} r_s along the time axis (dim 0); no discount inside a trial."""
    return rewards.flip(0).cumsum(0).flip(0)
