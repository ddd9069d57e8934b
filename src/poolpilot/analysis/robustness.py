"""Designs that hold up: lever settings judged across the same sampled futures.

Each candidate (one value per lever) runs in every future of an exploration, at the future's
seed, beside the status quo of that future (common random numbers: candidates differ only by
their levers). Its outcome on each objective is summarised over the futures by a robustness
measure:

- ``mean``: the average over the futures;
- ``percentile:Q``: the value the candidate reaches or betters in all but Q% of the futures
  (``percentile:10`` for a maximised objective is the 10th percentile, for a minimised one
  the 90th): a pessimist's average;
- ``regret``: the largest shortfall, over the futures, from the best candidate in that future
  (Savage's maximum regret), lower is better.

The search is NSGA-II from pymoo (maintained, BSD-licensed, handles integer variables and many
objectives; the EMA Workbench's optimiser needs Platypus' own loop and cannot hand a whole
generation to our parallel studies layer). A lever is an integer variable indexing its values.
Regret depends on the candidates it is measured against: during the search, those evaluated so
far; the front returned is recomputed over every candidate evaluated, so its regrets are final.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MAXIMISE, MINIMISE = "max", "min"


@dataclass(frozen=True)
class Objective:
    """A metric of the outcomes table and whether more (``max``) or less (``min``) is better."""

    metric: str
    sense: str

    @classmethod
    def parse(cls, text: str) -> Objective:
        """``return_on_pool:max`` (ValueError naming --objective when malformed)."""
        metric, _, sense = text.rpartition(":")
        if not metric or sense not in (MAXIMISE, MINIMISE):
            raise ValueError(f"--objective {text!r}: expected METRIC:max or METRIC:min")
        return cls(metric, sense)


def parse_measure(text: str) -> tuple[str, float]:
    """``mean``, ``regret`` or ``percentile:Q`` with Q in (0, 50]."""
    if text in ("mean", "regret"):
        return text, 0.0
    kind, _, q = text.partition(":")
    try:
        value = float(q)
    except ValueError:
        value = -1.0
    if kind != "percentile" or not 0 < value <= 50:
        raise ValueError(
            f"--measure {text!r}: expected mean, regret or percentile:Q with Q in (0, 50]"
        )
    return kind, value


def scores(
    table: pd.DataFrame, levers: list[str], objectives: list[Objective], measure: str
) -> pd.DataFrame:
    """Per candidate (one row per lever setting in ``table``), each objective's robustness.

    ``table`` has one row per future and candidate (`exploration.outcomes`). The column of an
    objective keeps its metric's name; with ``regret`` it holds the maximum regret (lower is
    better whatever the objective's sense).
    """
    kind, q = parse_measure(measure)
    missing = [o.metric for o in objectives if o.metric not in table]
    if missing:
        raise ValueError(f"--objective {missing[0]}: no such outcome of the runs")
    keyed = table.assign(candidate=_candidate_keys(table, levers))
    out = keyed.groupby("candidate")[levers].first()
    out["futures"] = keyed.groupby("candidate")["future"].nunique()
    for o in objectives:
        wide = keyed.pivot_table(index="future", columns="candidate", values=o.metric)
        if kind == "mean":
            value = wide.mean()
        elif kind == "percentile":
            value = wide.quantile(q / 100 if o.sense == MAXIMISE else 1 - q / 100)
        else:
            best = wide.max(axis=1) if o.sense == MAXIMISE else wide.min(axis=1)
            value = wide.rsub(best, axis=0) if o.sense == MAXIMISE else wide.sub(best, axis=0)
            value = value.max()
        out[o.metric] = value
    return out.reset_index()


def _candidate_keys(table: pd.DataFrame, levers: list[str]) -> pd.Series:
    keys = pd.Series("", index=table.index, dtype=object)
    for lever in levers:
        keys = keys + "|" + table[lever].map(repr).astype(object)
    return keys


def minimised(frame: pd.DataFrame, objectives: list[Objective], measure: str) -> np.ndarray:
    """The objectives as values to minimise (pymoo's convention)."""
    regret = parse_measure(measure)[0] == "regret"
    columns = [
        frame[o.metric] * (-1.0 if o.sense == MAXIMISE and not regret else 1.0) for o in objectives
    ]
    return np.column_stack(columns).astype(float)


def non_dominated(frame: pd.DataFrame, objectives: list[Objective], measure: str) -> np.ndarray:
    """Which candidates no other candidate beats on every objective (ties kept)."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    f = minimised(frame, objectives, measure)
    keep = np.zeros(len(frame), dtype=bool)
    finite = np.isfinite(f).all(axis=1)
    if finite.any():
        front = NonDominatedSorting().do(f[finite], only_non_dominated_front=True)
        keep[np.flatnonzero(finite)[front]] = True
    return keep
