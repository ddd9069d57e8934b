"""Loading a results folder for the report: the runs that finished, labelled, and a sample.

``load`` reads ``manifest.json`` and the results tables once and labels every run with its
design (plus the varied values when a study varied parameters), so each later step groups by
one column. For a large study the timeseries and events are read for a bounded sample of runs
(`detail_sample`), so the report of a 20,000-run study fits in memory.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from poolpilot.model.metrics import METRICS
from poolpilot.report.formats import plain
from poolpilot.runs.identity import study_status
from poolpilot.runs.store import RUN_IDENTITY, RUN_TAIL, ResultsStore
from poolpilot.scenario.paths import get_field

#: Beyond this many design x varied-value combinations, the varied values are not shown as
#: designs of their own (a sensitivity design or a large grid): runs are summarised per design.
MAX_DESIGNS = 30


@dataclass
class ReportData:
    """A results folder, read and labelled for the report.

    ``runs`` holds the runs that finished (status ok) with a ``label`` column: the design name,
    plus the varied values when the study varied parameters. ``timeseries`` and ``events``
    carry the same label; for a large study they hold a sample of the runs, ``detail_keys``
    (the first ``DETAIL_REPLICATES`` replicates of each design and point, at most
    ``MAX_DETAIL_RUNS`` runs), so the report of a 20,000-run study fits in memory.
    ``complete`` is False for an interrupted study (``runs_done`` of ``runs_planned``) and for
    a folder without a manifest (``runs_planned`` None): the report then says so.
    """

    folder: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    failed: pd.DataFrame
    timeseries: pd.DataFrame
    events: pd.DataFrame
    labels: list[str]
    metrics: list[str]
    varied: list[str]
    label_design: dict[str, str]
    scenarios: dict[str, dict[str, Any]]
    baselines: list[str]
    indices: pd.DataFrame | None
    symbol: str
    points: int = 0
    collapsed: bool = False
    currency: str = "USD"
    detail_keys: frozenset[str] = frozenset()
    runs_done: int = 0
    runs_planned: int | None = None
    complete: bool = False

    def scenario(self, label: str) -> dict[str, Any]:
        """The resolved scenario a label's runs came from (empty when the manifest lacks it)."""
        return self.scenarios.get(self.label_design.get(label, label), {})


def field(resolved: dict[str, Any], path: str, default: Any = None) -> Any:
    """A field of a resolved scenario by dotted path (`get_field`), or ``default``.

    ``default`` also stands in for a field set to null (``providers: null`` reads as ``[]``).
    """
    try:
        value = get_field(resolved, path)
    except KeyError:
        return default
    return default if value is None else value


def load(folder: str | Path) -> ReportData:
    """Read a results folder into a `ReportData` (missing tables read as empty)."""
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    with ResultsStore(folder, readonly=True) as store:
        runs = store.read("runs")
        detail = detail_sample(runs)
        tables = {t: store.read(t, runs=detail) for t in ("timeseries", "events")}
    scenarios = {
        str(name): entry.get("resolved", {}) or {}
        for name, entry in (manifest.get("scenarios") or {}).items()
    }
    varied = _varied_columns(manifest, runs)
    metrics = metric_columns(runs, varied)
    progress = study_status(manifest or None, len(runs))
    status = runs["status"].astype(str) if "status" in runs else pd.Series("ok", index=runs.index)
    ok = runs[status == "ok"].copy()
    failed = runs[status != "ok"].copy()
    indices_path = folder / "indices.parquet"
    indices = pd.read_parquet(indices_path) if indices_path.exists() else None
    ok["label"] = _labels(ok, varied)
    points = ok["label"].nunique()
    collapsed = bool(varied) and (indices is not None or points > MAX_DESIGNS)
    if collapsed:
        # a sensitivity design or a large grid: one label per design; runs pair by replicate
        # and varied point (every design runs every point at every replicate's seed)
        ok["pair"] = ok["replicate"].astype(str) + "|" + ok["label"].str.partition(" [")[2]
        ok["label"] = ok["design"].astype(str)
    else:
        ok["pair"] = ok["replicate"]
    order = {name: i for i, name in enumerate(scenarios)}
    first = ok.drop_duplicates("label")
    first = first.assign(_o=first["design"].map(order).fillna(len(order)))
    labels = list(first.sort_values(["_o"], kind="stable")["label"])
    label_design = dict(zip(first["label"], first["design"].astype(str), strict=True))
    ok["label"] = pd.Categorical(ok["label"], categories=labels, ordered=True)
    ok = ok.sort_values(["label", "replicate"], kind="stable").reset_index(drop=True)
    key_label = pd.Series(ok["label"].to_numpy(), index=ok["key"].to_numpy())

    def labelled(frame: pd.DataFrame) -> pd.DataFrame:
        if frame.empty:
            return frame.assign(label=pd.Categorical([], categories=labels))
        label = pd.Categorical(frame["run"].map(key_label), categories=labels, ordered=True)
        return frame.assign(label=label)[label.notna()]

    baselines = [
        label
        for label in labels
        if field(scenarios.get(label_design[label], {}), "holder.kind") == "none"
        or (label_design[label] == "no_pool_baseline" and label_design[label] not in scenarios)
    ]
    currencies = {s.get("currency", "USD") for s in scenarios.values()} or {"USD"}
    currency = sorted(currencies)[0]
    symbol = "$" if currency == "USD" else f"{currency} "
    return ReportData(
        folder=folder,
        manifest=manifest,
        runs=ok,
        failed=failed,
        timeseries=labelled(tables["timeseries"]),
        events=labelled(tables["events"]),
        labels=labels,
        metrics=metrics,
        varied=varied,
        label_design=label_design,
        scenarios=scenarios,
        baselines=baselines,
        indices=indices,
        symbol=symbol,
        currency=currency,
        points=points,
        collapsed=collapsed,
        detail_keys=frozenset(detail),
        runs_done=progress.runs_done,
        runs_planned=progress.runs_planned,
        complete=progress.complete,
    )


#: Trajectories and governance counts use at most this many replicates of each design and
#: point, and at most ``MAX_DETAIL_RUNS`` runs in all: bands and means from a few hundred runs
#: are as readable as from twenty thousand, at a fraction of the memory.
DETAIL_REPLICATES = 100
MAX_DETAIL_RUNS = 3000


def detail_sample(runs: pd.DataFrame) -> list[str]:
    """The run keys whose timeseries and events the report reads (deterministic)."""
    ok = runs[runs["status"].astype(str) == "ok"] if "status" in runs else runs
    keys = ok.loc[ok["replicate"] < DETAIL_REPLICATES, "key"].astype(str).tolist()
    if len(keys) > MAX_DETAIL_RUNS:
        step = len(keys) / MAX_DETAIL_RUNS
        keys = [keys[int(i * step)] for i in range(MAX_DETAIL_RUNS)]
    return keys


def varied_paths(manifest: dict[str, Any]) -> list[str]:
    """The fields a study varied, from its manifest's ``vary`` (a grid or a list of points)."""
    vary = manifest.get("vary")
    if isinstance(vary, dict):
        return list(vary)
    if isinstance(vary, list):
        return list(dict.fromkeys(p for point in vary if isinstance(point, dict) for p in point))
    return []


def _varied_columns(manifest: dict[str, Any], runs: pd.DataFrame) -> list[str]:
    return [p for p in varied_paths(manifest) if p in runs.columns]


def metric_columns(runs: pd.DataFrame, varied: Sequence[str] = ()) -> list[str]:
    """The numeric outcome columns: the registry's metrics in its order, then any others."""
    skip = set(RUN_IDENTITY) | set(RUN_TAIL) | set(varied) | {"label", "pair"}
    numeric = [
        c
        for c in runs.columns
        if c not in skip
        and (pd.api.types.is_numeric_dtype(runs[c]) or pd.api.types.is_bool_dtype(runs[c]))
    ]
    known = [m for m in METRICS if m in numeric]
    return known + [c for c in numeric if c not in known]


def _labels(runs: pd.DataFrame, varied: Sequence[str]) -> pd.Series:
    label = runs["design"].astype(str)
    if varied and len(runs):
        parts = [runs[p].map(lambda v, p=p: f"{p}={plain(v)}").astype(str) for p in varied]
        label = label + " [" + pd.concat(parts, axis=1).agg(", ".join, axis=1) + "]"
    return label
