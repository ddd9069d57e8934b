"""Smaller SVG that draws the same, so a report of twenty designs stays one mailable file.

Matplotlib's SVG is written for reading: every element wrapped in a named group, every style
spelt out inline, coordinates to a millionth of a point, paths in absolute coordinates. The
report embeds dozens of figures, so `minify` rewrites each one: groups that only carry a name
are unwrapped, unreferenced ids dropped, repeated inline styles become classes of one style
sheet, coordinates are rounded to 0.1 pt (1/720 inch, a thirtieth of a millimetre: below what
paper or a screen shows) and paths are written with relative moves. Nothing that is drawn
changes; `tests/report/test_figures.py` checks the result still parses and keeps every path.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG)
ET.register_namespace("xlink", XLINK)

G = f"{{{SVG}}}g"
STYLE = f"{{{SVG}}}style"
PATH = f"{{{SVG}}}path"
HREF = f"{{{XLINK}}}href"
#: Attributes holding plain coordinates (rounded); ``d`` is rewritten as a whole.
GEOMETRY = ("x", "y", "x1", "x2", "y1", "y2", "points", "width", "height")
#: Tenths of a point: the precision kept.
SCALE = 10

_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TOKEN = re.compile(r"[A-Za-z]|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_NOOP_ROTATE = re.compile(r"^rotate\(-?0(?:\.0+)? [-\d. ]+\)$")
#: Numbers each path command takes.
ARITY = {"M": 2, "L": 2, "C": 6, "Q": 4, "Z": 0}


def _fmt(tenths: int) -> str:
    """A number of tenths as short text: 15 -> 1.5, 20 -> 2, -3 -> -.3."""
    sign = "-" if tenths < 0 else ""
    whole, frac = divmod(abs(tenths), SCALE)
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole or ''}.{frac}"


def _round(text: str) -> str:
    return _NUMBER.sub(lambda m: _fmt(round(float(m.group()) * SCALE)), text)


def _join(parts: list[str]) -> str:
    """Numbers and commands with the fewest separators SVG's path grammar allows."""
    out = ""
    prev = ""
    for part in parts:
        number = prev and not prev.isalpha() and not part[0].isalpha() and part[0] != "-"
        if number and not (part[0] == "." and "." in prev):  # "2.5.5" reads as 2.5 and .5
            out += " "
        out += part
        prev = part
    return out


def _segments(d: str) -> list[tuple[str, list[int]]] | None:
    """(command, absolute coordinates in tenths) per segment; None for a path this module
    does not rewrite (arcs, smooth curves, relative input other than z)."""
    tokens = _TOKEN.findall(d)
    out: list[tuple[str, list[int]]] = []
    i = 0
    while i < len(tokens):
        cmd = tokens[i]
        if not cmd.isalpha() or cmd.upper() not in ARITY or (cmd.islower() and cmd != "z"):
            return None
        n = ARITY[cmd.upper()]
        i += 1
        while True:
            values = tokens[i : i + n]
            if len(values) < n or any(v.isalpha() for v in values):
                return None
            i += n
            out.append((cmd.upper(), [round(float(v) * SCALE) for v in values]))
            if n == 0 or i >= len(tokens) or tokens[i].isalpha():
                break
            cmd = "L" if cmd.upper() == "M" else cmd
    return out


def _simplify(points: list[tuple[int, int]], tolerance: float) -> list[tuple[int, int]]:
    """Ramer-Douglas-Peucker: drop the points of a polyline closer than ``tolerance`` (tenths
    of a point) to the line through their neighbours that are kept."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        lo, hi = stack.pop()
        (x0, y0), (x1, y1) = points[lo], points[hi]
        dx, dy = x1 - x0, y1 - y0
        norm = (dx * dx + dy * dy) ** 0.5
        best, at = -1.0, -1
        for k in range(lo + 1, hi):
            px, py = points[k]
            if norm:
                dist = abs(dy * (px - x0) - dx * (py - y0)) / norm
            else:
                dist = ((px - x0) ** 2 + (py - y0) ** 2) ** 0.5
            if dist > best:
                best, at = dist, k
        if at > 0 and best > tolerance:
            keep[at] = True
            stack += [(lo, at), (at, hi)]
    return [p for p, k in zip(points, keep, strict=True) if k]


#: Points of a line closer than this (tenths of a point: 0.25 pt, 0.09 mm) to the straight
#: line through their kept neighbours are dropped: no reader sees them.
TOLERANCE = 2.5


def _thin(segments: list[tuple[str, list[int]]]) -> list[tuple[str, list[int]]]:
    """Each run of line-tos simplified (`_simplify`), with the point it starts from."""
    out: list[tuple[str, list[int]]] = []
    run: list[tuple[int, int]] = []

    def flush() -> None:
        if run:
            out.extend(("L", list(p)) for p in _simplify(start + run, TOLERANCE)[1:])
            run.clear()

    start: list[tuple[int, int]] = []
    here = begin = (0, 0)  # current point and subpath start
    for cmd, values in segments:
        if cmd == "L":
            if not run:
                start = [here]
            run.append((values[0], values[1]))
            here = run[-1]
            continue
        flush()
        out.append((cmd, values))
        here = begin if cmd == "Z" else (values[-2], values[-1])
        if cmd == "M":
            begin = here
    flush()
    return out


def relative_path(d: str, thin: bool = True) -> str:
    """A path of M, L, C, Q and Z commands with relative moves (shorter numbers), rounded to
    tenths of a point and its lines thinned (``thin``); any other path is only rounded."""
    segments = _segments(d)
    if not segments:
        return _round(d)
    if thin:
        segments = _thin(segments)
    parts: list[str] = []
    x = y = sx = sy = 0  # current point and subpath start, in tenths
    last = ""
    for up, ints in segments:
        if up == "Z":
            parts.append("z")
            x, y, last = sx, sy, "z"
            continue
        first = not parts
        rel = "M" if first else up.lower()
        deltas = ints if first else [v - (y if k % 2 else x) for k, v in enumerate(ints)]
        if rel != last or rel == "M":
            parts.append(rel)
        parts.extend(_fmt(v) for v in deltas)
        last = rel if rel != "m" else "l"  # numbers after an m are line-tos
        x, y = ints[-2], ints[-1]
        if up == "M":
            sx, sy = x, y
    return _join(parts)


def _references(root: ET.Element) -> set[str]:
    refs = set()
    for el in root.iter():
        for key, value in el.attrib.items():
            if key == HREF and value.startswith("#"):
                refs.add(value[1:])
            refs.update(re.findall(r"url\(#([^)]+)\)", value))
    return refs


def _unwrap(parent: ET.Element, refs: set[str]) -> None:
    """Lift the children of groups that carry nothing but a name into their parent."""
    children = []
    for child in list(parent):
        _unwrap(child, refs)
        if child.get("id") not in refs:
            child.attrib.pop("id", None)
        if child.tag == G and not child.attrib and not (child.text or "").strip():
            children.extend(list(child))
        else:
            children.append(child)
    parent[:] = children


def _merge(root: ET.Element, translucent: set[str]) -> None:
    """Join runs of sibling paths that differ only in ``d`` (grid lines, bars of one colour)
    into one path: drawn the same, unless translucent (where overlaps would darken)."""
    for parent in root.iter():
        children: list[ET.Element] = []
        for child in list(parent):
            prev = children[-1] if children else None
            if (
                prev is not None
                and child.tag == prev.tag == PATH
                and "id" not in child.attrib
                and child.get("class") not in translucent
                and len(child) == len(prev) == 0
                and {k: v for k, v in child.attrib.items() if k != "d"}
                == {k: v for k, v in prev.attrib.items() if k != "d"}
            ):
                prev.set("d", prev.get("d", "") + child.get("d", ""))
                continue
            children.append(child)
        parent[:] = children


def _rename(root: ET.Element, refs: set[str]) -> None:
    """Short ids (``i0``, ``i1``...) for the referenced ones (clip paths, markers)."""
    names = {ref: f"i{k}" for k, ref in enumerate(sorted(refs))}
    for el in root.iter():
        if el.get("id") in names:
            el.set("id", names[el.get("id", "")])
        for key, value in el.attrib.items():
            if key == HREF and value[1:] in names:
                el.set(key, "#" + names[value[1:]])
            elif "url(#" in value:
                el.set(
                    key,
                    re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{names.get(m[1], m[1])})", value),
                )


def _drop_invisible(root: ET.Element, invisible: set[str]) -> None:
    """Remove paths that paint nothing (no fill, no stroke: a subfigure's background)."""
    for parent in root.iter():
        for child in list(parent):
            if child.tag == PATH and child.get("class") in invisible and "id" not in child.attrib:
                parent.remove(child)


def _name(i: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    name = ""
    while True:
        name = letters[i % 26] + name
        i = i // 26 - 1
        if i < 0:
            return name


def minify(text: str, fonts: str | None = None) -> str:
    """The SVG text, smaller and drawing the same (see the module's docstring). With
    ``fonts`` (a CSS font-family list), texts lose their own font-family for one rule."""
    root = ET.fromstring(text)
    refs = _references(root)
    _unwrap(root, refs)
    _rename(root, refs)
    classes: dict[str, str] = {}
    sheet = None
    for el in root.iter():
        if el.tail is not None and not el.tail.strip():
            el.tail = None
        if el.tag == STYLE:
            sheet = el
            continue
        if el.text is not None and not el.text.strip():
            el.text = None
        if "d" in el.attrib:
            el.set("d", relative_path(el.get("d", "")))
        for key in GEOMETRY:
            if key in el.attrib:
                el.set(key, _round(el.get(key, "")))
        if _NOOP_ROTATE.match(el.get("transform", "")):
            del el.attrib["transform"]
        style = el.attrib.pop("style", None)
        if style:
            style = re.sub(r"\s*([:;])\s*", r"\1", style.strip().rstrip(";"))
            if fonts:
                style = re.sub(r"font-family:[^;]*;?", "", style).rstrip(";")
            name = classes.setdefault(style, _name(len(classes)))
            el.set("class", name)
    _drop_invisible(root, {n for style, n in classes.items() if style == "fill:none"})
    _merge(root, {n for style, n in classes.items() if "opacity" in style or "dash" in style})
    rules = "".join(f".{name}{{{style}}}" for style, name in classes.items())
    if fonts:
        rules = f"text{{font-family:{fonts}}}" + rules
    if sheet is not None:
        sheet.text = (sheet.text or "") + rules
    else:
        ET.SubElement(root, STYLE).text = rules
    return ET.tostring(root, encoding="unicode")
