"""Who pays and who bears: each party's account, and the savings it sees against a benchmark.

Parties are the payers, the holder, ``outside`` (budgets outside the pilot) and the providers.
Each month a party bears the share of the acute events' cost it pays for (``borne_by``), the
excess bed days of discharges waiting at the boundary between budgets, and (without a pool)
the running cost of its contracts. Its account at the end (``metrics.accounts``) adds what it
paid in and what came back.

A party sees its savings against a *benchmark*: the acute cost the same people would have had
at the status quo's cover of need (the contracts the pilot started from), month by month, as
need moves. The benchmark uses no run of the status quo, so the model can act on it as real
programmes do (shared-savings benchmarks are set from the years before: 42 CFR 425). Gain
sharing passes a share of a bearer's savings to the payers that funded the pathway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from poolpilot.model import population, silos
from poolpilot.model.smallarrays import some

if TYPE_CHECKING:
    from poolpilot.model.interface import Pilot


def bear_costs(m: Pilot, t: int) -> None:
    """Each party bears its share of acute cost, boundary waits and contract running costs."""
    p = m.parties
    s = m.design
    if t == 1:
        set_benchmark(m)
    p.acute[t - 1] = (m.acute[t - 1] * m.acute_unit_cost) @ m.bearers
    if some(m.delay_days):
        bed_days = m.true_need[t - 1].sum(axis=0) * m.delay_days
        m.tally.add("delayed_bed_days", float(bed_days.sum()))
        p.delays[t - 1] = (bed_days * s.fragmentation.bed_day_cost) @ m.beds
    if not m.holder.pooled and s.fragmentation.contract_cost > 0:
        per_payer = silos.contract_count(m) * s.fragmentation.contract_cost / 12.0
        p.contracts[t - 1, : m.n_payers] = per_payer


def bear_after_end(m: Pilot, t: int) -> None:
    """The acute events after the run's last month ``t`` that its last months cause, borne as
    the events are: those need left unmet raises (a service's lag points past the end), less
    those prevention paid for averts (its lag does too).

    They are the run's consequences wherever they land: without them a pool that runs to the
    end would pay for its last months of service and prevention and be denied their savings,
    while one that ended early and handed back to the status quo would not, and would look
    the cheaper.
    """
    tail = np.zeros(len(m.service_names))
    for k, lag in enumerate(m.acute_lag.tolist()):
        if lag > 0:
            tail[k] = (m.unmet[max(0, t - lag) : t, :, k] * m.response[:, k]).sum()
    rules = m.design.prevention
    # the months after the end whose prevention window still reaches back into the run
    averted = sum(
        1.0 - population.prevention_in(t + after, m.upstream[:t], rules, m.people)
        for after in range(1, rules.lag_months + 3)
    )
    m.acute_after = tail @ m.elasticity - averted * m.acute_baseline
    m.parties.acute_after = (m.acute_after * m.acute_unit_cost) @ m.bearers


def set_benchmark(m: Pilot) -> None:
    """The benchmark of every month, once the pilot's first month shows the status quo's cover.

    The cover of need is what the historic contracts fund of month 1's need; the benchmark is
    the acute cost of the need drawn for each month (the same in every design) at that cover,
    with the same lags, segment rates and segment responses as the events. The status quo
    spreads each service over segments by need, so every segment has the same cover.
    """
    need = m.need.sum(axis=1)  # months x services, drawn: the same in every design
    # the same need weighted by each segment's response to each service (as the events are)
    weighted = (m.need * m.response[None, :, :]).sum(axis=1)
    need_cost = m.line_need_history[0] * m.line_unit_cost
    funded = silos.historic_contracts(m, need_cost).sum(axis=0)
    by_service = np.bincount(m.line_service, weights=funded, minlength=need.shape[1])
    first = need[0] * m.service_unit_cost
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(first > 0, by_service / first, 1.0)
    m.status_quo_cover = np.clip(cover, 0.0, 1.0)
    # the unmet need of each service in the month its lag points back to (0 before month 1)
    gap = np.zeros_like(need)
    months = need.shape[0]
    for k, lag in enumerate(m.acute_lag):
        if lag < months:
            gap[lag:, k] = weighted[: months - lag, k] * (1.0 - m.status_quo_cover[k])
    expected = m.acute_baseline[None, :] + gap @ m.elasticity
    m.parties.benchmark[:] = (expected * m.acute_unit_cost) @ m.bearers


def share_savings(m: Pilot, t: int) -> None:
    """Gain sharing at the year's end: bearers pass a share of their savings to payers."""
    rule = m.design.governance.savings_sharing
    if not (rule.enabled and m.holder.pooled and t % 12 == 0):
        return
    year = m.contributed[max(0, t - 12) : t].sum(axis=0)
    transfers = m.parties.share_savings(t, year, rule.share, rule.minimum_savings_rate)
    for source, target, amount in transfers:
        src, dst = m.parties.names[source], m.parties.names[target]
        m.books.transfer(t, "shared_savings", src, dst, amount)
        m.events.log(
            month=t,
            actor=src,
            action="share_savings",
            target=dst,
            amount=amount,
            rule="governance.savings_sharing",
            evidence="acute cost below benchmark",
            outcome="paid",
        )
