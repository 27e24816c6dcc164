"""Per-notebook library code: experiments, plot functions and demo builders.

Each module `nbNN_topic.py` serves notebook NN and exposes `demos() -> dict[str, Demo]`
(built on the precomputed data) so tests and benchmarks can drive every slider without a
notebook. Notebooks stay thin: they call these functions.
"""
