"""Resolving the names people type to one model: specs, LiteLLM's keys and prefixes, and bare ids.

The rules, in order (each names itself in `Resolved.rule`; docs/names.md):

1. `spec`: the exact spec (`openai:gpt-4o`).
2. `maker`: a bare id whose maker's first-party provider (`MAKERS`) lists it (`gpt-4o` → `openai:gpt-4o`,
   `gemini-2.5-pro` → `google:gemini-2.5-pro` although LiteLLM files that key under Vertex).
3. `litellm`: a key of LiteLLM's map (`vertex_ai/gemini-2.5-pro`, `us.anthropic.claude-…-v2:0`), from the
   snapshot's names table (`Model.names`).
4. `provider`: `provider:id`, `id@provider` or `provider/id`, the provider being a canonical id or any alias
   (LiteLLM's provider names are aliases: `bedrock`, `vertex_ai`, `gemini`, `together_ai`, …); `alias` when
   the id is one of the provider's model aliases; `route` after a LiteLLM route word (`bedrock/converse/…`).
5. `unique`: a bare id exactly one provider lists.

Else `AmbiguousModel` lists the candidates, first-party providers first; `ModelNotFound` suggests close
names; `UnknownProvider` names the provider part as it was written.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import NamedTuple

from llmdb._snapshot import Snapshot
from llmdb._spec import close_matches, did_you_mean, provider_forms, provider_part
from llmdb.errors import AmbiguousModel, InvalidSpec, ModelExcluded, ModelNotFound, UnknownProvider

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


@functools.cache
def _makers() -> list[tuple[re.Pattern[str], str]]:
    """`MAKERS` compiled once, when a bare id first needs them (not at import)."""
    return [(re.compile(pattern, re.IGNORECASE), provider) for pattern, provider in MAKERS]


FIRST_PARTY = frozenset(provider for _, provider in MAKERS)

ROUTE_WORDS: dict[str, tuple[str, ...]] = {"amazon_bedrock": ("converse/", "invoke/")}
"""LiteLLM route words between a provider prefix and the model id (`bedrock/converse/<id>`)."""


class Resolved(NamedTuple):
    spec: str
    rule: str
    """`spec`, `litellm`, `provider`, `alias`, `route`, `maker` or `unique`."""


def maker_of(model_id: str) -> str | None:
    """The first-party provider of a bare id's maker (`claude-3-5-haiku` → `anthropic`), or None."""
    for pattern, provider in _makers():
        if pattern.match(model_id):
            return provider
    return None


def resolve(snap: Snapshot, text: str, bare: dict[str, list[str]], scope: list[str] | None = None) -> Resolved:
    """The spec `text` names in `snap` and the rule that found it; `bare` is model id → specs."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidSpec(f"invalid model name {text!r}: expected 'provider:model' or a model id")
    if snap.ordinal(text) is not None:
        return Resolved(text, "spec")
    candidates = [s for s in bare.get(text, ()) if scope is None or s.split(":", 1)[0] in scope]
    maker = maker_of(text)
    if maker is not None and f"{maker}:{text}" in candidates:
        return Resolved(f"{maker}:{text}", "maker")  # before LiteLLM's keys: its `gemini-2.5-pro` is Vertex's
    named = snap.names.get(text)
    if named is not None and (scope is None or named.split(":", 1)[0] in scope):
        return Resolved(named, "litellm")
    failure: Exception | None = None
    for pid, model_id in provider_forms(text, snap.provider_alias_map):
        found = _in_provider(snap, pid, model_id)
        if found is not None:
            return found
        if failure is None:
            failure = _missing(snap, pid, model_id, text)
    if candidates:
        return _bare(text, candidates)
    if failure is not None:
        raise failure
    provider = provider_part(text)
    _, at, after = text.rpartition("@")
    if provider is None and at and close_matches(after, snap.provider_alias_map):
        provider = after  # `gpt-4o@openaii`; not `claude-3-5-haiku@20241022`, a model id
    if provider is not None:
        raise UnknownProvider(
            f"unknown provider {provider!r} in {text!r}" + did_you_mean(provider, snap.provider_alias_map)
        )
    raise _not_found(f"no model {text!r} in any provider", text, bare)


def _in_provider(snap: Snapshot, pid: str, model_id: str) -> Resolved | None:
    spec = f"{pid}:{model_id}"
    if snap.ordinal(spec) is not None:
        return Resolved(spec, "provider")
    target = snap.model_alias(spec)
    if target is not None:
        return Resolved(target, "alias")
    for word in ROUTE_WORDS.get(pid, ()):
        if model_id.startswith(word):
            found = _in_provider(snap, pid, model_id[len(word) :])
            if found is not None:
                return Resolved(found.spec, "route")
    return None


def _missing(snap: Snapshot, pid: str, model_id: str, asked: str) -> ModelNotFound:
    spec = f"{pid}:{model_id}"
    origin = f" (from {asked!r})" if asked != spec else ""
    reason = snap.excluded.get(spec)
    if reason is not None:
        return ModelExcluded(f"{spec!r}{origin} is in upstream data but excluded by {reason}", reason=reason)
    return _not_found(f"no model {spec!r}{origin}", spec, snap.specs_of_provider(pid))


def _not_found(message: str, word: str, choices: Iterable[str]) -> ModelNotFound:
    """`ModelNotFound` whose message ends with the close matches it also carries as `suggestions`."""
    close = close_matches(word, choices)
    hint = "; did you mean " + ", ".join(repr(c) for c in close) + "?" if close else ""
    return ModelNotFound(message + hint, suggestions=close)


def _bare(text: str, candidates: list[str]) -> Resolved:
    if len(candidates) == 1:
        return Resolved(candidates[0], "unique")
    ordered = sorted(candidates, key=lambda s: (s.split(":", 1)[0] not in FIRST_PARTY, s))
    raise AmbiguousModel(
        f"{text!r} is a model id of {len(ordered)} providers: {', '.join(ordered[:10])}"
        + (" ..." if len(ordered) > 10 else "")
        + "; name the provider ('provider:model') or pass scope=",
        candidates=ordered,
    )
