"""A build that reuses the upstream layers' models (the daemon's case) equals a build from scratch."""

from __future__ import annotations

import json
from pathlib import Path

from catalogs import API, LITELLM

from llmdbd import inputs
from llmdbd.engine import BuiltCatalog, ModelCache, build
from llmdbd.engine.layer import Layer
from llmdbd.engine.normalize import normalize
from llmdbd.engine.validate import validate
from llmdbd.output.snapshot import Memo, encode_snapshot
from llmdbd.sources import litellm, modelsdev, patches


def prepared_upstream() -> Layer:
    layer = modelsdev.load_path(API)
    normalize(layer)
    validate(layer)
    return layer


def same(a: BuiltCatalog, b: BuiltCatalog) -> None:
    assert a.content_hash == b.content_hash
    assert a.models == b.models
    assert a.sources == b.sources
    assert a.model_sources == b.model_sources  # every field of every model: same source, same overridden values
    assert sorted(map(str, a.report.issues)) == sorted(map(str, b.report.issues))


def test_cached_builds_equal_fresh_builds_as_patches_come_and_go(tmp_path: Path) -> None:
    cache = ModelCache()
    upstream = prepared_upstream()
    steps = [
        {},
        {"a.json": {"models": [{"spec": "openai:gpt-4o", "cost": {"input": 1.0}, "tags": ["x"]}]}},
        {"a.json": {"models": [{"spec": "openai:gpt-4o", "cost": {"input": 3.0}}]}},  # the same model touched again
        {
            "a.json": {"models": [{"spec": "openai:gpt-4o", "cost": {"input": 2.0}}]},
            "b.json": {"models": [{"spec": "anthropic:claude-sonnet-4-5", "family": "__delete__"}]},
            "c.json": {"provider": {"id": "openai"}, "exclude": ["o1*"]},
        },
        {"b.json": {"models": [{"spec": "anthropic:claude-sonnet-4-5", "name": "renamed"}]}},
        {
            "d.json": {
                "models": [
                    {"spec": "openai:gpt-4o", "modalities": {"input": ["text", "audio"]}, "status": "deprecated"},
                    {"spec": "openai:gpt-4o-mini", "capabilities": {"tools": {"enabled": False}}},
                ]
            }
        },
        {},
    ]
    memo = Memo()
    for i, files in enumerate(steps):
        directory = tmp_path / str(i)
        directory.mkdir()
        for name, doc in files.items():
            (directory / name).write_text(json.dumps(doc))
        cached = build(inputs.layers([upstream], patches.load_dirs([str(directory)])), cache=cache)
        fresh = build(inputs.layers([prepared_upstream()], patches.load_dirs([str(directory)])))
        same(cached, fresh)
        # what the daemon publishes, encoded with what the last encoding left, equals a file encoded from scratch
        assert encode_snapshot(cached, epoch=1, built_at=0.0, memo=memo) == encode_snapshot(
            cached, epoch=1, built_at=0.0
        )
    assert len(cache) > 5000
    assert cached.models["openai:gpt-4o"].cost.input == 2.5  # type: ignore[union-attr]  # back to upstream


def test_a_new_base_layer_resets_the_cache() -> None:
    cache = ModelCache()
    first = prepared_upstream()
    build([first], cache=cache)
    doc = json.loads(API.read_bytes())
    doc["openai"]["models"]["gpt-4o"]["cost"]["input"] = 9
    second = modelsdev.load_bytes(json.dumps(doc).encode())
    normalize(second)
    validate(second)
    assert build([second], cache=cache).models["openai:gpt-4o"].cost.input == 9.0  # type: ignore[union-attr]
    assert cache.base is second


def test_with_two_upstreams_a_patch_rebuild_reuses_both_and_equals_a_fresh_build(tmp_path: Path) -> None:
    def upstreams() -> list[Layer]:
        layers = [litellm.load_path(LITELLM), modelsdev.load_path(API)]
        for layer in layers:
            normalize(layer)
            validate(layer)
        return layers

    cache, base = ModelCache(), upstreams()
    build(inputs.layers(base, []), cache=cache)
    assert len(cache) > 8000  # models of both upstreams, LiteLLM-only ones included
    (tmp_path / "p.json").write_text(json.dumps({"models": [{"spec": "openai:gpt-4o", "cost": {"input": 1.0}}]}))
    cached = build(inputs.layers(base, patches.load_dirs([str(tmp_path)])), cache=cache)
    same(cached, build(inputs.layers(upstreams(), patches.load_dirs([str(tmp_path)]))))
