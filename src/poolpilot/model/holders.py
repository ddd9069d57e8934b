"""Budget holders: who holds the pooled budget, and how that changes what the rules do.

Each kind of holder is a class; ``HOLDERS`` maps the scenario's ``holder.kind`` to it, so a new
kind is one subclass and one entry. What differs between kinds lives here, as methods the rules
ask: how the holder sees need and proposes, whether a change needs a partner's approval, how
partners vote, how far decisions drift from hard-to-reach people, how it manages partners'
delivery, and what its own lines withhold. The lead-entity kinds of seed 000 behave as the seed
describes them: a hospital paid a prospective envelope may cut its own volume (held back by the
acute cost it bears and by an under-service floor), a county funds its statutory services
first when the budget is short, a lead commissioner manages partners' delivery through their
contracts (seed 003), and a convener has nothing but the leverage the design gives it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import mesa
import numpy as np

from poolpilot.model import prospective, silos
from poolpilot.model.agents import normals
from poolpilot.model.smallarrays import some

if TYPE_CHECKING:
    from poolpilot.model.interface import Pilot
    from poolpilot.scenario.schema import DecisionRights

#: Without a pool, a partner defends its own budget: it agrees to give up a share ``c`` of it
#: with probability ``trust * max(0, 1 - SILO_DEFENCE * c)`` (seed 000: silos funded defensively).
SILO_DEFENCE = 4.0
#: How far, without oversight, provider-led decisions drift from hard-to-reach segments.
OUTREACH_DRIFT = 0.8
#: Accountability a holder gains when a check finds its own lines below the under-service
#: floor (as much as an overturned decision: ``Disputes.overturn``).
BREACH_ACCOUNTABILITY = 0.15


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
        w = self.spec.self_interest * (1.0 + self.spec.pressure_sensitivity * pressure)
        return float(min(1.0, max(0.0, self._damped(w))))

    def _damped(self, w: float) -> float:
        """``w`` after conflict-of-interest controls, joint review and accountability."""
        gov = self.model.design.governance
        w *= 1.0 - gov.coi_controls
        if gov.joint_review.enabled:
            w *= 1.0 - gov.joint_review.damping
        w *= 1.0 - self.accountability
        return w

    def observed_need_cost(self, month: int) -> np.ndarray:
        """Need cost per line as the holder's data shows it: lagged and noisy."""
        m = self.model
        lag = self.spec.data_lag_months
        lo = max(0, month - 1 - lag - 2)
        hi = max(1, month - lag)
        seen = m.line_need_history[lo:hi].sum(axis=0) / (hi - lo)  # .mean(axis=0), to the bit
        error = (1.0 - self.spec.data_accuracy) * normals(m.lines)
        # partners that have disengaged stop sharing data: their lines are seen worse
        if some(m.disengaged):
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
        # how far the budget falls short of need (0 when it covers it; a tiny need would
        # overflow budget / total, hence the test first: the same values)
        pressure = 1.0 - budget / total if budget < total else 0.0
        w = self.self_interest(pressure)
        priority = np.where(m.line_own, 1.0, 1.0 - w)
        weight = need_cost * priority
        weight_total = weight.sum()
        if weight_total <= 0:
            return np.zeros(m.n_lines)
        proposal = budget * weight / weight_total
        cap = m.line_capacity * m.line_unit_cost * m.line_active
        over = np.maximum(proposal - cap, 0.0).sum()
        proposal = np.minimum(proposal, cap)
        room = cap - proposal
        if over > 0 and room.sum() > 1e-9:  # one pass of redistribution to lines with room
            proposal += room * min(1.0, over / room.sum())
        return proposal

    # --- delivery -----------------------------------------------------------------------

    def contract_effort(self, contracted: np.ndarray, effort: np.ndarray) -> np.ndarray:
        """Each line's effort after the holder manages delivery against ``contracted`` (the
        effort its contract and leverage enforce at full trust); the base holder does nothing."""
        return effort

    def withhold(
        self,
        t: int,
        demand: np.ndarray,
        funded_units: np.ndarray,
        funded: np.ndarray,
        spare: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Units its own lines withhold of what they would deliver (``funded``), and the part
        of that demand leaking to each partner line with ``spare`` capacity (unfunded there);
        the base holder withholds nothing."""
        return np.zeros_like(funded), np.zeros_like(funded)

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
    """A hospital system holding the budget, with service lines of its own (seed 000).

    It weighs its margin against the acute cost it bears. Paid a prospective envelope for its
    own lines, it keeps part of what they do not deliver (``prospective.kept_share``), so it
    cuts their volume (stints; Maryland's global budgets: EVIDENCE.md section 3), less the more
    of the readmissions that follow it bears itself, and less under the rules that damp its
    self-interest. The demand it does not serve leaks to partners' lines of the same service
    as unfunded need, as far as they have spare capacity, or out of the pool (unmet need, and
    acute events). An under-service floor (``governance.under_service_floor``) holds it back:
    a shortfall below the floor, found when reconciliation or assurance looks, is clawed back
    and holds the hospital to account (``BREACH_ACCOUNTABILITY``).
    """

    def __init__(self, model: Pilot):
        super().__init__(model)
        self.breach = np.zeros(model.n_lines)  # shortfall below the floor not yet found (money)
        self.withheld = np.zeros(model.horizon)  # units its own lines withheld, by month
        self.own_funded = np.zeros(model.horizon)  # units they would have delivered, by month

    def stint_share(self) -> np.ndarray:
        """Per line, the share of funded volume it cuts: 0 on partners' lines, and on its own

        ``stint_propensity * damping * max(0, kept - borne / unit cost)``

        where ``kept`` is the share of an underspend the line keeps, ``borne`` the acute cost
        the holder bears per unit of the line's service left unmet (its ``borne_by`` share of
        the events the service averts, times their elasticity and cost) and ``damping`` what
        conflict-of-interest controls, joint review and accountability leave of self-interest.
        """
        m = self.model
        kept = prospective.kept_share(m)
        if kept <= 0:
            return np.zeros(m.n_lines)
        holder = m.parties.index("holder")
        borne = (m.elasticity * m.acute_unit_cost) @ m.bearers[:, holder]  # per service unit
        net = np.maximum(kept - borne[m.line_service] / m.line_unit_cost, 0.0)
        share = self.spec.stint_propensity * self._damped(1.0) * net
        return np.where(m.line_own, np.clip(share, 0.0, 1.0), 0.0)

    def withhold(
        self,
        t: int,
        demand: np.ndarray,
        funded_units: np.ndarray,
        funded: np.ndarray,
        spare: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        m = self.model
        cut = self.stint_share() * funded
        leaked = np.zeros(m.n_lines)
        for k in sorted(set(m.line_service[cut > 0].tolist())):  # np.unique, for a few lines
            room = spare * ((m.line_service == k) & ~m.line_own & m.line_active)
            lost, open_room = cut[m.line_service == k].sum(), room.sum()
            if open_room > 0:  # at most all the room (dividing only then: no overflow)
                leaked += room * (lost / open_room if lost < open_room else 1.0)
        self.withheld[t - 1] = cut.sum()
        self.own_funded[t - 1] = funded[m.line_own].sum()
        floor = m.design.governance.under_service_floor
        if floor is not None and prospective.kept_share(m) > 0:
            due = floor * np.minimum(demand, funded_units)
            short = np.maximum(due - (funded - cut), 0.0) * m.line_own * m.line_active
            self.breach += short * m.line_unit_cost
        return cut, leaked

    def month_passes(self) -> None:
        """Checks that look this month may find its own lines below the under-service floor:
        what they find is clawed back and it answers for it; then accountability fades."""
        m = self.model
        if self.breach.sum() > 0:
            power = prospective.floor_check_power(m, m.month)
            if power > 0 and m.rng.random() < power:
                for line in (self.breach > 0).nonzero()[0]:
                    prospective.claw_back(m, m.month, line, self.breach[line])
                m.tally.count("under_service_findings")
                self.breach[:] = 0.0
                self.answer_for(BREACH_ACCOUNTABILITY)
        super().month_passes()


class CountyHolder(BudgetHolder):
    """A county authority holding the budget under statutory pressure (seed 000).

    Its own lines are statutory services (crisis response, county clinics) it must provide
    whatever the pool can afford: when the budget is short of need it funds them first, up to
    ``holder.statutory_protection`` of their need cost, and the shortfall falls on partners'
    lines (seed 000: "a purchaser optimizing its own statutory pressures through the pooled
    budget"). A statutory duty is not discretion, so conflict-of-interest controls and joint
    review, which damp its self-interest, do not lift it.
    """

    def propose(self, month: int, budget: float, need_cost: np.ndarray | None = None) -> np.ndarray:
        m = self.model
        if need_cost is None:
            need_cost = self.observed_need_cost(month)
        proposal = super().propose(month, budget, need_cost)
        need = need_cost * m.line_active
        protect = self.spec.statutory_protection
        if protect <= 0 or budget >= need.sum() or not m.line_own.any():
            return proposal
        cap = m.line_capacity * m.line_unit_cost * m.line_active
        floor = np.where(m.line_own, np.minimum(protect * need, cap), 0.0)
        if floor.sum() > budget:
            floor *= budget / floor.sum()
        short = np.maximum(floor - proposal, 0.0)
        others = np.where(m.line_own, 0.0, proposal)
        moved = min(short.sum(), others.sum())
        if moved <= 0:
            return proposal
        return proposal + short * (moved / short.sum()) - others * (moved / others.sum())


class CommissionerHolder(BudgetHolder):
    """A lead commissioner holding the primary contract for several payers (seed 003).

    It manages delivery through the contracts: partners have one contract and one reporting
    route, and under-delivery goes to contract management (the ladder's second tier). Each
    month it recovers ``holder.contract_management * holder.leverage`` of the effort a partner
    withholds below its contracted level (through low trust or disengagement); it cannot
    enforce more than the contract.
    """

    def contract_effort(self, contracted: np.ndarray, effort: np.ndarray) -> np.ndarray:
        recover = self.spec.contract_management * self.spec.leverage
        return effort + recover * np.maximum(contracted - effort, 0.0)


class ConvenerHolder(BudgetHolder):
    """A neutral convener: no lines of its own, and perhaps little leverage (seed 000).

    It has only what the design gives it: validation refuses own lines for it, it has no
    statutory services, manages no contracts beyond what ``holder.leverage`` enforces in
    delivery (``delivery.deliver``), lets money move (``Approvals.decide``) and settles at
    the boundary between budgets (``silos.boundary``), and it overrides nothing of the base
    holder. A weak convener (low leverage) leaves under-delivery in place and moves money
    slowly (claim 16).
    """


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
