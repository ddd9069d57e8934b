"""``poolpilot explore`` and ``poolpilot discover`` end to end, as subprocesses."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pandas as pd

COST = "services.transitional_care.unit_cost"


def poolpilot(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "poolpilot", *args], capture_output=True, text=True, timeout=600
    )


def explore_args(out) -> list[str]:
    """A small exploration: one uncertainty, one lever of two values, 12 futures of 6 months."""
    return [
        "explore",
        "hospital_led_post_acute",
        "--uncertain",
        f"{COST}=150,300",
        "--lever",
        "governance.challenges.rights=formal,informal",
        "--runs",
        "12",
        "--months",
        "6",
        "--out",
        str(out),
        "--quiet",
    ]


def test_explore_then_discover_writes_the_tables_figures_and_section(tmp_path):
    out = tmp_path / "x"
    ran = poolpilot(*explore_args(out), "--workers", "2")
    assert ran.returncode == 0, ran.stderr
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 12 * 3
    assert "1. When the pool paid" in (out / "report.html").read_text()
    assert 'id="discoveries"' not in (out / "report.html").read_text()
    found = poolpilot("discover", str(out), "--where", f"`{COST}` > 225", "--threshold", "0.9")
    assert found.returncode == 0, found.stderr
    assert "box 1:" in found.stdout and f"{COST} >=" in found.stdout
    first = out / "discoveries" / "services.transitional_care.unit_cost_gt_225_threshold_0.9"
    for name in ("boxes", "box_limits", "trajectory"):
        assert len(pd.read_parquet(first / f"{name}.parquet")) > 0
        assert len(pd.read_csv(first / f"{name}.csv")) > 0
    ET.parse(first / "discovery_trajectory.svg")  # a well-formed figure
    page = (first / "discovery.html").read_text()
    assert "of all the cases where it held" in page and "<svg" in page
    report = (out / "report.html").read_text()  # refreshed: the discovery is in its section
    assert 'id="discoveries"' in report and f"Where `{COST}` &gt; 225" in report
    # a second condition keeps the first one's outputs; the folder stays poolpilot's own
    other = poolpilot("discover", str(out), "--where", "return_on_pool > 0", "--name", "pays")
    assert other.returncode == 0, other.stderr
    assert (out / "discoveries" / "pays" / "discovery.html").is_file()
    assert (first / "discovery.html").read_text() == page
    again = poolpilot(*explore_args(out), "--resume")
    assert again.returncode == 0, again.stderr


def test_explore_samples_lever_settings_when_asked(tmp_path):
    out = tmp_path / "x"
    rights, transparency = "governance.challenges.rights", "governance.transparency"
    ran = poolpilot(
        "explore",
        "hospital_led_post_acute",
        "--uncertain",
        f"{COST}=150,300",
        "--lever",
        f"{rights}=none,informal,formal",
        "--lever",
        f"{transparency}=0.3,0.7",
        "--settings",
        "2",
        "--runs",
        "3",
        "--months",
        "6",
        "--out",
        str(out),
    )
    assert ran.returncode == 0, ran.stderr
    assert "exploring 9 runs (2 of 6 lever settings, sampled," in ran.stderr
    runs = pd.read_parquet(out / "runs.parquet")
    pooled = runs[runs["design"] != "no_pool_baseline"]
    assert len(runs) == 9 and pooled.groupby([rights, transparency]).ngroups == 2
    assert "under 2 lever settings sampled from 6 combinations" in (out / "report.html").read_text()
    ranged = poolpilot(
        "explore",
        "hospital_led_post_acute",
        "--lever-range",
        f"{transparency}=0.2,0.9",
        "--settings",
        "3",
        "--runs",
        "2",
        "--months",
        "6",
        "--out",
        str(tmp_path / "r"),
    )
    assert ranged.returncode == 0, ranged.stderr
    assert "exploring 8 runs (3 lever settings sampled in the levers' ranges" in ranged.stderr
    values = pd.read_parquet(tmp_path / "r" / "runs.parquet")[transparency].dropna()
    assert values.nunique() == 3 and values.between(0.2, 0.9).all()


def test_bad_explore_and_discover_options_are_one_line_and_exit_2(tmp_path):
    cases = [
        ("explore", "hospital_led_post_acute", "--runs", "2"),
        (
            "explore",
            "hospital_led_post_acute",
            "--uncertain",
            f"{COST}=1,2",
            "--lever",
            f"{COST}=1,2",
        ),
        ("explore", "hospital_led_post_acute", "--uncertain", f"{COST}=3,2"),
        (
            "explore",
            "hospital_led_post_acute",
            "--uncertain",
            "nope.x=1,2",
            "--runs",
            "2",
            "--out",
            str(tmp_path / "n"),
        ),
        ("explore", "hospital_led_post_acute", "--uncertain", f"{COST}=1,2", "--settings", "2"),
        ("explore", "hospital_led_post_acute", "--lever", f"{COST}=1,2", "--settings", "0"),
        ("explore", "hospital_led_post_acute", "--lever-range", f"{COST}=100,200"),
        (
            "explore",
            "hospital_led_post_acute",
            "--lever",
            f"{COST}=100,200",
            "--lever-range",
            f"{COST}=100,200",
            "--settings",
            "2",
        ),
        (
            "explore",
            "hospital_led_post_acute",
            "--lever-range",
            f"{COST}=1e12,2e12",
            "--settings",
            "2",
        ),
        ("discover", str(tmp_path), "--where", "return_on_pool > 0"),
        ("discover", str(tmp_path), "--where", "x", "--threshold", "2"),
        ("discover", str(tmp_path), "--where", "x", "--name", "../elsewhere"),
    ]
    for args in cases:
        done = poolpilot(*args)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2, (args, done.stderr)
        assert len(lines) == 1 and "Traceback" not in done.stderr, (args, done.stderr)


def test_robust_writes_the_non_dominated_designs(tmp_path):
    out = tmp_path / "r"
    done = poolpilot(
        "robust",
        "hospital_led_post_acute",
        "--uncertain",
        f"{COST}=150,300",
        "--lever",
        "governance.transparency=0.2,0.8",
        "--objective",
        "return_on_pool:max",
        "--objective",
        "unmet_need_share:min",
        "--measure",
        "percentile:10",
        "--runs",
        "4",
        "--months",
        "6",
        "--population",
        "2",
        "--generations",
        "2",
        "--out",
        str(out),
        "--quiet",
        "--workers",
        "2",
    )
    assert done.returncode == 0, done.stderr
    assert "non-dominated of" in done.stdout
    table = pd.read_parquet(out / "robust_candidates.parquet")
    assert table["non_dominated"].any() and (table["futures"] == 4).all()
    ET.parse(out / "robust_front.svg")
    assert "Designs that hold up" in (out / "robust.html").read_text()
    assert '<section id="robust_section"' in (out / "report.html").read_text()
    bad = poolpilot(
        "robust",
        "hospital_led_post_acute",
        "--lever",
        "governance.transparency=0.2,0.8",
        "--objective",
        "return_on_pool:up",
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
