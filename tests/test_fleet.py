"""Many hosts, one catalog: a leader publishes to a real S3-compatible server (moto's, on 127.0.0.1)
or a real static HTTP server, followers are separate `llmdbd run` processes, readers separate client processes."""

from __future__ import annotations

import http.server
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import pytest
from daemon_helpers import Daemon, client_read, patch, price, status_json, wait_for
from object_store import BUCKET, CREDENTIALS, S3Server

import llmdb
from llmdb import contract
from llmdbd.engine import build
from llmdbd.fleet import manifest
from llmdbd.output.snapshot import encode_snapshot
from llmdbd.sources import packaged, patches

PREFIX = "prod/"
URL = f"s3://{BUCKET}/{PREFIX}"


def status(d: Daemon) -> dict[str, Any]:
    return status_json(d.state) or {}


def follow(d: Daemon) -> dict[str, Any]:
    found: dict[str, Any] = status(d).get("follow") or {}
    return found


def follower(root: Path, url: str, extra: str = "", poll: float = 1.0) -> Daemon:
    root.mkdir()
    return Daemon(root, f'[follow]\nurl = "{url}"\npoll_interval = {poll}\n' + extra, env=CREDENTIALS)


def llmdbd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmdbd", *args], capture_output=True, text=True, timeout=120, env=_env()
    )


def _env() -> dict[str, str]:
    import os

    return {**os.environ, **CREDENTIALS}


@pytest.mark.slow
def test_a_leader_and_three_followers_converge_and_survive_the_store_going_away(tmp_path: Path, s3: S3Server) -> None:
    (tmp_path / "leader").mkdir()
    leader = Daemon(tmp_path / "leader", f'[publish]\ntargets = ["{URL}"]\n' + s3.config(), env=CREDENTIALS).start()
    followers = [follower(tmp_path / f"host{i}", URL, s3.config()) for i in range(3)]
    try:
        first = wait_for(lambda: (status(leader).get("publish") or [{}])[0].get("content_hash"), "first upload")
        assert first == status(leader)["content_hash"]
        written = manifest.decode(s3.get(PREFIX + manifest.MANIFEST), "manifest")
        assert written.content_hash == first and written.epoch == status(leader)["epoch"]
        assert [s["name"] for s in written.sources] == [s["name"] for s in status(leader)["sources"]]
        assert written.schema_version == llmdb.SCHEMA_VERSION and written.size == len(s3.get(PREFIX + written.file))
        assert s3.get(PREFIX + written.file)[:4] == llmdb.packaged_path().read_bytes()[:4]  # the file, by sha256
        for d in followers:
            d.start()
        for d in followers:
            wait_for(lambda d=d: follow(d).get("serves_leader"), "a follower serving the leader's catalog")
            assert status(d)["content_hash"] == first and follow(d)["leader"]["content_hash"] == first

        # a patch on the leader reaches every follower, and a reader process on each sees the new price
        (leader.patches / "p.json").write_text(patch(42.0))
        second = wait_for(
            lambda: (
                manifest.decode(s3.get(PREFIX + manifest.MANIFEST), "manifest").content_hash != first
                and status(leader)["content_hash"]
            ),
            "the leader's second upload",
        )
        for d in followers:
            wait_for(lambda d=d: status(d).get("content_hash") == second, "the new hash on every follower")
            assert price(d.state / contract.CATALOG_FILE) == 42.0
            assert follow(d)["lag_s"] >= 0

        hosts = [str(d.state) for d in followers]
        out = llmdbd("fleet-status", URL, *hosts, "--config", str(leader.config), "--json")
        assert out.returncode == 0, out.stdout + out.stderr
        report = json.loads(out.stdout)
        assert [row["converged"] for row in report["hosts"]] == [True, True, True]
        assert report["leader"]["content_hash"] == second

        # the store goes away: followers keep serving and say how stale they are; the leader's upload waits
        s3.stop()
        (leader.patches / "p.json").write_text(patch(43.0))
        wait_for(lambda: price(leader.state / contract.CATALOG_FILE) == 43.0, "the leader publishing locally")
        wait_for(lambda: "error" in (status(leader).get("publish") or [{}])[0], "the failed upload reported")
        for d in followers:
            wait_for(lambda d=d: "error" in follow(d), "the follower reporting the store unreachable")
            assert status(d)["content_hash"] == second and price(d.state / contract.CATALOG_FILE) == 42.0
        out = llmdbd("fleet-status", URL, *hosts, "--config", str(leader.config))
        assert out.returncode == 3 and URL in out.stderr and "Traceback" not in out.stderr
        info = subprocess.run(
            [sys.executable, "-m", "llmdb.cli", "--snapshot", str(followers[0].state / "catalog.llmdb"), "info"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "follow" in info.stdout and "error" in info.stdout

        # it comes back (empty: moto keeps its data in memory): the leader's retry uploads, followers catch up
        s3.start()
        s3.create_bucket()
        third = wait_for(
            lambda: (
                (status(leader).get("publish") or [{}])[0].get("content_hash") != second
                and "error" not in status(leader)["publish"][0]
                and status(leader)["content_hash"]
            ),
            "the leader's retried upload",
            timeout=90,
        )
        for d in followers:
            wait_for(lambda d=d: status(d).get("content_hash") == third, "followers caught up", timeout=60)
            assert "error" not in follow(d) and price(d.state / contract.CATALOG_FILE) == 43.0
        assert [d.stop() for d in [leader, *followers]] == [0, 0, 0, 0]  # systemd sees clean stops
    finally:
        for d in [leader, *followers]:
            d.stop()


def _snapshot(value: float, epoch: int) -> bytes:
    """A real snapshot: the packaged catalog with gpt-4o's input price at `value`."""
    doc = {"models": [{"spec": "openai:gpt-4o", "cost": {"input": value}}]}
    catalog = build([packaged.load(), patches.from_doc(doc, name="test", kind="patch", file="test.json")])
    return encode_snapshot(catalog, epoch=epoch, built_at=time.time())


def _publish(s3: S3Server, data: bytes, **changes: Any) -> manifest.Manifest:
    """Upload `data` and a manifest for it (with `changes` made to the manifest) the way a leader does."""
    described, name = manifest.describe(data)
    described = msgspec.structs.replace(described, **changes)
    s3.put(PREFIX + name, data)
    s3.put(PREFIX + manifest.MANIFEST, manifest.encode(described))
    return described


@pytest.mark.slow
def test_a_follower_refuses_what_fails_a_check_and_keeps_serving(tmp_path: Path, s3: S3Server) -> None:
    good = _publish(s3, _snapshot(11.0, epoch=5))
    d = follower(tmp_path / "host", URL, s3.config()).start()
    try:
        wait_for(lambda: status(d).get("content_hash") == good.content_hash, "the first good snapshot")
        assert price(d.state / contract.CATALOG_FILE) == 11.0
        newer = _snapshot(12.0, epoch=6)
        corrupt = bytearray(newer)
        corrupt[len(corrupt) // 2] ^= 0xFF  # a flipped byte inside a record
        described, _ = manifest.describe(newer)
        cases: list[tuple[str, Any]] = [
            ("sha256", lambda: _publish(s3, bytes(corrupt), sha256=described.sha256, size=len(newer))),
            ("which is not there", lambda: _publish(s3, newer, file="snapshots/missing.llmdb")),
            ("truncated", lambda: _publish(s3, newer[: len(newer) // 2], size=len(newer), sha256=described.sha256)),
            ("not newer than epoch 5", lambda: _publish(s3, _snapshot(13.0, epoch=4))),
            ("content hash", lambda: _publish(s3, newer, content_hash="0" * 64)),
            ("checksum", lambda: _publish(s3, bytes(corrupt))),  # sha256 as uploaded: the file's own crc fails
            ("not a manifest", lambda: s3.put(PREFIX + manifest.MANIFEST, b"{not json")),
        ]
        for why, upload in cases:
            upload()
            wait_for(lambda why=why: why in follow(d).get("error", ""), f"the refusal: {why}")
            assert status(d)["content_hash"] == good.content_hash, why
            assert price(d.state / contract.CATALOG_FILE) == 11.0, why
        assert [e for e in d.events("leader_refused") if "Traceback" in json.dumps(e)] == []
        fixed = _publish(s3, newer)
        wait_for(lambda: status(d).get("content_hash") == fixed.content_hash, "the next good snapshot")
        assert "error" not in follow(d) and price(d.state / contract.CATALOG_FILE) == 12.0
        assert {p.name for p in (d.state / "follow").iterdir()} == {manifest.MANIFEST, f"{fixed.sha256}.llmdb"}
    finally:
        d.stop()


@pytest.mark.slow
def test_local_patches_apply_on_top_and_status_says_the_hash_differs(tmp_path: Path, s3: S3Server) -> None:
    leader = _publish(s3, _snapshot(21.0, epoch=1))
    d = follower(tmp_path / "host", URL, s3.config())
    (d.patches / "local.json").write_text(
        json.dumps({"models": [{"spec": "openai:gpt-4o", "limits": {"output": 1234}}]})
    )
    d.start()
    try:
        wait_for(lambda: price(d.state / contract.CATALOG_FILE) == 21.0, "the leader's catalog under the patch")
        assert follow(d)["following"]["content_hash"] == leader.content_hash
        wait_for(lambda: follow(d).get("serves_leader") is False, "the status saying the hash differs")
        seen = client_read(d.state / contract.CATALOG_FILE)["model"]
        assert seen["cost"]["input"] == 21.0 and seen["limits"]["output"] == 1234  # the leader's and the local
        assert "local patch" in follow(d)["differs_because"]
        (d.patches / "local.json").unlink()
        wait_for(lambda: status(d).get("content_hash") == leader.content_hash, "the leader's hash once it is gone")
    finally:
        d.stop()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """The standard library's static file server, without a log line per request."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(root: Path, handler: type[_Quiet]) -> tuple[http.server.ThreadingHTTPServer, str]:
    """A static HTTP server of `root` on 127.0.0.1 in a thread, and its URL (shut it down when done)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: handler(*a, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class _Slow(_Quiet):
    """A static server whose snapshot downloads trickle, so a follower can be killed in the middle of one."""

    delay = 0.0
    sending = threading.Event()
    """Set once a slow snapshot download has begun."""

    def copyfile(self, source: Any, outputfile: Any) -> None:
        if self.delay and self.path.endswith(".llmdb"):
            _Slow.sending.set()
        while chunk := source.read(256 * 1024):
            outputfile.write(chunk)
            time.sleep(self.delay if self.path.endswith(".llmdb") else 0)


@pytest.mark.slow
def test_kill_9_mid_download_restarts_on_a_verified_file(tmp_path: Path) -> None:
    root = tmp_path / "www"
    (root / "snapshots").mkdir(parents=True)

    def put(data: bytes) -> manifest.Manifest:
        described, name = manifest.describe(data)
        (root / name).write_bytes(data)
        (root / manifest.MANIFEST).write_bytes(manifest.encode(described))
        return described

    server, url = _serve(root, _Slow)
    try:
        first = put(_snapshot(31.0, epoch=1))
        d = follower(tmp_path / "host", url).start()
        wait_for(lambda: status(d).get("content_hash") == first.content_hash, "the first snapshot over HTTP")
        _Slow.delay = 0.5  # ~16 MB in 256 KiB chunks: a download now takes ~30 s
        second = put(_snapshot(32.0, epoch=2))
        wait_for(_Slow.sending.is_set, "a download under way")
        time.sleep(1.0)  # a few chunks in
        assert d.proc is not None
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        _Slow.delay = 0.0
        d.start()  # the first build serves the verified file kept before the kill
        assert status(d)["content_hash"] == first.content_hash
        assert list((d.state / "follow").glob(".*.tmp")) == []
        wait_for(lambda: status(d).get("content_hash") == second.content_hash, "the new snapshot after restart")
        assert price(d.state / contract.CATALOG_FILE) == 32.0
    finally:
        _Slow.delay = 0.0
        server.shutdown()
        d.stop()


def test_bad_fleet_settings_are_refused_naming_the_key(tmp_path: Path) -> None:
    for config, key in (
        ('[publish]\ntargets = ["ftp://host/x/"]\n', "publish.targets"),
        ('[follow]\nurl = "gopher://x/"\n', "follow.url"),
        ('[follow]\nurl = "s3://b/p/"\npoll_interval = 0\n', "follow.poll_interval"),
        ('[publish]\ntargets = ["s3://b/p/"]\n[follow]\nurl = "s3://b/p/"\n', "follow.url"),
    ):
        path = tmp_path / "llmdbd.toml"
        path.write_text(config)
        out = llmdbd("status", "--config", str(path), "--state-dir", str(tmp_path))
        assert out.returncode == 2 and key in out.stderr and "Traceback" not in out.stderr, (config, out.stderr)
    (tmp_path / "llmdbd.toml").write_text("")
    env = {**_env(), "LLMDBD_PUBLISH_TARGETS": "s3://ok/x/, ftp://no/", "LLMDBD_FOLLOW_POLL_INTERVAL": "soon"}

    def status_with(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "llmdbd", "status", "--config", str(tmp_path / "llmdbd.toml")]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)

    out = status_with(env)
    assert out.returncode == 2 and "LLMDBD_FOLLOW_POLL_INTERVAL" in out.stderr, out.stderr
    del env["LLMDBD_FOLLOW_POLL_INTERVAL"]
    out = status_with(env)
    assert out.returncode == 2 and "LLMDBD_PUBLISH_TARGETS" in out.stderr and "ftp://no/" in out.stderr, out.stderr


def test_fleet_status_reads_status_files_collected_from_other_hosts(tmp_path: Path) -> None:
    store = tmp_path / "store"
    (store / "snapshots").mkdir(parents=True)
    data = llmdb.packaged_path().read_bytes()
    described, name = manifest.describe(data)
    (store / name).write_bytes(data)
    (store / manifest.MANIFEST).write_bytes(manifest.encode(described))
    import socket

    recent = contract.iso(time.time() - 3)
    leader = {"content_hash": described.content_hash, "epoch": 1, "published_at": recent, "host": "leader"}
    follow = {"url": "s3://b/p/", "checked_at": recent, "lag_s": 1.5, "leader": leader}
    hosts = {
        # a running daemon elsewhere: its pid means nothing here, so it is not called gone
        "remote": {
            "state": "running",
            "pid": 2**22 + 7,
            "host": "app-1.elsewhere",
            "content_hash": described.content_hash,
            "follow": follow,
        },
        "local-gone": {"state": "running", "pid": 2**22 + 7, "host": socket.gethostname(), "content_hash": "9" * 64},
        "stopped": {
            "state": "stopped",
            "pid": 17,
            "stopped_at": recent,
            "host": "app-2.elsewhere",
            "content_hash": "9" * 64,
        },
        "old-local-gone": {"state": "running", "pid": 2**22 + 7, "content_hash": "9" * 64},  # no host: here
        "not-an-object": [1],
        "odd-values": {"state": "running", "pid": 1, "content_hash": 5},
        "odd-time": {"state": "stopped", "pid": 1, "follow": {"url": "s3://b/p/", "checked_at": "yesterday"}},
    }
    paths = []
    for host, status in hosts.items():
        (tmp_path / f"{host}.json").write_text(json.dumps(status))
        paths.append(str(tmp_path / f"{host}.json"))
    (tmp_path / "not-json.json").write_text("{")
    paths += [str(tmp_path / "not-json.json"), str(tmp_path / "missing.json")]
    out = llmdbd("fleet-status", store.as_uri() + "/", *paths, "--json")
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    rows = {Path(row["host"]).stem: row for row in json.loads(out.stdout)["hosts"]}
    assert rows["remote"]["converged"] and "problem" not in rows["remote"] and rows["remote"]["stale_s"] >= 3
    assert "not running" in rows["local-gone"]["problem"] and not rows["local-gone"]["converged"]
    assert "stopped at" in rows["stopped"]["problem"]
    assert "not running" in rows["old-local-gone"]["problem"]
    assert "not a status file" in rows["not-an-object"]["problem"] and "not a status" in rows["not-json"]["problem"]
    assert "not a status file" in rows["odd-values"]["problem"] and "content_hash" in rows["odd-values"]["problem"]
    assert rows["odd-time"]["stale_s"] is None and rows["odd-time"]["leader_seen"] is None
    assert rows["missing"]["problem"].startswith("no status file")
    table = llmdbd("fleet-status", store.as_uri() + "/", *paths)
    assert table.returncode == 1 and "1 of 9 host(s) serve the leader's catalog" in table.stdout, table.stderr


class _Counting(_Quiet):
    """A static server that counts the GETs of each path."""

    gets: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        _Counting.gets[self.path] = _Counting.gets.get(self.path, 0) + 1
        super().do_GET()


@pytest.mark.slow
def test_a_refused_file_is_not_downloaded_again_every_poll(tmp_path: Path) -> None:
    root = tmp_path / "www"
    (root / "snapshots").mkdir(parents=True)
    server, url = _serve(root, _Counting)
    d = follower(tmp_path / "host", url, poll=0.2)
    try:
        first = _snapshot(41.0, epoch=1)
        good, name = manifest.describe(first)
        (root / name).write_bytes(first)
        (root / manifest.MANIFEST).write_bytes(manifest.encode(good))
        d.start()
        wait_for(lambda: status(d).get("content_hash") == good.content_hash, "the first snapshot")
        newer = _snapshot(42.0, epoch=2)
        described, name = manifest.describe(newer)
        (root / name).write_bytes(newer[:-10])  # short: refused
        (root / manifest.MANIFEST).write_bytes(manifest.encode(described))
        wait_for(lambda: "truncated" in follow(d).get("error", ""), "the refusal")
        polls = _Counting.gets.get("/" + manifest.MANIFEST, 0)
        wait_for(lambda: _Counting.gets.get("/" + manifest.MANIFEST, 0) >= polls + 5, "five more polls")
        assert _Counting.gets["/" + name] == 1 and "truncated" in follow(d)["error"]
        assert status(d)["content_hash"] == good.content_hash
        (root / name).write_bytes(newer)
        described = msgspec.structs.replace(described, published_at=contract.iso(time.time()) or "")
        (root / manifest.MANIFEST).write_bytes(manifest.encode(described))  # a changed manifest: taken again
        wait_for(lambda: status(d).get("content_hash") == described.content_hash, "the repaired snapshot")
        assert price(d.state / contract.CATALOG_FILE) == 42.0
    finally:
        server.shutdown()
        d.stop()
