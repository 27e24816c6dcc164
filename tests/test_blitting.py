"""Demos that redraw only their changing artists (widgets.Demo's blitting) must show the same
picture as a full draw, after any move, and must redraw in full when an axes limit changes."""

import io

import matplotlib
import numpy as np
import pytest
from PIL import Image

matplotlib.use("Agg")

import pyrl_mini.widgets as widgets  # noqa: E402
from pyrl_mini.widgets import Demo  # noqa: E402


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), dtype=int)


def _full_draw(demo: Demo) -> np.ndarray:
    fig = demo.figure
    dynamic = fig.pyrl_dynamic_artists
    for a in dynamic:
        a.set_animated(False)
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=demo.dpi)
    finally:
        for a in dynamic:
            a.set_animated(True)
    return _pixels(buf.getvalue())


def _values(control, n=3):
    options = getattr(control, "options", None)
    if options:
        vals = [o[1] if isinstance(o, tuple) else o for o in options]
    else:
        vals = list(np.linspace(control.min, control.max, 3))
    return [v for v in vals if v != control.value][:n]


BLITTED = ["00b.kappa", "01.dead", "02.initial_policy", "02.sweep", "03.bandit", "03.gap",
           "03.kappa_x_lr", "03.reward", "04.fixes", "04.grid", "05.explorer"]


@pytest.fixture(scope="module")
def all_demos(monkeypatch_module):
    return widgets.all_demos(raster=False)   # the raster trains live and blits nothing


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    mp.setattr(widgets, "display", lambda *a, **k: None)
    yield mp
    mp.undo()


def test_the_blitted_demos_are_the_ones_listed(all_demos):
    blitted = sorted(k for k, d in all_demos.items()
                     if getattr(d.figure, "pyrl_dynamic_artists", None))
    assert blitted == sorted(BLITTED)


@pytest.mark.parametrize("key", BLITTED)
def test_blitted_picture_equals_a_full_draw_after_every_move(all_demos, key):
    demo = all_demos[key]
    for cname, control in demo.controls.items():
        for v in _values(control):
            control.value = v
            blit, full = _pixels(demo.png), _full_draw(demo)
            assert blit.shape == full.shape, (key, cname, v)
            # identical but where a changing artist crosses a fixed one (draw order)
            differ = (np.abs(blit - full).sum(-1) > 0).mean()
            assert differ < 0.005, (key, cname, v, differ)


def test_a_changed_axes_limit_redraws_everything(all_demos):
    demo = all_demos["05.explorer"]
    demo.set(network="GRU", lr=0.01, wout_std=0.05, kappa=0.0, entropy_coef=0.0)
    key_before = demo._background_key
    # the explorer keeps its limits fixed (one x range for every data set), so change one
    # by hand, as a figure with autoscaled axes would
    demo.figure.axes[0].set_xlim(0, 700)
    demo.set(lr=0.03)
    assert demo._background_key != key_before
    assert (np.abs(_pixels(demo.png) - _full_draw(demo)).sum(-1) > 0).mean() < 0.005
