import numpy as np
import torch

from pyrl_mini import tasks
from pyrl_mini.config import TaskSettings


def test_option_grid_has_equal_ev_columns():
    p, m = tasks.option_grid()
    ev = (p * m).reshape(5, 5)       # rows: p, columns: EV
    assert np.allclose(ev, ev[0:1, :])
    assert np.allclose(ev[0], np.array([1.0, 1.375, 1.75, 2.125, 2.5]) / 2.5)
    assert np.isclose(m.min(), 0.4 / 0.9) and np.isclose(m.max(), 10.0)
    assert tasks.OPTION_LOGMAG.min() == 0 and tasks.OPTION_LOGMAG.max() == 1


def _resolve(actions, options, u, settings=None):
    settings = settings or TaskSettings()
    one = torch.ones(1)
    return tasks.resolve(settings, actions, options, u, settings.abort_penalty * one,
                         settings.no_choice_penalty * one, settings.step_cost * one)


def test_empirical_payoff_matches_p_times_magnitude():
    s = TaskSettings()
    T, hold = s.steps, s.fixation_steps + s.stimulus_steps
    n = 20000
    g = torch.Generator().manual_seed(0)
    for option in (0, 7, 24):
        options = torch.tensor([option, (option + 1) % 25]).repeat(1, n, 1)   # (1, n, 2)
        actions = torch.zeros(T, 1, n, dtype=torch.long)
        actions[hold] = tasks.CHOOSE_LEFT
        out = _resolve(actions, options, torch.rand(1, n, generator=g))
        mean = out.payoff.mean().item()
        ev = tasks.OPTION_EV[option]
        p = tasks.OPTION_P[option]
        se = tasks.OPTION_MAGNITUDE[option] * np.sqrt(p * (1 - p) / n)
        assert abs(mean - ev) < 4 * se, (option, mean, ev)


def test_abort_choice_and_timeout_rules():
    s = TaskSettings(step_cost=0.01)
    T, hold = s.steps, s.fixation_steps + s.stimulus_steps
    options = torch.tensor([[[24, 0], [24, 0], [24, 0], [24, 0]]])      # (1, 4, 2)
    actions = torch.zeros(T, 1, 4, dtype=torch.long)
    actions[1, 0, 0] = tasks.CHOOSE_RIGHT        # trial 0: abort in fixation
    actions[hold - 1, 0, 1] = tasks.CHOOSE_LEFT  # trial 1: abort in the last stimulus step
    actions[hold + 2, 0, 2] = tasks.CHOOSE_LEFT  # trial 2: choice in decision
    # trial 3: fixates to the end
    out = _resolve(actions, options, torch.zeros(1, 4), s)  # u = 0 < p: choices win
    assert out.aborted.tolist() == [[True, True, False, False]]
    assert out.no_choice.tolist() == [[False, False, False, True]]
    assert out.choice.tolist() == [[-1, -1, 0, -1]]
    assert out.reaction_step.tolist() == [[-1, -1, 2, -1]]
    assert out.end_step.tolist() == [[1, hold - 1, hold + 2, T - 1]]
    assert out.mask[:, 0, 0].sum() == 2 and out.mask[:, 0, 3].sum() == T
    m = tasks.OPTION_MAGNITUDE[24]
    expected_total = [-0.5 - 2 * 0.01, -0.5 - hold * 0.01, m - (hold + 3) * 0.01, -0.5 - T * 0.01]
    assert np.allclose(out.rewards.sum(0)[0].numpy(), expected_total, atol=1e-5)
    G = tasks.return_to_go(out.rewards)
    assert np.isclose(G[0, 0, 2].item(), expected_total[2], atol=1e-5)


def test_inputs_follow_epochs():
    s = TaskSettings(input_noise=0.0)
    options = torch.tensor([[[3, 20]]])
    x = tasks.build_inputs(s, options, torch.zeros(s.steps, 1, 1, 5), torch.zeros(1))
    hold = s.fixation_steps + s.stimulus_steps
    assert torch.all(x[:hold, 0, 0, 0] == 1) and torch.all(x[hold:, 0, 0, 0] == 0)
    assert torch.all(x[: s.fixation_steps, 0, 0, 1:] == 0)
    assert np.isclose(x[s.fixation_steps, 0, 0, 1].item(), tasks.OPTION_LOGP[3])
    assert np.isclose(x[-1, 0, 0, 4].item(), tasks.OPTION_LOGMAG[20])


def test_draws_give_distinct_options():
    o, noise, u = tasks.draw_trials(TaskSettings(), 5000, torch.Generator().manual_seed(1))
    assert torch.all(o[:, 0] != o[:, 1])
    assert set(o.flatten().tolist()) == set(range(25))
