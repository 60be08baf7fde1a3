"""Cross-check of `llmdb.cost` against genai-prices 0.2.3 (`calc_price`) and LiteLLM 1.109.1 (`cost_per_token`).

Each (model, usage) case is priced by the three libraries in OpenAI's usage convention: `input_tokens` counts every
prompt token (cache reads and writes are parts of it), `output_tokens` every generated token (reasoning is a part of
it), and the context tier is chosen by the whole prompt. The per-token prices each catalog holds for the parts a case
uses (llmdb's `model.cost`, LiteLLM's `model_cost[key]`, genai-prices' model price, at the tier the prompt falls in)
are compared too: where they are the same, the three totals must agree to 1e-9, and llmdb may never be the odd one
out. Every case whose totals differ is listed in `EXPECTED_DIFFERENCES` with its data reason.

## Results

78 models over 12 providers (OpenAI, Anthropic, Google AI Studio, Vertex, Mistral, DeepSeek, xAI, Bedrock, Groq,
Cerebras, Moonshot, Cohere); usages: plain (10k in, 2k out), cache read (4k of the 10k), cache write (3k of the 10k,
where the model has a write price), reasoning (1.5k of 3k out, reasoning models), and a prompt 50k above the lowest
context tier any of the three catalogs has (272k for gpt-5.4/5.5, 200k for gemini pro and claude, 100k for haiku 5.5).

| | cases |
|---|---:|
| (model, usage) cases | 232 |
| three-way equal (to 1e-9) | 196 |
| ... of which the three catalogs hold the same prices | 195 |
| totals differ, each with a data reason | 36 |
| totals differ although the three catalogs hold the same prices | 0 |

Every difference comes from the catalogs' data, none from how the three compute a cost (since the upstreams check
each other, llmdb serves the agreed price for Bedrock's `us.` profile, gemini-2.5-flash-image's output and Vertex
gemini-2.5-flash's cache read, which were three classes of difference before):

| difference | cases | odd one out |
|---|---:|---|
| Bedrock `us.` profile above 200k: genai-prices has no tier (below it, +10% is agreed) | 1 | genai-prices |
| Bedrock in-Region Claude ids: genai-prices matches its `regional.` (+10%) entry, no >200k tier | 9 | genai-prices |
| deepseek-chat / deepseek-reasoner: three different price lists | 6 | all three |
| grok-code-fast-1: genai-prices 0.2/1.5, LiteLLM 1/2 (llmdb's only source) | 4 | genai-prices |
| gemini-2.5-flash-image cache read: models.dev 0.075, LiteLLM 0.03, genai-prices none | 1 | all three |
| Vertex gemini-2.5-flash cache write: models.dev 0.383, peers none (the cache read is agreed now: 0.03) | 1 | llmdb |
| claude-sonnet-5: 2/10 ended 2026-09-01; llmdb 3/15, peers still 2/10 | 4 | llmdb (on purpose) |
| mistral-large-latest: genai-prices matches its older mistral-large (2/6) | 2 | genai-prices |
| open-mistral-nemo: LiteLLM 0.3/0.3, models.dev and genai-prices 0.15/0.15 | 2 | LiteLLM (1), all three (1) |
| magistral-medium-latest: LiteLLM 1.5/7.5, models.dev and genai-prices 2/5 | 2 | LiteLLM (1), all three (1) |
| gpt-4o-search-preview cache read: genai-prices has no cache read price | 1 | genai-prices |
| claude-sonnet-4-5 above 200k: genai-prices keeps the retired 1M beta's tier (6/22.5) | 1 | genai-prices |
| Vertex gemini-2.0-flash: genai-prices 0.1/0.4, LiteLLM 0.15/0.6 | 1 | genai-prices |

Left out: DeepSeek's v4 models (LiteLLM applies their off-peak prices by the wall clock). Together AI (`togetherai`,
32 models known to all three) is not sampled yet. genai-prices is asked at a fixed date (`WHEN`): it keeps dated prices.
"""

from __future__ import annotations

import os

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # LiteLLM's bundled map, no network

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import litellm
import pytest
from genai_prices import Usage as GenaiUsage
from genai_prices import calc_price
from genai_prices.types import TieredPrices
from litellm.types.utils import CompletionTokensDetailsWrapper, PromptTokensDetailsWrapper
from litellm.types.utils import Usage as LiteLLMUsage

import llmdb
from llmdb.schema import Model

litellm.suppress_debug_info = True
pytestmark = pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning")  # pydantic, on LiteLLM's lazy imports

WHEN = datetime(2026, 11, 1, tzinfo=UTC)
"""genai-prices keeps dated prices (e.g. claude-sonnet-4-6's long-context tier ended 2026-03-13): price at one date."""
REL = 1e-9

GENAI_PROVIDER = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "google_vertex": "google",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "xai": "x-ai",
    "amazon_bedrock": "aws",
    "groq": "groq",
    "moonshotai": "moonshotai",
    "cohere": "cohere",
    "cerebras": "cerebras",
}
"""llmdb provider → genai-prices provider_id (Together AI, `togetherai` ↔ `together`, is not sampled yet)."""

MODELS: tuple[str, ...] = (
    # OpenAI
    "openai:gpt-3.5-turbo",
    "openai:gpt-4-turbo",
    "openai:gpt-4o",
    "openai:gpt-4o-mini",
    "openai:gpt-4o-search-preview",
    "openai:gpt-4.1",
    "openai:gpt-4.1-mini",
    "openai:gpt-4.1-nano",
    "openai:o1",
    "openai:o3",
    "openai:o3-mini",
    "openai:o4-mini",
    "openai:gpt-5",
    "openai:gpt-5-mini",
    "openai:gpt-5-nano",
    "openai:gpt-5.1",
    "openai:gpt-5.2",
    "openai:gpt-5.4",
    "openai:gpt-5.5",
    # Anthropic
    "anthropic:claude-haiku-4-5",
    "anthropic:claude-sonnet-4-5",
    "anthropic:claude-sonnet-4-6",
    "anthropic:claude-opus-4-5",
    "anthropic:claude-opus-4-6",
    "anthropic:claude-opus-4-7",
    "anthropic:claude-opus-4-8",
    "anthropic:claude-sonnet-5",
    "anthropic:claude-opus-5",
    "anthropic:claude-haiku-5-5",
    # Google AI Studio
    "google:gemini-2.5-pro",
    "google:gemini-2.5-flash",
    "google:gemini-2.5-flash-lite",
    "google:gemini-2.5-flash-image",
    "google:gemini-3-flash-preview",
    "google:gemini-3.1-pro-preview",
    "google:gemini-3.1-flash-lite",
    "google:gemini-3.5-flash",
    "google:gemini-3.8-flash",
    # Google Vertex
    "google_vertex:gemini-2.0-flash",
    "google_vertex:gemini-2.5-pro",
    "google_vertex:gemini-2.5-flash",
    "google_vertex:gemini-3-pro-preview",
    "google_vertex:gemini-3-flash-preview",
    "google_vertex:gemini-3.1-pro-preview",
    "google_vertex:gemini-3.5-flash",
    # Mistral
    "mistral:mistral-large-2512",
    "mistral:mistral-large-latest",
    "mistral:mistral-medium-3-5",
    "mistral:mistral-small-2603",
    "mistral:codestral-2508",
    "mistral:ministral-8b-2512",
    "mistral:magistral-medium-latest",
    "mistral:open-mistral-nemo",
    # DeepSeek (deepseek-v4-* left out: LiteLLM applies their off-peak prices by the wall clock)
    "deepseek:deepseek-chat",
    "deepseek:deepseek-reasoner",
    # xAI
    "xai:grok-4.20",
    "xai:grok-4.3",
    "xai:grok-4.5",
    "xai:grok-code-fast-1",
    "xai:grok-build-0.1",
    # Amazon Bedrock
    "amazon_bedrock:amazon.nova-pro-v1:0",
    "amazon_bedrock:amazon.nova-lite-v1:0",
    "amazon_bedrock:amazon.nova-micro-v1:0",
    "amazon_bedrock:anthropic.claude-sonnet-4-5-20250929-v1:0",
    "amazon_bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "amazon_bedrock:anthropic.claude-opus-4-7",
    "amazon_bedrock:meta.llama3-3-70b-instruct-v1:0",
    "amazon_bedrock:meta.llama4-maverick-17b-instruct-v1:0",
    "amazon_bedrock:mistral.mistral-large-3-675b-instruct",
    "amazon_bedrock:openai.gpt-oss-120b-1:0",
    # Groq, Cerebras, Moonshot, Cohere
    "groq:openai/gpt-oss-120b",
    "groq:openai/gpt-oss-20b",
    "cerebras:llama-3.3-70b",
    "cerebras:gpt-oss-120b",
    "moonshotai:kimi-k2.5",
    "moonshotai:kimi-k3",
    "cohere:command-a-03-2025",
    "cohere:command-r-08-2024",
)

EXPECTED_DIFFERENCES: dict[str | tuple[str, str], str] = {
    # models.dev (which llmdb takes first) holds other prices than both peers
    ("google:gemini-2.5-flash-image", "cache_read"): (
        "cache_read: models.dev 0.075, LiteLLM 0.03, genai-prices none (the output price is agreed: LiteLLM and "
        "genai-prices' 2.5 overrule models.dev's image-output 30)"
    ),
    ("google_vertex:gemini-2.5-flash", "cache_write"): (
        "models.dev gives cache_write 0.383; LiteLLM and genai-prices have none and bill writes as input (0.3)"
    ),
    ("amazon_bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0", "above_tier"): (
        "above 200k llmdb takes LiteLLM's 6.6/24.75 tier, genai-prices has no tier (below it LiteLLM's and "
        "genai-prices' +10% 3.3/16.5 overrule models.dev's global 3/15)"
    ),
    "anthropic:claude-sonnet-5": (
        "the introductory 2/10 ended 2026-09-01: llmdb serves 3/15 (genai-prices' data.json dates the change, as "
        "Anthropic announced it); the genai-prices 0.2.3 package and LiteLLM still give 2/10"
    ),
    # genai-prices holds other prices than models.dev and LiteLLM
    ("openai:gpt-4o-search-preview", "cache_read"): (
        "genai-prices has no cache read price (bills cached tokens as input, 2.5); models.dev/LiteLLM: 1.25"
    ),
    ("anthropic:claude-sonnet-4-5", "above_tier"): (
        "genai-prices keeps the retired 1M-context beta's >200k tier (6/22.5); models.dev and LiteLLM have none"
    ),
    "google_vertex:gemini-2.0-flash": "genai-prices gives 0.1/0.4, LiteLLM (llmdb's only source) 0.15/0.6",
    "mistral:mistral-large-latest": (
        "genai-prices matches mistral-large-latest to its older mistral-large entry (2/6, no cache read price); "
        "models.dev and LiteLLM give 0.5/1.5"
    ),
    "amazon_bedrock:anthropic.claude-sonnet-4-5-20250929-v1:0": (
        "genai-prices matches the in-Region id to its regional. entry (+10%: 3.3/16.5) and has no >200k tier; "
        "models.dev and LiteLLM give 3/15, LiteLLM 6/22.5 above 200k"
    ),
    "amazon_bedrock:anthropic.claude-opus-4-7": (
        "genai-prices matches the in-Region id to its regional. entry (+10%: 5.5/27.5); models.dev and LiteLLM: 5/25"
    ),
    "xai:grok-code-fast-1": (
        "genai-prices gives 0.2/1.5 (cache read 0.02, no tier); LiteLLM (llmdb's only source) 1/2 (cache read 0.2), "
        "doubled above 200k"
    ),
    # LiteLLM holds other prices than models.dev and genai-prices
    "mistral:open-mistral-nemo": (
        "LiteLLM gives 0.3/0.3, models.dev and genai-prices 0.15/0.15; genai-prices has no cache read price"
    ),
    ("mistral:magistral-medium-latest", "cache_read"): (
        "LiteLLM gives 1.5/7.5, models.dev and genai-prices 2/5 (plain usage totals the same by chance); "
        "genai-prices has no cache read price"
    ),
    ("mistral:magistral-medium-latest", "reasoning"): "LiteLLM gives 1.5/7.5, models.dev and genai-prices 2/5",
    # all three differ
    "deepseek:deepseek-chat": (
        "three price lists: models.dev 0.14/0.28 (cache read 0.0028), genai-prices 0.135/0.55 (0.035), LiteLLM "
        "0.28/0.42 (0.028); cache_write 0 from LiteLLM's deepseek/deepseek-chat, none in genai-prices"
    ),
    "deepseek:deepseek-reasoner": (
        "three price lists: models.dev 0.14/0.28 (cache read 0.0028), genai-prices 0.135/0.55 (0.035), LiteLLM "
        "0.28/0.42 (0.028)"
    ),
}
"""Every case whose three totals are not equal, by (spec, usage) or by spec (then every usage of it differs)."""

PARTS = ("input", "output", "cache_read", "cache_write", "reasoning")
LITELLM_FIELD = {
    "input": "input_cost_per_token",
    "output": "output_cost_per_token",
    "cache_read": "cache_read_input_token_cost",
    "cache_write": "cache_creation_input_token_cost",
    "reasoning": "output_cost_per_reasoning_token",
}
GENAI_FIELD = {
    "input": "input_mtok",
    "output": "output_mtok",
    "cache_read": "cache_read_mtok",
    "cache_write": "cache_write_mtok",
    "reasoning": "output_reasoning_mtok",
}
LITELLM_TIER = re.compile(r"^(?P<field>[a-z_]+)_above_(?P<k>\d+)k_tokens$")


@dataclass(frozen=True)
class Case:
    spec: str
    usage: str
    counts: dict[str, int]
    litellm_key: str
    genai_provider: str
    genai_ref: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.spec, self.usage)

    def parts(self) -> tuple[str, ...]:
        """The prices this usage needs (a part with no tokens needs none)."""
        c = self.counts
        uncached = c["input_tokens"] - c.get("cache_read_tokens", 0) - c.get("cache_write_tokens", 0)
        text_out = c["output_tokens"] - c.get("reasoning_tokens", 0)
        used = {
            "input": uncached,
            "output": text_out,
            "cache_read": c.get("cache_read_tokens", 0),
            "cache_write": c.get("cache_write_tokens", 0),
            "reasoning": c.get("reasoning_tokens", 0),
        }
        return tuple(p for p in PARTS if used[p])


@dataclass
class Result:
    case: Case
    llmdb: float | str
    genai: float | str
    litellm: float | str
    prices: dict[str, tuple[float | None, float | None, float | None]] = field(default_factory=dict)
    """Part → USD per token (llmdb, genai-prices, LiteLLM) at the context tier the usage falls in."""

    @property
    def equal(self) -> bool:
        return same(self.llmdb, self.genai) and same(self.llmdb, self.litellm)

    @property
    def same_prices(self) -> bool:
        return all(same(a, b) and same(a, c) for a, b, c in self.prices.values())

    def describe(self) -> str:
        prices = "; ".join(
            f"{p} {a} {b} {c}" for p, (a, b, c) in self.prices.items() if not (same(a, b) and same(a, c))
        )
        return f"{self.case.key}: llmdb {self.llmdb} genai {self.genai} litellm {self.litellm} [{prices}]"


def same(a: float | str | None, b: float | str | None) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=REL, abs_tol=1e-15)
    return a is None and b is None


# --- the three catalogs' prices -----------------------------------------------------------------------------------


def llmdb_prices(model: Model, input_tokens: int) -> dict[str, float | None]:
    """USD per token at the tier the prompt falls in (a tier's missing price is the base one); reasoning at output."""
    cost = model.cost
    assert cost is not None
    tiers = [t for t in cost.tiers if input_tokens > t.above]
    tier = max(tiers, key=lambda t: t.above) if tiers else None
    out: dict[str, float | None] = {}
    for part in PARTS:
        value = getattr(tier, part, None) if tier is not None else None
        value = value if value is not None else getattr(cost, part)
        out[part] = value * 1e-6 if value is not None else None
    out["reasoning"] = out["reasoning"] if out["reasoning"] is not None else out["output"]
    return out


def litellm_prices(entry: dict[str, Any], input_tokens: int) -> dict[str, float | None]:
    """USD per token from LiteLLM's map: `<field>_above_<N>k_tokens` overrides the base above N thousand tokens."""
    out: dict[str, float | None] = {p: _float(entry.get(LITELLM_FIELD[p])) for p in PARTS}
    best: dict[str, int] = {}
    for name, value in entry.items():
        m = LITELLM_TIER.match(name)
        if m is None or value is None:
            continue
        part = next((p for p, f in LITELLM_FIELD.items() if f == m["field"]), None)
        above = int(m["k"]) * 1000
        if part is not None and input_tokens > above and above >= best.get(part, -1):
            best[part] = above
            out[part] = float(value)
    out["reasoning"] = out["reasoning"] if out["reasoning"] is not None else out["output"]
    return out


def _float(value: float | None) -> float | None:
    return float(value) if value is not None else None


def genai_prices(model_price: Any, input_tokens: int) -> dict[str, float | None]:
    """USD per token from genai-prices' model price (per million, tiers chosen by the whole prompt)."""
    out: dict[str, float | None] = {}
    for part in PARTS:
        value: Decimal | TieredPrices | None = getattr(model_price, GENAI_FIELD[part])
        if isinstance(value, TieredPrices):
            tier = [t.price for t in value.tiers if input_tokens > t.start]
            value = tier[-1] if tier else value.base
        out[part] = float(value) * 1e-6 if value is not None else None
    out["reasoning"] = out["reasoning"] if out["reasoning"] is not None else out["output"]
    return out


# --- the three totals ---------------------------------------------------------------------------------------------


def llmdb_total(case: Case) -> float | str:
    try:
        return llmdb.cost(case.spec, **case.counts).total
    except llmdb.LLMDBError as e:
        return f"{type(e).__name__}"


def genai_calc(case: Case) -> Any:
    c = case.counts
    usage = GenaiUsage(
        input_tokens=c["input_tokens"],
        output_tokens=c["output_tokens"],
        cache_read_tokens=c.get("cache_read_tokens", 0),
        cache_write_tokens=c.get("cache_write_tokens", 0),
        output_reasoning_tokens=c.get("reasoning_tokens", 0),
    )
    return calc_price(usage, model_ref=case.genai_ref, provider_id=case.genai_provider, genai_request_timestamp=WHEN)


def litellm_total(case: Case) -> float | str:
    """LiteLLM's cost for an OpenAI-shaped usage: cached and cache-write tokens inside `prompt_tokens`, reasoning
    inside `completion_tokens`."""
    c = case.counts
    usage = LiteLLMUsage(
        prompt_tokens=c["input_tokens"],
        completion_tokens=c["output_tokens"],
        total_tokens=c["input_tokens"] + c["output_tokens"],
        prompt_tokens_details=PromptTokensDetailsWrapper(
            cached_tokens=c.get("cache_read_tokens") or None,
            cache_creation_tokens=c.get("cache_write_tokens") or None,
        ),
        completion_tokens_details=CompletionTokensDetailsWrapper(reasoning_tokens=c.get("reasoning_tokens") or None),
    )
    provider = litellm.model_cost[case.litellm_key]["litellm_provider"]
    try:
        prompt, completion = litellm.cost_per_token(
            model=case.litellm_key, usage_object=usage, custom_llm_provider=provider
        )
    except Exception as e:  # LiteLLM raises bare Exceptions for models it cannot price
        return type(e).__name__
    return prompt + completion


# --- the cases ----------------------------------------------------------------------------------------------------


def usages(model: Model, entry: dict[str, Any], genai_price: Any) -> dict[str, dict[str, int]]:
    """Plain; cache read and cache write where llmdb has the price; reasoning for reasoning models; and one prompt
    above the lowest context tier any of the three catalogs has."""
    cost = model.cost
    assert cost is not None
    out = {"plain": {"input_tokens": 10_000, "output_tokens": 2_000}}
    if cost.cache_read is not None:
        out["cache_read"] = {"input_tokens": 10_000, "output_tokens": 2_000, "cache_read_tokens": 4_000}
    if cost.cache_write is not None:
        out["cache_write"] = {"input_tokens": 10_000, "output_tokens": 2_000, "cache_write_tokens": 3_000}
    if model.capabilities.reasoning.enabled:
        out["reasoning"] = {"input_tokens": 10_000, "output_tokens": 3_000, "reasoning_tokens": 1_500}
    thresholds = [t.above for t in cost.tiers]
    thresholds += [int(m["k"]) * 1000 for name in entry if (m := LITELLM_TIER.match(name))]
    for name in GENAI_FIELD.values():
        value = getattr(genai_price, name)
        if isinstance(value, TieredPrices):
            thresholds += [t.start for t in value.tiers]
    if thresholds:
        tier = {"input_tokens": min(thresholds) + 50_000, "output_tokens": 2_000}
        if cost.cache_read is not None:
            tier["cache_read_tokens"] = 40_000
        out["above_tier"] = tier
    return out


@cache
def results() -> tuple[Result, ...]:
    out = []
    for spec in MODELS:
        model = llmdb.get(spec)
        key = next(k for k in model.names if k in litellm.model_cost)
        entry = litellm.model_cost[key]
        ref = model.provider_model_id or model.id
        provider = GENAI_PROVIDER[model.provider]
        probe = Case(spec, "probe", {"input_tokens": 1, "output_tokens": 1}, key, provider, ref)
        base_price = genai_calc(probe).model_price
        for name, counts in usages(model, entry, base_price).items():
            case = Case(spec, name, counts, key, provider, ref)
            calc = genai_calc(case)
            n = counts["input_tokens"]
            ours, theirs, lite = llmdb_prices(model, n), genai_prices(calc.model_price, n), litellm_prices(entry, n)
            result = Result(case, llmdb_total(case), float(calc.total_price), litellm_total(case))
            result.prices = {p: (ours[p], theirs[p], lite[p]) for p in case.parts()}
            out.append(result)
    return tuple(out)


def listed(case: Case) -> str | None:
    return EXPECTED_DIFFERENCES.get(case.key) or EXPECTED_DIFFERENCES.get(case.spec)


# --- tests --------------------------------------------------------------------------------------------------------


def test_enough_cases_over_the_big_providers() -> None:
    rs = results()
    assert len(rs) >= 200
    assert len(MODELS) >= 60 and len(set(MODELS)) == len(MODELS)
    kinds = Counter(r.case.usage for r in rs)
    assert kinds["plain"] == len(MODELS)
    assert kinds["cache_read"] >= 40 and kinds["cache_write"] >= 15
    assert kinds["reasoning"] >= 30 and kinds["above_tier"] >= 10
    providers = Counter(r.case.spec.split(":")[0] for r in rs)
    assert set(providers) == set(GENAI_PROVIDER)
    free = [r.describe() for r in rs if not (isinstance(r.llmdb, float) and r.llmdb > 0)]
    assert free == []  # no model priced at 0 (or not at all) in llmdb, so agreement is never 0 == 0


def test_every_difference_is_listed_with_its_reason() -> None:
    unlisted = [r.describe() for r in results() if not r.equal and listed(r.case) is None]
    assert unlisted == []


def test_no_stale_expected_difference() -> None:
    rs = results()
    stale = []
    for key in EXPECTED_DIFFERENCES:
        mine = [r for r in rs if (r.case.key if isinstance(key, tuple) else r.case.spec) == key]
        if not mine or any(r.equal for r in mine):
            stale.append(key)
    assert stale == []


def test_same_prices_give_the_same_total() -> None:
    """Where the three catalogs hold the same prices for every part used, the totals agree: a difference there is
    a difference of computation, and llmdb must never be the odd one out."""
    rs = results()
    same_prices = [r for r in rs if r.same_prices]
    assert len(same_prices) >= 150
    llmdb_alone = [
        r.describe() for r in same_prices if not r.equal and same(r.genai, r.litellm) and not same(r.llmdb, r.genai)
    ]
    assert llmdb_alone == []
    unexplained = [r.describe() for r in same_prices if not r.equal and listed(r.case) is None]
    assert unexplained == []


def test_enough_three_way_equal_cases() -> None:
    rs = results()
    assert sum(r.equal for r in rs) >= 150


def test_the_summary_above_matches_the_results() -> None:
    rs = results()
    doc = __doc__ or ""
    differ = [r for r in rs if not r.equal]
    assert f"| (model, usage) cases | {len(rs)} |" in doc
    assert f"| three-way equal (to 1e-9) | {sum(r.equal for r in rs)} |" in doc
    assert f"| ... of which the three catalogs hold the same prices | {sum(r.same_prices for r in rs)} |" in doc
    assert f"| totals differ, each with a data reason | {len(differ)} |" in doc
    assert (
        f"| totals differ although the three catalogs hold the same prices | {sum(r.same_prices for r in differ)} |"
        in doc
    )
    assert f"{len(MODELS)} models over {len(GENAI_PROVIDER)} providers" in doc
