"""Import + first lookup and resident memory with two snapshot files, in alternating fresh interpreters: whether a
catalog's content (not the code) moved them. `python -m bench.snapshots OLD NEW` (e.g. the packaged file of an
earlier commit, `git show REV:client/llmdb/catalog.llmdb > old.llmdb`, against today's)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

CODE = (
    "import time; t = time.perf_counter(); import llmdb; llmdb.get('openai:gpt-4o'); w = time.perf_counter() - t\n"
    "import json\n"
    "snap = llmdb.default_catalog().snapshot\nfor i in range(1000): llmdb.get(snap.spec_at(i))\n"
    "status = {l.split(':')[0]: int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('Rss')}\n"
    "print(json.dumps({'wall': w, 'anon': status['RssAnon'], 'file': status['RssFile']}))"
)


def run(old: str, new: str, rounds: int = 21) -> dict[str, dict[str, float]]:
    """Median import + first get (ms) and anonymous / file-backed resident memory (MiB) per file."""
    found: dict[str, list[dict[str, float]]] = {old: [], new: []}
    for _ in range(rounds):
        for path in (old, new):
            env = {**os.environ, "LLMDB_SNAPSHOT": path}
            done = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, check=True)
            found[path].append(json.loads(done.stdout))
    return {
        path: {
            "import + open + first get (ms)": statistics.median(r["wall"] for r in runs) * 1e3,
            "RssAnon after 1,000 lookups (MiB)": statistics.median(r["anon"] for r in runs) / 1024,
            "RssFile after 1,000 lookups (MiB)": statistics.median(r["file"] for r in runs) / 1024,
        }
        for path, runs in found.items()
    }


def main() -> None:
    old, new = sys.argv[1:3]
    for path, figures in run(old, new).items():
        print(path)
        for name, value in figures.items():
            print(f"  {name}: {value:.2f}")


if __name__ == "__main__":
    main()
