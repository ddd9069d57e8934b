"""Payers and budgets: contributions, attribution of spend, reconciliation, assurance,
prospective envelopes and risk corridors.

Attribution rule (stated in docs/ODD.md): spend on a service is charged first to earmarked payers
that allow it, then pro rata (by unspent balance) to the other payers that allow it. Spend no
allowing payer can cover is caught by compliance validation with probability ``strictness``
(and not paid); otherwise it is charged pro rata to the remaining payers and is *disallowed*.
When approvals are informal (no decision-rights matrix), a random share of spend is miscoded to
a payer that does not allow it: disallowed spend happens, sometimes.

Disallowed spend waits, undetected, as *vintages* (month, amount) per payer until a
reconciliation investigation, an assurance review, an outside audit or the final audit finds
it. The later it is found, the larger it has grown and the harder the hit to trust.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from poolpilot.model.pilot import PilotModel

#: Least loss of trust (relative) when an outside audit exposes hidden problems in public,
#: whatever the amount (seed 002: problems exposed by audit or media often end pilots).
PUBLIC_EXPOSURE = 0.3


def attribute(model: PilotModel, month: int, spend: np.ndarray) -> np.ndarray:
    """Charge this month's spend by service to payers; returns the amount blocked per service.

    Plain Python floats on purpose: a handful of payers and services, every month of every
    run, where numpy's per-call overhead would cost more than the arithmetic.
    """
    m = model
    rules = m.design.governance.validation
    n = m.n_payers
    active = m.payer_active.tolist()
    balance = [
        max(b, 0.0) if a else 0.0 for b, a in zip(m.payer_balance.tolist(), active, strict=True)
    ]
    taken = [0.0] * n
    allows = m.payer_allows_lists
    earmarked = m.payer_earmarked.tolist()
    blocked = np.zeros_like(spend)
    for k, amount in enumerate(spend.tolist()):
        if amount <= 0:
            continue
        left = amount
        allowed = allows[k]
        for group in ([i for i in allowed if earmarked[i]], allowed):
            room = sum(balance[i] for i in group)
            if left <= 0 or room <= 0:
                continue
            share = min(left, room) / room
            for i in group:
                take = balance[i] * share
                balance[i] -= take
                taken[i] += take
                left -= take
        if left <= 1e-9:
            continue
        total = sum(balance)
        if m.rng.random() < rules.strictness or total <= 0:
            blocked[k] = left
            m.events.log(
                month,
                "validation",
                "block",
                m.service_names[k],
                left,
                "validation.strictness",
                "no allowing payer has funds",
                "blocked",
            )
            continue
        charge = np.array([b / total * left for b in balance])
        for i in range(n):
            balance[i] -= charge[i]
        disallow(m, month, charge)
    if any(taken):
        charged = np.array(taken)
        m.payer_balance -= charged
        m.payer_period_spend += charged
    if not m.design.governance.decision_rights.enabled:
        miscode(m, month, spend)
    return blocked


def disallow(m: PilotModel, month: int, charge: np.ndarray) -> None:
    """Charge spend to payers whose rules do not allow it: it waits to be found."""
    m.payer_balance -= charge
    m.payer_period_spend += charge
    for seat in np.flatnonzero(charge > 1e-9):
        m.vintages[seat].append([month, float(charge[seat])])
        m.totals["disallowed_spend"] += float(charge[seat])


def miscode(m: PilotModel, month: int, spend: np.ndarray) -> None:
    """Informal approvals: a random share of spend is charged to a payer that does not allow it."""
    rules = m.design.governance.validation
    share = rules.miscoding_rate * (1.0 - rules.strictness) * m.rng.uniform(0.0, 2.0)
    services = np.flatnonzero(spend > 0)
    if share <= 0 or services.size == 0:
        return
    k = int(m.rng.choice(services))
    wrong = np.flatnonzero(~m.payer_allows[:, k] & m.payer_active)
    right = m.payer_allows[:, k] & m.payer_active
    if wrong.size == 0 or not right.any():
        return
    seat = int(m.rng.choice(wrong))
    amount = float(spend[k]) * share
    # move the charge from the payers that allow it to the one that does not
    m.payer_balance += right * (amount / right.sum())
    m.payer_period_spend -= right * (amount / right.sum())
    charge = np.zeros(m.n_payers)
    charge[seat] = amount
    disallow(m, month, charge)


def find(m: PilotModel, month: int, seat: int, power: float, by: str) -> float:
    """Look for a payer's hidden disallowed spend; recover what is found. Returns the amount."""
    found = 0.0
    kept = []
    lags = []
    for vintage in m.vintages[seat]:
        if power >= 1.0 or m.rng.random() < power:
            found += vintage[1]
            lags.append(month - vintage[0])
        else:
            kept.append(vintage)
    m.vintages[seat] = kept
    m.detection_lags.extend(lags)
    if found <= 0:
        return 0.0
    payer = m.payer_names[seat]
    m.events.log(month, by, "finding", payer, found, f"{by}", "disallowed spend found", "found")
    rules = m.design.governance
    disputed = m.rng.random() < 0.5
    upheld = True
    if disputed:  # the holder contests the finding; the dispute is resolved and documented
        m.counts["disputes_raised"] += 1
        upheld = m.rng.random() < 0.8
        m.counts["disputes_upheld"] += not upheld  # the dispute changed the decision
        m.events.log(
            month,
            m.holder_name,
            "dispute",
            payer,
            found,
            "reconciliation.dispute",
            "holder contests the finding",
            "clawback upheld" if upheld else "waived",
        )
    if upheld:
        recovered = found * rules.reconciliation.clawback_share
        m.transfer(month, "clawback", "holder", "pool", recovered)
        m.payer_balance[seat] += recovered
        m.totals["clawbacks"] += recovered
        m.events.log(
            month,
            m.holder_name,
            "clawback",
            payer,
            recovered,
            "reconciliation.clawback_share",
            f"found by {by}",
            "recovered",
        )
    m.year_end_shock = max(m.year_end_shock, found / max(m.annual_budget, 1.0))
    # surprise: larger and later findings hit harder; findings surfaced by assurance less so
    lag = float(np.average(lags, weights=None)) if lags else 0.0
    size = 2.0 * found / max(m.payers[seat].annual_contribution, 1.0) * (1.0 + lag / 12.0)
    if by == "assurance":  # surfaced by the pilot's own safeguards
        size *= 0.5
    elif by == "outside audit":  # exposed in public: the hit is reputational as well
        size = max(3.0 * size, PUBLIC_EXPOSURE)
        for payer in m.payers:
            payer.exposed = True
    if m.payer_active[seat]:  # a payer that has left keeps its last trust
        m.payer_trust[seat] *= 1.0 - min(0.6, size)
    if by in ("assurance", "outside audit"):  # findings are reported to all other payers
        others = m.payer_active.copy()
        others[seat] = False
        m.payer_trust *= 1.0 - min(0.6 if by == "outside audit" else 0.3, 0.5 * size) * others
    return found


def reconcile(m: PilotModel, month: int) -> None:
    """Each payer on its cadence: a variance beyond the threshold triggers an investigation."""
    rules = m.design.governance.reconciliation
    for payer in m.payers:
        seat = payer.seat
        if not m.payer_active[seat] or month - payer.last_reconciled < payer.cadence:
            continue
        payer.last_reconciled = month
        hidden = sum(v[1] for v in m.vintages[seat])
        spent = max(m.payer_period_spend[seat], 1.0)
        variance = hidden / spent
        m.payer_period_spend[seat] = 0.0
        statements = m.design.governance.financial_statements
        m.events.log(
            month,
            payer.name,
            "reconciliation",
            "pool",
            hidden if statements else 0.0,
            f"payers.{payer.name}.reconciliation",
            "financial statement" if statements else "summary only",
            "investigate" if variance > rules.variance_threshold else "within threshold",
        )
        m.statement_seen[seat] = statements
        if variance > rules.variance_threshold:
            find(m, month, seat, rules.self_assessment_power, "reconciliation")


def assure(m: PilotModel, month: int) -> None:
    """Independent assurance reviews; and, without them, the occasional outside audit."""
    gov = m.design.governance
    if gov.assurance.enabled and month % gov.assurance.frequency_months == 0:
        m.events.log(
            month,
            "assurance",
            "review",
            "pool",
            0.0,
            "assurance.frequency_months",
            "independent review of compliance and data",
            "reported to all payers",
        )
        for seat in np.flatnonzero(m.payer_active):
            find(m, month, seat, gov.assurance.detection_power, "assurance")
    if any(m.vintages) and m.rng.random() < gov.reconciliation.external_audit_probability:
        for seat in np.flatnonzero(m.payer_active):
            find(m, month, seat, 1.0, "outside audit")


# --- prospective budgets ----------------------------------------------------------------


def forecast_envelope(m: PilotModel, month: int) -> np.ndarray:
    """Annual envelopes per line, set in advance from a forecast of need."""
    b = m.design.budget
    lag = m.design.holder.data_lag_months
    hi = max(1, month - lag)
    lo = max(0, hi - 3)
    seen = m.line_need_history[lo:hi].mean(axis=0) if month > 1 else m.line_need_history[0]
    growth = 1.0 + m.mean_trend
    error = b.forecast_error * m.rng.standard_normal(m.n_lines)
    annual = 12.0 * seen * m.line_unit_cost * growth * (1.0 + b.forecast_bias + error)
    return np.maximum(annual, 0.0) * m.line_active


def corridor_settlement(
    variance: float, envelope: float, bands: list[tuple[float, float]]
) -> float:
    """The payers' share of a variance beyond the corridor bands (positive: payers pay).

    ``variance`` is (cost - envelope) / envelope; each band ``(above, payer_share)`` applies to
    the part of the variance between its start and the next band's start.
    """
    size = abs(variance)
    total = 0.0
    for i, (above, share) in enumerate(bands):
        top = bands[i + 1][0] if i + 1 < len(bands) else float("inf")
        if size > above:
            total += (min(size, top) - above) * share
    return float(np.sign(variance) * total * envelope)


def settle_year(m: PilotModel, month: int) -> None:
    """Year end of a prospective budget: corridors settle, envelopes are rebased."""
    b = m.design.budget
    if b.corridor.enabled:
        bands = [(band.above, band.payer_share) for band in b.corridor.bands]
        for line in np.flatnonzero(m.ytd_envelope > 0):
            variance = (m.ytd_cost[line] - m.ytd_envelope[line]) / m.ytd_envelope[line]
            amount = corridor_settlement(variance, m.ytd_envelope[line], bands)
            name = m.line_names[line]
            if amount > 0:
                paid = m.pay_from_reserve(month, name, amount)
                m.burden_offset += paid
            elif amount < 0:
                back = min(-amount, m.provider_margin[line])
                m.provider_margin[line] -= back
                m.transfer(month, "corridor_settlement", name, "pool", back)
                m.payer_balance += m.payer_active * (back / max(m.payer_active.sum(), 1))
                paid = -back
            else:
                paid = 0.0
            if paid:
                m.events.log(
                    month,
                    "pool",
                    "corridor_settlement",
                    name,
                    paid,
                    "budget.corridor",
                    f"variance {variance:+.3f} of envelope",
                    "settled",
                )
    m.ytd_cost[:] = 0.0
    m.ytd_envelope[:] = 0.0
    m.ytd_demand_cost[:] = 0.0


def adjust_in_year(m: PilotModel, month: int) -> None:
    """In-year adjustment: when cost runs away from the envelope, reset the installments."""
    rule = m.design.budget.in_year_adjustment
    if not rule.enabled or m.adjusted_this_year:
        return
    env = m.ytd_envelope.sum()
    months_seen = (month - 1) % 12  # months of this budget year already delivered
    if env <= 0 or months_seen < 2:  # one month is not a trend
        return
    demand_cost = m.ytd_demand_cost.sum()
    variance = (demand_cost - env) / env
    if abs(variance) <= rule.trigger:
        return
    run_rate = m.ytd_demand_cost / months_seen
    budget = m.monthly_budget()
    if run_rate.sum() > budget > 0:
        run_rate *= budget / run_rate.sum()
    old = m.allocation.sum()
    m.allocate(month, run_rate * m.line_active, "budget.in_year_adjustment", "run rate of need")
    m.adjusted_this_year = True
    m.events.log(
        month,
        m.holder_name,
        "in_year_adjustment",
        "envelope",
        m.allocation.sum() - old,
        "budget.in_year_adjustment.trigger",
        f"cost variance {variance:+.3f}",
        "adjusted",
    )
