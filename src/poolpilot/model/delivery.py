"""Delivery: providers deliver what funded capacity and effort allow, and the pool pays.

Step 8 of the month (docs/ODD.md): effort falls with low trust, disengagement and open
challenges; the holder's own lines may withhold; partners carry unfunded work out of their own
reserves; the month's bill is charged to payers (``attribution.py``) and paid out of the pool.
Numpy over the lines, with no more calls than the arithmetic needs: this runs every month of
every run, on arrays of a few lines, where each call's overhead outweighs its arithmetic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from poolpilot.model import attribution, trust
from poolpilot.model.smallarrays import clip_value, maximum, minimum, pairwise_sum, some

if TYPE_CHECKING:
    from poolpilot.model.interface import Pilot


def pay_routes(m: Pilot) -> list[tuple[str, str]]:
    """Per line, the kind of ledger entry paying it and the account paid (set up once)."""
    return [
        ("own_line_spend", "holder") if own else ("payment", name)
        for own, name in zip(m.line_own.tolist(), m.line_names, strict=True)
    ]


def deliver(m: Pilot, t: int) -> np.ndarray:
    """What each line delivers this month (funded and unfunded units); the pool pays."""
    s = m.design
    prospective = m.envelopes_set
    active = m.line_active
    uc = m.line_unit_cost
    upstream_share = s.budget.upstream_share * (1.0 if prospective else m.prevention_stake)
    enforced = m.contracted_effort
    effort = trust.effort(enforced, m.trust, s.trust.effort_sensitivity, m.disengaged)
    effort = m.holder.contract_effort(enforced, effort)
    demand, funded_units, funded, spare, m.funded_demand[t - 1] = _supply(
        m.line_need_history[t - 1],
        active,
        effort,
        m.disputes.open_challenge,
        s.governance.challenges.effort_cost,
        m.line_capacity,
        m.allocation,
        upstream_share,
        uc,
    )
    # what the holder's own lines withhold, and the demand it leaks to partners' lines
    withheld, leaked = m.holder.withhold(t, demand, funded_units, funded, spare)
    funded, unfunded, m.line_reserve, bill, by_service, m.funded_delivered[t - 1] = _bill(
        demand,
        funded,
        withheld,
        leaked,
        spare,
        active,
        s.trust.unfunded_delivery,
        m.line_reserve,
        uc,
        m.allocation,
        upstream_share,
        prospective,
        m.line_service,
        len(m.service_names),
    )
    before = m.accounts.balance.copy()
    blocked = attribution.attribute(m, t, by_service)
    m.payer_spend[t - 1] = before - m.accounts.balance
    wanted = bill
    if some(blocked):  # otherwise every line keeps its whole bill (1 - 0 / x is exactly 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            keep = np.where(by_service > 0, 1.0 - blocked / by_service, 1.0)
        wanted = bill * keep[m.line_service]
    paid = np.array(m.books.pay_each(t, m.pay_routes, wanted.tolist()))
    retained = s.budget.savings_retained
    out = _settle(paid, funded, unfunded, uc, upstream_share, prospective, retained)
    upstream, m.cost_incurred[t - 1], burden, margin, booked = out
    m.upstream[t - 1] = upstream
    allocated = m.allocation * active
    if prospective:
        m.envelopes.keep(margin)
        m.envelopes.book(booked, allocated, demand * uc)
    m.planned_spend[t - 1] = pairwise_sum(allocated)
    m.line_spend[t - 1] = paid
    # a provider rebuilds its reserve from the surplus on what it is paid, never beyond it
    rebuilt = m.line_reserve + s.trust.reserve_rebuild_share * paid
    m.line_reserve = np.minimum(rebuilt, m.line_reserve_size)
    m.line_burden[t - 1] = np.maximum(burden, 0.0)
    m.funded_cost_by_service[t - 1] = np.bincount(
        m.line_service, weights=allocated, minlength=len(m.service_names)
    )
    return funded + unfunded


@njit(cache=True)
def _supply(need, active, effort, challenged, effort_cost, capacity, allocation, upstream, uc):
    """Demand, the units funding buys, what effort delivers of them, and spare capacity; and
    the cost of the demand funding covers. Effort falls with an open challenge, never below 0."""
    n = need.shape[0]
    demand = need * active
    funded_units = np.empty(n)
    funded = np.empty(n)
    spare = np.empty(n)
    covered = np.empty(n)
    any_challenged = challenged.any()  # otherwise nothing is taken off (x - 0 is x)
    for i in range(n):
        e = effort[i] - effort_cost * challenged[i] if any_challenged else effort[i]
        e = maximum(e, 0.0)
        funded_units[i] = minimum(capacity[i], allocation[i] * (1.0 - upstream) / uc[i])
        funded[i] = minimum(demand[i], funded_units[i] * e) * active[i]
        covered[i] = minimum(demand[i], funded_units[i]) * active[i] * uc[i]
        spare[i] = maximum(capacity[i] * e - funded[i], 0.0)
    return demand, funded_units, funded, spare, pairwise_sum(covered)


@njit(cache=True)
def _bill(
    demand,
    funded,
    withheld,
    leaked,
    spare,
    active,
    unfunded_delivery,
    reserve,
    uc,
    allocation,
    upstream,
    prospective,
    line_service,
    n_services,
):
    """Funded and unfunded units delivered, the reserves left, each line's bill and the bill
    by service, and the cost of funded work delivered.

    Unfunded work comes out of the provider's own reserve, and stops when it is spent. A
    prospective envelope is paid in installments; retrospective pays for activity, and for
    the prevention it funds as far as the savings land on whoever decides.
    """
    n = demand.shape[0]
    delivered = np.empty(n)
    unfunded = np.empty(n)
    left = np.empty(n)
    bill = np.empty(n)
    by_service = np.zeros(n_services)
    for i in range(n):
        delivered[i] = funded[i] - withheld[i]
        u = minimum(unfunded_delivery * (demand[i] - funded[i] + leaked[i]), spare[i])
        unfunded[i] = clip_value(u * active[i], 0.0, reserve[i] / uc[i])
        left[i] = reserve[i] - unfunded[i] * uc[i]
        allocated = allocation[i] * active[i]
        if prospective:
            bill[i] = allocated
        else:
            bill[i] = delivered[i] * uc[i] + allocation[i] * upstream * active[i]
        by_service[line_service[i]] += bill[i]
    return delivered, unfunded, left, bill, by_service, pairwise_sum(delivered * uc)


@njit(cache=True)
def _settle(paid, funded, unfunded, uc, upstream_share, prospective, retained):
    """What the pool's payments went to: prevention upstream, and the cost providers incurred
    and the burden they carried (unfunded work, and funded work paid short).

    Under a prospective envelope a provider keeps ``1 - retained`` of the room its envelope
    leaves over the cost of funded work, and the rest goes upstream. Returns the upstream
    total, the cost incurred, each line's burden, margin kept and cost booked to its year.
    """
    n = paid.shape[0]
    upstream = np.empty(n)
    burden = np.empty(n)
    margin = np.zeros(n)
    booked = np.zeros(n)
    for i in range(n):
        funded_cost = funded[i] * uc[i]
        if prospective:
            up = paid[i] * upstream_share
            room = maximum(paid[i] * (1.0 - upstream_share) - funded_cost, 0.0)
            up += room * retained
            margin[i] = room * (1.0 - retained)
            short = maximum(funded_cost - paid[i] * (1.0 - upstream_share), 0.0)
            burden[i] = unfunded[i] * uc[i] + short
            upstream[i] = up
            booked[i] = funded_cost + up + burden[i]
        else:
            service_paid = minimum(paid[i], funded_cost)
            upstream[i] = paid[i] - service_paid
            burden[i] = unfunded[i] * uc[i] + (funded_cost - service_paid)
    if prospective:
        cost = pairwise_sum(funded * uc + upstream) + pairwise_sum(burden)
    else:
        cost = pairwise_sum(paid) + pairwise_sum(burden)
    return pairwise_sum(upstream), cost, burden, margin, booked
