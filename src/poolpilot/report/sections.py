"""The data of the descriptive sections: months, money, governance, sensitivity, assumptions
and reproducibility.

Each function takes the `Study` and returns the dict its template (``templates/<key>.html.j2``)
reads as ``c`` (None: the section does not apply); values are plain, the templates escape them.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from poolpilot._version import __version__
from poolpilot.model.metrics import METRICS
from poolpilot.report import figures, formats, series, tables, verdict
from poolpilot.report.context import Study, chunks, embed
from poolpilot.report.data import ReportData, field, varied_paths

#: Designs per block of the parameters table: values are long, and no word is broken.
PARAMETER_DESIGNS = 4
#: At most this many sensitivity figures (metric x method); the ranked table has them all.
MAX_SENSITIVITY_FIGURES = 16


def trajectories(s: Study) -> dict[str, Any]:
    """Mean trust for all designs over the months (each design's own months: the appendix)."""
    d = s.data
    traj = s.months
    overview = None
    if "mean_trust" in traj:
        mean = traj["mean_trust"].reindex(d.labels, level=0)
        overview = embed(
            figures.trust_overview(
                mean,
                bands=len(d.labels) <= 4,
                baselines=tables.baseline_pairs(d)[0],
                colours=s.colours,
            ),
            "Mean partner trust over the months, by design",
            "Mean trust of the partners (providers and payers) in the budget holder"
            + (
                "; bands omitted with more than four designs."
                if len(d.labels) > 4
                else "; bands: the range of 90% of the runs."
            ),
        )
    return {"overview": overview}


def _design_months(s: Study) -> list[dict[str, Any]]:
    """Each pooled design's months in one figure: trust by partner, unmet need by service, and
    spend against budget (the status quo's are in the overview and the tables)."""
    d = s.data
    traj = s.months
    empty = pd.DataFrame(columns=["low", "median", "high"])

    def part(name: str, label: str) -> pd.DataFrame:
        q = traj.get(name)
        if q is None or label not in q.index.get_level_values(0):
            return empty
        return q.xs(label, level="label")

    offered = [label for label in d.labels if label not in d.baselines] or list(d.labels)
    designs = []
    for label in offered:
        payers = [p.get("name") for p in field(d.scenario(label), "payers", [])]
        fig = figures.design_trajectories(
            "",
            part("trust", label),
            part("unmet_need_share", label),
            part("cumulative_spend", label),
            part("cumulative_budget", label),
            payers,
            s.symbol,
            colours=s.colours,
        )
        caption = (
            f"{label}: trust by partner (top), unmet need by service as a share of its need cost "
            "(bottom left), and cumulative spend against the cumulative budget (bottom right)."
        )
        designs.append({"label": label, "figure": embed(fig, f"Trajectories of {label}", caption)})
    return designs


def details(s: Study) -> dict[str, Any]:
    """The appendix's detail by design: each pooled design's months, spend by partner and
    payer, and the cases heard at each tier of the escalation ladder."""
    frames = s.spend
    out: dict[str, Any] = {"designs": _design_months(s), "partners": [], "payers": []}
    for key in ("partners", "payers"):
        frame = frames.get(key)
        if frame is not None and not frame.empty:
            out[key] = _groups(frame)
    tiers = s.activity["tiers"]
    out["tiers"] = _groups(tiers) if not tiers.empty else []
    out["tier_figure"] = _tier_figure(s)
    return out


def money(s: Study) -> dict[str, Any]:
    """Where the pooled money went: by service, the holder's own share, partners, payers."""
    d = s.data
    frames = s.spend
    out: dict[str, Any] = {"services": None, "shift": None}
    services = frames.get("services")
    if services is not None and not services.empty:
        hatched = pd.DataFrame(False, index=services.index, columns=services.columns)
        if "holder's own lines" in hatched:
            hatched["holder's own lines"] = True
        fig = figures.stacked_bars(
            services,
            "Pooled spend by service over the pilot",
            f"Spend over the horizon ({s.symbol}; mean over replicates)",
            hatched=hatched,
            formatter=figures.money_formatter(s.symbol),
            colours=s.colours.services,
            top=figures.MAX_SERIES,
            other="other services",
        )
        out["services"] = embed(
            fig,
            "Spend by service and the holder's own lines, by design",
            "Hatched: the budget holder's own service lines. Other segments: partners' "
            "services. Means are used so that the segments add up to the total.",
        )
    shift = frames.get("shift")
    if shift is not None and not shift.empty:
        out["shift"] = embed(
            figures.cost_shift(series.cost_shift_spread(d, shift)),
            "Holder's own lines: share of spend against need-fair share",
            "Only designs whose holder runs service lines of its own. The gap between the two "
            "markers is the cost shift index (own lines' share of pooled spend minus their "
            "share of need cost).",
        )
    out["empty"] = not any(out[k] for k in ("services", "shift"))
    return out


def _groups(frame: pd.DataFrame) -> list[tuple[str, list[dict[str, Any]]]]:
    """Rows grouped by design, in order: the design's cell spans its rows."""
    return [
        (str(label), part.to_dict("records"))
        for label, part in frame.groupby("label", observed=True, sort=False)
    ]


#: Governance tables: (column of the activity frame, heading, how shown).
ACTIVITY = [
    ("approvals", "Approvals sought", "count"),
    ("approvals rejected", "rejected", "count"),
    ("challenges", "Challenges", "count"),
    ("escalations", "Escalations", "count"),
    ("overturned", "Overturned", "count"),
    ("disputes_raised", "Disputes raised", "count"),
    ("disputes_upheld", "upheld", "count"),
    ("blocked by validation", "Blocked by validation", "count"),
]
OUTCOMES = [
    ("findings", "Findings", "count"),
    ("clawback events", "Clawbacks", "count"),
    ("clawbacks", "Recovered", "money"),
    ("runs with disallowed spend", "Runs with disallowed spend", "share"),
    ("detection lag", "Detection lag (months)", "count"),
    ("disengagements", "Disengagements", "count"),
    ("exit notices", "Exit notices", "count"),
    ("exits", "Exits", "count"),
    ("ended early", "Ended early (runs)", "share"),
    ("median end month", "Ended in month", "count"),
]


def governance(s: Study) -> dict[str, Any]:
    """Governance activity per run, and the cases heard at each tier."""
    act = s.activity["activity"]

    def rows(columns: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
        return [
            {
                "label": lab,
                "cells": [
                    (how, act.at[lab, c]) if c in act else (how, None) for c, _, how in columns
                ],
            }
            for lab in act.index
        ]

    def happened(column: str) -> bool:
        if column not in act:
            return False
        values = pd.to_numeric(act[column], errors="coerce").fillna(0.0)
        return bool((values != 0).any())

    tables, none = {}, []
    for key, columns in (("activity", ACTIVITY), ("outcomes", OUTCOMES)):
        shown = [c for c in columns if happened(c[0])]
        none += [title for column, title, _ in columns if not happened(column)]
        tables[key] = {"headers": [t for _, t, _ in shown], "rows": rows(shown)} if shown else None
    # what happened in no design is a line, not a column of zeros
    return tables | {"none": [n[:1].lower() + n[1:] for n in none]}


def _tier_figure(s: Study) -> Any:
    """Cases heard at each tier of the escalation ladder, by design (None without any)."""
    d = s.data
    tiers = s.activity["tiers"]
    figure = None
    if not tiers.empty:
        pivot = tiers.assign(
            col=[f"tier {lv}" if lv else "outside the ladder" for lv in tiers["level"].to_numpy()]
        ).pivot_table(index="label", columns="col", values="per_run", aggfunc="sum", observed=True)
        pivot = pivot.reindex([lab for lab in d.labels if lab in pivot.index])
        pivot = pivot[sorted(pivot.columns, key=lambda c: (c.startswith("outside"), c))]
        fig = figures.stacked_bars(
            pivot,
            "Cases heard at each tier of the escalation ladder",
            "Cases per run (mean over replicates)",
            legend_title="tier (1 = first hearing)",
        )
        figure = embed(
            fig,
            "Cases heard at each tier, by design",
            "Tier 1 counts challenges at their first hearing; higher tiers count escalations "
            "into them. Tier names differ by design: see the table below.",
        )
    return figure


def sensitivity(s: Study) -> dict[str, Any] | None:
    """Sensitivity figures and the ranked parameters; None without indices.parquet."""
    from poolpilot.analysis import sensitivity as sa
    from poolpilot.analysis.sensitivity.indices import RANK_BY

    idx = s.data.indices
    if idx is None:
        return None
    out: dict[str, Any] = {"empty": idx.empty, "notes": [], "figures": [], "ranked": None}
    if idx.empty:
        return out
    out["notes"] = list(idx.attrs.get("notes") or [])
    out["capped"] = False
    pairs = idx[["metric", "method"]].drop_duplicates().itertuples(index=False)
    for metric, method in pairs:
        if method not in ("sobol", "fast", "morris"):
            continue
        if len(out["figures"]) >= MAX_SENSITIVITY_FIGURES:
            out["capped"] = True
            break
        try:
            fig = figures.sensitivity(idx, metric, method)
        except (ValueError, KeyError) as err:
            out["figures"].append(
                {"metric": formats.label_of(metric), "method": method, "error": str(err)}
            )
            continue
        figure = embed(fig, f"Sensitivity of {formats.label_of(metric)} ({method})")
        out["figures"].append(
            {"metric": formats.label_of(metric), "method": method, "figure": figure}
        )
    out["max_figures"] = MAX_SENSITIVITY_FIGURES
    try:
        ranked = sa.rank(idx)
    except ValueError as err:
        out["rank_error"] = str(err)
        return out
    top = ranked[ranked["index"] == ranked["method"].map(RANK_BY)]
    top = top.sort_values(["metric", "method", "rank"], kind="stable")
    out["ranked"] = [
        {
            "metric": formats.label_of(r.metric),
            "method": r.method,
            "rank": None if pd.isna(r.rank) else int(r.rank),
            "parameter": r.parameter,
            "index": r.index,
            "value": f"{r.value:.3f}" if np.isfinite(r.value) else "n/a",
            "interval": (
                f"{r.ci_low:.3f} to {r.ci_high:.3f}"
                if np.isfinite(r.ci_low) and np.isfinite(r.ci_high)
                else None
            ),
        }
        for r in top.itertuples(index=False)
    ]
    return out


#: How the appendix names a design's sources.
SOURCE_NAMES = {"seed_article": "source article", "example": "example", "basis": "basis"}


def assumptions(s: Study) -> dict[str, Any]:
    """Each design described, then its parameters: those that differ first."""
    d = s.data
    designs = []
    for design, resolved in d.scenarios.items():
        entry = (d.manifest.get("scenarios") or {}).get(design, {})
        about = [
            ("holder", field(resolved, "holder.kind")),
            ("horizon", f"{resolved.get('horizon_months')} months"),
            ("hash", entry.get("hash")),
        ]
        source = [(SOURCE_NAMES[k], resolved.get(k)) for k in ("seed_article", "example", "basis")]
        designs.append(
            {
                "name": design,
                "description": resolved.get("description") or "",
                "about": [(k, v) for k, v in about if v is not None],
                "source": [(k, v) for k, v in source if v not in (None, "")],
            }
        )
    frame = tables.assumptions_frame(d)
    columns = list(frame.columns)
    if len(columns) > 1:
        differs = frame.apply(lambda r: len(set(r.fillna("\0"))) > 1, axis=1)
    else:
        differs = pd.Series(False, index=frame.index, dtype=bool)
    blocks = []
    for chunk in chunks(columns, PARAMETER_DESIGNS) if differs.any() else []:
        rows = []
        for path, values in frame[differs].iterrows():
            mode = values.fillna("\0").value_counts().index[0]
            shown = {c: None if pd.isna(values[c]) else values[c] for c in chunk}
            cells = [
                {"value": shown[c], "differs": ("\0" if shown[c] is None else shown[c]) != mode}
                for c in chunk
            ]
            rows.append({"path": path, "cells": cells})
        blocks.append({"designs": chunk, "rows": rows})
    same = frame[~differs]
    return {
        "designs": designs,
        "parameters": len(frame),
        "differ": int(differs.sum()),
        "blocks": blocks,
        "common": list(same.iloc[:, 0].items()) if not same.empty else [],
        "several": len(columns) > 1,
    }


def reproducibility(s: Study) -> dict[str, Any]:
    """What it takes to get the same numbers again: version, command, seeds."""
    d = s.data
    m = d.manifest
    n_runs = len(d.runs) + len(d.failed)
    fields = [
        ("poolpilot version (study)", m.get("poolpilot_version")),
        ("poolpilot version (report)", __version__),
        ("command", m.get("command")),
        ("created", m.get("created")),
        ("study seed", m.get("study_seed")),
        ("replicates", m.get("replicates")),
        ("runs", f"{n_runs} ({len(d.runs)} ok, {len(d.failed)} failed){_planned(d)}"),
        ("varied", _varied(m.get("vary"))),
        ("months", _months(m.get("months"))),
        ("kind of runs", _kind(m.get("kind"))),
    ]
    shown = {"poolpilot_version", "command", "created", "study_seed", "replicates", "months"}
    progress = {"runs_planned", "runs_done", "complete", "kind"}  # in the lines above
    for key in sorted(set(m) - shown - progress - {"seeds", "vary", "runs", "scenarios"}):
        value = m[key]
        fields.append((key, value if isinstance(value, str) else json.dumps(value, default=str)))
    return {
        "fields": [(k, v) for k, v in fields if v is not None],
        "hashes": [(name, e.get("hash")) for name, e in (m.get("scenarios") or {}).items()],
        "replicates": len(m.get("seeds") or []),
        "failed": [
            {"design": r["design"], "replicate": r["replicate"], "error": str(r.get("error", ""))}
            for r in d.failed.to_dict("records")
        ],
    }


#: Longest list of varied points the appendix spells out; beyond it, it counts them.
VARIED_SHOWN = 600


def _varied(vary: Any) -> str:
    """What the study varied: its points, an exploration's or search's sampling, or a count
    (a study of thousands of points lists them in manifest.json, not in the report)."""
    if not vary:
        return "nothing"
    if isinstance(vary, list) and len(vary) == 1 and set(vary[0]) <= {"exploration", "search"}:
        (kind, sampling), *_ = vary[0].items()
        return f"{kind}: {sampling}"
    text = json.dumps(vary, default=str)
    if len(text) <= VARIED_SHOWN:
        return text
    points = len(vary) if isinstance(vary, list) else "a grid of"
    paths = ", ".join(varied_paths({"vary": vary}))
    return f"{points} points of {paths} (each in manifest.json)"


def _planned(d: ReportData) -> str:
    """What the runs line adds about the study's completeness."""
    if d.complete:
        return ""
    if d.runs_planned is None:
        return "; no manifest.json, so the runs planned are unknown"
    return f" of {d.runs_planned} planned: the study is incomplete"


def _months(months: Any) -> str | None:
    """Each design's horizon: one number when they share it."""
    if not isinstance(months, dict) or not months:
        return None
    if len(set(months.values())) == 1:
        return str(next(iter(months.values())))
    return ", ".join(f"{name}: {value}" for name, value in months.items())


def _kind(kind: Any) -> str | None:
    """What each run kept, and whose model or holder ran."""
    if not isinstance(kind, dict):
        return None
    text = "timeseries and events" if kind.get("detail", True) else "metrics only"
    custom = [f"{k} {kind[k]}" for k in ("model", "holder") if kind.get(k)]
    return ", ".join([text, *custom])


def reading(s: Study) -> dict[str, Any]:
    """How to read the numbers: what the intervals and marks mean, for this study."""
    d = s.data
    return {
        "replicates": int(d.runs["replicate"].nunique()),
        "complete": d.complete,
        "unknown": d.runs_planned is None,
        "designs": len(d.labels),
    }


def glossary(s: Study) -> dict[str, Any]:
    """Every measure the report shows: its label, technical name, definition, unit and which
    way is better, so the main report can use labels alone."""
    shown = set(s.data.metrics)
    return {
        "outcomes": [
            {"label": o.label, "unit": o.unit, "direction": o.direction} for o in verdict.OUTCOMES
        ],
        "metrics": [
            {
                "label": m.label,
                "name": m.name,
                "definition": m.definition,
                "unit": m.unit,
                "direction": m.direction or "",
            }
            for m in METRICS.values()
            if m.name in shown or not shown
        ],
    }
