"""The status file, `state_dir/status.json`: what the daemon serves and refused, and whether it is running.

Written atomically and world-readable; times are ISO 8601 UTC. Read it with `llmdb.contract.read_status`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec

from llmdb.contract import STATUS_FILE, read_status
from llmdbd.output.files import atomic_write

__all__ = ["liveness", "read_status", "write"]


def write(state_dir: str | os.PathLike[str], status: dict[str, Any]) -> None:
    atomic_write(Path(state_dir) / STATUS_FILE, msgspec.json.format(msgspec.json.encode(status), indent=2) + b"\n")


def liveness(status: dict[str, Any]) -> str | None:
    """None when the daemon that wrote `status` is running; else why not (stopped, or its process is gone)."""
    if status.get("state") == "stopped":
        return f"stopped at {status.get('stopped_at')}"
    pid = status.get("pid")
    if not isinstance(pid, int) or not _alive(pid):
        return f"not running: process {pid} is gone (killed, or the machine restarted)"
    return None


def _alive(pid: int) -> bool:
    """A process `pid` exists and is an llmdbd (a recycled pid of another program does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user (the systemd service's dynamic user)
    try:
        return b"llmdbd" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc to tell: trust the pid
