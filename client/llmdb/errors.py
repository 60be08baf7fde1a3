"""The exceptions of llmdb: catch `LLMDBError` for all of them, or the precise one you care about."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "AmbiguousModel",
    "HistoryError",
    "InvalidQuery",
    "InvalidSpec",
    "InvalidUsage",
    "LLMDBError",
    "ModelExcluded",
    "ModelNotFound",
    "NoMatch",
    "PriceUnknown",
    "SnapshotError",
    "UnknownProfile",
    "UnknownProvider",
]


class LLMDBError(Exception):
    """Base of every llmdb error."""


class ModelNotFound(LLMDBError, KeyError):
    """No model by that spec; `suggestions` holds close matches. Also a `KeyError`, like a dict miss."""

    def __init__(self, message: str, *, suggestions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.suggestions = list(suggestions)

    def __str__(self) -> str:  # KeyError would repr-quote the message
        return str(self.args[0])


class ModelExcluded(ModelNotFound):
    """The model is in the upstream data but an exclude removed it; `reason` names the exclude and its file."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class UnknownProvider(LLMDBError):
    """The spec names a provider the catalog does not have."""


class InvalidSpec(LLMDBError, ValueError):
    """The text is not a model spec at all (no provider, empty model id)."""


class InvalidQuery(LLMDBError, ValueError):
    """A query names something that does not exist (a feature, an `order_by`); the message lists valid names."""


class InvalidUsage(LLMDBError, ValueError):
    """Usage that cannot be priced as given: an unknown shape, a negative count, parts larger than their whole."""


class AmbiguousModel(LLMDBError):
    """A bare model id that several providers have; `candidates` lists their specs."""

    def __init__(self, message: str, *, candidates: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.candidates = list(candidates)


class NoMatch(LLMDBError):
    """`select` found no model; `trace` says what each step considered and rejected."""

    def __init__(self, message: str, *, trace: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.trace = tuple(trace)


class PriceUnknown(LLMDBError):
    """The catalog has no price for what was asked; never silently priced at 0."""


class SnapshotError(LLMDBError):
    """A snapshot file that cannot be used: missing, truncated, corrupt or of an unknown format."""


class HistoryError(LLMDBError):
    """The history cannot answer: no history beside the snapshot, an unreadable one, an epoch no longer
    retained, a date that is not one."""


class UnknownProfile(SnapshotError):
    """The snapshot has no profile of that name; the message lists those it has. A file published without the
    profile a process reads with is refused like a corrupt one: the process keeps the mapping it has."""
