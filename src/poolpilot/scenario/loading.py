"""Reading scenarios: YAML files, ``extends`` composition, ``--set`` overrides.

A scenario is data and never runs code: files are read with a strict safe loader
(``located.py``: YAML 1.2 booleans and numbers, no key given twice). Every problem in a file is
reported in one pass, one line each, as ``FILE:LINE:COL: field.path: what is wrong (what was
given)``, with list items addressed by their name, so a designer can act on each line.
``list_presets`` alone reads leniently: a broken preset still gets listed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import yaml

from poolpilot.scenario.applicability import after_changes
from poolpilot.scenario.cautions import ScenarioWarning, cautions
from poolpilot.scenario.located import (
    WHOLE_VALUES,
    Located,
    Place,
    Places,
    load_located,
    load_value,
    merged_places,
    overridden,
)
from poolpilot.scenario.paths import NAMED_LISTS, set_field
from poolpilot.scenario.problems import Problem, ScenarioError
from poolpilot.scenario.schema import Scenario
from poolpilot.scenario.validation import validate_data


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


def _shown(path: Path) -> str:
    """A preset's path as a user would type it: relative to the working directory when inside
    it (``scenarios/hospital_led_post_acute.yaml``), else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _locate(source: str | Path, relative_to: Path | None = None) -> tuple[Path, str]:
    """A scenario's path, and how problems name it: a path as given (joined to the folder of
    the file that extends it), or a preset's path (`_shown`)."""
    path = Path(source)
    if relative_to is not None and not path.is_absolute():
        candidate = relative_to / path
        if candidate.exists():
            return candidate, str(candidate)
    if path.exists():
        return path, str(source)
    for name in (str(source), f"{source}.yaml"):
        candidate = preset_dir() / name
        if candidate.exists():
            return candidate, _shown(candidate)
    raise ScenarioError([Problem(str(source), "", "no such file or preset")])


def locate(source: str | Path, relative_to: Path | None = None) -> Path:
    """A scenario path from a path or a preset name."""
    return _locate(source, relative_to)[0]


# --- reading and composing ------------------------------------------------------------------


def read_located(path: Path, file: str | None = None) -> Located:
    """Read one scenario file strictly (``located.py``): its data and the place of each field.

    ``file`` is how problems name it (default: the path). Syntax errors and keys given twice
    are problems at their line and column.
    """
    file = str(path) if file is None else file
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError([Problem(file, "", f"cannot read: {err}")]) from None
    located = load_located(text, file)
    if located.data is None:
        located.data = {}
    if not isinstance(located.data, dict):
        kind = type(located.data).__name__
        raise ScenarioError(
            [Problem(file, "", f"a scenario is a mapping of fields (given {kind})", 1, 1)]
        )
    return located


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one YAML file strictly; syntax errors and repeated keys name the line and column."""
    return read_located(path).data


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


def _resolve(
    source: str | Path, chain: tuple[tuple[Path, str], ...] = (), via: Place | None = None
) -> tuple[dict[str, Any], Places, Path, str]:
    """Data, places, path and shown name of a scenario after following ``extends``.

    ``chain`` holds the files (path, shown name) that extend this one, ``via`` the place of
    the ``extends`` that named it. A problem in a base file names the base file and its line.
    """
    relative_to = Path(chain[-1][1]).parent if chain else None
    found, file = _locate(source, relative_to)
    path = found.resolve()
    if any(path == p for p, _ in chain):
        cycle = " -> ".join(p.name for p in (*(p for p, _ in chain), path))
        where = via or Place(chain[0][1])
        raise ScenarioError([where.problem("extends", f"circular extends ({cycle})")])
    located = read_located(found, file)
    data = located.data
    parent = data.pop("extends", None)
    if parent is None:
        return data, located.places, path, file
    here = located.places.get("extends", Place(file))
    if not isinstance(parent, str):
        raise ScenarioError(
            [here.problem("extends", f"must be a preset name or path (given {parent!r})")]
        )
    try:
        base, places, _, _ = _resolve(parent, (*chain, (path, file)), here)
    except ScenarioError as err:
        if any(p.path == "extends" or p.line is not None for p in err.problems):
            raise
        raise ScenarioError(
            [
                here.problem("extends", f"cannot extend {parent!r}: {p.message}")
                for p in err.problems
            ]
        ) from None
    return merge(base, data), merged_places(places, located), path, file


def resolve(source: str | Path) -> tuple[dict[str, Any], Path]:
    """The raw scenario data after following ``extends`` (a preset name or a relative path)."""
    data, _, path, _ = _resolve(source)
    return data, path


# --- overrides ------------------------------------------------------------------------------


def parse_assignment(text: str) -> tuple[str, Any]:
    """``path=value`` with the value read as a YAML scalar or flow collection (YAML 1.2, as a
    file is read: ``yes`` is text); a value that is not valid YAML is taken as text."""
    if "=" not in text:
        raise ValueError(f"--set needs path=value (given {text!r})")
    path, raw = text.split("=", 1)
    try:
        value = load_value(raw) if raw.strip() else ""
    except ScenarioError:
        value = raw
    return path.strip(), value


def load_scenario(
    source: str | Path | dict[str, Any],
    overrides: list[str] | dict[str, Any] | None = None,
) -> Scenario:
    """A validated scenario from a file, a preset name or a dict, with ``--set`` overrides.

    Problems name the file as given (a preset by its path), with the line and column of the
    field, in the file that set it; a value from ``--set`` is named as such. A scenario that is
    valid but will not do what it seems to (no money, no people, no capacity) gives a
    ``ScenarioWarning`` per condition (``cautions.py``).
    """
    places: Places = {}
    if isinstance(source, dict):
        data, file = copy.deepcopy(source), "<scenario>"
        parent = data.pop("extends", None)
        if parent is not None:
            base, _ = resolve(parent)
            data = merge(base, data)
    else:
        data, places, _, file = _resolve(source)
    problems = []
    changed: set[str] = set()
    # parsed one by one inside the loop, so a malformed --set is a Problem like any other
    for item in overrides.items() if isinstance(overrides, dict) else overrides or []:
        path_ = item[0] if isinstance(item, tuple) else item.partition("=")[0].strip()
        try:
            path_, value = item if isinstance(item, tuple) else parse_assignment(item)
            set_field(data, path_, value)
            changed.add(path_)
            overridden(places, path_, file)
        except (KeyError, ValueError) as err:
            problems.append(Problem(file, path_, f"cannot set: {err.args[0]}", override=True))
    if problems:
        raise ScenarioError(problems)
    scenario = validate_data(after_changes(data, changed), file, places)
    for caution in cautions(scenario, file, places):
        warnings.warn(ScenarioWarning(caution), stacklevel=2)
    return scenario


def to_data(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario as plain data (what ``poolpilot show`` prints)."""
    return scenario.model_dump(mode="json")


def content_hash(scenario: Scenario) -> str:
    """A stable hash of the resolved scenario: same content, same hash, whatever the file."""
    text = json.dumps(to_data(scenario), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
