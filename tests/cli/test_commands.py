"""The commands end to end, in this process: what they write, print and exit with.

Moved here from tests/runs/test_study.py (the studies layer's own tests stay there), with the
terminal summary, the failure lines and the options the command line adds on top.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import pandas as pd
import pytest

from poolpilot import cli
from poolpilot.cli import main
from poolpilot.model.metrics import METRIC_NAMES
from poolpilot.runs import study
from poolpilot.scenario import load_scenario as real_load

ROOT = Path(__file__).resolve().parents[2]
QUICK = ["--months", "3", "--replicates", "2", "--workers", "1"]


def test_compare_with_the_ideal_baseline_runs_both_baselines(tmp_path):
    out = tmp_path / "c"
    argv = ["compare", "hospital_led_post_acute", "--replicates", "2", "--months", "3"]
    code = main([*argv, "--ideal-baseline", "--out", str(out), "--workers", "1", "--quiet"])
    assert code == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert set(runs["design"]) == {"hospital_led_post_acute", "no_pool_baseline", "no_pool_ideal"}
    assert (runs.groupby("design")["seed"].apply(sorted).map(tuple).nunique()) == 1
    scenarios = json.loads((out / "manifest.json").read_text())["scenarios"]
    silos = {name: s["resolved"]["status_quo"]["silo_budgets"] for name, s in scenarios.items()}
    assert silos == {
        "hospital_led_post_acute": True,
        "no_pool_baseline": True,
        "no_pool_ideal": False,
    }
    assert "against a frictionless planner" in (out / "report.html").read_text(encoding="utf-8")


def test_run_command_writes_the_results_folder(tmp_path, capsys):
    out = tmp_path / "x"
    code = main(
        [
            "run",
            "hospital_led_post_acute",
            "--replicates",
            "20",
            "--months",
            "6",
            "--out",
            str(out),
            "--workers",
            "2",
            "--quiet",
        ]
    )
    assert code == 0
    for name in ("manifest.json", "runs.parquet", "timeseries.parquet", "events.parquet"):
        assert (out / name).exists(), name
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 20
    assert set(METRIC_NAMES) <= set(runs.columns)
    assert (runs["status"] == "ok").all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replicates"] == 20
    assert sorted(manifest["seeds"]) == sorted(runs["seed"].tolist())
    assert "hospital_led_post_acute" in manifest["scenarios"]
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert list(ts.columns) == ["run", "month", "series", "partner", "value"]
    assert {"trust", "spend", "payer_spend", "unmet_need_share", "balance"} <= set(ts["series"])
    events = pd.read_parquet(out / "events.parquet")
    assert {"month", "actor", "action", "target", "amount", "rule", "evidence", "outcome"} <= set(
        events.columns
    )


def test_bad_scenario_on_the_command_line_exits_2(tmp_path, capsys):
    code = main(
        [
            "run",
            "hospital_led_post_acute",
            "--set",
            "horizon_months=0",
            "--out",
            str(tmp_path / "r"),
        ]
    )
    assert code == 2
    assert "horizon_months" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["list"], ["show", "hospital_led_post_acute"]])
def test_listing_commands(argv, capsys):
    assert main(argv) == 0
    assert "hospital_led_post_acute" in capsys.readouterr().out


def test_grid_and_lhs_from_the_command_line(tmp_path):
    out = tmp_path / "g"
    code = main(
        [
            "run",
            "hospital_led_post_acute",
            "--replicates",
            "2",
            "--months",
            "3",
            "--grid",
            "governance.transparency=0.2,0.8",
            "--grid",
            "governance.challenges.rights=none,formal",
            "--out",
            str(out),
            "--workers",
            "1",
            "--quiet",
        ]
    )
    assert code == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 2 * 4 and runs["key"].is_unique
    out = tmp_path / "l"
    code = main(
        [
            "run",
            "hospital_led_post_acute",
            "--replicates",
            "1",
            "--months",
            "3",
            "--lhs",
            "5",
            "--range",
            "holder.self_interest=0,0.6",
            "--out",
            str(out),
            "--workers",
            "1",
            "--quiet",
        ]
    )
    assert code == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert runs["holder.self_interest"].between(0, 0.6).all() and len(runs) == 5
    assert main(["run", "hospital_led_post_acute", "--lhs", "5", "--out", str(tmp_path / "x")]) == 2


def test_a_failing_run_is_recorded_and_the_exit_code_says_so(tmp_path, monkeypatch):
    from poolpilot.model import pilot as model

    real_step = model.PilotModel.step

    def step(self):
        if self.design.holder.self_interest > 0.5:  # some runs of the study fail
            raise RuntimeError("deliberate failure")
        real_step(self)

    monkeypatch.setattr(model.PilotModel, "step", step)
    out = tmp_path / "f"
    code = main(
        [
            "run",
            "hospital_led_post_acute",
            "--replicates",
            "2",
            "--months",
            "3",
            "--vary",
            "holder.self_interest=0.1,0.9",
            "--out",
            str(out),
            "--workers",
            "1",
            "--executor",
            "serial",
            "--quiet",
        ]
    )
    assert code == 1
    runs = pd.read_parquet(out / "runs.parquet")
    assert (runs["status"] == "failed").sum() == 2 and (runs["status"] == "ok").sum() == 2
    assert runs.loc[runs["status"] == "failed", "error"].str.contains("deliberate failure").all()


def test_no_baseline_and_ideal_baseline_refuse_each_other(capsys):
    argv = ["compare", "hospital_led_post_acute", "--no-baseline", "--ideal-baseline"]
    assert main(argv) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "--ideal-baseline" in err[0] and "--no-baseline" in err[0]


# --- python -m poolpilot and the console script --------------------------------------------------


def test_python_dash_m_runs_the_command_line():
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "poolpilot", "list", "--names"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "hospital_led_post_acute" in done.stdout.split()


def test_the_console_script_names_main():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["poolpilot"].partition(":")
    assert (module, name) == ("poolpilot.cli", "main") and cli.main is main


# --- the terminal summary ------------------------------------------------------------------------


def test_run_prints_the_summary_table_then_the_results_line(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "hospital_led_post_acute", *QUICK, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split()[:4] == ["design", "Need", "left", "unmet"]
    assert lines[1].startswith("hospital_led_post_acute ")
    assert lines[-1] == f"results: {out}"
    assert len(lines) <= 6
    assert "writing the report ..." in captured.err


def test_compare_marks_the_baseline_and_shows_the_return(tmp_path, capsys):
    out = tmp_path / "c"
    argv = ["compare", "hospital_led_post_acute", "county_led_bh_housing", *QUICK]
    assert main([*argv, "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "return per $ pooled" in lines[0]
    assert [re.split(r"(?<=\S)  ", line)[0] for line in lines[1:5]] == [
        "hospital_led_post_acute",
        "  status quo (baseline)",
        "county_led_bh_housing",
        "  status quo (baseline)",
    ]
    assert len(lines) <= 12 and lines[-1] == f"results: {out}"


def test_quiet_prints_only_the_results_line(tmp_path, capsys):
    out = tmp_path / "q"
    assert main(["run", "hospital_led_post_acute", *QUICK, "--out", str(out), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"results: {out}\n" and captured.err == ""


def test_plotting_warnings_stay_out_of_the_terminal(tmp_path, capsys, monkeypatch):
    from poolpilot import report
    from poolpilot.cli import reporting

    class Noted(UserWarning):
        pass

    def write_report(folder, title=None):
        warnings.warn("a deprecated pandas call", FutureWarning, stacklevel=1)
        warnings.warn("tight_layout not applied", UserWarning, stacklevel=1)
        warnings.warn("a setting with no effect\nin this design", Noted, stacklevel=1)
        return folder / "report.html"

    monkeypatch.setattr(report, "write_report", write_report)
    monkeypatch.setattr(cli, "ScenarioWarning", Noted)
    monkeypatch.setattr(reporting, "ScenarioWarning", Noted)
    out = tmp_path / "w"
    assert main(["run", "hospital_led_post_acute", *QUICK, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "pandas" not in err and "tight_layout" not in err
    assert "poolpilot: warning: a setting with no effect; in this design\n" in err
    assert "warnings.warn" not in err


def test_a_scenario_warning_is_one_line_without_python_source(capsys, monkeypatch):
    class Noted(UserWarning):
        pass

    def load(source, overrides=None):
        warnings.warn(f"{source}: holder.kind: no own lines to weigh", Noted, stacklevel=2)
        return real_load(source)

    monkeypatch.setattr(cli, "ScenarioWarning", Noted)
    monkeypatch.setattr(cli, "load_scenario", load)
    assert main(["validate", "hospital_led_post_acute"]) == 0
    err = capsys.readouterr().err
    assert (
        err == "poolpilot: warning: hospital_led_post_acute: holder.kind: no own lines to weigh\n"
    )


def test_the_scenario_warning_class_is_taken_from_the_scenario_stage():
    from poolpilot import scenario

    assert cli.ScenarioWarning is getattr(scenario, "ScenarioWarning", None)


# --- failures: one line and an exit code ---------------------------------------------------------


def _failing(monkeypatch, exc):
    def run(*args, **kwargs):
        raise exc

    monkeypatch.setattr(study, "run", run)
    return ["run", "hospital_led_post_acute", "--out", "unused"]


@pytest.mark.parametrize(
    ("exc", "line", "code"),
    [
        (KeyboardInterrupt(), "poolpilot: interrupted", 130),
        (ValueError("two\nlines"), "poolpilot: two; lines", 2),
        (
            PermissionError(13, "Permission denied", "/x/runs.parquet"),
            "poolpilot: /x/runs.parquet: Permission denied",
            2,
        ),
        (FileExistsError(17, "File exists", "/x"), "poolpilot: /x: File exists", 2),
        (
            RuntimeError("boom"),
            "poolpilot: internal error: RuntimeError: boom (set POOLPILOT_DEBUG=1 for the traceback)",
            1,
        ),
    ],
)
def test_what_a_command_raises_is_one_line(monkeypatch, capsys, exc, line, code):
    monkeypatch.delenv("POOLPILOT_DEBUG", raising=False)
    assert main(_failing(monkeypatch, exc)) == code
    assert capsys.readouterr().err == line + "\n"


def test_debug_shows_the_traceback_of_an_internal_error(monkeypatch):
    monkeypatch.setenv("POOLPILOT_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        main(_failing(monkeypatch, RuntimeError("boom")))


def test_an_interrupted_report_is_one_line(tmp_path, capsys, monkeypatch):
    from poolpilot import report

    def write_report(folder, title=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "write_report", write_report)
    out = tmp_path / "i"
    assert main(["run", "hospital_led_post_acute", *QUICK, "--out", str(out), "--quiet"]) == 130
    assert capsys.readouterr().err == "poolpilot: interrupted\n"


def test_the_results_folder_exceptions_are_bad_input():
    from poolpilot.runs import identity

    assert issubclass(identity.StudyMismatch, ValueError)
    assert issubclass(identity.FolderRefused, ValueError)


# --- --overwrite ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("flag", "expected"), [([], False), (["--overwrite"], True)])
def test_overwrite_is_passed_to_the_studies_layer(monkeypatch, flag, expected):
    seen = {}

    def run(scenario, **options):
        seen.update(options)
        raise ValueError("stop here")

    monkeypatch.setattr(study, "run", run)
    assert main(["run", "hospital_led_post_acute", "--out", "unused", *flag]) == 2
    assert seen.get("overwrite") is expected and seen["resume"] is False


def test_overwrite_replaces_the_results_of_a_folder(tmp_path, capsys):
    out = tmp_path / "o"
    argv = ["run", "hospital_led_post_acute", *QUICK, "--out", str(out), "--quiet"]
    assert main(argv) == 0
    assert main(argv) == 2  # a second study into the same folder is refused ...
    assert len(capsys.readouterr().err.splitlines()) == 1
    assert main([*argv, "--overwrite"]) == 0  # ... unless it replaces it
    assert len(pd.read_parquet(out / "runs.parquet")) == 2
