"""The model: one pooled-budget pilot, month by month, as Mesa agents over numpy arrays.

It takes a validated scenario and a seed and hands back metrics, a timeseries and audit
events; it knows nothing of files, the command line or reports.
"""

from poolpilot.model.metrics import METRIC_NAMES, METRICS
from poolpilot.model.pilot import PilotModel

__all__ = ["METRICS", "METRIC_NAMES", "PilotModel"]
