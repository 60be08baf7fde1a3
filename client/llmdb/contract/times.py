"""Times as the status file, `llmdb info` and the history write them: ISO 8601 UTC, to the second."""

from datetime import UTC, datetime


def iso(timestamp: float | None) -> str | None:
    """`1767225600.0` → `2026-01-01T00:00:00Z`: how the status file and `llmdb info` write times."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unix(text: str) -> float:
    """`iso`'s inverse: `2026-01-01T00:00:00Z` → `1767225600.0` (`ValueError` when it is not such a time)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
