"""The dataset registry: which SweepSpecs exist, which carry frequency claims, which pair up.

The dataset modules (pyrl_mini.datasets) fill it by calling `register`; pyrl_mini.data reads it
to build, load and verify the files. It imports none of them, so neither imports the other in
a loop: datasets -> registry <- data -> datasets. Use it through pyrl_mini.data (data.DATASETS,
data.register, ...), which imports the datasets, so every dataset is registered there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sweep import SweepSpec

# name -> definition, in the order the dataset modules register them
DATASETS: dict[str, SweepSpec] = {}
# Datasets whose runs carry frequency claims ("k of n runs trapped"): each of their cells
# must hold at least MIN_SEEDS independent seeds (tests/test_seeds.py checks it).
FREQUENCY_CLAIMS: set[str] = set()
MIN_SEEDS = 20
# name -> the datasets it shares seeds with on purpose (paired comparisons across datasets)
PAIRED_WITH: dict[str, tuple[str, ...]] = {}
# name -> what it varies, in a line (the README's table of frequency datasets)
ABOUT: dict[str, str] = {}


def register(spec: SweepSpec, frequency_claims: bool = False,
             paired_with: tuple[str, ...] = (), about: str = "") -> SweepSpec:
    """Add spec to DATASETS. frequency_claims: frequencies are stated from its runs (so each
    cell needs MIN_SEEDS independent seeds, and `about` says what it varies); paired_with:
    earlier datasets that train the same seeds on purpose, so that their cells and this one's
    pair up seed by seed."""
    unknown = [p for p in paired_with if p not in DATASETS]
    if unknown:
        raise ValueError(f"{spec.name}: paired_with names {unknown}, which are not registered "
                         "(register a dataset before the ones that pair with it)")
    if frequency_claims and not about:
        raise ValueError(f"{spec.name}: a frequency dataset says what it varies (about=...)")
    ABOUT[spec.name] = about
    DATASETS[spec.name] = spec
    if frequency_claims:
        FREQUENCY_CLAIMS.add(spec.name)
    PAIRED_WITH[spec.name] = tuple(paired_with)
    return spec
