"""Enrich stage: fills gaps only, from the id and the provider quirks table."""

from __future__ import annotations

from typing import Any

import pytest

from llmdb._format import FieldSource
from llmdbd.enrich import derive_family, enrich


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5"),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
        ("o1-latest", "o1"),
        ("openrouter/openai/gpt-4o", "gpt-4o"),
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
        ("llama-3.1-405b", "llama-3.1-405b"),
    ],
)
def test_family_strips_date_and_version_suffixes(model_id: str, family: str) -> None:
    assert derive_family(model_id) == family


def _enrich(
    provider: str, model_id: str, record: dict[str, Any], set_by_source: tuple[str, ...] = ()
) -> tuple[dict[str, Any], dict[str, FieldSource]]:
    sources: dict[str, FieldSource] = {path: (0, False, ()) for path in set_by_source}
    models = {(provider, model_id): record}
    enrich(models, {(provider, model_id): sources}, 1)
    return record, sources


def test_fills_family_and_provider_model_id_only_when_missing() -> None:
    record, sources = _enrich("x", "foo-20240101", {"family": "bar"}, ("family",))
    assert record["family"] == "bar" and sources["family"][0] == 0
    assert record["provider_model_id"] == "foo-20240101" and sources["provider_model_id"][0] == 1


def test_a_deleted_field_is_not_refilled() -> None:
    record, _ = _enrich("x", "foo-20240101", {}, ("family",))
    assert "family" not in record


def test_quirks_apply_only_where_the_capability_holds() -> None:
    tools = {"capabilities": {"tools": {"enabled": True}, "json": {"schema": False}}}
    record, sources = _enrich("openai", "gpt-x", tools, ("capabilities.tools.enabled", "capabilities.json.schema"))
    assert record["capabilities"]["tools"]["strict"] is True
    assert record["capabilities"]["streaming"]["tool_calls"] is True
    assert "strict" not in record["capabilities"]["json"]
    assert sources["capabilities.tools.strict"][0] == 1


def test_quirks_never_override_a_source() -> None:
    record = {"capabilities": {"tools": {"enabled": True, "strict": False}}}
    record, _ = _enrich("openai", "gpt-x", record, ("capabilities.tools.enabled", "capabilities.tools.strict"))
    assert record["capabilities"]["tools"]["strict"] is False


def test_embedding_models_are_not_chat_models() -> None:
    record, _ = _enrich("x", "text-embedding-3-small", {"modalities": {"output": ["text"]}})
    assert record["capabilities"]["embeddings"] is True and record["capabilities"]["chat"] is False
    record, _ = _enrich("x", "some-llm", {"modalities": {"output": ["text"]}})
    assert record["capabilities"]["embeddings"] is False and record["capabilities"]["chat"] is True
    record, _ = _enrich("x", "image-gen", {"modalities": {"output": ["image"]}})
    assert record["capabilities"]["chat"] is False


def test_deprecated_flag_and_status_agree() -> None:
    record, _ = _enrich("x", "m", {"status": "retired"}, ("status",))
    assert record["deprecated"] is True
    record, _ = _enrich("x", "m", {"deprecated": True}, ("deprecated",))
    assert record["status"] == "deprecated"
