"""Leaving: each partner's own tolerance, and a monthly hazard of giving notice.

Partners differ: each draws, once, a shift of its thresholds (``trust.tolerance_spread``), so
some tolerate a holder others would leave. Leaving is a chance each month, not a line crossed:

    hazard = exit_hazard / (1 + exp((standing - exit threshold) / exit_hazard_width))

half of ``exit_hazard`` at the partner's own exit threshold, rising toward it below, and
vanishing above. A provider's standing is its trust less how far its funding falls short of its need (its
own account, ``Provider.standing``); a payer's is its trust and its own return
(``Payer.standing``). Notice periods are
as before: the partner leaves when its notice ends. Real partnerships lose some partners, not
all or none (EVIDENCE.md sections 2 and 6: about 30% of Medicare ACOs left within five years;
1 of 4 councils left a 2018 partnership).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from poolpilot.model.trust import shortfall

if TYPE_CHECKING:
    from poolpilot.model.interface import PayerPartner, Pilot


def tolerance_shift(stream: np.random.Generator, spread: float) -> float:
    """The shift of one partner's thresholds (positive: it leaves sooner), drawn once."""
    return spread * float(stream.standard_normal())


def shifted(threshold: float, shift: float) -> float:
    """A threshold moved by a partner's own tolerance, kept in [0, 1]."""
    return min(1.0, max(0.0, threshold + shift))


def hazard(standing: float, threshold: float, ceiling: float, width: float) -> float:
    """Monthly chance of giving notice at this standing, for this partner's exit threshold."""
    z = (standing - threshold) / width
    if z > 50.0:  # exp would overflow; the chance is nil
        return 0.0
    return ceiling / (1.0 + math.exp(z))


def review(m: Pilot, month: int) -> None:
    """Each month, every partner still in the pilot may give notice (one draw each, always,
    so each partner's stream advances the same way whatever the others do).

    The hazard never exceeds its ceiling (``exit_hazard``), so a draw at or above it cannot
    lead to notice, and the partner's standing is not worked out for it.
    """
    rules = m.design.trust
    ceiling = rules.exit_hazard
    active = m.line_active.tolist()
    close = []  # lines whose draw falls below the ceiling
    for line in m.lines:
        if line.own_line:
            continue
        draw = line.rng.random()
        if not active[line.line] or line.exit_month is not None:
            continue
        if draw < ceiling:
            close.append((line, draw))
    if close:
        standing = m.trust
        if rules.adequacy_weight > 0:
            standing = m.trust - rules.adequacy_weight * shortfall(m, month)
        for line, draw in close:
            s = float(standing[line.line])
            chance = hazard(s, line.exit_threshold, ceiling, rules.exit_hazard_width)
            if draw < chance:
                line.give_notice(month, chance)
    for payer in m.payers:
        draw = payer.rng.random()
        if not m.holder.pooled or not m.payer_active[payer.seat] or payer.exit_month is not None:
            continue
        if draw >= ceiling:
            continue
        s = payer.standing(month)
        chance = hazard(s, payer.exit_threshold, ceiling, rules.exit_hazard_width)
        if draw < chance:
            payer.give_notice(month, chance)


def leave(m: Pilot, t: int) -> None:
    """Notices that end this month take effect before the month's work begins."""
    for line in m.lines:
        if line.exit_month == t and m.line_active[line.line]:
            levels = m.allocation.copy()
            levels[line.line] = 0.0
            m.allocate(t, levels, "providers.notice_months", f"{line.name} left")
            m.line_active[line.line] = False
            m.tally.count("partner_exits")
            m.events.log(
                month=t,
                actor=line.name,
                action="exit",
                target=m.holder.name,
                rule="providers.notice_months",
                evidence="notice ended",
                outcome="left",
            )
    for payer in m.payers:
        if payer.exit_month == t and m.payer_active[payer.seat]:
            unwind(m, t, payer)


def unwind(m: Pilot, t: int, payer: PayerPartner, counted: bool = True) -> None:
    """A payer leaves: its unspent share is refunded (or forfeited) by the exit rule."""
    m.payer_active[payer.seat] = False
    refund = 0.0
    if m.design.governance.unwind == "refund_unspent":
        owed = max(0.0, m.accounts.balance[payer.seat])
        refund = m.books.pay(t, "refund", payer.name, owed)
        m.accounts.credit(-refund, payer.seat)
        m.parties.refunded[payer.seat] += refund
    if counted:
        m.tally.count("partner_exits")
    m.events.log(
        month=t,
        actor=payer.name,
        action="exit",
        target="pool",
        amount=refund,
        rule="governance.unwind",
        evidence="notice ended",
        outcome=f"refunded {refund:,.2f}",
    )
