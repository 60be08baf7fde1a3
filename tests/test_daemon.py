"""The daemon as a real subprocess: file drops seen by separate client processes, bad files, signals."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from daemon_helpers import Daemon, client_read, patch, price, status_json, wait_for

from llmdb import Snapshot, packaged_path

UPSTREAM_PRICE = 2.5

pytestmark = pytest.mark.slow  # real daemons / processes (conftest.py)


def published(d: Daemon, value: float | None) -> bool:
    return price(d.state / "catalog.llmdb") == value


def test_starts_from_the_packaged_catalog(daemon: Daemon) -> None:
    seen = daemon.read()
    assert seen["epoch"] == 1 and seen["model"]["limits"]["context"] == 128000
    assert daemon.read("anthropic:claude-sonnet-4-5")["model"]["cost"]["output"] == 15.0
    state = status_json(daemon.state)
    assert state is not None and state["epoch"] == 1 and state["sources"][0]["name"] == "packaged"
    # the event is logged after the file and status are written: a reader can see those first
    wait_for(
        lambda: any(e["trigger"] == "start" for e in daemon.events("catalog_published")), "the start publish event"
    )


def test_file_drops_are_picked_up_and_bad_files_lose_nothing(daemon: Daemon) -> None:
    target = daemon.patches / "10-prices.json"
    target.write_text(patch(7.0))  # create
    wait_for(lambda: published(daemon, 7.0), "created patch")
    target.write_text(patch(8.0))  # overwrite in place
    wait_for(lambda: published(daemon, 8.0), "overwritten patch")
    tmp = daemon.patches / ".10-prices.json.swp"
    tmp.write_text(patch(9.0))
    os.replace(tmp, target)  # an editor's atomic save
    wait_for(lambda: published(daemon, 9.0), "atomically renamed patch")
    outside = daemon.root / "dropped.json"
    outside.write_text(patch(9.5))
    subprocess.run(["mv", str(outside), str(daemon.patches / "20-mv.json")], check=True)  # mv from elsewhere
    wait_for(lambda: published(daemon, 9.5), "mv drop")
    (daemon.patches / "20-mv.json").unlink()
    wait_for(lambda: published(daemon, 9.0), "deleted patch")

    epoch = daemon.read()["epoch"]
    target.write_text('{"models": [{"spec": "openai:gpt-4o", "cost": {"input": -1}}]}')  # now invalid
    rejected = wait_for(lambda: (s := status_json(daemon.state)) and s["rejected_files"], "rejection in status")
    assert rejected[0]["file"] == str(target) and "cost.input" in rejected[0]["errors"][0]
    assert published(daemon, 9.0)  # the last accepted version stays in effect
    assert daemon.read()["epoch"] == epoch  # and nothing new was published
    events = daemon.events()
    assert any(e["event"] == "patch_rejected" and e["file"] == str(target) for e in events)

    never = daemon.patches / "30-never.toml"
    never.write_text("[[models]\nbroken")  # never valid: skipped and reported
    wait_for(lambda: len(status_json(daemon.state)["rejected_files"]) == 2, "never-valid file reported")  # type: ignore[index]
    target.write_text(patch(11.0))  # fixed
    wait_for(lambda: published(daemon, 11.0), "fixed patch")
    assert [r["file"] for r in status_json(daemon.state)["rejected_files"]] == [str(never)]  # type: ignore[index]


def test_last_accepted_version_survives_a_restart(tmp_path: Path) -> None:
    d = Daemon(tmp_path).start()
    try:
        (d.patches / "p.json").write_text(patch(4.0))
        wait_for(lambda: published(d, 4.0), "patch")
        d.stop()
        (d.patches / "p.json").write_text("{ not json")
        d.start()
        assert published(d, 4.0)
        assert status_json(d.state)["rejected_files"][0]["file"] == str(d.patches / "p.json")  # type: ignore[index]
    finally:
        d.stop()


def test_burst_of_drops_coalesces(daemon: Daemon) -> None:
    for i in range(20):
        (daemon.patches / f"b{i:02d}.json").write_text(patch(100.0 + i))
    wait_for(lambda: published(daemon, 119.0), "burst")
    builds = [e for e in daemon.events() if e["event"] in ("catalog_published", "catalog_unchanged")]
    assert len(builds) <= 4  # start + at most a few coalesced rebuilds, not one per file


def test_sighup_reloads_config_and_refuses_a_bad_one(daemon: Daemon) -> None:
    daemon.write_config('[deny]\nopenai = ["gpt-4o"]\n')
    wait_for(lambda: client_read(daemon.state / "catalog.llmdb")["allowed"] is False, "deny rule after config change")
    daemon.write_config('[deny]\nopenai = ["gpt-4o-mini"]\n')
    daemon.signal(signal.SIGHUP)
    wait_for(lambda: client_read(daemon.state / "catalog.llmdb")["allowed"] is True, "reload")
    daemon.write_config("not_a_key = 1\n")
    daemon.signal(signal.SIGHUP)
    rejected = wait_for(lambda: [e for e in daemon.events() if e["event"] == "config_rejected"], "config rejection")
    assert "not_a_key" in rejected[0]["error"]
    assert daemon.proc is not None and daemon.proc.poll() is None


def test_bad_config_is_refused_at_start(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('stat_dir = "/tmp/x"\n')
    out = subprocess.run(
        [sys.executable, "-m", "llmdbd", "run", "--config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2 and "unknown key 'stat_dir'" in out.stderr


def test_sigterm_stops_cleanly(daemon: Daemon) -> None:
    assert daemon.proc is not None
    started = time.monotonic()
    daemon.signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=10) == 0
    assert time.monotonic() - started < 5
    assert not list(daemon.state.glob(".*.tmp"))
    assert any(e["event"] == "stopped" for e in daemon.events())


def test_sd_notify_messages(tmp_path: Path) -> None:
    import socket

    address = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(30)
    d = Daemon(tmp_path, env={"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "400000"}).start()
    messages: list[str] = []

    def until(prefix: str) -> str:
        while True:
            for message in messages:
                if message.startswith(prefix):
                    messages.remove(message)
                    return message
            messages.extend(sock.recv(4096).decode().split("\n"))

    try:
        assert until("READY=1")
        assert "epoch 1" in until("STATUS=")
        assert until("WATCHDOG=1") and until("WATCHDOG=1")
        d.signal(signal.SIGHUP)
        assert until("RELOADING=1") and until("MONOTONIC_USEC=") and until("READY=1")
        d.stop()
        assert until("STOPPING=1")
    finally:
        d.stop()
        sock.close()


def test_kill_9_during_publishing_never_leaves_a_torn_catalog(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    rnd = random.Random(7)
    d = Daemon(tmp_path)
    last_epoch = 0
    request.addfinalizer(d.stop)
    for round_ in range(4):
        d.start()
        epoch = client_read(d.state / "catalog.llmdb")["epoch"]
        assert epoch >= last_epoch  # never goes back (equal when the content was already published)
        for i in range(3):
            (d.patches / "p.json").write_text(patch(float(round_ * 10 + i)))
            time.sleep(rnd.uniform(0.05, 0.4))
        assert d.proc is not None
        d.proc.kill()  # at a random moment, often mid-rebuild or mid-publish
        d.proc.wait()
        snap = Snapshot(d.state / "catalog.llmdb")  # always a complete, verified file
        last_epoch = snap.epoch
        assert client_read(d.state / "catalog.llmdb")["model"]["limits"]["context"] == 128000
    d.start()
    (d.patches / "p.json").write_text(patch(99.0))
    wait_for(lambda: published(d, 99.0), "a publish after the last restart")
    assert client_read(d.state / "catalog.llmdb")["epoch"] > last_epoch  # the sequence continues, never restarts


def test_a_corrupt_packaged_catalog_is_refused_and_the_last_file_keeps_serving(tmp_path: Path) -> None:
    """The daemon verifies the packaged snapshot as the client does (every record it reads), and a build from a
    corrupt one fails with the file and the record named: no traceback, nothing published, nothing lost."""
    good = Daemon(tmp_path).start()
    assert good.read()["epoch"] == 1
    good.stop()
    corrupt = tmp_path / "corrupt.llmdb"
    data = bytearray(packaged_path().read_bytes())
    snap = Snapshot(packaged_path())
    i = snap.ordinal("openai:gpt-4o")
    assert i is not None
    middle = snap.file.records + (snap.lookup.offsets[i] + snap.lookup.offsets[i + 1]) // 2  # a byte inside its record
    data[middle] ^= 0xFF  # its checksum no longer matches: found when the record is read
    corrupt.write_bytes(bytes(data))
    daemon = Daemon(tmp_path, env={"LLMDBD_PACKAGED_SNAPSHOT": str(corrupt)}).start()
    try:
        failed = wait_for(lambda: daemon.events("build_failed"), "the refused build")
        assert str(corrupt) in failed[0]["error"] and "'openai:gpt-4o'" in failed[0]["error"]
        assert "checksum mismatch" in failed[0]["error"]
        assert "Traceback" not in daemon.log.read_text()
        assert daemon.read()["epoch"] == 1  # the last good file serves on
        assert len(daemon.events("catalog_published")) == 1  # the first run's (one log for both runs)
    finally:
        daemon.stop()
