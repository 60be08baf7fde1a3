"""Cost: token counts times prices per 1M tokens, with context tiers; unknown prices raise."""

from __future__ import annotations

import pytest

from llmdb._cost import compute
from llmdb.errors import PriceUnknown
from llmdb.schema import Cost, CostTier, Model


def model(cost: Cost | None) -> Model:
    return Model(spec="x:m", id="m", provider="x", cost=cost)


GEMINI = Cost(
    input=1.25, output=10.0, cache_read=0.125, tiers=(CostTier(above=200_000, input=2.5, output=15.0, cache_read=0.25),)
)


def test_base_prices_below_the_tier() -> None:
    r = compute(model(GEMINI), input_tokens=100_000, output_tokens=1_000)
    assert r.input == pytest.approx(0.125) and r.output == pytest.approx(0.01)
    assert r.total == pytest.approx(0.135) and r.tier is None


def test_tier_applies_above_its_threshold_counting_cached_prompt_tokens() -> None:
    r = compute(model(GEMINI), input_tokens=150_000, cache_read_tokens=60_000, output_tokens=1_000)
    assert r.tier == 200_000
    assert r.input == pytest.approx(150_000 * 2.5 / 1e6)
    assert r.cache_read == pytest.approx(60_000 * 0.25 / 1e6)
    assert r.output == pytest.approx(1_000 * 15.0 / 1e6)


def test_exactly_at_the_threshold_is_still_base_price() -> None:
    assert compute(model(GEMINI), input_tokens=200_000, output_tokens=0).tier is None


def test_highest_exceeded_tier_wins() -> None:
    cost = Cost(
        input=0.48, output=2.41, tiers=(CostTier(above=32_000, input=0.72), CostTier(above=128_000, input=1.45))
    )
    r = compute(model(cost), input_tokens=130_000, output_tokens=10)
    assert r.tier == 128_000 and r.input == pytest.approx(130_000 * 1.45 / 1e6)
    assert r.output == pytest.approx(10 * 2.41 / 1e6)  # the tier has no output price: base applies


def test_reasoning_tokens_fall_back_to_the_output_price() -> None:
    r = compute(model(Cost(input=1.0, output=4.0)), input_tokens=0, output_tokens=0, reasoning_tokens=1_000_000)
    assert r.reasoning == pytest.approx(4.0)
    r = compute(model(Cost(input=1.0, output=4.0, reasoning=8.0)), input_tokens=0, output_tokens=0, reasoning_tokens=10)
    assert r.reasoning == pytest.approx(8e-5)


def test_unknown_price_raises_instead_of_returning_zero() -> None:
    with pytest.raises(PriceUnknown, match="x:m has no price"):
        compute(model(None), input_tokens=1, output_tokens=1)
    with pytest.raises(PriceUnknown, match="cache_write"):
        compute(model(Cost(input=1.0, output=1.0)), input_tokens=1, output_tokens=1, cache_write_tokens=5)


def test_free_models_cost_zero() -> None:
    assert compute(model(Cost(input=0.0, output=0.0)), input_tokens=10, output_tokens=10).total == 0.0
