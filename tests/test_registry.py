"""The dataset layer: pyrl_mini.data alone registers every dataset, and no module imports in a loop.

The datasets register themselves in pyrl_mini.registry, which imports none of them; data imports
the registry and the datasets. Each check runs in a fresh interpreter, where nothing is imported
yet, so an import order that only works because another module came first cannot hide.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import pyrl_mini
import pyrl_mini.datasets

PACKAGE = Path(pyrl_mini.__file__).resolve().parent
DATASET_MODULES = sorted(f"pyrl_mini.datasets.{m.name}"
                         for m in pkgutil.iter_modules(pyrl_mini.datasets.__path__))
LAYER = ["pyrl_mini.data", "pyrl_mini.registry", "pyrl_mini.datasets", *DATASET_MODULES]


def _fresh(code: str) -> str:
    """Run code in a new interpreter; its stdout."""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


def test_importing_data_alone_registers_every_dataset():
    """`from pyrl_mini import data` is all a notebook needs: every SweepSpec that a dataset
    module defines is registered, and importing the dataset modules afterwards adds none."""
    out = _fresh(f"""
import importlib, json
from pyrl_mini import data
from pyrl_mini.sweep import SweepSpec
alone = list(data.DATASETS)
defined = set()
for name in {DATASET_MODULES!r}:
    module = importlib.import_module(name)
    defined |= {{v.name for v in vars(module).values() if isinstance(v, SweepSpec)}}
print(json.dumps({{"alone": alone, "after": list(data.DATASETS), "defined": sorted(defined)}}))
""")
    got = json.loads(out)
    assert got["alone"], "importing pyrl_mini.data registered no dataset"
    assert got["after"] == got["alone"], "importing the dataset modules registered more"
    assert sorted(got["alone"]) == got["defined"], "a dataset module defines an unregistered spec"


def test_load_needs_no_other_import():
    _fresh("from pyrl_mini import data; data.load('nb02_wout_zero')")


@pytest.fixture(scope="module")
def registered_by_data():
    return json.loads(_fresh("import json\nfrom pyrl_mini import data\n"
                             "print(json.dumps(list(data.DATASETS)))"))


@pytest.mark.parametrize("first", LAYER)
def test_every_import_order_works_in_a_fresh_interpreter(first, registered_by_data):
    """Import `first`, then the rest of the layer, in a new interpreter: a loop shows up as an
    ImportError (a partly initialised module) for some first module. Every order registers the
    same datasets."""
    rest = [m for m in LAYER if m != first]
    out = _fresh(f"""
import importlib, json
for name in {[first, *rest]!r}:
    importlib.import_module(name)
from pyrl_mini import registry
print(json.dumps(list(registry.DATASETS)))
""")
    assert json.loads(out) == registered_by_data


def _module_imports(path: Path, module: str) -> set[str]:
    """The pyrl_mini modules that `module` (file `path`) imports when it is imported: module-level
    statements, and those in module-level if/try blocks (not `if TYPE_CHECKING:`)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out: set[str] = set()

    def known(name: str) -> bool:
        rel = name.split(".")[1:]
        base = PACKAGE.joinpath(*rel)
        return base.with_suffix(".py").exists() or (base / "__init__.py").exists()

    def visit(body):
        for node in body:
            if isinstance(node, ast.If):
                test = ast.unparse(node.test)
                if "TYPE_CHECKING" not in test:
                    visit(node.body)
                    visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for h in node.handlers:
                    visit(h.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, ast.Import):
                out.update(a.name for a in node.names if a.name.startswith("pyrl_mini"))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[:len(parts) - node.level + 1])
                    target = f"{base}.{node.module}" if node.module else base
                else:
                    target = node.module or ""
                if not target.startswith("pyrl_mini"):
                    continue
                out.add(target)
                for a in node.names:  # `from . import x`: x may be a module
                    if known(f"{target}.{a.name}"):
                        out.add(f"{target}.{a.name}")

    visit(ast.parse(path.read_text()).body)
    out.discard(module)
    return out


def test_no_import_cycle_in_the_package():
    """The graph of module-level imports inside pyrl_mini has no cycle (imports inside functions
    run later and do not count)."""
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        graph[name] = _module_imports(path, name)
    assert "pyrl_mini.datasets" in graph["pyrl_mini.data"], "data should import the datasets"
    for m in DATASET_MODULES:
        assert "pyrl_mini.data" not in graph[m], f"{m} imports pyrl_mini.data"

    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def walk(node: str, path: list[str]):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                walk(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node, [node])


def test_dataset_names_follow_one_scheme():
    """<owner>_<what it varies>: the notebook that introduces the dataset (nb00 ... nb05; nb00
    for notebooks 00 and 00b), or collapse for the shared 20-seed frequency datasets."""
    import re

    from pyrl_mini import data

    bad = [n for n in data.DATASETS if not re.fullmatch(r"(nb0[0-5]|collapse)_[a-z0-9_]+", n)]
    assert not bad, f"dataset names outside the scheme <owner>_<what it varies>: {bad}"


def test_a_renamed_dataset_is_not_stale():
    """The name is a label: the numbers do not depend on it, so a file built under another name
    of the same definition loads; any change of a setting still makes it stale."""
    import dataclasses

    from pyrl_mini import data
    from pyrl_mini.io import load_arrays

    spec = data.DATASETS["nb02_wout_zero"]
    meta = load_arrays(data.DATA_DIR / "nb02_wout_zero.npz")[1]
    assert spec.stale_reason(meta) is None
    assert dataclasses.replace(spec, name="nb02_renamed").stale_reason(meta) is None
    other = dataclasses.replace(spec, name="nb02_renamed", seeds=spec.seeds[:-1])
    assert "seeds" in other.stale_reason(meta)
