"""Where each field acts: the one table of fields that some designs ignore.

Some fields only matter in some designs: only a prospective envelope leaves an underspend to
keep; oversight only corrects a provider council. A value set where it
cannot act would look like a design choice and change nothing, so validation refuses it, with
the reason and what to do. The table below is the one place that says so; the reference shows
it, and tests/scenario/test_fields_act.py checks that each declared field really is inert
where the table says it is, and that every other field moves some metric.

A condition is ``path == value`` or ``path != value``; ``and`` binds tighter than ``or``;
``never`` means the field acts in no design yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel

from poolpilot.scenario.paths import (
    get_field,
    holds_items,
    instances,
    matches,
    schema_field,
    schema_fields,
    set_field,
)
from poolpilot.scenario.schema import Holder, OwnLine, Scenario

NEVER = "never"


@cache
def _parse(acts_when: str) -> tuple[tuple[tuple[str, str, str], ...], ...]:
    """A condition, parsed once (validation asks for it on every scenario)."""
    if acts_when == NEVER:
        return ()
    out = []
    for alternative in acts_when.split(" or "):
        conditions = []
        for term in alternative.split(" and "):
            op = "!=" if "!=" in term else "=="
            path, _, value = (part.strip() for part in term.partition(op))
            conditions.append((path, op, value))
        out.append(tuple(conditions))
    return tuple(out)


@dataclass(frozen=True)
class Applicability:
    """Fields (schema paths, ``section.*`` for a whole section) and the designs they act in."""

    fields: tuple[str, ...]
    acts_when: str
    why: str

    def alternatives(self) -> tuple[tuple[tuple[str, str, str], ...], ...]:
        """``acts_when`` as alternatives of (path, operator, value) conditions, all needed."""
        return _parse(self.acts_when)

    def condition_paths(self) -> set[str]:
        """The fields the design is judged by (``holder.kind``, ``budget.basis``)."""
        return {path for alt in self.alternatives() for path, _, _ in alt}

    def acts(self, data: dict[str, Any]) -> bool:
        """Whether these fields act in the design given as (validated, complete) data."""
        return any(
            all((str(get_field(data, p)) == v) == (op == "==") for p, op, v in alt)
            for alt in self.alternatives()
        )

    def where(self) -> str:
        """Where the fields act, in words for the reference."""
        if self.acts_when == NEVER:
            return "acts in no design yet"
        text = self.acts_when.replace(" != ", " is not ").replace(" == ", " is ")
        return f"acts only when {text}"

    def problem(self, data: dict[str, Any]) -> str:
        """Why a value set here changes nothing, and what to do about it."""
        if self.acts_when == NEVER:
            return f"has no effect: {self.why}; remove it"
        state = ", ".join(f"{p} is {get_field(data, p)}" for p in sorted(self.condition_paths()))
        remedy = " or ".join(
            " and ".join(f"{p}: {v}" if op == "==" else f"{p} other than {v}" for p, op, v in alt)
            for alt in self.alternatives()
        )
        return f"has no effect: {self.why} ({state}); remove it or set {remedy}"


PROSPECTIVE = "budget.basis == prospective"

#: Fields that act only in some designs, read from src/poolpilot/model (see each reason).
TABLE: tuple[Applicability, ...] = (
    Applicability(
        ("budget.savings_retained",),
        PROSPECTIVE,
        "only a prospective envelope leaves an underspend for providers to keep",
    ),
    Applicability(
        ("budget.forecast_error", "budget.forecast_bias", "budget.rebasing"),
        PROSPECTIVE,
        "only a prospective envelope is forecast and rebased; a retrospective budget pays "
        "for delivered activity",
    ),
    Applicability(
        ("budget.in_year_adjustment.*", "budget.corridor.*"),
        PROSPECTIVE,
        "in-year adjustment and risk corridors act only on a prospective envelope",
    ),
    Applicability(
        ("holder.planning_cycle_months",),
        "budget.basis == retrospective",
        "a prospective budget is planned once a year, when its envelopes are set",
    ),
    Applicability(
        ("providers[].demand_bias",),
        "holder.kind == provider_council",
        "only a provider council plans from its providers' own demand reports",
    ),
    Applicability(
        ("governance.oversight.*",),
        "holder.kind == provider_council",
        "oversight acts only on a provider council's decisions",
    ),
    Applicability(
        ("governance.targeting.shares",),
        "governance.targeting.rule == shares",
        "fixed shares aim delivery only under the shares rule; need and risk targeting set "
        "their own shares",
    ),
    Applicability(
        ("holder.stint_propensity", "governance.under_service_floor"),
        "holder.kind == hospital and budget.basis == prospective",
        "only a hospital paid a prospective envelope for its own lines keeps what it does not "
        "deliver, so only it has reason to cut its own volume, and a floor to stop it",
    ),
    Applicability(
        ("holder.statutory_protection",),
        "holder.kind == county",
        "only a county authority runs statutory services it must fund first",
    ),
    Applicability(
        ("holder.contract_management",),
        "holder.kind == commissioner",
        "only a lead commissioner manages partners' delivery through their contracts",
    ),
    Applicability(
        ("governance.savings_sharing.*", "payers[].savings_weight"),
        "holder.kind != none",
        "without a pool there is no gain-sharing agreement and no membership to renew",
    ),
)


def rule_for(schema_path: str) -> Applicability | None:
    """The table's entry for a schema path (``payers[].x``), or None if it acts everywhere."""
    return next((r for r in TABLE if any(matches(schema_path, f) for f in r.fields)), None)


@dataclass(frozen=True)
class Inert:
    """A value set where it has no effect: the data path, its rule, and its default."""

    path: str
    rule: Applicability
    default: Any


def _plain(value: Any) -> Any:
    """A default as scenario data (sections and lists of sections as dicts)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@cache
def _compared(model: type[BaseModel]) -> tuple[tuple[str, Applicability, Any], ...]:
    """The schema paths whose values are compared with their defaults: rule and default.

    A section is compared field by field; a list of sections inside a covered section
    (``budget.corridor.bands``) is compared whole. Walked once per schema, not per scenario.
    """
    out: list[tuple[str, Applicability, Any]] = []
    whole: list[str] = []
    for path, info, inner in schema_fields(model):
        rule = rule_for(path)
        if rule is None or any(path.startswith(f"{w}[]") for w in whole):
            continue
        if inner is not None and not holds_items(info.annotation):
            continue  # a section: its fields are compared
        if inner is not None:
            whole.append(path)
        info = schema_field(model, path)
        if info is None or info.is_required():
            continue
        out.append((path, rule, _plain(info.get_default(call_default_factory=True))))
    return tuple(out)


def inert_settings(scenario: Scenario) -> list[Inert]:
    """Every field set away from its default in a design where it has no effect."""
    data = scenario.model_dump(mode="json")
    out = []
    acting: dict[Applicability, bool] = {}  # a rule covers many fields: judged once
    for schema_path, rule, default in _compared(Scenario):
        if rule not in acting:
            acting[rule] = rule.acts(data)
        if acting[rule]:
            continue
        for path in instances(data, schema_path):
            if get_field(data, path) != default:
                out.append(Inert(path, rule, default))
    return out


@cache
def condition_paths() -> frozenset[str]:
    """Every field some other field's effect depends on (``budget.basis``, ``holder.kind``):
    a change elsewhere switches nothing on or off."""
    return frozenset(p for rule in TABLE for p in rule.condition_paths())


def switched_off(data: dict[str, Any], changed: set[str]) -> list[Inert]:
    """Settings a change of design (``changed`` paths, e.g. ``budget.basis``) made inert.

    Raw ``data`` that does not validate gives nothing: validation reports it.
    """
    try:
        scenario = Scenario.model_validate(data)
    except ValueError:
        return []

    def touched(path: str) -> bool:
        return any(path == c or path.startswith(f"{c}.") for c in changed)

    return [
        item
        for item in inert_settings(scenario)
        if not touched(item.path) and any(touched(p) for p in item.rule.condition_paths())
    ]


def without_inert(data: dict[str, Any], settings: list[Inert] | None = None) -> dict[str, Any]:
    """The data with inert settings (by default all of them) back at their defaults.

    A change of design (no pool, a retrospective arm) leaves the old design's settings
    behind; they change nothing there, and would be refused.
    """
    if settings is None:
        settings = inert_settings(Scenario.model_validate(data))
    for item in settings:
        set_field(data, item.path, item.default)
    return data


def after_changes(data: dict[str, Any], changed: set[str]) -> dict[str, Any]:
    """The data after ``changed`` paths were set: what a change of design (``budget.basis``,
    ``holder.kind``) made inert goes back to its default; a change of an inert field itself
    stays, for validation to refuse. Used by ``--set``, ``--vary`` and every varied point."""
    if changed:
        hand_over_own_lines(data, changed)
        without_inert(data, switched_off(data, changed))
    return data


#: Holders that run no service lines of their own (validation refuses own lines for them).
NO_OWN_LINES = ("convener", "provider_council", "none")


def hand_over_own_lines(data: dict[str, Any], changed: set[str]) -> dict[str, Any]:
    """When ``holder.kind`` changed to a holder that runs no lines of its own, the old
    holder's lines stay in the pilot as a partner provider (``<holder>_<service>``, the same
    capacity and effort): a convener holding a hospital's pool contracts with the hospital.

    Without this a lever of holder kinds could not reach a convener from a hospital-led
    design. A scenario written with a convener and own lines is still refused: there nothing
    changed, and the file contradicts itself.
    """
    holder = data.get("holder")
    if "holder.kind" in changed and isinstance(holder, dict) and holder.get("kind") in NO_OWN_LINES:
        own_lines_to_partners(data)
    return data


def own_lines_to_partners(data: dict[str, Any]) -> dict[str, Any]:
    """The holder's own lines moved to the partner providers (see `hand_over_own_lines`)."""
    holder = data["holder"]
    lines = holder.get("own_lines") or []
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        return data  # not a list of lines: validation says so
    name = holder.get("name", Holder.model_fields["name"].default)
    effort = OwnLine.model_fields["base_effort"].default
    providers = data.setdefault("providers", [])
    for line in lines:
        service = line.get("service")
        providers.append(
            {
                "name": f"{name}_{service}",
                "service": service,
                "capacity": line.get("capacity"),
                "base_effort": line.get("base_effort", effort),
            }
        )
    holder["own_lines"] = []
    return data


def acts_in(schema_path: str) -> str | None:
    """Where a schema path (a field, or a section the table covers whole) acts, in words."""
    rule = rule_for(schema_path) or next((r for r in TABLE if f"{schema_path}.*" in r.fields), None)
    return rule.where() if rule else None
