"""Scenario discovery's public name: ``from poolpilot.discovery import find_boxes``.

A fixed home for notebooks and outside data; the code is in :mod:`poolpilot.analysis.discovery`.
"""

from poolpilot.analysis.discovery import Box, find_boxes

__all__ = ["Box", "find_boxes"]
