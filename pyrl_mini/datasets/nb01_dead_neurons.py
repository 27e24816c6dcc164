"""Notebook 01 (dead ReLU units): per-unit dead flags over training, recorded every 10 updates.

Three sweeps, 600 updates of 256 trials each, seeds (0, 1) shared by every cell, so a kappa,
readout or learning-rate comparison at one seed is paired (same initial weights and trials):

- nb01_simple: SimpleRNN (relu dynamics), readout relu(x) or tanh(x) (the upstream mismatch)
  x kappa (-0.4, 0, 0.4) x entropy_coef (0, 0.05).
- nb01_gru: pyrl GRU (rates relu(x)) x kappa (-0.4, 0, 0.4) x entropy_coef (0, 0.05).
- nb01_lr: the controlled change: policy learning rate 0.001 or 0.1 (the other sweeps use
  0.01) for the GRU and the SimpleRNN (relu readout), kappa 0, entropy_coef 0.
- nb01_rates: the GRU with rate function tanh or softplus (instead of pyrl's relu) x kappa
  (-0.4, 0, 0.4), entropy_coef 0; paired by seed and kappa with nb01_gru's entropy_coef 0 runs.
- nb01_sgd: the GRU trained with plain SGD on the policy (step = lr * gradient, so kappa's
  scaling of the advantages reaches the step, which Adam's normalisation cancels) at lr 1 and
  3 x kappa (-0.4, 0, 0.4), entropy_coef 0; paired by seed and kappa with nb01_gru.
- nb01_adam_eps: the GRU with Adam's eps raised from 1e-8 to 0.01 at lr 0.01 (see below),
  kappa (-0.4, 0, 0.4), entropy_coef 0; paired by seed and kappa with nb01_gru and nb01_sgd.

About 780 s of one core in all (about 18 ms per SimpleRNN update, 23 ms per GRU update).
"""

from ..registry import register
from ..sweep import SweepSpec

KAPPAS = (-0.4, 0.0, 0.4)
ENTROPY_COEFS = (0.0, 0.05)
SEEDS = (0, 1)
UPDATES = 600

SIMPLE = register(SweepSpec(
    name="nb01_simple",
    base={"updates": UPDATES, "network_type": "simple"},
    grid={"readout_rate": ("relu", "tanh"), "kappa": KAPPAS, "entropy_coef": ENTROPY_COEFS},
    seeds=SEEDS, stride=10, chunk=6, record_units=True,
))

GRU = register(SweepSpec(
    name="nb01_gru",
    base={"updates": UPDATES, "network_type": "gru"},
    grid={"kappa": KAPPAS, "entropy_coef": ENTROPY_COEFS},
    seeds=SEEDS, stride=10, chunk=6, record_units=True,
))

LEARNING_RATE = register(SweepSpec(
    name="nb01_lr",
    base={"updates": UPDATES, "kappa": 0.0, "entropy_coef": 0.0, "readout_rate": "relu"},
    grid={"network_type": ("gru", "simple"), "lr": (0.001, 0.1)},
    seeds=SEEDS, stride=10, chunk=4, record_units=True,
))

RATES = register(SweepSpec(
    name="nb01_rates",
    base={"updates": UPDATES, "network_type": "gru", "entropy_coef": 0.0},
    grid={"rate_function": ("tanh", "softplus"), "kappa": KAPPAS},
    seeds=SEEDS, stride=10, chunk=6, record_units=True,
))

SGD_LRS = (1.0, 3.0)

SGD = register(SweepSpec(
    name="nb01_sgd",
    base={"updates": UPDATES, "network_type": "gru", "entropy_coef": 0.0,
          "policy_optimizer": "sgd"},
    grid={"lr": SGD_LRS, "kappa": KAPPAS},
    seeds=SEEDS, stride=10, chunk=6, record_units=True,
))

# Adam with a large eps: its step lr * m / (sqrt(v) + eps) is about (lr / eps) * m for every
# weight whose gradient is much smaller than eps, and about lr for gradients much larger. At
# lr = eps = 0.01 the small-gradient weights step like SGD at lr / eps = 1 (nb01_sgd's lr that
# learns) and the large-gradient ones like default Adam at lr 0.01 (nb01_gru): the matched
# effective step size. kappa (-0.4, 0, 0.4) x seeds (0, 1), paired with both. About 90 s of one
# core.
ADAM_EPS = 0.01

ADAM_EPS_SWEEP = register(SweepSpec(
    name="nb01_adam_eps",
    base={"updates": UPDATES, "network_type": "gru", "entropy_coef": 0.0, "lr": ADAM_EPS,
          "policy_adam_eps": ADAM_EPS},
    grid={"kappa": KAPPAS},
    seeds=SEEDS, stride=10, chunk=6, record_units=True,
))
