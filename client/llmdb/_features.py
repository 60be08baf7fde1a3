"""The boolean features of a model: one definition for the snapshot's bitsets and the query API."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter

from llmdb.errors import InvalidQuery
from llmdb.schema import MODALITIES, Model

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
    "prompt_caching": lambda m: (
        (m.cost is not None and (m.cost.cache_read is not None or m.cost.cache_write is not None))
        or m.extra.get("supports_prompt_caching") is True
    ),
}
"""Feature name → how to read it off a model."""

FEATURES = tuple(GETTERS)
"""Keys of `require=` / `forbid=` and `supports()`; each has a precomputed bitset in the snapshot."""


def features_of(model: Model) -> dict[str, bool]:
    """Every feature flag of one model (what the bitsets hold)."""
    return {name: bool(get(model)) for name, get in GETTERS.items()}


SYNONYMS = {
    "vision": "input:image",
    "function_calling": "tools",
    "parallel_function_calling": "tools_parallel",
    "tool_choice": "tools",
    "response_schema": "json_schema",
    "native_streaming": "streaming_text",
    "pdf_input": "input:pdf",
    "audio_input": "input:audio",
    "audio_output": "output:audio",
    "video_input": "input:video",
    "image_input": "input:image",
    "embedding": "embeddings",
}
"""LiteLLM's feature words (`supports_<word>`) → llmdb's feature or modality; accepted wherever features are."""
_OTHER_WORDS = {
    "tool_calls": "tools",
    "structured_output": "json_schema",
    "json_mode": "json_native",
}
"""Words other catalogs use for a feature, named in the error (not accepted silently: they are ambiguous)."""


def check_feature(name: str, *, modalities: bool = True) -> str:
    """The feature `name` stands for (itself, or a LiteLLM synonym's target; with `modalities`, also an
    `input:<m>` / `output:<m>` form); else `InvalidQuery` listing the valid names."""
    if name in GETTERS:
        return name
    name = SYNONYMS.get(name, name) if isinstance(name, str) else name
    if name in GETTERS:
        return name
    direction, sep, modality = name.partition(":") if isinstance(name, str) else ("", "", "")
    if modalities and sep and direction in ("input", "output") and modality:
        return name
    from llmdb._spec import clip, did_you_mean  # only on the error path

    forms = [*FEATURES, *(f"{d}:{m}" for d in ("input", "output") for m in MODALITIES)] if modalities else FEATURES
    valid = ", ".join(FEATURES)
    if modalities:
        valid += ", or input:<modality> / output:<modality> with a modality such as " + ", ".join(MODALITIES)
    hint = f"; did you mean {_OTHER_WORDS[name]!r}?" if name in _OTHER_WORDS else did_you_mean(str(name), forms)
    raise InvalidQuery(f"unknown feature {clip(str(name))}{hint}; valid: {valid}")
