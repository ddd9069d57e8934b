"""Reading scenario YAML strictly, with the place of every field.

PyYAML reads YAML 1.1 leniently in three ways that hide a designer's mistakes: a key given
twice silently drops the first block; ``yes``, ``no``, ``on`` and ``off`` are booleans (and a
boolean then passes for the number 1 or 0); and ``1e6`` or ``1.0e308`` are text, not numbers.
``ScenarioLoader`` reads scenarios the YAML 1.2 way instead: a key given twice is a problem
naming both lines; only ``true``/``false`` (``True``, ``TRUE``, ...) are booleans, so ``yes``
stays the text it looks like and validation refuses it where a number or a flag is needed;
any decimal with a dot or an exponent is a number; and an integer is decimal (``010`` is ten,
not YAML 1.1's octal eight, and ``1:20`` is text, not base-60 eighty).

`load_located` also records where every field sits (`Places`: dotted field path to
file, line and column, list items by their name as in problems), so a problem can point at the
line to change, in the file that set it (a base file of an ``extends``, or the file itself).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from poolpilot.scenario.paths import NAMED_LISTS
from poolpilot.scenario.problems import Problem, ScenarioError

BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
MERGE_TAG = "tag:yaml.org,2002:merge"
STR_TAG = "tag:yaml.org,2002:str"

#: Mappings that are one value (shares that must sum to 1): an extending file replaces them.
WHOLE_VALUES = ("borne_by", "historic_allocation")

#: YAML 1.2 booleans (the core schema): anything else that looks like one stays text.
YAML12_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
#: YAML 1.2 decimals with a dot or an exponent (``1e6`` included), plus ``.inf`` and ``.nan``;
#: the digit separator ``_`` of YAML 1.1 is still accepted. Plain integers are ints.
YAML12_FLOAT = re.compile(
    r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)

#: YAML 1.2 integers: decimal (a leading zero changes nothing: ``010`` is ten), ``0o`` octal
#: and ``0x`` hexadecimal. YAML 1.1's octal ``010`` (eight), binary ``0b`` and base-60 ``1:20``
#: (eighty) are text, which validation refuses where a number is needed.
YAML12_INT = re.compile(r"^[-+]?(?:[0-9][0-9_]*|0o[0-7_]+|0x[0-9a-fA-F_]+)$")

#: Most values a file may expand to (aliases can make a small file enormous).
MAX_VALUES = 200_000


class ScenarioLoader(yaml.SafeLoader):
    """The safe loader with YAML 1.2 booleans and numbers (see the module docstring)."""


ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (BOOL_TAG, FLOAT_TAG, INT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ScenarioLoader.add_implicit_resolver(BOOL_TAG, YAML12_BOOL, list("tTfF"))
ScenarioLoader.add_implicit_resolver(INT_TAG, YAML12_INT, list("-+0123456789"))
ScenarioLoader.add_implicit_resolver(FLOAT_TAG, YAML12_FLOAT, list("-+0123456789."))


def _yaml12_int(loader: yaml.SafeLoader, node: ScalarNode) -> int:
    """An integer as YAML 1.2 reads it (PyYAML's own reads ``010`` as octal eight)."""
    text = loader.construct_scalar(node).replace("_", "")
    sign, digits = (-1, text[1:]) if text[0] == "-" else (1, text.lstrip("+"))
    base = {"0o": 8, "0x": 16}.get(digits[:2], 10)
    return sign * int(digits[2:] if base != 10 else digits, base)


ScenarioLoader.add_constructor(INT_TAG, _yaml12_int)


@dataclass(frozen=True)
class Place:
    """Where a field's value came from: a line and column (1-based) of a file, or ``--set``."""

    file: str
    line: int | None = None
    column: int | None = None
    override: bool = False

    def problem(self, path: str, message: str) -> Problem:
        """A problem at this place."""
        return Problem(self.file, path, message, self.line, self.column, self.override)


#: Dotted field path (list items by name, ``[i]`` without one) -> where it was set.
Places = dict[str, Place]


@dataclass
class Located:
    """A file's data, where each field sits, and which paths replace a base's value whole."""

    data: Any
    places: Places
    replaced: set[str]


def _at(file: str, mark: Any) -> Place:
    return Place(file, mark.line + 1, mark.column + 1)


def yaml_problem(file: str, err: yaml.YAMLError) -> Problem:
    """A YAML error as one problem, at its line and column."""
    mark = getattr(err, "problem_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
    what = getattr(err, "problem", None) or str(err)
    if isinstance(err, yaml.constructor.ConstructorError):
        return Problem(
            file, "", f"not plain data (a scenario never runs code): {what}", line, column
        )
    return Problem(file, "", f"YAML syntax error: {what}", line, column)


class _Walk:
    """One pass over a composed YAML tree: places of every key, and keys given twice."""

    def __init__(self, loader: ScenarioLoader, file: str):
        self.loader = loader
        self.file = file
        self.places: Places = {}
        self.replaced: set[str] = set()
        self.problems: list[Problem] = []
        self.count = 0
        self.inside: set[int] = set()  # the nodes being walked (an alias may hold its anchor)

    def node(self, node: Node, path: str, key: str, weak: bool = False) -> None:
        self.count += 1
        if self.count > MAX_VALUES:
            raise ScenarioError(
                [Problem(self.file, "", f"the file expands to more than {MAX_VALUES} values")]
            )
        # what an extending file replaces whole, as ``loading.merge`` does: all but sections
        # and named lists (which merge key by key and item by item), and the WHOLE_VALUES
        merges = isinstance(node, MappingNode) or (
            isinstance(node, SequenceNode) and bool(NAMED_LISTS.get(key))
        )
        if path and (not merges or key in WHOLE_VALUES):
            self.replaced.add(path)
        if id(node) in self.inside:
            return
        self.inside.add(id(node))
        if isinstance(node, MappingNode):
            self.mapping(node, path, weak)
        elif isinstance(node, SequenceNode):
            self.sequence(node, path, key, weak)
        self.inside.discard(id(node))

    def record(self, path: str, place: Place, weak: bool) -> None:
        if weak:
            self.places.setdefault(path, place)
        else:
            self.places[path] = place

    def mapping(self, node: MappingNode, prefix: str, weak: bool) -> None:
        seen: dict[Any, int] = {}  # key -> the line it was first given on
        merged: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merged += value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                continue
            if not isinstance(key_node, ScalarNode):
                continue
            key = self.loader.construct_object(key_node)
            path = f"{prefix}.{key}" if prefix else str(key)
            line = key_node.start_mark.line + 1
            if key in seen:
                where = (
                    f"lines {seen[key]} and {line}" if seen[key] != line else f"both on line {line}"
                )
                self.problems.append(
                    _at(self.file, key_node.start_mark).problem(
                        path, f"key given twice ({where}); the first would be lost"
                    )
                )
            seen.setdefault(key, line)
            self.record(path, _at(self.file, key_node.start_mark), weak)
            self.node(value_node, path, str(key), weak)
        for base in merged:  # ``<<: *anchor``: the keys given here win over the merged ones
            if isinstance(base, MappingNode):
                self.mapping(base, prefix, weak=True)

    def sequence(self, node: SequenceNode, prefix: str, key: str, weak: bool) -> None:
        id_key = NAMED_LISTS.get(key)
        for i, item in enumerate(node.value):
            name = _item_name(item, id_key) if id_key else None
            path = f"{prefix}.{name}" if name else f"{prefix}[{i}]"
            self.record(path, _at(self.file, item.start_mark), weak)
            self.node(item, path, "", weak)


def _item_name(item: Node, id_key: str) -> str | None:
    """The name a list item is addressed by (as problems address it), if it has one."""
    if not isinstance(item, MappingNode):
        return None
    for key_node, value_node in item.value:
        if isinstance(key_node, ScalarNode) and key_node.value == id_key:
            named = isinstance(value_node, ScalarNode) and value_node.tag == STR_TAG
            return (value_node.value or None) if named else None
    return None


def load_located(text: str, file: str) -> Located:
    """Read YAML text strictly: the data, the place of each field, the paths replaced whole.

    Raises ScenarioError with every key given twice, or with the syntax error, at its line.
    """
    loader = ScenarioLoader(text)
    try:
        node = loader.get_single_node()
        walk = _Walk(loader, file)
        if node is not None:
            walk.node(node, "", "")
        if walk.problems:
            raise ScenarioError(walk.problems)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as err:
        raise ScenarioError([yaml_problem(file, err)]) from None
    finally:
        loader.dispose()
    return Located(data, walk.places if node is not None else {}, walk.replaced)


def load_value(text: str) -> Any:
    """One value written as YAML (a ``--set`` value), read the same way as a file."""
    return load_located(text, "--set").data


def place_of(places: Mapping[str, Place], path: str) -> Place | None:
    """Where a field was set: its own place, else its closest section or item that has one.

    A required field that is missing is placed at the item or section it is missing from.
    """
    while path:
        if path in places:
            return places[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None


def _ancestors(path: str) -> list[str]:
    return [path[:i] for i, ch in enumerate(path) if ch in ".["]


def merged_places(base: Places, child: Located) -> Places:
    """The places after ``child`` is merged onto a base: the child's win, and a value the
    child replaces whole takes none of the base's places inside it with it."""
    out = {
        path: place
        for path, place in base.items()
        if not any(a in child.replaced for a in _ancestors(path))
    }
    out.update(child.places)
    return out


def overridden(places: Places, path: str, file: str) -> None:
    """Mark ``path`` (and everything inside it) as set by ``--set``, not by the file."""
    path = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", path)  # ``shocks.0`` is ``shocks[0]``
    for known in [p for p in places if any(a == path for a in _ancestors(p))]:
        del places[known]
    places[path] = Place(file, override=True)
