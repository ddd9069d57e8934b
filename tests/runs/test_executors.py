"""Running studies: same results on every executor, failures kept, interrupted studies resumed.

The Dask tests come last in this file: a live cluster leaves threads in this process, and
the process pool forks.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

import batch_fakes
from batch_fakes import counting_run, fake_run, flaky_run, make_specs
from poolpilot.runs.executors import StudySummary, execute
from poolpilot.runs.store import TABLES, ResultsStore, read_results

# Process pools fork while pyarrow's thread pools are alive in this process; Arrow re-creates
# them in the child after a fork, so the warning does not apply.
pytestmark = pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded, use of fork:DeprecationWarning"
)

SRC = Path(__file__).resolve().parents[2] / "src"
TESTS = Path(__file__).resolve().parents[1]
N_RUNS = 60


def assert_same_tables(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(a[table], b[table], check_exact=True, obj=table)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, pd.DataFrame]:
    """The flaky study run in the simplest way: serial, one chunk."""
    folder = tmp_path_factory.mktemp("reference")
    summary = execute(
        make_specs(N_RUNS), flaky_run, folder, executor="serial", chunk_size=N_RUNS, progress="none"
    )
    assert summary.ok + summary.failed == N_RUNS
    return read_results(folder)


@pytest.mark.parametrize(
    ("executor", "workers", "chunk_size"),
    [("serial", None, 1), ("process", 1, None), ("process", 2, 7), ("process", 2, None)],
)
def test_local_executors_give_identical_tables(tmp_path, reference, executor, workers, chunk_size):
    summary = execute(
        make_specs(N_RUNS),
        flaky_run,
        tmp_path,
        executor=executor,
        workers=workers,
        chunk_size=chunk_size,
        progress="none",
    )
    assert not summary.interrupted
    assert_same_tables(read_results(tmp_path), reference)


def test_failing_runs_are_recorded_and_the_rest_complete(tmp_path):
    specs = make_specs(N_RUNS)
    raising = [s.key for s in specs if s.seed % 4 == 0]
    junk = [s.key for s in specs if s.seed % 5 == 0 and s.seed % 4]
    summary = execute(specs, flaky_run, tmp_path, executor="process", workers=2, progress="none")

    assert summary.failed == len(raising) + len(junk) > 0
    assert summary.ok == N_RUNS - summary.failed
    assert summary.remaining == 0
    # The first failures in study order, whatever order the chunks finished in.
    failing_in_order = [s.key for s in specs if s.key in set(raising + junk)]
    assert [key for key, _ in summary.errors] == failing_in_order[:5]
    assert f"{summary.failed} failed" in str(summary)

    runs = read_results(tmp_path)["runs"].set_index("key")
    assert (runs.loc[raising, "status"] == "failed").all()
    for key in raising:
        error = runs.loc[key, "error"]
        assert error.startswith(f"ValueError: pool balance went negative in {key}")
        assert "at batch_fakes.py:" in error  # a traceback tail says where
    assert runs.loc[junk, "error"].str.startswith("TypeError: run function returned").all()
    assert runs.loc[raising + junk, "total_cost"].isna().all()
    ok = runs[runs["status"] == "ok"]
    assert len(ok) == summary.ok and ok["total_cost"].notna().all()
    assert (ok["error"] == "").all()


def test_chunk_size_does_not_change_results(tmp_path, reference):
    for size in (1, 7, 1000):
        folder = tmp_path / f"chunks-{size}"
        execute(
            make_specs(N_RUNS),
            flaky_run,
            folder,
            executor="serial",
            chunk_size=size,
            progress="none",
        )
        assert len(os.listdir(folder / "runs.parquet")) == math.ceil(N_RUNS / size)
        assert_same_tables(read_results(folder), reference)


def test_resume_runs_only_what_is_missing(tmp_path):
    specs = make_specs(30)
    batch_fakes.CALLS.clear()
    first = execute(specs[:12], counting_run, tmp_path, executor="serial", progress="none")
    assert first.ok == 12 and [s.key for s in specs[:12]] == batch_fakes.CALLS

    with pytest.raises(ValueError, match="resume=True"):
        execute(specs, counting_run, tmp_path, executor="serial", progress="none")

    batch_fakes.CALLS.clear()
    second = execute(
        specs, counting_run, tmp_path, executor="serial", chunk_size=5, resume=True, progress="none"
    )
    assert [s.key for s in specs[12:]] == batch_fakes.CALLS
    assert (second.skipped, second.ok, second.failed) == (12, 18, 0)

    batch_fakes.CALLS.clear()
    third = execute(specs, counting_run, tmp_path, executor="serial", resume=True, progress="none")
    assert batch_fakes.CALLS == [] and third.skipped == 30

    whole = tmp_path.parent / f"{tmp_path.name}-whole"
    execute(specs, fake_run, whole, executor="serial", progress="none")
    runs = read_results(tmp_path)["runs"]
    assert runs["key"].is_unique
    assert_same_tables(read_results(tmp_path), read_results(whole))


def test_duplicate_run_keys_are_refused(tmp_path):
    specs = make_specs(4)
    with pytest.raises(ValueError, match="unique"):
        execute([*specs, specs[2]], fake_run, tmp_path, executor="serial", progress="none")
    assert ResultsStore(tmp_path, readonly=True).completed_keys() == set()


def test_any_executor_instance_and_progress_lines(tmp_path, capsys, reference):
    with ThreadPoolExecutor(2) as pool:
        summary = execute(
            make_specs(N_RUNS), flaky_run, tmp_path, executor=pool, chunk_size=4, progress="lines"
        )
        assert pool.submit(sum, [1, 2]).result() == 3  # the caller's executor is left running
    assert_same_tables(read_results(tmp_path), reference)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"study: {N_RUNS} runs to do")
    assert lines[-1].startswith(f"study: {N_RUNS}/{N_RUNS} runs (100%), {summary.failed} failed")

    execute(make_specs(3), fake_run, tmp_path / "quiet", executor="serial", progress="none")
    assert capsys.readouterr().err == ""


def test_unshippable_run_function_stops_the_study_with_its_error(tmp_path):
    def local_run(spec):  # not picklable by name: a process pool cannot send it
        return fake_run(spec)

    started = time.monotonic()
    with pytest.raises(Exception, match="local_run|pickle") as caught:
        execute(make_specs(20), local_run, tmp_path, executor="process", workers=2)
    assert time.monotonic() - started < 30
    assert any("resume=True" in note for note in getattr(caught.value, "__notes__", []))


# -- a study killed mid-way ---------------------------------------------------------------

SLOW_MODULE = '''
"""A slow fake run, as a model would be: about 20 ms a run."""
import time

from batch_fakes import fake_run


def slow_run(spec):
    time.sleep(0.02)
    return fake_run(spec)
'''

DRIVER = """
import json
import sys

from batch_fakes import make_specs
from slow_fakes import slow_run

from poolpilot.runs.executors import execute

summary = execute(
    make_specs(int(sys.argv[2])), slow_run, sys.argv[1],
    executor="process", workers=2, chunk_size=4, progress="lines",
)
print(json.dumps({"ok": summary.ok, "interrupted": summary.interrupted}))
"""


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_killed_study_resumes_to_the_uninterrupted_tables(tmp_path, how):
    n = 200  # about 2 s on two workers: it is stopped well before the end
    (tmp_path / "slow_fakes.py").write_text(SLOW_MODULE)
    (tmp_path / "driver.py").write_text(textwrap.dedent(DRIVER))
    folder = tmp_path / "study"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, [SRC, TESTS, tmp_path]))}
    driver = subprocess.Popen(
        [sys.executable, str(tmp_path / "driver.py"), str(folder), str(n)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its pool workers can be cleaned up as a group
    )
    try:
        deadline = time.monotonic() + 60
        while len(list((folder / "runs.parquet").glob("part-*"))) < 3:
            assert driver.poll() is None, driver.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        driver.send_signal(how)
        out, err = driver.communicate(timeout=30)  # stopping must not hang
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()

    if how == signal.SIGINT:
        assert driver.returncode == 0, err
        report = json.loads(out.strip().splitlines()[-1])
        assert report["interrupted"] is True
        assert 0 < report["ok"] < n
        assert "interrupted after" in err
    else:
        assert driver.returncode == -signal.SIGKILL

    store = ResultsStore(folder)
    saved = store.completed_keys()
    assert 0 < len(saved) < n
    assert not [p for p in folder.rglob("*") if p.name.startswith(".tmp")]
    summary = execute(
        make_specs(n), fake_run, store, executor="serial", resume=True, progress="none"
    )
    assert (summary.skipped, summary.ok) == (len(saved), n - len(saved))
    store.close()

    whole = tmp_path / "whole"
    execute(make_specs(n), fake_run, whole, executor="serial", progress="none")
    resumed = read_results(folder)
    assert resumed["runs"]["key"].is_unique
    assert_same_tables(resumed, read_results(whole))


# -- Dask: last, see the module docstring -------------------------------------------------


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster


def test_dask_cluster_gives_identical_tables(tmp_path, reference, dask_cluster):
    summary = execute(
        make_specs(N_RUNS),
        flaky_run,
        tmp_path,
        scheduler=dask_cluster.scheduler_address,
        chunk_size=5,
        progress="none",
    )
    assert isinstance(summary, StudySummary) and not summary.interrupted
    assert_same_tables(read_results(tmp_path), reference)


def test_dask_local_cluster_started_for_the_study(tmp_path, reference):
    pytest.importorskip("distributed")
    execute(make_specs(N_RUNS), flaky_run, tmp_path, executor="dask", workers=2, progress="none")
    assert_same_tables(read_results(tmp_path), reference)
