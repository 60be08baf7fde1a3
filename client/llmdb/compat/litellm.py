"""LiteLLM's model-info API over llmdb's merged catalog: `model_cost`, `get_model_info`, `supports_*`,
`cost_per_token`, with LiteLLM's names, signatures and return shapes (docs/litellm.md).

    from llmdb.compat import litellm as llm
    llm.model_cost["gpt-4o"]["input_cost_per_token"]       # 2.5e-06
    llm.get_model_info("vertex_ai/gemini-2.5-pro")["max_input_tokens"]

Values come from llmdb's catalog (models.dev above LiteLLM by default, patches above both), so a field can
differ from LiteLLM's own map where a higher source set it: `llmdb.explain(spec)` says which. Like every llmdb
lookup it follows new snapshots. Stdlib and msgspec only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from llmdb._catalog import Catalog
from llmdb._cost import compute
from llmdb._responses import usage
from llmdb._usage import from_counts
from llmdb.errors import LLMDBError, ModelNotFound
from llmdb.schema import CostTier, Model, ServicePrices

__all__ = [
    "cost_per_token",
    "get_model_info",
    "model_cost",
    "supports_function_calling",
    "supports_prompt_caching",
    "supports_reasoning",
    "supports_response_schema",
    "supports_vision",
]

_TOKEN = {
    "input": "input_cost_per_token",
    "output": "output_cost_per_token",
    "cache_read": "cache_read_input_token_cost",
    "cache_write": "cache_creation_input_token_cost",
    "cache_write_1h": "cache_creation_input_token_cost_above_1hr",
    "reasoning": "output_cost_per_reasoning_token",
    "input_audio": "input_cost_per_audio_token",
    "output_audio": "output_cost_per_audio_token",
    "input_image": "input_cost_per_image_token",
    "output_image": "output_cost_per_image_token",
}
_SERVICE = {"batch": "batches", "flex": "flex", "priority": "priority"}
_UNIT = {
    "image_input": "input_cost_per_image",
    "image_output": "output_cost_per_image",
    "second_input": "input_cost_per_second",
    "second_output": "output_cost_per_second",
    "audio_second_input": "input_cost_per_audio_per_second",
    "video_second_input": "input_cost_per_video_per_second",
    "video_second_output": "output_cost_per_video_per_second",
    "character_input": "input_cost_per_character",
    "character_output": "output_cost_per_character",
    "query": "input_cost_per_query",
    "page": "ocr_cost_per_page",
    "request": "input_cost_per_request",
    "pixel_input": "input_cost_per_pixel",
    "pixel_output": "output_cost_per_pixel",
}
_MODALITY_FLAGS = {
    "supports_vision": ("input", "image"),
    "supports_pdf_input": ("input", "pdf"),
    "supports_audio_input": ("input", "audio"),
    "supports_video_input": ("input", "video"),
    "supports_audio_output": ("output", "audio"),
}
_PROVIDER_NAMES = {
    "amazon_bedrock": "bedrock",
    "google_vertex": "vertex_ai-language-models",
    "google_vertex_anthropic": "vertex_ai-anthropic_models",
    "google": "gemini",
    "togetherai": "together_ai",
    "novita_ai": "novita",
    "moonshotai": "moonshot",
    "vercel": "vercel_ai_gateway",
    "cloudflare_workers_ai": "cloudflare",
}
"""llmdb provider → `litellm_provider` for models LiteLLM does not list (its own value is kept otherwise)."""


def entry(model: Model) -> dict[str, Any]:
    """One model as a LiteLLM map entry: LiteLLM's field names and units (USD per token)."""
    out: dict[str, Any] = dict(model.extra)
    out["litellm_provider"] = model.extra.get("litellm_provider") or _PROVIDER_NAMES.get(model.provider, model.provider)
    out["mode"] = model.mode
    limits = model.limits
    out["max_input_tokens"] = limits.input if limits.input is not None else limits.context
    out["max_output_tokens"] = limits.output
    out["max_tokens"] = limits.output if limits.output is not None else out["max_input_tokens"]
    cost = model.cost
    if cost is not None:
        _prices(out, cost, "")
        for tier in cost.tiers:
            _prices(out, tier, f"_above_{_k(tier.above)}_tokens")
        for name, suffix in _SERVICE.items():
            service = getattr(cost, name)
            if service is not None:
                _prices(out, service, f"_{suffix}")
                for tier in service.tiers:
                    _prices(out, tier, f"_above_{_k(tier.above)}_tokens_{suffix}")
        if cost.per_unit is not None:
            for field, key in _UNIT.items():
                value = getattr(cost.per_unit, field)
                if value is not None:
                    out[key] = value
    caps = model.capabilities
    out["supports_function_calling"] = caps.tools.enabled
    out["supports_parallel_function_calling"] = caps.tools.parallel
    out["supports_response_schema"] = caps.json.schema
    out["supports_reasoning"] = caps.reasoning.enabled
    for flag, (direction, name) in _MODALITY_FLAGS.items():
        out[flag] = name in (model.modalities.input if direction == "input" else model.modalities.output)
    out.setdefault("supports_prompt_caching", cost is not None and cost.cache_read is not None)
    if model.lifecycle.deprecation_date is not None:
        out["deprecation_date"] = model.lifecycle.deprecation_date
    return out


def _k(above: int) -> str:
    return f"{above // 1000}k" if above % 1000 == 0 else str(above)


def _prices(out: dict[str, Any], table: CostTier | ServicePrices | Any, suffix: str) -> None:
    for field, key in _TOKEN.items():
        value = getattr(table, field, None)
        if value is not None:
            out[key + suffix] = float(f"{value / 1e6:.12g}")  # per token; 12 digits drop the division's noise


class ModelCost(Mapping[str, dict[str, Any]]):
    """`litellm.model_cost` as a read-only mapping: LiteLLM's keys → entries built from llmdb's catalog.

    Iterates over LiteLLM's own keys; a lookup also accepts any name `llmdb.get` does (`openai:gpt-5`)."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self._catalog = catalog

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            from llmdb import default_catalog

            self._catalog = default_catalog()
        return self._catalog

    def __getitem__(self, name: str) -> dict[str, Any]:
        try:
            model = self.catalog.get(name)
        except LLMDBError:
            raise KeyError(name) from None
        return entry(model)

    def __iter__(self) -> Iterator[str]:
        return iter(self.catalog.snapshot.names)

    def __len__(self) -> int:
        return len(self.catalog.snapshot.names)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self.catalog.get(name)
        except LLMDBError:
            return False  # `in` answers, never raises: an ambiguous or malformed name is simply not a key
        return True


model_cost = ModelCost()
"""Like `litellm.model_cost`, read-only and live across publishes."""


def _model(model: str, custom_llm_provider: str | None) -> Model:
    catalog = model_cost.catalog
    if custom_llm_provider:
        found = catalog.find(f"{custom_llm_provider}/{model}")
        if found is not None:
            return found
    try:
        return catalog.get(model)
    except LLMDBError as exc:
        raise ModelNotFound(
            f"This model isn't mapped yet. model={model}, custom_llm_provider={custom_llm_provider}: {exc}"
        ) from None


def get_model_info(model: str, custom_llm_provider: str | None = None) -> dict[str, Any]:
    """LiteLLM's `get_model_info`: the entry plus `key`; raises (`ModelNotFound`, an Exception) when unmapped."""
    found = _model(model, custom_llm_provider)
    info = entry(found)
    info["key"] = found.names[0] if found.names else found.spec
    return info


def _supports(flag: str, model: str, custom_llm_provider: str | None) -> bool:
    try:
        return bool(get_model_info(model, custom_llm_provider).get(flag))
    except LLMDBError:
        return False  # as LiteLLM: an unmapped model supports nothing


def supports_function_calling(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_function_calling", model, custom_llm_provider)


def supports_vision(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_vision", model, custom_llm_provider)


def supports_response_schema(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_response_schema", model, custom_llm_provider)


def supports_reasoning(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_reasoning", model, custom_llm_provider)


def supports_prompt_caching(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_prompt_caching", model, custom_llm_provider)


def cost_per_token(
    model: str = "",
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    custom_llm_provider: str | None = None,
    cache_creation_input_tokens: int | None = 0,
    cache_read_input_tokens: int | None = 0,
    usage_object: Any = None,
    service_tier: str | None = None,
) -> tuple[float, float]:
    """(prompt cost, completion cost) in USD, as LiteLLM counts them: `prompt_tokens` includes the cached ones,
    `completion_tokens` the reasoning ones; `usage_object` (LiteLLM's or any SDK's usage) replaces the counts.

    Unlike LiteLLM, a part without a price raises `PriceUnknown` instead of costing 0."""
    found = _model(model, custom_llm_provider)
    if usage_object is not None:
        read = usage(usage_object)
    else:
        read = from_counts(
            {
                "input_tokens": prompt_tokens,
                "output_tokens": completion_tokens,
                "cache_read_tokens": cache_read_input_tokens or 0,
                "cache_write_tokens": cache_creation_input_tokens or 0,
            }
        )
    result = compute(found, read, service_tier)
    prompt = result.input + result.cache_read + result.cache_write + result.input_audio + result.input_image
    return prompt, result.total - prompt
