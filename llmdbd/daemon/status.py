"""The status file, `state_dir/status.json`: what the daemon serves and refused, and whether it is running.

Written atomically and world-readable; times are ISO 8601 UTC. Read it with `llmdb.contract.read_status`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec

from llmdb.contract import STATUS_FILE, liveness, read_status
from llmdbd.output.files import atomic_write

__all__ = ["liveness", "read_status", "write"]


def write(state_dir: str | os.PathLike[str], status: dict[str, Any]) -> None:
    atomic_write(Path(state_dir) / STATUS_FILE, msgspec.json.format(msgspec.json.encode(status), indent=2) + b"\n")
