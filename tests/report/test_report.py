"""The funders' report: self-contained, escaped, and its summary agrees with its table.

One small compare study (two designs and the no-pool baseline, 5 replicates of 12 months) is
built once for the module; the browser checks are in test_report_browser.py.

Escaping: design names are refused by the scenario schema unless they match
``^[A-Za-z0-9_.\\- ]+$`` (tested below), so markup from a scenario file reaches the report
through free text: the description. The issue's exact case, a design *named*
``<script>alert(1)</script>``, is tested by renaming a design in a copy of the results folder
(the store does not validate names).
"""

from __future__ import annotations

import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from poolpilot import report
from poolpilot.analysis.paired import paired
from poolpilot.cli import main
from poolpilot.report import data as report_data
from poolpilot.report.render import EXPLORATION_SECTIONS, SECTIONS, TEMPLATES
from poolpilot.runs.study import compare
from poolpilot.scenario import ScenarioError, load_scenario
from poolpilot.scenario.paths import flatten

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "study"
    designs = [
        load_scenario("hospital_led_post_acute", {"description": HOSTILE}),
        load_scenario("convener_led_multi_provider"),
    ]
    compare(designs, replicates=5, months=12, out=out, workers=1, progress="none")
    return out


@pytest.fixture(scope="module")
def page(study) -> str:
    return report.write_report(study).read_text(encoding="utf-8")


class _Collector(HTMLParser):
    """Tags with their attributes, comparison cells and summary items."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cells: dict[tuple[str, str], dict[str, str]] = {}
        self.findings: dict[str, str] = {}
        self._metric: str | None = None
        self._cell: tuple[str, str] | None = None
        self._finding: str | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "tr" and "data-metric" in a:
            self._metric = a["data-metric"]
        elif tag == "td" and self._metric and "data-design" in a:
            self._cell = (self._metric, a["data-design"])
            self.cells[self._cell] = {"class": a.get("class") or "", "text": ""}
        elif tag == "li" and "data-metric" in a:
            self._finding = a["data-metric"]
            self.findings[self._finding] = ""

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None
        elif tag == "tr":
            self._metric = None
        elif tag == "li":
            self._finding = None

    def handle_data(self, data):
        if self._cell:
            self.cells[self._cell]["text"] += data
        if self._finding:
            self.findings[self._finding] += data


def _parse(text: str) -> _Collector:
    parser = _Collector()
    parser.feed(text)
    return parser


# --- a self-contained page ----------------------------------------------------------------------


def test_report_is_one_self_contained_file(study, page):
    assert (study / "report.html").exists()
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    assert not re.search(r"(?i)(src|href)\s*=\s*[\"']?\s*(https?:)?//", page)
    assert "@import" not in page and "url(" not in page
    parsed = _parse(page)
    images = [a for tag, a in parsed.tags if tag == "img"]
    assert len(images) >= 5
    assert all((a.get("src") or "").startswith("data:image/svg+xml;base64,") for a in images)
    links = [a["href"] for tag, a in parsed.tags if tag == "a" and a.get("href")]
    assert links and all(href.startswith("#") for href in links)
    assert not [tag for tag, _ in parsed.tags if tag in ("link", "iframe", "object", "embed")]
    assert "@media print" in page and "break-inside: avoid" in page


def test_sections_in_a_funders_reading_order(page):
    order = [
        'id="verdict"',
        'id="outcomes"',
        'id="return"',
        'id="accounts"',
        'id="comparison"',
        'id="trajectories"',
        'id="money"',
        'id="governance"',
        'id="appendix"',
        'id="reading"',
        'id="details"',
        'id="glossary"',
        'id="assumptions"',
        'id="reproducibility"',
    ]
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert "<h2>1. What to fund</h2>" in page and "<h2>A. How to read the numbers</h2>" in page
    assert 'id="sensitivity"' not in page  # no indices.parquet in this folder


def test_report_is_deterministic(study, page):
    again = report.write_report(study).read_text(encoding="utf-8")
    assert again == page


def test_cli_report_rewrites_the_file(study, capsys):
    (study / "report.html").unlink()
    assert main(["report", str(study)]) == 0
    assert (study / "report.html").exists()
    assert "report:" in capsys.readouterr().out


def test_cli_report_takes_a_title(study):
    assert main(["report", str(study), "--title", "Pilot options for the board"]) == 0
    page = (study / "report.html").read_text()
    assert "<title>Pilot options for the board</title>" in page
    assert main(["report", str(study)]) == 0  # the title is not stored: the next one is made
    assert "Pilot options for the board" not in (study / "report.html").read_text()


# --- escaping -----------------------------------------------------------------------------------


def test_scenario_names_refuse_markup():
    with pytest.raises(ScenarioError):
        load_scenario("hospital_led_post_acute", {"name": HOSTILE})


def test_description_from_a_scenario_shows_as_text(page):
    assert HOSTILE not in page
    assert html.escape(HOSTILE) in page


def test_design_named_like_a_script_shows_as_text(study, tmp_path):
    folder = tmp_path / "hostile"
    shutil.copytree(study, folder)
    (folder / "report.html").unlink()
    for part in sorted((folder / "runs.parquet").glob("part-*.parquet")):
        table = pq.read_table(part)
        frame = table.to_pandas()
        frame["design"] = frame["design"].replace("convener_led_multi_provider", HOSTILE)
        pq.write_table(
            pq.read_table(part).from_pandas(frame, schema=table.schema, preserve_index=False),
            part,
        )
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = manifest["scenarios"].pop("convener_led_multi_provider")
    entry["resolved"]["name"] = HOSTILE
    manifest["scenarios"][HOSTILE] = entry
    (folder / "manifest.json").write_text(json.dumps(manifest))

    text = report.write_report(folder).read_text(encoding="utf-8")
    assert HOSTILE not in text
    assert "<script" not in text.lower()
    assert text.count(html.escape(HOSTILE)) >= 5  # summary, table, figures' captions, ...


def test_markup_and_ampersands_from_a_study_are_escaped(study, tmp_path):
    """Name, description and basis reach the page as text (the templates autoescape)."""
    name = f"R&D {HOSTILE}"
    folder = tmp_path / "ampersand"
    shutil.copytree(study, folder)
    (folder / "report.html").unlink()
    for part in sorted((folder / "runs.parquet").glob("part-*.parquet")):
        table = pq.read_table(part)
        frame = table.to_pandas()
        frame["design"] = frame["design"].replace("convener_led_multi_provider", name)
        pq.write_table(_table_like(frame, table), part)
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = manifest["scenarios"].pop("convener_led_multi_provider")
    entry["resolved"].update(
        name=name, description=f"Tom & Jerry {HOSTILE}", basis=f"{HOSTILE} & a basis"
    )
    manifest["scenarios"][name] = entry
    (folder / "manifest.json").write_text(json.dumps(manifest))

    text = report.write_report(folder).read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    for raw in (name, "Tom & Jerry", "& a basis"):
        assert raw not in text
    assert text.count("R&amp;D &lt;script&gt;alert(1)&lt;/script&gt;") >= 5
    assert "Tom &amp; Jerry &lt;script&gt;" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; a basis" in text


def _table_like(frame: pd.DataFrame, like: pa.Table) -> pa.Table:
    """``frame`` as an arrow table with the schema of ``like`` (a results part)."""
    return like.from_pandas(frame, schema=like.schema, preserve_index=False)


# --- the numbers --------------------------------------------------------------------------------


def test_summary_frame_matches_the_runs(study):
    runs = pd.read_parquet(study / "runs.parquet")
    frame = report.summary_frame(runs)
    for metric in ("unmet_need_share", "total_system_cost", "trust_final_mean"):
        expected = runs.groupby("design")[metric].median()
        got = frame[frame["metric"] == metric].set_index("design")["centre"]
        pd.testing.assert_series_equal(
            got.sort_index(), expected.sort_index(), check_names=False, rtol=1e-12
        )
        low = runs.groupby("design")[metric].quantile(0.05)
        np.testing.assert_allclose(
            frame[frame["metric"] == metric].set_index("design")["low"].sort_index(),
            low.sort_index(),
        )


def _verdict_row(page: str, design: str) -> str:
    section = page[page.index('id="verdict"') : page.index('id="outcomes"')]
    start = section.index(f'<tr data-design="{design}">')
    return section[start : section.index("</tr>", start)]


def test_what_to_fund_agrees_with_the_runs(study, page):
    runs = pd.read_parquet(study / "runs.parquet")
    wide = runs.pivot(index="replicate", columns="design")
    data = report.load(study)
    people = sum(
        s["size"] for s in data.scenarios["hospital_led_post_acute"]["population"]["segments"]
    )
    design, baseline = "hospital_led_post_acute", "no_pool_for_hospital_led_post_acute"
    outcomes = {o.key: o for o in report.OUTCOMES}
    unmet = paired(wide["unmet_need_share"][design], wide["unmet_need_share"][baseline])
    cost = wide["total_system_cost"] / (people * 12)
    cost = paired(cost[design], cost[baseline])
    returned = (wide["total_system_cost"][baseline] - wide["total_system_cost"][design]) / wide[
        "pooled_funding"
    ][design]
    trust = (wide["trust_final_mean"] - wide["trust_initial_mean"]) * 100
    trust = paired(trust[design], trust[baseline])
    frame = report.outcome_frame(data).query("design == @design").set_index("outcome")
    np.testing.assert_allclose(frame.at["unmet", "diff"], unmet.mean)
    np.testing.assert_allclose(frame.at["cost", "diff"], cost.mean)
    np.testing.assert_allclose(frame.at["return", "diff"], returned.mean())
    np.testing.assert_allclose(frame.at["trust", "diff"], trust.mean)
    np.testing.assert_allclose(frame.at["unmet", "better"], unmet.share_below)
    row = _verdict_row(page, design)
    for key, d in (("unmet", unmet), ("cost", cost), ("trust", trust)):
        o = outcomes[key]
        assert report.verdict.difference(o, d.mean) in row
        assert report.verdict.interval(o, d.low, d.high) in row
    assert f"better in {unmet.share_below:.0%}</span>" in row
    # the verdict's sentences are on the page, before anything else
    for sentence in report.verdict.sentences(report.outcome_frame(data)):
        assert sentence in html.unescape(page)  # Jinja writes an apostrophe as &#39;
    assert page.index('class="verdict"') < page.index('id="outcomes"')


def test_baselines_and_other_populations_are_never_ranked(study, page):
    # the two designs serve different populations: no star compares their totals
    parsed = _parse(page)
    best = {d for (m, d), c in parsed.cells.items() if "best" in c["class"]}
    assert not {d for d in best if d.startswith("no_pool")}
    assert not best
    assert set(re.findall(r"clearly better than ([a-z_ ]+)", page)) == {"the status quo "}
    assert "never ranks designs of different populations on totals" in page


def test_pairing_by_seed_finds_a_small_steady_difference():
    rng = np.random.default_rng(0)
    level = rng.normal(0, 1, 20)  # large between-replicate noise shared by both designs
    runs = pd.DataFrame(
        {
            "design": ["a"] * 20 + ["b"] * 20,
            "replicate": list(range(20)) * 2,
            "unmet_need_share": np.concatenate([level + 0.1, level + 0.2]),
        }
    )
    frame = report.summary_frame(runs, ["unmet_need_share"]).set_index("design")
    assert frame.at["a", "best"] and not frame.at["b", "best"]
    assert frame.at["a", "low"] < frame.at["b", "high"]  # the marginal intervals overlap...
    assert frame.at["b", "clear"] and frame.at["a", "clear"]  # ...but the pairs are clear
    np.testing.assert_allclose(frame.at["b", "diff_mean"], 0.1)
    # the difference's interval is the 95% interval of the mean paired difference
    expected = paired(level + 0.2, level + 0.1)
    assert frame.at["b", "diff_low"] == pytest.approx(expected.low)
    assert frame.at["b", "diff_high"] == pytest.approx(expected.high)


def test_return_on_the_pool_pairs_by_seed(study, page):
    runs = pd.read_parquet(study / "runs.parquet").set_index(["design", "replicate"])
    data = report.load(study)
    table, reasons = report.pool_return(data)
    # compare adds one no-pool baseline per population, so each design is paired like for like
    assert set(table["design"]) == {"hospital_led_post_acute", "convener_led_multi_provider"}
    pairs = dict(zip(table["design"], table["baseline"], strict=False))
    assert pairs["hospital_led_post_acute"] == "no_pool_for_hospital_led_post_acute"
    assert pairs["convener_led_multi_provider"] == "no_pool_for_convener_led_multi_provider"
    assert not reasons
    table = table[table["design"] == "hospital_led_post_acute"]
    design = runs.loc["hospital_led_post_acute"]
    baseline = runs.loc["no_pool_for_hospital_led_post_acute"]
    # acute cost avoided counts the events after the end too (docs/ODD.md 3.3.10)
    acute = ["acute_cost", "acute_cost_after_end"]
    avoided = baseline[acute].sum(axis=1) - design[acute].sum(axis=1)
    assert (design["acute_cost_after_end"] != 0).all()  # unmet need raises, prevention averts
    saved = baseline["total_system_cost"] - design["total_system_cost"]
    per_dollar = saved / design["pooled_funding"]
    got = table.set_index("measure")
    assert table["main"].all()  # no idealised baseline in this folder: one line per design
    np.testing.assert_allclose(got.at["acute_cost_avoided", "mean"], avoided.mean())
    np.testing.assert_allclose(got.at["system_cost_saved", "mean"], saved.mean())
    np.testing.assert_allclose(got.at["return_on_pool", "low"], paired(per_dollar).low)
    np.testing.assert_allclose(got.at["return_on_pool", "positive"], (per_dollar > 0).mean())
    np.testing.assert_allclose(got.at["running_cost", "mean"], design["running_cost"].mean())
    # the running cost is counted once: the components add up to the saving
    m = got["mean"]
    np.testing.assert_allclose(
        m["acute_cost_avoided"]
        + m["fragmentation_cost_avoided"]
        - m["extra_pathway_spend"]
        - m["running_cost"],
        m["system_cost_saved"],
    )
    assert f"{per_dollar.mean():.2f}".replace("-", "\u2212") in page
    assert "Return per dollar pooled" in page


def test_who_pays_adds_up_to_the_system_cost_saved(study, page):
    data = report.load(study)
    returns, _ = report.pool_return(data)
    saved = returns[returns["measure"] == "system_cost_saved"].set_index("design")["mean"]
    parties = report.party_accounts(data)
    assert set(parties["design"]) == set(saved.index)
    assert {"medicaid", "outside", "providers"} <= set(parties["party"])
    np.testing.assert_allclose(parties.groupby("design")["saving"].sum()[saved.index], saved)
    section = page[page.index('id="accounts"') : page.index('id="comparison"')]
    assert "<h3>hospital_led_post_acute</h3>" in section
    assert "Against the status quo, " in section or "No party's saving" in section
    assert "Net cost without a pool" in section and "account:" not in section
    assert section.count("<img") == 2  # one figure per pooled design


def test_a_folder_without_baseline_still_renders(tmp_path):
    out = tmp_path / "single"
    compare(
        ["county_led_bh_housing"],
        replicates=3,
        months=6,
        baseline=False,
        out=out,
        workers=1,
        progress="none",
    )
    text = report.write_report(out).read_text(encoding="utf-8")
    assert "no no-pool baseline" in text
    assert "This study has no status-quo baseline" in text
    assert 'id="comparison"' in text and 'id="assumptions"' in text


def test_an_incomplete_study_says_so_at_the_top(study, page, tmp_path):
    assert "Incomplete study" not in page and "Each design ran 5 times" in page
    folder = tmp_path / "incomplete"
    shutil.copytree(study, folder)
    sorted((folder / "runs.parquet").glob("part-*.parquet"))[-1].unlink()  # never finished
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["complete"] = False
    (folder / "manifest.json").write_text(json.dumps(manifest))
    planned = manifest["runs_planned"]
    data = report.load(folder)
    assert (data.complete, data.runs_planned) == (False, planned) and 0 < data.runs_done < planned
    text = report.write_report(folder).read_text(encoding="utf-8")
    assert (
        f"Incomplete study: {data.runs_done} of {planned} runs done; the figures below describe only "
        "the runs that finished." in text
    )
    assert text.index("Incomplete study") < text.index('id="verdict"')  # on page one
    assert "Each design ran 5 times" not in text and "Each design ran up to 5 times" in text
    assert f"of {planned} planned: the study is incomplete" in text  # reproducibility
    (folder / "manifest.json").unlink()  # as an older poolpilot left an interrupted study
    text = report.write_report(folder).read_text(encoding="utf-8")
    assert "no manifest.json, so whether its study finished is unknown" in text
    assert "Each design ran 5 times" not in text


def test_assumptions_list_every_parameter_and_highlight_differences(study, page):
    data = report.load(study)
    frame = report.assumptions_frame(data)
    resolved = data.scenarios["hospital_led_post_acute"]
    flat = flatten(resolved)  # the paths --set takes
    expected = [p for p in flat if p.split(".")[0] not in ("name", "description", "basis")]
    expected = [p for p in expected if p.split(".")[0] not in ("seed_article", "example")]
    # a named item's name is its path already: payers.medicaid, not payers.medicaid.name
    named = [p for p in expected if p.endswith(".name") and flat[p] == p.split(".")[-2]]
    assert named and not set(named) & set(frame.index)
    assert set(expected) - set(named) <= set(frame.index)
    assert "population.segments.post_acute_adults.size" in frame.index
    assert 'class="text diff"' in page
    for name, entry in data.manifest["scenarios"].items():
        assert html.escape(name) in page and entry["hash"] in page


def test_sensitivity_section_when_indices_exist(study, tmp_path):
    from poolpilot.analysis import sensitivity

    folder = tmp_path / "sens"
    shutil.copytree(study, folder)
    problem = {"names": ["a", "b", "c"], "bounds": [[0, 1]] * 3}

    def func(p):
        return {"y": p["a"] + 2 * p["b"] + p["a"] * p["c"]}

    sobol = sensitivity.analyze_function(func, problem, "sobol", samples=64)
    morris = sensitivity.analyze_function(func, problem, "morris", samples=10)
    pd.concat([sobol, morris]).to_parquet(folder / "indices.parquet")
    text = report.write_report(folder).read_text(encoding="utf-8")
    section = text[text.index('id="sensitivity"') : text.index('id="appendix"')]
    assert section.count("<img") == 2
    assert "Parameters ranked by influence" in section
    assert section.index("<td>1</td>") > 0
    # every section of the list renders here, in order, each from a template of its own
    positions = [text.index(f'<section id="{s.key}"') for s in SECTIONS]
    assert positions == sorted(positions)
    main = [s for s in SECTIONS if not s.appendix]
    appendix = [s for s in SECTIONS if s.appendix]
    for number, section in enumerate(main, start=1):
        assert f"<h2>{number}. {section.title}</h2>" in text
    for letter, section in zip("ABCDEFGH", appendix, strict=False):
        assert f"<h2>{letter}. {section.title}</h2>" in text
    templates = {p.name for p in TEMPLATES.glob("*.html.j2")}
    used = {s.template for s in SECTIONS + EXPLORATION_SECTIONS}
    assert templates == used | {"page.html.j2", "macros.html.j2"}


def test_sensitivity_study_folder_reports_per_design_not_per_point(tmp_path):
    from poolpilot.analysis.sensitivity import analyze_scenario

    out = tmp_path / "sa"
    analyze_scenario(
        "hospital_led_post_acute",
        "morris",
        samples=4,
        metrics=["unmet_need_share", "trust_final_mean"],
        parameters=[
            {"path": "holder.self_interest", "bounds": [0.0, 0.8]},
            {"path": "holder.leverage", "bounds": [0.3, 1.0]},
        ],
        months=6,
        out=out,
        workers=1,
        progress="none",
    )
    assert not (out / "report.html").exists()  # the analysis stage writes no report
    data = report.load(out)
    assert data.collapsed and data.points > 1
    assert data.labels == ["hospital_led_post_acute"]
    text = report.write_report(out).read_text(encoding="utf-8")
    assert f"samples {data.points} points of the parameter space" in text
    section = text[text.index('id="sensitivity"') : text.index('id="appendix"')]
    assert section.count("<img") == 2  # one Morris plane per metric
    assert "holder.self_interest" in section


def test_a_large_study_reads_a_bounded_sample_of_its_detail(study, monkeypatch):
    monkeypatch.setattr(report_data, "DETAIL_REPLICATES", 2)
    data = report.load(study)
    sampled = data.runs[data.runs["key"].isin(data.detail_keys)]
    assert set(sampled["replicate"]) == {0, 1}
    assert set(data.timeseries["run"]) <= set(data.detail_keys)
    assert set(data.events["run"]) <= set(data.detail_keys)
    activity = report.governance_frames(data)
    assert activity  # governance counts come from the sampled runs only
    monkeypatch.setattr(report_data, "MAX_DETAIL_RUNS", 3)
    assert len(report.detail_sample(data.runs)) == 3
