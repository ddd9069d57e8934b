"""Budget holders: who holds the pooled budget, and how that changes what the rules do.

Each kind of holder is a class; ``HOLDERS`` maps the scenario's ``holder.kind`` to it, so a new
kind is one subclass and one entry. What differs between kinds lives here, as methods the rules
ask: how the holder sees need, whether a change needs a partner's approval, how partners vote,
and how far decisions drift from hard-to-reach people. Kinds that differ only by their
parameters today (hospital, county, commissioner, convener) are still classes of their own, so
their own behaviour has one obvious place to go.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import mesa
import numpy as np

from poolpilot.model import silos
from poolpilot.model.agents import normals

if TYPE_CHECKING:
    from poolpilot.model.interface import Pilot
    from poolpilot.scenario.schema import DecisionRights

#: Without a pool, a partner defends its own budget: it agrees to give up a share ``c`` of it
#: with probability ``trust * max(0, 1 - SILO_DEFENCE * c)`` (seed 000: silos funded defensively).
SILO_DEFENCE = 4.0
#: How far, without oversight, provider-led decisions drift from hard-to-reach segments.
OUTREACH_DRIFT = 0.8


class BudgetHolder(mesa.Agent):
    """A lead entity holding the pooled budget and proposing allocations each planning cycle.

    The proposal blends the pathway's need, as the holder can observe it, with its own
    interests: lines it runs itself get priority ``1`` and the others ``1 - w``, where ``w`` is
    its effective self-interest. Under budget pressure ``w`` rises, so whom it cuts follows
    from the same weights.
    """

    #: The providers themselves decide (their own decisions count as consulting them).
    providers_decide: ClassVar[bool] = False
    #: The money is pooled: one budget, one route, pool-level governance.
    pooled: ClassVar[bool] = True

    def __init__(self, model: Pilot):
        super().__init__(model)
        spec = model.design.holder
        self.spec = spec
        self.name = spec.name
        self.kind = spec.kind
        self.accountability = 0.0  # raised by overturned decisions and joint reviews, decays

    # --- what it knows and wants ---------------------------------------------------------

    def self_interest(self, pressure: float) -> float:
        """Effective weight on its own lines, after pressure and the damping rules."""
        gov = self.model.design.governance
        w = self.spec.self_interest * (1.0 + self.spec.pressure_sensitivity * pressure)
        w *= 1.0 - gov.coi_controls
        if gov.joint_review.enabled:
            w *= 1.0 - gov.joint_review.damping
        w *= 1.0 - self.accountability
        return float(min(1.0, max(0.0, w)))

    def observed_need_cost(self, month: int) -> np.ndarray:
        """Need cost per line as the holder's data shows it: lagged and noisy."""
        m = self.model
        lag = self.spec.data_lag_months
        lo = max(0, month - 1 - lag - 2)
        hi = max(1, month - lag)
        seen = m.line_need_history[lo:hi].mean(axis=0)
        error = (1.0 - self.spec.data_accuracy) * normals(m.lines)
        # partners that have disengaged stop sharing data: their lines are seen worse
        error *= np.where(m.disengaged, 3.0, 1.0)
        return np.maximum(seen * (1.0 + error), 0.0) * m.line_unit_cost

    def propose(self, month: int, budget: float, need_cost: np.ndarray | None = None) -> np.ndarray:
        """The allocation it would like, per line, for a monthly ``budget``.

        ``need_cost`` replaces the observed need (a prospective budget plans from a forecast).
        """
        m = self.model
        if need_cost is None:
            need_cost = self.observed_need_cost(month)
        need_cost = need_cost * m.line_active
        total = need_cost.sum()
        if total <= 0:
            return np.zeros(m.n_lines)
        pressure = max(0.0, 1.0 - budget / total)
        w = self.self_interest(pressure)
        priority = np.where(m.line_own, 1.0, 1.0 - w)
        weight = need_cost * priority
        if weight.sum() <= 0:
            return np.zeros(m.n_lines)
        proposal = budget * weight / weight.sum()
        cap = m.line_capacity * m.line_unit_cost * m.line_active
        over = np.maximum(proposal - cap, 0.0).sum()
        proposal = np.minimum(proposal, cap)
        room = cap - proposal
        if over > 0 and room.sum() > 1e-9:  # one pass of redistribution to lines with room
            proposal += room * min(1.0, over / room.sum())
        return proposal

    # --- how the rules treat its decisions -----------------------------------------------

    def needs_approval(
        self, rights: DecisionRights, line_own: bool, current: float, change: float
    ) -> tuple[bool, int]:
        """Whether a change needs partner approval under the decision-rights matrix, and how
        long the approval takes."""
        if not rights.enabled:
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

    def partner_agrees(self, kind: str, harm: float, trust: float, given_up: float) -> float:
        """Chance the partner whose line a change touches votes for it."""
        if kind == "cut":
            return trust * (1.0 - min(1.0, 3.0 * harm))
        return 1.0

    def payers_vote(self, line_own: bool, kind: str) -> bool:
        """Whether the payers vote on a change (in a pool they vote on every change)."""
        return True

    def outreach_drift(self) -> float:
        """How far its decisions drift from hard-to-reach segments (0: none)."""
        return 0.0

    def consults(self) -> bool:
        """Whether putting a change to a vote counts as consulting the partner (it does in a
        pool, whose governance gives partners a say)."""
        return True

    def charge_shares(self) -> np.ndarray | None:
        """payers x services: who pays each service's spend, or None for the pool's rule
        (earmarked payers first, then pro rata: ``attribution.py``)."""
        return None

    def answer_for(self, amount: float) -> None:
        """Being held to account (a decision overturned, a joint review) damps self-interest."""
        self.accountability = min(0.9, self.accountability + amount)

    def month_passes(self) -> None:
        """Accountability fades when nobody asks."""
        self.accountability *= 0.95


class HospitalHolder(BudgetHolder):
    """A hospital system holding the budget, with service lines of its own (seed 000)."""


class CountyHolder(BudgetHolder):
    """A county authority holding the budget under statutory pressure (seed 000)."""


class CommissionerHolder(BudgetHolder):
    """A lead commissioner holding the budget for several payers (seed 000)."""


class ConvenerHolder(BudgetHolder):
    """A neutral convener: no lines of its own, and perhaps little leverage (seed 000)."""


class ProviderCouncil(BudgetHolder):
    """A council of providers allocating the budget among themselves (seed 001).

    Each provider reports the demand it sees locally, now, with its own bias; they decide
    changes to their own lines without approval, and those decisions count as consulting them.
    Without oversight, decisions drift away from hard-to-reach segments.
    """

    providers_decide: ClassVar[bool] = True

    def observed_need_cost(self, month: int) -> np.ndarray:
        """Oversight (equity monitoring and the power to intervene) pulls the reports back to
        the system's view of need."""
        m = self.model
        seen = m.line_need_history[month - 1]
        correction = self._oversight()
        bias = m.line_demand_bias * (1.0 - correction)
        error = 0.02 * normals(m.lines)
        return np.maximum(seen * (1.0 + bias + error), 0.0) * m.line_unit_cost

    def needs_approval(
        self, rights: DecisionRights, line_own: bool, current: float, change: float
    ) -> tuple[bool, int]:
        if not line_own:
            return False, 0
        return super().needs_approval(rights, line_own, current, change)

    def outreach_drift(self) -> float:
        return OUTREACH_DRIFT * (1.0 - self._oversight())

    def _oversight(self) -> float:
        oversight = self.model.design.governance.oversight
        return oversight.strength if oversight.enabled else 0.0


class NoPool(BudgetHolder):
    """No pool: the status quo. Each payer's own contracts, changed only by bilateral agreement.

    Each payer funds the services it may pay for from its own budget, as far as it values them
    (``silos.py``: the wrong pocket), starting from its historic contracts; every move between
    partners needs their agreement and takes ``holder.bilateral_delay_months``, and a partner
    asked to give up budget defends it (seed 000: silos funded defensively). With
    ``status_quo.silo_budgets`` off, one planner allocates all the money to need instead (the
    idealised baseline).
    """

    pooled: ClassVar[bool] = False

    def __init__(self, model: Pilot):
        super().__init__(model)
        self.status_quo = model.design.status_quo
        self._shares: np.ndarray | None = None

    def propose(self, month: int, budget: float, need_cost: np.ndarray | None = None) -> np.ndarray:
        if not self.status_quo.silo_budgets:
            return super().propose(month, budget, need_cost)
        m = self.model
        if need_cost is None:
            need_cost = self.observed_need_cost(month)
        if month == 1:
            funded = silos.historic_contracts(m, need_cost)
        else:
            funded = silos.contracts(m, need_cost)
        by_service = np.zeros((m.n_payers, len(m.service_names)))
        for k in range(by_service.shape[1]):
            by_service[:, k] = funded[:, m.line_service == k].sum(axis=1)
        total = by_service.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            self._shares = np.where(total > 0, by_service / total, m.silo_split)
        return np.minimum(funded.sum(axis=0), m.line_capacity * m.line_unit_cost * m.line_active)

    def charge_shares(self) -> np.ndarray | None:
        """Each payer pays its own contracts."""
        return self._shares

    def consults(self) -> bool:
        """A bilateral negotiation earns consultation credit only in the idealised baseline."""
        return self.status_quo.pool_governance

    def needs_approval(
        self, rights: DecisionRights, line_own: bool, current: float, change: float
    ) -> tuple[bool, int]:
        return True, self.spec.bilateral_delay_months

    def partner_agrees(self, kind: str, harm: float, trust: float, given_up: float) -> float:
        if kind == "cut":
            return trust * max(0.0, 1.0 - SILO_DEFENCE * given_up)
        return 1.0

    def payers_vote(self, line_own: bool, kind: str) -> bool:
        """Without a pool, payers agree only to new money and to changes on the holder's lines."""
        return line_own or kind == "investment"


#: The holder class for each ``holder.kind``: a new kind is one subclass and one entry here.
HOLDERS: dict[str, type[BudgetHolder]] = {
    "hospital": HospitalHolder,
    "county": CountyHolder,
    "commissioner": CommissionerHolder,
    "convener": ConvenerHolder,
    "provider_council": ProviderCouncil,
    "none": NoPool,
}
