"""Machine instructions per metrics-only run, counted by valgrind's callgrind.

Timings on these shared machines move by 10% to 30% from one minute to the next, too much to
tell whether a change saved 5%. An instruction count does not move: the same code, inputs and
seeds give the same count whatever else the machine is doing. This runs a child process under
``valgrind --tool=callgrind`` twice, once with no runs and once with ``--runs`` metrics-only
runs of the reference preset (after one warm-up run in both), and reports the difference per
run: the model, its metrics and accounts, and ``simulate_metrics``'s own work, without Python's
start-up and imports. ``--against SRC`` counts another checkout's ``src`` folder the same way
(``git worktree add /tmp/base HEAD~1``, then ``--against /tmp/base/src``), to compare two
versions. Each count takes one to two minutes: valgrind runs Python some 50 times slower.

    python benchmarks/bench_instructions.py [--runs 20] [--against /tmp/base/src]

valgrind is a system package (``apt-get install valgrind``), needed here only.

Since the month's numeric rules are compiled with numba (2026-12-04), the count no longer
measures what a run costs: under valgrind each metrics-only run counted about 1.2 billion
instructions (much of it in ``__tls_get_addr``'s slow path and LLVM, which a native run does
not take), against some 60 million natively by its CPU time. Compare versions compiled the
same way with it, or time them (``bench_model.py``, alternating the two in the same minutes).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
REFERENCE = "hospital_led_post_acute"


def _child(runs: int, planned: int) -> None:
    """What is counted: ``planned`` runs planned (the same in both counts), one warm-up run,
    then ``runs`` metrics-only runs."""
    from poolpilot.runs.study import plan, simulate_metrics
    from poolpilot.scenario import load_scenario

    specs = plan([load_scenario(REFERENCE)], planned, seed=1)
    for spec in specs[: runs + 1]:
        simulate_metrics(spec)


def count(src: Path, runs: int, planned: int) -> int:
    """Instructions of a child that makes ``runs`` runs after its warm-up, with ``src`` first
    on its path."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--child",
            str(runs),
            str(planned),
        ],
        env=env,
        cwd=src.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_run(src: Path, runs: int) -> float:
    """Instructions per run: the count with ``runs`` runs, less the count with none."""
    return (count(src, runs, runs + 1) - count(src, 0, runs + 1)) / runs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--against", type=Path, help="another checkout's src folder, to compare")
    p.add_argument("--child", type=int, nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child is not None:
        _child(*args.child)
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    here = per_run(SRC, args.runs)
    print(f"{SRC}: {here / 1e6:.2f} million instructions a run ({args.runs} runs of {REFERENCE})")
    if args.against is not None:
        there = per_run(args.against.resolve(), args.runs)
        print(f"{args.against}: {there / 1e6:.2f} million instructions a run")
        print(f"this tree / the other: {here / there:.3f}")


if __name__ == "__main__":
    main()
