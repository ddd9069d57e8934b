"""Tests for poolpilot.scenario: every class of bad input is reported by field path, in one pass.

A designer acts on each printed line, so each test checks that the problem names the field
(list items by their name, as in ``payers.medicaid.annual_contribution``) and says what is wrong.
"""

from __future__ import annotations

import copy
import math
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from poolpilot.scenario import (
    Problem,
    ScenarioError,
    content_hash,
    load_scenario,
    resolve,
    validate_data,
)
from poolpilot.scenario.schema import Scenario

PRESET = "hospital_led_post_acute"


def write(tmp_path: Path, text: str, name: str = "f.yaml") -> Path:
    """A scenario file; ``extends`` of the preset is added unless the text names its own."""
    body = textwrap.dedent(text).lstrip("\n")
    if not body.startswith("extends:"):
        body = f"extends: {PRESET}\n{body}"
    path = tmp_path / name
    path.write_text(body)
    return path


def problems(tmp_path: Path, text: str, overrides: list[str] | None = None) -> list[Problem]:
    """The problems of a file that must not load."""
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides=overrides)
    assert info.value.problems, "a ScenarioError must list its problems"
    return info.value.problems


def only(tmp_path: Path, text: str) -> Problem:
    """The single problem of a file with one mistake."""
    found = problems(tmp_path, text)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


# --- the printed form -----------------------------------------------------------------------


def test_problem_prints_file_line_column_field_message_and_given(tmp_path: Path) -> None:
    p = only(tmp_path, "payers: [{name: medicaid, annual_contribution: -5}]")
    assert str(p) == (
        f"{tmp_path / 'f.yaml'}:2:27: payers.medicaid.annual_contribution: "
        "input should be greater than or equal to 0 (given -5)"
    )


# --- one test per class of bad input --------------------------------------------------------


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    p = only(
        tmp_path,
        """
        governance:
          transparency: 0.5
         joint_review: {enabled: true}
        """,
    )
    assert str(p).startswith(f"{tmp_path / 'f.yaml'}:4:2: YAML syntax error: ")
    assert (p.line, p.column, p.path) == (4, 2, "")


def test_unknown_key_suggests_the_close_field(tmp_path: Path) -> None:
    p = only(tmp_path, "governance: {transparancy: 0.3}")
    assert p.path == "governance.transparancy"
    assert p.message == "unknown field (did you mean 'transparency'?)"


def test_unknown_key_in_a_list_item_is_addressed_by_name(tmp_path: Path) -> None:
    p = only(tmp_path, "payers: [{name: medicaid, anual_contribution: 5}]")
    assert p.path == "payers.medicaid.anual_contribution"
    assert "did you mean 'annual_contribution'?" in p.message


def test_unknown_key_without_a_close_field_gives_no_suggestion(tmp_path: Path) -> None:
    p = only(tmp_path, "holder: {zzzz: 1}")
    assert p.path == "holder.zzzz"
    assert p.message == "unknown field"


@pytest.mark.parametrize(
    ("text", "path", "fragment"),
    [
        ("horizon_months: long", "horizon_months", "must be a whole number (given 'long', text)"),
        (
            "governance: {financial_statements: maybe}",
            "governance.financial_statements",
            "must be true or false (given 'maybe', text)",
        ),
        (
            "holder: {self_interest: [0.3]}",
            "holder.self_interest",
            "must be a number (given [0.3], a list)",
        ),
        ("governance: {reconciliation: weekly}", "governance.reconciliation", "dictionary"),
        (
            "providers: [{name: bh_clinic, capacity: lots}]",
            "providers.bh_clinic.capacity",
            "must be a number (given 'lots', text)",
        ),
    ],
)
def test_wrong_type_names_the_field(tmp_path: Path, text: str, path: str, fragment: str) -> None:
    p = only(tmp_path, text)
    assert p.path == path
    assert fragment in p.message


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (
            "payers: [{name: medicaid, annual_contribution: -5}]",
            "payers.medicaid.annual_contribution",
        ),
        (
            "acute_events: [{name: readmission, unit_cost: -1}]",
            "acute_events.readmission.unit_cost",
        ),
        (
            "population: {segments: [{name: adults_with_smi, size: -10}]}",
            "population.segments.adults_with_smi.size",
        ),
        ("providers: [{name: ride_link, capacity: -1}]", "providers.ride_link.capacity"),
        (
            "holder: {own_lines: [{service: transitional_care, capacity: -900}]}",
            "holder.own_lines.transitional_care.capacity",
        ),
        ("prevention: {half_effect_per_person: -15}", "prevention.half_effect_per_person"),
    ],
)
def test_negative_money_sizes_and_capacities(tmp_path: Path, text: str, path: str) -> None:
    p = only(tmp_path, text)
    assert p.path == path
    assert "greater than or equal to 0" in p.message
    assert "(given -" in p.message


def test_wrong_type_inside_a_list_names_the_entry_not_pydantic_tags(tmp_path: Path) -> None:
    found = problems(tmp_path, "payers: [{name: medicaid, allowable_uses: [community_nursing, 7]}]")
    assert [p.path for p in found] == [
        "payers.medicaid.allowable_uses[1]",
        "payers.medicaid.allowable_uses",
    ]
    assert found[0].message == "must be text (given 7, a number)"
    assert found[1].message.startswith("input should be 'all'")


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (
            "payers: [{name: medicaid, annual_contribution: .inf}]",
            "payers.medicaid.annual_contribution",
        ),
        ("providers: [{name: ride_link, capacity: .nan}]", "providers.ride_link.capacity"),
        ("services: [{name: transport, unit_cost: .inf}]", "services.transport.unit_cost"),
    ],
)
def test_non_finite_numbers(tmp_path: Path, text: str, path: str) -> None:
    p = only(tmp_path, text)
    assert p.path == path
    assert "finite number" in p.message


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("governance: {transparency: 1.5}", "governance.transparency"),
        ("payers: [{name: medicaid, initial_trust: 2}]", "payers.medicaid.initial_trust"),
        ("budget: {admin_share: -0.1}", "budget.admin_share"),
        (
            "population: {segments: [{name: post_acute_adults, access_difficulty: 1.2}]}",
            "population.segments.post_acute_adults.access_difficulty",
        ),
        (
            "governance: {escalation: {tiers: [{name: frontline, overturn_probability: 3}]}}",
            "governance.escalation.tiers.frontline.overturn_probability",
        ),
    ],
)
def test_fraction_outside_zero_one(tmp_path: Path, text: str, path: str) -> None:
    p = only(tmp_path, text)
    assert p.path == path
    assert "than or equal to" in p.message


def test_allowable_uses_naming_an_unknown_service(tmp_path: Path) -> None:
    p = only(
        tmp_path, "payers: [{name: medicaid, allowable_uses: [community_nursing, nursing_home]}]"
    )
    assert p.path == "payers.medicaid.allowable_uses"
    assert "unknown service 'nursing_home'" in p.message


def test_own_line_naming_an_unknown_service(tmp_path: Path) -> None:
    p = only(tmp_path, "holder: {own_lines: [{service: transitional_cares, capacity: 10}]}")
    assert p.path == "holder.own_lines.transitional_cares.service"
    assert "unknown service 'transitional_cares'" in p.message
    assert "did you mean 'transitional_care'?" in p.message


def test_two_partners_with_one_name(tmp_path: Path) -> None:
    p = only(tmp_path, "payers: [{name: bh_clinic, annual_contribution: 100}]")
    # the second entry is the one reported, with where the first one is
    assert p.path == "providers.bh_clinic.name"
    assert p.message == "two partners are named 'bh_clinic' (payers and providers)"


def test_reference_to_an_unknown_party(tmp_path: Path) -> None:
    p = only(tmp_path, "acute_events: [{name: readmission, borne_by: state_medicaid}]")
    assert p.path == "acute_events.readmission.borne_by"
    assert "unknown party 'state_medicaid'" in p.message


def test_shares_of_an_acute_cost_name_parties_and_sum_to_one(tmp_path: Path) -> None:
    text = "acute_events: [{name: readmission, borne_by: {medicaid: 0.5, medicare: 0.3}}]"
    found = {(p.path, p.message) for p in problems(tmp_path, text)}
    assert (
        "acute_events.readmission.borne_by.medicare",
        "unknown party 'medicare'; use a payer's name, 'holder' or 'outside'",
    ) in found
    assert ("acute_events.readmission.borne_by", "shares must sum to 1 (they sum to 0.8)") in found


@pytest.mark.parametrize(
    ("text", "path", "fragment"),
    [
        (
            "payers: [{name: medicaid, reconciliation: weekly}]",
            "payers.medicaid.reconciliation",
            "'monthly', 'quarterly' or 'annual' (given 'weekly')",
        ),
        (
            "governance: {assurance: {frequency_months: 0}}",
            "governance.assurance.frequency_months",
            "greater than or equal to 1",
        ),
        (
            "holder: {planning_cycle_months: 30}",
            "holder.planning_cycle_months",
            "less than or equal to 24",
        ),
        (
            "governance: {renewal_months: 0}",
            "governance.renewal_months",
            "greater than or equal to 1",
        ),
        (
            "governance: {reconciliation: {variance_threshold: 1.5}}",
            "governance.reconciliation.variance_threshold",
            "less than or equal to 1",
        ),
        (
            "payers: [{name: medicaid, exit_threshold: 0.9}]",
            "payers.medicaid.exit_threshold",
            "must not exceed reduce_threshold",
        ),
        (
            "providers: [{name: bh_clinic, exit_threshold: 0.5}]",
            "providers.bh_clinic.exit_threshold",
            "must not exceed disengage_threshold",
        ),
    ],
)
def test_thresholds_and_cadences_out_of_range(
    tmp_path: Path, text: str, path: str, fragment: str
) -> None:
    p = only(tmp_path, text)
    assert p.path == path
    assert fragment in p.message


@pytest.mark.parametrize("months", [0, -12])
def test_horizon_of_zero_or_less(tmp_path: Path, months: int) -> None:
    p = only(tmp_path, f"horizon_months: {months}")
    assert p.path == "horizon_months"
    assert p.message == f"input should be greater than or equal to 1 (given {months})"


def test_circular_extends(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "a.yaml")
    [p] = info.value.problems
    assert p.path == "extends"
    assert "circular extends (a.yaml -> b.yaml -> a.yaml)" in p.message


def test_extends_of_a_missing_file(tmp_path: Path) -> None:
    p = only(tmp_path, "extends: no_such_preset\n")
    assert p.path == "extends"
    assert "cannot extend 'no_such_preset'" in p.message


def test_every_problem_is_reported_in_one_pass(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
        horizon_months: 0
        payers:
          - {name: medicaid, annual_contribution: -1, reconciliation: weekly}
        governance:
          transparancy: 0.4
        budget:
          admin_share: 1.5
        """,
    )
    assert sorted(p.path for p in found) == [
        "budget.admin_share",
        "governance.transparancy",
        "horizon_months",
        "payers.medicaid.annual_contribution",
        "payers.medicaid.reconciliation",
    ]
    assert all(p.message for p in found)


# --- composition and overrides --------------------------------------------------------------


def test_extends_a_preset_and_merges_named_lists_by_name(tmp_path: Path) -> None:
    s = load_scenario(
        write(
            tmp_path,
            """
            name: bigger
            payers:
              - {name: medicaid, annual_contribution: 13000000}
              - {name: county, annual_contribution: 500000, allowable_uses: [housing_stabilization]}
            providers:
              - {name: bh_clinic, capacity: 2000}
            governance:
              joint_review: {frequency_months: 6}
            """,
        )
    )
    preset = load_scenario(PRESET)
    assert s.name == "bigger"
    assert [p.name for p in s.payers] == [p.name for p in preset.payers] + ["county"]
    medicaid = s.payers[0]
    assert medicaid.annual_contribution == 13_000_000 != preset.payers[0].annual_contribution
    assert medicaid.allowable_uses == preset.payers[0].allowable_uses  # kept from the base
    assert s.payers[-1].allowable_uses == ["housing_stabilization"]
    assert [p.name for p in s.providers] == [p.name for p in preset.providers]
    bh = next(p for p in s.providers if p.name == "bh_clinic")
    bh_before = next(p for p in preset.providers if p.name == "bh_clinic")
    assert (bh.service, bh.capacity) == (bh_before.service, 2000)
    # every other item and section is the preset's, including its own merge onto its base
    assert [p for p in s.providers if p.name != "bh_clinic"] == [
        p for p in preset.providers if p.name != "bh_clinic"
    ]
    assert s.governance.joint_review.enabled and s.governance.joint_review.frequency_months == 6
    assert s.governance.escalation == preset.governance.escalation
    assert s.holder == preset.holder


def test_set_overrides_address_list_items_by_name(tmp_path: Path) -> None:
    s = load_scenario(
        write(tmp_path, "name: overridden\n"),
        overrides=["payers.medicaid.annual_contribution=5", "governance.challenges.rights=none"],
    )
    assert s.payers[0].annual_contribution == 5
    assert s.governance.challenges.rights == "none"
    assert s.name == "overridden"


def test_set_override_values_are_validated_like_the_file(tmp_path: Path) -> None:
    found = problems(
        tmp_path, "name: x\n", overrides=["providers.ride_link.capacity=-3", "horizon_months=0"]
    )
    assert {p.path for p in found} == {"providers.ride_link.capacity", "horizon_months"}


def test_set_override_of_an_unknown_item_name(tmp_path: Path) -> None:
    [p] = problems(tmp_path, "name: x\n", overrides=["payers.medicare.annual_contribution=5"])
    assert p.path == "payers.medicare.annual_contribution"
    assert "no item named 'medicare'" in p.message
    assert "medicaid" in p.message  # the items that do exist


def test_malformed_set_override_is_a_scenario_error(tmp_path: Path) -> None:
    found = problems(tmp_path, "name: x\n", overrides=["horizon_months", "payers.nope.x=1"])
    assert len(found) == 2
    assert "path=value" in found[0].message
    assert "no item named 'nope'" in found[1].message


def test_content_hash_depends_on_content_not_file(tmp_path: Path) -> None:
    text = "name: same\npayers: [{name: medicaid, annual_contribution: 7000000}]\n"
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    a = load_scenario(write(tmp_path / "one", text, "a.yaml"))
    # the same content, spelled differently, in another file
    b = load_scenario(
        write(
            tmp_path / "two",
            "payers:\n  - annual_contribution: 7.0e6\n    name: medicaid\nname: same\n",
            "b.yaml",
        )
    )
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) == content_hash(load_scenario(write(tmp_path / "one", text, "c.yaml")))
    changed = load_scenario(
        write(tmp_path, text, "d.yaml"), overrides=["governance.transparency=0.71"]
    )
    assert content_hash(changed) != content_hash(a)
    assert content_hash(
        load_scenario(write(tmp_path, text.replace("same", "other"), "e.yaml"))
    ) != content_hash(a)


def test_safe_loader_refuses_python_tags(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    p = only(
        tmp_path,
        f"""
        name: !!python/object/apply:os.system ["touch {marker}"]
        holder: !!python/object:poolpilot.schema.Holder {{kind: hospital}}
        """,
    )
    assert "python/object" in p.message
    assert not marker.exists()


# --- property: any mutation of a valid preset gives a Scenario or a ScenarioError -----------

BASE_DATA: dict[str, Any] = resolve(PRESET)[0]

Loc = tuple[str | int, ...]


def _paths(node: Any, prefix: Loc = ()) -> list[Loc]:
    """Every location in the data, containers and leaves, at every depth."""
    out: list[Loc] = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _get(node: Any, path: Loc) -> Any:
    for part in path:
        node = node[part]
    return node


#: Replacement values by type; a replacement is always of a type other than the value's.
OTHER_VALUES: dict[type, st.SearchStrategy[Any]] = {
    str: st.text(max_size=12),
    int: st.integers(min_value=-(10**9), max_value=10**9),
    float: st.floats(max_value=-1e-12, allow_nan=False, allow_infinity=True),
    list: st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    dict: st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.none()), max_size=3),
    type(None): st.none(),
}


def _perturbed(value: float, draw: st.DataObject) -> Any:
    return draw.draw(
        st.one_of(
            st.sampled_from([-value, value * 1e6, value + 0.5, -1, 0, math.nan, math.inf, True]),
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(min_value=-(10**12), max_value=10**12),
        ),
        label="number",
    )


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_random_mutations_give_a_scenario_or_a_scenario_error(data: st.DataObject) -> None:
    doc = copy.deepcopy(BASE_DATA)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4), label="mutations")):
        paths = _paths(doc)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        parent, key = _get(doc, path[:-1]), path[-1]
        action = data.draw(st.sampled_from(["delete", "replace", "perturb"]), label="action")
        value = parent[key]
        if action == "delete":
            del parent[key]
        elif action == "perturb" and isinstance(value, int | float) and not isinstance(value, bool):
            parent[key] = _perturbed(value, data)
        else:
            other = data.draw(st.sampled_from([t for t in OTHER_VALUES if t is not type(value)]))
            parent[key] = data.draw(OTHER_VALUES[other], label=other.__name__)
    try:
        scenario = validate_data(doc, "f.yaml")
    except ScenarioError as err:
        event("ScenarioError")
        assert err.problems
        for p in err.problems:
            assert isinstance(p.path, str)
            assert isinstance(p.message, str) and p.message
            assert str(p).startswith("f.yaml: ")
    else:
        event("Scenario")
        assert isinstance(scenario, Scenario)
