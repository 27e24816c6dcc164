import warnings

import numpy as np
import pytest
import torch

from pyrl_mini import analysis
from pyrl_mini.config import SettingsError, TrainSettings
from pyrl_mini.io import load_history, save_history
from pyrl_mini.trainer import DIAGNOSTICS, Ensemble, train

SMALL = TrainSettings(updates=12, batch_size=32, network={"units": 16, "baseline_units": 8})


def test_log_softmax_gradient_is_onehot_minus_pi():
    logits = torch.tensor([0.3, -1.2, 2.0], requires_grad=True)
    for a in range(3):
        logits.grad = None
        torch.log_softmax(logits, -1)[a].backward()
        pi = torch.softmax(logits.detach(), -1)
        assert torch.allclose(logits.grad, torch.nn.functional.one_hot(torch.tensor(a), 3) - pi)


def test_history_has_every_diagnostic_with_shape():
    r = train([SMALL, SMALL.replace(seed=1)], progress=False)
    for name in DIAGNOSTICS:
        assert r.history[name].shape == (12, 2), name
    assert np.all(np.isfinite(r.history["grad_norm"]))
    assert np.all((r.history["entropy"] > 0) & (r.history["entropy"] <= np.log(3) + 1e-5))


def test_same_seed_same_history_and_other_seed_differs():
    a = train(SMALL, progress=False).history
    b = train(SMALL, progress=False).history
    c = train(SMALL.replace(seed=5), progress=False).history
    for name in DIAGNOSTICS:
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.allclose(a["grad_norm"], c["grad_norm"])


def test_network_in_ensemble_equals_network_alone():
    members = [SMALL.replace(seed=s, kappa=k, entropy_coef=e, lr=lr)
               for s, k, e, lr in [(3, -0.3, 0.0, 0.01), (4, 0.2, 0.05, 0.003),
                                   (5, 0.0, 0.0, 0.02)]]
    ens = train(members, progress=False)
    for k, s in enumerate(members):
        alone = train(s, progress=False)
        for name in ("reward", "entropy", "grad_norm", "adv_mean", "logp_mean"):
            np.testing.assert_allclose(ens.history[name][:, k], alone.history[name][:, 0],
                                       rtol=1e-4, atol=1e-5, err_msg=name)
        for name, p in alone.params.items():
            torch.testing.assert_close(ens.params[name][k], p[0], rtol=1e-4, atol=1e-5)


def test_wout_zero_starts_uniform_and_is_exactly_zero():
    ens = Ensemble([SMALL.replace(wout_std=0.0)])
    assert torch.count_nonzero(ens.params["W_out"]) == 0
    r = train(SMALL.replace(wout_std=0.0, updates=1), progress=False)
    assert r.history["entropy"][0, 0] == pytest.approx(np.log(3), abs=1e-5)


def test_kappa_changes_the_update():
    a = train(SMALL.replace(kappa=-0.5), progress=False).history["grad_norm"]
    b = train(SMALL.replace(kappa=0.5), progress=False).history["grad_norm"]
    assert a[0, 0] != b[0, 0]


def test_ensemble_members_must_share_shapes():
    with pytest.raises(SettingsError, match="batch_size"):
        train([SMALL, SMALL.replace(batch_size=16)], progress=False)
    with pytest.raises(SettingsError, match="units"):
        train([SMALL, SMALL.replace(units=8)], progress=False)


def test_non_finite_stops_one_network_and_keeps_others():
    bad = SMALL.replace(lr=1e30, seed=2, updates=30, grad_clip=0.0)
    good = SMALL.replace(seed=3, updates=30)
    with pytest.warns(RuntimeWarning, match=r"network 0 .* stopped at update \d+"):
        r = train([bad, good], progress=False)
    stop = r.stopped_at[0]
    assert 0 <= stop < 30 and r.stopped_at[1] == -1
    assert np.all(np.isnan(r.history["reward"][stop:, 0]))
    assert np.all(np.isfinite(r.history["reward"][:, 1]))
    # the behaviour mode, labelled when training ends: NaN once stopped, a label elsewhere
    assert np.all(np.isnan(r.history["mode"][stop:, 0]))
    assert np.all(np.isfinite(r.history["mode"][:stop, 0]))
    assert np.all(np.isfinite(r.history["mode"][:, 1]))
    assert r.updates_done == 30


def test_keyboard_interrupt_returns_history_so_far(tmp_path):
    def interrupt(update, row):
        if update == 4:
            raise KeyboardInterrupt

    with pytest.warns(RuntimeWarning, match="interrupted after 5 of 12"):
        r = train(SMALL, progress=False, callback=interrupt)
    assert r.interrupted and r.updates_done == 5
    full = train(SMALL, progress=False)
    np.testing.assert_array_equal(r.history["reward"], full.history["reward"][:5])
    # with a callback the mode is labelled update by update, without one at the end: the same
    np.testing.assert_array_equal(r.history["mode"], full.history["mode"][:5])
    saved = load_history(save_history(tmp_path / "h.npz", r))
    np.testing.assert_array_equal(saved["history"]["reward"], r.history["reward"])
    assert saved["interrupted"] and saved["settings"][0] == SMALL


def test_gradient_clipping_bounds_the_step_not_the_record():
    r = train(SMALL.replace(grad_clip=1e-3), progress=False)
    # the recorded norm is before clipping, so it exceeds the clip and says it was clipped
    assert np.all(r.history["grad_norm"] > 1e-3)
    assert np.all(r.history["clipped"] == 1)


def test_dead_units_counted_on_valid_steps():
    from pyrl_mini.diagnostics import dead_and_dormant as _unit_stats
    rates = torch.zeros(4, 1, 2, 3)
    rates[0, 0, 0, 0] = 1.0          # unit 0 fires on a valid step
    rates[3, 0, 1, 1] = 1.0          # unit 1 fires only after trial 1 ended
    mask = torch.ones(4, 1, 2)
    mask[3, 0, 1] = 0
    dead, dormant = _unit_stats(rates, mask)
    assert dead.tolist() == [[False, True, True]]
    assert dormant.item() == pytest.approx(2 / 3)


def test_collapse_modes():
    m = analysis.behaviour_mode(
        abort_rate=[0.0, 0.95, 0.0, 0.01, 0.3],
        no_choice_rate=[0.97, 0.0, 0.0, 0.0, 0.1],
        choice_rate=[0.03, 0.05, 1.0, 0.99, 0.6],
        left_rate=[0.5, 0.5, 0.99, 0.5, 0.5],
        higher_ev_rate=[0.5, 0.5, 0.5, 0.9, 0.6])
    assert [analysis.MODES[i] for i in m] == [
        "never_chooses", "always_aborts", "one_side", "converged", "learning"]


def test_report_has_the_upstream_sections():
    r = train(SMALL, progress=False)
    text = analysis.report(r.history, 3)
    for section in ("Policy Entropy:", "Gradient Statistics:", "Total norm:",
                    "Log-probabilities:", "Advantage (delta_prime):", "Positive:", "Mode:"):
        assert section in text


def test_gradual_kappa_schedule_is_recorded():
    r = train(SMALL.replace(kappa=-0.2, kappa_schedule="gradual", kappa_step_updates=4,
                            kappa_step=0.1), progress=False)
    np.testing.assert_allclose(r.history["kappa"][:, 0],
                               [0] * 4 + [-0.1] * 4 + [-0.2] * 4, atol=1e-6)


@pytest.mark.slow
def test_default_gru_learns_the_gambling_task():
    """kappa = 0, default settings: abort < 5 % and higher-EV > 80 % (running mean of 20
    updates) within 2,000 updates in at least 2 of 3 seeds. Stops once two have."""
    members = [TrainSettings(updates=2000, seed=s) for s in range(3)]
    window = 20
    abort = [[] for _ in members]
    hev = [[] for _ in members]
    reached = {}

    def watch(update, row):
        for k in range(len(members)):
            abort[k].append(row["abort_rate"][k])
            hev[k].append(np.nan_to_num(row["higher_ev_rate"][k]))
            if k not in reached and update >= window - 1:
                if (np.mean(abort[k][-window:]) < 0.05 and np.mean(hev[k][-window:]) > 0.8):
                    reached[k] = update
        if len(reached) >= 2:
            raise KeyboardInterrupt  # train() returns what it has; we are done

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        r = train(members, progress=False, callback=watch)
    assert len(reached) >= 2, f"only {reached} reached the criterion in {r.updates_done} updates"
    # the trainer's own criterion agrees with this test's bookkeeping
    found = analysis.updates_to_criterion(r.history)
    for k, u in reached.items():
        assert found[k] == u


@pytest.mark.parametrize("phi", ["tanh", "softplus"])
def test_smooth_rate_functions_have_no_dead_units(phi):
    r = train(SMALL.replace(rate_function=phi, seed=3), progress=False)
    assert np.all(r.history["dead_fraction"] == 0)
    relu = train(SMALL.replace(seed=3), progress=False)
    assert not np.allclose(r.history["grad_norm"], relu.history["grad_norm"])


def test_rate_function_is_validated():
    with pytest.raises(SettingsError, match="rate_function='sigmoid'"):
        TrainSettings().replace(rate_function="sigmoid")


def test_logit_cap_bounds_every_probability_and_zero_means_off():
    from pyrl_mini.trainer import cap_logits, max_probability

    logits = torch.tensor([[3.0, 0.0, -3.0], [0.5, -0.2, 0.1]]).view(1, 2, 1, 3)
    capped = cap_logits(logits, torch.tensor([2.0, 0.0]))
    # network 0 capped into (-2, 2); network 1 (cap 0) untouched, bit for bit
    assert capped[0, 0].abs().max() < 2.0
    assert torch.equal(capped[0, 1], logits[0, 1])
    # the bound on the probability: approached by extreme logits, never passed
    p = torch.softmax(capped[0, 0, 0], -1)[0].item()
    assert 0.8 < p < max_probability(2.0, 3) < 0.9647
    huge = cap_logits(torch.tensor([1e4, -1e4, -1e4]).view(1, 1, 1, 3), torch.tensor([2.0]))
    p = torch.softmax(huge[0, 0, 0], -1)[0].item()
    assert p == pytest.approx(max_probability(2.0, 3), rel=1e-5)
    assert max_probability(0.0, 3) == 1.0
    # small logits are nearly unchanged (tanh(z) ~ z)
    small = torch.tensor([0.01, -0.02, 0.0]).view(1, 1, 1, 3)
    assert torch.allclose(cap_logits(small, torch.tensor([3.0])), small, atol=1e-6)


def test_logit_cap_member_trains_and_uncapped_member_is_unchanged():
    capped = SMALL.replace(logit_cap=1.0)
    alone = train(SMALL, progress=False).history
    both = train([SMALL, capped], progress=False).history
    for name in ("reward", "entropy", "grad_norm", "max_prob"):
        np.testing.assert_allclose(both[name][:, 0], alone[name][:, 0], rtol=1e-4, atol=1e-5,
                                   err_msg=name)
    bound = 1.0 / (1.0 + 2.0 * np.exp(-2.0))
    assert np.all(both["max_prob"][:, 1] <= bound + 1e-6)
    assert not np.allclose(both["entropy"][:, 0], both["entropy"][:, 1])


def test_logit_cap_is_validated():
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(SettingsError, match="logit_cap"):
            TrainSettings(logit_cap=bad)


def test_sgd_policy_step_is_lr_times_the_gradient():
    s = SMALL.replace(policy_optimizer="sgd", lr=0.5, updates=1)
    ens = Ensemble([s])
    before = {k: v.clone() for k, v in ens.params.items()}
    ro = ens.rollout(s.batch_size, torch.tensor([s.kappa]))
    (ro["policy_loss"].sum() + ro["baseline_loss"].sum()).backward()
    norm = torch.sqrt(sum((p.grad ** 2).sum() for p in ens.params.values())).item()
    assert norm < s.grad_clip  # no clipping in this check
    after = train(s, progress=False).params
    for name, p in ens.params.items():
        torch.testing.assert_close(after[name], before[name] - s.lr * p.grad,
                                   rtol=1e-4, atol=1e-6)


def test_sgd_member_leaves_adam_members_unchanged():
    adam, sgd = SMALL, SMALL.replace(policy_optimizer="sgd", lr=1.0)
    alone = train(adam, progress=False).history
    both = train([adam, sgd], progress=False).history
    np.testing.assert_allclose(both["reward"][:, 0], alone["reward"][:, 0], rtol=1e-4, atol=1e-5)
    assert not np.allclose(both["grad_norm"][:, 0], both["grad_norm"][:, 1])
    with pytest.raises(SettingsError, match="policy_optimizer='sdg'.*Did you mean 'sgd'"):
        SMALL.replace(policy_optimizer="sdg")


def test_large_adam_eps_steps_like_sgd_at_lr_over_eps():
    """Adam's first step is lr * g / (|g| + eps); with eps >> |g| that is (lr / eps) * g."""
    sgd = SMALL.replace(policy_optimizer="sgd", lr=0.5, updates=1)
    adam = SMALL.replace(policy_adam_eps=1e5, lr=0.5e5, updates=1)
    plain = SMALL.replace(updates=1)
    out = train([sgd, adam, plain], progress=False).params
    start = Ensemble([SMALL]).params
    for name in out:
        torch.testing.assert_close(out[name][1], out[name][0], rtol=1e-3, atol=1e-6)
    # the default eps is Adam's usual 1e-8: its first step is about lr for every weight
    moved = (out["W_rec"][2] - start["W_rec"][0].detach()).abs()
    assert moved.max() <= plain.lr * 1.001 and moved.median() > 0.5 * plain.lr
    with pytest.raises(SettingsError, match="policy_adam_eps"):
        SMALL.replace(policy_adam_eps=0.0)


def test_wout_std_zero_keeps_the_later_draws_paired():
    zero, small = Ensemble([SMALL.replace(wout_std=0.0)]), Ensemble([SMALL.replace(wout_std=0.01)])
    assert torch.count_nonzero(zero.params["W_out"]) == 0
    assert not torch.signbit(zero.params["W_out"]).any()  # +0, not -0
    for name, p in zero.params.items():
        if name != "W_out":
            assert torch.equal(p, small.params[name]), name
    for name, p in zero.baseline_params.items():
        assert torch.equal(p, small.baseline_params[name]), name
    for a, b in zip(zero.draw(8), small.draw(8), strict=True):
        assert torch.equal(a, b)


def test_entropy_bonus_switched_on_at_entropy_start_leaves_the_run_before_it_unchanged():
    """A bonus that starts at update 3 gives the same first 3 updates as no bonus, to the
    bit (its weight is 0 before), and a different update 3."""
    s = TrainSettings(updates=5, batch_size=32, seed=7).replace(units=16, baseline_units=8)
    without = train(s, progress=False)
    late = train(s.replace(entropy_coef=0.5, entropy_start=3), progress=False)
    for key in ("entropy", "grad_norm", "reward"):
        np.testing.assert_array_equal(late.history[key][:3], without.history[key][:3])
    assert not np.array_equal(late.history["grad_norm"][3:], without.history["grad_norm"][3:])
    assert s.replace(entropy_coef=0.5, entropy_start=3).entropy_coef_at(2) == 0.0
    with pytest.raises(SettingsError, match="entropy_start=-1 must be a whole number"):
        s.replace(entropy_start=-1)
