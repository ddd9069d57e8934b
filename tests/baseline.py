"""Fixed-seed baseline: the metrics of the presets at one seed, stored, compared on every run.

An unintended change in the model's behaviour shows as a failing test; when a change is
intended, refresh the stored figures (and say why in the commit):

    make baseline        # or: python tests/baseline.py --refresh
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from poolpilot.model import PilotModel, metrics
from poolpilot.scenario import list_presets, load_scenario

STORED = Path(__file__).with_name("baseline.json")
SEED = 20261124


def current() -> dict[str, dict[str, float]]:
    """Every preset's metrics at the baseline seed."""
    return {
        name: metrics.compute(PilotModel(load_scenario(name), rng=SEED).run())
        for name, _ in list_presets()
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--refresh", action="store_true", help="store the current figures")
    args = p.parse_args()
    if args.refresh:
        STORED.write_text(json.dumps(current(), indent=1, sort_keys=True) + "\n")
        print(f"wrote {STORED}")


if __name__ == "__main__":
    main()
