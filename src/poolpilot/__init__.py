"""poolpilot: agent-based simulation of pooled-budget integrated funding pilots.

>>> import poolpilot
>>> scenario = poolpilot.load_scenario("hospital_led_post_acute")
>>> result = poolpilot.run(scenario, replicates=5)       # doctest: +SKIP
>>> result.runs[["design", "unmet_need_share", "trust_final_mean"]]  # doctest: +SKIP

The package is one subpackage per stage of the pipeline, each importing only the stages below
it: ``scenario``, ``model``, ``runs``, ``analysis``, ``report``, and ``cli`` on top
(docs/architecture.md).
"""

from importlib import import_module
from typing import Any

from poolpilot._version import __version__

__all__ = [
    "METRICS",
    "PilotModel",
    "ScenarioError",
    "__version__",
    "compare",
    "list_presets",
    "load_scenario",
    "prepare_design",
    "run",
    "sensitivity",
    "write_report",
]

#: Every name is loaded on first use: ``import poolpilot.scenario`` (what ``poolpilot list``
#: and ``validate`` need) then costs a fifth of a second, not the second and a half that Mesa,
#: pandas, SALib and matplotlib take.
_LAZY = {
    "METRICS": ("poolpilot.model", "METRICS"),
    "PilotModel": ("poolpilot.model", "PilotModel"),
    "compare": ("poolpilot.runs", "compare"),
    "prepare_design": ("poolpilot.runs", "prepare_design"),
    "run": ("poolpilot.runs", "run"),
    "ScenarioError": ("poolpilot.scenario", "ScenarioError"),
    "list_presets": ("poolpilot.scenario", "list_presets"),
    "load_scenario": ("poolpilot.scenario", "load_scenario"),
    "sensitivity": ("poolpilot.analysis.sensitivity", None),
    "write_report": ("poolpilot.report", "write_report"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'poolpilot' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    loaded = import_module(module)
    return loaded if attribute is None else getattr(loaded, attribute)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
