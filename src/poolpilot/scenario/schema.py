"""The scenario schema: one pilot, described as data.

Every field has a type, a unit, a default and a one-line meaning (the ``description``), and
docs/scenario-reference.md is generated from these classes, so the reference cannot drift from
the code. Money is in the scenario's ``currency`` unit; rates and shares are fractions in [0, 1];
time is in months. Every governance rule has an explicit absent setting (``enabled: false``,
``none``, or 0) so its effect can be measured.

Unknown keys are refused (``extra="forbid"``): a typo in a rule name must not silently fall back
to a default.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from poolpilot.scenario.fields import (
    MAX_MONEY,
    Capacity,
    Fraction,
    Money,
    Months,
    Name,
    NeedRate,
    People,
    Section,
)
from poolpilot.scenario.governance import (
    Assurance,
    Challenges,
    DecisionRights,
    DecisionRule,
    Escalation,
    Governance,
    JointReview,
    Oversight,
    Reconciliation,
    SavingsSharing,
    Targeting,
    Tier,
    Validation,
)

__all__ = [
    "Assurance",
    "Capacity",
    "Challenges",
    "DecisionRights",
    "DecisionRule",
    "Escalation",
    "Fraction",
    "Governance",
    "JointReview",
    "Money",
    "Months",
    "Name",
    "NeedRate",
    "Oversight",
    "People",
    "Reconciliation",
    "SavingsSharing",
    "Section",
    "Targeting",
    "Tier",
    "Validation",
]


# --- population -----------------------------------------------------------------------------


class Shock(Section):
    """A scheduled change in need (a demand shift in one area, a spike in discharge risk)."""

    month: int = Field(ge=1, description="first month affected (1 = the first month)")
    duration_months: int = Field(default=1, ge=1, le=600, description="months the shock lasts")
    multiplier: float = Field(ge=0, le=20, description="need is multiplied by this while it lasts")
    services: list[str] = Field(
        default_factory=list, description="services affected; empty means all services"
    )


class Segment(Section):
    """A group of the served population with its own need profile."""

    name: Name = Field(description="segment name, unique")
    size: People = Field(description="people in the segment")
    need: dict[str, NeedRate] = Field(
        description="units of each service needed per person per month"
    )
    trend: float = Field(
        default=0.0, ge=-0.5, le=1.0, description="annual growth of need, as a fraction"
    )
    seasonality: Fraction = Field(
        default=0.0, description="amplitude of the yearly cycle, as a fraction of mean need"
    )
    peak_month: int = Field(default=1, ge=1, le=12, description="calendar month of peak need")
    noise: float = Field(
        default=0.05, ge=0, le=2, description="month-to-month variation of need (lognormal CV)"
    )
    access_difficulty: Fraction = Field(
        default=0.0,
        description="how hard the segment is to reach (0 easy, 1 hardest); drives drift in "
        "provider-led decisions without oversight",
    )
    shocks: list[Shock] = Field(default_factory=list, description="scheduled changes in need")
    acute_rates: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict,
        description="events per person per month for this segment, by acute event, when its "
        "community need is met (absent: the event's baseline_rate)",
    )
    response: dict[str, Annotated[float, Field(ge=0, le=10)]] = Field(
        default_factory=dict,
        description="multiplier on each service's elasticity for this segment's unmet need "
        "(absent: 1)",
    )


class Population(Section):
    """The served population, split into segments (vectorised, not one agent per person)."""

    segments: list[Segment] = Field(min_length=1, description="the served population")


# --- services and acute events --------------------------------------------------------------


class AcuteEvent(Section):
    """An acute outcome (readmission, crisis episode) that community services can avert."""

    name: Name = Field(description="event name, unique")
    unit_cost: Money = Field(description="cost of one event, in currency units")
    baseline_rate: float = Field(
        ge=0,
        le=1,
        description="events per person per month when community need is fully met, for "
        "segments that give no rate of their own",
    )
    borne_by: str | dict[str, Fraction] = Field(
        default="outside",
        description="who pays for the event: a payer's name, 'holder', 'outside' the pilot, or "
        "shares per party summing to 1 ({medicaid: 0.6, outside: 0.4})",
    )

    def shares(self) -> dict[str, float]:
        """Who bears the event's cost, as shares per party (one party: share 1)."""
        if isinstance(self.borne_by, str):
            return {self.borne_by: 1.0}
        return dict(self.borne_by)


class Service(Section):
    """A service category on the pathway."""

    name: Name = Field(description="service name, unique")
    kind: Literal["community", "acute"] = Field(
        default="community", description="community service or acute/hospital-based service"
    )
    unit_cost: float = Field(
        gt=0, le=MAX_MONEY, description="cost of one unit of service, in currency units"
    )
    averts: str | None = Field(
        default=None, description="the acute event that unmet need for this service raises"
    )
    elasticity: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="acute events per unit of unmet need (after the lag)",
    )
    lag_months: int = Field(
        default=1, ge=0, le=24, description="months from unmet need to the acute events it raises"
    )
    discharge_delay_days: float = Field(
        default=0.0,
        ge=0,
        le=60,
        description="excess hospital bed days per unit needed, when who funds this service must "
        "be settled between budgets (a discharge waiting for its step-down service)",
    )


# --- partners -------------------------------------------------------------------------------

Cadence = Literal["monthly", "quarterly", "annual"]
CADENCE_MONTHS: dict[str, int] = {"monthly": 1, "quarterly": 3, "annual": 12}


class Payer(Section):
    """A funder that contributes to the pool (Medicaid, public health, local funds)."""

    name: Name = Field(description="payer name, unique among partners")
    annual_contribution: Money = Field(description="committed contribution per year")
    allowable_uses: list[str] | Literal["all"] = Field(
        default="all", description="services this payer's money may pay for"
    )
    earmarked: bool = Field(
        default=False, description="spend on its allowable uses is charged to it first"
    )
    reconciliation: Cadence = Field(
        default="quarterly", description="how often spend is reconciled against this payer's rules"
    )
    initial_trust: Fraction = Field(default=0.7, description="trust in the pool at the start")
    reduce_threshold: Fraction = Field(
        default=0.45, description="below this trust the payer reduces its contribution at renewal"
    )
    reduce_fraction: Fraction = Field(
        default=0.25, description="share of the contribution cut when it reduces"
    )
    exit_threshold: Fraction = Field(
        default=0.3, description="below this trust the payer withdraws at renewal"
    )
    notice_months: Months = Field(default=3, description="notice period before an exit unwinds")
    savings_weight: Fraction = Field(
        default=0.5,
        description="how much its own return per dollar contributed over the last year (its "
        "acute cost below the benchmark, and savings shared with it) counts beside trust at "
        "renewal",
    )


class OwnLine(Section):
    """A service line the budget holder runs itself (the root of its conflict of interest)."""

    service: str = Field(description="the service this line delivers")
    capacity: Capacity = Field(description="units the line can deliver per month")
    base_effort: Fraction = Field(default=1.0, description="share of funded capacity delivered")


class Provider(Section):
    """A community provider delivering one service category."""

    name: Name = Field(description="provider name, unique among partners")
    service: str = Field(description="the service it delivers")
    capacity: Capacity = Field(description="units it can deliver per month")
    initial_trust: Fraction = Field(default=0.7, description="trust in the holder at the start")
    disengage_threshold: Fraction = Field(
        default=0.35, description="below this trust it stops joint work and data sharing"
    )
    exit_threshold: Fraction = Field(
        default=0.2, description="below this trust it leaves at the next renewal"
    )
    base_effort: Fraction = Field(
        default=1.0, description="share of funded capacity it delivers when trust is full"
    )
    demand_bias: float = Field(
        default=0.0,
        ge=0,
        le=2,
        description="how much it over-reports its own demand when it allocates (provider-led)",
    )
    reserve_months: float = Field(
        default=2.0,
        ge=0,
        le=24,
        description="months of its full capacity cost it can spend from its own reserves on "
        "unfunded work",
    )
    notice_months: Months = Field(default=3, description="notice period before an exit")


HolderKind = Literal["hospital", "county", "convener", "commissioner", "provider_council", "none"]


class Holder(Section):
    """Whoever holds the pooled budget and proposes allocations."""

    kind: HolderKind = Field(
        default="convener", description="who holds the budget; 'none' is the no-pool baseline"
    )
    name: Name = Field(default="holder", description="the holder's name")
    own_lines: list[OwnLine] = Field(
        default_factory=list, description="service lines the holder runs itself"
    )
    self_interest: Fraction = Field(
        default=0.0, description="weight on its own lines against the pathway's need"
    )
    pressure_sensitivity: float = Field(
        default=1.0,
        ge=0,
        le=10,
        description="how much budget pressure raises its self-interest (per unit of shortfall)",
    )
    leverage: Fraction = Field(
        default=1.0,
        description="power to enforce performance and move money decisively (0 none, 1 full)",
    )
    data_lag_months: Months = Field(default=2, description="age of the need data it plans from")
    data_accuracy: Fraction = Field(
        default=0.9, description="accuracy of its need data (1 = exact)"
    )
    planning_cycle_months: int = Field(
        default=3, ge=1, le=24, description="months between allocation proposals"
    )
    bilateral_delay_months: Months = Field(
        default=6,
        description="without a pool (the status quo, and after an early end): months for a "
        "bilateral agreement to move money",
    )
    stint_propensity: Fraction = Field(
        default=0.3,
        description="prospective hospital lead only: share of its own lines' funded volume it "
        "cuts when it keeps all it does not spend and bears none of the acute cost (0: none)",
    )
    statutory_protection: Fraction = Field(
        default=1.0,
        description="county lead only: share of its own (statutory) lines' need cost it funds "
        "first when the budget is short of need (0: no protection)",
    )
    contract_management: Fraction = Field(
        default=0.5,
        description="lead commissioner only: share of a partner's effort shortfall below its "
        "contracted level that contract management recovers, at full leverage (0: none)",
    )


# --- budget basis ---------------------------------------------------------------------------


class Band(Section):
    """One band of a risk corridor: variance beyond ``above`` is shared at ``payer_share``."""

    above: Fraction = Field(description="variance (share of the envelope) where the band starts")
    payer_share: Fraction = Field(description="share of the variance in this band payers take")


class Corridor(Section):
    """Risk corridors sharing over- and underspend of a prospective envelope."""

    enabled: bool = Field(default=False, description="risk corridors apply")
    bands: list[Band] = Field(
        default_factory=lambda: [
            Band(above=0.03, payer_share=0.5),
            Band(above=0.08, payer_share=0.8),
        ],
        description="bands, lowest first (default: ACA, 3% and 8%)",
    )


class InYearAdjustment(Section):
    """Resetting a prospective envelope in year when cost runs away from it."""

    enabled: bool = Field(default=False, description="envelopes are adjusted in year")
    trigger: Fraction = Field(
        default=0.1, description="variance of cost against envelope that triggers an adjustment"
    )


class Budget(Section):
    """Retrospective reimbursement, or a prospective envelope set in advance."""

    basis: Literal["retrospective", "prospective"] = Field(
        default="retrospective",
        description="reimburse delivered activity, or pay an envelope set in advance",
    )
    forecast_error: float = Field(
        default=0.05, ge=0, le=1, description="random error of the need forecast (CV)"
    )
    forecast_bias: float = Field(
        default=0.0,
        ge=-0.9,
        le=1.0,
        description="systematic error of the forecast (-0.1 = 10% low)",
    )
    in_year_adjustment: InYearAdjustment = Field(
        default_factory=InYearAdjustment, description="in-year envelope adjustment"
    )
    corridor: Corridor = Field(default_factory=Corridor)
    rebasing: bool = Field(default=True, description="envelopes are rebased on the latest data")
    upstream_share: Fraction = Field(
        default=0.05,
        description="share of the envelope (prospective) or of each line's allocation, times the "
        "prevention stake (retrospective), spent upstream",
    )
    savings_retained: Fraction = Field(
        default=0.5, description="prospective only: share of an underspend providers keep"
    )
    reserve_share: Fraction = Field(
        default=0.02, description="share of contributions set aside as a risk reserve"
    )
    admin_share: Fraction = Field(
        default=0.05, description="share of contributions spent running the pool"
    )


class Prevention(Section):
    """Upstream spend lowers later need and acute events (with a ceiling)."""

    max_need_reduction: Fraction = Field(
        default=0.2, description="largest share of need that prevention can avert"
    )
    half_effect_per_person: Money = Field(
        default=15.0, description="upstream spend per person per month giving half the ceiling"
    )
    lag_months: Months = Field(default=6, description="months before upstream spend shows")


class TrustRules(Section):
    """How partners' trust moves."""

    gain_rate: Fraction = Field(default=0.06, description="monthly weight of a positive signal")
    loss_asymmetry: float = Field(
        default=3.0, ge=1, le=10, description="losses weigh this many times more than gains"
    )
    forgetting: Fraction = Field(
        default=0.02, description="monthly pull back toward the initial trust"
    )
    effort_sensitivity: Fraction = Field(
        default=0.5, description="share of effort lost as trust falls from 1 to 0"
    )
    unfunded_delivery: Fraction = Field(
        default=0.25,
        description="share of unfunded need a provider serves at its own cost, while its "
        "reserve lasts",
    )
    reserve_rebuild_share: Fraction = Field(
        default=0.02,
        description="share of what a provider is paid that it puts back into its reserve each "
        "month (its operating surplus), up to the reserve's size",
    )
    adequacy_weight: float = Field(
        default=0.0,
        ge=0,
        le=10,
        description="how much funding below its need (as a share of need) lowers a provider's "
        "standing when it weighs leaving (0: only the unfunded work it bears counts)",
    )
    burden_grievance: float = Field(
        default=1.0,
        ge=0,
        le=10,
        description="how much unfunded work, as a share of what the provider was paid, weighs "
        "against its signal",
    )
    signal_noise: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="spread of what each partner hears and sees beyond the facts: the SD of a "
        "monthly noise on its signal",
    )
    tolerance_spread: float = Field(
        default=0.1,
        ge=0,
        le=0.5,
        description="spread of partners' own tolerance: the SD of the shift each partner draws "
        "once for its thresholds",
    )
    exit_hazard: Fraction = Field(
        default=0.15,
        description="monthly chance that a partner far below its exit threshold gives notice "
        "(half of it at the threshold)",
    )
    exit_hazard_width: float = Field(
        default=0.05,
        gt=0,
        le=1,
        description="how sharply the chance of leaving rises as a partner's standing falls "
        "through its exit threshold (trust units)",
    )


class StatusQuo(Section):
    """The status quo a pool replaces: each payer's own contracts (holder.kind none, and so
    every design's no-pool baseline). Each part can be switched off; all off is the idealised
    baseline ``no_pool_ideal``: one frictionless planner over all the money."""

    silo_budgets: bool = Field(
        default=True,
        description="each payer funds its own contracts from its own budget (false: one "
        "planner allocates all the money to need)",
    )
    historic_allocation: Literal["last_year", "current_need"] | dict[str, dict[str, Money]] = Field(
        default="last_year",
        description="the contracts the pilot starts from: 'last_year' (each payer's spend "
        "by service the year before, as it valued that year's need), 'current_need', or "
        "annual amounts per payer and service",
    )
    wrong_pockets: Fraction = Field(
        default=0.5,
        description="how far a payer values a preventive service only by its own share of the "
        "acute cost it averts (0: at its whole-system worth; 1: at its own share only)",
    )
    pool_governance: bool = Field(
        default=False,
        description="the design's pool-level governance (decision rights, joint review, "
        "assurance, statements, escalation ladder, consultation) also acts without the pool",
    )


class Fragmentation(Section):
    """What running the pathway through several budgets costs, which a pool can save."""

    contract_cost: Money = Field(
        default=25000.0,
        description="annual cost to a payer of one contract with one provider without a pool "
        "(procurement, monitoring, duplicated reporting); a pool replaces them with one route",
    )
    bed_day_cost: Money = Field(
        default=1000.0,
        description="cost of one excess hospital bed day, to the party that bears the bed",
    )


class SensitivityParameter(Section):
    """A parameter for global sensitivity analysis."""

    path: str = Field(description="dotted path of the varied field")
    bounds: list[float] | None = Field(default=None, description="[low, high] for a number")
    levels: list[str | float | int | bool] | None = Field(
        default=None, description="the levels of an integer or categorical rule"
    )
    group: str | None = Field(default=None, description="group name (indices per group)")

    @model_validator(mode="after")
    def _bounds_or_levels(self) -> SensitivityParameter:
        if (self.bounds is None) == (self.levels is None):
            raise ValueError("give either bounds or levels")
        if self.bounds is not None and (len(self.bounds) != 2 or self.bounds[0] >= self.bounds[1]):
            raise ValueError("bounds must be [low, high] with low < high")
        return self


class Sensitivity(Section):
    """Parameters and metrics for global sensitivity analysis of this scenario."""

    parameters: list[SensitivityParameter] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list, description="metrics to analyse")


# --- the scenario ---------------------------------------------------------------------------


class Scenario(Section):
    """One pilot design."""

    name: Name = Field(description="design name, shown in results and reports")
    description: str = Field(default="", description="what the design represents")
    seed_article: str | None = Field(default=None, description="the seed article it follows")
    example: str | None = Field(default=None, description="the seed's operational example")
    basis: str | None = Field(default=None, description="where its parameter values come from")
    currency: str = Field(default="USD", description="the unit of every money field")
    horizon_months: int = Field(default=36, ge=1, le=600, description="months the pilot runs")
    population: Population = Field(description="the served population")
    services: list[Service] = Field(min_length=1)
    acute_events: list[AcuteEvent] = Field(default_factory=list)
    payers: list[Payer] = Field(min_length=1)
    holder: Holder = Field(default_factory=Holder)
    providers: list[Provider] = Field(default_factory=list)
    governance: Governance = Field(default_factory=Governance)
    budget: Budget = Field(default_factory=Budget)
    prevention: Prevention = Field(default_factory=Prevention)
    trust: TrustRules = Field(default_factory=TrustRules)
    status_quo: StatusQuo = Field(default_factory=StatusQuo)
    fragmentation: Fragmentation = Field(default_factory=Fragmentation)
    sensitivity: Sensitivity | None = Field(
        default=None, description="sensitivity analysis settings (optional)"
    )
