"""A real gunicorn with 4 sync workers reading the catalog a real `llmdbd run` publishes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from daemon_helpers import Daemon, wait_for

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
    port = free_port()
    args = ["-w", str(WORKERS), "-k", "sync", "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT)]
    env = {**daemon.env, "LLMDB_SNAPSHOT": str(daemon.state / "catalog.llmdb")}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *args, *(["--preload"] if preload else []), "examples.gunicorn_app.app:app"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "gunicorn.log", "wb"),  # noqa: SIM115
    )
    try:
        workers = wait_for(lambda: len(w := workers_of(server.pid)) == WORKERS and w, "4 workers")
        wait_for(lambda: _answers(port), "gunicorn answering")
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
        assert workers_of(server.pid) == workers  # no worker crashed or was replaced

        status, _, body = fetch(port, "/select?require=tools,reasoning&prefer=anthropic")
        assert status == 200 and body["model"]["provider"] == "anthropic"  # type: ignore[index]
        status, _, body = fetch(port, "/models/openai:nope")
        assert status == 404 and "no model" in body["error"]  # type: ignore[operator]
    finally:
        server.terminate()
        server.wait(timeout=15)
        daemon.stop()


def _answers(port: int) -> bool:
    try:
        return fetch(port, "/models/openai:gpt-4o")[0] == 200
    except OSError:
        return False
