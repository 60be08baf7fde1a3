"""Proportional set size (PSS) per gunicorn worker: llmdb vs LiteLLM vs a bare app, 8 sync workers each.

    python -m bench.gunicorn_pss

PSS splits shared pages between the processes sharing them, so the snapshot's bytes (one shared mapping)
count once across workers, while a per-process dict counts in full in every worker.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 8
APPS = {
    "bare": "examples.gunicorn_app.bare_app:app",
    "llmdb": "examples.gunicorn_app.app:app",
    "litellm": "examples.gunicorn_app.litellm_app:app",
}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no Pss for {pid}")


def measure(target: str, preload: bool = False) -> float | str:
    """Median PSS (MiB) of the workers after each answered a few lookups; a string when it could not run."""
    port = _port()
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT)]
    server = subprocess.Popen(
        [*cmd, *(["--preload"] if preload else []), target], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        workers: set[int] = set()
        while time.monotonic() < deadline:
            if server.poll() is not None:
                return "failed: " + (server.stderr.read().decode()[-200:] if server.stderr else "")
            try:
                for _ in range(WORKERS * 20):
                    request = urllib.request.Request(
                        f"http://127.0.0.1:{port}/models/openai:gpt-4o", headers={"Connection": "close"}
                    )
                    with urllib.request.urlopen(request, timeout=30) as response:
                        workers.add(int(response.headers["X-Worker-Pid"]))
                if len(workers) >= WORKERS:
                    break
            except OSError:
                time.sleep(0.2)
        return statistics.median(_pss(pid) for pid in workers)
    finally:
        server.terminate()
        server.wait(timeout=30)


def run() -> dict[str, float | str]:
    """Every app both ways, so each comparison is like with like (with --preload the master imports the app
    once and the workers share those pages; without it each worker imports its own)."""
    out: dict[str, float | str] = {}
    for name, target in APPS.items():
        out[f"{name} worker PSS (MiB)"] = measure(target)
        out[f"{name} worker PSS with --preload (MiB)"] = measure(target, preload=True)
    return out


def main() -> None:
    print(json.dumps(run(), indent=2))


if __name__ == "__main__":
    main()
