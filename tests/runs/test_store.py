"""The results store: atomic chunk writes, recovery after a kill, reading back whole."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch_fakes import fake_run, flaky_run, make_specs
from poolpilot.model.records import EVENT_COLUMNS, TIMESERIES_COLUMNS, RunResult
from poolpilot.runs.store import TABLES, Chunk, ResultsStore, read_results

SRC = Path(__file__).resolve().parents[2] / "src"
TESTS = Path(__file__).resolve().parents[1]


def results_for(n: int, run=fake_run) -> list[RunResult]:
    out = []
    for spec in make_specs(n):
        try:
            out.append(run(spec) or RunResult.failed(spec, "TypeError: no result"))
        except ValueError as exc:
            out.append(RunResult.failed(spec, f"ValueError: {exc}"))
    return out


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def assert_tables_equal(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(a[table], b[table], check_exact=True)


def test_writes_leave_only_part_files(tmp_path):
    results = results_for(30, flaky_run)
    with ResultsStore(tmp_path) as store:
        for start in range(0, 30, 10):
            store.write(results[start : start + 10])
    names = files_in(tmp_path)
    assert not [n for n in names if ".tmp" in n]
    runs_parts = [n for n in names if n.startswith("runs.parquet/")]
    assert runs_parts == [f"runs.parquet/part-00000{i}.parquet" for i in range(3)]
    assert set(names) - set(runs_parts) - {".lock"} <= {
        f"{table}.parquet/part-00000{i}.parquet" for table in TABLES for i in range(3)
    }


def test_failed_write_leaves_no_trace(tmp_path, monkeypatch):
    results = results_for(20)
    store = ResultsStore(tmp_path)
    store.write(results[:10])
    before = read_results(tmp_path)

    real_replace = os.replace

    def crash_on_runs(src, dst):
        if "runs.parquet" in str(dst):
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_runs)
    with pytest.raises(OSError, match="disk full"):
        store.write(results[10:])
    monkeypatch.setattr(os, "replace", real_replace)

    # The chunk's timeseries part landed, its runs part did not: readers ignore it...
    assert (tmp_path / "timeseries.parquet" / "part-000001.parquet").exists()
    assert not [n for n in files_in(tmp_path) if ".tmp" in n]
    assert_tables_equal(read_results(tmp_path), before)
    # ...and reopening for writing removes it; the runs can then be written again.
    store.close()
    store = ResultsStore(tmp_path)
    assert not (tmp_path / "timeseries.parquet" / "part-000001.parquet").exists()
    assert store.completed_keys() == {r.row["key"] for r in results[:10]}
    store.write(results[10:])
    assert len(store.read("runs")) == 20
    assert store.read("runs")["key"].is_unique


def test_orphan_and_temporary_files_removed_on_open(tmp_path):
    with ResultsStore(tmp_path) as store:
        store.write(results_for(8))
        expected = {table: store.read(table) for table in TABLES}
    ts_dir = tmp_path / "timeseries.parquet"
    shutil.copy(ts_dir / "part-000000.parquet", ts_dir / "part-000007.parquet")  # no runs part
    (tmp_path / "events.parquet" / ".tmp-4242-part-000008.parquet").write_bytes(b"half a file")

    # Reading does not change the folder and skips the orphan.
    assert_tables_equal(read_results(tmp_path), expected)
    assert (ts_dir / "part-000007.parquet").exists()

    ResultsStore(tmp_path).close()
    assert not (ts_dir / "part-000007.parquet").exists()
    assert not (tmp_path / "events.parquet" / ".tmp-4242-part-000008.parquet").exists()
    # The plain pandas reader now agrees with the store.
    assert len(pd.read_parquet(ts_dir)) == len(expected["timeseries"])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cuts=st.lists(st.integers(1, 39), max_size=8, unique=True),
    order=st.randoms(use_true_random=False),
)
def test_many_chunks_read_like_one(cuts, order):
    results = results_for(40, flaky_run)
    bounds = [0, *sorted(cuts), 40]
    chunks = [results[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    order.shuffle(chunks)  # chunks arrive in any order from a pool
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as many:
        with ResultsStore(one) as store:
            store.write(results)
        with ResultsStore(many) as store:
            for chunk in chunks:
                store.write(chunk)
        assert len(os.listdir(Path(many) / "runs.parquet")) == len(chunks)
        assert_tables_equal(read_results(many), read_results(one))


def test_failed_and_ok_chunks_with_different_columns(tmp_path):
    specs = make_specs(12)
    failed = [RunResult.failed(s, f"RuntimeError: broke {s.key}") for s in specs[:4]]
    ok = [fake_run(s) for s in specs[4:]]
    for result in ok[:4]:  # a chunk where one metric is missing altogether
        result.row["months_to_exhaustion"] = None
    with ResultsStore(tmp_path) as store:
        store.write(failed)  # first part: no metric columns at all
        store.write(ok[:4])  # months_to_exhaustion all null
        store.write(ok[4:])
        runs = store.read("runs")

    assert len(runs) == 12
    assert list(runs.columns[:4]) == ["key", "design", "replicate", "seed"]
    assert list(runs.columns[-2:]) == ["status", "error"]
    for metric in ("total_cost", "admissions", "months_to_exhaustion"):
        assert runs[metric].dtype == "float64", metric
    assert runs["pool_exhausted"].dtype == "boolean"
    assert runs["key"].dtype == "str" and runs["error"].dtype == "str"
    bad = runs[runs["status"] == "failed"]
    assert sorted(bad["key"]) == sorted(s.key for s in specs[:4])
    assert bad["total_cost"].isna().all()
    assert bad["error"].str.startswith("RuntimeError: broke").all()
    good = runs[runs["status"] == "ok"].set_index("key")
    for result in ok:
        assert good.loc[result.row["key"], "total_cost"] == result.row["total_cost"]
    assert (runs.loc[runs["status"] == "ok", "error"] == "").all()

    # A plain reader sees every column too: the first part was widened.
    raw = pd.read_parquet(tmp_path / "runs.parquet")
    assert list(raw.columns) == list(runs.columns)
    assert len(raw) == 12


def test_completed_keys_and_no_duplicates(tmp_path):
    results = results_for(10, flaky_run)
    keys = {r.row["key"] for r in results}
    with ResultsStore(tmp_path) as store:
        assert store.completed_keys() == set()
        store.write(results[:6])
        store.write(results[6:])
        assert store.completed_keys() == keys
        with pytest.raises(ValueError, match="already in"):
            store.write(results[3:4])
        with pytest.raises(ValueError, match="already in"):
            store.write([fake_run(make_specs(11)[10])] * 2)  # repeated within the chunk
    assert ResultsStore(tmp_path, readonly=True).completed_keys() == keys
    assert len(os.listdir(tmp_path / "runs.parquet")) == 2


def test_metric_changing_kind_is_refused_before_writing(tmp_path):
    first, second = results_for(2)
    first.row["total_cost"] = "n/a"
    with ResultsStore(tmp_path) as store:
        store.write([first])
        with pytest.raises(TypeError, match="changed type"):
            store.write([second])
        assert len(store.read("runs")) == 1
    assert len(os.listdir(tmp_path / "timeseries.parquet")) == 1


def test_empty_store_reads_typed_empty_tables(tmp_path):
    ResultsStore(tmp_path).close()
    tables = read_results(tmp_path)
    assert list(tables["timeseries"].columns) == TIMESERIES_COLUMNS
    assert list(tables["events"].columns) == EVENT_COLUMNS
    assert list(tables["runs"].columns) == ["key", "design", "replicate", "seed", "status", "error"]
    assert tables["timeseries"]["value"].dtype == "float64"
    assert all(len(t) == 0 for t in tables.values())
    with pytest.raises(FileNotFoundError):
        read_results(tmp_path / "missing")


def test_chunk_concat_unifies_columns():
    failed = Chunk.from_results([RunResult.failed(make_specs(1)[0], "X: y")])
    ok = Chunk.from_results(results_for(3)[1:])
    both = Chunk.concat([failed, ok])
    assert both.keys == failed.keys + ok.keys
    assert both.runs.schema.field("total_cost").type == "double"
    assert both.timeseries.num_rows == ok.timeseries.num_rows


def run_python(code: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(TESTS)])}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_second_writing_process_is_refused(tmp_path):
    with ResultsStore(tmp_path):
        ResultsStore(tmp_path).close()  # the same process may reopen it
        other = run_python(
            f"""
            from poolpilot.runs.store import ResultsStore
            try:
                ResultsStore({str(tmp_path)!r})
            except BlockingIOError as exc:
                print("refused:", exc)
            print(len(ResultsStore({str(tmp_path)!r}, readonly=True).read("runs")))
            """
        )
        out, err = other.communicate(timeout=60)
    assert "refused:" in out and "another process" in out, err
    assert out.strip().endswith("0")


def test_store_killed_while_writing_stays_consistent(tmp_path):
    writer = run_python(
        f"""
        from batch_fakes import fake_run, make_specs
        from poolpilot.runs.store import ResultsStore
        store = ResultsStore({str(tmp_path)!r})
        results = [fake_run(s) for s in make_specs(2000)]
        print("ready", flush=True)
        for start in range(0, 2000, 5):
            store.write(results[start : start + 5])
        """
    )
    try:
        assert writer.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 30
        while len(list((tmp_path / "runs.parquet").glob("part-*"))) < 5:
            assert time.monotonic() < deadline, writer.stderr.read()
            time.sleep(0.01)
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    finally:
        writer.kill()
        writer.communicate()

    store = ResultsStore(tmp_path)
    runs = store.read("runs")
    assert 5 * 5 <= len(runs) < 2000
    assert runs["key"].is_unique
    assert len(runs) % 5 == 0  # whole chunks only
    assert not [n for n in files_in(tmp_path) if ".tmp" in n]
    committed = set(os.listdir(tmp_path / "runs.parquet"))
    for table in ("timeseries", "events"):
        assert set(os.listdir(tmp_path / f"{table}.parquet")) <= committed
    timeseries = store.read("timeseries")
    assert set(timeseries["run"]) == set(runs["key"])
    expected = [fake_run(s) for s in make_specs(len(runs))]
    assert set(runs["key"]) == {r.row["key"] for r in expected}  # chunks saved in order


def test_reading_a_sample_of_runs_filters_every_table(tmp_path):
    with ResultsStore(tmp_path / "s") as store:
        results = results_for(12)
        store.write(results[:5])
        store.write(results[5:])
        whole = {t: store.read(t) for t in TABLES}
        keep = [r.row["key"] for r in results[::3]]
        sample = {t: store.read(t, runs=keep) for t in TABLES}
    assert sorted(sample["runs"]["key"]) == sorted(keep)
    for table in ("timeseries", "events"):
        expected = whole[table][whole[table]["run"].isin(keep)].reset_index(drop=True)
        pd.testing.assert_frame_equal(sample[table], expected)
