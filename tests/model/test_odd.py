"""docs/ODD.md stays complete: every scenario field and every metric is described there."""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from poolpilot.model.metrics import METRIC_NAMES, METRICS
from poolpilot.scenario import schema

ODD = Path(__file__).resolve().parents[2] / "docs" / "ODD.md"


def section_types(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models inside an annotation such as ``list[Tier]`` or ``Sensitivity | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    if typing.get_origin(annotation) is not None or isinstance(annotation, types.UnionType):
        for arg in typing.get_args(annotation):
            found += section_types(arg)
    return found


def walk(model: type[BaseModel], prefix: str = "") -> dict[str, tuple[str, type[BaseModel]]]:
    """Every field of ``model`` and its nested sections: dotted path -> (leaf name, owning class).

    List items are marked ``[]`` in the path, as in the ODD (``payers[].annual_contribution``).
    """
    out: dict[str, tuple[str, type[BaseModel]]] = {}
    for name, field in model.model_fields.items():
        is_list = typing.get_origin(field.annotation) is list
        subs = section_types(field.annotation)
        path = f"{prefix}{name}{'[]' if is_list and subs else ''}"
        out[path] = (name, model)
        for sub in subs:
            out.update(walk(sub, f"{path}."))
    return out


FIELDS = walk(schema.Scenario)


@pytest.fixture(scope="module")
def odd() -> str:
    return ODD.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tokens(odd: str) -> set[str]:
    """Backticked tokens of the ODD (inline code spans, outside fenced blocks too)."""
    return set(re.findall(r"`([^`\n]+)`", odd))


def leaves(tokens: set[str]) -> set[str]:
    """The names a backticked token documents: itself, or the last part of a dotted path."""
    out = set()
    for token in tokens:
        bare = token.replace("[]", "").strip()
        out.add(bare)
        out.add(bare.rsplit(".", 1)[-1])
    return out


def test_walk_reaches_every_nested_section():
    classes = {owner for _, owner in FIELDS.values()}
    for cls in (
        schema.Scenario,
        schema.Segment,
        schema.Shock,
        schema.AcuteEvent,
        schema.Payer,
        schema.OwnLine,
        schema.Tier,
        schema.DecisionRule,
        schema.Band,
        schema.InYearAdjustment,
        schema.SensitivityParameter,
    ):
        assert cls in classes, f"the schema walk missed {cls.__name__}"
    assert "payers[].annual_contribution" in FIELDS
    assert "governance.challenges.propensity" in FIELDS


@pytest.mark.parametrize("path", sorted(FIELDS))
def test_every_scenario_field_is_documented(path: str, tokens: set[str]):
    leaf, owner = FIELDS[path]
    assert leaf in leaves(tokens), (
        f"{owner.__name__}.{leaf} (scenario path {path}) is not described in docs/ODD.md: "
        f"add a row `{path}` to the parameter table of its section"
    )


def test_documented_paths_exist(tokens: set[str]):
    """A backticked dotted path into the scenario must name a real field (no stale rows)."""
    top = {name for name in schema.Scenario.model_fields}
    known = {p.replace("[]", "") for p in FIELDS}
    stale = sorted(
        token
        for token in tokens
        if re.fullmatch(r"[a-z_]+(\[\])?(\.[a-z_]+(\[\])?)+", token)
        and token.split(".")[0].replace("[]", "") in top
        and token.replace("[]", "") not in known
    )
    assert not stale, f"docs/ODD.md names scenario fields that do not exist: {stale}"


@pytest.mark.parametrize("metric", METRIC_NAMES)
def test_every_metric_is_documented(metric: str, odd: str, tokens: set[str]):
    assert metric in tokens, f"metric {metric} is not described in docs/ODD.md"
    definition = METRICS[metric].definition
    assert f'"{definition}"' in odd, (
        f"docs/ODD.md does not quote the definition of {metric} from poolpilot.metrics: "
        f'"{definition}"'
    )


@pytest.mark.parametrize("part", ["Overview", "Design concepts", "Details"])
def test_odd_has_its_three_parts(part: str, odd: str):
    headings = [h.strip() for h in re.findall(r"^#{1,2} (.+)$", odd, flags=re.M)]
    assert any(re.fullmatch(rf"(\d+\.\s*)?{part}", h) for h in headings), (
        f"docs/ODD.md has no top-level part '{part}' (headings: {headings})"
    )
