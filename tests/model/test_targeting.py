"""Targeting, by hand: segments' own acute rates and responses, and where delivery is aimed.

Two segments of the tiny pilot's nursing service (cost 100 a visit, 0.05 readmissions per
unmet visit a month later, 1,000 a readmission): ``high`` (100 people, 0.03 readmissions a
person a month, response 2 to nursing) and ``moderate`` (100 people, the event's baseline rate
0.01, response 1). Each needs one visit a person a month. A unit of nursing delivered to
``high`` avoids 2 x 0.05 x 1,000 = 100 of acute cost, to ``moderate`` 50.
"""

from __future__ import annotations

import numpy as np
import pytest

from poolpilot.model import PilotModel
from poolpilot.model.targeting import Targeting
from poolpilot.scenario import load_scenario, no_pool_variant, validate_data
from tiny import tiny_data

HIGH = {
    "name": "high",
    "size": 100,
    "need": {"nursing": 1.0},
    "noise": 0.0,
    "acute_rates": {"readmission": 0.03},
    "response": {"nursing": 2.0},
}
MODERATE = {"name": "moderate", "size": 100, "need": {"nursing": 1.0}, "noise": 0.0}


def pilot(targeting: dict | None = None, segments: list | None = None) -> PilotModel:
    data = tiny_data(population={"segments": segments or [HIGH, MODERATE]})
    if targeting is not None:
        data["governance"]["targeting"] = targeting
    return PilotModel(validate_data(data, "t"), rng=1)


def book(m: PilotModel, delivered: float, months: int = 2) -> None:
    """Book ``months`` months of outcomes with ``delivered`` nursing visits a month."""
    for t in range(1, months + 1):
        need = m._realise_need(t)
        m._book_outcomes(t, need, np.array([delivered]))


def test_each_segment_has_its_own_acute_rate() -> None:
    m = pilot()
    # 100 x 0.03 (its own rate) + 100 x 0.01 (the event's baseline rate)
    assert m.acute_baseline == pytest.approx([4.0])


def test_a_segments_unmet_need_raises_events_by_its_response() -> None:
    m = pilot()
    book(m, delivered=120.0)
    # by need: 60 visits each, 40 unmet each; a month later 4 + 0.05 (2 x 40 + 1 x 40) = 10
    assert m.met_need[0, :, 0] == pytest.approx([60.0, 60.0])
    assert m.acute[0] == pytest.approx([4.0])  # the lag: nothing unmet shows in month 1
    assert m.acute[1] == pytest.approx([10.0])


def test_by_risk_delivery_goes_first_where_a_unit_avoids_most_acute_cost() -> None:
    m = pilot({"rule": "risk"})
    assert m.targeting.value[:, 0] == pytest.approx([100.0, 50.0])
    book(m, delivered=120.0)
    # high first, up to its need (100); moderate gets the other 20, and 80 go unmet
    assert m.met_need[0, :, 0] == pytest.approx([100.0, 20.0])
    assert m.acute[1] == pytest.approx([4.0 + 0.05 * 80])


def test_fixed_shares_are_capped_by_need_and_the_rest_is_spread_by_need() -> None:
    m = pilot({"rule": "shares", "shares": {"moderate": 0.5}})
    book(m, delivered=80.0)
    # moderate takes half of 80 = 40; the other 40 go by remaining need 100 : 60 = 25 : 15
    assert m.met_need[0, :, 0] == pytest.approx([25.0, 55.0])
    assert m.acute[1] == pytest.approx([4.0 + 0.05 * (2 * 75 + 45)])
    capped = pilot({"rule": "shares", "shares": {"high": 1.0}})
    book(capped, delivered=120.0)
    # high's share of all 120 is capped at its need of 100; moderate gets the other 20
    assert capped.met_need[0, :, 0] == pytest.approx([100.0, 20.0])


def test_supply_beyond_need_serves_everyone_under_every_rule() -> None:
    for targeting in (
        {"rule": "need"},
        {"rule": "risk"},
        {"rule": "shares", "shares": {"high": 0.3}},
    ):
        m = pilot(targeting)
        book(m, delivered=500.0, months=1)
        assert m.met_need[0, :, 0] == pytest.approx([100.0, 100.0])
        assert m.unmet[0].sum() == 0.0


def test_risk_fills_reachable_need_in_order_then_what_is_left_by_room() -> None:
    rule = pilot({"rule": "risk"}).targeting
    need = np.array([[100.0], [100.0]])
    reach = np.array([[50.0], [100.0]])  # half of high is out of reach (outreach drift)
    assert rule.serve(need, reach, np.array([120.0]))[:, 0] == pytest.approx([50.0, 70.0])
    # 180 units: 50 + 100 reachable, then the 30 left go to the need still unmet (high's)
    assert rule.serve(need, reach, np.array([180.0]))[:, 0] == pytest.approx([80.0, 100.0])


def test_tied_segments_share_by_reachable_need() -> None:
    rule = pilot({"rule": "risk"}).targeting
    rule.value = np.array([[2.0], [2.0], [1.0]])
    v = rule.value
    rule.before = (v[:, None, :] > v[None, :, :]).astype(float)
    rule.tied = (v[:, None, :] == v[None, :, :]).astype(float)
    reach = np.array([[30.0], [10.0], [50.0]])
    served = rule.by_value(reach, np.array([20.0]))
    assert served[:, 0] == pytest.approx([15.0, 5.0, 0.0])


def test_risk_is_need_where_segments_respond_alike() -> None:
    alike = [{**HIGH, "response": {}}, MODERATE]
    by_need, by_risk = pilot(segments=alike), pilot({"rule": "risk"}, segments=alike)
    book(by_need, delivered=120.0)
    book(by_risk, delivered=120.0)
    assert np.array_equal(by_need.met_need, by_risk.met_need)
    assert np.array_equal(by_need.acute, by_risk.acute)


def test_the_benchmark_uses_the_segments_rates_and_responses() -> None:
    # the status quo covers 60% of nursing need (tiny's benchmark case, test_accounts.py):
    # 40 visits unmet in each segment, a month later 4 + 0.05 (2 x 40 + 1 x 40) = 10 events
    data = tiny_data(
        population={"segments": [HIGH, MODERATE]},
        status_quo={"historic_allocation": "current_need"},
    )
    data["payers"][0]["annual_contribution"] = 96000 * 2  # the same cover for twice the people
    data["acute_events"][0]["borne_by"] = {"medicaid": 0.2, "outside": 0.8}
    m = PilotModel(validate_data(data, "t"), rng=1)
    m.step()
    assert m.status_quo_cover == pytest.approx([0.6])
    assert m.parties.benchmark[0].sum() == pytest.approx(4.0 * 1000)
    assert m.parties.benchmark[1].sum() == pytest.approx(10.0 * 1000)


def test_the_status_quo_targets_by_need() -> None:
    data = tiny_data(population={"segments": [HIGH, MODERATE]})
    data["governance"]["targeting"] = {"rule": "risk"}
    baseline = no_pool_variant(validate_data(data, "t"))
    assert baseline.governance.targeting.rule == "need"
    preset = load_scenario("prospective_housing_health", {"governance.targeting.rule": "risk"})
    assert no_pool_variant(preset).governance.targeting.rule == "need"


def test_housing_responds_2_8_times_as_strongly_for_high_need_people() -> None:
    """The housing cohort's responses are At Home/Chez Soi's $9.60 and $3.42 per $10."""
    s = load_scenario("prospective_housing_health")
    by_name = {seg.name: seg for seg in s.population.segments}
    high = by_name["adults_with_smi"].response["housing_stabilization"]
    moderate = by_name["high_risk_adults"].response["housing_stabilization"]
    assert high / moderate == pytest.approx(9.60 / 3.42, rel=0.01)
    housing = next(sv for sv in s.services if sv.name == "housing_stabilization")
    crisis = next(ev for ev in s.acute_events if ev.name == "crisis_episode")
    per_dollar = housing.elasticity * crisis.unit_cost / housing.unit_cost
    assert high * per_dollar == pytest.approx(0.96, abs=0.01)
    assert moderate * per_dollar == pytest.approx(0.342, abs=0.01)
    assert (
        by_name["adults_with_smi"].acute_rates["crisis_episode"]
        > by_name["high_risk_adults"].acute_rates["crisis_episode"]
    )


def test_targeting_moves_no_money() -> None:
    """The rule only decides who is served: spend and total unmet need stay the same."""
    runs = {}
    for rule in ("need", "risk"):
        s = load_scenario("prospective_housing_health", {"governance.targeting.rule": rule})
        runs[rule] = PilotModel(s, rng=3, months=12).run()
    need, risk = runs["need"], runs["risk"]
    assert np.array_equal(need.line_spend, risk.line_spend)
    assert need.unmet.sum() == pytest.approx(risk.unmet.sum())
    assert risk.acute.sum() < need.acute.sum()


def test_targeting_rule_object_is_built_for_the_design() -> None:
    m = pilot({"rule": "shares", "shares": {"moderate": 0.4}})
    assert isinstance(m.targeting, Targeting)
    assert m.targeting.shares.tolist() == [0.0, 0.4]
    assert m.response[:, 0].tolist() == [2.0, 1.0]
