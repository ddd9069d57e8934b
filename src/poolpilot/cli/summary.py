"""The terminal summary of a study: one row per design, its headline metrics, their intervals.

A designer who has just run ``poolpilot compare`` wants the answer before opening the report:
which design leaves less need unmet, keeps trust, costs less, loses fewer partners, and what
the pool returns against doing nothing. So after ``run`` and ``compare`` a short table goes to
stdout: per design, the mean over its replicates of each headline metric with the 95% interval
of that mean (the project's one interval: `poolpilot.analysis.paired.paired`, a seeded BCa
bootstrap), and for a pooled design with a no-pool baseline of the same population the return
on the pool, paired by seed (`poolpilot.report.tables.return_measures`, as in the report).
Runs that failed are left out and counted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from poolpilot.analysis.paired import paired
from poolpilot.model.metrics import METRICS
from poolpilot.report.data import varied_paths
from poolpilot.report.tables import RETURN_METRICS, is_ideal, return_measures
from poolpilot.scenario.variants import population_key

#: Widest design label shown; longer names are cut (the report has them whole).
MAX_LABEL = 36


@dataclass(frozen=True)
class Column:
    """A headline metric as a column: its title and how one number of it is written."""

    metric: str
    title: str
    write: Callable[[float], str]
    #: The unit written once, after the mean (the interval's bounds go without it).
    unit: str = ""


def columns(symbol: str = "$") -> list[Column]:
    """The headline columns: need left unmet, trust at the end, total cost, partners lost.

    Titled by the metric registry's labels, the words the report uses too.
    """

    def title(metric: str, unit: str = "") -> str:
        return f"{METRICS[metric].label} {unit}".strip()

    return [
        Column("unmet_need_share", title("unmet_need_share"), lambda v: f"{100 * v:.1f}", "%"),
        Column("trust_final_mean", title("trust_final_mean"), lambda v: f"{v:.2f}"),
        Column(
            "total_system_cost",
            title("total_system_cost", f"{symbol}M"),
            lambda v: f"{v / 1e6:.2f}",
        ),
        Column("partner_exits", title("partner_exits"), lambda v: f"{v:.1f}"),
    ]


#: The return on the pool's column: total system cost saved per unit pooled, paired by seed.
RETURN = "return_on_pool"


def interval(
    values: Sequence[float] | np.ndarray, write: Callable[[float], str], unit: str = ""
) -> str:
    """``mean [low, high]``: the mean and the 95% bootstrap interval of the mean.

    One value, or an interval that rounds to the mean, is written as the mean alone.
    """
    found = paired(np.asarray(values, dtype=float))
    if found.n == 0:
        return "-"
    mean = f"{write(found.mean)}{unit}"
    low, high = write(found.low), write(found.high)
    if found.n < 2 or low == high == write(found.mean):
        return mean
    return f"{mean} [{low}, {high}]"


def is_baseline(design: str, scenarios: Mapping[str, Mapping[str, Any]]) -> bool:
    """A no-pool design: its resolved holder is ``none`` (by name when the scenario is unknown)."""
    resolved = scenarios.get(design)
    if resolved:
        return (resolved.get("holder") or {}).get("kind") == "none"
    return design.startswith("no_pool")


def label(design: str, scenarios: Mapping[str, Mapping[str, Any]]) -> str:
    """How a design is named in the table; baselines say what they are, then ``(baseline)``.

    A baseline stands right after the designs it is the baseline of, so it needs no name of
    theirs (``no_pool_for_<design>`` reads as ``status quo (baseline)``).
    """
    if not is_baseline(design, scenarios):
        return design
    if not re.fullmatch(r"no_pool_(baseline|ideal)|no_pool(_ideal)?_for_.+", design):
        return f"{design} (baseline)"
    resolved = scenarios.get(design) or {}
    ideal = is_ideal(resolved) if resolved else design.startswith("no_pool_ideal")
    return "idealised planner (baseline)" if ideal else "status quo (baseline)"


def _same_population(a: str, b: str, scenarios: Mapping[str, Mapping[str, Any]]) -> bool:
    mine, theirs = scenarios.get(a), scenarios.get(b)
    return bool(mine and theirs) and population_key(mine) == population_key(theirs)


def baseline_of(
    design: str, baselines: Sequence[str], scenarios: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """The no-pool baseline a pooled design is judged against: the same population, the
    status quo before the idealised planner (what a pilot would replace)."""
    if design in scenarios:
        same = [b for b in baselines if _same_population(design, b, scenarios)]
    else:
        same = [b for b in baselines if b in ("no_pool_baseline", f"no_pool_for_{design}")]
    same.sort(key=lambda b: label(b, scenarios).startswith("idealised"))
    return same[0] if same else None


def pool_returns(
    runs: pd.DataFrame, design: str, baseline: str, pair_by: Sequence[str]
) -> np.ndarray:
    """The return on the pool of each pair of runs (same replicate and varied values)."""
    needed = ["total_system_cost", "pooled_funding"]
    if any(c not in runs for c in needed):
        return np.array([])
    costs = runs.reindex(columns=[*pair_by, "design", *RETURN_METRICS]).fillna(
        dict.fromkeys(RETURN_METRICS, 0.0)
    )
    mine = costs[costs["design"] == design].drop(columns="design")
    theirs = costs[costs["design"] == baseline].drop(columns="design")
    both = mine.merge(theirs, on=list(pair_by), suffixes=("", "_b"))
    if both.empty:
        return np.array([])
    base = both[[f"{m}_b" for m in RETURN_METRICS]].set_axis(RETURN_METRICS, axis=1)
    return return_measures(both[RETURN_METRICS], base)[RETURN].to_numpy(dtype=float)


def in_order(
    designs: Sequence[str],
    baselines: Sequence[str],
    pairs: Mapping[str, str | None],
    scenarios: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """The pooled designs in study order, each baseline right after the last design it is the
    baseline of (same population), so a reader sees which baseline goes with which design."""
    out = [d for d in designs if d not in baselines]
    for baseline in baselines:
        served = [
            d for d in out if pairs.get(d) == baseline or _same_population(d, baseline, scenarios)
        ]
        at = max(out.index(d) for d in served) + 1 if served else len(out)
        while at < len(out) and out[at] in baselines:
            at += 1
        out.insert(at, baseline)
    return out


def summary_lines(
    runs: pd.DataFrame,
    scenarios: Mapping[str, Mapping[str, Any]] | None = None,
    varied: Sequence[str] = (),
    symbol: str = "$",
) -> list[str]:
    """The summary table of a runs table (one row per run, with ``design`` and ``status``).

    ``scenarios`` (design name -> resolved scenario, from the manifest) tells baselines and
    populations apart; ``varied`` names the varied fields, so runs pair by replicate and point.
    """
    scenarios = scenarios or {}
    status = runs["status"].astype(str) if "status" in runs else pd.Series("ok", index=runs.index)
    ok = runs[status == "ok"]
    failed = int((status != "ok").sum())
    if ok.empty:
        return [f"no run finished ({failed} failed): nothing to summarise"]
    order = [d for d in scenarios if d in set(ok["design"])]
    designs = order + [d for d in dict.fromkeys(ok["design"].astype(str)) if d not in order]
    shown = [c for c in columns(symbol) if c.metric in ok]
    baselines = [d for d in designs if is_baseline(d, scenarios)]
    pairs = {d: baseline_of(d, baselines, scenarios) for d in designs if d not in baselines}
    pair_by = ["replicate", *[v for v in varied if v in ok]]
    with_return = any(pairs.values()) and "pooled_funding" in ok
    titles = ["design", *(c.title for c in shown)]
    titles += [f"return per {symbol} pooled"] if with_return else []
    rows = []
    indent = (
        "  " if sum(not label(b, scenarios).startswith("idealised") for b in baselines) > 1 else ""
    )
    for design in in_order(designs, baselines, pairs, scenarios):
        mine = ok[ok["design"] == design]
        cells = [_cut((indent if design in baselines else "") + label(design, scenarios))]
        cells += [interval(mine[c.metric].to_numpy(dtype=float), c.write, c.unit) for c in shown]
        if with_return:
            against = pairs.get(design)
            values = pool_returns(ok, design, against, pair_by) if against else np.array([])
            cells.append(interval(values, lambda v: f"{v:.2f}") if values.size else "-")
        rows.append(cells)
    widths = [max(len(row[i]) for row in [titles, *rows]) for i in range(len(titles))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [titles, *rows]
    ]
    return lines + _notes(ok, failed, len(runs), varied, with_return, symbol)


def _notes(
    ok: pd.DataFrame, failed: int, total: int, varied: Sequence[str], with_return: bool, symbol: str
) -> list[str]:
    point = [v for v in varied if v in ok]
    counts = ok.groupby(["design", *point], observed=True, dropna=False).size()
    low, high = int(counts.min()), int(counts.max())
    replicates = f"{low}" if low == high else f"{low} to {high}"
    points = len(ok.drop_duplicates(point)) if point else 1
    text = f"means over {replicates} replicate{'s' if high != 1 else ''}"
    if points > 1:
        text += f" and {points} varied points (the report shows each point)"
    if high > 1:
        text += " [with the 95% bootstrap interval of the mean]"
    notes = [text]
    if with_return:
        notes.append(f"return: total system cost saved per {symbol} pooled, paired by seed")
    if failed:
        notes.append(f"{failed} of {total} runs failed and are left out (see runs.parquet)")
    return notes


def _cut(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 3] + "..."


def read_scenarios(folder: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The resolved scenarios (by design name) and the varied fields from a folder's manifest.

    A missing or unreadable manifest gives empty ones: the table then tells baselines by name.
    """
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}, []
    scenarios = {
        str(name): dict(entry.get("resolved") or {})
        for name, entry in (manifest.get("scenarios") or {}).items()
        if isinstance(entry, dict)
    }
    return scenarios, varied_paths(manifest)


def study_summary(runs: pd.DataFrame, folder: Path) -> str:
    """The summary table of a finished study, from its runs table and its folder's manifest."""
    scenarios, varied = read_scenarios(folder)
    currencies = {str(s.get("currency", "USD")) for s in scenarios.values()} or {"USD"}
    currency = sorted(currencies)[0]
    symbol = "$" if currency == "USD" else f"{currency} "
    return "\n".join(summary_lines(runs, scenarios, varied, symbol))
