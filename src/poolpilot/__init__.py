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
from poolpilot.model import METRICS, PilotModel
from poolpilot.runs import compare, run
from poolpilot.scenario import ScenarioError, list_presets, load_scenario

__all__ = [
    "METRICS",
    "PilotModel",
    "ScenarioError",
    "__version__",
    "compare",
    "list_presets",
    "load_scenario",
    "run",
    "sensitivity",
    "write_report",
]

#: Names loaded on first use (they import SALib or matplotlib, which ``run`` does not need).
_LAZY = {
    "sensitivity": ("poolpilot.analysis.sensitivity", None),
    "write_report": ("poolpilot.report", "write_report"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'poolpilot' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    loaded = import_module(module)
    return loaded if attribute is None else getattr(loaded, attribute)
