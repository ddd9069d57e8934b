"""Check that a speed-up changed no number: every metric, account and audit event, bit for bit.

Runs every preset (and the no-pool and idealised baselines of the reference) at a few seeds,
and the reference at varied points of its sensitivity parameters, through the same entry points
the studies use (``simulate_metrics`` and ``simulate``); ``--save`` stores what they give,
``--check`` compares with exact equality (no tolerance: the same inputs and seed must give the
same floats to the last bit).

    python benchmarks/check_identical.py --save /tmp/golden.pkl    # before the change
    python benchmarks/check_identical.py --check /tmp/golden.pkl   # after it
"""

from __future__ import annotations

import argparse
import math
import pickle
from pathlib import Path
from typing import Any

from poolpilot.runs.study import plan, points, simulate, simulate_metrics
from poolpilot.scenario import baselines_for, list_presets, load_scenario

REFERENCE = "hospital_led_post_acute"
RANGES = {
    "holder.self_interest": (0.0, 0.6),
    "holder.data_accuracy": (0.7, 1.0),
    "governance.transparency": (0.3, 1.0),
    "governance.max_shift_per_cycle": (0.1, 0.5),
    "trust.gain_rate": (0.02, 0.1),
    "trust.loss_asymmetry": (1.0, 5.0),
    "payers.medicaid.initial_trust": (0.5, 0.9),
    "trust.tolerance_spread": (0.0, 0.3),
}
LEVELS = {"governance.challenges.rights": ["none", "informal", "formal"]}


def specs(seeds: int) -> list:
    """The runs compared: presets, baselines, and varied points of the reference."""
    designs = [load_scenario(name) for name, _ in list_presets()]
    reference = load_scenario(REFERENCE)
    designs += baselines_for([reference], ideal=True)
    out = plan(designs, seeds, seed=7)
    varied = points(vary=LEVELS, lhs=12, ranges=RANGES, seed=3)
    out += plan([reference], 2, seed=11, vary=varied)
    # mechanisms the presets rarely reach: gain sharing, a stinting hospital under its floor
    rare = [
        {"governance.savings_sharing.enabled": True},
        {
            "budget.basis": "prospective",
            "holder.stint_propensity": 0.8,
            "governance.under_service_floor": 0.9,
        },
        {"budget.basis": "prospective", "trust.tolerance_spread": 0.3},
    ]
    out += plan([reference], 6, seed=5, vary=rare)
    return out


def record(spec: Any) -> dict[str, Any]:
    """What one run gives, metrics-only and in full (row, events, timeseries values)."""
    quick = simulate_metrics(spec)
    full = simulate(spec)
    return {
        "row": quick.row,
        "full_row": full.row,
        "events": full.events.to_dict("list"),
        "timeseries": full.timeseries.to_dict("list"),
    }


def same(a: Any, b: Any) -> bool:
    """Exact equality, where NaN equals NaN (bit patterns of floats compared through repr)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a.hex() == b.hex()
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--save", type=Path)
    p.add_argument("--check", type=Path)
    p.add_argument("--seeds", type=int, default=4)
    args = p.parse_args()
    runs = {spec.key + spec.design: record(spec) for spec in specs(args.seeds)}
    if args.save:
        args.save.write_bytes(pickle.dumps(runs))
        print(f"saved {len(runs)} runs to {args.save}")
    if args.check:
        stored = pickle.loads(args.check.read_bytes())
        assert stored.keys() == runs.keys(), "different runs"
        bad = [key for key in runs if not same(runs[key], stored[key])]
        for key in bad[:5]:
            for part in runs[key]:
                if not same(runs[key][part], stored[key][part]):
                    print(f"DIFFERS {key} {part}")
                    if part in ("row", "full_row"):
                        for name, value in runs[key][part].items():
                            if not same(value, stored[key][part].get(name)):
                                print(f"    {name}: {stored[key][part].get(name)!r} -> {value!r}")
        print(f"{len(runs) - len(bad)} of {len(runs)} runs identical")
        raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
