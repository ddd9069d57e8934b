"""The scenario reference (docs/scenario-reference.md), generated from the schema classes.

The schema is three modules: ``schema.py`` (the pilot: population, services, partners, budget,
status quo, fragmentation), ``governance.py`` (its rules) and ``fields.py`` (the base section
and the shared types); ``schema.Scenario`` reaches every section of all three. Written from the
code so that it cannot drift from it: tests/scenario/test_reference.py fails when the committed
file differs from ``render()``. Regenerate with
``python -m poolpilot.scenario.reference docs/scenario-reference.md``.
"""

from __future__ import annotations

import re
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from poolpilot.scenario import schema
from poolpilot.scenario.applicability import NO_OWN_LINES, TABLE, acts_in
from poolpilot.scenario.fields import CAPS, MAX_CAPACITY, MAX_MONEY, MAX_NEED_RATE, MAX_PEOPLE
from poolpilot.scenario.located import WHOLE_VALUES
from poolpilot.scenario.paths import NAMED_LISTS, item_path, section_type, sections

COMMAND = "python -m poolpilot.scenario.reference docs/scenario-reference.md"

#: The schema modules the reference is generated from (named in its header).
SOURCES = ("schema.py", "governance.py", "fields.py")

#: The schema's shared types (``fields.py``), shown by name in the type column and defined once
#: in the intro.
ALIASES: dict[str, Any] = {
    "Money": schema.Money,
    "Fraction": schema.Fraction,
    "Months": schema.Months,
    "People": schema.People,
    "Capacity": schema.Capacity,
    "NeedRate": schema.NeedRate,
    "Name": schema.Name,
}

#: Units read from a field's description when its type does not give one (first match wins).
DESCRIPTION_UNITS: list[tuple[str, str]] = [
    (r"in currency units", "currency units"),
    (r"\bevents per person per month\b", "events/person/month"),
    (r"\bunits\b.*\bper person per month\b", "units/person/month"),
    (r"\bunits\b.*\bper month\b", "units/month"),
    (r"\bacute events per unit of unmet need\b", "events/unit of unmet need"),
    (r"\bbed days per unit needed\b", "bed days/unit needed"),
    (r"^people\b", "people"),
    (r"\bcalendar month\b", "calendar month (1-12)"),
    (r"^first month\b", "month of the pilot"),
    (r"\bCV\b", "coefficient of variation"),
    (r"\bannual growth\b.*\bfraction\b", "fraction/year"),
    (r"\bper unit of harm\b", "per unit of harm"),
    (r"\bper unit of shortfall\b", "per unit of shortfall"),
    (r"\btimes\b", "ratio"),
    (r"\bmultiplied by\b", "multiplier"),
    (r"-0\.1 = 10% low", "fraction"),
]

#: How a money field's description says what it is counted per.
MONEY_RATES: list[tuple[str, str]] = [
    (r"\bper person per month\b", "/person/month"),
    (r"\bper year\b", "/year"),
    (r"^annual\b", "/year"),
    (r"\bone excess hospital bed day\b", "/bed day"),
    (r"\bper month\b", "/month"),
]


@dataclass(frozen=True)
class Row:
    """One field of the reference table."""

    path: str
    type: str
    unit: str
    default: str
    meaning: str


@dataclass(frozen=True)
class Part:
    """One section of the reference: a schema class at a path (``""`` is the top level)."""

    path: str
    model: type[BaseModel]

    @property
    def title(self) -> str:
        return self.path or "Top level"

    @property
    def anchor(self) -> str:
        """GitHub's heading anchor, so the contents and type links resolve."""
        return re.sub(r"[^\w\- ]", "", self.title.lower()).replace(" ", "-")


# --- walking the schema ---------------------------------------------------------------------


def _hints(model: type[BaseModel]) -> dict[str, Any]:
    """Field annotations as written (with ``Annotated``), so Money stays Money."""
    return typing.get_type_hints(model, include_extras=True)


def _alias(hint: Any) -> str | None:
    for name, alias in ALIASES.items():
        if hint == alias:
            return name
    return None


def _is_union(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType)


def parts(model: type[BaseModel] = schema.Scenario) -> list[Part]:
    """Every section, depth first in declaration order (the order a scenario file is written)."""
    return [Part(path, section) for path, section in sections(model)]


# --- one row --------------------------------------------------------------------------------


def _number(value: Any) -> str:
    if value in CAPS:
        return CAPS[value][0]
    return f"{value:g}" if isinstance(value, float) else str(value)


def _range(metadata: list[Any]) -> str:
    """``≥ 0``, ``> 0``, ``in [1, 600]`` from pydantic's constraint objects."""
    lo = hi = None
    lo_open = hi_open = False
    for item in metadata:
        if getattr(item, "ge", None) is not None:
            lo = item.ge
        if getattr(item, "gt", None) is not None:
            lo, lo_open = item.gt, True
        if getattr(item, "le", None) is not None:
            hi = item.le
        if getattr(item, "lt", None) is not None:
            hi, hi_open = item.lt, True
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{_number(lo)}, {_number(hi)}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '≥'} {_number(lo)}"
    if hi is not None:
        return f"{'<' if hi_open else '≤'} {_number(hi)}"
    return ""


def _with_range(text: str, metadata: list[Any]) -> str:
    bounds = _range(metadata)
    return f"{text} {bounds}" if bounds else text


def type_text(hint: Any, link: str | None = None) -> str:
    """A readable type: ``Money``, ``int in [1, 600]``, ``list of [Payer](#payers)``."""
    alias = _alias(hint)
    if alias:
        return alias
    if hint is type(None):
        return "null"
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        return f"[{hint.__name__}](#{link})" if link else hint.__name__
    if isinstance(hint, type):
        return hint.__name__
    origin, args = get_origin(hint), get_args(hint)
    if origin is Annotated:
        info = next((a for a in args[1:] if isinstance(a, FieldInfo)), None)
        return _with_range(type_text(args[0], link), info.metadata if info else [])
    if origin is Literal:
        names = [f"`{a}`" for a in args]
        return names[0] if len(names) == 1 else "one of " + ", ".join(names)
    if origin is list:
        inner = type_text(args[0], link)
        return f"list of ({inner})" if _is_union(args[0]) else f"list of {inner}"
    if origin is dict:
        return f"map of {type_text(args[0])} to {type_text(args[1])}"
    if _is_union(hint):
        return " or ".join(type_text(a, link) for a in args)
    return str(hint)


def _contains(hint: Any, alias: Any) -> bool:
    return hint == alias or (_is_union(hint) and any(_contains(a, alias) for a in get_args(hint)))


def unit_text(name: str, hint: Any, description: str) -> str:
    """The unit: from the type (Money, Fraction), the name (``_months``), else the description."""
    if _contains(hint, schema.Money):
        rate = next((r for pat, r in MONEY_RATES if re.search(pat, description)), "")
        return f"currency units{rate}"
    if _contains(hint, schema.Fraction):
        return "fraction 0-1"
    if name.endswith("_months"):
        return "months"
    return next((u for pat, u in DESCRIPTION_UNITS if re.search(pat, description)), "-")


def _value(value: Any) -> str:
    """A default written as it would be in a scenario file (YAML flow style)."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


def default_text(field: FieldInfo, link: str | None) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return f"[see section](#{link})" if link else "see section"
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    return f"`{_value(value)}`"


def _doc(model: type[BaseModel] | None) -> str:
    """A class docstring as one paragraph, with reST literals as Markdown code."""
    text = " ".join((model.__doc__ or "").split()) if model else ""
    return text.replace("``", "`")


def _first_sentence(text: str) -> str:
    """A class docstring's first sentence, in the style of a field description."""
    first = text.split(". ")[0].rstrip(".")
    return first[:1].lower() + first[1:]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rows(part: Part, anchors: dict[str, str]) -> list[Row]:
    """The rows of one section; a nested section's row links to its heading."""
    hints = _hints(part.model)
    out = []
    prefix = f"{part.path}." if part.path else ""
    for name, field in part.model.model_fields.items():
        hint = hints[name]
        sub = section_type(field.annotation)
        link = anchors.get(item_path(f"{prefix}{name}", field)) if sub is not None else None
        kind = type_text(hint, link)
        if _alias(hint) is None and get_origin(hint) is not Annotated:
            kind = _with_range(kind, field.metadata)
        description = field.description or ""
        meaning = description or _first_sentence(_doc(sub)) or "-"
        where = acts_in(f"{prefix}{name}")
        if where:
            meaning += f" (*{where}*)"
        out.append(
            Row(
                path=f"{prefix}{name}",
                type=kind,
                unit=unit_text(name, hint, description),
                default=default_text(field, link),
                meaning=meaning,
            )
        )
    return out


# --- the document ---------------------------------------------------------------------------


def _alias_line(name: str) -> str:
    alias = ALIASES[name]
    base, info = get_args(alias)[0], get_args(alias)[1]
    meta = {type(m).__name__: m for m in info.metadata}
    if base is str:
        lo, hi = meta["MinLen"].min_length, meta["MaxLen"].max_length
        pattern = next(getattr(m, "pattern", None) for m in info.metadata if hasattr(m, "pattern"))
        return f"- **{name}**: text of {lo} to {hi} characters matching `{pattern}`."
    bound = next((getattr(m, "le", None) for m in info.metadata if hasattr(m, "le")), None)
    why = f" ({CAPS[bound][1]})" if bound in CAPS else ""
    return f"- **{name}**: {_with_range(base.__name__, info.metadata)}{why}."


def _intro(items: str) -> str:
    """Why a row's path looks as it does and what the shared types mean."""
    aliases = "\n".join(_alias_line(n) for n in ALIASES)
    sources = ", ".join(SOURCES[:-1]) + f" and {SOURCES[-1]}"
    whole = ", ".join(f"`{key}`" for key in WHOLE_VALUES)
    money, people, capacity, need = (
        CAPS[cap][0] for cap in (MAX_MONEY, MAX_PEOPLE, MAX_CAPACITY, MAX_NEED_RATE)
    )
    return f"""# Scenario reference

<!-- Generated from the schema modules src/poolpilot/scenario/{sources};
     do not edit by hand. Regenerate with:
     {COMMAND} -->

Every field of a scenario file: its dotted path, type, unit, default and meaning. A scenario
is YAML data, read strictly. Unknown keys are errors, so a misspelt rule is reported instead
of silently falling back to its default, and so is a key given twice in one mapping (YAML
would keep the second and silently drop the first).

- A file may start with `extends: <preset name or path>`: it is merged onto that scenario.
  Lists of named items merge item by item, matched by {items}; other
  lists are replaced whole, and so are the mappings that are one value ({whole}).
- `[]` marks an item of a list. Problems and `--set` overrides address an item by its name,
  e.g. `payers.medicaid.annual_contribution`; items without a name by position
  (`[0]`).
- Money is in the scenario's `currency`; rates and shares are fractions in [0, 1]; time is
  in months. Every number must be finite, and sizes are bounded: money at most {money},
  people in a segment {people}, capacity {capacity} units a month, need {need} units per
  person a month (a larger value is a slip, and would make the arithmetic inexact or
  overflow).
- Values are taken as written (YAML 1.2): only `true` and `false` are booleans (`yes`, `no`,
  `on` and `off` are text), a number field refuses text and booleans, a flag refuses numbers
  and text, and a whole number refuses a fraction (`2.5`; `36.0` is 36). `1e6` is a number.
  Integers are decimal: `036` is 36 (YAML 1.1 read it as octal 30), `0o44` is octal and
  `0x24` hexadecimal, and `1:20` is text (YAML 1.1 read it as base-60 80).
- Each problem names the file, line and column of the field, in the file that set it (a base
  named by `extends`, or the file itself): `FILE:LINE:COL: field.path: what is wrong (given
  ...)`; a value given by `--set PATH=VALUE` is named `FILE: --set PATH: ...`.
- A valid scenario with no money (every contribution 0), no people (every segment of size 0)
  or a provider or own line of capacity 0 is accepted with a warning saying what the model
  will do.

Shared types:

{aliases}
"""


def _where_fields_act() -> str:
    """The applicability table: fields that act only in some designs, and why."""
    lines = [
        "## Where fields act\n",
        "These fields act only in some designs. Validation refuses one set away from its",
        "default where it has no effect, saying why and what to do.\n",
        "| Fields | Where it acts | Why |",
        "|---|---|---|",
    ]
    for rule in TABLE:
        fields = ", ".join(f"`{f}`" for f in rule.fields)
        lines.append(f"| {fields} | {_cell(rule.where())} | {_cell(rule.why)} |")
    kinds = ", ".join(f"`{k}`" for k in NO_OWN_LINES)
    lines += [
        "",
        "A change of design by `--set`, `--vary` or `--lever` (of `budget.basis` or",
        "`holder.kind`) puts what it makes inert back at its default. A change of",
        f"`holder.kind` to a holder that runs no lines of its own ({kinds}) hands the old",
        "holder's `own_lines` to a partner provider each, named `<holder name>_<service>`, with",
        "the same capacity and effort: a convener holding a hospital's pool contracts with the",
        "hospital. A file that gives such a holder own lines is refused.",
    ]
    return "\n".join(lines) + "\n"


def render() -> str:
    """The whole reference as Markdown."""
    all_parts = parts()
    anchors = {p.path: p.anchor for p in all_parts}
    by_key: dict[str, list[str]] = {}
    for lst, key in NAMED_LISTS.items():
        if key is not None:
            by_key.setdefault(key, []).append(f"`{lst}`")
    matched = [f"`{key}` ({', '.join(lists)})" for key, lists in by_key.items()]
    items = ", ".join(matched[:-1]) + f" or {matched[-1]}" if len(matched) > 1 else matched[0]
    out = [_intro(items), _where_fields_act(), "## Contents\n"]
    for part in all_parts:
        depth = part.path.count(".") if part.path else 0
        out.append(f"{'  ' * depth}- [{part.title}](#{part.anchor})")
    out.append("")
    for part in all_parts:
        level = 2 + (part.path.count(".") if part.path else 0)
        out.append(f"{'#' * level} {part.title}\n")
        about = _doc(part.model)
        out.append(f"*{part.model.__name__}*" + (f": {about}" if about else ""))
        if part.path.endswith("[]"):
            key = NAMED_LISTS.get(part.path[:-2].rsplit(".", 1)[-1])
            by = f"by its `{key}`" if key else "by position (`[0]`, `[1]`, ...)"
            out[-1] += f" Each item is addressed {by}."
        out.append("")
        out.append("| Field | Type | Unit | Default | Meaning |")
        out.append("|---|---|---|---|---|")
        for row in rows(part, anchors):
            cells = [f"`{row.path}`", row.type, row.unit, row.default, row.meaning]
            out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Write the reference to the given path (default docs/scenario-reference.md)."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0] if args else "docs/scenario-reference.md")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render())
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
