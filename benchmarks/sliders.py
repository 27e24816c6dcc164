"""Slider response times: every demo of every notebook, each control moved through its values.

The demos are widgets.all_demos(), as the notebooks build them.

    python benchmarks/sliders.py

The time is from setting the widget's value to the end of the redraw: the figure is built
and rendered to the PNG that the notebook shows (Demo renders it itself).
"""

from __future__ import annotations

import argparse
import statistics
import time

import matplotlib

matplotlib.use("Agg")

import pyrl_mini.widgets as widgets  # noqa: E402

widgets.display = lambda *args, **kwargs: None  # outside a notebook there is nothing to show


def moves(control):
    options = getattr(control, "options", None)
    if options:
        values = [o[1] if isinstance(o, tuple) else o for o in options]
    else:
        lo, hi, step = control.min, control.max, control.step
        values = [lo + i * step for i in range(int(round((hi - lo) / step)) + 1)][::2]
    return values


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()   # --help
    print("| notebook demo | control | moves | median ms | max ms |")
    print("| --- | --- | --- | --- | --- |")
    for label, demo in widgets.all_demos().items():
        for cname, control in demo.controls.items():
            times = []
            for v in moves(control):
                if v == control.value:
                    continue
                t0 = time.perf_counter()
                control.value = v
                times.append(1000 * (time.perf_counter() - t0))
            if times:
                print(f"| {label} | {cname} | {len(times)} | "
                      f"{statistics.median(times):.0f} | {max(times):.0f} |")


if __name__ == "__main__":
    main()
