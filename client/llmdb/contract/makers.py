"""Who makes a model, from its id: shared by llmdbd (cache billing, cross-host identity) and the client (names).

A bare id's maker is the first-party provider whose prefix it starts with (`claude-3-5-haiku` → `anthropic`);
an id with a path or a host's vendor prefix (`anthropic.claude-…`, `openai/gpt-4o`) is read from its last part.
"""

from __future__ import annotations

import functools
import re

MAKERS: tuple[tuple[str, str], ...] = (
    (r"gpt-|chatgpt-|o[1-9](?:-|$)|text-embedding-|whisper-|tts-|dall-e-|davinci|babbage|codex-", "openai"),
    (r"claude-", "anthropic"),
    (r"gemini-|gemma-|imagen-|veo-", "google"),
    (r"(?:open-)?mistral-|codestral-|ministral-|pixtral-|magistral-|devstral-|voxtral-", "mistral"),
    (r"deepseek-", "deepseek"),
    (r"grok-", "xai"),
    (r"command-|embed-|rerank-|c4ai-", "cohere"),
    (r"kimi-|moonshot-", "moonshotai"),
    (r"glm-", "zai"),
    (r"qwen|qwq-|qvq-", "alibaba"),
    (r"sonar", "perplexity"),
    (r"nova-", "nova"),
    (r"mimo-", "xiaomi"),
    (r"minimax-", "minimax"),
)
"""Bare-id prefix (case-insensitive regex) → the maker's first-party provider."""

REGIONS: dict[str, tuple[str, ...]] = {
    "alibaba": ("alibaba_cn",),
    "minimax": ("minimax_cn",),
    "moonshotai": ("moonshotai_cn",),
    "zai": ("zhipuai",),
}
"""The maker's own APIs beside its first-party provider (China-region platforms): the maker's, not a reseller's."""

FIRST_PARTY = frozenset(provider for _, provider in MAKERS)


@functools.cache
def _makers() -> list[tuple[re.Pattern[str], str]]:
    """`MAKERS` compiled once, when an id first needs them (not at import)."""
    return [(re.compile(pattern, re.IGNORECASE), provider) for pattern, provider in MAKERS]


def fold(model_id: str) -> str:
    """One spelling of an id, for comparing ids: case, dots and underscores as dashes (`Claude-3.5_Sonnet` →
    `claude-3-5-sonnet`). The name rules' `spelling` and llmdbd's duplicate check read ids through it."""
    return model_id.casefold().replace(".", "-").replace("_", "-")


def maker_of(model_id: str) -> str | None:
    """The first-party provider of a bare id's maker (`claude-3-5-haiku` → `anthropic`), or None."""
    for pattern, provider in _makers():
        if pattern.match(model_id):
            return provider
    return None


def maker_in(model_id: str) -> str | None:
    """The maker of a model id as any host writes it: the bare id, else its last path part, else what follows a
    vendor prefix (`zai-org/GLM-5.1` → `zai`, `us.anthropic.claude-…-v1:0` → `anthropic`)."""
    last = model_id.rsplit("/", 1)[-1]
    return maker_of(model_id) or maker_of(last) or _after_vendor(last)


def _after_vendor(name: str) -> str | None:
    """`anthropic.claude-3-5-sonnet-20240620-v1:0` → `anthropic`: the maker named by a Bedrock-style prefix."""
    for part in name.split(".")[1:]:
        found = maker_of(part)
        if found is not None:
            return found
    return None
