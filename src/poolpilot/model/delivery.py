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

from poolpilot.model import attribution, trust
from poolpilot.model.smallarrays import clip, some

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
    demand = m.line_need_history[t - 1] * active
    uc = m.line_unit_cost
    upstream_share = s.budget.upstream_share * (1.0 if prospective else m.prevention_stake)
    enforced = m.contracted_effort
    effort = trust.effort(enforced, m.trust, s.trust.effort_sensitivity, m.disengaged)
    effort = m.holder.contract_effort(enforced, effort)
    challenged = m.disputes.open_challenge
    if some(challenged):  # otherwise nothing is taken off (x - 0 is x)
        effort = effort - s.governance.challenges.effort_cost * challenged
    effort = np.maximum(effort, 0.0)
    funded_units = np.minimum(m.line_capacity, m.allocation * (1.0 - upstream_share) / uc)
    funded = np.minimum(demand, funded_units * effort) * active
    m.funded_demand[t - 1] = (np.minimum(demand, funded_units) * active * uc).sum()
    spare = np.maximum(m.line_capacity * effort - funded, 0.0)
    # what the holder's own lines withhold, and the demand it leaks to partners' lines
    withheld, leaked = m.holder.withhold(t, demand, funded_units, funded, spare)
    m.funded_delivered[t - 1] = ((funded - withheld) * uc).sum()
    unfunded = np.minimum(s.trust.unfunded_delivery * (demand - funded + leaked), spare) * active
    funded = funded - withheld
    # unfunded work comes out of the provider's own reserve, and stops when it is spent
    unfunded = clip(unfunded, 0.0, m.line_reserve / uc)
    m.line_reserve -= unfunded * uc
    n_svc = len(m.service_names)
    funded_cost = funded * uc
    allocated = m.allocation * active
    # a prospective envelope is paid in installments; retrospective pays for activity, and
    # for the prevention it funds as far as the savings land on whoever decides
    bill = allocated if prospective else funded_cost + m.allocation * upstream_share * active
    by_service = np.bincount(m.line_service, weights=bill, minlength=n_svc)
    before = m.accounts.balance.copy()
    blocked = attribution.attribute(m, t, by_service)
    m.payer_spend[t - 1] = before - m.accounts.balance
    wanted = bill
    if some(blocked):  # otherwise every line keeps its whole bill (1 - 0 / x is exactly 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            keep = np.where(by_service > 0, 1.0 - blocked / by_service, 1.0)
        wanted = bill * keep[m.line_service]
    paid = np.array(m.books.pay_each(t, m.pay_routes, wanted.tolist()))
    if prospective:
        upstream = paid * upstream_share
        room = np.maximum(paid * (1.0 - upstream_share) - funded_cost, 0.0)
        retained = s.budget.savings_retained
        upstream += room * retained
        m.envelopes.keep(room * (1.0 - retained))
        short = np.maximum(funded_cost - paid * (1.0 - upstream_share), 0.0)
        burden = unfunded * uc + short
        m.upstream[t - 1] = upstream.sum()
        m.envelopes.book(funded_cost + upstream + burden, allocated, demand * uc)
        m.cost_incurred[t - 1] = (funded_cost + upstream).sum() + burden.sum()
    else:
        service_paid = np.minimum(paid, funded_cost)
        m.upstream[t - 1] = (paid - service_paid).sum()
        burden = unfunded * uc + (funded_cost - service_paid)
        m.cost_incurred[t - 1] = paid.sum() + burden.sum()
    m.planned_spend[t - 1] = allocated.sum()
    m.line_spend[t - 1] = paid
    # a provider rebuilds its reserve from the surplus on what it is paid, never beyond it
    rebuilt = m.line_reserve + s.trust.reserve_rebuild_share * paid
    m.line_reserve = np.minimum(rebuilt, m.line_reserve_size)
    m.line_burden[t - 1] = np.maximum(burden, 0.0)
    m.funded_cost_by_service[t - 1] = np.bincount(
        m.line_service, weights=allocated, minlength=n_svc
    )
    return funded + unfunded
