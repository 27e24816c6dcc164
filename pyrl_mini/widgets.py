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
import functools
import io
import math
import time
from collections.abc import Callable

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image as PILImage

from . import analysis, bandit, plots, softmax, stats, tasks
from .config import TrainSettings

SLIDER_STYLE = {"description_width": "initial"}
DEMO_DPI = plots.DPI  # the PNG a slider redraws: the collection's one dpi
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
    """A slider over a range of numbers (a reader may also type a value into its readout)."""
    return W.FloatSlider(min=low, max=high, step=step, value=value, description=description,
                         readout_format=fmt, continuous_update=True, style=SLIDER_STYLE,
                         layout=SLIDER_LAYOUT)


def int_slider(description: str, low: int, high: int, value: int) -> W.IntSlider:
    """A slider over whole numbers low..high (a trial, a seed), whose readout takes a typed
    number."""
    return W.IntSlider(min=low, max=high, value=value, description=description,
                       continuous_update=True, style=SLIDER_STYLE, layout=SLIDER_LAYOUT)


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
        # Set the Output widget's outputs from the kernel, not `with self.output: display()`:
        # a capture makes a headless client (nbclient, under nbconvert or nbmake) answer on the
        # kernel's shell socket while it waits there for the cell's reply, which can lose that
        # reply's wake-up (the cell then hangs, forever under plain nbconvert). JupyterLab draws
        # the same picture either way.
        self.output.outputs = ({"output_type": "display_data", "metadata": {}, "data": {
            "image/png": base64.b64encode(self.png).decode("ascii")}},)
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
    modes = [analysis.mode_word(m) for m in grid.mode[idx]]
    return (f"kappa={kappa:+.2f} entropy_coef={entropy_coef:g}: lower-p choices "
            f"{np.nanmean(risky):.2f} (seeds {', '.join(f'{r:.2f}' for r in risky)}); "
            f"modes: {', '.join(modes)}")


def kappa_demo(grid, kappa: float = 0.0) -> Demo:
    """Sliders over a kappa x entropy_coef sweep (e.g. data.load("nb00_main_grid")) driving
    plots.KappaDemoFigure; the summary line gives each seed's lower-p choice rate and mode.
    kappa: where the kappa slider starts (a value of the grid)."""
    return Demo(plots.KappaDemoFigure(grid),
                summary_fn=lambda kappa, entropy_coef: _kappa_summary(grid, kappa, entropy_coef),
                kappa=kappa_slider(grid.values("kappa"), kappa),
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

    demos = {"00b.kappa": kappa_demo(data.load("nb00_main_grid"))}
    gru, simple = data.load("nb01_gru"), data.load("nb01_simple")
    demos["01.dead"] = dead_units_demo({
        "GRU": gru, "SimpleRNN, relu readout": simple.subset(readout_rate="relu"),
        "SimpleRNN, tanh readout": simple.subset(readout_rate="tanh")})
    if raster:
        demos["01.raster"] = raster_demo(train_unit_examples())
    demos["02.initial_policy"] = initial_policy_demo({s: initial_rates(s) for s in range(12)})
    demos["02.sweep"] = wout_sweep_demo({0.0: data.load("nb02_wout_sweep"),
                                         0.05: data.load("nb02_wout_entropy")})
    demos["03.gap"], demos["03.bandit"] = gap_demo(), bandit_demo()
    kappa_lr = data.load("nb03_kappa_lr")
    demos["03.kappa_x_lr"] = kappa_lr_demo(kappa_lr, data.load("nb00_main_grid"))
    demos["03.reward"] = reward_demo(data.load("nb03_reward_design"), kappa_lr)
    for name, demo in entropy_fix_demos().items():
        demos[f"04.{name}"] = demo
    demos["05.explorer"] = explorer_demo(data.catalogue())
    return demos


# --- the explorer: dropdowns and sliders over every stored run --------------------------------
def _explorer_summary(cat, kappa, entropy_coef, network, wout_std, lr) -> str:
    name, rows = cat.match(network, wout_std, lr, kappa, entropy_coef)
    if name is None:
        pairs = cat.available(network, wout_std, lr)
        shown = ", ".join(f"({k:+.1f}, {e:g})" for k, e in pairs[:8]) or "none"
        return (f"kappa={kappa:+.2f} entropy_coef={entropy_coef:g}: not computed for "
                f"{network}, wout_std={wout_std:g}, lr={lr:g}. Computed (kappa, entropy_coef)"
                f" here: {shown}")
    d = cat.datasets[name]
    modes = [analysis.MODES[m] if m >= 0 else "stopped" for m in d.mode[rows]]
    return (f"kappa={kappa:+.2f} entropy_coef={entropy_coef:g} ({name}, {len(rows)} seeds): "
            f"final reward {np.nanmean(d.final('reward')[rows]):.3f}, entropy "
            f"{np.nanmean(d.final('entropy')[rows]):.3f}, trapped "
            f"{int(d.trapped[rows].sum())}/{len(rows)} ({', '.join(modes)})")


def explorer_demo(cat) -> Demo:
    """Dropdowns for the network, W_out std and lr and sliders for kappa and entropy_coef
    over cat (a data.Catalogue, e.g. data.catalogue()), driving plots.ExplorerFigure; the
    summary line names the dataset and seeds shown, or the settings that were computed."""
    from .data import NETWORKS

    def dropdown(description, options, value):
        return W.Dropdown(options=options, value=value, description=description,
                          style=SLIDER_STYLE, layout=W.Layout(width="260px"))

    demo = Demo(plots.ExplorerFigure(cat),
                summary_fn=lambda **v: _explorer_summary(cat, **v),
                kappa=kappa_slider(cat.values("kappa"), 0.0),
                entropy_coef=entropy_slider(cat.values("entropy_coef"), 0.0),
                network=dropdown("network", list(NETWORKS), NETWORKS[0]),
                wout_std=dropdown("W_out std", cat.values("wout_std"), 0.05),
                lr=dropdown("lr", cat.values("lr"), 0.01))
    demo.png_fast = True  # seven panels at 100 dpi: encoding the PNG is most of a move
    demo.redraw()
    return demo


# --- dead units: the unit-record demo, example networks and their raster, a live run --------
def _dead_units_summary(networks, network: str, kappa: float, entropy_coef: float,
                        seed: int = 0) -> str:
    """One part per seed: final dead fraction, units that came back / died, mode, reward."""
    ds = networks[network]
    idx = ds.by_seed(kappa=kappa, entropy_coef=entropy_coef)
    died, came_back = analysis.revived_units(ds.arrays["unit_dead"][idx])
    parts = []
    for j, i in enumerate(idx):
        mode = analysis.MODES[ds.mode[i]] if ds.mode[i] >= 0 else "stopped"
        parts.append(f"seed {int(ds.arrays['seed'][i])} (C{j}): dead "
                     f"{ds.final('dead_fraction')[i]:.2f}, revived {came_back[j].sum()}/"
                     f"{died[j].sum()}, {mode}, reward {ds.final('reward')[i]:+.2f}")
    return (f"{network}, kappa={kappa:+.2f}, entropy_coef={entropy_coef:g} | "
            + " | ".join(parts))


def dead_units_demo(networks) -> Demo:
    """Network dropdown, kappa and entropy_coef sliders and seed over stored runs that record
    their units (label -> SweepData, see plots.DeadUnitsFigure): dead and dormant fraction
    over training and the chosen seed's unit record."""
    first = next(iter(networks.values()))
    seeds = sorted(set(first.arrays["seed"].tolist()))
    return Demo(plots.DeadUnitsFigure(networks),
                summary_fn=lambda **v: _dead_units_summary(networks, **v),
                network=W.Dropdown(options=list(networks), value=list(networks)[0],
                                   description="network"),
                kappa=kappa_slider(first.values("kappa"), 0.0),
                entropy_coef=entropy_slider(first.values("entropy_coef"), 0.0),
                seed=W.Dropdown(options=seeds, value=seeds[0], description="seed"))


# The example networks of the raster: seeds that learn to hold fixation within 40 updates, so
# their trials have many valid steps.
UNIT_EXAMPLES = {
    "GRU, lr 0.01": {"network_type": "gru", "seed": 0},
    "GRU, lr 0.1": {"network_type": "gru", "lr": 0.1, "seed": 0},
    "SimpleRNN, relu readout": {"network_type": "simple", "readout_rate": "relu", "seed": 1},
    "SimpleRNN, tanh readout": {"network_type": "simple", "readout_rate": "tanh", "seed": 1},
}


def batch_states(settings: TrainSettings, params: dict, trials: int = 256,
                 seed: int = 12345) -> dict[str, np.ndarray]:
    """One batch of one network (no learning), as trainer.evaluate(settings, params, trials,
    seed) draws it, with the states x: x, rates relu(x) and read (what the policy reads:
    relu(x), or tanh(x) for a tanh readout), each (time, trials, units), mask (time, trials)
    and choice (trials,). evaluate gives the rates only; a second ensemble with the same seed
    draws the same trials and noise and runs the recurrence for x, checked against them."""
    import torch

    from . import networks, tasks
    from .trainer import Ensemble, evaluate

    s = settings.replace(seed=seed)
    batch = evaluate(s, params, trials=trials, seed=seed)
    twin = Ensemble([s])
    with torch.no_grad():
        for name, p in params.items():
            twin.params[name].copy_(p[:1])
        options, in_noise, _, rec_noise, _ = twin.draw(trials)
        inputs = tasks.build_inputs(s.task, options, in_noise,
                                    torch.tensor([s.task.input_noise]))
        noise = torch.tensor([s.network.recurrent_noise]).view(1, 1, 1, 1) * rec_noise
        x = networks.run_recurrent(twin.params, s.network.network_type, inputs, noise,
                                   torch.tensor([s.network.alpha]), s.network.rate_function)
    x = x[:, 0].numpy()
    rates = batch["rates"][:, 0]
    if not np.allclose(networks.rate(torch.as_tensor(x), s.network.rate_function).numpy(),
                       rates, atol=1e-5):
        raise RuntimeError("batch_states: the states do not reproduce evaluate's rates; the "
                           "trainer's order of random draws has changed.")
    read_fn = s.network.rate_function if s.network.network_type == "gru" \
        else s.network.readout_rate
    read = networks.rate(torch.as_tensor(x), read_fn).numpy()
    return {"x": x, "rates": rates, "read": read, "mask": batch["mask"][:, 0],
            "choice": batch["choice"][0]}


def train_unit_examples(updates: int = 40, progress: bool = False) -> dict[str, dict]:
    """Train the networks of UNIT_EXAMPLES for `updates` updates (a few seconds) and draw one
    batch of 256 trials of each (batch_states, seed 12345). Networks that share array shapes
    train together. Returns {label: {"settings", "params" (each (1, ...)), "states"}}."""
    from .trainer import train

    out: dict[str, dict] = {}
    groups: dict[tuple, list[str]] = {}
    for label, change in UNIT_EXAMPLES.items():
        s = TrainSettings(updates=updates).replace(**change)
        groups.setdefault((s.network.network_type, s.network.readout_rate), []).append(label)
        out[label] = {"settings": s}
    for labels in groups.values():
        result = train([out[lb]["settings"] for lb in labels], progress=progress,
                       desc="example networks")
        for k, lb in enumerate(labels):
            params = {n: p[k:k + 1] for n, p in result.params.items()}
            out[lb]["params"] = params
            out[lb]["states"] = batch_states(out[lb]["settings"], params, trials=256)
    return out


def raster_demo(examples: dict[str, dict]) -> Demo:
    """Dropdown over the example networks (train_unit_examples), slider over the first of the
    trials shown: plots.RasterFigure."""
    figure = plots.RasterFigure(examples)
    n = next(iter(examples.values()))["states"]["rates"].shape[1]
    return Demo(figure, summary_fn=figure.summary,
                network=W.Dropdown(options=list(examples), value=list(examples)[0],
                                   description="network"),
                first_trial=int_slider("first trial", 0, n - figure.trials, 0))


def units_train_widget(networks: dict[str, TrainSettings], network: str) -> LiveRun:
    """A Train button: one network (networks: label -> its settings; `network` chosen first)
    with the reader's kappa, entropy_coef, lr and number of updates, seed 0, recording its
    units; shows plots.plot_live_units. Nothing runs until pressed."""
    from .trainer import train

    def run(progress, network, kappa, entropy_coef, lr, updates):
        progress.max, progress.value = int(updates), 0
        s = networks[network].replace(updates=int(updates), kappa=kappa,
                                      entropy_coef=entropy_coef, lr=lr, seed=0)

        def tick(update, row):
            progress.value = update + 1

        return train(s, progress=False, callback=tick, record_units=True)

    return LiveRun(run, plots.plot_live_units, description="Train",
                   network=W.Dropdown(options=list(networks), value=network,
                                      description="network"),
                   kappa=float_slider("kappa", -0.9, 0.9, 0.05, -0.4),
                   entropy_coef=float_slider("entropy_coef", 0.0, 0.1, 0.005, 0.0, fmt=".3f"),
                   lr=float_slider("lr", 0.001, 0.1, 0.001, 0.01, fmt=".3f"),
                   updates=float_slider("updates", 50, 1000, 50, 200, fmt=".0f"))


# --- the vanishing gradient: logit-gap bars, the bandit plateau, behaviour maps -----------------
@functools.lru_cache(maxsize=64)
def gap_table(gap: float) -> dict[str, dict[str, float]]:
    """Two actions with logits (gap, 0), in float32 and float64: pi, log pi and the gradient
    d log pi(a) / d logits = onehot(a) - pi (autograd) when the lead (a = 0) or the other
    action (a = 1) is sampled; table[dtype][name] for every name of plots.GAP_NAMES.
    Cached: the gap demo's figure and summary line both read it."""
    out = {}
    for dtype in (torch.float32, torch.float64):
        z = torch.tensor([[gap, 0.0]], dtype=torch.float64)
        lead = softmax.log_pi_and_grad(z, 0, dtype)
        other = softmax.log_pi_and_grad(z, 1, dtype)
        pi = torch.softmax(z.to(dtype), -1)[0]
        out[str(dtype).replace("torch.", "")] = {
            "pi_lead": pi[0].item(), "pi_other": pi[1].item(),
            "log_pi_lead": lead.log_pi.item(), "log_pi_other": other.log_pi.item(),
            "grad_lead_0": lead.grad_autograd[0, 0].item(),
            "grad_lead_1": lead.grad_autograd[0, 1].item(),
            "grad_other_0": other.grad_autograd[0, 0].item(),
            "grad_other_1": other.grad_autograd[0, 1].item(),
        }
    return out


def _gap_summary(gap: float) -> str:
    t = gap_table(gap)
    f32, f64 = t["float32"], t["float64"]
    return (f"gap {gap:g}: pi(lead) float32 {f32['pi_lead']:.9f} "
            f"({'exactly 1' if f32['pi_lead'] == 1 else 'below 1'}), float64 "
            f"{f64['pi_lead']:.17f}; |grad| if lead sampled: float32 "
            f"{math.hypot(f32['grad_lead_0'], f32['grad_lead_1']):.2e}, float64 "
            f"{math.hypot(f64['grad_lead_0'], f64['grad_lead_1']):.2e}; if unlikely sampled "
            f"{math.hypot(f32['grad_other_0'], f32['grad_other_1']):.3f} "
            f"(log pi = {f32['log_pi_other']:.2f}), but that happens with probability "
            f"{f32['pi_other']:.1e}")


def gap_demo() -> Demo:
    """A logit-gap slider: pi, log pi and the gradients of two actions in float32 and float64
    (plots.GapFigure), the summary line says where float32 gives exactly 1 or 0."""
    figure = plots.GapFigure()
    gaps = [0, 1, 2, 4, 8, 12, 14, 15, 16, 16.5, 17, 20, 30, 36, 37, 50, 100, 104, 110]
    return Demo(lambda gap: figure(gap_table(gap), gap), summary_fn=_gap_summary,
                gap=choice_slider("logit gap", gaps, 4))


BANDIT_REWARDS = (1.0, 0.0)  # the bandit demo's two arms: best first, reward gap Delta = 1
BANDIT_STEPS = 1000


@functools.lru_cache(maxsize=64)
def bandit_trajectory(p0: float, lr: float, entropy_coef: float,
                      steps: int = BANDIT_STEPS) -> np.ndarray:
    """pi(best arm) over steps, shape (steps + 1,), of exact policy gradient on the two arms
    BANDIT_REWARDS from pi_best = p0 (bandit.exact_pg_trajectory). Cached: the demo's figure
    and summary line both read it (do not modify the array)."""
    theta0 = bandit.initial_logits_for(BANDIT_REWARDS, p0)
    return bandit.exact_pg_trajectory(theta0, BANDIT_REWARDS, lr, steps, entropy_coef)[:, 0]


def _bandit_summary(p0: float, lr: float, entropy_coef: float) -> str:
    pi = bandit_trajectory(p0, lr, entropy_coef)
    past = pi >= 0.5
    escape = f"{int(past.argmax())}" if past.any() else f"> {BANDIT_STEPS}"
    delta = BANDIT_REWARDS[0] - BANDIT_REWARDS[1]
    formula = bandit.plateau_length_two_arm(p0, delta, lr) if p0 < 0.5 else 0.0
    return (f"escape (pi_best >= 1/2) at step {escape}; closed form (tau = 0) {formula:.0f}; "
            f"pi_best at step {BANDIT_STEPS}: {pi[-1]:.4f}; optimum of pi.r + tau H: "
            f"{bandit.regularised_optimum(BANDIT_REWARDS, entropy_coef)[0]:.4f}")


def bandit_demo() -> Demo:
    """Sliders over the initial probability of the best arm, the learning rate and the entropy
    coefficient tau: exact policy gradient on two arms, computed live (plots.BanditFigure)."""
    figure = plots.BanditFigure(BANDIT_REWARDS, BANDIT_STEPS)

    def plot(p0, lr, entropy_coef):
        return figure(bandit_trajectory(p0, lr, entropy_coef), p0, lr, entropy_coef)

    p0s = [0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001]
    return Demo(plot, summary_fn=_bandit_summary,
                p0=choice_slider("initial pi(best)", p0s, 0.01),
                lr=choice_slider("learning rate", [0.1, 0.2, 0.5, 1.0, 2.0], 0.5),
                entropy_coef=entropy_slider([0.0, 0.01, 0.05, 0.1, 0.2], 0.0))


def mode_map_demo(cells, row_values: list, col_values: list, row_labels: list[str],
                  col_labels: list[str], row_name: str, col_name: str, update: int,
                  heading: Callable[..., str], **sliders: W.ValueWidget) -> Demo:
    """Two sliders (the first picks a row of cells, the second a column) over a map of stored
    runs at one update (plots.ModeMapFigure; cells[r][c] = (sweep, rows by seed)). The summary
    line starts with heading(**values) and gives each seed's behaviour, reward and gradient
    norm over the stored updates before `update`."""
    figure = plots.ModeMapFigure(cells, row_labels, col_labels, row_name, col_name, update)
    row_key, col_key = sliders

    def where(values):
        return row_values.index(values[row_key]), col_values.index(values[col_key])

    def plot(**values):
        return figure(*where(values))

    def summary(**values):
        r, c = where(values)
        d, rows = cells[r][c]
        reward, grad = d.at("reward", update - 1), d.at("grad_norm", update - 1)
        return f"{heading(**values)}: " + "; ".join(
            f"seed {d.arrays['seed'][i]}: {plots.mode_name(m)} (reward {reward[i]:.2f}, "
            f"grad norm {grad[i]:.1e})" for i, m in zip(rows, figure.modes[r, c], strict=True))

    return Demo(plot, summary_fn=summary, **sliders)


def kappa_lr_demo(kappa_lr, main_grid, update: int = 700) -> Demo:
    """kappa and learning-rate sliders over the trapped seeds at `update`: kappa_lr's runs
    (nb03_kappa_lr: kappa x lr x seeds) and, for main_grid's learning rate, main_grid's runs at
    entropy_coef 0 (nb00_main_grid: the same seeds, so every column pairs up seed by seed)."""
    main_lr = float(main_grid.setting("lr")[0])
    kappas, lrs = kappa_lr.values("kappa"), sorted(kappa_lr.values("lr") + [main_lr])
    cells = [[(main_grid, main_grid.by_seed(kappa=k, entropy_coef=0.0)) if lr == main_lr
              else (kappa_lr, kappa_lr.by_seed(kappa=k, lr=lr)) for lr in lrs] for k in kappas]
    return mode_map_demo(
        cells, kappas, lrs, [f"{k:+.1f}" for k in kappas], [f"{v:g}" for v in lrs],
        "kappa (< 0 risk-seeking)", "policy learning rate", update,
        lambda kappa, lr: f"kappa={kappa:+.2f}, lr={lr:g}, at update {update}",
        kappa=kappa_slider(kappas, -0.2), lr=choice_slider("learning rate", lrs, 0.01))


def reward_demo(reward_design, kappa_lr, update: int = 700) -> Demo:
    """Reward-design and kappa sliders over the trapped seeds at `update`: each reward variant
    of reward_design (nb03_reward_design: no_choice_penalty and step_cost changed one at a
    time) and its control "upstream", kappa_lr's runs at reward_design's learning rate
    (nb03_kappa_lr: the same seeds, so paired)."""
    lr = float(reward_design.setting("lr")[0])
    kappas = reward_design.values("kappa")
    upstream_penalty = float(kappa_lr.setting("no_choice_penalty")[0])
    variants = {"upstream": (kappa_lr, {"lr": lr})}
    for penalty, cost in sorted(set(zip(reward_design.setting("no_choice_penalty").tolist(),
                                        reward_design.setting("step_cost").tolist(),
                                        strict=True))):
        name = f"no-choice {penalty:.1f}" if penalty != upstream_penalty else f"step cost {cost:g}"
        variants[name] = (reward_design, {"no_choice_penalty": penalty, "step_cost": cost})
    cells = [[(d, d.by_seed(kappa=k, **setting)) for k in kappas]
             for d, setting in variants.values()]
    names = list(variants)
    return mode_map_demo(
        cells, names, kappas, names, [f"{k:+.1f}" for k in kappas], "rewards", "kappa", update,
        lambda variant, kappa: f"{variant}, kappa={kappa:+.2f}, at update {update}",
        variant=choice_slider("rewards", names, names[0], fmt="{}"),
        kappa=kappa_slider(kappas, 0.0))


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
    final entropy, reward, lower-p choices and trapped runs."""
    def summary(kappa, entropy_coef):
        cell = grid.subset(kappa=kappa, entropy_coef=entropy_coef)
        H, R, risky = (cell.final(n) for n in ("entropy", "reward", "risky_rate"))
        risky_text = f"{np.nanmean(risky):.2f}" if np.isfinite(risky).any() else "none (no choices)"
        return (f"kappa={kappa:+.2f}, entropy_coef={entropy_coef:g}, {len(H)} seeds: final "
                f"entropy median {np.median(H):.3f} (above {plots.ENTROPY_TARGET:g} in "
                f"{int((H > plots.ENTROPY_TARGET).sum())}); reward mean {np.mean(R):.3f} (min "
                f"{np.min(R):.2f}); lower-p choices {risky_text}; trapped "
                f"{stats.frequency(cell.trapped)}")

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
                f"trapped {stats.frequency(runs[fix].trapped)} "
                f"(no fix: {stats.frequency(runs['none'].trapped)})")

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
    trained: starts maps seeds low..high (every one) to initial_rates(seed), so a move
    computes one softmax.
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
                seed=int_slider("seed", min(starts), max(starts), min(starts)))


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
