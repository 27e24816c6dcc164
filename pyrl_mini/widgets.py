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
import math
import time
from collections.abc import Callable

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image as PILImage

from . import analysis, bandit, plots, stats, tasks

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


def train_one(progress: W.IntProgress, settings):
    """Train one network (a TrainSettings), moving the progress bar with each update."""
    from .trainer import train  # the trainer is only needed once a Train button is pressed

    progress.max, progress.value = settings.updates, 0

    def tick(update, row):
        progress.value = update + 1

    return train(settings, progress=False, callback=tick)


def train_widget(base, updates: int = 300) -> LiveRun:
    """A Train button: one network with base (a TrainSettings) and the reader's kappa,
    entropy_coef and number of updates; shows its learning curves. Nothing runs until pressed.
    """
    def run(progress, kappa, entropy_coef, updates):
        return train_one(progress, base.replace(kappa=kappa, entropy_coef=entropy_coef,
                                                updates=int(updates)))

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
        nb02_wout_init,
        nb03_gradient_vanishing,
        nb05_explorer,
    )

    demos = {"00.kappa": kappa_demo(data.load("nb00_main_grid"))}
    nb01 = nb01_dead_neurons
    demos["01.dead"] = nb01.dead_demo(nb01.load_all())
    if raster:
        demos["01.raster"] = nb01.raster_demo(nb01.train_examples())
    for nb, build in (("02", nb02_wout_init.demos), ("03", nb03_gradient_vanishing.demos),
                      ("04", entropy_fix_demos), ("05", nb05_explorer.demos)):
        for name, demo in build().items():
            demos[f"{nb}.{name}"] = demo
    return demos


# --- the entropy bonus: its fixed point on a bandit, the kappa x entropy_coef grid, the fixes --
FIXED_POINT_TAUS = (0.0, 0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3)


def fixed_point_runs(taus=FIXED_POINT_TAUS, rewards=tasks.EXPECTED_VALUES, lr: float = 1.0,
                     steps: int = 1000, runs: int = 4, seed: int = 0) -> dict:
    """The data of fixed_point_demo: per tau (= entropy_coef; a bandit has one step a trial),
    exact gradient ascent on pi . r + tau H from uniform logits, pi over steps (steps+1, K),
    and `runs` REINFORCE runs (Bernoulli payoffs, batch 16, exact baseline), (steps+1, runs,
    K). About 0.1 s per tau."""
    out = {}
    for tau in taus:
        exact = bandit.exact_pg_trajectory(np.zeros(len(rewards)), rewards, lr, steps, tau)
        sampled = bandit.sampled_pg_trajectory(bandit.BanditSettings(
            arm_means=tuple(rewards), reward_noise="bernoulli", lr=lr, entropy_coef=tau,
            steps=steps, runs=runs, seed=seed, batch_size=16))
        out[tau] = (exact, sampled)
    return out


def fixed_point_demo(runs: dict, rewards=tasks.EXPECTED_VALUES) -> Demo:
    """A slider over entropy_coef (the keys of runs, fixed_point_runs()) driving
    plots.BanditFixedPointFigure; the summary gives pi*(best), H(pi*) and the share pi*
    keeps on the worse of two arms one EV column (0.15) apart, 1 / (1 + e^(0.15 / tau))."""
    taus = sorted(runs)
    gap = float(np.diff(rewards)[0])

    def summary(entropy_coef):
        star = bandit.regularised_optimum(rewards, entropy_coef)
        H = -(star[star > 0] * np.log(star[star > 0])).sum()
        worse = 1 / (1 + math.exp(min(gap / entropy_coef, 700))) if entropy_coef else 0.0
        return (f"tau={entropy_coef:g}: pi*(best)={star[-1]:.4f}, H(pi*)={H:.3g} "
                f"nats; two arms {gap:g} apart keep {worse:.2g} on the worse one")

    start = 0.01 if 0.01 in taus else taus[0]
    return Demo(plots.BanditFixedPointFigure(runs, rewards), summary_fn=summary,
                entropy_coef=entropy_slider(taus, start))


def entropy_grid_demo(grid) -> Demo:
    """Sliders over a kappa x entropy_coef sweep (kappa_runs.stack(entropy_runs,
    entropy_coef=0.0)) driving plots.EntropyGridFigure; the summary gives the chosen cell's
    final entropy, reward, lower-p choices and collapsed runs."""
    def summary(kappa, entropy_coef):
        cell = grid.subset(kappa=kappa, entropy_coef=entropy_coef)
        H, R, risky = (cell.final(n) for n in ("entropy", "reward", "risky_rate"))
        risky_text = f"{np.nanmean(risky):.2f}" if np.isfinite(risky).any() else "none (no choices)"
        return (f"kappa={kappa:+.2f}, entropy_coef={entropy_coef:g}, {len(H)} seeds: final "
                f"entropy median {np.median(H):.3f} (above {plots.ENTROPY_TARGET:g} in "
                f"{int((H > plots.ENTROPY_TARGET).sum())}); reward mean {np.mean(R):.3f} (min "
                f"{np.min(R):.2f}); lower-p choices {risky_text}; collapsed "
                f"{stats.frequency(cell.collapsed)}")

    return Demo(plots.EntropyGridFigure(grid), summary_fn=summary,
                kappa=kappa_slider(grid.values("kappa"), -0.4),
                entropy_coef=entropy_slider(grid.values("entropy_coef"), 0.01))


FIX_SETTINGS = ("lr 0.01, 800 updates", "lr 0.03, 250 updates")  # notebook 04's (a) and (b)


def fixes_demo(by_setting: dict[str, dict], fix: str = "entropy 0.05") -> Demo:
    """Two dropdowns, setting and fix (by_setting: setting -> {fix: SweepData of its runs},
    the control under "none"), driving plots.FixCurvesFigure: the fix's learning curves over
    the control's. Starts at the last setting; fixes are listed from the last setting first."""
    settings = list(by_setting)
    labels = list(dict.fromkeys(f for s in reversed(settings) for f in by_setting[s]
                                if f != "none"))

    def summary(setting, fix):
        runs = by_setting[setting]
        if fix not in runs:
            return f"{fix}: not run at {setting}"
        R = runs[fix].final("reward")
        return (f"{setting}, {fix}: final reward mean {np.mean(R):.2f} (min {np.min(R):.2f}); "
                f"collapsed {stats.frequency(runs[fix].collapsed)} "
                f"(no fix: {stats.frequency(runs['none'].collapsed)})")

    return Demo(plots.FixCurvesFigure(by_setting), summary_fn=summary,
                setting=W.Dropdown(options=settings, value=settings[-1], description="setting"),
                fix=W.Dropdown(options=labels, value=fix, description="fix"))


def fixes_train_widget() -> LiveRun:
    """A Train button: one network at kappa -0.4 with the reader's kappa, entropy_coef and fix
    (lr and its schedule, batch, gradual kappa in steps every 50 updates, W_out std, no-choice
    penalty, logit cap), updates and seed; shows its learning curves."""
    from .config import TrainSettings

    base = TrainSettings(updates=300, kappa=-0.4, seed=0, kappa_step_updates=50)

    def run(progress, updates, seed, batch_size, **fix):
        return train_one(progress, base.replace(**fix, batch_size=int(batch_size),
                                                updates=int(updates), seed=int(seed)))

    def show(result):
        s = result.settings[0]
        return plots.plot_curves(np.arange(result.updates_done), result.member(0), smooth=10,
                                 names=("reward", "entropy", "higher_ev_rate", "risky_rate"),
                                 title=f"kappa={s.kappa:+.2f}, entropy_coef={s.entropy_coef:g}, "
                                       f"lr={s.lr:g}, batch={s.batch_size}"
                                       + (f", logit cap {s.logit_cap:g}" if s.logit_cap else ""))

    return LiveRun(
        run, show, description="Train",
        kappa=float_slider("kappa", -0.9, 0.9, 0.05, -0.4),
        entropy_coef=float_slider("entropy_coef", 0.0, 0.2, 0.005, 0.0, fmt=".3f"),
        lr=W.Dropdown(options=[0.001, 0.003, 0.01, 0.02, 0.03], value=0.01, description="lr"),
        batch_size=W.Dropdown(options=[128, 256, 512], value=256, description="batch"),
        lr_schedule=W.Dropdown(options=["constant", "exponential", "step"], value="constant",
                               description="lr schedule"),
        kappa_schedule=W.Dropdown(options=["constant", "gradual"], value="constant",
                                  description="kappa schedule"),
        wout_std=float_slider("wout_std", 0.0, 0.5, 0.01, 0.05),
        no_choice_penalty=float_slider("no_choice_penalty", -2.0, 0.0, 0.1, -0.5, fmt=".1f"),
        logit_cap=float_slider("logit_cap", 0.0, 5.0, 0.5, 0.0, fmt=".1f"),
        updates=float_slider("updates", 100, 2000, 100, 300, fmt=".0f"),
        seed=float_slider("seed", 0, 20, 1, 0, fmt=".0f"))


def entropy_fix_demos() -> dict[str, Demo]:
    """Notebook 04's demos, built on data/ as the notebook builds them: the bandit's fixed
    point, the kappa x entropy_coef grid and the fixes of settings (a) and (b), each fix's
    runs paired by seed with its control's."""
    from . import data
    from .datasets import collapse

    grid = data.load("collapse_kappa").stack(data.load("collapse_entropy"), entropy_coef=0.0)
    slow, fast = data.load("collapse_fixes_slow"), data.load("collapse_fixes")
    fixes_a = {f"entropy {c:g}" if c else "none": grid.subset(kappa=-0.4, entropy_coef=c)
               for c in grid.values("entropy_coef")}
    fixes_a.update({fix: slow.take(collapse.COLLAPSE_FIXES_SLOW.rows_of(slow, j))
                    for j, fix in enumerate(collapse.SLOW_VARIANTS)})
    fixes_b = {fix: fast.take(collapse.COLLAPSE_FIXES.rows_of(fast, j))
               for j, fix in enumerate(collapse.FIX_VARIANTS)}
    fixes_b["larger batch"] = data.load("nb04_fixes_fast_batch512").subset()
    return {"grid": entropy_grid_demo(grid), "bandit": fixed_point_demo(fixed_point_runs()),
            "fixes": fixes_demo(dict(zip(FIX_SETTINGS, (fixes_a, fixes_b), strict=True)))}
