"""The data of the sections a funder compares designs by: summary, return, comparison table.

Each function takes the `Study` and returns the dict its template (``templates/<key>.html.j2``)
reads as ``c``; values are plain, the templates escape them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from poolpilot.model.metrics import METRICS, ZERO
from poolpilot.report import figures, formats, tables
from poolpilot.report.context import DESIGNS_PER_TABLE, Study, chunks, embed
from poolpilot.scenario.variants import population_key


def summary(s: Study) -> dict[str, Any]:
    """The headline findings, one sentence each, and the return on the pool in a line."""
    d = s.data
    if d.runs.empty:
        return {"empty": True}
    groups: dict[str, list[str]] = {}
    for label in d.labels:
        groups.setdefault(population_key(d.scenario(label)), []).append(label)
    return {
        "empty": False,
        "replicates": int(d.runs["replicate"].nunique()),
        "designs": len(d.labels),
        "collapsed": d.collapsed,
        "points": d.points,
        "varied": ", ".join(d.varied),
        "populations": list(groups.values()) if len(groups) > 1 and d.scenarios else [],
        "findings": [_finding(row, s.symbol) for row in s.headlines.to_dict("records")],
        "pool": _return_sentence(s),
    }


def _finding(row: dict[str, Any], symbol: str) -> dict[str, Any]:
    """One headline as the summary's sentence reads it: names, values, paired differences."""
    metric = row["metric"]

    def value(key: str) -> dict[str, str]:
        return {
            "stat": "share of runs" if row.get(f"{key}_stat") == "share of runs" else "median",
            "value": formats.fmt(metric, row[f"{key}_centre"], symbol),
            "spread": formats.fmt_interval(metric, row[f"{key}_low"], row[f"{key}_high"], symbol),
        }

    def difference(key: str) -> dict[str, Any]:
        return {
            "of_absolute": row.get("direction") == ZERO,
            "mean": formats.fmt_diff(metric, row[f"{key}_diff_mean"], symbol),
            "interval": formats.fmt_diff_interval(
                metric, row[f"{key}_diff_low"], row[f"{key}_diff_high"], symbol
            ),
            "clear": bool(row[f"{key}_clear"]),
        }

    ranked = row["designs"] > 1 and not row["same"]
    runner = row.get("runner_up") if ranked and isinstance(row.get("runner_up"), str) else None
    nxt = row.get("next_worst") if ranked and isinstance(row.get("next_worst"), str) else None
    return {
        "metric": metric,
        "title": row["title"],
        "quantity": row["quantity"],
        "direction": row.get("direction"),
        "designs": row["designs"],
        "same": row["same"],
        "best": row["best"],
        "best_value": value("best"),
        "worst": row.get("worst") if ranked else [],
        "worst_value": value("worst") if ranked else {},
        "runner_up": runner,
        "best_diff": difference("best") if runner else {},
        "next_worst": nxt,
        "worst_diff": difference("worst") if nxt else {},
    }


def _return_sentence(s: Study) -> dict[str, Any]:
    """The summary's line on the return on the pool: the design with the best net return."""
    table, reasons = s.returns
    if table.empty:
        return {"baselines": bool(s.data.baselines), "top": None, "skip": False}
    net = table[table["measure"] == "net_per_dollar"].sort_values("mean", ascending=False)
    if net.empty:
        return {"baselines": True, "top": None, "skip": True}
    top = net.iloc[0]
    return {
        "baselines": True,
        "skip": False,
        "top": top.to_dict(),
        "verdict": "above" if top["low"] > 0 else "below" if top["high"] < 0 else "unclear",
        "several": len(net) > 1,
        "more": len(net) > 1 or bool(reasons),
    }


def pool(s: Study) -> dict[str, Any]:
    """Each pooled design's return against its no-pool baseline: table, figure, gaps."""
    table, reasons = s.returns
    rows = []
    for design, part in table.groupby("design", sort=False):
        part = part.set_index("measure")
        cells = []
        for measure, _, kind in tables.RETURN_MEASURES:
            if measure in part.index:
                r = part.loc[measure]
                cells.append({"kind": kind, **r[["mean", "low", "high", "positive"]].to_dict()})
            else:
                cells.append(None)
        rows.append({"design": design, "baseline": part["baseline"].iloc[0], "cells": cells})
    figure = None
    net = table[table["measure"] == "net_per_dollar"].set_index("design")
    if not net.empty:
        fig = figures.intervals(
            net[["mean", "low", "high"]],
            "Acute cost avoided per unit pooled, net of running costs",
            "Net acute cost avoided per unit pooled (mean and its 95% interval)",
            centre="mean",
        )
        figure = embed(
            fig,
            "Net return per unit pooled, by design",
            "Right of the dashed line: the design avoided more acute cost than it cost to run, "
            "per unit pooled, against the no-pool baseline.",
        )
    by_reason: dict[str, list[str]] = {}
    for design, reason in reasons.items():
        by_reason.setdefault(reason, []).append(design)
    return {
        "baselines": bool(s.data.baselines),
        "headers": [title for _, title, _ in tables.RETURN_MEASURES],
        "rows": rows,
        "figure": figure,
        "reasons": by_reason,
    }


def comparison(s: Study) -> dict[str, Any]:
    """Every metric of every design, in blocks that fit a page, with the marks."""
    d = s.data
    cells = {
        (r["metric"], r["design"]): r
        | {"near": bool(r["direction"] and not r["clear"] and np.isfinite(r["diff_mean"]))}
        for r in s.summary.to_dict("records")
    }
    metrics = [
        {
            "name": metric,
            "definition": METRICS[metric].definition if metric in METRICS else "",
            "direction": formats.direction_of(metric),
            "runs": formats.kind_of(metric) == "runs",
        }
        for metric in dict.fromkeys(s.summary["metric"])
    ]
    return {
        "empty": s.summary.empty,
        "metrics": metrics,
        "blocks": chunks(d.labels),
        "cells": cells,
        "designs": len(d.labels),
        "per_table": DESIGNS_PER_TABLE,
    }
