"""The report's numbers as tidy frames: designs compared, the headline findings, the return on
the pool and the assumptions (who pays and who saves: `poolpilot.report.accounts`).

Two kinds of interval appear, and they are kept apart:

- the *spread* of one design's outcomes: the 5th to the 95th percentile of a metric over its
  replicates (``low``/``high`` in `summary_frame`); it says what a pilot could turn out like;
- the *paired difference* of two designs: the mean of the run-by-run differences (same seed,
  same need) with the 95% bootstrap interval of that mean, from
  `poolpilot.analysis.paired.paired` (the one definition the claims and notebooks use too);
  a difference is *clear* when that interval excludes zero.

The summary's sentences and the comparison table both come from `summary_frame` (through
`headline_frame`), so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from poolpilot.analysis.paired import PairedDifference, paired
from poolpilot.model.metrics import HIGHER, ZERO, Direction
from poolpilot.report.data import ReportData, field, metric_columns
from poolpilot.report.formats import direction_of, kind_of, plain
from poolpilot.scenario.paths import flatten
from poolpilot.scenario.variants import population_key

#: Quantiles of the spread of one design's outcomes over its replicates.
LOW, HIGH = 0.05, 0.95

#: The summary's questions: (metric, what it answers, plain name of the quantity).
HEADLINES: list[tuple[str, str, str]] = [
    ("unmet_need_share", "Under-service", "the share of need left unmet"),
    ("cost_shift_index", "Cost shifting", "the holder's own lines' excess share of pooled spend"),
    ("trust_final_mean", "Trust", "partners' mean trust in the holder at the end"),
    ("trust_erosion", "Trust erosion", "the fall in partners' mean trust over the pilot"),
    ("total_system_cost", "Cost", "the total system cost, inside and outside the pool"),
]

#: The return on the pool's measures, paired by seed: (column, heading, kind of number). The
#: money measures add up: saved = acute avoided + fragmentation avoided - extra pathway spend -
#: running cost (each counted once: the running cost is in the design's total system cost).
RETURN_MEASURES: list[tuple[str, str, str]] = [
    ("return_on_pool", "Return {unit}", "ratio"),
    ("system_cost_saved", "Total system cost saved", "money"),
    ("acute_cost_avoided", "Acute cost avoided", "money"),
    ("fragmentation_cost_avoided", "Fragmentation cost avoided", "money"),
    ("extra_pathway_spend", "Extra pathway spend", "money"),
    ("running_cost", "Running cost", "money"),
]
#: Who a design's return is measured against: its status-quo or its idealised baseline.
STATUS_QUO, IDEAL = "the status quo", "a frictionless planner"
#: Scenario fields that describe a design rather than parametrise it.
METADATA_FIELDS = ("name", "description", "seed_article", "example", "basis")

SUMMARY_COLUMNS = [
    "metric",
    "design",
    "direction",
    "kind",
    "stat",
    "n",
    "centre",
    "low",
    "high",
    "mean",
    "rank",
    "best",
    "worst",
    "diff_mean",
    "diff_low",
    "diff_high",
    "clear",
    "same",
]


def wide(runs: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Metric values with one row per pair (replicate) and columns (metric, label)."""
    key = "pair" if "pair" in runs else "replicate"
    frame = runs.set_index([key, "label"])[list(metrics)].astype(float)
    frame = frame[~frame.index.duplicated(keep="first")]
    return frame.unstack("label")


def _oriented(values: pd.DataFrame | pd.Series, direction: Direction):
    """Values such that lower is better."""
    if direction == HIGHER:
        return -values
    if direction == ZERO:
        return values.abs()
    return values


def design_difference(
    values: pd.DataFrame, a: str, b: str, direction: Direction
) -> PairedDifference:
    """``a - b`` paired by seed (of absolute values for metrics better closer to zero)."""
    x, y = values[a], values[b]
    if direction == ZERO:
        x, y = x.abs(), y.abs()
    return paired(x.to_numpy(), y.to_numpy())


def _equal(a: pd.Series, b: pd.Series) -> bool:
    d = (a - b).dropna()
    return bool(len(d) and (d == 0).all())


def summary_frame(
    runs: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per metric and design: the numbers behind the summary and the table.

    Columns: metric, design, direction, kind, stat ("median", or "share of runs" for 0/1
    metrics), n, centre, low, high (spread: 5th and 95th percentiles over replicates), mean,
    rank (1 = best, by centre then mean; NaN without a direction), best, worst, diff_mean,
    diff_low, diff_high (paired difference to the best design and its 95% interval, of absolute
    values for metrics better closer to zero), clear (for the best design: clearly better than
    the runner-up; for the others: clearly different from the best) and same (every design
    equal in every replicate). Designs equal to the best (or worst) in every replicate share
    the mark.
    """
    if "label" not in runs:
        runs = runs.assign(label=runs["design"])
    labels = list(dict.fromkeys(runs["label"]) if labels is None else labels)
    metrics = metric_columns(runs) if metrics is None else metrics
    metrics = [m for m in metrics if runs[m].notna().any()]
    if not metrics or runs.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    values = runs[["label", *metrics]].copy()
    values[metrics] = values[metrics].astype(float)
    grouped = values.groupby("label", observed=True, sort=False)[metrics]
    stats = {
        "n": grouped.count(),
        "median": grouped.median(),
        "mean": grouped.mean(),
        "low": grouped.quantile(LOW),
        "high": grouped.quantile(HIGH),
    }
    pairs = wide(runs, metrics)
    rows = []
    for metric in metrics:
        direction = direction_of(metric)
        kind = kind_of(metric)
        present = [lab for lab in labels if stats["n"].at[lab, metric] > 0]
        centre = stats["mean" if kind == "runs" else "median"].loc[present, metric]
        table = pairs[metric].reindex(columns=present)
        same = bool(
            len(present) > 1
            and (table.sub(table.iloc[:, 0], axis=0).abs().fillna(0.0) == 0).all().all()
        )
        info: dict[str, dict[str, Any]] = {lab: {} for lab in present}
        if direction and len(present) > 1 and not same:
            _rank(info, table, present, direction, kind)
        for lab in present:
            got = info[lab]
            rows.append(
                {
                    "metric": metric,
                    "design": lab,
                    "direction": direction,
                    "kind": kind,
                    "stat": "share of runs" if kind == "runs" else "median",
                    "n": int(stats["n"].at[lab, metric]),
                    "centre": float(centre[lab]),
                    "low": float(stats["low"].at[lab, metric]),
                    "high": float(stats["high"].at[lab, metric]),
                    "mean": float(stats["mean"].at[lab, metric]),
                    "rank": got.get("rank", np.nan),
                    "best": bool(got.get("best", False)),
                    "worst": bool(got.get("worst", False)),
                    "diff_mean": got.get("diff_mean", np.nan),
                    "diff_low": got.get("diff_low", np.nan),
                    "diff_high": got.get("diff_high", np.nan),
                    "clear": bool(got.get("clear", False)),
                    "same": same,
                }
            )
    frame = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    frame["design"] = frame["design"].astype(str)
    return frame


def _rank(
    info: dict[str, dict[str, Any]],
    table: pd.DataFrame,
    present: list[str],
    direction: Direction,
    kind: str,
) -> None:
    """Rank, best and worst marks, and each design's paired difference from the best."""
    score = _oriented(table, direction)
    centre_score = score.mean() if kind == "runs" else score.median()
    order = sorted(present, key=lambda lab: (centre_score[lab], score[lab].mean()))
    best, worst = order[0], order[-1]
    ties = [lab for lab in order if _equal(score[lab], score[best])]
    worst_ties = [lab for lab in order if _equal(score[lab], score[worst])]
    for position, lab in enumerate(order, start=1):
        info[lab]["rank"] = float(position)
    for lab in present:
        info[lab]["best"] = lab in ties
        info[lab]["worst"] = lab in worst_ties
        if lab in ties:
            continue
        d = design_difference(table, lab, best, direction)
        info[lab].update(diff_mean=d.mean, diff_low=d.low, diff_high=d.high, clear=d.clear)
    runner = next((lab for lab in order if lab not in ties), None)
    for lab in ties:
        info[lab]["clear"] = bool(runner is not None and info[runner].get("clear"))


def ranked_summary(data: ReportData) -> tuple[pd.DataFrame, list[str]]:
    """The summary frame with only the designs on offer ranked.

    No-pool baselines are the reference, not a choice: they appear in the table with their
    numbers but no marks, even beside a single pooled design (unless a study holds nothing
    but baselines). Pooled designs serving different
    populations are ranked only within their population: a total over 3,300 people is not
    better than one over 2,800. Returns the frame and the ranked labels.
    """
    offered = [label for label in data.labels if label not in data.baselines]
    groups: dict[str, list[str]] = {}
    for label in offered:
        groups.setdefault(population_key(data.scenario(label)), []).append(label)
    if not offered or (len(groups) < 2 and len(offered) == len(data.labels)):
        return summary_frame(data.runs, data.metrics, data.labels), list(data.labels)
    runs = data.runs
    # designs serving different populations are ranked only within their population
    ranked = pd.concat(
        [summary_frame(runs[runs["label"].isin(g)], data.metrics, g) for g in groups.values()],
        ignore_index=True,
    )
    reference = summary_frame(
        runs[~runs["label"].isin(offered)],
        data.metrics,
        [x for x in data.labels if x not in offered],
    )
    unmarked = {"rank": np.nan, "best": False, "worst": False, "clear": False}
    unmarked |= dict.fromkeys(("diff_mean", "diff_low", "diff_high"), np.nan)
    for column, value in unmarked.items():
        reference[column] = value
    frame = pd.concat([ranked, reference], ignore_index=True)
    order = {label: i for i, label in enumerate(data.labels)}
    metric_order = {metric: i for i, metric in enumerate(dict.fromkeys(ranked["metric"]))}
    frame = frame.sort_values(
        ["metric", "design"],
        key=lambda c: c.map(order if c.name == "design" else metric_order),
    )
    return frame.reset_index(drop=True), offered


def headline_frame(summary: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """The summary's findings: per headline metric, best and worst with their uncertainty.

    Values come from ``summary`` (the table's frame); the worst-against-next-worst difference
    is paired by seed like the table's differences.
    """
    if "label" not in runs:
        runs = runs.assign(label=runs["design"])
    shown = [m for m, _, _ in HEADLINES if m in set(summary["metric"])]
    pairs = wide(runs, shown) if shown else None  # once, for the worst-vs-next-worst differences
    rows = []
    for metric, title, quantity in HEADLINES:
        part = summary[summary["metric"] == metric]
        if part.empty:
            continue
        part = part.set_index("design")
        row: dict[str, Any] = {
            "metric": metric,
            "title": title,
            "quantity": quantity,
            "direction": part["direction"].iloc[0],
            "designs": len(part),
            "same": bool(part["same"].iloc[0]),
        }
        ranked = part.dropna(subset=["rank"]).sort_values("rank")
        if ranked.empty:
            row["best"] = list(part.index)
            rows.append(_with_centres(row, part, "best", list(part.index)[:1]))
            continue
        best = list(ranked.index[ranked["best"]])
        worst = list(ranked.index[ranked["worst"]])
        row["best"], row["worst"] = best, worst
        row = _with_centres(row, part, "best", best)
        row = _with_centres(row, part, "worst", worst)
        others = ranked[~ranked["best"]]
        if not others.empty:
            runner = others.index[0]
            r = part.loc[runner]
            row.update(
                runner_up=runner,
                runner_centre=r["centre"],
                best_diff_mean=-r["diff_mean"],
                best_diff_low=-r["diff_high"],
                best_diff_high=-r["diff_low"],
                best_clear=bool(r["clear"]),
            )
        rest = ranked[~ranked["worst"]]
        if not rest.empty:
            nxt = rest.index[-1]
            d = design_difference(pairs[metric], worst[0], nxt, row["direction"])
            row.update(
                next_worst=nxt,
                next_worst_centre=part.at[nxt, "centre"],
                worst_diff_mean=d.mean,
                worst_diff_low=d.low,
                worst_diff_high=d.high,
                worst_clear=d.clear,
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _with_centres(row: dict[str, Any], part: pd.DataFrame, key: str, names: list[str]):
    first = part.loc[names[0]]
    row.update(
        {
            f"{key}_centre": first["centre"],
            f"{key}_low": first["low"],
            f"{key}_high": first["high"],
            f"{key}_stat": first["stat"],
        }
    )
    return row


# --- return on the pool ----------------------------------------------------------------------


def is_ideal(resolved: dict[str, Any]) -> bool:
    """An idealised baseline: no pool and no silo budgets, one frictionless planner.

    Told apart from the status quo by the scenario, not the name, so a renamed baseline (or
    one per population, ``no_pool_ideal_for_<design>``) is still recognised.
    """
    silos = field(resolved, "status_quo.silo_budgets", True)
    return field(resolved, "holder.kind") == "none" and silos is False


def _comparable(data: ReportData) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Each pooled design's baselines of the same population and varied values, status quo
    first; and the reasons designs have none."""
    found: dict[str, list[str]] = {}
    reasons: dict[str, str] = {}
    point = (
        {
            lab: tuple(str(v) for v in group.iloc[0][data.varied])
            for lab, group in data.runs.groupby("label", observed=True)
        }
        if data.varied and not data.collapsed
        else {}
    )
    for label in data.labels:
        if label in data.baselines:
            continue
        if not data.baselines:
            reasons[label] = "no no-pool baseline in this folder"
            continue
        mine = population_key(data.scenario(label))
        same_population = [b for b in data.baselines if population_key(data.scenario(b)) == mine]
        same_point = [b for b in same_population if point.get(b) == point.get(label)]
        if same_point:
            found[label] = sorted(same_point, key=lambda b: is_ideal(data.scenario(b)))
        elif same_population:
            reasons[label] = "no baseline run with the same varied values"
        else:
            reasons[label] = (
                "its population, services or horizon differ from every baseline's, so the "
                "comparison would not be like for like"
            )
    return found, reasons


def baseline_pairs(data: ReportData) -> tuple[dict[str, str], dict[str, str]]:
    """Each pooled design's no-pool baseline (same population, same varied values).

    The status quo is preferred: it is what a pilot would replace. A design whose only
    comparable baseline is idealised pairs with that. Returns (pairs, reasons): pairs maps a
    design to its baseline; reasons says why a design has none.
    """
    found, reasons = _comparable(data)
    return {design: baselines[0] for design, baselines in found.items()}, reasons


def ideal_pairs(data: ReportData) -> dict[str, str]:
    """The idealised baseline of each design paired with the status quo, where there is one:
    the return against a frictionless planner, a second line beside the main one."""
    found, _ = _comparable(data)
    out = {}
    for design, baselines in found.items():
        ideal = [b for b in baselines[1:] if is_ideal(data.scenario(b))]
        if ideal and not is_ideal(data.scenario(baselines[0])):
            out[design] = ideal[0]
    return out


#: The cost metrics the return is computed from (fragmentation_cost and acute_cost_after_end
#: read as 0 when absent: folders made before the model counted them).
RETURN_METRICS = ["acute_cost", "fragmentation_cost", "pooled_funding", "running_cost"]
RETURN_METRICS += ["total_system_cost", "acute_cost_after_end"]
LATER_METRICS = ("fragmentation_cost", "acute_cost_after_end")
RETURN_COLUMNS = ["design", "baseline", "against", "main", "measure", "mean", "low", "high"]
RETURN_COLUMNS += ["positive", "n"]


def _acute(v: pd.DataFrame) -> pd.Series:
    """A run's acute cost, with the events after its end that its last months cause."""
    return v["acute_cost"] + v["acute_cost_after_end"]


def _pathway_spend(v: pd.DataFrame) -> pd.Series:
    """What a run spent on services (with providers' unfunded work): its total system cost
    less acute events, fragmentation and the pool's running cost."""
    return v["total_system_cost"] - _acute(v) - v["fragmentation_cost"] - v["running_cost"]


def return_measures(design: pd.DataFrame, baseline: pd.DataFrame) -> dict[str, pd.Series]:
    """The return's measures per pair of runs, from each run's cost metrics (one row a pair).

    The return is the total system cost saved per unit the design pooled; the components are
    money and add up to the saving, so the running cost is counted once.
    """
    saved = baseline["total_system_cost"] - design["total_system_cost"]
    pooled = design["pooled_funding"].where(design["pooled_funding"] > 0)
    return {
        "return_on_pool": saved / pooled,
        "system_cost_saved": saved,
        "acute_cost_avoided": _acute(baseline) - _acute(design),
        "fragmentation_cost_avoided": baseline["fragmentation_cost"] - design["fragmentation_cost"],
        "extra_pathway_spend": _pathway_spend(design) - _pathway_spend(baseline),
        "running_cost": design["running_cost"] - baseline["running_cost"],
    }


def pool_return(data: ReportData) -> tuple[pd.DataFrame, dict[str, str]]:
    """The return on the pool against the no-pool baseline, paired by seed, per pooled design.

    Per replicate: return_on_pool = (baseline total_system_cost - design total_system_cost) /
    design pooled_funding (positive: the pool saved), and its components as money
    (`return_measures`). Each measure is a paired difference: its mean over the replicates with
    the 95% interval of that mean (`paired`). Returns a tidy frame (design, baseline, against:
    `STATUS_QUO` or `IDEAL`, main: the design's main baseline rather than the second line
    against a frictionless planner, measure, mean, low, high, positive: share of replicates
    above zero, n) and the reasons designs without a comparable baseline have none.
    """
    pairs, reasons = baseline_pairs(data)
    need = [m for m in RETURN_METRICS if m not in LATER_METRICS]
    if not pairs or any(c not in data.runs for c in need):
        if pairs:
            reasons.update(dict.fromkeys(pairs, "this folder lacks the cost metrics"))
        return pd.DataFrame(columns=RETURN_COLUMNS), reasons
    runs = data.runs.assign(**{m: 0.0 for m in LATER_METRICS if m not in data.runs})
    values = wide(runs, RETURN_METRICS)
    lines = [(d, b, True) for d, b in pairs.items()]
    lines += [(d, b, False) for d, b in ideal_pairs(data).items()]
    lines.sort(key=lambda line: list(pairs).index(line[0]))
    rows = []
    for design, baseline, main in lines:
        against = IDEAL if is_ideal(data.scenario(baseline)) else STATUS_QUO
        per_pair = return_measures(
            values.xs(design, axis=1, level="label"), values.xs(baseline, axis=1, level="label")
        )
        for measure, differences in per_pair.items():
            p = paired(differences.to_numpy())
            if p.n:
                rows.append(
                    [design, baseline, against, main, measure, p.mean, p.low, p.high]
                    + [p.share_above, p.n]
                )
    return pd.DataFrame(rows, columns=RETURN_COLUMNS), reasons


# --- assumptions -----------------------------------------------------------------------------


def _parameters(resolved: dict[str, Any]) -> dict[str, str]:
    """A resolved scenario's parameters as dotted path -> shown value, without metadata.

    A named list item's own name is its path already (``payers.medicaid``), so it is not listed
    again as ``payers.medicaid.name``.
    """
    out = {}
    for path, value in flatten(resolved).items():
        parts = path.split(".")
        if parts[0] in METADATA_FIELDS:
            continue
        if len(parts) > 2 and parts[-1] == "name" and str(value) == parts[-2]:
            continue
        out[path] = plain(value)
    return out


def assumptions_frame(data: ReportData) -> pd.DataFrame:
    """Every parameter of every design: rows are dotted paths, columns designs (None if absent)."""
    designs = list(dict.fromkeys(data.label_design.get(lab, lab) for lab in data.labels))
    designs += [d for d in data.scenarios if d not in designs]
    flat = {d: _parameters(data.scenarios[d]) for d in designs if d in data.scenarios}
    paths = list(dict.fromkeys(p for d in flat.values() for p in d))
    return pd.DataFrame(
        {d: [values.get(p) for p in paths] for d, values in flat.items()}, index=paths
    )
