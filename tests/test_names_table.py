"""Names land on the maker (docs/names.md): everyday names across makers, the names the issue found landing on
resellers, and a table of 10,000+ names built from LiteLLM's keys and OpenRouter's ids (with the spellings people
type: upper case, dots for dashes and back), each resolved against the packaged catalog with the rule that did it.
No name a maker lists lands anywhere but at the maker."""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from catalogs import LITELLM

import llmdb
from llmdb import Catalog
from llmdb.contract import REGIONS, fold, maker_of

OPENROUTER = Path(__file__).resolve().parents[2] / "shared" / "upstream" / "openrouter" / "models.json"

EVERYDAY = [
    # the names the issue found on resellers
    ("claude-3-5-sonnet-latest", "anthropic:claude-3-5-sonnet-20241022", "snapshot"),
    ("dall-e-3", "aiml:dall-e-3", "reseller"),  # OpenAI's own entry is gone from every upstream
    ("claude-3-5-haiku-latest", "302ai:claude-3-5-haiku-latest", "reseller"),  # so is Anthropic's
    # Anthropic
    ("claude-3-7-sonnet-latest", "anthropic:claude-3-7-sonnet-20250219", "snapshot"),
    ("claude-3-opus-latest", "anthropic:claude-3-opus-20240229", "snapshot"),
    ("claude-3-5-sonnet", "anthropic:claude-3-5-sonnet-20241022", "snapshot"),
    ("claude-sonnet-4", "anthropic:claude-sonnet-4-20250514", "snapshot"),
    ("claude-opus-4-1", "anthropic:claude-opus-4-1", "maker"),
    ("claude-haiku-4-5", "anthropic:claude-haiku-4-5", "maker"),
    ("claude-sonnet-4.5", "anthropic:claude-sonnet-4-5", "spelling"),
    ("claude-opus-4.5", "anthropic:claude-opus-4-5", "spelling"),
    ("Claude-Sonnet-4-5", "anthropic:claude-sonnet-4-5", "spelling"),
    ("anthropic/claude-3.5-sonnet", "anthropic:claude-3-5-sonnet-20241022", "snapshot"),  # OpenRouter's id
    # OpenAI
    ("gpt-4.1", "openai:gpt-4.1", "maker"),
    ("gpt-4.1-mini", "openai:gpt-4.1-mini", "maker"),
    ("gpt-5", "openai:gpt-5", "maker"),
    ("gpt-5-mini", "openai:gpt-5-mini", "maker"),
    ("gpt-5-nano", "openai:gpt-5-nano", "maker"),
    ("o1", "openai:o1", "maker"),
    ("o3", "openai:o3", "maker"),
    ("o4-mini", "openai:o4-mini", "maker"),
    ("gpt-4-turbo", "openai:gpt-4-turbo", "maker"),
    ("gpt-3.5-turbo", "openai:gpt-3.5-turbo", "maker"),
    ("gpt-image-1", "openai:gpt-image-1", "maker"),
    ("whisper-1", "openai:whisper-1", "maker"),
    ("tts-1", "openai:tts-1", "maker"),
    ("text-embedding-3-large", "openai:text-embedding-3-large", "maker"),
    ("gpt-4o-2024-08-06", "openai:gpt-4o-2024-08-06", "maker"),
    ("openai/gpt-4o", "openai:gpt-4o", "provider"),
    # Google
    ("gemini-2.5-flash", "google:gemini-2.5-flash", "maker"),
    ("gemini-2.0-flash", "google:gemini-2.0-flash", "maker"),
    ("gemini-2.5-flash-lite", "google:gemini-2.5-flash-lite", "maker"),
    ("gemma-3-27b-it", "google:gemma-3-27b-it", "maker"),
    ("gemini-embedding-001", "google:gemini-embedding-001", "maker"),
    ("google/gemini-2.5-pro", "google:gemini-2.5-pro", "provider"),
    # Mistral
    ("mistral-large-latest", "mistral:mistral-large-latest", "maker"),
    ("mistral-small-latest", "mistral:mistral-small-latest", "maker"),
    ("codestral-latest", "mistral:codestral-latest", "maker"),
    ("pixtral-large-latest", "mistral:pixtral-large-latest", "maker"),
    ("ministral-8b-latest", "mistral:ministral-8b-latest", "maker"),
    ("magistral-medium-latest", "mistral:magistral-medium-latest", "maker"),
    ("devstral-small-latest", "mistral:devstral-small-latest", "maker"),
    ("open-mistral-nemo", "mistral:open-mistral-nemo", "maker"),
    ("mistral-embed", "mistral:mistral-embed", "maker"),
    # DeepSeek, xAI
    ("deepseek-reasoner", "deepseek:deepseek-reasoner", "maker"),
    ("deepseek-v3", "deepseek:deepseek-v3", "maker"),
    ("deepseek-r1", "deepseek:deepseek-r1", "maker"),
    ("grok-4.3", "xai:grok-4.3", "maker"),
    ("grok-code-fast-1", "xai:grok-code-fast-1", "maker"),
    # Cohere
    ("command-r", "cohere:command-r-08-2024", "snapshot"),
    ("command-r-plus", "cohere:command-r-plus-08-2024", "snapshot"),
    ("command-a-03-2025", "cohere:command-a-03-2025", "maker"),
    ("embed-english-v3.0", "cohere:embed-english-v3.0", "maker"),
    ("rerank-v3.5", "cohere:rerank-v3.5", "maker"),
    # Moonshot, Z.ai, Alibaba, Perplexity, Amazon, Xiaomi, MiniMax
    ("moonshot-v1-8k", "moonshotai:moonshot-v1-8k", "maker"),
    ("glm-4.5", "zai:glm-4.5", "maker"),
    ("glm-4.6", "zai:glm-4.6", "maker"),
    ("glm-5", "zai:glm-5", "maker"),
    ("qwen-max", "alibaba:qwen-max", "maker"),
    ("qwen-plus", "alibaba:qwen-plus", "maker"),
    ("qwen3-coder-plus", "alibaba:qwen3-coder-plus", "maker"),
    ("qwq-32b", "alibaba_cn:qwq-32b", "maker"),  # Alibaba's China-region API is Alibaba's own
    ("sonar", "perplexity:sonar", "maker"),
    ("sonar-pro", "perplexity:sonar-pro", "maker"),
    ("nova-pro-v1", "nova:nova-pro-v1", "maker"),
    ("nova-lite-v1", "nova:nova-lite-v1", "maker"),
    ("mimo-v2-flash", "xiaomi:mimo-v2-flash", "maker"),
    ("minimax-m2", "minimax:MiniMax-M2", "spelling"),
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(llmdb.packaged_path())


def test_enough_everyday_names_across_makers() -> None:
    assert len(EVERYDAY) >= 60
    assert len({spec.split(":")[0] for _, spec, _ in EVERYDAY}) >= 14


@pytest.mark.parametrize(("name", "spec", "rule"), EVERYDAY)
def test_everyday_names(catalog: Catalog, name: str, spec: str, rule: str) -> None:
    assert catalog.resolve_name(name)[:2] == (spec, rule)
    assert catalog.get(name).spec == spec


def test_a_reseller_is_named_never_silent(catalog: Catalog) -> None:
    found = catalog.resolve_name("dall-e-3")
    assert found.note == "not listed by openai (its maker); only aiml:dall-e-3 has it"
    with pytest.raises(llmdb.AmbiguousModel, match=r"'grok-4' is not listed by xai \(its maker\); only") as info:
        catalog.get("grok-4")
    assert info.value.candidates == ["azure_ai:grok-4", "helicone:grok-4", "llmgateway:grok-4"]
    assert catalog.resolve_name("grok-4", scope="azure_ai")[:2] == ("azure_ai:grok-4", "unique")  # asked for


def test_a_snapshot_names_how_many(catalog: Catalog) -> None:
    assert catalog.resolve_name("claude-3-5-sonnet-latest").note == (
        "the newest of anthropic's 2 dated claude-3-5-sonnet snapshot(s)"
    )


@cache
def names() -> frozenset[str]:
    """LiteLLM's keys and their last parts, OpenRouter's ids (bare, as `openrouter/<id>`, their last parts),
    canonical slugs and Hugging Face ids; and for every name with a known maker, upper case and dots for dashes
    between digits (and back)."""
    keys = {k for k in json.loads(LITELLM.read_bytes()) if k != "sample_spec"}
    found = keys | {k.rsplit("/", 1)[-1] for k in keys}
    for m in json.loads(OPENROUTER.read_bytes())["data"]:
        found |= {m["id"], f"openrouter/{m['id']}", m["canonical_slug"], m["id"].rsplit("/", 1)[-1]}
        if m.get("hugging_face_id"):
            found.add(m["hugging_face_id"])
    made = [n for n in found if maker_of(n)]
    found |= {n.upper() for n in made}
    found |= {re.sub(r"(\d)-(\d)", r"\1.\2", n) for n in made} | {re.sub(r"(\d)\.(\d)", r"\1-\2", n) for n in made}
    return frozenset(found)


def listings(catalog: Catalog) -> dict[str, set[str]]:
    """Each provider's ids and base ids, folded (`fold`): what "the maker lists it" is checked against."""
    snap = catalog.snapshot
    base_ids = snap.column("base_id")
    out: dict[str, set[str]] = {}
    for ordinal, spec in enumerate(snap.specs):
        pid, model_id = spec.split(":", 1)
        keys = out.setdefault(pid, set())
        keys.add(fold(model_id).removesuffix("-latest"))
        if isinstance(base_ids[ordinal], str):
            keys.add(fold(base_ids[ordinal]))
    return out


def test_ten_thousand_names(catalog: Catalog) -> None:
    table = names()
    assert len(table) >= 10_000
    rules: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    off_maker = []
    listed = listings(catalog)
    for name in sorted(table):
        try:
            found = catalog.resolve_name(name)
        except llmdb.LLMDBError as exc:  # anything else fails the test
            errors[type(exc).__name__] += 1
            continue
        rules[found.rule] += 1
        if found.rule == "reseller":
            assert found.note.startswith(f"not listed by {maker_of(name)} (its maker)"), (name, found)
        maker = maker_of(name)
        bare = not any(sep in name for sep in ":/@")
        own = (maker, *REGIONS.get(maker, ())) if maker is not None else ()
        key = fold(name).removesuffix("-latest")
        if bare and any(key in listed.get(pid, ()) for pid in own) and found.spec.split(":", 1)[0] not in own:
            off_maker.append((name, found))
    assert off_maker == []
    assert dict(rules) == {
        "litellm": 4312,
        "spelling": 1219,
        "unique": 699,
        "provider": 568,
        "maker": 539,
        "case": 317,
        "reseller": 239,
        "snapshot": 76,
        "alias": 1,  # a spelling `one_spelling` merged into another
    }, rules
    assert dict(errors) == {"ModelNotFound": 1279, "AmbiguousModel": 536, "UnknownProvider": 327}, errors


def test_an_excluded_spec_is_excluded_not_a_sibling(tmp_path: Path) -> None:
    """A spec an exclude removed raises `ModelExcluded` in every provider form: no dated sibling or other spelling
    stands in for it."""
    import subprocess
    import sys

    patches = tmp_path / "patches.d"
    patches.mkdir()
    (patches / "x.json").write_text(json.dumps({"provider": {"id": "openai"}, "exclude": ["gpt-4o"]}))
    out = tmp_path / "c.llmdb"
    api = OPENROUTER.parents[1] / "models.dev" / "api.json"
    command = [sys.executable, "-m", "llmdbd", "build", "--upstream", str(api), "--patches", str(patches)]
    done = subprocess.run([*command, "--output", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    catalog = Catalog(out)
    for name in ("openai:gpt-4o", "gpt-4o@openai", "OpenAI:gpt-4o"):
        with pytest.raises(llmdb.ModelExcluded):
            catalog.get(name)
    with pytest.raises(llmdb.AmbiguousModel):  # also a bare id of nine other providers (gateways' own ids)
        catalog.get("openai/gpt-4o")
    assert catalog.get("openai:gpt-4o-2024-11-20").spec == "openai:gpt-4o-2024-11-20"
