"""Challenges and escalation: a harmed partner disputes a cut, and the ladder answers.

With formal rights and an escalation ladder, a challenge climbs tiers (each with its delay and
its chance of overturning an unfair decision) until one gives a final answer. Without a ladder,
challenges are informal: erratic delays, weaker remedies, and grievances raised again after
the fact (seed 003). The need-fair standard decides what is unfair: a line's fair allocation is
the budget shared in proportion to the true need cost of each line (capped at its capacity),
and a decision is unfair to a partner when it leaves it more than ``UNFAIR_TOLERANCE`` below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from poolpilot.model.smallarrays import clip, ratio

if TYPE_CHECKING:
    from poolpilot.model.interface import Pilot

#: A partner this far (share) below its need-fair allocation has been treated unfairly.
UNFAIR_TOLERANCE = 0.05
#: Relative chance, against an unfair one, that a tier overturns a fair decision (review errors).
WRONGFUL_OVERTURN = 0.1


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
    with np.errstate(over="ignore"):  # a tiny fair share overflows to inf: clipped to 1
        return clip(ratio(fair - allocation, fair, where=fair > 0), 0.0, 1.0)


class Disputes:
    """The open challenges, the ladder they climb, and the levels a ladder has settled."""

    def __init__(self, model: Pilot):
        self.model = model
        self.rules = model.design.governance
        self.open: list[Challenge] = []
        self.open_challenge = np.zeros(model.n_lines, dtype=bool)
        self.settled_at = np.full(model.n_lines, -1.0)  # allocation level a ladder settled
        tiers = self.rules.escalation.tiers
        self.ladder = tiers if self.rules.challenges.rights == "formal" else []

    def consider(self, month: int, line: int, restore_to: float) -> None:
        """A harmed partner challenges with a probability rising with harm, falling with trust."""
        m = self.model
        rights = self.rules.challenges
        if rights.rights == "none" or self.open_challenge[line]:
            return
        if self.settled_at[line] >= 0 and m.allocation[line] >= self.settled_at[line] - 1.0:
            return  # the ladder already settled this level
        fair, level = float(m.fair[line]), float(m.allocation[line])
        u = min(max((fair - level) / fair, 0.0), 1.0) if fair > 0 else 0.0  # unfairness()
        visibility = 0.4 + 0.6 * m.visibility
        harm = u * visibility
        p = 1.0 - math.exp(-rights.propensity * harm * (1.2 - m.trust[line]))
        stream = m.lines[line].rng
        if stream.random() >= p:
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
            due = month + int(stream.geometric(1.0 / mean))
            route = "informal"
        self.open.append(Challenge(line, month, due, tier, restore_to, unfair))
        m.tally.count("disputes_raised")
        m.events.log(
            month=month,
            actor=m.line_names[line],
            action="challenge",
            target=m.holder.name,
            amount=restore_to - m.allocation[line],
            rule=f"challenges.{rights.rights}",
            evidence=f"unfair by {u:.2f} of need-fair share",
            outcome=route,
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
        for line in (m.line_active & ~m.line_own & ~self.open_challenge).nonzero()[0]:
            if m.allocation[line] < m.fair[line] * (1.0 - UNFAIR_TOLERANCE):
                self.consider(month, line, restore_to=m.fair[line])

    def review_quality(self) -> float:
        """Reviews overturn unfair decisions more reliably with open data and validation."""
        q = 0.5 + 0.5 * self.model.visibility
        if self.rules.assurance.enabled:
            q *= 1.3
        return min(1.0, q)

    def escalate(self, month: int) -> None:
        """Advance the challenges that are due: overturn, climb a tier, or close."""
        m = self.model
        due = [c for c in self.open if c.due <= month]
        if not due:
            return
        self.open = [c for c in self.open if c.due > month]
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
            stream = m.lines[c.line].rng  # the challenge's own draws
            if m.line_active[c.line] and stream.random() < p:
                self.overturn(month, c)
                self._answer(month, tier_name, target, c.restore_to, "overturned")
                continue
            persists = stream.random() < 0.5 + 0.5 * (1.0 - m.trust[c.line])
            if not informal and c.tier + 1 < len(self.ladder) and persists:
                c.tier += 1
                c.due = month + self.ladder[c.tier].delay_months
                self.open.append(c)
                m.tally.count("escalations")
                m.events.log(
                    month=month,
                    actor=target,
                    action="escalate",
                    target=self.ladder[c.tier].name,
                    amount=c.restore_to,
                    rule=f"escalation.{self.ladder[c.tier].name}",
                    evidence=f"not resolved at {tier_name}",
                    outcome="escalated",
                )
                continue
            self.close(month, c, overturned=False)
            if not informal:  # a ladder gives a final answer; informal grievances stay open
                self.settled_at[c.line] = m.allocation[c.line]
            self._answer(month, tier_name, target, 0.0, "upheld")

    def _answer(self, month: int, tier: str, target: str, amount: float, outcome: str) -> None:
        self.model.events.log(
            month=month,
            actor=tier,
            action="escalation_decision",
            target=target,
            amount=amount,
            rule=f"escalation.{tier}",
            evidence="need-fair standard",
            outcome=outcome,
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
        m.tally.count("disputes_upheld")
        m.holder.answer_for(0.15)
        m.experience.won_challenge(c.line)
        self.close(month, c, overturned=True)

    def close(self, month: int, c: Challenge, overturned: bool) -> None:
        self.open_challenge[c.line] = False
        self.model.tally.note("resolution_months", month - c.raised)
        if not overturned:
            self.model.experience.lost_challenge(c.line)
