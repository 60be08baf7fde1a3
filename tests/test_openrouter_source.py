"""OpenRouter's model list as an upstream: read from the real list in ../shared, mapped to llmdb's fields as
docs/merging.md says, built beside models.dev and LiteLLM, polled by a real daemon from 127.0.0.1, and bad
bodies refused with the field named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from catalogs import LITELLM
from daemon_helpers import Daemon, client_read, status_json, wait_for
from upstream_server import Upstream

import llmdb
from llmdbd import inputs
from llmdbd.config import Config
from llmdbd.output.publish import write_snapshot
from llmdbd.sources import openrouter
from llmdbd.sources.upstreams import kind_of

SHARED = Path(__file__).resolve().parents[2] / "shared" / "upstream"
LIST = SHARED / "openrouter" / "models.json"
API = SHARED / "models.dev" / "api.json"


@pytest.fixture(scope="module")
def fields() -> dict[str, dict[str, Any]]:
    layer = openrouter.load_path(LIST)
    assert layer.issues == []
    return {f.model: f.data for f in layer.fragments if f.model is not None}


def test_every_listed_model_is_read_under_the_openrouter_provider(fields: dict[str, dict[str, Any]]) -> None:
    listed = json.loads(LIST.read_bytes())["data"]
    assert len(fields) == len(listed) == 457
    assert kind_of(LIST) == "openrouter"


def test_prices_are_scaled_exactly_and_overrides_are_context_tiers(fields: dict[str, dict[str, Any]]) -> None:
    cost = fields["qwen/qwen3.7-flash"]["cost"]
    assert (cost["input"], cost["output"], cost["cache_read"], cost["cache_write"]) == (0.03, 0.13, 0.006, 0.038)
    assert [t["above"] for t in cost["tiers"]] == [32000, 256000]
    assert cost["tiers"][1] == {"above": 256000, "input": 0.2, "output": 0.8, "cache_read": 0.04, "cache_write": 0.25}
    haiku = fields["anthropic/claude-haiku-4.5"]["cost"]
    assert haiku["cache_write_1h"] == 2.0 and haiku["per_unit"]["web_search"] == 0.01


def test_unknown_is_never_a_price(fields: dict[str, dict[str, Any]]) -> None:
    listed = json.loads(LIST.read_bytes())["data"]
    routers = [m["id"] for m in listed if m["pricing"]["prompt"] == "-1"]
    assert len(routers) == 5 and all("cost" not in fields[m] for m in routers)  # "-1": unknown
    free = [m for m in fields if m.endswith(":free")]
    assert len(free) == 18
    text_free = [m for m in free if fields[m].get("mode") == "chat"]
    assert text_free and all(fields[m]["cost"]["input"] == 0 for m in text_free)  # free, not unknown
    video = fields["black-forest-labs/flux-3-video"]  # "0" per token for a model billed per video: unknown
    assert "cost" not in video and video["mode"] == "video_generation"
    unknown_context = [m for m, f in fields.items() if "context" not in f.get("limits", {})]
    assert len(unknown_context) == sum(1 for m in listed if m["context_length"] == 0) == 43


def test_modalities_modes_parameters_and_what_has_no_field(fields: dict[str, dict[str, Any]]) -> None:
    modes = {f.get("mode") for f in fields.values()}
    assert modes == {"chat", "embedding", "audio_speech", "audio_transcription", "rerank", "image_generation",
                     "video_generation"}  # fmt: skip
    pdf = [m for m, f in fields.items() if "pdf" in f.get("modalities", {}).get("input", [])]
    assert len(pdf) == 102 and not any("file" in f.get("modalities", {}).get("input", []) for f in fields.values())
    qwen = fields["qwen/qwen3.7-flash"]["capabilities"]
    assert qwen["tools"]["enabled"] and qwen["reasoning"]["enabled"] and qwen["temperature"]
    with_efforts = [f for f in fields.values() if "reasoning_efforts" in f.get("extra", {})]
    arena = [f for f in fields.values() if "design_arena" in f.get("extra", {}).get("benchmarks", {})]
    assert len(arena) == 121 and with_efforts
    assert fields["openai/gpt-5.2-chat"]["lifecycle"]["retirement_date"] == "2026-08-10"
    assert fields["~anthropic/claude-haiku-latest"]["extra"]["alias_target"] == "anthropic/claude-haiku-4.5"


def test_artificial_analysis_indices_are_benchmarks(fields: dict[str, dict[str, Any]]) -> None:
    listed = json.loads(LIST.read_bytes())["data"]
    measured = [m["id"] for m in listed if (m.get("benchmarks") or {}).get("artificial_analysis")]
    assert len(measured) == 118 and sorted(m for m, f in fields.items() if "benchmarks" in f) == sorted(measured)
    assert fields["qwen/qwen3.8-max"]["benchmarks"] == {
        "intelligence": 53.4,
        "coding": 68.9,
        "agentic": 49.9,
        "source": "artificial_analysis",
    }


def test_an_index_outside_0_to_100_is_dropped_naming_it(tmp_path: Path) -> None:
    doc = json.loads(LIST.read_bytes())
    model = next(m for m in doc["data"] if m["id"] == "qwen/qwen3.8-max")
    model["benchmarks"]["artificial_analysis"]["coding_index"] = 689  # a slipped decimal point
    bad = tmp_path / "models.json"
    bad.write_text(json.dumps(doc))
    built = inputs.catalog(Config(patch_dirs=[]).with_inputs({"openrouter": str(bad)}, [], None), None)
    (issue,) = [i for i in built.report.issues if i.model == "qwen/qwen3.8-max" and i.source == "openrouter"]
    assert issue.field == "benchmarks.coding" and "<= 100" in issue.message
    kept = built.models["openrouter:qwen/qwen3.8-max"].benchmarks
    assert kept is not None and (kept.coding, kept.intelligence) == (None, 53.4)


def test_built_beside_models_dev_and_litellm(tmp_path: Path) -> None:
    files = {"models.dev": str(API), "litellm": str(LITELLM), "openrouter": str(LIST)}
    config = Config(patch_dirs=[]).with_inputs(files, [], None)
    built = inputs.catalog(config, None)
    assert not built.report.errors
    write_snapshot(built, tmp_path / "c.llmdb")
    catalog = llmdb.Catalog(tmp_path / "c.llmdb")
    spec = "openrouter:qwen/qwen3.7-flash"
    for name in ("openrouter/qwen/qwen3.7-flash", "qwen/qwen3.7-flash@openrouter", spec):
        assert catalog.get(name).spec == spec
    assert catalog.explain(spec)["cost.input"].source == "openrouter"
    assert catalog.cost(spec, input_tokens=100_000, output_tokens=1_000).total == pytest.approx(0.0104)  # tier 32k
    only = {"models.dev": str(API), "litellm": str(LITELLM)}
    without = inputs.catalog(Config(patch_dirs=[]).with_inputs(only, [], None), None)
    assert len(built.models) > len(without.models)


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"data": {"id": "x"}}', "`data` is dict, not a list of models"),
        (b'{"data": [1]}', "entry is int, not an object"),
        (b'{"data": [{"name": "no id"}]}', "id is not a non-empty string"),
    ],
)
def test_a_list_of_the_wrong_shape_says_where(body: bytes, said: str) -> None:
    layer = openrouter.load_bytes(body)
    assert [i.message for i in layer.issues] == [said] and [f.model for f in layer.fragments if f.model] == []


@pytest.mark.parametrize(("price", "field"), [("-5", "cost.input"), ("lots", "cost.input"), (True, "cost.input")])
def test_a_bad_price_is_refused_naming_the_field_and_the_rest_builds(tmp_path: Path, price: object, field: str) -> None:
    doc = json.loads(LIST.read_bytes())
    model = next(m for m in doc["data"] if m["id"] == "qwen/qwen3.7-flash")
    model["pricing"]["prompt"] = price
    bad = tmp_path / "models.json"
    bad.write_text(json.dumps(doc))
    built = inputs.catalog(Config(patch_dirs=[]).with_inputs({"openrouter": str(bad)}, [], None), None)
    found = [i for i in built.report.issues if i.model == "qwen/qwen3.7-flash" and i.source == "openrouter"]
    assert found and found[0].field is not None and found[0].field.startswith(field), found
    kept = built.models["openrouter:qwen/qwen3.7-flash"]  # the bad value is dropped, the rest of it kept
    assert kept.cost is not None and kept.cost.input is None and kept.cost.output == 0.13
    assert sum(1 for spec in built.models if spec.startswith("openrouter:")) == 457


@pytest.mark.slow
def test_a_real_daemon_polls_openrouter_from_loopback(tmp_path: Path) -> None:
    with Upstream() as server:
        server.body = LIST.read_bytes()
        config = (
            '[upstreams]\nprecedence = ["models.dev", "openrouter"]\n'
            f'[upstreams."models.dev"]\nfile = "{API}"\n'
            f'[upstreams.openrouter]\nurl = "{server.url}"\npoll_interval = 0.3\n'
        )
        d = Daemon(tmp_path, config).start()
        try:
            catalog = d.state / "catalog.llmdb"
            wait_for(lambda: (status_json(d.state) or {})["upstream"]["openrouter"].get("source") == "http", "fetch")
            spec = "openrouter:qwen/qwen3.7-flash"
            wait_for(lambda: client_read(catalog, spec).get("model"), "OpenRouter model published")
            assert client_read(catalog, spec)["model"]["cost"]["tiers"][0]["above"] == 32000
            server.mode = "notjson"
            wait_for(lambda: "rejected" in (status_json(d.state) or {})["upstream"]["openrouter"].get("error", ""), "x")
            assert client_read(catalog, spec).get("model") is not None  # the last good body stays
        finally:
            d.stop()
