"""The comparative report for funders: one self-contained HTML file per results folder.

``write_report(folder)`` reads a results folder (``manifest.json``, ``runs.parquet``,
``timeseries.parquet``, ``events.parquet`` and, after a sensitivity study, ``indices.parquet``)
and writes ``folder/report.html``: figures embedded as SVG data, styles inline, no script and no
external reference, so it reads offline and prints to PDF from any browser.

The pipeline, one module each: `data` loads the folder; `verdict` (page one: each pooled
design against its own status quo), `tables`, `accounts` and `series` compute the frames;
`figures` draws, `formats` writes numbers, `title` names the study, and `render` fills the
Jinja templates in ``templates/`` (autoescaped) section by section. docs/report.md says how
to read the numbers.
"""

from __future__ import annotations

from pathlib import Path

from poolpilot.report.accounts import party_accounts
from poolpilot.report.data import ReportData, detail_sample, load
from poolpilot.report.formats import fmt, fmt_diff, fmt_diff_interval, fmt_interval
from poolpilot.report.render import SECTIONS, render
from poolpilot.report.series import governance_frames, spend_frames, trajectories
from poolpilot.report.tables import (
    HEADLINES,
    assumptions_frame,
    headline_frame,
    pool_return,
    summary_frame,
)
from poolpilot.report.title import study_title
from poolpilot.report.verdict import OUTCOMES, outcome_frame

__all__ = [
    "HEADLINES",
    "OUTCOMES",
    "REPORT_NAME",
    "SECTIONS",
    "ReportData",
    "assumptions_frame",
    "detail_sample",
    "fmt",
    "fmt_diff",
    "fmt_diff_interval",
    "fmt_interval",
    "governance_frames",
    "headline_frame",
    "load",
    "outcome_frame",
    "party_accounts",
    "pool_return",
    "render",
    "spend_frames",
    "study_title",
    "summary_frame",
    "trajectories",
    "write_report",
]

#: The report's file name inside a results folder.
REPORT_NAME = "report.html"


def write_report(folder: str | Path, title: str | None = None) -> Path:
    """Write ``folder/report.html`` from the results folder and return its path.

    ``title`` replaces the title made from the study (its designs and date); it is not stored.
    Written to a temporary name first, so a reader never sees half a report.
    """
    folder = Path(folder)
    text = render(load(folder), title=title)
    path = folder / REPORT_NAME
    tmp = folder / f".{REPORT_NAME}.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
