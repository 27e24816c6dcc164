"""Registered datasets (SweepSpecs), one module per notebook. Importing registers them in
pyrl_mini.registry; pyrl_mini.data imports this package, so `data.load(name)` finds every one.

Names follow one scheme, <owner>_<what it varies>: the owner is the notebook that introduces
the dataset (nb00 ... nb04), or `collapse` for the shared 20-seed frequency datasets.
"""

from . import (
    collapse,  # noqa: F401
    nb00_task_network_trainer,  # noqa: F401
    nb01_dead_neurons,  # noqa: F401
    nb02_wout_init,  # noqa: F401
    nb03_gradient_vanishing,  # noqa: F401
    nb04_entropy_fix,  # noqa: F401
)
