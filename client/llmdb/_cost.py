"""What a request costs: token counts times the model's prices, with context tiers applied."""

from __future__ import annotations

from msgspec import Struct

from llmdb.errors import PriceUnknown
from llmdb.schema import Cost, CostTier, Model

PER_TOKENS = 1_000_000
"""Catalog prices are USD per 1M tokens."""


class CostBreakdown(Struct, frozen=True, kw_only=True):
    """USD per part of a request; `tier` is the `above` of the context tier applied, None for base prices."""

    spec: str
    input: float
    output: float
    cache_read: float
    cache_write: float
    reasoning: float
    total: float
    tier: int | None = None
    currency: str = "USD"


def compute(
    model: Model,
    *,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    reasoning_tokens: int = 0,
) -> CostBreakdown:
    """Price a request; raises `PriceUnknown` for any part whose price the catalog does not know.

    The tier is chosen by prompt size (input + cache read + cache write tokens): the highest tier whose
    `above` the prompt exceeds. A tier's missing prices fall back to the base prices. Reasoning tokens are
    billed at the reasoning price, or the output price when the model has none.
    """
    cost = model.cost
    if cost is None:
        raise PriceUnknown(f"{model.spec} has no price in the catalog")
    tier = None
    if cost.tiers:
        prompt = input_tokens + cache_read_tokens + cache_write_tokens
        for candidate in cost.tiers:
            if prompt > candidate.above and (tier is None or candidate.above > tier.above):
                tier = candidate
    reasoning_price = "reasoning" if _price(cost, tier, "reasoning") is not None else "output"
    parts = (
        _part(model, cost, tier, "input", input_tokens),
        _part(model, cost, tier, "output", output_tokens),
        _part(model, cost, tier, "cache_read", cache_read_tokens),
        _part(model, cost, tier, "cache_write", cache_write_tokens),
        _part(model, cost, tier, reasoning_price, reasoning_tokens),
    )
    return CostBreakdown(
        spec=model.spec,
        input=parts[0],
        output=parts[1],
        cache_read=parts[2],
        cache_write=parts[3],
        reasoning=parts[4],
        total=parts[0] + parts[1] + parts[2] + parts[3] + parts[4],
        tier=tier.above if tier is not None else None,
    )


def _price(cost: Cost, tier: CostTier | None, name: str) -> float | None:
    """The tier's price for `name`, falling back to the base price."""
    value: float | None = getattr(tier, name) if tier is not None else None
    return value if value is not None else getattr(cost, name)


def _part(model: Model, cost: Cost, tier: CostTier | None, name: str, tokens: int) -> float:
    if not tokens:
        return 0.0
    price = _price(cost, tier, name)
    if price is None:
        raise PriceUnknown(f"{model.spec} has no {name} price in the catalog ({tokens} {name} tokens)")
    return price * tokens / PER_TOKENS
