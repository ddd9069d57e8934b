"""Assurance and audits: finding disallowed spend, recovering it, and what finding costs trust.

Hidden disallowed spend (``attribution.py``) surfaces through a reconciliation investigation,
an independent assurance review, an outside audit, or the final audit at the end of the pilot.
The later it is found, the larger it has grown and the harder the hit to payers' trust; found
by the pilot's own safeguards it hurts less, exposed in public by an outside audit it hurts
more, and every payer hears of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from poolpilot.model.interface import Pilot

#: Least loss of trust (relative) when an outside audit exposes hidden problems in public,
#: whatever the amount (seed 002: problems exposed by audit or media often end pilots).
PUBLIC_EXPOSURE = 0.3


def find(m: Pilot, month: int, seat: int, power: float, by: str) -> float:
    """Look for a payer's hidden disallowed spend; recover what is found. Returns the amount."""
    stream = m.payers[seat].rng  # draws about a payer's findings come from its stream
    found, lags = m.accounts.search(seat, month, power, stream)
    m.tally.note("detection_lag", *lags)
    if found <= 0:
        return 0.0
    payer = m.payer_names[seat]
    m.events.log(
        month=month,
        actor=by,
        action="finding",
        target=payer,
        amount=found,
        rule=f"{by}",
        evidence="disallowed spend found",
        outcome="found",
    )
    rules = m.design.governance
    disputed = stream.random() < 0.5
    upheld = True
    if disputed:  # the holder contests the finding; the dispute is resolved and documented
        m.tally.count("disputes_raised")
        upheld = stream.random() < 0.8
        m.tally.count("disputes_upheld", int(not upheld))  # the dispute changed the decision
        m.events.log(
            month=month,
            actor=m.holder.name,
            action="dispute",
            target=payer,
            amount=found,
            rule="reconciliation.dispute",
            evidence="holder contests the finding",
            outcome="clawback upheld" if upheld else "waived",
        )
    if upheld:
        recovered = found * rules.reconciliation.clawback_share
        m.books.transfer(month, "clawback", "holder", "pool", recovered)
        m.accounts.credit(recovered, seat)
        m.tally.add("clawbacks", recovered)
        m.events.log(
            month=month,
            actor=m.holder.name,
            action="clawback",
            target=payer,
            amount=recovered,
            rule="reconciliation.clawback_share",
            evidence=f"found by {by}",
            outcome="recovered",
        )
    m.tally.peak("year_end_shock", found / max(m.initial_funding, 1.0))
    # surprise: larger and later findings hit harder; findings surfaced by assurance less so
    lag = float(np.average(lags, weights=None)) if lags else 0.0
    size = 2.0 * found / max(m.payers[seat].annual_contribution, 1.0) * (1.0 + lag / 12.0)
    if by == "assurance":  # surfaced by the pilot's own safeguards
        size *= 0.5
    elif by == "outside audit":  # exposed in public: the hit is reputational as well
        size = max(3.0 * size, PUBLIC_EXPOSURE)
        for payer in m.payers:
            payer.hear_of_exposure()
    cut = np.zeros(m.n_payers)
    if m.payer_active[seat]:  # a payer that has left keeps its last trust
        cut[seat] = min(0.6, size)
    if by in ("assurance", "outside audit"):  # findings are reported to all other payers
        others = m.payer_active.copy()
        others[seat] = False
        cut[others] = min(0.6 if by == "outside audit" else 0.3, 0.5 * size)
    m.surprise_payers(cut)
    return found


def assure(m: Pilot, month: int) -> None:
    """Independent assurance reviews; and, without them, the occasional outside audit."""
    gov = m.design.governance
    if gov.assurance.enabled and month % gov.assurance.frequency_months == 0:
        m.events.log(
            month=month,
            actor="assurance",
            action="review",
            target="pool",
            rule="assurance.frequency_months",
            evidence="independent review of compliance and data",
            outcome="reported to all payers",
        )
        for seat in m.payer_active.nonzero()[0]:
            find(m, month, seat, gov.assurance.detection_power, "assurance")
    if m.accounts.any_hidden() and m.rng.random() < gov.reconciliation.external_audit_probability:
        for seat in m.payer_active.nonzero()[0]:
            find(m, month, seat, 1.0, "outside audit")


def final_audit(m: Pilot, month: int) -> None:
    """Everything still hidden surfaces when the pilot ends (if the rules provide for it)."""
    if not m.design.governance.reconciliation.final_audit:
        return
    for seat in range(m.n_payers):
        if m.accounts.vintages[seat]:
            find(m, month, seat, 1.0, "final audit")
