"""Scaling: how build, snapshot size, open, lookups, a filter and client memory grow with the catalog size.

The input is models.dev `api.json` alone (simplest, and enough to scale: LiteLLM's map is left out), at x1, x4
and x16 its real size: every provider is copied N times, copy 1 as is and copy k ≥ 2 under the provider id
`<id>-s<k>` (dict key and `"id"` field), the models inside unchanged. For each factor the engine builds in this
process (inside `collector_paused()`, as `llmdbd build` does; one build per factor) and writes a snapshot to a
temporary directory; the client is then measured in fresh interpreters (median of 5): `Snapshot(path)` open
time, the first `Catalog(path).get` of a spec in the middle, the repeated `get` (best of 5 x 100,000), the first
`models(require=["tools"])` call and the resident memory after open and 1,000 distinct lookups.

python -m bench.scaling
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from llmdbd import inputs
from llmdbd.config import Config
from llmdbd.engine import collector_paused
from llmdbd.output.publish import write_snapshot
from llmdbd.sources import modelsdev

UPSTREAM = Path(__file__).resolve().parents[2] / "shared" / "upstream"
API = UPSTREAM / "models.dev" / "api.json"

FACTORS = (1, 4, 16)
RUNS = 5
"""Fresh interpreters per factor; each client figure is their median."""

CLIENT = """
import gc, json, statistics, sys, time, timeit
from llmdb import Catalog
from llmdb._snapshot import Snapshot

path = sys.argv[1]
start = time.perf_counter()
snap = Snapshot(path)
open_ms = (time.perf_counter() - start) * 1e3
n = snap.model_count
del snap
gc.collect()
c = Catalog(path)
snap = c.snapshot
spec = snap.spec_at(n // 2)  # read in place: the index is not decoded for exact lookups
start = time.perf_counter()
c.get(spec)
first_us = (time.perf_counter() - start) * 1e6
hot_ns = min(timeit.repeat("c.get(spec)", globals={"c": c, "spec": spec}, number=100_000, repeat=5)) / 100_000 * 1e9
for i in range(1000):
    c.get(snap.spec_at(i * n // 1000))
rss = [int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS")][0]
start = time.perf_counter()
found = c.models(require=["tools"])
filter_ms = (time.perf_counter() - start) * 1e3
print(json.dumps({"open_ms": open_ms, "first_get_us": first_us, "hot_get_ns": hot_ns, "filter_ms": filter_ms,
                  "filter_count": len(found), "rss_mib": rss / 1024}))
"""
"""Run as `python -c CLIENT <snapshot path>`; prints one JSON object of client figures."""

COLUMNS: tuple[tuple[str, str, str], ...] = (
    # key, heading, format
    ("factor", "factor", "x{:g}"),
    ("models", "models", "{:,.0f}"),
    ("build_ms", "build (ms)", "{:,.0f}"),
    ("write_ms", "write (ms)", "{:,.0f}"),
    ("file_mb", "file (MB)", "{:.2f}"),
    ("open_ms", "open (ms)", "{:.2f}"),
    ("first_get_us", "first get (µs)", "{:.1f}"),
    ("hot_get_ns", "hot get (ns)", "{:.0f}"),
    ("filter_ms", "filter first call (ms)", "{:.2f}"),
    ("filter_count", "filter results", "{:,.0f}"),
    ("rss_mib", "RSS after 1,000 gets (MiB)", "{:.1f}"),
)


def scaled(api: dict[str, Any], factor: int) -> dict[str, Any]:
    """Every provider `factor` times: copy 1 as is, copy k ≥ 2 under `<id>-s<k>` with its models unchanged."""
    out: dict[str, Any] = {}
    for k in range(1, factor + 1):
        for key, provider in api.items():
            if k == 1:
                out[key] = provider
            else:
                copy = dict(provider)
                copy["id"] = f"{provider.get('id', key)}-s{k}"
                out[f"{key}-s{k}"] = copy
    return out


def client(path: Path, runs: int = RUNS) -> dict[str, float]:
    """Median of each client figure over `runs` fresh interpreters."""
    samples: list[dict[str, float]] = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", CLIENT, str(path)], capture_output=True, text=True, check=True, timeout=120
        )
        samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def measure(api: dict[str, Any], factor: int, directory: Path) -> dict[str, float]:
    """Build, write and measure one factor of the catalog."""
    source = directory / f"api-x{factor}.json"
    data = json.dumps(scaled(api, factor)).encode()
    source.write_bytes(data)
    start = time.perf_counter()
    with collector_paused():  # as `llmdbd build` and the daemon do
        layers = [modelsdev.load_bytes(data, file=str(source))]
        catalog = inputs.catalog(Config(patch_dirs=[], upstreams=["models.dev"]), upstream=layers)
    build_ms = (time.perf_counter() - start) * 1e3
    assert catalog.report.errors == (), catalog.report.errors[:5]
    models = len(catalog.models)
    path = directory / f"x{factor}.llmdb"
    start = time.perf_counter()
    write_snapshot(catalog, path)
    write_ms = (time.perf_counter() - start) * 1e3
    del catalog, layers
    row: dict[str, float] = {
        "factor": factor,
        "models": models,
        "build_ms": build_ms,
        "write_ms": write_ms,
        "file_mb": path.stat().st_size / 1e6,
    }
    row.update(client(path))
    source.unlink()
    path.unlink()
    return row


def run(factors: tuple[int, ...] = FACTORS) -> list[dict[str, float]]:
    """One row of figures per factor (see the module docstring)."""
    api = json.loads(API.read_bytes())
    with tempfile.TemporaryDirectory() as tmp:
        return [measure(api, factor, Path(tmp)) for factor in factors]


def markdown(rows: list[dict[str, float]]) -> str:
    """A table with a row per factor, then the growth of each figure from the smallest factor to the largest."""
    lines = [
        "| " + " | ".join(heading for _, heading, _ in COLUMNS) + " |",
        "|" + "|".join("---" if key == "factor" else "---:" for key, _, _ in COLUMNS) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(fmt.format(row[key]) for key, _, fmt in COLUMNS) + " |")
    if len(rows) >= 2:
        low, high = rows[0], rows[-1]
        scale = f"x{high['factor']:g}/x{low['factor']:g}"
        lines.append("")
        for key, heading, _ in COLUMNS[1:]:
            ratio = high[key] / low[key] if low[key] else float("nan")
            lines.append(f"- {heading}: {scale} = {ratio:.2f}")
    return "\n".join(lines)


def main() -> None:
    start = time.perf_counter()
    rows = run()
    print(markdown(rows))
    print(f"\n(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
