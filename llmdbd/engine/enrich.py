"""Enrich stage: fill fields no source set, from the id (base id, identity: `engine.hosts`) and from a table of known
makers' quirks.

Enrichment never overrides a value a source gave: it only fills gaps, and its provenance says `enrich`.
"""

from __future__ import annotations

import re
from typing import Any

from llmdbd.engine.filters import compile_globs
from llmdbd.engine.hosts import identity
from llmdbd.engine.merge import FieldSource, ModelKey, put_at, value_at

_MM = r"(?:0[1-9]|1[0-2])"
_DD = r"(?:0[1-9]|[12]\d|3[01])"
_YYYY = r"20\d\d"
_YY = r"2[3-9]"

_VERTEX_VERSION = re.compile(r"@.*$")
"""`claude-sonnet-4-5@20250929`, `claude-opus-4-6@default`."""
_BEDROCK_VERSION = re.compile(r"-v?\d+:\d+$")
"""`-v1:0` (`anthropic.claude-…-v1:0`, `amazon.nova-pro-v1:0`), `-1:0` (`openai.gpt-oss-120b-1:0`)."""
_LATEST = re.compile(r"-latest$")

_API_VERSIONS = (_VERTEX_VERSION, _BEDROCK_VERSION, _LATEST)

_DATE_FORMS: tuple[tuple[str, str], ...] = (
    ("yyyy_mm_dd", rf"{_YYYY}-{_MM}-{_DD}"),  # -2024-08-06
    ("yyyymmdd", rf"{_YYYY}{_MM}{_DD}"),  # -20241022
    ("mm_yyyy", rf"{_MM}-{_YYYY}"),  # -08-2024 (Cohere, Gemini previews)
    ("yymmdd", rf"{_YY}{_MM}{_DD}"),  # -250615 (Doubao / Volcengine)
    ("mm_dd", rf"{_MM}-{_DD}"),  # -05-06 (Gemini previews, Qwen 3.5)
    ("mmdd", rf"{_MM}{_DD}"),  # -0125, -0324 (OpenAI, DeepSeek, Kimi, GLM, Grok)
    ("yymm", rf"{_YY}{_MM}"),  # -2411, -2507 (Mistral, Qwen, StepFun)
)
"""Date suffix forms, by name. The two-digit-year forms start with 2, MMDD/MM-DD with 0 or 1: they never overlap."""
_DATE = re.compile("-(?:" + "|".join(f"(?P<{name}>{form})" for name, form in _DATE_FORMS) + ")$")
"""One date suffix. `re.search` returns the leftmost match, so `-2024-08-06` wins over its tail `-08-06`."""


_TOOLS = "capabilities.tools.enabled"
_SCHEMA = "capabilities.json.schema"
_PARALLEL = (("capabilities.tools.parallel", True, _TOOLS),)
_STREAMING = (("capabilities.tools.streaming", True, _TOOLS), ("capabilities.streaming.tool_calls", True, _TOOLS))
_STRICT = (("capabilities.tools.strict", True, _TOOLS), ("capabilities.json.strict", True, _SCHEMA))
_OPENAI_GPT = ("gpt-[0-9]*", "chatgpt-*", "codex-*")  # not gpt-oss-*: others serve it their own way
_OPENAI_O = ("o[1-9]", "o[1-9]-*")  # the o-series refuses `parallel_tool_calls`

Quirk = tuple[str, tuple[str, ...], tuple[tuple[str, Any, str], ...]]
QUIRKS: tuple[Quirk, ...] = (
    # (provider, the maker's model-id globs, ((field, value, only when this capability is true), ...))
    ("openai", _OPENAI_GPT, _PARALLEL + _STREAMING + _STRICT),
    ("openai", _OPENAI_O, _STREAMING + _STRICT),
    ("azure", _OPENAI_GPT, _PARALLEL + _STREAMING + _STRICT),
    ("azure", _OPENAI_O, _STREAMING + _STRICT),
    ("anthropic", ("claude-*",), _PARALLEL + _STREAMING),
    ("google", ("gemini-*",), _PARALLEL + _STREAMING),
)
"""Documented in docs/merging.md: what upstream does not say but these makers' APIs are known to do. Each
applies to the maker's own models only (Azure also hosts Claude, DeepSeek, Llama...; Google also Gemma)."""
_QUIRKS = {
    provider: [(compile_globs(globs), fields) for p, globs, fields in QUIRKS if p == provider]
    for provider in {q[0] for q in QUIRKS}
}

_EMBEDDING_ID = re.compile(r"embed|(?:^|[/._-])(?:bge|e5|gte)-|minilm|mpnet", re.IGNORECASE)
"""Embedding models upstream does not mark with an `embedding` output (bge, e5, gte, MiniLM, mpnet...)."""
_RERANK_ID = re.compile(r"rerank", re.IGNORECASE)


def embedding_id(model_id: str) -> bool:
    """The id names an embedding model (`text-embedding-3-small`, `bge-m3`, `cohere/embed-v4.0`; not a reranker)."""
    return _EMBEDDING_ID.search(model_id) is not None and _RERANK_ID.search(model_id) is None


def base_id(model_id: str) -> str:
    """`gpt-4o-2024-08-06` → `gpt-4o`: the last path segment of `model_id` without version and date suffixes.

    Strips API-version suffixes (`@…`, `-vN:M`, `-latest`) then at most one date suffix; never strips
    the whole name (a suffix that is the entire name is kept).
    """
    name = model_id.rsplit("/", 1)[-1]
    for pattern in _API_VERSIONS:
        stripped = pattern.sub("", name, count=1)
        if stripped:
            name = stripped
    match = _DATE.search(name)
    if match and match.start() > 0:
        name = name[: match.start()]
    return name


def enrich(models: dict[ModelKey, dict[str, Any]], sources: dict[ModelKey, dict[str, FieldSource]], layer: int) -> None:
    """Fill gaps in every merged model record in place, attributing what it sets to layer number `layer`."""
    derived: FieldSource = (layer, False, ())
    for (provider, model_id), record in models.items():
        src = sources[(provider, model_id)]

        def fill(path: str, value: Any, record: dict[str, Any] = record, src: dict[str, Any] = src) -> None:
            if value is not None and path not in src:
                put_at(record, path, value)
                src[path] = derived

        fill("provider_model_id", model_id)
        fill("base_id", base_id(model_id))
        fill("identity", identity(model_id, record.get("base_id")))
        status = record.get("status")
        if record.get("deprecated") is True and status is None:
            fill("status", "deprecated")
        fill("deprecated", status in ("deprecated", "retired"))
        outputs = record.get("modalities", {}).get("output", ())
        reranker = _RERANK_ID.search(model_id) is not None
        embeddings = not reranker and ("embedding" in outputs or _EMBEDDING_ID.search(model_id) is not None)
        fill("capabilities.embeddings", embeddings)
        fill("capabilities.chat", not embeddings and not reranker and (not outputs or "text" in outputs))
        if embeddings:
            fill("capabilities.temperature", False)  # the schema's default (true) is for generative models
        fill("mode", _mode(record, reranker))
        for globs, fields in _QUIRKS.get(provider, ()):
            if globs.match(model_id):
                for path, value, condition in fields:
                    if value_at(record, condition) is True:
                        fill(path, value)


def _mode(record: dict[str, Any], reranker: bool) -> str | None:
    """The mode a source did not give, from what the record says the model does (None if it says nothing)."""
    if value_at(record, "capabilities.embeddings") is True:
        return "embedding"
    if reranker:
        return "rerank"
    if value_at(record, "capabilities.chat") is not False:
        return "chat"
    outputs = record.get("modalities", {}).get("output", ())
    return "image_generation" if "image" in outputs else "audio_speech" if "audio" in outputs else None
