"""Scenarios: the schema, reading files (``extends``, ``--set``), validation, field paths.

The lowest stage of the pipeline: it knows nothing of the model, runs or reports.
"""

from poolpilot.scenario.cautions import ScenarioWarning, cautions
from poolpilot.scenario.loading import (
    content_hash,
    list_presets,
    load_scenario,
    locate,
    merge,
    parse_assignment,
    preset_dir,
    read_located,
    read_yaml,
    resolve,
    to_data,
)
from poolpilot.scenario.located import Place, load_located
from poolpilot.scenario.paths import NAMED_LISTS, apply_override, get_field, set_field
from poolpilot.scenario.problems import Problem, ScenarioError
from poolpilot.scenario.schema import Scenario
from poolpilot.scenario.validation import validate_data
from poolpilot.scenario.variants import (
    baselines_for,
    no_pool_variant,
    population_key,
    without_own_lines,
)

__all__ = [
    "NAMED_LISTS",
    "Place",
    "Problem",
    "Scenario",
    "ScenarioError",
    "ScenarioWarning",
    "apply_override",
    "baselines_for",
    "cautions",
    "content_hash",
    "get_field",
    "list_presets",
    "load_located",
    "load_scenario",
    "locate",
    "merge",
    "no_pool_variant",
    "parse_assignment",
    "population_key",
    "preset_dir",
    "read_located",
    "read_yaml",
    "resolve",
    "set_field",
    "to_data",
    "validate_data",
    "without_own_lines",
]
