"""The report's figures: matplotlib on bare ``Figure`` objects, one style, Okabe-Ito colours.

Every function here takes frames that are already aggregated (the report module does the
arithmetic) and returns a ``matplotlib.figure.Figure``; `svg` turns a figure into SVG bytes.
Nothing touches pyplot, so building a report never changes a caller's figures or backend.
Figures are sized for print (7 inches wide at most, text of 7.5 to 9 points) and shown at that
size in the report, so what reads on screen reads on paper.

So that a figure reads at a glance: legends sit outside the axes (right of or below them),
never over data; an axes draws at most `MAX_SERIES` series in colour (more become small
multiples, or grey "others"); every numeric axis names its unit; and a partner, service or
design has one colour in every figure of a report (`palette.Colours`, passed as
``colours=``).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from poolpilot.report import svgmin
from poolpilot.report.palette import DASHES, GREY, PALETTE, Colours, colour, dash

__all__ = [
    "DASHES",
    "GREY",
    "MAX_SERIES",
    "PALETTE",
    "WIDTH",
    "Colours",
    "colour",
    "cost_shift",
    "dash",
    "design_trajectories",
    "intervals",
    "money",
    "money_formatter",
    "sensitivity",
    "signed_bars",
    "stacked_bars",
    "style",
    "svg",
    "trust_overview",
]

#: Widest figure, inches: the printable width of A4 and US Letter with 15 mm margins.
WIDTH = 7.0
#: At most this many series in colour on one axes; the rest are small multiples or grey.
MAX_SERIES = 4
#: Above this many designs the trust overview is small multiples (each design and its baseline).
OVERVIEW_SINGLE = 4
MONTH = "Time (months)"
TRUST = "trust (0 to 1)"

#: One style for every figure (applied with `style`, so the global rcParams stay untouched).
RC = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
    "axes.labelsize": 8.5,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    # the grid shows where the ticks are: tick marks would add bytes and nothing to read
    "xtick.major.size": 0,
    "ytick.major.size": 0,
    "xtick.major.pad": 2.5,
    "ytick.major.pad": 2.5,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "lines.linewidth": 1.5,
    # text as text, not as glyph outlines: a third of the bytes of a figure; the page names a
    # generic fallback (`FONTS`), so the file still needs nothing from outside itself
    "svg.fonttype": "none",
    "svg.hashsalt": "poolpilot",  # the same figure gives the same bytes
    "text.parse_math": False,  # names with '$' or '_' are shown as they are
    "hatch.linewidth": 0.6,
}
#: The fonts a reader's browser tries for the figures' text, the metrics' font first.
FONTS = "'DejaVu Sans','Bitstream Vera Sans',Verdana,Arial,Helvetica,sans-serif"


@contextmanager
def style() -> Iterator[None]:
    """The report's style, for the figures made (and saved) inside the block."""
    with mpl.rc_context(RC):
        yield


#: Above this many points a scatter is drawn as one image inside the SVG (``rasterized``): a
#: 100,000-run exploration would otherwise put every dot in the page as an element.
RASTER_POINTS = 2000
#: The resolution of those images (dots per inch of the figure).
RASTER_DPI = 150


def svg(fig: Figure) -> bytes:
    """The figure as compact SVG, without a creation date (same figure, same bytes)."""
    buf = io.BytesIO()
    with style():
        fig.savefig(
            buf,
            format="svg",
            dpi=RASTER_DPI,
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    return svgmin.minify(buf.getvalue().decode("utf-8"), FONTS).encode("utf-8")


def money_formatter(symbol: str = "$") -> FuncFormatter:
    """Axis ticks in k, M or B of the currency."""
    return FuncFormatter(lambda v, _pos: money(v, symbol))


def money(value: float, symbol: str = "$") -> str:
    """Compact money: $950, $12.3k, $4.56M, $1.20B (sign before the symbol)."""
    if not np.isfinite(value):
        return "n/a"
    sign = "\u2212" if value < 0 else ""
    v = abs(value)
    if v >= 1e9:
        text = f"{v / 1e9:.2f}B"
    elif v >= 1e6:
        text = f"{v / 1e6:.2f}M" if v < 1e7 else f"{v / 1e6:.1f}M"
    elif v >= 1e3:
        text = f"{v / 1e3:.1f}k"
    else:
        text = f"{v:.0f}"
    return f"{sign}{symbol}{text}"


def _legend_right(ax: Axes, **kwargs) -> None:
    """The axes' legend right of it, top-aligned: outside the data, in the layout's space."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, **kwargs)


def _legend_below(ax: Axes, ncols: int = 2, **kwargs) -> None:
    """The axes' legend under its x label, centred: outside the data."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.28), borderaxespad=0, ncols=ncols, **kwargs
        )


def _band(ax: Axes, q: pd.DataFrame, c: str, label: str | None, ls: str = "-", a=0.18) -> None:
    """Median line and 5-95% band of one series (q: index month, columns low/median/high)."""
    ax.grid(axis="x", visible=False)  # months need no grid: the values are read across
    ax.fill_between(q.index, q["low"], q["high"], color=c, alpha=a, linewidth=0)
    ax.plot(q.index, q["median"], color=c, linestyle=ls, label=label)


def _grid(sub, n: int, ncols: int, **kwargs) -> list[Axes]:
    """n small panels with shared axes in rows of ``ncols``; the unused cells removed."""
    ncols = max(1, min(ncols, n))
    rows = max(1, math.ceil(n / ncols))
    axes = sub.subplots(rows, ncols, sharex=True, sharey=True, squeeze=False, **kwargs).ravel()
    for ax in axes[n:]:
        ax.remove()
    axes[0].yaxis.set_major_locator(MaxNLocator(nbins=3))  # shared: few grid lines to read
    for i, ax in enumerate(axes[:n]):
        below = i + ncols  # a panel with none beneath it shows its x tick labels
        ax.xaxis.set_tick_params(labelbottom=below >= n)
        if i % ncols:
            ax.yaxis.set_tick_params(labelleft=False)
    return list(axes[:n])


def _final(q: pd.DataFrame) -> float:
    """A series' last median (NaN when empty): how the trust panels rank partners."""
    med = q["median"].dropna()
    return float(med.iloc[-1]) if len(med) else float("nan")


def _trust_panel(
    ax: Axes,
    groups: list[tuple[str, pd.DataFrame]],
    colours: Colours,
    title: str,
    what: str,
    suffix: str = "",
) -> None:
    """Trust of some partners: the `MAX_SERIES` lowest at the end in their colours (the ones a
    pilot could lose), the others as one grey band of their medians."""
    ranked = sorted(groups, key=lambda g: (np.nan_to_num(_final(g[1]), nan=2.0), g[0]))
    shown, rest = ranked[:MAX_SERIES], ranked[MAX_SERIES:]
    if len(rest) == 1:  # one more line reads better than a band of one
        shown, rest = ranked[: MAX_SERIES + 1], []
    used: set[str] = set()
    for name, q in shown:
        c = colours.partner(name)
        _band(ax, q, c, f"{name}{suffix}", "--" if c in used else "-")  # repeated: dashed
        used.add(c)
    if rest:
        medians = pd.concat([q["median"].rename(n) for n, q in rest], axis=1).sort_index()
        ax.fill_between(
            medians.index, medians.min(axis=1), medians.max(axis=1), color=GREY, alpha=0.35, lw=0
        )
        ax.plot([], [], color=GREY, lw=6, alpha=0.35, label=f"{len(rest)} other {what}")
    ax.set_ylim(0, 1)
    ax.set_ylabel("Trust in the holder (0 to 1)")
    ax.set_xlabel(MONTH)
    ax.set_title(title)
    _legend_below(ax, ncols=2)


def design_trajectories(
    title: str,
    trust: pd.DataFrame,
    unmet: pd.DataFrame,
    spend: pd.DataFrame,
    budget: pd.DataFrame,
    payers: Sequence[str] = (),
    symbol: str = "$",
    *,
    colours: Colours | None = None,
) -> Figure:
    """One design over the months: trust by partner, unmet need by service, spend vs budget.

    Each frame is indexed by (name, month) with columns low, median, high (5%, 50%, 95% over
    replicates); ``spend`` and ``budget`` have one name each. Trust is split into payers and
    providers, each showing its `MAX_SERIES` partners of lowest final trust (the rest grey);
    unmet need is one small panel per service, on shared axes, so no band hides another.
    """
    trust_groups = [(str(n), q.droplevel(0)) for n, q in trust.groupby(level=0, sort=False)]
    unmet_groups = [(str(n), q.droplevel(0)) for n, q in unmet.groupby(level=0, sort=False)]
    if colours is None:
        colours = Colours.of(
            [n for n, _ in trust_groups], [n for n, _ in unmet_groups], payers=payers
        )
    payer_set = {str(p) for p in payers}
    with style():
        rows = max(1, math.ceil(len(unmet_groups) / 3))
        fig = Figure(figsize=(WIDTH, 3.2 + 1.15 * rows + 0.4), layout="constrained")
        if title:
            fig.suptitle(title, fontsize=9.5, fontweight="bold")
        top, bottom = fig.subfigures(2, 1, height_ratios=[2.9, 1.15 * rows + 0.5])
        paid = [g for g in trust_groups if g[0] in payer_set]
        others = [g for g in trust_groups if g[0] not in payer_set]
        if paid and others:
            ax_pay, ax_prov = top.subplots(1, 2, sharey=True)
            _trust_panel(ax_pay, paid, colours, "Payers' trust", "payers", " (payer)")
            _trust_panel(ax_prov, others, colours, "Providers' trust", "providers")
            ax_prov.set_ylabel("")  # shared with the payers' panel, left of it
        else:
            _trust_panel(top.subplots(), trust_groups, colours, "Trust by partner", "partners")

        left, right = bottom.subfigures(1, 2, width_ratios=[2.1, 1])
        if unmet_groups:
            panels = _grid(left, len(unmet_groups), 3)
            for i, (ax, (name, q)) in enumerate(zip(panels, unmet_groups, strict=True)):
                _band(ax, q, colours.service(name), None)
                ax.set_title(name, fontsize=7.5, fontweight="normal", pad=2)
                ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
                ax.set_ylim(bottom=0)
                ax.tick_params(labelsize=7)
                if i % 3 == 0:
                    ax.set_ylabel("% unmet", fontsize=7.5)
                if i + 3 >= len(unmet_groups):
                    ax.set_xlabel("months", fontsize=7.5)
            left.suptitle("Unmet need by service (% of need cost)", fontsize=9, fontweight="bold")
        ax_spend = right.subplots()
        for q, label, c, ls in (
            (spend, "spend", PALETTE[0], "-"),
            (budget, "budget", PALETTE[6], "--"),
        ):
            if len(q):
                q = q.droplevel(0) if q.index.nlevels > 1 else q
                _band(ax_spend, q, c, f"cumulative {label}", ls)
        ax_spend.yaxis.set_major_formatter(money_formatter(symbol))
        ax_spend.set_ylabel(f"Cumulative amount ({symbol})")
        ax_spend.set_xlabel(MONTH)
        ax_spend.set_title("Spend against budget")
        _legend_below(ax_spend, ncols=1)
    return fig


def _pairs(names: list[str], baselines: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """Panels of the trust overview: each design with its baseline, then designs nobody
    pairs with (a baseline of no design here, or a design without a baseline)."""
    panels = [(n, baselines[n]) for n in names if n in baselines and baselines[n] in names]
    used = {n for pair in panels for n in pair}
    return panels + [(n, None) for n in names if n not in used]


def trust_overview(
    trust: pd.DataFrame,
    bands: bool = True,
    *,
    baselines: Mapping[str, str] | None = None,
    colours: Colours | None = None,
) -> Figure:
    """Mean partner trust per design over the months (index (design, month), low/median/high).

    Up to `OVERVIEW_SINGLE` designs share one axes; more are small multiples, each design
    against its status-quo baseline (grey, dashed; ``baselines``: design -> baseline), so no
    panel has more than two lines.
    """
    groups = {str(n): q.droplevel(0) for n, q in trust.groupby(level=0, sort=False)}
    names = list(groups)
    baselines = dict(baselines or {})
    base_names = set(baselines.values())
    if colours is None:
        colours = Colours.of(designs=names, baselines=base_names)
    with style():
        if len(names) <= OVERVIEW_SINGLE:
            fig = Figure(figsize=(WIDTH, 3.2), layout="constrained")
            ax = fig.subplots()
            for name in names:
                grey = name in base_names
                c = colours.design(name)
                if bands:
                    ax.fill_between(*_q3(groups[name]), color=c, alpha=0.15, lw=0)
                ax.plot(
                    groups[name].index,
                    groups[name]["median"],
                    color=c,
                    linestyle="--" if grey or c == GREY else "-",
                    label=name,
                )
            ax.set_ylim(0, 1)
            ax.grid(axis="x", visible=False)
            ax.set_xlabel(MONTH)
            ax.set_ylabel(f"Mean partner {TRUST}")
            ax.set_title("Mean partner trust in the holder, by design")
            _legend_right(ax)
            return fig
        panels = _pairs(names, baselines)
        ncols = 3
        nrows = math.ceil(len(panels) / ncols)
        fig = Figure(figsize=(WIDTH, 0.9 + 1.45 * nrows), layout="constrained")
        axes = _grid(fig, len(panels), ncols)
        for i, (ax, (name, base)) in enumerate(zip(axes, panels, strict=True)):
            for series, c, ls in ((base, GREY, "--"), (name, colours.design(name), "-")):
                if series is None:
                    continue
                if series in base_names:
                    c, ls = GREY, "--"
                if bands:
                    ax.fill_between(*_q3(groups[series]), color=c, alpha=0.18, lw=0)
                ax.plot(groups[series].index, groups[series]["median"], color=c, linestyle=ls)
            ax.set_title(name, fontsize=7, fontweight="normal", pad=2, loc="left")
            ax.grid(axis="x", visible=False)
            ax.set_ylim(0, 1)
            ax.set_yticks([0, 0.5, 1])
            ax.tick_params(labelsize=7)
            if i % ncols == 0:
                ax.set_ylabel(TRUST, fontsize=7.5)
            if i + ncols >= len(panels):
                ax.set_xlabel("months", fontsize=7.5)
        fig.suptitle("Mean partner trust in the holder, by design", fontsize=9, fontweight="bold")
        if base_names:
            fig.legend(
                handles=[
                    Line2D([], [], color=PALETTE[0], label="the design (panel title)"),
                    Line2D([], [], color=GREY, linestyle="--", label="its no-pool baseline"),
                ],
                loc="outside lower center",
                ncols=2,
            )
    return fig


def _q3(q: pd.DataFrame) -> tuple[pd.Index, pd.Series, pd.Series]:
    return q.index, q["low"], q["high"]


def _rows(ax: Axes, frame: pd.DataFrame) -> np.ndarray:
    """One row per index entry, top to bottom, names as tick labels."""
    pos = np.arange(len(frame))
    ax.set_yticks(pos, [str(i) for i in frame.index])
    ax.set_ylim(len(frame) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    return pos


def intervals(
    frame: pd.DataFrame,
    title: str,
    xlabel: str,
    formatter: FuncFormatter | None = None,
    zero: bool = True,
    centre: str = "median",
) -> Figure:
    """Dots at ``centre`` and interval lines (columns low, high), one row per design."""
    with style():
        height = 1.0 + 0.32 * max(len(frame), 1)
        fig = Figure(figsize=(WIDTH, height), layout="constrained")
        ax = fig.subplots()
        pos = _rows(ax, frame)
        ax.hlines(pos, frame["low"], frame["high"], color=PALETTE[0], linewidth=2.2)
        ax.plot(frame[centre], pos, "o", color=PALETTE[5], markersize=5, label=centre)
        if zero:
            ax.axvline(0, color=GREY, linewidth=1, linestyle="--")
        if formatter is not None:
            ax.xaxis.set_major_formatter(formatter)
        ax.set_xlabel(xlabel)
        ax.set_title(title)
    return fig


def signed_bars(
    frame: pd.DataFrame,
    title: str,
    xlabel: str,
    formatter: FuncFormatter | None = None,
    *,
    colours: Mapping[str, str] | None = None,
) -> Figure:
    """One horizontal bar per row at ``mean`` with whiskers from ``low`` to ``high``.

    With ``colours`` (row name -> colour: the report's party colours) each bar has its
    party's colour, as in every other figure; without, bars right of zero (a saving) are
    green, left of it vermillion. Either way the side of zero says the sign, no legend needed.
    """
    with style():
        height = 1.0 + 0.34 * max(len(frame), 1)
        fig = Figure(figsize=(WIDTH, height), layout="constrained")
        ax = fig.subplots()
        pos = _rows(ax, frame)
        mean = frame["mean"].to_numpy(dtype=float)
        whiskers = np.vstack([mean - frame["low"], frame["high"] - mean]).clip(min=0)
        if colours is not None:
            fill = [colours.get(str(name), GREY) for name in frame.index]
        else:
            fill = [PALETTE[2] if v >= 0 else PALETTE[5] for v in mean]
        ax.barh(
            pos,
            mean,
            height=0.6,
            color=fill,
            xerr=whiskers,
            error_kw={"ecolor": "#555555", "elinewidth": 1, "capsize": 3},
        )
        ax.axvline(0, color=GREY, linewidth=1)
        if formatter is not None:
            ax.xaxis.set_major_formatter(formatter)
        ax.set_xlabel(xlabel)
        ax.set_title(title)
    return fig


#: A hatched segment the mapping has no colour for (the holder's own lines): dark, not the
#: light grey of "others".
HATCHED = "#555555"
#: Colours of stacked segments without a mapping: Okabe-Ito, then grey for "others".
_SEGMENTS = PALETTE[:7]


def _top_columns(frame: pd.DataFrame, top: int, keep: Sequence[str], other: str) -> pd.DataFrame:
    """The ``top`` largest columns (by total) and ``keep``, the rest summed into ``other``."""
    free = [c for c in frame.columns if c not in keep]
    if len(free) <= top + 1:
        return frame
    totals = frame[free].fillna(0).abs().sum().sort_values(ascending=False, kind="stable")
    chosen = set(totals.index[:top])
    columns = [c for c in frame.columns if c in keep or c in chosen]
    rest = [c for c in free if c not in chosen]
    out = frame[columns].copy()
    out[other] = frame[rest].fillna(0).sum(axis=1)
    return out


def stacked_bars(
    frame: pd.DataFrame,
    title: str,
    xlabel: str,
    hatched: pd.DataFrame | None = None,
    formatter: FuncFormatter | None = None,
    legend_title: str | None = None,
    *,
    colours: Mapping[str, str] | None = None,
    top: int | None = None,
    other: str = "others",
) -> Figure:
    """Horizontal stacked bars: one bar per row of ``frame``, one segment per column.

    ``hatched`` (same shape, booleans) marks segments drawn with hatching (the holder's own
    lines, in the spend figure). ``colours`` (column -> colour) keeps a service's colour from
    figure to figure; ``top`` keeps that many largest columns (and the hatched ones) and sums
    the rest into a grey ``other``, so a bar has few segments; without a mapping, columns past
    the seventh are summed the same way, so no colour repeats.
    """
    keep = [c for c in frame.columns if hatched is not None and c in hatched and hatched[c].any()]
    limit = top if top is not None else (None if colours is not None else len(_SEGMENTS))
    if limit is not None:
        frame = _top_columns(frame, limit, keep, other)
    with style():
        height = 1.3 + 0.3 * max(len(frame), 1) + 0.12 * len(frame.columns)
        fig = Figure(figsize=(WIDTH, height), layout="constrained")
        ax = fig.subplots()
        pos = _rows(ax, frame)
        left = np.zeros(len(frame))
        i = 0
        for column in frame.columns:
            values = frame[column].fillna(0).to_numpy(dtype=float)
            if column == other:
                c = GREY
            elif colours is not None:
                c = colours.get(str(column), HATCHED if column in keep else GREY)
            else:
                c, i = _SEGMENTS[i % len(_SEGMENTS)], i + 1
            ax.barh(pos, values, left=left, color=c, height=0.7, label=str(column))
            if hatched is not None and column in hatched:
                mask = hatched[column].fillna(False).to_numpy(dtype=bool) & (values > 0)
                if mask.any():
                    ax.barh(
                        pos[mask],
                        values[mask],
                        left=left[mask],
                        height=0.7,
                        color="none",
                        edgecolor="white",
                        hatch="///",
                        linewidth=0,
                    )
            left += values
        if formatter is not None:
            ax.xaxis.set_major_formatter(formatter)
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        fig.legend(
            loc="outside lower center",
            ncols=min(4, max(1, len(frame.columns))),
            title=legend_title,
        )
    return fig


def cost_shift(frame: pd.DataFrame) -> Figure:
    """The holder's own lines: share of pooled spend against need-fair share, per design.

    ``frame`` is indexed by design with columns spend_median/low/high and fair_median/low/high.
    """
    with style():
        height = 1.5 + 0.42 * max(len(frame), 1)
        fig = Figure(figsize=(WIDTH, height), layout="constrained")
        ax = fig.subplots()
        pos = _rows(ax, frame)
        for offset, key, label, c, marker in (
            (-0.12, "fair", "need-fair share", PALETTE[2], "s"),
            (0.12, "spend", "share of pooled spend", PALETTE[5], "o"),
        ):
            ax.hlines(pos + offset, frame[f"{key}_low"], frame[f"{key}_high"], color=c, lw=2)
            ax.plot(frame[f"{key}_median"], pos + offset, marker, color=c, label=label, ms=5)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        ax.set_xlabel("Holder's own service lines (% of pooled spend; median and 5-95% spread)")
        ax.set_title("Cost shifting made visible: the holder's lines against their fair share")
        fig.legend(loc="outside lower center", ncols=2)
    return fig


def sensitivity(indices: pd.DataFrame, metric: str, method: str) -> Figure:
    """Sobol/FAST bars or a Morris plane for one metric, drawn by `poolpilot.sensitivity`,
    with the legend moved right of the axes (inside, it covered the whiskers)."""
    from poolpilot.analysis import sensitivity as sa

    rows = indices[(indices["metric"] == metric) & (indices["method"] == method)]
    n = rows["parameter"].nunique()
    with style():
        fig = Figure(figsize=(WIDTH, max(2.6, 1.2 + 0.38 * n)), layout="constrained")
        ax = fig.subplots()
        if method == "morris":
            sa.plot_morris(rows, metric, ax=ax)
            ax.set_xlabel(f"mu* (units of {metric}: mean absolute elementary effect)")
            ax.set_ylabel(f"sigma (units of {metric})")
        else:
            sa.plot_sobol(rows, metric, ax=ax)
            ax.set_xlabel("Sensitivity index (share of output variance, 0 to 1; whiskers: 95%)")
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        _legend_right(ax)
    return fig
