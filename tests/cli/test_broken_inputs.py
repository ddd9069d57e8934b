"""Broken inputs, files and options, through ``python -m poolpilot`` as a designer runs it.

Every case must exit 2 with exactly one line per problem on stderr, each naming the option or
the field at fault, and no traceback; a ``run`` must stop before any run starts (no
runs.parquet in its --out). The processes of the selected cases start together, a few at a
time, when the first case asks for its outcome: each pays a Python start-up and an import of
Mesa, and one after another they would take minutes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Processes at once (each is mostly CPU: imports, then the check).
AT_ONCE = max(1, min(4, os.cpu_count() or 1))
PRESET = "hospital_led_post_acute"
QUICK = ("--months", "3", "--replicates", "1", "--workers", "1", "--out", "out")
VALIDATE = ("validate", "scenario.yaml")
RUN = ("run", "scenario.yaml", *QUICK)

#: The start of a scenario file that is valid as it stands; each file case adds one mistake.
HEAD = "extends: hospital_led_post_acute\nname: my_pilot\n"


@dataclass(frozen=True)
class Case:
    """A broken command line: its words, the files it finds, what its lines must name."""

    argv: tuple[str, ...]
    named: tuple[str, ...]
    scenario: str | None = None
    lines: int = 1
    files: dict[str, str] = field(default_factory=dict)


def flag(*words: str, named: str | tuple[str, ...]) -> Case:
    """A study of a preset with one wrong option."""
    return Case(("run", PRESET, *QUICK, *words), (named,) if isinstance(named, str) else named)


FILES = {
    "yaml-syntax-error": ("name: [unclosed\n", ("YAML syntax error", re.compile(r":2:\d+:"))),
    "unknown-field": (
        HEAD + "governance: {transparancy: 0.5}\n",
        ("governance.transparancy", "did you mean 'transparency'"),
    ),
    "string-for-a-number": (HEAD + "horizon_months: twelve\n", ("horizon_months", "twelve")),
    "negative-money": (
        HEAD + "payers:\n  - {name: medicaid, annual_contribution: -5}\n",
        ("payers.medicaid.annual_contribution", "-5"),
    ),
    "fraction-above-1": (
        HEAD + "governance: {transparency: 1.5}\n",
        ("governance.transparency", "1.5"),
    ),
    "missing-required-field": (
        HEAD + "payers:\n  - {name: county_fund}\n",
        ("payers.county_fund.annual_contribution", "required"),
    ),
    "unknown-service": (
        HEAD + "providers:\n  - {name: podiatrists, service: podiatry, capacity: 10}\n",
        ("providers.podiatrists.service", "podiatry"),
    ),
    "extends-a-missing-file": (
        "extends: nowhere.yaml\nname: my_pilot\n",
        ("extends", "nowhere.yaml"),
    ),
    "extends-a-mistyped-preset": (
        "extends: hospital_led_post\nname: my_pilot\n",
        ("extends", "did you mean hospital_led_post_acute"),
    ),
    "top-level-not-a-mapping": ("- name: my_pilot\n- horizon_months: 12\n", ("mapping",)),
    "unknown-holder-kind": (HEAD + "holder: {kind: pharmacy}\n", ("holder.kind", "pharmacy")),
    "duplicate-key": (
        HEAD + "horizon_months: 12\nhorizon_months: 24\n",
        ("horizon_months", re.compile(r"\b3\b.*\b4\b|\b4\b.*\b3\b")),
    ),
    "yes-for-a-number": (HEAD + "horizon_months: yes\n", ("horizon_months", "yes")),
    "huge-contribution": (
        HEAD + "payers:\n  - {name: medicaid, annual_contribution: 1.0e+308}\n",
        ("annual_contribution",),
    ),
}
RUN_FILES = ["unknown-field", "extends-a-missing-file", "huge-contribution"]

CASES: dict[str, Case] = {
    **{
        f"validate-{name}": Case(VALIDATE, named, scenario=text)
        for name, (text, named) in FILES.items()
    },
    **{f"run-{name}": Case(RUN, FILES[name][1], scenario=FILES[name][0]) for name in RUN_FILES},
    "validate-empty-file": Case(
        VALIDATE, ("name", "population", "services", "payers"), scenario="", lines=4
    ),
    "validate-circular-extends": Case(
        VALIDATE,
        ("extends", "circular"),
        scenario="extends: other.yaml\nname: a\n",
        files={"other.yaml": "extends: scenario.yaml\nname: b\n"},
    ),
    "validate-no-such-file": Case(("validate", "missing.yaml"), ("missing.yaml", "no such file")),
    # --- options of a study ---
    "replicates-zero": flag("--replicates", "0", named="--replicates"),
    "replicates-negative": flag("--replicates", "-3", named="--replicates"),
    "replicates-not-a-whole-number": flag("--replicates", "2.5", named="--replicates"),
    "seed-negative": flag("--seed", "-5", named="--seed"),
    "months-zero": flag("--months", "0", named="--months"),
    "months-negative": flag("--months", "-6", named="--months"),
    "range-without-lhs": flag("--range", "holder.self_interest=0,0.6", named="--range"),
    "lhs-without-range": flag("--lhs", "5", named="--lhs"),
    "lhs-zero": flag("--lhs", "0", "--range", "holder.self_interest=0,0.6", named="--lhs"),
    "range-low-above-high": flag(
        "--lhs", "5", "--range", "holder.self_interest=5,1", named=("--range", "low")
    ),
    "range-not-numbers": flag("--lhs", "5", "--range", "holder.self_interest=a,b", named="--range"),
    "vary-without-values": flag("--vary", "governance.transparency", named="--vary"),
    "grid-without-values": flag("--grid", "governance.transparency=", named="--grid"),
    "vary-of-an-unknown-field": flag("--vary", "governance.nope=1,2", named=("--vary", "nope")),
    "set-without-equals": flag("--set", "governance.transparency", named="--set"),
    "set-of-an-unknown-field": flag(
        "--set", "governance.nope=1", named=("--set", "governance.nope")
    ),
    "set-of-a-wrong-value": flag("--set", "horizon_months=abc", named=("--set", "horizon_months")),
    "set-of-an-unknown-item": flag(
        "--set", "payers.nobody.annual_contribution=1", named=("--set", "nobody")
    ),
    "workers-zero": flag("--workers", "0", named="--workers"),
    "serial-with-a-scheduler": flag(
        "--executor", "serial", "--scheduler", "tcp://127.0.0.1:8786", named="--scheduler"
    ),
    "scheduler-not-an-address": flag("--scheduler", "http://127.0.0.1:80", named="--scheduler"),
    "scheduler-timeout-zero": flag(
        "--scheduler", "127.0.0.1:8786", "--scheduler-timeout", "0", named="--scheduler-timeout"
    ),
    "out-names-a-file": Case(
        ("run", PRESET, *QUICK[:-1], "taken.txt"), ("--out", "taken.txt"), files={"taken.txt": "x"}
    ),
    "resume-with-overwrite": flag("--resume", "--overwrite", named=("--resume", "--overwrite")),
    "unknown-preset": Case(
        ("run", "hospitl_led_post", *QUICK), ("hospitl_led_post", "hospital_led_post_acute")
    ),
    "run-without-a-scenario": Case(("run",), ("SCENARIO",)),
    "compare-the-same-design-twice": Case(
        ("compare", PRESET, PRESET, *QUICK), ("SCENARIO", PRESET, "twice")
    ),
    "report-of-a-missing-folder": Case(("report", "nowhere"), ("DIR", "nowhere")),
    "report-of-a-folder-without-results": Case(
        ("report", "."), ("DIR", "not a results folder"), files={"notes.txt": "x"}
    ),
    "show-set-of-an-unknown-field": Case(
        ("show", PRESET, "--set", "trust.nope=1"), ("--set", "trust.nope")
    ),
    # --- sensitivity ---
    "sensitivity-unknown-method": Case(("sensitivity", PRESET, "--method", "sobel"), ("--method",)),
    "sensitivity-samples-zero": Case(("sensitivity", PRESET, "--samples", "0"), ("--samples",)),
    "sensitivity-param-malformed": Case(
        ("sensitivity", PRESET, "--param", "trust.gain_rate"), ("--param", "trust.gain_rate")
    ),
    "sensitivity-unknown-metric": Case(
        ("sensitivity", PRESET, "--metrics", "unmet_need"), ("--metrics", "unmet_need_share")
    ),
}


PARAMS = [pytest.param(name, id=name) for name in CASES]


def _launch(name: str, folder: Path) -> subprocess.CompletedProcess[str]:
    case = CASES[name]
    folder.mkdir(parents=True)
    if case.scenario is not None:
        (folder / "scenario.yaml").write_text(case.scenario)
    for file, text in case.files.items():
        (folder / file).write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "POOLPILOT_DEBUG"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "poolpilot", *case.argv],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory):
    """The outcome of every selected case, their processes run a few at a time."""
    selected = [
        item.callspec.params["name"]
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    ]
    root = tmp_path_factory.mktemp("broken")
    with ThreadPoolExecutor(AT_ONCE) as pool:
        done = dict(zip(selected, pool.map(lambda n: _launch(n, root / n), selected), strict=True))
    return {name: (process, root / name) for name, process in done.items()}


def test_there_are_enough_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", PARAMS)
def test_a_broken_input_is_one_line_naming_it_and_exit_2(name, outcomes):
    case = CASES[name]
    process, folder = outcomes[name]
    err = process.stderr
    assert "Traceback" not in err, err
    assert process.returncode == 2, (process.returncode, err, process.stdout[-500:])
    lines = err.splitlines()
    assert len(lines) == case.lines, lines
    for needle in case.named:
        found = needle.search(err) if isinstance(needle, re.Pattern) else needle in err
        assert found, f"{needle!r} not in {err!r}"
    assert not (folder / "out" / "runs.parquet").exists(), "a run started"
