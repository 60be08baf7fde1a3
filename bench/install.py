"""Install kinds side by side, in the same run: the wheel in a clean venv (what `pip install llmdbd` gives: msgspec
and nothing else) and this checkout's editable install (with the dev extras), each in fresh interpreters.

python -m bench.install

Both have bytecode: pip compiles a wheel at install, and the editable package is compiled here first (this
machine sets PYTHONDONTWRITEBYTECODE, which would otherwise make every import compile from source).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from llmdb import contract

ROOT = Path(__file__).resolve().parents[1]
SPEC = "openai:gpt-4o"
IN_PROCESS = (
    "import time; t = time.perf_counter(); import llmdb; llmdb.get('openai:gpt-4o'); w = time.perf_counter() - t\n"
    "import json, sys\n"
    "snap = llmdb.default_catalog().snapshot\nfor i in range(1000): llmdb.get(snap.spec_at(i))\n"
    "rss = [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS')][0]\n"
    "print(json.dumps({'wall': w, 'rss': rss, 'extensions': 'typing_extensions' in sys.modules}))"
)


def _wall(python: str, code: str, env: dict[str, str], runs: int) -> float:
    """Median wall time (ms) of `python -c code`, start to exit."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([python, "-c", code], env=env, check=True, capture_output=True)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def measure(python: str, env: dict[str, str], runs: int = 11) -> dict[str, Any]:
    walls: dict[str, list[float]] = {"pass": [], "msgspec": [], "lookup": []}
    for _ in range(runs):  # in turn, so that drift falls on each alike
        walls["pass"].append(_wall(python, "pass", env, 1))
        walls["msgspec"].append(_wall(python, "import msgspec", env, 1))
        walls["lookup"].append(_wall(python, f"import llmdb; llmdb.get({SPEC!r})", env, 1))
    passed, msgspec, lookup = (statistics.median(walls[k]) for k in ("pass", "msgspec", "lookup"))
    inside = [
        json.loads(subprocess.run([python, "-c", IN_PROCESS], env=env, check=True, capture_output=True).stdout)
        for _ in range(runs)
    ]
    return {
        "python -c pass (ms)": passed,
        "python -c 'import llmdb; llmdb.get(...)' (ms)": lookup,
        "import + open + first get over python -c pass (ms)": lookup - passed,
        "python -c 'import msgspec' over python -c pass (ms)": msgspec - passed,
        "import llmdb + open + first get, in-process (ms)": statistics.median(r["wall"] for r in inside) * 1e3,
        "resident memory after import and 1,000 lookups (MiB)": statistics.median(r["rss"] for r in inside) / 1024,
        "typing_extensions imported": float(any(r["extensions"] for r in inside)),
    }


def run(runs: int = 11) -> dict[str, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k != contract.SNAPSHOT_ENV}
    env[contract.STATE_DIR_ENV] = "/nonexistent"  # the packaged snapshot, never a daemon's file on this machine
    with tempfile.TemporaryDirectory() as tmp:
        wheels, venv = Path(tmp) / "wheels", Path(tmp) / "venv"
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
            check=True,
            capture_output=True,
        )
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = str(venv / "bin" / "python")
        wheel = next(wheels.glob("llmdbd-*.whl"))
        subprocess.run([python, "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "client" / "llmdb")], check=True)
        return {
            "wheel, clean venv": measure(python, env, runs),
            "editable (this checkout, dev extras)": measure(sys.executable, env, runs),
        }


def markdown(results: dict[str, dict[str, Any]]) -> str:
    kinds = list(results)
    figures = list(results[kinds[0]])
    lines = ["| figure | " + " | ".join(kinds) + " |", "|---" + "|---:" * len(kinds) + "|"]
    for figure in figures:
        cells = [
            ("yes" if results[k][figure] else "no") if "imported" in figure else f"{results[k][figure]:,.1f}"
            for k in kinds
        ]
        lines.append(f"| {figure} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run()))
