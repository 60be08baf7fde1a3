"""`llmdbd fleet-status`: which host serves which catalog, against the leader's manifest."""

from __future__ import annotations

import socket
import time
from typing import Any

from llmdb.contract import liveness, unix
from llmdbd.fleet.manifest import Manifest


def survey(leader: Manifest, hosts: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per host (its name → its status file's content, None when unreadable): the content hash it
    serves, whether that is the leader's, the leader hash it last saw and how long ago it last checked."""
    rows = []
    now = time.time()
    here = socket.gethostname()
    for host, status in hosts.items():
        if not isinstance(status, dict):
            problem = "no status file" if status is None else "not a status file (no JSON object)"
            rows.append({"host": host, "converged": False, "problem": problem})
            continue
        follow = _table(status, "follow")
        row: dict[str, Any] = {
            "host": host,
            "content_hash": status.get("content_hash"),
            "epoch": status.get("epoch"),
            "converged": status.get("content_hash") == leader.content_hash,
            "leader_seen": _table(follow, "leader").get("content_hash"),
            "stale_s": _age(now, follow.get("checked_at")),
            "lag_s": follow.get("lag_s"),
        }
        # a process id means something only on the host that wrote it (status files are collected from many);
        # a file without `host` (an older daemon's) is taken as this host's
        down = liveness(status, check_pid=status.get("host", here) == here)
        problems = [f"daemon {down}"] if down else []
        if follow.get("error"):
            problems.append(str(follow["error"]))
        if follow.get("differs_because") and not row["converged"]:
            problems.append(str(follow["differs_because"]))
        if problems:
            row["problem"] = "; ".join(problems)
        rows.append(row)
    return rows


def _table(status: dict[str, Any], key: str) -> dict[str, Any]:
    found = status.get(key)
    return found if isinstance(found, dict) else {}


def _age(now: float, when: Any) -> float | None:
    """Seconds since `when` (an ISO time), None when there is none or it is not a time."""
    try:
        return round(now - unix(when), 1)
    except (TypeError, ValueError, AttributeError):
        return None
