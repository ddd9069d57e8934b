"""The report's figures: matplotlib on bare ``Figure`` objects, one style, Okabe-Ito colours.

Every function here takes frames that are already aggregated (the report module does the
arithmetic) and returns a ``matplotlib.figure.Figure``; `svg` turns a figure into SVG bytes.
Nothing touches pyplot, so building a report never changes a caller's figures or backend.
Figures are sized for print (7 inches wide at most, text of 7.5 to 9 points) and shown at that
size in the report, so what reads on screen reads on paper.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

#: Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies. Yellow is
#: last: it is the hardest to see on white paper.
PALETTE = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#000000",  # black
    "#F0E442",  # yellow
]
GREY = "#999999"
#: Line styles that repeat the palette for a second and third round of series.
DASHES = ["-", "--", ":", "-."]
#: Widest figure, inches: the printable width of A4 and US Letter with 15 mm margins.
WIDTH = 7.0

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
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "lines.linewidth": 1.5,
    "svg.fonttype": "path",  # no font needed where the report is read
    "svg.hashsalt": "poolpilot",  # the same figure gives the same bytes
    "text.parse_math": False,  # names with '$' or '_' are shown as they are
    "hatch.linewidth": 0.6,
}


@contextmanager
def style() -> Iterator[None]:
    """The report's style, for the figures made (and saved) inside the block."""
    with mpl.rc_context(RC):
        yield


def svg(fig: Figure) -> bytes:
    """The figure as SVG, without a creation date (same figure, same bytes)."""
    buf = io.BytesIO()
    with style():
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def dash(i: int) -> str:
    return DASHES[(i // len(PALETTE)) % len(DASHES)]


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


def _band(ax, q: pd.DataFrame, i: int, label: str, linestyle: str | None = None) -> None:
    """Median line and 5-95% band of one series (q: index month, columns low/median/high)."""
    c = colour(i)
    ax.fill_between(q.index, q["low"], q["high"], color=c, alpha=0.18, linewidth=0)
    ax.plot(q.index, q["median"], color=c, linestyle=linestyle or dash(i), label=label)


def design_trajectories(
    title: str,
    trust: pd.DataFrame,
    unmet: pd.DataFrame,
    spend: pd.DataFrame,
    budget: pd.DataFrame,
    payers: Sequence[str] = (),
    symbol: str = "$",
) -> Figure:
    """One design over the months: trust by partner, unmet need by service, spend vs budget.

    Each frame is indexed by (name, month) with columns low, median, high (5%, 50%, 95% over
    replicates); ``spend`` and ``budget`` have one name each. Payers' trust is dashed.
    """
    with style():
        fig = Figure(figsize=(WIDTH, 6.4), layout="constrained")
        if title:
            fig.suptitle(title, fontsize=9.5, fontweight="bold")
        top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.15])
        ax_trust = top.subplots()
        ax_unmet, ax_spend = bottom.subplots(1, 2, width_ratios=[1.25, 1])

        for i, (name, q) in enumerate(trust.groupby(level=0, sort=False)):
            style_ = "--" if name in payers else "-"
            label = f"{name} (payer)" if name in payers else str(name)
            _band(ax_trust, q.droplevel(0), i, label, style_)
        ax_trust.set_ylim(0, 1)
        ax_trust.set_ylabel("Trust in the holder (0 to 1)")
        ax_trust.set_xlabel("Month")
        ax_trust.set_title("Trust by partner")
        if len(trust):
            ax_trust.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), ncols=1)

        for i, (name, q) in enumerate(unmet.groupby(level=0, sort=False)):
            _band(ax_unmet, q.droplevel(0), i, str(name))
        ax_unmet.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        ax_unmet.set_ylim(bottom=0)
        ax_unmet.set_ylabel("Unmet need (% of need cost)")
        ax_unmet.set_xlabel("Month")
        ax_unmet.set_title("Unmet need by service")
        if len(unmet):
            ax_unmet.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2)

        for q, label, c, ls in (
            (spend, "cumulative spend", PALETTE[0], "-"),
            (budget, "cumulative budget", PALETTE[6], "--"),
        ):
            if len(q):
                q = q.droplevel(0) if q.index.nlevels > 1 else q
                ax_spend.fill_between(q.index, q["low"], q["high"], color=c, alpha=0.18, lw=0)
                ax_spend.plot(q.index, q["median"], color=c, linestyle=ls, label=label)
        ax_spend.yaxis.set_major_formatter(money_formatter(symbol))
        ax_spend.set_ylabel(f"Cumulative amount ({symbol})")
        ax_spend.set_xlabel("Month")
        ax_spend.set_title("Spend against budget")
        ax_spend.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=1)
    return fig


def trust_overview(trust: pd.DataFrame, bands: bool = True) -> Figure:
    """Mean partner trust per design over the months (index (design, month), low/median/high)."""
    with style():
        n = trust.index.get_level_values(0).nunique() if len(trust) else 0
        fig = Figure(figsize=(WIDTH, max(3.4, 0.75 + 0.16 * n)), layout="constrained")
        ax = fig.subplots()
        for i, (name, q) in enumerate(trust.groupby(level=0, sort=False)):
            q = q.droplevel(0)
            if bands:
                ax.fill_between(q.index, q["low"], q["high"], color=colour(i), alpha=0.15, lw=0)
            ax.plot(q.index, q["median"], color=colour(i), linestyle=dash(i), label=str(name))
        ax.set_ylim(0, 1)
        ax.set_xlabel("Month")
        ax.set_ylabel("Mean partner trust (0 to 1)")
        ax.set_title("Mean partner trust in the holder, by design")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


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
        pos = np.arange(len(frame))
        ax.hlines(pos, frame["low"], frame["high"], color=PALETTE[0], linewidth=2.2)
        ax.plot(frame[centre], pos, "o", color=PALETTE[5], markersize=5, label=centre)
        if zero:
            ax.axvline(0, color=GREY, linewidth=1, linestyle="--")
        ax.set_yticks(pos, [str(i) for i in frame.index])
        ax.invert_yaxis()
        ax.set_ylim(len(frame) - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
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
) -> Figure:
    """One horizontal bar per row at ``mean`` with whiskers from ``low`` to ``high``.

    Bars right of zero (a saving) are green, left of it (a loss) vermillion, so the figure
    reads without a legend.
    """
    with style():
        height = 1.0 + 0.34 * max(len(frame), 1)
        fig = Figure(figsize=(WIDTH, height), layout="constrained")
        ax = fig.subplots()
        pos = np.arange(len(frame))
        mean = frame["mean"].to_numpy(dtype=float)
        whiskers = np.vstack([mean - frame["low"], frame["high"] - mean]).clip(min=0)
        ax.barh(
            pos,
            mean,
            height=0.6,
            color=[PALETTE[2] if v >= 0 else PALETTE[5] for v in mean],
            xerr=whiskers,
            error_kw={"ecolor": PALETTE[6], "elinewidth": 1, "capsize": 3},
        )
        ax.axvline(0, color=GREY, linewidth=1)
        ax.set_yticks(pos, [str(i) for i in frame.index])
        ax.set_ylim(len(frame) - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        if formatter is not None:
            ax.xaxis.set_major_formatter(formatter)
        ax.set_xlabel(xlabel)
        ax.set_title(title)
    return fig


def stacked_bars(
    frame: pd.DataFrame,
    title: str,
    xlabel: str,
    hatched: pd.DataFrame | None = None,
    formatter: FuncFormatter | None = None,
    legend_title: str | None = None,
) -> Figure:
    """Horizontal stacked bars: one bar per row of ``frame``, one segment per column.

    ``hatched`` (same shape, booleans) marks segments drawn with hatching (the holder's own
    lines, in the spend figure).
    """
    with style():
        height = 1.3 + 0.3 * max(len(frame), 1) + 0.12 * len(frame.columns)
        fig = Figure(figsize=(WIDTH, height), layout="constrained")
        ax = fig.subplots()
        pos = np.arange(len(frame))
        left = np.zeros(len(frame))
        palette = PALETTE[:6] + [GREY, "#332288", "#882255", "#44AA99", "#DDCC77", "#117733"]
        for i, column in enumerate(frame.columns):
            values = frame[column].fillna(0).to_numpy(dtype=float)
            c = palette[i % len(palette)]
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
        ax.set_yticks(pos, [str(i) for i in frame.index])
        ax.set_ylim(len(frame) - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
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
        height = 1.3 + 0.42 * max(len(frame), 1)
        fig = Figure(figsize=(WIDTH, height), layout="constrained")
        ax = fig.subplots()
        pos = np.arange(len(frame))
        for offset, key, label, c, marker in (
            (-0.12, "fair", "need-fair share", PALETTE[2], "s"),
            (0.12, "spend", "share of pooled spend", PALETTE[5], "o"),
        ):
            ax.hlines(pos + offset, frame[f"{key}_low"], frame[f"{key}_high"], color=c, lw=2)
            ax.plot(frame[f"{key}_median"], pos + offset, marker, color=c, label=label, ms=5)
        ax.set_yticks(pos, [str(i) for i in frame.index])
        ax.set_ylim(len(frame) - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        ax.set_xlabel("Holder's own service lines (% of pooled spend; median and 5-95% spread)")
        ax.set_title("Cost shifting made visible: the holder's lines against their fair share")
        ax.legend(loc="lower right")
    return fig


def sensitivity(indices: pd.DataFrame, metric: str, method: str) -> Figure:
    """Sobol/FAST bars or a Morris plane for one metric, drawn by `poolpilot.sensitivity`."""
    from poolpilot.analysis import sensitivity as sa

    rows = indices[(indices["metric"] == metric) & (indices["method"] == method)]
    n = rows["parameter"].nunique()
    with style():
        fig = Figure(figsize=(WIDTH, max(2.6, 1.2 + 0.38 * n)), layout="constrained")
        ax = fig.subplots()
        if method == "morris":
            sa.plot_morris(rows, metric, ax=ax)
        else:
            sa.plot_sobol(rows, metric, ax=ax)
    return fig
