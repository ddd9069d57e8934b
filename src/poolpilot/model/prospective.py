"""Prospective budgets: envelopes set in advance from a forecast, in-year adjustment, corridors.

Under a prospective budget the pool pays each line an envelope in monthly installments, set at
the start of each budget year from a forecast of need (with error and bias). A share of the
envelope goes upstream (prevention), and of what a line does not spend it keeps a share and
the rest goes upstream too; at year end risk corridors share the variance between payers and
providers, and envelopes are rebased. A line that delivers less than its envelope funds keeps
part of the difference (``kept_share``): the reason a hospital paid an envelope for its own
lines may cut its own volume (``HospitalHolder.withhold``), and why an under-service floor,
checked when reconciliation and assurance look (``floor_check_power``), claws the shortfall
back (``claw_back``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from poolpilot.model.agents import normals

if TYPE_CHECKING:
    from poolpilot.model.interface import Pilot


def forecast_envelope(m: Pilot, month: int) -> np.ndarray:
    """Annual envelopes per line, set in advance from a forecast of need."""
    b = m.design.budget
    lag = m.design.holder.data_lag_months
    hi = max(1, month - lag)
    lo = max(0, hi - 3)
    seen = m.line_need_history[lo:hi].mean(axis=0) if month > 1 else m.line_need_history[0]
    growth = 1.0 + m.mean_trend
    error = b.forecast_error * normals(m.lines)
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


def settle_year(m: Pilot, month: int) -> None:
    """Year end of a prospective budget: corridors settle, envelopes are rebased."""
    b = m.design.budget
    year = m.envelopes
    if b.corridor.enabled:
        bands = [(band.above, band.payer_share) for band in b.corridor.bands]
        for line in np.flatnonzero(year.ytd_envelope > 0):
            variance = (year.ytd_cost[line] - year.ytd_envelope[line]) / year.ytd_envelope[line]
            amount = corridor_settlement(variance, year.ytd_envelope[line], bands)
            name = m.line_names[line]
            if amount > 0:
                paid = m.books.pay_from_reserve(month, name, amount)
                year.burden_offset += paid
            elif amount < 0:
                back = min(-amount, year.provider_margin[line])
                year.provider_margin[line] -= back
                m.books.transfer(month, "corridor_settlement", name, "pool", back)
                m.accounts.credit(m.payer_active * (back / max(m.payer_active.sum(), 1)))
                paid = -back
            else:
                paid = 0.0
            if paid:
                m.events.log(
                    month=month,
                    actor="pool",
                    action="corridor_settlement",
                    target=name,
                    amount=paid,
                    rule="budget.corridor",
                    evidence=f"variance {variance:+.3f} of envelope",
                    outcome="settled",
                )
    year.new_year()


def adjust_in_year(m: Pilot, month: int) -> None:
    """In-year adjustment: when cost runs away from the envelope, reset the installments."""
    rule = m.design.budget.in_year_adjustment
    year = m.envelopes
    if not rule.enabled or year.adjusted:
        return
    env = year.ytd_envelope.sum()
    months_seen = (month - 1) % 12  # months of this budget year already delivered
    if env <= 0 or months_seen < 2:  # one month is not a trend
        return
    demand_cost = year.ytd_demand_cost.sum()
    with np.errstate(over="ignore"):  # a tiny envelope: an infinite variance, which triggers
        variance = (demand_cost - env) / env
    if abs(variance) <= rule.trigger:
        return
    run_rate = year.ytd_demand_cost / months_seen
    budget = m.monthly_budget()
    if run_rate.sum() > budget > 0:
        run_rate *= budget / run_rate.sum()
    old = m.allocation.sum()
    m.allocate(month, run_rate * m.line_active, "budget.in_year_adjustment", "run rate of need")
    year.adjusted = True
    m.events.log(
        month=month,
        actor=m.holder.name,
        action="in_year_adjustment",
        target="envelope",
        amount=m.allocation.sum() - old,
        rule="budget.in_year_adjustment.trigger",
        evidence=f"cost variance {variance:+.3f}",
        outcome="adjusted",
    )


def kept_share(m: Pilot) -> float:
    """The share of an underspend of its envelope a line keeps as margin (0 when retrospective:
    activity is reimbursed, so what is not delivered is not paid).

    This is the share ``delivery.deliver`` books as provider margin, ``1 - budget.savings_retained``
    (the rest goes upstream; docs/ODD.md 3.3.9).
    """
    b = m.design.budget
    return 1.0 - b.savings_retained if b.basis == "prospective" else 0.0


def floor_check_power(m: Pilot, month: int) -> float:
    """The chance this month's checks find an own line delivering below the under-service
    floor: a reconciliation (``reconciliation.self_assessment_power``) when a payer reconciled
    this month, an independent assurance review (``assurance.detection_power``) when one was
    due; independent checks, so ``1 - (1 - a)(1 - b)``; 0 when nothing looked."""
    gov = m.design.governance
    missed = 1.0
    if any(m.payer_active[p.seat] and p.last_reconciled == month for p in m.payers):
        missed *= 1.0 - gov.reconciliation.self_assessment_power
    if gov.assurance.enabled and month % gov.assurance.frequency_months == 0:
        missed *= 1.0 - gov.assurance.detection_power
    return 1.0 - missed


def claw_back(m: Pilot, month: int, line: int, shortfall: float) -> float:
    """Recover ``clawback_share`` of an own line's funded-but-undelivered ``shortfall`` (money)
    from the holder into the pool, back to the active payers by their contributions; the margin
    the line kept is reduced by as much. Returns the amount recovered."""
    share = m.design.governance.reconciliation.clawback_share
    back = m.books.transfer(month, "clawback", "holder", "pool", shortfall * share)
    weights = np.array([p.annual_contribution for p in m.payers]) * m.payer_active
    if weights.sum() > 0:
        m.accounts.credit(back * weights / weights.sum())
    margin = m.envelopes.provider_margin
    margin[line] = max(0.0, margin[line] - back)
    m.events.log(
        month=month,
        actor=m.holder.name,
        action="under_service_clawback",
        target=m.line_names[line],
        amount=back,
        rule="governance.under_service_floor",
        evidence=f"own line delivered below the floor; shortfall {shortfall:,.0f}",
        outcome="recovered",
    )
    return back
