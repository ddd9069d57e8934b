"""The report's page: each section's data for its template, and the sections in order.

A section is three things, so adding one touches three places:

1. a function producing its numbers (a frame in `tables` or `series`, a figure in `figures`);
2. a template, ``templates/<key>.html.j2``, that lays them out (it sees its data as ``c``);
3. an entry in `SECTIONS`: key, title, template, and the small function below that turns the
   numbers into the template's data (or returns None when the section does not apply).

Templates are rendered with autoescaping on: every name, description and value from a scenario
or a results table is escaped by Jinja, and nothing here builds markup by hand. Figures are our
own SVG, embedded as base64 data URLs, so they need no escaping either.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure as MplFigure

from poolpilot._version import __version__
from poolpilot.model.metrics import METRICS, ZERO
from poolpilot.report import figures, formats, series, tables
from poolpilot.report.data import ReportData
from poolpilot.scenario.variants import population_key

TEMPLATES = Path(__file__).with_name("templates")
#: Designs per block of a wide table (fits a portrait page).
DESIGNS_PER_TABLE = 6
#: At most this many sensitivity figures (metric x method); the ranked table has them all.
MAX_SENSITIVITY_FIGURES = 16


def environment() -> jinja2.Environment:
    """Jinja with autoescaping, strict about missing names, and the report's number formats."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(fmt=formats.fmt, fmt_interval=formats.fmt_interval)
    env.filters.update(
        money=formats.money,
        ratio=formats.ratio,
        count=formats.count,
        share=formats.share,
    )
    return env


@dataclass(frozen=True)
class Figure:
    """A figure as the page embeds it: SVG in a data URL, at its print size."""

    src: str
    alt: str
    caption: str
    width: int
    height: int


def embed(fig: MplFigure, alt: str, caption: str = "") -> Figure:
    """SVG as a data URL in an <img>: no script, no id clashes between figures."""
    data = base64.b64encode(figures.svg(fig)).decode("ascii")
    width, height = fig.get_size_inches()
    return Figure(
        f"data:image/svg+xml;base64,{data}", alt, caption, round(width * 96), round(height * 96)
    )


def chunks(items: list[str], size: int = DESIGNS_PER_TABLE) -> list[list[str]]:
    """Designs in blocks of a table each."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)] or [[]]


class Study:
    """A loaded results folder with the frames more than one section reads, computed once."""

    def __init__(self, data: ReportData) -> None:
        self.data = data
        self.symbol = data.symbol
        self.summary, self.offered = tables.ranked_summary(data)

    @cached_property
    def headlines(self) -> pd.DataFrame:
        runs = self.data.runs
        return tables.headline_frame(self.summary, runs[runs["label"].isin(self.offered)])

    @cached_property
    def returns(self) -> tuple[pd.DataFrame, dict[str, str]]:
        return tables.pool_return(self.data)


# --- one function per section ---------------------------------------------------------------


def summary(s: Study) -> dict[str, Any]:
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


def trajectories(s: Study) -> dict[str, Any]:
    d = s.data
    traj = series.trajectories(d)
    overview = None
    if "mean_trust" in traj:
        mean = traj["mean_trust"].reindex(d.labels, level=0)
        overview = embed(
            figures.trust_overview(mean, bands=len(d.labels) <= 4),
            "Mean partner trust over the months, by design",
            "Mean trust of the partners (providers and payers) in the holder"
            + (
                "; bands omitted with more than four designs, see each design below."
                if len(d.labels) > 4
                else "."
            ),
        )
    empty = pd.DataFrame(columns=["low", "median", "high"])

    def part(name: str, label: str) -> pd.DataFrame:
        q = traj.get(name)
        if q is None or label not in q.index.get_level_values(0):
            return empty
        return q.xs(label, level="label")

    designs = []
    for label in d.labels:
        payers = [p.get("name") for p in d.scenario(label).get("payers") or []]
        fig = figures.design_trajectories(
            "",
            part("trust", label),
            part("unmet_need_share", label),
            part("cumulative_spend", label),
            part("cumulative_budget", label),
            payers,
            s.symbol,
        )
        caption = (
            f"{label}: trust by partner (top), unmet need by service as a share of its need cost "
            "(bottom left), and cumulative spend against the cumulative budget (bottom right)."
        )
        designs.append({"label": label, "figure": embed(fig, f"Trajectories of {label}", caption)})
    return {"overview": overview, "designs": designs}


def money(s: Study) -> dict[str, Any]:
    d = s.data
    frames = series.spend_frames(d)
    out: dict[str, Any] = {"services": None, "shift": None, "partners": [], "payers": []}
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
    for key in ("partners", "payers"):
        frame = frames.get(key)
        if frame is not None and not frame.empty:
            out[key] = _groups(frame)
    out["empty"] = not any(out[k] for k in ("services", "shift", "partners", "payers"))
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
    d = s.data
    frames = series.governance_frames(d)
    act, tiers = frames["activity"], frames["tiers"]

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
            "into them. Tier names differ by design: see the table.",
        )
    return {
        "activity": {"headers": [t for _, t, _ in ACTIVITY], "rows": rows(ACTIVITY)},
        "outcomes": {"headers": [t for _, t, _ in OUTCOMES], "rows": rows(OUTCOMES)},
        "figure": figure,
        "tiers": _groups(tiers) if not tiers.empty else [],
    }


def sensitivity(s: Study) -> dict[str, Any] | None:
    from poolpilot.analysis import sensitivity as sa

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
            out["figures"].append({"metric": metric, "method": method, "error": str(err)})
            continue
        figure = embed(fig, f"Sensitivity of {metric} ({method})")
        out["figures"].append({"metric": metric, "method": method, "figure": figure})
    out["max_figures"] = MAX_SENSITIVITY_FIGURES
    try:
        ranked = sa.rank(idx)
    except ValueError as err:
        out["rank_error"] = str(err)
        return out
    key = {"sobol": "ST", "fast": "ST", "morris": "mu_star", "rbd-fast": "S1", "delta": "delta"}
    top = ranked[ranked["index"] == ranked["method"].map(key)]
    top = top.sort_values(["metric", "method", "rank"], kind="stable")
    out["ranked"] = [
        {
            "metric": r.metric,
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


def assumptions(s: Study) -> dict[str, Any]:
    d = s.data
    designs = []
    for design, resolved in d.scenarios.items():
        entry = (d.manifest.get("scenarios") or {}).get(design, {})
        about = [
            ("holder", (resolved.get("holder") or {}).get("kind")),
            ("horizon", f"{resolved.get('horizon_months')} months"),
            ("hash", entry.get("hash")),
        ]
        source = [
            (k.replace("_", " "), resolved.get(k)) for k in ("seed_article", "example", "basis")
        ]
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
    for chunk in chunks(columns) if differs.any() else []:
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
        ("runs", f"{n_runs} ({len(d.runs)} ok, {len(d.failed)} failed)"),
        ("varied", json.dumps(m.get("vary"), default=str) if m.get("vary") else "nothing"),
    ]
    shown = {"poolpilot_version", "command", "created", "study_seed", "replicates"}
    for key in sorted(set(m) - shown - {"seeds", "vary", "runs", "scenarios"}):
        value = m[key]
        fields.append((key, value if isinstance(value, str) else json.dumps(value, default=str)))
    return {
        "fields": [(k, v) for k, v in fields if v is not None],
        "hashes": [(name, e.get("hash")) for name, e in (m.get("scenarios") or {}).items()],
        "seeds": list(m.get("seeds") or []),
        "failed": [
            {"design": r["design"], "replicate": r["replicate"], "error": str(r.get("error", ""))}
            for r in d.failed.to_dict("records")
        ],
    }


def _with_runs(section: Callable[[Study], dict[str, Any] | None]):
    """A section that only applies when the folder holds finished runs."""

    def applies(s: Study) -> dict[str, Any] | None:
        return None if s.data.runs.empty else section(s)

    return applies


@dataclass(frozen=True)
class Section:
    """One section of the page: anchor, heading, template, and its data (None: left out)."""

    key: str
    title: str
    context: Callable[[Study], dict[str, Any] | None]

    @property
    def template(self) -> str:
        return f"{self.key}.html.j2"


#: The sections in a funder's reading order.
SECTIONS = [
    Section("summary", "Summary", summary),
    Section("return", "Return on the pool", _with_runs(pool)),
    Section("comparison", "Designs compared", _with_runs(comparison)),
    Section("trajectories", "Over the months", _with_runs(trajectories)),
    Section("money", "Where the money went", _with_runs(money)),
    Section("governance", "Governance activity", _with_runs(governance)),
    Section("sensitivity", "Which rules matter most", sensitivity),
    Section("assumptions", "Assumptions", assumptions),
    Section("reproducibility", "Reproducibility", reproducibility),
]


def render(data: ReportData) -> str:
    """The report's HTML for loaded results: one self-contained page."""
    study = Study(data)
    sections = []
    for section in SECTIONS:
        context = section.context(study)
        if context is not None:
            sections.append((section, context))
    m = data.manifest
    replicates = m.get("replicates", data.runs["replicate"].nunique() if len(data.runs) else 0)
    page = {
        "title": f"poolpilot report: {data.folder.resolve().name}",
        "designs": len(data.labels),
        "replicates": replicates,
        "created": m.get("created"),
        "version": m.get("poolpilot_version", __version__),
        "failed": len(data.failed),
    }
    template = environment().get_template("page.html.j2")
    return template.render(page=page, sections=sections, symbol=data.symbol)
