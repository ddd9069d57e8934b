"""The report's title and date, from the study: a funder sees what was compared and when, not
the name of a results folder."""

from __future__ import annotations

from datetime import datetime

from poolpilot.report.data import ReportData
from poolpilot.report.verdict import number

#: The dash between a title and its date.
DASH = "\u2014"


def study_date(created: str | None) -> str | None:
    """An ISO timestamp as a date a reader writes: "3 December 2026" (None when unknown)."""
    if not created:
        return None
    try:
        when = datetime.fromisoformat(str(created))
    except ValueError:
        return None
    return f"{when.day} {when:%B %Y}"


def study_title(data: ReportData) -> str:
    """What was compared, and when: "Three pooled designs against the status quo — 3 December
    2026"; one design is named; a study without a baseline says the designs are compared."""
    offered = [label for label in data.labels if label not in data.baselines]
    n = len(offered)
    if n == 0:
        what = "The status quo" if data.labels else "A study with no finished runs"
    elif n == 1:
        what = offered[0] + (" against the status quo" if data.baselines else "")
    else:
        words = number(n).capitalize()
        what = f"{words} pooled designs " + (
            "against the status quo" if data.baselines else "compared"
        )
    date = study_date(data.manifest.get("created"))
    return f"{what} {DASH} {date}" if date else what
