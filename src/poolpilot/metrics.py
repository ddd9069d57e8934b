"""The metrics of a run, defined once, here (docs/ODD.md quotes these definitions).

Need and unmet need are weighted by unit cost, so a month of housing support and a nursing visit
count by what they cost to provide, and shares are comparable across services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from poolpilot.records import TIMESERIES_COLUMNS

if TYPE_CHECKING:
    from poolpilot.model import PilotModel


#: Below this a denominator (money or units) counts as nothing: a ratio of dust is 0, not inf.
DUST = 1e-9


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > DUST else 0.0


def _mean(values: list) -> float:
    return float(np.mean(values)) if values else 0.0


def _cost_weighted(m: PilotModel, table: np.ndarray, community_only: bool = False) -> float:
    uc = m.service_unit_cost
    if community_only:
        uc = uc * m.community_service
    return float((table[: m.month] * uc).sum())


def _spread(values: np.ndarray) -> float:
    return float(np.ptp(values)) if values.size else 0.0


def _segment_unmet_shares(m: PilotModel) -> np.ndarray:
    uc = m.service_unit_cost
    need = (m.true_need[: m.month] * uc).sum(axis=(0, 2))
    unmet = (m.unmet[: m.month] * uc).sum(axis=(0, 2))
    return unmet[need > 0] / need[need > 0]


def _demand_mismatch(m: PilotModel) -> float:
    uc = m.service_unit_cost
    need = m.true_need[: m.month].sum(axis=1) * uc  # months x services
    funded = m.funded_cost_by_service[: m.month]
    need_share = need / np.maximum(need.sum(axis=1, keepdims=True), 1e-12)
    funded_share = funded / np.maximum(funded.sum(axis=1, keepdims=True), 1e-12)
    return float(0.5 * np.abs(funded_share - need_share).sum(axis=1).mean())


def _cost_shift(m: PilotModel) -> float:
    if not m.line_own.any():
        return 0.0
    spend = m.line_spend[: m.month].sum(axis=0)
    need = (m.line_need_history[: m.month] * m.line_unit_cost).sum(axis=0)
    return _ratio(spend[m.line_own].sum(), spend.sum()) - _ratio(need[m.line_own].sum(), need.sum())


def _partner_trust(m: PilotModel, which: str) -> np.ndarray:
    partners = ~m.line_own
    history = np.concatenate(
        [m.trust_history[: m.month][:, partners], m.payer_trust_history[: m.month]], axis=1
    )
    initial = np.concatenate([m.trust_initial[partners], m.payer_initial])
    return {"initial": initial, "final": history[-1], "all": history}[which]


#: name -> (definition, function of the finished model). The only place a metric is defined.
METRICS: dict[str, tuple[str, Callable[[PilotModel], float]]] = {
    "unmet_need_share": (
        "need not met / total need over the horizon, weighted by unit cost",
        lambda m: _ratio(_cost_weighted(m, m.unmet), _cost_weighted(m, m.true_need)),
    ),
    "community_unmet_need_share": (
        "the same, community services only",
        lambda m: _ratio(_cost_weighted(m, m.unmet, True), _cost_weighted(m, m.true_need, True)),
    ),
    "equity_gap": (
        "largest minus smallest unmet-need share across segments",
        lambda m: _spread(_segment_unmet_shares(m)),
    ),
    "demand_mismatch": (
        "monthly mean of half the summed absolute difference between funded capacity shares "
        "and need shares by service (0 = aligned, 1 = disjoint)",
        _demand_mismatch,
    ),
    "cost_shift_index": (
        "the holder's own lines' share of pooled spend minus their share of need cost",
        _cost_shift,
    ),
    "unfunded_burden": (
        "cost of service partners delivered without funding to match (net of corridor payments)",
        lambda m: float(max(0.0, m.line_burden[: m.month].sum() - m.burden_offset)),
    ),
    "trust_initial_mean": (
        "mean trust of partners (providers and payers) at the start",
        lambda m: float(_partner_trust(m, "initial").mean()),
    ),
    "trust_final_mean": (
        "mean trust of partners at the end (leavers at their last value)",
        lambda m: float(_partner_trust(m, "final").mean()),
    ),
    "trust_min": (
        "lowest trust of any partner in any month",
        lambda m: float(_partner_trust(m, "all").min()),
    ),
    "trust_erosion": (
        "trust_initial_mean minus trust_final_mean (positive = eroded)",
        lambda m: float(_partner_trust(m, "initial").mean() - _partner_trust(m, "final").mean()),
    ),
    "partner_exits": ("providers and payers that left", lambda m: float(m.counts["partner_exits"])),
    "decision_latency_mean": (
        "months from the proposal of a change to its effect (0 when none)",
        lambda m: _mean(m.latencies),
    ),
    "disputes_raised": (
        "challenges by providers and disputes over findings",
        lambda m: float(m.counts["disputes_raised"]),
    ),
    "disputes_upheld": (
        "challenges and disputes that changed the decision",
        lambda m: float(m.counts["disputes_upheld"]),
    ),
    "escalations": ("steps up the escalation ladder", lambda m: float(m.counts["escalations"])),
    "disallowed_spend": (
        "spend charged to a payer outside its allowable uses",
        lambda m: float(m.totals["disallowed_spend"]),
    ),
    "clawbacks": ("disallowed spend recovered", lambda m: float(m.totals["clawbacks"])),
    "detection_lag_mean": (
        "months from disallowed spend arising to its detection (0 when none arose)",
        lambda m: _mean(m.detection_lags),
    ),
    "financial_drift": (
        "abs(cumulative cost incurred minus cumulative budget) / cumulative budget",
        lambda m: _ratio(
            abs(m.cost_incurred[: m.month].sum() - m.planned_spend[: m.month].sum()),
            m.planned_spend[: m.month].sum(),
        ),
    ),
    "year_end_shock": (
        "largest single reconciliation adjustment / annual budget",
        lambda m: float(m.year_end_shock),
    ),
    "acute_events": ("readmissions and crisis episodes", lambda m: float(m.acute[: m.month].sum())),
    "acute_cost": (
        "cost of acute events, wherever it lands",
        lambda m: float((m.acute[: m.month] * m.acute_unit_cost).sum()),
    ),
    "ended_early": (
        "1 if the pilot ended before its horizon (funding below the viability floor)",
        lambda m: float(m.ended_month is not None),
    ),
    "ended_month": (
        "month the pilot ended (the horizon when it ran to the end)",
        lambda m: float(m.ended_month if m.ended_month is not None else m.horizon),
    ),
    "total_system_cost": (
        "everything spent inside and outside the pool: pathway cost incurred, administration, "
        "and acute cost",
        lambda m: float(
            m.cost_incurred[: m.month].sum()
            + m.ledger.totals["administration"] / 100
            + (m.acute[: m.month] * m.acute_unit_cost).sum()
        ),
    ),
    # --- further metrics the claims and the report use ------------------------------------
    "community_spend_share": (
        "community services' share of pooled spend",
        lambda m: _ratio(
            m.line_spend[: m.month][:, m.line_community].sum(), m.line_spend[: m.month].sum()
        ),
    ),
    "under_delivery": (
        "share of funded, demanded service that providers did not deliver (low effort)",
        lambda m: (
            1.0 - _ratio(m.funded_delivered[: m.month].sum(), m.funded_demand[: m.month].sum())
            if m.funded_demand[: m.month].sum() > 0
            else 0.0
        ),
    ),
    "upstream_spend": ("upstream and preventive spend", lambda m: float(m.upstream.sum())),
    "pooled_funding": (
        "contributions received by the pool",
        lambda m: m.ledger.totals["contribution"] / 100,
    ),
    "running_cost": (
        "cost of running the pool (administration)",
        lambda m: m.ledger.totals["administration"] / 100,
    ),
    "payer_trust_final_mean": (
        "mean trust of payers at the end",
        lambda m: float(m.payer_trust.mean()),
    ),
    "provider_trust_final_mean": (
        "mean trust of providers at the end",
        lambda m: float(m.trust[~m.line_own].mean()) if (~m.line_own).any() else 0.0,
    ),
    "payer_reductions": (
        "renewals at which a payer reduced its contribution",
        lambda m: float(m.counts["payer_reduce"]),
    ),
    "payer_withdrawals": (
        "renewals at which a payer withdrew",
        lambda m: float(m.counts["payer_withdraw"]),
    ),
    "resolution_months_mean": (
        "months from a challenge to its final answer (0 when none)",
        lambda m: _mean(m.resolution_months),
    ),
    "approvals_requested": (
        "changes put to a partner vote",
        lambda m: float(m.counts["approvals_requested"]),
    ),
    "approvals_rejected": (
        "changes the partners voted down",
        lambda m: float(m.counts["approvals_rejected"]),
    ),
}

#: The metric names, in order.
METRIC_NAMES = list(METRICS)


def compute(model: PilotModel) -> dict[str, float]:
    """Every metric of a finished run."""
    return {name: fn(model) for name, (_, fn) in METRICS.items()}


def timeseries(m: PilotModel, run: str) -> pd.DataFrame:
    """The tidy monthly series (run, month, series, partner, value) of a finished run."""
    months = np.arange(1, m.month + 1)
    uc = m.service_unit_cost
    need = m.true_need[: m.month].sum(axis=1) * uc
    unmet = m.unmet[: m.month].sum(axis=1) * uc
    with np.errstate(divide="ignore", invalid="ignore"):
        unmet_share = np.where(need > 0, unmet / need, 0.0)
    partners = [i for i in range(m.n_lines) if not m.line_own[i]]
    blocks = [
        ("trust", [m.line_names[i] for i in partners], m.trust_history[: m.month][:, partners]),
        ("trust", m.payer_names, m.payer_trust_history[: m.month]),
        ("spend", m.line_names, m.line_spend[: m.month]),
        ("payer_spend", m.payer_names, m.payer_spend[: m.month]),
        ("unmet_need_share", m.service_names, unmet_share),
        ("need_cost", m.service_names, need),
        ("funded", m.service_names, m.funded_cost_by_service[: m.month]),
        ("acute_events", m.acute_names, m.acute[: m.month]),
        ("balance", ["pool", "reserve"], m.pool_history[: m.month]),
        ("cumulative_spend", ["pool"], np.cumsum(m.cost_incurred[: m.month])[:, None]),
        ("cumulative_budget", ["pool"], np.cumsum(m.planned_spend[: m.month])[:, None]),
    ]
    series, partner, values = [], [], []
    for name, labels, table in blocks:
        if table.size == 0:
            continue
        series.append(np.repeat(name, table.size))
        partner.append(np.tile(np.asarray(labels, dtype=object), len(months)))
        values.append(table.reshape(-1))
    n = sum(len(v) for v in values)
    month_col = np.concatenate(
        [np.repeat(months, len(labels)) for _, labels, t in blocks if t.size]
    )
    frame = pd.DataFrame(
        {
            "run": np.repeat(run, n),
            "month": month_col.astype("int64"),
            "series": np.concatenate(series),
            "partner": np.concatenate(partner),
            "value": np.concatenate(values).astype("float64"),
        },
        columns=TIMESERIES_COLUMNS,
    )
    return frame
