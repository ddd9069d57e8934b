"""The claims table of DESIGN.md as paired experiments, and docs/validation.md.

Each claim compares a practice present and absent (scenario overrides on a preset), runs both
arms at the same seeds (common random numbers: the same need), and checks the claimed direction
of each named metric with `poolpilot.analysis.paired.paired`: the 99% bootstrap confidence
interval of the mean paired difference (absent - present) must exclude zero on the claimed
side. The model has no special case for any claim: the directions have to come
out of the mechanisms.

    python -m poolpilot.analysis.claims --out docs/validation.md     # (make validate)
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from poolpilot.analysis.paired import paired
from poolpilot.model import metrics
from poolpilot.model.pilot import PilotModel
from poolpilot.runs.study import run_seeds
from poolpilot.scenario import load_scenario, validate_data
from poolpilot.scenario.schema import Scenario
from poolpilot.scenario.variants import no_pool_variant, without_own_lines

#: Replicates per arm: enough for 99% intervals to be clear of zero for real effects.
REPLICATES = 60
#: Confidence level of the interval of each paired difference (stricter than paired()'s 95%:
#: a table of 29 checks should not hold by luck).
LEVEL = 0.99


@dataclass(frozen=True)
class Expectation:
    """A metric and the sign the claim predicts for (absent - present)."""

    metric: str
    absent_higher: bool


@dataclass(frozen=True)
class Claim:
    """One row of the claims table: a practice varied, and what should follow."""

    # unique; ``row`` is the row of DESIGN.md's claims table, or, for a claim an issue asked
    # for, the issue and its point ("16.4": issue 16, point 4)
    number: int
    row: str
    seed_article: str
    practice: str
    expected: str
    preset: str
    present: dict[str, Any]
    absent: dict[str, Any]
    expectations: tuple[Expectation, ...]
    common: dict[str, Any] = field(default_factory=dict)
    absent_design: str | None = None  # a transformation of the design, e.g. "convener"
    months: int = 36
    replicates: int | None = None  # more than the default where the outcome is rare


def higher(metric: str) -> Expectation:
    return Expectation(metric, absent_higher=True)


def lower(metric: str) -> Expectation:
    return Expectation(metric, absent_higher=False)


def as_convener(scenario: Scenario) -> Scenario:
    """The same pilot with a neutral convener holding the pool: own lines become providers."""
    data = without_own_lines(scenario, "convener")
    return validate_data(data, f"{scenario.name} (convener)")


TRANSFORMS = {"convener": as_convener, "no_pool": no_pool_variant}

LADDER = [
    {"name": "frontline", "delay_months": 1, "overturn_probability": 0.3},
    {"name": "contract_management", "delay_months": 1, "overturn_probability": 0.5},
    {"name": "system_governance", "delay_months": 1, "overturn_probability": 0.7},
]

CLAIMS: list[Claim] = [
    Claim(
        1,
        "1",
        "000",
        "hospital lead under budget pressure, partner challenge rights and joint review absent vs present",
        "without: the community share of spend falls, community under-service and later "
        "readmissions rise; with: they hold",
        "hospital_led_post_acute",
        present={},
        absent={"governance.challenges.rights": "none", "governance.joint_review.enabled": False},
        common={"payers.medicaid.annual_contribution": 12_000_000},
        expectations=(
            lower("community_spend_share"),
            higher("community_unmet_need_share"),
            higher("acute_events"),
        ),
        # partners now leave by chance and some pilots end early (fewer months of events):
        # four times the replicates to see the same effect through that noise
        replicates=240,
    ),
    Claim(
        2,
        "2",
        "000",
        "a pooled lead entity vs no pool",
        "the pool reallocates toward shared priorities faster",
        "convener_led_multi_provider",
        present={},
        absent={},
        absent_design="no_pool",
        expectations=(higher("demand_mismatch"),),
    ),
    Claim(
        3,
        "3",
        "000",
        "county lead with vs without approval thresholds and open dashboards",
        "without: trust in the county falls faster",
        "county_led_bh_housing",
        present={},
        absent={"governance.decision_rights.enabled": False, "governance.transparency": 0.2},
        expectations=(higher("trust_erosion"),),
    ),
    Claim(
        4,
        "4",
        "000",
        "independent convener vs hospital lead",
        "convener: more balanced allocation (funding closer to need by service, less "
        "community under-service), higher partner trust",
        "hospital_led_post_acute",
        present={},
        absent={},
        absent_design="convener",
        # not cost_shift_index: it is zero by definition for a holder without lines
        expectations=(
            lower("demand_mismatch"),
            lower("community_unmet_need_share"),
            higher("trust_final_mean"),
        ),
    ),
    Claim(
        16,
        "4",
        "000",
        "convener with weak vs strong leverage",
        "weak leverage: under-delivery persists, money moves slowly",
        "convener_led_multi_provider",
        present={"holder.leverage": 0.9},
        absent={"holder.leverage": 0.2},
        expectations=(higher("under_delivery"),),
    ),
    Claim(
        5,
        "5",
        "001",
        "provider-led redesign vs central approval layers, after a demand shock",
        "provider-led adapts sooner",
        "provider_led_discharge",
        present={},
        absent={
            "holder.kind": "commissioner",
            "holder.data_lag_months": 2,
            "holder.planning_cycle_months": 3,
            # the arms differ by how decisions are made, not by who manages delivery: a
            # provider council manages no partner's contract either
            "holder.contract_management": 0.0,
            "governance.decision_rights.enabled": True,
            "governance.decision_rights.investment.requires": "approval",
            "governance.decision_rights.investment.delay_months": 2,
        },
        expectations=(higher("community_unmet_need_share"),),
    ),
    Claim(
        6,
        "6",
        "001",
        "provider-led allocation by observed demand vs central allocation, demand shifting",
        "provider-led has lower demand mismatch",
        "provider_led_bh_allocation",
        present={},
        absent={
            "holder.kind": "commissioner",
            "holder.data_lag_months": 2,
            "holder.planning_cycle_months": 3,
            "holder.contract_management": 0.0,  # as in claim 5
        },
        expectations=(higher("demand_mismatch"),),
    ),
    Claim(
        7,
        "7",
        "001",
        "provider-led with vs without oversight",
        "without: the equity gap widens",
        "provider_led_bh_allocation",
        present={},
        absent={"governance.oversight.enabled": False},
        expectations=(higher("equity_gap"),),
    ),
    Claim(
        8,
        "8",
        "002",
        "decision-rights matrix and compliance validation present vs absent",
        "absent: more disallowed spend, clawbacks and disputes, lower payer trust",
        "multi_payer_medicaid_ph_local",
        present={},
        absent={
            "governance.decision_rights.enabled": False,
            "governance.validation.strictness": 0.0,
        },
        expectations=(
            higher("disallowed_spend"),
            higher("clawbacks"),
            higher("disputes_raised"),
            lower("payer_trust_final_mean"),
        ),
        replicates=240,  # payers' trust now carries a noise of its own (trust.signal_noise)
    ),
    Claim(
        9,
        "9",
        "002, 003",
        "monthly vs annual reconciliation",
        "annual: later detection and a larger year-end shock",
        "multi_payer_medicaid_ph_local",
        common={
            "governance.decision_rights.enabled": False,
            "governance.validation.strictness": 0.0,
            "governance.assurance.enabled": False,
        },
        present={
            f"payers.{p}.reconciliation": "monthly"
            for p in ("medicaid", "public_health", "local_funds")
        },
        absent={
            f"payers.{p}.reconciliation": "annual"
            for p in ("medicaid", "public_health", "local_funds")
        },
        expectations=(higher("detection_lag_mean"), higher("year_end_shock")),
    ),
    Claim(
        10,
        "10",
        "002",
        "independent assurance present vs absent",
        "absent: problems detected later; more pilots end early",
        "multi_payer_medicaid_ph_local",
        common={
            "governance.decision_rights.enabled": False,
            "governance.validation.strictness": 0.0,
            # a scrutinised pilot: an outside review about every three years
            "governance.reconciliation.external_audit_probability": 0.03,
        },
        present={},
        absent={"governance.assurance.enabled": False},
        expectations=(higher("detection_lag_mean"), higher("ended_early")),
        replicates=600,  # early ends are rare, and now partly chance (the exit hazard)
    ),
    Claim(
        11,
        "11",
        "003",
        "decision rights with an escalation ladder vs informal escalation",
        "ladder: faster resolution, fewer disputes",
        "lead_commissioner",
        common={"governance.challenges.propensity": 10},
        present={"governance.challenges.rights": "formal"},
        absent={"governance.challenges.rights": "informal"},
        expectations=(higher("resolution_months_mean"), higher("disputes_raised")),
    ),
    Claim(
        12,
        "12",
        "003",
        "transparent financial flows vs opaque",
        "opaque: lower partner trust, payers reduce or withdraw at renewal",
        "lead_commissioner",
        present={},
        absent={"governance.transparency": 0.15, "governance.financial_statements": False},
        expectations=(lower("trust_final_mean"), higher("payer_reductions")),
    ),
    Claim(
        13,
        "13",
        "004",
        "prospective vs retrospective budget",
        "prospective: more upstream spend, fewer acute events",
        "prospective_community_health",
        present={},
        absent={"budget.basis": "retrospective"},
        expectations=(lower("upstream_spend"), higher("acute_events")),
    ),
    Claim(
        14,
        "14",
        "004",
        "prospective budget from an accurate vs an under-estimated forecast, without in-year adjustment",
        "under-estimated without adjustment: under-service and financial drift rise",
        "prospective_community_health",
        common={"budget.in_year_adjustment.enabled": False},
        present={"budget.forecast_bias": 0.0},
        absent={"budget.forecast_bias": -0.15},
        expectations=(higher("unmet_need_share"), higher("financial_drift")),
    ),
    Claim(
        15,
        "14",
        "004",
        "an under-estimated prospective budget with vs without in-year adjustment (row 14, second part)",
        "without adjustment: under-service and financial drift rise",
        "prospective_community_health",
        common={"budget.forecast_bias": -0.15},
        present={"budget.in_year_adjustment.enabled": True},
        absent={"budget.in_year_adjustment.enabled": False},
        expectations=(higher("unmet_need_share"), higher("financial_drift")),
    ),
    Claim(
        17,
        "16.4",
        "EVIDENCE.md 4",
        "the same money aimed at the segment where a unit of service avoids most acute cost "
        "(targeting by risk) vs spread over segments by need",
        "aimed: more acute cost avoided per dollar, lower acute cost",
        "prospective_housing_health",
        present={"governance.targeting.rule": "risk"},
        absent={"governance.targeting.rule": "need"},
        expectations=(lower("acute_cost_avoided_per_dollar"), higher("acute_cost")),
    ),
]


def arm(claim: Claim, which: str) -> Scenario:
    """The scenario of one arm of a claim."""
    changes = {**claim.common, **(claim.present if which == "present" else claim.absent)}
    scenario = load_scenario(claim.preset, changes)
    if which == "absent" and claim.absent_design:
        scenario = TRANSFORMS[claim.absent_design](scenario)
    return scenario


def run_arm(scenario: Scenario, seeds: list[int], months: int) -> pd.DataFrame:
    """Metrics of one arm, one row per seed, run in-process (serial: it is fast)."""
    rows = [metrics.compute(PilotModel(scenario, rng=s, months=months).run()) for s in seeds]
    return pd.DataFrame(rows, index=seeds)


def evaluate(claim: Claim, replicates: int = REPLICATES, seed: int = 2026) -> pd.DataFrame:
    """Run both arms at shared seeds; one row per expectation with effect and interval.

    A claim about a rare outcome (pilots ending early) runs ``replicates`` scaled up in
    proportion to its own ``claim.replicates`` against the default.
    """
    if claim.replicates:
        replicates = max(replicates, round(claim.replicates * replicates / REPLICATES))
    seeds = run_seeds(seed + claim.number, replicates)
    present = run_arm(arm(claim, "present"), seeds, claim.months)
    absent = run_arm(arm(claim, "absent"), seeds, claim.months)
    rows = []
    for exp in claim.expectations:
        diff = paired(absent[exp.metric].to_numpy(), present[exp.metric].to_numpy(), level=LEVEL)
        holds = diff.low > 0 if exp.absent_higher else diff.high < 0
        rows.append(
            {
                "claim": claim.number,
                "metric": exp.metric,
                "expected": "absent higher" if exp.absent_higher else "absent lower",
                "present_mean": float(present[exp.metric].mean()),
                "absent_mean": float(absent[exp.metric].mean()),
                "effect": diff.mean,
                "ci_low": diff.low,
                "ci_high": diff.high,
                "replicates": replicates,
                "holds": bool(holds),
            }
        )
    return pd.DataFrame(rows)


def validation_markdown(results: pd.DataFrame) -> str:
    """docs/validation.md from measured results (never typed by hand)."""
    lines = [
        "# Validation: the claims table",
        "",
        "Generated by `make validate` (`python -m poolpilot.analysis.claims`); do not edit by hand.",
        f"Each claim runs its preset with the practice present and absent at the same "
        f"seeds (the *seeds* column: {REPLICATES}, more where an effect is rare or noisy; "
        f"paired by seed: the same need in both "
        f"arms). *Effect* is the mean over seeds of absent minus present; the interval is the "
        f"{LEVEL:.0%} bootstrap confidence interval of that mean (`scipy.stats.bootstrap`, "
        "BCa where defined, percentile otherwise; `poolpilot.analysis.paired.paired`, the "
        "paired difference the report and the notebooks use too). A claim holds when the "
        "interval excludes zero on the side the claim predicts.",
        "",
        "| # | seed | practice varied | expected | metric | present | absent | effect | "
        f"{LEVEL:.0%} interval | seeds | holds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    by_number = {c.number: c for c in CLAIMS}
    for row in results.itertuples():
        c = by_number[row.claim]
        lines.append(
            f"| {c.row} | {c.seed_article} | {c.practice} | {c.expected} | `{row.metric}` "
            f"({row.expected}) | {row.present_mean:.4g} | {row.absent_mean:.4g} | "
            f"{row.effect:+.4g} | [{row.ci_low:+.4g}, {row.ci_high:+.4g}] | "
            f"{int(row.replicates)} | {'yes' if row.holds else '**no**'} |"
        )
    lines += ["", "Presets and overrides of each arm: `src/poolpilot/analysis/claims.py`.", ""]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, default=Path("docs/validation.md"))
    p.add_argument("--replicates", type=int, default=REPLICATES)
    args = p.parse_args()
    results = pd.concat([evaluate(c, args.replicates) for c in CLAIMS], ignore_index=True)
    args.out.write_text(validation_markdown(results))
    print(results.to_string(index=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
