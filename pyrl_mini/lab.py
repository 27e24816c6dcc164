"""`pyrl-mini lab` (or `python -m pyrl_mini lab`): the notebooks in a folder of your own, opened
in JupyterLab; the path for a `pip install` without the repository or make.

    pyrl-mini lab                          # ./pyrl_mini_notebooks, then JupyterLab there
    pyrl-mini lab course --edition student # solutions and Think! answers removed
    pyrl-mini lab course --execute         # run every notebook there instead (a check)

It copies the notebooks the package carries (an installed wheel bundles them; a checkout uses
its notebooks/) into the folder, leaving any notebook already there as it is, so a student's
work is never overwritten. Then it builds the trainer's C++ fast path if a compiler is there
(training never compiles by itself; without one the notebooks run on the plain path), and
starts JupyterLab in the folder, or with --execute runs each notebook top to bottom as
JupyterLab would and says what its exercise checkers printed. The notebooks find data/
through the package (pyrl_mini.data.DATA_DIR), wherever the folder is.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from . import editions
from .io import shipped

DEFAULT_FOLDER = "pyrl_mini_notebooks"
VERDICT = re.compile(r"^(correct|wrong|not done yet):", re.M)


class LabError(RuntimeError):
    """What stops `pyrl-mini lab`, in one line that names the value and the fix."""


def notebooks() -> list[Path]:
    """The collection's notebooks, in order (from the wheel, or the checkout's notebooks/)."""
    found = sorted(shipped("notebooks").glob(editions.NOTEBOOK_STEMS + ".ipynb"))
    if not found:
        raise LabError(f"no notebooks in {shipped('notebooks')}: this pyrl_mini was installed "
                       "without them; install the wheel (pip install pyrl_mini-*.whl) or run "
                       "from a checkout of the repository")
    return found


def _missing(modules: tuple[str, ...]) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def check_folder(folder: Path) -> Path:
    """Refuse, before anything is copied, a folder the notebooks cannot go to."""
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise LabError(f"{folder} is a file, not a folder: give a folder, e.g. "
                       f"pyrl-mini lab {folder.parent / DEFAULT_FOLDER}")
    parent = folder
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise LabError(f"{parent} is not writable: give a folder you can write to, e.g. "
                       f"pyrl-mini lab ~/{DEFAULT_FOLDER}")
    return folder


def copy_notebooks(folder: Path, edition: str = "self-study", log=print) -> list[Path]:
    """Write `edition` of every notebook into folder, keeping notebooks already there."""
    written, kept = editions.write_edition(notebooks(), edition, folder, keep_existing=True)
    log(f"pyrl-mini lab: {len(written)} notebooks ({edition} edition) copied to {folder}"
        + (f"; {len(kept)} already there kept as they are ({', '.join(p.name for p in kept)})"
           if kept else ""))
    return sorted(written + kept)


def build_fast_path(log=print) -> None:
    """Build the C++ recurrence once if a compiler is there (it says what it does)."""
    from .fast import kernel

    if kernel.switch() == "off":
        log(f"pyrl-mini lab: {kernel.SWITCH}=0: the notebooks train on the plain path.")
        return
    kernel.main([])  # built: says so; else builds (30-60 s), or says why not and goes on


def execute(nb, folder: Path, timeout: int, stderr=None, on_cell=None) -> None:
    """Run every cell of notebook `nb` (an nbformat node, changed in place) as JupyterLab
    would: a python3 kernel started in `folder`, top to bottom. A failing cell raises
    nbclient's CellExecutionError. The kernel's own stderr goes to `stderr` (a file)."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    # MPLBACKEND=Agg (CI sets it) would reach the kernel; a reader's JupyterLab lacks it.
    backend = os.environ.pop("MPLBACKEND", None)
    # The kernel talks over unix sockets in a fresh directory, not TCP ports on localhost:
    # beside other Jupyter servers and kernels on one machine, TCP runs hung now and then.
    try:
        with tempfile.TemporaryDirectory(prefix="pyrl-lab-") as ipc_dir:
            km = KernelManager(kernel_name="python3", transport="ipc",
                               ip=os.path.join(ipc_dir, "kernel"))
            client = NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3",
                                    resources={"metadata": {"path": str(folder)}},
                                    on_cell_execute=on_cell)
            try:
                client.execute(**({"stderr": stderr} if stderr is not None else {}))
            finally:  # a kernel manager given to nbclient is ours to stop
                if km.has_kernel:
                    km.shutdown_kernel(now=False)
    finally:
        if backend is not None:
            os.environ["MPLBACKEND"] = backend


def verdicts(nb) -> dict[str, int]:
    """How often the notebook's exercise checkers said correct / wrong / not done yet."""
    counts = {"correct": 0, "wrong": 0, "not done yet": 0}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                for m in VERDICT.finditer(out.get("text", "")):
                    counts[m[1]] += 1
    return counts


def run_folder(folder: Path, timeout: int = 600, log=print) -> dict[str, dict]:
    """Execute every notebook in folder (files unchanged); {name: {seconds, cells, verdicts}}.
    LabError names the notebook and the cell that failed."""
    import nbformat
    from nbclient.exceptions import CellExecutionError

    paths = sorted(Path(folder).glob("*.ipynb"))
    if not paths:
        raise LabError(f"no notebooks in {folder} to run")
    results = {}
    with open(os.devnull, "w") as quiet:
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            t0 = time.perf_counter()
            try:
                execute(nb, path.parent, timeout, stderr=quiet)
            except CellExecutionError as err:
                last = str(err).strip().splitlines()[-1] if str(err).strip() else "error"
                raise LabError(f"{path.name}: a cell failed ({last}); open it in JupyterLab "
                               "(pyrl-mini lab) to see it") from None
            seconds = time.perf_counter() - t0
            counts = verdicts(nb)
            said = ", ".join(f"{n} {v}" for v, n in counts.items() if n) or "no checker output"
            log(f"  {path.name}: ran {sum(c.cell_type == 'code' for c in nb.cells)} code cells "
                f"in {seconds:.0f} s; exercise checkers: {said}", flush=True)
            results[path.name] = {"seconds": seconds, "verdicts": counts}
    return results


def open_lab(folder: Path, extra: list[str]) -> None:
    """Replace this process by JupyterLab serving folder (Ctrl-C stops it as usual)."""
    args = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")  # JupyterLab refuses to start as root unless told
    os.execv(sys.executable, args + extra)


def main(folder: str | Path = DEFAULT_FOLDER, edition: str = "self-study",
         run: bool = False, timeout: int = 600, build: bool = True,
         extra: list[str] | None = None, log=print) -> int:
    """The `lab` command: 0 done, 1 a notebook failed, 2 bad input (nothing copied)."""
    try:
        if run and extra:
            raise LabError(f"{' '.join(extra)}: options for JupyterLab, which --execute does "
                           "not start; leave them out")
        if edition not in editions.EDITIONS:
            raise LabError(f"--edition {edition!r} is not one of {', '.join(editions.EDITIONS)}")
        need = ("nbclient", "nbformat", "ipykernel") if run else ("jupyterlab",)
        missing = _missing(need)
        if missing:
            extra = "run" if run else "lab"
            raise LabError(f"{', '.join(missing)} is not installed in {sys.executable}: "
                           f"pip install 'pyrl_mini[{extra}]' (or pip install "
                           f"{' '.join(missing)}), then run this again")
        folder = check_folder(Path(folder)).resolve()
        notebooks()  # refused now if the package carries none
    except LabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    copy_notebooks(folder, edition, log=log)
    if build:
        build_fast_path(log=log)
    if run:
        log(f"pyrl-mini lab: running every notebook in {folder} ...", flush=True)
        try:
            results = run_folder(folder, timeout=timeout, log=log)
        except LabError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        total = sum(r["seconds"] for r in results.values())
        log(f"pyrl-mini lab: all {len(results)} notebooks ran ({total:.0f} s).")
        return 0
    log(f"pyrl-mini lab: opening JupyterLab in {folder} (Ctrl-C stops it) ...", flush=True)
    open_lab(folder, extra or [])
    return 0  # not reached: JupyterLab replaced this process
