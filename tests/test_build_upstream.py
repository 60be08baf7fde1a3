"""End-to-end builds over the real models.dev catalogs in ../shared/upstream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from catalogs import API_MODELS

from llmdbd.engine import BuiltCatalog, build
from llmdbd.sources import modelsdev

UPSTREAM = Path(__file__).resolve().parents[2] / "shared" / "upstream" / "models.dev"


@pytest.fixture(scope="module")
def current() -> BuiltCatalog:
    return build([modelsdev.load_path(UPSTREAM / "api.json")])


@pytest.fixture(scope="module")
def older() -> BuiltCatalog:
    return build([modelsdev.load_path(UPSTREAM / "api-older.json")])


def test_every_provider_and_model_of_the_current_file_is_built(current: BuiltCatalog) -> None:
    raw = json.loads((UPSTREAM / "api.json").read_bytes())
    assert len(current.providers) == len(raw) == 147
    assert len(current.models) == sum(len(p["models"]) for p in raw.values()) - 1 == API_MODELS  # one spelled twice
    assert current.report.errors == ()


def test_older_file_builds_through_the_migration(older: BuiltCatalog) -> None:
    assert (len(older.providers), len(older.models)) == (74, 1935)  # one id spelled twice: one model
    assert older.report.errors == ()
    raw = json.loads((UPSTREAM / "api-older.json").read_bytes())
    legacy = [
        (pid, mid, m["cost"]["context_over_200k"])
        for pid, p in raw.items()
        for mid, m in p["models"].items()
        if "context_over_200k" in m.get("cost", {})
    ]
    assert len(legacy) == 10
    for pid, mid, table in legacy:
        model = older.models[f"{pid.replace('-', '_')}:{mid}"]
        assert model.cost is not None
        (tier,) = model.cost.tiers
        assert tier.above == 200_000
        assert tier.input == table["input"] and tier.output == table["output"]


def test_gpt_4o_facts(current: BuiltCatalog) -> None:
    m = current.models["openai:gpt-4o"]
    assert (m.limits.context, m.limits.output, m.limits.input) == (128000, 16384, None)
    assert m.cost is not None and (m.cost.input, m.cost.output, m.cost.cache_read) == (2.5, 10.0, 1.25)
    assert m.capabilities.tools.enabled and m.capabilities.json.schema and m.capabilities.attachments
    assert not m.capabilities.reasoning.enabled
    assert m.modalities.input == ("text", "image", "pdf")
    assert m.family == "gpt" and m.provider_model_id == "gpt-4o" and m.status == "active"


def test_gemini_tiers_come_from_cost_tiers(current: BuiltCatalog) -> None:
    m = current.models["google:gemini-2.5-pro"]
    assert m.cost is not None and (m.cost.input, m.cost.output) == (1.25, 10.0)
    (tier,) = m.cost.tiers
    assert (tier.above, tier.input, tier.output, tier.cache_read) == (200000, 2.5, 15.0, 0.25)
    assert (m.capabilities.reasoning.token_budget_min, m.capabilities.reasoning.token_budget_max) == (
        128,
        32768,
    )
    assert m.extra["reasoning_options"] == [{"max": 32768, "min": 128, "type": "budget_tokens"}]


def test_multi_tier_prices_keep_their_order(current: BuiltCatalog) -> None:
    m = current.models["aihubmix:doubao-seed-2-0-code-preview"]
    assert m.cost is not None
    assert [(t.above, t.input) for t in m.cost.tiers] == [(32000, 0.72), (128000, 1.45)]


def test_deprecated_status_sets_the_flag(current: BuiltCatalog) -> None:
    m = current.models["anthropic:claude-3-5-sonnet-20241022"]
    assert m.status == "deprecated" and m.deprecated
    assert m.cost is not None and (m.cost.input, m.cost.output) == (3.0, 15.0)
    assert sum(1 for x in current.models.values() if x.status == "deprecated") == 121


@pytest.mark.parametrize(
    ("spec", "context", "output"),
    [
        ("amazon_bedrock:anthropic.claude-sonnet-4-5-20250929-v1:0", 200000, 64000),
        ("google_vertex:claude-sonnet-4-5@20250929", 200000, 64000),
        ("clarifai:deepseek-ai/deepseek-ocr/models/DeepSeek-OCR", None, None),
        ("kilo:~anthropic/claude-sonnet-latest", None, None),
        ("groq:openai/gpt-oss-120b", None, None),
    ],
)
def test_model_ids_are_kept_verbatim(current: BuiltCatalog, spec: str, context: int | None, output: int | None) -> None:
    m = current.models[spec]
    assert m.spec == spec and m.id == spec.split(":", 1)[1]
    if context is not None:
        assert (m.limits.context, m.limits.output) == (context, output)


def test_provider_ids_are_canonical_with_upstream_aliases(current: BuiltCatalog) -> None:
    assert "google-vertex" in current.providers["google_vertex"].aliases
    assert "wafer.ai" in current.providers["wafer_ai"].aliases
    assert current.providers["302ai"].aliases == ()
    assert current.provider_aliases()["amazon-bedrock"] == "amazon_bedrock"
    assert all(pid == pid.lower() and "-" not in pid and "." not in pid for pid in current.providers)
    assert current.providers["openai"].env == ("OPENAI_API_KEY",)


def test_zero_limits_become_unknown(current: BuiltCatalog) -> None:
    raw = json.loads((UPSTREAM / "api.json").read_bytes())
    zero = [(p, m) for p, pv in raw.items() for m, mv in pv["models"].items() if mv["limit"]["context"] == 0]
    assert len(zero) == 94
    for pid, mid in zero:
        assert current.models[f"{pid.replace('-', '_').replace('.', '_')}:{mid}"].limits.context is None


def test_missing_cost_is_unknown_not_free(current: BuiltCatalog) -> None:
    # 382 models.dev gives no cost; 368 more it prices 0/0 with nothing that says free (engine/prices.py)
    assert sum(1 for m in current.models.values() if m.cost is None) == 750
    free = [m for m in current.models.values() if m.cost is not None and m.cost.input == 0 == m.cost.output]
    assert len(free) == 64


def test_float_artefacts_are_rounded(current: BuiltCatalog) -> None:
    m = current.models["amazon_bedrock:google.gemma-3-12b-it"]
    assert m.cost is not None and m.cost.input == 0.05
    m = current.models["nano_gpt:meta-llama/llama-4-maverick"]
    assert m.cost is not None and m.cost.input == 0.18
    for model in current.models.values():
        for price in (model.cost.input, model.cost.output, model.cost.cache_read) if model.cost else ():
            assert price is None or len(repr(price)) < 16


def test_unmodelled_upstream_keys_are_kept_in_extra(current: BuiltCatalog) -> None:
    with_interleaved = [m for m in current.models.values() if "interleaved" in m.extra]
    assert len(with_interleaved) == 557
    assert sum(1 for m in current.models.values() if "provider" in m.extra) == 165
    assert sum(1 for m in current.models.values() if "experimental" in m.extra) == 40


def test_bad_upstream_fields_are_dropped_with_a_warning(current: BuiltCatalog) -> None:
    warned = {(i.model, i.field) for i in current.report.warnings if i.stage == "validate"}
    assert ("qwen3-embedding-8b", "release_date") in warned
    m = current.models["scaleway:qwen3-embedding-8b"]
    assert m.release_date is None and m.last_updated == "2026-03-17"


def test_every_leaf_has_provenance(current: BuiltCatalog) -> None:
    prov = current.provenance("openai:gpt-4o")
    assert prov["cost.input"].source == "models.dev"
    assert prov["cost.input"].version == "sha256:e41777f18c6bc60f7887b410218c7c92d21a994f8e60f421a603da79ac68d0aa"
    assert prov["capabilities.tools.strict"].source == "enrich"
    assert "capabilities.streaming.text" not in prov  # a schema default, set by no source


def test_the_same_input_gives_the_same_hash(current: BuiltCatalog) -> None:
    again = build([modelsdev.load_path(UPSTREAM / "api.json")])
    assert again.content_hash == current.content_hash
    assert again.models == current.models


def test_different_inputs_give_different_hashes(current: BuiltCatalog, older: BuiltCatalog) -> None:
    assert current.content_hash != older.content_hash
    assert older.models["deepseek:deepseek-chat"].limits.context == 128000
    assert current.models["deepseek:deepseek-chat"].limits.context == 1000000
