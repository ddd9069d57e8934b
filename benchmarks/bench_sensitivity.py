"""Time a Sobol' sensitivity study of the reference scenario, end to end.

Ten parameters of ``hospital_led_post_acute`` (36 months; a categorical rule and an integer
cadence among them), one replicate, the default local process pool, through
``poolpilot.analysis.sensitivity.analyze_scenario``: sampling, the study (runs saved to a results folder
and read back), indices with bootstrap intervals, the convergence check, the noise table and
the figures (not the HTML report, which the analysis never writes; timed with ``--report``).
The issue's target is under 2 minutes on 2 cores for N = 512.

Run count: the issue's 11,264 runs is N * (2D + 2), Saltelli's design with the second-order
block. poolpilot computes first-order and total indices only (``calc_second_order=False``),
whose design is N * (D + 2) = 6,144 rows at N = 512, fewer distinct runs where two rows map to
the same point (levels, integers). ``--samples 1024`` gives 12,288 rows, at least the issue's
run count. Figures go to docs/performance.md by hand, with the date.

    python benchmarks/bench_sensitivity.py [--samples 512] [--workers N] [--out DIR] [--report]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from poolpilot.analysis.sensitivity import analyze_scenario

SCENARIO = "hospital_led_post_acute"
PARAMETERS = [
    {"path": "holder.self_interest", "bounds": [0.0, 0.6]},
    {"path": "holder.data_accuracy", "bounds": [0.7, 1.0]},
    {"path": "holder.planning_cycle_months", "bounds": [1, 6]},
    {"path": "governance.challenges.rights", "levels": ["none", "informal", "formal"]},
    {"path": "governance.transparency", "bounds": [0.3, 1.0]},
    {"path": "governance.max_shift_per_cycle", "bounds": [0.1, 0.5]},
    {"path": "trust.gain_rate", "bounds": [0.02, 0.1]},
    {"path": "trust.loss_asymmetry", "bounds": [1.0, 5.0]},
    {"path": "budget.forecast_error", "bounds": [0.0, 0.15]},
    {"path": "payers.medicaid.initial_trust", "bounds": [0.5, 0.9]},
]
METRICS = ["unmet_need_share", "cost_shift_index", "trust_erosion", "total_system_cost"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--samples", type=int, default=512)
    p.add_argument("--workers", type=int, default=None, help="default: all cores")
    p.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    p.add_argument("--all-metrics", action="store_true", help="analyse every metric")
    p.add_argument("--report", action="store_true", help="also time writing report.html")
    args = p.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-sensitivity-")) / "study"

    started = time.perf_counter()
    result = analyze_scenario(
        SCENARIO,
        method="sobol",
        samples=args.samples,
        replicates=1,
        metrics=None if args.all_metrics else METRICS,
        parameters=PARAMETERS,
        out=out,
        workers=args.workers,
        progress="none",
    )
    wall = time.perf_counter() - started

    runs = len(result.runs)
    print(f"scenario: {SCENARIO}, 36 months, {len(PARAMETERS)} parameters, sobol N={args.samples}")
    print(f"cores: {os.cpu_count()}, workers: {args.workers or 'default (all cores)'}")
    print(f"design rows: {len(result.X)}, distinct runs: {runs}, metrics: {len(result.Y)}")
    print(f"runs (executed and saved): {result.summary.seconds:.1f} s")
    print(f"wall time, end to end: {wall:.1f} s ({wall / runs * 1000:.1f} ms per run)")
    unstable = result.convergence["unstable"].fillna(False).sum()
    print(f"indices: {len(result.indices)} rows, {unstable} flagged unstable at N/2 vs N")
    if args.report:
        from poolpilot.report import write_report

        started = time.perf_counter()
        write_report(out)
        print(f"report.html: {time.perf_counter() - started:.1f} s more")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
