"""The installed version, importable by every stage without importing the package's top."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("poolpilot")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
