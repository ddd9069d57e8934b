"""A results folder holds exactly one study: its identity, its manifest, and who may write it.

A study's identity is what decides its numbers: the resolved designs (each with its content
hash and horizon), the study seed, the replicates, the varied points, the kind of runs
(with timeseries and events, or metrics only; a researcher's own model or holder class) and
the poolpilot version. ``manifest.json`` records it when the study *starts*, with
``"complete": false``, and is rewritten when the study stops. A study is complete when every
planned run is in the store, ok or failed (a failed run is recorded with its error and counts
as done: resuming would fail it again), and the batch was not interrupted.

The folder rules, checked before any run (`claim_folder`):

- ``resume=True`` finishes the study in the folder, and refuses another one (`StudyMismatch`,
  naming what differs) or a folder whose runs have no manifest to check them against;
- ``overwrite=True`` deletes what poolpilot wrote there (`WRITTEN`) and starts again;
- neither: a folder already holding a study is refused (`FolderRefused`);
- in every mode, a folder holding files poolpilot did not write, a path that is a file, or a
  folder another process is writing is refused.

Messages are one line and name the command-line flags, since the CLI prints them as they are.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import itertools
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poolpilot._version import __version__
from poolpilot.runs.store import TABLES, ResultsStore, _lock_folder, _unlock_folder
from poolpilot.scenario import content_hash, to_data
from poolpilot.scenario.schema import Scenario

MANIFEST = "manifest.json"
#: The table folders of the store (``runs.parquet`` ...), and what may be inside them.
TABLE_DIRS = tuple(f"{table}.parquet" for table in TABLES)
_TABLE_ENTRY = re.compile(r"^(part-\d+\.parquet|\.tmp-.*)$")
#: Every name poolpilot writes at the top of a results folder: the store's tables and lock, the
#: manifest, the report (`poolpilot.report.REPORT_NAME`), the sensitivity outputs
#: (`poolpilot.analysis.sensitivity.scenario._write_outputs`), and their temporary names.
WRITTEN = re.compile(
    r"^("
    r"(runs|timeseries|events)\.parquet"
    r"|\.lock|manifest\.json(\.tmp)?|report\.html|\.report\.html\.tmp"
    r"|(indices|ranking|convergence|noise)\.(parquet|csv)|sensitivity\.json"
    r"|(sobol|fast|morris)_\w+\.png"
    r"|exploration\.json|(outcomes|boxes|box_limits|trajectory)\.(parquet|csv)"
    r"|discoveries|discovery\.(json|html)|discovery_\w+\.(png|svg)"
    r"|robust_candidates\.(parquet|csv)|robust\.(json|html)|robust_\w+\.svg"
    r")$"
)
#: Written, but no sign of a study: the lock, temporary files, and empty table folders.
_TRIVIAL = re.compile(r"^(\.lock|manifest\.json\.tmp|\.report\.html\.tmp)$")
#: Most names a refusal quotes.
QUOTED = 5


class StudyMismatch(ValueError):
    """``resume`` was asked on a folder holding another study (or one that cannot be checked)."""


class FolderRefused(ValueError):
    """The results folder cannot be used as asked: in use, not poolpilot's, or not a folder."""


@dataclass(frozen=True)
class StudyIdentity:
    """What makes two studies the same study; a folder holds runs of one identity only.

    ``scenarios`` maps each design's name to ``{"hash": ..., "resolved": ...}`` (as in the
    manifest); ``points`` are the varied points, ``[{}]`` when nothing is varied.
    """

    scenarios: dict[str, dict[str, Any]]
    seed: int
    replicates: int
    points: list[dict[str, Any]]
    detail: bool = True
    model: str | None = None
    holder: str | None = None
    version: str = __version__

    @classmethod
    def of_study(
        cls,
        designs: Sequence[Scenario],
        *,
        seed: int,
        replicates: int,
        points: list[dict[str, Any]],
        detail: bool = True,
        model: type | None = None,
        holder: type | None = None,
    ) -> StudyIdentity:
        """The identity of a study about to run."""
        return cls(
            scenarios={
                d.name: {"hash": content_hash(d), "resolved": _plain(to_data(d))} for d in designs
            },
            seed=int(seed),
            replicates=int(replicates),
            points=_plain(points or [{}]),
            detail=bool(detail),
            model=_class_name(model),
            holder=_class_name(holder),
        )

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> StudyIdentity:
        """The identity a manifest records (one written since identities were recorded)."""
        kind = manifest.get("kind") or {}
        return cls(
            scenarios=dict(manifest.get("scenarios") or {}),
            seed=manifest.get("study_seed"),
            replicates=manifest.get("replicates"),
            points=_expand(manifest.get("vary")),
            detail=kind.get("detail", True),
            model=kind.get("model"),
            holder=kind.get("holder"),
            version=manifest.get("poolpilot_version"),
        )

    @property
    def months(self) -> dict[str, Any]:
        """Each design's horizon in months."""
        return {
            name: (entry.get("resolved") or {}).get("horizon_months")
            for name, entry in self.scenarios.items()
        }

    def manifest_fields(self) -> dict[str, Any]:
        """The manifest's keys that record this identity."""
        return {
            "poolpilot_version": self.version,
            "study_seed": self.seed,
            "replicates": self.replicates,
            "months": self.months,
            "kind": {"detail": self.detail, "model": self.model, "holder": self.holder},
            "scenarios": self.scenarios,
        }

    def differences(self, wanted: StudyIdentity) -> list[str]:
        """What differs from the ``wanted`` study, briefly, this one's value first."""
        found = _design_differences(self, wanted)
        have_months, want_months = self.months, wanted.months
        shared = [name for name in self.scenarios if name in wanted.scenarios]
        moved = [name for name in shared if have_months[name] != want_months[name]]
        if moved:
            pairs = {(have_months[n], want_months[n]) for n in moved}
            if len(pairs) == 1:
                ((a, b),) = pairs
                found.append(f"months {a}, not {b}")
            else:
                found += [
                    f"design {n}: months {have_months[n]}, not {want_months[n]}" for n in moved
                ]
        for label, a, b in (
            ("seed", self.seed, wanted.seed),
            ("replicates", self.replicates, wanted.replicates),
        ):
            if a != b:
                found.append(f"{label} {a}, not {b}")
        found += _point_differences(self.points, wanted.points)
        changed = []
        for name in shared:
            have, want = self.scenarios[name], wanted.scenarios[name]
            if have.get("hash") == want.get("hash"):
                continue
            fields = _changed_fields(have.get("resolved") or {}, want.get("resolved") or {})
            if name in moved and not fields:
                continue  # the horizon explains the hash
            hashes = f"scenario hash {have.get('hash')}, not {want.get('hash')}"
            if fields:
                changed.append(f"design {name} differs in {', '.join(fields)} ({hashes})")
            else:
                changed.append(f"design {name}: {hashes}")
        found += changed[:3] + ([f"{len(changed) - 3} more designs changed"] * (len(changed) > 3))
        if self.detail != wanted.detail:
            kinds = {True: "runs with timeseries and events", False: "metrics-only runs"}
            found.append(f"{kinds[self.detail]}, not {kinds[wanted.detail]}")
        for label, a, b in (
            ("model", self.model, wanted.model),
            ("holder", self.holder, wanted.holder),
        ):
            if a != b:
                found.append(f"{label} {a or 'the default'}, not {b or 'the default'}")
        if self.version != wanted.version:
            found.append(f"poolpilot {self.version}, not {wanted.version}")
        return found


@dataclass(frozen=True)
class StudyStatus:
    """How far a folder's study got: runs stored, runs planned (None: unknown), complete."""

    runs_done: int
    runs_planned: int | None
    complete: bool


def study_status(manifest: Mapping[str, Any] | None, stored: int) -> StudyStatus:
    """A study's status from its manifest and the number of runs in its store.

    Without a manifest (an older poolpilot, or not a study) nothing says what was planned:
    incomplete, planned unknown. A manifest from before studies were marked complete records
    the runs planned only: complete when they are all stored.
    """
    if not manifest:
        return StudyStatus(stored, None, False)
    if "runs_planned" not in manifest:
        planned = manifest.get("runs")
        planned = int(planned) if isinstance(planned, int) else None
        return StudyStatus(stored, planned, planned is not None and stored >= planned)
    planned = int(manifest["runs_planned"])
    return StudyStatus(stored, planned, bool(manifest.get("complete")) and stored >= planned)


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The folder's manifest, or None when it has none."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def folder_status(folder: str | os.PathLike[str]) -> StudyStatus:
    """The status of the study in a results folder, read without locking or changing it."""
    stored = len(ResultsStore(folder, readonly=True).completed_keys())
    return study_status(read_manifest(folder), stored)


def write_manifest(
    folder: Path,
    identity: StudyIdentity,
    *,
    runs_planned: int,
    runs_done: int,
    complete: bool,
    command: str,
    seeds: Sequence[int],
    previous: Mapping[str, Any] | None = None,
) -> None:
    """Write manifest.json atomically; a resumed study keeps its first command and start."""
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    before = previous or {}
    manifest = {
        **identity.manifest_fields(),
        "command": before.get("command") or command,
        "created": before.get("created") or now,
        "updated": now,
        "seeds": list(seeds),
        "vary": _vary(identity.points),
        "runs": runs_planned,
        "runs_planned": runs_planned,
        "runs_done": runs_done,
        "complete": bool(complete),
    }
    tmp = folder / f"{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, default=str))
    tmp.replace(folder / MANIFEST)


# -- the folder ---------------------------------------------------------------------------


@contextlib.contextmanager
def claim_folder(
    folder: Path, identity: StudyIdentity, *, resume: bool = False, overwrite: bool = False
) -> Iterator[dict[str, Any] | None]:
    """Hold ``folder`` for a study of ``identity``, as the module docstring's rules say.

    Yields the manifest the study continues (resume) or None, with the folder locked against
    other processes until the block ends. Raises `FolderRefused` or `StudyMismatch`.
    """
    if resume and overwrite:
        raise ValueError(
            "--resume and --overwrite exclude each other: resume finishes the study in the "
            "folder, overwrite replaces it"
        )
    if folder.exists() and not folder.is_dir():
        raise FolderRefused(f"{folder}: is a file, not a folder")
    foreign = foreign_files(folder)
    if foreign:
        more = ", ..." if len(foreign) > QUOTED else ""
        raise FolderRefused(
            f"{folder}: holds files poolpilot did not write ({', '.join(foreign[:QUOTED])}"
            f"{more}); choose an empty folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
    try:
        lock = _lock_folder(folder)
    except BlockingIOError:
        raise FolderRefused(
            f"{folder}: another poolpilot study is writing this folder "
            "(wait for it or choose another --out)"
        ) from None
    try:
        try:
            manifest = read_manifest(folder)
        except ValueError as err:  # not JSON: written by hand, or by something else
            if not overwrite:
                raise FolderRefused(
                    f"{folder}: manifest.json cannot be read ({err}); "
                    "pass --overwrite to replace the study or choose another --out"
                ) from None
            manifest = None
        if overwrite:
            remove_written(folder)
            manifest = None
        elif holds_study(folder):
            if not resume:
                raise FolderRefused(_held(folder, manifest))
            _check_resume(folder, manifest, identity)
        yield manifest if resume else None
    finally:
        _unlock_folder(lock)


def foreign_files(folder: Path) -> list[str]:
    """Entries of ``folder`` poolpilot did not write (names relative to it), sorted."""
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(os.listdir(folder)):
        if not WRITTEN.match(entry):
            found.append(entry)
        elif entry in TABLE_DIRS and (folder / entry).is_dir():
            inner = sorted(os.listdir(folder / entry))
            found += [f"{entry}/{name}" for name in inner if not _TABLE_ENTRY.match(name)]
    return found


def holds_study(folder: Path) -> bool:
    """Whether poolpilot left a study here: a manifest, stored tables or outputs."""
    for entry in os.listdir(folder):
        path = folder / entry
        if _TRIVIAL.match(entry):
            continue
        if entry in TABLE_DIRS and path.is_dir():
            if any(not name.startswith(".") for name in os.listdir(path)):
                return True
            continue
        return True
    return False


def remove_written(folder: Path) -> None:
    """Delete what poolpilot wrote in ``folder``, except the lock (held by this study)."""
    for entry in os.listdir(folder):
        path = folder / entry
        if entry == ".lock" or not WRITTEN.match(entry):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def _held(folder: Path, manifest: Mapping[str, Any] | None) -> str:
    if manifest is None and _has_runs(folder):
        return (
            f"{folder}: already holds runs of a study without a manifest (an older poolpilot "
            "made it); pass --overwrite to replace it or choose another --out"
        )
    return (
        f"{folder}: already holds a study; pass --resume to finish it or --overwrite to replace it"
    )


def _check_resume(folder: Path, manifest: Mapping[str, Any] | None, wanted: StudyIdentity) -> None:
    refused = f"{folder}: --resume refused:"
    advice = "use another --out or --overwrite"
    if manifest is None or "runs_planned" not in manifest:
        if manifest is None and not _has_runs(folder):
            return  # only outputs, no runs: nothing to mix into
        what = "no manifest.json" if manifest is None else "a manifest.json from an older poolpilot"
        raise StudyMismatch(
            f"{refused} this folder's runs have {what}, so their study cannot be checked; {advice}"
        )
    found = StudyIdentity.from_manifest(manifest).differences(wanted)
    if found:
        raise StudyMismatch(
            f"{refused} this folder holds another study ({'; '.join(found)}); {advice}"
        )


def _has_runs(folder: Path) -> bool:
    runs = folder / "runs.parquet"
    if runs.is_file():
        return True
    return runs.is_dir() and any(n.startswith("part-") for n in os.listdir(runs))


# -- comparing ------------------------------------------------------------------------------


def _design_differences(have: StudyIdentity, wanted: StudyIdentity) -> list[str]:
    extra = [n for n in have.scenarios if n not in wanted.scenarios]
    missing = [n for n in wanted.scenarios if n not in have.scenarios]
    if extra and missing:
        return [f"designs {', '.join(extra)}, not {', '.join(missing)}"]
    if missing:
        return [f"no design {', '.join(missing)}"]
    if extra:
        return [f"an extra design {', '.join(extra)}"]
    return []


def _point_differences(have: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> list[str]:
    """The varied points compared as sets: their order does not change a study's runs."""
    if sorted(map(_text, have)) == sorted(map(_text, wanted)):
        return []
    have_paths, want_paths = _paths(have), _paths(wanted)
    if have_paths != want_paths:
        return [
            f"varied {', '.join(have_paths) or 'nothing'}, not {', '.join(want_paths) or 'nothing'}"
        ]
    if len(have) != len(wanted):
        return [f"{len(have)} varied points, not {len(wanted)}"]
    theirs = sorted(map(_text, wanted))
    first = next(p for p in map(_text, have) if p not in theirs)
    other = next(p for p in theirs if p not in set(map(_text, have)))
    return [f"varied values {_short(first)}, not {_short(other)}"]


def _changed_fields(have: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """Top-level fields that differ (one level deeper for sections), the horizon left out.

    When the horizons differ, shocks beyond the shorter one are dropped from both first:
    shortening a study drops them, so they are explained by the months.
    """
    have, wanted = dict(have), dict(wanted)
    a, b = have.pop("horizon_months", None), wanted.pop("horizon_months", None)
    if a != b and isinstance(a, int) and isinstance(b, int):
        have, wanted = _early_shocks(have, min(a, b)), _early_shocks(wanted, min(a, b))
    fields = []
    for key in dict.fromkeys([*have, *wanted]):
        x, y = have.get(key), wanted.get(key)
        if x == y:
            continue
        if isinstance(x, dict) and isinstance(y, dict):
            fields += [f"{key}.{k}" for k in dict.fromkeys([*x, *y]) if x.get(k) != y.get(k)]
        else:
            fields.append(key)
    return fields[:4] + (["..."] if len(fields) > 4 else [])


def _early_shocks(resolved: dict[str, Any], months: int) -> dict[str, Any]:
    population = resolved.get("population")
    if not isinstance(population, dict):
        return resolved
    segments = [
        {**s, "shocks": [k for k in s.get("shocks") or [] if k.get("month", 0) <= months]}
        for s in population.get("segments") or []
    ]
    return {**resolved, "population": {**population, "segments": segments}}


def _paths(points: list[dict[str, Any]]) -> list[str]:
    return sorted({path for point in points for path in point})


def _text(point: dict[str, Any]) -> str:
    return json.dumps(point, sort_keys=True, default=str)


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _plain(value: Any) -> Any:
    """The value as JSON would read it back, so a manifest compares equal to a live study."""
    return json.loads(json.dumps(value, default=str))


def _expand(vary: Any) -> list[dict[str, Any]]:
    """The varied points of a manifest's ``vary`` (a grid, a list of points, or nothing)."""
    if isinstance(vary, dict) and vary:
        combos = itertools.product(*vary.values())
        return [dict(zip(vary, values, strict=True)) for values in combos]
    if isinstance(vary, list) and vary:
        return [dict(point) for point in vary]
    return [{}]


def _vary(points: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    return None if points == [{}] else points


def _class_name(cls: type | None) -> str | None:
    return None if cls is None else f"{cls.__module__}.{cls.__qualname__}"
