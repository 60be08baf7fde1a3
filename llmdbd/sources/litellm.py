"""LiteLLM's model map (`model_prices_and_context_window.json`): the second upstream.

Each entry is placed at an llmdb provider by its `litellm_provider` (`PROVIDERS`; a LiteLLM provider with no
counterpart becomes a provider of its own), its model id is its key without the provider prefix, and its
fields are translated to llmdb's names (docs/merging.md, "LiteLLM"): per-token prices x 1e6, `*_above_Nk_tokens`
and `tiered_pricing` to context tiers, `*_batches` / `_flex` / `_priority` to service tiers, per-unit prices,
`supports_*` flags to capabilities and modalities, `mode`, `deprecation_date`; the rest goes to `extra`
(`litellm_provider` too, so the LiteLLM view gives it back as is).
The key itself is kept in `Model.names`, so clients answer LiteLLM's names. An entry that cannot be placed
is reported, never guessed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from llmdb.schema import canonical_provider_id
from llmdbd.engine.layer import Fragment, Layer
from llmdbd.sources import upstream_json
from llmdbd.sources.fields import put

NAME = "litellm"
DEFAULT_URL = "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"

PROVIDERS: dict[str, str] = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "anthropic": "anthropic",
    "azure": "azure",
    "azure_text": "azure",
    "bedrock": "amazon_bedrock",
    "bedrock_converse": "amazon_bedrock",
    "vertex_ai": "google_vertex",
    "vertex_ai-anthropic_models": "google_vertex_anthropic",
    "gemini": "google",
    "together_ai": "togetherai",
    "fireworks_ai": "fireworks_ai",
    "fireworks_ai-embedding-models": "fireworks_ai",
    "mistral": "mistral",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "novita": "novita_ai",
    "snowflake": "snowflake_cortex",
    "moonshot": "moonshotai",
    "vercel_ai_gateway": "vercel",
    "cloudflare": "cloudflare_workers_ai",
    "friendliai": "friendli",
    "gmi": "gmicloud",
    "abliteration": "abliteration_ai",
    "dashscope": "alibaba",
    "meta_llama": "llama",
    "xiaomi_mimo": "xiaomi",
    "nvidia_nim": "nvidia",
    "amazon_nova": "nova",
}
"""`litellm_provider` → llmdb provider where the two name one API. Every other `vertex_ai-*` provider is
`google_vertex` (`VERTEX_PREFIX`); any other name is a provider of its own under its canonical id (`deepseek`,
`xai`, `groq`, ... match models.dev's that way; `azure_ai`, `codestral`, `ollama` stay apart on purpose:
they are other endpoints). docs/litellm.md has the table with reasons."""
VERTEX_PREFIX = "vertex_ai-"

_PROVIDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

_TOKEN_PRICES = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cache_read",
    "cache_creation_input_token_cost": "cache_write",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
    "output_cost_per_reasoning_token": "reasoning",
    "input_cost_per_audio_token": "input_audio",
    "output_cost_per_audio_token": "output_audio",
    "input_cost_per_image_token": "input_image",
    "output_cost_per_image_token": "output_image",
}
_SERVICES = {"batches": "batch", "flex": "flex", "priority": "priority"}
_PRICE_KEY = re.compile(
    rf"^(?P<price>{'|'.join(_TOKEN_PRICES)})(?:_above_(?P<above>\d+)k_tokens)?(?:_(?P<service>batches|flex|priority))?$"
)
"""`input_cost_per_token`, `..._above_200k_tokens`, `..._batches`, `..._above_272k_tokens_priority`."""
_UNIT_PRICES = {
    "input_cost_per_image": "image_input",
    "output_cost_per_image": "image_output",
    "input_cost_per_second": "second_input",
    "output_cost_per_second": "second_output",
    "input_cost_per_audio_per_second": "audio_second_input",
    "input_cost_per_video_per_second": "video_second_input",
    "output_cost_per_video_per_second": "video_second_output",
    "input_cost_per_character": "character_input",
    "output_cost_per_character": "character_output",
    "input_cost_per_query": "query",
    "ocr_cost_per_page": "page",
    "input_cost_per_request": "request",
    "input_cost_per_pixel": "pixel_input",
    "output_cost_per_pixel": "pixel_output",
}
"""USD per unit, kept as LiteLLM gives them (not scaled)."""
_WEB_SEARCH = "search_context_cost_per_query"
"""`{search_context_size_low|medium|high: USD}`: `per_unit.web_search` is the medium (default) size's price."""
_CAPABILITIES = {
    "supports_function_calling": ("capabilities", "tools", "enabled"),
    "supports_parallel_function_calling": ("capabilities", "tools", "parallel"),
    "supports_reasoning": ("capabilities", "reasoning", "enabled"),
    "supports_native_streaming": ("capabilities", "streaming", "text"),
}
_MODALITY_FLAGS = {
    "supports_vision": ("input", "image"),
    "supports_image_input": ("input", "image"),
    "supports_pdf_input": ("input", "pdf"),
    "supports_audio_input": ("input", "audio"),
    "supports_video_input": ("input", "video"),
    "supports_audio_output": ("output", "audio"),
}
_TEXT, _IMAGE, _AUDIO = ("text",), ("image",), ("audio",)
_MODE_MODALITIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "chat": (_TEXT, _TEXT),
    "responses": (_TEXT, _TEXT),
    "completion": (_TEXT, _TEXT),
    "embedding": (_TEXT, ("embedding",)),
    "rerank": (_TEXT, _TEXT),
    "image_generation": (_TEXT, _IMAGE),
    "image_edit": (("text", "image"), _IMAGE),
    "video_generation": (_TEXT, ("video",)),
    "audio_transcription": (_AUDIO, _TEXT),
    "audio_speech": (_TEXT, _AUDIO),
    "realtime": (("text", "audio"), ("text", "audio")),
    "moderation": (_TEXT, ()),
    "ocr": (("image", "pdf"), _TEXT),
}
"""What a mode reads and writes when the entry lists no `supported_modalities`."""
_GENERATIVE = frozenset({"chat", "responses", "completion"})
"""Modes whose `max_tokens` is an output limit (elsewhere, an input limit)."""
_HANDLED = frozenset(
    {
        "mode",
        "max_input_tokens",
        "max_output_tokens",
        "max_tokens",
        "tiered_pricing",
        "deprecation_date",
        "supported_modalities",
        "supported_output_modalities",
        "supports_response_schema",
    }
)


def provider_of(litellm_provider: str) -> str:
    """The llmdb provider id an entry of `litellm_provider` belongs to."""
    found = PROVIDERS.get(litellm_provider)
    if found is not None:
        return found
    if litellm_provider.startswith(VERTEX_PREFIX):
        return "google_vertex"
    return canonical_provider_id(litellm_provider)


def model_id(key: str, litellm_provider: str) -> str:
    """The key without LiteLLM's provider prefix (`vertex_ai/gemini-2.5-pro` → `gemini-2.5-pro`): the first
    path segment goes when it names the entry's LiteLLM provider or the provider it maps to."""
    head, slash, rest = key.partition("/")
    if not slash or not rest:
        return key
    names = {canonical_provider_id(litellm_provider), provider_of(litellm_provider)}
    if litellm_provider.startswith("vertex_ai"):
        names.add("vertex_ai")
    names.add(canonical_provider_id(litellm_provider.split("-", 1)[0]))  # fireworks_ai-embedding-models
    return rest if canonical_provider_id(head) in names else key


def looks_like(head: bytes) -> bool:
    """LiteLLM's map: its `sample_spec` entry, or entries naming a `litellm_provider`."""
    return b'"sample_spec"' in head or b'"litellm_provider"' in head


def load_path(path: str | Path, *, origin: str | None = None) -> Layer:
    """Read the map from a file; a file that cannot be read becomes a layer holding only the error."""
    return upstream_json.read(path, NAME, load_bytes, origin)


def load_bytes(data: bytes, *, file: str | None = None, version: str | None = None) -> Layer:
    """Turn the map's JSON into one layer; `version` defaults to the sha256 of the bytes."""
    layer, doc = upstream_json.decode(data, NAME, file=file, version=version, holding="models")
    if doc is None:
        return layer
    aliases: dict[str, set[str]] = {}
    for key, raw in doc.items():
        if key == "sample_spec":
            continue  # LiteLLM's documentation stub, not a model
        if not isinstance(raw, dict):
            layer.issue("load", f"entry is {type(raw).__name__}, not an object; not placed", model=key)
            continue
        litellm_provider = raw.get("litellm_provider")
        if not isinstance(litellm_provider, str) or not _PROVIDER_NAME.match(litellm_provider):
            layer.issue(
                "load",
                f"litellm_provider {litellm_provider!r} is not a provider name; not placed",
                severity="warning",
                model=key,
                field="litellm_provider",
            )
            continue
        provider = provider_of(litellm_provider)
        if litellm_provider != provider:
            aliases.setdefault(provider, set()).add(litellm_provider)
        mid = model_id(key, litellm_provider)
        layer.fragments.append(
            Fragment(
                provider=provider,
                model=mid,
                data=model_fields(raw, key),
                full=True,
                where=key,
                order=1 if mid != key else 0,  # of two keys naming one model, the prefixed one wins
            )
        )
    for provider in sorted({f.provider for f in layer.fragments}):
        record: dict[str, Any] = {"aliases": sorted(aliases.get(provider, ()))}
        layer.fragments.append(Fragment(provider=provider, model=None, data=record, full=True, where=provider))
    return layer


def model_fields(raw: dict[str, Any], key: str) -> dict[str, Any]:
    """One entry in llmdb's field names (values unchecked: validate reports and drops bad ones)."""
    out: dict[str, Any] = {"names": [key]}
    cost: dict[str, Any] = {}
    mode = raw.get("mode")
    if isinstance(mode, str):
        out["mode"] = mode
    extra: dict[str, Any] = {}
    flagged: dict[str, list[str]] = {}
    for field, value in raw.items():
        kind = _KINDS.get(field) or _kind(field)
        if kind[0] == "extra":
            extra[field] = value
        elif kind[0] == "price":
            _token_price(cost, kind[1], value)
        elif kind[0] == "unit":
            cost.setdefault("per_unit", {})[kind[1]] = value
        elif kind[0] == "web_search":
            extra[field] = value  # all three context sizes, as given
            if isinstance(value, dict) and "search_context_size_medium" in value:
                cost.setdefault("per_unit", {})["web_search"] = value["search_context_size_medium"]
        elif kind[0] == "capability":
            put(out, kind[1], value)
        elif kind[0] == "modality" and value is True:
            flagged.setdefault(kind[1][0], []).append(kind[1][1])
    if extra:
        out["extra"] = extra
    if flagged:
        out["modalities"] = flagged
    if "tiered_pricing" in raw:
        _tiered(cost, raw["tiered_pricing"], out)
    if cost:
        out["cost"] = cost
    if raw.get("supports_response_schema") is not None:
        put(out, ("capabilities", "json", "schema"), raw["supports_response_schema"])
        put(out, ("capabilities", "json", "native"), raw["supports_response_schema"])
    if isinstance(mode, str):
        put(out, ("capabilities", "chat"), mode in ("chat", "responses"))
        put(out, ("capabilities", "embeddings"), mode == "embedding")
    _limits(out, raw, mode)
    _modalities(out, raw, mode)
    if "deprecation_date" in raw:
        put(out, ("lifecycle", "deprecation_date"), raw["deprecation_date"])
    metadata, provider = raw.get("metadata"), raw.get("litellm_provider")
    successor = metadata.get("successor") if isinstance(metadata, dict) else None
    if isinstance(successor, str) and successor and isinstance(provider, str):  # a key of the same provider's
        put(out, ("lifecycle", "replacement"), f"{provider_of(provider)}:{model_id(successor, provider)}")
    return out


_KINDS: dict[str, tuple[str, Any]] = {}
"""Field name → how it is translated (memoized `_kind`: the map has ~250 distinct names in ~60,000 fields)."""


def _kind(field: str) -> tuple[str, Any]:
    """(`handled` | `price` | `unit` | `web_search` | `capability` | `modality` | `extra`, what it maps to)."""
    kind: tuple[str, Any]
    match = _PRICE_KEY.match(field)
    if field in _HANDLED:
        kind = ("handled", None)
    elif match is not None:
        above = int(match["above"]) * 1000 if match["above"] is not None else None
        kind = ("price", (_TOKEN_PRICES[match["price"]], above, match["service"] and _SERVICES[match["service"]]))
    elif field in _UNIT_PRICES:
        kind = ("unit", _UNIT_PRICES[field])
    elif field == _WEB_SEARCH:
        kind = ("web_search", None)
    elif field in _CAPABILITIES:
        kind = ("capability", _CAPABILITIES[field])
    elif field in _MODALITY_FLAGS:
        kind = ("modality", _MODALITY_FLAGS[field])
    else:
        kind = ("extra", None)
    if len(_KINDS) < 10_000:  # field names come from upstream: bound the memo
        _KINDS[field] = kind
    return kind


def _token_price(cost: dict[str, Any], where: tuple[str, int | None, str | None], value: Any) -> None:
    """Per-token USD → USD per 1M tokens, at its place: base, context tier, service tier, or both."""
    price, above, service = where
    table = cost if service is None else cost.setdefault(service, {})
    if above is not None:
        tiers = table.setdefault("tiers", [])
        tier = next((t for t in tiers if t["above"] == above), None)
        if tier is None:
            tier = {"above": above}
            tiers.append(tier)
            tiers.sort(key=lambda t: t["above"])
        table = tier
    table[price] = _per_million(value)


def _per_million(value: Any) -> Any:
    """A per-token price as USD per 1M tokens; anything but a number is left for validate to report."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value * 1e6
    return value


def _tiered(cost: dict[str, Any], raw: Any, out: dict[str, Any]) -> None:
    """`tiered_pricing: [{range: [lo, hi], input_cost_per_token, ...}]` → base prices (lo = 0) and tiers."""
    if not isinstance(raw, list):
        put(out, ("extra", "tiered_pricing"), raw)
        return
    for item in raw:
        span = item.get("range") if isinstance(item, dict) else None
        if not (isinstance(span, list) and span and isinstance(span[0], (int, float))):
            put(out, ("extra", "tiered_pricing"), raw)  # a shape we do not model: kept, not guessed
            return
    for item in raw:
        above = int(item["range"][0])
        prices = {_TOKEN_PRICES[k]: _per_million(v) for k, v in item.items() if k in _TOKEN_PRICES and k != "range"}
        if above == 0:
            for k, v in prices.items():
                cost.setdefault(k, v)
        else:
            tiers = cost.setdefault("tiers", [])
            tiers.append({"above": above, **prices})
            tiers.sort(key=lambda t: t["above"])


def _limits(out: dict[str, Any], raw: dict[str, Any], mode: Any) -> None:
    """`max_input_tokens` → `limits.context`, `max_output_tokens` → `limits.output`; the legacy `max_tokens`
    fills whichever is missing: output for chat/completion/responses, context for other modes."""
    limits: dict[str, Any] = {}
    if "max_input_tokens" in raw:
        limits["context"] = raw["max_input_tokens"]
    if "max_output_tokens" in raw:
        limits["output"] = raw["max_output_tokens"]
    if "max_tokens" in raw:
        limits.setdefault("output" if mode in _GENERATIVE else "context", raw["max_tokens"])
    if limits:
        out["limits"] = limits


def _modalities(out: dict[str, Any], raw: dict[str, Any], mode: Any) -> None:
    """`supported_modalities` / `supported_output_modalities` when given, else what the mode implies, plus
    what the `supports_*` flags added."""
    base_in, base_out = _MODE_MODALITIES.get(mode, ((), ())) if isinstance(mode, str) else ((), ())
    flagged: dict[str, list[str]] = out.pop("modalities", {})
    for direction, key, base in (
        ("input", "supported_modalities", base_in),
        ("output", "supported_output_modalities", base_out),
    ):
        listed = raw.get(key)
        names = listed if isinstance(listed, list) else list(base)
        if listed is not None and not isinstance(listed, list):
            put(out, ("extra", key), listed)
        merged = list(dict.fromkeys([*names, *flagged.get(direction, ())]))
        if merged:
            put(out, ("modalities", direction), merged)
