"""The layout: one subpackage per stage, each importing only the stages below it, no cycles.

Read from each module's syntax tree (every ``import`` and ``from ... import``, including the
ones inside functions and under ``TYPE_CHECKING``), so a lazy import cannot hide an upward
dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "poolpilot"

#: The stages, lowest first; a module may import its own stage and the ones before it.
STAGES = ["_version", "scenario", "model", "runs", "analysis", "report", "cli"]
#: Modules outside the stage folders, with the stage they belong to: ``python -m poolpilot``
#: is the command line; ``poolpilot.discovery`` is the public name of an analysis.
STAGE_OF = {"__main__": "cli", "discovery": "analysis"}
#: Most lines a source file may have (a newcomer reads a module top to bottom).
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, name: str) -> set[str]:
    """The poolpilot modules a module imports (resolved to the module, not the name)."""
    known = modules()
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                ).strip(".")
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        found |= {t for t in targets if t.split(".")[0] == "poolpilot"}
    return found - {name}


def stage(module: str) -> int | None:
    """The stage index of a module; None for the package's top (which may import anything)."""
    parts = module.split(".")
    if len(parts) == 1:
        return None
    return STAGES.index(STAGE_OF.get(parts[1], parts[1]))


def graph() -> dict[str, set[str]]:
    return {name: imports(path, name) for name, path in modules().items()}


def test_every_module_belongs_to_a_stage() -> None:
    unknown = [
        m
        for m in modules()
        if m != "poolpilot" and STAGE_OF.get(m.split(".")[1], m.split(".")[1]) not in STAGES
    ]
    assert not unknown, f"modules outside the stages {STAGES}: {unknown}"


@pytest.mark.parametrize("module", sorted(modules()))
def test_no_upward_import(module: str) -> None:
    own = stage(module)
    if own is None:
        return
    upward = [target for target in graph()[module] if (s := stage(target)) is None or s > own]
    assert not upward, f"{module} (stage {STAGES[own]}) imports a later stage: {upward}"


def test_no_import_cycle() -> None:
    edges = graph()
    # the package's top re-exports; importing it from inside is an upward import (tested above)
    edges.pop("poolpilot", None)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in edges:
                continue
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            pytest.fail("import cycle: " + " -> ".join(cycle))


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The test above can fail: a model module importing the report is caught."""
    path = PACKAGE / "model" / "pilot.py"
    tree = ast.parse("from poolpilot.report import write_report\n")
    fake = tmp_path / "pilot.py"
    fake.write_text(ast.unparse(tree))
    found = imports(fake, "poolpilot.model.pilot")
    assert found == {"poolpilot.report"} and stage("poolpilot.report") > stage(module_name(path))


@pytest.mark.parametrize("module", sorted(modules()))
def test_source_files_are_short(module: str) -> None:
    lines = len(modules()[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines (at most {MAX_LINES})"
