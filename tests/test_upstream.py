"""Fetching upstream from a real HTTP server on 127.0.0.1: conditional requests, failures, limits, the cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from daemon_helpers import Daemon, client_read, price, status_json, wait_for
from upstream_server import SHARED, Upstream

from llmdbd.config import Upstream as Settings
from llmdbd.daemon import upstream
from llmdbd.errors import FetchError
from llmdbd.fetch import check_url


@pytest.fixture
def server() -> Upstream:
    with Upstream() as s:
        yield s  # type: ignore[misc]


def fetch(settings: Settings, cached: upstream.Cached | None = None) -> tuple[bytes, upstream.Cached] | None:
    return anyio.run(upstream.fetch, settings, cached)


def test_fetch_then_not_modified(server: Upstream) -> None:
    settings = Settings(url=server.url)
    got = fetch(settings)
    assert got is not None
    body, meta = got
    assert body == server.body and meta.etag and meta.sha256
    assert fetch(settings, meta) is None  # 304: nothing downloaded
    assert server.requests[-1]["If-None-Match"] == meta.etag


@pytest.mark.parametrize(
    ("mode", "reason", "settings"),
    [
        ("500", "HTTP 500", {}),
        ("truncated", "RemoteProtocolError", {}),
        ("huge", "byte limit", {"max_bytes": 10 * 1024 * 1024}),
        ("slow", "ReadTimeout", {"read_timeout": 0.5}),
    ],
)
def test_failures_are_errors_with_a_reason(
    server: Upstream, mode: str, reason: str, settings: dict[str, float]
) -> None:
    server.mode = mode
    with pytest.raises(FetchError, match=reason):
        fetch(Settings(url=server.url, **settings))  # type: ignore[arg-type]


def test_oversized_declared_body_is_refused_before_download(server: Upstream) -> None:
    with pytest.raises(FetchError, match="over the 1000 limit"):
        fetch(Settings(url=server.url, max_bytes=1000))


def test_plain_http_is_refused_except_to_loopback() -> None:
    with pytest.raises(FetchError, match="plain http"):
        check_url("http://models.example/api.json", False, "upstream.allow_http")
    check_url("http://127.0.0.1:1/api.json", False, "upstream.allow_http")
    check_url("http://[::1]:1/api.json", False, "upstream.allow_http")
    check_url("http://models.example/api.json", True, "upstream.allow_http")
    with pytest.raises(FetchError, match="only https"):
        check_url("ftp://models.example/api.json", True, "upstream.allow_http")


def test_bodies_that_are_not_a_usable_catalog_are_rejected() -> None:
    with pytest.raises(FetchError, match="not valid JSON"):
        upstream.accept("models.dev", b"<html>", 0, 0.5, "u")
    older = (SHARED / "api-older.json").read_bytes()
    with pytest.raises(FetchError, match="1936 models, down from 5276"):
        upstream.accept("models.dev", older, 5276, 0.5, "u")
    assert upstream.accept("models.dev", older, 5276, 0.7, "u").fragments
    with pytest.raises(FetchError, match="only 1 of 3 models are valid"):
        upstream.accept("models.dev", b'{"p": {"models": {"a": {"name": "ok"}, "b": 5, "c": [1]}}}', 0, 0.5, "u")
    with pytest.raises(FetchError, match="expected an object of providers"):
        upstream.accept("models.dev", b"[]", 0, 0.5, "u")


def test_cache_round_trip_and_torn_cache_is_ignored(tmp_path: Path) -> None:
    meta = upstream.Cached(url="u", etag='"e"', sha256="")
    body = b'{"p": {}}'
    import hashlib

    meta.sha256 = hashlib.sha256(body).hexdigest()
    upstream.write_cache(tmp_path, "models.dev", body, meta)
    cached = upstream.read_cache(tmp_path, "models.dev")
    assert cached is not None and cached[0] == body and cached[1].etag == '"e"'
    (tmp_path / "upstream" / "api.json").write_bytes(body[:-1])
    assert upstream.read_cache(tmp_path, "models.dev") is None


@pytest.mark.slow
def test_daemon_polls_keeps_the_last_good_body_and_reuses_the_cache(tmp_path: Path) -> None:
    with Upstream() as server:
        config = f'[upstreams."models.dev"]\nurl = "{server.url}"\npoll_interval = 0.3\nmax_shrink = 0.8\n'
        d = Daemon(tmp_path, config).start()
        try:
            catalog = d.state / "catalog.llmdb"
            # api.json has openai:gpt-5.4, the packaged catalog does too; use a price only the old file differs in
            wait_for(
                lambda: (s := status_json(d.state)) and s["upstream"]["models.dev"].get("source") == "http",
                "first fetch",
            )
            assert price(catalog, "deepseek:deepseek-chat") == 0.14
            server.mode = "500"
            wait_for(lambda: "HTTP 500" in _upstream_status(d.state).get("error", ""), "500")
            assert price(catalog, "deepseek:deepseek-chat") == 0.14  # still serving the last good data
            server.mode = "ok"
            server.body = (SHARED / "api-older.json").read_bytes()
            wait_for(lambda: price(catalog, "deepseek:deepseek-chat") == 0.28, "older catalog published")
        finally:
            d.stop()
        server.mode = "500"
        d.start()  # upstream unreachable at start: the cached body is used
        try:
            assert price(d.state / "catalog.llmdb", "deepseek:deepseek-chat") == 0.28
            assert any(e["event"] == "upstream_rejected" for e in d.events())
        finally:
            d.stop()


def _upstream_status(state: Path, name: str = "models.dev") -> dict[str, Any]:
    found: dict[str, Any] = ((status_json(state) or {}).get("upstream") or {}).get(name) or {}
    return found


def test_llmdbd_pull_caches_a_body_then_says_not_modified(server: Upstream, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LLMDBD_UPSTREAM_URL": server.url,
        "LLMDBD_UPSTREAMS": "models.dev",
        "LLMDBD_CONFIG": str(tmp_path / "none.toml"),
    }
    command = [sys.executable, "-m", "llmdbd", "pull", "--state-dir", str(tmp_path / "state")]
    first = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert first.returncode == 0 and first.stdout.startswith("models.dev: cached ") and server.url in first.stdout, (
        first.stderr
    )
    cached = upstream.read_cache(tmp_path / "state", "models.dev")
    assert cached is not None and cached[0] == server.body and cached[1].models > 1000
    again = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert again.returncode == 0 and again.stdout.strip() == f"models.dev: not modified: {server.url}"


@pytest.mark.slow
def test_daemon_polls_litellm_beside_models_dev_and_serves_both(tmp_path: Path) -> None:
    litellm = SHARED.parent / "litellm" / "model_prices_and_context_window.json"
    with Upstream() as server:
        server.body = litellm.read_bytes()
        config = (
            f'[upstreams."models.dev"]\nfile = "{SHARED / "api.json"}"\n'
            f'[upstreams.litellm]\nurl = "{server.url}"\npoll_interval = 0.3\n'
        )
        d = Daemon(tmp_path, config).start()
        try:
            catalog = d.state / "catalog.llmdb"
            wait_for(lambda: (status_json(d.state) or {})["upstream"]["litellm"].get("source") == "http", "fetch")
            fetched = d.events("upstream_fetched")
            assert fetched and fetched[0]["upstream"] == "litellm"
            # a LiteLLM-only regional id, read by a separate client process through the bedrock prefix
            spec = "amazon_bedrock:us.anthropic.claude-3-5-sonnet-20241022-v2:0"
            wait_for(lambda: client_read(catalog, spec).get("model"), "LiteLLM model published")
            seen = client_read(catalog, "bedrock/us.anthropic.claude-3-5-sonnet-20241022-v2:0")
            assert seen["model"]["spec"] == spec
            status = status_json(d.state) or {}
            assert status["upstream"]["models.dev"] == {"source": "none"}  # read from `file`, never fetched
            assert [s["name"] for s in status["sources"]] == ["litellm", "models.dev"]
            server.mode = "notjson"
            wait_for(lambda: "rejected body" in _upstream_status(d.state, "litellm").get("error", ""), "refused")
            assert client_read(catalog, spec).get("model") is not None  # the last good LiteLLM body stays
        finally:
            d.stop()
        assert upstream.read_cache(d.state, "litellm") is not None


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("openrouter", SHARED.parent / "openrouter" / "models.json"),
        ("genai-prices", SHARED.parent / "genai-prices" / "v2" / "data.json"),
    ],
)
def test_a_new_upstream_over_its_byte_limit_keeps_its_last_good_body(
    server: Upstream, tmp_path: Path, name: str, body: Path
) -> None:
    """The registry gives every upstream the same fetch: a body past the default 64 MiB (the server streams
    125 MB without a length) is refused naming the limit, and the body accepted before stays in use."""
    server.body = body.read_bytes()
    state = upstream.UpstreamState(tmp_path, name)
    settings = Settings(url=server.url)
    meta = anyio.run(upstream.poll, state, settings)
    assert meta is not None and meta.models > 100
    server.mode = "huge"
    with pytest.raises(FetchError, match="byte limit"):
        anyio.run(upstream.poll, state, settings)
    assert state.meta is not None and state.meta.sha256 == meta.sha256 and state.models() == meta.models
    cached = upstream.read_cache(tmp_path, name)
    assert cached is not None and cached[0] == server.body
