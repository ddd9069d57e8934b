"""The partners: payers and providers (and the holder's own lines), as Mesa agents.

Agents hold their identity and behaviour; the numbers that change every month (allocations,
trust, effort) live in numpy arrays on the model, indexed by each agent's ``line`` or
``seat``, so the monthly step stays vectorised. An agent reads and writes its own slot.
Each partner draws from a random stream of its own, keyed by its name. The budget holder
is in ``holders.py``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

import mesa
import numpy as np

from poolpilot.model.membership import shifted, tolerance_shift
from poolpilot.model.smallarrays import np_sum
from poolpilot.model.trust import shortfall
from poolpilot.scenario.schema import CADENCE_MONTHS, OwnLine
from poolpilot.scenario.schema import Payer as PayerSpec
from poolpilot.scenario.schema import Provider as ProviderSpec

if TYPE_CHECKING:
    from poolpilot.model.interface import Pilot


def partner_stream(root: np.random.SeedSequence, name: str) -> np.random.Generator:
    """A partner's own random stream, keyed by its name (not its place in the file).

    Reordering partners in a scenario, or adding one, leaves every other partner's draws as
    they were: common random numbers hold partner by partner.
    """
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(
        np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, key))
    )


def normals(partners: Iterable[Payer | Provider]) -> np.ndarray:
    """One standard normal draw per partner, each from its own stream."""
    return np.array([p.rng.standard_normal() for p in partners], dtype=float)


class Payer(mesa.Agent):
    """A funder: contributes, reconciles on its cadence, renews, reduces or withdraws."""

    def __init__(self, model: Pilot, spec: PayerSpec, seat: int, stream: np.random.Generator):
        super().__init__(model)
        self._rng = stream
        self.name = spec.name
        self.spec = spec
        self.seat = seat  # index into the model's payer arrays
        self.cadence = CADENCE_MONTHS[spec.reconciliation]
        self.annual_contribution = spec.annual_contribution
        self.exit_month: int | None = None  # when its notice ends
        self.last_reconciled = 0
        self.exposed = False  # hidden problems exposed by an outside audit since last renewal
        # its own tolerance: both thresholds move by one shift drawn once
        shift = tolerance_shift(stream, model.design.trust.tolerance_spread)
        self.exit_threshold = shifted(spec.exit_threshold, shift)
        self.reduce_threshold = max(self.exit_threshold, shifted(spec.reduce_threshold, shift))

    @property
    def rng(self) -> np.random.Generator:
        """Its own stream (Mesa's ``Agent.rng`` would be the model's)."""
        return self._rng

    @property
    def trust(self) -> float:
        return float(self.model.payer_trust[self.seat])

    def hear_of_exposure(self) -> None:
        """Problems exposed in public weigh on its next renewal."""
        self.exposed = True

    def review_membership(self, month: int) -> None:
        """At renewal: continue, reduce or withdraw, and say so in the audit trail."""
        decision = self.renew(month)
        if decision == "leaving":
            return
        self.model.tally.count(f"payer_{decision}")
        self.model.events.log(
            month=month,
            actor=self.name,
            action="renewal",
            target="pool",
            amount=self.annual_contribution,
            rule="governance.renewal_months",
            evidence=f"trust {self.trust:.2f}, standing {self.standing(month):.2f}",
            outcome=decision,
        )

    def standing(self, month: int) -> float:
        """What it weighs at renewal: its trust, and its own net return over the last year
        (savings against the benchmark and savings shared with it, per unit contributed)."""
        m = self.model
        year = np_sum(m.contributed[max(0, month - 12) : month, self.seat].tolist())
        own = m.parties.own_return(self.seat, month, year)
        return self.trust + self.spec.savings_weight * min(max(own, -1.0), 1.0)  # np.clip

    def renew(self, month: int) -> str:
        """Continue or reduce by its standing (trust and own return); withdraw when problems
        were exposed in public since the last renewal and its standing is below its reduce
        threshold. Leaving for want of standing is a monthly chance (``membership.py``).
        """
        if self.exit_month is not None or not self.model.payer_active[self.seat]:
            return "leaving"
        exposed, self.exposed = self.exposed, False
        standing = self.standing(month)
        if exposed and standing < self.reduce_threshold:
            self.exit_month = month + self.spec.notice_months
            return "withdraw"
        if standing < self.reduce_threshold:
            self.annual_contribution *= 1.0 - self.spec.reduce_fraction
            return "reduce"
        return "continue"

    def give_notice(self, month: int, chance: float) -> None:
        """It leaves when its notice ends; the audit trail says why."""
        self.exit_month = month + self.spec.notice_months
        self.model.tally.count("payer_withdraw")
        self.model.events.log(
            month=month,
            actor=self.name,
            action="exit_notice",
            target="pool",
            amount=self.annual_contribution,
            rule="trust.exit_hazard",
            evidence=f"standing {self.standing(month):.2f}, chance {chance:.3f}",
            outcome=f"leaves in month {self.exit_month}",
        )


class Provider(mesa.Agent):
    """A delivery line: a community provider, or one of the holder's own service lines."""

    def __init__(
        self,
        model: Pilot,
        spec: ProviderSpec | OwnLine,
        line: int,
        name: str,
        own_line: bool,
        stream: np.random.Generator,
    ):
        super().__init__(model)
        self._rng = stream
        self.name = name
        self.spec = spec
        self.line = line  # index into the model's line arrays
        self.own_line = own_line
        self.exit_month: int | None = None
        if own_line:  # the holder's own lines do not leave or disengage
            self.exit_threshold = self.disengage_threshold = 0.0
        else:
            shift = tolerance_shift(stream, model.design.trust.tolerance_spread)
            self.exit_threshold = shifted(spec.exit_threshold, shift)
            self.disengage_threshold = max(
                self.exit_threshold, shifted(spec.disengage_threshold, shift)
            )

    @property
    def rng(self) -> np.random.Generator:
        """Its own stream (Mesa's ``Agent.rng`` would be the model's)."""
        return self._rng

    @property
    def trust(self) -> float:
        return float(self.model.trust[self.line])

    def standing(self, month: int) -> float:
        """What it weighs when it thinks of leaving: its trust in the holder, less how far its
        funding falls short of its need (its own account, whatever the budget)."""
        short = float(shortfall(self.model, month)[self.line])
        return self.trust - self.model.design.trust.adequacy_weight * short

    def give_notice(self, month: int, chance: float) -> None:
        """It leaves when its notice ends; the audit trail says why."""
        self.exit_month = month + self.spec.notice_months
        self.model.events.log(
            month=month,
            actor=self.name,
            action="exit_notice",
            target=self.model.holder.name,
            rule="trust.exit_hazard",
            evidence=f"standing {self.standing(month):.2f}, chance {chance:.3f}",
            outcome=f"leaves in month {self.exit_month}",
        )
