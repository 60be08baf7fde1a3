"""The boolean features of a model: one definition for the snapshot's bitsets and the query API."""

from __future__ import annotations

from llmdb.schema import Model

FEATURES = (
    "chat",
    "embeddings",
    "reasoning",
    "tools",
    "tools_streaming",
    "tools_strict",
    "tools_parallel",
    "json_native",
    "json_schema",
    "json_strict",
    "streaming_text",
    "streaming_tool_calls",
    "attachments",
    "temperature",
    "open_weights",
)
"""Keys of `require=` / `forbid=` and `supports()`; each has a precomputed bitset in the snapshot."""


def features_of(model: Model) -> dict[str, bool]:
    """Every feature flag of one model (what the bitsets hold), for `supports` and the CLI."""
    c = model.capabilities
    return {
        "chat": c.chat,
        "embeddings": c.embeddings,
        "reasoning": c.reasoning.enabled,
        "tools": c.tools.enabled,
        "tools_streaming": c.tools.streaming,
        "tools_strict": c.tools.strict,
        "tools_parallel": c.tools.parallel,
        "json_native": c.json.native,
        "json_schema": c.json.schema,
        "json_strict": c.json.strict,
        "streaming_text": c.streaming.text,
        "streaming_tool_calls": c.streaming.tool_calls,
        "attachments": c.attachments,
        "temperature": c.temperature,
        "open_weights": model.open_weights is True,
    }
