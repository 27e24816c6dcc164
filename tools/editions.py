"""Write the student and the instructor edition of every notebook (`make editions`).

    .venv/bin/python tools/editions.py                      # -> _editions/{student,instructor}/
    .venv/bin/python tools/editions.py --out /tmp/e --execute   # and run each one top to bottom

Both are made from notebooks/NN_*.ipynb (paired with its .py) by pyrl_mini.editions: the
student edition without solutions and Think! answers (exercise cells keep their scaffold),
the instructor edition with each exercise cell holding its solution and the answers shown.
--execute runs every written notebook as JupyterLab would and counts what its checkers said
(student: "not done yet" for every exercise; instructor: "correct"); a failing cell stops it
with exit 1. The static site (`make site`) carries both editions as pages.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's pyrl_mini, also when not installed

from pyrl_mini import editions  # noqa: E402

COURSE_EDITIONS = ("student", "instructor")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path,
                    help="notebooks (default: notebooks/*.ipynb)")
    ap.add_argument("--out", type=Path, default=REPO / "_editions",
                    help="folder that gets student/ and instructor/ (_editions)")
    ap.add_argument("--execute", action="store_true",
                    help="run each written notebook top to bottom and report its checkers")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell with --execute")
    args = ap.parse_args(argv)
    notebooks = args.notebooks or sorted(
        (REPO / "notebooks").glob(editions.NOTEBOOK_STEMS + ".ipynb"))
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing or not notebooks:
        print(f"editions: no such notebook: {', '.join(missing) or 'notebooks/*.ipynb'}",
              file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    written = {}
    try:
        for edition in COURSE_EDITIONS:
            written[edition], _ = editions.write_edition(notebooks, edition, args.out / edition)
    except editions.EditionError as err:
        print(f"editions: {err}", file=sys.stderr)
        return 1
    for edition, paths in written.items():
        print(f"{edition}: {len(paths)} notebooks in {args.out / edition}")
    if args.execute:
        from pyrl_mini.lab import LabError, run_folder

        for edition in COURSE_EDITIONS:
            try:
                run_folder(args.out / edition, timeout=args.timeout)
            except LabError as err:
                print(f"editions: {edition}: {err}", file=sys.stderr)
                return 1
    print(f"made in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
