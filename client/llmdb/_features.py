"""The boolean features of a model: one definition for the snapshot's bitsets and the query API."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter

from llmdb.schema import Model

GETTERS: dict[str, Callable[[Model], bool]] = {
    "chat": attrgetter("capabilities.chat"),
    "embeddings": attrgetter("capabilities.embeddings"),
    "reasoning": attrgetter("capabilities.reasoning.enabled"),
    "tools": attrgetter("capabilities.tools.enabled"),
    "tools_streaming": attrgetter("capabilities.tools.streaming"),
    "tools_strict": attrgetter("capabilities.tools.strict"),
    "tools_parallel": attrgetter("capabilities.tools.parallel"),
    "json_native": attrgetter("capabilities.json.native"),
    "json_schema": attrgetter("capabilities.json.schema"),
    "json_strict": attrgetter("capabilities.json.strict"),
    "streaming_text": attrgetter("capabilities.streaming.text"),
    "streaming_tool_calls": attrgetter("capabilities.streaming.tool_calls"),
    "attachments": attrgetter("capabilities.attachments"),
    "temperature": attrgetter("capabilities.temperature"),
    "open_weights": lambda m: m.open_weights is True,
}
"""Feature name → how to read it off a model."""

FEATURES = tuple(GETTERS)
"""Keys of `require=` / `forbid=` and `supports()`; each has a precomputed bitset in the snapshot."""


def features_of(model: Model) -> dict[str, bool]:
    """Every feature flag of one model (what the bitsets hold)."""
    return {name: bool(get(model)) for name, get in GETTERS.items()}
