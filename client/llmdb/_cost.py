"""What a request costs: a `Usage` times the model's prices, at its service tier and context tier (docs/cost.md).

The rules, in one place:
- `input_tokens` counts every prompt token; the uncached, non-audio, non-image rest is billed at `input`, the
  cache reads at `cache_read`, the cache writes at `cache_write` (Anthropic's 1-hour writes at `cache_write_1h`).
- `output_tokens` counts every generated token; reasoning tokens are billed at `reasoning` where the model has a
  distinct price, else at `output` (then they change nothing).
- Audio and image tokens are billed at their own prices where the model has them; else audio, and generated
  images, fall back to the text price and the breakdown is marked estimated.
- The context tier is the highest one whose `above` the whole prompt (`input_tokens`) exceeds. A price the tier
  lacks is inherited from the base prices, and the breakdown marked estimated.
- A service tier (`batch`, `flex`, `priority`) uses its own prices only: a part it has no price for raises
  `PriceUnknown`, never a silent standard price.
- Any part with a count and no price raises `PriceUnknown`: unknown is never 0.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from llmdb._usage import SERVICE_TIERS, Usage
from llmdb.errors import InvalidUsage, PriceUnknown
from llmdb.schema import Cost, CostTier, Model, ServicePrices, UnitPrices

__all__ = ["PER_TOKENS", "CostBreakdown", "compute"]

PER_TOKENS = 1_000_000
"""Catalog prices are USD per 1M tokens."""


class CostBreakdown(Struct, frozen=True, kw_only=True):
    """USD per part of a request; the parts add up to `total`, and each says what it was priced at.

    `tier` is the `above` of the context tier applied (None: base prices); `service_tier` the service tier's
    prices used (None: standard); `estimated` lists every price that was inherited or fallen back on."""

    spec: str
    input: float
    """Prompt tokens not cached, not audio, not image."""
    cache_read: float
    cache_write: float
    output: float
    """Generated tokens other than reasoning, audio and image tokens."""
    reasoning: float
    input_audio: float
    output_audio: float
    input_image: float
    output_image: float
    per_unit: dict[str, float]
    """USD per per-unit count given (`images`, `web_searches`, ...)."""
    total: float
    tier: int | None = None
    service_tier: str | None = None
    estimated: tuple[str, ...] = ()
    usage: Usage
    currency: str = "USD"


_UNITS: dict[str, tuple[str, ...]] = {
    "images": ("image_output",),
    "input_images": ("image_input",),
    "audio_seconds": ("audio_second_input", "second_input"),
    "video_seconds": ("video_second_output", "second_output"),
    "characters": ("character_input",),
    "requests": ("request",),
    "web_searches": ("web_search",),
}
"""Per-unit count → the `UnitPrices` fields that price it, first found wins."""


def compute(model: Model, u: Usage, service_tier: str | None = None) -> CostBreakdown:
    """Price `u` (already checked) for `model`; `service_tier` overrides the tier `u` reports."""
    cost = model.cost
    if cost is None:
        raise PriceUnknown(f"{model.spec} has no price in the catalog")
    service = service_tier if service_tier is not None else u.service_tier
    table = cost if service is None else _service(model, cost, service)
    tier = _tier(table.tiers, u.input_tokens)
    if table is not cost:
        standard = _tier(cost.tiers, u.input_tokens)
        if standard is not None and (tier is None or tier.above < standard.above):
            raise PriceUnknown(
                f"{model.spec} has no {service} price for a prompt above {standard.above} tokens "
                f"({u.input_tokens} input tokens)"
            )
    p = _Prices(model, table, tier, service)
    one_hour = u.cache_write_1h_tokens
    uncached = u.input_tokens - u.cache_read_tokens - u.cache_write_tokens - u.input_audio_tokens - u.input_image_tokens
    text_out = u.output_tokens - u.reasoning_tokens - u.output_audio_tokens - u.output_image_tokens
    parts = (
        p.part("input", uncached),
        p.part("cache_read", u.cache_read_tokens),
        p.part("cache_write", u.cache_write_tokens - one_hour) + p.part("cache_write_1h", one_hour, "cache_write"),
        p.part("input_audio", u.input_audio_tokens, "input"),
        p.part("input_image", u.input_image_tokens, "input", estimated=False),
        p.part("output", text_out),
        p.part("reasoning", u.reasoning_tokens, "output", estimated=False),
        p.part("output_audio", u.output_audio_tokens, "output"),
        p.part("output_image", u.output_image_tokens, "output"),
    )
    units = _units(model, cost.per_unit, u) if _has_units(u) else {}
    return CostBreakdown(
        spec=model.spec,
        input=parts[0],
        cache_read=parts[1],
        cache_write=parts[2],
        input_audio=parts[3],
        input_image=parts[4],
        output=parts[5],
        reasoning=parts[6],
        output_audio=parts[7],
        output_image=parts[8],
        per_unit=units,
        total=sum(parts) + sum(units.values()),
        tier=tier.above if tier is not None else None,
        service_tier=service,
        estimated=tuple(p.estimated),
        usage=u,
    )


def _service(model: Model, cost: Cost, name: str) -> ServicePrices:
    if name not in SERVICE_TIERS:
        raise InvalidUsage(f"unknown service tier {name!r}; expected standard, {', '.join(SERVICE_TIERS)}")
    table: ServicePrices | None = getattr(cost, name)
    if table is None:
        have = [n for n in SERVICE_TIERS if getattr(cost, n) is not None]
        raise PriceUnknown(
            f"{model.spec} has no {name} prices in the catalog (it has: {', '.join(['standard', *have])})"
        )
    return table


def _tier(tiers: tuple[CostTier, ...], prompt: int) -> CostTier | None:
    """The highest tier whose `above` the prompt exceeds."""
    found = None
    for candidate in tiers:
        if prompt > candidate.above and (found is None or candidate.above > found.above):
            found = candidate
    return found


class _Prices:
    """Looks up prices in one table and context tier, collecting what had to be estimated."""

    __slots__ = ("estimated", "model", "service", "table", "tier")

    def __init__(self, model: Model, table: Cost | ServicePrices, tier: CostTier | None, service: str | None):
        self.model, self.table, self.tier, self.service = model, table, tier, service
        self.estimated: list[str] = []

    def price(self, name: str) -> float | None:
        if self.tier is not None:
            value: float | None = getattr(self.tier, name)
            if value is not None:
                return value
        value = getattr(self.table, name)
        if value is not None and self.tier is not None:
            self.estimated.append(f"{name}: base price (the tier above {self.tier.above} tokens has none)")
        return value

    def part(self, name: str, tokens: int, fallback: str | None = None, *, estimated: bool = True) -> float:
        """USD for `tokens` at `name`'s price, else at `fallback`'s (noted as estimated when `estimated`)."""
        if not tokens:
            return 0.0
        price = self.price(name)
        if price is None and fallback is not None:
            price = self.price(fallback)
            if price is not None and estimated:
                self.estimated.append(f"{name}: priced at {fallback} (no {name} price)")
        if price is None:
            where = f" at the {self.service} tier" if self.service else ""
            raise PriceUnknown(f"{self.model.spec} has no {name} price{where} in the catalog ({tokens} {name} tokens)")
        return price * tokens / PER_TOKENS


def _has_units(u: Usage) -> bool:
    return bool(
        u.images or u.input_images or u.audio_seconds or u.video_seconds or u.characters or u.requests or u.web_searches
    )


def _units(model: Model, prices: UnitPrices | None, u: Usage) -> dict[str, float]:
    out: dict[str, float] = {}
    for count_name, fields in _UNITS.items():
        count: Any = getattr(u, count_name)
        if not count:
            continue
        price = next((getattr(prices, f) for f in fields if getattr(prices, f, None) is not None), None)
        if price is None:
            raise PriceUnknown(f"{model.spec} has no per-unit price for {count_name} in the catalog ({count})")
        out[count_name] = price * count
    return out
