"""Run records: what one simulation run hands to the results store.

The model produces these; the batch layer and the results store carry them without knowing
anything about agents. A record is plain data (picklable, no model objects), so it can cross
process and cluster boundaries cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: Column order of the tidy timeseries table.
TIMESERIES_COLUMNS = ["run", "month", "series", "partner", "value"]
#: Column order of the audit events table.
EVENT_COLUMNS = [
    "run",
    "month",
    "actor",
    "action",
    "target",
    "amount",
    "rule",
    "evidence",
    "outcome",
]


@dataclass(frozen=True)
class RunSpec:
    """One run of a study: which design, which resolved scenario, which seed.

    ``key`` identifies the run across resumes: it is derived from the scenario's content hash,
    the varied values and the seed, so the same run always has the same key.
    """

    key: str
    design: str
    scenario: dict[str, Any]
    seed: int
    replicate: int
    varied: dict[str, Any] = field(default_factory=dict)
    #: The model class to run (a ``PilotModel`` subclass), and the holder class to plug in;
    #: None for the defaults. Classes travel to workers by reference (module-level classes).
    model: type | None = None
    holder: type | None = None


@dataclass
class RunResult:
    """The three tables one run contributes to a results folder.

    ``row`` is the run's line in runs.parquet: key, design, replicate, seed, the varied values,
    every metric, ``status`` ("ok" or "failed") and ``error`` (empty when ok).
    """

    row: dict[str, Any]
    timeseries: pd.DataFrame
    events: pd.DataFrame

    @classmethod
    def failed(cls, spec: RunSpec, error: str) -> RunResult:
        """The record of a run that raised: kept, so the study goes on and the failure shows."""
        row = {
            "key": spec.key,
            "design": spec.design,
            "replicate": spec.replicate,
            "seed": spec.seed,
            **spec.varied,
            "status": "failed",
            "error": error,
        }
        return cls(
            row=row,
            timeseries=pd.DataFrame(columns=TIMESERIES_COLUMNS),
            events=pd.DataFrame(columns=EVENT_COLUMNS),
        )
