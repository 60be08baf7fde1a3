"""Times as people and machines read them: ISO 8601 in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(timestamp: float | None) -> str | None:
    """`1767225600.0` → `2026-01-01T00:00:00Z` (seconds precision); None stays None."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
