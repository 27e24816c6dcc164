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

# Two independent blocks of 20 seeds each (replication: every frequency is stated on block 1,
# block 2 and both together); within a block, cells share seeds on purpose (paired).
SEED_BLOCKS = (tuple(range(2000, 2020)), tuple(range(2100, 2120)))   # collapse_kappa & co.
SEEDS = SEED_BLOCKS[0] + SEED_BLOCKS[1]
FIX_BLOCKS = (tuple(range(3000, 3020)), tuple(range(3100, 3120)))    # collapse_fixes
UPDATES = 800
KAPPAS = (-0.4, 0.0, 0.4)

COLLAPSE_KAPPA = register(SweepSpec(
    name="collapse_kappa",
    base={"updates": UPDATES},
    grid={"kappa": KAPPAS},
    blocks=SEED_BLOCKS,
    stride=10,
    chunk=12,
), frequency_claims=True,
    about='kappa -0.4 / 0 / +0.4 (800 updates, the default settings)')

ENTROPY_COEFS = (0.01, 0.05)

COLLAPSE_ENTROPY = register(SweepSpec(
    name="collapse_entropy",
    base={"updates": UPDATES},
    grid={"kappa": KAPPAS, "entropy_coef": ENTROPY_COEFS},
    blocks=SEED_BLOCKS,
    stride=10,
    chunk=12,
), frequency_claims=True, paired_with=("collapse_kappa",),
    about='the same kappas x entropy_coef 0.01 / 0.05')

LEARNING_RATES = (0.003, 0.03)

COLLAPSE_LR = register(SweepSpec(
    name="collapse_lr",
    base={"updates": UPDATES},
    grid={"kappa": (-0.4, 0.4), "lr": LEARNING_RATES},
    blocks=SEED_BLOCKS,
    stride=10,
    chunk=12,
), frequency_claims=True, paired_with=("collapse_kappa",),
    about='kappa -0.4 / +0.4 x policy lr 0.003 / 0.03 (0.01 is collapse_kappa)')

WOUT_STDS = (0.01, 0.5, 2.0)

COLLAPSE_WOUT = register(SweepSpec(
    name="collapse_wout",
    base={"updates": UPDATES, "kappa": 0.0},
    grid={"wout_std": WOUT_STDS, "entropy_coef": (0.0, 0.05)},
    blocks=SEED_BLOCKS,
    stride=10,
    chunk=12,
), frequency_claims=True, paired_with=("collapse_kappa",),
    about='W_out std 0.01 / 0.5 / 2 x entropy_coef 0 / 0.05, kappa 0')

# notebook 04's fast-collapse comparison (nb04_fixes_fast: 5 seeds) on 20 seeds of its own, with the
# logit cap (nb04_fixes_fast_logit_cap) as one more variant
FIX_VARIANTS = {**FAST_VARIANTS, "logit cap 2": {"logit_cap": 2.0}}
_FIX_DEFAULTS = {**_FAST_DEFAULTS, "logit_cap": 0.0}

COLLAPSE_FIXES = register(VariantSpec(
    name="collapse_fixes",
    base=FAST_BASE,
    grid=variant_grid(FIX_VARIANTS, tuple(_FIX_DEFAULTS), _FIX_DEFAULTS),
    blocks=FIX_BLOCKS,
    stride=5,
    chunk=10,
), frequency_claims=True,
    about="notebook 04's fixes where runs fall fast (lr 0.03, kappa -0.4, 250 updates)")

# notebook 04's comparison at the default learning rate (fixes: 3 seeds) on the collapse_kappa
# seeds: its control and the entropy bonus are collapse_kappa's and collapse_entropy's kappa
# -0.4 cells (same seeds, same 800 updates), so every variant pairs with them run by run
SLOW_VARIANTS = {**VARIANTS, "logit cap 2": {"logit_cap": 2.0}}
_SLOW_DEFAULTS = {**_DEFAULTS, "logit_cap": 0.0}

COLLAPSE_FIXES_SLOW = register(VariantSpec(
    name="collapse_fixes_slow",
    base={"updates": UPDATES, "kappa": -0.4, "kappa_step": 0.05, "kappa_step_updates": 50},
    grid=variant_grid(SLOW_VARIANTS, tuple(_SLOW_DEFAULTS), _SLOW_DEFAULTS),
    blocks=SEED_BLOCKS,
    stride=10,
    chunk=12,
), frequency_claims=True, paired_with=("collapse_kappa",),
    about='the same fixes at the default lr, kappa -0.4')

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
    blocks=SEED_BLOCKS,
    stride=10,
    chunk=10,
), frequency_claims=True, paired_with=("collapse_kappa",),
    about='Adam eps 0.01, SGD lr 1 (kappa 0)')

# notebook 01's SimpleRNN: its dynamics use relu rates, but upstream's policy reads tanh(x)
# (the "mismatch"); does the mismatched readout learn less often than a consistent relu one?
# kappa 0, 20 seeds of its own (another network: nothing to pair with).
READOUT_BLOCKS = (tuple(range(5000, 5020)), tuple(range(5100, 5120)))

COLLAPSE_READOUT = register(SweepSpec(
    name="collapse_readout",
    base={"updates": UPDATES, "kappa": 0.0, "network_type": "simple"},
    grid={"readout_rate": ("relu", "tanh")},
    blocks=READOUT_BLOCKS,
    stride=10,
    chunk=10,
), frequency_claims=True,
    about="the SimpleRNN's relu / tanh readout")


def variant_rows(d, spec: VariantSpec, variants: dict, label: str):
    """Rows of d (spec's runs) of the variant `label` of `variants` (the dict spec was made
    from, e.g. FIX_VARIANTS for COLLAPSE_FIXES), ordered by seed."""
    return spec.rows_of(d, list(variants).index(label))


# The rescue experiment (notebook 04): runs that are trapped by update 400 get an entropy bonus
# of 0.05 or 0.2 from update 400 on (entropy_start), against the same runs continued without
# it (entropy_coef 0). The three cells of a seed are the same run up to update 400 (a bonus of
# weight 0 before entropy_start) but for the float rounding of the ensemble each trains in
# (their modes at update 400 agree for every seed; notebook 04 checks it), so each rescue is
# compared with its own control. Two settings
# that trap most runs, each in its own modes (measured on the block-1 datasets: W_out std 2
# traps 18 of 20 by update 400, 10 always aborting and 7 on one side; a FIXATE bias of 3 traps
# 15 of 20, 5 never choosing and 9 on one side), with enough seeds for about 20 trapped runs of
# each mode: 40 seeds and 100 seeds, each in two blocks.
RESCUE_START = 400
RESCUE_COEFS = (0.0, 0.05, 0.2)

COLLAPSE_RESCUE_WOUT = register(SweepSpec(
    name="collapse_rescue_wout",
    base={"updates": UPDATES, "kappa": 0.0, "wout_std": 2.0, "entropy_start": RESCUE_START},
    grid={"entropy_coef": RESCUE_COEFS},
    blocks=(tuple(range(6000, 6020)), tuple(range(6020, 6040))),
    stride=10,
    chunk=12,
    mode_at=(RESCUE_START,),
), frequency_claims=True,
    about='the rescue: W_out std 2, kappa 0; entropy_coef 0 / 0.05 / 0.2 from update 400')

COLLAPSE_RESCUE_BIAS = register(SweepSpec(
    name="collapse_rescue_bias",
    base={"updates": UPDATES, "kappa": 0.0, "fixate_bias": 3.0,
          "entropy_start": RESCUE_START},
    grid={"entropy_coef": RESCUE_COEFS},
    blocks=(tuple(range(6100, 6150)), tuple(range(6150, 6200))),
    stride=10,
    chunk=12,
    mode_at=(RESCUE_START,),
), frequency_claims=True,
    about='the rescue: a FIXATE bias of 3, kappa 0; entropy_coef 0 / 0.05 / 0.2 from update 400')
