"""The catalog over HTTP (`llmdb serve`, docs/serve.md): a real server process on 127.0.0.1 over the packaged
snapshot, read with OpenAI's own SDK and plain HTTP; errors are JSON with the error's class, never a traceback;
`import llmdb` stays free of the web framework."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from daemon_helpers import wait_for

import llmdb


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "llmdb", "serve", "--port", str(port), "--snapshot", str(llmdb.packaged_path())],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: get(f"{base}/healthz")[0] == 200, "the server", timeout=30)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return 0, None


def test_openai_sdk_lists_and_retrieves(server: str) -> None:
    client = openai.OpenAI(base_url=f"{server}/v1", api_key="unused", max_retries=0)
    listed = list(client.models.list())
    assert len(listed) == len(llmdb.models())  # allowed, not deprecated: as `llmdb list`
    model = client.models.retrieve("openai:gpt-4o")
    assert (model.id, model.owned_by, model.object) == ("openai:gpt-4o", "openai", "model")
    extra: dict[str, Any] = model.model_extra or {}
    assert extra["llmdb"]["limits"]["context"] == llmdb.get("openai:gpt-4o").limits.context
    assert extra["llmdb"]["cost"]["input"] == 2.5
    assert client.models.retrieve("gpt-4o").id == "openai:gpt-4o"  # every name form `get` takes
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("openai:gpt-9000")


def test_filters_as_llmdb_list(server: str) -> None:
    status, body = get(f"{server}/v1/models?provider=anthropic&require=tools&min_context=500000&order_by=cost")
    assert status == 200
    expected = llmdb.models("anthropic", require=["tools"], min_context=500_000, order_by="cost")
    assert [m["id"] for m in body["data"]] == [m.spec for m in expected] and expected


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [
        ("/v1/models/grok-4", 409, "AmbiguousModel"),
        ("/v1/models/openai:gpt-4oo", 404, "ModelNotFound"),
        ("/v1/models?bogus=1", 400, "InvalidQuery"),
        ("/v1/models?min_context=lots", 400, "InvalidQuery"),
        ("/v1/models?min_context=inf", 400, "InvalidQuery"),
        ("/api/models?max_input_cost=nan", 400, "InvalidQuery"),
        ("/v1/models?provider=nope", 404, "UnknownProvider"),
        ("/v1/models?require=" + "x" * 5000, 414, "HTTPError"),
        ("/nowhere", 404, "HTTPError"),
    ],
)
def test_errors_are_json(server: str, path: str, status: int, kind: str) -> None:
    code, body = get(server + path)
    assert (code, body["error"]["type"]) == (status, kind)
    assert "Traceback" not in body["error"]["message"]
    assert get(f"{server}/healthz")[0] == 200  # and the server keeps serving


def test_ambiguity_carries_its_candidates(server: str) -> None:
    _, body = get(f"{server}/v1/models/grok-4")
    assert body["error"]["candidates"] == ["azure_ai:grok-4", "helicone:grok-4", "llmgateway:grok-4"]
    assert body["error"]["message"].startswith("'grok-4' is not listed by xai")


def test_import_llmdb_stays_light() -> None:
    code = (
        "import sys, llmdb; llmdb.get('openai:gpt-4o');"
        " print(sorted(m for m in ('starlette', 'uvicorn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


def test_api_models_paginated_with_every_filter(server: str) -> None:
    expected = [m.spec for m in llmdb.models(require=["tools", "json_schema"], order_by="cost")]
    status, first = get(f"{server}/api/models?require=tools,json_schema&order_by=cost&limit=100")
    assert status == 200 and first["total"] == len(expected) > 200
    _, second = get(f"{server}/api/models?require=tools,json_schema&order_by=cost&limit=100&offset=100")
    assert [m["spec"] for m in first["data"] + second["data"]] == expected[:200]
    assert first["data"][0] == json.loads(subprocess_json("get", expected[0]))  # the CLI's --json, byte for byte
    for bad in ("limit=0", "limit=5000", "offset=-1", "limit=ten"):
        code, body = get(f"{server}/api/models?{bad}")
        assert (code, body["error"]["type"]) == (400, "InvalidQuery"), bad


def subprocess_json(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "llmdb", *args, "--json"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_api_names_hosts_select_providers_info(server: str) -> None:
    assert get(f"{server}/api/models/gpt-4o")[1]["spec"] == "openai:gpt-4o"
    _, found = get(f"{server}/api/resolve/claude-3-5-sonnet-latest")
    assert (found["spec"], found["rule"]) == ("anthropic:claude-3-5-sonnet-20241022", "snapshot") and found["note"]
    _, hosts = get(f"{server}/api/hosts/claude-sonnet-4.5")
    assert [m["spec"] for m in hosts] == [m.spec for m in llmdb.hosts("claude-sonnet-4.5")]
    _, chosen = get(f"{server}/api/select?require=tools&min_coding=60&order_by=cost")
    assert chosen["model"]["spec"] == llmdb.select(require=["tools"], min_coding=60, order_by="cost").model.spec
    rejected = chosen["trace"][0]["rejected_by"]
    assert next(n for why, n in rejected.items() if why.startswith("coding >= 60")) > 1000
    _, providers = get(f"{server}/api/providers")
    assert {p["id"] for p in providers} == {p.id for p in llmdb.providers()}
    _, info = get(f"{server}/api/info")
    assert info["content_hash"] == llmdb.info()["content_hash"]
    code, body = get(f"{server}/api/hosts/gpt-4o?min_context=5")
    assert (code, body["error"]["type"]) == (400, "InvalidQuery") and "known here" in body["error"]["message"]
