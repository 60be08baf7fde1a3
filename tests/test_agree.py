"""The upstreams check each other: a price or limit two upstreams agree on overrules the one precedence would
pick; the overruled value stays in provenance and the report says why; patches are never overruled; with no
single majority, or `consensus = false`, precedence decides. On the real shared files, the cases the issue
names come out as the providers bill them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from catalogs import LITELLM

from llmdb.schema import SourceInfo
from llmdbd import inputs
from llmdbd.config import Config
from llmdbd.engine import build
from llmdbd.engine.agree import agree, same
from llmdbd.engine.cache import ModelCache
from llmdbd.engine.conflicts import conflicts
from llmdbd.engine.layer import Fragment, Layer
from llmdbd.engine.merge import merge

SHARED = Path(__file__).resolve().parents[2] / "shared" / "upstream"
API = SHARED / "models.dev" / "api.json"
GENAI = SHARED / "genai-prices" / "v2" / "data.json"
AU = "amazon_bedrock:au.anthropic.claude-opus-4-6-v1"


def upstream(name: str, **cost: Any) -> Layer:
    return Layer(
        info=SourceInfo(name=name, kind="upstream"),
        fragments=[Fragment(provider="p", model="m", data={"cost": cost}, full=True)],
    )


def merged_cost(*layers: Layer) -> tuple[dict[str, Any], list[Any]]:
    m = merge(list(layers), first_index=1)
    issues = agree(m, 1)
    return m.models[("p", "m")]["cost"], issues


def test_two_that_agree_overrule_the_first_and_provenance_keeps_its_value() -> None:
    cost, issues = merged_cost(upstream("c", input=5.5), upstream("b", input=5.5), upstream("a", input=16.5))
    assert cost["input"] == 5.5
    assert [(i.stage, i.source, i.field) for i in issues] == [("agree", "a", "cost.input")]
    assert "16.5 overruled: b, c agree on 5.5" in issues[0].message


@pytest.mark.parametrize(
    ("values", "served"),
    [
        ((1.0, 2.0, 3.0), 3.0),  # nobody agrees: precedence
        ((1.0, 1.0, 3.0, 3.0), 3.0),  # two camps of two: precedence (the highest is in one of them)
        ((5.0, 5.0, 5.0), 5.0),  # everyone agrees
        ((2.0, 3.0, 3.0), 3.0),  # the winner has company: it stands
        ((0.049999999999999996, 0.05, 0.07), 0.05),  # float noise is agreement; 0.07 is overruled
    ],
)
def test_without_one_majority_against_it_precedence_decides(values: tuple[float, ...], served: float) -> None:
    layers = [upstream(f"u{i}", input=v) for i, v in enumerate(values)]
    cost, _ = merged_cost(*layers)
    assert same(cost["input"], served)


def test_rounding_is_a_disagreement_but_float_noise_is_not() -> None:
    assert not same(0.13, 0.125) and same(0.049999999999999996, 0.05) and not same(True, 1)


@pytest.fixture(scope="module")
def shared() -> dict[str, str]:
    return {"models.dev": str(API), "litellm": str(LITELLM), "genai-prices": str(GENAI)}


def test_the_cases_the_issue_names_come_out_as_billed(shared: dict[str, str]) -> None:
    built = inputs.catalog(Config(patch_dirs=[]).with_inputs(shared, [], None), None)
    au = built.models[AU].cost
    assert au is not None and (au.input, au.output, au.cache_read, au.cache_write) == (5.5, 27.5, 0.55, 6.875)
    for spec, price in (("azure:gpt-5", 0.125), ("azure:gpt-5-nano", 0.005), ("azure:gpt-5.2", 0.175)):
        cost = built.models[spec].cost
        assert cost is not None and cost.cache_read == price, spec
    winner, deleted, replaced = built.model_sources[AU]["cost.input"]
    assert built.sources[winner].name == "litellm" and not deleted
    assert (built.sources[replaced[-1][0]].name, replaced[-1][1]) == ("models.dev", 16.5)  # what it overruled
    said = [i for i in built.report.issues if i.stage == "agree" and i.model == "au.anthropic.claude-opus-4-6-v1"]
    assert {i.field for i in said} == {"cost.input", "cost.output", "cost.cache_read", "cost.cache_write"}
    listed = {(c.spec, c.field): c for c in conflicts(built)}
    assert all(listed[(AU, i.field)].overruled == i.message for i in said)  # check --conflicts says why
    for spec in ("deepseek:deepseek-v4-flash", "deepseek:deepseek-v4-pro"):  # LiteLLM's 0 would make writes free
        cost = built.models[spec].cost
        assert cost is not None and cost.input > 0 and cost.cache_write == cost.input, spec
        winner, _, replaced = built.model_sources[spec]["cost.cache_write"]
        assert built.sources[winner].name == "enrich"  # derived: billed as input
        assert (built.sources[replaced[-1][0]].name, replaced[-1][1]) == ("litellm", 0.0)
    dearer = built.models["deepseek:deepseek-v4-flash"]
    assert dearer.cost is not None and dearer.cost.cache_write == 0.14


def test_consensus_false_is_plain_precedence(shared: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "llmdbd.toml"
    path.write_text("consensus = false\n")
    from llmdbd.config import load

    config = load(path, {})[0].with_inputs(shared, [], None)
    assert config.consensus is False
    built = inputs.catalog(config, None)
    au = built.models[AU].cost
    assert au is not None and au.input == 16.5
    assert not [i for i in built.report.issues if i.stage == "agree"]
    deepseek = built.models["deepseek:deepseek-v4-flash"].cost
    assert deepseek is not None and deepseek.cache_write == deepseek.input  # no agreement: the maker's rule


def test_a_patch_is_never_overruled(shared: dict[str, str], tmp_path: Path) -> None:
    patches = tmp_path / "patches.d"
    patches.mkdir()
    doc = {
        "provider": {"id": "amazon_bedrock"},
        "models": [{"id": "au.anthropic.claude-opus-4-6-v1", "cost": {"input": 20.0}}],
    }
    (patches / "au.json").write_text(json.dumps(doc))
    built = inputs.catalog(Config(patch_dirs=[str(patches)]).with_inputs(shared, [], None), None)
    au = built.models[AU].cost
    assert au is not None and au.input == 20.0 and au.output == 27.5  # its own field stands; the others agree


def test_a_daemons_cache_is_not_reused_across_a_change_of_the_rule() -> None:
    cache = ModelCache()
    layers = [upstream("b", input=5.5), upstream("a", input=16.5)]
    for layer in layers:
        layer.prepared = True
    assert cache.split(layers, set(), True) == ({}, layers)
    cache.remember(("p", "x"), ("entry",))  # type: ignore[arg-type]
    assert cache.split(layers, set(), True)[0]  # same layers and rule: reused
    assert cache.split(layers, set(), False) == ({}, layers)  # the rule changed: nothing reused


def test_build_timing_names_the_stage() -> None:
    built = build([upstream("b", input=1.0), upstream("a", input=2.0)])
    assert "agree" in built.report.stage_ms


@pytest.fixture(scope="module")
def slipped_litellm(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of LiteLLM's map with one price 1,000 times too high (per-token read as per-thousand)."""
    doc = json.loads(LITELLM.read_bytes())
    doc["gpt-4o"]["input_cost_per_token"] *= 1000
    path = tmp_path_factory.mktemp("slip") / "litellm.json"
    path.write_text(json.dumps(doc))
    return str(path)


@pytest.mark.parametrize(
    "precedence", [["models.dev", "litellm", "genai-prices"], ["litellm", "models.dev", "genai-prices"]]
)
def test_a_unit_slip_is_refused_naming_the_source_field_and_values(slipped_litellm: str, precedence: list[str]) -> None:
    files = {"models.dev": str(API), "litellm": slipped_litellm, "genai-prices": str(GENAI)}
    config = Config(patch_dirs=[], upstreams=precedence, consensus=False).with_inputs(files, [], None)
    built = inputs.catalog(config, None)
    cost = built.models["openai:gpt-4o"].cost
    assert cost is not None and cost.input == 2.5  # whichever precedence: the slip never serves
    said = [i for i in built.report.issues if i.stage == "agree" and i.model == "gpt-4o"]
    assert len(said) == 1 and said[0].source == "litellm" and said[0].field == "cost.input"
    assert said[0].message.startswith("cost.input 2500.0 refused as a unit error"), said[0].message


def test_against_one_other_price_a_slip_is_named_not_guessed(slipped_litellm: str) -> None:
    files = {"models.dev": str(API), "litellm": slipped_litellm}
    config = Config(patch_dirs=[], upstreams=["litellm", "models.dev"]).with_inputs(files, [], None)
    built = inputs.catalog(config, None)
    said = [i for i in built.report.issues if i.stage == "agree" and i.model == "gpt-4o"]
    assert [i.message for i in said] == [
        "cost.input 2500.0 and models.dev's 2.5 are more than 100x apart: one is a unit error;"
        " precedence keeps this one"
    ]


def test_after_a_slip_the_rest_still_agree_and_a_zero_never_serves() -> None:
    layers = [upstream("a", input=2.0), upstream("b", input=2.0), upstream("c", input=3.0), upstream("w", input=2000.0)]
    cost, _ = merged_cost(*layers)
    assert cost["input"] == 2.0  # a and b agree: not c's 3.0 by precedence
    layers = [upstream("a", input=2.0), upstream("b", input=2.0), upstream("z", input=0.0), upstream("w", input=2000.0)]
    cost, _ = merged_cost(*layers)
    assert cost["input"] == 2.0  # z's 0 is no price to fall back on


def test_a_follower_rebuilds_its_leaders_content_hash_after_agreement(tmp_path: Path) -> None:
    """The rule applied again to a leader's recorded provenance changes nothing (a follower's Carried layer)."""
    from llmdbd.output.publish import write_snapshot
    from llmdbd.sources import packaged

    for values in ((2.0, 2.0, 3.0, 2000.0), (5.5, 5.5, 16.5), (1.0, 2.0, 3.0)):
        layers = [upstream(f"u{i}", input=v, output=1.0) for i, v in enumerate(values)]
        leader = build(layers)
        path = tmp_path / "leader.llmdb"
        write_snapshot(leader, path)
        follower = build([packaged.load(path)])
        assert follower.content_hash == leader.content_hash, values
        assert follower.models["p:m"].cost == leader.models["p:m"].cost
