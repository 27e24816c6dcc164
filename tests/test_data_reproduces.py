"""data/ is what the code computes: for each frequency dataset, the two runs of its probe
chunk (SweepSpec.chunks) are trained again in full, in the ensemble that built them, and every
stored record of them is compared with the file, to the bit. On a machine or path other than
the one the manifest records, the comparison cannot hold (float rounding differs and a run is
chaotic): the test says so and compares nothing."""

import numpy as np
import pytest

from pyrl_mini import data, io
from pyrl_mini.sweep import SweepSpec

TINY = SweepSpec(name="tiny_check", base={"updates": 30, "batch_size": 16, "units": 8,
                                          "baseline_units": 8},
                 grid={"kappa": (-0.4, 0.4)}, blocks=((0, 1), (2, 3)), stride=5,
                 final_window=10, chunk=3)


def test_a_stored_value_altered_by_one_bit_is_found(tmp_path, monkeypatch):
    monkeypatch.setitem(data.DATASETS, TINY.name, TINY)
    path = data.build(TINY.name, data_dir=tmp_path, progress=False)
    assert data.reproduce(TINY.name, data_dir=tmp_path)["differences"] == {}
    arrays, meta = io.load_arrays(path)
    probe = TINY.chunks()[0]
    row = int(np.nonzero(arrays["cell"] == probe[1])[0][0])
    entropy = arrays["h/entropy"]
    entropy[row, -1] = np.nextafter(entropy[row, -1], np.float32(2))   # one ulp
    io.save_arrays(path, arrays, meta)
    manifest = data.read_manifest(tmp_path)
    manifest["files"][path.name]["sha256"] = data.sha256(path)
    data.write_manifest(manifest, tmp_path)
    found = data.reproduce(TINY.name, data_dir=tmp_path)
    assert found["comparable"] is None
    assert list(found["differences"]) == ["h/entropy"] and found["differences"]["h/entropy"] > 0


def test_another_machine_is_named_instead_of_compared(tmp_path, monkeypatch):
    monkeypatch.setitem(data.DATASETS, TINY.name, TINY)
    path = data.build(TINY.name, data_dir=tmp_path, progress=False)
    manifest = data.read_manifest(tmp_path)
    manifest["files"][path.name]["built_on"]["cpu_flags"] = "another-cpu"
    data.write_manifest(manifest, tmp_path)
    found = data.reproduce(TINY.name, data_dir=tmp_path)
    assert "cpu_flags: 'another-cpu' there" in found["comparable"]
    assert found["seconds"] == 0.0 and found["differences"] == {}


@pytest.mark.parametrize("name", sorted(data.FREQUENCY_CLAIMS))
def test_stored_runs_are_what_the_code_computes(name):
    found = data.reproduce(name)
    if found["comparable"] is not None:
        pytest.skip(f"{name}: {found['comparable']}")
    assert found["differences"] == {}, (f"{name}: the code no longer computes the stored runs "
                                        f"of cells {found['cells']}: {found['differences']}")
