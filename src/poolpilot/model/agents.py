"""The organisations: payers, the budget holder and providers, as Mesa agents.

Agents hold their identity and behaviour; the numbers that change every month (allocations,
trust, effort) live in numpy arrays on the model, indexed by each agent's ``line`` or
``seat``, so the monthly step stays vectorised. An agent reads and writes its own slot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from poolpilot.scenario.schema import CADENCE_MONTHS, OwnLine
from poolpilot.scenario.schema import Payer as PayerSpec
from poolpilot.scenario.schema import Provider as ProviderSpec

if TYPE_CHECKING:
    from poolpilot.model.pilot import PilotModel


class Payer(mesa.Agent):
    """A funder: contributes, reconciles on its cadence, renews, reduces or withdraws."""

    def __init__(self, model: PilotModel, spec: PayerSpec, seat: int):
        super().__init__(model)
        self.name = spec.name
        self.spec = spec
        self.seat = seat  # index into the model's payer arrays
        self.cadence = CADENCE_MONTHS[spec.reconciliation]
        self.annual_contribution = spec.annual_contribution
        self.exit_month: int | None = None  # when its notice ends
        self.last_reconciled = 0
        self.exposed = False  # hidden problems exposed by an outside audit since last renewal

    @property
    def trust(self) -> float:
        return float(self.model.payer_trust[self.seat])

    def renew(self, month: int) -> str:
        """Continue, reduce or withdraw, by its trust and what it found.

        Findings have already cut trust; a payer that saw problems exposed in public since the
        last renewal and no longer trusts the pool enough to continue in full withdraws.
        """
        if self.exit_month is not None or not self.model.payer_active[self.seat]:
            return "leaving"
        exposed, self.exposed = self.exposed, False
        if self.trust < self.spec.exit_threshold or (
            exposed and self.trust < self.spec.reduce_threshold
        ):
            self.exit_month = month + self.spec.notice_months
            return "withdraw"
        if self.trust < self.spec.reduce_threshold:
            self.annual_contribution *= 1.0 - self.spec.reduce_fraction
            return "reduce"
        return "continue"


class Provider(mesa.Agent):
    """A delivery line: a community provider, or one of the holder's own service lines."""

    def __init__(
        self,
        model: PilotModel,
        spec: ProviderSpec | OwnLine,
        line: int,
        name: str,
        own_line: bool,
    ):
        super().__init__(model)
        self.name = name
        self.spec = spec
        self.line = line  # index into the model's line arrays
        self.own_line = own_line
        self.exit_month: int | None = None

    @property
    def trust(self) -> float:
        return float(self.model.trust[self.line])

    def renew(self, month: int) -> bool:
        """A partner below its exit threshold gives notice at renewal; True if it does."""
        if self.own_line or self.exit_month is not None:
            return False
        if self.trust < self.spec.exit_threshold:
            self.exit_month = month + self.spec.notice_months
            return True
        return False


class BudgetHolder(mesa.Agent):
    """Holds the pooled budget and proposes allocations each planning cycle.

    The proposal blends the pathway's need, as the holder can observe it, with its own
    interests: lines it runs itself get priority ``1`` and the others ``1 - w``, where ``w`` is
    its effective self-interest. Under budget pressure ``w`` rises, so whom it cuts follows
    from the same weights.
    """

    def __init__(self, model: PilotModel):
        super().__init__(model)
        spec = model.design.holder
        self.spec = spec
        self.name = spec.name
        self.kind = spec.kind
        self.accountability = 0.0  # raised by overturned decisions and joint reviews, decays

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
        if self.kind == "provider_council":
            return self._reported_need_cost(month)
        lag = self.spec.data_lag_months
        lo = max(0, month - 1 - lag - 2)
        hi = max(1, month - lag)
        seen = m.line_need_history[lo:hi].mean(axis=0)
        error = (1.0 - self.spec.data_accuracy) * m.rng.standard_normal(m.n_lines)
        # partners that have disengaged stop sharing data: their lines are seen worse
        error *= np.where(m.disengaged, 3.0, 1.0)
        return np.maximum(seen * (1.0 + error), 0.0) * m.line_unit_cost

    def _reported_need_cost(self, month: int) -> np.ndarray:
        """Provider-led: each provider reports the demand it sees locally, now, with its bias.

        Oversight (equity monitoring and the power to intervene) pulls the reports back to the
        system's view of need.
        """
        m = self.model
        seen = m.line_need_history[month - 1]
        oversight = m.design.governance.oversight
        correction = oversight.strength if oversight.enabled else 0.0
        bias = m.line_demand_bias * (1.0 - correction)
        error = 0.02 * m.rng.standard_normal(m.n_lines)
        return np.maximum(seen * (1.0 + bias + error), 0.0) * m.line_unit_cost

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
