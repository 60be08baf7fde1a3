"""Enrich stage: fills gaps only, from the id and the provider quirks table."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmdbd.engine import BuiltCatalog
from llmdbd.engine.enrich import base_id, enrich
from llmdbd.engine.merge import FieldSource

BASE_IDS: list[tuple[str, str]] = [
    # --- review findings (must-fix) ---
    ("command-r-08-2024", "command-r"),  # -MM-YYYY stripped entirely
    ("gemini-2.5-flash-preview-09-2025", "gemini-2.5-flash-preview"),
    ("deepseek-v3-0324", "deepseek-v3"),  # one date only, no compounding into -v3
    ("kwaipilot/kat-coder-pro-v2", "kat-coder-pro-v2"),  # generation, not a version
    ("kat-coder-pro-v2", "kat-coder-pro-v2"),
    # --- review findings (keep) ---
    ("gpt-4o-2024-08-06", "gpt-4o"),
    ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5"),
    ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
    ("o1-latest", "o1"),
    ("openrouter/openai/gpt-4o", "gpt-4o"),
    ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
    ("llama-3.1-405b", "llama-3.1-405b"),
    # --- API-version suffixes ---
    ("claude-opus-4-6@default", "claude-opus-4-6"),
    ("us.anthropic.claude-opus-4-1-20250805-v1:0", "us.anthropic.claude-opus-4-1"),
    ("amazon.nova-pro-v1:0", "amazon.nova-pro"),
    ("openai.gpt-oss-120b-1:0", "openai.gpt-oss-120b"),  # bedrock -N:M without the v
    ("qwen.qwen3-235b-a22b-2507-v1:0", "qwen.qwen3-235b-a22b"),  # version then one date
    ("mistral.pixtral-large-2502-v1:0", "mistral.pixtral-large"),
    ("~anthropic/claude-sonnet-latest", "claude-sonnet"),
    ("mistral/mistral-large-latest", "mistral-large"),
    ("chatgpt-4o-latest", "chatgpt-4o"),
    # --- date suffixes ---
    ("openai/gpt-4o-mini-2024-07-18", "gpt-4o-mini"),  # -YYYY-MM-DD
    ("qwen/qwen3.5-plus-20260420", "qwen3.5-plus"),  # -YYYYMMDD
    ("cohere/command-r7b-12-2024", "command-r7b"),  # -MM-YYYY
    ("command-a-03-2025", "command-a"),
    ("doubao-seed-1-6-thinking-250715", "doubao-seed-1-6-thinking"),  # -YYMMDD
    ("deepseek/deepseek-v3.2-251201", "deepseek-v3.2"),
    ("gemini-2.5-pro-preview-05-06", "gemini-2.5-pro-preview"),  # -MM-DD
    ("gemini-2.0-flash-thinking-exp-01-21", "gemini-2.0-flash-thinking-exp"),
    ("gemini-2.0-flash-thinking-exp-1219", "gemini-2.0-flash-thinking-exp"),  # -MMDD, same base as above
    ("qwen/qwen3.5-flash-02-23", "qwen3.5-flash"),
    ("deepseek-ai/DeepSeek-R1-0528", "DeepSeek-R1"),  # case kept
    ("moonshotai/kimi-k2-0905", "kimi-k2"),
    ("KAT-Coder-Exp-72B-1010", "KAT-Coder-Exp-72B"),
    ("openai/gpt-4-0314", "gpt-4"),
    ("mistralai/mistral-large-2411", "mistral-large"),  # -YYMM
    ("qwen3-235b-a22b-instruct-2507", "qwen3-235b-a22b-instruct"),
    ("step-3.5-flash-2603", "step-3.5-flash"),
    ("mistralai/completion/models/Ministral-3-14B-Reasoning-2512", "Ministral-3-14B-Reasoning"),
    # --- left alone on purpose ---
    ("claude-sonnet-4-thinking:8192", "claude-sonnet-4-thinking:8192"),  # thinking budget, not :N version
    ("gemma3:12b", "gemma3:12b"),  # size tag
    ("claude-opus-4-5-20251101:thinking", "claude-opus-4-5-20251101:thinking"),  # date not at the end
    ("claude-sonnet-4-5-20250929-thinking", "claude-sonnet-4-5-20250929-thinking"),
    ("openai/gpt-4-1106-preview", "gpt-4-1106-preview"),
    ("deepseek/deepseek-r1-0528-qwen3-8b", "deepseek-r1-0528-qwen3-8b"),  # a distill, not a snapshot
    ("anthropic.claude-opus-4-6-v1", "anthropic.claude-opus-4-6-v1"),  # bare -vN is never stripped
    ("mistral-7b-instruct-v0.3", "mistral-7b-instruct-v0.3"),
    ("whisper-large-v3", "whisper-large-v3"),
    ("gemini-2.0-flash-001", "gemini-2.0-flash-001"),  # 3-digit revision
    ("text-embedding-ada-002", "text-embedding-ada-002"),
    ("workers-ai/@cf/baai/bge-base-en-v1.5", "bge-base-en-v1.5"),  # @ in an earlier path segment
    ("TEE/deepseek-v3.1", "deepseek-v3.1"),
    ("nvidia/llama-3.3-nemotron-super-49b-v1.5", "llama-3.3-nemotron-super-49b-v1.5"),
]
"""Real models.dev ids (and the review's cases): one API-version strip each, then at most one date suffix."""


@pytest.mark.parametrize(("model_id", "expected"), BASE_IDS)
def test_base_id_strips_version_then_one_date_suffix(model_id: str, expected: str) -> None:
    assert base_id(model_id) == expected


def _enrich(
    provider: str, model_id: str, record: dict[str, Any], set_by_source: tuple[str, ...] = ()
) -> tuple[dict[str, Any], dict[str, FieldSource]]:
    sources: dict[str, FieldSource] = {path: (0, False, ()) for path in set_by_source}
    models = {(provider, model_id): record}
    enrich(models, {(provider, model_id): sources}, 1)
    return record, sources


def test_fills_base_id_and_provider_model_id_only_when_missing_and_never_family() -> None:
    record, sources = _enrich("x", "foo-20240101", {"family": "bar"}, ("family",))
    assert record["family"] == "bar" and sources["family"][0] == 0
    assert record["base_id"] == "foo" and sources["base_id"][0] == 1
    assert record["provider_model_id"] == "foo-20240101" and sources["provider_model_id"][0] == 1
    record, sources = _enrich("x", "foo-20240101", {})
    assert "family" not in record and "family" not in sources  # one vocabulary: upstream's, never derived


def test_a_deleted_field_is_not_refilled() -> None:
    record, _ = _enrich("x", "foo-20240101", {}, ("base_id",))
    assert "base_id" not in record


def test_quirks_apply_only_where_the_capability_holds() -> None:
    tools = {"capabilities": {"tools": {"enabled": True}, "json": {"schema": False}}}
    record, sources = _enrich("openai", "gpt-4x", tools, ("capabilities.tools.enabled", "capabilities.json.schema"))
    assert record["capabilities"]["tools"]["strict"] is True
    assert record["capabilities"]["streaming"]["tool_calls"] is True
    assert "strict" not in record["capabilities"]["json"]
    assert sources["capabilities.tools.strict"][0] == 1


def test_quirks_never_override_a_source() -> None:
    record = {"capabilities": {"tools": {"enabled": True, "strict": False}}}
    record, _ = _enrich("openai", "gpt-4x", record, ("capabilities.tools.enabled", "capabilities.tools.strict"))
    assert record["capabilities"]["tools"]["strict"] is False


def test_quirks_apply_to_the_makers_models_only() -> None:
    given = ("capabilities.tools.enabled", "capabilities.json.schema")
    tools = {"capabilities": {"tools": {"enabled": True}, "json": {"schema": True}}}
    for provider, model_id in (("azure", "claude-sonnet-4-5"), ("azure", "deepseek-r1"), ("google", "gemma-3-27b")):
        record, sources = _enrich(provider, model_id, json.loads(json.dumps(tools)), given)
        assert "strict" not in record["capabilities"]["tools"], (provider, model_id)
        assert "parallel" not in record["capabilities"]["tools"], (provider, model_id)
        assert "capabilities.json.strict" not in sources, (provider, model_id)
    record, _ = _enrich("azure", "gpt-4o", json.loads(json.dumps(tools)), given)
    assert record["capabilities"]["tools"]["strict"] is True and record["capabilities"]["json"]["strict"] is True
    record, _ = _enrich("google", "gemini-2.5-pro", json.loads(json.dumps(tools)), given)
    assert record["capabilities"]["tools"]["parallel"] is True
    record, _ = _enrich("openai", "o3-mini", json.loads(json.dumps(tools)), given)
    assert "parallel" not in record["capabilities"]["tools"]  # the o-series refuses parallel_tool_calls
    assert record["capabilities"]["tools"]["strict"] is True


def test_no_enriched_model_of_another_maker_gets_openai_or_gemini_semantics(api_catalog: BuiltCatalog) -> None:
    checked = 0
    for spec, model in api_catalog.models.items():
        if model.provider == "azure" and not model.id.startswith(("gpt-", "o1", "o3", "o4", "chatgpt-", "codex-")):
            sources = api_catalog.model_sources[spec]
            assert sources.get("capabilities.tools.strict", (1,))[0] != 0, spec
            checked += 1
        if model.provider == "google" and model.id.startswith("gemma"):
            assert api_catalog.model_sources[spec].get("capabilities.tools.parallel", (1,))[0] != 0, spec
            checked += 1
    assert checked > 40


def test_family_is_upstreams_and_base_id_is_derived_for_every_model(api_catalog: BuiltCatalog) -> None:
    for spec, model in api_catalog.models.items():
        sources = api_catalog.model_sources[spec]
        assert "family" not in sources or sources["family"][0] != 0, spec  # 0 is `enrich`
        assert model.base_id is not None and sources["base_id"][0] in (0, 1), spec
    assert api_catalog.models["openai:gpt-4o-2024-08-06"].base_id == "gpt-4o"


def test_embedding_models_are_not_chat_models() -> None:
    record, _ = _enrich("x", "text-embedding-3-small", {"modalities": {"output": ["text"]}})
    assert record["capabilities"]["embeddings"] is True and record["capabilities"]["chat"] is False
    record, _ = _enrich("x", "some-llm", {"modalities": {"output": ["text"]}})
    assert record["capabilities"]["embeddings"] is False and record["capabilities"]["chat"] is True
    record, _ = _enrich("x", "image-gen", {"modalities": {"output": ["image"]}})
    assert record["capabilities"]["chat"] is False
    record, _ = _enrich("x", "bge-base-en-v1.5", {"modalities": {"output": ["text"]}})
    assert record["capabilities"]["embeddings"] is True and record["capabilities"]["chat"] is False
    record, _ = _enrich("x", "rerank-2.5", {"modalities": {"output": ["text"]}})
    assert record["capabilities"]["embeddings"] is False and record["capabilities"]["chat"] is False


def test_embedding_models_default_to_no_temperature_unless_a_source_says() -> None:
    record, _ = _enrich("x", "text-embedding-3-small", {})
    assert record["capabilities"]["temperature"] is False
    given = {"capabilities": {"temperature": True}}
    record, _ = _enrich("x", "text-embedding-3-small", given, ("capabilities.temperature",))
    assert record["capabilities"]["temperature"] is True
    record, _ = _enrich("x", "some-llm", {})
    assert "temperature" not in record.get("capabilities", {})  # the schema's default (true) applies


def test_deprecated_flag_and_status_agree() -> None:
    record, _ = _enrich("x", "m", {"status": "retired"}, ("status",))
    assert record["deprecated"] is True
    record, _ = _enrich("x", "m", {"deprecated": True}, ("deprecated",))
    assert record["status"] == "deprecated"
