"""A daemon's state directory: its default place, the files in it, the retained snapshots, and the environment
variables that point a reader at them. Plain strings (reading the catalog does not import pathlib)."""

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

STATE_DIR = "/var/lib/llmdb"
"""The daemon's default state directory (a string: reading the catalog does not import pathlib)."""
CATALOG_FILE = "catalog.llmdb"
"""The current snapshot, inside a state directory."""
STATUS_FILE = "status.json"
"""What the daemon serves and refused, inside a state directory (JSON, times as `iso` writes them)."""
LOCK_FILE = "llmdbd.lock"
"""Held (flock) by the one process that writes a state directory; it holds that process's pid."""
SNAPSHOTS_DIR = "snapshots"
"""Retained earlier snapshots, `catalog.<epoch:010d>.llmdb`, inside a state directory."""
_RETAINED = re.compile(r"^catalog\.(\d+)\.llmdb$")
SNAPSHOT_ENV = "LLMDB_SNAPSHOT"
"""Environment variable naming the snapshot file a client reads."""
PROFILE_ENV = "LLMDB_PROFILE"
"""The profile a process reads the catalog with (`Catalog(profile=...)` overrides it)."""
STATE_DIR_ENV = "LLMDB_STATE_DIR"
"""Environment variable naming the daemon's state directory a client looks in (default `STATE_DIR`)."""


def retained_path(state_dir: "str | Path", epoch: int) -> "Path":
    """Where a state directory keeps the snapshot it published as `epoch`."""
    from pathlib import Path

    return Path(state_dir) / SNAPSHOTS_DIR / f"catalog.{epoch:010d}.llmdb"


def retained_epochs(state_dir: "str | Path") -> "dict[int, Path]":
    """Epoch → retained snapshot file of a state directory, oldest first (empty when it has none)."""
    from pathlib import Path

    try:
        found = [
            (int(m.group(1)), p) for p in (Path(state_dir) / SNAPSHOTS_DIR).iterdir() if (m := _RETAINED.match(p.name))
        ]
    except OSError:
        return {}
    return dict(sorted(found))
