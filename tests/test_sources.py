"""Sources: patch files, config overrides and code overrides become layers with the right precedence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from catalogs import API

from llmdbd import inputs
from llmdbd.engine import BuiltCatalog, build
from llmdbd.engine.layer import Layer
from llmdbd.sources import modelsdev, patches
from llmdbd.sources.overrides import Overrides


@pytest.fixture(scope="module")
def upstream_bytes() -> bytes:
    return API.read_bytes()


def upstream(data: bytes) -> Layer:
    return modelsdev.load_bytes(data, file=str(API))


def test_models_dev_names_are_accepted_in_patches(tmp_path: Path, upstream_bytes: bytes) -> None:
    (tmp_path / "a.json").write_text(
        json.dumps(
            {
                "provider": {"id": "openai", "api": "https://proxy.example/v1"},
                "models": [{"id": "gpt-4o", "limit": {"context": 64000}, "tool_call": False, "cost": {"input": 3}}],
            }
        )
    )
    c = build(inputs.layers([upstream(upstream_bytes)], patches.load_dirs([str(tmp_path)])))
    m = c.models["openai:gpt-4o"]
    assert m.limits.context == 64000 and m.limits.output == 16384
    assert not m.capabilities.tools.enabled
    assert m.cost is not None and (m.cost.input, m.cost.output) == (3.0, 10.0)
    assert c.providers["openai"].base_url == "https://proxy.example/v1"


def test_toml_patches_and_spec_entries(tmp_path: Path, upstream_bytes: bytes) -> None:
    (tmp_path / "b.toml").write_text(
        '[[models]]\nspec = "google-vertex:claude-sonnet-4-5@20250929"\ntags = ["eu"]\n'
        "[models.capabilities.json]\nstrict = true\n"
    )
    c = build(inputs.layers([upstream(upstream_bytes)], patches.load_dirs([str(tmp_path)])))
    m = c.models["google_vertex:claude-sonnet-4-5@20250929"]
    assert m.tags == ("eu",) and m.capabilities.json.strict
    assert c.provenance(m.spec)["tags"].file == str(tmp_path / "b.toml")


def test_patches_apply_in_file_name_order_across_directories(tmp_path: Path, upstream_bytes: bytes) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    (second / "10-low.json").write_text(json.dumps({"models": [{"spec": "openai:gpt-4o", "name": "ten"}]}))
    (first / "20-high.json").write_text(json.dumps({"models": [{"spec": "openai:gpt-4o", "name": "twenty"}]}))
    (first / ".30-hidden.json").write_text(json.dumps({"models": [{"spec": "openai:gpt-4o", "name": "x"}]}))
    (first / "40-ignored.txt").write_text("not a patch")
    c = build(inputs.layers([upstream(upstream_bytes)], patches.load_dirs([str(first), str(second)])))
    prov = c.provenance("openai:gpt-4o")["name"]
    assert c.models["openai:gpt-4o"].name == "twenty"
    assert [o.source for o in prov.overridden] == ["models.dev", "patch:10-low.json"]


def test_a_patch_can_add_a_model_and_a_provider(tmp_path: Path, upstream_bytes: bytes) -> None:
    (tmp_path / "local.json").write_text(
        json.dumps(
            {
                "provider": {"id": "my-vllm", "name": "Local vLLM", "base_url": "http://10.0.0.5/v1"},
                "models": [{"id": "llama-3.3-70b", "new": True, "limits": {"context": 131072}, "tool_call": True}],
            }
        )
    )
    c = build(inputs.layers([upstream(upstream_bytes)], patches.load_dirs([str(tmp_path)])))
    assert c.providers["my_vllm"].aliases == ("my-vllm",)
    m = c.models["my_vllm:llama-3.3-70b"]
    assert m.limits.context == 131072 and m.capabilities.tools.enabled and m.base_id == "llama-3.3-70b"


def test_exclude_is_relative_to_the_patch_provider(tmp_path: Path, upstream_bytes: bytes) -> None:
    (tmp_path / "x.json").write_text(json.dumps({"provider": {"id": "openai"}, "exclude": ["gpt-4o*"]}))
    c = build(inputs.layers([upstream(upstream_bytes)], patches.load_dirs([str(tmp_path)])))
    assert not [s for s in c.models if s.startswith("openai:gpt-4o")]
    assert "anthropic:claude-sonnet-4-5" in c.models


def _catalog(tmp_path: Path, upstream_bytes: bytes, code: str, config: object) -> BuiltCatalog:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "a.json").write_text(json.dumps({"models": [{"spec": "openai:gpt-4o", "name": "patch"}]}))
    module = tmp_path / "overrides.py"
    module.write_text(code)
    return build(
        inputs.layers(
            [upstream(upstream_bytes)],
            patches.load_dirs([str(tmp_path / "p")]),
            config_overrides=config,
            config_file="/etc/llmdb/llmdbd.toml",
            overrides_module=str(module),
        )
    )


def test_precedence_is_code_then_config_then_files_then_upstream(tmp_path: Path, upstream_bytes: bytes) -> None:
    code = (
        "from llmdbd import Overrides\n"
        "overrides = Overrides()\n"
        'overrides.model("openai:gpt-4o", name="code")\n'
        'overrides.model("openai:gpt-4o-mini", capabilities={"tools": {"streaming": False}})\n'
        'overrides.provider("openai", env=["OPENAI_KEY"])\n'
        'overrides.exclude("openai:o1-*")\n'
    )
    config = {"models": [{"spec": "openai:gpt-4o", "name": "config", "family": "from-config"}]}
    c = _catalog(tmp_path, upstream_bytes, code, config)
    m = c.models["openai:gpt-4o"]
    assert (m.name, m.family) == ("code", "from-config")
    chain = c.provenance("openai:gpt-4o")["name"]
    assert chain.source == "code"
    assert [(o.source, o.value) for o in chain.overridden] == [
        ("models.dev", "GPT-4o"),
        ("patch:a.json", "patch"),
        ("config", "config"),
    ]
    assert c.provenance("openai:gpt-4o")["family"].file == "/etc/llmdb/llmdbd.toml"
    assert c.models["openai:gpt-4o-mini"].capabilities.tools.streaming is False
    assert c.models["openai:gpt-4o-mini"].capabilities.tools.strict is True  # the quirk still fills the rest
    assert c.providers["openai"].env == ("OPENAI_API_KEY", "OPENAI_KEY")
    assert not [s for s in c.models if s.startswith("openai:o1-")]


def test_overrides_object_builds_a_layer() -> None:
    o = Overrides()
    o.model("openai:gpt-4o", cost={"input": 1})
    o.provider("openai", name="OpenAI (proxy)")
    layer = o.to_layer()
    assert layer.issues == []
    assert {(f.provider, f.model) for f in layer.fragments} == {("openai", "gpt-4o"), ("openai", None)}


def test_missing_patch_directory_is_not_an_error(tmp_path: Path) -> None:
    assert patches.load_dirs([tmp_path / "nope"]) == []
