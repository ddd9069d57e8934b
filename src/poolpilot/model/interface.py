"""The interface between the model and its rules: what a rule may read, and how it acts.

Rules (decisions, challenges, attribution, assurance, prospective budgets, trust) and agents
are written against this protocol, not against ``PilotModel`` itself, so they do not import
the model (no cycle) and what they touch is listed in one place. They *read* the arrays below
and *act* only through the verbs: ``allocate`` and the books for money and allocations, the
tally for what they count, the partners' ``experience`` for what trust will weigh, the
accounts for payers' shares, the envelope year for prospective budgets, the holder's methods
for what it answers for, and ``surprise_payers`` for shocks to payers' trust.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from poolpilot.model.events import EventLog
    from poolpilot.model.ledger import Books
    from poolpilot.model.state import EnvelopeYear, Experience, Parties, PayerAccounts
    from poolpilot.model.tally import Tally
    from poolpilot.scenario.schema import DecisionRights, Scenario
    from poolpilot.scenario.schema import Payer as PayerSpec


class Partner(Protocol):
    """A payer or a provider line, as the rules see it (``agents.py``)."""

    name: str
    spec: Any
    exit_month: int | None
    exit_threshold: float  # its own, after its tolerance shift (membership.py)

    @property
    def rng(self) -> np.random.Generator: ...

    @property
    def trust(self) -> float: ...

    def give_notice(self, month: int, chance: float) -> None: ...


class LinePartner(Partner, Protocol):
    line: int
    own_line: bool

    def standing(self, month: int) -> float: ...


class PayerPartner(Partner, Protocol):
    spec: PayerSpec
    seat: int
    annual_contribution: float
    last_reconciled: int

    def hear_of_exposure(self) -> None: ...

    def standing(self, month: int) -> float: ...


class Holder(Protocol):
    """The budget holder, as the rules see it (``holders.py``)."""

    name: str
    kind: str
    providers_decide: bool

    def needs_approval(
        self, rights: DecisionRights, line_own: bool, current: float, change: float
    ) -> tuple[bool, int]: ...

    def partner_agrees(self, kind: str, harm: float, trust: float, given_up: float) -> float: ...

    def payers_vote(self, line_own: bool, kind: str) -> bool: ...

    def answer_for(self, amount: float) -> None: ...

    @property
    def pooled(self) -> bool: ...

    def consults(self) -> bool: ...

    def charge_shares(self) -> np.ndarray | None: ...


class Pilot(Protocol):
    """What the rules of a pilot see of it (``PilotModel`` implements it)."""

    design: Scenario
    rng: np.random.Generator
    month: int
    horizon: int
    running: bool
    initial_funding: float
    # the parts that act
    holder: Holder
    payers: list[PayerPartner]
    lines: list[LinePartner]
    events: EventLog
    books: Books
    tally: Tally
    experience: Experience
    accounts: PayerAccounts
    envelopes: EnvelopeYear
    # lines (providers and the holder's own lines), by index
    n_lines: int
    line_names: list[str]
    line_own: np.ndarray
    line_active: np.ndarray
    line_approved: np.ndarray
    line_capacity: np.ndarray
    line_unit_cost: np.ndarray
    line_demand_bias: np.ndarray
    line_need_history: np.ndarray
    line_spend: np.ndarray
    line_burden: np.ndarray
    line_reserve: np.ndarray
    allocation: np.ndarray
    fair: np.ndarray
    trust: np.ndarray
    disengaged: np.ndarray
    # payers, by seat
    n_payers: int
    payer_names: list[str]
    payer_active: np.ndarray
    payer_allows: np.ndarray
    payer_allows_lists: list[list[int]]
    payer_earmarked_lists: list[list[int]]
    payer_earmarked: np.ndarray
    payer_trust: np.ndarray
    # services and outcomes
    service_names: list[str]
    service_unit_cost: np.ndarray
    mean_trend: float
    unmet: np.ndarray
    need: np.ndarray
    true_need: np.ndarray
    line_service: np.ndarray
    acute: np.ndarray
    acute_after: np.ndarray
    people: int
    acute_baseline: np.ndarray
    acute_unit_cost: np.ndarray
    acute_lag: np.ndarray
    elasticity: np.ndarray
    response: np.ndarray
    # who pays for what (accounts.py, silos.py)
    parties: Parties
    bearers: np.ndarray
    beds: np.ndarray
    silo_split: np.ndarray
    silo_value: np.ndarray
    delay_days: np.ndarray
    status_quo_cover: np.ndarray
    contributed: np.ndarray
    prevention_stake: float

    # what delivery reads and records each month (delivery.py)
    disputes: Any  # challenges.Disputes: its open_challenge mask
    line_base_effort: np.ndarray
    contracted_effort: np.ndarray
    line_reserve_size: np.ndarray
    pay_routes: list[tuple[str, str]]
    funded_demand: np.ndarray
    funded_delivered: np.ndarray
    payer_spend: np.ndarray
    upstream: np.ndarray
    cost_incurred: np.ndarray
    planned_spend: np.ndarray
    funded_cost_by_service: np.ndarray

    @property
    def envelopes_set(self) -> bool: ...

    @property
    def visibility(self) -> float: ...

    def monthly_budget(self) -> float: ...

    def allocate(self, month: int, levels: np.ndarray, rule: str, evidence: str) -> None: ...

    def surprise_payers(self, cut: np.ndarray) -> None: ...
