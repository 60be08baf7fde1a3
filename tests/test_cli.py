"""The `llmdb` command: tables, `--json` in the schema's shape, and exit codes 0 / 1 / 2 / 3."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from catalogs import PACKAGED_MODELS

import llmdb


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmdb.cli", "--snapshot", str(llmdb.packaged_path()), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_get_prints_a_card_and_json() -> None:
    table = run("get", "openai:gpt-4o")
    assert table.returncode == 0 and "128000" in table.stdout and "$2.5 in" in table.stdout
    data = json.loads(run("get", "google-vertex:claude-sonnet-4-5@20250929", "--json").stdout)
    assert data["spec"] == "google_vertex:claude-sonnet-4-5@20250929" and data["limits"]["output"] == 64000
    assert set(data) >= {"capabilities", "cost", "modalities", "provider_model_id", "extra"}


def test_list_filters_and_json_array() -> None:
    out = run("list", "--provider", "anthropic", "--require", "tools,reasoning", "--order-by", "context", "--json")
    models = json.loads(out.stdout)
    assert out.returncode == 0 and models
    assert all(m["provider"] == "anthropic" and m["capabilities"]["reasoning"]["enabled"] for m in models)
    table = run("list", "--provider", "openai", "--input", "image", "--min-context", "400000")
    assert table.returncode == 0 and "model(s)" in table.stdout


def test_select_json_has_model_and_trace() -> None:
    data = json.loads(run("select", "--require", "tools,json_schema", "--prefer", "openai", "--json").stdout)
    assert data["model"]["provider"] == "openai" and data["trace"][0]["step"] == "prefer openai"


def test_explain_cost_providers_info() -> None:
    prov = json.loads(run("explain", "openai:gpt-4o", "--json").stdout)
    assert prov["cost.input"]["source"] == "models.dev"
    cost = run("cost", "google:gemini-2.5-pro", "--input-tokens", "250000", "--output-tokens", "1000", "--json")
    assert json.loads(cost.stdout)["tier"] == 200000
    assert "236 provider(s)" in run("providers").stdout  # models.dev's 147 and LiteLLM's own
    assert json.loads(run("info", "--json").stdout)["models"] == PACKAGED_MODELS  # with OpenRouter's 154 models


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("get", "openai:gpt-4oo"), 1, "did you mean"),
        (("select", "--require", "embeddings,reasoning,tools_strict", "--scope", "anthropic"), 1, "no allowed model"),
        (("get", "gpt-oss-120b"), 2, "name the provider"),
        (("get", "opnai:gpt-4o"), 2, "did you mean 'openai'"),
        (("list", "--require", "tool"), 2, "did you mean 'tools'?; valid: chat,"),
        (("cost", "openai:gpt-4o"), 2, "nothing to price: give --usage FILE"),
    ],
)
def test_exit_codes(args: tuple[str, ...], code: int, message: str) -> None:
    out = run(*args)
    assert out.returncode == code and message in out.stderr


def test_unreadable_snapshot_exits_3(tmp_path: Path) -> None:
    bad = tmp_path / "bad.llmdb"
    bad.write_bytes(b"not a snapshot" * 100)
    out = subprocess.run(
        [sys.executable, "-m", "llmdb.cli", "--snapshot", str(bad), "get", "openai:gpt-4o"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 3 and "bad magic" in out.stderr
