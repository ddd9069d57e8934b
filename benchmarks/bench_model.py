"""Time one 36-month run of the reference scenario in-process, and its peak memory.

Median of many runs after a warm-up: wall time (``perf_counter``) of the model with its
metrics and of a full run record, and CPU time (``process_time``, less sensitive to other work
on a shared machine) of those and of a metrics-only run (``simulate_metrics``, what a
sensitivity study runs: the target is at most 4 ms of CPU). Then the per-run peak of Python
allocations (tracemalloc), and the top of a profile of metrics-only runs, by own time and by
cumulative time. Figures go to docs/performance.md by hand, with the date and the load.

    python benchmarks/bench_model.py [--runs 200] [--scenario hospital_led_post_acute]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import time
import tracemalloc

from poolpilot.model import PilotModel, metrics
from poolpilot.runs.study import plan, simulate, simulate_metrics
from poolpilot.scenario import load_scenario


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--scenario", default="hospital_led_post_acute")
    p.add_argument("--runs", type=int, default=200)
    args = p.parse_args()
    scenario = load_scenario(args.scenario)
    spec = plan([scenario], 1)[0]
    specs = plan([scenario], args.runs, seed=1)
    for seed in range(10):  # warm-up
        PilotModel(scenario, rng=seed).run()
        simulate_metrics(spec)
    model_only, with_records, cpu_model, cpu_record, cpu_metrics_only = [], [], [], [], []
    for seed in range(args.runs):
        c0, t0 = time.process_time(), time.perf_counter()
        m = PilotModel(scenario, rng=seed).run()
        metrics.compute(m)
        c1, t1 = time.process_time(), time.perf_counter()
        simulate(spec)
        c2, t2 = time.process_time(), time.perf_counter()
        simulate_metrics(specs[seed])
        c3 = time.process_time()
        model_only.append((t1 - t0) * 1000)
        with_records.append((t2 - t1) * 1000)
        cpu_model.append((c1 - c0) * 1000)
        cpu_record.append((c2 - c1) * 1000)
        cpu_metrics_only.append((c3 - c2) * 1000)

    tracemalloc.start()
    PilotModel(scenario, rng=1).run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"scenario: {args.scenario}, {scenario.horizon_months} months, {args.runs} runs")
    print(f"load average: {os.getloadavg()}")
    print(
        f"model + metrics: median {statistics.median(model_only):.2f} ms "
        f"(p10 {sorted(model_only)[len(model_only) // 10]:.2f}, "
        f"p90 {sorted(model_only)[9 * len(model_only) // 10]:.2f}); "
        f"CPU {statistics.median(cpu_model):.2f} ms"
    )
    print(
        f"full run record (metrics, timeseries, events tables): "
        f"median {statistics.median(with_records):.2f} ms; "
        f"CPU {statistics.median(cpu_record):.2f} ms"
    )
    print(
        f"metrics-only run (simulate_metrics: model, metrics, accounts): CPU median "
        f"{statistics.median(cpu_metrics_only):.2f} ms "
        f"(p10 {sorted(cpu_metrics_only)[len(cpu_metrics_only) // 10]:.2f}, "
        f"p90 {sorted(cpu_metrics_only)[9 * len(cpu_metrics_only) // 10]:.2f})"
    )
    print(f"peak Python memory of one run: {peak / 1e6:.2f} MB")

    profile = cProfile.Profile()
    profile.enable()
    for run in specs:
        simulate_metrics(run)
    profile.disable()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(15)
        print(out.getvalue())


if __name__ == "__main__":
    main()
