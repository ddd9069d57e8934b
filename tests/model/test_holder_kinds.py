"""Holder kinds with their own behaviour, hand-checked: a hospital that stints under a
prospective budget and the under-service floor that holds it back, a county that funds its
statutory services first, a lead commissioner that manages delivery through contracts, and a
convener that has only the leverage the design gives it."""

from __future__ import annotations

import numpy as np
import pytest

from poolpilot.analysis.paired import paired
from poolpilot.model import PilotModel, prospective
from poolpilot.model.holders import (
    BREACH_ACCOUNTABILITY,
    BudgetHolder,
    CommissionerHolder,
    ConvenerHolder,
)
from poolpilot.scenario import load_scenario, validate_data
from tiny import tiny_data

# --- the hospital ------------------------------------------------------------------------


def _hospital(holder_share: float = 0.0, governance: dict | None = None, **holder) -> PilotModel:
    """Tiny, with a hospital running half the nursing capacity, paid prospectively.

    A unit of nursing costs 100; unmet, it raises 0.05 readmissions of 1000 each, of which the
    hospital bears ``holder_share``: 50 * holder_share per unit left unmet.
    """
    borne = {"holder": holder_share, "outside": 1.0 - holder_share} if holder_share else "outside"
    data = tiny_data(
        horizon_months=12,
        budget={"basis": "prospective", "savings_retained": 0.5, "forecast_error": 0.0},
        prevention={"max_need_reduction": 0.0},
        governance={"reconciliation": {"external_audit_probability": 0.0}, **(governance or {})},
    )
    data["acute_events"][0]["borne_by"] = borne
    data["holder"] = {
        "kind": "hospital",
        "own_lines": [{"service": "nursing", "capacity": 100, "base_effort": 1.0}],
        "stint_propensity": 0.4,
        **holder,
    }
    data["providers"][0]["capacity"] = 100
    return PilotModel(validate_data(data, "t"), rng=1)


@pytest.mark.parametrize(
    ("holder_share", "expected"),
    [
        (0.0, 0.4 * 0.5),  # keeps half of what it does not spend, bears none of the cost
        (0.4, 0.4 * (0.5 - 50 * 0.4 / 100)),  # bears 40% of the readmissions: 20 a unit
        (1.0, 0.0),  # bears them all: 50 a unit, more than the 50 it keeps
    ],
)
def test_hospital_stints_less_the_more_readmission_cost_it_bears(holder_share, expected):
    m = _hospital(holder_share)
    own = m.line_own
    share = m.holder.stint_share()
    # stint = propensity * damping * max(0, kept - borne / unit cost); kept = 1 - 0.5
    assert share[own][0] == pytest.approx(expected)
    assert share[~own][0] == 0.0


def test_rules_that_damp_self_interest_damp_stinting():
    m = _hospital(governance={"coi_controls": 0.5, "joint_review": {"enabled": True}})
    m.holder.accountability = 0.2
    # 0.4 * (1 - 0.5) * (1 - 0.5) * (1 - 0.2) * 0.5
    assert m.holder.stint_share()[m.line_own][0] == pytest.approx(0.4 * 0.5 * 0.5 * 0.8 * 0.5)


def test_a_retrospective_hospital_has_no_reason_to_stint():
    data = tiny_data(holder={"kind": "hospital"})
    data["holder"]["own_lines"] = [{"service": "nursing", "capacity": 100}]
    m = PilotModel(validate_data(data, "t"), rng=1)
    assert prospective.kept_share(m) == 0.0
    assert not m.holder.stint_share().any()


def test_withheld_demand_leaks_to_partners_with_spare_capacity():
    m = _hospital()
    own, partner = np.flatnonzero(m.line_own)[0], np.flatnonzero(~m.line_own)[0]
    funded = np.zeros(m.n_lines)
    funded[own], funded[partner] = 50.0, 40.0
    spare = np.zeros(m.n_lines)
    spare[partner] = 6.0
    demand = np.full(m.n_lines, 50.0)
    cut, leaked = m.holder.withhold(1, demand, np.full(m.n_lines, 50.0), funded, spare)
    # it withholds 0.2 of its 50 funded units: 10; the partner has room for 6 of them, and the
    # other 4 leave the pool as unmet need
    assert cut[own] == pytest.approx(10.0) and cut[partner] == 0.0
    assert leaked[partner] == pytest.approx(6.0) and leaked[own] == 0.0
    assert m.holder.withheld[0] == pytest.approx(10.0)
    assert m.holder.own_funded[0] == pytest.approx(50.0)


def test_a_stinting_hospital_delivers_less_and_leaves_more_need_unmet():
    def month(propensity: float) -> PilotModel:
        m = _hospital(stint_propensity=propensity)
        m.step()
        return m

    honest, stinting = month(0.0), month(0.4)
    assert stinting.holder.withheld[0] > 0
    assert stinting.funded_delivered[0] < honest.funded_delivered[0]
    assert stinting.unmet[0].sum() > honest.unmet[0].sum()
    # the partner serves part of the leaked demand without funding for it
    assert stinting.line_burden[0].sum() > honest.line_burden[0].sum()


def test_a_shortfall_below_the_floor_is_found_clawed_back_and_answered_for():
    gov = {
        "under_service_floor": 0.9,
        "reconciliation": {"self_assessment_power": 1.0, "external_audit_probability": 0.0},
    }
    m = _hospital(governance=gov)
    own = np.flatnonzero(m.line_own)[0]
    funded = np.zeros(m.n_lines)
    funded[own] = 50.0
    m.holder.withhold(1, np.full(m.n_lines, 50.0), np.full(m.n_lines, 50.0), funded, funded * 0)
    # the floor asks 0.9 * 50 = 45 units; it delivers 50 - 10 = 40: 5 units short, 500
    assert m.holder.breach[own] == pytest.approx(500.0)
    for _ in range(3):  # tiny's payer reconciles in month 3; the withholding above stands
        m.step()
    found = [e for e in m.events.records if e[2] == "under_service_clawback"]
    assert found and found[0][0] == 3
    assert m.tally.counts["under_service_findings"] == 1
    assert m.holder.breach.sum() == 0.0


def test_checks_look_at_reconciliation_and_assurance():
    gov = {
        "under_service_floor": 0.9,
        "assurance": {"enabled": True, "frequency_months": 3, "detection_power": 0.9},
        "reconciliation": {"self_assessment_power": 0.5, "external_audit_probability": 0.0},
    }
    m = _hospital(governance=gov)
    for _ in range(3):
        m.step()
    assert prospective.floor_check_power(m, 2) == 0.0  # nobody looked in month 2
    assert prospective.floor_check_power(m, 3) == pytest.approx(1.0 - 0.5 * 0.1)


def test_clawback_returns_the_shortfall_to_the_payers():
    m = _hospital(governance={"under_service_floor": 0.9})
    m.step()
    own = np.flatnonzero(m.line_own)[0]
    pool, balance = m.books.balance("pool"), m.accounts.balance[0]
    back = prospective.claw_back(m, 1, own, 500.0)
    assert back == pytest.approx(500.0)  # clawback_share 1
    assert m.books.balance("pool") == pytest.approx(pool + 500.0)
    assert m.accounts.balance[0] == pytest.approx(balance + 500.0)
    m.books.check(1)


def test_being_found_raises_accountability():
    gov = {
        "under_service_floor": 0.9,
        "reconciliation": {"self_assessment_power": 1.0, "external_audit_probability": 0.0},
    }
    m = _hospital(governance=gov)
    m.step()
    m.step()
    m.holder.accountability = 0.0
    m.holder.breach[np.flatnonzero(m.line_own)[0]] = 100.0
    m.step()  # month 3: the payer reconciles, the check finds it
    assert m.holder.accountability == pytest.approx(BREACH_ACCOUNTABILITY * 0.95)


def _stint(floor: float | None, seeds: range) -> np.ndarray:
    """Share of its own lines' funded volume a prospective hospital lead withheld, per seed."""
    changes = {"budget.basis": "prospective", "governance.joint_review.enabled": False}
    if floor is not None:
        changes["governance.under_service_floor"] = floor
    scenario = load_scenario("hospital_led_post_acute", changes)
    out = []
    for seed in seeds:
        m = PilotModel(scenario, rng=seed)
        h = m.holder  # the hospital (the status quo takes over if the pilot ends early)
        m.run()
        out.append(h.withheld.sum() / h.own_funded.sum())
    return np.array(out)


def test_without_the_floor_a_prospective_hospital_cuts_its_own_volume_and_with_it_less():
    seeds = range(40)
    unguarded, guarded = _stint(None, seeds), _stint(0.95, seeds)
    cut = paired(unguarded, np.zeros_like(unguarded), level=0.99)
    assert cut.low > 0.05  # it withholds over 5% of its own funded volume
    held = paired(unguarded, guarded, level=0.99)
    assert held.low > 0  # the floor makes the cut smaller, run by run


# --- the county --------------------------------------------------------------------------


def _county(protection: float, **governance) -> PilotModel:
    data = tiny_data(governance=governance)
    data["holder"] = {
        "kind": "county",
        "own_lines": [{"service": "nursing", "capacity": 100}],
        "self_interest": 0.0,
        "statutory_protection": protection,
    }
    data["providers"][0]["capacity"] = 100
    return PilotModel(validate_data(data, "t"), rng=1)


@pytest.mark.parametrize(
    ("protection", "own", "partner"),
    [
        (0.0, 2500.0, 2500.0),  # by need alone: half each
        (0.6, 3000.0, 2000.0),  # its own line keeps 0.6 of its need cost (3000) first
        (1.0, 5000.0, 0.0),  # its own line's whole need cost: the shortfall falls on partners
    ],
)
def test_county_funds_its_statutory_services_first_when_the_budget_is_short(
    protection, own, partner
):
    m = _county(protection)
    need = np.full(m.n_lines, 5000.0)  # each line needs 5000; the budget is half of it
    got = m.holder.propose(1, 5000.0, need_cost=need)
    assert got[m.line_own][0] == pytest.approx(own)
    assert got[~m.line_own][0] == pytest.approx(partner)


def test_county_protection_needs_budget_pressure_and_is_not_lifted_by_coi_controls():
    need = np.full(2, 5000.0)
    m = _county(1.0)
    assert m.holder.propose(1, 10_000.0, need_cost=need) == pytest.approx([5000.0, 5000.0])
    damped = _county(0.6, coi_controls=0.9)
    assert damped.holder.propose(1, 5000.0, need_cost=need)[damped.line_own][0] == pytest.approx(
        3000.0
    )


# --- the lead commissioner -----------------------------------------------------------------


def test_commissioner_recovers_part_of_the_effort_partners_withhold():
    data = tiny_data()
    data["holder"] = {"kind": "commissioner", "leverage": 0.6, "contract_management": 0.5}
    m = PilotModel(validate_data(data, "t"), rng=1)
    contracted = np.array([0.98])
    # 0.8 + 0.5 * 0.6 * (0.98 - 0.8); never above the contracted level
    assert m.holder.contract_effort(contracted, np.array([0.8]))[0] == pytest.approx(0.854)
    assert m.holder.contract_effort(contracted, np.array([0.98]))[0] == pytest.approx(0.98)


def test_contract_management_lowers_under_delivery():
    def under(kind: str) -> float:
        data = tiny_data(trust={"effort_sensitivity": 0.5})
        data["holder"] = {"kind": kind, "data_accuracy": 1.0}
        data["providers"][0]["base_effort"] = 0.9
        data["payers"][0]["annual_contribution"] = 60000  # funded below need
        m = PilotModel(validate_data(data, "t"), rng=1)
        m.step()
        return 1.0 - m.funded_delivered[0] / m.funded_demand[0]

    # trust 0.7: effort 0.98 * (1 - 0.5 * 0.3) = 0.833; the commissioner recovers half the
    # gap to 0.98 at full leverage: 0.9065
    assert under("convener") == pytest.approx(1 - 0.98 * 0.85)
    assert under("commissioner") == pytest.approx(1 - (0.833 + 0.5 * (0.98 - 0.833)))


# --- the convener --------------------------------------------------------------------------


def test_convener_has_only_the_base_holder_behaviour():
    overridden = {
        name
        for name, value in vars(ConvenerHolder).items()
        if callable(value) and name in vars(BudgetHolder)
    }
    assert overridden == set()
    assert "contract_effort" in vars(CommissionerHolder)


def test_convener_enforces_effort_only_through_its_leverage():
    data = tiny_data()
    data["holder"] = {"kind": "convener", "leverage": 0.5, "data_accuracy": 1.0}
    data["providers"][0]["base_effort"] = 0.9
    data["payers"][0]["annual_contribution"] = 60000
    m = PilotModel(validate_data(data, "t"), rng=1)
    m.step()
    # 0.9 + (1 - 0.9) * 0.8 * 0.5, trust not counting (tiny: effort_sensitivity 0)
    assert m.funded_delivered[0] / m.funded_demand[0] == pytest.approx(0.94)
