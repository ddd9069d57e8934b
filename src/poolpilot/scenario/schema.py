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

from pydantic import BaseModel, ConfigDict, Field, model_validator

Money = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Months = Annotated[int, Field(ge=0, le=600)]
Name = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.\- ]+$")]


class Section(BaseModel):
    """Base of every scenario section: unknown keys are errors, values are validated on set.

    Numbers must be finite: an infinite contribution or a NaN bound would run and give nonsense.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


# --- population -----------------------------------------------------------------------------


class Shock(Section):
    """A scheduled change in need (a demand shift in one area, a spike in discharge risk)."""

    month: int = Field(ge=1, description="first month affected (1 = the first month)")
    duration_months: int = Field(default=1, ge=1, description="months the shock lasts")
    multiplier: float = Field(ge=0, le=20, description="need is multiplied by this while it lasts")
    services: list[str] = Field(
        default_factory=list, description="services affected; empty means all services"
    )


class Segment(Section):
    """A group of the served population with its own need profile."""

    name: Name = Field(description="segment name, unique")
    size: int = Field(ge=0, description="people in the segment")
    need: dict[str, Annotated[float, Field(ge=0)]] = Field(
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


class Population(Section):
    """The served population, split into segments (vectorised, not one agent per person)."""

    segments: list[Segment] = Field(min_length=1, description="the served population")


# --- services and acute events --------------------------------------------------------------


class AcuteEvent(Section):
    """An acute outcome (readmission, crisis episode) that community services can avert."""

    name: Name = Field(description="event name, unique")
    unit_cost: Money = Field(description="cost of one event, in currency units")
    baseline_rate: float = Field(
        ge=0, le=1, description="events per person per month when community need is fully met"
    )
    borne_by: str = Field(
        default="outside",
        description="who pays for the event: a partner name, 'holder', or 'outside' the pool",
    )


class Service(Section):
    """A service category on the pathway."""

    name: Name = Field(description="service name, unique")
    kind: Literal["community", "acute"] = Field(
        default="community", description="community service or acute/hospital-based service"
    )
    unit_cost: float = Field(gt=0, description="cost of one unit of service, in currency units")
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


class OwnLine(Section):
    """A service line the budget holder runs itself (the root of its conflict of interest)."""

    service: str = Field(description="the service this line delivers")
    capacity: float = Field(ge=0, description="units the line can deliver per month")
    base_effort: Fraction = Field(default=1.0, description="share of funded capacity delivered")


class Provider(Section):
    """A community provider delivering one service category."""

    name: Name = Field(description="provider name, unique among partners")
    service: str = Field(description="the service it delivers")
    capacity: float = Field(ge=0, description="units it can deliver per month")
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
        default=6, description="no pool only: months for a bilateral agreement to move money"
    )


# --- governance -----------------------------------------------------------------------------


class DecisionRule(Section):
    """Whether one kind of decision needs partner approval, and above what size."""

    requires: Literal["alone", "approval"] = Field(
        default="alone", description="the holder decides alone, or needs partner approval"
    )
    threshold_share: Fraction | None = Field(
        default=None,
        description="approval needed when the change exceeds this share of the partner's allocation",
    )
    threshold_amount: Money | None = Field(
        default=None, description="approval needed when the change exceeds this amount per month"
    )
    delay_months: Months = Field(default=1, description="months an approval takes")


class DecisionRights(Section):
    """The decision-rights matrix: absent (enabled false) means the holder acts alone."""

    enabled: bool = Field(default=False, description="a decision-rights matrix exists")
    cut: DecisionRule = Field(default_factory=DecisionRule, description="a cut to a partner")
    investment: DecisionRule = Field(
        default_factory=DecisionRule, description="new money for a partner"
    )


class Tier(Section):
    """One rung of the escalation ladder."""

    name: Name = Field(description="tier name (frontline, contract management, ...)")
    delay_months: Months = Field(default=1, description="months a challenge spends at this tier")
    overturn_probability: Fraction = Field(
        default=0.5, description="chance an unfair decision is overturned at this tier"
    )


class Challenges(Section):
    """Partners' right to challenge decisions that harm them."""

    rights: Literal["none", "informal", "formal"] = Field(
        default="none", description="none, informal, or formal dispute routes"
    )
    propensity: float = Field(
        default=3.0, ge=0, le=50, description="challenge probability per unit of harm (scale)"
    )
    effort_cost: Fraction = Field(
        default=0.03, description="share of effort a pending challenge takes from the challenger"
    )
    informal_delay_mean_months: float = Field(
        default=4.0, ge=0, le=60, description="mean months to settle an informal challenge"
    )
    informal_overturn_probability: Fraction = Field(
        default=0.25, description="chance an informal challenge overturns an unfair decision"
    )


class Escalation(Section):
    """The escalation ladder; an empty ladder means escalation is informal."""

    tiers: list[Tier] = Field(default_factory=list, description="ordered tiers, lowest first")


class Reconciliation(Section):
    """Comparing spend against each payer's rules and contributions."""

    variance_threshold: Fraction = Field(
        default=0.02, description="variance share of spend that triggers an investigation"
    )
    self_assessment_power: Fraction = Field(
        default=0.5, description="chance an investigation finds a real variance without assurance"
    )
    clawback_share: Fraction = Field(
        default=1.0, description="share of disallowed spend recovered when found"
    )
    final_audit: bool = Field(
        default=True, description="everything left undetected surfaces at the end of the pilot"
    )
    external_audit_probability: Fraction = Field(
        default=0.01, description="monthly chance an outside audit exposes hidden problems"
    )


class Assurance(Section):
    """Independent assurance reviews (absent: problems surface only at reconciliation or audit)."""

    enabled: bool = Field(default=False, description="an independent assurance function exists")
    frequency_months: int = Field(default=3, ge=1, le=24, description="months between reviews")
    detection_power: Fraction = Field(
        default=0.9, description="chance a review finds a real problem"
    )


class Validation(Section):
    """Compliance validation of spend against payers' allowable uses before approval."""

    strictness: Fraction = Field(
        default=0.0, description="chance a non-compliant payment is caught before it is made"
    )
    miscoding_rate: Fraction = Field(
        default=0.05,
        description="share of spend charged to the wrong payer when approvals are informal",
    )


class JointReview(Section):
    """Joint performance review with partners."""

    enabled: bool = Field(default=False, description="partners review performance jointly")
    frequency_months: int = Field(default=3, ge=1, le=24, description="months between reviews")
    damping: Fraction = Field(
        default=0.5, description="how much a review damps the holder's self-interest"
    )


class Oversight(Section):
    """Oversight of provider-led decisions: equity monitoring and the power to intervene."""

    enabled: bool = Field(default=False, description="equity monitoring exists")
    strength: Fraction = Field(
        default=0.8, description="how far an intervention pulls decisions back to system priorities"
    )


class Governance(Section):
    """The rules. Each has an absent setting so its effect can be measured."""

    decision_rights: DecisionRights = Field(default_factory=DecisionRights)
    challenges: Challenges = Field(default_factory=Challenges)
    escalation: Escalation = Field(default_factory=Escalation)
    transparency: Fraction = Field(
        default=0.5, description="share of spend and performance data partners can see"
    )
    financial_statements: bool = Field(
        default=False,
        description="partners receive contributions, spend and variance at each reconciliation",
    )
    reconciliation: Reconciliation = Field(default_factory=Reconciliation)
    assurance: Assurance = Field(default_factory=Assurance)
    validation: Validation = Field(default_factory=Validation)
    coi_controls: Fraction = Field(
        default=0.0, description="how strongly conflict-of-interest controls damp self-interest"
    )
    joint_review: JointReview = Field(default_factory=JointReview)
    oversight: Oversight = Field(default_factory=Oversight)
    max_shift_per_cycle: Fraction = Field(
        default=0.3, description="largest share of a partner's allocation moved in one cycle"
    )
    renewal_months: int = Field(
        default=12, ge=1, le=120, description="months between renewal decisions"
    )
    viability_floor: Fraction = Field(
        default=0.5, description="the pilot ends when funding falls below this share of the start"
    )
    unwind: Literal["refund_unspent", "forfeit"] = Field(
        default="refund_unspent", description="how a leaving payer's pooled funds are unwound"
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
        default=0.05, description="prospective only: share of the envelope spent upstream"
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
        default=0.25, description="share of unfunded need a provider serves at its own cost"
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
    sensitivity: Sensitivity | None = Field(
        default=None, description="sensitivity analysis settings (optional)"
    )
