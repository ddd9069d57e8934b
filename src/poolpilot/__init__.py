"""poolpilot: agent-based simulation of pooled-budget integrated funding pilots."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("poolpilot")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
