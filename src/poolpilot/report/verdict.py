"""What to fund: each pooled design against its own status quo, in a funder's units.

A funder's question is whether a pool does better than carrying on without one. So each pooled
design is set against the no-pool baseline of its own population (`tables.baseline_pairs`),
run by run at the same seed (common random numbers: the same need in both), on five outcomes
in units a funder uses: need left unmet (%), total system cost per person per month, money
returned per unit pooled, the share of runs in which a partner left, and the change in trust
(points on a 0-100 scale, positive when it rose). Designs are never ranked against each other
on totals: every number is a design against its own baseline, so designs serving different
populations can sit in one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from poolpilot.analysis.paired import paired
from poolpilot.model.metrics import HIGHER, LOWER
from poolpilot.report import formats
from poolpilot.report.data import ReportData, field
from poolpilot.report.tables import baseline_pairs, is_ideal, wide


@dataclass(frozen=True)
class Outcome:
    """One headline outcome: its plain name, how its numbers read, and which way is better."""

    key: str
    label: str
    unit: str
    direction: str
    kind: str  # "share" (% and pp), "money" (per person per month), "ratio", "points"


#: The what-to-fund outcomes, in the order a funder asks about them.
OUTCOMES = [
    Outcome("unmet", "Need left unmet", "% of need", LOWER, "share"),
    Outcome("cost", "Cost per person a month", "total system cost, $", LOWER, "money"),
    Outcome("return", "Return per dollar pooled", "$ saved per $ pooled", HIGHER, "ratio"),
    Outcome("partners_lost", "Partners lost", "% of runs a partner left", LOWER, "share"),
    Outcome("trust", "Trust change", "points of 100, end minus start", HIGHER, "points"),
]
NEEDED = ["unmet_need_share", "total_system_cost", "pooled_funding", "partner_exits"]
NEEDED += ["trust_initial_mean", "trust_final_mean"]
COLUMNS = ["design", "baseline", "outcome", "value", "baseline_value", "diff", "low", "high"]
COLUMNS += ["better", "clear", "n"]


def people(resolved: dict[str, Any]) -> float:
    """The people a design serves: the sizes of its population's segments."""
    segments = field(resolved, "population.segments", []) or []
    return float(sum(s.get("size", 0) or 0 for s in segments))


def months(data: ReportData, label: str) -> float:
    """A design's horizon in months: as the study ran it (``--months``), else the scenario's."""
    design = data.label_design.get(label, label)
    ran = (data.manifest.get("months") or {}).get(design)
    return float(ran or data.scenario(label).get("horizon_months") or np.nan)


def _per_run(data: ReportData, values: pd.DataFrame, label: str) -> dict[str, pd.Series]:
    """Each outcome per pair of runs for one design (NaN where it cannot be computed)."""
    v = values.xs(label, axis=1, level="label")
    scale = people(data.scenario(label)) * months(data, label)
    return {
        "unmet": v["unmet_need_share"],
        "cost": v["total_system_cost"] / scale if scale > 0 else v["total_system_cost"] * np.nan,
        "partners_lost": (v["partner_exits"] > 0).astype(float).where(v["partner_exits"].notna()),
        "trust": (v["trust_final_mean"] - v["trust_initial_mean"]) * 100,
    }


def outcome_frame(data: ReportData) -> pd.DataFrame:
    """Per pooled design and outcome: the design's and its status quo's means over the paired
    runs, their paired difference with its 95% interval (`paired`), the share of paired runs in
    which the design did better, and whether the difference is clear.

    The return's value is the design's return itself (its baseline has none: 0 by definition).
    Empty when the folder has no baseline or its runs lack the metrics.
    """
    pairs, _ = baseline_pairs(data)
    runs = data.runs
    if not pairs or any(c not in runs for c in NEEDED):
        return pd.DataFrame(columns=COLUMNS)
    values = wide(runs, NEEDED)
    rows = []
    for design, baseline in pairs.items():
        if is_ideal(data.scenario(baseline)):
            continue  # a frictionless planner is not what a pilot replaces
        mine, theirs = _per_run(data, values, design), _per_run(data, values, baseline)
        d = values.xs(design, axis=1, level="label")
        b = values.xs(baseline, axis=1, level="label")
        pooled = d["pooled_funding"].where(d["pooled_funding"] > 0)
        ratio = (b["total_system_cost"] - d["total_system_cost"]) / pooled
        for outcome in OUTCOMES:
            if outcome.key == "return":
                x, y = ratio, pd.Series(0.0, index=ratio.index)
            else:
                x, y = mine[outcome.key], theirs[outcome.key]
            both = x.notna() & y.notna()
            if not both.any():
                continue
            p = paired(x[both].to_numpy(), y[both].to_numpy())
            better = p.share_above if outcome.direction == HIGHER else p.share_below
            shown = np.nan if outcome.key == "return" else float(y[both].mean())
            rows.append(
                [design, baseline, outcome.key, float(x[both].mean()), shown, p.mean, p.low]
                + [p.high, better, p.clear, p.n]
            )
    return pd.DataFrame(rows, columns=COLUMNS)


# --- numbers as a funder reads them ----------------------------------------------------------


def value(outcome: Outcome, v: float, symbol: str = "$") -> str:
    """An outcome's value: 19.0%, $84.20, $0.06, +1.5 points."""
    if v is None or not np.isfinite(v):
        return "n/a"
    if outcome.kind == "share":
        return formats.minus(f"{v * 100:.1f}%")
    if outcome.kind == "money":
        return formats.minus(_money(v, symbol))
    if outcome.kind == "ratio":
        return formats.minus(f"{'-' if v < 0 else ''}{symbol}{abs(v):.2f}")
    return formats.minus(f"{v:+.1f}")


def _money(v: float, symbol: str) -> str:
    sign = "-" if v < 0 else ""
    return f"{sign}{symbol}{abs(v):,.0f}" if abs(v) >= 100 else f"{sign}{symbol}{abs(v):.2f}"


def difference(outcome: Outcome, v: float, symbol: str = "$") -> str:
    """A signed difference: +1.2 pp, −$3.40, −$0.06, +2.5 points."""
    if v is None or not np.isfinite(v):
        return "n/a"
    sign = "+" if v > 0 else "-" if v < 0 else ""
    if outcome.kind == "share":
        text = f"{abs(v) * 100:.1f} pp"
    elif outcome.kind == "money":
        text = _money(abs(v), symbol)
    elif outcome.kind == "ratio":
        text = f"{symbol}{abs(v):.2f}"
    else:
        text = f"{abs(v):.1f} pts"
    return formats.minus((sign if any(c in "123456789" for c in text) else "") + text)


def interval(outcome: Outcome, low: float, high: float, symbol: str = "$") -> str:
    """A 95% interval of a difference, each end signed, the unit once: −11.9 to −8.6 pp."""
    ends = [difference(outcome, low, symbol), difference(outcome, high, symbol)]
    for unit in (" pp", " pts"):
        if ends[0].endswith(unit) and ends[1].endswith(unit):
            ends[0] = ends[0][: -len(unit)]
    return f"{ends[0]} to {ends[1]}"


BY_KEY = {o.key: o for o in OUTCOMES}


# --- the verdict in words ---------------------------------------------------------------------

NUMBERS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
NUMBERS += ["eleven", "twelve"]


def number(n: int) -> str:
    """Small counts in words, as prose reads them."""
    return NUMBERS[n] if 0 <= n < len(NUMBERS) else str(n)


def _cell(frame: pd.DataFrame, design: str, key: str) -> dict[str, Any] | None:
    part = frame[(frame["design"] == design) & (frame["outcome"] == key)]
    return None if part.empty else part.iloc[0].to_dict()


def _names(items: list[str], others: bool = False) -> str:
    """Names joined in prose; more than three read as a count ("the other ten")."""
    if len(items) > 3:
        return f"the {'other ' if others else ''}{number(len(items))}"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _cost_clause(r: dict[str, Any] | None, symbol: str) -> str:
    """What a design's total cost did against its status quo, per unit pooled, with the sign
    as a verb: a pool that cost more is not said to have saved too little."""
    if r is None:
        return ""
    amount = f"{symbol}{abs(r['diff']):.2f}"
    if r["clear"] and r["diff"] < 0:
        return f" but cost {amount} more per dollar pooled than it saved"
    if r["clear"] and r["diff"] > 0:
        return f" and saved {amount} per dollar pooled beyond what it cost"
    return ", at a total cost not clearly different from the status quo's"


def _return_text(r: dict[str, Any], symbol: str) -> str:
    ratio = BY_KEY["return"]
    ends = f"{value(ratio, r['low'], symbol)} to {value(ratio, r['high'], symbol)}"
    return f"{value(ratio, r['diff'], symbol)} per dollar pooled (95% interval {ends})"


def _on_cost(designs: list[str], returns: dict[str, Any], symbol: str) -> str:
    """The first sentence: did any pooled design cost the system less than no pool?"""
    n = len(designs)
    saved = [d for d, r in returns.items() if r and r["clear"] and r["diff"] > 0]
    lost = [d for d, r in returns.items() if r and r["clear"] and r["diff"] < 0]
    unclear = [d for d in designs if d not in saved and d not in lost]
    if saved:
        best = max(saved, key=lambda d: returns[d]["diff"])
        if n == 1:
            head = (
                f"The pooled design, {best}, cost the system less than carrying on without a pool"
            )
        elif len(saved) == 1:
            head = (
                f"One of the {number(n)} pooled designs, {best}, cost the system less than "
                "carrying on without a pool"
            )
        else:
            head = (
                f"{number(len(saved)).capitalize()} of the {number(n)} pooled designs cost the "
                f"system less than carrying on without a pool, {best} the most"
            )
        text = f"{head}: it returned {_return_text(returns[best], symbol)}"
        if lost:
            they = "it" if len(lost) == 1 else "they"
            text += f"; {_names(lost, others=True)} cost more than {they} saved"
        return text + "."
    if n == 1:
        text = "The pooled design did not do better than carrying on without a pool on total cost"
    else:
        text = f"None of the {number(n)} pooled designs did better than carrying on without a pool on total cost"
    if lost and unclear:
        text += (
            f": {_names(lost)} cost more than {'it' if len(lost) == 1 else 'they'} saved, and "
            f"for {_names(unclear)} the difference is within the noise"
        )
    elif lost:
        text += ": " + ("it" if n == 1 else "each") + " cost more than it saved"
    else:
        text += ": the differences are within the noise"
    return text + "."


def _on_need(designs: list[str], frame: pd.DataFrame, returns: dict[str, Any], symbol: str):
    """The second sentence: which design left less need unmet than its status quo, at what
    cost (each against its own baseline, so populations are not mixed)."""
    unmet = {d: _cell(frame, d, "unmet") for d in designs}
    less = [d for d, u in unmet.items() if u and u["clear"] and u["diff"] < 0]
    more = [d for d, u in unmet.items() if u and u["clear"] and u["diff"] > 0]
    if not less:
        text = "No pooled design left clearly less need unmet than its status quo"
        return text + (f"; {_names(more)} left more." if more else ".")
    best = min(less, key=lambda d: unmet[d]["diff"])
    u, share = unmet[best], BY_KEY["unmet"]
    values = f"({value(share, u['value'])} vs {value(share, u['baseline_value'])})"
    if len(less) == 1:
        text = f"{best} left less need unmet than its status quo {values}"
    else:
        every = "All" if len(less) == len(designs) else number(len(less)).capitalize()
        text = (
            f"{every} {'of the designs' if every == 'All' else 'designs'} left less need unmet "
            f"than their status quo; {best} cut it the most {values}"
        )
    return text + _cost_clause(returns[best], symbol) + "."


def sentences(frame: pd.DataFrame, symbol: str = "$") -> list[str]:
    """The verdict in two plain sentences: did any pooled design beat carrying on without a
    pool on total cost, and which left less need unmet, at what cost."""
    designs = list(dict.fromkeys(frame["design"]))
    if not designs:
        return []
    returns = {d: _cell(frame, d, "return") for d in designs}
    return [_on_cost(designs, returns, symbol), _on_need(designs, frame, returns, symbol)]
