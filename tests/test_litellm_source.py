"""LiteLLM's model map as an upstream: how its entries map onto llmdb's fields and providers (checked against
the real file, read here), how bad input is reported, the daemon's fetch limits for it, and the conflict
report between models.dev and LiteLLM (`llmdbd check --conflicts`)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from catalogs import API, LITELLM
from upstream_server import Upstream as Server

from llmdb.schema import BuildIssue, Model
from llmdbd.config import Upstream
from llmdbd.daemon.upstream import accept, fetch
from llmdbd.engine import BuiltCatalog, build
from llmdbd.errors import BuildError, FetchError
from llmdbd.sources import litellm, modelsdev

ROOT = Path(__file__).resolve().parents[1]
Entry = dict[str, Any]


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    """LiteLLM's map as JSON, the reference every mapping test reads its expectations from."""
    doc: dict[str, Any] = json.loads(LITELLM.read_bytes())
    return doc


@pytest.fixture(scope="module")
def lite() -> BuiltCatalog:
    """A build of LiteLLM's map alone."""
    return build([litellm.load_path(LITELLM)])


@pytest.fixture(scope="module")
def sole(raw: dict[str, Any]) -> dict[str, str]:
    """Key → spec for the entries that are the only key of their model (so the model holds their values)."""
    by_spec: dict[str, list[str]] = defaultdict(list)
    for key, entry in raw.items():
        if key == "sample_spec" or not isinstance(entry, dict):
            continue
        provider = entry.get("litellm_provider")
        if isinstance(provider, str):
            by_spec[f"{litellm.provider_of(provider)}:{litellm.model_id(key, provider)}"].append(key)
    return {keys[0]: spec for spec, keys in by_spec.items() if len(keys) == 1}


def pick(raw: dict[str, Any], sole: dict[str, str], test: Callable[[Entry], bool], n: int = 3) -> list[str]:
    """Up to `n` sole keys (sorted) whose entry passes `test`; at least one, or the data has changed shape."""
    found = sorted(k for k in sole if test(raw[k]))[:n]
    assert found, "no entry in the LiteLLM file has the fields this test needs"
    return found


def number(entry: Entry, *fields: str) -> bool:
    return all(isinstance(entry.get(f), (int, float)) and not isinstance(entry.get(f), bool) for f in fields)


def model_of(catalog: BuiltCatalog, sole: dict[str, str], key: str) -> Model:
    model = catalog.models[sole[key]]
    assert key in model.names
    return model


def per_million(value: float) -> Any:
    return pytest.approx(value * 1e6, rel=1e-9)


# --- 1. mapping, read from the real file -------------------------------------------------------------------


def test_token_prices_are_per_million(raw: dict[str, Any], sole: dict[str, str], lite: BuiltCatalog) -> None:
    fields = ("input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost")
    keys = pick(raw, sole, lambda e: number(e, *fields), n=6)
    for key in keys:
        cost = model_of(lite, sole, key).cost
        assert cost is not None, key
        assert cost.input == per_million(raw[key]["input_cost_per_token"]), key
        assert cost.output == per_million(raw[key]["output_cost_per_token"]), key
        assert cost.cache_read == per_million(raw[key]["cache_read_input_token_cost"]), key


@pytest.mark.parametrize(("suffix", "service"), [("batches", "batch"), ("flex", "flex"), ("priority", "priority")])
def test_service_tiers(
    raw: dict[str, Any], sole: dict[str, str], lite: BuiltCatalog, suffix: str, service: str
) -> None:
    fields = (f"input_cost_per_token_{suffix}", f"output_cost_per_token_{suffix}")
    keys = pick(raw, sole, lambda e: number(e, *fields))
    if suffix != "flex":
        assert "gpt-4o" in sole and number(raw["gpt-4o"], *fields)  # the brief's example entry has these
        keys = ["gpt-4o", *keys]
    for key in keys:
        cost = model_of(lite, sole, key).cost
        assert cost is not None, key
        prices = getattr(cost, service)
        assert prices is not None, key
        assert prices.input == per_million(raw[key][fields[0]]), key
        assert prices.output == per_million(raw[key][fields[1]]), key


def test_above_200k_is_a_context_tier(raw: dict[str, Any], sole: dict[str, str], lite: BuiltCatalog) -> None:
    keys = pick(raw, sole, lambda e: number(e, "input_cost_per_token", "input_cost_per_token_above_200k_tokens"))
    for key in keys:
        cost = model_of(lite, sole, key).cost
        assert cost is not None, key
        assert cost.input == per_million(raw[key]["input_cost_per_token"]), key
        tiers = [t for t in cost.tiers if t.above == 200_000]
        assert len(tiers) == 1, (key, cost.tiers)
        assert tiers[0].input == per_million(raw[key]["input_cost_per_token_above_200k_tokens"]), key


def test_tiered_pricing(raw: dict[str, Any], sole: dict[str, str], lite: BuiltCatalog) -> None:
    def two_ranges(entry: Entry) -> bool:
        tiers = entry.get("tiered_pricing")
        return (
            isinstance(tiers, list)
            and len(tiers) >= 2
            and all(isinstance(t, dict) and number(t, "input_cost_per_token") for t in tiers)
            and tiers[0].get("range", [None])[0] == 0
        )

    assert "dashscope/qwen-flash" in sole and two_ranges(raw["dashscope/qwen-flash"])
    for key in ["dashscope/qwen-flash", *pick(raw, sole, two_ranges)]:
        spans = raw[key]["tiered_pricing"]
        cost = model_of(lite, sole, key).cost
        assert cost is not None, key
        assert cost.input == per_million(spans[0]["input_cost_per_token"]), key
        above = int(spans[1]["range"][0])
        assert above > 0
        tier = next((t for t in cost.tiers if t.above == above), None)
        assert tier is not None, (key, cost.tiers)
        assert tier.input == per_million(spans[1]["input_cost_per_token"]), key


@pytest.mark.parametrize(
    ("field", "unit"), [("output_cost_per_image", "image_output"), ("input_cost_per_second", "second_input")]
)
def test_per_unit_prices_are_unscaled(
    raw: dict[str, Any], sole: dict[str, str], lite: BuiltCatalog, field: str, unit: str
) -> None:
    for key in pick(raw, sole, lambda e: number(e, field) and e[field] > 0):
        cost = model_of(lite, sole, key).cost
        assert cost is not None and cost.per_unit is not None, key
        assert getattr(cost.per_unit, unit) == pytest.approx(raw[key][field], rel=1e-12), key


def test_one_hour_cache_writes_and_web_search_prices(
    raw: dict[str, Any], sole: dict[str, str], lite: BuiltCatalog
) -> None:
    one_hour = "cache_creation_input_token_cost_above_1hr"
    keys = pick(raw, sole, lambda e: number(e, "cache_creation_input_token_cost", one_hour))
    for key in keys:
        cost = model_of(lite, sole, key).cost
        assert cost is not None, key
        assert cost.cache_write == per_million(raw[key]["cache_creation_input_token_cost"]), key
        assert cost.cache_write_1h == per_million(raw[key][one_hour]), key
        assert one_hour not in model_of(lite, sole, key).extra, key
    search = "search_context_cost_per_query"
    keys = pick(
        raw, sole, lambda e: isinstance(e.get(search), dict) and number(e[search], "search_context_size_medium")
    )
    for key in keys:
        model = model_of(lite, sole, key)
        assert model.cost is not None and model.cost.per_unit is not None, key
        assert model.cost.per_unit.web_search == raw[key][search]["search_context_size_medium"], key
        assert model.extra[search] == raw[key][search], key  # all three sizes kept


def test_limits_and_mode(raw: dict[str, Any], sole: dict[str, str], lite: BuiltCatalog) -> None:
    keys = pick(raw, sole, lambda e: number(e, "max_input_tokens", "max_output_tokens") and "mode" in e, n=6)
    for key in keys:
        model = model_of(lite, sole, key)
        assert model.limits.context == raw[key]["max_input_tokens"], key
        assert model.limits.output == raw[key]["max_output_tokens"], key
        assert model.mode == raw[key]["mode"], key
    modes = {"image_generation", "audio_transcription", "rerank"}
    for mode in modes:
        for key in pick(raw, sole, lambda e, mode=mode: e.get("mode") == mode, n=2):
            assert model_of(lite, sole, key).mode == mode, key


def test_deprecation_date(raw: dict[str, Any], sole: dict[str, str], lite: BuiltCatalog) -> None:
    for key in pick(raw, sole, lambda e: isinstance(e.get("deprecation_date"), str), n=5):
        assert model_of(lite, sole, key).lifecycle.deprecation_date == raw[key]["deprecation_date"], key


def test_a_successor_is_the_replacement(lite: BuiltCatalog) -> None:
    """LiteLLM's `metadata.successor` (three Together AI entries) is `lifecycle.replacement`, as a spec that exists."""
    kimi = lite.models["togetherai:moonshotai/Kimi-K2-Instruct"]
    assert kimi.lifecycle.replacement == "togetherai:moonshotai/Kimi-K3"
    replaced = {m.spec: m.lifecycle.replacement for m in lite.models.values() if m.lifecycle.replacement}
    litellm_ones = {s: r for s, r in replaced.items() if s.startswith("togetherai:")}
    assert len(litellm_ones) == 3 and all(r in lite.models for r in litellm_ones.values())


@pytest.mark.parametrize("flag", [True, False])
def test_function_calling_is_tools(raw: dict[str, Any], sole: dict[str, str], lite: BuiltCatalog, flag: bool) -> None:
    for key in pick(raw, sole, lambda e: e.get("supports_function_calling") is flag):
        assert model_of(lite, sole, key).capabilities.tools.enabled is flag, key


def test_vision_is_image_input(raw: dict[str, Any], sole: dict[str, str], lite: BuiltCatalog) -> None:
    for key in pick(raw, sole, lambda e: e.get("supports_vision") is True and e.get("mode") == "chat", n=5):
        assert "image" in model_of(lite, sole, key).modalities.input, key


def test_embedding_mode(raw: dict[str, Any], sole: dict[str, str], lite: BuiltCatalog) -> None:
    for key in pick(raw, sole, lambda e: e.get("mode") == "embedding", n=5):
        model = model_of(lite, sole, key)
        assert model.mode == "embedding", key
        assert model.capabilities.embeddings is True, key
        assert model.capabilities.chat is False, key


@pytest.mark.parametrize("field", ["supports_web_search", "source"])
def test_unmapped_fields_land_in_extra(
    raw: dict[str, Any], sole: dict[str, str], lite: BuiltCatalog, field: str
) -> None:
    for key in pick(raw, sole, lambda e: field in e):
        assert model_of(lite, sole, key).extra[field] == raw[key][field], key


def test_every_placed_key_is_a_name_of_a_model(raw: dict[str, Any], lite: BuiltCatalog) -> None:
    names = {n for m in lite.models.values() for n in m.names}
    placed = {k for k, e in raw.items() if k != "sample_spec" and isinstance(e, dict) and "litellm_provider" in e}
    assert len(placed) > 4000
    assert placed <= names, sorted(placed - names)[:10]


@pytest.mark.parametrize(
    ("litellm_provider", "prefix", "provider"),
    [
        ("bedrock_converse", "", "amazon_bedrock"),
        ("bedrock", "", "amazon_bedrock"),
        ("vertex_ai-anthropic_models", "vertex_ai/", "google_vertex_anthropic"),
        ("gemini", "gemini/", "google"),
        ("azure_ai", "azure_ai/", "azure_ai"),
        ("fireworks_ai", "fireworks_ai/", "fireworks_ai"),
    ],
)
def test_placement(
    raw: dict[str, Any], sole: dict[str, str], lite: BuiltCatalog, litellm_provider: str, prefix: str, provider: str
) -> None:
    """Each key lands at its provider, its id the key without the provider's prefix (`prefix`, when it has one)."""
    assert litellm.provider_of(litellm_provider) == provider
    keys = pick(raw, sole, lambda e: e.get("litellm_provider") == litellm_provider, n=len(raw))
    prefixed = [k for k in keys if prefix and k.startswith(prefix)][:5]
    assert bool(prefixed) == bool(prefix), keys[:5]
    for key in keys[:5] + prefixed:
        model = model_of(lite, sole, key)
        assert model.provider == provider and model.spec == f"{provider}:{model.id}", key
        assert model.id == key.removeprefix(prefix) if key in prefixed else model.id == key or "/" in key, key
    assert provider in lite.providers


def test_provider_table() -> None:
    """Providers with no table entry keep their canonical id; others are renamed."""
    assert "azure_ai" not in litellm.PROVIDERS and litellm.provider_of("azure_ai") == "azure_ai"
    assert litellm.provider_of("vertex_ai-mistral_models") == "google_vertex"
    assert litellm.provider_of("Some-New.Provider") == "some_new_provider"
    assert litellm.model_id("vertex_ai/claude-haiku-4-5", "vertex_ai-anthropic_models") == "claude-haiku-4-5"
    assert litellm.model_id("gemini/gemini-2.5-pro", "gemini") == "gemini-2.5-pro"
    assert litellm.model_id("meta-llama/Llama-3-8b", "together_ai") == "meta-llama/Llama-3-8b"


# --- 2. bad input ------------------------------------------------------------------------------------------


def build_changed(raw: dict[str, Any], changes: dict[str, Any]) -> BuiltCatalog:
    """The real file with some entries replaced (None deletes), loaded from bytes and built alone."""
    doc = {**raw, **changes}
    return build([litellm.load_bytes(json.dumps(doc).encode(), file="litellm-test.json")])


def issues_for(catalog: BuiltCatalog, model: str, field: str | None = None) -> list[BuildIssue]:
    found = [i for i in catalog.report.issues if i.model == model and (field is None or i.field == field)]
    assert found, [str(i) for i in catalog.report.issues if i.stage != "merge"]
    for issue in found:
        assert issue.source == "litellm" and issue.file == "litellm-test.json", issue
    return found


def assert_rest_builds(catalog: BuiltCatalog, lite: BuiltCatalog, extra: int = 0) -> None:
    assert len(catalog.models) == len(lite.models) + extra
    assert catalog.models["openai:gpt-4o"].names == ("gpt-4o",)


@pytest.mark.parametrize(
    ("field", "value", "path", "reason"),
    [
        ("input_cost_per_token", "cheap", "cost.input", "got `str`"),
        ("max_input_tokens", "lots", "limits.context", "got `str`"),
        ("output_cost_per_token", -1e-6, "cost.output", ">= 0"),
    ],
)
def test_bad_values_are_dropped_with_a_warning(
    raw: dict[str, Any], lite: BuiltCatalog, field: str, value: Any, path: str, reason: str
) -> None:
    key = "gpt-4o"
    catalog = build_changed(raw, {key: {**raw[key], field: value}})
    (issue,) = issues_for(catalog, key, path)
    assert issue.severity == "warning" and issue.stage == "validate" and issue.provider == "openai"
    assert key in issue.message and "dropped" in issue.message and reason in issue.message
    model = catalog.models["openai:gpt-4o"]
    assert model.cost is not None
    assert model.cost.input == (None if path == "cost.input" else per_million(raw[key]["input_cost_per_token"]))
    assert model.cost.output == (None if path == "cost.output" else per_million(raw[key]["output_cost_per_token"]))
    assert model.limits.context == (None if path == "limits.context" else raw[key]["max_input_tokens"])
    assert model.limits.output == raw[key]["max_output_tokens"]
    assert_rest_builds(catalog, lite)


def test_bad_value_of_a_prefixed_key_names_the_key(raw: dict[str, Any], sole: dict[str, str]) -> None:
    key = "gemini/gemini-2.5-pro"
    assert key in sole and number(raw[key], "input_cost_per_token")
    catalog = build_changed(raw, {key: {**raw[key], "input_cost_per_token": "cheap"}})
    (issue,) = issues_for(catalog, "gemini-2.5-pro", "cost.input")
    assert issue.provider == "google" and key in issue.message
    cost = catalog.models["google:gemini-2.5-pro"].cost
    assert cost is not None and cost.input is None
    assert cost.output == per_million(raw[key]["output_cost_per_token"])


@pytest.mark.parametrize("provider", [None, 5, "", "no spaces here", "a/b", ["openai"]])
def test_entry_without_a_usable_provider_is_not_placed(raw: dict[str, Any], lite: BuiltCatalog, provider: Any) -> None:
    entry = {"mode": "chat", "input_cost_per_token": 1e-6}
    if provider is not None:
        entry["litellm_provider"] = provider
    catalog = build_changed(raw, {"gpt-4o-orphan": entry})
    (issue,) = issues_for(catalog, "gpt-4o-orphan")
    assert issue.stage == "load" and issue.field == "litellm_provider" and "not placed" in issue.message
    assert not any("gpt-4o-orphan" in m.names or m.id == "gpt-4o-orphan" for m in catalog.models.values())
    assert_rest_builds(catalog, lite)


def test_unknown_provider_becomes_its_own(raw: dict[str, Any], lite: BuiltCatalog) -> None:
    entry = {"litellm_provider": "brandnew_ai", "mode": "chat", "input_cost_per_token": 3e-6}
    catalog = build_changed(raw, {"brandnew_ai/shiny-1": entry})
    assert "brandnew_ai" not in lite.providers and "brandnew_ai" in catalog.providers
    model = catalog.models["brandnew_ai:shiny-1"]
    assert model.names == ("brandnew_ai/shiny-1",)
    assert model.cost is not None and model.cost.input == pytest.approx(3.0)
    assert model.extra["litellm_provider"] == "brandnew_ai"
    assert_rest_builds(catalog, lite, extra=1)


@pytest.mark.parametrize("entry", [[1, 2], 7, "gpt-4o", None])
def test_non_object_entry_is_reported(raw: dict[str, Any], lite: BuiltCatalog, entry: Any) -> None:
    catalog = build_changed(raw, {"weird-entry": entry})
    (issue,) = issues_for(catalog, "weird-entry")
    assert issue.stage == "load" and "not an object" in issue.message and "not placed" in issue.message
    assert_rest_builds(catalog, lite)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>502 Bad Gateway</html>", "not valid JSON"),
        (b'{"gpt-4o": {"litellm_provider": "openai"', "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        (b'[{"litellm_provider": "openai"}]', "expected an object of models, got list"),
        (b'"models"', "expected an object of models, got str"),
    ],
)
def test_unusable_body_is_a_load_error(body: bytes, reason: str) -> None:
    layer = litellm.load_bytes(body, file="bad.json")
    assert not layer.fragments
    with pytest.raises(BuildError, match=reason):
        build([layer])
    models_dev = modelsdev.load_path(API)
    catalog = build([layer, models_dev])  # beside a usable upstream, the build stands and reports it
    (issue,) = [i for i in catalog.report.issues if i.source == "litellm"]
    assert issue.severity == "error" and issue.stage == "load" and reason in issue.message
    assert issue.file == "bad.json"
    assert "openai:gpt-4o" in catalog.models


# --- daemon fetch limits -----------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[Server]:
    with Server() as s:
        yield s


def padded_map(size: int) -> bytes:
    """The real LiteLLM file padded with whitespace to `size` bytes: valid JSON, only too big."""
    body = LITELLM.read_bytes()
    return body + b" " * (size - len(body))


def test_100mb_body_is_refused_by_its_declared_size(server: Server) -> None:
    server.body = padded_map(100 * 1024 * 1024)
    settings = Upstream(url=server.url, max_bytes=64 * 1024 * 1024)
    with pytest.raises(FetchError, match=f"over the {64 * 1024 * 1024} limit"):
        anyio.run(fetch, settings, None)
    server.body = b""  # free it


def test_body_without_length_is_cut_at_the_limit(server: Server) -> None:
    server.mode = "huge"  # streams 128 MB with no Content-Length; the fetch must stop at max_bytes (64 MB)
    settings = Upstream(url=server.url, max_bytes=64 * 1024 * 1024)
    with pytest.raises(FetchError, match=f"over the {64 * 1024 * 1024} byte limit"):
        anyio.run(fetch, settings, None)


def test_body_just_over_a_small_limit_is_refused_and_under_it_accepted(server: Server) -> None:
    server.body = LITELLM.read_bytes()
    with pytest.raises(FetchError, match="limit"):
        anyio.run(fetch, Upstream(url=server.url, max_bytes=len(server.body) - 1), None)
    got = anyio.run(fetch, Upstream(url=server.url, max_bytes=len(server.body)), None)
    assert got is not None and got[0] == server.body
    layer = accept("litellm", got[0], 0, 0.5, server.url)
    assert sum(1 for f in layer.fragments if f.model is not None) > 4000


def test_accept_refuses_a_body_that_shrinks_too_much(raw: dict[str, Any]) -> None:
    full = LITELLM.read_bytes()
    before = sum(1 for f in accept("litellm", full, 0, 0.5, "u").fragments if f.model is not None)
    assert before > 4000
    kept = dict(list(raw.items())[: len(raw) // 3])
    small = json.dumps(kept).encode()
    with pytest.raises(FetchError, match=f"down from {before}"):
        accept("litellm", small, before, 0.5, "u")
    assert accept("litellm", small, before, 0.7, "u").fragments  # within a looser max_shrink
    assert accept("litellm", full, before, 0.5, "u").fragments
    with pytest.raises(FetchError, match="not valid JSON"):
        accept("litellm", b"<html>", before, 0.5, "u")
    with pytest.raises(FetchError, match="expected an object of models"):
        accept("litellm", b"[]", before, 0.5, "u")


# --- 3. conflict report ------------------------------------------------------------------------------------


def check(*extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "llmdbd", "check", "--upstream", str(API), "--litellm", str(LITELLM)]
    return subprocess.run([*command, "--conflicts", *extra], capture_output=True, text=True, timeout=60, cwd=ROOT)


@pytest.fixture(scope="module")
def conflicts_json() -> list[dict[str, Any]]:
    done = check("--json")
    assert done.returncode == 0, done.stderr[-2000:]
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def test_conflicts_name_both_upstreams_with_different_values(conflicts_json: list[dict[str, Any]]) -> None:
    assert len(conflicts_json) > 100
    for c in conflicts_json:
        assert set(c) == {"spec", "field", "values", "chosen"}, c
        assert {"models.dev", "litellm"} <= set(c["values"]), c
        a, b = c["values"]["models.dev"], c["values"]["litellm"]
        assert a != b and not (isinstance(a, float) and isinstance(b, float) and math.isclose(a, b)), c
        # no patches: models.dev is the higher upstream, but its 0 is no price where LiteLLM has one
        assert c["chosen"] == ("litellm" if a == 0 and b else "models.dev"), c


def test_a_bedrock_price_conflict_matches_both_files(
    conflicts_json: list[dict[str, Any]], raw: dict[str, Any], sole: dict[str, str]
) -> None:
    api = json.loads(API.read_bytes())["amazon-bedrock"]["models"]
    spec_to_key = {spec: key for key, spec in sole.items()}
    bedrock = [c for c in conflicts_json if c["spec"].startswith("amazon_bedrock:") and c["field"] == "cost.input"]
    assert bedrock
    checkable = [c for c in bedrock if c["spec"] in spec_to_key and c["spec"].removeprefix("amazon_bedrock:") in api]
    assert checkable, bedrock[:5]
    c = checkable[0]
    model_id, key = c["spec"].removeprefix("amazon_bedrock:"), spec_to_key[c["spec"]]
    assert c["values"]["models.dev"] == pytest.approx(api[model_id]["cost"]["input"], rel=1e-9)
    assert c["values"]["litellm"] == per_million(raw[key]["input_cost_per_token"])


def test_conflicts_text_form(conflicts_json: list[dict[str, Any]]) -> None:
    done = check()
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0] == f"{len(conflicts_json)} conflict(s) between upstreams"
    assert len(lines) == len(conflicts_json) + 1
    first = conflicts_json[0]
    assert lines[1].startswith(f"{first['spec']} {first['field']}: ") and lines[1].endswith("(serving models.dev)")
