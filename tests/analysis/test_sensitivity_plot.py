"""plot_sobol() and plot_morris(): one bar or point per parameter, drawn from the table."""

from __future__ import annotations

import io

import pytest
from matplotlib.figure import Figure

from known_indices import ISHIGAMI, LINEAR, ishigami, linear, values
from poolpilot.analysis import sensitivity as sa


@pytest.fixture(scope="module")
def sobol_frame():
    return sa.analyze_function(ishigami, ISHIGAMI, "sobol", samples=256, seed=0)


def test_plot_sobol_draws_two_bars_per_parameter(sobol_frame):
    ax = sa.plot_sobol(sobol_frame, "y")
    assert len(ax.patches) == 2 * 3
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x1", "x2", "x3"]
    assert ax.get_xlabel() and ax.get_ylabel()
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    expected = sorted(round(v, 6) for v in values(sobol_frame)["value"])
    assert widths == expected
    ax.figure.savefig(io.BytesIO(), format="png")


def test_plot_sobol_refuses_rows_it_cannot_draw(sobol_frame):
    with pytest.raises(ValueError, match="need sobol or fast rows"):
        sa.plot_sobol(sobol_frame, "missing")
    morris = sa.analyze_function(linear, LINEAR, "morris", samples=4, seed=0)
    with pytest.raises(ValueError, match="need sobol or fast rows"):
        sa.plot_sobol(morris, "y")


def test_plot_morris_labels_each_parameter():
    frame = sa.analyze_function(linear, LINEAR, "morris", samples=10, seed=0)
    ax = Figure().subplots()
    assert sa.plot_morris(frame, "y", ax=ax) is ax
    assert sorted(t.get_text() for t in ax.texts) == ["x1", "x2", "x3", "x4"]
    assert "mu*" in ax.get_xlabel() and "sigma" in ax.get_ylabel()
    with pytest.raises(ValueError, match="no morris rows"):
        sa.plot_morris(frame, "missing")
