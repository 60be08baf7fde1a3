"""Names people type, against the packaged snapshot (models.dev above LiteLLM): everyday names, every LiteLLM
key of a chat, embedding or image entry, ids containing `:`, errors naming what was written, and the CLI."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from catalogs import LITELLM

import llmdb
from llmdb import Catalog, contract
from llmdb.contract.makers import maker_of
from llmdbd.output.snapshot import encode_snapshot

EVERYDAY = [
    ("gpt-4o", "openai:gpt-4o", "maker"),
    ("gpt-4o-mini", "openai:gpt-4o-mini", "maker"),
    ("o3-mini", "openai:o3-mini", "maker"),
    ("text-embedding-3-small", "openai:text-embedding-3-small", "maker"),
    ("claude-3-5-sonnet-20241022", "anthropic:claude-3-5-sonnet-20241022", "maker"),
    ("claude-sonnet-4-5", "anthropic:claude-sonnet-4-5", "maker"),
    ("gemini-2.5-pro", "google:gemini-2.5-pro", "maker"),  # LiteLLM files this key under Vertex
    ("deepseek-chat", "deepseek:deepseek-chat", "maker"),
    ("vertex_ai/gemini-2.5-pro", "google_vertex:gemini-2.5-pro", "provider"),  # `vertex_ai` is an alias
    ("gemini/gemini-2.5-flash", "google:gemini-2.5-flash", "litellm"),
    ("azure/gpt-4o", "azure:gpt-4o", "litellm"),
    (
        "bedrock/us.anthropic.claude-3-5-sonnet-20241022-v2:0",
        "amazon_bedrock:us.anthropic.claude-3-5-sonnet-20241022-v2:0",
        "provider",
    ),
    (
        "bedrock/converse/anthropic.claude-3-5-sonnet-20240620-v1:0",
        "amazon_bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0",
        "route",
    ),
    (
        "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "togetherai:meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "litellm",
    ),
    ("groq/llama-3.3-70b-versatile", "groq:llama-3.3-70b-versatile", "provider"),
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(llmdb.packaged_path())


@pytest.mark.parametrize(("name", "spec", "rule"), EVERYDAY)
def test_everyday_names_resolve_to_the_expected_model(catalog: Catalog, name: str, spec: str, rule: str) -> None:
    assert catalog.get(name).spec == spec
    assert catalog.resolve_name(name)[:2] == (spec, rule)


def test_every_litellm_chat_embedding_and_image_key_resolves(catalog: Catalog) -> None:
    entries = json.loads(LITELLM.read_bytes())
    keys = [
        k
        for k, v in entries.items()
        if isinstance(v, dict) and v.get("mode") in ("chat", "embedding", "image_generation")
    ]
    assert len(keys) > 3500
    wrong = []
    for key in keys:
        model = catalog.get(key)
        # the entry's own model, or (a bare key only) the same id at its maker's first-party provider
        if key not in model.names and not (model.id == key and model.provider == maker_of(key)):
            wrong.append((key, model.spec))
    assert wrong == []


def test_regional_bedrock_name_shows_the_regional_price(catalog: Catalog) -> None:
    entries = json.loads(LITELLM.read_bytes())
    regional = catalog.get("bedrock/us.anthropic.claude-3-5-sonnet-20241022-v2:0")
    entry = entries["us.anthropic.claude-3-5-sonnet-20241022-v2:0"]
    assert regional.cost is not None and regional.cost.input == pytest.approx(entry["input_cost_per_token"] * 1e6)
    assert regional.provider == "amazon_bedrock" and regional.id.endswith("-v2:0")


def test_ids_with_colons_parse_in_every_form(catalog: Catalog) -> None:
    spec = "amazon_bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"
    model_id = spec.split(":", 1)[1]
    for name in (spec, f"bedrock/{model_id}", f"{model_id}@amazon-bedrock", f"amazon_bedrock/{model_id}"):
        assert catalog.get(name).spec == spec, name
    assert catalog.parse_spec(f"bedrock/{model_id}") == ("amazon_bedrock", model_id)
    with pytest.raises(llmdb.UnknownProvider, match="unknown provider 'bedrockz' in"):
        catalog.parse_spec(f"bedrockz/{model_id}")
    with pytest.raises(llmdb.UnknownProvider, match="unknown provider 'bedrockz' in") as info:
        catalog.get(f"bedrockz/{model_id}")
    assert "did you mean 'bedrock'" in str(info.value)
    with pytest.raises(llmdb.ModelNotFound, match=r"no model 'amazon_bedrock:anthropic\.claude-9-v1:0'"):
        catalog.get("bedrock/anthropic.claude-9-v1:0")


def test_bare_ids_maker_first_then_unique_else_ambiguous(catalog: Catalog) -> None:
    assert catalog.resolve_name("gpt-4o", scope="azure")[:2] == ("azure:gpt-4o", "unique")
    with pytest.raises(llmdb.AmbiguousModel) as info:
        catalog.get("gpt-oss-120b")  # open weights: no maker's first-party provider lists it
    first_party = [c for c in info.value.candidates if c.split(":")[0] in ("groq", "cerebras", "openai")]
    assert first_party and info.value.candidates.index(first_party[0]) < len(info.value.candidates) - 1
    with pytest.raises(llmdb.ModelNotFound, match="no model 'gpt-4oo' in any provider; did you mean"):
        catalog.get("gpt-4oo")


def test_supports_accepts_litellm_feature_words(catalog: Catalog) -> None:
    assert catalog.supports("gpt-4o", "vision", "function_calling", "response_schema", "prompt_caching")
    assert catalog.supports("gpt-4o", "vision") == catalog.supports("gpt-4o", "input:image")
    embed = catalog.get("text-embedding-3-small")
    assert not catalog.supports(embed.spec, "function_calling")
    assert {m.spec for m in catalog.models(require=["vision"])} == {m.spec for m in catalog.models(input="image")}


def test_modes_filter_and_show(catalog: Catalog) -> None:
    embeddings = catalog.models(mode="embedding")
    assert len(embeddings) > 100 and all(m.mode == "embedding" for m in embeddings)
    assert catalog.get("openai:text-embedding-3-small").mode == "embedding"
    assert catalog.get("openai:gpt-4o").mode == "chat"
    with pytest.raises(llmdb.InvalidQuery, match="did you mean 'embedding'"):
        catalog.models(mode="embeding")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmdb.cli", "--snapshot", str(llmdb.packaged_path()), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_resolve_get_and_list_by_mode() -> None:
    out = _cli("resolve", "vertex_ai/claude-3-5-haiku", "--json")
    assert json.loads(out.stdout) == {
        "name": "vertex_ai/claude-3-5-haiku",
        "spec": "google_vertex_anthropic:claude-3-5-haiku",
        "rule": "litellm",
        "note": None,
    }
    assert _cli("resolve", "gpt-4o").stdout.strip() == "openai:gpt-4o  (maker)"
    got = json.loads(_cli("get", "openai:gpt-4o", "--json").stdout)
    assert got["mode"] == "chat" and set(got["lifecycle"]) == {"deprecation_date", "retirement_date", "replacement"}
    listed = _cli("list", "--mode", "embedding")
    assert listed.returncode == 0 and "openai:text-embedding-3-small" in listed.stdout
    ambiguous = _cli("get", "gpt-oss-120b")
    assert ambiguous.returncode == 2 and "name the provider" in ambiguous.stderr


def rewrite_schema(data: bytes, schema: int) -> bytes:
    """The snapshot `data` with another schema version in its header (and a header checksum to match)."""
    out = bytearray(data)
    struct.pack_into("<I", out, 12, schema)
    count = contract.parse_header(bytes(out), "x").sections
    table = bytes(out[contract.HEADER_SIZE : contract.HEADER_SIZE + contract.SECTION.size * count])
    crc = contract.header_crc(bytes(out[: contract.HEADER_SIZE]), table)
    struct.pack_into("<I", out, contract.FLAGS_OFFSET + 8, crc)
    return bytes(out)


def test_a_schema_1_snapshot_still_opens_and_a_newer_one_is_refused(tmp_path: Path) -> None:
    from catalogs import make_catalog

    data = encode_snapshot(make_catalog(), epoch=1, built_at=0.0)
    old = tmp_path / "old.llmdb"
    old.write_bytes(rewrite_schema(data, 1))
    model = Catalog(old).get("t:m")
    assert model.mode is None or model.mode == "chat"
    assert Catalog(old).info()["schema_version"] == 1
    newer = tmp_path / "newer.llmdb"
    newer.write_bytes(rewrite_schema(data, 99))
    with pytest.raises(llmdb.SnapshotError, match=r"schema version 99 is not supported .*upgrade llmdb"):
        Catalog(newer).get("t:m")
    assert contract.read_header(newer).schema == 99


def test_an_empty_model_id_is_an_invalid_spec_in_every_form(catalog: Catalog) -> None:
    for name in ("openai:", "@openai", "azure/"):
        with pytest.raises(llmdb.InvalidSpec, match="empty model id"):
            catalog.get(name)


def test_an_alias_a_patch_adds_resolves_bare(tmp_path: Path) -> None:
    """The README's own example: `"aliases": ["gpt4o"]` answers to `gpt4o`, not only to `openai:gpt4o`; an alias
    two providers' models share is ambiguous, as a shared id is."""
    patches = tmp_path / "patches"
    patches.mkdir()
    (patches / "a.json").write_text(
        json.dumps(
            {
                "models": [
                    {"spec": "openai:gpt-4o", "aliases": ["gpt4o", "the-flagship"]},
                    {"spec": "anthropic:claude-sonnet-4-5", "aliases": ["the-flagship"]},
                ]
            }
        )
    )
    out = tmp_path / "c.llmdb"
    built = subprocess.run(
        [sys.executable, "-m", "llmdbd", "build", "--patches", str(patches), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    catalog = Catalog(out)
    assert catalog.resolve_name("gpt4o")[:2] == ("openai:gpt-4o", "unique")
    assert catalog.get("gpt4o").spec == catalog.get("openai:gpt4o").spec == "openai:gpt-4o"
    with pytest.raises(llmdb.AmbiguousModel) as raised:
        catalog.get("the-flagship")
    assert raised.value.candidates == ["anthropic:claude-sonnet-4-5", "openai:gpt-4o"]
