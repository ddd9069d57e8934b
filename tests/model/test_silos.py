"""The status quo, by hand: wrong-pocket valuations, who funds what, contracts, the boundary.

The tiny pilot: 100 people needing one nursing visit a month (cost 100: 10,000 a month), one
payer with 8,000 a month, readmissions at 1,000 each.
"""

from __future__ import annotations

import numpy as np
import pytest

from poolpilot.model import PilotModel, silos
from poolpilot.scenario import validate_data
from tiny import tiny_data


def status_quo(wrong_pockets: float = 0.5, borne_by=None, **changes) -> PilotModel:
    rules = {"wrong_pockets": wrong_pockets, "historic_allocation": "current_need"}
    rules.update(changes.pop("status_quo", {}))
    data = tiny_data(
        holder={"kind": "none", "name": "no_pool"},
        status_quo=rules,
        budget={"admin_share": 0.0, "reserve_share": 0.0},
        **changes,
    )
    if borne_by is not None:
        data["acute_events"][0]["borne_by"] = borne_by
    return PilotModel(validate_data(data, "t"), rng=1)


TWO_PAYERS = [
    {"name": "county", "annual_contribution": 96000},
    {"name": "medicaid", "annual_contribution": 288000},
]


@pytest.mark.parametrize(("s", "expected"), [(0.0, 1.0), (0.5, 0.6), (1.0, 0.2)])
def test_a_payer_values_prevention_by_its_own_share_of_the_savings(s, expected) -> None:
    # medicaid bears 20% of the readmissions nursing averts: f = 1 - s * (1 - 0.2)
    m = status_quo(s, borne_by={"medicaid": 0.2, "outside": 0.8})
    assert m.silo_value[0, 0] == pytest.approx(expected)


def test_a_service_that_averts_nothing_is_valued_whole() -> None:
    data = tiny_data(holder={"kind": "none", "name": "no_pool"})
    data["services"][0]["averts"] = None
    data["services"][0]["elasticity"] = 0.0
    m = PilotModel(validate_data(data, "t"), rng=1)
    assert m.silo_value[0, 0] == 1.0


def test_earmarked_payers_fund_their_services_first_then_by_contribution() -> None:
    m = status_quo(payers=TWO_PAYERS)
    assert m.silo_split[:, 0] == pytest.approx([0.25, 0.75])  # by contribution
    earmarked = [{**TWO_PAYERS[0], "earmarked": True, "allowable_uses": ["nursing"]}, TWO_PAYERS[1]]
    m = status_quo(payers=earmarked)
    assert m.silo_split[:, 0] == pytest.approx([1.0, 0.0])


def test_a_silo_funds_what_it_values_and_keeps_the_rest() -> None:
    # need cost 10,000; medicaid values nursing at 0.6 and has 8,000: it funds 6,000
    m = status_quo(0.5, borne_by={"medicaid": 0.2, "outside": 0.8})
    m.step()
    assert m.allocation == pytest.approx([6000.0])
    # fully valued, the budget binds: 8,000
    m = status_quo(0.0)
    m.step()
    assert m.allocation == pytest.approx([8000.0])


def test_last_years_contracts_are_last_years_need() -> None:
    data = tiny_data(
        holder={"kind": "none", "name": "no_pool"},
        status_quo={"wrong_pockets": 0.0},
        budget={"admin_share": 0.0, "reserve_share": 0.0},
    )
    data["population"]["segments"][0]["trend"] = 0.25
    data["payers"][0]["annual_contribution"] = 240000  # room to fund all of it
    m = PilotModel(validate_data(data, "t"), rng=1)
    m.step()
    assert m.allocation == pytest.approx([10000.0 / 1.25])


def test_historic_amounts_per_payer_and_service_are_the_starting_contracts() -> None:
    m = status_quo(0.0, status_quo={"historic_allocation": {"medicaid": {"nursing": 60000}}})
    m.step()
    assert m.allocation == pytest.approx([5000.0])


def test_each_payer_pays_its_own_contracts() -> None:
    # county funds a quarter, medicaid three quarters of the nursing bill
    m = status_quo(0.0, payers=TWO_PAYERS)
    m.step()
    spent = m.payer_spend[0]
    assert spent.sum() > 0
    assert spent / spent.sum() == pytest.approx([0.25, 0.75])


def test_the_boundary_is_funding_from_another_budget_than_the_beds() -> None:
    both = {"county": 0.5, "medicaid": 0.5}
    m = status_quo(0.0, borne_by=both, payers=TWO_PAYERS)
    # 25% county x 50% + 75% medicaid x 50% of the bed is the same budget: boundary 0.5
    assert silos.boundary(m)[0] == pytest.approx(0.5)
    pooled = tiny_data(payers=TWO_PAYERS, holder={"kind": "convener", "leverage": 0.6})
    pooled["acute_events"][0]["borne_by"] = both
    m = PilotModel(validate_data(pooled, "t"), rng=1)
    # a pool joins both budgets; what its holder cannot settle (1 - 0.6) still waits
    assert silos.boundary(m)[0] == pytest.approx(0.4 * 0.5)


def test_a_pool_cannot_settle_with_a_budget_outside_it() -> None:
    pooled = tiny_data()
    pooled["acute_events"][0]["borne_by"] = {"medicaid": 0.2, "outside": 0.8}
    m = PilotModel(validate_data(pooled, "t"), rng=1)
    assert silos.boundary(m)[0] == pytest.approx(0.8)


def test_contracts_are_one_per_payer_and_provider_it_funds() -> None:
    m = status_quo(0.0, payers=TWO_PAYERS)
    assert silos.contract_count(m).tolist() == [1, 1]
    m.line_active[:] = False
    assert silos.contract_count(m).tolist() == [0, 0]


def test_without_silo_budgets_one_planner_allocates_all_the_money() -> None:
    m = status_quo(1.0, borne_by="outside", status_quo={"silo_budgets": False})
    m.step()
    assert m.allocation == pytest.approx([8000.0])
    assert m.holder.charge_shares() is None


def test_no_pool_has_no_membership_to_renew() -> None:
    m = status_quo(0.0, horizon_months=13, governance={"renewal_months": 12})
    m.payer_trust[:] = 0.0  # would withdraw at once in a pool
    m.run()
    assert not any(e[2] == "renewal" for e in m.events.records)
    assert m.payer_active.all()


def test_bilateral_proposals_earn_consultation_only_in_the_idealised_baseline() -> None:
    for pool_governance in (False, True):
        m = status_quo(0.0, status_quo={"pool_governance": pool_governance})
        assert m.holder.consults() is pool_governance


def test_money_is_conserved_in_the_status_quo() -> None:
    m = status_quo(0.5, borne_by={"medicaid": 0.2, "outside": 0.8}, horizon_months=24)
    m.run()  # books.check runs every month and raises on any loss
    assert np.isfinite(m.parties.acute).all()
