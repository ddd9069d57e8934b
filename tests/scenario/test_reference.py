"""The committed scenario reference must be exactly what the schema generates, and complete."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from poolpilot.scenario import governance, reference, schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenario-reference.md"
ROW = re.compile(r"^\| `([^`]+)` \| (.*?) \| (.*?) \| (.*?) \| (.*) \|$")


def doc_rows() -> dict[str, tuple[str, str, str, str]]:
    """Path -> (type, unit, default, meaning) for every table row of the committed file."""
    out = {}
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            out[match.group(1)] = match.groups()[1:]
    return out


def schema_classes() -> list[type[BaseModel]]:
    """Every scenario section class defined in the schema modules (the pilot, its rules)."""
    return [
        cls
        for _, cls in inspect.getmembers(schema, inspect.isclass)
        if issubclass(cls, BaseModel)
        and cls.__module__ in (schema.__name__, governance.__name__)
        and cls is not schema.Section
    ]


def test_committed_reference_matches_the_schema() -> None:
    assert DOC.exists(), f"docs/scenario-reference.md is missing; run: {reference.COMMAND}"
    assert DOC.read_text() == reference.render(), (
        f"docs/scenario-reference.md is out of date with src/poolpilot/scenario/schema.py; "
        f"regenerate it with: {reference.COMMAND}"
    )


@pytest.mark.parametrize("cls", schema_classes(), ids=lambda c: c.__name__)
def test_every_field_of_every_schema_class_appears(cls: type[BaseModel]) -> None:
    """Each class is documented by a section whose rows are exactly its fields."""
    sections: dict[str, set[str]] = {}
    for path in doc_rows():
        parent, _, leaf = path.rpartition(".")
        sections.setdefault(parent, set()).add(leaf)
    wanted = set(cls.model_fields)
    assert wanted, f"{cls.__name__} has no fields"
    assert any(fields == wanted for fields in sections.values()), (
        f"no section of docs/scenario-reference.md lists exactly the fields of {cls.__name__} "
        f"({sorted(wanted)}); regenerate with: {reference.COMMAND}"
    )


def test_rows_carry_list_paths_units_and_defaults() -> None:
    rows = doc_rows()
    assert rows["payers[].annual_contribution"][:3] == ("Money", "currency units/year", "required")
    assert rows["payers[].initial_trust"][1:3] == ("fraction 0-1", "`0.7`")
    assert rows["payers[].reconciliation"][0] == "one of `monthly`, `quarterly`, `annual`"
    assert rows["holder.planning_cycle_months"][:3] == ("int in [1, 24]", "months", "`3`")
    assert rows["providers[].capacity"][1] == "units/month"
    assert rows["population.segments[].shocks[].month"][0] == "int ≥ 1"
    assert rows["governance.decision_rights.cut.threshold_share"][:2] == (
        "Fraction or null",
        "fraction 0-1",
    )
    assert rows["horizon_months"][3] == "months the pilot runs"


def test_every_row_has_a_type_unit_and_default() -> None:
    for path, (kind, unit, default, _) in doc_rows().items():
        assert kind and unit and default, path


def test_main_writes_the_rendered_reference(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "ref.md"
    assert reference.main([str(target)]) == 0
    assert target.read_text() == reference.render()
