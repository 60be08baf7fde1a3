"""The query API over a real snapshot built from models.dev plus a patch with aliases and deny rules."""

from __future__ import annotations

import json

import pytest
from catalogs import API, API_MODELS

import llmdb
from llmdb import Catalog
from llmdbd import inputs
from llmdbd.engine import build
from llmdbd.engine.filters import Rules
from llmdbd.output.publish import write_snapshot
from llmdbd.sources import modelsdev, patches


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    tmp = tmp_path_factory.mktemp("api")
    (tmp / "patches").mkdir()
    (tmp / "patches" / "aliases.json").write_text(
        json.dumps({"provider": {"id": "openai"}, "models": [{"id": "gpt-4o", "aliases": ["gpt4o", "flagship"]}]})
    )
    layers = inputs.layers([modelsdev.load_path(API)], patches.load_dirs([str(tmp / "patches")]))
    built = build(layers, Rules(deny={"openai": ["*-preview*"], "groq": "*"}))
    path = tmp / "catalog.llmdb"
    write_snapshot(built, path)
    return Catalog(path)


def test_get_returns_the_models_dev_facts(catalog: Catalog) -> None:
    m = catalog.get("openai:gpt-4o")
    assert (m.limits.context, m.limits.output) == (128000, 16384)
    assert m.cost is not None and (m.cost.input, m.cost.output) == (2.5, 10.0)


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        (
            "amazon-bedrock:anthropic.claude-sonnet-4-5-20250929-v1:0",
            "amazon_bedrock:anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
        ("google-vertex:claude-sonnet-4-5@20250929", "google_vertex:claude-sonnet-4-5@20250929"),
        ("claude-sonnet-4-5@20250929@google-vertex", "google_vertex:claude-sonnet-4-5@20250929"),
        ("openrouter/openai/gpt-4o", "openrouter:openai/gpt-4o"),
        ("openai:gpt4o", "openai:gpt-4o"),
        ("flagship@openai", "openai:gpt-4o"),
    ],
)
def test_every_spec_form_and_alias_resolves(catalog: Catalog, text: str, spec: str) -> None:
    assert catalog.get(text).spec == spec


def test_model_not_found_is_a_key_error_with_suggestions(catalog: Catalog) -> None:
    with pytest.raises(KeyError) as info:
        catalog.get("openai:gpt-4oo")
    assert isinstance(info.value, llmdb.ModelNotFound) and isinstance(info.value, llmdb.LLMDBError)
    assert "openai:gpt-4o" in str(info.value) and "openai:gpt-4o" in info.value.suggestions
    assert catalog.find("openai:gpt-4oo") is None


def test_unknown_provider_and_invalid_spec(catalog: Catalog) -> None:
    with pytest.raises(llmdb.UnknownProvider, match="anthropic"):
        catalog.get("antropic:claude-sonnet-4-5")
    with pytest.raises(llmdb.InvalidSpec):
        catalog.get("  ")


def test_resolve_bare_ids_unique_scoped_or_ambiguous(catalog: Catalog) -> None:
    assert catalog.resolve("gpt-4o", scope="openai").spec == "openai:gpt-4o"
    assert catalog.resolve("gpt-4o").spec == "openai:gpt-4o"  # its maker's provider lists it
    assert catalog.resolve("gpt-4o", scope="azure").spec == "azure:gpt-4o"
    assert catalog.resolve(("google-vertex", "claude-sonnet-4-5@20250929")).provider == "google_vertex"
    with pytest.raises(llmdb.AmbiguousModel) as info:
        catalog.resolve("gpt-oss-120b")  # open weights: no maker's provider lists it, many hosts do
    assert "cerebras:gpt-oss-120b" in info.value.candidates and len(info.value.candidates) > 1
    unique = next(s for s, n in _id_counts(catalog).items() if n == 1)
    assert catalog.resolve(unique.split(":", 1)[1]).spec == unique


def _id_counts(catalog: Catalog) -> dict[str, int]:
    ids: dict[str, list[str]] = {}
    for spec in catalog.snapshot.specs:
        ids.setdefault(spec.split(":", 1)[1], []).append(spec)
    return {specs[0]: len(specs) for specs in ids.values()}


def test_models_filters_match_a_reference_scan(catalog: Catalog) -> None:
    found = catalog.models(require=["tools", "json_schema"], input="image", min_context=200_000, max_input_cost=3)
    everything = [catalog.get(s) for s in catalog.snapshot.specs]
    expected = [
        m.spec
        for m in everything
        if m.capabilities.tools.enabled
        and m.capabilities.json.schema
        and "image" in m.modalities.input
        and (m.limits.context or 0) >= 200_000
        and m.cost is not None
        and m.cost.input is not None
        and m.cost.input <= 3
        and not m.deprecated
        and catalog.allowed(m.spec)
    ]
    assert [m.spec for m in found] == expected and len(expected) > 10


def test_forbid_and_provider_filters(catalog: Catalog) -> None:
    found = catalog.models("anthropic", forbid={"reasoning": True}, include_deprecated=True)
    assert found and all(m.provider == "anthropic" and not m.capabilities.reasoning.enabled for m in found)
    assert any(m.deprecated for m in found)


def test_unknown_feature_key_raises_listing_valid_keys(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="json_schema"):
        catalog.models(require=["tool"])
    with pytest.raises(ValueError, match="valid"):
        catalog.supports("openai:gpt-4o", "visio")


def test_order_by_cost_context_and_release_date(catalog: Catalog) -> None:
    by_cost = catalog.models("openai", order_by="cost")
    prices = [m.cost.input for m in by_cost if m.cost is not None and m.cost.input is not None]
    assert prices == sorted(prices)
    by_ctx = catalog.models("anthropic", order_by="context")
    contexts = [m.limits.context or 0 for m in by_ctx]
    assert contexts == sorted(contexts, reverse=True)
    by_date = catalog.models("anthropic", order_by="release_date")
    dates = [m.release_date for m in by_date if m.release_date]
    assert dates == sorted(dates, reverse=True)
    default = catalog.models("anthropic")
    assert [m.spec for m in default] == sorted(m.spec for m in default)


def test_denied_models_are_in_the_catalog_but_not_listed(catalog: Catalog) -> None:
    assert not catalog.allowed("groq:openai/gpt-oss-120b")
    assert catalog.get("groq:openai/gpt-oss-120b").provider == "groq"
    assert catalog.models("groq") == []
    assert "deny groq" in catalog.explain("groq:openai/gpt-oss-120b")["allowed"].source
    assert catalog.allowed("openai:gpt-4o")


def test_supports_checks_features_and_modalities(catalog: Catalog) -> None:
    assert catalog.supports("openai:gpt-4o", "tools", "json_schema", "input:image")
    assert not catalog.supports("openai:gpt-4o", "reasoning")
    assert not catalog.supports("openai:gpt-4o", "output:audio")
    assert catalog.capabilities("openai:gpt-4o").tools.strict


def test_select_walks_preferences_then_family_then_anything(catalog: Catalog) -> None:
    chosen = catalog.select(require=["tools", "reasoning"], prefer=["anthropic"])
    assert chosen.model.provider == "anthropic" and chosen.trace[0].step == "prefer anthropic"
    assert chosen.trace[0].chosen == chosen.model.spec
    fallback = catalog.select(require=["embeddings"], prefer=["anthropic"], like="openai:text-embedding-3-small")
    assert fallback.trace[0].matched == 0 and fallback.trace[0].rejected_by["embeddings"] > 0
    assert fallback.trace[0].rejected and fallback.trace[0].rejected[0][1] == "embeddings"
    assert fallback.model.capabilities.embeddings


def test_select_no_match_carries_the_trace(catalog: Catalog) -> None:
    with pytest.raises(llmdb.NoMatch) as info:
        catalog.select(require=["embeddings", "reasoning", "tools_strict"], scope="anthropic")
    assert len(info.value.trace) == 1 and info.value.trace[0].matched == 0


def test_explain_shows_sources_and_overrides(catalog: Catalog) -> None:
    prov = catalog.explain("openai:gpt-4o")
    assert prov["cost.input"].source == "models.dev"
    assert prov["aliases"].source == "patch:aliases.json"
    assert prov["family"].source == "models.dev" and prov["capabilities.tools.strict"].source == "enrich"


def test_cost_applies_tiers_and_refuses_unknown_prices(catalog: Catalog) -> None:
    r = catalog.cost("google:gemini-2.5-pro", input_tokens=250_000, output_tokens=1_000)
    assert r.tier == 200_000 and r.total == pytest.approx(250_000 * 2.5 / 1e6 + 1_000 * 15 / 1e6)
    no_price = next(s for s in catalog.snapshot.specs if catalog.get(s).cost is None)
    with pytest.raises(llmdb.PriceUnknown):
        catalog.cost(no_price, input_tokens=1, output_tokens=1)


def test_providers_and_provider_aliases(catalog: Catalog) -> None:
    assert len(catalog.providers()) == 147
    assert catalog.provider("google-vertex").id == "google_vertex"
    with pytest.raises(llmdb.UnknownProvider, match="openai"):
        catalog.provider("opeani")


def test_info_names_the_file_and_sources(catalog: Catalog) -> None:
    info = catalog.info()
    assert info["models"] == API_MODELS and info["providers"] == 147
    assert info["path"].endswith("catalog.llmdb") and len(info["content_hash"]) == 64
    assert [s["name"] for s in info["sources"]] == ["models.dev", "patch:aliases.json"]
