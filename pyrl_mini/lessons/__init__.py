"""Per-notebook library code: experiments, plot functions and demo builders.

Each module `nbNN_topic.py` serves notebook NN and exposes `demos() -> dict[str, Demo]`
(built on the precomputed data) so tests and benchmarks can drive every slider without a
notebook. Notebooks stay thin: they call these functions.

Notebook 00 is in the tutorial form (CONTRIBUTING.md) and has no lesson module: its science
is in its cells and its demo is widgets.kappa_demo. The others follow as they are converted.
"""
