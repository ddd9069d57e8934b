"""The governance rules of a scenario: each has an explicit absent setting, so its effect can
be measured (``enabled: false``, ``none``, or 0). Part of the schema (``schema.py``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from poolpilot.scenario.fields import Fraction, Money, Months, Name, Section


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
        default=1.0,
        description="share of disallowed spend (or an under-service shortfall) recovered when found",
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


class SavingsSharing(Section):
    """Gain sharing: the parties whose acute cost fell share the savings with the payers that
    funded the pathway (absent: savings stay where they land, the wrong pocket)."""

    enabled: bool = Field(default=False, description="savings are shared each year")
    share: Fraction = Field(
        default=0.5, description="share of a bearer's savings passed to the contributing payers"
    )
    minimum_savings_rate: Fraction = Field(
        default=0.02,
        description="savings smaller than this share of the benchmark are treated as noise",
    )


class Targeting(Section):
    """Where delivered service goes among segments (absent: by need, as it always did)."""

    rule: Literal["need", "risk", "shares"] = Field(
        default="need",
        description="spread delivered service over segments by their need; aim it first "
        "where a unit avoids most acute cost (risk); or give fixed shares per segment",
    )
    shares: dict[str, Fraction] = Field(
        default_factory=dict,
        description="rule shares only: share of each service's delivery aimed at each segment "
        "(capped by its need; the rest is spread by need); shares sum to at most 1",
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
    under_service_floor: Fraction | None = Field(
        default=None,
        description="prospective hospital lead only: least share of its own lines' funded "
        "demand they must deliver; a shortfall found at reconciliation or assurance is clawed "
        "back and holds the holder to account (none: no floor)",
    )
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
    savings_sharing: SavingsSharing = Field(default_factory=SavingsSharing)
    targeting: Targeting = Field(default_factory=Targeting)
