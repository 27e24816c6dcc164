"""Frequencies need independent seeds: at least data.MIN_SEEDS per compared cell."""

import pytest

from pyrl_mini import data  # importing data registers every dataset


def test_some_dataset_carries_frequency_claims():
    assert data.FREQUENCY_CLAIMS, "no dataset is marked as carrying frequency claims"


@pytest.mark.parametrize("name", sorted(data.FREQUENCY_CLAIMS))
def test_frequency_datasets_have_enough_seeds_per_cell(name):
    spec = data.DATASETS[name]
    per_cell: dict[str, set] = {}
    for values, seed in spec.cells():
        per_cell.setdefault(repr(sorted(values.items())), set()).add(seed)
    short = {cell: len(s) for cell, s in per_cell.items() if len(s) < data.MIN_SEEDS}
    assert not short, f"{name}: cells with fewer than {data.MIN_SEEDS} seeds: {short}"


@pytest.mark.parametrize("name", sorted(data.FREQUENCY_CLAIMS))
def test_manifest_marks_frequency_datasets(name):
    entry = data.read_manifest()["files"].get(f"{name}.npz")
    if entry is None:
        pytest.skip(f"{name} not built yet")
    assert entry.get("frequency_claims") is True


def paired_family(name: str) -> set[str]:
    """Every dataset linked to name by paired_with declarations, in either direction."""
    family, todo = {name}, [name]
    while todo:
        n = todo.pop()
        linked = set(data.PAIRED_WITH.get(n, ())) | {o for o, p in data.PAIRED_WITH.items()
                                                     if n in p}
        todo += sorted(linked - family)
        family |= linked
    return family


@pytest.mark.parametrize("name", sorted(data.FREQUENCY_CLAIMS))
def test_frequency_dataset_seeds_are_its_own(name):
    """Independent means: no other dataset trains these seeds (within the dataset, and with the
    datasets it declares paired_with, cells share seeds on purpose: those comparisons are
    paired and use paired tests)."""
    mine = set(data.DATASETS[name].seeds)
    partners = paired_family(name)
    for other, spec in data.DATASETS.items():
        if other != name and other not in partners:
            shared = mine & set(spec.seeds)
            assert not shared, f"{name} shares seeds {sorted(shared)[:5]} with {other}"


def test_by_seed_pairs_rows_across_cells():
    import numpy as np

    from pyrl_mini.sweep import SweepData
    arrays = {"seed": np.array([2, 0, 1, 1, 2, 0]), "grid/kappa": np.array([0., 0, 0, .4, .4, .4])}
    d = SweepData(arrays)
    a, b = d.by_seed(kappa=0.0), d.by_seed(kappa=0.4)
    assert arrays["seed"][a].tolist() == arrays["seed"][b].tolist() == [0, 1, 2]
    assert a.tolist() == [1, 2, 0]


def test_paired_datasets_pair_up():
    """A declared pair shares every seed: otherwise the paired test would drop runs silently."""
    for name, partners in data.PAIRED_WITH.items():
        for other in partners:
            assert set(data.DATASETS[name].seeds) == set(data.DATASETS[other].seeds), (name, other)


def test_register_refuses_an_unknown_partner():
    from pyrl_mini.sweep import SweepSpec
    with pytest.raises(ValueError, match="not registered"):
        data.register(SweepSpec(name="x_unregistered", seeds=(0,)), paired_with=("no_such",))
    assert "x_unregistered" not in data.DATASETS
