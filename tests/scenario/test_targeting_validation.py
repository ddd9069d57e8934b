"""Validation of segments' own rates and responses and of the targeting rule: one line each."""

from __future__ import annotations

from typing import Any

import pytest

from poolpilot.scenario import ScenarioError, validate_data
from tiny import tiny_data

ADULTS = {"name": "adults", "size": 100, "need": {"nursing": 1.0}}


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        validate_data(data, "my.yaml")
    return str(err.value).splitlines()


def with_segment(**fields: Any) -> dict[str, Any]:
    return tiny_data(population={"segments": [{**ADULTS, **fields}]})


def with_targeting(**rule: Any) -> dict[str, Any]:
    data = tiny_data()
    data["governance"]["targeting"] = rule
    return data


def test_segment_rates_and_responses_are_accepted() -> None:
    data = with_segment(acute_rates={"readmission": 0.02}, response={"nursing": 1.5})
    s = validate_data(data, "my.yaml")
    assert s.population.segments[0].acute_rates == {"readmission": 0.02}


def test_a_rate_for_an_unknown_event() -> None:
    assert problems(with_segment(acute_rates={"readmissions": 0.02})) == [
        "my.yaml: population.segments.adults.acute_rates.readmissions: unknown acute event "
        "'readmissions'; did you mean 'readmission'?"
    ]


def test_a_response_to_an_unknown_service() -> None:
    assert problems(with_segment(response={"nursng": 2.0})) == [
        "my.yaml: population.segments.adults.response.nursng: unknown service 'nursng'; "
        "did you mean 'nursing'?"
    ]


def test_a_response_to_a_service_that_averts_nothing() -> None:
    data = with_segment(response={"nursing": 2.0})
    data["services"][0]["averts"] = None
    data["services"][0]["elasticity"] = 0.0
    assert problems(data) == [
        "my.yaml: population.segments.adults.response.nursing: 'nursing' averts no acute "
        "event, so a response to it has no effect"
    ]


@pytest.mark.parametrize(
    "field,value,fragment",
    [
        ("acute_rates", {"readmission": 1.5}, "less than or equal to 1"),
        ("acute_rates", {"readmission": -0.1}, "greater than or equal to 0"),
        ("response", {"nursing": -1.0}, "greater than or equal to 0"),
        ("response", {"nursing": 11.0}, "less than or equal to 10"),
    ],
)
def test_rates_and_responses_out_of_range(field: str, value: dict, fragment: str) -> None:
    [line] = problems(with_segment(**{field: value}))
    key = next(iter(value))
    assert line.startswith(f"my.yaml: population.segments.adults.{field}.{key}: ")
    assert fragment in line


def test_an_unknown_targeting_rule() -> None:
    [line] = problems(with_targeting(rule="headcount"))
    assert line.startswith("my.yaml: governance.targeting.rule: input should be ")


def test_shares_name_segments_and_sum_to_at_most_one() -> None:
    data = with_targeting(rule="shares", shares={"adults": 0.7, "children": 0.5})
    assert problems(data) == [
        "my.yaml: governance.targeting.shares.children: unknown segment 'children'; "
        "segments: adults",
        "my.yaml: governance.targeting.shares: shares sum to 1.2, more than 1",
    ]


def test_the_shares_rule_needs_shares() -> None:
    assert problems(with_targeting(rule="shares")) == [
        "my.yaml: governance.targeting.shares: rule shares needs a share for at least one segment"
    ]


def test_shares_have_no_effect_under_another_rule() -> None:
    assert problems(with_targeting(rule="risk", shares={"adults": 0.5})) == [
        "my.yaml: governance.targeting.shares: has no effect: fixed shares aim delivery only "
        "under the shares rule; need and risk targeting set their own shares "
        "(governance.targeting.rule is risk); remove it or set governance.targeting.rule: shares"
    ]


def test_shares_act_under_the_shares_rule() -> None:
    s = validate_data(with_targeting(rule="shares", shares={"adults": 1.0}), "my.yaml")
    assert s.governance.targeting.shares == {"adults": 1.0}
