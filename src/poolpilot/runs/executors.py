"""Running a study: its runs, sent in chunks to an executor, saved to a results store.

The batch layer knows runs only as ``RunSpec`` in, ``RunResult`` out: any module-level
``run_fn(spec) -> RunResult`` will do. Runs go out in chunks of tens, so per-task overhead
stays small next to the runs; only a window of chunks is in flight at once, and each finished
chunk is written to the store as it arrives, so a study of any size runs in bounded memory.
A failing run becomes a failed row instead of stopping the study; Ctrl-C stops it after
saving what finished; ``resume=True`` picks it up again.

Executors: ``"serial"`` (in this process), ``"process"`` (a local process pool, the default),
``"dask"`` (a Dask ``LocalCluster`` here, or an existing cluster given by ``scheduler=``), or
any ``concurrent.futures.Executor``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from poolpilot.model.records import RunResult, RunSpec
from poolpilot.runs.store import Chunk, ResultsStore, _SigintDeferred

RunFunction = Callable[[RunSpec], RunResult]
ExecutorName = Literal["serial", "process", "dask"]
Progress = Literal["auto", "bar", "lines", "none"]

#: How many failed runs a summary quotes.
ERRORS_QUOTED = 5
#: Largest default chunk: big enough to amortise task overhead, small enough to lose little.
MAX_CHUNK = 50
#: Seconds to wait for an existing Dask scheduler to answer before giving up on it.
CONNECT_TIMEOUT = 10.0
#: Most bytes a scheduler's first message (its handshake, a few hundred bytes) may announce: a
#: server that announces more does not speak Dask, and reading it would exhaust memory.
HANDSHAKE_MAX_BYTES = 1 << 20


@dataclass
class StudySummary:
    """What happened to a study's runs. ``failed > 0`` or ``interrupted`` means: not clean."""

    total: int
    skipped: int = 0
    ok: int = 0
    failed: int = 0
    interrupted: bool = False
    #: (key, error) of the first failed runs, in study order.
    errors: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def remaining(self) -> int:
        """Runs neither in the store before nor done now: what a resume would run."""
        return self.total - self.skipped - self.ok - self.failed

    def __str__(self) -> str:
        parts = [f"{self.ok + self.failed} of {self.total - self.skipped} runs done"]
        if self.skipped:
            parts.append(f"{self.skipped} already saved")
        parts.append(f"{self.failed} failed")
        if self.interrupted:
            parts.append(f"interrupted with {self.remaining} left (resume to finish)")
        text = ", ".join(parts) + f" in {self.seconds:.1f} s"
        for key, error in self.errors:
            text += f"\n  {key}: {error.splitlines()[0] if error else ''}"
        return text


@dataclass(frozen=True)
class Scheduler:
    """An existing Dask cluster by its scheduler's address (``scheduler=`` takes either), and
    how many seconds to wait for it to answer."""

    address: str
    timeout: float = CONNECT_TIMEOUT

    def __str__(self) -> str:
        return self.address


class SchedulerUnreachable(ValueError):
    """No Dask scheduler answered at an address in time: a wrong address, not a failed study."""

    def __init__(self, address: str, timeout: float, reason: str):
        self.address, self.timeout, self.reason = address, timeout, reason
        #: What went wrong, without the address.
        self.problem = f"no Dask scheduler answered within {timeout:g} s ({reason})"
        super().__init__(f"scheduler {address}: {self.problem}")


def execute(
    specs: Iterable[RunSpec],
    run_fn: RunFunction,
    store: ResultsStore | str | os.PathLike[str],
    *,
    executor: ExecutorName | Executor | None = None,
    workers: int | None = None,
    scheduler: str | Scheduler | None = None,
    chunk_size: int | None = None,
    resume: bool = False,
    progress: Progress = "auto",
) -> StudySummary:
    """Run a study and save every run to ``store``; return what happened.

    ``executor`` defaults to a local process pool of ``workers`` (default: all cores), or to
    Dask when a ``scheduler`` address (or `Scheduler`) is given. Results are the same whatever
    the executor, worker count and chunk size. With ``resume=True`` runs already in the store are skipped;
    without it, a store that already holds runs is refused rather than mixed into. Ctrl-C
    saves the finished chunks and returns with ``interrupted=True``.
    """
    started = time.monotonic()
    specs = list(specs)
    if progress not in ("auto", "bar", "lines", "none"):
        raise ValueError(f"progress must be auto, bar, lines or none, not {progress!r}")
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    position = {spec.key: i for i, spec in enumerate(specs)}
    if len(position) < len(specs):
        repeated = sorted(key for key, n in Counter(s.key for s in specs).items() if n > 1)
        raise ValueError(f"run keys must be unique in a study; repeated: {', '.join(repeated)}")

    owned = not isinstance(store, ResultsStore)
    results = ResultsStore(store) if owned else store
    try:
        done = results.completed_keys()
        if done and not resume:
            raise ValueError(
                f"{results.folder} already holds {len(done)} runs: pass resume=True to "
                "finish that study, or choose a new folder"
            )
        todo = [spec for spec in specs if spec.key not in done]
        summary = StudySummary(total=len(specs), skipped=len(specs) - len(todo))
        if todo:
            pool_options = {"executor": executor, "workers": workers, "scheduler": scheduler}
            _run_study(todo, run_fn, results, summary, position, pool_options, chunk_size, progress)
    finally:
        if owned:
            results.close()
    summary.seconds = time.monotonic() - started
    return summary


# -- the study loop -----------------------------------------------------------------------


def _run_study(
    todo: list[RunSpec],
    run_fn: RunFunction,
    store: ResultsStore,
    summary: StudySummary,
    position: dict[str, int],
    pool_options: dict[str, Any],
    chunk_size: int | None,
    progress: Progress,
) -> None:
    pool = None
    abort = False
    report: _Report = _Silent()
    unsaved: set[Future] = set()  # submitted, not yet in the store

    def save(future: Future, *, maybe_saved: bool = False) -> None:
        chunk = future.result()
        # A Ctrl-C held during a write is raised once the chunk is committed.
        if not (maybe_saved and chunk.keys[0] in store.completed_keys()):
            store.write(chunk)
        unsaved.discard(future)
        report.advance(*_tally(chunk, summary, position))

    try:
        pool = _open_pool(**pool_options)
        size = chunk_size or max(1, min(MAX_CHUNK, len(todo) // (pool.workers * 4)))
        chunks = _chunks(todo, size)
        window = 2 * pool.workers
        while True:
            for chunk in _take(chunks, window - len(unsaved)):
                unsaved.add(pool.executor.submit(_run_chunk, run_fn, chunk))
            if isinstance(report, _Silent) and progress != "none":
                # After the first submissions: a process pool forks before tqdm's thread starts.
                report = _open_report(progress, len(todo), summary.skipped, pool.name, size)
            if not unsaved:
                break
            finished, _ = wait(unsaved, return_when=FIRST_COMPLETED)
            for future in finished:
                save(future)
    except KeyboardInterrupt:
        summary.interrupted = abort = True
        # Chunks that finished before the interrupt are saved; running ones are dropped.
        for future in list(unsaved):
            if not future.done():
                future.cancel()
            elif not future.cancelled() and future.exception() is None:
                save(future, maybe_saved=True)
    except BaseException as exc:
        abort = True
        for future in unsaved:
            future.cancel()
        exc.add_note("the study stopped; runs saved before this stay saved (resume=True)")
        raise
    finally:
        report.close(summary)
        if pool is not None:
            pool.shutdown(abort)


def _chunks(specs: list[RunSpec], size: int) -> Iterator[list[RunSpec]]:
    for start in range(0, len(specs), size):
        yield specs[start : start + size]


def _take(chunks: Iterator[list[RunSpec]], n: int) -> Iterator[list[RunSpec]]:
    for _ in range(max(0, n)):
        chunk = next(chunks, None)
        if chunk is None:
            return
        yield chunk


def _tally(chunk: Chunk, summary: StudySummary, position: dict[str, int]) -> tuple[int, int]:
    statuses = chunk.runs.column("status").to_pylist()
    failed = [i for i, status in enumerate(statuses) if status != "ok"]
    summary.ok += len(statuses) - len(failed)
    summary.failed += len(failed)
    if failed:
        keys = chunk.runs.column("key").to_pylist()
        errors = chunk.runs.column("error").to_pylist()
        quoted = summary.errors + [(keys[i], errors[i]) for i in failed]
        quoted.sort(key=lambda item: position.get(item[0], len(position)))
        summary.errors = quoted[:ERRORS_QUOTED]
    return len(statuses) - len(failed), len(failed)


# -- in the worker ------------------------------------------------------------------------


def _run_chunk(run_fn: RunFunction, specs: Sequence[RunSpec]) -> Chunk:
    """Run a chunk where the executor put it; the tables go back ready to write."""
    results = [_run_one(run_fn, spec) for spec in specs]
    try:
        return Chunk.from_results(results)
    except Exception:
        # Some result cannot be stored: fail that run only.
        return Chunk.concat(
            [_storable(result, spec) for result, spec in zip(results, specs, strict=True)]
        )


def _run_one(run_fn: RunFunction, spec: RunSpec) -> RunResult:
    try:
        result = run_fn(spec)
    except Exception as exc:
        return RunResult.failed(spec, _error_text(exc))
    if not isinstance(result, RunResult):
        kind = type(result).__name__
        return RunResult.failed(spec, f"TypeError: run function returned {kind}, not RunResult")
    if result.row.get("key") != spec.key:
        found = result.row.get("key")
        return RunResult.failed(
            spec, f"ValueError: run function returned key {found!r} for run {spec.key!r}"
        )
    return result


def _storable(result: RunResult, spec: RunSpec) -> Chunk:
    try:
        return Chunk.from_results([result])
    except Exception as exc:
        text = f"cannot store the run's result: {_error_text(exc)}"
        return Chunk.from_results([RunResult.failed(spec, text)])


def _error_text(exc: BaseException, frames: int = 3) -> str:
    """'ExcType: message' and where it was raised, short enough for a table cell."""
    message = str(exc)
    if len(message) > 500:
        message = message[:500] + "..."
    lines = [f"{type(exc).__name__}: {message}"]
    for frame in traceback.extract_tb(exc.__traceback__)[-frames:]:
        lines.append(f"  at {Path(frame.filename).name}:{frame.lineno} in {frame.name}")
    return "\n".join(lines)


def _start_pool_worker() -> None:
    """Pool workers leave Ctrl-C to the study loop, and do not outlive a killed study.

    A forked worker holds both ends of the pool's pipes, so it would never see its parent go.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="poolpilot-parent-watch", daemon=True).start()


# -- executors ----------------------------------------------------------------------------


class SerialExecutor(Executor):
    """Runs each task as it is submitted, in this process: for debugging and tiny studies."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


@dataclass
class _Pool:
    executor: Executor
    workers: int
    name: str
    #: Called with abort=True to stop at once, dropping running chunks.
    shutdown: Callable[[bool], None]


def _open_pool(
    executor: ExecutorName | Executor | None,
    workers: int | None,
    scheduler: str | Scheduler | None,
) -> _Pool:
    if scheduler is not None and executor not in (None, "dask"):
        raise ValueError(f"scheduler= is for the dask executor, not {executor!r}")
    if executor is None:
        executor = "dask" if scheduler is not None else "process"
    if isinstance(executor, Executor):
        count = workers or getattr(executor, "_max_workers", None) or os.cpu_count() or 1
        return _Pool(executor, count, type(executor).__name__, lambda abort: None)
    if executor == "serial":
        return _Pool(SerialExecutor(), 1, "serial", lambda abort: None)
    if executor == "process":
        return _process_pool(workers or os.cpu_count() or 1)
    if executor == "dask":
        return _dask_pool(workers, scheduler)
    raise ValueError(f"executor must be serial, process, dask or an Executor, not {executor!r}")


def _process_pool(workers: int) -> _Pool:
    # Fork where it exists, as Python 3.12 does by default (and 3.14 no longer does): run
    # functions defined in a notebook or script reach the workers without pickling by name.
    # Not on macOS, where fork is unsafe with the system libraries.
    forkable = "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin"
    context = multiprocessing.get_context("fork" if forkable else None)
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_pool_worker)

    def close(abort: bool) -> None:
        if not abort:
            pool.shutdown(wait=True)
            return
        # Running chunks are lost work a resume redoes; waiting for them is not stopping.
        if hasattr(pool, "terminate_workers"):  # Python 3.14+
            pool.terminate_workers()
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=10)

    return _Pool(pool, workers, f"{workers} processes", close)


def _dask_pool(workers: int | None, scheduler: str | Scheduler | None) -> _Pool:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError(
            "the dask executor needs dask.distributed: pip install 'poolpilot[dask]'"
        ) from exc
    cluster = client = None
    try:
        if scheduler is None:
            # Ctrl-C waits until the cluster is up: a half-started one cannot be closed.
            with _SigintDeferred(), warnings.catch_warnings():
                # No dashboard; its HTTP port moving off a busy 8787 is not worth a warning.
                warnings.filterwarnings("ignore", "Port .* is already in use", UserWarning)
                cluster = LocalCluster(
                    n_workers=workers or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
                client = Client(cluster)
        else:
            client = _connect(
                scheduler if isinstance(scheduler, Scheduler) else Scheduler(scheduler)
            )
    except BaseException:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        raise
    count = workers or max(1, sum(client.nthreads().values()))
    # pure=False: chunks are never deduplicated and need no hashing of their specs.
    pool = client.get_executor(pure=False)

    def close(abort: bool) -> None:
        try:
            pool.shutdown(wait=not abort)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    where = "local dask cluster" if cluster is not None else f"dask at {scheduler}"
    return _Pool(pool, count, f"{where}, {count} workers", close)


def _connect(scheduler: Scheduler) -> Any:
    """A ``distributed.Client`` of an existing cluster, or `SchedulerUnreachable` in time.

    ``Client(address)`` alone waits 30 s on a closed port, and on a server that speaks another
    protocol (an HTTP port) it reads the reply as a message length and asks for exabytes. So a
    TCP address is first probed with a plain socket: a scheduler greets each connection with
    its handshake, whose announced length must be small (nothing is sent, so a server waiting
    for a request stays silent until the deadline). The client then connects in a daemon
    thread joined with what is left of the timeout, so nothing can hang past it. The probe
    shows in the scheduler's log as a connection closed before its handshake.
    """
    from distributed import Client

    deadline = time.monotonic() + scheduler.timeout
    address = scheduler.address
    if "://" not in address or address.startswith("tcp://"):
        _probe(scheduler, deadline)
    lock = threading.Lock()
    outcome: dict[str, Any] = {}

    def connect() -> None:
        try:
            client = Client(address, timeout=max(1.0, deadline - time.monotonic()))
        except BaseException as exc:  # reported by the caller, in its thread
            outcome["error"] = exc
            return
        with lock:
            if outcome.get("abandoned"):
                client.close()
            else:
                outcome["client"] = client

    thread = threading.Thread(target=connect, name="poolpilot-dask-connect", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    with lock:
        if "client" in outcome:
            return outcome["client"]
        outcome["abandoned"] = True
    error = outcome.get("error")
    if error is None:
        raise SchedulerUnreachable(address, scheduler.timeout, "no answer to the Dask handshake")
    reason = str(error) if isinstance(error, OSError) else f"{type(error).__name__}: {error}"
    raise SchedulerUnreachable(address, scheduler.timeout, reason.splitlines()[0]) from None


def _probe(scheduler: Scheduler, deadline: float) -> None:
    """Wait until the address greets a connection as a Dask scheduler does, or raise.

    A refused connection is tried again until the deadline: a scheduler may be starting.
    """
    host, _, port = scheduler.address.removeprefix("tcp://").rpartition(":")

    def unreachable(reason: str) -> SchedulerUnreachable:
        return SchedulerUnreachable(scheduler.address, scheduler.timeout, reason)

    if not port.isdigit():
        raise unreachable("no port in the address")
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise unreachable("connection refused")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=left) as sock:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                header = b""
                while len(header) < 8:
                    received = sock.recv(8 - len(header))
                    if not received:
                        raise unreachable("the connection was closed without a Dask handshake")
                    header += received
        except ConnectionRefusedError:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
            continue
        except socket.gaierror:
            raise unreachable(f"unknown host {host}") from None
        except TimeoutError:
            raise unreachable(
                "something accepted the connection but sent no Dask handshake"
            ) from None
        except OSError as exc:
            raise unreachable((exc.strerror or str(exc)).lower()) from None
        (length,) = struct.unpack("Q", header)  # the frame length Dask's TCP comm sends first
        if not 0 < length <= HANDSHAKE_MAX_BYTES:
            raise unreachable("something answered, but not in the Dask protocol")
        return


# -- progress -----------------------------------------------------------------------------


class _Report:
    def advance(self, ok: int, failed: int) -> None: ...

    def close(self, summary: StudySummary) -> None: ...


class _Silent(_Report):
    pass


def _open_report(progress: Progress, total: int, skipped: int, pool: str, size: int) -> _Report:
    if progress == "auto":
        progress = "bar" if sys.stderr is not None and sys.stderr.isatty() else "lines"
    if progress == "bar":
        return _Bar(total, skipped)
    if progress == "lines":
        return _Lines(total, skipped, pool, size)
    return _Silent()


class _Bar(_Report):
    def __init__(self, total: int, skipped: int) -> None:
        from tqdm import tqdm

        desc = f"study ({skipped} saved before)" if skipped else "study"
        self.bar = tqdm(total=total, unit="run", desc=desc, file=sys.stderr, smoothing=0.05)
        self.failed = 0

    def advance(self, ok: int, failed: int) -> None:
        if failed:
            self.failed += failed
            self.bar.set_postfix(failed=self.failed, refresh=False)
        self.bar.update(ok + failed)

    def close(self, summary: StudySummary) -> None:
        self.bar.close()


class _Lines(_Report):
    """Plain lines for logs and notebooks: every tenth of the study or every 30 seconds."""

    def __init__(self, total: int, skipped: int, pool: str, size: int, every: float = 30.0):
        self.total = total
        self.done = 0
        self.failed = 0
        self.every = every
        self.started = self.last_time = time.monotonic()
        self.last_tenth = 0
        before = f", {skipped} saved before" if skipped else ""
        self._print(f"study: {total} runs to do{before}; {pool}, chunks of {size}")

    def _print(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def advance(self, ok: int, failed: int) -> None:
        self.done += ok + failed
        self.failed += failed
        now = time.monotonic()
        tenth = 10 * self.done // self.total
        if tenth > self.last_tenth or now - self.last_time >= self.every:
            self.last_tenth, self.last_time = tenth, now
            elapsed = now - self.started
            rate = self.done / elapsed if elapsed > 0 else 0.0
            left = f", ~{(self.total - self.done) / rate:.0f} s left" if rate else ""
            self._print(
                f"study: {self.done}/{self.total} runs ({100 * self.done // self.total}%), "
                f"{self.failed} failed, {rate:.1f} runs/s{left}"
            )

    def close(self, summary: StudySummary) -> None:
        if summary.interrupted:
            self._print(f"study: interrupted after {self.done}/{self.total} runs")
