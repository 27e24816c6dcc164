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

Demos shared by notebooks: kappa_demo (risk preference of the trained kappa sweep) and
train_widget (train one network with the reader's kappa and entropy_coef).
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Image, display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image as PILImage

from . import analysis, plots
from .config import TrainSettings

SLIDER_STYLE = {"description_width": "initial"}
DEMO_DPI = 100  # the PNG a slider redraws: readable at notebook width
SLIDER_LAYOUT = W.Layout(width="360px")


def choice_slider(description: str, values, value=None,
                  fmt: str = "{:g}") -> W.SelectionSlider:
    """The collection's one slider: over a fixed list of values (demos read or compute only
    these), each labelled fmt.format(value); it starts at value (default: the first)."""
    values = list(values)
    options = [(fmt.format(v), v) for v in values]
    return W.SelectionSlider(options=options, value=values[0] if value is None else value,
                             description=description, continuous_update=True,
                             style=SLIDER_STYLE, layout=SLIDER_LAYOUT)


def kappa_slider(values, value=None) -> W.SelectionSlider:
    """A slider over the precomputed kappa values (kappa < 0 risk-seeking)."""
    return choice_slider("kappa (<0 risk-seeking)", values, value, fmt="{:+.2f}")


def entropy_slider(values, value=None) -> W.SelectionSlider:
    """A slider over the precomputed entropy coefficients."""
    return choice_slider("entropy_coef", values, value)


def float_slider(description: str, low: float, high: float, step: float, value: float,
                 fmt: str = ".2f") -> W.FloatSlider:
    return W.FloatSlider(min=low, max=high, step=step, value=value, description=description,
                         readout_format=fmt, continuous_update=True, style=SLIDER_STYLE,
                         layout=SLIDER_LAYOUT)


class Demo:
    """Sliders (any ipywidgets ValueWidget) driving a figure-returning function."""

    png_fast = False  # True: blitted PNGs as RGB at zlib level 1 (for large figures)

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
        image = PILImage.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw",
                                    "RGBA", 0, 1)
        if self.png_fast:  # a large opaque figure: RGB at zlib level 1 encodes ~1.6x faster
            image.convert("RGB").save(buf, format="png", compress_level=1)
        else:
            image.save(buf, format="png")
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


# --- demos shared by notebooks ------------------------------------------------------------------
def _kappa_summary(grid, kappa: float, entropy_coef: float) -> str:
    idx = grid.select(kappa=kappa, entropy_coef=entropy_coef)
    risky = grid.final("risky_rate")[idx]
    modes = [analysis.MODES[m] if m >= 0 else "stopped" for m in grid.mode[idx]]
    return (f"kappa={kappa:+.2f} entropy_coef={entropy_coef:g}: lower-p choices "
            f"{np.nanmean(risky):.2f} (seeds {', '.join(f'{r:.2f}' for r in risky)}); "
            f"modes: {', '.join(modes)}")


def kappa_demo(grid) -> Demo:
    """Sliders over a kappa x entropy_coef sweep (e.g. data.load("nb00_main_grid")) driving
    plots.KappaDemoFigure; the summary line gives each seed's lower-p choice rate and mode."""
    return Demo(plots.KappaDemoFigure(grid),
                summary_fn=lambda kappa, entropy_coef: _kappa_summary(grid, kappa, entropy_coef),
                kappa=kappa_slider(grid.values("kappa"), 0.0),
                entropy_coef=entropy_slider(grid.values("entropy_coef"), 0.0))


def train_widget(base, updates: int = 300) -> LiveRun:
    """A Train button: one network with base (a TrainSettings) and the reader's kappa,
    entropy_coef and number of updates; shows its learning curves. Nothing runs until pressed.
    """
    from .trainer import train  # the trainer is only needed once the button is pressed

    def run(progress, kappa, entropy_coef, updates):
        progress.max, progress.value = int(updates), 0
        s = base.replace(kappa=kappa, entropy_coef=entropy_coef, updates=int(updates))

        def tick(update, row):
            progress.value = update + 1

        return train(s, progress=False, callback=tick)

    def show(result):
        s = result.settings[0]
        return plots.plot_curves(np.arange(result.updates_done), result.member(0), smooth=10,
                                 title=f"kappa={s.kappa:+.2f}, entropy_coef={s.entropy_coef:g}")

    return LiveRun(run, show, description="Train",
                   kappa=float_slider("kappa", -0.9, 0.9, 0.05, -0.2),
                   entropy_coef=float_slider("entropy_coef", 0.0, 0.1, 0.005, 0.0, fmt=".3f"),
                   updates=float_slider("updates", 100, 2000, 100, updates, fmt=".0f"))


def all_demos(raster: bool = True) -> dict[str, Demo]:
    """Every slider demo of the collection, by "NN.name" (notebook NN), built on data/ as the
    notebooks build them: what tests/test_blitting.py and benchmarks/sliders.py move.
    raster=False leaves out notebook 01's raster, which trains four small networks first."""
    from . import data
    from .lessons import (
        nb01_dead_neurons,
        nb03_gradient_vanishing,
        nb04_entropy_fix,  # until each notebook's demos move here
        nb05_explorer,
    )

    demos = {"00.kappa": kappa_demo(data.load("nb00_main_grid"))}
    nb01 = nb01_dead_neurons
    demos["01.dead"] = nb01.dead_demo(nb01.load_all())
    if raster:
        demos["01.raster"] = nb01.raster_demo(nb01.train_examples())
    demos["02.initial_policy"] = initial_policy_demo({s: initial_rates(s) for s in range(12)})
    demos["02.sweep"] = wout_sweep_demo({0.0: data.load("nb02_wout_sweep"),
                                         0.05: data.load("nb02_wout_entropy")})
    for nb, module in (("03", nb03_gradient_vanishing),
                       ("04", nb04_entropy_fix), ("05", nb05_explorer)):
        for name, demo in module.demos().items():
            demos[f"{nb}.{name}"] = demo
    return demos


# --- the W_out scale: the initial policy, the first 300 updates, a live run --------------------
# the stds a reader can pick without stored runs (0: exactly zero)
WOUT_STD_CHOICES = (0.0, 0.001, 0.01, 0.03, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0)


def initial_rates(seed: int, trials: int = 64):
    """(rates (T, B, N), Z (N, A)): the rates of a fresh network (this seed) on one batch of
    the trainer's trials, and its W_out at std 1.

    The rates of a fresh network do not depend on W_out (the task's inputs never depend on
    the actions), and a seed draws W_out = wout_std * Z from one standard-normal Z. So with
    b_out = 0, pi_t = softmax(wout_std * r_t Z) is the policy the trainer starts from at every
    wout_std (std 0 gives pi = 1/3 exactly), without running the network again."""
    from .trainer import Ensemble

    ens = Ensemble([TrainSettings(seed=seed, batch_size=trials).replace(wout_std=1.0)])
    with torch.no_grad():
        rates = ens.rollout(trials, torch.zeros(1))["rates"][:, 0]
    return rates, ens.params["W_out"][0].detach()


def _initial_policy_summary(st: dict, wout_std: float, seed: int, hold_steps: int,
                            batch: int = 256) -> str:
    hold = float(st["p_hold"].mean())
    return (f"wout_std={wout_std:g}, seed {seed}: mean H={st['entropy']:.3f} "
            f"(ln 3={np.log(3):.3f}), mean max pi={st['max_prob']:.3f}, "
            f"P(hold fixation {hold_steps} steps)={hold:.2e} -> {hold * batch:.2f} of {batch} "
            "trials per batch reach a choice")


def initial_policy_demo(starts: dict) -> Demo:
    """wout_std and seed sliders over the initial policy (plots.InitialPolicyFigure), nothing
    trained: starts maps a seed to initial_rates(seed), so a move computes one softmax.
    The summary gives the mean entropy, mean max pi and the chance to hold fixation."""
    task = TrainSettings().task
    hold_steps = task.fixation_steps + task.stimulus_steps
    cache: dict[tuple[float, int], dict] = {}

    def stats(wout_std, seed):
        if (wout_std, seed) not in cache:
            rates, Z = starts[seed]
            probs = torch.softmax(wout_std * (rates @ Z), dim=-1)           # (T, B, A)
            cache[wout_std, seed] = plots.policy_stats(probs, hold_steps)
        return cache[wout_std, seed]

    figure = plots.InitialPolicyFigure(hold_steps)
    return Demo(lambda wout_std, seed: figure(
                    stats(wout_std, seed), f"initial policy, wout_std={wout_std:g}, seed {seed}"),
                summary_fn=lambda wout_std, seed: _initial_policy_summary(
                    stats(wout_std, seed), wout_std, seed, hold_steps),
                wout_std=choice_slider("wout_std", WOUT_STD_CHOICES, 0.05),
                seed=choice_slider("seed", sorted(starts)))


def _wout_sweep_summary(sweep, wout_std: float, kappa: float, entropy_coef: float) -> str:
    """One line on the runs of `sweep` at (wout_std, kappa): their final modes and reward;
    "not computed" and what is, where sweep is None or lacks this cell."""
    head = f"wout_std={wout_std:g} kappa={kappa:+.1f} entropy_coef={entropy_coef:g}"
    idx = (np.zeros(0, dtype=int) if sweep is None or wout_std not in sweep.values("wout_std")
           else sweep.select(wout_std=wout_std, kappa=kappa))
    if len(idx) == 0:
        have = ", ".join(f"{w:g}" for w in sweep.values("wout_std")) if sweep else "none"
        return f"{head}: not computed. Computed wout_std at this entropy_coef: {have}"
    modes = [analysis.MODES[m] if m >= 0 else "stopped" for m in sweep.mode[idx]]
    rew = sweep.final("reward")[idx]
    crit = sweep.arrays["updates_to_criterion"][idx]
    return (f"{head}, {len(idx)} seeds: modes at update "
            f"{int(sweep.update_axis()[-1] + 2.5)}: {', '.join(modes)}; final reward "
            f"{np.mean(rew):+.2f} (seeds {', '.join(f'{r:+.2f}' for r in rew)}); "
            f"criterion met by {int((crit >= 0).sum())}")


def wout_sweep_demo(sweeps: dict) -> Demo:
    """wout_std, kappa and entropy_coef sliders over stored runs (plots.WoutSweepFigure):
    sweeps maps an entropy_coef to a SweepData over wout_std x kappa x seeds, e.g.
    {0.0: data.load("nb02_wout_sweep"), 0.05: data.load("nb02_wout_entropy")}."""
    figure = plots.WoutSweepFigure(sweeps)
    first = next(iter(sweeps.values()))
    return Demo(figure,
                summary_fn=lambda wout_std, kappa, entropy_coef: _wout_sweep_summary(
                    sweeps.get(entropy_coef), wout_std, kappa, entropy_coef),
                wout_std=choice_slider("wout_std", figure.stds, 0.05),
                kappa=kappa_slider(first.values("kappa"), 0.0),
                entropy_coef=entropy_slider(sorted(sweeps), 0.0))


def wout_train_widget() -> LiveRun:
    """A Train button: one network with the reader's wout_std, kappa, entropy_coef and seed;
    shows its abort rate, higher-EV choices, entropy and reward, and how the run ended."""
    from .trainer import train  # the trainer is only needed once the button is pressed

    def run(progress, wout_std, kappa, entropy_coef, seed, updates):
        progress.max, progress.value = int(updates), 0
        s = TrainSettings(updates=int(updates), seed=int(seed), kappa=kappa,
                          entropy_coef=entropy_coef).replace(wout_std=wout_std)

        def tick(update, row):
            progress.value = update + 1

        return train(s, progress=False, callback=tick)

    def show(result):
        s = result.settings[0]
        mode = analysis.MODES[int(analysis.mode_of_history(result.history)[0])]
        return plots.plot_curves(np.arange(result.updates_done), result.member(0), smooth=5,
                                 names=("abort_rate", "higher_ev_rate", "entropy", "reward"),
                                 title=f"wout_std={s.network.wout_std:g}, kappa={s.kappa:+.2f},"
                                       f" entropy_coef={s.entropy_coef:g}, seed {s.seed}: "
                                       f"{mode}")

    return LiveRun(run, show, description="Train",
                   wout_std=choice_slider("wout_std", WOUT_STD_CHOICES, 1.0),
                   kappa=float_slider("kappa", -0.9, 0.9, 0.05, 0.0),
                   entropy_coef=float_slider("entropy_coef", 0.0, 0.1, 0.005, 0.0, fmt=".3f"),
                   seed=float_slider("seed", 0, 20, 1, 0, fmt=".0f"),
                   updates=float_slider("updates", 50, 1000, 50, 150, fmt=".0f"))
