"""Scenario factors: field types from the schema, equal shares for levels and integers, checks."""

from __future__ import annotations

import typing

import numpy as np
import pandas as pd
import pytest

from poolpilot.analysis import sensitivity as sa
from poolpilot.analysis.sensitivity.factors import value_type
from poolpilot.scenario import ScenarioError, load_scenario

SCENARIO = "hospital_led_post_acute"
RIGHTS = ["none", "informal", "formal"]
PARAMETERS = [
    {"path": "governance.challenges.rights", "levels": RIGHTS},
    {"path": "holder.planning_cycle_months", "bounds": [1, 6]},
    {"path": "trust.gain_rate", "bounds": [0.02, 0.1]},
]


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


def test_levels_take_equal_shares_of_the_unit_interval():
    assert [sa.level_value(u, RIGHTS) for u in (0.0, 0.33, 1 / 3, 0.66, 2 / 3, 0.99, 1.0)] == [
        "none",
        "none",
        "informal",
        "informal",
        "formal",
        "formal",
        "formal",
    ]
    u = np.random.default_rng(0).random(30_000)
    counts = pd.Series([sa.level_value(x, RIGHTS) for x in u]).value_counts(normalize=True)
    assert counts.to_dict() == pytest.approx(dict.fromkeys(RIGHTS, 1 / 3), abs=0.01)


def test_integers_round_within_their_bounds_with_equal_shares():
    factor = sa.Factor("holder.planning_cycle_months", "integer", 1, 6)
    assert factor.bounds == [0.5, 6.5]
    assert [factor.value(x) for x in (0.5, 1.49, 1.5, 3.2, 6.49, 6.5)] == [1, 1, 2, 3, 6, 6]
    assert sa.integer_value(-3.0, 1, 6) == 1 and sa.integer_value(9.0, 1, 6) == 6
    x = np.random.default_rng(1).uniform(*factor.bounds, 60_000)
    counts = pd.Series([factor.value(v) for v in x]).value_counts(normalize=True)
    assert sorted(counts.index) == [1, 2, 3, 4, 5, 6]
    assert counts.to_numpy() == pytest.approx(np.full(6, 1 / 6), abs=0.01)


def test_value_types_come_from_the_schema():
    assert value_type("holder.planning_cycle_months") is int
    assert value_type("trust.gain_rate") is float  # an Annotated float: the bare type
    assert value_type("payers.medicaid.initial_trust") is float  # a named list item skipped
    assert value_type("governance.escalation.tiers.frontline.delay_months") is int
    assert typing.get_origin(value_type("governance.challenges.rights")) is typing.Literal
    # a mapping's key is not a schema field: the caller judges by the validated value
    assert value_type("population.segments.adults_with_smi.need.transport") is None
    assert value_type("holder.no_such_field") is None


def test_field_kinds_and_the_salib_problem(scenario):
    found = sa.factors(
        scenario,
        [
            *PARAMETERS,
            {"path": "governance.escalation.tiers.frontline.delay_months", "bounds": [0, 3]},
            {"path": "population.segments.adults_with_smi.need.transport", "bounds": [0.5, 1]},
            {"path": "payers.medicaid.initial_trust", "bounds": [0.5, 0.9]},
        ],
    )
    assert [f.kind for f in found] == ["levels", "integer", "number", "integer", "number", "number"]
    problem = sa.scenario_problem(found)
    assert problem["names"][0] == "governance.challenges.rights"
    assert problem["bounds"][:3] == [[0.0, 1.0], [0.5, 6.5], [0.02, 0.1]]
    assert "groups" not in problem


def test_groups_name_every_factor(scenario):
    found = sa.factors(scenario, PARAMETERS, groups={"trust.gain_rate": "trust"})
    assert sa.scenario_problem(found)["groups"] == [
        "governance.challenges.rights",
        "holder.planning_cycle_months",
        "trust",
    ]


def test_design_points_map_each_row(scenario):
    found = sa.factors(scenario, PARAMETERS)
    X = np.array([[0.0, 0.5, 0.02], [0.5, 3.6, 0.05], [1.0, 6.5, 0.1]])
    assert sa.design_points(found, X) == [
        {"governance.challenges.rights": "none", "holder.planning_cycle_months": 1, "trust.gain_rate": 0.02},
        {"governance.challenges.rights": "informal", "holder.planning_cycle_months": 4, "trust.gain_rate": 0.05},
        {"governance.challenges.rights": "formal", "holder.planning_cycle_months": 6, "trust.gain_rate": 0.1},
    ]  # fmt: skip


def test_every_bad_parameter_is_listed(scenario):
    with pytest.raises(ScenarioError) as err:
        sa.factors(
            scenario,
            [
                {"path": "holder.no_such_field", "bounds": [0, 1]},
                {"path": "trust.gain_rate", "bounds": [0.5, 3]},
                {"path": "holder.kind", "bounds": [0, 1]},
                {"path": "holder.planning_cycle_months", "bounds": [1.2, 1.8]},
                {"path": "holder", "bounds": [0, 1]},
                {"path": "governance.challenges.rights", "levels": ["none", "none"]},
            ],
            groups={"trust.no_such": "g"},
        )
    lines = str(err.value).splitlines()
    assert len(lines) == 7, lines
    for text in (
        "holder.no_such_field: unknown field path",
        "trust.gain_rate: 3.0 refused",
        "holder.kind: bounds need a number field",
        "planning_cycle_months: integer field",
        "holder: is a section or a list, not a value",
        "needs two or more distinct levels",
        "trust.no_such: group given for a path not varied",
    ):
        assert any(text in line for line in lines), text


def test_no_parameters_is_a_problem(scenario):
    with pytest.raises(ScenarioError, match="no parameters"):
        sa.factors(scenario)


def test_parse_options_reads_bounds_levels_and_groups():
    params, groups = sa.parse_options(
        ["trust.gain_rate=0.02,0.1", "governance.challenges.rights=none|formal", "x.y=1|3|6"],
        ["trust.gain_rate=trust"],
    )
    assert params == [
        {"path": "trust.gain_rate", "bounds": [0.02, 0.1]},
        {"path": "governance.challenges.rights", "levels": ["none", "formal"]},
        {"path": "x.y", "levels": [1, 3, 6]},  # YAML scalars, like --set values
    ]
    assert groups == {"trust.gain_rate": "trust"}
    assert sa.parse_options() == (None, {})  # no --param: the scenario's block


def test_parse_options_lists_every_malformed_option():
    with pytest.raises(ScenarioError) as err:
        sa.parse_options(["trust.gain_rate", "a=1,2,3"], ["nogroup"])
    lines = str(err.value).splitlines()
    assert len(lines) == 3
    assert "expected path=lo,hi" in lines[0]
    assert "two numbers lo,hi" in lines[1]
    assert "expected path=name" in lines[2]
