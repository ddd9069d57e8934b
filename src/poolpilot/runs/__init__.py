"""Runs: studies (designs x varied points x replicates), executors, the results store.

It runs the model and stores its run records; it knows nothing of agents or reports.
"""

from poolpilot.runs.identity import FolderRefused, StudyMismatch
from poolpilot.runs.store import ResultsStore, read_results
from poolpilot.runs.study import StudyResults, compare, execute_study, prepare_design, run

__all__ = [
    "FolderRefused",
    "ResultsStore",
    "StudyMismatch",
    "StudyResults",
    "compare",
    "execute_study",
    "prepare_design",
    "read_results",
    "run",
]
