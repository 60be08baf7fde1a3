"""The daemon's errors, under one base: catch `DaemonError` for any of them (and `llmdb.LLMDBError` for those of
the client and daemon alike). Each message names the file, key or URL and the reason."""

from __future__ import annotations

from llmdb import LLMDBError
from llmdb.schema import BuildReport

__all__ = [
    "BuildError",
    "ConfigError",
    "DaemonError",
    "FetchError",
    "NotFound",
    "Refused",
    "StateDirBusy",
    "StoreError",
]


class DaemonError(LLMDBError):
    """Base of every `llmdbd` error."""


class ConfigError(DaemonError):
    """A configuration that cannot be used; the message names the file and key."""


class BuildError(DaemonError):
    """No model survived the build; `report` says why."""

    def __init__(self, report: BuildReport) -> None:
        errors = "; ".join(str(i) for i in report.errors[:5])
        super().__init__(f"build produced no models: {errors or 'no input'}")
        self.report = report


class FetchError(DaemonError):
    """An upstream catalog could not be fetched or its body was refused; the message says why."""


class StoreError(DaemonError):
    """A fleet store that could not be read or written; the message names the URL and the reason."""


class NotFound(StoreError):
    """No object at that name in a store."""


class Refused(DaemonError):
    """A manifest or snapshot a follower will not publish; the message says which check failed."""


class StateDirBusy(DaemonError):
    """Another process holds the state directory; the message names its pid and what it is doing."""
