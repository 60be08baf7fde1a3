"""One writer per state directory: a second daemon, a `history import`, a `build --state-dir` or a `pull` into a
directory a daemon holds is refused at start naming the holder's pid; a killed daemon's lock goes with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from daemon_helpers import Daemon, patch, price, wait_for

from llmdb import contract

UPSTREAM = Path(__file__).resolve().parents[2] / "shared" / "upstream" / "models.dev"


def llmdbd(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LLMDBD_CONFIG": "/nonexistent/llmdbd.toml"}
    return subprocess.run(
        [sys.executable, "-m", "llmdbd", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def test_a_second_daemon_on_the_same_state_directory_is_refused_and_the_first_keeps_serving(tmp_path: Path) -> None:
    first = Daemon(tmp_path).start()
    try:
        assert first.proc is not None
        second = subprocess.run(
            [*first.command, "--state-dir", str(first.state)],
            capture_output=True,
            text=True,
            timeout=60,
            env=first.env,
        )
        assert second.returncode == 2, second.stderr
        said = second.stdout + second.stderr
        assert "state_dir_busy" in said and f"pid {first.proc.pid}" in said and "Traceback" not in said
        # nothing was lost: the first still serves, and still publishes a patch, alone
        (first.patches / "p.json").write_text(patch(1.25))
        wait_for(lambda: price(first.state / "catalog.llmdb") == 1.25, "the first daemon publishing the patch")
        status = contract.read_status(first.state)
        assert status is not None and status.pid == first.proc.pid and contract.liveness(status) is None
    finally:
        first.stop()


def test_a_daemon_killed_with_sigkill_leaves_no_lock_behind(tmp_path: Path) -> None:
    d = Daemon(tmp_path).start()
    assert d.proc is not None
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait(timeout=10)
    assert (d.state / contract.LOCK_FILE).exists()  # the file stays; the kernel dropped its lock
    d.start()  # no lock file to remove by hand
    try:
        assert d.proc is not None and d.proc.poll() is None
        status = contract.read_status(d.state)
        assert status is not None and status.pid == d.proc.pid and status.state == "running"
    finally:
        d.stop()


def test_history_import_build_and_pull_into_a_live_state_directory_are_refused(tmp_path: Path) -> None:
    d = Daemon(tmp_path).start()
    try:
        assert d.proc is not None
        history = d.state / contract.HISTORY_FILE
        before = history.read_bytes() if history.exists() else b""
        runs = {
            "history import": llmdbd(
                "history", "import", f"{UPSTREAM / 'api-older.json'}@2026-01-01", "--state-dir", str(d.state)
            ),
            "history import --output": llmdbd(
                "history", "import", f"{UPSTREAM / 'api-older.json'}@2026-01-01", "--output", str(history)
            ),
            "build": llmdbd("build", "--state-dir", str(d.state)),
            "pull": llmdbd("pull", "--state-dir", str(d.state)),
        }
        for what, out in runs.items():
            assert out.returncode == 2, (what, out.stderr)
            assert f"pid {d.proc.pid}" in out.stderr and "in use" in out.stderr, (what, out.stderr)
            assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr, (what, out.stderr)
        assert (history.read_bytes() if history.exists() else b"") == before
        assert contract.read_header(d.state / contract.CATALOG_FILE).epoch == 1
    finally:
        d.stop()
    # once it stopped, the directory is free again
    out = llmdbd("build", "--state-dir", str(d.state))
    assert out.returncode == 0 and "unchanged" in out.stderr, out.stderr


def test_history_import_creates_a_new_state_directory_or_output_directory(tmp_path: Path) -> None:
    fresh = tmp_path / "new" / "state"
    out = llmdbd("history", "import", f"{UPSTREAM / 'api-older.json'}@2026-01-01", "--state-dir", str(fresh))
    assert out.returncode == 0 and "recorded 1 catalog(s)" in out.stderr, out.stderr
    assert (fresh / contract.HISTORY_FILE).stat().st_size > 0
    shipped = tmp_path / "new" / "dist" / "history.sqlite3"
    out = llmdbd("history", "import", f"{UPSTREAM / 'api-older.json'}@2026-01-01", "--output", str(shipped))
    assert out.returncode == 0 and shipped.stat().st_size > 0, out.stderr
