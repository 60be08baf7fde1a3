"""OpenRouter's model list (`GET https://openrouter.ai/api/v1/models`): the models OpenRouter serves, under the
`openrouter` provider, with OpenRouter's ids (`anthropic/claude-3.5-sonnet`; docs/merging.md, "OpenRouter").

Prices are USD per token as decimal strings (scaled to USD per 1M tokens exactly, through `Decimal`); `"-1"`
(its routers) means unknown, never a price; a `"0"` token price is a price for a `:free` variant or a model
that writes text, and unknown for one that writes images, video or speech (those are billed per item, which the
list does not say). `pricing.overrides[{min_prompt_tokens, ...}]` are context tiers; `context_length: 0` is an
unknown context; a `~maker/name-latest` entry is a model as OpenRouter lists it (models.dev lists it too), its
`alias_target` kept as `extra.alias_target` (the target's id).
Artificial Analysis' indices become `benchmarks`; fields without an llmdb counterpart (reasoning efforts, Design
Arena's ranks, the Hugging Face id, ...) go to `extra`.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from llmdbd.engine.layer import Fragment, Layer
from llmdbd.sources import upstream_json
from llmdbd.sources.fields import put

NAME = "openrouter"
DEFAULT_URL = "https://openrouter.ai/api/v1/models?output_modalities=all"
PROVIDER = "openrouter"
"""The llmdb provider OpenRouter's models live under."""

_TOKEN_PRICES = {
    "prompt": "input",
    "completion": "output",
    "input_cache_read": "cache_read",
    "input_cache_write": "cache_write",
    "input_cache_write_1h": "cache_write_1h",
    "internal_reasoning": "reasoning",
    "audio": "input_audio",
    "audio_output": "output_audio",
}
"""USD per token → llmdb's per-1M-token prices."""
_UNIT_PRICES = {"image": "image_input", "image_output": "image_output", "web_search": "web_search"}
"""USD per item (an input image, an output image, a search), kept as given."""
_MODES = {
    "embeddings": ("embedding", "embedding"),
    "speech": ("audio_speech", "audio"),
    "transcription": ("audio_transcription", "text"),
    "rerank": ("rerank", "text"),
    "image": ("image_generation", "image"),
    "video": ("video_generation", "video"),
    "text": ("chat", "text"),
    "audio": ("chat", "audio"),
}
"""An output modality as OpenRouter names it → (llmdb mode it implies, llmdb modality); the first listed of a
model's outputs that is not `text` decides its mode only when it writes no text."""
_INPUTS = {"file": "pdf"}
"""Input modalities named otherwise in llmdb."""
_PAID_ZERO_OK = frozenset({"chat"})
"""Modes whose `"0"` token prices are prices (elsewhere: unknown, the model is billed per item)."""


def looks_like(head: bytes) -> bool:
    """OpenRouter's list: `data` entries with a `canonical_slug`."""
    return b'"canonical_slug"' in head and b'"data"' in head


def load_path(path: str | Path, *, origin: str | None = None) -> Layer:
    """Read the list from a file; a file that cannot be read becomes a layer holding only the error."""
    return upstream_json.read(path, NAME, load_bytes, origin)


def load_bytes(data: bytes, *, file: str | None = None, version: str | None = None) -> Layer:
    """Turn the list's JSON into one layer; `version` defaults to the sha256 of the bytes."""
    layer, doc = upstream_json.decode(data, NAME, file=file, version=version, holding="data")
    if doc is None:
        return layer
    entries = doc.get("data")
    if not isinstance(entries, list):
        layer.issue("load", f"`data` is {type(entries).__name__}, not a list of models", field="data")
        return layer
    for i, raw in enumerate(entries):
        if not isinstance(raw, dict):
            layer.issue("load", f"entry is {type(raw).__name__}, not an object", field=f"data[{i}]")
            continue
        mid = raw.get("id")
        if not isinstance(mid, str) or not mid or mid != mid.strip():
            layer.issue("load", "id is not a non-empty string", field=f"data[{i}].id")
            continue
        layer.fragments.append(
            Fragment(provider=PROVIDER, model=mid, data=model_fields(raw), full=True, where=f"data[{i}]", order=i)
        )
    layer.fragments.append(Fragment(provider=PROVIDER, model=None, data={"name": "OpenRouter"}, full=True))
    return layer


def model_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """One entry in llmdb's field names (values unchecked: validate reports and drops bad ones)."""
    out: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if "name" in raw:
        out["name"] = raw["name"]
    if raw.get("knowledge_cutoff"):
        out["knowledge"] = raw["knowledge_cutoff"]
    if raw.get("expiration_date"):
        put(out, ("lifecycle", "retirement_date"), raw["expiration_date"])
    mode = _modalities(out, raw.get("architecture"))
    if mode is not None:
        out["mode"] = mode
        put(out, ("capabilities", "chat"), mode == "chat")
        put(out, ("capabilities", "embeddings"), mode == "embedding")
    _limits(out, raw)
    free = raw.get("id", "").endswith(":free")
    cost = _cost(raw.get("pricing"), extra, zero_is_price=free or mode in _PAID_ZERO_OK)
    if cost:
        out["cost"] = cost
    _parameters(out, raw.get("supported_parameters"))
    reasoning = raw.get("reasoning")
    if isinstance(reasoning, dict):
        if reasoning.get("supported_efforts"):
            extra["reasoning_efforts"] = reasoning["supported_efforts"]
        if reasoning.get("mandatory") is True:
            put(out, ("capabilities", "reasoning", "enabled"), True)
    _benchmarks(out, extra, raw.get("benchmarks"))
    for key in ("hugging_face_id", "canonical_slug", "per_request_limits"):
        if raw.get(key):
            extra[key] = raw[key]
    target = raw.get("alias_target")
    if target is not None:
        extra["alias_target"] = target.get("slug", target) if isinstance(target, dict) else target
    if isinstance(raw.get("created"), int):
        extra["openrouter_added"] = datetime.datetime.fromtimestamp(raw["created"], datetime.UTC).date().isoformat()
    if extra:
        out["extra"] = extra
    return out


_INDICES = {"intelligence_index": "intelligence", "coding_index": "coding", "agentic_index": "agentic"}
"""Artificial Analysis' indices → `benchmarks` fields."""


def _benchmarks(out: dict[str, Any], extra: dict[str, Any], raw: Any) -> None:
    """`benchmarks.artificial_analysis` → `benchmarks` (values unchecked: validate reports); the rest (Design
    Arena's per-category ranks) → `extra.benchmarks`."""
    if not isinstance(raw, dict):
        return
    rest = {k: v for k, v in raw.items() if k != "artificial_analysis" and v}
    analysis = raw.get("artificial_analysis")
    if isinstance(analysis, dict) and analysis:
        found = {_INDICES[k]: v for k, v in analysis.items() if k in _INDICES and v is not None}
        if found:
            out["benchmarks"] = {**found, "source": "artificial_analysis"}
        rest.update({f"artificial_analysis.{k}": v for k, v in analysis.items() if k not in _INDICES})
    if rest:
        extra["benchmarks"] = rest


def _modalities(out: dict[str, Any], architecture: Any) -> str | None:
    """`architecture.{input,output}_modalities` → `modalities`; the mode the outputs imply."""
    if not isinstance(architecture, dict):
        return None
    inputs, outputs = architecture.get("input_modalities"), architecture.get("output_modalities")
    if isinstance(inputs, list):
        put(out, ("modalities", "input"), [_INPUTS.get(m, m) if isinstance(m, str) else m for m in inputs])
    if not isinstance(outputs, list):
        return None
    known = [_MODES[m] for m in outputs if isinstance(m, str) and m in _MODES]
    put(out, ("modalities", "output"), list(dict.fromkeys(m[1] for m in known)) if known else outputs)
    if "text" in outputs:
        return "chat"
    return known[0][0] if known else None


def _limits(out: dict[str, Any], raw: dict[str, Any]) -> None:
    """`context_length` (0: unknown) → `limits.context`; `top_provider.max_completion_tokens` → `limits.output`."""
    context = raw.get("context_length")
    if context != 0 and context is not None:
        put(out, ("limits", "context"), context)
    top = raw.get("top_provider")
    if isinstance(top, dict) and top.get("max_completion_tokens") is not None:
        put(out, ("limits", "output"), top["max_completion_tokens"])


def _cost(pricing: Any, extra: dict[str, Any], *, zero_is_price: bool) -> dict[str, Any]:
    """`pricing` → `cost`: token prices per 1M tokens, per-item prices, `overrides` as context tiers."""
    if not isinstance(pricing, dict):
        if pricing is not None:
            extra["pricing"] = pricing
        return {}
    cost = _token_prices(pricing, zero_is_price=zero_is_price)
    units = {}
    for key, field in _UNIT_PRICES.items():
        value = _price(pricing.get(key), scale=1)
        if value is not None and (value != 0 or zero_is_price):
            units[field] = value
    if units:
        cost["per_unit"] = units
    for key in ("image_token", "input_audio_cache", "discount"):
        if key in pricing:
            extra.setdefault("pricing", {})[key] = pricing[key]  # no llmdb price says the same: kept, not guessed
    overrides = pricing.get("overrides")
    if isinstance(overrides, list) and overrides:
        tiers = []
        for item in overrides:
            above = item.get("min_prompt_tokens") if isinstance(item, dict) else None
            if not isinstance(above, int) or isinstance(above, bool):
                extra.setdefault("pricing", {})["overrides"] = overrides  # a condition we do not model
                return cost
            tiers.append({"above": above, **_token_prices(item, zero_is_price=zero_is_price)})
        cost["tiers"] = sorted(tiers, key=lambda t: t["above"])
    return cost


def _token_prices(pricing: dict[str, Any], *, zero_is_price: bool) -> dict[str, Any]:
    out = {}
    for key, field in _TOKEN_PRICES.items():
        value = _price(pricing.get(key), scale=1_000_000)
        if value is not None and (value != 0 or zero_is_price):
            out[field] = value
    return out


def _price(value: Any, *, scale: int) -> Any:
    """A price string scaled exactly (`"0.0000025"` → 2.5 per 1M); None for none or `"-1"` (unknown); any other
    value is handed on as it is, for validate to refuse naming it."""
    if value is None:
        return None
    if not isinstance(value, str):
        return value
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    if number == -1:
        return None
    return float(number * scale) if number.is_finite() else value


def _parameters(out: dict[str, Any], parameters: Any) -> None:
    """`supported_parameters` → tools, parallel tool calls, JSON schema and mode, reasoning, temperature."""
    if not isinstance(parameters, list) or not parameters:
        return
    given = {p for p in parameters if isinstance(p, str)}
    put(out, ("capabilities", "tools", "enabled"), "tools" in given)
    if "parallel_tool_calls" in given:
        put(out, ("capabilities", "tools", "parallel"), True)
    put(out, ("capabilities", "json", "schema"), "structured_outputs" in given)
    put(out, ("capabilities", "json", "native"), "response_format" in given or "structured_outputs" in given)
    if "reasoning" in given or "include_reasoning" in given:
        put(out, ("capabilities", "reasoning", "enabled"), True)
    put(out, ("capabilities", "temperature"), "temperature" in given)
