"""Every field of the schema acts somewhere, and the declared no-effect fields really do not.

A field that changes no metric in any preset is either metadata (listed here), declared in
scenario/applicability.py as acting only in some designs, or a bug: a rule that reads as a
design choice and changes nothing. The second test keeps the applicability table true: a field
declared inert in a design must leave every metric of that design exactly as it was.
"""

from __future__ import annotations

import copy
import math
import time
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from pydantic.fields import FieldInfo

from poolpilot.model import PilotModel
from poolpilot.model.metrics import compute
from poolpilot.scenario import (
    Scenario,
    ScenarioError,
    list_presets,
    load_scenario,
    to_data,
    validate_data,
)
from poolpilot.scenario.applicability import TABLE, rule_for
from poolpilot.scenario.paths import (
    get_field,
    instances,
    matches,
    schema_fields,
    set_field,
)

SEEDS = (1, 2)

#: Fields that describe a design and are not meant to change a run: labels, provenance, the
#: money unit, and the settings of a sensitivity analysis (read by analysis, not the model).
METADATA = (
    "name",
    "description",
    "seed_article",
    "example",
    "basis",
    "currency",
    "holder.name",
    "population.segments[].name",
    "services[].name",
    "acute_events[].name",
    "payers[].name",
    "providers[].name",
    "governance.escalation.tiers[].name",
    "sensitivity.*",
)

#: Fields that act on the money or the audit trail but on no metric yet, and why: each is a
#: gap in the metrics (reported), not a rule that does nothing.
NO_METRIC_YET: dict[str, str] = {}

#: Values tried for fields whose type gives no move (names of other schema items).
SERVICE_SWAP = {
    "providers[].service",
    "holder.own_lines[].service",
    "services[].averts",
}


def _wary_partners(data: dict) -> dict:
    """Partners who leave: one payer withdraws, one reduces, one provider gives notice.

    The floor is set just below what is left after the withdrawal, so it can be crossed.
    """
    wary = {
        "county_general_fund": {
            "initial_trust": 0.05,
            "reduce_threshold": 0.5,
            "exit_threshold": 0.4,
        },
        "housing_authority": {"initial_trust": 0.2},
    }
    for payer in data["payers"]:
        payer.update(wary.get(payer["name"], {}))
    data["providers"][0].update(disengage_threshold=0.85, exit_threshold=0.8)
    data["providers"][1].update(initial_trust=0.3)
    data["governance"]["viability_floor"] = 0.76
    return data


def _disallowed_spend(data: dict) -> dict:
    """Informal approvals without validation: spend is miscoded, reconciliation finds it.

    Payers reconcile quarterly, so some of it is still hidden when the pilot ends (the
    final audit's work).
    """
    for payer in data["payers"]:
        payer["reconciliation"] = "quarterly"
    data["governance"]["decision_rights"]["enabled"] = False
    data["governance"]["validation"]["strictness"] = 0.0
    data["governance"]["reconciliation"]["external_audit_probability"] = 0.03
    return data


def _informal_disputes(data: dict) -> dict:
    """Challenges without a ladder: informal delays and overturns decide them."""
    data["governance"]["challenges"] = {"rights": "informal", "propensity": 10.0}
    return data


#: Presets pushed into the events some rules act on (exits, findings, informal disputes),
#: which the presets themselves do not reach in 36 months: tried after the presets.
STRESSED = {
    "wary_partners": ("county_led_bh_housing", _wary_partners),
    "disallowed_spend": ("multi_payer_medicaid_ph_local", _disallowed_spend),
    "informal_disputes": ("lead_commissioner", _informal_disputes),
}


def _metrics(scenario: Scenario) -> list[dict[str, float]]:
    return [compute(PilotModel(scenario, rng=seed).run()) for seed in SEEDS]


def _same(a: list[dict[str, float]], b: list[dict[str, float]]) -> bool:
    return all(
        x[k] == y[k] or (math.isnan(x[k]) and math.isnan(y[k]))
        for x, y in zip(a, b, strict=True)
        for k in x
    )


def _bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    """The field's numeric bounds, from its own constraints or an ``Annotated`` alias."""
    metadata = list(info.metadata)
    for arg in get_args(info.annotation):
        if get_origin(arg) is typing.Annotated:
            for extra in get_args(arg)[1:]:
                metadata += list(getattr(extra, "metadata", []))
    lo = hi = None
    for item in metadata:
        lo = getattr(item, "ge", None) if getattr(item, "ge", None) is not None else lo
        lo = getattr(item, "gt", None) if getattr(item, "gt", None) is not None else lo
        hi = getattr(item, "le", None) if getattr(item, "le", None) is not None else hi
        hi = getattr(item, "lt", None) if getattr(item, "lt", None) is not None else hi
    return lo, hi


def _kinds(annotation: Any) -> list[Any]:
    """The alternatives of a union annotation (``Fraction | None`` -> float, NoneType)."""
    if get_origin(annotation) in (Union, types.UnionType):
        return [a for arg in get_args(annotation) for a in _kinds(arg)]
    if get_origin(annotation) is typing.Annotated:
        return _kinds(get_args(annotation)[0])
    return [annotation]


def _moved(value: float, lo: float | None, hi: float | None, integer: bool) -> list[float]:
    """Values inside the bounds, away from ``value``: a step up and a step down."""
    lo = 0.0 if lo is None else lo
    hi = max(2 * abs(value) + 1, value + 1) if hi is None else hi
    out = []
    for new in (value + 0.25 * (hi - value), value - 0.5 * (value - lo)):
        if integer:
            new = round(new)
        if lo <= new <= hi and new != value and new not in out:
            out.append(new)
    return out


def perturbations(schema_path: str, info: FieldInfo, value: Any, data: dict) -> list[Any]:
    """Other allowed values of a field: a number moved, a bool flipped, another literal."""
    kinds = _kinds(info.annotation)
    if schema_path in SERVICE_SWAP:
        names = [sv["name"] for sv in data["services"]]
        if schema_path == "services[].averts":
            names = [ev["name"] for ev in data["acute_events"]] + [None]
        return [n for n in names if n != value][:3]
    if schema_path == "acute_events[].borne_by":
        return [n for n in ("holder", data["payers"][0]["name"]) if n != value]
    if schema_path == "payers[].allowable_uses":
        return [[data["services"][0]["name"]]] if value == "all" else ["all"]
    if schema_path == "population.segments[].shocks[].services":
        return [[data["services"][0]["name"]]] if not value else [[]]
    if isinstance(value, dict):
        return [{k: v * 1.5 + 0.1 for k, v in value.items()}]
    if isinstance(value, bool):
        return [not value]
    literals = [a for k in kinds if get_origin(k) is Literal for a in get_args(k)]
    if literals:
        return [a for a in literals if a != value]
    if value is None:
        lo, hi = _bounds(info)
        return [0.05 if hi == 1 else 1000.0]
    if isinstance(value, int | float):
        lo, hi = _bounds(info)
        moves: list[Any] = _moved(value, lo, hi, isinstance(value, int) and float not in kinds)
        if type(None) in kinds:
            moves.append(None)
        return moves
    return []


def leaves() -> list[tuple[str, FieldInfo]]:
    """Every leaf field of the schema (a value, not a section), by its schema path."""
    return [(path, info) for path, info, inner in schema_fields(Scenario) if inner is None]


def _is_metadata(path: str) -> bool:
    return any(matches(path, pattern) for pattern in METADATA)


@pytest.fixture(scope="module")
def presets() -> dict[str, tuple[dict, list[dict[str, float]]]]:
    """Every preset's (and stressed design's) resolved data and metrics at the test seeds."""
    out = {}
    for name, _ in list_presets():
        scenario = load_scenario(name)
        out[name] = (to_data(scenario), _metrics(scenario))
    for name, (preset, stress) in STRESSED.items():
        scenario = validate_data(stress(to_data(load_scenario(preset))), name)
        out[name] = (to_data(scenario), _metrics(scenario))
    return out


def _variants(schema_path: str, info: FieldInfo, data: dict) -> list[dict]:
    """Copies of ``data`` with every instance of the field (each list item, by its name) set
    to its first perturbation, then its second, ..."""
    moves = {
        path: perturbations(schema_path, info, get_field(data, path), data)
        for path in instances(data, schema_path)
    }
    out = []
    for j in range(max((len(m) for m in moves.values()), default=0)):
        changed = copy.deepcopy(data)
        for path, values in moves.items():
            if j < len(values):
                set_field(changed, path, values[j])
        out.append(changed)
    return out


def test_every_field_changes_a_metric_somewhere(presets) -> None:
    start = time.perf_counter()
    inert_everywhere = []
    for path, info in leaves():
        if _is_metadata(path) or rule_for(path) is not None or path in NO_METRIC_YET:
            continue
        acted = False
        for name, (data, base) in presets.items():
            for changed in _variants(path, info, data):
                try:
                    scenario = validate_data(changed, name)
                except ScenarioError:
                    continue  # not allowed in this design (a cross-field rule): next one
                if not _same(_metrics(scenario), base):
                    acted = True
                    break
            if acted:
                break
        if not acted:
            inert_everywhere.append(path)
    elapsed = time.perf_counter() - start
    print(f"walked {len(leaves())} fields in {elapsed:.1f} s")
    assert not inert_everywhere, (
        "these fields change no metric in any preset; declare where they act in "
        f"scenario/applicability.py, or list them as metadata: {inert_everywhere}"
    )


def _declared() -> list[tuple[str, FieldInfo]]:
    return [(p, i) for p, i in leaves() if rule_for(p) is not None]


@pytest.mark.parametrize("path,info", _declared(), ids=[p for p, _ in _declared()])
def test_declared_fields_change_nothing_where_they_do_not_act(presets, path, info) -> None:
    rule = rule_for(path)
    tried = 0
    for name, (data, base) in presets.items():
        if rule.acts(data):
            continue
        for changed in _variants(path, info, data):
            scenario = Scenario.model_validate(changed)  # validation would refuse it
            assert _same(_metrics(scenario), base), f"{path} changed a metric of {name}"
            tried += 1
    assert tried, f"no preset where {path} is declared inert has the field to perturb"


def test_every_rule_of_the_table_names_schema_fields() -> None:
    paths = [p for p, _, _ in schema_fields(Scenario)]
    for rule in TABLE:
        for pattern in rule.fields:
            assert any(matches(p, pattern) for p in paths), pattern
