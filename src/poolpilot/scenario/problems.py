"""What is wrong with a scenario, and where: the one printed form of every problem.

A designer acts on each printed line, so each says where to look, in the form editors and
terminals jump to: ``FILE:LINE:COL: field.path: what is wrong (given ...)`` when the field's
place in the file is known, ``FILE: --set field.path: ...`` when a ``--set`` override gave the
value, and ``FILE: field.path: ...`` otherwise (data that came from no file). FILE is the path
as the user gave it, or as the file that set the field was found (the base of an ``extends``).
Problems and cautions (``cautions.py``) share this form.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario, located by file (line and column when known) and path.

    ``override`` marks a value given by ``--set PATH=VALUE`` rather than by the file.
    """

    file: str
    path: str
    message: str
    line: int | None = None
    column: int | None = None
    override: bool = False

    @property
    def where(self) -> str:
        """``FILE:LINE:COL`` (or ``FILE`` when the place in the file is not known)."""
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}" + (f":{self.column}" if self.column is not None else "")

    def __str__(self) -> str:
        field = f"--set {self.path}" if self.override else self.path
        return ": ".join(part for part in (self.where, field, self.message) if part)


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
