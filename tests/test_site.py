"""The static edition (`make site`, tools/build_site.py) and the first-visit files.

One small notebook is built for real (a kernel runs it twice, about 20 s: its student and its
instructor edition): a plain figure, a folded cell with a figure, a slider Demo, a Train-style
button, a tagged cell, and an exercise with its solution and a Think! answer. The real
notebooks are built by `make site` itself, which fails when a page holds no figure.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import build_site  # noqa: E402

FOLDED_SRC = "folded_marker = 'this source is folded'"


def _tiny_notebook() -> nbformat.NotebookNode:
    folded = new_code_cell(
        f"{FOLDED_SRC}\nfig, ax = plt.subplots(figsize=(2, 2)); ax.plot([1, 0]); plt.show()")
    folded.metadata["jupyter"] = {"source_hidden": True}
    tagged = new_code_cell("print('tagged cell ran')")
    tagged.metadata["tags"] = ["hide-input"]
    nb = new_notebook(cells=[
        new_markdown_cell("# A tiny notebook\n\nWith $x^2$ in it."),
        new_code_cell("%matplotlib inline\nimport matplotlib.pyplot as plt\n"
                      "import ipywidgets as W\n"
                      "from pyrl_mini.widgets import Demo, float_slider"),
        new_code_cell("fig, ax = plt.subplots(figsize=(2, 2)); ax.plot([0, 1]); plt.show()"),
        folded,
        new_code_cell("def plot(offset):\n"
                      "    f = plt.figure(figsize=(2, 2)); f.add_subplot().plot([offset, 1])\n"
                      "    return f\n"
                      "Demo(plot, offset=float_slider('offset', -1, 1, 0.5, 0.0))"),
        new_code_cell("W.Button(description='Train')"),
        tagged,
        new_code_cell("def double(x):\n    ..."),
        new_code_cell("print('not done yet: double' if double(1) is None else 'correct: double')"),
        new_markdown_cell("<details><summary>Solution (open after trying)</summary>\n\n"
                          "```python\ndef double(x):\n    return x * 2  # SOLUTION_MARK\n```\n"
                          "</details>\n\n**Think!** Why twice?\n\n<details><summary>Answer"
                          "</summary>\nANSWER_MARK because.\n</details>"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    src = tmp_path_factory.mktemp("nb")
    # Named like the first real notebook, so the home page's verdict table links to it.
    path = src / "00_task_network_trainer.ipynb"
    nbformat.write(_tiny_notebook(), path)
    out = tmp_path_factory.mktemp("site")
    lines: list[str] = []
    stats = build_site.build([path], out, timeout=120,
                             log=lambda *a, **k: lines.append(" ".join(map(str, a))))
    return out, stats, lines


PAGES = ("student/00_task_network_trainer.html", "instructor/00_task_network_trainer.html")


@pytest.mark.parametrize("name", PAGES)
def test_page_holds_every_figure_and_the_demo_picture(site, name):
    out, stats, lines = site
    page = (out / name).read_text()
    # plain figure + folded figure + the Demo's default state
    assert build_site.count_figures(page) == 3
    s = stats[name]
    assert (s["figures"], s["demos"], s["controls"], s["folded"]) == (3, 1, 1, 2)
    assert any(line.strip().startswith(f"{name}: 3 figures (1 slider demos as pictures)")
               for line in lines)
    # no widget placeholder or widget repr reaches the page; the button becomes a note
    assert "widget-view+json" not in page
    assert "Button(" not in page and "VBox(" not in page
    assert page.count('class="pyrl-live-note"') == 1
    assert "the sliders live in JupyterLab" in page
    assert "tagged cell ran" in page  # a folded input keeps its output visible


def test_each_edition_is_labelled_and_shows_only_its_own_solutions(site):
    out, _, _ = site
    student = (out / PAGES[0]).read_text()
    instructor = (out / PAGES[1]).read_text()
    assert "SOLUTION_MARK" not in student and "ANSWER_MARK" not in student
    assert "The <strong>student edition</strong>" in student
    assert "not done yet: double" in student  # the scaffold ran, and the check said so
    assert "SOLUTION_MARK" in instructor and "ANSWER_MARK because" in instructor
    assert "The <strong>instructor edition</strong>" in instructor
    assert "correct: double" in instructor  # the solution ran in the exercise cell
    assert 'href="../instructor/00_task_network_trainer.html"' in student
    assert 'href="../site.css"' in student


def test_folded_cells_stay_folded(site):
    out, _, _ = site
    page = (out / PAGES[0]).read_text()
    folds = re.findall(r"<details class=\"pyrl-folded\">(.*?)</details>", page, re.S)
    assert len(folds) == 2
    assert "folded_marker" in folds[0] and "tagged" in folds[1]
    before_first_fold = page[: page.index("<details")]
    assert "folded_marker" not in before_first_fold
    # the plain cell's source is not folded
    assert "ax.plot([0, 1])" in re.sub(r"<[^>]+>", "", before_first_fold)


def test_home_page_takes_roadmap_and_table_from_readme(site):
    out, _, _ = site
    home = (out / "index.html").read_text()
    readme = build_site.readme_sections((REPO / "README.md").read_text())
    rows = build_site.first_table(readme["Notebooks"]).splitlines()[2:]
    stems = [re.search(r"`(\d\d[a-z]?_\w+)`", r).group(1) for r in rows]
    assert len(stems) >= 6
    for stem in stems:
        assert f"<code>{stem}</code>" in home
    assert ('<a href="student/00_task_network_trainer.html"><code>00_task_network_trainer'
            '</code></a>') in home
    assert '<a href="instructor/00_task_network_trainer.html">instructor</a>' in home
    assert '<a href="instructor_guide.html">' in home
    guide = (out / "instructor_guide.html").read_text()
    assert "Instructor" in guide and 'href="index.html"' in guide
    roadmap = readme["Roadmap"].splitlines()
    assert len(roadmap) == 3
    for line in roadmap:  # "1. `00`: the gambling task, ..." -> "the gambling task, ..."
        assert line.split(":", 1)[1].strip()[:25] in home, line
    assert "the sliders themselves\nlive in JupyterLab" in home
    for img in re.findall(r'<img src="([^"]+)"', home):  # the README picture, copied
        assert (out / img).is_file(), img


def test_demo_display_carries_its_picture(monkeypatch):
    from pyrl_mini import widgets

    shown = []
    monkeypatch.setattr(widgets, "display", lambda obj, **kw: shown.append((obj, kw)))
    import matplotlib.pyplot as plt

    def plot(offset):
        fig = plt.figure(figsize=(2, 2))
        fig.add_subplot().plot([offset, 1])
        return fig

    demo = widgets.Demo(plot, offset=widgets.float_slider("offset", -1, 1, 0.5, 0.0))
    shown.clear()
    demo._ipython_display_()
    (bundle, kw), = shown
    assert kw == {"raw": True}
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == demo.widget.model_id
    assert base64.b64decode(bundle["image/png"]) == demo.png
    assert demo.png.startswith(b"\x89PNG")


def test_page_without_figures_fails_the_build(tmp_path):
    nb = new_notebook(cells=[new_code_cell("x = 1")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, tmp_path / "01_empty.ipynb")
    with pytest.raises(build_site.SiteError,
                       match=r"no figure on student/01_empty\.html, instructor/01_empty\.html"):
        build_site.build([tmp_path / "01_empty.ipynb"], tmp_path / "out", timeout=60,
                         log=lambda *a, **k: None)


def test_missing_notebook_is_one_clear_error(tmp_path, capsys):
    assert build_site.main(["--out", str(tmp_path), str(tmp_path / "nope.ipynb")]) == 1
    assert "no such notebook" in capsys.readouterr().err


# --------------------------------------------------------------------------- first visit

def test_lab_lists_each_notebook_once():
    """`make lab`'s server config hides the paired .py sources (and keeps the defaults)."""
    from jupyter_server.services.contents.manager import ContentsManager

    config = json.loads((REPO / "tools/jupyterlab/jupyter_lab_config.json").read_text())
    globs = config["ContentsManager"]["hide_globs"]
    assert set(ContentsManager().hide_globs) <= set(globs)  # the defaults stay hidden
    listed = [p.name for p in (REPO / "notebooks").iterdir()
              if not any(fnmatch.fnmatch(p.name, g) for g in globs)]
    stems = [Path(n).stem for n in listed if n.endswith((".ipynb", ".py"))]
    assert sorted(set(stems)) == sorted(stems), listed  # each notebook once
    assert all(n.endswith(".ipynb") for n in listed if n[:2].isdigit()), listed
    assert len([n for n in listed if n.endswith(".ipynb")]) == len(
        list((REPO / "notebooks").glob("*.ipynb")))


def test_lab_news_popup_is_off_by_a_valid_setting():
    overrides = json.loads((REPO / "tools/jupyterlab/overrides.json").read_text())
    plugin = overrides["@jupyterlab/apputils-extension:notification"]
    schema = json.loads((Path(sys.prefix) / "share/jupyter/lab/schemas/@jupyterlab/"
                         "apputils-extension/notification.json").read_text())
    fetch = schema["properties"]["fetchNews"]
    never = [c["const"] for c in fetch["oneOf"] if c["title"] == "Never"]
    assert plugin["fetchNews"] == "false" and never == ["false"]  # not "none" (= ask)
    assert plugin["checkForUpdates"] is False


ANALYSIS_URL = "https://github.com/vladyslav-honcharuk/pyrl/blob/claude/gradual-kappa-adjustment/GRADIENT_ANALYSIS.md"  # noqa: E501


def test_readme_links_license_and_citation():
    readme = (REPO / "README.md").read_text()
    top = readme[: readme.index("## The kappa convention")]
    for url in ("https://github.com/vladyslav-honcharuk/pyrl",
                ANALYSIS_URL,
                "doi.org/10.7554/eLife.21492"):
        assert url in top, url
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", top)
    assert len(pictures) == 1 and (REPO / pictures[0]).is_file()
    assert "chromium" in top.lower() and "TORCH_INDEX_URL" in top and "make site" in top
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert {"cff-version", "message", "title", "authors"} <= set(cff)
    assert any(r.get("doi") == "10.7554/eLife.21492" for r in cff["references"])
