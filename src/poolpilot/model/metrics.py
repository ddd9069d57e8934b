"""The metrics of a run, defined once, here (docs/ODD.md quotes these definitions).

Need and unmet need are weighted by unit cost, so a month of housing support and a nursing visit
count by what they cost to provide, and shares are comparable across services.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from poolpilot.model.pilot import PilotModel


#: Which way is better: lower, higher, closer to zero, or None (no better way: context).
LOWER, HIGHER, ZERO = "lower", "higher", "closer to zero"
Direction = Literal["lower", "higher", "closer to zero"] | None
#: How a metric is shown: share (%), pp (percentage points), money, index (0 to 1), count,
#: months, runs (share of runs: the mean of a 0/1 metric).
Kind = Literal["share", "pp", "money", "index", "count", "months", "runs"]


@dataclass(frozen=True)
class Metric:
    """One outcome of a run: what it means, its unit, which way is better, how it is shown,
    and ``label``, its plain name for readers who are not modellers ("Need left unmet").

    ``function`` computes it from a finished model; everything else (the report, the terminal
    summary, sensitivity, docs/ODD.md) reads the rest.
    """

    name: str
    definition: str
    function: Callable[[PilotModel], float] = field(repr=False)
    unit: str
    direction: Direction
    kind: Kind
    label: str

    def __call__(self, model: PilotModel) -> float:
        return self.function(model)


#: Below this a denominator (money or units) counts as nothing: a ratio of dust is 0, not inf.
DUST = 1e-9


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > DUST else 0.0


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


#: The items of each party's account (``account:<party>:<item>`` columns of runs.parquet).
ACCOUNT_ITEMS = (
    "paid_in",
    "returned",
    "shared",
    "acute",
    "delays",
    "contracts",
    "unfunded_work",
    "net_cost",
)


def accounts(m: PilotModel) -> dict[str, float]:
    """Each party's account over the run: what it paid in, what came back (refunds, and its
    part of what the pool and reserve hold at the end), savings shared with it, what it bore
    (acute events, boundary waits, contracts; providers: unfunded work), and its net cost.

    The net costs add up to the total system cost (``total_system_cost``).
    """
    p = m.parties
    h = m.month
    n_payers = m.n_payers
    left = m.books.balance("pool") + m.books.balance("reserve")
    owed = np.maximum(m.accounts.balance, 0.0)
    weights = owed if owed.sum() > DUST else p.paid_in[:n_payers]
    closing = np.zeros(len(p.names))
    if weights.sum() > DUST:
        closing[:n_payers] = left * weights / weights.sum()
    unfunded = np.zeros(len(p.names))
    unfunded[p.index("providers")] = _unfunded_burden(m)
    items = {
        "paid_in": p.paid_in,
        "returned": p.refunded + closing,
        "shared": p.shared,
        "acute": p.acute[:h].sum(axis=0) + p.acute_after,
        "delays": p.delays[:h].sum(axis=0),
        "contracts": p.contracts[:h].sum(axis=0),
        "unfunded_work": unfunded,
    }
    items["net_cost"] = (
        items["paid_in"]
        - items["returned"]
        - items["shared"]
        + items["acute"]
        + items["delays"]
        + items["contracts"]
        + items["unfunded_work"]
    )
    return {
        f"account:{party}:{item}": float(values[i])
        for i, party in enumerate(p.names)
        for item, values in items.items()
    }


def _unfunded_burden(m: PilotModel) -> float:
    return float(max(0.0, m.line_burden[: m.month].sum() - m.envelopes.burden_offset))


def _avoided_per_dollar(m: PilotModel) -> float:
    benchmark = m.parties.benchmark[: m.month].sum()  # the parties' shares add up to each event
    acute = (m.acute[: m.month] * m.acute_unit_cost).sum()
    return _ratio(benchmark - acute, m.line_spend[: m.month].sum())


def _total_system_cost(m: PilotModel) -> float:
    return math.fsum(v for k, v in accounts(m).items() if k.endswith(":net_cost"))


# One line per metric for its kind and label keeps this file short: not reformatted.
# fmt: off
#: The metrics, in order: the only place a metric is defined (the report, the terminal,
#: sensitivity and docs/ODD.md all read these).
METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in [
        Metric(
            "unmet_need_share",
            "need not met / total need over the horizon, weighted by unit cost",
            lambda m: _ratio(_cost_weighted(m, m.unmet), _cost_weighted(m, m.true_need)),
            unit="fraction of need cost",
            direction=LOWER,
            kind="share", label="Need left unmet",
        ),
        Metric(
            "community_unmet_need_share",
            "the same, community services only",
            lambda m: _ratio(
                _cost_weighted(m, m.unmet, True), _cost_weighted(m, m.true_need, True)
            ),
            unit="fraction of need cost",
            direction=LOWER,
            kind="share", label="Community need left unmet",
        ),
        Metric(
            "equity_gap",
            "largest minus smallest unmet-need share across segments",
            lambda m: _spread(_segment_unmet_shares(m)),
            unit="difference of fractions",
            direction=LOWER,
            kind="share", label="Gap in unmet need between groups",
        ),
        Metric(
            "demand_mismatch",
            "monthly mean of half the summed absolute difference between funded capacity shares "
            "and need shares by service (0 = aligned, 1 = disjoint)",
            _demand_mismatch,
            unit="fraction, 0 aligned to 1 disjoint",
            direction=LOWER,
            kind="share", label="Funding out of step with need",
        ),
        Metric(
            "cost_shift_index",
            "the holder's own lines' share of pooled spend minus their share of need cost",
            _cost_shift,
            unit="difference of fractions of pooled spend",
            direction=ZERO,
            kind="pp", label="Holder's excess share of spend",
        ),
        Metric(
            "unfunded_burden",
            "cost of service partners delivered without funding to match (net of corridor payments)",
            _unfunded_burden,
            unit="currency units",
            direction=LOWER,
            kind="money", label="Work providers did unfunded",
        ),
        Metric(
            "trust_initial_mean",
            "mean trust of partners (providers and payers) at the start",
            lambda m: float(_partner_trust(m, "initial").mean()),
            unit="trust, 0 to 1",
            direction=None,
            kind="index", label="Trust in the holder at the start",
        ),
        Metric(
            "trust_final_mean",
            "mean trust of partners at the end (leavers at their last value)",
            lambda m: float(_partner_trust(m, "final").mean()),
            unit="trust, 0 to 1",
            direction=HIGHER,
            kind="index", label="Trust in the holder at the end",
        ),
        Metric(
            "trust_min",
            "lowest trust of any partner in any month",
            lambda m: float(_partner_trust(m, "all").min()),
            unit="trust, 0 to 1",
            direction=HIGHER,
            kind="index", label="Lowest trust of any partner",
        ),
        Metric(
            "trust_erosion",
            "trust_initial_mean minus trust_final_mean (positive = eroded)",
            lambda m: float(
                _partner_trust(m, "initial").mean() - _partner_trust(m, "final").mean()
            ),
            unit="trust, -1 to 1",
            direction=LOWER,
            kind="index", label="Fall in trust over the pilot",
        ),
        Metric(
            "partner_exits",
            "providers and payers that left",
            lambda m: float(m.tally.counts["partner_exits"]),
            unit="per run",
            direction=LOWER,
            kind="count", label="Partners who left",
        ),
        Metric(
            "decision_latency_mean",
            "months from the proposal of a change to its effect (0 when none)",
            lambda m: m.tally.mean("decision_latency"),
            unit="months",
            direction=LOWER,
            kind="months", label="Months for a change to take effect",
        ),
        Metric(
            "disputes_raised",
            "challenges by providers and disputes over findings",
            lambda m: float(m.tally.counts["disputes_raised"]),
            unit="per run",
            direction=LOWER,
            kind="count", label="Challenges and disputes raised",
        ),
        Metric(
            "disputes_upheld",
            "challenges and disputes that changed the decision",
            lambda m: float(m.tally.counts["disputes_upheld"]),
            unit="per run",
            direction=LOWER,
            kind="count", label="Challenges and disputes upheld",
        ),
        Metric(
            "escalations",
            "steps up the escalation ladder",
            lambda m: float(m.tally.counts["escalations"]),
            unit="per run",
            direction=LOWER,
            kind="count", label="Escalations",
        ),
        Metric(
            "disallowed_spend",
            "spend charged to a payer outside its allowable uses",
            lambda m: float(m.tally.totals["disallowed_spend"]),
            unit="currency units",
            direction=LOWER,
            kind="money", label="Spend outside allowed uses",
        ),
        Metric(
            "clawbacks",
            "disallowed spend recovered",
            lambda m: float(m.tally.totals["clawbacks"]),
            unit="currency units",
            direction=LOWER,
            kind="money", label="Money clawed back",
        ),
        Metric(
            "detection_lag_mean",
            "months from disallowed spend arising to its detection (0 when none arose)",
            lambda m: m.tally.mean("detection_lag"),
            unit="months",
            direction=LOWER,
            kind="months", label="Months to detect disallowed spend",
        ),
        Metric(
            "financial_drift",
            "abs(cumulative cost incurred minus cumulative budget) / cumulative budget",
            lambda m: _ratio(
                abs(m.cost_incurred[: m.month].sum() - m.planned_spend[: m.month].sum()),
                m.planned_spend[: m.month].sum(),
            ),
            unit="fraction of cumulative budget",
            direction=LOWER,
            kind="share", label="Spend off budget",
        ),
        Metric(
            "year_end_shock",
            "largest single finding of disallowed spend (at a reconciliation, an assurance "
            "review, an outside or the final audit) / the pilot's initial annual funding",
            lambda m: float(m.tally.peaks["year_end_shock"]),
            unit="fraction of initial annual funding",
            direction=LOWER,
            kind="share", label="Largest single audit adjustment",
        ),
        Metric(
            "acute_events",
            "readmissions and crisis episodes",
            lambda m: float(m.acute[: m.month].sum()),
            unit="events per run",
            direction=LOWER,
            kind="count", label="Readmissions and crises",
        ),
        Metric(
            "acute_cost",
            "cost of acute events, wherever it lands",
            lambda m: float((m.acute[: m.month] * m.acute_unit_cost).sum()),
            unit="currency units",
            direction=LOWER,
            kind="money", label="Cost of readmissions and crises",
        ),
        Metric(
            "acute_cost_after_end",
            "cost of the acute events after the last month that its last months cause: those "
            "need left unmet raises, less those prevention paid for averts (their lags reach "
            "past the end); in total_system_cost",
            lambda m: float((m.acute_after * m.acute_unit_cost).sum()),
            unit="currency units",
            direction=LOWER,
            kind="money", label="Readmissions and crises after the end",
        ),
        Metric(
            "acute_cost_avoided_per_dollar",
            "acute cost below the benchmark (the same need at the status quo's cover of need) "
            "per dollar the pool paid for services",
            _avoided_per_dollar,
            unit="currency units per currency unit paid",
            direction=HIGHER,
            kind="index", label="Acute cost avoided per dollar of services",
        ),
        Metric(
            "ended_early",
            "1 if the pilot ended before its horizon (funding below the viability floor)",
            lambda m: float(m.ended_month is not None),
            unit="1 or 0; averaged: share of runs",
            direction=LOWER,
            kind="runs", label="Pilots that ended early",
        ),
        Metric(
            "ended_month",
            "month the pilot ended (the horizon when it ran to the end)",
            lambda m: float(m.ended_month if m.ended_month is not None else m.horizon),
            unit="month, 1 = first",
            direction=HIGHER,
            kind="months", label="Month the pilot ended",
        ),
        Metric(
            "total_system_cost",
            "what every party spent on the pathway and bore because of it: contributions less "
            "what came back, the pool's running cost once, providers' unfunded work, acute "
            "events (with those after the end that the last months cause), boundary waits "
            "and contracts (the sum of the parties' net costs)",
            _total_system_cost,
            unit="currency units",
            direction=LOWER,
            kind="money", label="Total system cost",
        ),
        Metric(
            "fragmentation_cost",
            "what running the pathway through several budgets cost: contracts without a pool "
            "and excess bed days of discharges waiting while budgets settle who pays",
            lambda m: float(
                m.parties.delays[: m.month].sum() + m.parties.contracts[: m.month].sum()
            ),
            unit="currency units",
            direction=LOWER,
            kind="money", label="Cost of fragmented funding",
        ),
        Metric(
            "delayed_bed_days",
            "excess hospital bed days of discharges waiting at the boundary between budgets",
            lambda m: float(m.tally.totals["delayed_bed_days"]),
            unit="bed days per run",
            direction=LOWER,
            kind="count", label="Bed days lost to delayed discharge",
        ),
        Metric(
            "shared_savings",
            "savings passed from the parties that bore acute costs to the contributing payers",
            lambda m: float(m.parties.shared[m.parties.shared > 0].sum()),
            unit="currency units",
            direction=None,
            kind="money", label="Savings shared with payers",
        ),
        Metric(
            "community_spend_share",
            "community services' share of pooled spend",
            lambda m: _ratio(
                m.line_spend[: m.month][:, m.line_community].sum(), m.line_spend[: m.month].sum()
            ),
            unit="fraction of pooled spend",
            direction=None,
            kind="share", label="Community services' share of spend",
        ),
        Metric(
            "under_delivery",
            "share of funded, demanded service that providers did not deliver (low effort)",
            lambda m: (
                1.0 - _ratio(m.funded_delivered[: m.month].sum(), m.funded_demand[: m.month].sum())
                if m.funded_demand[: m.month].sum() > 0
                else 0.0
            ),
            unit="fraction of funded demand",
            direction=LOWER,
            kind="share", label="Funded service not delivered",
        ),
        Metric(
            "upstream_spend",
            "upstream and preventive spend",
            lambda m: float(m.upstream.sum()),
            unit="currency units",
            direction=None,
            kind="money", label="Preventive spend",
        ),
        Metric(
            "pooled_funding",
            "contributions received by the pool (until it ended, if it ended early)",
            lambda m: float(m.contributed[: m.ended_month or m.month].sum()),
            unit="currency units",
            direction=None,
            kind="money", label="Money pooled",
        ),
        Metric(
            "running_cost",
            "cost of running the pool (administration)",
            lambda m: m.books.total("administration"),
            unit="currency units",
            direction=LOWER,
            kind="money", label="Cost of running the pool",
        ),
        Metric(
            "exit_refunds",
            "unspent pooled funds refunded to payers that left (governance.unwind)",
            lambda m: m.books.total("refund"),
            unit="currency units",
            direction=None,
            kind="money", label="Refunds to partners who left",
        ),
        Metric(
            "payer_trust_final_mean",
            "mean trust of payers at the end",
            lambda m: float(m.payer_trust.mean()),
            unit="trust, 0 to 1",
            direction=HIGHER,
            kind="index", label="Payers' trust at the end",
        ),
        Metric(
            "provider_trust_final_mean",
            "mean trust of providers at the end",
            lambda m: float(m.trust[~m.line_own].mean()) if (~m.line_own).any() else 0.0,
            unit="trust, 0 to 1",
            direction=HIGHER,
            kind="index", label="Providers' trust at the end",
        ),
        Metric(
            "payer_reductions",
            "renewals at which a payer reduced its contribution",
            lambda m: float(m.tally.counts["payer_reduce"]),
            unit="per run",
            direction=LOWER,
            kind="count", label="Payer contribution cuts",
        ),
        Metric(
            "payer_withdrawals",
            "renewals at which a payer withdrew",
            lambda m: float(m.tally.counts["payer_withdraw"]),
            unit="per run",
            direction=LOWER,
            kind="count", label="Payer withdrawals",
        ),
        Metric(
            "resolution_months_mean",
            "months from a challenge to its final answer (0 when none)",
            lambda m: m.tally.mean("resolution_months"),
            unit="months",
            direction=LOWER,
            kind="months", label="Months to settle a challenge",
        ),
        Metric(
            "approvals_requested",
            "changes put to a partner vote",
            lambda m: float(m.tally.counts["approvals_requested"]),
            unit="per run",
            direction=None,
            kind="count", label="Changes put to a partner vote",
        ),
        Metric(
            "approvals_rejected",
            "changes the partners voted down",
            lambda m: float(m.tally.counts["approvals_rejected"]),
            unit="per run",
            direction=None,
            kind="count", label="Changes voted down",
        ),
    ]
}
# fmt: on

#: The metric names, in order.
METRIC_NAMES = list(METRICS)


def compute(model: PilotModel) -> dict[str, float]:
    """Every metric of a finished run."""
    return {name: metric(model) for name, metric in METRICS.items()}
