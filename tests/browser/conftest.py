"""Fixtures for the browser tests: one JupyterLab and one headless Chromium per session.

Without /usr/bin/chromium (or the playwright package) these tests skip, unless the
environment variable CI is set: then they fail, so CI cannot pass by skipping them.
Every process started here is stopped at the end of the session, by pid, also on failure.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jlab_harness as H  # noqa: E402

# The fixture notebook is opened in JupyterLab by the tests, not executed by nbmake
# (`make test` passes --nbmake with the tests/ directory).
collect_ignore_glob = ["fixtures/*"]

REPO, TIMINGS, demo_notebooks = H.REPO, H.TIMINGS, H.demo_notebooks


def _unavailable() -> str | None:
    if not (H.CHROMIUM.is_file() and os.access(H.CHROMIUM, os.X_OK)):
        return f"{H.CHROMIUM} not found (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as e:
        return f"playwright is not installed ({e}); pip install -e '.[dev]'"
    return None


@pytest.fixture(scope="session")
def chromium_available():
    why = _unavailable()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {why}", pytrace=False)
        pytest.skip(f"browser tests skipped: {why}")


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def browser_home(tmp_path_factory):
    """One temp dir for everything this session starts (its path marks our processes)."""
    return tmp_path_factory.mktemp("browser-tests")


@pytest.fixture(scope="session")
def tracker(chromium_available, browser_home):
    t = H.ProcessTracker(markers=[str(browser_home) + os.sep])
    # A CI timeout sends SIGTERM, which would end pytest without teardown and leave
    # JupyterLab and chromium running: make it an interrupt, which pytest tears down.
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt) if main else None
    try:
        yield t
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
    killed = t.kill_all()  # after the graceful stops below (fixtures end in reverse order)
    if killed:
        sys.stderr.write("\nbrowser tests: had to kill leftover processes:\n  "
                         + "\n  ".join(killed) + "\n")
    left = t.leftovers()
    assert not left, f"processes still alive after teardown: {left}"


@pytest.fixture(scope="session")
def lab_root(browser_home):
    """A temp copy of the notebooks: JupyterLab writes checkpoints beside what it opens."""
    root = browser_home / "lab-root"
    return root, H.make_root(root, demo_notebooks(), REPO)


def _start_lab(browser_home, tracker, lab_root, disable_widgets: bool):
    root, _ = lab_root
    home = browser_home / ("lab-home-no-widgets" if disable_widgets else "lab-home")
    t0 = time.perf_counter()
    server = H.LabServer(root, home, tracker, disable_widgets=disable_widgets)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    TIMINGS.append(("jupyter lab start" + (" (widgets disabled)" if disable_widgets else ""),
                    {"total": time.perf_counter() - t0}))
    return server


@pytest.fixture(scope="session")
def lab(browser_home, tracker, lab_root):
    server = _start_lab(browser_home, tracker, lab_root, disable_widgets=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def lab_without_widgets(browser_home, tracker, lab_root):
    """Negative control: the same JupyterLab with the widget front-end disabled."""
    server = _start_lab(browser_home, tracker, lab_root, disable_widgets=True)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(tracker, browser_home):
    t0 = time.perf_counter()
    pw, b = H.start_browser(tracker, browser_home / "chromium")
    TIMINGS.append(("chromium start", {"total": time.perf_counter() - t0}))
    try:
        yield b
    finally:
        try:
            b.close()
        finally:
            pw.stop()


@pytest.fixture(scope="session")
def browser_context(browser):
    """One context for the session: JupyterLab's static files are fetched and compiled
    once (HTTP and code cache); each notebook still gets its own page and workspace."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(H.TIMEOUT_S * 1000)
    yield ctx
    ctx.close()


@pytest.fixture
def new_page(browser_context):
    """A fresh page per notebook (a new JupyterLab instance); closed afterwards."""
    pages = []

    def make():
        pages.append(browser_context.new_page())
        return pages[-1]

    yield make
    for p in pages:
        p.close()


def pytest_terminal_summary(terminalreporter):
    if not TIMINGS:
        return
    tr = terminalreporter
    tr.section("browser test timings (s)")
    for name, t in TIMINGS:
        parts = ", ".join(f"{k} {v:.1f}" for k, v in t.items() if k != "total")
        tr.write_line(f"{t['total']:6.1f}  {name}" + (f"  ({parts})" if parts else ""))
    tr.write_line(f"{sum(t['total'] for _, t in TIMINGS):6.1f}  sum")
