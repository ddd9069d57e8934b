"""The one walker of dotted field paths (``payers.medicaid.initial_trust``).

Scenario data and the schema are trees of sections and named lists. Everything that addresses
a field by path (``--set``, ``--vary``, sensitivity factors, validation messages, the
reference, the report's assumption listing) goes through the functions here, so a path means
the same thing everywhere: list items are addressed by their name (or ``service``, or
``path``), never by position, and an index is accepted only where an item has no name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

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


def _item(node: list[Any], parts: list[str], i: int) -> Any:
    """The item of a named list addressed by ``parts[i]`` (by name, else by index)."""
    part = parts[i]
    id_key = NAMED_LISTS.get(parts[i - 1] if i else "") or "name"
    match = [item for item in node if isinstance(item, dict) and str(item.get(id_key)) == part]
    if not match and part.isdigit() and int(part) < len(node):
        match = [node[int(part)]]
    if not match:
        names = [str(item.get(id_key)) for item in node if isinstance(item, dict)]
        raise KeyError(
            f"{'.'.join(parts[: i + 1])}: no item named {part!r} (items: {', '.join(names)})"
        )
    return match[0]


def set_field(data: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted field; list items are addressed by their name (``payers.medicaid.x``)."""
    parts = path.split(".")
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if last:
                raise KeyError(f"{path}: cannot replace a whole list item")
            node = _item(node, parts, i)
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise KeyError(f"{'.'.join(parts[:i])} is a value, not a section")


#: The name the command line and older code know ``set_field`` by.
apply_override = set_field


def get_field(data: dict[str, Any], path: str) -> Any:
    """Read a dotted field addressed the same way as ``set_field``."""
    parts = path.split(".")
    node: Any = data
    for i, part in enumerate(parts):
        if isinstance(node, list):
            node = _item(node, parts, i)
        elif isinstance(node, dict):
            if part not in node:
                raise KeyError(f"{'.'.join(parts[: i + 1])}: no such field")
            node = node[part]
        else:
            raise KeyError(f"{'.'.join(parts[:i])} is a value, not a section")
    return node


def named_path(loc: tuple[Any, ...], data: Any) -> str:
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


def section_type(annotation: Any) -> type[BaseModel] | None:
    """The section inside an annotation like ``list[Payer]`` or ``Sensitivity | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = section_type(arg)
        if found is not None:
            return found
    return None


def schema_field(model: type[BaseModel], path: str | tuple[Any, ...]) -> FieldInfo | None:
    """The schema field a dotted path (or a pydantic location) names, or None.

    List items (names, indices or the ``[]`` of `schema_fields`) are skipped, so
    ``payers.medicaid.initial_trust``, ``payers[].initial_trust`` and
    ``("payers", 0, "initial_trust")`` all name ``Payer.initial_trust``.
    """
    parts = path.replace("[]", "").split(".") if isinstance(path, str) else list(path)
    current: type[BaseModel] | None = model
    found: FieldInfo | None = None
    for part in parts:
        if current is None:
            found = None
            continue  # inside a list item or a mapping: the item's key or name
        info = current.model_fields.get(part) if isinstance(part, str) else None
        if info is None:
            if found is not None and holds_items(found.annotation):
                continue  # a list item's name or a mapping's key
            return None
        found = info
        current = section_type(info.annotation)
    return found


def section_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the section that holds the last element of ``loc`` (for 'did you mean')."""
    parent = loc[:-1]
    if not any(isinstance(part, str) for part in parent):
        return list(model.model_fields)
    info = schema_field(model, parent)
    section = section_type(info.annotation) if info is not None else None
    return list(section.model_fields) if section is not None else []


def holds_items(annotation: Any) -> bool:
    """Whether a field holds items (a list or a mapping) rather than one value or section."""
    text = str(annotation)
    return "list[" in text or "dict[" in text


def schema_fields(
    model: type[BaseModel], prefix: str = ""
) -> Iterator[tuple[str, FieldInfo, type[BaseModel] | None]]:
    """Every field of the schema, depth first: (dotted path, field, its section or None).

    Named lists appear once, with ``[]`` for the item (``payers[].initial_trust``).
    """
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        inner = section_type(info.annotation)
        yield path, info, inner
        if inner is not None:
            item = item_path(path, info)
            yield from schema_fields(inner, item)


def item_path(path: str, info: FieldInfo) -> str:
    """Where a field's contents sit: ``payers[]`` for the items of a list, else the field."""
    return f"{path}[]" if holds_items(info.annotation) else path


def sections(model: type[BaseModel]) -> list[tuple[str, type[BaseModel]]]:
    """Every section of the schema at its path (``""`` is the top), in declaration order."""
    out: list[tuple[str, type[BaseModel]]] = [("", model)]
    for path, info, inner in schema_fields(model):
        if inner is not None:
            out.append((item_path(path, info), inner))
    return out


def matches(schema_path: str, pattern: str) -> bool:
    """Whether a schema path (``budget.corridor.enabled``) falls under a pattern.

    A pattern is a schema path, or a section followed by ``.*`` for everything inside it.
    """
    if pattern.endswith(".*"):
        return schema_path.startswith(pattern[:-1])
    return schema_path == pattern


def instances(data: dict[str, Any], schema_path: str) -> list[str]:
    """The data paths a schema path names in ``data``: one per item of every list on the way.

    ``providers[].demand_bias`` gives ``providers.bh_clinic.demand_bias``, ...; a field absent
    from ``data`` gives nothing.
    """
    head, marker, rest = schema_path.partition("[]")
    if not marker:
        try:
            get_field(data, schema_path)
        except KeyError:
            return []
        return [schema_path]
    try:
        items = get_field(data, head)
    except KeyError:
        return []
    if not isinstance(items, list):
        return []
    id_key = NAMED_LISTS.get(head.rsplit(".", 1)[-1])
    out: list[str] = []
    for i, item in enumerate(items):
        name = item.get(id_key) if id_key and isinstance(item, dict) else None
        label = f"{head}.{name if name is not None else i}"
        if not rest:
            out.append(label)
        elif isinstance(item, dict):
            out += [f"{label}.{sub}" for sub in instances(item, rest.lstrip("."))]
    return out


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Scenario data as dotted path -> leaf value, named list items by their name."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        id_key = NAMED_LISTS.get(prefix.rsplit(".", 1)[-1]) or "name"
        for i, item in enumerate(data):
            label = item.get(id_key, i)
            out.update(flatten(item, f"{prefix}.{label}"))
    else:
        out[prefix] = data
    return out
