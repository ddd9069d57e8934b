"""Time an exploration (issue 19, point 4): planning its runs, and the whole study on N workers.

The exploration is the README's: ``hospital_led_post_acute``, 36 months, four uncertainties
(need trend, the holder's self-interest, the transitional-care unit cost, partners' tolerance
spread) and two levers of two values, so each future runs four lever settings and the status
quo. Two figures:

1. planning: CPU per run of ``plan_exploration`` (building and validating every run's
   scenario in the main process, before any run starts: serial, so at 100,000 runs it alone
   takes minutes if it is slow), the best of ``--repeat`` after a warm-up;
2. the study: ``explore`` into a fresh folder on ``--workers`` processes, metrics only: wall
   time, the CPU of the main process and of its workers (``getrusage``) per run, and the main
   process's peak resident memory (it holds every planned run). From
   these, the wall time of a 100,000-run exploration on the same cores (the issue's target:
   about 4 minutes on 2 cores).

Figures go to docs/performance.md by hand, with the date and the load.

    python benchmarks/bench_exploration.py [--futures 400] [--workers 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from poolpilot.analysis.exploration import Exploration, expected_runs, explore, plan_exploration
from poolpilot.runs.study import prepare_design

UNCERTAIN = {
    "population.segments.post_acute_adults.trend": (0.0, 0.08),
    "holder.self_interest": (0.0, 0.6),
    "services.transitional_care.unit_cost": (150.0, 300.0),
    "trust.tolerance_spread": (0.05, 0.3),
}
LEVERS = {
    "governance.transparency": [0.3, 0.7],
    "governance.challenges.rights": ["formal", "informal"],
}
TARGET_RUNS = 100_000


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--futures", type=int, default=400)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    design = prepare_design("hospital_led_post_acute", [], None)
    exploration = Exploration(UNCERTAIN, LEVERS, args.futures, seed=0)
    runs = expected_runs(exploration)
    print(f"{runs} runs ({args.futures} futures x 5 arms), load average {os.getloadavg()}")

    plan_exploration(design, Exploration(UNCERTAIN, LEVERS, 2))  # warm-up: imports, caches
    planning = []
    for _ in range(args.repeat):
        c0 = time.process_time()
        plan_exploration(design, exploration)
        planning.append((time.process_time() - c0) * 1000 / runs)
    print(f"planning: {min(planning):.2f} ms of CPU a run (best of {args.repeat})")

    with tempfile.TemporaryDirectory() as tmp:
        main0, workers0 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        explore(design, exploration, out=Path(tmp) / "x", workers=args.workers, progress="none")
        wall = time.perf_counter() - t0
        main_cpu = _cpu(resource.RUSAGE_SELF) - main0
        workers_cpu = _cpu(resource.RUSAGE_CHILDREN) - workers0
    print(
        f"study on {args.workers} workers: {wall:.1f} s wall ({runs / wall:.1f} runs/s); "
        f"CPU a run: main process {main_cpu * 1000 / runs:.2f} ms, "
        f"workers {workers_cpu * 1000 / runs:.2f} ms"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(f"peak resident memory of the main process: {peak:.0f} MB")
    print(
        f"at this rate {TARGET_RUNS:,} runs take {TARGET_RUNS / runs * wall / 60:.1f} minutes "
        f"on {args.workers} workers (target: about 4)"
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
