"""The data of the sections a funder compares designs by: summary, return, who pays and who
saves, comparison table.

Each function takes the `Study` and returns the dict its template (``templates/<key>.html.j2``)
reads as ``c``; values are plain, the templates escape them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from poolpilot.model.metrics import METRICS, ZERO
from poolpilot.report import accounts, figures, formats, tables
from poolpilot.report.context import DESIGNS_PER_TABLE, Figure, Study, chunks, embed
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
        "complete": d.complete,
        "unknown": d.runs_planned is None,
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


#: How the summary says a component of the return: (when above zero, when below zero).
COMPONENT_PHRASES = {
    "acute_cost_avoided": ("avoided {} of acute cost", "added {} of acute cost"),
    "fragmentation_cost_avoided": (
        "avoided {} of fragmentation cost",
        "added {} of fragmentation cost",
    ),
    "extra_pathway_spend": ("spent {} more on the pathway", "spent {} less on the pathway"),
    "running_cost": ("cost {} to run", "cost {} less to run"),
}


def _components(part: pd.DataFrame, symbol: str) -> list[str]:
    """The components of one design's return in words, each with its sign as a verb: a pool
    that added acute cost is not said to have avoided too little of it."""
    phrases = []
    for measure, (above, below) in COMPONENT_PHRASES.items():
        if measure not in part.index:
            continue
        value = float(part.at[measure, "mean"])
        amount = formats.money(abs(value), symbol)
        if any(c in "123456789" for c in amount):  # rounds to nothing: not worth a phrase
            phrases.append((above if value > 0 else below).format(amount))
    return phrases


def _verdict(low: float, high: float) -> str:
    return "above" if low > 0 else "below" if high < 0 else "unclear"


def _main(table: pd.DataFrame) -> pd.DataFrame:
    """Each design's return against its main baseline (not the frictionless planner's line)."""
    return table[table["main"].astype(bool)] if not table.empty else table


def _return_sentence(s: Study) -> dict[str, Any]:
    """The summary's line on the return on the pool: the design with the best return, what it
    saved and how, in words that follow the signs."""
    table, reasons = s.returns
    if table.empty:
        return {"baselines": bool(s.data.baselines), "top": None, "skip": False}
    main = _main(table)
    ranked = main[main["measure"] == "return_on_pool"].sort_values("mean", ascending=False)
    if ranked.empty:
        return {"baselines": True, "top": None, "skip": True}
    top = ranked.iloc[0]
    part = main[main["design"] == top["design"]].set_index("measure")
    saved = part.loc["system_cost_saved"] if "system_cost_saved" in part.index else None
    return {
        "baselines": True,
        "skip": False,
        "top": top.to_dict(),
        "unit": formats.per_pooled(s.data.currency),
        "saved": None if saved is None else saved[["mean", "low", "high"]].to_dict(),
        "components": _components(part, s.symbol),
        "verdict": _verdict(top["low"], top["high"]),
        "several": len(ranked) > 1,
        "more": len(ranked) > 1 or bool(reasons),
    }


def _return_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The return table's rows: each design against its baseline, then (where the folder has
    one) against a frictionless planner."""
    rows = []
    for (design, baseline), part in table.groupby(["design", "baseline"], sort=False):
        part = part.set_index("measure")
        cells = []
        for measure, _, kind in tables.RETURN_MEASURES:
            if measure in part.index:
                r = part.loc[measure]
                cells.append({"kind": kind, **r[["mean", "low", "high", "positive"]].to_dict()})
            else:
                cells.append(None)
        against = str(part["against"].iloc[0])
        rows.append({"design": design, "baseline": baseline, "against": against, "cells": cells})
    return rows


def _return_figure(table: pd.DataFrame, unit: str) -> Figure | None:
    """The return per unit pooled of each design, with its interval."""
    ratio = table[table["measure"] == "return_on_pool"]
    if ratio.empty:
        return None
    names = [
        design if main else f"{design}\n(against {tables.IDEAL})"
        for design, main in zip(ratio["design"], ratio["main"].astype(bool), strict=True)
    ]
    fig = figures.intervals(
        ratio.set_index(pd.Index(names))[["mean", "low", "high"]],
        f"Return on the pool, {unit}",
        f"Total system cost saved {unit} (mean, 95% interval)",
        centre="mean",
    )
    return embed(
        fig,
        f"Return on the pool {unit}, by design",
        "Right of the dashed line: the design's total system cost was lower than its no-pool "
        f"baseline's (the pool saved); left of it, higher. Values are {unit}.",
    )


def pool(s: Study) -> dict[str, Any]:
    """Each pooled design's return against its no-pool baseline: table, figure, gaps."""
    table, reasons = s.returns
    unit = formats.per_pooled(s.data.currency)
    by_reason: dict[str, list[str]] = {}
    for design, reason in reasons.items():
        by_reason.setdefault(reason, []).append(design)
    return {
        "baselines": bool(s.data.baselines),
        "unit": unit,
        "headers": [title.format(unit=unit) for _, title, _ in tables.RETURN_MEASURES],
        "rows": _return_rows(table),
        "ideal": bool(len(table) and (table["against"] == tables.IDEAL).any()),
        "figure": _return_figure(table, unit),
        "reasons": by_reason,
    }


def who_pays(s: Study) -> dict[str, Any]:
    """Each pooled design's parties: what they paid and bore, and their saving, in a table
    and a figure per design."""
    frame = s.accounts
    columns = [column for column, _ in accounts.PARTY_COLUMNS]
    designs = []
    for (design, baseline), part in frame.groupby(["design", "baseline"], sort=False):
        savings = part.set_index("party")[["saving", "saving_low", "saving_high"]]
        fig = figures.signed_bars(
            savings.set_axis(["mean", "low", "high"], axis=1),
            f"{design}: saving by party",
            f"Saving against the baseline ({s.symbol}; mean and its 95% interval)",
            formatter=figures.money_formatter(s.symbol),
            colours=s.colours.partners,
        )
        caption = (
            f"{design}: each party's net cost in {baseline} minus its net cost with the pool, "
            "paired by seed. Right of zero: the party saved; left of zero: the pool cost it "
            "more than the baseline. Each party has its colour of every figure in the report."
        )
        designs.append(
            {
                "design": design,
                "baseline": baseline,
                "rows": part.to_dict("records"),
                "totals": part[[*columns, "saving"]].sum().to_dict(),
                "figure": embed(fig, f"Saving by party, {design}", caption),
            }
        )
    return {
        "baselines": bool(s.data.baselines),
        "accounts": bool(accounts.account_columns(s.data.runs)),
        "headers": [title for _, title in accounts.PARTY_COLUMNS],
        "columns": columns,
        "designs": designs,
        "unpaired": list(s.returns[1]),
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
