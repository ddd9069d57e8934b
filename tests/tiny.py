"""A scenario small enough to follow by hand (shared by the tests)."""

from __future__ import annotations

import copy

TINY = {
    "name": "tiny",
    "horizon_months": 3,
    "population": {
        "segments": [{"name": "adults", "size": 100, "need": {"nursing": 1.0}, "noise": 0.0}]
    },
    "services": [
        {
            "name": "nursing",
            "unit_cost": 100,
            "averts": "readmission",
            "elasticity": 0.05,
            "lag_months": 1,
        }
    ],
    "acute_events": [{"name": "readmission", "unit_cost": 1000, "baseline_rate": 0.01}],
    "payers": [{"name": "medicaid", "annual_contribution": 96000}],
    "holder": {"kind": "convener", "data_accuracy": 1.0},
    "providers": [{"name": "nurses", "service": "nursing", "capacity": 200}],
    "governance": {"reconciliation": {"external_audit_probability": 0.0}},
    "trust": {"effort_sensitivity": 0.0},
}


def tiny_data(**changes) -> dict:
    """The tiny scenario's data with top-level sections replaced or merged."""
    data = copy.deepcopy(TINY)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data
