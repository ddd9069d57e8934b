"""``--scheduler``: an address where no Dask scheduler answers fails in time, in one line.

Before, a closed port waited 30 s and then failed with an OSError, and a server speaking
another protocol had its reply read as a message length: an allocation of exabytes. Now the
connection gives up after ``--scheduler-timeout`` seconds, whatever is (or is not) listening,
and the command exits 2 naming the option and the address. A real scheduler still connects.
"""

from __future__ import annotations

import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from poolpilot.runs.executors import Scheduler, SchedulerUnreachable, _connect

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 2.0
#: What the connection may take beyond its timeout, as the issue asks.
GRACE = 5.0


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Silent(socketserver.BaseRequestHandler):
    """An HTTP server: it waits for a request and never speaks first."""

    def handle(self) -> None:
        self.request.settimeout(TIMEOUT + GRACE)
        try:
            if self.request.recv(1024):
                self.request.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            pass


class _Garbage(socketserver.BaseRequestHandler):
    """A server that greets every connection with bytes that are not Dask's."""

    def handle(self) -> None:
        try:
            self.request.sendall(b"HTTP/1.1 200 OK\r\nServer: not-dask\r\n\r\n" + b"\xff" * 4096)
            time.sleep(TIMEOUT)
        except OSError:
            pass


@pytest.fixture(params=[_Silent, _Garbage], ids=["http-server", "garbage-server"])
def foreign_server(request):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), request.param)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"tcp://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def poolpilot(*argv: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if k != "POOLPILOT_DEBUG"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "poolpilot", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, time.monotonic() - started


def study(address: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    quick = ["--months", "3", "--replicates", "1", "--workers", "1", "--out", "out"]
    return poolpilot(
        "run",
        "hospital_led_post_acute",
        *quick,
        "--scheduler",
        address,
        "--scheduler-timeout",
        f"{TIMEOUT:g}",
        "--quiet",
        cwd=tmp_path,
    )


def assert_refused(done: subprocess.CompletedProcess[str], address: str) -> None:
    assert "Traceback" not in done.stderr and done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"poolpilot: --scheduler {address}: no Dask scheduler answered")
    assert f"within {TIMEOUT:g} s" in lines[0]


# --- the connection itself, timed precisely --------------------------------------------------------


def test_a_closed_port_is_refused_within_the_timeout():
    address = f"tcp://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    with pytest.raises(SchedulerUnreachable) as err:
        _connect(Scheduler(address, TIMEOUT))
    assert time.monotonic() - started < TIMEOUT + 1
    assert str(err.value) == (
        f"scheduler {address}: no Dask scheduler answered within 2 s (connection refused)"
    )


def test_a_foreign_server_is_refused_within_the_timeout(foreign_server):
    started = time.monotonic()
    with pytest.raises(SchedulerUnreachable, match="no Dask scheduler answered within 2 s"):
        _connect(Scheduler(foreign_server, TIMEOUT))
    assert time.monotonic() - started < TIMEOUT + 1


def test_an_unknown_host_is_refused():
    with pytest.raises(SchedulerUnreachable, match="unknown host"):
        _connect(Scheduler("tcp://no-such-host.invalid:8786", TIMEOUT))


# --- through the command line ----------------------------------------------------------------------


def baseline_seconds(tmp_path: Path) -> float:
    """How long the command takes to start and refuse an option here, now (the machine may be
    busy): the scheduler's cases may take that, plus the timeout, plus the grace."""
    _, seconds = poolpilot("run", "hospital_led_post_acute", "--seed", "-1", cwd=tmp_path)
    return seconds


def test_the_command_refuses_a_closed_port_in_time(tmp_path):
    address = f"tcp://127.0.0.1:{closed_port()}"
    start_up = baseline_seconds(tmp_path)
    done, seconds = study(address, tmp_path)
    assert_refused(done, address)
    assert "(connection refused)" in done.stderr
    assert seconds < start_up + TIMEOUT + GRACE
    runs = tmp_path / "out" / "runs.parquet"  # no run started
    assert not runs.exists() or pd.read_parquet(runs).empty


def test_the_command_refuses_a_foreign_server_in_time(tmp_path, foreign_server):
    start_up = baseline_seconds(tmp_path)
    done, seconds = study(foreign_server, tmp_path)
    assert_refused(done, foreign_server)
    assert seconds < start_up + TIMEOUT + GRACE


def test_a_real_scheduler_runs_the_study(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        done, _ = study(cluster.scheduler_address, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "results: out"
    assert len(pd.read_parquet(tmp_path / "out" / "runs.parquet")) == 1
