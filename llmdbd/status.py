"""The status file, `state_dir/status.json`: what the daemon serves and what it refused, written atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec

NAME = "status.json"


def write(state_dir: str | os.PathLike[str], status: dict[str, Any]) -> None:
    path = Path(state_dir) / NAME
    tmp = path.with_name(f".{NAME}.{os.getpid()}.tmp")
    tmp.write_bytes(msgspec.json.format(msgspec.json.encode(status), indent=2) + b"\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def read(state_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    try:
        data = msgspec.json.decode((Path(state_dir) / NAME).read_bytes())
    except (OSError, msgspec.DecodeError):
        return None
    return data if isinstance(data, dict) else None
