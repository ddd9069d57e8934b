"""Global sensitivity analysis of any function of named parameters, built on SALib.

The pilot model is expensive and its outputs are many, so the steps are kept apart the way
SALib's own API is: `sample` draws the design (``sampling.py``), the caller evaluates it
(serially, on any executor, or through the studies layer), `analyze` turns the outputs into
one tidy table of indices (``indices.py``) and `plot_sobol` / `plot_morris` draw it
(``plot.py``). `analyze_function` chains the three for a plain Python callable
(``function.py``); `analyze_scenario` (``scenario.py``) reuses the same `sample` and
`analyze` with the studies layer as its runner (parallel, resumable, with progress), on
replicate means, over the scenario fields its `factors` name (``factors.py``: how bounds,
integers and levels become SALib variables).

Every index comes back as a row of ``metric, parameter, method, index, value, ci_low,
ci_high`` so that results from different methods and metrics stack, filter and plot alike.

On the package, ``sample`` and ``analyze`` are the functions (as SALib users expect); the
modules that define them are named ``sampling`` and ``indices``, so neither is hidden.

>>> from poolpilot.analysis import sensitivity
>>> sensitivity.analyze_scenario("hospital_led_post_acute", "morris", samples=4)  # doctest: +SKIP
"""

from poolpilot.analysis.sensitivity.factors import (
    Factor,
    design_points,
    factors,
    integer_value,
    level_value,
    parse_options,
    scenario_problem,
)
from poolpilot.analysis.sensitivity.function import CHUNK_SIZE, analyze_function
from poolpilot.analysis.sensitivity.indices import (
    COLUMNS,
    CONVERGENCE_COLUMNS,
    NOISE_COLUMNS,
    analyze,
    convergence,
    noise_shares,
    rank,
)
from poolpilot.analysis.sensitivity.plot import plot_morris, plot_sobol
from poolpilot.analysis.sensitivity.sampling import FAST_M, METHODS, MORRIS_LEVELS, sample
from poolpilot.analysis.sensitivity.scenario import (
    DEFAULT_SAMPLES,
    IncompleteStudyError,
    SensitivityResult,
    analyze_scenario,
)

__all__ = [
    "CHUNK_SIZE",
    "COLUMNS",
    "CONVERGENCE_COLUMNS",
    "DEFAULT_SAMPLES",
    "FAST_M",
    "METHODS",
    "MORRIS_LEVELS",
    "NOISE_COLUMNS",
    "Factor",
    "IncompleteStudyError",
    "SensitivityResult",
    "analyze",
    "analyze_function",
    "analyze_scenario",
    "convergence",
    "design_points",
    "factors",
    "integer_value",
    "level_value",
    "noise_shares",
    "parse_options",
    "plot_morris",
    "plot_sobol",
    "rank",
    "sample",
    "scenario_problem",
]
