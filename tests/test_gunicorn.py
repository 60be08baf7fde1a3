"""A real gunicorn with 4 sync workers reading the catalog a real `llmdbd run` publishes, and answering every
llmdb error with a 4xx JSON body that carries what the error carries."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec
import pytest
from daemon_helpers import Daemon, wait_for

import llmdb

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 4

pytestmark = pytest.mark.slow  # real daemons / processes (conftest.py)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(port: int, path: str) -> tuple[int, dict[str, str], dict[str, object]]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


@contextmanager
def gunicorn(tmp_path: Path, env: dict[str, str], workers: int, preload: bool = False) -> Iterator[tuple[int, int]]:
    """(port, master pid) of the example app under a real gunicorn with `workers` sync workers, all answering;
    stopped on exit. Its log is tmp_path/gunicorn.log."""
    port = free_port()
    args = ["-w", str(workers), "-k", "sync", "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT)]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *args, *(["--preload"] if preload else []), "examples.gunicorn_app.app:app"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "gunicorn.log", "wb"),  # noqa: SIM115
    )
    try:
        wait_for(lambda: len(workers_of(server.pid)) == workers, f"{workers} workers")
        wait_for(lambda: _answers(port), "gunicorn answering")
        yield port, server.pid
    finally:
        server.terminate()
        server.wait(timeout=15)


def workers_of(master: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def prices_by_worker(port: int, workers: set[int], rounds: int = 400) -> dict[int, float]:
    """What each worker serves for openai:gpt-4o's input price (requests until every worker answered)."""
    seen: dict[int, float] = {}
    for _ in range(rounds):
        status, headers, body = fetch(port, "/models/openai:gpt-4o")
        assert status == 200
        seen[int(headers["X-Worker-Pid"])] = body["cost"]["input"]  # type: ignore[index]
        if set(seen) >= workers:
            break
    return seen


@pytest.mark.parametrize("preload", [False, True], ids=["fork-then-open", "preload"])
def test_every_worker_sees_a_dropped_patch_and_keeps_the_last_good_value(tmp_path: Path, preload: bool) -> None:
    daemon = Daemon(tmp_path).start()
    env = {**daemon.env, "LLMDB_SNAPSHOT": str(daemon.state / "catalog.llmdb")}
    try:
        with gunicorn(tmp_path, env, WORKERS, preload) as (port, master):
            workers = workers_of(master)
            assert set(prices_by_worker(port, workers).values()) == {2.5}

            patch = daemon.patches / "price.json"
            patch.write_text(json.dumps({"models": [{"spec": "openai:gpt-4o", "cost": {"input": 1.75}}]}))
            wait_for(
                lambda: (s := prices_by_worker(port, workers)) and set(s) >= workers and set(s.values()) == {1.75},
                "every worker serving the patched price",
            )

            patch.write_text('{"models": [{"spec": "openai:gpt-4o", "cost": {"input": "cheap"}}]}')  # broken
            wait_for(
                lambda: (
                    "rejected_files" in (tmp_path / "state" / "status.json").read_text()
                    and json.loads((tmp_path / "state" / "status.json").read_text())["rejected_files"]
                ),
                "rejection",
            )
            served = prices_by_worker(port, workers)
            assert set(served) >= workers and set(served.values()) == {1.75}  # the last good value, everywhere
            assert workers_of(master) == workers  # no worker crashed or was replaced

            status, _, body = fetch(port, "/select?require=tools,reasoning&prefer=anthropic")
            assert status == 200 and body["model"]["provider"] == "anthropic"  # type: ignore[index]
            status, _, body = fetch(port, "/models/openai:nope")
            assert status == 404 and "no model" in body["error"]  # type: ignore[operator]
    finally:
        daemon.stop()


def test_every_llmdb_error_answers_a_4xx_json_body_with_what_the_error_carries(tmp_path: Path) -> None:
    """An ambiguous name is a 409 listing the candidates (it was a 500 and an HTML page), a missing one a 404 with
    the close matches; each error's status and attributes are what the library raises for the same request."""
    path = llmdb.packaged_path()
    here = llmdb.Catalog(path)
    expected: dict[str, llmdb.LLMDBError] = {}
    for request, call in {
        "/models/grok-4": lambda: here.get("grok-4"),
        "/models/gpt-4oo": lambda: here.get("gpt-4oo"),
        "/models/nope:gpt-4o": lambda: here.get("nope:gpt-4o"),
        "/models/openai:": lambda: here.get("openai:"),
        "/select?require=nonsense": lambda: here.select(require=["nonsense"]),
        "/select?require=chat,embeddings": lambda: here.select(require=["chat", "embeddings"]),
        "/cost/openai:gpt-4o": lambda: here.cost("openai:gpt-4o"),
        "/cost/openai:gpt-4o?input_tokens=99999999999999999999999": lambda: here.cost(
            "openai:gpt-4o", input_tokens=99999999999999999999999
        ),
        "/cost/openai:gpt-4o?input_tokens=10&service_tier=flex": lambda: here.cost(
            "openai:gpt-4o", input_tokens=10, service_tier="flex"
        ),
    }.items():
        with pytest.raises(llmdb.LLMDBError) as raised:
            call()
        expected[request] = raised.value
    statuses = {
        "/models/grok-4": (409, llmdb.AmbiguousModel),
        "/models/gpt-4oo": (404, llmdb.ModelNotFound),
        "/models/nope:gpt-4o": (404, llmdb.UnknownProvider),
        "/models/openai:": (400, llmdb.InvalidSpec),
        "/select?require=nonsense": (400, llmdb.InvalidQuery),
        "/select?require=chat,embeddings": (404, llmdb.NoMatch),
        "/cost/openai:gpt-4o": (400, llmdb.InvalidUsage),
        "/cost/openai:gpt-4o?input_tokens=99999999999999999999999": (400, llmdb.InvalidUsage),
        "/cost/openai:gpt-4o?input_tokens=10&service_tier=flex": (422, llmdb.PriceUnknown),
    }
    assert len(expected["/models/grok-4"].candidates) >= 2  # type: ignore[attr-defined]
    assert "gpt-4o" in expected["/models/gpt-4oo"].suggestions  # type: ignore[attr-defined]

    env = {**os.environ, "LLMDB_SNAPSHOT": str(path)}
    with gunicorn(tmp_path, env, 2) as (port, master):
        workers = workers_of(master)
        for request, (status, kind) in statuses.items():
            exc = expected[request]
            assert type(exc) is kind, request
            got, headers, body = fetch(port, request)
            assert (got, headers["Content-Type"]) == (status, "application/json"), request
            assert body == {"error": str(exc), "type": kind.__name__, **_plain(vars(exc))}, request
        _, _, body = fetch(port, "/models/grok-4")
        assert body["candidates"] == expected["/models/grok-4"].candidates  # type: ignore[attr-defined]
        _, _, body = fetch(port, "/models/gpt-4oo")
        assert body["suggestions"] == expected["/models/gpt-4oo"].suggestions  # type: ignore[attr-defined]
        _, _, body = fetch(port, "/cost/openai:gpt-4o?input_tokens=99999999999999999999999")
        assert "input_tokens" in body["error"] and "10**15" in body["error"]  # type: ignore[operator]

        got, _, body = fetch(port, "/cost/openai:gpt-4o?input_tokens=10000&output_tokens=2000&cache_read_tokens=4000")
        priced = here.cost("openai:gpt-4o", input_tokens=10_000, output_tokens=2_000, cache_read_tokens=4_000)
        assert got == 200 and body["total"] == priced.total
        assert workers_of(master) == workers  # no worker died on an error
    log = (tmp_path / "gunicorn.log").read_text()
    assert "Traceback" not in log and "Error handling request" not in log


def _plain(value: object) -> object:
    """`value` as it reads back from the app's JSON (structs as objects, tuples as lists)."""
    return json.loads(msgspec.json.encode(value))


def _answers(port: int) -> bool:
    try:
        return fetch(port, "/models/openai:gpt-4o")[0] == 200
    except OSError:
        return False
