"""Enrich stage: fill fields no source set, from the id and from a table of known provider quirks.

Enrichment never overrides a value a source gave: it only fills gaps, and its provenance says `enrich`.
"""

from __future__ import annotations

import re
from typing import Any

from llmdb._format import FieldSource
from llmdbd.merge import ModelKey

_VERSION_SUFFIXES = (
    re.compile(r"@.*$"),  # vertex: claude-sonnet-4-5@20250929
    re.compile(r"-v\d+(:\d+)?$"),  # bedrock: -v1:0
    re.compile(r":\d+$"),
    re.compile(r"-latest$"),
    re.compile(r"-\d{4}-\d{2}-\d{2}$"),  # -2024-08-06
    re.compile(r"-\d{8}$"),  # -20241022
    re.compile(r"-\d{4}$"),  # -0125 (month-day snapshots)
)

_TOOLS = "capabilities.tools.enabled"
_SCHEMA = "capabilities.json.schema"
_TOOL_TRANSPORT = (
    ("capabilities.tools.parallel", True, _TOOLS),
    ("capabilities.tools.streaming", True, _TOOLS),
    ("capabilities.streaming.tool_calls", True, _TOOLS),
)
_STRICT_SCHEMAS = (("capabilities.tools.strict", True, _TOOLS), ("capabilities.json.strict", True, _SCHEMA))
QUIRKS: dict[str, tuple[tuple[str, Any, str], ...]] = {
    # provider: (field, value, only when this capability is true)
    "openai": _TOOL_TRANSPORT + _STRICT_SCHEMAS,
    "azure": _TOOL_TRANSPORT + _STRICT_SCHEMAS,
    "anthropic": _TOOL_TRANSPORT,
    "google": _TOOL_TRANSPORT,
}
"""Documented in docs/merging.md: what upstream does not say but these providers' APIs are known to do."""


def derive_family(model_id: str) -> str | None:
    """`gpt-4o-2024-08-06` → `gpt-4o`: the last path segment without date, version and `-latest` suffixes."""
    name = model_id.rsplit("/", 1)[-1]
    changed = True
    while changed:
        changed = False
        for pattern in _VERSION_SUFFIXES:
            stripped = pattern.sub("", name)
            if stripped != name and stripped:
                name, changed = stripped, True
    return name or None


def enrich(models: dict[ModelKey, dict[str, Any]], sources: dict[ModelKey, dict[str, FieldSource]], layer: int) -> None:
    """Fill gaps in every merged model record in place, attributing what it sets to layer number `layer`."""
    derived: FieldSource = (layer, False, ())
    for (provider, model_id), record in models.items():
        src = sources[(provider, model_id)]

        def fill(path: str, value: Any, record: dict[str, Any] = record, src: dict[str, Any] = src) -> None:
            if value is not None and path not in src:
                _put(record, path, value)
                src[path] = derived

        fill("provider_model_id", model_id)
        fill("family", derive_family(model_id))
        status = record.get("status")
        if record.get("deprecated") is True and status is None:
            fill("status", "deprecated")
        fill("deprecated", status in ("deprecated", "retired"))
        outputs = record.get("modalities", {}).get("output", ())
        embeddings = "embedding" in outputs or "embed" in model_id.lower()
        fill("capabilities.embeddings", embeddings)
        fill("capabilities.chat", not embeddings and (not outputs or "text" in outputs))
        for path, value, condition in QUIRKS.get(provider, ()):
            if _get(record, condition) is True:
                fill(path, value)


def _get(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _put(record: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        record = record.setdefault(part, {})
    record[last] = value
