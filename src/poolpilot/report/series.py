"""Frames from the monthly series and the audit events: trajectories, spend and governance.

These read the detail sample of `ReportData` (the timeseries and events of a bounded number of
runs); bands are the spread over replicates (5th to 95th percentile), not confidence intervals.
"""

from __future__ import annotations

import pandas as pd

from poolpilot.report.data import ReportData, field
from poolpilot.report.tables import HIGH, LOW


def _quantiles(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """low/median/high of ``value`` per group."""
    if frame.empty:
        return pd.DataFrame(columns=["low", "median", "high"])
    q = frame.groupby(by, observed=True, sort=False)["value"].quantile([LOW, 0.5, HIGH])
    q = q.unstack(-1)
    q.columns = ["low", "median", "high"]
    return q


def trajectories(data: ReportData) -> dict[str, pd.DataFrame]:
    """Bands over the months: per series (trust, unmet_need_share, cumulative_*) and design."""
    ts = data.timeseries
    wanted = ["trust", "unmet_need_share", "cumulative_spend", "cumulative_budget"]
    sub = ts[ts["series"].isin(wanted)]
    q = _quantiles(sub, ["series", "label", "partner", "month"])
    out = {s: q.xs(s, level="series") for s in wanted if s in q.index.get_level_values(0)}
    trust = ts[ts["series"] == "trust"]
    if not trust.empty:
        mean = trust.groupby(["label", "run", "month"], observed=True, sort=False)["value"].mean()
        out["mean_trust"] = _quantiles(mean.reset_index(), ["label", "month"])
    return out


def spread(grouped) -> pd.DataFrame:
    """median, low and high (the 5th to 95th percentile) of each group of a grouped series."""
    return pd.DataFrame(
        {"median": grouped.median(), "low": grouped.quantile(LOW), "high": grouped.quantile(HIGH)}
    )


def spend_frames(data: ReportData) -> dict[str, pd.DataFrame]:
    """Totals over the horizon per run, summarised per design: by partner and by payer.

    ``partners``/``payers``: design, name, median, low, high, mean, share (of the design's
    mean total). ``services``: mean total spend by service (partners) and the holder's own
    lines, per design. ``shift``: the holder's own-line share of pooled spend and its
    need-fair share (own share minus cost_shift_index), per run.
    """
    ts = data.timeseries
    sub = ts[ts["series"].isin(["spend", "payer_spend"])]
    totals = sub.groupby(["series", "label", "run", "partner"], observed=True, sort=False)[
        "value"
    ].sum()
    totals = totals.reset_index()
    out: dict[str, pd.DataFrame] = {}
    for series, key in (("spend", "partners"), ("payer_spend", "payers")):
        part = totals[totals["series"] == series]
        if part.empty:
            out[key] = pd.DataFrame()
            continue
        g = part.groupby(["label", "partner"], observed=True, sort=False)["value"]
        frame = spread(g).assign(mean=g.mean()).reset_index()
        frame = frame.sort_values("label", kind="stable").reset_index(drop=True)
        frame["share"] = frame["mean"] / frame.groupby("label", observed=True)["mean"].transform(
            "sum"
        ).where(lambda s: s > 0)
        out[key] = frame
    partners = out["partners"]
    if partners.empty:
        return out
    # a holder's own line is named "holder:service"
    partners["own"] = partners["partner"].astype(str).str.contains(":", regex=False)
    partners["service"] = [
        _service_of(data, lab, str(name))
        for lab, name in zip(partners["label"], partners["partner"], strict=True)
    ]
    out["services"] = _services(data, partners)
    shift = _own_share(data, totals[totals["series"] == "spend"], partners)
    if shift is not None:
        out["shift"] = shift
    return out


def _services(data: ReportData, partners: pd.DataFrame) -> pd.DataFrame:
    """Mean total spend per design: the holder's own lines (if any), then each service."""
    services = partners[~partners["own"]].pivot_table(
        index="label", columns="service", values="mean", aggfunc="sum", observed=True
    )
    own = partners[partners["own"]].groupby("label", observed=True)["mean"].sum()
    services.insert(0, "holder's own lines", own.reindex(services.index).fillna(0.0))
    services = services.reindex([lab for lab in data.labels if lab in services.index])
    if not (services["holder's own lines"] > 0).any():
        services = services.drop(columns="holder's own lines")
    return services


def _own_share(
    data: ReportData, spend: pd.DataFrame, partners: pd.DataFrame
) -> pd.DataFrame | None:
    """Per run of a design with own lines: their share of spend and their need-fair share."""
    if "cost_shift_index" not in data.runs:
        return None
    own = spend["partner"].astype(str).str.contains(":", regex=False)
    per_run = spend.assign(own=own).groupby(["label", "run", "own"], observed=True)["value"].sum()
    per_run = per_run.unstack("own", fill_value=0.0)
    with_own = set(partners.loc[partners["own"], "label"].astype(str))
    per_run = per_run[per_run.index.get_level_values("label").isin(with_own)]
    if True not in per_run.columns or per_run.empty:
        return None
    total = per_run.sum(axis=1)
    share = (per_run[True] / total.where(total > 0)).rename("own_share").reset_index()
    share = share.merge(data.runs[["key", "cost_shift_index"]], left_on="run", right_on="key")
    share["fair_share"] = share["own_share"] - share["cost_shift_index"]
    return share


def _service_of(data: ReportData, label: str, line: str) -> str:
    if ":" in line:
        return line.split(":", 1)[1]
    return str(field(data.scenario(label), f"providers.{line}.service", "unknown"))


def governance_frames(data: ReportData) -> dict[str, pd.DataFrame]:
    """Governance activity per design: counts of audit events per run, and tiers."""
    ev = data.events
    runs = data.runs[data.runs["key"].isin(data.detail_keys)]  # the runs whose events were read
    keys = runs["key"]
    conditions = {
        "approvals": ev["action"] == "approval",
        "approvals rejected": (ev["action"] == "approval") & (ev["outcome"] == "rejected"),
        "challenges": ev["action"] == "challenge",
        "escalations": ev["action"] == "escalate",
        "overturned": (ev["action"] == "escalation_decision") & (ev["outcome"] == "overturned"),
        "findings": ev["action"] == "finding",
        "clawback events": ev["action"] == "clawback",
        "exit notices": ev["action"] == "exit_notice",
        "exits": ev["action"] == "exit",
        "disengagements": ev["action"] == "disengage",
        "blocked by validation": ev["action"] == "block",
    }
    counts = pd.DataFrame(index=pd.Index(keys, name="run"))
    for name, mask in conditions.items():
        counts[name] = ev.loc[mask, "run"].value_counts().reindex(keys, fill_value=0).to_numpy()
    counts["label"] = runs["label"].to_numpy()
    for metric in ("disputes_raised", "disputes_upheld", "clawbacks", "partner_exits"):
        if metric in runs:
            counts[metric] = runs[metric].to_numpy()
    activity = counts.groupby("label", observed=True, sort=False).mean(numeric_only=True)
    if "ended_early" in runs:
        g = runs.groupby("label", observed=True, sort=False)
        activity["ended early"] = g["ended_early"].mean()
        ended = runs[runs["ended_early"] > 0]
        activity["median end month"] = (
            ended.groupby("label", observed=True)["ended_month"].median().reindex(activity.index)
        )
    if "detection_lag_mean" in runs and "disallowed_spend" in runs:
        found = runs[runs["disallowed_spend"] > 0]
        activity["detection lag"] = (
            found.groupby("label", observed=True)["detection_lag_mean"]
            .median()
            .reindex(activity.index)
        )
        activity["runs with disallowed spend"] = (
            runs.assign(d=runs["disallowed_spend"] > 0)
            .groupby("label", observed=True)["d"]
            .mean()
            .reindex(activity.index)
        )
    # cases heard at each tier: first hearings (challenge outcome) and escalations (target)
    heard = pd.concat(
        [
            ev.loc[ev["action"] == "challenge", ["label", "run", "outcome"]].rename(
                columns={"outcome": "tier"}
            ),
            ev.loc[ev["action"] == "escalate", ["label", "run", "target"]].rename(
                columns={"target": "tier"}
            ),
        ]
    )
    n_runs = runs.groupby("label", observed=True).size()
    tiers = heard.groupby(["label", "tier"], observed=True, sort=False).size().rename("cases")
    tiers = tiers.reset_index()
    tiers["per_run"] = tiers["cases"] / tiers["label"].map(n_runs).astype(float)
    tiers["level"] = [
        _tier_level(data, lab, str(t)) for lab, t in zip(tiers["label"], tiers["tier"], strict=True)
    ]
    overturned = ev[(ev["action"] == "escalation_decision") & (ev["outcome"] == "overturned")]
    over = overturned.groupby(["label", "actor"], observed=True).size()
    tiers["overturned_per_run"] = [
        over.get((lab, t), 0) / n_runs[lab]
        for lab, t in zip(tiers["label"], tiers["tier"], strict=True)
    ]
    tiers = tiers.sort_values(["label", "level"], kind="stable")
    return {"activity": activity, "tiers": tiers}


def _tier_level(data: ReportData, label: str, tier: str) -> int:
    names = [t.get("name") for t in field(data.scenario(label), "governance.escalation.tiers", [])]
    return names.index(tier) + 1 if tier in names else 0


def cost_shift_spread(data: ReportData, shift: pd.DataFrame) -> pd.DataFrame:
    """Per design: the own lines' share of spend and their need-fair share (median, spread)."""
    g = shift.groupby("label", observed=True, sort=False)
    table = pd.concat(
        [spread(g["own_share"]).add_prefix("spend_"), spread(g["fair_share"]).add_prefix("fair_")],
        axis=1,
    )
    return table.reindex([lab for lab in data.labels if lab in table.index])
