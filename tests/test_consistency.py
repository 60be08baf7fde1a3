"""Contradictions resolved or shown (`llmdbd/engine/consistency.py`, docs/merging.md "Contradictions"): each class
the issue names, on the real shared files, the counts `llmdbd check --quality` reports, and a patch's word
standing over a rule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import llmdb
from llmdb.schema import SourceInfo
from llmdbd.engine import build
from llmdbd.engine.catalog import BuiltCatalog
from llmdbd.engine.consistency import quality, resolved
from llmdbd.engine.layer import Fragment, Layer

SHARED = Path(__file__).resolve().parents[2] / "shared" / "upstream"


def test_counts_resolved_and_left(both_catalog: BuiltCatalog) -> None:
    assert resolved(both_catalog.report) == {
        "embedding_chat": 4,
        "speech_chat": 8,
        "parallel_without_tools": 3,
        "output_above_context": 123,
        "duplicate_spelling": 21,
    }
    left = {name: len(specs) for name, specs in quality(both_catalog.models).items()}
    assert left == {
        "embedding_chat": 0,
        "speech_chat": 0,
        "parallel_without_tools": 0,
        "output_above_context": 0,
        "tier_above_context": 36,  # shown, not resolved: Bedrock's 1M-token beta
        "duplicate_spelling": 0,
    }


@pytest.mark.parametrize(
    "spec", ["vercel:cohere/embed-v4.0", "vercel:amazon/titan-embed-text-v2", "vercel:mistral/mistral-embed"]
)
def test_an_embedding_model_is_no_chat_model(both_catalog: BuiltCatalog, spec: str) -> None:
    model = both_catalog.models[spec]
    assert (model.mode, model.capabilities.chat, model.capabilities.embeddings) == ("embedding", False, True)
    index, _, replaced = both_catalog.model_sources[spec]["mode"]
    assert both_catalog.sources[index].name == "enrich"
    assert (both_catalog.sources[replaced[-1][0]].name, replaced[-1][1]) == ("litellm", "chat")


def test_speech_parallel_and_output(both_catalog: BuiltCatalog) -> None:
    lyria = both_catalog.models["google:lyria-3.5"]
    assert (lyria.capabilities.chat, lyria.mode) == (False, "audio_speech")
    tts = both_catalog.models["google:gemini-2.5-pro-preview-tts"]
    assert not tts.capabilities.chat
    chat = both_catalog.models["openai:gpt-5-chat-latest"].capabilities.tools
    assert (chat.enabled, chat.parallel) == (False, False)
    large = both_catalog.models["302ai:mistral-large-2512"].limits
    assert large.output == large.context == 128000
    raw = json.loads((SHARED / "models.dev" / "api.json").read_bytes())["302ai"]["models"]["mistral-large-2512"]
    assert raw["limit"]["output"] > raw["limit"]["context"]  # what the upstream said


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("mistral:mistral-medium-3-5", "mistral:mistral-medium-3.5"),
        ("llama:llama-3.3-70b-instruct", "llama:Llama-3.3-70B-Instruct"),
        ("azure_ai:model-router", "azure_ai:model_router"),
    ],
)
def test_one_model_per_spelling(both_catalog: BuiltCatalog, one: str, other: str) -> None:
    assert one in both_catalog.models and other not in both_catalog.models
    assert other.split(":", 1)[1] in both_catalog.models[one].aliases
    assert llmdb.get(other).spec == one  # the packaged catalog: the other spelling still names it


def test_a_patch_value_stands() -> None:
    def layer(name: str, kind: str, data: dict[str, object]) -> Layer:
        return Layer(
            info=SourceInfo(name=name, kind=kind),
            fragments=[Fragment(provider="acme", model="acme-embed-1", data=data, full=True)],
        )

    record = {"mode": "chat", "capabilities": {"chat": True}, "limits": {"context": 100, "output": 200}}
    upstream_only = build([layer("up", "upstream", record)])
    model = upstream_only.models["acme:acme-embed-1"]
    assert (model.mode, model.capabilities.chat, model.limits.output) == ("embedding", False, 100)
    patched = build([layer("up", "upstream", record), layer("patch:x.json", "patch", {"limits": {"output": 200}})])
    assert patched.models["acme:acme-embed-1"].limits.output == 200  # the operator's word


def test_a_mode_enrich_derived_follows_the_rule() -> None:
    layer = Layer(
        info=SourceInfo(name="up", kind="upstream"),
        fragments=[
            Fragment(
                provider="acme",
                model="acme-tts-1",
                data={"capabilities": {"chat": True}, "modalities": {"input": ["text"], "output": ["audio"]}},
                full=True,
            )
        ],
    )
    model = build([layer]).models["acme:acme-tts-1"]
    assert (model.capabilities.chat, model.mode) == (False, "audio_speech")


def test_check_quality_cli(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "llmdbd",
        "check",
        "--as-of",
        "2026-12-07",
        "--upstream",
        f"models.dev={SHARED / 'models.dev' / 'api.json'}",
        "--upstream",
        f"litellm={SHARED / 'litellm' / 'model_prices_and_context_window.json'}",
        "--quality",
        "--json",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)  # one object: the report went to stderr
    assert found["resolved"]["embedding_chat"] == 4 and found["left"]["embedding_chat"] == []
    assert set(found["left"]) == {
        "embedding_chat",
        "speech_chat",
        "parallel_without_tools",
        "output_above_context",
        "tier_above_context",
        "duplicate_spelling",
    }
    text = subprocess.run(command[:-1], capture_output=True, text=True, timeout=300)
    assert "class                    resolved  left" in text.stdout
    assert "Traceback" not in text.stderr
