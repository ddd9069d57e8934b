"""Decisions and approvals: which proposed changes stand at once and which wait for a vote.

The rules are data (``scenario.governance.decision_rights``); the holder's class says how they
apply to it (a provider council decides its own lines, no pool needs bilateral agreement for
everything). Every decision, vote and approval leaves an audit event. A cut that stands may be
challenged by the partner it harms (``challenges.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from poolpilot.model.challenges import Disputes

if TYPE_CHECKING:
    from poolpilot.model.interface import Partner, Pilot

#: Changes smaller than this share of a line's allocation are not made (noise, not news).
MATERIALITY = 0.03


@dataclass
class PendingChange:
    """A change to one line's allocation waiting for partner approval."""

    line: int
    amount: float  # new monthly allocation
    proposed: int  # month proposed
    due: int  # month the vote closes
    kind: str  # "cut" or "investment"


class Approvals:
    """Turns the holder's proposals into changes that stand and changes put to a vote."""

    def __init__(self, model: Pilot, disputes: Disputes):
        self.model = model
        self.rules = model.design.governance
        self.disputes = disputes
        self.pending: list[PendingChange] = []

    def decide(self, month: int, proposal: np.ndarray) -> None:
        """Turn a proposal into applied changes and approval requests."""
        m = self.model
        holder = m.holder
        leverage = m.design.holder.leverage
        shift_cap = self.rules.max_shift_per_cycle
        # plain floats (min(max()) is np.clip on one value, to the last bit); a change put to
        # a vote below is for the line at hand, so the lines already waiting can be read once
        current = m.allocation.tolist()
        wanted_levels = proposal.tolist()
        fair = m.fair.tolist()
        waiting = {p.line for p in self.pending}
        for line in m.line_active.nonzero()[0].tolist():
            wanted = wanted_levels[line] - current[line]
            base = max(current[line], fair[line])
            step = min(max(wanted * leverage, -shift_cap * base), shift_cap * base)
            if abs(step) < max(1.0, MATERIALITY * base) or line in waiting:
                continue
            kind = "cut" if step < 0 else "investment"
            new = current[line] + step
            approval, delay = holder.needs_approval(
                self.rules.decision_rights, bool(m.line_own[line]), current[line], step
            )
            target = m.line_names[line]
            if approval:
                self.pending.append(PendingChange(line, new, month, month + delay, kind))
                m.events.log(
                    month=month,
                    actor=holder.name,
                    action="propose",
                    target=target,
                    amount=step,
                    rule=f"decision_rights.{kind}",
                    evidence=f"observed need; approval needed within {delay} months",
                    outcome="pending",
                )
                if holder.consults():
                    m.experience.consult(line)
            else:
                m.events.log(
                    month=month,
                    actor=holder.name,
                    action="decide",
                    target=target,
                    amount=step,
                    rule=f"decision_rights.{kind}",
                    evidence="observed need",
                    outcome="applied",
                )
                self.apply(month, line, new, proposed=month, consulted=holder.providers_decide)
                m.line_approved[line] = False  # decided alone: no payer saw how it is coded

    def apply(self, month: int, line: int, new: float, proposed: int, consulted: bool) -> None:
        """A change takes effect; a cut may be challenged by the partner it harms."""
        m = self.model
        old = m.allocation[line]
        levels = m.allocation.copy()
        levels[line] = max(0.0, new)
        m.allocate(month, levels, "governance", "approved" if consulted else "decided alone")
        m.tally.note("decision_latency", month - proposed)
        if new < old and not m.line_own[line]:
            cut_share = (old - new) / max(old, 1.0)
            if not consulted:
                m.experience.cut_without_asking(line, cut_share)
            self.disputes.consider(month, line, restore_to=old)

    def vote(self, month: int) -> None:
        """Close the votes that are due: the partners concerned vote by interest and trust."""
        m = self.model
        due = [p for p in self.pending if p.due <= month]
        if not due:
            return
        self.pending = [p for p in self.pending if p.due > month]
        for change in due:
            line = change.line
            if not m.line_active[line]:
                continue
            approved = self._ballot(month, change)
            m.tally.count("approvals_requested")
            if approved:
                self.apply(month, line, change.amount, change.proposed, consulted=True)
                m.line_approved[line] = True
            else:
                m.tally.count("approvals_rejected")

    def _ballot(self, month: int, change: PendingChange) -> bool:
        """Each voter agrees with its own chance; a majority carries (a tie carries new money)."""
        m = self.model
        line = change.line
        own = bool(m.line_own[line])
        fair = m.fair[line]
        # the share of its fair level a change takes away (0 if none: dividing only then, so
        # a tiny fair level cannot overflow)
        harm = (fair - change.amount) / fair if fair > 0 and change.amount < fair else 0.0
        voters: list[tuple[Partner, float]] = []
        if not own:
            given_up = (m.allocation[line] - change.amount) / max(m.allocation[line], 1.0)
            p_partner = m.holder.partner_agrees(change.kind, harm, m.trust[line], given_up)
            voters.append((m.lines[line], p_partner))
        if m.holder.payers_vote(own, change.kind):
            for seat in m.payer_active.nonzero()[0]:
                aligned = 1.0 - min(1.0, 2.0 * harm) if change.kind == "cut" else 1.0
                if own and change.kind == "investment":
                    aligned = 1.0 - min(1.0, 2.0 * max(0.0, change.amount / max(fair, 1.0) - 1.0))
                voters.append((m.payers[seat], 0.2 + 0.8 * m.payer_trust[seat] * aligned))
        yes = no = 0
        for voter, p in voters:
            agree = voter.rng.random() < p
            yes += agree
            no += not agree
            m.events.log(
                month=month,
                actor=voter.name,
                action="vote",
                target=m.line_names[line],
                amount=change.amount,
                rule=f"decision_rights.{change.kind}",
                evidence=f"harm {harm:.2f}",
                outcome="approve" if agree else "reject",
            )
        approved = yes > no or (yes == no and yes > 0 and change.kind == "investment")
        m.events.log(
            month=month,
            actor=m.holder.name,
            action="approval",
            target=m.line_names[line],
            amount=change.amount,
            rule=f"decision_rights.{change.kind}",
            evidence=f"{yes} for, {no} against",
            outcome="approved" if approved else "rejected",
        )
        return approved
