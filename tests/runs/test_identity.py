"""A results folder holds exactly one study: marked incomplete until it finishes, resumed only
by the same study, replaced only on request, and never mixed with files poolpilot did not write.

Studies here are the tiny scenario at 6 months, 2 replicates, run serially: milliseconds each.
"""

from __future__ import annotations

import gc
import json
import re
import subprocess
import sys
import textwrap
from concurrent.futures import Executor, Future
from pathlib import Path

import pandas as pd
import pytest
import yaml

from poolpilot.cli import main
from poolpilot.runs import FolderRefused, StudyMismatch, study
from poolpilot.runs.identity import foreign_files, read_manifest
from poolpilot.scenario import validate_data
from tiny import TINY, tiny_data

QUICK = dict(replicates=2, months=6, workers=1, progress="none")
GAIN = "trust.gain_rate"


def tiny(**changes):
    return validate_data(tiny_data(**changes), "tiny.yaml")


class StopAfter(Executor):
    """Runs chunks in this process, then Ctrl-C: as a user interrupting the study would.

    Keeps the folder's manifest as each chunk is submitted: what a reader sees mid-study.
    """

    def __init__(self, chunks: int, folder: Path):
        self.chunks = chunks
        self.folder = folder
        self.manifests: list[dict | None] = []

    def submit(self, fn, /, *args, **kwargs):
        self.manifests.append(read_manifest(self.folder))
        if len(self.manifests) > self.chunks:
            raise KeyboardInterrupt
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def interrupted(out: Path, chunks: int = 2) -> tuple[study.StudyResults, StopAfter]:
    """A study of 3 points x 2 replicates (chunks of one run) stopped after ``chunks`` chunks."""
    stop = StopAfter(chunks, out)
    result = study.run(tiny(), out=out, executor=stop, vary={GAIN: [0.02, 0.04, 0.06]}, **QUICK)
    return result, stop


def refusal(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def sorted_runs(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("key").reset_index(drop=True)


# -- the manifest -------------------------------------------------------------------------


def test_the_manifest_is_written_at_the_start_and_an_interrupted_study_stays_incomplete(
    tmp_path,
):
    out = tmp_path / "x"
    result, stop = interrupted(out)
    during = stop.manifests[0]
    assert during["complete"] is False and during["runs_planned"] == 6 and during["runs_done"] == 0
    assert result.summary.interrupted
    after = read_manifest(out)
    assert after["complete"] is False
    assert (after["runs_planned"], after["runs_done"]) == (6, 2)
    assert (result.runs_done, result.runs_planned, result.complete) == (2, 6, False)
    assert not (out / "manifest.json.tmp").exists()


def test_a_finished_study_is_complete_with_every_planned_run_done(tmp_path):
    result = study.run(tiny(), out=tmp_path / "x", **QUICK)
    manifest = read_manifest(result.folder)
    assert manifest["complete"] is True
    assert manifest["runs_planned"] == manifest["runs_done"] == 2
    assert (result.runs_done, result.runs_planned, result.complete) == (2, 2, True)
    # the keys other code reads are still there
    for key in ("poolpilot_version", "command", "created", "study_seed", "replicates", "seeds"):
        assert key in manifest
    assert manifest["scenarios"]["tiny"]["resolved"]["horizon_months"] == 6
    assert manifest["months"] == {"tiny": 6}


def test_a_failed_run_is_recorded_and_counts_as_done(tmp_path, monkeypatch):
    from poolpilot.model import pilot

    real = pilot.PilotModel.step

    def step(self):
        if self.design.trust.gain_rate > 0.05:
            raise RuntimeError("deliberate failure")
        real(self)

    monkeypatch.setattr(pilot.PilotModel, "step", step)
    result = study.run(tiny(), out=tmp_path / "x", vary={GAIN: [0.02, 0.06]}, **QUICK)
    assert result.summary.failed == 2
    assert (result.runs_done, result.runs_planned, result.complete) == (4, 4, True)


# -- resume -------------------------------------------------------------------------------


def test_resume_finishes_the_study_with_the_rows_of_an_uninterrupted_run(tmp_path):
    out = tmp_path / "x"
    first, _ = interrupted(out)
    assert first.runs_done == 2
    created = read_manifest(out)["created"]
    resumed = study.run(tiny(), out=out, vary={GAIN: [0.02, 0.04, 0.06]}, resume=True, **QUICK)
    assert (resumed.summary.skipped, resumed.summary.ok) == (2, 4)
    assert resumed.complete and resumed.runs_done == 6
    assert read_manifest(out)["created"] == created  # one study, started once
    whole = study.run(tiny(), out=tmp_path / "whole", vary={GAIN: [0.02, 0.04, 0.06]}, **QUICK)
    pd.testing.assert_frame_equal(sorted_runs(resumed.runs), sorted_runs(whole.runs))
    key = ["run", "series", "partner", "month"]
    pd.testing.assert_frame_equal(
        resumed.timeseries.sort_values(key).reset_index(drop=True),
        whole.timeseries.sort_values(key).reset_index(drop=True),
    )


def test_resume_on_an_empty_or_missing_folder_starts_the_study(tmp_path):
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "missing" / "deeper"):
        result = study.run(tiny(), out=out, resume=True, **QUICK)
        assert result.complete and result.summary.ok == 2


OTHER_DESIGNS = {
    "another design": (
        dict(scenario=tiny(name="other")),
        r"\(designs tiny, not other\)",
    ),
    "other seed": (dict(seed=5), r"\(seed 0, not 5\)"),
    "other replicates": (dict(replicates=3), r"\(replicates 2, not 3\)"),
    "other months": (dict(months=5), r"\(months 6, not 5\)"),
    "other --set": (
        dict(overrides=["holder.data_accuracy=0.8"]),
        r"\(design tiny differs in holder.data_accuracy \(scenario hash \w+, not \w+\)\)",
    ),
    "other vary": (dict(vary={GAIN: [0.02, 0.09]}), r"varied values .*0\.04.*, not .*0\.09"),
    "other varied path": (
        dict(vary={"trust.loss_asymmetry": [1.5, 2.0]}),
        r"varied trust.gain_rate, not trust.loss_asymmetry",
    ),
}


@pytest.mark.parametrize("difference", list(OTHER_DESIGNS))
def test_resume_refuses_another_study_and_names_what_differs(tmp_path, difference):
    out = tmp_path / "x"
    study.run(tiny(), out=out, vary={GAIN: [0.02, 0.04]}, **QUICK)
    options, expected = OTHER_DESIGNS[difference]
    options = {**QUICK, "vary": {GAIN: [0.02, 0.04]}, **options}
    scenario = options.pop("scenario", tiny())
    before = read_manifest(out)
    with pytest.raises(StudyMismatch) as caught:
        study.run(scenario, out=out, resume=True, **options)
    message = refusal(caught)
    assert message.startswith(f"{out}: --resume refused: this folder holds another study (")
    assert message.endswith("; use another --out or --overwrite")
    assert re.search(expected, message), message
    assert read_manifest(out) == before  # nothing written
    assert len(study.StudyResults(out, None).runs) == 4


def test_resume_refuses_an_edited_scenario_file(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    out = study.run(str(path), out=tmp_path / "x", **QUICK).folder
    edited = tiny_data(providers=[{"name": "nurses", "service": "nursing", "capacity": 150}])
    path.write_text(yaml.safe_dump(edited))  # the same design name, another scenario
    with pytest.raises(StudyMismatch, match=r"design tiny differs in providers \(scenario hash"):
        study.run(str(path), out=out, resume=True, **QUICK)


def test_resume_refuses_a_compare_into_a_run_and_metrics_only_runs(tmp_path):
    out = tmp_path / "x"
    study.run(tiny(), out=out, **QUICK)
    with pytest.raises(StudyMismatch, match=r"\(no design no_pool_baseline\)"):
        study.compare([tiny()], out=out, resume=True, **QUICK)
    designs = [study.prepare_design(tiny(), None, 6)]
    with pytest.raises(StudyMismatch, match="runs with timeseries and events, not metrics-only"):
        study.execute_study(designs, replicates=2, out=out, resume=True, detail=False, workers=1)


def test_runs_without_a_manifest_cannot_be_resumed_or_reused(tmp_path):
    out = tmp_path / "x"
    study.run(tiny(), out=out, **QUICK)
    (out / "manifest.json").unlink()  # as an older poolpilot left it after Ctrl-C
    with pytest.raises(StudyMismatch) as caught:
        study.run(tiny(), out=out, resume=True, **QUICK)
    assert "no manifest.json, so their study cannot be checked" in refusal(caught)
    with pytest.raises(FolderRefused) as caught:
        study.run(tiny(), out=out, **QUICK)
    assert "without a manifest" in refusal(caught) and "--overwrite" in refusal(caught)
    assert study.StudyResults(out, None).complete is False
    assert study.StudyResults(out, None).runs_planned is None
    assert study.run(tiny(), out=out, overwrite=True, **QUICK).complete


def test_an_error_before_any_run_leaves_no_study_behind(tmp_path):
    out = tmp_path / "x"
    with pytest.raises(ValueError, match="workers must be at least 1"):
        study.run(tiny(), out=out, **{**QUICK, "workers": 0})
    assert read_manifest(out) is None
    assert study.run(tiny(), out=out, **QUICK).complete  # no --resume or --overwrite needed


def test_an_unreadable_manifest_is_refused_unless_overwritten(tmp_path):
    out = tmp_path / "x"
    study.run(tiny(), out=out, **QUICK)
    (out / "manifest.json").write_text("{not json")
    for mode in ({}, {"resume": True}):
        with pytest.raises(FolderRefused, match="manifest.json cannot be read") as caught:
            study.run(tiny(), out=out, **mode, **QUICK)
        refusal(caught)
    assert study.run(tiny(), out=out, overwrite=True, **QUICK).complete


# -- without resume: refused, or replaced on request --------------------------------------


def test_a_folder_holding_a_study_is_refused_without_resume_or_overwrite(tmp_path):
    out = tmp_path / "x"
    study.run(tiny(), out=out, **QUICK)
    with pytest.raises(FolderRefused) as caught:
        study.run(tiny(), out=out, **QUICK)
    assert refusal(caught) == (
        f"{out}: already holds a study; pass --resume to finish it or --overwrite to replace it"
    )
    interrupted(tmp_path / "y", chunks=0)  # started, nothing finished: still a study
    with pytest.raises(FolderRefused, match="already holds a study"):
        study.run(tiny(), out=tmp_path / "y", **QUICK)


def test_the_command_line_prints_the_refusal_and_exits_2(tmp_path, capsys):
    out = tmp_path / "x"
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    argv = ["run", str(tmp_path / "tiny.yaml"), "--replicates", "2", "--months", "3"]
    argv += ["--out", str(out)]
    assert main([*argv, "--workers", "1", "--quiet"]) == 0
    capsys.readouterr()
    assert main([*argv, "--workers", "1", "--quiet"]) == 2
    assert capsys.readouterr().err == (
        f"poolpilot: {out}: already holds a study; pass --resume to finish it or "
        "--overwrite to replace it\n"
    )
    assert main([*argv, "--seed", "5", "--resume", "--workers", "1", "--quiet"]) == 2
    assert "(seed 0, not 5)" in capsys.readouterr().err


def test_overwrite_replaces_what_poolpilot_wrote(tmp_path):
    out = tmp_path / "x"
    study.run(tiny(), out=out, **QUICK)
    for name in ("report.html", "indices.csv", "sensitivity.json", "sobol_unmet_need_share.png"):
        (out / name).write_text("old")
    again = study.run(tiny(), out=out, seed=5, overwrite=True, **QUICK)
    assert again.complete and read_manifest(out)["study_seed"] == 5
    assert sorted(again.runs["seed"]) == sorted(study.run_seeds(5, 2))
    assert sorted(p.name for p in out.iterdir()) == [
        ".lock",
        "events.parquet",
        "manifest.json",
        "runs.parquet",
        "timeseries.parquet",
    ]
    assert study.run(tiny(), out=tmp_path / "new", overwrite=True, **QUICK).complete


def test_resume_and_overwrite_together_are_refused(tmp_path):
    with pytest.raises(ValueError, match="exclude each other") as caught:
        study.run(tiny(), out=tmp_path / "x", resume=True, overwrite=True, **QUICK)
    refusal(caught)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("mode", [{}, {"resume": True}, {"overwrite": True}])
def test_files_poolpilot_did_not_write_are_refused_in_every_mode(tmp_path, mode):
    out = tmp_path / "x"
    study.run(tiny(), out=out, **QUICK)
    (out / "notes.txt").write_text("mine")
    (out / "runs.parquet" / "draft.csv").write_text("mine too")
    with pytest.raises(FolderRefused) as caught:
        study.run(tiny(), out=out, **mode, **QUICK)
    assert refusal(caught) == (
        f"{out}: holds files poolpilot did not write (notes.txt, runs.parquet/draft.csv); "
        "choose an empty folder"
    )
    assert (out / "notes.txt").read_text() == "mine"
    assert read_manifest(out)["complete"] is True

    elsewhere = tmp_path / "mine"
    elsewhere.mkdir()
    (elsewhere / "thesis.docx").write_text("")
    with pytest.raises(FolderRefused, match=r"\(thesis.docx\)"):
        study.run(tiny(), out=elsewhere, **mode, **QUICK)
    assert [p.name for p in elsewhere.iterdir()] == ["thesis.docx"]


def test_a_file_as_out_is_refused(tmp_path):
    path = tmp_path / "results.txt"
    path.write_text("")
    for mode in ({}, {"resume": True}, {"overwrite": True}):
        with pytest.raises(FolderRefused) as caught:
            study.run(tiny(), out=path, **mode, **QUICK)
        assert refusal(caught) == f"{path}: is a file, not a folder"


HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(os.path.join(sys.argv[1], ".lock"), os.O_RDWR | os.O_CREAT)
fcntl.lockf(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_folder_another_study_is_writing_is_refused(tmp_path):
    out = tmp_path / "x"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLD_LOCK), str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        for mode in ({}, {"resume": True}, {"overwrite": True}):
            with pytest.raises(FolderRefused) as caught:
                study.run(tiny(), out=out, **mode, **QUICK)
            assert refusal(caught) == (
                f"{out}: another poolpilot study is writing this folder "
                "(wait for it or choose another --out)"
            )
    finally:
        holder.communicate("", timeout=30)
    assert study.run(tiny(), out=out, **QUICK).complete  # free again


# -- temporary folders --------------------------------------------------------------------


def test_a_temporary_study_folder_goes_with_its_results(tmp_path):
    result = study.run(tiny(), **QUICK)
    folder = result.folder
    runs = result.runs
    assert folder.is_dir() and result.complete
    del result
    gc.collect()
    assert not folder.exists()
    assert len(runs) == 2  # tables read before are kept


def test_a_sensitivity_folder_holds_only_what_poolpilot_wrote(tmp_path):
    from poolpilot.analysis import sensitivity
    from poolpilot.report import write_report

    out = tmp_path / "s"
    options = dict(
        method="morris",
        samples=2,
        metrics=["unmet_need_share"],
        parameters=[{"path": GAIN, "bounds": [0.02, 0.1]}],
        months=6,
        out=out,
        workers=1,
        progress="none",
    )
    sensitivity.analyze_scenario(tiny_data(), **options)
    write_report(out)
    assert (out / "indices.csv").exists() and (out / "report.html").exists()
    assert foreign_files(out) == []
    assert json.loads((out / "manifest.json").read_text())["kind"]["detail"] is False
    with pytest.raises(FolderRefused, match="already holds a study"):
        sensitivity.analyze_scenario(tiny_data(), **options)
    again = sensitivity.analyze_scenario(tiny_data(), seed=1, overwrite=True, **options)
    assert again.summary.skipped == 0 and not (out / "report.html").exists()
