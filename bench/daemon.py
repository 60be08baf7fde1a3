"""Daemon figures: patch drop → visible in a separate client process, rebuild time per stage, idle cost.

python -m bench.daemon [--drops 30] [--idle 60]
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
from pathlib import Path
from typing import Any

READER = """
import sys, time, llmdb
catalog = llmdb.Catalog(sys.argv[1])
last = None
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    m = catalog.get("openai:gpt-4o")
    if m.cost.input != last:
        last = m.cost.input
        print(f"{time.monotonic()} {last}", flush=True)
    time.sleep(0.0005)
"""


def _proc_stat(pid: int) -> tuple[float, float]:
    """(CPU seconds, resident MiB) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = (
        next(
            int(line.split()[1])
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if line.startswith("VmRSS")
        )
        / 1024
    )
    return cpu, rss


def run(drops: int = 30, idle: float = 60.0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "patches").mkdir()
        config = root / "llmdbd.toml"
        config.write_text(f'state_dir = "{root / "state"}"\npatch_dirs = ["{root / "patches"}"]\nlog_format = "json"\n')
        log = open(root / "log", "wb")  # noqa: SIM115
        daemon = subprocess.Popen([sys.executable, "-m", "llmdbd", "run", "--config", str(config)], stderr=log)
        catalog = root / "state" / "catalog.llmdb"
        while not (root / "state" / "status.json").exists():
            time.sleep(0.05)
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(catalog), str(drops * 2 + 30)], stdout=subprocess.PIPE, text=True
        )
        assert reader.stdout is not None
        reader.stdout.readline()  # the upstream price, before any drop
        time.sleep(1)  # the daemon's watcher is set up after its first publish: measure the steady state
        latencies = []
        for i in range(drops):
            value = 100.0 + i
            body = json.dumps({"models": [{"spec": "openai:gpt-4o", "cost": {"input": value}}]})
            tmp_file = root / "patches" / ".p.json.tmp"
            tmp_file.write_text(body)
            start = time.monotonic()
            os.replace(tmp_file, root / "patches" / "p.json")
            seen_at, seen = reader.stdout.readline().split()
            assert float(seen) == value, (seen, value)
            latencies.append((float(seen_at) - start) * 1000)
            time.sleep(0.3)
        reader.kill()
        time.sleep(2)
        cpu_before, _ = _proc_stat(daemon.pid)
        time.sleep(idle)
        cpu_after, rss = _proc_stat(daemon.pid)
        daemon.terminate()
        daemon.wait(timeout=10)
        log.close()
        builds = [
            e
            for line in (root / "log").read_text().splitlines()
            if (e := json.loads(line)).get("event") == "catalog_published" and e.get("trigger") != "start"
        ]
    stages: dict[str, float] = {}
    for name in builds[0]["stage_ms"]:
        stages[name] = statistics.median(b["stage_ms"][name] for b in builds)
    in_order = [round(x) for x in latencies]
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return {
        "patch drop → visible in another process, median (ms)": statistics.median(latencies),
        "patch drop → visible in another process, p99 (ms)": p99,
        "patch drop → visible, max (ms)": latencies[-1],
        "rebuild + publish, median (ms)": statistics.median(b["ms"] for b in builds),
        "rebuild + publish, each (ms)": [b["ms"] for b in builds],
        "patch drop → visible, each (ms)": in_order,
        "rebuild stages, median (ms)": stages,
        f"idle daemon CPU over {idle:.0f} s (s)": cpu_after - cpu_before,
        "idle daemon resident memory (MiB)": rss,
        "drops": len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--drops", type=int, default=30)
    parser.add_argument("--idle", type=float, default=60.0)
    args = parser.parse_args()
    print(json.dumps(run(args.drops, args.idle), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
