"""The kappa x entropy_coef grid at the default settings (nb00_main_grid), shared by notebooks
00b (the kappa demo), 03 and 05; 04's controls are its cells.

Seeds are shared across cells (paired comparisons). 1000 updates of 256 trials each.
"""

from ..registry import register
from ..sweep import SweepSpec

KAPPAS = (-0.4, -0.2, 0.0, 0.2, 0.4)
ENTROPY_COEFS = (0.0, 0.01, 0.05)

MAIN_GRID = register(SweepSpec(
    name="nb00_main_grid",
    base={"updates": 1000},
    grid={"kappa": KAPPAS, "entropy_coef": ENTROPY_COEFS},
    seeds=(0, 1, 2),
    stride=10,
    chunk=3,
))
