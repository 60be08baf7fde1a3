"""`llmdbd fleet-status`: which host serves which catalog, against the leader's manifest."""

from __future__ import annotations

import socket
import time
from typing import Any

from llmdb.contract import Status, liveness, unix
from llmdbd.fleet.manifest import Manifest


def survey(leader: Manifest, hosts: dict[str, Status | str]) -> list[dict[str, Any]]:
    """One row per host (its name → its status file, or why there is none to read): the content hash it
    serves, whether that is the leader's, the leader hash it last saw and how long ago it last checked."""
    rows = []
    now = time.time()
    here = socket.gethostname()
    for host, status in hosts.items():
        if isinstance(status, str):
            rows.append({"host": host, "converged": False, "problem": status})
            continue
        follow = status.follow
        row: dict[str, Any] = {
            "host": host,
            "content_hash": status.content_hash,
            "epoch": status.epoch,
            "converged": status.content_hash == leader.content_hash,
            "leader_seen": follow.leader.content_hash if follow is not None and follow.leader else None,
            "stale_s": _age(now, follow.checked_at) if follow is not None else None,
            "lag_s": follow.lag_s if follow is not None else None,
        }
        # a process id means something only on the host that wrote it (status files are collected from many);
        # a file without `host` (an older daemon's) is taken as this host's
        down = liveness(status, check_pid=(status.host or here) == here)
        problems = [f"daemon not running: {down}"] if down else []
        if follow is not None and follow.error:
            problems.append(follow.error)
        if follow is not None and follow.differs_because and not row["converged"]:
            problems.append(follow.differs_because)
        if problems:
            row["problem"] = "; ".join(problems)
        rows.append(row)
    return rows


def _age(now: float, when: str | None) -> float | None:
    """Seconds since `when` (an ISO time), None when there is none or it is not a time."""
    try:
        return None if when is None else round(now - unix(when), 1)
    except ValueError:
        return None
