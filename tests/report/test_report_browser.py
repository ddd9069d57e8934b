"""The report in a real headless Chromium (Debian's chromium, driven by Playwright).

No browser is downloaded: Playwright drives /usr/bin/chromium, which the Makefile installs for
the tests. The report of a small compare study must load with no console errors, no network
request other than the file itself, no dialog (the hostile description must not run), and
every figure rendered with a non-zero size, on screen and in print. A full-page screenshot and
a PDF print go to test-output/ (gitignored) for a person to look at.

Printed to A4 (three designs, 5 replicates of 12 months), page one holds the title, the verdict
and the what-to-fund table, the main report fits in eight pages before the appendix (found by
its heading), and no word is broken across lines.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from pypdf import PdfReader

from poolpilot import report
from poolpilot.runs.study import compare
from poolpilot.scenario import load_scenario

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
HOSTILE = "<script>alert(1)</script>"
PRINT_WIDTH = round((210 - 2 * 13) / 25.4 * 96)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (make test installs it)"
)


@pytest.fixture(scope="module")
def report_path(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "study"
    designs = [
        load_scenario("hospital_led_post_acute", {"description": HOSTILE}),
        load_scenario("county_led_bh_housing"),
        load_scenario("convener_led_multi_provider"),
    ]
    compare(designs, replicates=5, months=12, out=out, workers=1, progress="none")
    return report.write_report(out)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def _open(browser, path: Path, media: str = "screen", width: int = 1200):
    page = browser.new_page(viewport={"width": width, "height": 900})
    seen = {"requests": [], "errors": [], "dialogs": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on(
        "console",
        lambda m: seen["errors"].append(m.text) if m.type in ("error", "assert") else None,
    )
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))

    def dialog(d):
        seen["dialogs"].append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    page.emulate_media(media=media)
    page.goto(path.as_uri(), wait_until="load")
    return page, seen


def _figures_rendered(page) -> int:
    images = page.locator("figure img, svg")
    count = images.count()
    for i in range(count):
        element = images.nth(i)
        element.scroll_into_view_if_needed()
        box = element.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, i
        if element.evaluate("e => e.tagName") == "IMG":
            assert element.evaluate("e => e.complete && e.naturalWidth > 0"), i
    return count


def test_report_loads_offline_and_renders_every_figure(browser, report_path):
    page, seen = _open(browser, report_path)
    count = _figures_rendered(page)
    assert count >= 5
    assert seen["errors"] == []
    assert seen["dialogs"] == []
    network = [u for u in seen["requests"] if not u.startswith("data:")]
    assert network == [report_path.as_uri()]
    assert page.evaluate("document.scripts.length") == 0
    assert page.get_by_text(HOSTILE, exact=False).count() >= 1  # shown as text
    assert html.escape(HOSTILE) not in page.inner_text("body")  # ...and not double-escaped
    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / "report.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
    page.close()


def test_report_prints_with_its_figures(browser, report_path):
    # A4 minus the report's 13 mm side margins, at 96 CSS pixels per inch
    page, seen = _open(browser, report_path, media="print", width=PRINT_WIDTH)
    assert _figures_rendered(page) >= 5
    assert seen["errors"] == []
    too_wide = page.evaluate(
        """() => {
          const width = document.body.getBoundingClientRect().width;
          return [...document.querySelectorAll('table, figure img')]
            .filter(e => e.getBoundingClientRect().width > width + 1)
            .map(e => `${e.closest('section')?.id}: ${e.tagName} ${e.getBoundingClientRect().width}`);
        }"""
    )
    assert too_wide == [], "wider than the printed page"
    OUTPUT.mkdir(exist_ok=True)
    pdf = OUTPUT / "report.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert data.startswith(b"%PDF") and pages > 3
    print(f"pdf: {pdf} ({pages} pages)")
    page.close()


def _past_section(page, selector: str) -> list[str]:
    """Elements (``selector``) reaching past their section's left or right edge."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
          .map(e => {
            const box = e.getBoundingClientRect();
            const section = e.closest('section').getBoundingClientRect();
            return {id: e.closest('section').id, tag: e.tagName,
                    left: box.left - section.left, right: box.right - section.right};
          })
          .filter(e => e.left < -1 || e.right > 1)
          .map(e => `${e.id}: ${e.tag} ${Math.round(e.right)} px past its section`)""",
        selector,
    )


def test_report_fits_a_1280_pixel_screen(browser, report_path):
    # issue 18.4: at 1280 px the page does not scroll sideways and every figure stays
    # within its section; a screenshot goes to test-output/report-1280.png
    page, seen = _open(browser, report_path, width=1280)
    assert _figures_rendered(page) >= 5
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / "report-1280.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    outside = _past_section(page, "section img")
    page.close()
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    assert outside == [], "a figure wider than its section at 1280 px"


def test_report_tables_fit_a_1280_pixel_screen(browser, report_path):
    page, _ = _open(browser, report_path, width=1280)
    outside = _past_section(page, "section table")
    page.close()
    assert outside == [], "a table wider than its section at 1280 px"


#: The appendix's heading: where the main report ends in the PDF.
APPENDIX = "Appendix: how the numbers were made"
#: Main report pages for a three-design study, before the appendix.
MAX_MAIN_PAGES = 8
LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"}


def _plain(text: str) -> str:
    """PDF text with its ligatures spelt out and its line breaks as spaces."""
    for ligature, letters in LIGATURES.items():
        text = text.replace(ligature, letters)
    return " ".join(text.split())


def test_pdf_page_one_holds_the_decision_and_the_main_report_is_short(browser, report_path):
    page, seen = _open(browser, report_path, media="print", width=PRINT_WIDTH)
    OUTPUT.mkdir(exist_ok=True)
    pdf = OUTPUT / "report-a4.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    page.close()
    pages = [_plain(p.extract_text() or "") for p in PdfReader(pdf).pages]
    first = pages[0]
    data = report.load(report_path.parent)
    assert report.study_title(data) in first
    assert first.index("1. What to fund") < first.index("Design")
    for sentence in report.verdict.sentences(report.outcome_frame(data)):
        assert _plain(sentence) in first, sentence
    for outcome in report.OUTCOMES:
        assert outcome.label in first, outcome.label
    for design in ("hospital_led_post_acute", "county_led_bh_housing"):
        assert design in first
    assert "Contents" not in first and "seed article" not in first.lower()
    appendix = next(i for i, text in enumerate(pages) if APPENDIX in text)
    assert 1 <= appendix <= MAX_MAIN_PAGES, f"main report: {appendix} pages"
    print(f"pdf: {pdf} ({len(pages)} pages, appendix from page {appendix + 1})")


def test_no_word_is_broken_across_lines(browser, report_path):
    page, _ = _open(browser, report_path, media="print", width=PRINT_WIDTH)
    broken = page.evaluate(
        """() => [...document.querySelectorAll('h1, h2, h3, p, li, th, td, caption')]
          .map(e => [e.tagName, getComputedStyle(e)])
          .filter(([, s]) => s.hyphens !== 'manual' || s.wordBreak !== 'normal'
                   || s.overflowWrap !== 'normal')
          .map(([tag, s]) => `${tag} ${s.hyphens} ${s.wordBreak} ${s.overflowWrap}`)"""
    )
    page.close()
    assert broken == []


def test_an_exploration_report_loads_renders_and_prints_within_the_page(browser, explored_folder):
    path = report.write_report(explored_folder)
    for media, width in (("screen", 1200), ("print", PRINT_WIDTH)):
        page, seen = _open(browser, path, media=media, width=width)
        assert _figures_rendered(page) >= 4  # returns, trajectory, box, parallel coordinates
        assert seen["errors"] == [] and page.evaluate("document.scripts.length") == 0
        assert [u for u in seen["requests"] if not u.startswith("data:")] == [path.as_uri()]
        too_wide = page.evaluate(
            """() => {
              const width = document.body.getBoundingClientRect().width;
              return [...document.querySelectorAll('table, figure img')]
                .filter(e => e.getBoundingClientRect().width > width + 1).length;
            }"""
        )
        assert too_wide == 0, media
        page.close()
