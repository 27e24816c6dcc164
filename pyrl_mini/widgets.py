"""Interactive demos: a plain function (settings in, figure out) wrapped by ipywidgets.

    demo = Demo(plot_fn, kappa=kappa_slider(values), entropy_coef=entropy_slider(values))
    demo            # in a notebook: the sliders and the figure
    demo.set(kappa=-0.2)   # what a test (or a reader's code) does: the figure redraws

plot_fn(**values) returns a matplotlib Figure and must be fast (it reads precomputed results).
The last figure stays on demo.figure so tests can check its data; the time of the last redraw
is demo.last_seconds (figure and PNG), the PNG bytes demo.png. An optional
summary_fn(**values) -> str shows the key numbers as text above the figure (class
"pyrl-demo-summary"), which a browser test can read.

Blitting: a figure that lists its changing artists in fig.pyrl_dynamic_artists is rendered
by drawing everything else once (axes, ticks, labels: most of the cost) and, on each move,
restoring that background and drawing only the listed artists, as long as no axes limits
changed (then everything is drawn again). Those artists must be set_animated(True).
A longer live run sits behind LiveRun: a button and a progress bar.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import Image, display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image as PILImage

SLIDER_STYLE = {"description_width": "initial"}
DEMO_DPI = 72  # the PNG a slider redraws: fewer pixels, faster response
SLIDER_LAYOUT = W.Layout(width="360px")


def _selection_slider(description: str, values, value=None, fmt: str = "{:+.2f}"):
    options = [(fmt.format(v), v) for v in values]
    return W.SelectionSlider(options=options, value=values[0] if value is None else value,
                             description=description, continuous_update=True,
                             style=SLIDER_STYLE, layout=SLIDER_LAYOUT)


def kappa_slider(values, value=None) -> W.SelectionSlider:
    """A slider over the precomputed kappa values (kappa < 0 risk-seeking)."""
    return _selection_slider("kappa (<0 risk-seeking)", list(values), value)


def entropy_slider(values, value=None) -> W.SelectionSlider:
    return _selection_slider("entropy_coef", list(values), value, fmt="{:g}")


def float_slider(description: str, low: float, high: float, step: float, value: float,
                 fmt: str = ".2f") -> W.FloatSlider:
    return W.FloatSlider(min=low, max=high, step=step, value=value, description=description,
                         readout_format=fmt, continuous_update=True, style=SLIDER_STYLE,
                         layout=SLIDER_LAYOUT)


class Demo:
    """Sliders (any ipywidgets ValueWidget) driving a figure-returning function."""

    def __init__(self, plot_fn: Callable[..., plt.Figure],
                 summary_fn: Callable[..., str] | None = None, **controls: W.ValueWidget):
        self.plot_fn = plot_fn
        self.summary_fn = summary_fn
        self.dpi = DEMO_DPI
        self.png = b""
        self.controls = controls
        self.output = W.Output()
        self.summary = W.HTML(layout=W.Layout(min_height="1.5em"))
        self.summary.add_class("pyrl-demo-summary")
        self.figure: plt.Figure | None = None
        self.last_seconds = float("nan")
        self.redraws = 0
        for c in controls.values():
            c.observe(self._changed, names="value")
        self.widget = W.VBox([W.HBox(list(controls.values()),
                                     layout=W.Layout(flex_flow="row wrap")),
                              self.summary, self.output])
        self.redraw()

    @property
    def values(self) -> dict:
        return {name: c.value for name, c in self.controls.items()}

    def set(self, **values) -> None:
        """Set control values as a reader would; each change redraws."""
        for name, v in values.items():
            if name not in self.controls:
                raise KeyError(f"no control {name!r}; controls: {list(self.controls)}")
            self.controls[name].value = v

    def _changed(self, change) -> None:
        self.redraw()

    def redraw(self) -> None:
        t0 = time.perf_counter()
        if self.summary_fn is not None:
            self.summary.value = f"<code>{self.summary_fn(**self.values)}</code>"
        fig = self.plot_fn(**self.values)
        # Render the PNG here, once: display(fig) would let the inline backend draw it twice
        # (bbox_inches="tight"), which doubles the redraw time of a slider.
        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)  # a figure closed in pyplot keeps a bare canvas; give it Agg
        self.png = self._render(fig)
        with self.output:
            self.output.clear_output(wait=True)
            display(Image(data=self.png, format="png"))
        if self.figure is not None and self.figure is not fig:
            plt.close(self.figure)
        plt.close(fig)  # shown through the Output widget, not again at the end of the cell
        self.figure = fig
        self.redraws += 1
        self.last_seconds = time.perf_counter() - t0

    def _render(self, fig: plt.Figure) -> bytes:
        """The figure as PNG bytes at self.dpi (blitted when the figure allows it)."""
        buf = io.BytesIO()
        dynamic = getattr(fig, "pyrl_dynamic_artists", None)
        if not dynamic:
            fig.savefig(buf, format="png", dpi=self.dpi)
            return buf.getvalue()
        if fig.dpi != self.dpi:
            fig.set_dpi(self.dpi)
        canvas = fig.canvas
        key = (id(fig), self.dpi, tuple((ax.get_xlim(), ax.get_ylim()) for ax in fig.axes))
        if getattr(self, "_background_key", None) == key:
            canvas.restore_region(self._background)
        else:
            canvas.draw()  # every artist but the animated (dynamic) ones
            self._background = canvas.copy_from_bbox(fig.bbox)
            self._background_key = key
        for artist in dynamic:
            fig.draw_artist(artist)
        rgba = canvas.buffer_rgba()
        PILImage.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw", "RGBA", 0,
                            1).save(buf, format="png")
        return buf.getvalue()

    def _ipython_display_(self) -> None:
        # The widget view (JupyterLab shows it, live) plus a PNG of the figure as it is
        # now: a static render of the notebook (make site, nbconvert, GitHub), which has no
        # kernel for the sliders, shows that picture instead.
        bundle = self.widget._repr_mimebundle_()
        bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        display(bundle, raw=True)


class LiveRun:
    """A button that runs `run_fn(progress_widget, **values)` and shows `show_fn(result)`.

    The run is not started when the cell executes: a reader presses the button.
    """

    def __init__(self, run_fn: Callable, show_fn: Callable, description: str = "Train",
                 **controls: W.ValueWidget):
        self.run_fn, self.show_fn, self.controls = run_fn, show_fn, controls
        self.button = W.Button(description=description, button_style="primary")
        self.progress = W.IntProgress(value=0, min=0, max=1, description="progress")
        self.output = W.Output()
        self.result = None
        self.button.on_click(lambda _: self.run())
        self.widget = W.VBox([W.HBox(list(controls.values()), layout=W.Layout(
            flex_flow="row wrap")), W.HBox([self.button, self.progress]), self.output])

    def run(self):
        self.button.disabled = True
        try:
            values = {k: c.value for k, c in self.controls.items()}
            self.result = self.run_fn(self.progress, **values)
            with self.output:
                self.output.clear_output(wait=True)
                fig = self.show_fn(self.result)
                if fig is not None:
                    display(fig)
                    plt.close(fig)
        finally:
            self.button.disabled = False
        return self.result

    def _ipython_display_(self) -> None:
        display(self.widget)
