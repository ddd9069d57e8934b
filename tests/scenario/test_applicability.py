"""Validation refuses a field set where it has no effect, one line each, saying why and what to do."""

from __future__ import annotations

from typing import Any

import pytest

from poolpilot.scenario import (
    ScenarioError,
    list_presets,
    load_scenario,
    no_pool_variant,
    set_field,
    validate_data,
)
from poolpilot.scenario.applicability import TABLE, hand_over_own_lines, without_inert
from tiny import tiny_data

COUNCIL = {"kind": "provider_council", "planning_cycle_months": 1}
PROSPECTIVE = {"basis": "prospective"}


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        validate_data(data, "my.yaml")
    return str(err.value).splitlines()


def test_oversight_outside_a_provider_council() -> None:
    data = tiny_data(holder={"kind": "hospital"}, governance={"oversight": {"enabled": True}})
    assert problems(data) == [
        "my.yaml: governance.oversight.enabled: has no effect: oversight acts only on a "
        "provider council's decisions (holder.kind is hospital); remove it or set "
        "holder.kind: provider_council"
    ]


def test_oversight_acts_in_a_provider_council() -> None:
    data = tiny_data(holder=COUNCIL, governance={"oversight": {"enabled": True}})
    data["holder"] = COUNCIL
    validate_data(data, "my.yaml")


def test_prevention_acts_in_a_retrospective_budget_too() -> None:
    # a retrospective budget funds prevention as far as its savings land inside the pilot
    data = tiny_data(prevention={"max_need_reduction": 0.4, "lag_months": 3})
    data["acute_events"][0]["borne_by"] = "medicaid"
    validate_data(data, "my.yaml")


def test_planning_data_and_bilateral_delay_act_in_every_design() -> None:
    # after an early end every design becomes the status quo, which plans from the holder's
    # data and moves money by bilateral agreement (and so does every design's baseline)
    data = tiny_data(budget=PROSPECTIVE)
    data["holder"] = {
        "kind": "provider_council",
        "data_accuracy": 0.5,
        "data_lag_months": 4,
        "bilateral_delay_months": 2,
    }
    validate_data(data, "my.yaml")


def test_planning_cycle_in_a_prospective_budget() -> None:
    data = tiny_data(budget=PROSPECTIVE)
    data["holder"] = {"kind": "convener", "planning_cycle_months": 6}
    (line,) = problems(data)
    assert line == (
        "my.yaml: holder.planning_cycle_months: has no effect: a prospective budget is planned "
        "once a year, when its envelopes are set (budget.basis is prospective); remove it or "
        "set budget.basis: retrospective"
    )


@pytest.mark.parametrize(
    "path,value",
    [
        ("budget.savings_retained", 0.2),
        ("budget.forecast_error", 0.2),
        ("budget.forecast_bias", -0.1),
        ("budget.rebasing", False),
        ("budget.in_year_adjustment.enabled", True),
        ("budget.in_year_adjustment.trigger", 0.3),
        ("budget.corridor.enabled", True),
        ("budget.corridor.bands", [{"above": 0.05, "payer_share": 0.5}]),
    ],
)
def test_prospective_budget_fields_in_a_retrospective_budget(path: str, value: Any) -> None:
    data = tiny_data()
    set_field(data, path, value)
    (line,) = problems(data)
    assert line.startswith(f"my.yaml: {path}: has no effect: ")
    assert line.endswith(
        "(budget.basis is retrospective); remove it or set budget.basis: prospective"
    )


def test_demand_bias_outside_a_provider_council_names_the_provider() -> None:
    data = tiny_data()
    data["providers"][0]["demand_bias"] = 0.3
    (line,) = problems(data)
    assert line.startswith("my.yaml: providers.nurses.demand_bias: has no effect: only a provider")
    assert line.endswith(
        "(holder.kind is convener); remove it or set holder.kind: provider_council"
    )


def test_gain_sharing_has_no_effect_without_a_pool() -> None:
    data = tiny_data(holder={"kind": "none"}, governance={"savings_sharing": {"enabled": True}})
    (line,) = problems(data)
    assert line.startswith("my.yaml: governance.savings_sharing.enabled: has no effect: without")


def test_defaults_are_accepted_where_they_do_not_act() -> None:
    data = tiny_data(
        budget={"upstream_share": 0.05, "corridor": {"enabled": False}},
        prevention={"lag_months": 6},
        governance={"oversight": {"enabled": False}},
    )
    data["acute_events"][0]["borne_by"] = "outside"
    validate_data(data, "my.yaml")


def test_every_inert_setting_is_reported_in_one_pass() -> None:
    data = tiny_data(
        governance={"oversight": {"strength": 0.1}, "savings_sharing": {"share": 0.3}},
        budget={"rebasing": False},
    )
    data["holder"]["kind"] = "none"
    assert len(problems(data)) == 3


def test_an_override_of_an_inert_field_is_refused() -> None:
    with pytest.raises(ScenarioError, match="governance.oversight.enabled: has no effect"):
        load_scenario("hospital_led_post_acute", {"governance.oversight.enabled": True})


def test_an_override_that_changes_the_design_resets_what_it_makes_inert() -> None:
    """A retrospective arm of a prospective preset: its envelope settings act no more."""
    arm = load_scenario("prospective_community_health", {"budget.basis": "retrospective"})
    assert not arm.budget.corridor.enabled and arm.budget.savings_retained == 0.5
    # upstream spend and prevention act in a retrospective budget too (its prevention stake)
    assert arm.budget.upstream_share == 0.06 and arm.prevention.half_effect_per_person == 60.0
    council = load_scenario("provider_led_discharge", {"holder.kind": "commissioner"})
    assert all(p.demand_bias == 0.0 for p in council.providers)
    assert not council.governance.oversight.enabled


def test_a_holder_without_lines_of_its_own_contracts_for_the_old_holders_lines() -> None:
    """A hospital-led pool held by a convener: the hospital's line becomes a partner."""
    hospital = load_scenario("hospital_led_post_acute")
    (line,) = hospital.holder.own_lines
    for kind in ("convener", "provider_council", "none"):
        arm = load_scenario("hospital_led_post_acute", {"holder.kind": kind})
        assert arm.holder.kind == kind and arm.holder.own_lines == []
        partner = arm.providers[-1]
        assert arm.providers[:-1] == hospital.providers
        assert partner.name == f"{hospital.holder.name}_{line.service}"
        assert (partner.service, partner.capacity) == (line.service, line.capacity)
        assert partner.base_effort == line.base_effort
    county = load_scenario("hospital_led_post_acute", {"holder.kind": "county"})
    assert county.holder.own_lines == hospital.holder.own_lines  # a county may run lines


def test_handing_over_own_lines_by_hand() -> None:
    data = {
        "holder": {"kind": "convener", "name": "mercy", "own_lines": [{"service": "s"}]},
        "providers": [{"name": "a", "service": "s", "capacity": 5}],
    }
    untouched = {**data, "holder": dict(data["holder"])}
    assert hand_over_own_lines(untouched, {"holder.self_interest"}) == data  # kind unchanged
    hand_over_own_lines(data, {"holder.kind"})
    assert data["holder"]["own_lines"] == []
    assert data["providers"][1] == {
        "name": "mercy_s",
        "service": "s",
        "capacity": None,  # missing: validation says so
        "base_effort": 1.0,  # an own line's default effort
    }


def test_a_file_with_a_convener_running_lines_is_still_refused() -> None:
    data = tiny_data(holder={"kind": "convener"})
    data["holder"]["own_lines"] = [{"service": "nursing", "capacity": 10}]
    assert problems(data) == [
        "my.yaml: holder.own_lines: a convener holder runs no service lines of its own"
    ]


def test_an_inert_override_beside_a_design_change_is_still_refused() -> None:
    with pytest.raises(ScenarioError, match="budget.savings_retained: has no effect"):
        load_scenario(
            "prospective_community_health",
            {"budget.basis": "retrospective", "budget.savings_retained": 0.2},
        )


@pytest.mark.parametrize("name", [n for n, _ in list_presets()])
def test_every_preset_and_its_no_pool_baseline_validate(name: str) -> None:
    assert no_pool_variant(load_scenario(name)).holder.kind == "none"


def test_without_inert_keeps_what_acts() -> None:
    data = tiny_data(budget={"rebasing": False})
    data["holder"] = {"kind": "convener", "data_accuracy": 0.5}
    without_inert(data)
    assert data["budget"]["rebasing"] is True and data["holder"]["data_accuracy"] == 0.5


def test_every_rule_says_why_in_words() -> None:
    for rule in TABLE:
        assert rule.why and rule.where().startswith("acts ")
