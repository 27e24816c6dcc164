"""Build the static HTML edition of the notebooks (`make site`): _site/index.html, each notebook's
student and instructor edition (_site/student/, _site/instructor/) and the instructor's guide.

    .venv/bin/python tools/build_site.py                 # every notebooks/*.ipynb -> _site/
    .venv/bin/python tools/build_site.py --out /tmp/s notebooks/00_task_network_trainer.ipynb

Each notebook is executed the way a reader's JupyterLab runs it (a python3 kernel started in
the notebook's folder, top to bottom; an error stops the build and names the cell), then
rendered with nbconvert's bundled "lab" template (no download at build time) extended by
tools/site_template/. The editions come from pyrl_mini.editions: the student edition is the
executed notebook with its solutions and Think! answers removed (its code cells are the
notebook's own, so one run serves both), the instructor edition is executed on its own (its
exercise cells hold the solutions). On every page:
- a slider demo (widgets.Demo) shows its default state as a picture: Demo's display output
  carries a PNG next to the widget view, and here the PNG is preferred; any other widget
  (a Train button, a progress bar) becomes a one-line note, since nothing can run it here;
- cells folded in JupyterLab (metadata jupyter.source_hidden / outputs_hidden, or the tags
  hide-input / hide-output) stay folded, in a <details> element a click opens;
- every page links home, to the previous and next notebook of its edition and to the other
  edition, says which edition it is, and says the sliders live in JupyterLab (`make lab`).
The home page takes its introduction, roadmap and verdict table from README.md (one copy) and
links both editions and docs/instructor_guide.md (rendered as instructor_guide.html).
Pages load MathJax from its CDN to typeset equations; without a network they show the TeX.

The build fails (exit 1) if a notebook page holds no figure or a demo has no picture.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import nbclient_fix  # tools/: a cell's reply must not wait for its timeout (issue 33)
import nbformat
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter
from nbconvert.filters.markdown import markdown2html_mistune
from traitlets.config import Config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's pyrl_mini, also when not installed

from pyrl_mini import editions, lab  # noqa: E402

GUIDE = REPO / "docs" / "instructor_guide.md"
EDITIONS = ("student", "instructor")
TEMPLATES = Path(__file__).resolve().parent / "site_template"
WIDGET = "application/vnd.jupyter.widget-view+json"
# nbconvert's HTML priority without the widget view and javascript: a static page has no
# kernel and (offline) no widget manager, so the PNG next to a Demo's widget is shown.
PRIORITY = ["text/html", "text/markdown", "image/svg+xml", "text/latex", "image/png",
            "image/jpeg", "text/plain"]
IMG = re.compile(r"<img\b[^>]*\bsrc=\"data:image/(?:png|jpeg|svg\+xml)")
SVG = re.compile(r"<svg\b")
LIVE_NOTE = ('<p class="pyrl-live-note">A live control (a button or a progress bar) is here '
             "in JupyterLab: run <code>make lab</code> to use it.</p>")


class SiteError(Exception):
    """What is wrong with the build, in one line a reader can act on."""


# --------------------------------------------------------------------------- README parts

def readme_sections(text: str) -> dict[str, str]:
    """README.md split at its '## ' headings: {'': intro, 'Quick start': ..., ...}."""
    sections: dict[str, list[str]] = {"": []}
    current = ""
    fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
        if not fence and line.startswith("## "):
            current = line[3:].strip()
            sections[current] = []
        elif not fence and line.startswith("# ") and current == "":
            continue  # the title
        else:
            sections[current].append(line)
    return {k: "\n".join(v).strip() for k, v in sections.items()}


def first_table(markdown: str) -> str:
    """The first pipe table in a block of markdown (header, rule and rows)."""
    lines, table = markdown.splitlines(), []
    for line in lines:
        if line.lstrip().startswith("|"):
            table.append(line)
        elif table:
            break
    if len(table) < 3:
        raise SiteError("README.md's '## Notebooks' section holds no table; the home page "
                        "takes the verdict table from there.")
    return "\n".join(table)


# --------------------------------------------------------------------------- notebooks

def is_folded(cell, part: str) -> bool:
    """part 'input' or 'output': folded in JupyterLab (metadata) or by a Jupyter Book tag."""
    meta = cell.get("metadata", {})
    key = "source_hidden" if part == "input" else "outputs_hidden"
    return bool(meta.get("jupyter", {}).get(key)) or f"hide-{part}" in meta.get("tags", [])


def execute(nb, path: Path, timeout: int, kernel_log) -> None:
    """Run every cell as JupyterLab would (pyrl_mini.lab.execute: python3 kernel, working
    directory = the notebook's folder). The kernel's own stderr (start-up notices, its
    shutdown) and a line per cell go to kernel_log (a file)."""
    nbclient_fix.install()

    def started(cell, cell_index):  # where a slow or stuck build is, in the log
        print(f"{time.strftime('%H:%M:%S')} cell {cell_index}: {cell.source[:60]!r}",
              file=kernel_log, flush=True)

    try:
        lab.execute(nb, path.parent, timeout, stderr=kernel_log, on_cell=started)
    except CellExecutionError as err:
        last = str(err).strip().splitlines()[-1] if str(err).strip() else "error"
        raise SiteError(f"{path.name}: a cell failed ({last}); run the notebook in "
                        "JupyterLab to see it, fix it, then build again.") from None


def edition_of(nb, edition: str):
    """pyrl_mini.editions' edition of an nbformat notebook, as an nbformat notebook."""
    return nbformat.reads(json.dumps(editions.make(nb, edition)), as_version=4)


def prepare_outputs(nb) -> dict[str, int]:
    """Prefer each Demo's picture; replace other widgets by a note; drop progress bars."""
    counts = {"demos": 0, "controls": 0}
    # The widget state nbclient saved: with it the template would load a widget manager
    # from a CDN, to render widgets this page no longer shows.
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET in data:
                if "image/png" in data:
                    counts["demos"] += 1
                    out["data"] = {k: v for k, v in data.items() if k != WIDGET}
                elif "%|" in data.get("text/plain", ""):
                    continue  # a tqdm bar: its text is the state when it was first shown
                else:
                    counts["controls"] += 1
                    out["data"] = {"text/html": LIVE_NOTE}
            kept.append(out)
        cell["outputs"] = kept
    return counts


def _shown_path(path: Path) -> str:
    """The notebook's path in the repository (notebooks/00_x.ipynb), else its name."""
    try:
        return path.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return path.name


def title_of(nb, path: Path) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if m:
                return m.group(1).strip()
    return path.stem


def exporter() -> HTMLExporter:
    c = Config()
    c.NbConvertBase.display_data_priority = PRIORITY
    return HTMLExporter(config=c, template_name="pyrl", extra_template_basedirs=[str(TEMPLATES)],
                        exclude_input_prompt=True, exclude_output_prompt=True)


def count_figures(page: str) -> int:
    return len(IMG.findall(page)) + len(SVG.findall(page))


# --------------------------------------------------------------------------- home page

HOME = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>pyrl_mini: a static edition</title>
<link rel="stylesheet" href="site.css">
</head>
<body class="pyrl-home">
<main>
<h1>pyrl_mini</h1>
<p class="pyrl-edition">A static edition: every notebook run top to bottom, with its outputs
and figures. The slider demos show their default setting as a picture; the sliders themselves
live in JupyterLab (<code>make lab</code> in a clone of the repository).</p>
{intro}
<h2>Roadmap</h2>
{roadmap}
<h2>The notebooks and their verdicts</h2>
{table}
<h2>Two editions, and a guide for instructors</h2>
<p>Each notebook comes in two editions made from one source. The <strong>student
edition</strong> (the links above) has no solutions and no answers to the Think! questions;
an exercise left as it is prints "not done yet" and the notebook carries on with the
reference solution. The <strong>instructor edition</strong> has each solution in its
exercise cell (its check prints "correct") and the answers shown.</p>
{editions}
<p>The <a href="instructor_guide.html">instructor's guide</a>: per notebook the learning
objectives, how long it takes, each exercise with what it checks and its common wrong
answers, the Think! answers, suggested assignments and how to grade them.</p>
<p class="pyrl-built">Built {built} by <code>make site</code> ({seconds:.0f} s).</p>
</main>
</body>
</html>
"""


GUIDE_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>pyrl_mini: the instructor's guide</title>
<link rel="stylesheet" href="site.css">
</head>
<body class="pyrl-home">
<nav class="pyrl-nav"><a href="index.html">pyrl_mini</a></nav>
<main>
{body}
</main>
</body>
</html>
"""


def editions_list(stems: list[str], titles: dict[str, str]) -> str:
    rows = "\n".join(
        f'<tr><td>{titles.get(s, s)}</td><td><a href="student/{s}.html">student</a></td>'
        f'<td><a href="instructor/{s}.html">instructor</a></td></tr>' for s in stems)
    return ("<table><thead><tr><th>notebook</th><th colspan=\"2\">edition</th></tr></thead>"
            f"<tbody>\n{rows}\n</tbody></table>")


def guide_page(markdown: str) -> str:
    """docs/instructor_guide.md as a page; its links to the notebooks' files become links to
    their instructor editions here."""
    body = markdown2html_mistune(markdown)
    body = re.sub(r'href="(?:\.\./)?notebooks/(\d\d[a-z]?_\w+)\.(?:ipynb|py)"',
                  r'href="instructor/\1.html"', body)
    return GUIDE_PAGE.format(body=body)


def home_page(readme: str, pages: dict[str, str], seconds: float,
              titles: dict[str, str] | None = None) -> str:
    sections = readme_sections(readme)
    intro = sections[""]
    roadmap = sections.get("Roadmap")
    if not roadmap:
        raise SiteError("README.md has no '## Roadmap' section; the home page shows it.")
    table = markdown2html_mistune(first_table(sections.get("Notebooks", "")))
    for stem, href in pages.items():  # the table's `NN_name` cells link to their pages
        table = table.replace(f"<code>{stem}</code>",
                              f'<a href="{href}"><code>{stem}</code></a>')
    # README's pictures (docs/*.png) are copied next to index.html by build().
    return HOME.format(intro=markdown2html_mistune(intro), roadmap=markdown2html_mistune(roadmap),
                       table=table, editions=editions_list(list(pages), titles or {}),
                       built=time.strftime("%Y-%m-%d %H:%M"), seconds=seconds)


# --------------------------------------------------------------------------- build

def build(notebooks: list[Path], out: Path, timeout: int = 600, readme: Path | None = None,
          log=print) -> dict[str, dict]:
    """Execute and render `notebooks` into `out`; returns {page: {figures, demos, ...}}."""
    readme = readme or REPO / "README.md"
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        raise SiteError(f"no such notebook: {', '.join(missing)}")
    if not notebooks:
        raise SiteError("no notebooks to build (notebooks/*.ipynb is empty)")
    out.mkdir(parents=True, exist_ok=True)
    (out / "site.css").write_text((TEMPLATES / "site.css").read_text())
    readme_text = readme.read_text(encoding="utf-8")
    for img in re.findall(r"\]\((docs/[^)]+\.png)\)", readme_text):  # README's pictures
        (out / img).parent.mkdir(parents=True, exist_ok=True)
        (out / img).write_bytes((readme.parent / img).read_bytes())
    t_all = time.perf_counter()
    stats: dict[str, dict] = {}
    stems = [p.stem for p in notebooks]
    pages = {stem: f"student/{stem}.html" for stem in stems}  # the home table links these
    titles: dict[str, str] = {}
    for edition in EDITIONS:
        (out / edition).mkdir(exist_ok=True)
    kernel_log = open(out / "kernels.log", "w")  # noqa: SIM115 - closed below
    try:
        for i, path in enumerate(notebooks):
            source = nbformat.read(path, as_version=4)
            for edition in EDITIONS:
                t0 = time.perf_counter()
                log(f"[{i + 1}/{len(notebooks)}] {path.name}, {edition} edition: executing ...",
                    flush=True)
                print(f"== {path.name} ({edition})", file=kernel_log, flush=True)
                if edition == "student":  # the notebook's own code cells: run the source
                    execute(source, path, timeout, kernel_log)
                    nb = edition_of(source, "student")
                else:
                    nb = edition_of(source, "instructor")
                    execute(nb, path, timeout, kernel_log)
                page = f"{edition}/{path.stem}.html"
                stats[page] = render(nb, path, edition, i, stems, out / page)
                stats[page]["seconds"] = time.perf_counter() - t0
                titles[path.stem] = stats[page].pop("title")
                s = stats[page]
                log(f"    {page}: {s['figures']} figures ({s['demos']} slider demos as "
                    f"pictures), {s['folded']} folded cells, {s['controls']} live controls "
                    f"noted, {s['seconds']:.0f} s", flush=True)
    finally:
        kernel_log.close()
    seconds = time.perf_counter() - t_all
    (out / "index.html").write_text(home_page(readme_text, pages, seconds, titles),
                                    encoding="utf-8")
    if GUIDE.is_file():
        (out / "instructor_guide.html").write_text(guide_page(GUIDE.read_text(encoding="utf-8")),
                                                   encoding="utf-8")
    empty = [page for page, s in stats.items() if s["figures"] == 0]
    if empty:
        raise SiteError(f"no figure on {', '.join(empty)}: a notebook page must show its "
                        "figures (check that its plots are displayed, not only saved)")
    return stats


def render(nb, path: Path, edition: str, i: int, stems: list[str], page: Path) -> dict:
    """Write one executed notebook's page; its counts (figures, demos, folded, ...)."""
    counts = prepare_outputs(nb)
    for cell in nb.cells:
        cell.metadata["pyrl_fold_input"] = is_folded(cell, "input")
        cell.metadata["pyrl_fold_output"] = is_folded(cell, "output")
    other = "instructor" if edition == "student" else "student"
    nav = {"home": "../index.html", "css": "../site.css", "edition": edition,
           "prev": f"{stems[i - 1]}.html" if i > 0 else None,
           "next": f"{stems[i + 1]}.html" if i + 1 < len(stems) else None,
           "other": f"../{other}/{path.stem}.html", "other_edition": other,
           "title": title_of(nb, path), "source": _shown_path(path)}
    body, _ = exporter().from_notebook_node(
        nb, resources={"pyrl_nav": nav, "metadata": {"name": nav["title"]}})
    page.write_text(body, encoding="utf-8")
    return dict(figures=count_figures(body), title=nav["title"],
                folded=sum(c.metadata["pyrl_fold_input"] for c in nb.cells), **counts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path,
                    help="notebooks to build (default: notebooks/*.ipynb)")
    ap.add_argument("--out", type=Path, default=REPO / "_site", help="output folder (_site)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell (600)")
    args = ap.parse_args(argv)
    notebooks = args.notebooks or sorted((REPO / "notebooks").glob("*.ipynb"))
    try:
        stats = build(notebooks, args.out, timeout=args.timeout)
    except SiteError as err:
        print(f"make site: {err}", file=sys.stderr)
        return 1
    total = sum(s["figures"] for s in stats.values())
    print(f"wrote {args.out}/index.html and {len(stats)} notebook pages (student and "
          f"instructor editions), {total} figures; "
          f"open {args.out.resolve()}/index.html in a browser")
    (args.out / "build.json").write_text(json.dumps(stats, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
