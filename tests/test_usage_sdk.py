"""`llmdb.usage` and `llmdb.cost(usage=...)` on recorded-style responses (tests/data/usage/), as parsed JSON and as
the real SDK types: OpenAI Chat Completions and Responses, Anthropic Messages, Gemini (REST camelCase), Bedrock
Converse, Mistral and DeepSeek. Expected counts and prices are written by hand from the fixtures and the catalog."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from anthropic.types import Message
from google.genai.types import GenerateContentResponse
from mistralai.client.models import ChatCompletionResponse
from msgspec.structs import replace
from openai.types.chat import ChatCompletion
from openai.types.responses import Response
from pydantic import BaseModel

import llmdb
from llmdb.schema import Cost, ServicePrices

DATA = Path(__file__).parent / "data" / "usage"
BEDROCK_SONNET = "amazon_bedrock:anthropic.claude-sonnet-4-5-20250929-v1:0"
AUDIO_PREVIEW = (
    "openai:gpt-4o-audio-preview-2024-12-17"  # the undated openai:gpt-4o-audio-preview is not in the catalog
)


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return data


def usd(tokens: int, per_million: float | None) -> float:
    """`tokens` at a catalog price (USD per 1M tokens), which must exist."""
    assert per_million is not None
    return tokens * per_million / 1e6


def flex(c: Cost) -> ServicePrices:
    assert c.flex is not None
    return c.flex


def web_search(c: Cost) -> float:
    assert c.per_unit is not None and c.per_unit.web_search is not None
    return c.per_unit.web_search


# Each fixture's usage, derived by hand by the reading rules of its API.
EXPECTED: dict[str, llmdb.Usage] = {
    # OpenAI: prompt_tokens already counts the cached tokens.
    "openai_chat_cached": llmdb.Usage(input_tokens=2306, output_tokens=312, cache_read_tokens=1920, api="openai-chat"),
    "openai_chat_reasoning": llmdb.Usage(
        input_tokens=1532, output_tokens=2870, cache_read_tokens=1024, reasoning_tokens=2432, api="openai-chat"
    ),
    "openai_chat_audio": llmdb.Usage(
        input_tokens=1045, output_tokens=1290, input_audio_tokens=820, output_audio_tokens=1105, api="openai-chat"
    ),
    # Responses: the tier comes from the response's top-level service_tier.
    "openai_responses_reasoning": llmdb.Usage(
        input_tokens=4210,
        output_tokens=1876,
        cache_read_tokens=3968,
        reasoning_tokens=1536,
        service_tier="flex",
        api="openai-responses",
    ),
    # Anthropic: input_tokens excludes cache reads and writes; "standard" is the standard tier (None).
    "anthropic_cache": llmdb.Usage(
        input_tokens=1873 + 20480 + 6144,
        output_tokens=942,
        cache_read_tokens=20480,
        cache_write_tokens=6144,
        cache_write_1h_tokens=4096,
        web_searches=2,
        api="anthropic",
    ),
    # Gemini: tool-use prompt tokens are input, thoughts are output beside the candidates.
    "gemini_thoughts": llmdb.Usage(
        input_tokens=14820 + 412,
        output_tokens=1105 + 2310,
        cache_read_tokens=12288,
        reasoning_tokens=2310,
        input_image_tokens=1290,
        api="gemini",
    ),
    # Bedrock Converse: inputTokens excludes the cache; the 1h writes come from cacheDetails.
    "bedrock_converse_cache": llmdb.Usage(
        input_tokens=312 + 9216 + 3072,
        output_tokens=587,
        cache_read_tokens=9216,
        cache_write_tokens=3072,
        cache_write_1h_tokens=2048,
        api="bedrock",
    ),
    "mistral_chat": llmdb.Usage(input_tokens=2841, output_tokens=403, api="openai-chat"),
    # DeepSeek: prompt_tokens = hit + miss; the hit is also in prompt_tokens_details.cached_tokens.
    "deepseek_chat": llmdb.Usage(input_tokens=3150, output_tokens=487, cache_read_tokens=2944, api="openai-chat"),
}


def chat(d: dict[str, Any]) -> tuple[BaseModel, object]:
    r = ChatCompletion.model_validate(d)
    return r, r.usage


def responses(d: dict[str, Any]) -> tuple[BaseModel, object]:
    r = Response.model_validate(d)
    return r, r.usage


def anthropic_message(d: dict[str, Any]) -> tuple[BaseModel, object]:
    r = Message.model_validate(d)
    return r, r.usage


def gemini(d: dict[str, Any]) -> tuple[BaseModel, object]:
    r = GenerateContentResponse.model_validate(d)  # the SDK's models accept the REST camelCase aliases
    assert r.usage_metadata is not None and r.usage_metadata.thoughts_token_count == 2310
    return r, r.usage_metadata


def mistral(d: dict[str, Any]) -> tuple[BaseModel, object]:
    r = ChatCompletionResponse.model_validate(d)
    return r, r.usage


SDK: dict[str, Callable[[dict[str, Any]], tuple[BaseModel, object]]] = {
    "openai_chat_cached": chat,
    "openai_chat_reasoning": chat,
    "openai_chat_audio": chat,
    "openai_responses_reasoning": responses,
    "anthropic_cache": anthropic_message,
    "gemini_thoughts": gemini,
    "mistral_chat": mistral,
    "deepseek_chat": chat,  # DeepSeek is used through the openai SDK; its extra fields ride along
}

# (fixture, spec, the total by hand from the catalog's own prices per 1M tokens)
PRICING: list[tuple[str, str, Callable[[Cost], float]]] = [
    (
        "openai_chat_cached",
        "openai:gpt-4o",
        lambda c: usd(2306 - 1920, c.input) + usd(1920, c.cache_read) + usd(312, c.output),
    ),
    (  # no reasoning price: reasoning tokens are billed as output
        "openai_chat_reasoning",
        "openai:o3-mini",
        lambda c: usd(1532 - 1024, c.input) + usd(1024, c.cache_read) + usd(2870, c.output),
    ),
    (
        "openai_chat_audio",
        AUDIO_PREVIEW,
        lambda c: (
            usd(1045 - 820, c.input) + usd(820, c.input_audio) + usd(1290 - 1105, c.output) + usd(1105, c.output_audio)
        ),
    ),
    (  # the flex tier's own prices
        "openai_responses_reasoning",
        "openai:gpt-5",
        lambda c: usd(4210 - 3968, flex(c).input) + usd(3968, flex(c).cache_read) + usd(1876, flex(c).output),
    ),
    (
        "anthropic_cache",
        "anthropic:claude-sonnet-4-5",
        lambda c: (
            usd(1873, c.input)
            + usd(20480, c.cache_read)
            + usd(6144 - 4096, c.cache_write)
            + usd(4096, c.cache_write_1h)
            + usd(942, c.output)
            + 2 * web_search(c)
        ),
    ),
    (  # below the 200k context tier; image tokens have no price of their own: billed as input
        "gemini_thoughts",
        "google:gemini-2.5-pro",
        lambda c: usd(15232 - 12288, c.input) + usd(12288, c.cache_read) + usd(1105 + 2310, c.output),
    ),
    (
        "bedrock_converse_cache",
        BEDROCK_SONNET,
        lambda c: (
            usd(312, c.input)
            + usd(9216, c.cache_read)
            + usd(3072 - 2048, c.cache_write)
            + usd(2048, c.cache_write_1h)
            + usd(587, c.output)
        ),
    ),
    ("mistral_chat", "mistral:mistral-large-latest", lambda c: usd(2841, c.input) + usd(403, c.output)),
    (
        "deepseek_chat",
        "deepseek:deepseek-chat",
        lambda c: usd(3150 - 2944, c.input) + usd(2944, c.cache_read) + usd(487, c.output),
    ),
]
SPECS = {name: spec for name, spec, _ in PRICING}


def test_every_fixture_is_covered() -> None:
    names = {p.stem for p in DATA.glob("*.json")}
    assert names == set(EXPECTED) == {name for name, _, _ in PRICING}
    assert set(SDK) == names - {"bedrock_converse_cache"}  # boto3 returns plain dicts


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dict_response_and_its_usage_part(name: str) -> None:
    d = load(name)
    assert llmdb.usage(d) == EXPECTED[name]
    part = d["usage"] if "usage" in d else d["usageMetadata"]
    # The part alone reads the same, except the tier that only the whole response reports.
    assert llmdb.usage(part) == replace(EXPECTED[name], service_tier=None)


@pytest.mark.parametrize("name", sorted(SDK))
def test_sdk_object_and_its_usage_part(name: str) -> None:
    d = load(name)
    response, part = SDK[name](d)
    assert llmdb.usage(response) == llmdb.usage(d) == EXPECTED[name]
    assert llmdb.usage(part) == replace(EXPECTED[name], service_tier=None)
    spec = SPECS[name]
    assert llmdb.cost(spec, usage=response).total == pytest.approx(llmdb.cost(spec, usage=d).total, rel=1e-12)
    assert llmdb.cost(spec, usage=part).usage == replace(EXPECTED[name], service_tier=None)


@pytest.mark.parametrize("name", sorted(SDK))
def test_sdk_model_dump_reads_the_same(name: str) -> None:
    """The SDK's own dump (snake_case for Gemini, nulls for unset fields) reads like the REST JSON."""
    response, _ = SDK[name](load(name))
    assert llmdb.usage(response.model_dump(mode="json")) == EXPECTED[name]
    assert llmdb.usage(response.model_dump(mode="json", exclude_none=True)) == EXPECTED[name]


@pytest.mark.parametrize(("name", "spec", "by_hand"), PRICING, ids=[p[0] for p in PRICING])
def test_cost_matches_the_catalog_prices(name: str, spec: str, by_hand: Callable[[Cost], float]) -> None:
    d = load(name)
    m = llmdb.get(spec)
    assert m.cost is not None
    expected = by_hand(m.cost)
    breakdown = llmdb.cost(spec, usage=d)
    assert breakdown.total == pytest.approx(expected, rel=1e-12)
    assert breakdown.total > 0
    assert breakdown.usage == llmdb.usage(d) == EXPECTED[name]
    assert breakdown.tier is None
    assert breakdown.estimated == ()
    assert breakdown.spec == m.spec
    assert breakdown.service_tier == ("flex" if name == "openai_responses_reasoning" else None)


def test_parts_of_the_anthropic_breakdown() -> None:
    c = llmdb.get("anthropic:claude-sonnet-4-5").cost
    assert c is not None
    b = llmdb.cost("anthropic:claude-sonnet-4-5", usage=Message.model_validate(load("anthropic_cache")))
    assert b.input == pytest.approx(usd(1873, c.input))
    assert b.cache_read == pytest.approx(usd(20480, c.cache_read))
    assert b.cache_write == pytest.approx(usd(2048, c.cache_write) + usd(4096, c.cache_write_1h))
    assert b.per_unit == {"web_searches": pytest.approx(2 * web_search(c))}
    assert b.reasoning == 0.0


def test_per_unit_keywords_add_to_a_response_usage() -> None:
    c = llmdb.get("anthropic:claude-sonnet-4-5").cost
    assert c is not None
    b = llmdb.cost("anthropic:claude-sonnet-4-5", usage=load("anthropic_cache"), web_searches=1)
    assert b.per_unit == {"web_searches": pytest.approx(3 * web_search(c))}
    with pytest.raises(llmdb.InvalidUsage, match="usage web_searches: expected a non-negative integer, got -1"):
        llmdb.cost("anthropic:claude-sonnet-4-5", usage=load("anthropic_cache"), web_searches=-1)


def test_standard_overrides_a_reported_tier() -> None:
    c = llmdb.get("openai:gpt-5").cost
    assert c is not None and c.input is not None and c.cache_read is not None and c.output is not None
    b = llmdb.cost("openai:gpt-5", usage=load("openai_responses_reasoning"), service_tier="standard")
    assert b.service_tier is None
    assert b.total == pytest.approx(usd(4210 - 3968, c.input) + usd(3968, c.cache_read) + usd(1876, c.output))


def test_explicit_service_tier_overrides_the_reported_one() -> None:
    c = llmdb.get("openai:gpt-5").cost
    assert c is not None and c.priority is not None
    b = llmdb.cost("openai:gpt-5", usage=load("openai_responses_reasoning"), service_tier="priority")
    assert b.service_tier == "priority"
    p = c.priority
    assert b.total == pytest.approx(usd(4210 - 3968, p.input) + usd(3968, p.cache_read) + usd(1876, p.output))


# --- api= ---------------------------------------------------------------------------------------------------------


def test_api_forces_a_shape() -> None:
    bare = {"input_tokens": 120, "output_tokens": 30}
    assert llmdb.usage(bare).api == "openai-responses"
    forced = llmdb.usage(bare, api="anthropic")
    assert forced == llmdb.Usage(input_tokens=120, output_tokens=30, api="anthropic")
    assert llmdb.usage({"inputTokens": 7, "outputTokens": 1}, api="converse").api == "bedrock"


def test_unknown_api_name_lists_the_valid_ones() -> None:
    with pytest.raises(llmdb.InvalidUsage, match="unknown api 'cohere'") as info:
        llmdb.usage({"input_tokens": 1, "output_tokens": 1}, api="cohere")
    assert isinstance(info.value, llmdb.LLMDBError)
    assert all(name in str(info.value) for name in llmdb.APIS)


# --- bad input ----------------------------------------------------------------------------------------------------


def test_unknown_shape_names_the_fields_seen() -> None:
    with pytest.raises(llmdb.InvalidUsage, match=r"fields \['bar', 'foo'\]"):
        llmdb.usage({"foo": 1, "bar": 2})

    class Opaque:
        def __init__(self) -> None:
            self.tokens_used = 5

    with pytest.raises(llmdb.InvalidUsage, match=r"Opaque with fields \['tokens_used'\]"):
        llmdb.usage(Opaque())
    with pytest.raises(llmdb.InvalidUsage, match=r"cannot read usage from object"):
        llmdb.usage(object())


@pytest.mark.parametrize(
    ("usage", "message"),
    [
        ({"prompt_tokens": -5, "completion_tokens": 1}, "prompt_tokens: expected a non-negative token count, got -5"),
        (
            {"prompt_tokens": "12", "completion_tokens": 1},
            "prompt_tokens: .* got '12'",
        ),
        ({"prompt_tokens": 10, "completion_tokens": True}, "completion_tokens: .* got True"),
        ({"input_tokens": 10, "output_tokens": 2.5}, "output_tokens: .* got 2.5"),
        (
            {"prompt_tokens": 100, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 200}},
            r"cache_read_tokens 200 exceeds input_tokens 100",
        ),
        (
            {"prompt_tokens": 10, "completion_tokens": 50, "completion_tokens_details": {"reasoning_tokens": 80}},
            r"reasoning_tokens 80 exceeds output_tokens 50",
        ),
        ({"promptTokenCount": -1, "candidatesTokenCount": 3}, "promptTokenCount: .* got -1"),
    ],
)
def test_bad_counts_name_the_field(usage: dict[str, Any], message: str) -> None:
    with pytest.raises(llmdb.InvalidUsage, match=message):
        llmdb.usage(usage)


def test_negative_count_in_a_whole_response() -> None:
    d = load("openai_chat_cached")
    d["usage"]["prompt_tokens"] = -5
    with pytest.raises(llmdb.InvalidUsage, match="prompt_tokens"):
        llmdb.usage(d)
    with pytest.raises(llmdb.InvalidUsage, match="prompt_tokens"):
        llmdb.cost("openai:gpt-4o", usage=d)


def test_streamed_completion_without_usage() -> None:
    d = load("openai_chat_cached")
    d["usage"] = None
    for response in (d, ChatCompletion.model_validate(d)):
        with pytest.raises(llmdb.InvalidUsage, match="include_usage"):
            llmdb.usage(response)
        with pytest.raises(llmdb.InvalidUsage, match="include_usage"):
            llmdb.cost("openai:gpt-4o", usage=response)


def test_usage_and_counts_together_are_refused() -> None:
    with pytest.raises(llmdb.InvalidUsage, match="not both"):
        llmdb.cost("openai:gpt-4o", usage=load("openai_chat_cached"), input_tokens=5)
    for name in ("cache_read_tokens", "reasoning_tokens", "cache_write_tokens"):  # any token count, named
        with pytest.raises(llmdb.InvalidUsage, match=rf"not both \(also given: {name}\)"):
            llmdb.cost("openai:gpt-4o", usage=load("openai_chat_cached"), **{name: 5})


def test_cli_usage_with_a_token_count_is_refused() -> None:
    done = cli("cost", "openai:gpt-4o", "--usage", str(DATA / "openai_chat_cached.json"), "--reasoning-tokens", "3")
    assert done.returncode == 2
    assert "not both (also given: reasoning_tokens)" in done.stderr


def test_service_tier_the_model_lacks() -> None:
    c = llmdb.get("openai:gpt-4o").cost
    assert c is not None and c.flex is None
    with pytest.raises(llmdb.PriceUnknown, match="no flex prices"):
        llmdb.cost("openai:gpt-4o", input_tokens=10, output_tokens=1, service_tier="flex")
    flexed = load("openai_responses_reasoning")  # a response saying flex, priced for a model without flex
    with pytest.raises(llmdb.PriceUnknown, match="openai:gpt-4o has no flex prices"):
        llmdb.cost("openai:gpt-4o", usage=flexed)


# --- CLI ----------------------------------------------------------------------------------------------------------


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmdb.cli", *args], input=stdin, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("name", "spec"),
    [("anthropic_cache", "anthropic:claude-sonnet-4-5"), ("openai_responses_reasoning", "openai:gpt-5")],
)
def test_cli_cost_from_a_usage_file(name: str, spec: str) -> None:
    out = cli("cost", spec, "--usage", str(DATA / f"{name}.json"), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["total"] == pytest.approx(llmdb.cost(spec, usage=load(name)).total, rel=1e-12)
    assert data["service_tier"] == ("flex" if name == "openai_responses_reasoning" else None)


def test_cli_cost_from_stdin() -> None:
    text = (DATA / "gemini_thoughts.json").read_text(encoding="utf-8")
    out = cli("cost", "google:gemini-2.5-pro", "--usage", "-", "--json", stdin=text)
    assert out.returncode == 0, out.stderr
    expected = llmdb.cost("google:gemini-2.5-pro", usage=load("gemini_thoughts")).total
    assert json.loads(out.stdout)["total"] == pytest.approx(expected, rel=1e-12)


def test_cli_usage_file_that_is_not_json(tmp_path: Path) -> None:
    bad = tmp_path / "response.txt"
    bad.write_text("HTTP/1.1 200 OK\n<html>not json</html>\n", encoding="utf-8")
    out = cli("cost", "openai:gpt-4o", "--usage", str(bad), "--json")
    assert out.returncode == 2
    assert out.stderr.startswith(f"llmdb: --usage {bad}: not JSON")
    assert out.stdout == ""
