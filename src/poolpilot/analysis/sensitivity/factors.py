"""Scenario factors: which fields vary, over what, and how a sample value becomes a field value.

Scenario parameters are fields addressed by dotted path (``holder.planning_cycle_months``,
``payers.medicaid.initial_trust``; `poolpilot.scenario.paths`), each given ``bounds`` or
``levels``:

* a number field with ``bounds: [lo, hi]`` is sampled uniformly on ``[lo, hi]``;
* an integer field (``int`` in the schema: a cadence, a delay, a notice period) with
  ``bounds: [lo, hi]`` is sampled on ``[lo - 0.5, hi + 0.5]`` and rounded to the nearest
  integer (halves up, then clipped to ``[lo, hi]``), so each integer in ``lo..hi`` gets the
  same share of the range (see `integer_value`);
* a field with ``levels: [a, b, c]`` (a rule like challenge rights, or any field at a few
  chosen values) is sampled on ``[0, 1]`` and mapped to level ``floor(u * n)`` (the last one at
  ``u = 1``), so each level gets an equal share (see `level_value`). Levels are unordered as
  far as variance-based indices go; for Morris, the elementary effects follow the listed
  order.

Parameters that share a ``group`` are analysed as one factor (SALib ``groups``; sobol and
morris only); ungrouped parameters then form a group of their own, named by their path.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import numpy as np
from pydantic import ValidationError

from poolpilot.scenario import (
    Problem,
    ScenarioError,
    get_field,
    parse_assignment,
    set_field,
    to_data,
    validate_data,
)
from poolpilot.scenario.paths import schema_field
from poolpilot.scenario.schema import Scenario, SensitivityParameter

__all__ = [
    "Factor",
    "design_points",
    "factors",
    "integer_value",
    "level_value",
    "parse_options",
    "scenario_problem",
]

#: Where the parameters of a scenario's own sensitivity block live (for messages).
WHERE = "sensitivity.parameters"
# Sample values sitting exactly on a level or half-integer edge (Morris grids do) map upwards,
# whatever the floating-point rounding of the grid.
_EDGE = 1e-9


def level_value(u: float, levels: Sequence[Any]) -> Any:
    """The level a sample ``u`` on [0, 1] stands for: ``levels[floor(u * n)]``, clipped to n-1.

    Each of the ``n`` levels owns an equal share of the unit interval.
    """
    n = len(levels)
    return levels[min(max(math.floor(u * n + _EDGE), 0), n - 1)]


def integer_value(x: float, low: int, high: int) -> int:
    """The integer a sample ``x`` on ``[low - 0.5, high + 0.5]`` stands for.

    Rounded to the nearest integer (halves up) and clipped to ``[low, high]``, so each integer
    of ``low..high`` owns an equal share of the sampled range.
    """
    return min(max(math.floor(x + 0.5 + _EDGE), int(low)), int(high))


@dataclass(frozen=True)
class Factor:
    """One varied scenario field and how a sample value becomes a field value.

    ``kind`` is ``"number"`` (sampled on ``[low, high]``), ``"integer"`` (an int field, sampled
    on ``[low - 0.5, high + 0.5]`` and rounded by `integer_value`) or ``"levels"`` (sampled on
    [0, 1] and mapped by `level_value`).
    """

    path: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    levels: tuple[Any, ...] = ()
    group: str | None = None

    @property
    def bounds(self) -> list[float]:
        """The SALib bounds of the sample variable."""
        if self.kind == "levels":
            return [0.0, 1.0]
        if self.kind == "integer":
            return [self.low - 0.5, self.high + 0.5]
        return [float(self.low), float(self.high)]

    def value(self, x: float) -> Any:
        """The field value a sample value stands for (a plain Python scalar)."""
        if self.kind == "levels":
            return level_value(x, self.levels)
        if self.kind == "integer":
            return integer_value(x, int(self.low), int(self.high))
        return float(x)


def factors(
    scenario: Scenario,
    parameters: Sequence[Mapping[str, Any] | SensitivityParameter] | None = None,
    groups: Mapping[str, str] | None = None,
) -> list[Factor]:
    """The varied fields of ``scenario``: ``parameters``, or its ``sensitivity:`` block.

    ``groups`` (path -> group name) sets or overrides the parameters' groups. Every parameter
    is checked before any run: its path exists and is a value, bounds are given for number
    fields only, and the scenario is valid at both bounds and at every level.

    Raises
    ------
    ScenarioError
        Listing every problem, one per line.
    """
    found, problems = checked_factors(scenario, parameters, groups, scenario.name)
    if problems:
        raise ScenarioError(problems)
    return found


def scenario_problem(found: Sequence[Factor]) -> dict[str, Any]:
    """The SALib problem of the factors: names are paths; groups when any factor has one."""
    problem: dict[str, Any] = {
        "num_vars": len(found),
        "names": [f.path for f in found],
        "bounds": [f.bounds for f in found],
    }
    if any(f.group for f in found):
        problem["groups"] = [f.group or f.path for f in found]
    return problem


def design_points(found: Sequence[Factor], X: np.ndarray) -> list[dict[str, Any]]:
    """One ``{path: field value}`` point per row of the design ``X`` (same order)."""
    return [
        {f.path: f.value(x) for f, x in zip(found, row, strict=True)}
        for row in np.asarray(X, dtype=float)
    ]


def parse_options(
    params: Sequence[str] = (), groups: Sequence[str] = ()
) -> tuple[list[dict[str, Any]] | None, dict[str, str]]:
    """The ``--param`` and ``--group`` options of ``poolpilot sensitivity``.

    ``path=lo,hi`` gives bounds; ``path=a|b|c`` gives levels, each read as a YAML scalar like
    ``--set`` values (``1|3|6`` are integers, ``none|formal`` strings); ``--group path=name``
    puts a parameter in a group. Returns the parameters (None when no ``--param`` was given:
    the scenario's block is used) and the groups by path.

    Raises
    ------
    ScenarioError
        One problem per malformed option.
    """
    problems: list[Problem] = []
    parameters: list[dict[str, Any]] = []
    for item in params:
        path, _, raw = (part.strip() for part in item.partition("="))
        if not path or not raw:
            problems.append(Problem("--param", "", f"{item!r}: expected path=lo,hi or path=a|b"))
        elif "|" in raw:
            levels = [parse_assignment(f"x={v.strip()}")[1] for v in raw.split("|")]
            parameters.append({"path": path, "levels": levels})
        else:
            try:
                low, high = (float(v) for v in raw.split(","))
            except ValueError:
                problems.append(
                    Problem("--param", "", f"{item!r}: bounds must be two numbers lo,hi")
                )
            else:
                parameters.append({"path": path, "bounds": [low, high]})
    grouped: dict[str, str] = {}
    for item in groups:
        path, _, name = (part.strip() for part in item.partition("="))
        if not path or not name:
            problems.append(Problem("--group", "", f"{item!r}: expected path=name"))
        else:
            grouped[path] = name
    if problems:
        raise ScenarioError(problems)
    return (parameters or None), grouped


def checked_factors(
    scenario: Scenario, parameters: Any, groups: Mapping[str, str] | None, file: str
) -> tuple[list[Factor], list[Problem]]:
    """The factors that passed every check, and a problem for each one that did not."""
    block = scenario.sensitivity
    raw = list(parameters) if parameters is not None else list(block.parameters if block else [])
    if not raw:
        return [], [Problem(file, WHERE, "no parameters: give a sensitivity: block or parameters")]
    data = to_data(scenario)
    found: list[Factor] = []
    problems: list[Problem] = []
    for i, item in enumerate(raw):
        try:
            param = SensitivityParameter.model_validate(
                item.model_dump() if isinstance(item, SensitivityParameter) else item
            )
        except ValidationError as err:
            for e in err.errors(include_url=False):
                loc = ".".join(str(part) for part in e["loc"])
                msg = e["msg"].replace("Value error, ", "")
                problems.append(Problem(file, f"{WHERE}[{i}]" + (f".{loc}" if loc else ""), msg))
            continue
        factor, bad = _factor(param, data, file, f"{WHERE}.{param.path}")
        if any(f.path == param.path for f in found):
            bad = [Problem(file, f"{WHERE}.{param.path}", "listed twice")]
        problems += bad
        if factor is not None and not bad:
            found.append(factor)
    for path, name in (groups or {}).items():
        match = [i for i, f in enumerate(found) if f.path == path]
        if match:
            found[match[0]] = replace(found[match[0]], group=str(name))
        elif not any(p.path.startswith(f"{WHERE}.{path}") for p in problems):
            problems.append(Problem(file, f"{WHERE}.{path}", "group given for a path not varied"))
    return found, problems


def _factor(
    param: SensitivityParameter, data: dict[str, Any], file: str, where: str
) -> tuple[Factor | None, list[Problem]]:
    """One parameter as a factor, tried on the scenario at its bounds or at every level."""
    path = param.path
    try:
        current = get_field(data, path)
    except (KeyError, TypeError):
        return None, [Problem(file, where, "unknown field path")]
    if isinstance(current, dict | list):
        return None, [Problem(file, where, "is a section or a list, not a value")]
    kind_of = value_type(path) or type(current)  # not in the schema's terms: by the value
    if param.levels is not None:
        levels = tuple(param.levels)
        if len(levels) < 2 or len(set(map(repr, levels))) < len(levels):
            return None, [Problem(file, where, "needs two or more distinct levels")]
        factor = Factor(path, "levels", levels=levels, group=param.group)
        tried = list(levels)
    else:
        low, high = param.bounds or (0.0, 1.0)
        if kind_of is int:
            lo, hi = math.ceil(low), math.floor(high)
            if lo >= hi:
                return None, [
                    Problem(file, where, f"integer field: {low}..{high} holds < 2 integers")
                ]
            factor = Factor(path, "integer", lo, hi, group=param.group)
            tried = [lo, hi]
        elif kind_of is float:
            factor = Factor(path, "number", float(low), float(high), group=param.group)
            tried = [float(low), float(high)]
        else:
            name = getattr(kind_of, "__name__", str(kind_of))
            return None, [Problem(file, where, f"bounds need a number field ({name}): use levels")]
    problems = []
    for value in tried:
        trial = copy.deepcopy(data)
        set_field(trial, path, value)
        try:
            validate_data(trial, file)
        except ScenarioError as err:
            for p in err.problems:
                at = "" if p.path == path else f" ({p.path})"
                problems.append(Problem(file, where, f"{value!r} refused{at}: {p.message}"))
    return factor, problems


def value_type(path: str) -> Any:
    """The schema type of the field a dotted path names (int, float, a Literal...), or None.

    None also for a key of a mapping or an item of a list of values
    (``population.segments.adults.need.transport``), which `schema_field` does not name: the
    caller then judges by the validated value, which pydantic has already given its type.
    """
    info = schema_field(Scenario, path)
    return None if info is None else _bare(info.annotation)


def _bare(kind: Any) -> Any:
    """``kind`` without Annotated metadata and without ``| None``."""
    while True:
        if get_origin(kind) is Annotated:
            kind = get_args(kind)[0]
        elif get_origin(kind) in (Union, UnionType):
            args = [a for a in get_args(kind) if a is not type(None)]
            if len(args) != 1:
                return kind
            kind = args[0]
        else:
            return kind
