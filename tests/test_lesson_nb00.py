"""Notebooks 00 and 00b's library pieces: the kappa demo (00b) (plots.KappaDemoFigure driven by
widgets.kappa_demo), analysis.risk_preference, the trial diagram and the Train button."""

import numpy as np
import pytest

from pyrl_mini import TrainSettings, analysis, data, plots, tasks, widgets


@pytest.fixture(scope="module")
def grid():
    return data.load("nb00_main_grid")


def test_risk_preference_orders_seeds_and_reads_the_final_rates(grid):
    kappas, risky = analysis.risk_preference(grid, entropy_coef=0.0)
    assert list(kappas) == grid.values("kappa")
    i = list(kappas).index(-0.4)
    rows = grid.by_seed(kappa=-0.4, entropy_coef=0.0)
    assert (np.diff(grid.arrays["seed"][rows]) > 0).all(), "rows in ascending seed order"
    np.testing.assert_array_equal(risky[i], grid.final("risky_rate")[rows])


def test_kappa_demo_redraws_with_the_data_of_the_new_kappa(grid):
    demo = widgets.kappa_demo(grid)
    def marked(fig):  # the red dots: the selected kappa's seeds
        line = [ln for ln in fig.axes[0].lines if ln.get_color() == "C3"][0]
        return np.asarray(line.get_xdata()), np.asarray(line.get_ydata())

    x0, _ = marked(demo.figure)
    assert np.allclose(x0, 0.0)
    demo.set(kappa=-0.4)
    x1, y1 = marked(demo.figure)
    assert np.allclose(x1, -0.4)
    want = grid.final("risky_rate")[grid.by_seed(kappa=-0.4, entropy_coef=0.0)]
    np.testing.assert_allclose(y1, want)
    assert "kappa=-0.40" in demo.summary.value
    assert demo.figure.axes[1].get_title() == "kappa=-0.40"
    image0 = demo.figure.axes[1].images[0].get_array().copy()
    demo.set(entropy_coef=0.05)
    assert "entropy_coef=0.05" in demo.summary.value
    image1 = demo.figure.axes[1].images[0].get_array()
    assert image0.shape != image1.shape or not np.allclose(
        np.nan_to_num(image0), np.nan_to_num(image1))
    assert demo.redraws == 3
    assert len(demo.figure.axes) == 3, "the heatmap has a colour bar"
    assert demo.figure.axes[2].get_ylabel().startswith("P(choose left)")


def test_demo_and_static_figures_are_at_least_100_dpi(grid):
    demo = widgets.kappa_demo(grid)
    assert demo.dpi >= 100
    for fig in (plots.plot_trial(), plots.plot_option_grid(), plots.plot_kappa_transform()):
        assert fig.dpi >= 100
        for ax in fig.axes:  # colour bars included: each says what its colour means
            assert ax.get_ylabel(), f"{fig.axes[0].get_title()}: an axis without a y label"
            if ax.get_label() != "<colorbar>":  # x labelled, or shared with a labelled x axis
                assert any(a.get_xlabel() for a in ax.get_shared_x_axes().get_siblings(ax))


def test_trial_diagram_marks_each_input_onset_at_its_epoch():
    s = TrainSettings().task
    fig = plots.plot_trial()
    onsets = []
    for ax in fig.axes:
        marker = [ln for ln in ax.lines if ln.get_marker() == "o"]
        onsets.append(int(marker[0].get_xdata()[0]) if marker else None)
    # the fixation cue is on from step 0; the four option inputs appear with the stimulus
    assert onsets == [0] + [s.fixation_steps] * (len(tasks.INPUTS) - 1)


def test_train_widget_trains_when_pressed():
    w = widgets.train_widget(TrainSettings(seed=1))
    w.controls["updates"].value = 100
    assert w.result is None
    result = w.run()
    assert result.updates_done == 100 and w.progress.value == 100
