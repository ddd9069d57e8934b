"""poolpilot: agent-based simulation of pooled-budget integrated funding pilots.

>>> import poolpilot
>>> scenario = poolpilot.load_scenario("hospital_led_post_acute")
>>> result = poolpilot.run(scenario, replicates=5)       # doctest: +SKIP
>>> result.runs[["design", "unmet_need_share", "trust_final_mean"]]  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("poolpilot")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

from poolpilot.scenario import ScenarioError, list_presets, load_scenario  # noqa: E402
from poolpilot.study import compare, run  # noqa: E402

__all__ = ["ScenarioError", "__version__", "compare", "list_presets", "load_scenario", "run"]
