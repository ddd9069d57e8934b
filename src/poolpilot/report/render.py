"""The report's page: each section's data for its template, and the sections in order.

A section is three things, so adding one touches three places:

1. a function producing its numbers (a frame in `tables` or `series`, a figure in `figures`);
2. a template, ``templates/<key>.html.j2``, that lays them out (it sees its data as ``c``);
3. an entry in `SECTIONS`: key, title, and the small function (in `findings` or `sections`)
   that turns the numbers into the template's data, or None when the section does not apply.

`context.Study` holds what several sections share (the ranked summary, the return on the pool),
computed once per report.

Templates are rendered with autoescaping on: every name, description and value from a scenario
or a results table is escaped by Jinja, and nothing here builds markup by hand. Figures are our
own SVG, embedded as base64 data URLs, so they need no escaping either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from poolpilot._version import __version__
from poolpilot.report import formats
from poolpilot.report.context import Study
from poolpilot.report.data import ReportData
from poolpilot.report.findings import comparison, pool, summary, who_pays
from poolpilot.report.sections import (
    assumptions,
    governance,
    money,
    reproducibility,
    sensitivity,
    trajectories,
)

TEMPLATES = Path(__file__).with_name("templates")


def environment() -> jinja2.Environment:
    """Jinja with autoescaping, strict about missing names, and the report's number formats."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(fmt=formats.fmt, fmt_interval=formats.fmt_interval)
    env.filters.update(
        money=formats.money,
        ratio=formats.ratio,
        count=formats.count,
        share=formats.share,
    )
    return env


def _with_runs(section: Callable[[Study], dict[str, Any] | None]):
    """A section that only applies when the folder holds finished runs."""

    def applies(s: Study) -> dict[str, Any] | None:
        return None if s.data.runs.empty else section(s)

    return applies


@dataclass(frozen=True)
class Section:
    """One section of the page: anchor, heading, template, and its data (None: left out)."""

    key: str
    title: str
    context: Callable[[Study], dict[str, Any] | None]

    @property
    def template(self) -> str:
        return f"{self.key}.html.j2"


#: The sections in a funder's reading order.
SECTIONS = [
    Section("summary", "Summary", summary),
    Section("return", "Return on the pool", _with_runs(pool)),
    Section("accounts", "Who pays and who saves", _with_runs(who_pays)),
    Section("comparison", "Designs compared", _with_runs(comparison)),
    Section("trajectories", "Over the months", _with_runs(trajectories)),
    Section("money", "Where the money went", _with_runs(money)),
    Section("governance", "Governance activity", _with_runs(governance)),
    Section("sensitivity", "Which rules matter most", sensitivity),
    Section("assumptions", "Assumptions", assumptions),
    Section("reproducibility", "Reproducibility", reproducibility),
]


def render(data: ReportData) -> str:
    """The report's HTML for loaded results: one self-contained page."""
    study = Study(data)
    sections = []
    for section in SECTIONS:
        context = section.context(study)
        if context is not None:
            sections.append((section, context))
    m = data.manifest
    replicates = m.get("replicates", data.runs["replicate"].nunique() if len(data.runs) else 0)
    page = {
        "title": f"poolpilot report: {data.folder.resolve().name}",
        "designs": len(data.labels),
        "replicates": replicates,
        "created": m.get("created"),
        "version": m.get("poolpilot_version", __version__),
        "failed": len(data.failed),
        "complete": data.complete,
        "runs_done": data.runs_done,
        "runs_planned": data.runs_planned,
    }
    template = environment().get_template("page.html.j2")
    return template.render(page=page, sections=sections, symbol=data.symbol)
