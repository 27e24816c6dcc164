"""The path without make: `pip install` of the wheel, then `pyrl-mini lab` (pyrl_mini/lab.py).

Fast tests run the command from this checkout (copying, keeping a student's work, refusing a
bad folder). The slow test does what a newcomer does: the wheel built from this checkout, a
fresh virtualenv with only pip, `pip install` of the wheel (with its `run` extra: a kernel
and nbclient) and torch==2.13.0, then `pyrl-mini lab FOLDER --edition student --execute`
from an empty folder: every notebook of the student edition copied there runs top to bottom,
finding data/ inside the installed package, and every exercise checker says "not done yet".
It took 3 minutes at load 5-6 on this project's 2-core machine (7 at load 10-13), mostly the
notebooks; each phase's time is printed (pytest -s shows it).
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyrl_mini import editions, lab
from pyrl_mini.cli import main

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob(editions.NOTEBOOK_STEMS + ".ipynb"))
# what the wheel is built from (setup.py bundles data/ and notebooks/ into the package)
BUILD_FILES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE")
BUILD_FOLDERS = ("pyrl_mini", "data", "notebooks")


def test_lab_copies_the_edition_keeps_a_students_work_and_opens_jupyterlab(
        tmp_path, capsys, monkeypatch):
    opened = []
    monkeypatch.setattr(lab, "open_lab", lambda folder, extra: opened.append((folder, extra)))
    folder = tmp_path / "course"
    folder.mkdir()
    mine = folder / NOTEBOOKS[0].name
    mine.write_text("my own work")
    assert main(["lab", str(folder), "--edition", "student", "--no-build", "--port=8889"]) == 0
    out = capsys.readouterr().out
    assert opened == [(folder, ["--port=8889"])]  # what it does not know goes to JupyterLab
    assert mine.read_text() == "my own work"  # never overwritten
    assert f"{len(NOTEBOOKS) - 1} notebooks (student edition) copied to {folder}" in out
    assert f"already there kept as they are ({mine.name})" in out
    copied = editions.read(folder / NOTEBOOKS[1].name)
    assert copied == editions.make(editions.read(NOTEBOOKS[1]), "student")


def test_lab_refuses_a_file_and_an_unknown_edition_before_copying(tmp_path, capsys):
    target = tmp_path / "a_file"
    target.write_text("x")
    assert main(["lab", str(target), "--no-build"]) == 2
    assert f"{target} is a file, not a folder: give a folder" in capsys.readouterr().err
    assert lab.main(tmp_path / "new", edition="teacher", build=False) == 2
    assert "--edition 'teacher' is not one of self-study, student, instructor" in \
        capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_lab_names_what_is_missing_to_open_jupyterlab(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(lab, "_missing", lambda modules: list(modules))
    assert lab.main(tmp_path / "new", build=False) == 2
    err = capsys.readouterr().err
    assert "jupyterlab is not installed in" in err and "pip install 'pyrl_mini[lab]'" in err
    assert lab.main(tmp_path / "new", run=True, build=False) == 2
    assert "pip install 'pyrl_mini[run]'" in capsys.readouterr().err
    monkeypatch.undo()
    assert main(["lab", str(tmp_path / "new"), "--execute", "--port=8889"]) == 2
    assert "--port=8889: options for JupyterLab, which --execute does not start" in \
        capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_data_dir_is_the_wheels_copy_when_bundled(tmp_path, monkeypatch):
    from pyrl_mini import io

    assert io.shipped("data") == REPO / "data"  # a checkout: data/ next to the package
    fake = tmp_path / "pyrl_mini"
    (fake / "bundled" / "data").mkdir(parents=True)
    monkeypatch.setattr(io, "PACKAGE", fake)
    assert io.shipped("data") == fake / "bundled" / "data"  # an installed wheel
    assert io.shipped("notebooks") == tmp_path / "notebooks"


def test_pyrl_mini_data_overrides_both(tmp_path):
    env = {**os.environ, "PYRL_MINI_DATA": str(tmp_path), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", "import pyrl_mini.data as d; print(d.DATA_DIR)"],
                         env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(tmp_path)


def _run(args, log, **kw) -> subprocess.CompletedProcess:
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, **kw)
    log.append(f"{time.perf_counter() - t0:6.1f} s  {' '.join(map(str, args))[:110]}")
    assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture
def scratch(tmp_path):
    yield tmp_path
    # torch alone is 754 MB installed, and pytest keeps the last three runs' folders
    shutil.rmtree(tmp_path / "venv", ignore_errors=True)


@pytest.mark.slow
def test_a_newcomer_installs_the_wheel_and_runs_every_notebook(scratch):
    tmp_path = scratch
    log: list[str] = []
    t0 = time.perf_counter()
    src = tmp_path / "src"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard", *BUILD_FILES, *BUILD_FOLDERS], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, listed):
        if (REPO / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, src / rel)
    # the instructor builds the wheel (as make wheel does: pip's isolated build brings the
    # setuptools that pyproject.toml asks for) ...
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path / "dist",
          src], log)
    wheel, = (tmp_path / "dist").glob("pyrl_mini-*.whl")
    # ... which is what the notebooks' first cell installs where pyrl_mini is missing
    first = editions.source(editions.read(NOTEBOOKS[0])["cells"][0])
    assert fnmatch.fnmatch(wheel.name, re.search(r"%pip install (\S+)", first)[1])
    # the student: a fresh virtualenv with only pip, outside any checkout
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], log)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYRL_MINI_DATA", "VIRTUAL_ENV", "MPLBACKEND")}
    pip = [venv / "bin" / "python", "-m", "pip"]
    # torch pinned: an open one would fetch the newest, multi-GB CUDA build. The `run` extra
    # (a kernel and nbclient) is what --execute needs; `lab` adds JupyterLab, whose ~60
    # packages would double the install's time here. No byte-compiling at install: Python
    # compiles what it imports anyway, and compiling all of torch took a minute.
    _run([*pip, "install", "-q", "--no-compile", f"{wheel}[run]", "torch==2.13.0"], log,
         env=env)
    home = tmp_path / "home"
    home.mkdir()
    where = _run([venv / "bin" / "python", "-c", "import pyrl_mini.data as d; print(d.DATA_DIR)"],
                 log, env=env, cwd=home).stdout.strip()
    assert Path(where).is_relative_to(venv) and where.endswith("pyrl_mini/bundled/data"), where
    proc = _run([venv / "bin" / "pyrl-mini", "lab", "course", "--edition", "student",
                 "--execute"], log, env=env, cwd=home)
    out = proc.stdout
    assert f"{len(NOTEBOOKS)} notebooks (student edition) copied to {home / 'course'}" in out
    assert f"all {len(NOTEBOOKS)} notebooks ran" in out
    assert "C++ recurrence" in out + proc.stderr  # it built the fast path, or said why not
    for path in NOTEBOOKS:  # every exercise left as a scaffold, none wrong
        nb = editions.read(path)
        n = len(editions.solutions(nb)) + len(editions.predictions(nb))
        assert re.search(rf"{path.name}: ran \d+ code cells in \d+ s; exercise checkers: "
                         rf"{n} not done yet$", out, re.M), out
    ran = [line for line in out.splitlines() if " code cells in " in line]
    print("\n".join(["", *log, f"{time.perf_counter() - t0:6.1f} s  in all", *ran]))
