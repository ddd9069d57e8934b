"""Runs per second of metrics-only runs: poolpilot's process pool against ``mesa.batch_run``.

The same runs both ways: ``--runs`` runs of the reference preset (36 months) at the seeds a
poolpilot study would give them, metrics and accounts only, on ``--workers`` processes.

(a) poolpilot: ``execute_study(..., detail=False, workers=N)``, end to end (the process pool,
    chunks of runs, and the results folder written as Parquet);
(b) Mesa: ``mesa.batch_run(BatchPilot, ..., number_processes=N)`` (Mesa 3.5 has it), where
    ``BatchPilot`` is a thin wrapper of ``PilotModel`` that takes a preset name and a seed and
    collects the same metrics with a ``mesa.DataCollector`` at the end of the run. batch_run
    starts a ``multiprocessing`` pool (spawn) and hands it one run at a time
    (``imap_unordered`` over the runs' keyword arguments, ``_model_run_func`` in
    mesa/batchrunner.py).

Each timing runs in a fresh child process (batch_run switches multiprocessing to spawn for
the whole process), and reports wall time, runs/s and the CPU its processes used per run.
Figures go to docs/performance.md by hand, with the date and the machine's load (``uptime``).

    python benchmarks/bench_throughput.py [--runs 2000] [--workers 2] [--repeat 1] [--only WAY]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from functools import lru_cache
from typing import Any

import mesa

from poolpilot.model import METRICS, PilotModel, metrics
from poolpilot.runs.study import execute_study, run_seeds
from poolpilot.scenario import load_scenario

REFERENCE = "hospital_led_post_acute"


@lru_cache(maxsize=8)
def _preset(name: str) -> Any:
    return load_scenario(name)


def _accounts(model: PilotModel) -> dict[str, float]:
    return metrics.accounts(model)


class BatchPilot(PilotModel):
    """``PilotModel`` as ``mesa.batch_run`` expects a model: keyword parameters and a seed in,
    a ``datacollector`` holding the run's metrics (and each party's account) at its end."""

    def __init__(self, scenario: str = REFERENCE, rng: int | None = None) -> None:
        super().__init__(_preset(scenario), rng=rng)
        reporters: dict[str, Any] = {name: metric.function for name, metric in METRICS.items()}
        reporters["accounts"] = _accounts
        self.datacollector = mesa.DataCollector(model_reporters=reporters)

    def step(self) -> None:
        super().step()
        if not self.running:  # the run's end: collect once, as a metrics-only study does
            self.datacollector.collect(self)


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def time_poolpilot(runs: int, workers: int) -> dict[str, Any]:
    """(a) A metrics-only study through poolpilot's own process pool, saved as Parquet."""
    scenario = _preset(REFERENCE)
    out = tempfile.mkdtemp(prefix="bench-throughput-")
    cpu, started = _cpu_seconds(), time.perf_counter()
    result = execute_study(
        [scenario], replicates=runs, seed=0, out=out, workers=workers, detail=False,
        progress="none",
    )  # fmt: skip
    wall = time.perf_counter() - started
    assert result.summary.ok == runs, result.summary
    return {"wall": wall, "cpu": _cpu_seconds() - cpu, "rows": len(result.runs)}


def time_batch_run(runs: int, workers: int) -> dict[str, Any]:
    """(b) The same runs through ``mesa.batch_run`` with ``number_processes=workers``."""
    seeds = run_seeds(0, runs)
    cpu, started = _cpu_seconds(), time.perf_counter()
    rows = mesa.batch_run(
        BatchPilot,
        parameters={"scenario": REFERENCE},
        number_processes=workers,
        rng=seeds,
        data_collection_period=-1,
        max_steps=10_000,
        display_progress=False,
    )
    wall = time.perf_counter() - started
    assert len(rows) == runs, len(rows)
    return {"wall": wall, "cpu": _cpu_seconds() - cpu, "rows": len(rows)}


def _child(which: str, runs: int, workers: int) -> dict[str, Any]:
    """Time one way in a fresh Python process and read back what it measured."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import bench_throughput as b; "
        f"print(json.dumps(b.time_{which}({runs}, {workers})))"
    )
    here = os.path.dirname(os.path.abspath(__file__))
    done = subprocess.run(
        [sys.executable, "-c", code, here], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=2000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeat", type=int, default=1, help="alternate the two ways this often")
    p.add_argument(
        "--only", choices=["poolpilot", "batch_run"], help="time one way (e.g. another src tree)"
    )
    args = p.parse_args()
    print(f"{args.runs} metrics-only runs of {REFERENCE} (36 months), {args.workers} workers")
    print(f"mesa {mesa.__version__}, mesa.batch_run available: {hasattr(mesa, 'batch_run')}")
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        for which, label in (("poolpilot", "poolpilot process pool"), ("batch_run", "batch_run")):
            if args.only and which != args.only:
                continue
            t = _child(which, args.runs, args.workers)
            rate = args.runs / t["wall"]
            best[which] = max(best.get(which, 0.0), rate)
            print(
                f"{label:24s} {t['wall']:6.1f} s  {rate:6.1f} runs/s  "
                f"{t['cpu'] / args.runs * 1000:5.2f} ms CPU per run (all its processes)"
            )
    if len(best) == 2:
        print(f"ratio, best of each: {best['poolpilot'] / best['batch_run']:.2f}x")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
