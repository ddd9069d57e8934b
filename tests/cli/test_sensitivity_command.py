"""``poolpilot sensitivity``: a tiny study end to end, and bad input refused before any run.

Moved from tests/analysis/test_sensitivity_scenario.py, which tests `analyze_scenario` itself.
"""

from __future__ import annotations

import pandas as pd
import pytest

from poolpilot import cli

SCENARIO = "hospital_led_post_acute"


def _cli(tmp_path, *extra):
    return cli.main(
        [
            "sensitivity",
            SCENARIO,
            "--months",
            "6",
            "--workers",
            "1",
            "--quiet",
            "--out",
            str(tmp_path / "cli"),
            "--param",
            "governance.challenges.rights=none|informal|formal",
            "--param",
            "holder.planning_cycle_months=1,6",
            "--group",
            "holder.planning_cycle_months=cadence",
            *extra,
        ]
    )


def test_cli_runs_a_tiny_study_then_writes_the_report(tmp_path, capsys, monkeypatch):
    from poolpilot import report

    written = []

    def write_report(folder, title=None):
        # the analysis is finished when the report is asked for
        assert (folder / "indices.parquet").exists()
        written.append(folder)

    # the report is tested on its own; here only that the command asks for it, after
    monkeypatch.setattr(report, "write_report", write_report)
    assert _cli(tmp_path, "--samples", "4", "--metrics", "trust_final_mean") == 0
    assert "results:" in capsys.readouterr().out
    assert written == [tmp_path / "cli"]
    indices = pd.read_csv(tmp_path / "cli" / "indices.csv")
    assert set(indices["parameter"]) == {"governance.challenges.rights", "cadence"}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--samples", "4", "--metrics", "trust_final_mean", "no_such_metric"], "no_such_metric"),
        (["--samples", "6"], "power of two"),
        (["--samples", "4", "--param", "trust.gain_rate=0.5,3"], "3.0 refused"),
        (["--param", "trust.gain_rate"], "expected path=lo,hi"),
    ],
)
def test_cli_bad_input_exits_2(tmp_path, capsys, extra, expected):
    assert _cli(tmp_path, *extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not (tmp_path / "cli").exists()
