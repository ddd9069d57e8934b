"""Governance: which proposed changes stand, wait for approval, or are challenged and escalated.

The rules are data (``scenario.governance``); this module turns them into decisions, votes,
challenges and escalation steps, and every one of them leaves an audit event.

The need-fair standard against which a decision is judged: a line's fair allocation is the
budget shared in proportion to the true need cost of each line (capped at its capacity). A
decision is *unfair* to a partner when it leaves the partner more than ``UNFAIR_TOLERANCE``
below its fair allocation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from poolpilot.model.pilot import PilotModel

#: A partner this far (share) below its need-fair allocation has been treated unfairly.
UNFAIR_TOLERANCE = 0.05
#: Relative chance, against an unfair one, that a tier overturns a fair decision (review errors).
WRONGFUL_OVERTURN = 0.1
#: Changes smaller than this share of a line's allocation are not made (noise, not news).
MATERIALITY = 0.03
#: Without a pool, a partner defends its own budget: it agrees to give up a share ``c`` of it
#: with probability ``trust * max(0, 1 - SILO_DEFENCE * c)`` (seed 000: silos funded defensively).
SILO_DEFENCE = 4.0


@dataclass
class PendingChange:
    """A change to one line's allocation waiting for partner approval."""

    line: int
    amount: float  # new monthly allocation
    proposed: int  # month proposed
    due: int  # month the vote closes
    kind: str  # "cut" or "investment"


@dataclass
class Challenge:
    """A partner's challenge of a cut, moving through the escalation ladder."""

    line: int
    raised: int
    due: int
    tier: int  # index into the ladder; -1 for an informal challenge
    restore_to: float  # the allocation before the cut
    unfair: bool


def unfairness(allocation: np.ndarray, fair: np.ndarray) -> np.ndarray:
    """How far each line sits below its need-fair allocation, as a share of it (0 = fair)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.where(fair > 0, (fair - allocation) / fair, 0.0)
    return np.clip(gap, 0.0, 1.0)


class Governance:
    """Applies the scenario's rules to each month's proposals and keeps the open cases."""

    def __init__(self, model: PilotModel):
        self.model = model
        self.rules = model.design.governance
        self.pending: list[PendingChange] = []
        self.challenges: list[Challenge] = []
        self.open_challenge = np.zeros(model.n_lines, dtype=bool)
        self.settled_at = np.full(model.n_lines, -1.0)  # allocation level a ladder settled
        tiers = self.rules.escalation.tiers
        self.ladder = tiers if self.rules.challenges.rights == "formal" else []
        self.bilateral = model.design.holder.kind == "none"
        self.provider_led = model.design.holder.kind == "provider_council"

    # --- decisions ----------------------------------------------------------------------

    def needs_approval(self, line: int, current: float, change: float) -> tuple[bool, int]:
        """Whether a change needs partner approval, and how long the approval takes."""
        if self.bilateral:  # no pool: every move between partners needs bilateral agreement
            return True, self.model.design.holder.bilateral_delay_months
        rights = self.rules.decision_rights
        if not rights.enabled or (self.provider_led and not self.model.line_own[line]):
            return False, 0
        rule = rights.cut if change < 0 else rights.investment
        if rule.requires == "alone":
            return False, 0
        by_share = rule.threshold_share is not None and abs(change) > rule.threshold_share * max(
            current, 1.0
        )
        by_amount = rule.threshold_amount is not None and abs(change) > rule.threshold_amount
        always = rule.threshold_share is None and rule.threshold_amount is None
        return (by_share or by_amount or always), rule.delay_months

    def decide(self, month: int, proposal: np.ndarray) -> None:
        """Turn a proposal into applied changes and approval requests."""
        m = self.model
        holder = m.holder_name
        leverage = m.design.holder.leverage
        shift_cap = self.rules.max_shift_per_cycle
        current = m.allocation
        for line in np.flatnonzero(m.line_active):
            wanted = proposal[line] - current[line]
            base = max(current[line], m.fair[line])
            step = float(np.clip(wanted * leverage, -shift_cap * base, shift_cap * base))
            if abs(step) < max(1.0, MATERIALITY * base) or any(
                p.line == line for p in self.pending
            ):
                continue
            kind = "cut" if step < 0 else "investment"
            new = current[line] + step
            approval, delay = self.needs_approval(line, current[line], step)
            target = m.line_names[line]
            if approval:
                self.pending.append(PendingChange(line, new, month, month + delay, kind))
                m.events.log(
                    month,
                    holder,
                    "propose",
                    target,
                    step,
                    f"decision_rights.{kind}",
                    f"observed need; approval needed within {delay} months",
                    "pending",
                )
                m.consulted[line] = True
            else:
                m.events.log(
                    month,
                    holder,
                    "decide",
                    target,
                    step,
                    f"decision_rights.{kind}",
                    "observed need",
                    "applied",
                )
                # in a provider council the providers are the decision-makers: they are consulted
                self.apply(month, line, new, proposed=month, consulted=self.provider_led)

    def apply(self, month: int, line: int, new: float, proposed: int, consulted: bool) -> None:
        """A change takes effect; a cut may be challenged by the partner it harms."""
        m = self.model
        old = m.allocation[line]
        levels = m.allocation.copy()
        levels[line] = max(0.0, new)
        m.allocate(month, levels, "governance", "approved" if consulted else "decided alone")
        m.latencies.append(month - proposed)
        if new < old and not m.line_own[line]:
            cut_share = (old - new) / max(old, 1.0)
            if not consulted:
                m.unconsulted_cut[line] = max(m.unconsulted_cut[line], cut_share)
            self.consider_challenge(month, line, restore_to=old)

    def vote(self, month: int) -> None:
        """Close the approval votes that are due: the partners concerned vote by interest and trust."""
        m = self.model
        due = [p for p in self.pending if p.due <= month]
        if not due:
            return
        self.pending = [p for p in self.pending if p.due > month]
        for change in due:
            line = change.line
            if not m.line_active[line]:
                continue
            fair = m.fair[line]
            harm = 0.0 if fair <= 0 else max(0.0, (fair - change.amount) / fair)
            yes = no = 0
            voters: list[tuple[str, float]] = []
            if not m.line_own[line]:
                if change.kind == "cut" and self.bilateral:  # no pool: it defends its budget
                    given_up = (m.allocation[line] - change.amount) / max(m.allocation[line], 1.0)
                    p_partner = m.trust[line] * max(0.0, 1.0 - SILO_DEFENCE * given_up)
                elif change.kind == "cut":
                    p_partner = m.trust[line] * (1.0 - min(1.0, 3.0 * harm))
                else:
                    p_partner = 1.0
                voters.append((m.line_names[line], p_partner))
            if not self.bilateral or m.line_own[line] or change.kind == "investment":
                for seat in np.flatnonzero(m.payer_active):
                    aligned = 1.0 - min(1.0, 2.0 * harm) if change.kind == "cut" else 1.0
                    if m.line_own[line] and change.kind == "investment":
                        aligned = 1.0 - min(
                            1.0, 2.0 * max(0.0, change.amount / max(fair, 1.0) - 1.0)
                        )
                    voters.append((m.payer_names[seat], 0.2 + 0.8 * m.payer_trust[seat] * aligned))
            for name, p in voters:
                agree = m.rng.random() < p
                yes += agree
                no += not agree
                m.events.log(
                    month,
                    name,
                    "vote",
                    m.line_names[line],
                    change.amount,
                    f"decision_rights.{change.kind}",
                    f"harm {harm:.2f}",
                    "approve" if agree else "reject",
                )
            approved = yes > no or (yes == no and yes > 0 and change.kind == "investment")
            m.events.log(
                month,
                m.holder_name,
                "approval",
                m.line_names[line],
                change.amount,
                f"decision_rights.{change.kind}",
                f"{yes} for, {no} against",
                "approved" if approved else "rejected",
            )
            m.counts["approvals_requested"] += 1
            if approved:
                self.apply(month, line, change.amount, change.proposed, consulted=True)
            else:
                m.counts["approvals_rejected"] += 1

    # --- challenges and escalation ------------------------------------------------------

    def consider_challenge(self, month: int, line: int, restore_to: float) -> None:
        """A harmed partner challenges with a probability rising with harm, falling with trust."""
        m = self.model
        rights = self.rules.challenges
        if rights.rights == "none" or self.open_challenge[line]:
            return
        if self.settled_at[line] >= 0 and m.allocation[line] >= self.settled_at[line] - 1.0:
            return  # the ladder already settled this level
        u = float(unfairness(m.allocation[line : line + 1], m.fair[line : line + 1])[0])
        visibility = 0.4 + 0.6 * m.visibility
        harm = u * visibility
        p = 1.0 - math.exp(-rights.propensity * harm * (1.2 - m.trust[line]))
        if m.rng.random() >= p:
            return
        self.open_challenge[line] = True
        unfair = u > UNFAIR_TOLERANCE
        if self.ladder:
            tier = 0
            due = month + self.ladder[0].delay_months
            route = self.ladder[0].name
        else:
            tier = -1
            # erratic: a geometric delay with the stated mean (at least one month)
            mean = max(1.0, rights.informal_delay_mean_months)
            due = month + int(m.rng.geometric(1.0 / mean))
            route = "informal"
        self.challenges.append(Challenge(line, month, due, tier, restore_to, unfair))
        m.counts["disputes_raised"] += 1
        m.events.log(
            month,
            m.line_names[line],
            "challenge",
            m.holder_name,
            restore_to - m.allocation[line],
            f"challenges.{rights.rights}",
            f"unfair by {u:.2f} of need-fair share",
            route,
        )

    def revisit(self, month: int) -> None:
        """Without a ladder, partners dispute decisions after the fact (seed 003).

        With an escalation ladder, challenges go through it when a decision is made and a final
        answer settles them; without one, a partner still below its need-fair share may raise
        the grievance again in any month.
        """
        if self.rules.challenges.rights == "none" or self.ladder:
            return
        m = self.model
        for line in np.flatnonzero(m.line_active & ~m.line_own & ~self.open_challenge):
            if m.allocation[line] < m.fair[line] * (1.0 - UNFAIR_TOLERANCE):
                self.consider_challenge(month, line, restore_to=m.fair[line])

    def review_quality(self) -> float:
        """Reviews overturn unfair decisions more reliably with open data and independent validation."""
        q = 0.5 + 0.5 * self.model.visibility
        if self.rules.assurance.enabled:
            q *= 1.3
        return min(1.0, q)

    def escalate(self, month: int) -> None:
        """Advance the challenges that are due: overturn, climb a tier, or close."""
        m = self.model
        due = [c for c in self.challenges if c.due <= month]
        if not due:
            return
        self.challenges = [c for c in self.challenges if c.due > month]
        quality = self.review_quality()
        for c in due:
            informal = c.tier < 0
            if informal:
                base = self.rules.challenges.informal_overturn_probability
                tier_name = "informal"
            else:
                base = self.ladder[c.tier].overturn_probability
                tier_name = self.ladder[c.tier].name
            p = base * quality if c.unfair else base * WRONGFUL_OVERTURN
            target = m.line_names[c.line]
            if m.line_active[c.line] and m.rng.random() < p:
                self.overturn(month, c)
                m.events.log(
                    month,
                    tier_name,
                    "escalation_decision",
                    target,
                    c.restore_to,
                    f"escalation.{tier_name}",
                    "need-fair standard",
                    "overturned",
                )
                continue
            persists = m.rng.random() < 0.5 + 0.5 * (1.0 - m.trust[c.line])
            if not informal and c.tier + 1 < len(self.ladder) and persists:
                c.tier += 1
                c.due = month + self.ladder[c.tier].delay_months
                self.challenges.append(c)
                m.counts["escalations"] += 1
                m.events.log(
                    month,
                    target,
                    "escalate",
                    self.ladder[c.tier].name,
                    c.restore_to,
                    f"escalation.{self.ladder[c.tier].name}",
                    f"not resolved at {tier_name}",
                    "escalated",
                )
                continue
            self.close(month, c, overturned=False)
            if not informal:  # a ladder gives a final answer; informal grievances stay open
                self.settled_at[c.line] = m.allocation[c.line]
            m.events.log(
                month,
                tier_name,
                "escalation_decision",
                target,
                0.0,
                f"escalation.{tier_name}",
                "need-fair standard",
                "upheld",
            )

    def overturn(self, month: int, c: Challenge) -> None:
        """Restore the challenged allocation: from unallocated budget, then lines above fair."""
        m = self.model
        levels = m.allocation.copy()
        gain = max(0.0, c.restore_to - levels[c.line])
        unallocated = max(0.0, m.monthly_budget() - levels.sum())
        from_budget = min(gain, unallocated)
        levels[c.line] += from_budget
        gain -= from_budget
        donors = np.maximum(levels - m.fair, 0.0) * m.line_active
        donors[c.line] = 0.0
        if donors.sum() <= 0:
            donors = levels * m.line_active
            donors[c.line] = 0.0
        if donors.sum() > 0 and gain > 0:
            take = donors / donors.sum() * min(gain, donors.sum())
            levels -= take
            levels[c.line] += take.sum()
        m.allocate(month, levels, "escalation", f"challenge by {m.line_names[c.line]} upheld")
        m.counts["disputes_upheld"] += 1
        m.holder.accountability = min(0.9, m.holder.accountability + 0.15)
        m.overturned[c.line] = True
        self.close(month, c, overturned=True)

    def close(self, month: int, c: Challenge, overturned: bool) -> None:
        self.open_challenge[c.line] = False
        self.model.resolution_months.append(month - c.raised)
        if not overturned:
            self.model.upheld_against[c.line] = True
