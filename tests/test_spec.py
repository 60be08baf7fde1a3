"""Spec parsing: the colon, `@` and slash forms with provider aliases, by the documented rule."""

from __future__ import annotations

import pytest

from llmdb._spec import parse_spec
from llmdb.errors import InvalidSpec, UnknownProvider

ALIASES = {
    "openai": "openai",
    "openrouter": "openrouter",
    "amazon_bedrock": "amazon_bedrock",
    "amazon-bedrock": "amazon_bedrock",
    "google_vertex": "google_vertex",
    "google-vertex": "google_vertex",
    "cloudflare_workers_ai": "cloudflare_workers_ai",
    "cloudflare-workers-ai": "cloudflare_workers_ai",
    "wafer_ai": "wafer_ai",
    "wafer.ai": "wafer_ai",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("openai:gpt-4o", ("openai", "gpt-4o")),
        (
            "amazon-bedrock:anthropic.claude-sonnet-4-5-20250929-v1:0",
            ("amazon_bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ),
        ("google-vertex:claude-sonnet-4-5@20250929", ("google_vertex", "claude-sonnet-4-5@20250929")),
        ("google_vertex:claude-sonnet-4-5@20250929", ("google_vertex", "claude-sonnet-4-5@20250929")),
        ("claude-sonnet-4-5@20250929@google-vertex", ("google_vertex", "claude-sonnet-4-5@20250929")),
        ("gpt-4o@openai", ("openai", "gpt-4o")),
        ("openrouter/openai/gpt-4o", ("openrouter", "openai/gpt-4o")),
        ("openrouter:openai/gpt-4o", ("openrouter", "openai/gpt-4o")),
        (
            "cloudflare-workers-ai:@cf/meta/llama-3.2-3b-instruct",
            ("cloudflare_workers_ai", "@cf/meta/llama-3.2-3b-instruct"),
        ),
        ("wafer.ai:some-model", ("wafer_ai", "some-model")),
        ("Google-Vertex:gemini", ("google_vertex", "gemini")),
    ],
)
def test_accepted_forms(text: str, expected: tuple[str, str]) -> None:
    assert parse_spec(text, ALIASES) == expected


def test_colon_form_wins_over_at_and_slash() -> None:
    # "openai" before the first ':' is a provider, so the rest is the model id verbatim, '@' and '/' included.
    assert parse_spec("openai:x@openrouter/y", ALIASES) == ("openai", "x@openrouter/y")


def test_unknown_provider_suggests_close_names() -> None:
    with pytest.raises(UnknownProvider, match=r"'opnai'.*did you mean 'openai'"):
        parse_spec("opnai:gpt-4o", ALIASES)


@pytest.mark.parametrize("text", ["gpt-4o", "", "   "])
def test_a_spec_without_a_provider_is_invalid(text: str) -> None:
    with pytest.raises(InvalidSpec):
        parse_spec(text, ALIASES)


def test_an_empty_model_id_is_invalid() -> None:
    with pytest.raises(InvalidSpec, match="empty model id"):
        parse_spec("openai:", ALIASES)
