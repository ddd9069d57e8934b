"""Time one 36-month run of the reference scenario in-process, and its peak memory.

Median of many runs after a warm-up (the target is at most 10 ms a run on the 2-core
development machine), the per-run peak of Python allocations (tracemalloc), and the top of a
profile of the monthly step. Figures go to docs/performance.md by hand, with the date.

    python benchmarks/bench_model.py [--runs 200] [--scenario hospital_led_post_acute]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time
import tracemalloc

from poolpilot.model import PilotModel, metrics
from poolpilot.runs.study import plan, simulate
from poolpilot.scenario import load_scenario


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--scenario", default="hospital_led_post_acute")
    p.add_argument("--runs", type=int, default=200)
    args = p.parse_args()
    scenario = load_scenario(args.scenario)

    for seed in range(10):  # warm-up
        PilotModel(scenario, rng=seed).run()
    model_only, with_records = [], []
    spec = plan([scenario], 1)[0]
    for seed in range(args.runs):
        t0 = time.perf_counter()
        m = PilotModel(scenario, rng=seed).run()
        metrics.compute(m)
        t1 = time.perf_counter()
        simulate(spec)
        t2 = time.perf_counter()
        model_only.append((t1 - t0) * 1000)
        with_records.append((t2 - t1) * 1000)

    tracemalloc.start()
    PilotModel(scenario, rng=1).run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"scenario: {args.scenario}, {scenario.horizon_months} months, {args.runs} runs")
    print(
        f"model + metrics: median {statistics.median(model_only):.2f} ms "
        f"(p10 {sorted(model_only)[len(model_only) // 10]:.2f}, "
        f"p90 {sorted(model_only)[9 * len(model_only) // 10]:.2f})"
    )
    print(
        f"full run record (metrics, timeseries, events tables): "
        f"median {statistics.median(with_records):.2f} ms"
    )
    print(f"peak Python memory of one run: {peak / 1e6:.2f} MB")

    profile = cProfile.Profile()
    profile.enable()
    for seed in range(50):
        PilotModel(scenario, rng=seed).run()
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(12)
    print(out.getvalue())


if __name__ == "__main__":
    main()
