"""Where a daemon's history starts: the packaged past only for a daemon serving the packaged catalog; a daemon on
other upstreams records its own catalogs from its first publish, and a switch of upstream at the epoch that
published it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from daemon_helpers import Daemon, patch, price, status_json, wait_for
from upstream_server import SHARED, Upstream

from llmdb import contract

DEEPSEEK = "deepseek:deepseek-chat"


def cli(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`llmdb` in another process, reading the daemon's state directory as a client with no snapshot path."""
    env = {**os.environ, contract.STATE_DIR_ENV: str(state)}
    env.pop(contract.SNAPSHOT_ENV, None)
    return subprocess.run(
        [sys.executable, "-m", "llmdb.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )


def timeline(state: Path, spec: str, field: str | None = None) -> list[dict[str, Any]]:
    out = cli(state, "--json", "history", spec, *(("--field", field) if field else ()))
    assert out.returncode == 0, out.stderr
    events: list[dict[str, Any]] = json.loads(out.stdout)
    return events


def versions(state: Path) -> list[tuple[int | None, str]]:
    conn = sqlite3.connect(f"file:{state / contract.HISTORY_FILE}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT epoch, origin FROM versions ORDER BY id").fetchall()
    finally:
        conn.close()


def recorded(d: Daemon, epoch: int) -> None:
    """Wait until the daemon's status says the history holds `epoch`."""
    wait_for(lambda: (status_json(d.state) or {}).get("history", {}).get("epoch") == epoch, f"epoch {epoch}")


def served_epoch(d: Daemon) -> int:
    return contract.read_header(d.state / contract.CATALOG_FILE).epoch


def _assert_own_history_from_january(d: Daemon) -> None:
    """The history of a daemon whose first catalog (epoch 1) is January's models.dev file: nothing before it."""
    assert versions(d.state) == [(1, "publish")]  # no imported (packaged) versions
    events = timeline(d.state, DEEPSEEK)
    assert [(e["kind"], e["epoch"]) for e in events] == [("introduced", 1)]  # no packaged (epoch None) events
    [introduced] = timeline(d.state, DEEPSEEK, "cost.input")
    assert (introduced["kind"], introduced["new"]) == ("introduced", 0.28)
    early = cli(d.state, "cost", DEEPSEEK, "--input-tokens", "1000", "--at", "2026-03-01")
    assert early.returncode == 1 and "the history in" in early.stderr and "Traceback" not in early.stderr


@pytest.mark.slow
def test_a_daemon_on_an_upstream_file_records_its_own_catalogs_then_a_switch(tmp_path: Path) -> None:
    older, current = SHARED / "api-older.json", SHARED / "api.json"
    d = Daemon(tmp_path, f'[upstreams]\nprecedence = ["models.dev"]\n[upstreams."models.dev"]\nfile = "{older}"\n')
    assert not d.state.exists()
    d.start()
    try:
        catalog = d.state / contract.CATALOG_FILE
        assert price(catalog, DEEPSEEK) == 0.28 and served_epoch(d) == 1
        recorded(d, 1)
        _assert_own_history_from_january(d)

        d.write_config(f'[upstreams]\nprecedence = ["models.dev"]\n[upstreams."models.dev"]\nfile = "{current}"\n')
        d.signal(signal.SIGHUP)
        wait_for(lambda: price(catalog, DEEPSEEK) == 0.14, "the switch to the current file")
        switched = served_epoch(d)
        assert switched > 1
        recorded(d, switched)
    finally:
        d.stop()
    events = timeline(d.state, DEEPSEEK, "cost.input")
    assert [(e["kind"], e["old"], e["new"], e["epoch"]) for e in events] == [
        ("introduced", None, 0.28, 1),
        ("changed", 0.28, 0.14, switched),
    ]
    assert events[-1]["source"] == "models.dev"
    assert all(epoch is not None for epoch, _ in versions(d.state))


@pytest.mark.slow
def test_a_daemon_starting_on_a_cached_upstream_body_records_its_own_catalogs(tmp_path: Path) -> None:
    """`llmdbd pull` first: the daemon's first catalog is the cached body, not the packaged one."""
    with Upstream() as server:
        server.body = (SHARED / "api-older.json").read_bytes()
        env = {
            **os.environ,
            "LLMDBD_UPSTREAM_URL": server.url,
            "LLMDBD_UPSTREAMS": "models.dev",
            "LLMDBD_CONFIG": str(tmp_path / "none.toml"),
        }
        pull = [sys.executable, "-m", "llmdbd", "pull", "--state-dir", str(tmp_path / "state")]
        pulled = subprocess.run(pull, capture_output=True, text=True, timeout=120, env=env)
        assert pulled.returncode == 0, pulled.stderr
        config = (
            '[upstreams]\nprecedence = ["models.dev"]\n[upstreams."models.dev"]\n'
            f'url = "{server.url}"\npoll_interval = 0.3\n'
        )
        d = Daemon(tmp_path, config).start()
        try:
            catalog = d.state / contract.CATALOG_FILE
            assert price(catalog, DEEPSEEK) == 0.28 and served_epoch(d) == 1
            recorded(d, 1)
            _assert_own_history_from_january(d)
            server.body = (SHARED / "api.json").read_bytes()
            wait_for(lambda: price(catalog, DEEPSEEK) == 0.14, "the polled July file")
            july = served_epoch(d)
            recorded(d, july)
        finally:
            d.stop()
    events = timeline(d.state, DEEPSEEK, "cost.input")
    assert [(e["kind"], e["new"], e["epoch"]) for e in events] == [("introduced", 0.28, 1), ("changed", 0.14, july)]


@pytest.mark.slow
def test_the_readme_run_setup_carries_the_packaged_history(tmp_path: Path) -> None:
    """No upstream configured (the README's Run setup), a patch file already there: the packaged past, then the
    patch's change at the daemon's first epoch."""
    d = Daemon(tmp_path)
    (d.patches / "p.json").write_text(patch(2.0))
    d.start()
    try:
        catalog = d.state / contract.CATALOG_FILE
        assert price(catalog) == 2.0 and served_epoch(d) == 1
        recorded(d, 1)
    finally:
        d.stop()
    found = versions(d.state)
    assert [epoch for epoch, _ in found] == [None] * 6 + [1]  # the packaged history's six imported catalogs
    assert all(origin.startswith("import ") for _, origin in found[:6])

    deepseek = timeline(d.state, DEEPSEEK, "cost.input")
    assert [(e["kind"], e["new"], e["at"][:10], e["epoch"]) for e in deepseek] == [
        ("introduced", 0.28, "2026-01-01", None),
        ("changed", 0.14, "2026-07-01", None),
    ]
    gpt4o = timeline(d.state, "openai:gpt-4o", "cost.input")
    assert [(e["kind"], e["new"], e["epoch"]) for e in gpt4o] == [("introduced", 2.5, None), ("changed", 2.0, 1)]
    assert gpt4o[-1]["source"] == "patch:p.json"

    march = cli(d.state, "--json", "cost", DEEPSEEK, "--input-tokens", "1000000", "--at", "2026-03-01")
    assert march.returncode == 0, march.stderr
    assert json.loads(march.stdout)["total"] == pytest.approx(0.28)
