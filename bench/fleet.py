"""Fleet figures: leader publish → every follower serving it, and what a profile costs a lookup.

python -m bench.fleet [--drops 8]

A real S3-compatible server (moto's, on 127.0.0.1), one leader and three followers as `llmdbd run` processes,
polling every second. Each drop is timed from the leader's local publish to the last follower serving its
content hash, both read from the daemons' status files.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

from llmdb import contract

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

FOLLOWERS = 3
POLL = 1.0


def _served(state: Path) -> tuple[int | None, str | None]:
    """The epoch and content hash a daemon's status says it serves (None, None before it has one)."""
    status = contract.read_status(state)
    return (status.epoch, status.content_hash) if status is not None else (None, None)


def _wait(check: Any, timeout: float = 60.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.01)
    raise RuntimeError("timed out")


def convergence(drops: int = 8) -> dict[str, float]:
    from object_store import CREDENTIALS, S3Server

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        s3 = S3Server(root / "moto.log").start()
        s3.create_bucket()
        procs = []
        env = {**os.environ, **CREDENTIALS}
        url = "s3://llmdb-fleet/bench/"
        try:
            states = []
            for i, role in enumerate(["leader", *["follower"] * FOLLOWERS]):
                home = root / f"{role}{i}"
                (home / "patches").mkdir(parents=True)
                extra = (
                    f'[publish]\ntargets = ["{url}"]\n'
                    if role == "leader"
                    else (f'[follow]\nurl = "{url}"\npoll_interval = {POLL}\n')
                )
                (home / "c.toml").write_text(
                    f'state_dir = "{home / "state"}"\npatch_dirs = ["{home / "patches"}"]\nlog_format = "json"\n'
                    + extra
                    + s3.config()
                )
                log = open(home / "log", "wb")  # noqa: SIM115
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "llmdbd", "run", "--config", str(home / "c.toml")],
                        stderr=log,
                        stdout=log,
                        env=env,
                    )
                )
                states.append(home / "state")
                _wait(lambda s=home / "state": _served(s)[1])
            leader, followers = states[0], states[1:]
            times = []
            for i in range(drops + 1):
                (leader.parent / "patches" / "p.json").write_text(
                    json.dumps({"models": [{"spec": "openai:gpt-4o", "cost": {"input": 100.0 + i}}]})
                )
                before = _served(leader)[0]
                _wait(lambda before=before: _served(leader)[0] != before)
                published = time.monotonic()
                target = _served(leader)[1]
                for state in followers:
                    _wait(lambda state=state, target=target: _served(state)[1] == target)
                if i:  # the first drop warms the followers' caches
                    times.append(time.monotonic() - published)
                time.sleep(0.3)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
            s3.stop()
        stages = _stages([home.parent / "log" for home in states])
    return {
        f"leader publish → {FOLLOWERS} followers serving, median (s)": statistics.median(times),
        f"leader publish → {FOLLOWERS} followers serving, max (s)": max(times),
        **stages,
    }


def _stages(logs: list[Path]) -> dict[str, float]:
    """Where the time goes, from the daemons' log events (medians over the drops): the leader's upload after
    its publish, a follower's download and checks after the upload, and its publish after that."""
    events = [[json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")] for log in logs]

    def times(found: list[dict[str, Any]], name: str) -> list[float]:
        return [contract_unix(e["timestamp"]) for e in found if e.get("event") == name]

    published, uploaded = times(events[0], "catalog_published")[2:], times(events[0], "snapshot_uploaded")[2:]
    upload = [u - p for p, u in zip(published, uploaded, strict=False)]
    follow, publish = [], []
    for found in events[1:]:
        followed, done = times(found, "leader_followed")[-len(uploaded) :], times(found, "catalog_published")
        follow += [f - u for u, f in zip(uploaded, followed, strict=False)]
        publish += [min((d - f for d in done if d >= f), default=0.0) for f in followed]
    return {
        "stage: leader publish → upload done, median (s)": statistics.median(upload),
        "stage: upload done → follower has checked the file, median (s)": statistics.median(follow),
        "stage: follower checked → follower published, median (s)": statistics.median(publish),
    }


def contract_unix(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def profile_lookups() -> dict[str, float]:
    """The hot `get` on one profiled file, with and without a profile (best of 7 repeats of 100,000)."""
    import msgspec

    import llmdb
    from llmdbd import inputs
    from llmdbd.config import Config, Profile
    from llmdbd.output.snapshot import encode_snapshot

    definitions: dict[str, dict[str, Any]] = {
        "prod": {"allow": {"openai": "*", "anthropic": "*"}, "deny": {"openai": "gpt-4o-mini*"}},
        "test": {"overrides": {"models": [{"spec": "openai:gpt-4o", "limits": {"output": 4096}}]}},
    }
    profiles = msgspec.convert(definitions, dict[str, Profile])
    catalog = inputs.catalog(Config(patch_dirs=[], profiles=profiles))  # the packaged catalog, two profiles
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "profiled.llmdb"
        path.write_bytes(encode_snapshot(catalog, epoch=1, built_at=0.0))
        for profile in (None, "prod", "test"):
            reader = llmdb.Catalog(path, profile=profile)
            get = reader.get
            get("openai:gpt-4o")
            best = min(timeit.repeat(lambda get=get: get("openai:gpt-4o"), number=100_000, repeat=7))
            out[f"get, repeated, profile {profile or 'none'} (ns)"] = best / 100_000 * 1e9
    return out


def run(drops: int = 8) -> dict[str, float]:
    return {**convergence(drops), **profile_lookups()}


def markdown(results: dict[str, float]) -> str:
    lines = ["| figure | value | target |", "| --- | ---: | --- |"]
    none = results.get("get, repeated, profile none (ns)")
    for name, value in results.items():
        verdict = ""
        if name.startswith("leader publish") and "median" in name:
            verdict = f"≤ 2: {'pass' if value <= 2.0 else 'MISS'}"
        elif name.startswith("get, repeated, profile") and none and "none" not in name:
            verdict = f"{value / none:.2f}x the figure without a profile (target: the same)"
        lines.append(f"| {name} | {value:,.3f} | {verdict} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--drops", type=int, default=8)
    print(markdown(run(parser.parse_args().drops)))
