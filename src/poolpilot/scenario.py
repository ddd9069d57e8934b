"""Reading scenarios: YAML files, ``extends`` composition, ``--set`` overrides, validation.

A scenario is data and never runs code (``yaml.safe_load``). Every problem in a file is
reported in one pass, one line each, as ``FILE: field.path: what is wrong (what was given)``,
with list items addressed by their name, so a designer can act on each line.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from poolpilot.schema import Scenario

#: Lists whose items carry a ``name`` (or ``service``) and are addressed and merged by it.
NAMED_LISTS = {
    "segments": "name",
    "services": "name",
    "acute_events": "name",
    "payers": "name",
    "providers": "name",
    "own_lines": "service",
    "tiers": "name",
    "shocks": None,
    "bands": None,
    "parameters": "path",
}


def preset_dir() -> Path:
    """The folder of preset scenarios (``scenarios/`` at the top of the repository)."""
    return Path(__file__).resolve().parents[2] / "scenarios"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario, located by file and field path."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.path}: {self.message}"
            if self.path
            else f"{self.file}: {self.message}"
        )


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --- presets --------------------------------------------------------------------------------


def list_presets() -> list[tuple[str, str]]:
    """Preset names with their one-line descriptions (files starting with ``_`` are bases)."""
    out = []
    for path in sorted(preset_dir().glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError:
            data = {}
        out.append((path.stem, str(data.get("description", "")).strip().split("\n")[0]))
    return out


def locate(source: str | Path, relative_to: Path | None = None) -> Path:
    """A scenario path from a path or a preset name."""
    path = Path(source)
    if relative_to is not None and not path.is_absolute():
        candidate = relative_to / path
        if candidate.exists():
            return candidate
    if path.exists():
        return path
    for name in (str(source), f"{source}.yaml"):
        candidate = preset_dir() / name
        if candidate.exists():
            return candidate
    raise ScenarioError([Problem(str(source), "", "no such file or preset")])


# --- reading and composing ------------------------------------------------------------------


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one YAML file safely; syntax errors name the line and column."""
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        raise ScenarioError(
            [Problem(str(path), "", f"YAML syntax error at {where}: {err.problem}")]
        ) from None
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as err:
        raise ScenarioError([Problem(str(path), "", f"cannot read: {err}")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(
            [
                Problem(
                    str(path),
                    "",
                    f"a scenario is a mapping of fields (given {type(data).__name__})",
                )
            ]
        )
    return data


def merge(base: Any, override: Any, key: str | None = None) -> Any:
    """Deep-merge ``override`` onto ``base``; named lists merge item by item by name."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = merge(base[k], v, k) if k in base else copy.deepcopy(v)
        return out
    id_key = NAMED_LISTS.get(key or "")
    if id_key and isinstance(base, list) and isinstance(override, list):
        out = [copy.deepcopy(item) for item in base]
        index = {item.get(id_key): i for i, item in enumerate(out) if isinstance(item, dict)}
        for item in override:
            name = item.get(id_key) if isinstance(item, dict) else None
            if name in index:
                out[index[name]] = merge(out[index[name]], item)
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(override)


def resolve(source: str | Path, _chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], Path]:
    """The raw scenario data after following ``extends`` (a preset name or a relative path)."""
    relative_to = _chain[-1].parent if _chain else None
    path = locate(source, relative_to).resolve()
    if path in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, path))
        raise ScenarioError([Problem(str(_chain[0]), "extends", f"circular extends ({cycle})")])
    data = read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data, path
    if not isinstance(parent, str):
        raise ScenarioError(
            [Problem(str(path), "extends", f"must be a preset name or path (given {parent!r})")]
        )
    try:
        base, _ = resolve(parent, (*_chain, path))
    except ScenarioError as err:
        if any(p.path == "extends" for p in err.problems):
            raise
        raise ScenarioError(
            [
                Problem(str(path), "extends", f"cannot extend {parent!r}: {p.message}")
                for p in err.problems
            ]
        ) from None
    return merge(base, data), path


# --- overrides ------------------------------------------------------------------------------


def parse_assignment(text: str) -> tuple[str, Any]:
    """``path=value`` with the value read as a YAML scalar or flow collection."""
    if "=" not in text:
        raise ValueError(f"--set needs path=value (given {text!r})")
    path, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return path.strip(), value


def apply_override(data: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted field; list items are addressed by their name (``payers.medicaid.x``)."""
    parts = path.split(".")
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            id_key = NAMED_LISTS.get(parts[i - 1] if i else "") or "name"
            match = [
                item for item in node if isinstance(item, dict) and str(item.get(id_key)) == part
            ]
            if not match and part.isdigit() and int(part) < len(node):
                match = [node[int(part)]]
            if not match:
                names = [str(item.get(id_key)) for item in node if isinstance(item, dict)]
                raise KeyError(
                    f"{'.'.join(parts[: i + 1])}: no item named {part!r} (items: {', '.join(names)})"
                )
            if last:
                raise KeyError(f"{path}: cannot replace a whole list item")
            node = match[0]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise KeyError(f"{'.'.join(parts[:i])} is a value, not a section")


def get_field(data: dict[str, Any], path: str) -> Any:
    """Read a dotted field addressed the same way as ``apply_override``."""
    node: Any = data
    parts = path.split(".")
    for i, part in enumerate(parts):
        if isinstance(node, list):
            id_key = NAMED_LISTS.get(parts[i - 1] if i else "") or "name"
            node = next(item for item in node if str(item.get(id_key)) == part)
        else:
            node = node[part]
    return node


# --- validation -----------------------------------------------------------------------------


def _field_path(loc: tuple[Any, ...], data: Any) -> str:
    """A pydantic error location with list indices replaced by item names."""
    parts: list[str] = []
    node = data
    parent_key = ""
    for item in loc:
        if isinstance(item, int) and isinstance(node, list):
            id_key = NAMED_LISTS.get(parent_key)
            entry = node[item] if item < len(node) else None
            name = entry.get(id_key) if id_key and isinstance(entry, dict) else None
            parts.append(str(name) if isinstance(name, str) and name else f"[{item}]")
            node = entry
        elif isinstance(node, dict) or node is None:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
            parent_key = str(item)
        # else a tag pydantic adds inside a value (``list[str]``, ``literal['all']``, ``[key]``)
    return ".".join(parts).replace(".[", "[")


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the section an unknown key was found in (for 'did you mean')."""
    current: Any = model
    for item in loc[:-1]:
        if isinstance(item, int) or current is None:
            continue
        field = current.model_fields.get(item) if hasattr(current, "model_fields") else None
        if field is None:
            return []
        current = _section_type(field.annotation)
    return list(current.model_fields) if hasattr(current, "model_fields") else []


def _section_type(annotation: Any) -> Any:
    """The BaseModel inside an annotation like ``list[Payer]`` or ``Sensitivity | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _section_type(arg)
        if found is not None:
            return found
    return None


def _message(err: dict[str, Any], model: type[BaseModel]) -> str:
    if err["type"] == "extra_forbidden":
        key = str(err["loc"][-1])
        close = difflib.get_close_matches(key, _allowed_keys(model, err["loc"]), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown field{hint}"
    msg = err["msg"]
    msg = msg[0].lower() + msg[1:]
    msg = msg.replace("value error, ", "")
    if err["type"] == "missing":
        return "required field is missing"
    given = err.get("input")
    if isinstance(given, dict | list):
        return msg
    return f"{msg} (given {given!r})"


def _reference_problems(s: Scenario) -> list[tuple[str, str]]:
    """Cross-field checks that the schema cannot express: names must exist and be unique."""
    problems: list[tuple[str, str]] = []
    services = {sv.name for sv in s.services}
    events = {ev.name for ev in s.acute_events}
    partners = [p.name for p in s.payers] + [p.name for p in s.providers] + [s.holder.name]
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
    for sg in s.population.segments:
        for svc in sg.need:
            known_service(f"population.segments.{sg.name}.need.{svc}", svc)
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
    for ev in s.acute_events:
        if ev.borne_by not in ("outside", "holder") and ev.borne_by not in partners:
            problems.append(
                (
                    f"acute_events.{ev.name}.borne_by",
                    f"unknown partner {ev.borne_by!r}; use a partner name, 'holder' or 'outside'",
                )
            )
    delivered = {p.service for p in s.providers} | {line.service for line in s.holder.own_lines}
    if not delivered:
        problems.append(("providers", "no provider or own line delivers any service"))
    bands = s.budget.corridor.bands
    if any(b.above >= c.above for b, c in zip(bands, bands[1:], strict=False)):
        problems.append(("budget.corridor.bands", "bands must start at increasing variances"))
    return problems


def validate_data(data: dict[str, Any], file: str = "<scenario>") -> Scenario:
    """Validate raw scenario data; raise ScenarioError listing every problem."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        problems = [
            Problem(file, _field_path(e["loc"], data), _message(e, Scenario))
            for e in err.errors(include_url=False)
        ]
        raise ScenarioError(list(dict.fromkeys(problems))) from None
    refs = _reference_problems(scenario)
    if refs:
        raise ScenarioError([Problem(file, path, msg) for path, msg in refs])
    return scenario


def load_scenario(
    source: str | Path | dict[str, Any],
    overrides: list[str] | dict[str, Any] | None = None,
) -> Scenario:
    """A validated scenario from a file, a preset name or a dict, with ``--set`` overrides."""
    if isinstance(source, dict):
        data, file = copy.deepcopy(source), "<scenario>"
        parent = data.pop("extends", None)
        if parent is not None:
            base, _ = resolve(parent)
            data = merge(base, data)
    else:
        data, path = resolve(source)
        file = str(source) if Path(str(source)).exists() else str(path)
    problems = []
    # parsed one by one inside the loop, so a malformed --set is a Problem like any other
    for item in overrides.items() if isinstance(overrides, dict) else overrides or []:
        path_ = item[0] if isinstance(item, tuple) else item.partition("=")[0].strip()
        try:
            path_, value = item if isinstance(item, tuple) else parse_assignment(item)
            apply_override(data, path_, value)
        except (KeyError, ValueError) as err:
            problems.append(Problem(file, path_, f"cannot set: {err.args[0]}"))
    if problems:
        raise ScenarioError(problems)
    return validate_data(data, file)


def to_data(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario as plain data (what ``poolpilot show`` prints)."""
    return scenario.model_dump(mode="json")


def content_hash(scenario: Scenario) -> str:
    """A stable hash of the resolved scenario: same content, same hash, whatever the file."""
    text = json.dumps(to_data(scenario), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
