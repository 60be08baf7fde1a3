"""A build that reuses the lowest layer's models (the daemon's case) equals a build from scratch."""

from __future__ import annotations

import json
from pathlib import Path

from llmdbd.build import BaseCache, build, collect_layers
from llmdbd.catalog import Catalog
from llmdbd.layer import Layer
from llmdbd.normalize import normalize
from llmdbd.sources import modelsdev
from llmdbd.validate import validate

API = Path(__file__).resolve().parents[2] / "shared" / "upstream" / "models.dev" / "api.json"


def prepared_upstream() -> Layer:
    layer = modelsdev.load_path(API)
    normalize([layer])
    validate([layer])
    return layer


def same(a: Catalog, b: Catalog) -> None:
    assert a.content_hash == b.content_hash
    assert a.models == b.models
    for spec in ("openai:gpt-4o", "anthropic:claude-sonnet-4-5", "scaleway:qwen3-embedding-8b"):
        if spec in a.models:
            assert a.provenance(spec) == b.provenance(spec), spec
    assert sorted(map(str, a.report.issues)) == sorted(map(str, b.report.issues))


def test_cached_builds_equal_fresh_builds_as_patches_come_and_go(tmp_path: Path) -> None:
    cache = BaseCache()
    upstream = prepared_upstream()
    steps = [
        {},
        {"a.json": {"models": [{"spec": "openai:gpt-4o", "cost": {"input": 1.0}, "tags": ["x"]}]}},
        {
            "a.json": {"models": [{"spec": "openai:gpt-4o", "cost": {"input": 2.0}}]},
            "b.json": {"models": [{"spec": "anthropic:claude-sonnet-4-5", "family": "__delete__"}]},
            "c.json": {"provider": {"id": "openai"}, "exclude": ["o1*"]},
        },
        {"b.json": {"models": [{"spec": "anthropic:claude-sonnet-4-5", "name": "renamed"}]}},
        {},
    ]
    for i, files in enumerate(steps):
        directory = tmp_path / str(i)
        directory.mkdir()
        for name, doc in files.items():
            (directory / name).write_text(json.dumps(doc))
        cached = build(collect_layers(upstream=upstream, patch_dirs=[str(directory)]), cache=cache)
        fresh = build(collect_layers(upstream=prepared_upstream(), patch_dirs=[str(directory)]))
        same(cached, fresh)
    assert len(cache.models) > 5000
    assert cached.models["openai:gpt-4o"].cost.input == 2.5  # type: ignore[union-attr]  # back to upstream


def test_a_new_base_layer_resets_the_cache() -> None:
    cache = BaseCache()
    first = prepared_upstream()
    build([first], cache=cache)
    doc = json.loads(API.read_bytes())
    doc["openai"]["models"]["gpt-4o"]["cost"]["input"] = 9
    second = modelsdev.load_bytes(json.dumps(doc).encode())
    normalize([second])
    validate([second])
    assert build([second], cache=cache).models["openai:gpt-4o"].cost.input == 9.0  # type: ignore[union-attr]
    assert cache.layer is second
