"""Attribution and reconciliation: whose money paid for what, and whether it was allowed.

Attribution rule (stated in docs/ODD.md): spend on a service is charged first to earmarked payers
that allow it, then pro rata (by unspent balance) to the other payers that allow it; without a
pool, each payer is charged first its own contracts' share (``holder.charge_shares``). Spend no
allowing payer can cover is caught by compliance validation with probability ``strictness``
(and not paid); otherwise it is charged pro rata to the remaining payers and is *disallowed*.
A random share of the spend on lines whose allocation no payer approved (changes decided alone;
with no decision-rights matrix, every change) is miscoded to a payer that does not allow it:
disallowed spend happens, sometimes.

Disallowed spend waits, undetected, as *vintages* (month, amount) per payer until a
reconciliation investigation, an assurance review, an outside audit or the final audit finds
it (``assurance.py``). Each payer reconciles on its own cadence; a variance beyond the
threshold triggers an investigation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from poolpilot.model import assurance
from poolpilot.model.smallarrays import pairwise_sum, python_sum, some

if TYPE_CHECKING:
    from poolpilot.model.interface import Pilot


def attribute(model: Pilot, month: int, spend: np.ndarray) -> np.ndarray:
    """Charge this month's spend by service to payers; returns the amount blocked per service.

    The charging is compiled (``_charge``); it stops at a service no allowing payer can
    cover, which validation blocks or lets through as disallowed spend, and goes on after it.
    """
    m = model
    rules = m.design.governance.validation
    balance = np.where(m.payer_active, np.maximum(m.accounts.balance, 0.0), 0.0)
    taken = np.zeros(m.n_payers)
    blocked = np.zeros(spend.shape[0])
    own = m.holder.charge_shares()
    shares = _NO_SHARES if own is None else own
    allows, earmarked = m.payer_allows, m.payer_earmarked
    k, left = _charge(spend, balance, taken, shares, own is not None, allows, earmarked, 0)
    while k < spend.shape[0]:  # spend left over on service k: validation decides
        total = python_sum(balance)
        if m.rng.random() < rules.strictness or total <= 0:
            blocked[k] = left
            m.events.log(
                month=month,
                actor="validation",
                action="block",
                target=m.service_names[k],
                amount=left,
                rule="validation.strictness",
                evidence="no allowing payer has funds",
                outcome="blocked",
            )
        else:
            charge = balance / total * left
            balance -= charge
            disallow(m, month, charge)
        k, left = _charge(spend, balance, taken, shares, own is not None, allows, earmarked, k + 1)
    if some(taken):
        m.accounts.charge(taken)
    miscode(m, month, spend)
    return blocked


#: ``_charge``'s shares when the pool's rule applies (never read)
_NO_SHARES = np.zeros((0, 0))


@njit(cache=True)
def _charge(spend, balance, taken, own, by_contract, allows, earmarked, start):
    """From service ``start`` on: each payer pays its own contracts first (``by_contract``),
    then earmarked payers that allow the service, then pro rata by unspent balance the other
    payers that allow it. Returns the first service with spend left over, and how much."""
    n_payers, n_services = allows.shape
    for k in range(start, n_services):
        amount = spend[k]
        if amount <= 0:
            continue
        left = amount
        if by_contract:
            for i in range(n_payers):
                if allows[i, k]:
                    due = amount * own[i, k]
                    take = due if due < balance[i] else balance[i]  # min(balance, due)
                    balance[i] -= take
                    taken[i] += take
                    left -= take
        for earmarked_only in (True, False):
            group = allows[:, k] & earmarked if earmarked_only else allows[:, k]
            if left <= 0 or not group.any():
                continue
            room = python_sum(balance[group])
            if room <= 0:
                continue
            share = (room if room < left else left) / room  # min(left, room) / room
            for i in range(n_payers):
                if group[i]:
                    take = balance[i] * share
                    balance[i] -= take
                    taken[i] += take
                    left -= take
        if not left <= 1e-9:  # NaN too, as validation would see it
            return k, left
    return n_services, 0.0


def disallow(m: Pilot, month: int, charge: np.ndarray) -> None:
    """Charge spend to payers whose rules do not allow it: it waits to be found."""
    m.accounts.charge(charge)
    for seat in (charge > 1e-9).nonzero()[0]:
        m.accounts.hide(seat, month, float(charge[seat]))
        m.tally.add("disallowed_spend", float(charge[seat]))


def miscode(m: Pilot, month: int, spend: np.ndarray | list[float]) -> None:
    """A random share of spend is charged to a payer that does not allow it, on the lines whose
    allocation no payer approved: a payer voting on a change sees how it is coded (the
    decision-rights matrix puts changes to a vote; changes decided alone go unchecked)."""
    rules = m.design.governance.validation
    exposure = _unapproved_share(m.allocation, m.line_active, m.line_approved)
    draw = 0.0 + 2.0 * m.rng.random()  # rng.uniform(0.0, 2.0), to the bit, at a third the cost
    share = rules.miscoding_rate * (1.0 - rules.strictness) * exposure * draw
    if share <= 0:
        return
    amounts = spend.tolist() if isinstance(spend, np.ndarray) else spend
    services = [k for k, amount in enumerate(amounts) if amount > 0]
    if not services:
        return
    # what ``rng.choice(services)`` draws, without building an array for it
    k = services[int(m.rng.integers(0, len(services)))]
    allowed = m.payer_allows_lists[k]
    active = m.payer_active.tolist()
    wrong = [i for i in range(m.n_payers) if active[i] and i not in allowed]
    right = m.payer_allows[:, k] & m.payer_active
    if not wrong or not some(right):
        return
    seat = wrong[int(m.rng.integers(0, len(wrong)))]
    amount = float(amounts[k]) * share
    # move the charge from the payers that allow it to the one that does not
    m.accounts.charge(-(right * (amount / right.sum())))
    charge = np.zeros(m.n_payers)
    charge[seat] = amount
    disallow(m, month, charge)


@njit(cache=True)
def _unapproved_share(allocation, active, approved):
    """The share of the active lines' allocation that no payer approved."""
    allocated = allocation * active
    total = pairwise_sum(allocated)
    return pairwise_sum(allocated * ~approved) / total if total > 0 else 0.0


def reconcile(m: Pilot, month: int) -> None:
    """Each payer on its cadence: a variance beyond the threshold triggers an investigation."""
    rules = m.design.governance.reconciliation
    for payer in m.payers:
        seat = payer.seat
        if not m.payer_active[seat] or month - payer.last_reconciled < payer.cadence:
            continue
        payer.last_reconciled = month
        hidden = m.accounts.hidden(seat)
        spent = max(m.accounts.period_spend[seat], 1.0)
        variance = hidden / spent
        m.accounts.close_period(seat)
        statements = m.design.governance.financial_statements
        m.events.log(
            month=month,
            actor=payer.name,
            action="reconciliation",
            target="pool",
            amount=hidden if statements else 0.0,
            rule=f"payers.{payer.name}.reconciliation",
            evidence="financial statement" if statements else "summary only",
            outcome="investigate" if variance > rules.variance_threshold else "within threshold",
        )
        m.accounts.statement_seen[seat] = statements
        if variance > rules.variance_threshold:
            assurance.find(m, month, seat, rules.self_assessment_power, "reconciliation")
