"""The memory a training run plans to hold, counted per network (config.check_memory uses it).

For each network of an ensemble, train() holds:
  - its weights (policy and baseline), their gradients, Adam's two moments per weight, the
    flat per-network copies of the gradients the trainer clips and steps with, and the
    temporaries of those steps: POLICY_PARAM_BYTES and BASELINE_PARAM_BYTES per weight;
  - the rollout of one update kept for the backward pass, for the policy and the baseline
    (states, rates, gates, noise, logits): ROLLOUT_BYTES per trial, time step and unit;
  - the history: HISTORY_DIAGNOSTICS float32 numbers per update.
tests/test_memory.py trains a few shapes in fresh processes, on both code paths, and checks
planned >= measured growth of peak resident memory, and planned <= 4 x measured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import TrainSettings

# Bytes per weight and per trial-step-unit, from the peak resident memory of runs of 12-40
# updates (tests/test_memory.py's shapes and a few larger; 2026-12-06), rounded up by about
# 20 % for the run-to-run spread of the allocator (a few %): a policy weight costs more (97-105
# bytes measured: its gradient is also copied to float64 for the per-group norms) than a
# baseline weight (56-70). The rollout: 98-104 bytes on the plain path (autograd keeps every
# step's tensors), about 63 on the fast path; the plan takes the plain path's.
POLICY_PARAM_BYTES = 128
BASELINE_PARAM_BYTES = 80
ROLLOUT_BYTES = 128
HISTORY_DIAGNOSTICS = 27  # per-update diagnostics recorded (trainer.DIAGNOSTICS), float32


def parameter_count(s: TrainSettings) -> tuple[int, int]:
    """(policy, baseline) weights of one network, as networks.init_policy / init_baseline
    make them (tests/test_memory.py checks the count against the trainer's tensors)."""
    from .tasks import N_ACTIONS, N_INPUTS  # tasks imports config, which imports this

    def gru_or_simple(gru: bool, n_in: int, n: int, n_out: int) -> int:
        gates = 2 if gru else 0  # the GRU's two gates: input and recurrent weights, biases
        return (1 + gates) * (n_in * n + n * n + n) + n + n * n_out + n_out  # ... + x0 + W_out

    N, M = s.network.units, s.network.baseline_units
    policy = gru_or_simple(s.network.network_type == "gru", N_INPUTS, N, N_ACTIONS)
    baseline = gru_or_simple(True, N + N_ACTIONS, M, 1)  # reads the rates and last action
    return policy, baseline


def network_bytes(s: TrainSettings) -> dict[str, int]:
    """One network's planned bytes by part: weights (with gradients and optimiser state),
    rollout (one update, policy and baseline) and history."""
    units = s.network.units + s.network.baseline_units
    policy, baseline = parameter_count(s)
    return {"weights": policy * POLICY_PARAM_BYTES + baseline * BASELINE_PARAM_BYTES,
            "rollout": s.batch_size * s.task.steps * units * ROLLOUT_BYTES,
            "history": s.updates * HISTORY_DIAGNOSTICS * 4}


def planned_bytes(settings: list[TrainSettings]) -> int:
    """Memory one training run of these networks (an ensemble) plans to hold, in bytes."""
    return sum(sum(network_bytes(s).values()) for s in settings)
