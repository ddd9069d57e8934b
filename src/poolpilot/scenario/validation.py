"""Validation: every problem in a scenario, one line each, located by file and field path.

Problems are reported in one pass as ``FILE:LINE:COL: field.path: what is wrong (what was
given)`` (``problems.py``), with list items addressed by their name, so a designer can act on
each line. Values are taken as given (``fields.Section`` is strict), so a wrong type says what
was given and what it is: ``must be a whole number (given 'yes', text)``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from poolpilot.scenario.applicability import inert_settings
from poolpilot.scenario.fields import CAPS
from poolpilot.scenario.located import Place, place_of
from poolpilot.scenario.paths import named_path, section_fields
from poolpilot.scenario.problems import Problem, ScenarioError
from poolpilot.scenario.schema import Scenario

__all__ = ["Problem", "ScenarioError", "validate_data"]

#: What each kind of value must be, by pydantic's error type in strict mode.
MUST_BE = {
    "float_type": "must be a number",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "finite_number": "must be a finite number",
}

#: What YAML 1.1 read as booleans and a scenario reads as text (YAML 1.2).
YAML11_BOOLEANS = {"yes", "no", "on", "off", "y", "n"}


def given(value: Any) -> str:
    """What was given, and what kind of value it is (``'yes', text``; ``true, a boolean``)."""
    if isinstance(value, bool):
        return f"{str(value).lower()}, a boolean"
    if value is None:
        return "null"
    kind = {str: "text", int: "a number", float: "a number", list: "a list", dict: "a mapping"}
    return f"{value!r}, {kind.get(type(value), type(value).__name__)}"


def _message(err: dict[str, Any], model: type[BaseModel]) -> str:
    if err["type"] == "extra_forbidden":
        key = str(err["loc"][-1])
        close = difflib.get_close_matches(key, section_fields(model, err["loc"]), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown field{hint}"
    if err["type"] == "missing":
        return "required field is missing"
    value = err.get("input")
    if err["type"] in MUST_BE:
        hint = ""
        if err["type"] == "bool_type" and str(value).lower() in YAML11_BOOLEANS:
            hint = "; write true or false"
        return f"{MUST_BE[err['type']]} (given {given(value)}{hint})"
    bound = (err.get("ctx") or {}).get("le")
    if err["type"] == "less_than_equal" and bound in CAPS:
        text, why = CAPS[bound]
        return f"must be at most {text} ({why}; given {value!r})"
    msg = err["msg"]
    msg = msg[0].lower() + msg[1:]
    msg = msg.replace("value error, ", "")
    if isinstance(value, dict | list):
        return msg
    return f"{msg} (given {value!r})"


def placed(
    file: str, path: str, message: str, places: Mapping[str, Place] | None = None
) -> Problem:
    """A problem at the place its field was set (its file and line, or ``--set``), if known."""
    place = place_of(places, path) if places else None
    return place.problem(path, message) if place else Problem(file, path, message)


def _reference_problems(s: Scenario) -> list[tuple[str, str]]:
    """Cross-field checks that the schema cannot express: names must exist and be unique."""
    problems: list[tuple[str, str]] = []
    services = {sv.name for sv in s.services}
    events = {ev.name for ev in s.acute_events}
    owner: dict[str, str] = {}
    named = [("payers", p.name) for p in s.payers] + [("providers", p.name) for p in s.providers]
    for label, name in [*named, ("holder", s.holder.name)]:
        if name in owner:
            where = "holder.name" if label == "holder" else f"{label}.{name}.name"
            problems.append((where, f"two partners are named {name!r} ({owner[name]} and {label})"))
        owner.setdefault(name, label)

    def unique(label: str, names: list[str]) -> None:
        seen: set[str] = set()
        for name in names:
            if name in seen:
                problems.append((f"{label}.{name}", f"two entries are named {name!r}"))
            seen.add(name)

    unique("services", [sv.name for sv in s.services])
    unique("population.segments", [sg.name for sg in s.population.segments])
    unique("acute_events", [ev.name for ev in s.acute_events])
    unique("governance.escalation.tiers", [t.name for t in s.governance.escalation.tiers])

    def known_service(path: str, name: str) -> None:
        if name not in services:
            close = difflib.get_close_matches(name, services, n=1)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else f"; services: {', '.join(sorted(services))}"
            )
            problems.append((path, f"unknown service {name!r}{hint}"))

    for sv in s.services:
        if sv.averts is not None and sv.averts not in events:
            problems.append((f"services.{sv.name}.averts", f"unknown acute event {sv.averts!r}"))
    averting = {sv.name for sv in s.services if sv.averts is not None}
    for sg in s.population.segments:
        where = f"population.segments.{sg.name}"
        for svc in sg.need:
            known_service(f"{where}.need.{svc}", svc)
        for ev in sg.acute_rates:
            if ev not in events:
                close = difflib.get_close_matches(ev, events, n=1)
                hint = (
                    f"; did you mean {close[0]!r}?"
                    if close
                    else f"; acute events: {', '.join(sorted(events)) or '(none)'}"
                )
                problems.append((f"{where}.acute_rates.{ev}", f"unknown acute event {ev!r}{hint}"))
        for svc in sg.response:
            if svc not in services:
                known_service(f"{where}.response.{svc}", svc)
            elif svc not in averting:
                problems.append(
                    (
                        f"{where}.response.{svc}",
                        f"{svc!r} averts no acute event, so a response to it has no effect",
                    )
                )
        for i, shock in enumerate(sg.shocks):
            for svc in shock.services:
                known_service(f"population.segments.{sg.name}.shocks[{i}].services", svc)
            if shock.month > s.horizon_months:
                problems.append(
                    (
                        f"population.segments.{sg.name}.shocks[{i}].month",
                        f"after the horizon of {s.horizon_months} months (given {shock.month})",
                    )
                )
    for p in s.payers:
        if p.allowable_uses != "all":
            for svc in p.allowable_uses:
                known_service(f"payers.{p.name}.allowable_uses", svc)
        if p.exit_threshold > p.reduce_threshold:
            problems.append(
                (
                    f"payers.{p.name}.exit_threshold",
                    f"must not exceed reduce_threshold {p.reduce_threshold} (given {p.exit_threshold})",
                )
            )
    for p in s.providers:
        known_service(f"providers.{p.name}.service", p.service)
        if p.exit_threshold > p.disengage_threshold:
            problems.append(
                (
                    f"providers.{p.name}.exit_threshold",
                    f"must not exceed disengage_threshold {p.disengage_threshold} (given {p.exit_threshold})",
                )
            )
    for line in s.holder.own_lines:
        known_service(f"holder.own_lines.{line.service}.service", line.service)
    unique("holder.own_lines", [line.service for line in s.holder.own_lines])
    if s.holder.kind in ("convener", "provider_council", "none") and s.holder.own_lines:
        problems.append(
            ("holder.own_lines", f"a {s.holder.kind} holder runs no service lines of its own")
        )
    parties = {"outside", "holder", *(p.name for p in s.payers)}
    for ev in s.acute_events:
        where = f"acute_events.{ev.name}.borne_by"
        shares = ev.shares()
        for party in shares:
            if party not in parties:
                problems.append(
                    (
                        where if isinstance(ev.borne_by, str) else f"{where}.{party}",
                        f"unknown party {party!r}; use a payer's name, 'holder' or 'outside'",
                    )
                )
        if abs(sum(shares.values()) - 1.0) > 1e-6:
            problems.append((where, f"shares must sum to 1 (they sum to {sum(shares.values()):g})"))
    historic = s.status_quo.historic_allocation
    if isinstance(historic, dict):
        payers = {p.name: p for p in s.payers}
        for name, by_service in historic.items():
            where = f"status_quo.historic_allocation.{name}"
            if name not in payers:
                problems.append((where, f"unknown payer {name!r}"))
                continue
            uses = payers[name].allowable_uses
            for service in by_service:
                known_service(f"{where}.{service}", service)
                if service in services and uses != "all" and service not in uses:
                    problems.append(
                        (f"{where}.{service}", f"{service!r} is not among {name}'s allowable uses")
                    )
    targeting = s.governance.targeting
    segments = {sg.name for sg in s.population.segments}
    for name in targeting.shares:
        if name not in segments:
            problems.append(
                (
                    f"governance.targeting.shares.{name}",
                    f"unknown segment {name!r}; segments: {', '.join(sorted(segments))}",
                )
            )
    if sum(targeting.shares.values()) > 1 + 1e-9:
        total = sum(targeting.shares.values())
        problems.append(("governance.targeting.shares", f"shares sum to {total:g}, more than 1"))
    if targeting.rule == "shares" and not targeting.shares:
        problems.append(
            ("governance.targeting.shares", "rule shares needs a share for at least one segment")
        )
    delivered = {p.service for p in s.providers} | {line.service for line in s.holder.own_lines}
    if not delivered:
        problems.append(("providers", "no provider or own line delivers any service"))
    bands = s.budget.corridor.bands
    if any(b.above >= c.above for b, c in zip(bands, bands[1:], strict=False)):
        problems.append(("budget.corridor.bands", "bands must start at increasing variances"))
    return problems


def validate_data(
    data: dict[str, Any],
    file: str = "<scenario>",
    places: Mapping[str, Place] | None = None,
) -> Scenario:
    """Validate raw scenario data; raise ScenarioError listing every problem.

    ``places`` (from `located.load_located`) says where each field was set, so each problem
    names its file, line and column; without it problems name ``file`` alone.
    """
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        problems = [
            placed(file, named_path(e["loc"], data), _message(e, Scenario), places)
            for e in err.errors(include_url=False)
        ]
        raise ScenarioError(list(dict.fromkeys(problems))) from None
    refs = _reference_problems(scenario)
    if refs:
        raise ScenarioError([placed(file, path, msg, places) for path, msg in refs])
    inert = inert_settings(scenario)
    if inert:
        data_ = scenario.model_dump(mode="json")
        raise ScenarioError([placed(file, i.path, i.rule.problem(data_), places) for i in inert])
    return scenario
