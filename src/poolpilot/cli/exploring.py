"""``poolpilot explore`` and ``poolpilot discover``: when does the pool pay?

``explore`` runs one design across sampled futures, every lever setting and the status quo in
each (`poolpilot.analysis.exploration`); ``discover`` finds the boxes of futures where a
condition on the outcomes holds (`poolpilot.analysis.discovery_study`) and writes its tables,
figures and report section into the exploration folder.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from poolpilot.cli import checks


def add_commands(sub: Any, execution_options: Any) -> None:
    """The three commands' parsers (``execution_options`` adds --out, --workers, ...)."""
    s = sub.add_parser(
        "explore",
        help="one design across sampled futures, each lever setting beside the status quo",
        description="Latin hypercube futures over --uncertain ranges; in each future every "
        "combination of the --lever values (or --settings N of them, sampled) and the no-pool "
        "status quo run at the future's seed (common random numbers). Metrics only.",
    )
    s.add_argument("scenario", metavar="SCENARIO", help="a scenario file or a preset name")
    _add_sampling(s, futures=200)
    s.add_argument(
        "--settings",
        type=checks.count,
        default=None,
        metavar="N",
        help="lever settings sampled from every combination of the --lever values, without "
        "replacement (default: every combination runs)",
    )
    s.add_argument(
        "--lever-range",
        type=checks.field_range,
        action="append",
        default=[],
        metavar="PATH=LOW,HIGH",
        help="a numeric governance choice sampled in its range: the --settings N settings "
        "are then a Latin hypercube over these and the --lever values; repeatable",
    )
    execution_options(s)

    s = sub.add_parser(
        "robust",
        help="lever settings that hold up across sampled futures (NSGA-II, pymoo)",
        description="Searches the --lever values for settings no other beats on every "
        "--objective, each judged across the same futures by --measure: mean, "
        "percentile:Q (reached in all but Q%% of futures) or regret (maximum regret).",
    )
    s.add_argument("scenario", metavar="SCENARIO", help="a scenario file or a preset name")
    _add_sampling(s, futures=50)
    s.add_argument(
        "--objective",
        type=_objective,
        action="append",
        default=[],
        metavar="METRIC:max|min",
        help="an outcome to maximise or minimise; repeatable",
    )
    s.add_argument("--measure", type=_measure, default="mean", help="mean, percentile:Q, regret")
    s.add_argument("--population", type=checks.count, default=12, help="candidates a generation")
    s.add_argument("--generations", type=checks.count, default=5, help="generations (default 5)")
    execution_options(s)

    s = sub.add_parser(
        "discover",
        help="the boxes of futures where a condition holds (PRIM), into the folder",
        description="Scenario discovery on an exploration folder: writes boxes, box_limits "
        "and trajectory (Parquet and CSV), discovery_*.svg and discovery.html into "
        "DIR/discoveries/NAME, a folder of its own for each condition and setting.",
    )
    s.add_argument("folder", type=checks.results_folder, metavar="DIR")
    s.add_argument(
        "--where",
        required=True,
        metavar="CONDITION",
        help='a condition on the outcomes, e.g. "return_on_pool > 0"',
    )
    s.add_argument(
        "--threshold", type=_share, default=0.8, help="density a box must reach (default 0.8)"
    )
    s.add_argument(
        "--min-mass", type=_share, default=0.05, help="smallest box, a share of runs (0.05)"
    )
    s.add_argument(
        "--name",
        type=_folder_name,
        default=None,
        help="the discovery's folder under DIR/discoveries (default: the condition spelled out)",
    )


def _add_sampling(s: Any, futures: int) -> None:
    """Uncertainties, levers, futures, seed, horizon and overrides: explore and robust."""
    s.add_argument(
        "--uncertain",
        type=checks.field_range,
        action="append",
        default=[],
        metavar="PATH=LOW,HIGH",
        help="an uncertain numeric field and its range; repeatable",
    )
    s.add_argument(
        "--lever",
        type=checks.field_values,
        action="append",
        default=[],
        metavar="PATH=V1,V2,...",
        help="a governance choice and its options (every combination runs); repeatable",
    )
    s.add_argument(
        "--runs",
        type=checks.count,
        default=futures,
        metavar="N",
        help=f"futures sampled (default {futures})",
    )
    s.add_argument("--seed", type=checks.seed, default=0, help="sampling and run seed")
    s.add_argument("--months", type=checks.count, default=None, help="override the horizon")
    s.add_argument(
        "--set",
        dest="overrides",
        type=checks.assignment,
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a field of the design; repeatable",
    )


def _folder_name(text: str) -> str:
    """A plain folder name: letters, digits, dots, dashes and underscores, not only dots."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", text) or set(text) == {"."}:
        raise argparse.ArgumentTypeError(
            f"must be a plain folder name of letters, digits, '.', '-' or '_' (given {text!r})"
        )
    return text


def _objective(text: str) -> Any:
    from poolpilot.analysis.robustness import Objective

    return _as_argument(Objective.parse, text)


def _measure(text: str) -> str:
    from poolpilot.analysis.robustness import parse_measure

    _as_argument(parse_measure, text)
    return text


def _as_argument(parse: Any, text: str) -> Any:
    """``parse(text)``, its ValueError as argparse's error (the flag is named by argparse)."""
    try:
        return parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).partition(": ")[2]) from None


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number in (0, 1] (given {text!r})") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"a number in (0, 1] (given {text!r})")
    return value


def cmd_explore(args: argparse.Namespace, options: dict[str, Any]) -> int:
    from poolpilot.analysis.exploration import Exploration, expected_runs, explore
    from poolpilot.runs.study import prepare_design

    if not args.uncertain and not args.lever and not args.lever_range:
        raise ValueError("explore needs at least one --uncertain, --lever or --lever-range")
    if args.settings is not None and not args.lever and not args.lever_range:
        raise ValueError("--settings samples lever settings: give a --lever or --lever-range")
    if args.lever_range and args.settings is None:
        raise ValueError("--lever-range needs --settings N: how many settings to sample")
    overlap = set(dict(args.lever)) & set(dict(args.lever_range))
    if overlap:
        raise ValueError(f"{sorted(overlap)[0]}: give it as --lever or --lever-range, not both")
    design = prepare_design(args.scenario, args.overrides, args.months)
    exploration = Exploration(
        dict(args.uncertain),
        dict(args.lever),
        args.runs,
        args.seed,
        args.settings,
        dict(args.lever_range),
    )
    _check_fields(design, args)
    out = args.out or Path("results") / f"{Path(args.scenario).stem}-explore"
    if not args.quiet:
        print(
            f"exploring {expected_runs(exploration)} runs ({_settings_words(exploration)})",
            file=sys.stderr,
        )
    result = explore(design, exploration, out=out, **options)
    if not args.quiet or result.summary.failed:
        print(result.summary, file=sys.stderr)
    _report(result.folder, args.quiet)
    print(f"results: {result.folder}")
    return 1 if result.summary.failed else 0


def _settings_words(exploration: Any) -> str:
    """How many lever settings each future runs, and whether they are the whole grid."""
    grid, run = exploration.combinations(), len(exploration.settings())
    if grid is None:
        return f"{run} lever settings sampled in the levers' ranges, and the status quo in each"
    if run < grid:
        return f"{run} of {grid} lever settings, sampled, and the status quo in each future"
    return f"{run} lever setting{'s' * (run != 1)} and the status quo in each future"


def _check_fields(design: Any, args: argparse.Namespace) -> None:
    """Each --uncertain and --lever field applied alone, at its ends: problems name the flag."""
    from poolpilot.analysis.exploration import Exploration, plan_exploration
    from poolpilot.scenario import ScenarioError

    tries = [("--uncertain", p, {p: r}, {}) for p, r in args.uncertain]
    tries += [("--lever", p, {}, {p: v}) for p, v in args.lever]
    ranges = getattr(args, "lever_range", [])  # explore's alone: robust searches listed values
    tries += [("--lever-range", p, {}, {p: list(r)}) for p, r in ranges]  # at its two ends
    problems = []
    for flag, path, uncertain, lever in tries:
        try:
            plan_exploration(design, Exploration(uncertain, lever, 2, 0))
        except ScenarioError as err:
            problems += [f"{flag} {path}: {p.path}: {p.message}" for p in err.problems[:1]]
        except (KeyError, ValueError, TypeError) as err:  # a path that leads nowhere
            problems.append(f"{flag} {path}: {str(err).strip(chr(34))}")
    if problems:
        raise ValueError("; ".join(problems))


def cmd_robust(args: argparse.Namespace, options: dict[str, Any]) -> int:
    from poolpilot.analysis.robust_search import robust_search
    from poolpilot.report.robust import write_robust
    from poolpilot.runs.study import prepare_design

    if not args.lever:
        raise ValueError("robust needs at least one --lever to search")
    if not args.objective:
        raise ValueError("robust needs at least one --objective METRIC:max|min")
    design = prepare_design(args.scenario, args.overrides, args.months)
    _check_fields(design, args)
    out = args.out or Path("results") / f"{Path(args.scenario).stem}-robust"
    found = robust_search(
        design,
        dict(args.uncertain),
        dict(args.lever),
        args.objective,
        measure=args.measure,
        futures=args.runs,
        population=args.population,
        generations=args.generations,
        seed=args.seed,
        out=out,
        **options,
    )
    written = write_robust(found)
    front = found.front
    print(f"{len(front)} non-dominated of {len(found.candidates)} candidates ({args.measure}):")
    print(
        front.drop(columns=["non_dominated"]).to_string(index=False, float_format="{:.3g}".format)
    )
    print(f"section: {written['section']}")
    _report(found.folder, args.quiet)
    print(f"results: {found.folder}")
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    from poolpilot.analysis.discovery_study import discover
    from poolpilot.report.discovery import write_discovery

    found = discover(args.folder, args.where, threshold=args.threshold, min_mass=args.min_mass)
    written = write_discovery(args.folder, found, name=args.name)
    print(f"{args.where}: {found.cases} of {found.futures} runs")
    for row in found.box_table().itertuples():
        print(f"box {row.box}: {row.rule} (coverage {row.coverage:.2f}, density {row.density:.2f})")
        print(f"  {row.sentence}")
    if not found.boxes:
        print("no box reached the density asked for (--threshold)")
    print(f"section: {written['section']}")
    _report(args.folder, quiet=False)
    return 0


def _report(folder: Path, quiet: bool) -> None:
    """Write (or refresh) the folder's report.html: an exploration's report shows what
    ``explore``, ``discover`` and ``robust`` found there so far."""
    from poolpilot.cli.reporting import write_report

    path = write_report(folder, quiet)
    if not quiet:
        print(f"report: {path}")
