"""Reading scenarios: YAML files, ``extends`` composition, ``--set`` overrides.

A scenario is data and never runs code (``yaml.safe_load``). Every problem in a file is
reported in one pass, one line each, as ``FILE: field.path: what is wrong (what was given)``,
with list items addressed by their name, so a designer can act on each line.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from poolpilot.scenario.applicability import after_changes
from poolpilot.scenario.paths import NAMED_LISTS, set_field
from poolpilot.scenario.schema import Scenario
from poolpilot.scenario.validation import Problem, ScenarioError, validate_data


def preset_dir() -> Path:
    """The folder of preset scenarios (``scenarios/`` at the top of the repository)."""
    return Path(__file__).resolve().parents[3] / "scenarios"


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


#: Mappings that are one value (shares that must sum to 1): an extending file replaces them.
WHOLE_VALUES = ("borne_by", "historic_allocation")


def merge(base: Any, override: Any, key: str | None = None) -> Any:
    """Deep-merge ``override`` onto ``base``; named lists merge item by item by name."""
    if isinstance(base, dict) and isinstance(override, dict) and key not in WHOLE_VALUES:
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
    changed: set[str] = set()
    # parsed one by one inside the loop, so a malformed --set is a Problem like any other
    for item in overrides.items() if isinstance(overrides, dict) else overrides or []:
        path_ = item[0] if isinstance(item, tuple) else item.partition("=")[0].strip()
        try:
            path_, value = item if isinstance(item, tuple) else parse_assignment(item)
            set_field(data, path_, value)
            changed.add(path_)
        except (KeyError, ValueError) as err:
            problems.append(Problem(file, path_, f"cannot set: {err.args[0]}"))
    if problems:
        raise ScenarioError(problems)
    return validate_data(after_changes(data, changed), file)


def to_data(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario as plain data (what ``poolpilot show`` prints)."""
    return scenario.model_dump(mode="json")


def content_hash(scenario: Scenario) -> str:
    """A stable hash of the resolved scenario: same content, same hash, whatever the file."""
    text = json.dumps(to_data(scenario), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
