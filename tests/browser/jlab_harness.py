"""JupyterLab + headless Chromium harness for the browser tests (no pytest in here).

- LabServer: one JupyterLab on 127.0.0.1, random free port, a token, isolated config /
  runtime / settings / workspaces dirs, serving a temp copy of the notebooks.
- ProcessTracker: remembers every process we start (and their children, by session id),
  so teardown can stop them by pid even when a graceful shutdown fails.
- check_demo_notebook: open a notebook, wait for the kernel to be idle (status bar),
  run all cells, find each Demo (sliders + .pyrl-demo-summary + figure), move its sliders
  and check the figure and the summary follow.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path(os.environ.get("PYRL_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", "--disable-breakpad"]
# One knob for every wait: the machine is small and shared, so waits are generous but
# each one fails with a message that says what it was waiting for.
TIMEOUT_S = float(os.environ.get("PYRL_BROWSER_TIMEOUT", "90"))
# Run-all executes the whole notebook (a real one trains a small network): its own bound.
RUN_TIMEOUT_S = float(os.environ.get("PYRL_BROWSER_RUN_TIMEOUT", "600"))
WIDGET_MANAGER = "@jupyter-widgets/jupyterlab-manager"
MINUS = "\u2212"
REPO = Path(__file__).resolve().parents[2]
FIXTURE_NB = Path(__file__).resolve().parent / "fixtures" / "demo_fixture.ipynb"
TIMINGS: list[tuple[str, dict[str, float]]] = []  # (what, {step: seconds}) for the summary


# A code cell that builds or shows a demo: Demo(...), nb.kappa_demo(grid), nb.demos()...
DEMO_CALL = re.compile(r"\b\w*[Dd]emos?\(")


def has_demo_call(path: Path) -> bool:
    try:
        cells = json.loads(path.read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return False
    return any(c.get("cell_type") == "code" and DEMO_CALL.search("".join(c.get("source", "")))
               for c in cells)


def demo_notebooks() -> list[Path]:
    """notebooks/*.ipynb whose code calls a demo (DEMO_CALL), plus the fixture notebook.

    PYRL_BROWSER_NOTEBOOKS (space-separated paths or globs) replaces notebooks/*.ipynb,
    e.g. to check one notebook while writing it.
    """
    import glob

    spec = os.environ.get("PYRL_BROWSER_NOTEBOOKS")
    found = (sorted(Path(p).resolve() for pat in spec.split() for p in glob.glob(pat))
             if spec else sorted((REPO / "notebooks").glob("*.ipynb")))
    return [p for p in found if has_demo_call(p)] + [FIXTURE_NB]


class WidgetCheckError(AssertionError):
    """What a reader would see is wrong (no widget, widget error, no redraw...)."""


# --------------------------------------------------------------------------- processes

def _stat(pid: int) -> tuple[int, int, int, str] | None:
    """(ppid, pgid, sid, starttime) of a live process, None if gone or a zombie."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = raw[raw.rindex(")") + 2:].split()
    if rest[0] in ("Z", "X"):
        return None
    return int(rest[1]), int(rest[2]), int(rest[3]), rest[19]


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _cmdline(pid: int, limit: int = 160) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace")[:limit]


@dataclass
class ProcessTracker:
    """Remembers (pid, starttime) of what we started, and the sessions they lead.

    A process started with start_new_session=True leads its own session; everything it
    spawns (chromium's zygote and renderers, a kernel's children) stays in that session
    even if re-parented, so `leftovers()` finds them by session id. Our own session is
    never tracked, so nothing outside what we started is ever signalled.
    """
    pids: dict[int, str] = field(default_factory=dict)
    sids: set[int] = field(default_factory=set)
    # Unique paths of ours (the session's temp dir): a process whose command line holds
    # one is ours too (kernels: their connection file; chromium's crash handlers, which
    # re-parent to init in a session of their own: their database under our XDG dir).
    markers: list[str] = field(default_factory=list)

    def add(self, pid: int) -> None:
        st = _stat(pid)
        if st is None:
            return
        self.pids[pid] = st[3]
        if st[2] == pid and pid != os.getsid(0):
            self.sids.add(pid)

    def add_tree(self, root: int) -> None:
        """Track root and all its current descendants."""
        table = {p: s for p in _all_pids() if (s := _stat(p)) is not None}
        todo, seen = [root], set()
        while todo:
            p = todo.pop()
            if p in seen or p not in table:
                continue
            seen.add(p)
            self.add(p)
            todo.extend(c for c, s in table.items() if s[0] == p)

    def leftovers(self) -> list[int]:
        alive = []
        for p in _all_pids():
            st = _stat(p)
            if st is None or p == os.getpid():
                continue
            if (self.pids.get(p) == st[3] or st[2] in self.sids
                    or (self.markers and any(m in _cmdline(p, 4096) for m in self.markers))):
                alive.append(p)
        return sorted(alive)

    def kill_all(self, grace_s: float = 3.0) -> list[str]:
        """SIGTERM, then SIGKILL, every tracked process still alive. Returns what was left.

        Call after the graceful stops; processes on their way out get 2 s first.
        """
        deadline = time.monotonic() + 2.0
        while (left := self.leftovers()) and time.monotonic() < deadline:
            time.sleep(0.1)
        report = [f"{p} {_cmdline(p)}" for p in left]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for p in left:
                try:
                    os.kill(p, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + grace_s
            while time.monotonic() < deadline and (left := self.leftovers()):
                time.sleep(0.1)
            if not left:
                break
        return report


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- server

class LabServer:
    """JupyterLab serving `root` (a temp dir), isolated from the user's config."""

    def __init__(self, root: Path, home: Path, tracker: ProcessTracker,
                 disable_widgets: bool = False):
        self.root, self.home, self.tracker = root, home, tracker
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / "jupyter.log"
        self.proc: subprocess.Popen | None = None
        self.disable_widgets = disable_widgets
        self._shutdowns: list[threading.Thread] = []

    def _write_config(self) -> dict[str, str]:
        cfg, run, settings, ws, ipy = (self.home / d for d in
                                       ("config", "runtime", "settings", "workspaces", "ipython"))
        for d in (cfg, run, settings, ws, ipy):
            d.mkdir(parents=True, exist_ok=True)
        # User settings (isolated): no news/update check toast, no autosave into the copies.
        notif = settings / "@jupyterlab" / "apputils-extension"
        notif.mkdir(parents=True, exist_ok=True)
        (notif / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        docm = settings / "@jupyterlab" / "docmanager-extension"
        docm.mkdir(parents=True, exist_ok=True)
        (docm / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
        # Render every cell (no virtual scrolling), so outputs below the fold are in the DOM.
        nbext = settings / "@jupyterlab" / "notebook-extension"
        nbext.mkdir(parents=True, exist_ok=True)
        (nbext / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
        if self.disable_widgets:
            # What `jupyter labextension disable --level=user` writes, but into our
            # isolated config dir (the default level, sys_prefix, would edit the venv).
            (cfg / "labconfig").mkdir(exist_ok=True)
            (cfg / "labconfig" / "page_config.json").write_text(
                json.dumps({"disabledExtensions": {WIDGET_MANAGER: True}}))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JUPYTER", "JPY_")) and k != "MPLBACKEND"}
        # MPLBACKEND=Agg (set by .ci/run) would reach the kernel and could stop figures
        # from rendering as PNG; a reader's JupyterLab does not have it.
        # JUPYTER_DATA_DIR only replaces the *user* data dir (notebook-signing key etc.);
        # the venv's share/jupyter (lab extensions, kernelspecs) stays on the data path.
        env.update(JUPYTER_CONFIG_DIR=str(cfg), JUPYTER_RUNTIME_DIR=str(run),
                   JUPYTER_DATA_DIR=str(self.home / "data"),
                   JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(ws),
                   IPYTHONDIR=str(ipy), JUPYTER_PLATFORM_DIRS="1", PYTHONUNBUFFERED="1")
        return env

    def start(self) -> LabServer:
        env = self._write_config()
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
               "--ip=127.0.0.1", f"--port={self.port}", "--port-retries=0",
               f"--IdentityProvider.token={self.token}",
               f"--ServerApp.root_dir={self.root}",
               "--ServerApp.open_browser=False",
               "--LabApp.expose_app_in_browser=True",  # window.jupyterapp for run-all
               # No update check (the news feed is off in the isolated user settings).
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--ServerApp.shutdown_no_activity_timeout=900",  # dies if we ever leak it
               "--MappingKernelManager.cull_idle_timeout=600"]
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, env=env, cwd=self.root, stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self.tracker.add(self.proc.pid)
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}; "
                                   f"log:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return self
            except OSError:
                time.sleep(0.25)
        raise RuntimeError(f"jupyter lab not answering after {TIMEOUT_S:.0f} s; "
                           f"log:\n{self.log_tail()}")

    def api(self, method: str, path: str, timeout: float = 10):
        req = urllib.request.Request(self.url + path, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self, wait: bool = True) -> None:
        """Stop the kernels running now (via the server); their pids are tracked first.

        wait=False: the DELETE requests run in a thread (joined in stop()), so the next
        notebook can open meanwhile; only the kernels listed now are stopped.
        """
        if self.proc is None or self.proc.poll() is not None:
            return
        self.tracker.add_tree(self.proc.pid)
        try:
            sessions = [s["id"] for s in self.api("GET", "/api/sessions")]
            kernels = [k["id"] for k in self.api("GET", "/api/kernels")]
        except OSError:
            return

        def delete():
            for path in [f"/api/sessions/{s}" for s in sessions] + \
                        [f"/api/kernels/{k}" for k in kernels]:
                try:
                    self.api("DELETE", path, timeout=60)
                except OSError:  # already gone (a session's kernel) or server stopping
                    pass

        if wait:
            delete()
        else:
            t = threading.Thread(target=delete, name="kernel-shutdown", daemon=True)
            t.start()
            self._shutdowns.append(t)

    def stop(self) -> None:
        if self.proc is None:
            return
        for t in self._shutdowns:
            t.join(timeout=60)
        self.shutdown_kernels()
        if self.proc.poll() is None:
            try:  # SIGTERM the server's process group; jupyter shuts its kernels down
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log.close()

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


def make_root(tmp: Path, notebooks: list[Path], repo: Path) -> dict[Path, str]:
    """Copy each notebook's folder (only once) under tmp; return notebook -> path in root.

    Copies keep each notebook's neighbours (helper modules, small files) and a symlink to
    the repo's data/ beside them, so relative paths work; the originals are never opened
    by JupyterLab (opening/running would write checkpoints and outputs into the repo).
    """
    tmp.mkdir(parents=True, exist_ok=True)
    mapping: dict[Path, str] = {}
    copied: dict[Path, str] = {}
    for nb in notebooks:
        src = nb.parent.resolve()
        if src not in copied:
            name = src.relative_to(repo).as_posix() if src.is_relative_to(repo) else src.name
            dest = tmp / name
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns(
                ".ipynb_checkpoints", "__pycache__", "*.pyc"), dirs_exist_ok=True)
            copied[src] = name
        mapping[nb] = f"{copied[src]}/{nb.name}"
    if (repo / "data").is_dir() and not (tmp / "data").exists():
        (tmp / "data").symlink_to(repo / "data")
    return mapping


# --------------------------------------------------------------------------- browser checks

def start_browser(tracker: ProcessTracker, home: Path):
    """Start Playwright's driver and Debian's chromium; track both process trees.

    Returns (playwright, browser). Playwright starts chromium in its own session, so its
    renderers are found by session id at teardown even if they outlive the browser.
    Chromium's config (and crash database) go to `home`, not ~/.config/chromium.
    """
    from playwright.sync_api import sync_playwright

    env = dict(os.environ, XDG_CONFIG_HOME=str(home / "xdg-config"),
               XDG_CACHE_HOME=str(home / "xdg-cache"))
    before = set(_all_pids())
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                     headless=True, timeout=TIMEOUT_S * 1000, env=env)
    except BaseException:
        _track_new_children(tracker, before)
        pw.stop()
        raise
    _track_new_children(tracker, before)
    return pw, browser


def _track_new_children(tracker: ProcessTracker, before: set[int]) -> None:
    for p in set(_all_pids()) - before:
        if _descends_from_us(p) or any(m in _cmdline(p, 4096) for m in tracker.markers):
            tracker.add_tree(p)


def _descends_from_us(pid: int) -> bool:
    me = os.getpid()
    for _ in range(50):
        st = _stat(pid)
        if st is None or st[0] <= 1:
            return False
        if st[0] == me:
            return True
        pid = st[0]
    return False


_NUM = re.compile(r"[-+\u2212]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")


def parse_number(text: str) -> float:
    m = _NUM.search(text.strip())
    if m is None:
        raise WidgetCheckError(f"slider readout {text!r} is not a number")
    return float(m.group().replace(MINUS, "-"))


def _readout_tol(readout: str) -> float:
    """Half a unit in the last digit the readout shows."""
    digits = readout.strip().split(".")[1] if "." in readout else ""
    decimals = len(re.match(r"\d*", digits).group())
    return 0.5 * 10 ** -decimals + 1e-9


def _close_to_readout(value: float, readout: str) -> bool:
    try:
        return math.isclose(value, parse_number(readout), abs_tol=_readout_tol(readout))
    except WidgetCheckError:
        return False


def _text_tol(text: str) -> float:
    m = re.search(r"\.(\d+)", text)
    return 0.5 * 10 ** -(len(m.group(1)) if m else 0)


def summary_mentions(summary: str, value: float, readout: str) -> bool:
    """Does the summary show `value` (to the readout's or the summary's own precision)?

    Numbers, not strings: "+0.20" (readout) matches "kappa=+0.2" and "-0.50" matches the
    readout "−0.50" (U+2212).
    """
    for m in _NUM.finditer(summary):
        text = m.group()
        try:
            number = float(text.replace(MINUS, "-"))
        except ValueError:
            continue
        if math.isclose(number, value, abs_tol=max(_readout_tol(readout), _text_tol(text))):
            return True
    return False


# JS run in the page: the state of the notebook's outputs (which Demos rendered), and any
# sign that a widget did not render (the failures readers actually meet).
_SCAN_JS = r"""
() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return {state: 'no-notebook'};
  const text = (el) => (el.innerText || el.textContent || '');
  const problems = [];
  for (const o of panel.querySelectorAll('.jp-OutputArea-output')) {
    if (o.closest('.jupyter-widgets')) continue;  // text *inside* a widget (e.g. Output)
    const t = text(o).trim();
    const mime = o.getAttribute('data-mime-type') || '';
    if (/Error displaying widget/.test(t)) problems.push('widget error: ' + t.slice(0, 300));
    else if (/^(interactive|VBox|HBox|Box|GridBox|\w*Slider|Output|HTML|Dropdown)\(/.test(t))
      problems.push('no widget rendered, plain-text repr instead: ' + t.slice(0, 200));
    else if (mime === 'application/vnd.jupyter.error' ||
             o.querySelector('[data-mime-type="application/vnd.jupyter.error"]') ||
             (mime === 'application/vnd.jupyter.stderr' &&
              /Traceback \(most recent call last\)/.test(t)))
      problems.push('cell error: ' + t.slice(0, 800));
  }
  const broken = [...panel.querySelectorAll('.jupyter-widgets')].map(text)
    .find(t => /Error displaying widget/.test(t));
  if (broken) problems.push('widget error: ' + broken.slice(0, 300));
  const demos = [...panel.querySelectorAll('.pyrl-demo-summary')].map((s) => {
    const root = s.closest('.widget-vbox');
    const img = root && root.querySelector('.widget-output img');
    return {summary: text(s).trim(), img: !!img,
            sliders: root ? root.querySelectorAll('.widget-slider').length : 0};
  });
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
    .map(p => p.textContent.trim());
  const busy = prompts.some(p => p.includes('[*]'));
  let unrun = 0;  // non-empty code cells without an execution count (from the model)
  try {
    const isNb = (w) => w && w.node.classList.contains('jp-NotebookPanel');
    const app = window.jupyterapp;
    const nb = isNb(app.shell.currentWidget) ? app.shell.currentWidget
      : [...app.shell.widgets('main')].find(isNb);
    unrun = nb.content.widgets.filter(c => c.model.type === 'code' &&
      c.model.sharedModel.getSource().trim() && c.model.executionCount == null).length;
  } catch (e) { /* not a JupyterLab page (the scanner's own test) */ }
  return {state: 'ok', problems, demos, busy, unrun, runAll: window.__pyrlRunAll || null,
          sliders: panel.querySelectorAll('.widget-slider').length};
}
"""


def kernel_status(page) -> str:
    return page.evaluate("""() => {
      const bar = document.querySelector('#jp-main-statusbar');
      if (!bar) return '';
      const item = [...bar.querySelectorAll('.jp-StatusBar-TextItem, span')]
        .map(e => e.textContent).find(t => / \\| /.test(t) || /Kernel/i.test(t));
      return item || '';
    }""")


def wait_until(fn: Callable[[], object], what: str | Callable[[], str], page=None,
               timeout: float = TIMEOUT_S, interval: float = 0.1):
    """Poll fn until truthy; `what` (or what()) says what we waited for on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() > deadline:
            desc = what() if callable(what) else what
            raise WidgetCheckError(f"timed out after {timeout:.0f} s waiting for {desc}")
        if page is not None:
            page.wait_for_timeout(interval * 1000)
        else:
            time.sleep(interval)


@dataclass
class NotebookResult:
    path: str
    demos: int = 0
    moves: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def open_and_run(page, server: LabServer, nb_rel: str, result: NotebookResult) -> dict:
    """Open the notebook in a fresh workspace, wait for an idle kernel, run all cells.

    Returns the scan once every cell has run and every Demo shows sliders and a figure;
    raises WidgetCheckError as soon as a widget error, a plain-text widget repr or a cell
    error shows up.
    """
    t0 = time.perf_counter()
    ws = "t" + uuid.uuid4().hex[:10]  # fresh workspace: no documents restored from others
    page.goto(f"{server.url}/lab/workspaces/{ws}/tree/{nb_rel}?token={server.token}",
              wait_until="domcontentloaded", timeout=TIMEOUT_S * 1000)
    page.wait_for_function("() => window.jupyterapp && document.querySelector("
                           "'.jp-NotebookPanel:not(.lm-mod-hidden)')",
                           timeout=TIMEOUT_S * 1000)
    result.timings["open"] = time.perf_counter() - t0

    # The toolbar's kernel indicator says idle before the kernel is really ready; the
    # status bar's "Python 3 (ipykernel) | Idle" is the reliable one.
    def idle():
        dialog = page.locator(".jp-Dialog")
        if dialog.count():  # e.g. "Select Kernel" when the kernelspec is unknown
            raise WidgetCheckError(f"{nb_rel}: a dialog is open instead of an idle kernel: "
                                   f"{dialog.first.inner_text()[:300]!r}")
        status = kernel_status(page)
        return "No Kernel" not in status and re.search(r"\|\s*Idle\b", status)

    wait_until(idle, lambda: f"the status bar to show the kernel idle (it shows "
                             f"{kernel_status(page)!r})", page)
    result.timings["kernel idle"] = time.perf_counter() - t0 - result.timings["open"]

    t1 = time.perf_counter()
    # runmenu:run-all (Run > Run All Cells). Its promise settles when the last cell has
    # run; it is not awaited here, so errors are seen while later cells still run.
    page.evaluate("""() => {
      const app = window.jupyterapp;
      const isNb = (w) => w && w.node.classList.contains('jp-NotebookPanel');
      const nb = isNb(app.shell.currentWidget) ? app.shell.currentWidget
        : [...app.shell.widgets('main')].find(isNb);
      app.shell.activateById(nb.id);
      window.__pyrlRunAll = 'running';
      app.commands.execute('runmenu:run-all').then(
        (ok) => { window.__pyrlRunAll = ok === false ? 'stopped' : 'done'; },
        (err) => { window.__pyrlRunAll = 'error: ' + err; });
    }""")

    def finished_or_problem():
        s = page.evaluate(_SCAN_JS)
        if s["state"] != "ok":
            return None
        if s["problems"] or (s["runAll"] != "running" and not s["busy"]):
            return s
        return None

    scan = wait_until(finished_or_problem, "run-all to finish", page, timeout=RUN_TIMEOUT_S)
    if scan["problems"]:
        note = ("" if not any(p.startswith("cell error") for p in scan["problems"]) else
                " (Run All stops at the first error, also in a cell tagged raises-exception,"
                " so a reader never reaches the cells below)")
        raise WidgetCheckError(f"{nb_rel}: " + "; ".join(scan["problems"]) + note)
    if scan["runAll"] != "done" or scan["unrun"]:
        raise WidgetCheckError(f"{nb_rel}: run-all ended with {scan['runAll']!r}, "
                               f"{scan['unrun']} code cells not run")
    result.timings["run all"] = time.perf_counter() - t1

    def demos_drawn():
        s = page.evaluate(_SCAN_JS)
        return s if s["problems"] or all(d["img"] for d in s["demos"]) else None

    scan = wait_until(demos_drawn, "every Demo to show its figure", page, timeout=30)
    if scan["problems"]:
        raise WidgetCheckError(f"{nb_rel}: " + "; ".join(scan["problems"]))
    if not scan["demos"]:
        raise WidgetCheckError(
            f"{nb_rel}: all cells ran but no Demo (.pyrl-demo-summary) rendered; "
            f"{scan['sliders']} sliders on the page. (Selected because a code cell calls "
            f"something matching {DEMO_CALL.pattern!r}.)")
    return scan


def _demo_root(page, i: int):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .pyrl-demo-summary").nth(i) \
               .locator("xpath=ancestor::*[contains(@class,'widget-vbox')][1]")


def _state(root) -> tuple[str, str | None]:
    """(summary text, figure <img> src: a data: URL holding the PNG) of a Demo."""
    summary = root.locator(".pyrl-demo-summary").inner_text().strip()
    img = root.locator(".widget-output img")
    src = img.first.get_attribute("src") if img.count() else None
    return summary, src


def _wait_redraw(page, root, before: tuple[str, str | None], what: str,
                 need_summary: bool):
    def changed():
        s = _state(root)
        summary_ok = s[0] != before[0] or not need_summary
        return s if (summary_ok and s[1] and s[1] != before[1]) else None
    try:
        return wait_until(changed, f"the figure{' and summary' if need_summary else ''} to "
                          f"change after {what}", page, timeout=min(TIMEOUT_S, 30))
    except WidgetCheckError as e:
        now = _state(root)
        raise WidgetCheckError(
            f"{e}: summary {'changed' if now[0] != before[0] else 'UNCHANGED'} "
            f"({before[0]!r} -> {now[0]!r}), figure "
            f"{'changed' if now[1] != before[1] else 'UNCHANGED'}") from None


def _name(label: str) -> str:
    """The variable a slider's description names: 'kappa (<0 risk-seeking)' -> 'kappa'."""
    m = re.match(r"[A-Za-z_]\w*", label.strip())
    return m.group().lower() if m else label.strip().lower()


def check_demo(page, i: int, result: NotebookResult,
               expected_summary: Callable[[dict], str] | None = None) -> None:
    """Move each slider of Demo number i; the figure and summary must follow.

    Every slider: one keyboard step on its handle (kappa: a step and back); numeric
    sliders (FloatSlider/IntSlider) also get a value typed into their readout. After each
    move the figure's PNG must change, and the summary line (if the Demo has one) must
    change and show the slider's new value: always for kappa, for other sliders when the
    summary names them (e.g. "entropy_coef=0.01"). With expected_summary (the fixture),
    the summary must also equal what it computes for the values the readouts show.
    """
    root = _demo_root(page, i)
    sliders = root.locator(".widget-slider")
    labels = [sliders.nth(k).locator(".widget-label").inner_text().strip()
              for k in range(sliders.count())]
    if not labels:
        result.moves.append(f"demo {i}: no sliders (other controls only), not moved")
        return
    has_summary = bool(_state(root)[0])  # empty: a Demo without summary_fn

    def readouts() -> dict[str, str]:
        return {labels[k]: sliders.nth(k).locator(".widget-readout").inner_text().strip()
                for k in range(len(labels))}

    def verify(label: str, how: str, before, after) -> None:
        readout = readouts()[label]
        note = ""
        if has_summary:
            name = _name(label)
            strict = name == "kappa" or name in before[0].lower() or name in after[0].lower()
            if strict and not summary_mentions(after[0], parse_number(readout), readout):
                raise WidgetCheckError(f"demo {i}: after {how}, the summary {after[0]!r} "
                                       f"does not show the new {label} value {readout!r}")
            note = "" if strict else " (summary does not name it)"
            if expected_summary is not None:
                want = expected_summary(readouts())
                if after[0] != want:
                    raise WidgetCheckError(f"demo {i}: after {how}, the page shows "
                                           f"{after[0]!r}; the library computes {want!r}")
        else:
            note = " (no summary: figure only)"
        result.moves.append(f"demo {i} {label}: {how} -> {readout!r}{note}")

    for k, label in enumerate(labels):
        slider = sliders.nth(k)
        handle = slider.locator(".noUi-handle")
        readout = slider.locator(".widget-readout")
        if not handle.count():
            raise WidgetCheckError(f"demo {i}: slider {label!r} has no handle")

        # A numeric slider's handle carries the value itself (aria-valuetext); a
        # SelectionSlider's carries the option index (its readout is the option's label).
        # Compared at two positions, so an option list like [0, 0.01, 0.1] is not mistaken.
        def same_as_readout() -> bool:
            return _close_to_readout(float(handle.get_attribute("aria-valuetext")),  # noqa: B023
                                     readout.inner_text())  # noqa: B023

        numeric = True
        rng = slider.locator(".slider").evaluate(
            "e => { const o = e.noUiSlider.options; return {min: o.range.min, "
            "max: o.range.max, step: o.step, now: Number(e.noUiSlider.get())}; }")
        keys = (["ArrowRight", "ArrowLeft"] if rng["now"] < rng["max"]
                else ["ArrowLeft", "ArrowRight"])
        # kappa: a step and back; the others: one step.
        for key in (keys if _name(label) == "kappa" else keys[:1]):
            numeric &= same_as_readout()
            before = _state(root)
            handle.focus()
            page.keyboard.press(key)
            after = _wait_redraw(page, root, before, f"{key} on {label!r}", has_summary)
            numeric &= same_as_readout()
            verify(label, key, before, after)
        if numeric and readout.get_attribute("contenteditable") == "true":
            lo, hi, step = rng["min"], rng["max"], rng["step"] or 1e-6
            cur = parse_number(readout.inner_text())
            target = lo + round(0.25 * (hi - lo) / step) * step  # negative if range allows
            if abs(target - cur) < step / 2:
                target = lo + round(0.75 * (hi - lo) / step) * step
            typed = format(round(target, 6), "g")  # an ASCII minus, as a reader types it
            before = _state(root)
            readout.fill(typed)
            readout.press("Enter")
            after = _wait_redraw(page, root, before, f"typing {typed!r} into {label!r}",
                                 has_summary)
            shown = readout.inner_text().strip()
            if not _close_to_readout(float(typed), shown):
                raise WidgetCheckError(f"demo {i}: typed {typed!r} into {label!r}, "
                                       f"readout shows {shown!r}")
            if float(typed) < 0 and MINUS not in shown:
                raise WidgetCheckError(f"demo {i}: readout {shown!r} for a negative value "
                                       f"has no Unicode minus (U+2212)")
            verify(label, f"typed {typed!r} (readout {shown!r})", before, after)


def check_demo_notebook(page, server: LabServer, nb_rel: str,
                        expected_summary: Callable[[dict], str] | None = None
                        ) -> NotebookResult:
    result = NotebookResult(nb_rel)
    scan = open_and_run(page, server, nb_rel, result)
    result.demos = len(scan["demos"])
    t = time.perf_counter()
    for i in range(result.demos):
        check_demo(page, i, result, expected_summary)
    result.timings["slider moves"] = time.perf_counter() - t
    return result
