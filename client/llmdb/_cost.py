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
- Nothing to price (no usage, or usage None as a stream without `include_usage` gives, and no count above 0)
  raises `InvalidUsage`, never a silent $0; so does a count above `MAX_TOKENS` (10**15: a hundred million
  prompts of the largest context window; past it is a typo or an overflow, not a request to price).
"""

from __future__ import annotations

import math
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Unpack

from msgspec import Struct

from llmdb._responses import requested
from llmdb._usage import MAX_TOKENS, SERVICE_TIERS, OtherCounts, Usage, standard_tier
from llmdb.errors import InvalidUsage, PriceUnknown
from llmdb.schema import Cost, CostTier, Model, ServicePrices, UnitPrices

if TYPE_CHECKING:
    from datetime import date, datetime

    from llmdb._catalog import Catalog

__all__ = ["PER_TOKENS", "CostBreakdown", "compute", "cost"]

_ZERO = 0
"""The int 0 (CPython's one instance): `n is _ZERO` tells a count left at its default from `False`."""
PER_TOKENS = 1_000_000
"""Catalog prices are USD per 1M tokens."""


class CostBreakdown(Struct, frozen=True, gc=False):
    """USD per part of a request; the parts add up to `total`, and each says what it was priced at.

    `tier` is the `above` of the context tier applied (None: base prices); `service_tier` the service tier's
    prices used (None: standard); `estimated` lists every price that was inherited or fallen back on."""

    spec: str
    input: float
    """Prompt tokens not cached, not audio, not image."""
    cache_read: float
    cache_write: float
    input_audio: float
    input_image: float
    output: float
    """Generated tokens other than reasoning, audio and image tokens."""
    reasoning: float
    output_audio: float
    output_image: float
    per_unit: dict[str, float]
    """USD per per-unit count given (`images`, `web_searches`, ...)."""
    total: float
    usage: Usage
    tier: int | None = None
    service_tier: str | None = None
    estimated: tuple[str, ...] = ()
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


_PARTS: tuple[tuple[str, str | None, bool], ...] = (
    ("input", None, False),
    ("cache_read", None, False),
    ("cache_write", None, False),
    ("cache_write_1h", "cache_write", True),
    ("input_audio", "input", True),
    ("input_image", "input", False),
    ("output", None, False),
    ("reasoning", "output", False),
    ("output_audio", "output", True),
    ("output_image", "output", True),
)
"""The token parts of a request: (price, the price to fall back on, whether falling back is an estimate)."""
_tokens = attrgetter(
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "input_audio_tokens",
    "input_image_tokens",
    "output_tokens",
    "reasoning_tokens",
    "output_audio_tokens",
    "output_image_tokens",
)


def compute(model: Model, u: Usage, service_tier: str | None = None) -> CostBreakdown:
    """Price `u` (already checked) for `model`; `service_tier` (`standard` included) overrides the tier `u`
    reports."""
    cost = model.cost
    if cost is None:
        raise PriceUnknown(f"{model.spec} has no price in the catalog")
    service = u.service_tier if service_tier is None else standard_tier(service_tier)
    table = cost if service is None else _service(model, cost, service)
    tier = _tier(table.tiers, u.input_tokens) if table.tiers else None
    if table is not cost and cost.tiers:
        standard = _tier(cost.tiers, u.input_tokens)
        if standard is not None and (tier is None or tier.above < standard.above):
            raise PriceUnknown(
                f"{model.spec} has no {service} price for a prompt above {standard.above} tokens "
                f"({u.input_tokens} input tokens)"
            )
    rates, notes = _RATES.get(id(table if tier is None else tier)) or _rates(table, tier)
    p_in, p_read, p_write, p_1h, p_in_audio, p_in_image, p_out, p_reason, p_out_audio, p_out_image = rates
    i, cr, cw, c1, ia, ii, o, r, oa, oi = _tokens(u)
    uncached, text, c5 = i - cr - cw - ia - ii, o - r - oa - oi, cw - c1
    # The hot path: scalar arithmetic, a part only where it has tokens; an unknown price is NaN, so one
    # comparison of the total finds any part with tokens and no price.
    a = uncached * p_in if uncached else 0.0
    b = cr * p_read if cr else 0.0
    c = (c5 * p_write if c5 else 0.0) + (c1 * p_1h if c1 else 0.0)
    d = ia * p_in_audio if ia else 0.0
    e = ii * p_in_image if ii else 0.0
    f = text * p_out if text else 0.0
    g = r * p_reason if r else 0.0
    h = oa * p_out_audio if oa else 0.0
    k = oi * p_out_image if oi else 0.0
    total = a + b + c + d + e + f + g + h + k
    if total != total or (notes and (tier is not None or c1 or ia or ii or oa or oi)):  # the rare paths
        counts = (uncached, cr, c5, c1, ia, ii, text, r, oa, oi)
        if total != total:
            raise _unknown(model, service, counts, rates)
        estimated = tuple(note for n, note in notes if counts[n])
    else:
        estimated = ()
    if u.images or u.web_searches or u.audio_seconds or u.characters or u.requests or u.input_images or u.video_seconds:
        units = _units(model, cost.per_unit, u)
        total += sum(units.values())
    else:
        units = {}
    # positional: msgspec builds a struct from 16 keywords 5x slower
    return CostBreakdown(
        model.spec, a, b, c, d, e, f, g, h, k, units, total, u, None if tier is None else tier.above, service, estimated
    )


def _unknown(model: Model, service: str | None, counts: tuple[int, ...], rates: tuple[float, ...]) -> PriceUnknown:
    """The error for the first part with tokens and no price (NaN)."""
    name, n = next((p[0], n) for p, n, x in zip(_PARTS, counts, rates, strict=True) if n and x != x)
    where = f" at the {service} tier" if service else ""
    return PriceUnknown(f"{model.spec} has no {name} price{where} in the catalog ({n} {name} tokens)")


_Rates = tuple[tuple[float, ...], tuple[tuple[int, str], ...]]
_RATES: dict[int, _Rates] = {}
"""id of the prices table, or of its context tier when one applies → per part of `_PARTS`: USD per token (NaN:
unknown), and (part index, note) for the parts priced by estimate. Resolved once, so pricing is arithmetic."""
_PINNED: list[object] = []
"""The tables `_RATES` is keyed by, kept alive so that their ids are not reused."""


def _rates(table: Cost | ServicePrices, tier: CostTier | None) -> _Rates:
    rates: list[float] = []
    notes: list[str] = []
    for name, fallback, estimate in _PARTS:
        price, note = _price(table, tier, name)
        if price is None and fallback is not None:
            price, note = _price(table, tier, fallback)
            if price is not None and estimate:
                note = f"{name}: priced at {fallback} (no {name} price)"
        rates.append(math.nan if price is None else price / PER_TOKENS)
        notes.append(note or "")
    if len(_RATES) >= 4096:
        _RATES.clear()
        _PINNED.clear()
    _PINNED.append((table, tier))
    entry = (tuple(rates), tuple((k, note) for k, note in enumerate(notes) if note))
    _RATES[id(table if tier is None else tier)] = entry
    return entry


def _price(table: Cost | ServicePrices, tier: CostTier | None, name: str) -> tuple[float | None, str | None]:
    """The tier's price for `name`, else the table's (noted: the tier lacks it)."""
    if tier is not None:
        value: float | None = getattr(tier, name)
        if value is not None:
            return value, None
    value = getattr(table, name)
    if value is not None and tier is not None:
        return value, f"{name}: base price (the tier above {tier.above} tokens has none)"
    return value, None


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


def cost(
    catalog: Catalog,
    spec: str,
    usage: Any = None,
    *,
    service_tier: str | None = None,
    api: str | None = None,
    at: str | date | datetime | float | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    reasoning_tokens: int = 0,
    **counts: Unpack[OtherCounts],
) -> CostBreakdown:
    """USD for one request, from a response's usage (`usage=`: any SDK's response or usage, a dict, a
    `Usage`) or from counts: `input_tokens`, `output_tokens`, `cache_read_tokens`, `cache_write_tokens`,
    `reasoning_tokens`, ... (any count of `Usage`), and per-unit `images`, `audio_seconds`, `characters`,
    `requests`, `web_searches` (these may come beside `usage=`).

    Counts follow OpenAI's convention: `input_tokens` is every prompt token, cached ones included
    (`cache_read_tokens` and `cache_write_tokens` are parts of it); `output_tokens` is every generated token,
    reasoning included (`reasoning_tokens` is a part of it, priced apart only where the model has a reasoning
    price). The context tier is chosen by `input_tokens`; `service_tier` ("batch", "flex", "priority", or
    "standard" to override what a response reports) prices at that tier or raises `PriceUnknown`. Raises
    `PriceUnknown` for a part the catalog has no price for, `InvalidUsage` for counts that do not add up.
    `at` (ISO text, date, datetime or unix time) prices with the model as the history had it then:
    `PriceUnknown` saying why when it had no such model then. docs/cost.md has the rules and a worked
    example per provider."""
    i, o, cr, cw, r = input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens
    if (
        usage is None
        and at is None
        and service_tier is None
        and not counts
        and i.__class__ is o.__class__ is cr.__class__ is cw.__class__ is r.__class__ is int
        and cr >= 0
        and cw >= 0
        and cr + cw <= i <= MAX_TOKENS
        and 0 <= r <= o <= MAX_TOKENS
        and (i or o)
    ):
        # The common question at once (fast paths: docs/architecture.md): these five token counts, sound, for
        # a model without context tiers at its standard prices. Anything else, or a part with tokens and no
        # price, goes the general way below (tests/test_cost.py holds the two to the same answers).
        model = catalog.by_name[spec]
        table = model.cost
        if table is not None and not table.tiers:
            rates = (_RATES.get(id(table)) or _rates(table, None))[0]
            uncached, text = i - cr - cw, o - r
            a = uncached * rates[0] if uncached else 0.0
            b = cr * rates[1] if cr else 0.0
            c = cw * rates[2] if cw else 0.0
            f = text * rates[6] if text else 0.0
            g = r * rates[7] if r else 0.0
            total = a + b + c + f + g
            if total == total:
                u = Usage(
                    input_tokens=i, output_tokens=o, cache_read_tokens=cr, cache_write_tokens=cw, reasoning_tokens=r
                )
                return CostBreakdown(model.spec, a, b, c, 0.0, 0.0, f, g, 0.0, 0.0, {}, total, u, None, None, ())
    if not (i is o is cr is cw is r is _ZERO):  # some given (a 0 is a count not given; False is not a 0)
        given = (
            ("input_tokens", i),
            ("output_tokens", o),
            ("cache_read_tokens", cr),
            ("cache_write_tokens", cw),
            ("reasoning_tokens", r),
        )
        counts = {**{name: n for name, n in given if n.__class__ is not int or n}, **counts}  # type: ignore[typeddict-item]
    wanted = requested(usage, api, counts)
    if at is None:
        return compute(catalog.get(spec), wanted, service_tier)
    from llmdb import _history

    return compute(_history.model_then(catalog, spec, at), wanted, service_tier)
