"""The report of an exploration folder: when the pool paid, where, and which settings hold up.

An exploration (``poolpilot explore``, or the futures of ``poolpilot robust``) runs one design
in many sampled futures, each lever setting beside the status quo of the same future, so its
report answers a funder's question directly: in how many futures did the pool return more than
it cost, with which settings, and (after ``poolpilot discover``) in which futures. The sections
here replace the comparison of designs a study's report leads with: there is one design, and
its baseline is paired future by future (`analysis.exploration.outcomes`), not replicate by
replicate.

The discovery and robust sections read what those commands wrote into the folder
(``discoveries/*/`` and ``robust.*``), figures included, so the report never recomputes them.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure as MplFigure
from scipy.stats import binomtest

from poolpilot.analysis.exploration import EXPLORATION, outcomes, read_exploration
from poolpilot.report import figures, formats
from poolpilot.report.context import Figure, Study, embed
from poolpilot.report.data import ReportData
from poolpilot.report.discovery import DISCOVERIES
from poolpilot.report.palette import GREY, PALETTE
from poolpilot.report.robust import measure_words

#: The condition the first section counts: the pool saved the system more than it cost.
PAID = "return_on_pool > 0"
#: Most lever settings the table and figure show (those that paid most often): a sampled
#: design may run hundreds, and the rest are in runs.parquet.
SETTINGS_SHOWN = 20
#: The differences with the status quo shown per setting, and how each reads.
VERSUS = {
    "unmet_need_share_vs_status_quo": "need left unmet",
    "trust_final_mean_vs_status_quo": "trust at the end",
    "partner_exits_vs_status_quo": "partners who left",
}


def is_exploration(data: ReportData) -> bool:
    """Whether the folder holds an exploration (its sampling recorded in ``exploration.json``)."""
    return (data.folder / EXPLORATION).is_file()


def exploration_lede(data: ReportData) -> dict[str, Any]:
    """What the page's opening line says of an exploration: its design, futures and settings."""
    exploration = read_exploration(data.folder)
    pooled = [x for x in data.labels if x not in data.baselines]
    levers = [p for p in exploration.lever_paths if p in data.runs]
    runs = data.runs[~data.runs["design"].isin(data.baselines)] if len(data.runs) else data.runs
    settings = len(runs[levers].astype(str).drop_duplicates()) if levers and len(runs) else 1
    grid = exploration.combinations()
    if grid is None:
        sampled = "sampled in the levers' ranges"
    elif len(exploration.settings()) < grid:
        sampled = f"sampled from {grid:,} combinations"
    else:
        sampled = ""
    return {
        "design": pooled[0] if pooled else "",
        "futures": exploration.futures,
        "settings": settings,
        "sampled": sampled,  # a sample of the levers' settings says so, and of what
    }


def _levers_run(table: pd.DataFrame, levers: list[str]) -> list[str]:
    """The levers whose value differs between the settings that ran."""
    return [p for p in levers if p in table and table[p].astype(str).nunique() > 1]


def _setting(levers: list[str], values: tuple) -> str:
    """A lever setting as the report names it: ``path=value, path=value``."""
    return (
        ", ".join(f"{p}={formats.plain(v)}" for p, v in zip(levers, values, strict=True))
        or "the design as given"
    )


def _by_setting(table: pd.DataFrame, levers: list[str]):
    """(setting's name, its values in words, its runs) for each lever setting, in run order."""
    if not levers:
        yield _setting([], ()), "as given", table
        return
    for values, runs in table.groupby(levers, sort=False):
        values = values if isinstance(values, tuple) else (values,)
        yield _setting(levers, values), ", ".join(map(formats.plain, values)), runs


def setting_frame(table: pd.DataFrame, levers: list[str]) -> pd.DataFrame:
    """One row per lever setting: futures, how often the pool paid (with its 95% Wilson
    interval), the return's median and 90% range, and the mean differences with the status
    quo, the settings that paid most often first."""
    table = table[np.isfinite(table["return_on_pool"])]
    rows = []
    for setting, values, runs in _by_setting(table, levers):
        r = runs["return_on_pool"]
        paid, n = int((r > 0).sum()), len(runs)
        interval = binomtest(paid, n).proportion_ci(method="wilson")
        rows.append(
            {
                "setting": setting,
                "values": values,
                "futures": n,
                "paid": paid,
                "paid_share": paid / n,
                "paid_low": interval.low,
                "paid_high": interval.high,
                "return_median": float(r.median()),
                "return_low": float(r.quantile(0.05)),
                "return_high": float(r.quantile(0.95)),
                **{column: float(runs[column].mean()) for column in VERSUS if column in runs},
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values(["paid_share", "return_median"], ascending=False, kind="stable")


def returns_figure(table: pd.DataFrame, frame: pd.DataFrame, levers: list[str]) -> MplFigure:
    """The return on the pool in every future, one row per setting (in the frame's order),
    its median marked, zero dashed."""
    returns = {
        setting: runs["return_on_pool"].to_numpy()
        for setting, _, runs in _by_setting(table, levers)
    }
    many = sum(len(v) for v in returns.values()) > figures.RASTER_POINTS
    with figures.style():
        fig = MplFigure(figsize=(figures.WIDTH, 1.6 + 0.32 * len(frame)), layout="constrained")
        ax = fig.subplots()
        for row, setting in enumerate(frame["setting"]):
            values = returns[setting][np.isfinite(returns[setting])]
            jitter = np.linspace(-0.25, 0.25, len(values)) if len(values) > 1 else np.zeros(1)
            ax.scatter(values, row + jitter, s=6, color=PALETTE[0], alpha=0.5, rasterized=many)
            ax.plot([np.median(values)] * 2, [row - 0.35, row + 0.35], color=PALETTE[1], lw=2)
        ax.axvline(0.0, color=GREY, lw=1, ls="--")
        ax.set_yticks(range(len(frame)), list(frame["values"]))
        ax.set_ylabel(", ".join(levers) or "the design")
        ax.invert_yaxis()
        ax.set_xlabel("return on the pool (system cost saved per unit pooled)")
        ax.set_title("Each future's return, by setting (bar: the median)")
    return fig


def _row(r: dict[str, Any]) -> dict[str, Any]:
    """A setting's row as the table shows it, every number already in words."""
    return {
        "setting": r["setting"],
        "futures": r["futures"],
        "paid": f"{r['paid']} ({r['paid_share']:.0%})",
        "paid_n": r["paid"],
        "paid_pct": f"{r['paid_share']:.0%}",
        "paid_interval": f"{r['paid_low']:.0%} to {r['paid_high']:.0%}",
        "return": formats.ratio(r["return_median"]),
        "return_range": f"{formats.ratio(r['return_low'])} to {formats.ratio(r['return_high'])}",
        "versus": [
            formats.fmt_diff(column.removesuffix("_vs_status_quo"), r[column])
            if column in r
            else "n/a"
            for column in VERSUS
        ],
    }


#: How much less need a setting must leave unmet, in points of need, to be named beside the
#: setting that paid most often.
TRADEOFF_POINTS = 0.01


def _tradeoff(frame: pd.DataFrame) -> dict[str, str] | None:
    """The setting that left the least need unmet, when it is not the one that paid most often
    and left clearly less unmet: the return counts money, and a pool can pay by doing less."""
    column = "unmet_need_share_vs_status_quo"
    if column not in frame or len(frame) < 2 or frame[column].isna().all():
        return None
    paid_most, least_unmet = frame.iloc[0], frame.loc[frame[column].idxmin()]
    if paid_most[column] - least_unmet[column] < TRADEOFF_POINTS:
        return None
    return {
        "setting": least_unmet["setting"],
        "unmet": formats.fmt_diff("unmet_need_share", least_unmet[column]),
        "unmet_of_best": formats.fmt_diff("unmet_need_share", paid_most[column]),
        "paid": f"{least_unmet['paid']} of {least_unmet['futures']}",
    }


def when_it_paid(s: Study) -> dict[str, Any]:
    """The first section: how often, and by how much, the pool paid across the futures."""
    data = s.data
    exploration = read_exploration(data.folder)
    table = outcomes(data.runs, exploration) if not data.runs.empty else pd.DataFrame()
    base = {
        "futures": exploration.futures,
        "uncertainties": [
            {"path": p, "low": formats.plain(lo), "high": formats.plain(hi)}
            for p, (lo, hi) in exploration.uncertainties.items()
        ],
        "folder": str(data.folder),
        "condition": PAID,
        "discovered": bool(discoveries(s)),
    }
    known = table["return_on_pool"].dropna() if "return_on_pool" in table else pd.Series()
    if known.empty:
        return base | {"empty": True}
    levers = _levers_run(table, exploration.lever_paths)
    frame = setting_frame(table, levers)
    shown = frame.head(SETTINGS_SHOWN)
    figure = embed(
        returns_figure(table, shown, levers),
        "The return on the pool in each future, by lever setting",
        "Each dot is one future: the status quo's total system cost minus the design's, per "
        "unit pooled. Right of the dashed line, the pool saved more than it cost.",
    )
    return base | {
        "empty": False,
        "design": next((x for x in data.labels if x not in data.baselines), ""),
        "futures_run": int(table.loc[known.index, "future"].nunique()),
        "runs": len(known),
        "paid": int((known > 0).sum()),
        "paid_share": float((known > 0).mean()),
        "settings": len(frame),
        "best": _row(frame.iloc[0].to_dict()),
        "tradeoff": _tradeoff(frame),
        "rows": [_row(r) for r in shown.to_dict("records")],
        "hidden": len(frame) - len(shown),
        "versus": list(VERSUS.values()),
        "figure": figure,
    }


def _svg_figure(path: Path, alt: str, caption: str) -> Figure | None:
    """A figure a command wrote as SVG, embedded at its own size (points to pixels)."""
    if not path.is_file():
        return None
    text = path.read_bytes()
    size = re.search(rb'width="([\d.]+)pt" height="([\d.]+)pt"', text)
    width, height = (float(v) * 96 / 72 for v in size.groups()) if size else (576.0, 432.0)
    src = "data:image/svg+xml;base64," + base64.b64encode(text).decode("ascii")
    return Figure(src, alt, caption, round(width), round(height))


def _limit(r: dict[str, Any]) -> dict[str, Any]:
    """A box's limit on one input, in words: a range (one side may be open) or its levels."""
    low, high = r["low"], r["high"]
    if r["levels"]:
        kept = f"one of {r['levels']}"
    elif np.isfinite(low) and np.isfinite(high):
        kept = f"from {formats.plain(low)} to {formats.plain(high)}"
    else:
        kept = f"at least {formats.plain(low)}" if np.isfinite(low) else ""
        kept = kept or f"at most {formats.plain(high)}"
    p = r["quasi_p"]
    return {
        "box": r["box"],
        "input": r["input"],
        "kept": formats.minus(kept),
        "quasi_p": f"{p:.2g}" if np.isfinite(p) else "n/a",
        "significant": bool(np.isfinite(p) and p < 0.05),
    }


def discoveries(s: Study) -> list[dict[str, Any]]:
    """Each discovery written into the folder (``discoveries/*/``), as ``discover`` left it."""
    found = []
    for folder in sorted((s.data.folder / DISCOVERIES).glob("*/discovery.json")):
        folder = folder.parent
        summary = json.loads((folder / "discovery.json").read_text())
        boxes = pd.read_parquet(folder / "boxes.parquet")
        limits = pd.read_parquet(folder / "box_limits.parquet")
        where = summary["where"]
        found.append(
            {
                "name": folder.name,
                "where": where,
                "cases": summary["cases"],
                "futures": summary["futures"],
                "threshold": summary.get("threshold"),
                "sentences": summary["sentences"],
                "boxes": boxes.drop(columns="sentence").to_dict("records"),
                "limits": [_limit(r) for r in limits.to_dict("records")],
                "figures": [
                    f
                    for f in (
                        _svg_figure(
                            folder / "discovery_trajectory.svg",
                            f"Peeling trajectory where {where}",
                            "Coverage against density as PRIM peels; the ringed point is the "
                            "box chosen: the largest coverage whose density reaches the "
                            "threshold.",
                        ),
                        _svg_figure(
                            folder / "discovery_box.svg",
                            f"The first box where {where}",
                            "The runs on the first box's two most significant inputs, the "
                            "box drawn.",
                        ),
                    )
                    if f is not None
                ],
            }
        )
    return found


def discovery_section(s: Study) -> dict[str, Any] | None:
    found = discoveries(s)
    return {"discoveries": found} if found else None


def robust_section(s: Study) -> dict[str, Any] | None:
    """The robust search written into the folder (``robust.json``), its non-dominated designs."""
    folder = s.data.folder
    if not (folder / "robust.json").is_file():
        return None
    summary = json.loads((folder / "robust.json").read_text())
    candidates = pd.read_parquet(folder / "robust_candidates.parquet")
    front = candidates[candidates["non_dominated"]].drop(columns="non_dominated")
    levers = [p for p in read_exploration(folder).levers if p in front]
    front = front[levers + [c for c in front.columns if c not in levers]]
    scores = [o.partition(":")[0] for o in summary["objectives"]]
    judged = "regret" if summary["measure"] == "regret" else summary["measure"]
    return {
        "objectives": summary["objectives"],
        "measure_words": measure_words(summary["measure"]),
        "levers": len(levers),
        "candidates": summary["candidates"],
        "columns": [(c, judged if c in scores else "") for c in front.columns],
        "front": [
            [formats.plain(v) if c not in scores else f"{v:.3g}" for c, v in row.items()]
            for row in front.to_dict("records")
        ],
        "figure": _svg_figure(
            folder / "robust_front.svg",
            "The candidates on parallel coordinates",
            "One line per candidate across its levers and its score on each objective; the "
            "non-dominated in colour.",
        ),
    }


__all__ = [
    "discoveries",
    "discovery_section",
    "exploration_lede",
    "is_exploration",
    "returns_figure",
    "robust_section",
    "setting_frame",
    "when_it_paid",
]
