"""Dead units in the library: spells of dead records and revivals (analysis), the batch with
its states x, the example networks and their raster, the unit-record demo and the live run
(widgets, plots), and the trapped-fraction figure on a linear axis."""

import matplotlib
import numpy as np

matplotlib.use("Agg")

from pyrl_mini import plots  # noqa: E402
from pyrl_mini.stats import wilson  # noqa: E402


def test_trapped_fraction_on_a_linear_axis_keeps_every_interval_apart_and_in_view():
    flags = {(-0.4, 0.0): [True] * 7 + [False] * 13, (0.4, 0.0): [False] * 20,
             (-0.4, 0.05): [False] * 20, (0.4, 0.05): [True] + [False] * 19}
    series = {f"entropy_coef {e:g}": {k: np.array(f) for (k, e2), f in flags.items() if e2 == e}
              for e in (0.0, 0.05)}
    fig = plots.plot_trapped_fraction(series, xlabel="kappa", log_x=False)
    ax = fig.axes[0]
    xs = [c.lines[0].get_xdata() for c in ax.containers]    # one errorbar per series
    # a quarter of the gap (0.8) between the two series, none at the kappa itself
    np.testing.assert_allclose(xs[0], [-0.496, 0.304])
    np.testing.assert_allclose(xs[1], [-0.304, 0.496])
    lo, hi = ax.get_xlim()
    assert lo < min(map(min, xs)) and max(map(max, xs)) < hi
    segs = ax.containers[0].lines[2][0].get_segments()
    np.testing.assert_allclose([s[:, 1] for s in segs], [wilson(7, 20), wilson(0, 20)])
    assert {t.get_text() for t in ax.texts} == {"7/20", "0/20", "1/20"}
