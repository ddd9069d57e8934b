"""The data of the sections a funder decides by: what to fund, the outcomes in full, the
return on the pool, who pays and who saves, and the designs compared.

Each function takes the `Study` and returns the dict its template (``templates/<key>.html.j2``)
reads as ``c``; values are plain, the templates escape them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from poolpilot.model.metrics import METRICS
from poolpilot.report import accounts, figures, formats, tables, verdict
from poolpilot.report.context import DESIGNS_PER_TABLE, Figure, Study, chunks, embed
from poolpilot.scenario.variants import population_key


def populations(s: Study) -> list[list[str]]:
    """The pooled designs grouped by the population they serve (more than one group: the
    report compares them per person or within their population only)."""
    d = s.data
    groups: dict[str, list[str]] = {}
    for label in d.labels:
        if label not in d.baselines:
            groups.setdefault(population_key(d.scenario(label)), []).append(label)
    return list(groups.values()) if len(groups) > 1 and d.scenarios else []


def _cells(s: Study, design: str) -> list[dict[str, Any] | None]:
    """One design's five outcomes as the what-to-fund table and the outcomes in full read
    them: difference, interval, share of runs better, and both values."""
    frame = s.outcomes
    cells = []
    for o in verdict.OUTCOMES:
        part = frame[(frame["design"] == design) & (frame["outcome"] == o.key)]
        if part.empty:
            cells.append(None)
            continue
        r = part.iloc[0]
        good = r["clear"] and ((r["diff"] > 0) == (o.direction == verdict.HIGHER))
        cells.append(
            {
                "diff": verdict.difference(o, r["diff"], s.symbol),
                "interval": verdict.interval(o, r["low"], r["high"], s.symbol),
                "better": f"{r['better']:.0%}",
                "mark": ("gain" if good else "loss") if r["clear"] else "",
                "value": verdict.value(o, r["value"], s.symbol),
                "baseline": verdict.value(o, r["baseline_value"], s.symbol),
            }
        )
    return cells


def what_to_fund(s: Study) -> dict[str, Any]:
    """Page one: the verdict in plain sentences, then each pooled design's difference from its
    own status quo on the five headline outcomes."""
    d = s.data
    frame = s.outcomes
    designs = list(dict.fromkeys(frame["design"])) if not frame.empty else []
    _, reasons = s.returns
    return {
        "empty": d.runs.empty,
        "baselines": bool(d.baselines),
        "sentences": verdict.sentences(frame, s.symbol),
        "headers": [o.label for o in verdict.OUTCOMES],
        "units": [o.unit for o in verdict.OUTCOMES],
        "rows": [{"design": x, "cells": _cells(s, x)} for x in designs],
        "pairs": int(frame["n"].max()) if not frame.empty else 0,
        "populations": populations(s),
        "unpaired": [x for x in reasons if x not in designs],
        "complete": d.complete,
        "collapsed": d.collapsed,
        "points": d.points,
        "varied": ", ".join(d.varied),
        "offered": [x for x in d.labels if x not in d.baselines],
    }


def outcomes(s: Study) -> dict[str, Any]:
    """The outcomes in full: each design's value beside its status quo's."""
    frame = s.outcomes
    designs = list(dict.fromkeys(frame["design"])) if not frame.empty else []
    baseline = dict(zip(frame["design"], frame["baseline"], strict=False))
    return {
        "headers": [o.label for o in verdict.OUTCOMES],
        "rows": [{"design": x, "baseline": baseline[x], "cells": _cells(s, x)} for x in designs],
    }


#: How the return section says a component of the return: (when above zero, when below zero).
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


def _return_rows(table: pd.DataFrame, symbol: str) -> list[dict[str, Any]]:
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
        rows.append(
            {
                "design": design,
                "baseline": baseline,
                "against": against,
                "cells": cells,
                "phrases": _components(part, symbol),
            }
        )
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
        "Right of the dashed line: the design's total system cost was lower than its status "
        f"quo's (the pool saved); left of it, higher. Values are {unit}.",
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
        "rows": _return_rows(table, s.symbol),
        "ideal": bool(len(table) and (table["against"] == tables.IDEAL).any()),
        "figure": _return_figure(table, unit),
        "reasons": by_reason,
    }


#: How the who-pays table names the parties that are not payers.
PARTY_NAMES = {
    "holder": "the budget holder",
    "outside": "budgets outside the pilot",
    "providers": "providers",
}


def party_name(party: str) -> str:
    """A party as a funder reads it: payers by their name, the others in words."""
    return PARTY_NAMES.get(party, party.replace("_", " "))


def _capital(name: str) -> str:
    return name[:1].upper() + name[1:]


def _gains_and_losses(part: pd.DataFrame, symbol: str) -> str:
    """Who gains and who loses against the status quo, in one sentence (clear savings only)."""

    def listed(rows: pd.DataFrame, sign: float) -> str:
        items = [
            f"{party_name(r.party)} ({formats.money(sign * r.saving, symbol)})"
            for r in rows.itertuples(index=False)
        ]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]

    gains = part[part["saving_low"] > 0].sort_values("saving", ascending=False)
    losses = part[part["saving_high"] < 0].sort_values("saving")
    out = []
    if not gains.empty:
        out.append(f"Against the status quo, {listed(gains, 1)} saved")
    if not losses.empty:
        out.append(
            (", while " if out else "Against the status quo, ") + f"{listed(losses, -1)} paid more"
        )
    if not out:
        return "No party's saving against the status quo is clear of the noise."
    rest = len(part) - len(gains) - len(losses)
    others = "the other one" if rest == 1 else f"the other {verdict.number(rest)}"
    tail = f"; for {others} the difference is within the noise" if rest else ""
    return "".join(out) + tail + "."


def who_pays(s: Study) -> dict[str, Any]:
    """Each pooled design's parties: what each paid in and bore, its net cost with and without
    the pool, and what it saved, in a table and a figure per design."""
    frame = s.accounts
    designs = []
    for (design, baseline), part in frame.groupby(["design", "baseline"], sort=False):
        money_columns = ["paid_in", "shared", *accounts.BORNE, "net_cost", "baseline_net_cost"]
        part = part[(part[money_columns].abs() >= 0.5).any(axis=1)]  # a party with no account
        shown = part.assign(party=[_capital(party_name(x)) for x in part["party"]])
        savings = shown.set_index("party")[["saving", "saving_low", "saving_high"]]
        fig = figures.signed_bars(
            savings.set_axis(["mean", "low", "high"], axis=1),
            f"{design}: saving by party",
            f"Saving against the status quo ({s.symbol}; mean and its 95% interval)",
            formatter=figures.money_formatter(s.symbol),
            colours=s.colours.partners,
        )
        caption = (
            f"{design}: what each party saved against its status quo, run by run. Right of "
            "zero: the party saved; left of zero: the pool cost it more. Each party has its "
            "colour in every figure of the report."
        )
        rows = []
        for r in part.to_dict("records"):
            bore = {item: r[item] for item in accounts.BORNE}
            rows.append(
                r
                | {
                    "name": _capital(party_name(r["party"])),
                    "bore": sum(bore.values()),
                    "bore_items": [
                        (accounts.BORNE_NAMES[i], v) for i, v in bore.items() if abs(v) >= 0.5
                    ],
                }
            )
        totals = part[["paid_in", "shared", *accounts.BORNE, "net_cost", "baseline_net_cost"]]
        totals = totals.sum().to_dict()
        totals["bore"] = sum(totals[i] for i in accounts.BORNE)
        totals["saving"] = float(part["saving"].sum())
        designs.append(
            {
                "design": design,
                "baseline": baseline,
                "rows": rows,
                "totals": totals,
                "shared": bool((part["shared"].abs() >= 0.5).any()),
                "sentence": _gains_and_losses(part, s.symbol),
                "figure": embed(fig, f"Saving by party, {design}", caption),
            }
        )
    return {
        "baselines": bool(s.data.baselines),
        "accounts": bool(accounts.account_columns(s.data.runs)),
        "designs": designs,
        "unpaired": list(s.returns[1]),
    }


#: Metrics the comparison leaves to the glossary: the trust change is on page one, as points.
NOT_COMPARED = {"trust_erosion"}


def comparison(s: Study) -> dict[str, Any]:
    """Every metric of every design, by its label, in blocks that fit a page, with the marks
    (pooled designs ranked only against designs that serve the same population)."""
    d = s.data
    cells = {
        (r["metric"], r["design"]): r
        | {"near": bool(r["direction"] and not r["clear"] and np.isfinite(r["diff_mean"]))}
        for r in s.summary.to_dict("records")
    }
    metrics = [
        {
            "name": metric,
            "label": formats.label_of(metric),
            "direction": formats.direction_of(metric),
            "runs": formats.kind_of(metric) == "runs",
        }
        for metric in dict.fromkeys(s.summary["metric"])
        if metric in METRICS and metric not in NOT_COMPARED  # accounts: who pays and who saves
    ]
    constant = []
    for m in list(metrics):
        shown = {
            (formats.fmt(m["name"], c["centre"], s.symbol), formats.fmt(m["name"], c["low"]))
            + (formats.fmt(m["name"], c["high"]),)
            for (name, _), c in cells.items()
            if name == m["name"]
        }
        if len(shown) == 1 and len(d.labels) > 1 and len(set(next(iter(shown)))) == 1:
            constant.append({"label": m["label"], "value": next(iter(shown))[0]})
            metrics.remove(m)  # the same in every design and run: one line, not a row
    return {
        "empty": s.summary.empty,
        "metrics": metrics,
        "constant": constant,
        "blocks": chunks(d.labels),
        "cells": cells,
        "designs": len(d.labels),
        "per_table": DESIGNS_PER_TABLE,
        "populations": populations(s),
    }
