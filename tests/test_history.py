"""The history: a real daemon records what each publish changed; separate processes read it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from daemon_helpers import Daemon, patch, price, status_json, wait_for
from upstream_server import SHARED, Upstream

import llmdb
from llmdb import contract
from llmdbd.output import history


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmdb.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )


def recorded(state: Path) -> tuple[int | None, dict[str, dict[str, Any]]]:
    """The newest epoch in a state directory's history, and the models the history replays to."""
    conn = sqlite3.connect(f"file:{state / contract.HISTORY_FILE}?mode=ro", uri=True)
    try:
        epoch = conn.execute("SELECT epoch FROM versions ORDER BY id DESC LIMIT 1").fetchone()[0]
        models, _ = history.state(conn)
    finally:
        conn.close()
    return epoch, models


def test_flatten_gives_every_packaged_model_back() -> None:
    snap = llmdb.Catalog(llmdb.packaged_path()).snapshot
    for i in range(snap.model_count):
        model = snap.model_at(i)
        flat = contract.flatten(model)
        assert contract.unflatten(flat) == model, model.spec
        assert json.loads(json.dumps(flat)) == flat  # stored as JSON, compared after a round trip


@pytest.mark.slow
def test_january_then_july_through_a_real_daemon(tmp_path: Path) -> None:
    with Upstream() as server:
        server.body = (SHARED / "api-older.json").read_bytes()
        config = (
            '[upstreams]\nprecedence = ["models.dev"]\n[upstreams."models.dev"]\n'
            f'url = "{server.url}"\npoll_interval = 0.3\nmax_shrink = 1.0\n'
        )
        d = Daemon(tmp_path, config).start()
        try:
            catalog = d.state / contract.CATALOG_FILE
            wait_for(lambda: price(catalog, "deepseek:deepseek-chat") == 0.28, "the January catalog")
            january = contract.read_header(catalog).epoch
            server.body = (SHARED / "api.json").read_bytes()
            wait_for(lambda: price(catalog, "deepseek:deepseek-chat") == 0.14, "the July catalog")
            july = contract.read_header(catalog).epoch
        finally:
            d.stop()
    epoch, models = recorded(d.state)
    assert epoch == july  # the history's last epoch is the catalog's

    out = cli("--snapshot", str(catalog), "--json", "diff", str(january), str(july))
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    retained = d.state / contract.SNAPSHOTS_DIR / f"catalog.{january:010d}.llmdb"
    shared = {p.id for p in llmdb.Catalog(retained).providers()}  # January's providers: all still in July
    assert len(found["providers_added"]) == 73 and found["providers_removed"] == []
    assert sum(s.split(":")[0] in shared for s in found["added"]) == 2178
    assert len(found["removed"]) == 670
    priced = {
        s for s, fields in found["changed"].items() if {f["field"] for f in fields} & {"cost.input", "cost.output"}
    }
    # five prices moved more than 10x (helicone:mistral-small's 75 / 200 corrected to 0.075 / 0.2, ...): held back
    held = {(h["model"], h["field"]) for h in (status_json(d.state) or {})["upstream"]["models.dev"]["held"]}
    assert len(held) == 5 and ("helicone:mistral-small", "cost.input") in held
    assert len(priced) == 97 and "helicone:mistral-small" not in priced
    deepseek = {f["field"]: (f["old"], f["new"]) for f in found["changed"]["deepseek:deepseek-chat"]}
    assert deepseek["limits.context"] == (128000, 1000000) and deepseek["limits.output"] == (8192, 384000)
    assert deepseek["cost.input"] == (0.28, 0.14) and deepseek["cost.output"] == (0.42, 0.28)
    gpt5 = {f["field"]: (f["old"], f["new"]) for f in found["changed"]["openai:gpt-5"]}
    assert gpt5["limits.input"] == (None, 272000)
    assert "openai:o1-mini" in found["removed"] and "openai:gpt-5.4" in found["added"]

    # the same from the history, read by another process
    out = cli("--snapshot", str(catalog), "--json", "history", "deepseek:deepseek-chat", "--field", "cost.input")
    assert out.returncode == 0, out.stderr
    timeline = [(e["kind"], e["old"], e["new"], e["epoch"]) for e in json.loads(out.stdout)]
    assert ("changed", 0.28, 0.14, july) in timeline
    assert timeline[-1] == ("changed", 0.28, 0.14, july)
    change = json.loads(out.stdout)[-1]
    assert change["source"] == "models.dev"
    assert models["deepseek:deepseek-chat"]["cost.input"] == 0.14
    assert "openai:o1-mini" not in models
    removed = cli("--snapshot", str(catalog), "--json", "history", "openai:o1-mini")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout)[-1]["kind"] == "removed"
    since = cli("--snapshot", str(catalog), "--json", "changes", "--since", "2000-01-01", "--provider", "deepseek")
    kinds = {(e["spec"], e["field"]) for e in json.loads(since.stdout) if e["kind"] == "changed"}
    assert ("deepseek:deepseek-chat", "limits.context") in kinds
    assert all(e["spec"].startswith("deepseek") for e in json.loads(since.stdout))

    # a request priced with the prices in force at the time, before and after the change; lifecycle dates
    conn = sqlite3.connect(d.state / contract.HISTORY_FILE)
    at = dict(conn.execute("SELECT epoch, at FROM versions").fetchall())
    conn.close()
    reader = llmdb.Catalog(catalog)
    million = {"input_tokens": 1_000_000, "output_tokens": 1_000_000}
    between = (at[january] + at[july]) / 2
    assert reader.cost("deepseek:deepseek-chat", **million, at=between).total == pytest.approx(0.28 + 0.42)
    assert reader.cost("deepseek:deepseek-chat", **million, at=at[july]).total == pytest.approx(0.14 + 0.28)
    assert reader.cost("deepseek:deepseek-chat", **million).total == pytest.approx(0.14 + 0.28)
    assert reader.cost("openai:o1-mini", **million, at=between).total > 0  # removed now, priced then
    for spec, when, why in (
        ("deepseek:deepseek-chat", 946684800.0, "the history in"),  # 2000: before the packaged past
        ("openai:o1-mini", at[july] + 1, "removed from the catalog"),
        ("openai:gpt-5.4", between, "removed from the catalog"),  # in the packaged past, not in January's file
    ):
        with pytest.raises(llmdb.PriceUnknown, match=why):
            reader.cost(spec, **million, at=when)
    out = cli("--snapshot", str(catalog), "cost", "deepseek-chat", "--input-tokens", "1000000", "--at", "1999-01-01")
    assert out.returncode == 1 and "no price known at 1999-01-01" in out.stderr and "Traceback" not in out.stderr
    assert reader.lifecycle("openai:o1-mini").removed == contract.iso(at[july])
    assert reader.lifecycle("openai:gpt-5.4").introduced == "2026-07-01T00:00:00Z"  # first seen, in the past
    assert reader.lifecycle("deepseek:deepseek-chat").introduced == "2026-01-01T00:00:00Z"  # the packaged past
    assert reader.lifecycle("deepseek:deepseek-chat").removed is None


@pytest.mark.slow
def test_kill_9_during_publishes_never_leaves_history_and_catalog_apart(tmp_path: Path) -> None:
    d = Daemon(tmp_path).start()
    rounds = 0
    try:
        catalog = d.state / contract.CATALOG_FILE
        for kill_after in (0.0, 0.02, 0.05, 0.1, 0.2, 0.4):
            value = 10.0 + rounds
            (d.patches / "p.json").write_text(patch(value))
            time.sleep(kill_after)
            assert d.proc is not None
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait()
            d.start()  # the first build after a restart catches the history up
            wait_for(lambda value=value: price(catalog) == value, f"price {value} after restart")
            epoch, models = recorded(d.state)
            assert epoch == contract.read_header(catalog).epoch
            assert models["openai:gpt-4o"]["cost.input"] == value
            rounds += 1
    finally:
        d.stop()
    assert rounds == 6


@pytest.mark.slow
def test_a_corrupt_or_locked_history_never_stops_publishing(tmp_path: Path) -> None:
    d = Daemon(tmp_path)
    d.state.mkdir(parents=True)
    (d.state / contract.HISTORY_FILE).write_bytes(b"this is not a database" * 100)
    d.start()
    catalog = d.state / contract.CATALOG_FILE
    try:
        (d.patches / "p.json").write_text(patch(7.0))
        wait_for(lambda: price(catalog) == 7.0, "a publish despite a corrupt history")
        status = wait_for(lambda: (status_json(d.state) or {}).get("history", {}).get("error"), "report")
        assert str(d.state / contract.HISTORY_FILE) in status
        out = cli("--snapshot", str(catalog), "history", "openai:gpt-4o")
        assert out.returncode == 3 and "cannot read the history" in out.stderr and "Traceback" not in out.stderr

        # a healthy history, then held locked by another process: still published, reported, caught up later
        d.stop()
        for name in (contract.HISTORY_FILE, contract.HISTORY_FILE + "-wal", contract.HISTORY_FILE + "-shm"):
            (d.state / name).unlink(missing_ok=True)
        d.start()
        wait_for(lambda: (d.state / contract.HISTORY_FILE).exists(), "a new history")
        locker = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sqlite3, sys, time\n"
                "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(60)\n",
                str(d.state / contract.HISTORY_FILE),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
            (d.patches / "p.json").write_text(patch(8.0))
            wait_for(lambda: price(catalog) == 8.0, "a publish despite a locked history")
            wait_for(
                lambda: "locked" in (status_json(d.state) or {}).get("history", {}).get("error", ""),
                "the lock reported",
            )
        finally:
            locker.kill()
            locker.wait()
        (d.patches / "p.json").write_text(patch(9.0))
        wait_for(lambda: price(catalog) == 9.0, "the next publish")
        wait_for(lambda: "error" not in (status_json(d.state) or {}).get("history", {}), "recovered")
        epoch, models = recorded(d.state)
        assert epoch == contract.read_header(catalog).epoch
        assert models["openai:gpt-4o"]["cost.input"] == 9.0
        values = [e.new for e in llmdb.Catalog(catalog).history("openai:gpt-4o", "cost.input")]
        assert values[-1] == 9.0 and 8.0 not in values  # the change recorded while locked folded into the next

        # a damaged value inside a healthy database, met when a restart replays the history: reported, published
        d.stop()
        conn = sqlite3.connect(d.state / contract.HISTORY_FILE, isolation_level=None)
        conn.execute(
            "UPDATE events SET new = '{bad' WHERE rowid = "
            "(SELECT max(rowid) FROM events WHERE spec = 'openai:gpt-4o' AND field = 'cost.input')"
        )
        conn.execute("UPDATE versions SET epoch = NULL, content_hash = 'x' WHERE id = (SELECT max(id) FROM versions)")
        conn.close()
        d.start()
        wait_for(lambda: price(catalog) == 9.0, "serving after the restart")
        damaged = wait_for(lambda: (status_json(d.state) or {}).get("history", {}).get("error"), "damage")
        assert "openai:gpt-4o" in damaged and "cost.input" in damaged and "damaged" in damaged
        (d.patches / "p.json").write_text(patch(10.0))
        wait_for(lambda: price(catalog) == 10.0, "a publish despite a damaged history")
        out = cli("--snapshot", str(catalog), "history", "openai:gpt-4o")
        assert out.returncode == 3 and "damaged" in out.stderr and "Traceback" not in out.stderr
        assert str(d.state / contract.HISTORY_FILE) in out.stderr
    finally:
        d.stop()


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="reading as another user needs root to switch to it")
def test_another_user_reads_the_daemons_history(tmp_path: Path) -> None:
    """A reader that may not write to the state directory (the systemd unit's DynamicUser owns it, mode 0755)
    reads the history while the daemon runs and after it stopped."""
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="llmdb-other-user-"))  # not under pytest's 0700 tmp_path
    root.chmod(0o755)
    reader = (
        "import os, sys, llmdb, llmdb._history, sqlite3\n"
        "c = llmdb.Catalog(sys.argv[1])\n"
        "os.setgid(65534); os.setuid(65534)\n"  # nobody, after the imports (the venv may be private)
        "print([e.new for e in c.history('openai:gpt-4o', 'cost.input')][-1])\n"
    )
    d = Daemon(root)
    try:
        d.start()
        catalog = d.state / contract.CATALOG_FILE
        (d.patches / "p.json").write_text(patch(5.5))
        wait_for(lambda: price(catalog) == 5.5, "publish")
        wait_for(lambda: (status_json(d.state) or {}).get("history", {}).get("epoch"), "recorded")
        for when in ("running", "stopped"):
            out = subprocess.run([sys.executable, "-c", reader, str(catalog)], capture_output=True, text=True)
            assert out.returncode == 0 and out.stdout.strip() == "5.5", (when, out.stderr)
            d.stop()
    finally:
        d.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_readers_of_the_history_during_publishes(tmp_path: Path) -> None:
    d = Daemon(tmp_path).start()
    catalog = d.state / contract.CATALOG_FILE
    reader = (
        "import sys, time, llmdb\n"
        "c = llmdb.Catalog(sys.argv[1]); seen = 0; end = time.monotonic() + 6\n"
        "while time.monotonic() < end:\n"
        "    seen = max(seen, len(c.history('openai:gpt-4o', 'cost.input')))\n"
        "print(seen)\n"
    )
    try:
        readers = [
            subprocess.Popen([sys.executable, "-c", reader, str(catalog)], stdout=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        for i in range(8):
            (d.patches / "p.json").write_text(patch(20.0 + i))
            wait_for(lambda i=i: price(catalog) == 20.0 + i, "publish")
        outs = [r.communicate(timeout=60) for r in readers]
    finally:
        d.stop()
    for r, (out, _) in zip(readers, outs, strict=True):
        assert r.returncode == 0
        assert int(out) >= 2  # introduced + at least one change seen while publishing


def test_the_packaged_history_answers_offline(tmp_path: Path) -> None:
    env = {**os.environ, contract.STATE_DIR_ENV: str(tmp_path / "none")}
    env.pop(contract.SNAPSHOT_ENV, None)
    out = cli("--json", "history", "openai:gpt-5", "--field", "limits.input", env=env)
    assert out.returncode == 0, out.stderr
    events = json.loads(out.stdout)
    assert [(e["kind"], e["new"], e["at"][:10]) for e in events] == [("changed", 272000, "2026-07-01")]
    table = cli("history", "openai:gpt-5", env=env)
    assert "introduced" in table.stdout and "2026-01-01" in table.stdout
    assert "extra" in table.stdout and max(map(len, table.stdout.splitlines())) < 300  # long values cut (…)


def test_cost_at_compare_and_lifecycle_from_the_packaged_history(tmp_path: Path) -> None:
    env = {**os.environ, contract.STATE_DIR_ENV: str(tmp_path / "none")}
    env.pop(contract.SNAPSHOT_ENV, None)
    args = ("cost", "deepseek:deepseek-chat", "--input-tokens", "1000000", "--output-tokens", "1000000", "--json")
    march, august = cli(*args, "--at", "2026-03-01", env=env), cli(*args, "--at", "2026-08-01", env=env)
    assert march.returncode == 0 and august.returncode == 0, march.stderr + august.stderr
    assert json.loads(march.stdout)["total"] == pytest.approx(0.28 + 0.42)
    assert json.loads(august.stdout)["total"] == pytest.approx(0.14 + 0.28)
    early = cli("cost", "openai:gpt-5.4", "--input-tokens", "1000", "--at", "2026-03-01", env=env)
    assert early.returncode == 1 and "it entered the catalog 2026-07-01" in early.stderr

    out = cli("compare", "--json", "openai:gpt-4o", "deepseek-chat", "openai:gpt-5", env=env)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert found["specs"] == ["openai:gpt-4o", "deepseek:deepseek-chat", "openai:gpt-5"]
    models = [llmdb.Catalog(llmdb.packaged_path()).get(s) for s in found["specs"]]
    assert found["fields"]["limits.context"] == [m.limits.context for m in models]
    assert found["fields"]["cost.input"] == [m.cost.input for m in models if m.cost is not None]
    assert found["fields"]["limits.input"] == [None, None, 272000]
    assert found["fields"]["lifecycle.introduced"] == ["2026-01-01T00:00:00Z"] * 3
    assert "limits.context" in found["differs"] and "capabilities.chat" not in found["differs"]
    table = cli("compare", "--differences", "openai:gpt-4o", "openai:gpt-5", env=env)
    assert table.returncode == 0 and "limits.input" in table.stdout and "capabilities.chat" not in table.stdout
    unknown = cli("compare", "openai:gpt-4o", "openai:no-such-model", env=env)
    assert unknown.returncode == 1 and "no-such-model" in unknown.stderr

    life = cli("history", "openai:o1-mini", env=env)
    assert life.returncode == 0, life.stderr
    assert "removed 2026-07-01" in life.stdout.splitlines()[0]


def test_bad_questions_get_clear_errors(tmp_path: Path) -> None:
    env = {**os.environ, contract.STATE_DIR_ENV: str(tmp_path / "none")}
    unknown = cli("history", "openai:no-such-model", env=env)
    assert unknown.returncode == 1 and "no-such-model" in unknown.stderr
    bad_date = cli("changes", "--since", "last tuesday", env=env)
    assert bad_date.returncode == 2 and "not a date" in bad_date.stderr
    gone = cli("diff", "3", env=env)
    assert gone.returncode == 3 and "epoch 3 is not retained" in gone.stderr
    early = cli("--json", "changes", "--since", "1990-01-01", "--field", "cost.input", env=env)
    assert early.returncode == 0 and len(json.loads(early.stdout)) > 1000
    future = cli("--json", "changes", "--since", "2100-01-01", env=env)
    assert future.returncode == 0 and json.loads(future.stdout) == []
    alone = tmp_path / "alone.llmdb"  # a snapshot with no history beside it
    alone.write_bytes(llmdb.packaged_path().read_bytes())
    out = cli("--snapshot", str(alone), "history", "openai:gpt-4o")
    assert out.returncode == 3 and "no history here" in out.stderr and "Traceback" not in out.stderr


def test_retention_folds_old_versions_into_a_baseline(tmp_path: Path) -> None:
    from llmdbd.engine import build
    from llmdbd.sources import modelsdev

    old = build([modelsdev.load_path(SHARED / "api-older.json")])
    new = build([modelsdev.load_path(SHARED / "api.json")])
    store = history.History(tmp_path / contract.HISTORY_FILE, retention_days=30)
    now = time.time()
    store.record(old, epoch=1, at=now - 90 * 86400)
    store.record(new, epoch=2, at=now - 60 * 86400)
    store.record(old, epoch=3, at=now)  # the 30-day window holds epoch 3 only: 1 and 2 fold into a baseline
    conn = sqlite3.connect(tmp_path / contract.HISTORY_FILE)
    versions = conn.execute("SELECT epoch, origin FROM versions ORDER BY id").fetchall()
    models, _ = history.state(conn)
    conn.close()
    assert versions == [(2, "baseline"), (3, "publish")]
    assert set(models) == set(old.models)
    assert models["deepseek:deepseek-chat"]["cost.input"] == 0.28


def _rows(path: Path) -> tuple[list[Any], list[Any]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        versions = conn.execute("SELECT id, epoch, content_hash, at, origin FROM versions ORDER BY id").fetchall()
        events = conn.execute("SELECT version, kind, spec, field, old, new, source FROM events ORDER BY rowid")
        return versions, events.fetchall()
    finally:
        conn.close()


GENAI_ORIGIN = (
    "https://raw.githubusercontent.com/pydantic/genai-prices/47df840a5ab10bbcffb8e5ac01b9899032245d1b"
    "/prices/new_data/v2/data.json"
)


@pytest.mark.slow
def test_history_import_rebuilds_the_packaged_history(tmp_path: Path) -> None:
    """The command docs/history.md gives rebuilds the shipped history, row for row; a failed import leaves an
    existing --output as it was."""
    litellm = SHARED.parent / "litellm" / "model_prices_and_context_window.json"
    older, newer = SHARED / "api-older.json", SHARED / "api.json"
    openrouter, genai = (
        SHARED.parent / "openrouter" / "models.json",
        SHARED.parent / "genai-prices" / "v2" / "data.json",
    )
    origins = {
        older: "https://models.dev/api.json",
        newer: "https://models.dev/api.json",
        openrouter: "https://openrouter.ai/api/v1/models?output_modalities=all",
        genai: GENAI_ORIGIN,
        litellm: "pypi:litellm==1.109.1/litellm/model_prices_and_context_window_backup.json",
    }
    dated = [
        f"{older}@2026-01-01",
        f"{newer}@2026-07-01",
        f"{openrouter}@2026-08-05",
        f"{genai}@2026-08-21",
        f"{litellm}@2026-11-12",
    ]
    given = [arg for path, url in origins.items() for arg in ("--origin", f"{path}={url}")]
    output = tmp_path / "history.sqlite3"

    def run(*files: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "llmdbd", "history", "import", *files, *given, "--output", str(output)]
        return subprocess.run(command, capture_output=True, text=True, timeout=300)

    out = run(*dated)
    assert out.returncode == 0, out.stderr
    assert _rows(output) == _rows(llmdb.packaged_path().with_name(contract.HISTORY_FILE))
    before = output.read_bytes()
    (tmp_path / "broken.json").write_text('{"openai": ')
    out = run(*dated[:1], f"{tmp_path / 'broken.json'}@2026-02-01")
    assert out.returncode != 0 and "broken.json" in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert output.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.json", "history.sqlite3"]


def test_a_model_whose_provider_left_too_is_still_in_the_history(tmp_path: Path) -> None:
    from llmdbd.engine import build
    from llmdbd.output.snapshot import encode_snapshot
    from llmdbd.sources import modelsdev

    data = json.loads((SHARED / "api.json").read_text())
    without = {k: v for k, v in data.items() if k != "deepseek"}
    (tmp_path / "without.json").write_text(json.dumps(without))
    old = build([modelsdev.load_path(SHARED / "api.json")])
    new = build([modelsdev.load_path(tmp_path / "without.json")])
    store = history.History(tmp_path / contract.HISTORY_FILE)
    store.record(old, epoch=1, at=time.time() - 86400)
    store.record(new, epoch=2, at=time.time())
    store.close()
    (tmp_path / contract.CATALOG_FILE).write_bytes(encode_snapshot(new, epoch=2, built_at=time.time()))
    catalog = llmdb.Catalog(tmp_path / contract.CATALOG_FILE)
    with pytest.raises(llmdb.UnknownProvider):
        catalog.get("deepseek:deepseek-chat")
    assert [e.kind for e in catalog.history("deepseek:deepseek-chat")] == ["introduced", "removed"]
    assert catalog.lifecycle("deepseek:deepseek-chat").removed is not None
    assert catalog.cost("deepseek:deepseek-chat", input_tokens=1_000_000, at=time.time() - 3600).total == 0.14
