"""The results store: a folder of Parquet datasets that a study appends to chunk by chunk.

Layout of a results folder::

    runs.parquet/part-000000.parquet ...        one line per run (ok and failed)
    timeseries.parquet/part-000000.parquet ...  tidy monthly series (TIMESERIES_COLUMNS)
    events.parquet/part-000000.parquet ...      audit events (EVENT_COLUMNS)
    manifest.json                               written by the study layer, not here
    .lock                                       held while a store is open for writing

A chunk of runs is written as one part per table under the same part number, timeseries and
events first, runs last: the runs part is the commit marker. Every file is written under a
hidden temporary name, fsynced and renamed into place, so a study killed at any moment leaves
whole files only; timeseries/events parts without their runs part are removed when the folder
is next opened for writing and are never read. The first part of each table is widened to the
union of all columns seen so far, so a plain ``pandas.read_parquet(folder / "runs.parquet")``
sees every column even when the first chunk held failed runs only.
"""

from __future__ import annotations

import math
import numbers
import os
import re
import signal
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from poolpilot.model.records import EVENT_COLUMNS, TIMESERIES_COLUMNS, RunResult

try:  # POSIX only: elsewhere the folder is simply not locked
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

#: The tables of a results folder, in the order a chunk writes them (runs last: the commit).
TABLES = ("timeseries", "events", "runs")
#: Columns every runs row starts with, then varied values and metrics, then RUN_TAIL.
RUN_IDENTITY = ["key", "design", "replicate", "seed"]
RUN_TAIL = ["status", "error"]

_RUN_TYPES = {
    "key": pa.string(),
    "design": pa.string(),
    "replicate": pa.int64(),
    "seed": pa.int64(),
    "status": pa.string(),
    "error": pa.string(),
}
_TIMESERIES_TYPES = {
    "run": pa.string(),
    "month": pa.int64(),
    "series": pa.string(),
    "partner": pa.string(),
    "value": pa.float64(),
}
_EVENT_TYPES = {
    "run": pa.string(),
    "month": pa.int64(),
    "actor": pa.string(),
    "action": pa.string(),
    "target": pa.string(),
    "amount": pa.float64(),
    "rule": pa.string(),
    "evidence": pa.string(),
    "outcome": pa.string(),
}
assert list(_TIMESERIES_TYPES) == TIMESERIES_COLUMNS
assert list(_EVENT_TYPES) == EVENT_COLUMNS

_BASE_SCHEMAS = {
    "runs": pa.schema([(name, _RUN_TYPES[name]) for name in RUN_IDENTITY + RUN_TAIL]),
    "timeseries": pa.schema(list(_TIMESERIES_TYPES.items())),
    "events": pa.schema(list(_EVENT_TYPES.items())),
}
_PART = re.compile(r"^part-(\d+)\.parquet$")
_TMP_PREFIX = ".tmp-"  # hidden: pyarrow datasets skip names starting with "." or "_"


@dataclass(frozen=True)
class Chunk:
    """Results of some runs as Arrow tables.

    Built where the runs ran (in the worker), so the process writing the store only writes.
    """

    runs: pa.Table
    timeseries: pa.Table
    events: pa.Table

    @classmethod
    def from_results(cls, results: Sequence[RunResult]) -> Chunk:
        """Convert run records to tables with the store's column types."""
        runs = _runs_table([result.row for result in results])
        timeseries = _frames_table(results, "timeseries", _TIMESERIES_TYPES)
        events = _frames_table(results, "events", _EVENT_TYPES)
        return cls(runs=runs, timeseries=timeseries, events=events)

    @classmethod
    def concat(cls, chunks: Sequence[Chunk]) -> Chunk:
        """One chunk from several, unifying columns that only some of them have."""
        return cls(
            **{
                table: _concat_tables([getattr(chunk, table) for chunk in chunks], table)
                for table in TABLES
            }
        )

    @property
    def keys(self) -> list[str]:
        return self.runs.column("key").to_pylist()

    def table(self, name: str) -> pa.Table:
        return getattr(self, name)


class ResultsStore:
    """A results folder that studies append to and analyses read from.

    Opened for writing (the default), the folder is created if needed, locked against other
    processes, and cleared of leftovers of a killed study. ``readonly=True`` never touches the
    folder: a report can read while a study is still writing.
    """

    def __init__(self, folder: str | os.PathLike[str], *, readonly: bool = False) -> None:
        self.folder = Path(folder)
        self.readonly = readonly
        self._keys: set[str] | None = None
        self._schemas: dict[str, pa.Schema] = {}
        self._next_part: int | None = None
        self._release = None
        if readonly:
            if not self.folder.is_dir():
                raise FileNotFoundError(f"no results folder at {self.folder}")
            return
        for table in TABLES:
            self._table_dir(table).mkdir(parents=True, exist_ok=True)
        lock = _lock_folder(self.folder)
        self._release = weakref.finalize(self, _unlock_folder, lock)
        self._remove_leftovers()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "readonly" if self.readonly else "writable"
        return f"ResultsStore({str(self.folder)!r}, {mode})"

    def close(self) -> None:
        """Release the folder so another process may write to it."""
        if self._release is not None:
            self._release()

    # -- writing -------------------------------------------------------------------------

    def write(self, results: Sequence[RunResult] | Chunk) -> None:
        """Append one chunk of runs, atomically: after a crash it is there whole or not at all.

        Raises ValueError for a run key already in the store (a study never holds a run twice)
        and TypeError when a column's values change kind between chunks (say text, then
        numbers), before anything is written.
        """
        if self.readonly:
            raise PermissionError(f"{self} is read-only")
        if self._release is not None and not self._release.alive:
            raise ValueError(f"{self.folder} was closed")
        chunk = results if isinstance(results, Chunk) else Chunk.from_results(results)
        if chunk.runs.num_rows == 0:
            return
        keys = chunk.keys
        known = self._known_keys()
        repeated = sorted({key for key in keys if key in known} | _repeats(keys))
        if repeated:
            raise ValueError(
                f"runs already in {self.folder}: {', '.join(repeated[:5])}"
                + (f" and {len(repeated) - 5} more" if len(repeated) > 5 else "")
            )
        schemas = {}
        for table in TABLES:
            if chunk.table(table).num_rows:
                schemas[table] = self._unified_schema(table, chunk.table(table).schema)

        with _SigintDeferred():
            part = self._allocate_part()
            for table, schema in schemas.items():
                self._widen_first_part(table, schema)
                _write_atomic(chunk.table(table), self._part_path(table, part))
                self._schemas[table] = schema
            known.update(keys)

    def _allocate_part(self) -> int:
        if self._next_part is None:
            used = [part for table in TABLES for part in self._part_ids(table)]
            self._next_part = max(used, default=-1) + 1
        part = self._next_part
        self._next_part += 1
        return part

    def _unified_schema(self, table: str, incoming: pa.Schema) -> pa.Schema:
        if table not in self._schemas:
            self._schemas[table] = _unify(self._part_schemas(table), table)
        try:
            return _unify([self._schemas[table], incoming], table)
        except (pa.ArrowTypeError, pa.ArrowInvalid) as exc:
            raise TypeError(
                f"{table}: a column changed type between chunks ({exc}); "
                "every run must give each metric the same kind of value"
            ) from exc

    def _widen_first_part(self, table: str, schema: pa.Schema) -> None:
        """Rewrite the first part so that dataset readers, which take its schema, see all."""
        parts = sorted(self._part_ids(table))
        if not parts:
            return
        first = self._part_path(table, parts[0])
        if pq.read_schema(first).remove_metadata().equals(schema):
            return
        _write_atomic(_conform(pq.read_table(first), schema), first)

    def _remove_leftovers(self) -> None:
        committed = self._part_ids("runs")
        for table in TABLES:
            directory = self._table_dir(table)
            for path in directory.iterdir():
                part = _part_number(path.name)
                stray = path.name.startswith(_TMP_PREFIX)
                orphan = part is not None and table != "runs" and part not in committed
                if stray or orphan:
                    path.unlink(missing_ok=True)
            _fsync_dir(directory)

    # -- reading -------------------------------------------------------------------------

    def completed_keys(self) -> set[str]:
        """Keys of every run in the store, ok or failed: what a resumed study skips."""
        return set(self._known_keys())

    def _known_keys(self) -> set[str]:
        if self._keys is None or self.readonly:
            keys: set[str] = set()
            for part in sorted(self._part_ids("runs")):
                column = pq.read_table(self._part_path("runs", part), columns=["key"])["key"]
                keys.update(column.to_pylist())
            self._keys = keys
        return self._keys

    def read(self, table: str, runs: Iterable[str] | None = None) -> pd.DataFrame:
        """One table as one DataFrame, in a canonical order whatever the chunking.

        Runs are sorted by design, replicate and key; timeseries and events follow the runs'
        order, keeping each run's own row order. ``runs`` keeps only those run keys, filtered
        while reading, so a sample of a large study's timeseries fits in memory.
        """
        if table not in TABLES:
            raise ValueError(f"unknown table {table!r}; expected one of {', '.join(TABLES)}")
        committed = self._part_ids("runs")
        parts = sorted(part for part in self._part_ids(table) if part in committed)
        keep = None if runs is None else pa.array(sorted(set(runs)), type=pa.string())
        column = "key" if table == "runs" else "run"
        frame = _read_parts([self._part_path(table, part) for part in parts], table, keep, column)
        if table == "runs":
            middle = [c for c in frame.columns if c not in RUN_IDENTITY + RUN_TAIL]
            frame = frame[RUN_IDENTITY + middle + RUN_TAIL]
            frame = frame.sort_values(["design", "replicate", "key"], kind="stable")
            return frame.reset_index(drop=True)
        runs = self.read("runs")
        rank = pd.Series(np.arange(len(runs)), index=runs["key"].to_numpy())
        order = frame["run"].map(rank).fillna(len(runs)).to_numpy()
        frame = frame.iloc[np.argsort(order, kind="stable")]
        return frame.reset_index(drop=True)

    # -- paths ---------------------------------------------------------------------------

    def _table_dir(self, table: str) -> Path:
        return self.folder / f"{table}.parquet"

    def _part_path(self, table: str, part: int) -> Path:
        return self._table_dir(table) / f"part-{part:06d}.parquet"

    def _part_ids(self, table: str) -> set[int]:
        directory = self._table_dir(table)
        if not directory.is_dir():
            return set()
        return {n for n in (_part_number(name) for name in os.listdir(directory)) if n is not None}

    def _part_schemas(self, table: str) -> list[pa.Schema]:
        return [pq.read_schema(self._part_path(table, p)) for p in sorted(self._part_ids(table))]


def read_results(folder: str | os.PathLike[str]) -> dict[str, pd.DataFrame]:
    """All three tables of a results folder, without locking or changing it."""
    store = ResultsStore(folder, readonly=True)
    return {table: store.read(table) for table in ("runs", "timeseries", "events")}


# -- conversion ---------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _infer_array(values: list[Any]) -> pa.Array:
    """Metrics and varied values: numbers as float64, so chunking never changes a dtype."""
    present = [v for v in values if not _is_missing(v)]
    plain = [None if _is_missing(v) else v for v in values]
    if not present:
        return pa.nulls(len(values))
    if all(isinstance(v, bool | np.bool_) for v in present):
        return pa.array([None if v is None else bool(v) for v in plain], pa.bool_())
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in present):
        return pa.array([None if v is None else float(v) for v in plain], pa.float64())
    if all(isinstance(v, str) for v in present):
        return pa.array(plain, pa.string())
    try:
        return pa.array(plain)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in plain], pa.string())


def _runs_table(rows: Sequence[dict[str, Any]]) -> pa.Table:
    middle: dict[str, None] = {}
    for row in rows:
        missing = [name for name in ("key", "design", "replicate", "seed") if name not in row]
        if missing:
            raise ValueError(f"run row lacks {', '.join(missing)}: {row!r}"[:300])
        middle.update(dict.fromkeys(n for n in row if n not in _RUN_TYPES))
    columns: dict[str, pa.Array] = {}
    for name in RUN_IDENTITY:
        columns[name] = pa.array([row[name] for row in rows], _RUN_TYPES[name])
    for name in middle:
        columns[name] = _infer_array([row.get(name) for row in rows])
    columns["status"] = pa.array([str(row.get("status") or "ok") for row in rows], pa.string())
    columns["error"] = pa.array([str(row.get("error") or "") for row in rows], pa.string())
    return pa.table(columns)


def _typed_array(series: pd.Series, kind: pa.DataType) -> pa.Array:
    try:
        return pa.array(series, type=kind, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        if not pa.types.is_string(kind):
            raise
        return pa.array([None if _is_missing(v) else str(v) for v in series], kind)


def _frames_table(
    results: Sequence[RunResult], table: str, types: dict[str, pa.DataType]
) -> pa.Table:
    frames = []
    for result in results:
        frame = getattr(result, table)
        if frame is None or len(frame) == 0:
            continue
        if "run" not in frame.columns or frame["run"].isna().any():
            frame = frame.assign(run=result.row["key"])
        frames.append(frame)
    if not frames:
        return _BASE_SCHEMAS[table].empty_table()
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    columns: dict[str, pa.Array] = {}
    for name, kind in types.items():
        if name in frame.columns:
            columns[name] = _typed_array(frame[name], kind)
        else:
            columns[name] = pa.nulls(len(frame), kind)
    for name in frame.columns:
        if name not in types:
            columns[str(name)] = _infer_array(frame[name].tolist())
    return pa.table(columns)


def _unify(schemas: Iterable[pa.Schema], table: str) -> pa.Schema:
    """All columns of the schemas, in the table's canonical order (for runs: identity, the
    varied values and metrics as first seen, status and error)."""
    schemas = [_BASE_SCHEMAS[table], *(schema.remove_metadata() for schema in schemas)]
    schema = pa.unify_schemas(schemas, promote_options="permissive")
    if table != "runs":
        return schema
    middle = [name for name in schema.names if name not in _RUN_TYPES]
    return pa.schema([schema.field(name) for name in RUN_IDENTITY + middle + RUN_TAIL])


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The table with exactly the schema's columns: missing ones null, others cast."""
    columns = []
    for field in schema:
        if field.name in table.column_names:
            columns.append(table.column(field.name).cast(field.type))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _concat_tables(tables: Sequence[pa.Table], table: str) -> pa.Table:
    tables = [t for t in tables if t.num_rows] or [_BASE_SCHEMAS[table].empty_table()]
    schema = _unify([t.schema for t in tables], table)
    return pa.concat_tables([_conform(t, schema) for t in tables])


def _read_parts(
    paths: Sequence[Path],
    table: str,
    keep: pa.Array | None = None,
    column: str = "run",
) -> pd.DataFrame:
    """Committed parts read as one ``pyarrow.dataset`` under the unified schema, in order.

    With ``keep``, only rows whose ``column`` is in it are read (the filter is pushed into the
    scan, part by part), so a sample of a large study's timeseries fits in memory.
    """
    schema = _unify([pq.read_schema(path) for path in paths], table)
    if not paths:
        arrow = schema.empty_table()
    else:
        dataset = ds.dataset([str(p) for p in paths], format="parquet", schema=schema)
        where = None if keep is None else pc.field(column).isin(keep)
        arrow = dataset.to_table(filter=where)
    return arrow.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get)


# -- files --------------------------------------------------------------------------------


def _part_number(name: str) -> int | None:
    match = _PART.match(name)
    return int(match.group(1)) if match else None


def _write_atomic(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f"{_TMP_PREFIX}{os.getpid()}-{path.name}")
    try:
        with open(tmp, "wb") as file:
            pq.write_table(table, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make renames durable, so the runs part is never on disk before its companions."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _repeats(keys: Sequence[str]) -> set[str]:
    seen: set[str] = set()
    return {key for key in keys if key in seen or seen.add(key)}


# One lock per folder per process: POSIX record locks are per process (and, unlike flock, not
# inherited by forked pool workers), so stores of the same folder in one process share it.
_LOCKS: dict[str, list[int]] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_folder(folder: Path) -> str:
    name = os.path.realpath(folder)
    with _LOCKS_GUARD:
        if name in _LOCKS:
            _LOCKS[name][1] += 1
            return name
        fd = os.open(os.path.join(name, ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except (BlockingIOError, PermissionError):
                os.close(fd)
                raise BlockingIOError(
                    f"{folder} is being written by another process; wait for that study to "
                    "finish, or open the folder with readonly=True to read it"
                ) from None
            except OSError:  # pragma: no cover - a filesystem without locks: go unlocked
                pass
        _LOCKS[name] = [fd, 1]
        return name


def _unlock_folder(name: str) -> None:
    with _LOCKS_GUARD:
        held = _LOCKS.get(name)
        if held is None:
            return
        held[1] -= 1
        if held[1] == 0:
            del _LOCKS[name]
            os.close(held[0])  # closing drops the record lock


class _SigintDeferred:
    """Hold Ctrl-C while a chunk is committed, so the store's memory matches the disk."""

    def __enter__(self) -> None:
        self._received: list[Any] = []
        self._previous = None
        self._installed = False
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGINT)
        if previous is None:  # installed outside Python: cannot be restored
            return
        self._previous = signal.signal(signal.SIGINT, self._hold)
        self._installed = True

    def _hold(self, signum: int, frame: Any) -> None:
        self._received.append(frame)

    def __exit__(self, *exc_info: object) -> None:
        if not self._installed:
            return
        signal.signal(signal.SIGINT, self._previous)
        if self._received and callable(self._previous):
            self._previous(signal.SIGINT, self._received[-1])
