"""Scenario discovery on an exploration folder: in which futures and lever settings does a
condition hold (``return_on_pool > 0``, ``unmet_need_share_vs_status_quo < -0.05``, ...)?

:func:`discover` reads the folder's outcomes (`exploration.outcomes`), evaluates the condition
on them, finds the boxes (`find_boxes`, PRIM) over the inputs and returns the tables the command
writes: the boxes, each box's limits with their significance, and the peeling trajectories,
with one sentence per box a funder can read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from poolpilot.analysis.discovery import Box, find_boxes
from poolpilot.analysis.exploration import inputs_of, outcomes, read_exploration
from poolpilot.runs.store import ResultsStore

#: A restriction whose quasi-p-value is at or above this is flagged as possibly noise.
SIGNIFICANT = 0.05
#: Outcomes said beside every box, inside it and outside it: a pool that "paid" because it
#: collapsed early, or left more need unmet, shows here (the shares of runs and of need).
ASIDE = {
    "ended_early": ("the pool ended early in", "runs"),
    "unmet_need_share": ("left unmet", "need"),
}


@dataclass
class Discovery:
    """What scenario discovery found in one exploration folder for one condition."""

    where: str
    cases: int
    futures: int
    boxes: list[Box]
    x: pd.DataFrame
    y: np.ndarray
    threshold: float = 0.8
    min_mass: float = 0.05
    #: the runs' outcomes named in ``ASIDE``, row by row with ``x``
    outcomes: pd.DataFrame | None = None

    def box_table(self) -> pd.DataFrame:
        """One row per box: its rule, coverage, density, mass, and the sentence saying it."""
        rows = [
            {
                "box": i + 1,
                "rule": b.describe(),
                "coverage": b.coverage,
                "density": b.density,
                "mass": b.mass,
                "restricted": len(b.limits),
                "sentence": sentence(b, self.where) + self.aside(b),
            }
            for i, b in enumerate(self.boxes)
        ]
        columns = ["box", "rule", "coverage", "density", "mass", "restricted", "sentence"]
        return pd.DataFrame(rows, columns=columns)

    def aside(self, box: Box) -> str:
        """What else held inside the box against outside it: whether the pool ended early, and
        the need it left unmet (empty for a box of every run, or without those outcomes)."""
        inside = box.contains(self.x)
        if self.outcomes is None or inside.all() or not inside.any():
            return ""
        said = []
        for column, (words, of) in ASIDE.items():
            if column in self.outcomes:
                values = self.outcomes[column].to_numpy(dtype=float)
                within, without = np.nanmean(values[inside]), np.nanmean(values[~inside])
                said.append(f"{words} {within:.0%} of {of} ({without:.0%} outside it)")
        return f" Inside the box {' and '.join(said)}." if said else ""

    def limit_table(self) -> pd.DataFrame:
        """One row per box and restricted input: low, high (numbers) or levels, quasi-p."""
        rows = []
        for i, b in enumerate(self.boxes):
            for column, limit in b.limits.items():
                levels = isinstance(limit, frozenset)
                rows.append(
                    {
                        "box": i + 1,
                        "input": column,
                        "low": np.nan if levels else float(limit[0]),
                        "high": np.nan if levels else float(limit[1]),
                        "levels": ", ".join(sorted(map(str, limit))) if levels else "",
                        "quasi_p": float(b.quasi_p.get(column, np.nan)),
                    }
                )
        columns = ["box", "input", "low", "high", "levels", "quasi_p"]
        return pd.DataFrame(rows, columns=columns)

    def trajectory_table(self) -> pd.DataFrame:
        """Each box's peeling trajectory (coverage against density), the chosen step marked."""
        frames = []
        for i, b in enumerate(self.boxes):
            t = b.trajectory.reset_index(drop=True).copy()
            t.insert(0, "step", range(len(t)))
            t.insert(0, "box", i + 1)
            t["chosen"] = t["step"] == b.step
            frames.append(t)
        if not frames:
            return pd.DataFrame(columns=["box", "step", "coverage", "density", "mass", "chosen"])
        return pd.concat(frames, ignore_index=True)


def condition(table: pd.DataFrame, where: str) -> np.ndarray:
    """``where`` evaluated on the outcomes: a boolean per row (ValueError naming --where)."""
    try:
        flags = table.eval(where, engine="python")
    except Exception as exc:
        known = ", ".join(c for c in table.columns if c.endswith("_vs_status_quo"))
        raise ValueError(
            f"--where {where!r}: cannot be evaluated on the outcomes ({exc}); use a metric, "
            f"return_on_pool or {known}, with a comparison"
        ) from None
    values = np.asarray(flags)
    if values.dtype != bool or values.shape != (len(table),):
        raise ValueError(f"--where {where!r}: must give true or false per run (a comparison)")
    return values


def discover(
    folder: str | Path,
    where: str,
    *,
    threshold: float = 0.8,
    peel_alpha: float = 0.05,
    min_mass: float = 0.05,
) -> Discovery:
    """The boxes of the exploration in ``folder`` where ``where`` holds, best first."""
    exploration = read_exploration(folder)
    with ResultsStore(folder, readonly=True) as store:
        runs = store.read("runs")
    table = outcomes(runs, exploration)
    flags = condition(table, where)
    known = ~table[_used(where, table)].isna().any(axis=1).to_numpy()
    table, flags = table[known].reset_index(drop=True), flags[known]
    x = inputs_of(table, exploration)
    boxes = find_boxes(x, flags, threshold=threshold, peel_alpha=peel_alpha, min_mass=min_mass)
    said = table[[c for c in ASIDE if c in table]]
    return Discovery(
        where, int(flags.sum()), len(table), boxes, x, flags, threshold, min_mass, said
    )


def _used(where: str, table: pd.DataFrame) -> list[str]:
    """The outcome columns a condition names (rows missing one are left out)."""
    return [c for c in table.columns if c in where]


def _input_words(column: str, limit: tuple[float, float] | frozenset) -> str:
    if isinstance(limit, frozenset):
        return f"{column} was {' or '.join(sorted(map(str, limit)))}"
    low, high = limit
    if math.isfinite(low) and math.isfinite(high):
        return f"{column} was between {low:.3g} and {high:.3g}"
    if math.isfinite(low):
        return f"{column} was at least {low:.3g}"
    return f"{column} was at most {high:.3g}"


def sentence(box: Box, where: str) -> str:
    """The box in words: how often the condition held inside, and how much of it is inside."""
    parts = [_input_words(c, limit) for c, limit in box.limits.items()]
    if not parts:
        return f"{where} held in {box.density:.0%} of all futures and settings."
    rule = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    weak = [c for c in box.limits if not box.quasi_p.get(c, 0.0) < SIGNIFICANT]
    caveat = (
        f" The limits on {', '.join(weak)} are not significant (quasi-p above {SIGNIFICANT:g}):"
        " they may be noise."
        if weak
        else ""
    )
    return (
        f"{where} held in {box.density:.0%} of the futures where {rule}; these futures hold "
        f"{box.coverage:.0%} of all the cases where it held ({box.mass:.0%} of all futures)."
        + caveat
    )
