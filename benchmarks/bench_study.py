"""Time studies of the reference scenario: worker scaling, mesa.batch_run, a 20,000-run study.

Three parts (issue 7), each printed as a small table:

1. ``scaling``: ``--runs`` runs (default 2,000) of ``hospital_led_post_acute`` (36 months)
   through ``poolpilot.batch.execute`` with a process pool of 1 and of 2 workers, every run's
   metrics, timeseries and events written to a results folder (Parquet). Runs/s and the ratio
   2 workers / 1 worker (target at least 1.7 on 2 cores). A serial (in-process) study of the
   same runs is shown for reference. One warm-up study first.
2. ``batch_run``: the same ``--batch-runs`` runs (default 400, same seeds) through poolpilot and
   through ``mesa.batch_run`` with 1 and 2 processes; runs/s and the ratio poolpilot /
   batch_run (target at least 1). batch_run drives ``BatchRunPilot``, a Mesa model taking
   keyword parameters (the preset's name and a seed) whose DataCollector reports the same
   metrics at the end of the run; the two sides' metrics are checked equal run by run.
   batch_run forces the spawn start method on its whole process, so it runs in a child
   process of this script; its time is that of the ``batch_run`` call alone (pool start-up
   included, interpreter start-up and imports not). poolpilot's time is that of
   ``batch.execute`` (pool start-up and Parquet writes included); with 1 process it runs
   serially, as ``execute_study(workers=1)`` does, and as batch_run does. "metrics only" is
   poolpilot keeping the metrics row alone, as batch_run does (``study.simulate_metrics``,
   what ``execute_study(detail=False)`` runs).
3. ``big``: a ``--big``-run study (default 20,000) with its timeseries, in a child process
   (``plan`` + ``batch.execute`` + the manifest, default process pool of all cores): wall
   time, peak memory and the size of the results folder. Memory is the resident set (RSS) of
   the study's process tree (the main process and its pool workers), sampled every 0.2 s: the
   peak of the sampled total, the sum of each process's own peak (VmHWM; an upper bound), and
   the peak of the total proportional set size (PSS, sampled every second: pages shared
   between the forked workers and the main process counted once). ``--readback`` then times
   reading the three tables back into DataFrames (``read_results``: what the HTML report
   does, and a study's ``.timeseries`` and ``.events`` when first asked for), with its peak.

The machine is shared: every timing comes with the CPU this study used per run (its own
processes, from getrusage) and the cores other processes kept busy meanwhile ("others").
Before each timing the script waits up to ``--wait`` seconds for the others to go quiet;
``--repeat N`` times parts 1 and 2 N times, interleaved, and keeps the fastest of each.
Figures go to docs/performance.md by hand, with the date.

    PYTHONPATH=src python benchmarks/bench_study.py [--runs 2000] [--batch-runs 400]
        [--big 20000] [--parts scaling,batch_run,big] [--readback] [--wait 120] [--repeat 1]
        [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import mesa
import psutil

from poolpilot.model import PilotModel, metrics
from poolpilot.runs.executors import RunFunction, execute
from poolpilot.runs.store import ResultsStore, read_results
from poolpilot.runs.study import plan, run_seeds, simulate, simulate_metrics, write_manifest
from poolpilot.scenario import load_scenario
from poolpilot.scenario.schema import Scenario

SCENARIO = "hospital_led_post_acute"
PARTS = ("scaling", "batch_run", "big")
#: Seconds between two samples of the study's memory.
SAMPLE_EVERY = 0.2
#: Below this many cores kept busy by other processes, the machine counts as quiet.
QUIET_CORES = 0.15


# -- the Mesa-compatible model for batch_run ----------------------------------------------


@lru_cache(maxsize=8)
def _preset(name: str) -> Scenario:
    return load_scenario(name)


class BatchRunPilot(PilotModel):
    """The pilot model as ``mesa.batch_run`` expects it: keyword parameters, a datacollector.

    ``batch_run`` calls ``BatchRunPilot(scenario=..., seed=...)`` and steps it while
    ``running``. When the run ends its metrics are computed once (``metrics.compute``, as
    poolpilot's run record does) and collected; the DataCollector's reporters read them from a
    dict, so the reporters' validation does not compute every metric a second time.
    """

    def __init__(self, scenario: str = SCENARIO, seed: int | None = None, rng: Any = None):
        super().__init__(_preset(scenario), rng=seed if seed is not None else rng)
        self.final: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: [self.final.get, [name]] for name in metrics.METRICS}
        )

    def step(self) -> None:
        super().step()
        if not self.running:
            self.final.update(metrics.compute(self))
            self.datacollector.collect(self)


# -- timing on a shared machine -----------------------------------------------------------


def _own_cpu() -> float:
    """CPU seconds of this process and its finished (reaped) descendants."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )


def _busy_cpu() -> float:
    """CPU seconds the whole machine has spent busy (steal included: lost to the host)."""
    t = psutil.cpu_times()
    return sum(getattr(t, f, 0.0) for f in ("user", "nice", "system", "irq", "softirq", "steal"))


@dataclass
class Clock:
    """Wall time, this process tree's CPU, and the cores other processes kept busy meanwhile."""

    seconds: float = 0.0
    cpu: float = 0.0
    others: float = 0.0

    def __enter__(self) -> Clock:
        self._start = (time.perf_counter(), _own_cpu(), _busy_cpu())
        return self

    def __exit__(self, *exc_info: object) -> None:
        wall, own, busy = self._start
        self.seconds = time.perf_counter() - wall
        self.cpu = _own_cpu() - own
        self.others = max(0.0, (_busy_cpu() - busy - self.cpu) / self.seconds)


def _wait_quiet(limit: float) -> str:
    """Wait up to ``limit`` seconds for other processes to leave the cores alone."""
    started = time.monotonic()
    while True:
        busy = _busy_cpu()
        time.sleep(3.0)
        others = (_busy_cpu() - busy) / 3.0
        waited = time.monotonic() - started
        if others < QUIET_CORES:
            return f"quiet after {waited:.0f} s" if waited > 4 else "quiet"
        if waited >= limit:
            return f"busy: others at {others:.1f} cores after {waited:.0f} s"


def _study(
    scenario: Scenario,
    runs: int,
    folder: Path,
    executor: str,
    workers: int,
    run_fn: RunFunction = simulate,
) -> Clock:
    """Time ``runs`` runs saved to ``folder`` (planning excluded)."""
    specs = plan([scenario], runs)
    with Clock() as clock:
        summary = execute(
            specs, run_fn, folder, executor=executor, workers=workers, progress="none"
        )
    if summary.ok != runs:
        raise RuntimeError(f"study in {folder} did not finish cleanly: {summary}")
    return clock


# -- children: batch_run, the big study ---------------------------------------------------


def _batch_run_child(scenario: str, runs: int, processes: int, out: str) -> None:
    """In a child process: time mesa.batch_run on ``runs`` seeds, write the rows to ``out``."""
    from mesa.batchrunner import batch_run

    seeds = run_seeds(0, runs)
    BatchRunPilot(scenario, seed=seeds[0]).run()  # warm-up: imports, scenario cache
    with Clock() as clock:
        rows = batch_run(
            BatchRunPilot,
            parameters={"scenario": scenario},
            number_processes=processes,
            rng=seeds,
            data_collection_period=-1,
            max_steps=10_000,
            display_progress=False,
        )
    keep = ["seed", *metrics.METRICS]
    report = {
        "seconds": clock.seconds,
        "cpu": clock.cpu,
        "others": clock.others,
        "rows": [{k: r[k] for k in keep} for r in rows],
    }
    Path(out).write_text(json.dumps(report))


def _big_child(scenario_name: str, runs: int, out: str, readback: bool) -> None:
    """In a child process: the big study, then (optionally) its tables read back."""
    scenario = load_scenario(scenario_name)
    specs = plan([scenario], runs)
    with Clock() as clock:
        summary = execute(specs, simulate, out, progress="none")
    write_manifest(Path(out), [scenario], specs, runs, 0, None, "benchmarks/bench_study.py")
    report = {
        "event": "study",
        "seconds": clock.seconds,
        "cpu": clock.cpu,
        "others": clock.others,
        "ok": summary.ok,
        "failed": summary.failed,
    }
    print(json.dumps(report), flush=True)
    if readback:
        with Clock() as clock:
            tables = read_results(out)
        rows = {name: len(frame) for name, frame in tables.items()}
        mb = {n: f.memory_usage(deep=True).sum() / 1e6 for n, f in tables.items()}
        report = {"event": "readback", "seconds": clock.seconds, "rows": rows, "mb": mb}
        print(json.dumps(report), flush=True)


def _child(scenario: str, args: list[str]) -> subprocess.Popen[str]:
    command = [sys.executable, os.path.abspath(__file__), "--scenario", scenario, *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


# -- memory -------------------------------------------------------------------------------


def _vm_hwm(pid: int) -> int:
    """A process's peak resident set (VmHWM) in bytes, 0 if unreadable."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class TreeMemory:
    """Samples the memory of a process and its descendants in a thread, by phase."""

    def __init__(self, pid: int, every: float = SAMPLE_EVERY) -> None:
        self.root = psutil.Process(pid)
        self.every = every
        self.phase = "study"
        #: phase -> peak of the sampled total RSS of the tree.
        self.total: dict[str, int] = {}
        #: phase -> peak of the sampled total PSS (shared pages split between processes).
        self.pss_total: dict[str, int] = {}
        #: phase -> pid -> peak RSS of that process (max of samples and VmHWM).
        self.own: dict[str, dict[int, int]] = {}
        self._samples = 0
        self._tree: list[psutil.Process] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-memory", daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def sample(self) -> None:
        # RSS every time (cheap); the process list and PSS (the kernel walks the page tables)
        # once a second, so the sampler takes little CPU from the study it measures.
        phase = self.phase
        slow = self._samples % max(1, round(1 / self.every)) == 0 or not self._tree
        self._samples += 1
        try:
            if slow:
                self._tree = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        total = proportional = 0
        own = self.own.setdefault(phase, {})
        for process in self._tree:
            try:
                rss = peak = process.memory_info().rss
                if slow:
                    proportional += getattr(process.memory_full_info(), "pss", 0)
                    peak = max(rss, _vm_hwm(process.pid))
            except psutil.Error:
                continue
            total += rss
            own[process.pid] = max(own.get(process.pid, 0), peak)
        self.total[phase] = max(self.total.get(phase, 0), total)
        self.pss_total[phase] = max(self.pss_total.get(phase, 0), proportional)


# -- output -------------------------------------------------------------------------------


def _table(header: list[str], rows: list[list[Any]]) -> None:
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print()


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _folder_size(folder: Path) -> tuple[int, int, int]:
    """(bytes of the files, bytes on disk, number of files) under ``folder``."""
    size = disk = files = 0
    for root, _, names in os.walk(folder):
        for name in names:
            st = os.stat(os.path.join(root, name))
            size += st.st_size
            disk += st.st_blocks * 512
            files += 1
    return size, disk, files


# -- the parts ----------------------------------------------------------------------------


def _best(clocks: list[Clock]) -> Clock:
    return min(clocks, key=lambda clock: clock.seconds)


def part_scaling(scenario: Scenario, runs: int, tmp: Path, wait: float, repeat: int) -> None:
    simulate(plan([scenario], 1)[0])
    _study(scenario, 100, tmp / "warmup", "process", 2)
    configurations = [
        ("serial", "serial", 1),
        ("1 worker", "process", 1),
        ("2 workers", "process", 2),
    ]
    tries: dict[str, list[Clock]] = {name: [] for name, _, _ in configurations}
    for attempt in range(repeat):  # interleaved, so a busy spell spoils one of each at most
        for name, executor, workers in configurations:
            _wait_quiet(wait)
            folder = tmp / f"scaling-{name.replace(' ', '-')}-{attempt}"
            tries[name].append(_study(scenario, runs, folder, executor, workers))
    clocks = {name: _best(clocks) for name, clocks in tries.items()}
    base = runs / clocks["1 worker"].seconds
    best = f", best of {repeat}" if repeat > 1 else ""
    print(f"1. worker scaling: {runs} runs, every run's tables written as Parquet{best}")
    rows = [
        [
            name,
            f"{c.seconds:.1f}",
            f"{runs / c.seconds:.1f}",
            f"{runs / c.seconds / base:.2f}x",
            f"{1000 * c.cpu / runs:.1f}",
            f"{c.others:.2f}",
        ]
        for name, c in clocks.items()
    ]
    _table(["executor", "seconds", "runs/s", "vs 1 worker", "CPU ms/run", "others"], rows)
    ratio = clocks["1 worker"].seconds / clocks["2 workers"].seconds
    verdict = "met" if ratio >= 1.7 else "NOT met"
    print(f"2 workers / 1 worker: {ratio:.2f}x (target >= 1.7x: {verdict})\n")


def part_batch_run(
    name: str, scenario: Scenario, runs: int, tmp: Path, wait: float, repeat: int
) -> None:
    rows = []
    for processes in (1, 2):
        executor = "serial" if processes == 1 else "process"
        ours: list[Clock] = []
        lean: list[Clock] = []
        theirs: list[dict[str, Any]] = []
        for attempt in range(repeat):
            _wait_quiet(wait)
            folder = tmp / f"versus-{processes}-{attempt}"
            ours.append(_study(scenario, runs, folder, executor, processes))
            lean_folder = tmp / f"lean-{processes}-{attempt}"
            lean.append(_study(scenario, runs, lean_folder, executor, processes, simulate_metrics))
            out = tmp / f"batch_run-{processes}-{attempt}.json"
            args = ["--child-batch-run", str(processes), "--batch-runs", str(runs)]
            child = _child(name, [*args, "--out", str(out)])
            child.communicate()
            if child.returncode:
                raise RuntimeError(f"the batch_run child failed (exit {child.returncode})")
            theirs.append(json.loads(out.read_text()))
        # The same metrics, run by run (the last attempt of each side).
        by_seed = {row["seed"]: row for row in theirs[-1]["rows"]}
        store_runs = ResultsStore(folder, readonly=True).read("runs")
        same = len(by_seed) == len(store_runs) == runs and all(
            _same(float(run[metric]), float(by_seed[run["seed"]][metric]))
            for run in store_runs.to_dict("records")
            for metric in metrics.METRICS
        )
        batch = min(theirs, key=lambda report: report["seconds"])
        fastest = [
            ("poolpilot", _best(ours)),
            ("poolpilot, metrics only", _best(lean)),
            ("mesa.batch_run", Clock(batch["seconds"], batch["cpu"], batch["others"])),
        ]
        for label, clock in fastest:
            rows.append(
                [
                    processes,
                    label,
                    f"{runs / clock.seconds:.1f}",
                    f"{batch['seconds'] / clock.seconds:.2f}x",
                    f"{1000 * clock.cpu / runs:.1f}",
                    f"{clock.others:.2f}",
                    "yes" if same else "NO",
                ]
            )
    best = f", best of {repeat}" if repeat > 1 else ""
    print(f"2. poolpilot vs mesa.batch_run: {runs} runs, the same seeds{best}")
    header = ["processes", "how", "runs/s", "vs batch_run", "CPU ms/run", "others", "same metrics"]
    _table(header, rows)


def part_big(name: str, runs: int, out: Path, readback: bool, wait: float) -> None:
    note = _wait_quiet(wait)
    args = ["--child-big", str(runs), "--out", str(out)] + (["--readback"] if readback else [])
    reports: dict[str, dict[str, Any]] = {}
    with Clock() as whole:
        child = _child(name, args)
        with TreeMemory(child.pid) as memory:
            assert child.stdout is not None
            for line in child.stdout:
                report = json.loads(line)
                reports[report["event"]] = report
                memory.phase = "readback"
            child.wait()
    if child.returncode:
        raise RuntimeError(f"the big study's child failed (exit {child.returncode})")
    study = reports["study"]
    size, disk, files = _folder_size(out)
    own = memory.own.get("study", {})
    workers = [peak for pid, peak in own.items() if pid != child.pid]
    peak = memory.total.get("study", 0)
    print(f"3. a {runs}-run study with its timeseries (default pool: {os.cpu_count()} workers)")
    rows = [
        ["runs ok / failed", f"{study['ok']} / {study['failed']}"],
        ["study wall time", f"{study['seconds']:.1f} s ({runs / study['seconds']:.1f} runs/s)"],
        ["CPU per run (main + workers)", f"{1000 * study['cpu'] / runs:.1f} ms"],
        ["others (cores busy meanwhile)", f"{study['others']:.2f} ({note} before)"],
        ["child process wall time (with start-up)", f"{whole.seconds:.1f} s"],
        ["peak RSS, sampled total of the tree", f"{peak / 1e6:.0f} MB"],
        ["peak RSS, sum of each process's peak", f"{sum(own.values()) / 1e6:.0f} MB"],
        ["  of which the main process", f"{own.get(child.pid, 0) / 1e6:.0f} MB"],
        ["  largest worker", f"{max(workers, default=0) / 1e6:.0f} MB ({len(workers)} workers)"],
        ["peak PSS, sampled total of the tree", f"{memory.pss_total.get('study', 0) / 1e6:.0f} MB"],
        ["results folder (file sizes / on disk)", f"{size / 1e6:.0f} MB / {disk / 1e6:.0f} MB"],
        ["results files", str(files)],
    ]
    if "readback" in reports:
        back = reports["readback"]
        rows += [
            ["read back (read_results) time", f"{back['seconds']:.1f} s"],
            ["read back rows", ", ".join(f"{k} {v}" for k, v in back["rows"].items())],
            ["read back DataFrames", ", ".join(f"{k} {v:.0f} MB" for k, v in back["mb"].items())],
            ["read back peak RSS", f"{memory.total.get('readback', 0) / 1e6:.0f} MB"],
        ]
    _table(["what", "value"], rows)
    verdict = "met" if peak < 1e9 else "NOT met"
    print(f"study peak memory (sampled RSS total) under 1 GB: {verdict}\n")


# -- main ---------------------------------------------------------------------------------


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--scenario", default=SCENARIO)
    p.add_argument("--runs", type=int, default=2000, help="runs for worker scaling")
    p.add_argument("--batch-runs", type=int, default=400, help="runs for the batch_run ratio")
    p.add_argument("--big", type=int, default=20_000, help="runs of the big study")
    p.add_argument("--parts", default=",".join(PARTS), help="comma-separated: " + ", ".join(PARTS))
    p.add_argument("--readback", action="store_true", help="time reading the big study back")
    p.add_argument(
        "--wait", type=float, default=120.0, help="seconds to wait for a quiet machine, each time"
    )
    p.add_argument(
        "--repeat", type=int, default=1, help="time parts 1 and 2 this many times, keep the best"
    )
    p.add_argument("--out", help="a folder to keep the results in (default: temporary)")
    p.add_argument("--child-batch-run", type=int, help=argparse.SUPPRESS)
    p.add_argument("--child-big", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.child_batch_run:
        _batch_run_child(args.scenario, args.batch_runs, args.child_batch_run, args.out)
        return
    if args.child_big:
        _big_child(args.scenario, args.child_big, args.out, args.readback)
        return

    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        p.error(f"unknown parts: {', '.join(sorted(unknown))}")
    scenario = load_scenario(args.scenario)
    print(
        f"{args.scenario}, {scenario.horizon_months} months; {os.cpu_count()} cores "
        f"({platform.machine()}), Python {platform.python_version()}, Mesa {mesa.__version__}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}\n"
    )
    with tempfile.TemporaryDirectory(prefix="poolpilot-bench-") as temporary:
        tmp = Path(args.out) if args.out else Path(temporary)
        tmp.mkdir(parents=True, exist_ok=True)
        if "scaling" in parts:
            part_scaling(scenario, args.runs, tmp, args.wait, args.repeat)
        if "batch_run" in parts:
            part_batch_run(args.scenario, scenario, args.batch_runs, tmp, args.wait, args.repeat)
        if "big" in parts:
            part_big(args.scenario, args.big, tmp / "big", args.readback, args.wait)


if __name__ == "__main__":
    main()
