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
        year = m.contributed[max(0, month - 12) : month, self.seat].sum()
        own = m.parties.own_return(self.seat, month, year)
        return self.trust + self.spec.savings_weight * float(np.clip(own, -1.0, 1.0))

    def renew(self, month: int) -> str:
        """Continue, reduce or withdraw, by its standing (trust and own return) and what it found.

        Findings have already cut trust; a payer that saw problems exposed in public since the
        last renewal and no longer trusts the pool enough to continue in full withdraws.
        """
        if self.exit_month is not None or not self.model.payer_active[self.seat]:
            return "leaving"
        exposed, self.exposed = self.exposed, False
        standing = self.standing(month)
        if standing < self.spec.exit_threshold or (
            exposed and standing < self.spec.reduce_threshold
        ):
            self.exit_month = month + self.spec.notice_months
            return "withdraw"
        if standing < self.spec.reduce_threshold:
            self.annual_contribution *= 1.0 - self.spec.reduce_fraction
            return "reduce"
        return "continue"


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

    @property
    def rng(self) -> np.random.Generator:
        """Its own stream (Mesa's ``Agent.rng`` would be the model's)."""
        return self._rng

    @property
    def trust(self) -> float:
        return float(self.model.trust[self.line])

    def review_membership(self, month: int) -> None:
        """At renewal: a partner below its exit threshold gives notice, in the audit trail."""
        if self.renew(month):
            self.model.events.log(
                month=month,
                actor=self.name,
                action="exit_notice",
                target=self.model.holder.name,
                rule="providers.exit_threshold",
                evidence=f"trust {self.trust:.2f}",
                outcome=f"leaves in month {self.exit_month}",
            )

    def renew(self, month: int) -> bool:
        """A partner below its exit threshold gives notice at renewal; True if it does."""
        if self.own_line or self.exit_month is not None:
            return False
        if self.trust < self.spec.exit_threshold:
            self.exit_month = month + self.spec.notice_months
            return True
        return False
