"""pyproject.toml and environment.yml must describe the same runtime environment.

Every runtime dependency of the package must be named in environment.yml (conda's
name for torch is "pytorch"), and the torch range in both files must admit the
CPU build that is installed here (2.13.0) and exclude 2.14 (an open range pulls a
multi-GB CUDA build).
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]

# PyPI name -> conda-forge name, where they differ.
CONDA_NAME = {"torch": "pytorch"}

_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def load_pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)


def load_env() -> dict:
    with open(ROOT / "environment.yml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def split_pep508(req: str) -> tuple[str, str]:
    """'torch>=2.3,<2.14 ; python_version>"3"' -> ('torch', '>=2.3,<2.14')."""
    req = req.split(";", 1)[0].strip()
    m = _NAME_RE.match(req)
    assert m, f"cannot parse requirement {req!r}"
    rest = req[m.end() :].strip()
    if rest.startswith("["):  # extras
        rest = rest[rest.index("]") + 1 :].strip()
    return normalize(m.group(1)), rest.replace(" ", "")


def split_conda(spec: str) -> tuple[str, str]:
    """Conda match spec 'pytorch>=2.3,<2.14' / 'python=3.11' -> (name, PEP 440 spec).

    conda's single '=' means a prefix match ('=3.11' is '3.11.*'); an optional build
    string after a space is dropped.
    """
    spec = spec.split("::", 1)[-1].strip()  # drop a "channel::" prefix
    m = _NAME_RE.match(spec)
    assert m, f"cannot parse conda spec {spec!r}"
    name = m.group(1)
    rest = spec[m.end() :].strip().split(" ")[0]
    if rest.startswith("=") and not rest.startswith("=="):
        ver = rest[1:].rstrip("*").rstrip(".")
        rest = f"=={ver}.*"
    return normalize(name), rest


def env_specs(env: dict) -> tuple[dict[str, str], list[str]]:
    """(conda name -> version spec, list of pip lines) from an environment.yml dict."""
    conda: dict[str, str] = {}
    pip: list[str] = []
    for dep in env.get("dependencies") or []:
        if isinstance(dep, dict):
            pip.extend(dep.get("pip") or [])
        else:
            name, spec = split_conda(str(dep))
            conda[name] = spec
    return conda, pip


# --- version ranges: packaging if present, else a small parser ---------------------


def _vtuple(v: str) -> tuple[int, ...]:
    v = v.split("+", 1)[0]
    return tuple(int(p) for p in re.findall(r"\d+", v)[:4])


def _cmp(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    n = max(len(a), len(b))
    a, b = a + (0,) * (n - len(a)), b + (0,) * (n - len(b))
    return (a > b) - (a < b)


def _admits_fallback(spec: str, version: str) -> bool:
    v = _vtuple(version)
    for clause in filter(None, spec.split(",")):
        m = re.match(r"^(~=|==|!=|<=|>=|<|>)?(.+)$", clause.strip())
        op, target = m.group(1) or "==", m.group(2)
        if target.endswith(".*"):
            prefix = _vtuple(target[:-2])
            match = v[: len(prefix)] == prefix
            if (op == "==") != match:
                return False
            continue
        c = _cmp(v, _vtuple(target))
        ok = {
            "==": c == 0,
            "!=": c != 0,
            "<": c < 0,
            "<=": c <= 0,
            ">": c > 0,
            ">=": c >= 0,
            "~=": c >= 0 and v[: len(_vtuple(target)) - 1] == _vtuple(target)[:-1],
        }[op]
        if not ok:
            return False
    return True


def admits(spec: str, version: str) -> bool:
    try:
        from packaging.specifiers import SpecifierSet
        from packaging.version import Version
    except ImportError:  # pragma: no cover
        return _admits_fallback(spec, version)
    return Version(version) in SpecifierSet(spec)


# --- the checks, as functions returning a list of problems ---------------------------


def consistency_problems(pyproject: dict, env: dict) -> list[str]:
    problems: list[str] = []
    runtime = [split_pep508(r) for r in pyproject["project"]["dependencies"]]
    conda, pip = env_specs(env)
    pip_names = {split_pep508(p)[0] for p in pip if not p.startswith("-")}

    for name, _spec in runtime:
        conda_name = CONDA_NAME.get(name, name)
        if conda_name not in conda and name not in pip_names:
            problems.append(
                f"runtime dependency {name!r} (conda: {conda_name!r}) is not in environment.yml"
            )

    torch_specs = {
        "pyproject.toml": dict(runtime).get("torch"),
        "environment.yml": conda.get("pytorch"),
    }
    for where, spec in torch_specs.items():
        if spec is None:
            problems.append(f"{where}: no torch/pytorch requirement")
            continue
        if not spec:
            problems.append(f"{where}: torch is unpinned (would pull a CUDA build)")
            continue
        if not admits(spec, "2.13.0"):
            problems.append(f"{where}: torch range {spec!r} does not admit 2.13.0")
        for newer in ("2.14.0", "2.14.1", "3.0.0"):
            if admits(spec, newer):
                problems.append(f"{where}: torch range {spec!r} admits {newer}")

    py_req = pyproject["project"].get("requires-python", "")
    py_env = conda.get("python")
    if py_env is None:
        problems.append("environment.yml: no python pin")
    else:
        m = re.search(r"\d+(\.\d+)+", py_env)
        if m and py_req and not admits(py_req, m.group(0)):
            problems.append(f"environment.yml python {py_env!r} outside requires-python {py_req!r}")

    if not any(p.strip() in ("-e .", "-e ./", ".") for p in pip):
        problems.append("environment.yml: pip section does not install the package (-e .)")
    return problems


def test_environment_yml_matches_pyproject():
    problems = consistency_problems(load_pyproject(), load_env())
    assert not problems, "\n".join(problems)


def test_dev_extra_has_notebook_tools():
    dev = load_pyproject()["project"]["optional-dependencies"]["dev"]
    names = {split_pep508(r)[0] for r in dev}
    missing = {"nbmake", "jupytext"} - names
    assert not missing, f"dev extra {dev} lacks {sorted(missing)}"


# --- the checks themselves must be able to fail --------------------------------------


def _without(env: dict, name: str) -> dict:
    env = copy.deepcopy(env)
    env["dependencies"] = [
        d for d in env["dependencies"] if isinstance(d, dict) or split_conda(d)[0] != name
    ]
    return env


def _with_torch(pyproject: dict, env: dict, py_spec: str | None, conda_spec: str | None):
    pyproject, env = copy.deepcopy(pyproject), copy.deepcopy(env)
    if py_spec is not None:
        pyproject["project"]["dependencies"] = [
            ("torch" + py_spec) if split_pep508(r)[0] == "torch" else r
            for r in pyproject["project"]["dependencies"]
        ]
    if conda_spec is not None:
        env["dependencies"] = [
            ("pytorch" + conda_spec)
            if not isinstance(d, dict) and split_conda(d)[0] == "pytorch"
            else d
            for d in env["dependencies"]
        ]
    return pyproject, env


@pytest.mark.parametrize("name", ["tqdm", "pytorch", "ipywidgets"])
def test_check_catches_missing_dependency(name):
    problems = consistency_problems(load_pyproject(), _without(load_env(), name))
    assert any("not in environment.yml" in p or "no torch" in p for p in problems), problems


@pytest.mark.parametrize(
    "py_spec,conda_spec",
    [
        ("", None),  # unpinned torch in pyproject
        (">=2.3", None),  # open range in pyproject
        (None, ">=2.3"),  # open range in environment.yml
        (None, ">=2.3,<2.15"),  # admits 2.14
        ("<2.13", None),  # excludes 2.13.0
        (None, "=2.12"),  # conda prefix match excluding 2.13.0
    ],
)
def test_check_catches_bad_torch_range(py_spec, conda_spec):
    pyproject, env = _with_torch(load_pyproject(), load_env(), py_spec, conda_spec)
    assert consistency_problems(pyproject, env)


@pytest.mark.parametrize(
    "spec,version,expected",
    [
        (">=2.3,<2.14", "2.13.0", True),
        (">=2.3,<2.14", "2.13.0+cpu", True),
        (">=2.3,<2.14", "2.14.0", False),
        (">=2.3,<2.14", "2.2.9", False),
        ("==3.11.*", "3.11.7", True),
        ("==3.11.*", "3.12.0", False),
        (">=3.10", "3.11", True),
        ("!=2.13.0", "2.13.0", False),
    ],
)
def test_fallback_parser_agrees(spec, version, expected):
    assert _admits_fallback(spec, version) is expected
    assert admits(spec, version) is expected
