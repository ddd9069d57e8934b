"""The report's figures read at a glance, on small hand-made frames.

For every figure function: (a) no legend covers a plotted point (lines, bands, bars, markers,
whiskers) and, being outside the axes, no axes' data area either; (b) every numeric axis
names its unit; (c) no axes draws more than a few series in colour; (d) a partner keeps its
colour from one figure to the next. Then the SVG the report embeds: compact, still drawing
every path, and a small study's report within its byte budget.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import Collection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FixedLocator

from poolpilot.report import figures, svgmin
from poolpilot.report.palette import GREY, STATUS_QUO, Colours

MONTHS = np.arange(1, 13)
PAYERS = ["medicaid", "county_fund"]
PROVIDERS = ["clinic", "hospital", "nurses", "navigators", "peers", "ride_link", "housing"]
SERVICES = [f"service_{i}" for i in range(9)]
DESIGNS = ["pool_a", "pool_b", "pool_c", "pool_d", "pool_e"]
BASELINES = {d: f"no_pool_for_{d}" for d in DESIGNS}
#: What an axis label must contain to name a unit.
UNIT = re.compile(r"%|\$|month|\(0 to 1\)|0 to 1|per |units|count|share", re.I)


def _bands(names: list[str], level: float = 0.5, step: float = 0.02) -> pd.DataFrame:
    """low/median/high per (name, month): a rising median per name, a band around it."""
    rows = []
    for i, name in enumerate(names):
        for m in MONTHS:
            median = level + step * i + 0.005 * m
            rows.append((name, m, median - 0.05, median, median + 0.05))
    frame = pd.DataFrame(rows, columns=["name", "month", "low", "median", "high"])
    return frame.set_index(["name", "month"])


def _one(name: str, scale: float) -> pd.DataFrame:
    frame = _bands([name])
    return frame * scale


def _trajectories(colours: Colours | None = None) -> Figure:
    return figures.design_trajectories(
        "",
        _bands(PAYERS + PROVIDERS, 0.3, 0.06),
        _bands(SERVICES, 0.1, 0.01),
        _one("spend", 1e6),
        _one("budget", 1.1e6),
        PAYERS,
        colours=colours,
    )


def _rows(names: list[str], centre: str = "mean") -> pd.DataFrame:
    values = np.linspace(-1.0, 2.0, len(names))
    return pd.DataFrame({centre: values, "low": values - 0.3, "high": values + 0.3}, index=names)


def _indices(method: str) -> pd.DataFrame:
    rows = []
    for i, p in enumerate(["transparency", "propensity", "self_interest", "coi", "cycle"]):
        if method == "morris":
            for index, v in (("mu_star", 0.1 * (i + 1)), ("sigma", 0.05 * (5 - i))):
                rows.append(("trust_erosion", "morris", index, p, v, v - 0.02, v + 0.02))
        else:
            # the largest whiskers reach the top right, where an inside legend sat
            for index, v in (("S1", 0.1 + 0.15 * i), ("ST", 0.2 + 0.18 * i)):
                rows.append(("trust_erosion", method, index, p, v, v - 0.1, v + 0.1))
    return pd.DataFrame(
        rows, columns=["metric", "method", "index", "parameter", "value", "ci_low", "ci_high"]
    )


def _shift() -> pd.DataFrame:
    cols = {}
    for key, base in (("spend", 0.3), ("fair", 0.2)):
        cols |= {f"{key}_median": [base, base + 0.1], f"{key}_low": [base - 0.02, base + 0.08]}
        cols[f"{key}_high"] = [base + 0.02, base + 0.12]
    return pd.DataFrame(cols, index=["pool_a", "pool_b"])


def _stacked() -> pd.DataFrame:
    frame = pd.DataFrame(
        np.arange(1.0, 1.0 + 3 * 10).reshape(3, 10) * 1e5,
        index=DESIGNS[:3],
        columns=["holder's own lines", *SERVICES],
    )
    return frame


FIGURES = {
    "trajectories": _trajectories,
    "trust_overview": lambda: figures.trust_overview(
        _bands(DESIGNS + list(BASELINES.values())), baselines=BASELINES
    ),
    "trust_overview_few": lambda: figures.trust_overview(_bands(["pool_a", STATUS_QUO])),
    "intervals": lambda: figures.intervals(
        _rows(DESIGNS), "Return", "Saved per dollar pooled (mean, 95% interval)", centre="mean"
    ),
    "signed_bars": lambda: figures.signed_bars(
        _rows(["medicaid", "holder", "outside", "providers"]),
        "Saving by party",
        "Saving ($; mean and its 95% interval)",
        formatter=figures.money_formatter("$"),
    ),
    "stacked_bars": lambda: figures.stacked_bars(
        _stacked(),
        "Spend by service",
        "Spend ($; mean over replicates)",
        hatched=pd.DataFrame({"holder's own lines": [True, True, False]}, index=DESIGNS[:3]),
        top=figures.MAX_SERIES,
        other="other services",
    ),
    "tiers": lambda: figures.stacked_bars(
        _stacked().iloc[:, :3], "Cases", "Cases per run (mean over replicates)"
    ),
    "cost_shift": lambda: figures.cost_shift(_shift()),
    "sobol": lambda: figures.sensitivity(_indices("sobol"), "trust_erosion", "sobol"),
    "morris": lambda: figures.sensitivity(_indices("morris"), "trust_erosion", "morris"),
}


def _legends(fig) -> list:
    """Every legend of a figure, its subfigures and its axes."""
    found = list(fig.legends)
    for sub in fig.subfigs:
        found += _legends(sub)
    found += [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return list({id(x): x for x in found}.values())


def _data_points(ax) -> np.ndarray:
    """Display coordinates of everything the axes plots: line vertices, band and whisker
    vertices, bar corners."""
    points = [np.empty((0, 2))]
    for line in ax.lines:
        xy = np.column_stack([line.get_xdata(), line.get_ydata()]).astype(float)
        if len(xy):
            points.append(ax.transData.transform(xy))
    for coll in ax.collections:
        for path in coll.get_paths():
            vertices = path.vertices
            if len(vertices):
                points.append(coll.get_transform().transform(vertices))
        offsets = coll.get_offsets()
        if len(offsets) and not isinstance(offsets, np.ma.MaskedArray):
            points.append(coll.get_offset_transform().transform(offsets))
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_width() and patch.get_height():
            points.append(patch.get_window_extent().corners())
    out = np.vstack(points)
    return out[np.isfinite(out).all(axis=1)]


def _all_axes(fig) -> list:
    return [ax for ax in fig.get_axes() if ax.get_visible()]


@pytest.mark.parametrize("name", list(FIGURES))
def test_no_legend_covers_data_or_sits_on_the_axes(name):
    fig = FIGURES[name]()
    fig.draw_without_rendering()
    legends = _legends(fig)
    if name not in ("intervals", "signed_bars"):  # these read without a legend
        assert legends, f"{name}: expected a legend"
    for legend in legends:
        box = legend.get_window_extent()
        for ax in _all_axes(fig):
            inner = ax.get_window_extent()
            assert not box.overlaps(inner.shrunk(0.99, 0.99)), f"{name}: legend on an axes"
            pts = _data_points(ax)
            inside = (
                (pts[:, 0] > box.x0)
                & (pts[:, 0] < box.x1)
                & (pts[:, 1] > box.y0)
                & (pts[:, 1] < box.y1)
            )
            assert not inside.any(), f"{name}: legend over {inside.sum()} data points"


def _categorical(axis) -> bool:
    """An axis of named rows (designs, parties, parameters): ticks set one per name."""
    if not isinstance(axis.get_major_locator(), FixedLocator):
        return False
    texts = [t.get_text() for t in axis.get_ticklabels()]
    return any(any(ch.isalpha() for ch in t) for t in texts)


def _label(ax, which: str) -> str:
    """The axis label, or (small multiples) that of an axes sharing the axis."""
    shared = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    labels = [getattr(a, f"get_{which}label")() for a in shared.get_siblings(ax)]
    return " ".join(label for label in labels if label)


@pytest.mark.parametrize("name", list(FIGURES))
def test_every_numeric_axis_names_its_unit(name):
    fig = FIGURES[name]()
    fig.draw_without_rendering()  # tick labels are made at draw
    for ax in _all_axes(fig):
        for which in ("x", "y"):
            axis = ax.xaxis if which == "x" else ax.yaxis
            if _categorical(axis):
                continue
            label = _label(ax, which)
            assert UNIT.search(label), f"{name}: {which} axis label {label!r} names no unit"


def _series_colours(ax) -> set[str]:
    """Colours of the series an axes draws (lines with data and bar groups), grey aside."""
    colours = set()
    for line in ax.lines:
        if len(line.get_xdata()) > 1 and line.get_linestyle() not in ("None", ""):
            colours.add(to_hex(line.get_color()))
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_facecolor()[3] > 0:
            colours.add(to_hex(patch.get_facecolor()))
    return colours - {GREY.lower(), "#555555"}


@pytest.mark.parametrize("name", list(FIGURES))
def test_an_axes_draws_a_few_series(name):
    fig = FIGURES[name]()
    limit = figures.MAX_SERIES + 1
    for ax in _all_axes(fig):
        if name == "signed_bars":  # one bar per party, each named on the axis
            continue
        n = len(_series_colours(ax))
        assert n <= limit, f"{name}: {n} series in one axes {ax.get_title()!r}"


def test_unmet_need_is_one_panel_per_service():
    fig = _trajectories()
    titles = [ax.get_title() for ax in fig.get_axes()]
    assert all(s in titles for s in SERVICES)
    panel = next(ax for ax in fig.get_axes() if ax.get_title() == SERVICES[0])
    assert sum(isinstance(c, Collection) for c in panel.collections) == 1  # one band


def test_trust_overview_pairs_each_design_with_its_grey_baseline():
    fig = FIGURES["trust_overview"]()
    panels = [ax for ax in fig.get_axes() if ax.get_title(loc="left")]
    assert [ax.get_title(loc="left") for ax in panels] == DESIGNS
    for ax in panels:
        colours = [to_hex(line.get_color()) for line in ax.lines]
        assert len(colours) == 2 and GREY.lower() in colours


def _line_colour(fig, label: str) -> str:
    for ax in fig.get_axes():
        for line in ax.lines:
            if line.get_label().split(" (")[0] == label:
                return to_hex(line.get_color())
    raise AssertionError(f"no line {label!r}")


def test_a_partner_keeps_its_colour_across_figures():
    colours = Colours.of(
        PAYERS + PROVIDERS + ["holder", "outside", "providers"], SERVICES, payers=PAYERS
    )
    trajectories = _trajectories(colours)
    bars = figures.signed_bars(
        _rows(["medicaid", "county_fund", "holder", "outside", "providers"]),
        "Saving by party",
        "Saving ($)",
        colours=colours.partners,
    )
    bar_colour = {
        label.get_text(): to_hex(patch.get_facecolor())
        for label, patch in zip(
            bars.axes[0].get_yticklabels(),
            [p for p in bars.axes[0].patches if isinstance(p, Rectangle)],
            strict=True,
        )
    }
    for payer in PAYERS:
        expected = colours.partner(payer).lower()
        assert _line_colour(trajectories, payer) == bar_colour[payer] == expected
    # parties and payers never share a colour, and none is the baseline's grey
    party = [colours.partner(p) for p in ["holder", "outside", "providers", *PAYERS]]
    assert len(set(party)) == len(party) and GREY not in party


def test_colours_do_not_depend_on_the_order_names_come_in():
    a = Colours.of(PROVIDERS + PAYERS, SERVICES, DESIGNS, payers=PAYERS)
    b = Colours.of(PROVIDERS[::-1] + PAYERS[::-1], SERVICES[::-1], DESIGNS, payers=PAYERS)
    assert a.partners == b.partners and a.services == b.services
    assert a.partner(STATUS_QUO) == GREY
    c = Colours.of(designs=["pool_a", "no_pool"], baselines=["no_pool"])
    assert c.design("no_pool") == GREY and c.design("pool_a") != GREY
    assert len(set(a.services.values())) == len(SERVICES)  # nine services, nine colours


def _absolute(d: str) -> list[tuple[float, float]]:
    """The points of a path of M/m, L/l, C/c, z commands, absolute (to check a rewrite)."""
    tokens = re.findall(r"[A-Za-z]|-?(?:\d+\.?\d*|\.\d+)", d)
    points, x, y, sx, sy, cmd, i = [], 0.0, 0.0, 0.0, 0.0, "", 0
    while i < len(tokens):
        if tokens[i].isalpha():
            cmd = tokens[i]
            i += 1
            if cmd in "zZ":
                x, y = sx, sy
                continue
        n = 6 if cmd in "Cc" else 2
        values = [float(t) for t in tokens[i : i + n]]
        i += n
        if cmd.islower():
            values = [v + (y if k % 2 else x) for k, v in enumerate(values)]
        x, y = values[-2], values[-1]
        if cmd in "Mm":
            sx, sy = x, y
            cmd = "l" if cmd == "m" else "L"
        points.append((x, y))
    return points


def test_relative_paths_draw_the_same_points():
    d = "M 10.04 20 L 15.5 22.25 L 21 18 L 30.07 18 z M 40 40 C 41 41 42 42 43 40 L 50 50"
    out = svgmin.relative_path(d, thin=False)
    assert len(out) < len(d)
    expected = _absolute(d)
    assert np.allclose(_absolute(out), expected, atol=0.06)


def test_thinning_drops_only_points_no_one_sees():
    xs = np.linspace(0, 100, 50)
    flat = "M 0 0 " + " ".join(f"L {x:.3f} {0.01 * np.sin(x):.3f}" for x in xs)
    assert svgmin.relative_path(flat).count(" ") < 4  # a flat line: two points
    zigzag = "M 0 0 " + " ".join(f"L {x:.3f} {5 * (i % 2):.3f}" for i, x in enumerate(xs[1:], 1))
    assert len(_absolute(svgmin.relative_path(zigzag))) == len(xs)  # every corner kept


@pytest.mark.parametrize("name", ["trajectories", "trust_overview", "stacked_bars"])
def test_svg_is_compact_and_still_draws_every_path(name):
    fig = FIGURES[name]()
    buf = io.BytesIO()
    with figures.style():
        fig.savefig(buf, format="svg")
    raw = buf.getvalue().decode()
    small = figures.svg(fig).decode()
    assert len(small) < 0.6 * len(raw)
    root = ET.fromstring(small)  # well-formed
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert texts and all(t for t in texts)  # text stays text (no glyph outlines)
    assert "sans-serif" in small  # with a generic fallback font
    refs = re.findall(r'href="#([^"]+)"|url\(#([^)]+)\)', small)
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert {a or b for a, b in refs} <= ids  # every reference resolves
    assert figures.svg(FIGURES[name]()) == figures.svg(FIGURES[name]())  # same bytes


#: The demo (`make demo`: 20 designs, 20 replicates of 36 months) must stay under 1.5 MB; a
#: report grows with its designs (a trajectories figure each, columns of the tables), so a
#: study may take 1.5 MB / 20 per design. The demo measures 1.40 MB; three designs and their
#: status-quo baselines (six) about 390 kB.
BYTES_PER_DESIGN = 1_500_000 // 20


def test_a_small_study_s_report_stays_within_its_byte_budget(tmp_path):
    from poolpilot import report
    from poolpilot.report.data import load
    from poolpilot.runs.study import compare
    from poolpilot.scenario import load_scenario

    names = ["hospital_led_post_acute", "county_led_bh_housing", "convener_led_multi_provider"]
    out = tmp_path / "study"
    compare(
        [load_scenario(n) for n in names],
        replicates=5,
        months=12,
        out=out,
        workers=1,
        progress="none",
    )
    path = report.write_report(out)
    designs = len(load(out).labels)
    assert designs == 6  # the three and their baselines
    size = path.stat().st_size
    assert size <= BYTES_PER_DESIGN * designs, f"{size} bytes for {designs} designs"
    text = path.read_text(encoding="utf-8")
    assert "<img" in text and "http://" not in text.replace("http://www.w3.org", "")


def test_two_partners_of_one_colour_in_a_panel_are_told_apart_by_dashes():
    same = Colours(partners={p: "#0072B2" for p in PAYERS + PROVIDERS})
    fig = _trajectories(same)
    payers = next(ax for ax in fig.get_axes() if ax.get_title() == "Payers' trust")
    styles = [line.get_linestyle() for line in payers.lines if len(line.get_xdata()) > 1]
    assert styles == ["-", "--"]
