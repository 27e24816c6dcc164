import pytest
import torch

# One thread: the machine has 2 cores and tests run beside other work; results do not depend on it.
torch.set_num_threads(1)


@pytest.fixture(scope="module")
def quiet():
    """Demos built outside a notebook: widgets.display shows nothing (there is nowhere to)."""
    from pyrl_mini import widgets

    mp = pytest.MonkeyPatch()
    mp.setattr(widgets, "display", lambda *a, **k: None)
    yield
    mp.undo()


# Progress: `make test` prints one line per file and a dot per test as it ends (a notebook's
# file name shows while it runs). A browser test takes up to minutes, several to a file, so
# each says when it starts on a line of its own, which its result (., F or s) ends.
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logstart(nodeid, location):
    if _terminal is not None and nodeid.startswith("tests/browser/") \
            and _terminal.verbosity <= 0:
        _terminal.ensure_newline()  # the test's dot (or F, s) ends this line
        _terminal.write(f"  {nodeid.split('::', 1)[-1]} (JupyterLab + headless Chromium) ",
                        flush=True)


def pytest_sessionstart(session):
    global _terminal  # registered by pytest's own pytest_configure, so looked up here
    _terminal = session.config.pluginmanager.get_plugin("terminalreporter")


_terminal = None
