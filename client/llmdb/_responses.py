"""Reading what a request consumed from any SDK's response or usage part (docs/cost.md).

Each API reports usage its own way: OpenAI counts cached tokens inside `prompt_tokens`, Anthropic and Bedrock
report them beside `input_tokens`, Gemini reports thoughts beside the candidates. `usage()` reads each shape into
one `Usage`, so pricing has a single convention to follow.
"""

from collections.abc import Callable, Mapping
from typing import Any

from msgspec.structs import replace

from llmdb._usage import (
    MAX_SECONDS,
    MAX_TOKENS,
    PER_UNIT,
    STREAM_HINT,
    Usage,
    check,
    consistent,
    from_counts,
    past_limit,
    standard_tier,
    too_large,
)
from llmdb.errors import InvalidUsage

__all__ = ["APIS", "API_ALIASES", "requested", "usage"]


def _get(obj: Any, key: str) -> Any:
    """A field of a dict or an SDK object (attribute access); None when absent."""
    if obj.__class__ is dict or isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _has(obj: Any, key: str) -> bool:
    if obj.__class__ is dict or isinstance(obj, Mapping):
        return key in obj
    return hasattr(obj, key)


def _absent(value: Any) -> bool:
    """Null, or an SDK's falsy "not set" marker (mistralai's `UNSET`)."""
    return value is None or (not isinstance(value, (int, float, str, bytes, list, tuple, Mapping)) and not value)


def _n(obj: Any, key: str) -> int:
    """The count `obj[key]` (or `obj.key`); 0 when `obj` or the count is absent. The hot path of `usage()`."""
    value = obj.get(key) if obj.__class__ is dict else _get(obj, key)
    if value.__class__ is int and 0 <= value <= MAX_TOKENS:
        return value
    if _absent(value):
        return 0
    if isinstance(value, float) and value.is_integer() and 0 <= value <= MAX_TOKENS:
        return int(value)
    if past_limit(key, value):
        raise too_large(f"usage field {key}", value)
    raise InvalidUsage(f"usage field {key}: expected a non-negative token count, got {value!r}")


def _seconds(obj: Any, key: str) -> float:
    value = _get(obj, key)
    if _absent(value):
        return 0
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= MAX_SECONDS:
        return value
    if past_limit(key, value):
        raise too_large(f"usage field {key}", value)
    raise InvalidUsage(f"usage field {key}: expected a non-negative number of seconds, got {value!r}")


def _openai_chat(u: Any) -> Usage:
    """Chat Completions, and the APIs that copy it (Mistral, DeepSeek, xAI, Groq, OpenRouter, LiteLLM's `Usage`)."""
    prompt, completion = _get(u, "prompt_tokens_details"), _get(u, "completion_tokens_details")
    return Usage(
        input_tokens=_n(u, "prompt_tokens"),
        output_tokens=_n(u, "completion_tokens"),
        cache_read_tokens=(
            _n(prompt, "cached_tokens")
            or _n(u, "prompt_cache_hit_tokens")  # DeepSeek
            or _n(u, "cache_read_input_tokens")  # LiteLLM
        ),
        cache_write_tokens=_n(prompt, "cache_write_tokens") or _n(u, "cache_creation_input_tokens"),
        reasoning_tokens=_n(completion, "reasoning_tokens"),
        input_audio_tokens=_n(prompt, "audio_tokens"),
        output_audio_tokens=_n(completion, "audio_tokens"),
        input_image_tokens=_n(prompt, "image_tokens"),
        output_image_tokens=_n(completion, "image_tokens"),
        audio_seconds=_seconds(u, "prompt_audio_seconds"),  # Mistral's audio models
        service_tier=standard_tier(_get(u, "service_tier")),
        api="openai-chat",
    )


def _openai_responses(u: Any) -> Usage:
    details = _get(u, "input_tokens_details")
    return Usage(
        input_tokens=_n(u, "input_tokens"),
        output_tokens=_n(u, "output_tokens"),
        cache_read_tokens=_n(details, "cached_tokens"),
        cache_write_tokens=_n(details, "cache_write_tokens"),
        reasoning_tokens=_n(_get(u, "output_tokens_details"), "reasoning_tokens"),
        api="openai-responses",
    )


def _anthropic(u: Any) -> Usage:
    """Messages: `input_tokens` excludes the cache reads and writes, which come beside it."""
    read, by_lifetime = _n(u, "cache_read_input_tokens"), _get(u, "cache_creation")
    one_hour = _n(by_lifetime, "ephemeral_1h_input_tokens")
    write = _n(u, "cache_creation_input_tokens") or _n(by_lifetime, "ephemeral_5m_input_tokens") + one_hour
    return Usage(
        input_tokens=_n(u, "input_tokens") + read + write,
        output_tokens=_n(u, "output_tokens"),
        cache_read_tokens=read,
        cache_write_tokens=write,
        cache_write_1h_tokens=one_hour,
        reasoning_tokens=_n(_get(u, "output_tokens_details"), "thinking_tokens"),
        web_searches=_n(_get(u, "server_tool_use"), "web_search_requests"),
        service_tier=standard_tier(_get(u, "service_tier")),
        api="anthropic",
    )


_GEMINI = {
    "prompt": ("prompt_token_count", "promptTokenCount"),
    "tool": ("tool_use_prompt_token_count", "toolUsePromptTokenCount"),
    "cached": ("cached_content_token_count", "cachedContentTokenCount"),
    "candidates": ("candidates_token_count", "candidatesTokenCount"),
    "thoughts": ("thoughts_token_count", "thoughtsTokenCount"),
    "prompt_details": ("prompt_tokens_details", "promptTokensDetails"),
    "candidates_details": ("candidates_tokens_details", "candidatesTokensDetails"),
}
"""Gemini's fields as the SDK (snake case) and the REST API (camel case) name them."""


def _gemini(u: Any) -> Usage:
    """`usage_metadata`: thoughts and tool-use prompts are billed as output and input, beside the counts."""
    camel = any(_has(u, names[1]) for names in _GEMINI.values())

    def n(name: str) -> int:
        return _n(u, _GEMINI[name][camel])

    def modality(name: str, wanted: str) -> int:
        total = 0
        for item in _get(u, _GEMINI[name][camel]) or ():
            kind = getattr(_get(item, "modality"), "value", _get(item, "modality"))
            if kind == wanted:
                total += _n(item, "tokenCount" if camel else "token_count")
        return total

    thoughts = n("thoughts")
    return Usage(
        input_tokens=n("prompt") + n("tool"),
        output_tokens=n("candidates") + thoughts,
        cache_read_tokens=n("cached"),
        reasoning_tokens=thoughts,
        input_audio_tokens=modality("prompt_details", "AUDIO"),
        input_image_tokens=modality("prompt_details", "IMAGE"),
        output_image_tokens=modality("candidates_details", "IMAGE"),
        api="gemini",
    )


def _bedrock(u: Any) -> Usage:
    """Converse: `inputTokens` excludes the cache reads and writes, which come beside it."""
    read, write = _n(u, "cacheReadInputTokens"), _n(u, "cacheWriteInputTokens")
    one_hour = sum(_n(d, "inputTokens") for d in _get(u, "cacheDetails") or () if _get(d, "ttl") == "1h")
    return Usage(
        input_tokens=_n(u, "inputTokens") + read + write,
        output_tokens=_n(u, "outputTokens"),
        cache_read_tokens=read,
        cache_write_tokens=write,
        cache_write_1h_tokens=one_hour,
        api="bedrock",
    )


def _llmdb(u: Any) -> Usage:
    """llmdb's own field names (a `Usage` encoded as JSON)."""
    if isinstance(u, Mapping):
        return from_counts(dict(u))
    return from_counts({name: getattr(u, name) for name in Usage.__struct_fields__ if hasattr(u, name)})


_READERS: dict[str, Callable[[Any], Usage]] = {
    "openai-chat": _openai_chat,
    "openai-responses": _openai_responses,
    "anthropic": _anthropic,
    "gemini": _gemini,
    "bedrock": _bedrock,
    "llmdb": _llmdb,
}
APIS = tuple(_READERS)
"""The usage shapes `usage()` reads; `api=` takes one of these or an alias in `API_ALIASES`."""
API_ALIASES = {
    "openai": "openai-chat",
    "chat": "openai-chat",
    "mistral": "openai-chat",
    "deepseek": "openai-chat",
    "responses": "openai-responses",
    "google": "gemini",
    "vertex": "gemini",
    "converse": "bedrock",
}
_PARTS_OF_A_RESPONSE = ("usage", "usage_metadata", "usageMetadata")
_ANTHROPIC_ONLY = (
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_creation",
    "server_tool_use",
    "service_tier",
)
"""Fields of Anthropic's usage that OpenAI's Responses usage (also `input_tokens`/`output_tokens`) lacks."""
_LLMDB_ONLY = frozenset(Usage.__struct_fields__) - {"input_tokens", "output_tokens", "service_tier"}


def _detect(part: Any) -> str:
    if _has(part, "prompt_tokens"):
        return "openai-chat"
    if _has(part, "input_tokens"):
        if any(_has(part, key) for key in _ANTHROPIC_ONLY):
            return "anthropic"
        if isinstance(part, Mapping) and any(key in _LLMDB_ONLY for key in part):
            return "llmdb"
        return "openai-responses"  # with only input/output tokens, Anthropic's reading gives the same numbers
    if any(_has(part, names[camel]) for names in _GEMINI.values() for camel in (0, 1)):
        return "gemini"
    if _has(part, "inputTokens") or _has(part, "outputTokens"):
        return "bedrock"
    if part is None:
        raise InvalidUsage(f"no usage to read: got None ({STREAM_HINT})")
    raise InvalidUsage(
        f"cannot read usage from {type(part).__name__} with fields {_fields(part)}: expected the usage of "
        f"OpenAI Chat Completions or Responses, Anthropic Messages, Gemini, Bedrock Converse or an OpenAI-compatible "
        f"API; pass api= ({', '.join(APIS)}) to force a shape"
    )


def _fields(obj: Any) -> list[str]:
    if isinstance(obj, Mapping):
        return sorted(str(k) for k in obj)
    fields = getattr(type(obj), "model_fields", None) or getattr(obj, "__dict__", None) or {}
    return sorted(str(k) for k in fields) or [f"({type(obj).__name__})"]


def _usage_part(obj: Any) -> tuple[Any, str | None]:
    """(the usage part, the service tier the response reports) of a whole response; (obj, None) for a part."""
    for key in _PARTS_OF_A_RESPONSE:
        inner = _get(obj, key)
        if inner is not None and not isinstance(inner, (int, float, str)):
            return inner, standard_tier(_get(obj, "service_tier") or _get(obj, "serviceTier"))  # Bedrock's
    if _has(obj, "usage") and _get(obj, "usage") is None:
        raise InvalidUsage(f"the {type(obj).__name__} has no usage ({STREAM_HINT})")
    return obj, None


def requested(given: Any, api: str | None, counts: Mapping[str, Any]) -> Usage:
    """The `Usage` that `llmdb.cost` prices: read from `given` (a response, its usage, a `Usage`), or built from
    `counts`; per-unit counts may come beside a response's usage (its web searches, images).

    No usage (None: not given, or a stream's `chunk.usage` without `include_usage`) and no count above 0 is
    `InvalidUsage`, never a silent $0: `Catalog.cost` cannot tell usage=None from no usage, nor the CLI's
    `--usage` file holding null from no file, so counts all 0 are refused too. A response whose usage reads 0
    is priced: the API said so."""
    if given is None:
        found = from_counts(counts)
        if not any(counts.values()):
            raise InvalidUsage(
                f"nothing to price: no usage (None, null or not given) and no count above 0 ({STREAM_HINT})"
            )
        return found
    found = usage(given, api=api)
    if not counts:
        return found
    tokens = [name for name, n in counts.items() if n and name not in PER_UNIT]
    if tokens:
        raise InvalidUsage(f"give usage= or token counts, not both (also given: {', '.join(tokens)})")
    extra = from_counts(counts)
    return replace(found, **{name: getattr(found, name) + getattr(extra, name) for name in PER_UNIT})


def usage(obj: Any, *, api: str | None = None) -> Usage:
    """A `Usage` from a response or its usage part, as a dict (parsed JSON) or an SDK object.

    The shape is detected from the fields present (`api=` forces one of `APIS`); a whole response is read
    through its `usage` / `usage_metadata` / `usageMetadata` part and its reported `service_tier`.
    `InvalidUsage` when nothing fits, naming the fields it saw."""
    if isinstance(obj, Usage):
        return check(obj)
    part, tier = obj, None
    if not (obj.__class__ is dict and "prompt_tokens" in obj):  # a usage dict as is: the common case, at once
        part, tier = _usage_part(obj)
    if api is not None:
        shape = API_ALIASES.get(api, api)
        if shape not in _READERS:
            raise InvalidUsage(f"unknown api {api!r}; expected one of {', '.join(APIS)}")
    else:
        shape = _detect(part)
    found = _READERS[shape](part)
    if tier is not None and found.service_tier is None:
        found = replace(found, service_tier=tier)
    return consistent(found)  # the readers checked each count
