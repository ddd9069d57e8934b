"""Writing a folder's report from the command line: quietly about the libraries' warnings.

Every command that leaves a results folder (``run``, ``compare``, ``sensitivity``, ``report``,
``explore``, ``discover``, ``robust``) writes its ``report.html`` through here.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

from poolpilot.scenario import ScenarioWarning


@contextlib.contextmanager
def library_warnings_hidden() -> Iterator[None]:
    """No warnings from the plotting and table libraries while figures and the report are made.

    Their deprecation notices and font or layout remarks are for poolpilot's developers (the
    test suite shows them), not for a designer reading the terminal; a scenario warning still
    shows.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("default", ScenarioWarning)
        yield


def write_report(folder: Path | None, quiet: bool = False, title: str | None = None) -> Path | None:
    """Write (or refresh) ``folder``'s report.html; say so on stderr unless ``quiet``."""
    from poolpilot import report

    if folder is None:
        return None
    if not quiet:
        print("writing the report ...", file=sys.stderr, flush=True)
    with library_warnings_hidden():
        return report.write_report(folder, title=title)
