"""Checks of the command line, and what each failure prints and exits with.

A pilot designer who mistypes an option should read one line that names the option and says
what is wrong, and nothing else: no usage block, no traceback. So every option is checked when
it is parsed (the ``type=`` validators below, which argparse reports as ``argument --flag:
...``), options that only make sense together are checked right after (`check_study`), and
whatever a command raises is turned into lines and an exit code by `failure`:

* bad input (``ValueError``, which includes ``ScenarioError``, and ``OSError``): one line per
  problem, exit 2;
* Ctrl-C: ``poolpilot: interrupted``, exit 130;
* anything else is a bug: one line naming it, exit 1, and the traceback only with
  ``POOLPILOT_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import math
import os
import re
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from poolpilot.scenario import Problem, ScenarioError, list_presets, locate, parse_assignment

#: Exit codes of the contract (docs: DESIGN.md).
BAD_INPUT = 2
FAILED = 1
INTERRUPTED = 130

#: Set to 1 to see the traceback of an internal error.
DEBUG_VARIABLE = "POOLPILOT_DEBUG"

#: Seconds to wait for a Dask scheduler given by ``--scheduler`` (``--scheduler-timeout``).
DEFAULT_SCHEDULER_TIMEOUT = 10.0


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose every error is one line: ``poolpilot run: error: ...``.

    argparse prints its usage block before the error; with several lines per mistake the line
    that matters is lost, so the usage is left to ``--help``.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(BAD_INPUT, f"{self.prog}: error: {one_line(message)}\n")


def one_line(text: str) -> str:
    """A message on one line: its lines joined with '; ' (a terminal reader scans lines)."""
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


# --- option values -----------------------------------------------------------------------------


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number (given {text!r})") from None


def count(text: str) -> int:
    """A count of at least 1: replicates, workers, months, Latin hypercube points, samples."""
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (given {value})")
    return value


def seed(text: str) -> int:
    """A study seed: a whole number of 0 or more (numpy's SeedSequence refuses negatives)."""
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a whole number of 0 or more (given {value})")
    return value


def seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds (given {text!r})") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds (given {text})")
    return value


def _split(text: str, form: str) -> tuple[str, str]:
    """``path=value`` split at the first ``=``, both sides present, else the expected form."""
    path, equals, raw = text.partition("=")
    if not equals or not path.strip() or not raw.strip():
        raise argparse.ArgumentTypeError(f"expected {form} (given {text!r})")
    return path.strip(), raw.strip()


def assignment(text: str) -> str:
    """A ``--set PATH=VALUE`` override; the scenario layer reads the value (as YAML)."""
    path, equals, _ = text.partition("=")
    if not equals or not path.strip():
        raise argparse.ArgumentTypeError(f"expected PATH=VALUE (given {text!r})")
    return text


def field_values(text: str) -> tuple[str, list[Any]]:
    """A ``--vary`` or ``--grid`` option: ``PATH=V1,V2,...``, each value read as YAML."""
    path, raw = _split(text, "PATH=V1,V2,...")
    parts = [part.strip() for part in raw.split(",")]
    if not all(parts):
        raise argparse.ArgumentTypeError(f"an empty value in {text!r}")
    return path, [parse_assignment(f"x={part}")[1] for part in parts]


def field_range(text: str) -> tuple[str, tuple[float, float]]:
    """A ``--range PATH=LOW,HIGH`` option: two finite numbers, low below high."""
    path, raw = _split(text, "PATH=LOW,HIGH")
    try:
        low, high = (float(part) for part in raw.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected PATH=LOW,HIGH with two numbers (given {text!r})"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise argparse.ArgumentTypeError(f"the bounds must be finite (given {text!r})")
    if not low < high:
        raise argparse.ArgumentTypeError(
            f"{path}: low must be below high (given {low:g}, {high:g})"
        )
    return path, (low, high)


def sensitivity_parameter(text: str) -> str:
    """A ``--param`` option: ``PATH=LO,HI`` (bounds) or ``PATH=A|B|C`` (levels).

    Only its form is checked here; whether the scenario accepts the values is the analysis's
    check, which sees the field.
    """
    path, raw = _split(text, "path=lo,hi or path=a|b")
    if "|" in raw:
        if not all(level.strip() for level in raw.split("|")):
            raise argparse.ArgumentTypeError(f"an empty level in {text!r}")
        return text
    try:
        low, high = (float(part) for part in raw.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: bounds must be two numbers lo,hi (or levels a|b|c)"
        ) from None
    if not low < high:
        raise argparse.ArgumentTypeError(f"{path}: lo must be below hi (given {low:g}, {high:g})")
    return text


def group(text: str) -> str:
    """A ``--group PATH=NAME`` option."""
    _split(text, "path=name")
    return text


def metric(text: str) -> str:
    """A metric name of the registry (`poolpilot.model.metrics.METRICS`)."""
    from poolpilot.model.metrics import METRIC_NAMES

    if text not in METRIC_NAMES:
        raise argparse.ArgumentTypeError(f"unknown metric {text!r}{_hint(text, METRIC_NAMES)}")
    return text


#: ``tcp://host:port`` or ``host:port``; an IPv6 host in brackets.
ADDRESS = re.compile(r"^(?:tcp://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d+)$")


def scheduler_address(text: str) -> str:
    """A Dask scheduler's address: ``tcp://host:port`` or ``host:port``, port 1 to 65535."""
    found = ADDRESS.match(text.strip())
    if not found or not 0 < int(found["port"]) < 65536:
        raise argparse.ArgumentTypeError(
            f"expected tcp://HOST:PORT or HOST:PORT, port 1 to 65535 (given {text!r})"
        )
    return text.strip()


def out_folder(text: str) -> Path:
    """A results folder to write: anything but an existing file."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a file, not a results folder")
    return path


def results_folder(text: str) -> Path:
    """An existing results folder (one that holds runs.parquet)."""
    path = Path(text)
    if not path.is_dir():
        what = "is a file, not a results folder" if path.exists() else "no such folder"
        raise argparse.ArgumentTypeError(f"{text}: {what}")
    if not (path / "runs.parquet").exists():
        raise argparse.ArgumentTypeError(f"{text}: not a results folder (no runs.parquet)")
    return path


def _hint(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    return f" (did you mean {', '.join(close)}?)" if close else ""


# --- options that go together ------------------------------------------------------------------


class OptionError(ValueError):
    """Options that do not go together; printed like argparse's own errors."""


def check_study(args: argparse.Namespace) -> None:
    """Options of ``run``, ``compare`` and ``sensitivity`` that only make sense together.

    Each would otherwise be ignored in silence, and the designer would read results of a
    study other than the one asked for. Raises `OptionError` for the first one found.
    """
    lhs, ranges = getattr(args, "lhs", None), getattr(args, "ranges", None) or []
    if ranges and lhs is None:
        _refuse("--range is for --lhs N: add --lhs, or use --vary/--grid for set values")
    if lhs is not None and not ranges:
        _refuse("--lhs needs at least one --range PATH=LOW,HIGH")
    if getattr(args, "scheduler", None) is not None and args.executor in ("serial", "process"):
        _refuse(f"--scheduler sends runs to a Dask cluster: not with --executor {args.executor}")
    if getattr(args, "scheduler_timeout", None) is not None and args.scheduler is None:
        _refuse("--scheduler-timeout is for --scheduler ADDRESS")
    for flag in ("vary", "grid", "ranges", "uncertain", "lever"):
        paths = [path for path, _ in getattr(args, flag, None) or []]
        twice = sorted({p for p in paths if paths.count(p) > 1})
        if twice:
            option = "--range" if flag == "ranges" else f"--{flag}"
            _refuse(f"{option} {twice[0]} is given twice: list its values once")
    uncertain = {path for path, _ in getattr(args, "uncertain", None) or []}
    both = sorted(uncertain & {path for path, _ in getattr(args, "lever", None) or []})
    if both:
        _refuse(f"{both[0]} is given as --uncertain and --lever: a field is one or the other")
    scenarios = getattr(args, "scenarios", None) or []
    seen: dict[str, str] = {}
    for name in scenarios:
        key = _design_key(name)
        if key in seen:
            also = f" (as {seen[key]})" if seen[key] != name else ""
            _refuse(f"SCENARIO {name} is given twice{also}: give each design once")
        seen[key] = name


def _refuse(message: str) -> NoReturn:
    raise OptionError(message)


def _design_key(source: str) -> str:
    """The same design whether named as a preset, a path or a path with .yaml left out."""
    try:
        return str(locate(source).resolve())
    except ScenarioError:
        return source


# --- what a failure prints ---------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a value of the scenario came from on the command line: a flag and what was given.

    A problem at that field is the flag's problem, and is printed as ``--set PATH=VALUE: ...``
    so the designer fixes the command, not the file.
    """

    flag: str
    path: str
    given: str

    def covers(self, field_path: str) -> bool:
        """The problem's field is this option's field, a section above it, or inside it."""
        paths = {field_path, field_path.removeprefix("sensitivity.parameters.")}
        return any(
            p == self.path or self.path.startswith(f"{p}.") or p.startswith(f"{self.path}.")
            for p in paths
            if p
        )


def sources(args: argparse.Namespace) -> list[Source]:
    """The fields a command line sets or varies, each with its option (``--set`` first)."""
    out = [
        Source("--set", text.partition("=")[0].strip(), text)
        for text in getattr(args, "overrides", None) or []
    ]
    for flag, attribute in (("--vary", "vary"), ("--grid", "grid"), ("--range", "ranges")):
        for path, values in getattr(args, attribute, None) or []:
            shown = ",".join(str(v) for v in values)
            out.append(Source(flag, path, f"{path}={shown}"))
    for text in getattr(args, "param", None) or []:
        out.append(Source("--param", text.partition("=")[0].strip(), text))
    return out


def problem_lines(err: ScenarioError, given: Sequence[Source] = ()) -> list[str]:
    """One line per problem; a problem with a command-line option names that option.

    A scenario (or ``extends``) that is neither a file nor a preset gets the closest preset
    names.
    """
    lines = []
    for problem in err.problems:
        source = next((s for s in given if problem.path and s.covers(problem.path)), None)
        if source is not None:
            lines.append(f"{source.flag} {source.given}: {one_line(problem.message)}")
        else:
            lines.append(one_line(str(_with_presets(problem))))
    return lines


def _with_presets(problem: Problem) -> Problem:
    if "no such file or preset" not in problem.message:
        return problem
    named = re.search(r"cannot extend '([^']+)'", problem.message)
    name = named[1] if named else problem.file
    hint = _hint(Path(name).stem, [preset for preset, _ in list_presets()])
    return dataclasses.replace(problem, message=problem.message + hint) if hint else problem


def failure(
    exc: BaseException, given: Sequence[Source] = (), command: str = "poolpilot"
) -> tuple[list[str], int]:
    """The lines to print on stderr for an exception a command raised, and the exit code.

    ``command`` is the program name an `OptionError` is printed with (``poolpilot run``). With
    ``POOLPILOT_DEBUG=1`` an internal error is raised again, so its traceback shows, and other
    errors print theirs before their line.
    """
    if isinstance(exc, KeyboardInterrupt):
        return ["poolpilot: interrupted"], INTERRUPTED
    if isinstance(exc, OptionError):
        return [f"{command}: error: {one_line(str(exc))}"], BAD_INPUT
    if isinstance(exc, ScenarioError):
        return problem_lines(exc, given), BAD_INPUT
    if isinstance(exc, ValueError | OSError):
        if os.environ.get(DEBUG_VARIABLE) == "1":
            traceback.print_exception(exc)
        return [f"poolpilot: {_message(exc)}"], BAD_INPUT
    if isinstance(exc, ImportError):  # a missing optional dependency says what to install
        return [f"poolpilot: {_message(exc)}"], FAILED
    if os.environ.get(DEBUG_VARIABLE) == "1":
        raise exc
    name = type(exc).__name__
    return [
        f"poolpilot: internal error: {name}: {_message(exc)} "
        f"(set {DEBUG_VARIABLE}=1 for the traceback)"
    ], FAILED


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    return one_line(str(exc)) or type(exc).__name__
