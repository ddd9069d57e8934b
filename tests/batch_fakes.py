"""Fake studies for the batch and store tests: deterministic from the seed, no model needed.

Module-level so process pools and Dask workers can import them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from poolpilot.model.records import EVENT_COLUMNS, TIMESERIES_COLUMNS, RunResult, RunSpec

DESIGNS = ("pooled", "aligned")
PARTNERS = ("nhs", "council")

#: Keys of the runs counting_run was called for (serial executor only: same process).
CALLS: list[str] = []


def make_specs(n: int, months: int = 6) -> list[RunSpec]:
    """A study of n runs over two designs, with two varied parameters."""
    specs = []
    for i in range(n):
        design = DESIGNS[i % len(DESIGNS)]
        replicate = i // len(DESIGNS)
        seed = 1000 + 7 * i
        varied = {"pool.share": round(0.1 * (i % 5), 2), "staff.teams": 2 + i % 3}
        specs.append(
            RunSpec(
                key=f"{design}-r{replicate:04d}-s{seed}",
                design=design,
                scenario={"months": months},
                seed=seed,
                replicate=replicate,
                varied=varied,
            )
        )
    return specs


def fake_run(spec: RunSpec) -> RunResult:
    """A run whose row, timeseries and events follow from its seed alone."""
    rng = np.random.default_rng(spec.seed)
    months = spec.scenario["months"]
    spend = rng.gamma(2.0, 50.0, size=(months, len(PARTNERS)))
    exhausted = bool(rng.random() < 0.3)
    row = {
        "key": spec.key,
        "design": spec.design,
        "replicate": spec.replicate,
        "seed": spec.seed,
        **spec.varied,
        "total_cost": float(spend.sum()),
        "admissions": int(rng.integers(0, 40)),  # an int metric: stored as float64
        "pool_exhausted": exhausted,
        # None in most runs: all-null in many chunks
        "months_to_exhaustion": float(rng.integers(1, months + 1)) if exhausted else None,
        "status": "ok",
        "error": "",
    }
    timeseries = pd.DataFrame(
        [
            (spec.key, month, "spend", partner, float(spend[month, j]))
            for month in range(months)
            for j, partner in enumerate(PARTNERS)
        ],
        columns=TIMESERIES_COLUMNS,
    )
    n_events = int(rng.integers(0, 4))  # some runs have no events
    events = pd.DataFrame(
        [
            (
                spec.key,
                int(rng.integers(0, months)),
                "board",
                "top_up",
                PARTNERS[int(rng.integers(0, 2))],
                float(rng.gamma(2.0, 10.0)),
                "overspend>10%",
                f"spend={spend.sum():.1f}",
                "approved",
            )
            for _ in range(n_events)
        ],
        columns=EVENT_COLUMNS,
    )
    return RunResult(row=row, timeseries=timeseries, events=events)


def flaky_run(spec: RunSpec) -> RunResult:
    """Raises for every fourth seed, returns junk for some others, else like fake_run."""
    if spec.seed % 4 == 0:
        raise ValueError(f"pool balance went negative in {spec.key}")
    if spec.seed % 5 == 0:
        return None  # type: ignore[return-value]  # a model bug the batch must survive
    return fake_run(spec)


def counting_run(spec: RunSpec) -> RunResult:
    CALLS.append(spec.key)
    return fake_run(spec)
