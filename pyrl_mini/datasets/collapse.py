"""The frequency datasets: how often runs collapse, on 20 independent seeds per compared cell.

Every frequency the collection states ("k of n runs trapped") rests on these. Their names say
what they vary: collapse_<axis>. Each trains 20 seeds per cell that the older, smaller datasets
never used. Within a dataset, and across the family of datasets linked by `paired_with` (every
one on seeds 2000-2019 names collapse_kappa), cells share their seeds on purpose: the same seed
gives the same initial weights and the same trials, so two settings can be compared run by run
with an exact paired test (McNemar).

collapse_kappa    kappa -0.4 / 0 / +0.4 at the default settings (entropy_coef 0).
collapse_entropy  the same kappas with entropy_coef 0.01 and 0.05: with collapse_kappa, the
                  kappa x entropy_coef grid (entropy 0 / 0.01 / 0.05).
collapse_lr       kappa -0.4 / +0.4 at policy lr 0.003 and 0.03 (lr 0.01 is collapse_kappa).
collapse_wout     W_out std 0.01 / 0.5 / 2.0 at kappa 0, entropy_coef 0 and 0.05 (std 0.05, the
                  default, is collapse_kappa's and collapse_entropy's kappa-0 cells).
collapse_fixes    the fast-collapse setting (policy lr 0.03, kappa -0.4, 250 updates) and each
                  alternative fix of notebook 04 as one change of it, on seeds of its own.
collapse_fixes_slow  the same fixes at the default settings, kappa -0.4, 800 updates; its
                  control and entropy bonus are collapse_kappa's and collapse_entropy's cells.
collapse_optimizer  Adam with eps 0.01 and plain SGD (lr 1) at kappa 0: do units die because
                  of Adam? (default Adam: collapse_kappa's kappa-0 cell)
collapse_readout  the SimpleRNN with a relu or a tanh readout, kappa 0, seeds of its own.

Length. 800 updates for the default learning rate: in nb00_main_grid (1000 updates, 45 runs) 44 runs
were already collapsed or not at update 300 as they were at update 1000, so 800 leaves the
verdict settled with room to spare. The fast-collapse setting falls within ~20 updates, so 250.

Cost (one core, this trainer): about 40 network-updates per second at the default settings;
collapse_kappa took 28 minutes of wall time on 2 busy cores.
"""

from ..registry import register
from ..sweep import SweepSpec
from .nb04_entropy_fix import (
    _DEFAULTS,
    _FAST_DEFAULTS,
    FAST_BASE,
    FAST_VARIANTS,
    VARIANTS,
    VariantSpec,
    variant_grid,
)

SEEDS = tuple(range(2000, 2020))      # collapse_kappa and the datasets paired with it
FIX_SEEDS = tuple(range(3000, 3020))  # collapse_fixes (a different setting: not paired)
UPDATES = 800
KAPPAS = (-0.4, 0.0, 0.4)

COLLAPSE_KAPPA = register(SweepSpec(
    name="collapse_kappa",
    base={"updates": UPDATES},
    grid={"kappa": KAPPAS},
    seeds=SEEDS,
    stride=10,
    chunk=12,
), frequency_claims=True)

ENTROPY_COEFS = (0.01, 0.05)

COLLAPSE_ENTROPY = register(SweepSpec(
    name="collapse_entropy",
    base={"updates": UPDATES},
    grid={"kappa": KAPPAS, "entropy_coef": ENTROPY_COEFS},
    seeds=SEEDS,
    stride=10,
    chunk=12,
), frequency_claims=True, paired_with=("collapse_kappa",))

LEARNING_RATES = (0.003, 0.03)

COLLAPSE_LR = register(SweepSpec(
    name="collapse_lr",
    base={"updates": UPDATES},
    grid={"kappa": (-0.4, 0.4), "lr": LEARNING_RATES},
    seeds=SEEDS,
    stride=10,
    chunk=12,
), frequency_claims=True, paired_with=("collapse_kappa",))

WOUT_STDS = (0.01, 0.5, 2.0)

COLLAPSE_WOUT = register(SweepSpec(
    name="collapse_wout",
    base={"updates": UPDATES, "kappa": 0.0},
    grid={"wout_std": WOUT_STDS, "entropy_coef": (0.0, 0.05)},
    seeds=SEEDS,
    stride=10,
    chunk=12,
), frequency_claims=True, paired_with=("collapse_kappa",))

# notebook 04's fast-collapse comparison (nb04_fixes_fast: 5 seeds) on 20 seeds of its own, with the
# logit cap (nb04_fixes_fast_logit_cap) as one more variant
FIX_VARIANTS = {**FAST_VARIANTS, "logit cap 2": {"logit_cap": 2.0}}
_FIX_DEFAULTS = {**_FAST_DEFAULTS, "logit_cap": 0.0}

COLLAPSE_FIXES = register(VariantSpec(
    name="collapse_fixes",
    base=FAST_BASE,
    grid=variant_grid(FIX_VARIANTS, tuple(_FIX_DEFAULTS), _FIX_DEFAULTS),
    seeds=FIX_SEEDS,
    stride=5,
    chunk=10,
), frequency_claims=True)

# notebook 04's comparison at the default learning rate (fixes: 3 seeds) on the collapse_kappa
# seeds: its control and the entropy bonus are collapse_kappa's and collapse_entropy's kappa
# -0.4 cells (same seeds, same 800 updates), so every variant pairs with them run by run
SLOW_VARIANTS = {**VARIANTS, "logit cap 2": {"logit_cap": 2.0}}
_SLOW_DEFAULTS = {**_DEFAULTS, "logit_cap": 0.0}

COLLAPSE_FIXES_SLOW = register(VariantSpec(
    name="collapse_fixes_slow",
    base={"updates": UPDATES, "kappa": -0.4, "kappa_step": 0.05, "kappa_step_updates": 50},
    grid=variant_grid(SLOW_VARIANTS, tuple(_SLOW_DEFAULTS), _SLOW_DEFAULTS),
    seeds=SEEDS,
    stride=10,
    chunk=12,
), frequency_claims=True, paired_with=("collapse_kappa",))

# notebook 01's optimiser question on 20 seeds: do units die under Adam because of its
# per-weight normalisation? Adam with eps 0.01 (a matched effective step, see
# nb01_dead_neurons.ADAM_EPS) and plain SGD at lr 1, kappa 0; default Adam is collapse_kappa's
# kappa-0 cell (same seeds, same 800 updates). Dead and dormant fractions are in every run's
# history.
OPTIMIZER_VARIANTS = {
    "Adam eps 0.01": {"policy_adam_eps": 0.01},
    "SGD lr 1": {"policy_optimizer": "sgd", "lr": 1.0},
}
_OPT_DEFAULTS = {"policy_optimizer": "adam", "lr": 0.01, "policy_adam_eps": 1e-8}

COLLAPSE_OPTIMIZER = register(VariantSpec(
    name="collapse_optimizer",
    base={"updates": UPDATES, "kappa": 0.0},
    grid=variant_grid(OPTIMIZER_VARIANTS, tuple(_OPT_DEFAULTS), _OPT_DEFAULTS),
    seeds=SEEDS,
    stride=10,
    chunk=10,
), frequency_claims=True, paired_with=("collapse_kappa",))

# notebook 01's SimpleRNN: its dynamics use relu rates, but upstream's policy reads tanh(x)
# (the "mismatch"); does the mismatched readout learn less often than a consistent relu one?
# kappa 0, 20 seeds of its own (another network: nothing to pair with).
READOUT_SEEDS = tuple(range(5000, 5020))

COLLAPSE_READOUT = register(SweepSpec(
    name="collapse_readout",
    base={"updates": UPDATES, "kappa": 0.0, "network_type": "simple"},
    grid={"readout_rate": ("relu", "tanh")},
    seeds=READOUT_SEEDS,
    stride=10,
    chunk=10,
), frequency_claims=True)


def variant_rows(d, spec: VariantSpec, variants: dict, label: str):
    """Rows of d (spec's runs) of the variant `label` of `variants` (the dict spec was made
    from, e.g. FIX_VARIANTS for COLLAPSE_FIXES), ordered by seed."""
    return spec.rows_of(d, list(variants).index(label))
