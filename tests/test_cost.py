"""Cost rules (docs/cost.md), priced by hand: OpenAI's usage convention, context tiers chosen by the whole prompt,
service tiers without silent fallback, per-unit prices, and errors instead of guesses."""

from __future__ import annotations

import re
from typing import Any

import pytest

from llmdb import CostBreakdown, Usage
from llmdb._cost import compute
from llmdb._usage import check
from llmdb.errors import InvalidUsage, PriceUnknown
from llmdb.schema import Cost, CostTier, Model, ServicePrices, UnitPrices


def model(cost: Cost | None) -> Model:
    return Model(spec="x:m", id="m", provider="x", cost=cost)


def price(cost: Cost | None, service_tier: str | None = None, **counts: Any) -> CostBreakdown:
    return compute(model(cost), check(Usage(**counts)), service_tier)


GPT4O = Cost(input=2.5, output=10.0, cache_read=1.25)
SONNET = Cost(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75, cache_write_1h=6.0)
O3_MINI = Cost(input=1.1, output=4.4, cache_read=0.55)
GEMINI = Cost(
    input=1.25, output=10.0, cache_read=0.125, tiers=(CostTier(above=200_000, input=2.5, output=15.0, cache_read=0.25),)
)


def test_cached_tokens_are_part_of_input_tokens() -> None:
    """The issue's example: 10,000 prompt tokens of which 4,000 cached, 2,000 out; LiteLLM and genai-prices: 0.040."""
    r = price(GPT4O, input_tokens=10_000, output_tokens=2_000, cache_read_tokens=4_000)
    assert r.input == pytest.approx(6_000 * 2.5 / 1e6)
    assert r.cache_read == pytest.approx(4_000 * 1.25 / 1e6)
    assert r.total == pytest.approx(0.040)
    r = price(SONNET, input_tokens=10_000, output_tokens=2_000, cache_read_tokens=4_000)
    assert r.total == pytest.approx(6_000 * 3e-6 + 4_000 * 0.3e-6 + 2_000 * 15e-6)
    assert r.total == pytest.approx(0.0492)


def test_reasoning_is_part_of_output_and_billed_once() -> None:
    r = price(O3_MINI, input_tokens=1_000, output_tokens=1_000, reasoning_tokens=500)
    assert r.output == pytest.approx(500 * 4.4 / 1e6)
    assert r.reasoning == pytest.approx(500 * 4.4 / 1e6)
    assert r.total == pytest.approx((1_000 * 1.1 + 1_000 * 4.4) / 1e6)
    assert r.estimated == ()
    distinct = Cost(input=1.0, output=4.0, reasoning=8.0)
    r = price(distinct, input_tokens=0, output_tokens=1_000, reasoning_tokens=250)
    assert r.total == pytest.approx((750 * 4.0 + 250 * 8.0) / 1e6)


def test_cache_writes_and_anthropic_one_hour_writes() -> None:
    r = price(SONNET, input_tokens=5_000, output_tokens=0, cache_write_tokens=3_000, cache_write_1h_tokens=1_000)
    assert r.input == pytest.approx(2_000 * 3.0 / 1e6)
    assert r.cache_write == pytest.approx((2_000 * 3.75 + 1_000 * 6.0) / 1e6)
    no_1h = Cost(input=3.0, output=15.0, cache_write=3.75)
    r = price(no_1h, input_tokens=1_000, output_tokens=0, cache_write_tokens=1_000, cache_write_1h_tokens=1_000)
    assert r.cache_write == pytest.approx(1_000 * 3.75 / 1e6)
    assert r.estimated == ("cache_write_1h: priced at cache_write (no cache_write_1h price)",)


def test_the_tier_is_chosen_by_the_whole_prompt_cached_tokens_included() -> None:
    r = price(GEMINI, input_tokens=210_000, cache_read_tokens=60_000, output_tokens=1_000)
    assert r.tier == 200_000
    assert r.input == pytest.approx(150_000 * 2.5 / 1e6)
    assert r.cache_read == pytest.approx(60_000 * 0.25 / 1e6)
    assert r.output == pytest.approx(1_000 * 15.0 / 1e6)
    assert price(GEMINI, input_tokens=200_000, output_tokens=0).tier is None


def test_highest_exceeded_tier_wins_and_a_missing_tier_price_is_inherited_as_estimated() -> None:
    cost = Cost(
        input=0.48, output=2.41, tiers=(CostTier(above=32_000, input=0.72), CostTier(above=128_000, input=1.45))
    )
    r = price(cost, input_tokens=130_000, output_tokens=10)
    assert r.tier == 128_000 and r.input == pytest.approx(130_000 * 1.45 / 1e6)
    assert r.output == pytest.approx(10 * 2.41 / 1e6)
    assert r.estimated == ("output: base price (the tier above 128000 tokens has none)",)
    assert price(cost, input_tokens=130_000, output_tokens=0).estimated == ()


def test_service_tiers_use_their_own_prices_or_raise() -> None:
    cost = Cost(
        input=2.0,
        output=8.0,
        cache_read=0.5,
        tiers=(CostTier(above=272_000, input=4.0, output=16.0),),
        batch=ServicePrices(input=1.0, output=4.0),
        priority=ServicePrices(input=3.5, output=14.0, cache_read=0.875, tiers=(CostTier(above=272_000, input=7.0),)),
    )
    r = price(cost, "batch", input_tokens=1_000, output_tokens=1_000)
    assert r.service_tier == "batch" and r.total == pytest.approx(5_000 / 1e6)
    with pytest.raises(PriceUnknown, match="no cache_read price at the batch tier"):
        price(cost, "batch", input_tokens=1_000, output_tokens=0, cache_read_tokens=10)
    with pytest.raises(PriceUnknown, match=r"no flex prices in the catalog \(it has: standard, batch, priority\)"):
        price(cost, "flex", input_tokens=1, output_tokens=1)
    with pytest.raises(PriceUnknown, match="no batch price for a prompt above 272000 tokens"):
        price(cost, "batch", input_tokens=300_000, output_tokens=0)
    r = price(cost, "priority", input_tokens=300_000, output_tokens=100)
    assert r.tier == 272_000 and r.input == pytest.approx(300_000 * 7.0 / 1e6)
    assert r.output == pytest.approx(100 * 14.0 / 1e6)
    with pytest.raises(InvalidUsage, match="unknown service tier 'scale'"):
        price(cost, "scale", input_tokens=1, output_tokens=1)


def test_a_reported_service_tier_is_used_unless_overridden() -> None:
    cost = Cost(input=2.0, output=8.0, flex=ServicePrices(input=1.0, output=4.0))
    reported = check(Usage(input_tokens=1_000, output_tokens=0, service_tier="flex"))
    assert compute(model(cost), reported).total == pytest.approx(1_000 * 1.0 / 1e6)
    assert compute(model(cost), reported, None).service_tier == "flex"


def test_audio_and_image_tokens() -> None:
    cost = Cost(input=2.5, output=10.0, input_audio=40.0, output_audio=80.0)
    r = price(cost, input_tokens=1_000, input_audio_tokens=400, output_tokens=500, output_audio_tokens=300)
    assert r.input == pytest.approx(600 * 2.5 / 1e6) and r.input_audio == pytest.approx(400 * 40 / 1e6)
    assert r.output == pytest.approx(200 * 10 / 1e6) and r.output_audio == pytest.approx(300 * 80 / 1e6)
    r = price(Cost(input=0.3, output=2.5), input_tokens=1_000, input_audio_tokens=100, input_image_tokens=200)
    assert r.input_audio == pytest.approx(100 * 0.3 / 1e6)
    assert r.input_image == pytest.approx(200 * 0.3 / 1e6)
    assert r.estimated == ("input_audio: priced at input (no input_audio price)",)
    r = price(
        Cost(input=0.3, output=2.5, output_image=30.0), input_tokens=10, output_tokens=1_290, output_image_tokens=1_290
    )
    assert r.output_image == pytest.approx(1_290 * 30.0 / 1e6) and r.output == 0


def test_per_unit_prices() -> None:
    units = UnitPrices(image_output=0.04, second_input=0.0001, character_input=15e-6, request=0.005, web_search=0.01)
    cost = Cost(input=3.0, output=15.0, per_unit=units)
    r = price(cost, input_tokens=0, images=3, audio_seconds=60.0, characters=1_000, requests=2, web_searches=4)
    assert r.per_unit == pytest.approx(
        {"images": 0.12, "audio_seconds": 0.006, "characters": 0.015, "requests": 0.01, "web_searches": 0.04}
    )
    assert r.total == pytest.approx(0.12 + 0.006 + 0.015 + 0.01 + 0.04)
    with pytest.raises(PriceUnknown, match="no per-unit price for web_searches"):
        price(Cost(input=1.0, output=1.0), input_tokens=1, web_searches=1)


def test_unknown_prices_raise_instead_of_returning_zero() -> None:
    with pytest.raises(PriceUnknown, match="x:m has no price"):
        price(None, input_tokens=1, output_tokens=1)
    with pytest.raises(PriceUnknown, match="no cache_write price"):
        price(Cost(input=1.0, output=1.0), input_tokens=10, output_tokens=1, cache_write_tokens=5)
    assert price(Cost(input=0.0, output=0.0), input_tokens=10, output_tokens=10).total == 0.0


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ({"input_tokens": -1}, "input_tokens: expected a non-negative integer, got -1"),
        ({"input_tokens": 1.5}, "input_tokens: expected a non-negative integer, got 1.5"),
        ({"output_tokens": "7"}, "output_tokens: expected a non-negative integer, got '7'"),
        ({"input_tokens": 10, "cache_read_tokens": 11}, "cache_read_tokens 11 exceeds input_tokens 10"),
        ({"input_tokens": 10, "cache_read_tokens": 6, "cache_write_tokens": 5}, "+ cache_write_tokens 5 exceeds"),
        ({"output_tokens": 10, "reasoning_tokens": 11}, "reasoning_tokens 11 exceeds output_tokens 10"),
        ({"input_tokens": 5, "cache_write_tokens": 1, "cache_write_1h_tokens": 2}, "exceeds cache_write_tokens 1"),
        ({"audio_seconds": -2.0}, "audio_seconds: expected a non-negative number of seconds"),
    ],
)
def test_inconsistent_usage_is_refused(counts: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidUsage, match=re.escape(message)):
        check(Usage(**counts))


QUICK_USAGES = [
    {"input_tokens": 1000, "output_tokens": 200},
    {"input_tokens": 10000, "output_tokens": 2000, "cache_read_tokens": 4000},
    {"input_tokens": 5000, "output_tokens": 300, "cache_write_tokens": 1000, "reasoning_tokens": 120},
    {"input_tokens": 300_000, "output_tokens": 10, "cache_read_tokens": 1, "cache_write_tokens": 2},
    {"output_tokens": 7},
]


@pytest.mark.parametrize("counts", QUICK_USAGES)
def test_the_quick_path_answers_as_the_general_one_for_every_packaged_model(counts: dict[str, int]) -> None:
    """`cost` answers the five common token counts at once; `compute` (the general path) must agree on every
    model of the packaged catalog: the same breakdown, or the same error."""
    import llmdb

    catalog = llmdb.Catalog(llmdb.packaged_path())
    outcomes = {"same answer": 0, "same error": 0}
    for spec in catalog.snapshot.specs:
        try:
            quick: CostBreakdown | Exception = catalog.cost(spec, **counts)  # type: ignore[arg-type]
        except (PriceUnknown, InvalidUsage) as exc:
            quick = exc
        try:
            general: CostBreakdown | Exception = compute(catalog.get(spec), Usage(**counts))
        except (PriceUnknown, InvalidUsage) as exc:
            general = exc
        if isinstance(general, Exception):
            assert isinstance(quick, type(general)) and str(quick) == str(general), spec
            outcomes["same error"] += 1
        else:
            assert quick == general, spec
            outcomes["same answer"] += 1
    assert outcomes["same answer"] > 1000 and outcomes["same error"] > 100, outcomes  # both kinds, each often
