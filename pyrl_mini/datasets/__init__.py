"""Registered datasets (SweepSpecs), one module per notebook. Importing registers them in
pyrl_mini.registry; pyrl_mini.data imports this package, so `data.load(name)` finds every one.
"""

from . import (
    collapse,  # noqa: F401
    main_grid,  # noqa: F401
    nb01_dead_neurons,  # noqa: F401
    nb02_wout_init,  # noqa: F401
    nb03_gradient_vanishing,  # noqa: F401
    nb04_entropy_fix,  # noqa: F401
)
