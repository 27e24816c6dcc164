"""Notebook hygiene: paired sources, no outputs, the sections every notebook promises.

The notebooks themselves run under nbmake in the same pytest call (see the Makefile).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
IPYNBS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_every_notebook_is_paired():
    assert {p.stem for p in SOURCES} == {p.stem for p in IPYNBS}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_pair_has_the_same_cells(source):
    py = jupytext.read(source)
    ipynb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    a, b = _cells(py), _cells(ipynb)
    assert len(a) == len(b), f"{source.name}: {len(a)} cells in .py, {len(b)} in .ipynb; " \
        f"run `jupytext --to ipynb {source}`"
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        assert x == y, f"{source.name} cell {i} differs: run `jupytext --to ipynb {source}`"


@pytest.mark.parametrize("path", IPYNBS, ids=lambda p: p.name)
def test_ipynb_committed_clean(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            assert not c.get("outputs"), f"{path.name} has outputs; strip them"
            assert c.get("execution_count") is None


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_notebook_has_the_promised_sections(source):
    text = source.read_text()
    for needle in ("%matplotlib inline", "Think!", "<details>", "Exercise", "Summary",
                   "References", "assert "):
        assert needle in text, f"{source.name} lacks {needle!r}"


def test_figures_survive_mplbackend_agg(tmp_path):
    """A reader (or CI) with MPLBACKEND=Agg in the environment still gets figures."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("%matplotlib inline\nimport matplotlib.pyplot as plt"),
        nbformat.v4.new_code_cell(
            "from pyrl_mini.widgets import Demo, kappa_slider\n"
            "def plot(kappa):\n"
            "    fig, ax = plt.subplots()\n"
            "    ax.plot([0, 1], [0, kappa])\n"
            "    return fig\n"
            "demo = Demo(plot, kappa=kappa_slider([-0.2, 0.2]))\n"
            "demo.set(kappa=0.2)\n"
            "plt.plot([1, 2])\n"),
    ]
    path = tmp_path / "agg.ipynb"
    nbformat.write(nb, path)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook",
                    "--execute", "--output", str(path), str(path)], check=True, env=env,
                   capture_output=True, timeout=120)
    out = nbformat.read(path, as_version=4)
    pngs = [o for c in out.cells if c.cell_type == "code" for o in c.outputs
            if "image/png" in o.get("data", {})]
    assert pngs, "no figure was produced with MPLBACKEND=Agg"
