"""The report's page: each section's data for its template, and the sections in order.

A section is three things, so adding one touches three places:

1. a function producing its numbers (a frame in `tables` or `series`, a figure in `figures`);
2. a template, ``templates/<key>.html.j2``, that lays them out (it sees its data as ``c``);
3. an entry in `SECTIONS`: key, title, and the small function (in `findings` or `sections`)
   that turns the numbers into the template's data, or None when the section does not apply.

`context.Study` holds what several sections share (the ranked summary, the what-to-fund
outcomes, the return on the pool, the accounts), computed once per report.

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
from poolpilot.report.exploration import (
    discovery_section,
    exploration_lede,
    is_exploration,
    robust_section,
    when_it_paid,
)
from poolpilot.report.findings import comparison, outcomes, pool, what_to_fund, who_pays
from poolpilot.report.sections import (
    assumptions,
    details,
    glossary,
    governance,
    money,
    reading,
    reproducibility,
    sensitivity,
    trajectories,
)
from poolpilot.report.title import study_date, study_title

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
    """One section of the page: anchor, heading, template, and its data (None: left out).

    Appendix sections (how to read the numbers, the glossary, assumptions, reproducibility)
    come after a page break: a funder reads the main report without them.
    """

    key: str
    title: str
    context: Callable[[Study], dict[str, Any] | None]
    appendix: bool = False

    @property
    def template(self) -> str:
        return f"{self.key}.html.j2"


#: The sections in a funder's reading order: the decision first, the details after, the
#: appendix last.
SECTIONS = [
    Section("verdict", "What to fund", what_to_fund),
    Section("outcomes", "The outcomes in full", _with_runs(outcomes)),
    Section("return", "Return on the pool", _with_runs(pool)),
    Section("accounts", "Who pays and who saves", _with_runs(who_pays)),
    Section("comparison", "Designs compared", _with_runs(comparison)),
    Section("trajectories", "Over the months", _with_runs(trajectories)),
    Section("money", "Where the money went", _with_runs(money)),
    Section("governance", "Governance activity", _with_runs(governance)),
    Section("sensitivity", "Which rules matter most", sensitivity),
    Section("reading", "How to read the numbers", _with_runs(reading), appendix=True),
    Section("details", "Detail by design", _with_runs(details), appendix=True),
    Section("glossary", "Glossary of measures", glossary, appendix=True),
    Section("assumptions", "Assumptions", assumptions, appendix=True),
    Section("reproducibility", "Reproducibility", reproducibility, appendix=True),
]

#: The sections of an exploration's report (one design in many futures): when the pool paid,
#: in which futures (after ``poolpilot discover``), which settings hold up (after
#: ``poolpilot robust``), then the appendix.
EXPLORATION_SECTIONS = [
    Section("exploration_paid", "When the pool paid", when_it_paid),
    Section("discoveries", "In which futures", discovery_section),
    Section("robust_section", "Designs that hold up", robust_section),
    *[s for s in SECTIONS if s.key in {"glossary", "assumptions", "reproducibility"}],
]


def render(data: ReportData, title: str | None = None) -> str:
    """The report's HTML for loaded results: one self-contained page.

    ``title`` replaces the one made from the study (its designs and date).
    """
    study = Study(data)
    exploration = is_exploration(data)
    sections = []
    for section in EXPLORATION_SECTIONS if exploration else SECTIONS:
        context = section.context(study)
        if context is not None:
            sections.append((section, context))
    m = data.manifest
    replicates = m.get("replicates", data.runs["replicate"].nunique() if len(data.runs) else 0)
    page = {
        "title": title or study_title(data),
        "designs": len(data.labels),
        "pooled": len([x for x in data.labels if x not in data.baselines]),
        "baselines": len(data.baselines),
        "months": sorted({int(v) for v in (m.get("months") or {}).values() if v}),
        "date": study_date(m.get("created")),
        "replicates": replicates,
        "created": m.get("created"),
        "version": m.get("poolpilot_version", __version__),
        "failed": len(data.failed),
        "complete": data.complete,
        "runs_done": data.runs_done,
        "runs_planned": data.runs_planned,
        "exploration": exploration_lede(data) if exploration else None,
    }
    template = environment().get_template("page.html.j2")
    main = [(s, c) for s, c in sections if not s.appendix]
    appendix = [(s, c) for s, c in sections if s.appendix]
    return template.render(page=page, main=main, appendix=appendix, symbol=data.symbol)
