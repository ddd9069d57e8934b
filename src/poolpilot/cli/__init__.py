"""The command line: ``poolpilot list | validate | show | run | compare | sensitivity | report |
explore | discover | robust``.

Exit codes: 0 success, 2 bad input (one line per problem: ``FILE: field.path: what is wrong``,
or ``poolpilot run: error: argument --seed: ...`` for an option), 130 interrupted, 1 anything
else (a study in which some runs failed, or a bug: one line, and the traceback with
``POOLPILOT_DEBUG=1``). Every option is checked before any run starts (`checks`); after
``run`` and ``compare`` a short table of the designs goes to stdout (`summary`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from poolpilot._version import __version__
from poolpilot.cli import checks, exploring
from poolpilot.cli.checks import BAD_INPUT, INTERRUPTED, one_line
from poolpilot.cli.reporting import library_warnings_hidden, write_report
from poolpilot.scenario import (
    ScenarioError,
    ScenarioWarning,
    content_hash,
    list_presets,
    load_scenario,
    to_data,
)

EXECUTORS = ["serial", "process", "dask"]


def _add_execution_options(p: argparse.ArgumentParser) -> None:
    """Where runs go and what happens to the results folder: shared by every study command."""
    p.add_argument(
        "--out", type=checks.out_folder, default=None, help="results folder (default results/NAME)"
    )
    p.add_argument(
        "--workers", type=checks.count, default=None, help="worker processes (default: cores)"
    )
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=None,
        help="where runs execute (default: a local process pool)",
    )
    p.add_argument(
        "--scheduler",
        type=checks.scheduler_address,
        default=None,
        metavar="ADDRESS",
        help="send runs to an existing Dask cluster (tcp://HOST:PORT)",
    )
    p.add_argument(
        "--scheduler-timeout",
        type=checks.seconds,
        default=None,
        metavar="SECONDS",
        help=f"how long to wait for --scheduler to answer (default "
        f"{checks.DEFAULT_SCHEDULER_TIMEOUT:g})",
    )
    folder = p.add_mutually_exclusive_group()
    folder.add_argument(
        "--resume", action="store_true", help="run only the runs missing from --out"
    )
    folder.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the results in --out (only a folder poolpilot wrote)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument(
        "--title", default=None, help="the report's title (default: from its designs and date)"
    )


def _add_study_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--replicates", type=checks.count, default=10, help="runs per design (default 10)"
    )
    p.add_argument("--seed", type=checks.seed, default=0, help="study seed (default 0)")
    p.add_argument("--months", type=checks.count, default=None, help="override the horizon")
    p.add_argument(
        "--set",
        dest="overrides",
        type=checks.assignment,
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a field (dotted path; list items by name); repeatable",
    )
    p.add_argument(
        "--vary",
        type=checks.field_values,
        action="append",
        default=[],
        metavar="PATH=V1,V2,...",
        help="run each listed value of a field, one field at a time; repeatable",
    )
    p.add_argument(
        "--grid",
        type=checks.field_values,
        action="append",
        default=[],
        metavar="PATH=V1,V2,...",
        help="run every combination of the listed values of these fields; repeatable",
    )
    p.add_argument(
        "--lhs",
        type=checks.count,
        default=None,
        metavar="N",
        help="N Latin hypercube points over --range",
    )
    p.add_argument(
        "--range",
        dest="ranges",
        type=checks.field_range,
        action="append",
        default=[],
        metavar="PATH=LOW,HIGH",
        help="a numeric field's range for --lhs; repeatable",
    )
    _add_execution_options(p)


def parser() -> argparse.ArgumentParser:
    """The command line's parser; every error it finds is one line and exit 2."""
    p = checks.OneLineParser(
        prog="poolpilot",
        description="Simulate pooled-budget integrated funding pilots and compare their designs.",
        epilog="Exit codes: 0 success, 2 bad input (one line per problem), 1 failed runs or an "
        "internal error (POOLPILOT_DEBUG=1 shows its traceback), 130 interrupted.",
    )
    p.add_argument("--version", action="version", version=f"poolpilot {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("list", help="the preset scenarios, one line each")
    s.add_argument("--names", action="store_true", help="names only, space-separated")

    s = sub.add_parser("validate", help="check scenario files; exit 2 with one line per problem")
    s.add_argument("files", nargs="+", metavar="FILE")

    s = sub.add_parser("show", help="print the resolved scenario (after extends and --set)")
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument(
        "--set",
        dest="overrides",
        type=checks.assignment,
        action="append",
        default=[],
        metavar="PATH=VALUE",
    )

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
    s.add_argument("folder", type=checks.results_folder, metavar="DIR")
    s.add_argument(
        "--title", default=None, help="the report's title (default: from its designs and date)"
    )

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
        type=checks.count,
        default=None,
        metavar="N",
        help="sobol base points (a power of two; default 256), morris trajectories (20), "
        "eFAST points per parameter (128) or Latin hypercube rows (512)",
    )
    s.add_argument("--replicates", type=checks.count, default=1, help="runs per point (default 1)")
    s.add_argument("--metrics", type=checks.metric, nargs="+", default=None, metavar="METRIC")
    s.add_argument(
        "--param",
        type=checks.sensitivity_parameter,
        action="append",
        default=[],
        metavar="PATH=SPEC",
        help="a varied field: PATH=LO,HI (bounds) or PATH=A|B|C (levels); replaces the "
        "scenario's sensitivity: parameters; repeatable",
    )
    s.add_argument(
        "--group",
        type=checks.group,
        action="append",
        default=[],
        metavar="PATH=NAME",
        help="group a parameter",
    )
    s.add_argument("--seed", type=checks.seed, default=0, help="sampler, study and bootstrap seed")
    s.add_argument("--months", type=checks.count, default=None, help="override the horizon")
    _add_execution_options(s)
    exploring.add_commands(sub, _add_execution_options)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit code, whatever happens (also for a parser error,
    ``--help`` and ``--version``, which argparse ends with SystemExit)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parser().parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else BAD_INPUT if stop.code else 0
    args.argv = argv
    with _warnings_on_one_line():
        try:
            if args.command in STUDIES:
                checks.check_study(args)
            return COMMANDS[args.command](args)
        except BrokenPipeError:
            # the reader went away (``poolpilot list | head``): nothing more to say to it
            with contextlib.suppress(Exception):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        except Exception as exc:
            lines, code = checks.failure(exc, checks.sources(args), f"poolpilot {args.command}")
        except KeyboardInterrupt as exc:
            lines, code = checks.failure(exc)
    for line in lines:
        print(line, file=sys.stderr)
    return code


@contextlib.contextmanager
def _warnings_on_one_line() -> Iterator[None]:
    """Warnings as ``poolpilot: warning: ...`` lines, without Python's file and source line."""
    original = warnings.showwarning

    def show(message: Any, category: type[Warning], *_: Any, **__: Any) -> None:
        text = one_line(str(message))
        if not issubclass(category, ScenarioWarning):
            text = f"{category.__name__}: {text}"
        print(f"poolpilot: warning: {text}", file=sys.stderr)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = original


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
            for line in checks.problem_lines(err):
                print(line, file=sys.stderr)
        else:
            print(f"{file}: ok")
    return BAD_INPUT if bad else 0


def cmd_show(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    print(f"# content hash: {content_hash(scenario)}")
    print(yaml.safe_dump(to_data(scenario), sort_keys=False, width=100), end="")
    return 0


def _command(args: argparse.Namespace) -> str:
    """The command as typed, for the manifest (quoted so it can be pasted back)."""
    return shlex.join(["poolpilot", *args.argv])


def _executor(args: argparse.Namespace) -> str | None:
    """``--executor``; Dask whenever ``--scheduler`` is given (``--workers 1`` alone would
    otherwise choose the serial executor, which has no scheduler)."""
    return "dask" if args.scheduler is not None else args.executor


def _scheduler(args: argparse.Namespace) -> Any:
    """``--scheduler`` with its ``--scheduler-timeout``, for the executors."""
    if args.scheduler is None:
        return None
    from poolpilot.runs.executors import Scheduler

    timeout = args.scheduler_timeout or checks.DEFAULT_SCHEDULER_TIMEOUT
    return Scheduler(args.scheduler, timeout)


@contextlib.contextmanager
def _scheduler_named() -> Iterator[None]:
    """An unreachable scheduler is the ``--scheduler`` option's problem: say so."""
    from poolpilot.runs.executors import SchedulerUnreachable

    try:
        yield
    except SchedulerUnreachable as err:
        raise ValueError(f"--scheduler {err.address}: {err.problem}") from None


def _folder_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--resume`` and ``--overwrite`` (checked not to come together before this)."""
    return {"resume": args.resume, "overwrite": args.overwrite}


def _study(args: argparse.Namespace, scenarios: list[str], compare: bool) -> int:
    from poolpilot.cli.summary import study_summary
    from poolpilot.runs import study

    options: dict[str, Any] = dict(
        replicates=args.replicates,
        seed=args.seed,
        months=args.months,
        overrides=args.overrides,
        workers=args.workers,
        executor=_executor(args),
        scheduler=_scheduler(args),
        progress="none" if args.quiet else "auto",
        command=_command(args),
        vary=dict(args.vary) or None,
        grid=dict(args.grid) or None,
        **_folder_options(args),
    )
    if args.lhs is not None:
        options["lhs"], options["ranges"] = args.lhs, dict(args.ranges)
    name = "compare" if compare else Path(scenarios[0]).stem
    options["out"] = args.out or Path("results") / name
    with _scheduler_named():
        if compare:
            baselines = {"baseline": not args.no_baseline, "ideal_baseline": args.ideal_baseline}
            result = study.compare(scenarios, **baselines, **options)
        else:
            result = study.run(scenarios[0], **options)
    write_report(result.folder, args.quiet, args.title)
    summary = result.summary
    if not args.quiet or summary.failed or summary.interrupted:
        print(summary, file=sys.stderr)
    if not args.quiet:
        print(study_summary(result.runs, result.folder))
    print(f"results: {result.folder}")
    if summary.interrupted:
        return INTERRUPTED
    return 1 if summary.failed else 0


def cmd_run(args: argparse.Namespace) -> int:
    return _study(args, [args.scenario], compare=False)


def cmd_compare(args: argparse.Namespace) -> int:
    return _study(args, args.scenarios, compare=True)


def cmd_report(args: argparse.Namespace) -> int:
    path = write_report(args.folder, title=args.title)
    print(f"report: {path}")
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from poolpilot.analysis import sensitivity

    parameters, groups = sensitivity.parse_options(args.param, args.group)
    out = args.out or Path("results") / f"{Path(args.scenario).stem}-sensitivity"
    try:
        with _scheduler_named(), library_warnings_hidden():
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
                executor=_executor(args),
                progress="none" if args.quiet else "auto",
                months=args.months,
                groups=groups,
                scheduler=_scheduler(args),
                command=_command(args),
                **_folder_options(args),
            )
    except sensitivity.IncompleteStudyError as err:
        print(f"poolpilot: {one_line(str(err))}", file=sys.stderr)
        return INTERRUPTED if err.summary.interrupted else 1
    write_report(
        result.folder, args.quiet, args.title
    )  # the analysis writes no report: it comes after
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


def _execution(args: argparse.Namespace) -> dict[str, Any]:
    """Where the runs go and what happens to the folder, as the studies layer takes them."""
    return dict(
        workers=args.workers,
        executor=_executor(args),
        scheduler=_scheduler(args),
        progress="none" if args.quiet else "auto",
        command=_command(args),
        **_folder_options(args),
    )


def cmd_explore(args: argparse.Namespace) -> int:
    with _scheduler_named():
        return exploring.cmd_explore(args, _execution(args))


def cmd_robust(args: argparse.Namespace) -> int:
    with _scheduler_named():
        return exploring.cmd_robust(args, _execution(args))


COMMANDS = {
    "explore": cmd_explore,
    "robust": cmd_robust,
    "discover": exploring.cmd_discover,
    "list": cmd_list,
    "validate": cmd_validate,
    "show": cmd_show,
    "run": cmd_run,
    "compare": cmd_compare,
    "report": cmd_report,
    "sensitivity": cmd_sensitivity,
}
#: The commands that run a study (their options are checked together before it starts).
STUDIES = ("run", "compare", "sensitivity", "explore", "robust")
