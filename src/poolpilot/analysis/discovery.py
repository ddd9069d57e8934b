"""Scenario discovery: the boxes of inputs where an outcome of interest is likely (PRIM).

A study varies a scenario's inputs; scenario discovery asks *where* in that input space an
outcome of interest (say, a pool running out of money) happens, as a few readable rules:
``pool_share >= 0.6 and trust_start < 0.4 and lead in {hospital, council}``. PRIM (Friedman
and Fisher 1999; Bryant and Lempert 2010) finds such a box by peeling thin slices off its
sides, keeping a trajectory from the whole input space (high coverage, low density) to a
small box (low coverage, high density). :func:`find_boxes` is the one fixed entry point for
notebooks, the command line and outside data.

Why the EMA Workbench's PRIM (``ema_workbench.analysis.prim``) and not our own or ``PRIM``:

- it is maintained (3.0.0, by the authors of the scenario discovery literature), BSD-3 like
  our MIT licence, and runs with our numpy 2 / pandas 3 / SALib;
- it peels and pastes, handles categorical inputs (a peel drops one level), and reports Bryant and Lempert's quasi-p-values;
- Project-Platypus' ``PRIM`` 1.0.0 is an old fork of the same code, GPL-3 (not for an MIT
  package), and fails on a categorical column under pandas 3 (``TypeError`` setting a level
  set into a float frame).

Its cost is weight: scikit-learn, statsmodels, seaborn and Platypus (160 MB) come with it and
the import takes seconds, so it is imported inside :func:`find_boxes`, not at module import.

What we add on top: the box is *chosen* (PRIM peels past the useful box if left to run): the
entry on the trajectory with the largest coverage among those whose density reaches
``threshold``; the covering loop stops when no box reaches the threshold; the inputs are checked
and normalised, with errors naming the argument.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

#: A box's limit on one input: ``(low, high)`` inclusive for a number (an unrestricted side is
#: infinite), the levels kept for a categorical input.
Limit = tuple[float, float] | frozenset[Any]


@dataclass(frozen=True)
class Box:
    """One box of inputs, its scores, and the peeling trajectory it was chosen from.

    ``coverage`` is the share of all cases of interest inside the box, ``density`` the share of
    the points inside that are cases of interest, ``mass`` the share of all points inside: with
    covering, later boxes' shares are of the whole data too, so coverages add up.
    ``limits`` holds only the restricted inputs; ``quasi_p`` holds, per restricted input, the
    one-sided binomial test that the restriction raises density (the least significant side of
    a number restricted on both sides). ``trajectory`` has one row per peel or paste (columns
    ``coverage``, ``density``, ``mass``, ``restricted``: how many inputs are restricted), and
    ``step`` is the row the box is.
    """

    limits: Mapping[str, Limit]
    coverage: float
    density: float
    mass: float
    quasi_p: Mapping[str, float]
    step: int
    trajectory: pd.DataFrame = field(compare=False, repr=False)

    def contains(self, x: pd.DataFrame) -> np.ndarray:
        """Which rows of ``x`` lie in the box (to count, colour or remove them)."""
        inside = np.ones(len(x), dtype=bool)
        for column, limit in self.limits.items():
            values = x[column]
            if isinstance(limit, frozenset):
                inside &= values.isin(limit).to_numpy()
            else:
                low, high = limit
                inside &= ((values >= low) & (values <= high)).to_numpy()
        return inside

    def describe(self) -> str:
        """The box as one rule a reader can check, e.g. ``x0 >= 0.6 and cat in {a, b}``."""
        rules = []
        for column, limit in self.limits.items():
            if isinstance(limit, frozenset):
                levels = ", ".join(sorted(map(str, limit)))
                rules.append(f"{column} in {{{levels}}}")
                continue
            low, high = limit
            if math.isfinite(low) and math.isfinite(high):
                rules.append(f"{low:.3g} <= {column} <= {high:.3g}")
            elif math.isfinite(low):
                rules.append(f"{column} >= {low:.3g}")
            else:
                rules.append(f"{column} <= {high:.3g}")
        return " and ".join(rules) or "everywhere"


def find_boxes(
    x: pd.DataFrame,
    y: ArrayLike,
    threshold: float = 0.8,
    peel_alpha: float = 0.05,
    min_mass: float = 0.05,
) -> list[Box]:
    """The boxes where ``y`` is likely, best first (PRIM with covering).

    Each box is the entry on its peeling trajectory with the largest coverage among those whose
    density reaches ``threshold`` (ties: the denser, then the earlier). The points inside it
    are then set aside and PRIM runs again on the rest, until no box reaches the threshold or
    the rest is lighter than ``min_mass``. ``y`` all false gives no box; ``y`` all true gives
    one box with no limits (everything, coverage, density and mass 1). The same input gives the
    same boxes (PRIM has no randomness).
    """
    frame, flags = _checked(x, y, threshold, peel_alpha, min_mass)
    if not flags.any():
        return []
    names = {f"c{j}": column for j, column in enumerate(frame.columns)}
    # EMA drops a column named "scenario" and assumes string names: ours are renamed
    data = frame.set_axis(list(names), axis=1)
    prim = _prim(data, flags, peel_alpha, min_mass)
    boxes: list[Box] = []
    while True:
        found = prim.find_box()
        if found is None:
            break
        trajectory = _trajectory(found.peeling_trajectory)
        step = _best_step(trajectory, threshold)
        if step is None or trajectory.loc[step, "mass"] < min_mass:
            break
        found.select(step)
        boxes.append(_box(found, step, trajectory, prim.box_init, names))
        # what is left has no case of interest: no further box can reach the threshold
        left = np.setdiff1d(prim.yi_remaining, found.yi)
        if len(left) < min_mass * len(flags) or not flags[left].any():
            break
    return boxes


def _checked(
    x: pd.DataFrame, y: ArrayLike, threshold: float, peel_alpha: float, min_mass: float
) -> tuple[pd.DataFrame, np.ndarray]:
    """The inputs as PRIM handles them, or a one-line ValueError naming the argument."""
    if not isinstance(x, pd.DataFrame):
        raise ValueError(f"x: must be a pandas DataFrame, got {type(x).__name__}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"x: needs at least one row and one column, got shape {x.shape}")
    if not x.columns.is_unique:
        raise ValueError(
            f"x: column names repeat: {sorted(map(str, x.columns[x.columns.duplicated()]))}"
        )
    missing = [str(c) for c in x.columns if x[c].isna().any()]
    if missing:
        raise ValueError(f"x: missing values (NaN) in columns {missing}")
    flags = np.asarray(y)
    if flags.ndim != 1:
        raise ValueError(f"y: must be one-dimensional, got shape {flags.shape}")
    if len(flags) != len(x):
        raise ValueError(f"y: has {len(flags)} values but x has {len(x)} rows")
    if flags.dtype != np.bool_:
        raise ValueError(f"y: must be boolean (True for a case of interest), got {flags.dtype}")
    for name, value, high in [
        ("threshold", threshold, 1.0),
        ("peel_alpha", peel_alpha, 0.5),
        ("min_mass", min_mass, 1.0),
    ]:
        number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not (number and 0.0 < value <= high):
            raise ValueError(f"{name}: must be in (0, {high:g}], got {value!r}")
    return pd.DataFrame({c: _column(x[c]) for c in x.columns}).reset_index(drop=True), flags


def _column(values: pd.Series) -> pd.Series:
    """A column as EMA peels it: float64 or categorical (levels kept as given).

    Integers are peeled as reals: EMA's integer peel writes a half-way limit (4.5) into an
    int64 frame, which pandas 3 refuses.
    """
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return values.astype("category").reset_index(drop=True)
    return pd.Series(values.to_numpy(dtype="float64"))


def _prim(data: pd.DataFrame, flags: np.ndarray, peel_alpha: float, min_mass: float) -> Any:
    """EMA's PRIM on the data (imported here: the workbench takes seconds to import)."""
    with warnings.catch_warnings():
        # the workbench warns at import about optional parts we do not use (ipyparallel, altair)
        warnings.simplefilter("ignore")
        from ema_workbench.analysis.prim import Prim

        # and about its own use of pandas (drop(inplace=True), deprecated in pandas 3.1)
        return Prim(data, flags.copy(), peel_alpha=peel_alpha, mass_min=min_mass)


def _trajectory(peeling: pd.DataFrame) -> pd.DataFrame:
    """EMA's trajectory reduced to the scores a reader compares."""
    table = peeling[["coverage", "density", "mass", "res_dim"]].reset_index(drop=True)
    return table.rename(columns={"res_dim": "restricted"}).astype(
        {"coverage": float, "density": float, "mass": float, "restricted": int}
    )


def _best_step(trajectory: pd.DataFrame, threshold: float) -> int | None:
    """The row with the largest coverage whose density reaches the threshold."""
    dense = trajectory[trajectory["density"] >= threshold]
    if dense.empty:
        return None
    ranked = dense.assign(step=dense.index).sort_values(
        ["coverage", "density", "step"], ascending=[False, False, True], kind="stable"
    )
    return int(ranked["step"].iloc[0])


def _box(
    found: Any, step: int, trajectory: pd.DataFrame, initial: pd.DataFrame, names: dict
) -> Box:
    """Our Box from EMA's chosen entry, under the caller's column names."""
    lims = found.box_lims[step]
    limits: dict[str, Limit] = {}
    for column in lims.columns:
        low, high = lims.loc[0, column], lims.loc[1, column]
        start_low, start_high = initial.loc[0, column], initial.loc[1, column]
        if isinstance(low, set):
            if set(low) != set(start_low):
                limits[names[column]] = frozenset(low)
        elif (low, high) != (start_low, start_high):
            limits[names[column]] = (
                float(low) if low != start_low else -math.inf,
                float(high) if high != start_high else math.inf,
            )
    quasi_p = {}
    for column, sides in found.p_values[step].items():
        tested = [float(p) for p in sides if p >= 0]
        if names[column] in limits and tested:
            quasi_p[names[column]] = max(tested)
    row = trajectory.loc[step]
    return Box(
        limits=limits,
        coverage=float(row["coverage"]),
        density=float(row["density"]),
        mass=float(row["mass"]),
        quasi_p=quasi_p,
        step=step,
        trajectory=trajectory,
    )
