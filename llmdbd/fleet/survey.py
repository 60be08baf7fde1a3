"""`llmdbd fleet-status`: which host serves which catalog, against the leader's manifest."""

from __future__ import annotations

import time
from typing import Any

from llmdb.contract import liveness, unix
from llmdbd.fleet.manifest import Manifest


def survey(leader: Manifest, hosts: dict[str, dict[str, Any] | None]) -> list[dict[str, Any]]:
    """One row per host (its name → its status file's content, None when unreadable): the content hash it
    serves, whether that is the leader's, the leader hash it last saw and how long ago it last checked."""
    rows = []
    now = time.time()
    for host, status in hosts.items():
        if status is None:
            rows.append({"host": host, "converged": False, "problem": "no status file"})
            continue
        follow = status.get("follow") or {}
        checked = follow.get("checked_at")
        row: dict[str, Any] = {
            "host": host,
            "content_hash": status.get("content_hash"),
            "epoch": status.get("epoch"),
            "converged": status.get("content_hash") == leader.content_hash,
            "leader_seen": (follow.get("leader") or {}).get("content_hash"),
            "stale_s": None if checked is None else round(now - unix(checked), 1),
            "lag_s": follow.get("lag_s"),
        }
        down = liveness(status)
        problems = [f"daemon {down}"] if down else []
        if follow.get("error"):
            problems.append(follow["error"])
        if follow.get("differs_because") and not row["converged"]:
            problems.append(follow["differs_because"])
        if problems:
            row["problem"] = "; ".join(problems)
        rows.append(row)
    return rows
