"""The command line: ``poolpilot list | validate | show | run | compare | sensitivity | report``.

Exit codes: 0 success, 2 bad input (one line per problem: ``FILE: field.path: what is wrong``),
1 anything else (including a study in which some runs failed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from poolpilot._version import __version__
from poolpilot.scenario import (
    ScenarioError,
    content_hash,
    list_presets,
    load_scenario,
    parse_assignment,
    to_data,
)

BAD_INPUT = 2


def _add_study_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--replicates", type=int, default=10, help="runs per design (default 10)")
    p.add_argument("--seed", type=int, default=0, help="study seed (default 0)")
    p.add_argument("--months", type=int, default=None, help="override the horizon")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a field (dotted path; list items by name); repeatable",
    )
    p.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="PATH=V1,V2,...",
        help="run each listed value of a field, one field at a time; repeatable",
    )
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="PATH=V1,V2,...",
        help="run every combination of the listed values of these fields; repeatable",
    )
    p.add_argument(
        "--lhs", type=int, default=None, metavar="N", help="N Latin hypercube points over --range"
    )
    p.add_argument(
        "--range",
        dest="ranges",
        action="append",
        default=[],
        metavar="PATH=LOW,HIGH",
        help="a numeric field's range for --lhs; repeatable",
    )
    p.add_argument("--out", type=Path, default=None, help="results folder (default results/NAME)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: cores)")
    p.add_argument(
        "--executor",
        choices=["serial", "process", "dask"],
        default=None,
        help="where runs execute (default: a local process pool)",
    )
    p.add_argument(
        "--scheduler", default=None, metavar="ADDRESS", help="send runs to an existing Dask cluster"
    )
    p.add_argument("--resume", action="store_true", help="run only the runs missing from --out")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="poolpilot",
        description="Simulate pooled-budget integrated funding pilots and compare their designs.",
    )
    p.add_argument("--version", action="version", version=f"poolpilot {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("list", help="the preset scenarios, one line each")
    s.add_argument("--names", action="store_true", help="names only, space-separated")

    s = sub.add_parser("validate", help="check scenario files; exit 2 with one line per problem")
    s.add_argument("files", nargs="+", metavar="FILE")

    s = sub.add_parser("show", help="print the resolved scenario (after extends and --set)")
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")

    s = sub.add_parser("run", help="run one design over replicates into a results folder")
    s.add_argument("scenario", metavar="SCENARIO", help="a scenario file or a preset name")
    _add_study_options(s)

    s = sub.add_parser("compare", help="designs side by side, with the no-pool baseline")
    s.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    baselines = s.add_mutually_exclusive_group()
    baselines.add_argument(
        "--no-baseline", action="store_true", help="do not add the no-pool baseline"
    )
    baselines.add_argument(
        "--ideal-baseline",
        action="store_true",
        help="also add the idealised no-pool baseline (one frictionless planner, no "
        "fragmentation) beside the status quo",
    )
    _add_study_options(s)

    s = sub.add_parser("report", help="(re)write DIR/report.html from a results folder")
    s.add_argument("folder", type=Path, metavar="DIR")

    s = sub.add_parser(
        "sensitivity",
        help="global sensitivity analysis (SALib) of a scenario's metrics",
        description="Sensitivity indices of the metrics to the parameters of the scenario's "
        "sensitivity: block (or --param), run through the studies layer. Integer fields are "
        "rounded within their bounds; levels map equal shares of [0, 1] to each level.",
    )
    s.add_argument("scenario", metavar="SCENARIO", help="a scenario file or a preset name")
    s.add_argument(
        "--method", choices=["sobol", "morris", "fast", "rbd-fast", "delta"], default="sobol"
    )
    s.add_argument(
        "--samples",
        type=int,
        default=None,
        metavar="N",
        help="sobol base points (a power of two; default 256), morris trajectories (20), "
        "eFAST points per parameter (128) or Latin hypercube rows (512)",
    )
    s.add_argument("--replicates", type=int, default=1, help="runs per point (default 1)")
    s.add_argument("--metrics", nargs="+", default=None, metavar="METRIC")
    s.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="PATH=SPEC",
        help="a varied field: PATH=LO,HI (bounds) or PATH=A|B|C (levels); replaces the "
        "scenario's sensitivity: parameters; repeatable",
    )
    s.add_argument(
        "--group", action="append", default=[], metavar="PATH=NAME", help="group a parameter"
    )
    s.add_argument("--seed", type=int, default=0, help="sampler, study and bootstrap seed")
    s.add_argument("--months", type=int, default=None, help="override the horizon")
    s.add_argument("--out", type=Path, default=None, help="results folder")
    s.add_argument("--workers", type=int, default=None, help="worker processes (default: cores)")
    s.add_argument("--executor", choices=["serial", "process", "dask"], default=None)
    s.add_argument("--scheduler", default=None, metavar="ADDRESS", help="an existing Dask cluster")
    s.add_argument("--resume", action="store_true", help="run only the runs missing from --out")
    s.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ScenarioError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return BAD_INPUT
    except ValueError as err:
        print(f"poolpilot: {err}", file=sys.stderr)
        return BAD_INPUT


def cmd_list(args: argparse.Namespace) -> int:
    presets = list_presets()
    if args.names:
        print(" ".join(name for name, _ in presets))
        return 0
    width = max((len(name) for name, _ in presets), default=0)
    for name, description in presets:
        print(f"{name:<{width}}  {description}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    bad = 0
    for file in args.files:
        try:
            load_scenario(file)
        except ScenarioError as err:
            bad += 1
            for problem in err.problems:
                print(problem, file=sys.stderr)
        else:
            print(f"{file}: ok")
    return BAD_INPUT if bad else 0


def cmd_show(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    print(f"# content hash: {content_hash(scenario)}")
    print(yaml.safe_dump(to_data(scenario), sort_keys=False, width=100), end="")
    return 0


def _values(items: list[str], flag: str) -> dict[str, list[Any]]:
    """``path=v1,v2`` options as path -> values (each value read as YAML)."""
    out = {}
    for item in items:
        path, raw = item.split("=", 1) if "=" in item else (item, "")
        if not raw:
            raise ValueError(f"{flag} needs path=v1,v2,... (given {item!r})")
        out[path] = [parse_assignment(f"x={v}")[1] for v in raw.split(",")]
    return out


def _ranges(items: list[str]) -> dict[str, tuple[float, float]]:
    out = {}
    for path, values in _values(items, "--range").items():
        if len(values) != 2 or not all(isinstance(v, int | float) for v in values):
            raise ValueError(f"--range needs path=low,high with two numbers (given {values!r})")
        out[path] = (float(values[0]), float(values[1]))
    return out


def _study(args: argparse.Namespace, scenarios: list[str], compare: bool) -> int:
    from poolpilot.runs import study

    options = dict(
        replicates=args.replicates,
        seed=args.seed,
        months=args.months,
        overrides=args.overrides,
        workers=args.workers,
        executor=args.executor,
        scheduler=args.scheduler,
        resume=args.resume,
        progress="none" if args.quiet else "auto",
        command=" ".join(["poolpilot", *sys.argv[1:]]),
    )
    options["vary"] = _values(args.vary, "--vary") or None
    options["grid"] = _values(args.grid, "--grid") or None
    if args.lhs is not None:
        if not args.ranges:
            raise ValueError("--lhs needs at least one --range path=low,high")
        options["lhs"], options["ranges"] = args.lhs, _ranges(args.ranges)
    name = "compare" if compare else Path(scenarios[0]).stem
    options["out"] = args.out or Path("results") / name
    if compare:
        baselines = {"baseline": not args.no_baseline, "ideal_baseline": args.ideal_baseline}
        result = study.compare(scenarios, **baselines, **options)
    else:
        result = study.run(scenarios[0], **options)
    _write_report(result.folder)
    summary = result.summary
    if not args.quiet or summary.failed or summary.interrupted:
        print(summary, file=sys.stderr)
    print(f"results: {result.folder}")
    if summary.interrupted:
        return 130
    return 1 if summary.failed else 0


def _write_report(folder: Path | None) -> Path | None:
    try:
        from poolpilot import report
    except ImportError:  # the report module arrives with its own issue
        return None
    return report.write_report(folder) if folder else None


def cmd_run(args: argparse.Namespace) -> int:
    return _study(args, [args.scenario], compare=False)


def cmd_compare(args: argparse.Namespace) -> int:
    return _study(args, args.scenarios, compare=True)


def cmd_report(args: argparse.Namespace) -> int:
    if not (args.folder / "runs.parquet").exists():
        raise ValueError(f"{args.folder}: not a results folder (no runs.parquet)")
    path = _write_report(args.folder)
    if path is None:
        print("poolpilot: the report module is not available in this version", file=sys.stderr)
        return 1
    print(f"report: {path}")
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from poolpilot.analysis import sensitivity

    parameters, groups = sensitivity.parse_options(args.param, args.group)
    out = args.out or Path("results") / f"{Path(args.scenario).stem}-sensitivity"
    try:
        result = sensitivity.analyze_scenario(
            args.scenario,
            method=args.method,
            samples=args.samples,
            replicates=args.replicates,
            metrics=args.metrics,
            parameters=parameters,
            seed=args.seed,
            out=out,
            workers=args.workers,
            executor=args.executor,
            resume=args.resume,
            progress="none" if args.quiet else "auto",
            months=args.months,
            groups=groups,
            scheduler=args.scheduler,
            command=" ".join(["poolpilot", *sys.argv[1:]]),
        )
    except sensitivity.IncompleteStudyError as err:
        print(f"poolpilot: {err}", file=sys.stderr)
        return 130 if err.summary.interrupted else 1
    _write_report(result.folder)  # the analysis stage writes no report: it comes after it
    if not args.quiet:
        print(result.summary, file=sys.stderr)
        ranked = result.ranking.dropna(subset=["rank"])
        for metric, rows in ranked.groupby("metric", sort=False):
            top = ", ".join(
                f"{r.parameter} ({r.index} {r.value:.2f})" for r in rows.head(3).itertuples()
            )
            print(f"{metric}: {top}")
        unstable = int(result.convergence["unstable"].fillna(False).sum())
        if unstable:
            print(f"{unstable} indices moved more than their intervals from N/2 to N: raise N")
    print(f"results: {result.folder}")
    return 0


COMMANDS = {
    "list": cmd_list,
    "validate": cmd_validate,
    "show": cmd_show,
    "run": cmd_run,
    "compare": cmd_compare,
    "report": cmd_report,
    "sensitivity": cmd_sensitivity,
}
