"""The sliders, as a reader meets them: JupyterLab in headless Chromium.

For every notebook with a demo (notebooks/*.ipynb with a code cell calling Demo(...),
something_demo(...) or demos(...); plus fixtures/demo_fixture.ipynb): open it, wait for
the status bar to show the kernel idle, run all cells (runmenu:run-all), wait for the
sliders and the figures, then move each slider of every Demo with the keyboard on its
handle (kappa: a step and back) and type a value into numeric sliders' readouts. After
every move the figure's PNG (the <img> data) and the summary line (.pyrl-demo-summary)
must change, and the summary must show the slider's new value (always for kappa; for
other sliders when the summary names them). For the fixture the summary must also equal
what its summary_fn computes here, in the test process, for the values the readouts show.

Negative control: with the widget front-end disabled, the same check must fail.

Run:  .venv/bin/python -m pytest tests/browser -v      (or: make test, which includes it)
Env:  PYRL_BROWSER_TIMEOUT       s, default 90: bound on each wait
      PYRL_BROWSER_RUN_TIMEOUT   s, default 600: bound on one notebook's run-all
      PYRL_BROWSER_NOTEBOOKS     paths or globs replacing notebooks/*.ipynb
      PYRL_BROWSER_ARTIFACTS     where failure screenshots go (default: a new temp dir)
      PYRL_CHROMIUM              default /usr/bin/chromium
      CI                         set: a missing chromium is an error, not a skip
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import jlab_harness as H
import pytest
from jlab_harness import FIXTURE_NB, REPO, TIMINGS, demo_notebooks

pytestmark = pytest.mark.browser

sys.path.insert(0, str(FIXTURE_NB.parent))


def _fixture_summary(readouts: dict[str, str]) -> str:
    """What the fixture's summary_fn computes for the values the readouts show."""
    from demo_fixture_fns import summary_fn

    kw = {}
    for label, text in readouts.items():
        name = "kappa" if label.lower().startswith("kappa") else label
        kw[name] = H.parse_number(text)
    return summary_fn(**kw)


def _artifact_dir() -> Path:
    d = os.environ.get("PYRL_BROWSER_ARTIFACTS")
    path = Path(d) if d else Path(tempfile.mkdtemp(prefix="pyrl-browser-failure-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _check(page, server, rel: str, expected=None) -> H.NotebookResult:
    """Run the check; on failure save a screenshot and the server log, print their paths."""
    try:
        return H.check_demo_notebook(page, server, rel, expected)
    except Exception as e:
        out = _artifact_dir()
        shot = out / (rel.replace("/", "__") + ".png")
        try:
            page.screenshot(path=str(shot), full_page=True)
        except Exception as se:  # the page may be gone
            shot = Path(f"(no screenshot: {se})")
        log = out / (rel.replace("/", "__") + ".jupyter.log")
        log.write_text(server.log_tail(200))
        msg = f"\n  screenshot: {shot}\n  jupyter log: {log}"
        print(msg, file=sys.stderr)
        if isinstance(e, AssertionError):
            raise type(e)(f"{e}{msg}") from None
        raise AssertionError(f"{type(e).__name__}: {e}{msg}") from e


def _nb_id(p: Path) -> str:
    return p.relative_to(REPO).as_posix() if p.is_relative_to(REPO) else p.name


@pytest.mark.parametrize("notebook", demo_notebooks(), ids=_nb_id)
def test_sliders_redraw(notebook, lab, lab_root, new_page):
    _, mapping = lab_root
    rel = mapping[notebook]
    expected = _fixture_summary if notebook == FIXTURE_NB else None
    t0 = time.perf_counter()
    try:
        result = _check(new_page(), lab, rel, expected)
    finally:
        lab.shutdown_kernels(wait=False)  # overlaps with the next notebook
    result.timings["total"] = time.perf_counter() - t0
    TIMINGS.append((rel, result.timings))
    print(f"{rel}: {result.demos} demo(s)", *result.moves, sep="\n  ")
    moved = [m for m in result.moves if "->" in m]
    assert moved, f"no slider was moved: {result.moves}"
    if notebook == FIXTURE_NB:  # the fixture exercises every kind of move
        assert [m.split(": ")[1].split(" ->")[0] for m in moved] == [
            "ArrowRight", "ArrowLeft", "ArrowRight", "ArrowRight", "typed '-0.5' (readout "
            "'\u22120.50')"], result.moves


def test_negative_control_without_widget_frontend(lab_without_widgets, lab_root, new_page):
    """With @jupyter-widgets/jupyterlab-manager disabled the slider check must fail.

    A Demo's display also carries a PNG of its default figure (for static renderers), so
    without the widget frontend JupyterLab shows that picture and no slider.
    """
    _, mapping = lab_root
    t0 = time.perf_counter()
    page = new_page()
    try:
        with pytest.raises(H.WidgetCheckError,
                           match=r"no widget rendered|no Demo .* rendered; 0 sliders") as info:
            H.check_demo_notebook(page, lab_without_widgets, mapping[FIXTURE_NB],
                                  _fixture_summary)
        pictures = page.locator('.jp-OutputArea-output[data-mime-type="image/png"] img').count()
    finally:
        lab_without_widgets.shutdown_kernels(wait=False)
    TIMINGS.append(("negative control (widgets disabled)",
                    {"total": time.perf_counter() - t0}))
    assert ("VBox(" in str(info.value) or "Error displaying widget" in str(info.value)
            or pictures >= 1), (str(info.value), pictures)


@pytest.mark.parametrize("output, expected", [
    ('<div class="jp-OutputArea-output">Error displaying widget: model not found</div>',
     "widget error: Error displaying widget: model not found"),
    ('<div class="jp-OutputArea-output" data-mime-type="text/plain">'
     '<pre>interactive(children=(FloatSlider(value=0.0), Output()))</pre></div>',
     "no widget rendered, plain-text repr instead: interactive(children="),
    ('<div class="jp-OutputArea-output" data-mime-type="application/vnd.jupyter.stderr">'
     '<pre>Traceback (most recent call last):\nDataFileError: missing</pre></div>',
     "cell error: Traceback"),
], ids=["model-not-found", "plain-repr", "cell-error"])
def test_scanner_sees_what_readers_see(browser_context, output, expected):
    """The page scan flags the failures readers meet (no JupyterLab needed: a static page
    with JupyterLab's output markup). 'model not found' is hard to provoke for real."""
    page = browser_context.new_page()
    try:
        page.set_content(f'<div class="jp-NotebookPanel"><div class="jp-OutputArea">'
                         f'{output}</div></div>')
        scan = page.evaluate(H._SCAN_JS)
    finally:
        page.close()
    assert scan["state"] == "ok" and not scan["demos"]
    assert any(p.startswith(expected) for p in scan["problems"]), scan["problems"]
