"""The value rules of `llmdb.schema`, as msgspec types: what the validate stage checks every fragment against.

Each checked type subclasses the read type and redeclares only the fields that carry a rule, so msgspec
reports a violation with its field path (`limits.context: Expected int >= 1`). Clients never decode into
these: a verified snapshot only holds values that passed them.
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, field

from llmdb.schema import (
    Benchmarks,
    Capabilities,
    Cost,
    CostTier,
    Lifecycle,
    Limits,
    Modalities,
    Model,
    Provider,
    Reasoning,
    ServicePrices,
    TokenPrices,
    UnitPrices,
)

MAX_STRING = 1 << 20
"""Longest string accepted in a record (1 MiB): anything longer is an error, not a value."""

Text = Annotated[str, Meta(max_length=MAX_STRING)]
Name = Annotated[str, Meta(min_length=1, max_length=MAX_STRING)]
PARTIAL_DATE = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"
"""`YYYY`, `YYYY-MM` or `YYYY-MM-DD`."""
LOWER_NAME = r"^[a-z][a-z0-9_]*$"
"""A modality or a mode: lower case, digits and `_`, starting with a letter."""
PartialDate = Annotated[str, Meta(pattern=PARTIAL_DATE)]
Price = Annotated[float, Meta(ge=0)]
TokenCount = Annotated[int, Meta(ge=1)]
NonNegative = Annotated[int, Meta(ge=0)]
Modality = Annotated[str, Meta(pattern=LOWER_NAME)]
Mode = Annotated[str, Meta(pattern=LOWER_NAME, max_length=64)]


class CheckedProvider(Provider, frozen=True, kw_only=True):
    id: Name
    name: Text | None = None
    base_url: Text | None = None
    env: tuple[Text, ...] = ()
    doc: Text | None = None
    npm: Text | None = None
    aliases: tuple[Text, ...] = ()
    extra: dict[Text, Any] = field(default_factory=dict)


class CheckedLimits(Limits, frozen=True, kw_only=True):
    context: TokenCount | None = None
    input: TokenCount | None = None
    output: TokenCount | None = None


class CheckedTokenPrices(TokenPrices, frozen=True, kw_only=True):
    input: Price | None = None
    output: Price | None = None
    cache_read: Price | None = None
    cache_write: Price | None = None
    cache_write_1h: Price | None = None
    reasoning: Price | None = None
    input_audio: Price | None = None
    output_audio: Price | None = None
    input_image: Price | None = None
    output_image: Price | None = None


class CheckedCostTier(CheckedTokenPrices, CostTier, frozen=True, kw_only=True):
    above: NonNegative


class CheckedServicePrices(CheckedTokenPrices, ServicePrices, frozen=True, kw_only=True):
    tiers: tuple[CheckedCostTier, ...] = ()


class CheckedUnitPrices(UnitPrices, frozen=True, kw_only=True):
    image_input: Price | None = None
    image_output: Price | None = None
    second_input: Price | None = None
    second_output: Price | None = None
    audio_second_input: Price | None = None
    video_second_input: Price | None = None
    video_second_output: Price | None = None
    character_input: Price | None = None
    character_output: Price | None = None
    query: Price | None = None
    page: Price | None = None
    request: Price | None = None
    pixel_input: Price | None = None
    pixel_output: Price | None = None
    web_search: Price | None = None


class CheckedCost(CheckedTokenPrices, Cost, frozen=True, kw_only=True):
    tiers: tuple[CheckedCostTier, ...] = ()
    batch: CheckedServicePrices | None = None
    flex: CheckedServicePrices | None = None
    priority: CheckedServicePrices | None = None
    per_unit: CheckedUnitPrices | None = None


class CheckedLifecycle(Lifecycle, frozen=True, kw_only=True):
    deprecation_date: PartialDate | None = None
    retirement_date: PartialDate | None = None
    replacement: Text | None = None


class CheckedModalities(Modalities, frozen=True, kw_only=True):
    input: tuple[Modality, ...] = ()
    output: tuple[Modality, ...] = ()


class CheckedReasoning(Reasoning, frozen=True, kw_only=True):
    token_budget_min: NonNegative | None = None
    token_budget_max: NonNegative | None = None


class CheckedCapabilities(Capabilities, frozen=True, kw_only=True):
    reasoning: CheckedReasoning = field(default_factory=CheckedReasoning)


Index = Annotated[float, Meta(ge=0, le=100)]


class CheckedBenchmarks(Benchmarks, frozen=True, kw_only=True):
    intelligence: Index | None = None
    coding: Index | None = None
    agentic: Index | None = None
    source: Text | None = None


class CheckedModel(Model, frozen=True, kw_only=True):
    spec: Name
    id: Name
    provider: Name
    provider_model_id: Text | None = None
    name: Text | None = None
    family: Text | None = None
    base_id: Text | None = None
    release_date: PartialDate | None = None
    last_updated: PartialDate | None = None
    knowledge: PartialDate | None = None
    mode: Mode | None = None
    lifecycle: CheckedLifecycle = field(default_factory=CheckedLifecycle)
    limits: CheckedLimits = field(default_factory=CheckedLimits)
    cost: CheckedCost | None = None
    modalities: CheckedModalities = field(default_factory=CheckedModalities)
    capabilities: CheckedCapabilities = field(default_factory=CheckedCapabilities)
    benchmarks: CheckedBenchmarks | None = None
    aliases: tuple[Text, ...] = ()
    names: tuple[Text, ...] = ()
    tags: tuple[Text, ...] = ()
    extra: dict[Text, Any] = field(default_factory=dict)
