"""The status quo a pool replaces: each payer funding its own contracts (EVIDENCE.md section 7).

Without a pool, each payer funds the services it may pay for from its own budget, as far as it
values them. A service that averts acute events is worth, to the whole system, its need; a
payer sees only the part of that worth that lands in its own pocket. With ``wrong_pockets``
``s``, payer ``p`` values service ``k`` at

    f[p, k] = 1 - s * (1 - own[p, k])

where ``own[p, k]`` is the share of the cost of the acute event ``k`` averts that ``p`` bears
(``acute_events[].borne_by``); a service that averts nothing is valued whole. Each service's
cost is split among the payers that may fund it (earmarked payers first, by contribution), so
payer ``p`` wants to fund ``split[p, k] * f[p, k]`` of the need cost of ``k``, within its own
monthly budget. What it does not value it keeps: it is spent outside the pathway.

Running the pathway through several budgets also costs: each payer-provider contract has a
running cost, and a discharge waits while two budgets settle who funds its step-down service
(``services[].discharge_delay_days``). The share of a service's funding that comes from another
budget than the one paying for the hospital bed is its *boundary*; a pool removes the boundary
as far as its holder has the leverage to settle who pays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from poolpilot.model.interface import Pilot


def party_names(m: Pilot) -> list[str]:
    """The parties with an account: the payers, the holder, outside the pilot, the providers."""
    return [*m.payer_names, "holder", "outside", "providers"]


def bearer_matrix(m: Pilot) -> np.ndarray:
    """events x parties: the share of each acute event's cost each party bears."""
    parties = party_names(m)
    out = np.zeros((len(m.design.acute_events), len(parties)))
    for e, ev in enumerate(m.design.acute_events):
        for party, share in ev.shares().items():
            out[e, parties.index(party)] += share
    return out


def bed_matrix(m: Pilot) -> np.ndarray:
    """services x parties: who pays for the hospital bed a discharge waiting for the service
    occupies (the bearer of the event the service averts; outside when it averts none)."""
    bearers = m.bearers  # bearer_matrix(m), set first
    events = [ev.name for ev in m.design.acute_events]
    out = np.zeros((len(m.design.services), bearers.shape[1]))
    for k, sv in enumerate(m.design.services):
        if sv.averts is None:
            out[k, party_names(m).index("outside")] = 1.0
        else:
            out[k] = bearers[events.index(sv.averts)]
    return out


def funding_split(m: Pilot) -> np.ndarray:
    """payers x services: the share of a service's cost each payer funds in the status quo.

    Earmarked payers that allow a service fund it first (it is theirs); otherwise every payer
    that allows it does; among them, by annual contribution.
    """
    allows = m.payer_allows
    weight = np.array([p.spec.annual_contribution for p in m.payers], dtype=float)
    out = np.zeros(allows.shape)
    for k in range(allows.shape[1]):
        group = allows[:, k] & m.payer_earmarked
        if not group.any():
            group = allows[:, k]
        w = weight * group
        if w.sum() > 0:
            out[:, k] = w / w.sum()
        elif group.any():
            out[:, k] = group / group.sum()
    return out


def valuation(m: Pilot) -> np.ndarray:
    """payers x services: the share of a service's worth each payer sees (the wrong pocket)."""
    s = m.design.status_quo.wrong_pockets
    own = m.bearers[:, : m.n_payers].T  # payers x events (bearer_matrix)
    events = [ev.name for ev in m.design.acute_events]
    out = np.ones((m.n_payers, len(m.design.services)))
    for k, sv in enumerate(m.design.services):
        if sv.averts is not None:
            out[:, k] = 1.0 - s * (1.0 - own[:, events.index(sv.averts)])
    return out


def contracts(m: Pilot, need_cost: np.ndarray) -> np.ndarray:
    """payers x lines: what each payer funds of each line this month, within its budget.

    ``need_cost`` is the need cost per line the payers plan from.
    """
    want = (m.silo_split * m.silo_value)[:, m.line_service] * (need_cost * m.line_active)
    b = m.design.budget
    net = 1.0 - b.admin_share - b.reserve_share
    budget = np.array([p.annual_contribution / 12.0 * net for p in m.payers]) * m.payer_active
    total = want.sum(axis=1)
    # where budget / total is kept it is below 1; elsewhere it may overflow, and is dropped
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scale = np.where(total > budget, budget / total, 1.0)
    return want * np.nan_to_num(scale)[:, None]


def historic_contracts(m: Pilot, need_cost: np.ndarray) -> np.ndarray:
    """payers x lines: the contracts the pilot starts from (``status_quo.historic_allocation``).

    ``last_year``: each payer's spend the year before, as it valued that year's need (today's
    need less a year of trend); ``current_need``: as it values today's need; or the amounts
    given per payer and service, spread over the service's lines by capacity.
    """
    rule = m.design.status_quo.historic_allocation
    if rule == "last_year":
        return contracts(m, need_cost / (1.0 + m.mean_trend))
    if rule == "current_need":
        return contracts(m, need_cost)
    out = np.zeros((m.n_payers, m.n_lines))
    cap = m.line_capacity * m.line_active
    for seat, name in enumerate(m.payer_names):
        for service, annual in rule.get(name, {}).items():
            lines = m.line_service == m.service_names.index(service)
            if cap[lines].sum() > 0:
                out[seat, lines] = annual / 12.0 * cap[lines] / cap[lines].sum()
    return out


def boundary(m: Pilot) -> np.ndarray:
    """Per service: the share of discharges waiting for it whose funding must be settled
    between budgets (0: one budget pays for both the bed and the service).

    Without a pool it is the share of the service's funding that comes from another budget
    than the one paying for the bed. A pool joins its payers' and holder's budgets: what is
    left is the share of the bed paid outside the pilot, and, as far as the holder lacks the
    leverage to settle who pays (``holder.leverage``), the rest. The idealised baseline (one
    planner over all the money) is a pool with full leverage.
    """
    beds = m.beds  # bed_matrix(m), set with the model
    same = (m.silo_split.T * beds[:, : m.n_payers]).sum(axis=1)
    status_quo = np.clip(1.0 - same, 0.0, 1.0)
    if not m.holder.pooled and m.design.status_quo.silo_budgets:
        return status_quo
    outside = np.minimum(beds[:, party_names(m).index("outside")], status_quo)
    if not m.holder.pooled:  # one frictionless planner: only the boundary with outside is left
        return outside
    return outside + (1.0 - m.design.holder.leverage) * (status_quo - outside)


def delay_days(m: Pilot) -> np.ndarray:
    """Per service: excess bed days per unit needed, across the boundary between budgets."""
    wait = np.array([sv.discharge_delay_days for sv in m.design.services], dtype=float)
    return wait * boundary(m)


def contract_count(m: Pilot) -> np.ndarray:
    """Per payer: the contracts it runs with active lines without a pool."""
    funds = m.silo_split[:, m.line_service] > 0  # payers x lines
    return (funds & m.line_active[None, :] & m.payer_active[:, None]).sum(axis=1)


def prevention_stake(m: Pilot) -> float:
    """The share of upstream prevention a retrospective budget funds: as far as the acute cost
    it averts lands on whoever decides.

    A pool decides for its payers and holder together, so it counts every saving that lands
    inside the pilot; each silo of the status quo counts only its own (its share of the acute
    cost, weighted by its contribution). A prospective envelope funds prevention whole: its
    holder keeps what it does not spend (``prospective.py``).
    """
    cost = m.acute_baseline * m.acute_unit_cost  # the acute cost at baseline, by event
    if cost.sum() <= 0:
        return 0.0
    share = (cost @ m.bearers) / cost.sum()  # per party
    payers = share[: m.n_payers]
    if not m.holder.pooled and m.design.status_quo.silo_budgets:
        weight = np.array([p.spec.annual_contribution for p in m.payers], dtype=float)
        return float(payers @ weight / weight.sum()) if weight.sum() > 0 else 0.0
    return float(payers.sum() + share[party_names(m).index("holder")])
