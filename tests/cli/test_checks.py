"""Each check of the command line by hand: what it accepts, what it refuses, and in what words.

The words matter: the line a designer reads must name what was given and what is expected.
"""

from __future__ import annotations

import argparse

import pytest

from poolpilot.cli import checks
from poolpilot.scenario import Problem, ScenarioError


def refused(check, text: str) -> str:
    with pytest.raises(argparse.ArgumentTypeError) as err:
        check(text)
    message = str(err.value)
    assert "\n" not in message
    return message


# --- option values -------------------------------------------------------------------------------


def test_a_count_is_a_whole_number_of_at_least_one():
    assert checks.count("3") == 3
    assert "at least 1 (given 0)" in refused(checks.count, "0")
    assert "at least 1 (given -2)" in refused(checks.count, "-2")
    assert "whole number (given 'x')" in refused(checks.count, "x")
    assert "whole number (given '1.5')" in refused(checks.count, "1.5")


def test_a_seed_is_zero_or_more():
    assert checks.seed("0") == 0 and checks.seed("12345") == 12345
    assert "0 or more (given -5)" in refused(checks.seed, "-5")
    assert "whole number" in refused(checks.seed, "seven")


def test_seconds_are_positive_and_finite():
    assert checks.seconds("2.5") == 2.5
    for text in ("0", "-1", "inf", "nan"):
        assert "positive number of seconds" in refused(checks.seconds, text)
    assert "number of seconds (given 'soon')" in refused(checks.seconds, "soon")


def test_an_assignment_needs_a_path_and_an_equals_sign():
    assert checks.assignment("governance.transparency=0.5") == "governance.transparency=0.5"
    assert checks.assignment("description=") == "description="  # an empty value is a value
    assert "PATH=VALUE (given 'governance')" in refused(checks.assignment, "governance")
    assert "PATH=VALUE" in refused(checks.assignment, "=0.5")


def test_field_values_are_read_as_yaml():
    assert checks.field_values("a.b=1,2.5") == ("a.b", [1, 2.5])
    assert checks.field_values("rights=none, formal") == ("rights", ["none", "formal"])
    assert checks.field_values("flag=true") == ("flag", [True])
    for text in ("a.b", "a.b=", "=1,2"):
        assert "PATH=V1,V2,..." in refused(checks.field_values, text)
    assert "an empty value in 'a=1,,2'" in refused(checks.field_values, "a=1,,2")


def test_a_range_is_two_finite_numbers_low_below_high():
    assert checks.field_range("holder.self_interest=0,0.6") == ("holder.self_interest", (0.0, 0.6))
    assert "low must be below high (given 5, 1)" in refused(checks.field_range, "p=5,1")
    assert "low must be below high (given 1, 1)" in refused(checks.field_range, "p=1,1")
    assert "two numbers (given 'p=a,b')" in refused(checks.field_range, "p=a,b")
    assert "two numbers" in refused(checks.field_range, "p=1")
    assert "two numbers" in refused(checks.field_range, "p=1,2,3")
    assert "finite" in refused(checks.field_range, "p=0,inf")
    assert "PATH=LOW,HIGH" in refused(checks.field_range, "p")


def test_a_sensitivity_parameter_is_bounds_or_levels():
    assert checks.sensitivity_parameter("trust.gain_rate=0.02,0.1") == "trust.gain_rate=0.02,0.1"
    assert checks.sensitivity_parameter("rights=none|formal") == "rights=none|formal"
    assert "expected path=lo,hi" in refused(checks.sensitivity_parameter, "trust.gain_rate")
    assert "bounds must be two numbers" in refused(checks.sensitivity_parameter, "p=1")
    assert "an empty level" in refused(checks.sensitivity_parameter, "p=a||b")
    assert "lo must be below hi (given 2, 1)" in refused(checks.sensitivity_parameter, "p=2,1")


def test_a_group_is_path_equals_name():
    assert checks.group("holder.planning_cycle_months=cadence")
    assert "path=name" in refused(checks.group, "holder.planning_cycle_months")


def test_a_metric_is_one_of_the_registry_with_the_closest_names():
    assert checks.metric("unmet_need_share") == "unmet_need_share"
    message = refused(checks.metric, "unmet_need")
    assert "unknown metric 'unmet_need'" in message and "unmet_need_share" in message
    assert refused(checks.metric, "zzz") == "unknown metric 'zzz'"


@pytest.mark.parametrize(
    "address", ["tcp://127.0.0.1:8786", "localhost:8786", "[::1]:8786", "tcp://sched-1.lan:1"]
)
def test_a_scheduler_address_is_host_and_port(address):
    assert checks.scheduler_address(address) == address


@pytest.mark.parametrize(
    "address", ["http://x:8786", "tls://x:8786", "x", "tcp://x", "x:0", "x:65536", "x:port", ""]
)
def test_other_scheduler_addresses_are_refused(address):
    assert "tcp://HOST:PORT or HOST:PORT" in refused(checks.scheduler_address, address)


def test_out_is_anything_but_a_file(tmp_path):
    assert checks.out_folder(str(tmp_path)) == tmp_path
    assert checks.out_folder(str(tmp_path / "new")) == tmp_path / "new"
    (tmp_path / "notes.txt").write_text("x")
    assert "is a file, not a results folder" in refused(
        checks.out_folder, str(tmp_path / "notes.txt")
    )


def test_a_results_folder_holds_runs(tmp_path):
    assert "no such folder" in refused(checks.results_folder, str(tmp_path / "missing"))
    (tmp_path / "notes.txt").write_text("x")
    assert "is a file" in refused(checks.results_folder, str(tmp_path / "notes.txt"))
    assert "no runs.parquet" in refused(checks.results_folder, str(tmp_path))
    (tmp_path / "runs.parquet").write_bytes(b"")
    assert checks.results_folder(str(tmp_path)) == tmp_path


# --- the parser and options that go together ---------------------------------------------------


def test_a_parser_error_is_one_line_without_the_usage(capsys):
    parser = checks.OneLineParser(prog="poolpilot run")
    parser.add_argument("--replicates", type=checks.count)
    with pytest.raises(SystemExit) as stopped:
        parser.parse_args(["--replicates", "0"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err == "poolpilot run: error: argument --replicates: must be at least 1 (given 0)\n"


def test_one_line_joins_lines():
    assert checks.one_line("a\n  b\n\nc") == "a; b; c"


def _study(**given) -> argparse.Namespace:
    options = dict(lhs=None, ranges=[], vary=[], grid=[], scheduler=None, executor=None)
    options.update(scheduler_timeout=None, scenarios=None)
    return argparse.Namespace(**{**options, **given})


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"ranges": [("p", (0.0, 1.0))]}, "--range is for --lhs N"),
        ({"lhs": 5}, "--lhs needs at least one --range"),
        ({"scheduler": "tcp://x:1", "executor": "serial"}, "not with --executor serial"),
        ({"scheduler": "tcp://x:1", "executor": "process"}, "not with --executor process"),
        ({"scheduler_timeout": 3.0}, "--scheduler-timeout is for --scheduler"),
        ({"vary": [("p", [1]), ("p", [2])]}, "--vary p is given twice"),
        ({"grid": [("p", [1]), ("p", [2])]}, "--grid p is given twice"),
        ({"scenarios": ["lead_commissioner", "lead_commissioner.yaml"]}, "given twice"),
    ],
)
def test_options_that_go_together(given, words):
    with pytest.raises(checks.OptionError, match=words):
        checks.check_study(_study(**given))


def test_options_that_do_go_together_pass():
    checks.check_study(_study(lhs=3, ranges=[("p", (0.0, 1.0))], scheduler="x:1", executor="dask"))
    checks.check_study(_study(scenarios=["lead_commissioner", "hospital_led_post_acute"]))


# --- what failures print -------------------------------------------------------------------------


def test_a_problem_at_a_field_given_on_the_command_line_names_the_option():
    args = argparse.Namespace(
        overrides=["governance.nope=1"],
        vary=[("holder.kind", ["county"])],
        grid=[],
        ranges=[("holder.self_interest", (0.0, 0.6))],
        param=["trust.gain_rate=0.5,3"],
    )
    err = ScenarioError(
        [
            Problem("a.yaml", "governance.nope", "unknown field"),
            Problem("a", "holder.kind", "input should be 'hospital' or 'county'"),
            Problem("a", "holder.self_interest", "must be at most 1"),
            Problem("a", "sensitivity.parameters.trust.gain_rate", "3.0 refused"),
            Problem("a.yaml", "payers.medicaid.annual_contribution", "must be positive"),
        ]
    )
    assert checks.problem_lines(err, checks.sources(args)) == [
        "--set governance.nope=1: unknown field",
        "--vary holder.kind=county: input should be 'hospital' or 'county'",
        "--range holder.self_interest=0.0,0.6: must be at most 1",
        "--param trust.gain_rate=0.5,3: 3.0 refused",
        "a.yaml: payers.medicaid.annual_contribution: must be positive",
    ]


def test_a_set_below_an_unknown_section_is_that_sections_problem():
    source = checks.Source("--set", "nope.deeper", "nope.deeper=1")
    assert source.covers("nope") and source.covers("nope.deeper")
    assert not source.covers("nopes") and not source.covers("")


def test_an_unknown_preset_gets_the_closest_names():
    err = ScenarioError(
        [
            Problem("hospitl_led", "", "no such file or preset"),
            Problem(
                "my.yaml", "extends", "cannot extend 'lead_comissioner': no such file or preset"
            ),
            Problem("zzzz", "", "no such file or preset"),
        ]
    )
    assert checks.problem_lines(err) == [
        "hospitl_led: no such file or preset (did you mean hospital_led_post_acute?)",
        "my.yaml: extends: cannot extend 'lead_comissioner': no such file or preset "
        "(did you mean lead_commissioner?)",
        "zzzz: no such file or preset",
    ]


@pytest.mark.parametrize(
    ("exc", "lines", "code"),
    [
        (KeyboardInterrupt(), ["poolpilot: interrupted"], 130),
        (
            checks.OptionError("--lhs needs a --range"),
            ["poolpilot run: error: --lhs needs a --range"],
            2,
        ),
        (
            ScenarioError([Problem("f.yaml", "a", "x"), Problem("f.yaml", "b", "y")]),
            ["f.yaml: a: x", "f.yaml: b: y"],
            2,
        ),
        (ValueError("refused"), ["poolpilot: refused"], 2),
        (OSError("no space"), ["poolpilot: no space"], 2),
        (
            ImportError("the dask executor needs dask.distributed"),
            ["poolpilot: the dask executor needs dask.distributed"],
            1,
        ),
        (
            KeyError("x"),
            ["poolpilot: internal error: KeyError: 'x' (set POOLPILOT_DEBUG=1 for the traceback)"],
            1,
        ),
    ],
)
def test_what_each_failure_prints_and_exits_with(monkeypatch, exc, lines, code):
    monkeypatch.delenv("POOLPILOT_DEBUG", raising=False)
    assert checks.failure(exc, (), "poolpilot run") == (lines, code)


def test_debug_raises_an_internal_error_again_and_prints_a_bad_inputs_traceback(
    monkeypatch, capsys
):
    monkeypatch.setenv("POOLPILOT_DEBUG", "1")
    with pytest.raises(KeyError):
        checks.failure(KeyError("x"))
    try:
        raise ValueError("refused")
    except ValueError as exc:
        assert checks.failure(exc) == (["poolpilot: refused"], 2)
    assert "Traceback" in capsys.readouterr().err
