"""Writing the status file, `state_dir/status.json`: what the daemon serves and refused, and whether it runs.

Atomic and world-readable; times are ISO 8601 UTC. Read it with `llmdb.contract.read_status` and `liveness`.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from llmdb.contract import STATUS_FILE, Status
from llmdbd.output.files import atomic_write


def write(state_dir: str | os.PathLike[str], status: Status) -> None:
    atomic_write(Path(state_dir) / STATUS_FILE, msgspec.json.format(msgspec.json.encode(status), indent=2) + b"\n")
