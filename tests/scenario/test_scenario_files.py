"""Scenario files are read strictly, and every problem says where it is (issue 17, point 3).

A designer fixes a file from the printed lines alone, so each test checks the whole line:
``FILE:LINE:COL: field.path: what is wrong (given ...)``, in the file that set the field (a base
named by ``extends``, or the file itself), or ``FILE: --set PATH: ...`` for an override. The
files are small and written out here, so the line and column can be checked by eye.
"""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from poolpilot.model import PilotModel
from poolpilot.model.metrics import compute
from poolpilot.scenario import (
    Problem,
    ScenarioError,
    ScenarioWarning,
    list_presets,
    load_scenario,
    preset_dir,
)
from tiny import tiny_data

PRESET = "hospital_led_post_acute"


def write(folder: Path, text: str, name: str = "f.yaml") -> Path:
    """A scenario file with exactly this text (line 1 is the first line written here)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def lines(source: Path | str, overrides: list[str] | None = None) -> list[str]:
    """The printed problems of a scenario that must not load."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(source, overrides)
    assert all(isinstance(p, Problem) for p in info.value.problems)
    return [str(p) for p in info.value.problems]


def one(source: Path | str, overrides: list[str] | None = None) -> str:
    found = lines(source, overrides)
    assert len(found) == 1, "\n".join(found)
    return found[0]


# --- keys given twice -----------------------------------------------------------------------


def test_a_top_level_key_given_twice_names_both_lines(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        f"""
        extends: {PRESET}
        name: first
        horizon_months: 24
        name: second
        """,
    )
    assert one(f) == f"{f}:4:1: name: key given twice (lines 2 and 4); the first would be lost"


def test_nested_keys_given_twice_are_all_reported_with_both_lines(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        f"""
        extends: {PRESET}
        governance:
          joint_review:
            enabled: true
          transparency: 0.5
          joint_review:
            enabled: false
        payers:
          - name: medicaid
            annual_contribution: 1000
            annual_contribution: 2000
        acute_events:
          - {{name: readmission, unit_cost: 1, unit_cost: 2}}
        """,
    )
    assert lines(f) == [
        f"{f}:6:3: governance.joint_review: key given twice (lines 3 and 6); "
        "the first would be lost",
        f"{f}:11:5: payers.medicaid.annual_contribution: key given twice (lines 10 and 11); "
        "the first would be lost",
        f"{f}:13:39: acute_events.readmission.unit_cost: key given twice (both on line 13); "
        "the first would be lost",
    ]


def test_a_key_given_twice_in_a_base_names_the_base(tmp_path: Path) -> None:
    base = write(
        tmp_path, f"extends: {PRESET}\nbudget:\n  basis: prospective\nbudget: {{}}\n", "b.yaml"
    )
    child = write(tmp_path, "extends: b.yaml\nname: child\n", "child.yaml")
    assert one(child) == (
        f"{base}:4:1: budget: key given twice (lines 2 and 4); the first would be lost"
    )


def test_keys_a_merge_key_brings_in_are_not_given_twice(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        f"""
        extends: {PRESET}
        payers:
          - &medicaid {{name: medicaid, initial_trust: 0.6}}
          - {{<<: *medicaid, name: county, annual_contribution: 5000}}
        """,
    )
    county = load_scenario(f).payers[-1]
    assert (county.name, county.initial_trust, county.annual_contribution) == ("county", 0.6, 5000)


# --- where: the file as given, its line and column, the base that set a field ----------------


def test_problems_name_the_line_and_column_of_their_field(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        f"""
        extends: {PRESET}
        payers:
          - name: county
            allowable_uses: [transport]
        providers:
          - name: ride_link
            capacity: 10
          - {{name: new_clinic, service: nursing_home, capacity: 5}}
        """,
    )
    assert lines(f) == [
        # a required field that is missing is placed at the item it is missing from
        f"{f}:3:5: payers.county.annual_contribution: required field is missing",
    ]
    f = write(
        tmp_path,
        f.read_text().replace("- name: county", "- name: county\n    annual_contribution: 9"),
    )
    assert lines(f) == [
        f"{f}:9:24: providers.new_clinic.service: unknown service 'nursing_home'; services: "
        "behavioral_follow_up, care_navigation, community_nursing, crisis_response, "
        "housing_stabilization, peer_support, primary_care, transitional_care, transport",
    ]


def test_a_problem_in_an_extended_base_names_the_base_and_its_line(tmp_path: Path) -> None:
    base = write(
        tmp_path,
        f"""
        extends: {PRESET}
        governance:
          transparency: 1.5
          coi_controls: 2
        """,
        "base.yaml",
    )
    child = write(
        tmp_path,
        """
        extends: base.yaml
        governance:
          coi_controls: 3
        horizon_months: 0
        """,
        "child.yaml",
    )
    assert lines(child) == [
        f"{child}:4:1: horizon_months: input should be greater than or equal to 1 (given 0)",
        f"{base}:3:3: governance.transparency: input should be less than or equal to 1 (given 1.5)",
        f"{child}:3:3: governance.coi_controls: input should be less than or equal to 1 (given 3)",
    ]
    fixed = write(
        tmp_path, "extends: base.yaml\ngovernance: {transparency: 0.5, coi_controls: 0.5}\n"
    )
    assert load_scenario(fixed).governance.transparency == 0.5


def test_a_relative_path_stays_relative_in_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "designs", f"extends: {PRESET}\nbudget:\n  admin_share: 2\n", "base.yaml")
    write(tmp_path / "designs", "extends: base.yaml\nname: mine\n", "mine.yaml")
    monkeypatch.chdir(tmp_path)
    assert one("designs/mine.yaml") == (
        "designs/base.yaml:3:3: budget.admin_share: input should be less than or equal to 1 "
        "(given 2)"
    )


def test_a_preset_is_named_by_its_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(preset_dir().parent)
    assert one(PRESET, ["horizon_months=0"]) == (
        f"scenarios/{PRESET}.yaml: --set horizon_months: input should be greater than or equal "
        "to 1 (given 0)"
    )


def test_a_syntax_error_has_the_same_prefix(tmp_path: Path) -> None:
    f = write(
        tmp_path, f"extends: {PRESET}\ngovernance:\n  transparency: 0.5\n joint_review: {{}}\n"
    )
    assert one(f) == (
        f"{f}:4:2: YAML syntax error: expected <block end>, but found '<block mapping start>'"
    )


def test_a_syntax_error_in_a_base_names_the_base(tmp_path: Path) -> None:
    base = write(tmp_path, "name: [unclosed\n", "base.yaml")
    child = write(tmp_path, "extends: base.yaml\n", "child.yaml")
    [problem] = lines(child)
    assert problem.startswith(f"{base}:2:1: YAML syntax error: ")


def test_a_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    f = write(tmp_path, "- just\n- a list\n")
    assert one(f) == f"{f}:1:1: a scenario is a mapping of fields (given list)"


# --- --set overrides ------------------------------------------------------------------------


def test_set_problems_say_set_instead_of_a_line(tmp_path: Path) -> None:
    f = write(tmp_path, f"extends: {PRESET}\nproviders:\n  - {{name: ride_link, capacity: 10}}\n")
    assert lines(
        f,
        [
            "providers.ride_link.capacity=-1",
            "horizon_months",
        ],
    ) == [f"{f}: --set horizon_months: cannot set: --set needs path=value (given 'horizon_months')"]
    assert lines(f, ["providers.ride_link.capacity=-1", "horizon_months=0"]) == [
        f"{f}: --set horizon_months: input should be greater than or equal to 1 (given 0)",
        f"{f}: --set providers.ride_link.capacity: input should be greater than or equal to 0 "
        "(given -1)",
    ]


def test_set_values_are_read_like_the_file(tmp_path: Path) -> None:
    s = load_scenario(PRESET, ["payers.medicaid.annual_contribution=13e6", "name=yes"])
    assert s.payers[0].annual_contribution == 13_000_000
    assert s.name == "yes"


# --- YAML 1.2 booleans and numbers ---------------------------------------------------------


@pytest.mark.parametrize(("word", "value"), [("true", True), ("True", True), ("FALSE", False)])
def test_only_true_and_false_are_booleans(tmp_path: Path, word: str, value: bool) -> None:
    f = write(tmp_path, f"extends: {PRESET}\ngovernance: {{financial_statements: {word}}}\n")
    assert load_scenario(f).governance.financial_statements is value


def test_whole_numbers_and_exponents_are_numbers(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        f"""
        extends: {PRESET}
        horizon_months: 24.0
        payers: [{{name: medicaid, annual_contribution: 13e6}}]
        population: {{segments: [{{name: adults_with_smi, size: 1.2E3}}]}}
        """,
    )
    s = load_scenario(f)
    assert s.horizon_months == 24 and isinstance(s.horizon_months, int)
    assert s.payers[0].annual_contribution == 13_000_000
    assert s.population.segments[1].size == 1200


def test_integers_are_decimal_as_in_yaml_1_2(tmp_path: Path) -> None:
    # YAML 1.1 (PyYAML) reads 010 as octal eight and 1:20 as base-60 eighty
    f = write(tmp_path, f"extends: {PRESET}\nhorizon_months: 024\n")
    assert load_scenario(f).horizon_months == 24
    assert load_scenario(PRESET, ["horizon_months=010"]).horizon_months == 10
    f = write(tmp_path, f"extends: {PRESET}\nhorizon_months: 0o30\n")
    assert load_scenario(f).horizon_months == 24  # octal only when it says so
    f = write(tmp_path, f"extends: {PRESET}\nhorizon_months: 1:20\n")
    assert one(f) == f"{f}:2:1: horizon_months: must be a whole number (given '1:20', text)"


# --- values taken as written: a number is a number, a flag is true or false ---------------


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "Yes", "OFF", "y"])
def test_yes_no_on_off_are_text_and_refused_for_numbers(tmp_path: Path, word: str) -> None:
    f = write(tmp_path, f"extends: {PRESET}\nhorizon_months: {word}\n")
    assert one(f) == f"{f}:2:1: horizon_months: must be a whole number (given '{word}', text)"
    f = write(tmp_path, f"extends: {PRESET}\ngovernance: {{transparency: {word}}}\n")
    assert one(f) == (f"{f}:2:14: governance.transparency: must be a number (given '{word}', text)")


@pytest.mark.parametrize("word", ["yes", "no", "on", "off"])
def test_yes_no_on_off_are_text_and_refused_for_flags(tmp_path: Path, word: str) -> None:
    f = write(tmp_path, f"extends: {PRESET}\ngovernance:\n  financial_statements: {word}\n")
    assert one(f) == (
        f"{f}:3:3: governance.financial_statements: must be true or false "
        f"(given '{word}', text; write true or false)"
    )


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        (
            "payers: [{name: medicaid, annual_contribution: '12000000'}]",
            "payers.medicaid.annual_contribution",
            "must be a number (given '12000000', text)",
        ),
        (
            "horizon_months: true",
            "horizon_months",
            "must be a whole number (given true, a boolean)",
        ),
        (
            "governance: {transparency: false}",
            "governance.transparency",
            "must be a number (given false, a boolean)",
        ),
        (
            "governance: {joint_review: {enabled: 1}}",
            "governance.joint_review.enabled",
            "must be true or false (given 1, a number)",
        ),
        (
            "governance: {joint_review: {enabled: 'true'}}",
            "governance.joint_review.enabled",
            "must be true or false (given 'true', text)",
        ),
        (
            "population: {segments: [{name: adults_with_smi, size: 2.5}]}",
            "population.segments.adults_with_smi.size",
            "must be a whole number (given 2.5, a number)",
        ),
        (
            "population: {segments: [{name: adults_with_smi, need: {transport: 'lots'}}]}",
            "population.segments.adults_with_smi.need.transport",
            "must be a number (given 'lots', text)",
        ),
        ("holder: {name: 7}", "holder.name", "must be text (given 7, a number)"),
    ],
)
def test_values_of_the_wrong_type_say_what_was_given(
    tmp_path: Path, text: str, path: str, message: str
) -> None:
    f = write(tmp_path, f"extends: {PRESET}\n{text}\n")
    assert one(f).split(": ", 1)[1] == f"{path}: {message}"


def test_a_set_value_is_read_like_the_file_and_refused_the_same_way() -> None:
    [problem] = lines(PRESET, ["governance.financial_statements=yes"])
    assert problem.endswith(
        ": --set governance.financial_statements: must be true or false (given 'yes', text; "
        "write true or false)"
    )


# --- bounds and finite numbers --------------------------------------------------------------


def test_a_contribution_of_1e308_is_one_problem_naming_the_field_and_bound(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        f"extends: {PRESET}\npayers:\n  - {{name: medicaid, annual_contribution: 1.0e308}}\n",
    )
    assert one(f) == (
        f"{f}:3:22: payers.medicaid.annual_contribution: must be at most 1e12 (no pilot is "
        "larger, and the ledger counts cents exactly only below 9e13; given 1e+308)"
    )


@pytest.mark.parametrize(
    ("text", "path", "bound"),
    [
        ("payers: [{name: medicaid, annual_contribution: 1.5e12}]", "payers.medicaid.annual_contribution", "1e12"),
        ("services: [{name: transport, unit_cost: 2e12}]", "services.transport.unit_cost", "1e12"),
        ("fragmentation: {contract_cost: 1e13}", "fragmentation.contract_cost", "1e12"),
        ("population: {segments: [{name: adults_with_smi, size: 100000001}]}", "population.segments.adults_with_smi.size", "1e8"),
        ("providers: [{name: bh_clinic, capacity: 2e9}]", "providers.bh_clinic.capacity", "1e9"),
        ("holder: {own_lines: [{service: transitional_care, capacity: 1e10}]}", "holder.own_lines.transitional_care.capacity", "1e9"),
        ("population: {segments: [{name: adults_with_smi, need: {transport: 1e7}}]}", "population.segments.adults_with_smi.need.transport", "1e6"),
    ],
)  # fmt: skip
def test_sizes_above_their_bound_name_it_and_say_why(
    tmp_path: Path, text: str, path: str, bound: str
) -> None:
    f = write(tmp_path, f"extends: {PRESET}\n{text}\n")
    _, field, message = one(f).split(": ", 2)
    assert field == path
    assert message.startswith(f"must be at most {bound} (")
    assert "given " in message


def test_the_largest_sizes_allowed_run(tmp_path: Path) -> None:
    scenario = load_scenario(
        PRESET,
        [
            "payers.medicaid.annual_contribution=1e12",
            "population.segments.post_acute_adults.size=100000000",
            "population.segments.post_acute_adults.need.transport=1e6",
            "providers.ride_link.capacity=1e9",
            "services.transport.unit_cost=1e12",
        ],
    )
    metrics = compute(PilotModel(scenario, rng=1, months=13).run())
    assert all(np.isfinite(v) for v in metrics.values())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (".inf", "must be a finite number (given inf, a number)"),
        ("-.inf", "must be a finite number (given -inf, a number)"),
        (".nan", "must be a finite number (given nan, a number)"),
        ("-5", "input should be greater than or equal to 0 (given -5)"),
    ],
)
def test_infinite_and_negative_money_is_refused(tmp_path: Path, value: str, message: str) -> None:
    f = write(
        tmp_path,
        f"extends: {PRESET}\npayers:\n  - name: medicaid\n    annual_contribution: {value}\n",
    )
    assert one(f) == f"{f}:4:5: payers.medicaid.annual_contribution: {message}"


# --- cautions: valid, but not what it seems -------------------------------------------------


def caught(source: Path | str | dict, overrides: list[str] | None = None) -> list[str]:
    """The ScenarioWarnings loading gives, as printed (each one line)."""
    with warnings.catch_warnings(record=True) as found:
        warnings.simplefilter("always")
        scenario = load_scenario(source, overrides)
    assert scenario is not None
    texts = [str(w.message) for w in found if issubclass(w.category, ScenarioWarning)]
    assert all("\n" not in t for t in texts)
    return texts


def test_no_money_warns_once_at_the_payers(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        f"""
        extends: {PRESET}
        payers:
          - {{name: medicaid, annual_contribution: 0}}
          - {{name: medicare_advantage, annual_contribution: 0}}
        """,
    )
    with pytest.warns(ScenarioWarning, match="every contribution is 0: the pool has no money"):
        load_scenario(f)
    assert caught(f) == [
        f"{f}:2:1: payers: every contribution is 0: the pool has no money, so it funds no "
        "service; providers serve only the unfunded work their own reserves pay for, the rest "
        "of the need goes unmet, and ratios to the budget (financial_drift, year_end_shock) are "
        "reported as 0"
    ]


def test_no_people_warns_at_the_segments(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        f"""
        extends: {PRESET}
        population:
          segments:
            - {{name: post_acute_adults, size: 0}}
            - {{name: adults_with_smi, size: 0}}
            - {{name: high_risk_adults, size: 0}}
        """,
    )
    assert caught(f) == [
        f"{f}:3:3: population.segments: every segment has size 0: there is no need, so nothing "
        "is delivered, only running costs (administration, contracts) are spent, and every "
        "share of need (unmet_need_share, equity_gap, demand_mismatch) is reported as 0"
    ]


def test_no_capacity_warns_for_each_line_and_says_who_is_left(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        f"""
        extends: {PRESET}
        providers:
          - {{name: mobile_crisis, capacity: 0}}
        holder:
          own_lines:
            - {{service: transitional_care, capacity: 0}}
        """,
    )
    assert caught(f) == [
        f"{f}:3:27: providers.mobile_crisis.capacity: 0: no one can deliver crisis_response, "
        "so the pool pays for none of it and all of its need goes unmet",
        f"{f}:6:36: holder.own_lines.transitional_care.capacity: 0: it can deliver nothing and "
        "is paid nothing; transitional_care is left to its other providers",
    ]
    with pytest.warns(ScenarioWarning, match=r"--set providers\.mobile_crisis\.capacity: 0"):
        load_scenario(PRESET, ["providers.mobile_crisis.capacity=0"])


def _run(data: dict) -> PilotModel:
    return PilotModel(load_scenario(data), rng=1).run()


def test_what_the_cautions_say_is_what_the_model_does() -> None:
    """Each caution's text, checked against a run of the tiny pilot."""
    with pytest.warns(ScenarioWarning, match="no money"):
        m = _run(tiny_data(payers=[{"name": "medicaid", "annual_contribution": 0}]))
    r = compute(m)
    assert m.line_spend[: m.month].sum() == 0  # it funds no service
    assert m.line_burden[: m.month].sum() > 0  # providers' unfunded work
    assert r["unmet_need_share"] > 0.5 and r["financial_drift"] == r["year_end_shock"] == 0
    segments = [{"name": "adults", "size": 0, "need": {"nursing": 1.0}}]
    with pytest.warns(ScenarioWarning, match="no need"):
        m = _run(tiny_data(population={"segments": segments}))
    r = compute(m)
    assert m.true_need[: m.month].sum() == 0 and m.line_spend[: m.month].sum() == 0
    assert r["unmet_need_share"] == r["equity_gap"] == r["demand_mismatch"] == 0
    assert r["total_system_cost"] == pytest.approx(r["running_cost"])  # only running costs
    with pytest.warns(ScenarioWarning, match="no one can deliver nursing"):
        m = _run(tiny_data(providers=[{"name": "nurses", "service": "nursing", "capacity": 0}]))
    assert compute(m)["unmet_need_share"] == 1.0 and m.line_spend[: m.month].sum() == 0


def test_every_preset_and_base_validates_without_a_caution() -> None:
    names = [name for name, _ in list_presets()]
    bases = [p for p in sorted(preset_dir().glob("_*.yaml"))]
    assert names and bases
    for source in [*names, *bases]:
        assert caught(source) == [], source
