"""Running the real daemon as a subprocess and reading what it publishes from separate client processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEADLINE = 30.0


def status_json(state: Path) -> dict[str, Any] | None:
    """The daemon's status file as a monitoring script reads it: plain JSON (None when there is none)."""
    try:
        found = json.loads((state / "status.json").read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def wait_for(check: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Daemon:
    """`llmdbd run` on a temporary state directory with its own config and patch directory."""

    def __init__(
        self, root: Path, config: str = "", env: dict[str, str] | None = None, args: tuple[str, ...] = ()
    ) -> None:
        self.root = root
        self.state = root / "state"
        self.patches = root / "patches"
        self.patches.mkdir(exist_ok=True)
        self.config = root / "llmdbd.toml"
        self.write_config(config)
        self.log = root / "daemon.log"
        self.env = {**os.environ, **(env or {})}
        self.command = [sys.executable, "-m", "llmdbd", "run", "--config", str(self.config)]
        self.args = args
        """Extra `llmdbd run` arguments (flags that must keep their precedence over the config file)."""
        self.status_dir = self.state
        """Where the daemon writes its status (a `--state-dir` flag moves it)."""
        self.proc: subprocess.Popen[bytes] | None = None

    def write_config(self, extra: str) -> None:
        self.config.write_text(
            f'state_dir = "{self.state}"\npatch_dirs = ["{self.patches}"]\ndebounce_ms = 100\nlog_format = "json"\n'
            + extra
        )

    def start(self) -> Daemon:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [*self.command, *self.args],
                stdout=log,
                stderr=log,
                env=self.env,
            )
        proc = self.proc
        try:
            wait_for(lambda: self._status_pid() == proc.pid or proc.poll() is not None, "first build")
            assert proc.poll() is None, self.log.read_text()
        except BaseException:
            proc.kill()  # never leave a daemon running behind a failed test
            raise
        return self

    def _status_pid(self) -> int | None:
        try:
            return int(json.loads((self.status_dir / "status.json").read_text())["pid"])
        except (OSError, ValueError, KeyError):
            return None

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """The daemon's log events so far (only those called `name`, if given)."""
        return [e for e in self._events() if name is None or e.get("event") == name]

    def _events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def read(self, spec: str = "openai:gpt-4o") -> dict[str, Any]:
        return client_read(self.state / "catalog.llmdb", spec)


def client_read(path: Path, spec: str = "openai:gpt-4o") -> dict[str, Any]:
    """What a separate client process sees: epoch and the model's JSON (or an error)."""
    code = (
        "import json, sys, msgspec, llmdb\n"
        "c = llmdb.Catalog(sys.argv[1])\n"
        "m = c.find(sys.argv[2])\n"
        "print(json.dumps({'epoch': c.snapshot.epoch, 'allowed': m is not None and c.allowed(m.spec),"
        " 'model': msgspec.to_builtins(m)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path), spec], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        return {"error": out.stderr}
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def patch(value: float) -> str:
    """A patch file setting `openai:gpt-4o`'s input price to `value`."""
    return json.dumps({"models": [{"spec": "openai:gpt-4o", "cost": {"input": value}}]})


def price(path: Path, spec: str = "openai:gpt-4o") -> float | None:
    seen = client_read(path, spec)
    model = seen.get("model")
    return model["cost"]["input"] if model and model.get("cost") else None
