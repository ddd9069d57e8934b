"""The scenario discovery section: tables as Parquet and CSV, figures, and an HTML section
that says in words where the condition held (``poolpilot discover`` writes them)."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from poolpilot.analysis.discovery_study import Discovery  # noqa: E402
from poolpilot.report.figures import RASTER_DPI, RASTER_POINTS  # noqa: E402
from poolpilot.report.palette import GREY, PALETTE  # noqa: E402

#: Where an exploration folder keeps its discoveries, one subfolder per condition.
DISCOVERIES = "discoveries"
#: How a condition's operators are spelled in its folder's name.
_WORDS = {">=": "_ge_", "<=": "_le_", "==": "_eq_", "!=": "_ne_", ">": "_gt_", "<": "_lt_"}
_WORDS |= {"&": "_and_", "|": "_or_", "~": "not_"}


def discovery_name(where: str, threshold: float = 0.8, min_mass: float = 0.05) -> str:
    """The folder name of a discovery: its condition spelled out, and any non-default setting.

    Two conditions, or one condition at two thresholds, never share a folder, so a second
    ``discover`` keeps the first one's outputs; the same discovery run again replaces its own.
    """
    name = where
    for symbol, word in _WORDS.items():
        name = name.replace(symbol, word)
    name = re.sub(r"[^A-Za-z0-9.\-]+", "_", name).strip("_") or "condition"
    if threshold != 0.8:
        name += f"_threshold_{threshold:g}"
    if min_mass != 0.05:
        name += f"_min_mass_{min_mass:g}"
    return name


def write_discovery(
    folder: str | Path, found: Discovery, name: str | None = None
) -> dict[str, Path]:
    """Write the discovery's tables, figures and section into its own subfolder of the
    exploration ``folder`` (``discoveries/NAME``, by default named for the condition); return
    the paths."""
    folder = (
        Path(folder)
        / DISCOVERIES
        / (name or discovery_name(found.where, found.threshold, found.min_mass))
    )
    folder.mkdir(parents=True, exist_ok=True)
    written = {"folder": folder}
    for name, table in (
        ("boxes", found.box_table()),
        ("box_limits", found.limit_table()),
        ("trajectory", found.trajectory_table()),
    ):
        table.to_parquet(folder / f"{name}.parquet", index=False)
        table.to_csv(folder / f"{name}.csv", index=False)
        written[name] = folder / f"{name}.parquet"
    figures = {"trajectory": trajectory_figure(found), "box": box_figure(found)}
    for name, svg in figures.items():
        if svg:
            (folder / f"discovery_{name}.svg").write_text(svg)
            written[f"figure_{name}"] = folder / f"discovery_{name}.svg"
    summary = {
        "where": found.where,
        "threshold": found.threshold,
        "min_mass": found.min_mass,
        "cases": found.cases,
        "futures": found.futures,
        "sentences": list(found.box_table()["sentence"]),
    }
    (folder / "discovery.json").write_text(json.dumps(summary, indent=2))
    (folder / "discovery.html").write_text(section_html(found, figures))
    written["section"] = folder / "discovery.html"
    return written


def _svg(fig: plt.Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", dpi=RASTER_DPI)
    plt.close(fig)
    return buffer.getvalue()


def trajectory_figure(found: Discovery) -> str | None:
    """Coverage against density along the first box's peeling, the chosen box marked."""
    if not found.boxes:
        return None
    t = found.trajectory_table()
    t = t[t["box"] == 1]
    fig, ax = plt.subplots(figsize=(6, 4))
    points = ax.scatter(t["coverage"], t["density"], c=t["restricted"], cmap="viridis", s=18)
    chosen = t[t["chosen"]]
    ax.scatter(
        chosen["coverage"],
        chosen["density"],
        s=120,
        facecolors="none",
        edgecolors=PALETTE[1],
        linewidths=2,
        label="chosen box",
    )
    ax.set_xlabel("coverage (share of the cases inside the box)")
    ax.set_ylabel("density (share of the box that are cases)")
    fig.colorbar(points, ax=ax, label="inputs restricted (count)")
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.18), frameon=False)
    ax.set_title(f"Peeling trajectory: where {found.where}")
    return _svg(fig)


def box_figure(found: Discovery) -> str | None:
    """The futures on the first box's two most significant inputs, cases coloured."""
    if not found.boxes or not found.boxes[0].limits:
        return None
    box = found.boxes[0]
    numeric = [c for c, limit in box.limits.items() if not isinstance(limit, frozenset)]
    ranked = sorted(numeric, key=lambda c: box.quasi_p.get(c, 1.0))
    if not ranked:
        return None
    a = ranked[0]
    b = (
        ranked[1]
        if len(ranked) > 1
        else next((c for c in found.x.columns if c != a and found.x[c].dtype.kind in "fi"), None)
    )
    if b is None:
        return None
    fig, ax = plt.subplots(figsize=(6, 4.5))
    y = found.y
    many = len(y) > RASTER_POINTS  # then the dots are one image in the SVG
    ax.scatter(
        found.x[a][~y], found.x[b][~y], s=10, color=GREY, label="condition false", rasterized=many
    )
    ax.scatter(
        found.x[a][y],
        found.x[b][y],
        s=10,
        color=PALETTE[0],
        label="condition true",
        rasterized=many,
    )
    lo_a, hi_a = _span(box, a, found.x[a])
    lo_b, hi_b = _span(box, b, found.x[b])
    ax.add_patch(
        plt.Rectangle(
            (lo_a, lo_b),
            hi_a - lo_a,
            hi_b - lo_b,
            fill=False,
            edgecolor=PALETTE[1],
            linewidth=2,
            label="first box",
        )
    )
    ax.set_xlabel(f"{a} (as sampled)")
    ax.set_ylabel(f"{b} (as sampled)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False)
    ax.set_title(f"Where {found.where}")
    return _svg(fig)


def _span(box, column, values) -> tuple[float, float]:
    low, high = box.limits.get(column, (-float("inf"), float("inf")))
    return max(low, float(values.min())), min(high, float(values.max()))


def section_html(found: Discovery, figures: dict[str, str | None]) -> str:
    """The section as a self-contained HTML page (its figures inline)."""
    rows = found.box_table()
    limits = found.limit_table()
    sentences = "".join(f"<p>{html.escape(s)}</p>" for s in rows["sentence"])
    if not found.boxes:
        sentences = (
            f"<p>No box of inputs reached the density asked for: {html.escape(found.where)} "
            f"held in {found.cases} of {found.futures} runs, spread across the futures.</p>"
        )
    table = limits.to_html(index=False, float_format=lambda v: f"{v:.3g}", na_rep="")
    scores = rows.drop(columns=["sentence"]).to_html(index=False, float_format="{:.2f}".format)
    art = "".join(f"<figure>{svg}</figure>" for svg in figures.values() if svg)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Where {html.escape(found.where)}</title>"
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;}"
        "table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
        "svg{max-width:100%;height:auto}</style></head><body>"
        f"<h2>When does it hold? {html.escape(found.where)}</h2>"
        f"<p>{found.cases} of {found.futures} runs met the condition "
        f"({found.cases / max(found.futures, 1):.0%}).</p>{sentences}"
        f"<h3>Boxes</h3>{scores}<h3>Limits and their significance</h3>{table}{art}"
        "</body></html>"
    )
